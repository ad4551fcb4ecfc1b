//! The store: the catalog snapshot, the choice of source timeframe, and a
//! memory-bounded cache of frames keyed by the state of the files they came
//! from — so a repeated request reads no parquet, and a changed, added or
//! removed file is picked up on the next request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use chrono_tz::Tz;
use moka::sync::Cache;

use crate::catalog::{Catalog, FolderState, SymbolId};
use crate::error::{Error, Result};
use crate::frame::BarFrame;
use crate::load::{DEFAULT_MAX_SERIES_ROWS, LoadError, Stop, StoredSeries, TimeWindow};
use crate::resample::resample;
use crate::storage::DataRoot;
use crate::timeframe::Timeframe;

/// How long a catalog snapshot is trusted before the root is scanned again.
const RESCAN_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub root: DataRoot,
    /// Time zone per provider; providers not listed use `default_zone`.
    pub zones: HashMap<String, Tz>,
    pub default_zone: Tz,
    /// Upper bound of the frame cache, in bytes; 0 caches nothing, so that
    /// every request reads parquet.
    pub cache_bytes: u64,
    /// Most bars one stored series may hold (all its files together).
    pub max_series_rows: u64,
}

impl StoreConfig {
    /// A data root in a folder.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StoreConfig::in_root(DataRoot::Folder(root.into()))
    }

    pub fn in_root(root: DataRoot) -> Self {
        StoreConfig {
            root,
            zones: HashMap::new(),
            default_zone: Tz::UTC,
            cache_bytes: 512 << 20,
            max_series_rows: DEFAULT_MAX_SERIES_ROWS,
        }
    }
}

/// How a read uses the frame cache.
#[derive(Debug, Clone)]
pub enum Caching {
    /// Served from the cache, or read once for everyone asking at the same
    /// time and kept: the charts' way.
    Keep,
    /// Served from the cache if there, else read for this caller alone,
    /// kept nowhere, and given up when the [`Stop`] says so: SQL's way, so
    /// that a scan over every series neither evicts the frames the charts
    /// use nor outlives its query.
    Peek(Stop),
}

impl Caching {
    fn stop(&self) -> &Stop {
        match self {
            Caching::Keep => Stop::never(),
            Caching::Peek(stop) => stop,
        }
    }
}

/// Which stored timeframe serves a request, and the files behind it now.
#[derive(Debug, Clone)]
pub struct SeriesPlan {
    pub symbol: SymbolId,
    pub zone: Tz,
    pub timeframe: Timeframe,
    pub source: Timeframe,
    pub folder: FolderState,
}

impl SeriesPlan {
    pub fn aggregated(&self) -> bool {
        self.source != self.timeframe
    }

