//! Telling the format of a CSV's times from their values, and reading them.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// What a time means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// An instant: Unix time, or a date-time with a UTC offset.
    Instant,
    /// A wall-clock time with no offset, read in the provider's zone.
    WallClock,
}

/// How the times of a file are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// A number of units since 1970-01-01 UTC; the unit is told from the
    /// magnitude (seconds up to 1e11, i.e. the year 5138, then milli-,
    /// micro- and nanoseconds).
    Unix(UnixUnit),
    /// `2024-03-01T14:30:00Z`, `2024-03-01T09:30:00-05:00`.
    Rfc3339,
    /// A `strftime` pattern with an offset (`%z`).
    WithOffset(String),
    /// A `strftime` pattern of a date and a time of day.
    DateTime(String),
    /// A `strftime` pattern of a date: midnight of that day.
    Date(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnixUnit {
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

impl UnixUnit {
    fn nanos(self) -> i64 {
        match self {
            UnixUnit::Seconds => 1_000_000_000,
            UnixUnit::Milliseconds => 1_000_000,
            UnixUnit::Microseconds => 1_000,
            UnixUnit::Nanoseconds => 1,
        }
    }

    fn of_magnitude(value: f64) -> UnixUnit {
        match value.abs() {
            v if v < 1e11 => UnixUnit::Seconds,
            v if v < 1e14 => UnixUnit::Milliseconds,
            v if v < 1e17 => UnixUnit::Microseconds,
            _ => UnixUnit::Nanoseconds,
        }
    }
}

/// Why one value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// Not in the format.
    Invalid,
    /// In the format, but outside the years 1677–2262.
    OutOfRange,
}

const WITH_OFFSET: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f %z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M%:z",
];

const DATE_TIMES: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S%.f",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S%.f",
    "%Y.%m.%d %H:%M",
    "%Y%m%d %H:%M:%S%.f",
    "%Y%m%d %H:%M",
    "%Y%m%d %H%M%S",
    "%Y%m%d%H%M%S",
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S%.f",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S%.f",
    "%d.%m.%Y %H:%M",
];

const DATES: &[&str] = &[
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y",
];

impl TimeFormat {
    /// The first format that reads every one of `samples`, if any does.
    pub fn detect(samples: &[&str]) -> Option<TimeFormat> {
        if samples.is_empty() {
            return None;
        }
        let numbers: Option<Vec<f64>> = samples.iter().map(|s| s.parse::<f64>().ok()).collect();
        if let Some(numbers) = numbers {
            // 20240301 is a date; Unix seconds of 1970 are not plausible bars.
            let calendar = TimeFormat::Date("%Y%m%d".into());
            if samples
                .iter()
                .all(|s| s.len() == 8 && calendar.parse(s).is_ok())
            {
                return Some(calendar);
            }
            let largest = numbers.iter().fold(0.0_f64, |a, b| a.max(b.abs()));
            return Some(TimeFormat::Unix(UnixUnit::of_magnitude(largest)));
        }
        let candidates = std::iter::once(TimeFormat::Rfc3339)
            .chain(
                WITH_OFFSET
                    .iter()
                    .map(|f| TimeFormat::WithOffset((*f).into())),
            )
            .chain(DATE_TIMES.iter().map(|f| TimeFormat::DateTime((*f).into())))
            .chain(DATES.iter().map(|f| TimeFormat::Date((*f).into())));
        candidates
            .into_iter()
            .find(|format| samples.iter().all(|s| format.parse(s).is_ok()))
    }

    /// The format a user named with `--time-format`: an offset (`%z`) makes
    /// instants, a time of day (`%H`) wall-clock times, else dates.
    pub fn custom(pattern: &str) -> TimeFormat {
        if pattern.contains("%z") || pattern.contains("%:z") || pattern.contains("%#z") {
            TimeFormat::WithOffset(pattern.into())
        } else if pattern.contains("%H") || pattern.contains("%T") || pattern.contains("%R") {
            TimeFormat::DateTime(pattern.into())
        } else {
            TimeFormat::Date(pattern.into())
        }
    }

    pub fn kind(&self) -> TimeKind {
        match self {
            TimeFormat::Unix(_) | TimeFormat::Rfc3339 | TimeFormat::WithOffset(_) => {
                TimeKind::Instant
            }
            TimeFormat::DateTime(_) | TimeFormat::Date(_) => TimeKind::WallClock,
        }
    }

    /// Nanoseconds since 1970-01-01: UTC for instants, the wall clock read
    /// as if it were UTC for wall-clock times.
    pub fn parse(&self, text: &str) -> Result<i64, TimeError> {
        let text = text.trim();
        let wall_clock = |t: NaiveDateTime| t.and_utc().timestamp_nanos_opt();
        let nanos = match self {
            TimeFormat::Unix(unit) => return parse_unix(text, *unit),
            TimeFormat::Rfc3339 => DateTime::parse_from_rfc3339(text)
                .map_err(|_| TimeError::Invalid)?
                .timestamp_nanos_opt(),
            TimeFormat::WithOffset(pattern) => DateTime::parse_from_str(text, pattern)
                .map_err(|_| TimeError::Invalid)?
                .timestamp_nanos_opt(),
            TimeFormat::DateTime(pattern) => wall_clock(
                NaiveDateTime::parse_from_str(text, pattern).map_err(|_| TimeError::Invalid)?,
            ),
            TimeFormat::Date(pattern) => wall_clock(
                NaiveDate::parse_from_str(text, pattern)
                    .map_err(|_| TimeError::Invalid)?
                    .and_time(chrono::NaiveTime::MIN),
            ),
        };
        nanos.ok_or(TimeError::OutOfRange)
    }
}

