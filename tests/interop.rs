//! Interop with real servers nobody on this project wrote, started on loopback:
//! django-oauth-toolkit (DOT) under gunicorn, rotating refresh tokens with reuse
//! protection (`tests/interop/dot_server.py`), and Debian's squid as a forward proxy that
//! requires Basic auth (`tests/interop/squid_server.py`).
//!
//! Each launcher prints one JSON line once its server answers and stops when its stdin
//! closes. When Python's Django/DOT/gunicorn or squid is missing, a test prints
//! `SKIPPED: …` and passes, unless `CI` is set: then a missing server fails the test
//! (`.ci/run` installs them).

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::util::*;

/// How long a launcher may take to print its JSON line (DOT needs ~3 s on an idle box).
const STARTUP: Duration = Duration::from_secs(90);
/// DOT users, one per test that needs one, each with its own applications and tokens.
const DOT_CLIENTS: usize = 10;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn cacert() -> String {
    cert_path("ca.pem").to_string_lossy().into_owned()
}

// ---- launchers ----

/// A launcher process and its JSON line. Dropping it closes its stdin, which stops the
/// server; a launcher held in a static stops when the test binary exits.
struct Launched {
    child: Child,
    stdin: Option<ChildStdin>,
    info: Value,
    stderr: Arc<Mutex<String>>,
}

enum Start {
    Up(Launched),
    /// The server (or python3) is not installed: skip, or fail under CI.
    Missing(String),
    /// Installed but did not come up: always a failure, with the launcher's stderr.
    Failed(String),
}

