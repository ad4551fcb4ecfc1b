//! Decoding a file's columns on every core, folding each value column into
//! bins while it is decoded.
//!
//! A cold aggregation is mostly decoding. Every column is cut into one
//! stretch of rows per core, which the parquet crate decodes on its own
//! (skipping the pages before it unread), so that all cores share each step:
//! 1. the time column, a stretch each;
//! 2. its bins, a stretch each, then joined (only when folding, and only if
//!    the times strictly increase);
//! 3. the value columns, in stretches of whole bins, each folded batch by
//!    batch as it is decoded, while the batch is still in cache. A column is
//!    kept whole only when the caller wants the source frame too.

use std::ops::Range;

use chrono_tz::Tz;

use super::file::SeriesFile;
use super::{Problem, strictly_increasing};
use crate::bins::Bins;
use crate::frame::BarFrame;
use crate::parallel::{cores, on_threads};
use crate::resample::Runs;
use crate::timeframe::Timeframe;

/// Files with fewer rows are decoded on one thread: handing stretches to
/// another thread costs more than it saves.
const PARALLEL_ROWS: usize = 65_536;

/// The value columns: open, high, low, close, volume.
const VALUES: usize = 5;

/// The canonical columns of some bars, of equal lengths.
pub(super) struct Columns {
    pub time: Vec<i64>,
    pub values: [Vec<f64>; VALUES],
    /// Whether the times strictly increase, so that no sort is needed.
    pub increasing: bool,
}

impl Columns {
    /// Parts one after the other; `None` if there are none.
    pub fn concat(parts: Vec<Columns>) -> Option<Columns> {
        let mut parts = parts.into_iter();
        let mut all = parts.next()?;
        for part in parts {
            all.increasing = false;
            all.time.extend_from_slice(&part.time);
            for (values, more) in all.values.iter_mut().zip(&part.values) {
                values.extend_from_slice(more);
            }
        }
        Some(all)
    }

    /// Sorted by time (stably, so that the earlier of equal timestamps
    /// wins), each timestamp kept once.
    pub fn sorted_unique(self) -> Columns {
        let time = &self.time;
        let mut order: Vec<usize> = (0..time.len()).collect();
        order.sort_by_key(|&row| time[row]);
        order.dedup_by_key(|row| time[*row]);
        Columns {
            time: order.iter().map(|&row| time[row]).collect(),
            values: self
                .values
                .each_ref()
                .map(|values| order.iter().map(|&row| values[row]).collect()),
            increasing: true,
        }
    }
}

/// What was read of a file.
pub(super) enum Decoded {
    /// Its columns, not aggregated: none was asked for, or its times do not
    /// strictly increase.
    Columns(Columns),
    /// Its bars aggregated while decoding, and its columns if asked for.
    Folded {
        aggregated: BarFrame,
        columns: Option<Columns>,
    },
}

/// Decodes `file`, folding into bins of `fold` (in its zone) if given and
/// its times strictly increase, and keeping its columns if `keep` or if it
/// could not fold.
pub(super) fn decode(
    file: &SeriesFile,
    fold: Option<(Timeframe, Tz)>,
    keep: bool,
) -> Result<Decoded, Problem> {
    let rows = file.rows();
    let parts = if rows < PARALLEL_ROWS { 1 } else { cores() };
    let stretches: Vec<Range<usize>> = (0..parts)
        .map(|part| rows * part / parts..rows * (part + 1) / parts)
        .collect();
    let times = on_threads(
        stretches
            .iter()
            .map(|stretch| || file.times(stretch.clone(), room(stretch, rows)))
            .collect(),
    );
    let times = times.into_iter().collect::<Result<Vec<_>, _>>()?;
    let increasing = increasing_across(&times);
    let first = times.iter().find_map(|t| t.first().copied());
    let runs = match (fold, first) {
        (Some((timeframe, zone)), Some(first)) if increasing => {
            let bins = Bins::new(timeframe, zone, first);
            let found = on_threads(times.iter().map(|t| || Runs::find(&bins, t)).collect());
            Some(Runs::join(
                found.into_iter().zip(times.iter().map(Vec::len)).collect(),
            ))
        }
        _ => None,
    };
    let Some(runs) = runs else {
        let unfolded: Vec<Stretch> = stretches
            .into_iter()
            .map(|rows| Stretch { rows, bins: None })
            .collect();
        let values = value_columns(file, &unfolded, None, true)?;
        return Ok(Decoded::Columns(Columns {
            time: join(times),
            values: values.map(|column| column.kept),
            increasing,
        }));
    };
    let of_whole_bins: Vec<Stretch> = runs
        .split(parts)
        .into_iter()
        .map(|(rows, bins)| Stretch {
            rows,
            bins: Some(bins),
        })
        .collect();
    let values = value_columns(file, &of_whole_bins, Some(&runs), keep)?;
    let [open, high, low, close, volume] = values.map(|column| (column.kept, column.folded));
    let aggregated = runs
        .into_frame([open.1, high.1, low.1, close.1, volume.1])
        .map_err(|e| Problem::Unreadable(e.to_string()))?;
    let columns = keep.then(|| Columns {
        time: join(times),
        values: [open.0, high.0, low.0, close.0, volume.0],
        increasing,
    });
    Ok(Decoded::Folded {
        aggregated,
        columns,
    })
}

