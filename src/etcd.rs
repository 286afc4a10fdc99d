//! etcd as a token store, over its v3 JSON gateway (plain HTTP, so ureq, no gRPC): the
//! `etcd://` location, the client that fails over between members, and the lock (a key
//! put with a lease) under which a family is read, checked and saved by compare-and-swap
//! on its revision. The rules and what a lease cannot promise are in docs/etcd.md.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::clock::human;
use crate::error::Error;
use crate::report::{Log, sanitize};
use crate::secret::Secret;
use crate::tls::Roots;
use crate::token::MAX_FILE;

/// An `etcd://HOST:PORT[,HOST:PORT…]/KEY` (or `etcds://`) location: which members, and
/// which key. It holds no credentials: those come from the environment (`Credentials`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    endpoints: Vec<String>,
    tls: bool,
    key: String,
    /// The URL as given, for messages (it cannot hold a password: `parse` refuses one).
    shown: String,
}

/// The port etcd serves clients on unless the URL says otherwise.
const DEFAULT_PORT: u16 = 2379;

/// Whether an argument names an etcd location rather than a file.
pub(crate) fn is_url(arg: &str) -> bool {
    arg.starts_with("etcd://") || arg.starts_with("etcds://")
}

impl Place {
    /// Parses an `etcd://` or `etcds://` URL; the error is the problem, for a usage error.
    pub(crate) fn parse(url: &str) -> Result<Place, String> {
        let (tls, rest) = match (url.strip_prefix("etcd://"), url.strip_prefix("etcds://")) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => return Err("an etcd location starts with etcd:// or etcds://".into()),
        };
        let Some(slash) = rest.find('/') else {
            return Err(
                "names no key: write etcd://HOST:PORT/KEY (the key starts with '/')".into(),
            );
        };
        let (hosts, key) = rest.split_at(slash);
        if hosts.contains('@') {
            // Not echoed: the part before '@' may be a password.
            return Err(
                "holds credentials: give them in ETCDCTL_USER and ETCDCTL_PASSWORD, \
                        never in the URL (a command line is visible to every user)"
                    .into(),
            );
        }
        if key.len() < 2 || key.contains(['?', '#']) {
            return Err(format!(
                "names no usable key ({:?}): write etcd://HOST:PORT/KEY",
                sanitize(key)
            ));
        }
        let mut endpoints = Vec::new();
        for host in hosts.split(',') {
            endpoints.push(endpoint(host)?);
        }
        Ok(Place {
            endpoints,
            tls,
            key: key.to_string(),
            shown: sanitize(url),
        })
    }

    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// A location ending in `/` names every family under that prefix.
    pub(crate) fn is_prefix(&self) -> bool {
        self.key.ends_with('/')
    }

    /// The same cluster, another key (a family found under a prefix).
    fn with_key(&self, key: &str) -> Place {
        let scheme = if self.tls { "etcds" } else { "etcd" };
        Place {
            endpoints: self.endpoints.clone(),
            tls: self.tls,
            key: key.to_string(),
            shown: sanitize(&format!("{scheme}://{}{key}", self.endpoints.join(","))),
        }
    }

    /// The lock's key: under KEY, so a role granted the prefix KEY needs nothing more;
    /// its last part starts with a dot, so a prefix listing skips it as `ls` does.
    fn lock_key(&self) -> String {
        format!("{}/.lock", self.key)
    }

    /// A name for a rescue file: the key's characters that are safe in a file name.
    pub(crate) fn rescue_name(&self) -> String {
        let tail: String = self
            .key
            .trim_matches('/')
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(80)
            .collect();
        format!("etcd-{tail}")
    }
}

