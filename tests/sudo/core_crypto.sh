#!/bin/sh
# The plugin's core does its crypto with libsodium (common/crypto_sodium.c),
# not libcrypto: no OpenSSL configuration (OPENSSL_CONF, which sudo, being
# setuid, ignores anyway; this host does not) changes how a grant is
# verified or the journal is macked, even one that would leave OpenSSL no
# algorithm (default properties fips=yes, no FIPS provider).  The service
# key is read in the one PEM form crypto_common.c parses (LF or CRLF); a
# form only OpenSSL's parser reads is refused, clearly and journaled.  The
# decision signature is verified on every call, and the records the core
# writes verify with `breakglass verify` (OpenSSL): the two backends agree.
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

# The same key with CRLF line ends: the same answer.
cp "$d/approvald.pub" "$d/approvald.pub.orig"
sed -i 's/$/\r/' "$d/approvald.pub"
ask 0
last_event sudo.accepted
# A form OpenSSL would read, text before the armour: refused, and said why.
{ echo "the approval service's key"; cat "$d/approvald.pub.orig"; } >"$d/approvald.pub"
ask 1
expect_grep "$tmpdir/out" "not a PEM public key: no BEGIN line"
last_event sudo.rejected
# A signature that does not match is refused, with either line end.
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
sed 's/$/\r/' "$d/approvald.pub.orig" >"$d/approvald.pub"
for form in crlf lf; do
	ask 1
	expect_grep "$tmpdir/out" "Ed25519 signature does not verify"
	last_event sudo.rejected
	cp "$d/approvald.pub.orig" "$d/approvald.pub"
done

expect_status 0 "$BREAKGLASS" --config "$d/breakglass.conf" verify --key "$d/k1"
finish
