//! Small renderings for people: durations, sizes, counts, times.

/// `1h02m`, `3m05s`, `4.2s`, `120ms`.
pub fn duration_ns(ns: u64) -> String {
    let ms = ns / 1_000_000;
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if ms >= 1000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

/// `12.3 MB`, `512 B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 session`, `1,204 sessions`: the count and its noun, plural unless one.
pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", count(n))
    }
}

/// `2026-02-12 16:02:25Z`.
pub fn time_ns(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns)
        .format("%Y-%m-%d %H:%M:%SZ")
        .to_string()
}

/// RFC 3339 with milliseconds.
pub fn rfc3339_ns(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An error and its causes on one line, `: ` between them. A cause that only repeats the
/// message before it (SQLite's `disk I/O error` then `Error code 778: disk I/O error`) adds
/// what is new in parentheses, or nothing.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut prev = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !prev.is_empty() && prev.contains(&text) {
            continue;
        }
        if let Some(extra) = text
            .strip_suffix(prev.as_str())
            .and_then(|p| p.strip_suffix(": "))
            .filter(|_| !prev.is_empty())
        {
            out.push_str(&format!(" ({extra})"));
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        prev = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_chain_says_each_thing_once() {
        #[derive(Debug)]
        struct Code;
        impl std::fmt::Display for Code {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("Error code 778: disk I/O error")
            }
        }
        impl std::error::Error for Code {}
        let e = anyhow::Error::new(Code)
            .context("disk I/O error")
            .context("cannot write to the store /s.db");
        assert_eq!(
            error_chain(&e),
            "cannot write to the store /s.db: disk I/O error (Error code 778)"
        );
        let e = anyhow::anyhow!("malformed").context("malformed");
        assert_eq!(error_chain(&e), "malformed");
    }

    #[test]
    fn counts_say_one_thing_or_many() {
        assert_eq!(counted(1, "session"), "1 session");
        assert_eq!(counted(0, "session"), "0 sessions");
        assert_eq!(counted(1204, "model call"), "1,204 model calls");
    }

    #[test]
    fn renders() {
        assert_eq!(duration_ns(120_000_000), "120ms");
        assert_eq!(duration_ns(4_200_000_000), "4.2s");
        assert_eq!(duration_ns(185_000_000_000), "3m05s");
        assert_eq!(duration_ns(3_720_000_000_000), "1h02m");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(12_345_678), "12.3 MB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }
}
