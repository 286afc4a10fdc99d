#!/bin/sh
# make demo: refresh a sample token file against the local fake Salesforce
# (examples/fake_salesforce.rs: it rotates refresh tokens like a real org).
# No credentials and no network: everything happens on 127.0.0.1 in a temp directory.
set -eu
bin=${1:-target/release/sfrefresh}
server=${2:-target/release/examples/fake_salesforce}
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

# The secret is passed the way sfrefresh takes it (env or file); the fake signs with it.
export SF_CLIENT_SECRET=demo-secret
"$server" --client-id demo-client --client-secret "$SF_CLIENT_SECRET" --refresh-token 5Aep861.demo-refresh-0 \
  --instance-url https://demo.my.salesforce.com >"$tmp/server" &
pid=$!
i=0
until [ -s "$tmp/server" ]; do
  i=$((i + 1)); [ "$i" -lt 100 ] || { echo "demo: fake Salesforce did not start" >&2; exit 1; }
  sleep 0.05
done
base=$(head -n 1 "$tmp/server")
url="$base/services/oauth2/token"

cat >"$tmp/token.json" <<JSON
{
  "access_token": "00Dfake!AQ.expired-access",
  "refresh_token": "5Aep861.demo-refresh-0",
  "scope": "refresh_token api",
  "instance_url": "https://demo.my.salesforce.com",
  "id": "$base/id/00Dfake/005fake",
  "token_type": "Bearer",
  "issued_at": "1700000000000",
  "my_note": "fields sfrefresh does not know are kept"
}
JSON
chmod 600 "$tmp/token.json"

echo "== token file before"
cat "$tmp/token.json"
echo
echo "== sfrefresh --verbose --verify-signature (endpoint: $url)"
"$bin" --client-id demo-client --token-url "$url" --verbose --verify-signature "$tmp/token.json"
echo
echo "== token file after (new access token, rotated refresh token, new signature, same order, note kept)"
cat "$tmp/token.json"
echo
echo "== again with --if-older-than 1h: the token is fresh, nothing is sent"
"$bin" --client-id demo-client --token-url "$url" --if-older-than 1h --print token "$tmp/token.json"
echo
echo "== the token for curl, off every command line: sfrefresh --print header -q FILE | curl -H @- URL"
"$bin" --client-id demo-client --token-url "$url" --print header -q "$tmp/token.json"
echo
echo "== exec: COMMAND becomes this process, the token in its environment"
"$bin" exec -q --client-id demo-client --token-url "$url" "$tmp/token.json" -- \
  sh -c 'echo "COMMAND has SF_ACCESS_TOKEN (${#SF_ACCESS_TOKEN} characters) for $SF_INSTANCE_URL"'
echo
echo "== status --check: where the file stands, and whether the token works"
"$bin" status --check --token-url "$url" "$tmp/token.json"
echo
echo "== revoke: the refresh token is revoked, then the file removed"
"$bin" revoke --client-id demo-client --token-url "$url" "$tmp/token.json"
