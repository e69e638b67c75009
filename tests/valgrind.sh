#!/bin/bash
# Runs the code that lives inside long-running processes under valgrind
# memcheck: the cmocka unit tests, the sudo plugin through plugin_host, the PAM
# module through pam_driver (driven by pam/pam_login.py) and breakglass-approvald
# (driven by approvald/approvald_host.py, approvald_vote.py,
# approvald_batch.py, approvald_slack.py, approvald_slack_bot.py and
# approvald_passkey.py, stopped
# by SIGTERM).  Any
# memcheck error or definite/indirect leak fails its part.
# Usage: tests/valgrind.sh [BUILDDIR]   (default: $top_builddir)
# Prints one line per part, then "valgrind: N passed, N failed".
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${top_builddir:-}}
if [ -z "$build" ] || [ ! -x "$build/libtool" ]; then
	echo "usage: $0 BUILDDIR (a configured and built tree)" >&2
	exit 2
fi
build=$(cd "$build" && pwd)
command -v valgrind >/dev/null || { echo "valgrind: not installed" >&2; exit 2; }

logs=$(mktemp -d /tmp/bgvg.XXXXXX)
trap 'rm -rf "$logs"' EXIT
# The exit code valgrind gives a run with errors, distinct from test failures.
vg_error=99
vg=(valgrind --tool=memcheck --leak-check=full
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
	--error-exitcode=$vg_error --track-fds=no --num-callers=30 --keep-debuginfo=yes
	--suppressions="$src/tests/valgrind.supp")
passed=0
failed=0

export top_srcdir=$src top_builddir=$build
export BREAKGLASS=$build/cli/breakglass EMIT_EVENT=$build/tests/helpers/emit_event
export GRANT_TOOL=$build/tests/sudo/grant_tool

# verdict NAME STATUS [whole]: one line for the part; its valgrind logs must
# exist and show no error and no definite or indirect leak.  With "whole", every
# log must end in a leak check: the wrapped driver or daemon never execs, so a
# log without one is a process killed before exit (a daemon ignoring SIGTERM).
# Unit tests fork and exec helper servers, whose logs stop at the exec.
verdict() {
	local name=$1 status=$2 whole=${3:-} bad unchecked
	local files=("$logs/${name//\//_}".*)
	if [ ! -e "${files[0]}" ]; then
		echo "FAIL: $name (no valgrind log: the code never ran under valgrind)"
		failed=$((failed + 1))
		return
	fi
	bad=$(grep -lE "ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]" \
		"${files[@]}")
	unchecked=$(grep -L "ERROR SUMMARY" "${files[@]}")
	if [ -n "$whole" ] && [ -n "$unchecked" ]; then
		echo "$name: process(es) ended without a leak check: $unchecked"
		status=1
	fi
	if [ "$status" -ne 0 ] || [ -n "$bad" ]; then
		echo "FAIL: $name (exit $status, ${#files[@]} process(es))"
		for f in $bad; do
			sed -n '/ERROR SUMMARY\|lost in loss record\|Invalid\|uninitialised/,+25p' \
				"$f" | head -120
		done
		failed=$((failed + 1))
	else
		echo "PASS: $name (${#files[@]} process(es))"
		passed=$((passed + 1))
	fi
}

# run_binary NAME PROGRAM: a test program under valgrind (libtool executes
# uninstalled programs with the right library path).
run_binary() {
	local name=$1 prog=$2 out
	out=$("$build/libtool" --mode=execute "${vg[@]}" \
		--log-file="$logs/${name//\//_}.%p" "$prog" 2>&1)
	local rc=$?
	[ "$rc" -eq 0 ] || printf '%s\n' "$out" | tail -40
	verdict "$name" "$rc"
}

# run_script NAME SCRIPT: a Python test whose driver or daemon runs under
# valgrind through BG_TEST_WRAPPER.
run_script() {
	local name=$1 script=$2 out wrapper
	wrapper="${vg[*]} --log-file=$logs/${name//\//_}.%p"
	out=$(cd "$build/tests" && BG_TEST_WRAPPER=$wrapper python3 "$src/tests/$script" 2>&1)
	local rc=$?
	[ "$rc" -eq 0 ] || printf '%s\n' "$out" | tail -40
	verdict "$name" "$rc" whole
}

start=$(date +%s)
for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	run_binary "unit/$(basename "$t")" "$t"
done
run_binary sudo/plugin_host "$build/tests/sudo/plugin_host"
run_script pam/pam_login pam/pam_login.py
run_script approvald/approvald_host approvald/approvald_host.py
run_script approvald/approvald_vote approvald/approvald_vote.py
run_script approvald/approvald_batch approvald/approvald_batch.py
run_script approvald/approvald_slack approvald/approvald_slack.py
run_script approvald/approvald_slack_bot approvald/approvald_slack_bot.py
run_script approvald/approvald_passkey approvald/approvald_passkey.py
# The PostgreSQL backend (a throwaway cluster), wherever its server is installed.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	BG_TEST_DATABASE=postgresql run_script approvald/approvald_host_pg \
		approvald/approvald_host.py
fi
echo "valgrind took $(( $(date +%s) - start ))s"
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
