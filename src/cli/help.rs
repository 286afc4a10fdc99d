//! The help texts, one per verb; each fits 80 columns and ends with examples. The
//! OPTIONS list is made from the flag table (`defs.rs`), so a verb's help names exactly
//! the flags it takes; the prose around it is written here.

use std::fmt::Write as _;

use super::Verb;
use super::defs;

pub(super) fn text(verb: Option<Verb>) -> String {
    let verb = verb.unwrap_or(Verb::Refresh);
    let (head, tail) = match verb {
        Verb::Refresh => (REFRESH_HEAD, REFRESH_TAIL),
        Verb::Exec => (EXEC_HEAD, EXEC_TAIL),
        Verb::Status => (STATUS_HEAD, STATUS_TAIL),
        Verb::Revoke => (REVOKE_HEAD, REVOKE_TAIL),
        Verb::Login => (LOGIN_HEAD, LOGIN_TAIL),
    };
    format!("{head}{}\n{tail}", options(verb))
}

/// Where a flag's text starts, and the width of the whole help.
const COLUMN: usize = 28;
const WIDTH: usize = 80;

/// `OPTIONS:` and every flag `verb` takes, in table order, its text wrapped to fit.
pub(super) fn options(verb: Verb) -> String {
    let mut out = String::from("OPTIONS:\n");
    for flag in defs::of(verb) {
        let mut head = match flag.short {
            Some(c) => format!("    -{c}, --{}", flag.long),
            None => format!("        --{}", flag.long),
        };
        if flag.takes_value() {
            head.push(' ');
            head.push_str(flag.value_name);
        }
        let mut lines = wrap(flag.help_text(verb), WIDTH - COLUMN).into_iter();
        if head.len() < COLUMN {
            let first = lines.next().unwrap_or_default();
            let _ = writeln!(out, "{head:<COLUMN$}{first}");
        } else {
            let _ = writeln!(out, "{head}");
        }
        for line in lines {
            let _ = writeln!(out, "{:COLUMN$}{line}", "");
        }
    }
    out
}

/// Greedy word wrap to `width` columns (a longer word gets a line of its own); a
/// `[env: X]` or `[default: X]` note stays on one line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match words.last_mut() {
            Some(last) if last.starts_with('[') && last.ends_with(':') => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in &words {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

const REFRESH_HEAD: &str = "\
sfrefresh - refresh a saved OAuth 2.0 (Salesforce) access token in place

USAGE:
    sfrefresh [refresh] [OPTIONS] [TOKEN_FILE...]
    sfrefresh exec [OPTIONS] [TOKEN_FILE] -- COMMAND [ARGS...]
    sfrefresh status [OPTIONS] [TOKEN_FILE...]
    sfrefresh revoke [OPTIONS] [TOKEN_FILE]
    sfrefresh login [OPTIONS] TOKEN_FILE
    sfrefresh help [VERB]

VERBS (the first argument; a file named like a verb is written ./NAME):
    refresh     refresh TOKEN_FILE in place (the default)
    exec        refresh when needed, then run COMMAND with the token in its
                environment (never on a command line)
    status      show where token files stand; --check proves the token works
    revoke      revoke the refresh token, then remove the token file
    login       get the first token (device flow, web flow, SFDX auth URL,
                JWT bearer, client credentials) into a new TOKEN_FILE
    'sfrefresh help VERB' or 'sfrefresh VERB --help' shows a verb's options.

ARGUMENTS:
    TOKEN_FILE              token JSON file, refreshed in place; '-' reads it
                            from stdin and writes the refreshed JSON to stdout
                            (no file written)           [env: SF_TOKEN_FILE]
                            Several files, or a directory (its *.json):
                            each refreshed on its own, one line each, then
                            a summary; exit code the most serious of theirs
                            etcd://HOST:PORT[,HOST:PORT...]/KEY (etcds://
                            for TLS): a family shared by many hosts, kept
                            in etcd under a lease-held lock; KEY/ ending in
                            '/' names every family under it (docs/etcd.md)

";

const REFRESH_TAIL: &str = "\
ENDPOINT (the first that is set):
    --token-url, SF_TOKEN_URL, --sandbox, --login-url or SF_LOGIN_URL, the token
    file's \"sfrefresh_token_url\" (the endpoint 'sfrefresh login' used), the
    origin of the token file's https \"id\", then login.salesforce.com

