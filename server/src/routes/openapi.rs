//! The OpenAPI document of every route family, served at
//! `/api/openapi.json` and checked against the server by schemathesis.

use axum::Json;
use candela_core::Timeframe;
use candela_core::indicator::CALLS_PATTERN;
use utoipa::{Modify, OpenApi};

use super::{catalog, compare, data, runs, sql};
use crate::error::ErrorBody;
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
        runs::equity
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
        runs::EquityResponse
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

/// `GET /api/openapi.json`
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
