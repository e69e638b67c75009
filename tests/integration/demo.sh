#!/bin/sh
# The README's demo (scripts/demo_story.py) end to end, in a private sandbox:
# keeps the first of the README's two commands working, including the final
# act (offline recovery, expiry, the report filed once the service is back;
# it waits out the recovery grant's 60 s ttl).  Root only.
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the demo runs as root (the sudo plugin trusts root-owned programs only)"
	exit 77
fi
: "${top_srcdir:?}" "${top_builddir:?}"
sandbox=$(mktemp -d /run/bgdemo.XXXXXX) || exit 99
trap 'rm -rf "$sandbox"' EXIT
chmod 0755 "$sandbox"
BREAKGLASS_BUILD=$top_builddir BREAKGLASS_DEMO_DIR=$sandbox/demo \
	python3 "$top_srcdir/scripts/demo_story.py" >"$sandbox/out" 2>&1
rc=$?
cat "$sandbox/out"
[ $rc -eq 0 ] || { echo "FAIL: the demo exited $rc"; exit 1; }
for want in "Access granted for incident INC-2026-0042" \
	"(in scope): accepted" \
	"(outside the scope): refused" \
	"close_session=PAM_SUCCESS" \
	"records verified (chain, links and macs)" \
	"grant ended        logout" \
	"Access granted for incident INC-2026-0043" \
	"sudo $sandbox/demo/bin/postqueue -p: refused" \
	"expired: breakglass" \
	"1 recovery grant(s) reported, 0 failed" \
	"0 recovery grant(s) reported, 0 failed" \
	"approval service page lists the recovery: yes" \
	"[approval service journal] recovery.reported R1-" \
	"bob code accepted at"; do
	grep -qF -- "$want" "$sandbox/out" || { echo "FAIL: the demo did not show: $want"; exit 1; }
done
echo "demo: 1 passed, 0 failed"
