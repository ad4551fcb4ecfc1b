//! Conversions between UTC instants (i64 nanoseconds) and wall-clock time in a
//! provider's time zone.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone};
use chrono_tz::Tz;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_HOUR: i64 = 3_600 * NANOS_PER_SECOND;

/// The wall-clock time of an instant in `zone`, as nanoseconds since the local epoch.
pub(crate) fn local_nanos(zone: &Tz, utc_nanos: i64) -> i64 {
    utc_nanos + offset_nanos_at_utc(zone, utc_nanos)
}

/// The zone's offset from UTC in effect at an instant.
fn offset_nanos_at_utc(zone: &Tz, utc_nanos: i64) -> i64 {
    let utc = DateTime::from_timestamp_nanos(utc_nanos).naive_utc();
    let seconds = zone.offset_from_utc_datetime(&utc).fix().local_minus_utc();
    i64::from(seconds) * NANOS_PER_SECOND
}

/// The calendar date of an instant in `zone`.
pub fn local_date(zone: &Tz, utc_nanos: i64) -> NaiveDate {
    DateTime::from_timestamp_nanos(local_nanos(zone, utc_nanos))
        .naive_utc()
        .date()
}

/// The instant of local midnight starting `date` in `zone`.
pub fn midnight(zone: &Tz, date: NaiveDate) -> i64 {
    utc_nanos_of_local(zone, date.and_time(chrono::NaiveTime::MIN))
}

/// The instant a wall-clock time denotes in `zone`.
///
/// A time that occurs twice (clocks going back) is taken at its first
/// occurrence; a time skipped by clocks going forward is read with the offset
/// in effect before the jump, which moves it forward by the jump's length.
pub(crate) fn utc_nanos_of_local(zone: &Tz, local: NaiveDateTime) -> i64 {
    let offset_seconds = match zone.offset_from_local_datetime(&local) {
        chrono::LocalResult::Single(offset) => offset.fix().local_minus_utc(),
        chrono::LocalResult::Ambiguous(first, _) => first.fix().local_minus_utc(),
        chrono::LocalResult::None => {
            let before = local - TimeDelta::days(1);
            zone.offset_from_utc_datetime(&before)
                .fix()
                .local_minus_utc()
        }
    };
    let local_nanos = local.and_utc().timestamp_nanos_opt().unwrap_or(i64::MAX);
    local_nanos.saturating_sub(i64::from(offset_seconds) * NANOS_PER_SECOND)
}

/// Wall-clock times of `zone` (nanoseconds since the local epoch) as
/// instants, in place; quickest on times in order.
pub fn wall_clock_to_utc(zone: Tz, nanos: &mut [i64]) {
    if zone != Tz::UTC {
        let mut to_utc = LocalToUtc::new(zone);
        for t in nanos {
            *t = to_utc.convert(*t);
        }
    }
}

/// Converts a sorted run of wall-clock times to instants, looking the zone up
/// once per local hour instead of once per value.
#[derive(Debug)]
pub(crate) struct LocalToUtc {
    zone: Tz,
    /// Local hour index and the offset valid for all of that hour, if it is a
    /// plain hour (no transition inside).
    cached: Option<(i64, i64)>,
}

impl LocalToUtc {
    pub(crate) fn new(zone: Tz) -> Self {
        LocalToUtc { zone, cached: None }
    }

    pub(crate) fn convert(&mut self, local_nanos: i64) -> i64 {
        let hour = local_nanos.div_euclid(NANOS_PER_HOUR);
        if let Some((cached_hour, offset)) = self.cached
            && cached_hour == hour
        {
            return local_nanos - offset;
        }
        match self.plain_hour_offset(hour) {
            Some(offset) => {
                self.cached = Some((hour, offset));
                local_nanos - offset
            }
            None => utc_nanos_of_local(&self.zone, naive(local_nanos)),
        }
    }

    /// The offset of a local hour in which every wall-clock time maps to a
    /// single instant with the same offset.
    fn plain_hour_offset(&self, hour: i64) -> Option<i64> {
        let start = hour.checked_mul(NANOS_PER_HOUR)?;
        let single = |nanos: i64| match self.zone.offset_from_local_datetime(&naive(nanos)) {
            chrono::LocalResult::Single(offset) => Some(offset.fix().local_minus_utc()),
            _ => None,
        };
        let at_start = single(start)?;
        let at_end = single(start + NANOS_PER_HOUR - 1)?;
        (at_start == at_end).then_some(i64::from(at_start) * NANOS_PER_SECOND)
    }
}

fn naive(local_nanos: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(local_nanos).naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test date")
    }

    fn utc(s: &str) -> i64 {
        local(s).and_utc().timestamp_nanos_opt().expect("in range")
    }

    #[test]
    fn ambiguous_time_takes_first_occurrence_and_gap_moves_forward() {
        // 2024-11-03 01:30 occurs at 05:30Z (EDT) and 06:30Z (EST).
        assert_eq!(
            utc_nanos_of_local(&New_York, local("2024-11-03 01:30")),
            utc("2024-11-03 05:30")
        );
        // 2024-03-10 02:30 does not exist; read with EST it is 07:30Z = 03:30 EDT.
        assert_eq!(
            utc_nanos_of_local(&New_York, local("2024-03-10 02:30")),
            utc("2024-03-10 07:30")
        );
    }

    #[test]
    fn cached_conversion_agrees_with_direct_lookup_across_transitions() {
        let mut converter = LocalToUtc::new(New_York);
        for start in [utc("2024-03-09 00:00"), utc("2024-11-02 00:00")] {
            for minute in (0..(3 * 24 * 60)).step_by(7) {
                let wall = start + minute * 60 * NANOS_PER_SECOND;
                assert_eq!(
                    converter.convert(wall),
                    utc_nanos_of_local(&New_York, naive(wall))
                );
            }
        }
    }

    #[test]
    fn local_dates_follow_the_zone() {
        // 03:00Z on Nov 4 is still Nov 3 in New York.
        assert_eq!(
            local_date(&New_York, utc("2024-11-04 03:00")),
            NaiveDate::from_ymd_opt(2024, 11, 3).expect("date")
        );
        assert_eq!(
            midnight(
                &New_York,
                NaiveDate::from_ymd_opt(2024, 11, 3).expect("date")
            ),
            utc("2024-11-03 04:00")
        );
    }
}
