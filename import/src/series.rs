//! A file's rows as the series Candela serves: in time order, each time
//! once, at a known timeframe; and what a user should know about them.

use std::collections::HashMap;

use candela_core::Timeframe;
use candela_core::timeframe::Unit;

use crate::error::{ImportError, Problem};
use crate::read::Table;
use crate::time::{TimeFormat, TimeKind};

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Bars ready to write, with what reading them found.
#[derive(Debug)]
pub struct Series {
    pub timeframe: Timeframe,
    /// Whether the timeframe was told from the spacing rather than given.
    pub timeframe_inferred: bool,
    /// The timeframe the spacing suggests, when it is not the one given.
    pub spacing_suggests: Option<Timeframe>,
    pub format: TimeFormat,
    pub time_column: String,
    /// Bar start times, strictly increasing; see [`TimeFormat::parse`].
    pub times: Vec<i64>,
    /// open, high, low, close, volume; a missing value is NaN.
    pub values: [Vec<f64>; 5],
    pub has_volume: bool,
    /// Rows in the file.
    pub rows_read: usize,
    /// Rows dropped for repeating an earlier row's time (the first stays).
    pub duplicates: usize,
    /// Whether the file was out of time order (it is sorted).
    pub was_unsorted: bool,
    /// Steps between bars longer than one bar: nights, weekends and holidays
    /// count too, so this is for telling a hole from a session's end.
    pub gaps: usize,
    pub longest_gap: Option<Gap>,
    /// Bars whose high is below their open, close or low, or whose low is
    /// above their open or close: kept, but worth a look.
    pub inconsistent: usize,
}

/// Two consecutive bars further apart than one bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub after: i64,
    pub before: i64,
}

impl Series {
    /// `table`'s rows sorted by time, repeated times dropped, at `timeframe`
    /// or the one their spacing shows; `end_times` when each time is its
    /// bar's end (shifted back one bar to its start, as Candela labels bars).
    pub fn new(
        table: Table,
        timeframe: Option<Timeframe>,
        end_times: bool,
    ) -> Result<Series, ImportError> {
        let fail = |problem| ImportError {
            file: table.file.clone(),
            place: None,
            problem,
        };
        let rows_read = table.times.len();
        let order = time_order(&table.times);
        let was_unsorted = order.is_some();
        let (mut times, mut values) = match order {
            Some(order) => (
                order.iter().map(|&i| table.times[i]).collect::<Vec<_>>(),
                table
                    .values
                    .each_ref()
                    .map(|column| order.iter().map(|&i| column[i]).collect::<Vec<_>>()),
            ),
            None => (table.times, table.values),
        };
        let duplicates = drop_repeated(&mut times, &mut values);

        let suggested = most_common_step(&times).map(|step| (step, timeframe_of_step(step)));
        let (timeframe, inferred) = match (timeframe, suggested) {
            (Some(given), _) => (given, false),
            (None, Some((_, Some(found)))) => (found, true),
            (None, Some((step, None))) => {
                return Err(fail(Problem::UnknownTimeframe {
                    step: duration(step),
                }));
            }
            (None, None) => {
                return Err(fail(Problem::UnknownTimeframe {
                    step: "unknown: one bar".into(),
                }));
            }
        };
        if end_times {
            let width = timeframe.fixed_nanos().ok_or_else(|| {
                fail(Problem::EndTimesOfCalendarBars {
                    timeframe: timeframe.to_string(),
                })
            })?;
            for time in &mut times {
                *time = time.saturating_sub(width);
            }
        }
        let spacing_suggests = suggested
            .and_then(|(_, found)| found)
            .filter(|&found| found != timeframe);
        let (gaps, longest_gap) = gaps(&times, longest_step(timeframe));
        let inconsistent = inconsistent_bars(&values);
        Ok(Series {
            timeframe,
            timeframe_inferred: inferred,
            spacing_suggests,
            format: table.format,
            time_column: table.time_column,
            times,
            values,
            has_volume: table.has_volume,
            rows_read,
            duplicates,
            was_unsorted,
            gaps,
            longest_gap,
            inconsistent,
        })
    }

