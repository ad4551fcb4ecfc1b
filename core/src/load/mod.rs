//! Reading a stored series — the parquet files of one timeframe folder — into
//! a [`BarFrame`]: find the time column, normalise units and zones, cast the
//! values to f64, then merge files in time order keeping each timestamp once.
//! A series can be aggregated while it is read ([`load_resampled`]).

mod column;
mod file;
mod hybrid;
mod pipeline;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat, take};
use datafusion::arrow::datatypes::DataType;

use crate::frame::BarFrame;
use crate::resample::resample;
use crate::timeframe::Timeframe;
use file::SeriesFile;
use pipeline::Columns;

/// Why a stored series could not be read. Names the file, relative to the
/// data root, so that the message points at what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct LoadError {
    pub file: String,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("not a readable parquet file ({0})")]
    Unreadable(String),
    #[error("no '{0}' column (columns: {1})")]
    MissingColumn(&'static str, String),
    #[error(
        "no time column: expected a pandas DatetimeIndex or a column named datetime, timestamp, time or date (columns: {0})"
    )]
    NoTimeColumn(String),
    #[error("column '{0}' has type {1}, expected {2}")]
    WrongType(String, DataType, &'static str),
    #[error("the time column has {0} empty values")]
    NullTimes(usize),
    #[error("a timestamp is outside the years 1677–2262")]
    TimeOutOfRange,
}

/// Reads and merges the parquet files of one series (sorted by name: on
/// duplicate timestamps the first file wins).
pub fn load_series(files: &[PathBuf], zone: Tz, root: &Path) -> Result<BarFrame, LoadError> {
    let (source, _) = read_series(files, zone, root, None, true)?;
    Ok(source.unwrap_or_else(|| unreachable!("a kept series is returned")))
}

/// Reads a series like [`load_series`] and aggregates it to `timeframe`
/// (bins in `zone`); returns the series too if `keep_source`. A series
/// stored as one file in time order is folded while it is decoded, which
/// costs little more than the decoding; any other is sorted and merged first.
pub fn load_resampled(
    files: &[PathBuf],
    zone: Tz,
    root: &Path,
    timeframe: Timeframe,
    keep_source: bool,
) -> Result<(Option<BarFrame>, BarFrame), LoadError> {
    let (source, folded) = read_series(files, zone, root, Some(timeframe), keep_source)?;
    Ok(match (folded, source) {
        (Some(folded), source) => (source, folded),
        (None, Some(source)) => {
            let aggregated = resample(&source, timeframe, zone);
            (Some(source), aggregated)
        }
        (None, None) => unreachable!("a series not folded while decoding is returned"),
    })
}

/// The merged series (if kept, or needed to aggregate), and its aggregation
/// when asked for and found while decoding.
fn read_series(
    files: &[PathBuf],
    zone: Tz,
    root: &Path,
    timeframe: Option<Timeframe>,
    keep: bool,
) -> Result<(Option<BarFrame>, Option<BarFrame>), LoadError> {
    // A file's own order is the series' only when it is the only file.
    let fold = timeframe
        .filter(|_| files.len() == 1)
        .map(|timeframe| (timeframe, zone));
    let keep = keep || fold.is_none();
    let mut parts = Vec::with_capacity(files.len());
    let mut folded = None;
    for path in files {
        let decoded = SeriesFile::open(path, zone)
            .and_then(|file| {
                file.map(|file| pipeline::decode(&file, fold, keep))
                    .transpose()
            })
            .map_err(|problem| LoadError {
                file: path
                    .strip_prefix(root)
                    .unwrap_or(path)
                    .display()
                    .to_string(),
                problem,
            })?;
        if let Some(decoded) = decoded {
            folded = decoded.folded;
            parts.extend(decoded.columns);
        }
    }
    let source = (keep || folded.is_none()).then(|| merge(parts));
    Ok((source, folded))
}

/// Concatenates parts in order, then sorts by time (stably, so the earliest
/// part wins among equal timestamps) and keeps each timestamp once.
fn merge(parts: Vec<Columns>) -> BarFrame {
    let increasing = matches!(parts.as_slice(), [only] if only.increasing);
    let frame = match parts.len() {
        0 => return BarFrame::empty(),
        1 => parts.into_iter().next().map(frame_of),
        _ => {
            let time: Vec<&dyn Array> = parts.iter().map(|p| &p.time as &dyn Array).collect();
            let mut columns = vec![concat(&time)];
            for i in 0..5 {
                let values: Vec<&dyn Array> =
                    parts.iter().map(|p| &p.values[i] as &dyn Array).collect();
                columns.push(concat(&values));
            }
            columns
                .into_iter()
                .collect::<Result<Vec<_>, _>>()
                .ok()
                .and_then(|c| RecordBatch::try_new(BarFrame::schema(), c).ok())
                .and_then(|b| BarFrame::from_batches(&[b]).ok())
        }
    };
    let frame =
        frame.unwrap_or_else(|| unreachable!("normalised columns fit the canonical schema"));
    if increasing {
        frame
    } else {
        sort_unique(frame)
    }
}

