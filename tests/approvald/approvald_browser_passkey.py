#!/usr/bin/env python3
"""Passkeys in a real browser: headless Chromium (playwright-core) with a
CDP virtual authenticator registers bob's passkey on /passkeys (token + TOTP
bootstrap, navigator.credentials.create), then approves a request with it
(a challenge bound to the vote, navigator.credentials.get; the replayed
assertion is refused), then signs in on the page with the passkey and
approves a second request there with a passkey confirmation.  On
http://localhost:PORT: WebAuthn refuses IP addresses as relying-party IDs.
Skipped (77) without /usr/bin/chromium, node or npm."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))

modules = adlib.require_browser()

svc = adlib.Service()
try:
    # The page's origin, and so the RP ID, is localhost.
    origin = "http://localhost:%d" % svc.port
    with open(svc.conf) as f:
        conf = f.read().replace("public_url = http://127.0.0.1:%d" % svc.port,
                                "public_url = " + origin)
    adlib.write(svc.conf, conf, 0o644)
    svc.start()
    st, _, doc, _ = svc.create()
    rid = doc["request_id"]
    st, _, doc2, _ = svc.create()
    rid2 = doc2["request_id"]
    shot = os.path.join(svc.dir, "passkeys.png")
    params = {"approver": "bob", "token": svc.tokens["bob"],
              "totp": svc.code("bob", newest=True), "id": rid, "id2": rid2,
              "screenshot": shot}
    env = dict(os.environ, NODE_MODULES_DIR=modules)
    r = subprocess.run(["node", os.path.join(here, "approvald_browser_passkey.mjs"), origin,
                        json.dumps(params)], capture_output=True, text=True, timeout=120,
                       env=env)
    check(r.returncode == 0, "browser run: %s" % r.stderr[-2000:])
    out = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
    check(out.get("registerResult") == "registered: virtual authenticator",
          "registered on /passkeys: %r" % out.get("registerResult"))
    creds = out.get("credentials", [])
    check(len(creds) == 1 and creds[0]["resident"], "one discoverable credential: %r" % creds)
    vote = out.get("vote", {})
    check(vote.get("status") == 200 and vote.get("decision") == "pending",
          "bob approved with the passkey: %r" % vote)
    check(vote.get("replay") == 401, "replayed assertion refused: %r" % vote)
    check(out.get("errors") == [], "page errors: %r" % out.get("errors"))
    reg = [x for x in svc.journal() if x["event"] == "approver.passkey_registered"]
    check(len(reg) == 1 and reg[0]["label"] == "virtual authenticator",
          "registration journaled: %r" % reg)
    st, data, _ = svc.poll(rid)
    dec = json.loads(data) if st == 200 else {}
    check([a["approver"] for a in dec.get("approvals", [])] == ["bob"] and
          dec["approvals"][0]["comment"] == "passkey from the browser",
          "the vote is in the decision: %r" % dec)
    check(out.get("signedInAs") == "bob", "signed in on the page with the passkey: %r" %
          out.get("signedInAs"))
    check(out.get("pageVote") == "recorded: pending",
          "approved on the page with the passkey: %r" % out.get("pageVote"))
    st, data, _ = svc.poll(rid2)
    dec2 = json.loads(data) if st == 200 else {}
    check([a["comment"] for a in dec2.get("approvals", [])] == ["passkey on the page"],
          "the page's vote is in the decision: %r" % dec2)
    if os.environ.get("BG_SCREENSHOT_DIR") and os.path.exists(shot):
        shutil.copy(shot, os.environ["BG_SCREENSHOT_DIR"])
finally:
    svc.cleanup()
adlib.finish()
