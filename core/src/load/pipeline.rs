//! Decoding a file's columns on every core, and folding each value column
//! into bins once both it and the time column are decoded.
//!
//! parquet decodes column by column, and a cold aggregation is mostly that
//! decoding. Folding columns on whichever thread is free, while the other
//! still decodes, hides most of the fold instead of running it after the
//! last column is in.
//!
//! Columns are handed out in order, the time column first: it is the
//! largest, and the folds need its bins. Threads take a decode before a
//! fold: the last decode would otherwise start late, and the other thread
//! would sit idle while it runs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use chrono_tz::Tz;
use datafusion::arrow::array::{Float64Array, TimestampNanosecondArray};

use super::Problem;
use super::file::SeriesFile;
use crate::frame::BarFrame;
use crate::resample::Runs;
use crate::timeframe::Timeframe;

/// Files with fewer rows are decoded on one thread: handing columns to
/// another thread costs more than it saves.
const PARALLEL_ROWS: usize = 65_536;

/// The canonical columns of one file, in file order.
pub(super) struct Columns {
    pub time: TimestampNanosecondArray,
    pub values: [Float64Array; 5],
    /// Whether the times strictly increase, so that no sort is needed.
    pub increasing: bool,
}

/// A file's columns, and its bars aggregated when asked for and its times
/// strictly increase (otherwise the caller sorts first, then aggregates).
pub(super) struct Decoded {
    pub columns: Columns,
    pub folded: Option<BarFrame>,
}

/// Decodes every column of `file`, folding into bins of `fold` (in its zone) if given.
pub(super) fn decode(file: &SeriesFile, fold: Option<(Timeframe, Tz)>) -> Result<Decoded, Problem> {
    let threads = if file.rows() < PARALLEL_ROWS {
        1
    } else {
        crate::parallel::cores().min(JOBS)
    };
    let shared = Shared {
        progress: Mutex::new(Progress::default()),
        changed: Condvar::new(),
    };
    crate::parallel::on_threads((0..threads).map(|_| || shared.work(file, fold)).collect());
    shared
        .progress
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .finish()
}

/// The time column and the five value columns.
const JOBS: usize = 6;

struct Shared {
    progress: Mutex<Progress>,
    /// Signalled whenever a job ends, which may make work or end the wait.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes and runs jobs until none is left, nor can any appear.
    fn work(&self, file: &SeriesFile, fold: Option<(Timeframe, Tz)>) {
        let mut progress = self.lock();
        loop {
            if progress.problem.is_some() {
                return;
            }
            if let Some(job) = progress.take() {
                progress.running += 1;
                drop(progress);
                let done =
                    catch_unwind(AssertUnwindSafe(|| job.run(file, fold))).unwrap_or_else(|_| {
                        Err(Problem::Unreadable("the parquet decoder panicked".into()))
                    });
                progress = self.lock();
                progress.running -= 1;
                progress.record(done);
                self.changed.notify_all();
            } else if progress.running == 0 {
                return;
            } else {
                progress = self
                    .changed
                    .wait(progress)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

#[derive(Default)]
struct Progress {
    /// Columns handed out so far: the time column, then values in order.
    handed_out: usize,
    running: usize,
    time: Option<(TimestampNanosecondArray, bool)>,
    values: [Option<Float64Array>; 5],
    /// The bins of the time column, when folding and the times increase.
    runs: Option<Arc<Runs>>,
    /// Decoded value columns whose fold has not been handed out.
    unfolded: Vec<usize>,
    folded: [Option<Vec<f64>>; 5],
    problem: Option<Problem>,
}

enum Job {
    Time,
    Values(usize),
    Fold(usize, Float64Array, Arc<Runs>),
}

enum Done {
    Time(TimestampNanosecondArray, bool, Option<Runs>),
    Values(usize, Float64Array),
    Folded(usize, Vec<f64>),
}

impl Progress {
    fn take(&mut self) -> Option<Job> {
        let decode = match self.handed_out {
            0 => Some(Job::Time),
            column if column < JOBS => Some(Job::Values(column - 1)),
            _ => None,
        };
        if decode.is_some() {
            self.handed_out += 1;
            return decode;
        }
        let runs = self.runs.as_ref()?;
        let index = self.unfolded.pop()?;
        let values = self.values[index].clone()?;
        Some(Job::Fold(index, values, Arc::clone(runs)))
    }

    fn record(&mut self, done: Result<Done, Problem>) {
        match done {
            Err(problem) => self.problem = Some(problem),
            Ok(Done::Time(time, increasing, runs)) => {
                self.time = Some((time, increasing));
                self.runs = runs.map(Arc::new);
            }
            Ok(Done::Values(index, values)) => {
                self.values[index] = Some(values);
                self.unfolded.push(index);
            }
            Ok(Done::Folded(index, folded)) => self.folded[index] = Some(folded),
        }
    }

    fn finish(self) -> Result<Decoded, Problem> {
        if let Some(problem) = self.problem {
            return Err(problem);
        }
        let missing = || Problem::Unreadable("a column was not decoded".into());
        let (time, increasing) = self.time.ok_or_else(missing)?;
        let [open, high, low, close, volume] = self.values;
        let values = [
            open.ok_or_else(missing)?,
            high.ok_or_else(missing)?,
            low.ok_or_else(missing)?,
            close.ok_or_else(missing)?,
            volume.ok_or_else(missing)?,
        ];
        let folded = match (self.runs, self.folded) {
            (Some(runs), [Some(o), Some(h), Some(l), Some(c), Some(v)]) => {
                let runs = Arc::try_unwrap(runs).ok();
                runs.map(|runs| runs.into_frame([o, h, l, c, v]))
            }
            _ => None,
        };
        Ok(Decoded {
            columns: Columns {
                time,
                values,
                increasing,
            },
            folded,
        })
    }
}

impl Job {
    fn run(self, file: &SeriesFile, fold: Option<(Timeframe, Tz)>) -> Result<Done, Problem> {
        Ok(match self {
            Job::Time => {
                let time = file.time()?;
                let increasing = super::strictly_increasing(time.values());
                let runs = fold
                    .filter(|_| increasing)
                    .map(|(timeframe, zone)| Runs::of(time.values(), timeframe, zone));
                Done::Time(time, increasing, runs)
            }
            Job::Values(index) => Done::Values(index, file.values(index)?),
            Job::Fold(index, values, runs) => {
                Done::Folded(index, runs.fold(index, values.values()))
            }
        })
    }
}
