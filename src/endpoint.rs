//! Which token endpoint to use, and which URLs are safe to send a token to.

use std::net::IpAddr;

use ureq::http::Uri;

use crate::error::Error;
use crate::report::sanitize;
use crate::sourced::Sourced;
use crate::token::Doc;

pub(crate) const PRODUCTION: &str = "https://login.salesforce.com/services/oauth2/token";
pub(crate) const SANDBOX: &str = "https://test.salesforce.com/services/oauth2/token";
pub(crate) const TOKEN_PATH: &str = "/services/oauth2/token";
/// The token file's field holding the endpoint `login` used; a refresh goes back there
/// (see `choose`).
pub(crate) const TOKEN_URL: &str = "sfrefresh_token_url";

/// `localhost`, 127.0.0.0/8 and ::1: the only hosts plain http may go to.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A URL a token may be sent to: https, or http to a loopback host; a host; no
/// credentials in it. `what` names the URL's source in the message.
pub(crate) fn check(url: &str, what: &str) -> Result<Uri, Error> {
    let shown = sanitize(url);
    let uri: Uri = url
        .parse()
        .map_err(|_| Error::usage(format!("{what} '{shown}' is not a valid URL")))?;
    let Some(authority) = uri.authority() else {
        return Err(Error::usage(format!("{what} '{shown}' has no host")));
    };
    if authority.as_str().contains('@') {
        return Err(Error::usage(format!(
            "{what} must not carry credentials: use --client-auth basic instead"
        )));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback(authority.host()) => Ok(uri),
        Some("http") => Err(Error::usage(format!(
            "{what} '{shown}' is plain http: tokens are only sent over https \
             (http is allowed for loopback hosts only)"
        ))),
        _ => Err(Error::usage(format!(
            "{what} '{shown}' must start with https://"
        ))),
    }
}

/// The endpoint options, each URL already checked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct EndpointOpts {
    /// `--token-url` or `SF_TOKEN_URL`; the other rungs need the token file.
    pub(crate) token_url: Option<Sourced<String>>,
    pub(crate) sandbox: bool,
    pub(crate) login_url: Option<Sourced<String>>,
}

impl EndpointOpts {
    /// Checks the endpoint flags and env vars before anything else happens.
    pub(crate) fn new(
        token_url: Option<Sourced<String>>,
        sandbox: bool,
        login_url: Option<Sourced<String>>,
    ) -> Result<EndpointOpts, Error> {
        if let Some(u) = &token_url {
            check(&u.value, &format!("the token URL from {}", u.source))?;
        }
        if let Some(u) = &login_url {
            check(&u.value, &format!("the login URL from {}", u.source))?;
        }
        Ok(EndpointOpts {
            token_url,
            sandbox,
            login_url,
        })
    }
}

/// The chosen endpoint, checked, with where it came from for `--verbose`.
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) source: &'static str,
    pub(crate) uri: Uri,
}

/// The endpoint, highest first: --token-url, SF_TOKEN_URL, --sandbox,
/// --login-url / SF_LOGIN_URL, the endpoint `login` recorded in the file, the origin of
/// the file's `id`, production.
pub(crate) fn choose(args: &EndpointOpts, doc: &Doc) -> Result<Endpoint, Error> {
    let from_id = || {
        doc.get("id")
            .and_then(|v| v.as_str())
            .and_then(|id| check(id, "id").ok())
            .map(|uri| origin(&uri) + TOKEN_PATH)
    };
    let (url, source) = if let Some(u) = &args.token_url {
        (u.value.clone(), u.source)
    } else if args.sandbox {
        (SANDBOX.to_string(), "--sandbox")
    } else if let Some(base) = &args.login_url {
        let uri = check(&base.value, &format!("the login URL from {}", base.source))?;
        (origin(&uri) + TOKEN_PATH, base.source)
    } else if let Some(url) = doc.get(TOKEN_URL).and_then(|v| v.as_str()) {
        // The one `login` used, which may be a My Domain host that the `id` does not
        // name (client credentials work only there), or a server without `id`.
        (url.to_string(), "the token file's \"sfrefresh_token_url\"")
    } else if let Some(url) = from_id() {
        (url, "the token file's \"id\"")
    } else {
        (PRODUCTION.to_string(), "default")
    };
    let uri = check(&url, &format!("the token URL from {source}"))?;
    Ok(Endpoint { url, source, uri })
}

/// `scheme://host[:port]` of a URL, if it parses and has a host.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    uri.authority()?;
    Some(origin(&uri))
}

/// `scheme://host[:port]` of a checked URL.
fn origin(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    format!("{scheme}://{authority}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse};
    use std::ffi::OsString;

    fn args(list: &[&str]) -> EndpointOpts {
        let mut all = vec!["--client-id", "x"];
        all.extend_from_slice(list);
        all.push("t.json");
        match parse(all, &|_| None::<OsString>) {
            Ok(Command::Refresh(a)) => a.common.endpoints,
            _ => panic!("expected a refresh"),
        }
    }

    fn doc(id: &str) -> Doc {
        crate::token::parse(format!(r#"{{"refresh_token":"r","id":"{id}"}}"#).as_bytes()).unwrap()
    }

    fn chosen(list: &[&str], id: &str) -> (String, &'static str) {
        let e = choose(&args(list), &doc(id)).unwrap();
        (e.url, e.source)
    }

    const ID: &str = "https://acme.my.salesforce.com/id/00D/005";

    #[test]
    fn precedence_rung_by_rung() {
        let all = [
            "--token-url",
            "https://t/x",
            "--sandbox",
            "--login-url",
            "https://l",
        ];
        assert_eq!(chosen(&all, ID), ("https://t/x".into(), "--token-url"));
        assert_eq!(chosen(&all[2..], ID), (SANDBOX.into(), "--sandbox"));
        assert_eq!(
            chosen(&all[3..], ID),
            ("https://l/services/oauth2/token".into(), "--login-url")
        );
        assert_eq!(
            chosen(&[], ID),
            (
                "https://acme.my.salesforce.com/services/oauth2/token".into(),
                "the token file's \"id\""
            )
        );
        assert_eq!(chosen(&[], "not a url"), (PRODUCTION.into(), "default"));
    }

    #[test]
    fn login_url_keeps_only_the_origin() {
        assert_eq!(
            chosen(
                &[
                    "--login-url",
                    "https://acme.my.salesforce.com:8443/some/path/"
                ],
                ID
            )
            .0,
            "https://acme.my.salesforce.com:8443/services/oauth2/token"
        );
    }

    #[test]
    fn plain_http_id_counts_only_for_loopback() {
        assert_eq!(chosen(&[], "http://evil.example/id/1").0, PRODUCTION);
        assert_eq!(
            chosen(&[], "http://127.0.0.1:8080/id/1").0,
            "http://127.0.0.1:8080/services/oauth2/token"
        );
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "localhost.evil",
            "128.0.0.1",
            "10.0.0.1",
            "[::2]",
            "example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn checks() {
        assert!(check("https://h/t", "u").is_ok());
        assert!(check("http://[::1]:8/t", "u").is_ok());
        let e = check("http://h.example/t", "the token URL").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("plain http"), "{e}");
        assert!(
            check("https://u:p@h/t", "u")
                .unwrap_err()
                .to_string()
                .contains("credentials")
        );
        assert!(
            check("ftp://h/t", "u")
                .unwrap_err()
                .to_string()
                .contains("https://")
        );
        assert!(check("/just/a/path", "u").is_err());
    }
}
