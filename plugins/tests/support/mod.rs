//! Builds the example plugins from source, once per test binary, as a plugin
//! author would (`cargo build --release --target wasm32-wasip2`). Shared by
//! the plugin host's tests and the server's.
#![allow(dead_code)] // each test binary uses a part of it

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use candela_plugins::FolderConfig;

/// The repository root (both crates that use this live one level below it).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A target directory of its own: cached between runs, and never waiting on
/// the lock of the `cargo test` that runs this.
pub fn target_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Runs `cargo` with `args` in `dir`; panics with its output on failure.
pub fn cargo(dir: &Path, target: &Path, args: &[&str]) {
    let output = Command::new("cargo")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo {} in {} failed (is the target installed? `rustup target add wasm32-wasip2`):\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The folder holding `<name>.wasm` for every example plugin.
pub fn wasm_examples() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = target_dir("guest");
        cargo(
            &repo().join("plugins/examples/wasm"),
            &target,
            &["build", "--release", "--target", "wasm32-wasip2"],
        );
        target.join("wasm32-wasip2/release")
    })
}

pub fn wasm(name: &str) -> PathBuf {
    wasm_examples().join(format!("{name}.wasm"))
}

/// The example native plugin, a shared library.
pub fn native_sma() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = target_dir("native");
        cargo(
            &repo(),
            &target,
            &["build", "--release", "-p", "candela-native-sma"],
        );
        target.join(format!(
            "release/{}candela_native_sma{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ))
    })
}

/// A plugin folder at `dir` with the default limits, caching in a private
/// folder that the tests share (so that each plugin compiles once).
pub fn folder(dir: &Path, allow_native: bool) -> FolderConfig {
    let cache = std::env::temp_dir().join("candela-plugin-tests-cache");
    FolderConfig {
        allow_native,
        ..FolderConfig::new(dir.to_path_buf(), Some(cache))
    }
}
