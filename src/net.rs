//! The HTTP agent: TLS trust (built-in Mozilla roots or --cacert), our own CONNECT tunnel
//! through a proxy, and a watch on the connection that tells whether the server has
//! started answering, which decides whether a failed attempt may be sent again.

use std::fmt;
use std::io;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ureq::Agent;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, NextTimeout, TcpConnector, Transport, TransportAdapter,
};

use crate::proxy::{ProxyUrl, Route};
use crate::report::sanitize;
use crate::tls::Roots;
use crate::wire::Tls;

/// ureq's default is 128 KiB for each of the input and output buffers of a connection
/// (and the TCP and TLS layers each have a pair). A token request is under 1 KiB and
/// an answer's head usually a few hundred bytes; 16 KiB costs less memory and time
/// (docs/benchmarks.md, "Connection buffers"). The body is read in pieces and is capped by
/// `answer::MAX_ANSWER` alone. A head is parsed only once it is whole, and load
/// balancers and WAFs send heads larger than this buffer (two 8 KiB cookies and a 16 KiB
/// trace header): such an answer already consumed a rotating server's refresh token, so
/// it must be read. `Watched` keeps the input ureq reads in a buffer of its own that
/// grows with what is unconsumed, up to `MAX_HEAD`: an ordinary answer costs its own
/// size, and only a large head costs more.
pub(crate) const IO_BUFFER: usize = 16 * 1024;

/// The largest answer head (status line and headers) read: ureq's own default, named
/// here because `Watched` grows its buffer up to it and the message for a larger head
/// (`oauth::transport_failure`) states it.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// An agent for one route, and the flag its connections raise when the first byte of
/// an answer arrives.
pub(crate) struct Http {
    pub(crate) agent: Agent,
    answered: Arc<AtomicBool>,
}

impl Http {
    /// Forget the previous attempt's answer before sending again.
    pub(crate) fn reset(&self) {
        self.answered.store(false, Ordering::SeqCst);
    }

    /// Whether any byte of an answer arrived since `reset`: the server (not only the
    /// network) has seen the request, so it must not be sent again blindly.
    pub(crate) fn answered(&self) -> bool {
        self.answered.load(Ordering::SeqCst)
    }
}

/// The agents of one thread of a run, one per route (direct, or each proxy), so the
/// files that share a route share its kept-alive connections. Never shared between
/// threads: `Http::answered` must describe the one request this thread has in flight.
#[derive(Default)]
pub(crate) struct Agents(Vec<(Option<ProxyUrl>, Http)>);

impl Agents {
    /// The agent for `route`, made on first use.
    pub(crate) fn get(&mut self, roots: &Roots, route: &Route) -> &Http {
        let proxy = match route {
            Route::Proxy(p) => Some(p),
            Route::Direct(_) => None,
        };
        let same = |(p, _): &(Option<ProxyUrl>, Http)| match (p, proxy) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a.host == b.host && a.port == b.port && a.user == b.user && a.password == b.password
            }
            _ => false,
        };
        let at = match self.0.iter().position(same) {
            Some(at) => at,
            None => {
                self.0.push((proxy.cloned(), agent(roots.clone(), route)));
                self.0.len() - 1
            }
        };
        match self.0.get(at) {
            Some((_, http)) => http,
            // Unreachable: `at` was found or pushed just now.
            None => unreachable!("an agent was just found or made"),
        }
    }
}

