//! A fake Salesforce on 127.0.0.1 that behaves like a real org: the one used by the
//! integration tests (`mod fake_salesforce;`), by `examples/fake_salesforce.rs`
//! (`make demo`) and, through that example, by the Python script tests.
//!
//! It speaks HTTP/1.1 with keep-alive (plain or TLS with `tests/certs/server.pem`), one
//! thread per connection, and answers in Salesforce's wire forms
//! (`/work/shared/reference/salesforce-token-endpoint.md`):
//!
//! - `POST /services/oauth2/token`: the grants `refresh_token` (rotation, reuse kills
//!   the family, "already being processed"), `device` (after `response_type=device_code`),
//!   `authorization_code` (PKCE S256), `urn:ietf:params:oauth:grant-type:jwt-bearer`
//!   (RS256 with `tests/certs/jwt.pub.der`) and `client_credentials` (My Domain only);
//! - `GET /services/oauth2/authorize` (the web-server flow; the fake user approves);
//! - `POST /services/oauth2/revoke` (RFC 7009) and `POST /services/oauth2/introspect`;
//! - the identity URL `GET /id/00Dfake/005fake` and `GET /services/data/vNN.N/limits`
//!   with `Authorization: Bearer`;
//! - anything else: a 404 HTML page.
//!
//! Tokens are deterministic (`5Aep861.fake-refresh-N`, `00Dfake!AQ.fake-access-N`), and
//! every token grant starts a token *family*; the "current" family is the newest one.
//! Scripted faults (truncated bodies, delays, 5xx) belong to `util::Server`, not here.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, BufReader, Write};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::server::Unreadable::{Bad, Gone};
use crate::server::{Listener, Options, Stream, read_request, tls_config};

pub const ORG_ID: &str = "00Dfake";
pub const USER_ID: &str = "005fake";
pub const DEFAULT_CLIENT_ID: &str = "3MVG9.fake-client-id";
/// The refresh token of the family a server starts with unless `refresh_token()` is given.
pub const DEFAULT_REFRESH_TOKEN: &str = "5Aep861.fake-refresh-0";
pub const DEFAULT_USERNAME: &str = "fake.user@example.com";
pub const DEFAULT_AUDIENCE: &str = "https://login.salesforce.com";
pub const DEFAULT_SCOPE: &str = "refresh_token api id";
pub const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub const TOKEN_PATH: &str = "/services/oauth2/token";
pub const AUTHORIZE_PATH: &str = "/services/oauth2/authorize";
pub const REVOKE_PATH: &str = "/services/oauth2/revoke";
pub const INTROSPECT_PATH: &str = "/services/oauth2/introspect";
pub const DEVICE_VERIFICATION_PATH: &str = "/setup/connect";

/// How far ahead a JWT's `exp` may be (Salesforce: 3 minutes), and the clock skew allowed.
const JWT_MAX_AHEAD: u64 = 180;
const JWT_SKEW: u64 = 10;

/// What the fake user does with a device authorization once the pending polls are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceOutcome {
    Approve,
    /// `access_denied`.
    Deny,
    /// `expired_token`.
    Expire,
    /// Stay pending until `approve_device` / `deny_device`.
    Manual,
}

/// What the fake user does at `GET /services/oauth2/authorize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebOutcome {
    /// 302 to `redirect_uri?code=…&state=…`.
    Approve,
    /// 302 to `redirect_uri?error=access_denied&error_description=…&state=…`.
    Deny,
    /// 302 with a code but a `state` that is not the one sent.
    TamperState,
    /// 200 login page; the test calls `approve_web` / `deny_web` for the redirect URL.
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum MyDomain {
    No,
    AnyHost,
    Host(String),
}

#[derive(Debug, Clone)]
struct Config {
    client_id: String,
    client_secret: Option<String>,
    require_secret: bool,
    invalid_client_status: u16,
    tls: bool,
    port: u16,
    rotate: bool,
    seeds: Vec<String>,
    scope: String,
    instance_url: Option<String>,
    api_instance_url: Option<String>,
    username: String,
    processing_delay: Duration,
    revoke_unknown_ok: bool,
    token_endpoint_405: bool,
    device_pending_polls: u32,
    device_outcome: DeviceOutcome,
    device_interval: u64,
    device_slow_down_polls: u32,
    device_enforce_interval: bool,
    web_outcome: WebOutcome,
    callback_url: Option<String>,
    require_pkce: bool,
    jwt_public_key: Vec<u8>,
    audience: String,
    jwt_user_approved: bool,
    my_domain: MyDomain,
    state_file: Option<PathBuf>,
}

/// Knobs for a fake Salesforce; `start()` binds 127.0.0.1 and serves on threads.
#[derive(Debug, Clone)]
pub struct Builder {
    cfg: Config,
}

impl Builder {
    /// The Connected App's consumer key. Default `DEFAULT_CLIENT_ID`.
    pub fn client_id(mut self, id: &str) -> Self {
        self.cfg.client_id = id.into();
        self
    }

    /// The consumer secret. Without one, none is required, answers carry no `signature`
    /// and `client_credentials` is refused.
    pub fn client_secret(mut self, secret: &str) -> Self {
        self.cfg.client_secret = Some(secret.into());
        self
    }

    /// Whether a configured secret must be sent with the refresh, authorization-code,
    /// introspect and client-credentials requests ("Require Secret for … Flow"). Default
    /// true; when false a secret is checked only if sent.
    pub fn require_secret(mut self, on: bool) -> Self {
        self.cfg.require_secret = on;
        self
    }

    /// HTTP status of `invalid_client` answers: 400 (default) or 401.
    pub fn invalid_client_status(mut self, status: u16) -> Self {
        self.cfg.invalid_client_status = status;
        self
    }

    /// Serve https with `tests/certs/server.pem` (for 127.0.0.1, localhost and ::1).
    pub fn tls(mut self, on: bool) -> Self {
        self.cfg.tls = on;
        self
    }

    /// Bind this port instead of an ephemeral one.
    pub fn port(mut self, port: u16) -> Self {
        self.cfg.port = port;
        self
    }

    /// Refresh token rotation (default on): each refresh answers a new `refresh_token`
    /// and kills the old one. Off: the refresh token stays and answers carry none.
    pub fn rotate(mut self, on: bool) -> Self {
        self.cfg.rotate = on;
        self
    }