fn endpoint(host: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "has an endpoint that is not HOST:PORT: {:?}",
            sanitize(host)
        )
    };
    if host.is_empty() || host.contains(['/', ' ']) {
        return Err(bad());
    }
    let (name, port) = match host.rsplit_once(':') {
        // An IPv6 literal without a port: "[::1]".
        Some((name, port)) if !port.ends_with(']') => {
            (name, port.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (host, DEFAULT_PORT),
    };
    if name.is_empty() {
        return Err(bad());
    }
    Ok(format!("{name}:{port}"))
}

/// etcd's credentials and TLS files, read from etcdctl's environment names by `cli`:
/// never from a command line, and the password never in a message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    pub(crate) user: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) cacert: Option<PathBuf>,
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
}

impl Credentials {
    /// From `ETCDCTL_USER` (`name` or `name:password`) and `ETCDCTL_PASSWORD`.
    pub(crate) fn from_user(user: Option<String>, password: Option<String>) -> Credentials {
        let (user, inline) = match user {
            Some(u) => match u.split_once(':') {
                Some((name, pass)) => (Some(name.to_string()), Some(pass.to_string())),
                None => (Some(u), None),
            },
            None => (None, None),
        };
        Credentials {
            user,
            password: password.or(inline).map(Secret::new),
            ..Credentials::default()
        }
    }
}

/// How long one call to one member may take before the next member is asked: a member
/// that is stopped (SIGSTOP) or cut off accepts the connection and never answers.
const PER_CALL: Duration = Duration::from_secs(2);

/// How many times every member is asked before the cluster counts as unreachable.
const PASSES: usize = 3;

/// How long a save (or a delete) may take, past the run's deadline if need be: the
/// answer it keeps may hold the only copy of a rotated refresh token, and the compare
/// on the lock, not the clock, keeps it from overwriting anything newer.
const SAVE_WINDOW: Duration = Duration::from_secs(10);

/// The lease outlives the run's deadline by this much, so a running holder never loses
/// its lock, while one that crashed frees it soon after its `--timeout`.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// What went wrong talking to etcd, before it becomes an `Error` naming the location.
enum Fail {
    /// No member answered usefully (down, no leader, no quorum, timed out): exit 4.
    Unreachable(String),
    /// etcd refused us (authentication, permission, a bad request): exit 3.
    Refused(String),
}

/// A connection to one cluster for one run: the members in turn, the auth token.
pub(crate) struct Client {
    place: Place,
    credentials: Credentials,
    agent: ureq::Agent,
    /// The member that answered last: asked first next time.
    at: Cell<usize>,
    token: RefCell<Option<Secret>>,
    deadline: Instant,
}

impl Client {
    /// A client for `place`, trusting `roots` for `etcds://` (or `ETCDCTL_CACERT`).
    pub(crate) fn new(
        place: &Place,
        credentials: &Credentials,
        roots: &Roots,
        deadline: Instant,
    ) -> Result<Client, Error> {
        let roots = if place.tls {
            let client = credentials.cert.as_deref().zip(credentials.key.as_deref());
            crate::tls::roots_for_etcd(roots, credentials.cacert.as_deref(), client)
                .map_err(|p| place_error(place, p))?
        } else {
            roots.clone()
        };
        let http = crate::net::agent(roots, &crate::proxy::Route::Direct("etcd"));
        Ok(Client {
            place: place.clone(),
            credentials: credentials.clone(),
            agent: http.agent,
            at: Cell::new(0),
            token: RefCell::new(None),
            deadline,
        })
    }

    fn error(&self, fail: Fail) -> Error {
        match fail {
            Fail::Unreachable(why) => Error::network(format!("no etcd member answered: {why}"))
                .hinted("check that a majority of the cluster's members are up and reachable"),
            Fail::Refused(why) => place_error(&self.place, format!("etcd refused: {why}")),
        }
    }

    /// One gateway call, `path` under `/v3/`, to the members in turn until one answers.
    fn call(&self, path: &str, body: &Value) -> Result<Value, Fail> {
        self.call_until(path, body, self.deadline)
    }

