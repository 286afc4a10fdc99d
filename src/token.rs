//! The token document: parsing, checking, merging an answer into it, and writing it out.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::clock::human;
use crate::report::sanitize;
use crate::secret::Secret;

pub(crate) type Doc = Map<String, Value>;

/// The largest token file sfrefresh reads, and so the largest it writes: a file it
/// saved must always be one it will read again.
pub(crate) const MAX_FILE: u64 = 1024 * 1024;

/// Parses a token document; the error is the problem, to be shown after the file's name.
/// The text of the file is never echoed: it holds secrets.
pub(crate) fn parse(bytes: &[u8]) -> Result<Doc, String> {
    let doc = parse_object(bytes)?;
    refresh_token(&doc)?;
    Ok(doc)
}

/// Parses any JSON object, with or without tokens (`status` describes what is there; a
/// file minted by the JWT bearer or client credentials grant has no refresh token).
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Doc, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("is empty".into());
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("is not valid JSON ({e})"))?;
    let Value::Object(doc) = value else {
        return Err(format!("holds a JSON {}, not an object", kind(&value)));
    };
    Ok(doc)
}

/// Whether an answer that cannot be used still carries a refresh token: then it may be
/// the only copy of a rotated one, and must be kept for the user.
pub(crate) fn carries_refresh_token(raw: &[u8]) -> bool {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    serde_json::from_slice::<Value>(raw)
        .ok()
        .and_then(|v| {
            v.get("refresh_token")
                .and_then(Value::as_str)
                .map(|s| !s.trim().is_empty())
        })
        .unwrap_or(false)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A field that must be a non-empty string; the error names it.
fn required_string(doc: &Doc, field: &str) -> Result<Secret, String> {
    match doc.get(field) {
        None => Err(format!("has no \"{field}\" field")),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Secret::new(s.as_str())),
        Some(Value::String(_)) => Err(format!("\"{field}\" is empty")),
        Some(v) => Err(format!("\"{field}\" is a {}, not a string", kind(v))),
    }
}

pub(crate) fn refresh_token(doc: &Doc) -> Result<Secret, String> {
    required_string(doc, "refresh_token")
}

pub(crate) fn access_token(doc: &Doc) -> Result<Secret, String> {
    required_string(doc, "access_token")
}

/// Checks a 200 answer: an object with a usable `access_token`, and a `refresh_token`
/// that, when present, is usable too (saving an empty one would lose the real one).
pub(crate) fn check_answer(bytes: &[u8]) -> Result<Doc, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() {
            format!("the JSON body is truncated ({e})")
        } else {
            format!("the body is not JSON ({e})")
        }
    })?;
    let Value::Object(answer) = value else {
        return Err(format!(
            "the body is a JSON {}, not an object",
            kind(&value)
        ));
    };
    access_token(&answer).map_err(|p| format!("the answer {p}"))?;
    if answer.contains_key("refresh_token") {
        refresh_token(&answer).map_err(|p| format!("the answer {p}"))?;
    }
    Ok(answer)
}

/// `issued_at` in epoch milliseconds, from Salesforce's string form or a plain number.
pub(crate) fn issued_at_ms(doc: &Doc) -> Option<u64> {
    match doc.get("issued_at")? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64().or_else(|| n.to_string().parse().ok()),
        _ => None,
    }
}

/// How long ago the token was issued, when that can be trusted. A time more than five
/// minutes in the future is not (clock skew is smaller than that), so the token gets refreshed.
pub(crate) fn age(doc: &Doc, now_ms: u64) -> Option<Duration> {
    let issued = issued_at_ms(doc)?;
    if issued > now_ms.saturating_add(5 * 60 * 1000) {
        return None;
    }
    Some(Duration::from_millis(now_ms.saturating_sub(issued)))
}

/// What a merge changed that the status line reports.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Merged {
    pub(crate) rotated: bool,
}

