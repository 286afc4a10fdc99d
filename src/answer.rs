//! What an answer from the token endpoint means: a token, a refusal, something transient
//! worth another try, or something that must not be retried. Pure, so every branch has
//! a unit test and a fuzz target.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, OAuthError};
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

/// Why one attempt failed, before the URL, the proxy and the attempt count are known
/// to the message: the retry loop turns it into an `Error` once, at the end.
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

    /// The final error, built once with everything the message needs.
    pub(crate) fn into_error(self, at: &Where<'_>, attempts: u32) -> Error {
        let url = at.url.to_string();
        let proxy = || at.proxy.unwrap_or("the proxy").to_string();
        match self {
            Failure::Unreachable(detail) => Error::Unreachable {
                url,
                detail,
                attempts,
            },
            Failure::ProxyUnreachable(detail) => Error::ProxyUnreachable {
                proxy: proxy(),
                detail,
                attempts,
            },
            Failure::ProxyRefused(status) => Error::ProxyRefused {
                proxy: proxy(),
                status,
                attempts,
            },
            Failure::TimedOut { .. } => Error::Timeout {
                url,
                timeout: at.timeout,
                attempts,
            },
            Failure::Tls(detail) => Error::Tls { url, detail },
            Failure::Transient { status, detail, .. } => Error::Transient {
                url,
                status,
                detail,
                attempts,
            },
            Failure::Redirect { status, location } => Error::Redirect {
                url,
                status,
                location,
            },
            Failure::WrongEndpoint { status, detail } => Error::WrongEndpoint {
                url,
                status,
                detail,
            },
            Failure::Unreadable(detail) => Error::Unreadable { url, detail },
            Failure::BadAnswer { status, detail } => Error::BadAnswer {
                url,
                status,
                detail,
            },
            Failure::Refused {
                status,
                oauth,
                body,
            } => Error::Refused {
                url,
                status,
                oauth,
                body,
            },
            Failure::Usage(m) => Error::usage(m),
        }
    }
}

/// Where the request went, for the final message.
pub(crate) struct Where<'a> {
    pub(crate) url: &'a str,
    pub(crate) proxy: Option<&'a str>,
    pub(crate) timeout: Duration,
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
