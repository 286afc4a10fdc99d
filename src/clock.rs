//! Time and randomness helpers: epoch milliseconds, jitter, and durations as people write them.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Randomness for backoff jitter and temp names, from std's OS-seeded hasher keys
/// (no crate needed: nothing here has to be cryptographic).
pub(crate) fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One spelling of durations in every message, the one `--if-older-than` takes:
/// `850ms`, `1.2s`, `30s`, `12m`, `1h30m`, `3d`: at most the two largest units.
pub(crate) fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    if d.as_millis() < 9_950 && d.subsec_millis() != 0 {
        return format!("{:.1}s", d.as_secs_f64());
    }
    let s = (d.as_millis() as u64 + 500) / 1000;
    let parts = [
        (s / 86_400, 'd'),
        (s % 86_400 / 3600, 'h'),
        (s % 3600 / 60, 'm'),
        (s % 60, 's'),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    let mut out = String::new();
    for (n, unit) in parts.iter().skip(first).take(2) {
        if *n > 0 || out.is_empty() {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// Durations such as `45s`, `30m`, `2h`, `1d`, `1h30m`; a bare number is seconds.
pub(crate) fn parse_duration(v: &str) -> Result<Duration, &'static str> {
    const EXPECTED: &str = "expected a duration such as 45s, 30m, 2h, 1d or 1h30m";
    let v = v.trim();
    if v.is_empty() {
        return Err(EXPECTED);
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse().map(Duration::from_secs).map_err(|_| EXPECTED);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in v.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(EXPECTED),
        };
        let n: u64 = digits.parse().map_err(|_| EXPECTED)?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or("duration is too large")?;
    }
    if !digits.is_empty() {
        return Err(EXPECTED);
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(1250)), "1.2s");
        assert_eq!(human(Duration::from_secs(2)), "2s");
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_millis(9_999)), "10s");
        assert_eq!(human(Duration::from_secs(720)), "12m");
        assert_eq!(human(Duration::from_secs(3600)), "1h");
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
        assert_eq!(
            human(Duration::from_secs(1104 * 86_400 + 3 * 3600 + 7)),
            "1104d3h"
        );
        assert_eq!(human(Duration::from_secs(3 * 3600)), "3h");
        assert_eq!(human(Duration::from_secs(3 * 86_400)), "3d");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        for bad in ["", "s", "5x", "1.5h", "-5s", "5 s", "h5", "5s5"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("999999999999999999d").is_err());
    }
}
