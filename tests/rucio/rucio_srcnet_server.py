#!/usr/bin/env python3
"""A loopback Rucio REST server and SRCNet data-management locate API for the rucio and srcnet
adapters' tests (research/platform-apis.md §4 and §5): state that changes with time and faults
the test asks for.

  rucio_srcnet_server.py PORTFILE [CONFIG_JSON]   listen on 127.0.0.1, the port written to PORTFILE

Rucio (§4): GET /auth/userpass (X-Rucio-Account/-Username/-Password -> X-Rucio-Auth-Token and
X-Rucio-Auth-Token-Expires; 401 CannotAuthenticate); every other Rucio call wants the token
(missing: 400, unknown or expired: 401). POST /rules/ -> 201 ["<32 hex>"], 409 DuplicateRule on
(scope, name, account, rse_expression, copies), 404 DataIdentifierNotFound for a DID outside
"dids"; GET /rules/{id} (404 RuleNotFound); GET /rules/?scope=&name=&account=&rse_expression=&state=
and GET /dids/{scope}/{name}/rules as JSON lines; PUT /rules/{id} {"options": {"lifetime": N}};
DELETE /rules/{id} with a JSON body (400 without). A rule is REPLICATING for "replicate_s", then
OK, or STUCK when its DID matches "stuck"; past expires_at it is gone (404). Errors carry
ExceptionClass / ExceptionMessage headers and body; a wrong Accept gets 406.

SRCNet (§5): GET /data/locate/{namespace}/{name}?sort=… with "Authorization: Bearer <bearer>"
(else 401): the RSEs with a replica — "replicas" (pattern -> RSEs) and the RSE of every OK rule
on the DID — as a list of {identifier, associated_storage_area_id, replicas, is_dataset}, or
with "locate_shape": "map" the older {RSE: [pfn, ...]}. GET /data/list: the namespaces.

Test-only: POST /_control merges a JSON object into the settings below and the faults:
fail_next N (the next N calls answer 500), drop_next_create N (the next N POST /rules/ are
performed but their reply is never sent), slow_next N with slow_s S (answer S seconds late),
revoke_tokens (every token ends now), expire_rules (every rule ends now), echo_secrets (error
messages quote the password or token they got, as a careless server might). GET /_state: every
rule ever made (deleted ones with deleted_by "delete" or "expired", lifetime_updates), the
tokens issued and call counts.
"""
import fnmatch
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

DATE = "%a, %d %b %Y %H:%M:%S UTC"
STATE_CODES = {"R": "REPLICATING", "O": "OK", "S": "STUCK", "U": "SUSPENDED", "W": "WAITING_APPROVAL", "I": "INJECT"}

cfg = {
    "account": "broker", "username": "ann", "password": "pw",
    "token_lifetime_s": 3600,        # when a token really ends
    "token_advertised_s": None,      # what X-Rucio-Auth-Token-Expires says (None: the truth)
    "replicate_s": 1.0,
    "dids": ["*"],                   # fnmatch patterns of "scope:name" that exist
    "stuck": [],                     # DIDs whose rules get STUCK instead of OK
    "bearer": "dm-token",
    "locate_shape": "list",
    "replicas": {},                  # DID pattern -> RSEs holding it already
    "echo_secrets": False,
}
faults = {"fail_next": 0, "drop_next_create": 0, "slow_next": 0, "slow_s": 0.0}
stats = {"calls": 0, "auths": 0, "unauthorized": 0, "failed": 0, "dropped": 0, "slowed": 0, "locates": 0,
         "creates": 0, "duplicates": 0, "puts": 0, "deletes": 0, "not_acceptable": 0}
tokens = {}   # token -> when it ends
issued = []   # every token ever issued
rules = {}    # id -> rule (deleted ones too)
lock = threading.Lock()


def rdate(t):
    return time.strftime(DATE, time.gmtime(t))


def matches(did, patterns):
    return any(fnmatch.fnmatchcase(did, p) for p in patterns)


