//! Loading and aggregating 1,000,000 one-minute bars to 5m, 1h, 1d, 1w, 1M.
//!
//! - `load`: parquet file → bars in memory, the decoding part of `cold`;
//! - `cold/<tf>`: parquet file → aggregated bars, as the server answers a
//!   request whose series is not cached (`Engine::bars` over a store that
//!   caches nothing: the source is folded while it is decoded);
//! - `memory/<tf>`: bars already in memory → aggregated bars, through the
//!   same DataFusion plan that serves `/api/data`.
//!
//! The parquet file is written to `bench/out/BENCH/MINUTES/1m/minutes_1m.parquet`
//! (a data folder of one series), where `bench/aggregation.py` times pandas
//! and polars on the very same file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candela_core::load::StoredSeries;
use candela_core::synthetic::{continuous_minutes, write_parquet};
use candela_core::{Engine, Store, StoreConfig, Timeframe};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};

/// The allocator of the `candela` binary, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BARS: usize = 1_000_000;
const TARGETS: [&str; 5] = ["5m", "1h", "1d", "1w", "1M"];

/// The data folder and the one file of its one series.
fn bench_data() -> (PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/out");
    let folder = root.join("BENCH/MINUTES/1m");
    std::fs::create_dir_all(&folder).expect("bench/out");
    let path = folder.join("minutes_1m.parquet");
    write_parquet(&continuous_minutes(BARS, 42), &path).expect("write bench parquet");
    (root, path)
}

fn aggregation(c: &mut Criterion) {
    let (root, path) = bench_data();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let uncached = StoreConfig {
        cache_bytes: 0,
        ..StoreConfig::new(&root)
    };
    let engine = Engine::new(Arc::new(Store::open(uncached).expect("store")), 2).expect("engine");
    let files = [candela_core::storage::StoredFile::Path(path)];
    let stored = StoredSeries::new(&files, Tz::UTC, &root);
    let source = Arc::new(stored.load().expect("load"));
    assert_eq!(source.len(), BARS);

    c.bench_function("load", |b| b.iter(|| stored.load().expect("load")));

    let mut cold = c.benchmark_group("cold");
    cold.sample_size(20);
    for target in TARGETS {
        let timeframe: Timeframe = target.parse().expect("timeframe");
        cold.bench_function(target, |b| {
            b.iter(|| {
                runtime
                    .block_on(engine.bars("MINUTES", timeframe))
                    .expect("bars")
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
