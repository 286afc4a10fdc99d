//! The device flow, for a box without a browser. Salesforce's form: `response_type=
//! device_code` at the token endpoint, then `grant_type=device` with `code`. Other
//! servers: RFC 8628, a device authorization endpoint (`--device-url`) and the
//! `urn:ietf:params:oauth:grant-type:device_code` grant with `device_code`. The user
//! code and URL go to stderr; polling keeps the server's `interval`, slows down by 5 s
//! on `slow_down`, and stops at `--timeout`.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Talk;
use crate::answer::{self, Answer, BodyError, Failure, Head, Outcome};
use crate::clock::human;
use crate::endpoint::TOKEN_PATH;
use crate::error::Error;
use crate::report::{Redactor, sanitize, say};
use crate::secret::Secret;
use crate::token::{self, Doc};

/// RFC 8628 §3.5's grant type.
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8628 §3.2: without an `interval`, 5 seconds.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: `slow_down` adds 5 seconds to the interval, for good.
const SLOW_DOWN: Duration = Duration::from_secs(5);
/// Bounds on what a server may ask: never hammer it, never wait absurdly long.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MAX_INTERVAL: Duration = Duration::from_secs(300);

/// A device authorization, as the server granted it.
#[derive(Debug)]
pub(super) struct Start {
    pub(super) device_code: Secret,
    pub(super) user_code: String,
    pub(super) verification_uri: String,
    pub(super) complete: Option<String>,
    pub(super) interval: Duration,
}

pub(super) fn run(
    talk: &mut Talk<'_>,
    device_url: Option<&str>,
    scope: Option<&str>,
) -> Result<Answer, Error> {
    let salesforce = device_url.is_none();
    if salesforce && !talk.endpoint.ends_with(TOKEN_PATH) {
        return Err(Error::usage(format!(
            "{} is not a Salesforce token endpoint ({TOKEN_PATH}): give the server's RFC 8628 \
             device authorization endpoint with --device-url",
            talk.endpoint
        )));
    }
    let start_url = device_url.unwrap_or(&talk.endpoint).to_string();
    let mut fields = Vec::new();
    if salesforce {
        fields.push(("response_type", "device_code"));
    }
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    let credentials = &talk.session.common.credentials;
    let answer = talk.post(&start_url, &fields, credentials, classify_start)?;
    let start = parse_start(&answer.doc)
        .map_err(|detail| crate::answer::bad_answer(&start_url, 200, &detail))?;
    talk.session.hide(&start.device_code);
    show(&start, talk);
    let poll = if salesforce {
        [
            ("grant_type", "device"),
            ("code", start.device_code.expose()),
        ]
    } else {
        [
            ("grant_type", DEVICE_GRANT),
            ("device_code", start.device_code.expose()),
        ]
    };
    let mut interval = start.interval;
    loop {
        if Instant::now() + interval >= talk.session.deadline() {
            return Err(not_approved(talk.session.common.timeout));
        }
        thread::sleep(interval);
        let url = talk.endpoint.clone();
        match talk.post(&url, &poll, credentials, answer::classify) {
            Ok(answer) => return Ok(answer),
            Err(e) => match verdict(&e) {
                Poll::Pending => talk
                    .session
                    .common
                    .log
                    .step(format_args!("not approved yet")),
                Poll::SlowDown => {
                    interval = slower(interval);
                    talk.session.common.log.step(format_args!(
                        "the server asked to slow down: polling every {}",
                        human(interval)
                    ));
                }
                Poll::Stop => return Err(e),
            },
        }
    }
}

/// The code and the URL, always shown (even with `-q`: without them there is no login).
fn show(start: &Start, talk: &Talk<'_>) {
    say(format_args!(
        "to log in, open {} and enter the code {}",
        sanitize(&start.verification_uri),
        sanitize(&start.user_code)
    ));
    if let Some(complete) = &start.complete {
        say(format_args!("or open {}", sanitize(complete)));
    }
    let left = talk
        .session
        .deadline()
        .saturating_duration_since(Instant::now());
    talk.session.common.log.wait(format_args!(
        "waiting for the approval, checking every {} for up to {} (Ctrl-C to give up)",
        human(start.interval),
        human(left)
    ));
}