    fn key(&self, timeframe: Timeframe) -> FrameKey {
        FrameKey {
            symbol: self.symbol.clone(),
            timeframe,
            fingerprint: self.folder.fingerprint,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FrameKey {
    symbol: SymbolId,
    timeframe: Timeframe,
    fingerprint: u64,
}

/// A stored series: a symbol at one of its stored timeframes.
type SeriesKey = (SymbolId, Timeframe);

/// The last frame read of a series and the files it was read from, so that
/// when part files are added only they are read. Weak: the cache decides
/// how long frames live.
#[derive(Debug)]
struct Held {
    folder: FolderState,
    frame: Weak<BarFrame>,
}

/// A file added to a series that could not be read: the series is served
/// as it was before it.
#[derive(Debug, Clone)]
pub struct SeriesFault {
    pub symbol: SymbolId,
    pub timeframe: Timeframe,
    pub error: Arc<LoadError>,
}

#[derive(Debug)]
pub struct Store {
    config: StoreConfig,
    catalog: RwLock<(Instant, Arc<Catalog>)>,
    cache: Option<Cache<FrameKey, Arc<BarFrame>>>,
    held: Mutex<HashMap<SeriesKey, Held>>,
    /// The series whose newest files cannot be read, by series.
    faults: Mutex<HashMap<SeriesKey, SeriesFault>>,
    parquet_reads: AtomicU64,
    /// Reads that peek ([`Caching::Peek`]) go one at a time: a SQL scan
    /// over every series takes one share of the loading threads, and the
    /// charts' reads keep the rest.
    peek_reads: Mutex<()>,
}

impl Store {
    pub fn open(config: StoreConfig) -> Result<Store> {
        let catalog = scan(&config.root)?;
        let cache = (config.cache_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(config.cache_bytes)
                .weigher(|_, frame: &Arc<BarFrame>| {
                    u32::try_from(frame.memory_size()).unwrap_or(u32::MAX)
                })
                .build()
        });
        Ok(Store {
            config,
            catalog: RwLock::new((Instant::now(), Arc::new(catalog))),
            cache,
            held: Mutex::default(),
            faults: Mutex::default(),
            parquet_reads: AtomicU64::new(0),
            peek_reads: Mutex::new(()),
        })
    }

    /// The current catalog, scanned again when the snapshot is older than
    /// 2 s (a folder's) or the listing interval (a bucket's).
    pub fn catalog(&self) -> Arc<Catalog> {
        let trusted = match &self.config.root {
            DataRoot::Folder(_) => RESCAN_AFTER,
            DataRoot::Bucket(bucket) => bucket.list_interval(),
        };
        if let Ok(guard) = self.catalog.read()
            && guard.0.elapsed() < trusted
        {
            return Arc::clone(&guard.1);
        }
        self.rescan()
    }

    /// The catalog scanned now (a watcher saw the data root change, or its
    /// listing is due); the snapshot kept if the root cannot be scanned,
    /// and tried again no sooner than the next is due.
    pub fn rescan(&self) -> Arc<Catalog> {
        match scan(&self.config.root) {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                if let Ok(mut guard) = self.catalog.write() {
                    *guard = (Instant::now(), Arc::clone(&fresh));
                }
                fresh
            }
            Err(e) => {
                tracing::error!(root = %self.config.root, "data root cannot be scanned: {e}");
                let mut guard = self.catalog.write().unwrap_or_else(PoisonError::into_inner);
                guard.0 = Instant::now();
                Arc::clone(&guard.1)
            }
        }
    }

    /// The data root.
    pub fn root(&self) -> &DataRoot {
        &self.config.root
    }

    /// The time zone of a provider's naive timestamps and calendar bins.
    pub fn zone(&self, provider: &str) -> Tz {
        self.config
            .zones
            .get(provider)
            .copied()
            .unwrap_or(self.config.default_zone)
    }

    /// Chooses the source for `symbol` at `timeframe`: the timeframe itself
    /// when stored, else the largest stored timeframe that divides it.
    pub fn plan(&self, symbol: &str, timeframe: Timeframe) -> Result<SeriesPlan> {
        let catalog = self.catalog();
        let entry = catalog.resolve(symbol)?;
        let source = if entry.timeframes.contains_key(&timeframe) {
            timeframe
        } else {
            entry
                .timeframes
                .keys()
                .rev()
                .copied()
                .find(|stored| stored.divides(timeframe))
                .ok_or_else(|| Error::NotServable {
                    symbol: entry.id.to_string(),
                    timeframe,
                    stored: entry.timeframes.keys().copied().collect(),
                })?
        };
        let folder = entry.timeframes[&source].state(catalog.root())?;
        Ok(SeriesPlan {
            symbol: entry.id.clone(),
            zone: self.zone(&entry.id.provider),
            timeframe,
            source,
            folder,
        })
    }

    /// The stored source frame of a plan, from the cache or read from disk.
    /// With [`Caching::Keep`], concurrent requests for a series not yet
    /// cached share one read, which the cache keeps.
    /// Blocking: call it off the async runtime.
    pub fn source_frame(&self, plan: &SeriesPlan, caching: &Caching) -> Result<Arc<BarFrame>> {
        let read = |stop: &Stop| {
            let _turn = self.turn(caching);
            let started = Instant::now();
            let frame = Arc::new(self.stored(plan, stop).load()?);
            self.count_read(plan, frame.len(), started, "read stored bars");
            Ok::<_, LoadError>(frame)
        };
        let key = plan.key(plan.source);
        match (&self.cache, caching) {
            (Some(cache), Caching::Keep) => cache.try_get_with(key, || {
                if let Some(grown) = self.grown(plan) {
                    return Ok(grown);
                }
                let frame = read(Stop::never())?;
                self.hold(plan, &frame);
                Ok(frame)
            }),
            (Some(cache), Caching::Peek(stop)) => match cache.get(&key) {
                Some(frame) => Ok(frame),
                None => read(stop).map_err(Arc::new),
            },
            (None, caching) => read(caching.stop()).map_err(Arc::new),
        }
        .map_err(|source| load_error(plan, source))
    }

    /// The stored source bars of a plan that may lie in `window`: the whole
    /// series if it is cached, else only the row groups of its files whose
    /// statistics meet the window, read for this caller and kept nowhere
    /// (SQL's way, [`Caching::Peek`]). Rows outside the window may be in it:
    /// the caller cuts. Blocking: call it off the async runtime.
    pub fn source_window(
        &self,
        plan: &SeriesPlan,
        window: TimeWindow,
        stop: &Stop,
    ) -> Result<Arc<BarFrame>> {
        if let Some(frame) = self.get(&plan.key(plan.source)) {
            return Ok(frame);
        }
        let _turn = self.turn(&Caching::Peek(stop.clone()));
        let started = Instant::now();
        let frame = self
            .stored(plan, stop)
            .load_window(window)
            .map_err(|source| load_error(plan, Arc::new(source)))?;
        self.count_read(
            plan,
            frame.len(),
            started,
            "read the stored bars of a window",
        );
        Ok(Arc::new(frame))
    }

    /// The bars of an aggregated plan: its cached source folded, or else the
    /// source read from disk and folded while it is decoded (and, with
    /// [`Caching::Keep`], cached). Concurrent requests that keep a source
    /// not yet cached share one read: the one that reads it gets the bars
    /// folded while decoding, the others fold the source it leaves in the
    /// cache. Blocking: call it off the async runtime.
    pub fn resampled_frame(&self, plan: &SeriesPlan, caching: &Caching) -> Result<BarFrame> {
        let started = Instant::now();
        let cache = match (&self.cache, caching) {
            (Some(cache), Caching::Keep) => cache,
            (cache, caching) => {
                if let Some(source) = cache.as_ref().and_then(|c| c.get(&plan.key(plan.source))) {
                    return Ok(resample(&source, plan.timeframe, plan.zone));
                }
                let _turn = self.turn(caching);
                let bars = self
                    .stored(plan, caching.stop())
                    .load_aggregated(plan.timeframe)
                    .map_err(|source| load_error(plan, Arc::new(source)))?;
                self.count_read(plan, bars.len(), started, &folded(plan, &bars));
                return Ok(bars);
            }
        };
        let mut folded_here = None;
        let source = cache
            .try_get_with(plan.key(plan.source), || {
                if let Some(grown) = self.grown(plan) {
                    return Ok(grown);
                }
                let read = self
                    .stored(plan, Stop::never())
                    .load_with_source(plan.timeframe)?;
                self.count_read(
                    plan,
                    read.source.len(),
                    started,
                    &folded(plan, &read.aggregated),
                );
                folded_here = Some(read.aggregated);
                let source = Arc::new(read.source);
                self.hold(plan, &source);
                Ok::<_, LoadError>(source)
            })
            .map_err(|source| load_error(plan, source))?;
        Ok(folded_here.unwrap_or_else(|| resample(&source, plan.timeframe, plan.zone)))
    }

    /// The series of `plan` when only part files were added to it since it
    /// was last read (and that frame is still held): those files read
    /// alone and joined after its bars. A joined file that cannot be read
    /// leaves the series as it was, and the fault is kept for whoever
    /// follows the series ([`Store::faults`]). None when the whole series
    /// is to be read: the first read, a file changed or removed, or new
    /// bars that do not all come after the old ones.
    fn grown(&self, plan: &SeriesPlan) -> Option<Arc<BarFrame>> {
        let series = (plan.symbol.clone(), plan.source);
        let held = lock(&self.held);
        let before = held.get(&series)?;
        let added = plan.folder.added_since(&before.folder)?.to_vec();
        let frame = before.frame.upgrade()?;
        drop(held);
        let started = Instant::now();
        let read = StoredSeries {
            files: &added,
            ..self.stored(plan, Stop::never())
        }
        .load();
        match read {
            Ok(new)
                if frame.len() + new.len()
                    > usize::try_from(self.config.max_series_rows).unwrap_or(usize::MAX) =>
            {
                None
            }
            Ok(new)
                if new
                    .time()
                    .first()
                    .is_none_or(|&t| frame.time().last().is_none_or(|&l| t > l)) =>
            {
                self.count_read(
                    plan,
                    new.len(),
                    started,
                    "read the new part files of a stored series",
                );
                let joined = Arc::new(
                    BarFrame::from_batches(&[
                        frame.record_batch().clone(),
                        new.record_batch().clone(),
                    ])
                    .ok()?,
                );
                self.hold(plan, &joined);
                Some(joined)
            }
            // New bars among the old: the series is read again whole, as the files say.
            Ok(_) => None,
            Err(error) => {
                tracing::error!(symbol = %plan.symbol, timeframe = %plan.source, "{error}; serving the series as it was before it");
                let fault = SeriesFault {
                    symbol: plan.symbol.clone(),
                    timeframe: plan.source,
                    error: Arc::new(error),
                };
                lock(&self.faults).insert(series, fault);
                Some(frame)
            }
        }
    }

    /// Remembers the files `frame` was read from, for the next read of its series.
    fn hold(&self, plan: &SeriesPlan, frame: &Arc<BarFrame>) {
        lock(&self.faults).remove(&(plan.symbol.clone(), plan.source));
        lock(&self.held).insert(
            (plan.symbol.clone(), plan.source),
            Held {
                folder: plan.folder.clone(),
                frame: Arc::downgrade(frame),
            },
        );
    }

    /// The series served as they were because their newest files cannot be read.
    pub fn faults(&self) -> Vec<SeriesFault> {
        lock(&self.faults).values().cloned().collect()
    }

    /// Waits for a peeking read's turn; a read that keeps needs none.
    fn turn(&self, caching: &Caching) -> Option<std::sync::MutexGuard<'_, ()>> {
        matches!(caching, Caching::Peek(_)).then(|| {
            self.peek_reads
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        })
    }

