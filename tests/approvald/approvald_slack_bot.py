#!/usr/bin/env python3
"""breakglass-approvald and a Slack bot ([notify] token and channel): a new
request's message is posted with chat.postMessage (the bearer token, the
channel, the buttons) and where Slack put it kept; once the request is
decided on the API without any click, or expires, chat.update replaces that
message with the decision, who voted and no buttons, after the post when
the post is still being retried.  The mock Slack Web API on loopback checks
the token and the methods and answers 429 with Retry-After, 500, slowly and
ok false before it takes a message; invalid_auth and channel_not_found are
given up at once; a give-up the database refuses to record is tried again
after a pause.  The token is in no log, journal or database; a bad
token or channel is refused at load, naming file:line."""
import http.server
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

DAY_MS = 86400 * 1000
TOKEN = "xoxb-1234567890-0987654321-SeCrEtToKeNvAlUe42"
WRONG = "xoxb-1111111111-2222222222-NotTheRightOne77"
CHANNEL = "C0BREAKGLS"
WRONG_CHANNEL = "C0NOSUCHCH"

calls = []          # (method, token, body, time) of every call
taken = []          # (method, body, ts) of every message Slack took
plans = {}          # (method, marker in the text) -> answers still to give
lock = threading.Lock()
serial = [0]


def plan(method, marker, *answers):
    with lock:
        plans[(method, marker)] = list(answers)


class MockSlack(http.server.BaseHTTPRequestHandler):
    """Slack's Web API: /api/chat.postMessage and /api/chat.update, a JSON
    body, the bot token as a bearer; a plan may answer otherwise first."""

    def answer(self, code, doc, headers=()):
        data = json.dumps(doc).encode()
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        method = self.path[len("/api/"):] if self.path.startswith("/api/") else self.path
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with lock:
            calls.append((method, token, body, time.monotonic()))
        if method not in ("chat.postMessage", "chat.update") or body is None or \
                not self.headers.get("Content-Type", "").startswith("application/json"):
            return self.answer(200, {"ok": False, "error": "unknown_method"})
        if token != TOKEN:
            return self.answer(200, {"ok": False, "error": "invalid_auth"})
        if body.get("channel") != CHANNEL:
            return self.answer(200, {"ok": False, "error": "channel_not_found"})
        step = None
        with lock:
            for (m, marker), answers in plans.items():
                if m == method and marker in body.get("text", "") and answers:
                    step = answers.pop(0)
                    break
        if step == "429":
            return self.answer(429, {"ok": False, "error": "ratelimited"},
                               [("Retry-After", "2")])
        if step == "500":
            return self.answer(500, {"ok": False, "error": "internal_error"})
        if step == "slow":
            time.sleep(1)
            return self.answer(503, {"ok": False, "error": "service_unavailable"})
        if step is not None:
            return self.answer(200, {"ok": False, "error": step})
        if method == "chat.update":
            with lock:
                known = any(t == body.get("ts") for m, _, t in taken
                            if m == "chat.postMessage")
            if not known:
                return self.answer(200, {"ok": False, "error": "message_not_found"})
            ts = body["ts"]
        else:
            with lock:
                serial[0] += 1
                ts = "1700000000.%06d" % serial[0]
        with lock:
            taken.append((method, body, ts))
        self.answer(200, {"ok": True, "channel": CHANNEL, "ts": ts,
                          "message": {"type": "message", "text": body.get("text"),
                                      "blocks": body.get("blocks", []), "ts": ts}})

    def log_message(self, *args):
        pass


def wait_for(pred, what, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            got = [(m, b, t) for m, b, t in taken if pred(m, b)]
        if got:
            return got
        time.sleep(0.1)
    check(False, "%s: nothing arrived" % what)
    return []


def calls_of(method, marker):
    """The bot target's calls (the right token and channel) about marker."""
    with lock:
        return [(t, tok, b) for m, tok, b, t in calls
                if m == method and tok == TOKEN and b is not None and
                b.get("channel") == CHANNEL and marker in b.get("text", "")]


def buttons(msg):
    return [b for b in msg.get("blocks", []) if b.get("type") == "actions"]


def texts(msg):
    return " ".join(b["text"]["text"] for b in msg.get("blocks", [])
                    if b.get("type") == "section")


def wait_sql(svc, query, want, what, timeout=40):
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        got = svc.sql(query)
        if got == want:
            return True
        time.sleep(0.2)
    check(False, "%s: %r" % (what, got))
    return False


adlib.require_daemon()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MockSlack)
threading.Thread(target=server.serve_forever, daemon=True).start()
API = "http://127.0.0.1:%d/api/" % server.server_address[1]


