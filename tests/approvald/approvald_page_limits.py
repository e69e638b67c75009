#!/usr/bin/env python3
"""breakglass-approvald's page degrades instead of failing: five pending
requests with 60,000 '<' in their reasons (written to the database directly,
whatever size filing accepts) still give a page, each field cut with an
ellipsis; 120 pending requests are shown 50 per page (?page=N) with links
between the pages.  A host may keep at most max_pending_per_host requests
pending: the next one is refused with 429, and filing works again once one
is decided.  (The refusal is logged: the log line goes to syslog.)"""
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

PER_PAGE = 50


def insert_pending(svc, n, **fields):
    """n pending requests written straight into the database; their ids."""
    now = int(time.time() * 1000)
    ids = []
    for i in range(n):
        doc = adlib.request_doc(**fields)
        ids.append(doc["request_id"])
        svc.insert_request(doc["request_id"], doc["host"], doc["operator"],
                           json.dumps(doc).encode(), now + i, now + 600000)
    return ids


def page(svc, target="/"):
    st, data, _ = svc.page(target)
    return st, data.decode("utf-8", "replace")


adlib.require_daemon()
svc = adlib.Service(extra_server="max_pending_per_host = 3")
try:
    svc.start()
    big = insert_pending(svc, 5, reason="<" * 60000)
    st, text = page(svc)
    check(st == 200, "page with five 60,000-character reasons: %d" % st)
    check(all(rid in text for rid in big), "every request shown")
    check(text.count("&lt;") < 5 * 2000 and "\u2026" in text,
          "reasons cut with an ellipsis (%d &lt;)" % text.count("&lt;"))
    svc.sql("DELETE FROM requests")

    ids = insert_pending(svc, 120, host="mx2.example.net")
    shown = []
    for n in (1, 2, 3):
        st, text = page(svc, "/?page=%d" % n)
        check(st == 200, "page %d: %d" % (n, st))
        shown.append([rid for rid in ids if rid in text])
        check(("?page=%d" % (n + 1) in text) == (n < 3), "link to page %d" % (n + 1))
        check(("?page=%d" % (n - 1) in text) == (n > 1), "link to page %d" % (n - 1))
    check([len(s) for s in shown] == [50, 50, 20], "50 per page: %r" %
          [len(s) for s in shown])
    check(sum(shown, []) == ids, "oldest first, each once")
    st, text = page(svc, "/?page=9")
    check(st == 200 and not any(rid in text for rid in ids), "past the last page")
    for bad in ("0", "-1", "x", "1e3", "99999999999999999999"):
        check(page(svc, "/?page=" + bad)[0] == 400, "page=%s refused" % bad)

    # max_pending_per_host: mx1 has none pending, mx2 has 120 (written directly).
    rids = []
    for i in range(3):
        st, _, doc, _ = svc.create()
        check(st == 201, "create %d: %d" % (i, st))
        rids.append(doc["request_id"])
    st, data, _, _ = svc.create()
    check(st == 429, "fourth pending request of mx1: %d %s" % (st, data[:200]))
    st, data, _, _ = svc.create(host="mx2.example.net")
    check(st == 429, "mx2 over its limit: %d" % st)
    # The same request filed again is still answered (idempotency).
    st, data, doc, body = svc.create()
    svc.vote(rids[0], "bob")
    st, data, _ = svc.vote(rids[0], "carol")
    check(json.loads(data)["status"] == "approved", "one decided")
    check(svc.create()[0] == 201, "filing again once one is decided")
finally:
    svc.cleanup()
adlib.finish()
