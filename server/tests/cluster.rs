//! SQL on Ballista: Ballista's standalone cluster inside the server, and a
//! cluster of processes (`candela scheduler` and two `candela executor`s)
//! reading the bars and runs from a bucket of moto's S3 server, each answer
//! the same bytes as the local engine's, over every table, operator and
//! window function of the catalog and a screen across symbols; the guard
//! and the limits hold before a query leaves, and a query over its time
//! limit is cancelled on the cluster.

mod process;
mod support;

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use candela_cluster::Ballista;
use candela_core::synthetic::{self, SeriesSpec};
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use chrono::{NaiveDate, TimeDelta};
use http_body_util::BodyExt;
use process::Candela;
use serde_json::{Value, json};
use support::moto::{self, Moto};
use tower::ServiceExt;

/// Symbols of daily bars for the screen, beside the sample data.
const SCREENED: usize = 40;

/// The screen of the issue: RSI(14) of the daily bars of every symbol, the
/// last value per symbol below 30.
const SCREEN: &str = "WITH rsi AS (\
        SELECT symbol, time, rsi(close, 14) OVER (PARTITION BY symbol ORDER BY time) AS rsi \
        FROM bars WHERE timeframe = '1d'), \
     last AS (\
        SELECT symbol, time, rsi, row_number() OVER (PARTITION BY symbol ORDER BY time DESC) AS n \
        FROM rsi) \
     SELECT symbol, time, rsi FROM last WHERE n = 1 AND rsi < 30 ORDER BY symbol";

/// Every part of the catalog, in the shapes users write: each query's rows
/// are in a defined order, so that answers compare byte for byte.
fn queries() -> Vec<String> {
    let mut queries: Vec<String> = [
        // A stored timeframe, every indicator kind: one output, a struct, the time.
        "SELECT time, open, high, low, close, volume, rsi(close, 14) OVER w AS rsi, \
                macd(close, 12, 26, 9) OVER w AS macd, \
                vwap(time, high, low, close, volume) OVER w AS vwap, \
                bbands(close, 20, 2) OVER w AS bbands \
         FROM bars('NFLX', '1h') WINDOW w AS (ORDER BY time)",
        // Aggregated timeframes: the resample operator.
        "SELECT * FROM bars('EXPE', '4h') ORDER BY time",
        "SELECT time, close, sma(close, 5) OVER (ORDER BY time) AS sma FROM bars('NFLX', '1w') ORDER BY time",
        // An indicator of an expression, and of an indicator's field.
        "SELECT time, ema(close - open, 9) OVER (ORDER BY time) AS e FROM bars('AAPL', '1d') ORDER BY time",
        // The bars table: pruned by its keys, grouped.
        "SELECT symbol, timeframe, count(*) AS n, min(time) AS first, max(close) AS top \
         FROM bars GROUP BY symbol, timeframe ORDER BY symbol, timeframe",
        "SELECT time, close FROM bars WHERE symbol = 'NFLX' ORDER BY time DESC LIMIT 100",
        // Bounds on time, which skip row groups.
        "SELECT time, close FROM bars('EXPE', '1m') \
         WHERE time >= TIMESTAMP '2024-03-08 15:00:00' AND time < TIMESTAMP '2024-03-12 10:00:00' ORDER BY time",
        "SELECT symbol, count(*) AS n FROM bars \
         WHERE time BETWEEN TIMESTAMP '2023-01-01 00:00:00' AND TIMESTAMP '2023-06-30 00:00:00' \
         GROUP BY symbol ORDER BY symbol",
        // Symbols side by side: a join, and a union with a window over it.
        "SELECT a.time, a.close / b.close AS ratio FROM bars('NFLX', '1d') a \
         JOIN bars('AAPL', '1d') b ON a.time = b.time ORDER BY a.time",
        "SELECT symbol, time, close, lag(close) OVER (PARTITION BY symbol ORDER BY time) AS before \
         FROM (SELECT 'NFLX' AS symbol, time, close FROM bars('NFLX', '1d') \
               UNION ALL SELECT 'AAPL', time, close FROM bars('AAPL', '1d')) ORDER BY symbol, time",
        // The runs.
        "SELECT * FROM trades ORDER BY run, entry_time, side",
        "SELECT run, count(*) AS n, sum(pnl) AS pnl, avg(return_pct) AS mean FROM trades GROUP BY run ORDER BY run",
        "SELECT run, count(*) AS points, min(drawdown_pct) AS deepest, max(equity) AS top \
         FROM equity GROUP BY run ORDER BY run",
        "SELECT t.run, t.entry_time, b.close FROM trades t \
         JOIN bars('NFLX', '1h') b ON b.time = t.entry_time ORDER BY t.run, t.entry_time",
        // DataFusion's own functions.
        "SELECT date_trunc('month', time) AS month, avg(close) AS mean, stddev(close) AS sd \
         FROM bars('AAPL', '1d') GROUP BY 1 ORDER BY 1",
        "SELECT value, value * value AS square FROM generate_series(1, 1000) ORDER BY value",
        "SELECT 1 AS one",
        // The screen, and the last values it filters.
        SCREEN,
    ]
    .map(String::from)
    .to_vec();
    queries.push(SCREEN.replace(" AND rsi < 30", ""));
    queries
}