def refresh(r, now):
    """The rule's state at `now`: time moves it on, expiry deletes it."""
    if r["deleted_at"] is not None:
        return
    if r["expires"] is not None and now >= r["expires"]:
        r["deleted_at"], r["deleted_by"] = now, "expired"
        return
    if r["state"] == "REPLICATING" and now - r["created"] >= cfg["replicate_s"]:
        r["locks_replicating_cnt"] = 0
        if matches(r["scope"] + ":" + r["name"], cfg["stuck"]):
            r["state"], r["locks_stuck_cnt"], r["stuck_at"] = "STUCK", 1, rdate(now)
            r["error"] = "TRANSFER_FAILED: no route from any source to " + r["rse_expression"]
        else:
            r["state"], r["locks_ok_cnt"] = "OK", 1
        r["updated"] = now


def public(r):
    keys = ["id", "subscription_id", "account", "scope", "name", "did_type", "state", "error", "rse_expression",
            "copies", "weight", "locked", "locks_ok_cnt", "locks_replicating_cnt", "locks_stuck_cnt",
            "source_replica_expression", "activity", "grouping", "notification", "stuck_at", "purge_replicas",
            "ignore_availability", "ignore_account_limit", "priority", "comments", "child_rule_id", "eol_at",
            "split_container", "meta"]
    d = {k: r.get(k) for k in keys}
    d["expires_at"] = rdate(r["expires"]) if r["expires"] is not None else None
    d["created_at"], d["updated_at"] = rdate(r["created"]), rdate(r["updated"])
    return d


