//! Plugins against the built-in they imitate, with the limits active:
//!
//! - `sma_1m/{builtin,wasm,native}`: SMA(20) over 1,000,000 one-minute bars,
//!   the same values through the three kinds of indicator;
//! - `call_1k/{builtin,wasm,native}`: SMA(20) over 1,000 bars, where a WASM
//!   call's fixed cost (a fresh instance from `InstancePre`, copying the
//!   column in and the result out) dominates;
//! - `contract_1m/copy`: a plugin that returns its input (`faulty(0)`, one
//!   copy inside the guest) over 1,000,000 bars: what the contract's lists
//!   cost before a plugin computes anything, the floor of `sma_1m/wasm`;
//! - `load/{compile,cached}`: a plugin's first load (compiling the
//!   component) against a load from the on-disk cache.
//!
//! The example plugins are built from source first (`wasm32-wasip2`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use candela_core::BarFrame;
use candela_core::indicator::{Registry, ResolvedCall};
use candela_core::synthetic::continuous_minutes;
use candela_plugins::{Limits, PluginFolder, WasmRuntime};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};

/// The allocator of the `candela` binary, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The built-in, WASM and native SMA(20), in that order.
fn calls(registry: &Registry) -> Vec<(&'static str, ResolvedCall)> {
    let calls = registry
        .resolve("sma(20),plugin_sma(20),native_sma(20)")
        .expect("all three loaded");
    ["builtin", "wasm", "native"]
        .into_iter()
        .zip(calls)
        .collect()
}

fn compare(c: &mut Criterion, group: &str, calls: &[(&str, ResolvedCall)], frame: &BarFrame) {
    let mut group = c.benchmark_group(group);
    group.sample_size(50);
    for (kind, call) in calls {
        group.bench_function(*kind, |b| {
            b.iter(|| {
                call.compute_window(frame, Tz::UTC, 0..frame.len())
                    .expect("compute")
            })
        });
    }
    group.finish();
}

fn plugins(c: &mut Criterion) {
    let folder = tempfile::tempdir().expect("plugin folder");
    for plugin in ["sma", "faulty"] {
        std::fs::copy(
            support::wasm(plugin),
            folder.path().join(format!("{plugin}.wasm")),
        )
        .expect("copy");
    }
    let native = support::native_sma();
    std::fs::copy(
        native,
        folder.path().join(native.file_name().expect("name")),
    )
    .expect("copy");
    let registry = Arc::new(candela_indicators::registry());
    let _watched = PluginFolder::open(support::folder(folder.path(), true), Arc::clone(&registry))
        .expect("folder");
    let calls = calls(&registry);

    let million = continuous_minutes(1_000_000, 42);
    compare(c, "sma_1m", &calls, &million);
    compare(c, "call_1k", &calls, &continuous_minutes(1_000, 42));
    let copy = registry.resolve("faulty(0)").expect("loaded");
    let copy = [("copy", copy.into_iter().next().expect("one call"))];
    compare(c, "contract_1m", &copy, &million);

    let wasm = std::fs::read(support::wasm("sma")).expect("built");
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("compile", |b| {
        let runtime = WasmRuntime::new(Limits::default(), None).expect("runtime");
        b.iter(|| runtime.load(&wasm, "sma.wasm").expect("loads"))
    });
    group.bench_function("cached", |b| {
        let cache = tempfile::tempdir().expect("cache");
        let cache = candela_plugins::PrivateDir::open(cache.path().join("cache")).expect("private");
        let runtime = WasmRuntime::new(Limits::default(), Some(&cache)).expect("runtime");
        runtime.load(&wasm, "sma.wasm").expect("fills the cache");
        b.iter(|| runtime.load(&wasm, "sma.wasm").expect("loads"))
    });
    group.finish();
}

criterion_group!(benches, plugins);
criterion_main!(benches);
