#!/usr/bin/env python3
"""breakglass-approvald recovery reports (protocol R1, POST /v1/recoveries) over
real HTTP on loopback: accepted, stored and journaled (recovery.reported),
notified, listed on the page HTML-escaped, idempotent on (host, recovery_id)
with 409 for another body, every signature failure refused, malformed bodies
refused, and kept across a restart; a database of the previous schema is
migrated."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

import http.server  # noqa: E402
import threading  # noqa: E402

received = []
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def report_doc(host="mx1.example.net", **fields):
    doc = {
        "recovery_id": "R1-K7QX2MZA",
        "host": host,
        "account": "breakglass",
        "operator": "alice",
        "incident": "INC-2042 <b>&",
        "scope": "mail-queue",
        "challenge": "K7QX2MZA",
        "approvers": [{"approver": "bob", "at": "2026-11-27T15:01:02Z"},
                      {"approver": "carol", "at": "2026-11-27T15:02:03Z"}],
        "signals_state": "unreachable",
        "issued_at": "2026-11-27T15:02:04Z",
        "expires_at": "2026-11-27T15:17:04Z",
    }
    doc.update(fields)
    return doc


def enc(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


def post(svc, body, host="mx1.example.net", **kw):
    return svc.host_call(host, "POST", "/v1/recoveries", body, **kw)


adlib.require_daemon()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
notify = "[notify chat]\nurl = http://127.0.0.1:%d/slack\nformat = slack\n" % \
    server.server_address[1]
svc = adlib.Service(notify=notify)
try:
    # An SQLite database of the first schema (no recoveries table, no
    # user_version) is migrated when the service opens it.
    if svc.backend == "sqlite":
        svc.sql("CREATE TABLE requests (id TEXT PRIMARY KEY, host TEXT NOT NULL,"
                " operator TEXT NOT NULL, status TEXT NOT NULL, body BLOB NOT NULL,"
                " received_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
                " decided_ms INTEGER)")
    svc.start()

    doc = report_doc()
    body = enc(doc)
    st, data, _ = post(svc, body)
    check(st == 201, "report: %d %r" % (st, data))
    ans = json.loads(data) if st == 201 else {}
    check(ans.get("recovery_id") == "R1-K7QX2MZA" and ans.get("status") == "reported"
          and ans.get("reported_at", "").endswith("Z"), "answer: %r" % ans)

    # Idempotent: the same body (new signature) gets the same answer.
    time.sleep(1.1)
    st2, data2, _ = post(svc, body)
    check(st2 == 201 and data2 == data, "re-report: %d %r" % (st2, data2))
    # Another body under the same id: 409, nothing stored.
    st, data, _ = post(svc, enc(report_doc(operator="mallory")))
    check(st == 409, "same id, other body: %d" % st)
    # Another host may use the same id (challenges are per host).
    st, data, _ = post(svc, enc(report_doc(host="mx2.example.net")), host="mx2.example.net")
    check(st == 201, "other host, same id: %d %r" % (st, data))
    # A host files only its own recoveries.
    st, data, _ = post(svc, enc(report_doc(host="mx2.example.net",
                                           recovery_id="R1-AAAABBBB",
                                           challenge="AAAABBBB")))
    check(st == 403, "host is not yours: %d" % st)

    # Signature failures: 401.  (A second later: the re-report's signature
    # of the same body is remembered as seen.)
    time.sleep(1.1)
    good = svc.signed_headers("mx1.example.net", "POST", "/v1/recoveries", body)
    for name, h in {
        "no headers": {"Content-Type": "application/json"},
        "wrong key": svc.signed_headers("mx1.example.net", "POST", "/v1/recoveries", body,
                                        key=os.urandom(32)),
        "other body signed": svc.signed_headers("mx1.example.net", "POST", "/v1/recoveries",
                                                enc(report_doc(scope="other"))),
        "signed other path": svc.signed_headers("mx1.example.net", "POST", "/v1/requests",
                                                body),
        "skew": svc.signed_headers("mx1.example.net", "POST", "/v1/recoveries", body,
                                   ts=int(time.time()) - 400),
    }.items():
        st, data, _ = svc.request("POST", "/v1/recoveries", body, h)
        check(st == 401, "%s: expected 401, got %d" % (name, st))
    st, data, _ = svc.request("POST", "/v1/recoveries", body, good)
    check(st == 201, "first use of a good signature: %d" % st)
    st, data, _ = svc.request("POST", "/v1/recoveries", body, good)
    check(st == 401, "replayed signature: %d" % st)

    # Malformed bodies: 400, never stored.
    bad = {
        "not json": b"{",
        "array": b"[]",
        "trailing": body + b" x",
        "extra member": enc(dict(doc, codes=["1234-5678"])),
        "missing member": enc({k: v for k, v in doc.items() if k != "scope"}),
        "id not R1-challenge": enc(report_doc(recovery_id="R1-AAAAAAAA")),
        "challenge alphabet": enc(report_doc(recovery_id="R1-K7QX2MZ1",
                                             challenge="K7QX2MZ1")),
        "account not a name": enc(report_doc(account="a b")),
        "operator not a name": enc(report_doc(operator="../x")),
        "empty incident": enc(report_doc(incident="")),
        "control in incident": enc(report_doc(incident="INC\n1")),
        "long incident": enc(report_doc(incident="I" * 300)),
        "no approvers": enc(report_doc(approvers=[])),
        "approver twice": enc(report_doc(approvers=[
            {"approver": "bob", "at": "2026-11-27T15:01:02Z"},
            {"approver": "bob", "at": "2026-11-27T15:02:03Z"}])),
        "operator approves": enc(report_doc(approvers=[
            {"approver": "alice", "at": "2026-11-27T15:01:02Z"},
            {"approver": "bob", "at": "2026-11-27T15:02:03Z"}])),
        "approver extra member": enc(report_doc(approvers=[
            {"approver": "bob", "at": "2026-11-27T15:01:02Z", "code": "12345678"}])),
        "bad time": enc(report_doc(issued_at="yesterday")),
        "expires before issued": enc(report_doc(expires_at="2026-11-27T15:00:00Z")),
        "signals_state": enc(report_doc(signals_state="maybe")),
        "ttl as string": enc(dict(doc, scope=1)),
    }
    for name, b in bad.items():
        st, data, _ = post(svc, b)
        check(st == 400, "%s: expected 400, got %d %r" % (name, st, data))
    # Non-UTF-8 bytes in a string.
    b = body.replace(b"INC-2042", b"INC-\xff\xfe42")
    st, data, _ = post(svc, b)
    check(st == 400, "non-UTF-8: expected 400, got %d" % st)
    # Over 64 KiB.
    st, data, _ = post(svc, enc(report_doc(incident="x" * 70000)))
    check(st in (400, 413), "too large: %d" % st)

    # Journaled once per new report, with the approvers and their times.
    recs = [r for r in svc.journal() if r.get("event") == "recovery.reported"]
    check(len(recs) == 2, "recovery.reported records: %d" % len(recs))
    if recs:
        r = recs[0]
        check(r.get("request_id") == "R1-K7QX2MZA" and r.get("operator") == "alice"
              and r.get("incident") == "INC-2042 <b>&" and r.get("account") == "breakglass"
              and r.get("client_host") == "mx1.example.net" and r.get("scope") == "mail-queue"
              and r.get("approvers") == doc["approvers"]
              and r.get("expires_at") == doc["expires_at"], "record: %r" % r)
        check("1234" not in json.dumps(r), "no code in the record")

    # Notified (slack): names the operator, host and the approvers.
    deadline = time.time() + 15
    while time.time() < deadline:
        with lock:
            texts = [json.loads(b)["text"] for p, b in received if p == "/slack"]
        if len([t for t in texts if "recovery" in t]) >= 2:
            break
        time.sleep(0.1)
    rt = [t for t in texts if "recovery" in t]
    check(len(rt) == 2, "recovery notifications: %r" % texts)
    if rt:
        check("alice" in rt[0] and "mx1.example.net" in rt[0] and "bob" in rt[0]
              and "carol" in rt[0] and "&lt;b&gt;" in rt[0], "notification text: %r" % rt[0])

    # Listed on the page, escaped.
    st, data, _ = svc.page("/")
    page = data.decode()
    check(st == 200 and "R1-K7QX2MZA" in page, "page lists the recovery")
    check("INC-2042 &lt;b&gt;&amp;" in page and "<b>&" not in page, "page escapes")
    check("2026-11-27T15:01:02Z" in page, "page shows the codes' times")

    # Kept across a restart; the schema is at its latest version.
    check(svc.stop() == 0, "clean stop")
    ver = svc.schema_version()
    n = svc.sql("SELECT count(*) FROM recoveries")[0][0]
    check(ver == adlib.SCHEMA_VERSION[svc.backend] and n == 2,
          "schema version %d, %d recoveries" % (ver, n))
    svc.start()
    time.sleep(1.1)
    st, data3, _ = post(svc, body)
    check(st == 201 and data3 == data2, "after restart, same answer: %d %r" % (st, data3))
    st, data, _ = post(svc, enc(report_doc(scope="other")))
    check(st == 409, "after restart, other body: %d" % st)
    # A newer schema than this service knows is refused at start.
    check(svc.stop() == 0, "clean stop")
    svc.set_schema_version(99)
    svc.refused_start("a database of a newer schema", "schema")
finally:
    svc.cleanup()
    server.shutdown()
adlib.finish()
