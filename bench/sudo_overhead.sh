#!/bin/sh
# Whole-process time of `sudo -n /usr/bin/true` run by a break-glass account
# holding a valid grant, with sudo_breakglass in /etc/sudo.conf, against the
# same sudo with the Plugin line removed.  Prints both medians and their ratio
# (budget: at most 1.25).  Root only: it creates a temporary user and edits
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

# measure N OUT: runs sudo N times as the user, one duration (seconds) per line.
measure() {
	(cd / && runuser -u "$user" -- python3 -c '
import subprocess, sys, time
for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    rc = subprocess.call(["sudo", "-n", "/usr/bin/true"])
    if rc != 0:
        sys.exit("sudo failed: %d" % rc)
    print("%.6f" % (time.perf_counter() - t))
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
without = [float(x) for x in open(sys.argv[1])]
with_ = [float(x) for x in open(sys.argv[2])]
a, b = statistics.median(without), statistics.median(with_)
print("sudo -n /usr/bin/true, %d runs each (%s journal records written)" % (len(with_), sys.argv[3]))
print("  without sudo_breakglass: median %.2f ms" % (a * 1000))
print("  with sudo_breakglass:    median %.2f ms" % (b * 1000))
print("  ratio: %.3f (budget 1.25)" % (b / a))
PY