fn not_approved(timeout: Duration) -> Error {
    Error::network(format!(
        "the login was not approved within the {} --timeout; nothing was saved",
        human(timeout)
    ))
    .hinted("run the login again and approve the code sooner, or give a longer --timeout")
}

/// What one poll's failure means to the poller.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Poll {
    /// `authorization_pending`: ask again after the interval.
    Pending,
    /// `slow_down`: ask again, 5 s slower from now on.
    SlowDown,
    /// Anything else ends the login: `access_denied`, `expired_token`, a refusal, an
    /// unreachable server after the retries.
    Stop,
}

pub(super) fn verdict(e: &Error) -> Poll {
    match e.oauth().map(|o| o.error.as_str()) {
        Some("authorization_pending") => Poll::Pending,
        Some("slow_down") => Poll::SlowDown,
        _ => Poll::Stop,
    }
}

fn slower(interval: Duration) -> Duration {
    (interval + SLOW_DOWN).min(MAX_INTERVAL)
}

/// The first answer is not a token: a 200 must be a device authorization; anything
/// else is read as any token endpoint's answer.
fn classify_start(
    head: &Head<'_>,
    body: Result<Vec<u8>, BodyError>,
    redactor: &Redactor,
) -> Outcome {
    match body {
        Ok(raw) if head.status == 200 => {
            match token::parse_object(&raw)
                .map_err(|p| format!("the answer {p}"))
                .and_then(|doc| parse_start(&doc).map(|_| doc))
            {
                Ok(doc) => Outcome::Done(Answer { doc, raw }),
                Err(detail) => Failure::BadAnswer {
                    status: 200,
                    detail,
                }
                .into(),
            }
        }
        body => answer::classify(head, body, redactor),
    }
}