/// The sample data, `SCREENED` symbols of daily bars (SCREEN:S00…), and
/// the sample runs, in folders.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        candela_server::sample_data::write(&data, None).expect("sample data");
        for n in 0..SCREENED {
            let frame = SeriesSpec {
                start_price: 50.0 + n as f64,
                daily_volatility: 0.03,
                ..SeriesSpec::us_stock(
                    1_000 + n as u64,
                    NaiveDate::from_ymd_opt(2023, 1, 2).expect("day"),
                    NaiveDate::from_ymd_opt(2024, 6, 28).expect("day"),
                    TimeDelta::days(1),
                )
            }
            .generate();
            let folder = data.join(format!("SCREEN/S{n:02}/1d"));
            std::fs::create_dir_all(&folder).expect("folder");
            synthetic::write_parquet(&frame, &folder.join("bars.parquet")).expect("parquet");
        }
        candela_server::sample_runs::write(&dir.path().join("runs")).expect("sample runs");
        World { dir }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn runs(&self) -> std::path::PathBuf {
        self.dir.path().join("runs")
    }
}

async fn post(state: &AppState, sql: &str) -> (StatusCode, Vec<u8>) {
    let request = Request::post("/api/sql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "sql": sql }).to_string()))
        .expect("request");
    let response = candela_server::app::router(state.clone())
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body.to_vec())
}

/// The rows of an answer that is an array of rows.
fn rows(body: &[u8]) -> Vec<Value> {
    let value: Value = serde_json::from_slice(body).expect("JSON");
    value["rows"].as_array().cloned().unwrap_or_default()
}

