//! The one network core of every test server: a listener on 127.0.0.1 (a port chosen at
//! run time, or the one asked for), plain or TLS with a certificate from `tests/certs`,
//! one thread per connection, and one strict HTTP/1.1 request reader. `util::Server`
//! (scripted answers and faults) and the fake Salesforce (a stateful org) are handlers
//! on it: neither has a listener, a TLS setup or a request parser of its own.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A request head may be this large; a larger one is answered 431.
pub const MAX_HEAD: u64 = 64 * 1024;
/// A request body may be this large; a larger one is answered 413.
pub const MAX_BODY: usize = 1024 * 1024;
/// A connection silent this long is closed.
const IDLE: Duration = Duration::from_secs(60);

/// One request as a server received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// 1 for the first TCP connection the server accepted, 2 for the next, …
    pub connection: usize,
    pub method: String,
    /// The request target as sent, query included.
    pub target: String,
    /// The path without the query.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body decoded, when it was `application/x-www-form-urlencoded`.
    pub form: Vec<(String, String)>,
    /// When it arrived, since the server started.
    pub at: Duration,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// A form field (first occurrence).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the client asked to keep the connection open (HTTP/1.1 by default).
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let tokens: Vec<&str> = conn.split(',').map(str::trim).collect();
        if self.version == "HTTP/1.0" {
            tokens.contains(&"keep-alive")
        } else {
            !tokens.contains(&"close")
        }
    }
}

/// A certificate and key from `tests/certs`: `NAME.pem` and `NAME.key`.
pub fn cert_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/certs")
        .join(name)
}

/// A TLS server configuration with the certificate `name` (`server`, `wronghost`,
/// `untrusted`) and these protocol versions.
pub fn tls_config(
    name: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert_path(&format!("{name}.pem")))
            .expect("a certificate file")
            .collect::<Result<_, _>>()
            .expect("PEM certificates");
    let key = PrivateKeyDer::from_pem_file(cert_path(&format!("{name}.key"))).expect("a key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
    Arc::new(config)
}

/// A connection as a handler sees it: plain TCP or TLS over it.
pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// How a listener is set up.
pub struct Options {
    /// 0 for a port chosen at run time.
    pub port: u16,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// End each TLS connection with close_notify, as a well-behaved server does. Off
    /// for the scripted server, whose faults (a connection dropped mid-answer) must
    /// reach the client as they are.
    pub close_notify: bool,
}

/// A listening server: accepts until dropped, each connection on its own thread.
pub struct Listener {
    pub addr: SocketAddr,
    pub tls: bool,
    pub started: Instant,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    /// Binds 127.0.0.1 and serves each connection with `serve(stream, its number)`.
    pub fn start(
        options: Options,
        serve: impl Fn(&mut dyn Stream, usize) + Send + Sync + 'static,
    ) -> Listener {
        let listener = TcpListener::bind(("127.0.0.1", options.port)).expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let serve = Arc::new(serve);
        let (count, stopping, tls) = (connections.clone(), stop.clone(), options.tls.clone());
        let close_notify = options.close_notify;
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let number = count.fetch_add(1, Ordering::SeqCst) + 1;
                let (serve, tls) = (serve.clone(), tls.clone());
                thread::spawn(move || connection(stream, number, tls, close_notify, &*serve));
            }
        });
        Listener {
            addr,
            tls: options.tls.is_some(),
            started: Instant::now(),
            connections,
            stop,
        }
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn connection(
    stream: TcpStream,
    number: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
    close_notify: bool,
    serve: &(dyn Fn(&mut dyn Stream, usize) + Send + Sync),
) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_nodelay(true);
    match tls {
        None => {
            let mut stream = stream;
            serve(&mut stream, number);
        }
        Some(config) => {
            let Ok(conn) = rustls::ServerConnection::new(config) else {
                return;
            };
            let mut stream = rustls::StreamOwned::new(conn, stream);
            serve(&mut stream, number);
            if close_notify {
                stream.conn.send_close_notify();
                let _ = stream.flush();
            }
        }
    }
}

