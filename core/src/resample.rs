//! The OHLCV fold: time-sorted bars in, one bar per non-empty bin out.
//!
//! Because the input is sorted, each bin is a contiguous run of rows. The fold
//! first finds the runs (a galloping search from one bin's end to the next: no
//! hashing, no per-group state), then reduces each column over the runs on its
//! own, so that every loop reads one column and every output column is
//! allocated once, at its final length. Values follow pandas: `first` and
//! `last` skip NaN, `max`/`min` ignore NaN, `sum` treats NaN as absent.

use std::ops::Range;

use chrono_tz::Tz;

use datafusion::arrow::error::ArrowError;

use crate::bins::Bins;
use crate::frame::BarFrame;
use crate::parallel::on_threads;
use crate::timeframe::Timeframe;

/// Aggregates sorted bars into bars of `timeframe`, whose bins follow `zone`'s
/// calendar. The last bin is kept even when it is partial.
pub fn resample(frame: &BarFrame, timeframe: Timeframe, zone: Tz) -> BarFrame {
    let times = frame.time();
    let Some(&first) = times.first() else {
        return BarFrame::empty();
    };
    let bins = Bins::new(timeframe, zone, first);
    let parts = split_at_bins(&bins, times);
    let runs = on_threads(
        parts
            .iter()
            .map(|rows| || Runs::find(&bins, &times[rows.clone()]))
            .collect(),
    );
    let counts: Vec<usize> = runs.iter().map(|r| r.starts.len()).collect();
    let total = counts.iter().sum();
    let mut time = vec![0_i64; total];
    let mut values: [Vec<f64>; 5] = std::array::from_fn(|_| vec![0.0; total]);
    let inputs = [
        frame.open(),
        frame.high(),
        frame.low(),
        frame.close(),
        frame.volume(),
    ];
    // Each part writes its own stretch of every output column.
    let mut time_outs = split_lengths(&mut time, &counts);
    let mut value_outs: Vec<Vec<&mut [f64]>> = values
        .iter_mut()
        .map(|column| split_lengths(column, &counts))
        .collect();
    let tasks: Vec<_> = parts
        .iter()
        .zip(&runs)
        .enumerate()
        .map(|(part, (rows, runs))| {
            let time_out = std::mem::take(&mut time_outs[part]);
            let outs: Vec<&mut [f64]> = value_outs
                .iter_mut()
                .map(|column| std::mem::take(&mut column[part]))
                .collect();
            move || {
                time_out.copy_from_slice(&runs.starts);
                for ((fold, input), out) in COLUMN_FOLDS.iter().zip(inputs).zip(outs) {
                    fold.over(&input[rows.clone()], &runs.ends, out);
                }
            }
        })
        .collect();
    on_threads(tasks);
    BarFrame::from_columns(time, values)
        .unwrap_or_else(|_| unreachable!("columns of equal length in the canonical schema"))
}

/// Rows below this fold on one thread: a thread costs more than it saves.
const PARALLEL_ROWS: usize = 1 << 17;

/// Consecutive stretches of rows, one per thread, that meet at bin
/// boundaries, so that they fold independently.
fn split_at_bins(bins: &Bins, times: &[i64]) -> Vec<Range<usize>> {
    let threads = if times.len() < PARALLEL_ROWS {
        1
    } else {
        crate::parallel::cores()
    };
    let mut cuts = vec![0];
    for part in 1..threads {
        let previous = cuts.last().copied().unwrap_or(0);
        let (start, end) = bins.bin_of(times[times.len() * part / threads]);
        let cut = [start, end]
            .into_iter()
            .map(|boundary| times.partition_point(|&t| t < boundary))
            .find(|&row| row > previous && row < times.len());
        cuts.extend(cut);
    }
    cuts.push(times.len());
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

/// `slice` cut into consecutive pieces of the given lengths.
fn split_lengths<'a, T>(mut slice: &'a mut [T], lengths: &[usize]) -> Vec<&'a mut [T]> {
    lengths
        .iter()
        .map(|&length| {
            let (piece, rest) = std::mem::take(&mut slice).split_at_mut(length);
            slice = rest;
            piece
        })
        .collect()
}

/// The non-empty bins of a stretch of sorted rows.
#[derive(Debug, Clone)]
pub(crate) struct Runs {
    /// When each bin starts.
    starts: Vec<i64>,
    /// Where each bin's rows end: bin `i` holds rows `ends[i - 1]..ends[i]`
    /// (from row 0 for the first).
    ends: Vec<usize>,
}