    /// Seed one token family with this refresh token (call again for more families; the
    /// last one is the current family). Without any, one family with
    /// `DEFAULT_REFRESH_TOKEN` is seeded.
    pub fn refresh_token(mut self, token: &str) -> Self {
        self.cfg.seeds.push(token.into());
        self
    }

    /// The `scope` string of answers. Default `DEFAULT_SCOPE`.
    pub fn scope(mut self, scope: &str) -> Self {
        self.cfg.scope = scope.into();
        self
    }

    /// The `instance_url` of answers. Default: this server's base URL, so REST calls to
    /// `instance_url` reach it.
    pub fn instance_url(mut self, url: &str) -> Self {
        self.cfg.instance_url = Some(url.into());
        self
    }

    /// Add `api_instance_url` to answers (Salesforce does with the `sfap_api` scope).
    pub fn api_instance_url(mut self, url: &str) -> Self {
        self.cfg.api_instance_url = Some(url.into());
        self
    }

    /// The user: JWT `sub`, identity and introspection `username`. Default `DEFAULT_USERNAME`.
    pub fn username(mut self, name: &str) -> Self {
        self.cfg.username = name.into();
        self
    }

    /// How long a refresh holds its token "in flight"; a second request with the same
    /// token meanwhile gets "token request is already being processed". Default 0.
    pub fn processing_delay(mut self, delay: Duration) -> Self {
        self.cfg.processing_delay = delay;
        self
    }

    /// Revoking an unknown or dead token answers 200 (RFC 7009 allows it) instead of
    /// Salesforce's 400 `invalid_token`.
    pub fn revoke_unknown_ok(mut self, on: bool) -> Self {
        self.cfg.revoke_unknown_ok = on;
        self
    }

    /// The token endpoint answers 405 to everything (a wrong-endpoint case).
    pub fn token_endpoint_405(mut self, on: bool) -> Self {
        self.cfg.token_endpoint_405 = on;
        self
    }

    /// Device flow: this many polls answer `authorization_pending` before the outcome.
    /// Default 1.
    pub fn device_pending_polls(mut self, polls: u32) -> Self {
        self.cfg.device_pending_polls = polls;
        self
    }

    /// Device flow: what happens after the pending polls. Default `Approve`.
    pub fn device_outcome(mut self, outcome: DeviceOutcome) -> Self {
        self.cfg.device_outcome = outcome;
        self
    }

    /// Device flow: the `interval` (seconds) announced and, unless
    /// `device_enforce_interval(false)`, enforced with `slow_down` (counted from the
    /// device code's issue and from each poll). Default 5, as Salesforce.
    pub fn device_interval(mut self, seconds: u64) -> Self {
        self.cfg.device_interval = seconds;
        self
    }

    pub fn device_enforce_interval(mut self, on: bool) -> Self {
        self.cfg.device_enforce_interval = on;
        self
    }

    /// Device flow: the first `polls` polls answer `slow_down` whatever their timing.
    pub fn device_slow_down_polls(mut self, polls: u32) -> Self {
        self.cfg.device_slow_down_polls = polls;
        self
    }

    /// Web-server flow: what the fake user does. Default `Approve`.
    pub fn web_outcome(mut self, outcome: WebOutcome) -> Self {
        self.cfg.web_outcome = outcome;
        self
    }

    /// Web-server flow: the Connected App's callback URL; `redirect_uri` must equal it.
    /// Without one, any `http://localhost`, `127.0.0.1` or `[::1]` URL is accepted.
    pub fn callback_url(mut self, url: &str) -> Self {
        self.cfg.callback_url = Some(url.into());
        self
    }

    /// Web-server flow: a `code_challenge` (S256) is required. Default true.
    pub fn require_pkce(mut self, on: bool) -> Self {
        self.cfg.require_pkce = on;
        self
    }

    /// JWT bearer: the app's public key, DER RSAPublicKey. Default `tests/certs/jwt.pub.der`.
    pub fn jwt_public_key_der(mut self, der: &[u8]) -> Self {
        self.cfg.jwt_public_key = der.to_vec();
        self
    }

    /// JWT bearer: the `aud` required. Default `DEFAULT_AUDIENCE`.
    pub fn audience(mut self, aud: &str) -> Self {
        self.cfg.audience = aud.into();
        self
    }

    /// JWT bearer: false answers "user hasn't approved this consumer" to valid assertions.
    pub fn jwt_user_approved(mut self, on: bool) -> Self {
        self.cfg.jwt_user_approved = on;
        self
    }

    /// This server is a My Domain host (whatever the `Host` header): `client_credentials`
    /// is allowed. Default false: it answers "request not supported on this domain".
    pub fn my_domain(mut self, on: bool) -> Self {
        self.cfg.my_domain = if on { MyDomain::AnyHost } else { MyDomain::No };
        self
    }

    /// Only requests whose `Host` header names this host (port ignored) reach the
    /// My Domain: e.g. `localhost` is My Domain and `127.0.0.1` is login.salesforce.com.
    pub fn my_domain_host(mut self, host: &str) -> Self {
        self.cfg.my_domain = MyDomain::Host(host.to_ascii_lowercase());
        self
    }

    /// After every request, write `snapshot()` as JSON to this file (atomically).
    pub fn state_file(mut self, path: &Path) -> Self {
        self.cfg.state_file = Some(path.to_path_buf());
        self
    }

    /// Binds 127.0.0.1 and serves until the handle is dropped. Panics if it cannot bind.
    pub fn start(self) -> FakeSalesforce {
        let mut cfg = self.cfg;
        if cfg.seeds.is_empty() {
            cfg.seeds.push(DEFAULT_REFRESH_TOKEN.into());
        }
        // Bound first, for the port the base URL names; the handler's state follows.
        let slot: Arc<OnceLock<Arc<Shared>>> = Arc::new(OnceLock::new());
        let serving = slot.clone();
        let options = Options {
            port: cfg.port,
            tls: cfg
                .tls
                .then(|| tls_config("server", rustls::DEFAULT_VERSIONS)),
            close_notify: true,
        };
        let listener = Listener::start(options, move |stream, number| {
            if let Some(shared) = serving.get() {
                serve(stream, shared, number);
            }
        });
        let scheme = if cfg.tls { "https" } else { "http" };
        let base = format!("{scheme}://127.0.0.1:{}", listener.port());
        let mut state = State::default();
        for seed in cfg.seeds.clone() {
            let access = state.new_access();
            state.families.push(Family {
                grant: "seed",
                issued_at: now_ms(),
                refresh: vec![seed],
                access: vec![access],
                ..Family::default()
            });
        }
        let shared = Arc::new(Shared {
            cfg,
            base,
            state: Mutex::new(state),
            connections: AtomicUsize::new(0),
            started: Instant::now(),
        });
        shared.persist(&shared.lock());
        let _ = slot.set(shared.clone());
        FakeSalesforce {
            addr: listener.addr,
            shared,
            _listener: listener,
        }
    }
}

