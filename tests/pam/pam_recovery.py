#!/usr/bin/env python3
"""Offline recovery (protocol R1) through real libpam (pam_start_confdir):
with the approval URL on a closed port and on a service answering 503, a
login succeeds with two correct codes; it is refused for a wrong code, a
reused challenge, a code from the operator, the same approver twice, a code
computed for another incident, an expired challenge, a scope outside
[recovery] scopes, and after a signed denial (no recovery offered).  With
several approval URLs, recovery is offered only when every one failed
(closed port, then 503), never when a later one answers a signed denial.  With
the monitoring down too, [recovery] signals_required applies once a probe
finds the approval service unreachable; a reachable service refuses as
before, and the probe files no request.  Wrong
codes count toward the lockout; an edited recovery grant is refused; the
journal never holds a code and verifies at the end.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "recovery"))
import r1_ref  # noqa: E402

SRC = os.environ["top_srcdir"]
BUILD = os.environ["top_builddir"]
BREAKGLASS = os.environ["BREAKGLASS"]
MODULE = os.path.join(BUILD, "pam_breakglass", ".libs", "pam_breakglass.so")
DRIVER = os.path.join(BUILD, "tests", "pam", "pam_driver")
HOST = "mx1.example.net"
HOST_KEY = "1f7bef4253eb798607b74c3bfd6625f5f94528bba471bb15f347ab3776dcb7a4"
SECRET = b"12345678901234567890"
APPROVERS = ("bob", "carol", "dave")
WINDOW = 10

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def write(path, text, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, text.encode())
    os.close(fd)
    os.chmod(path, mode)


def totp_at(step):
    mac = hmac.new(SECRET, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


class Operator:
    """An operator whose TOTP codes go forward through the accepted window,
    so one operator can log in several times within one 30 s step."""

    def __init__(self, name):
        self.name = name
        self.step = int(time.time() // 30) - WINDOW

    def code(self):
        self.step += 1
        return totp_at(self.step)


class Refuse503(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST

    def log_message(self, *args):
        pass


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(script, *args):
    p = subprocess.Popen([sys.executable, script, *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    return p, int(p.stdout.readline())


class Env:
    def __init__(self, d):
        self.d = d
        for sub in ("state", "run", "log", "operators", "pamd", "rkeys", "laptop"):
            os.makedirs(os.path.join(d, sub), mode=0o755)
        os.chmod(os.path.join(d, "rkeys"), 0o700)
        write(os.path.join(d, "host.key"), HOST_KEY + "\n", 0o600)
        self.pub = os.path.join(d, "approvald.pub")
        self.approvald, self.aport = start(
            os.path.join(SRC, "tests", "approval", "mock_approvald.py"),
            HOST, os.path.join(d, "host.key"), self.pub)
        self.monitor, self.mport = start(os.path.join(SRC, "tests", "signals",
                                                      "mock_monitor.py"))
        self.srv503 = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse503)
        threading.Thread(target=self.srv503.serve_forever, daemon=True).start()
        self.journal = os.path.join(d, "log", "journal.jsonl")
        self.nops = 0
        # Each approver's K_A on "their laptop", and the host's K_AH installed
        # through the approver's own tool.
        self.k_ah = {}
        for a in APPROVERS:
            ka = os.path.join(d, "laptop", a)
            subprocess.run([BREAKGLASS, "recovery", "keygen", "--out", ka], check=True,
                           capture_output=True)
            out = subprocess.run([BREAKGLASS, "recovery", "export-host", "--key", ka,
                                  "--host", HOST], check=True, capture_output=True,
                                 text=True).stdout
            write(os.path.join(d, "rkeys", a), out, 0o600)
            self.k_ah[a] = bytes.fromhex(out.strip())
            check(self.k_ah[a] == r1_ref.host_key(bytes.fromhex(open(ka).read().strip()),
                                                  HOST), "export-host agrees with R1")

    def stop(self):
        for p in (self.approvald, self.monitor):
            p.stdin.close()
            p.wait()
        self.srv503.shutdown()

    def operator(self, name=None):
        self.nops += 1
        name = name or "op%d" % self.nops
        write(os.path.join(self.d, "operators", name),
              "secret = %s\n" % base64.b32encode(SECRET).decode(), 0o600)
        return Operator(name)

    def service(self, name, url, monitor=None, signals_required=0, required=1,
                account="breakglass"):
        """url: one approval URL, or a list of them."""
        monitor = monitor or "http://127.0.0.1:%d/am-firing" % self.mport
        url = url if isinstance(url, str) else "\nurl = ".join(url)
        conf = os.path.join(self.d, name + ".conf")
        write(conf, f"""[general]
