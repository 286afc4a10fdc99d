"""make bench: one refresh end to end against a local HTTPS token endpoint (nginx
on loopback returning a canned Salesforce answer), sfrefresh against the ways
people do it today. Contenders are interleaved run by run; wall time and peak RSS
(from wait4) are recorded per run. Budgets are checked and reported, never timed
inside a unit test.

Then the fleet: 1,000 token files in one directory refreshed by one sfrefresh run
(kept-alive connections), by `xargs -P 8` of single runs and by a sequential shell
loop, interleaved. Then etcd (bench/etcd.py): a family in a local 3-member cluster.

Usage: python3 bench/run.py [--bin dist/sfrefresh] [--floor FLOOR] [--runs N]
                            [--fleet-files N] [--fleet-runs N] [--etcd-runs N]
       python3 bench/run.py --self-test    (the budget checks on canned numbers)
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import etcd as etcd_bench  # noqa: E402  (bench/etcd.py, beside this file)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CERTS = os.path.join(ROOT, "tests", "certs")
CLIENT_ID = "3MVG9.bench-client"

ANSWER = json.dumps({
    "access_token": "00Dbench!AQ.fresh-access-token-from-nginx",
    "signature": "ZmFrZQ==",
    "scope": "refresh_token api",
    "instance_url": "https://bench.my.salesforce.com",
    "id": "https://login.salesforce.com/id/00Dbench/005bench",
    "token_type": "Bearer",
    "issued_at": "1708058728442",
}, separators=(",", ":"))

TOKEN = {
    "access_token": "00Dbench!AQ.old-access-token",
    "refresh_token": "5Aep861.bench-refresh-token",
    "signature": "b2xk",
    "scope": "refresh_token api",
    "instance_url": "https://bench.my.salesforce.com",
    "id": "https://login.salesforce.com/id/00Dbench/005bench",
    "token_type": "Bearer",
    "issued_at": "1700000000000",
}

# What people write today (set -e, jq reads the token, curl posts, jq merges, mv).
PIPELINE = r'''set -e
resp=$(curl -sS --fail --cacert "$CA" -d grant_type=refresh_token \
  --data-urlencode "refresh_token=$(jq -r .refresh_token "$TOK")" \
  -d "client_id=$SF_CLIENT_ID" "$URL")
jq --argjson r "$resp" '. + $r' "$TOK" > "$TOK.tmp"
mv "$TOK.tmp" "$TOK"
'''

NGINX_CONF = '''daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {certs}/server.pem;
        ssl_certificate_key {certs}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /services/oauth2/token {{
            default_type application/json;
            return 200 '{answer}';
        }}
        # Each request logged, for the etcd rows to count what reached it; no issued_at,
        # so sfrefresh records the time it saved and --if-older-than finds it fresh.
        location = /etcd/services/oauth2/token {{
            access_log {tmp}/etcd-requests.log;
            default_type application/json;
            return 200 '{etcd_answer}';
        }}
    }}
}}
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(tmp):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        etcd_answer = json.dumps({k: v for k, v in json.loads(ANSWER).items() if k != "issued_at"},
                                 separators=(",", ":"))
        f.write(NGINX_CONF.format(tmp=tmp, port=port, certs=CERTS, answer=ANSWER,
                                  etcd_answer=etcd_answer))
    proc = subprocess.Popen([nginx, "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, f"https://127.0.0.1:{port}/services/oauth2/token"
        except OSError:
            time.sleep(0.02)
    proc.kill()
    sys.exit("bench: nginx did not start; see " + os.path.join(tmp, "nginx-error.log"))


def build_measure(tmp):
    """The launcher: static and tiny, so it adds nothing to the RSS it reports."""
    cc = shutil.which("musl-gcc") or shutil.which("cc")
    out = os.path.join(tmp, "measure")
    flags = ["-O2", "-static"] if cc.endswith("musl-gcc") else ["-O2"]
    subprocess.run([cc, *flags, "-o", out, os.path.join(ROOT, "bench", "measure.c")], check=True)
    return out


def run_once(measure, argv, env):
    """Wall time (s) and peak RSS (KiB) of argv and everything it waited for."""
    done = subprocess.run([measure, *argv], env=env, capture_output=True, text=True)
    fields = done.stdout.split()
    if done.returncode != 0 or len(fields) != 3 or fields[2] != "0":
        sys.exit(f"bench: {argv[0]} failed: {done.stdout} {done.stderr}")
    return int(fields[0]) / 1e9, int(fields[1])


def balanced(contenders, round_no):
    """The contenders of one round in the order of a Williams design: over len(contenders)
    rounds (twice that for an odd count) each runs once in every position and right
    after every other contender equally often. Not a rotation: a rotation keeps
    neighbours, so each contender always ran right after the same other one (the floor
    after a light sfrefresh run, sfrefresh after curl with its 12 MiB of OpenSSL), and
    that neighbour's traces in the caches counted against it every time: measured 1.20
    for sfrefresh / floor rotated, 1.06 with the three light contenders alone. Nor a
    shuffle per round, which balances neither positions nor neighbours."""
    n = len(contenders)
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        if len(first) % 2:
            first.append(low)
            low += 1
        else:
            first.append(high)
            high -= 1
    rows = [[(x + r) % n for x in first] for r in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return [contenders[i] for i in rows[round_no % len(rows)]]


def williams_self_test():
    """Every position once per contender and every ordered neighbour pair equally often."""
    for n in range(2, 9):
        items = list(range(n))
        rounds = [balanced(items, r) for r in range(n * (2 if n % 2 else 1))]
        places = {(x, i) for row in rounds for i, x in enumerate(row)}
        assert len(places) == n * n, n
        pairs = [(row[i], row[i + 1]) for row in rounds for i in range(n - 1)]
        counts = {p: pairs.count(p) for p in pairs}
        assert len(counts) == n * (n - 1) and len(set(counts.values())) == 1, (n, counts)


def budgets(m):
    """The budgets, as (text, ok) pairs, from the measured numbers `m` (medians in
    seconds, peak RSS in MiB, size in bytes)."""
    base = m["sfrefresh"]
    floor = base / m["floor"]
    bundle = m["sfrefresh SSL_CERT_FILE"] / base
    pipeline = m["curl+jq+mv"] / base
    curl = base / m["curl alone"]
    fleet = m["xargs -P 8"] / m["fleet"]
    return [
        (f"sfrefresh / floor <= 1.15: {floor:.2f}", floor <= 1.15),
        (f"SSL_CERT_FILE=system bundle <= 1.2x --cacert: {bundle:.2f}", bundle <= 1.2),
        (f"curl+jq+mv at least 5x slower than sfrefresh: {pipeline:.2f}x", pipeline >= 5),
        (f"sfrefresh no slower than curl alone: {curl:.2f} (<= 1.0)", curl <= 1.0),
        (f"sfrefresh peak RSS <= 2 MiB: {m['rss']:.2f} MiB", m["rss"] <= 2),
        (f"binary <= 2 MiB: {m['size'] / 1048576:.2f} MiB", m["size"] <= 2 * 1048576),
        (f"fleet run at least 3x faster than xargs -P 8: {fleet:.2f}x", fleet >= 3),
        (f"fleet run peak RSS <= 8 MiB: {m['fleet rss']:.2f} MiB", m["fleet rss"] <= 8),
        (f"etcd: writes per refresh <= 3: {m['etcd writes']}", m["etcd writes"] <= 3),
        (f"etcd: eight hosts on one stale family send 1 request: {m['eight hosts requests']}",
         m["eight hosts requests"] == 1),
        (f"etcd: a refresh within 25 ms of a file's: "
         f"{(m['etcd refresh'] - m['file refresh']) * 1000:.1f} ms",
         m["etcd refresh"] - m["file refresh"] <= 0.025),
        # Four consensus writes a family (lease, lock, save, unlock), each fsynced by a
        # majority, on members sharing the bench's cores: docs/benchmarks.md, "etcd".
        (f"etcd: a family of a 1,000-family prefix <= 10 ms: "
         f"{m['etcd fleet'] / m['etcd families'] * 1000:.2f} ms",
         m["etcd fleet"] / m["etcd families"] <= 0.010),
    ]


def self_test():
    """Every budget passes on good numbers and fails alone when its number is bad."""
    good = {"sfrefresh": 0.0030, "floor": 0.0028, "sfrefresh SSL_CERT_FILE": 0.0033,
            "curl+jq+mv": 0.040, "curl alone": 0.008, "rss": 1.8, "size": 1_900_000,
            "fleet": 0.5, "xargs -P 8": 2.0, "fleet rss": 6.0,
            "etcd writes": 3, "eight hosts requests": 1, "etcd refresh": 0.012,
            "file refresh": 0.003, "etcd fleet": 5.0, "file fleet": 0.5, "etcd families": 1000}
    assert all(ok for _, ok in budgets(good)), budgets(good)
    bad = {"floor": 0.0025, "sfrefresh SSL_CERT_FILE": 0.0037, "curl+jq+mv": 0.012,
           "curl alone": 0.0029, "rss": 2.1, "size": 2 * 1048576 + 1, "xargs -P 8": 1.4,
           "fleet rss": 8.5, "etcd writes": 4, "eight hosts requests": 2,
           "etcd refresh": 0.029, "etcd fleet": 10.5}
    for key, value in bad.items():
        m = dict(good, **{key: value})
        failed = [text for text, ok in budgets(m) if not ok]
        assert len(failed) == 1, (key, failed)
    williams_self_test()
    print("bench budgets: self-test passed")


def make_tokens(directory, n):
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))
    text = json.dumps(TOKEN, indent=2) + "\n"
    for i in range(n):
        with open(os.path.join(directory, f"org{i:04}.json"), "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "dist", "sfrefresh"))
    ap.add_argument("--floor", default=os.path.join(
        ROOT, "bench", "floor", "target", "x86_64-unknown-linux-musl", "release", "floor"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--fleet-files", type=int, default=1000)
    ap.add_argument("--fleet-runs", type=int, default=3)
    ap.add_argument("--etcd-runs", type=int, default=20)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    for tool in ("nginx", "curl", "jq"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit(f"bench: {tool} is missing (apt-get install -y nginx-light curl jq)")
    binary = os.path.abspath(args.bin)
    if not os.path.exists(binary):
        sys.exit(f"bench: {binary} is missing (run make static)")
    floor_bin = os.path.abspath(args.floor)
    if not os.path.exists(floor_bin):
        sys.exit(f"bench: {floor_bin} is missing (make bench builds it)")
    system_bundle = "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.exists(system_bundle):
        sys.exit(f"bench: {system_bundle} is missing (apt-get install -y ca-certificates)")

    tmp = tempfile.mkdtemp(prefix="sfrefresh-bench-")
    os.makedirs(os.path.join(tmp, "body"))
    measure = build_measure(tmp)
    nginx, url = start_nginx(tmp)
    try:
        ca = os.path.join(CERTS, "ca.pem")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SF_CLIENT_ID": CLIENT_ID,
               "URL": url, "CA": ca}
        # The system bundle with the test CA at its end: the same job, trusting 145 CAs.
        bundle = os.path.join(tmp, "bundle.pem")
        with open(bundle, "wb") as out:
            for part in (system_bundle, ca):
                with open(part, "rb") as f:
                    out.write(f.read())
        files = {}
        for name in ("sfrefresh", "bundle", "floor", "pipeline", "python"):
            files[name] = os.path.join(tmp, f"{name}.json")
        contenders = [
            ("sfrefresh", [binary, "--token-url", url, "--cacert", ca, "-q", files["sfrefresh"]]),
            ("sfrefresh SSL_CERT_FILE", [binary, "--token-url", url, "-q", files["bundle"]]),
            ("floor", [floor_bin, url, ca, files["floor"]]),
            ("curl+jq+mv", ["sh", "-c", PIPELINE]),
            ("python urllib", [sys.executable, os.path.join(ROOT, "bench", "refresh.py"), url, ca,
                               files["python"]]),
            ("curl alone", ["curl", "-sS", "--fail", "--cacert", ca, "-o", "/dev/null",
                            "-d", "grant_type=refresh_token",
                            "-d", "refresh_token=" + TOKEN["refresh_token"],
                            "-d", "client_id=" + CLIENT_ID, url]),
        ]
        envs = {name: dict(env) for name, _ in contenders}
        envs["curl+jq+mv"]["TOK"] = files["pipeline"]
        envs["sfrefresh SSL_CERT_FILE"]["SSL_CERT_FILE"] = bundle

        def reset():
            for path in files.values():
                with open(path, "w") as f:
                    json.dump(TOKEN, f, indent=2)
                    f.write("\n")

        # One checked run each: every contender really refreshes its file.
        reset()
        for name, argv in contenders:
            run_once(measure, argv, envs[name])
        for path in files.values():
            with open(path) as f:
                assert json.load(f)["access_token"] == json.loads(ANSWER)["access_token"], path

        times = {name: [] for name, _ in contenders}
        rss = {name: [] for name, _ in contenders}
        for i in range(args.runs):
            reset()
            order = balanced(contenders, i)
            for name, argv in order:
                wall, peak = run_once(measure, argv, envs[name])
                times[name].append(wall)
                rss[name].append(peak)

        # The fleet: one directory of token files, three ways, interleaved.
        fleet_dir = os.path.join(tmp, "fleet")
        single = f"{binary} --token-url {url} --cacert {ca} -q"
        fleet = [
            ("fleet", [binary, "--token-url", url, "--cacert", ca, "-q", "--jobs", "8", fleet_dir]),
            ("xargs -P 8", ["sh", "-c", f"ls -d {fleet_dir}/*.json | xargs -P 8 -n 1 {single}"]),
            ("shell loop", ["sh", "-c", f"for f in {fleet_dir}/*.json; do {single} \"$f\" || exit 1; done"]),
        ]
        fleet_times = {name: [] for name, _ in fleet}
        fleet_rss = {name: [] for name, _ in fleet}
        for i in range(args.fleet_runs):
            order = balanced(fleet, i)
            for name, argv in order:
                make_tokens(fleet_dir, args.fleet_files)
                wall, peak = run_once(measure, argv, env)
                fleet_times[name].append(wall)
                fleet_rss[name].append(peak)
                refreshed = sum(1 for n in os.listdir(fleet_dir) if n.endswith(".json"))
                with open(os.path.join(fleet_dir, "org0000.json")) as f:
                    assert json.load(f)["access_token"] == json.loads(ANSWER)["access_token"]
                assert refreshed == args.fleet_files, (name, refreshed)

        etcd_m = etcd_bench.run(binary, url, ca, measure, run_once, balanced, free_port, TOKEN,
                                ANSWER, os.path.join(tmp, "etcd-requests.log"), args.etcd_runs,
                                args.fleet_files)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(timeout=5)
        except subprocess.TimeoutExpired:
            nginx.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    size = os.path.getsize(binary)
    base = statistics.median(times["sfrefresh"])
    load = os.getloadavg()[0]
    print(f"sfrefresh bench, {args.runs} interleaved runs each, {time.strftime('%Y-%m-%d')}, "
          f"{os.cpu_count()} cores, load {load:.2f}; binary {binary} = {size} bytes "
          f"({size / 1048576:.2f} MiB)")
    print()
    print("| contender | median wall | peak RSS | ratio to sfrefresh |")
    print("|---|---|---|---|")
    for name, _ in contenders:
        med = statistics.median(times[name])
        print(f"| {name} | {med * 1000:.2f} ms | {max(rss[name]) / 1024:.2f} MiB | {med / base:.2f}x |")
    print()
    print(f"fleet: {args.fleet_files} token files in one directory, {args.fleet_runs} "
          "interleaved runs each")
    print()
    fleet_base = statistics.median(fleet_times["fleet"])
    print("| contender | median wall | per file | peak RSS | ratio to the fleet run |")
    print("|---|---|---|---|---|")
    for name, _ in fleet:
        med = statistics.median(fleet_times[name])
        print(f"| {name} | {med:.2f} s | {med / args.fleet_files * 1000:.2f} ms | "
              f"{max(fleet_rss[name]) / 1024:.2f} MiB | {med / fleet_base:.2f}x |")
    print()
    measured = {name: statistics.median(times[name]) for name, _ in contenders}
    measured.update({name: statistics.median(fleet_times[name]) for name, _ in fleet})
    measured["rss"] = max(rss["sfrefresh"]) / 1024
    measured["fleet rss"] = max(fleet_rss["fleet"]) / 1024
    measured["size"] = size
    etcd_bench.report(etcd_m, args.etcd_runs, args.fleet_files)
    measured.update(etcd_m)
    checks = budgets(measured)
    for text, ok in checks:
        print(("ok      " if ok else "MISSED  ") + text)
    sys.exit(0 if all(ok for _, ok in checks) else 1)


if __name__ == "__main__":
    main()