fn launch(script: &str, args: &[&str]) -> Start {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    let spawned = Command::new("python3")
        .arg(&path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Start::Missing(format!("python3 cannot be run: {e}")),
    };
    // Keep the launcher's stderr (and its servers') for failure messages.
    let stderr = Arc::new(Mutex::new(String::new()));
    let (mut err, log) = (child.stderr.take().unwrap(), stderr.clone());
    thread::spawn(move || {
        let mut buf = [0; 4096];
        while let Ok(n @ 1..) = err.read(&mut buf) {
            log.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(STARTUP) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Start::Failed(format!(
                "{script} printed nothing within {STARTUP:?}; its stderr:\n{}",
                stderr.lock().unwrap()
            ));
        }
    };
    if line.is_empty() {
        let status = child.wait().unwrap();
        thread::sleep(Duration::from_millis(50)); // let the stderr thread catch up
        let log = stderr.lock().unwrap().clone();
        if status.code() == Some(3) {
            return Start::Missing(log.trim().to_string());
        }
        return Start::Failed(format!("{script} failed ({status}); its stderr:\n{log}"));
    }
    let info = match serde_json::from_str(&line) {
        Ok(info) => info,
        Err(e) => return Start::Failed(format!("{script} printed a bad JSON line ({e}): {line}")),
    };
    Start::Up(Launched {
        stdin: child.stdin.take(),
        child,
        info,
        stderr,
    })
}

impl Launched {
    fn str(&self, pointer: &str) -> String {
        self.info
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at {pointer} in {}", self.info))
            .to_string()
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A missing server: a loud skip on a developer's machine, a failure under CI.
fn skip(what: &str, install: &str, why: &str) {
    // libtest names each test's thread after the test.
    let current = thread::current();
    let test = current.name().unwrap_or("an interop test");
    if in_ci() {
        panic!("{what} is missing under CI=true ({why}): .ci/run must install it");
    }
    // Straight to fd 2: libtest captures eprintln! of passing tests, and a skip must show.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {test}: {what} cannot be installed or is missing ({why}); `{install}` adds it"
    );
}

// ---- DOT ----

/// One DOT server (plain http and https over one database) shared by the whole module;
/// each test takes a client (user, application and token family) of its own.
struct Dot {
    server: Launched,
    next: AtomicUsize,
}

/// One of a DOT user's confidential applications and the token its flow gave it.
struct DotClient {
    id: String,
    secret: String,
    token: Value,
}

/// What the first test to ask found, kept for all: one launch, one verdict.
enum DotState {
    Up(Dot),
    Missing(String),
    Failed(String),
}

fn dot() -> Option<&'static Dot> {
    static DOT: OnceLock<DotState> = OnceLock::new();
    let state = DOT.get_or_init(
        || match launch("dot_server.py", &[&DOT_CLIENTS.to_string()]) {
            Start::Up(server) => DotState::Up(Dot {
                server,
                next: AtomicUsize::new(0),
            }),
            Start::Missing(why) => DotState::Missing(why),
            Start::Failed(why) => DotState::Failed(why),
        },
    );
    match state {
        DotState::Up(dot) => Some(dot),
        DotState::Failed(why) => panic!("{why}"),
        DotState::Missing(why) => {
            skip(
                "django-oauth-toolkit/gunicorn",
                "python3 -m pip install -r tests/interop/requirements.txt",
                why,
            );
            None
        }
    }
}

impl Dot {
    /// The next unused user's password-grant application and its token.
    fn client(&self) -> DotClient {
        self.take("")
    }

    /// The next unused user's authorization-code application and its token.
    fn code_client(&self) -> DotClient {
        self.take("/authorization_code")
    }

    fn take(&self, app: &str) -> DotClient {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        let Some(c) = self.server.info.pointer(&format!("/clients/{i}{app}")) else {
            panic!("more than {DOT_CLIENTS} DOT users wanted: raise DOT_CLIENTS");
        };
        DotClient {
            id: c["client_id"].as_str().unwrap().to_string(),
            secret: c["client_secret"].as_str().unwrap().to_string(),
            token: c["token"].clone(),
        }
    }

    /// `token_url`, `revoke_url` or `userinfo_url`, plain http.
    fn plain(&self, which: &str) -> String {
        self.server.str(&format!("/{which}"))
    }

    /// The same over https (tests/certs/server.pem; trust tests/certs/ca.pem).
    fn tls(&self, which: &str) -> String {
        self.server.str(&format!("/tls/{which}"))
    }
}

impl DotClient {
    fn refresh_token(&self) -> String {
        self.token["refresh_token"].as_str().unwrap().to_string()
    }

    fn access_token(&self) -> String {
        self.token["access_token"].as_str().unwrap().to_string()
    }

    /// The token file as the flow answered (plus `issued_at`).
    fn write_file(&self, dir: &TempDir) -> PathBuf {
        dir.write("tok.json", &pretty(&self.token))
    }

    /// sfrefresh against `url` with this client's id and secret (`SF_CLIENT_SECRET`).
    fn cmd(&self, url: &str, file: &Path, extra: &[&str]) -> Command {
        let mut cmd = sfrefresh();
        cmd.args([
            "--client-id",
            &self.id,
            "--token-url",
            url,
            "--timeout",
            "20",
        ]);
        if url.starts_with("https:") {
            cmd.args(["--cacert", &cacert()]);
        }
        cmd.args(extra).arg(file);
        cmd.env("SF_CLIENT_SECRET", &self.secret);
        cmd
    }

    /// A refresh by hand, as a second client holding a copy of the token would do it.
    fn refresh_by_hand(&self, url: &str, refresh_token: &str) -> (u16, String) {
        post_form(
            url,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", &self.id),
                ("client_secret", &self.secret),
            ],
        )
    }

    /// RFC 7009 revocation with this client's credentials.
    fn revoke(&self, url: &str, token: &str, hint: &str) -> (u16, String) {
        post_form(
            url,
            &[
                ("token", token),
                ("token_type_hint", hint),
                ("client_id", &self.id),
                ("client_secret", &self.secret),
            ],
        )
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

fn read_json(file: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap()
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// The tests' own HTTP client (ureq, trusting the test CA, never a proxy), to act on
/// the server behind sfrefresh's back.
fn http() -> ureq::Agent {
    use ureq::tls::{PemItem, RootCerts, TlsConfig};
    let pem = fs::read(cert_path("ca.pem")).unwrap();
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    ureq::Agent::config_builder()
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(&certs))
                .build(),
        )
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .new_agent()
}

fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, String) {
    let mut answer = http().post(url).send_form(form.iter().copied()).unwrap();
    let status = answer.status().as_u16();
    (status, answer.body_mut().read_to_string().unwrap())
}

fn userinfo(url: &str, access_token: &str) -> (u16, String) {
    let mut answer = http()
        .get(url)
        .header("Authorization", format!("Bearer {access_token}"))
        .call()
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.body_mut().read_to_string().unwrap())
}

