//! Server-Sent Events. `GET /api/stream`: a chart's bars as they change.
//! Each event `bars` holds what `/api/data` answers for the bars from the
//! last one sent on (that one again, as it may have been forming), with the
//! indicators asked for; its `id` is the last bar's time, so a client that
//! reconnects (`Last-Event-ID`) misses nothing. A new file that cannot be
//! read is an `error` event. `GET /api/runs/stream`: the runs as they
//! appear, change, break and go. Streams are bounded (`http.max_streams`,
//! together); one whose reader falls behind is dropped rather than buffered for.

use std::convert::Infallible;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use candela_backtest::RunChangeKind;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, broadcast, mpsc};
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorBody};
use crate::live::Change;
use crate::routes::data::answer_text;
use crate::routes::runs::{RunSummary, RunsResponse};
use crate::state::AppState;
use crate::time_param::{TimeBound, parse_time};

/// Events a stream holds for its reader; a reader further behind is dropped.
const EVENTS_AHEAD: usize = 16;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// `PROVIDER:SYMBOL`, or `SYMBOL` when one provider has it.
    #[param(example = "ALPACA:NFLX")]
    symbol: Option<String>,
    /// The chart's timeframe; defaults to the finest stored one.
    timeframe: Option<String>,
    /// The chart's indicator calls, as `/api/data` takes them.
    indicators: Option<String>,
    /// The last bar the client holds (the forms of `start`): the stream
    /// starts with the bars from it on. `Last-Event-ID` takes its place on a
    /// reconnection.
    #[param(example = "2024-10-16T19:00:00Z")]
    since: Option<String>,
    /// The first bar of the window the client's indicator values were
    /// computed on (its first `/api/data` answer): the stream computes its
    /// values on the same window, so a bar sent again is the same to the
    /// last bit (a rolling sum's rounding follows where it started).
    origin: Option<String>,
}

