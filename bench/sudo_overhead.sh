#!/bin/sh
# Whole-process time of `sudo -n /usr/bin/true` run by a break-glass account
# holding a valid grant, with sudo_breakglass in /etc/sudo.conf, against the
# same sudo with the Plugin line removed.  Prints the medians and their ratio
# (budget: at most 1.25) for wall-clock time and, less sensitive to a busy
# machine, for CPU time.  Root only: it creates a temporary user and edits
# /etc/sudo.conf (restored on exit).  BENCH_SUDO_RUNS runs each (default 200),
# interleaved in rounds so that drift affects both sides alike.
: "${top_srcdir:?top_srcdir must be set}"
: "${top_builddir:?top_builddir must be set}"
: "${BREAKGLASS:?BREAKGLASS must name the built breakglass binary}"
runs=${BENCH_SUDO_RUNS:-200}
rounds=4

. "$top_srcdir/tests/sudo/sudo_env.sh"
sudo_env_check
sudo_env_lock "$0" "$@"
. "$top_srcdir/tests/integration/lib.sh"
sudo_env_setup

# measure N OUT: runs sudo N times as the user; per run one line "wall cpu"
# (seconds; cpu = user + system time of sudo and what it waited for).
measure() {
	(cd / && runuser -u "$user" -- python3 -c '
import resource, subprocess, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
for _ in range(int(sys.argv[1])):
    t, c = time.perf_counter(), cpu()
    rc = subprocess.call(["sudo", "-n", "/usr/bin/true"])
    if rc != 0:
        sys.exit("sudo failed: %d" % rc)
    print("%.6f %.6f" % (time.perf_counter() - t, cpu() - c))
' "$1") >>"$2" || { echo "sudo_overhead: sudo failed" >&2; exit 1; }
}

per_round=$((runs / rounds))
as_user /usr/bin/true || { echo "sudo_overhead: the in-scope command is refused" >&2; exit 1; }
r=0
while [ $r -lt $rounds ]; do
	plugin_off
	measure "$per_round" "$d/without"
	plugin_on
	measure "$per_round" "$d/with"
	r=$((r + 1))
done

python3 - "$d/without" "$d/with" "$(records)" <<'PY'
import statistics, sys
def load(path):
    rows = [line.split() for line in open(path)]
    return [float(r[0]) for r in rows], [float(r[1]) for r in rows]
(wall0, cpu0), (wall1, cpu1) = load(sys.argv[1]), load(sys.argv[2])
print("sudo -n /usr/bin/true, %d runs each (%s journal records written)" % (len(wall1), sys.argv[3]))
for name, a, b in (("wall", wall0, wall1), ("cpu", cpu0, cpu1)):
    a, b = statistics.median(a), statistics.median(b)
    print("  %-4s median: without %.2f ms, with sudo_breakglass %.2f ms, ratio %.3f"
          % (name, a * 1000, b * 1000, b / a))
print("  budget: wall ratio at most 1.25")
PY
