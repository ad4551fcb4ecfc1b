//! The plugin folder: every `.wasm` in it (and, when allowed, every native
//! library) is loaded into the registry at start, and the folder is watched
//! so that a file added, replaced or removed while the server runs is loaded,
//! swapped or dropped within a fraction of a second.
//!
//! Requests in flight keep the plugin they resolved (the registry hands out
//! `Arc`s), so a swap never fails them. A plugin whose id is a built-in's, or
//! another plugin file's, is refused with a log line; between two files
//! claiming one id, the first by name wins. A file that does not load is
//! logged and skipped, and tried again when it changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use candela_core::indicator::{Indicator, Origin, Registry};
use candela_core::watch::{self, Cadence, FolderWatch, Stamp, WatchError};

use crate::{Limits, LoadError, WasmRuntime, lock, native};

/// Changes 150 ms apart are one (a copy writes a file in several steps); the
/// folder is also rescanned every 5 s, in case a change was missed.
const CADENCE: Cadence = Cadence {
    quiet: Duration::from_millis(150),
    poll: Duration::from_secs(5),
    recursive: false,
};

/// Where plugins come from and what they may do.
#[derive(Debug, Clone)]
pub struct FolderConfig {
    pub dir: PathBuf,
    /// Compiled components and private copies of native libraries.
    pub cache_dir: PathBuf,
    pub limits: Limits,
    /// Load native libraries (unsandboxed) as well as WASM components.
    pub allow_native: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("cannot use plugin folder {}: {source}", dir.display())]
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("plugin folder: {0}")]
    Watch(#[from] WatchError),
    #[error(transparent)]
    Runtime(#[from] LoadError),
}

/// A watched plugin folder. Dropping it stops the watching; loaded plugins
/// stay in the registry.
#[derive(Debug)]
pub struct PluginFolder {
    scanner: Arc<Mutex<Scanner>>,
    _watch: FolderWatch,
}

impl PluginFolder {
    /// Creates the folder if needed, loads what it holds and starts watching.
    pub fn open(
        config: FolderConfig,
        registry: Arc<Registry>,
    ) -> Result<PluginFolder, FolderError> {
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| FolderError::Folder {
            dir: dir.clone(),
            source,
        })?;
        let runtime = WasmRuntime::new(config.limits, Some(config.cache_dir.join("wasm")))?;
        let scanner = Arc::new(Mutex::new(Scanner {
            config,
            runtime,
            registry,
            files: BTreeMap::new(),
            active: BTreeMap::new(),
        }));
        let summary = lock(&scanner).rescan();
        tracing::info!(folder = %dir.display(), "plugins: {summary}");

        let watched = Arc::clone(&scanner);
        let watch = watch::follow(&dir, "plugin-folder", CADENCE, move || {
            let summary = lock(&watched).rescan();
            tracing::debug!("plugins: {summary}");
        })?;
        Ok(PluginFolder {
            scanner,
            _watch: watch,
        })
    }

    /// Brings the registry in step with the folder now, without waiting for
    /// the watcher.
    pub fn rescan(&self) -> String {
        lock(&self.scanner).rescan()
    }

    /// The id and file of every plugin in the registry, by id.
    pub fn active(&self) -> Vec<(String, PathBuf)> {
        lock(&self.scanner)
            .active
            .iter()
            .map(|(id, path)| (id.clone(), path.clone()))
            .collect()
    }
}

#[derive(Debug)]
struct Scanner {
    config: FolderConfig,
    runtime: WasmRuntime,
    registry: Arc<Registry>,
    /// Every plugin file seen, by path.
    files: BTreeMap<PathBuf, Entry>,
    /// Plugins in the registry: id → file.
    active: BTreeMap<String, PathBuf>,
}

#[derive(Debug)]
struct Entry {
    stamp: Stamp,
    plugin: Option<Arc<dyn Indicator>>,
    /// Why the plugin is not in the registry, as last logged.
    refusal: Option<String>,
}

