#!/bin/sh
# Integration test of `breakglass check-config`: exit codes, "PATH: OK", and
# every problem reported as file:line on stderr.
. "$top_srcdir/tests/integration/lib.sh"

d=$tmpdir
conf=$d/breakglass.conf
check() { c=$1; shift; "$BREAKGLASS" --config "$c" check-config "$@"; }
# Applies a sed script to the configuration, keeping its mode.
edit() { sed "$1" "$conf" >"$conf.tmp" && mv "$conf.tmp" "$conf" && chmod 0644 "$conf"; }
# The line of the first "KEY =" in FILE.
line_of() { grep -n "^$2 *=" "$1" | head -n 1 | cut -d: -f1; }

# A configuration whose every file and directory exists with safe modes.
mkdir "$d/state" "$d/log" "$d/operators" "$d/etc"
chmod 0700 "$d/state" "$d/operators"
chmod 0755 "$d/log" "$d/etc"
printf '%s\n' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f >"$d/host.key"
chmod 0600 "$d/host.key"
cat >"$d/approvald.pub" <<'PEM'
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAQPTqwkuzAd2fHGeyci/WD4ujLhmTUhgPFpNpu8U6n5U=
-----END PUBLIC KEY-----
PEM
chmod 0644 "$d/approvald.pub"
printf '#!/bin/sh\nexit 0\n' >"$d/tool"
chmod 0755 "$d/tool"

write_valid() {
	cat >"$conf" <<CONF
# check-config integration test
[general]
accounts = breakglass bg-*      # glob list
state_dir = $d/state
run_dir = $d/run
kill_switch = $d/etc/kill-switch
journal = $d/log/journal.jsonl

[totp]
operators_dir = $d/operators

[approval]
url = http://127.0.0.1:8443/v1
host_id = mx1.example.net
host_key = $d/host.key
service_key = $d/approvald.pub
approvers = bob carol dave
quorum = 2

[signals]
required = 1

[signal am]
type = alertmanager
url = http://127.0.0.1:9093
match = alertname=~"OutboundSpamSpike|MailQueueBacklog"

[scope queue]
command = /usr/bin/true -p
command = /bin/id -d *
CONF
	chmod 0644 "$conf"
}

# --help: exit 0, usage on stdout.
expect_status 0 check "$conf" --help
expect_grep "$tmpdir/out" "check-config"
expect_grep "$tmpdir/out" "--syntax-only"

# Usage errors: exit 2.
expect_status 2 check "$conf" --no-such-option
expect_status 2 check "$conf" extra-operand

# A valid configuration: full check and syntax only.
write_valid
expect_status 0 check "$conf"
expect_grep "$tmpdir/out" "$conf: OK"
[ -s "$tmpdir/err" ] && fail "stderr not empty on success" || ok
expect_status 0 check "$conf" --syntax-only
expect_grep "$tmpdir/out" "$conf: OK"

# The design's example parses; its files do not exist here, so the full
# check names them at their lines.
full=$d/full.conf
cp "$top_srcdir/tests/data/config/full.conf" "$full"
chmod 0644 "$full"
expect_status 0 check "$full" --syntax-only
expect_grep "$tmpdir/out" "$full: OK"
if [ ! -e /etc/breakglass/host.key ]; then
	expect_status 1 check "$full"
	expect_grep "$tmpdir/err" "$full:$(line_of "$full" host_key): host_key: "
fi

# A broken configuration: exit 1, every problem named file:line on stderr.
write_valid
cat >>"$conf" <<'CONF'
runas = nobody at all
[bogus]
CONF
printf 'grant_ttl = 10x\n' >"$d/extra"
edit "/^accounts =/r $d/extra"
expect_status 1 check "$conf" --syntax-only
expect_grep "$tmpdir/err" "$conf:$(line_of "$conf" grant_ttl): grant_ttl: "
expect_grep "$tmpdir/err" "$conf:$(line_of "$conf" runas): runas: "
expect_grep "$tmpdir/err" "$conf:$(grep -n '^\[bogus\]' "$conf" | cut -d: -f1): unknown section [bogus]"
[ -s "$tmpdir/out" ] && fail "stdout not empty on failure" || ok

# Errors found after parsing are file:line too.
write_valid
edit 's/^quorum = 2$/quorum = 5/'
expect_status 1 check "$conf" --syntax-only
expect_grep "$tmpdir/err" "$conf:$(line_of "$conf" quorum): quorum: 5 is more than the 3 approvers"

