//! The web-server flow with PKCE (RFC 7636, S256) for a workstation: a listener on the
//! loopback redirect `http://localhost:PORT/OauthRedirect` (the Salesforce CLI's is
//! port 1717), the authorize URL on stderr (`--open` hands it to the desktop's
//! browser), one redirect waited for, its `state` checked in constant time, and the
//! code exchanged once with the verifier, which never leaves this process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::percent_decode_str;
use ring::rand::SecureRandom;

use super::Talk;
use crate::answer::Answer;
use crate::clock::human;
use crate::endpoint::TOKEN_PATH;
use crate::error::login_hint;
use crate::error::{Error, OAuthError};
use crate::form::form_encode;
use crate::report::{Log, sanitize, say};
use crate::secret::Secret;

const AUTHORIZE_PATH: &str = "/services/oauth2/authorize";
const CALLBACK_PATH: &str = "/OauthRedirect";
/// A browser sends its request at once; a connection silent this long is dropped
/// (browsers open spare connections they may never use).
const READ_LIMIT: Duration = Duration::from_secs(3);
/// A request head larger than this is not the redirect.
const MAX_HEAD: u64 = 16 * 1024;

pub(super) fn run(
    talk: &mut Talk<'_>,
    authorize_url: Option<&str>,
    port: u16,
    open: bool,
    scope: Option<&str>,
) -> Result<Answer, Error> {
    let authorize = match authorize_url {
        Some(u) => u.to_string(),
        None => derived_authorize_url(&talk.endpoint)?,
    };
    // Bound before the URL is shown, so the browser can never come back too early.
    let listener = Listener::bind(port)?;
    let redirect_uri = format!("http://localhost:{port}{CALLBACK_PATH}");
    let verifier = random_text(32)?;
    let state = random_text(16)?;
    talk.session.hide(&verifier);
    let url = authorize_request(
        &authorize,
        &talk.client_id,
        &redirect_uri,
        &challenge(&verifier),
        state.expose(),
        scope,
    );
    say(format_args!(
        "to log in, open this URL in a browser on this machine:"
    ));
    say(format_args!("  {}", sanitize(&url)));
    let log = talk.session.common.log;
    if open {
        launch(&url, &log);
    }
    log.wait(format_args!(
        "waiting for the browser to come back to {redirect_uri} for up to {} (Ctrl-C to give \
         up)",
        human(
            talk.session
                .deadline()
                .saturating_duration_since(Instant::now())
        )
    ));
    let code = listener.wait(
        talk.session.deadline(),
        &state,
        talk.session.common.timeout,
        &log,
    )?;
    talk.session.hide(&code);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier.expose()),
    ];
    let credentials = &talk.session.common.credentials;
    talk.token(&fields, credentials)
}

/// Salesforce's authorize endpoint sits beside its token endpoint.
fn derived_authorize_url(token_url: &str) -> Result<String, Error> {
    match token_url.strip_suffix(TOKEN_PATH) {
        Some(base) => Ok(format!("{base}{AUTHORIZE_PATH}")),
        None => Err(Error::usage(format!(
            "{token_url} is not a Salesforce token endpoint ({TOKEN_PATH}): give the server's \
             authorization endpoint with --authorize-url"
        ))),
    }
}

/// The authorize URL: code flow, S256 challenge, state; `prompt=consent` when the scope
/// asks for `offline_access`, as OpenID Connect Core §11 requires for a refresh token.
fn authorize_request(
    base: &str,
    client_id: &str,
    redirect_uri: &str,
    challenge: &str,
    state: &str,
    scope: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", state),
    ];
    if let Some(scope) = scope {
        pairs.push(("scope", scope));
        if scope.split_whitespace().any(|s| s == "offline_access") {
            pairs.push(("prompt", "consent"));
        }
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", query.join("&"))
}

/// `n` random bytes from the OS, base64url: the PKCE verifier (32 bytes: 43 characters,
/// RFC 7636 §4.1) and the state.
fn random_text(n: usize) -> Result<Secret, Error> {
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::usage("the system has no randomness to make the PKCE verifier"))?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(bytes)))
}

/// S256: BASE64URL(SHA256(verifier)).
fn challenge(verifier: &Secret) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.expose().as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// `--open`: the desktop's URL opener, given the URL as one argument (no shell). The URL
/// holds nothing secret: the verifier stays here.
fn launch(url: &str, log: &Log) {
    let name = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    match spawn(name, url) {
        Ok(()) => log.step(format_args!("asked {name} to open the URL")),
        Err(e) => say(format_args!(
            "could not start {name} ({}): open the URL yourself",
            crate::report::io_words(&e)
        )),
    }
}

/// Starts `program arg` found in PATH, with stdin, stdout and stderr on /dev/null so
/// that nothing a browser prints reaches our stdout. The child is not waited for; it
/// outlives us or ends as a zombie that our exit reaps.
fn spawn(program: &str, arg: &str) -> std::io::Result<()> {
    use std::process::{Command, Stdio};
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
}

