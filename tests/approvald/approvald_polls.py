#!/usr/bin/env python3
"""breakglass-approvald holds more long polls than a login shell's 1,024
open files: started with a soft limit of 1,024 (and a higher hard limit, as
LimitNOFILE= gives), it raises its own limit, holds every poll, answers each
one with the signed decision once the request is decided, and still answers
/healthz.  Each connection's headers get 8 KiB: more is refused with 431.
Bounded in count (POLLS) and time (DEADLINE)."""
import json
import os
import resource
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

POLLS = 1500
REQUESTS = 10
DEADLINE = 120
HARD = 4096

adlib.require_daemon()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < HARD:
    print("SKIP: open-file hard limit %d below %d" % (hard, HARD))
    sys.exit(adlib.SKIP)
resource.setrlimit(resource.RLIMIT_NOFILE, (HARD, hard))
# The daemon starts as from a shell: soft 1,024, hard above.
adlib.WRAPPER = ["prlimit", "--nofile=1024:%d" % HARD, "--"] + adlib.WRAPPER


def status_with_header(svc, size):
    """The status line of GET /healthz carrying one header of size bytes."""
    s = socket.create_connection(("127.0.0.1", svc.port), timeout=DEADLINE)
    try:
        s.sendall(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: %s\r\n"
                   "Connection: close\r\n\r\n" % ("a" * size)).encode())
        return s.recv(100).split(b"\r\n")[0]
    finally:
        s.close()


# One vote per approver: a TOTP code is good once.
APPROVERS = ["a%02d" % i for i in range(2 * REQUESTS)]
# Every poll comes from 127.0.0.1: no per-address limit here.
svc = adlib.Service(approvers=APPROVERS, extra_server="max_connections_per_ip = 0")
socks = []
try:
    svc.start()
    check(status_with_header(svc, 3000) == b"HTTP/1.1 200 OK", "3 KB of headers")
    st = status_with_header(svc, 9000)
    check(st.startswith(b"HTTP/1.1 431"), "9 KB of headers: %r" % st)
    rids = []
    for i in range(REQUESTS):
        st, _, doc, _ = svc.create(approvers=APPROVERS[2 * i:2 * i + 2])
        check(st == 201, "create: %d" % st)
        rids.append(doc["request_id"])
    base = svc.seen_count()
    now = int(time.time())
    # Distinct timestamps: no two polls share a signature (replay refusal).
    for i in range(POLLS):
        socks.append((rids[i % REQUESTS], svc.open_poll(rids[i % REQUESTS],
                                                        now - i // REQUESTS,
                                                        timeout=DEADLINE)))
    deadline = time.monotonic() + DEADLINE
    while svc.seen_count() - base < POLLS and time.monotonic() < deadline:
        time.sleep(0.2)
    held = svc.seen_count() - base
    check(held == POLLS, "polls held: %d of %d" % (held, POLLS))
    check(svc.request("GET", "/healthz")[0] == 200, "healthz while holding the polls")

    for i, rid in enumerate(rids):
        for a in APPROVERS[2 * i:2 * i + 2]:
            st, data, _ = svc.vote(rid, a)
            check(st == 200, "vote %s on %s: %d %s" % (a, rid, st, data[:200]))

    # Every poll gets the approved decision, signed.
    sel = selectors.DefaultSelector()
    bufs = {}
    for rid, s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, rid)
        bufs[s] = b""
    answers = {}
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            if data:
                bufs[key.fileobj] += data
                continue
            sel.unregister(key.fileobj)
            answers[key.fileobj] = (key.data, bufs[key.fileobj])
    check(len(answers) == POLLS, "polls answered: %d of %d" % (len(answers), POLLS))
    approved = signed = 0
    for rid, raw in answers.values():
        head, _, body = raw.partition(b"\r\n\r\n")
        try:
            doc = json.loads(body)
        except ValueError:
            continue
        if (head.startswith(b"HTTP/1.1 200") and doc.get("request_id") == rid and
                doc.get("status") == "approved"):
            approved += 1
        if b"\r\nX-Breakglass-Decision-Signature: ed25519=" in head:
            signed += 1
    check(approved == POLLS, "approved decisions: %d of %d" % (approved, POLLS))
    check(signed == POLLS, "signed decisions: %d of %d" % (signed, POLLS))
    # One signature checked in full; they all come from the same key.
    rid, raw = next(iter(answers.values()), ("", b""))
    head, _, body = raw.partition(b"\r\n\r\n")
    hdrs = dict((k.strip().lower(), v.strip()) for k, _, v in
                (line.decode().partition(":") for line in head.split(b"\r\n")[1:]))
    check(svc.verify_decision(body, hdrs), "decision signature verifies")
    check(svc.request("GET", "/healthz")[0] == 200, "healthz after the answers")
finally:
    for _, s in socks:
        s.close()
    svc.cleanup()
adlib.finish()
