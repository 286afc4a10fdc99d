//! The help texts, one per verb; each fits 80 columns and ends with examples.

use super::Verb;

pub(super) fn text(verb: Option<Verb>) -> &'static str {
    match verb {
        None | Some(Verb::Refresh) => REFRESH,
        Some(Verb::Login) => LOGIN,
    }
}

const REFRESH: &str = "\
sfrefresh - refresh a saved OAuth 2.0 (Salesforce) access token in place

USAGE:
    sfrefresh [refresh] [OPTIONS] [TOKEN_FILE]
    sfrefresh login [OPTIONS] TOKEN_FILE
    sfrefresh help [VERB]

VERBS (the first argument; a file named like a verb is written ./NAME):
    refresh     refresh TOKEN_FILE in place (the default)
    login       get the first token (device flow, web flow, SFDX auth URL,
                JWT bearer, client credentials) into a new TOKEN_FILE
    'sfrefresh help login' shows login's options.

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
        --grant refresh-token|jwt-bearer|client-credentials
                            how to renew: with the file's refresh token, or
                            by minting a new token; default: the grant that
                            'sfrefresh login' recorded, else refresh-token
        --jwt-key PATH      jwt-bearer: the app's RSA private key (PEM,
                            PKCS#8 or PKCS#1); implies --grant jwt-bearer;
                            else the file's \"sfrefresh_jwt_key\"
        --username NAME     jwt-bearer: the user the app acts as (sub);
                            else the file's \"sfrefresh_username\"
        --audience URL      jwt-bearer: the aud claim; else --sandbox's,
                            --login-url's, the file's, login.salesforce.com
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

const LOGIN: &str = "\
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
    TOKEN_FILE              the token file to create     [env: SF_TOKEN_FILE]

WAYS TO LOG IN (exactly one):
        --device            device flow: shows a code and a URL to open on any
                            device; polls until it is approved
        --web               web-server flow with PKCE: shows the authorize URL
                            and waits for the browser's redirect to
                            http://localhost:PORT/OauthRedirect
        --sfdx-url-file PATH|-
                            import an SFDX auth URL (force://ID:SECRET:TOKEN
                            @INSTANCE) from PATH or stdin, refreshing it once
                            at the instance; never taken from argv
        --jwt-key PATH      JWT bearer: sign an assertion with the app's RSA
                            private key (PEM, PKCS#8 or PKCS#1)
        --grant client-credentials
                            client credentials: the app's own token (needs
                            the secret; Salesforce: the My Domain endpoint)

OPTIONS:
        --client-id ID      the app's consumer key (not with --sfdx-url-file)
                                                        [env: SF_CLIENT_ID]
        --scope SCOPE       scopes to ask for (--device, --web, client
                            credentials); default: the app's own
        --device-url URL    --device: the RFC 8628 device authorization
                            endpoint of a server that is not Salesforce
        --authorize-url URL --web: the authorization endpoint; default: the
                            token endpoint's /services/oauth2/authorize
        --redirect-port N   --web: the redirect's port       [default: 1717]
        --open              --web: open the URL with xdg-open (macOS: open)
        --username NAME     JWT: the user the app acts as (the sub claim)
        --audience URL      JWT: the aud claim; default: test.salesforce.com
                            with --sandbox or a sandbox My Domain
                            --login-url, else login.salesforce.com (a site
                            --login-url: its origin)
        --force             replace a TOKEN_FILE that holds a refresh token
        --timeout SECONDS   deadline for the whole login; default 300 with
                            --device and --web (a person acts), else 30
        --print token|json|header|env|curl
                            after saving, also write the token to stdout
    and --client-secret-file, --client-auth, --token-url, --sandbox,
    --login-url, --cacert, --proxy, --no-proxy, --retries, -q, -v as in
    'sfrefresh --help'. Client id: --client-id, then SF_CLIENT_ID.

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
