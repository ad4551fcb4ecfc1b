//! The JSON API: thin handlers that parse parameters, ask the engine, and
//! shape the answer as `docs/api.md` specifies.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use candela_backtest::{RunSet, RunsFolder, tables};
use candela_core::indicator::{
    IndicatorSpec, Input, Origin, OutputSpec, ParamKind, Placement, Registry, ResolvedCall,
};
use candela_core::{BarFrame, Engine, Timeframe};
use candela_sql::snapshot_table::SnapshotTable;
use candela_sql::{SqlError, SqlLimits, SqlService};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::error::ArrowError;
use serde::{Deserialize, Serialize, Serializer};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::budget::{Reservation, ResponseBudget};
use crate::error::{ApiError, ErrorBody};
use crate::http_policy::HttpPolicy;
use crate::json_stream::{self, CHUNK_BYTES, CHUNKS_AHEAD};
use crate::time_param::{TimeBound, parse_time};

/// Largest `limit` accepted: a million bars is already ~60 MB of JSON.
pub const MAX_LIMIT: usize = 1_000_000;

/// Answers up to this many bars without indicators are encoded where they
/// are asked for, on the async worker: it takes less than handing them on.
const INLINE_ROWS: usize = 20_000;

/// The memory all answers in flight may hold together, unless configured.
pub const DEFAULT_RESPONSE_BUDGET_MB: u64 = 512;

/// The columns of the bars in an answer (time, OHLC, volume).
const BAR_COLUMNS: usize = 6;

#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub indicators: Arc<Registry>,
    pub sql: Arc<SqlService>,
    /// The watched runs folder, when the server has one.
    pub runs: Option<Arc<RunsFolder>>,
    pub data_limits: DataLimits,
    pub http: HttpPolicy,
}

/// The bounds of `/api/data`.
#[derive(Debug, Clone)]
pub struct DataLimits {
    /// Indicator calls one request may make.
    pub max_indicator_calls: usize,
    /// Bars answered when a request names no `limit`: the last ones of the
    /// range.
    pub default_limit: usize,
    /// The memory all answers in flight may hold together.
    pub budget: ResponseBudget,
}

impl Default for DataLimits {
    fn default() -> Self {
        DataLimits {
            max_indicator_calls: 32,
            default_limit: 100_000,
            budget: ResponseBudget::new(DEFAULT_RESPONSE_BUDGET_MB << 20),
        }
    }
}

impl AppState {
    /// The state over `engine` and `indicators`, with SQL in `limits`, and
    /// the runs of `runs` (in the API and as the SQL tables `trades` and
    /// `equity`, empty without a runs folder).
    pub fn new(
        engine: Arc<Engine>,
        indicators: Arc<Registry>,
        limits: SqlLimits,
        runs: Option<Arc<RunsFolder>>,
    ) -> Result<AppState, SqlError> {
        let snapshot = {
            let runs = runs.clone();
            move || snapshot_of(runs.as_ref())
        };
        let table = |schema, rows: fn(&RunSet) -> Result<RecordBatch, ArrowError>| {
            let snapshot = snapshot.clone();
            SnapshotTable::new(
                schema,
                Arc::new(move || rows(&snapshot()).map_err(|e| e.to_string())),
            )
        };
        let tables = vec![
            (
                "trades",
                table(tables::trades_schema(), tables::trades_batch),
            ),
            (
                "equity",
                table(tables::equity_schema(), tables::equity_batch),
            ),
        ];
        let sql = SqlService::new(
            Arc::clone(engine.store()),
            Arc::clone(&indicators),
            limits,
            tables,
        )?;
        Ok(AppState {
            engine,
            indicators,
            sql: Arc::new(sql),
            runs,
            data_limits: DataLimits::default(),
            http: HttpPolicy::default(),
        })
    }

    /// The same state with other bounds for `/api/data` and HTTP.
    pub fn with_limits(self, data_limits: DataLimits, http: HttpPolicy) -> AppState {
        AppState {
            data_limits,
            http,
            ..self
        }
    }