/// Every field of the answer goes into the document: existing keys are updated in
/// place, new keys go at the end, keys the answer lacks are kept (so the refresh
/// token stays unless the server rotated it). Without an `issued_at` in the answer,
/// the local time is recorded in Salesforce's form so `--if-older-than` works anywhere.
pub(crate) fn merge(doc: &mut Doc, answer: Doc, now_ms: u64) -> Merged {
    let old = doc.get("refresh_token").cloned();
    let has_issued_at = answer.contains_key("issued_at");
    for (key, value) in answer {
        doc.insert(key, value);
    }
    if !has_issued_at {
        doc.insert("issued_at".into(), Value::String(now_ms.to_string()));
    }
    Merged {
        rotated: doc.get("refresh_token") != old.as_ref(),
    }
}

/// Pretty JSON, two-space indent, trailing newline. `sources` are the texts the
/// document was built from (the file, the answer): serde_json keeps every digit of a
/// number but writes its exponent marker as `e`, so an `E` is put back from them.
pub(crate) fn to_pretty(doc: &Doc, sources: &[&[u8]]) -> Vec<u8> {
    write_with(doc, sources, serde_json::ser::PrettyFormatter::new())
}

/// The text to save: pretty, unless that would pass `MAX_FILE` (pretty printing can
/// triple a file of many small numbers), then compact, with the same exact numbers.
/// The caller refuses a document whose compact form is still over the cap.
pub(crate) fn to_file_text(doc: &Doc, sources: &[&[u8]]) -> Vec<u8> {
    let pretty = to_pretty(doc, sources);
    if pretty.len() as u64 <= MAX_FILE {
        return pretty;
    }
    write_with(doc, sources, serde_json::ser::CompactFormatter)
}

fn write_with<F: serde_json::ser::Formatter>(doc: &Doc, sources: &[&[u8]], inner: F) -> Vec<u8> {
    use serde_core::Serialize;
    let mut out = Vec::new();
    let formatter = ExactNumbers {
        pretty: inner,
        exponents: upper_exponents(sources),
    };
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serialising a Map of Values into a Vec cannot fail: keys are strings, numbers text.
    if doc.serialize(&mut ser).is_err() {
        out.clear();
    }
    out.push(b'\n');
    out
}

/// Number tokens with an exponent in `sources`, keyed by the form serde_json writes
/// (`e`, always signed), in document order. One pass over each text: strings are
/// skipped eight bytes at a time, and only numbers with an exponent are kept.
fn upper_exponents(sources: &[&[u8]]) -> HashMap<String, VecDeque<String>> {
    let mut found: HashMap<String, VecDeque<String>> = HashMap::new();
    for text in sources {
        let mut i = 0;
        while let Some(&b) = text.get(i) {
            if b == b'"' {
                i = string_end(text, i + 1);
            } else if b == b'-' || b.is_ascii_digit() {
                let start = i;
                let mut exponent = false;
                while let Some(&c) = text.get(i) {
                    match c {
                        b'0'..=b'9' | b'-' | b'+' | b'.' => {}
                        b'e' | b'E' => exponent = true,
                        _ => break,
                    }
                    i += 1;
                }
                if exponent
                    && let Some(token) =
                        text.get(start..i).and_then(|t| std::str::from_utf8(t).ok())
                {
                    found
                        .entry(serde_spelling(token))
                        .or_default()
                        .push_back(token.to_string());
                }
            } else {
                i += 1;
            }
        }
    }
    found
}

/// Just past the closing quote of the string whose contents start at `i` (the end of
/// `text` if it has none), skipping escapes.
fn string_end(text: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES << 7;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    loop {
        // Eight bytes at a time while none is a quote or a backslash.
        while let Some(word) = text.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
            let w = u64::from_le_bytes(word);
            if zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')))
                != 0
            {
                break;
            }
            i += 8;
        }
        match text.get(i) {
            None => return text.len(),
            Some(b'"') => return i + 1,
            Some(b'\\') => i += 2,
            Some(_) => i += 1,
        }
    }
}

/// How serde_json spells a number it parsed: `1E3` becomes `1e+3`.
fn serde_spelling(token: &str) -> String {
    let lower = token.to_ascii_lowercase();
    match lower.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with(['+', '-']) => format!("{mantissa}e+{exp}"),
        _ => lower,
    }
}

