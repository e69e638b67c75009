#!/usr/bin/env python3
"""`breakglass recovery report` end to end against a real breakglass-approvald
on loopback: the recovery grants of the journal (written through the real
journal code, tests/helpers/emit_event) are filed once, with each approver's
latest accepted code time and never a code, including grants that have since
expired; a second run files nothing; with the service down the run fails and
the next one files what was missed; refiling after losing the state is
idempotent; another body under the same id is refused 409; `breakglass
report` shows the recoveries with their approvers and codes' times.  With
several [approval] urls, the first down, the grant is filed with the next
one, recorded under it, and not filed again whatever the order of the urls."""
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "approvald"))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

BREAKGLASS = os.environ["BREAKGLASS"]
EMIT_EVENT = os.environ["EMIT_EVENT"]
HOST = "mx1.example.net"
T0 = 1795000000


def write_config(d, svc):
    lib = os.path.join(os.environ["top_srcdir"], "tests", "integration", "lib.sh")
    subprocess.run(["sh", "-c", '. "$1"; write_config "$2"', "sh", lib, d], check=True)
    conf = os.path.join(d, "breakglass.conf")
    with open(conf) as f:
        text = f.read()
    text = text.replace("url = http://127.0.0.1:1/v1",
                        "url = http://127.0.0.1:%d/v1\ntimeout = 5" % svc.port)
    adlib.write(conf, text, 0o644)
    adlib.write(os.path.join(d, "host.key"), svc.host_keys[HOST].hex() + "\n")
    return conf


