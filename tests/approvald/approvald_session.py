#!/usr/bin/env python3
"""Approver sessions over HTTP (approvald/session.c): sign-in with token and
second factor, the cookie's flags on plain loopback, idle and absolute
expiry, sign-out, CSRF and Origin refusals, another approver's cookie, a
database that holds no cookie, a wrong token that never reaches the second
factor, a TOTP code that confirms one action only (a sign-in, a vote, a
batch), a sign-in replacing the browser's previous session, an approver
removed by a reload losing theirs, and the new keys' checks."""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

adlib.require_daemon()


def names(svc):
    return [e["event"] for e in svc.journal()]


svc = adlib.Service(totp_window=5, quorum=2,
                    extra_server="session_idle = 2s\nsession_max = 6s")
try:
    svc.start()
    # -- sign-in, cookie, GET ----------------------------------------------
    st, ans, cookie, h = svc.signin("bob")
    check(st == 200 and cookie is not None, "sign-in: %d %r" % (st, ans))
    flags = [f.strip() for f in h.get("set-cookie", "").split(";")[1:]]
    check(sorted(flags) == ["HttpOnly", "Path=/", "SameSite=Strict"],
          "plain loopback cookie flags (no Secure): %r" % flags)
    check(len(cookie) == 43 and ans.get("approver") == "bob" and len(ans["csrf"]) == 43,
          "cookie and CSRF token: 32 bytes base64url each: %r" % ans)
    check(ans["csrf"] != cookie, "the CSRF token is not the cookie")
    check("idle_expires_at" in ans and "expires_at" in ans, "expiry times: %r" % ans)
    csrf = ans["csrf"]
    st, doc, _ = svc.session_call("GET", "/v1/session", cookie)
    check(st == 200 and doc.get("approver") == "bob" and doc.get("csrf") == csrf,
          "GET /v1/session: %d %r" % (st, doc))
    # -- the database holds only the cookie's SHA-256 -----------------------
    rows = svc.sql("SELECT id, approver, csrf, source FROM sessions")
    check(len(rows) == 1 and rows[0][0] == hashlib.sha256(cookie.encode()).hexdigest(),
          "the row's key is the cookie's SHA-256: %r" % rows)
    check(all(cookie not in str(v) for v in rows[0]), "no column holds the cookie")
    st, _, _ = svc.session_call("GET", "/v1/session", rows[0][0])
    check(st == 401, "the stored id is no cookie: %d" % st)

    # -- a wrong token never reaches the second factor ----------------------
    code = svc.code("carol")
    st, _, c2, _ = svc.signin("carol", token=svc.tokens["dave"], code=code)
    check(st == 401 and c2 is None, "carol with dave's token: %d" % st)
    st, ans_c, cookie_c, _ = svc.signin("carol", code=code)
    check(st == 200 and cookie_c, "the code a wrong token carried is unspent: %d" % st)
    st, _, _, _ = svc.signin("dave", code="000000" if svc.code("dave") != "000000"
                             else "111111")
    check(st == 401, "wrong TOTP code refused: %d" % st)
    st, _, _, _ = svc.signin("dave", origin="https://evil.example")
    check(st == 403, "sign-in from another origin refused: %d" % st)
    st, _, _, _ = svc.signin("dave", confirm={"totp": svc.code("dave"), "x": 1})
    check(st == 401, "a confirm with two members refused: %d" % st)
    st, _, _, _ = svc.signin("dave", confirm={"webauthn": {"id": "x"}})
    check(st == 401, "an unverified webauthn confirm refused: %d" % st)

    # -- CSRF and Origin on state-changing calls ----------------------------
    st, _, doc, _ = svc.create(host="mx1.example.net")
    rid = doc["request_id"]
    for what, kw in (("no CSRF token", {"csrf": None}),
                     ("a wrong CSRF token", {"csrf": "A" * 43}),
                     ("carol's CSRF token", {"csrf": ans_c["csrf"]}),
                     ("another Origin", {"csrf": csrf, "origin": "http://127.0.0.1:1"}),
                     ("no Origin", {"csrf": csrf, "origin": ""})):
        args = dict(kw)
        st, _, _ = svc.session_vote(rid, cookie, args.pop("csrf"), "bob", code="123456",
                                    **args)
        check(st == 403, "session vote with %s refused: %d" % (what, st))
    st, _, _ = svc.session_call("DELETE", "/v1/session", cookie, None)
    check(st == 403, "sign-out without CSRF refused: %d" % st)
    check(svc.sql("SELECT count(*) FROM votes")[0][0] == 0, "no vote recorded")
    # Carol's cookie is carol's session whatever the page says.
    st, _, _ = svc.session_vote(rid, cookie_c, csrf, "carol")
    check(st == 403, "carol's cookie with bob's CSRF token refused: %d" % st)

    # -- a session never stands in for the second factor ---------------------
    st, _, _ = svc.session_call("POST", "/v1/requests/%s/approve" % rid, cookie, csrf,
                                {"comment": "no factor"})
    check(st == 400, "a session vote without confirm refused: %d" % st)
    signin_code = svc.code("bob")
    st, ans_b2, cookie_b2, _ = svc.signin("bob", code=signin_code)
    check(st == 200, "bob signs in again: %d" % st)
    st, _, _ = svc.session_vote(rid, cookie_b2, ans_b2["csrf"], "bob", code=signin_code)
    check(st == 401, "the sign-in's code cannot confirm a vote: %d" % st)
    vote_code = svc.code("bob")
    st, dec, _ = svc.session_vote(rid, cookie_b2, ans_b2["csrf"], "bob", code=vote_code,
                                  comment="from the page")
    check(st == 200 and dec.get("status") == "pending", "session vote: %d %r" % (st, dec))
    votes = svc.sql("SELECT approver, comment FROM votes")
    check(votes == [("bob", "from the page")], "the vote is bob's: %r" % votes)
    # A code spent on a vote cannot confirm a batch, nor a batch's a vote.
    st2, _, doc2, _ = svc.create(host="mx2.example.net")
    rid2 = doc2["request_id"]
    st, _, _ = svc.batch([rid2], cookie_b2, ans_b2["csrf"], "bob", code=vote_code)
    check(st == 401, "TOTP replay from a vote into a batch refused: %d" % st)
    batch_code = svc.code("carol")
    st, out, _ = svc.batch([rid2], cookie_c, ans_c["csrf"], "carol", code=batch_code)
    check(st == 200 and out["results"][0]["code"] == 200, "carol's batch: %d %r" % (st, out))
    st, _, _ = svc.session_vote(rid, cookie_c, ans_c["csrf"], "carol", code=batch_code)
    check(st == 401, "TOTP replay from a batch into a vote refused: %d" % st)

    # -- sign-out ------------------------------------------------------------
    st, _, h = svc.session_call("DELETE", "/v1/session", cookie_c, ans_c["csrf"])
    check(st == 200 and "Max-Age=0" in h.get("set-cookie", ""),
          "sign-out clears the cookie: %d %r" % (st, h.get("set-cookie")))
    st, _, _ = svc.session_call("GET", "/v1/session", cookie_c)
    check(st == 401, "signed out: %d" % st)
    check(svc.sql("SELECT count(*) FROM sessions WHERE approver = 'carol'")[0][0] == 0,
          "carol's row deleted")

    # -- expiry: idle 2 s, absolute 6 s ---------------------------------------
    st, _, idle_cookie, _ = svc.signin("erin")
    st, ans_f, abs_cookie, _ = svc.signin("frank")
    seen = []
    for i in range(7):
        time.sleep(1)
        seen.append(svc.session_call("GET", "/v1/session", abs_cookie)[0])
        if i == 3:
            st, _, _ = svc.session_call("GET", "/v1/session", idle_cookie)
            check(st == 401, "unused 4 s > session_idle 2 s: ended: %d" % st)
    check(seen[:4] == [200] * 4, "kept alive within session_max: %r" % seen)
    check(seen[-1] == 401, "used every second, but 7 s > session_max: ended: %r" % seen)
    st, _, _ = svc.session_vote(rid, abs_cookie, ans_f["csrf"], "frank")
    check(st == 401, "an expired session cannot vote: %d" % st)
    check(svc.sql("SELECT count(*) FROM sessions WHERE approver IN ('erin', 'frank')")
          [0][0] == 0, "expired rows deleted")

    # -- a sign-in replaces the browser's session; a removed approver has none --
    body = json.dumps({"approver": "bob", "token": svc.tokens["bob"],
                       "confirm": {"totp": svc.code("bob")}}).encode()
    st, _, h = svc.request("POST", "/v1/session", body, {
        "Content-Type": "application/json", "Origin": svc.origin(),
        "Cookie": "bg_session=" + cookie_b2})
    check(st == 200 and h.get("set-cookie", "").split(";")[0] != "bg_session=" + cookie_b2,
          "signed in again from the same browser: %d" % st)
    check(svc.session_call("GET", "/v1/session", cookie_b2)[0] == 401,
          "the browser's previous session ended")
    st, _, dave_cookie, _ = svc.signin("dave")
    check(svc.session_call("GET", "/v1/session", dave_cookie)[0] == 200, "dave signed in")
    with open(svc.conf) as f:
        conf = f.read()
    adlib.write(svc.conf, re.sub(r"\[approver dave\]\n[^[]*", "", conf), 0o644)
    svc.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while (svc.session_call("GET", "/v1/session", dave_cookie)[0] != 401 and
           time.monotonic() < deadline):
        time.sleep(0.2)
    check(svc.session_call("GET", "/v1/session", dave_cookie)[0] == 401,
          "dave, removed from the configuration, lost his session")

    # -- journal ---------------------------------------------------------------
    ev = names(svc)
    check(ev.count("approver.signed_in") == 7, "signed_in x7: %r" % ev)
    check(ev.count("approver.signed_out") == 1, "signed_out x1")
    check(ev.count("approver.signin_refused") >= 4, "signin_refused: %r" % ev)
    refused = [e for e in svc.journal() if e["event"] == "approver.signin_refused"]
    check(any(e.get("reason") == "bad token" for e in refused), "bad token journaled")
    signed = [e for e in svc.journal() if e["event"] == "approver.signed_in"]
    check(all(len(e.get("session", "")) == 16 and e["session"] not in cookie
              for e in signed), "the journal names sessions by their id's prefix")
    text = open(svc.dir + "/log/journal.jsonl").read()
    check(cookie not in text and csrf not in text, "no cookie nor CSRF token journaled")
    v = svc.verify_journal()
    if v is not None:
        check(v[0], "breakglass verify accepts the session events: %s" % v[1])
        r = subprocess.run([os.path.join(adlib.top_builddir, "cli", "breakglass"), "report",
                            "--format", "json", "--key", svc.dir + "/k1",
                            svc.dir + "/log/journal.jsonl"], capture_output=True, text=True)
        check(r.returncode == 0 and "approver.signed_in" in r.stdout and
              "approver.signin_refused" in r.stdout,
              "breakglass report lists them: %d %s" % (r.returncode, r.stderr[-300:]))
finally:
    svc.cleanup()

# The keys' checks, with file:line errors.
for extra, words in (("origin = https://approvals.example.net/", "origin: expected"),
                     ("origin = https://Approvals.example.net", "origin: expected"),
                     ("origin = javascript:alert(1)", "origin: expected"),
                     ("session_idle = 2h\nsession_max = 1h", "session_idle: longer than"),
                     ("session_max = 25h", "session_max")):
    try:
        adlib.Service(extra_server=extra).cleanup()
        check(False, "%r accepted" % extra)
    except RuntimeError as e:
        check(words in str(e) and "approvald.conf:" in str(e), "%r refused: %s" % (extra, e))
adlib.finish()
