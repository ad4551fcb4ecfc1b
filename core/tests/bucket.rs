//! A data root in a bucket (object_store's in-memory store): an object that
//! changes between the listing and the read is read again, once, at its new
//! version; a listing that shows a changed object drops only its series
//! from the cache; a read fetches the file about once, and a window of it
//! only the row groups it needs. Several seeds: the series differ in length,
//! values and window.

use std::sync::Arc;
use std::time::Duration;

use candela_core::load::{Stop, TimeWindow};
use candela_core::storage::{Bucket, DataRoot, ObjectPath, StorageSettings};
use candela_core::synthetic::{continuous_minutes, write_parquet};
use candela_core::{BarFrame, Engine, Store, StoreConfig, Timeframe};
use candela_testkit::counting::CountingStore;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use object_store::ObjectStoreExt;
use object_store::memory::InMemory;
use rand::{Rng, SeedableRng};

/// The parquet bytes of `bars`, as `candela sample-data` writes them.
fn parquet(bars: &BarFrame) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bars.parquet");
    write_parquet(bars, &path).expect("write");
    std::fs::read(path).expect("read")
}

struct Market {
    objects: Arc<InMemory>,
    runtime: tokio::runtime::Runtime,
    engine: Engine,
}

impl Market {
    /// A bucket holding `series` (`(symbol, bars)`, one minute each), its
    /// listing trusted for an hour so that only a read or a rescan sees a
    /// change.
    fn new(series: &[(&str, &BarFrame)]) -> Market {
        let objects = Arc::new(InMemory::new());
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let market = |objects: Arc<InMemory>| {
            let settings = StorageSettings {
                list_interval: Duration::from_secs(3600),
                ..StorageSettings::default()
            };
            let bucket = Bucket::with_store(
                "memory://market".into(),
                objects,
                ObjectPath::default(),
                &settings,
            )
            .expect("bucket");
            let store = Store::open(StoreConfig::in_root(DataRoot::Bucket(Arc::new(bucket))))
                .expect("store");
            Engine::new(Arc::new(store), 2).expect("engine")
        };
        for (symbol, bars) in series {
            put(&runtime, &objects, symbol, bars);
        }
        Market {
            engine: market(Arc::clone(&objects)),
            objects,
            runtime,
        }
    }

    fn put(&self, symbol: &str, bars: &BarFrame) {
        put(&self.runtime, &self.objects, symbol, bars);
    }

    fn bars(&self, symbol: &str) -> Arc<BarFrame> {
        let timeframe: Timeframe = "1m".parse().expect("timeframe");
        self.runtime
            .block_on(self.engine.bars(&format!("TEST:{symbol}"), timeframe))
            .unwrap_or_else(|e| panic!("{symbol}: {e}"))
            .frame
    }
}

fn put(runtime: &tokio::runtime::Runtime, objects: &InMemory, symbol: &str, bars: &BarFrame) {
    let key = ObjectPath::from(format!("TEST/{symbol}/1m/bars.parquet"));
    runtime
        .block_on(objects.put(&key, parquet(bars).into()))
        .expect("put");
}

#[test]
fn an_object_changed_after_its_listing_is_read_again_at_its_new_version() {
    for seed in [1, 2, 3] {
        let listed = continuous_minutes(2_000 + seed as usize * 100, seed);
        let market = Market::new(&[("AAA", &listed)]);
        let rewritten = continuous_minutes(3_000 + seed as usize * 100, seed + 10);
        market.put("AAA", &rewritten);

        let read = market.bars("AAA");
        assert_eq!(read.time(), rewritten.time(), "seed {seed}: times");
        assert_eq!(read.close(), rewritten.close(), "seed {seed}: closes");
    }
}

