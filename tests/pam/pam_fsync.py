#!/usr/bin/env python3
"""Counts the syncs (fsync, fdatasync, syncfs) of one approved login through
real libpam, with tests/helpers/fsync_count.so preloaded into the driver:
each journal record is synced once, its key state not at all (rewritten in
place on the journal's file system, it is made durable by the next
record's sync: docs/journal.md, section 4.1), and the TOTP state and the
grant add the counts asserted below.  Counts, not timings
(docs/performance.md).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pam_login
from pam_login import check

SHIM = os.path.join(pam_login.BUILD, "tests", "helpers", ".libs", "fsync_count.so")
# An approved login appends auth.begin, signals.checked, approval.requested,
# approval.approved and grant.issued.
RECORDS = 5
# The TOTP state is replaced twice (the failure counted before the code is
# checked, then the success: docs/threat-model.md, section 5.1) and the grant
# once, each by the atomic replacement: the new file, then its directory.
TOTP_SYNCS = 4
GRANT_SYNCS = 2


def counted_login(env, log):
    os.environ.update(LD_PRELOAD=SHIM, BG_FSYNC_LOG=log,
                      ASAN_OPTIONS="verify_asan_link_order=0")
    try:
        return env.login("fs", "a")
    finally:
        for k in ("LD_PRELOAD", "BG_FSYNC_LOG", "ASAN_OPTIONS"):
            del os.environ[k]


def main():
    if not os.path.exists(SHIM):
        print("SKIP: %s was not built" % SHIM)
        return 77
    d = tempfile.mkdtemp(prefix="bgfsync.")
    os.chmod(d, 0o755)
    env = pam_login.Env(d)
    try:
        conf = env.service("fs")
        subprocess.run([pam_login.BREAKGLASS, "--config", conf, "journal", "init"],
                       check=True, capture_output=True)
        r, out = env.login("fs", "a")  # creates the directories and lock files
        check(r.get("authenticate") == "PAM_SUCCESS", "warm-up login: " + out)
        for n in (1, 2):
            before = len(env.events())
            log = os.path.join(d, "syncs.%d" % n)
            r, out = counted_login(env, log)
            check(r.get("authenticate") == "PAM_SUCCESS", "login %d: %s" % (n, out))
            records = len(env.events()) - before
            with open(log) as f:
                paths = [l.rstrip("\n").split(" ", 1)[1] for l in f]
            journal = sum(p == env.journal for p in paths)
            state = sum(p == os.path.join(d, "state", "journal.state") for p in paths)
            totp = sum("/state/totp" in p for p in paths)
            grant = sum("/run/grants" in p for p in paths)
            print("login %d: %d records, %d syncs: %d journal, %d key state, %d TOTP, "
                  "%d grant" % (n, records, len(paths), journal, state, totp, grant))
            check(records == RECORDS, "login %d: %d records, want %d" % (n, records, RECORDS))
            check(journal == records, "login %d: %d journal syncs for %d records"
                  % (n, journal, records))
            check(state == 0, "login %d: %d key-state syncs, want 0" % (n, state))
            check(totp == TOTP_SYNCS, "login %d: %d TOTP state syncs, want %d"
                  % (n, totp, TOTP_SYNCS))
            check(grant == GRANT_SYNCS, "login %d: %d grant syncs, want %d"
                  % (n, grant, GRANT_SYNCS))
            check(len(paths) == journal + state + totp + grant,
                  "login %d: other syncs: %s" % (n, paths))
        v = subprocess.run([pam_login.BREAKGLASS, "--config", conf, "verify"],
                           capture_output=True, text=True)
        check(v.returncode == 0, "verify: " + v.stdout + v.stderr)
    finally:
        env.stop()
        shutil.rmtree(d)
    print("%d failures" % len(pam_login.failures))
    return 1 if pam_login.failures else 0


if __name__ == "__main__":
    sys.exit(main())
