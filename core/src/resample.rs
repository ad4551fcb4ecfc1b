//! The OHLCV fold: time-sorted bars in, one bar per non-empty bin out.
//!
//! Because the input is sorted, each bin is a contiguous run of rows: the fold
//! finds the run's end by galloping search and reduces it in one pass, with no
//! hashing and no per-group ordering state. Values follow pandas: `first` and
//! `last` skip NaN, `max`/`min` ignore NaN, `sum` treats NaN as absent.

use chrono_tz::Tz;

use crate::bins::Bins;
use crate::frame::{BarColumns, BarFrame};
use crate::timeframe::Timeframe;

/// Folds batches of sorted bars into bars of a coarser timeframe; bins that
/// span several batches are carried over.
#[derive(Debug)]
pub struct Resampler {
    timeframe: Timeframe,
    zone: Tz,
    bins: Option<Bins>,
    pending: Option<Bin>,
    done: Output,
}

#[derive(Debug)]
struct Bin {
    start: i64,
    end: i64,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

#[derive(Debug, Default)]
struct Output {
    time: Vec<i64>,
    values: [Vec<f64>; 5],
}

impl Resampler {
    pub fn new(timeframe: Timeframe, zone: Tz) -> Self {
        Resampler {
            timeframe,
            zone,
            bins: None,
            pending: None,
            done: Output::default(),
        }
    }

    /// Aggregates a whole frame at once.
    pub fn resample(frame: &BarFrame, timeframe: Timeframe, zone: Tz) -> BarFrame {
        let mut resampler = Resampler::new(timeframe, zone);
        resampler.push(BarColumns::from(frame));
        resampler.finish()
    }

    /// Folds the next rows; they must follow every row pushed before.
    pub fn push(&mut self, bars: BarColumns<'_>) {
        let Some(&first) = bars.time.first() else {
            return;
        };
        let bins: &Bins = self
            .bins
            .get_or_insert_with(|| Bins::new(self.timeframe, self.zone, first));
        let Some(split) = parallel_split(bins, bars.time) else {
            fold(bins, &mut self.pending, &mut self.done, bars);
            return;
        };
        // The halves meet at a bin boundary, so they fold independently: the
        // left one on this thread, the right one on another.
        let (left, right) = (bars.slice(0..split), bars.slice(split..bars.time.len()));
        let (mut right_pending, mut right_done) = (None, Output::default());
        std::thread::scope(|scope| {
            scope.spawn(|| fold(bins, &mut right_pending, &mut right_done, right));
            fold(bins, &mut self.pending, &mut self.done, left);
        });
        if let Some(complete) = self.pending.take() {
            self.done.push(complete);
        }
        self.done.append(right_done);
        self.pending = right_pending;
    }

    /// The remaining bins, including the last, possibly partial one.
    pub fn finish(mut self) -> BarFrame {
        if let Some(bin) = self.pending.take() {
            self.done.push(bin);
        }
        self.done.take()
    }
}

/// Rows below this fold on one thread: a thread costs more than it saves.
const PARALLEL_ROWS: usize = 1 << 17;

/// A row near the middle of `times` where a bin starts, if the rows are
/// worth folding on two threads and such a row exists.
fn parallel_split(bins: &Bins, times: &[i64]) -> Option<usize> {
    if times.len() < PARALLEL_ROWS || crate::parallel::cores() < 2 {
        return None;
    }
    let (start, end) = bins.bin_of(times[times.len() / 2]);
    [start, end]
        .into_iter()
        .map(|boundary| times.partition_point(|&t| t < boundary))
        .find(|&row| row > 0 && row < times.len())
}

/// Folds `bars` into `pending` and `done`.
fn fold(bins: &Bins, pending: &mut Option<Bin>, done: &mut Output, bars: BarColumns<'_>) {
    let times = bars.time;
    let mut row = 0;
    while row < times.len() {
        let t = times[row];
        let bin = match &mut *pending {
            Some(bin) if t < bin.end => bin,
            slot => {
                if let Some(finished) = slot.take() {
                    done.push(finished);
                }
                let (start, end) = bins.bin_of(t);
                slot.insert(Bin::new(start, end))
            }
        };
        let run_end = row + run_length(&times[row..], bin.end);
        bin.absorb(&bars, row..run_end);
        row = run_end;
    }
}

/// How many leading `times` lie before `end`, given that the first one does.
/// Gallops so that short runs cost a few comparisons and long ones a log.
fn run_length(times: &[i64], end: i64) -> usize {
    let mut known = 1;
    let mut step = 1;
    while known + step <= times.len() && times[known + step - 1] < end {
        known += step;
        step *= 2;
    }
    let limit = (known + step).min(times.len());
    known + times[known..limit].partition_point(|&t| t < end)
}

impl Bin {
    fn new(start: i64, end: i64) -> Self {
        Bin {
            start,
            end,
            open: f64::NAN,
            high: f64::NAN,
            low: f64::NAN,
            close: f64::NAN,
            volume: 0.0,
        }
    }

