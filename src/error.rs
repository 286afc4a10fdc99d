//! The one error type, its exit-code table and the messages users read.

use std::borrow::Cow;
use std::fmt;

use crate::clock::human;

/// Everything that can end a run early. `Display` is the line printed after
/// `sfrefresh: error: `; `hint()` is the optional next step printed after it.
#[derive(Debug)]
pub(crate) enum Error {
    /// A bad flag, value or missing option (exit 2). Nothing was sent. `help` adds the
    /// "run --help" hint, for messages that do not already say what to do.
    Usage { message: String, help: bool },
    /// The token file cannot be used or saved (exit 3).
    TokenFile { path: String, problem: String },
    /// What was asked for on stdout, or the `--metrics-file`, could not be written (exit 3).
    Output { problem: String },
    /// No connection to the endpoint, or it broke before any answer (exit 4).
    Unreachable {
        url: String,
        detail: String,
        attempts: u32,
    },
    /// The proxy itself could not be reached (exit 4).
    ProxyUnreachable {
        proxy: String,
        detail: String,
        attempts: u32,
    },
    /// The proxy refused the tunnel: 407 (never retried) or another status (exit 4).
    ProxyRefused {
        proxy: String,
        status: u16,
        attempts: u32,
    },
    /// The server's certificate was not trusted (exit 4).
    Tls { url: String, detail: String },
    /// The `--timeout` deadline passed before any answer (exit 4).
    Timeout {
        url: String,
        timeout: std::time::Duration,
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
    /// A 404/405 or an HTML page: the URL is not a token endpoint (exit 4).
    WrongEndpoint {
        url: String,
        status: u16,
        detail: String,
    },
    /// The server started answering, but the answer could not be read (exit 4). Never
    /// retried: a rotating server may already have consumed the refresh token.
    Unreadable { url: String, detail: String },
    /// An answer that cannot be used: non-200 2xx, or a 200 that is not a token (exit 4).
    BadAnswer {
        url: String,
        status: u16,
        detail: String,
    },
    /// The signature in the answer does not match (exit 4).
    Signature { url: String },
    /// The server refused the grant with a 4xx (exit 5).
    Refused {
        url: String,
        status: u16,
        oauth: Option<OAuthError>,
        body: String,
    },
    /// A verb's request that the server answered with a clear no (exit 5): a refused
    /// revocation, an access token the identity URL calls invalid. `what` is the verdict
    /// in the verb's words, server text already redacted and sanitised.
    Denied {
        url: String,
        status: u16,
        what: String,
        hint: &'static str,
    },
    /// A verb's request whose answer settles nothing (exit 4): not the endpoint it
    /// should be, or a status that the verb cannot read as yes or no.
    Inconclusive {
        url: String,
        status: u16,
        what: String,
        hint: &'static str,
    },
    /// Problems already said on stderr, one by one (`status` over several files): only
    /// the exit code is left to give, the highest of theirs.
    Reported { code: u8 },
    /// `exec` could not start COMMAND: 127 when it was not found, 126 otherwise, as a
    /// shell says it.
    CannotRun {
        command: String,
        problem: String,
        not_found: bool,
    },
    /// `login` was turned down by the user or the server: denied, an expired device
    /// code, an error on the browser's redirect, a refused grant (exit 5). `what` is the
    /// whole message, server text already redacted and sanitised; `oauth` picks the hint.
    LoginRefused {
        what: String,
        oauth: Option<OAuthError>,
    },
    /// `login` could not finish: the user did not approve within `--timeout`, or the
    /// browser's redirect cannot be trusted (a wrong `state`) (exit 4).
    LoginAborted {
        what: String,
        hint: Cow<'static, str>,
    },
}

/// RFC 6749 §5.2 error answer, already redacted and sanitised for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) error: String,
    pub(crate) description: Option<String>,
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.description {
            Some(d) => write!(f, "{}: {}", self.error, d),
            None => f.write_str(&self.error),
        }
    }
}

