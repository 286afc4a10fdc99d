//! Test fixtures: a scripted loopback token server that records requests, a scratch
//! directory, and helpers that run the real binary and check files in one line.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Instant;

use crate::server::{Listener, Options, Stream, read_request, tls_config};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The form body decoded into pairs, in order.
    pub fn form(&self) -> Vec<(String, String)> {
        self.body
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// application/x-www-form-urlencoded decoding; a malformed escape fails the test.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub mode: Mode,
}

#[derive(Debug, Clone)]
pub enum Mode {
    /// Status, headers, body, close.
    Normal,
    /// Wait this long before answering at all.
    Delay(Duration),
    /// Send the body one byte per interval.
    Trickle(Duration),
    /// Announce the full Content-Length, send only this many body bytes, close.
    Truncate(usize),
    /// Close the connection without a word.
    Close,
    /// Stream this many bytes of body without a Content-Length (chunked), as fast as possible.
    Endless(usize),
    /// Send exactly these bytes as the whole answer (status line, head and body), close.
    Raw(Vec<u8>),
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            mode: Mode::Normal,
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: body.as_bytes().to_vec(),
            mode: Mode::Normal,
        }
    }

    /// A Salesforce-shaped success.
    pub fn token(access_token: &str) -> Reply {
        Reply::json(
            200,
            &format!(
                r#"{{"access_token":"{access_token}","signature":"c2ln","scope":"refresh_token api","instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00Dx/005x","token_type":"Bearer","issued_at":"1708058728442"}}"#
            ),
        )
    }

    pub fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
        Reply::json(
            status,
            &format!(r#"{{"error":"{error}","error_description":"{description}"}}"#),
        )
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn mode(mut self, mode: Mode) -> Reply {
        self.mode = mode;
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// Answers with `replies` in order; once they run out, with HTTP 599 so a test that
/// sends more requests than it scripted fails loudly.
fn in_order(replies: Vec<Reply>) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let queue = Mutex::new(VecDeque::from(replies));
    move |_| {
        queue
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Reply::text(599, "no more scripted replies"))
    }
}

/// A loopback HTTP/1.1 token server on the core of `server.rs`: one request a
/// connection, answered as the test scripted it (faults included), every request kept.
pub struct Server {
    pub addr: SocketAddr,
    tls: bool,
    requests: Arc<Mutex<Vec<Recorded>>>,
    listener: Listener,
}

impl Server {
    /// A plain-HTTP server answering with `replies` in order (see `in_order`).
    pub fn scripted(replies: Vec<Reply>) -> Server {
        Server::start(in_order(replies), None)
    }