    /// Whether the times are instants or wall-clock times of the provider.
    pub fn kind(&self) -> TimeKind {
        self.format.kind()
    }
}

/// The permutation that sorts `times` stably, or `None` if they are in
/// order already (equal times keep their file order: the first one stays).
fn time_order(times: &[i64]) -> Option<Vec<usize>> {
    if times.is_sorted() {
        return None;
    }
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| times[i]);
    Some(order)
}

/// Keeps the first of each run of equal times; how many it dropped.
fn drop_repeated(times: &mut Vec<i64>, values: &mut [Vec<f64>; 5]) -> usize {
    let keep: Vec<bool> = times
        .iter()
        .enumerate()
        .map(|(i, t)| i == 0 || times[i - 1] != *t)
        .collect();
    let dropped = keep.iter().filter(|k| !**k).count();
    if dropped > 0 {
        let mut flags = keep.iter();
        times.retain(|_| *flags.next().unwrap_or(&true));
        for column in values.iter_mut() {
            let mut flags = keep.iter();
            column.retain(|_| *flags.next().unwrap_or(&true));
        }
    }
    dropped
}

/// The most frequent step between consecutive times (the smallest of equals).
fn most_common_step(times: &[i64]) -> Option<i64> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for pair in times.windows(2) {
        *counts.entry(pair[1] - pair[0]).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(step, count)| (count, std::cmp::Reverse(step)))
        .map(|(step, _)| step)
}

/// The timeframe whose bars are `step` apart, if Candela has one.
fn timeframe_of_step(step: i64) -> Option<Timeframe> {
    let text = match step {
        s if s > 0 && s < DAY && s % HOUR == 0 => format!("{}h", s / HOUR),
        s if s > 0 && s < DAY && s % MINUTE == 0 => format!("{}m", s / MINUTE),
        s if s % DAY == 0 && (1..7).contains(&(s / DAY)) => format!("{}d", s / DAY),
        s if s == 7 * DAY => "1w".into(),
        s if (28 * DAY..=31 * DAY).contains(&s) => "1M".into(),
        _ => return None,
    };
    text.parse().ok()
}

/// The longest step between bars that is not a gap: one bar, and an hour or
/// two more for calendar bars, whose length changes with DST and months.
fn longest_step(timeframe: Timeframe) -> i64 {
    if let Some(width) = timeframe.fixed_nanos() {
        return width;
    }
    let slack = 2 * HOUR;
    let count = i64::from(timeframe.count());
    match timeframe.unit() {
        Unit::Week => 7 * DAY * count + slack,
        Unit::Month => 31 * DAY * count + slack,
        _ => DAY * count + slack,
    }
}

fn gaps(times: &[i64], longest_step: i64) -> (usize, Option<Gap>) {
    let steps = times.windows(2).filter(|p| p[1] - p[0] > longest_step);
    let count = steps.clone().count();
    let longest = steps.max_by_key(|p| p[1] - p[0]).map(|p| Gap {
        after: p[0],
        before: p[1],
    });
    (count, longest)
}

fn inconsistent_bars([open, high, low, close, _]: &[Vec<f64>; 5]) -> usize {
    (0..open.len())
        .filter(|&i| {
            let (o, h, l, c) = (open[i], high[i], low[i], close[i]);
            h < o.max(c).max(l) || l > o.min(c)
        })
        .count()
}

