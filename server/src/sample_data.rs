//! `candela sample-data`: writes the bundled sample data set, deterministically.

use std::path::{Path, PathBuf};

use candela_core::synthetic::{sample_set, write_parquet};
use indicatif::{ProgressBar, ProgressStyle};

/// Writes every series of the sample set under `root`, returning the files.
pub fn write(root: &Path) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let set = sample_set();
    let progress = ProgressBar::new(set.len() as u64)
        .with_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut written = Vec::new();
    for (relative, spec) in set {
        progress.set_message(relative);
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let frame = spec.generate();
        write_parquet(&frame, &path)?;
        progress.println(format!("wrote {} ({} bars)", path.display(), frame.len()));
        progress.inc(1);
        written.push(path);
    }
    progress.finish_and_clear();
    Ok(written)
}