    pub fn with_handler(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Server {
        Server::start(handler, None)
    }

    /// The same server behind TLS with the named certificate from `tests/certs`
    /// (`server`, `wronghost` or `untrusted`).
    pub fn tls(cert: &str, replies: Vec<Reply>) -> Server {
        Server::start(
            in_order(replies),
            Some(tls_config(cert, rustls::ALL_VERSIONS)),
        )
    }

    /// The same, speaking TLS 1.2 only: the handshake in which the server has the last
    /// word, where a client must wait for it before sending its request.
    pub fn tls12(cert: &str, replies: Vec<Reply>) -> Server {
        let versions = &[&rustls::version::TLS12];
        Server::start(in_order(replies), Some(tls_config(cert, versions)))
    }

    fn start(
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Server {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reqs = requests.clone();
        let options = Options {
            port: 0,
            tls,
            close_notify: false,
        };
        let listener = Listener::start(options, move |stream, number| {
            serve(stream, number, &reqs, &handler)
        });
        Server {
            addr: listener.addr,
            tls: listener.tls,
            requests,
            listener,
        }
    }

    pub fn url(&self) -> String {
        self.url_for("127.0.0.1")
    }

    /// The token URL with another host name for this server (`localhost`, …).
    pub fn url_for(&self, host: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!(
            "{scheme}://{host}:{}/services/oauth2/token",
            self.addr.port()
        )
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.listener.connections()
    }
}

pub use crate::server::{cert_path, free_port};

fn serve(
    stream: &mut dyn Stream,
    number: usize,
    requests: &Mutex<Vec<Recorded>>,
    handler: &(dyn Fn(&Recorded) -> Reply + Send + Sync),
) {
    let mut reader = BufReader::new(&mut *stream);
    let Ok(Some(request)) = read_request(&mut reader, number, Instant::now()) else {
        return;
    };
    drop(reader);
    let request = Recorded {
        method: request.method,
        path: request.target,
        headers: request.headers,
        body: String::from_utf8_lossy(&request.body).into_owned(),
    };
    requests.lock().unwrap().push(request.clone());
    let reply = handler(&request);
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let _ = match reply.mode {
        Mode::Close => return,
        Mode::Raw(bytes) => stream.write_all(&bytes),
        Mode::Endless(n) => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            let mut w = || -> std::io::Result<()> {
                stream.write_all(head.as_bytes())?;
                while sent < n {
                    stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                    stream.write_all(&chunk)?;
                    stream.write_all(b"\r\n")?;
                    sent += chunk.len();
                }
                stream.write_all(b"0\r\n\r\n")
            };
            w()
        }
        mode => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
            (|| -> std::io::Result<()> {
                match mode {
                    Mode::Delay(d) => {
                        thread::sleep(d);
                        stream.write_all(head.as_bytes())?;
                        stream.write_all(&reply.body)
                    }
                    Mode::Trickle(d) => {
                        stream.write_all(head.as_bytes())?;
                        for b in &reply.body {
                            stream.write_all(&[*b])?;
                            thread::sleep(d);
                        }
                        Ok(())
                    }
                    Mode::Truncate(n) => {
                        stream.write_all(head.as_bytes())?;
                        stream.write_all(&reply.body[..n.min(reply.body.len())])
                    }
                    _ => {
                        stream.write_all(head.as_bytes())?;
                        stream.write_all(&reply.body)
                    }
                }
            })()
        }
    };
    let _ = stream.flush();
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sfrefresh-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes a file with mode 0600 and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, text).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// Names in the directory, sorted: the litter check.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A typical Salesforce token file, with fields sfrefresh must not touch.
pub const TOKEN: &str = r#"{
  "access_token": "00Dx!AQ.old-access",
  "refresh_token": "5Aep861.refresh-r0",
  "signature": "b2xk",
  "scope": "refresh_token api",
  "instance_url": "https://acme.my.salesforce.com",
  "id": "https://login.salesforce.com/id/00Dx/005x",
  "token_type": "Bearer",
  "issued_at": "1700000000000"
}
"#;

pub const CLIENT_ID: &str = "3MVG9.client-id";

/// The binary with a clean environment: no inherited SF_* or proxy variables.
///
/// `SFREFRESH_TEST_BIN` names another build to test instead (a cross-built static
/// binary), and `SFREFRESH_TEST_RUNNER` a command put in front of it, split on spaces
/// (`qemu-aarch64-static`): the suite then runs an ARM binary under qemu-user, with no
/// binfmt setup. Every test that starts sfrefresh starts it through this function.
pub fn sfrefresh() -> Command {
    let bin = std::env::var_os("SFREFRESH_TEST_BIN")
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_sfrefresh").into());
    let runner = std::env::var("SFREFRESH_TEST_RUNNER").unwrap_or_default();
    let mut runner = runner.split_whitespace();
    let mut cmd = match runner.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(runner).arg(bin);
            cmd
        }
        None => Command::new(bin),
    };
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.stdin(Stdio::null());
    cmd
}

/// The usual invocation against `server` for `file`, plus `extra` arguments.
pub fn refresh_cmd(server: &Server, file: &Path, extra: &[&str]) -> Command {
    refresh_at(&server.url(), file, extra)
}

/// The usual invocation against the token endpoint `url` (a `FakeSalesforce`'s, …).
pub fn refresh_at(url: &str, file: &Path, extra: &[&str]) -> Command {
    let mut cmd = sfrefresh();
    cmd.args([
        "--client-id",
        CLIENT_ID,
        "--token-url",
        url,
        "--timeout",
        "10",
    ]);
    cmd.args(extra);
    cmd.arg(file);
    cmd
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Out {
    fn from(o: Output) -> Out {
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8(o.stdout).unwrap(),
            stderr: String::from_utf8(o.stderr).unwrap(),
        }
    }
}