    /// The runs as they are now (none without a runs folder).
    pub fn runs(&self) -> Arc<RunSet> {
        snapshot_of(self.runs.as_ref())
    }

    /// The finest stored timeframe of `symbol`: what a request that names
    /// none is served.
    pub(crate) fn finest_stored(&self, symbol: &str) -> Result<Timeframe, ApiError> {
        let catalog = self.engine.store().catalog();
        let entry = catalog.resolve(symbol).map_err(candela_core::Error::from)?;
        entry.timeframes.keys().next().copied().ok_or_else(|| {
            ApiError::not_found(format!("{} has no stored timeframes", entry.id)).param("symbol")
        })
    }
}

/// The runs of `folder` now; none without a runs folder.
fn snapshot_of(folder: Option<&Arc<RunsFolder>>) -> Arc<RunSet> {
    folder.map_or_else(Arc::default, |folder| folder.snapshot())
}

#[derive(Debug, OpenApi)]
#[openapi(
    modifiers(&TimeframePattern),
    info(
        title = "Candela",
        description = "Charting server for OHLCV bars stored as parquet"
    ),
    paths(
        symbols,
        timeframes,
        indicators,
        data,
        crate::sql_api::post,
        crate::sql_api::get,
        crate::runs_api::list,
        crate::runs_api::detail,
        crate::runs_api::trades,
        crate::runs_api::equity
    ),
    components(schemas(
        SymbolsResponse,
        SymbolInfo,
        TimeframesResponse,
        IndicatorsResponse,
        DataResponse,
        Source,
        BarColumns,
        ErrorBody,
        crate::sql_api::SqlRequest,
        crate::sql_api::SqlAnswer,
        crate::sql_api::SqlColumn,
        crate::runs_api::RunsResponse,
        crate::runs_api::RunSummary,
        crate::runs_api::RunResponse,
        crate::runs_api::TradesBody,
        crate::runs_api::EquityResponse
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DataParams {
    /// `PROVIDER:SYMBOL`, or `SYMBOL` when one provider has it.
    #[param(required = true, min_length = 1, example = "NFLX")]
    symbol: Option<String>,
    /// e.g. `1m`, `4h`, `1d`, `1w`, `1M`; defaults to the finest stored one.
    #[param(example = "1h")]
    timeframe: Option<String>,
    /// Comma-separated calls, e.g. `sma(20),macd(fast=12,slow=26,signal=9)`;
    /// at most `max_indicator_calls` (32 unless configured).
    #[param(example = "sma(20),rsi(14)")]
    indicators: Option<String>,
    /// First bar time to include: RFC 3339, a date, or Unix seconds.
    #[param(example = "2024-01-02")]
    start: Option<String>,
    /// Last bar time to include: RFC 3339, a date, or Unix seconds.
    #[param(example = "2024-06-28T16:00:00-04:00")]
    end: Option<String>,
    /// Only the last `limit` bars of the range; the last `default_limit`
    /// (100000 unless configured) when absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000000)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DataResponse {
    symbol: String,
    #[schema(value_type = String)]
    timeframe: Timeframe,
    source: Source,
    #[schema(value_type = BarColumns)]
    bars: FrameColumns,
    /// Indicator outputs, one entry per requested call.
    #[schema(value_type = Vec<IndicatorValues>)]
    indicators: CallOutputs,
    /// Bars of the range were left out: it holds more than `limit` (or the
    /// default limit) bars, and only the last ones are answered.
    truncated: bool,
    /// The memory this answer holds until it is sent.
    #[serde(skip)]
    _held: Reservation,
}

/// Each call's outputs in the order asked; identical calls (by key) are
/// computed once and answered at each place they were asked.
#[derive(Debug)]
struct CallOutputs {
    computed: Vec<IndicatorValues>,
    asked: Vec<usize>,
}

impl Serialize for CallOutputs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.asked.iter().filter_map(|&i| self.computed.get(i)))
    }
}