#[allow(unused_imports)] // the tests use parse_form, the example does not
pub use crate::server::{Request, form_decode, parse_form};

impl Request {
    pub fn query_param(&self, name: &str) -> Option<&str> {
        pairs_get(&self.query, name)
    }

    fn to_json(&self) -> Value {
        let pairs =
            |v: &[(String, String)]| -> Value { v.iter().map(|(k, v)| json!([k, v])).collect() };
        json!({
            "connection": self.connection,
            "method": self.method,
            "path": self.path,
            "query": pairs(&self.query),
            "headers": pairs(&self.headers),
            "form": pairs(&self.form),
            "body": String::from_utf8_lossy(&self.body),
            "at_ms": self.at.as_millis() as u64,
        })
    }
}

fn pairs_get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A running fake Salesforce. Dropping it stops accepting connections.
pub struct FakeSalesforce {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Accepts until dropped.
    _listener: Listener,
}

impl FakeSalesforce {
    pub fn builder() -> Builder {
        Builder {
            cfg: Config {
                client_id: DEFAULT_CLIENT_ID.into(),
                client_secret: None,
                require_secret: true,
                invalid_client_status: 400,
                tls: false,
                port: 0,
                rotate: true,
                seeds: Vec::new(),
                scope: DEFAULT_SCOPE.into(),
                instance_url: None,
                api_instance_url: None,
                username: DEFAULT_USERNAME.into(),
                processing_delay: Duration::ZERO,
                revoke_unknown_ok: false,
                token_endpoint_405: false,
                device_pending_polls: 1,
                device_outcome: DeviceOutcome::Approve,
                device_interval: 5,
                device_slow_down_polls: 0,
                device_enforce_interval: true,
                web_outcome: WebOutcome::Approve,
                callback_url: None,
                require_pkce: true,
                jwt_public_key: include_bytes!("certs/jwt.pub.der").to_vec(),
                audience: DEFAULT_AUDIENCE.into(),
                jwt_user_approved: true,
                my_domain: MyDomain::No,
                state_file: None,
            },
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` or `https://…`.
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    /// The base URL with another host name for this server (`localhost`, …).
    pub fn base_url_for(&self, host: &str) -> String {
        let scheme = if self.shared.cfg.tls { "https" } else { "http" };
        format!("{scheme}://{host}:{}", self.addr.port())
    }

    pub fn token_url(&self) -> String {
        self.shared.base.clone() + TOKEN_PATH
    }

    pub fn authorize_url(&self) -> String {
        self.shared.base.clone() + AUTHORIZE_PATH
    }

    pub fn revoke_url(&self) -> String {
        self.shared.base.clone() + REVOKE_PATH
    }

    pub fn introspect_url(&self) -> String {
        self.shared.base.clone() + INTROSPECT_PATH
    }

    /// `<base>/id/00Dfake/005fake`: the `id` of every token answer.
    pub fn identity_url(&self) -> String {
        self.shared.identity_url()
    }

    /// `<base>/services/data/v60.0/limits`, a REST call that needs a valid access token.
    pub fn limits_url(&self) -> String {
        self.shared.base.clone() + "/services/data/v60.0/limits"
    }

    pub fn client_id(&self) -> String {
        self.shared.cfg.client_id.clone()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// The `refresh_token` of each `grant_type=refresh_token` request, in arrival order.
    pub fn refresh_tokens_presented(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.path == TOKEN_PATH && r.field("grant_type") == Some("refresh_token"))
            .map(|r| r.field("refresh_token").unwrap_or("").to_string())
            .collect()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The current family's live refresh token (None for a JWT / client-credentials family).
    pub fn current_refresh_token(&self) -> Option<String> {
        let st = self.shared.lock();
        st.families.last().and_then(|f| f.refresh.last().cloned())
    }

    /// The current family's newest access token.
    pub fn current_access_token(&self) -> Option<String> {
        let st = self.shared.lock();
        st.families.last().and_then(|f| f.access.last().cloned())
    }

    /// Every refresh token the current family has had, oldest first; the last one is live.
    pub fn refresh_token_chain(&self) -> Vec<String> {
        let st = self.shared.lock();
        st.families
            .last()
            .map(|f| f.refresh.clone())
            .unwrap_or_default()
    }

    /// Whether the current family was revoked (reuse of a rotated-out token, revoke
    /// call, reuse of an authorization code, `revoke_family()`).
    pub fn family_revoked(&self) -> bool {
        self.shared
            .lock()
            .families
            .last()
            .is_some_and(|f| f.revoked)
    }

    /// Starts a new family as a fresh authorization would, and returns the token JSON
    /// (compact, Salesforce-shaped, with `refresh_token`) to write into a token file.
    pub fn issue_token_json(&self) -> String {
        let mut st = self.shared.lock();
        let value = self.shared.new_family(&mut st, "issued", true);
        self.shared.persist(&st);
        value.to_string()
    }

    /// Revokes the current family, as an admin, a sandbox refresh or a sixth approval do.
    pub fn revoke_family(&self) {
        let mut st = self.shared.lock();
        if let Some(f) = st.families.last_mut() {
            f.revoked = true;
        }
        self.shared.persist(&st);
    }

    /// Ends the current access token's session (timeout); refreshing still works.
    pub fn expire_access_token(&self) {
        let mut st = self.shared.lock();
        if let Some(token) = st.families.last().and_then(|f| f.access.last().cloned()) {
            st.dead_access.push(token);
        }
        self.shared.persist(&st);
    }

    /// User codes of device authorizations still pending.
    pub fn device_user_codes(&self) -> Vec<String> {
        let st = self.shared.lock();
        st.devices
            .iter()
            .filter(|d| d.status == DeviceStatus::Pending)
            .map(|d| d.user_code.clone())
            .collect()
    }

    /// The user enters `user_code` and approves; false if no such pending authorization.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.settle_device(user_code, DeviceStatus::Approved)
    }

    pub fn deny_device(&self, user_code: &str) -> bool {
        self.settle_device(user_code, DeviceStatus::Denied)
    }

    fn settle_device(&self, user_code: &str, status: DeviceStatus) -> bool {
        let mut st = self.shared.lock();
        let found = st
            .devices
            .iter_mut()
            .find(|d| d.user_code == user_code && d.status == DeviceStatus::Pending);
        let ok = found.map(|d| d.status = status).is_some();
        self.shared.persist(&st);
        ok
    }

    /// With `WebOutcome::Manual`: the user approves the oldest pending authorization;
    /// returns the URL the browser is redirected to (`redirect_uri?code=…&state=…`).
    pub fn approve_web(&self) -> Option<String> {
        let mut st = self.shared.lock();
        if st.pending_web.is_empty() {
            return None;
        }
        let auth = st.pending_web.remove(0);
        let url = self.shared.grant_code(&mut st, auth, false);
        self.shared.persist(&st);
        Some(url)
    }

    /// With `WebOutcome::Manual`: the user denies; returns the error redirect URL.
    pub fn deny_web(&self) -> Option<String> {
        let mut st = self.shared.lock();
        if st.pending_web.is_empty() {
            return None;
        }
        let auth = st.pending_web.remove(0);
        self.shared.persist(&st);
        Some(denied_redirect(&auth))
    }

    /// What the state file holds: URLs, current tokens, families, every request.
    pub fn snapshot(&self) -> Value {
        self.shared.snapshot(&self.shared.lock())
    }
}

// ---- state ----

#[derive(Debug, Default)]
struct Family {
    grant: &'static str,
    /// Every refresh token, oldest first; the last is live. Empty: no refresh token.
    refresh: Vec<String>,
    /// Every access token, oldest first; only the last is valid.
    access: Vec<String>,
    revoked: bool,
    /// A refresh with the live token is being processed.
    in_flight: bool,
    issued_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Used,
}

#[derive(Debug)]
struct Device {
    device_code: String,
    user_code: String,
    status: DeviceStatus,
    polls: u32,
    last_poll: Instant,
}

#[derive(Debug, Clone)]
struct WebAuth {
    redirect_uri: String,
    state: Option<String>,
    challenge: Option<String>,
}

#[derive(Debug)]
struct Code {
    auth: WebAuth,
    /// Index of the family it was exchanged for.
    family: Option<usize>,
}

#[derive(Debug, Default)]
struct State {
    families: Vec<Family>,
    dead_access: Vec<String>,
    requests: Vec<Request>,
    devices: Vec<Device>,
    pending_web: Vec<WebAuth>,
    codes: HashMap<String, Code>,
    next_access: u32,
    next_refresh: u32,
    next_code: u32,
    slow_downs_sent: u32,
}

impl State {
    fn new_access(&mut self) -> String {
        self.next_access += 1;
        format!("{ORG_ID}!AQ.fake-access-{}", self.next_access)
    }

    fn new_refresh(&mut self) -> String {
        self.next_refresh += 1;
        format!("5Aep861.fake-refresh-{}", self.next_refresh)
    }

    /// (family index, whether the token is the live one)
    fn find_refresh(&self, token: &str) -> Option<(usize, bool)> {
        self.families.iter().enumerate().rev().find_map(|(i, f)| {
            let pos = f.refresh.iter().position(|t| t == token)?;
            Some((i, pos + 1 == f.refresh.len()))
        })
    }

    /// The family whose live access token this is, if it is valid.
    fn valid_access(&self, token: &str) -> Option<usize> {
        if self.dead_access.iter().any(|t| t == token) {
            return None;
        }
        self.families
            .iter()
            .position(|f| !f.revoked && f.access.last().is_some_and(|t| t == token))
    }
}

struct Shared {
    cfg: Config,
    base: String,
    state: Mutex<State>,
    /// The highest connection number served so far: TCP connections accepted.
    connections: AtomicUsize,
    started: Instant,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler must not wedge every later request.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn identity_url(&self) -> String {
        format!("{}/id/{ORG_ID}/{USER_ID}", self.base)
    }

    /// A token answer for family `i` (its live tokens), stamped now.
    fn token_answer(&self, st: &mut State, i: usize, with_refresh: bool) -> Value {
        let issued_at = now_ms();
        let id = self.identity_url();
        let f = &mut st.families[i];
        f.issued_at = issued_at;
        let mut answer = serde_json::Map::new();
        let access = f.access.last().cloned().unwrap_or_default();
        answer.insert("access_token".into(), access.into());
        if with_refresh && let Some(rt) = f.refresh.last() {
            answer.insert("refresh_token".into(), rt.clone().into());
        }
        if let Some(secret) = &self.cfg.client_secret {
            let sig = sign(secret, &format!("{id}{issued_at}"));
            answer.insert("signature".into(), sig.into());
        }
        answer.insert("scope".into(), self.cfg.scope.clone().into());
        let instance = self.cfg.instance_url.clone();
        answer.insert(
            "instance_url".into(),
            instance.unwrap_or_else(|| self.base.clone()).into(),
        );
        if let Some(api) = &self.cfg.api_instance_url {
            answer.insert("api_instance_url".into(), api.clone().into());
        }
        answer.insert("id".into(), id.into());
        answer.insert("token_type".into(), "Bearer".into());
        answer.insert("issued_at".into(), issued_at.to_string().into());
        Value::Object(answer)
    }

    fn new_family(&self, st: &mut State, grant: &'static str, with_refresh: bool) -> Value {
        let access = st.new_access();
        let refresh = if with_refresh {
            vec![st.new_refresh()]
        } else {
            Vec::new()
        };
        st.families.push(Family {
            grant,
            refresh,
            access: vec![access],
            ..Family::default()
        });
        let i = st.families.len() - 1;
        self.token_answer(st, i, with_refresh)
    }

    /// Issues an authorization code for `auth` and returns the redirect URL.
    fn grant_code(&self, st: &mut State, auth: WebAuth, tamper_state: bool) -> String {
        st.next_code += 1;
        // Real codes end in "==", so clients must decode the redirect and re-encode the form.
        let code = format!("aPrx.fake-code-{}==", st.next_code);
        let mut params = vec![("code", code.clone())];
        let state = match (&auth.state, tamper_state) {
            (Some(s), true) => Some(format!("{s}-tampered")),
            (None, true) => Some("tampered".to_string()),
            (s, false) => s.clone(),
        };
        if let Some(s) = state {
            params.push(("state", s));
        }
        let url = redirect_with(&auth.redirect_uri, &params);
        st.codes.insert(code, Code { auth, family: None });
        url
    }

    fn snapshot(&self, st: &State) -> Value {
        let current = st.families.last();
        json!({
            "base_url": self.base,
            "token_url": self.base.clone() + TOKEN_PATH,
            "client_id": self.cfg.client_id,
            "current_refresh_token": current.and_then(|f| f.refresh.last()),
            "current_access_token": current.and_then(|f| f.access.last()),
            "family_revoked": current.is_some_and(|f| f.revoked),
            "refresh_token_chain": current.map(|f| f.refresh.clone()).unwrap_or_default(),
            "families": st.families.iter().map(|f| json!({
                "grant": f.grant,
                "refresh_tokens": f.refresh,
                "access_tokens": f.access,
                "revoked": f.revoked,
                "issued_at": f.issued_at.to_string(),
            })).collect::<Vec<_>>(),
            "connections": self.connections.load(Ordering::SeqCst),
            "requests": st.requests.iter().map(Request::to_json).collect::<Vec<_>>(),
        })
    }

    fn persist(&self, st: &State) {
        let Some(path) = &self.cfg.state_file else {
            return;
        };
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(&self.snapshot(st)).unwrap_or_default();
        if std::fs::write(&tmp, text + "\n").is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn now_secs() -> u64 {
    now_ms() / 1000
}

/// Salesforce's `signature`: Base64(HMAC-SHA256(client secret, id + issued_at)).
pub fn sign(secret: &str, message: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    STANDARD.encode(ring::hmac::sign(&key, message.as_bytes()).as_ref())
}

/// PKCE S256: BASE64URL(SHA256(verifier)), no padding.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

// ---- the network side ----

fn serve(stream: &mut dyn Stream, shared: &Shared, connection: usize) {
    shared.connections.fetch_max(connection, Ordering::SeqCst);
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader, connection, shared.started) {
            Ok(Some(r)) => r,
            Ok(None) | Err(Gone) => return,
            Err(Bad(status, why)) => {
                let reply = Reply::text(status, "text/plain", &format!("{why}\n"));
                let _ = reply.write(reader.get_mut(), false);
                return;
            }
        };
        let keep = request.keep_alive();
        shared.lock().requests.push(request.clone());
        let reply = catch_unwind(AssertUnwindSafe(|| handle(shared, &request)))
            .unwrap_or_else(|_| Reply::text(500, "text/plain", "fake Salesforce panicked\n"));
        shared.persist(&shared.lock());
        if reply.write(reader.get_mut(), keep).is_err() || !keep {
            return;
        }
    }
}

/// Every byte but RFC 3986's unreserved ones is escaped: a stricter spelling than the
/// client's form encoding (`~` and space are escaped too), which its decoder must read.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn form_encode(s: &str) -> String {
    utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", "application/json;charset=UTF-8".into()),
                (
                    "Cache-Control",
                    "no-cache,must-revalidate,max-age=0,no-store,private".into(),
                ),
            ],
            body: value.to_string().into_bytes(),
        }
    }

    fn text(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", format!("{content_type};charset=UTF-8"))],
            body: body.as_bytes().to_vec(),
        }
    }

    fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": error, "error_description": description}),
        )
    }

    fn redirect(location: &str) -> Reply {
        Reply {
            status: 302,
            headers: vec![("Location", location.into())],
            body: Vec::new(),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    fn write(&self, w: &mut impl Write, keep_alive: bool) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            let _ = write!(head, "{k}: {v}\r\n");
        }
        let connection = if keep_alive { "keep-alive" } else { "close" };
        let _ = write!(
            head,
            "Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
            self.body.len()
        );
        w.write_all(head.as_bytes())?;
        w.write_all(&self.body)?;
        w.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

fn not_found() -> Reply {
    Reply::text(
        404,
        "text/html",
        "<!DOCTYPE html>\n<html><head><title>URL No Longer Exists</title></head>\
         <body><h1>URL No Longer Exists</h1><p>You have attempted to reach a URL that no \
         longer exists on salesforce.com.</p></body></html>\n",
    )
}

// ---- the endpoints ----

fn handle(shared: &Shared, req: &Request) -> Reply {
    let method = req.method.as_str();
    match req.path.as_str() {
        TOKEN_PATH if shared.cfg.token_endpoint_405 || method != "POST" => Reply::text(
            405,
            "text/html",
            "<html><body>Method Not Allowed</body></html>\n",
        )
        .header("Allow", "POST"),
        TOKEN_PATH => token_endpoint(shared, req),
        AUTHORIZE_PATH if method == "GET" => authorize(shared, req),
        REVOKE_PATH if method == "POST" || method == "GET" => revoke(shared, req),
        INTROSPECT_PATH if method == "POST" => introspect(shared, req),
        DEVICE_VERIFICATION_PATH if method == "GET" => Reply::text(
            200,
            "text/html",
            "<html><body><h1>Connect Your Device</h1><form>Code: <input name=\"user_code\"></form></body></html>\n",
        ),
        p if p == format!("/id/{ORG_ID}/{USER_ID}") && (method == "GET" || method == "POST") => {
            identity(shared, req)
        }
        p if p.starts_with("/services/data/") && method == "GET" => rest(shared, req),
        _ => not_found(),
    }
}

/// Client authentication as sent: body (`client_id`, `client_secret`) or HTTP Basic.
struct ClientAuth {
    id: Option<String>,
    secret: Option<String>,
}

fn client_auth(shared: &Shared, req: &Request) -> Result<ClientAuth, Reply> {
    let invalid_client = || {
        Reply::oauth_error(
            shared.cfg.invalid_client_status,
            "invalid_client",
            "invalid client credentials",
        )
    };
    let basic = req.header("authorization").and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
    });
    let Some(basic) = basic else {
        return Ok(ClientAuth {
            id: req.field("client_id").map(String::from),
            secret: req.field("client_secret").map(String::from),
        });
    };
    let decoded = STANDARD
        .decode(basic)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Err(invalid_client());
    };
    let (id, secret) = (form_decode(id), form_decode(secret));
    // Two authentication methods in one request: refused (RFC 6749 §2.3).
    if req.field("client_secret").is_some() || req.field("client_id").is_some_and(|b| b != id) {
        return Err(invalid_client());
    }
    Ok(ClientAuth {
        id: Some(id),
        secret: Some(secret),
    })
}