impl Runs {
    /// The bins of a time column decoded in consecutive parts, from the
    /// bins of each part and its row count: a bin cut by a part edge is joined.
    pub(crate) fn join(parts: Vec<(Runs, usize)>) -> Runs {
        let mut joined = Runs {
            starts: Vec::with_capacity(parts.iter().map(|(r, _)| r.starts.len()).sum()),
            ends: Vec::with_capacity(parts.iter().map(|(r, _)| r.ends.len()).sum()),
        };
        let mut offset = 0;
        for (runs, rows) in parts {
            if joined.starts.last().is_some() && joined.starts.last() == runs.starts.first() {
                joined.starts.pop();
                joined.ends.pop();
            }
            joined.starts.extend_from_slice(&runs.starts);
            joined.ends.extend(runs.ends.iter().map(|end| end + offset));
            offset += rows;
        }
        joined
    }

    /// At most `parts` stretches of consecutive whole bins, of about equal
    /// rows: the rows and the bins of each, to fold on their own.
    pub(crate) fn split(&self, parts: usize) -> Vec<(Range<usize>, Range<usize>)> {
        let rows = self.ends.last().copied().unwrap_or(0);
        let mut stretches = Vec::with_capacity(parts);
        let (mut row, mut bin) = (0, 0);
        for part in 1..=parts {
            let end_bin = if part == parts {
                self.ends.len()
            } else {
                self.ends.partition_point(|&end| end <= rows * part / parts)
            };
            if end_bin > bin {
                let end_row = self.ends[end_bin - 1];
                stretches.push((row..end_row, bin..end_bin));
                (row, bin) = (end_row, end_bin);
            }
        }
        stretches
    }

    /// A folder of value column `index` (open, high, low, close, volume)
    /// over bins `bins`, given their rows in blocks.
    pub(crate) fn folder(&self, index: usize, bins: Range<usize>) -> RunFolder<'_> {
        let first_row = bins
            .start
            .checked_sub(1)
            .map_or(0, |previous| self.ends[previous]);
        RunFolder {
            ends: &self.ends[bins.clone()],
            fold: COLUMN_FOLDS[index],
            out: Vec::with_capacity(bins.len()),
            row: first_row,
            carry: Vec::new(),
        }
    }

    /// The aggregated bars, given every value column folded (one value per
    /// bin in each, or an error).
    pub(crate) fn into_frame(self, values: [Vec<f64>; 5]) -> Result<BarFrame, ArrowError> {
        BarFrame::from_columns(self.starts, values)
    }

    /// The bins of sorted `times`.
    pub(crate) fn find(bins: &Bins, times: &[i64]) -> Runs {
        let capacity = match (times.first(), times.last()) {
            (Some(&first), Some(&last)) => bins.count_hint(first, last).min(times.len()),
            _ => 0,
        };
        let mut runs = Runs {
            starts: Vec::with_capacity(capacity),
            ends: Vec::with_capacity(capacity),
        };
        let (mut row, mut length) = (0, 1);
        let mut bin: Option<(i64, i64)> = None;
        while let Some(&t) = times.get(row) {
            let (start, end) = match bin {
                Some(previous) => bins.bin_after(previous, t),
                None => bins.bin_of(t),
            };
            length = run_length(&times[row..], end, length);
            row += length;
            runs.starts.push(start);
            runs.ends.push(row);
            bin = Some((start, end));
        }
        runs
    }
}

/// Folds one value column handed over in consecutive blocks of rows. A bin
/// cut by a block edge is gathered whole before it is folded, so that every
/// bin folds exactly as [`Runs::fold`] folds it.
pub(crate) struct RunFolder<'a> {
    /// Where each bin's rows end.
    ends: &'a [usize],
    fold: Fold,
    out: Vec<f64>,
    /// The next row to be handed over.
    row: usize,
    /// The rows of the current bin from earlier blocks.
    carry: Vec<f64>,
}

impl RunFolder<'_> {
    pub(crate) fn push(&mut self, block: &[f64]) {
        let block_end = self.row + block.len();
        let mut at = 0;
        while let Some(&end) = self.ends.get(self.out.len()) {
            if end > block_end {
                break;
            }
            let rest = &block[at..end - self.row];
            let value = if self.carry.is_empty() {
                self.fold.of(rest)
            } else {
                self.carry.extend_from_slice(rest);
                let value = self.fold.of(&self.carry);
                self.carry.clear();
                value
            };
            self.out.push(value);
            at = end - self.row;
        }
        self.carry.extend_from_slice(&block[at..]);
        self.row = block_end;
    }

    /// The folded bins; `None` unless exactly their rows were handed over.
    pub(crate) fn finish(self) -> Option<Vec<f64>> {
        let complete = self.out.len() == self.ends.len() && self.carry.is_empty();
        complete.then_some(self.out)
    }
}

