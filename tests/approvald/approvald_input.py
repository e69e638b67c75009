#!/usr/bin/env python3
"""breakglass-approvald input validation over real HTTP on loopback (issue 11,
items 2, 3's field caps, 6's duplicate keys and trailing bytes, and 7): every
string member of every body (a filed request, a recovery report, a vote),
nested members included, is refused (400) when it holds bytes that are not
UTF-8, a NUL, a C1 or bidi control, or is over its size; a member named twice
and bytes after the value are refused; names are compared ignoring ASCII
case.  After all of it, `breakglass verify` accepts the whole journal."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

HOST = "mx1.example.net"
BAD = {"0xff": b"\xff", "C1 U+0085": "\u0085".encode(), "bidi U+202E": "\u202e".encode(),
       "NUL": b"\\u0000", "escaped bidi": b"\\u2066"}
MARK = "@BAD@"


def with_bad(doc, path, bad):
    """doc as JSON bytes with the string at path (keys and indexes) holding bad."""
    d = json.loads(json.dumps(doc))
    node = d
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = node[path[-1]] + MARK if isinstance(node[path[-1]], str) else MARK
    return json.dumps(d, separators=(",", ":")).encode().replace(MARK.encode(), bad)


def string_paths(v, path=()):
    """Every string member of v, nested members and array elements included."""
    if isinstance(v, str):
        yield path
    elif isinstance(v, dict):
        for k, x in v.items():
            yield from string_paths(x, path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from string_paths(x, path + (i,))


def post_host(svc, target, body):
    return svc.host_call(HOST, "POST", target, body)[0]


def post_vote(svc, rid, approver, body):
    return svc.request("POST", "/v1/requests/%s/approve" % rid, body,
                       {"Content-Type": "application/json",
                        "Authorization": "Bearer " + svc.tokens[approver]})[0]


adlib.require_daemon()
# Many filings from one host, quickly: not what host_rate is tested with.
svc = adlib.Service(approvers=["bob", "carol", "dave", "Alice", "erin"],
                    extra_server="host_rate = 100000\nmax_pending_per_host = 100000")
try:
    svc.start()

    # Item 2: every string member of a filed request, nested ones included.
    base = adlib.request_doc()
    paths = list(string_paths(base))
    check(("signals", 0, "summary") in paths and ("approvers", 1) in paths and
          ("scope",) in paths, "the walk reaches nested members: %r" % paths)
    for path in paths:
        for what, bad in BAD.items():
            doc = dict(base, request_id=adlib.request_doc()["request_id"])
            st = post_host(svc, "/v1/requests", with_bad(doc, path, bad))
            check(st == 400, "request %s with %s: %d" % ("/".join(map(str, path)), what, st))

    # A recovery report: every string member.
    rec = {"recovery_id": "R1-ABCDEFGH", "host": HOST, "account": "breakglass",
           "operator": "alice", "incident": "INC-1", "scope": "mail-queue",
           "challenge": "ABCDEFGH", "approvers": [{"approver": "bob",
                                                   "at": "2026-11-27T15:00:00Z"},
                                                  {"approver": "carol",
                                                   "at": "2026-11-27T15:01:00Z"}],
           "signals_state": "quiet", "issued_at": "2026-11-27T15:02:00Z",
           "expires_at": "2026-11-27T15:17:00Z"}
    for path in string_paths(rec):
        for what, bad in BAD.items():
            st = post_host(svc, "/v1/recoveries", with_bad(rec, path, bad))
            check(st == 400, "recovery %s with %s: %d" % ("/".join(map(str, path)), what, st))

    st, _, doc, _ = svc.create()
    check(st == 201, "a clean request is filed: %d" % st)
    rid = doc["request_id"]
    # A vote: every member (the token is right, so the body is what is judged).
    vote = {"approver": "bob", "totp": "123456", "comment": "ok"}
    for path in string_paths(vote):
        for what, bad in BAD.items():
            st = post_vote(svc, rid, "bob", with_bad(vote, path, bad))
            check(st == 400, "vote %s with %s: %d" % (path[0], what, st))

    # Field caps at filing (item 3): a 60,000-byte reason, a long signal summary.
    for field in ({"reason": "<" * 60000},
                  {"signals": [{"source": "am", "id": "x", "summary": "s" * 5000,
                                "since": None}]}):
        st, data, _, _ = svc.create(**field)
        check(st == 400, "oversized %s: %d %r" % (list(field), st, data[:100]))

    # Item 6: a member named twice, bytes after the value.
    body = json.dumps(adlib.request_doc(), separators=(",", ":")).encode()
    dup = body[:-1] + b',"operator":"mallory"}'
    check(post_host(svc, "/v1/requests", dup) == 400, "host body with operator twice")
    nested = body.replace(b'"summary":', b'"summary":"a","summary":', 1)
    check(post_host(svc, "/v1/requests", nested) == 400, "signal member twice")
    code = svc.code("bob")
    for b in (b'{"approver":"bob","totp":"%s","comment":"x"}garbage' % code.encode(),
              b'{"approver":"bob","totp":"%s","comment":"x"} {}' % code.encode(),
              b'{"approver":"carol","approver":"bob","totp":"%s"}' % code.encode(),
              b'{"approver":"bob","totp":"%s","comment":"a","comment":"b"}' %
              code.encode()):
        check(post_vote(svc, rid, "bob", b) == 400, "vote body %r refused" % b)
    check(svc.vote(rid, "bob", code=code)[0] == 200, "the same code, clean body: counted")

    # Item 7: names compared ignoring case.  Alice cannot approve alice's request.
    st, _, doc2, _ = svc.create(operator="alice", approvers=["Alice", "bob", "carol"])
    check(st == 201, "alice's request: %d" % st)
    st, data, _ = svc.vote(doc2["request_id"], "Alice")
    check(st == 403, "Alice approving alice's request: %d %r" % (st, data))
    # The designated list: the same person twice is refused.
    st, data, _, _ = svc.create(approvers=["bob", "BOB", "carol"])
    check(st == 400, "approvers bob and BOB: %d %r" % (st, data))
    # A vote under another spelling is the same approver: counted once.
    st, data, _ = svc.vote(doc2["request_id"], "bob")
    check(st == 200 and json.loads(data)["status"] == "pending", "bob votes: %d" % st)
    st, data, _ = svc.vote(doc2["request_id"], "bob", who="BoB")
    check(st == 409, "BoB after bob: %d %r" % (st, data))
    st, data, _ = svc.poll(doc2["request_id"])
    check(st == 200 and json.loads(data)["status"] == "pending" and
          [a["approver"] for a in json.loads(data)["approvals"]] == ["bob"],
          "one approval counted: %r" % data)

    # Nothing above made the journal unverifiable.
    svc.stop()
    verified = svc.verify_journal()
    check(verified is not None and verified[0], "breakglass verify: %r" % (verified,))
finally:
    svc.cleanup()

# Two approver sections differing only in case are one person: a config error.
svc = adlib.Service()
try:
    with open(svc.conf, "a") as f:
        f.write("[approver Bob]\ntoken_sha256 = %s\ntotp = %s/approvers/bob\n" %
                ("ab" * 32, svc.dir))
    r = subprocess.run([adlib.DAEMON, "--config", svc.conf, "--check-config"],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "ignoring case" in r.stderr,
          "[approver bob] and [approver Bob]: %d %s" % (r.returncode, r.stderr))
finally:
    svc.cleanup()
adlib.finish()