/// The loopback listeners: 127.0.0.1 always, [::1] too where the system has it, since a
/// browser may resolve `localhost` to either; and their port, for the SSH hint.
struct Listener {
    all: Vec<TcpListener>,
    port: u16,
}

impl Listener {
    fn bind(port: u16) -> Result<Listener, Error> {
        // Socket addresses, not names: no resolver is needed (or linked) for loopback.
        let v4 = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).map_err(|e| {
            Error::usage(format!(
                "cannot listen on 127.0.0.1:{port} for the browser's redirect: {}; choose \
                 another --redirect-port (the app's callback URL must name the same port)",
                crate::report::io_words(&e)
            ))
        })?;
        let mut all = vec![v4];
        if let Ok(v6) = TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
            all.push(v6);
        }
        for l in &all {
            l.set_nonblocking(true).map_err(|e| {
                Error::usage(format!(
                    "cannot listen for the redirect: {}",
                    crate::report::io_words(&e)
                ))
            })?;
        }
        Ok(Listener { all, port })
    }

    /// Waits for the redirect to `/OauthRedirect` and answers the browser. Other paths
    /// (a favicon) get a 404 and the wait goes on; the redirect itself ends it.
    fn wait(
        &self,
        deadline: Instant,
        state: &Secret,
        timeout: Duration,
        log: &Log,
    ) -> Result<Secret, Error> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::network(format!(
                    "the browser did not come back within the {} --timeout; nothing was saved",
                    human(timeout)
                ))
                .hinted(format!(
                    "open the URL above in a browser on this machine (over SSH, forward the \
                     port first: ssh -L {port}:localhost:{port} HOST), or give a longer \
                     --timeout",
                    port = self.port
                )));
            }
            for stream in self.ready(left) {
                if let Some(result) = serve(stream, state, log) {
                    return result;
                }
            }
        }
    }

    /// Connections waiting to be accepted, after at most `left`.
    fn ready(&self, left: Duration) -> Vec<TcpStream> {
        let mut fds: Vec<libc::pollfd> = self
            .all
            .iter()
            .map(|l| libc::pollfd {
                fd: l.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        if !matches!(crate::sys::poll(&mut fds, ms), Ok(1..)) {
            return Vec::new();
        }
        self.all
            .iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.revents != 0)
            .filter_map(|(l, _)| l.accept().ok().map(|(s, _)| s))
            .collect()
    }
}

/// One connection: `None` to keep waiting, or the login's outcome.
fn serve(stream: TcpStream, state: &Secret, log: &Log) -> Option<Result<Secret, Error>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(READ_LIMIT));
    let Some(target) = request_target(&stream) else {
        log.step(format_args!(
            "a connection to the redirect listener sent no request"
        ));
        return None;
    };
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if path != CALLBACK_PATH {
        respond(
            &stream,
            404,
            "Not found",
            "This is sfrefresh waiting for a login redirect.",
        );
        return None;
    }
    let callback = Callback::parse(query);
    let outcome = callback.judge(state);
    let (status, title, text) = match &outcome {
        Ok(_) => (
            200,
            "Logged in",
            "sfrefresh has the authorization code. You can close this tab.",
        ),
        Err(_) => (
            400,
            "Login failed",
            "The login did not succeed; sfrefresh says why in the terminal.",
        ),
    };
    respond(&stream, status, title, text);
    Some(outcome)
}

/// The request target of a `GET` (path and query), or `None` for anything else.
fn request_target(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.take(MAX_HEAD));
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    if parts.next()? != "GET" {
        return None;
    }
    let target = parts.next()?.to_string();
    // Read the rest of the head so the browser sees its request answered, not reset.
    let mut header = String::new();
    while reader.read_line(&mut header).ok()? > 2 {
        header.clear();
    }
    Some(target)
}

fn respond(mut stream: &TcpStream, status: u16, title: &str, text: &str) {
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>\n"
    );
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {title}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// The redirect's query, decoded.
#[derive(Debug, Default)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    description: Option<String>,
}