/// serde_json's pretty (or compact) printer, writing each number as its source spelled it.
struct ExactNumbers<F> {
    pretty: F,
    exponents: HashMap<String, VecDeque<String>>,
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for ExactNumbers<F> {
    fn write_number_str<W: ?Sized + Write>(&mut self, w: &mut W, value: &str) -> io::Result<()> {
        // Only a number with an exponent can need another spelling: no hashing for the rest.
        if self.exponents.is_empty() || !value.contains('e') {
            return w.write_all(value.as_bytes());
        }
        match self.exponents.get_mut(value).and_then(VecDeque::pop_front) {
            Some(original) => w.write_all(original.as_bytes()),
            None => w.write_all(value.as_bytes()),
        }
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

/// With `--if-older-than limit`: the token's age when it is fresh enough to keep, or
/// why a refresh is due. `status` asks the same question.
pub(crate) fn due(doc: &Doc, limit: Duration, now_ms: u64) -> Result<Duration, String> {
    let Some(age) = age(doc, now_ms) else {
        return Err(format!(
            "the token file has no usable issued_at to compare with --if-older-than {}",
            human(limit)
        ));
    };
    if access_token(doc).is_err() {
        return Err("the token file has no access_token".into());
    }
    if age >= limit {
        return Err(format!(
            "issued {} ago, not younger than --if-older-than {}",
            human(age),
            human(limit)
        ));
    }
    Ok(age)
}

/// The org for the status line: the file's `instance_url`, else `fallback`.
pub(crate) fn org(doc: &Doc, fallback: &str) -> String {
    match doc.get("instance_url").and_then(|v| v.as_str()) {
        Some(u) => sanitize(u),
        None => fallback.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Doc {
        parse(text.as_bytes()).expect("test document parses")
    }

    #[test]
    fn parse_accepts_bom_and_rejects_the_rest_by_name() {
        assert!(parse(b"\xEF\xBB\xBF{\"refresh_token\":\"r\"}").is_ok());
        assert_eq!(parse(b"  \n").unwrap_err(), "is empty");
        assert!(
            parse(b"{\"refresh_token\":")
                .unwrap_err()
                .starts_with("is not valid JSON")
        );
        assert_eq!(
            parse(b"[1]").unwrap_err(),
            "holds a JSON array, not an object"
        );
        assert_eq!(parse(b"{}").unwrap_err(), "has no \"refresh_token\" field");
        assert_eq!(
            parse(b"{\"refresh_token\":\" \"}").unwrap_err(),
            "\"refresh_token\" is empty"
        );
        assert_eq!(
            parse(b"{\"refresh_token\":5}").unwrap_err(),
            "\"refresh_token\" is a number, not a string"
        );
    }

    #[test]
    fn parse_errors_never_echo_the_file() {
        let e = parse(b"{\"refresh_token\": 5Aep861secret}").unwrap_err();
        assert!(!e.contains("5Aep861secret"), "{e}");
    }

    #[test]
    fn merge_keeps_order_numbers_unknown_fields_and_the_refresh_token() {
        let file = br#"{"access_token":"old","refresh_token":"r1","instance_url":"https://x",
                "n":1.50,"big":123456789012345678901234567890,"custom":{"k":[1,2]},
                "issued_at":"1"}"#;
        let raw = br#"{"issued_at":"1708058728442","access_token":"new","extra":1e3}"#;
        let mut d = parse(file).unwrap();
        let answer = check_answer(raw).unwrap();
        let m = merge(&mut d, answer, 99);
        assert_eq!(m, Merged { rotated: false });
        let text = String::from_utf8(to_pretty(&d, &[file, raw])).unwrap();
        assert_eq!(
            text,
            r#"{
  "access_token": "new",
  "refresh_token": "r1",
  "instance_url": "https://x",
  "n": 1.50,
  "big": 123456789012345678901234567890,
  "custom": {
    "k": [
      1,
      2
    ]
  },
  "issued_at": "1708058728442",
  "extra": 1e3
}
"#
        );
    }

    #[test]
    fn merge_takes_a_rotated_refresh_token_and_stamps_issued_at() {
        let mut d = doc(r#"{"refresh_token":"r1","access_token":"a"}"#);
        let answer = check_answer(br#"{"access_token":"b","refresh_token":"r2"}"#).unwrap();
        assert_eq!(
            merge(&mut d, answer, 1_700_000_000_123),
            Merged { rotated: true }
        );
        assert_eq!(d["refresh_token"], "r2");
        assert_eq!(d["issued_at"], "1700000000123");
        let same = check_answer(br#"{"access_token":"c","refresh_token":"r2"}"#).unwrap();
        assert_eq!(merge(&mut d, same, 5), Merged { rotated: false });
    }

    #[test]
    fn answers_that_cannot_be_used() {
        assert!(check_answer(b"<html>").unwrap_err().contains("not JSON"));
        assert!(
            check_answer(b"{\"access_token\":\"a")
                .unwrap_err()
                .contains("truncated")
        );
        assert!(check_answer(b"[]").unwrap_err().contains("not an object"));
        assert_eq!(
            check_answer(b"{}").unwrap_err(),
            "the answer has no \"access_token\" field"
        );
        assert_eq!(
            check_answer(b"{\"access_token\":\"\"}").unwrap_err(),
            "the answer \"access_token\" is empty"
        );
        assert_eq!(
            check_answer(b"{\"access_token\":\"a\",\"refresh_token\":null}").unwrap_err(),
            "the answer \"refresh_token\" is a null, not a string"
        );
    }

    #[test]
    fn numbers_keep_their_exponent_spelling() {
        let file = br#"{"refresh_token":"r","a":1E+2,"b":1e+2,"c":[2.5E-3,"1E9 in a string \" 3E3"],"d":1E+2}"#;
        let answer = br#"{"access_token":"x","e":6.02E23}"#;
        let mut d = parse(file).unwrap();
        merge(&mut d, check_answer(answer).unwrap(), 1);
        let text = String::from_utf8(to_pretty(&d, &[file, answer])).unwrap();
        let compact: String = text.split_whitespace().collect();
        assert_eq!(
            compact,
            r#"{"refresh_token":"r","a":1E+2,"b":1e+2,"c":[2.5E-3,"1E9inastring\"3E3"],"d":1E+2,"access_token":"x","e":6.02E23,"issued_at":"1"}"#
        );
    }

    #[test]
    fn strings_are_skipped_whole_at_any_offset() {
        // An escaped quote or backslash at every position of an eight-byte word, and
        // exponent-looking text inside strings, which must not count.
        for pad in 0..17 {
            let filler = "a".repeat(pad);
            let text =
                format!(r#"{{"s":"{filler}\"1E5\\","t":"{filler}\\","n":[2E+3,"3E3",-1.5e-7]}}"#);
            let found = upper_exponents(&[text.as_bytes()]);
            let mut keys: Vec<_> = found.keys().cloned().collect();
            keys.sort();
            assert_eq!(keys, ["-1.5e-7", "2e+3"], "{text}");
            assert_eq!(string_end(b"ab\\\"c\"d", 0), 6);
            assert_eq!(string_end(b"unterminated\\", 0), 13);
        }
    }

    #[test]
    fn age_from_issued_at() {
        let d = doc(r#"{"refresh_token":"r","issued_at":"1000"}"#);
        assert_eq!(age(&d, 61_000), Some(Duration::from_secs(60)));
        let d = doc(r#"{"refresh_token":"r","issued_at":1000}"#);
        assert_eq!(age(&d, 1000), Some(Duration::ZERO));
        let d = doc(r#"{"refresh_token":"r","issued_at":"soon"}"#);
        assert_eq!(age(&d, 1000), None);
        let d = doc(r#"{"refresh_token":"r"}"#);
        assert_eq!(age(&d, 1000), None);
        // Slightly ahead (clock skew) counts as just issued; far ahead is not trusted.
        let d = doc(r#"{"refresh_token":"r","issued_at":"61000"}"#);
        assert_eq!(age(&d, 1000), Some(Duration::ZERO));
        let d = doc(r#"{"refresh_token":"r","issued_at":"999999999"}"#);
        assert_eq!(age(&d, 1000), None);
    }
}
