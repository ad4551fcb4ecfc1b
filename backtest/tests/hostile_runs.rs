//! Damaged run files, made by seeded mutation of the fixtures (bytes
//! flipped, cut short, spliced with another file, CSV cells garbled): every
//! case ends in a run or a clean error naming the run, never a panic.
//! `HOSTILE_RUNS_CASES=20000 cargo test --test hostile_runs` runs longer.

use std::path::{Path, PathBuf};

use candela_backtest::{FileLimits, Run};
use candela_core::{Store, StoreConfig};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// splitmix64: the cases are the same on every run.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn mutate(bytes: &[u8], other: &[u8], seed: &mut u64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let pick = |seed: &mut u64, n: usize| (next(seed) % n.max(1) as u64) as usize;
    match next(seed) % 4 {
        0 => {
            for _ in 0..1 + pick(seed, 8) {
                let at = pick(seed, out.len());
                out[at] ^= 1 << pick(seed, 8);
            }
        }
        1 => out.truncate(pick(seed, out.len())),
        2 => {
            let at = pick(seed, out.len());
            let from = pick(seed, other.len());
            let len = pick(seed, 4096).min(other.len() - from);
            out.splice(
                at..(at + len).min(out.len()),
                other[from..from + len].iter().copied(),
            );
        }
        _ => {
            // Overwrite a run of bytes with one value (0x00, 0xff, a digit).
            let at = pick(seed, out.len());
            let len = pick(seed, 64).min(out.len() - at);
            let value = [0u8, 0xff, b'9', b','][pick(seed, 4)];
            out[at..at + len].fill(value);
        }
    }
    out
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
    let mut seed = 20;
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
        let case_seed = seed;
        std::fs::write(run_dir.join(file), mutate(&original, &splice, &mut seed)).expect("write");
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
                    "case {case} ({run}/{file}, seed {case_seed}) panicked; the file is kept as {}",
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
