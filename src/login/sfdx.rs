//! Importing an SFDX auth URL, the way CI systems keep Salesforce credentials
//! (`force://CLIENT_ID:SECRET:REFRESH_TOKEN@INSTANCE`, the secret possibly empty), or
//! the JSON `sf org display --verbose --json` prints with one inside. Read from a file
//! or stdin, never argv; refreshed once at the instance's token endpoint. Messages about
//! a bad URL name the part that is wrong and never echo the secret or the token.

use std::io::Read;
use std::time::Instant;

use serde_json::Value;

use super::{Got, Talk};
use crate::client::ClientAuth;
use crate::client::Credentials;
use crate::endpoint::{self, TOKEN_PATH};
use crate::error::Error;
use crate::login::SfdxSource;
use crate::report::io_words;
use crate::secret::Secret;
use crate::session::Common;
use crate::session::Session;

/// An auth URL is a few hundred bytes; a JSON dump of `sf org display` a few KiB.
const MAX_INPUT: u64 = 64 * 1024;

const FORM: &str = "force://CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN@INSTANCE, the secret \
                    possibly empty";

/// The parts of an auth URL.
#[derive(Debug)]
pub(super) struct AuthUrl {
    pub(super) client_id: String,
    pub(super) secret: Option<Secret>,
    pub(super) refresh_token: Secret,
    /// `https://host[:port]`.
    pub(super) instance: String,
}

pub(super) fn run(
    c: &Common,
    source: &SfdxSource,
    client_auth: ClientAuth,
    deadline: Instant,
) -> Result<Got, Error> {
    let (text, from) = read(source)?;
    let url = parse(&text).map_err(|p| Error::usage(format!("the SFDX auth URL {from} {p}")))?;
    let credentials = match (url.secret.clone(), client_auth) {
        (None, ClientAuth::Basic) => {
            return Err(Error::usage(format!(
                "--client-auth basic needs a client secret, and the SFDX auth URL {from} has none"
            )));
        }
        (None, ClientAuth::Post) => Credentials::IdOnly,
        (Some(s), ClientAuth::Post) => Credentials::Post(s),
        (Some(s), ClientAuth::Basic) => Credentials::Basic(s),
    };
    let token_url = format!("{}{TOKEN_PATH}", url.instance);
    c.log.step(format_args!(
        "token endpoint {token_url} (from the SFDX auth URL's instance)"
    ));
    let mut session = Session::new(c, deadline, None).for_login();
    session.hide(&url.refresh_token);
    if let Some(s) = &url.secret {
        session.hide(s);
    }
    let mut talk = Talk {
        session,
        client_id: url.client_id.clone(),
        endpoint: token_url.clone(),
    };
    let fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", url.refresh_token.expose()),
    ];
    let answer = talk.token(&fields, &credentials)?;
    if url.secret.is_some() {
        c.log.status(format_args!(
            "note: the token file does not keep the auth URL's client secret; if the app \
             requires it for refreshes, give it with --client-secret-file or SF_CLIENT_SECRET"
        ));
    }
    Ok(Got {
        answer,
        client_id: url.client_id,
        token_url,
        minted: None,
        refresh_token: Some(url.refresh_token),
    })
}

/// The text, and how to name its source in messages.
fn read(source: &SfdxSource) -> Result<(String, String), Error> {
    let (bytes, from) = match source {
        SfdxSource::File(path) => {
            let from = format!("in {}", super::shown(path));
            let bytes = super::read_small(path, MAX_INPUT).map_err(|e| {
                Error::usage(format!(
                    "cannot read the SFDX auth URL file {}: {}",
                    super::shown(path),
                    io_words(&e)
                ))
            })?;
            (bytes, from)
        }
        SfdxSource::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_INPUT + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| {
                    Error::usage(format!(
                        "cannot read the SFDX auth URL from stdin: {}",
                        io_words(&e)
                    ))
                })?;
            (bytes, "on stdin".to_string())
        }
    };
    if bytes.len() as u64 > MAX_INPUT {
        return Err(Error::usage(format!(
            "the SFDX auth URL {from} is larger than 64 KiB, so it is not one"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::usage(format!("the SFDX auth URL {from} is not UTF-8 text")))?;
    Ok((text, from))
}

/// Parses an auth URL, or the JSON around one. The error is the problem, to follow
/// "the SFDX auth URL in FILE"; it names parts, never their secret values.
pub(super) fn parse(text: &str) -> Result<AuthUrl, String> {
    let text = text.trim().trim_start_matches('\u{feff}');
    if text.is_empty() {
        return Err("is empty".into());
    }
    let url = if text.starts_with('{') {
        from_json(text)?
    } else {
        text.to_string()
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "holds spaces, line breaks or control characters: give one URL, {FORM}"
        ));
    }
    let Some(rest) = strip_prefix_ignore_case(&url, "force://") else {
        return Err(format!("does not start with force:// ({FORM})"));
    };
    let Some((credentials, instance)) = rest.rsplit_once('@') else {
        return Err(format!("has no @INSTANCE part ({FORM})"));
    };
    let mut parts = credentials.splitn(3, ':');
    let client_id = parts.next().unwrap_or_default();
    let (Some(secret), Some(refresh_token)) = (parts.next(), parts.next()) else {
        return Err(format!("has no refresh token part ({FORM})"));
    };
    if client_id.is_empty() {
        return Err(format!("has an empty client id part ({FORM})"));
    }
    if refresh_token.is_empty() {
        return Err(format!("has an empty refresh token part ({FORM})"));
    }
    Ok(AuthUrl {
        client_id: client_id.to_string(),
        secret: (!secret.is_empty()).then(|| Secret::new(secret)),
        refresh_token: Secret::new(refresh_token),
        instance: instance_origin(instance)?,
    })
}

