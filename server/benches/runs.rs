//! The backtest API on a long run: 10,000 trades over 1,000,000 one-minute
//! bars (`candela sample-data --long`'s run), through the router, from a
//! warm bar cache:
//!
//! - `trades/1m`, `trades/1h`: every trade placed on the bars of 1m (as
//!   stored) and of 1h (aggregated);
//! - `trades/window_1d`: the trades of one day, as the chart asks when it
//!   pages;
//! - `equity/1h`: the equity curve sampled per hour.
//!
//! `cargo bench -p candela-server --bench runs --profile dev` (see
//! `benches/sql.rs` for why not release); the target is a median under
//! 20 ms for `trades/1m`.

use std::sync::Arc;

use candela_backtest::{FileLimits, RunsFolder};
use candela_core::storage::DataRoot;
use candela_core::{Engine, Store, StoreConfig};
use candela_server::sample_runs::LONG_RUN;
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use criterion::{Criterion, criterion_group, criterion_main};

mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BARS: usize = 1_000_000;

fn runs(c: &mut Criterion) {
    let data = tempfile::tempdir().expect("data root");
    let runs = tempfile::tempdir().expect("runs");
    candela_server::sample_data::write(data.path(), Some(BARS)).expect("bars");
    candela_server::sample_runs::write_long(runs.path(), BARS).expect("run");
    let store = Arc::new(Store::open(StoreConfig::new(data.path())).expect("store"));
    let folder = Arc::new(
        RunsFolder::open(
            DataRoot::Folder(runs.path().to_owned()),
            Arc::clone(&store),
            FileLimits::default(),
        )
        .expect("runs folder"),
    );
    let engine = Arc::new(Engine::new(store, 2).expect("engine"));
    let state = AppState::new(
        engine,
        Arc::new(candela_indicators::registry()),
        SqlLimits::default(),
        Some(folder),
    )
    .expect("state");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fetch = |uri: &str| support::send(&runtime, &state, support::get(uri));
    let base = format!("/api/runs/{LONG_RUN}");
    // Warm the bar cache: the chart has asked for these bars already.
    for tf in ["1m", "1h"] {
        fetch(&format!(
            "/api/data?symbol=SYNTH:LONG&timeframe={tf}&limit=1"
        ));
    }
    let bytes = fetch(&format!("{base}/trades?timeframe=1m"));
    println!("trades/1m answers {bytes} bytes of JSON");

    let mut trades = c.benchmark_group("trades");
    trades.sample_size(30);
    for tf in ["1m", "1h"] {
        let uri = format!("{base}/trades?timeframe={tf}");
        trades.bench_function(tf, |b| b.iter(|| fetch(&uri)));
    }
    let day = format!("{base}/trades?timeframe=1m&start=2020-06-01&end=2020-06-01");
    trades.bench_function("window_1d", |b| b.iter(|| fetch(&day)));
    trades.finish();

    let mut equity = c.benchmark_group("equity");
    equity.sample_size(20);
    let uri = format!("{base}/equity?timeframe=1h");
    equity.bench_function("1h", |b| b.iter(|| fetch(&uri)));
    equity.finish();
}

criterion_group!(benches, runs);
criterion_main!(benches);
