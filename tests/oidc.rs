//! Interop with a real OAuth 2.0 server that nobody on this project wrote: panva's
//! oidc-provider from npm (`tests/oidc/server.mjs`), one per test on 127.0.0.1.
//!
//! The fixture: `OidcProvider` spawns `node tests/oidc/server.mjs`, reads the one JSON
//! line it prints and kills it on drop. Browser stand-ins drive the provider's own
//! login, consent and device pages over plain HTTP (a tiny HTTP/1.1 client with a
//! cookie jar, std only): `approve_device`, `deny_device`, `authorize`,
//! `authorize_deny`. The tests below play the OAuth client by hand and so pin down
//! the wire forms sfrefresh must speak to this server (`tests/oidc/README.md`).
//!
//! Without node or `tests/oidc/node_modules` the tests print `SKIPPED: …` on stderr
//! and pass, unless `CI` is set: then a missing dependency fails them.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::util::decode;

/// How long node may take to print its JSON line (it takes about 0.5 s).
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Connect, read and write limit for every HTTP exchange with the provider.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest HTTP answer read; the provider's pages are a few KiB.
const MAX_RESPONSE: u64 = 4 << 20;

/// The user the browser stand-ins log in as (the dev login takes any name).
pub const USER: &str = "alice";
const PASSWORD: &str = "any-password";

/// The grant type of RFC 8628's token request.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// One client registered in the provider.
#[derive(Debug, Clone)]
pub struct OidcClient {
    pub id: String,
    /// `None` for the public client.
    pub secret: Option<String>,
}

impl OidcClient {
    /// The secret of a confidential client.
    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("a confidential client")
    }
}

/// A running oidc-provider on 127.0.0.1 with the endpoints and clients it printed.
pub struct OidcProvider {
    pub issuer: String,
    pub token_endpoint: String,
    pub device_authorization_endpoint: String,
    /// The page where a user types the user code (`verification_uri`).
    pub verification_uri: String,
    pub authorization_endpoint: String,
    pub revocation_endpoint: String,
    pub userinfo_endpoint: String,
    pub introspection_endpoint: String,
    pub discovery_endpoint: String,
    /// The redirect URIs registered for both clients.
    pub redirect_uris: Vec<String>,
    /// `sfrefresh-confidential`: a secret, `client_secret_basic` (post works too),
    /// every grant, exact redirect URI match.
    pub confidential: OidcClient,
    /// `sfrefresh-native`: public, PKCE required, any port on loopback redirect URIs.
    pub native: OidcClient,
    pub pid: u32,
    process: Process,
}

/// The node process: killed and reaped on drop.
struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    log: Arc<Mutex<String>>,
    log_reader: Option<thread::JoinHandle<()>>,
}

impl Process {
    fn stop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Everything the process wrote on stderr, once it has stopped.
    fn final_log(&mut self) -> String {
        self.stop();
        if let Some(reader) = self.log_reader.take() {
            let _ = reader.join();
        }
        self.log.lock().unwrap().clone()
    }
}

impl Drop for OidcProvider {
    /// A failing test shows what the provider said about each refused request.
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("oidc-provider log:\n{}", self.log());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Why the provider cannot run here, if it cannot.
fn missing_dependency() -> Option<String> {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => return Some("node is not on PATH (Node.js 20 or later)".into()),
    }
    let installed = oidc_dir().join("node_modules/oidc-provider/package.json");
    if !installed.is_file() {
        return Some(format!("{} is missing", installed.display()));
    }
    None
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

impl OidcProvider {
    /// The provider as oidc-provider configures it (see `server.mjs`), or `None`
    /// after a loud `SKIPPED` line when node or its packages are missing (outside CI).
    pub fn start() -> Option<OidcProvider> {
        OidcProvider::start_with(&[])
    }

    /// The same with `server.mjs` options: `--device-interval=N`,
    /// `--device-code-ttl=S`, `--access-token-ttl=S`, `--salesforce-paths`.
    pub fn start_with(args: &[&str]) -> Option<OidcProvider> {
        if let Some(why) = missing_dependency() {
            assert!(
                !on_ci(),
                "oidc interop tests cannot run: {why}; .ci/run must install node's \
                 packages with `npm ci --prefix tests/oidc`"
            );
            let test = thread::current().name().unwrap_or("oidc").to_string();
            // Straight to fd 2: the test harness captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {test}: {why} (run npm ci in tests/oidc, or make oidc-deps)"
            );
            return None;
        }
        Some(OidcProvider::spawn(args))
    }

    fn spawn(args: &[&str]) -> OidcProvider {
        let mut child = Command::new("node")
            .arg(oidc_dir().join("server.mjs"))
            .args(args)
            .current_dir(oidc_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node tests/oidc/server.mjs: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let log_reader = thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut process = Process {
            stdin: child.stdin.take(),
            child,
            log,
            log_reader: Some(log_reader),
        };
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep the pipe drained until the process exits.
            for _ in lines {}
        });
        let started = Instant::now();
        let line = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "oidc-provider printed nothing within {READY_TIMEOUT:?}; its log:\n{}",
                process.final_log()
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                "oidc-provider exited after {:?} without its JSON line; its log:\n{}",
                started.elapsed(),
                process.final_log()
            ),
        };
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            panic!(
                "oidc-provider's first line is not JSON: {line}\nits log:\n{}",
                process.final_log()
            )
        };
        let text = |key: &str| -> String {
            v[key]
                .as_str()
                .unwrap_or_else(|| panic!("no string {key:?} in {line}"))
                .to_string()
        };
        let client = |kind: &str| OidcClient {
            id: v["clients"][kind]["client_id"]
                .as_str()
                .unwrap_or_else(|| panic!("no clients.{kind}.client_id in {line}"))
                .to_string(),
            secret: v["clients"][kind]["client_secret"]
                .as_str()
                .map(String::from),
        };
        OidcProvider {
            issuer: text("issuer"),
            token_endpoint: text("token_endpoint"),
            device_authorization_endpoint: text("device_authorization_endpoint"),
            verification_uri: text("verification_uri"),
            authorization_endpoint: text("authorization_endpoint"),
            revocation_endpoint: text("revocation_endpoint"),
            userinfo_endpoint: text("userinfo_endpoint"),
            introspection_endpoint: text("introspection_endpoint"),
            discovery_endpoint: text("discovery_endpoint"),
            redirect_uris: v["redirect_uris"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|u| u.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            confidential: client("confidential"),
            native: client("native"),
            pid: v["pid"].as_u64().unwrap_or(0) as u32,
            process,
        }
    }

    /// What the provider logged so far: its warnings and one line per refused request.
    pub fn log(&self) -> String {
        self.process.log.lock().unwrap().clone()
    }

    /// Waits (up to 5 s) until the provider's log holds `needle`: node writes its log
    /// asynchronously, so a line about a request may come after the answer to it.
    pub fn log_has(&self, needle: &str) -> bool {
        let started = std::time::Instant::now();
        while !self.log().contains(needle) {
            if started.elapsed() > Duration::from_secs(5) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// The provider's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        parse_url(&self.issuer).map(|u| u.port).unwrap_or(0)
    }

    /// A user approves a device: opens the verification URI, types `user_code`,
    /// confirms, logs in as `USER` and grants consent. Ok once the provider shows its
    /// success page.
    pub fn approve_device(&self, user_code: &str) -> Result<(), String> {
        let page = self.device_visit(user_code, true)?;
        if page.contains("Sign-in Success") {
            Ok(())
        } else {
            Err(format!("no success page: {}", page_text(&page)))
        }
    }

    /// A user types `user_code` and then aborts on the confirmation page: the next
    /// poll answers `access_denied`.
    pub fn deny_device(&self, user_code: &str) -> Result<(), String> {
        let page = self.device_visit(user_code, false)?;
        if page.contains("The Sign-in request was interrupted") {
            Ok(())
        } else {
            Err(format!("no aborted page: {}", page_text(&page)))
        }
    }

    /// `approve_device` through `verification_uri_complete` (the URL with the code in
    /// it, as a QR code would carry it): no typing, the rest is the same.
    pub fn approve_device_uri(&self, verification_uri_complete: &str) -> Result<(), String> {
        let mut browser = Browser::new(&self.issuer);
        let plan = Plan {
            user_code: None,
            approve: true,
        };
        match browser.visit(verification_uri_complete, &plan)? {
            Outcome::Page(html) if html.contains("Sign-in Success") => Ok(()),
            Outcome::Page(html) => Err(format!("no success page: {}", page_text(&html))),
            Outcome::Redirect(to) => Err(format!("unexpected redirect to {to}")),
        }
    }

    fn device_visit(&self, user_code: &str, approve: bool) -> Result<String, String> {
        let mut browser = Browser::new(&self.issuer);
        let plan = Plan {
            user_code: Some(user_code),
            approve,
        };
        match browser.visit(&self.verification_uri, &plan)? {
            Outcome::Page(html) => Ok(html),
            Outcome::Redirect(to) => Err(format!("unexpected redirect to {to}")),
        }
    }

    /// A user opens an authorization URL, logs in as `USER` and grants consent. Returns
    /// the `Location` the provider finally redirects to (the client's redirect URI with
    /// `code`, `state` and `iss`, or with `error`), without fetching it. An error page
    /// of the provider (a bad `redirect_uri` or `client_id`) is an `Err` with its text.
    pub fn authorize(&self, url: &str) -> Result<String, String> {
        self.authorize_as(url, true)
    }

    /// The same, but the user cancels on the login page: the redirect carries
    /// `error=access_denied`.
    pub fn authorize_deny(&self, url: &str) -> Result<String, String> {
        self.authorize_as(url, false)
    }

    fn authorize_as(&self, url: &str, approve: bool) -> Result<String, String> {
        let mut browser = Browser::new(&self.issuer);
        let plan = Plan {
            user_code: None,
            approve,
        };
        match browser.visit(url, &plan)? {
            Outcome::Redirect(to) => Ok(to),
            Outcome::Page(html) => Err(format!("no redirect, a page: {}", page_text(&html))),
        }
    }
}

