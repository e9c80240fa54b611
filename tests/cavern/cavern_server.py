#!/usr/bin/env python3
"""A loopback VOSpace 2.1 service as CANFAR's Cavern serves it, for the cavern adapter's tests
(research/platform-apis.md §6). Real HTTP on 127.0.0.1, a tree of nodes that changes as it is used.

  cavern_server.py PORTFILE --token T --authority vos://example.org~cavern [--dir home/stepq ...]
                   [--quota BYTES] [--readonly PREFIX]

The port the OS chose is written to PORTFILE. --dir makes a container (and its parents) at start.

/nodes/{path} (Authorization: Bearer T, else 401 NotAuthenticated):
  PUT     a vos:node document (text/xml): 400 InvalidArgument (no document, or a ContainerNode
          without the <vos:nodes> the 2.1 schema requires), 400 InvalidURI (its uri is not
          AUTHORITY/path), 400 TypeNotSupported, 403 PermissionDenied (under --readonly),
          404 ContainerNotFound (no parent container), 409 DuplicateNode; else 201 with the node
  GET     ?detail=min|max|properties: 404 NodeNotFound; properties core#quota (containers, when a
          quota is set) and core#length (bytes of the data nodes under it); max adds the children
  DELETE  404 NodeNotFound, 403 under --readonly, 400 "container node 'N' is not empty"; else 200
Faults answer "<FaultName>: <detail>" as text/plain, as cadc-rest does.

Test-only:
  POST /_control  JSON, each key optional: {"busy": N, "retry_after": "S"} the next N /nodes
          requests answer 503 ServiceBusy (with Retry-After S unless "" ); {"drop_put": N} the next
          N PUTs that create a node close the connection without a reply; {"quota": BYTES};
          {"fill": [["out/log.txt", BYTES], ...]} every container created directly under a --dir
          gets these files (and the containers on their paths), as a session's output would
  PUT  /_file/{path}?bytes=N   a data node of N bytes (parents must exist)
  GET  /_state  {"nodes": {path: {"type", "bytes"}}, "creates": {path: times a PUT created it},
                 "requests": {METHOD: n}, "busy": n, "dropped": n, "unauthorized": n, "not_empty": n}
"""
import argparse
import json
import os
import sys
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse
from xml.sax.saxutils import quoteattr

VOS = "http://www.ivoa.net/xml/VOSpace/v2.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
QUOTA = "ivo://ivoa.net/vospace/core#quota"
LENGTH = "ivo://ivoa.net/vospace/core#length"

lock = threading.Lock()
opts = None
nodes = {}      # path -> {"type": "ContainerNode"|"DataNode", "bytes": n}
creates = {}    # path -> times a PUT created it (kept after a delete)
counters = {"requests": {}, "busy": 0, "dropped": 0, "unauthorized": 0, "not_empty": 0}
control = {"busy": 0, "retry_after": "1", "drop_put": 0, "quota": None, "fill": []}
dirs = []


def parent(path):
    return path.rsplit("/", 1)[0] if "/" in path else ""


def mkdirs(path):
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        nodes.setdefault("/".join(parts[:i]), {"type": "ContainerNode", "bytes": 0})


def children(path):
    return sorted(p for p in nodes if parent(p) == path)


def length(path):
    n = nodes[path]
    if n["type"] != "ContainerNode":
        return n["bytes"]
    return sum(v["bytes"] for p, v in nodes.items() if p.startswith(path + "/"))


