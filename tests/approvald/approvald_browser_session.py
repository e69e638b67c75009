#!/usr/bin/env python3
"""Approver sessions and batch approval in a real browser: headless Chromium
(playwright-core, as approvald_browser.py) on http://localhost:PORT (the
origin WebAuthn will need).  A wrong token is refused; bob signs in, his
cookie is invisible to the page's script, a call without the CSRF token is
refused; bob and carol each approve incident INC-7's requests from three
hosts with one TOTP code, carol's own request refused inside her batch; each
host's held long poll gets its own signed decision; a link from another site
(as chat gives) opens ?request=ID signed in.  Then, on a service with
a 2 s session_idle, an idle session shows the page signed out.  The
signed-in page's screenshot goes to tests/approvald-page.png in the build
directory (BG_UPDATE_SCREENSHOT=1: also docs/approvald-page.png).  Skipped
(77) without /usr/bin/chromium, node or npm."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

HOSTS = ["mx1.example.net", "mx2.example.net", "mx3.example.net"]
here = os.path.dirname(os.path.abspath(__file__))

modules = adlib.require_browser()


def localhost_service(**kw):
    """A Service whose page is http://localhost:PORT ([server] origin)."""
    svc = adlib.Service(totp_window=3, hosts=HOSTS, **kw)
    with open(svc.conf) as f:
        conf = f.read()
    adlib.write(svc.conf, conf.replace("[server]\n", "[server]\norigin = http://localhost:%d\n"
                                       % svc.port, 1), 0o644)
    return svc


def browse(svc, params):
    env = dict(os.environ, NODE_MODULES_DIR=modules)
    r = subprocess.run(["node", os.path.join(here, "browser_session.mjs"),
                        "http://localhost:%d/" % svc.port, json.dumps(params)],
                       capture_output=True, text=True, timeout=180, env=env)
    check(r.returncode == 0, "browser run: %s" % r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}


def answer(sock):
    raw = adlib.read_all(sock)
    sock.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    return lines[0], dict((k.strip().lower(), v.strip()) for k, v in
                          (ln.split(":", 1) for ln in lines[1:])), body


shot = os.path.join(adlib.top_builddir, "tests", "approvald-page.png")
svc = localhost_service()
try:
    svc.start()
    ids = []
    reasons = {"mx1.example.net": "Outbound spam from a compromised SASL account",
               "mx2.example.net": "Queue at 48000, same campaign as mx1",
               "mx3.example.net": "Same campaign: rate 40x baseline"}
    for h in HOSTS:
        st, _, doc, _ = svc.create(host=h, incident="INC-7", reason=reasons[h])
        check(st == 201, "filed on %s: %d" % (h, st))
        ids.append(doc["request_id"])
    st, _, doc, _ = svc.create(host="mx1.example.net", incident="INC-7", operator="carol",
                               approvers=["bob", "carol", "dave"],
                               reason="carol's own request: she cannot approve it")
    own = doc["request_id"]
    st, _, doc, _ = svc.create(host="mx2.example.net", incident="INC-8", scope="dns",
                               reason="Resolver loop on the mail relay")
    other = doc["request_id"]
    now = int(time.time())
    polls = [svc.open_poll(rid, now, host=h, timeout=120) for rid, h in zip(ids, HOSTS)]
    out = browse(svc, {"mode": "batch", "ids": ids, "own": own, "pending": other,
                       "incident": "INC-7",
                       "tokens": svc.tokens, "bob": svc.codes("bob", 2),
                       "carol": svc.codes("carol", 2), "screenshot": shot})
    check(out.get("badToken", "").startswith("refused: 401"), "wrong token: %r" %
          out.get("badToken"))
    check(out.get("bobWho") == "bob", "bob signed in: %r" % out.get("bobWho"))
    check(out.get("cookieVisible") == "", "the cookie is HttpOnly: %r" %
          out.get("cookieVisible"))
    check(out.get("noCsrf") == 403, "no CSRF token: %r" % out.get("noCsrf"))
    check(out.get("bobBatch") == "recorded 4 of 4", "bob's batch: %r" % out.get("bobBatch"))
    check(out.get("incidents") == 2, "grouped by incident: %r" % out.get("incidents"))
    check(out.get("carolBatch") == "recorded 3 of 4", "carol's batch: %r" %
          out.get("carolBatch"))
    check(all(out.get("status", {}).get(r) == "approved" for r in ids),
          "the three approved: %r" % out.get("status"))
    check(out.get("result", {}).get(own, "").startswith("refused: 403"),
          "self-approval refused in the batch: %r" % out.get("result", {}).get(own))
    check(out.get("linkHighlight") == "r-" + other and out.get("linkArticles") == 1,
          "a link from another site opens ?request=ID signed in: %r %r" %
          (out.get("linkHighlight"), out.get("linkArticles")))
    check(out.get("errors") == [], "page errors: %r" % out.get("errors"))
    for rid, h, sock in zip(ids, HOSTS, polls):
        line, headers, body = answer(sock)
        dec = json.loads(body) if body else {}
        check(" 200 " in line and dec.get("request_id") == rid and dec.get("host") == h and
              dec.get("status") == "approved", "%s's poll: %s %r" % (h, line, dec))
        check(svc.verify_decision(body, headers), "%s's decision signature" % h)
    check(os.path.getsize(shot) > 10000 if os.path.exists(shot) else False, "screenshot")
    if os.environ.get("BG_UPDATE_SCREENSHOT") == "1" and os.path.exists(shot):
        shutil.copy(shot, os.path.join(here, "..", "..", "docs", "approvald-page.png"))
finally:
    svc.cleanup()

svc = localhost_service(extra_server="session_idle = 2s")
try:
    svc.start()
    st, _, doc, _ = svc.create(incident="INC-9")
    out = browse(svc, {"mode": "expiry", "ids": [doc["request_id"]], "idleMs": 3500,
                       "tokens": svc.tokens, "dave": svc.codes("dave", 2)})
    check(out.get("signedIn") == "live", "dave signed in: %r" % out)
    check(out.get("vote") == "signed out: sign in again" and out.get("banner") is True and
          out.get("session") == "ended", "an idle session shows signed out: %r" % out)
    check(out.get("signinAgain") is True, "the reload shows the sign-in form")
    check(svc.sql("SELECT count(*) FROM votes")[0][0] == 0, "no vote from the idle session")
finally:
    svc.cleanup()
adlib.finish()
