//! Reading a stored series — the parquet files of one timeframe folder — into
//! a [`BarFrame`]: find the time column, normalise units and zones, cast the
//! values to f64, then merge files in time order keeping each timestamp once.
//! A series can be aggregated while it is read
//! ([`StoredSeries::load_aggregated`]).
//!
//! The parquet crate decodes every page; what is Candela's own is checking
//! what each file's footer and page headers claim before anything is sized
//! by them (`thrift_bounds` before the crate decodes them, `claims` after), and
//! cutting the work into stretches of rows folded on every core
//! (`pipeline`).

mod claims;
mod file;
mod pipeline;
mod source;
mod thrift_bounds;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::datatypes::DataType;
use datafusion::execution::config::SessionConfig;

use crate::frame::BarFrame;
use crate::resample::resample;
use crate::storage::{StorageError, StoredFile};
use crate::timeframe::Timeframe;
use file::SeriesFile;
use pipeline::{Columns, Decoded};

/// Most bars a series may hold unless the configuration says otherwise:
/// fifty years of one-minute bars around the clock fit, with room to spare,
/// in about 2.4 GB.
pub const DEFAULT_MAX_SERIES_ROWS: u64 = 50_000_000;

/// Why a stored series could not be read. Names the file (or, for the
/// series as a whole, its folder) relative to the data root, so that the
/// message points at what to fix.
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
    #[error("the file's footer does not hold together: {0}")]
    FalseClaim(String),
    #[error("column '{column}' holds {found} values where the footer claims {claimed} rows")]
    ShortColumn {
        column: String,
        found: usize,
        claimed: usize,
    },
    #[error(
        "the series holds {rows} bars, more than max_series_rows = {limit}; \
         raise max_series_rows in the configuration if this history is meant to be served whole"
    )]
    TooManyRows { rows: u64, limit: u64 },
    #[error("not enough memory to hold {0} bars")]
    OutOfMemory(usize),
    #[error("no '{0}' column (columns: {1})")]
    MissingColumn(&'static str, String),
    #[error(
        "no time column: expected a pandas DatetimeIndex or a column named datetime, timestamp, time or date (columns: {0})"
    )]
    NoTimeColumn(String),
    #[error("column '{0}' has type {1}, expected {2}")]
    WrongType(String, DataType, &'static str),
    #[error("the time column has empty values")]
    NullTimes,
    #[error("a timestamp is before 1680 or after 2260")]
    TimeOutOfRange,
    #[error("the parquet decoder failed on it ({0})")]
    DecoderPanicked(String),
    #[error("the read was given up: what it was for was cancelled or ran out of time")]
    Stopped,
    /// The bucket holding the file failed to give its bytes.
    #[error(transparent)]
    Storage(StorageError),
}

/// Asked between the batches of a read whether to give it up: the read of
/// a SQL query that was cancelled or ran past its deadline. DataFusion
/// carries it to a scan as a session config extension.
#[derive(Clone, Default)]
pub struct Stop(Option<Arc<dyn Fn() -> bool + Send + Sync>>);

impl Stop {
    /// A read that runs to its end.
    pub fn never() -> &'static Stop {
        static NEVER: Stop = Stop(None);
        &NEVER
    }

    /// A read given up once `requested` returns true.
    pub fn when(requested: impl Fn() -> bool + Send + Sync + 'static) -> Stop {
        Stop(Some(Arc::new(requested)))
    }

    pub fn requested(&self) -> bool {
        self.0.as_ref().is_some_and(|requested| requested())
    }

    /// The stop a session's config carries (SQL sets one per query), or
    /// none.
    pub fn of_session(config: &SessionConfig) -> Stop {
        config
            .get_extension::<Stop>()
            .map_or_else(Stop::default, |stop| stop.as_ref().clone())
    }
}

impl fmt::Debug for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Stop::when(…)"
        } else {
            "Stop::never()"
        })
    }
}

/// The instants a read needs, both ends included (UTC nanoseconds): the
/// row groups whose time statistics lie wholly outside are not read. The
/// rows of the groups read that fall outside are kept: the caller cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub from: i64,
    pub to: i64,
}

impl TimeWindow {
    /// Every instant: every row group is read.
    pub const ALL: TimeWindow = TimeWindow {
        from: i64::MIN,
        to: i64::MAX,
    };

