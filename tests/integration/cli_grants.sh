#!/bin/sh
# Integration test of `breakglass status`, `revoke`, `kill-switch` and `expire`
# over real signed grants; with root, `--terminate` ends a real user's processes.
. "$top_srcdir/tests/integration/lib.sh"

: "${GRANT_TOOL:?GRANT_TOOL must name tests/sudo/grant_tool}"
d=$tmpdir
write_config "$d"
bg() { "$BREAKGLASS" --config "$d/breakglass.conf" "$@"; }
"$GRANT_TOOL" keygen "$d" approvald >/dev/null || fail "keygen"
grant() { "$GRANT_TOOL" write "$d/run" "$1" mail-queue "$2" "$3" "$d/approvald.pem" || fail "grant $1"; }
bg journal init >/dev/null 2>&1 || fail "journal init"

grant breakglass -60 3500
grant bg-ops -3000 -60          # expired a minute ago
grant bg-db -60 1800

expect_status 0 bg status
expect_grep "$tmpdir/out" "kill switch: released"
expect_grep "$tmpdir/out" "grants: 3"
expect_grep "$tmpdir/out" "breakglass  operator=alice incident="
expect_grep "$tmpdir/out" "INVALID"
expect_status 0 bg status --json
python3 - "$tmpdir/out" <<'PY' || fail "status --json"
import json, sys
st = json.load(open(sys.argv[1]))
g = {x["account"]: x for x in st["grants"]}
assert st["kill_switch_engaged"] is False
assert g["breakglass"]["valid"] is True and 3400 < g["breakglass"]["seconds_left"] <= 3500
assert g["bg-ops"]["valid"] is False and g["bg-ops"]["seconds_left"] == 0
assert g["breakglass"]["approvers"] == ["bob", "carol"]
PY
ok

# expire removes only the expired grant
expect_status 0 bg expire
expect_grep "$tmpdir/out" "expired: bg-ops"
[ -f "$d/run/grants/bg-ops.json" ] && fail "expired grant still there" || ok
[ -f "$d/run/grants/breakglass.json" ] && ok || fail "valid grant removed by expire"
expect_status 0 bg expire
expect_grep "$tmpdir/out" "nothing expired"

# a tampered grant no longer validates and is removed by expire
sed -i 's/mail-queue/everything/' "$d/run/grants/bg-db.json"
expect_status 0 bg expire
expect_grep "$tmpdir/out" "removed: bg-db"

# so does one whose expires_at was pushed back, or whose host was edited: the
# signed decision's ttl and host bind them
grant bg-db -60 1800
python3 - "$d/run/grants/bg-db.json" <<'PY' || fail "editing expires_at"
import json, sys
g = json.load(open(sys.argv[1]))
g["expires_at"] += 600
json.dump(g, open(sys.argv[1], "w"))
PY
expect_status 0 bg status
expect_grep "$tmpdir/out" "more than the decision's ttl"
expect_status 0 bg expire
expect_grep "$tmpdir/out" "removed: bg-db"
grant bg-db -60 1800
sed -i 's/"host":"mx1.example.net"/"host":"mx2.example.net"/' "$d/run/grants/bg-db.json"
expect_status 0 bg status
expect_grep "$tmpdir/out" "grant is for another host"
expect_status 0 bg expire
expect_grep "$tmpdir/out" "removed: bg-db"

# revoke one, then all
grant bg-db -60 1800
expect_status 0 bg revoke --reason "incident closed" breakglass
[ -f "$d/run/grants/breakglass.json" ] && fail "revoked grant still there" || ok
expect_status 1 bg revoke breakglass
expect_grep "$tmpdir/err" "no grant for breakglass"
grant breakglass -60 3500
expect_status 0 bg revoke --all
expect_grep "$tmpdir/out" "revoked: bg-db"
expect_grep "$tmpdir/out" "revoked: breakglass"
expect_status 2 bg revoke
expect_status 2 bg revoke --all breakglass

# the kill switch revokes everything and refuses until released
grant breakglass -60 3500
expect_status 2 bg kill-switch on
expect_status 0 bg kill-switch on --reason "suspected compromise"
expect_grep "$tmpdir/out" "1 grant(s) revoked"
[ -f "$d/kill-switch" ] && ok || fail "kill switch file missing"
expect_status 1 bg kill-switch status
expect_grep "$tmpdir/out" "ENGAGED"
expect_grep "$tmpdir/out" "suspected compromise"
expect_status 0 bg kill-switch off
expect_status 0 bg kill-switch status

