//! The Python package (`python/`) with the real backtrader and
//! backtesting.py: a strategy run in each is written as a run folder, served,
//! and its trade count, net PnL and final equity are what the library itself
//! reported. Needs a Python with `python/tests/requirements.txt` and the
//! package installed, named by `CANDELA_PYTHON`; `cargo xtask test` makes one.

mod support;

use axum::http::StatusCode;
use serde_json::Value;
use support::{close, get, python_with, repo, serve_runs};

#[tokio::test(flavor = "multi_thread")]
async fn backtrader_and_backtesting_runs_show_what_the_libraries_report() {
    let python = python_with(
        &["backtrader", "backtesting", "candela_runs"],
        "the Python integration test",
    );
    let out = tempfile::tempdir().expect("output");
    let made = std::process::Command::new(&python)
        .arg(repo().join("python/tests/make_runs.py"))
        .arg(out.path())
        .output()
        .expect("run make_runs.py");
    assert!(
        made.status.success(),
        "make_runs.py failed:\n{}\n{}",
        String::from_utf8_lossy(&made.stdout),
        String::from_utf8_lossy(&made.stderr)
    );
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("expected.json")).expect("expected.json"),
    )
    .expect("JSON");

    let (state, _folder) = serve_runs(&out.path().join("runs"));
    for (run, theirs) in expected.as_object().expect("runs") {
        let (status, body) = get(&state, &format!("/api/runs/{run}")).await;
        assert_eq!(status, StatusCode::OK, "{run}: {body}");
        let stats = &body["stats"];
        assert_eq!(stats["trades"], theirs["trades"], "{run}: closed trades");
        assert_eq!(
            body["open_trades"], theirs["open_trades"],
            "{run}: open trades"
        );
        for (ours, key) in [("net_pnl", "net_pnl"), ("final_equity", "final_equity")] {
            let (a, b) = (
                stats[ours].as_f64().expect("ours"),
                theirs[key].as_f64().expect("theirs"),
            );
            assert!(close(a, b), "{run}: {ours} is {a}, the library says {b}");
        }
        let (status, trades) = get(&state, &format!("/api/runs/{run}/trades")).await;
        assert_eq!(status, StatusCode::OK, "{run}: {trades}");
        assert_eq!(
            trades["trades"].as_array().expect("trades").len() as u64,
            body["trade_count"].as_u64().expect("count")
        );
    }
}
