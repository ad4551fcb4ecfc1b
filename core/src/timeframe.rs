//! Timeframes (`1m`, `4h`, `1d`, `1w`, `1M`, …): parsing, ordering and which
//! ones can be built from which.

use std::fmt;
use std::str::FromStr;

/// The unit of a [`Timeframe`]. Minutes and hours are fixed durations; days,
/// weeks and months follow the calendar of the provider's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

impl Unit {
    fn suffix(self) -> char {
        match self {
            Unit::Minute => 'm',
            Unit::Hour => 'h',
            Unit::Day => 'd',
            Unit::Week => 'w',
            Unit::Month => 'M',
        }
    }

    /// Nominal length in seconds, used only to order timeframes.
    fn nominal_seconds(self) -> u64 {
        match self {
            Unit::Minute => 60,
            Unit::Hour => 3_600,
            Unit::Day => 86_400,
            Unit::Week => 7 * 86_400,
            Unit::Month => 31 * 86_400,
        }
    }
}

/// A bar length such as `5m` or `1d`.
///
/// Ordered by nominal length, so `max()` over a set picks the coarsest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeframe {
    count: u32,
    unit: Unit,
}

/// Why a string is not a timeframe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not a timeframe: {reason} (examples: 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w, 1M)")]
pub struct ParseTimeframeError {
    input: String,
    reason: &'static str,
}

/// Longest accepted bar: one year of days. Longer bars are never useful and
/// would make nanosecond arithmetic on bin widths overflow-prone.
const MAX_DAYS: u64 = 366;

impl Timeframe {
    /// What [`Timeframe::from_str`] accepts, as a regular expression (ECMA
    /// and Rust dialects alike) for the OpenAPI document: a count of 1 to
    /// 366 days' worth (leading zeros allowed) of minutes, hours or days, or
    /// a single week or month. A test holds it to the parser.
    pub const PATTERN: &'static str = concat!(
        "^0*(?:",
        "(?:[1-9][0-9]{0,4}|[1-4][0-9]{5}|5[01][0-9]{4}|52[0-6][0-9]{3}|5270[0-3][0-9]|527040)(?:m|min)",
        "|(?:[1-9][0-9]{0,2}|[1-7][0-9]{3}|8[0-6][0-9]{2}|87[0-7][0-9]|878[0-4])h",
        "|(?:[1-9][0-9]?|[12][0-9]{2}|3[0-5][0-9]|36[0-6])[dD]",
        "|1(?:[wWM]|mo)",
        ")$"
    );

    /// The timeframes offered in pickers, in ascending order.
    pub const STANDARD: [Timeframe; 9] = [
        Timeframe::new_unchecked(1, Unit::Minute),
        Timeframe::new_unchecked(5, Unit::Minute),
        Timeframe::new_unchecked(15, Unit::Minute),
        Timeframe::new_unchecked(30, Unit::Minute),
        Timeframe::new_unchecked(1, Unit::Hour),
        Timeframe::new_unchecked(4, Unit::Hour),
        Timeframe::new_unchecked(1, Unit::Day),
        Timeframe::new_unchecked(1, Unit::Week),
        Timeframe::new_unchecked(1, Unit::Month),
    ];

    const fn new_unchecked(count: u32, unit: Unit) -> Self {
        Timeframe { count, unit }
    }

    pub fn count(self) -> u32 {
        self.count
    }

    pub fn unit(self) -> Unit {
        self.unit
    }

    /// Length in nanoseconds for minute and hour timeframes, `None` for the
    /// calendar ones whose length varies.
    pub fn fixed_nanos(self) -> Option<i64> {
        let unit_nanos: i64 = match self.unit {
            Unit::Minute => 60_000_000_000,
            Unit::Hour => 3_600_000_000_000,
            _ => return None,
        };
        Some(unit_nanos * i64::from(self.count))
    }

    fn nominal_seconds(self) -> u64 {
        self.unit.nominal_seconds() * u64::from(self.count)
    }

    /// Whether every bar of `target` is a whole number of bars of `self`, so
    /// that `target` can be aggregated from `self`.
    pub fn divides(self, target: Timeframe) -> bool {
        use Unit::*;
        match (self.fixed_nanos(), target.unit) {
            // Fixed widths nest when the target width is a multiple; calendar
            // bins start at local midnight, so the source must tile a day.
            (Some(source), Minute | Hour) => target
                .fixed_nanos()
                .is_some_and(|target| target % source == 0),
            (Some(source), Day | Week | Month) => 86_400_000_000_000 % source == 0,
            (None, _) => match (self.unit, target.unit) {
                (Day, Day) => target.count.is_multiple_of(self.count),
                (Day, Week | Month) => self.count == 1,
                (Week, Week) | (Month, Month) => true,
                _ => false,
            },
        }
    }
}