/// The client id must be the app's; the secret must be right when sent, and sent when
/// `secret_needed` and one is configured.
fn check_client(shared: &Shared, auth: &ClientAuth, secret_needed: bool) -> Result<(), Reply> {
    if auth.id.as_deref() != Some(shared.cfg.client_id.as_str()) {
        return Err(Reply::oauth_error(
            400,
            "invalid_client_id",
            "client identifier invalid",
        ));
    }
    let wrong = match (&shared.cfg.client_secret, &auth.secret) {
        (Some(want), Some(got)) => want != got,
        (Some(_), None) => secret_needed && shared.cfg.require_secret,
        (None, _) => false,
    };
    if wrong {
        return Err(Reply::oauth_error(
            shared.cfg.invalid_client_status,
            "invalid_client",
            "invalid client credentials",
        ));
    }
    Ok(())
}

fn token_endpoint(shared: &Shared, req: &Request) -> Reply {
    let auth = match client_auth(shared, req) {
        Ok(a) => a,
        Err(reply) => return reply,
    };
    let result = if req.field("response_type") == Some("device_code") {
        device_start(shared, &auth)
    } else {
        match req.field("grant_type").unwrap_or("") {
            "refresh_token" => refresh(shared, req, &auth),
            "device" => device_poll(shared, req, &auth),
            "authorization_code" => code_exchange(shared, req, &auth),
            JWT_GRANT => jwt_bearer(shared, req),
            "client_credentials" => client_credentials(shared, req, &auth),
            _ => Err(Reply::oauth_error(
                400,
                "unsupported_grant_type",
                "grant type not supported",
            )),
        }
    };
    result.unwrap_or_else(|reply| reply)
}

