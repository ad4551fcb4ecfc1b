//! The plugin folder while it is watched: plugins dropped in, replaced and
//! removed reach the registry without a rescan by hand; collisions and bad
//! files are refused; native libraries load only when allowed.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use candela_core::indicator::{Origin, Registry};
use candela_plugins::PluginFolder;

/// Waits (the watcher works on its own) until `ready` holds.
fn eventually(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn name_of(registry: &Registry, id: &str) -> Option<String> {
    registry.get(id).map(|i| i.spec().name.clone())
}

#[test]
fn the_folder_is_followed_while_it_is_watched() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(support::wasm("hma"), dir.path().join("hma.wasm")).expect("copy");
    std::fs::write(dir.path().join("broken.wasm"), b"half a plugin").expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"not a plugin at all").expect("write");
    let registry = Arc::new(candela_indicators::registry());
    let folder = PluginFolder::open(support::folder(dir.path(), false), Arc::clone(&registry))
        .expect("folder opens");
    folder.rescan();

    // Loaded at start; the broken file and the text file are skipped.
    assert_eq!(
        registry.get("hma").expect("hma loaded").spec().origin,
        Origin::Wasm
    );
    assert_eq!(folder.active().len(), 1);

    // Dropped in while watched.
    std::fs::copy(support::wasm("cci"), dir.path().join("cci.wasm")).expect("copy");
    eventually("cci is loaded", || registry.get("cci").is_some());

    // The same id twice: the first file by name keeps it.
    std::fs::copy(support::wasm("hma"), dir.path().join("hma_copy.wasm")).expect("copy");
    // An id of a built-in is refused; the built-in stays.
    std::fs::copy(support::wasm("impostor"), dir.path().join("impostor.wasm")).expect("copy");
    std::fs::copy(support::wasm("keltner"), dir.path().join("keltner.wasm")).expect("copy");
    eventually("keltner is loaded", || registry.get("keltner").is_some());
    let active = folder.active();
    let file_of = |id: &str| {
        active
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, p)| p.file_name().expect("name").to_string_lossy().into_owned())
    };
    assert_eq!(file_of("hma").as_deref(), Some("hma.wasm"));
    assert_eq!(file_of("sma"), None);
    assert_eq!(
        registry.get("sma").expect("sma").spec().origin,
        Origin::Builtin
    );

    // Replaced in place: the new plugin answers under the old file name, and
    // a request that resolved the old one before the swap still completes.
    let in_flight = registry.resolve("cci(14)").expect("cci resolves").remove(0);
    std::fs::copy(support::wasm("sma"), dir.path().join("cci.wasm")).expect("overwrite");
    eventually("cci.wasm now holds plugin_sma", || {
        registry.get("cci").is_none() && registry.get("plugin_sma").is_some()
    });
    let frame = candela_core::BarFrame::from_columns(
        (0..100).map(|i| i * 60_000_000_000).collect(),
        std::array::from_fn(|k| (0..100).map(|i| f64::from(i + k as i32)).collect()),
    )
    .expect("frame");
    let finished = in_flight.compute_window(&frame, chrono_tz::UTC, 0..100);
    assert_eq!(
        finished.expect("the old plugin still computes")[0].len(),
        100
    );

    // Removed: the copy that was refused takes the id over.
    std::fs::remove_file(dir.path().join("hma.wasm")).expect("remove");
    eventually("hma comes from the copy", || {
        folder
            .active()
            .iter()
            .any(|(id, path)| id == "hma" && path.ends_with("hma_copy.wasm"))
    });
    std::fs::remove_file(dir.path().join("hma_copy.wasm")).expect("remove");
    eventually("hma is gone", || registry.get("hma").is_none());
    assert_eq!(
        name_of(&registry, "keltner").as_deref(),
        Some("Keltner Channels")
    );
}