# A grants directory that is unsafe (writable by others, owned by the account,
# a symbolic link to the account's directory) or was moved away: revoke,
# kill-switch, expire and status fail loudly (exit 1, the directory named,
# an "error" record), never "0 revoked"; moved back, its grant is revoked.
g=$d/run/grants
dir_refused() {
	what=$1
	before=$(wc -l <"$d/log/journal.jsonl")
	expect_status 1 bg revoke breakglass
	expect_grep "$tmpdir/err" "$g"
	expect_status 1 bg revoke --all
	expect_grep "$tmpdir/err" "$g"
	expect_status 1 bg kill-switch on --reason "drill: $what"
	expect_grep "$tmpdir/err" "grants NOT revoked: $g"
	expect_grep "$tmpdir/out" "grants NOT revoked"
	expect_status 0 bg kill-switch off
	expect_status 1 bg expire
	expect_grep "$tmpdir/err" "$g"
	expect_status 1 bg status
	expect_grep "$tmpdir/err" "$g"
	tail -n +"$((before + 1))" "$d/log/journal.jsonl" >"$tmpdir/new"
	for e in grant.revoked killswitch.engaged grant.expired; do
		grep -F "\"event\":\"$e\"" "$tmpdir/new" | grep -F '"outcome":"error"' |
		    grep -qF "$g" && ok || fail "$what: no $e error record naming $g"
	done
}
grant breakglass -60 3500
chmod 0777 "$g"
dir_refused "mode 0777"
chmod 0700 "$g"
if [ "$(id -u)" -eq 0 ]; then
	chown 4242:4242 "$g"
	dir_refused "owned by the account"
	chown 0:0 "$g"
fi
mv "$g" "$d/moved"
dir_refused "moved away"
mkdir -m 0700 "$d/home"
cp -p "$d/moved/breakglass.json" "$d/home/"
ln -s "$d/home" "$g"
dir_refused "symbolic link"
rm "$g"
mv "$d/moved" "$g"
expect_status 0 bg revoke breakglass
expect_grep "$tmpdir/out" "revoked: breakglass"
[ -f "$g/breakglass.json" ] && fail "grant survived the move-away and back" || ok

# everything above is in the journal, which verifies
expect_status 0 bg verify
for e in grant.expired grant.revoked killswitch.engaged killswitch.released; do
	expect_grep "$d/log/journal.jsonl" "\"event\":\"$e\""
done
expect_grep "$d/log/journal.jsonl" '"reason":"incident closed"'
expect_grep "$d/log/journal.jsonl" '"reason":"kill switch"'

# --terminate ends a real user's processes (root only)
if [ "$(id -u)" -eq 0 ] && command -v useradd >/dev/null; then
	user=bg-t$$
	useradd -M -s /bin/sh "$user" || fail "useradd"
	trap 'pkill -KILL -u "$user" 2>/dev/null; userdel "$user" 2>/dev/null; rm -rf "$tmpdir"' EXIT
	setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups sleep 300 &
	sleeper=$!
	sleep 0.5
	grant "$user" -60 3500
	expect_status 0 bg revoke --terminate "$user"
	sleep 0.2
	if kill -0 "$sleeper" 2>/dev/null; then fail "process of $user survived --terminate"; else ok; fi
	wait "$sleeper" 2>/dev/null
	expect_grep "$d/log/journal.jsonl" '"processes_signalled":1'

	# Run from inside the session (a root shell with the account's login
	# uid): a root process of the session ends, the tool's own ancestry
	# (that shell) is spared, and a root process outside the session too.
	if [ -w /proc/self/loginuid ]; then
		sleep 302 &
		outside=$!
		cat >"$d/inside.sh" <<'SH'
echo "$1" >/proc/self/loginuid || exit 3
sleep 301 &
echo $! >"$2/sleeper"
"$BREAKGLASS" --config "$2/breakglass.conf" revoke --terminate "$3"
echo "survived: $?"
SH
		grant "$user" -60 3500
		expect_status 0 sh "$d/inside.sh" "$(id -u "$user")" "$d" "$user"
		expect_grep "$tmpdir/out" "survived: 0"
		pid=$(cat "$d/sleeper")
		state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
		if [ -n "$state" ] && [ "$state" != Z ]; then
			fail "root process of the session survived --terminate"
			kill -KILL "$pid"
		else
			ok
		fi
		kill -0 "$outside" 2>/dev/null && ok || fail "root process outside the session ended"
		kill "$outside"
		wait "$outside" 2>/dev/null
	fi
	userdel "$user" || true
else
	echo "note: not root; --terminate not exercised"
fi

finish
