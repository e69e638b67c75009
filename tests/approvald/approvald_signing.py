#!/usr/bin/env python3
"""breakglass-approvald parses its Ed25519 signing key at start and on
SIGHUP only: a reload naming a key that cannot be loaded (here, a public
key, mode 0644) keeps the running configuration and key, and a reload with a
new valid key signs with it from then on.  A decision answers the deciding
vote and the polls it wakes with one document and one signature, under the
key in force."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

RELOAD_WAIT = 10
POLL_HELD_WAIT = 10


def sighup_pending(pid):
    """Whether a SIGHUP sent to pid waits to be taken by its main loop."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) & 1:
                return True
    return False


def reload(svc, text):
    """Writes the configuration and sends SIGHUP; returns once it was taken."""
    with open(svc.conf, "w") as f:
        f.write(text)
    svc.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + RELOAD_WAIT
    while sighup_pending(svc.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Taken; the reload itself finishes within the main loop's next steps.
    time.sleep(0.5)


def decide(svc, approvers):
    """The deciding vote's answer, once checked against the answer of the
    poll it woke: the same document under the same signature (signed once)."""
    st, _, doc, _ = svc.create(approvers=approvers)
    check(st == 201, "create: %d" % st)
    rid = doc["request_id"]
    seen = svc.seen_count()
    poll = svc.open_poll(rid, int(time.time()))
    deadline = time.monotonic() + POLL_HELD_WAIT
    while svc.seen_count() == seen and time.monotonic() < deadline:
        time.sleep(0.05)
    check(svc.seen_count() > seen, "the poll is held")
    svc.vote(rid, approvers[0])
    st, body, headers = svc.vote(rid, approvers[1])
    check(st == 200, "deciding vote: %d" % st)
    head, _, answer = adlib.read_all(poll).partition(b"\r\n\r\n")
    poll.close()
    poll_sig = [line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                if line.lower().startswith(b"x-breakglass-decision-signature:")]
    check(answer == body, "the woken poll gets the deciding vote's document: %r / %r"
          % (answer, body))
    check(poll_sig == [headers.get("x-breakglass-decision-signature")],
          "and its signature: %r" % poll_sig)
    return body, headers


adlib.require_daemon()
svc = adlib.Service()
try:
    svc.start()
    with open(svc.conf) as f:
        good = f.read()
    reload(svc, good.replace("signing.pem", "signing.pub"))
    log = svc.daemon_log()
    check("reload: " in log and "signing_key: " in log and
          "keeping the running configuration" in log,
          "a bad signing key is refused on reload: %r" % log[-500:])
    body, headers = decide(svc, ["bob", "carol"])
    check(svc.verify_decision(body, headers), "still signed with the running key")

    # A new key, named by the configuration: used from the reload on.
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    svc.dir + "/new.pem"], check=True, capture_output=True)
    os.chmod(svc.dir + "/new.pem", 0o600)
    subprocess.run(["openssl", "pkey", "-in", svc.dir + "/new.pem", "-pubout", "-out",
                    svc.dir + "/new.pub"], check=True, capture_output=True)
    reload(svc, good.replace("signing.pem", "new.pem"))
    body, headers = decide(svc, ["dave", "erin"])
    check(not svc.verify_decision(body, headers), "the old key no longer signs")
    os.replace(svc.dir + "/new.pub", svc.dir + "/signing.pub")
    check(svc.verify_decision(body, headers), "the new key signs")
finally:
    svc.cleanup()
adlib.finish()
