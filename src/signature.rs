//! Salesforce's answer signature: Base64(HMAC-SHA256(client secret, id + issued_at)).

use base64::Engine;

use crate::secret::Secret;
use crate::token::Doc;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Check {
    Valid,
    /// The answer lacks `id`, `issued_at` or `signature`: nothing to check.
    Absent,
    Mismatch,
}

/// Checks the signature in constant time with ring's HMAC (already linked for TLS).
pub(crate) fn check(answer: &Doc, secret: &Secret) -> Check {
    let field = |name| answer.get(name).and_then(|v| v.as_str());
    let (Some(id), Some(issued_at), Some(signature)) =
        (field("id"), field("issued_at"), field("signature"))
    else {
        return Check::Absent;
    };
    let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return Check::Mismatch;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.expose().as_bytes());
    let message = [id.as_bytes(), issued_at.as_bytes()].concat();
    match ring::hmac::verify(&key, &message, &tag) {
        Ok(()) => Check::Valid,
        Err(_) => Check::Mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(signature: &str) -> Doc {
        let text = format!(
            r#"{{"access_token":"a","id":"https://login.salesforce.com/id/00Dx/005x","issued_at":"1708058728442","signature":"{signature}"}}"#
        );
        crate::token::check_answer(text.as_bytes()).unwrap()
    }

    // echo -n 'https://login.salesforce.com/id/00Dx/005x1708058728442' |
    //   openssl dgst -sha256 -hmac 's3cret' -binary | base64
    const GOOD: &str = "LvoG4PIH0w1qc0+8ytXbORruDZesQr37PzcSzp1+EmE=";

    #[test]
    fn known_answer() {
        assert_eq!(check(&answer(GOOD), &Secret::new("s3cret")), Check::Valid);
    }

    #[test]
    fn mismatches() {
        assert_eq!(check(&answer(GOOD), &Secret::new("other")), Check::Mismatch);
        assert_eq!(
            check(&answer("AAAA"), &Secret::new("s3cret")),
            Check::Mismatch
        );
        assert_eq!(
            check(&answer("not base64!"), &Secret::new("s3cret")),
            Check::Mismatch
        );
    }

    #[test]
    fn absent() {
        let a = crate::token::check_answer(br#"{"access_token":"a","id":"x"}"#).unwrap();
        assert_eq!(check(&a, &Secret::new("s")), Check::Absent);
    }
}
