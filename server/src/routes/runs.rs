//! The backtest runs API: the runs of the runs folder, one run's metadata
//! and statistics, and its trades and equity placed on the bars of any
//! timeframe, so that markers land on the candles `/api/data` draws.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use candela_backtest::{Run, RunError, RunSet, Side, Stats, Trade};
use candela_core::frame::bar_holding;
use candela_core::{BarFrame, SymbolId, Timeframe};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::as_of::AsOf;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::time_param::{TimeBound, parse_time};

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Serialise more trades than this on a blocking thread.
const BLOCKING_TRADES: usize = 1_000;

fn seconds(nanos: i64) -> i64 {
    nanos.div_euclid(NANOS_PER_SECOND)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunsResponse {
    runs: Vec<RunSummary>,
}

/// One run of the list: its statistics, or why it cannot be shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunSummary {
    /// The run's folder name, its id in the API.
    run: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<String>,
    /// `PROVIDER:SYMBOL`s traded.
    symbols: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<Stats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<RunFailure>,
}

/// Why a run cannot be shown, with where in its files when known.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunFailure {
    code: &'static str,
    message: String,
    #[serde(flatten)]
    place: candela_backtest::Place,
}

/// Lists the runs of the runs folder.
#[utoipa::path(get, path = "/api/runs", responses((status = 200, body = RunsResponse)))]
pub async fn list(State(state): State<AppState>) -> Json<RunsResponse> {
    Json(RunsResponse::of(&state.runs()))
}

impl RunsResponse {
    pub(crate) fn of(set: &RunSet) -> RunsResponse {
        let runs = set
            .runs
            .iter()
            .map(|(id, result)| RunSummary::of(id, result))
            .collect();
        RunsResponse { runs }
    }
}

impl RunSummary {
    /// The entry of the list for the run `id`.
    pub(crate) fn of(id: &str, result: &Result<Arc<Run>, RunError>) -> RunSummary {
        match result {
            Ok(run) => RunSummary {
                run: id.to_owned(),
                name: run.name().to_owned(),
                strategy: run.manifest.strategy.clone(),
                symbols: run.symbols.iter().map(ToString::to_string).collect(),
                stats: Some(run.stats.clone()),
                error: None,
            },
            Err(e) => RunSummary {
                run: id.to_owned(),
                name: id.to_owned(),
                strategy: None,
                symbols: Vec::new(),
                stats: None,
                error: Some(RunFailure {
                    code: e.code(),
                    message: e.to_string(),
                    place: (*e.place).clone(),
                }),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunResponse {
    run: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<String>,
    /// The strategy's parameters, from run.toml.
    #[schema(value_type = Object)]
    params: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    starting_cash: Option<f64>,
    symbols: Vec<String>,
    /// The zone the run's naive times were read in and its days counted in.
    timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    /// First and last point of the equity curve, Unix seconds.
    start: Option<i64>,
    end: Option<i64>,
    /// Trades in the run, closed or open.
    trade_count: usize,
    open_trades: usize,
    /// The equity curve was derived from the trades (the run has no equity file).
    equity_derived: bool,
    has_cash: bool,
    stats: Stats,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetailParams {
    /// The run as it stood at this instant (RFC 3339, a date, or Unix
    /// seconds): its trades entered by then, the curve up to then, and the
    /// statistics of the trades closed by then.
    asof: Option<String>,
}

/// One run's metadata and statistics.
#[utoipa::path(
    get, path = "/api/runs/{run}",
    params(("run" = String, Path, description = "the run's folder name"), DetailParams),
    responses(
        (status = 200, body = RunResponse),
        (status = 400, body = ErrorBody, description = "a parameter is invalid"),
        (status = 404, body = ErrorBody, description = "no such run"),
        (status = 422, body = ErrorBody, description = "the run's files cannot be read; the error says where"),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    RunPath(run): RunPath,
    params: Result<Query<DetailParams>, QueryRejection>,
) -> Result<Json<RunResponse>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let run = run_as_of(&state, run, AsOf::parse(params.asof.as_deref())?).await?;
    Ok(Json(RunResponse {
        run: run.id.clone(),
        name: run.name().to_owned(),
        strategy: run.manifest.strategy.clone(),
        params: run.manifest.params.clone(),
        starting_cash: run.manifest.starting_cash,
        symbols: run.symbols.iter().map(ToString::to_string).collect(),
        timezone: run.zone.name().to_owned(),
        notes: run.manifest.notes.clone(),
        start: run.equity.time.first().copied().map(seconds),
        end: run.equity.time.last().copied().map(seconds),
        trade_count: run.trades.len(),
        open_trades: run.trades.iter().filter(|t| t.exit().is_none()).count(),
        equity_derived: run.equity.derived,
        has_cash: run.equity.cash.is_some(),
        stats: run.stats.clone(),
    }))
}

/// The run as it stood at the instant, or as it is.
async fn run_as_of(state: &AppState, run: Arc<Run>, as_of: AsOf) -> Result<Arc<Run>, ApiError> {
    let Some(instant) = as_of.instant() else {
        return Ok(run);
    };
    let store = Arc::clone(state.engine.store());
    // A derived curve is derived again from the bars: file reads.
    tokio::task::spawn_blocking(move || run.as_of(instant, &store))
        .await
        .map_err(ApiError::internal)?
        .map(Arc::new)
        .map_err(|e| ApiError::from(&e))
}

/// The run a request's path names (`/api/runs/{run}…`), from the runs of
/// the moment: a missing one is a 404, a broken one its own error.
#[derive(Debug)]
pub struct RunPath(Arc<Run>);

impl FromRequestParts<AppState> for RunPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()).param("run"))?;
        find(&state.runs(), &id).map(RunPath)
    }
}