/// A port nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Why no request could be read.
#[derive(Debug)]
pub enum Unreadable {
    /// The client went away or fell silent: close without a word.
    Gone,
    /// Answer this status and reason, then close.
    Bad(u16, &'static str),
}

use Unreadable::{Bad, Gone};

impl From<io::Error> for Unreadable {
    fn from(_: io::Error) -> Self {
        Gone
    }
}

/// Reads the next request of a connection; `Ok(None)` when the client closed it
/// between requests. Strict where a real server is (request line, header syntax, Host
/// for HTTP/1.1, sizes), and answers `Expect: 100-continue`.
pub fn read_request<S: Read + Write + ?Sized>(
    reader: &mut BufReader<&mut S>,
    connection: usize,
    started: Instant,
) -> Result<Option<Request>, Unreadable> {
    let mut limit = MAX_HEAD;
    // Blank lines before a request line are ignored (RFC 9112 §2.2).
    let line = loop {
        match read_line(reader, &mut limit)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let at = started.elapsed();
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(Bad(400, "bad request line"));
    };
    if !method.bytes().all(|b| b.is_ascii_uppercase()) || method.is_empty() {
        return Err(Bad(400, "bad method"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(Bad(505, "HTTP/1.x only"));
    }
    if !target.starts_with('/') {
        return Err(Bad(400, "bad request target"));
    }
    let headers = read_headers(reader, &mut limit)?;
    if version == "HTTP/1.1" && find(&headers, "host").is_none() {
        return Err(Bad(400, "missing Host"));
    }
    let body = read_body(reader, &headers)?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let form_type = find(&headers, "content-type").is_some_and(|ct| {
        ct.split(';').next().is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    let form = if form_type {
        parse_form(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    Ok(Some(Request {
        connection,
        method: method.into(),
        target: target.into(),
        path: path.into(),
        query: parse_form(query),
        version: version.into(),
        headers,
        body,
        form,
        at,
    }))
}

fn read_headers(
    reader: &mut impl BufRead,
    limit: &mut u64,
) -> Result<Vec<(String, String)>, Unreadable> {
    let mut headers = Vec::new();
    loop {
        let Some(h) = read_line(reader, limit)? else {
            return Err(Gone);
        };
        if h.is_empty() {
            return Ok(headers);
        }
        let Some((k, v)) = h.split_once(':') else {
            return Err(Bad(400, "bad header line"));
        };
        if k.is_empty() || k.trim() != k {
            return Err(Bad(400, "bad header name"));
        }
        headers.push((k.to_string(), v.trim().to_string()));
    }
}

/// A header's value (the first of that name, any case).
fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn read_body<S: Read + Write + ?Sized>(
    reader: &mut BufReader<&mut S>,
    headers: &[(String, String)],
) -> Result<Vec<u8>, Unreadable> {
    let header = |name: &str| find(headers, name);
    let chunked = match header("transfer-encoding") {
        None => false,
        Some(te) if te.eq_ignore_ascii_case("chunked") => true,
        Some(_) => return Err(Bad(501, "unsupported Transfer-Encoding")),
    };
    let length = match header("content-length") {
        _ if chunked => None,
        None => Some(0),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= MAX_BODY => Some(n),
            Ok(_) => return Err(Bad(413, "body too large")),
            Err(_) => return Err(Bad(400, "bad Content-Length")),
        },
    };
    if header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        reader.get_mut().flush()?;
    }
    match length {
        Some(n) => {
            let mut body = vec![0; n];
            reader.read_exact(&mut body)?;
            Ok(body)
        }
        None => read_chunked(reader),
    }
}

fn read_line(reader: &mut impl BufRead, limit: &mut u64) -> Result<Option<String>, Unreadable> {
    let mut buf = Vec::new();
    let n = reader.by_ref().take(*limit).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    *limit -= n as u64;
    if buf.last() != Some(&b'\n') {
        return Err(if *limit == 0 {
            Bad(431, "request head too large")
        } else {
            Gone
        });
    }
    let line = String::from_utf8(buf).map_err(|_| Bad(400, "head is not UTF-8"))?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, Unreadable> {
    let mut body = Vec::new();
    let mut limit = MAX_HEAD;
    loop {
        let Some(size_line) = read_line(reader, &mut limit)? else {
            return Err(Gone);
        };
        let size = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| Bad(400, "bad chunk"))?;
        if size > MAX_BODY - body.len() {
            return Err(Bad(413, "body too large"));
        }
        if size == 0 {
            // Trailers, up to the empty line.
            while let Some(l) = read_line(reader, &mut limit)? {
                if l.is_empty() {
                    return Ok(body);
                }
            }
            return Err(Gone);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(Bad(400, "bad chunk"));
        }
    }
}

/// Decodes `application/x-www-form-urlencoded` (also a query string) into pairs.
pub fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

/// `+` is a space, then `%XX` escapes (a malformed one stays as it is), as servers read
/// a form.
pub fn form_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}
