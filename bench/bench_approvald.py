#!/usr/bin/env python3
"""Benchmark of breakglass-approvald on loopback (plain HTTP, a private
database and journal in a temporary directory):

1. requests filed per second (signed POST /v1/requests, several clients);
2. resident memory of the daemon holding N concurrent long polls
   (GET ?wait=30 on N pending requests), against the 100 MiB budget;
3. requests decided per second (two approvals each, token and TOTP checked,
   journaled and signed), and how long after each deciding vote its waiting
   poll was answered (p50, p99; budget 50 ms).

Usage: bench_approvald.py [N]   (default 1000)
Environment: top_builddir, top_srcdir."""
import os
import resource
import selectors
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

srcdir = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(srcdir, "tests", "approvald"))
import adlib  # noqa: E402

CLIENTS = 8
NAPPROVERS = 200
# Approver codes: replay refusal allows one vote per approver per TOTP step,
# so the bench widens the window to 10 steps and spreads votes over approvers.
TOTP_WINDOW = 10
RSS_BUDGET_MIB = 100
LATENCY_SAMPLES = 100


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def timed_parallel(fn, items):
    t0 = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as ex:
        results = list(ex.map(fn, items))
    return time.monotonic() - t0, results


def open_poll(svc, rid, ts):
    target = "/v1/requests/%s?wait=30" % rid
    h = svc.signed_headers("mx1.example.net", "GET", target, b"", ts=ts)
    req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % target
    req += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    s = socket.create_connection(("127.0.0.1", svc.port))
    s.sendall(req.encode())
    return s


def report(what, lat):
    if lat:
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print("%s: deciding vote sent -> waiting poll answered, %d polls: "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms (budget p99 50 ms)" %
              (what, len(lat), statistics.median(lat), p99, lat[-1]))


class wait_answers(threading.Thread):
    """Records when each poll socket's answer arrives."""

    def __init__(self, socks, rids):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        self.at = {}
        for s, rid in zip(socks, rids):
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, rid)
        self.n = len(rids)
        self.start()

    def run(self):
        deadline = time.monotonic() + 300
        while self.sel.get_map() and time.monotonic() < deadline:
            for key, _ in self.sel.select(timeout=1):
                self.at.setdefault(key.data, time.monotonic())
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * n + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 2 * n + 64:
        print("bench_approvald: open-file limit %d too low for %d polls" % (want, n))
        return 1
    approvers = ["a%03d" % i for i in range(NAPPROVERS)]
    svc = adlib.Service(quorum=2, approvers=approvers,
                        extra_server="totp_window = %d" % TOTP_WINDOW)
    try:
        svc.start()
        pid = svc.proc.pid
        rss_idle = rss_kib(pid)

        # 1. Filing.
        def create(i):
            pair = [approvers[(2 * i) % NAPPROVERS], approvers[(2 * i + 1) % NAPPROVERS]]
            st, _, doc, _ = svc.create(approvers=pair)
            if st != 201:
                raise RuntimeError("create: %d" % st)
            return doc["request_id"]

        dt, rids = timed_parallel(create, range(n))
        print("filed:   %d requests in %.2f s = %.0f requests/s (%d clients)" %
              (n, dt, n / dt, CLIENTS))

        # 2. N concurrent long polls, held on the pending requests.
        now = int(time.time())
        socks = [open_poll(svc, rid, now) for rid in rids]
        time.sleep(1.0)
        rss = rss_kib(pid)
        print("polls:   %d concurrent long polls held; daemon RSS %.1f MiB "
              "(idle %.1f MiB; budget %d MiB)" % (n, rss / 1024, rss_idle / 1024,
                                                  RSS_BUDGET_MIB))

        # 3. Deciding: two approvals per request; each answers its waiting poll.
        answered = wait_answers(socks, rids)
        decided_at = {}

        def decide(i):
            for a in (approvers[(2 * i) % NAPPROVERS], approvers[(2 * i + 1) % NAPPROVERS]):
                code = svc.code(a, window=TOTP_WINDOW)
                t = time.monotonic()
                st, _, _ = svc.vote(rids[i], a, code=code)
                if st != 200:
                    raise RuntimeError("vote %s: %d" % (a, st))
            decided_at[rids[i]] = t

        dt, _ = timed_parallel(decide, range(n))
        print("decided: %d requests (%d votes) in %.2f s = %.0f requests/s, %.0f votes/s" %
              (n, 2 * n, dt, n / dt, 2 * n / dt))
        answered.join()
        # Polls still held when their request was decided (not timed out at 30 s).
        lat = sorted((answered.at[r] - decided_at[r]) * 1000 for r in rids
                     if r in answered.at and answered.at[r] >= decided_at[r])
        report("answer under load (%d voting clients)" % CLIENTS, lat)

        # 4. The same, one decision at a time: the latency an operator sees.
        lat = []
        for i in range(LATENCY_SAMPLES):
            pair = [approvers[(2 * i) % NAPPROVERS], approvers[(2 * i + 1) % NAPPROVERS]]
            st, _, doc, _ = svc.create(approvers=pair)
            svc.vote(doc["request_id"], pair[0], code=svc.code(pair[0], window=TOTP_WINDOW))
            w = wait_answers([open_poll(svc, doc["request_id"], int(time.time()))],
                             [doc["request_id"]])
            time.sleep(0.02)
            code = svc.code(pair[1], window=TOTP_WINDOW)
            t = time.monotonic()
            svc.vote(doc["request_id"], pair[1], code=code)
            w.join()
            lat.append((w.at[doc["request_id"]] - t) * 1000)
        report("answer one at a time", sorted(lat))
        print("peak:    daemon VmHWM %.1f MiB" % (rss_kib(pid, "VmHWM") / 1024))
        return 0 if rss / 1024 < RSS_BUDGET_MIB else 1
    finally:
        svc.cleanup()


if __name__ == "__main__":
    sys.exit(main())