def live_rules(now):
    out = []
    for r in rules.values():
        refresh(r, now)
        if r["deleted_at"] is None:
            out.append(r)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", ctype="application/json", headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # a client past its timeout has gone

    def error(self, status, cls, msg):
        msg = msg.replace("\n", " ")
        return self.answer(status, json.dumps({"ExceptionClass": cls, "ExceptionMessage": msg}),
                           "application/octet-stream", [("ExceptionClass", cls), ("ExceptionMessage", msg[:125])])

    def accepts(self, ctype):
        a = self.headers.get("Accept")
        if a is None or ctype in a or "*/*" in a:
            return True
        stats["not_acceptable"] += 1
        self.error(406, "UnsupportedRequestedContentType", "The requested content type %s is not supported" % a)
        return False

    def handle_any(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        path = u.path
        if path == "/_control":
            with lock:
                change = json.loads(body or "{}")
                if change.pop("revoke_tokens", False):
                    for t in tokens:
                        tokens[t] = 0
                if change.pop("expire_rules", False):
                    for r in live_rules(time.time()):
                        r["expires"] = time.time()
                for k, v in change.items():
                    (faults if k in faults else cfg)[k] = v
            return self.answer(200, "{}")
        if path == "/_state":
            with lock:
                now = time.time()
                live_rules(now)
                return self.answer(200, json.dumps({"rules": list(rules.values()), "tokens": issued, "stats": stats,
                                                    "now": now}))
        with lock:
            stats["calls"] += 1
            fail = faults["fail_next"] > 0
            if fail:
                faults["fail_next"] -= 1
                stats["failed"] += 1
            slow = 0.0
            if not fail and faults["slow_next"] > 0:
                faults["slow_next"] -= 1
                stats["slowed"] += 1
                slow = float(faults["slow_s"])
        if fail:
            return self.error(500, "RucioException", "An unknown exception occurred (injected)")
        if slow:
            time.sleep(slow)
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["auth", "userpass"]:
            return self.userpass()
        if parts[0] == "data":
            return self.srcnet(parts, q)
        if parts[0] in ("rules", "dids"):
            with lock:
                if not self.authorised():
                    return None
                return self.rucio(parts, q, body)
        return self.error(404, "NotFound", "no route " + path)

    def userpass(self):
        if not self.accepts("application/octet-stream"):
            return None
        user, pw = self.headers.get("X-Rucio-Username"), self.headers.get("X-Rucio-Password")
        account = self.headers.get("X-Rucio-Account") or cfg["account"]
        with lock:
            if user is None or pw is None:
                stats["unauthorized"] += 1
                return self.error(401, "CannotAuthenticate",
                                  "Cannot authenticate without passing all required arguments")
            if user != cfg["username"] or pw != cfg["password"] or account != cfg["account"]:
                stats["unauthorized"] += 1
                said = " (password '%s')" % pw if cfg["echo_secrets"] else ""
                return self.error(401, "CannotAuthenticate",
                                  "Cannot authenticate to account %s with given credentials%s" % (account, said))
            token = "%s-%s-stepq-%s" % (account, user, uuid.uuid4().hex)
            now = time.time()
            tokens[token] = now + cfg["token_lifetime_s"]
            issued.append(token)
            stats["auths"] += 1
            told = cfg["token_advertised_s"] if cfg["token_advertised_s"] is not None else cfg["token_lifetime_s"]
        return self.answer(200, b"", "application/octet-stream",
                           [("X-Rucio-Auth-Token", token), ("X-Rucio-Auth-Token-Expires", rdate(now + told)),
                            ("X-Rucio-Auth-Account", account)])

    def authorised(self):
        t = self.headers.get("X-Rucio-Auth-Token")
        if t is None:
            self.error(400, "ValueError", "Token must be set.")
            return False
        ends = tokens.get(t)
        if ends is None or time.time() >= ends:
            stats["unauthorized"] += 1
            said = " (%s)" % t if cfg["echo_secrets"] else ""
            why = "Token found but expired since %s%s." % (rdate(ends), said) if ends is not None else \
                "Cannot authenticate with given credentials%s" % said
            self.error(401, "CannotAuthenticate", why)
            return False
        return True

    def rucio(self, parts, q, body):
        now = time.time()
        if parts[0] == "dids":  # /dids/{scope}/{name}/rules
            if len(parts) < 4 or parts[-1] != "rules":
                return self.error(404, "NotFound", "no route")
            scope, name = parts[1], "/".join(parts[2:-1])
            if not self.accepts("application/x-json-stream"):
                return None
            if not matches(scope + ":" + name, cfg["dids"]):
                return self.error(404, "DataIdentifierNotFound", "Data identifier '%s:%s' not found" % (scope, name))
            lines = [json.dumps(public(r)) for r in live_rules(now) if r["scope"] == scope and r["name"] == name]
            return self.answer(200, "".join(x + "\n" for x in lines), "application/x-json-stream")
        rule_id = parts[1] if len(parts) > 1 and parts[1] else None
        if rule_id is None and self.command == "POST":
            return self.create(body, now)
        if rule_id is None and self.command == "GET":
            if not self.accepts("application/x-json-stream"):
                return None
            found = live_rules(now)
            for k, v in q.items():
                want = STATE_CODES.get(v, v) if k == "state" else v
                found = [r for r in found if str(r.get(k)) == want]
            return self.answer(200, "".join(json.dumps(public(r)) + "\n" for r in found), "application/x-json-stream")
        r = rules.get(rule_id)
        if r is not None:
            refresh(r, now)
        if r is None or r["deleted_at"] is not None:
            return self.error(404, "RuleNotFound", "No replication rule found with the id %s" % rule_id)
        if self.command == "GET":
            if not self.accepts("application/json"):
                return None
            return self.answer(200, json.dumps(public(r)))
        try:
            params = json.loads(body)
            assert isinstance(params, dict)
        except Exception:
            return self.error(400, "ValueError", "cannot decode json parameter dictionary")
        if self.command == "PUT":
            options = params.get("options")
            if not isinstance(options, dict):
                return self.error(400, "KeyError", "'options' not defined")
            if "lifetime" in options:
                life = options["lifetime"]
                r["expires"] = None if life is None else now + float(life)
                r["lifetime_updates"] += 1
                stats["puts"] += 1
            r["updated"] = now
            return self.answer(200, b"")
        if self.command == "DELETE":
            r["deleted_at"], r["deleted_by"] = now, "delete"
            stats["deletes"] += 1
            return self.answer(200, b"")
        return self.error(405, "MethodNotAllowed", self.command)

    def create(self, body, now):
        try:
            p = json.loads(body)
            assert isinstance(p, dict)
        except Exception:
            return self.error(400, "ValueError", "cannot decode json parameter dictionary")
        for k in ("dids", "account", "copies", "rse_expression"):
            if k not in p:
                return self.error(400, "KeyError", "'%s' not defined" % k)
        made = []
        for d in p["dids"]:
            did = "%s:%s" % (d.get("scope"), d.get("name"))
            if not matches(did, cfg["dids"]):
                return self.error(404, "DataIdentifierNotFound", "Data identifier '%s' not found" % did)
            key = (d["scope"], d["name"], p["account"], p["rse_expression"], p["copies"])
            if any((r["scope"], r["name"], r["account"], r["rse_expression"], r["copies"]) == key
                   for r in live_rules(now)):
                stats["duplicates"] += 1
                return self.error(409, "DuplicateRule", "A duplicate rule for this account, did, rse_expression, "
                                  "copies already exists. Details: (%s)" % ", ".join(map(str, key)))
            life = p.get("lifetime")
            rid = uuid.uuid4().hex
            rules[rid] = {"id": rid, "subscription_id": None, "account": p["account"], "scope": d["scope"],
                          "name": d["name"], "did_type": "DATASET", "state": "REPLICATING", "error": None,
                          "rse_expression": p["rse_expression"], "copies": p["copies"], "weight": p.get("weight"),
                          "locked": p.get("locked", False), "locks_ok_cnt": 0, "locks_replicating_cnt": 1,
                          "locks_stuck_cnt": 0, "source_replica_expression": None, "activity": p.get("activity"),
                          "grouping": p.get("grouping", "DATASET"), "notification": "NO", "stuck_at": None,
                          "purge_replicas": p.get("purge_replicas", False), "ignore_availability": False,
                          "ignore_account_limit": False, "priority": p.get("priority", 3),
                          "comments": p.get("comment"), "child_rule_id": None, "eol_at": None,
                          "split_container": False, "meta": None, "created": now, "updated": now,
                          "expires": None if life is None else now + float(life), "deleted_at": None,
                          "deleted_by": None, "lifetime_updates": 0}
            made.append(rid)
            stats["creates"] += 1
        if faults["drop_next_create"] > 0:  # performed, but the client never hears of it
            faults["drop_next_create"] -= 1
            stats["dropped"] += 1
            self.close_connection = True
            return None
        return self.answer(201, json.dumps(made))

    def srcnet(self, parts, q):
        if self.headers.get("Authorization") != "Bearer " + cfg["bearer"]:
            with lock:
                stats["unauthorized"] += 1
            return self.answer(401, json.dumps({"detail": "Not authenticated"}))
        if parts[1:] == ["list"]:
            return self.answer(200, json.dumps(sorted({p.split(":")[0] for p in cfg["dids"]})))
        if parts[1] != "locate" or len(parts) < 4:
            return self.answer(404, json.dumps({"detail": "Not Found"}))
        scope, name = parts[2], "/".join(parts[3:])
        did = scope + ":" + name
        with lock:
            stats["locates"] += 1
            if not matches(did, cfg["dids"]):
                return self.answer(404, json.dumps({"detail": "DID %s not found" % did}))
            rses = [rse for pat, rs in cfg["replicas"].items() if fnmatch.fnmatchcase(did, pat) for rse in rs]
            rses += [r["rse_expression"] for r in live_rules(time.time())
                     if r["scope"] == scope and r["name"] == name and r["state"] == "OK"]
            shape = cfg["locate_shape"]
        rses = list(dict.fromkeys(rses))
        pfn = {rse: ["davs://%s.example.org:443/%s/%s" % (rse.lower(), scope, name)] for rse in rses}
        if shape == "map":
            return self.answer(200, json.dumps(pfn))
        return self.answer(200, json.dumps([{"identifier": rse, "associated_storage_area_id": str(uuid.uuid5(
            uuid.NAMESPACE_DNS, rse)), "replicas": pfn[rse], "is_dataset": False} for rse in rses]))

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


def main():
    if len(sys.argv) > 2:
        change = json.loads(sys.argv[2])
        for k, v in change.items():
            (faults if k in faults else cfg)[k] = v
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
