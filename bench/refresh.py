"""The Python stdlib contender: the same job as sfrefresh with urllib.

Read the token file, POST the refresh_token grant over TLS, merge the answer,
write a temp file in the same directory, fsync, rename over the original.
Usage: refresh.py TOKEN_URL CA_FILE TOKEN_FILE  (client id from $SF_CLIENT_ID)
"""
import json
import os
import ssl
import sys
import tempfile
import urllib.parse
import urllib.request

url, cafile, path = sys.argv[1:4]
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
body = urllib.parse.urlencode({
    "grant_type": "refresh_token",
    "refresh_token": doc["refresh_token"],
    "client_id": os.environ["SF_CLIENT_ID"],
}).encode()
request = urllib.request.Request(url, data=body, headers={"Accept": "application/json"})
context = ssl.create_default_context(cafile=cafile)
with urllib.request.urlopen(request, context=context, timeout=30) as answer:
    doc.update(json.load(answer))
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)))
with os.fdopen(fd, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)
