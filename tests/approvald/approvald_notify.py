#!/usr/bin/env python3
"""breakglass-approvald notifications: a loopback receiver gets the slack and
the Standard-Webhooks-signed json notifications of a new request and of its
decision, each retried after a first 500; a dead target blocks nothing."""
import base64
import hashlib
import hmac
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

received = []
attempts = {}
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = (self.path, self.headers.get("webhook-id") or body)
        with lock:
            attempts[key] = attempts.get(key, 0) + 1
            first = attempts[key] == 1
            if not first:
                received.append((self.path, dict(self.headers), body))
        self.send_response(500 if first else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


adlib.require_daemon()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
rport = server.server_address[1]
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
secret = os.urandom(32)
notify = "\n".join([
    "[notify chat]", "url = http://127.0.0.1:%d/slack" % rport, "format = slack", "",
    "[notify siem]", "url = http://127.0.0.1:%d/json" % rport, "format = json",
    "secret = %s/notify.key", "",
    "[notify dead]", "url = http://127.0.0.1:%d/" % dead, "format = slack", ""])


def notify_conf(d):
    adlib.write(d + "/notify.key", secret.hex() + "\n")
    return notify % d


svc = adlib.Service(notify=notify_conf)
try:
    svc.start()
    # (Bidi and C1 controls are refused at filing: approvald_input.py; the one
    # markup escaper shows them as \uXXXX: test_escape.c, approvald_page.py.)
    st, _, doc, _ = svc.create(reason="queue <b>48000</b> & rising 'fast'")
    rid = doc["request_id"]
    t0 = time.monotonic()
    svc.vote(rid, "bob")
    st, data, _ = svc.vote(rid, "carol")
    check(st == 200 and json.loads(data)["status"] == "approved", "decided")
    print("two votes with a dead notification target: %.0f ms" %
          ((time.monotonic() - t0) * 1000))

    deadline = time.time() + 20
    while time.time() < deadline:
        with lock:
            if len(received) >= 4:
                break
        time.sleep(0.1)
    with lock:
        got = list(received)
    check(len(got) == 4, "4 notifications delivered after a 500 each: %d" % len(got))
    check(all(n == 2 for n in attempts.values()), "each retried once: %r" %
          list(attempts.values()))
    slack = [json.loads(b) for p, h, b in got if p == "/slack"]
    check(len(slack) == 2 and list(slack[0]) == ["text", "blocks"] and
          list(slack[1]) == ["text"], "slack bodies: a new request's with blocks")
    if slack:
        t = slack[0]["text"]
        check(rid in t and "http://127.0.0.1:%d/#r-%s" % (svc.port, rid) in t,
              "slack link: %s" % t)
        check("&lt;b&gt;48000&lt;/b&gt; &amp; rising 'fast'" in t,
              "slack escaping of & < > only: %r" % t)
        check("approved" in slack[1]["text"], "slack decision: %s" % slack[1]["text"])
        blocks = slack[0].get("blocks", [])
        check([b["type"] for b in blocks] == ["section", "actions"] and
              "&lt;b&gt;48000&lt;/b&gt;" in blocks[0]["text"]["text"] and
              [(e["action_id"], e["value"]) for e in blocks[1]["elements"]] ==
              [("approve", rid), ("deny", rid)], "slack buttons: %r" % blocks)
    hooks = [(h, b) for p, h, b in got if p == "/json"]
    types = []
    for h, b in hooks:
        h = dict((k.lower(), v) for k, v in h.items())
        msg = ("%s.%s." % (h.get("webhook-id"), h.get("webhook-timestamp"))).encode() + b
        want = "v1," + base64.b64encode(hmac.new(secret, msg, hashlib.sha256).digest()).decode()
        check(h.get("webhook-signature") == want, "webhook signature")
        check(abs(int(h.get("webhook-timestamp", "0")) - time.time()) < 60, "webhook ts")
        d = json.loads(b)
        types.append(d["type"])
        check(d["data"]["request_id"] == rid and "nonce" not in d["data"], "json data")
    check(types == ["request.created", "request.decided"], "json types: %r" % types)
    if len(hooks) == 2:
        check(json.loads(hooks[1][1])["data"]["status"] == "approved", "json status")
finally:
    svc.cleanup()
    server.shutdown()
adlib.finish()
