//! Salesforce's answer signature: Base64(HMAC-SHA256(client secret, id + issued_at)).

use base64::Engine;

use crate::secret::Secret;
use crate::token::Doc;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Check {
    Valid,
    /// The answer lacks `id`, `issued_at` or `signature`, or one is not a string:
    /// nothing to check.
    Absent(Lacking),
    Mismatch,
}

/// Which of the signed fields are missing, and which are there but not strings.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Lacking {
    missing: Vec<&'static str>,
    not_text: Vec<&'static str>,
}

impl Lacking {
    /// What `subject` lacks, naming each field: "the token file has no signature
    /// `purpose`", "… has no id and its issued_at is not a string, `otherwise`".
    pub(crate) fn words(&self, subject: &str, purpose: &str, otherwise: &str) -> String {
        let not_text = match self.not_text.as_slice() {
            [] => return format!("{subject} has no {} {purpose}", list(&self.missing, "or")),
            [one] => format!("{one} is not a string"),
            many => format!("{} are not strings", list(many, "and")),
        };
        match self.missing.as_slice() {
            [] => format!("{subject}'s {not_text}, {otherwise}"),
            missing => format!(
                "{subject} has no {} and its {not_text}, {otherwise}",
                list(missing, "or")
            ),
        }
    }
}

/// `a`, `a or b`, `a, b or c`.
fn list(names: &[&str], last: &str) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}

/// Checks the signature in constant time with ring's HMAC (already linked for TLS).
pub(crate) fn check(answer: &Doc, secret: &Secret) -> Check {
    let mut lacking = Lacking::default();
    let mut field = |name: &'static str| match answer.get(name) {
        None | Some(serde_json::Value::Null) => {
            lacking.missing.push(name);
            None
        }
        Some(v) => {
            if v.as_str().is_none() {
                lacking.not_text.push(name);
            }
            v.as_str()
        }
    };
    let (id, issued_at, signature) = (field("id"), field("issued_at"), field("signature"));
    let (Some(id), Some(issued_at), Some(signature)) = (id, issued_at, signature) else {
        return Check::Absent(lacking);
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
    fn absent_names_each_lacking_field() {
        let a = crate::token::check_answer(br#"{"access_token":"a","id":"x"}"#).unwrap();
        let Check::Absent(lacking) = check(&a, &Secret::new("s")) else {
            panic!("not absent");
        };
        assert_eq!(
            lacking.words("the file", "to check", "so no"),
            "the file has no issued_at or signature to check"
        );
        for (missing, not_text, said) in [
            (
                &["signature"][..],
                &[][..],
                "the file has no signature to check",
            ),
            (
                &["id", "issued_at", "signature"],
                &[],
                "the file has no id, issued_at or signature to check",
            ),
            (&[], &["id"], "the file's id is not a string, so no"),
            (
                &["signature"],
                &["id", "issued_at"],
                "the file has no signature and its id and issued_at are not strings, so no",
            ),
        ] {
            let lacking = Lacking {
                missing: missing.to_vec(),
                not_text: not_text.to_vec(),
            };
            assert_eq!(lacking.words("the file", "to check", "so no"), said);
        }
    }
}
