//! `/api/data` through the router with compared symbols: a chart of 5,000
//! one-minute bars of one symbol with 8 others compared, each stored as
//! 1,000,000 bars and held by the warm cache, against the same chart alone.
//!
//! `cargo bench -p candela-server --bench data --profile dev` (the dev
//! profile builds dependencies at opt-level 1; see `sql.rs`).

use std::sync::Arc;

use candela_core::synthetic::{continuous_minutes, write_parquet};
use candela_core::{Engine, Store, StoreConfig};
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use criterion::{Criterion, criterion_group, criterion_main};

mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BARS: usize = 1_000_000;
const SYMBOLS: usize = 9;

fn data(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("tempdir");
    for s in 0..SYMBOLS {
        let folder = root.path().join(format!("SYNTH/S{s}/1m"));
        std::fs::create_dir_all(&folder).expect("mkdir");
        write_parquet(
            &continuous_minutes(BARS, 40 + s as u64),
            &folder.join("bars.parquet"),
        )
        .expect("write");
    }
    let mut config = StoreConfig::new(root.path());
    config.cache_bytes = 4 << 30;
    let engine =
        Arc::new(Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine"));
    let state = AppState::new(
        engine,
        Arc::new(candela_indicators::registry()),
        SqlLimits::default(),
        None,
    )
    .expect("state");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fetch = |uri: &str| support::send(&runtime, &state, support::get(uri));
    let compared: Vec<String> = (1..SYMBOLS).map(|s| format!("SYNTH:S{s}")).collect();
    let alone = "/api/data?symbol=SYNTH:S0&timeframe=1m&limit=5000".to_owned();
    let with_compare = format!("{alone}&compare={}", compared.join(","));
    // Warm the cache with every symbol's bars.
    fetch(&with_compare);

    let mut group = c.benchmark_group("data_5000");
    group.sample_size(50);
    group.bench_function("alone", |b| b.iter(|| fetch(&alone)));
    group.bench_function("compare_8", |b| b.iter(|| fetch(&with_compare)));
    group.finish();
}

criterion_group!(benches, data);
criterion_main!(benches);
