//! Loading and aggregating 1,000,000 one-minute bars to 5m, 1h, 1d, 1w, 1M.
//!
//! - `load`: parquet file → bars in memory, the part of `cold` that decodes;
//! - `cold/<tf>`: parquet file → aggregated bars (read, normalise, aggregate);
//! - `memory/<tf>`: bars already in memory → aggregated bars, through the
//!   same DataFusion plan that serves `/api/data`.
//!
//! The parquet file is written to `bench/out/minutes_1m.parquet`, where
//! `bench/aggregation.py` times pandas and polars on the very same file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candela_core::load::load_series;
use candela_core::synthetic::{continuous_minutes, write_parquet};
use candela_core::{Engine, Store, StoreConfig, Timeframe};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};

/// The allocator of the `candela` binary, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BARS: usize = 1_000_000;
const TARGETS: [&str; 5] = ["5m", "1h", "1d", "1w", "1M"];

fn bench_file() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/out");
    std::fs::create_dir_all(&dir).expect("bench/out");
    let path = dir.join("minutes_1m.parquet");
    write_parquet(&continuous_minutes(BARS, 42), &path).expect("write bench parquet");
    path
}

fn aggregation(c: &mut Criterion) {
    let path = bench_file();
    let root = path.parent().expect("dir").to_path_buf();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let store = Store::open(StoreConfig::new(&root)).expect("store");
    let engine = Engine::new(Arc::new(store), 2).expect("engine");
    let source = Arc::new(load_series(std::slice::from_ref(&path), Tz::UTC, &root).expect("load"));
    assert_eq!(source.len(), BARS);

    c.bench_function("load", |b| {
        b.iter(|| load_series(std::slice::from_ref(&path), Tz::UTC, &root).expect("load"))
    });

    let mut cold = c.benchmark_group("cold");
    cold.sample_size(20);
    for target in TARGETS {
        let timeframe: Timeframe = target.parse().expect("timeframe");
        cold.bench_function(target, |b| {
            b.iter(|| {
                let frame = load_series(std::slice::from_ref(&path), Tz::UTC, &root).expect("load");
                runtime
                    .block_on(engine.aggregate(Arc::new(frame), timeframe, Tz::UTC))
                    .expect("aggregate")
            })
        });
    }
    cold.finish();

    let mut memory = c.benchmark_group("memory");
    memory.sample_size(30);
    for target in TARGETS {
        let timeframe: Timeframe = target.parse().expect("timeframe");
        memory.bench_function(target, |b| {
            b.iter(|| {
                runtime
                    .block_on(engine.aggregate(Arc::clone(&source), timeframe, Tz::UTC))
                    .expect("aggregate")
            })
        });
    }
    memory.finish();
}

criterion_group!(benches, aggregation);
criterion_main!(benches);
