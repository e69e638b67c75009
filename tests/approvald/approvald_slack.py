#!/usr/bin/env python3
"""breakglass-approvald and Slack: a new request's message carries Approve and
Deny buttons; a click Slack signed (v0) is answered with a one-time link and
records no vote; forged, stale, replayed, unsigned and oversized clicks are
refused, and so are unknown users, approvers the request does not name and
requests no longer pending; a link opens once, within its expiry; the
clicked message is replaced once the request is decided.  The mock Slack on
loopback answers 500, slowly or with garbage before it takes a message."""
import hashlib
import hmac
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

DAY_MS = 86400 * 1000
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
USERS = {"bob": "UBOB0001", "carol": "UCAROL001", "dave": "UDAVE0001",
         "erin": "WERIN0001"}

received = []
attempts = {}
lock = threading.Lock()


class MockSlack(http.server.BaseHTTPRequestHandler):
    """Takes each message at its third attempt: a 500 first, then a slow
    answer (the notifier's timeout is longer), then 200 with a body that is
    not JSON (Slack answers "ok"; approvald reads no answer)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = (self.path, body)
        with lock:
            attempts[key] = attempts.get(key, 0) + 1
            n = attempts[key]
        if n == 1:
            self.send_response(500)
            self.end_headers()
            return
        if n == 2:
            time.sleep(1)
            self.send_response(503)
            self.end_headers()
            return
        with lock:
            received.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok{not json")

    def log_message(self, *args):
        pass


def wait_for(pred, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            got = [(p, json.loads(b)) for p, b in received if pred(p, json.loads(b))]
        if got:
            return got
        time.sleep(0.1)
    check(False, "%s: nothing arrived" % what)
    return []


adlib.require_daemon()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MockSlack)
threading.Thread(target=server.serve_forever, daemon=True).start()
mport = server.server_address[1]
RESPONSE = "http://127.0.0.1:%d/response/" % mport


def conf(d):
    adlib.write(d + "/slack.secret", SECRET + "\n")
    return "\n".join(["[notify chat]", "url = http://127.0.0.1:%d/hook" % mport,
                      "format = slack", "",
                      "[slack]", "signing_secret = %s/slack.secret" % d,
                      "response_url_prefix = " + RESPONSE, ""])


def form(user, action, rid, response_url=None, **extra):
    """A block_actions payload as Slack form-encodes it (spaces as '+')."""
    p = {"type": "block_actions", "user": {"id": user, "username": "some one"},
         "team": {"id": "T0001"}, "api_app_id": "A0001",
         "actions": [{"type": "button", "action_id": action, "block_id": "breakglass",
                      "value": rid, "action_ts": "1700000000.000100"}]}
    if response_url is not None:
        p["response_url"] = response_url
    p.update(extra)
    return ("payload=" + urllib.parse.quote_plus(json.dumps(p))).encode()


def sign(body, ts=None, secret=SECRET):
    ts = str(int(time.time()) if ts is None else ts)
    mac = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + mac.hexdigest(),
            "Content-Type": "application/x-www-form-urlencoded"}


def click(svc, body, headers=None):
    st, data, _ = svc.request("POST", "/v1/integrations/slack", body,
                              sign(body) if headers is None else headers)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, {}


def link_of(answer):
    m = re.search(r"/v1/links/([A-Za-z0-9_-]{43})\|", answer.get("text", ""))
    return m.group(1) if m else None


def events(svc, name):
    return [e for e in svc.journal() if e["event"] == name]


svc = adlib.Service(notify=conf, approver_lines=dict(
    (a, ["slack_user = " + u]) for a, u in USERS.items()))
try:
    svc.start()
    st, _, doc, _ = svc.create()
    rid = doc["request_id"]
    check(st == 201, "filed")

    # Buttons, beside the text, on the new request's message.
    msgs = wait_for(lambda p, m: p == "/hook" and rid in m.get("text", ""), "notification")
    if msgs:
        m = msgs[0][1]
        actions = [b for b in m.get("blocks", []) if b["type"] == "actions"]
        check(len(actions) == 1 and [(e["type"], e["action_id"], e["value"])
              for e in actions[0]["elements"]] == [("button", "approve", rid),
                                                   ("button", "deny", rid)],
              "approve and deny buttons: %r" % m.get("blocks"))
    # Long values that escaping quintuples still fit Block Kit's section.
    st, _, doc2, _ = svc.create(reason="&" * 1024, incident="&" * 1024)
    check(st == 201, "a request with long values filed: %d" % st)
    long = wait_for(lambda p, m: p == "/hook" and doc2["request_id"] in m.get("text", ""),
                    "long notification")
    if long:
        section = long[0][1]["blocks"][0]["text"]["text"]
        check(len(section) <= 3000 and "&amp;" in section and
              len(long[0][1]["text"]) > 3000, "section within 3000: %d" % len(section))

    # A valid signed click: an ephemeral answer with a link, no vote.
    body = form(USERS["bob"], "approve", rid, RESPONSE + "1")
    signed = sign(body)
    st, ans = click(svc, body, signed)
    token = link_of(ans)
    check(st == 200 and ans.get("response_type") == "ephemeral" and token is not None and
          ans.get("unfurl_links") is False,
          "a signed click answers a link, not unfurled: %d %r" % (st, ans))
    check(svc.sql("SELECT count(*) FROM votes")[0][0] == 0, "the click records no vote")
    rows = svc.sql("SELECT token_sha256, approver, request_id, action FROM links")
    if token:
        check(rows == [(hashlib.sha256(token.encode()).hexdigest(), "bob", rid, "approve")],
              "only the token's SHA-256 is stored: %r" % rows)
    issued = events(svc, "slack.link_issued")
    check(len(issued) == 1 and issued[0]["approver"] == "bob" and
          issued[0]["request_id"] == rid and issued[0]["slack_user"] == USERS["bob"],
          "slack.link_issued journaled: %r" % issued)
    # Slack shows no answer to a button: the same message goes to response_url.
    eph = wait_for(lambda p, m: p == "/response/1" and
                   m.get("response_type") == "ephemeral", "ephemeral via response_url")
    check(bool(eph) and link_of(eph[0][1]) == token, "the link posted to response_url")

    # The same request again (same signature): refused.
    st, _ = click(svc, body, signed)
    check(st == 401, "replayed click refused: %d" % st)
    # Forged, stale, unsigned, oversized.
    b = form(USERS["bob"], "approve", rid)
    st, _ = click(svc, b, sign(b, secret="not-the-secret"))
    check(st == 401, "forged signature refused: %d" % st)
    st, _ = click(svc, b, sign(b, ts=int(time.time()) - 301))
    check(st == 401, "stale timestamp refused: %d" % st)
    st, _ = click(svc, b, sign(b, ts=int(time.time()) + 301))
    check(st == 401, "future timestamp refused: %d" % st)
    st, _ = click(svc, b, {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 401, "unsigned click refused: %d" % st)
    h = sign(b)
    h["X-Slack-Signature"] = h["X-Slack-Signature"][:-1] + ("0" if h["X-Slack-Signature"][-1]
                                                            != "0" else "1")
    st, _ = click(svc, b, h)
    check(st == 401, "one digit off refused: %d" % st)
    big = form(USERS["bob"], "approve", rid, padding="x" * 70000)
    st, _ = click(svc, big)
    check(st == 413, "oversized body refused: %d" % st)
    # Signed, but not what a click is.
    j = json.dumps({"type": "block_actions"}).encode()
    h = sign(j)
    h["Content-Type"] = "application/json"
    st, _ = click(svc, j, h)
    check(st == 400, "not form-encoded: %d" % st)
    dup = b"payload=" + urllib.parse.quote_plus(
        '{"type":"block_actions","type":"x"}').encode()
    st, _ = click(svc, dup)
    check(st == 400, "duplicate member refused: %d" % st)
    st, _ = click(svc, form(USERS["bob"], "vote", rid))
    check(st == 400, "unknown action refused: %d" % st)
    st, _ = click(svc, b"payload=1&other=2")
    check(st == 400, "a second field refused: %d" % st)
    check(len(svc.sql("SELECT * FROM links")) == 1, "no link from a refused click")

    # Signed clicks that get no link: an ephemeral refusal, journaled.
    st, ans = click(svc, form("UNOBODY01", "approve", rid))
    check(st == 200 and link_of(ans) is None and "not an approver" in ans.get("text", ""),
          "unknown Slack user: %r" % ans)
    st, ans = click(svc, form(USERS["erin"], "approve", rid))
    check(st == 200 and link_of(ans) is None and "does not name you" in ans.get("text", ""),
          "an approver the request does not name: %r" % ans)
    st, ans = click(svc, form(USERS["bob"], "deny", "00000000-0000-4000-8000-000000000000"))
    check(st == 200 and link_of(ans) is None, "unknown request: %r" % ans)
    st, _, own, _ = svc.create(operator="dave")
    check(st == 201, "a request dave files: %d" % st)
    st, ans = click(svc, form(USERS["dave"], "approve", own["request_id"]))
    check(st == 200 and link_of(ans) is None and "operator" in ans.get("text", ""),
          "the operator's own click: %r" % ans)
    reasons = [e["reason"] for e in events(svc, "slack.refused")]
    check(reasons == ["unknown-user", "not-designated", "unknown-request", "self-approval"],
          "slack.refused journaled: %r" % reasons)
    check(len(svc.sql("SELECT * FROM links")) == 1, "no link from a refusal")
    # A response_url outside the prefix is never posted to.
    st, ans = click(svc, form(USERS["carol"], "deny", rid, "http://127.0.0.1:1/evil"))
    token2 = link_of(ans)
    check(st == 200 and token2 is not None, "carol's link")
    check(svc.sql("SELECT url FROM slack_responses") == [(RESPONSE + "1",)],
          "only a response_url under the prefix is kept")

    # The link: once, to the page showing that request for that approver.
    st, _, hdr = svc.request("GET", "/v1/links/" + (token or "x"))
    check(st == 303 and hdr.get("location") == "/?request=%s&approver=bob" % rid,
          "link redirects to the request: %d %r" % (st, hdr.get("location")))
    opened = events(svc, "link.opened")
    check(len(opened) == 1 and opened[0]["approver"] == "bob" and
          opened[0]["action"] == "approve", "link.opened journaled: %r" % opened)
    st, page, hdr = svc.request("GET", "/v1/links/" + (token or "x"))
    check(st == 404 and b"not valid" in page and "text/html" in hdr.get("content-type", ""),
          "a used link: %d" % st)
    st, page2, _ = svc.request("GET", "/v1/links/" + "A" * 43)
    check(st == 404 and page2 == page, "an unknown link: the same page")
    st, _, _ = svc.request("GET", "/v1/links/..%2F")
    check(st == 404, "a malformed link: %d" % st)
    svc.sql("UPDATE links SET expires_ms = 0 WHERE approver = 'carol'")
    st, page3, _ = svc.request("GET", "/v1/links/" + (token2 or "x"))
    check(st == 404 and page3 == page, "an expired link: the same page")
    st, _, _ = svc.request("POST", "/v1/links/" + (token2 or "x"))
    check(st == 405, "POST on a link: %d" % st)
    st, ans = click(svc, form(USERS["carol"], "deny", rid))
    check(st == 200 and link_of(ans) is not None and
          svc.sql("SELECT count(*) FROM links WHERE expires_ms = 0")[0][0] == 0,
          "a new link prunes the expired ones")
    check(svc.sql("SELECT count(*) FROM votes")[0][0] == 0, "still no vote")

    # Decided: the clicked message is replaced, without buttons.
    svc.vote(rid, "bob")
    st, ans = click(svc, form(USERS["bob"], "approve", rid))
    check(st == 200 and link_of(ans) is None and "already" in ans.get("text", ""),
          "an approver who voted: %r" % ans)
    st, data, _ = svc.vote(rid, "carol")
    check(st == 200 and json.loads(data)["status"] == "approved", "approved")
    upd = wait_for(lambda p, m: p == "/response/1" and m.get("replace_original") is True,
                   "message update")
    if upd:
        m = upd[0][1]
        check("approved" in m.get("text", "") and "blocks" not in m,
              "the message says approved, without buttons: %r" % m)
    st, ans = click(svc, form(USERS["bob"], "approve", rid))
    check(st == 200 and link_of(ans) is None and "no longer pending" in ans.get("text", ""),
          "a decided request: %r" % ans)

    r = svc.verify_journal()
    if r is not None:
        check(r[0], "breakglass verify reads the journal: %s" % r[1])
        rep = subprocess.run([os.path.join(adlib.top_builddir, "cli", "breakglass"),
                              "report", "--incident", "INC-2041", "--format", "json",
                              "--key", svc.dir + "/k1", svc.dir + "/log/journal.jsonl"],
                             capture_output=True, text=True)
        check(rep.returncode == 0 and "slack.link_issued" in rep.stdout and
              "link.opened" in rep.stdout and "slack.refused" in rep.stdout,
              "breakglass report lists the slack events: %d %s" %
              (rep.returncode, rep.stderr))

    # Retention: the links and response URLs of purged requests go with them.
    check(svc.stop() == 0, "clean stop")
    now = int(time.time() * 1000)
    old = adlib.request_doc()
    svc.insert_request(old["request_id"], old["host"], old["operator"],
                       json.dumps(old).encode(), now - 401 * DAY_MS, now - 401 * DAY_MS,
                       "approved", now - 401 * DAY_MS)
    svc.sql("INSERT INTO links (token_sha256, approver, request_id, action, expires_ms) "
            "VALUES ('%s', 'bob', '%s', 'approve', %d)" % ("a" * 64, old["request_id"], now))
    svc.sql("INSERT INTO slack_responses VALUES ('%s', '%s', %d)" %
            (old["request_id"], RESPONSE + "old", now))
    svc.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and svc.sql(
            "SELECT count(*) FROM requests WHERE id = '%s'" % old["request_id"])[0][0]:
        time.sleep(0.2)
    check(svc.sql("SELECT count(*) FROM links WHERE request_id = '%s'" %
                  old["request_id"])[0][0] == 0 and
          svc.sql("SELECT request_id FROM slack_responses") == [(rid,)],
          "purged with their request: links and response URLs")
    check(svc.stop() == 0, "clean stop after the purge")
finally:
    svc.cleanup()
    server.shutdown()

# Configuration: slack_user unique and well-formed, [slack] complete.
for lines, extra, words in [
        ({"bob": ["slack_user = U0001"], "carol": ["slack_user = U0001"]}, "",
         "the same as [approver bob]"),
        ({"bob": ["slack_user = u0001"]}, "", "a Slack user ID"),
        ({}, "[slack]\nresponse_url_prefix = https://hooks.slack.com/\n",
         "signing_secret is required"),
        ({}, "[slack]\nsigning_secret = /nonexistent\n"
         "response_url_prefix = http://hooks.example.net/\n", "response_url_prefix"),
        ({}, "[slack]\nsigning_secret = /nonexistent\n"
         "response_url_prefix = https://hooks.slack.com\n", "ending in '/'")]:
    try:
        adlib.Service(notify=extra, approver_lines=lines)
        check(False, "configuration taken: %s" % words)
    except RuntimeError as e:
        check(words in str(e), "configuration refused: %s: %s" % (words, e))
# --check-config reads the signing secret as a secret file.
for text, mode, words in [(SECRET + "\n", 0o644, "signing_secret"),
                          ("\n", 0o600, "not a signing secret")]:
    def bad_secret(d, text=text, mode=mode):
        adlib.write(d + "/slack.secret", text, mode)
        return "[slack]\nsigning_secret = %s/slack.secret\n" % d
    svc = adlib.Service(notify=bad_secret)
    try:
        r = subprocess.run([adlib.DAEMON, "--config", svc.conf, "--check-config"],
                           capture_output=True, text=True)
        check(r.returncode != 0 and words in r.stderr,
              "--check-config: %s: %s" % (words, r.stderr))
    finally:
        svc.cleanup()
adlib.finish()
