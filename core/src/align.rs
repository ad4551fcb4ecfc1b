//! Which bar of a higher timeframe each chart bar may see, so that a
//! strategy reading it never reads the future (`docs/indicators.md`,
//! "Higher timeframes").
//!
//! A higher bar is *complete* at the close of its last chart bar (the last
//! chart bar starting inside it) once the stored bars show it has ended: a
//! later chart bar exists, or that chart bar's close reaches the higher
//! bar's end. The last higher bar of a series that is still open is not
//! complete; a higher bar holding no chart bar completes at the first chart
//! bar closing at or after its end. Completion reads only bar times, never
//! values, and never a bar after the chart bar it is asked for.

use std::ops::Range;

use chrono_tz::Tz;

use crate::bins::Bins;
use crate::timeframe::Timeframe;

/// What a chart bar may see of a higher timeframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Align {
    /// The newest higher bar complete by the chart bar's close.
    #[default]
    Close,
    /// The newest higher bar complete before the chart bar opened.
    Open,
    /// The developing higher bar, folded from the chart bars up to this one.
    Forming,
}

impl Align {
    pub const ALL: [Align; 3] = [Align::Close, Align::Open, Align::Forming];

    pub fn name(self) -> &'static str {
        match self {
            Align::Close => "close",
            Align::Open => "open",
            Align::Forming => "forming",
        }
    }

    pub fn from_name(name: &str) -> Option<Align> {
        Align::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

/// When the bars of one timeframe close, from their start times.
#[derive(Debug, Clone)]
pub struct Closes {
    timeframe: Timeframe,
    bins: Bins,
}

impl Closes {
    /// The closes of `timeframe` bars in `zone` for a series whose first bar
    /// starts at `first`.
    pub fn new(timeframe: Timeframe, zone: Tz, first: i64) -> Closes {
        Closes {
            timeframe,
            bins: Bins::new(timeframe, zone, first),
        }
    }

    /// The close of the bar starting at `start`: a fixed width after it (a
    /// stored bar may start off the grid), or the end of its calendar bin.
    pub fn close_of(&self, start: i64) -> i64 {
        match self.timeframe.fixed_nanos() {
            Some(width) => start.saturating_add(width),
            None => self.bins.bin_of(start).1,
        }
    }

    /// The half-open span `[start, end)` of the bin holding `t`.
    pub fn bin_of(&self, t: i64) -> (i64, i64) {
        self.bins.bin_of(t)
    }
}

/// Which higher bar each chart bar may see under `align` (`Close` or
/// `Open`), as runs: the value changes only where a higher bar completes,
/// so a chart of a million minutes sees a few hundred days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// From chart row `.0` on (until the next run), higher bar `.1`;
    /// rows before the first run see none. Both strictly increasing.
    runs: Vec<(usize, u32)>,
}

impl Seen {
    /// `chart` and `higher` are bar start times, sorted; the closes give
    /// each bar's end.
    pub fn new(
        chart: &[i64],
        chart_closes: &Closes,
        higher: &[i64],
        higher_closes: &Closes,
        align: Align,
    ) -> Seen {
        // A bar complete at chart bar `c` is seen from `c` (close) or from
        // the bar after it (open).
        let lag = usize::from(align == Align::Open);
        let mut runs: Vec<(usize, u32)> = Vec::new();
        let completed = completions(chart, chart_closes, higher, higher_closes);
        for (k, at) in completed.into_iter().enumerate() {
            let (Some(at), Ok(k)) = (at, u32::try_from(k)) else {
                continue;
            };
            let from = at + lag;
            if from >= chart.len() {
                break;
            }
            match runs.last_mut() {
                // Several higher bars complete at one chart bar: the newest.
                Some(last) if last.0 == from => last.1 = k,
                _ => runs.push((from, k)),
            }
        }
        Seen { runs }
    }

    /// The higher bar chart row `row` sees.
    pub fn at(&self, row: usize) -> Option<u32> {
        let after = self.runs.partition_point(|&(from, _)| from <= row);
        after.checked_sub(1).map(|i| self.runs[i].1)
    }

