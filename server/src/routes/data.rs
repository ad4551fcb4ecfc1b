//! `/api/data`: a symbol's bars at a timeframe, with indicator outputs,
//! computed off the async workers and streamed as JSON.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use candela_core::indicator::{
    CallValues, Evaluation, Frames, HigherStarts, Placement, ResolvedCall,
};
use candela_core::{BarFrame, BarsAsOf, Timeframe};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};

use crate::as_of::AsOf;
use crate::budget::Reservation;
use crate::error::{ApiError, ErrorBody};
use crate::json_stream::{self, CHUNK_BYTES, CHUNKS_AHEAD};
use crate::routes::compare::{self, ComparedCloses};
use crate::state::AppState;
use crate::time_param::{TimeBound, parse_time};

/// Largest `limit` accepted: a million bars is already ~60 MB of JSON.
pub const MAX_LIMIT: usize = 1_000_000;

/// Answers up to this many bars without indicators are encoded where they
/// are asked for, on the async worker: it takes less than handing them on.
const INLINE_ROWS: usize = 20_000;

/// The columns of the bars in an answer (time, OHLC, volume).
const BAR_COLUMNS: usize = 6;

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
    #[param(example = "sma(20,timeframe=1d),ema(9,source=rsi(14))")]
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
    /// Comma-separated symbols (at most 8) whose closes are answered on
    /// this chart's bar times, each aggregated to its timeframe.
    #[param(example = "ALPACA:EXPE")]
    compare: Option<String>,
    /// Answer as of this instant (RFC 3339, a date, or Unix seconds): only
    /// the stored bars that had closed by then, the indicators computed on
    /// those alone; an aggregated last bar may be forming (`forming`).
    #[param(example = "2024-03-05T14:00:00Z")]
    asof: Option<String>,
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
    /// Only with `compare=`: each compared symbol's closes, in the order asked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    compare: Vec<ComparedCloses>,
    /// Bars of the range were left out: it holds more than `limit` (or the
    /// default limit) bars, and only the last ones are answered.
    truncated: bool,
    /// Only with `asof=`: whether the last bar is still forming, built of
    /// the source bars closed by then (later ones would change it).
    #[serde(skip_serializing_if = "Option::is_none")]
    forming: Option<bool>,
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
    /// The call's `source=` as its key writes it (`hl2`, `rsi(period=14)`,
    /// `macd(fast=12,slow=26,signal=9).histogram`); absent for the close.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    /// The call's `timeframe=`, for a call on a higher timeframe.
    #[serde(skip_serializing_if = "Option::is_none")]
    timeframe: Option<String>,
    /// The call's `align=` (`close`, `open` or `forming`), with `timeframe`.
    #[serde(skip_serializing_if = "Option::is_none")]
    align: Option<&'static str>,
    /// Each output by name, one value per bar; `null` where it is undefined.
    #[schema(value_type = std::collections::BTreeMap<String, Vec<Option<f64>>>)]
    outputs: NamedSeries,
    /// Only for a call with `timeframe=`: per bar, the start (Unix seconds)
    /// of the higher bar its values came from; `null` before the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Option<i64>>>)]
    from: Option<StartSeconds>,
}

/// Higher bars' start times, nanoseconds in, Unix seconds out.
#[derive(Debug)]
struct StartSeconds(HigherStarts);

impl Serialize for StartSeconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|t| t.map(unix_seconds)))
    }
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
        serializer.collect_seq(self.0.iter().copied().map(unix_seconds))
    }
}

