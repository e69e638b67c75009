#!/usr/bin/env python3
"""breakglass-approvald against a host that fills the disk: filings are
rate-limited per host (host_rate per minute, 429 with Retry-After past it);
decided requests older than `retention` are purged with their votes, the
purge journaled as one approval.purged record (count, cutoff) and the
journal still verifying; /healthz checks the database with a write, the
signing key and the free space, and answers 503 naming what is wrong when
the disk is full (a small tmpfs, when this runs as root) or when the free
space is below min_free_space."""
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

DAY_MS = 86400 * 1000
DEADLINE = 30


def db(svc):
    return sqlite3.connect(svc.dir + "/state/approvald.db", timeout=30)


def insert(c, status, decided_ms, votes=()):
    doc = adlib.request_doc()
    c.execute("INSERT INTO requests (id, host, operator, status, body, received_ms, "
              "expires_ms, decided_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              (doc["request_id"], doc["host"], doc["operator"], status,
               json.dumps(doc).encode(), decided_ms - 60000, decided_ms + 60000,
               decided_ms if status != "pending" else None))
    for a in votes:
        c.execute("INSERT INTO votes (request_id, approver, approve, at_ms, comment) "
                  "VALUES (?, ?, 1, ?, '')", (doc["request_id"], a, decided_ms))
    return doc["request_id"]


def health(svc):
    st, data, _ = svc.request("GET", "/healthz")
    try:
        return st, json.loads(data)
    except ValueError:
        return st, {}


adlib.require_daemon()

# 1. Retention and the journaled purge, rows written with old decision times.
svc = adlib.Service(extra_server="host_rate = 5")
try:
    svc.start()
    svc.stop()
    now = int(time.time() * 1000)
    c = db(svc)
    old = [insert(c, s, now - 401 * DAY_MS, ("bob", "carol"))
           for s in ("approved", "denied", "expired")]
    recent = insert(c, "approved", now - 10 * DAY_MS, ("bob", "carol"))
    pending = insert(c, "pending", now)
    c.commit()
    c.close()
    svc.start()
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        c = db(svc)
        left = [r[0] for r in c.execute("SELECT id FROM requests")]
        nvotes = c.execute("SELECT count(*) FROM votes").fetchone()[0]
        c.close()
        if not any(r in left for r in old):
            break
        time.sleep(0.2)
    check(sorted(left) == sorted([recent, pending]), "left after the purge: %r" % left)
    check(nvotes == 2, "votes of purged requests removed: %d left" % nvotes)
    purged = [r for r in svc.journal() if r.get("event") == "approval.purged"]
    check(len(purged) == 1 and purged[0].get("count") == 3 and
          str(purged[0].get("cutoff", "")).endswith("Z"),
          "one approval.purged record: %r" % purged)
    cli = os.path.join(adlib.top_builddir, "cli", "breakglass")
    kf = svc.dir + "/k1"
    adlib.write(kf, svc.k1 + "\n")
    r = subprocess.run([cli, "verify", "--key", kf, svc.dir + "/log/journal.jsonl"],
                       capture_output=True, text=True)
    check(r.returncode == 0, "journal verifies: %s %s" % (r.stdout, r.stderr))

    # 2. host_rate: five filings a minute, then 429 with Retry-After.
    sts = [svc.create()[0] for _ in range(5)]
    check(sts == [201] * 5, "five filings: %r" % sts)
    st, data, _, _ = svc.create()
    check(st == 429, "sixth filing within the minute: %d %s" % (st, data[:200]))
    st, _, hdr = svc.host_call("mx1.example.net", "POST", "/v1/requests",
                               json.dumps(adlib.request_doc()).encode())
    check(st == 429 and hdr.get("retry-after", "").isdigit(),
          "Retry-After: %r" % hdr.get("retry-after"))
    check(svc.create(host="mx2.example.net")[0] == 201, "another host is not limited")

    # 3. healthz: database, signing key, free space.
    st, h = health(svc)
    check(st == 200 and h.get("status") == "ok" and h.get("database") == "ok" and
          h.get("signing_key") == "ok" and isinstance(h.get("free_bytes"), int),
          "healthy: %d %r" % (st, h))
finally:
    svc.cleanup()

# 4. Free space below min_free_space (a threshold above what is free).
svc = adlib.Service(extra_server="min_free_space = 100000000")
try:
    svc.start()
    st, h = health(svc)
    check(st == 503 and h.get("status") == "unhealthy" and
          "free_space" in h.get("problems", []), "low free space: %d %r" % (st, h))
finally:
    svc.cleanup()

# 5. A full disk: the database and state on a 2 MiB tmpfs, then filled.
svc = adlib.Service(extra_server="min_free_space = 1")
mnt = svc.dir + "/state"
mounted = False
try:
    if os.geteuid() == 0:
        keep = svc.dir + "/state.keep"
        os.rename(mnt, keep)
        os.mkdir(mnt, 0o755)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755",
                                  "tmpfs", mnt], capture_output=True).returncode == 0
        subprocess.run(["cp", "-a", keep + "/.", mnt], check=True)
    if not mounted:
        print("SKIP part: cannot mount a tmpfs (not root?)")
    else:
        svc.start()
        st, h = health(svc)
        check(st == 200, "healthy before the disk fills: %d %r" % (st, h))
        adlib.fill_fs(mnt + "/filler")
        st, h = health(svc)
        check(st == 503 and "free_space" in h.get("problems", []),
              "full disk: %d %r" % (st, h))
        check(svc.create()[0] != 201, "no request filed on a full disk")
        os.unlink(mnt + "/filler")
        # The database write is checked at most once a second.
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            st, h = health(svc)
            if st == 200:
                break
            time.sleep(0.3)
        check(st == 200, "healthy once space is back: %d %r" % (st, h))
finally:
    svc.stop()
    if mounted:
        subprocess.run(["umount", "-l", mnt])
    svc.cleanup()
adlib.finish()
