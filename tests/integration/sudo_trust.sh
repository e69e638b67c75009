#!/bin/sh
# What sudo executes must be what the scope names (docs/threat-model.md, "Command
# trust"), attacked through the real sudo as a break-glass account holding a
# valid grant: a symlink the account controls (refused at once, and a swap loop
# racing sudo never runs anything else as root), a multi-call program under
# another name, and options smuggled through a "*" pattern.  Root only.
: "${top_srcdir:?top_srcdir must be set}"
: "${top_builddir:?top_builddir must be set}"
. "$top_srcdir/tests/sudo/sudo_env.sh"
sudo_env_start "$0" "$@"

# Bounds of the race: seconds, and sudo calls at most.
RACE_SECONDS=${BG_RACE_SECONDS:-6}
RACE_CALLS=400

# More commands in scope "ops" (the last section of the config).
cat >>"$d/breakglass.conf" <<CONF
command = /usr/bin/id -u *
command = /usr/bin/systemctl status
CONF
if command -v journalctl >/dev/null 2>&1; then
	echo "command = $(command -v journalctl) --no-pager -n *" >>"$d/breakglass.conf"
fi

# The account's own directory, where it makes its links.
home=$(mktemp -d /tmp/bgtrust.XXXXXX) || exit 99
chown "$user" "$home"
chmod 0755 "$home"
trap 'rm -rf "$home"; sudo_env_cleanup' EXIT
as_account() { (cd / && runuser -u "$user" -- "$@"); }

# 1. A link the account controls is refused as given, whatever it points to now.
as_account ln -s /usr/bin/id "$home/x"
refused "untrusted-path" "$home/x" -u
as_account ln -sfn /usr/bin/true "$home/y"
refused "untrusted-path" "$home/y"
# A root-owned program in a directory the account can write.
cp /usr/bin/true "$home/true"
refused "untrusted-path" "$home/true"
# Merged-/usr links at the top stay trusted: /bin/id is /usr/bin/id.
expect_status 0 as_user /bin/id -u
expect_status 0 as_user /usr/bin/id -u

# 2. The race: the account swaps its link between an in-scope program and
# touch(1) while calling sudo; touch must never run as root.
as_account ln -sfn /usr/bin/true "$home/x"
cat >"$home/swap.sh" <<'EOF'
#!/bin/sh
# swap.sh DIR SECONDS: flips DIR/x between true(1) and touch(1) until SECONDS pass.
end=$(($(date +%s) + $2))
while [ "$(date +%s)" -lt "$end" ]; do
	ln -sfn /usr/bin/touch "$1/x"
	ln -sfn /usr/bin/true "$1/x"
done
EOF
chmod 0755 "$home/swap.sh"
as_account "$home/swap.sh" "$home" "$RACE_SECONDS" &
swapper=$!
accepted=0
calls=0
end=$(($(date +%s) + RACE_SECONDS))
while [ "$(date +%s)" -lt "$end" ] && [ "$calls" -lt "$RACE_CALLS" ]; do
	if as_user "$home/x" "$home/pwned" >/dev/null 2>&1; then
		accepted=$((accepted + 1))
	fi
	calls=$((calls + 1))
done
wait "$swapper"
echo "race: $calls sudo calls in ${RACE_SECONDS}s, $accepted accepted"
[ "$calls" -gt 0 ] && ok || fail "the race made no sudo call"
[ "$accepted" -eq 0 ] && ok || fail "$accepted of $calls sudo calls through a swapped link were accepted"
owned=$(find "$home" -user root -newer "$home/swap.sh" ! -name true 2>/dev/null)
[ -z "$owned" ] && ok || fail "a program ran as root through the swapped link: $owned"

# 3. A multi-call program answers to its name: halt is systemctl under another
# name (a link), and a root-owned alias elsewhere is another program.
if [ -L /usr/sbin/halt ] && [ -x /usr/bin/systemctl ]; then
	refused "untrusted-path" /usr/sbin/halt status
fi
alias_dir=$(mktemp -d /usr/local/sbin/bgtrust.XXXXXX) || exit 99
chmod 0755 "$alias_dir"
ln -s /usr/bin/systemctl "$alias_dir/sc"
refused "untrusted-path" "$alias_dir/sc" status
rm -rf "$alias_dir"

# 4. Options are not arguments: "*" never matches an argument beginning with "-".
refused "command not in scope ops" /usr/bin/id -u --help
expect_status 0 as_user /usr/bin/id -u root
if command -v journalctl >/dev/null 2>&1; then
	refused "command not in scope ops" "$(command -v journalctl)" --no-pager -n --version
fi

expect_status 0 bg verify --key "$d/k1"
finish
