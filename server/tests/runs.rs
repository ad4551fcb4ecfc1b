//! Backtest runs through the HTTP API: the list with statistics and broken
//! runs with their reasons, trades placed on the bars of any timeframe,
//! equity sampled per bar, a runs folder changing while serving, and every
//! kind of bad run failing alone.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::Value;
use support::{close, copy_folder, get, repo, serve_runs};

fn fixture(name: &str) -> std::path::PathBuf {
    repo().join("tests/fixtures/runs").join(name)
}

/// A run of trades.csv (and run.toml) text, for the bad-input cases.
fn write_run(runs: &Path, name: &str, trades: &str, manifest: &str) {
    let dir = runs.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("trades.csv"), trades).expect("trades");
    std::fs::write(dir.join("run.toml"), manifest).expect("run.toml");
}

const HEADER: &str = "symbol,side,size,entry_time,entry_price,exit_time,exit_price,pnl\n";
const CASH: &str = "starting_cash = 10000\n";

#[tokio::test(flavor = "multi_thread")]
async fn runs_are_listed_with_statistics_and_broken_ones_with_where_they_break() {
    let runs = tempfile::tempdir().expect("runs");
    copy_folder(
        &fixture("yhoo-sma-cross"),
        &runs.path().join("yhoo-sma-cross"),
    );
    let good = "ALPACA:YHOO,long,10,2004-01-05,40.0,2004-02-02,42.0,19.5\n";
    write_run(runs.path(), "derived", &format!("{HEADER}{good}"), CASH);
    write_run(
        runs.path(),
        "missing-column",
        "symbol,side,size,entry_time,entry_price,exit_time,pnl\nALPACA:YHOO,long,1,2004-01-05,1,2004-01-06,0\n",
        CASH,
    );
    write_run(
        runs.path(),
        "bad-time",
        &format!("{HEADER}{good}ALPACA:YHOO,long,10,2004-13-45,40.0,2004-02-02,42.0,19.5\n"),
        CASH,
    );
    write_run(
        runs.path(),
        "nan-price",
        &format!("{HEADER}{good}ALPACA:YHOO,short,10,2004-01-05,NaN,2004-02-02,42.0,19.5\n"),
        CASH,
    );
    write_run(
        runs.path(),
        "unknown-symbol",
        &format!("{HEADER}ALPACA:NOPE,long,10,2004-01-05,40.0,2004-02-02,42.0,19.5\n"),
        CASH,
    );
    write_run(
        runs.path(),
        "exit-before-entry",
        &format!("{HEADER}{good}ALPACA:YHOO,long,10,2004-03-05,40.0,2004-03-01,42.0,19.5\n"),
        CASH,
    );
    write_run(
        runs.path(),
        "bad-manifest",
        &format!("{HEADER}{good}"),
        "starting_csh = 5\n",
    );
    let huge = runs.path().join("huge");
    std::fs::create_dir_all(&huge).expect("mkdir");
    // Sparse: 2 GiB claimed, nothing written; refused by its size, unread.
    std::fs::File::create(huge.join("trades.parquet"))
        .and_then(|f| f.set_len(2 << 30))
        .expect("sparse file");

    let (state, _folder) = serve_runs(runs.path());
    let (status, body) = get(&state, "/api/runs").await;
    assert_eq!(status, StatusCode::OK);
    let by_id = |id: &str| -> Value {
        body["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .find(|r| r["run"] == id)
            .unwrap_or_else(|| panic!("{id} is listed"))
            .clone()
    };
    let listed = by_id("yhoo-sma-cross");
    assert_eq!(listed["name"], "SmaCross on ALPACA:YHOO");
    assert_eq!(listed["symbols"], serde_json::json!(["ALPACA:YHOO"]));
    assert_eq!(listed["stats"]["trades"], 178);
    assert!(listed.get("error").is_none());
    let derived = by_id("derived");
    assert_eq!(derived["stats"]["trades"], 1);
    assert!(close(
        derived["stats"]["final_equity"].as_f64().expect("equity"),
        10_019.5
    ));

    let broken = |id: &str, code: &str, row: Option<Value>, column: Option<&str>, says: &str| {
        let run = by_id(id);
        let error = &run["error"];
        assert_eq!(error["code"], code, "{id}: {error}");
        let message = error["message"].as_str().expect("message");
        assert!(message.contains(&format!("run '{id}'")), "{id}: {message}");
        assert!(message.contains(says), "{id}: {message}");
        assert_eq!(error.get("row").cloned(), row, "{id}: {error}");
        assert_eq!(error["column"].as_str(), column, "{id}: {error}");
        assert!(run.get("stats").is_none());
    };
    let line = |n: u64| Some(serde_json::json!({ "line": n }));
    broken(
        "missing-column",
        "run_invalid",
        None,
        None,
        "no exit_price column",
    );
    broken(
        "bad-time",
        "run_invalid",
        line(3),
        Some("entry_time"),
        "'2004-13-45'",
    );
    broken(
        "nan-price",
        "run_invalid",
        line(3),
        Some("entry_price"),
        "NaN",
    );
    broken(
        "unknown-symbol",
        "run_symbol",
        line(2),
        Some("symbol"),
        "ALPACA:NOPE",
    );
    broken(
        "exit-before-entry",
        "run_invalid",
        line(3),
        Some("exit_time"),
        "before the entry",
    );
    broken("bad-manifest", "run_invalid", None, None, "starting_csh");
    broken("huge", "run_too_large", None, None, "max_run_file_mb");

    // A broken run's own URLs say why, with where; the others keep working.
    let (status, error) = get(&state, "/api/runs/bad-time").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["run"], "bad-time");
    assert_eq!(error["error"]["place"]["column"], "entry_time");
    let (status, error) = get(&state, "/api/runs/no-such-run/trades").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["code"], "unknown_run");
    let (status, _) = get(&state, "/api/data?symbol=ALPACA:YHOO&timeframe=1w").await;
    assert_eq!(status, StatusCode::OK);

    // The OpenAPI document describes the runs API.
    let (_, openapi) = get(&state, "/api/openapi.json").await;
    for path in [
        "/api/runs",
        "/api/runs/{run}",
        "/api/runs/{run}/trades",
        "/api/runs/{run}/equity",
    ] {
        assert!(
            openapi["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn trades_land_on_the_candles_of_any_timeframe() {
    let runs = tempfile::tempdir().expect("runs");
    copy_folder(&fixture("yhoo-sma-cross"), &runs.path().join("yhoo"));
    let (state, _folder) = serve_runs(runs.path());
    let (_, detail) = get(&state, "/api/runs/yhoo").await;
    for timeframe in ["1d", "1w", "1M", "3d"] {
        let (status, body) = get(
            &state,
            &format!("/api/runs/yhoo/trades?timeframe={timeframe}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["timeframe"], timeframe);
        let (_, data) = get(
            &state,
            &format!("/api/data?symbol=ALPACA:YHOO&timeframe={timeframe}"),
        )
        .await;
        let bars: Vec<i64> = data["bars"]["time"]
            .as_array()
            .expect("times")
            .iter()
            .map(|t| t.as_i64().expect("time"))
            .collect();
        let trades = body["trades"].as_array().expect("trades");
        assert_eq!(
            trades.len(),
            detail["trade_count"].as_u64().expect("count") as usize
        );
        for trade in trades {
            for (time, bar) in [("entry_time", "entry_bar"), ("exit_time", "exit_bar")] {
                let t = trade[time].as_i64().expect("time");
                let start = trade[bar].as_i64().expect("bar");
                let i = bars.binary_search(&start).unwrap_or_else(|_| {
                    panic!("{timeframe}: {bar} {start} is a candle of /api/data")
                });
                assert!(
                    start <= t,
                    "{timeframe}: the bar starts at or before the {time}"
                );
                if let Some(next) = bars.get(i + 1) {
                    assert!(t < *next, "{timeframe}: the {time} is before the next bar");
                }
            }
            let held = trade["bars_held"].as_u64().expect("bars held") as usize;
            let entry = bars
                .binary_search(&trade["entry_bar"].as_i64().expect("bar"))
                .expect("bar");
            let exit = bars
                .binary_search(&trade["exit_bar"].as_i64().expect("bar"))
                .expect("bar");
            assert_eq!(held, exit - entry);
            let pnl = trade["pnl"].as_f64().expect("pnl");
            let size = trade["size"].as_f64().expect("size");
            let entry_price = trade["entry_price"].as_f64().expect("price");
            assert!(close(
                trade["return_pct"].as_f64().expect("return"),
                pnl / (size * entry_price) * 100.0
            ));
        }
    }
    // A window: only the trades open in it.
    let (_, window) = get(
        &state,
        "/api/runs/yhoo/trades?timeframe=1d&start=2008-01-01&end=2008-12-31",
    )
    .await;
    let inside = window["trades"].as_array().expect("trades");
    assert!(!inside.is_empty() && inside.len() < 178);
    let (start, end) = (1_199_145_600, 1_230_767_999);
    for trade in inside {
        assert!(trade["entry_time"].as_i64().expect("t") <= end);
        assert!(trade["exit_time"].as_i64().expect("t") >= start);
    }
    for (uri, status, param) in [
        (
            "/api/runs/yhoo/trades?timeframe=7x",
            StatusCode::BAD_REQUEST,
            "timeframe",
        ),
        (
            "/api/runs/yhoo/trades?symbol=ALPACA:ORCL",
            StatusCode::NOT_FOUND,
            "symbol",
        ),
        (
            "/api/runs/yhoo/trades?start=2009-01-01&end=2008-01-01",
            StatusCode::BAD_REQUEST,
            "start",
        ),
        (
            "/api/runs/yhoo/equity?timeframe=5m",
            StatusCode::UNPROCESSABLE_ENTITY,
            "timeframe",
        ),
    ] {
        let (got, body) = get(&state, uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert_eq!(body["error"]["param"], param, "{uri}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn equity_is_one_point_per_bar_with_the_last_value_of_each() {
    let runs = tempfile::tempdir().expect("runs");
    copy_folder(&fixture("btfut-1m-breakout"), &runs.path().join("btfut"));
    let (state, folder) = serve_runs(runs.path());
    let run = match folder.snapshot().get("btfut") {
        Some(Ok(run)) => run.clone(),
        other => panic!("run: {other:?}"),
    };
    let (_, native) = get(&state, "/api/runs/btfut/equity").await;
    assert_eq!(native["timeframe"], "1m");
    let points = native["equity"]["time"].as_array().expect("time").len();
    assert_eq!(points, run.equity.time.len(), "one point per stored bar");
    let drawdown: Vec<f64> = native["equity"]["drawdown_pct"]
        .as_array()
        .expect("drawdown")
        .iter()
        .map(|d| d.as_f64().expect("number"))
        .collect();
    assert!(drawdown.iter().all(|d| *d <= 0.0));
    let deepest = drawdown.iter().copied().fold(0.0, f64::min);
    assert!(
        close(deepest, run.stats.max_drawdown_pct),
        "{deepest} vs {}",
        run.stats.max_drawdown_pct
    );

    let (_, hourly) = get(&state, "/api/runs/btfut/equity?timeframe=1h").await;
    let times: Vec<i64> = hourly["equity"]["time"]
        .as_array()
        .expect("time")
        .iter()
        .map(|t| t.as_i64().expect("t"))
        .collect();
    let values = hourly["equity"]["equity"].as_array().expect("equity");
    assert!(times.windows(2).all(|w| w[0] < w[1]));
    for (i, start) in times.iter().enumerate() {
        let end = times.get(i + 1).copied().unwrap_or(i64::MAX);
        let last = run
            .equity
            .time
            .iter()
            .rposition(|t| t.div_euclid(1_000_000_000) < end)
            .expect("a point in the bin");
        assert!(run.equity.time[last].div_euclid(1_000_000_000) >= *start);
        let value = values[i].as_f64().expect("a number");
        assert!(
            close(value, run.equity.equity[last]),
            "bin {start}: {value}"
        );
    }
    assert_eq!(
        hourly["equity"]["cash"],
        Value::Null,
        "backtesting.py's curve has no cash"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_written_while_serving_appears_and_a_removed_one_goes() {
    let runs = tempfile::tempdir().expect("runs");
    let (state, _folder) = serve_runs(runs.path());
    let (_, empty) = get(&state, "/api/runs").await;
    assert_eq!(empty["runs"], serde_json::json!([]));

    // Written as the Python package writes: a hidden folder, then renamed.
    let hidden = runs.path().join(".yhoo.partial");
    copy_folder(&fixture("yhoo-sma-cross-csv"), &hidden);
    std::fs::rename(&hidden, runs.path().join("yhoo")).expect("rename");
    let listed = |body: &Value| body["runs"].as_array().map_or(0, Vec::len);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (_, body) = get(&state, "/api/runs").await;
        if listed(&body) == 1 {
            assert_eq!(body["runs"][0]["stats"]["trades"], 178);
            break;
        }
        assert!(Instant::now() < deadline, "the new run shows within 2 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::remove_dir_all(runs.path().join("yhoo")).expect("remove");
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (_, body) = get(&state, "/api/runs").await;
        if listed(&body) == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the removed run goes within 2 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_joins_a_run_with_bars_and_indicators() {
    let runs = tempfile::tempdir().expect("runs");
    copy_folder(&fixture("yhoo-sma-cross"), &runs.path().join("yhoo"));
    copy_folder(&fixture("btfut-1m-breakout"), &runs.path().join("btfut"));
    let (state, _folder) = serve_runs(runs.path());
    // The RSI at every entry, as the SQL console's example asks.
    let sql = "SELECT t.side, t.entry_time, t.pnl, b.rsi \
               FROM trades t \
               JOIN (SELECT time, rsi(close, 14) OVER (ORDER BY time) AS rsi \
                     FROM bars('ALPACA:YHOO', '1d')) b ON b.time = t.entry_time \
               WHERE t.run = 'yhoo' ORDER BY t.entry_time";
    let (status, body) = support::post_sql(&state, sql).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = body["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 178, "every entry is on a bar");
    assert!(rows.iter().all(|r| {
        r[3].as_f64()
            .is_some_and(|rsi| (0.0..=100.0).contains(&rsi))
    }));

    let sql = "SELECT run, count(*) AS points, min(drawdown_pct) AS deepest FROM equity GROUP BY run ORDER BY run";
    let (status, body) = support::post_sql(&state, sql).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, yhoo) = get(&state, "/api/runs/yhoo").await;
    let deepest = body["rows"][1][2].as_f64().expect("deepest");
    assert_eq!(body["rows"][1][0], "yhoo");
    assert!(close(
        deepest,
        yhoo["stats"]["max_drawdown_pct"].as_f64().expect("stat")
    ));
}
