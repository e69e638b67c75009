#!/usr/bin/env python3
"""The breakglass story, end to end, in a sandbox on loopback.

An outbound-spam incident on mx1: the on-call operator alice logs in to the
break-glass account through real libpam (pam_breakglass), two monitoring
sources show the emergency, bob and carol approve over the approval
service's webhook API, the grant lets sudo_breakglass accept the queue
commands and refuse the rest, logout revokes the grant, and compliance
verifies the journal and reads the report.

Then the final act, offline recovery (protocol R1): the approval service is
stopped, alice breaks glass again with the codes two recovery approvers
compute on their own machines, the recovery grant expires after its short
ttl, and when the service is back the host reports the recovery to it.

Nothing under /etc changes: every file lives in the sandbox directory, every
service listens on 127.0.0.1.  Run by scripts/demo.sh, which builds first.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BREAKGLASS_BUILD", os.path.join(TOP, "build"))
SANDBOX = os.environ.get("BREAKGLASS_DEMO_DIR", "/run/breakglass-demo")
BG = os.path.join(BUILD, "cli", "breakglass")
APPROVALD = os.path.join(BUILD, "approvald", "breakglass-approvald")
MODULE = os.path.join(BUILD, "pam_breakglass", ".libs", "pam_breakglass.so")
PLUGIN = os.path.join(BUILD, "sudo_breakglass", ".libs", "sudo_breakglass.so")
DRIVER = os.path.join(BUILD, "tests", "pam", "pam_driver")
SUDO_FRONT = os.path.join(BUILD, "tests", "sudo", "sudo_front")
MONITOR = os.path.join(TOP, "tests", "signals", "mock_monitor.py")
HOST = "mx1.example.net"
INCIDENT = "INC-2026-0042"
APPROVERS = ("bob", "carol")
RECOVERY_INCIDENT = "INC-2026-0043"
RECOVERY_TTL = 60           # seconds: the shortest recovery grant allowed
STEP_DEADLINE = 90          # seconds any one step may take


def say(title):
    print("\n\033[1m== %s\033[0m" % title, flush=True)


def narrate(text):
    print(textwrap.fill(text, 78), flush=True)


def path(*parts):
    return os.path.join(SANDBOX, *parts)


def write(p, text, mode=0o644):
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)


def run(*argv, check=True, quiet=False):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=STEP_DEADLINE)
    if not quiet:
        for line in (r.stdout + r.stderr).rstrip().splitlines():
            print("   " + line)
    if check and r.returncode != 0:
        sys.exit("demo: %s failed (exit %d)" % (" ".join(argv), r.returncode))
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret_b32, digits=6, period=30, offset=0):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int(time.time() // period) + offset
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    n = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10 ** digits
    return "%0*d" % (digits, n)


def secret_of(p):
    with open(p) as f:
        for line in f:
            if line.startswith("secret = "):
                return line.split("=", 1)[1].strip()
    sys.exit("demo: no secret in " + p)


class Services:
    """The loopback processes of the story, stopped whatever happens."""

    def __init__(self):
        self.procs = []

    def start(self, argv, name, wait_port_line=False):
        log = open(path("log", name + ".log"), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE if wait_port_line else log, stderr=log)
        self.procs.append(p)
        if wait_port_line:
            return int(p.stdout.readline())
        return p

    @staticmethod
    def stop_one(p):
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=STEP_DEADLINE)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def make_sandbox():
    shutil.rmtree(SANDBOX, ignore_errors=True)
    for d in ("", "etc", "state", "run", "log", "operators", "approvers", "hosts", "bin",
              "approvald", "pam.d", "recovery-keys", "laptops"):
        os.makedirs(path(d), exist_ok=True)
        os.chmod(path(d), 0o755)
    # Stand-ins for Postfix's tools: sudo only ever runs what the scope names.
    write(path("bin", "postqueue"), "#!/bin/sh\necho \"-Queue ID-  --Size-- ----Arrival "
          "Time---- -Sender/Recipient-------\"\necho \"-- 48211 Kbytes in 48113 Requests.\"\n",
          0o755)
    write(path("bin", "postsuper"), "#!/bin/sh\necho \"postsuper: Deleted: 48113 messages\"\n",
          0o755)
    write(path("hosts", HOST + ".key"), os.urandom(32).hex() + "\n", 0o600)
    shutil.copy(path("hosts", HOST + ".key"), path("etc", "host.key"))
    os.chmod(path("etc", "host.key"), 0o600)
    run("openssl", "genpkey", "-algorithm", "ed25519", "-out", path("etc", "approvald.ed25519"),
        quiet=True)
    os.chmod(path("etc", "approvald.ed25519"), 0o600)
    run("openssl", "pkey", "-in", path("etc", "approvald.ed25519"), "-pubout", "-out",
        path("etc", "approvald.pub"), quiet=True)


def breakglass_conf(aport, am_port, prom_port):
    return f"""# The demo host's breakglass.conf: the shipped example's shape, on loopback.
