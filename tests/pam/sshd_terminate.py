#!/usr/bin/env python3
"""--terminate ends every process a break-glass login started, root ones
included: a real sshd on a loopback port (sshd_e2e's setup) whose PAM stack
has `session required pam_loginuid.so`, a real sudo with the plugin (the
sudo.conf lock of tests/sudo/sudo_env.sh is held, sudo.conf always
restored), and a break-glass user who detaches in-scope commands as root
with `sudo -b`, `nohup ... &` and `setsid -f`, then waits in its shell.

`breakglass kill-switch on --terminate`, then (second login)
`breakglass expire --terminate` with the grant expired (the tool runs under
faketime two hours ahead), must end the account's shell, its session's sshd
processes and those root processes, selected by the audit login UID, and
must leave alone a root process outside the session and one whose login
UID is another user's.  Root only.
"""
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pam_login  # noqa: E402
import sshd_e2e  # noqa: E402

SUDO_LOCK = "/run/lock/breakglass-sudo-test.lock"
LOCK_WAIT = 900
SO = os.path.join(pam_login.BUILD, "sudo_breakglass", ".libs", "sudo_breakglass.so")
# Distinct durations name each sleeper; none of them ever runs out in a test.
DETACHED = {"2999": "sudo -b", "2998": "nohup &", "2997": "setsid -f"}
SHELL_SLEEP = "2996"
PROCESS_WAIT = 30