impl std::error::Error for Error {}

/// An error of a run over one token location, as printed: the location first, so a
/// cron mail or a terminal says which token family failed, as the many-file lines do.
/// Not put before an error that already names it (the token file's own problem) or is
/// not about it (usage, stdout, COMMAND).
pub(crate) struct At<'a> {
    pub(crate) location: Option<&'a str>,
    pub(crate) error: &'a Error,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let about = |l: &str| match self.error {
            Error::Usage { .. }
            | Error::Output { .. }
            | Error::CannotRun { .. }
            | Error::Reported { .. } => false,
            Error::TokenFile { path, .. } => path != l,
            _ => true,
        };
        match self.location {
            Some(l) if about(l) => write!(f, "{l}: {}", self.error),
            _ => write!(f, "{}", self.error),
        }
    }
}

impl Error {
    /// A usage error whose message says what to do.
    pub(crate) fn usage(message: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            help: false,
        }
    }

    /// A usage error best followed by "run --help".
    pub(crate) fn usage_help(message: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            help: true,
        }
    }

    pub(crate) fn token_file(path: &str, problem: impl Into<String>) -> Error {
        Error::TokenFile {
            path: path.to_string(),
            problem: problem.into(),
        }
    }

    /// The exit-code table, in one place (README, `--help` and the man page repeat it).
    /// Exit 1 is left to what no error here describes (a panic aborts with SIGABRT).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } => 2,
            Error::TokenFile { .. } | Error::Output { .. } => 3,
            Error::Unreachable { .. }
            | Error::ProxyUnreachable { .. }
            | Error::ProxyRefused { .. }
            | Error::Tls { .. }
            | Error::Timeout { .. }
            | Error::Transient { .. }
            | Error::Redirect { .. }
            | Error::WrongEndpoint { .. }
            | Error::Unreadable { .. }
            | Error::BadAnswer { .. }
            | Error::Signature { .. }
            | Error::Inconclusive { .. }
            | Error::LoginAborted { .. } => 4,
            Error::Refused { .. } | Error::Denied { .. } | Error::LoginRefused { .. } => 5,
            Error::CannotRun {
                not_found: true, ..
            } => 127,
            Error::CannotRun { .. } => 126,
            Error::Reported { code } => *code,
        }
    }

    /// The same failure after `attempts` tries, for the final message.
    pub(crate) fn after_attempts(self, n: u32) -> Error {
        match self {
            Error::Unreachable { url, detail, .. } => Error::Unreachable {
                url,
                detail,
                attempts: n,
            },
            Error::ProxyUnreachable { proxy, detail, .. } => Error::ProxyUnreachable {
                proxy,
                detail,
                attempts: n,
            },
            Error::ProxyRefused { proxy, status, .. } => Error::ProxyRefused {
                proxy,
                status,
                attempts: n,
            },
            Error::Timeout { url, timeout, .. } => Error::Timeout {
                url,
                timeout,
                attempts: n,
            },
            Error::Transient {
                url,
                status,
                detail,
                ..
            } => Error::Transient {
                url,
                status,
                detail,
                attempts: n,
            },
            other => other,
        }
    }

    /// What the user should do next, when there is something better than the message itself.
    pub(crate) fn hint(&self) -> Option<&str> {
        match self {
            Error::Usage { help: true, .. } => Some("run 'sfrefresh --help' for the options"),
            Error::Tls { .. } => Some(
                "this is a TLS trust problem: if a proxy or private CA signs the certificate, \
                 pass its PEM file with --cacert (or SSL_CERT_FILE)",
            ),
            Error::Redirect { .. } => Some(
                "redirects are not followed so credentials are never sent elsewhere: \
                 point --token-url at the final endpoint",
            ),
            Error::WrongEndpoint { .. } => Some(
                "this URL is not an OAuth token endpoint: check --token-url, --login-url \
                 (or SF_TOKEN_URL / SF_LOGIN_URL) and the token file's \"id\"",
            ),
            Error::Unreadable { .. } => Some(
                "do not simply run it again if the server rotates refresh tokens: first check \
                 whether the token file still works (a replayed token can revoke the whole family)",
            ),
            Error::ProxyRefused { status: 407, .. } => Some(
                "check the proxy user and password (http://user:password@host:port; \
                 percent-encode special characters); it was not retried so a wrong password \
                 cannot lock the account",
            ),
            Error::ProxyUnreachable { .. } => {
                Some("check the proxy address, or bypass it with --no-proxy or NO_PROXY")
            }
            Error::Signature { .. } => Some(
                "check that the client secret belongs to this Connected App or External \
                 Client App; nothing was saved",
            ),
            Error::Refused { oauth, .. } => Some(refusal_hint(oauth.as_ref())),
            Error::Denied { hint, .. } | Error::Inconclusive { hint, .. } => Some(hint),
            Error::CannotRun {
                not_found: true, ..
            } => Some("check the command's name, and PATH; the token file is saved"),
            Error::LoginRefused { oauth, .. } => Some(login_hint(oauth.as_ref())),
            Error::LoginAborted { hint, .. } => Some(hint.as_ref()),
            _ => None,
        }
    }
}

