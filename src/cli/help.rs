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
    sfrefresh [refresh] [OPTIONS] [TOKEN_FILE]
    sfrefresh help [VERB]

VERBS (the first argument; a file named like a verb is written ./NAME):
    refresh     refresh TOKEN_FILE in place (the default)

ARGUMENTS:
    TOKEN_FILE              token JSON file, refreshed in place; '-' reads it
                            from stdin and writes the refreshed JSON to stdout
                            (no file written)           [env: SF_TOKEN_FILE]

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

ENVIRONMENT:
    SF_TOKEN_FILE, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_TOKEN_URL, SF_LOGIN_URL
    and SSL_CERT_FILE as above; options win. An empty variable counts as unset.
    https_proxy/HTTPS_PROXY, then all_proxy/ALL_PROXY: proxy for https
    http_proxy/HTTP_PROXY, then all_proxy/ALL_PROXY: proxy for http (loopback)
    no_proxy/NO_PROXY: hosts reached directly: comma-separated names (the host
    and its subdomains), IP addresses, CIDR ranges, or * for all

EXIT CODES:
    0  refreshed, or skipped because --if-older-than found the token fresh
    1  unexpected internal error
    2  usage: bad flag or value, missing client id, extra arguments
    3  token file: missing, unreadable, not JSON, no usable refresh_token, not
       a regular file, too large, cannot be saved; or stdout not writable
    4  token endpoint or proxy unreachable, or the answer unusable: network,
       timeout, 5xx/429 after retries, redirect, not a token endpoint,
       unreadable or bad 200, TLS trust, proxy authentication, signature
    5  the server refused the refresh (OAuth error in a 4xx answer):
       re-authorisation or configuration needed

EXAMPLES:
    sfrefresh --client-id 3MVG9... ~/.config/sf/token.json
    sfrefresh -q --if-older-than 1h tok.json       # from cron, every 10 min
    sfrefresh --print header -q tok.json | curl -H @- \"$URL\"
    vault kv get -field=token secret/sf | sfrefresh - > refreshed.json
";
