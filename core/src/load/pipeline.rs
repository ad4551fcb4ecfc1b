//! Decoding a file's columns on every core, folding each value column into
//! bins while it is decoded.
//!
//! A cold aggregation is mostly decoding. Every column is cut into one
//! stretch of rows per thread, and the page decoder ([`super::column`])
//! skips the pages outside a stretch, so that all threads share each step:
//! 1. the time column, a stretch each;
//! 2. its bins, a stretch each, then joined (only when folding, and only if
//!    the times strictly increase);
//! 3. the value columns, in stretches of whole bins, each folded block by
//!    block as it is decoded, while the block is still in cache. A column is
//!    kept whole only when the caller wants the source frame too.
//!
//! A file whose layout the page decoder leaves to the arrow reader is read
//! the plain way instead: each column whole, folded (if at all) by the caller.

use std::collections::VecDeque;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use chrono_tz::Tz;
use datafusion::arrow::array::{Float64Array, TimestampNanosecondArray};

use super::Problem;
use super::file::SeriesFile;
use crate::bins::Bins;
use crate::frame::BarFrame;
use crate::resample::Runs;
use crate::timeframe::Timeframe;

/// Files with fewer rows are decoded on one thread: handing stretches to
/// another thread costs more than it saves.
const PARALLEL_ROWS: usize = 65_536;

/// The value columns: open, high, low, close, volume.
const VALUES: usize = 5;

/// The canonical columns of one file, in file order.
pub(super) struct Columns {
    pub time: TimestampNanosecondArray,
    pub values: [Float64Array; VALUES],
    /// Whether the times strictly increase, so that no sort is needed.
    pub increasing: bool,
}

/// What was read of a file: its bars aggregated when asked for and its
/// times strictly increase, and its columns when the caller keeps them or
/// must aggregate itself (when `folded` is `None`).
pub(super) struct Decoded {
    pub columns: Option<Columns>,
    pub folded: Option<BarFrame>,
}

/// Decodes `file`, folding into bins of `fold` (in its zone) if given, and
/// keeping its columns if `keep` or if it could not fold.
pub(super) fn decode(
    file: &SeriesFile,
    fold: Option<(Timeframe, Tz)>,
    keep: bool,
) -> Result<Decoded, Problem> {
    let rows = file.rows();
    let threads = if rows < PARALLEL_ROWS {
        1
    } else {
        crate::parallel::cores()
    };
    let shared = Shared {
        progress: Mutex::new(Progress::new(rows, threads, fold, keep)),
        changed: Condvar::new(),
    };
    crate::parallel::on_threads((0..threads).map(|_| || shared.work(file)).collect());
    let progress = shared
        .progress
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(problem) = progress.problem {
        return Err(problem);
    }
    if progress.unsupported {
        return read_plainly(file);
    }
    progress.finish()
}