pub fn run(cmd: &mut Command) -> Out {
    cmd.output().unwrap().into()
}

pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Out {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap().into()
}

/// The file still holds exactly `before`, and its directory holds nothing else.
pub fn assert_untouched(dir: &TempDir, file: &Path, before: &str) {
    assert_eq!(
        fs::read_to_string(file).unwrap(),
        before,
        "the token file changed"
    );
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(dir.names(), vec![name], "litter left in the directory");
}

pub fn contains_none(haystack: &str, needles: &[&str]) -> bool {
    needles.iter().all(|n| !haystack.contains(n))
}

pub fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// A loopback HTTP CONNECT proxy that records each CONNECT target and its
/// `Proxy-Authorization`, tunnels to loopback targets only, and answers 502 for any
/// other host, so tests of public endpoints never leave the machine.
/// CONNECT target and Proxy-Authorization of each tunnel asked for.
type Connects = Mutex<Vec<(String, Option<String>)>>;

pub struct ConnectProxy {
    pub addr: SocketAddr,
    seen: Arc<Connects>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        ConnectProxy::start_inner(None)
    }

    /// A proxy that answers 407 unless `Proxy-Authorization` is exactly `expected`.
    pub fn with_auth(expected: &str) -> ConnectProxy {
        ConnectProxy::start_inner(Some(expected.to_string()))
    }

    fn start_inner(auth: Option<String>) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let auth = Arc::new(auth);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, auth) = (log.clone(), auth.clone());
                thread::spawn(move || tunnel(stream, &log, auth.as_deref()));
            }
        });
        ConnectProxy { addr, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// (CONNECT target, Proxy-Authorization) in arrival order.
    pub fn seen(&self) -> Vec<(String, Option<String>)> {
        self.seen.lock().unwrap().clone()
    }

    pub fn targets(&self) -> Vec<String> {
        self.seen().into_iter().map(|(t, _)| t).collect()
    }
}

fn tunnel(mut client: std::net::TcpStream, seen: &Connects, required: Option<&str>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut auth = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("proxy-authorization")
        {
            auth = Some(v.trim().to_string());
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("").to_string(),
    );
    seen.lock().unwrap().push((target.clone(), auth.clone()));
    if let Some(required) = required
        && auth.as_deref() != Some(required)
    {
        let _ = client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\n\r\n",
        );
        return;
    }
    let port = target
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok());
    let loopback = target.starts_with("127.0.0.1:") || target.starts_with("localhost:");
    let upstream = match (method, port) {
        ("CONNECT", Some(port)) if loopback => {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        }
        _ => None,
    };
    let Some(upstream) = upstream else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
    let mut client_write = client.try_clone().unwrap();
    let pump = thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up_write);
        let _ = up_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Both);
    let _ = pump.join();
}

/// The one rescue file in `dir` (`.NAME.sfrefresh-rescue-EPOCH.json`), checked private.
pub fn rescue_file(dir: &TempDir) -> PathBuf {
    let found: Vec<String> = dir
        .names()
        .into_iter()
        .filter(|n| n.contains(".sfrefresh-rescue-") && n.ends_with(".json"))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one rescue file in {:?}",
        dir.names()
    );
    let path = dir.path(&found[0]);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the rescue file must be private");
    path
}

/// `stderr` with the jittered wait of each retry line ("trying again in 212ms (attempt
/// 2 of 3)") written as "trying again in WAIT (attempt 2 of 3)", so that everything
/// else in the lines is compared exactly.
pub fn without_waits(stderr: &str) -> String {
    const AT: &str = "trying again in ";
    let mut out = String::new();
    let mut rest = stderr;
    while let Some(i) = rest.find(AT) {
        let after = &rest[i + AT.len()..];
        let end = after
            .find(" (attempt ")
            .expect("a retry line names its attempt");
        out.push_str(&rest[..i + AT.len()]);
        out.push_str("WAIT");
        rest = &after[end..];
    }
    out + rest
}