/// Whether stretches of times strictly increase, each and from one to the next.
fn increasing_across(times: &[Vec<i64>]) -> bool {
    let ends: Vec<(i64, i64)> = times
        .iter()
        .filter_map(|t| Some((*t.first()?, *t.last()?)))
        .collect();
    times.iter().all(|t| strictly_increasing(t)) && ends.windows(2).all(|w| w[0].1 < w[1].0)
}

/// The room to make for a stretch of a column of `rows`: the first has room
/// for all of it, so that the others are appended without copying it again.
fn room(stretch: &Range<usize>, rows: usize) -> usize {
    if stretch.start == 0 {
        rows
    } else {
        stretch.len()
    }
}

/// Consecutive stretches joined, reusing the first (which has room for all).
fn join<T: Copy>(stretches: Vec<Vec<T>>) -> Vec<T> {
    let mut stretches = stretches.into_iter();
    let mut all = stretches.next().unwrap_or_default();
    for rest in stretches {
        all.extend_from_slice(&rest);
    }
    all
}

/// Rows of the value columns decoded together, and when folding, the bins
/// they hold whole.
struct Stretch {
    rows: Range<usize>,
    bins: Option<Range<usize>>,
}

/// A value column decoded: its values if kept, its bins folded if folding.
#[derive(Default)]
struct Column {
    kept: Vec<f64>,
    folded: Vec<f64>,
}

/// Every value column, each decoded in `stretches` on every core, folded
/// into `runs` if given, and kept if `keep`.
fn value_columns(
    file: &SeriesFile,
    stretches: &[Stretch],
    runs: Option<&Runs>,
    keep: bool,
) -> Result<[Column; VALUES], Problem> {
    let jobs: Vec<(usize, &Stretch)> = (0..VALUES)
        .flat_map(|column| stretches.iter().map(move |stretch| (column, stretch)))
        .collect();
    let decoded = on_threads(
        jobs.iter()
            .map(|&(column, stretch)| move || value_stretch(file, column, stretch, runs, keep))
            .collect(),
    );
    let mut columns: [Column; VALUES] = Default::default();
    for ((column, _), part) in jobs.into_iter().zip(decoded) {
        let part = part?;
        let whole = &mut columns[column];
        if whole.kept.is_empty() && whole.folded.is_empty() {
            *whole = part;
        } else {
            whole.kept.extend_from_slice(&part.kept);
            whole.folded.extend_from_slice(&part.folded);
        }
    }
    Ok(columns)
}

fn value_stretch(
    file: &SeriesFile,
    column: usize,
    stretch: &Stretch,
    runs: Option<&Runs>,
    keep: bool,
) -> Result<Column, Problem> {
    let mut kept = Vec::new();
    if keep {
        let room = room(&stretch.rows, file.rows());
        kept.try_reserve_exact(room)
            .map_err(|_| Problem::OutOfMemory(room))?;
    }
    let mut folder = runs
        .zip(stretch.bins.clone())
        .map(|(runs, bins)| runs.folder(column, bins));
    file.values(column, stretch.rows.clone(), &mut |batch| {
        if keep {
            kept.extend_from_slice(batch);
        }
        if let Some(folder) = &mut folder {
            folder.push(batch);
        }
    })?;
    let folded = match folder {
        Some(folder) => folder.finish().ok_or_else(|| {
            Problem::Unreadable("a value column ends inside a bin of the time column".into())
        })?,
        None => Vec::new(),
    };
    Ok(Column { kept, folded })
}