// ---------------------------------------------------------------------------------
// A tiny HTTP/1.1 client: one request per connection, `Connection: close`.

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; `Value::Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The body's `error` field, if it has one.
    pub fn error(&self) -> Option<String> {
        self.json()["error"].as_str().map(String::from)
    }
}

struct Url {
    host: String,
    port: u16,
    /// Path and query.
    target: String,
}

fn parse_url(url: &str) -> Result<Url, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not a plain http URL: {url}"))?;
    let (authority, target) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| format!("bad port in {url}"))?),
        None => (authority, 80),
    };
    Ok(Url {
        host: host.to_string(),
        port,
        target,
    })
}

/// Sends one request and reads the whole answer, every step bounded by `IO_TIMEOUT`.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Response, String> {
    let u = parse_url(url)?;
    let addr = (u.host.as_str(), u.port)
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| format!("{url}: {e}"))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| format!("{url}: {e}"))?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\nUser-Agent: sfrefresh-tests\r\n",
        u.target, u.host, u.port
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream
        .write_all(head.as_bytes())
        .map_err(|e| format!("{method} {url}: sending: {e}"))?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut raw)
        .map_err(|e| format!("{method} {url}: reading: {e}"))?;
    parse_response(&raw).map_err(|e| format!("{method} {url}: {e}"))
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers in the answer")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if body.len() < len {
            return Err(format!("body cut short: {} of {len} bytes", body.len()));
        }
        body.truncate(len);
    }
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("chunk cut short".into());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// What stays literal in application/x-www-form-urlencoded (WHATWG): ASCII letters,
/// digits and `*-._`; space becomes `+`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b' ');

/// application/x-www-form-urlencoded, as RFC 6749 appendix B and §2.3.1 want it.
pub fn urlencode(s: &str) -> String {
    utf8_percent_encode(s, FORM).to_string().replace(' ', "+")
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The decoded value of `name` in a URL's query string.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v))
    })
}

/// `Authorization: Basic` for a client, id and secret form-urlencoded first (RFC 6749
/// §2.3.1), which oidc-provider decodes.
pub fn basic(id: &str, secret: &str) -> String {
    let pair = format!("{}:{}", urlencode(id), urlencode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// How a client authenticates on a POST to the provider.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// A public client: `client_id` in the form.
    Public(&'a str),
    /// `Authorization: Basic` (client_secret_basic), no `client_id` in the form.
    Basic(&'a str, &'a str),
    /// `client_id` and `client_secret` in the form (client_secret_post).
    Post(&'a str, &'a str),
}

impl<'a> Auth<'a> {
    pub fn of(client: &'a OidcClient) -> Auth<'a> {
        match &client.secret {
            Some(secret) => Auth::Basic(&client.id, secret),
            None => Auth::Public(&client.id),
        }
    }
}

/// A form POST with client authentication, answered as the provider answers.
pub fn post_form(url: &str, auth: Auth, pairs: &[(&str, &str)]) -> Result<Response, String> {
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    let authorization;
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
    ];
    match auth {
        Auth::Public(id) => all.push(("client_id", id)),
        Auth::Post(id, secret) => {
            all.push(("client_id", id));
            all.push(("client_secret", secret));
        }
        Auth::Basic(id, secret) => {
            authorization = basic(id, secret);
            headers.push(("Authorization", &authorization));
        }
    }
    request("POST", url, &headers, &form(&all))
}

/// A GET with a bearer token.
pub fn get_bearer(url: &str, access_token: &str) -> Result<Response, String> {
    let authorization = format!("Bearer {access_token}");
    request(
        "GET",
        url,
        &[
            ("Authorization", &authorization),
            ("Accept", "application/json"),
        ],
        "",
    )
}

/// A PKCE pair (RFC 7636): a 43-character random verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("system randomness");
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    let challenge = URL_SAFE_NO_PAD.encode(digest.as_ref());
    (verifier, challenge)
}

// ---------------------------------------------------------------------------------
// The browser stand-in: cookies, redirects and the provider's HTML forms.

struct Cookie {
    name: String,
    value: String,
    path: String,
}

struct Browser {
    /// `http://127.0.0.1:PORT`: redirects elsewhere are the client's, not followed.
    origin: String,
    jar: Vec<Cookie>,
}

/// What the user does on the provider's pages.
struct Plan<'a> {
    /// Typed on the device page.
    user_code: Option<&'a str>,
    /// Approve (log in, consent, confirm) or abort.
    approve: bool,
}

enum Outcome {
    /// The provider sent the browser off to this URL (the client's redirect URI).
    Redirect(String),
    /// A page with nothing left to do: the HTML.
    Page(String),
}