/// RFC 8628 §3.2 (and Salesforce's same fields): `device_code`, `user_code`,
/// `verification_uri` (`verification_url` in some older servers), optional
/// `verification_uri_complete` and `interval` (a number, or a string of one).
pub(super) fn parse_start(doc: &Doc) -> Result<Start, String> {
    let text = |name: &str| -> Option<String> {
        doc.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let need = |name: &str| {
        text(name).ok_or_else(|| format!("the device authorization has no usable \"{name}\""))
    };
    let device_code = Secret::new(need("device_code")?);
    let user_code = need("user_code")?;
    let verification_uri = text("verification_uri")
        .or_else(|| text("verification_url"))
        .ok_or("the device authorization has no usable \"verification_uri\"")?;
    let interval = match doc.get("interval") {
        None | Some(Value::Null) => DEFAULT_INTERVAL,
        Some(v) => {
            let secs = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or("the device authorization's \"interval\" is not a number of seconds")?;
            Duration::from_secs(secs.min(MAX_INTERVAL.as_secs())).max(MIN_INTERVAL)
        }
    };
    Ok(Start {
        device_code,
        user_code,
        verification_uri,
        complete: text("verification_uri_complete"),
        interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OAuthError;

    fn doc(json: &str) -> Doc {
        token::parse_object(json.as_bytes()).unwrap()
    }

    #[test]
    fn salesforce_and_rfc_8628_authorizations() {
        let s = parse_start(&doc(
            r#"{"device_code":"M0RG.x","user_code":"ABCD1234","verification_uri":"https://acme.my.salesforce.com/setup/connect","interval":5}"#,
        ))
        .unwrap();
        assert_eq!(s.device_code.expose(), "M0RG.x");
        assert_eq!(s.user_code, "ABCD1234");
        assert_eq!(s.interval, Duration::from_secs(5));
        assert_eq!(s.complete, None);
        // oidc-provider: no interval (RFC 8628's 5 s), a complete URI.
        let s = parse_start(&doc(
            r#"{"device_code":"d","user_code":"BCDF-GHJK","verification_uri":"http://127.0.0.1:1/device","verification_uri_complete":"http://127.0.0.1:1/device?user_code=BCDF-GHJK","expires_in":600}"#,
        ))
        .unwrap();
        assert_eq!(s.interval, DEFAULT_INTERVAL);
        assert!(s.complete.unwrap().ends_with("BCDF-GHJK"));
        // Older servers: verification_url, interval as a string, clamped.
        let s = parse_start(&doc(
            r#"{"device_code":"d","user_code":"u","verification_url":"https://x/d","interval":"0"}"#,
        ))
        .unwrap();
        assert_eq!(s.verification_uri, "https://x/d");
        assert_eq!(s.interval, MIN_INTERVAL);
        let s = parse_start(&doc(
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://x/d","interval":99999999999999}"#,
        ))
        .unwrap();
        assert_eq!(s.interval, MAX_INTERVAL);
    }

    #[test]
    fn unusable_authorizations_are_named_without_the_device_code() {
        for (json, says) in [
            (
                r#"{"user_code":"u","verification_uri":"v"}"#,
                "\"device_code\"",
            ),
            (
                r#"{"device_code":"secret-dc","verification_uri":"v"}"#,
                "\"user_code\"",
            ),
            (
                r#"{"device_code":"secret-dc","user_code":" "}"#,
                "\"user_code\"",
            ),
            (
                r#"{"device_code":"secret-dc","user_code":"u"}"#,
                "\"verification_uri\"",
            ),
            (
                r#"{"device_code":"secret-dc","user_code":"u","verification_uri":"v","interval":"soon"}"#,
                "\"interval\"",
            ),
        ] {
            let e = parse_start(&doc(json)).unwrap_err();
            assert!(e.contains(says), "{json}: {e}");
            assert!(!e.contains("secret-dc"), "{e}");
        }
    }

    fn refused(error: &str) -> Error {
        Error::refused(
            "u refused the login",
            Some(OAuthError {
                error: error.into(),
                description: None,
            }),
        )
    }

    #[test]
    fn poll_verdicts() {
        assert_eq!(verdict(&refused("authorization_pending")), Poll::Pending);
        assert_eq!(verdict(&refused("slow_down")), Poll::SlowDown);
        for stop in [
            "access_denied",
            "expired_token",
            "invalid_grant",
            "invalid_client",
        ] {
            assert_eq!(verdict(&refused(stop)), Poll::Stop, "{stop}");
        }
        let unreachable = Error::network("cannot reach u: refused (after 3 attempts)");
        assert_eq!(verdict(&unreachable), Poll::Stop);
    }

    #[test]
    fn slow_down_adds_five_seconds_up_to_the_cap() {
        assert_eq!(slower(Duration::from_secs(5)), Duration::from_secs(10));
        assert_eq!(slower(Duration::from_secs(299)), MAX_INTERVAL);
    }

    #[test]
    fn the_start_answer_is_read_as_an_authorization() {
        let head = Head {
            status: 200,
            location: None,
            retry_after: None,
            html: false,
        };
        let ok = br#"{"device_code":"d","user_code":"u","verification_uri":"https://x/d"}"#;
        assert!(matches!(
            classify_start(&head, Ok(ok.to_vec()), &Redactor::default()),
            Outcome::Done(_)
        ));
        let Outcome::Failed { failure, .. } =
            classify_start(&head, Ok(b"{}".to_vec()), &Redactor::default())
        else {
            panic!("an authorization without fields is not usable")
        };
        assert!(matches!(failure, Failure::BadAnswer { .. }));
        let head = Head {
            status: 400,
            ..head
        };
        let body =
            br#"{"error":"invalid_client_id","error_description":"client identifier invalid"}"#;
        let Outcome::Failed { failure, .. } =
            classify_start(&head, Ok(body.to_vec()), &Redactor::default())
        else {
            panic!()
        };
        assert!(matches!(failure, Failure::Refused { .. }));
    }
}
