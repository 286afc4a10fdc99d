# fish completion for sfrefresh.
# Installed as $PREFIX/share/fish/vendor_completions.d/sfrefresh.fish.
#
# Written by hand; tests/docs.rs checks that every --long option of `sfrefresh --help`
# is named here. A verb, when one comes, is one line with `-n __fish_use_subcommand -a
# VERB`, and its own options `-n '__fish_seen_subcommand_from VERB'`.

complete -c sfrefresh -F
complete -c sfrefresh -l client-id -x -d 'Connected App consumer key (env SF_CLIENT_ID)'
complete -c sfrefresh -l client-secret-file -r -F -d 'Read the client secret from this file'
complete -c sfrefresh -l client-auth -x -a 'post basic' -d 'Send the secret in the form body or as HTTP Basic'
complete -c sfrefresh -l token-url -x -d 'Token endpoint (env SF_TOKEN_URL)'
complete -c sfrefresh -l sandbox -d 'Use https://test.salesforce.com/services/oauth2/token'
complete -c sfrefresh -l login-url -x -d 'My Domain or community base URL (env SF_LOGIN_URL)'
complete -c sfrefresh -l cacert -r -F -d 'Trust exactly the PEM certificates in this file'
complete -c sfrefresh -l proxy -x -d 'Send the request through this proxy'
complete -c sfrefresh -l no-proxy -d 'Ignore the proxy environment variables'
complete -c sfrefresh -l verify-signature -d "Check the answer's signature (needs the secret)"
complete -c sfrefresh -l timeout -x -d 'Deadline for the whole run, seconds (default 30)'
complete -c sfrefresh -l retries -x -d 'Extra attempts after a transient failure (default 2)'
complete -c sfrefresh -l if-older-than -x -d 'Refresh only when issued_at is this old (45s, 30m, 2h, 1d)'
complete -c sfrefresh -l print -x -a 'token json header env curl' -d 'After success, write the token in this form to stdout'
complete -c sfrefresh -l files-from -r -F -d 'Also the token files listed in this file (- for stdin)'
complete -c sfrefresh -s j -l jobs -x -d 'Token files refreshed at once (1-64, default 4)'
complete -c sfrefresh -l watch -d 'Run until SIGTERM, refreshing each file when due'
complete -c sfrefresh -l metrics-file -r -F -d 'Prometheus textfile-collector file, replaced after each pass'
complete -c sfrefresh -l log-format -x -a 'text json' -d 'One line per event, as text or JSON'
complete -c sfrefresh -s q -l quiet -d 'No status line on success'
complete -c sfrefresh -s v -l verbose -d 'Describe each step on stderr'
complete -c sfrefresh -s h -l help -d 'Print the help'
complete -c sfrefresh -s V -l version -d 'Print the version'
complete -c sfrefresh -n __fish_use_subcommand -a refresh -d 'Refresh the token file in place (the default)'
complete -c sfrefresh -n __fish_use_subcommand -a exec -d 'Refresh when needed, then run a command with the token in its environment'
complete -c sfrefresh -n __fish_use_subcommand -a status -d 'Show where token files stand'
complete -c sfrefresh -n __fish_use_subcommand -a revoke -d 'Revoke the refresh token, then remove the token file'
complete -c sfrefresh -n __fish_use_subcommand -a help -d 'Show the help of a verb'
complete -c sfrefresh -n '__fish_seen_subcommand_from status' -l json -d 'One JSON object per file'
complete -c sfrefresh -n '__fish_seen_subcommand_from status' -l check -d 'Prove the access token works'
complete -c sfrefresh -n '__fish_seen_subcommand_from status' -l userinfo-url -x -d 'OpenID Connect userinfo URL for --check'
complete -c sfrefresh -n '__fish_seen_subcommand_from revoke' -l keep-file -d 'Keep the file without its tokens'
complete -c sfrefresh -n '__fish_seen_subcommand_from revoke' -l revoke-url -x -d 'Revocation endpoint (env SF_REVOKE_URL)'
