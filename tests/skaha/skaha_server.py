#!/usr/bin/env python3
"""A loopback stand-in for CANFAR's Skaha session API (research/platform-apis.md §1), for the
skaha adapter's tests: its public calls, its validation, a clock-driven session life and faults
that the test switches on.

  skaha_server.py PORTFILE [--token T] [--hosts H1,H2] [--pending S] [--run S] [--ttl S]
                  [--terminating S] [--max-sessions N] [--images I1,I2]

Listens on 127.0.0.1, an OS-chosen port written to PORTFILE. The API is under /skaha:
  POST   /skaha/v1/session?name&image&type&cores&ram&cmd&args&env...   -> 200 text/plain "<id>\\n"
  GET    /skaha/v1/session[?type=T][&status=S]                           -> the caller's sessions
  GET    /skaha/v1/session/{id}[?view=logs]                              -> one session, or its log
  DELETE /skaha/v1/session/{id}                                          -> 200, always
  GET    /skaha/v1/image?type=T                                          -> [{"id", "types", "digest"}]
Every API call needs "Authorization: Bearer T" (else 401 "Unauthorized", text/plain).

A session is Pending for --pending seconds, Running for --run seconds, then Completed (Failed
when its image or cmd holds "fail"); --ttl seconds after it ended it is gone (404). DELETE makes
it Terminating for --terminating seconds, then gone. Non-headless types count against
--max-sessions Pending/Running sessions per user (400 "User u has reached the maximum of N
active sessions.").

Test-only endpoints (no token):
  POST /_control  JSON, any of: {"fail_503": N}  the next N API calls answer 503, Retry-After: 1
                                {"slow": N, "slow_s": S}  the next N API calls answer S seconds late
                                {"drop_post": N}  the next N POSTs create the session, then close
                                                  the connection without a reply
                                {"slow_post": N, "slow_s": S}  the next N POSTs create the session
                                                  and answer S seconds late
                                {"vocab": "new"|"old"|"error"}  old: Succeeded and
                                    "Failed (DeadlineExceeded)"; error: Succeeded and Error
                                {"token": T}  the token now accepted (the old one is refused)
                                {"max_sessions": N, "pending_s": S, "run_s": S, "ttl_s": S}
  GET  /_state    JSON: {"sessions": [every session ever, deleted and gone ones too, with
                  "state"], "posts": {name: POSTs that created a session of that name},
                  "calls": {"METHOD route": n}, "server_s": seconds spent answering,
                  "token_in_url": n, "faults": what is left of them}
"""
import argparse
import json
import os
import random
import re
import socket
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TYPES = ["carta", "contributed", "desktop", "notebook", "headless", "desktop-app", "firefly"]
CORES = [1, 2, 4, 8, 16]
RAM = [1, 2, 4, 8, 16, 32, 64]
USER = "u"

lock = threading.Lock()
cfg = {}
sessions = {}   # id -> dict
posts = {}      # name -> POSTs that created a session
calls = {}      # "METHOD route" -> count
faults = {"fail_503": 0, "slow": 0, "slow_s": 0.0, "drop_post": 0, "slow_post": 0, "vocab": "new"}
stats = {"server_s": 0.0, "token_in_url": 0}


def now():
    return time.monotonic()


def state_of(s, t):
    """(status in the new vocabulary, or "gone")."""
    if s["deleted_at"] is not None:
        return "Terminating" if t - s["deleted_at"] < cfg["terminating_s"] else "gone"
    age = t - s["created_at"]
    if age < s["pending_s"]:
        return "Pending"
    if age < s["pending_s"] + s["run_s"]:
        return "Running"
    if t - (s["created_at"] + s["pending_s"] + s["run_s"]) > cfg["ttl_s"]:
        return "gone"
    return "Failed" if s["fails"] else "Completed"


def shown(status):
    v = faults["vocab"]
    if v in ("old", "error") and status == "Completed":
        return "Succeeded"
    if status == "Failed":
        return {"old": "Failed (DeadlineExceeded)", "error": "Error"}.get(v, "Failed")
    return status


