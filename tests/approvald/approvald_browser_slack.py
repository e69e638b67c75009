#!/usr/bin/env python3
"""A one-time link from a Slack click, opened in headless Chromium
(playwright-core, as approvald_browser.py): it lands on the page showing
that request for that approver, no vote exists until the approver gives the
token and second factor there, and the link opened again is refused.
Skipped (77) without /usr/bin/chromium, node or npm."""
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

SECRET = "e1c2d3a4b5f60718293a4b5c6d7e8f90"
here = os.path.dirname(os.path.abspath(__file__))

modules = adlib.require_browser()


def conf(d):
    adlib.write(d + "/slack.secret", SECRET + "\n")
    return "[slack]\nsigning_secret = %s/slack.secret\n" % d


svc = adlib.Service(notify=conf, approver_lines={"bob": ["slack_user = UBOB0001"]})
proc = None
try:
    svc.start()
    st, _, doc, _ = svc.create()
    rid = doc["request_id"]
    payload = {"type": "block_actions", "user": {"id": "UBOB0001"},
               "actions": [{"action_id": "approve", "value": rid}]}
    body = ("payload=" + urllib.parse.quote_plus(json.dumps(payload))).encode()
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    st, data, _ = svc.request("POST", "/v1/integrations/slack", body, {
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + sig.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded"})
    m = re.search(r"<(http://[^|>]+/v1/links/[A-Za-z0-9_-]{43})\|", data.decode())
    check(st == 200 and m is not None, "a signed click answers a link: %d %s" % (st, data))
    link = m.group(1) if m else "http://127.0.0.1:%d/v1/links/none" % svc.port
    params = {"id": rid, "approver": "bob", "token": svc.tokens["bob"], "action": "approve"}
    env = dict(os.environ, NODE_MODULES_DIR=modules)
    proc = subprocess.Popen(["node", os.path.join(here, "browser_slack.mjs"), link,
                             json.dumps(params)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    first = proc.stdout.readline()
    try:
        landed = json.loads(first)
    except ValueError:
        landed = {}
    check(landed.get("landed") is True, "the browser landed: %r" % first)
    # On the page, before the second factor: no vote.
    check(svc.sql("SELECT count(*) FROM votes")[0][0] == 0,
          "no vote before the second factor")
    # Where the page signs in first, that takes a code, and the vote another.
    codes = [svc.code("bob", newest=True)]
    if landed.get("signin"):
        codes.append(svc.code("bob", newest=True))
    proc.stdin.write(json.dumps(codes) + "\n")
    proc.stdin.flush()
    outs, errs = proc.communicate(timeout=120)
    check(proc.returncode == 0, "browser run: %s" % errs[-2000:])
    out = json.loads(outs.strip().splitlines()[-1]) if proc.returncode == 0 else {}
    q = urllib.parse.urlsplit(out.get("landedUrl", ""))
    check(out.get("landedStatus") == 200 and q.path == "/" and
          urllib.parse.parse_qs(q.query) == {"request": [rid], "approver": ["bob"]},
          "the link lands on the page for that request: %r" % out.get("landedUrl"))
    check(out.get("sections") == 1 and out.get("statusBefore") == "pending",
          "the page shows the request, pending: %r" % out)
    if out.get("signin"):
        check(out.get("signinApprover") == "bob" and out.get("highlighted") == "r-" + rid,
              "the sign-in asks for bob, then the request is highlighted: %r" % out)
    check(out.get("result") == "recorded: pending", "the vote, with the second factor: %r" %
          out.get("result"))
    check(out.get("againStatus") == 404 and "not valid" in out.get("againText", ""),
          "the link opened again is refused: %r" % out.get("againStatus"))
    check(out.get("errors") == [], "page errors: %r" % out.get("errors"))
    votes = svc.sql("SELECT approver FROM votes")
    check(votes == [("bob",)], "one vote, bob's, given on the page: %r" % votes)
    check(svc.stop() == 0, "clean stop")
finally:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    svc.cleanup()
adlib.finish()