def node_xml(path, detail):
    n = nodes[path]
    uri = opts.authority + "/" + path
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<vos:node xmlns:vos="%s" xmlns:xsi="%s" uri=%s xsi:type="vos:%s">' % (VOS, XSI, quoteattr(uri), n["type"])]
    if detail == "min":
        out.append("  <vos:properties/>")
    else:
        out.append("  <vos:properties>")
        if n["type"] == "ContainerNode" and control["quota"] is not None:
            out.append('    <vos:property uri="%s">%d</vos:property>' % (QUOTA, control["quota"]))
        out.append('    <vos:property uri="%s">%d</vos:property>' % (LENGTH, length(path)))
        out.append("  </vos:properties>")
    if n["type"] == "ContainerNode":
        if detail == "max":
            out.append("  <vos:nodes>")
            for c in children(path):
                out.append('    <vos:node uri=%s xsi:type="vos:%s"/>' % (quoteattr(opts.authority + "/" + c),
                                                                        nodes[c]["type"]))
            out.append("  </vos:nodes>")
        else:
            out.append("  <vos:nodes/>")
    out.append("</vos:node>")
    return "\n".join(out) + "\n"


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

    def fault(self, status, name, detail):
        self.answer(status, "%s: %s\n" % (name, detail))

    def do_GET(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def do_POST(self):
        self.route()

    def route(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        if u.path == "/_control" and self.command == "POST":
            with lock:
                control.update(json.loads(body or "{}"))
            return self.answer(200, "ok")
        if u.path == "/_state":
            with lock:
                state = dict(counters, nodes=nodes, creates=creates)
                text = json.dumps(state)
            return self.answer(200, text, "application/json")
        if u.path.startswith("/_file/") and self.command == "PUT":
            path = unquote(u.path[len("/_file/"):]).strip("/")
            with lock:
                if nodes.get(parent(path), {}).get("type") != "ContainerNode":
                    return self.fault(404, "ContainerNotFound", parent(path))
                nodes[path] = {"type": "DataNode", "bytes": int(q.get("bytes", "0"))}
            return self.answer(201, "ok")
        if not u.path.startswith("/nodes/"):
            return self.fault(404, "NotFound", u.path)
        path = unquote(u.path[len("/nodes/"):]).strip("/")
        with lock:
            counters["requests"][self.command] = counters["requests"].get(self.command, 0) + 1
            if control["busy"] > 0:
                control["busy"] -= 1
                counters["busy"] += 1
                ra = control["retry_after"]
                return self.answer(503, "ServiceBusy: try again later\n", headers=[("Retry-After", ra)] if ra else [])
            if self.headers.get("Authorization") != "Bearer " + opts.token:
                counters["unauthorized"] += 1
                return self.fault(401, "NotAuthenticated", "no valid credentials")
            if self.command == "PUT":
                return self.put(path, body)
            if self.command == "GET":
                if path not in nodes:
                    return self.fault(404, "NodeNotFound", path)
                return self.answer(200, node_xml(path, q.get("detail", "max")), "text/xml")
            if self.command == "DELETE":
                return self.delete(path)
            return self.fault(405, "NotSupported", self.command)

    def put(self, path, body):
        if not body.strip():
            return self.fault(400, "InvalidArgument", "no node document")
        try:
            root = ET.fromstring(body)
        except ET.ParseError as e:
            return self.fault(400, "InvalidArgument", "not XML: %s" % e)
        if root.tag != "{%s}node" % VOS:
            return self.fault(400, "InvalidArgument", "not a vos:node document")
        if root.get("uri") != opts.authority + "/" + path:
            return self.fault(400, "InvalidURI", "the node uri %s is not the path %s" % (root.get("uri"), path))
        xtype = (root.get("{%s}type" % XSI) or "").split(":")[-1]
        if xtype not in ("ContainerNode", "DataNode"):
            return self.fault(400, "TypeNotSupported", xtype)
        if xtype == "ContainerNode" and root.find("{%s}nodes" % VOS) is None:
            return self.fault(400, "InvalidArgument", "cvc-complex-type.2.4.b: ContainerNode needs vos:nodes")
        if opts.readonly and (path + "/").startswith(opts.readonly.strip("/") + "/"):
            return self.fault(403, "PermissionDenied", path)
        if nodes.get(parent(path), {}).get("type") != "ContainerNode":
            return self.fault(404, "ContainerNotFound", parent(path))
        if path in nodes:
            return self.fault(409, "DuplicateNode", path)
        nodes[path] = {"type": xtype, "bytes": 0}
        creates[path] = creates.get(path, 0) + 1
        if xtype == "ContainerNode" and parent(path) in dirs:
            for rel, size in control["fill"]:
                mkdirs(parent(path + "/" + rel))
                nodes[path + "/" + rel] = {"type": "DataNode", "bytes": int(size)}
        if control["drop_put"] > 0:
            # The node exists; only the reply is lost, as when a connection breaks after the commit.
            control["drop_put"] -= 1
            counters["dropped"] += 1
            self.close_connection = True
            return
        return self.answer(201, node_xml(path, "properties"), "text/xml")

    def delete(self, path):
        if path not in nodes:
            return self.fault(404, "NodeNotFound", path)
        if opts.readonly and (path + "/").startswith(opts.readonly.strip("/") + "/"):
            return self.fault(403, "PermissionDenied", path)
        if children(path):
            counters["not_empty"] += 1
            return self.fault(400, "InvalidArgument", "container node '%s' is not empty" % path.rsplit("/", 1)[-1])
        del nodes[path]
        return self.answer(200, "")


def main():
    global opts
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("--token", required=True)
    ap.add_argument("--authority", required=True)
    ap.add_argument("--dir", action="append", default=[])
    ap.add_argument("--quota", type=int)
    ap.add_argument("--readonly", default="")
    opts = ap.parse_args()
    control["quota"] = opts.quota
    for d in opts.dir:
        mkdirs(d.strip("/"))
        dirs.append(d.strip("/"))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = opts.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, opts.portfile)  # whole, or not there: the test polls for it
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
