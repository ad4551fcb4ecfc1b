//! The runs folder: every subfolder (a bucket: every first part of its
//! keys) is a run, read at start and whenever its files change (or the data
//! root gains or loses a symbol, which may mend a run that named it).
//! mend a run that named it). Requests take a snapshot, so a run being
//! replaced never fails one in flight.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use candela_core::storage::DataRoot;
use candela_core::watch::{self, Cadence, ChangeSource, FolderWatch, WatchError};
use candela_core::{Store, SymbolId};

use crate::error::RunError;
use crate::files::{RunFiles, list_runs};
use crate::run::Run;
use crate::table::FileLimits;

/// A run written while the server runs shows within a second (notified),
/// or within 2 s where the file system sends no notifications.
const CADENCE: Cadence = Cadence {
    quiet: Duration::from_millis(200),
    poll: Duration::from_millis(1500),
    recursive: true,
    source: ChangeSource::Events,
};

/// Every run of the folder at one moment, by folder name.
#[derive(Debug, Default)]
pub struct RunSet {
    pub runs: BTreeMap<String, Result<Arc<Run>, RunError>>,
}

impl RunSet {
    /// The run named `id`, or why it cannot be shown (`None`: no such run).
    pub fn get(&self, id: &str) -> Option<&Result<Arc<Run>, RunError>> {
        self.runs.get(id)
    }

    /// What changed from `earlier` to this set, by run name. A run read
    /// again from changed files is changed even when it reads the same.
    pub fn changes_since(&self, earlier: &RunSet) -> Vec<RunChange> {
        let removed = earlier
            .runs
            .keys()
            .filter(|id| !self.runs.contains_key(*id))
            .map(|id| RunChange {
                run: id.clone(),
                kind: RunChangeKind::Removed,
            });
        let now = self.runs.iter().filter_map(|(id, result)| {
            let kind = match (earlier.runs.get(id), result) {
                (Some(Ok(was)), Ok(is)) if Arc::ptr_eq(was, is) => return None,
                (Some(Err(was)), Err(is)) if was == is => return None,
                (_, Err(_)) => RunChangeKind::Broken,
                (None, Ok(_)) => RunChangeKind::Added,
                (Some(_), Ok(_)) => RunChangeKind::Changed,
            };
            Some(RunChange {
                run: id.clone(),
                kind,
            })
        });
        let mut changes: Vec<RunChange> = removed.chain(now).collect();
        changes.sort_by(|a, b| a.run.cmp(&b.run));
        changes
    }
}

/// One run's change between two sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunChange {
    /// The run's folder name.
    pub run: String,
    pub kind: RunChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunChangeKind {
    /// A new run that can be shown.
    Added,
    /// A run read again (its files changed), or mended, that can be shown.
    Changed,
    /// A run, new or known, that cannot be shown now.
    Broken,
    /// A run whose folder is gone.
    Removed,
}

impl RunChangeKind {
    /// The name the API gives it.
    pub fn name(self) -> &'static str {
        match self {
            RunChangeKind::Added => "added",
            RunChangeKind::Changed => "changed",
            RunChangeKind::Broken => "broken",
            RunChangeKind::Removed => "removed",
        }
    }
}

/// Told each new set of runs that differs from the one before.
type Listener = Box<dyn Fn(&Arc<RunSet>) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("cannot use the runs folder {}: {source}", dir.display())]
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("runs folder: {0}")]
    Watch(#[from] WatchError),
    #[error("cannot follow the runs in {bucket}: {source}")]
    Poll {
        bucket: String,
        source: std::io::Error,
    },
}

/// The watched runs folder: a folder, or a prefix of a bucket (listed
/// every `list_interval`). Dropping it stops the watching.
#[derive(Debug)]
pub struct RunsFolder {
    root: DataRoot,
    shared: Arc<Shared>,
    _watch: FolderWatch,
}

#[derive(Debug)]
struct Shared {
    scanner: Mutex<Scanner>,
    current: RwLock<Arc<RunSet>>,
    listeners: Listeners,
}

#[derive(Default)]
struct Listeners(Mutex<Vec<Listener>>);

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.lock().map_or(0, |l| l.len());
        write!(f, "{count} listeners")
    }
}

