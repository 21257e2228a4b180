//! Wall-clock time as JavaScript prints it.
//!
//! Timestamps are strings in the exact format of `Date#toISOString()`:
//! `2026-11-24T12:00:00.000Z`, with a six-digit signed year outside 0..=9999
//! (`+010000-01-01T00:00:00.000Z`), and milliseconds within the range of a
//! JavaScript `Date` (±8.64e15).

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Timelike};

/// The largest magnitude of a JavaScript `Date`'s time value, in ms.
pub const MAX_DATE_MS: f64 = 8.64e15;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(before) => -(before.duration().as_millis() as i64),
    }
}

/// Now, as `new Date().toISOString()` prints it.
pub fn now_iso() -> String {
    iso_from_ms(now_ms()).unwrap_or_default()
}

/// Formats a time value as `Date#toISOString()` does; `None` outside the
/// range of a JavaScript `Date`.
pub fn iso_from_ms(ms: i64) -> Option<String> {
    if (ms as f64).abs() > MAX_DATE_MS {
        return None;
    }
    let t = DateTime::from_timestamp_millis(ms)?;
    let mut out = String::with_capacity(27);
    let year = t.year();
    if (0..=9999).contains(&year) {
        let _ = write!(out, "{year:04}");
    } else {
        let sign = if year < 0 { '-' } else { '+' };
        let _ = write!(out, "{sign}{:06}", year.unsigned_abs());
    }
    let _ = write!(
        out,
        "-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis()
    );
    Some(out)
}

/// Parses an ISO 8601 timestamp as `Date.parse` does for the strings this
/// package and the reference write; `None` when it is not one.
pub fn parse_iso_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_to_iso_string() {
        assert_eq!(iso_from_ms(0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso_from_ms(1_795_867_200_123).unwrap(),
            "2026-11-28T12:00:00.123Z"
        );
        assert_eq!(
            iso_from_ms(253_402_300_800_000).unwrap(),
            "+010000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            iso_from_ms(-62_198_755_200_000).unwrap(),
            "-000001-01-01T00:00:00.000Z"
        );
        assert!(iso_from_ms(8_640_000_000_000_001).is_none());
    }

    #[test]
    fn parses_what_it_prints() {
        let now = now_ms();
        assert_eq!(parse_iso_ms(&iso_from_ms(now).unwrap()), Some(now));
        assert_eq!(parse_iso_ms("not a date"), None);
    }
}
