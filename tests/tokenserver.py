"""A loopback HTTPS token endpoint for the script tests (empty root, recipes).

It serves the test certificate from tests/certs (valid for 127.0.0.1 and localhost),
answers POST with a Salesforce-shaped token and any GET with {"ok": true}, and
records what it received. Also a small ok/FAILED reporter ending in the plain
"N passed, N failed" line.
"""
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "certs")
CA = os.path.join(CERTS, "ca.pem")

FRESH = {
    "access_token": "00Dtest!AQ.fresh",
    "refresh_token": "5Aep861.rotated",
    "instance_url": "https://test.my.salesforce.com",
    "issued_at": None,  # filled with the current time on each answer
}


class TokenServer:
    def __init__(self):
        self.received = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                owner.received.append(("POST", self.path, form, dict(self.headers)))
                answer = dict(FRESH, issued_at=str(int(time.time() * 1000)))
                self.reply(answer)

            def do_GET(self):
                owner.received.append(("GET", self.path, {}, dict(self.headers)))
                self.reply({"ok": True})

            def reply(self, obj):
                body = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = self.base + "/services/oauth2/token"

    def posts(self):
        return [r for r in self.received if r[0] == "POST"]

    def stop(self):
        self.httpd.shutdown()


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
