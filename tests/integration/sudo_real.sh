#!/bin/sh
# The plugin inside the real sudo: a temporary break-glass user with a
# NOPASSWD:SETENV: ALL sudoers entry, a temporary Plugin line in
# /etc/sudo.conf (always restored), and real `sudo -n` calls.  Root only.
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (creates a user and edits /etc/sudo.conf)"
	exit 77
fi
for tool in sudo runuser useradd userdel visudo flock; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed"
		exit 77
	fi
done
# Test runs in other build trees edit the same /etc/sudo.conf: one at a time.
if [ -z "${BG_SUDO_REAL_LOCKED:-}" ]; then
	BG_SUDO_REAL_LOCKED=1
	export BG_SUDO_REAL_LOCKED
	exec flock -w 900 /run/lock/breakglass-sudo-test.lock "$0" "$@"
fi

. "$top_srcdir/tests/integration/lib.sh"

so=$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so
tool=$top_builddir/tests/sudo/grant_tool
if [ ! -x "$tool" ]; then
	echo "SKIP: tests/sudo/grant_tool was not built (cmocka missing)"
	exit 77
fi
if ldd "$so" | grep -q 'libasan\|libubsan'; then
	echo "SKIP: sanitizer build: the setuid sudo cannot load an instrumented plugin"
	exit 77
fi

user=bgtest-$$
sudoers=/etc/sudoers.d/bgtest-$$
conf_backup=$tmpdir/sudo.conf.orig
if [ -e /etc/sudo.conf ]; then
	cp -p /etc/sudo.conf "$conf_backup" || exit 99
fi

cleanup() {
	if [ -e "$conf_backup" ]; then
		cp -p "$conf_backup" /etc/sudo.conf
	else
		rm -f /etc/sudo.conf
	fi
	rm -f "$sudoers"
	userdel "$user" >/dev/null 2>&1
	rm -rf "$tmpdir"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

d=$tmpdir
write_config "$d"
sed -i "s/^accounts = .*/accounts = bgtest-*/" "$d/breakglass.conf"
cat >>"$d/breakglass.conf" <<CONF

[scope ops]
description = what the test may run
command = /usr/bin/true **
command = /usr/bin/id -u
CONF
"$tool" keygen "$d" approvald >/dev/null || exit 99
bg() { "$BREAKGLASS" --config "$d/breakglass.conf" "$@"; }
bg journal init >"$d/k1" 2>/dev/null || exit 99
chmod 0600 "$d/k1"
grant() { "$tool" write "$d/run" "$user" ops "$1" "$2" "$d/approvald.pem" || exit 99; }
grant -10 600

useradd -M -N -s /bin/sh "$user" || exit 99
printf '%s ALL=(ALL) NOPASSWD:SETENV: ALL\n' "$user" >"$sudoers"
chmod 0440 "$sudoers"
visudo -cqf "$sudoers" || exit 99
printf 'Plugin sudo_breakglass %s config=%s\n' "$so" "$d/breakglass.conf" >>/etc/sudo.conf

records() { if [ -f "$d/log/journal.jsonl" ]; then wc -l <"$d/log/journal.jsonl"; else echo 0; fi; }
# as_user SUDO-ARGS...: sudo as the break-glass user, from a directory it may enter.
as_user() { (cd / && runuser -u "$user" -- sudo -n "$@"); }
# refused REASON SUDO-ARGS...: exit 1, the reason on stderr, one sudo.rejected record.
refused() {
	reason=$1
	shift
	before=$(records)
	expect_status 1 as_user "$@"
	expect_grep "$tmpdir/err" "breakglass: sudo refused: $reason"
	[ "$(records)" -eq $((before + 1)) ] && ok || fail "no journal record for: $*"
	tail -n 1 "$d/log/journal.jsonl" >"$tmpdir/last"
	expect_grep "$tmpdir/last" '"event":"sudo.rejected"'
}

# In scope: runs, and the record says who, what and why.
expect_status 0 as_user /usr/bin/true
expect_status 0 as_user /bin/true "an argument" "*"
expect_status 0 as_user /usr/bin/id -u
expect_grep "$tmpdir/out" "0"
[ "$(records)" -eq 3 ] && ok || fail "expected 3 records, got $(records)"
expect_grep "$d/log/journal.jsonl" '"event":"sudo.accepted"'
expect_grep "$d/log/journal.jsonl" "\"account\":\"$user\",\"operator\":\"alice\",\"incident\":\"INC-42\",\"request_id\":\"req-1\""
expect_grep "$d/log/journal.jsonl" '"argv":["/bin/true","an argument","*"]'

# Refusals.
refused "command not in scope ops" /usr/bin/whoami
refused "command not in scope ops" /usr/bin/id -g
refused "a shell (-s) is not allowed" -s
refused "a login shell (-i) is not allowed" -i /usr/bin/true
refused "environment variable LD_PRELOAD is not allowed" LD_PRELOAD=/nonexistent.so /usr/bin/true
refused "environment variable BASH_ENV is not allowed" BASH_ENV=/tmp/x /usr/bin/true
refused "scope ops only runs commands as root" -u nobody /usr/bin/id -u
grant -3000 -1
refused "grant refused: grant expired" /usr/bin/true
grant -10 600
touch "$d/kill-switch"
refused "the kill switch is engaged" /usr/bin/true
rm -f "$d/kill-switch"
rm -f "$d/run/grants/$user.json"
refused "no grant for $user" /usr/bin/true
grant -10 600
expect_status 0 as_user /usr/bin/true

expect_status 0 bg verify --key "$d/k1"
expect_grep "$tmpdir/out" "records verified"

# 50 concurrent sudo calls: 50 records, one intact chain.
before=$(records)
i=0
while [ $i -lt 50 ]; do
	(as_user /usr/bin/true a$i >/dev/null 2>&1; echo $? >"$d/rc.$i") &
	i=$((i + 1))
done
wait
bad=$(cat "$d"/rc.* | grep -cv '^0$')
[ "$bad" -eq 0 ] && ok || fail "$bad of 50 concurrent sudo calls failed"
[ "$(records)" -eq $((before + 50)) ] && ok || fail "expected $((before + 50)) records, got $(records)"
expect_status 0 bg verify --key "$d/k1"
expect_grep "$tmpdir/out" "$((before + 50)) records verified"

finish
