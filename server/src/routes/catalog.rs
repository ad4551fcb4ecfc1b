//! What is there to ask for: the stored symbols, their timeframes, and the
//! indicators (built in or plugins) with their parameters.

use axum::Json;
use axum::extract::{Path, State};
use candela_core::Timeframe;
use candela_core::indicator::{IndicatorSpec, Input, Origin, OutputSpec, ParamKind, Placement};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct SymbolsResponse {
    symbols: Vec<SymbolInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SymbolInfo {
    /// `PROVIDER:SYMBOL`
    id: String,
    provider: String,
    symbol: String,
    /// Stored timeframes, finest first.
    #[schema(value_type = Vec<String>)]
    timeframes: Vec<Timeframe>,
}

/// Lists the stored symbols.
#[utoipa::path(get, path = "/api/symbols", responses((status = 200, body = SymbolsResponse)))]
pub async fn symbols(State(state): State<AppState>) -> Json<SymbolsResponse> {
    let catalog = state.engine.store().catalog();
    let symbols = catalog
        .symbols()
        .map(|entry| SymbolInfo {
            id: entry.id.to_string(),
            provider: entry.id.provider.clone(),
            symbol: entry.id.symbol.clone(),
            timeframes: entry.timeframes.keys().copied().collect(),
        })
        .collect();
    Json(SymbolsResponse { symbols })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeframesResponse {
    symbol: String,
    /// Timeframes stored on disk.
    #[schema(value_type = Vec<String>)]
    stored: Vec<Timeframe>,
    /// Stored timeframes and the standard ones that can be aggregated from them.
    #[schema(value_type = Vec<String>)]
    available: Vec<Timeframe>,
}

/// Stored and servable timeframes of a symbol.
#[utoipa::path(
    get, path = "/api/timeframes/{symbol}",
    params(("symbol" = String, Path, min_length = 1, description = "`PROVIDER:SYMBOL`, or `SYMBOL` when one provider has it")),
    responses((status = 200, body = TimeframesResponse), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody))
)]
pub async fn timeframes(
    State(state): State<AppState>,
    Path(symbol): Path<String>,
) -> Result<Json<TimeframesResponse>, ApiError> {
    let catalog = state.engine.store().catalog();
    let entry = catalog
        .resolve(&symbol)
        .map_err(candela_core::Error::from)?;
    let stored: Vec<Timeframe> = entry.timeframes.keys().copied().collect();
    let mut available: Vec<Timeframe> = Timeframe::STANDARD
        .into_iter()
        .filter(|t| stored.iter().any(|s| s == t || s.divides(*t)))
        .chain(stored.iter().copied())
        .collect();
    available.sort();
    available.dedup();
    Ok(Json(TimeframesResponse {
        symbol: entry.id.to_string(),
        stored,
        available,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorsResponse {
    indicators: Vec<IndicatorEntry>,
}

/// An indicator's spec as `docs/api.md` lists it: integer parameters as JSON
/// integers, and each output's placement and style.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorEntry {
    /// Lower-case identifier used in calls, e.g. `macd`.
    id: String,
    name: String,
    category: String,
    description: String,
    origin: Origin,
    /// `overlay` if every output overlays the price chart, else `pane`.
    placement: Placement,
    /// In the order positional arguments take.
    params: Vec<ListedParam>,
    outputs: Vec<OutputSpec>,
    /// The bar columns the indicator reads.
    inputs: Vec<Input>,
}

/// A parameter as the listing shows it: `default`, `min` and `max` are JSON
/// integers for an `integer` parameter.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedParam {
    name: String,
    #[serde(rename = "type")]
    kind: ParamKind,
    #[schema(value_type = f64)]
    default: serde_json::Value,
    #[schema(value_type = f64)]
    min: serde_json::Value,
    #[schema(value_type = f64)]
    max: serde_json::Value,
    description: String,
}

impl From<&IndicatorSpec> for IndicatorEntry {
    fn from(spec: &IndicatorSpec) -> Self {
        let params = spec
            .params
            .iter()
            .map(|p| ListedParam {
                name: p.name.clone(),
                kind: p.kind,
                default: p.kind.json(p.default),
                min: p.kind.json(p.min),
                max: p.kind.json(p.max),
                description: p.description.clone(),
            })
            .collect();
        IndicatorEntry {
            id: spec.id.clone(),
            name: spec.name.clone(),
            category: spec.category.clone(),
            description: spec.description.clone(),
            origin: spec.origin,
            placement: spec.placement(),
            params,
            outputs: spec.outputs.clone(),
            inputs: spec.inputs.clone(),
        }
    }
}

/// Lists every indicator — built in or plugin — with its parameters and outputs.
#[utoipa::path(get, path = "/api/indicators", responses((status = 200, body = IndicatorsResponse)))]
pub async fn indicators(State(state): State<AppState>) -> Json<IndicatorsResponse> {
    let indicators = state
        .indicators
        .list()
        .iter()
        .map(|i| IndicatorEntry::from(i.spec()))
        .collect();
    Json(IndicatorsResponse { indicators })
}