const INVALID_GRANT: &str = r#"{"error": "invalid_grant"}"#;

fn refused(url: &str, file: &Path) -> String {
    format!(
        "sfrefresh: error: {}: {url} refused the refresh (HTTP 400): invalid_grant\n\
         sfrefresh: hint: the refresh token is expired or revoked (or the user is blocked): \
         authorise again to get a new token file\n",
        file.display()
    )
}

fn rotated(url: &str) -> String {
    format!("sfrefresh: refreshed token for {url} (refresh token rotated)\n")
}

// ---- squid ----

/// A squid of the test's own (it starts in ~0.3 s), so its access log is the test's alone.
struct Squid {
    server: Launched,
    port: u16,
    user: String,
}

fn squid(user: &str, password: &str) -> Option<Squid> {
    match launch("squid_server.py", &[user, password]) {
        Start::Up(server) => Some(Squid {
            port: server.info["port"].as_u64().unwrap() as u16,
            user: user.to_string(),
            server,
        }),
        Start::Missing(why) => {
            skip("squid", "apt-get install squid", &why);
            None
        }
        Start::Failed(why) => panic!("{why}"),
    }
}

impl Squid {
    /// `http://USERINFO@127.0.0.1:PORT`, USERINFO as given (already percent-encoded).
    fn url_with(&self, userinfo: &str) -> String {
        format!("http://{userinfo}@127.0.0.1:{}", self.port)
    }

    /// What sfrefresh may show of any of these URLs.
    fn shown(&self) -> String {
        format!("http://***@127.0.0.1:{}", self.port)
    }

    fn lines(&self) -> Vec<String> {
        fs::read_to_string(self.server.str("/access_log"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    /// The access log once it has at least `n` lines (squid writes a CONNECT's line
    /// when the tunnel closes) and nothing more arrived for 300 ms, as
    /// (result/status, method, URL, user) per request.
    fn log(&self, n: usize) -> Vec<(String, String, String, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.lines().len() < n && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        loop {
            let before = self.lines().len();
            thread::sleep(Duration::from_millis(300));
            if self.lines().len() == before {
                break;
            }
        }
        // Format "interop": time elapsed client result/status bytes method URL user hierarchy
        self.lines()
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(f.len(), 9, "unexpected access.log line: {l}");
                (f[3].into(), f[5].into(), f[6].into(), f[7].into())
            })
            .collect()
    }

    fn entry(&self, result: &str, target: &str) -> (String, String, String, String) {
        (
            result.into(),
            "CONNECT".into(),
            target.into(),
            self.user.clone(),
        )
    }
}

/// host:port of a URL, as a CONNECT request names it.
fn authority(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest.split('/').next().unwrap().to_string()
}

// ---- a. rotation and reuse protection ----

#[test]
fn dot_rotation_is_saved_and_replaying_a_rotated_out_token_kills_the_family() {
    let Some(dot) = dot() else {
        return;
    };
    let client = dot.client();
    let url = dot.plain("token_url");
    let dir = TempDir::new();
    let file = client.write_file(&dir);
    let (a0, r0) = (client.access_token(), client.refresh_token());

    let before = now_ms();
    let out = run(&mut client.cmd(&url, &file, &[]));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, rotated(&url).as_str()),
        "DOT's log:\n{}",
        dot.server.log()
    );
    let saved = read_json(&file);
    let keys: Vec<&str> = saved.as_object().unwrap().keys().map(|k| &**k).collect();
    // The file's own keys keep their places; DOT's answer adds id_token (scope openid).
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "token_type",
            "scope",
            "refresh_token",
            "issued_at",
            "id_token"
        ]
    );
    let (a1, r1) = (
        saved["access_token"].as_str().unwrap().to_string(),
        saved["refresh_token"].as_str().unwrap().to_string(),
    );
    assert!(a1 != a0 && r1 != r0, "DOT rotates both tokens: {saved}");
    assert_eq!(saved["expires_in"], 3600);
    assert_eq!(saved["token_type"], "Bearer");
    assert_eq!(saved["scope"], "openid read");
    // DOT sends no issued_at: sfrefresh records the local time, Salesforce style.
    let issued: u128 = saved["issued_at"].as_str().unwrap().parse().unwrap();
    assert!(issued >= before && issued <= now_ms(), "{issued}");
    assert_eq!(saved["id_token"].as_str().unwrap().split('.').count(), 3);
    assert_eq!(fs::read_to_string(&file).unwrap(), pretty(&saved));
    // The server agrees: the new access token works, the rotated-out one is gone.
    let info = dot.plain("userinfo_url");
    assert_eq!(userinfo(&info, &a1).0, 200);
    assert_eq!(userinfo(&info, &a0).0, 401);

    // Again: the saved refresh token is the current one.
    let out = run(&mut client.cmd(&url, &file, &["--print", "token"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, rotated(&url).as_str()));
    let saved = read_json(&file);
    let (a2, r2) = (
        saved["access_token"].as_str().unwrap().to_string(),
        saved["refresh_token"].as_str().unwrap().to_string(),
    );
    assert_eq!(out.stdout, format!("{a2}\n"));
    assert!(r2 != r1 && r2 != r0);

    // Replaying the rotated-out r1 by hand is refused and revokes the whole family:
    // the reuse protection sfrefresh's lock exists for is real on this server.
    assert_eq!(
        client.refresh_by_hand(&url, &r1),
        (400, INVALID_GRANT.to_string())
    );
    assert_eq!(
        userinfo(&info, &a2).0,
        401,
        "the family's access token died"
    );
    let kept = fs::read_to_string(&file).unwrap();
    let out = run(&mut client.cmd(&url, &file, &[]));
    assert_eq!(
        (out.code, out.stderr.as_str(), out.stdout.as_str()),
        (5, refused(&url, &file).as_str(), "")
    );
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        kept,
        "a refusal saves nothing"
    );
    assert_eq!(dir.names(), ["tok.json"]);
}

