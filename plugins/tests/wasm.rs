//! The WASM host on the example plugins, built from source: their values
//! against references from TA-Lib's primitives, the limits that contain a
//! misbehaving plugin, isolation between calls, and the compile cache.

#[path = "../../indicators-builtin/tests/common/mod.rs"]
mod common;
#[path = "../../indicators-builtin/tests/common/lookahead.rs"]
mod lookahead;
mod support;

use std::sync::Arc;
use std::time::Duration;

use candela_core::BarFrame;
use candela_core::indicator::{ComputeError, ComputeErrorKind, Indicator, Origin, Registry};
use candela_plugins::{Limits, LoadError, PrivateDir, WasmIndicator, WasmRuntime};
use sha2::Digest;

fn load(runtime: &WasmRuntime, name: &str) -> WasmIndicator {
    let bytes = std::fs::read(support::wasm(name)).expect("example built");
    runtime
        .load(&bytes, &format!("{name}.wasm"))
        .unwrap_or_else(|e| panic!("{name}.wasm does not load: {e}"))
}

fn runtime(limits: Limits) -> WasmRuntime {
    WasmRuntime::new(limits, None).expect("runtime")
}

#[test]
fn examples_match_their_references() {
    let runtime = runtime(Limits::default());
    let registry = candela_indicators::registry();
    for name in ["hma", "keltner", "cci", "sma"] {
        let plugin = load(&runtime, name);
        assert_eq!(plugin.spec().origin, Origin::Wasm);
        registry.insert(Arc::new(plugin)).expect("ids are free");
    }
    let report = common::check_calls(&registry, |fixture| &fixture.plugin_calls);
    println!("{}", report.table);
    assert!(
        report.table.lines().count() > 40,
        "every fixture has plugin calls"
    );
    assert!(
        report.failures.is_empty(),
        "{} differences from the references:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
}

/// The example plugins on a higher timeframe, alone and nested with
/// built-ins both ways, never see the future under any `align`.
#[test]
fn plugins_on_a_higher_timeframe_never_see_the_future() {
    let runtime = runtime(Limits::default());
    let registry = candela_indicators::registry();
    for name in ["hma", "keltner", "cci", "sma"] {
        registry
            .insert(Arc::new(load(&runtime, name)))
            .expect("ids are free");
    }
    let calls =
        "hma(5),keltner(4,1.5,3),cci(4),plugin_sma(3),sma(3,source=hma(4)),hma(4,source=rsi(3))";
    let checked = lookahead::check(&registry, calls, &[21, 22, 23]);
    assert!(checked > 5_000, "only {checked} chart bars checked");
}

#[test]
fn examples_describe_themselves_as_the_contract_says() {
    let runtime = runtime(Limits::default());
    let keltner = load(&runtime, "keltner");
    let spec = keltner.spec();
    assert_eq!(
        (spec.id.as_str(), spec.category.as_str()),
        ("keltner", "Volatility")
    );
    let params: Vec<_> = spec
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.default))
        .collect();
    assert_eq!(
        params,
        [("period", 20.0), ("multiplier", 2.0), ("atr_period", 10.0)]
    );
    let outputs: Vec<_> = spec.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["upper", "middle", "lower"]);
    assert_eq!(
        spec.placement(),
        candela_core::indicator::Placement::Overlay
    );
    let cci = load(&runtime, "cci");
    assert_eq!(
        cci.spec().placement(),
        candela_core::indicator::Placement::Pane
    );
}

/// A frame of `n` rising bars.
fn bars(n: usize) -> BarFrame {
    let close: Vec<f64> = (0..n).map(|i| 100.0 + i as f64).collect();
    let time = (0..n as i64).map(|i| i * 60_000_000_000).collect();
    BarFrame::from_columns(
        time,
        [
            close.clone(),
            close.clone(),
            close.clone(),
            close,
            vec![1.0; n],
        ],
    )
    .expect("frame")
}

/// Runs `faulty(mode=N)` over `frame` through the registry, as a request would.
fn faulty(registry: &Registry, mode: u32, frame: &BarFrame) -> Result<Vec<Vec<f64>>, ComputeError> {
    let call = registry
        .resolve(&format!("faulty(mode={mode})"))
        .expect("valid call")
        .remove(0);
    call.compute_window(frame, chrono_tz::UTC, 0..frame.len())
}