accounts = {account}
state_dir = {self.d}/state
run_dir = {self.d}/run
kill_switch = {self.d}/kill-switch
journal = {self.journal}
grant_ttl = 1h

[totp]
operators_dir = {self.d}/operators
window = {WINDOW}
max_failures = 3

[approval]
url = {url}
host_id = {HOST}
host_key = {self.d}/host.key
service_key = {self.pub}
approvers = bob carol dave
quorum = 2
timeout = 5s
connect_timeout = 2s

[recovery]
enabled = yes
approvers = bob carol dave
keys_dir = {self.d}/rkeys
ttl = 2m
scopes = mail-queue
challenge_ttl = 10m
signals_required = {signals_required}

[signals]
required = {required}

[signal am]
type = alertmanager
url = {monitor}
match = alertname=~".*"

[scope mail-queue]
command = /usr/sbin/postqueue -p

[scope diagnostics]
command = /usr/bin/id
""", 0o644)
        line = f"{MODULE} config={conf}"
        write(os.path.join(self.d, "pamd", name),
              f"auth required {line}\naccount required {line}\n"
              f"session required {line}\n", 0o644)
        return conf

    def login(self, service, op, pairs=(), steps="a", incident="INC-7", scope="mail-queue"):
        answers = [op.name, incident, "approval service down", scope, op.code()]
        for name, code in pairs:
            answers += [name, code]
        p = subprocess.run([DRIVER, "-r", "192.0.2.10", "-y", "ssh",
                            os.path.join(self.d, "pamd"), service, "breakglass", steps,
                            *answers], capture_output=True, text=True, timeout=60)
        results = dict(l.split("=", 1) for l in p.stdout.splitlines()
                       if "=" in l and not l.startswith(("prompt:", "info:")))
        m = re.search(r"challenge: ([A-Z2-7]{4}-[A-Z2-7]{4})", p.stdout)
        return results, p.stdout, m.group(1) if m else None

    def code(self, approver, op, challenge, incident="INC-7", scope="mail-queue",
             host=HOST, account="breakglass"):
        return r1_ref.code(self.k_ah[approver], host, account, op.name, incident,
                           scope, challenge, approver)

    def events(self):
        with open(self.journal) as f:
            return [json.loads(l) for l in f]

    def since(self, n):
        return self.events()[n:]

    def grant(self):
        return os.path.join(self.d, "run", "grants", "breakglass.json")


def names(evs):
    return [e["event"] for e in evs]


def recover(env, service, op):
    """Learns the challenge (a login that stops at the first code prompt),
    then logs in again with bob's and carol's codes."""
    r, out, ch = env.login(service, op)
    check(ch is not None and r.get("authenticate") == "PAM_AUTH_ERR",
          f"{service}: challenge shown, conversation ends: {out}")
    pairs = [(a, env.code(a, op, ch)) for a in ("bob", "carol")]
    return ch, pairs


def test_success(env, service):
    op = env.operator()
    ch, pairs = recover(env, service, op)
    n = len(env.events())
    r, out, ch2 = env.login(service, op, pairs, steps="am")
    check(ch2 == ch, f"{service}: the pending challenge is shown again")
    check(r.get("authenticate") == "PAM_SUCCESS" and r.get("acct_mgmt") == "PAM_SUCCESS",
          f"{service}: recovery with two codes {out}")
    evs = env.since(n)
    check(names(evs)[-6:] == ["approval.error", "recovery.offered", "recovery.code_accepted",
                              "recovery.code_accepted", "recovery.granted", "grant.issued"],
          f"{service}: journal {names(evs)}")
    off = [e for e in evs if e["event"] == "recovery.offered"][0]
    check(off.get("challenge") == ch.replace("-", "") and off.get("signals_state") == "firing",
          f"{service}: offered {off}")
    with open(env.grant()) as f:
        g = json.load(f)
    check(g.get("recovery") is True and g["approvers"] == ["bob", "carol"] and
          g["expires_at"] - g["issued_at"] == 120 and g["scope"] == "mail-queue" and
          g["request_id"] == "R1-" + ch.replace("-", ""), f"{service}: grant {g}")
    text = open(env.journal).read()
    check(all(c not in text and c.replace("-", "") not in text for _, c in pairs),
          f"{service}: no code in the journal")
    st = subprocess.run([BREAKGLASS, "--config", os.path.join(env.d, service + ".conf"),
                         "status", "--json"], capture_output=True, text=True)
    check('"valid": true' in st.stdout.replace('":true', '": true'),
          f"{service}: status validates the recovery grant {st.stdout} {st.stderr}")
    return op, pairs


def test_edited_grant(env, service):
    with open(env.grant()) as f:
        g = json.load(f)
    for key, value in (("scope", "diagnostics"), ("expires_at", g["issued_at"] + 3600),
                       ("operator", "op99"), ("approvers", ["bob", "dave"])):
        e = dict(g)
        e[key] = value
        write(env.grant(), json.dumps(e), 0o600)
        r, out, _ = env.login(service, env.operator(), steps="m")
        check(r.get("acct_mgmt") == "PAM_PERM_DENIED", f"edited {key}: refused {out}")
        check(env.events()[-1].get("reason") in ("grant-invalid", "grant-expired"),
              f"edited {key}: journal {env.events()[-1]}")
    os.unlink(env.grant())


def refused(env, service, op, pairs, reason, what, **kw):
    n = len(env.events())
    r, out, ch = env.login(service, op, pairs, **kw)
    check(r.get("authenticate") in ("PAM_AUTH_ERR", "PAM_PERM_DENIED"),
          f"{what}: refused {out}")
    evs = env.since(n)
    last = [e for e in evs if e["event"] == "recovery.refused"]
    check(last and last[-1].get("reason") == reason,
          f"{what}: reason {last[-1] if last else names(evs)}")
    check(not os.path.exists(env.grant()), f"{what}: no grant")
    return ch


def test_refusals(env, service):
    op = env.operator()
    ch, pairs = recover(env, service, op)
    refused(env, service, op, [pairs[0], ("carol", "0000-0000")], "wrong-code", "wrong code")
    refused(env, service, op, [pairs[0], pairs[0]], "duplicate-approver", "same approver")
    refused(env, service, op, [("erin", "1234-5678")], "unknown-approver", "unknown approver")
    # Three failures above (max_failures = 3): the operator is locked out.
    r, out, _ = env.login(service, op, pairs)
    check(r.get("authenticate") == "PAM_AUTH_ERR" and
          env.events()[-1]["event"] == "auth.locked_out", "wrong codes lock out " + out)

    # A code approves exactly its details.
    op = env.operator()
    ch, pairs = recover(env, service, op)
    other = env.code("carol", op, ch, incident="INC-8")
    refused(env, service, op, [pairs[0], ("carol", other)], "wrong-code", "other incident")
    other = env.code("carol", op, ch, scope="diagnostics")
    refused(env, service, op, [pairs[0], ("carol", other)], "wrong-code", "other scope")
    other = env.code("carol", op, ch, host="mx2.example.net")
    refused(env, service, op, [pairs[0], ("carol", other)], "wrong-code", "other host")

    # The operator may not approve their own recovery.
    dave = env.operator("dave")
    ch, _ = recover(env, service, dave)
    refused(env, service, dave, [("dave", env.code("dave", dave, ch))], "self-approval",
            "operator's own code")

    # A scope outside [recovery] scopes is never offered.
    op = env.operator()
    n = len(env.events())
    ch = refused(env, service, op, [], "scope", "scope outside scopes", scope="diagnostics")
    check(ch is None and "recovery.offered" not in names(env.since(n)),
          "scope outside scopes: no challenge shown")


def test_reuse_and_expiry(env, service):
    op, pairs = test_success(env, service)
    os.unlink(env.grant())
    # The used challenge is never shown again: its codes do not fit the new one.
    ch = refused(env, service, op, pairs, "wrong-code", "reused challenge")
    check(ch is not None and "R1-" + ch.replace("-", "") !=
          [e for e in env.events() if e["event"] == "recovery.granted"][-1]["request_id"],
          "reused challenge: a new challenge")
    # Expired: the pending challenge is dropped, its codes refused.
    op = env.operator()
    ch, pairs = recover(env, service, op)
    state = os.path.join(env.d, "state", "recovery", "challenges.json")
    with open(state) as f:
        s = json.load(f)
    for e in s["challenges"]:
        if e["challenge"] == ch.replace("-", ""):
            e["issued_at"] -= 601
    write(state, json.dumps(s), 0o600)
    ch2 = refused(env, service, op, pairs, "wrong-code", "expired challenge")
    check(ch2 is not None and ch2 != ch, "expired challenge: replaced")


def test_signed_denial(env):
    env.service("denied", "http://127.0.0.1:%d/denied/v1" % env.aport)
    op = env.operator()
    n = len(env.events())
    r, out, ch = env.login("denied", op, [("bob", "1234-5678")])
    evs = env.since(n)
    check(r.get("authenticate") == "PAM_AUTH_ERR" and ch is None,
          "signed denial: refused, no challenge " + out)
    check("approval.denied" in names(evs) and
          not any(x.startswith("recovery.") for x in names(evs)),
          "signed denial: no recovery " + str(names(evs)))
    # A 500 after the request was filed is an answer too: no recovery.
    env.service("late500", "http://127.0.0.1:%d/http500/v1" % env.aport)
    n = len(env.events())
    r, out, ch = env.login("late500", env.operator())
    check(ch is None and not any(x.startswith("recovery.") for x in names(env.since(n))),
          "5xx after an answer: no recovery " + out)


def test_every_url(env):
    """Several URLs: recovery only when all of them failed."""
    both = ["http://127.0.0.1:%d/v1" % closed_port(),
            "http://127.0.0.1:%d/v1" % env.srv503.server_address[1]]
    env.service("closed-503", both)
    n = len(env.events())
    test_success(env, "closed-503")
    errs = [e for e in env.since(n) if e["event"] == "approval.error"]
    check(errs and all(e.get("failed_urls") == both and "url" not in e for e in errs),
          "every url failed: both journaled " + str(errs))
    os.unlink(env.grant())
    env.service("closed-denied", ["http://127.0.0.1:%d/v1" % closed_port(),
                                  "http://127.0.0.1:%d/denied/v1" % env.aport])
    n = len(env.events())
    r, out, ch = env.login("closed-denied", env.operator(), [("bob", "1234-5678")])
    evs = env.since(n)
    check(r.get("authenticate") == "PAM_AUTH_ERR" and ch is None and
          "approval.denied" in names(evs) and
          not any(x.startswith("recovery.") for x in names(evs)),
          "first url down, second a signed denial: no recovery " + out + str(names(evs)))


def test_monitoring_down(env):
    """[signals] required is not met (the monitoring is down): with the
    approval service unreachable too, [recovery] signals_required applies;
    with the service reachable, [signals] required refuses as before, and no
    request is filed."""
    down = "http://127.0.0.1:%d/am-firing" % closed_port()
    env.service("nosig-closed", "http://127.0.0.1:%d/v1" % closed_port(), monitor=down)
    op = env.operator()
    n = len(env.events())
    ch, pairs = recover(env, "nosig-closed", op)
    r, out, _ = env.login("nosig-closed", op, pairs, steps="am")
    check(r.get("authenticate") == "PAM_SUCCESS" and r.get("acct_mgmt") == "PAM_SUCCESS",
          "monitoring and approval down: recovery with signals_required = 0 " + out)
    evs = env.since(n)
    off = [e for e in evs if e["event"] == "recovery.offered"]
    check(off and off[0].get("signals_state") == "unreachable" and off[0].get("signal_errors"),
          "monitoring down: offered with the signals unreachable " + str(off))
    probes = [e for e in evs if e["event"] == "approval.probed"]
    check(probes and all(e.get("reachable") is False and e.get("reason") == "connect"
                         for e in probes), "approval service probed: unreachable " + str(probes))
    check("approval.requested" not in names(evs), "no request filed " + str(names(evs)))
    os.unlink(env.grant())

    # recovery signals_required = 1 still needs a firing source.
    env.service("nosig-req1", "http://127.0.0.1:%d/v1" % closed_port(), monitor=down,
                signals_required=1)
    refused(env, "nosig-req1", env.operator(), [], "signals", "signals_required = 1")

    # [signals] required = 0: the sources are still queried for recovery.
    env.service("sig0-req1", "http://127.0.0.1:%d/v1" % closed_port(), signals_required=1,
                required=0)
    op = env.operator()
    n = len(env.events())
    ch, pairs = recover(env, "sig0-req1", op)
    r, out, _ = env.login("sig0-req1", op, pairs)
    off = [e for e in env.since(n) if e["event"] == "recovery.offered"]
    check(r.get("authenticate") == "PAM_SUCCESS" and off and
          off[0].get("signals_state") == "firing",
          "[signals] required = 0: sources queried for signals_required = 1 " + out)
    os.unlink(env.grant())

    # The approval service answers: [signals] required refuses, as without recovery.
    def newest():
        with urllib.request.urlopen("http://127.0.0.1:%d/_pending" % env.aport) as f:
            return json.load(f)["request_id"]

    before = None
    try:
        before = newest()
    except urllib.error.HTTPError as e:
        before = json.load(e)["request_id"]
    env.service("nosig-up", "http://127.0.0.1:%d/approve/v1" % env.aport, monitor=down)
    n = len(env.events())
    r, out, ch = env.login("nosig-up", env.operator(), [("bob", "1234-5678")])
    evs = env.since(n)
    check(r.get("authenticate") == "PAM_PERM_DENIED" and ch is None,
          "monitoring down, approval up: refused, no challenge " + out)
    check(not any(x.startswith("recovery.") for x in names(evs)) and
          "approval.requested" not in names(evs), "approval up: no recovery " + str(names(evs)))
    probes = [e for e in evs if e["event"] == "approval.probed"]
    check(probes and probes[-1].get("reachable") is True, "approval up: probed " + str(probes))
    try:
        after = newest()
    except urllib.error.HTTPError as e:
        after = json.load(e)["request_id"]
    check(after == before, "approval up: the probe filed no request")
    check(not os.path.exists(env.grant()), "approval up: no grant")


def main():
    if not os.path.exists(MODULE) or not os.path.exists(DRIVER):
        print("SKIP: module or driver not built", file=sys.stderr)
        return 77
    d = tempfile.mkdtemp(prefix="bgrec.")
    os.chmod(d, 0o755)
    env = Env(d)
    try:
        closed = env.service("closed", "http://127.0.0.1:%d/v1" % closed_port())
        env.service("s503", "http://127.0.0.1:%d/v1" % env.srv503.server_address[1])
        subprocess.run([BREAKGLASS, "--config", closed, "journal", "init"], check=True,
                       capture_output=True)
        cc = subprocess.run([BREAKGLASS, "--config", closed, "check-config"],
                            capture_output=True, text=True)
        check("approvers" not in cc.stdout + cc.stderr and "keys_dir" not in cc.stdout +
              cc.stderr, "check-config accepts the recovery keys " + cc.stdout + cc.stderr)
        os.chmod(os.path.join(d, "rkeys", "dave"), 0o640)
        cc = subprocess.run([BREAKGLASS, "--config", closed, "check-config"],
                            capture_output=True, text=True)
        check(cc.returncode != 0 and "approvers: " in cc.stdout + cc.stderr and
              "/dave: mode 0640" in cc.stdout + cc.stderr,
              "check-config names an open key file " + cc.stdout + cc.stderr)
        os.chmod(os.path.join(d, "rkeys", "dave"), 0o600)
        test_success(env, "closed")
        test_edited_grant(env, "closed")
        test_success(env, "s503")
        os.unlink(env.grant())
        test_refusals(env, "closed")
        test_reuse_and_expiry(env, "s503")
        test_signed_denial(env)
        test_every_url(env)
        test_monitoring_down(env)
        v = subprocess.run([BREAKGLASS, "--config", closed, "verify"], capture_output=True,
                           text=True)
        check(v.returncode == 0, "journal verifies: " + v.stdout + v.stderr)
    finally:
        env.stop()
        shutil.rmtree(d)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
