//! Property tests (proptest) of the parts that take outside text: the token file's
//! round trip with exact number spelling, the merge of an answer, sanitising and
//! redaction of server text, answer classification, and NO_PROXY and proxy URLs.
//! Unit tests, so they reach the crate-private items; 256 cases each by default
//! (`PROPTEST_CASES` raises it for a longer hunt).

use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use crate::answer::{BodyError, Head, Outcome, classify};
use crate::proxy::{ProxyUrl, no_proxy_matches};
use crate::report::{MAX_SHOWN, Redactor, sanitize};
use crate::token::{self, Doc, MAX_FILE, merge, parse, refresh_token, to_file_text};

/// A regex strategy built once: a `&str` strategy parses its pattern for every case.
fn re(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(pattern).expect("a valid pattern")
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        // ChaCha, the default, dominates the run time of an unoptimised test build.
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    }
}

// ---- JSON text, generated as text so the spelling of every token is chosen ----

/// One character of a JSON string and how it is written.
#[derive(Debug, Clone)]
enum Piece {
    /// As itself (escaped anyway where JSON requires it).
    Raw(char),
    /// `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`.
    Short(char),
    /// `\uXXXX`, a surrogate pair above U+FFFF; hex in upper or lower case.
    Unicode(char, bool),
}

impl Piece {
    fn char(&self) -> char {
        match self {
            Piece::Raw(c) | Piece::Short(c) | Piece::Unicode(c, _) => *c,
        }
    }
}

fn decoded(pieces: &[Piece]) -> String {
    pieces.iter().map(Piece::char).collect()
}

fn any_text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        2 => any::<char>(),
        1 => select(vec![
            '"', '\\', '/', '\u{0}', '\u{1f}', '\u{7f}', 'é', '€', '😀', '\u{2028}',
            '\u{FEFF}',
        ]),
    ]
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        6 => any_text_char().prop_map(Piece::Raw),
        1 => select(vec!['"', '\\', '/', '\u{8}', '\u{c}', '\n', '\r', '\t'])
            .prop_map(Piece::Short),
        2 => (any_text_char(), any::<bool>()).prop_map(|(c, upper)| Piece::Unicode(c, upper)),
    ]
}

fn string_pieces(max: usize) -> impl Strategy<Value = Vec<Piece>> {
    prop::collection::vec(piece(), 0..max)
}

fn write_string(pieces: &[Piece], out: &mut String) {
    out.push('"');
    for p in pieces {
        match *p {
            Piece::Raw(c) if c == '"' || c == '\\' || c < ' ' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            Piece::Raw(c) => out.push(c),
            Piece::Short(c) => out.push_str(match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '/' => "\\/",
                '\u{8}' => "\\b",
                '\u{c}' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                _ => "\\t",
            }),
            Piece::Unicode(c, upper) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    if upper {
                        out.push_str(&format!("\\u{unit:04X}"));
                    } else {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
        }
    }
    out.push('"');
}

/// JSON number tokens: big integers, trailing zeros, every exponent form.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => re("-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?"),
        1 => select(vec![
            "1.50", "1E+2", "2.5e-3", "1e3", "1E3", "1e+2", "-0", "0.0", "-0.0e0",
            "123456789012345678901234567890", "1e400", "-1E-400", "18446744073709551616",
        ])
        .prop_map(String::from),
    ]
}

#[derive(Debug, Clone)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(Vec<Piece>),
    Arr(Vec<Json>),
    /// Keys are distinct once decoded.
    Obj(Vec<(Vec<Piece>, Json)>),
}

/// Members with a key seen before are dropped: a JSON object with a repeated key keeps
/// only one value, and its numbers would not reach the output.
fn distinct(members: Vec<(Vec<Piece>, Json)>) -> Vec<(Vec<Piece>, Json)> {
    let mut seen = std::collections::HashSet::new();
    members
        .into_iter()
        .filter(|(k, _)| seen.insert(decoded(k)))
        .collect()
}

fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        1 => Just(Json::Null),
        1 => any::<bool>().prop_map(Json::Bool),
        3 => number().prop_map(Json::Num),
        3 => string_pieces(12).prop_map(Json::Str),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Arr),
            prop::collection::vec((string_pieces(8), inner), 0..5)
                .prop_map(|m| Json::Obj(distinct(m))),
        ]
    })
}

