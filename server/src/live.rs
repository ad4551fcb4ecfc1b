//! Live bars: the data root followed (by its watcher, and a poll for file
//! systems that send no events), each changed series read again (only its
//! new part files, see `Store`), and every stream told. What a change
//! carries is small (which series); each stream computes its own answer
//! from the store, so nothing is buffered per subscriber. The runs folder's
//! sets of runs are passed on the same way, for `/api/runs/stream`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use candela_backtest::{RunSet, RunsFolder};
use candela_core::storage::DataRoot;
use candela_core::store::Caching;
use candela_core::watch::{self, Cadence, ChangeSource, FolderWatch, WatchError};
use candela_core::{Store, SymbolId, Timeframe};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, watch as signal};

/// Changes a slow stream may fall behind by before it reads them again whole.
const CHANGES_KEPT: usize = 256;

/// How live bars are followed and served.
#[derive(Debug, Clone, Copy)]
pub struct LiveConfig {
    /// The data root is looked at this often even without notifications.
    pub poll: Duration,
    /// Whether the file system's notifications are used besides.
    pub source: ChangeSource,
    /// Streams open at once; more are refused (the page then polls).
    pub max_streams: usize,
    /// A stream says it is alive this often.
    pub keep_alive: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            poll: Duration::from_millis(1_000),
            source: ChangeSource::Events,
            max_streams: 1_000,
            keep_alive: Duration::from_secs(15),
        }
    }
}

/// What changed in the data root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A series' bars changed: new ones, a replaced file, a removed one.
    Bars {
        symbol: SymbolId,
        timeframe: Timeframe,
    },
    /// A new file of a series cannot be read: the series is as it was.
    Fault {
        symbol: SymbolId,
        timeframe: Timeframe,
        message: String,
    },
}

impl Change {
    pub fn symbol(&self) -> &SymbolId {
        match self {
            Change::Bars { symbol, .. } | Change::Fault { symbol, .. } => symbol,
        }
    }
}

/// The live side of the server: changes as they happen, and the streams' bounds.
#[derive(Debug, Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    changes: broadcast::Sender<Change>,
    /// The runs as last read; streams diff each against the one they sent.
    runs: signal::Sender<Arc<RunSet>>,
    streams: Arc<Semaphore>,
    closing: signal::Sender<bool>,
    config: LiveConfig,
    _watch: Option<FolderWatch>,
}

impl Live {
    /// Follows `store`'s data root for as long as the returned value lives.
    pub fn follow(store: Arc<Store>, config: LiveConfig) -> Result<Live, WatchError> {
        let (changes, _) = broadcast::channel(CHANGES_KEPT);
        let sender = changes.clone();
        let root = store.root().clone();
        let mut seen = Fingerprints::of(&store);
        let on_change = move || {
            for change in seen.update(&store, sender.receiver_count() > 0) {
                tracing::info!(?change, "data root changed");
                let _ = sender.send(change);
            }
        };
        let watch = match &root {
            DataRoot::Folder(folder) => {
                let cadence = Cadence {
                    quiet: Duration::from_millis(20),
                    poll: config.poll,
                    recursive: true,
                    source: config.source,
                };
                watch::follow(folder, "data-root", cadence, on_change)?
            }
            // A bucket sends no events: its listing, when due, tells.
            DataRoot::Bucket(bucket) => {
                watch::every("data-root", bucket.list_interval(), on_change).map_err(|source| {
                    WatchError {
                        dir: PathBuf::from(bucket.to_string()),
                        source,
                    }
                })?
            }
        };
        Ok(Live::with(changes, config, Some(watch)))
    }

    /// Live bars without a data root to follow (tests, tools): streams are
    /// served, and nothing changes.
    pub fn still(config: LiveConfig) -> Live {
        Live::with(broadcast::channel(CHANGES_KEPT).0, config, None)
    }

    fn with(
        changes: broadcast::Sender<Change>,
        config: LiveConfig,
        watch: Option<FolderWatch>,
    ) -> Live {
        Live {
            inner: Arc::new(Inner {
                changes,
                runs: signal::channel(Arc::default()).0,
                streams: Arc::new(Semaphore::new(config.max_streams)),
                closing: signal::channel(false).0,
                config,
                _watch: watch,
            }),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }

    /// Passes on `folder`'s runs each time they change.
    pub fn follow_runs(&self, folder: &RunsFolder) {
        let runs = self.inner.runs.clone();
        runs.send_replace(folder.snapshot());
        folder.on_change(move |set| {
            runs.send_replace(Arc::clone(set));
        });
    }

    /// The runs, marked changed each time the runs folder's are.
    pub fn runs(&self) -> signal::Receiver<Arc<RunSet>> {
        self.inner.runs.subscribe()
    }

    /// A place for one more stream, if there is one.
    pub fn stream_permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.inner.streams).try_acquire_owned().ok()
    }

    pub fn config(&self) -> LiveConfig {
        self.inner.config
    }

    /// Ends every stream (the server is stopping).
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Resolves once the streams are to end.
    pub fn closing(&self) -> signal::Receiver<bool> {
        self.inner.closing.subscribe()
    }
}

/// Each stored series' folder as last seen.
struct Fingerprints(HashMap<(SymbolId, Timeframe), u64>);

impl Fingerprints {
    fn of(store: &Store) -> Fingerprints {
        Fingerprints(scan(store))
    }

    /// The series changed since the last look. With `read`, each is read
    /// now (its new part files alone), so that streams find it ready and a
    /// file that cannot be read is told as a fault.
    fn update(&mut self, store: &Store, read: bool) -> Vec<Change> {
        let now = scan(store);
        let seen = &mut self.0;
        let mut changes = Vec::new();
        let gone = seen.keys().filter(|k| !now.contains_key(*k)).cloned();
        let changed = now
            .iter()
            .filter(|(k, v)| seen.get(*k) != Some(*v))
            .map(|(k, _)| k.clone());
        let mut touched: Vec<_> = gone.chain(changed).collect();
        touched.sort();
        for (symbol, timeframe) in touched {
            let fault = read
                .then(|| read_series(store, &symbol, timeframe))
                .flatten();
            changes.push(match fault {
                Some(message) => Change::Fault {
                    symbol,
                    timeframe,
                    message,
                },
                None => Change::Bars { symbol, timeframe },
            });
        }
        *seen = now;
        changes
    }
}

/// Every stored series of the data root and its folder's fingerprint; the
/// store's catalog rescanned, so new symbols are listed at once.
fn scan(store: &Store) -> HashMap<(SymbolId, Timeframe), u64> {
    let catalog = store.rescan();
    let mut out = HashMap::new();
    for entry in catalog.symbols() {
        for (&timeframe, folder) in &entry.timeframes {
            if let Ok(folder) = folder.state(catalog.root()) {
                out.insert((entry.id.clone(), timeframe), folder.fingerprint);
            }
        }
    }
    out
}

/// Reads a changed series into the store's cache; the fault if its newest
/// files cannot be read (the series then as it was).
fn read_series(store: &Store, symbol: &SymbolId, timeframe: Timeframe) -> Option<String> {
    let plan = store.plan(&symbol.to_string(), timeframe).ok()?;
    if let Err(e) = store.source_frame(&plan, &Caching::Keep) {
        return Some(e.to_string());
    }
    store
        .faults()
        .into_iter()
        .find(|f| f.symbol == *symbol && f.timeframe == timeframe)
        .map(|f| f.error.to_string())
}