fn frame_of(columns: Columns) -> BarFrame {
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(columns.time)];
    arrays.extend(columns.values.map(|v| Arc::new(v) as ArrayRef));
    RecordBatch::try_new(BarFrame::schema(), arrays)
        .ok()
        .and_then(|b| BarFrame::from_batches(&[b]).ok())
        .unwrap_or_else(|| unreachable!("normalised columns fit the canonical schema"))
}

fn sort_unique(frame: BarFrame) -> BarFrame {
    let time = frame.time();
    if strictly_increasing(time) {
        return frame;
    }
    let mut order: Vec<u32> = (0..time.len() as u32).collect();
    order.sort_by_key(|&i| time[i as usize]);
    order.dedup_by_key(|i| time[*i as usize]);
    let indices = UInt32Array::from(order);
    let columns: Result<Vec<ArrayRef>, _> = frame
        .record_batch()
        .columns()
        .iter()
        .map(|c| take(c, &indices, None))
        .collect();
    columns
        .ok()
        .and_then(|c| RecordBatch::try_new(BarFrame::schema(), c).ok())
        .and_then(|b| BarFrame::from_batches(&[b]).ok())
        .unwrap_or_else(|| unreachable!("taking rows keeps the schema"))
}

/// In blocks without early exit, so that the comparisons vectorise.
fn strictly_increasing(times: &[i64]) -> bool {
    const BLOCK: usize = 1024;
    let Some(rest) = times.get(1..) else {
        return true;
    };
    times
        .chunks(BLOCK)
        .zip(rest.chunks(BLOCK))
        .all(|(earlier, later)| {
            earlier
                .iter()
                .zip(later)
                .fold(true, |increasing, (a, b)| increasing & (a < b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{continuous_minutes, write_parquet};

    /// A file of 200,000 one-minute bars (decoded on several threads), in
    /// order or with its first and last stretches swapped and a row repeated.
    fn file(dir: &Path, shuffled: bool) -> (BarFrame, PathBuf) {
        let sorted = continuous_minutes(200_000, 7);
        let frame = if shuffled {
            let batch = sorted.record_batch();
            let parts = [
                batch.slice(150_000, 50_000),
                batch.slice(40_000, 110_001),
                batch.slice(0, 40_000),
            ];
            let batch = datafusion::arrow::compute::concat_batches(&batch.schema(), &parts)
                .expect("concat");
            BarFrame::from_batches(&[batch]).expect("frame")
        } else {
            sorted.clone()
        };
        let path = dir.join(if shuffled {
            "shuffled.parquet"
        } else {
            "sorted.parquet"
        });
        write_parquet(&frame, &path).expect("write");
        (sorted, path)
    }

    #[test]
    fn folding_while_decoding_equals_folding_the_loaded_series() {
        let dir = tempfile::tempdir().expect("tempdir");
        for shuffled in [false, true] {
            let (sorted, path) = file(dir.path(), shuffled);
            let files = [path];
            for timeframe in ["5m", "1h", "1d", "1M"] {
                let timeframe: Timeframe = timeframe.parse().expect("timeframe");
                let zone = chrono_tz::America::New_York;
                let (source, aggregated) =
                    load_resampled(&files, zone, dir.path(), timeframe, true).expect("read");
                let source = source.expect("kept");
                assert_eq!(source.record_batch(), sorted.record_batch(), "{shuffled}");
                assert_eq!(
                    aggregated.record_batch(),
                    resample(&sorted, timeframe, zone).record_batch(),
                    "{timeframe} shuffled={shuffled}"
                );
            }
        }
    }

    #[test]
    fn a_step_back_or_a_repeat_anywhere_is_found_even_at_a_block_edge() {
        let times: Vec<i64> = (0..5_000).collect();
        assert!(strictly_increasing(&times));
        assert!(strictly_increasing(&[]));
        assert!(strictly_increasing(&[7]));
        for at in [1, 1_023, 1_024, 1_025, 2_048, 4_999] {
            let mut back = times.clone();
            back[at] = back[at - 1] - 1;
            assert!(!strictly_increasing(&back), "step back at {at}");
            let mut repeat = times.clone();
            repeat[at] = repeat[at - 1];
            assert!(!strictly_increasing(&repeat), "repeat at {at}");
        }
    }
}
