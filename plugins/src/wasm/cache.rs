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
//!
//! Every new version of a plugin adds an entry, so a server left running
//! while plugins are rebuilt keeps only the [`KEPT_ENTRIES`] last used
//! (an entry's modification time is its last use).

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::private_dir::{Key, PrivateDir};
use crate::{LoadError, content_hash, write_atomically};

/// Bytes of the HMAC that starts every entry.
const TAG_BYTES: usize = 32;

/// Entries kept: far more plugins than a folder holds, each a few MiB.
const KEPT_ENTRIES: usize = 64;

const EXTENSION: &str = "cwasm";

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
        let name = format!("{}-{}.{EXTENSION}", content_hash(wasm), self.engine_key);
        let path = self.dir.path().join(&name);
        if let Some(component) = self.read(engine, &path, &name) {
            tracing::debug!(path = %path.display(), "compiled plugin taken from the cache");
            mark_used(&path);
            return Ok(component);
        }
        let component = Component::new(engine, wasm).map_err(LoadError::compile)?;
        match self.write(&component, &path, &name) {
            Ok(()) => prune(self.dir.path(), KEPT_ENTRIES),
            Err(e) => tracing::warn!(
                "cannot cache the compiled plugin in {}: {e}",
                self.dir.path().display()
            ),
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

/// Records a use of the entry at `path`, for [`prune`]; a failure only makes
/// it look older.
fn mark_used(path: &Path) {
    let touched = File::options()
        .append(true)
        .open(path)
        .and_then(|file| file.set_modified(SystemTime::now()));
    if let Err(e) = touched {
        tracing::debug!(path = %path.display(), "cannot mark the cache entry used: {e}");
    }
}

/// Removes all but the `kept` most recently used entries of `dir`.
fn prune(dir: &Path, kept: usize) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(SystemTime, PathBuf)> = listing
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|x| x == EXTENSION))
        .filter_map(|path| Some((path.metadata().ok()?.modified().ok()?, path)))
        .collect();
    if entries.len() <= kept {
        return;
    }
    entries.sort_unstable_by_key(|(used, _)| std::cmp::Reverse(*used));
    for (_, path) in &entries[kept..] {
        match std::fs::remove_file(path) {
            Ok(()) => {
                tracing::debug!(path = %path.display(), "removed a cache entry unused for longest")
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot remove an old cache entry: {e}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_the_most_recently_used_entries_are_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (name, age) in [("a", 5), ("b", 1), ("c", 4), ("d", 2), ("e", 3)] {
            let path = dir.path().join(format!("{name}.{EXTENSION}"));
            std::fs::write(&path, name).expect("entry");
            let file = File::options().append(true).open(&path).expect("open");
            file.set_modified(epoch - Duration::from_secs(age))
                .expect("set time");
        }
        std::fs::write(dir.path().join("key"), "secret").expect("key");
        // `c` is used: now the newest.
        mark_used(&dir.path().join(format!("c.{EXTENSION}")));
        prune(dir.path(), 3);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("listing")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["b.cwasm", "c.cwasm", "d.cwasm", "key"]);
    }
}
