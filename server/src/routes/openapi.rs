//! The OpenAPI document of every route family, served at
//! `/api/openapi.json` and checked against the server by schemathesis.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use candela_core::Timeframe;
use candela_core::indicator::CALLS_PATTERN;
use serde_json::{Value, json};
use utoipa::{Modify, OpenApi};

use super::{catalog, compare, data, health, runs, sql, stream};
use crate::error::ErrorBody;
use crate::state::AppState;
use crate::time_param;

#[derive(Debug, OpenApi)]
#[openapi(
    modifiers(&ParameterPatterns),
    info(
        title = "Candela",
        description = "Charting server for OHLCV bars stored as parquet"
    ),
    paths(
        catalog::symbols,
        catalog::timeframes,
        catalog::indicators,
        data::data,
        sql::post,
        sql::get,
        runs::list,
        runs::detail,
        runs::trades,
        runs::equity,
        stream::stream,
        stream::runs,
        health::healthz,
        health::readyz
    ),
    components(schemas(
        catalog::SymbolsResponse,
        catalog::SymbolInfo,
        catalog::TimeframesResponse,
        catalog::IndicatorsResponse,
        data::DataResponse,
        data::Source,
        data::BarColumns,
        compare::ComparedCloses,
        ErrorBody,
        sql::SqlRequest,
        sql::SqlAnswer,
        sql::SqlColumn,
        runs::RunsResponse,
        runs::RunSummary,
        runs::RunResponse,
        runs::TradesBody,
        runs::EquityResponse,
        health::Alive,
        health::Ready
    ))
)]
pub struct ApiDoc;

/// Gives the `timeframe`, `start`, `end`, `asof`, `indicators` and `compare`
/// parameters the patterns their parsers accept ([`Timeframe::PATTERN`],
/// [`time_param::PATTERN`], [`CALLS_PATTERN`], [`compare::PATTERN`]):
/// attributes take only literals, not constants. The runs' endpoints also
/// take an empty timeframe, as the default.
#[derive(Debug)]
struct ParameterPatterns;

impl Modify for ParameterPatterns {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        for (path, item) in &mut openapi.paths.paths {
            let timeframe = if path.starts_with("/api/runs/") {
                format!("^$|{}", Timeframe::PATTERN)
            } else {
                Timeframe::PATTERN.to_owned()
            };
            let operations = [&mut item.get, &mut item.post].into_iter().flatten();
            for parameter in operations.flat_map(|o| o.parameters.iter_mut().flatten()) {
                let pattern = match parameter.name.as_str() {
                    "timeframe" => &timeframe,
                    "start" | "end" | "asof" => &*time_param::PATTERN,
                    "indicators" => &*CALLS_PATTERN,
                    "compare" => &*compare::PATTERN,
                    _ => continue,
                };
                if let Some(RefOr::T(Schema::Object(object))) = &mut parameter.schema {
                    object.pattern = Some(pattern.clone());
                }
            }
        }
    }
}

/// `GET /api/openapi.json`: with sign-in on, the document says so.
pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    static OPEN: LazyLock<Value> = LazyLock::new(document);
    static SIGNED_IN: LazyLock<Value> = LazyLock::new(|| signed_in(document()));
    Json(if state.gate.is_some() {
        SIGNED_IN.clone()
    } else {
        OPEN.clone()
    })
}

/// `document` asking every operation but the probes for a bearer token,
/// and answering 401 without one.
fn signed_in(mut document: Value) -> Value {
    document["components"]["securitySchemes"] = json!({
        "bearer": { "type": "http", "scheme": "bearer", "description": "a token of `candela token new`" },
    });
    document["security"] = json!([{ "bearer": [] }]);
    let refused = json!({
        "description": "no token, or one that is not the server's",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } },
    });
    if let Some(paths) = document["paths"].as_object_mut() {
        for (path, item) in paths {
            let open = matches!(path.as_str(), "/healthz" | "/readyz");
            for operation in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                if open {
                    operation["security"] = json!([]);
                } else {
                    operation["responses"]["401"] = refused.clone();
                }
            }
        }
    }
    document
}

/// The document, with the events of each event stream described.
fn document() -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|error| {
        tracing::error!("the OpenAPI document does not serialize: {error}");
        Value::Null
    });
    for (path, events) in event_streams() {
        if let Some(content) = document.pointer_mut(&format!(
            "/paths/{}/get/responses/200/content/text~1event-stream",
            path.replace('~', "~0").replace('/', "~1")
        )) {
            content["schema"] = json!({ "oneOf": events });
        }
    }
    document
}

/// Each stream's events as schemathesis and OpenAPI 3.1 tools read them:
/// one object per event, its `data` JSON of the schema named.
fn event_streams() -> [(&'static str, Vec<Value>); 2] {
    let event = |name: &str, id: bool, data: Value| {
        let mut required = vec!["event", "data"];
        let mut properties = json!({
            "event": { "const": name },
            "data": { "type": "string", "contentMediaType": "application/json", "contentSchema": data },
        });
        if id {
            required.push("id");
            properties["id"] = json!({ "type": "string", "pattern": "^-?[0-9]+$" });
        }
        json!({ "type": "object", "required": required, "properties": properties })
    };
    let schema = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let run = json!({
        "type": "object",
        "required": ["run", "change"],
        "properties": {
            "run": { "type": "string" },
            "change": { "enum": ["added", "changed", "broken", "removed"] },
            "summary": schema("RunSummary"),
        },
    });
    [
        (
            "/api/stream",
            vec![
                event("bars", true, schema("DataResponse")),
                event("error", false, schema("ErrorBody")),
            ],
        ),
        (
            "/api/runs/stream",
            vec![
                event("runs", false, schema("RunsResponse")),
                event("run", false, run),
            ],
        ),
    ]
}
