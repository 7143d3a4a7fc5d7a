//! Record timestamps as nanoseconds since the Unix epoch.

use std::fmt;

/// A point in time taken from a record (never from the clock of the export), in nanoseconds
/// since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses an RFC 3339 timestamp such as `2026-02-12T16:02:29.111Z`.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
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
    use super::*;

    #[test]
    fn parses_and_prints_record_times() {
        let t = Timestamp::parse_rfc3339("2026-02-12T16:02:29.111Z").unwrap();
        assert_eq!(t.to_string(), "2026-02-12T16:02:29.111Z");
        assert_eq!(t.unix_nanos() % 1_000_000_000, 111_000_000);
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