/// Whitespace between tokens: none, one space, or a mix of the four JSON allows.
fn spacing() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), Just(" ".into()), re("[ \t\r\n]{1,3}")]
}

/// Writes `j` with `ws` around every token; each number token goes to `numbers`.
fn write_json(j: &Json, ws: &str, out: &mut String, numbers: &mut Vec<String>) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Num(n) => {
            out.push_str(n);
            numbers.push(n.clone());
        }
        Json::Str(s) => write_string(s, out),
        Json::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(ws);
                write_json(item, ws, out, numbers);
                out.push_str(ws);
            }
            out.push(']');
        }
        Json::Obj(members) => write_members(members, ws, out, numbers),
    }
}

fn write_members(
    members: &[(Vec<Piece>, Json)],
    ws: &str,
    out: &mut String,
    nums: &mut Vec<String>,
) {
    out.push('{');
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(ws);
        write_string(k, out);
        out.push_str(ws);
        out.push(':');
        out.push_str(ws);
        write_json(v, ws, out, nums);
        out.push_str(ws);
    }
    out.push('}');
}

fn key(name: &str) -> Vec<Piece> {
    name.chars().map(Piece::Raw).collect()
}

/// A value that `required_string` accepts: a string that is not blank.
fn usable_string() -> impl Strategy<Value = Vec<Piece>> {
    string_pieces(24).prop_filter("blank", |p| !decoded(p).trim().is_empty())
}

/// A token document's members: other fields around a usable `name` (when given) at
/// any position; top-level keys are distinct.
fn members_with(name: Option<&'static str>) -> impl Strategy<Value = Vec<(Vec<Piece>, Json)>> {
    (
        prop::collection::vec((string_pieces(10), json()), 0..6),
        usable_string(),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(others, value, at)| {
            let mut members: Vec<_> = distinct(others)
                .into_iter()
                .filter(|(k, _)| Some(decoded(k).as_str()) != name)
                .collect();
            if let Some(name) = name {
                members.insert(at.index(members.len() + 1), (key(name), Json::Str(value)));
            }
            members
        })
}

/// A token file's text and its number tokens in order: optional BOM, spacing around.
fn token_file() -> impl Strategy<Value = (String, Vec<String>)> {
    (
        members_with(Some("refresh_token")),
        spacing(),
        any::<bool>(),
        spacing(),
    )
        .prop_map(|(members, ws, bom, outer)| {
            let mut text = String::new();
            if bom {
                text.push('\u{FEFF}');
            }
            text.push_str(&outer);
            let mut numbers = Vec::new();
            write_members(&members, &ws, &mut text, &mut numbers);
            text.push_str(&outer);
            (text, numbers)
        })
}

/// The number tokens of JSON text, in order (strings skipped).
fn number_tokens(text: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                i += 1;
                while text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < text.len()
                    && matches!(text[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                found.push(String::from_utf8_lossy(&text[start..i]).into_owned());
            }
            _ => i += 1,
        }
    }
    found
}

