//! Where the bars of a target timeframe begin and end.
//!
//! The rules are pandas' `resample(rule, label="left", closed="left")` in the
//! provider's zone, which `docs/data.md` names as the reference:
//! - minute and hour bins have a fixed width counted from the local midnight of
//!   the series' first day (pandas' `origin="start_day"`); widths that divide an
//!   hour therefore stay aligned to every local midnight, while a multi-hour
//!   width keeps its absolute step across a DST change, as pandas does;
//! - `nd` bins are calendar days counted from the first day, `1w` starts on
//!   Monday and `1M` on the first of the month, all at local midnight.

use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use chrono_tz::Tz;

use crate::timeframe::{Timeframe, Unit};
use crate::zone;

/// The bins of one timeframe for one series.
#[derive(Debug, Clone)]
pub struct Bins {
    rule: Rule,
}

#[derive(Debug, Clone)]
enum Rule {
    Fixed {
        origin: i64,
        width: i64,
    },
    Days {
        zone: Tz,
        origin: NaiveDate,
        count: u32,
    },
    Week {
        zone: Tz,
    },
    Month {
        zone: Tz,
    },
}

impl Bins {
    /// The bins of `timeframe` for a series whose first bar starts at `first`
    /// (UTC nanoseconds), in `zone`.
    pub fn new(timeframe: Timeframe, zone: Tz, first: i64) -> Self {
        let first_day = zone::local_date(&zone, first);
        let rule = match (timeframe.fixed_nanos(), timeframe.unit()) {
            (Some(width), _) => Rule::Fixed {
                origin: zone::midnight(&zone, first_day),
                width,
            },
            (None, Unit::Week) => Rule::Week { zone },
            (None, Unit::Month) => Rule::Month { zone },
            (None, _) => Rule::Days {
                zone,
                origin: first_day,
                count: timeframe.count(),
            },
        };
        Bins { rule }
    }

    /// The half-open interval `[start, end)` of the bin that holds `t`.
    pub fn bin_of(&self, t: i64) -> (i64, i64) {
        match &self.rule {
            Rule::Fixed { origin, width } => {
                // In i128: a series may span nearly all of i64's range.
                let (t, origin, width) = (i128::from(t), i128::from(*origin), i128::from(*width));
                let start = origin + (t - origin).div_euclid(width) * width;
                let clamp = |n: i128| n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
                (clamp(start), clamp(start + width))
            }
            Rule::Days {
                zone,
                origin,
                count,
            } => {
                let day = zone::local_date(zone, t);
                let offset = (day - *origin).num_days().div_euclid(i64::from(*count));
                let start = *origin + TimeDelta::days(offset * i64::from(*count));
                calendar_bin(zone, start, start + TimeDelta::days(i64::from(*count)))
            }
            Rule::Week { zone } => {
                let day = zone::local_date(zone, t);
                let monday = day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()));
                calendar_bin(zone, monday, monday + TimeDelta::days(7))
            }
            Rule::Month { zone } => {
                let day = zone::local_date(zone, t);
                let first = day.with_day(1).unwrap_or(day);
                let next = first
                    .checked_add_months(Months::new(1))
                    .unwrap_or(NaiveDate::MAX);
                calendar_bin(zone, first, next)
            }
        }
    }

    /// The bin that holds `t`, which lies at or after the end of `previous`:
    /// for fixed widths usually the next bin, found without a division.
    pub fn bin_after(&self, previous: (i64, i64), t: i64) -> (i64, i64) {
        match &self.rule {
            Rule::Fixed { width, .. } if t < previous.1.saturating_add(*width) => {
                (previous.1, previous.1.saturating_add(*width))
            }
            _ => self.bin_of(t),
        }
    }

    /// About how many bins lie between `first` and `last`: a capacity hint.
    pub fn count_hint(&self, first: i64, last: i64) -> usize {
        const DAY: i64 = 86_400_000_000_000;
        let width = match &self.rule {
            Rule::Fixed { width, .. } => *width,
            Rule::Days { count, .. } => DAY * i64::from(*count),
            Rule::Week { .. } => 7 * DAY,
            Rule::Month { .. } => 28 * DAY,
        };
        usize::try_from(last.saturating_sub(first) / width.max(1))
            .map_or(usize::MAX, |bins| bins.saturating_add(2))
    }
}

fn calendar_bin(zone: &Tz, start: NaiveDate, end: NaiveDate) -> (i64, i64) {
    (zone::midnight(zone, start), zone::midnight(zone, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;
    use chrono_tz::{America::New_York, UTC};

    fn utc(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .expect("test date")
            .and_utc()
            .timestamp_nanos_opt()
            .expect("in range")
    }

    fn tf(s: &str) -> Timeframe {
        s.parse().expect("timeframe")
    }

    #[test]
    fn fixed_bins_count_from_the_first_local_midnight() {
        let bins = Bins::new(tf("4h"), New_York, utc("2024-01-02 14:30"));
        // Local midnight of Jan 2 is 05:00Z, so 4h bins start at 05, 09, 13, 17Z.
        assert_eq!(
            bins.bin_of(utc("2024-01-02 14:30")),
            (utc("2024-01-02 13:00"), utc("2024-01-02 17:00"))
        );
        // The step stays absolute across the March DST change.
        assert_eq!(
            bins.bin_of(utc("2024-06-03 14:30")).0,
            utc("2024-06-03 13:00")
        );
    }

    #[test]
    fn calendar_bins_follow_local_midnight() {
        let t = utc("2024-03-10 15:00"); // a Sunday, DST started that night
        let day = Bins::new(tf("1d"), New_York, t).bin_of(t);
        assert_eq!(day, (utc("2024-03-10 05:00"), utc("2024-03-11 04:00")));
        let week = Bins::new(tf("1w"), New_York, t).bin_of(t);
        assert_eq!(week, (utc("2024-03-04 05:00"), utc("2024-03-11 04:00")));
        let month = Bins::new(tf("1M"), UTC, t).bin_of(t);
        assert_eq!(month, (utc("2024-03-01 00:00"), utc("2024-04-01 00:00")));
    }

    #[test]
    fn multi_day_bins_count_from_the_first_day() {
        let first = utc("2024-01-01 10:00");
        let bins = Bins::new(tf("3d"), UTC, first);
        assert_eq!(
            bins.bin_of(utc("2024-01-05 10:00")),
            (utc("2024-01-04 00:00"), utc("2024-01-07 00:00"))
        );
    }
}
