#!/bin/sh
# The front of the sudo plugin decides "not ours" by itself: a user who is
# not a break-glass account is approved without loading the core, libcrypto
# or json-c (the dynamic loader's own trace, LD_DEBUG=files, shows what was
# loaded).  Everything else goes to the core, which decides as strictly as
# ever; a core that is missing or not trusted refuses everyone it was needed
# for, and names itself.
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
other=$(id -nu 65534)

# ask SO USER: asks SO about /usr/bin/true for USER, tracing what is loaded.
ask() {
	LD_DEBUG=files LD_DEBUG_OUTPUT=$tmpdir/ld "$sudo_front" "$1" "$conf" "$2" \
		-- /usr/bin/true >"$tmpdir/out" 2>"$tmpdir/err"
	status=$?
	cat "$tmpdir"/ld.* >"$tmpdir/loaded" 2>/dev/null
	rm -f "$tmpdir"/ld.*
}
expect_answer() {
	if [ "$status" -ne "$1" ]; then
		fail "$2: expected exit $1, got $status"
		sed 's/^/  stdout: /' "$tmpdir/out" >&2
		sed 's/^/  stderr: /' "$tmpdir/err" >&2
	else
		ok
	fi
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
ask "$front" "$other"
expect_answer 0 "not a break-glass account"
expect_not_loaded sudo_breakglass_core "not a break-glass account"
expect_not_loaded libcrypto "not a break-glass account"
expect_not_loaded libjson-c "not a break-glass account"

# A break-glass account: the core decides (no grant: refused).
ask "$front" bg-op
expect_answer 1 "break-glass account without a grant"
expect_grep "$tmpdir/out" "refused: no grant"
expect_loaded sudo_breakglass_core "break-glass account"

# A bad value outside [general] accounts: only break-glass accounts are
# concerned, and the core refuses them naming file:line.
cp "$conf" "$tmpdir/good.conf"
sed -i 's/^quorum = 2/quorum = many/' "$conf"
line=$(grep -n '^quorum' "$conf" | cut -d: -f1)
ask "$front" "$other"
expect_answer 0 "bad value elsewhere, not a break-glass account"
expect_not_loaded sudo_breakglass_core "bad value elsewhere, not a break-glass account"
ask "$front" bg-op
expect_answer 1 "bad value elsewhere, break-glass account"
expect_grep "$tmpdir/out" "breakglass.conf:$line: quorum"

# Whatever prevents the decision defers to the core, which refuses.
# A syntax error anywhere:
cp "$tmpdir/good.conf" "$conf"
printf 'no equals sign here\n' >>"$conf"
ask "$front" "$other"
expect_answer 1 "syntax error"
expect_grep "$tmpdir/out" "breakglass.conf:$(wc -l <"$conf"): expected"
# no accounts key, or a pattern the full parser refuses:
cp "$tmpdir/good.conf" "$conf"
sed -i '/^accounts = /d' "$conf"
ask "$front" "$other"
expect_answer 1 "no accounts"
expect_grep "$tmpdir/out" 'missing required key "accounts"'
cp "$tmpdir/good.conf" "$conf"
sed -i 's|^accounts = .*|accounts = bg-*/x|' "$conf"
ask "$front" "$other"
expect_answer 1 "account pattern with a slash"
expect_grep "$tmpdir/out" "account pattern must not contain '/'"
# a config others may write (they could remove themselves from accounts):
cp "$tmpdir/good.conf" "$conf"
chmod 0666 "$conf"
ask "$front" "$other"
expect_answer 1 "writable config"
expect_grep "$tmpdir/out" "mode 0666 is too open"
chmod 0644 "$conf"
# a symbolic link instead of the config:
mv "$conf" "$tmpdir/real.conf"
ln -s "$tmpdir/real.conf" "$conf"
ask "$front" "$other"
expect_answer 1 "config symlink"
expect_grep "$tmpdir/out" "symbolic link"
rm -f "$conf"
mv "$tmpdir/real.conf" "$conf"

# The front alone: users who are not break-glass accounts do not notice;
# break-glass accounts are refused, and told which core is missing.
cp "$front" "$plugdir/sudo_breakglass.so"
ask "$plugdir/sudo_breakglass.so" "$other"
expect_answer 0 "missing core, not a break-glass account"
ask "$plugdir/sudo_breakglass.so" bg-op
expect_answer 1 "missing core"
expect_grep "$tmpdir/out" "$plugdir/sudo_breakglass_core.so"
# A core others could replace, or reached through a symbolic link, is not loaded.
cp "$core" "$plugdir/sudo_breakglass_core.so"
chmod 0777 "$plugdir"
ask "$plugdir/sudo_breakglass.so" bg-op
expect_answer 1 "core in a world-writable directory"
expect_grep "$tmpdir/out" "untrusted-path"
expect_not_loaded sudo_breakglass_core "core in a world-writable directory"
chmod 0755 "$plugdir"
rm "$plugdir/sudo_breakglass_core.so"
ln -s "$core" "$plugdir/sudo_breakglass_core.so"
ask "$plugdir/sudo_breakglass.so" bg-op
expect_answer 1 "core symlink"
expect_grep "$tmpdir/out" "a symbolic link"
expect_not_loaded sudo_breakglass_core "core symlink"
# Which is also the check for a core that is really there and trusted.
rm "$plugdir/sudo_breakglass_core.so"
cp "$core" "$plugdir/sudo_breakglass_core.so"
ask "$plugdir/sudo_breakglass.so" bg-op
expect_answer 1 "copied core"
expect_grep "$tmpdir/out" "refused: no grant"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
