//! `POST /api/sql` and `GET /api/sql?q=`: a query's result as JSON (as
//! `docs/api.md` specifies), CSV or an Arrow IPC stream, chosen by `Accept`
//! or `format=`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use candela_sql::{QueryResult, SqlError};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::json::writer::{EncoderOptions, make_encoder};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody, SqlPosition};
use crate::state::AppState;

const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";
/// Set on CSV and Arrow answers that were cut at the row cap (JSON says so
/// in its body).
const TRUNCATED_HEADER: &str = "candela-truncated";

#[derive(Debug, Deserialize, ToSchema)]
pub struct SqlRequest {
    /// One read-only query, e.g. `SELECT * FROM bars('NFLX', '1d') LIMIT 5`.
    #[schema(min_length = 1, example = "SELECT * FROM bars('NFLX', '1d') LIMIT 5")]
    sql: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SqlParams {
    /// The query, URL-encoded.
    #[param(
        required = true,
        min_length = 1,
        example = "SELECT * FROM bars LIMIT 5"
    )]
    q: Option<String>,
    /// `json` (default), `csv` or `arrow`; overrides `Accept`.
    #[param(pattern = "^(json|csv|arrow)$")]
    format: Option<String>,
}

/// A query's answer as JSON (written by Arrow's encoders, not serde).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the JSON that `json` writes
pub struct SqlAnswer {
    columns: Vec<SqlColumn>,
    /// One array per row, a value per column (`null` when missing).
    #[schema(value_type = Vec<Vec<Value>>)]
    rows: Vec<()>,
    /// The result was cut at the row or byte cap.
    truncated: bool,
}

#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the JSON that `json` writes
pub struct SqlColumn {
    name: String,
    /// `timestamp`, `number`, `integer`, `string`, `boolean`, `date`,
    /// `struct`, `list`, else Arrow's own name of the type.
    #[schema(rename = "type")]
    kind: String,
}

/// Runs a read-only SQL query over the bars.
#[utoipa::path(
    post, path = "/api/sql", request_body = SqlRequest,
    responses(
        (status = 200, description = "the rows, as JSON, CSV or an Arrow IPC stream per `Accept`",
            content(
                (SqlAnswer = "application/json"),
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.apache.arrow.stream"),
            ),
            headers(("candela-truncated" = String, description = "`true` when the result was cut at the row or byte cap"))),
        (status = 400, body = ErrorBody, description = "not a read-only query, or it does not parse or plan"),
        (status = 413, body = ErrorBody, description = "the request body is over `max_body_kb`"),
        (status = 422, body = ErrorBody, description = "the query hit its time, memory or output limit"),
        (status = 500, body = ErrorBody, description = "the server failed while answering"),
        (status = 503, body = ErrorBody, description = "too many queries are running; retry after `Retry-After` seconds"),
    )
)]
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SqlRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is larger than max_body_kb of the [http] settings allows",
            );
        }
        ApiError::bad_parameter(
            "sql",
            format!(
                "{}; send {{\"sql\": \"SELECT …\"}} as application/json",
                e.body_text()
            ),
        )
    })?;
    answer(&state, &request.sql, Format::from_headers(&headers)).await
}