/// Each Salesforce refusal needs a different fix; unknown ones get a neutral hint.
/// What a refusal said, as `: ` and the OAuth error or the body, or nothing: the tail
/// of a refused refresh's message and of a refused login's.
pub(crate) fn refusal_words(oauth: Option<&OAuthError>, body: &str) -> String {
    match oauth {
        Some(o) => format!(": {o}"),
        None if body.is_empty() => String::new(),
        None => format!(": {body}"),
    }
}

fn refusal_hint(oauth: Option<&OAuthError>) -> &'static str {
    let Some(o) = oauth else {
        return "the server refused the request: check the endpoint, the client id and \
                secret, and the token file";
    };
    let description = o.description.as_deref().unwrap_or("").to_ascii_lowercase();
    match o.error.as_str() {
        // Salesforce's own wording, or a server that says no more (as most do): the
        // usual reason is a dead refresh token.
        "invalid_grant"
            if description.is_empty() || description.contains("expired access/refresh token") =>
        {
            "the refresh token is expired or revoked (or the user is blocked): \
             authorise again to get a new token file"
        }
        "invalid_grant" if description.contains("ip restricted") => {
            "the org refuses this box's address: relax the IP restrictions in the app's \
             OAuth policies, or add the box's egress IP to the org's trusted ranges"
        }
        "invalid_grant" if description.contains("login hours") => {
            "the user's profile does not allow logins at this hour: ask the Salesforce \
             administrator"
        }
        "invalid_grant" if description.contains("inactive user") => {
            "the Salesforce user is frozen or deactivated: ask the Salesforce administrator"
        }
        "invalid_grant" if description.contains("hasn't approved this consumer") => {
            "the user has not approved this app: pre-authorise the user in the app's policies \
             (admin approved users) or approve it once with an interactive login"
        }
        "invalid_grant" if description.contains("audience is invalid") => {
            "the JWT's aud must be https://login.salesforce.com (production), \
             https://test.salesforce.com (sandboxes) or an Experience Cloud site's URL: \
             see --audience and --sandbox"
        }
        "invalid_grant" if description.contains("invalid assertion") => {
            "Salesforce could not verify the JWT: --jwt-key must be the private key of the \
             certificate uploaded to the app, --client-id its consumer key, and this box's \
             clock right"
        }
        "invalid_grant" if description.contains("expired authorization code") => {
            "the assertion or code expired before Salesforce checked it: check this box's \
             clock (a JWT is valid for under 3 minutes), or log in again"
        }
        "invalid_grant" if description.contains("not supported on this domain") => {
            "client credentials work only at the org's My Domain endpoint: \
             --login-url https://MYDOMAIN.my.salesforce.com"
        }
        "invalid_grant" if description.contains("authentication failure") => {
            "Salesforce refused to authenticate this user: authorise again, and check the \
             user's login history for the reason"
        }
        "invalid_grant" => {
            "the server did not accept the grant: if it keeps happening, authorise again"
        }
        "invalid_client_id" => {
            "check --client-id / SF_CLIENT_ID: it must be the app's consumer key"
        }
        "invalid_client" | "unauthorized_client" => {
            "check the client secret (--client-secret-file / SF_CLIENT_SECRET) and --client-auth"
        }
        "unsupported_grant_type" => {
            "the Connected App or External Client App must allow the refresh_token grant \
             (OAuth scopes refresh_token, offline_access)"
        }
        "inactive_user" | "inactive_org" => {
            "the user or the org is disabled: ask the Salesforce administrator"
        }
        "rate_limit_exceeded" => "too many logins: wait before trying again",
        _ => {
            "the server refused the request: check the endpoint, the client id and secret, \
             and the token file"
        }
    }
}