ENVIRONMENT:
    SF_TOKEN_FILE, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_TOKEN_URL, SF_LOGIN_URL
    and SSL_CERT_FILE as above; options win. An empty variable counts as unset.
    SF_REVOKE_URL: --revoke-url of 'sfrefresh revoke'
    https_proxy/HTTPS_PROXY, then all_proxy/ALL_PROXY: proxy for https
    http_proxy/HTTP_PROXY, then all_proxy/ALL_PROXY: proxy for http (loopback)
    no_proxy/NO_PROXY: hosts reached directly: comma-separated names (the host
    and its subdomains), IP addresses, CIDR ranges, or * for all
    ETCDCTL_USER (name or name:password), ETCDCTL_PASSWORD, ETCDCTL_CACERT,
    ETCDCTL_CERT, ETCDCTL_KEY: etcd's credentials and TLS, read as etcdctl
    reads them, for etcd:// and etcds:// locations

EXIT CODES:
    0  refreshed, or skipped because --if-older-than found the token fresh
    1  unexpected internal error
    2  usage: bad flag or value, missing client id, no token file
    3  token file: missing, unreadable, not JSON, no usable refresh_token, not
       a regular file, too large, cannot be saved; or stdout or the
       --metrics-file not writable; etcd refused (auth, permission, TLS)
    4  token endpoint or proxy unreachable, or the answer unusable: network,
       timeout, 5xx/429 after retries, redirect, not a token endpoint,
       unreadable or bad 200, TLS trust, proxy authentication, signature;
       no etcd quorum, or its lock held past --timeout (nothing sent)
    5  the server refused the refresh (OAuth error in a 4xx answer):
       re-authorisation or configuration needed
    126  exec: COMMAND was found but could not be run
    127  exec: COMMAND was not found
    Many files: the most serious per-file code, in the order 1, 3, 5, 2, 4, 0.
    --watch: 0 after SIGTERM/SIGINT; otherwise it ends only when no file can be
    refreshed any more, with the most serious of their codes.

EXAMPLES:
    sfrefresh --client-id 3MVG9... ~/.config/sf/token.json
    sfrefresh -q --if-older-than 1h tok.json       # from cron, every 10 min
    sfrefresh --print header -q tok.json | curl -H @- \"$URL\"
    vault kv get -field=token secret/sf | sfrefresh - > refreshed.json
    sfrefresh -q --if-older-than 1h /srv/tokens/   # every *.json in there
    sfrefresh --watch --if-older-than 90m --metrics-file /run/sf.prom tokens/
";

const EXEC_HEAD: &str = "\
sfrefresh exec - run a command with a fresh access token in its environment

USAGE:
    sfrefresh exec [OPTIONS] [TOKEN_FILE] -- COMMAND [ARGS...]

Refreshes TOKEN_FILE when its token is older than --if-older-than (default 30m),
releases the file's lock, then becomes COMMAND (Unix exec: the same process, so
signals and the exit status are COMMAND's own). The token goes into COMMAND's
environment, never onto a command line that other users can read:

    SF_ACCESS_TOKEN       the access token
    SF_INSTANCE_URL       the file's instance_url (removed when it has none)
    SF_API_INSTANCE_URL   the file's api_instance_url (removed when it has none)

These are the names the Salesforce CLI reads ('sf org login access-token').
SF_CLIENT_SECRET is removed from COMMAND's environment; the rest is passed on.
If the refresh fails, COMMAND does not run and the exit code is sfrefresh's.

ARGUMENTS:
    TOKEN_FILE          token JSON file, refreshed in place [env: SF_TOKEN_FILE]
                        or an etcd:// location (see 'sfrefresh --help')
    COMMAND [ARGS...]   everything after '--', run as it is (searched in PATH)

";

const EXEC_TAIL: &str = "\
EXIT CODES:
    0-5  sfrefresh's own when the refresh fails (see 'sfrefresh --help')
    126  COMMAND was found but could not be run (not executable)
    127  COMMAND was not found
    otherwise COMMAND's own exit status

EXAMPLES:
    sfrefresh exec tok.json -- python3 report.py
    sfrefresh exec -q tok.json -- sh -c 'printf \"Authorization: Bearer %s\\n\" \\
        \"$SF_ACCESS_TOKEN\" | curl -sS -H @- \"$SF_INSTANCE_URL/services/data/\"'
";

const STATUS_HEAD: &str = "\
sfrefresh status - show where token files stand, without refreshing them

USAGE:
    sfrefresh status [OPTIONS] [TOKEN_FILE...]

For each file: the instance URL, when the token was issued (local time and
age), whether it holds an access and a refresh token, the endpoint a refresh
would use and why, with --if-older-than whether a refresh is due now, and a
warning when it was last refreshed more than 25 days ago (Salesforce's usual
policy revokes refresh tokens unused for 30 days). Files are read without
waiting for their lock, nothing is written, and nothing is sent unless --check.
No token is ever shown, not even in part.

ARGUMENTS:
    TOKEN_FILE...       token JSON files or etcd:// keys   [env: SF_TOKEN_FILE]

";