    /// Whether `min..=max` meets the window.
    pub fn overlaps(self, min: i64, max: i64) -> bool {
        min <= self.to && max >= self.from
    }
}

/// The files of one stored series, and how to read them.
#[derive(Debug, Clone, Copy)]
pub struct StoredSeries<'a> {
    /// Sorted by name: on duplicate timestamps the first file wins.
    pub files: &'a [StoredFile],
    /// The provider's zone: naive times are wall-clock times in it, and
    /// calendar bins are cut in it.
    pub zone: Tz,
    /// The data root, which errors name files relative to.
    pub root: &'a Path,
    /// Most bars the series may hold, all files together.
    pub max_rows: u64,
    /// When to give the read up.
    pub stop: &'a Stop,
}

/// A series read whole and aggregated in the same pass.
#[derive(Debug, Clone)]
pub struct WithSource {
    pub source: BarFrame,
    pub aggregated: BarFrame,
}

impl StoredSeries<'_> {
    /// The series with default limits, for tools and tests.
    pub fn new<'a>(files: &'a [StoredFile], zone: Tz, root: &'a Path) -> StoredSeries<'a> {
        StoredSeries {
            files,
            zone,
            root,
            max_rows: DEFAULT_MAX_SERIES_ROWS,
            stop: Stop::never(),
        }
    }

    /// Reads and merges the series' files.
    pub fn load(&self) -> Result<BarFrame, LoadError> {
        self.load_window(TimeWindow::ALL)
    }

    /// Reads and merges the row groups of the series' files that may hold
    /// bars of `window` (see [`TimeWindow`]).
    pub fn load_window(&self, window: TimeWindow) -> Result<BarFrame, LoadError> {
        let read = self.read(None, window, true)?;
        self.merge(read.parts)
    }

    /// Reads the series aggregated to `timeframe`, without keeping it whole.
    /// A series stored as one file in time order is folded while it is
    /// decoded, which costs little more than the decoding; any other is
    /// sorted and merged first.
    pub fn load_aggregated(&self, timeframe: Timeframe) -> Result<BarFrame, LoadError> {
        let read = self.read(Some(timeframe), TimeWindow::ALL, false)?;
        match read.folded {
            Some(aggregated) => Ok(aggregated),
            None => Ok(resample(&self.merge(read.parts)?, timeframe, self.zone)),
        }
    }

    /// Reads the series whole and aggregated to `timeframe`, in one pass as
    /// [`load_aggregated`](Self::load_aggregated) does.
    pub fn load_with_source(&self, timeframe: Timeframe) -> Result<WithSource, LoadError> {
        let read = self.read(Some(timeframe), TimeWindow::ALL, true)?;
        let source = self.merge(read.parts)?;
        let aggregated = match read.folded {
            Some(aggregated) => aggregated,
            None => resample(&source, timeframe, self.zone),
        };
        Ok(WithSource { source, aggregated })
    }

    /// Every file's columns (of all files, if `keep`, else of those not
    /// folded), and the aggregation found while decoding, if any. Every
    /// footer is read and checked before any column is.
    fn read(
        &self,
        timeframe: Option<Timeframe>,
        window: TimeWindow,
        keep: bool,
    ) -> Result<Read, LoadError> {
        let mut opened = Vec::with_capacity(self.files.len());
        for stored in self.files {
            let file = SeriesFile::open(stored, self.zone, self.stop)
                .map_err(|p| self.error(stored, p))?;
            if let Some(mut file) = file {
                file.keep_window(window)
                    .map_err(|p| self.error(stored, p))?;
                opened.push((stored, file));
            }
        }
        let rows: u64 = opened.iter().map(|(_, file)| file.rows() as u64).sum();
        if rows > self.max_rows {
            let problem = Problem::TooManyRows {
                rows,
                limit: self.max_rows,
            };
            return Err(self.folder_error(problem));
        }
        for (stored, file) in &mut opened {
            file.fetch().map_err(|p| self.error(stored, p))?;
        }
        // A file's own order is the series' only when it is the only file.
        let fold = timeframe
            .filter(|_| opened.len() == 1)
            .map(|timeframe| (timeframe, self.zone));
        let mut read = Read {
            parts: Vec::with_capacity(opened.len()),
            folded: None,
        };
        for (path, file) in &opened {
            match pipeline::decode(file, fold, keep).map_err(|p| self.error(path, p))? {
                Decoded::Columns(columns) => read.parts.push(columns),
                Decoded::Folded {
                    aggregated,
                    columns,
                } => {
                    read.folded = Some(aggregated);
                    read.parts.extend(columns);
                }
            }
        }
        Ok(read)
    }

    /// Concatenates parts in order, then sorts by time (stably, so the
    /// earliest part wins among equal timestamps) and keeps each timestamp once.
    fn merge(&self, parts: Vec<Columns>) -> Result<BarFrame, LoadError> {
        let increasing = matches!(parts.as_slice(), [only] if only.increasing);
        let Some(mut merged) = Columns::concat(parts) else {
            return Ok(BarFrame::empty());
        };
        if !increasing && !strictly_increasing(&merged.time) {
            merged = merged.sorted_unique();
        }
        let [open, high, low, close, volume] = merged.values;
        BarFrame::from_columns(merged.time, [open, high, low, close, volume])
            .map_err(|e| self.folder_error(Problem::Unreadable(e.to_string())))
    }

    fn error(&self, file: &StoredFile, problem: Problem) -> LoadError {
        LoadError {
            file: file.describe(self.root),
            problem,
        }
    }

    /// An error of the series as a whole, named by its folder.
    fn folder_error(&self, problem: Problem) -> LoadError {
        let file = self.files.first().map(|f| f.describe(self.root));
        let folder = file
            .as_deref()
            .and_then(|f| f.rsplit_once('/'))
            .map(|(folder, _)| folder.to_owned());
        LoadError {
            file: folder.or(file).unwrap_or_default(),
            problem,
        }
    }
}