/// How many leading `times` lie before `end`, given that the first one does.
/// Regular bars make runs of one length, so `guess` (the last run's length)
/// is tried first; otherwise it gallops, so that short runs cost a few
/// comparisons and long ones a log.
fn run_length(times: &[i64], end: i64, guess: usize) -> usize {
    if guess < times.len() && times[guess - 1] < end && times[guess] >= end {
        return guess;
    }
    let mut known = 1;
    let mut step = 1;
    while known + step <= times.len() && times[known + step - 1] < end {
        known += step;
        step *= 2;
    }
    let limit = (known + step).min(times.len());
    known + times[known..limit].partition_point(|&t| t < end)
}

/// How one column reduces over a bin.
#[derive(Debug, Clone, Copy)]
enum Fold {
    First,
    Max,
    Min,
    Last,
    Sum,
}

/// The folds of open, high, low, close and volume.
const COLUMN_FOLDS: [Fold; 5] = [Fold::First, Fold::Max, Fold::Min, Fold::Last, Fold::Sum];

impl Fold {
    /// Reduces one run.
    fn of(self, run: &[f64]) -> f64 {
        match self {
            Fold::First => first_present(run),
            Fold::Max => max_present(run),
            Fold::Min => min_present(run),
            Fold::Last => last_present(run),
            Fold::Sum => sum_present(run),
        }
    }

    /// Reduces `values` over the runs ending at `ends` into `out`.
    fn over(self, values: &[f64], ends: &[usize], out: &mut [f64]) {
        match self {
            Fold::First => each_run(values, ends, out, first_present),
            Fold::Max => each_run(values, ends, out, max_present),
            Fold::Min => each_run(values, ends, out, min_present),
            Fold::Last => each_run(values, ends, out, last_present),
            Fold::Sum => each_run(values, ends, out, sum_present),
        }
    }
}

fn each_run(values: &[f64], ends: &[usize], out: &mut [f64], fold: impl Fn(&[f64]) -> f64) {
    let mut start = 0;
    for (slot, &end) in out.iter_mut().zip(ends) {
        *slot = fold(&values[start..end]);
        start = end;
    }
}

fn first_present(run: &[f64]) -> f64 {
    run.iter()
        .copied()
        .find(|v| !v.is_nan())
        .unwrap_or(f64::NAN)
}

fn last_present(run: &[f64]) -> f64 {
    run.iter()
        .copied()
        .rfind(|v| !v.is_nan())
        .unwrap_or(f64::NAN)
}

/// `v > max` is false for NaN, so NaNs are skipped by the comparison itself
/// (one `maxpd` per lane); a result still at −∞ means no value, unless −∞
/// was one.
fn max_present(run: &[f64]) -> f64 {
    let max = reduce(
        run,
        f64::NEG_INFINITY,
        |max, v| if v > max { v } else { max },
    );
    if max == f64::NEG_INFINITY && !run.contains(&f64::NEG_INFINITY) {
        f64::NAN
    } else {
        max
    }
}

fn min_present(run: &[f64]) -> f64 {
    let min = reduce(run, f64::INFINITY, |min, v| if v < min { v } else { min });
    if min == f64::INFINITY && !run.contains(&f64::INFINITY) {
        f64::NAN
    } else {
        min
    }
}

fn sum_present(run: &[f64]) -> f64 {
    reduce(run, 0.0, |sum, v| if v.is_nan() { sum } else { sum + v })
}

/// Independent accumulators per lane: a single running max, min or sum is
/// one long dependency chain that the compiler may not reorder (floating
/// point), while eight lanes vectorise. Short runs fold in order.
const LANES: usize = 8;