def proc(pid):
    """(argv, uid, loginuid) of a live (not zombie) process, or None."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")[:-1]
        with open("/proc/%s/loginuid" % pid) as f:
            loginuid = int(f.read())
        return argv, os.stat("/proc/%s" % pid).st_uid, loginuid
    except (OSError, ValueError, IndexError):
        return None


def processes():
    """{pid: (argv, uid, loginuid)} of every live process."""
    return {int(p): info for p in os.listdir("/proc")
            if p.isdigit() and (info := proc(p)) is not None}


def sleepers():
    """{duration: (pid, uid, loginuid)} of the live `sleep N` processes."""
    return {argv[1].decode(): (pid, uid, loginuid)
            for pid, (argv, uid, loginuid) in processes().items()
            if len(argv) == 2 and argv[0].endswith(b"sleep")}


def wait_for(pred):
    """Polls pred until true, at most PROCESS_WAIT seconds (a bound, not a timing check)."""
    deadline = time.monotonic() + PROCESS_WAIT
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def set_loginuid(uid):
    def pre():
        with open("/proc/self/loginuid", "w") as f:
            f.write(str(uid))
    return pre


def session(pexpect, port, user, d, env):
    """Logs in, detaches the root sleepers and waits in the shell; returns the ssh child."""
    command = ("sudo -n -b /usr/bin/sleep 2999; "
               "(sudo -n /usr/bin/nohup /usr/bin/sleep 2998 >/dev/null 2>&1 &); "
               "sudo -n /usr/bin/setsid -f /usr/bin/sleep 2997; "
               "echo BG-READY; exec /usr/bin/sleep " + SHELL_SLEEP)
    child = sshd_e2e.kbdint_start(pexpect, port, user, d, env.operator(), pam_login.totp(),
                                  command)
    child.expect("BG-READY")
    return child


def check_ended(what, child, pexpect, uid, bystanders):
    s = sleepers()
    for dur, how in DETACHED.items():
        pam_login.check(dur not in s, "%s: root process (%s) ended: %s" % (what, how, s.get(dur)))
    # The shell is signalled with the rest, but may still be exiting when
    # terminate returns on a loaded machine: wait for it, bounded.
    pam_login.check(wait_for(lambda: SHELL_SLEEP not in sleepers()),
                    "%s: the account's shell ended" % what)
    for dur in bystanders:
        pam_login.check(dur in s, "%s: unrelated root process %s left running" % (what, dur))
    try:
        child.expect(pexpect.EOF, timeout=PROCESS_WAIT)
        ended = True
    except pexpect.TIMEOUT:
        ended = False
    pam_login.check(ended, "%s: the ssh session ended" % what)
    child.close(force=True)
    left = [pid for pid, (_, _, loginuid) in processes().items() if loginuid == uid]
    pam_login.check(not left, "%s: no process left with the account's login uid: %s"
                    % (what, left))


def check_started(what, uid):
    ok = wait_for(lambda: all(dur in sleepers() for dur in (*DETACHED, SHELL_SLEEP)))
    pam_login.check(ok, "%s: the session's processes started: %s" % (what, sleepers()))
    s = sleepers()
    for dur, how in DETACHED.items():
        if dur in s:
            pam_login.check(s[dur][1] == 0 and s[dur][2] == uid,
                            "%s: %s runs as root with the account's login uid: %s"
                            % (what, how, s[dur]))
    return ok


def main():
    pexpect = sshd_e2e.preflight()
    if shutil.which("sudo") is None or shutil.which("faketime") is None:
        sshd_e2e.skip("sudo or faketime is not installed")
    if not os.path.exists("/proc/self/loginuid"):
        sshd_e2e.skip("the kernel has no audit login uid (CONFIG_AUDIT)")
    # Other build trees edit /etc/sudo.conf too (tests/sudo/sudo_env.sh).
    lock = open(SUDO_LOCK, "a")
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                pam_login.check(False, "sudo.conf lock still held after %d s" % LOCK_WAIT)
                return 1
            time.sleep(0.5)

    tag = "bgtest-%d" % os.getpid()
    user = "bg-tm%d" % os.getpid()
    service = "sshd-" + tag
    pamfile = os.path.join("/etc/pam.d", service)
    sudoers = "/etc/sudoers.d/" + tag
    d = tempfile.mkdtemp(prefix="bgsshd.")
    os.chmod(d, 0o755)
    env = pam_login.Env(d)
    sshd = None
    created_user = False
    sudo_conf = None
    bystanders = []
    try:
        subprocess.run(["useradd", "-M", "-d", d, "-s", "/bin/sh", user], check=True)
        created_user = True
        uid = int(subprocess.run(["id", "-u", user], capture_output=True, text=True,
                                 check=True).stdout)
        link, port = sshd_e2e.prepare(d, user, service)
        conf = env.service("approve")
        with open(conf, "a") as f:
            f.write("command = /usr/bin/sleep 2999\n"
                    "command = /usr/bin/nohup /usr/bin/sleep 2998\n"
                    "command = /usr/bin/setsid -f /usr/bin/sleep 2997\n")
        bg = [pam_login.BREAKGLASS, "--config", conf]
        subprocess.run([*bg, "journal", "init"], check=True, capture_output=True)
        # The stack line --terminate needs: the session's audit login uid.
        with open(os.path.join(d, "pamd", "approve")) as f:
            stack = f.read().replace("session required",
                                     "session required pam_loginuid.so\nsession required", 1)
        pam_login.write(pamfile, stack, 0o644)
        pam_login.write(sudoers, "%s ALL=(ALL) NOPASSWD: ALL\n" % user, 0o440)
        subprocess.run(["visudo", "-cqf", sudoers], check=True)
        sudo_conf = open("/etc/sudo.conf").read() if os.path.exists("/etc/sudo.conf") else ""
        with open("/etc/sudo.conf", "a") as f:
            f.write("\nPlugin sudo_breakglass %s config=%s\n" % (SO, conf))

        # Root processes outside the session: no login uid, and another user's.
        bystanders = [subprocess.Popen(["/usr/bin/sleep", "2995"]),
                      subprocess.Popen(["/usr/bin/sleep", "2994"],
                                       preexec_fn=set_loginuid(65534))]
        sshd = sshd_e2e.start_sshd(d, link, port)
        if sshd is None:
            pam_login.check(False, "sshd did not start")
            return 1

        child = session(pexpect, port, user, d, env)
        if check_started("kill-switch", uid):
            p = subprocess.run([*bg, "kill-switch", "on", "--reason", "drill", "--terminate"],
                               capture_output=True, text=True, timeout=120)
            pam_login.check(p.returncode == 0, "kill-switch on: " + p.stdout + p.stderr)
            check_ended("kill-switch", child, pexpect, uid, ("2995", "2994"))
        subprocess.run([*bg, "kill-switch", "off"], capture_output=True, check=True)

        child = session(pexpect, port, user, d, env)
        if check_started("expire", uid):
            p = subprocess.run(["faketime", "+2 hours", *bg, "expire", "--terminate"],
                               capture_output=True, text=True, timeout=120)
            pam_login.check(p.returncode == 0 and "expired: " + user in p.stdout,
                            "expire --terminate: " + p.stdout + p.stderr)
            check_ended("expire", child, pexpect, uid, ("2995", "2994"))
        e = env.last("grant.expired")
        pam_login.check(e.get("processes_signalled", 0) >= 4,
                        "expire journaled the processes it ended: %s" % e)
    finally:
        if sudo_conf is not None:
            with open("/etc/sudo.conf", "w") as f:
                f.write(sudo_conf)
        for p in bystanders:
            p.kill()
            p.wait()
        # Whatever a failed case left of the session.
        for dur, (pid, _, _) in sleepers().items():
            if dur in (*DETACHED, SHELL_SLEEP):
                os.kill(pid, 9)
        status = sshd_e2e.cleanup(sshd, (pamfile, sudoers), user if created_user else None,
                                  env, d)
    return status


if __name__ == "__main__":
    sys.exit(main())