proptest! {
    #![proptest_config(config())]

    /// Parse, save, parse: the same document, every number spelled as it came, and the
    /// saved text is the printer's fixed point (saving it again changes no byte).
    #[test]
    fn token_file_round_trip((text, numbers) in token_file()) {
        let doc = parse(text.as_bytes()).map_err(TestCaseError::fail)?;
        let saved = to_file_text(&doc, &[text.as_bytes()]);
        prop_assert!(text.len() < 64 * 1024, "a small input");
        prop_assert!(saved.len() as u64 <= MAX_FILE, "{} bytes", saved.len());
        prop_assert!(saved.starts_with(b"{") && saved.ends_with(b"}\n"), "pretty, then a newline");
        let again = parse(&saved).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&again, &doc);
        let (kept, read) = (refresh_token(&again), refresh_token(&doc));
        let (kept, read) = (kept.map_err(TestCaseError::fail)?, read.map_err(TestCaseError::fail)?);
        prop_assert_eq!(kept.expose(), read.expose());
        prop_assert_eq!(number_tokens(&saved), numbers);
        prop_assert_eq!(to_file_text(&again, &[&saved]), saved);
    }

    /// The save after a refresh: the file's numbers then the answer's new fields' numbers,
    /// each spelled as its source did. Top-level keys of the two are distinct here: when
    /// the answer replaces a number with an exponent, its spelling can go to another
    /// number of equal value (`1E5` for a kept `1e5`): the same JSON, not the same text.
    #[test]
    fn merged_save_keeps_both_sources_numbers(
        file in members_with(Some("refresh_token")),
        answer in members_with(Some("access_token")),
        ws in spacing(),
    ) {
        let file_keys: Vec<String> = file.iter().map(|(k, _)| decoded(k)).collect();
        let answer: Vec<_> = answer
            .into_iter()
            .filter(|(k, _)| {
                let k = decoded(k);
                k == "access_token"
                    || (k != "refresh_token" && k != "issued_at" && !file_keys.contains(&k))
            })
            .collect();
        // The answer's access_token replaces the file's, and merge stamps issued_at.
        let file: Vec<_> = file
            .into_iter()
            .filter(|(k, _)| !["access_token", "issued_at"].contains(&decoded(k).as_str()))
            .collect();
        let (mut file_text, mut answer_text) = (String::new(), String::new());
        let mut numbers = Vec::new();
        write_members(&file, &ws, &mut file_text, &mut numbers);
        write_members(&answer, &ws, &mut answer_text, &mut numbers);
        let mut doc = token::parse(file_text.as_bytes()).map_err(TestCaseError::fail)?;
        let got = token::check_answer(answer_text.as_bytes()).map_err(TestCaseError::fail)?;
        merge(&mut doc, got, 1_700_000_000_000);
        let saved = to_file_text(&doc, &[file_text.as_bytes(), answer_text.as_bytes()]);
        prop_assert_eq!(number_tokens(&saved), numbers);
    }
}