[general]
accounts = breakglass bg-*
operator = prompt
state_dir = {path("state")}
run_dir = {path("run")}
kill_switch = {path("kill-switch")}
grant_ttl = 1h
revoke_on_logout = yes
journal = {path("log", "journal.jsonl")}

[totp]
operators_dir = {path("operators")}

[approval]
url = http://127.0.0.1:{aport}/v1
host_id = {HOST}
host_key = {path("etc", "host.key")}
service_key = {path("etc", "approvald.pub")}
approvers = bob carol dave
quorum = 2
timeout = 2m
connect_timeout = 5s

[recovery]
enabled = yes
approvers = bob carol
keys_dir = {path("recovery-keys")}
quorum = 2
ttl = {RECOVERY_TTL}s
scopes = mail-queue

[signals]
required = 2

[signal alertmanager-mx]
type = alertmanager
url = http://127.0.0.1:{am_port}/am-firing
match = alertname=~"OutboundSpamSpike|MailQueueBacklog"
match = instance=~"mx1.*"

[signal prometheus-mx]
type = prometheus
url = http://127.0.0.1:{prom_port}/prom-firing
match = alertname=~".*"

[scope mail-queue]
description = Inspect and purge the Postfix queue
command = {path("bin", "postqueue")} -p
command = {path("bin", "postsuper")} -d *
runas = root

