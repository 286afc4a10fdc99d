//! `sfrefresh status [OPTIONS] TOKEN_FILE…`: what each token file holds and where it
//! stands, read without the lock and without sending anything; with `--check`, one GET
//! that proves the access token works. Never a refresh, never a write.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::answer::{self, BodyError, Failure, Head, Outcome};

use crate::clock::{human, now_ms};
use crate::endpoint;
use crate::error::Kind;
use crate::error::{Error, most_serious};
use crate::oauth::Call;
use crate::print::usable_token;
use crate::report::{Redactor, io_words, sanitize, say};
use crate::secret::Secret;
use crate::session::Common;
use crate::session::Session;
use crate::store::{self, Location};
use crate::token::{self, Doc};

/// `sfrefresh status [OPTIONS] TOKEN_FILE…`, checked.
pub(crate) struct StatusArgs {
    pub(crate) files: Vec<Location>,
    /// The endpoint options (to show the endpoint a refresh would use) and, for
    /// `--check`, how to reach the server.
    pub(crate) common: Common,
    pub(crate) if_older_than: Option<Duration>,
    pub(crate) json: bool,
    pub(crate) check: bool,
    /// `--userinfo-url`, checked; `None` checks with the token file's `id`.
    pub(crate) userinfo_url: Option<String>,
}

/// A token unused this long is close to the 30 days after which Salesforce's usual
/// policy ("expire refresh token if not used for 30 days") revokes it.
const IDLE_WARNING: Duration = Duration::from_secs(25 * 86_400);

pub(crate) fn run(args: &StatusArgs) -> Result<(), Error> {
    let mut worst = 0;
    let mut shown = 0;
    for path in &args.files {
        let (facts, errors) = examine(args, path);
        errors
            .iter()
            .for_each(|e| crate::report_error(Some(&facts.file), e));
        if facts.idle {
            say(format_args!(
                "warning: token file {}: last refreshed {} ago; Salesforce's usual policy \
                 revokes refresh tokens unused for 30 days: refresh it soon, and at least \
                 weekly from now on",
                facts.file,
                facts.age.map(human).unwrap_or_default()
            ));
        }
        let code = errors.iter().map(Error::exit_code).fold(0, most_serious);
        worst = most_serious(worst, code);
        // Text: a block for each file that could be read, a blank line between blocks.
        let text = match (args.json, facts.read) {
            (true, _) => json_line(args, &facts, &errors, code),
            (false, true) if shown > 0 => format!("\n{}", text_block(args, &facts)),
            (false, true) => text_block(args, &facts),
            (false, false) => continue,
        };
        shown += 1;
        if !write_out(text.as_bytes())? {
            break;
        }
    }
    match worst {
        0 => Ok(()),
        code => Err(Error::reported(code)),
    }
}

/// Writes to stdout; false when the reader went away (`| head`), which ends the report
/// quietly. Any other failure is exit 3.
fn write_out(bytes: &[u8]) -> Result<bool, Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Error::output(format!(
            "the status could not be written to stdout: {}",
            io_words(&e)
        ))),
    }
}

