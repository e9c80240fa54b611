#!/usr/bin/env python3
"""A loopback HTTP server for tests/test_http.cpp: real HTTP with faults on demand.

  fault_server.py tcp PORTFILE      listen on 127.0.0.1, an OS-chosen port written to PORTFILE
  fault_server.py unix SOCKET       listen on a unix socket (as Podman's API does)

Routes (any method):
  /status/N[?message=M][&json=1][&retry_after=S]  answer N with M as text, or as {"message": M}
  /echo        answer 200 with JSON {method, path, headers (lower-case names), body}
  /slow?s=S    wait S seconds, then 200
  /flaky/KEY?fail=N   answer 503 to the first N calls with this KEY, then 200 "ok after N"
  /v2/NAME/manifests/REF   a Harbor-like registry that wants a token: without "Authorization:
      Bearer tok-123" a 401 with a Bearer challenge naming /service/token; with it, a manifest
      (config 10 bytes, layers 20 and 30) and no Docker-Content-Digest header
  /service/token   Basic ann:pw -> {"access_token": "tok-123"}; else 401
"""
import base64
import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

calls = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype="text/plain", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        parts = u.path.strip("/").split("/")
        if parts[0] == "status":
            msg = q.get("message", "")
            text = json.dumps({"message": msg}) if q.get("json") else msg
            hdrs = [("Retry-After", q["retry_after"])] if "retry_after" in q else []
            return self.answer(int(parts[1]), text, "application/json" if q.get("json") else "text/plain", hdrs)
        if parts[0] == "echo":
            return self.answer(200, json.dumps({"method": self.command, "path": self.path,
                                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                                "body": body}), "application/json")
        if parts[0] == "slow":
            time.sleep(float(q.get("s", "1")))
            return self.answer(200, "slow")
        if parts[0] == "flaky":
            with lock:
                calls[parts[1]] = calls.get(parts[1], 0) + 1
                seen = calls[parts[1]]
            fail = int(q.get("fail", "1"))
            if seen <= fail:
                return self.answer(503, "not yet")
            return self.answer(200, "ok after %d" % fail)
        if parts[0] == "v2" and len(parts) >= 4 and parts[-2] == "manifests":
            name = "/".join(parts[1:-2])
            if self.headers.get("Authorization") != "Bearer tok-123":
                realm = "http://127.0.0.1:%d/service/token" % self.server.server_address[1]
                challenge = 'Bearer realm="%s",service="harbor-registry",scope="repository:%s:pull"' % (realm, name)
                return self.answer(401, "", "application/json", [("WWW-Authenticate", challenge)])
            manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                              "digest": "sha256:" + "1" * 64, "size": 10},
                                   "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                               "digest": "sha256:" + "2" * 64, "size": 20},
                                              {"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                               "digest": "sha256:" + "3" * 64, "size": 30}]})
            return self.answer(200, manifest, "application/vnd.oci.image.manifest.v1+json")
        if parts[0] == "service" and parts[1:] == ["token"]:
            good = "Basic " + base64.b64encode(b"ann:pw").decode()
            if self.headers.get("Authorization") != good or "service=harbor-registry" not in u.query:
                return self.answer(401, json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}),
                                   "application/json")
            return self.answer(200, json.dumps({"access_token": "tok-123", "expires_in": 60}), "application/json")
        return self.answer(404, "no route " + u.path)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):  # BaseHTTPRequestHandler wants a (host, port) client address
        sock, _ = super().get_request()
        return sock, ("unix", 0)


def main():
    mode, where = sys.argv[1], sys.argv[2]
    if mode == "tcp":
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(where + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(where + ".tmp", where)
    else:
        if os.path.exists(where):
            os.unlink(where)
        server = UnixServer(where, Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