impl Scanner {
    /// Loads new and changed files, forgets removed ones, and updates the
    /// registry; returns a one-line summary.
    fn rescan(&mut self) -> String {
        let found = match self.list() {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(folder = %self.config.dir.display(), "cannot list the plugin folder: {e}");
                return "folder unreadable".into();
            }
        };
        self.files.retain(|path, _| found.contains_key(path));
        for (path, stamp) in found {
            if self.files.get(&path).is_some_and(|e| e.stamp == stamp) {
                continue;
            }
            let plugin = self
                .load(&path)
                .inspect_err(|e| tracing::warn!("plugin {}: skipped, it {e}", name(&path)))
                .ok();
            self.files.insert(
                path,
                Entry {
                    stamp,
                    plugin,
                    refusal: None,
                },
            );
        }
        self.assign()
    }

    /// Plugin files in the folder, by path. Hidden files (editors' and
    /// copies' temporaries) are ignored.
    fn list(&self) -> std::io::Result<BTreeMap<PathBuf, Stamp>> {
        let mut found = BTreeMap::new();
        for entry in std::fs::read_dir(&self.config.dir)? {
            let path = entry?.path();
            if watch::is_hidden(&path) || kind(&path).is_none() {
                continue;
            }
            if let Some(stamp) = Stamp::of_file(&path) {
                found.insert(path, stamp);
            }
        }
        Ok(found)
    }

    fn load(&self, path: &Path) -> Result<Arc<dyn Indicator>, LoadError> {
        let file = name(path);
        match kind(path) {
            Some(Kind::Wasm) => {
                let bytes = std::fs::read(path)?;
                Ok(Arc::new(self.runtime.load(&bytes, &file)?))
            }
            Some(Kind::Native) if self.config.allow_native => Ok(Arc::new(native::load(
                path,
                &self.config.cache_dir.join("native"),
                &file,
            )?)),
            Some(Kind::Native) => Err(LoadError::NativeDisabled),
            None => Err(LoadError::Compile("not a plugin file".into())),
        }
    }

    /// Decides which file serves each id, and makes the registry agree.
    fn assign(&mut self) -> String {
        let mut wanted: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut refused = 0;
        let mut broken = 0;
        for (path, entry) in &mut self.files {
            let Some(plugin) = &entry.plugin else {
                broken += 1;
                continue;
            };
            let id = &plugin.spec().id;
            let refusal = if self
                .registry
                .get(id)
                .is_some_and(|i| i.spec().origin == Origin::Builtin)
            {
                Some(format!(
                    "its id '{id}' is a built-in indicator's; choose another id"
                ))
            } else {
                wanted.get(id).map(|first| {
                    format!("its id '{id}' is already taken by {}; choose another id or remove one file", name(first))
                })
            };
            if refusal.is_some() && refusal != entry.refusal {
                tracing::warn!(
                    "plugin {}: refused, {}",
                    name(path),
                    refusal.as_deref().unwrap_or("")
                );
            }
            entry.refusal = refusal;
            if entry.refusal.is_some() {
                refused += 1;
            } else {
                wanted.insert(id.clone(), path.clone());
            }
        }
        for (id, path) in &self.active {
            if !wanted.contains_key(id) {
                self.registry.remove(id);
                tracing::info!("plugin '{id}' unloaded ({} is gone or changed)", name(path));
            }
        }
        for (id, path) in &wanted {
            let Some(plugin) = self.files.get(path).and_then(|e| e.plugin.clone()) else {
                continue;
            };
            let current = self.registry.get(id);
            if current.is_some_and(|c| Arc::ptr_eq(&c, &plugin)) {
                continue;
            }
            let verb = if self.active.contains_key(id) {
                "replaced"
            } else {
                "loaded"
            };
            let spec = plugin.spec();
            let origin = match spec.origin {
                Origin::Native => "native library",
                _ => "WebAssembly",
            };
            let summary = format!(
                "plugin '{id}' ({}) {verb} from {} ({origin}); parameters: {}; outputs: {}",
                spec.name,
                name(path),
                spec.params
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                spec.outputs
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            match self.registry.insert(plugin) {
                Ok(()) => tracing::info!("{summary}"),
                Err(e) => tracing::warn!("plugin {}: refused, {e}", name(path)),
            }
        }
        self.active = wanted;
        let ids: Vec<&str> = self.active.keys().map(String::as_str).collect();
        match ids.len() {
            0 => format!("none loaded, {refused} refused, {broken} skipped"),
            n => format!(
                "{n} loaded ({}), {refused} refused, {broken} skipped",
                ids.join(", ")
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Wasm,
    Native,
}

fn kind(path: &Path) -> Option<Kind> {
    match path.extension()?.to_str()? {
        "wasm" => Some(Kind::Wasm),
        "so" | "dylib" | "dll" => Some(Kind::Native),
        _ => None,
    }
}

/// The file name, for messages.
fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