/// What is known about one token file; `read` is false when it could not be read.
#[derive(Default)]
struct Facts {
    file: String,
    read: bool,
    instance_url: Option<String>,
    api_instance_url: Option<String>,
    issued_at_ms: Option<u64>,
    age: Option<Duration>,
    access_token: bool,
    refresh_token: bool,
    endpoint: Option<(String, &'static str)>,
    /// With `--if-older-than`: the age when fresh, or why a refresh is due.
    due: Option<Result<Duration, String>>,
    idle: bool,
    checked: Option<Checked>,
}

/// The outcome of `--check`.
struct Checked {
    url: String,
    verdict: &'static str,
    status: Option<u16>,
    user: Option<String>,
}

/// Reads one file and finds out what there is to say; every problem is an error with
/// its exit code, the file's code being the most serious (`error::SEVERITY`).
fn examine(args: &StatusArgs, location: &Location) -> (Facts, Vec<Error>) {
    let mut facts = Facts {
        file: location.shown(),
        ..Facts::default()
    };
    let mut errors = Vec::new();
    let c = &args.common;
    let read = store::read_unlocked(location, c.reach(), c.timeout);
    let doc = match read.and_then(|bytes| {
        token::parse_object(&bytes).map_err(|p| Error::token_file(&facts.file, p))
    }) {
        Ok(doc) => doc,
        Err(e) => return (facts, vec![e]),
    };
    facts.read = true;
    let text = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_string);
    facts.instance_url = text("instance_url");
    facts.api_instance_url = text("api_instance_url");
    let now = now_ms();
    facts.issued_at_ms = token::issued_at_ms(&doc);
    facts.age = token::age(&doc, now);
    facts.access_token = token::access_token(&doc).is_ok();
    facts.idle = facts.age.is_some_and(|a| a > IDLE_WARNING);
    // A file that login made with a grant that mints (JWT bearer, client credentials)
    // has no refresh token by design: a refresh mints again.
    let mints = doc
        .get(crate::grant::GRANT)
        .and_then(Value::as_str)
        .is_some_and(|g| g != "refresh-token");
    match token::refresh_token(&doc) {
        Ok(_) => facts.refresh_token = true,
        Err(_) if mints => {}
        Err(p) => errors.push(Error::token_file(
            &facts.file,
            format!("{p}, so it cannot be refreshed"),
        )),
    }
    match endpoint::choose(&args.common.endpoints, &doc) {
        Ok(e) => facts.endpoint = Some((e.url, e.source)),
        Err(e) => errors.push(e),
    }
    facts.due = args.if_older_than.map(|limit| token::due(&doc, limit, now));
    if args.check {
        let (checked, problem) = check(args, &facts.file, &doc);
        facts.checked = checked;
        errors.extend(problem);
    }
    (facts, errors)
}

fn text_block(args: &StatusArgs, f: &Facts) -> String {
    let mut out = format!("{}\n", f.file);
    let mut line = |label: &str, value: String| {
        out.push_str(&format!("  {label:<14} {value}\n"));
    };
    let shown = |v: &Option<String>| v.as_deref().map_or("none".into(), sanitize);
    line("instance URL:", shown(&f.instance_url));
    if f.api_instance_url.is_some() {
        line("API instance:", shown(&f.api_instance_url));
    }
    line("issued at:", issued(f));
    let present = |yes: bool| if yes { "present" } else { "absent" }.to_string();
    line("access token:", present(f.access_token));
    line("refresh token:", present(f.refresh_token));
    if let Some((url, source)) = &f.endpoint {
        line("refreshes at:", format!("{url} (from {source})"));
    }
    match &f.due {
        Some(Ok(age)) => line(
            "refresh now:",
            format!(
                "no: issued {} ago, younger than --if-older-than {}",
                human(*age),
                args.if_older_than.map(human).unwrap_or_default()
            ),
        ),
        Some(Err(why)) => line("refresh now:", format!("yes: {why}")),
        None => {}
    }
    if let Some(c) = &f.checked {
        let status = c
            .status
            .map(|s| format!("HTTP {s} from "))
            .unwrap_or_default();
        let user = c
            .user
            .as_deref()
            .map(|u| format!(", user {u}"))
            .unwrap_or_default();
        let verdict = match c.verdict {
            "valid" => "the access token works",
            "invalid" => "the access token is invalid",
            _ => "cannot tell",
        };
        line("check:", format!("{verdict} ({status}{}{user})", c.url));
    }
    out
}

/// `2026-11-23 14:02:11 +0100 (12m ago)`.
fn issued(f: &Facts) -> String {
    match (f.issued_at_ms, f.age) {
        (None, _) => "unknown (no usable issued_at)".into(),
        (Some(ms), Some(age)) => format!("{} ({} ago)", local_time(ms), human(age)),
        (Some(ms), None) => format!(
            "{} (in the future: check the clock; a refresh does not trust it)",
            local_time(ms)
        ),
    }
}

/// One JSON object per file on one line; never a token, not even part of one.
fn json_line(args: &StatusArgs, f: &Facts, errors: &[Error], code: u8) -> String {
    let read = |v: bool| if f.read { json!(v) } else { Value::Null };
    let value = json!({
        "file": f.file,
        "exit_code": code,
        "errors": errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "instance_url": f.instance_url,
        "api_instance_url": f.api_instance_url,
        "issued_at": f.issued_at_ms,
        "issued_at_local": f.issued_at_ms.map(local_time),
        "age_seconds": f.age.map(|a| a.as_secs()),
        "access_token": read(f.access_token),
        "refresh_token": read(f.refresh_token),
        "endpoint": f.endpoint.as_ref().map(|e| e.0.clone()),
        "endpoint_source": f.endpoint.as_ref().map(|e| e.1),
        "if_older_than_seconds": args.if_older_than.map(|d| d.as_secs()),
        "would_refresh": f.due.as_ref().map(Result::is_err),
        "idle_warning": f.idle,
        "check": f.checked.as_ref().map(|c| json!({
            "url": c.url,
            "result": c.verdict,
            "http_status": c.status,
            "user": c.user,
        })),
    });
    format!("{value}\n")
}

