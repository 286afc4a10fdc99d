//! TLS: which roots to trust (built-in Mozilla set or exactly --cacert), the one rustls
//! client configuration a run shares, and rustls' certificate and handshake errors in
//! plain words, next to each other.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use memchr::memmem;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::Error;
use crate::report::{io_words, sanitize};
use crate::sourced::Sourced;

/// What a run trusts, as the rustls client configuration all its connections share: one
/// set of roots, and one session cache, so a later connection of the same run (many
/// files, `--watch`) resumes the first one's TLS session instead of a full handshake.
#[derive(Clone, Debug)]
pub(crate) struct Roots(pub(crate) Arc<ClientConfig>);

/// The roots to trust: exactly the certificates in `--cacert` / `SSL_CERT_FILE` (as
/// curl's `--cacert` does), or the Mozilla set compiled into the binary, which needs
/// no `/etc/ssl` and so works in a scratch container.
pub(crate) fn roots(cacert: Option<&Sourced<PathBuf>>) -> Result<Roots, Error> {
    let ca = cacert.map(|ca| {
        (
            ca.value.as_path(),
            format!("{} (from {})", ca.value.display(), ca.source),
        )
    });
    build(ca, None).map_err(Error::usage)
}

/// The configuration for an `etcds://` cluster: the run's own unless `ETCDCTL_CACERT`
/// (the roots) or `ETCDCTL_CERT` and `ETCDCTL_KEY` (a client certificate) say otherwise.
/// The error is the whole problem, for a message about the etcd location.
pub(crate) fn roots_for_etcd(
    run: &Roots,
    cacert: Option<&Path>,
    client: Option<(&Path, &Path)>,
) -> Result<Roots, String> {
    if cacert.is_none() && client.is_none() {
        return Ok(run.clone());
    }
    let ca = cacert.map(|p| (p, format!("{} (from ETCDCTL_CACERT)", p.display())));
    build(ca, client)
}

fn build(ca: Option<(&Path, String)>, client: Option<(&Path, &Path)>) -> Result<Roots, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let builder = match ca {
        None => builder.with_root_certificates(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
        Some((path, shown)) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA file {shown}: {}", io_words(&e)))?;
            let bundle =
                Bundle::parse(pem).map_err(|problem| format!("the CA file {shown} {problem}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(BundleVerifier { bundle, provider }))
        }
    };
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let (chain, key) = client_identity(cert, key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("the client certificate ETCDCTL_CERT cannot be used: {e}"))?
        }
    };
    Ok(Roots(Arc::new(config)))
}

/// A client certificate chain and its key, from PEM files (`ETCDCTL_CERT`, `ETCDCTL_KEY`).
/// The key's bytes never reach a message.
fn client_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let read = |path: &Path, var: &str| {
        std::fs::read(path)
            .map_err(|e| format!("cannot read {var} {}: {}", path.display(), io_words(&e)))
    };
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&read(cert, "ETCDCTL_CERT")?)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("ETCDCTL_CERT {} {INVALID}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "ETCDCTL_CERT {} holds no PEM certificates",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(key, "ETCDCTL_KEY")?)
        .map_err(|_| format!("ETCDCTL_KEY {} holds no PEM private key", key.display()))?;
    Ok((chain, key))
}

/// The certificates of a PEM file, each with its subject name located.
///
/// A system bundle holds about 145 certificates. Each is decoded (by the base64 crate,
/// not in constant time: CA certificates are public) only as far as its subject name,
/// and a trust anchor is made, from a full decode, only for the certificates whose
/// subject names an issuer in the chain the server sends. The PEM markers are found
/// here rather than by rustls-pki-types, which decodes every certificate whole with a
/// per-byte loop: 11.06 M instructions per refresh with the system bundle against
/// 4.34 M this way (static build, callgrind).
struct Bundle {
    pem: Vec<u8>,
    /// Each certificate's base64 body in `pem`, and its subject Name's contents.
    certs: Vec<(Range<usize>, Vec<u8>)>,
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bundle({} certificates)", self.certs.len())
    }
}

const INVALID: &str = "is not a valid PEM file";

/// A PEM body's base64: padding optional (a prefix has none), stray low bits ignored.
const PEM_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

