//! The catalog of a bucket of 100,000 objects: listed through object_store
//! (its in-memory store, so that the figure is Candela's and the client's
//! own work, not a network's) and turned into the catalog, as the server
//! does at start and every `storage.list_interval_s`.
//!
//! 2,000 symbols × 5 timeframes × 10 part files each.

use std::sync::Arc;

use candela_core::Catalog;
use candela_core::storage::{Bucket, ObjectPath, StorageSettings};
use criterion::{Criterion, criterion_group, criterion_main};
use object_store::ObjectStoreExt;
use object_store::memory::InMemory;

const SYMBOLS: usize = 2_000;
const TIMEFRAMES: [&str; 5] = ["1m", "5m", "1h", "1d", "1w"];
const PARTS: usize = 10;

fn bucket() -> Arc<Bucket> {
    let objects = Arc::new(InMemory::new());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        for symbol in 0..SYMBOLS {
            for timeframe in TIMEFRAMES {
                for part in 0..PARTS {
                    let key = format!("bars/BENCH/S{symbol:05}/{timeframe}/part-{part:03}.parquet");
                    objects
                        .put(&ObjectPath::from(key), vec![0u8; 8].into())
                        .await
                        .expect("put");
                }
            }
        }
    });
    let bucket = Bucket::with_store(
        "memory://bench/bars".into(),
        objects,
        ObjectPath::from("bars"),
        &StorageSettings::default(),
    )
    .expect("bucket");
    Arc::new(bucket)
}

fn listing(c: &mut Criterion) {
    let bucket = bucket();
    let objects = SYMBOLS * TIMEFRAMES.len() * PARTS;
    let catalog = Catalog::of_listing(bucket.list().expect("listing"));
    assert_eq!(catalog.symbols().count(), SYMBOLS);
    let mut group = c.benchmark_group("listing");
    group.sample_size(10);
    group.bench_function(format!("{objects}_objects"), |b| {
        b.iter(|| Catalog::of_listing(bucket.list().expect("listing")));
    });
    group.finish();
}

criterion_group!(benches, listing);
criterion_main!(benches);