    fn call_until(&self, path: &str, body: &Value, until: Instant) -> Result<Value, Fail> {
        if self.credentials.user.is_some() && self.token.borrow().is_none() {
            self.authenticate(until)?;
        }
        let mut reauthenticated = false;
        loop {
            let token = self.token.borrow().clone();
            match self.each_member(path, body, until, token.as_ref())? {
                Answer::Ok(value) => return Ok(value),
                Answer::TokenExpired if !reauthenticated && self.credentials.user.is_some() => {
                    reauthenticated = true;
                    self.authenticate(until)?;
                }
                Answer::TokenExpired => {
                    return Err(Fail::Refused("the auth token was refused".into()));
                }
                Answer::Refused(why) => return Err(Fail::Refused(why)),
                Answer::Retry(why) => return Err(Fail::Unreachable(why)),
            }
        }
    }

    /// The member loop every call goes through: the member that answered last first,
    /// each bounded by `PER_CALL`, `PASSES` times round, never past `until`. Returns the
    /// first answer that is not worth asking another member about (never `Retry`).
    fn each_member(
        &self,
        path: &str,
        body: &Value,
        until: Instant,
        token: Option<&Secret>,
    ) -> Result<Answer, Fail> {
        let mut tried: Vec<String> = Vec::new();
        let n = self.place.endpoints.len();
        for i in 0..n * PASSES {
            let at = (self.at.get() + i) % n;
            let member = self.place.endpoints.get(at).map_or("", String::as_str);
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tried.push("the --timeout passed".into());
                break;
            }
            match self.send(member, path, body, left.min(PER_CALL), token) {
                Answer::Retry(why) => {
                    record(&mut tried, member, why);
                    if (i + 1) % n == 0 {
                        std::thread::sleep(Duration::from_millis(100).min(left));
                    }
                }
                answer => {
                    if matches!(answer, Answer::Ok(_)) {
                        self.at.set(at);
                    }
                    return Ok(answer);
                }
            }
        }
        Err(Fail::Unreachable(tried.join("; ")))
    }

    fn authenticate(&self, until: Instant) -> Result<(), Fail> {
        let name = self.credentials.user.clone().unwrap_or_default();
        let password = self
            .credentials
            .password
            .as_ref()
            .map_or("", |p| p.expose())
            .to_string();
        let body = json!({ "name": name, "password": password });
        let user = sanitize(&name);
        match self.each_member("auth/authenticate", &body, until, None)? {
            Answer::Ok(v) => {
                let token = v.get("token").and_then(Value::as_str).unwrap_or_default();
                if token.is_empty() {
                    return Err(Fail::Refused(
                        "authentication is not enabled on the cluster, yet ETCDCTL_USER is set"
                            .into(),
                    ));
                }
                *self.token.borrow_mut() = Some(Secret::new(token));
                Ok(())
            }
            Answer::TokenExpired => Err(Fail::Refused(format!(
                "user {user:?}: authentication failed"
            ))),
            Answer::Refused(why) => Err(Fail::Refused(format!("user {user:?}: {why}"))),
            Answer::Retry(why) => Err(Fail::Unreachable(why)),
        }
    }

    fn send(
        &self,
        member: &str,
        path: &str,
        body: &Value,
        limit: Duration,
        token: Option<&Secret>,
    ) -> Answer {
        let scheme = if self.place.tls { "https" } else { "http" };
        let url = format!("{scheme}://{member}/v3/{path}");
        let mut request = self
            .agent
            .post(&url)
            .config()
            .timeout_global(Some(limit))
            .build()
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", token.expose());
        }
        let mut response = match request.send(body.to_string().as_bytes()) {
            Ok(r) => r,
            // A certificate refused either way is refused by every member alike.
            Err(e) => match crate::tls::tls_detail(&e) {
                Some(why) => return Answer::Refused(format!("TLS with {member}: {why}")),
                None => return Answer::Retry(crate::net::describe(&e)),
            },
        };
        let status = response.status().as_u16();
        let text = match response
            .body_mut()
            .with_config()
            .limit(4 * 1024 * 1024)
            .read_to_vec()
        {
            Ok(t) => t,
            Err(e) => return Answer::Retry(crate::net::describe(&e)),
        };
        let value: Value = match serde_json::from_slice(&text) {
            Ok(v) => v,
            Err(_) => {
                return Answer::Retry(format!("HTTP {status} with an answer that is not JSON"));
            }
        };
        classify(status, value)
    }
}