/// A chart's bars as they change.
#[utoipa::path(
    get, path = "/api/stream", operation_id = "bars_stream", params(StreamParams),
    responses(
        (status = 200, content_type = "text/event-stream", description = "events `bars` (the `/api/data` answer of the changed and new bars, `id` the last bar's time) and `error`"),
        (status = 400, body = ErrorBody, description = "a parameter is missing or invalid"),
        (status = 404, body = ErrorBody, description = "unknown symbol or indicator"),
        (status = 422, body = ErrorBody, description = "the timeframe cannot be built from the stored ones"),
        (status = 503, body = ErrorBody, description = "as many streams are open as `http.max_streams` allows; poll `/api/data` instead"),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<StreamParams>, QueryRejection>,
) -> Result<impl IntoResponse + use<>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let symbol = params.symbol.filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::bad_parameter("symbol", "missing parameter 'symbol', e.g. symbol=NFLX")
    })?;
    let timeframe = match params.timeframe.filter(|t| !t.is_empty()) {
        Some(tf) => tf,
        None => state.finest_stored(&symbol)?.to_string(),
    };
    let indicators = params.indicators.unwrap_or_default();
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(params.since);
    let seconds = |name: &'static str, text: Option<&str>| match text.filter(|t| !t.is_empty()) {
        Some(text) => parse_time(name, Some(text), TimeBound::Start)
            .map(|t| Some(t.div_euclid(1_000_000_000))),
        None => Ok(None),
    };
    let since = seconds("since", resumed.as_deref())?;
    let origin = seconds("origin", params.origin.as_deref())?;
    let mut follow = Follow {
        state: state.clone(),
        symbol,
        timeframe,
        indicators,
        origin,
        last: since,
    };
    // The request is checked as /api/data checks it, before the stream opens.
    let first = follow.answer().await?;
    let id = state
        .engine
        .store()
        .catalog()
        .resolve(&follow.symbol)
        .map_err(candela_core::Error::from)?
        .id
        .clone();
    let (permit, events, reader) = open(&state)?;
    let mut changes = state.live.subscribe();
    let mut closing = state.live.closing();
    tokio::spawn(async move {
        let _permit = permit;
        if since.is_some() && !follow.send(&events, Some(first)).await {
            return;
        }
        loop {
            tokio::select! {
                _ = closing.changed() => return,
                () = events.closed() => return,
                change = changes.recv() => match change {
                    Ok(Change::Bars { symbol, .. }) if symbol == id => {
                        if !follow.send(&events, None).await {
                            return;
                        }
                    }
                    Ok(Change::Fault { symbol, message, .. }) if symbol == id => {
                        let data = serde_json::json!({ "error": { "code": "unreadable_file", "message": message } });
                        if !offer(&events, Event::default().event("error").data(data.to_string())) {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // Fallen behind the changes: the bars since the last sent hold them all.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !follow.send(&events, None).await {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    Ok(sse(&state, reader))
}

/// The runs of the runs folder as they change: first `runs`, the list as
/// `/api/runs` answers it; then an event `run` for each run added, read
/// again, broken or removed, with its entry of the list (none when removed).
#[utoipa::path(
    get, path = "/api/runs/stream", operation_id = "runs_stream",
    responses(
        (status = 200, content_type = "text/event-stream", description = "`runs` (the list, first) and `run` (`{run, change, summary}`, change one of `added`, `changed`, `broken`, `removed`)"),
        (status = 503, body = ErrorBody, description = "as many streams are open as `http.max_streams` allows; poll `/api/runs` instead"),
    )
)]
pub async fn runs(State(state): State<AppState>) -> Result<impl IntoResponse + use<>, ApiError> {
    let (permit, events, reader) = open(&state)?;
    let mut runs = state.live.runs();
    let mut closing = state.live.closing();
    let mut sent = state.runs();
    let list = serde_json::to_string(&RunsResponse::of(&sent)).map_err(ApiError::internal)?;
    tokio::spawn(async move {
        let _permit = permit;
        if !offer(&events, Event::default().event("runs").data(list)) {
            return;
        }
        loop {
            tokio::select! {
                _ = closing.changed() => return,
                () = events.closed() => return,
                changed = runs.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let now = runs.borrow_and_update().clone();
                    for change in now.changes_since(&sent) {
                        let summary = now.get(&change.run).map(|result| RunSummary::of(&change.run, result));
                        let event = RunEvent { run: &change.run, change: change.kind, summary };
                        let Ok(data) = serde_json::to_string(&event) else { return };
                        if !offer(&events, Event::default().event("run").data(data)) {
                            return;
                        }
                    }
                    sent = now;
                }
            }
        }
    });
    Ok(sse(&state, reader))
}

/// One run's change, as `/api/runs/stream` tells it.
#[derive(Serialize)]
struct RunEvent<'a> {
    run: &'a str,
    #[serde(serialize_with = "change_name")]
    change: RunChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<RunSummary>,
}

fn change_name<S: serde::Serializer>(kind: &RunChangeKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.name())
}

/// A place for one more stream, and the channel of its events: what is
/// sent into the sender reaches the client, at most `EVENTS_AHEAD` ahead.
fn open(
    state: &AppState,
) -> Result<
    (
        OwnedSemaphorePermit,
        mpsc::Sender<Event>,
        mpsc::Receiver<Event>,
    ),
    ApiError,
> {
    let permit = state.live.stream_permit().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            format!(
                "{} streams are open, as many as http.max_streams allows; poll instead, or raise it",
                state.live.config().max_streams
            ),
        )
        .retry_after(5)
    })?;
    let (events, reader) = mpsc::channel::<Event>(EVENTS_AHEAD);
    Ok((permit, events, reader))
}