#[test]
fn dot_refreshes_a_token_from_the_authorization_code_flow() {
    let Some(dot) = dot() else {
        return;
    };
    let client = dot.code_client();
    let url = dot.tls("token_url");
    let dir = TempDir::new();
    let file = client.write_file(&dir);
    let out = run(&mut client.cmd(&url, &file, &[]));
    assert_eq!((out.code, out.stderr.as_str()), (0, rotated(&url).as_str()));
    let saved = read_json(&file);
    assert_ne!(saved["refresh_token"], client.token["refresh_token"]);
    assert_ne!(saved["access_token"], client.token["access_token"]);
    // The code flow's answer already had an id_token: it stays in its place, renewed.
    let keys: Vec<&str> = saved.as_object().unwrap().keys().map(|k| &**k).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "token_type",
            "scope",
            "refresh_token",
            "id_token",
            "issued_at"
        ]
    );
    assert_ne!(saved["id_token"], client.token["id_token"]);
    let info = dot.tls("userinfo_url");
    assert_eq!(
        userinfo(&info, saved["access_token"].as_str().unwrap()).0,
        200
    );
}

#[test]
fn dot_accepts_the_client_secret_as_http_basic() {
    let Some(dot) = dot() else {
        return;
    };
    let client = dot.client();
    let url = dot.tls("token_url");
    let dir = TempDir::new();
    let file = client.write_file(&dir);
    let out = run(&mut client.cmd(&url, &file, &["--client-auth", "basic"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, rotated(&url).as_str()));
    assert_ne!(
        read_json(&file)["refresh_token"],
        client.token["refresh_token"]
    );
    // A wrong secret is DOT's invalid_client (HTTP 401), exit 5 with the secret hint.
    let mut cmd = client.cmd(&url, &file, &["--client-auth", "basic"]);
    cmd.env("SF_CLIENT_SECRET", "not-the-secret");
    let out = run(&mut cmd);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "sfrefresh: error: {}: {url} refused the refresh (HTTP 401): invalid_client\n",
            file.display()
        )),
        "{}",
        out.stderr
    );
}

// ---- b. concurrency ----

