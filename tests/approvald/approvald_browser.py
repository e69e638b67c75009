#!/usr/bin/env python3
"""breakglass-approvald page in a real browser: headless Chromium driven by
playwright-core opens the page, two approvers sign in and approve, and the
request becomes approved; a <script> reason is shown as text and never
runs.  Skipped (77) without /usr/bin/chromium, node or npm."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))

modules = adlib.require_browser()

svc = adlib.Service(totp_window=2)
try:
    svc.start()
    st, _, doc, _ = svc.create(reason="<script>window.pwned=1</script> queue at 48000")
    rid = doc["request_id"]
    params = {"id": rid, "votes": []}
    for a in ("bob", "carol"):
        signin_code, vote_code = svc.codes(a, 2)
        params["votes"].append({"approver": a, "token": svc.tokens[a],
                                "signin_totp": signin_code, "totp": vote_code,
                                "comment": "seen on the bridge"})
    env = dict(os.environ, NODE_MODULES_DIR=modules)
    r = subprocess.run(["node", os.path.join(here, "browser.mjs"),
                        "http://127.0.0.1:%d/" % svc.port, json.dumps(params)],
                       capture_output=True, text=True, timeout=120, env=env)
    check(r.returncode == 0, "browser run: %s" % r.stderr[-2000:])
    out = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
    check(out.get("reasonText", "").startswith("<script>window.pwned=1</script>"),
          "reason shown as text: %r" % out.get("reasonText"))
    check(out.get("pwned") is False, "the reason's script did not run")
    check(out.get("result0") == "recorded: pending", "bob: %r" % out.get("result0"))
    check(out.get("result1") == "recorded: approved", "carol: %r" % out.get("result1"))
    check(out.get("errors") == [], "page errors: %r" % out.get("errors"))
    st, data, _ = svc.poll(rid)
    dec = json.loads(data) if st == 200 else {}
    check(dec.get("status") == "approved" and [a["approver"] for a in dec["approvals"]] ==
          ["bob", "carol"], "approved through the page: %r" % dec)
finally:
    svc.cleanup()
adlib.finish()
