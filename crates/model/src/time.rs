//! Record timestamps as nanoseconds since the Unix epoch.

use std::fmt;

use chrono::Datelike;

/// A point in time taken from a record (never from the clock of the export), in nanoseconds
/// since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses an RFC 3339 timestamp such as `2026-02-12T16:02:29.111Z`.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        // Agents write one fixed UTC shape on every line; read it directly, and anything else
        // (offsets, other precisions) with chrono.
        if let Some(t) = parse_utc_millis(s.as_bytes()) {
            return Some(t);
        }
        let dt = chrono::DateTime::parse_from_rfc3339(s).ok()?;
        dt.timestamp_nanos_opt().map(Timestamp)
    }

    /// Builds a timestamp from Unix milliseconds.
    pub fn from_unix_millis(ms: i64) -> Timestamp {
        Timestamp(ms.saturating_mul(1_000_000))
    }

    /// Nanoseconds since the epoch, clamped at zero (OTLP times are unsigned).
    pub fn unix_nanos(self) -> u64 {
        u64::try_from(self.0).unwrap_or(0)
    }

    /// Duration from `earlier` to `self` in nanoseconds, zero when `earlier` is later.
    pub fn nanos_since(self, earlier: Timestamp) -> u64 {
        u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0)
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` exactly.
fn parse_utc_millis(b: &[u8]) -> Option<Timestamp> {
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        u32::try_from(mo).ok()?,
        u32::try_from(d).ok()?,
    )?;
    let days = i64::from(date.num_days_from_ce()) - 719_163;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec;
    // Nanoseconds in an i64 reach the year 2262: later times are not representable.
    secs.checked_mul(1_000_000_000)?
        .checked_add(ms * 1_000_000)
        .map(Timestamp)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = chrono::DateTime::from_timestamp_nanos(self.0);
        write!(
            f,
            "{}",
            dt.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_past_2262_are_refused_not_overflowed() {
        assert_eq!(
            super::Timestamp::parse_rfc3339("8372-01-07T11:47:31.774Z"),
            None
        );
    }

    use super::*;

    #[test]
    fn parses_and_prints_record_times() {
        let t = Timestamp::parse_rfc3339("2026-02-12T16:02:29.111Z").unwrap();
        assert_eq!(t.to_string(), "2026-02-12T16:02:29.111Z");
        assert_eq!(t.unix_nanos() % 1_000_000_000, 111_000_000);
        for s in [
            "1970-01-01T00:00:00.000Z",
            "2024-02-29T23:59:59.999Z",
            "2026-11-26T02:40:34.001Z",
        ] {
            let chrono = chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_nanos_opt()
                .unwrap();
            assert_eq!(Timestamp::parse_rfc3339(s), Some(Timestamp(chrono)), "{s}");
        }
        assert!(Timestamp::parse_rfc3339("2026-02-30T00:00:00.000Z").is_none());
        let offset = Timestamp::parse_rfc3339("2026-01-19T13:46:24.027+11:00").unwrap();
        assert_eq!(offset.to_string(), "2026-01-19T02:46:24.027Z");
        assert!(Timestamp::parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn durations_never_go_negative() {
        assert_eq!(Timestamp(5).nanos_since(Timestamp(9)), 0);
        assert_eq!(Timestamp(9).nanos_since(Timestamp(5)), 4);
    }
}