/// A login's refusals: the device flow's own answers and the grants a login asks for,
/// then everything a refresh can meet.
fn login_hint(oauth: Option<&OAuthError>) -> &'static str {
    match oauth.map(|o| o.error.as_str()) {
        Some("access_denied") => {
            "the login was denied on the approval page; run it again and choose Allow"
        }
        Some("expired_token") => {
            "the code expired before it was approved; run the login again and approve it \
             sooner"
        }
        Some("unsupported_grant_type" | "unauthorized_client") => {
            "the app does not allow this grant: enable it in the app's OAuth settings (device \
             flow; JWT bearer with an uploaded certificate; client credentials with a run-as \
             user)"
        }
        _ => refusal_hint(oauth),
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
            Error::Usage { message, .. } => f.write_str(message),
            Error::TokenFile { path, problem } => write!(f, "token file {path}: {problem}"),
            Error::Output { problem } => f.write_str(problem),
            Error::Unreachable {
                url,
                detail,
                attempts,
            } => write!(f, "cannot reach {url}: {detail}{}", after(*attempts)),
            Error::ProxyUnreachable {
                proxy,
                detail,
                attempts,
            } => write!(
                f,
                "cannot reach the proxy {proxy}: {detail}{}",
                after(*attempts)
            ),
            Error::ProxyRefused {
                proxy, status: 407, ..
            } => write!(f, "proxy authentication failed at {proxy} (HTTP 407)"),
            Error::ProxyRefused {
                proxy,
                status,
                attempts,
            } => write!(
                f,
                "the proxy {proxy} refused the connection (HTTP {status}){}",
                after(*attempts)
            ),
            Error::Tls { url, detail } => {
                write!(f, "TLS failure talking to {url}: {detail}")
            }
            Error::Timeout {
                url,
                timeout,
                attempts,
            } => write!(
                f,
                "no complete answer from {url} within the {} --timeout{}",
                human(*timeout),
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
            Error::WrongEndpoint {
                url,
                status,
                detail,
            } => {
                write!(
                    f,
                    "{url} is not a token endpoint: it answered HTTP {status}"
                )?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            Error::Unreadable { url, detail } => write!(
                f,
                "{url} answered, but the answer could not be read ({detail}); nothing was \
                 saved, and a server that rotates refresh tokens may already have consumed \
                 the refresh token"
            ),
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
                let why = refusal_words(oauth.as_ref(), body);
                write!(f, "{url} refused the refresh (HTTP {status}){why}")
            }
            Error::Denied {
                url, status, what, ..
            }
            | Error::Inconclusive {
                url, status, what, ..
            } => write!(f, "{url} answered HTTP {status}: {what}"),
            Error::CannotRun {
                command, problem, ..
            } => write!(f, "cannot run {command}: {problem}"),
            Error::Reported { code } => write!(f, "exit code {code}, for the problems above"),
            Error::LoginRefused { what, .. } | Error::LoginAborted { what, .. } => {
                f.write_str(what)
            }
        }
    }
}

