//! The plugin folder: every `.wasm` in it (and, when allowed, every native
//! library) is loaded into the registry at start, and the folder is watched
//! so that a file added, replaced or removed while the server runs is loaded,
//! swapped or dropped within a fraction of a second.
//!
//! Files are compiled on threads of their own, never under the lock that
//! requests and the watcher share, each within a time limit and a size
//! limit, so that a plugin slow to compile (or hostile) delays only itself:
//! start-up does not wait for plugins, which join the registry as they are
//! ready.
//!
//! Requests in flight keep the plugin they resolved (the registry hands out
//! `Arc`s), so a swap never fails them. A plugin whose id is a built-in's, or
//! another plugin file's, is refused with a log line; between two files
//! claiming one id, the first by name wins. A file that does not load is
//! logged and skipped, and tried again when it changes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use candela_core::indicator::{Indicator, Origin, Registry};
use candela_core::watch::{self, Cadence, ChangeSource, FolderWatch, Stamp, WatchError};

use crate::private_dir::{PrivateDir, PrivateDirError};
use crate::{Limits, LoadError, WasmRuntime, lock, native};

/// Changes 150 ms apart are one (a copy writes a file in several steps); the
/// folder is also rescanned every 5 s, in case a change was missed.
const CADENCE: Cadence = Cadence {
    quiet: Duration::from_millis(150),
    poll: Duration::from_secs(5),
    recursive: false,
    source: ChangeSource::Events,
};

/// Where plugins come from and what they may do.
#[derive(Debug, Clone)]
pub struct FolderConfig {
    pub dir: PathBuf,
    /// Compiled components and private copies of native libraries, in a
    /// private folder outside `dir`; none: every load compiles, and native
    /// libraries are not loaded.
    pub cache_dir: Option<PathBuf>,
    pub limits: Limits,
    /// Load native libraries (unsandboxed) as well as WASM components.
    pub allow_native: bool,
    /// Largest plugin file read.
    pub max_file_bytes: u64,
    /// Time one plugin may take to compile.
    pub compile_time: Duration,
}

impl FolderConfig {
    /// The folder `dir` with the default limits, caching in `cache_dir`.
    pub fn new(dir: PathBuf, cache_dir: Option<PathBuf>) -> FolderConfig {
        FolderConfig {
            dir,
            cache_dir,
            limits: Limits::default(),
            allow_native: false,
            max_file_bytes: 64 << 20,
            compile_time: Duration::from_secs(30),
        }
    }
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
    #[error("plugin cache: {0}")]
    Cache(#[from] PrivateDirError),
    #[error(
        "the plugin cache {} is inside the plugin folder {}, where plugin authors may write; choose a plugin_cache outside it",
        cache.display(), dir.display()
    )]
    CacheInFolder { cache: PathBuf, dir: PathBuf },
}

/// A watched plugin folder. Dropping it stops the watching; loaded plugins
/// stay in the registry.
#[derive(Debug)]
pub struct PluginFolder {
    shared: Arc<Shared>,
    _watch: FolderWatch,
}

#[derive(Debug)]
struct Shared {
    loader: Loader,
    registry: Arc<Registry>,
    /// Held for a whole scan (the first, the watcher's, a `rescan`), so that
    /// they follow one another; requests never wait for it.
    scanning: Mutex<()>,
    /// Held only to read or update what is known, never while compiling.
    state: Mutex<Scanner>,
}

impl PluginFolder {
    /// Creates the folder if needed, starts loading what it holds (in the
    /// background: call [`PluginFolder::rescan`] to wait) and watching.
    pub fn open(
        config: FolderConfig,
        registry: Arc<Registry>,
    ) -> Result<PluginFolder, FolderError> {
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| FolderError::Folder {
            dir: dir.clone(),
            source,
        })?;
        // Checked before the cache is created, and again once it exists
        // (through any symbolic link in its path).
        let inside = |cache: &Path| {
            let resolved = |p: &Path| p.canonicalize().or_else(|_| lexical(p));
            match (resolved(cache), resolved(&dir)) {
                (Ok(cache), Ok(dir)) => cache.starts_with(dir),
                _ => false,
            }
        };
        let in_folder = |cache: &Path| FolderError::CacheInFolder {
            cache: cache.to_path_buf(),
            dir: dir.clone(),
        };
        if let Some(cache) = config.cache_dir.as_deref().filter(|c| inside(c)) {
            return Err(in_folder(cache));
        }
        let cache = config
            .cache_dir
            .as_deref()
            .map(PrivateDir::open)
            .transpose()?;
        if let Some(cache) = cache.as_ref().filter(|c| inside(c.path())) {
            return Err(in_folder(cache.path()));
        }
        let runtime = WasmRuntime::new(config.limits, cache.as_ref())?;
        let shared = Arc::new(Shared {
            loader: Loader {
                config,
                runtime,
                cache,
            },
            registry,
            scanning: Mutex::new(()),
            state: Mutex::new(Scanner::default()),
        });
        let first = Arc::clone(&shared);
        let started = std::thread::Builder::new()
            .name("plugin-folder".into())
            .spawn(move || {
                let summary = first.rescan();
                tracing::info!(folder = %first.loader.config.dir.display(), "plugins: {summary}");
            });
        if let Err(e) = started {
            tracing::warn!("plugins: cannot load in the background ({e}); loading now");
            let summary = shared.rescan();
            tracing::info!(folder = %dir.display(), "plugins: {summary}");
        }
        let watched = Arc::clone(&shared);
        let watch = watch::follow(&dir, "plugin-folder", CADENCE, move || {
            let summary = watched.rescan();
            tracing::debug!("plugins: {summary}");
        })?;
        Ok(PluginFolder {
            shared,
            _watch: watch,
        })
    }

    /// Brings the registry in step with the folder now, without waiting for
    /// the watcher: returns when every file in it is loaded or refused.
    pub fn rescan(&self) -> String {
        self.shared.rescan()
    }

    /// The id and file of every plugin in the registry, by id.
    pub fn active(&self) -> Vec<(String, PathBuf)> {
        lock(&self.shared.state)
            .active
            .iter()
            .map(|(id, path)| (id.clone(), path.clone()))
            .collect()
    }
}