/// An agent that returns every status to us (we classify them), never follows a
/// redirect (credentials are never re-sent elsewhere), and reaches the endpoint
/// directly or through our CONNECT tunnel.
pub(crate) fn agent(roots: Roots, route: &Route) -> Http {
    let answered = Arc::new(AtomicBool::new(false));
    let proxy = match route {
        Route::Proxy(p) => Some(p.clone()),
        Route::Direct(_) => None,
    };
    let resolver = Resolve {
        proxy_host: proxy.as_ref().map(|p| p.host.clone()),
        inner: DefaultResolver::default(),
    };
    let tunnel = Tunnel(proxy);
    let connector = tunnel
        .chain(TcpConnector::default())
        .chain(Tls(roots))
        .chain(Watch(answered.clone()));
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .input_buffer_size(IO_BUFFER)
        .output_buffer_size(IO_BUFFER)
        .max_response_header_size(MAX_HEAD)
        .max_redirects(0)
        .user_agent(concat!("sfrefresh/", env!("CARGO_PKG_VERSION")))
        .accept("application/json")
        // Load-bearing: ureq reads the proxy env vars itself unless told not to; the
        // route above already applied them (with NO_PROXY, --proxy and --no-proxy), and
        // our tunnel is the only way to a proxy.
        .proxy(None)
        .build();
    Http {
        agent: Agent::with_parts(config, connector, resolver),
        answered,
    }
}

/// Name resolution: an IP literal needs no lookup (ureq's resolver would start a thread
/// for it), and behind a proxy the proxy resolves the endpoint's name, not us.
#[derive(Debug)]
struct Resolve {
    proxy_host: Option<String>,
    inner: DefaultResolver,
}

impl Resolver for Resolve {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let fixed = if let Ok(ip) = host.parse::<IpAddr>() {
            Some(ip)
        } else if self.proxy_host.as_deref().is_some_and(|p| p != host) {
            // Only the proxy connects to the endpoint (CONNECT host:port); this address
            // is never dialled.
            Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        } else {
            None
        };
        match fixed {
            Some(ip) => {
                let mut addrs = self.empty();
                addrs.push(SocketAddr::new(ip, port));
                Ok(addrs)
            }
            None => self.inner.resolve(uri, config, timeout),
        }
    }
}

/// Why a tunnel through the proxy failed; carried in `ureq::Error::Other`.
#[derive(Debug)]
pub(crate) enum ProxyFailure {
    /// No TCP connection to the proxy, or it closed before answering CONNECT.
    Unreachable(String),
    /// The proxy answered CONNECT with this status (407: authentication).
    Refused(u16),
}

impl fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyFailure::Unreachable(d) => f.write_str(d),
            ProxyFailure::Refused(s) => write!(f, "the proxy answered HTTP {s}"),
        }
    }
}

impl std::error::Error for ProxyFailure {}

fn proxy_failure(f: ProxyFailure) -> ureq::Error {
    ureq::Error::Other(Box::new(f))
}

/// `CONNECT host:port` through an http proxy, so TLS runs end to end. Our own rather
/// than ureq's so that the proxy URL is parsed once by us (passwords with `#/?@`), a
/// 407 is told apart from an unreachable proxy, and neither is blamed on the endpoint.
#[derive(Debug)]
struct Tunnel(Option<ProxyUrl>);