/// The distinct calls of `calls`, and for each call the place of its
/// distinct one.
fn distinct_calls(calls: Vec<ResolvedCall>) -> (Vec<ResolvedCall>, Vec<usize>) {
    let mut distinct: Vec<ResolvedCall> = Vec::with_capacity(calls.len());
    let asked = calls
        .into_iter()
        .map(
            |call| match distinct.iter().position(|d| d.key == call.key) {
                Some(place) => place,
                None => {
                    distinct.push(call);
                    distinct.len() - 1
                }
            },
        )
        .collect();
    (distinct, asked)
}

/// What an answer of `rows` bars and `outputs` indicator series holds
/// while it is computed and sent: the values as f64, and the chunks of JSON
/// encoded ahead of the client.
fn answer_bytes(rows: usize, outputs: usize) -> u64 {
    let values = (BAR_COLUMNS + outputs) as u64 * rows as u64 * 8;
    values + (CHUNK_BYTES * (CHUNKS_AHEAD + 2)) as u64
}

/// One call's outputs over the window, in declared order.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorValues {
    id: String,
    /// The call's canonical form, e.g. `sma(period=20)`.
    key: String,
    /// Every parameter by name, defaults included.
    #[schema(value_type = Object)]
    params: serde_json::Map<String, serde_json::Value>,
    placement: Placement,
    /// Each output by name, one value per bar; `null` where it is undefined.
    #[schema(value_type = std::collections::BTreeMap<String, Vec<Option<f64>>>)]
    outputs: NamedSeries,
}

/// `{"macd": [...], "signal": [...]}` with NaN as `null`.
#[derive(Debug)]
struct NamedSeries(Vec<(String, Vec<f64>)>);

impl Serialize for NamedSeries {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, values) in &self.0 {
            map.serialize_entry(name, &Floats(values))?;
        }
        map.end()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Source {
    /// The stored timeframe the bars were read or aggregated from.
    #[schema(value_type = String)]
    timeframe: Timeframe,
    aggregated: bool,
}

/// Bars as parallel columns; a missing value is `null`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the JSON of `FrameColumns` for the OpenAPI document
pub struct BarColumns {
    /// Bar start, Unix seconds.
    time: Vec<i64>,
    open: Vec<Option<f64>>,
    high: Vec<Option<f64>>,
    low: Vec<Option<f64>>,
    close: Vec<Option<f64>>,
    volume: Vec<Option<f64>>,
}

/// A frame serialised as [`BarColumns`].
#[derive(Debug)]
struct FrameColumns(BarFrame);

impl Serialize for FrameColumns {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let frame = &self.0;
        let mut s = serializer.serialize_struct("BarColumns", BAR_COLUMNS)?;
        s.serialize_field("time", &Seconds(frame.time()))?;
        s.serialize_field("open", &Floats(frame.open()))?;
        s.serialize_field("high", &Floats(frame.high()))?;
        s.serialize_field("low", &Floats(frame.low()))?;
        s.serialize_field("close", &Floats(frame.close()))?;
        s.serialize_field("volume", &Floats(frame.volume()))?;
        s.end()
    }
}

/// Nanosecond times as Unix seconds.
struct Seconds<'a>(&'a [i64]);

impl Serialize for Seconds<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|t| t.div_euclid(1_000_000_000)))
    }
}

/// f64 values with NaN as `null`, which JSON cannot otherwise express.
struct Floats<'a>(&'a [f64]);

impl Serialize for Floats<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|v| (!v.is_nan()).then_some(*v)))
    }
}