impl Shared {
    /// Loads new and changed files, forgets removed ones, and updates the
    /// registry; returns a one-line summary.
    fn rescan(&self) -> String {
        let _scan = lock(&self.scanning);
        let found = match self.loader.list() {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(folder = %self.loader.config.dir.display(), "cannot list the plugin folder: {e}");
                return "folder unreadable".into();
            }
        };
        let changed: Vec<(PathBuf, Stamp)> = {
            let mut state = lock(&self.state);
            state.files.retain(|path, _| found.contains_key(path));
            found
                .into_iter()
                .filter(|(path, stamp)| state.files.get(path).is_none_or(|e| e.stamp != *stamp))
                .collect()
        };
        let loaded = self.loader.load_all(&changed);
        let mut state = lock(&self.state);
        for ((path, stamp), plugin) in changed.into_iter().zip(loaded) {
            let plugin = plugin
                .inspect_err(|e| tracing::warn!("plugin {}: skipped, it {e}", name(&path)))
                .ok();
            state.files.insert(
                path,
                Entry {
                    stamp,
                    plugin,
                    refusal: None,
                },
            );
        }
        state.assign(&self.registry)
    }
}

/// What reads and compiles plugin files; each compiling thread has a copy.
#[derive(Debug, Clone)]
struct Loader {
    config: FolderConfig,
    runtime: WasmRuntime,
    cache: Option<PrivateDir>,
}

#[derive(Debug, Default)]
struct Scanner {
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

type Loaded = Result<Arc<dyn Indicator>, LoadError>;

impl Loader {
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

    /// Loads each file on a thread of its own, waiting for each at most the
    /// compile time limit (a thread past it finishes unheeded).
    fn load_all(&self, files: &[(PathBuf, Stamp)]) -> Vec<Loaded> {
        let (done, finished) = mpsc::channel();
        let mut results: Vec<Option<Loaded>> = files.iter().map(|_| None).collect();
        for (i, (path, _)) in files.iter().enumerate() {
            let (done, path, loader) = (done.clone(), path.clone(), self.clone());
            let spawned = std::thread::Builder::new()
                .name("plugin-compile".into())
                .spawn(move || {
                    let _ = done.send((i, loader.load(&path)));
                });
            if let Err(e) = spawned {
                results[i] = Some(Err(LoadError::Io(e)));
            }
        }
        drop(done);
        let deadline = Instant::now() + self.config.compile_time;
        while results.iter().any(Option::is_none) {
            match finished.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok((i, loaded)) => results[i] = Some(loaded),
                Err(_) => break,
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(LoadError::CompileTime(self.config.compile_time))))
            .collect()
    }

    fn load(&self, path: &Path) -> Loaded {
        let file = name(path);
        let kind = kind(path).ok_or_else(|| LoadError::Compile("not a plugin file".into()))?;
        if kind == Kind::Native && !self.config.allow_native {
            return Err(LoadError::NativeDisabled);
        }
        let bytes = self.read(path)?;
        match kind {
            Kind::Wasm => Ok(Arc::new(self.runtime.load(&bytes, &file)?)),
            Kind::Native => {
                let copies = self.cache.as_ref().ok_or(LoadError::NoNativeCopies)?;
                let copies = copies.child("native").map_err(LoadError::Cache)?;
                Ok(Arc::new(native::load(path, &bytes, copies.path(), &file)?))
            }
        }
    }

    /// The file's bytes, if it is no larger than the limit (checked again
    /// while reading: the file may grow in between).
    fn read(&self, path: &Path) -> Result<Vec<u8>, LoadError> {
        let max = self.config.max_file_bytes;
        let too_large = |bytes| LoadError::TooLarge { bytes, max };
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        if size > max {
            return Err(too_large(size));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > max {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(bytes)
    }
}

impl Scanner {
    /// Decides which file serves each id, and makes the registry agree.
    fn assign(&mut self, registry: &Registry) -> String {
        let mut wanted: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut refused = 0;
        let mut broken = 0;
        for (path, entry) in &mut self.files {
            let Some(plugin) = &entry.plugin else {
                broken += 1;
                continue;
            };
            let id = &plugin.spec().id;
            let refusal = if registry
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
                registry.remove(id);
                tracing::info!("plugin '{id}' unloaded ({} is gone or changed)", name(path));
            }
        }
        for (id, path) in &wanted {
            let Some(plugin) = self.files.get(path).and_then(|e| e.plugin.clone()) else {
                continue;
            };
            let current = registry.get(id);
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
            match registry.insert(plugin) {
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

/// `path` made absolute, with `.` and `..` taken out as written.
fn lexical(path: &Path) -> std::io::Result<PathBuf> {
    let mut resolved = PathBuf::new();
    for component in std::path::absolute(path)?.components() {
        match component {
            Component::ParentDir => {
                resolved.pop();
            }
            Component::CurDir => {}
            other => resolved.push(other),
        }
    }
    Ok(resolved)
}

/// The file name, for messages.
fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