/// What the identity URL said, before it becomes facts and errors.
enum Seen {
    Valid { user: Option<String> },
    Invalid { status: u16, detail: String },
    Unexpected { status: u16, detail: String },
}

/// `--check`: GET the identity URL (the file's `id`, or `--userinfo-url`) with the
/// access token as a bearer token. A GET changes nothing, so retrying it is safe. What
/// was found (when something was sent), and the problem, if any.
fn check(args: &StatusArgs, file: &str, doc: &Doc) -> (Option<Checked>, Option<Error>) {
    let url = match &args.userinfo_url {
        Some(u) => u.clone(),
        None => match identity_url(file, doc) {
            Ok(u) => u,
            Err(e) => return (None, Some(e)),
        },
    };
    let seen = match usable_token(doc, "sent") {
        Ok(token) => ask(args, file, &url, &token, doc),
        Err(p) => Err(Error::token_file(file, format!("cannot be checked: {p}"))),
    };
    let checked = |verdict, status, user| {
        Some(Checked {
            url: url.clone(),
            verdict,
            status,
            user,
        })
    };
    match seen {
        Ok(Seen::Valid { user }) => (checked("valid", Some(200), user), None),
        Ok(Seen::Invalid { status, detail }) => (
            checked("invalid", Some(status), None),
            Some(
                Error::refused(
                    format!(
                        "{url} answered HTTP {status}: the access token is invalid{}",
                        paren(&detail)
                    ),
                    None,
                )
                .hinted(
                    "refresh the token file (sfrefresh TOKEN_FILE); if that is refused too, \
                     authorise again",
                ),
            ),
        ),
        Ok(Seen::Unexpected { status, detail }) => (
            checked("unknown", Some(status), None),
            Some(
                Error::network(format!(
                    "{url} answered HTTP {status}: neither 200 (the token works) nor 401/403 \
                     (it does not), so the check cannot tell{}",
                    paren(&detail)
                ))
                .hinted(
                    "check the identity URL: the token file's \"id\" (Salesforce), or \
                     --userinfo-url (the OpenID Connect userinfo endpoint of other servers)",
                ),
            ),
        ),
        Err(e) if matches!(e.kind(), Kind::Usage | Kind::TokenFile) => (None, Some(e)),
        Err(e) => (checked("unknown", None, None), Some(e)),
    }
}

/// The GET itself, with every secret of the run redacted from what the server says.
fn ask(args: &StatusArgs, file: &str, url: &str, token: &Secret, doc: &Doc) -> Result<Seen, Error> {
    let c = &args.common;
    let uri = endpoint::check(url, "the identity URL")?;
    let mut session = Session::new(c, Instant::now() + c.timeout, Some(file));
    let route = session.route(&uri)?;
    session.hide_tokens(doc);
    let http = session.agent(&route);
    let call = Call {
        url,
        proxy: route.proxy_shown(),
        form: None,
        authorization: Some(Secret::new(format!("Bearer {}", token.expose()))),
        auth: "the access token as a bearer token",
    };
    session.send(&http, &call, classify).map_err(|f| *f.error)
}

/// The file's `id`: Salesforce's identity URL, which answers the token's owner.
fn identity_url(file: &str, doc: &Doc) -> Result<String, Error> {
    match doc.get("id").and_then(Value::as_str) {
        Some(id) => {
            endpoint::check(id, "its \"id\"")
                .map_err(|e| Error::token_file(file, format!("cannot be checked: {e}")))?;
            Ok(id.to_string())
        }
        None => Err(Error::usage(format!(
            "cannot check {file}: it has no \"id\" (Salesforce's identity URL); for other \
             servers give their OpenID Connect userinfo endpoint with --userinfo-url"
        ))),
    }
}