/// What was read of a series' files.
struct Read {
    parts: Vec<Columns>,
    folded: Option<BarFrame>,
}

/// In blocks without early exit, so that the comparisons vectorise.
pub(crate) fn strictly_increasing(times: &[i64]) -> bool {
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
    fn file(dir: &Path, shuffled: bool) -> (BarFrame, std::path::PathBuf) {
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
            let files = [StoredFile::Path(path)];
            let series = StoredSeries::new(&files, chrono_tz::America::New_York, dir.path());
            assert_eq!(
                series.load().expect("load").record_batch(),
                sorted.record_batch()
            );
            for timeframe in ["5m", "1h", "1d", "1M"] {
                let timeframe: Timeframe = timeframe.parse().expect("timeframe");
                let expected = resample(&sorted, timeframe, series.zone);
                let both = series.load_with_source(timeframe).expect("read");
                assert_eq!(both.source.record_batch(), sorted.record_batch());
                assert_eq!(
                    both.aggregated.record_batch(),
                    expected.record_batch(),
                    "{timeframe} shuffled={shuffled}"
                );
                let alone = series.load_aggregated(timeframe).expect("read");
                assert_eq!(alone.record_batch(), expected.record_batch());
            }
        }
    }

    #[test]
    fn a_series_over_its_row_limit_is_refused_before_it_is_decoded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, path) = file(dir.path(), false);
        let files = [StoredFile::Path(path)];
        let series = StoredSeries {
            max_rows: 199_999,
            ..StoredSeries::new(&files, Tz::UTC, dir.path())
        };
        let error = series.load().expect_err("over the limit");
        assert!(
            matches!(
                error.problem,
                Problem::TooManyRows {
                    rows: 200_000,
                    limit: 199_999
                }
            ),
            "{error}"
        );
        assert!(
            error.to_string().contains("raise max_series_rows"),
            "{error}"
        );
        let at_limit = StoredSeries {
            max_rows: 200_000,
            ..series
        };
        assert_eq!(at_limit.load().expect("at the limit").len(), 200_000);
    }

    #[test]
    fn a_read_is_given_up_when_its_stop_is_requested() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, path) = file(dir.path(), false);
        let files = [StoredFile::Path(path)];
        let stop = Stop::when(|| true);
        let series = StoredSeries {
            stop: &stop,
            ..StoredSeries::new(&files, Tz::UTC, dir.path())
        };
        let error = series.load().expect_err("given up");
        assert!(matches!(error.problem, Problem::Stopped), "{error}");
        let whole = StoredSeries {
            stop: &Stop::when(|| false),
            ..series
        };
        assert_eq!(whole.load().expect("read to the end").len(), 200_000);
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