/// Bars of a symbol at a timeframe, aggregated when not stored.
#[utoipa::path(
    get, path = "/api/data", params(DataParams),
    responses(
        (status = 200, body = DataResponse),
        (status = 400, body = ErrorBody, description = "a parameter is missing or invalid, the symbol is ambiguous, or too many indicator calls"),
        (status = 404, body = ErrorBody, description = "unknown symbol"),
        (status = 413, body = ErrorBody, description = "the answer would hold more memory than all answers may at once"),
        (status = 422, body = ErrorBody, description = "the timeframe cannot be built from the stored ones, or a plugin refused the input"),
        (status = 500, body = ErrorBody, description = "the stored data cannot be read, or an indicator failed"),
        (status = 503, body = ErrorBody, description = "the server holds as many answers as it may; retry after `Retry-After` seconds"),
    )
)]
pub async fn data(
    State(state): State<AppState>,
    params: Result<Query<DataParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let symbol = params
        .symbol
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::bad_parameter("symbol", "missing parameter 'symbol', e.g. symbol=NFLX")
        })?;
    let timeframe = match params.timeframe.as_deref() {
        Some(text) => text
            .parse::<Timeframe>()
            .map_err(|e| ApiError::bad_parameter("timeframe", format!("timeframe: {e}")))?,
        None => state.finest_stored(symbol)?,
    };
    let calls = resolve_calls(&state, params.indicators.unwrap_or_default()).await?;
    let start = parse_time("start", params.start.as_deref(), TimeBound::Start)?;
    let end = parse_time("end", params.end.as_deref(), TimeBound::End)?;
    if start > end {
        return Err(ApiError::bad_parameter("start", "start is after end"));
    }
    let limit = parse_limit(params.limit.as_deref())?.unwrap_or(state.data_limits.default_limit);

    let bars = state.engine.bars(symbol, timeframe).await?;
    let in_range = bars.frame.rows_between(start, end.saturating_add(1));
    let rows = in_range.end.saturating_sub(limit).max(in_range.start)..in_range.end;
    let truncated = rows.len() < in_range.len();
    let inline = calls.is_empty() && rows.len() <= INLINE_ROWS;
    let budget = state.data_limits.budget.clone();
    let respond = move |client: Option<&json_stream::Client<'_>>| {
        let (distinct, asked) = distinct_calls(calls);
        let outputs = distinct
            .iter()
            .map(|call| call.indicator.spec().outputs.len())
            .sum();
        let held = budget.reserve(answer_bytes(rows.len(), outputs))?;
        let mut computed = Vec::with_capacity(distinct.len());
        for call in &distinct {
            if client.is_some_and(|client| client.gone()) {
                return Err(ApiError::client_gone());
            }
            computed.push(indicator_values(call, &bars, rows.clone())?);
        }
        Ok(DataResponse {
            symbol: bars.symbol.to_string(),
            timeframe,
            source: Source {
                timeframe: bars.source,
                aggregated: bars.aggregated(),
            },
            bars: FrameColumns(bars.frame.slice(rows)),
            indicators: CallOutputs { computed, asked },
            truncated,
            _held: held,
        })
    };
    if inline {
        return respond(None).map(|body| Json(body).into_response());
    }
    json_stream::answer(move |client| respond(Some(client))).await
}

/// The calls of an `indicators` parameter, checked; off the async workers,
/// since a plugin's check may take as long as its time limit allows.
async fn resolve_calls(state: &AppState, text: String) -> Result<Vec<ResolvedCall>, ApiError> {
    let max = state.data_limits.max_indicator_calls;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let registry = Arc::clone(&state.indicators);
    Ok(
        tokio::task::spawn_blocking(move || registry.resolve_at_most(&text, max))
            .await
            .map_err(ApiError::internal)??,
    )
}

/// One call's outputs over `rows` of the bars.
fn indicator_values(
    call: &ResolvedCall,
    bars: &candela_core::Bars,
    rows: std::ops::Range<usize>,
) -> Result<IndicatorValues, ApiError> {
    let spec = call.indicator.spec();
    let outputs = call.compute_window(&*bars.frame, bars.zone, rows)?;
    Ok(IndicatorValues {
        id: spec.id.clone(),
        key: call.key.clone(),
        params: call.params.to_json(),
        placement: spec.placement(),
        outputs: NamedSeries(
            spec.outputs
                .iter()
                .map(|o| o.name.clone())
                .zip(outputs)
                .collect(),
        ),
    })
}

fn parse_limit(text: Option<&str>) -> Result<Option<usize>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let bad = || {
        ApiError::bad_parameter(
            "limit",
            format!(
                "limit must be a whole number from 1 to {MAX_LIMIT}, got '{}'",
                text.chars().take(32).collect::<String>()
            ),
        )
    };
    // Digits only, as the OpenAPI document's integer: no sign, no spaces.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(Some(n)),
        _ => Err(bad()),
    }
}