    fn stored<'a>(&'a self, plan: &'a SeriesPlan, stop: &'a Stop) -> StoredSeries<'a> {
        let root = match &self.config.root {
            DataRoot::Folder(folder) => folder.as_path(),
            DataRoot::Bucket(_) => std::path::Path::new(""),
        };
        StoredSeries {
            files: &plan.folder.files,
            zone: plan.zone,
            root,
            max_rows: self.config.max_series_rows,
            stop,
        }
    }

    /// Counts and logs a series just read from parquet.
    fn count_read(&self, plan: &SeriesPlan, bars: usize, started: Instant, what: &str) {
        self.parquet_reads.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            symbol = %plan.symbol, timeframe = %plan.source, files = plan.folder.files.len(),
            bars, elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "{what}"
        );
    }

    /// The frame of a plan's target timeframe if it is cached.
    pub fn cached(&self, plan: &SeriesPlan) -> Option<Arc<BarFrame>> {
        self.get(&plan.key(plan.timeframe))
    }

    /// Remembers the frame of a plan's target timeframe.
    pub fn remember(&self, plan: &SeriesPlan, frame: Arc<BarFrame>) {
        self.insert(plan.key(plan.timeframe), frame);
    }

    fn get(&self, key: &FrameKey) -> Option<Arc<BarFrame>> {
        self.cache.as_ref()?.get(key)
    }

    fn insert(&self, key: FrameKey, frame: Arc<BarFrame>) {
        if let Some(cache) = &self.cache {
            cache.insert(key, frame);
        }
    }

    /// How many times stored series were read from parquet.
    pub fn parquet_reads(&self) -> u64 {
        self.parquet_reads.load(Ordering::Relaxed)
    }
}

/// The catalog of `root`: a folder scanned, a bucket listed.
fn scan(root: &DataRoot) -> Result<Catalog> {
    match root {
        DataRoot::Folder(folder) => Ok(Catalog::scan(folder)?),
        DataRoot::Bucket(bucket) => Ok(Catalog::of_listing(bucket.list()?)),
    }
}

/// What a read that folded `bars` while decoding says in the log.
fn folded(plan: &SeriesPlan, bars: &BarFrame) -> String {
    format!(
        "read stored bars, aggregated to {} ({} bars) while decoding",
        plan.timeframe,
        bars.len()
    )
}

/// A lock held only to read or change a map: a panic elsewhere poisons nothing worth refusing.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn load_error(plan: &SeriesPlan, source: Arc<LoadError>) -> Error {
    Error::Load {
        symbol: plan.symbol.to_string(),
        timeframe: plan.source,
        source,
    }
}
