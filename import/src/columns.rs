//! Which field of a record holds what: found by the header's names, or by
//! position when the file has no header.

use crate::error::Problem;

/// The value columns Candela stores, in order; the first four are required.
pub const VALUES: [&str; 5] = ["open", "high", "low", "close", "volume"];

/// Names that mean each value column, most specific first.
const VALUE_NAMES: [&[&str]; 5] = [
    &["open", "o", "open_price"],
    &["high", "h", "high_price"],
    &["low", "l", "low_price"],
    &["close", "c", "close_price", "last"],
    &["volume", "vol", "v", "tick_volume", "tickvol"],
];

/// Names of a column holding the whole time, most specific first.
const TIME_NAMES: &[&str] = &[
    "datetime",
    "date_time",
    "timestamp",
    "time",
    "ts",
    "t",
    "open_time",
    "opentime",
    "gmt_time",
    "local_time",
    "date",
];

/// Where a record's time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFields {
    One(usize),
    /// A date and a time of day in two fields, read together as `date time`.
    DateAndTime {
        date: usize,
        time: usize,
    },
}

/// Where each part of a bar is in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub time: TimeFields,
    /// Field index of each of [`VALUES`]; only volume may be missing.
    pub values: [Option<usize>; 5],
    /// A name for every field, for messages: the header's, or positional.
    pub names: Vec<String>,
    /// Whether the first record is a header rather than a bar.
    pub header: bool,
}

impl Layout {
    /// The layout of a file whose first record is `first` and, if there is
    /// one, whose next record is `second`.
    pub fn of(first: &[&str], second: Option<&[&str]>) -> Result<Layout, Problem> {
        let names: Vec<String> = first.iter().map(|n| normalize(n)).collect();
        let known = |n: &String| {
            TIME_NAMES.contains(&n.as_str()) || VALUE_NAMES.iter().any(|v| v.contains(&n.as_str()))
        };
        if names.iter().any(known) {
            return Layout::from_header(first, names, second);
        }
        Layout::positional(first)
    }

    fn from_header(
        original: &[&str],
        mut names: Vec<String>,
        row: Option<&[&str]>,
    ) -> Result<Layout, Problem> {
        let header = || {
            original
                .iter()
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        };
        let find = |names: &[String], wanted: &[&str]| {
            wanted
                .iter()
                .find_map(|w| names.iter().position(|n| n == w))
        };
        let mut shown = header();
        // A header that lacks the time-of-day column its rows have (as
        // backtrader's minute files do): the field after the date is it.
        if let (Some(row), Some(date)) = (row, find(&names, &["date"]))
            && row.len() == names.len() + 1
            && find(&names, &["time"]).is_none()
            && row.get(date + 1).is_some_and(|t| is_time_of_day(t))
        {
            names.insert(date + 1, "time".into());
            shown.insert(date + 1, "(time, unnamed)".into());
        }
        let date = find(&names, &["date"]);
        let time_of_day = find(&names, &["time"]).filter(|&t| {
            row.and_then(|r| r.get(t))
                .is_some_and(|v| is_time_of_day(v))
        });
        let time = match (date, time_of_day) {
            (Some(date), Some(time)) => TimeFields::DateAndTime { date, time },
            _ => TimeFields::One(
                find(&names, TIME_NAMES)
                    .ok_or_else(|| Problem::NoTimeColumn { header: header() })?,
            ),
        };
        let mut values = [None; 5];
        for (slot, (name, wanted)) in values.iter_mut().zip(VALUES.iter().zip(VALUE_NAMES)) {
            *slot = find(&names, wanted);
            if slot.is_none() && *name != "volume" {
                return Err(Problem::NoValueColumn {
                    name,
                    header: header(),
                });
            }
        }
        Ok(Layout {
            time,
            values,
            names: shown,
            header: true,
        })
    }

    /// No header: the time first (or a date and a time of day), then open,
    /// high, low, close and, if present, volume.
    fn positional(first: &[&str]) -> Result<Layout, Problem> {
        let no_time = || Problem::NoTimeColumn {
            header: first.iter().map(|s| s.trim().to_owned()).collect(),
        };
        let two_part = first.get(1).is_some_and(|t| is_time_of_day(t));
        let (time, start) = if two_part {
            (TimeFields::DateAndTime { date: 0, time: 1 }, 2)
        } else {
            (TimeFields::One(0), 1)
        };
        let numeric = |i: usize| {
            first
                .get(i)
                .is_some_and(|v| v.trim().parse::<f64>().is_ok())
        };
        if !(start..start + 4).all(numeric) {
            return Err(no_time());
        }
        let mut values = [None; 5];
        for (i, slot) in values.iter_mut().enumerate() {
            *slot = Some(start + i).filter(|&field| field < first.len());
        }
        let mut names: Vec<String> = (1..=first.len()).map(|n| format!("field {n}")).collect();
        let parts = if two_part {
            &["date", "time"][..]
        } else {
            &["time"][..]
        };
        for (i, name) in parts.iter().chain(VALUES.iter()).enumerate() {
            if let Some(slot) = names.get_mut(i) {
                *slot = format!("{} ({name})", i + 1);
            }
        }
        Ok(Layout {
            time,
            values,
            names,
            header: false,
        })
    }