fn expired() -> Reply {
    Reply::oauth_error(400, "invalid_grant", "expired access/refresh token")
}

fn refresh(shared: &Shared, req: &Request, auth: &ClientAuth) -> Result<Reply, Reply> {
    check_client(shared, auth, true)?;
    let Some(token) = req.field("refresh_token").filter(|t| !t.is_empty()) else {
        return Err(Reply::oauth_error(
            400,
            "invalid_request",
            "refresh_token is missing",
        ));
    };
    let i = {
        let mut st = shared.lock();
        match st.find_refresh(token) {
            None => return Err(expired()),
            Some((i, false)) => {
                // Reuse of a rotated-out token: the whole family dies.
                st.families[i].revoked = true;
                return Err(expired());
            }
            Some((i, true)) => {
                let f = &mut st.families[i];
                if f.revoked {
                    return Err(expired());
                }
                if f.in_flight {
                    return Err(Reply::oauth_error(
                        400,
                        "invalid_grant",
                        "token request is already being processed",
                    ));
                }
                f.in_flight = true;
                i
            }
        }
    };
    if !shared.cfg.processing_delay.is_zero() {
        thread::sleep(shared.cfg.processing_delay);
    }
    let mut st = shared.lock();
    st.families[i].in_flight = false;
    if st.families[i].revoked {
        return Err(expired());
    }
    let access = st.new_access();
    st.families[i].access.push(access);
    if shared.cfg.rotate {
        let rt = st.new_refresh();
        st.families[i].refresh.push(rt);
    }
    Ok(Reply::json(
        200,
        &shared.token_answer(&mut st, i, shared.cfg.rotate),
    ))
}

