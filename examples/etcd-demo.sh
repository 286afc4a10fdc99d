#!/bin/sh
# make etcd-demo: one token family shared by three "hosts" through a local 3-member etcd
# cluster (Debian's etcd-server and etcd-client), against the local fake Salesforce,
# which rotates refresh tokens and revokes the family if one is ever sent twice.
# Everything runs on 127.0.0.1 in a temp directory and is stopped at the end.
set -eu
bin=${1:-target/release/sfrefresh}
server=${2:-target/release/examples/fake_salesforce}
tmp=$(mktemp -d)
pids=
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

command -v etcd >/dev/null || { echo "etcd-demo: needs etcd (apt-get install etcd-server etcd-client)" >&2; exit 1; }
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(6)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
set -- $ports
c0=$1 c1=$2 c2=$3 p0=$4 p1=$5 p2=$6
cluster="m0=http://127.0.0.1:$p0,m1=http://127.0.0.1:$p1,m2=http://127.0.0.1:$p2"
start_member() { # name client peer
  etcd --name "$1" --data-dir "$tmp/$1" \
    --listen-client-urls "http://127.0.0.1:$2" --advertise-client-urls "http://127.0.0.1:$2" \
    --listen-peer-urls "http://127.0.0.1:$3" --initial-advertise-peer-urls "http://127.0.0.1:$3" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token demo \
    --heartbeat-interval 50 --election-timeout 500 \
    --logger zap --log-outputs stderr --log-level error 2>"$tmp/$1.log" &
  pids="$pids $!"
}
start_member m0 "$c0" "$p0"; m0=$!
start_member m1 "$c1" "$p1"
start_member m2 "$c2" "$p2"
hosts="127.0.0.1:$c0,127.0.0.1:$c1,127.0.0.1:$c2"
export ETCDCTL_API=3
ctl() { etcdctl --endpoints="http://127.0.0.1:$c0,http://127.0.0.1:$c1,http://127.0.0.1:$c2" "$@"; }
i=0
until ctl endpoint health >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 200 ] || { echo "etcd-demo: etcd did not start" >&2; cat "$tmp"/m*.log >&2; exit 1; }
  sleep 0.1
done

"$server" --client-id demo-client --refresh-token 5Aep861.demo-refresh-0 \
  --instance-url https://demo.my.salesforce.com --processing-delay-ms 200 \
  --state-file "$tmp/state.json" >"$tmp/server" &
pids="$pids $!"
i=0
until [ -s "$tmp/server" ]; do
  i=$((i + 1)); [ "$i" -lt 100 ] || { echo "etcd-demo: fake Salesforce did not start" >&2; exit 1; }
  sleep 0.05
done
url="$(head -n 1 "$tmp/server")/services/oauth2/token"

echo "== a 3-member etcd cluster on $hosts; the family seeded with etcdctl put"
ctl put /sfr/demo >/dev/null <<JSON
{
  "access_token": "00Dfake!AQ.expired-access",
  "refresh_token": "5Aep861.demo-refresh-0",
  "instance_url": "https://demo.my.salesforce.com",
  "issued_at": "1700000000000"
}
JSON
ctl get /sfr/demo --print-value-only
echo "== three hosts refresh etcd://…/sfr/demo at once, each asking the members in its own order"
runs=
for order in "$c0,$c1,$c2" "$c1,$c2,$c0" "$c2,$c0,$c1"; do
  list=$(echo "$order" | sed 's/\([0-9][0-9]*\)/127.0.0.1:\1/g')
  "$bin" --client-id demo-client --token-url "$url" "etcd://$list/sfr/demo" &
  runs="$runs $!"
done
for r in $runs; do wait "$r"; done
echo
echo "== what the token server saw: one request per refresh token, none replayed"
python3 - "$tmp/state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
forms = [dict(r["form"]) for r in s["requests"]]
sent = [f["refresh_token"] for f in forms if f.get("grant_type") == "refresh_token"]
print("refresh tokens sent, in order:", ", ".join(sent))
print("family revoked:", s["family_revoked"])
PY
echo
echo "== the family in etcd now holds the last rotated token (and the lock is gone)"
ctl get /sfr/demo --print-value-only | grep '"refresh_token"'
ctl get /sfr/demo --prefix --keys-only
echo "== a member killed: the next refresh completes on the other two"
kill "$m0"
"$bin" --client-id demo-client --token-url "$url" "etcd://$hosts/sfr/demo"
echo "== a reader of a fresh token takes no lock: --if-older-than 1h --print token"
"$bin" --client-id demo-client --token-url "$url" --if-older-than 1h --print token -q "etcd://$hosts/sfr/demo"
