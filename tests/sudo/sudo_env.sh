# A temporary break-glass setup inside the real sudo, shared by
# the real-sudo tests (tests/integration/sudo_*.sh) and bench/sudo_overhead.sh.  Sourced (POSIX
# sh); sudo_env_setup runs after tests/integration/lib.sh, which provides
# $tmpdir and write_config.
#
# sudo_env_start SCRIPT ARGS: the four steps below in one (what each test calls).
# sudo_env_check: exits 77 (skip) unless root with sudo and the tools, then
#   re-runs the caller under a lock (other build trees edit /etc/sudo.conf too).
# sudo_env_setup: a user bgtest-PID in accounts = bgtest-*, a sudoers.d entry
#   "NOPASSWD:SETENV: ALL", a config in $d with scope "ops" (/usr/bin/true **,
#   /usr/bin/id -u), a journal (K_1 in $d/k1), a valid grant, and the Plugin
#   line in /etc/sudo.conf; everything is undone on exit.
# Then: as_user SUDO-ARGS, grant FROM UNTIL, records, bg CLI-ARGS,
#   refused REASON SUDO-ARGS, plugin_off / plugin_on.

so=$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so
grant_tool=$top_builddir/tests/sudo/grant_tool

sudo_env_check() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: needs root (creates a user and edits /etc/sudo.conf)"
		exit 77
	fi
	for t in sudo runuser useradd userdel visudo flock ldd; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "SKIP: $t is not installed"
			exit 77
		fi
	done
	if [ ! -x "$grant_tool" ]; then
		echo "SKIP: $grant_tool was not built (make check builds it; cmocka needed)"
		exit 77
	fi
	if ldd "$so" | grep -q 'libasan\|libubsan'; then
		echo "SKIP: sanitizer build: the setuid sudo cannot load an instrumented plugin"
		exit 77
	fi
}

# sudo_env_start SCRIPT ARGS...: the whole preamble of a real-sudo test: check
# (or skip), re-execute SCRIPT under the lock, source lib.sh, set up.
sudo_env_start() {
	sudo_env_check
	sudo_env_lock "$@"
	. "$top_srcdir/tests/integration/lib.sh"
	sudo_env_setup
}

# sudo_env_lock SCRIPT ARGS...: re-executes SCRIPT holding the sudo.conf lock.
sudo_env_lock() {
	if [ -z "${BG_SUDO_ENV_LOCKED:-}" ]; then
		BG_SUDO_ENV_LOCKED=1
		export BG_SUDO_ENV_LOCKED
		exec flock -w 900 /run/lock/breakglass-sudo-test.lock "$@"
	fi
}

user=bgtest-$$
sudoers=/etc/sudoers.d/bgtest-$$
conf_backup=
plugin_line=
d=

sudo_env_cleanup() {
	if [ -e "$conf_backup" ]; then
		cp -p "$conf_backup" /etc/sudo.conf
	elif [ -n "$plugin_line" ]; then
		rm -f /etc/sudo.conf
	fi
	rm -f "$sudoers"
	userdel "$user" >/dev/null 2>&1
	rm -rf "$tmpdir"
}

bg() { "$BREAKGLASS" --config "$d/breakglass.conf" "$@"; }
grant() { "$grant_tool" write "$d/run" "$user" ops "$1" "$2" "$d/approvald.pem"; }
records() { if [ -f "$d/log/journal.jsonl" ]; then wc -l <"$d/log/journal.jsonl"; else echo 0; fi; }
# sudo as the break-glass user, from a directory it may enter.
as_user() { (cd / && runuser -u "$user" -- sudo -n "$@"); }

# refused REASON SUDO-ARGS... (with lib.sh): exit 1, the reason on stderr, one
# sudo.rejected record.
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

plugin_off() {
	if [ -e "$conf_backup" ]; then cp -p "$conf_backup" /etc/sudo.conf; else rm -f /etc/sudo.conf; fi
}
plugin_on() {
	plugin_off
	printf '%s\n' "$plugin_line" >>/etc/sudo.conf
}

sudo_env_setup() {
	d=$tmpdir
	conf_backup=$tmpdir/sudo.conf.orig
	if [ -e /etc/sudo.conf ]; then
		cp -p /etc/sudo.conf "$conf_backup" || exit 99
	fi
	trap sudo_env_cleanup EXIT
	trap 'exit 99' INT TERM HUP

	write_config "$d"
	sed -i "s/^accounts = .*/accounts = bgtest-*/" "$d/breakglass.conf"
	cat >>"$d/breakglass.conf" <<CONF

[scope ops]
description = what the tests may run
command = /usr/bin/true **
command = /usr/bin/id -u
CONF
	"$grant_tool" keygen "$d" approvald >/dev/null || exit 99
	bg journal init >"$d/k1" 2>/dev/null || exit 99
	chmod 0600 "$d/k1"
	grant -10 3000 || exit 99

	useradd -M -N -s /bin/sh "$user" || exit 99
	printf '%s ALL=(ALL) NOPASSWD:SETENV: ALL\n' "$user" >"$sudoers"
	chmod 0440 "$sudoers"
	visudo -cqf "$sudoers" || exit 99
	plugin_line="Plugin sudo_breakglass $so config=$d/breakglass.conf"
	plugin_on
}