/// Exit codes from the most serious down, the one order wherever one run ends with many
/// codes (many files, `--watch`, `status`): an internal error; a token file that cannot be
/// used or saved (the one that can lose a token); a refusal (someone must authorise
/// again); a usage problem of one file (its client id or endpoint); a network or server
/// failure (usually passes by itself); success.
pub(crate) const SEVERITY: [u8; 6] = [1, 3, 5, 2, 4, 0];

/// The more serious of two exit codes (`SEVERITY`).
pub(crate) fn most_serious(a: u8, b: u8) -> u8 {
    let rank = |c: u8| SEVERITY.iter().position(|s| *s == c).unwrap_or(0);
    if rank(a) <= rank(b) { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn refused(description: &str) -> Error {
        Error::Refused {
            url: "https://login.salesforce.com/services/oauth2/token".into(),
            status: 400,
            oauth: Some(OAuthError {
                error: "invalid_grant".into(),
                description: Some(description.into()),
            }),
            body: String::new(),
        }
    }

    #[test]
    fn oauth_error_reads_like_rfc_6749() {
        let e = refused("expired access/refresh token");
        assert_eq!(
            e.to_string(),
            "https://login.salesforce.com/services/oauth2/token refused the refresh (HTTP 400): \
             invalid_grant: expired access/refresh token"
        );
        assert_eq!(e.exit_code(), 5);
        assert!(e.hint().unwrap().contains("authorise again"));
    }

    #[test]
    fn each_invalid_grant_description_has_its_own_hint() {
        let hints: Vec<String> = [
            "expired access/refresh token",
            "IP restricted or invalid login hours",
            "invalid login hours",
            "inactive user",
            "user hasn't approved this consumer",
            "authentication failure",
            "something new",
        ]
        .iter()
        .map(|d| refused(d).hint().unwrap().to_string())
        .collect();
        let mut unique = hints.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), hints.len(), "{hints:#?}");
        assert!(hints[1].contains("IP"));
        assert!(hints[6].contains("did not accept"));
    }

    #[test]
    fn severity_order() {
        assert_eq!(most_serious(0, 4), 4);
        assert_eq!(most_serious(4, 2), 2);
        assert_eq!(most_serious(2, 5), 5);
        assert_eq!(most_serious(5, 3), 3);
        assert_eq!(most_serious(3, 1), 1);
        assert_eq!(most_serious(0, 0), 0);
        let codes = [0, 4, 2, 5, 3, 1];
        let worst = codes.iter().fold(0, |a, b| most_serious(a, *b));
        assert_eq!(worst, 1);
    }

    #[test]
    fn exit_codes_follow_the_table() {
        let url = || "u".to_string();
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::token_file("f", "x").exit_code(), 3);
        let fours = [
            Error::Unreachable {
                url: url(),
                detail: String::new(),
                attempts: 1,
            },
            Error::Timeout {
                url: url(),
                timeout: Duration::from_secs(1),
                attempts: 1,
            },
            Error::Redirect {
                url: url(),
                status: 302,
                location: String::new(),
            },
            Error::Unreadable {
                url: url(),
                detail: String::new(),
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
        assert_eq!(
            e(1).after_attempts(2).to_string(),
            "u answered HTTP 503 (after 2 attempts)"
        );
    }

    #[test]
    fn no_status_is_invented() {
        let e = Error::Unreadable {
            url: "u".into(),
            detail: "its headers are malformed".into(),
        };
        assert!(!e.to_string().contains("HTTP 0"), "{e}");
        let e = Error::ProxyRefused {
            proxy: "http://***@p:1".into(),
            status: 407,
            attempts: 1,
        };
        assert_eq!(
            e.to_string(),
            "proxy authentication failed at http://***@p:1 (HTTP 407)"
        );
    }
}