#[test]
fn a_misbehaving_plugin_fails_its_call_and_nothing_else() {
    let limits = Limits {
        memory_bytes: 64 << 20,
        time: Duration::from_millis(300),
    };
    let runtime = runtime(limits);
    let registry = candela_indicators::registry();
    registry
        .insert(Arc::new(load(&runtime, "faulty")))
        .expect("free id");
    let frame = bars(1000);
    let expect = |mode: u32, kind: ComputeErrorKind, words: &str| {
        let error = faulty(&registry, mode, &frame).expect_err(&format!("mode {mode} fails"));
        assert_eq!(error.kind, kind, "mode {mode}: {error}");
        let text = error.to_string();
        println!("mode {mode}: {text}");
        assert!(
            text.contains("plugin 'faulty' (faulty.wasm)"),
            "names the plugin: {text}"
        );
        assert!(
            text.contains(words),
            "mode {mode}: '{text}' should say '{words}'"
        );
        // The plugin, and the host, carry on.
        let fine = faulty(&registry, 0, &frame).expect("mode 0 still works");
        assert_eq!(fine[0][999], 1099.0);
    };
    expect(1, ComputeErrorKind::Failed, "crashed");
    expect(2, ComputeErrorKind::Limit, "time limit of 300ms");
    expect(3, ComputeErrorKind::Limit, "memory limit of 64 MiB");
    expect(
        4,
        ComputeErrorKind::Failed,
        "series of lengths [500]; expected 1 (one per output) of 1000 values",
    );
    expect(5, ComputeErrorKind::Failed, "returned 0 series");
    expect(6, ComputeErrorKind::Failed, "mode 6 panics on purpose");
    expect(7, ComputeErrorKind::Refused, "mode 7 refuses on purpose");
}

#[test]
fn calls_share_no_state() {
    let runtime = runtime(Limits::default());
    let registry = Registry::default();
    registry
        .insert(Arc::new(load(&runtime, "faulty")))
        .expect("free id");
    let frame = bars(10);
    for _ in 0..3 {
        let calls = faulty(&registry, 8, &frame).expect("mode 8 counts");
        assert!(
            calls[0].iter().all(|&n| n == 1.0),
            "each call is the instance's first: {calls:?}"
        );
    }
}

#[test]
fn files_that_are_not_plugins_are_refused_with_a_reason() {
    let runtime = runtime(Limits::default());
    let garbage = runtime.load(b"not wasm at all", "garbage.wasm");
    assert!(matches!(garbage, Err(LoadError::Compile(_))), "{garbage:?}");
    // A core module (not a component), as `wasm32-unknown-unknown` builds.
    let module = runtime.load(b"\0asm\x01\0\0\0", "module.wasm");
    let message = module
        .expect_err("a core module is not a component")
        .to_string();
    assert!(message.contains("wasm32-wasip2"), "{message}");
}

/// The compiled entries of a cache folder.
fn entries(cache: &PrivateDir) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(cache.path().join("wasm"))
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compiled_components_are_cached_and_trusted_only_if_this_server_wrote_them() {
    let temp = tempfile::tempdir().expect("temp dir");
    let cache = PrivateDir::open(temp.path().join("ours")).expect("private");
    let bytes = std::fs::read(support::wasm("hma")).expect("built");
    let runtime = WasmRuntime::new(Limits::default(), Some(&cache)).expect("runtime");
    runtime.load(&bytes, "hma.wasm").expect("compiles");
    let [entry] = entries(&cache).try_into().expect("one entry");
    let written = std::fs::read(&entry).expect("entry");
    // A fresh runtime with the same settings takes the compiled code.
    let again = WasmRuntime::new(Limits::default(), Some(&cache)).expect("runtime");
    assert_eq!(
        again.load(&bytes, "hma.wasm").expect("cached").spec().id,
        "hma"
    );
    assert_eq!(
        std::fs::read(&entry).expect("entry"),
        written,
        "taken as it is"
    );

    // Entries the server did not write are compiled again and replaced:
    // damaged, compiled by another server (another key), or in the format
    // that carried only its own SHA-256.
    let other = PrivateDir::open(temp.path().join("theirs")).expect("private");
    WasmRuntime::new(Limits::default(), Some(&other))
        .expect("runtime")
        .load(&bytes, "hma.wasm")
        .expect("compiles");
    let [theirs] = entries(&other).try_into().expect("one entry");
    let code = written[32..].to_vec();
    let mut damaged = written.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    let mut self_checked = sha2::Sha256::digest(&code).to_vec();
    self_checked.extend_from_slice(&code);
    for (what, planted) in [
        ("damaged", damaged),
        ("another server's", std::fs::read(&theirs).expect("entry")),
        ("self-checked", self_checked),
    ] {
        std::fs::write(&entry, &planted).expect("plant");
        assert_eq!(
            again
                .load(&bytes, "hma.wasm")
                .expect("recompiled")
                .spec()
                .id,
            "hma"
        );
        assert_ne!(
            std::fs::read(&entry).expect("entry"),
            planted,
            "{what} entry rewritten"
        );
    }
    assert_eq!(entries(&cache).len(), 1);
}

#[test]
fn a_plugin_cannot_claim_a_builtin_id() {
    let runtime = runtime(Limits::default());
    let registry = candela_indicators::registry();
    let impostor = load(&runtime, "impostor");
    assert_eq!(impostor.spec().id, "sma");
    assert!(registry.insert(Arc::new(impostor)).is_err());
    assert_eq!(
        registry.get("sma").expect("sma").spec().origin,
        Origin::Builtin
    );
}
