//! Token requests (RFC 6749): the form and client authentication, one attempt on the
//! wire, and retrying only what is safe to send again.

use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::answer::{self, Asking, BodyError, Failure, Head, Outcome, Where};
use crate::client::Credentials;
use crate::clock::{human, random_u64};
use crate::error::At;
use crate::form::form_encode;
use crate::net::{Http, ProxyFailure, describe};
use crate::report::{Log, Redactor};
use crate::secret::Secret;

/// One token request: the grant's own fields, and who the client is.
pub(crate) struct Exchange<'a> {
    pub(crate) url: &'a str,
    /// Shown in messages about the proxy (credentials redacted).
    pub(crate) proxy: Option<&'a str>,
    /// The grant's fields, e.g. `grant_type=refresh_token` and the token.
    pub(crate) fields: &'a [(&'a str, &'a str)],
    pub(crate) client_id: &'a str,
    pub(crate) credentials: &'a Credentials,
}

/// The form body: the grant's fields, then `client_id` unless Basic carries it, and the
/// secret only with `--client-auth post`. Never `scope`: some orgs reject it on refresh.
pub(crate) fn form_body(x: &Exchange<'_>) -> Secret {
    let mut body = String::new();
    for (k, v) in x.fields {
        if !body.is_empty() {
            body.push('&');
        }
        body.push_str(k);
        body.push('=');
        body.push_str(&form_encode(v));
    }
    if !matches!(x.credentials, Credentials::Basic(_)) {
        body.push_str("&client_id=");
        body.push_str(&form_encode(x.client_id));
        if let Credentials::Post(secret) = x.credentials {
            body.push_str("&client_secret=");
            body.push_str(&form_encode(secret.expose()));
        }
    }
    Secret::new(body)
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))`, RFC 6749 §2.3.1.
pub(crate) fn basic_auth(x: &Exchange<'_>) -> Option<Secret> {
    use base64::Engine;
    let Credentials::Basic(secret) = x.credentials else {
        return None;
    };
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

/// How long and how often to try, and the token location the retry lines name.
pub(crate) struct Policy<'a> {
    pub(crate) deadline: Instant,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) about: Option<&'a str>,
    /// What a refusal refuses: a refresh, or a login.
    pub(crate) asking: Asking,
}

/// A token request that failed; `keep` holds a 200's body that may carry a live
/// refresh token, for the rescue file.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) error: Box<crate::error::Error>,
    pub(crate) keep: Option<Vec<u8>>,
}

/// One HTTP request as it goes on the wire, maybe more than once.
pub(crate) struct Call<'a> {
    pub(crate) url: &'a str,
    /// Shown in messages about the proxy (credentials redacted).
    pub(crate) proxy: Option<&'a str>,
    /// A form to POST; `None` sends a GET.
    pub(crate) form: Option<Secret>,
    pub(crate) authorization: Option<Secret>,
    /// How the request authenticates, for `--verbose`.
    pub(crate) auth: &'static str,
}

impl<'a> Call<'a> {
    /// The POST of an exchange: its form and the client's authentication.
    pub(crate) fn exchange(x: &Exchange<'a>) -> Call<'a> {
        Call {
            url: x.url,
            proxy: x.proxy,
            form: Some(form_body(x)),
            authorization: basic_auth(x),
            auth: match x.credentials {
                Credentials::Basic(_) => "client secret in Basic header",
                Credentials::Post(_) => "client secret in body",
                Credentials::IdOnly => "no client secret",
            },
        }
    }
}

/// What one answer means to the caller: a result, or a failure that may be retried.
pub(crate) type Classify<T> = fn(&Head<'_>, Result<Vec<u8>, BodyError>, &Redactor) -> Outcome<T>;

/// Sends `call`, retrying what `Failure::retryable` allows with exponential backoff and
/// jitter until the retries or the deadline run out; `classify` reads each answer.
pub(crate) fn send<T>(
    http: &Http,
    call: &Call<'_>,
    policy: &Policy<'_>,
    log: &Log,
    redactor: &Redactor,
    classify: Classify<T>,
) -> Result<T, Failed> {
    let at = Where {
        url: call.url,
        proxy: call.proxy,
        timeout: policy.timeout,
        asking: policy.asking,
    };
    let total = policy.retries + 1;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let remaining = policy.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            let failure = Failure::TimedOut { answered: false };
            return Err(failed(failure.to_error(&at, attempt - 1), None));
        }
        // A hung attempt must leave time for the next one; the last gets all that is left.
        let share = (remaining / (total - attempt + 1)).max(remaining.min(Duration::from_secs(3)));
        log.step(format_args!(
            "attempt {attempt} of {total}: {} {} ({}, time limit {})",
            if call.form.is_some() { "POST" } else { "GET" },
            call.url,
            call.auth,
            human(share)
        ));
        let started = Instant::now();
        let outcome = attempt_once(http, call, share, log, redactor, classify);
        log.step(format_args!(
            "attempt {attempt} finished in {}",
            human(started.elapsed())
        ));
        let (failure, keep) = match outcome {
            Outcome::Done(answer) => return Ok(answer),
            Outcome::Failed { failure, keep } => (failure, keep),
        };
        if !failure.retryable() || attempt >= total {
            return Err(failed(failure.to_error(&at, attempt), keep));
        }
        let wait = failure.wait().unwrap_or_else(|| backoff(attempt));
        let error = failure.to_error(&at, 1);
        if Instant::now() + wait >= policy.deadline {
            log.step(format_args!(
                "a retry in {} would pass the --timeout deadline; giving up",
                human(wait)
            ));
            return Err(failed(failure.to_error(&at, attempt), None));
        }
        // Every retry is said unless -q, as curl does: a 503 retried in 300 ms is
        // still a failure someone watching the run should see.
        log.wait(format_args!(
            "{}; trying again in {} (attempt {} of {total})",
            At {
                location: policy.about,
                error: &error
            },
            human(wait),
            attempt + 1
        ));
        thread::sleep(wait);
    }
}

fn failed(error: crate::error::Error, keep: Option<Vec<u8>>) -> Failed {
    Failed {
        error: Box::new(error),
        keep,
    }
}

/// 250 ms doubling per attempt, capped at 8 s, with "equal jitter" (half fixed, half
/// random) so runs started together by cron spread out.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250)
        .saturating_mul(1 << attempt.saturating_sub(1).min(5))
        .min(Duration::from_secs(8));
    let half = base / 2;
    half + half.mul_f64((random_u64() % 1000) as f64 / 1000.0)
}

/// A request slower than this gets a note on stderr (unless `-q`).
const SLOW: Duration = Duration::from_secs(5);

fn attempt_once<T>(
    http: &Http,
    call: &Call<'_>,
    limit: Duration,
    log: &Log,
    redactor: &Redactor,
    classify: Classify<T>,
) -> Outcome<T> {
    http.reset();
    let url = call.url;
    // The note needs a thread; `-q` (cron, the benchmark) shows no notes, so none starts.
    let slow = (limit > SLOW && log.shows_waits()).then(|| SlowNote::start(*log, url));
    let sent = match &call.form {
        Some(body) => {
            let mut request = http
                .agent
                .post(url)
                .config()
                .timeout_global(Some(limit))
                .build()
                .header("Content-Type", "application/x-www-form-urlencoded");
            if let Some(auth) = &call.authorization {
                request = request.header("Authorization", auth.expose());
            }
            request.send(body.expose())
        }
        None => {
            let mut request = http
                .agent
                .get(url)
                .config()
                .timeout_global(Some(limit))
                .build();
            if let Some(auth) = &call.authorization {
                request = request.header("Authorization", auth.expose());
            }
            request.call()
        }
    };
    drop(slow);
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => return transport_failure(e, http.answered()).into(),
    };
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let location = header("location");
    let retry_after =
        header("retry-after").and_then(|v| answer::parse_retry_after(&v, SystemTime::now()));
    let html = header("content-type").is_some_and(|c| c.to_ascii_lowercase().contains("html"));
    log.step(format_args!("HTTP {status} from {url}"));
    let body = response
        .body_mut()
        .with_config()
        .limit(answer::MAX_ANSWER)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => BodyError::TooLarge,
            ureq::Error::Timeout(_) => BodyError::Timeout,
            other => BodyError::Broken(describe(&other)),
        });
    let head = Head {
        status,
        location: location.as_deref(),
        retry_after,
        html,
    };
    classify(&head, body, redactor)
}

/// Says once on stderr that a request is slow, when it is; the thread ends with the
/// request (the note is dropped), so nothing outlives the attempt.
struct SlowNote {
    done: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SlowNote {
    fn start(log: Log, url: &str) -> SlowNote {
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let url = url.to_string();
        let thread = thread::Builder::new()
            .spawn(move || {
                if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(SLOW) {
                    log.wait(format_args!(
                        "waiting for {url}: no answer after {}",
                        human(SLOW)
                    ));
                }
            })
            .ok();
        SlowNote {
            done: Some(done),
            thread,
        }
    }
}

impl Drop for SlowNote {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A request that failed below HTTP. Once an answer byte has arrived, the failure is
/// "unreadable", never "unreachable": the server saw the request.
fn transport_failure(e: ureq::Error, answered: bool) -> Failure {
    if let Some(detail) = crate::tls::tls_detail(&e) {
        return Failure::Tls(detail);
    }
    if let ureq::Error::Other(inner) = &e
        && let Some(p) = inner.downcast_ref::<ProxyFailure>()
    {
        return match p {
            ProxyFailure::Unreachable(d) => Failure::ProxyUnreachable(d.clone()),
            ProxyFailure::Refused(status) => Failure::ProxyRefused(*status),
        };
    }
    match e {
        ureq::Error::Timeout(_) => Failure::TimedOut { answered },
        ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl | ureq::Error::Http(_) => {
            Failure::Usage(format!("cannot use this URL: {}", describe(&e)))
        }
        // ureq's limit is `net::MAX_HEAD`, which the agent sets.
        ureq::Error::LargeResponseHeader(_, limit) => Failure::Unreadable(format!(
            "its headers are larger than the {} KiB limit",
            limit / 1024
        )),
        ureq::Error::Protocol(_) if answered => {
            Failure::Unreadable(format!("its head is malformed: {}", describe(&e)))
        }
        other if answered => Failure::Unreadable(describe(&other)),
        other => Failure::Unreachable(describe(&other)),
    }
}

#[cfg(test)]
mod tests;
