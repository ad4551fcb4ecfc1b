//! Indicator plugins. A plugin is a file in the plugin folder: a WebAssembly
//! component run sandboxed by wasmtime ([`wasm`]), or, when the configuration
//! allows it, a native library behind a versioned C ABI ([`native`]). The
//! [`folder`] loads them into the one indicator registry and keeps it in step
//! with the folder while the server runs, so that a plugin looks exactly like
//! a built-in to the API, the UI and SQL.

pub mod folder;
mod metadata;
pub mod native;
pub mod private_dir;
pub mod wasm;

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

pub use folder::{FolderConfig, PluginFolder};
pub use native::NativeIndicator;
pub use private_dir::{PrivateDir, PrivateDirError};
pub use wasm::{WasmIndicator, WasmRuntime};

/// What one plugin call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory of one instance.
    pub memory_bytes: usize,
    /// Wall time of one call, instantiation included.
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            time: Duration::from_secs(2),
        }
    }
}

/// Why a plugin file was not loaded. The folder logs `plugin <file>:
/// skipped, it <this>`, so each message reads as a predicate.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot be run: the WebAssembly engine failed to start: {0}")]
    Engine(String),
    #[error(
        "is not a WebAssembly component ({0}); build it with `cargo build --release --target wasm32-wasip2`"
    )]
    Compile(String),
    #[error("cannot be linked: {0}")]
    Link(String),
    #[error(
        "is built against candela:indicator@{found}, but this Candela supports {supported}; rebuild it with a matching candela-plugin-sdk"
    )]
    Version {
        found: String,
        supported: &'static str,
    },
    #[error(
        "imports '{0}', which Candela does not provide; a plugin may import only candela:indicator and WASI (which is stubbed)"
    )]
    Import(String),
    #[error("failed to describe itself: {0}")]
    Describe(String),
    #[error("describes itself wrongly: {0}")]
    Invalid(String),
    #[error(
        "is a native library, and native plugins are disabled; set allow_native_plugins = true in candela.toml to load it (native plugins run unsandboxed)"
    )]
    NativeDisabled,
    #[error("cannot be loaded as a native library: {0}")]
    Native(String),
    #[error("cannot use the plugin cache: {0}")]
    Cache(PrivateDirError),
    #[error(
        "is {} MiB, more than max_plugin_mb ({} MiB) allows; raise it in candela.toml if the plugin is really this large",
        .bytes >> 20, .max >> 20
    )]
    TooLarge { bytes: u64, max: u64 },
    #[error(
        "took longer than {0:?} to compile and was given up; a plugin this slow to compile is likely hostile (raise plugin_compile_time_limit_ms if not)"
    )]
    CompileTime(Duration),
    #[error(
        "is a native library, and native plugins need a plugin_cache for their private copies; set plugin_cache in candela.toml"
    )]
    NoNativeCopies,
}

impl LoadError {
    fn engine(error: impl std::fmt::Display) -> LoadError {
        LoadError::Engine(format!("{error:#}"))
    }

    fn compile(error: impl std::fmt::Display) -> LoadError {
        LoadError::Compile(format!("{error:#}"))
    }

    fn link(error: impl std::fmt::Display) -> LoadError {
        LoadError::Link(format!("{error:#}"))
    }
}

/// The SHA-256 of `bytes` in hex: the name of a compiled or copied plugin.
fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `bytes` beside `path` and renames, so that no reader ever sees half
/// a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// Locks a mutex whose data stays valid whatever a panicking holder left:
/// the host's caches, and the folder's entries that the next scan corrects.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
