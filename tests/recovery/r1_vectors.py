#!/usr/bin/env python3
"""Protocol R1 vectors three ways: the fixed values tests/unit/test_recovery.c
holds, an independent Python implementation (r1_ref.py), and the approver's
tool (`breakglass recovery export-host|code`, with options and with prompts).
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import r1_ref  # noqa: E402

BREAKGLASS = os.environ["BREAKGLASS"]
# Also in tests/unit/test_recovery.c: K_AH and the code of each r1_ref.VECTORS entry.
EXPECTED = [
    ("ca691b79ef76722b75e68efe54a124015907f6fab1074db317e208e582141cd6", "3734-5084"),
    ("2a227f88ce9c616d63226a365aae4f964f5359307455cece8d6916e15d986c36", "7392-5891"),
    ("985054e1848ed550157ea516f310b6451e7737c4aa651f50efedc86877a99667", "4666-4523"),
]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(*args, stdin=""):
    return subprocess.run([BREAKGLASS, "recovery", *args], input=stdin, text=True,
                          capture_output=True, timeout=30)


def main():
    with tempfile.TemporaryDirectory() as d:
        for i, (v, (want_kah, want_code)) in enumerate(zip(r1_ref.VECTORS, EXPECTED)):
            k_a, host, account, operator, incident, scope, challenge, approver = v
            k_ah = r1_ref.host_key(bytes.fromhex(k_a), host)
            check(k_ah.hex() == want_kah, "vector %d: Python K_AH" % i)
            check(r1_ref.code(k_ah, *v[1:]) == want_code, "vector %d: Python code" % i)
            key = os.path.join(d, "k%d" % i)
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, (k_a + "\n").encode())
            os.close(fd)
            r = run("export-host", "--key", key, "--host", host)
            check(r.returncode == 0 and r.stdout == want_kah + "\n",
                  "vector %d: export-host %r %r" % (i, r.stdout, r.stderr))
            r = run("code", "--key", key, "--host", host, "--account", account,
                    "--operator", operator, "--incident", incident, "--scope", scope,
                    "--challenge", challenge.lower(), "--approver", approver)
            check(r.returncode == 0 and r.stdout == want_code + "\n",
                  "vector %d: code %r %r" % (i, r.stdout, r.stderr))
            # Every missing detail is asked for, in order, on the terminal.
            answers = "\n".join([host, account, operator, incident, scope, challenge,
                                 approver]) + "\n"
            r = run("code", "--key", key, stdin=answers)
            check(r.returncode == 0 and r.stdout == want_code + "\n",
                  "vector %d: prompted code %r %r" % (i, r.stdout, r.stderr))
            check("Host: Account: Operator: Incident: Scope: Challenge: Approver: "
                  in r.stderr, "vector %d: prompts %r" % (i, r.stderr))

        # keygen: a fresh 0600 key of 64 hex digits; never over an existing file.
        new = os.path.join(d, "new.key")
        r = run("keygen", "--out", new)
        check(r.returncode == 0, "keygen " + r.stderr)
        st = os.stat(new)
        check(st.st_mode & 0o777 == 0o600, "keygen mode %o" % st.st_mode)
        text = open(new).read()
        check(len(text) == 65 and all(c in "0123456789abcdef" for c in text[:64]),
              "keygen contents")
        check(run("keygen", "--out", new).returncode != 0, "keygen over an existing key")
        check(open(new).read() == text, "keygen left the existing key alone")
        os.symlink(os.path.join(d, "elsewhere"), os.path.join(d, "link"))
        check(run("keygen", "--out", os.path.join(d, "link")).returncode != 0,
              "keygen through a symlink")
        check(not os.path.exists(os.path.join(d, "elsewhere")), "symlink target created")
        # A master key readable by others is refused; so is a bad detail.
        os.chmod(new, 0o644)
        r = run("export-host", "--key", new, "--host", "mx1")
        check(r.returncode != 0 and "too open" in r.stderr, "open key: " + r.stderr)
        os.chmod(new, 0o600)
        base = ["code", "--key", new, "--host", "mx1", "--account", "bg", "--operator",
                "alice", "--scope", "s", "--approver", "bob"]
        r = run(*base, "--incident", "INC:1", "--challenge", "ABCD-2345")
        check(r.returncode != 0 and "incident" in r.stderr, "colon in incident " + r.stderr)
        r = run(*base, "--incident", "INC-1", "--challenge", "ABCD-2340")
        check(r.returncode != 0 and "challenge" in r.stderr, "bad challenge " + r.stderr)
        r = run(*base, "--incident", "INC-1", "--challenge", "ABCD-2345")
        check(r.returncode == 0 and len(r.stdout) == 10, "code with a fresh key")
    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