impl Connector<()> for Tunnel {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(proxy) = &self.0 else {
            return Ok(None);
        };
        let host = if proxy.host.contains(':') {
            format!("[{}]", proxy.host)
        } else {
            proxy.host.clone()
        };
        let proxy_uri: Uri = format!("http://{host}:{}", proxy.port)
            .parse()
            .map_err(|_| proxy_failure(ProxyFailure::Unreachable("bad proxy address".into())))?;
        let unreachable = |e: ureq::Error| match e {
            ureq::Error::Timeout(_) => e,
            other => proxy_failure(ProxyFailure::Unreachable(describe(&other))),
        };
        let addrs = details
            .resolver
            .resolve(&proxy_uri, details.config, details.timeout)
            .map_err(unreachable)?;
        let proxy_details = ConnectionDetails {
            uri: &proxy_uri,
            addrs,
            config: details.config,
            request_level: details.request_level,
            resolver: details.resolver,
            now: details.now,
            timeout: details.timeout,
            current_time: details.current_time.clone(),
            run_connector: details.run_connector.clone(),
            register_shutdown: details.register_shutdown.clone(),
        };
        let tcp = TcpConnector::default()
            .connect(&proxy_details, None::<()>)
            .map_err(unreachable)?
            .ok_or_else(|| proxy_failure(ProxyFailure::Unreachable("no connection".into())))?;
        let mut w = TransportAdapter::new(
            Box::new(tcp) as Box<dyn Transport>,
            details.current_time.clone(),
        );
        w.set_timeout(details.timeout);
        let target = details.uri;
        let target_host = target.host().unwrap_or_default();
        let target_port = target
            .port_u16()
            .unwrap_or(if target.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let mut head = format!(
            "CONNECT {target_host}:{target_port} HTTP/1.1\r\nHost: {target_host}:{target_port}\r\n\
             User-Agent: sfrefresh/{}\r\n",
            env!("CARGO_PKG_VERSION")
        );
        if let Some(auth) = proxy.authorization() {
            head.push_str("Proxy-Authorization: ");
            head.push_str(auth.expose());
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        w.write_all(head.as_bytes())
            .and_then(|()| w.flush())
            .map_err(|e| unreachable(ureq::Error::Io(e)))?;
        let mut transport = w.into_inner();
        let status = read_connect_answer(&mut transport, details.timeout)?;
        if status != 200 {
            return Err(proxy_failure(ProxyFailure::Refused(status)));
        }
        Ok(Some(transport))
    }
}

/// Reads the proxy's answer head to CONNECT and returns its status.
fn read_connect_answer(
    transport: &mut Box<dyn Transport>,
    timeout: NextTimeout,
) -> Result<u16, ureq::Error> {
    loop {
        let progress = transport.maybe_await_input(timeout).map_err(|e| match e {
            ureq::Error::Timeout(_) => e,
            other => proxy_failure(ProxyFailure::Unreachable(describe(&other))),
        })?;
        let input = transport.buffers().input();
        if let Some(end) = input.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&input[..end]).into_owned();
            transport.buffers().input_consume(end + 4);
            // `HTTP/1.1 407 Proxy Authentication Required`
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    proxy_failure(ProxyFailure::Unreachable(
                        "the proxy's answer is not HTTP".into(),
                    ))
                })?;
            return Ok(status);
        }
        if !progress || input.len() > 64 * 1024 {
            transport.buffers().input_consume(0);
            return Err(proxy_failure(ProxyFailure::Unreachable(
                "the proxy closed the connection without answering".into(),
            )));
        }
        transport.buffers().input_consume(0);
    }
}

/// The last link of the chain: wraps each connection to raise `answered` when the
/// first byte of an answer (after TLS) arrives, and to hold the input ureq reads.
#[derive(Debug)]
struct Watch(Arc<AtomicBool>);

impl<In: Transport> Connector<In> for Watch {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| {
            Box::new(Watched {
                inner,
                answered: self.0.clone(),
                input: Input::default(),
            }) as Box<dyn Transport>
        }))
    }
}

/// A connection as ureq sees it. Every read of the inner transport (TCP, or TLS over
/// it) is moved at once into `input`, so the inner buffer (`IO_BUFFER`) never fills up
/// with a head that does not fit it: a read into a full buffer reads nothing, which
/// ureq takes for a closed connection. Output goes straight to the inner transport's
/// buffer.
#[derive(Debug)]
struct Watched<T> {
    inner: T,
    answered: Arc<AtomicBool>,
    input: Input,
}

/// The input ureq has not consumed yet, in a buffer as large as that needs (an
/// ordinary answer: a few hundred bytes), emptied of what was consumed before it grows.
/// ureq refuses a head over `MAX_HEAD` itself (`Error::LargeResponseHeader`); past a
/// head, more than `MAX_HEAD` that ureq cannot use is refused here.
#[derive(Debug, Default)]
struct Input {
    buf: Vec<u8>,
    /// `buf[consumed..filled]` is the unconsumed input.
    filled: usize,
    consumed: usize,
    /// Whether ureq's last `input_consume` took anything (see `Buffers::can_use_input`).
    progress: bool,
}