/// The same as `POST /api/sql`, with the query in `q`.
#[utoipa::path(
    get, path = "/api/sql", params(SqlParams),
    responses(
        (status = 200, description = "the rows, as JSON, CSV or an Arrow IPC stream per `format` or `Accept`",
            content(
                (SqlAnswer = "application/json"),
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.apache.arrow.stream"),
            ),
            headers(("candela-truncated" = String, description = "`true` when the result was cut at the row or byte cap"))),
        (status = 400, body = ErrorBody, description = "no query, a bad `format`, not a read-only query, or it does not parse or plan"),
        (status = 422, body = ErrorBody, description = "the query hit its time, memory or output limit"),
        (status = 500, body = ErrorBody, description = "the server failed while answering"),
        (status = 503, body = ErrorBody, description = "too many queries are running; retry after `Retry-After` seconds"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<SqlParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let sql = params.q.ok_or_else(|| {
        ApiError::bad_parameter(
            "q",
            "missing parameter 'q', e.g. q=SELECT * FROM bars LIMIT 5",
        )
    })?;
    let format = match params.format.as_deref() {
        None => Format::from_headers(&headers),
        Some(name) => Format::named(name)?,
    };
    answer(&state, &sql, format).await
}

async fn answer(state: &AppState, sql: &str, format: Format) -> Result<Response, ApiError> {
    let result = state.sql.query(sql).await?;
    let max_bytes = state.sql.limits().max_result_bytes;
    tokio::task::spawn_blocking(move || format.encode(&result, max_bytes))
        .await
        .map_err(ApiError::internal)?
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Csv,
    Arrow,
}

impl Format {
    fn from_headers(headers: &HeaderMap) -> Format {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if accept.contains(ARROW_STREAM) {
            Format::Arrow
        } else if accept.contains("text/csv") {
            Format::Csv
        } else {
            Format::Json
        }
    }

    fn named(name: &str) -> Result<Format, ApiError> {
        match name {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "arrow" => Ok(Format::Arrow),
            other => Err(ApiError::bad_parameter(
                "format",
                format!(
                    "format must be json, csv or arrow, got '{}'",
                    other.chars().take(32).collect::<String>()
                ),
            )),
        }
    }

    /// The answer, cut (and marked truncated) once its body passes
    /// `max_bytes`: a text encoding can be many times larger than the
    /// values it writes (`null` for one bit of a validity mask).
    fn encode(self, result: &QueryResult, max_bytes: usize) -> Result<Response, ApiError> {
        let (content_type, body) = match self {
            Format::Json => ("application/json", json(result, max_bytes)?),
            Format::Csv => ("text/csv; charset=utf-8", csv(result, max_bytes)?),
            // Arrow's layout is the values' own: no larger than the result
            // held, which the SQL service already bounds.
            Format::Arrow => (
                ARROW_STREAM,
                Encoded {
                    bytes: arrow_stream(result)?,
                    cut: false,
                },
            ),
        };
        let truncated = result.truncated || body.cut;
        let mut response = (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body.bytes,
        )
            .into_response();
        response.headers_mut().insert(
            TRUNCATED_HEADER,
            HeaderValue::from_static(if truncated { "true" } else { "false" }),
        );
        Ok(response)
    }
}

/// An encoded body, and whether it was cut at the byte cap.
struct Encoded {
    bytes: Vec<u8>,
    cut: bool,
}

/// Rows encoded between two checks of the body's size.
const SLICE_ROWS: usize = 1024;

/// The result's rows in slices of [`SLICE_ROWS`].
fn slices(result: &QueryResult) -> impl Iterator<Item = RecordBatch> + '_ {
    result.batches.iter().flat_map(|batch| {
        (0..batch.num_rows())
            .step_by(SLICE_ROWS)
            .map(|start| batch.slice(start, SLICE_ROWS.min(batch.num_rows() - start)))
    })
}

fn encoding_failed(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "sql_internal",
        format!("the result cannot be encoded: {error}"),
    )
}

