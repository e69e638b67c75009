#!/usr/bin/env python3
"""pam_breakglass (real libpam) with several [approval] urls, against the
loopback mock (tests/approval/mock_approvald.py, whose paths share one set of
requests like instances on one database) and two real breakglass-approvald
on one SQLite database: the module moves on after a closed port, a 503 or an
instance that never answers, never after a signed denial; a hung poll on the
first url runs out the one timeout without the second being contacted; a
request filed on the first instance is polled on the second once the first
dies.  The journal names the url that answered and the ones that failed, and
verifies; the report reads it.
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "approvald"))
import adlib  # noqa: E402
import pam_login  # noqa: E402
from pam_approvald import pending_id  # noqa: E402
from pam_login import check  # noqa: E402
from pam_recovery import closed_port  # noqa: E402


def mock_url(env, mode):
    return "http://127.0.0.1:%d/%s/v1" % (env.aport, mode)


def hits(env, mode):
    """{"POST": n, "GET": n}: the host requests the mode's path received."""
    with urllib.request.urlopen("http://127.0.0.1:%d/_hits" % env.aport) as f:
        return json.load(f).get(mode, {"POST": 0, "GET": 0})


def service(env, name, urls, timeout="10s"):
    env.service(name, timeout=timeout,
                approval=(urls, os.path.join(env.d, "host.key"), env.pub))


def events(env):
    """The journal's records (its file appears with the first one)."""
    return env.events() if os.path.exists(env.journal) else []


def count(env):
    return len(events(env))


def drop_grant(env):
    if os.path.exists(env.grant()):
        os.unlink(env.grant())


def since(env, n):
    return {e["event"]: e for e in events(env)[n:]}


def test_moves_on(env):
    """A closed port, a 503 and an instance that never answers are passed
    over; the login succeeds with the second url, which the journal names."""
    for first in ("http://127.0.0.1:%d/v1" % closed_port(), mock_url(env, "unavailable"),
                  mock_url(env, "stall")):
        second = mock_url(env, "approve")
        service(env, "moves-on", [first, second])
        n = count(env)
        before = hits(env, "approve")["POST"]
        r, out = env.login("moves-on", "am")
        check(r.get("authenticate") == "PAM_SUCCESS" and r.get("acct_mgmt") == "PAM_SUCCESS",
              f"{first} then {second}: login {out}")
        evs = since(env, n)
        req, ok = evs.get("approval.requested", {}), evs.get("approval.approved", {})
        check(req.get("url") == second and ok.get("url") == second and
              ok.get("failed_urls") == [first],
              f"{first}: journal names the second url {req} {ok}")
        check(hits(env, "approve")["POST"] == before + 1, f"{first}: filed on the second")
        drop_grant(env)


def test_signed_denial_stops(env):
    """A signed denial from the first url ends the search: the second is
    never contacted."""
    service(env, "denial", [mock_url(env, "denied"), mock_url(env, "approve")])
    before = hits(env, "approve")
    n = count(env)
    r, out = env.login("denial", "a")
    check(r.get("authenticate") == "PAM_AUTH_ERR", "signed denial: refused " + out)
    e = since(env, n).get("approval.denied", {})
    check(e.get("url") == mock_url(env, "denied") and "failed_urls" not in e,
          "signed denial: journaled with the first url " + str(e))
    check(hits(env, "approve") == before and not os.path.exists(env.grant()),
          "signed denial: the second url was not contacted, no grant")


def test_hung_poll(env):
    """Filed on the first url, whose poll never answers: the one timeout
    runs out there, and the second is not contacted (no time is left)."""
    second = mock_url(env, "approve")
    service(env, "hung", [mock_url(env, "hang"), second], timeout="3s")
    before = hits(env, "approve")
    n = count(env)
    r, out = env.login("hung", "a")
    e = since(env, n).get("approval.expired", {})
    check(r.get("authenticate") == "PAM_AUTH_ERR" and e.get("reason") == "timeout",
          "hung poll: refused on the timeout " + out + str(e))
    check(hits(env, "approve") == before, "hung poll: the second url was not contacted")


def test_file_here_poll_there(env):
    """Filed on the first url, whose polls then fail with 503: polled on the
    second, which answers for the same request."""
    first, second = mock_url(env, "file-only"), mock_url(env, "approve")
    service(env, "file-poll", [first, second])
    before = hits(env, "approve")
    n = count(env)
    r, out = env.login("file-poll", "a")
    check(r.get("authenticate") == "PAM_SUCCESS", "file on A, poll on B: " + out)
    evs = since(env, n)
    check(evs.get("approval.requested", {}).get("url") == first and
          evs.get("approval.approved", {}).get("url") == second,
          "file on A, poll on B: journal " + str(evs))
    after = hits(env, "approve")
    check(after["POST"] == before["POST"] and after["GET"] > before["GET"],
          "file on A, poll on B: B polled, not filed %s %s" % (before, after))
    drop_grant(env)


