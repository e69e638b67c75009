#!/usr/bin/env python3
"""pam_breakglass through real libpam (pam_start_confdir) against loopback
monitoring and approval servers: the happy path, every approval refusal with
its journal reason, signals, TOTP, kill switch, account checks, and a journal
that verifies at the end.
"""
import base64
import hashlib
import hmac
import json
import os
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

SRC = os.environ["top_srcdir"]
BUILD = os.environ["top_builddir"]
BREAKGLASS = os.environ["BREAKGLASS"]
MODULE = os.path.join(BUILD, "pam_breakglass", ".libs", "pam_breakglass.so")
DRIVER = os.path.join(BUILD, "tests", "pam", "pam_driver")
HOST_KEY = "1f7bef4253eb798607b74c3bfd6625f5f94528bba471bb15f347ab3776dcb7a4"
SECRET = base64.b32encode(b"12345678901234567890").decode()
# tests/valgrind.sh runs the driver under valgrind: slower, so a longer bound.
WRAPPER = shlex.split(os.environ.get("BG_TEST_WRAPPER", ""))
RUN_TIMEOUT = 600 if WRAPPER else 60
# Runs a command in a private mount namespace whose /dev/log is the socket $1:
# the module's real syslog(3) lines reach the test, and nothing else changes.
PRIVATE_DEV_LOG = """d=$1; shift
mount --bind /dev "$d/olddev"
mount -t tmpfs -o mode=0755 tmpfs /dev
for n in null zero full random urandom; do
    touch "/dev/$n"; mount --bind "$d/olddev/$n" "/dev/$n"
done
touch /dev/log
mount --bind "$d/log.sock" /dev/log
exec "$@"
"""

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def totp(now=None):
    step = int((now or time.time()) // 30)
    mac = hmac.new(b"12345678901234567890", struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % code


def write(path, text, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, text.encode())
    os.close(fd)
    os.chmod(path, mode)


def start(script, *args):
    p = subprocess.Popen([sys.executable, script, *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    return p, int(p.stdout.readline())


class Env:
    def __init__(self, d):
        self.d = d
        for sub in ("state", "run", "log", "operators", "pamd"):
            os.makedirs(os.path.join(d, sub), mode=0o755)
        write(os.path.join(d, "host.key"), HOST_KEY + "\n", 0o600)
        self.pub = os.path.join(d, "approvald.pub")
        self.approvald, self.aport = start(
            os.path.join(SRC, "tests", "approval", "mock_approvald.py"),
            "mx1.example.net", os.path.join(d, "host.key"), self.pub)
        self.monitor, self.mport = start(os.path.join(SRC, "tests", "signals",
                                                      "mock_monitor.py"))
        self.operators = 0
        self.journal = os.path.join(d, "log", "journal.jsonl")
        self.kill = os.path.join(d, "kill-switch")

    def stop(self):
        for p in (self.approvald, self.monitor):
            p.stdin.close()
            p.wait()

    def operator(self):
        """A fresh operator, so TOTP replay state never spans two cases."""
        self.operators += 1
        name = "op%d" % self.operators
        write(os.path.join(self.d, "operators", name), "secret = %s\n" % SECRET, 0o600)
        return name

    def service(self, name, mode="approve", signals=("am-firing", "prom-firing"),
                timeout="10s", args="", approval=None):
        """Writes NAME.conf and the PAM service NAME using it.  approval:
        (url, host_key, service_key) of another approval service than the mock;
        url may be a list of URLs."""
        conf = os.path.join(self.d, name + ".conf")
        url, host_key, service_key = approval or (
            "http://127.0.0.1:%d/%s/v1" % (self.aport, mode),
            os.path.join(self.d, "host.key"), self.pub)
        url = url if isinstance(url, str) else "\nurl = ".join(url)
        srcs = "".join(
            "[signal s%d]\ntype = %s\nurl = http://127.0.0.1:%d/%s\nmatch = alertname=~\".*\"\n"
            % (i, "alertmanager" if m.startswith("am") else "prometheus", self.mport, m)
            for i, m in enumerate(signals))
        write(conf, f"""[general]
accounts = breakglass bg-*
state_dir = {self.d}/state
run_dir = {self.d}/run
kill_switch = {self.kill}
journal = {self.journal}
grant_ttl = 1h

[totp]
operators_dir = {self.d}/operators
max_failures = 3

[approval]
url = {url}
host_id = mx1.example.net
host_key = {host_key}
service_key = {service_key}
approvers = bob carol dave
quorum = 2
timeout = {timeout}
connect_timeout = 2s

[signals]
required = 2

{srcs}
[scope mail-queue]
description = Inspect and purge the Postfix queue
command = /usr/sbin/postqueue -p
runas = root
""", 0o644)
        line = f"{MODULE} config={conf} {args}".strip()
        write(os.path.join(self.d, "pamd", name),
              f"auth required {line}\naccount required {line}\n"
              f"session required {line}\n", 0o644)
        return conf

    def run(self, service, user, steps, *answers, syslog_dir=None):
        """syslog_dir: a directory with olddev/ and the bound socket log.sock,
        to which the run's syslog goes (see PRIVATE_DEV_LOG)."""
        ns = ["unshare", "--mount", "--propagation", "private", "sh", "-ec",
              PRIVATE_DEV_LOG, "sh", syslog_dir] if syslog_dir else []
        p = subprocess.run([*ns, *WRAPPER, DRIVER, "-r", "192.0.2.10", "-y", "ssh",
                            os.path.join(self.d, "pamd"), service, user, steps, *answers],
                           capture_output=True, text=True, errors="surrogateescape",
                           timeout=RUN_TIMEOUT)
        results = dict(l.split("=", 1) for l in p.stdout.splitlines()
                       if "=" in l and not l.startswith(("prompt:", "info:")))
        return results, p.stdout

    def login(self, service, steps="a", operator=None, code=None):
        op = operator or self.operator()
        return self.run(service, "breakglass", steps, op, "INC-2041",
                        "Outbound spam from a compromised account", code or totp())

    def events(self):
        with open(self.journal) as f:
            return [json.loads(l) for l in f]

    def last(self, prefix):
        for e in reversed(self.events()):
            if e["event"].startswith(prefix):
                return e
        return {}

    def grant(self):
        return os.path.join(self.d, "run", "grants", "breakglass.json")


REFUSALS = [
    ("bad-signature", "approval.error", "signature"),
    ("missing-signature", "approval.error", "signature"),
    ("wrong-nonce", "approval.error", "mismatch"),
    ("wrong-request-id", "approval.error", "mismatch"),
    ("wrong-host", "approval.error", "mismatch"),
    ("wrong-account", "approval.error", "mismatch"),
    ("wrong-operator", "approval.error", "mismatch"),
    ("wrong-incident", "approval.error", "mismatch"),
    ("no-incident", "approval.error", "malformed"),
    ("unknown-approver", "approval.error", "unknown-approver"),
    ("duplicate-approver", "approval.error", "quorum"),
    ("short-quorum", "approval.error", "quorum"),
    ("denied", "approval.denied", "denied"),
    ("expired", "approval.expired", "expired"),
    ("stale-issued-at", "approval.error", "mismatch"),
    ("changed-scope", "approval.error", "mismatch"),
    ("raised-ttl", "approval.error", "mismatch"),
    ("malformed", "approval.error", "malformed"),
    ("oversized", "approval.error", "too-large"),
    ("http500", "approval.error", "http-status"),
    ("redirect", "approval.error", "http-status"),
    ("hang", "approval.expired", "timeout"),
    ("pending", "approval.expired", "timeout"),
]


def test_happy(env):
    env.service("happy")
    r, out = env.login("happy", "am")
    check(r.get("authenticate") == "PAM_SUCCESS", "happy: authenticate " + out)
    check(r.get("acct_mgmt") == "PAM_SUCCESS", "happy: acct_mgmt (grant validates) " + out)
    check("Approval request" in out, "happy: operator told about the request")
    check(oct(os.stat(env.grant()).st_mode & 0o777) == "0o600", "happy: grant 0600")
    with open(env.grant()) as f:
        g = json.load(f)
    check(g["approvers"] == ["bob", "carol"] and g["scope"] == "mail-queue",
          "happy: grant contents")
    check(g["expires_at"] - g["issued_at"] <= 3600, "happy: ttl within grant_ttl")
    for ev in ("auth.begin", "signals.checked", "approval.requested", "approval.approved",
               "grant.issued"):
        check(env.last(ev).get("outcome") == "success", "happy: journal " + ev)
    check(len(env.last("signals.checked").get("signals", [])) == 2, "happy: signals kept")
    r, out = env.run("happy", "breakglass", "oc")
    check(r.get("close_session") == "PAM_SUCCESS", "happy: sessions " + out)
    check(not os.path.exists(env.grant()), "happy: grant revoked on logout")
    check(env.last("grant.revoked").get("reason") == "logout", "happy: revocation journaled")


def test_refusals(env):
    for mode, event, reason in REFUSALS:
        short = mode in ("hang", "pending")
        env.service(mode, mode=mode, timeout="2s" if short else "10s")
        r, out = env.login(mode, "a")
        check(r.get("authenticate") == "PAM_AUTH_ERR", f"{mode}: authenticate {out}")
        e = env.last("approval.")
        check(e.get("event") == event and e.get("reason") == reason,
              f"{mode}: journal {e.get('event')} reason={e.get('reason')}")
        check(not os.path.exists(env.grant()), f"{mode}: no grant")
        check("Approval was not obtained" in out, f"{mode}: operator told")


# U+202E (right-to-left override), U+2066 (left-to-right isolate), U+0085 (C1
# next line) in UTF-8, and a lone C1 byte (CSI on a Latin-1 terminal).
HIDDEN = (b"\xe2\x80\xae", b"\xe2\x81\xa6", b"\xc2\x85", b"\x9b")


def test_hidden_characters(env):
    """Operator, incident and reason holding bidi and C1 controls are refused
    at the prompt with a word to the operator; the attempt is journaled and
    sent to syslog escaped, and never reaches the approval service."""
    env.service("hidden")
    # A private /dev/log needs a mount namespace: root only.
    logdir = os.path.join(env.d, "syslog") if os.geteuid() == 0 else None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if logdir:
        os.makedirs(os.path.join(logdir, "olddev"))
        sock.bind(os.path.join(logdir, "log.sock"))
    else:
        print("hidden: not root, syslog lines not checked", file=sys.stderr)
    with open(env.journal, "rb") as f:
        start = len(f.read())
    cases = [
        ("bad-incident", [env.operator(), b"INC-1\xe2\x80\xaeTXT.exe", b"spam", totp()],
         "INC-1\\u202eTXT.exe"),
        ("bad-reason", [env.operator(), b"INC-1", b"spam\xc2\x85event=x \xe2\x81\xa6y", totp()],
         "spam\\u0085event=x \\u2066y"),
        ("bad-reason", [env.operator(), b"INC-1", b"spam \x9b" b"31m", totp()],
         "spam \ufffd31m"),
        ("bad-operator", [b"op\xe2\x80\xae1", b"INC-1", b"spam", totp()], "op\\u202e1"),
    ]
    for reason, answers, shown in cases:
        before = len(env.events())
        r, out = env.run("hidden", "breakglass", "a", *answers, syslog_dir=logdir)
        check(r.get("authenticate") in ("PAM_PERM_DENIED", "PAM_AUTH_ERR"),
              f"hidden {reason}: refused {out!r}")
        check("bidirectional-text controls" in out, f"hidden {reason}: operator told {out!r}")
        new = env.events()[before:]
        check([e["event"] for e in new] == ["auth.begin"] and
              new[0].get("reason") == reason and new[0].get("detail") == shown,
              f"hidden {reason}: journaled escaped, no approval asked: {new}")
    with open(env.journal, "rb") as f:
        written = f.read()[start:]
    lines = []
    if logdir:
        sock.settimeout(5)
        try:
            while True:
                lines.append(sock.recv(4096))
                sock.settimeout(0.5)
        except socket.timeout:
            pass
        check(sum(b"event=auth.begin" in l and b"reason=bad-" in l for l in lines) ==
              len(cases), "hidden: one syslog line per refusal: %r" % lines)
    sock.close()
    for h in HIDDEN:
        check(h not in written, "hidden: journal carries %r raw" % h)
        check(all(h not in l for l in lines), "hidden: syslog carries %r raw" % h)


def test_self_approval(env):
    env.service("self", mode="self-approval")
    r, out = env.run("self", "breakglass", "a", "bob", "INC-1", "spam", totp())
    # "bob" has no secret file: refused at TOTP before any approval.
    check(r.get("authenticate") == "PAM_AUTH_ERR", "self: unknown operator refused")
    check(env.last("auth.totp_failed").get("reason") == "unknown-operator",
          "self: unknown-operator journaled")
    write(os.path.join(env.d, "operators", "bob"), "secret = %s\n" % SECRET, 0o600)
    r, out = env.run("self", "breakglass", "a", "bob", "INC-1", "spam", totp())
    check(r.get("authenticate") == "PAM_AUTH_ERR", "self: authenticate " + out)
    check(env.last("approval.").get("reason") == "self-approval", "self: reason")


def test_signals(env):
    env.service("onesignal", signals=("am-firing", "error500"))
    r, out = env.login("onesignal", "a")
    check(r.get("authenticate") == "PAM_PERM_DENIED", "1 firing: refused " + out)
    e = env.last("signals.checked")
    check(e.get("outcome") == "failure" and e.get("reason") == "no qualifying emergency",
          "1 firing: journal")
    check(env.events()[-1]["event"] == "signals.checked", "1 firing: no approval asked")


def test_totp(env):
    env.service("totp")
    op = env.operator()
    r, _ = env.login("totp", "a", operator=op, code="000000" if totp() != "000000" else "111111")
    check(r.get("authenticate") == "PAM_AUTH_ERR", "wrong code refused")
    check(env.last("auth.totp_failed").get("reason") == "wrong-code", "wrong code journaled")
    r, _ = env.login("totp", "a", operator=op, code="12345")
    check(r.get("authenticate") == "PAM_AUTH_ERR", "short code refused")
    code = totp()
    r, out = env.login("totp", "a", operator=op, code=code)
    check(r.get("authenticate") == "PAM_SUCCESS", "right code after failures " + out)
    r, _ = env.login("totp", "a", operator=op, code=code)
    check(r.get("authenticate") == "PAM_AUTH_ERR", "replayed code refused")
    check(env.last("auth.").get("event") == "auth.totp_replayed", "replay journaled")
    lock = env.operator()
    for _ in range(3):
        env.login("totp", "a", operator=lock, code="99999a")
    r, _ = env.login("totp", "a", operator=lock)
    check(r.get("authenticate") == "PAM_AUTH_ERR", "locked out")
    check(env.last("auth.").get("event") == "auth.locked_out", "lockout journaled")
    r, out = env.login("totp", "a")
    check(r.get("authenticate") == "PAM_SUCCESS", "another operator unaffected " + out)


def test_account(env):
    env.service("acct")
    os.unlink(env.grant()) if os.path.exists(env.grant()) else None
    r, _ = env.run("acct", "breakglass", "m")
    check(r.get("acct_mgmt") == "PAM_PERM_DENIED", "no grant: acct_mgmt refused")
    check(env.last("account.denied").get("reason") == "no-grant", "no grant journaled")
    r, out = env.login("acct", "a")
    check(r.get("authenticate") == "PAM_SUCCESS", "acct: login " + out)
    with open(env.grant()) as f:
        g = json.load(f)
    now = int(time.time())
    g["issued_at"], g["expires_at"] = now - 7200, now - 3600
    write(env.grant(), json.dumps(g), 0o600)
    r, _ = env.run("acct", "breakglass", "m")
    check(r.get("acct_mgmt") == "PAM_PERM_DENIED", "expired grant refused")
    check(env.last("account.denied").get("reason") == "grant-expired", "expiry journaled")
    os.unlink(env.grant())


def test_kill_switch(env):
    env.service("kill")
    r, out = env.login("kill", "a")
    check(r.get("authenticate") == "PAM_SUCCESS", "kill: login before " + out)
    write(env.kill, "engaged by test\n", 0o644)
    r, _ = env.login("kill", "a")
    check(r.get("authenticate") == "PAM_PERM_DENIED", "kill switch refuses auth")
    r, _ = env.run("kill", "breakglass", "m")
    check(r.get("acct_mgmt") == "PAM_PERM_DENIED", "kill switch refuses account")
    check(env.last("account.denied").get("reason") == "kill-switch", "kill journaled")
    os.unlink(env.kill)
    r, _ = env.run("kill", "breakglass", "m")
    check(r.get("acct_mgmt") == "PAM_SUCCESS", "released kill switch: grant usable again")
    os.unlink(env.grant())


def test_other_users_and_args(env):
    conf = env.service("plain")
    write(os.path.join(env.d, "pamd", "probe"),
          f"auth [ignore=ignore default=bad] {MODULE} config={conf}\n"
          "auth required pam_permit.so\n"
          f"account [ignore=ignore default=bad] {MODULE} config={conf}\n"
          "account required pam_permit.so\n", 0o644)
    before = len(env.events())
    r, out = env.run("probe", "alice", "am")
    check(r.get("authenticate") == "PAM_SUCCESS" and r.get("acct_mgmt") == "PAM_SUCCESS",
          "non-break-glass user ignored " + out)
    check(len(env.events()) == before, "non-break-glass user not journaled")
    check("prompt:" not in out, "non-break-glass user not prompted")
    env.service("badarg", args="bogus")
    r, _ = env.run("badarg", "breakglass", "a")
    check(r.get("authenticate") == "PAM_SERVICE_ERR", "unknown argument fails closed")


def main():
    if not os.path.exists(MODULE) or not os.path.exists(DRIVER):
        print("SKIP: module or driver not built", file=sys.stderr)
        return 77
    d = tempfile.mkdtemp(prefix="bgpam.")
    os.chmod(d, 0o755)
    env = Env(d)
    try:
        env.service("init")
        subprocess.run([BREAKGLASS, "--config", os.path.join(d, "init.conf"), "journal",
                        "init"], check=True, capture_output=True)
        for t in (test_happy, test_refusals, test_hidden_characters, test_self_approval, test_signals, test_totp,
                  test_account, test_kill_switch, test_other_users_and_args):
            t(env)
        v = subprocess.run([BREAKGLASS, "--config", os.path.join(d, "init.conf"), "verify"],
                           capture_output=True, text=True)
        check(v.returncode == 0, "journal verifies: " + v.stdout + v.stderr)
    finally:
        env.stop()
        shutil.rmtree(d)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