/// `sf org display --verbose --json`: `{"result":{"sfdxAuthUrl":…}}`, or a bare object.
fn from_json(text: &str) -> Result<String, String> {
    // from_slice: the monomorphisation the rest of the binary already has.
    let value: Value = serde_json::from_slice(text.as_bytes())
        .map_err(|_| "looks like JSON but is not valid JSON".to_string())?;
    value
        .pointer("/result/sfdxAuthUrl")
        .or_else(|| value.get("sfdxAuthUrl"))
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| "is JSON without a \"sfdxAuthUrl\" (or result.sfdxAuthUrl) string".into())
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// The instance, `https://` added when it has no scheme, checked like every endpoint
/// (https, or http to a loopback host only); its origin.
fn instance_origin(instance: &str) -> Result<String, String> {
    if instance.is_empty() {
        return Err(format!("has an empty instance after @ ({FORM})"));
    }
    let url = if instance.contains("://") {
        instance.to_string()
    } else {
        format!("https://{instance}")
    };
    endpoint::check(&url, "instance")
        .map_err(|e| format!("has an instance that cannot be used: {e}"))?;
    endpoint::origin_of(&url).ok_or_else(|| "has an instance without a host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_ci_systems_store() {
        let u = parse("force://PlatformCLI::5Aep861.rt==@acme.my.salesforce.com\n").unwrap();
        assert_eq!(u.client_id, "PlatformCLI");
        assert!(u.secret.is_none());
        assert_eq!(u.refresh_token.expose(), "5Aep861.rt==");
        assert_eq!(u.instance, "https://acme.my.salesforce.com");
        let u = parse("force://3MVG9.id:s3cret:5Aep:x@https://acme.my.salesforce.com/").unwrap();
        assert_eq!(u.secret.unwrap().expose(), "s3cret");
        assert_eq!(u.refresh_token.expose(), "5Aep:x");
        assert_eq!(u.instance, "https://acme.my.salesforce.com");
        let u = parse("FORCE://id::rt@http://127.0.0.1:8080").unwrap();
        assert_eq!(u.instance, "http://127.0.0.1:8080");
        let json = r#"{"status":0,"result":{"username":"u","sfdxAuthUrl":"force://id::rt@x.my.salesforce.com"}}"#;
        assert_eq!(parse(json).unwrap().instance, "https://x.my.salesforce.com");
    }

    #[test]
    fn each_bad_part_is_named_and_no_secret_is_echoed() {
        for (text, says) in [
            ("", "is empty"),
            (
                "https://acme.my.salesforce.com",
                "does not start with force://",
            ),
            ("force://id:s3cretX:5Aep861tokenX", "has no @INSTANCE part"),
            (
                "force://id5Aep861tokenX@acme.my.salesforce.com",
                "has no refresh token part",
            ),
            (
                "force://id:s3cretX@acme.my.salesforce.com",
                "has no refresh token part",
            ),
            (
                "force://:s3cretX:5Aep861tokenX@acme.my.salesforce.com",
                "empty client id",
            ),
            (
                "force://id:s3cretX:@acme.my.salesforce.com",
                "empty refresh token",
            ),
            ("force://id:s3cretX:5Aep861tokenX@", "empty instance"),
            (
                "force://id:s3cretX:5Aep861tokenX@http://acme.example",
                "is plain http",
            ),
            (
                "force://id:s3cretX:5Aep861tokenX@ftp://acme.example",
                "must start with https://",
            ),
            (
                "force://id:s3cretX:5Aep861tokenX@a\nforce://b",
                "line breaks",
            ),
            ("{\"result\":{}}", "without a \"sfdxAuthUrl\""),
            ("{5Aep861tokenX", "not valid JSON"),
        ] {
            let e = parse(text).map(|_| ()).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
            assert!(
                !e.contains("s3cretX") && !e.contains("5Aep861tokenX"),
                "{text:?}: {e}"
            );
        }
    }
}
