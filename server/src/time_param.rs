//! `start`/`end` parameters: RFC 3339, a plain date, or Unix seconds.

use chrono::{DateTime, NaiveDate};

use crate::error::ApiError;

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
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
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
                "{name}: '{shown}' is not a time; use RFC 3339 (2024-03-01T14:30:00Z), a date (2024-03-01) or Unix seconds"
            ),
        )
    };
    let out_of_range = || {
        ApiError::bad_parameter(
            name,
            format!("{name}: '{shown}' is outside the years 1677–2262"),
        )
    };
    if let Ok(seconds) = text.parse::<i64>() {
        return seconds.checked_mul(1_000_000_000).ok_or_else(out_of_range);
    }
    if let Ok(seconds) = text.parse::<f64>()
        && seconds.is_finite()
    {
        let nanos = seconds * 1e9;
        return if nanos.abs() < 9.2e18 {
            Ok(nanos as i64)
        } else {
            Err(out_of_range())
        };
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
        assert_eq!(
            parse_time("end", None, TimeBound::End).expect("open"),
            i64::MAX
        );
    }

    #[test]
    fn rejects_garbage_and_overflow_naming_the_parameter() {
        for bad in [
            "yesterday",
            "2024-13-01",
            "1e30",
            "99999999999999999",
            "NaN",
        ] {
            let err = parse_time("end", Some(bad), TimeBound::End).expect_err(bad);
            assert!(format!("{err:?}").contains("end"), "{bad}");
        }
    }
}
