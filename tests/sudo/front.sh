#!/bin/sh
# The front of the sudo plugin decides "not ours" by itself: a user who is
# not a break-glass account is approved without loading the core, libcrypto
# or json-c (the dynamic loader's own trace, LD_DEBUG=files, shows what was
# loaded).  Everything else goes to the core, which decides as strictly as
# ever; a core that is missing or not trusted refuses everyone it was needed
# for, names itself, and syslogs the refusal (captured through a /dev/log of
# its own in a private mount namespace).
: "${top_builddir:?top_builddir must be set}"
. "$top_srcdir/tests/integration/lib.sh"

front=$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so
core=$top_builddir/sudo_breakglass/.libs/sudo_breakglass_core.so
sudo_front=$top_builddir/tests/sudo/sudo_front
if [ "$(id -u)" -ne 0 ]; then
	# The core is trusted only in root-owned directories.
	echo "SKIP: needs root"
	exit 77
fi
# A directory of the build tree (the temporary one is under /tmp, which
# others may write) for copies of the plugin.
plugdir=$(mktemp -d "$top_builddir/tests/sudo/front.XXXXXX") || exit 99
chmod 0755 "$plugdir"
trap 'rm -rf "$tmpdir" "$plugdir"' EXIT

write_config "$tmpdir"
conf=$tmpdir/breakglass.conf
"$BREAKGLASS" --config "$conf" journal init >/dev/null 2>&1 || exit 99
# An empty grants directory: a break-glass account is refused for "no grant".
mkdir -m 0700 "$tmpdir/run/grants" || exit 99
other=$(id -nu 65534)