def bg(conf, *args):
    r = subprocess.run([BREAKGLASS, "--config", conf, *args], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def ev(conf, *args):
    subprocess.run([EMIT_EVENT, conf, *args], check=True)


def recovery(conf, incident, challenge, approvers, t, retry=False):
    """The records of one offline recovery login, as pam_breakglass writes them;
    with retry, a first attempt whose second code was wrong comes before."""
    ident = ["account=breakglass", "operator=alice", "incident=" + incident,
             "request_id=R1-" + challenge]
    common = ["challenge=" + challenge]
    if retry:
        ev(conf, "recovery.offered", "success", *ident, *common, "scope=mail-queue",
           "quorum:=2")
        ev(conf, "recovery.code_accepted", "success", *ident, *common,
           "approver=" + approvers[0], "at:=%d" % (t - 50))
        ev(conf, "recovery.code_refused", "failure", *ident, *common,
           "approver=" + approvers[1], "reason=wrong-code")
        ev(conf, "recovery.refused", "failure", *ident, *common, "reason=wrong-code")
    ev(conf, "recovery.offered", "success", *ident, *common, "scope=mail-queue",
       "quorum:=2", "signals_state=unreachable")
    for i, a in enumerate(approvers):
        ev(conf, "recovery.code_accepted", "success", *ident, *common, "approver=" + a,
           "at:=%d" % (t + i))
    ev(conf, "recovery.granted", "success", *ident, *common, "scope=mail-queue",
       "approvers:=" + json.dumps(approvers), "issued_at:=%d" % (t + 5),
       "expires_at:=%d" % (t + 905), "signals_state=unreachable")
    ev(conf, "grant.issued", "success", *ident, "scope=mail-queue",
       "approvers:=" + json.dumps(approvers), "expires_at:=%d" % (t + 905),
       "recovery:=true")


def reported(svc):
    return [r for r in svc.journal() if r.get("event") == "recovery.reported"]


adlib.require_daemon()
svc = adlib.Service()
tmp = tempfile.mkdtemp(prefix="bgrr.")
os.chmod(tmp, 0o755)
try:
    svc.start()
    d = os.path.join(tmp, "h1")
    os.mkdir(d, 0o755)
    conf = write_config(d, svc)
    rc, out, err = bg(conf, "journal", "init")
    check(rc == 0, "journal init: %s" % err)

    # Two granted recoveries (one after a refused attempt, since expired), one
    # refused only, and an ordinary incident.
    recovery(conf, "INC-7 <b>", "K7QX2MZA", ["bob", "carol"], T0, retry=True)
    ev(conf, "grant.expired", "success", "account=breakglass", "operator=alice",
       "incident=INC-7 <b>", "request_id=R1-K7QX2MZA", "reason=expired")
    recovery(conf, "INC-8", "AAAABBBB", ["dave", "erin"], T0 + 3600)
    ev(conf, "recovery.offered", "success", "account=breakglass", "operator=alice",
       "incident=INC-9", "request_id=R1-CCCCDDDD", "challenge=CCCCDDDD", "scope=mail-queue")
    ev(conf, "recovery.refused", "failure", "account=breakglass", "operator=alice",
       "incident=INC-9", "request_id=R1-CCCCDDDD", "challenge=CCCCDDDD",
       "reason=challenge-expired")
    ev(conf, "approval.requested", "success", "account=breakglass", "operator=alice",
       "incident=INC-10", "request_id=6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab",
       "scope=mail-queue")

    # --dry-run: the bodies, nothing filed.
    rc, out, err = bg(conf, "recovery", "report", "--dry-run")
    check(rc == 0, "dry run: %d %s" % (rc, err))
    bodies = [json.loads(line) for line in out.splitlines()]
    check([b["recovery_id"] for b in bodies] == ["R1-K7QX2MZA", "R1-AAAABBBB"],
          "dry run bodies: %r" % out)
    if bodies:
        b = bodies[0]
        check(list(b) == ["recovery_id", "host", "account", "operator", "incident", "scope",
                          "challenge", "approvers", "signals_state", "issued_at",
                          "expires_at"], "body members: %r" % list(b))
        check(b["approvers"] == [{"approver": "bob", "at": "2026-11-18T11:06:40Z"},
                                 {"approver": "carol", "at": "2026-11-18T11:06:41Z"}],
              "approvers with their latest code times: %r" % b["approvers"])
        check(b["host"] == HOST and b["incident"] == "INC-7 <b>"
              and b["issued_at"] == "2026-11-18T11:06:45Z"
              and b["expires_at"] == "2026-11-18T11:21:45Z"
              and b["signals_state"] == "unreachable", "body: %r" % b)
    check(reported(svc) == [], "dry run filed nothing")

    # Filed once each.
    rc, out, err = bg(conf, "recovery", "report")
    check(rc == 0 and "2 recovery grant(s) reported, 0 failed" in out,
          "report: %d %r %r" % (rc, out, err))
    recs = reported(svc)
    check(sorted(r.get("request_id") for r in recs) == ["R1-AAAABBBB", "R1-K7QX2MZA"],
          "service journal: %r" % recs)
    check(all(r.get("client_host") == HOST for r in recs), "filed as the host")
    check(not re.search(r"\b\d{4}-?\d{4}\b", json.dumps(recs).replace("2026-11-", "")),
          "no code reached the service")
    st_file = os.path.join(d, "state", "recovery", "reported.json")
    st = os.lstat(st_file)
    check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
          "reported.json is a 0600 file")

    # A second run files nothing.
    rc, out, err = bg(conf, "recovery", "report")
    check(rc == 0 and "0 recovery grant(s) reported, 0 failed" in out,
          "second run: %d %r" % (rc, out))
    check(len(reported(svc)) == 2, "nothing refiled")

    # Service down: the run fails (exit 1) and the next one files what was missed.
    check(svc.stop() == 0, "service stopped")
    # One unreachable service is tried once per run, not once per grant.
    recovery(conf, "INC-11", "EEEEFFFF", ["bob", "dave"], T0 + 7200)
    recovery(conf, "INC-12", "GGGGHHHH", ["carol", "dave"], T0 + 7300)
    rc, out, err = bg(conf, "recovery", "report")
    check(rc == 1 and "0 recovery grant(s) reported, 1 failed; the service did not answer"
          in out and "R1-EEEEFFFF" in err and "R1-GGGGHHHH" not in err,
          "service down: %d %r %r" % (rc, out, err))
    svc.start()
    rc, out, err = bg(conf, "recovery", "report")
    check(rc == 0 and "2 recovery grant(s) reported, 0 failed" in out,
          "service back: %d %r %r" % (rc, out, err))
    check(len(reported(svc)) == 4, "the missed ones filed")

    # The state lost: refiling the same bodies is answered the same, journaled once.
    # (A second later: the service refuses a signature it has seen, and the
    # run before filed R1-GGGGHHHH with this very body.)
    os.unlink(st_file)
    time.sleep(1.1)
    rc, out, err = bg(conf, "recovery", "report")
    check(rc == 0 and "4 recovery grant(s) reported, 0 failed" in out,
          "refile after state loss: %d %r %r" % (rc, out, err))
    check(len(reported(svc)) == 4, "idempotent: no new service record")

    # Another host journal claiming the same id with other details: 409, exit 1.
    d2 = os.path.join(tmp, "h2")
    os.mkdir(d2, 0o755)
    conf2 = write_config(d2, svc)
    bg(conf2, "journal", "init")
    recovery(conf2, "INC-99", "K7QX2MZA", ["bob", "carol"], T0)
    rc, out, err = bg(conf2, "recovery", "report")
    check(rc == 1 and "another report" in err, "409: %d %r %r" % (rc, out, err))
    check(len(reported(svc)) == 4, "nothing stored for the conflict")

    # breakglass report shows the recoveries, approvers and codes' times.
    rc, out, err = bg(conf, "report")
    check(rc == 0, "report: %d %s" % (rc, err))
    check("  offline recovery   R1-K7QX2MZA granted, signals unreachable\n"
          "  recovery codes     bob code accepted" in out, "report text: %s" % out)
    check("bob code accepted at 2026-11-18T11:06:40Z" in out
          and "carol code accepted at 2026-11-18T11:06:41Z" in out, "codes' times")
    check("offline recovery   R1-CCCCDDDD refused (challenge-expired)" in out,
          "refused recovery shown")
    # The four granted recoveries are counted; the refused one is not.
    check(", 0 approval(s), 4 offline recovery grant(s), " in out, "summary: %s" % out)
    rc, out, err = bg(conf, "report", "--format", "json")
    model = json.loads(out) if rc == 0 else {}
    inc7 = [i for i in model.get("incidents", []) if i["incident"] == "INC-7 <b>"]
    check(inc7 and inc7[0]["recoveries"][0]["outcome"] == "granted"
          and inc7[0]["recoveries"][0]["refused_codes"][0]["reason"] == "wrong-code"
          and inc7[0]["grant"]["recovery"] is True, "json model: %r" % inc7)
    # Several urls, the first down: filed with the second, recorded under it,
    # and not refiled once the urls are listed the other way round.
    live = "http://127.0.0.1:%d/v1" % svc.port
    dead = "http://127.0.0.1:%d/v1" % adlib.free_port()
    with open(conf) as f:
        text = f.read()

    def urls(*order):
        adlib.write(conf, text.replace("url = " + live, "\n".join("url = " + u for u in order)),
                    0o644)

    urls(dead, live)
    recovery(conf, "INC-13", "JJJJKKKK", ["bob", "carol"], T0 + 9000)
    rc, out, err = bg(conf, "recovery", "report")
    check(rc == 0 and "1 recovery grant(s) reported, 0 failed" in out,
          "failover: %d %r %r" % (rc, out, err))
    check(len(reported(svc)) == 5, "failover: filed with the second url")
    with open(st_file) as f:
        state = json.load(f)
    entries = state if isinstance(state, list) else next(
        v for v in state.values() if isinstance(v, list))
    check([e["url"] for e in entries if e["recovery_id"] == "R1-JJJJKKKK"] == [live],
          "failover: recorded under the url that answered: %r" % entries)
    for order in ((dead, live), (live, dead)):
        urls(*order)
        rc, out, err = bg(conf, "recovery", "report")
        check(rc == 0 and "0 recovery grant(s) reported, 0 failed" in out,
              "%r: nothing refiled %d %r %r" % (order, rc, out, err))
    adlib.write(conf, text, 0o644)

    rc, out, err = bg(conf, "report", "--format", "html")
    check(rc == 0 and "Offline recoveries" in out and "INC-7 &lt;b&gt;" in out
          and "<b>" not in out.split("<body>")[1].replace("<b>", "", 0), "html report")
finally:
    svc.cleanup()
    subprocess.run(["rm", "-rf", tmp])
adlib.finish()
