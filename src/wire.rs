//! TLS over a ureq transport, sent in as few TCP segments as the protocol allows: the
//! client's last handshake flight, the request head and its body leave in one write.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};

use rustls::ClientConnection;
use rustls::pki_types::ServerName;
use ureq::unversioned::transport::time::{Duration as UreqDuration, Instant as UreqInstant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

use crate::tls::Roots;

/// TLS with the run's shared rustls configuration (`tls::Roots`): ureq's own connector
/// builds a configuration per agent from its `RootCerts`, which costs a full trust-anchor
/// parse of every certificate and a hash of all of them per connection, and shares no
/// session cache between agents.
///
/// Why not rustls' `complete_io` and `Stream::write`: they write each TLS record as it is
/// made, and ureq's adapter sends each record alone. A refresh then went out as five
/// segments (ClientHello, ChangeCipherSpec, Finished, request head, request body), each
/// one a wake-up of the server, where one ClientHello and one segment for the rest do.
#[derive(Debug)]
pub(crate) struct Tls(pub(crate) Roots);

impl<In: Transport> Connector<In> for Tls {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| ureq::Error::Tls("the host name is not valid for TLS"))?;
        let mut conn = ClientConnection::new((self.0).0.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        // The handshake gets what is left of the time that started with the connection.
        let mut timeout = details.timeout;
        if let (UreqDuration::Exact(after), UreqInstant::Exact(start), UreqInstant::Exact(now)) =
            (timeout.after, details.now, (details.current_time)())
        {
            timeout.after = UreqDuration::Exact(after.saturating_sub(now - start));
        }
        sock.set_timeout(timeout);
        let mut gathered = Vec::new();
        handshake(&mut conn, &mut Gather::new(&mut sock, &mut gathered))?;
        Ok(Some(Either::B(TlsTransport {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            conn,
            sock,
            gathered,
        })))
    }
}

/// Runs the handshake until this side is done, leaving the client's last flight (its
/// Finished, in TLS 1.3) queued: it goes out with the request.
fn handshake(conn: &mut ClientConnection, io: &mut Gather<'_>) -> io::Result<()> {
    while conn.is_handshaking() {
        send_queued(conn, io)?;
        if conn.read_tls(io)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if let Err(e) = conn.process_new_packets() {
            // The alert describing the failure, if rustls queued one; the failure is the news.
            let _ = conn.write_tls(io);
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
    }
    Ok(())
}

/// The socket side of rustls: hands all the records rustls has queued to the transport
/// in one write (ureq's adapter alone would take them one record per write).
struct Gather<'a> {
    sock: &'a mut TransportAdapter,
    scratch: &'a mut Vec<u8>,
}

impl<'a> Gather<'a> {
    fn new(sock: &'a mut TransportAdapter, scratch: &'a mut Vec<u8>) -> Self {
        Gather { sock, scratch }
    }
}

impl Read for Gather<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.read(buf)
    }
}

impl Write for Gather<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut full = bufs.iter().filter(|b| !b.is_empty());
        match (full.next(), full.next()) {
            (None, _) => Ok(0),
            (Some(one), None) => self.sock.write(one),
            _ => {
                // The adapter sends what fits its output buffer and says how much; rustls
                // keeps the rest queued for the next write.
                self.scratch.clear();
                for b in bufs {
                    self.scratch.extend_from_slice(b);
                }
                self.sock.write(self.scratch)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    conn: ClientConnection,
    sock: TransportAdapter,
    /// Reused for every gathered write of this connection.
    gathered: Vec<u8>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsTransport")
    }
}

/// Sends every record rustls has queued.
fn send_queued(conn: &mut ClientConnection, io: &mut Gather<'_>) -> io::Result<()> {
    while conn.wants_write() {
        if conn.write_tls(io)? == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
    }
    Ok(())
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    /// Encrypts `amount` bytes of output into rustls' queue. They are sent when the
    /// answer is awaited (ureq sends a request's head and body, then awaits), or sooner
    /// when the queue is full.
    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.sock.set_timeout(timeout);
        let mut rest = self
            .buffers
            .output()
            .get(..amount)
            .ok_or(ureq::Error::Tls("output larger than its buffer"))?;
        while !rest.is_empty() {
            let taken = self.conn.writer().write(rest)?;
            if taken == 0 {
                if !self.conn.wants_write() {
                    return Err(io::Error::from(io::ErrorKind::WriteZero).into());
                }
                send_queued(
                    &mut self.conn,
                    &mut Gather::new(&mut self.sock, &mut self.gathered),
                )?;
            }
            rest = rest.get(taken..).unwrap_or_default();
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.sock.set_timeout(timeout);
        let mut io = Gather::new(&mut self.sock, &mut self.gathered);
        send_queued(&mut self.conn, &mut io)?;
        let input = self.buffers.input_append_buf();
        let amount = rustls::Stream::new(&mut self.conn, &mut io).read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    /// Not open for reuse while records are still queued: they belong to a request whose
    /// answer ureq did not await (it never does today; an `Expect: 100-continue` answered
    /// at once would), and sending them before the next request would pair every answer
    /// with the wrong request.
    fn is_open(&mut self) -> bool {
        !self.conn.wants_write() && self.sock.get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