    fn absorb(&mut self, bars: &BarColumns<'_>, rows: std::ops::Range<usize>) {
        if self.open.is_nan()
            && let Some(&open) = bars.open[rows.clone()].iter().find(|v| !v.is_nan())
        {
            self.open = open;
        }
        self.high = self.high.max(max_skipping_nan(&bars.high[rows.clone()]));
        self.low = self.low.min(min_skipping_nan(&bars.low[rows.clone()]));
        if let Some(&close) = bars.close[rows.clone()].iter().rev().find(|v| !v.is_nan()) {
            self.close = close;
        }
        self.volume += sum_skipping_nan(&bars.volume[rows]);
    }
}

/// Independent accumulators per lane: a single running max, min or sum is
/// one long dependency chain that the compiler may not reorder (floating
/// point), while eight lanes vectorise.
const LANES: usize = 8;

fn reduce_lanes(values: &[f64], identity: f64, step: impl Fn(f64, f64) -> f64) -> f64 {
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

/// NaN if every value is NaN (`f64::max` returns the non-NaN operand).
fn max_skipping_nan(values: &[f64]) -> f64 {
    reduce_lanes(values, f64::NAN, f64::max)
}

fn min_skipping_nan(values: &[f64]) -> f64 {
    reduce_lanes(values, f64::NAN, f64::min)
}

fn sum_skipping_nan(values: &[f64]) -> f64 {
    reduce_lanes(values, 0.0, |sum, v| if v.is_nan() { sum } else { sum + v })
}

impl Output {
    fn append(&mut self, mut later: Output) {
        self.time.append(&mut later.time);
        for (column, mut values) in self.values.iter_mut().zip(later.values) {
            column.append(&mut values);
        }
    }

    fn push(&mut self, bin: Bin) {
        self.time.push(bin.start);
        for (column, value) in self
            .values
            .iter_mut()
            .zip([bin.open, bin.high, bin.low, bin.close, bin.volume])
        {
            column.push(value);
        }
    }

    fn take(&mut self) -> BarFrame {
        let output = std::mem::take(self);
        BarFrame::from_columns(output.time, output.values)
            .unwrap_or_else(|_| unreachable!("columns of equal length in the canonical schema"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::UTC;

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
    fn run_length_gallops_to_the_bin_end() {
        let times: Vec<i64> = (0..100).collect();
        for end in 1..=100 {
            assert_eq!(run_length(&times, end), end as usize);
        }
        assert_eq!(run_length(&times, 1_000), 100);
    }

    #[test]
    fn folds_ohlcv_per_bin_and_keeps_the_partial_last_bin() {
        let times: Vec<i64> = (0..7).map(|m| m * MINUTE).collect();
        let closes = [1.0, 5.0, 2.0, 3.0, 4.0, 9.0, 0.5];
        let out = Resampler::resample(&frame(&times, &closes), "5m".parse().expect("tf"), UTC);
        assert_eq!(out.time(), &[0, 5 * MINUTE]);
        assert_eq!(out.open(), &[1.0, 9.0]);
        assert_eq!(out.high(), &[5.0, 9.0]);
        assert_eq!(out.low(), &[1.0, 0.5]);
        assert_eq!(out.close(), &[4.0, 0.5]);
        assert_eq!(out.volume(), &[5.0, 2.0]);
    }

    #[test]
    fn bins_spanning_batches_are_carried_over() {
        let times: Vec<i64> = (0..20).map(|m| m * MINUTE).collect();
        let closes: Vec<f64> = (0..20).map(f64::from).collect();
        let whole = frame(&times, &closes);
        let timeframe = "15m".parse().expect("tf");
        let mut resampler = Resampler::new(timeframe, UTC);
        for chunk in [0..3, 3..16, 16..20] {
            resampler.push(BarColumns::from(&whole.slice(chunk)));
        }
        let streamed = resampler.finish();
        let direct = Resampler::resample(&whole, timeframe, UTC);
        assert_eq!(streamed.record_batch(), direct.record_batch());
    }

    #[test]
    fn nan_values_are_skipped_like_pandas() {
        let times = [0, MINUTE, 2 * MINUTE];
        let nan = f64::NAN;
        let out = Resampler::resample(
            &BarFrame::from_columns(
                times.to_vec(),
                [
                    vec![nan, 2.0, 3.0],
                    vec![nan, 4.0, nan],
                    vec![1.0, nan, nan],
                    vec![1.0, 2.0, nan],
                    vec![nan, 5.0, 1.0],
                ],
            )
            .expect("frame"),
            "5m".parse().expect("tf"),
            UTC,
        );
        assert_eq!(out.open(), &[2.0]);
        assert_eq!(out.high(), &[4.0]);
        assert_eq!(out.low(), &[1.0]);
        assert_eq!(out.close(), &[2.0]);
        assert_eq!(out.volume(), &[6.0]);
    }

    #[test]
    fn two_threads_fold_like_one() {
        let rows = 3 * PARALLEL_ROWS;
        let times: Vec<i64> = (0..rows as i64).map(|m| m * MINUTE).collect();
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
        for timeframe in ["7m", "1h", "1d", "1w", "1M"] {
            let timeframe = timeframe.parse().expect("tf");
            let parallel = Resampler::resample(&whole, timeframe, UTC);
            let mut serial = Resampler::new(timeframe, UTC);
            for start in (0..rows).step_by(1000) {
                serial.push(BarColumns::from(
                    &whole.slice(start..(start + 1000).min(rows)),
                ));
            }
            let serial = serial.finish();
            assert_eq!(
                parallel.record_batch(),
                serial.record_batch(),
                "{timeframe}"
            );
        }
    }
}