/// Every column whole, each through the page decoder if it can, else the arrow reader.
fn read_plainly(file: &SeriesFile) -> Result<Decoded, Problem> {
    let time = file.time()?;
    let increasing = super::strictly_increasing(time.values());
    let [open, high, low, close, volume] = std::array::from_fn(|index| file.values(index));
    Ok(Decoded {
        columns: Some(Columns {
            time,
            values: [open?, high?, low?, close?, volume?],
            increasing,
        }),
        folded: None,
    })
}

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
    fn work(&self, file: &SeriesFile) {
        let mut progress = self.lock();
        loop {
            if progress.ended() {
                return;
            }
            if let Some(job) = progress.queue.pop_front() {
                progress.running += 1;
                drop(progress);
                let done = catch_unwind(AssertUnwindSafe(|| job.run(file))).unwrap_or_else(|_| {
                    Err(Problem::Unreadable("the parquet decoder panicked".into()))
                });
                progress = self.lock();
                progress.running -= 1;
                progress.record(done);
                self.changed.notify_all();
            } else {
                progress = self
                    .changed
                    .wait(progress)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Time,
    Bins,
    Values,
    Finished,
}

struct Progress {
    rows: usize,
    /// One stretch of rows per thread.
    parts: usize,
    fold: Option<(Timeframe, Tz)>,
    keep: bool,
    step: Step,
    queue: VecDeque<Job>,
    running: usize,
    /// The time column's stretches, in UTC nanoseconds: shared with the
    /// jobs that find their bins.
    times: Arc<Vec<Vec<i64>>>,
    increasing: bool,
    /// The bins of each time stretch, and then all of them.
    bins: Vec<Option<Runs>>,
    runs: Option<Arc<Runs>>,
    /// Per value column, per stretch.
    values: [Vec<Option<Stretch>>; VALUES],
    unsupported: bool,
    problem: Option<Problem>,
}

impl Progress {
    fn new(rows: usize, parts: usize, fold: Option<(Timeframe, Tz)>, keep: bool) -> Progress {
        let queue = (0..parts)
            .map(|part| Job::Time {
                part,
                rows: stretch(rows, parts, part),
            })
            .collect();
        Progress {
            rows,
            parts,
            fold,
            keep,
            step: Step::Time,
            queue,
            running: 0,
            times: Arc::new(vec![Vec::new(); parts]),
            increasing: true,
            bins: Vec::new(),
            runs: None,
            values: std::array::from_fn(|_| Vec::new()),
            unsupported: false,
            problem: None,
        }
    }

    fn ended(&self) -> bool {
        self.step == Step::Finished || self.problem.is_some() || self.unsupported
    }

    fn record(&mut self, done: Result<Done, Problem>) {
        match done {
            Err(problem) => self.problem = Some(problem),
            Ok(Done::Unsupported) => self.unsupported = true,
            Ok(Done::Time {
                part,
                times,
                increasing,
            }) => {
                self.increasing &= increasing;
                Arc::make_mut(&mut self.times)[part] = times;
            }
            Ok(Done::Bins { part, runs }) => self.bins[part] = Some(runs),
            Ok(Done::Values {
                column,
                part,
                kept,
                folded,
            }) => self.values[column][part] = Some((kept, folded)),
        }
        if self.queue.is_empty() && self.running == 0 && !self.ended() {
            self.advance();
        }
    }

    /// Queues the next step once the last job of this one has ended.
    fn advance(&mut self) {
        match self.step {
            Step::Time => {
                let mut stretches = self.times.iter().filter(|t| !t.is_empty());
                let mut last = stretches.next().and_then(|t| t.last().copied());
                for times in stretches {
                    self.increasing &= last < times.first().copied();
                    last = times.last().copied();
                }
                let first = self.times.iter().find_map(|t| t.first().copied());
                match (self.fold, first) {
                    (Some((timeframe, zone)), Some(first)) if self.increasing => {
                        let bins = Arc::new(Bins::new(timeframe, zone, first));
                        self.bins = (0..self.parts).map(|_| None).collect();
                        self.queue = (0..self.parts)
                            .map(|part| Job::Bins {
                                part,
                                bins: Arc::clone(&bins),
                                times: Arc::clone(&self.times),
                            })
                            .collect();
                        self.step = Step::Bins;
                    }
                    _ => {
                        self.fold = None;
                        self.queue_values(None);
                    }
                }
            }
            Step::Bins => {
                let parts = self
                    .bins
                    .drain(..)
                    .zip(self.times.iter())
                    .filter_map(|(runs, times)| Some((runs?, times.len())))
                    .collect();
                self.queue_values(Some(Arc::new(Runs::join(parts))));
            }
            Step::Values | Step::Finished => self.step = Step::Finished,
        }
    }

    /// Queues every value column in stretches: of whole bins when folding
    /// into `runs`, else of equal rows.
    fn queue_values(&mut self, runs: Option<Arc<Runs>>) {
        let stretches: Vec<(Range<usize>, Option<Range<usize>>)> = match &runs {
            Some(runs) => runs
                .split(self.parts)
                .into_iter()
                .map(|(rows, bins)| (rows, Some(bins)))
                .collect(),
            None => (0..self.parts)
                .map(|part| (stretch(self.rows, self.parts, part), None))
                .collect(),
        };
        let keep = self.keep || runs.is_none();
        for column in 0..VALUES {
            self.values[column] = stretches.iter().map(|_| None).collect();
            for (part, (rows, bins)) in stretches.iter().enumerate() {
                self.queue.push_back(Job::Values {
                    column,
                    part,
                    capacity: if part == 0 { self.rows } else { rows.len() },
                    rows: rows.clone(),
                    fold: runs.clone().zip(bins.clone()),
                    keep,
                });
            }
        }
        self.runs = runs;
        self.step = Step::Values;
    }

    fn finish(self) -> Result<Decoded, Problem> {
        let missing = || Problem::Unreadable("a column was not decoded".into());
        let mut kept = Vec::with_capacity(VALUES);
        let mut folded = Vec::with_capacity(VALUES);
        for parts in self.values {
            let mut column: Option<Stretch> = None;
            for part in parts {
                let (values, bins) = part.ok_or_else(missing)?;
                match &mut column {
                    None => column = Some((values, bins)),
                    Some((all_values, all_bins)) => {
                        all_values.extend_from_slice(&values);
                        all_bins.extend_from_slice(&bins);
                    }
                }
            }
            let (values, bins) = column.unwrap_or_default();
            kept.push(Float64Array::from(values));
            folded.push(bins);
        }
        let folded = match (self.runs, <[Vec<f64>; VALUES]>::try_from(folded)) {
            (Some(runs), Ok(columns)) => Some(Arc::unwrap_or_clone(runs).into_frame(columns)),
            _ => None,
        };
        let columns = if self.keep || folded.is_none() {
            let mut stretches = Arc::unwrap_or_clone(self.times).into_iter();
            let mut time = stretches.next().unwrap_or_default();
            for rest in stretches {
                time.extend_from_slice(&rest);
            }
            let values = <[Float64Array; VALUES]>::try_from(kept).map_err(|_| missing())?;
            Some(Columns {
                time: TimestampNanosecondArray::from(time).with_timezone("UTC"),
                values,
                increasing: self.increasing,
            })
        } else {
            None
        };
        Ok(Decoded { columns, folded })
    }
}

/// A decoded stretch of a value column: its values (if kept) and its bins
/// folded (if folding).
type Stretch = (Vec<f64>, Vec<f64>);

/// Stretch `part` of `parts` of equal length over `rows` rows.
fn stretch(rows: usize, parts: usize, part: usize) -> Range<usize> {
    rows * part / parts..rows * (part + 1) / parts
}

enum Job {
    Time {
        part: usize,
        rows: Range<usize>,
    },
    Bins {
        part: usize,
        bins: Arc<Bins>,
        times: Arc<Vec<Vec<i64>>>,
    },
    Values {
        column: usize,
        part: usize,
        rows: Range<usize>,
        /// Room for the whole column in the first stretch, so that the
        /// others are appended to it without copying it again.
        capacity: usize,
        /// The bins to fold into, and which of them this stretch covers.
        fold: Option<(Arc<Runs>, Range<usize>)>,
        keep: bool,
    },
}

enum Done {
    Time {
        part: usize,
        times: Vec<i64>,
        increasing: bool,
    },
    Bins {
        part: usize,
        runs: Runs,
    },
    Values {
        column: usize,
        part: usize,
        kept: Vec<f64>,
        folded: Vec<f64>,
    },
    /// The page decoder left a column to the arrow reader.
    Unsupported,
}

impl Job {
    fn run(self, file: &SeriesFile) -> Result<Done, Problem> {
        Ok(match self {
            Job::Time { part, rows } => {
                let capacity = if part == 0 { file.rows() } else { rows.len() };
                match file.time_rows(rows, capacity)? {
                    Some(times) => Done::Time {
                        part,
                        increasing: super::strictly_increasing(&times),
                        times,
                    },
                    None => Done::Unsupported,
                }
            }
            Job::Bins { part, bins, times } => Done::Bins {
                part,
                runs: Runs::find(&bins, &times[part]),
            },
            Job::Values {
                column,
                part,
                rows,
                capacity,
                fold,
                keep,
            } => {
                let mut kept = Vec::with_capacity(if keep { capacity } else { 0 });
                let mut folder = fold
                    .as_ref()
                    .map(|(runs, bins)| runs.folder(column, bins.clone()));
                let decoded = file.value_rows(column, rows, &mut |block| {
                    if keep {
                        kept.extend_from_slice(block);
                    }
                    if let Some(folder) = &mut folder {
                        folder.push(block);
                    }
                })?;
                if !decoded {
                    return Ok(Done::Unsupported);
                }
                let folded = match folder {
                    Some(folder) => folder.finish().ok_or_else(|| {
                        Problem::Unreadable("a column shorter than the time column".into())
                    })?,
                    None => Vec::new(),
                };
                Done::Values {
                    column,
                    part,
                    kept,
                    folded,
                }
            }
        })
    }
}
