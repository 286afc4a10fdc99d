"""make bench, the etcd rows (docs/etcd.md, docs/benchmarks.md "etcd"): a local
3-member etcd cluster (Debian's etcd-server) beside the bench's nginx token endpoint.

- one refresh of a family in etcd against one refresh of a file, interleaved;
- writes per refresh: etcd's store revision before and after (a write is one revision);
- eight "hosts" on one stale family at once with --if-older-than: how many requests
  reach the token endpoint (nginx logs that location), and how long the eight take;
- 1,000 families under one prefix in one run (--jobs 8) against 1,000 files.

Imported by bench/run.py, which owns nginx, the launcher and the budgets.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def start_cluster(tmp, free_port):
    """Three members on loopback; returns (processes, 'h:p,h:p,h:p', etcdctl endpoints)."""
    ports = [(free_port(), free_port()) for _ in range(3)]
    initial = ",".join(f"m{i}=http://127.0.0.1:{p}" for i, (_, p) in enumerate(ports))
    procs = []
    for i, (client, peer) in enumerate(ports):
        log = open(os.path.join(tmp, f"etcd-{i}.log"), "w")
        procs.append(subprocess.Popen([
            "etcd", "--name", f"m{i}", "--data-dir", os.path.join(tmp, f"etcd-{i}"),
            "--listen-client-urls", f"http://127.0.0.1:{client}",
            "--advertise-client-urls", f"http://127.0.0.1:{client}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", initial, "--initial-cluster-state", "new",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "error",
        ], stdout=log, stderr=log))
    hosts = ",".join(f"127.0.0.1:{c}" for c, _ in ports)
    endpoints = ",".join(f"http://127.0.0.1:{c}" for c, _ in ports)
    for _ in range(300):
        if ctl(endpoints, "endpoint", "health").returncode == 0:
            return procs, hosts, endpoints
        time.sleep(0.1)
    stop(procs)
    sys.exit("bench: etcd did not start; see " + tmp)


def stop(procs):
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def ctl(endpoints, *args, stdin=None):
    return subprocess.run(["etcdctl", f"--endpoints={endpoints}", *args], input=stdin,
                          capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", ""), "ETCDCTL_API": "3"})


def revision(endpoints):
    out = ctl(endpoints, "get", "/", "--prefix", "--keys-only", "--limit", "1", "-w", "json")
    return int(json.loads(out.stdout)["header"]["revision"])


def put(endpoints, key, text):
    done = ctl(endpoints, "put", key, stdin=text)
    if done.returncode != 0:
        sys.exit(f"bench: etcdctl put {key}: {done.stderr}")


def seed_prefix(endpoints, prefix, n, text):
    """n families under prefix, in one etcdctl txn per 100 (etcd's default txn limit is
    128): no compares (an empty line), the puts, an empty line, no failure ops."""
    for start in range(0, n, 100):
        lines = []
        for i in range(start, min(n, start + 100)):
            lines.append(f"put {prefix}org{i:04} {json.dumps(text)}")
        script = "\n" + "\n".join(lines) + "\n\n\n"
        done = ctl(endpoints, "txn", stdin=script)
        if done.returncode != 0:
            sys.exit(f"bench: etcdctl txn: {done.stderr}")


def run(binary, url, ca, measure, run_once, balanced, free_port, token, answer, log_path,
        runs, families):
    """The measured numbers (medians in seconds, counts) for bench/run.py's budgets."""
    if not shutil.which("etcd") or not shutil.which("etcdctl"):
        sys.exit("bench: etcd is missing (apt-get install -y etcd-server etcd-client)")
    tmp = tempfile.mkdtemp(prefix="sfrefresh-bench-etcd-")
    procs, hosts, endpoints = start_cluster(tmp, free_port)
    text = json.dumps(token, indent=2) + "\n"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SF_CLIENT_ID": "3MVG9.bench-client"}
    m = {}
    try:
        key = "/bench/one"
        file = os.path.join(tmp, "one.json")
        one = [
            ("etcd refresh", [binary, "--token-url", url, "--cacert", ca, "-q",
                              f"etcd://{hosts}{key}"]),
            ("file refresh", [binary, "--token-url", url, "--cacert", ca, "-q", file]),
        ]
        times = {name: [] for name, _ in one}
        writes = []
        for i in range(runs):
            put(endpoints, key, text)
            with open(file, "w") as f:
                f.write(text)
            for name, argv in balanced(one, i):
                before = revision(endpoints) if name == "etcd refresh" else 0
                wall, _ = run_once(measure, argv, env)
                times[name].append(wall)
                if name == "etcd refresh":
                    writes.append(revision(endpoints) - before)
        got = json.loads(ctl(endpoints, "get", key, "--print-value-only").stdout)
        assert got["access_token"] == json.loads(answer)["access_token"], got
        m["etcd refresh"] = statistics.median(times["etcd refresh"])
        m["file refresh"] = statistics.median(times["file refresh"])
        m["etcd writes"] = max(writes)

        # Eight hosts on one stale family at once: one request, seven fresh reads.
        stale = "/bench/stale"
        eight_walls, requests = [], []
        for _ in range(max(3, runs // 10)):
            put(endpoints, stale, text)
            open(log_path, "w").close()
            argv = [binary, "--token-url", url.replace("/services/", "/etcd/services/"),
                    "--cacert", ca, "-q", "--if-older-than", "1h", f"etcd://{hosts}{stale}"]
            started = time.monotonic()
            kids = [subprocess.Popen(argv, env=env) for _ in range(8)]
            codes = [k.wait() for k in kids]
            eight_walls.append(time.monotonic() - started)
            assert codes == [0] * 8, codes
            with open(log_path) as f:
                requests.append(sum(1 for _ in f))
        m["eight hosts"] = statistics.median(eight_walls)
        m["eight hosts requests"] = max(requests)

        # 1,000 families under one prefix against 1,000 files, one run each, interleaved.
        prefix = "/bench/fleet/"
        fleet_dir = os.path.join(tmp, "fleet")
        fleet = [
            ("etcd fleet", [binary, "--token-url", url, "--cacert", ca, "-q", "--jobs", "8",
                            f"etcd://{hosts}{prefix}"]),
            ("file fleet", [binary, "--token-url", url, "--cacert", ca, "-q", "--jobs", "8",
                            fleet_dir]),
        ]
        fleet_times = {name: [] for name, _ in fleet}
        for i in range(3):
            for name, argv in balanced(fleet, i):
                if name == "etcd fleet":
                    ctl(endpoints, "del", prefix, "--prefix")
                    seed_prefix(endpoints, prefix, families, text)
                else:
                    os.makedirs(fleet_dir, exist_ok=True)
                    for n in os.listdir(fleet_dir):
                        os.remove(os.path.join(fleet_dir, n))
                    for j in range(families):
                        with open(os.path.join(fleet_dir, f"org{j:04}.json"), "w") as f:
                            f.write(text)
                wall, _ = run_once(measure, argv, env)
                fleet_times[name].append(wall)
                if name == "etcd fleet":
                    last = ctl(endpoints, "get", f"{prefix}org{families - 1:04}",
                               "--print-value-only").stdout
                    assert json.loads(last)["access_token"] == json.loads(answer)["access_token"]
        m["etcd fleet"] = statistics.median(fleet_times["etcd fleet"])
        m["file fleet"] = statistics.median(fleet_times["file fleet"])
        m["etcd families"] = families
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)
    return m


def report(m, runs, families):
    print(f"etcd: a local 3-member cluster, {runs} interleaved runs each")
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| one refresh of a family in etcd (median) | {m['etcd refresh'] * 1000:.2f} ms |")
    print(f"| one refresh of a file (median) | {m['file refresh'] * 1000:.2f} ms |")
    print(f"| etcd writes per refresh (lock, save, unlock) | {m['etcd writes']} |")
    print(f"| eight hosts on one stale family: wall (median) | {m['eight hosts'] * 1000:.0f} ms |")
    print(f"| eight hosts on one stale family: token requests | {m['eight hosts requests']} |")
    print(f"| {families} families under one prefix, --jobs 8 | {m['etcd fleet']:.2f} s "
          f"({m['etcd fleet'] / families * 1000:.2f} ms each) |")
    print(f"| {families} files in one directory, --jobs 8 | {m['file fleet']:.2f} s |")
    print()
