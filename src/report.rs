//! What sfrefresh tells people on stderr: `--verbose` steps and server text made safe to show.

use std::fmt;
use std::time::Duration;

/// The `--verbose` channel. Callers pass only non-secret facts; secrets live in
/// `Secret`, which formats as `[redacted]` even if one slipped through.
pub struct Log {
    verbose: bool,
}

impl Log {
    pub fn new(verbose: bool) -> Log {
        Log { verbose }
    }

    pub fn step(&self, args: fmt::Arguments<'_>) {
        if self.verbose {
            eprintln!("sfrefresh: {args}");
        }
    }
}

/// The longest server-supplied text shown, in characters.
pub const MAX_SHOWN: usize = 300;

/// Server text (error descriptions, bodies, Location headers) as it may be shown:
/// control and bidi-override characters removed so a hostile server cannot drive the
/// terminal, whitespace runs folded, and cut to `MAX_SHOWN` characters.
pub fn sanitize(text: &str) -> String {
    let mut out = String::new();
    let mut shown = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_format_char(c) {
            continue;
        }
        if shown >= MAX_SHOWN {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            shown += 1;
            pending_space = false;
        }
        out.push(c);
        shown += 1;
    }
    out
}

/// Unicode format characters that reorder or hide text (bidi overrides, zero-width).
fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Bytes from the server shown as text: lossy UTF-8, then sanitised.
pub fn sanitize_bytes(bytes: &[u8]) -> String {
    // Decode a bounded prefix only: a multi-megabyte page needs no full decode.
    let head = &bytes[..bytes.len().min(MAX_SHOWN * 8)];
    sanitize(&String::from_utf8_lossy(head))
}

/// `1.2s`, `850ms`, `12m`, `3h` for messages.
pub fn human(d: Duration) -> String {
    let s = (d.as_millis() as u64 + 500) / 1000;
    if s >= 2 * 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 2 * 3600 {
        format!("{}h", s / 3600)
    } else if s >= 120 {
        format!("{}m", s / 60)
    } else if s >= 10 {
        format!("{s}s")
    } else if d >= Duration::from_secs(1) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_controls_and_folds_whitespace() {
        assert_eq!(
            sanitize("bad\x1b[2J\x1b]0;pwned\x07 token\r\n\tgone"),
            "bad[2J]0;pwned token gone"
        );
        assert_eq!(sanitize("  a\u{202E}b\u{200B}c  "), "abc");
        assert_eq!(
            sanitize("expired access/refresh token"),
            "expired access/refresh token"
        );
    }

    #[test]
    fn cuts_long_text() {
        let long = "x".repeat(10_000);
        let s = sanitize(&long);
        assert_eq!(s.chars().count(), MAX_SHOWN + 1);
        assert!(s.ends_with('…'));
        assert_eq!(sanitize(&"y".repeat(MAX_SHOWN)), "y".repeat(MAX_SHOWN));
    }

    #[test]
    fn bytes_are_decoded_lossily() {
        assert_eq!(
            sanitize_bytes(b"<html>\xff\n</html>"),
            "<html>\u{FFFD} </html>"
        );
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(1250)), "1.2s");
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_millis(9_999)), "10s");
        assert_eq!(human(Duration::from_secs(720)), "12m");
        assert_eq!(human(Duration::from_secs(3 * 3600)), "3h");
        assert_eq!(human(Duration::from_secs(3 * 86_400)), "3d");
    }
}
