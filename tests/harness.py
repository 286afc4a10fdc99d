"""Shared by the script tests (empty root, recipes).

FakeSalesforce runs the fake Salesforce of the Rust tests as a program
(examples/fake_salesforce.rs, built by `make fake-salesforce`) over TLS with the test
certificate (valid for 127.0.0.1 and localhost): a real org's behaviour, refresh token
rotation included, and a --state-file snapshot of its tokens and of every request it
received. Checks is a small ok/FAILED reporter ending in the plain "N passed, N failed"
line.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
CA = os.path.join(TESTS, "certs", "ca.pem")
DEFAULT_PROGRAM = os.path.join(ROOT, "target", "release", "examples", "fake_salesforce")


def program_from(argv):
    """The fake's path: argv[2], else $FAKE_SALESFORCE, else the release build."""
    if len(argv) > 2:
        return os.path.abspath(argv[2])
    return os.environ.get("FAKE_SALESFORCE", DEFAULT_PROGRAM)


class Request:
    """One request as the fake received it."""

    def __init__(self, raw):
        self.method, self.path = raw["method"], raw["path"]
        self.form = dict(raw["form"])
        self.headers = raw["headers"]

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def __repr__(self):
        return f"{self.method} {self.path} {self.form}"


class FakeSalesforce:
    """A fake org for one Connected App (client_id, optional client_secret) whose user
    holds refresh_token. Use as a context manager, or call stop()."""

    def __init__(self, program, client_id, refresh_token, client_secret=None, extra=()):
        if not os.access(program, os.X_OK):
            raise SystemExit(f"{program} is missing: build it with `make fake-salesforce`")
        self.dir = tempfile.mkdtemp(prefix="fake-salesforce-")
        self.state_file = os.path.join(self.dir, "state.json")
        args = [program, "--tls", "--client-id", client_id, "--refresh-token", refresh_token,
                "--state-file", self.state_file, *extra]
        if client_secret is not None:
            args += ["--client-secret", client_secret]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.base = self.proc.stdout.readline().strip()
        if not self.base:
            self.stop()
            raise SystemExit(f"{program} did not start")
        self.info = json.loads(self.proc.stdout.readline())
        self.url = self.info["token_url"]

    def state(self):
        with open(self.state_file) as f:
            return json.load(f)

    def requests(self):
        return [Request(r) for r in self.state()["requests"]]

    def posts(self):
        return [r for r in self.requests() if r.method == "POST"]

    def current_access_token(self):
        return self.state()["current_access_token"]

    def current_refresh_token(self):
        return self.state()["current_refresh_token"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Checks:
    def __init__(self, label):
        self.label, self.passed, self.failed = label, 0, 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok      {name}")
        else:
            self.failed += 1
            print(f"FAILED  {name}: {detail}")
        return ok

    def finish(self):
        print(f"{self.label}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
