//! `start`/`end` parameters: RFC 3339, a plain date, or Unix seconds.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate};
use regex::Regex;

use crate::error::ApiError;

// The years nanosecond times hold whole (1678–2261), leap years among
// them, real month days, a clock with its offset, and Unix seconds inside
// the same span: whatever the pattern admits parses.
const YEAR: &str = r"(?:16(?:7[89]|[89][0-9])|1[7-9][0-9]{2}|2[01][0-9]{2}|22[0-5][0-9]|226[01])";
const LEAP_YEAR: &str = r"(?:16(?:8[048]|9[26])|(?:1[7-9]|21)(?:0[48]|[2468][048]|[13579][26])|20(?:[02468][048]|[13579][26])|22(?:0[48]|[135][26]|[24][048]|60))";
const MONTH_DAY: &str = r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))";
const CLOCK: &str = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])";
const SECONDS: &str = r"-?(?:[0-9]{1,9}|[1-8][0-9]{9})(?:\.[0-9]{1,9})?";

/// Exactly what `start` and `end` accept, as the OpenAPI document states
/// it; empty is the open end of the range.
pub static PATTERN: LazyLock<String> = LazyLock::new(|| {
    format!("^(?:{SECONDS}|(?:{YEAR}-{MONTH_DAY}|{LEAP_YEAR}-02-29)(?:{CLOCK})?)?$")
});

static FORMS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&PATTERN).expect("the time pattern is a valid regex"));

/// Which end of a range a missing value stands for.
#[derive(Debug, Clone, Copy)]
pub enum TimeBound {
    Start,
    End,
}

/// The instant in UTC nanoseconds; a missing value is the open end of the range.
pub fn parse_time(
    name: &'static str,
    text: Option<&str>,
    bound: TimeBound,
) -> Result<i64, ApiError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(match bound {
            TimeBound::Start => i64::MIN,
            TimeBound::End => i64::MAX,
        });
    };
    let shown: String = text.chars().take(40).collect();
    let bad = || {
        ApiError::bad_parameter(
            name,
            format!(
                "{name}: '{shown}' is not a time; use RFC 3339 with an offset (2024-03-01T14:30:00Z), a date (2024-03-01) or Unix seconds, in the years 1678–2261"
            ),
        )
    };
    if !FORMS.is_match(text) {
        return Err(bad());
    }
    let out_of_range = || {
        ApiError::bad_parameter(
            name,
            format!("{name}: '{shown}' is outside the years 1678–2261"),
        )
    };
    if let Some(nanos) = unix_nanos(text) {
        return nanos.ok_or_else(out_of_range);
    }
    let instant = DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .map_err(|_| bad())?;
    instant.timestamp_nanos_opt().ok_or_else(out_of_range)
}

/// Unix seconds with up to nine decimals, to the nanosecond (through a
/// float, `…399.999999999` would round up to the next second); none when
/// `text` is not in that form, `Some(None)` when out of range.
fn unix_nanos(text: &str) -> Option<Option<i64>> {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let nanos = format!("{fraction:0<9}").parse::<i64>().ok()?;
    Some(
        whole
            .parse::<i64>()
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
            .and_then(|s| s.checked_add(nanos))
            .map(|n| sign * n),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        let at = |t| parse_time("start", Some(t), TimeBound::Start).expect(t);
        assert_eq!(at("1709303400"), 1_709_303_400_000_000_000);
        assert_eq!(at("2024-03-01T14:30:00Z"), 1_709_303_400_000_000_000);
        assert_eq!(at("2024-03-01T09:30:00-05:00"), 1_709_303_400_000_000_000);
        assert_eq!(at("2024-03-01"), 1_709_251_200_000_000_000);
        assert_eq!(at("1726574399.999999999"), 1_726_574_399_999_999_999);
        assert_eq!(at("-0.5"), -500_000_000);
        assert_eq!(at("7.05"), 7_050_000_000);
        assert_eq!(
            parse_time("end", None, TimeBound::End).expect("open"),
            i64::MAX
        );
    }

    #[test]
    fn the_pattern_admits_exactly_what_parses() {
        for good in [
            "-5",
            "0.5",
            "8999999999.123456789",
            "1678-01-01",
            "2261-12-31T23:59:59-23:59",
            "2024-02-29",
            "2000-02-29",
            "2024-03-01T14:30:00.5+01:00",
            "1984-12-31T00:00:00Z",
        ] {
            parse_time("start", Some(good), TimeBound::Start).expect(good);
        }
        for bad in [
            " 2024-03-01",
            "2024-03-01 ",
            "+5",
            "1e5",
            "2023-02-29",
            "1900-02-29",
            "2024-04-31",
            "2024-03-01T14:30:00",
            "2024-03-01t14:30:00z",
            "2024-03-01T14:30:60Z",
            "2024-03-01T14:30:00.1234567890Z",
            "1677-12-31",
            "2262-01-01",
            "9999999999",
            "0.1234567890",
        ] {
            parse_time("start", Some(bad), TimeBound::Start).expect_err(bad);
        }
    }

    #[test]
    fn rejects_garbage_and_overflow_naming_the_parameter() {
        for bad in [
            "yesterday",
            "2024-13-01",
            "1e30",
            "99999999999999999",
            "NaN",
            "   ",
        ] {
            let err = parse_time("end", Some(bad), TimeBound::End).expect_err(bad);
            assert!(format!("{err:?}").contains("end"), "{bad}");
        }
    }
}
