//! The help texts, one per verb; each fits 80 columns and ends with examples.

use super::Verb;

pub(super) fn text(verb: Option<Verb>) -> &'static str {
    match verb {
        None | Some(Verb::Refresh) => REFRESH,
        Some(Verb::Exec) => EXEC,
        Some(Verb::Status) => STATUS,
        Some(Verb::Revoke) => REVOKE,
    }
}

const REFRESH: &str = "\
sfrefresh - refresh a saved OAuth 2.0 (Salesforce) access token in place

USAGE:
    sfrefresh [refresh] [OPTIONS] [TOKEN_FILE...]
    sfrefresh exec [OPTIONS] [TOKEN_FILE] -- COMMAND [ARGS...]
    sfrefresh status [OPTIONS] [TOKEN_FILE...]
    sfrefresh revoke [OPTIONS] [TOKEN_FILE]
    sfrefresh help [VERB]

VERBS (the first argument; a file named like a verb is written ./NAME):
    refresh     refresh TOKEN_FILE in place (the default)
    exec        refresh when needed, then run COMMAND with the token in its
                environment (never on a command line)
    status      show where token files stand; --check proves the token works
    revoke      revoke the refresh token, then remove the token file
    'sfrefresh help VERB' or 'sfrefresh VERB --help' shows a verb's options.

ARGUMENTS:
    TOKEN_FILE              token JSON file, refreshed in place; '-' reads it
                            from stdin and writes the refreshed JSON to stdout
                            (no file written)           [env: SF_TOKEN_FILE]
                            Several files, or a directory (its *.json):
                            each refreshed on its own, one line each, then
                            a summary; exit code the most serious of theirs