/// `2 d 3 h`, `15 min`, `45 s`: the largest two units.
pub fn duration(nanos: i64) -> String {
    let units = [(DAY, "d"), (HOUR, "h"), (MINUTE, "min"), (SECOND, "s")];
    let mut rest = nanos.unsigned_abs();
    let parts: Vec<String> = units
        .iter()
        .filter_map(|&(size, name)| {
            let size = size.unsigned_abs();
            let n = rest / size;
            rest %= size;
            (n > 0).then(|| format!("{n} {name}"))
        })
        .take(2)
        .collect();
    if parts.is_empty() {
        format!("{nanos} ns")
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::time::UnixUnit;

    fn table(times: &[i64]) -> Table {
        let n = times.len();
        let values = [2.0, 4.0, 1.0, 3.0, 10.0].map(|base| {
            (0..n)
                .map(|i| base + i as f64 / 100.0)
                .collect::<Vec<f64>>()
        });
        Table {
            file: PathBuf::from("bars.csv"),
            format: TimeFormat::Unix(UnixUnit::Seconds),
            time_column: "time".into(),
            times: times.iter().map(|t| t * MINUTE).collect(),
            values,
            has_volume: true,
        }
    }

    #[test]
    fn rows_are_sorted_and_the_first_of_a_repeated_time_stays() {
        // Minutes 3, 1, 2, 1 (again), 5: the second minute 1 is dropped.
        let series = Series::new(table(&[3, 1, 2, 1, 5]), None, false).expect("series");
        assert_eq!(series.times, [1, 2, 3, 5].map(|m| m * MINUTE));
        assert_eq!(series.values[0], [2.01, 2.02, 2.0, 2.04]);
        assert_eq!(series.values[4], [10.01, 10.02, 10.0, 10.04]);
        assert!(series.was_unsorted);
        assert_eq!((series.rows_read, series.duplicates), (5, 1));
        assert_eq!(series.timeframe.to_string(), "1m");
        assert!(series.timeframe_inferred);
        assert_eq!(series.gaps, 1);
        assert_eq!(
            series.longest_gap,
            Some(Gap {
                after: 3 * MINUTE,
                before: 5 * MINUTE
            })
        );
    }

    #[test]
    fn the_timeframe_is_the_most_common_step() {
        for (step_minutes, expected) in [
            (5, "5m"),
            (60, "1h"),
            (240, "4h"),
            (1440, "1d"),
            (7 * 1440, "1w"),
        ] {
            let times: Vec<i64> = (0..10).map(|i| i * step_minutes).collect();
            let series = Series::new(table(&times), None, false).expect("series");
            assert_eq!(series.timeframe.to_string(), expected);
        }
        // Daily bars with weekends: most steps are one day.
        let weekdays = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 14].map(|d| d * 1440);
        let series = Series::new(table(&weekdays), None, false).expect("series");
        assert_eq!(series.timeframe.to_string(), "1d");
        assert_eq!(series.gaps, 2, "two weekends");
        let error = Series::new(table(&[0, 14_400, 28_800]), None, false).expect_err("10 days");
        assert!(error.to_string().contains("pass --timeframe"), "{error}");
    }

    #[test]
    fn a_given_timeframe_wins_and_a_disagreeing_spacing_is_reported() {
        let given: Timeframe = "5m".parse().expect("timeframe");
        let series = Series::new(table(&[0, 1, 2]), Some(given), false).expect("series");
        assert_eq!(series.timeframe, given);
        assert!(!series.timeframe_inferred);
        assert_eq!(
            series.spacing_suggests.map(|t| t.to_string()),
            Some("1m".into())
        );
    }

    #[test]
    fn end_times_move_back_one_bar() {
        let series = Series::new(table(&[5, 10, 15]), None, true).expect("series");
        assert_eq!(series.times, [0, 5, 10].map(|m| m * MINUTE));
        let daily = table(&[0, 1440, 2880]);
        let error = Series::new(daily, None, true).expect_err("calendar bars");
        assert!(error.to_string().contains("--end-times"), "{error}");
    }

    #[test]
    fn inconsistent_bars_are_counted() {
        let mut t = table(&[0, 1, 2]);
        t.values[1][1] = -1.0; // a high below everything else
        let series = Series::new(t, None, false).expect("series");
        assert_eq!(series.inconsistent, 1);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration(2 * DAY + 3 * HOUR + 5 * MINUTE), "2 d 3 h");
        assert_eq!(duration(15 * MINUTE), "15 min");
        assert_eq!(duration(45 * SECOND), "45 s");
        assert_eq!(duration(10), "10 ns");
    }
}