    /// `rows` cut into spans that see one higher bar each (or none), in order.
    pub fn spans(&self, rows: Range<usize>) -> impl Iterator<Item = (Range<usize>, Option<u32>)> {
        let first = self.runs.partition_point(|&(from, _)| from <= rows.start);
        let before = first.checked_sub(1).map(|i| self.runs[i].1);
        let starts = std::iter::once((rows.start, before)).chain(
            self.runs[first..]
                .iter()
                .take_while(move |&&(from, _)| from < rows.end)
                .map(|&(from, k)| (from, Some(k))),
        );
        let ends = self.runs[first..]
            .iter()
            .map(|&(from, _)| from)
            .take_while(move |&from| from < rows.end)
            .chain(std::iter::once(rows.end));
        starts
            .zip(ends)
            .map(|((start, k), end)| (start..end, k))
            .filter(|(span, _)| !span.is_empty())
    }
}

/// The chart bar at whose close each higher bar completes (`None`: not
/// complete within the chart). Non-decreasing.
fn completions(
    chart: &[i64],
    chart_closes: &Closes,
    higher: &[i64],
    higher_closes: &Closes,
) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(higher.len());
    let mut j = 0;
    for &start in higher {
        let end = higher_closes.close_of(start);
        // Chart bars before this higher bar: skip them.
        while j < chart.len() && chart[j] < start {
            j += 1;
        }
        let first_inside = j;
        while j < chart.len() && chart[j] < end {
            j += 1;
        }
        let completion = if j > first_inside {
            let last = j - 1;
            let ended = j < chart.len() || chart_closes.close_of(chart[last]) >= end;
            ended.then_some(last)
        } else {
            // No chart bar inside: complete at the first that closes at or
            // after its end (the one starting there, at the latest).
            (first_inside..chart.len()).find(|&k| chart_closes.close_of(chart[k]) >= end)
        };
        out.push(completion);
    }
    // A higher bar with no chart bar inside could complete at a chart bar
    // after a later one's completion only if the bars overlapped; keep the
    // sequence non-decreasing regardless.
    let mut floor = 0;
    for c in out.iter_mut().flatten() {
        floor = floor.max(*c);
        *c = floor;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;

    fn hours(list: &[i64]) -> Vec<i64> {
        list.iter().map(|h| h * H).collect()
    }

    fn place(chart: &[i64], higher: &[i64], align: Align) -> Vec<Option<u32>> {
        let (one, four) = ("1h".parse().expect("1h"), "4h".parse().expect("4h"));
        let seen = Seen::new(
            &hours(chart),
            &Closes::new(one, Tz::UTC, 0),
            &hours(higher),
            &Closes::new(four, Tz::UTC, 0),
            align,
        );
        let each: Vec<Option<u32>> = (0..chart.len()).map(|row| seen.at(row)).collect();
        // Spans of any window repeat exactly what each row sees.
        for start in 0..chart.len() {
            for end in start..=chart.len() {
                let spans: Vec<Option<u32>> = seen
                    .spans(start..end)
                    .flat_map(|(span, k)| std::iter::repeat_n(k, span.len()))
                    .collect();
                assert_eq!(spans, each[start..end], "{start}..{end}");
            }
        }
        each
    }

    #[test]
    fn a_higher_bar_shows_at_the_close_of_its_last_chart_bar() {
        // 4h bars at 0 and 4, hourly bars 0..8 with 7 missing.
        let chart = [0, 1, 2, 3, 4, 5, 6];
        let higher = [0, 4];
        assert_eq!(
            place(&chart, &higher, Align::Close),
            [None, None, None, Some(0), Some(0), Some(0), Some(0)]
        );
        assert_eq!(
            place(&chart, &higher, Align::Open),
            [None, None, None, None, Some(0), Some(0), Some(0)]
        );
        // With the 7h bar stored, the second 4h bar has ended.
        let chart = [0, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(place(&chart, &higher, Align::Close)[7], Some(1));
        // A session ending early (a gap after 5h) completes at 5h's close.
        let chart = [0, 1, 2, 3, 4, 5, 8];
        let higher = [0, 4, 8];
        assert_eq!(
            place(&chart, &higher, Align::Close),
            [None, None, None, Some(0), Some(0), Some(1), Some(1)]
        );
    }

    #[test]
    fn appending_bars_never_changes_what_earlier_bars_saw() {
        let higher = [0, 4, 8, 12];
        let full: Vec<i64> = (0..16).collect();
        let whole = place(&full, &higher, Align::Close);
        for cut in 1..full.len() {
            let part = place(&full[..cut], &higher[..cut.div_ceil(4)], Align::Close);
            // On a regular grid even the last bar agrees: a 4h bar ends
            // with its fourth hour, stored or not.
            assert_eq!(part[..], whole[..cut], "cut {cut}");
        }
    }
}