OPTIONS:
        --client-id ID      consumer key of the Connected App or External
                            Client App; else SF_CLIENT_ID, else the token
                            file's \"client_id\"            [env: SF_CLIENT_ID]
        --client-secret-file PATH
                            read the client secret from PATH (whitespace
                            trimmed); else $SF_CLIENT_SECRET; neither: no
                            secret. No option takes the secret on argv.
        --client-auth post|basic
                            send the secret in the form body (default) or as
                            HTTP Basic (id and secret only in the header)
        --token-url URL     token endpoint              [env: SF_TOKEN_URL]
        --sandbox           use the sandbox login host, test.salesforce.com
        --login-url URL     My Domain or community base URL; the path
                            /services/oauth2/token is appended
                                                        [env: SF_LOGIN_URL]
                            Endpoint precedence: --token-url, SF_TOKEN_URL,
                            --sandbox, --login-url/SF_LOGIN_URL, the origin
                            of the token file's https 'id', then
                            login.salesforce.com
        --cacert PATH       trust exactly the PEM certificates in PATH, not
                            the built-in Mozilla roots  [env: SSL_CERT_FILE]
        --proxy URL         http proxy (http://[user:pass@]host:port)
        --no-proxy          ignore the proxy environment variables
        --verify-signature  check the stored and the new signature
                            (HMAC-SHA256 of id + issued_at, client secret)
        --timeout SECONDS   deadline for the whole run, retries and waiting
                            for another sfrefresh included  [default: 30]
        --retries N         extra attempts after a transient failure
                                                        [default: 2]
        --if-older-than DURATION
                            refresh only when issued_at is at least this old
                            (45s, 30m, 2h, 1d, 1h30m); otherwise leave the
                            file alone and exit 0
        --print token|json|header|env|curl
                            after success, write to stdout: the access token,
                            the whole JSON, an Authorization header line,
                            shell variables, or a curl config (see README)
    -q, --quiet             no status line and no waiting notes
    -v, --verbose           describe each step on stderr (never a secret)
    -h, --help              print this help
    -V, --version           print the version, target and commit
        --files-from PATH   also the token files listed in PATH, one a line
                            ('-': stdin)
    -j, --jobs N            token files refreshed at once (1-64) [default: 4]
        --watch             run until SIGTERM: refresh each file when it is
                            --if-older-than old, sleep until the next is due
        --metrics-file PATH after each pass, a Prometheus textfile-collector
                            file: per file success time, exit code,
                            issued_at and duration (replaced atomically)
        --log-format text|json
                            one line per event, as text or a JSON object

ENVIRONMENT:
    SF_TOKEN_FILE, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_TOKEN_URL, SF_LOGIN_URL
    and SSL_CERT_FILE as above; options win. An empty variable counts as unset.
    SF_REVOKE_URL: --revoke-url of 'sfrefresh revoke'
    https_proxy/HTTPS_PROXY, then all_proxy/ALL_PROXY: proxy for https
    http_proxy/HTTP_PROXY, then all_proxy/ALL_PROXY: proxy for http (loopback)
    no_proxy/NO_PROXY: hosts reached directly: comma-separated names (the host
    and its subdomains), IP addresses, CIDR ranges, or * for all

EXIT CODES:
    0  refreshed, or skipped because --if-older-than found the token fresh
    1  unexpected internal error
    2  usage: bad flag or value, missing client id, no token file
    3  token file: missing, unreadable, not JSON, no usable refresh_token, not
       a regular file, too large, cannot be saved; or stdout not writable
    4  token endpoint or proxy unreachable, or the answer unusable: network,
       timeout, 5xx/429 after retries, redirect, not a token endpoint,
       unreadable or bad 200, TLS trust, proxy authentication, signature
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

const EXEC: &str = "\
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
    COMMAND [ARGS...]   everything after '--', run as it is (searched in PATH)

OPTIONS:
        --if-older-than DURATION
                        refresh only when issued_at is at least this old; 30m
                        leaves COMMAND 90 minutes of Salesforce's default
                        2-hour session                          [default: 30m]
    and the refresh options --client-id, --client-secret-file, --client-auth,
    --token-url, --sandbox, --login-url, --cacert, --proxy, --no-proxy,
    --verify-signature, --timeout, --retries, -q, -v (see 'sfrefresh --help').

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

const STATUS: &str = "\
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
    TOKEN_FILE...       token JSON files                   [env: SF_TOKEN_FILE]

OPTIONS:
        --json          one JSON object per file and line, instead of text
        --check         prove the access token works: GET the file's \"id\"
                        (Salesforce's identity URL) with it as a bearer token
        --userinfo-url URL
                        with --check, GET this OpenID Connect userinfo endpoint
                        instead (for other servers)
        --if-older-than DURATION
                        say whether a refresh with this option would run now
    and --token-url, --sandbox, --login-url (the endpoint shown), --cacert,
    --proxy, --no-proxy, --timeout (per file), --retries, -q, -v as in
    'sfrefresh --help'.

EXIT CODES (the highest over all files):
    0  every file is readable, holds a refresh token, and passed --check
    2  usage; or --check on a file without \"id\" and no --userinfo-url
    3  a file is missing, unreadable, not a token file, or has no refresh_token
    4  --check cannot tell: no answer, or one that is neither yes nor no
    5  --check: the server says the access token is invalid (401 or 403)

EXAMPLES:
    sfrefresh status ~/.config/sf/*.json
    sfrefresh status --check --if-older-than 1h tok.json
    sfrefresh status --json tok.json | jq .age_seconds
";

const REVOKE: &str = "\
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
    TOKEN_FILE          token JSON file                    [env: SF_TOKEN_FILE]

OPTIONS:
        --revoke-url URL
                        revocation endpoint                [env: SF_REVOKE_URL]
                        default: the token endpoint with its last /token made
                        /revoke (Salesforce: /services/oauth2/revoke)
        --keep-file     keep the file, without access_token and refresh_token
    and --client-id, --client-secret-file, --client-auth, --token-url,
    --sandbox, --login-url, --cacert, --proxy, --no-proxy, --timeout,
    --retries, -q, -v as in 'sfrefresh --help'.

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
