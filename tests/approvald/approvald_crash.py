#!/usr/bin/env python3
"""Group commit under SIGKILL (approvald/votegroup.c).

Eight clients vote at once, so votes are served in groups of several; the
daemon is SIGKILLed inside that stream, restarted on the same database,
journal and key state, and killed again, once per crash point.  The crash
points are the daemon's syncs: run under strace, the Nth fdatasync of the
votes (N = 1 to CRASH_POINTS) is replaced by SIGKILL; a group syncs its
votes' commit, its records and its decisions' commit (the key state is
rewritten after the records' sync, without a sync of its own), so every
step of a group is hit, the records' sync among them (the key state then
lags by the group's records).  Without strace, the kill comes at a
random moment.  After every kill, before anything appends:

  - `breakglass verify --key K_1 --state journal.state` passes: a group's
    records whose key-state store the kill lost are adopted as the writer
    adopts them (journal.md, section 6), never refused;
  - every approval.voted in the journal is a vote in the database (a vote is
    committed before it is journaled);
  - every request the database holds decided has its decision in the journal,
    naming exactly the approvers of its votes (a decision is journaled before
    it is committed, and counts no vote the journal does not name);
  - no request is approved without a quorum of votes.

Then the daemon restarts (its first append adopts what the kill left), every
pending request is polled (deciding what the kill left undecided), and the
same holds with no adoption pending.  No timing is asserted.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

CRASH_POINTS = 12
REQUESTS = 60
CLIENTS = 8
APPROVERS = ["a%02d" % i for i in range(60)]
TOTP_WINDOW = 10
KILL_AFTER_S = (0.02, 0.25)


def strace_works():
    """strace is installed and may trace here (ptrace can be denied, as in
    some containers): then the kills come at the syncs, else at random."""
    path = shutil.which("strace")
    if path is None:
        return None
    r = subprocess.run([path, "-f", "-qq", "-o", os.devnull, "true"], capture_output=True)
    return path if r.returncode == 0 else None


STRACE = strace_works()
DIE_DEADLINE_S = 30


def verify(svc):
    """verify --key K_1 --state: (passed, output)."""
    cli = os.path.join(adlib.top_builddir, "cli", "breakglass")
    kf = svc.dir + "/k1"
    adlib.write(kf, svc.k1 + "\n")
    r = subprocess.run([cli, "verify", "--key", kf, "--state", svc.dir + "/state/journal.state",
                        svc.dir + "/log/journal.jsonl"], capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def consistent(svc, when):
    journal = svc.journal()
    votes = {}
    for rid, approver, approve in svc.sql("SELECT request_id, approver, approve FROM votes"):
        votes.setdefault(rid, {})[approver] = approve in (1, True, "t", "true")
    for rec in journal:
        if rec.get("event") == "approval.voted":
            rid = rec.get("request_id")
            check(rec.get("approver") in votes.get(rid, {}),
                  "%s: journaled vote %s on %s is in the database" %
                  (when, rec.get("approver"), rid))
    decided = {}
    for rec in journal:
        if rec.get("event") in ("approval.approved", "approval.denied"):
            decided[rec.get("request_id")] = rec
    for rid, status in svc.sql("SELECT id, status FROM requests"):
        if status not in ("approved", "denied"):
            continue
        rec = decided.get(rid)
        check(rec is not None and rec["event"] == "approval." + status,
              "%s: %s %s is journaled" % (when, rid, status))
        counted = sorted(a for a, ok in votes.get(rid, {}).items()
                         if ok == (status == "approved"))
        if rec is not None:
            check(sorted(rec.get("approvers", [])) == counted,
                  "%s: %s's decision names its votes: %r / %r" %
                  (when, rid, rec.get("approvers"), counted))
        if status == "approved":
            check(len(counted) >= 2, "%s: %s approved with a quorum" % (when, rid))


def crash_at(pid, n):
    """strace attached to every thread of the daemon: its nth fdatasync from
    now is SIGKILL instead.  Returns once every thread is attached."""
    tracer = subprocess.Popen([STRACE, "-f", "-p", str(pid), "-o", "/dev/null",
                               "-e", "trace=fdatasync",
                               "-e", "inject=fdatasync:signal=SIGKILL:when=%d" % n],
                              stderr=subprocess.PIPE, text=True)
    # "strace: Process PID attached with N threads"
    line = tracer.stderr.readline()
    check("attached" in line, "strace attached to the daemon: %r" % line)
    return tracer


def storm(svc, rids, pairs):
    """Votes from CLIENTS threads until the daemon dies."""
    work = [(rid, a) for rid, pair in zip(rids, pairs) for a in pair]
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                if not work:
                    return
                rid, a = work.pop(0)
            try:
                svc.vote(rid, a, code=svc.code(a, window=TOTP_WINDOW))
            except OSError:
                return  # killed

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    return threads


adlib.require_daemon()
if not os.access(os.path.join(adlib.top_builddir, "cli", "breakglass"), os.X_OK):
    print("SKIP: breakglass (the CLI) is not built")
    sys.exit(adlib.SKIP)
svc = adlib.Service(approvers=APPROVERS, totp_window=TOTP_WINDOW,
                    extra_server="host_rate = 1000000\nmax_pending_per_host = 1000000")
adopted = multi = 0
try:
    svc.start()
    rng = random.Random(int(os.environ.get("BG_TEST_SEED", "0")) or None)
    for point in range(1, CRASH_POINTS + 1):
        pairs = [rng.sample(APPROVERS, 2) for _ in range(REQUESTS)]
        rids = []
        for pair in pairs:
            st, _, doc, _ = svc.create(approvers=pair)
            check(st == 201, "point %d: create: %d" % (point, st))
            rids.append(doc["request_id"])
        tracer = STRACE and crash_at(svc.proc.pid, point)
        threads = storm(svc, rids, pairs)
        try:
            svc.proc.wait(DIE_DEADLINE_S if STRACE else rng.uniform(*KILL_AFTER_S))
        except subprocess.TimeoutExpired:
            pass
        if svc.proc.poll() is None:
            svc.proc.send_signal(signal.SIGKILL)
            svc.proc.wait()
        svc.proc = None
        svc.log.close()
        for t in threads:
            t.join(30)
        if tracer:
            tracer.wait()
            tracer.stderr.close()
        ok, out = verify(svc)
        check(ok, "point %d: verify after the kill: %s" % (point, out))
        adopted += "committed but" in out
        multi += "are committed but" in out
        consistent(svc, "point %d, killed" % point)
        svc.start()
        for rid in rids:
            st, _, _ = svc.poll(rid)
            check(st == 200, "point %d: poll %s after the restart: %d" % (point, rid, st))
        consistent(svc, "point %d, restarted" % point)
    # Deterministic: a deciding vote alone is a group of two records (its
    # approval.voted and the approval.approved it makes), one append.  Killed
    # at each of the daemon's syncs for it (on SQLite its vote's commit, that
    # append's sync and the decision's commit; on PostgreSQL, whose commits
    # are the server's syncs, the append's alone), one kill leaves both
    # records for the next append.
    deciding_syncs = 1 if svc.backend == "postgresql" else 3
    for point in range(1, deciding_syncs + 1) if STRACE else ():
        pair = rng.sample(APPROVERS, 2)
        st, _, doc, _ = svc.create(approvers=pair)
        rid = doc["request_id"]
        st, _, _ = svc.vote(rid, pair[0], code=svc.code(pair[0], window=TOTP_WINDOW))
        check(st == 200, "first vote: %d" % st)
        tracer = crash_at(svc.proc.pid, point)
        try:
            svc.vote(rid, pair[1], code=svc.code(pair[1], window=TOTP_WINDOW))
        except OSError:
            pass
        svc.proc.wait(DIE_DEADLINE_S)
        svc.proc = None
        svc.log.close()
        tracer.wait()
        tracer.stderr.close()
        ok, out = verify(svc)
        check(ok, "deciding vote killed at sync %d: verify: %s" % (point, out))
        multi += "are committed but" in out
        consistent(svc, "deciding vote killed at sync %d" % point)
        svc.start()
        check(svc.poll(rid)[0] == 200, "poll after the restart")
        consistent(svc, "deciding vote killed at sync %d, restarted" % point)
    svc.stop()
    ok, out = verify(svc)
    check(ok and "committed but" not in out, "verify at the end: %s" % out)
    # A group's records left for adoption: the case the group commit adds.
    check(multi > 0 or not STRACE, "a kill left a whole append's records to adopt")
    counts = svc.sql("SELECT status, count(*) FROM requests GROUP BY status")
    print("%d kills (%s): %d left records to adopt, %d of them several; requests: %s" %
          (CRASH_POINTS, "at each sync" if STRACE else "at random", adopted, multi,
           json.dumps(dict(counts))))
finally:
    svc.cleanup()
adlib.finish()