/// One HTML form: its id, action and the values it would submit.
struct Form {
    id: Option<String>,
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = value.to_string(),
            None => self.fields.push((name.to_string(), value.to_string())),
        }
    }
}

impl Browser {
    fn new(issuer: &str) -> Browser {
        let origin = match parse_url(issuer) {
            Ok(u) => format!("http://{}:{}", u.host, u.port),
            Err(_) => issuer.to_string(),
        };
        Browser {
            origin,
            jar: Vec::new(),
        }
    }

    fn send(&mut self, method: &str, url: &str, body: Option<&str>) -> Result<Response, String> {
        let path = parse_url(url)?
            .target
            .split('?')
            .next()
            .unwrap_or("/")
            .to_string();
        let cookies = self
            .jar
            .iter()
            .filter(|c| path_matches(&path, &c.path))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = vec![("Accept", "text/html")];
        if !cookies.is_empty() {
            headers.push(("Cookie", &cookies));
        }
        if body.is_some() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        let resp = request(method, url, &headers, body.unwrap_or(""))?;
        for (k, v) in &resp.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                self.store(v, &path);
            }
        }
        Ok(resp)
    }

    fn store(&mut self, set_cookie: &str, request_path: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let mut path = request_path.to_string();
        let mut gone = value.trim().is_empty();
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "path" => path = v.trim().to_string(),
                "max-age" => gone |= v.trim().parse::<i64>().is_ok_and(|s| s <= 0),
                "expires" => gone |= v.contains("1970"),
                _ => {}
            }
        }
        let name = name.trim().to_string();
        self.jar.retain(|c| !(c.name == name && c.path == path));
        if !gone {
            self.jar.push(Cookie {
                name,
                value: value.trim().to_string(),
                path,
            });
        }
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            format!("{}{location}", self.origin)
        } else {
            format!("{}/{location}", self.origin)
        }
    }

    fn submit(&mut self, page_form: &Form) -> Result<(String, Response), String> {
        let pairs: Vec<(&str, &str)> = page_form
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let action = self.absolute(&page_form.action);
        let resp = self.send("POST", &action, Some(&form(&pairs)))?;
        Ok((action, resp))
    }

    /// Opens `url` and acts on each page as `plan` says until the provider redirects
    /// away from itself or shows a page with nothing left to do.
    fn visit(&mut self, url: &str, plan: &Plan) -> Result<Outcome, String> {
        let mut url = url.to_string();
        let mut resp = self.send("GET", &url, None)?;
        let mut seen: Vec<&'static str> = Vec::new();
        for _ in 0..30 {
            if matches!(resp.status, 301 | 302 | 303 | 307 | 308) {
                let location = resp
                    .header("location")
                    .ok_or_else(|| format!("{url}: HTTP {} without Location", resp.status))?;
                let next = self.absolute(location);
                if !next.starts_with(&format!("{}/", self.origin)) {
                    return Ok(Outcome::Redirect(next));
                }
                url = next;
                resp = self.send("GET", &url, None)?;
                continue;
            }
            if resp.status != 200 {
                return Err(format!(
                    "{url}: HTTP {}: {}",
                    resp.status,
                    page_text(&resp.body)
                ));
            }
            let Some(mut form) = parse_forms(&resp.body).into_iter().next() else {
                return Ok(Outcome::Page(resp.body));
            };
            let kind = match (form.id.as_deref(), form.field("prompt")) {
                (Some("op.deviceInputForm"), _) => "device code",
                (Some("op.deviceConfirmForm"), _) => "device confirmation",
                (_, Some("login")) => "login",
                (_, Some("consent")) => "consent",
                // The auto-submitting page of verification_uri_complete.
                (None, None) if form.field("xsrf").is_some() => "form post",
                _ => return Err(format!("{url}: an unknown form: {}", page_text(&resp.body))),
            };
            if seen.contains(&kind) {
                // The same step again: the provider refused what was sent, or (device
                // abort) shows its message on the code page. The caller reads the page.
                return Ok(Outcome::Page(resp.body));
            }
            seen.push(kind);
            match kind {
                "device code" => {
                    let code = plan.user_code.ok_or_else(|| {
                        format!("{url}: asks for a user code: {}", page_text(&resp.body))
                    })?;
                    form.set("user_code", code);
                }
                "device confirmation" if !plan.approve => form.set("abort", "yes"),
                "login" if !plan.approve => {
                    // The page's "[ Cancel ]" link.
                    let abort = links(&resp.body)
                        .into_iter()
                        .find(|href| href.ends_with("/abort"))
                        .ok_or_else(|| format!("{url}: no cancel link"))?;
                    url = self.absolute(&abort);
                    resp = self.send("GET", &url, None)?;
                    continue;
                }
                "login" => {
                    form.set("login", USER);
                    form.set("password", PASSWORD);
                }
                _ => {}
            }
            (url, resp) = self.submit(&form)?;
        }
        Err(format!("{url}: more than 30 steps"))
    }
}

/// RFC 6265 path-match.
fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

/// The attributes of one tag, `<name a="b" c>`, decoded.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return out;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, tail) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let end = body.find(q).unwrap_or(body.len());
                    (&body[..end], &body[(end + 1).min(body.len())..])
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = unescape(v);
            rest = tail;
        }
        out.push((name, value));
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Each `<tag …>` in `html`: its attribute text and where it ends.
fn tags<'a>(html: &'a str, name: &str) -> Vec<(&'a str, usize)> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find(&open) {
        let start = from + i + open.len();
        let Some(len) = html[start..].find('>') else {
            break;
        };
        let next = html[start..].chars().next();
        if next.is_some_and(|c| c.is_whitespace() || c == '>') {
            out.push((&html[start..start + len], start + len + 1));
        }
        from = start + len;
    }
    out
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// The forms of a page with the name/value of each `<input>` they hold.
fn parse_forms(html: &str) -> Vec<Form> {
    tags(html, "form")
        .into_iter()
        .map(|(tag, body_start)| {
            let attrs = attributes(tag);
            let body_end = html[body_start..]
                .find("</form>")
                .map_or(html.len(), |i| body_start + i);
            let fields = tags(&html[body_start..body_end], "input")
                .into_iter()
                .filter_map(|(input, _)| {
                    let a = attributes(input);
                    Some((attr(&a, "name")?, attr(&a, "value").unwrap_or_default()))
                })
                .collect();
            Form {
                id: attr(&attrs, "id"),
                action: attr(&attrs, "action").unwrap_or_default(),
                fields,
            }
        })
        .collect()
}

fn links(html: &str) -> Vec<String> {
    tags(html, "a")
        .into_iter()
        .filter_map(|(tag, _)| attr(&attributes(tag), "href"))
        .collect()
}

/// A page's visible text, folded and cut, for error messages.
pub fn page_text(html: &str) -> String {
    let body = html.find("<body").map_or(html, |i| &html[i..]);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let folded = unescape(&text.split_whitespace().collect::<Vec<_>>().join(" "));
    folded.chars().take(400).collect()
}

// ---------------------------------------------------------------------------------
// The fixture proven: each flow by hand, the test playing the OAuth client.

/// The fixture or, when node's packages are missing outside CI, a skipped test.
macro_rules! provider {
    ($($arg:expr),* $(,)?) => {
        match OidcProvider::start_with(&[$($arg),*]) {
            Some(op) => op,
            None => return,
        }
    };
}

