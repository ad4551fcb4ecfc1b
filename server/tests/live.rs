//! Live bars over real HTTP: a server on a temporary data root, its watcher
//! following it, and `/api/stream` read as a browser's EventSource reads it.
//! A part file renamed into the series folder becomes a `bars` event with
//! the new bars and their indicator values (what `/api/data` answers for
//! them); `Last-Event-ID` resumes with nothing missed; a file that cannot
//! be read is an `error` event naming it, the series unchanged; hidden and
//! half-written files are not read; streams past `http.max_streams` are
//! refused; closing the server ends every stream.

use std::path::Path;
use std::time::Duration;

use candela_core::BarFrame;
use candela_core::synthetic::{continuous_minutes, write_parquet};
use serde_json::Value;
use support::sse::{Stream, get, serve_live};

mod support;

const SERIES: &str = "TEST/LIVE/1m";
const CHART: &str = "symbol=TEST:LIVE&timeframe=5m&indicators=sma(period=3)";

/// Writes `frame` as `name` in the series folder, renamed into place as a writer of live bars does.
fn add_part(root: &Path, name: &str, frame: &BarFrame) {
    let partial = root.join(SERIES).join(format!("{name}.partial"));
    write_parquet(frame, &partial).expect("write");
    std::fs::rename(&partial, root.join(SERIES).join(name)).expect("rename");
}

