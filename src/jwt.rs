//! JWT bearer assertions (RFC 7523) as Salesforce takes them: header `{"alg":"RS256"}`,
//! claims `iss` `sub` `aud` `exp`, signed RS256 with the app's private key from a PEM
//! file (PKCS#8 or PKCS#1). ring signs and rustls' pki-types reads the PEM: both are
//! already linked for TLS, so no crypto crate is added.

use std::io::Read;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

use crate::error::Error;
use crate::report::io_words;
use crate::secret::Secret;

/// How far ahead `exp` is set: Salesforce refuses more than 3 minutes, and 10 s spare
/// covers a server clock that runs a little behind ours.
pub(crate) const LIFETIME_SECS: u64 = 170;

/// A PEM key file is a few KiB; anything much larger is not one.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The app's private key, parsed. Never formatted: `RsaKeyPair`'s `Debug` shows only
/// the public half, and nothing here prints it.
pub(crate) struct Key(RsaKeyPair);

/// The claims Salesforce reads.
pub(crate) struct Claims<'a> {
    /// The consumer key.
    pub(crate) iss: &'a str,
    /// The username the app acts as.
    pub(crate) sub: &'a str,
    /// `https://login.salesforce.com`, `https://test.salesforce.com` or a site URL.
    pub(crate) aud: &'a str,
    /// Expiry, epoch seconds.
    pub(crate) exp: u64,
}

/// Reads and parses the key file. Every problem is a usage error naming the file; the
/// file's text is never shown.
pub(crate) fn load(path: &Path) -> Result<Key, Error> {
    let shown = path.display();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| {
            Error::usage(format!(
                "cannot read the JWT key file {shown}: {}",
                io_words(&e)
            ))
        })?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(Error::usage(format!(
            "the JWT key file {shown} is larger than 64 KiB, so it is not a PEM key"
        )));
    }
    parse(&bytes)
        .map(Key)
        .map_err(|why| Error::usage(format!("the JWT key file {shown} {why}")))
}

/// PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`), RSA only.
fn parse(pem: &[u8]) -> Result<RsaKeyPair, &'static str> {
    if pem.windows(9).any(|w| w == b"ENCRYPTED") {
        return Err(
            "holds an encrypted key; sfrefresh reads unencrypted keys only (keep the file \
             mode 0600; `openssl pkey -in KEY -out PLAIN` decrypts it)",
        );
    }
    const RSA_NEEDED: &str = "holds a key that is not a usable RSA private key: the JWT bearer \
                              grant needs RSA (RS256), 2048 to 4096 bits";
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(PrivateKeyDer::Pkcs8(k)) => {
            RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()).map_err(|_| RSA_NEEDED)
        }
        Ok(PrivateKeyDer::Pkcs1(k)) => {
            RsaKeyPair::from_der(k.secret_pkcs1_der()).map_err(|_| RSA_NEEDED)
        }
        Ok(_) => Err(RSA_NEEDED),
        Err(_) => Err(
            "holds no PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE \
             KEY-----)",
        ),
    }
}

/// The signed assertion, `header.claims.signature` in base64url without padding.
pub(crate) fn assertion(key: &Key, claims: &Claims<'_>) -> Result<Secret, Error> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    // serde_json escapes the strings; `preserve_order` keeps the claims in this order.
    let body = serde_json::json!({
        "iss": claims.iss,
        "sub": claims.sub,
        "aud": claims.aud,
        "exp": claims.exp,
    });
    let mut input = header;
    input.push('.');
    input.push_str(&URL_SAFE_NO_PAD.encode(body.to_string()));
    let mut signature = vec![0; key.0.public().modulus_len()];
    key.0
        .sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| Error::usage("cannot sign the JWT assertion with this key"))?;
    input.push('.');
    input.push_str(&URL_SAFE_NO_PAD.encode(&signature));
    Ok(Secret::new(input))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(name: &str) -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/certs")
                .join(name),
        )
        .unwrap()
    }

    fn claims() -> Claims<'static> {
        Claims {
            iss: "3MVG9.id",
            sub: "ops@acme.example",
            aud: "https://login.salesforce.com",
            exp: 1_700_000_170,
        }
    }

    /// The assertion verifies with the public key, and its parts are what Salesforce reads.
    #[test]
    fn signs_rs256_that_the_public_key_verifies() {
        let public = cert("jwt.pub.der");
        for name in ["jwt.key", "jwt-pkcs1.key"] {
            let key = Key(parse(&cert(name)).unwrap());
            let jwt = assertion(&key, &claims()).unwrap();
            let parts: Vec<&str> = jwt.expose().split('.').collect();
            assert_eq!(parts.len(), 3, "{name}");
            assert_eq!(
                URL_SAFE_NO_PAD.decode(parts[0]).unwrap(),
                br#"{"alg":"RS256"}"#
            );
            assert_eq!(
                String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap(),
                r#"{"iss":"3MVG9.id","sub":"ops@acme.example","aud":"https://login.salesforce.com","exp":1700000170}"#
            );
            let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
            let signed = format!("{}.{}", parts[0], parts[1]);
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                &public,
            )
            .verify(signed.as_bytes(), &signature)
            .unwrap_or_else(|_| panic!("{name}: the signature must verify"));
        }
    }

    #[test]
    fn a_wrong_key_signs_what_the_public_key_refuses() {
        let key = Key(parse(&cert("jwt-wrong.key")).unwrap());
        let jwt = assertion(&key, &claims()).unwrap();
        let (signed, sig) = jwt.expose().rsplit_once('.').unwrap();
        let ok = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            cert("jwt.pub.der"),
        )
        .verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap());
        assert!(ok.is_err());
    }

    #[test]
    fn bad_pem_is_named_without_echoing_it() {
        for (text, says) in [
            (&b"not a key at all 5Aep861secret"[..], "holds no PEM private key"),
            (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a usable RSA"),
            (
                b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
                "encrypted",
            ),
            (&cert("server.key")[..], "not a usable RSA"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(says), "{e}");
            assert!(!e.contains("5Aep861"), "{e}");
        }
    }

    #[test]
    fn claims_are_escaped_json() {
        let key = Key(parse(&cert("jwt.key")).unwrap());
        let c = Claims {
            sub: "a\"b@x",
            ..claims()
        };
        let jwt = assertion(&key, &c).unwrap();
        let body = jwt.expose().split('.').nth(1).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        assert_eq!(v["sub"], "a\"b@x");
    }
}