/// The events of `reader` as the response, with keep-alives, and a word to
/// nginx-like proxies in front that each event is to be passed on as it
/// comes rather than buffered.
fn sse(state: &AppState, reader: mpsc::Receiver<Event>) -> impl IntoResponse + use<> {
    let stream = futures::stream::unfold(reader, |mut reader| async move {
        reader
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), reader))
    });
    let events =
        Sse::new(stream).keep_alive(KeepAlive::new().interval(state.live.config().keep_alive));
    (
        [(HeaderName::from_static("x-accel-buffering"), "no")],
        events,
    )
}

/// Queues `event` for the reader; false when the stream is to end: its
/// reader is gone, or too far behind to be sent more.
fn offer(events: &mpsc::Sender<Event>, event: Event) -> bool {
    match events.try_send(event) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::warn!("a stream's reader fell {EVENTS_AHEAD} events behind: dropped");
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

/// One stream's chart, and the last bar it sent.
struct Follow {
    state: AppState,
    symbol: String,
    timeframe: String,
    indicators: String,
    /// Where the client's values were computed from (Unix seconds).
    origin: Option<i64>,
    /// Unix seconds.
    last: Option<i64>,
}

impl Follow {
    /// The `/api/data` answer of the bars from the last sent on (the last
    /// bar alone before any), computed from the client's origin if known.
    async fn answer(&self) -> Result<String, ApiError> {
        let (state, symbol, timeframe, indicators) =
            (&self.state, &self.symbol, &self.timeframe, &self.indicators);
        match (self.origin, self.last) {
            (Some(origin), Some(last)) if origin <= last => {
                let text =
                    answer_text(state, symbol, timeframe, indicators, Some(origin), None).await?;
                from_bar(&text, last)
            }
            (_, Some(last)) => {
                answer_text(state, symbol, timeframe, indicators, Some(last), None).await
            }
            (_, None) => answer_text(state, symbol, timeframe, indicators, None, Some(1)).await,
        }
    }

    /// Sends the bars from the last one sent on (`answer`, when already
    /// computed); false when the stream is to end: its reader is gone, or
    /// too far behind to be sent more.
    async fn send(&mut self, events: &mpsc::Sender<Event>, answer: Option<String>) -> bool {
        let answer = match answer {
            Some(answer) => Ok(answer),
            None => self.answer().await,
        };
        let event = match answer {
            Ok(text) => {
                let last = last_time(&text);
                if last.is_none() {
                    return true; // no bars: nothing to say
                }
                self.last = last.or(self.last);
                let mut event = Event::default().event("bars").data(text);
                if let Some(id) = self.last {
                    event = event.id(id.to_string());
                }
                event
            }
            Err(error) => Event::default().event("error").data(error.body_json()),
        };
        offer(events, event)
    }
}

/// An `/api/data` answer cut to its bars from time `from` on (Unix seconds):
/// every column of the bars, each indicator's outputs and higher-bar starts.
fn from_bar(answer: &str, from: i64) -> Result<String, ApiError> {
    use serde_json::Value;
    let mut value: Value = serde_json::from_str(answer).map_err(ApiError::internal)?;
    let times: Vec<i64> = value["bars"]["time"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let skip = times.partition_point(|&t| t < from);
    let cut = |column: &mut Value| {
        if let Some(values) = column.as_array_mut() {
            values.drain(..skip.min(values.len()));
        }
    };
    if let Some(bars) = value["bars"].as_object_mut() {
        bars.values_mut().for_each(cut);
    }
    if let Some(indicators) = value["indicators"].as_array_mut() {
        for indicator in indicators {
            if let Some(outputs) = indicator["outputs"].as_object_mut() {
                outputs.values_mut().for_each(cut);
            }
            if let Some(from) = indicator.get_mut("from") {
                cut(from);
            }
        }
    }
    Ok(value.to_string())
}

/// The last bar's time in an `/api/data` answer.
fn last_time(answer: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct Times {
        bars: Bars,
    }
    #[derive(Deserialize)]
    struct Bars {
        time: Vec<i64>,
    }
    serde_json::from_str::<Times>(answer)
        .ok()?
        .bars
        .time
        .last()
        .copied()
}
