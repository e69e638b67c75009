#!/bin/sh
# The journal and its key state on a full filesystem (a small tmpfs), asked
# through the sudo plugin (tests/sudo/sudo_front): whatever fails, the journal
# never says sudo.accepted for a refused command, nor sudo.rejected for one
# that was allowed, and every allowed command has its record.  Each call runs
# with the filesystem filled up and then 0, 1 or 2 pages freed, while the
# journal's last page fills up record by record: so every order of "the
# record fits" and "the key state fits" is met.  Root only (mount).
. "$top_srcdir/tests/integration/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root to mount a small tmpfs"
	exit 77
fi
front=$top_builddir/tests/sudo/sudo_front
so=$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so
require_built "$front" "$GRANT_TOOL" "$so"

d=$tmpdir
fs=$d/fs
page=$(getconf PAGESIZE)
mkdir -p "$fs"
if ! mount -t tmpfs -o "size=$((16 * page)),mode=0755" breakglass-test "$fs" 2>"$tmpdir/err"; then
	echo "SKIP: cannot mount a tmpfs: $(cat "$tmpdir/err")"
	exit 77
fi
trap 'umount "$fs"; rm -rf "$tmpdir"' EXIT
trap 'exit 99' INT TERM HUP

write_config "$d"
mkdir -p "$fs/state" "$fs/log"
sed -i -e "s|^state_dir = .*|state_dir = $fs/state|" \
    -e "s|^journal = .*|journal = $fs/log/journal.jsonl|" "$d/breakglass.conf"
front_setup "$d" || exit 99
bg() { "$BREAKGLASS" --config "$d/breakglass.conf" "$@"; }

# fill FREE_PAGES: fills $fs, then frees that many pages.
fill() {
	head -c 1048576 /dev/zero >"$fs/filler" 2>/dev/null
	[ "$1" -gt 0 ] && truncate -s "-$(($1 * page))" "$fs/filler"
	return 0
}

calls=40
accepted=0
refused=0
i=1
while [ $i -le $calls ]; do
	fill $((i % 3))
	"$front" "$so" "$d/breakglass.conf" bg-op -- /usr/bin/true "call-$i" \
	    >"$tmpdir/out" 2>"$tmpdir/err"
	rc=$?
	rm -f "$fs/filler"
	case $rc in
	0) accepted=$((accepted + 1)); echo "$i accepted" >>"$d/outcomes" ;;
	1) refused=$((refused + 1)); echo "$i refused" >>"$d/outcomes"
	   expect_grep "$tmpdir/out" "refused:" ;;
	*) fail "call $i: sudo_front exit $rc: $(cat "$tmpdir/err")" ;;
	esac
	i=$((i + 1))
done
echo "$accepted calls accepted, $refused refused on a full filesystem"
[ "$accepted" -gt 0 ] && ok || fail "no call was accepted: the test exercised nothing"
[ "$refused" -gt 0 ] && ok || fail "no call was refused: the filesystem was never full"

# With room again, the next append adopts any committed record.
expect_status 0 bg note "the filesystem has room again"
expect_status 0 bg verify --key "$d/k1"

# The journal agrees with what happened, call by call.
while read -r n outcome; do
	acc=$(grep -c "\"event\":\"sudo.accepted\".*\"call-$n\"\]" "$fs/log/journal.jsonl")
	rej=$(grep -c "\"event\":\"sudo.rejected\".*\"call-$n\"\]" "$fs/log/journal.jsonl")
	if [ "$outcome" = accepted ]; then
		[ "$acc" -eq 1 ] && [ "$rej" -eq 0 ] && ok ||
		    fail "call $n ran, but the journal holds $acc sudo.accepted and $rej sudo.rejected records for it"
	else
		[ "$acc" -eq 0 ] && ok ||
		    fail "call $n was refused, but the journal says sudo.accepted"
	fi
done <"$d/outcomes"

finish
