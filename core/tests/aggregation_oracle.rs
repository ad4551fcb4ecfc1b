//! Aggregation compared bar for bar with pandas' `resample`.
//!
//! Fixtures come from `tests/oracle/aggregation.py` (pandas): adversarial inputs
//! (both New York DST changes, naive wall-clock times, gaps of days, a single
//! bar, duplicate and unsorted timestamps across files, month and year
//! boundaries), the bundled sample data, and the real market data in
//! `tests/data/market` (see its `SOURCES.md`). Each case goes through
//! `Engine::bars`, the path that serves `/api/data`: source selection,
//! loading, and the DataFusion plan;
//! three times: folding bars already in memory (a caching store, whose
//! source frames stay loaded), folding them while they are decoded (a
//! store that caches nothing, as a cold request does), and reading them
//! by ranges from a bucket of moto's S3 server holding the same files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candela_core::storage::{Bucket, DataRoot, ObjectPath, StorageSettings};
use candela_core::{Engine, Store, StoreConfig};
use candela_testkit::moto::Moto;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    root: String,
    zone: String,
    symbol: String,
    timeframe: String,
    source: String,
    expected: Expected,
}

#[derive(Deserialize)]
struct Expected {
    time: Vec<i64>,
    open: Vec<Option<String>>,
    high: Vec<Option<String>>,
    low: Vec<Option<String>>,
    close: Vec<Option<String>>,
    volume: Vec<Option<String>>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixtures() -> Vec<(String, Case)> {
    let dir = repo().join("tests/fixtures/aggregation");
    let mut cases: Vec<(String, Case)> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("fixture");
            let name = p.file_stem().expect("name").to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).expect("fixture JSON"))
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

/// Where a case's bars are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    /// A caching store: the source frame stays loaded and is folded.
    InMemory,
    /// A store that caches nothing: folded while decoded.
    WhileDecoding,
    /// The same files in a bucket of moto's S3 server, read by ranges.
    FromBucket,
}

fn same(ours: &[f64], theirs: &[Option<String>]) -> Option<usize> {
    let theirs = theirs.iter().map(|v| {
        v.as_deref()
            .map_or(f64::NAN, |s| s.parse::<f64>().expect("float"))
    });
    ours.iter()
        .zip(theirs)
        .position(|(a, b)| !(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_case_matches_pandas_exactly() {
    let cases = fixtures();
    assert!(
        cases.len() >= 60,
        "fixtures missing: run tests/oracle/aggregation.py"
    );
    let moto = Moto::start();
    let bucket = moto.bucket("oracle");
    let mut uploaded = HashSet::new();
    let mut engines: HashMap<(String, String, Mode), Arc<Engine>> = HashMap::new();
    let mut failures = Vec::new();
    let modes = [Mode::InMemory, Mode::WhileDecoding, Mode::FromBucket];
    for ((name, case), mode) in modes
        .iter()
        .flat_map(|mode| cases.iter().map(move |case| (case, *mode)))
    {
        let name = format!("{name} ({mode:?})");
        let root = repo().join(&case.root);
        if !root.exists() {
            failures.push(format!("{name}: data root {} is missing", root.display()));
            continue;
        }
        let engine = engines
            .entry((case.root.clone(), case.zone.clone(), mode))
            .or_insert_with(|| {
                let mut config = match mode {
                    Mode::FromBucket => {
                        if uploaded.insert(case.root.clone()) {
                            Moto::upload(&bucket, &root, &case.root);
                        }
                        let bucket = Bucket::with_store(
                            format!("s3://oracle/{}", case.root),
                            Arc::clone(&bucket),
                            ObjectPath::from(case.root.as_str()),
                            &StorageSettings::default(),
                        )
                        .expect("bucket");
                        StoreConfig::in_root(DataRoot::Bucket(Arc::new(bucket)))
                    }
                    Mode::InMemory | Mode::WhileDecoding => StoreConfig::new(&root),
                };
                config.default_zone = case.zone.parse().expect("zone");
                config.cache_bytes = match mode {
                    Mode::InMemory => 512 << 20,
                    Mode::WhileDecoding | Mode::FromBucket => 0,
                };
                Arc::new(
                    Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine"),
                )
            });
        let bars = match engine
            .bars(&case.symbol, case.timeframe.parse().expect("timeframe"))
            .await
        {
            Ok(bars) => bars,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        assert_eq!(
            bars.source.to_string(),
            case.source,
            "{name}: source timeframe"
        );
        let frame = &bars.frame;
        if frame.time() != case.expected.time.as_slice() {
            let at = frame
                .time()
                .iter()
                .zip(&case.expected.time)
                .position(|(a, b)| a != b);
            failures.push(format!(
                "{name}: times differ ({} bars vs pandas {}; first difference at {at:?})",
                frame.len(),
                case.expected.time.len()
            ));
            continue;
        }
        let columns = [
            ("open", frame.open(), &case.expected.open),
            ("high", frame.high(), &case.expected.high),
            ("low", frame.low(), &case.expected.low),
            ("close", frame.close(), &case.expected.close),
            ("volume", frame.volume(), &case.expected.volume),
        ];
        for (column, ours, theirs) in columns {
            if let Some(i) = same(ours, theirs) {
                failures.push(format!(
                    "{name}: {column}[{i}] is {} but pandas says {:?}",
                    ours[i], theirs[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences from pandas in {} runs of cases:\n{}",
        failures.len(),
        modes.len() * cases.len(),
        failures.join("\n")
    );
}
