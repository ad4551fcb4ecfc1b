//! API errors: every failure becomes `{"error": {"code", "message", …}}` with a
//! status that tells the client whether to fix the request or report a bug,
//! and fields saying what the error is about, so that a client can put it next
//! to its cause without reading the message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use candela_backtest::{Place, RunError};
use candela_core::catalog::ResolveError;
use candela_core::indicator::{CallError, ComputeError, ComputeErrorKind};
use candela_core::load::Problem;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    /// Boxed: errors are rare, and a small `Err` keeps every `Result` small.
    detail: Box<ErrorDetail>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `unknown_symbol`.
    code: &'static str,
    /// What went wrong and how to fix it.
    message: String,
    /// The request parameter at fault: `symbol`, `timeframe`, `indicators`,
    /// `start`, `end`, `limit`, `compare`, `format`, `q` or `sql`.
    #[serde(skip_serializing_if = "Option::is_none")]
    param: Option<&'static str>,
    /// The one indicator call at fault, as the request wrote it, or its
    /// canonical key (`sma(period=20)`) when it failed while computing.
    #[serde(skip_serializing_if = "Option::is_none")]
    indicator: Option<String>,
    /// Where in an SQL query the error is, when the parser or planner says.
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<SqlPosition>,
    /// The backtest run the error is about (its folder name).
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<String>,
    /// Where in the run's files: `file`, `row` (`{"line": n}` of a CSV file,
    /// `{"row": n}` of a parquet file) and `column`, each when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<Place>,
}

/// A place in an SQL query, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct SqlPosition {
    pub line: u64,
    pub column: u64,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: Box::new(ErrorDetail {
                code,
                message: message.into(),
                param: None,
                indicator: None,
                position: None,
                run: None,
                place: None,
            }),
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Names the request parameter the error is about.
    pub fn param(mut self, name: &'static str) -> Self {
        self.detail.param = Some(name);
        self
    }

    /// Names the indicator call the error is about.
    pub fn indicator(mut self, call: impl Into<String>) -> Self {
        self.detail.indicator = Some(call.into());
        self
    }

    /// Says the error came from the indicator call `call` (as written): its
    /// message, `param` and `indicator` name it.
    pub fn caused_by_call(mut self, call: &str) -> Self {
        self.detail.message = format!("indicators: {call}: {}", self.detail.message);
        self.param("indicators").indicator(call)
    }

    /// Says the error came from the compared symbol `symbol` (as written):
    /// its message and `param` name it.
    pub fn caused_by_compared(mut self, symbol: &str) -> Self {
        self.detail.message = format!("compare: {symbol}: {}", self.detail.message);
        self.param("compare")
    }

    /// Points at a place in the SQL query.
    pub fn position(mut self, position: Option<SqlPosition>) -> Self {
        self.detail.position = position;
        self
    }

    /// Names the run the error is about.
    pub fn run(mut self, id: impl Into<String>) -> Self {
        self.detail.run = Some(id.into());
        self
    }

    /// The request parameter `name` cannot be used as given.
    pub fn bad_parameter(name: &'static str, message: impl Into<String>) -> Self {
        ApiError::bad_request(message).param(name)
    }

    /// The request cannot be used, through no one parameter (a query string
    /// or body that does not parse).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_parameter", message)
    }

    /// The client went away before its answer was ready; nobody reads this.
    pub fn client_gone() -> Self {
        let status = StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::new(status, "client_gone", "the client closed the connection")
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A blocking task of the server failed: a bug, not the request's fault.
    /// The error's body as JSON, as a response would carry it (a stream's `error` event).
    pub fn body_json(&self) -> String {
        serde_json::json!({ "error": &*self.detail }).to_string()
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {error}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
        )
    }
}

