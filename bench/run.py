"""make bench: one refresh end to end against a local HTTPS token endpoint (nginx
on loopback returning a canned Salesforce answer), sfrefresh against the ways
people do it today. Contenders are interleaved run by run; wall time and peak RSS
(from wait4) are recorded per run. Budgets are checked and reported, never timed
inside a unit test.

Usage: python3 bench/run.py [--bin dist/sfrefresh] [--runs N]
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
events {{ worker_connections 64; }}
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
        f.write(NGINX_CONF.format(tmp=tmp, port=port, certs=CERTS, answer=ANSWER))
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "dist", "sfrefresh"))
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    for tool in ("nginx", "curl", "jq"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit(f"bench: {tool} is missing (apt-get install -y nginx-light curl jq)")
    binary = os.path.abspath(args.bin)
    if not os.path.exists(binary):
        sys.exit(f"bench: {binary} is missing (run make static)")

    tmp = tempfile.mkdtemp(prefix="sfrefresh-bench-")
    os.makedirs(os.path.join(tmp, "body"))
    measure = build_measure(tmp)
    nginx, url = start_nginx(tmp)
    try:
        ca = os.path.join(CERTS, "ca.pem")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SF_CLIENT_ID": CLIENT_ID,
               "URL": url, "CA": ca}
        files = {}
        for name in ("sfrefresh", "pipeline", "python"):
            files[name] = os.path.join(tmp, f"{name}.json")
        contenders = [
            ("sfrefresh", [binary, "--token-url", url, "--cacert", ca, "-q", files["sfrefresh"]]),
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
            order = contenders[i % len(contenders):] + contenders[:i % len(contenders)]
            for name, argv in order:
                wall, peak = run_once(measure, argv, envs[name])
                times[name].append(wall)
                rss[name].append(peak)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(timeout=5)
        except subprocess.TimeoutExpired:
            nginx.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    size = os.path.getsize(binary)
    base = statistics.median(times["sfrefresh"])
    print(f"sfrefresh bench, {args.runs} interleaved runs each, {time.strftime('%Y-%m-%d')}, "
          f"{os.cpu_count()} cores; binary {binary} = {size} bytes ({size / 1048576:.2f} MiB)")
    print()
    print("| contender | median wall | peak RSS | ratio to sfrefresh |")
    print("|---|---|---|---|")
    for name, _ in contenders:
        med = statistics.median(times[name])
        print(f"| {name} | {med * 1000:.1f} ms | {max(rss[name]) / 1024:.1f} MiB | {med / base:.2f}x |")
    print()
    ratios = ", ".join(f"{name} {statistics.median(times[name]) / base:.2f}x"
                       for name, _ in contenders[1:])
    print(f"ratios to sfrefresh: {ratios}")
    pipeline = statistics.median(times["curl+jq+mv"]) / base
    floor = base / statistics.median(times["curl alone"])
    peak = max(rss["sfrefresh"]) / 1024
    checks = [
        (f"curl+jq+mv at least 5x slower than sfrefresh: {pipeline:.2f}x", pipeline >= 5),
        (f"sfrefresh no slower than curl alone: {floor:.2f} (<= 1.0)", floor <= 1.0),
        (f"sfrefresh peak RSS <= 6 MiB: {peak:.1f} MiB", peak <= 6),
        (f"binary <= 2 MiB: {size / 1048576:.2f} MiB", size <= 2 * 1048576),
    ]
    for text, ok in checks:
        print(("ok      " if ok else "MISSED  ") + text)
    sys.exit(0 if all(ok for _, ok in checks) else 1)


if __name__ == "__main__":
    main()
