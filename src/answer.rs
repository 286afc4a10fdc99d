//! What an answer from the token endpoint means: a token, a refusal, something transient
//! worth another try, or something that must not be retried. Pure, so every branch has
//! a unit test and a fuzz target.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::clock::human;
use crate::error::{Error, OAuthError, login_hint, refusal_hint, refusal_words};
use crate::report::Redactor;
use crate::token::{self, Doc};

/// Answers are read up to this many bytes; a larger one is refused and memory stays
/// small. It also bounds what a merge can add to a token file (see `token::MAX_FILE`).
pub(crate) const MAX_ANSWER: u64 = 256 * 1024;

/// A usable token answer and the text it came in (for number spelling on save, and
/// for the rescue file).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) doc: Doc,
    pub(crate) raw: Vec<u8>,
}

/// Why one attempt failed, and so whether it may be sent again: the retry loop's input,
/// not an error. `to_error` words it once, when the URL, the proxy and the attempt
/// count are known.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No answer byte arrived: connect, DNS, write, or the connection dropped first.
    Unreachable(String),
    ProxyUnreachable(String),
    ProxyRefused(u16),
    /// The deadline passed; `answered` tells whether the server had started answering.
    TimedOut {
        answered: bool,
    },
    Tls(String),
    Transient {
        status: u16,
        detail: String,
        after: Option<Duration>,
    },
    Redirect {
        status: u16,
        location: String,
    },
    WrongEndpoint {
        status: u16,
        detail: String,
    },
    Unreadable(String),
    BadAnswer {
        status: u16,
        detail: String,
    },
    Refused {
        status: u16,
        oauth: Option<OAuthError>,
        body: String,
    },
    Usage(String),
}

impl Failure {
    /// May the same request be sent again? Only when the server has not started
    /// answering, or answered with one of the documented transient answers: a server
    /// that rotates refresh tokens revokes the whole family when one is replayed.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            Failure::Unreachable(_) | Failure::ProxyUnreachable(_) | Failure::Transient { .. } => {
                true
            }
            Failure::TimedOut { answered } => !answered,
            // The proxy's own trouble (502, 503, 504) never reached the endpoint; a 407
            // is never repeated: a wrong password tried again can lock an account.
            Failure::ProxyRefused(status) => *status >= 500,
            _ => false,
        }
    }

    /// The server-side wait it asked for (Retry-After).
    pub(crate) fn wait(&self) -> Option<Duration> {
        match self {
            Failure::Transient { after, .. } => *after,
            _ => None,
        }
    }

    /// The error this failure is after `attempts` tries, built once with everything its
    /// message needs: the attempt's own facts, and where the request went.
    pub(crate) fn to_error(&self, at: &Where<'_>, attempts: u32) -> Error {
        let url = at.url;
        let proxy = at.proxy.unwrap_or("the proxy");
        let after = match attempts {
            0 | 1 => String::new(),
            n => format!(" (after {n} attempts)"),
        };
        let colon = |detail: &str| match detail {
            "" => String::new(),
            d => format!(": {d}"),
        };
        match self {
            Failure::Unreachable(detail) => {
                Error::network(format!("cannot reach {url}: {detail}{after}"))
            }
            Failure::ProxyUnreachable(detail) => {
                Error::network(format!("cannot reach the proxy {proxy}: {detail}{after}"))
                    .hinted("check the proxy address, or bypass it with --no-proxy or NO_PROXY")
            }
            Failure::ProxyRefused(407) => {
                Error::network(format!("proxy authentication failed at {proxy} (HTTP 407)")).hinted(
                    "check the proxy user and password (http://user:password@host:port; \
                 percent-encode special characters); it was not retried so a wrong password \
                 cannot lock the account",
                )
            }
            Failure::ProxyRefused(status) => Error::network(format!(
                "the proxy {proxy} refused the connection (HTTP {status}){after}"
            )),
            Failure::TimedOut { .. } => Error::network(format!(
                "no complete answer from {url} within the {} --timeout{after}",
                human(at.timeout)
            )),
            Failure::Tls(detail) => {
                Error::network(format!("TLS failure talking to {url}: {detail}")).hinted(
                    "this is a TLS trust problem: if a proxy or private CA signs the \
                     certificate, pass its PEM file with --cacert (or SSL_CERT_FILE)",
                )
            }
            Failure::Transient { status, detail, .. } => Error::network(format!(
                "{url} answered HTTP {status}{after}{}",
                colon(detail)
            )),
            Failure::Redirect { status, location } => Error::network(format!(
                "{url} answered HTTP {status}, a redirect to {location}"
            ))
            .hinted(
                "redirects are not followed so credentials are never sent elsewhere: \
                 point --token-url at the final endpoint",
            ),
            Failure::WrongEndpoint { status, detail } => Error::network(format!(
                "{url} is not a token endpoint: it answered HTTP {status}{}",
                colon(detail)
            ))
            .hinted(
                "this URL is not an OAuth token endpoint: check --token-url, --login-url \
                 (or SF_TOKEN_URL / SF_LOGIN_URL) and the token file's \"id\"",
            ),
            Failure::Unreadable(detail) => Error::network(format!(
                "{url} answered, but the answer could not be read ({detail}); nothing was \
                 saved, and a server that rotates refresh tokens may already have consumed \
                 the refresh token"
            ))
            .hinted(
                "do not simply run it again if the server rotates refresh tokens: first \
                 check whether the token file still works (a replayed token can revoke the \
                 whole family)",
            ),
            Failure::BadAnswer { status, detail } => bad_answer(url, *status, detail),
            Failure::Refused {
                status,
                oauth,
                body,
            } => {
                let why = refusal_words(oauth.as_ref(), body);
                let (what, hint) = match at.asking {
                    Asking::Refresh => ("refresh", refusal_hint(oauth.as_ref())),
                    Asking::Login => ("login", login_hint(oauth.as_ref())),
                };
                Error::refused(
                    format!("{url} refused the {what} (HTTP {status}){why}"),
                    oauth.clone(),
                )
                .hinted(hint)
            }
            Failure::Usage(m) => Error::usage(m.clone()),
        }
    }
}

