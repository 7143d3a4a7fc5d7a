//! Which failures are worth retrying, and how long to wait (OTLP spec, "Failures"; the same
//! rules opentelemetry-otlp follows).

use std::time::Duration;

/// What to do after a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Try again after the backoff.
    Retryable,
    /// Try again after the backend's own delay.
    Throttled(Duration),
    /// Do not try again: the backend will refuse it the same way.
    Permanent,
}

/// Longest delay a backend may ask for before we stop honouring it.
pub const MAX_THROTTLE: Duration = Duration::from_secs(60);

/// HTTP status → class. Only 429, 502, 503 and 504 are retried; 429 and 503 honour
/// `Retry-After` (seconds).
pub fn classify_http(status: u16, retry_after: Option<&str>) -> Class {
    match status {
        429 | 503 => match retry_after.and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(s) => Class::Throttled(Duration::from_secs(s).min(MAX_THROTTLE)),
            None => Class::Retryable,
        },
        502 | 504 => Class::Retryable,
        _ => Class::Permanent,
    }
}

/// gRPC status → class. `RESOURCE_EXHAUSTED` is retried only when the server says when.
pub fn classify_grpc(code: tonic::Code, retry_after: Option<Duration>) -> Class {
    use tonic::Code;
    match code {
        Code::Unavailable
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss => {
            retry_after.map_or(Class::Retryable, |d| Class::Throttled(d.min(MAX_THROTTLE)))
        }
        Code::ResourceExhausted => {
            retry_after.map_or(Class::Permanent, |d| Class::Throttled(d.min(MAX_THROTTLE)))
        }
        _ => Class::Permanent,
    }
}

/// Exponential backoff with jitter, bounded in attempts and total time.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Total time after which no new attempt starts.
    pub max_elapsed: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(8),
            max_attempts: 6,
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// Delay before attempt `attempt + 1` (after `attempt` failures), with up to ±25% jitter
    /// drawn from `unit` in [0, 1).
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let base = self
            .initial
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max);
        let jitter = 0.75 + unit.clamp(0.0, 1.0) * 0.5;
        base.mul_f64(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses() {
        let table = [
            (200, None, Class::Permanent),
            (400, None, Class::Permanent),
            (401, None, Class::Permanent),
            (404, None, Class::Permanent),
            (413, None, Class::Permanent),
            (429, None, Class::Retryable),
            (429, Some("3"), Class::Throttled(Duration::from_secs(3))),
            (503, Some("9999"), Class::Throttled(MAX_THROTTLE)),
            (503, Some("Wed, 21 Oct 2015 07:28:00 GMT"), Class::Retryable),
            (502, None, Class::Retryable),
            (504, None, Class::Retryable),
            (500, None, Class::Permanent),
        ];
        for (status, after, want) in table {
            assert_eq!(classify_http(status, after), want, "{status} {after:?}");
        }
    }

    #[test]
    fn grpc_codes() {
        use tonic::Code;
        assert_eq!(classify_grpc(Code::Unavailable, None), Class::Retryable);
        assert_eq!(
            classify_grpc(Code::DeadlineExceeded, None),
            Class::Retryable
        );
        assert_eq!(
            classify_grpc(Code::ResourceExhausted, None),
            Class::Permanent
        );
        assert_eq!(
            classify_grpc(Code::ResourceExhausted, Some(Duration::from_secs(2))),
            Class::Throttled(Duration::from_secs(2))
        );
        assert_eq!(classify_grpc(Code::InvalidArgument, None), Class::Permanent);
        assert_eq!(classify_grpc(Code::Unauthenticated, None), Class::Permanent);
        assert_eq!(classify_grpc(Code::Internal, None), Class::Permanent);
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 0.5), Duration::from_millis(250));
        assert_eq!(b.delay(2, 0.5), Duration::from_millis(1000));
        assert_eq!(b.delay(30, 0.5), Duration::from_secs(8));
        assert!(b.delay(1, 0.0) < b.delay(1, 0.99));
    }
}
