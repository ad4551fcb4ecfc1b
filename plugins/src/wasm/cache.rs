//! Compiled components on disk, keyed by the SHA-256 of the `.wasm` and by
//! the engine's compilation settings, so a restart (or a plugin copied back
//! in) loads in milliseconds instead of compiling again.
//!
//! An entry is machine code the server will run, so it is trusted only if
//! this server wrote it: each starts with an HMAC-SHA256, under the private
//! folder's secret key, of the entry's name and the code. Anyone else's entry
//! — forged, damaged, or renamed from another plugin's — fails the check and
//! is compiled again and overwritten; the folder itself is private
//! ([`PrivateDir`]).

use std::hash::{Hash, Hasher};
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::private_dir::{Key, PrivateDir};
use crate::{LoadError, content_hash, write_atomically};

/// Bytes of the HMAC that starts every entry.
const TAG_BYTES: usize = 32;

pub(super) struct ComponentCache {
    dir: PrivateDir,
    /// The HMAC under the folder's key, before any input.
    keyed: Hmac<Sha256>,
    /// Identifies the engine's settings: entries of another wasmtime version
    /// or configuration have other names.
    engine_key: String,
}

impl ComponentCache {
    pub(super) fn open(dir: PrivateDir, engine: &Engine) -> Result<ComponentCache, LoadError> {
        let key: Key = dir.key().map_err(LoadError::Cache)?;
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .map_err(|e| LoadError::Engine(format!("cannot key the cache: {e}")))?;
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(ComponentCache {
            dir,
            keyed,
            engine_key: format!("{:016x}", hasher.finish()),
        })
    }

    /// The component for `wasm`, from the cache or compiled (and then cached).
    pub(super) fn component(&self, engine: &Engine, wasm: &[u8]) -> Result<Component, LoadError> {
        let name = format!("{}-{}.cwasm", content_hash(wasm), self.engine_key);
        let path = self.dir.path().join(&name);
        if let Some(component) = self.read(engine, &path, &name) {
            tracing::debug!(path = %path.display(), "compiled plugin taken from the cache");
            return Ok(component);
        }
        let component = Component::new(engine, wasm).map_err(LoadError::compile)?;
        if let Err(e) = self.write(&component, &path, &name) {
            tracing::warn!(
                "cannot cache the compiled plugin in {}: {e}",
                self.dir.path().display()
            );
        }
        Ok(component)
    }

    fn read(&self, engine: &Engine, path: &Path, name: &str) -> Option<Component> {
        let bytes = std::fs::read(path).ok()?;
        let (tag, code) = bytes.split_at_checked(TAG_BYTES)?;
        if self.mac(name, code).verify_slice(tag).is_err() {
            tracing::warn!(path = %path.display(), "cache entry not written by this server; compiling again");
            return None;
        }
        // SAFETY: `deserialize` trusts the bytes to be machine code that this
        // engine produced. They are: the tag shows, under a key only this
        // server's user can read, that `write` below wrote exactly these
        // bytes under this name, which names the engine's settings.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, code) };
        component
            .inspect_err(|e| tracing::warn!(path = %path.display(), "unusable cache entry ({e}); compiling again"))
            .ok()
    }

    fn write(
        &self,
        component: &Component,
        path: &Path,
        name: &str,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let code = component.serialize()?;
        let mut bytes = self.mac(name, &code).finalize().into_bytes().to_vec();
        bytes.extend_from_slice(&code);
        write_atomically(path, &bytes)?;
        Ok(())
    }

    /// The HMAC of an entry: its name (the plugin's hash and the engine's
    /// settings), then its code.
    fn mac(&self, name: &str, code: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac.update(code);
        mac
    }
}
