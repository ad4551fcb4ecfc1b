//! A series growing while it is served: a new part file is read alone and
//! joined after the bars held (the old files are not read again: their
//! bytes are overwritten in place, stamps kept, and the answer is still
//! right); a file that cannot be read leaves the series as it was, with the
//! fault named; hidden and half-written files are not read; a replaced,
//! removed or overlapping file reads the series again. Every answer equals
//! a fresh store's read of the same files, over several seeds.

use std::fs::File;
use std::path::Path;

use candela_core::store::Caching;
use candela_core::synthetic::{continuous_minutes, write_parquet};
use candela_core::{BarFrame, Store, StoreConfig};
use rand::{Rng, SeedableRng};

const SYMBOL: &str = "TEST:LIVE";

fn folder(root: &Path) -> std::path::PathBuf {
    root.join("TEST/LIVE/1m")
}

/// A frame's times and values, bit for bit (NaN equal to NaN).
type Columns = (Vec<i64>, Vec<Vec<u64>>);

fn columns(frame: &BarFrame) -> Columns {
    let bits = |values: &[f64]| values.iter().map(|v| v.to_bits()).collect();
    (
        frame.time().to_vec(),
        vec![
            bits(frame.open()),
            bits(frame.high()),
            bits(frame.low()),
            bits(frame.close()),
            bits(frame.volume()),
        ],
    )
}

/// The series as the store serves it now.
fn served(store: &Store) -> Columns {
    let plan = store.plan(SYMBOL, "1m".parse().expect("tf")).expect("plan");
    columns(&store.source_frame(&plan, &Caching::Keep).expect("served"))
}

/// The series as a store that never saw it reads it.
fn fresh(root: &Path) -> Columns {
    served(&Store::open(StoreConfig::new(root)).expect("store"))
}

/// Overwrites `path` with garbage of its own length, its modification time
/// kept: a store that reads it again fails.
fn spoil_in_place(path: &Path) {
    let meta = std::fs::metadata(path).expect("meta");
    std::fs::write(path, vec![0x5a; usize::try_from(meta.len()).expect("len")]).expect("spoil");
    File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(meta.modified().expect("mtime"))
        .expect("keep the stamp");
}

/// Writes `frame` as `name` in the series folder, by way of a `.partial` file renamed into place.
fn add_part(root: &Path, name: &str, frame: &BarFrame) {
    let partial = folder(root).join(format!("{name}.partial"));
    write_parquet(frame, &partial).expect("write");
    std::fs::rename(&partial, folder(root).join(name)).expect("rename");
}

#[test]
fn a_growing_series_reads_only_its_new_files() {
    for seed in [1_u64, 2, 3, 4, 5] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let bars = continuous_minutes(rng.random_range(3_000..6_000), seed);
        let cuts = {
            let a = rng.random_range(500..1_500);
            let b = rng.random_range(a + 100..a + 1_000);
            let c = rng.random_range(b + 100..b + 1_000);
            [a, b, c]
        };
        let dir = tempfile::tempdir().expect("root");
        let root = dir.path();
        std::fs::create_dir_all(folder(root)).expect("folder");
        write_parquet(
            &bars.slice(0..cuts[0]),
            &folder(root).join("part-0.parquet"),
        )
        .expect("write");
        let store = Store::open(StoreConfig::new(root)).expect("store");
        assert_eq!(
            served(&store),
            columns(&bars.slice(0..cuts[0])),
            "seed {seed}: the first read"
        );
        let reads = store.parquet_reads();

        // The old file, spoilt with its stamp kept: only the new one may be read.
        spoil_in_place(&folder(root).join("part-0.parquet"));
        add_part(root, "part-1.parquet", &bars.slice(cuts[0]..cuts[1]));
        assert_eq!(
            served(&store),
            columns(&bars.slice(0..cuts[1])),
            "seed {seed}: the new part joined after the bars held"
        );
        assert_eq!(
            store.parquet_reads(),
            reads + 1,
            "seed {seed}: one read, of the new file"
        );

        // Written but not yet in place: a hidden file and a half-written one are not read.
        write_parquet(
            &bars.slice(cuts[1]..cuts[2]),
            &folder(root).join(".part-2.parquet"),
        )
        .expect("hidden");
        write_parquet(
            &bars.slice(cuts[1]..cuts[2]),
            &folder(root).join("part-2.parquet.partial"),
        )
        .expect("partial");
        assert_eq!(
            served(&store),
            columns(&bars.slice(0..cuts[1])),
            "seed {seed}: hidden and .partial files are not read"
        );
        std::fs::remove_file(folder(root).join(".part-2.parquet")).expect("rm");
        std::fs::remove_file(folder(root).join("part-2.parquet.partial")).expect("rm");

        // A new file that cannot be read: the series as it was, the file named.
        std::fs::write(
            folder(root).join("part-2.parquet"),
            b"PAR1 not really parquet",
        )
        .expect("bad");
        assert_eq!(
            served(&store),
            columns(&bars.slice(0..cuts[1])),
            "seed {seed}: nothing lost"
        );
        let faults = store.faults();
        assert!(
            faults.len() == 1 && faults[0].error.to_string().contains("part-2.parquet"),
            "seed {seed}: the fault names the file: {faults:?}"
        );
        // The same file written again, readable: it joins, the fault goes.
        add_part(root, "part-2.parquet", &bars.slice(cuts[1]..cuts[2]));
        assert_eq!(
            served(&store),
            columns(&bars.slice(0..cuts[2])),
            "seed {seed}: the fixed file joined"
        );
        assert!(store.faults().is_empty(), "seed {seed}: the fault is gone");

        // The old file written again (a replacement by rename): the series is read whole.
        write_parquet(
            &bars.slice(0..cuts[0]),
            &folder(root).join("part-0.parquet"),
        )
        .expect("restore");
        let replaced = bars.slice(0..cuts[0] / 2);
        add_part(root, "part-0.parquet", &replaced);
        assert_eq!(
            served(&store),
            fresh(root),
            "seed {seed}: a replaced file reads the series again"
        );
        // Bars among the old ones: read whole, the first file by name winning a time.
        add_part(root, "part-3.parquet", &bars.slice(cuts[0] / 4..cuts[0]));
        assert_eq!(
            served(&store),
            fresh(root),
            "seed {seed}: overlapping bars read the series again"
        );
        // A removed file.
        std::fs::remove_file(folder(root).join("part-1.parquet")).expect("rm");
        assert_eq!(
            served(&store),
            fresh(root),
            "seed {seed}: a removed file reads the series again"
        );
        // And growing again after all that.
        add_part(root, "part-9.parquet", &bars.slice(cuts[2]..bars.len()));
        let before = store.parquet_reads();
        assert_eq!(served(&store), fresh(root), "seed {seed}: grown again");
        assert_eq!(
            store.parquet_reads(),
            before + 1,
            "seed {seed}: by one read"
        );
    }
}
