//! The help texts, one per verb; each fits 80 columns and ends with examples.

use super::Verb;

pub(super) fn text(verb: Option<Verb>) -> &'static str {
    match verb {
        None | Some(Verb::Refresh) => REFRESH,
    }
}

const REFRESH: &str = "\
sfrefresh - refresh a saved OAuth 2.0 (Salesforce) access token in place

USAGE:
    sfrefresh [refresh] [OPTIONS] [TOKEN_FILE...]
    sfrefresh help [VERB]

VERBS (the first argument; a file named like a verb is written ./NAME):
    refresh     refresh TOKEN_FILE in place (the default)

ARGUMENTS:
    TOKEN_FILE                  token JSON file, refreshed in place; '-' reads the token
                                from stdin and writes the refreshed JSON to stdout
                                (no file written)             [env: SF_TOKEN_FILE]
                                Several files, or a directory (its *.json): each
                                refreshed on its own, one line each, then a
                                summary; exit code the most serious of theirs

OPTIONS:
        --client-id ID          consumer key of the Connected App or External Client
                                App; else SF_CLIENT_ID, else the token file's
                                \"client_id\"                   [env: SF_CLIENT_ID]
        --client-secret-file PATH
                                read the client secret from PATH (surrounding
                                whitespace trimmed); otherwise $SF_CLIENT_SECRET;
                                neither: no secret. No flag takes the secret on argv.
        --client-auth post|basic
                                send the secret in the form body (default) or as
                                HTTP Basic (client id and secret only in the header)
        --token-url URL         token endpoint                [env: SF_TOKEN_URL]
        --sandbox               use https://test.salesforce.com/services/oauth2/token
        --login-url URL         My Domain or community base URL; /services/oauth2/token
                                is appended                   [env: SF_LOGIN_URL]
                                Endpoint precedence: --token-url, SF_TOKEN_URL,
                                --sandbox, --login-url/SF_LOGIN_URL, the origin of the
                                token file's https 'id', then
                                https://login.salesforce.com/services/oauth2/token
        --cacert PATH           trust exactly the PEM certificates in PATH instead of
                                the built-in Mozilla roots    [env: SSL_CERT_FILE]
        --proxy URL             proxy for the request (http://[user:pass@]host:port)
        --no-proxy              ignore proxy environment variables
        --verify-signature      check the stored and the new signature (HMAC-SHA256
                                of id + issued_at with the client secret)
        --timeout SECONDS       deadline for the whole run, retries and waiting for
                                another sfrefresh on the same file included [default: 30]
        --retries N             extra attempts after a transient failure [default: 2]
        --if-older-than DURATION
                                refresh only when issued_at is at least this old
                                (45s, 30m, 2h, 1d, 1h30m); otherwise leave the file
                                alone and exit 0
        --print token|json|header|env|curl
                                after success, write to stdout: the access token,
                                the whole JSON, an Authorization header line, shell
                                variables, or a curl config (see README)
        --files-from PATH       also the token files listed in PATH, one a line
                                ('-': stdin)
    -j, --jobs N                token files refreshed at once (1-64) [default 4]
        --watch                 run until SIGTERM: refresh each file when it is
                                --if-older-than old, sleep until the next is due
        --metrics-file PATH     after each pass, a Prometheus textfile-collector
                                file with per-file success time, exit code,
                                issued_at and duration (replaced atomically)
        --log-format text|json  one line per event, as text or as a JSON object
    -q, --quiet                 no status line and no waiting notes on success
    -v, --verbose               describe each step on stderr (secrets never shown)
    -h, --help                  print this help
    -V, --version               print the version, target and commit

ENVIRONMENT:
    SF_TOKEN_FILE, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_TOKEN_URL, SF_LOGIN_URL and
    SSL_CERT_FILE as above; flags win. An env var set to the empty string counts as unset.
    https_proxy/HTTPS_PROXY, then all_proxy/ALL_PROXY: proxy for https endpoints
    http_proxy/HTTP_PROXY, then all_proxy/ALL_PROXY: proxy for http (loopback) endpoints
    no_proxy/NO_PROXY: hosts to reach directly: comma-separated names (matching the
    host and its subdomains), IP addresses, CIDR ranges, or * for all

EXIT CODES:
    0  refreshed, or skipped because --if-older-than found the token fresh
    1  unexpected internal error
    2  usage: bad flag or value, missing client id, no token file
    3  token file: missing, unreadable, not JSON, no usable refresh_token, not a
       regular file, too large, cannot be saved; or stdout could not be written
    4  token endpoint or proxy unreachable, or the answer unusable: network,
       timeout, 5xx/429 after retries, redirect, not a token endpoint, unreadable
       or bad 200, TLS trust, proxy authentication, signature mismatch
    5  the server refused the refresh (OAuth error in a 4xx answer):
       re-authorisation or configuration needed
    Many files: the most serious per-file code, in the order 1, 3, 5, 2, 4, 0.
    --watch: 0 after SIGTERM/SIGINT; otherwise it ends only when no file can be
    refreshed any more, with the most serious of their codes.

EXAMPLES:
    sfrefresh --client-id 3MVG9... ~/.config/sf/token.json
    sfrefresh -q --if-older-than 1h tok.json        # from cron, every few minutes
    sfrefresh --print header -q tok.json | curl -H @- \"$URL\"
    vault kv get -field=token secret/sf | sfrefresh - > refreshed.json
    sfrefresh -q --if-older-than 1h /srv/tokens/     # every *.json in there
    sfrefresh --watch --if-older-than 90m --metrics-file /run/m/sf.prom tokens/
";
