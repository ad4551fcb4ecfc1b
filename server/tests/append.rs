//! `candela import --append`: the newest bars of a series as a part file of
//! their own, beside its files; bars not after its last bar refused (nothing
//! written) unless `--replace`, which keeps its bars before the first new
//! one. The series read back equals the bars written, over several seeds;
//! and `candela_runs.append_bars` (Python) writes what the command writes.

mod support;

use std::path::Path;
use std::process::Command;

use candela_core::store::Caching;
use candela_core::{Store, StoreConfig};
use rand::{Rng, SeedableRng};
use support::python_with;

/// Hourly bars as CSV from hour `from` (since 2024-01-01T00:00Z) for `count` hours; closes from the seed.
fn csv(from: usize, count: usize, seed: u64) -> (String, Vec<(i64, f64)>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    let mut bars = Vec::new();
    for h in from..from + count {
        let t = 1_704_067_200 + 3_600 * h as i64;
        let close: f64 = (rng.random_range(10_000..20_000) as f64) / 100.0;
        text.push_str(&format!("{t},{close},{close},{close},{close},1\n"));
        bars.push((t * 1_000_000_000, close));
    }
    (text, bars)
}

fn import(root: &Path, file: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_candela"))
        .args(["--data"])
        .arg(root)
        .args(["import", "--symbol", "TEST:APPEND", "--timeframe", "1h"])
        .args(extra)
        .arg(file)
        .output()
        .expect("candela import")
}

/// The series as a server reads it: (time, close) per bar.
fn served(root: &Path) -> Vec<(i64, f64)> {
    let store = Store::open(StoreConfig::new(root)).expect("store");
    let plan = store
        .plan("TEST:APPEND", "1h".parse().expect("tf"))
        .expect("plan");
    let frame = store.source_frame(&plan, &Caching::Keep).expect("bars");
    frame
        .time()
        .iter()
        .copied()
        .zip(frame.close().iter().copied())
        .collect()
}

fn files(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("TEST/APPEND/1h"))
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn appended_bars_are_a_part_file_of_their_own_and_never_rewrite_the_past_unasked() {
    for seed in [1_u64, 2, 3] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path().join("data");
        let first = rng.random_range(50..200);
        let more = rng.random_range(1..50);
        let (text, mut expected) = csv(0, first, seed);
        std::fs::write(dir.path().join("first.csv"), text).expect("csv");
        assert!(
            import(&root, &dir.path().join("first.csv"), &[])
                .status
                .success()
        );

        let (text, added) = csv(first, more, seed + 100);
        std::fs::write(dir.path().join("more.csv"), text).expect("csv");
        let out = import(&root, &dir.path().join("more.csv"), &["--append"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "seed {seed}: {said} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            said.contains(&format!("appended {more} bars of 1h")),
            "seed {seed}: {said}"
        );
        expected.extend(added);
        assert_eq!(
            served(&root),
            expected,
            "seed {seed}: the series grew by the new bars"
        );
        let parts = files(&root);
        assert!(
            parts.len() == 2
                && parts[1].starts_with("part-20")
                && !parts.iter().any(|p| p.starts_with('.')),
            "seed {seed}: one part file beside the first, nothing staged left: {parts:?}"
        );

        // Overlapping bars: refused, nothing written.
        let back = rng.random_range(1..=more);
        let (text, redone) = csv(first + more - back, back + 3, seed + 200);
        std::fs::write(dir.path().join("overlap.csv"), text).expect("csv");
        let out = import(&root, &dir.path().join("overlap.csv"), &["--append"]);
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "seed {seed}: an overlap is refused");
        assert!(
            error.contains(&format!("{back} of the new bars are at or before"))
                && error.contains("--replace"),
            "seed {seed}: {error}"
        );
        assert_eq!(files(&root), parts, "seed {seed}: nothing written");
        assert_eq!(served(&root), expected, "seed {seed}: the series as it was");

        // With --replace: the bars before the first new one, then the new ones.
        let out = import(
            &root,
            &dir.path().join("overlap.csv"),
            &["--append", "--replace"],
        );
        assert!(
            out.status.success(),
            "seed {seed}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        expected.truncate(expected.len() - back);
        expected.extend(redone);
        assert_eq!(
            served(&root),
            expected,
            "seed {seed}: replaced from the first new bar on"
        );
    }
}

/// `candela_runs.append_bars` of `file`'s bars into `root`: what it printed.
fn append_in_python(root: &Path, file: &Path, extra: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/tests/append_bars.py");
    let out = Command::new(python_with(
        &["pandas", "pyarrow", "candela_runs"],
        "candela_runs.append_bars",
    ))
    .arg(script)
    .arg(root)
    .args(["TEST:APPEND", "1h"])
    .arg(file)
    .args(extra)
    .output()
    .expect("python");
    assert!(
        out.status.success(),
        "append_bars.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn append_bars_in_python_writes_what_candela_import_append_writes() {
    for seed in [4_u64, 5, 6] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let dir = tempfile::tempdir().expect("tmp");
        let (cli, py) = (dir.path().join("cli"), dir.path().join("py"));
        let column: &[&str] = if seed % 2 == 0 { &["--column"] } else { &[] };
        let file = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("csv");
            path
        };
        let first = rng.random_range(50..200);
        let history = file("history.csv", csv(0, first, seed).0);
        for root in [&cli, &py] {
            assert!(import(root, &history, &[]).status.success());
        }

        // Two appends, one after the other, as live bars come.
        let mut next = first;
        for part in 0..2 {
            let count = rng.random_range(1..30);
            let more = file(
                &format!("more-{part}.csv"),
                csv(next, count, seed + 10 + part).0,
            );
            next += count;
            assert!(import(&cli, &more, &["--append"]).status.success());
            let written = append_in_python(&py, &more, column);
            assert!(written["path"].is_string(), "seed {seed}: {written}");
            assert_eq!(served(&py), served(&cli), "seed {seed}: the same series");
            assert_eq!(files(&py), files(&cli), "seed {seed}: the same part files");
            assert!(
                !files(&py).iter().any(|f| f.starts_with('.')),
                "seed {seed}: nothing staged left"
            );
        }

        // Overlapping bars: refused alike, nothing written; then replaced alike.
        let back = rng.random_range(1..5);
        let overlap = file("overlap.csv", csv(next - back, back + 2, seed + 20).0);
        let before = (files(&py), served(&py));
        let refused = append_in_python(&py, &overlap, column);
        assert_eq!(refused["refused"], back, "seed {seed}: {refused}");
        assert!(
            refused["message"]
                .as_str()
                .is_some_and(|m| m.contains("replace=True")),
            "seed {seed}: the refusal says how to replace: {refused}"
        );
        assert_eq!(
            (files(&py), served(&py)),
            before,
            "seed {seed}: nothing written"
        );
        assert!(
            import(&cli, &overlap, &["--append", "--replace"])
                .status
                .success()
        );
        let mut replace = vec!["--replace"];
        replace.extend(column);
        append_in_python(&py, &overlap, &replace);
        assert_eq!(served(&py), served(&cli), "seed {seed}: replaced alike");
        assert_eq!(files(&py), files(&cli), "seed {seed}: into one file alike");
    }
}
