# fish completion for sfrefresh.
# Generated from src/cli/defs.rs (the flag table): do not edit. Regenerate with
# SFREFRESH_BLESS=1 cargo test --locked --lib completion_files (docs/flags.md).
# Installed as $PREFIX/share/fish/vendor_completions.d/sfrefresh.fish.

# The verb: the first argument when it is one, else refresh (as sfrefresh reads it).
function __sfrefresh_verb
    set --local words (commandline -opc)
    if set -q words[2]; and contains -- $words[2] refresh exec status revoke login help
        echo $words[2]
    else
        echo refresh
    end
end

complete -c sfrefresh -n 'test (__sfrefresh_verb) != help' -F
complete -c sfrefresh -n __fish_use_subcommand -a refresh -d 'Refresh the token file in place (the default)'
complete -c sfrefresh -n __fish_use_subcommand -a exec -d 'Refresh when needed, then run a command with the token in its environment'
complete -c sfrefresh -n __fish_use_subcommand -a status -d 'Show where token files stand; --check proves the token works'
complete -c sfrefresh -n __fish_use_subcommand -a revoke -d 'Revoke the refresh token, then remove the token file'
complete -c sfrefresh -n __fish_use_subcommand -a login -d 'Get the first token into a new token file'
complete -c sfrefresh -n __fish_use_subcommand -a help -d 'Show the help of a verb'
complete -c sfrefresh -n 'test (__sfrefresh_verb) = help; and test (count (commandline -opc)) -eq 2' -f -a 'refresh exec status revoke login'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec revoke login' -l client-id -x -d 'Connected App consumer key (env SF_CLIENT_ID)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec revoke login' -l client-secret-file -r -F -d 'Read the client secret from this file'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec revoke login' -l client-auth -x -a 'post basic' -d 'Send the secret in the form body or as HTTP Basic'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -l token-url -x -d 'Token endpoint (env SF_TOKEN_URL)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -l sandbox -d 'Use the sandbox login host, test.salesforce.com'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -l login-url -x -d 'My Domain or community base URL (env SF_LOGIN_URL)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -l cacert -r -F -d 'Trust exactly the PEM certificates in this file'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -l proxy -x -d 'Send the request through this http proxy'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -l no-proxy -d 'Ignore the proxy environment variables'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec' -l verify-signature -d 'Check the answer\'s signature (needs the client secret)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -l timeout -x -d 'Deadline for the whole run, in seconds (at most 86400)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -l retries -x -d 'Extra attempts after a transient failure (0-100)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status' -l if-older-than -x -d 'Refresh only when issued_at is at least this old'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec login' -l grant -x -a 'refresh-token jwt-bearer client-credentials' -d 'How to renew the token'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec login' -l jwt-key -r -F -d 'JWT bearer: the app\'s RSA private key (PEM)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec login' -l username -x -d 'JWT bearer: the Salesforce user'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec login' -l audience -x -d 'JWT bearer: the aud claim'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh login' -l print -x -a 'token json header env curl' -d 'After success, write the token in this form to stdout'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) status' -l json -d 'One JSON object per file'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) status' -l check -d 'Prove the access token works'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) status' -l userinfo-url -x -d 'OpenID Connect userinfo URL for --check'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) revoke' -l revoke-url -x -d 'Revocation endpoint (env SF_REVOKE_URL)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) revoke' -l keep-file -d 'Keep the file without its tokens'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l device -d 'Device flow'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l device-url -x -d 'RFC 8628 device authorization endpoint'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l web -d 'Web-server flow with PKCE'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l authorize-url -x -d 'Authorization endpoint'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l redirect-port -x -d 'Loopback redirect port (default 1717)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l open -d 'Open the authorize URL in a browser'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l sfdx-url-file -r -F -d 'Read an SFDX auth URL from this file (- for stdin)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l scope -x -d 'Scopes to ask for'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) login' -l force -d 'Overwrite a token file that holds a refresh token'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh' -l files-from -r -F -d 'Also the token files listed in this file (- for stdin)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh' -s j -l jobs -x -d 'Token files refreshed at once (1-64)'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh' -l watch -d 'Run until SIGTERM, refreshing each file when due'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh' -l metrics-file -r -F -d 'Prometheus textfile-collector file, replaced after each pass'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh' -l log-format -x -a 'text json' -d 'One line per event, as text or JSON'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -s q -l quiet -d 'No status line, retry lines or waiting notes'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -s v -l verbose -d 'Describe each step on stderr'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -s h -l help -d 'Print the help'
complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) refresh exec status revoke login' -s V -l version -d 'Print the version'