impl Bundle {
    /// Every `CERTIFICATE` block of `pem`; other blocks (keys, CRLs) and text between
    /// blocks are skipped, as curl and ureq do. The error completes "the CA file X …".
    fn parse(pem: Vec<u8>) -> Result<Bundle, &'static str> {
        let mut certs = Vec::new();
        let mut der = Vec::new();
        let mut at = 0;
        let find = |from: usize, needle: &[u8]| {
            let hay = pem.get(from..)?;
            memmem::find(hay, needle).map(|i| from + i)
        };
        while let Some(found) = find(at, b"-----BEGIN ") {
            let label_start = found + 11;
            let label_end = find(label_start, b"-----").ok_or(INVALID)?;
            let label = pem.get(label_start..label_end).ok_or(INVALID)?;
            let end_marker = [&b"-----END "[..], label, b"-----"].concat();
            let body = label_end + 5..find(label_end + 5, &end_marker).ok_or(INVALID)?;
            at = body.end + end_marker.len();
            if label != b"CERTIFICATE" {
                continue;
            }
            let mut chars = Chars {
                text: pem.get(body.clone()).ok_or(INVALID)?,
                buf: Vec::new(),
            };
            // Decode about 256 bytes, then 128 more at a time, until the subject is
            // complete (it ends 250 to 350 bytes in, for most CA certificates).
            der.clear();
            let mut want = 344;
            loop {
                let whole = chars.decode(want, &mut der).ok_or(INVALID)?;
                if let Some((_, subject)) = names(&der) {
                    certs.push((body, subject.to_vec()));
                    break;
                }
                match (whole, der.is_empty()) {
                    (false, _) => want = 172,
                    // An empty block is not PEM.
                    (true, true) => return Err(INVALID),
                    // Nothing webpki could use either: kept out, as ureq's
                    // `add_parsable_certificates` did.
                    (true, false) => break,
                }
            }
        }
        if certs.is_empty() {
            return Err("holds no PEM certificates");
        }
        Ok(Bundle { pem, certs })
    }

    /// Trust anchors for the certificates whose subject is the issuer of one of `chain`.
    /// webpki only ever uses an anchor whose subject equals the issuer of a certificate on
    /// the path it builds, and it builds paths from these certificates only, so the
    /// others cannot change the outcome. Should nothing match, one anchor is still given
    /// so webpki reports the real problem (unknown issuer, self-signed). A certificate
    /// that does not decode adds nothing: the check fails closed.
    fn anchors(&self, chain: &[&[u8]]) -> RootCertStore {
        let issuers: Vec<&[u8]> = chain
            .iter()
            .filter_map(|c| names(c).map(|(issuer, _)| issuer))
            .collect();
        let mut store = RootCertStore::empty();
        let mut add = |body: &Range<usize>| {
            let mut der = Vec::new();
            let text = self.pem.get(body.clone()).unwrap_or_default();
            let mut chars = Chars {
                text,
                buf: Vec::new(),
            };
            if chars.decode(usize::MAX, &mut der).is_some() {
                let _ = store.add(CertificateDer::from(der));
            }
        };
        let mut matched = false;
        for (body, subject) in &self.certs {
            if issuers.contains(&subject.as_slice()) {
                add(body);
                matched = true;
            }
        }
        if !matched && let Some((body, _)) = self.certs.first() {
            add(body);
        }
        store
    }
}

/// A PEM body's base64, decoded a few lines at a time: whole lines are copied out
/// (`memchr` finds their ends) and given to the base64 crate in whole quads.
struct Chars<'a> {
    /// The lines not read yet.
    text: &'a [u8],
    /// Characters read but not decoded yet (fewer than 4 between calls).
    buf: Vec<u8>,
}

impl Chars<'_> {
    /// Decodes at least `want` more characters (whole lines), or all that is left,
    /// onto `der`; whether that was all. `None` if they are not base64.
    fn decode(&mut self, want: usize, der: &mut Vec<u8>) -> Option<bool> {
        let goal = self.buf.len().saturating_add(want);
        while self.buf.len() < goal && !self.text.is_empty() {
            let end = memchr::memchr(b'\n', self.text).unwrap_or(self.text.len());
            let (line, rest) = self.text.split_at(end);
            self.buf.extend_from_slice(line.trim_ascii());
            self.text = rest.get(1..).unwrap_or_default();
        }
        let whole = self.text.is_empty();
        let cut = |buf: &[u8]| if whole { buf.len() } else { buf.len() / 4 * 4 };
        let start = der.len();
        if PEM_BASE64
            .decode_vec(&self.buf[..cut(&self.buf)], der)
            .is_err()
        {
            // Whitespace inside a line (lax PEM): dropped, and decoded again; anything
            // else fails again. (A failed decode leaves `der` grown.)
            der.truncate(start);
            self.buf.retain(|b| !b.is_ascii_whitespace());
            PEM_BASE64
                .decode_vec(&self.buf[..cut(&self.buf)], der)
                .ok()?;
        }
        self.buf.drain(..cut(&self.buf));
        Some(whole)
    }
}

