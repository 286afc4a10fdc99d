"""make empty-root-test: the static binary refreshes a token inside an empty root.

A temporary directory holding only the binary, the test CA and a token file becomes
the root (chroot; through `unshare -r` when not root): no /etc, no libc, no CA store,
no /dev. The fake Salesforce (examples/fake_salesforce.rs) runs on 127.0.0.1 over TLS
with the test certificate (it has an IP SAN, since there is no /etc/hosts to resolve
localhost) and rotates refresh tokens. Checked: exit codes, the refreshed file, what
the server received, no litter, and that the built-in roots (no --cacert) reject the
test CA cleanly inside the empty root too.

For a binary of another architecture, SFREFRESH_TEST_RUNNER names a static qemu-user
emulator (qemu-aarch64-static): it is copied into the root as /qemu, itself static,
and runs /sfrefresh there (no binfmt setup needed).

Usage: empty_root.py [SFREFRESH [FAKE_SALESFORCE]]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from harness import CA, Checks, FakeSalesforce, program_from


def chroot_prefix(root, userspec=None):
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
    chroot, unshare = shutil.which("chroot", path=path), shutil.which("unshare", path=path)
    spec = [f"--userspec={userspec}"] if userspec else []
    return [chroot, *spec, root] if os.geteuid() == 0 else [unshare, "-r", chroot, root]


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "dist/sfrefresh")
    server = FakeSalesforce(program_from(sys.argv), "3MVG9.root", "5Aep861.original",
                            extra=["--instance-url", "https://test.my.salesforce.com"])
    c = Checks("empty-root")
    root = tempfile.mkdtemp(prefix="sfrefresh-root-")
    try:
        shutil.copy(binary, os.path.join(root, "sfrefresh"))
        shutil.copy(CA, os.path.join(root, "ca.pem"))
        token = {"access_token": "00Droot!AQ.old", "refresh_token": "5Aep861.original",
                 "id": "https://login.salesforce.com/id/00Droot/005root", "issued_at": "1"}
        with open(os.path.join(root, "tok.json"), "w") as f:
            json.dump(token, f)
        os.chmod(os.path.join(root, "tok.json"), 0o600)
        listing = ["ca.pem", "sfrefresh", "tok.json"]
        start = ["/sfrefresh"]
        runner = os.environ.get("SFREFRESH_TEST_RUNNER", "").split()
        if runner:
            emulator = shutil.which(runner[0])
            if emulator is None:
                sys.exit(f"empty-root: the emulator {runner[0]} is not installed")
            shutil.copy(emulator, os.path.join(root, "qemu"))
            listing = sorted(listing + ["qemu"])
            start = ["/qemu", *runner[1:], "/sfrefresh"]
        c.check("the root holds only the binary (and its emulator), the CA and the token file",
                sorted(os.listdir(root)) == listing, os.listdir(root))

        env = {"SF_CLIENT_ID": "3MVG9.root"}  # nothing else: no PATH, no HOME, no SSL_CERT_FILE

        def sfrefresh(*args):
            return subprocess.run([*chroot_prefix(root), *start, *args], env=env,
                                  capture_output=True, text=True, timeout=60)

        out = sfrefresh("--token-url", server.url, "--cacert", "/ca.pem", "/tok.json")
        c.check("refresh exits 0", out.returncode == 0, out.stderr)
        c.check("status line on stderr",
                out.stderr == "sfrefresh: refreshed token for https://test.my.salesforce.com "
                              "(refresh token rotated)\n", out.stderr)
        with open(os.path.join(root, "tok.json")) as f:
            text = f.read()
        saved = json.loads(text)
        c.check("file refreshed and rotated token kept",
                saved["access_token"] == server.current_access_token()
                and saved["refresh_token"] == server.current_refresh_token() != "5Aep861.original",
                text)
        c.check("pretty JSON with trailing newline",
                text.startswith('{\n  "access_token"') and text.endswith("}\n"))
        c.check("permissions kept", os.stat(os.path.join(root, "tok.json")).st_mode & 0o777 == 0o600)
        posts = server.posts()
        c.check("server got the grant", posts and posts[0].form == {
            "grant_type": "refresh_token", "refresh_token": "5Aep861.original", "client_id": "3MVG9.root"},
            posts)
        c.check("no litter in the root", sorted(os.listdir(root)) == listing, os.listdir(root))

        out = sfrefresh("--token-url", server.url, "--print", "token", "-q", "/tok.json")
        c.check("built-in Mozilla roots work without /etc/ssl and reject the test CA (exit 4)",
                out.returncode == 4 and "not signed by a trusted CA" in out.stderr, out.stderr)

        out = sfrefresh("--token-url", server.url, "--cacert", "/ca.pem", "--if-older-than", "1h",
                        "--print", "token", "-q", "/tok.json")
        c.check("--print token inside the empty root",
                out.returncode == 0 and out.stdout == server.current_access_token() + "\n",
                out.stdout + out.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        server.stop()
    c.finish()


if __name__ == "__main__":
    main()
