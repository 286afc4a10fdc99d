#!/usr/bin/env python3
"""Starts django-oauth-toolkit (dotsite/) under gunicorn on 127.0.0.1, twice over one
sqlite database: plain http and https (with the test certificate tests/certs/server.pem,
valid for 127.0.0.1 and localhost).

Usage: dot_server.py [CLIENTS]

The database and the OIDC signing key go to a new temporary directory, removed on exit.
CLIENTS (default 1) users are created, each with two confidential applications of its
own (DOT allows one grant type per application; refresh_token works with both): one for
the password grant, so a test can get more tokens over HTTP without a browser, and one
for the authorization-code grant. Each gets a token through its real flow (Django's
test client, in process), as a token file holds it: the answer plus `issued_at` in
Salesforce's form (epoch milliseconds). The server rotates refresh tokens and revokes
the whole token family when a rotated-out refresh token is replayed.

Once both servers answer, this prints one JSON line:

  {"token_url": "http://127.0.0.1:P/o/token/", "revoke_url": ..., "userinfo_url": ...,
   "tls": {"token_url": "https://127.0.0.1:Q/o/token/", "revoke_url": ..., "userinfo_url": ...},
   "clients": [{"client_id", "client_secret", "username", "password", "token": {...},
                "authorization_code": {"client_id", "client_secret", "token"}}, ...],
   "client_id", "client_secret", "token",   (the first client's, for convenience)
   "versions": {"django-oauth-toolkit": ..., "django": ..., "gunicorn": ...},
   "startup_seconds": ...}

and stays up until stdin reaches end of file (the test process went away) or it gets
SIGTERM/SIGINT. Exit status 3 means Django, DOT or gunicorn is not installed.
"""

import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib import metadata

from launcher import die_with_parent, wait_for_eof_or_signal

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS = os.path.join(HERE, "..", "certs")
STARTUP_TIMEOUT = 30.0
SCOPE = "openid read"


def versions():
    try:
        return {
            name: metadata.version(name)
            for name in ("django-oauth-toolkit", "django", "gunicorn")
        }
    except metadata.PackageNotFoundError as e:
        print(f"dot_server.py: {e.name} is not installed", file=sys.stderr)
        sys.exit(3)


def rsa_key_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


REDIRECT_URI = "http://127.0.0.1/callback"  # never visited: the code is read from Location


def token_file(answer, flow):
    if answer.status_code != 200:
        sys.exit(f"dot_server.py: {flow} failed: {answer.status_code} {answer.content!r}")
    token = answer.json()
    token["issued_at"] = str(int(time.time() * 1000))
    return token


def setup_database(n):
    """Migrates, creates `n` users, each with a password-grant and an authorization-code
    application, and gets a token through each flow (Django's test client, in process:
    the same views and validator that gunicorn serves)."""
    import django

    django.setup()
    from urllib.parse import parse_qs, urlsplit

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client
    from oauth2_provider.models import Application

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)

    def application(user, name, grant, **extra):
        client_id, client_secret = f"interop-{name}", secrets.token_urlsafe(24)
        Application.objects.create(
            name=f"sfrefresh {name}",
            user=user,
            client_id=client_id,
            client_secret=client_secret,  # DOT keeps only its hash
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=grant,
            algorithm=Application.RS256_ALGORITHM,
            **extra,
        )
        return client_id, client_secret

    clients = []
    for i in range(n):
        username, password = f"user{i}", secrets.token_urlsafe(12)
        user = get_user_model().objects.create_user(username, password=password)
        http = Client()

        client_id, client_secret = application(user, f"password-{i}", Application.GRANT_PASSWORD)
        token = token_file(http.post("/o/token/", {
            "grant_type": "password",
            "username": username,
            "password": password,
            "scope": SCOPE,
            "client_id": client_id,
            "client_secret": client_secret,
        }), "password grant")

        code_id, code_secret = application(
            user, f"code-{i}", Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=REDIRECT_URI, skip_authorization=True,
        )
        http.force_login(user)
        consent = http.get("/o/authorize/", {
            "response_type": "code",
            "client_id": code_id,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
        })
        location = consent.headers.get("Location", "")
        code = parse_qs(urlsplit(location).query).get("code", [None])[0]
        if consent.status_code != 302 or not code:
            sys.exit(f"dot_server.py: authorize failed: {consent.status_code} {location!r}")
        code_token = token_file(http.post("/o/token/", {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": code_id,
            "client_secret": code_secret,
        }), "authorization-code grant")

        clients.append({
            "client_id": client_id,
            "client_secret": client_secret,
            "username": username,
            "password": password,
            "token": token,
            "authorization_code": {
                "client_id": code_id,
                "client_secret": code_secret,
                "token": code_token,
            },
        })
    connections.close_all()
    return clients


