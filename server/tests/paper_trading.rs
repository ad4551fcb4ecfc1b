//! The paper-trading loop of `docs/live.md`, taken from the page and run
//! with the real backtrader against a server that follows its data root and
//! runs folder: every bar it writes live reaches a subscriber of
//! `/api/stream`, its run is pushed on `/api/runs/stream` as it grows, and
//! at the end the server holds the bars replayed and the run backtrader
//! reported. Needs the Python of `CANDELA_PYTHON` (`cargo xtask test` makes it).

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use candela_core::store::Caching;
use candela_core::{Store, StoreConfig};
use serde_json::Value;
use support::sse::{Stream, get, serve_live};
use support::{close, python_with, repo};

/// Bars the loop replays live, and the pause between them (seconds).
const LIVE: usize = 30;
const PACE: &str = "0.25";
const RUN: &str = "paper-sma-cross";

/// The script of `docs/live.md`: its block after "`paper_trading.py`:".
fn script_of_the_page() -> String {
    let page = std::fs::read_to_string(repo().join("docs/live.md")).expect("docs/live.md");
    let (_, rest) = page
        .split_once("`paper_trading.py`:\n\n```python\n")
        .expect("docs/live.md shows paper_trading.py");
    let (script, _) = rest.split_once("\n```").expect("the block ends");
    script.to_owned()
}

/// Collects the events of `stream` until it ends.
fn collect(mut stream: Stream) -> tokio::task::JoinHandle<Vec<(String, Value)>> {
    tokio::spawn(async move {
        let mut events = Vec::new();
        while let Some(event) = stream.next(Duration::from_secs(60)).await {
            let data = serde_json::from_str(&event.data).unwrap_or(Value::Null);
            events.push((event.event, data));
        }
        events
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_paper_trading_loop_of_docs_live_md_is_followed_live() {
    let python = python_with(
        &["backtrader", "pandas", "pyarrow", "candela_runs"],
        "the paper-trading test",
    );
    let source = repo().join("tests/data/market/parquet/ALPACA/YHOO/1d/yhoo_1d.parquet");
    let replayed = {
        let store =
            Store::open(StoreConfig::new(repo().join("tests/data/market/parquet"))).expect("store");
        let plan = store
            .plan("ALPACA:YHOO", "1d".parse().expect("tf"))
            .expect("plan");
        let frame = store.source_frame(&plan, &Caching::Keep).expect("bars");
        let seconds = |t: &i64| t.div_euclid(1_000_000_000);
        let times: Vec<i64> = frame.time().iter().map(seconds).collect();
        (times, frame.close().to_vec())
    };
    let history_last = replayed.0[replayed.0.len() - LIVE - 1];

    let dir = tempfile::tempdir().expect("tmp");
    let (data, runs) = (dir.path().join("data"), dir.path().join("runs"));
    std::fs::create_dir_all(&data).expect("data");
    let script = dir.path().join("paper_trading.py");
    std::fs::write(&script, script_of_the_page()).expect("script");
    let (address, live, _) = serve_live(&data, Some(&runs), 8).await;
    let run_events = collect(Stream::get(&address, "/api/runs/stream", "").await);

    let child = Command::new(&python)
        .arg(&script)
        .args([&data, &runs, &source])
        .args([PACE, &LIVE.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    // The chart opens once the history is there, holding its last bar.
    let opened = Instant::now();
    while !get(&address, "/api/symbols")
        .await
        .to_string()
        .contains("PAPER:YHOO")
    {
        assert!(
            opened.elapsed() < Duration::from_secs(60),
            "the loop's history never showed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bar_events = collect(
        Stream::open(
            &address,
            &format!("symbol=PAPER:YHOO&timeframe=1d&since={history_last}"),
            "",
        )
        .await,
    );
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("the loop ran");
    assert!(
        out.status.success(),
        "paper_trading.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reported: Value = serde_json::from_slice(&out.stdout).expect("the loop's JSON");

    // The run as backtrader reported it, once the folder is read.
    let waited = Instant::now();
    let detail = loop {
        let detail = get(&address, &format!("/api/runs/{RUN}")).await;
        if detail["stats"]["trades"] == reported["trades"] {
            break detail;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "the run served is not the one reported: {detail} vs {reported}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (ours, theirs) = (
        detail["stats"]["final_equity"].as_f64().expect("equity"),
        reported["final_equity"].as_f64().expect("equity"),
    );
    assert!(
        close(ours, theirs),
        "final equity {ours}, backtrader's {theirs}"
    );
    let served = get(&address, "/api/data?symbol=PAPER:YHOO&timeframe=1d").await;
    let times: Vec<i64> = serde_json::from_value(served["bars"]["time"].clone()).expect("times");
    let closes: Vec<f64> = serde_json::from_value(served["bars"]["close"].clone()).expect("closes");
    assert_eq!(
        (times, closes),
        replayed,
        "the series served is the one replayed"
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    live.close();
    let bar_events = bar_events.await.expect("bars stream");
    let run_events = run_events.await.expect("runs stream");

    // Every live bar reached the chart's stream, as it came.
    let mut streamed = BTreeSet::new();
    for (event, data) in &bar_events {
        assert_eq!(event, "bars", "{data}");
        let times: Vec<i64> = serde_json::from_value(data["bars"]["time"].clone()).expect("times");
        streamed.extend(times);
    }
    let live_times: BTreeSet<i64> = replayed.0[replayed.0.len() - LIVE - 1..]
        .iter()
        .copied()
        .collect();
    assert_eq!(
        streamed, live_times,
        "every bar written live was streamed, nothing else"
    );
    assert!(
        bar_events.len() >= 5,
        "the bars came as they were written, not at the end: {} events",
        bar_events.len()
    );

    println!(
        "{LIVE} live bars in {} events; {} run events",
        bar_events.len(),
        run_events.len()
    );
    // The run appeared, then grew as the loop went.
    assert_eq!(run_events.first().map(|e| e.0.as_str()), Some("runs"));
    let changes: Vec<&str> = run_events
        .iter()
        .filter(|(event, data)| event == "run" && data["run"] == RUN)
        .filter_map(|(_, data)| data["change"].as_str())
        .collect();
    assert_eq!(changes.first(), Some(&"added"), "{changes:?}");
    assert!(
        changes.iter().filter(|c| **c == "changed").count() >= 3,
        "the run was pushed as it grew: {changes:?}"
    );
    assert!(!changes.contains(&"broken"), "{changes:?}");
}
