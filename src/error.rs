//! The one error shape (jj's `CommandError`): a kind, which gives the exit code; the
//! message users read after `sfrefresh: error: `, built where the failure is known; at
//! most one hint. The exit-code table and the one severity order are here too.

use std::borrow::Cow;
use std::fmt;

/// What kind of failure ended the run: the exit code, and whether the token location
/// goes in front of the message (`At`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A bad flag, value or missing option (exit 2). Nothing was sent.
    Usage,
    /// The token file cannot be used or saved (exit 3); the message names it.
    TokenFile,
    /// What was asked for on stdout, or the `--metrics-file`, could not be written (exit 3).
    Output,
    /// The server, the network, the proxy or TLS failed, or an answer settles nothing
    /// (exit 4): usually passes by itself.
    Network,
    /// The server or the user said no: a refused grant, revocation or login (exit 5).
    Refused,
    /// `exec` could not start COMMAND (126), or did not find it (127), as a shell says.
    CannotRun { not_found: bool },
    /// Problems already said on stderr one by one (`status` over several files): only
    /// the exit code is left to give.
    Reported(u8),
}

/// Everything that can end a run early. `Display` is the line printed after
/// `sfrefresh: error: `; `hint()` the optional next step printed after it.
#[derive(Debug)]
pub(crate) struct Error {
    kind: Kind,
    /// The message; for `Kind::TokenFile` the problem, after "token file FILE: ".
    message: String,
    hint: Option<Cow<'static, str>>,
    /// The token file a `Kind::TokenFile` message is about.
    file: Option<String>,
    /// The OAuth error a server refused with (RFC 6749 §5.2): the device flow polls on
    /// `authorization_pending` and `slow_down`. Boxed: rare, and it keeps `Error` small.
    oauth: Option<Box<OAuthError>>,
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.file) {
            (Kind::TokenFile, Some(file)) => write!(f, "token file {file}: {}", self.message),
            (Kind::Reported(code), _) => write!(f, "exit code {code}, for the problems above"),
            _ => f.write_str(&self.message),
        }
    }
}

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
        let about = |l: &str| match self.error.kind {
            Kind::Usage | Kind::Output | Kind::CannotRun { .. } | Kind::Reported(_) => false,
            Kind::TokenFile => self.error.file.as_deref() != Some(l),
            Kind::Network | Kind::Refused => true,
        };
        match self.location {
            Some(l) if about(l) => write!(f, "{l}: {}", self.error),
            _ => write!(f, "{}", self.error),
        }
    }
}

impl Error {
    fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            hint: None,
            file: None,
            oauth: None,
        }
    }

    /// A usage error whose message says what to do.
    pub(crate) fn usage(message: impl Into<String>) -> Error {
        Error::new(Kind::Usage, message)
    }

    /// A usage error best followed by "run --help".
    pub(crate) fn usage_help(message: impl Into<String>) -> Error {
        Error::usage(message).hinted("run 'sfrefresh --help' for the options")
    }

    /// The token file `path` cannot be used or saved: "token file PATH: PROBLEM".
    pub(crate) fn token_file(path: &str, problem: impl Into<String>) -> Error {
        Error {
            file: Some(path.to_string()),
            ..Error::new(Kind::TokenFile, problem)
        }
    }

    /// What was asked for on stdout, or the metrics file, could not be written.
    pub(crate) fn output(problem: impl Into<String>) -> Error {
        Error::new(Kind::Output, problem)
    }

    /// A server, network, proxy or TLS failure, or an answer that settles nothing.
    pub(crate) fn network(message: impl Into<String>) -> Error {
        Error::new(Kind::Network, message)
    }

    /// A clear no from the server or the user; `oauth` is the server's OAuth error.
    pub(crate) fn refused(message: impl Into<String>, oauth: Option<OAuthError>) -> Error {
        Error {
            oauth: oauth.map(Box::new),
            ..Error::new(Kind::Refused, message)
        }
    }

    /// `exec` could not run `command`.
    pub(crate) fn cannot_run(command: &str, problem: &str, not_found: bool) -> Error {
        let e = Error::new(
            Kind::CannotRun { not_found },
            format!("cannot run {command}: {problem}"),
        );
        match not_found {
            true => e.hinted("check the command's name, and PATH; the token file is saved"),
            false => e,
        }
    }

    /// Problems already reported one by one, ending the run with `code`.
    pub(crate) fn reported(code: u8) -> Error {
        Error::new(Kind::Reported(code), "")
    }

    /// The same error with `hint` as its next step (one: a later hint replaces it).
    pub(crate) fn hinted(mut self, hint: impl Into<Cow<'static, str>>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// The same error with what it means for the token family said after it
    /// ("…; the refresh token was revoked all the same…").
    pub(crate) fn noting(mut self, note: &str) -> Error {
        self.message = format!("{}; {note}", self.message);
        self
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// The token file a token-file error names.
    pub(crate) fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The message without "token file FILE: " (the problem itself).
    pub(crate) fn problem(&self) -> &str {
        &self.message
    }

    pub(crate) fn oauth(&self) -> Option<&OAuthError> {
        self.oauth.as_deref()
    }

    /// The exit-code table, in one place (README, `--help` and the man page repeat it).
    /// Exit 1 is left to what no error here describes (a panic aborts with SIGABRT).
    pub(crate) fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Usage => 2,
            Kind::TokenFile | Kind::Output => 3,
            Kind::Network => 4,
            Kind::Refused => 5,
            Kind::CannotRun { not_found: true } => 127,
            Kind::CannotRun { not_found: false } => 126,
            Kind::Reported(code) => code,
        }
    }

    /// What the user should do next, when there is something better than the message.
    pub(crate) fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
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

pub(crate) fn refusal_hint(oauth: Option<&OAuthError>) -> &'static str {
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
pub(crate) fn login_hint(oauth: Option<&OAuthError>) -> &'static str {
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

    fn refused(description: &str) -> &'static str {
        refusal_hint(Some(&OAuthError {
            error: "invalid_grant".into(),
            description: Some(description.into()),
        }))
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
        .map(|d| refused(d).to_string())
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
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::token_file("f", "x").exit_code(), 3);
        assert_eq!(Error::output("x").exit_code(), 3);
        assert_eq!(Error::network("x").exit_code(), 4);
        assert_eq!(Error::refused("x", None).exit_code(), 5);
        assert_eq!(Error::cannot_run("c", "x", false).exit_code(), 126);
        assert_eq!(Error::cannot_run("c", "x", true).exit_code(), 127);
        assert_eq!(Error::reported(3).exit_code(), 3);
    }

    #[test]
    fn a_location_is_named_once() {
        let shown = |location, e: &Error| At { location, error: e }.to_string();
        let own = Error::token_file("t.json", "does not exist");
        assert_eq!(
            shown(Some("t.json"), &own),
            "token file t.json: does not exist"
        );
        assert_eq!(
            shown(Some("link.json"), &own),
            "link.json: token file t.json: does not exist"
        );
        let down = Error::network("cannot reach u: connection refused");
        assert_eq!(
            shown(Some("t.json"), &down),
            "t.json: cannot reach u: connection refused"
        );
        assert_eq!(shown(Some("t.json"), &Error::usage("bad")), "bad");
        let noted = own.noting("remove it by hand");
        assert_eq!(noted.problem(), "does not exist; remove it by hand");
    }
}
