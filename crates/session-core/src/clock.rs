//! Time: the one clock of the package, and wall-clock time as JavaScript
//! prints it.
//!
//! Every time the core uses comes from here: [`now_ms`] for timestamps and
//! [`monotonic_ms`] for intervals. Both follow the system clock, unless the
//! calling thread set its own time with [`with_time`] or
//! [`set_thread_time`] (a test's fake clock, say), which holds on that
//! thread only.
//!
//! Timestamps are strings in the exact format of `Date#toISOString()`:
//! `2026-11-24T12:00:00.000Z`, with a six-digit signed year outside 0..=9999
//! (`+010000-01-01T00:00:00.000Z`), and milliseconds within the range of a
//! JavaScript `Date` (±8.64e15).

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use chrono::DateTime;

/// The largest magnitude of a JavaScript `Date`'s time value, in ms.
pub const MAX_DATE_MS: f64 = 8.64e15;

thread_local! {
    /// The time the calling thread set with [`with_time`], in ms since the epoch.
    static SET: Cell<Option<f64>> = const { Cell::new(None) };
}

/// Runs `f` with the calling thread's clock showing `ms` (since the epoch):
/// [`now_ms`] returns it, truncated, and [`monotonic_ms`] returns it as it is.
/// Calls nest; the outer time is back when `f` returns or panics.
pub fn with_time<T>(ms: f64, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<f64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SET.with(|set| set.set(self.0));
        }
    }
    let _restore = Restore(SET.with(|set| set.replace(Some(ms))));
    f()
}

/// Sets (or, with `None`, clears) the calling thread's own time until the
/// next call: what a JavaScript thread does before each call while a test's
/// fake clock is installed.
pub fn set_thread_time(ms: Option<f64>) {
    SET.with(|set| set.set(ms));
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    if let Some(ms) = SET.with(Cell::get) {
        return ms as i64;
    }
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(before) => -(before.duration().as_millis() as i64),
    }
}

/// Milliseconds on a clock that never goes back (since an arbitrary start),
/// for measuring intervals; the thread's own time when it set one.
pub fn monotonic_ms() -> f64 {
    if let Some(ms) = SET.with(Cell::get) {
        return ms;
    }
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Now, as `new Date().toISOString()` prints it. The text of the last
/// millisecond is kept per thread: a busy tracker updates many times in one
/// (a tracker update costs well under a microsecond), and formatting was a
/// tenth of the update's cost.
pub fn now_iso() -> String {
    thread_local! {
        static LAST: RefCell<(i64, String)> = const { RefCell::new((0, String::new())) };
    }
    let ms = now_ms();
    LAST.with_borrow_mut(|(at, text)| {
        if *at != ms || text.is_empty() {
            *text = iso_from_ms(ms).unwrap_or_default();
            *at = ms;
        }
        text.clone()
    })
}

/// Days since 1970-01-01 as (year, month, day): Howard Hinnant's
/// `civil_from_days`, exact for the whole range of a JavaScript `Date`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn push_digits(out: &mut String, value: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut v = value;
    let mut i = buf.len();
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = (buf.len() - width).min(i);
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[start..]).unwrap_or_default());
}

/// Formats a time value as `Date#toISOString()` does; `None` outside the
/// range of a JavaScript `Date`.
pub fn iso_from_ms(ms: i64) -> Option<String> {
    if (ms as f64).abs() > MAX_DATE_MS {
        return None;
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000) as u64;
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(27);
    if (0..=9999).contains(&year) {
        push_digits(&mut out, year as u64, 4);
    } else {
        out.push(if year < 0 { '-' } else { '+' });
        push_digits(&mut out, year.unsigned_abs(), 6);
    }
    out.push('-');
    push_digits(&mut out, u64::from(month), 2);
    out.push('-');
    push_digits(&mut out, u64::from(day), 2);
    out.push('T');
    push_digits(&mut out, in_day / 3_600_000, 2);
    out.push(':');
    push_digits(&mut out, in_day / 60_000 % 60, 2);
    out.push(':');
    push_digits(&mut out, in_day / 1000 % 60, 2);
    out.push('.');
    push_digits(&mut out, in_day % 1000, 3);
    out.push('Z');
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
    use chrono::Datelike;

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

    /// The formatter as chrono would do it: slower, obviously right.
    fn via_chrono(ms: i64) -> String {
        use chrono::Timelike;
        let t = DateTime::from_timestamp_millis(ms).unwrap();
        let year = t.year();
        let year = if (0..=9999).contains(&year) {
            format!("{year:04}")
        } else {
            format!(
                "{}{:06}",
                if year < 0 { '-' } else { '+' },
                year.unsigned_abs()
            )
        };
        format!(
            "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis()
        )
    }

    #[test]
    fn agrees_with_chrono_over_the_whole_range() {
        // chrono's range ends near ±262,000 years, short of JavaScript's.
        let limit = 8_000_000_000_000_000_i64;
        let step = limit / 50_000 + 12_345_679;
        let mut ms = -limit;
        while ms <= limit {
            assert_eq!(iso_from_ms(ms).unwrap(), via_chrono(ms), "at {ms}");
            ms += step;
        }
        for ms in [-1, 0, 1, 86_399_999, 951_782_400_000, 253_402_300_799_999] {
            assert_eq!(iso_from_ms(ms).unwrap(), via_chrono(ms), "at {ms}");
        }
        // The ends of a JavaScript Date, as Node prints them.
        assert_eq!(
            iso_from_ms(8_640_000_000_000_000).unwrap(),
            "+275760-09-13T00:00:00.000Z"
        );
        assert_eq!(
            iso_from_ms(-8_640_000_000_000_000).unwrap(),
            "-271821-04-20T00:00:00.000Z"
        );
    }

    #[test]
    fn now_iso_follows_the_time_past_the_kept_text() {
        let texts = [0.0, 0.4, 1.0, 0.0, 86_400_000.0].map(|ms| with_time(ms, now_iso));
        assert_eq!(
            texts,
            [
                "1970-01-01T00:00:00.000Z",
                "1970-01-01T00:00:00.000Z",
                "1970-01-01T00:00:00.001Z",
                "1970-01-01T00:00:00.000Z",
                "1970-01-02T00:00:00.000Z",
            ]
        );
        assert_eq!(now_iso().len(), 24);
    }

    #[test]
    fn a_thread_may_set_its_own_time() {
        let real = now_ms();
        let inner = with_time(1_000.5, || {
            assert_eq!(now_ms(), 1_000);
            assert_eq!(monotonic_ms(), 1_000.5);
            with_time(5.0, now_ms)
        });
        assert_eq!(inner, 5);
        assert!(now_ms() >= real);
        let other = std::thread::spawn(|| with_time(7.0, || std::thread::spawn(now_ms).join()));
        assert!(other.join().unwrap().unwrap() >= real);
        let before = monotonic_ms();
        assert!(monotonic_ms() >= before);
    }

    #[test]
    fn parses_what_it_prints() {
        let now = now_ms();
        assert_eq!(parse_iso_ms(&iso_from_ms(now).unwrap()), Some(now));
        assert_eq!(parse_iso_ms("not a date"), None);
    }
}