/// `{"columns": [{"name", "type"}], "rows": [[...]], "truncated": bool}`,
/// written row by row with Arrow's JSON encoders: no value is `null`,
/// timestamps are ISO 8601 in their column's zone, structs are objects.
fn json(result: &QueryResult, max_bytes: usize) -> Result<Encoded, ApiError> {
    let columns: Vec<serde_json::Value> = result
        .schema
        .fields()
        .iter()
        .map(|f| serde_json::json!({"name": f.name(), "type": type_name(f.data_type())}))
        .collect();
    let mut out =
        Vec::with_capacity((64 + result.rows() * result.schema.fields().len() * 12).min(max_bytes));
    out.extend_from_slice(b"{\"columns\":");
    serde_json::to_writer(&mut out, &columns).map_err(encoding_failed)?;
    out.extend_from_slice(b",\"rows\":[");
    let options = EncoderOptions::default();
    let (mut first_row, mut cut) = (true, false);
    for slice in slices(result) {
        if out.len() >= max_bytes {
            cut = true;
            break;
        }
        let fields = slice.schema_ref().fields().clone();
        let mut encoders = fields
            .iter()
            .zip(slice.columns())
            .map(|(field, column)| make_encoder(field, column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(encoding_failed)?;
        for row in 0..slice.num_rows() {
            if !std::mem::take(&mut first_row) {
                out.push(b',');
            }
            out.push(b'[');
            for (i, encoder) in encoders.iter_mut().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if encoder.is_null(row) {
                    out.extend_from_slice(b"null");
                } else {
                    encoder.encode(row, &mut out);
                }
            }
            out.push(b']');
        }
    }
    out.extend_from_slice(b"],\"truncated\":");
    out.extend_from_slice(if result.truncated || cut {
        b"true"
    } else {
        b"false"
    });
    out.push(b'}');
    Ok(Encoded { bytes: out, cut })
}

/// A column type as a script reads it: `timestamp`, `number`, `integer`,
/// `string`, `boolean`, `date`, `struct`, `list`, else Arrow's own name.
fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "number".into(),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => "number".into(),
        t if t.is_integer() => "integer".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Dictionary(_, values) => type_name(values),
        DataType::Boolean => "boolean".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Struct(_) => "struct".into(),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => "list".into(),
        other => other.to_string().to_ascii_lowercase(),
    }
}

fn csv(result: &QueryResult, max_bytes: usize) -> Result<Encoded, ApiError> {
    if let Some(field) = result
        .schema
        .fields()
        .iter()
        .find(|f| matches!(f.data_type(), DataType::Struct(_) | DataType::List(_)))
    {
        return Err(ApiError::bad_parameter(
            "format",
            format!(
                "CSV cannot hold column '{}' ({}); select its parts, e.g. {}['field'], or ask for JSON",
                field.name(),
                type_name(field.data_type()),
                field.name()
            ),
        ));
    }
    let mut out = Vec::new();
    let mut cut = false;
    let empty = RecordBatch::new_empty(result.schema.clone());
    for (i, slice) in std::iter::once(empty).chain(slices(result)).enumerate() {
        if out.len() >= max_bytes {
            cut = true;
            break;
        }
        // The first, empty, writes the header alone.
        datafusion::arrow::csv::WriterBuilder::new()
            .with_header(i == 0)
            .build(&mut out)
            .write(&slice)
            .map_err(encoding_failed)?;
    }
    Ok(Encoded { bytes: out, cut })
}

/// An Arrow IPC stream; a cut result says so in the schema's metadata too.
fn arrow_stream(result: &QueryResult) -> Result<Vec<u8>, ApiError> {
    let mut metadata = result.schema.metadata().clone();
    metadata.insert("candela:truncated".into(), result.truncated.to_string());
    let schema = std::sync::Arc::new(Schema::new_with_metadata(
        result.schema.fields().clone(),
        metadata,
    ));
    let mut out = Vec::new();
    let mut writer = datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut out, &schema)
        .map_err(encoding_failed)?;
    for batch in &result.batches {
        let batch = batch
            .clone()
            .with_schema(std::sync::Arc::clone(&schema))
            .map_err(encoding_failed)?;
        writer.write(&batch).map_err(encoding_failed)?;
    }
    writer.finish().map_err(encoding_failed)?;
    drop(writer);
    Ok(out)
}

/// Every SQL error is about the query (`param` is `sql`), and a parse or
/// plan error says where in it, when DataFusion does.
impl From<SqlError> for ApiError {
    fn from(error: SqlError) -> Self {
        let status = match &error {
            SqlError::Indicator(e) => return ApiError::from(e.clone()).param("sql"),
            SqlError::Refused(_) | SqlError::Invalid { .. } | SqlError::Failed(_) => {
                StatusCode::BAD_REQUEST
            }
            SqlError::TimeLimit(_) | SqlError::MemoryLimit { .. } | SqlError::OutputLimit(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            SqlError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            SqlError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let api = ApiError::new(status, error.code(), error.to_string()).position(
            error.position().map(|p| SqlPosition {
                line: p.line,
                column: p.column,
            }),
        );
        match error {
            SqlError::Busy(_) => api.retry_after(1),
            _ if status.is_client_error() => api.param("sql"),
            _ => api,
        }
    }
}
