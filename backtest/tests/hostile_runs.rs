//! Damaged run files, made by seeded mutation of the fixtures (bytes
//! flipped, cut short, spliced with another file, CSV cells garbled): every
//! case ends in a run or a clean error naming the run, never a panic.
//! `HOSTILE_RUNS_CASES=20000 cargo test --test hostile_runs` runs longer.

use std::path::{Path, PathBuf};

use candela_backtest::{FileLimits, Run};
use candela_core::{Store, StoreConfig};
use candela_mutation::Mutator;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

#[test]
fn damaged_run_files_end_in_a_run_or_a_clean_error() {
    let cases: usize = std::env::var("HOSTILE_RUNS_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(600);
    let fixtures = repo().join("tests/fixtures/runs");
    let store =
        Store::open(StoreConfig::new(repo().join("tests/data/market/parquet"))).expect("store");
    let sources: Vec<(&str, &str)> = vec![
        ("yhoo-sma-cross", "trades.parquet"),
        ("yhoo-sma-cross", "equity.parquet"),
        ("yhoo-sma-cross-csv", "trades.csv"),
        ("yhoo-sma-cross-csv", "equity.csv"),
        ("yhoo-sma-cross", "run.toml"),
    ];
    let splice =
        std::fs::read(fixtures.join("btfut-1m-breakout/trades.parquet")).expect("splice source");
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut loaded, mut refused) = (0, 0);
    let mut mutator = Mutator::new(20);
    for case in 0..cases {
        let (run, file) = sources[case % sources.len()];
        let run_dir = dir.path().join(format!("case-{case}"));
        std::fs::create_dir_all(&run_dir).expect("mkdir");
        for entry in std::fs::read_dir(fixtures.join(run)).expect("fixture") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_owned();
            if name != "expected.json" {
                std::fs::copy(&path, run_dir.join(&name)).expect("copy");
            }
        }
        let original = std::fs::read(fixtures.join(run).join(file)).expect("fixture file");
        let case_seed = mutator.seed();
        let (damaged, mutation) = mutator.mutate(&original, &splice);
        std::fs::write(run_dir.join(file), damaged).expect("write");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Run::load(&run_dir, &store, FileLimits::default())
        }));
        match outcome {
            Ok(Ok(_)) => loaded += 1,
            Ok(Err(e)) => {
                assert!(
                    e.to_string().starts_with(&format!("run 'case-{case}': ")),
                    "an error names its run: {e}"
                );
                refused += 1;
            }
            Err(_) => {
                let kept = std::env::temp_dir().join(format!("hostile-run-{case}-{file}"));
                let _ = std::fs::copy(run_dir.join(file), &kept);
                panic!(
                    "case {case} ({run}/{file}, {mutation}, seed {case_seed}) panicked; the file is kept as {}",
                    kept.display()
                )
            }
        }
        std::fs::remove_dir_all(&run_dir).expect("clean up");
    }
    println!("{cases} damaged runs: {loaded} still read, {refused} refused with an error");
    assert!(
        refused > cases / 4,
        "most damage is noticed ({refused} of {cases})"
    );
}

#[test]
fn files_that_once_crashed_the_reader_end_cleanly() {
    let corpus = repo().join("tests/fixtures/runs-hostile");
    let store =
        Store::open(StoreConfig::new(repo().join("tests/data/market/parquet"))).expect("store");
    let mut seen = 0;
    for entry in std::fs::read_dir(&corpus).expect("corpus") {
        let dir = entry.expect("entry").path();
        if dir.is_dir() {
            // Ok or Err: only a panic fails.
            let _ = Run::load(&dir, &store, FileLimits::default());
            seen += 1;
        }
    }
    assert!(seen > 0, "the corpus is there");
}
