//! The one table of flags (as ripgrep's `flags/defs.rs`): each flag's names, value,
//! one-line doc, help text and the verbs that take it. The parser, the "is only for"
//! refusals and the help's option lists read it; the completion files are generated
//! from it and the man page is checked against it (`tests.rs`, docs/flags.md).

use super::Verb;
use Verb::{Exec, Login, Refresh, Revoke, Status};

/// Which flag, for the parser's one `match` that stores its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    ClientId,
    SecretFile,
    ClientAuth,
    TokenUrl,
    Sandbox,
    LoginUrl,
    Cacert,
    Proxy,
    NoProxy,
    VerifySignature,
    Timeout,
    Retries,
    IfOlderThan,
    Grant,
    JwtKey,
    Username,
    Audience,
    Print,
    Json,
    Check,
    UserinfoUrl,
    RevokeUrl,
    KeepFile,
    Device,
    DeviceUrl,
    Web,
    AuthorizeUrl,
    RedirectPort,
    Open,
    SfdxUrlFile,
    Scope,
    Force,
    FilesFrom,
    Jobs,
    Watch,
    MetricsFile,
    LogFormat,
    Quiet,
    Verbose,
    Help,
    Version,
}

/// What a flag's value is, for the completions (and whether the parser reads one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value {
    /// A switch: no value.
    None,
    /// Something only the user knows (an id, a number, a duration).
    Text,
    /// A URL.
    Url,
    /// A path.
    File,
    /// One of these words.
    Choice(&'static [&'static str]),
}

/// One flag.
#[derive(Debug)]
pub(crate) struct Flag {
    pub(crate) id: Which,
    /// Without the leading `--`.
    pub(crate) long: &'static str,
    pub(crate) short: Option<char>,
    /// The value's name in the help (`ID`, `post|basic`); empty for a switch.
    pub(crate) value_name: &'static str,
    pub(crate) value: Value,
    /// The verbs that take it; any other verb refuses it.
    pub(crate) verbs: &'static [Verb],
    /// One line, for the completions' descriptions (read by the generator, a test).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) doc: &'static str,
    /// The help text, one paragraph (help.rs wraps it).
    pub(crate) help: &'static str,
    /// A verb's own help text for the flag, where its meaning there differs.
    pub(crate) help_for: &'static [(Verb, &'static str)],
    /// Flags (long names) that cannot be given with this one.
    pub(crate) conflicts: &'static [&'static str],
}

impl Flag {
    /// Whether the flag reads a value.
    pub(crate) fn takes_value(&self) -> bool {
        self.value != Value::None
    }

    /// The help text for `verb`.
    pub(crate) fn help_text(&self, verb: Verb) -> &'static str {
        self.help_for
            .iter()
            .find(|(v, _)| *v == verb)
            .map_or(self.help, |(_, h)| h)
    }
}

const ALL: &[Verb] = &[Refresh, Exec, Status, Revoke, Login];
/// The client options: what a request with the client's credentials needs.
const CLIENT: &[Verb] = &[Refresh, Exec, Revoke, Login];
/// The grant options: how a token is minted, for a refresh and a login.
const GRANT: &[Verb] = &[Refresh, Exec, Login];
const LOGIN: &[Verb] = &[Login];

/// A switch's defaults, to keep the table's rows short.
const SWITCH: Flag = Flag {
    id: Which::Help,
    long: "",
    short: None,
    value_name: "",
    value: Value::None,
    verbs: ALL,
    doc: "",
    help: "",
    help_for: &[],
    conflicts: &[],
};

