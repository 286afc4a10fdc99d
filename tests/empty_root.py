"""make empty-root-test: the static binary refreshes a token inside an empty root.

A temporary directory holding only the binary, the test CA and a token file becomes
the root (chroot; through `unshare -r` when not root): no /etc, no libc, no CA store,
no /dev. A TLS token server runs on 127.0.0.1 with the test certificate (it has an
IP SAN, since there is no /etc/hosts to resolve localhost). Checked: exit codes,
the refreshed file, what the server received, no litter, and that the built-in roots
(no --cacert) reject the test CA cleanly inside the empty root too.
"""
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS = os.path.join(HERE, "certs")
received = []


class TokenHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        received.append((self.path, dict(urllib.parse.parse_qsl(body)), self.headers.get("User-Agent")))
        answer = json.dumps({
            "access_token": "00Droot!AQ.fresh",
            "refresh_token": "5Aep861.rotated",
            "instance_url": "https://root.my.salesforce.com",
            "issued_at": "1708058728442",
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok      {name}")
    else:
        failed += 1
        print(f"FAILED  {name}: {detail}")


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "dist/sfrefresh")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/services/oauth2/token"

    root = tempfile.mkdtemp(prefix="sfrefresh-root-")
    try:
        shutil.copy(binary, os.path.join(root, "sfrefresh"))
        shutil.copy(os.path.join(CERTS, "ca.pem"), os.path.join(root, "ca.pem"))
        token = {"access_token": "00Droot!AQ.old", "refresh_token": "5Aep861.original",
                 "id": "https://login.salesforce.com/id/00Droot/005root", "issued_at": "1"}
        with open(os.path.join(root, "tok.json"), "w") as f:
            json.dump(token, f)
        os.chmod(os.path.join(root, "tok.json"), 0o600)
        check("the root holds only the binary, the CA and the token file",
              sorted(os.listdir(root)) == ["ca.pem", "sfrefresh", "tok.json"], os.listdir(root))

        path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        chroot, unshare = shutil.which("chroot", path=path), shutil.which("unshare", path=path)
        prefix = [chroot, root] if os.geteuid() == 0 else [unshare, "-r", chroot, root]
        env = {"SF_CLIENT_ID": "3MVG9.root"}  # nothing else: no PATH, no HOME, no SSL_CERT_FILE

        def sfrefresh(*args):
            return subprocess.run([*prefix, "/sfrefresh", *args], env=env, capture_output=True,
                                  text=True, timeout=60)

        out = sfrefresh("--token-url", url, "--cacert", "/ca.pem", "/tok.json")
        check("refresh exits 0", out.returncode == 0, out.stderr)
        check("status line on stderr",
              out.stderr == "sfrefresh: refreshed token for https://root.my.salesforce.com "
                            "(refresh token rotated)\n", out.stderr)
        with open(os.path.join(root, "tok.json")) as f:
            text = f.read()
        saved = json.loads(text)
        check("file refreshed and rotated token kept",
              saved["access_token"] == "00Droot!AQ.fresh" and saved["refresh_token"] == "5Aep861.rotated",
              text)
        check("pretty JSON with trailing newline", text.startswith('{\n  "access_token"') and text.endswith("}\n"))
        check("permissions kept", os.stat(os.path.join(root, "tok.json")).st_mode & 0o777 == 0o600)
        check("server got the grant", received and received[0][1] == {
            "grant_type": "refresh_token", "refresh_token": "5Aep861.original", "client_id": "3MVG9.root"},
            received)
        check("no litter in the root", sorted(os.listdir(root)) == ["ca.pem", "sfrefresh", "tok.json"],
              os.listdir(root))

        out = sfrefresh("--token-url", url, "--print", "token", "-q", "/tok.json")
        check("built-in Mozilla roots work without /etc/ssl and reject the test CA (exit 4)",
              out.returncode == 4 and "not signed by a trusted CA" in out.stderr, out.stderr)

        out = sfrefresh("--token-url", url, "--cacert", "/ca.pem", "--if-older-than", "1h",
                        "--print", "token", "-q", "/tok.json")
        check("--print token inside the empty root", out.returncode == 0 and out.stdout == "00Droot!AQ.fresh\n",
              out.stdout + out.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        server.shutdown()
    print(f"empty-root: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
