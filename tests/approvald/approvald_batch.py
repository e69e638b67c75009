#!/usr/bin/env python3
"""Batch approval of an incident (approvald/batch.c): three requests from
three hosts, each host holding its long poll; two approvers approve them all
from their sessions, one confirmation each; every host's poll is answered
with its own signed decision, the journal has one approval.voted per vote,
and a request the approver filed (self-approval), an unknown id and a
second vote are refused inside the batch while the others pass.  Malformed
batches (duplicates, too many, no session) are refused whole."""
import json
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

adlib.require_daemon()
HOSTS = ["mx1.example.net", "mx2.example.net", "mx3.example.net"]


def answer(sock):
    """(status line, headers, body) of the HTTP answer a raw socket got."""
    raw = adlib.read_all(sock)
    sock.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict((k.strip().lower(), v.strip()) for k, v in
                   (ln.split(":", 1) for ln in lines[1:]))
    return lines[0], headers, body


svc = adlib.Service(totp_window=5, hosts=HOSTS)
try:
    svc.start()
    rids = []
    for h in HOSTS:
        st, _, doc, _ = svc.create(host=h, incident="INC-7")
        check(st == 201, "filed on %s: %d" % (h, st))
        rids.append(doc["request_id"])
    # carol is the operator of a fourth: she cannot approve it, in a batch or not.
    st, _, doc, _ = svc.create(host="mx1.example.net", incident="INC-7", operator="carol",
                               approvers=["bob", "carol", "dave"])
    own = doc["request_id"]
    now = int(time.time())
    polls = [svc.open_poll(rid, now, host=h) for rid, h in zip(rids, HOSTS)]
    deadline = time.monotonic() + 20
    while svc.seen_count() < 7 and time.monotonic() < deadline:
        time.sleep(0.1)
    check(svc.seen_count() == 7, "three polls held")

    st, bob, bob_cookie, _ = svc.signin("bob")
    st, carol, carol_cookie, _ = svc.signin("carol")
    check(bob_cookie and carol_cookie, "bob and carol signed in")

    # -- refused whole -------------------------------------------------------
    st, out, _ = svc.batch([rids[0], rids[0]], bob_cookie, bob["csrf"], "bob",
                           code="123456")
    check(st == 400 and "twice" in out.get("error", ""), "duplicate ids: %d %r" % (st, out))
    st, out, _ = svc.batch([str(uuid.uuid4()) for _ in range(51)], bob_cookie,
                           bob["csrf"], "bob", code="123456")
    check(st == 400 and "50" in out.get("error", ""), "51 ids: %d %r" % (st, out))
    st, out, _ = svc.batch([], bob_cookie, bob["csrf"], "bob", code="123456")
    check(st == 400, "no id: %d" % st)
    st, out, _ = svc.batch(["a,b"], bob_cookie, bob["csrf"], "bob", code="123456")
    check(st == 400, "an id with a comma: %d" % st)
    st, out, _ = svc.batch(rids, bob_cookie, bob["csrf"], "bob", action="maybe",
                           code="123456")
    check(st == 400, "unknown action: %d" % st)
    st, data, _ = svc.request("POST", "/v1/batch", json.dumps(
        {"action": "approve", "requests": rids, "confirm": {"totp": svc.code("bob")}}).encode(),
        {"Content-Type": "application/json", "Authorization": "Bearer " + svc.tokens["bob"]})
    check(st == 401, "a batch needs a session, not a token: %d" % st)
    check(svc.sql("SELECT count(*) FROM votes")[0][0] == 0, "no vote yet")

    # -- bob: one confirmation, four votes -----------------------------------
    st, out, _ = svc.batch(rids + [own], bob_cookie, bob["csrf"], "bob",
                           comment="INC-7 bridge")
    res = dict((x["id"], x) for x in out.get("results", []))
    check(st == 200 and len(res) == 4 and all(x["code"] == 200 and x["status"] == "pending"
                                              for x in res.values()),
          "bob's batch: %d %r" % (st, out))
    # -- carol: her own request refused, an unknown id refused, the rest decided --
    ghost = str(uuid.uuid4())
    st, out, _ = svc.batch(rids + [own, ghost], carol_cookie, carol["csrf"], "carol")
    res = dict((x["id"], x) for x in out.get("results", []))
    check(st == 200 and len(res) == 5, "carol's batch: %d %r" % (st, out))
    check(all(res[r]["code"] == 200 and res[r]["status"] == "approved" for r in rids),
          "the three approved: %r" % res)
    check(res.get(own, {}).get("code") == 403 and "operator" in res[own].get("error", ""),
          "self-approval refused inside the batch: %r" % res.get(own))
    check(res.get(ghost, {}).get("code") == 404, "unknown id: %r" % res.get(ghost))
    st, out, _ = svc.batch([own], bob_cookie, bob["csrf"], "bob")
    check(st == 200 and out["results"][0]["code"] == 409, "a second vote: %r" % out)

    # -- each host's held poll: its own signed decision ------------------------
    for rid, h, sock in zip(rids, HOSTS, polls):
        line, headers, body = answer(sock)
        dec = json.loads(body) if body else {}
        check(" 200 " in line and dec.get("request_id") == rid and
              dec.get("status") == "approved" and dec.get("host") == h,
              "%s's poll answered with its decision: %s %r" % (h, line, dec))
        check(svc.verify_decision(body, headers), "%s's decision signature" % h)
        check([a["approver"] for a in dec.get("approvals", [])] == ["bob", "carol"],
              "%s: both votes in the decision" % h)
    st, data, _ = svc.poll(own)
    check(json.loads(data).get("status") == "pending", "carol's own request still pending")

    # -- the journal: one approval.voted per vote ------------------------------
    voted = [e for e in svc.journal() if e["event"] == "approval.voted"]
    per = dict((r, [e["approver"] for e in voted if e.get("request_id") == r])
               for r in rids + [own])
    check(len(voted) == 7 and all(per[r] == ["bob", "carol"] for r in rids) and
          per[own] == ["bob"], "approval.voted per request: %r" % per)
    check(all(e.get("comment") == "INC-7 bridge" for e in voted if e["approver"] == "bob"),
          "the batch's comment on each vote")
    v = svc.verify_journal()
    if v is not None:
        check(v[0], "breakglass verify: %s" % v[1])
        # The compliance report of the service's journal: votes are no refusal.
        r = subprocess.run([os.path.join(adlib.top_builddir, "cli", "breakglass"), "report",
                            "--format", "json", "--incident", "INC-7", "--key",
                            svc.dir + "/k1", svc.dir + "/log/journal.jsonl"],
                           capture_output=True, text=True)
        rep = json.loads(r.stdout) if r.returncode == 0 else {}
        incs = rep.get("incidents", [])
        check(r.returncode == 0 and incs and all("approval_refused" not in i for i in incs) and
              any(i.get("approved_at") for i in incs),
              "breakglass report: INC-7 approved, nothing refused: %d %s %r" %
              (r.returncode, r.stderr[-300:], [(i.get("approved_at"),
                                                 i.get("approval_refused")) for i in incs]))
finally:
    svc.cleanup()
adlib.finish()