fn find(set: &RunSet, id: &str) -> Result<Arc<Run>, ApiError> {
    match set.get(id) {
        Some(Ok(run)) => Ok(Arc::clone(run)),
        Some(Err(e)) => Err(ApiError::from(e).param("run")),
        None => Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_run",
            format!(
                "no run '{}' in the runs folder; GET /api/runs lists them",
                id.chars().take(64).collect::<String>()
            ),
        )
        .param("run")),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TradesParams {
    /// Only this symbol's trades (`PROVIDER:SYMBOL`, or `SYMBOL`); all by default.
    symbol: Option<String>,
    /// The bars the trades are placed on; defaults to the symbol's finest stored one.
    timeframe: Option<String>,
    /// Only trades open at or after this time: RFC 3339, a date, or Unix seconds.
    start: Option<String>,
    /// Only trades entered at or before this time.
    end: Option<String>,
    /// The trades as they stood at this instant: those entered by then, the
    /// ones that exited later still open and marked there.
    asof: Option<String>,
}

/// A trade as the chart needs it. Times are Unix seconds; `entry_bar` and
/// `exit_bar` are the start times of the bars holding the entry and the
/// exit; `bars_held` counts the bars from the one to the other.
#[derive(Debug, Serialize, ToSchema)]
pub struct TradeRow<'a> {
    /// The trade's place in the run, by entry time, from 0.
    id: usize,
    /// `PROVIDER:SYMBOL`
    #[serde(serialize_with = "display")]
    #[schema(value_type = String)]
    symbol: &'a SymbolId,
    side: Side,
    size: f64,
    entry_time: i64,
    entry_price: f64,
    exit_time: Option<i64>,
    exit_price: Option<f64>,
    pnl: Option<f64>,
    return_pct: Option<f64>,
    entry_bar: Option<i64>,
    exit_bar: Option<i64>,
    bars_held: Option<usize>,
    /// An open trade's mark: the close of its symbol's last stored bar (of
    /// the finest timeframe, closed by `asof` when given), that bar's start,
    /// and the PnL and return there, before costs.
    mark_price: Option<f64>,
    mark_bar: Option<i64>,
    unrealized_pnl: Option<f64>,
    unrealized_return_pct: Option<f64>,
    commission: Option<f64>,
    stop_loss: Option<f64>,
    take_profit: Option<f64>,
    tag: Option<&'a str>,
}

fn display<S: serde::Serializer>(value: &SymbolId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Where a trade lands on the candles of one timeframe.
#[derive(Debug, Clone, Copy)]
struct Placement {
    /// The trade's index in the run.
    id: usize,
    entry_bar: Option<i64>,
    exit_bar: Option<i64>,
    bars_held: Option<usize>,
    /// The last known price of the trade's symbol, for an open trade.
    mark: Option<Mark>,
}

/// A symbol's last close: its price, and the start of its bar (Unix seconds).
#[derive(Debug, Clone, Copy)]
struct Mark {
    price: f64,
    bar: i64,
}

impl Mark {
    /// The close of the last of `frame`'s bars.
    fn last(frame: &BarFrame) -> Option<Mark> {
        let last = frame.len().checked_sub(1)?;
        Some(Mark {
            price: frame.close()[last],
            bar: seconds(frame.time()[last]),
        })
    }
}

impl Placement {
    fn of(id: usize, trade: &Trade, bar_times: &[i64], mark: Option<Mark>) -> Placement {
        let entry = bar_holding(bar_times, trade.entry.time);
        let exit = trade.exit().and_then(|e| bar_holding(bar_times, e.time));
        Placement {
            id,
            entry_bar: entry.map(|i| seconds(bar_times[i])),
            exit_bar: exit.map(|i| seconds(bar_times[i])),
            bars_held: entry.zip(exit).map(|(a, b)| b - a),
            mark: mark.filter(|_| trade.exit().is_none()),
        }
    }

    fn row<'a>(&self, trade: &'a Trade) -> TradeRow<'a> {
        let exit = trade.exit();
        let unrealized = self.mark.and_then(|m| trade.unrealized_pnl(m.price));
        TradeRow {
            id: self.id,
            symbol: &trade.symbol,
            side: trade.side,
            size: trade.size,
            entry_time: seconds(trade.entry.time),
            entry_price: trade.entry.price,
            exit_time: exit.map(|e| seconds(e.time)),
            exit_price: exit.map(|e| e.price),
            pnl: trade.pnl(),
            return_pct: trade.return_fraction().map(|r| r * 100.0),
            entry_bar: self.entry_bar,
            exit_bar: self.exit_bar,
            bars_held: self.bars_held,
            mark_price: self.mark.map(|m| m.price),
            mark_bar: self.mark.map(|m| m.bar),
            unrealized_pnl: unrealized,
            unrealized_return_pct: unrealized.map(|pnl| trade.fraction_of_entry(pnl) * 100.0),
            commission: trade.commission,
            stop_loss: trade.stop_loss,
            take_profit: trade.take_profit,
            tag: trade.tag.as_deref(),
        }
    }
}