def twin(svc):
    """A second breakglass-approvald on svc's SQLite database, with its own
    port, state directory and journal."""
    t = adlib.Service.__new__(adlib.Service)
    t.__dict__.update(svc.__dict__)
    t.dir = tempfile.mkdtemp(prefix="bgad2.")
    os.chmod(t.dir, 0o755)
    for sub in ("state", "log"):
        os.mkdir(os.path.join(t.dir, sub), 0o755)
    t.port = adlib.free_port()
    t.proc = None
    with open(svc.conf) as f:
        text = f.read()
    for old, new in (("127.0.0.1:%d" % svc.port, "127.0.0.1:%d" % t.port),
                     ("state_dir = %s/state" % svc.dir, "state_dir = %s/state" % t.dir),
                     ("journal = %s/log" % svc.dir, "journal = %s/log" % t.dir)):
        text = text.replace(old, new)
    t.conf = t.dir + "/approvald.conf"
    adlib.write(t.conf, text, 0o644)
    r = subprocess.run([adlib.DAEMON, "--config", t.conf, "--init-journal"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("init-journal: " + r.stderr)
    return t


def test_two_instances(env):
    """Two real instances on one SQLite database (WAL): the request is filed
    on A, A is killed with SIGKILL, the votes go to B, and the module, whose
    poll on A broke, polls B and logs in."""
    a = adlib.Service()
    b = None
    try:
        a.start()
        b = twin(a)
        b.start()
        urls = ["http://127.0.0.1:%d/v1" % s.port for s in (a, b)]
        env.service("twin", timeout="30s", approval=(
            urls, "%s/hosts/mx1.example.net.key" % a.dir, a.dir + "/signing.pub"))
        n = count(env)
        p = subprocess.Popen([pam_login.DRIVER, os.path.join(env.d, "pamd"), "twin",
                              "breakglass", "a", env.operator(), "INC-2041", "spam wave",
                              pam_login.totp()], stdout=subprocess.PIPE, text=True)
        rid = pending_id(a)
        check(rid is not None, "two instances: the request reached A")
        a.proc.kill()
        a.proc.wait()
        a.proc = None
        a.log.close()
        for who in ("bob", "carol") if rid else ():
            st, data, _ = b.vote(rid, who)
            check(st == 200, "two instances: %s votes on B: %d %s" % (who, st, data[:200]))
        out, _ = p.communicate(timeout=pam_login.RUN_TIMEOUT)
        check("authenticate=PAM_SUCCESS" in out, "two instances: login " + out)
        evs = since(env, n)
        ok = evs.get("approval.approved", {})
        check(evs.get("approval.requested", {}).get("url") == urls[0] and
              ok.get("url") == urls[1] and ok.get("failed_urls") == [urls[0]],
              "two instances: journal " + str(evs))
        if os.path.exists(env.grant()):
            drop_grant(env)
    finally:
        a.cleanup()
        if b is not None:
            b.cleanup()


def main():
    adlib.require_daemon()
    if not os.path.exists(pam_login.MODULE) or not os.path.exists(pam_login.DRIVER):
        print("SKIP: module or driver not built", file=sys.stderr)
        return 77
    d = tempfile.mkdtemp(prefix="bgfail.")
    os.chmod(d, 0o755)
    env = pam_login.Env(d)
    try:
        conf = env.service("init")
        subprocess.run([pam_login.BREAKGLASS, "--config", conf, "journal", "init"],
                       check=True, capture_output=True)
        for t in (test_moves_on, test_signed_denial_stops, test_hung_poll,
                  test_file_here_poll_there, test_two_instances):
            t(env)
        v = subprocess.run([pam_login.BREAKGLASS, "--config", conf, "verify"],
                           capture_output=True, text=True)
        check(v.returncode == 0, "journal verifies: " + v.stdout + v.stderr)
        rep = subprocess.run([pam_login.BREAKGLASS, "--config", conf, "report"],
                             capture_output=True, text=True)
        check(rep.returncode == 0, "report reads the journal: " + rep.stdout + rep.stderr)
    finally:
        env.stop()
        pam_login.shutil.rmtree(d)
    print("%d failure(s)" % len(pam_login.failures))
    return 1 if pam_login.failures else 0


if __name__ == "__main__":
    sys.exit(main())
