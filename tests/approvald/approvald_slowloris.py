#!/usr/bin/env python3
"""breakglass-approvald under slow connections: a few hundred connections
from one address that each drip a header line (the slowloris attack) take
at most max_connections_per_ip slots, and each is closed once its request
has not arrived whole within request_timeout however often it drips; healthz,
a host poll and a vote from another address are answered meanwhile.  Held
long polls stop at max_polls (503 with Retry-After), and a vote still gets
through.  The daemon gets 512 descriptors (a 256-connection ceiling), so the
drippers alone could fill it.  Bounded: DRIPPERS sockets, DEADLINE seconds."""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

DRIPPERS = 300
DEADLINE = 60
# The attacker: another loopback address (all of 127/8 is local on Linux).
ATTACKER = "127.0.0.2"

adlib.require_daemon()
adlib.WRAPPER = ["prlimit", "--nofile=512:512", "--"] + adlib.WRAPPER


def drip_open(port):
    s = socket.socket()
    s.settimeout(5)
    s.bind((ATTACKER, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    return s


def drip(socks, stop):
    """One header line per second on every open socket; counts the ones closed."""
    closed = set()
    n = 0
    while not stop.is_set():
        n += 1
        for s in socks:
            if s in closed:
                continue
            try:
                s.sendall(b"X-Drip-%d: a\r\n" % n)
            except OSError:
                closed.add(s)
        stop.wait(1)
    return closed


def answered(what, fn):
    """fn's answer, or (0, b"", {}) when it fails (timeout, reset)."""
    try:
        return fn()
    except OSError as e:
        adlib.fail("%s: %s" % (what, e))
        return 0, b"", {}


def peer_closed(s):
    """True when the service closed s (EOF or reset)."""
    s.setblocking(False)
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


svc = adlib.Service(extra_server="max_connections_per_ip = 50\nrequest_timeout = 3s\n"
                    "max_polls = 4")
socks = []
stop = threading.Event()
polls = []
try:
    svc.start()
    st, _, doc, _ = svc.create()
    rid = doc["request_id"]
    for _ in range(DRIPPERS):
        try:
            socks.append(drip_open(svc.port))
        except OSError:
            pass
    print("%d dripping connections opened from %s" % (len(socks), ATTACKER))
    t = threading.Thread(target=drip, args=(socks, stop), daemon=True)
    t.start()
    time.sleep(1.5)
    # While they drip: the legitimate side is answered.
    t0 = time.monotonic()
    st = answered("healthz", lambda: svc.request("GET", "/healthz", timeout=DEADLINE))[0]
    check(st == 200, "healthz while dripped on: %d" % st)
    st, data, _ = answered("poll", lambda: svc.poll(rid, wait=0))
    check(st == 200 and b'"status":"pending"' in data,
          "host poll while dripped on: %d" % st)
    st, data, _ = answered("vote", lambda: svc.vote(rid, "bob"))
    check(st == 200, "vote while dripped on: %d %s" % (st, data[:200]))
    print("healthz, poll and vote answered in %.1f s while %d connections dripped" %
          (time.monotonic() - t0, len(socks)))
    # Every dripper is closed by the total deadline, dripping or not.
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        open_ = [s for s in socks if not peer_closed(s)]
        if not open_:
            break
        time.sleep(0.5)
    check(not open_, "drippers still open after %d s: %d" % (DEADLINE, len(open_)))

    # Held long polls stop at max_polls; votes still get through.
    now = int(time.time())
    for i in range(4):
        polls.append(svc.open_poll(rid, now - i, wait=30, timeout=DEADLINE))
    deadline = time.monotonic() + DEADLINE
    while svc.seen_count() < 2 + 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    st, data, hdr = svc.poll(rid, wait=30)
    check(st == 503 and hdr.get("retry-after", "").isdigit(),
          "poll past max_polls: %d %r" % (st, hdr.get("retry-after")))
    st, data, _ = svc.vote(rid, "carol")
    check(st == 200 and json.loads(data)["status"] == "approved",
          "vote with max_polls held: %d %s" % (st, data[:200]))
    for s in polls:
        s.settimeout(DEADLINE)
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        check(got.startswith(b"HTTP/1.1 200") and b'"status":"approved"' in got,
              "held poll answered: %r" % got[:100])
finally:
    stop.set()
    for s in socks + polls:
        s.close()
    svc.cleanup()
adlib.finish()