#[test]
fn a_changed_object_drops_only_its_own_series() {
    for seed in [4, 5, 6] {
        let (a, b) = (
            continuous_minutes(1_500, seed),
            continuous_minutes(1_700, seed + 1),
        );
        let market = Market::new(&[("AAA", &a), ("BBB", &b)]);
        assert_eq!(market.bars("AAA").close(), a.close());
        assert_eq!(market.bars("BBB").close(), b.close());
        let store = market.engine.store();
        let reads = store.parquet_reads();

        let changed = continuous_minutes(1_600, seed + 20);
        market.put("AAA", &changed);
        // Until the listing is due, the series listed is served.
        assert_eq!(market.bars("AAA").close(), a.close(), "seed {seed}");
        store.rescan();
        assert_eq!(market.bars("AAA").close(), changed.close(), "seed {seed}");
        assert_eq!(market.bars("BBB").close(), b.close(), "seed {seed}");
        assert_eq!(
            store.parquet_reads() - reads,
            1,
            "seed {seed}: only the changed series is read again"
        );
    }
}

/// The bars as one parquet file of row groups of `group_rows` rows.
fn in_row_groups(bars: &BarFrame, group_rows: usize) -> Vec<u8> {
    let batch = bars.record_batch();
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut bytes = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut bytes, batch.schema(), Some(properties)).expect("writer");
    writer.write(batch).expect("write");
    writer.close().expect("close");
    bytes
}

#[test]
fn a_read_fetches_the_file_about_once_and_a_window_only_its_row_groups() {
    const ROWS: usize = 200_000;
    const GROUPS: usize = 20;
    for seed in [7, 8, 9] {
        let bars = continuous_minutes(ROWS, seed);
        let file = in_row_groups(&bars, ROWS / GROUPS);
        let size = file.len() as u64;
        let counting = Arc::new(CountingStore::new(Arc::new(InMemory::new())));
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let key = ObjectPath::from("TEST/AAA/1m/bars.parquet");
        runtime
            .block_on(counting.put(&key, file.into()))
            .expect("put");
        let bucket = Bucket::with_store(
            "memory://counted".into(),
            Arc::clone(&counting) as _,
            ObjectPath::default(),
            &StorageSettings::default(),
        )
        .expect("bucket");
        let store =
            Store::open(StoreConfig::in_root(DataRoot::Bucket(Arc::new(bucket)))).expect("store");
        let plan = store
            .plan("TEST:AAA", "1m".parse().expect("timeframe"))
            .expect("plan");

        counting.reset();
        let whole = store
            .source_window(&plan, TimeWindow::ALL, Stop::never())
            .expect("whole");
        assert_eq!(whole.time(), bars.time(), "seed {seed}");
        let whole_fetched = counting.bytes();
        assert!(
            whole_fetched as f64 <= 1.1 * size as f64,
            "seed {seed}: a full read fetched {whole_fetched} bytes of a {size}-byte file"
        );

        // 5% of the bars, anywhere: within one or two row groups.
        let first = rand_chacha::ChaCha8Rng::seed_from_u64(seed).random_range(0..ROWS - ROWS / 20);
        let rows = first..first + ROWS / 20;
        let window = TimeWindow {
            from: bars.time()[rows.start],
            to: bars.time()[rows.end - 1],
        };
        counting.reset();
        let read = store
            .source_window(&plan, window, Stop::never())
            .expect("window");
        let inside = read.rows_between(window.from, window.to + 1);
        assert_eq!(
            &read.time()[inside.clone()],
            &bars.time()[rows.clone()],
            "seed {seed}"
        );
        assert_eq!(&read.close()[inside], &bars.close()[rows], "seed {seed}");
        let fetched = counting.bytes();
        assert!(
            fetched as f64 <= 0.15 * size as f64,
            "seed {seed}: a 5% window fetched {fetched} bytes of a {size}-byte file"
        );
        println!(
            "seed {seed}: whole read {:.3} of the file, 5% window {:.3}",
            whole_fetched as f64 / size as f64,
            fetched as f64 / size as f64
        );
    }
}
