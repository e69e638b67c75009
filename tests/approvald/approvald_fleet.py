#!/usr/bin/env python3
"""breakglass-approvald at fleet scale: three instances on one PostgreSQL
database (a throwaway cluster), started at once on an empty one.  A request
filed on A is voted on B and C and the long poll held by A is answered; refiling, the replay cache, TOTP
replay, quorum counting, expiry and notifications hold across instances;
each instance's journal names it; an instance killed with SIGKILL mid-vote
loses no acknowledged vote and counts none twice."""
import http.server
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
import pglib  # noqa: E402
from adlib import check  # noqa: E402

# Bounds for a slow machine; the figures printed are the measure.
POLL_ANSWER_BOUND = 10
# statement_timeout is 15 s: a generous bound for a statement that waits for ever.
STATEMENT_BOUND = 60
RACES = 5

deliveries = {}
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        key = (body["type"], body["data"].get("request_id"))
        with lock:
            deliveries[key] = deliveries.get(key, 0) + 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def read_answer(sock):
    head, _, body = adlib.read_all(sock).partition(b"\r\n\r\n")
    return head, body


adlib.require_daemon()
pglib.require_server()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()


def notify_conf(d):
    adlib.write(d + "/notify.key", "11" * 32 + "\n")
    return ("[notify siem]\nurl = http://127.0.0.1:%d/json\nformat = json\n"
            "secret = %s/notify.key\n" % (server.server_address[1], d))