/// The body of `/trades`, serialised from the run itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct TradesBody<'a> {
    run: &'a str,
    /// The timeframe of the bars the trades are placed on (the first
    /// symbol's, when the run trades several and none was asked).
    #[schema(value_type = Option<String>)]
    timeframe: Option<Timeframe>,
    trades: Vec<TradeRow<'a>>,
}

/// A run's trades, placed on the bars of a timeframe.
#[utoipa::path(
    get, path = "/api/runs/{run}/trades",
    params(("run" = String, Path, description = "the run's folder name"), TradesParams),
    responses(
        (status = 200, body = TradesBody),
        (status = 400, body = ErrorBody, description = "a parameter is invalid"),
        (status = 404, body = ErrorBody, description = "no such run, or a symbol it does not trade"),
        (status = 422, body = ErrorBody, description = "the run cannot be read, or the timeframe cannot be built"),
    )
)]
pub async fn trades(
    State(state): State<AppState>,
    RunPath(run): RunPath,
    params: Result<Query<TradesParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let window = Window::parse(params.start.as_deref(), params.end.as_deref())?;
    let as_of = AsOf::parse(params.asof.as_deref())?;
    let symbols = match params.symbol.as_deref() {
        None | Some("") => run.symbols.clone(),
        Some(wanted) => vec![traded_symbol(&state, &run, wanted)?],
    };
    let requested = parse_timeframe(params.timeframe.as_deref())?;
    let run = run_as_of(&state, run, as_of).await?;
    let mut placed = Vec::new();
    let mut shown = None;
    for symbol in &symbols {
        let name = symbol.to_string();
        let finest = state.finest_stored(&name)?;
        let timeframe = requested.unwrap_or(finest);
        shown.get_or_insert(timeframe);
        let bars = as_of.bars(&state.engine, &name, timeframe).await?.bars;
        let times = bars.frame.time();
        let traded = |trade: &&Trade| trade.symbol == *symbol && window.overlaps(trade);
        let mark = if run.trades.iter().filter(traded).any(|t| t.exit().is_none()) {
            Mark::last(&as_of.bars(&state.engine, &name, finest).await?.bars.frame)
        } else {
            None
        };
        for (index, trade) in run.trades.iter().enumerate() {
            if traded(&trade) {
                placed.push(Placement::of(index, trade, times, mark));
            }
        }
    }
    placed.sort_by_key(|p| p.id);
    // Thousands of trades are megabytes of JSON: written off the async workers.
    let light = placed.len() < BLOCKING_TRADES;
    let respond = move || {
        let trades = placed.iter().map(|p| p.row(&run.trades[p.id])).collect();
        let body = TradesBody {
            run: &run.id,
            timeframe: shown,
            trades,
        };
        Json(body).into_response()
    };
    if light {
        return Ok(respond());
    }
    tokio::task::spawn_blocking(respond)
        .await
        .map_err(ApiError::internal)
}

/// The symbol of the run a request names, in the data root's spelling.
fn traded_symbol(
    state: &AppState,
    run: &Run,
    wanted: &str,
) -> Result<candela_core::SymbolId, ApiError> {
    let catalog = state.engine.store().catalog();
    let entry = catalog.resolve(wanted).map_err(candela_core::Error::from)?;
    if run.symbols.contains(&entry.id) {
        Ok(entry.id.clone())
    } else {
        Err(ApiError::not_found(format!(
            "run '{}' has no trades of {}; it trades {}",
            run.id,
            entry.id,
            run.symbols
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .param("symbol"))
    }
}

fn parse_timeframe(text: Option<&str>) -> Result<Option<Timeframe>, ApiError> {
    text.filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<Timeframe>()
                .map_err(|e| ApiError::bad_parameter("timeframe", format!("timeframe: {e}")))
        })
        .transpose()
}