// ---- merge ----

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec![
            "access_token", "refresh_token", "instance_url", "id", "issued_at",
            "signature", "scope", "token_type", "a", "b",
        ])
        .prop_map(String::from),
        1 => re("[a-z_]{1,8}"),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        re("[a-zA-Z0-9 ]{0,10}").prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((re("[a-z]{1,3}"), inner), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn fields() -> impl Strategy<Value = Doc> {
    prop::collection::vec((field_name(), value()), 0..8).prop_map(|m| m.into_iter().collect())
}

/// How an answer carries a refresh token: not at all, the file's one again, a new one.
#[derive(Debug, Clone)]
enum Rotation {
    None,
    Same,
    New(String),
}

fn rotation() -> impl Strategy<Value = Rotation> {
    prop_oneof![
        Just(Rotation::None),
        Just(Rotation::Same),
        re("[A-Za-z0-9.!]{1,20}").prop_map(Rotation::New),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn merge_takes_the_answer_and_keeps_the_rest(
        mut doc in fields(),
        rt in re("[A-Za-z0-9.!]{1,20}"),
        mut answer in fields(),
        rotation in rotation(),
        now in any::<u64>(),
    ) {
        doc.insert("refresh_token".into(), Value::from(rt.clone()));
        match rotation {
            Rotation::None => {
                answer.shift_remove("refresh_token");
            }
            Rotation::Same => {
                answer.insert("refresh_token".into(), Value::from(rt));
            }
            Rotation::New(new) => {
                answer.insert("refresh_token".into(), Value::from(new));
            }
        }
        let before = doc.clone();
        let merged = merge(&mut doc, answer.clone(), now);

        for (k, v) in &answer {
            prop_assert_eq!(doc.get(k), Some(v), "answer's {}", k);
        }
        for (k, v) in &before {
            if !answer.contains_key(k) && k != "issued_at" {
                prop_assert_eq!(doc.get(k), Some(v), "file's {}", k);
            }
        }
        let issued_at = answer
            .get("issued_at")
            .cloned()
            .unwrap_or_else(|| Value::from(now.to_string()));
        prop_assert_eq!(doc.get("issued_at"), Some(&issued_at));

        // The file's keys in their order, then the answer's new ones in theirs, then
        // issued_at when neither had it.
        let mut order: Vec<&String> = before.keys().collect();
        order.extend(answer.keys().filter(|k| !before.contains_key(*k)));
        let stamp = "issued_at".to_string();
        if !order.contains(&&stamp) {
            order.push(&stamp);
        }
        prop_assert_eq!(doc.keys().collect::<Vec<_>>(), order);

        let expected_rt = answer.get("refresh_token").or(before.get("refresh_token"));
        prop_assert_eq!(doc.get("refresh_token"), expected_rt);
        let changed = doc.get("refresh_token") != before.get("refresh_token");
        prop_assert_eq!(merged.rotated, changed);
        if !answer.contains_key("refresh_token") {
            prop_assert!(!merged.rotated);
        }
    }
}

// ---- sanitising and redaction ----

/// Unicode's format characters (general category Cf, Unicode 15.1), written out here
/// apart from the code under test: bidi marks, overrides and isolates, zero-width
/// characters, tags, and the rest that change or hide text without showing.
const FORMAT: &[(char, char)] = &[
    ('\u{AD}', '\u{AD}'),
    ('\u{600}', '\u{605}'),
    ('\u{61C}', '\u{61C}'),
    ('\u{6DD}', '\u{6DD}'),
    ('\u{70F}', '\u{70F}'),
    ('\u{890}', '\u{891}'),
    ('\u{8E2}', '\u{8E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

fn is_format(c: char) -> bool {
    FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Text a hostile or broken server might send: mostly printable, with controls,
/// every kind of whitespace and format characters mixed in.
fn server_char() -> impl Strategy<Value = char> {
    let format = select(FORMAT.to_vec()).prop_flat_map(|(lo, hi)| proptest::char::range(lo, hi));
    prop_oneof![
        8 => proptest::char::range(' ', '~'),
        2 => any::<char>(),
        1 => proptest::char::range('\u{0}', '\u{1F}'),
        1 => proptest::char::range('\u{7F}', '\u{9F}'),
        1 => select(vec![
            ' ', '\t', '\n', '\r', '\u{B}', '\u{C}', '\u{85}', '\u{A0}', '\u{2028}', '\u{3000}',
        ]),
        1 => format,
    ]
}

fn server_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(server_char(), 0..max).prop_map(|cs| cs.into_iter().collect())
}

/// `%2F` → `%2f`, as some servers echo percent-encoding.
fn lower_percent(form: &str) -> String {
    let mut out = String::new();
    let mut after = 0u8;
    for c in form.chars() {
        out.push(if after > 0 { c.to_ascii_lowercase() } else { c });
        after = if c == '%' { 2 } else { after.saturating_sub(1) };
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sanitized_text_is_safe_to_show(text in server_text(700)) {
        let s = sanitize(&text);
        prop_assert!(s.chars().count() <= MAX_SHOWN + 1, "{} chars", s.chars().count());
        for c in s.chars() {
            prop_assert!(!c.is_control() && !is_format(c), "{:?} in {:?}", c, s);
            prop_assert!(c == ' ' || !c.is_whitespace(), "{:?} in {:?}", c, s);
        }
        prop_assert_eq!(s.trim(), s.as_str());
        prop_assert!(!s.contains("  "), "{:?}", s);
        // Past MAX_SHOWN characters only by the ellipsis of a cut.
        prop_assert!(s.chars().count() <= MAX_SHOWN || s.ends_with('…'), "{:?}", s);
    }

    /// Plain text that needs no cleaning is shown as it is.
    #[test]
    fn plain_text_is_shown_unchanged(words in prop::collection::vec(re("[!-~]{1,12}"), 0..20)) {
        let text = words.join(" ");
        prop_assume!(text.chars().count() <= MAX_SHOWN);
        prop_assert_eq!(sanitize(&text), text);
    }

    /// A known secret never shows in any spelling a server may echo it in, whatever
    /// is around it: including text made of pieces of the secret and characters
    /// that sanitising removes or folds.
    #[test]
    fn secrets_never_show(
        secret in re("[A-Za-z0-9/+=&%!. ]{4,40}"),
        before in server_text(40),
        after in server_text(40),
        glue in prop::collection::vec(
            select(vec!["", " ", "\n", "\t", "\u{7}", "\u{1b}", "\u{200B}", "\u{AD}", "\u{202E}"]),
            1..4,
        ),
        spelling in 0..5usize,
        twice in any::<bool>(),
    ) {
        prop_assume!(!secret.trim().is_empty());
        let form = crate::form::form_encode(&secret);
        let spellings = [
            secret.clone(),
            form.clone(),
            lower_percent(&form),
            form.replace('+', "%20"),
            secret.replace('/', "\\/"),
        ];
        // The echo, and around it the secret cut in two with `glue` between.
        let cut = secret.len() / 2;
        let split = format!("{}{}{}", &secret[..cut], glue.concat(), &secret[cut..]);
        let mut text = format!("{before}{}{after}", spellings[spelling]);
        if twice {
            text = format!("{split}{text}{split}");
        }
        let mut r = Redactor::default();
        r.add_str(&secret);
        let shown = r.show(&text);
        // "[redacted]" itself may hold a "secret" such as "dact": look between them.
        for part in shown.split("[redacted]") {
            for s in &spellings[..3] {
                prop_assert!(
                    !part.contains(s.as_str()),
                    "{:?} shows {:?} from {:?}", shown, s, text
                );
            }
        }
        prop_assert!(shown.contains("[redacted]") || shown.chars().count() == MAX_SHOWN + 1);
    }
}

// ---- answer classification ----

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        json().prop_map(|j| {
            let mut text = String::new();
            write_json(&j, "", &mut text, &mut Vec::new());
            text.into_bytes()
        }),
        (usable_string(), prop::option::of(string_pieces(6))).prop_map(|(access, refresh)| {
            let mut members = vec![(key("access_token"), Json::Str(access))];
            if let Some(r) = refresh {
                members.push((key("refresh_token"), Json::Str(r)));
            }
            let mut text = String::new();
            write_members(&members, "", &mut text, &mut Vec::new());
            text.into_bytes()
        }),
        (re("[a-z_]{0,20}"), re("[ -~]{0,40}")).prop_map(|(e, d)| {
            serde_json::json!({"error": e, "error_description": d})
                .to_string()
                .into_bytes()
        }),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => select(vec![
            200u16, 200, 301, 302, 400, 401, 403, 404, 405, 407, 429, 500, 502, 503, 504,
        ]),
        1 => 100u16..600,
        1 => any::<u16>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn classification_never_panics_and_a_200_is_never_sent_again(
        status in status(),
        body in body(),
        cut in 0..4u8,
        html in any::<bool>(),
        location in prop::option::of(re("[ -~]{0,30}")),
        retry in prop::option::of(0u64..100_000),
    ) {
        let head = Head {
            status,
            location: location.as_deref(),
            retry_after: retry.map(Duration::from_secs),
            html,
        };
        let usable = token::check_answer(&body).is_ok();
        let body = match cut {
            0 => Err(BodyError::TooLarge),
            1 => Err(BodyError::Timeout),
            2 => Err(BodyError::Broken("connection reset".into())),
            _ => Ok(body),
        };
        let complete = body.is_ok();
        match classify(&head, body, &Redactor::default()) {
            Outcome::Done(_) => prop_assert!(status == 200 && complete && usable),
            Outcome::Failed { failure, keep } => {
                prop_assert!(!(status == 200 && complete && usable), "{:?}", failure);
                if status == 200 {
                    prop_assert!(!failure.retryable(), "{:?}", failure);
                }
                if keep.is_some() {
                    prop_assert_eq!(status, 200);
                }
            }
        }
    }
}

// ---- NO_PROXY and proxy URLs ----

fn label() -> impl Strategy<Value = String> {
    re("[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?")
}

fn host_name() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..4).prop_map(|l| l.join("."))
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => host_name(),
        1 => any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
        1 => any::<std::net::Ipv6Addr>().prop_map(|ip| ip.to_string()),
        1 => any::<std::net::Ipv6Addr>().prop_map(|ip| format!("[{ip}]")),
    ]
}

fn no_proxy_list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            host(),
            re("[ -~]{0,12}"),
            Just(".example.com".to_string()),
            Just("10.0.0.0/8".to_string())
        ],
        0..5,
    )
}