def as_json(s, t):
    return {"id": s["id"], "userid": USER, "runAsUID": "1000", "runAsGID": "1000", "supplementalGroups": [1000],
            "appid": "<none>", "image": s["image"], "type": s["type"], "status": shown(state_of(s, t)),
            "name": s["name"], "startTime": "2026-01-01T00:00:00Z", "expiryTime": "2026-01-15T00:00:00Z",
            "connectURL": "", "requestedRAM": "%dG" % s["ram"], "requestedCPUCores": str(s["cores"]),
            "requestedGPUCores": "0", "ramInUse": "<none>", "cpuCoresInUse": "<none>"}


def log_of(s):
    lines = ["starting %s (session %s)" % (s["image"], s["id"])]
    lines += ["step %d of 100: working on chunk %d" % (i, i * 7) for i in range(1, 101)]
    if s["fails"]:
        lines.append("ERROR: calibration diverged, exit code 3")
    else:
        lines.append("done")
    return "\n".join(lines) + "\n"


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
        self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def handle_any(self):
        t0 = now()
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with lock:
                stats["server_s"] += now() - t0

    def route(self):
        u = urlparse(self.path)
        q = parse_qs(u.query, keep_blank_values=True)
        n = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(n).decode() if n else ""
        if u.path == "/_control" and self.command == "POST":
            return self.control()
        if u.path == "/_state" and self.command == "GET":
            return self.state()
        parts = u.path.strip("/").split("/")
        if parts[:2] != ["skaha", "v1"] or len(parts) < 3:
            return self.answer(404, "no route " + u.path)
        route = "/".join(parts[2:3] + (["{id}"] if len(parts) > 3 else []))
        with lock:
            key = "%s %s" % (self.command, route)
            calls[key] = calls.get(key, 0) + 1
            if cfg["token"] and cfg["token"] in self.path:
                stats["token_in_url"] += 1
            busy = faults["fail_503"] > 0
            if busy:
                faults["fail_503"] -= 1
            slow = 0.0
            if faults["slow"] > 0:
                faults["slow"] -= 1
                slow = faults["slow_s"]
        if busy:
            return self.answer(503, "Service busy, try again later", headers=[("Retry-After", "1")])
        if self.headers.get("Authorization") != "Bearer " + cfg["token"]:
            return self.answer(401, "Unauthorized")
        if parts[2] == "session" and len(parts) == 3 and self.command == "POST":
            return self.create(q, slow)
        if slow:
            time.sleep(slow)
        if parts[2] == "session" and len(parts) == 3 and self.command == "GET":
            return self.list(q)
        if parts[2] == "session" and len(parts) == 4 and self.command == "GET":
            return self.get(parts[3], q)
        if parts[2] == "session" and len(parts) == 4 and self.command == "DELETE":
            with lock:
                s = sessions.get(parts[3])
                if s and s["deleted_at"] is None and state_of(s, now()) != "gone":
                    s["deleted_at"] = now()
            return self.answer(200, "")
        if parts[2] == "image" and self.command == "GET":
            ty = q.get("type", ["headless"])[0].lower()
            if ty not in TYPES:
                return self.answer(400, "unknown type: " + ty)
            return self.answer(200, json.dumps([{"id": i, "types": [ty], "digest": "sha256:" + "0" * 64}
                                                for i in cfg["images"]]), "application/json")
        return self.answer(404, "no route " + u.path)

    def create(self, q, slow):
        one = {k: v[0] for k, v in q.items()}
        name = one.get("name", "")
        if not re.fullmatch(r"[A-Za-z0-9\-]+", name):
            return self.answer(400, "invalid session name: %r (must match [A-Za-z0-9\\-]+)" % name)
        image = one.get("image", "")
        if not image:
            return self.answer(400, "missing parameter: image")
        if not any(image.startswith(h + "/") for h in cfg["hosts"]):
            return self.answer(400, "session image '%s' must come from one of %s" % (image, cfg["hosts"]))
        ty = one.get("type", "headless").lower()
        if ty not in TYPES:
            return self.answer(400, "Invalid session type: " + ty)
        try:
            cores = int(float(one.get("cores", "2")))
            ram = int(float(one.get("ram", "8")))
        except ValueError:
            return self.answer(400, "cores and ram must be numbers")
        if cores not in CORES:
            return self.answer(400, "cores %d not one of %s" % (cores, CORES))
        if ram not in RAM:
            return self.answer(400, "ram %d not one of %s" % (ram, RAM))
        for k in ("cmd", "args"):
            if '"' in one.get(k, "") or "\n" in one.get(k, ""):
                return self.answer(500, "could not parse the job YAML")  # what pasting them in does
        env = [e.split("=") for e in q.get("env", [])]
        env = {kv[0]: kv[1] for kv in env if len(kv) == 2}  # Skaha drops "K=V=W" silently
        with lock:
            t = now()
            if ty != "headless":
                active = sum(1 for s in sessions.values() if s["type"] not in ("headless", "desktop-app")
                             and state_of(s, t) in ("Pending", "Running"))
                if active >= cfg["max_sessions"]:
                    return self.answer(400, "User %s has reached the maximum of %d active sessions."
                                       % (USER, cfg["max_sessions"]))
            sid = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))
            while sid in sessions:
                sid = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))
            sessions[sid] = {"id": sid, "name": name.lower()[:63], "image": image, "type": ty, "cores": cores,
                             "ram": ram, "cmd": one.get("cmd", ""), "args": one.get("args", ""), "env": env,
                             "fails": "fail" in image or "fail" in one.get("cmd", ""),
                             "created_at": t, "pending_s": cfg["pending_s"], "run_s": cfg["run_s"],
                             "deleted_at": None}
            posts[name.lower()] = posts.get(name.lower(), 0) + 1
            drop = faults["drop_post"] > 0
            if drop:
                faults["drop_post"] -= 1
            elif faults["slow_post"] > 0:
                faults["slow_post"] -= 1
                slow = faults["slow_s"]
        if slow:
            time.sleep(slow)
        if drop:
            return self.drop()
        return self.answer(200, sid + "\n")

    def list(self, q):
        ty = q.get("type", [""])[0].lower()
        st = q.get("status", [""])[0].lower()
        with lock:
            t = now()
            out = [as_json(s, t) for s in sessions.values() if state_of(s, t) != "gone"]
        out = [s for s in out if (not ty or s["type"] == ty) and (not st or s["status"].lower() == st)]
        return self.answer(200, json.dumps(out), "application/json")

    def get(self, sid, q):
        with lock:
            s = sessions.get(sid)
            t = now()
            if s is None or state_of(s, t) == "gone":
                return self.answer(404, "session %s not found" % sid)
            body = as_json(s, t)
            log = log_of(s)
        if q.get("view", [""])[0] == "logs":
            return self.answer(200, log)
        return self.answer(200, json.dumps(body), "application/json")

    def control(self):
        body = json.loads(self.body or "{}")
        with lock:
            for k, v in body.items():
                if k in faults:
                    faults[k] = v
                elif k in ("token", "max_sessions", "pending_s", "run_s", "ttl_s", "terminating_s"):
                    cfg[k] = v
                else:
                    return self.answer(400, "unknown control " + k)
        return self.answer(200, "ok")

    def state(self):
        with lock:
            t = now()
            out = {"sessions": [{"id": s["id"], "name": s["name"], "type": s["type"], "image": s["image"],
                                 "cmd": s["cmd"], "args": s["args"], "env": s["env"], "cores": s["cores"],
                                 "ram": s["ram"], "state": state_of(s, t), "deleted": s["deleted_at"] is not None}
                                for s in sessions.values()],
                   "posts": posts, "calls": calls, "server_s": stats["server_s"],
                   "token_in_url": stats["token_in_url"], "faults": dict(faults)}
        return self.answer(200, json.dumps(out), "application/json")

    do_GET = do_POST = do_DELETE = do_PUT = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    p = argparse.ArgumentParser()
    p.add_argument("portfile")
    p.add_argument("--token", default="tok")
    p.add_argument("--hosts", default="images.canfar.net")
    p.add_argument("--images", default="images.canfar.net/skaha/astroml:24.03")
    p.add_argument("--pending", type=float, default=0.3)
    p.add_argument("--run", type=float, default=0.5)
    p.add_argument("--ttl", type=float, default=3600)
    p.add_argument("--terminating", type=float, default=0.2)
    p.add_argument("--max-sessions", type=int, default=5)
    a = p.parse_args()
    cfg.update({"token": a.token, "hosts": a.hosts.split(","), "images": a.images.split(","),
                "pending_s": a.pending, "run_s": a.run, "ttl_s": a.ttl, "terminating_s": a.terminating,
                "max_sessions": a.max_sessions})
    server = Server(("127.0.0.1", 0), Handler)
    with open(a.portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(a.portfile + ".tmp", a.portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