/// One DER element at the start of `d`: its tag, contents and what follows.
fn der(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = d.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(n)?;
        (
            bytes.iter().fold(0usize, |a, &b| a << 8 | usize::from(b)),
            rest,
        )
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

/// The tag of the DER element at the start of `d` and what follows its header (the
/// contents, perhaps cut short when `d` is a prefix).
fn head(d: &[u8]) -> Option<(u8, &[u8])> {
    let (&tag, rest) = d.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let skip = if first < 0x80 {
        0
    } else {
        usize::from(first & 0x7f)
    };
    Some((tag, rest.get(skip..)?))
}

/// The issuer and subject Names of a certificate, or of the start of one (their
/// contents, as webpki compares them): Certificate → TBSCertificate → [version] serial
/// signature issuer validity subject.
fn names(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let (0x30, certificate) = head(cert)? else {
        return None;
    };
    let (0x30, tbs) = head(certificate)? else {
        return None;
    };
    let (tag, _, after) = der(tbs)?;
    let rest = if tag == 0xA0 { after } else { tbs };
    let (_serial, _, rest) = der(rest)?;
    let (_signature, _, rest) = der(rest)?;
    let (_, issuer, rest) = der(rest)?;
    let (_validity, _, rest) = der(rest)?;
    let (_, subject, _) = der(rest)?;
    Some((issuer, subject))
}

/// webpki's own verification, with the anchors `Bundle::anchors` picks for the chain.
#[derive(Debug)]
struct BundleVerifier {
    bundle: Bundle,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for BundleVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain: Vec<&[u8]> = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref())
            .collect();
        let store = self.bundle.anchors(&chain);
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), self.provider.clone())
                .build()
                .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))?;
        verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Certificate and handshake failures, however ureq wraps them, in plain words.
pub(crate) fn tls_detail(e: &ureq::Error) -> Option<String> {
    let rustls_error = match e {
        ureq::Error::Rustls(r) => r,
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>()?,
        ureq::Error::Tls(m) => return Some(sanitize(m)),
        ureq::Error::Pem(p) => return Some(sanitize(&p.to_string())),
        _ => return None,
    };
    use rustls::CertificateError as C;
    let plain = match rustls_error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => "the server's certificate is not signed by a trusted CA".into(),
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (check the clock)".into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate does not match the host name ({})",
                    sanitize(&cert.to_string())
                )
            }
            C::Revoked => "the server's certificate is revoked".into(),
            // Load-bearing: webpki's CaUsedAsEndEntity reaches us only inside rustls'
            // opaque `Other`, whose Debug text is the one place its name appears.
            C::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
                "the server presented a self-signed (CA) certificate that is not trusted".into()
            }
            other => format!("invalid certificate: {}", sanitize(&other.to_string())),
        },
        other => sanitize(&other.to_string()),
    };
    Some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;

    fn pem(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/certs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn a_bundle_locates_each_subject_and_picks_the_issuer() {
        let mut text = pem("server.pem");
        text.extend(b"some text between blocks\n");
        text.extend(pem("server.key"));
        text.extend(pem("ca.pem"));
        let bundle = Bundle::parse(text).unwrap();
        assert_eq!(bundle.certs.len(), 2);
        let der_of = |name: &str| CertificateDer::from_pem_slice(&pem(name)).unwrap();
        let (server, ca) = (der_of("server.pem"), der_of("ca.pem"));
        let (issuer, _) = names(&server).unwrap();
        let (_, ca_subject) = names(&ca).unwrap();
        assert_eq!(issuer, ca_subject);
        assert_eq!(bundle.certs[1].1, ca_subject);
        assert_eq!(bundle.anchors(&[&server]).roots.len(), 1);
    }

    #[test]
    fn the_system_bundle_parses_whole() {
        let Ok(text) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") else {
            return;
        };
        let count = text
            .windows(27)
            .filter(|w| w == b"-----BEGIN CERTIFICATE-----")
            .count();
        assert_eq!(Bundle::parse(text).unwrap().certs.len(), count);
    }

    #[test]
    fn whitespace_anywhere_in_a_body_is_skipped() {
        let text = String::from_utf8(pem("ca.pem")).unwrap();
        let spaced: String = text
            .lines()
            .map(|l| {
                if l.starts_with("-----") {
                    format!("{l}\n")
                } else {
                    format!(" {} {}\t\r\n", &l[..10], &l[10..])
                }
            })
            .collect();
        let bundle = Bundle::parse(spaced.into_bytes()).unwrap();
        let ca = CertificateDer::from_pem_slice(&pem("ca.pem")).unwrap();
        let (_, ca_subject) = names(&ca).unwrap();
        assert_eq!(bundle.certs[0].1, ca_subject);
        let server = CertificateDer::from_pem_slice(&pem("server.pem")).unwrap();
        assert_eq!(bundle.anchors(&[&server]).roots.len(), 1);
    }

    #[test]
    fn bad_files_are_named() {
        for bad in [
            &b"-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n"[..],
            b"-----BEGIN CERTIFICATE-----\nQUJD\n",
            b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\nQUJDR\n-----END CERTIFICATE-----\n",
        ] {
            assert_eq!(Bundle::parse(bad.to_vec()).unwrap_err(), INVALID, "{bad:?}");
        }
        assert_eq!(
            Bundle::parse(pem("server.key")).unwrap_err(),
            "holds no PEM certificates"
        );
        // A block that decodes but is no certificate is skipped, as before.
        assert_eq!(
            Bundle::parse(
                b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n".to_vec()
            )
            .unwrap_err(),
            "holds no PEM certificates"
        );
    }
}