fn device_start(shared: &Shared, auth: &ClientAuth) -> Result<Reply, Reply> {
    check_client(shared, auth, false)?;
    let mut st = shared.lock();
    let n = st.devices.len() + 1;
    let device = Device {
        device_code: format!("M0RGLmZha2UtZGV2aWNlLWNvZGUt.{n}"),
        user_code: format!("FAKE{n:04}"),
        status: DeviceStatus::Pending,
        polls: 0,
        last_poll: Instant::now(),
    };
    let answer = json!({
        "device_code": device.device_code,
        "user_code": device.user_code,
        "verification_uri": shared.base.clone() + DEVICE_VERIFICATION_PATH,
        "interval": shared.cfg.device_interval,
    });
    st.devices.push(device);
    Ok(Reply::json(200, &answer))
}

fn device_poll(shared: &Shared, req: &Request, auth: &ClientAuth) -> Result<Reply, Reply> {
    check_client(shared, auth, false)?;
    let cfg = &shared.cfg;
    let code = req.field("code").unwrap_or("");
    let mut st = shared.lock();
    let slow_downs_sent = st.slow_downs_sent;
    let Some(d) = st.devices.iter_mut().find(|d| d.device_code == code) else {
        return Err(Reply::oauth_error(
            400,
            "invalid_grant",
            "invalid device code",
        ));
    };
    let since = d.last_poll.elapsed();
    d.last_poll = Instant::now();
    let slow = slow_downs_sent < cfg.device_slow_down_polls
        || cfg.device_enforce_interval && since < Duration::from_secs(cfg.device_interval);
    if d.status == DeviceStatus::Used {
        return Err(Reply::oauth_error(
            400,
            "invalid_grant",
            "invalid device code",
        ));
    }
    if slow {
        st.slow_downs_sent += 1;
        return Err(Reply::oauth_error(
            400,
            "slow_down",
            "polling too frequently",
        ));
    }
    d.polls += 1;
    if d.status == DeviceStatus::Pending && d.polls > cfg.device_pending_polls {
        d.status = match cfg.device_outcome {
            DeviceOutcome::Approve => DeviceStatus::Approved,
            DeviceOutcome::Deny => DeviceStatus::Denied,
            DeviceOutcome::Expire => DeviceStatus::Expired,
            DeviceOutcome::Manual => DeviceStatus::Pending,
        };
    }
    match d.status {
        DeviceStatus::Pending => Err(Reply::oauth_error(
            400,
            "authorization_pending",
            "authorization pending",
        )),
        DeviceStatus::Denied => Err(Reply::oauth_error(
            400,
            "access_denied",
            "end-user denied authorization",
        )),
        DeviceStatus::Expired => Err(Reply::oauth_error(
            400,
            "expired_token",
            "the device code has expired",
        )),
        DeviceStatus::Used => unreachable!(),
        DeviceStatus::Approved => {
            d.status = DeviceStatus::Used;
            Ok(Reply::json(
                200,
                &shared.new_family(&mut st, "device", true),
            ))
        }
    }
}

fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

fn redirect_with(redirect_uri: &str, params: &[(&str, String)]) -> String {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let query: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    format!("{redirect_uri}{sep}{}", encode_form(&query))
}

fn denied_redirect(auth: &WebAuth) -> String {
    let mut params = vec![
        ("error", "access_denied".to_string()),
        ("error_description", "end-user denied authorization".into()),
    ];
    if let Some(s) = &auth.state {
        params.push(("state", s.clone()));
    }
    redirect_with(&auth.redirect_uri, &params)
}

fn authorize(shared: &Shared, req: &Request) -> Reply {
    let cfg = &shared.cfg;
    let q = |name| req.query_param(name);
    // Errors before a trustworthy redirect_uri is known are shown, not redirected.
    if q("client_id") != Some(cfg.client_id.as_str()) {
        return Reply::text(
            400,
            "text/html",
            "<html><body>error=invalid_client_id&amp;error_description=client identifier invalid</body></html>\n",
        );
    }
    let redirect_uri = q("redirect_uri").unwrap_or("");
    let allowed = match &cfg.callback_url {
        Some(url) => url == redirect_uri,
        None => is_loopback_http(redirect_uri),
    };
    if !allowed {
        return Reply::text(
            400,
            "text/html",
            "<html><body>error=redirect_uri_mismatch&amp;error_description=redirect_uri must match configuration</body></html>\n",
        );
    }
    let auth = WebAuth {
        redirect_uri: redirect_uri.into(),
        state: q("state").map(String::from),
        challenge: q("code_challenge").map(String::from),
    };
    let error = |error: &str, description: &str| {
        let mut params = vec![("error", error.to_string())];
        params.push(("error_description", description.into()));
        if let Some(s) = &auth.state {
            params.push(("state", s.clone()));
        }
        Reply::redirect(&redirect_with(&auth.redirect_uri, &params))
    };
    if q("response_type") != Some("code") {
        return error("unsupported_response_type", "response type not supported");
    }
    match (&auth.challenge, q("code_challenge_method")) {
        (Some(c), Some("S256")) if c.len() == 43 => {}
        (Some(_), _) => return error("invalid_request", "invalid code_challenge or method"),
        (None, _) if cfg.require_pkce => return error("invalid_request", "missing code_challenge"),
        (None, _) => {}
    }
    let mut st = shared.lock();
    match cfg.web_outcome {
        WebOutcome::Approve => Reply::redirect(&shared.grant_code(&mut st, auth, false)),
        WebOutcome::TamperState => Reply::redirect(&shared.grant_code(&mut st, auth, true)),
        WebOutcome::Deny => Reply::redirect(&denied_redirect(&auth)),
        WebOutcome::Manual => {
            st.pending_web.push(auth);
            Reply::text(
                200,
                "text/html",
                "<html><body><h1>Login</h1><form method=\"post\">Username <input name=\"username\"></form></body></html>\n",
            )
        }
    }
}

fn code_exchange(shared: &Shared, req: &Request, auth: &ClientAuth) -> Result<Reply, Reply> {
    check_client(shared, auth, true)?;
    let invalid = |why: &str| Reply::oauth_error(400, "invalid_grant", why);
    let code = req.field("code").unwrap_or("");
    let mut st = shared.lock();
    let Some(c) = st.codes.get(code) else {
        return Err(invalid("invalid authorization code"));
    };
    if let Some(i) = c.family {
        // A code is single-use; its second use revokes what the first one got.
        st.families[i].revoked = true;
        return Err(invalid("invalid authorization code"));
    }
    if req.field("redirect_uri") != Some(c.auth.redirect_uri.as_str()) {
        return Err(invalid("redirect_uri mismatch"));
    }
    if let Some(challenge) = &c.auth.challenge {
        let verifier = req.field("code_verifier").unwrap_or("");
        let syntax = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !syntax || pkce_challenge(verifier) != *challenge {
            return Err(invalid("invalid code verifier"));
        }
    }
    let answer = shared.new_family(&mut st, "authorization_code", true);
    let i = st.families.len() - 1;
    if let Some(c) = st.codes.get_mut(code) {
        c.family = Some(i);
    }
    Ok(Reply::json(200, &answer))
}

fn jwt_bearer(shared: &Shared, req: &Request) -> Result<Reply, Reply> {
    let cfg = &shared.cfg;
    let invalid = |why: &str| Reply::oauth_error(400, "invalid_grant", why);
    let assertion = req.field("assertion").unwrap_or("");
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(invalid("invalid assertion"));
    };
    let decode_json = |part: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
        serde_json::from_slice::<Value>(&bytes).ok()
    };
    let (Some(header), Some(claims), Ok(signature)) = (
        decode_json(header),
        decode_json(claims),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return Err(invalid("invalid assertion"));
    };
    if header["alg"] != "RS256" {
        return Err(invalid("invalid assertion"));
    }
    let signed = &assertion[..assertion.rfind('.').unwrap_or(0)];
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &cfg.jwt_public_key,
    );
    if key.verify(signed.as_bytes(), &signature).is_err() {
        return Err(invalid("invalid assertion"));
    }
    if claims["iss"] != cfg.client_id.as_str() {
        return Err(Reply::oauth_error(
            400,
            "invalid_client_id",
            "client identifier invalid",
        ));
    }
    let aud_ok = match &claims["aud"] {
        Value::String(a) => *a == cfg.audience,
        Value::Array(all) => all.iter().any(|a| *a == cfg.audience.as_str()),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid("audience is invalid"));
    }
    let Some(exp) = claims["exp"].as_u64() else {
        return Err(invalid("invalid assertion"));
    };
    let now = now_secs();
    if exp.saturating_add(JWT_SKEW) < now {
        // What Salesforce users report for an expired assertion.
        return Err(invalid("expired authorization code"));
    }
    if exp > now + JWT_MAX_AHEAD + JWT_SKEW {
        return Err(invalid("invalid assertion"));
    }
    if claims["sub"] != cfg.username.as_str() || !cfg.jwt_user_approved {
        return Err(invalid("user hasn't approved this consumer"));
    }
    let mut st = shared.lock();
    Ok(Reply::json(200, &shared.new_family(&mut st, "jwt", false)))
}

