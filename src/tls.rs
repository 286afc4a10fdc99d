//! TLS: which roots to trust (built-in Mozilla set or exactly --cacert), the one rustls
//! client configuration a run shares, and rustls' certificate and handshake errors in
//! plain words, next to each other.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::cli::Sourced;
use crate::error::Error;
use crate::report::{io_words, sanitize};

/// What a run trusts, as the rustls client configuration all its connections share: one
/// set of roots, and one session cache, so a later connection of the same run (many
/// files, `--watch`) resumes the first one's TLS session instead of a full handshake.
#[derive(Clone, Debug)]
pub(crate) struct Roots(pub(crate) Arc<ClientConfig>);

/// The roots to trust: exactly the certificates in `--cacert` / `SSL_CERT_FILE` (as
/// curl's `--cacert` does), or the Mozilla set compiled into the binary, which needs
/// no `/etc/ssl` and so works in a scratch container.
pub(crate) fn roots(cacert: Option<&Sourced<PathBuf>>) -> Result<Roots, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| Error::usage(format!("cannot set up TLS: {e}")))?;
    let config = match cacert {
        None => builder
            .with_root_certificates(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth(),
        Some(ca) => {
            let shown = format!("{} (from {})", ca.value.display(), ca.source);
            let pem = std::fs::read(&ca.value).map_err(|e| {
                Error::usage(format!("cannot read the CA file {shown}: {}", io_words(&e)))
            })?;
            let bundle = Bundle::parse(pem)
                .map_err(|problem| Error::usage(format!("the CA file {shown} {problem}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(BundleVerifier { bundle, provider }))
                .with_no_client_auth()
        }
    };
    Ok(Roots(Arc::new(config)))
}

/// The certificates of a PEM file, each with its subject name located.
///
/// A system bundle holds about 145 certificates, and turning each into a webpki trust
/// anchor was most of a run's work (ureq's constant-time base64 of the whole file, an
/// anchor parsed from every certificate, and a hash of all of them per connection).
/// Here each certificate is decoded (with a plain table: CA certificates are public, so
/// there is nothing to hide from timing) only as far as its subject name, and a trust
/// anchor is made, from a full decode, only for the certificates whose subject names an
/// issuer in the chain the server sends.
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

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";
const INVALID: &str = "is not a valid PEM file";

impl Bundle {
    /// Every `CERTIFICATE` block of `pem`; other blocks (keys, CRLs) and text between
    /// blocks are skipped, as curl and ureq do. The error completes "the CA file X …".
    fn parse(pem: Vec<u8>) -> Result<Bundle, &'static str> {
        let mut certs = Vec::new();
        let mut at = 0;
        let mut der = Vec::new();
        while let Some(found) = find(&pem, at, BEGIN) {
            let label_start = found + BEGIN.len();
            let label_end = find(&pem, label_start, DASHES).ok_or(INVALID)?;
            let label = pem.get(label_start..label_end).ok_or(INVALID)?;
            let body_start = label_end + DASHES.len();
            let mut end_marker = b"-----END ".to_vec();
            end_marker.extend_from_slice(label);
            end_marker.extend_from_slice(DASHES);
            if label != b"CERTIFICATE" {
                at = find(&pem, body_start, &end_marker).ok_or(INVALID)? + end_marker.len();
                continue;
            }
            // Decode 256 bytes, then 128 more at a time, until the subject is complete
            // (it ends 250 to 350 bytes in, for most CA certificates).
            der.clear();
            let mut pos = body_start;
            let mut want = 256;
            let subject = loop {
                let (stop, ended) =
                    decode_base64(pem.get(pos..).ok_or(INVALID)?, &mut der, want).ok_or(INVALID)?;
                pos += stop;
                if let Some((_, subject)) = names(&der) {
                    break Some(subject.to_vec());
                }
                if ended {
                    break None;
                }
                want = 128;
            };
            let body_end = pos + find_dash(pem.get(pos..).ok_or(INVALID)?).ok_or(INVALID)?;
            if pem.get(body_end..body_end + end_marker.len()) != Some(&end_marker[..]) {
                return Err(INVALID);
            }
            at = body_end + end_marker.len();
            match subject {
                Some(subject) => certs.push((body_start..body_end, subject)),
                // Nothing webpki could use either: kept out, as ureq's
                // `add_parsable_certificates` did; an empty block is not PEM.
                None if der.is_empty() => return Err(INVALID),
                None => {}
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
            if let Some(text) = self.pem.get(body.clone())
                && decode_base64(text, &mut der, usize::MAX).is_some()
            {
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

/// The position of the first `-` in `hay`, eight bytes at a time.
fn find_dash(hay: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut i = 0;
    while let Some(word) = hay.get(i..i + 8) {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?) ^ (ONES * u64::from(b'-'));
        if w.wrapping_sub(ONES) & !w & (ONES << 7) != 0 {
            break;
        }
        i += 8;
    }
    hay.get(i..)?.iter().position(|&b| b == b'-').map(|p| i + p)
}

/// The position of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while let Some(rest) = hay.get(at..) {
        let i = rest.iter().position(|&b| b == first)?;
        if rest.get(i..i + needle.len()) == Some(needle) {
            return Some(at + i);
        }
        at += i + 1;
    }
    None
}

/// Base64 (standard alphabet, line breaks and spaces ignored, padding optional) from the
/// start of `text` up to its first `-` (where a PEM END line starts) or its end, appended
/// to `out`, or only until `out` has grown by `want` bytes. Returns where it stopped and
/// whether that was the `-` or the end; `None` for any other character, a dangling
/// sextet or data after padding.
fn decode_base64(text: &[u8], out: &mut Vec<u8>, want: usize) -> Option<(usize, bool)> {
    let mut acc: u32 = 0;
    let mut n = 0u32;
    let mut pads = 0;
    let mut i = 0;
    let goal = out.len().saturating_add(want);
    let stop = loop {
        if n == 0 && out.len() >= goal {
            return Some((i, false));
        }
        // A PEM line is 64 characters of the alphabet: 48 bytes at once. What is left of
        // a line and any other wrapping take the quads and the byte-at-a-time path.
        if n == 0 && pads == 0 {
            if let Some(run) = text.get(i..i + 64)
                && let Some(bytes) = decode_run::<64, 48>(run)
            {
                out.extend_from_slice(&bytes);
                i += 64;
                continue;
            }
            if let Some(quad) = text.get(i..i + 4)
                && let Some(bytes) = decode_run::<4, 3>(quad)
            {
                out.extend_from_slice(&bytes);
                i += 4;
                continue;
            }
        }
        let Some(&b) = text.get(i) else {
            break text.len();
        };
        let v = BASE64[usize::from(b)];
        if v < 64 {
            if pads > 0 {
                return None;
            }
            acc = acc << 6 | u32::from(v);
            n += 1;
            if n == 4 {
                out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
                acc = 0;
                n = 0;
            }
        } else if v == PAD {
            pads += 1;
        } else if b == b'-' {
            break i;
        } else if v == BAD {
            return None;
        }
        i += 1;
    };
    match (n, pads) {
        (0, 0) => {}
        (2, 0 | 2) => out.push((acc >> 4) as u8),
        (3, 0 | 1) => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return None,
    }
    Some((stop, true))
}

const SKIP: u8 = 0xFE;
const BAD: u8 = 0xFF;
const PAD: u8 = 0xFD;
/// Each byte's sextet, or what else it is: padding, space to skip, or not base64.
static BASE64: [u8; 256] = {
    let mut t = [BAD; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'=' as usize] = PAD;
    t[b' ' as usize] = SKIP;
    t[b'\t' as usize] = SKIP;
    t[b'\r' as usize] = SKIP;
    t[b'\n' as usize] = SKIP;
    t
};

/// `C` characters (a multiple of 4) that are all in the alphabet, as `B` bytes; `None`
/// if any is not (space, padding, the end), for the caller's slower path.
fn decode_run<const C: usize, const B: usize>(run: &[u8]) -> Option<[u8; B]> {
    let mut bytes = [0u8; B];
    let mut seen = 0u8;
    let mut text = run.get(..C)?;
    let mut out: &mut [u8] = &mut bytes;
    while let ([a, b, c, d, more @ ..], [x, y, z, rest @ ..]) = (text, out) {
        let sextet = |ch: &u8| BASE64[usize::from(*ch)];
        let (a, b, c, d) = (sextet(a), sextet(b), sextet(c), sextet(d));
        seen |= a | b | c | d;
        let w = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        (*x, *y, *z) = ((w >> 16) as u8, (w >> 8) as u8, w as u8);
        (text, out) = (more, rest);
    }
    (seen < 64).then_some(bytes)
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
    use base64::Engine;

    fn pem(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/certs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn base64_matches_the_base64_crate_whatever_the_wrapping() {
        let engine = base64::engine::general_purpose::STANDARD;
        for len in (0..200usize).chain([1000, 1001, 1002, 4096]) {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            let text = engine.encode(&data);
            for wrap in [64, 76, 5, 1, 10_000] {
                let wrapped: Vec<u8> = text
                    .as_bytes()
                    .chunks(wrap)
                    .flat_map(|c| c.iter().copied().chain(*b"\r\n"))
                    .collect();
                let mut out = vec![9];
                let end = decode_base64(&wrapped, &mut out, usize::MAX);
                assert_eq!(end, Some((wrapped.len(), true)), "{len} {wrap}");
                assert_eq!(out[1..], data[..], "{len} {wrap}");
            }
            // Stops at the '-' of an END line; no padding is fine too.
            let mut text = text.trim_end_matches('=').to_string();
            text.push_str("\n-----END");
            let mut out = Vec::new();
            let stop = decode_base64(text.as_bytes(), &mut out, usize::MAX);
            assert_eq!(stop, Some((text.len() - 8, true)));
            assert_eq!(out, data);
        }
        for bad in [&b"QU@J"[..], b"QUJ=D", b"Q", b"QUJDR"] {
            assert_eq!(
                decode_base64(bad, &mut Vec::new(), usize::MAX),
                None,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn base64_decoded_in_steps_is_the_same_as_at_once() {
        let engine = base64::engine::general_purpose::STANDARD;
        let data: Vec<u8> = (0..3000usize).map(|i| (i * 101 + 7) as u8).collect();
        let text = engine.encode(&data);
        for wrap in [64, 76, 10_000] {
            let wrapped: Vec<u8> = text
                .as_bytes()
                .chunks(wrap)
                .flat_map(|c| c.iter().copied().chain(*b"\n"))
                .collect();
            for want in [1, 100, 256, 1000] {
                let (mut out, mut at) = (Vec::new(), 0);
                loop {
                    let before = out.len();
                    let (stop, ended) = decode_base64(&wrapped[at..], &mut out, want).unwrap();
                    at += stop;
                    assert!(ended || out.len() >= before + want, "{wrap} {want}");
                    if ended {
                        break;
                    }
                }
                assert_eq!(out, data, "{wrap} {want}");
            }
        }
    }

    #[test]
    fn a_bundle_locates_each_subject_and_picks_the_issuer() {
        let mut text = pem("server.pem");
        text.extend(b"some text between blocks\n");
        text.extend(pem("server.key"));
        text.extend(pem("ca.pem"));
        let bundle = Bundle::parse(text).unwrap();
        assert_eq!(bundle.certs.len(), 2);
        let engine = base64::engine::general_purpose::STANDARD;
        let der_of = |name: &str| {
            let text = String::from_utf8(pem(name)).unwrap();
            let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
            engine.decode(body).unwrap()
        };
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
    fn bad_files_are_named() {
        assert_eq!(
            Bundle::parse(
                b"-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n".to_vec()
            )
            .unwrap_err(),
            INVALID
        );
        assert_eq!(
            Bundle::parse(b"-----BEGIN CERTIFICATE-----\nQUJD\n".to_vec()).unwrap_err(),
            INVALID
        );
        assert_eq!(
            Bundle::parse(pem("server.key")).unwrap_err(),
            "holds no PEM certificates"
        );
    }
}
