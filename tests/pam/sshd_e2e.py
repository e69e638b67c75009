#!/usr/bin/env python3
"""End to end: a real sshd on a loopback port with pam_breakglass in its PAM
stack, and a real ssh client driven through the keyboard-interactive prompts.

sshd names its PAM service after the program it runs as (__progname), so it
runs through a symlink named sshd-bgtest-PID, whose service file
/etc/pam.d/sshd-bgtest-PID this test creates and always removes, as it does
the temporary user bg-e2e-PID.  Root only.

Checks: an approved login gets a shell; a refused approval gets none; a
public-key login to the break-glass account without a grant is refused by
the account stack; with the approval service unreachable, offline recovery
(protocol R1) in the same ssh session, the operator typing the approvers'
codes for the challenge shown, gets a shell.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pam_login  # noqa: E402  (shared environment: mocks, config, TOTP)
import pam_recovery  # noqa: E402  (recovery keys, config, codes)

SSHD = "/usr/sbin/sshd"
SSH_TIMEOUT = 60
MARK = "BG-SHELL-OK"


def skip(why):
    print("SKIP:", why)
    sys.exit(77)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc):
    for _ in range(100):
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def ssh_args(port, user, d, method, command="echo " + MARK):
    return ["-p", str(port), "-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=no",
            "-o", "PreferredAuthentications=" + method, "-o", "NumberOfPasswordPrompts=1",
            "-o", "IdentitiesOnly=yes", "-i", os.path.join(d, "client_key"),
            "-o", "LogLevel=ERROR", user + "@127.0.0.1", command]


def kbdint_start(pexpect, port, user, d, op, code, command="echo " + MARK):
    """Answers the prompts; returns the running ssh session."""
    child = pexpect.spawn("ssh", ssh_args(port, user, d, "keyboard-interactive", command),
                          timeout=SSH_TIMEOUT, encoding="utf-8")
    for prompt, answer in (("Operator:", op), ("Incident:", "INC-2041"),
                           ("Reason:", "Outbound spam"), ("TOTP code:", code)):
        child.expect(prompt)
        child.sendline(answer)
    return child


def kbdint_login(pexpect, port, user, d, op, code):
    """Answers the prompts; returns the whole session output."""
    child = kbdint_start(pexpect, port, user, d, op, code)
    child.expect(pexpect.EOF)
    child.close()
    return child.before


def recovery_login(pexpect, port, user, d, env, op):
    """Breaks glass offline: reads the challenge the module shows, answers
    with bob's and carol's codes for it; returns the session output."""
    child = pexpect.spawn("ssh", ssh_args(port, user, d, "keyboard-interactive"),
                          timeout=SSH_TIMEOUT, encoding="utf-8")
    for prompt, answer in (("Operator:", op.name), ("Incident:", "INC-7"),
                           ("Reason:", "approval service down"), ("Scope", "mail-queue"),
                           ("TOTP code:", op.code())):
        child.expect(prompt)
        child.sendline(answer)
    child.expect(r"challenge: ([A-Z2-7]{4}-[A-Z2-7]{4})")
    challenge = child.match.group(1)
    for approver in ("bob", "carol"):
        child.expect("Recovery approver")
        child.sendline(approver)
        child.expect("Recovery code of")
        child.sendline(env.code(approver, op, challenge, account=user))
    child.expect(pexpect.EOF)
    child.close()
    return child.before


def preflight():
    """Skips unless root with sshd, ssh, pexpect and a non-sanitizer module; returns pexpect."""
    if os.geteuid() != 0:
        skip("needs root (sshd, a PAM service file in /etc/pam.d, a temporary user)")
    try:
        import pexpect
    except ImportError:
        skip("python3-pexpect is not installed")
    if not os.path.exists(SSHD) or shutil.which("ssh") is None:
        skip("openssh-server/client not installed")
    if not os.path.exists(pam_login.MODULE):
        skip("module not built")
    ldd = subprocess.run(["ldd", pam_login.MODULE], capture_output=True, text=True).stdout
    if "libasan" in ldd or "libubsan" in ldd:
        # sshd is not instrumented: it cannot load an AddressSanitizer module.
        skip("sanitizer build: the system sshd cannot load an instrumented module")
    return pexpect


def prepare(d, user, service):
    """Host and client keys and sshd_config (user's keys in d) for a sshd
    running as d/SERVICE (a link to sshd, so its PAM service is SERVICE);
    returns (link, port)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    os.path.join(d, "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    os.path.join(d, "client_key")], check=True)
    shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
    os.chmod(os.path.join(d, "authorized_keys"), 0o644)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    link = os.path.join(d, service)
    os.symlink(SSHD, link)
    port = free_port()
    with open(os.path.join(d, "sshd_config"), "w") as f:
        f.write(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_key
PidFile {d}/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile {d}/authorized_keys
StrictModes no
PermitRootLogin no
AllowUsers {user}
""")
    return link, port


def start_sshd(d, link, port):
    """Starts sshd; None (and its log on stderr) when it does not listen."""
    sshd = subprocess.Popen([link, "-D", "-e", "-f", os.path.join(d, "sshd_config")],
                            stderr=open(os.path.join(d, "sshd.log"), "w"))
    if wait_port(port, sshd):
        return sshd
    sshd.kill()
    sshd.wait()
    with open(os.path.join(d, "sshd.log")) as f:
        print(f.read(), file=sys.stderr)
    return None


def cleanup(sshd, files, user, env, d, more_envs=()):
    """Stops sshd, removes files, user (when not None), the mocks (env and
    more_envs) and d; returns the exit status."""
    if sshd is not None:
        sshd.terminate()
        sshd.wait()
    for path in files:
        if os.path.exists(path):
            os.unlink(path)
    if user is not None:
        subprocess.run(["userdel", user], check=False)
    env.stop()
    for other in more_envs:
        other.stop()
    shutil.rmtree(d)
    failures = pam_login.failures + pam_recovery.failures
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


def main():
    pexpect = preflight()

    tag = "bgtest-%d" % os.getpid()
    user = "bg-e2e%d" % os.getpid()
    service = "sshd-" + tag
    pamfile = os.path.join("/etc/pam.d", service)
    d = tempfile.mkdtemp(prefix="bgsshd.")
    os.chmod(d, 0o755)
    env = pam_login.Env(d)
    sshd = None
    renv = None
    created_user = False
    try:
        subprocess.run(["useradd", "-M", "-d", d, "-s", "/bin/sh", user], check=True)
        created_user = True
        link, port = prepare(d, user, service)
        conf = {m: env.service(m, mode=m) for m in ("approve", "denied")}
        subprocess.run([pam_login.BREAKGLASS, "--config", conf["approve"], "journal", "init"],
                       check=True, capture_output=True)

        def use(mode):
            shutil.copy(os.path.join(d, "pamd", mode), pamfile)

        use("approve")
        sshd = start_sshd(d, link, port)
        if sshd is None:
            pam_login.check(False, "sshd did not start")
            return 1

        out = kbdint_login(pexpect, port, user, d, env.operator(), pam_login.totp())
        pam_login.check(MARK in out, "approved login gets a shell: " + out)
        ev = [e["event"] for e in env.events()]
        pam_login.check("session.opened" in ev and "grant.issued" in ev,
                        "sshd login journaled: %s" % ev)
        # Logging out revoked the grant (revoke_on_logout).
        time.sleep(0.5)
        pam_login.check(not os.path.exists(env.grant().replace("breakglass.json",
                                                              user + ".json")),
                        "grant revoked at logout")

        use("denied")
        out = kbdint_login(pexpect, port, user, d, env.operator(), pam_login.totp())
        pam_login.check(MARK not in out, "refused approval gets no shell: " + out)
        pam_login.check(env.last("approval.").get("reason") == "denied",
                        "refusal journaled as denied")

        use("approve")
        p = subprocess.run(["ssh", *ssh_args(port, user, d, "publickey")],
                           capture_output=True, text=True, timeout=SSH_TIMEOUT,
                           stdin=subprocess.DEVNULL)
        pam_login.check(MARK not in p.stdout and p.returncode != 0,
                        "public key without a grant refused: " + p.stdout + p.stderr)
        pam_login.check(env.last("account.denied").get("reason") == "no-grant",
                        "account refusal journaled")

        # The approval service unreachable: offline recovery over ssh.
        os.makedirs(os.path.join(d, "r1"), mode=0o755)
        renv = pam_recovery.Env(os.path.join(d, "r1"))
        rconf = renv.service("r1", "http://127.0.0.1:%d/v1" % pam_recovery.closed_port(),
                             account=user)
        subprocess.run([pam_login.BREAKGLASS, "--config", rconf, "journal", "init"],
                       check=True, capture_output=True)
        shutil.copy(os.path.join(renv.d, "pamd", "r1"), pamfile)
        out = recovery_login(pexpect, port, user, d, renv, renv.operator())
        pam_login.check(MARK in out, "recovery login gets a shell: " + out)
        ev = [e["event"] for e in renv.events()]
        pam_login.check("recovery.granted" in ev and "session.opened" in ev,
                        "recovery login journaled: %s" % ev)
    finally:
        status = cleanup(sshd, (pamfile,), user if created_user else None, env, d,
                         (renv,) if renv is not None else ())
    return status


if __name__ == "__main__":
    sys.exit(main())
