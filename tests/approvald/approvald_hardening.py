#!/usr/bin/env python3
"""breakglass-approvald hardening (issue 11, item 6), over real HTTP on
loopback: the daemon's own log lines keep facility daemon (and stderr in
--foreground) after audit events (syslog captured on a private /dev/log in a
mount namespace); refused pending-list calls are logged; bad tokens are
throttled per address and per approver, journaled; a signature replayed in
the last second of its window is refused (the daemon's clock moved with
libfaketime); approval.voted is never journaled for a vote whose commit
failed (the database on a full tmpfs); TLS 1.0, 1.1 and CBC-SHA1 suites are
refused and TLS answers carry HSTS; a start, and a SIGHUP reload, refuse a
key file that --check-config refuses.  Root only (namespaces, mounts)."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

HOST = "mx1.example.net"
FACILITY_DAEMON, FACILITY_AUTHPRIV = 3, 10
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
POLL_BOUND = 20


def wait_for(cond, bound=POLL_BOUND):
    """Polls cond until it holds or bound seconds pass; returns its last value."""
    deadline = time.time() + bound
    while True:
        v = cond()
        if v or time.time() > deadline:
            return v
        time.sleep(0.05)


def request_from(svc, source, method, target, body=b"", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30,
                                   source_address=(source, 0))
    try:
        c.request(method, target, body=body or None, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def vote_from(svc, source, rid, approver, token, code="000000", who=None):
    body = json.dumps({"approver": who or approver, "totp": code}).encode()
    return request_from(svc, source, "POST", "/v1/requests/%s/approve" % rid, body,
                        {"Content-Type": "application/json",
                         "Authorization": "Bearer " + token})


if os.geteuid() != 0:
    print("SKIP: needs root (mount namespaces, a small tmpfs)")
    sys.exit(adlib.SKIP)
adlib.require_daemon()
plain_wrapper = list(adlib.WRAPPER)

# --- syslog identity and facility, stderr, the pending list -----------------
svc = adlib.Service()
logsock = None
try:
    sock_path = svc.dir + "/log.sock"
    logsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    logsock.bind(sock_path)
    logsock.settimeout(0.2)
    # The daemon alone sees sock_path as /dev/log.
    script = ('set -e; mkdir "$D/olddev"; mount --rbind /dev "$D/olddev"; '
              'mount -t tmpfs tmpfs /dev; for n in null zero random urandom; do '
              ': > /dev/$n; mount --bind "$D/olddev/$n" /dev/$n; done; '
              'ln -s "$D/log.sock" /dev/log; exec "$@"')
    os.environ["D"] = svc.dir
    adlib.WRAPPER = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                     script, "sh"] + plain_wrapper
    svc.start()
    adlib.WRAPPER = plain_wrapper
    st, _, doc, _ = svc.create()                   # an audit event (authpriv)
    check(st == 201, "create: %d" % st)
    rid = doc["request_id"]
    svc.vote(rid, "bob", token="wrong", code="123456")          # a daemon line
    svc.request("GET", "/v1/requests?status=pending")           # refused: no token
    svc.request("GET", "/v1/requests?status=approved", headers={
        "Authorization": "Bearer " + svc.tokens["bob"]})        # refused: status
    lines = []

    def got_all():
        try:
            while True:
                lines.append(logsock.recv(4096).decode(errors="replace"))
        except socket.timeout:
            pass
        return sum("pending list refused" in x for x in lines) >= 2

    wait_for(got_all)
    daemon = [x for x in lines if "breakglass-approvald[" in x]
    audit = [x for x in lines if " breakglass[" in x]

    def facility(x):
        return int(x[1:x.index(">")]) >> 3

    check(any("vote refused" in x for x in daemon) and
          all(facility(x) == FACILITY_DAEMON for x in daemon),
          "daemon lines stay facility daemon after audit events: %r" % daemon)
    check(any("event=approval.requested" in x for x in audit) and
          all(facility(x) == FACILITY_AUTHPRIV for x in audit),
          "audit lines are authpriv, ident breakglass: %r" % audit)
    check(not any("event=" in x for x in daemon), "no audit line under the daemon's ident")
    log = svc.daemon_log()
    check("vote refused" in log and log.count("pending list refused") == 2,
          "stderr keeps the daemon's lines after audit events: %r" % log[-600:])
finally:
    adlib.WRAPPER = plain_wrapper
    if logsock is not None:
        logsock.close()
    svc.cleanup()

# --- throttling bad tokens ---------------------------------------------------
svc = adlib.Service()
try:
    svc.start()
    st, _, doc, _ = svc.create()
    rid = doc["request_id"]
    # From 127.0.0.2, guesses as an unknown approver: the address is throttled.
    answers = [vote_from(svc, "127.0.0.2", rid, "mallory", "guess%d" % i)[0]
               for i in range(12)]
    check(answers[:11] == [401] * 11 and answers[11] == 429,
          "per-address backoff: %r" % answers)
    # Even a right token waits there; another address is not slowed.
    st, data = vote_from(svc, "127.0.0.2", rid, "bob", svc.tokens["bob"],
                         svc.code("bob"))
    check(st == 429, "right token from the throttled address: %d %r" % (st, data))
    st, data = request_from(svc, "127.0.0.2", "GET", "/v1/requests?status=pending",
                            headers={"Authorization": "Bearer x"})
    check(st == 429, "pending list from the throttled address: %d" % st)
    st, data = vote_from(svc, "127.0.0.3", rid, "bob", svc.tokens["bob"],
                         svc.code("bob"))
    check(st == 200, "bob from another address: %d %r" % (st, data))
    # carol signs in fully once from 127.0.0.9, on another request.
    _, _, doc2, _ = svc.create()
    st, data = vote_from(svc, "127.0.0.9", doc2["request_id"], "carol",
                         svc.tokens["carol"], svc.code("carol"))
    check(st == 200, "carol from her own address: %d %r" % (st, data))
    # Guesses at carol's token from many addresses: carol is throttled.
    answers = [vote_from(svc, "127.0.1.%d" % (i + 1), rid, "carol", "guess%d" % i)[0]
               for i in range(12)]
    check(answers[:11] == [401] * 11 and answers[11] == 429,
          "per-approver backoff: %r" % answers)
    st, data = vote_from(svc, "127.0.2.1", rid, "carol", svc.tokens["carol"])
    check(st == 429, "carol from a new address while throttled: %d %r" % (st, data))
    # ... but not where carol herself signed in: guesses cannot keep her out.
    st, data = vote_from(svc, "127.0.0.9", rid, "carol", svc.tokens["carol"],
                         svc.code("carol"))
    check(st == 200, "carol from her own address while throttled: %d %r" % (st, data))
    recs = [r for r in svc.journal() if r["event"] == "approver.throttled"]
    check(any(r.get("source") == "127.0.0.2" and r.get("address_wait_ms", 0) > 0
              for r in recs) and
          any(r.get("approver") == "carol" and r.get("approver_wait_ms", 0) > 0
              for r in recs), "throttling journaled: %r" % recs)
finally:
    svc.cleanup()

# --- replay in the last second of the window ---------------------------------
if os.path.exists(FAKETIME_LIB):
    svc = adlib.Service(expiry="1h")
    try:
        rc_file = svc.dir + "/faketime.rc"
        adlib.write(rc_file, "+0\n", 0o644)
        os.environ.update(FAKETIME_TIMESTAMP_FILE=rc_file, FAKETIME_NO_CACHE="1",
                          FAKETIME_DONT_FAKE_MONOTONIC="1")
        # A sanitizer build needs its runtime first in the preload list.
        ldd = subprocess.run(["ldd", adlib.DAEMON], capture_output=True, text=True).stdout
        preload = [w.split()[2] for w in ldd.splitlines() if "libasan" in w and "=>" in w]
        adlib.WRAPPER = ["env", "LD_PRELOAD=" + " ".join(preload + [FAKETIME_LIB])] + \
            plain_wrapper
        svc.start()
        adlib.WRAPPER = plain_wrapper
        st, _, doc, _ = svc.create()
        rid = doc["request_id"]
        # Signed at the far end of the window (300 s ahead), sent early in a second.
        now = time.time()
        time.sleep(1.05 - (now - int(now)))
        ts = int(time.time()) + 300
        target = "/v1/requests/%s?wait=0" % rid
        h = svc.signed_headers(HOST, "GET", target, b"", ts=ts)
        check(svc.request("GET", target, headers=h)[0] == 200, "first poll accepted")
        # The daemon's clock to 0.3 s into the last second the signature is valid.
        adlib.write(rc_file, "+%.3f\n" % (ts + 300.3 - time.time()), 0o644)
        time.sleep(0.4)              # a timer tick, which prunes the replay table
        st = svc.request("GET", target, headers=h)[0]
        check(st == 401, "replay in the last second of the window: %d" % st)
    finally:
        adlib.WRAPPER = plain_wrapper
        for k in ("FAKETIME_TIMESTAMP_FILE", "FAKETIME_NO_CACHE",
                  "FAKETIME_DONT_FAKE_MONOTONIC"):
            os.environ.pop(k, None)
        svc.cleanup()
else:
    print("replay test skipped: %s not installed" % FAKETIME_LIB)

# --- approval.voted only after the commit ------------------------------------
# An SQLite file on a full filesystem: the commit that cannot be written.
svc = adlib.Service(backend="sqlite")
fs = tempfile.mkdtemp(prefix="bgad-fs.")
mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700",
                          "bg-input-test", fs]).returncode == 0
try:
    check(mounted, "a small tmpfs for the database")
    if mounted:
        with open(svc.conf) as f:
            conf = f.read()
        with open(svc.conf, "w") as f:
            f.write(conf.replace("database = %s/state/approvald.db" % svc.dir,
                                 "database = %s/approvald.db" % fs))
        svc.start()
        st, _, doc, _ = svc.create()
        rid = doc["request_id"]
        # Fill the database's filesystem: the vote's insert runs in memory, its
        # commit cannot be written.
        adlib.fill_fs(fs + "/filler")
        st, data, _ = svc.vote(rid, "bob")
        check(st == 500, "a vote whose commit fails: %d %r" % (st, data))
        check(not any(r["event"] == "approval.voted" and r.get("outcome") == "success"
                      for r in svc.journal()),
              "no approval.voted for a vote the commit lost: %r" %
              [r["event"] for r in svc.journal()])
        os.unlink(fs + "/filler")
        st, data, _ = svc.vote(rid, "bob")
        check(st == 200 and any(r["event"] == "approval.voted"
                                for r in svc.journal()), "once there is room: %d" % st)
finally:
    svc.cleanup()
    if mounted:
        subprocess.run(["umount", fs])
    os.rmdir(fs)

# --- TLS 1.2+ with AEAD suites, HSTS ----------------------------------------
d = tempfile.mkdtemp(prefix="bgad-tls.")
try:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=127.0.0.1", "-days", "2", "-keyout", d + "/key.pem", "-out",
                    d + "/cert.pem"], check=True, capture_output=True)
    os.chmod(d + "/key.pem", 0o600)
    os.chmod(d, 0o755)
    svc = adlib.Service(extra_server="tls_cert = %s/cert.pem\ntls_key = %s/key.pem" %
                        (d, d))
    try:
        svc.log = open(svc.dir + "/daemon.log", "ab")
        svc.proc = subprocess.Popen([*adlib.WRAPPER, adlib.DAEMON, "--config", svc.conf,
                                     "--foreground"], stdout=svc.log, stderr=svc.log)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

        def healthz():
            try:
                c = http.client.HTTPSConnection("127.0.0.1", svc.port, timeout=10,
                                                context=ctx)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                return r.status, r.getheader("Strict-Transport-Security")
            except OSError:
                return None

        got = wait_for(healthz, adlib.START_DEADLINE)
        check(got is not None and got[0] == 200 and got[1] is not None and
              "max-age=" in got[1], "TLS answer with HSTS: %r" % (got,))

        def s_client(*args):
            r = subprocess.run(["openssl", "s_client", "-connect",
                                "127.0.0.1:%d" % svc.port, *args],
                               input=b"", capture_output=True, timeout=30)
            out = r.stdout.decode(errors="replace")
            return r.returncode == 0 and "Cipher is (NONE)" not in out and \
                "New, " in out

        # Under TLS the session cookie is __Host- prefixed and Secure.
        def https(method, target, body=None, headers=None):
            c = http.client.HTTPSConnection("127.0.0.1", svc.port, timeout=10, context=ctx)
            c.request(method, target, body=body, headers=headers or {})
            r = c.getresponse()
            r.read()
            c.close()
            return r.status, r.getheader("Set-Cookie") or ""

        st, cookie = https("POST", "/v1/session", json.dumps(
            {"approver": "bob", "token": svc.tokens["bob"],
             "confirm": {"totp": svc.code("bob")}}).encode(),
            {"Content-Type": "application/json", "Origin": svc.origin()})
        value = cookie.split(";")[0].partition("=")[2]
        check(st == 200 and cookie.startswith("__Host-bg_session=") and
              sorted(f.strip() for f in cookie.split(";")[1:]) ==
              ["HttpOnly", "Path=/", "SameSite=Strict", "Secure"],
              "TLS session cookie: %d %r" % (st, cookie))
        check(https("GET", "/v1/session", headers={"Cookie": "__Host-bg_session=" +
                                                   value})[0] == 200, "__Host- cookie read")
        check(https("GET", "/v1/session", headers={"Cookie": "bg_session=" + value})[0] ==
              401, "the plain-HTTP cookie name is not read under TLS")
        check(s_client("-tls1_2"), "TLS 1.2 is served")
        check(s_client("-tls1_3"), "TLS 1.3 is served")
        check(not s_client("-tls1", "-cipher", "DEFAULT@SECLEVEL=0"), "TLS 1.0 refused")
        check(not s_client("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"), "TLS 1.1 refused")
        check(not s_client("-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:AES128-SHA"),
              "CBC-SHA1 suites refused")
    finally:
        svc.cleanup()
finally:
    shutil.rmtree(d, ignore_errors=True)

# --- a start and a reload check the key files --------------------------------
svc = adlib.Service()
try:
    key = "%s/hosts/%s.key" % (svc.dir, HOST)
    os.chmod(key, 0o644)
    try:
        r = subprocess.run([*adlib.WRAPPER, adlib.DAEMON, "--config", svc.conf,
                            "--foreground"], capture_output=True, text=True,
                           timeout=adlib.START_DEADLINE)
        check(r.returncode != 0 and key in r.stderr,
              "a start with a group-readable host key: %d %r" % (r.returncode, r.stderr))
    except subprocess.TimeoutExpired:
        check(False, "a start with a group-readable host key ran")
    os.chmod(key, 0o600)
    svc.start()
    os.chmod(key, 0o644)
    svc.proc.send_signal(signal.SIGHUP)
    check(wait_for(lambda: "keeping the running configuration" in svc.daemon_log()),
          "a reload with a group-readable host key is refused: %r" % svc.daemon_log()[-400:])
finally:
    svc.cleanup()
adlib.finish()