[scope mail-logs]
description = Read the mail log
command = /usr/bin/journalctl --no-pager -u postfix* --lines=[0-9]*
runas = root
"""


def approvald_conf(aport, tokens):
    lines = ["[server]", "listen = 127.0.0.1:%d" % aport,
             "database = " + path("approvald", "approvald.db"),
             "signing_key = " + path("etc", "approvald.ed25519"),
             "request_expiry = 10m", "quorum = 2",
             "public_url = http://127.0.0.1:%d" % aport,
             "state_dir = " + path("approvald"),
             "journal = " + path("approvald", "journal.jsonl"), "",
             "[host %s]" % HOST, "key = " + path("hosts", HOST + ".key"), ""]
    for a in APPROVERS:
        lines += ["[approver %s]" % a,
                  "token_sha256 = " + hashlib.sha256(tokens[a].encode()).hexdigest(),
                  "totp = " + path("approvers", a), ""]
    return "\n".join(lines)


def api(aport, method, target, token, body=None):
    c = http.client.HTTPConnection("127.0.0.1", aport, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "Bearer " + token}
        if data:
            headers["Content-Type"] = "application/json"
        c.request(method, target, body=data, headers=headers)
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        c.close()


def approvers_at_work(aport, tokens, secrets, done):
    """bob and carol: see the pending request, check it, approve it."""
    deadline = time.time() + STEP_DEADLINE
    while time.time() < deadline and not done.is_set():
        status, doc = api(aport, "GET", "/v1/requests?status=pending", tokens["bob"])
        if status == 200 and doc["requests"]:
            req = doc["requests"][0]
            print("   [security team] pending: %s wants %s on %s for %s: %r" % (
                req["operator"], req["scope"], req["host"], req["incident"], req["reason"]),
                flush=True)
            for a in APPROVERS:
                time.sleep(0.5)
                status, answer = api(aport, "POST", "/v1/requests/%s/approve" % req["request_id"],
                                     tokens[a], {"approver": a, "totp": totp(secrets[a]),
                                                 "comment": "spam run confirmed on the dashboards"})
                print("   [security team] %s approves: HTTP %d" % (a, status), flush=True)
            return
        time.sleep(0.3)


def start_driver(stages, answers):
    """The PAM driver logging in to breakglass through the demo's sshd stack,
    from 192.0.2.10, running STAGES (pam_driver's letters) with ANSWERS."""
    return subprocess.Popen([DRIVER, "-r", "192.0.2.10", "-y", "ssh", path("pam.d"),
                             "sshd", "breakglass", stages, *answers],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def driver_result(line, results):
    """A driver line that is no prompt, message or pause: shown, and kept in
    results when it is KEY=VALUE (the PAM calls' outcomes)."""
    print("   " + line, flush=True)
    if "=" in line:
        k, v = line.split("=", 1)
        results[k] = v


def login(services, aport, tokens, secrets):
    alice = secret_of(path("operators", "alice"))
    answers = ["alice", INCIDENT, "outbound spam spike: 48k queued, compromised mailbox",
               "mail-queue", totp(alice)]
    driver = start_driver("amopc", answers)
    done = threading.Event()
    team = threading.Thread(target=approvers_at_work, args=(aport, tokens, secrets, done))
    team.start()
    results = {}
    for line in driver.stdout:
        line = line.rstrip("\n")
        if line.startswith("prompt: "):
            print("   [alice] %s" % line[8:], flush=True)
        elif line.startswith("info: "):
            print("   [pam] %s" % line[6:], flush=True)
        elif line == "paused":
            done.set()
            say("Inside the session: sudo limited to the incident's scope")
            sudo_decisions()
            say("breakglass status during the incident")
            run(BG, "--config", path("etc", "breakglass.conf"), "status")
            say("Logout: the session closes and the grant is revoked")
            driver.stdin.write("\n")
            driver.stdin.flush()
        else:
            driver_result(line, results)
    driver.wait(timeout=STEP_DEADLINE)
    done.set()
    team.join()
    if results.get("close_session") != "PAM_SUCCESS":
        sys.exit("demo: the login did not complete: %r" % results)


def sudo_decisions():
    conf = path("etc", "breakglass.conf")
    cases = [
        ("in scope", [path("bin", "postqueue"), "-p"], []),
        ("in scope", [path("bin", "postsuper"), "-d", "ALL"], []),
        ("outside the scope", ["/usr/bin/rm", "-rf", "/var/spool/postfix"], []),
        ("a shell", ["/bin/bash", "-i"], []),
        ("a loader variable", [path("bin", "postqueue"), "-p"], ["-e", "LD_PRELOAD=/tmp/x.so"]),
    ]
    for what, argv, extra in cases:
        r = subprocess.run([SUDO_FRONT, PLUGIN, conf, "breakglass", *extra, "--", *argv],
                           capture_output=True, text=True, timeout=STEP_DEADLINE)
        verdict = r.stdout.strip() or r.stderr.strip()
        print("   sudo %-40s (%s): %s" % (" ".join(argv)[:40], what, verdict), flush=True)
        if (r.returncode == 0) != (what == "in scope"):
            sys.exit("demo: unexpected sudo decision for " + " ".join(argv))


def start_approvald(services, aport):
    p = services.start([APPROVALD, "--config", path("etc", "approvald.conf"), "--foreground"],
                       "approvald")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if api(aport, "GET", "/healthz", "")[0] == 200:
                return p
        except OSError:
            time.sleep(0.1)
    sys.exit("demo: the approval service did not start")


def recovery_keys():
    """Each recovery approver makes a master key on their own machine and
    exports the key this host holds for them; root installs it 0600."""
    for a in APPROVERS:
        laptop = path("laptops", a + ".key")
        run(BG, "recovery", "keygen", "--out", laptop, quiet=True)
        r = run(BG, "recovery", "export-host", "--key", laptop, "--host", HOST, quiet=True)
        write(path("recovery-keys", a), r.stdout, 0o600)
        print("   %s's recovery key: master on their laptop (%s), this host's derived key "
              "in %s" % (a, laptop, path("recovery-keys", a)))


def recovery_login(conf):
    """alice logs in while no approval service answers: the module shows a
    challenge, bob and carol compute their codes from what alice reads them
    (breakglass recovery code, on their laptops), and she types the codes."""
    alice = secret_of(path("operators", "alice"))
    # The next TOTP step: the one of the first login cannot be used again.
    answers = ["alice", RECOVERY_INCIDENT, "mx1 spamming again; approval service unreachable",
               "mail-queue", totp(alice, offset=1), "bob", "-", "carol", "-"]
    driver = start_driver("am", answers)
    challenge, results = None, {}
    for line in driver.stdout:
        line = line.rstrip("\n")
        if line.startswith("prompt: "):
            print("   [alice] %s" % line[8:], flush=True)
            m = re.match(r"prompt: Recovery code of (\w+): ", line)
            if m and challenge:
                who = m.group(1)
                r = run(BG, "recovery", "code", "--key", path("laptops", who + ".key"),
                        "--host", HOST, "--account", "breakglass", "--operator", "alice",
                        "--incident", RECOVERY_INCIDENT, "--scope", "mail-queue",
                        "--challenge", challenge, "--approver", who, quiet=True)
                code = r.stdout.strip()
                print("   [%s, on the phone] my code is %s" % (who, code), flush=True)
                driver.stdin.write(code + "\n")
                driver.stdin.flush()
        elif line.startswith("info: "):
            print("   [pam] %s" % line[6:], flush=True)
            m = re.search(r"challenge: ([A-Z2-7]{4}-[A-Z2-7]{4})", line)
            if m:
                challenge = m.group(1)
        else:
            driver_result(line, results)
    driver.wait(timeout=STEP_DEADLINE)
    if results.get("acct_mgmt") != "PAM_SUCCESS":
        sys.exit("demo: the recovery login did not complete: %r" % results)


def sudo_once(conf, argv):
    r = subprocess.run([SUDO_FRONT, PLUGIN, conf, "breakglass", "--", *argv],
                       capture_output=True, text=True, timeout=STEP_DEADLINE)
    print("   sudo %s: %s" % (" ".join(argv), r.stdout.strip() or r.stderr.strip()), flush=True)
    return r.returncode == 0


def page_as(aport, approver, token, secret):
    """The approval service's page, signed in as approver (token and TOTP code)."""
    origin = "http://127.0.0.1:%d" % aport
    c = http.client.HTTPConnection("127.0.0.1", aport, timeout=30)
    try:
        c.request("POST", "/v1/session", body=json.dumps(
            {"approver": approver, "token": token,
             "confirm": {"totp": totp(secret)}}).encode(),
            headers={"Content-Type": "application/json", "Origin": origin})
        r = c.getresponse()
        r.read()
        cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
        print("   [%s] signs in to the page: HTTP %d" % (approver, r.status), flush=True)
        c.request("GET", "/", headers={"Cookie": cookie})
        return c.getresponse().read().decode()
    finally:
        c.close()


def offline_recovery(services, approvald, aport, conf, tokens, secrets):
    say("Final act: the approval service is down")
    narrate("A week later mx1 spams again, and this time the approval service is down "
            "with the network it sits on.  The login still needs alice's TOTP code and "
            "the monitoring evidence; the quorum comes from two recovery approvers who "
            "compute codes on their own laptops, with no network.")
    services.stop_one(approvald)
    say("Offline recovery: alice reads the challenge to bob and carol, types their codes")
    recovery_login(conf)
    run(BG, "--config", conf, "status")

    say("sudo within the recovery grant, until its %d s ttl runs out" % RECOVERY_TTL)
    queue = [path("bin", "postqueue"), "-p"]
    if not sudo_once(conf, queue):
        sys.exit("demo: sudo refused within the recovery grant")
    with open(path("run", "grants", "breakglass.json")) as f:
        expires = json.load(f)["expires_at"]
    wait = expires - time.time() + 1
    print("   (waiting %.0f s for the grant to expire)" % max(wait, 0), flush=True)
    if wait > 0:
        time.sleep(wait)
    if sudo_once(conf, queue):
        sys.exit("demo: sudo accepted after the recovery grant expired")
    run(BG, "--config", conf, "expire")

    say("The approval service is back: the host reports the recovery after the fact")
    narrate("breakglass recovery report (also run after every expire-timer run) files the "
            "recovery grant from the journal, with its approvers and their codes' times, "
            "never the codes; the service journals it and lists it on its page.")
    start_approvald(services, aport)
    run(BG, "--config", conf, "recovery", "report")
    run(BG, "--config", conf, "recovery", "report")
    page = page_as(aport, "bob", tokens["bob"], secrets["bob"])
    shown = "R1-" in page and RECOVERY_INCIDENT in page
    print("   approval service page lists the recovery: %s" % ("yes" if shown else "NO"))
    with open(path("approvald", "journal.jsonl")) as f:
        for rec in (json.loads(line) for line in f):
            if rec.get("event") == "recovery.reported":
                print("   [approval service journal] recovery.reported %s by %s, approvers %s" % (
                    rec["request_id"], rec["operator"],
                    ", ".join("%s (code at %s)" % (a["approver"], a["at"])
                              for a in rec["approvers"])))
    if not shown:
        sys.exit("demo: the recovery was not reported")
    say("Compliance: the recovery in the report")
    run(BG, "--config", conf, "report", "--incident", RECOVERY_INCIDENT)


def main():
    if os.geteuid() != 0:
        sys.exit("demo: run as root (sudo scripts/demo.sh): the sudo plugin trusts only "
                 "root-owned programs, and the sandbox lives in " + SANDBOX)
    for f in (BG, APPROVALD, MODULE, PLUGIN, DRIVER, SUDO_FRONT):
        if not os.path.exists(f):
            sys.exit("demo: %s is not built (scripts/demo.sh builds it)" % f)
    started = time.time()
    services = Services()
    try:
        say("The sandbox: %s" % SANDBOX)
        narrate("Keys for the host and the approval service, stand-ins for Postfix's tools, "
                "and configuration files; nothing under /etc is touched.")
        make_sandbox()

        say("Monitoring: an Alertmanager and a Prometheus on loopback, both firing")
        am_port = services.start([sys.executable, MONITOR], "alertmanager", True)
        prom_port = services.start([sys.executable, MONITOR], "prometheus", True)
        print("   alertmanager on 127.0.0.1:%d, prometheus on 127.0.0.1:%d" % (am_port, prom_port))

        aport = free_port()
        conf = path("etc", "breakglass.conf")
        write(conf, breakglass_conf(aport, am_port, prom_port))
        write(path("pam.d", "sshd"), "auth required %s config=%s\naccount required %s config=%s\n"
              "session required %s config=%s\n" % ((MODULE, conf) * 3))

        say("Enrolment: the operator's and the approvers' TOTP secrets")
        run(BG, "--config", conf, "enroll", "--no-qr", "alice")
        tokens = {a: base64.urlsafe_b64encode(os.urandom(24)).decode() for a in APPROVERS}
        for a in APPROVERS:
            run(BG, "--config", conf, "enroll", "--approver", "--dir", path("approvers"),
                "--no-qr", a, quiet=True)
            print("   %s enrolled as an approver (secret in %s)" % (a, path("approvers", a)))
        secrets = {a: secret_of(path("approvers", a)) for a in APPROVERS}
        recovery_keys()

        say("The approval service: breakglass-approvald with SQLite, on 127.0.0.1:%d" % aport)
        write(path("etc", "approvald.conf"), approvald_conf(aport, tokens))
        run(APPROVALD, "--config", path("etc", "approvald.conf"), "--init-journal", quiet=True)
        approvald = start_approvald(services, aport)

        say("The host's configuration and its audit journal")
        run(BG, "--config", conf, "check-config")
        r = run(BG, "--config", conf, "journal", "init", quiet=True)
        write(path("k1.hex"), r.stdout, 0o600)
        narrate("K_1, the journal's first key, goes to compliance (here: %s); the host keeps "
                "only the current key." % path("k1.hex"))

        say("The login: alice answers pam_breakglass's prompts (real libpam)")
        login(services, aport, tokens, secrets)

        say("After the incident: the grant is gone")
        run(BG, "--config", conf, "status")
        run(BG, "--config", conf, "note", "--incident", INCIDENT,
            "queue purged, mailbox password reset; review on Monday")

        say("Compliance: verify the journal with K_1, then the report")
        run(BG, "--config", conf, "verify", "--key", path("k1.hex"))
        run(BG, "--config", conf, "report", "--key", path("k1.hex"), "--incident", INCIDENT)
        with open(path("report.html"), "w") as out:
            subprocess.run([BG, "--config", conf, "report", "--key", path("k1.hex"),
                            "--format", "html"], stdout=out, check=True, timeout=STEP_DEADLINE)

        offline_recovery(services, approvald, aport, conf, tokens, secrets)

        say("Done in %.1f s" % (time.time() - started))
        for what, p in (("journal", path("log", "journal.jsonl")),
                        ("key state", path("state", "journal.state")),
                        ("HTML report", path("report.html")),
                        ("approval service journal", path("approvald", "journal.jsonl")),
                        ("configuration", conf)):
            print("   %-26s %s" % (what, p))
    finally:
        services.stop()


if __name__ == "__main__":
    main()