#[test]
fn native_plugins_load_only_when_allowed() {
    let library = support::native_sma();
    let file = library.file_name().expect("file name");
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(library, dir.path().join(file)).expect("copy");

    let registry = Arc::new(candela_indicators::registry());
    PluginFolder::open(support::folder(dir.path(), false), Arc::clone(&registry))
        .expect("folder opens")
        .rescan();
    assert!(
        registry.get("native_sma").is_none(),
        "native plugins are off by default"
    );

    let registry = Arc::new(candela_indicators::registry());
    let folder = PluginFolder::open(support::folder(dir.path(), true), Arc::clone(&registry))
        .expect("folder opens");
    folder.rescan();
    let native = registry.get("native_sma").expect("loaded when allowed");
    assert_eq!(native.spec().origin, Origin::Native);

    // Its values are the built-in SMA's.
    let calls = registry.resolve("native_sma(7),sma(7)").expect("valid");
    let frame = candela_core::BarFrame::from_columns(
        (0..500).map(|i| i * 60_000_000_000).collect(),
        std::array::from_fn(|k| (0..500).map(|i| ((i * 37 + k * 11) % 101) as f64).collect()),
    )
    .expect("frame");
    let [ours, builtin] = [&calls[0], &calls[1]].map(|c| {
        c.compute_window(&frame, chrono_tz::UTC, 0..500)
            .expect("computes")
    });
    for (a, b) in ours[0].iter().zip(&builtin[0]) {
        assert!(
            (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-9,
            "{a} vs {b}"
        );
    }
    assert_eq!(ours[0].iter().filter(|v| v.is_nan()).count(), 6);
    // And a window computes with the history it asked for.
    let window = calls[0]
        .compute_window(&frame, chrono_tz::UTC, 100..200)
        .expect("window");
    assert_eq!(window[0], ours[0][100..200]);
}

#[test]
fn a_file_too_large_or_too_slow_to_compile_is_skipped_alone_and_start_up_never_waits() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(support::wasm("hma"), dir.path().join("hma.wasm")).expect("copy");
    let mut large = std::fs::read(support::wasm("cci")).expect("built");
    large.resize(3 << 20, 0);
    std::fs::write(dir.path().join("large.wasm"), &large).expect("write");
    let registry = Arc::new(candela_indicators::registry());
    let config = candela_plugins::FolderConfig {
        max_file_bytes: 2 << 20,
        ..support::folder(dir.path(), false)
    };
    let folder = PluginFolder::open(config, Arc::clone(&registry)).expect("folder opens");
    assert!(
        folder
            .rescan()
            .contains("1 loaded (hma), 0 refused, 1 skipped")
    );

    // Nothing compiles within a microsecond: every file is given up, and
    // opening the folder returned before any compile.
    let fresh = tempfile::tempdir().expect("dir");
    std::fs::copy(support::wasm("keltner"), fresh.path().join("keltner.wasm")).expect("copy");
    let registry = Arc::new(candela_indicators::registry());
    let config = candela_plugins::FolderConfig {
        cache_dir: None,
        compile_time: Duration::from_micros(1),
        ..support::folder(fresh.path(), false)
    };
    let started = Instant::now();
    let folder = PluginFolder::open(config, Arc::clone(&registry)).expect("folder opens");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "open does not compile"
    );
    assert!(
        folder
            .rescan()
            .contains("none loaded, 0 refused, 1 skipped")
    );
    assert!(registry.get("keltner").is_none());
}

#[test]
fn a_cache_others_may_write_or_inside_the_plugin_folder_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let plugins = dir.path().join("plugins");
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let registry = Arc::new(candela_indicators::registry());
    let open = |cache: std::path::PathBuf| {
        let config = candela_plugins::FolderConfig::new(plugins.clone(), Some(cache));
        PluginFolder::open(config, Arc::clone(&registry)).map(|_| ())
    };
    let refused = open(shared).expect_err("world-writable");
    assert!(
        refused
            .to_string()
            .contains("may be written by other users"),
        "{refused}"
    );
    let refused = open(plugins.join(".cache")).expect_err("inside the plugin folder");
    assert!(
        refused.to_string().contains("inside the plugin folder"),
        "{refused}"
    );
}