#[test]
fn eight_concurrent_runs_on_one_file_keep_the_dot_family_alive() {
    let Some(dot) = dot() else {
        return;
    };
    let client = dot.client();
    let url = dot.plain("token_url");
    let dir = TempDir::new();
    let file = client.write_file(&dir);
    let children: Vec<Child> = (0..8)
        .map(|_| {
            client
                .cmd(&url, &file, &["--print", "token"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut tokens = Vec::new();
    // A run that waited a second or more for the lock says so first (the eighth waits
    // for seven refreshes: on a loaded machine that is over a second); then exactly
    // the rotated line.
    let waited = format!(
        "sfrefresh: waiting for another sfrefresh holding {}\n",
        file.display()
    );
    for child in children {
        let out: Out = child.wait_with_output().unwrap().into();
        let after_wait = out.stderr.strip_prefix(&waited).unwrap_or(&out.stderr);
        assert_eq!(
            (out.code, after_wait),
            (0, rotated(&url).as_str()),
            "DOT's log:\n{}",
            dot.server.log()
        );
        tokens.push(out.stdout.trim_end().to_string());
    }
    // Eight real refreshes, one after the other, each with the token the last one saved
    // (a replay would have revoked the family and failed every later run).
    let mut distinct = tokens.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 8, "{tokens:?}");
    let saved = read_json(&file);
    assert!(tokens.contains(&saved["access_token"].as_str().unwrap().to_string()));
    assert_eq!(dir.names(), ["tok.json"], "no litter");
    // The family is alive: the saved access token works and one more refresh succeeds.
    assert_eq!(
        userinfo(
            &dot.plain("userinfo_url"),
            saved["access_token"].as_str().unwrap()
        )
        .0,
        200
    );
    let out = run(&mut client.cmd(&url, &file, &[]));
    assert_eq!((out.code, out.stderr.as_str()), (0, rotated(&url).as_str()));
}

// ---- c. through squid ----

#[test]
fn through_squid_with_basic_auth_by_flag_and_by_env() {
    let Some(dot) = dot() else {
        return;
    };
    let Some(squid) = squid("ops", "pr0xy-pw") else {
        return;
    };
    let client = dot.client();
    let (https, http) = (dot.tls("token_url"), dot.plain("token_url"));
    let dir = TempDir::new();
    let file = client.write_file(&dir);
    let proxy = squid.url_with("ops:pr0xy-pw");
    let refresh = |url: &str, env: Option<&str>| {
        let before = read_json(&file)["refresh_token"].clone();
        let mut cmd = match env {
            None => client.cmd(url, &file, &["-v", "--proxy", &proxy]),
            Some(var) => {
                let mut cmd = client.cmd(url, &file, &["-v"]);
                cmd.env(var, &proxy);
                cmd
            }
        };
        let out = run(&mut cmd);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let source = env.unwrap_or("--proxy");
        assert!(
            out.stderr.contains(&format!(
                "sfrefresh: connecting through proxy {} (from {source})\n",
                squid.shown()
            )),
            "{}",
            out.stderr
        );
        assert!(out.stderr.ends_with(&rotated(url)), "{}", out.stderr);
        assert!(!out.stderr.contains("pr0xy-pw"), "{}", out.stderr);
        assert_ne!(read_json(&file)["refresh_token"], before);
    };

    // https: the real-world path, a CONNECT tunnel with TLS end to end.
    refresh(&https, None);
    refresh(&https, Some("https_proxy"));
    // Plain http to loopback: ureq 3 tunnels it with CONNECT too (no absolute-form GET).
    refresh(&http, None);
    refresh(&http, Some("http_proxy"));
    let ok = |url: &str| squid.entry("TCP_TUNNEL/200", &authority(url));
    assert_eq!(squid.log(4), [ok(&https), ok(&https), ok(&http), ok(&http)]);
}

// ---- d. wrong proxy password ----

#[test]
fn a_wrong_proxy_password_fails_once_and_is_not_retried() {
    let Some(squid) = squid("ops", "right-pw") else {
        return;
    };
    let server = Server::tls("server", vec![]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut cmd = sfrefresh();
    cmd.args([
        "--client-id",
        CLIENT_ID,
        "--token-url",
        &server.url(),
        "--cacert",
        &cacert(),
        "--timeout",
        "20",
        "--proxy",
        &squid.url_with("ops:wrong-pw"),
    ])
    .arg(&file);
    let out = run(&mut cmd);
    let report = format!("exit {}, stderr:\n{}", out.code, out.stderr);
    assert_eq!(
        squid.log(1),
        [squid.entry("TCP_DENIED/407", &authority(&server.url()))],
        "squid saw exactly one request: a 407 is not retried ({report})"
    );
    assert_eq!(out.code, 4, "{report}");
    assert_eq!(
        out.stderr.matches("proxy authentication failed").count(),
        1,
        "{report}"
    );
    assert!(!out.stderr.contains("407/407"), "{report}");
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("sfrefresh: error: "), "{report}");
    assert!(first.contains(&squid.shown()), "names the proxy: {report}");
    assert!(!out.stderr.contains("attempts"), "{report}");
    assert!(contains_none(&out.stderr, &["wrong-pw", "right-pw"]));
    assert_eq!(server.connections(), 0);
    assert_untouched(&dir, &file, TOKEN);
}

// ---- e. special characters in the proxy password ----

/// Every way `p#a/s?s` (user `ops`) could leak: raw, percent-encoded (either case), in
/// pieces, and inside a Basic header.
const SPECIAL_PW: &str = "p#a/s?s";
const SPECIAL_PW_ENCODED: &str = "p%23a%2Fs%3Fs";
const SPECIAL_SPELLINGS: &[&str] = &[
    "p#a/s?s",
    "p%23a%2Fs%3Fs",
    "p%23a%2fs%3fs",
    "p#a",
    "p%23",
    "%2Fs",
    "%2fs",
    "s?s",
    "%3Fs",
    "%3fs",
    "#a/s",
    "b3BzOnAjYS9zP3M", // base64("ops:p#a/s?s")
];

#[test]
fn a_proxy_password_with_hash_slash_and_question_mark_works_and_never_shows() {
    // Percent-encoded as RFC 3986 wants, or raw as people type it: sfrefresh takes the
    // credentials up to the last `@` (a host name holds none), so both reach squid as
    // the same password, and no spelling of it is ever printed.
    let Some(dot) = dot() else {
        return;
    };
    let Some(squid) = squid("ops", SPECIAL_PW) else {
        return;
    };
    let client = dot.client();
    let url = dot.tls("token_url");
    let dir = TempDir::new();
    let file = client.write_file(&dir);
    let mut runs = 0;
    for password in [SPECIAL_PW_ENCODED, SPECIAL_PW] {
        let proxy = squid.url_with(&format!("ops:{password}"));
        for env in [None, Some("HTTPS_PROXY")] {
            let mut cmd = match env {
                None => client.cmd(&url, &file, &["-v", "--proxy", &proxy]),
                Some(var) => {
                    let mut cmd = client.cmd(&url, &file, &["-v"]);
                    cmd.env(var, &proxy);
                    cmd
                }
            };
            let out = run(&mut cmd);
            runs += 1;
            assert_eq!(out.code, 0, "{password}: {}", out.stderr);
            assert!(
                out.stderr.contains(&format!(
                    "connecting through proxy {} (from {})",
                    squid.shown(),
                    env.unwrap_or("--proxy")
                )),
                "{}",
                out.stderr
            );
            assert!(
                contains_none(&out.stderr, SPECIAL_SPELLINGS),
                "the password shows: {}",
                out.stderr
            );
        }
    }
    // squid authenticated ops with the decoded password every time.
    let ok = squid.entry("TCP_TUNNEL/200", &authority(&url));
    assert_eq!(squid.log(runs), vec![ok; runs]);
}

// ---- f. proxy not reachable ----

#[test]
fn an_unreachable_proxy_is_named_redacted_not_the_token_endpoint() {
    let server = Server::tls("server", vec![]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let port = free_port();
    let mut cmd = sfrefresh();
    cmd.args([
        "--client-id",
        CLIENT_ID,
        "--token-url",
        &server.url(),
        "--cacert",
        &cacert(),
        "--timeout",
        "10",
        "--proxy",
        &format!("http://ops:pr0xy-pw@127.0.0.1:{port}"),
    ])
    .arg(&file);
    let out = run(&mut cmd);
    let report = format!("exit {}, stderr:\n{}", out.code, out.stderr);
    assert_eq!(out.code, 4, "{report}");
    // Retry lines first, then the error: each names the proxy, none the endpoint.
    let first = out.stderr.lines().rev().nth(1).unwrap_or_default();
    assert!(
        first.starts_with(&format!("sfrefresh: error: {}: ", file.display())),
        "{report}"
    );
    assert!(
        first.contains(&format!("proxy http://***@127.0.0.1:{port}")),
        "names the proxy: {report}"
    );
    assert!(
        !out.stderr.contains(&server.url()),
        "blames the proxy, not the token endpoint: {report}"
    );
    assert!(!out.stderr.contains("pr0xy-pw"), "{report}");
    assert_eq!(server.connections(), 0);
    assert_untouched(&dir, &file, TOKEN);
}

// ---- g. what later verbs use: revocation and userinfo ----

#[test]
fn dot_exposes_rfc7009_revocation_and_oidc_userinfo() {
    let Some(dot) = dot() else {
        return;
    };
    let client = dot.client();
    let access = client.access_token();
    for info in [dot.plain("userinfo_url"), dot.tls("userinfo_url")] {
        let (status, body) = userinfo(&info, &access);
        assert_eq!(status, 200, "{info}: {body}");
        let claims: Value = serde_json::from_str(&body).unwrap();
        assert!(
            claims["sub"].as_str().is_some_and(|s| !s.is_empty()),
            "{body}"
        );
    }
    assert_eq!(userinfo(&dot.tls("userinfo_url"), "not-a-token").0, 401);

    // RFC 7009: 200 with an empty body, also for a token the server does not know.
    let revoke = dot.tls("revoke_url");
    assert_eq!(
        client.revoke(&revoke, "no-such-token", "refresh_token"),
        (200, String::new())
    );
    assert_eq!(
        client.revoke(&revoke, &client.refresh_token(), "refresh_token"),
        (200, String::new())
    );
    // Revoking the refresh token took its access token along, and sfrefresh now gets
    // invalid_grant (exit 5) and saves nothing.
    assert_eq!(userinfo(&dot.tls("userinfo_url"), &access).0, 401);
    let url = dot.tls("token_url");
    let dir = TempDir::new();
    let file = client.write_file(&dir);
    let out = run(&mut client.cmd(&url, &file, &[]));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (5, refused(&url, &file).as_str())
    );
    assert_untouched(&dir, &file, &pretty(&client.token));
}

/// The verbs against DOT over https (`--cacert`): `status --check --userinfo-url` says
/// the token works, `revoke --revoke-url` ends it and removes the file, and the same
/// check on a copy of the file is then refused (exit 5), as is a refresh.
#[test]
fn dot_status_check_and_revoke_over_tls() {
    let Some(dot) = dot() else {
        return;
    };
    let client = dot.client();
    let dir = TempDir::new();
    let file = client.write_file(&dir);
    let copy = dir.write("copy.json", &pretty(&client.token));
    let userinfo_url = dot.tls("userinfo_url");
    let check = |file: &Path| {
        run(sfrefresh()
            .args(["status", "--check", "--cacert", &cacert()])
            .args(["--userinfo-url", &userinfo_url])
            .arg(file))
    };
    let out = check(&file);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, ""),
        "{}",
        dot.server.log()
    );
    assert!(
        out.stdout.contains(&format!(
            "  check:         the access token works (HTTP 200 from {userinfo_url}, user "
        )),
        "{}",
        out.stdout
    );
    let url = dot.tls("token_url");
    let revoke_url = dot.tls("revoke_url");
    let out = run(sfrefresh()
        .args(["revoke", "--client-id", &client.id, "--token-url", &url])
        .args(["--revoke-url", &revoke_url, "--cacert", &cacert()])
        .env("SF_CLIENT_SECRET", &client.secret)
        .arg(&file));
    assert_eq!(
        (out.code, out.stderr),
        (
            0,
            format!(
                "sfrefresh: revoked the refresh token for {}; removed {}\n",
                client.token["instance_url"].as_str().unwrap_or(&url),
                file.display()
            )
        ),
        "{}",
        dot.server.log()
    );
    assert!(!file.exists());
    let out = check(&copy);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "sfrefresh: error: {}: {userinfo_url} answered HTTP 401: the access token is invalid",
            copy.display()
        )),
        "{}",
        out.stderr
    );
    let out = run(&mut client.cmd(&url, &copy, &[]));
    assert_eq!((out.code, out.stderr), (5, refused(&url, &copy)));
}
