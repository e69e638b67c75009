#!/usr/bin/env python3
"""breakglass-approvald stopped while votes keep arriving: eight clients
post votes (good and bad) on kept-alive connections as fast as they are
answered while SIGTERM comes, ROUNDS times.  Each stop must end cleanly:
exit status 0, every vote answered or its connection closed, never a
vote parked for a group thread that is gone (libmicrohttpd aborts on a
connection left suspended; the sanitizers report a use after free)."""
import http.client
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

ROUNDS = 6
CLIENTS = 8


def hammer(port, rid, stop, answered):
    body = json.dumps({"approver": "bob", "totp": "000000", "comment": ""}).encode()
    c = None
    while not stop.is_set():
        try:
            if c is None:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/v1/requests/%s/approve" % rid, body=body,
                      headers={"Content-Type": "application/json",
                               "Authorization": "Bearer not-a-token"})
            r = c.getresponse()
            r.read()
            answered.append(r.status)
        except (OSError, http.client.HTTPException):
            if c is not None:
                c.close()
            c = None
            time.sleep(0.01)
    if c is not None:
        c.close()


adlib.require_daemon()
svc = adlib.Service()
try:
    for n in range(ROUNDS):
        svc.start()
        st, _, doc, _ = svc.create()
        rid = doc["request_id"] if st == 201 else "0" * 32
        stop, answered = threading.Event(), []
        threads = [threading.Thread(target=hammer, args=(svc.port, rid, stop, answered))
                   for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.time() + 10
        while len(answered) < 50 and time.time() < deadline:
            time.sleep(0.01)
        rc = svc.stop()
        stop.set()
        for t in threads:
            t.join()
        check(len(answered) >= 50, "round %d: votes answered before the stop: %d" %
              (n, len(answered)))
        check(rc == 0, "round %d: stopped cleanly while votes arrived: exit %r" % (n, rc))
        # Refused (a bad token), throttled, or refused as the service stops.
        check(set(answered) <= {401, 429, 503},
              "round %d: every vote answered as it should be: %r" % (n, sorted(set(answered))))
        log = svc.daemon_log()
        check("MHD" not in log and "suspended" not in log,
              "round %d: no libmicrohttpd abort" % n)
        if adlib.failures:
            break
finally:
    svc.cleanup()
adlib.finish()