impl Input {
    fn unconsumed(&self) -> &[u8] {
        self.buf.get(self.consumed..self.filled).unwrap_or_default()
    }

    /// Moves the unconsumed input to the front of the buffer.
    fn compact(&mut self) {
        if self.consumed > 0 {
            self.buf.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
    }

    /// Adds a read after the unconsumed input, growing the buffer as it needs.
    fn append(&mut self, read: &[u8]) {
        self.compact();
        self.buf.truncate(self.filled);
        self.buf.extend_from_slice(read);
        self.filled = self.buf.len();
    }

    /// Room for at least `more` bytes after the unconsumed input.
    fn free(&mut self, more: usize) -> &mut [u8] {
        self.compact();
        let wanted = self.filled.saturating_add(more);
        if self.buf.len() < wanted {
            self.buf.resize(wanted, 0);
        }
        self.buf.get_mut(self.filled..).unwrap_or_default()
    }

    fn appended(&mut self, amount: usize) {
        self.filled = self.filled.saturating_add(amount).min(self.buf.len());
    }

    fn consume(&mut self, amount: usize) {
        self.progress = amount > 0;
        self.consumed = self.consumed.saturating_add(amount).min(self.filled);
        if self.consumed == self.filled {
            (self.consumed, self.filled) = (0, 0);
            // What a large head needed is not kept for the rest of the connection.
            if self.buf.capacity() > IO_BUFFER {
                self.buf = Vec::new();
            }
        }
    }
}

impl<T: Transport> Watched<T> {
    /// Moves all the inner transport's input to the end of `input`.
    fn take_inner_input(&mut self) {
        let inner = self.inner.buffers();
        let read = inner.input();
        let amount = read.len();
        self.input.append(read);
        inner.input_consume(amount);
    }
}

impl<T: Transport> Buffers for Watched<T> {
    fn output(&mut self) -> &mut [u8] {
        self.inner.buffers().output()
    }

    fn input(&self) -> &[u8] {
        self.input.unconsumed()
    }

    /// Only a transport fills its own buffer (ureq never calls this); `await_input`
    /// fills this one from the inner transport's.
    fn input_append_buf(&mut self) -> &mut [u8] {
        self.input.free(IO_BUFFER)
    }

    fn input_appended(&mut self, amount: usize) {
        self.input.appended(amount);
    }

    fn input_consume(&mut self, amount: usize) {
        self.input.consume(amount);
    }

    /// The scratch space is the inner input buffer's, which is always empty here.
    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        self.inner.buffers().tmp_and_output()
    }

    fn can_use_input(&self) -> bool {
        !self.input.unconsumed().is_empty() && self.input.progress
    }
}

impl<T: Transport> Transport for Watched<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        if self.input.unconsumed().len() > MAX_HEAD {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "more than {} KiB of the answer cannot be parsed",
                    MAX_HEAD / 1024
                ),
            )));
        }
        let progress = self.inner.await_input(timeout)?;
        self.take_inner_input();
        if progress && !self.input.unconsumed().is_empty() {
            self.answered.store(true, Ordering::SeqCst);
        }
        Ok(progress)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// A short reason for a transport error, without ureq's debug formatting.
pub(crate) fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => match io.kind() {
            io::ErrorKind::ConnectionRefused => "connection refused".into(),
            io::ErrorKind::ConnectionReset => "connection reset by the server".into(),
            io::ErrorKind::UnexpectedEof => "the server closed the connection early".into(),
            _ => match io.get_ref() {
                Some(inner) => sanitize(&inner.to_string()),
                None => crate::report::io_words(io),
            },
        },
        ureq::Error::HostNotFound => "host not found (DNS)".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        other => sanitize(&other.to_string()),
    }
}

#[cfg(test)]
mod tests;