    /// How many fields a bar has.
    pub fn fields(&self) -> usize {
        self.names.len()
    }
}

/// A header name as compared: trimmed, without a byte-order mark, quotes or
/// MetaTrader's angle brackets, lower case, words joined by `_`.
fn normalize(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .trim_matches(|c| matches!(c, '<' | '>' | '"' | '\''))
        .trim()
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// `09:30`, `09:30:00`, `09:30:00.250` or `093000`.
fn is_time_of_day(text: &str) -> bool {
    let text = text.trim();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if digits(text, 6) {
        return true;
    }
    let mut parts = text.split(':');
    let (Some(hours), Some(minutes)) = (parts.next(), parts.next()) else {
        return false;
    };
    let seconds_ok = match parts.next() {
        None => true,
        Some(seconds) => {
            let whole = seconds.split('.').next().unwrap_or_default();
            digits(whole, 2) && parts.next().is_none()
        }
    };
    (digits(hours, 1) || digits(hours, 2)) && digits(minutes, 2) && seconds_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(header: &str, row: &str) -> Layout {
        let first: Vec<&str> = header.split(',').collect();
        let second: Vec<&str> = row.split(',').collect();
        Layout::of(&first, Some(&second)).expect(header)
    }

    #[test]
    fn yahoo_csv_uses_close_not_adjusted_close() {
        let l = layout(
            "Date,Open,High,Low,Close,Adj Close,Volume",
            "1996-04-12,1.05,1.79,1.02,1.37,1.37,408720000",
        );
        assert_eq!(l.time, TimeFields::One(0));
        assert_eq!(l.values, [Some(1), Some(2), Some(3), Some(4), Some(6)]);
        assert!(l.header);
    }

    #[test]
    fn a_date_and_a_time_column_are_read_together() {
        let l = layout(
            "Date,Time,Open,High,Low,Close,Volume,OpenInterest",
            "2006-01-02,09:05:00,3578.73,3587.88,3578.73,3582.99,0,0",
        );
        assert_eq!(l.time, TimeFields::DateAndTime { date: 0, time: 1 });
        assert_eq!(l.values[3], Some(5));
    }

    #[test]
    fn a_header_missing_its_time_column_gets_it_from_the_rows() {
        let l = layout(
            "Date,Open,High,Low,Close,Volume,OpenInterest",
            "2006-01-02,09:01:00,3602.00,3603.00,3597.00,3599.00,5699,0",
        );
        assert_eq!(l.time, TimeFields::DateAndTime { date: 0, time: 1 });
        assert_eq!(l.values, [Some(2), Some(3), Some(4), Some(5), Some(6)]);
        assert_eq!(l.fields(), 8);
    }

    #[test]
    fn a_time_column_holding_whole_times_is_one_column() {
        let l = layout(
            "time,open,high,low,close,volume,date",
            "2024-01-02 09:30:00,1,2,0.5,1.5,10,2024-01-02",
        );
        assert_eq!(l.time, TimeFields::One(0));
        let l = layout(
            "<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<TICKVOL>",
            "2024.01.02,09:30:00,1,2,0.5,1.5,10",
        );
        assert_eq!(l.time, TimeFields::DateAndTime { date: 0, time: 1 });
        assert_eq!(l.values[4], Some(6));
    }

    #[test]
    fn without_a_header_the_order_is_time_then_ohlcv() {
        let l = layout(
            "1704205800000,42000.1,42100,41900,42050.5,12.5,1704205859999",
            "1704205860000,42050.5,42100,41900,42050.5,12.5,1704205919999",
        );
        assert!(!l.header);
        assert_eq!(l.time, TimeFields::One(0));
        assert_eq!(l.values, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
        let l = layout(
            "2006-01-02,09:05:00,1,2,0.5,1.5",
            "2006-01-02,09:10:00,1,2,0.5,1.5",
        );
        assert_eq!(l.time, TimeFields::DateAndTime { date: 0, time: 1 });
        assert_eq!(l.values[4], None);
    }

    #[test]
    fn missing_columns_are_named() {
        let first = ["Date", "Open", "High", "Low", "Volume"];
        let error = Layout::of(&first, None).expect_err("no close");
        assert!(error.to_string().contains("no 'close' column"), "{error}");
        let first = ["when", "open", "high", "low", "close"];
        let error = Layout::of(&first, None).expect_err("no time");
        assert!(error.to_string().contains("no time column"), "{error}");
        assert!(Layout::of(&["a", "b", "c"], None).is_err());
    }

    #[test]
    fn times_of_day() {
        for yes in ["09:30", "9:30", "09:30:00", "09:30:00.250", "093000"] {
            assert!(is_time_of_day(yes), "{yes}");
        }
        for no in ["2024-01-02", "3600.5", "0930", "09:3", "09:30:00:00", ""] {
            assert!(!is_time_of_day(no), "{no}");
        }
    }
}