fn times(answer: &Value) -> Vec<i64> {
    answer["bars"]["time"]
        .as_array()
        .expect("times")
        .iter()
        .map(|t| t.as_i64().expect("a time"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_part_file_reaches_every_stream_and_nothing_is_missed() {
    let bars = continuous_minutes(3_000, 7);
    let dir = tempfile::tempdir().expect("root");
    let root = dir.path();
    std::fs::create_dir_all(root.join(SERIES)).expect("folder");
    write_parquet(
        &bars.slice(0..2_000),
        &root.join(SERIES).join("part-0.parquet"),
    )
    .expect("write");

    let (address, live, _) = serve_live(root, None, 3).await;

    let before = get(&address, &format!("/api/data?{CHART}")).await;
    let last = *times(&before).last().expect("bars");
    let mut stream = Stream::open(&address, &format!("{CHART}&since={last}"), "").await;
    assert_eq!(stream.status, 200);
    unbuffered_by_proxies(&stream);
    let first = stream
        .next(Duration::from_secs(5))
        .await
        .expect("the first event");
    assert_eq!(first.event, "bars");
    assert_eq!(
        first.id.as_deref(),
        Some(last.to_string().as_str()),
        "the stream starts at the bar the client holds"
    );

    // A part file renamed into place: one event with the changed and the new bars.
    add_part(root, "part-1.parquet", &bars.slice(2_000..2_600));
    let event = stream
        .next(Duration::from_secs(5))
        .await
        .expect("a bars event after the rename");
    assert_eq!(event.event, "bars");
    let sent: Value = serde_json::from_str(&event.data).expect("JSON");
    let after = get(&address, &format!("/api/data?{CHART}&start={last}")).await;
    assert_eq!(
        sent, after,
        "the event holds what /api/data answers from the last bar held on"
    );
    let new_last = *times(&sent).last().expect("bars");
    assert!(
        times(&sent).len() > 100 && times(&sent)[0] == last,
        "the last bar again, and the new ones"
    );
    assert_eq!(event.id, Some(new_last.to_string()));

    // Reconnecting with Last-Event-ID at the old bar: nothing missed.
    let mut again = Stream::open(&address, CHART, &format!("Last-Event-ID: {last}\r\n")).await;
    let resumed = again
        .next(Duration::from_secs(5))
        .await
        .expect("a resumed event");
    let resumed: Value = serde_json::from_str(&resumed.data).expect("JSON");
    assert_eq!(
        resumed, after,
        "a resumed stream starts from the Last-Event-ID"
    );

    // Files being written and hidden files are not read; a keep-alive comes meanwhile.
    write_parquet(
        &bars.slice(2_600..2_800),
        &root.join(SERIES).join("part-2.parquet.partial"),
    )
    .expect("partial");
    write_parquet(
        &bars.slice(2_600..2_800),
        &root.join(SERIES).join(".part-2.parquet"),
    )
    .expect("hidden");
    assert!(
        stream.next(Duration::from_secs(1)).await.is_none(),
        "no event for files not in place"
    );
    std::fs::remove_file(root.join(SERIES).join("part-2.parquet.partial")).expect("rm");
    std::fs::remove_file(root.join(SERIES).join(".part-2.parquet")).expect("rm");

    // A file that cannot be read: an error event naming it; the series unchanged.
    std::fs::write(
        root.join(SERIES).join("part-3.parquet"),
        b"not parquet at all",
    )
    .expect("bad");
    let error = stream
        .next(Duration::from_secs(5))
        .await
        .expect("an error event");
    assert_eq!(error.event, "error");
    assert!(
        error.data.contains("part-3.parquet"),
        "the error names the file: {}",
        error.data
    );
    let unchanged = get(&address, &format!("/api/data?{CHART}&start={last}")).await;
    assert_eq!(unchanged, after, "nothing lost: the series as it was");

    // At most max_streams at once: two open, one more fits, the next is refused.
    let _third = Stream::open(&address, CHART, "").await;
    let refused = Stream::open(&address, CHART, "").await;
    assert_eq!(
        refused.status, 503,
        "past http.max_streams, a stream is refused"
    );

    // Closing the server ends every stream.
    live.close();
    assert!(
        stream.ends(Duration::from_secs(3)).await,
        "the stream ends when the server closes"
    );
    assert!(
        again.ends(Duration::from_secs(3)).await,
        "every stream does"
    );
}

/// Writes a run of `trades` (rows of `entry, exit` bar indexes into
/// `bars`) as `runs/name`, staged under a hidden name and renamed into place.
fn write_run(runs: &Path, name: &str, bars: &BarFrame, trades: &[(usize, usize)]) {
    let iso = |i: usize| chrono::DateTime::from_timestamp_nanos(bars.time()[i]).to_rfc3339();
    let mut csv =
        String::from("symbol,side,size,entry_time,entry_price,exit_time,exit_price,pnl\n");
    for &(entry, exit) in trades {
        let (open, close) = (bars.close()[entry], bars.close()[exit]);
        csv.push_str(&format!(
            "TEST:LIVE,long,10,{},{open},{},{close},{}\n",
            iso(entry),
            iso(exit),
            10.0 * (close - open)
        ));
    }
    let staged = runs.join(format!(".{name}.partial"));
    std::fs::create_dir_all(&staged).expect("mkdir");
    std::fs::write(staged.join("trades.csv"), csv).expect("trades");
    std::fs::write(staged.join("run.toml"), "starting_cash = 10000\n").expect("run.toml");
    let folder = runs.join(name);
    if folder.exists() {
        // A run rewritten: its trades file replaced by rename.
        std::fs::rename(staged.join("trades.csv"), folder.join("trades.csv")).expect("rename");
        std::fs::remove_dir_all(&staged).expect("rm");
    } else {
        std::fs::rename(&staged, &folder).expect("rename");
    }
}

/// The next `run` event about `run`, skipping others.
async fn run_event(stream: &mut Stream, run: &str) -> Value {
    loop {
        let event = stream
            .next(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("an event about run '{run}'"));
        assert_eq!(event.event, "run", "{event:?}");
        let data: Value = serde_json::from_str(&event.data).expect("JSON");
        if data["run"] == run {
            return data;
        }
    }
}

/// The entry of `/api/runs` for `run`.
async fn listed(address: &str, run: &str) -> Value {
    let list = get(address, "/api/runs").await;
    list["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["run"] == run)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_appear_change_break_and_go_on_the_runs_stream() {
    let bars = continuous_minutes(2_000, 11);
    let dir = tempfile::tempdir().expect("root");
    let (root, runs) = (dir.path().join("data"), dir.path().join("runs"));
    std::fs::create_dir_all(root.join(SERIES)).expect("folder");
    write_parquet(&bars, &root.join(SERIES).join("bars.parquet")).expect("write");
    std::fs::create_dir_all(&runs).expect("runs");
    write_run(&runs, "first", &bars, &[(10, 50)]);
    let (address, live, _) = serve_live(&root, Some(&runs), 4).await;

    let mut stream = Stream::get(&address, "/api/runs/stream", "").await;
    assert_eq!(stream.status, 200);
    unbuffered_by_proxies(&stream);
    let first = stream.next(Duration::from_secs(5)).await.expect("the list");
    assert_eq!(first.event, "runs");
    let list: Value = serde_json::from_str(&first.data).expect("JSON");
    assert_eq!(
        list,
        get(&address, "/api/runs").await,
        "first, the list as /api/runs answers it"
    );

    write_run(&runs, "second", &bars, &[(100, 200), (300, 310)]);
    let added = run_event(&mut stream, "second").await;
    assert_eq!(added["change"], "added");
    assert_eq!(added["summary"], listed(&address, "second").await);
    assert_eq!(added["summary"]["stats"]["trades"], 2);

    // The first run's trades file rewritten with more trades: shown at once.
    write_run(&runs, "first", &bars, &[(10, 50), (60, 90), (95, 1_500)]);
    let changed = run_event(&mut stream, "first").await;
    assert_eq!(changed["change"], "changed");
    assert_eq!(changed["summary"]["stats"]["trades"], 3);
    let trades = get(&address, "/api/runs/first/trades?timeframe=1m").await;
    assert_eq!(
        trades["trades"].as_array().map(Vec::len),
        Some(3),
        "{trades}"
    );

    // A run that cannot be read any more: broken, with why.
    std::fs::write(
        runs.join("second/trades.csv"),
        "symbol,side\nTEST:LIVE,sideways\n",
    )
    .expect("spoil");
    let broken = run_event(&mut stream, "second").await;
    assert_eq!(broken["change"], "broken");
    assert!(broken["summary"]["error"]["code"].is_string(), "{broken}");
    assert_eq!(broken["summary"], listed(&address, "second").await);

    std::fs::remove_dir_all(runs.join("first")).expect("rm");
    let removed = run_event(&mut stream, "first").await;
    assert_eq!(removed["change"], "removed");
    assert!(removed.get("summary").is_none(), "{removed}");
    assert_eq!(listed(&address, "first").await, Value::Null);

    live.close();
    assert!(
        stream.ends(Duration::from_secs(3)).await,
        "the stream ends when the server closes"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reader_that_stops_reading_is_dropped_and_the_others_are_served() {
    let bars = continuous_minutes(1_000, 3);
    let dir = tempfile::tempdir().expect("root");
    let root = dir.path();
    std::fs::create_dir_all(root.join(SERIES)).expect("folder");
    write_parquet(
        &bars.slice(0..500),
        &root.join(SERIES).join("part-000.parquet"),
    )
    .expect("write");
    let (address, _live, state) = serve_live(root, None, 8).await;
    let query = "symbol=TEST:LIVE&timeframe=1m";
    let mut reading = Stream::open(&address, query, "").await;
    // A reader that never reads: its response's body is not polled at all.
    let stalled = tower::ServiceExt::oneshot(
        candela_server::app::router(state),
        axum::http::Request::get(format!("/api/stream?{query}"))
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await
    .expect("response");
    assert_eq!(stalled.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // More changes than the 16 events a stream holds for its reader.
    let mut received = 0;
    for part in 0..40 {
        let start = 500 + part * 12;
        add_part(
            root,
            &format!("part-{:03}.parquet", part + 1),
            &bars.slice(start..start + 12),
        );
        let event = reading
            .next(Duration::from_secs(5))
            .await
            .expect("the reading stream is served");
        assert_eq!(event.event, "bars");
        received += 1;
    }
    assert_eq!(received, 40, "the reading stream got every change");

    // The stalled one was dropped: what it holds ends, well short of every change.
    let body = tokio::time::timeout(
        Duration::from_secs(5),
        http_body_util::BodyExt::collect(stalled.into_body()),
    )
    .await
    .expect("the stalled stream was ended by the server")
    .expect("its body")
    .to_bytes();
    let events = String::from_utf8_lossy(&body)
        .matches("event: bars")
        .count();
    assert!(
        events < 40,
        "the stalled stream was dropped, not buffered for: {events} events"
    );
    assert!(
        events >= 16,
        "what it was sent before it fell behind is kept: {events} events"
    );
}

/// A stream tells nginx-like proxies to pass each event on as it comes.
fn unbuffered_by_proxies(stream: &Stream) {
    assert!(
        stream
            .headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("x-accel-buffering: no")),
        "{:?}",
        stream.headers
    );
}