/// An answer that cannot be used: a non-200 2xx, or a 200 that is not what was asked.
pub(crate) fn bad_answer(url: &str, status: u16, detail: &str) -> Error {
    Error::network(format!(
        "{url} answered HTTP {status} but {detail}; nothing was saved"
    ))
}

/// What a token request asks for, which a refusal's message and hint follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asking {
    /// A refresh (or a mint) of a token family that exists.
    Refresh,
    /// The first token of a family (`sfrefresh login`).
    Login,
}

/// Where the request went, for the final message.
pub(crate) struct Where<'a> {
    pub(crate) url: &'a str,
    pub(crate) proxy: Option<&'a str>,
    pub(crate) timeout: Duration,
    pub(crate) asking: Asking,
}

/// How reading the body ended, when it did not end well.
#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge,
    Timeout,
    Broken(String),
}

/// The parts of an answer that matter, as they arrived.
pub(crate) struct Head<'a> {
    pub(crate) status: u16,
    pub(crate) location: Option<&'a str>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) html: bool,
}

/// The result of one attempt at a token request.
#[derive(Debug)]
pub(crate) enum Outcome<T = Answer> {
    Done(T),
    /// `keep` is a 200's body that could not be used but may hold a live (rotated)
    /// refresh token: the caller writes it to a rescue file.
    Failed {
        failure: Failure,
        keep: Option<Vec<u8>>,
    },
}

impl<T> From<Failure> for Outcome<T> {
    fn from(failure: Failure) -> Outcome<T> {
        Outcome::Failed {
            failure,
            keep: None,
        }
    }
}

/// What a token endpoint's answer means.
pub(crate) fn classify(
    head: &Head<'_>,
    body: Result<Vec<u8>, BodyError>,
    redactor: &Redactor,
) -> Outcome {
    let status = head.status;
    if status == 200 {
        return match body {
            Ok(raw) => match token::check_answer(&raw) {
                Ok(doc) => Outcome::Done(Answer { doc, raw }),
                Err(detail) => Outcome::Failed {
                    keep: token::carries_refresh_token(&raw).then_some(raw),
                    failure: Failure::BadAnswer { status, detail },
                },
            },
            Err(BodyError::TooLarge) => Failure::BadAnswer {
                status,
                detail: format!("the answer is larger than {} KiB", MAX_ANSWER / 1024),
            }
            .into(),
            // A 200 may already have rotated the token: never sent again.
            Err(BodyError::Timeout) => Failure::TimedOut { answered: true }.into(),
            Err(BodyError::Broken(e)) => Failure::BadAnswer {
                status,
                detail: format!("the body was cut short ({e})"),
            }
            .into(),
        };
    }
    if (300..400).contains(&status) {
        return Failure::Redirect {
            status,
            location: head
                .location
                .map(|l| redactor.show(l))
                .unwrap_or_else(|| "nowhere (no Location header)".into()),
        }
        .into();
    }
    if status < 300 {
        return Failure::BadAnswer {
            status,
            detail: format!("a token answer must be HTTP 200, not {status}"),
        }
        .into();
    }
    let bytes = match body {
        Ok(bytes) => bytes,
        Err(BodyError::Timeout) if status >= 500 || status == 429 => {
            return Failure::TimedOut { answered: false }.into();
        }
        Err(_) => Vec::new(),
    };
    let oauth = parse_oauth_error(&bytes, redactor);
    let detail = match &oauth {
        Some(o) => o.to_string(),
        None => redactor.show_bytes(&bytes),
    };
    let already_processing = status < 500
        && oauth.as_ref().is_some_and(|o| {
            o.error == "invalid_grant"
                && o.description
                    .as_deref()
                    .is_some_and(|d| d.to_ascii_lowercase().contains("already being processed"))
        });
    if status >= 500 || status == 429 || already_processing {
        return Failure::Transient {
            status,
            detail,
            after: head.retry_after,
        }
        .into();
    }
    // A page that is not an OAuth error: the URL is not a token endpoint at all.
    let page = oauth.is_none() && (head.html || looks_like_html(&bytes));
    if status == 404 || status == 405 || page {
        return Failure::WrongEndpoint {
            status,
            detail: if oauth.is_some() {
                String::new()
            } else {
                detail
            },
        }
        .into();
    }
    Failure::Refused {
        status,
        body: if oauth.is_some() {
            String::new()
        } else {
            detail
        },
        oauth,
    }
    .into()
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"<")
}

/// RFC 6749 §5.2: `{"error": …, "error_description": …}`, redacted and sanitised.
pub(crate) fn parse_oauth_error(bytes: &[u8], redactor: &Redactor) -> Option<OAuthError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let error = redactor.show(value.get("error")?.as_str()?);
    if error.is_empty() {
        return None;
    }
    let description = value
        .get("error_description")
        .and_then(|d| d.as_str())
        .map(|d| redactor.show(d))
        .filter(|d| !d.is_empty());
    Some(OAuthError { error, description })
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, to epoch seconds.
fn parse_http_date(s: &str) -> Option<u64> {
    let (_, rest) = s.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || day == 0 || day > 31 || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests;