# ask STATUS SO USER: asks SO about /usr/bin/true for USER, expecting exit
# STATUS (0 accepted, 1 refused), and keeps the loader's trace of what was
# loaded in $tmpdir/loaded.
ask() {
	expect_status "$1" env LD_DEBUG=files LD_DEBUG_OUTPUT="$tmpdir/ld" \
		"$sudo_front" "$2" "$conf" "$3" -- /usr/bin/true
	cat "$tmpdir"/ld.* >"$tmpdir/loaded" 2>/dev/null
	rm -f "$tmpdir"/ld.*
}
# syslog_of CMD...: runs CMD in a private mount namespace whose /dev/log is
# a listener that writes what it receives to $tmpdir/syslog (the host may
# have no syslog daemon, and its log is not ours to read).  Exits 99 when no
# namespace can be made.
syslog_of() {
	mkdir -p "$tmpdir/olddev"
	: >"$tmpdir/syslog"
	unshare -m --propagation private sh -c '
		old=$1 log=$2
		shift 2
		mount --bind /dev "$old" && mount -t tmpfs -o mode=0755 none /dev || exit 99
		for n in null zero urandom random; do
			touch "/dev/$n" && mount --bind "$old/$n" "/dev/$n" || exit 99
		done
		python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
s.settimeout(2)
with open(sys.argv[1], \"a\") as out:
    try:
        while True:
            out.write(s.recv(4096).decode(errors=\"replace\") + \"\\n\")
            out.flush()
    except socket.timeout:
        pass
" "$log" &
		tries=0
		while [ ! -S /dev/log ] && [ $tries -lt 100 ]; do
			sleep 0.1
			tries=$((tries + 1))
		done
		"$@"
		rc=$?
		wait
		exit $rc
	' sh "$tmpdir/olddev" "$tmpdir/syslog" "$@" >"$tmpdir/out" 2>"$tmpdir/err"
}

expect_loaded() {
	if grep -q "file=[^ ]*$1" "$tmpdir/loaded"; then ok; else fail "$2: $1 was not loaded"; fi
}
expect_not_loaded() {
	if grep -q "file=[^ ]*$1" "$tmpdir/loaded"; then
		fail "$2: $1 was loaded"
		grep "file=" "$tmpdir/loaded" | sed 's/^/  /' >&2
	else
		ok
	fi
}

# Not a break-glass account: approved by the front alone.
ask 0 "$front" "$other"
expect_not_loaded sudo_breakglass_core "not a break-glass account"
expect_not_loaded libcrypto "not a break-glass account"
expect_not_loaded libjson-c "not a break-glass account"

# A break-glass account: the core decides (no grant: refused).
ask 1 "$front" bg-op
expect_grep "$tmpdir/out" "refused: no grant"
expect_loaded sudo_breakglass_core "break-glass account"

# A bad value outside [general] accounts: only break-glass accounts are
# concerned, and the core refuses them naming file:line.
cp "$conf" "$tmpdir/good.conf"
sed -i 's/^quorum = 2/quorum = many/' "$conf"
line=$(grep -n '^quorum' "$conf" | cut -d: -f1)
ask 0 "$front" "$other"
expect_not_loaded sudo_breakglass_core "bad value elsewhere, not a break-glass account"
ask 1 "$front" bg-op
expect_grep "$tmpdir/out" "breakglass.conf:$line: quorum"

# Whatever prevents the decision defers to the core, which refuses.
# A syntax error anywhere:
cp "$tmpdir/good.conf" "$conf"
printf 'no equals sign here\n' >>"$conf"
ask 1 "$front" "$other"
expect_grep "$tmpdir/out" "breakglass.conf:$(wc -l <"$conf"): expected"
# no accounts key, or a pattern the full parser refuses:
cp "$tmpdir/good.conf" "$conf"
sed -i '/^accounts = /d' "$conf"
ask 1 "$front" "$other"
expect_grep "$tmpdir/out" 'missing required key "accounts"'
cp "$tmpdir/good.conf" "$conf"
sed -i 's|^accounts = .*|accounts = bg-*/x|' "$conf"
ask 1 "$front" "$other"
expect_grep "$tmpdir/out" "account pattern must not contain '/'"
# a config others may write (they could remove themselves from accounts):
cp "$tmpdir/good.conf" "$conf"
chmod 0666 "$conf"
ask 1 "$front" "$other"
expect_grep "$tmpdir/out" "mode 0666 is too open"
chmod 0644 "$conf"
# a symbolic link instead of the config:
mv "$conf" "$tmpdir/real.conf"
ln -s "$tmpdir/real.conf" "$conf"
ask 1 "$front" "$other"
expect_grep "$tmpdir/out" "symbolic link"
rm -f "$conf"
mv "$tmpdir/real.conf" "$conf"

# The front alone: users who are not break-glass accounts do not notice;
# break-glass accounts are refused, and told which core is missing.
cp "$front" "$plugdir/sudo_breakglass.so"
ask 0 "$plugdir/sudo_breakglass.so" "$other"
ask 1 "$plugdir/sudo_breakglass.so" bg-op
expect_grep "$tmpdir/out" "$plugdir/sudo_breakglass_core.so"
# The refusal is also syslogged (it cannot be journaled without the core).
syslog_of "$sudo_front" "$plugdir/sudo_breakglass.so" "$conf" bg-op -- /usr/bin/true
case $? in
99) echo "note: no mount namespace here: the syslog line is not checked" ;;
1)
	ok
	# authpriv.err: <83>
	expect_grep "$tmpdir/syslog" "<83>"
	expect_grep "$tmpdir/syslog" "breakglass["
	expect_grep "$tmpdir/syslog" "event=sudo.rejected outcome=error account=bg-op reason="
	expect_grep "$tmpdir/syslog" "$plugdir/sudo_breakglass_core.so"
	;;
*) fail "missing core under syslog capture: expected exit 1" ;;
esac
# A core others could replace, or reached through a symbolic link, is not loaded.
cp "$core" "$plugdir/sudo_breakglass_core.so"
chmod 0777 "$plugdir"
ask 1 "$plugdir/sudo_breakglass.so" bg-op
expect_grep "$tmpdir/out" "untrusted-path"
expect_not_loaded sudo_breakglass_core "core in a world-writable directory"
chmod 0755 "$plugdir"
rm "$plugdir/sudo_breakglass_core.so"
ln -s "$core" "$plugdir/sudo_breakglass_core.so"
ask 1 "$plugdir/sudo_breakglass.so" bg-op
expect_grep "$tmpdir/out" "a symbolic link"
expect_not_loaded sudo_breakglass_core "core symlink"
# Which is also the check for a core that is really there and trusted.
rm "$plugdir/sudo_breakglass_core.so"
cp "$core" "$plugdir/sudo_breakglass_core.so"
ask 1 "$plugdir/sudo_breakglass.so" bg-op
expect_grep "$tmpdir/out" "refused: no grant"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
