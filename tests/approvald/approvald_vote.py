#!/usr/bin/env python3
"""breakglass-approvald approver API over real HTTP on loopback: tokens, TOTP
codes (wrong, replayed), self-approval, duplicate and foreign votes, votes on
decided requests, denial veto, quorum, the signed decision (openssl pkeyutl),
the pending list, and a long poll answered by the deciding vote."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

adlib.require_daemon()
svc = adlib.Service()
try:
    svc.start()
    st, _, doc, _ = svc.create()
    rid = doc["request_id"]

    # Authentication: wrong token, another approver's token, unknown approver,
    # wrong TOTP code, missing header: all 401.
    # (Codes are only spent where the token is right: replay refusal leaves each
    # approver two codes per 30 s, and a third waits for the next step.)
    check(svc.vote(rid, "bob", token="wrong", code="123456")[0] == 401, "wrong token")
    check(svc.vote(rid, "bob", token=svc.tokens["carol"], code="123456")[0] == 401,
          "carol's token for bob")
    check(svc.vote(rid, "bob", who="mallory", code="123456")[0] == 401,
          "unknown approver")
    wrong = "000000" if adlib.totp_code(svc.totp["bob"], int(time.time()) // 30) != \
        "000000" else "111111"
    check(svc.vote(rid, "bob", code=wrong)[0] == 401, "wrong TOTP code")
    st, _, _ = svc.request("POST", "/v1/requests/%s/approve" % rid,
                           json.dumps({"approver": "bob", "totp": "123456"}).encode(),
                           {"Content-Type": "application/json"})
    check(st == 401, "no Authorization: %d" % st)
    # Malformed bodies: 400.
    for b in (b"{}", b"nope", json.dumps({"approver": "bob", "totp": "1", "x": 1}).encode(),
              json.dumps({"approver": "bob", "totp": 123456}).encode()):
        st, _, _ = svc.request("POST", "/v1/requests/%s/approve" % rid, b,
                               {"Authorization": "Bearer " + svc.tokens["bob"]})
        check(st == 400, "malformed vote %r: %d" % (b, st))

    # Unknown request: 404 (after authentication).
    code = svc.code("erin")
    check(svc.vote("00000000-0000-4000-8000-000000000000", "erin", code=code)[0] == 404,
          "vote on unknown request")
    # The code it spent stays spent: not replayable on a real request.
    st, data, _ = svc.vote(rid, "erin", code=code)
    check(st == 401, "code spent on an unknown request, replayed: %d %r" % (st, data))
    # Not designated (erin is an approver, not named by the request): 403.
    check(svc.vote(rid, "erin")[0] == 403, "not designated")

    # A long poll waiting while bob then carol approve.
    result = {}

    def waiter():
        t0 = time.monotonic()
        st, data, hdr = svc.poll(rid, wait=30)
        result.update(st=st, data=data, hdr=hdr, done=time.monotonic())
        result["t0"] = t0

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)

    # First approval: still pending; replaying the same code is refused.
    code = svc.code("bob")
    st, data, hdr = svc.vote(rid, "bob", code=code, comment="Confirmed on the bridge")
    check(st == 200 and json.loads(data)["status"] == "pending", "bob approves: %d" % st)
    check(svc.verify_decision(data, hdr), "vote answer is signed")
    st, _, _ = svc.vote(rid, "bob", code=code)
    check(st == 401, "replayed TOTP code: %d" % st)
    # A comment with a bidi override or a C1 control: refused, no vote counted.
    # A fixed code: the comment is refused before the code is looked at, and
    # three fresh codes would wait a TOTP period, past the poll's 30 s wait.
    for bad in ("ok\u202e", "ok\u0085x", "tab\tx"):
        st, data, _ = svc.vote(rid, "dave", code="000000", comment=bad)
        check(st == 400 and b"bidirectional" in data, "comment %r: %d %r" % (bad, st, data))
    # Duplicate vote, with a fresh code: 409.
    check(svc.vote(rid, "bob")[0] == 409, "duplicate vote")

    # Pending list.
    st, data, _ = svc.request("GET", "/v1/requests?status=pending",
                              headers={"Authorization": "Bearer " + svc.tokens["erin"]})
    lst = json.loads(data)["requests"] if st == 200 else []
    check(st == 200 and len(lst) == 1 and lst[0]["request_id"] == rid and
          "nonce" not in lst[0] and lst[0]["approvals"][0]["approver"] == "bob",
          "pending list: %d %r" % (st, data[:200]))
    check(svc.request("GET", "/v1/requests?status=pending")[0] == 401, "list needs a token")
    check(svc.request("GET", "/v1/requests?status=approved", headers={
        "Authorization": "Bearer " + svc.tokens["bob"]})[0] == 400, "only pending")
    check(th.is_alive(), "the poll waits while pending")

    # Deciding vote.
    t_vote = time.monotonic()
    st, data, hdr = svc.vote(rid, "carol")
    t_answer = time.monotonic()
    dec = json.loads(data)
    check(st == 200 and dec["status"] == "approved", "carol approves: %d %r" % (st, dec))
    th.join(35)
    check(result.get("st") == 200, "long poll answered: %r" % result.get("st"))
    if result.get("st") == 200:
        final = json.loads(result["data"])
        check(final["status"] == "approved" and
              [a["approver"] for a in final["approvals"]] == ["bob", "carol"] and
              final["approvals"][0]["comment"] == "Confirmed on the bridge" and
              final["denials"] == [] and final["incident"] == doc["incident"],
              "final decision: %r" % final)
        check(svc.verify_decision(result["data"], result["hdr"]),
              "final decision signature verifies with openssl pkeyutl")
        print("long poll answered %.1f ms after the deciding vote was sent "
              "(vote round trip %.1f ms)" % ((result["done"] - t_vote) * 1000,
                                             (t_answer - t_vote) * 1000))
    # Decided: no more votes.
    check(svc.vote(rid, "dave")[0] == 409, "vote on a decided request")

    # Self-approval: the operator as approver.
    st, _, doc2, _ = svc.create(operator="dave", approvers=["bob", "carol", "dave"])
    check(st == 201, "create 2: %d" % st)
    check(svc.vote(doc2["request_id"], "dave")[0] == 403, "self-approval")
    # One denial is a veto.
    st, data, _ = svc.vote(doc2["request_id"], "carol", action="deny", comment="no")
    dec = json.loads(data)
    check(st == 200 and dec["status"] == "denied" and dec["denials"][0]["approver"] ==
          "carol", "denial veto: %r" % dec)
    check(svc.vote(doc2["request_id"], "bob")[0] == 409, "vote on a denied request")
    time.sleep(1.1)
    st, data, hdr = svc.poll(doc2["request_id"], wait=5)
    check(st == 200 and json.loads(data)["status"] == "denied", "denied poll at once")

    # Server quorum above the request's: quorum 1 requested, 2 needed.
    st, _, doc3, _ = svc.create(quorum=1, approvers=["bob", "carol", "frank"])
    st, data, _ = svc.vote(doc3["request_id"], "frank")
    check(json.loads(data)["status"] == "pending", "server quorum 2 applies")

    # The journal: votes and decisions with approver and source address.
    recs = svc.journal()
    votes = [r for r in recs if r["event"] == "approval.voted"]
    check(len(votes) == 4 and all(r.get("source") == "127.0.0.1" for r in votes),
          "journaled votes: %r" % votes)
    check(any(r["event"] == "approval.approved" and r.get("approvers") == ["bob", "carol"]
              for r in recs), "approval.approved journaled")
    check(any(r["event"] == "approval.denied" for r in recs), "approval.denied journaled")
finally:
    svc.cleanup()
adlib.finish()
