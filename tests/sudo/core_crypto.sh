#!/bin/sh
# The plugin's core is libcrypto's only user inside sudo and initialises it
# lean (common/crypto.c, bg_crypto_init_sole_user): it reads no OpenSSL
# configuration, so neither openssl.cnf nor OPENSSL_CONF (which sudo, being
# setuid, ignores anyway; this host does not) changes how a grant is
# verified or the journal is macked.  A configuration that would leave no
# algorithm usable (default properties fips=yes, no FIPS provider) leaves a
# valid grant accepted and journaled.  What stays as strict: the decision
# signature is verified on every call, with the service key in OpenSSL's
# PEM form (imported raw) as in any other PEM form (the full parser).
. "$top_srcdir/tests/integration/lib.sh"

front=$top_builddir/tests/sudo/sudo_front
so=$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so
if [ "$(id -u)" -ne 0 ]; then
	# The core is trusted only in root-owned directories.
	echo "SKIP: needs root"
	exit 77
fi
require_built "$front" "$GRANT_TOOL" "$so"

d=$tmpdir
write_config "$d"
front_setup "$d" || exit 99
cat >"$d/unusable.cnf" <<'CNF'
openssl_conf = init
[init]
alg_section = algorithms
[algorithms]
default_properties = fips=yes
CNF

# ask STATUS: one decision about /usr/bin/true for bg-op, OPENSSL_CONF set.
ask() {
	expect_status "$1" env OPENSSL_CONF="$d/unusable.cnf" \
	    "$front" "$so" "$d/breakglass.conf" bg-op -- /usr/bin/true
}
last_event() {
	tail -n 1 "$d/log/journal.jsonl" >"$tmpdir/last"
	expect_grep "$tmpdir/last" "\"event\":\"$1\""
}

ask 0
expect_grep "$tmpdir/out" "accepted"
last_event sudo.accepted

# The same key in a PEM form of its own (CRLF line ends): the same answer.
cp "$d/approvald.pub" "$d/approvald.pub.orig"
sed -i 's/$/\r/' "$d/approvald.pub"
ask 0
last_event sudo.accepted
# ... and the same refusal of a signature that does not match, in both forms.
python3 - "$d/run/grants/bg-op.json" <<'PY' || exit 99
import json, sys
path = sys.argv[1]
with open(path) as f:
    grant = json.load(f)
sig = grant["decision_signature"]
grant["decision_signature"] = ("B" if sig[0] != "B" else "C") + sig[1:]
with open(path, "w") as f:
    json.dump(grant, f, separators=(",", ":"))
PY
for form in crlf openssl; do
	ask 1
	expect_grep "$tmpdir/out" "Ed25519 signature does not verify"
	last_event sudo.rejected
	cp "$d/approvald.pub.orig" "$d/approvald.pub"
done

expect_status 0 "$BREAKGLASS" --config "$d/breakglass.conf" verify --key "$d/k1"
finish
