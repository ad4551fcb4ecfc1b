//! API errors: every failure becomes `{"error": {"code", "message"}}` with a
//! status that tells the client whether to fix the request or report a bug.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use candela_core::catalog::ResolveError;
use candela_core::indicator::{ComputeError, ComputeErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
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
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A request parameter that cannot be used as given.
    pub fn bad_parameter(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_parameter", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<candela_core::Error> for ApiError {
    fn from(error: candela_core::Error) -> Self {
        use candela_core::Error::*;
        let (status, code) = match &error {
            Symbol(ResolveError::Unknown(_)) => (StatusCode::NOT_FOUND, "unknown_symbol"),
            Symbol(ResolveError::Ambiguous { .. }) => (StatusCode::BAD_REQUEST, "ambiguous_symbol"),
            NotServable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "timeframe_not_available"),
            Load { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "unreadable_data"),
            Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "io_error"),
            Query(_) => (StatusCode::INTERNAL_SERVER_ERROR, "query_failed"),
        };
        if status.is_server_error() {
            tracing::error!(code, "{error}");
        }
        ApiError::new(status, code, error.to_string())
    }
}

impl From<ComputeError> for ApiError {
    fn from(error: ComputeError) -> Self {
        let (status, code) = match error.kind {
            ComputeErrorKind::Refused => (StatusCode::UNPROCESSABLE_ENTITY, "indicator_refused"),
            ComputeErrorKind::Failed => (StatusCode::INTERNAL_SERVER_ERROR, "indicator_failed"),
            ComputeErrorKind::Limit => (StatusCode::INTERNAL_SERVER_ERROR, "indicator_limit"),
        };
        if status.is_server_error() {
            tracing::error!(code, "{error}");
        }
        ApiError::new(status, code, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
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
