//! Each built-in with its default parameters on 1,000,000 one-minute bars,
//! and all eleven together; and the strategy's view on the same bars
//! (`strategy/…`): a call on the daily bars placed on every minute against
//! the same call on the minutes, and an indicator of an indicator against
//! the two alone, each through the `Evaluation` that serves `/api/data`,
//! both timeframes' bars in memory as a warm cache holds them.
//!
//! The bars are written to `bench/out/bars_1m.parquet`, where
//! `bench/indicators.py` times TA-Lib on the very same values.

use std::path::Path;

use candela_core::BarFrame;
use candela_core::indicator::{Evaluation, Frames};
use candela_core::resample::resample;
use candela_core::synthetic::{continuous_minutes, write_parquet};
use candela_core::timeframe::Timeframe;
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

fn strategy(c: &mut Criterion) {
    let minute: Timeframe = "1m".parse().expect("timeframe");
    let day: Timeframe = "1d".parse().expect("timeframe");
    let frame = continuous_minutes(BARS, 42);
    let daily: BarFrame = resample(&frame, day, Tz::UTC);
    let frames = Frames::new((&frame).into(), Some(minute), Tz::UTC).with(day, (&daily).into());
    let registry = candela_indicators::registry();
    let rows = 0..frame.len();

    let mut group = c.benchmark_group("strategy");
    group.sample_size(20);
    for (name, calls) in [
        ("sma20_on_1m", "sma(period=20)"),
        ("sma20_on_1d_placed", "sma(period=20,timeframe=1d)"),
        (
            "sma20_on_1d_forming",
            "sma(period=20,timeframe=1d,align=forming)",
        ),
        ("rsi14", "rsi(period=14)"),
        ("ema9", "ema(period=9)"),
        ("ema9_of_rsi14", "ema(period=9,source=rsi(period=14))"),
    ] {
        let calls = registry.resolve(calls).expect("calls");
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut evaluation = Evaluation::new(&frames);
                calls
                    .iter()
                    .map(|call| evaluation.values(call, rows.clone()).expect("values"))
                    .collect::<Vec<_>>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, indicators, strategy);
criterion_main!(benches);
