#!/bin/sh
# Integration test of `breakglass journal init`, `note` and `verify`, including
# interoperability with an independent implementation of the journal format.
. "$top_srcdir/tests/integration/lib.sh"

d=$tmpdir
write_config "$d"
bg() { "$BREAKGLASS" --config "$d/breakglass.conf" "$@"; }
ref="$top_srcdir/tests/integration/journal_ref.py"

# journal init prints K_1 once, refuses a second chain.
expect_status 0 bg journal init
k1=$(cat "$tmpdir/out")
[ ${#k1} -eq 64 ] && ok || fail "K_1 is not 64 hex digits: $k1"
printf '%s\n' "$k1" >"$d/k1"
chmod 0600 "$d/k1"
expect_grep "$tmpdir/err" "not shown again"
[ "$(stat -c %a "$d/state/journal.state")" = 600 ] && ok || fail "key state is not 0600"
grep -q "$k1" "$d/state/journal.state" && ok || fail "state should hold K_1 before the first record"
expect_status 1 bg journal init
expect_grep "$tmpdir/err" "already exists"

# notes, with hostile text
expect_status 0 bg note --incident INC-42 "queue drained; reason was \"spam\""
expect_status 0 bg note "$(printf 'line\nevent=sudo.accepted outcome=success')"
expect_status 0 bg note --incident INC-42 "third"
grep -q "$k1" "$d/state/journal.state" && fail "K_1 still stored after appends" || ok
[ "$(wc -l <"$d/log/journal.jsonl")" -eq 3 ] && ok || fail "expected 3 journal lines"

# verify: configured journal + state, and explicit files with the key
expect_status 0 bg verify
expect_grep "$tmpdir/out" "3 records verified"
expect_status 0 bg verify --key "$d/k1" --state "$d/state/journal.state" "$d/log/journal.jsonl"
expect_grep "$tmpdir/out" "macs"

# the independent verifier accepts our journal
expect_status 0 python3 "$ref" verify "$d/log/journal.jsonl" "$d/k1"

# tampering: change the middle record's text
cp "$d/log/journal.jsonl" "$d/orig.jsonl"
sed -i '2s/sudo.accepted/sudo.rejected/' "$d/log/journal.jsonl"
expect_status 1 bg verify --key "$d/k1" "$d/log/journal.jsonl"
expect_grep "$tmpdir/err" "journal.jsonl:2: bad mac"
cp "$d/orig.jsonl" "$d/log/journal.jsonl"
# truncation: drop the last record
head -n 2 "$d/orig.jsonl" >"$d/log/journal.jsonl"
expect_status 1 bg verify
expect_grep "$tmpdir/err" "truncated"
cp "$d/orig.jsonl" "$d/log/journal.jsonl"
expect_status 0 bg verify

# a journal written by the independent implementation verifies with ours
k1ref=$(python3 "$ref" write "$d/ref.jsonl" "$d/ref.state" 25) || fail "reference writer failed"
printf '%s\n' "$k1ref" >"$d/refk1"
chmod 0600 "$d/refk1"
expect_status 0 bg verify --key "$d/refk1" --state "$d/ref.state" "$d/ref.jsonl"
expect_grep "$tmpdir/out" "25 records verified"
sed -i '7s/INC-REF/INC-BAD/' "$d/ref.jsonl"
expect_status 1 bg verify --key "$d/refk1" "$d/ref.jsonl"
expect_grep "$tmpdir/err" "ref.jsonl:7: bad mac"

# rotation: the configured journal is read with its rotated predecessors
mv "$d/log/journal.jsonl" "$d/log/journal.jsonl.2"
expect_status 0 bg note "after first rotation"
mv "$d/log/journal.jsonl" "$d/log/journal.jsonl.1"
expect_status 0 bg note "after second rotation"
expect_status 0 bg note "and one more"
expect_status 0 bg verify --key "$d/k1"
expect_grep "$tmpdir/out" "6 records verified"
# once the oldest file is gone the chain no longer starts at 1...
mv "$d/log/journal.jsonl.2" "$d/archived.jsonl"
expect_status 1 bg verify --key "$d/k1"
expect_grep "$tmpdir/err" "journal.jsonl.1:1: seq gap: expected 1, found 4"
# ...unless the verifier is told the oldest files were archived
expect_status 0 bg verify --partial --key "$d/k1"
expect_grep "$tmpdir/out" "chain starts at seq 4"
sed -i '1s/first rotation/second thoughts/' "$d/log/journal.jsonl.1"
expect_status 1 bg verify --partial --key "$d/k1"
expect_grep "$tmpdir/err" "journal.jsonl.1:1: bad mac"

# usage and help
expect_status 0 bg verify --help
expect_status 0 bg note --help
expect_status 0 bg journal --help
expect_status 2 bg note
expect_status 2 bg frobnicate
expect_status 1 bg verify --key "$d/k1" "$d/missing.jsonl"

finish
