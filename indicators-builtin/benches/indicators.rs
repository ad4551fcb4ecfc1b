//! Each built-in with its default parameters on 1,000,000 one-minute bars,
//! and all eleven together.
//!
//! The bars are written to `bench/out/bars_1m.parquet`, where
//! `bench/indicators.py` times TA-Lib on the very same values.

use std::path::Path;

use candela_core::synthetic::{continuous_minutes, write_parquet};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};

/// The allocator of the `candela` binary, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BARS: usize = 1_000_000;
const CALLS: &str = "sma,ema,wma,rsi,macd,stoch,volume,obv,vwap,bbands,atr";

fn indicators(c: &mut Criterion) {
    let frame = continuous_minutes(BARS, 42);
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/out");
    std::fs::create_dir_all(&out).expect("bench/out");
    write_parquet(&frame, &out.join("bars_1m.parquet")).expect("write bench parquet");
    let registry = candela_indicators::registry();
    let calls = registry.resolve(CALLS).expect("calls");
    let rows = 0..frame.len();

    let mut group = c.benchmark_group("indicator");
    group.sample_size(30);
    for call in &calls {
        group.bench_function(call.indicator.spec().id.as_str(), |b| {
            b.iter(|| {
                call.compute_window(&frame, Tz::UTC, rows.clone())
                    .expect("compute")
            })
        });
    }
    group.bench_function("all", |b| {
        b.iter(|| {
            calls
                .iter()
                .map(|call| {
                    call.compute_window(&frame, Tz::UTC, rows.clone())
                        .expect("compute")
                })
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, indicators);
criterion_main!(benches);
