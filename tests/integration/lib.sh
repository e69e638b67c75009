# Shared helpers for the integration tests (POSIX sh).  Sourced, not run.
set -u

: "${BREAKGLASS:?BREAKGLASS must name the built breakglass binary}"
: "${top_srcdir:?top_srcdir must be set}"

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/bgit.XXXXXX") || exit 99
chmod 0755 "$tmpdir"
trap 'rm -rf "$tmpdir"' EXIT
failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

ok() {
	checks=$((checks + 1))
}

# expect_status WANT CMD...: runs CMD, keeps stdout/stderr in $tmpdir/out and $tmpdir/err.
expect_status() {
	want=$1
	shift
	"$@" >"$tmpdir/out" 2>"$tmpdir/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "expected exit $want, got $got: $*"
		sed 's/^/  stdout: /' "$tmpdir/out" >&2
		sed 's/^/  stderr: /' "$tmpdir/err" >&2
	else
		ok
	fi
}

# expect_grep FILE PATTERN: fixed-string match.
expect_grep() {
	if grep -qF -- "$2" "$1"; then
		ok
	else
		fail "$1 does not contain: $2"
		sed 's/^/  | /' "$1" >&2
	fi
}

# require_built FILE...: exits 77 (skip), naming the first FILE not built.
require_built() {
	for f in "$@"; do
		if [ ! -e "$f" ]; then
			echo "SKIP: $f was not built"
			exit 77
		fi
	done
}

# write_config DIR: a minimal valid breakglass.conf whose paths live in DIR.
# Its host_id is the host tests/sudo/grant_tool writes grants for.
write_config() {
	d=$1
	mkdir -p "$d/state" "$d/run" "$d/log" "$d/operators"
	chmod 0755 "$d/state" "$d/run" "$d/log" "$d/operators"
	cat >"$d/breakglass.conf" <<CONF
[general]
accounts = breakglass bg-*
state_dir = $d/state
run_dir = $d/run
kill_switch = $d/kill-switch
journal = $d/log/journal.jsonl

[totp]
operators_dir = $d/operators

[approval]
url = http://127.0.0.1:1/v1
host_id = mx1.example.net
host_key = $d/host.key
service_key = $d/approvald.pub
approvers = bob carol dave
quorum = 2

[signals]
required = 0

[scope mail-queue]
description = Inspect and purge the Postfix queue
command = /usr/sbin/postqueue -p
command = /usr/sbin/postsuper -d *
CONF
	chmod 0644 "$d/breakglass.conf"
}

# front_setup DIR: for the plugin host tests/sudo/sudo_front, after
# write_config DIR: a scope "ops" (/usr/bin/true **), the service's key pair,
# a journal (K_1 in DIR/k1) and a valid grant for bg-op.
front_setup() {
	cat >>"$1/breakglass.conf" <<CONF

[scope ops]
description = what the test may run
command = /usr/bin/true **
CONF
	"$GRANT_TOOL" keygen "$1" approvald >/dev/null &&
	    "$BREAKGLASS" --config "$1/breakglass.conf" journal init >"$1/k1" 2>/dev/null &&
	    chmod 0600 "$1/k1" &&
	    "$GRANT_TOOL" write "$1/run" bg-op ops -10 3000 "$1/approvald.pem"
}

finish() {
	echo "$checks checks, $failures failures"
	[ "$failures" -eq 0 ]
}
