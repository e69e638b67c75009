#!/bin/sh
# Counts the syncs (fsync, fdatasync, syncfs) of one sudo decision through
# the real plugin (tests/sudo/sudo_front) with tests/helpers/fsync_count.so
# preloaded: a command allowed with a valid grant appends one record, synced
# once, and rewrites the key state in place, synced once; nothing else is
# synced.  Counts, not timings (docs/performance.md).
. "$top_srcdir/tests/integration/lib.sh"

front=$top_builddir/tests/sudo/sudo_front
so=$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so
shim=$top_builddir/tests/helpers/.libs/fsync_count.so
require_built "$front" "$GRANT_TOOL" "$so" "$shim"

d=$tmpdir
write_config "$d"
front_setup "$d" || exit 99
bg() { "$BREAKGLASS" --config "$d/breakglass.conf" "$@"; }

# sudo_call N: one decision with the shim logging to $d/syncs.N.
sudo_call() {
	# A sanitizer build's runtime must come first; the shim only counts.
	LD_PRELOAD=$shim BG_FSYNC_LOG=$d/syncs.$1 ASAN_OPTIONS=verify_asan_link_order=0 \
	    "$front" "$so" "$d/breakglass.conf" bg-op -- /usr/bin/true "call-$1" \
	    >"$tmpdir/out" 2>"$tmpdir/err"
}

# count FILE PATTERN: lines of FILE matching PATTERN (0 when FILE is absent).
count() {
	if [ -f "$1" ]; then grep -c -- "$2" "$1"; else echo 0; fi
}

for n in 1 2 3; do
	expect_status 0 sudo_call "$n"
	total=$(count "$d/syncs.$n" .)
	journal=$(count "$d/syncs.$n" " $d/log/journal.jsonl\$")
	state=$(count "$d/syncs.$n" " $d/state/journal.state\$")
	echo "sudo call $n: $total syncs ($journal journal, $state key state)"
	[ "$journal" -eq 1 ] && ok || fail "call $n: $journal syncs of the journal, want 1"
	[ "$state" -eq 1 ] && ok || fail "call $n: $state syncs of the key state, want 1"
	[ "$total" -eq 2 ] && ok || {
		fail "call $n: $total syncs in all, want 2"
		sed 's/^/  | /' "$d/syncs.$n" >&2
	}
done
[ "$(grep -c '"event":"sudo.accepted"' "$d/log/journal.jsonl")" -eq 3 ] && ok ||
    fail "the three calls are not all recorded as sudo.accepted"
expect_status 0 bg verify --key "$d/k1"

finish
