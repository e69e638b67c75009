#!/bin/bash
# The test command: installs dependencies, builds with warnings as errors, runs
# the whole suite, then builds again with AddressSanitizer + UBSan and runs the
# suite again.  Ends with one line "N passed, N failed" over both runs.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=${JOBS:-2}
passed=0
failed=0
status=0

# tally LOGFILE: adds a finished automake test-suite.log to the totals.
tally() {
	local log=$1 p f
	if [ ! -f "$log" ]; then
		failed=$((failed + 1))
		return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	f=$(awk '/^# (FAIL|XPASS|ERROR):/ { n += $3 } END { print n + 0 }' "$log")
	passed=$((passed + ${p:-0}))
	failed=$((failed + f))
}

# run_suite BUILDDIR CONFIGURE-ARGS...
run_suite() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1) || {
		echo "configure failed in $dir:"; tail -30 "$dir/configure.out"; return 1; }
	make -C "$dir" -j"$jobs" >"$dir/build.out" 2>&1 || {
		echo "build failed in $dir:"; tail -60 "$dir/build.out"; return 1; }
	make -C "$dir" -j"$jobs" check
}

if [ "$(id -u)" -eq 0 ]; then
	"$top/scripts/install-deps.sh" || exit 1
fi
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }

echo "=== plain build: make check"
run_suite "$top/build" || status=1
tally "$top/build/tests/test-suite.log"

echo "=== sanitizer build (ASan + UBSan): make check"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite "$top/build-asan" --enable-sanitizers || status=1
tally "$top/build-asan/tests/test-suite.log"

# What each failed test said it failed on, last before the summary so that a
# CI log's tail shows it (the whole logs are in */tests/test-suite.log).
for trs in $(grep -l -E "^:test-result: (FAIL|XPASS|ERROR)" \
	"$top"/build/tests/*/*.trs "$top"/build-asan/tests/*/*.trs 2>/dev/null); do
	echo "--- ${trs%.trs}.log:"
	grep -E "FAIL|ERROR|Sanitizer|runtime error|Traceback" "${trs%.trs}.log" | head -12
done
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
