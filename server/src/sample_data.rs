//! `candela sample-data`: writes the bundled sample data set,
//! deterministically, and on request a long synthetic history to try the
//! chart's paging on (the sample runs are [`crate::sample_runs`]).

use std::path::{Path, PathBuf};

use candela_core::BarFrame;
use candela_core::synthetic::{continuous_minutes, sample_set, write_parquet};
use indicatif::{ProgressBar, ProgressStyle};

/// Where the long history goes: symbol `SYNTH:LONG`, stored as one minute.
pub const LONG_HISTORY: &str = "SYNTH/LONG/1m/long_1m.parquet";

/// The seed of the long history's random walk.
pub const LONG_SEED: u64 = 7;

/// Writes every series of the sample set under `root`, and `long_minutes`
/// one-minute bars as [`LONG_HISTORY`] if asked; returns the files.
pub fn write(
    root: &Path,
    long_minutes: Option<usize>,
) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let set = sample_set();
    let count = set.len() + usize::from(long_minutes.is_some());
    let progress = ProgressBar::new(count as u64)
        .with_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut written = Vec::new();
    for (relative, spec) in set {
        written.push(write_series(root, relative, &spec.generate(), &progress)?);
    }
    if let Some(n) = long_minutes {
        written.push(write_series(
            root,
            LONG_HISTORY,
            &continuous_minutes(n, LONG_SEED),
            &progress,
        )?);
    }
    progress.finish_and_clear();
    Ok(written)
}

fn write_series(
    root: &Path,
    relative: &str,
    frame: &BarFrame,
    progress: &ProgressBar,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    progress.set_message(relative.to_owned());
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_parquet(frame, &path)?;
    // Printed whether or not the bar is drawn (it is not without a terminal).
    progress.suspend(|| println!("wrote {} ({} bars)", path.display(), frame.len()));
    progress.inc(1);
    Ok(path)
}
