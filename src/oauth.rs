//! The refresh request (RFC 6749 §6), what its answer means, and retrying what is transient.

use std::io;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::Agent;

use crate::cli::ClientAuth;
use crate::error::{Error, OAuthError};
use crate::report::{Log, human, sanitize, sanitize_bytes};
use crate::secret::Secret;
use crate::token::{self, Doc};

/// Answers are read up to this many bytes; a larger one is refused, memory stays small.
pub const MAX_ANSWER: u64 = 1024 * 1024;

/// What one refresh sends.
pub struct Exchange<'a> {
    pub url: &'a str,
    pub refresh_token: &'a Secret,
    pub client_id: &'a str,
    pub secret: Option<&'a Secret>,
    pub auth: ClientAuth,
}

/// A usable token answer and the text it came in (for number spelling on save).
#[derive(Debug)]
pub struct Answer {
    pub doc: Doc,
    pub raw: Vec<u8>,
}

/// How long and how often to try.
pub struct Policy {
    pub deadline: Instant,
    pub timeout: Duration,
    pub retries: u32,
}

/// `application/x-www-form-urlencoded` for one value (WHATWG form encoding).
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The form body. `client_id` travels in the body unless Basic carries it; the secret
/// only with `--client-auth post`. Never `scope`: some orgs reject it on refresh.
pub fn form_body(x: &Exchange<'_>) -> Secret {
    let mut body = format!(
        "grant_type=refresh_token&refresh_token={}",
        form_encode(x.refresh_token.expose())
    );
    if x.auth == ClientAuth::Post || x.secret.is_none() {
        body.push_str("&client_id=");
        body.push_str(&form_encode(x.client_id));
        if let Some(secret) = x.secret {
            body.push_str("&client_secret=");
            body.push_str(&form_encode(secret.expose()));
        }
    }
    Secret::new(body)
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))`, RFC 6749 §2.3.1.
pub fn basic_auth(x: &Exchange<'_>) -> Option<Secret> {
    use base64::Engine;
    let secret = x.secret.filter(|_| x.auth == ClientAuth::Basic)?;
    let pair = format!(
        "{}:{}",
        form_encode(x.client_id),
        form_encode(secret.expose())
    );
    Some(Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )))
}

/// The result of one attempt.
#[derive(Debug)]
enum Outcome {
    Done(Answer),
    Retry {
        error: Error,
        after: Option<Duration>,
    },
    Fail(Error),
}

/// Posts the refresh, retrying transient failures with exponential backoff and jitter
/// until the retries or the deadline run out.
pub fn refresh(
    agent: &Agent,
    x: &Exchange<'_>,
    policy: &Policy,
    log: &Log,
) -> Result<Answer, Error> {
    let body = form_body(x);
    let authorization = basic_auth(x);
    let total = policy.retries + 1;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let remaining = policy.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timeout_error(x.url, policy, attempt - 1));
        }
        // A hung attempt must leave time for the next one; the last gets all that is left.
        let share = (remaining / (total - attempt + 1)).max(remaining.min(Duration::from_secs(3)));
        log.step(format_args!(
            "attempt {attempt} of {total}: POST {} ({}, time limit {})",
            x.url,
            if authorization.is_some() {
                "client secret in Basic header"
            } else if x.secret.is_some() {
                "client secret in body"
            } else {
                "no client secret"
            },
            human(share)
        ));
        let started = Instant::now();
        let outcome = attempt_once(agent, x.url, &body, authorization.as_ref(), share, log);
        log.step(format_args!(
            "attempt {attempt} finished in {}",
            human(started.elapsed())
        ));
        let (error, after) = match outcome {
            Outcome::Done(answer) => return Ok(answer),
            Outcome::Fail(error) => return Err(with_attempts(error, attempt, x.url, policy)),
            Outcome::Retry { error, after } => (error, after),
        };
        if attempt >= total {
            return Err(with_attempts(error, attempt, x.url, policy));
        }
        let wait = after.unwrap_or_else(|| backoff(attempt));
        if Instant::now() + wait >= policy.deadline {
            log.step(format_args!(
                "a retry in {} would pass the --timeout deadline; giving up",
                human(wait)
            ));
            return Err(with_attempts(error, attempt, x.url, policy));
        }
        log.step(format_args!(
            "transient failure ({error}); retrying in {}",
            human(wait)
        ));
        thread::sleep(wait);
    }
}

/// 250 ms doubling per attempt, capped at 8 s, with "equal jitter" (half fixed, half
/// random) so runs started together by cron spread out.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250)
        .saturating_mul(1 << attempt.saturating_sub(1).min(5))
        .min(Duration::from_secs(8));
    let half = base / 2;
    half + half.mul_f64((crate::random_u64() % 1000) as f64 / 1000.0)
}

fn timeout_error(url: &str, policy: &Policy, attempts: u32) -> Error {
    Error::Timeout {
        url: url.to_string(),
        seconds: policy.timeout.as_secs_f64(),
        attempts,
    }
}

fn with_attempts(error: Error, n: u32, url: &str, policy: &Policy) -> Error {
    match error {
        Error::Unreachable { url, detail, .. } => Error::Unreachable {
            url,
            detail,
            attempts: n,
        },
        Error::Transient {
            url,
            status,
            detail,
            ..
        } => Error::Transient {
            url,
            status,
            detail,
            attempts: n,
        },
        Error::Timeout { .. } => timeout_error(url, policy, n),
        other => other,
    }
}

fn attempt_once(
    agent: &Agent,
    url: &str,
    body: &Secret,
    authorization: Option<&Secret>,
    limit: Duration,
    log: &Log,
) -> Outcome {
    let mut request = agent
        .post(url)
        .config()
        .timeout_global(Some(limit))
        .build()
        .header("Content-Type", "application/x-www-form-urlencoded");
    if let Some(auth) = authorization {
        request = request.header("Authorization", auth.expose());
    }
    let mut response = match request.send(body.expose()) {
        Ok(r) => r,
        Err(e) => return transport_failure(url, e),
    };
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let location = header("location");
    let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v, SystemTime::now()));
    log.step(format_args!("HTTP {status} from {url}"));
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => BodyError::TooLarge,
            ureq::Error::Timeout(_) => BodyError::Timeout,
            other => BodyError::Broken(describe(&other)),
        });
    classify(url, status, location.as_deref(), retry_after, body)
}

#[derive(Debug)]
enum BodyError {
    TooLarge,
    Timeout,
    Broken(String),
}

/// What an answer means. Pure, so every branch has a unit test.
fn classify(
    url: &str,
    status: u16,
    location: Option<&str>,
    retry_after: Option<Duration>,
    body: Result<Vec<u8>, BodyError>,
) -> Outcome {
    let url = url.to_string();
    let bad = |detail: String| {
        Outcome::Fail(Error::BadAnswer {
            url: url.clone(),
            status,
            detail,
        })
    };
    let timeout = || Outcome::Retry {
        error: Error::Timeout {
            url: url.clone(),
            seconds: 0.0,
            attempts: 1,
        },
        after: None,
    };
    if status == 200 {
        return match body {
            Ok(raw) => match token::check_answer(&raw) {
                Ok(doc) => Outcome::Done(Answer { doc, raw }),
                Err(problem) => bad(problem),
            },
            Err(BodyError::TooLarge) => bad("the answer is larger than 1 MiB".into()),
            Err(BodyError::Timeout) => timeout(),
            Err(BodyError::Broken(e)) => bad(format!("the body was cut short ({e})")),
        };
    }
    if (300..400).contains(&status) {
        return Outcome::Fail(Error::Redirect {
            url,
            status,
            location: location
                .map(sanitize)
                .unwrap_or_else(|| "nowhere (no Location header)".into()),
        });
    }
    if status < 300 {
        return bad(format!("a token answer must be HTTP 200, not {status}"));
    }
    let bytes = match body {
        Ok(bytes) => bytes,
        Err(BodyError::Timeout) if status >= 500 || status == 429 => return timeout(),
        Err(_) => Vec::new(),
    };
    let oauth = parse_oauth_error(&bytes);
    let detail = match &oauth {
        Some(o) => o.to_string(),
        None => sanitize_bytes(&bytes),
    };
    let already_processing = status < 500
        && oauth.as_ref().is_some_and(|o| {
            o.error == "invalid_grant"
                && o.description
                    .as_deref()
                    .is_some_and(|d| d.to_ascii_lowercase().contains("already being processed"))
        });
    if status >= 500 || status == 429 || already_processing {
        return Outcome::Retry {
            error: Error::Transient {
                url,
                status,
                detail,
                attempts: 1,
            },
            after: retry_after,
        };
    }
    Outcome::Fail(Error::Refused {
        url,
        status,
        body: if oauth.is_some() {
            String::new()
        } else {
            detail
        },
        oauth,
    })
}

/// RFC 6749 §5.2: `{"error": …, "error_description": …}`, sanitised.
fn parse_oauth_error(bytes: &[u8]) -> Option<OAuthError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let error = value.get("error")?.as_str()?;
    let error = sanitize(error);
    if error.is_empty() {
        return None;
    }
    let description = value
        .get("error_description")
        .and_then(|d| d.as_str())
        .map(sanitize)
        .filter(|d| !d.is_empty());
    Some(OAuthError { error, description })
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
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

fn transport_failure(url: &str, e: ureq::Error) -> Outcome {
    let url = url.to_string();
    if let Some(detail) = tls_detail(&e) {
        return Outcome::Fail(Error::Tls { url, detail });
    }
    let retry = |detail: String| Outcome::Retry {
        error: Error::Unreachable {
            url: url.clone(),
            detail,
            attempts: 1,
        },
        after: None,
    };
    match e {
        ureq::Error::Timeout(_) => Outcome::Retry {
            error: Error::Timeout {
                url,
                seconds: 0.0,
                attempts: 1,
            },
            after: None,
        },
        ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl | ureq::Error::Http(_) => {
            Outcome::Fail(Error::Usage(format!("cannot use {url}: {}", describe(&e))))
        }
        ureq::Error::LargeResponseHeader(..) => Outcome::Fail(Error::BadAnswer {
            url,
            status: 0,
            detail: "its headers are too large".into(),
        }),
        other => retry(describe(&other)),
    }
}

/// Certificate and handshake failures, however ureq wraps them, in plain words.
fn tls_detail(e: &ureq::Error) -> Option<String> {
    let rustls_error = match e {
        ureq::Error::Rustls(r) => r,
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>()?,
        ureq::Error::Tls(m) => return Some(sanitize(m)),
        ureq::Error::Pem(p) => return Some(sanitize(&p.to_string())),
        _ => return None,
    };
    use rustls::CertificateError as C;
    let plain = match rustls_error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => "the server's certificate is not signed by a trusted CA".into(),
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (check the clock)".into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate does not match the host name ({})",
                    sanitize(&cert.to_string())
                )
            }
            C::Revoked => "the server's certificate is revoked".into(),
            C::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
                "the server presented a self-signed (CA) certificate that is not trusted".into()
            }
            other => format!("invalid certificate: {}", sanitize(&other.to_string())),
        },
        other => sanitize(&other.to_string()),
    };
    Some(plain)
}

/// A short reason for a transport error, without ureq's debug formatting.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => match io.kind() {
            io::ErrorKind::ConnectionRefused => "connection refused".into(),
            io::ErrorKind::ConnectionReset => "connection reset by the server".into(),
            io::ErrorKind::UnexpectedEof => "the server closed the connection early".into(),
            _ => match io.get_ref() {
                Some(inner) => sanitize(&inner.to_string()),
                None => sanitize(&io.to_string()),
            },
        },
        ureq::Error::HostNotFound => "host not found (DNS)".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        other => sanitize(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange<'a>(rt: &'a Secret, secret: Option<&'a Secret>, auth: ClientAuth) -> Exchange<'a> {
        Exchange {
            url: "https://h/t",
            refresh_token: rt,
            client_id: "3MVG9 id+/=",
            secret,
            auth,
        }
    }

    #[test]
    fn form_body_for_each_client_auth() {
        let rt = Secret::new("5Aep861.a/b+c=d&e");
        let s = Secret::new("s3 cr&t");
        assert_eq!(
            form_body(&exchange(&rt, None, ClientAuth::Post)).expose(),
            "grant_type=refresh_token&refresh_token=5Aep861.a%2Fb%2Bc%3Dd%26e&client_id=3MVG9+id%2B%2F%3D"
        );
        assert_eq!(
            form_body(&exchange(&rt, Some(&s), ClientAuth::Post)).expose(),
            "grant_type=refresh_token&refresh_token=5Aep861.a%2Fb%2Bc%3Dd%26e\
             &client_id=3MVG9+id%2B%2F%3D&client_secret=s3+cr%26t"
        );
        let x = exchange(&rt, Some(&s), ClientAuth::Basic);
        assert_eq!(
            form_body(&x).expose(),
            "grant_type=refresh_token&refresh_token=5Aep861.a%2Fb%2Bc%3Dd%26e"
        );
        // base64("3MVG9+id%2B%2F%3D:s3+cr%26t")
        assert_eq!(
            basic_auth(&x).unwrap().expose(),
            "Basic M01WRzkraWQlMkIlMkYlM0Q6czMrY3IlMjZ0"
        );
        assert!(basic_auth(&exchange(&rt, Some(&s), ClientAuth::Post)).is_none());
    }

    fn outcome(status: u16, body: &str) -> Outcome {
        classify(
            "https://h/t",
            status,
            None,
            None,
            Ok(body.as_bytes().to_vec()),
        )
    }

    #[test]
    fn classify_success_and_unusable_200s() {
        assert!(matches!(
            outcome(200, r#"{"access_token":"a"}"#),
            Outcome::Done(_)
        ));
        for body in ["", "<html>", "[]", "{}", r#"{"access_token":"a""#] {
            let Outcome::Fail(e) = outcome(200, body) else {
                panic!("{body:?} must fail")
            };
            assert_eq!(e.exit_code(), 4, "{body:?}");
        }
        let Outcome::Fail(e) = classify("u", 200, None, None, Err(BodyError::TooLarge)) else {
            panic!()
        };
        assert!(e.to_string().contains("larger than 1 MiB"));
        let Outcome::Fail(e) = outcome(204, "") else {
            panic!()
        };
        assert!(e.to_string().contains("must be HTTP 200"));
    }

    #[test]
    fn classify_transient_answers() {
        for (status, body) in [
            (500, "<html>down</html>"),
            (503, ""),
            (429, r#"{"error":"rate"}"#),
            (
                400,
                r#"{"error":"invalid_grant","error_description":"token request is already being processed"}"#,
            ),
        ] {
            assert!(
                matches!(outcome(status, body), Outcome::Retry { .. }),
                "{status} {body}"
            );
        }
        let o = classify("u", 429, None, Some(Duration::from_secs(2)), Ok(Vec::new()));
        assert!(matches!(o, Outcome::Retry { after: Some(d), .. } if d == Duration::from_secs(2)));
    }

    #[test]
    fn classify_refusals_and_redirects() {
        let Outcome::Fail(e) = outcome(
            400,
            r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
        ) else {
            panic!()
        };
        assert_eq!(e.exit_code(), 5);
        assert_eq!(
            e.to_string(),
            "https://h/t refused the refresh (HTTP 400): invalid_grant: expired access/refresh token"
        );
        let Outcome::Fail(e) = outcome(404, "<h1>Not\nFound</h1>") else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "https://h/t refused the refresh (HTTP 404): <h1>Not Found</h1>"
        );
        let Outcome::Fail(e) = classify("u", 302, Some("https://evil/\x1b[2J"), None, Ok(vec![]))
        else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "u answered HTTP 302, a redirect to https://evil/[2J"
        );
        assert_eq!(e.exit_code(), 4);
    }

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sat, 29 Feb 2020 12:00:00 GMT"),
            Some(1_582_977_600)
        );
    }

    #[test]
    fn backoff_grows_with_jitter_inside_bounds() {
        for attempt in 1..10 {
            let base = Duration::from_millis(250 * (1 << (attempt - 1).min(5)))
                .min(Duration::from_secs(8));
            let d = backoff(attempt);
            assert!(d >= base / 2 && d <= base, "attempt {attempt}: {d:?}");
        }
    }
}
