#!/usr/bin/env python3
"""Runs bench_login against the loopback mocks of tests/: the median module
time of a full approved login (service approves at once) and the latency
from an approve call to pam_authenticate returning (long poll).

Environment: top_srcdir, top_builddir, BREAKGLASS (as for the tests);
BENCH_LOGINS (default 50).
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "pam"))
import pam_login  # noqa: E402

BENCH = os.path.join(os.environ["top_builddir"], "bench", "bench_login")
# DESIGN.md's budgets; the floor is issue 14's anchor (pam_oath is not a
# build dependency, so it is not measured here).
BUDGET_LOGIN = "[budget: median < 15 ms; floor: pam_oath alone 0.9-3 ms]"
BUDGET_POKE = "[budget: p99 < 50 ms]"


def run(env, mode, n, poke):
    env.service("breakglass", mode=mode, timeout="60s")
    # Fresh operators for every run: the TOTP replay state is per operator.
    for i in range(1, n + 1):
        pam_login.write(os.path.join(env.d, "operators", "bench%d" % i),
                        "secret = %s\n" % pam_login.SECRET, 0o600)
        state = os.path.join(env.d, "state", "totp", "bench%d.totp" % i)
        if os.path.exists(state):
            os.unlink(state)
    args = [BENCH, os.path.join(env.d, "pamd"), "breakglass", str(n), pam_login.totp()]
    if poke:
        args.append("http://127.0.0.1:%d" % env.aport)
    p = subprocess.run(args, check=False, stdout=subprocess.PIPE, text=True)
    print(p.stdout.rstrip("\n") + "  " + (BUDGET_POKE if poke else BUDGET_LOGIN))
    return p.returncode


def main():
    n = int(os.environ.get("BENCH_LOGINS", "50"))
    d = tempfile.mkdtemp(prefix="bgbench.")
    os.chmod(d, 0o755)
    env = pam_login.Env(d)
    rc = 0
    try:
        conf = env.service("breakglass")
        subprocess.run([pam_login.BREAKGLASS, "--config", conf, "journal", "init"],
                       check=True, capture_output=True)
        rc |= run(env, "approve", n, False)
        rc |= run(env, "poke", n, True)
    finally:
        env.stop()
        shutil.rmtree(d)
    return rc


if __name__ == "__main__":
    sys.exit(main())