fn ok<T>(r: Result<T, String>, op: &OidcProvider) -> T {
    r.unwrap_or_else(|e| panic!("{e}\nprovider log:\n{}", op.log()))
}

fn device_authorization(op: &OidcProvider, auth: Auth, scope: &str) -> Value {
    let resp = ok(
        post_form(&op.device_authorization_endpoint, auth, &[("scope", scope)]),
        op,
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json()
}

fn poll(op: &OidcProvider, auth: Auth, device_code: &str) -> Response {
    ok(
        post_form(
            &op.token_endpoint,
            auth,
            &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
        ),
        op,
    )
}

/// A 400 (or `status`) OAuth error answer with this `error`.
fn assert_oauth_error(resp: &Response, status: u16, error: &str, description: &str) {
    assert_eq!(
        (resp.status, resp.json()["error"].as_str()),
        (status, Some(error)),
        "{}",
        resp.body
    );
    assert_eq!(
        resp.json()["error_description"].as_str(),
        Some(description),
        "{}",
        resp.body
    );
}

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// An opaque token as oidc-provider makes them: 43 base64url characters.
fn assert_opaque(token: &Value) {
    let t = token.as_str().unwrap_or_default();
    assert!(
        t.len() == 43
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "not an opaque token: {token}"
    );
}

fn authorize_url(op: &OidcProvider, pairs: &[(&str, &str)]) -> String {
    format!("{}?{}", op.authorization_endpoint, form(pairs))
}

/// A code through login and consent for `client` (with PKCE), exchanged for tokens.
fn code_tokens(op: &OidcProvider, client: &OidcClient, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let redirect = "http://127.0.0.1:1717/OauthRedirect";
    let url = authorize_url(
        op,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("prompt", "consent"),
            ("state", "st"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let location = ok(op.authorize(&url), op);
    let code = query_param(&location, "code").expect("a code");
    let resp = ok(
        post_form(
            &op.token_endpoint,
            Auth::of(client),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", &verifier),
            ],
        ),
        op,
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json()
}

fn refresh(op: &OidcProvider, auth: Auth, refresh_token: &str) -> Response {
    ok(
        post_form(
            &op.token_endpoint,
            auth,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        ),
        op,
    )
}

fn userinfo(op: &OidcProvider, access_token: &str) -> Response {
    ok(get_bearer(&op.userinfo_endpoint, access_token), op)
}

#[test]
fn starts_fast_prints_its_endpoints_and_dies_on_drop() {
    let t = Instant::now();
    let op = provider!();
    let started = t.elapsed();
    let port = op.port();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(op.issuer, base);
    assert_eq!(op.token_endpoint, format!("{base}/token"));
    assert_eq!(
        op.device_authorization_endpoint,
        format!("{base}/device/auth")
    );
    assert_eq!(op.verification_uri, format!("{base}/device"));
    assert_eq!(op.authorization_endpoint, format!("{base}/auth"));
    assert_eq!(op.revocation_endpoint, format!("{base}/token/revocation"));
    assert_eq!(op.userinfo_endpoint, format!("{base}/me"));
    assert_eq!(
        op.introspection_endpoint,
        format!("{base}/token/introspection")
    );
    assert_eq!(
        op.redirect_uris,
        [
            "http://localhost:1717/OauthRedirect",
            "http://127.0.0.1:1717/OauthRedirect"
        ]
    );
    assert_eq!(op.confidential.id, "sfrefresh-confidential");
    assert!(op.confidential.secret().ends_with(":+%/&="));
    assert_eq!(
        (op.native.id.as_str(), op.native.secret.as_deref()),
        ("sfrefresh-native", None)
    );

    // Discovery agrees with the JSON line and shows what the provider supports.
    let disco = ok(request("GET", &op.discovery_endpoint, &[], ""), &op).json();
    assert_eq!(disco["issuer"], json!(op.issuer));
    assert_eq!(disco["token_endpoint"], json!(op.token_endpoint));
    assert_eq!(
        disco["device_authorization_endpoint"],
        json!(op.device_authorization_endpoint)
    );
    assert_eq!(disco["revocation_endpoint"], json!(op.revocation_endpoint));
    assert_eq!(disco["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        disco["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_jwt",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );

    // Budget: ~0.5 s on this machine; generous for a loaded 2-core CI box.
    assert!(
        started < Duration::from_secs(5),
        "took {started:?} to start"
    );
    drop(op);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the provider outlived its fixture"
    );
}

#[test]
fn device_flow_pending_then_tokens_with_a_refresh_token() {
    let op = provider!();
    let native = op.native.clone();
    let auth = Auth::of(&native);
    let d = device_authorization(&op, auth, "openid offline_access");
    // No `interval`: oidc-provider never sends one (RFC 8628 says: then 5 s).
    assert_eq!(
        keys(&d),
        [
            "device_code",
            "expires_in",
            "user_code",
            "verification_uri",
            "verification_uri_complete"
        ]
    );
    assert_eq!(d["expires_in"], json!(600));
    assert_eq!(d["verification_uri"], json!(op.verification_uri));
    let user_code = d["user_code"].as_str().unwrap();
    // base-20 (no vowels, no look-alikes) in the mask ****-****.
    assert!(
        user_code.len() == 9
            && user_code.char_indices().all(|(i, c)| if i == 4 {
                c == '-'
            } else {
                "BCDFGHJKLMNPQRSTVWXZ".contains(c)
            }),
        "{user_code}"
    );
    assert_eq!(
        d["verification_uri_complete"],
        json!(format!("{}?user_code={user_code}", op.verification_uri))
    );
    let device_code = d["device_code"].as_str().unwrap();
    assert_opaque(&d["device_code"]);

    let pending = poll(&op, auth, device_code);
    assert_oauth_error(
        &pending,
        400,
        "authorization_pending",
        "authorization request is still pending as the end-user hasn't yet completed the user interaction steps",
    );
    // Polling at once again is not punished: this server never says slow_down.
    assert_eq!(
        poll(&op, auth, device_code).error().as_deref(),
        Some("authorization_pending")
    );

    ok(op.approve_device(user_code), &op);
    let resp = poll(&op, auth, device_code);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let tokens = resp.json();
    assert_eq!(
        keys(&tokens),
        [
            "access_token",
            "expires_in",
            "id_token",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(tokens["token_type"], json!("Bearer"));
    assert_eq!(tokens["expires_in"], json!(3600));
    assert_eq!(tokens["scope"], json!("openid offline_access"));
    assert_opaque(&tokens["access_token"]);
    assert_opaque(&tokens["refresh_token"]);

    // The user is alice.
    let me = userinfo(&op, tokens["access_token"].as_str().unwrap());
    assert_eq!((me.status, me.json()), (200, json!({"sub": USER})));

    // The device code is spent.
    assert_oauth_error(
        &poll(&op, auth, device_code),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
}

#[test]
fn device_flow_without_offline_access_gets_no_refresh_token() {
    let op = provider!();
    let native = op.native.clone();
    let auth = Auth::of(&native);
    let d = device_authorization(&op, auth, "openid");
    // This time through the URL with the code in it.
    ok(
        op.approve_device_uri(d["verification_uri_complete"].as_str().unwrap()),
        &op,
    );
    let resp = poll(&op, auth, d["device_code"].as_str().unwrap());
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        keys(&resp.json()),
        [
            "access_token",
            "expires_in",
            "id_token",
            "scope",
            "token_type"
        ]
    );
}

#[test]
fn device_flow_denied_is_access_denied() {
    let op = provider!();
    let native = op.native.clone();
    let auth = Auth::of(&native);
    let d = device_authorization(&op, auth, "openid offline_access");
    let device_code = d["device_code"].as_str().unwrap();
    ok(op.deny_device(d["user_code"].as_str().unwrap()), &op);
    assert_oauth_error(
        &poll(&op, auth, device_code),
        400,
        "access_denied",
        "End-User aborted interaction",
    );
    // Once reported, the device code is gone.
    assert_oauth_error(
        &poll(&op, auth, device_code),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
}

#[test]
fn device_flow_expired_code_and_the_interval_knob() {
    let op = provider!("--device-code-ttl=1", "--device-interval=1");
    let native = op.native.clone();
    let auth = Auth::of(&native);
    let d = device_authorization(&op, auth, "openid offline_access");
    assert_eq!(
        (d["expires_in"].clone(), d["interval"].clone()),
        (json!(1), json!(1))
    );
    thread::sleep(Duration::from_millis(2100));
    assert_oauth_error(
        &poll(&op, auth, d["device_code"].as_str().unwrap()),
        400,
        "expired_token",
        "device code is expired",
    );
    // Nor can a user approve it any more.
    let err = op
        .approve_device(d["user_code"].as_str().unwrap())
        .unwrap_err();
    assert!(err.contains("The code you entered is incorrect"), "{err}");
}

#[test]
fn device_flow_for_the_confidential_client_needs_its_secret_at_both_endpoints() {
    let op = provider!();
    let c = op.confidential.clone();
    let anonymous = ok(
        post_form(
            &op.device_authorization_endpoint,
            Auth::Public(&c.id),
            &[("scope", "openid")],
        ),
        &op,
    );
    assert_oauth_error(
        &anonymous,
        401,
        "invalid_client",
        "client authentication failed",
    );
    let d = device_authorization(&op, Auth::Post(&c.id, c.secret()), "openid offline_access");
    let device_code = d["device_code"].as_str().unwrap();
    ok(op.approve_device(d["user_code"].as_str().unwrap()), &op);
    assert_oauth_error(
        &poll(&op, Auth::Public(&c.id), device_code),
        401,
        "invalid_client",
        "client authentication failed",
    );
    let resp = poll(&op, Auth::Basic(&c.id, c.secret()), device_code);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(resp.json()["refresh_token"].is_string(), "{}", resp.body);
}

#[test]
fn client_credentials_with_basic_or_post_and_no_refresh_token() {
    let op = provider!();
    let c = op.confidential.clone();
    for auth in [
        Auth::Basic(&c.id, c.secret()),
        Auth::Post(&c.id, c.secret()),
    ] {
        let resp = ok(
            post_form(
                &op.token_endpoint,
                auth,
                &[("grant_type", "client_credentials"), ("scope", "api")],
            ),
            &op,
        );
        assert_eq!(resp.status, 200, "{auth:?}: {}", resp.body);
        let tokens = resp.json();
        assert_eq!(
            keys(&tokens),
            ["access_token", "expires_in", "scope", "token_type"]
        );
        assert_eq!(
            (
                &tokens["token_type"],
                &tokens["expires_in"],
                &tokens["scope"]
            ),
            (&json!("Bearer"), &json!(3600), &json!("api"))
        );
        assert_opaque(&tokens["access_token"]);
    }
    // Without scope: no scope in the answer either.
    let resp = ok(
        post_form(
            &op.token_endpoint,
            Auth::Basic(&c.id, c.secret()),
            &[("grant_type", "client_credentials")],
        ),
        &op,
    );
    assert_eq!(
        keys(&resp.json()),
        ["access_token", "expires_in", "token_type"]
    );
}

#[test]
fn client_authentication_errors() {
    let op = provider!();
    let c = op.confidential.clone();
    let cc = [("grant_type", "client_credentials")];
    let token = |auth: Auth| ok(post_form(&op.token_endpoint, auth, &cc), &op);

    // A wrong secret, either way: 401 invalid_client (the detail is only logged).
    assert_oauth_error(
        &token(Auth::Basic(&c.id, "wrong")),
        401,
        "invalid_client",
        "client authentication failed",
    );
    assert_oauth_error(
        &token(Auth::Post(&c.id, "wrong")),
        401,
        "invalid_client",
        "client authentication failed",
    );
    // Basic with the secret not form-urlencoded (its '%' is not an escape).
    let raw = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", c.id, c.secret()))
    );
    let resp = ok(
        request(
            "POST",
            &op.token_endpoint,
            &[
                ("Authorization", &raw),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            "grant_type=client_credentials",
        ),
        &op,
    );
    assert_oauth_error(
        &resp,
        400,
        "invalid_request",
        "client_id and client_secret in the authorization header are not properly encoded",
    );
    // Basic and a form secret at once.
    let both = ok(
        request(
            "POST",
            &op.token_endpoint,
            &[
                ("Authorization", &basic(&c.id, c.secret())),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &form(&[
                ("grant_type", "client_credentials"),
                ("client_secret", c.secret()),
            ]),
        ),
        &op,
    );
    assert_oauth_error(
        &both,
        400,
        "invalid_request",
        "client authentication must only be provided using one mechanism",
    );
    // An unknown client, and the public client asking for a grant it lacks.
    assert_oauth_error(
        &token(Auth::Post("nobody", "x")),
        401,
        "invalid_client",
        "client authentication failed",
    );
    assert_oauth_error(
        &token(Auth::Public(&op.native.id)),
        400,
        "invalid_request",
        "requested grant type is not allowed for this client",
    );
    let password = ok(
        post_form(
            &op.token_endpoint,
            Auth::Post(&c.id, c.secret()),
            &[
                ("grant_type", "password"),
                ("username", USER),
                ("password", "x"),
            ],
        ),
        &op,
    );
    assert_oauth_error(
        &password,
        400,
        "unsupported_grant_type",
        "unsupported grant_type requested",
    );
}

#[test]
fn authorization_code_with_pkce_for_the_native_client_on_any_loopback_port() {
    let op = provider!();
    let client = op.native.id.clone();
    let (verifier, challenge) = pkce();
    // RFC 8252 §7.3: a native client's loopback redirect may use any port.
    let redirect = "http://127.0.0.1:54321/OauthRedirect";
    let url = authorize_url(
        &op,
        &[
            ("response_type", "code"),
            ("client_id", &client),
            ("redirect_uri", redirect),
            ("scope", "openid offline_access"),
            ("prompt", "consent"),
            ("state", "s-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let location = ok(op.authorize(&url), &op);
    let code = query_param(&location, "code").unwrap_or_default();
    assert_eq!(
        location,
        format!(
            "{redirect}?code={code}&state=s-1&iss={}",
            urlencode(&op.issuer)
        )
    );
    assert_opaque(&json!(code));

    let exchange = |code: &str, verifier: &str| {
        ok(
            post_form(
                &op.token_endpoint,
                Auth::Public(&client),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                ],
            ),
            &op,
        )
    };
    // A wrong verifier is refused, and that does not spend the code.
    assert_oauth_error(
        &exchange(&code, &pkce().0),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
    let resp = exchange(&code, &verifier);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let tokens = resp.json();
    assert_eq!(
        keys(&tokens),
        [
            "access_token",
            "expires_in",
            "id_token",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(tokens["scope"], json!("openid offline_access"));
    // A code works once.
    assert_oauth_error(
        &exchange(&code, &verifier),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
}

#[test]
fn authorization_code_rules_pkce_consent_redirects_and_denial() {
    let op = provider!();
    let native = op.native.id.clone();
    let confidential = op.confidential.id.clone();
    let (verifier, challenge) = pkce();
    let base = |client: &str, redirect: &str| -> Vec<(String, String)> {
        [
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", redirect),
            ("scope", "openid offline_access"),
            ("state", "s-2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let url = |pairs: &[(String, String)], extra: &[(&str, &str)]| {
        let mut all: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(extra);
        authorize_url(&op, &all)
    };
    let pkce_params = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let redirect = "http://localhost:1717/OauthRedirect";

    // The public client without PKCE: an error redirect, before any login.
    let location = ok(op.authorize(&url(&base(&native, redirect), &[])), &op);
    assert_eq!(
        location,
        format!(
            "{redirect}?error=invalid_request&error_description={}&state=s-2&iss={}",
            urlencode("Authorization Server policy requires PKCE to be used for this request"),
            urlencode(&op.issuer)
        )
    );
    // plain is not a method this server knows.
    let location = ok(
        op.authorize(&url(
            &base(&native, redirect),
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "plain"),
            ],
        )),
        &op,
    );
    assert_eq!(
        query_param(&location, "error_description").as_deref(),
        Some("not supported value of code_challenge_method")
    );

    // The confidential (web) client: exact redirect URIs, so another port is an error
    // page, not a redirect.
    let err = op
        .authorize(&url(
            &base(&confidential, "http://localhost:5000/OauthRedirect"),
            &pkce_params,
        ))
        .unwrap_err();
    assert!(
        err.contains("HTTP 400")
            && err.contains(
                "redirect_uri did not match any of the client's registered redirect_uris"
            ),
        "{err}"
    );

    // Without prompt=consent, offline_access is dropped: tokens but no refresh token.
    let location = ok(
        op.authorize(&url(&base(&native, redirect), &pkce_params)),
        &op,
    );
    let code = query_param(&location, "code").unwrap_or_default();
    let resp = ok(
        post_form(
            &op.token_endpoint,
            Auth::Public(&native),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", &verifier),
            ],
        ),
        &op,
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        (keys(&resp.json()), &resp.json()["scope"]),
        (
            vec![
                "access_token".to_string(),
                "expires_in".into(),
                "id_token".into(),
                "scope".into(),
                "token_type".into()
            ],
            &json!("openid")
        )
    );

    // The user cancels on the login page.
    let location = ok(
        op.authorize_deny(&url(&base(&native, redirect), &pkce_params)),
        &op,
    );
    assert_eq!(
        location,
        format!(
            "{redirect}?error=access_denied&error_description={}&state=s-2&iss={}",
            urlencode("End-User aborted interaction"),
            urlencode(&op.issuer)
        )
    );
}

#[test]
fn refresh_rotates_and_a_replay_revokes_the_whole_family() {
    let op = provider!();
    let c = op.confidential.clone();
    let tokens = code_tokens(&op, &c, "openid offline_access");
    let rt1 = tokens["refresh_token"].as_str().unwrap().to_string();
    // sfrefresh's default: the secret in the form.
    let post = Auth::Post(&c.id, c.secret());

    let resp = refresh(&op, post, &rt1);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let second = resp.json();
    assert_eq!(
        keys(&second),
        [
            "access_token",
            "expires_in",
            "id_token",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    let rt2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt2, rt1, "rotation: a new refresh token every time");
    assert_ne!(second["access_token"], tokens["access_token"]);
    assert_eq!(second["scope"], json!("openid offline_access"));
    // Both access tokens are good so far.
    for at in [&tokens["access_token"], &second["access_token"]] {
        assert_eq!(userinfo(&op, at.as_str().unwrap()).status, 200);
    }

    // Basic works for refresh too, and rotates again.
    let resp = refresh(&op, Auth::Basic(&c.id, c.secret()), &rt2);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let third = resp.json();
    let rt3 = third["refresh_token"].as_str().unwrap().to_string();
    assert!(rt3 != rt2 && rt3 != rt1);

    // Replaying a rotated-out token: invalid_grant ...
    assert_oauth_error(
        &refresh(&op, post, &rt1),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
    assert!(
        op.log_has("invalid_grant: grant request is invalid (refresh token already used)"),
        "{}",
        op.log()
    );
    // ... and the whole grant is revoked: the current refresh token and every access
    // token die with it, as Salesforce does.
    assert_oauth_error(
        &refresh(&op, post, &rt3),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
    let me = userinfo(&op, third["access_token"].as_str().unwrap());
    assert_eq!(
        (me.status, me.error().as_deref()),
        (401, Some("invalid_token")),
        "{}",
        me.body
    );
}

#[test]
fn refresh_for_the_public_client_and_wrong_client() {
    let op = provider!();
    let native = op.native.clone();
    let tokens = code_tokens(&op, &native, "openid offline_access");
    let rt1 = tokens["refresh_token"].as_str().unwrap();
    let c = op.confidential.clone();
    // Another client's refresh token: refused, and not consumed.
    assert_oauth_error(
        &refresh(&op, Auth::Post(&c.id, c.secret()), rt1),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
    let resp = refresh(&op, Auth::Public(&native.id), rt1);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_ne!(resp.json()["refresh_token"].as_str(), Some(rt1));
    // Unknown token.
    assert_oauth_error(
        &refresh(&op, Auth::Public(&native.id), "no-such-token"),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
}

#[test]
fn revocation_of_refresh_and_access_tokens() {
    let op = provider!();
    let c = op.confidential.clone();
    let post = Auth::Post(&c.id, c.secret());
    let revoke = |token: &str, hint: &str| {
        ok(
            post_form(
                &op.revocation_endpoint,
                post,
                &[("token", token), ("token_type_hint", hint)],
            ),
            &op,
        )
    };

    // Revoking the access token revokes every token of its grant: the refresh token
    // too (oidc-provider's revoke-by-grant; only the consent record survives).
    let tokens = code_tokens(&op, &c, "openid offline_access");
    let at = tokens["access_token"].as_str().unwrap();
    let resp = revoke(at, "access_token");
    assert_eq!((resp.status, resp.body.as_str()), (200, ""));
    assert_eq!(userinfo(&op, at).status, 401);
    assert_oauth_error(
        &refresh(&op, post, tokens["refresh_token"].as_str().unwrap()),
        400,
        "invalid_grant",
        "grant request is invalid",
    );

    // Revoking the refresh token: its access tokens go with it.
    let tokens = code_tokens(&op, &c, "openid offline_access");
    let resp = refresh(&op, post, tokens["refresh_token"].as_str().unwrap());
    assert_eq!(resp.status, 200, "{}", resp.body);
    let fresh = resp.json();
    assert_eq!(
        userinfo(&op, fresh["access_token"].as_str().unwrap()).status,
        200
    );
    let resp = revoke(fresh["refresh_token"].as_str().unwrap(), "refresh_token");
    assert_eq!((resp.status, resp.body.as_str()), (200, ""));
    assert_oauth_error(
        &refresh(&op, post, fresh["refresh_token"].as_str().unwrap()),
        400,
        "invalid_grant",
        "grant request is invalid",
    );
    assert_eq!(
        userinfo(&op, fresh["access_token"].as_str().unwrap()).status,
        401
    );

    // Unknown or already revoked tokens: still 200 (RFC 7009 §2.2), no hint needed.
    let resp = ok(
        post_form(&op.revocation_endpoint, post, &[("token", "no-such-token")]),
        &op,
    );
    assert_eq!((resp.status, resp.body.as_str()), (200, ""));
    // A wrong secret is refused.
    let resp = ok(
        post_form(
            &op.revocation_endpoint,
            Auth::Post(&c.id, "wrong"),
            &[("token", "x")],
        ),
        &op,
    );
    assert_oauth_error(&resp, 401, "invalid_client", "client authentication failed");
    // The public client revokes its own tokens with client_id only.
    let native = op.native.clone();
    let tokens = code_tokens(&op, &native, "openid offline_access");
    let resp = ok(
        post_form(
            &op.revocation_endpoint,
            Auth::Public(&native.id),
            &[("token", tokens["refresh_token"].as_str().unwrap())],
        ),
        &op,
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        refresh(
            &op,
            Auth::Public(&native.id),
            tokens["refresh_token"].as_str().unwrap()
        )
        .error()
        .as_deref(),
        Some("invalid_grant")
    );
}

#[test]
fn userinfo_and_introspection_with_the_access_token() {
    let op = provider!();
    let c = op.confidential.clone();
    let tokens = code_tokens(&op, &c, "openid email offline_access");
    let at = tokens["access_token"].as_str().unwrap();
    let me = userinfo(&op, at);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json(),
        json!({"sub": USER, "email": "alice@example.test", "email_verified": true})
    );

    // No token, a bad token, a client-credentials token (no user).
    let none = ok(request("GET", &op.userinfo_endpoint, &[], ""), &op);
    assert_oauth_error(&none, 401, "invalid_token", "no access token provided");
    // RFC 6750 §3.1: no error attributes when the request had no credentials.
    assert_eq!(
        none.header("www-authenticate"),
        Some(format!("Bearer realm=\"{}\"", op.issuer).as_str())
    );
    assert_oauth_error(
        &userinfo(&op, "not-a-token"),
        401,
        "invalid_token",
        "invalid token provided",
    );
    let cc = ok(
        post_form(
            &op.token_endpoint,
            Auth::Basic(&c.id, c.secret()),
            &[("grant_type", "client_credentials")],
        ),
        &op,
    )
    .json();
    assert_oauth_error(
        &userinfo(&op, cc["access_token"].as_str().unwrap()),
        401,
        "invalid_token",
        "invalid token provided",
    );

    // Introspection (RFC 7662) with client authentication.
    let inspect = |token: &str| {
        ok(
            post_form(
                &op.introspection_endpoint,
                Auth::Basic(&c.id, c.secret()),
                &[("token", token)],
            ),
            &op,
        )
        .json()
    };
    // The answer without its two timestamps, and the lifetime they span.
    let without_times = |token: &str| {
        let mut info = inspect(token);
        let (exp, iat) = (info["exp"].as_u64(), info["iat"].as_u64());
        let obj = info.as_object_mut().expect("a JSON object");
        obj.remove("exp");
        obj.remove("iat");
        (info, exp.zip(iat).map(|(e, i)| e - i))
    };
    assert_eq!(
        without_times(at),
        (
            json!({"active": true, "sub": USER, "client_id": c.id, "iss": op.issuer,
                   "scope": "openid email offline_access", "token_type": "Bearer"}),
            Some(3600)
        )
    );
    // A refresh token: no token_type, a 14-day lifetime.
    assert_eq!(
        without_times(tokens["refresh_token"].as_str().unwrap()),
        (
            json!({"active": true, "sub": USER, "client_id": c.id, "iss": op.issuer,
                   "scope": "openid email offline_access"}),
            Some(14 * 24 * 3600)
        )
    );
    assert_eq!(inspect("no-such-token"), json!({"active": false}));
}

#[test]
fn salesforce_paths() {
    let op = provider!("--salesforce-paths");
    let base = &op.issuer;
    assert_eq!(op.token_endpoint, format!("{base}/services/oauth2/token"));
    assert_eq!(
        op.authorization_endpoint,
        format!("{base}/services/oauth2/authorize")
    );
    assert_eq!(
        op.revocation_endpoint,
        format!("{base}/services/oauth2/revoke")
    );
    assert_eq!(
        op.introspection_endpoint,
        format!("{base}/services/oauth2/introspect")
    );
    assert_eq!(
        op.userinfo_endpoint,
        format!("{base}/services/oauth2/userinfo")
    );
    // Every flow works there the same way.
    let c = op.confidential.clone();
    let tokens = code_tokens(&op, &c, "openid offline_access api");
    let resp = refresh(
        &op,
        Auth::Post(&c.id, c.secret()),
        tokens["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["scope"], json!("openid offline_access api"));
    // sfrefresh finds the token endpoint from --login-url alone.
    let dir = crate::util::TempDir::new();
    let file = dir.write("token.json", &format!("{:#}\n", resp.json()));
    let out = crate::util::run(
        crate::util::sfrefresh()
            .args(["--client-id", &c.id, "--login-url", &op.issuer, "-q"])
            .env("SF_CLIENT_SECRET", c.secret())
            .arg(&file),
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", op.log());
    let d = device_authorization(&op, Auth::of(&op.native), "openid");
    ok(op.approve_device(d["user_code"].as_str().unwrap()), &op);
    let resp = poll(
        &op,
        Auth::of(&op.native),
        d["device_code"].as_str().unwrap(),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
}

/// Today's sfrefresh (refresh only) against the real server: both client auth forms
/// with the hostile secret, rotation saved, and a replayed old file refused (exit 5).
#[test]
fn sfrefresh_refreshes_against_oidc_provider_with_post_and_basic() {
    use crate::util::{TempDir, run, sfrefresh};
    let op = provider!();
    let c = op.confidential.clone();
    let tokens = code_tokens(&op, &c, "openid offline_access");
    let dir = TempDir::new();
    let first = format!("{tokens:#}\n");
    let file = dir.write("token.json", &first);
    let stale = dir.write("stale.json", &first);
    let refresh_file = |path: &Path, client_auth: &str| {
        run(sfrefresh()
            .args(["--client-id", &c.id, "--token-url", &op.token_endpoint])
            .args(["--client-auth", client_auth, "--timeout", "10"])
            .env("SF_CLIENT_SECRET", c.secret())
            .arg(path))
    };
    let mut rt = tokens["refresh_token"].clone();
    for client_auth in ["post", "basic"] {
        let out = refresh_file(&file, client_auth);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr),
            (
                0,
                "",
                format!(
                    "sfrefresh: refreshed token for {} (refresh token rotated)\n",
                    op.token_endpoint
                )
            ),
            "{client_auth}; provider log:\n{}",
            op.log()
        );
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).expect("a JSON file");
        // The answer's fields over the old ones, and issued_at added (none in the answer).
        assert_eq!(
            keys(&saved),
            [
                "access_token",
                "expires_in",
                "id_token",
                "issued_at",
                "refresh_token",
                "scope",
                "token_type"
            ]
        );
        assert_ne!(
            saved["refresh_token"], rt,
            "{client_auth}: rotated token saved"
        );
        assert_eq!(
            userinfo(&op, saved["access_token"].as_str().unwrap()).status,
            200
        );
        rt = saved["refresh_token"].clone();
    }
    // A copy of the first file replays a rotated-out token: refused, and the family
    // is gone, so the current file fails next too.
    let out = refresh_file(&stale, "post");
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("invalid_grant"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&stale).unwrap(), first);
    assert_eq!(refresh_file(&file, "post").code, 5);
}

/// `sfrefresh revoke` against the real server's RFC 7009 endpoint: the file goes, and
/// the whole grant is dead (refresh and userinfo both refused); client authentication
/// as for a refresh (post, Basic, a public client's id alone); a wrong secret changes
/// nothing; and a derived URL that is not a revocation endpoint is said to be so.
#[test]
fn sfrefresh_revoke_against_oidc_provider() {
    use crate::util::{TempDir, assert_untouched, run, sfrefresh};
    let op = provider!();
    let c = op.confidential.clone();
    let dir = TempDir::new();
    let revoke = |client: &OidcClient, file: &Path, extra: &[&str]| {
        let mut cmd = sfrefresh();
        cmd.args(["revoke", "--client-id", &client.id])
            .args(["--token-url", &op.token_endpoint, "--timeout", "10"])
            .args(extra)
            .arg(file);
        if let Some(secret) = &client.secret {
            cmd.env("SF_CLIENT_SECRET", secret);
        }
        run(&mut cmd)
    };
    let with_url = ["--revoke-url", op.revocation_endpoint.as_str()];
    for (client, extra) in [
        (&c, vec!["--client-auth", "post"]),
        (&c, vec!["--client-auth", "basic", "--keep-file"]),
        (&op.native, vec![]),
    ] {
        let tokens = code_tokens(&op, client, "openid offline_access");
        let file = dir.write("token.json", &format!("{tokens:#}\n"));
        let out = revoke(client, &file, &[&with_url[..], &extra[..]].concat());
        let kept = extra.contains(&"--keep-file");
        let done = if kept {
            format!(
                "{} is kept without access_token and refresh_token",
                file.display()
            )
        } else {
            format!("removed {}", file.display())
        };
        assert_eq!(
            (out.code, out.stderr),
            (
                0,
                format!(
                    "sfrefresh: revoked the refresh token for {}; {done}\n",
                    op.token_endpoint
                )
            ),
            "{extra:?}; provider log:\n{}",
            op.log()
        );
        assert_eq!(file.exists(), kept);
        let auth = match &client.secret {
            Some(secret) => Auth::Post(&client.id, secret),
            None => Auth::Public(&client.id),
        };
        let rt = tokens["refresh_token"].as_str().unwrap();
        assert_eq!(
            refresh(&op, auth, rt).error().as_deref(),
            Some("invalid_grant")
        );
        let at = tokens["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&op, at).status, 401);
    }
    // A wrong secret: 401 invalid_client, exit 5, the file as it was.
    let tokens = code_tokens(&op, &c, "openid offline_access");
    let text = format!("{tokens:#}\n");
    let file = dir.write("token.json", &text);
    let wrong = OidcClient {
        id: c.id.clone(),
        secret: Some("wrong".into()),
    };
    let out = revoke(&wrong, &file, &with_url);
    assert_eq!(
        (out.code, out.stderr),
        (
            5,
            format!(
                "sfrefresh: error: {}: {} answered HTTP 401: the revocation was refused: \
                 invalid_client: client authentication failed; {} was not changed\n\
                 sfrefresh: hint: revoking takes the same client authentication as refreshing: \
                 check --client-id, --client-secret-file (or SF_CLIENT_SECRET) and --client-auth\n",
                file.display(),
                op.revocation_endpoint,
                file.display()
            )
        )
    );
    assert_untouched(&dir, &file, &text);
    // /token made /revoke is not this server's revocation endpoint (/token/revocation).
    let out = revoke(&c, &file, &[]);
    let derived = op.token_endpoint.replace("/token", "/revoke");
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "sfrefresh: error: {}: {derived} answered HTTP 404: this is not a revocation endpoint",
            file.display()
        )),
        "{}",
        out.stderr
    );
    assert_untouched(&dir, &file, &text);
    assert_eq!(
        userinfo(&op, tokens["access_token"].as_str().unwrap()).status,
        200
    );
}

/// With Salesforce's paths the revocation endpoint is found beside the token endpoint,
/// which `--login-url` alone names.
#[test]
fn sfrefresh_revoke_finds_the_salesforce_path_by_itself() {
    use crate::util::{TempDir, run, sfrefresh};
    let op = provider!("--salesforce-paths");
    let c = op.confidential.clone();
    let tokens = code_tokens(&op, &c, "openid offline_access");
    let dir = TempDir::new();
    let file = dir.write("token.json", &format!("{tokens:#}\n"));
    let out = run(sfrefresh()
        .args([
            "revoke",
            "-v",
            "--client-id",
            &c.id,
            "--login-url",
            &op.issuer,
        ])
        .env("SF_CLIENT_SECRET", c.secret())
        .arg(&file));
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, op.log());
    assert!(
        out.stderr.contains(&format!(
            "sfrefresh: revocation endpoint {} (from the token endpoint, /token made /revoke)\n",
            op.revocation_endpoint
        )),
        "{}",
        out.stderr
    );
    assert!(!file.exists());
    assert_eq!(
        userinfo(&op, tokens["access_token"].as_str().unwrap()).status,
        401
    );
}

/// `status --check --userinfo-url`: the real userinfo endpoint says yes (200, the user)
/// or no (401 invalid_token), and nothing is written either way.
#[test]
fn sfrefresh_status_check_against_oidc_provider_userinfo() {
    use crate::util::{TempDir, run, sfrefresh};
    let op = provider!();
    let c = op.confidential.clone();
    let tokens = code_tokens(&op, &c, "openid offline_access");
    let dir = TempDir::new();
    let text = format!("{tokens:#}\n");
    let file = dir.write("token.json", &text);
    let check = || {
        run(sfrefresh()
            .args(["status", "--check", "--userinfo-url", &op.userinfo_endpoint])
            .arg(&file))
    };
    let out = check();
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", op.log());
    assert!(
        out.stdout.ends_with(&format!(
            "  check:         the access token works (HTTP 200 from {}, user {USER})\n",
            op.userinfo_endpoint
        )),
        "{}",
        out.stdout
    );
    let resp = ok(
        post_form(
            &op.revocation_endpoint,
            Auth::of(&c),
            &[("token", tokens["access_token"].as_str().unwrap())],
        ),
        &op,
    );
    assert_eq!(resp.status, 200);
    let out = check();
    assert_eq!(
        (out.code, out.stderr),
        (
            5,
            format!(
                "sfrefresh: error: {}: {} answered HTTP 401: the access token is invalid \
                 (invalid_token: invalid token provided)\nsfrefresh: hint: refresh the token \
                 file (sfrefresh TOKEN_FILE); if that is refused too, authorise again\n",
                file.display(),
                op.userinfo_endpoint
            )
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    // Its answers carry no "id": without --userinfo-url there is nothing to ask.
    let out = run(sfrefresh().args(["status", "--check"]).arg(&file));
    assert_eq!(out.code, 2, "{}", out.stderr);
}
