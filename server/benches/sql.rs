//! SQL against the paths it must keep up with, on 1,000,000 one-minute bars:
//!
//! - `rsi/…`: RSI(14) with the bars, through the router: `/api/data` (JSON)
//!   against `/api/sql` as JSON and as an Arrow stream;
//! - `bars_1h/…`: the bars aggregated to 1h, in memory: the direct
//!   aggregation (`Engine::aggregate`) against `bars('X', '1h')` in SQL.
//!
//! `cargo bench -p candela-server --bench sql --profile dev` (the dev profile
//! builds dependencies at opt-level 1, both sides alike; a release build of
//! DataFusion takes over half an hour on two cores).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use candela_core::synthetic::{continuous_minutes, write_parquet};
use candela_core::{Engine, Store, StoreConfig, Timeframe};
use candela_server::state::AppState;
use candela_sql::{SqlCatalog, SqlLimits, SqlService};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};

mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BARS: usize = 1_000_000;

const RSI_SQL: &str = "SELECT time, open, high, low, close, volume, \
                       rsi(close, 14) OVER (ORDER BY time) AS rsi FROM bars('SYNTH:BENCH', '1m')";

fn sql(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("tempdir");
    let folder = root.path().join("SYNTH/BENCH/1m");
    std::fs::create_dir_all(&folder).expect("mkdir");
    write_parquet(&continuous_minutes(BARS, 42), &folder.join("bars.parquet")).expect("write");
    let store = Arc::new(Store::open(StoreConfig::new(root.path())).expect("store"));
    let limits = SqlLimits {
        max_rows: 2 * BARS,
        time_limit: std::time::Duration::from_secs(120),
        ..SqlLimits::default()
    };
    let engine = Arc::new(Engine::new(Arc::clone(&store), 2).expect("engine"));
    let state = AppState::new(
        Arc::clone(&engine),
        Arc::new(candela_indicators::registry()),
        limits.clone(),
        None,
    )
    .expect("state");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    let fetch = |request: Request<Body>| support::send(&runtime, &state, request);
    let post = |accept: &'static str| {
        Request::post("/api/sql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(Body::from(
                serde_json::json!({ "sql": RSI_SQL }).to_string(),
            ))
            .expect("request")
    };
    // Warm the bar cache so that every variant starts from memory.
    fetch(support::get(
        "/api/data?symbol=SYNTH:BENCH&timeframe=1m&limit=1",
    ));

    let mut rsi = c.benchmark_group("rsi");
    rsi.sample_size(10);
    rsi.bench_function("api_data_json", |b| {
        b.iter(|| {
            fetch(support::get(
                "/api/data?symbol=SYNTH:BENCH&timeframe=1m&indicators=rsi(14)&limit=1000000",
            ))
        })
    });
    rsi.bench_function("api_sql_json", |b| {
        b.iter(|| fetch(post("application/json")))
    });
    rsi.bench_function("api_sql_arrow", |b| {
        b.iter(|| fetch(post("application/vnd.apache.arrow.stream")))
    });
    rsi.finish();

    let sql = SqlService::new(
        SqlCatalog {
            store: Arc::clone(&store),
            indicators: Arc::new(candela_indicators::registry()),
            tables: Vec::new(),
        },
        limits,
    )
    .expect("sql");
    let source = runtime
        .block_on(engine.bars("SYNTH:BENCH", "1m".parse().expect("tf")))
        .expect("bars")
        .frame;
    let hour: Timeframe = "1h".parse().expect("tf");
    let mut bars = c.benchmark_group("bars_1h");
    bars.sample_size(20);
    bars.bench_function("direct", |b| {
        b.iter(|| {
            runtime
                .block_on(engine.aggregate(Arc::clone(&source), hour, Tz::UTC))
                .expect("aggregate")
                .len()
        })
    });
    bars.bench_function("sql", |b| {
        b.iter(|| {
            runtime
                .block_on(sql.query("SELECT * FROM bars('SYNTH:BENCH', '1h')"))
                .expect("query")
                .rows()
        })
    });
    bars.finish();
}

criterion_group!(benches, sql);
criterion_main!(benches);