const STATUS_TAIL: &str = "\
EXIT CODES (the most serious over all files, in the order 3, 5, 2, 4, 0):
    0  every file is readable and can be refreshed: it holds a refresh token,
       or 'sfrefresh login' recorded a grant that mints a new token (JWT
       bearer, client credentials); and, with --check, the token works
    2  usage; or --check on a file without \"id\" and no --userinfo-url
    3  a file is missing, unreadable, not a token file, or has no refresh_token
       (and records no grant that mints one)
    4  --check cannot tell: no answer, or one that is neither yes nor no
    5  --check: the server says the access token is invalid (401 or 403)

EXAMPLES:
    sfrefresh status ~/.config/sf/*.json
    sfrefresh status --check --if-older-than 1h tok.json
    sfrefresh status --json tok.json | jq .age_seconds
";

const REVOKE_HEAD: &str = "\
sfrefresh revoke - revoke the refresh token, then remove the token file

USAGE:
    sfrefresh revoke [OPTIONS] [TOKEN_FILE]

Sends the file's refresh token to the revocation endpoint (RFC 7009: POST
token=... and token_type_hint=refresh_token, with the client authentication,
proxy, TLS and timeout rules of a refresh); on Salesforce its access tokens die
with it. Then, still holding the file's lock, removes the file, or with
--keep-file saves it without access_token and refresh_token. An answer that
the token was already invalid (400 invalid_token) counts as success, with a
warning. Any other failure leaves the file byte for byte as it was.
The step for a box being decommissioned, or a token file that leaked.

ARGUMENTS:
    TOKEN_FILE          token JSON file or etcd:// key     [env: SF_TOKEN_FILE]

";

const REVOKE_TAIL: &str = "\
EXIT CODES:
    0  revoked (or already invalid); the file removed, or kept without tokens
    2  usage: bad flag, no client id, no revocation endpoint to derive
    3  token file: missing, unreadable, no refresh_token, cannot be removed
    4  endpoint unreachable, not a revocation endpoint, 5xx/429 after retries
    5  the server refused the revocation (such as invalid_client)

EXAMPLES:
    sfrefresh revoke ~/.config/sf/token.json
    sfrefresh revoke --keep-file --revoke-url \"$IDP/oauth/revoke\" tok.json
";

const LOGIN_HEAD: &str = "\
sfrefresh login - get the first token into a new token file

USAGE:
    sfrefresh login --device [OPTIONS] TOKEN_FILE
    sfrefresh login --web [OPTIONS] TOKEN_FILE
    sfrefresh login --sfdx-url-file PATH|- TOKEN_FILE
    sfrefresh login --jwt-key PATH --username NAME [OPTIONS] TOKEN_FILE
    sfrefresh login --grant client-credentials [OPTIONS] TOKEN_FILE

Gets a token with one grant, then creates TOKEN_FILE (mode 0600) with the answer
and what later runs need: \"client_id\", \"sfrefresh_token_url\" and, for the
grants without a refresh token, \"sfrefresh_grant\", \"sfrefresh_username\",
\"sfrefresh_jwt_key\" (the path, never the key) and \"sfrefresh_audience\".
Then 'sfrefresh TOKEN_FILE' refreshes it, or mints a new token, with no
options. The token comes first and the file second: a login that fails, times
out or is interrupted leaves no file. A file that holds a refresh token is not
replaced without --force. The code, the URL and notes go to stderr only.

ARGUMENTS:
    TOKEN_FILE              the token file to create, or an etcd:// key
                                                         [env: SF_TOKEN_FILE]

WAYS TO LOG IN (exactly one): --device, --web, --sfdx-url-file, --jwt-key
(JWT bearer) or --grant client-credentials, as described below.

";

const LOGIN_TAIL: &str = "\
EXIT CODES:
    0  logged in; TOKEN_FILE saved
    2  usage: no or two ways to log in, no client id, no username, an
       unreadable or bad key, SFDX auth URL or secret file, port in use
    3  TOKEN_FILE: holds a refresh token (without --force), not a token
       file, its directory missing, or cannot be saved
    4  server unreachable or its answer unusable; not approved within
       --timeout; a redirect whose state is not this login's
    5  refused: access_denied, expired_token, an error redirect, or a
       refused grant (invalid_grant, invalid_client, ...)

EXAMPLES:
    sfrefresh login --device --client-id 3MVG9... ~/.sf/token.json
    sfrefresh login --web --open --client-id 3MVG9... tok.json
    printenv SFDX_AUTH_URL | sfrefresh login --sfdx-url-file - tok.json
    sfrefresh login --jwt-key ci.key --username ci@acme.com tok.json
    sfrefresh login --grant client-credentials \\
        --login-url https://acme.my.salesforce.com tok.json
";