# A wide TOTP window: each approver votes about ten times within a minute.
conf = {"expiry": "5s", "notify": notify_conf, "totp_window": 10}
a = adlib.Service(backend="postgresql", instance="a", **conf)
b = adlib.Service(like=a, instance="b", **conf)
c = adlib.Service(like=a, instance="c", **conf)
fleet = [a, b, c]
try:
    # Started at once on an empty database: one creates the schema, under its
    # advisory lock, and the others wait for it.
    started = {}

    def start(svc):
        try:
            svc.start()
            started[svc] = True
        except RuntimeError as e:
            started[svc] = str(e)
    threads = [threading.Thread(target=start, args=(svc,)) for svc in fleet]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if not check(all(v is True for v in started.values()), "three instances started "
                 "at once: %r" % list(started.values())):
        adlib.finish()
    check(a.schema_version() == adlib.SCHEMA_VERSION["postgresql"], "schema created")

    # Filed on A, voted on B and C, the poll held by A answered.
    st, data, doc, body = a.create()
    check(st == 201, "file on A: %d %r" % (st, data))
    rid = doc["request_id"]
    sock = a.open_poll(rid, int(time.time()), timeout=POLL_ANSWER_BOUND)
    deadline = time.time() + POLL_ANSWER_BOUND
    while a.seen_count() < 2 and time.time() < deadline:
        time.sleep(0.02)
    st, data, _ = b.vote(rid, "bob")
    check(st == 200 and json.loads(data)["status"] == "pending",
          "bob on B: %d %r" % (st, data))
    sent = time.monotonic()
    st, data, _ = c.vote(rid, "carol")
    voted = time.monotonic()
    check(st == 200 and json.loads(data)["status"] == "approved",
          "carol on C decides: %d %r" % (st, data))
    try:
        head, answer = read_answer(sock)
        answered = time.monotonic()
        check(b" 200 " in head.split(b"\r\n")[0], "poll on A: %r" % head[:40])
        check(json.loads(answer)["status"] == "approved", "A answers approved: %r" % answer)
        hdrs = dict((k.lower(), v) for k, v in (line.decode().split(": ", 1)
                    for line in head.split(b"\r\n")[1:] if b": " in line))
        check(a.verify_decision(answer, hdrs), "A's answer is signed")
        print("poll on A answered %.1f ms after the deciding vote on C was sent "
              "(vote round trip %.1f ms)" % ((answered - sent) * 1000, (voted - sent) * 1000))
    except OSError as e:
        check(False, "the poll on A was not answered within %d s: %s" %
              (POLL_ANSWER_BOUND, e))
    finally:
        sock.close()

    # Refiling on another instance: the same answer, or 409 for another body.
    # A later timestamp: the same one would be the same signature, a replay.
    st, data, _ = b.host_call("mx1.example.net", "POST", "/v1/requests", body,
                              ts=int(time.time()) + 1)
    check(st == 201 and json.loads(data)["request_id"] == rid, "refile on B: %d" % st)
    other = json.dumps(dict(doc, reason="other"), separators=(",", ":")).encode()
    st, _, _ = c.host_call("mx1.example.net", "POST", "/v1/requests", other,
                           ts=int(time.time()) + 2)
    check(st == 409, "other body on C: %d" % st)

    # A signature seen by one instance is refused by the others.
    target = "/v1/requests/%s?wait=0" % rid
    h = a.signed_headers("mx1.example.net", "GET", target, b"")
    st, _, _ = a.request("GET", target, headers=h)
    check(st == 200, "signed poll on A: %d" % st)
    for svc in (b, c):
        st, _, _ = svc.request("GET", target, headers=h)
        check(st == 401, "the same signature replayed on %s: %d" % (svc.dir, st))

    # A TOTP code used on one instance is refused on another.
    st, _, d1, _ = a.create()
    st2, _, d2, _ = a.create()
    code = a.code("dave")
    st, data, _ = a.vote(d1["request_id"], "dave", code=code)
    check(st == 200, "dave's code on A: %d %r" % (st, data))
    st, data, _ = b.vote(d2["request_id"], "dave", code=code)
    check(st == 401, "dave's code replayed on B: %d %r" % (st, data))

    # Two approvals at once on two instances: both counted, approved once.
    for i in range(RACES):
        st, _, d, _ = a.create()
        rid2 = d["request_id"]
        codes = {"bob": b.code("bob"), "carol": c.code("carol")}
        results = {}
        threads = [threading.Thread(target=lambda s, n: results.__setitem__(
            n, s.vote(rid2, n, code=codes[n])), args=(svc, name))
            for svc, name in ((b, "bob"), (c, "carol"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(all(results[n][0] == 200 for n in results), "race %d: %r" % (i, results))
        # A vote saw the other and decided (its polls answered now), once.
        statuses = [json.loads(results[n][1])["status"] for n in results
                    if results[n][0] == 200]
        check("approved" in statuses, "race %d: a vote decides: %r" % (i, statuses))
        decided = [r for svc in fleet for r in svc.journal()
                   if r.get("event") == "approval.approved" and r.get("request_id") == rid2]
        check(len(decided) == 1, "race %d: decided once: %d" % (i, len(decided)))
        st, data, _ = a.poll(rid2)
        check(json.loads(data)["status"] == "approved", "race %d: %r" % (i, data))
        n = a.sql("SELECT count(*) FROM votes WHERE request_id = '%s'" % rid2)[0][0]
        check(n == 2, "race %d: %d votes" % (i, n))

    # Expiry: three timers, one decision, one notification.
    st, _, d, _ = a.create()
    rexp = d["request_id"]
    deadline = time.time() + 30
    while time.time() < deadline and a.sql(
            "SELECT status FROM requests WHERE id = '%s'" % rexp)[0][0] == "pending":
        time.sleep(0.2)
    time.sleep(2)
    expired = [r for svc in fleet for r in svc.journal()
               if r.get("event") == "approval.expired" and r.get("request_id") == rexp]
    check(len(expired) == 1, "one approval.expired record in the fleet: %d" % len(expired))

    # Every notification delivered once, by one instance.
    deadline = time.time() + 30
    while time.time() < deadline and a.sql("SELECT count(*) FROM notifications")[0][0]:
        time.sleep(0.2)
    with lock:
        twice = {k: v for k, v in deliveries.items() if v != 1}
        check(not twice, "notifications delivered more than once: %r" % twice)
        check(deliveries.get(("request.decided", rexp)) == 1, "expiry notified once")
        check(deliveries.get(("request.created", rid)) == 1, "filing notified once")

    # Each journal names its instance, and verifies.
    for svc, name in ((a, "a"), (b, "b"), (c, "c")):
        recs = svc.journal()
        check(recs and all(r.get("instance") == name for r in recs),
              "every record of %s names it" % name)

    # SIGKILL mid-vote: bob's vote on B acknowledged; carol's held inside its
    # transaction on B (the test holds the request's row) when B is killed.
    st, _, d, _ = a.create(approvers=["bob", "carol", "dave"], quorum=3)
    rk = d["request_id"]
    st, data, _ = b.vote(rk, "bob")
    check(st == 200, "bob on B: %d %r" % (st, data))
    holder = a.hold_row(rk)
    carol = {}

    def vote_carol():
        try:
            carol["status"] = b.vote(rk, "carol")[0]
        except OSError as e:
            carol["error"] = str(e)
    deadline = time.time() + 30
    t = threading.Thread(target=vote_carol)
    t.start()
    while time.time() < deadline and not a.waiting_on_locks():
        time.sleep(0.05)
    check(a.waiting_on_locks() == 1, "carol's vote waits inside its transaction on B")
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait()
    b.proc = None
    b.log.close()
    t.join()
    a.release_row(holder)
    check("status" not in carol, "carol's vote on B was not answered: %r" % carol)
    rows = a.sql("SELECT approver FROM votes WHERE request_id = '%s'" % rk)
    check(rows == [("bob",)], "after the kill only bob's vote is stored: %r" % rows)
    st, data, _ = c.vote(rk, "bob")
    check(st == 409, "bob again on C: already voted: %d" % st)
    for name in ("carol", "dave"):
        st, data, _ = c.vote(rk, name)
        check(st == 200, "%s on C: %d %r" % (name, st, data))
    st, data, _ = a.poll(rk)
    check(json.loads(data)["status"] == "approved", "approved after the kill: %r" % data)
    rows = a.sql("SELECT approver, count(*) FROM votes WHERE request_id = '%s' "
                 "GROUP BY approver ORDER BY approver" % rk)
    check(rows == [("bob", 1), ("carol", 1), ("dave", 1)], "one vote each: %r" % rows)

    # The database restarts: the instances' connections are made again (the
    # first call on each handle may fail, and the host tries again).
    a.cluster.restart()

    def retried(fn):
        for _ in range(3):
            r = fn()
            if r[0] != 500:
                return r
            time.sleep(0.5)
        return r
    st, data, d, _ = retried(a.create)
    check(st == 201, "filed on A after the restart: %d %r" % (st, data))
    rr = d["request_id"]
    deadline = time.time() + 30
    while time.time() < deadline and a.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
            "'breakglass-approvald' AND query LIKE 'LISTEN%'")[0][0] < 2:
        time.sleep(0.1)
    base = a.seen_count()
    sock = a.open_poll(rr, int(time.time()), timeout=POLL_ANSWER_BOUND)
    deadline = time.time() + POLL_ANSWER_BOUND
    while a.seen_count() == base and time.time() < deadline:
        time.sleep(0.02)
    for name in ("bob", "carol"):
        st, data, _ = retried(lambda: c.vote(rr, name))
        check(st == 200, "%s on C after the restart: %d %r" % (name, st, data))
    try:
        head, answer = read_answer(sock)
        check(json.loads(answer)["status"] == "approved",
              "poll on A after the restart answered: %r" % answer)
    except (OSError, ValueError) as e:
        check(False, "poll on A after the restart: %s" % e)
    finally:
        sock.close()
    deadline = time.time() + 30
    while time.time() < deadline and deliveries.get(("request.decided", rr)) != 1:
        time.sleep(0.2)
    check(deliveries.get(("request.decided", rr)) == 1,
          "notified after the restart: %r" % deliveries.get(("request.decided", rr)))

    # A database that stops answering (a row held by another session for
    # ever): the vote fails within the statements' bound instead of holding
    # the instance.
    st, _, d, _ = retried(a.create)
    rs = d["request_id"]
    holder = a.hold_row(rs)
    stuck = {}
    t0 = time.time()
    t = threading.Thread(target=lambda: stuck.update(st=c.vote(rs, "dave")[0]))
    t.start()
    t.join(STATEMENT_BOUND)
    print("the held vote answered after %.1f s" % (time.time() - t0))
    check(not t.is_alive() and stuck.get("st") == 500,
          "a vote on a row held for ever fails within %d s: %r" % (STATEMENT_BOUND, stuck))
    a.release_row(holder)
    t.join()
finally:
    for svc in fleet:
        svc.cleanup()
    server.shutdown()
adlib.finish()
