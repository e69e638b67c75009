#!/bin/sh
# Counts the syncs (fsync, fdatasync, syncfs) of one sudo decision through
# the real plugin (tests/sudo/sudo_front) with tests/helpers/fsync_count.so
# preloaded: a command allowed with a valid grant appends one record, synced
# once, and rewrites the key state in place without a sync of its own (the
# journal's sync flushes it: docs/journal.md, section 4.1); nothing else is
# synced.  With strace, checks the order that makes that safe.  With the key
# state on another file system than the journal, the state is synced itself.
# Counts and order, not timings (docs/performance.md).
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

# check_syncs N JOURNAL_SYNCS OTHER_SYNCS [OTHER]: call N's syncs of the
# journal and of OTHER (default: the key state); nothing else is synced.
check_syncs() {
	other_path=${4:-$d/state/journal.state}
	total=$(count "$d/syncs.$1" .)
	journal=$(count "$d/syncs.$1" " $d/log/journal.jsonl\$")
	other_syncs=$(count "$d/syncs.$1" " $other_path\$")
	echo "sudo call $1: $total syncs ($journal journal, $other_syncs $other_path)"
	[ "$journal" -eq "$2" ] && ok || fail "call $1: $journal syncs of the journal, want $2"
	[ "$other_syncs" -eq "$3" ] && ok ||
	    fail "call $1: $other_syncs syncs of $other_path, want $3"
	[ "$total" -eq $(($2 + $3)) ] && ok || {
		fail "call $1: $total syncs in all, want $(($2 + $3))"
		sed 's/^/  | /' "$d/syncs.$1" >&2
	}
}

# The first append creates the journal: its name is synced into the
# directory before the record goes in (and again after a rotation, below).
expect_status 0 sudo_call 0
check_syncs 0 1 1 "$d/log"

for n in 1 2 3; do
	expect_status 0 sudo_call "$n"
	check_syncs "$n" 1 0
done

# The order that lets one sync serve both files: the state's previous
# rewrite is written back (and waited for) before the record is written,
# the record is synced, and only then is the state rewritten, its
# write-back started.  strace -y names each descriptor's file.
# traced_call: one decision under strace, its calls in $d/trace.
traced_call() {
	# LeakSanitizer cannot run under ptrace: the leak check is the other calls' job.
	ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 strace -f -qq -y -o "$d/trace" \
	    -e trace=write,pwrite64,fdatasync,fsync,sync_file_range \
	    "$front" "$so" "$d/breakglass.conf" bg-op -- /usr/bin/true traced \
	    >"$tmpdir/out" 2>"$tmpdir/err" || fail "traced call: exit $?"
}

# trace_order: the journal's and the key state's writes and syncs in $d/trace.
trace_order() {
	sed -n \
	    -e "s|.*sync_file_range(.*<$d/state/journal.state>.*WAIT_BEFORE.*|settle|p" \
	    -e "s|.*sync_file_range(.*<$d/state/journal.state>, 0, 512, SYNC_FILE_RANGE_WRITE).*|writeback|p" \
	    -e "s|.*pwrite64(.*<$d/state/journal.state>.*|rewrite|p" \
	    -e "s|.* write(.*<$d/log/journal.jsonl>.*|record|p" \
	    -e "s|.*sync(.*<$d/log/journal.jsonl>.*|journal-sync|p" \
	    -e "s|.*sync(.*<$d/state/journal.state>.*|state-sync|p" "$d/trace" | tr '\n' ' '
}

if command -v strace >/dev/null 2>&1 && strace -f -qq -o /dev/null true 2>/dev/null; then
	traced_call
	order=$(trace_order)
	echo "traced call: $order"
	[ "$order" = "settle record journal-sync rewrite writeback " ] && ok ||
	    fail "order of one append: '$order'"
	# A state one record behind (its rewrite lost in a crash): the append
	# adopts the record, syncs it (its writer may have died before its own
	# sync) before the state that names it is rewritten, then goes on.
	cp -p "$d/state/journal.state" "$d/state.saved"
	expect_status 0 sudo_call lag
	cp "$d/state.saved" "$d/state/journal.state"
	traced_call
	order=$(trace_order)
	echo "traced call after a lost state: $order"
	[ "$order" = "journal-sync rewrite writeback settle record journal-sync rewrite writeback " ] &&
	    ok || fail "order of an adopting append: '$order'"
else
	echo "strace not installed or not allowed to trace: the order of an append is not checked"
fi

# The key state on another file system (a tmpfs) than the journal: the
# journal's sync does not reach it, so it is synced itself.
other=$(mktemp -d /dev/shm/bgfsync.XXXXXX) || exit 99
trap 'rm -rf "$tmpdir" "$other"' EXIT
chmod 0755 "$other"
if [ "$(stat -c %d "$other")" != "$(stat -c %d "$d/state")" ]; then
	cp -p "$d/state/journal.state" "$other/journal.state"
	sed -i "s|^state_dir = .*|state_dir = $other|" "$d/breakglass.conf"
	expect_status 0 sudo_call 4
	check_syncs 4 1 1 "$other/journal.state"
	expect_status 0 sudo_call 5
	check_syncs 5 1 1 "$other/journal.state"
	# Later checks read the state where the configuration now names it.
	cp -p "$other/journal.state" "$d/state/journal.state"
	sed -i "s|^state_dir = .*|state_dir = $d/state|" "$d/breakglass.conf"
else
	echo "/dev/shm is on the same file system as $d: the other-file-system case is not checked"
fi
# Rotated away: the append that creates the new journal syncs its name into
# the directory before the record goes in, once; the next one does not.
mv "$d/log/journal.jsonl" "$d/log/journal.jsonl.1"
expect_status 0 sudo_call 6
check_syncs 6 1 1 "$d/log"
expect_status 0 sudo_call 7
check_syncs 7 1 0
expect_status 0 bg verify --key "$d/k1" "$d/log/journal.jsonl.1" "$d/log/journal.jsonl"

want=$(grep -c '' "$d/log/journal.jsonl")
[ "$(grep -c '"event":"sudo.accepted"' "$d/log/journal.jsonl")" -eq "$want" ] && ok ||
    fail "not every call is recorded as sudo.accepted"
expect_status 0 bg verify --key "$d/k1"

finish
