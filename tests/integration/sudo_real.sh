#!/bin/sh
# The plugin inside the real sudo: a temporary break-glass user with a
# NOPASSWD:SETENV: ALL sudoers entry, a temporary Plugin line in
# /etc/sudo.conf (always restored), and real `sudo -n` calls.  Root only.
: "${top_srcdir:?top_srcdir must be set}"
: "${top_builddir:?top_builddir must be set}"
. "$top_srcdir/tests/sudo/sudo_env.sh"
sudo_env_start "$0" "$@"

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
grant -3000 -1 || fail "grant_tool"
refused "grant refused: grant expired" /usr/bin/true
grant -10 600 || fail "grant_tool"
touch "$d/kill-switch"
refused "the kill switch is engaged" /usr/bin/true
rm -f "$d/kill-switch"
rm -f "$d/run/grants/$user.json"
refused "no grant for $user" /usr/bin/true
grant -10 600 || fail "grant_tool"
expect_status 0 as_user /usr/bin/true

# The grants directory is checked at every use: writable by others, owned by
# the account, a symbolic link to the account's copy, or moved away: refused.
g=$d/run/grants
chmod 0777 "$g"
refused "grant refused: $g: mode 0777 is writable by group or others" /usr/bin/true
chmod 0700 "$g"
chown "$user" "$g"
refused "grant refused: $g: owned by uid $(id -u "$user"), not root" /usr/bin/true
chown 0 "$g"
mv "$g" "$d/moved"
refused "grant refused: $g: grants directory missing (moved away?)" /usr/bin/true
mkdir -m 0700 "$d/home"
cp -p "$d/moved/$user.json" "$d/home/"
chown "$user" "$d/home"
ln -s "$d/home" "$g"
refused "grant refused: $g: is a symbolic link" /usr/bin/true
rm "$g"
mv "$d/moved" "$g"
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
