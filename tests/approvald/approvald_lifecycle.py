#!/usr/bin/env python3
"""breakglass-approvald lifecycle: --check-config and its refusals, --version,
a restart in the middle of a pending request (request and votes kept),
expiry of a pending request (and a long poll answered by it), SIGHUP reload,
and a clean SIGTERM stop that answers waiting polls."""
import http.client
import json
import os
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402


def run(*args):
    return subprocess.run([adlib.DAEMON] + list(args), capture_output=True, text=True)


def detached_pids(conf):
    """The services this test started without --foreground (by their config path)."""
    pids = []
    for p in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if p.isdigit() and conf.encode() in argv and b"--foreground" not in argv:
            pids.append(int(p))
    return pids


adlib.require_daemon()
svc = adlib.Service(expiry="6s")
try:
    # Options.
    r = run("--version")
    check(r.returncode == 0 and r.stdout.startswith("breakglass-approvald "), "--version")
    r = run("--config", svc.conf, "--check-config")
    check(r.returncode == 0, "check-config: %s" % r.stderr)
    r = run("--bogus")
    check(r.returncode == 2, "unknown option: %d" % r.returncode)

    # Refused configurations, each naming file:line.
    with open(svc.conf) as f:
        good = f.read()
    bad = {
        "plain HTTP off loopback": good.replace("listen = 127.0.0.1:", "listen = 192.0.2.1:"),
        "tls_cert without tls_key": good.replace("[server]", "[server]\ntls_cert = /etc/hostname"),
        "unknown key": good.replace("[server]", "[server]\ncolour = blue"),
        "bad listen": good.replace("listen = 127.0.0.1:", "listen = localhost:"),
        "json notify without secret": good + "\n[notify x]\nurl = http://127.0.0.1:9/\nformat = json\n",
        "token hash too long": good.replace("token_sha256 = ", "token_sha256 = 00", 1),
    }
    bad_conf = svc.dir + "/bad.conf"
    for name, text in bad.items():
        adlib.write(bad_conf, text, 0o644)
        r = run("--config", bad_conf, "--check-config")
        check(r.returncode == 1 and "bad.conf:" in r.stderr, "%s: %d %s" %
              (name, r.returncode, r.stderr))
    os.chmod(bad_conf, 0o666)
    adlib.write(bad_conf, good, 0o666)
    r = run("--config", bad_conf, "--check-config")
    check(r.returncode == 1, "world-writable config refused")
    # TLS: with a certificate, any address is allowed.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,IP:::1",
                    "-keyout", svc.dir + "/tls.key",
                    "-out", svc.dir + "/tls.crt"], check=True, capture_output=True)
    os.chmod(svc.dir + "/tls.key", 0o600)
    adlib.write(bad_conf, good.replace("listen = 127.0.0.1:", "listen = 0.0.0.0:").replace(
        "[server]", "[server]\ntls_cert = %s/tls.crt\ntls_key = %s/tls.key" %
        (svc.dir, svc.dir)), 0o644)
    r = run("--config", bad_conf, "--check-config")
    check(r.returncode == 0, "TLS on any address: %s" % r.stderr)
    # TLS for real, on an IPv6 loopback address, then back to plain HTTP.
    tls_port = adlib.free_port()
    adlib.write(svc.conf, good.replace("listen = 127.0.0.1:%d" % svc.port,
                                       "listen = [::1]:%d" % tls_port).replace(
        "[server]", "[server]\ntls_cert = %s/tls.crt\ntls_key = %s/tls.key" %
        (svc.dir, svc.dir)), 0o644)
    proc = subprocess.Popen([adlib.DAEMON, "--config", svc.conf, "--foreground"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ctx = ssl.create_default_context(cafile=svc.dir + "/tls.crt")
    got = None
    for _ in range(100):
        try:
            c = http.client.HTTPSConnection("::1", tls_port, context=ctx, timeout=5)
            c.request("GET", "/healthz")
            got = c.getresponse().status
            break
        except OSError:
            time.sleep(0.05)
    check(got == 200, "HTTPS on [::1]: %r" % got)
    proc.terminate()
    check(proc.wait(10) == 0, "TLS service stopped cleanly")
    adlib.write(svc.conf, good, 0o644)

    # Without --foreground: the parent exits 0 once the service listens, 1 when
    # it cannot start.
    r = run("--config", svc.conf)
    check(r.returncode == 0, "detached start: %d %s" % (r.returncode, r.stderr))
    check(svc.request("GET", "/healthz")[0] == 200, "detached service answers")
    pids = detached_pids(svc.conf)
    check(len(pids) == 1, "one detached process: %r" % pids)
    for pid in pids:
        os.kill(pid, 15)
        for _ in range(100):
            if not os.path.exists("/proc/%d" % pid):
                break
            time.sleep(0.05)
    r = run("--config", svc.conf)
    check(r.returncode == 0, "second detached start: %d" % r.returncode)
    r2 = run("--config", svc.conf)
    check(r2.returncode == 1, "port in use: the parent reports failure: %d" %
          r2.returncode)
    for pid in detached_pids(svc.conf):
        os.kill(pid, 15)
    time.sleep(0.5)

    svc.start()
    # Restart with a pending request holding one vote.
    st, _, doc, _ = svc.create()
    rid = doc["request_id"]
    st, data, _ = svc.vote(rid, "bob", comment="before restart")
    check(st == 200 and json.loads(data)["status"] == "pending", "first vote")
    check(svc.stop() == 0, "SIGTERM: clean exit")
    svc.start()
    st, data, _ = svc.poll(rid)
    dec = json.loads(data) if st == 200 else {}
    check(dec.get("status") == "pending" and [a["approver"] for a in dec["approvals"]] ==
          ["bob"], "after restart: %r" % dec)
    check(svc.vote(rid, "bob")[0] == 409, "duplicate vote refused after restart")
    st, data, _ = svc.vote(rid, "carol")
    check(json.loads(data).get("status") == "approved", "decided after restart")

    # Expiry: a pending request, a poll waiting on it.
    st, _, doc2, _ = svc.create()
    rid2 = doc2["request_id"]
    res = {}
    th = threading.Thread(target=lambda: res.update(r=svc.poll(rid2, wait=30)))
    th.start()
    th.join(20)
    st, data, hdr = res.get("r", (0, b"{}", {}))
    check(st == 200 and json.loads(data)["status"] == "expired",
          "expired answer to the waiting poll: %d %r" % (st, data))
    check(svc.verify_decision(data, hdr), "expired decision signed")
    check(svc.vote(rid2, "dave")[0] == 409, "vote on an expired request")
    check(any(r["event"] == "approval.expired" and r["request_id"] == rid2
              for r in svc.journal()), "approval.expired journaled")

    # SIGHUP: a broken file keeps the running configuration; a good one applies.
    adlib.write(svc.conf, good + "\n[bogus]\n", 0o644)
    svc.proc.send_signal(1)
    time.sleep(0.5)
    check(svc.request("GET", "/healthz")[0] == 200, "alive after a bad reload")
    check(svc.create()[0] == 201, "old configuration still in force")
    adlib.write(svc.conf, good.replace("[host mx2.example.net]", "[host mx3.example.net]"),
                0o644)
    svc.proc.send_signal(1)
    time.sleep(0.5)
    check(svc.create(host="mx2.example.net")[0] == 401, "mx2 removed by reload")

    # SIGTERM answers a waiting poll at once.
    st, _, doc3, _ = svc.create()
    res = {}
    th = threading.Thread(target=lambda: res.update(r=svc.poll(doc3["request_id"], wait=30)))
    th.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    check(svc.stop() == 0, "clean stop with a waiting poll")
    th.join(10)
    check(res.get("r", (0,))[0] == 200, "waiting poll answered on stop")
    print("stop with a waiting poll took %.0f ms" % ((time.monotonic() - t0) * 1000))

    # The journal chain verifies with the CLI when it is built.
    verified = svc.verify_journal()
    if verified is not None:
        check(verified[0], "journal verifies: %s" % verified[1])
finally:
    svc.cleanup()
adlib.finish()
