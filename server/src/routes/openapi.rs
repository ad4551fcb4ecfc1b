//! The OpenAPI document of every route family, served at
//! `/api/openapi.json` and checked against the server by schemathesis.

use axum::Json;
use candela_core::Timeframe;
use utoipa::{Modify, OpenApi};

use super::{catalog, compare, data, runs, sql};
use crate::error::ErrorBody;

#[derive(Debug, OpenApi)]
#[openapi(
    modifiers(&TimeframePattern),
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

/// Gives every `timeframe` parameter the pattern the parser accepts
/// ([`Timeframe::PATTERN`]): attributes take only literals, not a constant.
/// The runs' endpoints also take an empty one, as the default.
#[derive(Debug)]
struct TimeframePattern;

impl Modify for TimeframePattern {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        for (path, item) in &mut openapi.paths.paths {
            let pattern = if path.starts_with("/api/runs/") {
                format!("^$|{}", Timeframe::PATTERN)
            } else {
                Timeframe::PATTERN.to_owned()
            };
            let operations = [&mut item.get, &mut item.post].into_iter().flatten();
            let parameters = operations.flat_map(|o| o.parameters.iter_mut().flatten());
            for parameter in parameters.filter(|p| p.name == "timeframe") {
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
