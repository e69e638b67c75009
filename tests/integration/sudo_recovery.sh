#!/bin/sh
# sudo within a recovery grant (protocol R1, docs/protocol.md section 11)
# through the real sudo: the grant the module writes after offline recovery
# (written here by tests/sudo/grant_tool from the approvers' host keys) runs
# what its scope allows and nothing else; expired, over-long, short of the
# quorum, edited or with [recovery] disabled it is refused.  Root only.
: "${top_srcdir:?top_srcdir must be set}"
: "${top_builddir:?top_builddir must be set}"
. "$top_srcdir/tests/sudo/sudo_env.sh"
sudo_env_start "$0" "$@"

# Each approver's K_A on "their laptop"; the host keeps K_AH in keys_dir.
mkdir -m 0700 "$d/rkeys" "$d/laptop"
for a in bob carol dave; do
	"$BREAKGLASS" recovery keygen --out "$d/laptop/$a" >/dev/null 2>&1 || exit 99
	(umask 077 && "$BREAKGLASS" recovery export-host --key "$d/laptop/$a" \
	    --host mx1.example.net >"$d/rkeys/$a") || exit 99
done
cat >>"$d/breakglass.conf" <<CONF

[recovery]
enabled = yes
approvers = bob carol dave
keys_dir = $d/rkeys
ttl = 10m
scopes = ops

[scope diag]
command = /usr/bin/id -u
CONF

rgrant() { "$grant_tool" recovery "$d/run" "$user" ops "$@" "$d/rkeys" bob carol; }
gfile=$d/run/grants/$user.json

# edit KEY JSON-VALUE: a fresh valid recovery grant with one member changed.
edit() {
	rgrant -10 300 || fail "grant_tool recovery"
	python3 - "$gfile" "$1" "$2" <<'PY' || fail "edit $1"
import json, sys
path, key, value = sys.argv[1:4]
with open(path) as f:
    g = json.load(f)
g[key] = json.loads(value)
with open(path, "w") as f:
    json.dump(g, f)
PY
}

# In scope: runs, journaled with the recovery grant's request id.
rgrant -10 300 || fail "grant_tool recovery"
expect_grep "$gfile" '"recovery":true'
expect_status 0 as_user /usr/bin/id -u
expect_grep "$tmpdir/out" "0"
tail -n 1 "$d/log/journal.jsonl" >"$tmpdir/last"
expect_grep "$tmpdir/last" '"event":"sudo.accepted"'
expect_grep "$tmpdir/last" '"request_id":"R1-ABCD2345"'
expect_status 0 as_user /usr/bin/true an argument

# The same scope rules as any grant.
refused "command not in scope ops" /usr/bin/whoami
refused "command not in scope ops" /usr/bin/id -g
refused "scope ops only runs commands as root" -u nobody /usr/bin/id -u

# Expired, longer than [recovery] ttl, short of the quorum.
rgrant -300 -1 || fail "grant_tool recovery"
refused "grant refused: grant expired" /usr/bin/true
rgrant -10 1200 || fail "grant_tool recovery"
refused "grant refused: grant lasts 1210 s, more than" /usr/bin/true
"$grant_tool" recovery "$d/run" "$user" ops -10 300 "$d/rkeys" bob || fail "grant_tool"
refused "grant refused: recovery record holds 1 approvals, quorum 2" /usr/bin/true

# Edited by hand: every member that matters is bound to the recomputed codes.
edit operator '"mallory"'
refused "grant refused: recovery record does not match the grant" /usr/bin/true
edit approvers '["bob", "dave"]'
refused "grant refused: recovery approvals do not match the grant's approvers" /usr/bin/true
edit incident '"INC-43"'
refused "grant refused: recovery record does not match the grant" /usr/bin/true
edit recovery 'false'
refused 'grant refused: '"$gfile"': member "recovery" must be true' /usr/bin/true
edit decision '"{}"'
refused "grant refused: recovery record is malformed" /usr/bin/true
# The record rewritten consistently (details, approvers) but without the
# approvers' keys: the recomputed codes differ.
rgrant -10 300 || fail "grant_tool recovery"
python3 - "$gfile" <<'PY' || fail "rewrite the record"
import json, sys
with open(sys.argv[1]) as f:
    g = json.load(f)
r = json.loads(g["decision"])
r["approvals"][1]["code"] = "%08d" % ((int(r["approvals"][1]["code"]) + 1) % 10**8)
g["decision"] = json.dumps(r, separators=(",", ":"))
with open(sys.argv[1], "w") as f:
    json.dump(g, f)
PY
refused "grant refused:" /usr/bin/true
expect_grep "$tmpdir/err" "carol"

# A recovery grant for a scope outside [recovery] scopes.
"$grant_tool" recovery "$d/run" "$user" diag -10 300 "$d/rkeys" bob carol || fail "grant_tool"
refused "grant refused: scope diag is not a recovery scope" /usr/bin/id -u

# Disabling [recovery] invalidates every recovery grant at once.
rgrant -10 300 || fail "grant_tool recovery"
expect_status 0 as_user /usr/bin/true
sed -i 's/^enabled = yes/enabled = no/' "$d/breakglass.conf"
refused "grant refused: recovery grant, but [recovery] is not enabled" /usr/bin/true
sed -i 's/^enabled = no/enabled = yes/' "$d/breakglass.conf"

# The kill switch applies as to any grant.
touch "$d/kill-switch"
refused "the kill switch is engaged" /usr/bin/true
rm -f "$d/kill-switch"
expect_status 0 as_user /usr/bin/true

expect_status 0 bg verify --key "$d/k1"
expect_grep "$tmpdir/out" "records verified"
finish