fn parse_unix(text: &str, unit: UnixUnit) -> Result<i64, TimeError> {
    if let Ok(whole) = text.parse::<i64>() {
        return whole.checked_mul(unit.nanos()).ok_or(TimeError::OutOfRange);
    }
    let value = text.parse::<f64>().map_err(|_| TimeError::Invalid)?;
    let nanos = value * unit.nanos() as f64;
    if nanos.is_finite() && nanos.abs() < 9.2e18 {
        Ok(nanos.round() as i64)
    } else {
        Err(TimeError::OutOfRange)
    }
}

impl fmt::Display for TimeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeFormat::Unix(unit) => {
                let unit = match unit {
                    UnixUnit::Seconds => "seconds",
                    UnixUnit::Milliseconds => "milliseconds",
                    UnixUnit::Microseconds => "microseconds",
                    UnixUnit::Nanoseconds => "nanoseconds",
                };
                write!(f, "Unix {unit}")
            }
            TimeFormat::Rfc3339 => f.write_str("RFC 3339"),
            TimeFormat::WithOffset(p) | TimeFormat::DateTime(p) | TimeFormat::Date(p) => {
                f.write_str(p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(samples: &[&str]) -> TimeFormat {
        TimeFormat::detect(samples).expect("a format")
    }

    fn at(format: &TimeFormat, text: &str) -> i64 {
        format.parse(text).expect(text)
    }

    #[test]
    fn unix_units_follow_the_magnitude() {
        let second = 1_704_205_800_i64;
        for (text, unit) in [
            ("1704205800", UnixUnit::Seconds),
            ("1704205800000", UnixUnit::Milliseconds),
            ("1704205800000000", UnixUnit::Microseconds),
            ("1704205800000000000", UnixUnit::Nanoseconds),
        ] {
            let format = detect(&[text]);
            assert_eq!(format, TimeFormat::Unix(unit), "{text}");
            assert_eq!(at(&format, text), second * 1_000_000_000, "{text}");
        }
        assert_eq!(
            at(&TimeFormat::Unix(UnixUnit::Seconds), "1704205800.5"),
            1_704_205_800_500_000_000
        );
    }

    #[test]
    fn eight_digits_are_a_date() {
        let format = detect(&["20240102", "20240103"]);
        assert_eq!(format, TimeFormat::Date("%Y%m%d".into()));
        assert_eq!(at(&format, "20240102"), 1_704_153_600 * 1_000_000_000);
    }

    #[test]
    fn offsets_make_instants_and_their_absence_wall_clock_times() {
        let nine_thirty_new_york = 1_704_205_800 * 1_000_000_000;
        for text in [
            "2024-01-02T09:30:00-05:00",
            "2024-01-02 09:30:00-05:00",
            "2024-01-02 14:30:00+00:00",
            "2024-01-02 14:30:00+0000",
            "2024-01-02T14:30:00Z",
            "2024-01-02 14:30:00.000+00:00",
        ] {
            let format = detect(&[text]);
            assert_eq!(format.kind(), TimeKind::Instant, "{text}: {format}");
            assert_eq!(at(&format, text), nine_thirty_new_york, "{text}");
        }
        let format = detect(&["2024-01-02 09:30:00"]);
        assert_eq!(format.kind(), TimeKind::WallClock);
        assert_eq!(
            at(&format, "2024-01-02 09:30:00"),
            (1_704_205_800 - 5 * 3600) * 1_000_000_000
        );
    }

    #[test]
    fn day_first_is_told_by_a_day_past_twelve() {
        assert_eq!(detect(&["01/02/2024"]), TimeFormat::Date("%m/%d/%Y".into()));
        assert_eq!(
            detect(&["01/02/2024", "13/02/2024"]),
            TimeFormat::Date("%d/%m/%Y".into())
        );
        assert_eq!(
            detect(&["2024.01.02 09:30"]),
            TimeFormat::DateTime("%Y.%m.%d %H:%M".into())
        );
    }

    #[test]
    fn text_that_is_no_time_has_no_format() {
        assert_eq!(TimeFormat::detect(&["yesterday"]), None);
        assert_eq!(TimeFormat::detect(&["2024-01-02", "soon"]), None);
        assert_eq!(TimeFormat::detect(&[]), None);
    }

    #[test]
    fn times_past_the_nanosecond_range_are_refused() {
        let unix = TimeFormat::Unix(UnixUnit::Seconds);
        assert_eq!(unix.parse("9000000000"), Ok(9_000_000_000 * 1_000_000_000));
        assert_eq!(unix.parse("9999999999"), Err(TimeError::OutOfRange));
        assert_eq!(unix.parse("1e300"), Err(TimeError::OutOfRange));
        let date = TimeFormat::Date("%Y-%m-%d".into());
        assert_eq!(date.parse("2300-01-01"), Err(TimeError::OutOfRange));
        assert_eq!(date.parse("2024-13-01"), Err(TimeError::Invalid));
    }

    #[test]
    fn a_named_format_says_what_its_times_mean() {
        assert_eq!(TimeFormat::custom("%d-%b-%Y").kind(), TimeKind::WallClock);
        let zoned = TimeFormat::custom("%d.%m.%Y %H:%M:%S %z");
        assert_eq!(zoned.kind(), TimeKind::Instant);
        assert_eq!(
            at(&zoned, "02.01.2024 15:30:00 +0100"),
            1_704_205_800 * 1_000_000_000
        );
        let date = TimeFormat::custom("%d-%b-%Y");
        assert_eq!(at(&date, "02-Jan-2024"), 1_704_153_600 * 1_000_000_000);
    }
}