fn record(tried: &mut Vec<String>, member: &str, why: String) {
    let line = format!("{member}: {}", sanitize(&why));
    if !tried.contains(&line) {
        tried.push(line);
    }
}

/// One member's answer to one call.
enum Answer {
    Ok(Value),
    /// Worth asking another member (or this one again): down, no leader, timed out.
    Retry(String),
    /// The auth token expired or was revoked: authenticate again, once.
    TokenExpired,
    Refused(String),
}

/// Sorts a gateway answer by HTTP status and gRPC code (etcd 3.4: docs/etcd.md).
fn classify(status: u16, value: Value) -> Answer {
    if status == 200 {
        return Answer::Ok(value);
    }
    let code = value.get("code").and_then(Value::as_i64).unwrap_or(0);
    let message = value
        .get("error")
        .or_else(|| value.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_start_matches("etcdserver: ");
    let message = sanitize(message);
    match code {
        // Unauthenticated: an expired or revoked auth token.
        16 => Answer::TokenExpired,
        // InvalidArgument (a wrong password, no user), PermissionDenied, FailedPrecondition.
        3 | 7 | 9 => Answer::Refused(message),
        _ => Answer::Retry(if message.is_empty() {
            format!("HTTP {status}")
        } else {
            message
        }),
    }
}

fn place_error(place: &Place, problem: impl Into<String>) -> Error {
    Error::token_file(place.shown(), problem)
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// An int64 from the gateway: a JSON string, absent when zero.
fn int(value: &Value, field: &str) -> i64 {
    match value.get(field) {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(v) => v.as_i64().unwrap_or(0),
        None => 0,
    }
}

/// The first key-value of a range answer: (value, mod_revision, create_revision, lease).
struct Kv {
    value: Vec<u8>,
    mod_revision: i64,
    create_revision: i64,
}

fn first_kv(range: &Value) -> Option<Kv> {
    let kv = range.get("kvs")?.as_array()?.first()?;
    let value = kv
        .get("value")
        .and_then(Value::as_str)
        .and_then(|v| B64.decode(v).ok())
        .unwrap_or_default();
    Some(Kv {
        value,
        mod_revision: int(kv, "mod_revision"),
        create_revision: int(kv, "create_revision"),
    })
}

/// The range answer inside a txn's first response (the failure branch's look).
fn txn_range(txn: &Value) -> Option<Kv> {
    let range = txn
        .get("responses")?
        .as_array()?
        .first()?
        .get("response_range")?;
    first_kv(range)
}

fn succeeded(txn: &Value) -> bool {
    txn.get("succeeded")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

impl Client {
    /// Reads the key without a lock: (value, mod_revision), `None` when it is missing.
    fn range(&self) -> Result<Option<(Vec<u8>, i64)>, Error> {
        let answer = self
            .call(
                "kv/range",
                &json!({ "key": b64(self.place.key.as_bytes()) }),
            )
            .map_err(|f| self.error(f))?;
        Ok(first_kv(&answer).map(|kv| (kv.value, kv.mod_revision)))
    }

    /// The value, if the key exists (`login` checking what it would replace).
    pub(crate) fn get_if_any(&self) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.range()?.map(|(value, _)| value))
    }

    /// Reads the key without a lock: (value, mod_revision); a missing key is an error.
    /// A value larger than a token file may be is refused, as a file's is.
    pub(crate) fn get(&self) -> Result<(Vec<u8>, i64), Error> {
        match self.range()? {
            Some((value, _)) if value.len() as u64 > MAX_FILE => Err(place_error(
                &self.place,
                "is larger than 1 MiB, so it is not a token",
            )),
            Some(found) => Ok(found),
            None => Err(place_error(
                &self.place,
                "does not exist: the key holds no token (seed it with `sfrefresh login` or \
                 `etcdctl put`)",
            )),
        }
    }

    /// The key's mod revision, if it exists (`--watch` noticing a change).
    pub(crate) fn revision(&self) -> Option<i64> {
        self.range().ok()?.map(|(_, revision)| revision)
    }

    /// The families under a prefix location, each as its own location, sorted; keys
    /// whose last part starts with a dot (locks) are skipped.
    pub(crate) fn list(&self) -> Result<Vec<Place>, Error> {
        let key = self.place.key.as_bytes();
        let mut end = key.to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let answer = self
            .call(
                "kv/range",
                &json!({ "key": b64(key), "range_end": b64(&end), "keys_only": true }),
            )
            .map_err(|f| self.error(f))?;
        let kvs = answer
            .get("kvs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut places = Vec::new();
        for kv in kvs {
            let Some(name) = kv
                .get("key")
                .and_then(Value::as_str)
                .and_then(|k| B64.decode(k).ok())
                .and_then(|k| String::from_utf8(k).ok())
            else {
                continue;
            };
            let hidden = name
                .rsplit('/')
                .next()
                .is_some_and(|last| last.starts_with('.'));
            if !hidden && !name.ends_with('/') {
                places.push(self.place.with_key(&name));
            }
        }
        Ok(places)
    }
}

/// A family locked in etcd for a read-modify-write: the lease that holds the lock, the
/// lock's revision, and the revision the value was read at. Dropping it revokes the
/// lease, which deletes the lock.
pub(crate) struct Locked {
    client: Client,
    lease: i64,
    ttl: i64,
    /// The create revision of our lock key: the save compares it, so a holder whose
    /// lease ended (and whose lock another run then took) cannot save.
    lock_revision: Cell<i64>,
    /// The mod revision of the value read under the lock (0: the key did not exist).
    read_revision: Cell<i64>,
}

impl Locked {
    /// Takes the lock on `place`, waiting (on a watch, not a poll) for another holder
    /// until `deadline`.
    pub(crate) fn lock(
        place: &Place,
        credentials: &Credentials,
        roots: &Roots,
        deadline: Instant,
        timeout: Duration,
        log: &Log,
    ) -> Result<Locked, Error> {
        let client = Client::new(place, credentials, roots, deadline)?;
        // The lease must outlive the run: its deadline is `timeout` away at most.
        let ttl = (timeout + LEASE_MARGIN).as_secs().max(2) as i64;
        let grant = client
            .call("lease/grant", &json!({ "TTL": ttl.to_string() }))
            .map_err(|f| client.error(f))?;
        let lease = int(&grant, "ID");
        if lease == 0 {
            return Err(client.error(Fail::Unreachable(format!(
                "no lease was granted: {}",
                sanitize(grant.get("error").and_then(Value::as_str).unwrap_or(""))
            ))));
        }
        let locked = Locked {
            client,
            lease,
            ttl,
            lock_revision: Cell::new(0),
            read_revision: Cell::new(0),
        };
        // Dropping `locked` on an error revokes the lease.
        locked
            .lock_revision
            .set(locked.take(deadline, timeout, log)?);
        log.step(format_args!(
            "locked {} (etcd lease {lease:x}, {ttl}s)",
            locked.shown()
        ));
        Ok(locked)
    }

    /// The lock loop: put the lock key if there is none; else watch it go.
    fn take(&self, deadline: Instant, timeout: Duration, log: &Log) -> Result<i64, Error> {
        let c = &self.client;
        let lock = c.place.lock_key();
        let me = holder_name();
        let started = Instant::now();
        let mut announced = false;
        loop {
            let txn = json!({
                "compare": [{ "key": b64(lock.as_bytes()), "target": "CREATE",
                              "create_revision": "0" }],
                "success": [{ "request_put": { "key": b64(lock.as_bytes()),
                              "value": b64(me.as_bytes()), "lease": self.lease.to_string() } }],
                "failure": [{ "request_range": { "key": b64(lock.as_bytes()) } }],
            });
            let answer = c.call("kv/txn", &txn).map_err(|f| c.error(f))?;
            let revision = answer.get("header").map_or(0, |h| int(h, "revision"));
            if succeeded(&answer) {
                return Ok(revision);
            }
            let holder = txn_range(&answer);
            match &holder {
                // Our own put, applied by a member that timed out answering.
                Some(kv) if kv.value == me.as_bytes() => return Ok(kv.create_revision),
                // Deleted between the compare and the range: try again at once.
                None => continue,
                Some(_) => {}
            }
            let by = holder.map_or_else(
                || "another run".into(),
                |kv| sanitize(&String::from_utf8_lossy(&kv.value)),
            );
            // Said once, and only when the wait is long enough to notice.
            let noticeable = started + Duration::from_secs(1);
            if !announced && Instant::now() >= noticeable {
                log.wait(format_args!("waiting for {} held by {by}", c.place.shown));
                announced = true;
            }
            let until = if announced {
                deadline
            } else {
                noticeable.min(deadline)
            };
            self.wait_gone(&lock, revision + 1, until);
            if Instant::now() >= deadline {
                // Exit 4, not 3 as for a file: a lock in etcd ends with its holder's
                // lease, so this passes by itself (and `--watch` tries again).
                return Err(Error::network(format!(
                    "another run ({by}) has held the etcd lock for more than the {} --timeout; \
                     nothing was sent",
                    human(timeout)
                ))
                .hinted("a lock ends with its holder's lease at the latest: try again later"));
            }
        }
    }

    /// Waits until the lock key is deleted (its holder unlocked, or its lease ended),
    /// or `deadline`: a watch from `from`, so a delete in between is not missed.
    fn wait_gone(&self, lock: &str, from: i64, deadline: Instant) {
        let c = &self.client;
        let n = c.place.endpoints.len().max(1);
        for i in 0..n {
            let at = (c.at.get() + i) % n;
            let member = c.place.endpoints.get(at).map_or("", String::as_str);
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match self.watch_once(member, lock, from, left) {
                Watched::Gone | Watched::Deadline => return,
                Watched::Failed => {}
            }
        }
        // No member would watch: wait a little rather than spin.
        let left = deadline.saturating_duration_since(Instant::now());
        std::thread::sleep(left.min(Duration::from_millis(250)));
    }

    fn watch_once(&self, member: &str, lock: &str, from: i64, left: Duration) -> Watched {
        let c = &self.client;
        let scheme = if c.place.tls { "https" } else { "http" };
        let body = json!({ "create_request": {
            "key": b64(lock.as_bytes()), "start_revision": from.to_string() } });
        let mut request = c
            .agent
            .post(format!("{scheme}://{member}/v3/watch"))
            .config()
            .timeout_global(Some(left))
            .build()
            .header("Content-Type", "application/json");
        let token = c.token.borrow().clone();
        if let Some(token) = &token {
            request = request.header("Authorization", token.expose());
        }
        let response = match request.send(body.to_string().as_bytes()) {
            Ok(r) if r.status().as_u16() == 200 => r,
            Ok(_) => return Watched::Failed,
            Err(ureq::Error::Timeout(_)) => return Watched::Deadline,
            Err(_) => return Watched::Failed,
        };
        let reader = BufReader::new(response.into_body().into_reader());
        for line in reader.lines() {
            let Ok(line) = line else {
                return Watched::Deadline;
            };
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let result = message.get("result").unwrap_or(&Value::Null);
            if result.get("canceled").and_then(Value::as_bool) == Some(true) {
                return Watched::Failed;
            }
            let events = result.get("events").and_then(Value::as_array);
            // An event's type is absent for PUT (the zero value) and "DELETE" for a delete.
            if events.is_some_and(|e| e.iter().any(|e| e.get("type").is_some())) {
                return Watched::Gone;
            }
        }
        Watched::Failed
    }

    pub(crate) fn shown(&self) -> &str {
        self.client.place.shown()
    }

    pub(crate) fn rescue_name(&self) -> String {
        self.client.place.rescue_name()
    }

    /// Reads the value under the lock and remembers its revision for the save.
    pub(crate) fn read(&self) -> Result<Vec<u8>, Error> {
        let (value, revision) = self.client.get()?;
        self.read_revision.set(revision);
        Ok(value)
    }

    /// Reads the value if there is one (`login` of a new key): `None` when missing.
    pub(crate) fn read_if_any(&self) -> Result<Option<Vec<u8>>, Error> {
        let found = self.client.range()?;
        self.read_revision
            .set(found.as_ref().map_or(0, |(_, revision)| *revision));
        Ok(found.map(|(value, _)| value))
    }

    /// Just before sending: the lease is renewed and must outlive the run's deadline
    /// (rule 1 of docs/etcd.md). A lease that ended (the run was stopped) means another
    /// run may hold the lock now: nothing is sent.
    pub(crate) fn check_lease(&self) -> Result<(), Error> {
        let c = &self.client;
        let answer = c
            .call("lease/keepalive", &json!({ "ID": self.lease.to_string() }))
            .map_err(|f| c.error(f))?;
        let result = answer.get("result").unwrap_or(&answer);
        let left = Duration::from_secs(int(result, "TTL").max(0) as u64);
        let needed = c.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || left <= needed {
            return Err(Error::network(
                "this run's etcd lock lease ended or would end before its --timeout (the run \
                 was stopped or stalled?); another run may hold the lock, so nothing was sent",
            ));
        }
        Ok(())
    }

    /// Saves `text` if the value is still the one read and the lock still ours: a
    /// compare-and-swap, so nothing newer is ever overwritten.
    pub(crate) fn save(&self, text: &[u8]) -> Result<(), Error> {
        let c = &self.client;
        let key = b64(c.place.key.as_bytes());
        let read = self.read_revision.get();
        let value_compare = if read == 0 {
            json!({ "key": key, "target": "CREATE", "create_revision": "0" })
        } else {
            json!({ "key": key, "target": "MOD", "mod_revision": read.to_string() })
        };
        let txn = json!({
            "compare": [value_compare, self.still_ours()],
            "success": [{ "request_put": { "key": key, "value": b64(text) } }],
            "failure": [{ "request_range": { "key": key } }],
        });
        let answer = self.write(&txn, "saved")?;
        if succeeded(&answer) {
            return Ok(());
        }
        // A member that timed out answering may have applied our put already.
        if txn_range(&answer).is_some_and(|kv| kv.value == text) {
            return Ok(());
        }
        Err(place_error(
            &c.place,
            "was not saved: this run's etcd lock ended (its lease ran out while the run was \
             stopped or stalled) and the value may have changed since; nothing was overwritten",
        ))
    }

    /// The compare every write under the lock carries: the lock key is still the one
    /// this run created (a later holder's has another create revision).
    fn still_ours(&self) -> Value {
        json!({ "key": b64(self.client.place.lock_key().as_bytes()), "target": "CREATE",
                "create_revision": self.lock_revision.get().to_string() })
    }

    /// A transaction under the lock. It may run past the deadline (`SAVE_WINDOW`); one
    /// that etcd did not confirm is a failed save or delete (exit 3, as for a file).
    fn write(&self, txn: &Value, what: &str) -> Result<Value, Error> {
        let c = &self.client;
        c.call_until("kv/txn", txn, Instant::now() + SAVE_WINDOW)
            .map_err(|fail| {
                let why = match fail {
                    Fail::Unreachable(why) | Fail::Refused(why) => why,
                };
                place_error(&c.place, format!("was not {what}: etcd failed: {why}"))
            })
    }

    /// Deletes the key (`revoke`), if the lock is still ours.
    pub(crate) fn remove(&self) -> Result<(), Error> {
        let c = &self.client;
        let key = b64(c.place.key.as_bytes());
        let txn = json!({
            "compare": [self.still_ours()],
            "success": [{ "request_delete_range": { "key": key } }],
        });
        if succeeded(&self.write(&txn, "removed")?) {
            return Ok(());
        }
        Err(place_error(
            &c.place,
            "was not removed: this run's etcd lock ended before the delete; nothing was changed",
        ))
    }
}

enum Watched {
    Gone,
    Deadline,
    Failed,
}

impl Drop for Locked {
    /// Unlocks: revoking the lease deletes the lock key. If this fails, the lease ends
    /// by itself after its TTL.
    fn drop(&mut self) {
        let c = &self.client;
        let until = Instant::now() + PER_CALL;
        let _ = c.call_until(
            "lease/revoke",
            &json!({ "ID": self.lease.to_string() }),
            until,
        );
        let _ = self.ttl;
    }
}

/// Who holds a lock, as other runs' messages name it: host, pid and a random tag (two
/// runs of one pid namespace on two hosts must not look alike).
fn holder_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into());
    let mut tag = [0u8; 6];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut tag);
    let mut out = format!("{}:{}:", sanitize(&host), std::process::id());
    for b in tag {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() {
        let p = Place::parse("etcd://127.0.0.1:2379,10.0.0.2/sfr/acme").unwrap();
        assert_eq!(p.endpoints, ["127.0.0.1:2379", "10.0.0.2:2379"]);
        assert_eq!(p.key, "/sfr/acme");
        assert!(!p.tls && !p.is_prefix());
        assert_eq!(p.lock_key(), "/sfr/acme/.lock");
        assert_eq!(p.rescue_name(), "etcd-sfr-acme");
        let p = Place::parse("etcds://[::1]:2379/sfr/").unwrap();
        assert!(p.tls && p.is_prefix());
        assert_eq!(p.with_key("/sfr/b").shown(), "etcds://[::1]:2379/sfr/b");
        for bad in [
            "etcd://h:1",
            "etcd://h:1/",
            "etcd://user:pw@h:1/k",
            "etcd://h:notaport/k",
            "etcd://,h/k",
            "etcd://h/k?x",
        ] {
            let e = Place::parse(bad).unwrap_err();
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn users_and_passwords() {
        let c = Credentials::from_user(Some("root:pw".into()), None);
        assert_eq!(c.user.as_deref(), Some("root"));
        assert_eq!(c.password.unwrap().expose(), "pw");
        let c = Credentials::from_user(Some("root:pw".into()), Some("other".into()));
        assert_eq!(c.password.unwrap().expose(), "other");
        let c = Credentials::from_user(Some("root".into()), None);
        assert!(c.password.is_none());
    }

    #[test]
    fn absent_fields_are_zero_and_false() {
        let v: Value = serde_json::from_str(r#"{"header":{"revision":"7"}}"#).unwrap();
        assert!(!succeeded(&v));
        assert_eq!(int(v.get("header").unwrap(), "revision"), 7);
        assert_eq!(int(&v, "TTL"), 0);
        assert!(first_kv(&v).is_none());
        assert!(matches!(
            classify(400, serde_json::from_str(r#"{"code":3,"error":"etcdserver: authentication failed"}"#).unwrap()),
            Answer::Refused(m) if m == "authentication failed"
        ));
        assert!(matches!(
            classify(401, serde_json::from_str(r#"{"code":16}"#).unwrap()),
            Answer::TokenExpired
        ));
        assert!(matches!(
            classify(
                503,
                serde_json::from_str(r#"{"code":14,"error":"etcdserver: no leader"}"#).unwrap()
            ),
            Answer::Retry(_)
        ));
    }
}
