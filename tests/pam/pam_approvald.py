#!/usr/bin/env python3
"""pam_breakglass (real libpam) against the reference approval service,
breakglass-approvald, on loopback: two approvers approve through its API and
the login succeeds with a grant acct_mgmt accepts; a denial refuses it."""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "approvald"))
import adlib  # noqa: E402
import pam_login  # noqa: E402

WAIT_PENDING = 20


def pending_id(svc):
    """The id of the request the module filed, once the service lists it."""
    deadline = time.time() + WAIT_PENDING
    while time.time() < deadline:
        st, data, _ = svc.request("GET", "/v1/requests?status=pending", headers={
            "Authorization": "Bearer " + svc.tokens["bob"]})
        if st == 200:
            reqs = json.loads(data)["requests"]
            if reqs:
                return reqs[-1]["request_id"]
        time.sleep(0.1)
    return None


def login(env, service, votes):
    """Starts a login, casts votes [(approver, action)], returns the driver's output."""
    p = subprocess.Popen([pam_login.DRIVER, os.path.join(env.d, "pamd"), service,
                          "breakglass", "am", env.operator(), "INC-2041", "spam wave",
                          pam_login.totp()], stdout=subprocess.PIPE, text=True)
    rid = pending_id(env.svc)
    pam_login.check(rid is not None, "the request reached the service")
    for who, action in votes if rid else ():
        st, data, _ = env.svc.vote(rid, who, action)
        pam_login.check(st == 200, "%s %s: %d %s" % (who, action, st, data[:200]))
    out, _ = p.communicate(timeout=pam_login.RUN_TIMEOUT)
    return out


def main():
    adlib.require_daemon()
    if not os.path.exists(pam_login.MODULE):
        print("SKIP: module not built")
        return 77
    svc = adlib.Service()
    d = pam_login.tempfile.mkdtemp(prefix="bgpamad.")
    os.chmod(d, 0o755)
    env = pam_login.Env(d)
    env.svc = svc
    try:
        svc.start()
        approval = ("http://127.0.0.1:%d/v1" % svc.port,
                    "%s/hosts/mx1.example.net.key" % svc.dir, svc.dir + "/signing.pub")
        conf = env.service("real", approval=approval, timeout="30s")
        subprocess.run([pam_login.BREAKGLASS, "--config", conf, "journal", "init"],
                       check=True, capture_output=True)

        out = login(env, "real", [("bob", "approve"), ("carol", "approve")])
        pam_login.check("authenticate=PAM_SUCCESS" in out and "acct_mgmt=PAM_SUCCESS" in out,
                        "approved by the reference service: " + out)
        g = json.load(open(env.grant()))
        pam_login.check(sorted(g["approvers"]) == ["bob", "carol"], "grant approvers")
        pam_login.check(svc.verify_decision(g["decision"].encode(), {
            "x-breakglass-decision-signature": "ed25519=" + g["decision_signature"]}),
            "the grant's decision verifies with openssl")
        os.unlink(env.grant())

        out = login(env, "real", [("dave", "deny")])
        pam_login.check("authenticate=PAM_AUTH_ERR" in out, "denied: " + out)
        pam_login.check(env.last("approval.").get("event") == "approval.denied",
                        "denial journaled")
        v = subprocess.run([pam_login.BREAKGLASS, "--config", conf, "verify"],
                           capture_output=True, text=True)
        pam_login.check(v.returncode == 0, "journal verifies: " + v.stderr)
    finally:
        env.stop()
        svc.cleanup()
        pam_login.shutil.rmtree(d)
    print("%d failure(s)" % len(pam_login.failures))
    return 1 if pam_login.failures else 0


if __name__ == "__main__":
    sys.exit(main())
