#!/usr/bin/env python3
"""Loopback approval service speaking protocol v1 (docs/protocol.md), for tests.

It checks every host request's HMAC signature, timestamp and replay like the
real service, then answers according to a mode: the first path segment of
the URL, so one server plays every behaviour.  With
url = http://127.0.0.1:PORT/MODE/v1 the host posts to /MODE/v1/requests.

Modes: approve (at once), and one misbehaviour each: bad-signature,
missing-signature, wrong-nonce, wrong-request-id, wrong-host, wrong-account,
wrong-operator, wrong-incident (a signed approval for another incident),
no-incident (a pre-incident service: the decision lacks it), self-approval, unknown-approver, duplicate-approver,
duplicate-approver-case (one approver twice, the second in capitals),
short-quorum, denied, expired, stale-issued-at, changed-scope, raised-ttl,
malformed, oversized, http500, redirect, hang (never answers a poll),
pending (always pending), poke (pending until POST /_poke/ID).
For failover (several urls on one server, sharing its requests like
instances on one database): unavailable (503 to every host request),
not-found (404 to every host request), stall
(never answers any host request), file-only (files the request as an
approve one, answers every poll 503).  Busy services: busy (the first
filing of each request answered 429 and its first poll 503, both with
Retry-After: 1, then an approve one), busy-long (every filing answered 429
with Retry-After: 3600).  A poll is answered by the mode the
request was filed under, whichever mode's path it arrives on, except on the
unavailable, not-found, stall and file-only paths.
GET /_pending returns the id of the newest request, when it is a poke-mode
request still waiting (for benchmarks).  GET /_hits returns how many host
requests each mode's path received, as {"MODE": {"POST": n, "GET": n}}.

Usage: mock_approvald.py HOST_ID HOST_KEY_FILE PUBKEY_OUT.  Prints its port,
serves until stdin closes.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

MAX_SKEW = 300
MAX_BODY = 64 * 1024
HANG_SECONDS = 120


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class State:
    def __init__(self, host_id, host_key):
        self.host_id = host_id
        self.host_key = host_key
        self.key = Ed25519PrivateKey.generate()
        self.requests = {}
        self.seen = set()
        self.cond = threading.Condition()
        self.newest = None
        self.hits = {}
        self.answered = set()

    def first(self, what):
        """True the first time what (method, request id) is seen: a busy answer."""
        with self.cond:
            fresh = what not in self.answered
            self.answered.add(what)
            return fresh

    def hit(self, mode, method):
        with self.cond:
            m = self.hits.setdefault(mode, {"POST": 0, "GET": 0})
            m[method] += 1


def decision(req, mode):
    """The decision document for req under mode (a dict, before any tampering)."""
    approvers = [a for a in req["approvers"] if a != req["operator"]]
    q = req["quorum"]
    d = {
        "request_id": req["request_id"], "nonce": req["nonce"], "host": req["host"],
        "account": req["account"], "operator": req["operator"],
        "incident": req["incident"], "status": "approved",
        "approvals": [{"approver": a, "at": rfc3339(time.time()), "comment": "ok"}
                      for a in approvers[:q]],
        "denials": [], "scope": req["scope"], "ttl": req["ttl"],
        "issued_at": rfc3339(time.time()),
    }
    vote = d["approvals"][0] if d["approvals"] else None
    tamper = {
        "wrong-nonce": lambda: d.update(nonce="0" * 32),
        "wrong-request-id": lambda: d.update(request_id="00000000-0000-4000-8000-000000000000"),
        "wrong-host": lambda: d.update(host="mx2.example.net"),
        "wrong-account": lambda: d.update(account="root"),
        "wrong-operator": lambda: d.update(operator="mallory"),
        "wrong-incident": lambda: d.update(incident="INC-OTHER"),
        "no-incident": lambda: d.pop("incident"),
        "self-approval": lambda: d["approvals"].append(dict(vote, approver=req["operator"])),
        "unknown-approver": lambda: d["approvals"].append(dict(vote, approver="mallory")),
        "duplicate-approver": lambda: d.update(approvals=[vote] * q),
        "duplicate-approver-case": lambda: d.update(
            approvals=[vote, dict(vote, approver=vote["approver"].upper())] + [vote] * (q - 2)),
        "short-quorum": lambda: d.update(approvals=d["approvals"][:q - 1]),
        "denied": lambda: d.update(status="denied", approvals=[],
                                   denials=[dict(vote, comment="no")]),
        "expired": lambda: d.update(status="expired", approvals=[]),
        "stale-issued-at": lambda: d.update(issued_at=rfc3339(time.time() - 2 * MAX_SKEW)),
        "changed-scope": lambda: d.update(scope="everything"),
        "raised-ttl": lambda: d.update(ttl=req["ttl"] + 1),
        "pending": lambda: d.update(status="pending", approvals=[]),
    }
    if mode in tamper:
        tamper[mode]()
    return d


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle and
    # delayed ACKs add 40 ms to every answer.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.state

    def reply(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, msg):
        self.reply(status, json.dumps({"error": msg}).encode())

    def authenticated(self, body):
        """Section 3.3: headers, host, skew, HMAC (constant time), replay."""
        host = self.headers.get("X-Breakglass-Host")
        ts = self.headers.get("X-Breakglass-Timestamp", "")
        sig = self.headers.get("X-Breakglass-Signature", "")
        if host != self.st.host_id or not ts.isdigit() or not sig.startswith("v1="):
            return False
        if abs(int(ts) - time.time()) > MAX_SKEW:
            return False
        msg = b"v1:" + ts.encode() + b":" + self.command.encode() + b":" + \
            self.path.encode() + b":" + body
        want = hmac.new(self.st.host_key, msg, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig[3:]):
            return False
        with self.st.cond:
            if sig in self.st.seen:
                return False
            self.st.seen.add(sig)
        return True

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY:
            self.error(413, "too large")
            return
        body = self.rfile.read(length)
        parts = self.path.split("/")
        if len(parts) == 3 and parts[1] == "_poke":
            with self.st.cond:
                req = self.st.requests.get(parts[2])
                if req is not None:
                    req["poked"] = True
                    self.st.cond.notify_all()
            self.reply(200 if req else 404, b"{}")
            return
        if self.unserved(parts[1], "POST"):
            return
        if not self.authenticated(body):
            self.error(401, "unauthorized")
            return
        mode = "approve" if parts[1] in ("file-only", "busy") else parts[1]
        req = json.loads(body)
        if parts[1] == "busy-long" or (parts[1] == "busy" and
                                       self.st.first(("POST", req.get("request_id")))):
            self.busy(429, "3600" if parts[1] == "busy-long" else "1")
            return
        req["busy"] = parts[1] == "busy"
        if req.get("host") != self.st.host_id:
            self.error(403, "host mismatch")
            return
        req["mode"] = mode
        req["poked"] = False
        with self.st.cond:
            self.st.requests[req["request_id"]] = req
            self.st.newest = req["request_id"]
        self.reply(201, json.dumps({"request_id": req["request_id"], "status": "pending",
                                    "expires_at": rfc3339(time.time() + 600)}).encode())

    def unserved(self, mode, method):
        """Counts a host request; True when its mode's path does not serve it."""
        self.st.hit(mode, method)
        if mode == "stall":
            time.sleep(HANG_SECONDS)
            return True
        if mode == "unavailable" or (mode == "file-only" and method == "GET"):
            self.error(503, "unavailable")
            return True
        if mode == "not-found":
            self.error(404, "not found")
            return True
        return False

    def do_GET(self):
        if self.path == "/_hits":
            with self.st.cond:
                self.reply(200, json.dumps(self.st.hits).encode())
            return
        if self.path == "/_pending":
            with self.st.cond:
                rid = self.st.newest
                req = self.st.requests.get(rid) if rid else None
                waiting = req is not None and req["mode"] == "poke" and not req["poked"]
            self.reply(200 if waiting else 404, json.dumps({"request_id": rid}).encode())
            return
        path, _, query = self.path.partition("?")
        parts = path.split("/")
        if self.unserved(parts[1], "GET"):
            return
        if not self.authenticated(b""):
            self.error(401, "unauthorized")
            return
        wait = int(query.split("=", 1)[1]) if query.startswith("wait=") else 0
        with self.st.cond:
            req = self.st.requests.get(parts[-1])
        if req is None:
            self.error(404, "no such request")
            return
        self.answer(req, wait)

    def busy(self, status, after):
        self.reply(status, json.dumps({"error": "busy"}).encode(), [("Retry-After", after)])

    def answer(self, req, wait):
        mode = req["mode"]
        if req["busy"] and self.st.first(("GET", req["request_id"])):
            self.busy(503, "1")
            return
        if mode == "hang":
            time.sleep(HANG_SECONDS)
            return
        if mode == "http500":
            self.error(500, "boom")
            return
        if mode == "redirect":
            self.reply(302, b"{}", [("Location", "/approve/v1/requests/" + req["request_id"])])
            return
        if mode in ("pending", "poke"):
            deadline = time.time() + wait
            with self.st.cond:
                while not req["poked"] and time.time() < deadline:
                    self.st.cond.wait(deadline - time.time())
            if mode == "poke" and req["poked"]:
                mode = "approve"
            else:
                mode = "pending"
        doc = decision(req, mode)
        body = json.dumps(doc, separators=(",", ":")).encode()
        if mode == "malformed":
            body = b'{"request_id": "' + req["request_id"].encode() + b'", "status": '
        elif mode == "oversized":
            doc["padding"] = "x" * (MAX_BODY + 1)
            body = json.dumps(doc).encode()
        sig = self.st.key.sign(body)
        if mode == "bad-signature":
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        headers = [] if mode == "missing-signature" else \
            [("X-Breakglass-Decision-Signature", "ed25519=" + base64.b64encode(sig).decode())]
        self.reply(200, body, headers)


def main():
    host_id, key_file, pub_out = sys.argv[1:4]
    with open(key_file) as f:
        host_key = bytes.fromhex(f.read().strip())
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(host_id, host_key)
    pem = server.state.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    fd = os.open(pub_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, pem)
    os.close(fd)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
