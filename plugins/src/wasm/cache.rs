//! Compiled components on disk, keyed by the SHA-256 of the `.wasm` and by
//! the engine's compilation settings, so a restart (or a plugin copied back
//! in) loads in milliseconds instead of compiling again.
//!
//! Each entry starts with the SHA-256 of the rest of the file, checked before
//! the machine code in it is trusted; a damaged or foreign entry is compiled
//! again and overwritten.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::{LoadError, content_hash, write_atomically};

pub(super) struct ComponentCache {
    dir: PathBuf,
    /// Identifies the engine's settings: entries of another wasmtime version
    /// or configuration have other names.
    engine_key: String,
}

impl ComponentCache {
    pub(super) fn new(dir: PathBuf, engine: &Engine) -> ComponentCache {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        ComponentCache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The component for `wasm`, from the cache or compiled (and then cached).
    pub(super) fn component(&self, engine: &Engine, wasm: &[u8]) -> Result<Component, LoadError> {
        let path = self
            .dir
            .join(format!("{}-{}.cwasm", content_hash(wasm), self.engine_key));
        if let Some(component) = read(engine, &path) {
            tracing::debug!(path = %path.display(), "compiled plugin taken from the cache");
            return Ok(component);
        }
        let component = Component::new(engine, wasm).map_err(LoadError::compile)?;
        if let Err(e) = write(&component, &path) {
            tracing::warn!(
                "cannot cache the compiled plugin in {}: {e}",
                self.dir.display()
            );
        }
        Ok(component)
    }
}

fn read(engine: &Engine, path: &Path) -> Option<Component> {
    let bytes = std::fs::read(path).ok()?;
    let (checksum, code) = bytes.split_at_checked(32)?;
    if Sha256::digest(code).as_slice() != checksum {
        tracing::warn!(path = %path.display(), "damaged cache entry; compiling again");
        return None;
    }
    // SAFETY: `deserialize` trusts the bytes to be machine code that this
    // engine produced. They are: the entry was written by `write` below for
    // an engine with these settings (its name says so), and the checksum
    // shows that it is byte for byte what was written.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, code) };
    component
        .inspect_err(|e| tracing::warn!(path = %path.display(), "unusable cache entry ({e}); compiling again"))
        .ok()
}

fn write(component: &Component, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let code = component.serialize()?;
    let mut bytes = Sha256::digest(&code).to_vec();
    bytes.extend_from_slice(&code);
    write_atomically(path, &bytes)?;
    Ok(())
}