impl Callback {
    fn parse(query: &str) -> Callback {
        let mut c = Callback::default();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match decode(k).as_str() {
                "code" => &mut c.code,
                "state" => &mut c.state,
                "error" => &mut c.error,
                "error_description" => &mut c.description,
                _ => continue,
            };
            slot.get_or_insert_with(|| decode(v));
        }
        c
    }

    /// The state first: a redirect that is not this login's answer is not read further.
    fn judge(self, state: &Secret) -> Result<Secret, Error> {
        let ours = self
            .state
            .as_deref()
            .is_some_and(|s| same(s.as_bytes(), state.expose().as_bytes()));
        if !ours {
            return Err(Error::network(
                "the browser came back with a state that is not this login's, so the \
                 redirect may be forged or stale; nothing was exchanged or saved",
            )
            .hinted("run the login again and use the new URL it prints"));
        }
        if let Some(error) = self.error {
            let oauth = OAuthError {
                error: sanitize(&error),
                description: self
                    .description
                    .map(|d| sanitize(&d))
                    .filter(|d| !d.is_empty()),
            };
            let hint = login_hint(Some(&oauth));
            return Err(Error::refused(
                format!("the login was refused: the browser came back with {oauth}"),
                Some(oauth),
            )
            .hinted(hint));
        }
        match self.code.filter(|c| !c.is_empty()) {
            Some(code) => Ok(Secret::new(code)),
            None => Err(Error::network(
                "the browser came back with neither a code nor an error; nothing was saved",
            )
            .hinted("run the login again")),
        }
    }
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Form decoding of one query component: `+` is a space, `%XX` a byte; a `%` without
/// two hex digits after it stays as it is and bytes that are not UTF-8 become U+FFFD
/// (the WHATWG urlencoded parser: `+` first, so `%2B` is a `+` and `%+1` stays).
fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::new(s)
    }

    #[test]
    fn pkce_s256_known_answer() {
        // RFC 7636 appendix B.
        assert_eq!(
            challenge(&secret("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = random_text(32).unwrap();
        assert_eq!(v.expose().len(), 43);
        assert_ne!(v.expose(), random_text(32).unwrap().expose());
    }

    #[test]
    fn authorize_urls() {
        let u = authorize_request(
            "https://login.salesforce.com/services/oauth2/authorize",
            "3MVG9 id",
            "http://localhost:1717/OauthRedirect",
            "ch",
            "st",
            None,
        );
        assert_eq!(
            u,
            "https://login.salesforce.com/services/oauth2/authorize?response_type=code\
             &client_id=3MVG9+id&redirect_uri=http%3A%2F%2Flocalhost%3A1717%2FOauthRedirect\
             &code_challenge=ch&code_challenge_method=S256&state=st"
        );
        let u = authorize_request(
            "http://h/auth?x=1",
            "c",
            "r",
            "ch",
            "st",
            Some("openid offline_access"),
        );
        assert!(u.starts_with("http://h/auth?x=1&response_type=code"), "{u}");
        assert!(
            u.ends_with("&scope=openid+offline_access&prompt=consent"),
            "{u}"
        );
        let u = authorize_request(
            "http://h/a",
            "c",
            "r",
            "ch",
            "st",
            Some("api refresh_token"),
        );
        assert!(!u.contains("prompt"), "{u}");
        assert_eq!(
            derived_authorize_url("https://acme.my.salesforce.com/services/oauth2/token").unwrap(),
            "https://acme.my.salesforce.com/services/oauth2/authorize"
        );
        assert_eq!(
            derived_authorize_url("http://127.0.0.1:9/token")
                .unwrap_err()
                .exit_code(),
            2
        );
    }

    #[test]
    fn callbacks_are_judged_state_first() {
        let st = secret("the-state");
        let code = Callback::parse("code=aPrx.c%3D%3D&state=the-state&iss=x")
            .judge(&st)
            .unwrap();
        assert_eq!(code.expose(), "aPrx.c==");
        let e = Callback::parse("code=c&state=other")
            .judge(&st)
            .unwrap_err();
        assert_eq!(e.kind(), crate::error::Kind::Network, "{e}");
        assert_eq!(e.exit_code(), 4);
        assert!(
            e.to_string().contains("state that is not this login's"),
            "{e}"
        );
        let e = Callback::parse("code=c").judge(&st).unwrap_err();
        assert_eq!(e.exit_code(), 4);
        // An error redirect with a forged state is a wrong state, not a refusal.
        let e = Callback::parse("error=access_denied&state=x")
            .judge(&st)
            .unwrap_err();
        assert_eq!(e.exit_code(), 4);
        let e = Callback::parse(
            "error=access_denied&error_description=end-user+denied%1b[2J+authorization&state=the-state",
        )
        .judge(&st)
        .unwrap_err();
        assert_eq!(e.exit_code(), 5);
        assert_eq!(
            e.to_string(),
            "the login was refused: the browser came back with access_denied: end-user denied[2J \
             authorization"
        );
        let e = Callback::parse("state=the-state").judge(&st).unwrap_err();
        assert!(e.to_string().contains("neither a code nor an error"), "{e}");
    }

    #[test]
    fn constant_time_comparison_and_decoding() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert_eq!(decode("a+b%2Fc%zz%4"), "a b/c%zz%4");
        // `+` is a space before escapes are read: `%2B` is a plus, `%+1` no escape.
        assert_eq!(decode("%2B%+1%e2%82%ac"), "+% 1€");
        assert_eq!(decode("a%FFb"), "a\u{FFFD}b");
    }
}