def listen():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    s.set_inheritable(True)
    return s


def gunicorn(sock, env, tls):
    args = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"fd://{sock.fileno()}",
        "--chdir", HERE,
        "--workers", "2",
        "--preload",
        "--graceful-timeout", "1",
        "--log-level", "warning",
    ]
    if tls:
        args += [
            "--certfile", os.path.join(CERTS, "server.pem"),
            "--keyfile", os.path.join(CERTS, "server.key"),
        ]
    return subprocess.Popen(
        args + ["dotsite.wsgi:application"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=sys.stderr,  # stdout carries the JSON line only
        pass_fds=[sock.fileno()],
        preexec_fn=die_with_parent,
    )


def wait_until_answering(url, procs, context=None):
    """The OIDC discovery document answers 200 once a worker serves requests."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        for p in procs:
            if p.poll() is not None:
                sys.exit(f"dot_server.py: gunicorn exited with {p.returncode}")
        if time.monotonic() > deadline:
            sys.exit(f"dot_server.py: {url} not answering after {STARTUP_TIMEOUT:.0f} s")
        time.sleep(0.05)


def endpoints(base):
    return {
        "token_url": f"{base}/o/token/",
        "revoke_url": f"{base}/o/revoke_token/",
        "userinfo_url": f"{base}/o/userinfo/",
        "introspect_url": f"{base}/o/introspect/",
    }


def main():
    if len(sys.argv) > 2:
        sys.exit(__doc__)
    started = time.monotonic()
    n = int(sys.argv[1]) if len(sys.argv) == 2 else 1
    found = versions()
    d = tempfile.mkdtemp(prefix="sfrefresh-dot-")
    try:
        serve(d, n, found, started)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def serve(d, n, found, started):
    key_file = os.path.join(d, "oidc.key")
    with open(key_file, "w") as f:
        f.write(rsa_key_pem())
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="dotsite.settings",
        DOT_DB=os.path.join(d, "db.sqlite3"),
        DOT_SECRET_KEY=secrets.token_urlsafe(40),
        DOT_RSA_KEY_FILE=key_file,
        PYTHONPATH=HERE,
    )
    os.environ.update(env)
    sys.path.insert(0, HERE)

    # Bind first, so the ports are ours before anything else runs; gunicorn inherits them.
    plain, tls = listen(), listen()
    procs = [gunicorn(plain, env, tls=False), gunicorn(tls, env, tls=True)]
    try:
        clients = setup_database(n)
        plain_base = f"http://127.0.0.1:{plain.getsockname()[1]}"
        tls_base = f"https://127.0.0.1:{tls.getsockname()[1]}"
        ca = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))
        discovery = "/o/.well-known/openid-configuration"
        wait_until_answering(plain_base + discovery, procs)
        wait_until_answering(tls_base + discovery, procs, ca)
        first = clients[0]
        print(json.dumps({
            **endpoints(plain_base),
            "tls": endpoints(tls_base),
            "clients": clients,
            "client_id": first["client_id"],
            "client_secret": first["client_secret"],
            "token": first["token"],
            "versions": found,
            "startup_seconds": round(time.monotonic() - started, 2),
        }), flush=True)
        wait_for_eof_or_signal(*procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()