impl PartialOrd for Timeframe {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timeframe {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.nominal_seconds()
            .cmp(&other.nominal_seconds())
            .then(self.unit.cmp(&other.unit))
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.count, self.unit.suffix())
    }
}

impl FromStr for Timeframe {
    type Err = ParseTimeframeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseTimeframeError {
            input: input.chars().take(32).collect(),
            reason,
        };
        let split = input
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| err("it has no unit"))?;
        let (digits, suffix) = input.split_at(split);
        if digits.is_empty() {
            return Err(err("it must start with a number"));
        }
        let count: u32 = digits.parse().map_err(|_| err("the number is too large"))?;
        if count == 0 {
            return Err(err("the number must be at least 1"));
        }
        let unit = match suffix {
            "m" | "min" => Unit::Minute,
            "h" => Unit::Hour,
            "d" | "D" => Unit::Day,
            "w" | "W" => Unit::Week,
            "M" | "mo" => Unit::Month,
            _ => return Err(err("the unit must be m, h, d, w or M")),
        };
        if matches!(unit, Unit::Week | Unit::Month) && count != 1 {
            return Err(err("weeks and months are supported as 1w and 1M only"));
        }
        let timeframe = Timeframe { count, unit };
        if timeframe.nominal_seconds() > MAX_DAYS * 86_400 {
            return Err(err("bars longer than 366 days are not supported"));
        }
        Ok(timeframe)
    }
}

impl serde::Serialize for Timeframe {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tf(s: &str) -> Timeframe {
        s.parse().expect("valid timeframe")
    }

    #[test]
    fn the_pattern_accepts_exactly_what_the_parser_does() {
        let pattern = regex::Regex::new(Timeframe::PATTERN).expect("a valid pattern");
        let units = [
            "m", "min", "h", "d", "D", "w", "W", "M", "mo", "", "s", "y", "hh", " h",
        ];
        let mut texts: Vec<String> = Vec::new();
        for unit in units {
            for count in
                (0u64..10_000)
                    .chain(527_030..527_050)
                    .chain([99_999, 100_000, 4_294_967_296])
            {
                texts.push(format!("{count}{unit}"));
                texts.push(format!("00{count}{unit}"));
            }
            texts.push(unit.to_owned());
            texts.push(format!("-1{unit}"));
            texts.push(format!("+1{unit}"));
            texts.push(format!("1{unit}\n"));
            texts.push(format!("١{unit}"));
        }
        let mut checked = 0;
        for text in &texts {
            assert_eq!(
                pattern.is_match(text),
                text.parse::<Timeframe>().is_ok(),
                "{text:?}"
            );
            checked += 1;
        }
        assert!(checked > 250_000);
    }

    #[test]
    fn parses_and_prints_the_standard_set() {
        for t in Timeframe::STANDARD {
            assert_eq!(tf(&t.to_string()), t);
        }
        assert_eq!(tf("90m").to_string(), "90m");
        assert_eq!(tf("1min"), tf("1m"));
    }

    #[test]
    fn minutes_and_months_differ_by_case() {
        assert_eq!(tf("1m").unit(), Unit::Minute);
        assert_eq!(tf("1M").unit(), Unit::Month);
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        for bad in [
            "",
            "m",
            "0m",
            "5",
            "5x",
            "-1h",
            "2w",
            "3M",
            "99999999999m",
            "400d",
            "1 h",
        ] {
            let err = bad.parse::<Timeframe>().expect_err(bad);
            assert!(err.to_string().contains("is not a timeframe"), "{err}");
        }
    }

    #[test]
    fn orders_by_length() {
        let mut all = Timeframe::STANDARD.to_vec();
        all.reverse();
        all.sort();
        assert_eq!(all, Timeframe::STANDARD.to_vec());
        assert!(tf("60m") < tf("90m") && tf("90m") < tf("2h"));
    }

    #[test]
    fn divisibility_follows_bin_nesting() {
        assert!(tf("1m").divides(tf("5m")));
        assert!(tf("5m").divides(tf("1M")));
        assert!(tf("1h").divides(tf("1d")));
        assert!(tf("1d").divides(tf("1w")));
        assert!(tf("1d").divides(tf("1M")));
        assert!(tf("1h").divides(tf("4h")));
        assert!(!tf("1h").divides(tf("90m")));
        assert!(!tf("7m").divides(tf("1d")));
        assert!(!tf("1w").divides(tf("1M")));
        assert!(!tf("1d").divides(tf("4h")));
        assert!(!tf("2d").divides(tf("1w")));
        assert!(tf("1d").divides(tf("3d")));
    }
}