fn reduce(values: &[f64], identity: f64, step: impl Fn(f64, f64) -> f64) -> f64 {
    if values.len() < LANES {
        return values.iter().copied().fold(identity, step);
    }
    let mut lanes = [identity; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane = step(*lane, value);
        }
    }
    lanes
        .into_iter()
        .chain(rest.iter().copied())
        .fold(identity, &step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, UTC};

    const MINUTE: i64 = 60_000_000_000;

    fn frame(times: &[i64], closes: &[f64]) -> BarFrame {
        let v = closes.to_vec();
        BarFrame::from_columns(
            times.to_vec(),
            [v.clone(), v.clone(), v.clone(), v, vec![1.0; times.len()]],
        )
        .expect("frame")
    }

    #[test]
    fn run_length_finds_the_bin_end_whatever_the_guess() {
        let times: Vec<i64> = (0..100).collect();
        for end in 1..=100 {
            for guess in [1, 5, end as usize, 99] {
                assert_eq!(
                    run_length(&times, end, guess),
                    end as usize,
                    "{end} {guess}"
                );
            }
        }
        assert_eq!(run_length(&times, 1_000, 7), 100);
    }

    #[test]
    fn folds_ohlcv_per_bin_and_keeps_the_partial_last_bin() {
        let times: Vec<i64> = (0..7).map(|m| m * MINUTE).collect();
        let closes = [1.0, 5.0, 2.0, 3.0, 4.0, 9.0, 0.5];
        let out = resample(&frame(&times, &closes), "5m".parse().expect("tf"), UTC);
        assert_eq!(out.time(), &[0, 5 * MINUTE]);
        assert_eq!(out.open(), &[1.0, 9.0]);
        assert_eq!(out.high(), &[5.0, 9.0]);
        assert_eq!(out.low(), &[1.0, 0.5]);
        assert_eq!(out.close(), &[4.0, 0.5]);
        assert_eq!(out.volume(), &[5.0, 2.0]);
    }

    #[test]
    fn nan_values_are_skipped_like_pandas() {
        let times = [0, MINUTE, 2 * MINUTE, 5 * MINUTE];
        let nan = f64::NAN;
        let out = resample(
            &BarFrame::from_columns(
                times.to_vec(),
                [
                    vec![nan, 2.0, 3.0, nan],
                    vec![nan, 4.0, nan, f64::NEG_INFINITY],
                    vec![1.0, nan, nan, nan],
                    vec![1.0, 2.0, nan, nan],
                    vec![nan, 5.0, 1.0, nan],
                ],
            )
            .expect("frame"),
            "5m".parse().expect("tf"),
            UTC,
        );
        assert_eq!(out.open()[0], 2.0);
        assert_eq!(out.high(), &[4.0, f64::NEG_INFINITY]);
        assert_eq!(out.low()[0], 1.0);
        assert_eq!(out.close()[0], 2.0);
        assert_eq!(out.volume(), &[6.0, 0.0]);
        // A bin of NaNs only: NaN for prices, 0 for volume, as pandas.
        for column in [out.open(), out.low(), out.close()] {
            assert!(column[1].is_nan());
        }
    }

    /// The fold written the obvious way: every row looks its bin up.
    fn row_by_row(frame: &BarFrame, timeframe: Timeframe, zone: Tz) -> BarFrame {
        let bins = Bins::new(timeframe, zone, frame.time()[0]);
        let mut time: Vec<i64> = Vec::new();
        let mut values: [Vec<f64>; 5] = Default::default();
        for row in 0..frame.len() {
            let (start, _) = bins.bin_of(frame.time()[row]);
            if time.last() != Some(&start) {
                time.push(start);
                values[0].push(f64::NAN);
                values[1].push(f64::NAN);
                values[2].push(f64::NAN);
                values[3].push(f64::NAN);
                values[4].push(0.0);
            }
            let [open, high, low, close, volume] = &mut values;
            let at = time.len() - 1;
            if open[at].is_nan() {
                open[at] = frame.open()[row];
            }
            high[at] = high[at].max(frame.high()[row]);
            low[at] = low[at].min(frame.low()[row]);
            if !frame.close()[row].is_nan() {
                close[at] = frame.close()[row];
            }
            if !frame.volume()[row].is_nan() {
                volume[at] += frame.volume()[row];
            }
        }
        BarFrame::from_columns(time, values).expect("frame")
    }

    #[test]
    fn matches_a_row_by_row_fold_on_threads_and_across_gaps() {
        let rows = 3 * PARALLEL_ROWS;
        // Minutes with a gap of a few days every 50,000 rows and irregular
        // steps, so that runs differ in length.
        let times: Vec<i64> = (0..rows as i64)
            .map(|i| i * MINUTE + (i / 50_000) * 3 * 1_440 * MINUTE + (i % 7 / 3) * MINUTE / 2)
            .collect();
        // Values with NaNs at irregular rows; whole numbers, so that sums are
        // exact whatever the order of addition.
        let value = |i: usize| {
            if i % 97 == 3 {
                f64::NAN
            } else {
                (i * 7919 % 1000) as f64
            }
        };
        let column = |shift: usize| (0..rows).map(|i| value(i + shift)).collect::<Vec<_>>();
        let whole = BarFrame::from_columns(
            times,
            [column(0), column(1), column(2), column(3), column(4)],
        )
        .expect("frame");
        for timeframe in ["1m", "5m", "7m", "1h", "4h", "1d", "3d", "1w", "1M"] {
            let timeframe = timeframe.parse().expect("tf");
            for zone in [UTC, New_York] {
                assert_eq!(
                    resample(&whole, timeframe, zone).record_batch(),
                    row_by_row(&whole, timeframe, zone).record_batch(),
                    "{timeframe} {zone}"
                );
            }
        }
    }
}
