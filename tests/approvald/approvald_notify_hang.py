#!/usr/bin/env python3
"""breakglass-approvald delivers to each notification target on its own: a
target that accepts connections and never answers does not delay another.
The fast target must receive all N notifications before the hanging
target's first attempt times out (10 s), which a single queue for every
target cannot do.  A request with a very long reason is still notified, its
slack text cut with an ellipsis (it made filing fail with 500 when the
escaped text passed 64 KiB).  Bounded by DEADLINE."""
import http.server
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

N = 4
DEADLINE = 40
fast = []
bodies = []
lock = threading.Lock()


class Fast(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            fast.append(time.monotonic())
            bodies.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


hang_closed = []
hang_conns = []


def hang_serve(ls):
    """Accepts, reads, never answers; records when the client gives up."""
    def one(c):
        c.settimeout(DEADLINE)
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        with lock:
            hang_closed.append(time.monotonic())
    while True:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        with lock:
            hang_conns.append(c)
        threading.Thread(target=one, args=(c,), daemon=True).start()


adlib.require_daemon()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fast)
threading.Thread(target=server.serve_forever, daemon=True).start()
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(64)
threading.Thread(target=hang_serve, args=(ls,), daemon=True).start()
# The hanging target first: a single queue would try it first.
notify = "\n".join([
    "[notify hang]", "url = http://127.0.0.1:%d/" % ls.getsockname()[1],
    "format = slack", "",
    "[notify chat]", "url = http://127.0.0.1:%d/slack" % server.server_address[1],
    "format = slack", ""])
svc = adlib.Service(notify=notify)
try:
    svc.start()
    for _ in range(N):
        st = svc.create()[0]
        check(st == 201, "create: %d" % st)
    # Each target's worker opens its own database connection first (on
    # PostgreSQL, one after the other): the hanging target may be tried
    # only after the fast one is served, so both are waited for.
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        with lock:
            if len(fast) >= N and hang_conns:
                break
        time.sleep(0.05)
    with lock:
        got, closed, tried = list(fast), list(hang_closed), len(hang_conns)
    check(len(got) == N, "fast target received %d of %d" % (len(got), N))
    check(tried >= 1, "the hanging target was tried")
    check(got and (not closed or got[-1] < closed[0]),
          "fast target served before the hanging target's first timeout "
          "(last fast at %s, first hang timeout at %s)" %
          (got[-1] if got else None, closed[0] if closed else None))

    # A long reason: filed (or refused as too long, never 500), and notified cut.
    st = svc.create(reason="<" * 20000)[0]
    check(st in (201, 400), "request with a 20,000-character reason: %d" % st)
    if st == 201:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            with lock:
                if len(bodies) > N:
                    break
            time.sleep(0.05)
        with lock:
            text = json.loads(bodies[N])["text"] if len(bodies) > N else ""
        check("&lt;" * 100 in text and "\u2026" in text and len(text) < 20000,
              "long reason notified, cut: %d characters" % len(text))
finally:
    svc.cleanup()
    server.shutdown()
    ls.close()
adlib.finish()