/// A server on `world`'s folders within `limits`, and the same server with
/// its SQL on Ballista's standalone cluster.
fn local_and_standalone(world: &World, limits: SqlLimits) -> (AppState, AppState) {
    let (local, _) = support::serve_root_and_runs(&world.data(), &world.runs());
    let local = AppState::new(
        Arc::clone(&local.engine),
        Arc::clone(&local.indicators),
        limits.clone(),
        local.runs.clone(),
    )
    .expect("state");
    let cluster =
        Ballista::standalone(local.sql.catalog().clone(), &limits).expect("a standalone cluster");
    let remote = local.clone().with_sql_on(Arc::new(cluster)).expect("state");
    (local, remote)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_standalone_cluster_answers_every_query_as_the_local_engine() {
    let world = World::new();
    let (local, cluster) = local_and_standalone(&world, SqlLimits::default());
    for sql in queries() {
        let (status, expected) = post(&local, &sql).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{sql}: {}",
            String::from_utf8_lossy(&expected)
        );
        let (status, got) = post(&cluster, &sql).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{sql}: {}",
            String::from_utf8_lossy(&got)
        );
        assert!(
            got == expected,
            "{sql}\nlocal:   {}\ncluster: {}",
            String::from_utf8_lossy(&expected[..expected.len().min(600)]),
            String::from_utf8_lossy(&got[..got.len().min(600)])
        );
    }
    let screened = rows(&post(&local, SCREEN).await.1);
    assert!(
        !screened.is_empty() && screened.len() < SCREENED,
        "the screen keeps some symbols, not all: {screened:?}"
    );
    println!(
        "{} queries, equal; the screen kept {} of {} symbols",
        queries().len(),
        screened.len(),
        SCREENED + 3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn on_the_cluster_the_guard_and_the_limits_hold_and_a_late_query_is_cancelled() {
    let world = World::new();
    let limits = SqlLimits {
        time_limit: Duration::from_millis(800),
        max_rows: 1_000,
        ..SqlLimits::default()
    };
    let (_, cluster) = local_and_standalone(&world, limits);
    for (sql, status, code) in [
        ("DROP TABLE bars", StatusCode::BAD_REQUEST, "sql_refused"),
        (
            "COPY (SELECT 1) TO '/tmp/candela-cluster-copy.csv'",
            StatusCode::BAD_REQUEST,
            "sql_refused",
        ),
        (
            "SELECT * FROM bars('NOPE', '1d')",
            StatusCode::BAD_REQUEST,
            "sql_invalid",
        ),
        (
            "SELECT count(*) FROM generate_series(1, 200000) a \
             JOIN generate_series(1, 200000) b ON a.value % 2 = b.value % 2",
            StatusCode::UNPROCESSABLE_ENTITY,
            "sql_time_limit",
        ),
    ] {
        let started = Instant::now();
        let (got, body) = post(&cluster, sql).await;
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(got, status, "{sql}: {body}");
        assert_eq!(body["error"]["code"], code, "{sql}: {body}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{sql}: answered after {:?}",
            started.elapsed()
        );
    }
    assert!(!Path::new("/tmp/candela-cluster-copy.csv").exists());
    // Cut at the row cap, and marked so.
    let (status, body) = post(&cluster, "SELECT * FROM bars('EXPE', '1m')").await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(body["rows"].as_array().map(Vec::len), Some(1_000));
    assert_eq!(body["truncated"], true);
    // The cluster still serves after what was cancelled.
    let (status, body) = post(&cluster, "SELECT count(*) AS n FROM bars('AAPL', '1d')").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

/// A free loopback port (free when asked; the process binds it just after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn a_scheduler_and_two_executors_on_a_bucket_answer_as_the_local_engine() {
    let world = World::new();
    let moto = Moto::start();
    Moto::upload(&moto.bucket("bars"), &world.data(), "market");
    Moto::upload(&moto.bucket("runs"), &world.runs(), "team");
    let dir = tempfile::tempdir().expect("tempdir");
    let scheduler_port = free_port();
    std::fs::write(
        dir.path().join("candela.toml"),
        format!(
            "[storage]\nendpoint = \"{}\"\nallow_http = true\n\n\
             [sql]\nthreads = 1\nengine = \"ballista\"\nscheduler = \"df://127.0.0.1:{scheduler_port}\"\n",
            moto.endpoint
        ),
    )
    .expect("config");
    // `candela scheduler …` and `candela executor …` on the bucket.
    let on_bucket = |args: &[&str]| {
        let mut command = Candela::command();
        command
            .current_dir(dir.path())
            .args(args)
            .args(["--data", "s3://bars/market", "--runs", "s3://runs/team"])
            .envs(moto::ENV)
            .env("RUST_LOG", "info");
        command
    };
    let scheduler = Candela::start_until(
        &mut on_bucket(&[
            "scheduler",
            "--bind",
            &format!("127.0.0.1:{scheduler_port}"),
        ]),
        "listening on",
    );
    let url = format!("df://127.0.0.1:{scheduler_port}");
    let executors: Vec<Candela> = (0..2)
        .map(|_| {
            Candela::start_until(
                &mut on_bucket(&[
                    "executor",
                    "--scheduler",
                    &url,
                    "--bind",
                    &format!("127.0.0.1:{}", free_port()),
                    "--grpc-port",
                    &free_port().to_string(),
                ]),
                "Connected to scheduler",
            )
        })
        .collect();
    let server = Candela::serve(
        Candela::on_roots(
            dir.path(),
            "s3://bars/market".as_ref(),
            "s3://runs/team".as_ref(),
            "127.0.0.1:0",
        )
        .envs(moto::ENV),
    );
    assert!(
        server
            .started
            .iter()
            .any(|line| line.contains("Ballista cluster of df://")),
        "the server says where its SQL runs"
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (local, _) = support::serve_root_and_runs(&world.data(), &world.runs());
    for sql in queries() {
        let (status, expected) = runtime.block_on(post(&local, &sql));
        assert_eq!(status, StatusCode::OK, "{sql}");
        let (status, got) = server.post_json("/api/sql", &json!({ "sql": sql }).to_string());
        assert_eq!(status, 200, "{sql}: {got}");
        assert!(
            got.as_bytes() == expected.as_slice(),
            "{sql}\nlocal:   {}\ncluster: {}",
            String::from_utf8_lossy(&expected[..expected.len().min(600)]),
            &got[..got.len().min(600)]
        );
    }
    println!(
        "{} queries on 1 scheduler and {} executors over s3://bars, equal to the local engine's",
        queries().len(),
        executors.len()
    );
    drop(scheduler);
}