fn client_credentials(shared: &Shared, req: &Request, auth: &ClientAuth) -> Result<Reply, Reply> {
    let cfg = &shared.cfg;
    let host = req.header("host").unwrap_or("").to_ascii_lowercase();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or("").to_string(),
        None => host.split(':').next().unwrap_or("").to_string(),
    };
    let on_my_domain = match &cfg.my_domain {
        MyDomain::No => false,
        MyDomain::AnyHost => true,
        MyDomain::Host(h) => *h == host,
    };
    if !on_my_domain {
        return Err(Reply::oauth_error(
            400,
            "invalid_grant",
            "request not supported on this domain",
        ));
    }
    check_client(shared, auth, true)?;
    // The flow needs a secret: an app without one cannot use it.
    if cfg.client_secret.is_none() || auth.secret.is_none() {
        return Err(Reply::oauth_error(
            cfg.invalid_client_status,
            "invalid_client",
            "invalid client credentials",
        ));
    }
    let mut st = shared.lock();
    Ok(Reply::json(
        200,
        &shared.new_family(&mut st, "client_credentials", false),
    ))
}

/// The token of a revoke or introspect request: form field, or query for GET.
fn token_param(req: &Request) -> Option<&str> {
    req.field("token").or(req.query_param("token"))
}

fn revoke(shared: &Shared, req: &Request) -> Reply {
    // Client credentials are optional here (Salesforce revokes with the token alone),
    // but checked when sent.
    let auth = match client_auth(shared, req) {
        Ok(a) => a,
        Err(reply) => return reply,
    };
    if (auth.id.is_some() || auth.secret.is_some())
        && let Err(reply) = check_client(shared, &auth, false)
    {
        return reply;
    }
    let token = token_param(req).unwrap_or("");
    let mut st = shared.lock();
    let done = if let Some((i, true)) = st
        .find_refresh(token)
        .filter(|&(i, _)| !st.families[i].revoked)
    {
        st.families[i].revoked = true;
        true
    } else if st.valid_access(token).is_some() {
        st.dead_access.push(token.to_string());
        true
    } else {
        false
    };
    if done || shared.cfg.revoke_unknown_ok {
        Reply::text(200, "text/plain", "")
    } else {
        Reply::json(400, &json!({"error": "invalid_token"}))
    }
}

fn introspect(shared: &Shared, req: &Request) -> Reply {
    let auth = match client_auth(shared, req) {
        Ok(a) => a,
        Err(reply) => return reply,
    };
    if let Err(reply) = check_client(shared, &auth, true) {
        return reply;
    }
    let token = token_param(req).unwrap_or("");
    let st = shared.lock();
    let (family, kind) = match st.find_refresh(token) {
        Some((i, true)) if !st.families[i].revoked => (Some(i), "refresh_token"),
        _ => (st.valid_access(token), "access_token"),
    };
    let Some(i) = family else {
        return Reply::json(200, &json!({"active": false}));
    };
    let iat = st.families[i].issued_at / 1000;
    Reply::json(
        200,
        &json!({
            "active": true,
            "scope": shared.cfg.scope,
            "client_id": shared.cfg.client_id,
            "username": shared.cfg.username,
            "sub": shared.identity_url(),
            "token_type": kind,
            "exp": iat + 7200,
            "iat": iat,
            "nbf": iat,
        }),
    )
}

/// The bearer token of a request, if any.
fn bearer(req: &Request) -> Option<&str> {
    let v = req.header("authorization")?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn identity(shared: &Shared, req: &Request) -> Reply {
    let Some(token) = bearer(req) else {
        return Reply::text(403, "text/plain", "Missing_OAuth_Token");
    };
    if shared.lock().valid_access(token).is_none() {
        return Reply::text(403, "text/plain", "Bad_OAuth_Token");
    }
    let base = &shared.base;
    let user = &shared.cfg.username;
    let data = |kind: &str| format!("{base}/services/{kind}/v60.0/");
    Reply::json(
        200,
        &json!({
            "id": shared.identity_url(),
            "asserted_user": true,
            "user_id": USER_ID,
            "organization_id": ORG_ID,
            "username": user,
            "nick_name": user.split('@').next().unwrap_or(user),
            "display_name": "Fake User",
            "email": user,
            "email_verified": true,
            "first_name": "Fake",
            "last_name": "User",
            "timezone": "Europe/Paris",
            "active": true,
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 3600000,
            "urls": {
                "enterprise": data("Soap/c").replace("/v60.0/", "/60.0/") + ORG_ID,
                "partner": data("Soap/u").replace("/v60.0/", "/60.0/") + ORG_ID,
                "rest": data("data"),
                "sobjects": data("data") + "sobjects/",
                "query": data("data") + "query/",
                "limits": data("data") + "limits/",
                "profile": format!("{base}/{USER_ID}"),
            },
            "is_app_installed": true,
            "last_modified_date": "2026-01-01T00:00:00Z",
        }),
    )
}

/// `GET /services/data/vNN.N/limits` with a bearer token; other REST paths are 404.
fn rest(shared: &Shared, req: &Request) -> Reply {
    let valid = bearer(req).is_some_and(|t| shared.lock().valid_access(t).is_some());
    if !valid {
        return Reply::json(
            401,
            &json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
        );
    }
    let rest = req.path.trim_start_matches("/services/data/");
    let mut parts = rest.trim_end_matches('/').split('/');
    let version_ok = parts.next().is_some_and(|v| {
        v.strip_prefix('v').is_some_and(|n| {
            n.split_once('.')
                .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
        })
    });
    if version_ok && parts.next() == Some("limits") && parts.next().is_none() {
        return Reply::json(
            200,
            &json!({
                "DailyApiRequests": {"Max": 15000, "Remaining": 14999},
                "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            }),
        );
    }
    Reply::json(
        404,
        &json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
    )
}
