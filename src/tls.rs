//! TLS: which roots to trust (built-in Mozilla set or exactly --cacert), and rustls'
//! certificate and handshake errors in plain words, next to each other.

use std::path::PathBuf;

use ureq::tls::{PemItem, RootCerts};

use crate::cli::Sourced;
use crate::error::Error;
use crate::report::{io_words, sanitize};

/// The roots to trust: exactly the certificates in `--cacert` / `SSL_CERT_FILE` (as
/// curl's `--cacert` does), or the Mozilla set compiled into the binary, which needs
/// no `/etc/ssl` and so works in a scratch container.
pub(crate) fn roots(cacert: Option<&Sourced<PathBuf>>) -> Result<RootCerts, Error> {
    let Some(ca) = cacert else {
        return Ok(RootCerts::WebPki);
    };
    let shown = format!("{} (from {})", ca.value.display(), ca.source);
    let pem = std::fs::read(&ca.value)
        .map_err(|e| Error::usage(format!("cannot read the CA file {shown}: {}", io_words(&e))))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(_) => {
                return Err(Error::usage(format!(
                    "the CA file {shown} is not a valid PEM file"
                )));
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::usage(format!(
            "the CA file {shown} holds no PEM certificates"
        )));
    }
    Ok(RootCerts::new_with_certs(&certs))
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