/// The `start`/`end` of a request, UTC nanoseconds, both included.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    end: i64,
}

impl Window {
    fn parse(start: Option<&str>, end: Option<&str>) -> Result<Window, ApiError> {
        let start = parse_time("start", start, TimeBound::Start)?;
        let end = parse_time("end", end, TimeBound::End)?;
        if start > end {
            return Err(ApiError::bad_parameter("start", "start is after end"));
        }
        Ok(Window { start, end })
    }

    /// Whether the trade is open at some time of the window.
    fn overlaps(&self, trade: &Trade) -> bool {
        trade.entry.time <= self.end && trade.exit().is_none_or(|e| e.time >= self.start)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EquityParams {
    /// The bars the curve is sampled on (the last value in each); defaults
    /// to the finest stored one of the run's first symbol.
    timeframe: Option<String>,
    /// First bar time to include: RFC 3339, a date, or Unix seconds.
    start: Option<String>,
    /// Last bar time to include.
    end: Option<String>,
    /// The curve as it stood at this instant, on the bars closed by then.
    asof: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EquityResponse {
    run: String,
    #[schema(value_type = String)]
    timeframe: Timeframe,
    equity: EquityColumns,
}

/// The curve as parallel columns, one point per bar: the bar's start (Unix
/// seconds), the equity and the drawdown at its last point (percent below
/// the running peak, zero or negative), and the cash when the run has it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EquityColumns {
    time: Vec<i64>,
    equity: Vec<f64>,
    drawdown_pct: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cash: Option<Vec<f64>>,
}

/// A run's equity and drawdown, one point per bar of a timeframe.
#[utoipa::path(
    get, path = "/api/runs/{run}/equity",
    params(("run" = String, Path, description = "the run's folder name"), EquityParams),
    responses(
        (status = 200, body = EquityResponse),
        (status = 400, body = ErrorBody, description = "a parameter is invalid"),
        (status = 404, body = ErrorBody, description = "no such run"),
        (status = 422, body = ErrorBody, description = "the run cannot be read, or the timeframe cannot be built"),
    )
)]
pub async fn equity(
    State(state): State<AppState>,
    RunPath(run): RunPath,
    params: Result<Query<EquityParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let window = Window::parse(params.start.as_deref(), params.end.as_deref())?;
    let as_of = AsOf::parse(params.asof.as_deref())?;
    let Some(symbol) = run.symbols.first().map(ToString::to_string) else {
        return Err(ApiError::from(&candela_backtest::RunError {
            run: run.id.clone(),
            place: Box::default(),
            problem: Box::new(candela_backtest::Problem::NoSymbol),
        }));
    };
    let timeframe = match parse_timeframe(params.timeframe.as_deref())? {
        Some(tf) => tf,
        None => state.finest_stored(&symbol)?,
    };
    let run = run_as_of(&state, run, as_of).await?;
    let bars = as_of.bars(&state.engine, &symbol, timeframe).await?.bars;
    let respond = move || {
        let columns = sample(&run, &bars.frame, window);
        Json(EquityResponse {
            run: run.id.clone(),
            timeframe,
            equity: columns,
        })
        .into_response()
    };
    tokio::task::spawn_blocking(respond)
        .await
        .map_err(ApiError::internal)
}

/// The curve's last point in each bar of `frame` within the window.
fn sample(run: &Run, frame: &BarFrame, window: Window) -> EquityColumns {
    let curve = &run.equity;
    let bar_times = frame.time();
    // The last point of each bar, walking points and bars together.
    let mut last_points: Vec<(usize, usize)> = Vec::new();
    let mut next_bar = 0;
    for (point, &t) in curve.time.iter().enumerate() {
        while next_bar < bar_times.len() && bar_times[next_bar] <= t {
            next_bar += 1;
        }
        let Some(bar) = next_bar.checked_sub(1) else {
            continue; // before the first bar
        };
        match last_points.last_mut() {
            Some((b, p)) if *b == bar => *p = point,
            _ => last_points.push((bar, point)),
        }
    }
    last_points.retain(|&(bar, _)| (window.start..=window.end).contains(&bar_times[bar]));
    let drawdown = curve.drawdown_pct();
    EquityColumns {
        time: last_points
            .iter()
            .map(|&(bar, _)| seconds(bar_times[bar]))
            .collect(),
        equity: last_points.iter().map(|&(_, p)| curve.equity[p]).collect(),
        drawdown_pct: last_points.iter().map(|&(_, p)| drawdown[p]).collect(),
        cash: curve
            .cash
            .as_ref()
            .map(|cash| last_points.iter().map(|&(_, p)| cash[p]).collect()),
    }
}
