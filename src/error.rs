//! The one error type, its exit-code table and the messages users read.

use std::fmt;

/// Everything that can end a run early. `Display` is the line printed after
/// `sfrefresh: error: `; `hint()` is the optional next step printed after it.
#[derive(Debug)]
pub enum Error {
    /// A bug or an impossible state (exit 1).
    Internal(String),
    /// A bad flag, value or missing option (exit 2). Nothing was sent.
    Usage(String),
    /// The token file cannot be used or saved (exit 3).
    TokenFile { path: String, problem: String },
    /// No connection, or the connection broke (exit 4).
    Unreachable {
        url: String,
        detail: String,
        attempts: u32,
    },
    /// The server's certificate was not trusted (exit 4).
    Tls { url: String, detail: String },
    /// The `--timeout` deadline passed (exit 4).
    Timeout {
        url: String,
        seconds: f64,
        attempts: u32,
    },
    /// A transient HTTP failure (5xx, 429, concurrent refresh) that outlived the retries (exit 4).
    Transient {
        url: String,
        status: u16,
        detail: String,
        attempts: u32,
    },
    /// A 3xx: credentials are never re-sent elsewhere (exit 4).
    Redirect {
        url: String,
        status: u16,
        location: String,
    },
    /// An answer that cannot be used: non-200 2xx, or a 200 that is not a token (exit 4).
    BadAnswer {
        url: String,
        status: u16,
        detail: String,
    },
    /// The signature in the answer does not match (exit 4).
    Signature { url: String },
    /// The server refused the refresh with a 4xx (exit 5).
    Refused {
        url: String,
        status: u16,
        oauth: Option<OAuthError>,
        body: String,
    },
}

/// RFC 6749 §5.2 error answer, already sanitised for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    pub description: Option<String>,
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.description {
            Some(d) => write!(f, "{}: {}", self.error, d),
            None => f.write_str(&self.error),
        }
    }
}

impl Error {
    /// The exit-code table, in one place (README and `--help` repeat it).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Internal(_) => 1,
            Error::Usage(_) => 2,
            Error::TokenFile { .. } => 3,
            Error::Unreachable { .. }
            | Error::Tls { .. }
            | Error::Timeout { .. }
            | Error::Transient { .. }
            | Error::Redirect { .. }
            | Error::BadAnswer { .. }
            | Error::Signature { .. } => 4,
            Error::Refused { .. } => 5,
        }
    }

    pub fn token_file(path: &str, problem: impl Into<String>) -> Error {
        Error::TokenFile {
            path: path.to_string(),
            problem: problem.into(),
        }
    }

    /// What the user should do next, when there is something better than the message itself.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Usage(_) => Some("run 'sfrefresh --help' for the options"),
            Error::Tls { .. } => Some(
                "this is a TLS trust problem: if a proxy or private CA signs the certificate, \
                 pass its PEM file with --cacert (or SSL_CERT_FILE)",
            ),
            Error::Redirect { .. } => Some(
                "redirects are not followed so credentials are never sent elsewhere: \
                 point --token-url at the final endpoint",
            ),
            Error::Signature { .. } => Some(
                "check that the client secret belongs to this Connected App; nothing was saved",
            ),
            Error::Refused { oauth, .. } => Some(match oauth.as_ref().map(|o| o.error.as_str()) {
                Some("invalid_grant") => {
                    "the refresh token is expired or revoked (or the user is blocked): \
                     authorise again to get a new token file"
                }
                Some("invalid_client_id") => {
                    "check --client-id / SF_CLIENT_ID: it must be the Connected App's consumer key"
                }
                Some("invalid_client") | Some("unauthorized_client") => {
                    "check the client secret (--client-secret-file / SF_CLIENT_SECRET) \
                     and --client-auth"
                }
                Some("unsupported_grant_type") => {
                    "the Connected App must allow the refresh_token grant \
                     (OAuth scope refresh_token, offline_access)"
                }
                Some("inactive_user") | Some("inactive_org") => {
                    "the user or the org is disabled: ask the Salesforce administrator"
                }
                Some("rate_limit_exceeded") => "too many logins: wait before trying again",
                _ => {
                    "the server refused the refresh: check the endpoint, the client id and secret, \
                      and the token file"
                }
            }),
            _ => None,
        }
    }
}

fn after(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Internal(m) => write!(f, "internal error: {m}"),
            Error::Usage(m) => f.write_str(m),
            Error::TokenFile { path, problem } => write!(f, "token file {path}: {problem}"),
            Error::Unreachable {
                url,
                detail,
                attempts,
            } => write!(f, "cannot reach {url}: {detail}{}", after(*attempts)),
            Error::Tls { url, detail } => {
                write!(f, "TLS failure talking to {url}: {detail}")
            }
            Error::Timeout {
                url,
                seconds,
                attempts,
            } => write!(
                f,
                "no complete answer from {url} within the {seconds}s --timeout{}",
                after(*attempts)
            ),
            Error::Transient {
                url,
                status,
                detail,
                attempts,
            } => {
                write!(f, "{url} answered HTTP {status}{}", after(*attempts))?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            Error::Redirect {
                url,
                status,
                location,
            } => write!(f, "{url} answered HTTP {status}, a redirect to {location}"),
            Error::BadAnswer {
                url,
                status,
                detail,
            } => write!(
                f,
                "{url} answered HTTP {status} but {detail}; nothing was saved"
            ),
            Error::Signature { url } => write!(
                f,
                "signature mismatch in the answer from {url}: the answer may have been tampered with"
            ),
            Error::Refused {
                url,
                status,
                oauth,
                body,
            } => {
                write!(f, "{url} refused the refresh (HTTP {status})")?;
                match oauth {
                    Some(o) => write!(f, ": {o}"),
                    None if body.is_empty() => Ok(()),
                    None => write!(f, ": {body}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_reads_like_rfc_6749() {
        let e = Error::Refused {
            url: "https://login.salesforce.com/services/oauth2/token".into(),
            status: 400,
            oauth: Some(OAuthError {
                error: "invalid_grant".into(),
                description: Some("expired access/refresh token".into()),
            }),
            body: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "https://login.salesforce.com/services/oauth2/token refused the refresh (HTTP 400): \
             invalid_grant: expired access/refresh token"
        );
        assert_eq!(e.exit_code(), 5);
        assert!(e.hint().unwrap().contains("authorise again"));
    }

    #[test]
    fn exit_codes_follow_the_table() {
        let url = || "u".to_string();
        assert_eq!(Error::Internal(String::new()).exit_code(), 1);
        assert_eq!(Error::Usage(String::new()).exit_code(), 2);
        assert_eq!(Error::token_file("f", "x").exit_code(), 3);
        let fours = [
            Error::Unreachable {
                url: url(),
                detail: String::new(),
                attempts: 1,
            },
            Error::Timeout {
                url: url(),
                seconds: 1.0,
                attempts: 1,
            },
            Error::Redirect {
                url: url(),
                status: 302,
                location: String::new(),
            },
            Error::Signature { url: url() },
        ];
        assert!(fours.iter().all(|e| e.exit_code() == 4));
    }

    #[test]
    fn attempts_are_mentioned_only_when_there_were_retries() {
        let e = |attempts| Error::Transient {
            url: "u".into(),
            status: 503,
            detail: String::new(),
            attempts,
        };
        assert_eq!(e(1).to_string(), "u answered HTTP 503");
        assert_eq!(e(3).to_string(), "u answered HTTP 503 (after 3 attempts)");
    }
}
