#!/usr/bin/env python3
"""breakglass-approvald host API over real HTTP on loopback: signed filing and
polling, every signature failure, clock skew, replay, idempotency and 409,
cross-host reads, body validation and the 64 KiB cap."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

adlib.require_daemon()
svc = adlib.Service()
try:
    svc.start()

    # Filing and polling.
    st, data, doc, body = svc.create()
    check(st == 201, "create: status %d %r" % (st, data))
    ans = json.loads(data)
    check(ans.get("request_id") == doc["request_id"] and ans.get("status") == "pending"
          and ans.get("expires_at", "").endswith("Z"), "create answer: %r" % ans)
    rid = doc["request_id"]
    st, data, hdr = svc.poll(rid)
    check(st == 200, "poll: %d" % st)
    dec = json.loads(data)
    check(list(dec.keys()) == ["request_id", "nonce", "host", "account", "operator",
                               "incident", "status", "approvals", "denials", "scope",
                               "ttl", "issued_at"], "decision members: %r" % list(dec))
    check(dec["status"] == "pending" and dec["nonce"] == doc["nonce"]
          and dec["incident"] == doc["incident"]
          and dec["ttl"] == 3600 and dec["scope"] == "mail-queue", "decision: %r" % dec)
    check(svc.verify_decision(data, hdr), "pending decision signature verifies")

    # Idempotency: same body, new signature -> same answer; other body -> 409.
    time.sleep(1.1)
    st2, data2, _ = svc.host_call("mx1.example.net", "POST", "/v1/requests", body)
    check(st2 == 201 and json.loads(data2) == ans, "refile: %d %r" % (st2, data2))
    other = dict(doc, reason="something else")
    ob = json.dumps(other, separators=(",", ":")).encode()
    st, data, _ = svc.host_call("mx1.example.net", "POST", "/v1/requests", ob)
    check(st == 409, "same request_id, other body: %d" % st)

    # Signature failures, all 401.
    target = "/v1/requests/%s?wait=0" % rid
    good = svc.signed_headers("mx1.example.net", "GET", target, b"")
    cases = {
        "no headers": {},
        "no signature": {k: v for k, v in good.items() if k != "X-Breakglass-Signature"},
        "no timestamp": {k: v for k, v in good.items() if k != "X-Breakglass-Timestamp"},
        "no host": {k: v for k, v in good.items() if k != "X-Breakglass-Host"},
        "unknown host": dict(good, **{"X-Breakglass-Host": "evil.example.net"}),
        "wrong key": svc.signed_headers("mx1.example.net", "GET", target, b"",
                                        key=os.urandom(32)),
        "other host's key": svc.signed_headers("mx1.example.net", "GET", target, b"",
                                               key=svc.host_keys["mx2.example.net"]),
        "ascii hex key": svc.signed_headers(
            "mx1.example.net", "GET", target, b"",
            key=svc.host_keys["mx1.example.net"].hex().encode()),
        "uppercase hex": dict(good, **{"X-Breakglass-Signature":
                                       good["X-Breakglass-Signature"].upper().replace("V1=", "v1=")}),
        "bad prefix": dict(good, **{"X-Breakglass-Signature":
                                    "v2=" + good["X-Breakglass-Signature"][3:]}),
        "short sig": dict(good, **{"X-Breakglass-Signature":
                                   good["X-Breakglass-Signature"][:-2]}),
        "leading zero ts": dict(good, **{"X-Breakglass-Timestamp":
                                         "0" + good["X-Breakglass-Timestamp"]}),
        "signed other path": svc.signed_headers("mx1.example.net", "GET",
                                                "/v1/requests/%s?wait=1" % rid, b""),
        "signed other method": svc.signed_headers("mx1.example.net", "POST", target, b""),
        "skew +301": svc.signed_headers("mx1.example.net", "GET", target, b"",
                                        ts=int(time.time()) + 310),
        "skew -301": svc.signed_headers("mx1.example.net", "GET", target, b"",
                                        ts=int(time.time()) - 310),
    }
    for name, h in cases.items():
        st, data, _ = svc.request("GET", target, headers=h)
        check(st == 401, "%s: expected 401, got %d" % (name, st))
        check(b"error" in data, "%s: error body" % name)
    # A body tampered with after signing.
    time.sleep(1.1)
    doc3 = adlib.request_doc()
    b3 = json.dumps(doc3).encode()
    h3 = svc.signed_headers("mx1.example.net", "POST", "/v1/requests", b3)
    st, _, _ = svc.request("POST", "/v1/requests", b3.replace(b"alice", b"mallo"), h3)
    check(st == 401, "tampered body: %d" % st)
    # Within the window, accepted.
    st, _, _ = svc.request("GET", target, headers=svc.signed_headers(
        "mx1.example.net", "GET", target, b"", ts=int(time.time()) - 250))
    check(st == 200, "skew -250 accepted: %d" % st)

    # Replay: the same signed request twice.
    st, _, _ = svc.request("GET", target, headers=good)
    check(st == 200, "first use: %d" % st)
    st, _, _ = svc.request("GET", target, headers=good)
    check(st == 401, "replay refused: %d" % st)

    # Cross-host: mx2 cannot read mx1's request; unknown ids are 404 too.
    st, _, _ = svc.poll(rid, host="mx2.example.net")
    check(st == 404, "cross-host read: %d" % st)
    st, _, _ = svc.poll("00000000-0000-4000-8000-000000000000")
    check(st == 404, "unknown request: %d" % st)

    # wait out of range.
    for w in ("31", "-1", "abc", "05", ""):
        t = "/v1/requests/%s?wait=%s" % (rid, w)
        st, _, _ = svc.host_call("mx1.example.net", "GET", t)
        check(st == 400, "wait=%s: %d" % (w, st))
    t = "/v1/requests/%s" % rid
    st, _, _ = svc.host_call("mx1.example.net", "GET", t)
    check(st == 200, "no wait: %d" % st)
    # The signature covers the target as sent, percent-encoding included.
    t = "/v1/requests/%s?wait=%%30" % rid
    st, _, _ = svc.host_call("mx1.example.net", "GET", t)
    check(st == 200, "percent-encoded query signed as sent: %d" % st)

    # Body validation.
    def post(d, host="mx1.example.net"):
        b = d if isinstance(d, bytes) else json.dumps(d).encode()
        return svc.host_call(host, "POST", "/v1/requests", b)[0]

    check(post(adlib.request_doc(host="mx2.example.net")) == 403, "foreign host member")
    bad = {
        "missing member": {k: v for k, v in adlib.request_doc().items() if k != "tty"},
        "extra member": dict(adlib.request_doc(), extra=1),
        "ttl string": dict(adlib.request_doc(), ttl="3600"),
        "ttl zero": dict(adlib.request_doc(), ttl=0),
        "uppercase uuid": dict(adlib.request_doc(),
                               request_id="E462DE88-FC4F-4358-B8DF-1F3C5E57DAFC"),
        "uuid v1": dict(adlib.request_doc(),
                        request_id="e462de88-fc4f-1358-b8df-1f3c5e57dafc"),
        "short nonce": dict(adlib.request_doc(), nonce="abcd"),
        "quorum above approvers": dict(adlib.request_doc(), quorum=4),
        "quorum unreachable": dict(adlib.request_doc(), approvers=["bob", "zed"]),
        "operator not counted": dict(adlib.request_doc(), operator="bob",
                                     approvers=["bob", "carol"]),
        "duplicate approvers": dict(adlib.request_doc(), approvers=["bob", "bob", "carol"]),
        "signal extra member": dict(adlib.request_doc(), signals=[
            {"source": "a", "id": "b", "summary": None, "since": None, "x": 1}]),
        "bad created_at": dict(adlib.request_doc(), created_at="yesterday"),
    }
    for name, d in bad.items():
        st = post(d)
        check(st == 400, "%s: expected 400, got %d" % (name, st))
    check(post(b"not json") == 400, "not JSON")
    check(post(b"[]") == 400, "array")
    check(post(json.dumps(adlib.request_doc()).encode() + b" {}") == 400, "trailing data")
    ok = adlib.request_doc(rhost=None, tty=None, signals=[])
    check(post(ok) == 201, "null rhost/tty and no signals accepted")

    # 64 KiB cap.
    big = json.dumps(adlib.request_doc(reason="x" * (70 * 1024))).encode()
    check(post(big) == 413, "body over 64 KiB")

    # Unknown routes and methods.
    check(svc.request("GET", "/nope")[0] == 404, "unknown path")
    check(svc.request("DELETE", "/v1/requests")[0] == 405, "method not allowed")
    st, data, _ = svc.request("GET", "/healthz")
    check(st == 200 and json.loads(data).get("status") == "ok", "healthz")

    # The journal recorded the filings, verifiably.
    events = [e["event"] for e in svc.journal()]
    check(events.count("approval.requested") == 2, "journal: %r" % events)
finally:
    svc.cleanup()
adlib.finish()
