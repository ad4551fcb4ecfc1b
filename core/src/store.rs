//! The store: the catalog snapshot, the choice of source timeframe, and a
//! memory-bounded cache of frames keyed by the state of the files they came
//! from — so a repeated request reads no parquet, and a changed, added or
//! removed file is picked up on the next request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono_tz::Tz;
use moka::sync::Cache;

use crate::catalog::{Catalog, FolderState, SymbolId};
use crate::error::{Error, Result};
use crate::frame::BarFrame;
use crate::load::{DEFAULT_MAX_SERIES_ROWS, LoadError, StoredSeries};
use crate::timeframe::Timeframe;

/// How long a catalog snapshot is trusted before the root is scanned again.
const RESCAN_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub root: PathBuf,
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
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StoreConfig {
            root: root.into(),
            zones: HashMap::new(),
            default_zone: Tz::UTC,
            cache_bytes: 512 << 20,
            max_series_rows: DEFAULT_MAX_SERIES_ROWS,
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

#[derive(Debug)]
pub struct Store {
    config: StoreConfig,
    catalog: RwLock<(Instant, Arc<Catalog>)>,
    cache: Option<Cache<FrameKey, Arc<BarFrame>>>,
    parquet_reads: AtomicU64,
}

impl Store {
    pub fn open(config: StoreConfig) -> Result<Store> {
        let catalog = Catalog::scan(&config.root)?;
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
            parquet_reads: AtomicU64::new(0),
        })
    }

    /// The current catalog, rescanned when the snapshot is older than 2 s.
    pub fn catalog(&self) -> Arc<Catalog> {
        if let Ok(guard) = self.catalog.read()
            && guard.0.elapsed() < RESCAN_AFTER
        {
            return Arc::clone(&guard.1);
        }
        match Catalog::scan(&self.config.root) {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                if let Ok(mut guard) = self.catalog.write() {
                    *guard = (Instant::now(), Arc::clone(&fresh));
                }
                fresh
            }
            Err(e) => {
                tracing::error!(root = %self.config.root.display(), "data root cannot be scanned: {e}");
                self.catalog
                    .read()
                    .map(|g| Arc::clone(&g.1))
                    .unwrap_or_default()
            }
        }
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
        let folder = FolderState::read(catalog.root(), &entry.timeframes[&source])?;
        Ok(SeriesPlan {
            symbol: entry.id.clone(),
            zone: self.zone(&entry.id.provider),
            timeframe,
            source,
            folder,
        })
    }

    /// The stored source frame of a plan, from the cache or read from disk.
    /// Blocking: call it off the async runtime.
    pub fn source_frame(&self, plan: &SeriesPlan) -> Result<Arc<BarFrame>> {
        if let Some(frame) = self.cached_source(plan) {
            return Ok(frame);
        }
        let started = Instant::now();
        let frame = self
            .stored(plan)
            .load()
            .map_err(|source| load_error(plan, source))?;
        let frame = Arc::new(frame);
        self.read(plan, Some(Arc::clone(&frame)), started, "read stored bars");
        Ok(frame)
    }

    /// The bars of an aggregated plan read from disk: its source is folded
    /// while it is decoded, and cached if the store caches anything.
    /// Blocking: call it off the async runtime.
    pub fn read_resampled(&self, plan: &SeriesPlan) -> Result<BarFrame> {
        let started = Instant::now();
        let stored = self.stored(plan);
        let (source, aggregated) = if self.cache.is_some() {
            let both = stored.load_with_source(plan.timeframe);
            both.map(|read| (Some(Arc::new(read.source)), read.aggregated))
        } else {
            stored
                .load_aggregated(plan.timeframe)
                .map(|bars| (None, bars))
        }
        .map_err(|source| load_error(plan, source))?;
        let what = format!(
            "read stored bars, aggregated to {} ({} bars) while decoding",
            plan.timeframe,
            aggregated.len()
        );
        self.read(plan, source, started, &what);
        Ok(aggregated)
    }

    fn stored<'a>(&'a self, plan: &'a SeriesPlan) -> StoredSeries<'a> {
        StoredSeries {
            files: &plan.folder.files,
            zone: plan.zone,
            root: &self.config.root,
            max_rows: self.config.max_series_rows,
        }
    }

    /// Counts, logs and caches (if kept) a source frame just read from parquet.
    fn read(&self, plan: &SeriesPlan, frame: Option<Arc<BarFrame>>, started: Instant, what: &str) {
        self.parquet_reads.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            symbol = %plan.symbol, timeframe = %plan.source, files = plan.folder.files.len(),
            bars = frame.as_ref().map(|f| f.len()), elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "{what}"
        );
        if let Some(frame) = frame {
            self.insert(plan.key(plan.source), frame);
        }
    }

    /// The source frame of a plan if it is cached.
    pub fn cached_source(&self, plan: &SeriesPlan) -> Option<Arc<BarFrame>> {
        self.get(&plan.key(plan.source))
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

fn load_error(plan: &SeriesPlan, source: LoadError) -> Error {
    Error::Load {
        symbol: plan.symbol.to_string(),
        timeframe: plan.source,
        source,
    }
}
