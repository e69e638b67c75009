#!/usr/bin/env python3
"""breakglass-approvald on PostgreSQL, the statements it sends ahead of
their answers (approvald/store_pg_pipeline.c: BEGIN, savepoints, the TOTP
state's writes, a decision's announcement) and the request read with its
votes in one round trip:

1. a TOTP state write that fails inside a group of votes fails that vote
   alone, and nothing of its transaction is kept (its code is not spent,
   no vote, no record), while the group's other votes are;
2. a decision's announcement (pg_notify) that fails fails the transaction
   deciding the request: it stays pending, undecided in the journal, until
   a later load decides it;
3. two votes on two instances waiting for one request's row: the second
   one to get it reads the first one's vote (the votes are read after the
   lock) and decides, once."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
import pglib  # noqa: E402
from adlib import check  # noqa: E402

LOCK_BOUND = 30

adlib.require_daemon()
pglib.require_server()


def voted(svc, approver, rid):
    return [r for r in svc.journal() if r.get("event") == "approval.voted" and
            r.get("approver") == approver and r.get("request_id") == rid]


def in_threads(calls):
    """Runs each (name, fn) in a thread of its own; their results by name."""
    out = {}
    threads = [threading.Thread(target=lambda n=n, f=f: out.__setitem__(n, f()))
               for n, f in calls]
    for t in threads:
        t.start()
    return threads, out


def wait_locks(svc, n):
    deadline = time.time() + LOCK_BOUND
    while time.time() < deadline and svc.waiting_on_locks() < n:
        time.sleep(0.05)
    return svc.waiting_on_locks()


a = adlib.Service(backend="postgresql", totp_window=10)
b = adlib.Service(like=a, totp_window=10)
try:
    a.start()
    b.start()

    # 1. frank's vote waits for a row held by another session; the votes sent
    # meanwhile are parked and served as one group once it is released.
    names = ("bob", "carol", "erin", "dave")
    r0 = a.create(approvers=["frank", "bob"])[2]["request_id"]
    rids = {n: a.create(approvers=[n, "frank"])[2]["request_id"] for n in names}
    a.sql("ALTER TABLE approver_totp ADD CONSTRAINT test_failing_write "
          "CHECK (approver <> 'erin' OR last_step = 0)")
    holder = a.hold_row(r0)
    first, res0 = in_threads([("frank", lambda: a.vote(r0, "frank"))])
    check(wait_locks(a, 1) == 1, "frank's vote waits for the held row")
    codes = {n: a.code(n) for n in names}
    rest, res = in_threads([(n, lambda n=n: a.vote(rids[n], n, code=codes[n]))
                            for n in names])
    time.sleep(1)  # parked meanwhile: not asserted, the checks hold either way
    a.release_row(holder)
    for t in first + rest:
        t.join()
    check(res0["frank"][0] == 200, "frank's vote: %r" % (res0["frank"],))
    for n in ("bob", "carol", "dave"):
        check(res[n][0] == 200 and json.loads(res[n][1])["status"] == "pending",
              "%s's vote in the group: %r" % (n, res[n]))
    check(res["erin"][0] == 500, "erin's vote, whose TOTP state cannot be written, "
          "fails: %r" % (res["erin"],))
    rows = a.sql("SELECT approver FROM votes ORDER BY approver")
    check(rows == [("bob",), ("carol",), ("dave",), ("frank",)],
          "the group's other votes are kept, erin's is not: %r" % rows)
    check(a.sql("SELECT last_step FROM approver_totp WHERE approver = 'erin'") in ([], [(0,)]),
          "erin's TOTP state is not written")
    check(not voted(a, "erin", rids["erin"]), "no approval.voted record for erin")
    a.sql("ALTER TABLE approver_totp DROP CONSTRAINT test_failing_write")
    st, data, _ = a.vote(rids["erin"], "erin", code=codes["erin"])
    check(st == 200, "erin's code was not spent by the failed vote: %d %r" % (st, data))

    # 2. The deciding transaction cannot announce its decision.
    st, _, d, _ = a.create()
    r2 = d["request_id"]
    check(a.vote(r2, "bob")[0] == 200, "bob votes")
    a.cluster.psql("REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC",
                   db=a.dbname)
    st, data, _ = a.vote(r2, "carol")
    check(st == 500, "carol's deciding vote cannot be decided: %d %r" % (st, data))
    check(a.sql("SELECT status FROM requests WHERE id = '%s'" % r2) == [("pending",)],
          "the decision is not committed")
    check(voted(a, "carol", r2), "carol's vote, committed, is journaled")
    decided = [r for r in a.journal() if r.get("event") == "approval.approved" and
               r.get("request_id") == r2]
    check(not decided, "no approval.approved record for the decision not committed")
    a.cluster.psql("GRANT EXECUTE ON FUNCTION pg_notify(text, text) TO PUBLIC",
                   db=a.dbname)
    st, data = a.poll(r2)[:2]
    check(st == 200 and json.loads(data)["status"] == "approved",
          "decided by the next load: %d %r" % (st, data))
    decided = [r for r in a.journal() if r.get("event") == "approval.approved" and
               r.get("request_id") == r2]
    check(len(decided) == 1, "decided once: %d" % len(decided))

    # 3. Two instances' votes wait for one row; released, both are counted.
    st, _, d, _ = a.create()
    r3 = d["request_id"]
    holder = a.hold_row(r3)
    threads, res = in_threads([("bob", lambda: a.vote(r3, "bob")),
                               ("carol", lambda: b.vote(r3, "carol"))])
    check(wait_locks(a, 2) == 2, "both votes wait for the held row")
    a.release_row(holder)
    for t in threads:
        t.join()
    statuses = sorted(json.loads(res[n][1])["status"] for n in res if res[n][0] == 200)
    check(statuses == ["approved", "pending"],
          "the second vote read the first and decided: %r" % res)
    check(a.sql("SELECT status FROM requests WHERE id = '%s'" % r3) == [("approved",)],
          "approved in the database")
    decided = [r for svc in (a, b) for r in svc.journal()
               if r.get("event") == "approval.approved" and r.get("request_id") == r3]
    check(len(decided) == 1, "decided once: %d" % len(decided))
    for svc in (a, b):
        v = svc.verify_journal()
        check(v is None or v[0], "the journal verifies: %r" % (v,))
finally:
    a.cleanup()
    b.cleanup()
adlib.finish()