def conf(d):
    adlib.write(d + "/bot.token", TOKEN + "\n")
    adlib.write(d + "/wrong.token", WRONG + "\n")
    return "\n".join(["[notify bot]", "format = slack", "url = " + API,
                      "token = %s/bot.token" % d, "channel = " + CHANNEL, "",
                      "[notify wrongtoken]", "format = slack", "url = " + API,
                      "token = %s/wrong.token" % d, "channel = " + CHANNEL, "",
                      "[notify wrongchannel]", "format = slack", "url = " + API,
                      "token = %s/bot.token" % d, "channel = " + WRONG_CHANNEL, ""])


svc = adlib.Service(notify=conf)
try:
    svc.start()
    # A: Slack rate-limits, fails, then answers ok false before it takes the post.
    plan("chat.postMessage", "INC-A", "429", "500", "internal_error")
    st, _, doc, _ = svc.create(incident="INC-A")
    check(st == 201, "A filed")
    a = doc["request_id"]
    posted = wait_for(lambda m, b: m == "chat.postMessage" and a in b.get("text", ""),
                      "A's post")
    a_ts = posted[0][2] if posted else None
    if posted:
        msg = posted[0][1]
        check(msg.get("channel") == CHANNEL and
              [(e["action_id"], e["value"]) for e in buttons(msg)[0]["elements"]] ==
              [("approve", a), ("deny", a)], "A posted to the channel with its buttons")
    tries = calls_of("chat.postMessage", "INC-A")
    check(len(tries) == 4,
          "A's post tried four times with the bot token: %d" % len(tries))
    check(len(tries) >= 2 and tries[1][0] - tries[0][0] >= 1.9,
          "the Retry-After (2 s) after 429 honoured: %.2f s" %
          (tries[1][0] - tries[0][0] if len(tries) >= 2 else -1))
    wait_sql(svc, "SELECT channel, ts FROM slack_posts WHERE request_id = '%s' "
             "AND target = 'bot'" % a, [(CHANNEL, a_ts)], "A's channel and ts kept")

    # Decided on the API, no click anywhere: the message is replaced.
    svc.vote(a, "bob")
    st, data, _ = svc.vote(a, "carol")
    check(st == 200 and json.loads(data)["status"] == "approved", "A approved")
    upd = wait_for(lambda m, b: m == "chat.update" and a in b.get("text", ""), "A's update")
    if upd:
        msg = upd[0][1]
        check(msg.get("channel") == CHANNEL and msg.get("ts") == a_ts,
              "chat.update names A's message: %r" % msg.get("ts"))
        check(not buttons(msg) and "approved" in msg.get("text", "") and
              "Approved by bob, carol" in texts(msg),
              "A's message says approved, who voted, no buttons: %r" % msg.get("blocks"))

    # B: decided while its post is still retried; the update comes after the post.
    plan("chat.postMessage", "INC-B", "slow", "slow", "slow")
    st, _, doc, _ = svc.create(incident="INC-B")
    b = doc["request_id"]
    st, data, _ = svc.vote(b, "bob", "deny")
    check(st == 200 and json.loads(data)["status"] == "denied", "B denied at once")
    upd = wait_for(lambda m, b_: m == "chat.update" and b in b_.get("text", ""),
                   "B's update")
    with lock:
        order = [m for m, body, _ in taken if b in body.get("text", "")]
        b_ts = [t for m, body, t in taken if m == "chat.postMessage" and
                b in body.get("text", "")]
    check(order == ["chat.postMessage", "chat.update"],
          "B posted (after three slow 503s), then updated: %r" % order)
    if upd and b_ts:
        check(upd[0][1].get("ts") == b_ts[0] and not buttons(upd[0][1]) and
              "Denied by bob." in texts(upd[0][1]), "B's message says denied")

    # C: expires; its message says so.
    st, _, doc, _ = svc.create(incident="INC-C")
    c = doc["request_id"]
    wait_sql(svc, "SELECT count(*) FROM slack_posts WHERE request_id = '%s' AND "
             "target = 'bot' AND ts IS NOT NULL" % c, [(1,)], "C posted")
    svc.sql("UPDATE requests SET expires_ms = 1 WHERE id = '%s'" % c)
    upd = wait_for(lambda m, b_: m == "chat.update" and c in b_.get("text", ""),
                   "C's update")
    if upd:
        check("expired" in upd[0][1].get("text", "") and not buttons(upd[0][1]) and
              "No votes" in texts(upd[0][1]), "C's message says expired")

    # D: Slack refuses the post for good (not_in_channel): given up at once,
    # and its decision is then a message of its own.
    plan("chat.postMessage", "INC-D", "not_in_channel")
    st, _, doc, _ = svc.create(incident="INC-D")
    d = doc["request_id"]
    wait_sql(svc, "SELECT count(*) FROM slack_posts WHERE request_id = '%s' AND "
             "target = 'bot'" % d, [(0,)], "D's post given up and forgotten")
    svc.vote(d, "bob")
    svc.vote(d, "carol")
    new = wait_for(lambda m, b_: m == "chat.postMessage" and d in b_.get("text", "") and
                   "approved" in b_.get("text", ""), "D's decision")
    check(len(calls_of("chat.postMessage", "INC-D")) == 2 and
          not calls_of("chat.update", "INC-D") and new and not buttons(new[0][1]),
          "D: one refused post, then its decision posted, no update")

    # The wrong token and the wrong channel: refused by Slack, given up at once.
    wait_sql(svc, "SELECT count(*) FROM notifications WHERE target <> 'bot'", [(0,)],
             "the other targets' notifications given up")
    with lock:
        wrong = [c_ for c_ in calls if c_[1] == WRONG]
        unknown = [c_ for c_ in calls if c_[2] and c_[2].get("channel") == WRONG_CHANNEL]
    log = svc.daemon_log()
    # Four requests, each filed and decided: eight messages each.
    check(len(wrong) == 8 and len(unknown) == 8,
          "each of their 8 messages tried once: %d %d" % (len(wrong), len(unknown)))
    check("Slack: invalid_auth" in log and "Slack: channel_not_found" in log and
          "giving up after 1 attempts" in log, "their refusals logged")

    # E (PostgreSQL, whose transactions run side by side): the post is
    # forgotten (its give-up's delete, here held open by another session)
    # while the decision is being recorded.  The decision is then a message
    # of its own, not an update waiting forever for a post that is gone.
    if svc.backend == "postgresql":
        st, _, doc, _ = svc.create(incident="INC-E")
        e = doc["request_id"]
        wait_sql(svc, "SELECT count(*) FROM slack_posts WHERE request_id = '%s' AND "
                 "target = 'bot' AND ts IS NOT NULL" % e, [(1,)], "E posted")
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-h", svc.cluster.dir, "-p", str(svc.cluster.port), "-U",
             adlib.pglib.ADMIN, "-d", svc.dbname], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        holder.stdin.write("BEGIN;\nDELETE FROM slack_posts WHERE request_id = '%s' "
                           "AND target = 'bot';\n" % e)
        holder.stdin.flush()
        wait_sql(svc, "SELECT count(*) FROM pg_stat_activity WHERE state = "
                 "'idle in transaction' AND application_name = 'psql'", [(1,)],
                 "the delete held")
        svc.vote(e, "bob")
        voter = threading.Thread(target=svc.vote, args=(e, "carol"))
        voter.start()
        deadline = time.time() + 10
        while time.time() < deadline and not svc.waiting_on_locks():
            time.sleep(0.05)
        holder.stdin.write("COMMIT;\n")
        holder.stdin.close()
        holder.wait()
        voter.join()
        own = wait_for(lambda m, b_: m == "chat.postMessage" and e in b_.get("text", "")
                       and "approved" in b_.get("text", ""), "E's decision", timeout=20)
        check(own and not calls_of("chat.update", "INC-E"),
              "E: the decision posted as a message of its own")
        wait_sql(svc, "SELECT count(*) FROM notifications WHERE target = 'bot'", [(0,)],
                 "E: nothing left waiting in the bot's queue", timeout=20)

    # F: a post's give-up cannot be recorded whole (the database refuses to
    # forget the post, here by a trigger).  Neither half lands: the post is
    # neither done with its update left waiting forever nor sent again at
    # once, but tried again after a pause; once the database takes the
    # give-up, the decision is a message of its own and nothing waits.
    if svc.backend == "postgresql":
        svc.sql("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN RAISE EXCEPTION 'refused by the test'; END$$; "
                "CREATE TRIGGER test_refuse BEFORE DELETE ON slack_posts "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse()")
    else:
        svc.sql("CREATE TRIGGER test_refuse BEFORE DELETE ON slack_posts "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    plan("chat.postMessage", "INC-F", *["not_in_channel"] * 100)
    st, _, doc, _ = svc.create(incident="INC-F")
    f = doc["request_id"]
    deadline = time.time() + 30
    while time.time() < deadline and len(calls_of("chat.postMessage", "INC-F")) < 3:
        time.sleep(0.1)
    tries = calls_of("chat.postMessage", "INC-F")
    check(len(tries) >= 3, "F: the post tried again after its give-up failed: %d" %
          len(tries))
    gaps = [b_[0] - a_[0] for a_, b_ in zip(tries, tries[1:])]
    check(gaps and min(gaps) >= 0.9, "F: tried again after a pause, not at once: %r" % gaps)
    check(svc.sql("SELECT count(*) FROM slack_posts WHERE request_id = '%s' AND "
                  "target = 'bot'" % f) == [(1,)], "F: its post not forgotten")
    check("refused by the test" in svc.daemon_log(), "F: the failure logged")
    if svc.backend == "postgresql":
        svc.sql("DROP TRIGGER test_refuse ON slack_posts")
    else:
        svc.sql("DROP TRIGGER test_refuse")
    wait_sql(svc, "SELECT count(*) FROM slack_posts WHERE request_id = '%s' AND "
             "target = 'bot'" % f, [(0,)], "F: given up and forgotten, once it can be")
    plan("chat.postMessage", "INC-F")
    svc.vote(f, "bob")
    svc.vote(f, "carol")
    own = wait_for(lambda m, b_: m == "chat.postMessage" and f in b_.get("text", "") and
                   "approved" in b_.get("text", ""), "F's decision")
    check(own and not calls_of("chat.update", "INC-F"),
          "F: the decision posted as a message of its own")
    wait_sql(svc, "SELECT count(*) FROM notifications", [(0,)],
             "F: nothing left waiting in any queue", timeout=30)

    # The token: never logged, journaled or stored.
    check(svc.stop() == 0, "clean stop")
    stored = ""
    if svc.backend == "postgresql":
        for t in ("notifications", "slack_posts", "requests"):
            stored += repr(svc.sql("SELECT * FROM %s" % t))
    else:
        for f in os.listdir(svc.dir + "/state"):
            with open(os.path.join(svc.dir, "state", f), "rb") as fh:
                stored += fh.read().decode("latin-1")
    with open(svc.dir + "/log/journal.jsonl") as fh:
        journal = fh.read()
    for secret in (TOKEN, WRONG, TOKEN.split("-")[-1], WRONG.split("-")[-1]):
        check(secret not in log and secret not in journal and secret not in stored,
              "the token in no log, journal or database")

    # Retention: a purged request's post goes with it.
    now = int(time.time() * 1000)
    old = adlib.request_doc()
    svc.insert_request(old["request_id"], old["host"], old["operator"],
                       json.dumps(old).encode(), now - 401 * DAY_MS, now - 401 * DAY_MS,
                       "approved", now - 401 * DAY_MS)
    svc.sql("INSERT INTO slack_posts (request_id, target, post_msg, channel, ts) VALUES "
            "('%s', 'bot', 'msg_old', '%s', '1600000000.000001')" % (old["request_id"],
                                                                      CHANNEL))
    svc.start()
    wait_sql(svc, "SELECT count(*) FROM slack_posts WHERE request_id = '%s'" %
             old["request_id"], [(0,)], "purged with its request")
    check(svc.sql("SELECT count(*) FROM slack_posts WHERE request_id = '%s'" % a) == [(1,)],
          "a kept request's post stays")
    check(svc.stop() == 0, "clean stop after the purge")
finally:
    svc.cleanup()
    server.shutdown()

# Configuration: refused at load, naming the line.
SLACK = ["format = slack", "token = /etc/bot.token"]
for lines, words in [
        (SLACK, "needs \"channel\""),
        (["format = slack", "url = https://hooks.slack.com/x", "channel = C0123"],
         "channel: only with token"),
        (SLACK + ["channel = general"], "a Slack channel ID"),
        (SLACK + ["channel = c0123"], "a Slack channel ID"),
        (SLACK + ["channel = C0123", "url = http://slack.com/api/"],
         "http:// only on loopback"),
        (SLACK + ["channel = C0123", "url = https://slack.com/api"], "ending in '/'"),
        (["format = json", "token = /etc/bot.token", "channel = C0123",
          "url = https://example.net/", "secret = /etc/k"], "only for format slack"),
        (["format = slack"], "missing required key \"url\"")]:
    try:
        adlib.Service(notify="\n".join(["[notify bot]"] + lines) + "\n")
        check(False, "configuration taken: %s" % words)
    except RuntimeError as e:
        check(words in str(e) and "approvald.conf:" in str(e),
              "configuration refused: %s: %s" % (words, e))
# The token file: a secret file holding a bot token, read at start.
for text, mode, words in [(TOKEN + "\n", 0o644, "token"),
                          ("xoxp-1234-user-token\n", 0o600, "not a Slack bot token"),
                          ("xoxb-12 34\n", 0o600, "not a Slack bot token")]:
    def bad_token(d, text=text, mode=mode):
        adlib.write(d + "/bot.token", text, mode)
        return "[notify bot]\nformat = slack\ntoken = %s/bot.token\nchannel = %s\n" % (
            d, CHANNEL)
    svc = adlib.Service(notify=bad_token)
    try:
        r = subprocess.run([adlib.DAEMON, "--config", svc.conf, "--check-config"],
                           capture_output=True, text=True)
        check(r.returncode != 0 and words in r.stderr and "approvald.conf:" in r.stderr and
              "1234" not in r.stderr, "--check-config: %s: %s" % (words, r.stderr))
        svc.refused_start("a bad token file", words)
    finally:
        svc.cleanup()
adlib.finish()
