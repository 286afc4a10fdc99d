//! What sfrefresh tells people on stderr: status and `--verbose` lines, waiting notes, and
//! server text made safe to show (secrets redacted, terminal controls removed).

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use crate::secret::Secret;

/// Writes one line to stderr. A closed or broken stderr (a dead log pipe) must not turn
/// a successful refresh into a crash, so errors are ignored: `eprintln!` would panic,
/// and `panic = "abort"` makes that a SIGABRT.
pub(crate) fn say(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "sfrefresh: {args}");
}

/// How much to tell on stderr besides errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// `-q`: errors only.
    Quiet,
    /// The status line and "waiting" notes.
    Normal,
    /// `-v`: every step.
    Verbose,
}

/// The stderr channel. Callers pass only non-secret facts; secrets live in `Secret`,
/// which formats as `[redacted]` even if one slipped through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Log {
    level: Level,
}

impl Log {
    pub(crate) fn new(level: Level) -> Log {
        Log { level }
    }

    pub(crate) fn level(&self) -> Level {
        self.level
    }

    /// A `--verbose` step.
    pub(crate) fn step(&self, args: fmt::Arguments<'_>) {
        if self.level == Level::Verbose {
            say(args);
        }
    }

    /// A note that the run is waiting (lock, backoff, slow server): shown unless `-q`,
    /// so a cron mail or a terminal says why nothing seems to happen.
    pub(crate) fn wait(&self, args: fmt::Arguments<'_>) {
        if self.level != Level::Quiet {
            say(args);
        }
    }

    /// Whether `wait` lines are shown, so work done only for them can be skipped.
    pub(crate) fn shows_waits(&self) -> bool {
        self.level != Level::Quiet
    }

    /// The one status line of a successful run.
    pub(crate) fn status(&self, args: fmt::Arguments<'_>) {
        if self.level != Level::Quiet {
            say(args);
        }
    }
}

/// Every secret this run knows, so server text (which may echo the request, as error
/// pages do) is shown only after each one is replaced by `[redacted]`, in the raw,
/// form-urlencoded, percent-encoded and JSON-escaped spellings.
#[derive(Debug, Default, Clone)]
pub(crate) struct Redactor {
    needles: Vec<String>,
}

impl Redactor {
    pub(crate) fn add(&mut self, secret: &Secret) {
        self.add_str(secret.expose());
    }

    pub(crate) fn add_str(&mut self, raw: &str) {
        // Very short values would redact ordinary words; no real credential is that short.
        if raw.len() < 4 {
            return;
        }
        let form = crate::form::form_encode(raw);
        let spellings = [
            raw.to_string(),
            form.clone(),
            form.replace('+', "%20"),
            lower_hex(&form),
            raw.replace('/', "\\/"),
        ];
        for s in spellings {
            if !self.needles.contains(&s) {
                self.needles.push(s);
            }
        }
        // Longest first, so a secret that contains another is replaced whole.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), "[redacted]");
            }
        }
        out
    }

    /// Server text as it may be shown: secrets redacted, then sanitised. Cleaning can
    /// join a secret that a control or format character split (`5Aep\x07861…`), or
    /// fold a whitespace run inside one, so what it leaves is redacted again before
    /// the cut.
    pub(crate) fn show(&self, text: &str) -> String {
        let clean = clean(&self.redact(text), usize::MAX);
        sanitize(&self.redact(&clean))
    }

    /// Server bytes as text: a bounded prefix decoded lossily, redacted, sanitised.
    pub(crate) fn show_bytes(&self, bytes: &[u8]) -> String {
        // Decode a bounded prefix only: a multi-megabyte page needs no full decode. The
        // margin keeps a secret that straddles the cut from being half shown.
        let head = &bytes[..bytes.len().min(MAX_SHOWN * 8)];
        self.show(&String::from_utf8_lossy(head))
    }
}