/// UTC nanoseconds as whole Unix seconds, rounded down.
fn unix_seconds(nanos: i64) -> i64 {
    nanos.div_euclid(1_000_000_000)
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
        (status = 400, body = ErrorBody, description = "a parameter is missing or invalid, the symbol is ambiguous, too many indicator calls, or too many compared symbols"),
        (status = 404, body = ErrorBody, description = "unknown symbol, unknown compared symbol, or unknown indicator"),
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
    let compared = compare::parse(params.compare.as_deref())?;
    let start = parse_time("start", params.start.as_deref(), TimeBound::Start)?;
    let end = parse_time("end", params.end.as_deref(), TimeBound::End)?;
    if start > end {
        return Err(ApiError::bad_parameter("start", "start is after end"));
    }
    let limit = parse_limit(params.limit.as_deref())?.unwrap_or(state.data_limits.default_limit);
    let as_of = AsOf::parse(params.asof.as_deref())?;

    let BarsAsOf { bars, forming } = as_of.bars(&state.engine, symbol, timeframe).await?;
    let forming = as_of.instant().map(|_| forming);
    let higher = higher_bars(&state, symbol, timeframe, &calls, as_of).await?;
    let compared = compare::load(&state, &compared, timeframe, as_of).await?;
    let in_range = bars.frame.rows_between(start, end.saturating_add(1));
    let rows = in_range.end.saturating_sub(limit).max(in_range.start)..in_range.end;
    let truncated = rows.len() < in_range.len();
    let inline = calls.is_empty() && compared.is_empty() && rows.len() <= INLINE_ROWS;
    let budget = state.data_limits.budget.clone();
    let respond = move |client: Option<&json_stream::Client<'_>>| {
        let (distinct, asked) = distinct_calls(calls);
        let outputs = distinct
            .iter()
            .map(|call| call.indicator.spec().outputs.len() + usize::from(call.higher.is_some()))
            .sum::<usize>()
            + compared.len();
        let held = budget.reserve(answer_bytes(rows.len(), outputs))?;
        let frames = higher.iter().fold(
            Frames::new((&*bars.frame).into(), Some(timeframe), bars.zone),
            |frames, bars| frames.with(bars.timeframe, (&*bars.frame).into()),
        );
        let mut evaluation = Evaluation::new(&frames);
        for call in &distinct {
            evaluation.plan(call, rows.clone())?;
        }
        let mut computed = Vec::with_capacity(distinct.len());
        for call in &distinct {
            if client.is_some_and(|client| client.gone()) {
                return Err(ApiError::client_gone());
            }
            computed.push(indicator_values(
                call,
                evaluation.values(call, rows.clone())?,
            ));
        }
        let times = &bars.frame.time()[rows.clone()];
        let compare = compared
            .iter()
            .map(|other| compare::closes_at(times, other))
            .collect();
        Ok(DataResponse {
            symbol: bars.symbol.to_string(),
            timeframe,
            source: Source {
                timeframe: bars.source,
                aggregated: bars.aggregated(),
            },
            bars: FrameColumns(bars.frame.slice(rows)),
            indicators: CallOutputs { computed, asked },
            compare,
            truncated,
            forming,
            _held: held,
        })
    };
    if inline {
        return respond(None).map(|body| Json(body).into_response());
    }
    json_stream::answer(move |client| respond(Some(client))).await
}

/// The `/api/data` answer for `symbol` at `timeframe` with `indicators`, of
/// the bars from `start` on (Unix seconds), or the last `limit`: what a
/// stream's event holds, encoded.
pub(crate) async fn answer_text(
    state: &AppState,
    symbol: &str,
    timeframe: &str,
    indicators: &str,
    start: Option<i64>,
    limit: Option<usize>,
) -> Result<String, ApiError> {
    let params = DataParams {
        symbol: Some(symbol.to_owned()),
        timeframe: Some(timeframe.to_owned()),
        indicators: Some(indicators.to_owned()),
        start: start.map(|s| s.to_string()),
        end: None,
        limit: limit.map(|l| l.to_string()),
        compare: None,
        asof: None,
    };
    let response = data(State(state.clone()), Ok(Query(params))).await?;
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(ApiError::internal)?;
    String::from_utf8(bytes.to_vec()).map_err(ApiError::internal)
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

/// The bars of every higher timeframe `calls` name, each checked against
/// the chart's `timeframe`; a failure names the call that asked for it.
async fn higher_bars(
    state: &AppState,
    symbol: &str,
    timeframe: Timeframe,
    calls: &[ResolvedCall],
    as_of: AsOf,
) -> Result<Vec<candela_core::Bars>, ApiError> {
    let mut wanted: Vec<(Timeframe, &str)> = Vec::new();
    for call in calls {
        for higher in call.higher_timeframes(timeframe)? {
            if !wanted.iter().any(|(t, _)| *t == higher) {
                wanted.push((higher, &call.written));
            }
        }
    }
    let mut loaded = Vec::with_capacity(wanted.len());
    for (higher, call) in wanted {
        let bars = (as_of.bars(&state.engine, symbol, higher).await)
            .map_err(|e| ApiError::from(e).caused_by_call(call))?;
        loaded.push(bars.bars);
    }
    Ok(loaded)
}

/// One call's outputs, named as its indicator declares them.
fn indicator_values(call: &ResolvedCall, values: CallValues) -> IndicatorValues {
    let spec = call.indicator.spec();
    IndicatorValues {
        id: spec.id.clone(),
        key: call.key.clone(),
        params: call.params.to_json(),
        placement: call.placement(),
        source: (!call.source.is_default()).then(|| call.source.key()),
        timeframe: call.higher.map(|h| h.timeframe.to_string()),
        align: call.higher.map(|h| h.align.name()),
        outputs: NamedSeries(
            spec.outputs
                .iter()
                .map(|o| o.name.clone())
                .zip(values.outputs)
                .collect(),
        ),
        from: values.from.map(StartSeconds),
    }
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