/// Every byte but the unreserved ones as `%XX`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_star_matches_every_host(
        h in prop_oneof![host(), any::<String>()],
        list in no_proxy_list(),
        at in any::<prop::sample::Index>(),
    ) {
        prop_assert!(no_proxy_matches("*", &h));
        let mut list = list;
        list.insert(at.index(list.len() + 1), "*".into());
        prop_assert!(no_proxy_matches(&list.join(","), &h));
    }

    #[test]
    fn a_host_matches_itself_and_its_subdomains_only(
        h in host(),
        sub in label(),
        list in no_proxy_list(),
        sep in select(vec![",", " ", ", ", "\t"]),
    ) {
        prop_assert!(no_proxy_matches(&h, &h));
        prop_assert!(no_proxy_matches(&h.to_ascii_uppercase(), &h));
        let mut with = list.clone();
        with.push(h.clone());
        prop_assert!(no_proxy_matches(&with.join(sep), &h));
        let is_ip = |name: &str| name.parse::<std::net::IpAddr>().is_ok();
        if !h.contains(':') && !is_ip(&h) {
            let (subdomain, dotted, starred, rooted, longer) = (
                format!("{sub}.{h}"),
                format!(".{h}"),
                format!("*.{h}"),
                format!("{h}."),
                format!("{sub}{h}"),
            );
            // All-digit labels can make a name an IPv4 address: "0.0.0" and "0".
            prop_assume!(!is_ip(&subdomain) && !is_ip(&longer));
            prop_assert!(no_proxy_matches(&h, &subdomain));
            prop_assert!(no_proxy_matches(&dotted, &subdomain));
            prop_assert!(no_proxy_matches(&starred, &h));
            prop_assert!(no_proxy_matches(&rooted, &h));
            prop_assert!(no_proxy_matches(&h, &rooted));
            // A longer name that merely ends the same is another host.
            prop_assert!(!no_proxy_matches(&h, &longer));
        }
    }

    #[test]
    fn proxy_credentials_never_show(
        user in re("[^:@%]{1,12}"),
        // Percent-encoded, anything goes; raw, no `%` (that starts an escape).
        (password, encode) in prop_oneof![
            any::<String>().prop_map(|p| (p, true)),
            any::<String>().prop_map(|p| (p.replace('%', ""), false)),
        ],
        host in host()
            .prop_filter("a bare IPv6 address", |h| !h.contains(':') || h.starts_with('[')),
        port in 1u16..,
        scheme in select(vec!["http://", "HTTP://", ""]),
        path in select(vec!["", "/", "/x?y#z"]),
    ) {
        // Without a scheme, the first `://` is taken for the scheme's end.
        prop_assume!(encode || !scheme.is_empty() || !format!(":{password}").contains("://"));
        let shown_pw = if encode { percent_encode(&password) } else { password.clone() };
        let url = format!("{scheme}{}:{shown_pw}@{host}:{port}{path}", percent_encode(&user));
        let p = ProxyUrl::parse(&url, "test")
            .map_err(|e| TestCaseError::fail(format!("{url:?}: {e}")))?;
        prop_assert_eq!(p.shown(), format!("http://***@{host}:{port}"));
        prop_assert_eq!(p.password.as_ref().map(|s| s.expose()), Some(password.as_str()));
        prop_assert_eq!(p.user.as_ref().map(|s| s.expose()), Some(user.as_str()));
        prop_assert_eq!(p.port, port);
    }
}

// ---- the fuzz entry points ----

/// Each fuzz target's committed seeds (fuzz/corpus/), through the same entry point
/// `cargo fuzz` calls, and its crashes once fixed: so `cargo test` runs them too.
#[test]
fn fuzz_entry_points_take_their_seeds() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 3] = [
        ("token_file", crate::fuzz::token_file),
        ("answer", crate::fuzz::answer),
        ("no_proxy", crate::fuzz::proxy),
    ];
    for (name, target) in targets {
        let mut seeds = 0;
        for entry in std::fs::read_dir(corpus.join(name)).expect("fuzz/corpus/<target>") {
            let path = entry.expect("a corpus entry").path();
            target(&std::fs::read(&path).expect("a seed"));
            seeds += 1;
        }
        assert!(seeds >= 3, "{name}: {seeds} seeds");
    }
}
