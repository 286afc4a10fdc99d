#!/usr/bin/env python3
"""Starts Debian's squid as a forward proxy on 127.0.0.1 that requires Basic auth.

Usage: squid_server.py USER PASSWORD

A new temporary directory, removed on exit, receives squid.conf, the htpasswd file, the
pid file and the logs. squid listens on a free loopback port (it refuses port 0, so this
picks one, and another if squid cannot bind it), allows requests and CONNECT only to
127.0.0.1 and localhost (by name: no DNS lookup ever), and only with USER:PASSWORD. Once
it accepts connections this prints one JSON line:

  {"port": ..., "url": "http://127.0.0.1:PORT", "user": ..., "password": ...,
   "access_log": ".../access.log", "cache_log": ".../cache.log", "version": "5.7"}

and stays up until stdin reaches end of file (the test process went away) or it gets
SIGTERM/SIGINT; then it kills squid. Exit status 3 means squid is not installed.
As root, squid drops privileges to the `proxy` user, which is given the directory.

The access log has one line per request: time, elapsed ms, client, result/status, bytes,
method, URL (host:port for CONNECT), user name (as sent, even when refused; "-" without
credentials), hierarchy/peer.
"""

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from launcher import die_with_parent, wait_for_eof_or_signal

SQUID_CANDIDATES = ["/usr/sbin/squid", "squid"]
STARTUP_TIMEOUT = 15.0


def find_squid():
    for c in SQUID_CANDIDATES:
        path = shutil.which(c)
        if path:
            return path
    return None


def apr1(password):
    """An htpasswd ($apr1$) hash, as basic_ncsa_auth reads it, without apache2-utils."""
    out = subprocess.run(
        ["openssl", "passwd", "-apr1", "-stdin"],
        input=password.encode(),
        capture_output=True,
        check=True,
    )
    return out.stdout.decode().strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(d, htpasswd, port):
    return f"""\
# Self-contained: nothing from /etc/squid, everything under {d}.
http_port 127.0.0.1:{port}
visible_hostname sfrefresh-interop
pid_filename {d}/squid.pid
cache_log {d}/cache.log
cache_store_log none
logfile_rotate 0
buffered_logs off
coredump_dir {d}
netdb_filename none
pinger_enable off
cache deny all
shutdown_lifetime 0 seconds
# %un: the user name sent (also on a 407), "-" when none was.
logformat interop %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %un %Sh/%<a
access_log stdio:{d}/access.log interop

auth_param basic program /usr/lib/squid/basic_ncsa_auth {htpasswd}
auth_param basic children 2 startup=1 idle=1
auth_param basic realm sfrefresh-interop
auth_param basic credentialsttl 1 second

# By name as written in the request, -n: no DNS lookup, ever (none is needed or wanted).
acl to_loopback dstdomain -n 127.0.0.1 localhost
acl authed proxy_auth REQUIRED
http_access deny !to_loopback
http_access allow authed
http_access deny all
"""


def start(squid, d, conf):
    """Starts squid on a fresh log, as root handing `d` to the proxy user first."""
    for name in ("access.log", "cache.log"):
        open(os.path.join(d, name), "w").close()
    if os.geteuid() == 0:
        # squid refuses to keep running as root: it switches to cache_effective_user
        # (proxy), which must be able to write its logs and read the htpasswd file.
        pw = pwd.getpwnam("proxy")
        os.chmod(d, 0o755)
        for name in [""] + os.listdir(d):
            os.chown(os.path.join(d, name), pw.pw_uid, pw.pw_gid)
    # -N: stay in the foreground, one process; -n: our own service name, so the shared
    # memory and IPC names of parallel instances cannot clash.
    return subprocess.Popen(
        [squid, "-N", "-f", conf, "-n", f"sfrefresh{os.getpid()}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(d, "squid.stderr"), "w"),
        preexec_fn=die_with_parent,
    )


def wait_until_accepting(proc, cache_log, port):
    """'ok' once squid logs that it accepts connections on `port`; 'port taken' if the
    port went to someone else meanwhile; otherwise why it failed."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        log = open(cache_log).read()
        if "Accepting HTTP Socket connections at " in log and f"local=127.0.0.1:{port} " in log:
            return "ok"
        if "Address already in use" in log:
            return "port taken"
        if proc.poll() is not None:
            return f"exit status {proc.returncode}"
        if time.monotonic() > deadline:
            return f"not accepting after {STARTUP_TIMEOUT:.0f} s"
        time.sleep(0.02)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    user, password = sys.argv[1], sys.argv[2]
    squid = find_squid()
    if squid is None:
        print("squid_server.py: squid is not installed", file=sys.stderr)
        sys.exit(3)
    d = tempfile.mkdtemp(prefix="sfrefresh-squid-")
    try:
        serve(squid, d, user, password)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def serve(squid, d, user, password):

    htpasswd = os.path.join(d, "htpasswd")
    with open(htpasswd, "w") as f:
        f.write(f"{user}:{apr1(password)}\n")
    conf = os.path.join(d, "squid.conf")
    cache_log = os.path.join(d, "cache.log")
    version = subprocess.run([squid, "-v"], capture_output=True, text=True).stdout
    version = re.search(r"Version (\S+)", version).group(1)
    for attempt in range(5):
        port = free_port()
        with open(conf, "w") as f:
            f.write(config(d, htpasswd, port))
        proc = start(squid, d, conf)
        status = wait_until_accepting(proc, cache_log, port)
        if status == "ok":
            break
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if status != "port taken":
            tail = open(cache_log).read()[-2000:] + open(os.path.join(d, "squid.stderr")).read()
            print(f"squid_server.py: squid did not start ({status}):\n{tail}", file=sys.stderr)
            sys.exit(1)
    else:
        print("squid_server.py: no free port after 5 tries", file=sys.stderr)
        sys.exit(1)

    print(json.dumps({
        "port": port,
        "url": f"http://127.0.0.1:{port}",
        "user": user,
        "password": password,
        "access_log": os.path.join(d, "access.log"),
        "cache_log": cache_log,
        "pid": proc.pid,
        "version": version,
    }), flush=True)
    wait_for_eof_or_signal(proc)
    if proc.poll() is None:
        proc.kill()
    proc.wait()


if __name__ == "__main__":
    main()