impl From<candela_core::Error> for ApiError {
    fn from(error: candela_core::Error) -> Self {
        use candela_core::Error::*;
        let (status, code, param) = match &error {
            Symbol(ResolveError::Unknown(_)) => {
                return ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_symbol",
                    format!("{error}; GET /api/symbols lists the stored ones"),
                )
                .param("symbol");
            }
            Symbol(ResolveError::Ambiguous { .. }) => {
                (StatusCode::BAD_REQUEST, "ambiguous_symbol", Some("symbol"))
            }
            NotServable { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "timeframe_not_available",
                Some("timeframe"),
            ),
            Load { source, .. } if matches!(source.problem, Problem::TooManyRows { .. }) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "series_too_large", None)
            }
            // The store is down, slow or refusing: later, or elsewhere, it may answer.
            Storage(_) => (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", None),
            Load { source, .. } if matches!(source.problem, Problem::Storage(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", None)
            }
            Load { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "unreadable_data", None),
            Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "io_error", None),
            Query(_) => (StatusCode::INTERNAL_SERVER_ERROR, "query_failed", None),
        };
        if status.is_server_error() {
            tracing::error!(code, "{error}");
        }
        let mut api = ApiError::new(status, code, error.to_string());
        api.detail.param = param;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            api = api.retry_after(5);
        }
        api
    }
}

impl From<CallError> for ApiError {
    fn from(error: CallError) -> Self {
        let message = format!("indicators: {error}");
        match error {
            CallError::Syntax(syntax) => {
                ApiError::bad_parameter("indicators", message).indicator(syntax.token)
            }
            // Like an unknown symbol: the thing named does not exist.
            CallError::Unknown(id) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_indicator",
                format!("{message}; GET /api/indicators lists the available ones"),
            )
            .param("indicators")
            .indicator(id),
            CallError::Param(param) => {
                ApiError::bad_parameter("indicators", message).indicator(param.call)
            }
            CallError::TooMany { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "too_many_indicators",
                format!("{message} (max_indicator_calls in the [api] settings)"),
            )
            .param("indicators"),
        }
    }
}

impl From<ComputeError> for ApiError {
    fn from(error: ComputeError) -> Self {
        let code = error.kind.code();
        let status = match error.kind {
            ComputeErrorKind::Refused => StatusCode::UNPROCESSABLE_ENTITY,
            ComputeErrorKind::Failed | ComputeErrorKind::Limit => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(code, "{error}");
        }
        ApiError::new(status, code, error.to_string())
            .param("indicators")
            .indicator(error.indicator)
    }
}

impl From<&RunError> for ApiError {
    /// A run that exists but cannot be shown: its files are at fault, and
    /// the error says where.
    fn from(error: &RunError) -> Self {
        let mut api = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            error.code(),
            error.to_string(),
        )
        .run(error.run.clone());
        api.detail.place = Some((*error.place).clone()).filter(|p| *p != Place::default());
        api
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: *self.detail,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call's timeframe that the stored ones cannot build is the 422 of a
    /// chart's, naming the stored ones, and the call. No layout of stored
    /// timeframes reaches it from a request (the chart's own source builds
    /// any timeframe the chart divides): it answers files that went away
    /// between the chart's load and the call's.
    #[test]
    fn a_higher_timeframe_that_cannot_be_built_is_a_422_naming_the_call() {
        let error = ApiError::from(candela_core::Error::NotServable {
            symbol: "ALPACA:NFLX".into(),
            timeframe: "1w".parse().expect("timeframe"),
            stored: vec!["1h".parse().expect("timeframe")],
        })
        .caused_by_call("sma(20,timeframe=1w)");
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = serde_json::to_value(&error.detail).expect("json");
        assert_eq!(body["code"], "timeframe_not_available");
        assert_eq!(body["param"], "indicators");
        assert_eq!(body["indicator"], "sma(20,timeframe=1w)");
        let message = body["message"].as_str().expect("message");
        assert!(
            message.starts_with("indicators: sma(20,timeframe=1w): ")
                && message.contains("stored timeframes are 1h"),
            "{message}"
        );
    }
}