impl RunsFolder {
    /// Creates the folder if needed, reads its runs and starts watching.
    pub fn open(
        root: DataRoot,
        store: Arc<Store>,
        limits: FileLimits,
    ) -> Result<RunsFolder, FolderError> {
        if let DataRoot::Folder(dir) = &root {
            std::fs::create_dir_all(dir).map_err(|source| FolderError::Folder {
                dir: dir.clone(),
                source,
            })?;
        }
        let shared = Arc::new(Shared {
            scanner: Mutex::new(Scanner {
                root: root.clone(),
                store,
                limits,
                known: BTreeMap::new(),
                symbols: Vec::new(),
            }),
            current: RwLock::new(Arc::default()),
            listeners: Listeners::default(),
        });
        let summary = shared.rescan();
        tracing::info!(folder = %root, "runs: {summary}");
        let watched = Arc::clone(&shared);
        let on_change = move || {
            let summary = watched.rescan();
            tracing::debug!("runs: {summary}");
        };
        let watch = match &root {
            DataRoot::Folder(dir) => watch::follow(dir, "runs-folder", CADENCE, on_change)?,
            DataRoot::Bucket(bucket) => {
                watch::every("runs-folder", bucket.list_interval(), on_change).map_err(
                    |source| FolderError::Poll {
                        bucket: bucket.to_string(),
                        source,
                    },
                )?
            }
        };
        Ok(RunsFolder {
            root,
            shared,
            _watch: watch,
        })
    }

    /// Where the runs are.
    pub fn root(&self) -> &DataRoot {
        &self.root
    }

    /// The runs as they are now.
    pub fn snapshot(&self) -> Arc<RunSet> {
        Arc::clone(
            &self
                .shared
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Brings the snapshot in step with the folder now, without waiting for
    /// the watcher; returns a one-line summary.
    pub fn rescan(&self) -> String {
        self.shared.rescan()
    }

    /// Calls `listener` with each new set of runs that differs from the
    /// one before (a run added, read again, broken or removed), on the
    /// watching thread: it should only pass the set on.
    pub fn on_change(&self, listener: impl Fn(&Arc<RunSet>) + Send + Sync + 'static) {
        self.shared
            .listeners
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(listener));
    }
}

impl Shared {
    fn rescan(&self) -> String {
        let mut scanner = self.scanner.lock().unwrap_or_else(PoisonError::into_inner);
        let (set, summary) = scanner.rescan();
        let set = Arc::new(set);
        let earlier = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(PoisonError::into_inner),
            Arc::clone(&set),
        );
        if !set.changes_since(&earlier).is_empty() {
            let listeners = self
                .listeners
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            listeners.iter().for_each(|listener| listener(&set));
        }
        summary
    }
}

#[derive(Debug)]
struct Scanner {
    root: DataRoot,
    store: Arc<Store>,
    limits: FileLimits,
    known: BTreeMap<String, Known>,
    /// The data root's symbols when the runs were last read.
    symbols: Vec<SymbolId>,
}

#[derive(Debug)]
struct Known {
    files: RunFiles,
    result: Result<Arc<Run>, RunError>,
}

impl Scanner {
    fn rescan(&mut self) -> (RunSet, String) {
        let folders = match list_runs(&self.root) {
            Ok(folders) => folders,
            Err(e) => {
                tracing::warn!(folder = %self.root, "cannot list the runs folder: {e}");
                return (self.set(), "folder unreadable".into());
            }
        };
        let symbols: Vec<SymbolId> = self
            .store
            .catalog()
            .symbols()
            .map(|e| e.id.clone())
            .collect();
        let data_changed = symbols != self.symbols;
        self.symbols = symbols;
        self.known.retain(|id, _| {
            let kept = folders.contains_key(id);
            if !kept {
                tracing::info!("run '{id}' removed");
            }
            kept
        });
        for (id, files) in folders {
            let unchanged = self
                .known
                .get(&id)
                .is_some_and(|k| k.files == files && (k.result.is_ok() || !data_changed));
            if unchanged {
                continue;
            }
            let result = Run::read(id.clone(), &files, &self.store, self.limits).map(Arc::new);
            match &result {
                Ok(run) => tracing::info!(
                    "run '{id}' read: {} trades of {}, {} equity points{}",
                    run.trades.len(),
                    run.symbols
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    run.equity.time.len(),
                    if run.equity.derived { " (derived)" } else { "" }
                ),
                Err(e) => tracing::warn!("{e}"),
            }
            self.known.insert(id, Known { files, result });
        }
        let broken = self.known.values().filter(|k| k.result.is_err()).count();
        let summary = format!("{} runs, {broken} cannot be shown", self.known.len());
        (self.set(), summary)
    }

    fn set(&self) -> RunSet {
        RunSet {
            runs: self
                .known
                .iter()
                .map(|(id, k)| (id.clone(), k.result.clone()))
                .collect(),
        }
    }
}
