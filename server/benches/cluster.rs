//! The screen of distributed SQL — RSI(14) of the daily bars of every
//! symbol, the last value per symbol below 30 — over 200 symbols × one year
//! of one-minute bars (regular US hours, 19.6 million bars), run by the
//! local engine and by a cluster of one `candela scheduler` and two
//! `candela executor`s on this machine, reading the same folder.
//!
//! `cargo bench -p candela-server --bench cluster --profile dev`. The bars
//! are written once, into the system's temporary folder, and kept for the
//! next run. With two cores, the cluster is not expected to be faster: its
//! two executors share the cores the local engine uses, and add the
//! shuffles between stages.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use candela_cluster::{Ballista, SchedulerUrl};
use candela_core::synthetic::{self, SeriesSpec};
use candela_core::{Store, StoreConfig};
use candela_sql::{SqlCatalog, SqlLimits, SqlService};
use chrono::{NaiveDate, TimeDelta};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../tests/process/mod.rs"]
mod process;

use process::Candela;

const SYMBOLS: usize = 200;

/// Daily bars from the minutes (the last close of each day), RSI over them
/// per symbol, the last value per symbol, kept below 30.
const SCREEN: &str = "WITH daily AS (\
        SELECT symbol, date_trunc('day', time) AS day, last_value(close ORDER BY time) AS close \
        FROM bars WHERE timeframe = '1m' GROUP BY symbol, date_trunc('day', time)), \
     rsi AS (\
        SELECT symbol, day, rsi(close, 14) OVER (PARTITION BY symbol ORDER BY day) AS rsi FROM daily), \
     last AS (\
        SELECT symbol, rsi, row_number() OVER (PARTITION BY symbol ORDER BY day DESC) AS n FROM rsi) \
     SELECT symbol, rsi FROM last WHERE n = 1 AND rsi < 30 ORDER BY symbol";

/// 200 symbols of one-minute bars for 2023, written once.
fn market() -> PathBuf {
    let root = std::env::temp_dir().join("candela-bench-screen-200x1y");
    let done = root.join("complete");
    if done.exists() {
        return root;
    }
    for n in 0..SYMBOLS {
        let frame = SeriesSpec {
            start_price: 20.0 + n as f64,
            daily_volatility: 0.03,
            ..SeriesSpec::us_stock(
                7_000 + n as u64,
                NaiveDate::from_ymd_opt(2023, 1, 2).expect("day"),
                NaiveDate::from_ymd_opt(2023, 12, 29).expect("day"),
                TimeDelta::minutes(1),
            )
        }
        .generate();
        let folder = root.join(format!("BENCH/S{n:03}/1m"));
        std::fs::create_dir_all(&folder).expect("folder");
        synthetic::write_parquet(&frame, &folder.join("bars.parquet")).expect("parquet");
    }
    std::fs::write(&done, "").expect("marker");
    root
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `candela ARGS` in `dir` over the data root `data`.
fn candela(dir: &Path, data: &Path, args: &[&str]) -> std::process::Command {
    let mut command = Candela::command();
    command
        .current_dir(dir)
        .args(args)
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn,ballista_executor::executor_process=info,ballista_scheduler::scheduler_process=info");
    command
}

fn screen(c: &mut Criterion) {
    let data = market();
    let limits = SqlLimits {
        time_limit: Duration::from_secs(600),
        ..SqlLimits::default()
    };
    let store = Arc::new(Store::open(StoreConfig::new(&data)).expect("store"));
    let catalog = SqlCatalog {
        store,
        indicators: Arc::new(candela_indicators::registry()),
        tables: Vec::new(),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let local = SqlService::new(catalog.clone(), limits.clone()).expect("local");

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("candela.toml"), "[sql]\nthreads = 1\n").expect("config");
    let port = free_port();
    let _scheduler = Candela::start_until(
        &mut candela(
            dir.path(),
            &data,
            &["scheduler", "--bind", &format!("127.0.0.1:{port}")],
        ),
        "listening on",
    );
    let url = format!("df://127.0.0.1:{port}");
    let _executors: Vec<Candela> = (0..2)
        .map(|_| {
            let (flight, grpc) = (free_port().to_string(), free_port().to_string());
            Candela::start_until(
                &mut candela(
                    dir.path(),
                    &data,
                    &[
                        "executor",
                        "--scheduler",
                        &url,
                        "--bind",
                        &format!("127.0.0.1:{flight}"),
                        "--grpc-port",
                        &grpc,
                    ],
                ),
                "Connected to scheduler",
            )
        })
        .collect();
    let scheduler: SchedulerUrl = url.parse().expect("url");
    let cluster = SqlService::on(
        Arc::new(Ballista::connect(scheduler, catalog.clone())),
        catalog,
        limits,
    )
    .expect("cluster");

    let run = |sql: &SqlService| {
        let answer = runtime.block_on(sql.query(SCREEN)).expect("the screen");
        answer.rows()
    };
    let (kept_local, kept_cluster) = (run(&local), run(&cluster));
    assert_eq!(kept_local, kept_cluster, "both keep the same symbols");
    println!("the screen keeps {kept_local} of {SYMBOLS} symbols");

    let mut group = c.benchmark_group("screen_200x1y_1m");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("local", |b| b.iter(|| run(&local)));
    group.bench_function("cluster_2_executors", |b| b.iter(|| run(&cluster)));
    group.finish();
}

criterion_group!(benches, screen);
criterion_main!(benches);