/// Every flag, in the order the help lists them.
pub(crate) const FLAGS: &[Flag] = &[
    Flag {
        id: Which::ClientId,
        long: "client-id",
        value_name: "ID",
        value: Value::Text,
        verbs: CLIENT,
        doc: "Connected App consumer key (env SF_CLIENT_ID)",
        help: "consumer key of the Connected App or External Client App; else \
               SF_CLIENT_ID, else the token file's \"client_id\" [env: SF_CLIENT_ID]",
        help_for: &[(
            Login,
            "the app's consumer key (not with --sfdx-url-file); else SF_CLIENT_ID \
             [env: SF_CLIENT_ID]",
        )],
        ..SWITCH
    },
    Flag {
        id: Which::SecretFile,
        long: "client-secret-file",
        value_name: "PATH",
        value: Value::File,
        verbs: CLIENT,
        doc: "read the client secret from this file",
        help: "read the client secret from PATH (whitespace trimmed); else \
               $SF_CLIENT_SECRET; neither: no secret. No option takes the secret on argv.",
        ..SWITCH
    },
    Flag {
        id: Which::ClientAuth,
        long: "client-auth",
        value_name: "post|basic",
        value: Value::Choice(&["post", "basic"]),
        verbs: CLIENT,
        doc: "send the secret in the form body or as HTTP Basic",
        help: "send the secret in the form body (default) or as HTTP Basic (id and \
               secret only in the header)",
        ..SWITCH
    },
    Flag {
        id: Which::TokenUrl,
        long: "token-url",
        value_name: "URL",
        value: Value::Url,
        doc: "token endpoint (env SF_TOKEN_URL)",
        help: "token endpoint [env: SF_TOKEN_URL]",
        ..SWITCH
    },
    Flag {
        id: Which::Sandbox,
        long: "sandbox",
        doc: "use the sandbox login host, test.salesforce.com",
        help: "use the sandbox login host, test.salesforce.com",
        ..SWITCH
    },
    Flag {
        id: Which::LoginUrl,
        long: "login-url",
        value_name: "URL",
        value: Value::Url,
        doc: "My Domain or community base URL (env SF_LOGIN_URL)",
        help: "My Domain or community base URL; the path /services/oauth2/token is \
               appended [env: SF_LOGIN_URL]",
        ..SWITCH
    },
    Flag {
        id: Which::Cacert,
        long: "cacert",
        value_name: "PATH",
        value: Value::File,
        doc: "trust exactly the PEM certificates in this file",
        help: "trust exactly the PEM certificates in PATH, not the built-in Mozilla \
               roots [env: SSL_CERT_FILE]",
        ..SWITCH
    },
    Flag {
        id: Which::Proxy,
        long: "proxy",
        value_name: "URL",
        value: Value::Url,
        doc: "send the request through this http proxy",
        help: "http proxy (http://[user:pass@]host:port)",
        conflicts: &["no-proxy"],
        ..SWITCH
    },
    Flag {
        id: Which::NoProxy,
        long: "no-proxy",
        doc: "ignore the proxy environment variables",
        help: "ignore the proxy environment variables",
        conflicts: &["proxy"],
        ..SWITCH
    },
    Flag {
        id: Which::VerifySignature,
        long: "verify-signature",
        verbs: &[Refresh, Exec],
        doc: "check the answer's signature (needs the client secret)",
        help: "check the stored and the new signature (HMAC-SHA256 of id + issued_at, \
               client secret)",
        ..SWITCH
    },
    Flag {
        id: Which::Timeout,
        long: "timeout",
        value_name: "SECONDS",
        value: Value::Text,
        doc: "deadline for the whole run, in seconds (at most 86400)",
        help: "deadline for the whole run, retries and waiting for another sfrefresh \
               included; fractions allowed, at most 86400 [default: 30]",
        help_for: &[
            (
                Status,
                "deadline per file, fractions allowed, at most 86400 [default: 30]",
            ),
            (
                Login,
                "deadline for the whole login, at most 86400; default 300 with --device \
                 and --web (a person acts), else 30",
            ),
        ],
        ..SWITCH
    },
    Flag {
        id: Which::Retries,
        long: "retries",
        value_name: "N",
        value: Value::Text,
        doc: "extra attempts after a transient failure (0-100)",
        help: "extra attempts after a transient failure (0-100) [default: 2]",
        ..SWITCH
    },
    Flag {
        id: Which::IfOlderThan,
        long: "if-older-than",
        value_name: "DURATION",
        value: Value::Text,
        verbs: &[Refresh, Exec, Status],
        doc: "refresh only when issued_at is at least this old",
        help: "refresh only when issued_at is at least this old (45s, 30m, 2h, 1d, \
               1h30m); otherwise leave the file alone and exit 0",
        help_for: &[
            (
                Exec,
                "refresh only when issued_at is at least this old; 30m leaves COMMAND 90 \
                 minutes of Salesforce's default 2-hour session [default: 30m]",
            ),
            (
                Status,
                "say whether a refresh with this option would run now",
            ),
        ],
        ..SWITCH
    },
    Flag {
        id: Which::Grant,
        long: "grant",
        value_name: "refresh-token|jwt-bearer|client-credentials",
        value: Value::Choice(&["refresh-token", "jwt-bearer", "client-credentials"]),
        verbs: GRANT,
        doc: "how to renew the token",
        help: "how to renew: with the file's refresh token, or by minting a new token; \
               default: the grant that 'sfrefresh login' recorded, else refresh-token",
        help_for: &[(
            Login,
            "client-credentials: a way to log in, the app's own token (needs the \
             secret; Salesforce: the My Domain endpoint); jwt-bearer: as --jwt-key",
        )],
        ..SWITCH
    },
    Flag {
        id: Which::JwtKey,
        long: "jwt-key",
        value_name: "PATH",
        value: Value::File,
        verbs: GRANT,
        doc: "JWT bearer: the app's RSA private key (PEM)",
        help: "jwt-bearer: the app's RSA private key (PEM, PKCS#8 or PKCS#1); implies \
               --grant jwt-bearer; else the file's \"sfrefresh_jwt_key\"",
        help_for: &[(
            Login,
            "a way to log in, JWT bearer: sign an assertion with the app's RSA private \
             key (PEM, PKCS#8 or PKCS#1)",
        )],
        ..SWITCH
    },
    Flag {
        id: Which::Username,
        long: "username",
        value_name: "NAME",
        value: Value::Text,
        verbs: GRANT,
        doc: "JWT bearer: the Salesforce user",
        help: "jwt-bearer: the user the app acts as (sub); else the file's \
               \"sfrefresh_username\"",
        help_for: &[(Login, "JWT: the user the app acts as (the sub claim)")],
        ..SWITCH
    },
    Flag {
        id: Which::Audience,
        long: "audience",
        value_name: "URL",
        value: Value::Url,
        verbs: GRANT,
        doc: "JWT bearer: the aud claim",
        help: "jwt-bearer: the aud claim; else --sandbox's, --login-url's, the file's, \
               login.salesforce.com",
        help_for: &[(
            Login,
            "JWT: the aud claim; default: test.salesforce.com with --sandbox or a \
             sandbox My Domain --login-url, else login.salesforce.com (a site \
             --login-url: its origin)",
        )],
        ..SWITCH
    },
    Flag {
        id: Which::Print,
        long: "print",
        value_name: "token|json|header|env|curl",
        value: Value::Choice(&["token", "json", "header", "env", "curl"]),
        verbs: &[Refresh, Login],
        doc: "after success, write the token in this form to stdout",
        help: "after success, write to stdout: the access token, the whole JSON, an \
               Authorization header line, shell variables, or a curl config (see README)",
        help_for: &[(Login, "after saving, also write the token to stdout")],
        ..SWITCH
    },
    Flag {
        id: Which::Json,
        long: "json",
        verbs: &[Status],
        doc: "one JSON object per file",
        help: "one JSON object per file and line, instead of text",
        ..SWITCH
    },
    Flag {
        id: Which::Check,
        long: "check",
        verbs: &[Status],
        doc: "prove the access token works",
        help: "prove the access token works: GET the file's \"id\" (Salesforce's \
               identity URL) with it as a bearer token",
        ..SWITCH
    },
    Flag {
        id: Which::UserinfoUrl,
        long: "userinfo-url",
        value_name: "URL",
        value: Value::Url,
        verbs: &[Status],
        doc: "OpenID Connect userinfo URL for --check",
        help: "with --check, GET this OpenID Connect userinfo endpoint instead (for \
               other servers)",
        ..SWITCH
    },
    Flag {
        id: Which::RevokeUrl,
        long: "revoke-url",
        value_name: "URL",
        value: Value::Url,
        verbs: &[Revoke],
        doc: "revocation endpoint (env SF_REVOKE_URL)",
        help: "revocation endpoint; default: the token endpoint with its last /token \
               made /revoke (Salesforce: /services/oauth2/revoke) [env: SF_REVOKE_URL]",
        ..SWITCH
    },
    Flag {
        id: Which::KeepFile,
        long: "keep-file",
        verbs: &[Revoke],
        doc: "keep the file without its tokens",
        help: "keep the file, without access_token and refresh_token",
        ..SWITCH
    },
    Flag {
        id: Which::Device,
        long: "device",
        verbs: LOGIN,
        doc: "device flow",
        help: "a way to log in, the device flow: shows a code and a URL to open on any \
               device; polls until it is approved",
        ..SWITCH
    },
    Flag {
        id: Which::DeviceUrl,
        long: "device-url",
        value_name: "URL",
        value: Value::Url,
        verbs: LOGIN,
        doc: "RFC 8628 device authorization endpoint",
        help: "--device: the RFC 8628 device authorization endpoint of a server that \
               is not Salesforce",
        ..SWITCH
    },
    Flag {
        id: Which::Web,
        long: "web",
        verbs: LOGIN,
        doc: "web-server flow with PKCE",
        help: "a way to log in, the web-server flow with PKCE: shows the authorize URL \
               and waits for the browser's redirect to http://localhost:PORT/OauthRedirect",
        ..SWITCH
    },
    Flag {
        id: Which::AuthorizeUrl,
        long: "authorize-url",
        value_name: "URL",
        value: Value::Url,
        verbs: LOGIN,
        doc: "authorization endpoint",
        help: "--web: the authorization endpoint; default: the token endpoint's \
               /services/oauth2/authorize",
        ..SWITCH
    },
    Flag {
        id: Which::RedirectPort,
        long: "redirect-port",
        value_name: "N",
        value: Value::Text,
        verbs: LOGIN,
        doc: "loopback redirect port (default 1717)",
        help: "--web: the redirect's port [default: 1717]",
        ..SWITCH
    },
    Flag {
        id: Which::Open,
        long: "open",
        verbs: LOGIN,
        doc: "open the authorize URL in a browser",
        help: "--web: open the URL with xdg-open (macOS: open)",
        ..SWITCH
    },
    Flag {
        id: Which::SfdxUrlFile,
        long: "sfdx-url-file",
        value_name: "PATH|-",
        value: Value::File,
        verbs: LOGIN,
        doc: "read an SFDX auth URL from this file (- for stdin)",
        help: "a way to log in: import an SFDX auth URL (force://ID:SECRET:TOKEN@INSTANCE) \
               from PATH or stdin, refreshing it once at the instance; never taken from argv",
        ..SWITCH
    },
    Flag {
        id: Which::Scope,
        long: "scope",
        value_name: "SCOPE",
        value: Value::Text,
        verbs: LOGIN,
        doc: "scopes to ask for",
        help: "scopes to ask for (--device, --web, client credentials); default: the \
               app's own",
        ..SWITCH
    },
    Flag {
        id: Which::Force,
        long: "force",
        verbs: LOGIN,
        doc: "overwrite a token file that holds a refresh token",
        help: "replace a TOKEN_FILE that holds a refresh token",
        ..SWITCH
    },
    Flag {
        id: Which::FilesFrom,
        long: "files-from",
        value_name: "PATH",
        value: Value::File,
        verbs: &[Refresh],
        doc: "also the token files listed in this file (- for stdin)",
        help: "also the token files listed in PATH, one a line ('-': stdin)",
        ..SWITCH
    },
    Flag {
        id: Which::Jobs,
        long: "jobs",
        short: Some('j'),
        value_name: "N",
        value: Value::Text,
        verbs: &[Refresh],
        doc: "token files refreshed at once (1-64)",
        help: "token files refreshed at once (1-64) [default: 4]",
        ..SWITCH
    },
    Flag {
        id: Which::Watch,
        long: "watch",
        verbs: &[Refresh],
        doc: "run until SIGTERM, refreshing each file when due",
        help: "run until SIGTERM: refresh each file when it is --if-older-than old, \
               sleep until the next is due",
        ..SWITCH
    },
    Flag {
        id: Which::MetricsFile,
        long: "metrics-file",
        value_name: "PATH",
        value: Value::File,
        verbs: &[Refresh],
        doc: "Prometheus textfile-collector file, replaced after each pass",
        help: "after each pass, a Prometheus textfile-collector file: per file success \
               time, exit code, issued_at and duration (replaced atomically)",
        ..SWITCH
    },
    Flag {
        id: Which::LogFormat,
        long: "log-format",
        value_name: "text|json",
        value: Value::Choice(&["text", "json"]),
        verbs: &[Refresh],
        doc: "one line per event, as text or JSON",
        help: "one line per event, as text or a JSON object",
        ..SWITCH
    },
    Flag {
        id: Which::Quiet,
        long: "quiet",
        short: Some('q'),
        doc: "no status line, retry lines or waiting notes",
        help: "no status line, no line before a retry, no waiting notes (not with -v)",
        conflicts: &["verbose"],
        ..SWITCH
    },
    Flag {
        id: Which::Verbose,
        long: "verbose",
        short: Some('v'),
        doc: "describe each step on stderr",
        help: "describe each step on stderr (never a secret; not with -q)",
        conflicts: &["quiet"],
        ..SWITCH
    },
    Flag {
        id: Which::Help,
        long: "help",
        short: Some('h'),
        doc: "print the help",
        help: "print this help",
        ..SWITCH
    },
    Flag {
        id: Which::Version,
        long: "version",
        short: Some('V'),
        doc: "print the version",
        help: "print the version, target and commit",
        ..SWITCH
    },
];

pub(crate) fn by_long(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.long == name)
}

pub(crate) fn by_short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// The flags `verb` takes, in table order.
pub(crate) fn of(verb: Verb) -> impl Iterator<Item = &'static Flag> {
    FLAGS.iter().filter(move |f| f.verbs.contains(&verb))
}

#[cfg(test)]
pub(crate) mod generate;

#[cfg(test)]
mod tests;
