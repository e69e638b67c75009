#!/bin/sh
# Whole-process time of `sudo -n /usr/bin/true` in six setups, interleaved
# in rounds so that drift (other users of the machine) affects all alike:
#   none      no approval plugin in /etc/sudo.conf
#   noop      a no-op approval plugin (bench/noop_approval.c): the floor
#             of "other"
#   other     sudo_breakglass, run by a user who is not a break-glass account
#   floor     the least a break-glass decision costs with libcrypto
#             (bench/crypto_floor_approval.c): what a core on OpenSSL
#             could reach at best
#   sodium    the same with libsodium, the core's crypto
#             (common/crypto_sodium.c): the floor of "account"
#   account   sudo_breakglass, run by a break-glass account with a valid grant
# Prints the medians of wall-clock and CPU time (CPU is less sensitive to a
# busy machine) and each ratio to "none", next to the budgets: "other" at
# most 1.03, "account" at most 1.25.  Root only: it creates temporary users
# and edits /etc/sudo.conf (restored on exit).  BENCH_SUDO_RUNS runs each
# (default 200).  BENCH_SUDO_COMPARE="PATH/sudo_breakglass.so ..." adds, for
# each plugin named, the "account" setup with that build (its core beside
# it, in a directory only root can write), to compare builds in one run.
: "${top_srcdir:?top_srcdir must be set}"
: "${top_builddir:?top_builddir must be set}"
: "${BREAKGLASS:?BREAKGLASS must name the built breakglass binary}"
: "${NOOP_APPROVAL:?NOOP_APPROVAL must name the built no-op approval plugin}"
: "${CRYPTO_FLOOR_APPROVAL:?CRYPTO_FLOOR_APPROVAL must name the built floor plugin}"
: "${SODIUM_FLOOR_APPROVAL:?SODIUM_FLOOR_APPROVAL must name the built libsodium floor plugin}"
runs=${BENCH_SUDO_RUNS:-200}
rounds=4

. "$top_srcdir/tests/sudo/sudo_env.sh"
sudo_env_start "$0" "$@"

# A second sudoer, outside accounts = bgtest-*.
other=bgplain-$$
other_sudoers=/etc/sudoers.d/bgplain-$$
trap 'rm -f "$other_sudoers"; userdel "$other" >/dev/null 2>&1; sudo_env_cleanup' EXIT
useradd -M -N -s /bin/sh "$other" || exit 99
printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$other" >"$other_sudoers"
chmod 0440 "$other_sudoers"
visudo -cqf "$other_sudoers" || exit 99

bg_line=$plugin_line
noop_line="Plugin noop_approval $NOOP_APPROVAL"
floor_line="Plugin crypto_floor_approval $CRYPTO_FLOOR_APPROVAL file=$d/floor.log"
sodium_line="Plugin crypto_floor_approval $SODIUM_FLOOR_APPROVAL file=$d/floor.log"
use_plugin() {
	plugin_line=$1
	plugin_on
}

# measure USER N OUT: runs sudo N times as USER; per run one line "wall cpu"
# (seconds; cpu = user + system time of sudo and what it waited for).
measure() {
	(cd / && runuser -u "$1" -- python3 -c '
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
' "$2") >>"$3" || { echo "sudo_overhead: sudo failed" >&2; exit 1; }
}

per_round=$((runs / rounds))
as_user /usr/bin/true || { echo "sudo_overhead: the in-scope command is refused" >&2; exit 1; }
r=0
while [ $r -lt $rounds ]; do
	plugin_off
	measure "$other" "$per_round" "$d/none"
	use_plugin "$noop_line"
	measure "$other" "$per_round" "$d/noop"
	use_plugin "$bg_line"
	measure "$other" "$per_round" "$d/other"
	measure "$user" "$per_round" "$d/account"
	use_plugin "$floor_line"
	measure "$user" "$per_round" "$d/floor"
	use_plugin "$sodium_line"
	measure "$user" "$per_round" "$d/sodium"
	i=0
	for so in ${BENCH_SUDO_COMPARE:-}; do
		i=$((i + 1))
		use_plugin "Plugin sudo_breakglass $so config=$d/breakglass.conf"
		measure "$user" "$per_round" "$d/compare$i"
	done
	r=$((r + 1))
done
plugin_line=$bg_line

python3 - "$d" "$(records)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "${BENCH_SUDO_COMPARE:-}" <<'PY'
import statistics, sys
d, records, ncpu, load, compare = sys.argv[1:6]
def load_runs(name):
    rows = [line.split() for line in open("%s/%s" % (d, name))]
    return [float(r[0]) for r in rows], [float(r[1]) for r in rows]
setups = (("none", "no approval plugin", None),
          ("noop", "no-op approval plugin (floor)", None),
          ("other", "sudo_breakglass, not a break-glass account", 1.03),
          ("floor", "libcrypto, json-c, Ed25519, 1 sync", None),
          ("sodium", "libsodium, json-c, Ed25519, 1 sync (floor)", None),
          ("account", "sudo_breakglass, break-glass account with a grant", 1.25))
floors = {"other": "noop", "account": "sodium"}
for i, so in enumerate(compare.split(), 1):
    setups += (("compare%d" % i, "the same with %s" % so, 1.25),)
data = {name: load_runs(name) for name, _, _ in setups}
print("sudo -n /usr/bin/true, %d runs each, %s CPUs, load average %s "
      "(%s journal records written)" % (len(data["none"][0]), ncpu, load, records))
for i, metric in enumerate(("wall", "cpu")):
    base = statistics.median(data["none"][i])
    print("  %s time (median):" % metric)
    for name, label, budget in setups:
        m = statistics.median(data[name][i])
        extra = ""
        if budget is not None:
            extra = "  (budget %.2fx" % budget
            floor = floors.get(name, "sodium" if name.startswith("compare") else None)
            if floor is not None:
                extra += ", floor %.3fx" % (statistics.median(data[floor][i]) / base)
            extra += ")"
        print("    %-52s %7.3f ms  %.3fx%s" % (label, m * 1000, m / base, extra))
PY