/// `%2F` → `%2f`: some servers echo percent-encoding in lower case.
fn lower_hex(form: &str) -> String {
    let mut out = String::with_capacity(form.len());
    let mut in_escape = 0;
    for c in form.chars() {
        if c == '%' {
            in_escape = 2;
            out.push(c);
        } else if in_escape > 0 {
            in_escape -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The longest server-supplied text shown, in characters.
pub(crate) const MAX_SHOWN: usize = 300;

/// Server text (error descriptions, bodies, Location headers) as it may be shown:
/// control and bidi-override characters removed so a hostile server cannot drive the
/// terminal, whitespace runs folded, and cut to `MAX_SHOWN` characters.
pub(crate) fn sanitize(text: &str) -> String {
    clean(text, MAX_SHOWN)
}

/// `sanitize`, cut at `max` characters.
fn clean(text: &str, max: usize) -> String {
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
        // A folded space counts too: the text shown is at most `max` characters,
        // then the ellipsis.
        if shown + usize::from(pending_space) >= max {
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

/// Unicode format characters (general category Cf, Unicode 16), which reorder or hide
/// text: bidi marks, overrides and isolates (the Arabic letter mark too), zero-width
/// characters, the soft hyphen, invisible operators, tag characters (which can carry a
/// hidden copy of any ASCII text), and the few that join or prefix other characters.
fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}'
        | '\u{890}'..='\u{891}' | '\u{8E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// An OS error in plain words, without Rust's `(os error N)` suffix.
pub(crate) fn io_words(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => text.as_str(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A file system failure in the words of a token file message: "does not exist",
/// "cannot WHAT: permission denied", "cannot WHAT: <reason>".
pub(crate) fn io_problem(what: &str, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "does not exist".to_string(),
        io::ErrorKind::PermissionDenied => format!("cannot {what}: permission denied"),
        _ => format!("cannot {what}: {}", io_words(e)),
    }
}

/// Why no file can be created in `dir`: "cannot create a file in DIR: does not exist".
pub(crate) fn cannot_create_in(dir: &Path, e: &io::Error) -> String {
    format!(
        "cannot create a file in {}: {}",
        dir.display(),
        io_problem("write there", e).trim_start_matches("cannot write there: ")
    )
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
    fn removes_every_format_character() {
        // Found by the property tests (src/props.rs): these passed through before.
        assert_eq!(sanitize("soft\u{AD}hyphen"), "softhyphen");
        assert_eq!(
            sanitize("a\u{61C}1 2"),
            "a1 2",
            "the Arabic letter mark is a bidi mark"
        );
        assert_eq!(sanitize("x\u{206A}\u{206F}y\u{180E}"), "xy");
        // Tag characters spell ASCII invisibly: "\u{E0068}\u{E0069}" is a hidden "hi".
        assert_eq!(sanitize("ok\u{E0001}\u{E0068}\u{E0069}\u{E007F}"), "ok");
        assert_eq!(sanitize("\u{1D173}\u{13430}\u{1BCA0}\u{110BD}"), "");
        // Neighbours of the ranges are ordinary characters and stay.
        assert_eq!(
            sanitize("\u{AC}\u{AE}\u{606}\u{E0080}"),
            "\u{AC}\u{AE}\u{606}\u{E0080}"
        );
    }

    #[test]
    fn cuts_long_text() {
        let long = "x".repeat(10_000);
        let s = sanitize(&long);
        assert_eq!(s.chars().count(), MAX_SHOWN + 1);
        assert!(s.ends_with('…'));
        assert_eq!(sanitize(&"y".repeat(MAX_SHOWN)), "y".repeat(MAX_SHOWN));
        // Found by the property tests (src/props.rs): a space just before the limit
        // was not counted, and this was 302 characters long.
        let x = "x".repeat(MAX_SHOWN - 1);
        assert_eq!(sanitize(&format!("{x} ab")), format!("{x}…"));
        assert_eq!(sanitize(&format!("{x} a")), format!("{x}…"));
        assert_eq!(sanitize(&format!("{x}a b")), format!("{x}a…"));
        assert_eq!(sanitize(&format!("{x}a ")), format!("{x}a"));
    }

    #[test]
    fn bytes_are_decoded_lossily() {
        assert_eq!(
            Redactor::default().show_bytes(b"<html>\xff\n</html>"),
            "<html>\u{FFFD} </html>"
        );
    }

    #[test]
    fn every_spelling_of_a_secret_is_redacted() {
        let mut r = Redactor::default();
        r.add(&Secret::new("5Aep861.a/b+c=d e"));
        for echoed in [
            "token=5Aep861.a/b+c=d e&x",
            "token=5Aep861.a%2Fb%2Bc%3Dd+e&x",
            "token=5Aep861.a%2Fb%2Bc%3Dd%20e&x",
            "token=5Aep861.a%2fb%2bc%3dd+e&x",
            r#"{"token":"5Aep861.a\/b+c=d e"}"#,
        ] {
            let shown = r.show(echoed);
            assert!(shown.contains("[redacted]"), "{echoed} -> {shown}");
            assert!(!shown.contains("5Aep861"), "{echoed} -> {shown}");
        }
    }

    #[test]
    fn a_secret_split_by_what_sanitising_removes_is_redacted() {
        // Found by the property tests (src/props.rs): "%A\x07A0" was shown as "%AA0".
        let mut r = Redactor::default();
        r.add_str("%AA0");
        assert_eq!(
            r.show("%A\x07A0 %AA0 %A\u{200B}A0"),
            "[redacted] [redacted] [redacted]"
        );
        let mut r = Redactor::default();
        r.add_str("5Aep861.a b");
        for echoed in [
            "x 5Aep\x1b861.a b y",
            "x 5Aep861.\u{AD}a\u{202E} b y",
            "x 5Aep861.a\r\n\t b y",
        ] {
            assert_eq!(r.show(echoed), "x [redacted] y", "{echoed:?}");
        }
        // The cut comes after both passes: never half a secret at the end.
        let long = format!("{}5Aep\x07861.a b", "z".repeat(MAX_SHOWN - 4));
        let shown = r.show(&long);
        assert_eq!(shown, format!("{}[red…", "z".repeat(MAX_SHOWN - 4)));
    }

    #[test]
    fn os_errors_read_as_words() {
        let e = io::Error::from_raw_os_error(13);
        assert_eq!(io_words(&e), "permission denied");
    }
}