# Several approval URLs: each problem names the url's own line.
write_valid
printf 'url = https://approvals-b.example.net/v1\nurl = http://approvals-c.example.net/v1\nurl = http://127.0.0.1:8443/v1\n' >"$d/extra"
edit "/^url = http:\/\/127.0.0.1:8443\/v1/r $d/extra"
expect_status 1 check "$conf" --syntax-only
expect_grep "$tmpdir/err" "$conf:$(grep -n '^url = http://approvals-c' "$conf" | cut -d: -f1): url: the approval service must use https://"
expect_grep "$tmpdir/err" "$conf:$(grep -n '^url = http://127.0.0.1:8443' "$conf" | sed -n 2p | cut -d: -f1): url: \"http://127.0.0.1:8443/v1\" is listed twice"
write_valid
edit "/^url = http:\/\/127.0.0.1:8443\/v1/a url = https:\/\/d.example.net\/v1?x"
expect_status 1 check "$conf" --syntax-only
expect_grep "$tmpdir/err" "$conf:$(grep -n '^url = https://d.example' "$conf" | cut -d: -f1): url: an approval service URL takes no query or fragment"
write_valid
for i in 1 2 3 4 5 6 7 8; do echo "url = https://a$i.example.net/v1"; done >"$d/extra"
edit "/^url = http:\/\/127.0.0.1:8443\/v1/r $d/extra"
expect_status 1 check "$conf" --syntax-only
expect_grep "$tmpdir/err" "$conf:$(grep -n '^url = https://a8.example' "$conf" | cut -d: -f1): url: at most 8 approval service URLs"
write_valid
edit "/^url = http:\/\/127.0.0.1:8443\/v1/a url = https:\/\/approvals-b.example.net\/v1"
expect_status 0 check "$conf" --syntax-only

# File problems: exit 1 with the key's line.
write_valid
chmod 0644 "$d/host.key"
echo "command = $d/tool -x" >>"$conf"
expect_status 1 check "$conf"
expect_grep "$tmpdir/err" "$conf:$(line_of "$conf" host_key): host_key: "
# A program the sudo plugin would not trust as given (here under /tmp).
expect_grep "$tmpdir/err" "$conf:$(grep -n '^command = .*/tool' "$conf" | cut -d: -f1): command: untrusted-path: "
# ...which --syntax-only does not look at.
expect_status 0 check "$conf" --syntax-only
chmod 0600 "$d/host.key"

# A scope program named through a link never matches: say what to name.
if [ -L /usr/sbin/halt ] && [ -x /usr/bin/systemctl ]; then
	write_valid
	echo "command = /usr/sbin/halt" >>"$conf"
	expect_status 1 check "$conf"
	expect_grep "$tmpdir/err" "$conf:$(grep -n '^command = /usr/sbin/halt' "$conf" | cut -d: -f1): command: untrusted-path: /usr/sbin/halt: a symbolic link (name the program itself: /usr/bin/systemctl)"
fi

# Warnings: valid lines that likely allow more than meant; exit 0.
write_valid
cat >>"$conf" <<'CONF'
command = /usr/bin/journalctl --no-pager -n *
command = /usr/bin/journalctl --no-pager --lines=[0-9]*
command = /usr/bin/sed -n p **
CONF
expect_status 0 check "$conf"
expect_grep "$tmpdir/out" "$conf: OK"
expect_grep "$tmpdir/err" "$conf:$(grep -n '^command = .*-n \*' "$conf" | cut -d: -f1): warning: [scope queue] command: journalctl -n takes an optional argument"
expect_grep "$tmpdir/err" "$conf:$(grep -n '^command = /usr/bin/sed' "$conf" | cut -d: -f1): warning: [scope queue] command: a final \"**\" lets any further arguments through"
[ "$(grep -c warning "$tmpdir/err")" -eq 2 ] && ok || fail "expected 2 warnings"

# The file itself: group-writable, symlinked, missing.
write_valid
chmod 0664 "$conf"
expect_status 1 check "$conf" --syntax-only
expect_grep "$tmpdir/err" "$conf: "
chmod 0644 "$conf"
ln -s "$conf" "$d/link.conf"
expect_status 1 check "$d/link.conf" --syntax-only
expect_grep "$tmpdir/err" "$d/link.conf: "
expect_status 1 check "$d/missing.conf" --syntax-only
expect_grep "$tmpdir/err" "$d/missing.conf"

# Control characters from the file never reach the terminal raw.
write_valid
printf '[scope \033[31mred]\n' >>"$conf"
expect_status 1 check "$conf" --syntax-only
if grep -q "$(printf '\033')" "$tmpdir/err"; then
	fail "an escape character reached stderr"
else
	ok
fi

finish