fn paren(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

/// 200: the token works; 401 or 403: the server says it does not (Salesforce answers
/// 403 `Bad_OAuth_Token`, OpenID Connect servers 401 `invalid_token`); redirects and
/// transient answers as for a token request; anything else settles nothing.
fn classify(head: &Head<'_>, body: Result<Vec<u8>, BodyError>, r: &Redactor) -> Outcome<Seen> {
    let status = head.status;
    let detail = |body: &Result<Vec<u8>, BodyError>| match body {
        Ok(bytes) => match answer::parse_oauth_error(bytes, r) {
            Some(o) => o.to_string(),
            None if head.html => String::new(),
            None => r.show_bytes(bytes),
        },
        Err(_) => String::new(),
    };
    match status {
        200 => {
            let user = body.ok().and_then(|b| user_of(&b, r));
            Outcome::Done(Seen::Valid { user })
        }
        401 | 403 => Outcome::Done(Seen::Invalid {
            status,
            detail: detail(&body),
        }),
        300..=399 | 429 | 500.. => match answer::classify(head, body, r) {
            Outcome::Failed { failure, .. } => failure.into(),
            Outcome::Done(_) => Failure::Unreadable("an unexpected answer".into()).into(),
        },
        _ => Outcome::Done(Seen::Unexpected {
            status,
            detail: detail(&body),
        }),
    }
}

/// Who the token belongs to, as the identity or userinfo answer names them.
fn user_of(body: &[u8], r: &Redactor) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    ["username", "preferred_username", "email", "sub"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(|u| r.show(u))
        .filter(|u| !u.is_empty())
}

/// Epoch milliseconds as local time, `2026-11-23 14:02:11 +0100` (the TZ variable and
/// /etc/localtime as libc reads them; UTC in a scratch container).
fn local_time(ms: u64) -> String {
    // time_t is still libc's name for the type localtime_r takes (the deprecation note
    // on musl announces a change of its width, which try_from follows).
    #[allow(deprecated)]
    let Ok(secs) = libc::time_t::try_from(ms / 1000) else {
        return format!("{ms} ms after 1970");
    };
    let Some(tm) = crate::sys::localtime(secs) else {
        return format!("{ms} ms after 1970");
    };
    let offset = tm.tm_gmtoff;
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}{:02}{:02}",
        i64::from(tm.tm_year) + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        if offset < 0 { '-' } else { '+' },
        offset.abs() / 3600,
        offset.abs() % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_in_utc_has_a_zero_offset() {
        // The test process may have any TZ; in UTC the answer is known exactly.
        if std::env::var("TZ").as_deref() == Ok("UTC") {
            assert_eq!(local_time(1_700_000_000_000), "2023-11-14 22:13:20 +0000");
        }
        let shown = local_time(1_700_000_000_000);
        assert_eq!(shown.len(), "2023-11-14 22:13:20 +0000".len(), "{shown}");
        // Whatever a hostile issued_at says, there is an answer and no panic.
        assert!(!local_time(u64::MAX).is_empty());
    }

    #[test]
    fn identity_answers() {
        let r = Redactor::default();
        let head = |status| Head {
            status,
            location: None,
            retry_after: None,
            html: false,
        };
        let seen = |status, body: &str| classify(&head(status), Ok(body.into()), &r);
        assert!(matches!(
            seen(200, r#"{"username":"a@b.c","sub":"x"}"#),
            Outcome::Done(Seen::Valid { user: Some(u) }) if u == "a@b.c"
        ));
        assert!(matches!(
            seen(200, "not json"),
            Outcome::Done(Seen::Valid { user: None })
        ));
        assert!(matches!(
            seen(403, "Bad_OAuth_Token"),
            Outcome::Done(Seen::Invalid { status: 403, detail }) if detail == "Bad_OAuth_Token"
        ));
        assert!(matches!(
            seen(401, r#"{"error":"invalid_token","error_description":"invalid token provided"}"#),
            Outcome::Done(Seen::Invalid { status: 401, detail })
                if detail == "invalid_token: invalid token provided"
        ));
        assert!(matches!(
            seen(404, ""),
            Outcome::Done(Seen::Unexpected { status: 404, .. })
        ));
        assert!(matches!(
            seen(503, ""),
            Outcome::Failed {
                failure: Failure::Transient { status: 503, .. },
                ..
            }
        ));
        assert!(matches!(
            seen(302, ""),
            Outcome::Failed {
                failure: Failure::Redirect { .. },
                ..
            }
        ));
    }
}
