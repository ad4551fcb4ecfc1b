//! Adding the newest bars of a series as a part file of their own, beside
//! the files it has: a server following the data root reads the new file
//! alone. The file is staged hidden in the series folder (a server reads no
//! hidden file), read back as a server would read it, checked against the
//! series' last bar, and renamed into place.

use std::path::{Path, PathBuf};

use candela_core::catalog::FolderState;
use candela_core::load::StoredSeries;
use candela_core::storage::StoredFile;
use candela_core::{BarFrame, SymbolId};
use chrono::DateTime;
use chrono_tz::Tz;

use crate::error::{ImportError, Problem};
use crate::series::Series;
use crate::write::{record_batch, series_folder};

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The part file written.
    pub path: PathBuf,
    /// Bars it added.
    pub bars: usize,
    /// With `replace`: the series' bars from the first new one on, dropped
    /// for the new ones (the series is then written again whole).
    pub replaced: usize,
}

/// Adds `series` to `symbol`'s bars under `root` as a new part file. Bars at
/// or before the series' last bar are refused, unless `replace`: then the
/// series keeps its bars before the first new one, and the new ones follow.
/// `zone` is the provider's: wall-clock times are compared in it.
pub fn append_series(
    series: &Series,
    root: &Path,
    symbol: &SymbolId,
    zone: Tz,
    replace: bool,
) -> Result<Appended, ImportError> {
    let folder = series_folder(root, symbol, series.timeframe)?;
    let staged = folder.join(format!(".append-{}.parquet", std::process::id()));
    let fail = |path: &Path, problem| ImportError {
        file: path.to_owned(),
        place: None,
        problem,
    };
    std::fs::create_dir_all(&folder).map_err(|e| fail(&folder, Problem::Io(e)))?;
    let written = (|| {
        let batch =
            record_batch(series).map_err(|e| fail(&staged, Problem::Write(e.to_string())))?;
        candela_core::write::write_parquet(&batch, &staged, "candela import --append")
            .map_err(|e| fail(&staged, Problem::Write(e.to_string())))?;
        let read = |files: &[StoredFile]| {
            StoredSeries::new(files, zone, root)
                .load()
                .map_err(|e| fail(&folder, Problem::Write(e.to_string())))
        };
        let new = read(&[StoredFile::Path(staged.clone())])?;
        let held = FolderState::read(root, &folder).map_err(|e| fail(&folder, Problem::Io(e)))?;
        let old = if held.files.is_empty() {
            BarFrame::empty()
        } else {
            read(&held.files)?
        };
        let first_new = new
            .time()
            .first()
            .copied()
            .ok_or_else(|| fail(&staged, Problem::Empty))?;
        let kept = old.time().partition_point(|&t| t < first_new);
        let not_after = old.len() - kept;
        if not_after == 0 {
            let path = part_path(&folder, first_new);
            std::fs::rename(&staged, &path).map_err(|e| fail(&path, Problem::Io(e)))?;
            return Ok(Appended {
                path,
                bars: new.len(),
                replaced: 0,
            });
        }
        let last = old.time().last().copied().unwrap_or_default();
        if !replace {
            return Err(fail(
                &staged,
                Problem::NotAfter {
                    bars: new.time().partition_point(|&t| t <= last),
                    last: iso(last),
                },
            ));
        }
        // The series again, whole: its bars before the first new one, then the new ones.
        let joined = BarFrame::from_batches(&[
            old.slice(0..kept).record_batch().clone(),
            new.record_batch().clone(),
        ])
        .map_err(|e| fail(&staged, Problem::Write(e.to_string())))?;
        let path = part_path(&folder, joined.time().first().copied().unwrap_or(first_new));
        let batch = joined
            .record_batch_in("UTC")
            .map_err(|e| fail(&staged, Problem::Write(e.to_string())))?;
        candela_core::write::write_parquet(&batch, &staged, "candela import --append --replace")
            .map_err(|e| fail(&staged, Problem::Write(e.to_string())))?;
        std::fs::rename(&staged, &path).map_err(|e| fail(&path, Problem::Io(e)))?;
        let old_files = held.files.iter().filter_map(|file| match file {
            StoredFile::Path(old) if *old != path => Some(old),
            _ => None,
        });
        for old_file in old_files {
            std::fs::remove_file(old_file).map_err(|e| fail(old_file, Problem::Io(e)))?;
        }
        Ok(Appended {
            path,
            bars: new.len(),
            replaced: not_after,
        })
    })();
    // Nothing staged stays behind, whatever happened.
    let _ = std::fs::remove_file(&staged);
    written
}

/// `part-20240305T140000Z.parquet`: parts sort by their first bar, after a series' older files.
fn part_path(folder: &Path, first: i64) -> PathBuf {
    let name = DateTime::from_timestamp_nanos(first)
        .format("part-%Y%m%dT%H%M%S%.fZ")
        .to_string();
    let mut path = folder.join(format!("{name}.parquet"));
    for k in 1.. {
        if !path.exists() {
            break;
        }
        path = folder.join(format!("{name}-{k}.parquet"));
    }
    path
}

fn iso(nanos: i64) -> String {
    DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
