#!/bin/sh
# Integration test of `breakglass report`: a journal holding a whole incident,
# written through the real journal code, reported in every format; tampering
# marks the report UNVERIFIED; the HTML renders in headless Chromium.
. "$top_srcdir/tests/integration/lib.sh"

d=$tmpdir
write_config "$d"
bg() { "$BREAKGLASS" --config "$d/breakglass.conf" "$@"; }
ev() { "$EMIT_EVENT" "$d/breakglass.conf" "$@" || fail "emit_event $*"; }

bg journal init >"$d/k1" 2>/dev/null || fail "journal init"
chmod 0600 "$d/k1"

id="account=breakglass operator=alice incident=INC-42 request_id=6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab"
# shellcheck disable=SC2086
{
ev auth.begin success $id "reason=outbound spam <script>alert(1)</script>" scope=mail-queue service=sshd rhost=192.0.2.7
ev signals.checked success $id 'signals:=[{"source":"alertmanager-mx","id":"fp1","summary":"OutboundSpamSpike"},{"source":"prometheus-mx","id":"fp2","summary":"MailQueueBacklog"}]' required:=2
ev approval.requested success $id scope=mail-queue ttl:=3600 quorum:=2
ev approval.approved success $id 'approvers:=[{"approver":"bob","at":"2026-11-27T10:01:00Z"},{"approver":"carol","at":"2026-11-27T10:02:00Z"}]'
ev grant.issued success $id scope=mail-queue issued_at:=1795000000 expires_at:=1795003600
ev session.opened success $id service=sshd tty=/dev/pts/3
ev sudo.accepted success $id 'argv:=["/usr/sbin/postqueue","-p"]' runas=root cwd=/root
ev sudo.rejected failure $id 'argv:=["/bin/bash","-i"]' runas=root "reason=shell refused"
ev sudo.accepted success $id 'argv:=["=cmd|calc","x"]' runas=root
ev session.closed success $id
ev grant.revoked success $id reason=logout
ev approval.denied failure account=bg-ops operator=mallory incident=INC-43 reason=denied
ev killswitch.engaged success reason=drill
}

expect_status 0 bg report
expect_grep "$tmpdir/out" "Incident INC-42"
expect_grep "$tmpdir/out" "operator           alice"
expect_grep "$tmpdir/out" "bob at 2026-11-27T10:01:00Z"
expect_grep "$tmpdir/out" "grant ended        logout"
expect_grep "$tmpdir/out" "refused  /bin/bash -i  [shell refused]"
expect_grep "$tmpdir/out" "Incident INC-43"
expect_grep "$tmpdir/out" "approval refused   denied"
expect_grep "$tmpdir/out" "Summary: 2 incident(s), 1 approval(s), 0 offline recovery grant(s), 2 sudo command(s) accepted, 1 refused; 13 record(s) verified"

expect_status 0 bg report --incident INC-42 --format json
python3 - "$tmpdir/out" <<'PY' || fail "json report content"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["verified"] is True
(inc,) = m["incidents"]
assert inc["incident"] == "INC-42" and inc["operator"] == "alice"
assert [a["approver"] for a in inc["approvers"]] == ["bob", "carol"]
assert inc["grant"]["ended"] == "logout"
assert len(inc["commands"]) == 3 and inc["commands"][1]["decision"] == "refused"
assert len(inc["signals"]) == 2
PY
ok

expect_status 0 bg report --format csv
python3 - "$tmpdir/out" <<'PY' || fail "csv report content"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 13, len(rows)
assert rows[0]["event"] == "auth.begin" and rows[0]["incident"] == "INC-42"
# a cell starting with "=" must not reach a spreadsheet as a formula
assert all(not v.startswith("=") for r in rows for v in r.values()), "formula cell"
assert any(r["detail"].startswith("'=cmd|calc") for r in rows)
PY
ok

expect_status 0 bg report --format html
cp "$tmpdir/out" "$d/report.html"
expect_grep "$d/report.html" "&lt;script&gt;alert(1)&lt;/script&gt;"
if grep -q "<script>alert" "$d/report.html"; then fail "reason not escaped in HTML"; else ok; fi
expect_grep "$d/report.html" "<svg class=\"timeline\""
expect_grep "$d/report.html" "Journal verified: 13 records; chain and links checked; no key given"
expect_status 0 bg report --key "$d/k1"
expect_grep "$tmpdir/out" "Journal verified: 13 records; chain, links and every mac checked with K_1."

# time filters
expect_status 0 bg report --since 2000-01-01 --until 2001-01-01
expect_grep "$tmpdir/out" "Summary: 0 incident(s)"
expect_status 2 bg report --since yesterday

# a time too short for the timeline's clock (a journal verified without a key
# says nothing of its times) is shown whole, never read past its end
zeros=0000000000000000000000000000000000000000000000000000000000000000
printf '{"seq":1,"time":"x","event":"sudo.accepted","outcome":"success","incident":"INC-9","prev":"%s","mac":"%s"}\n' \
	"$zeros" "$(echo "$zeros" | tr 0 a)" >"$d/short.jsonl"
expect_status 0 bg report --format html "$d/short.jsonl"
expect_grep "$tmpdir/out" 'font-size="12">x sudo.accepted</text>'

# tampering: the report still shows what precedes the break, marked UNVERIFIED
sed -i '5s/mail-queue/everything/' "$d/log/journal.jsonl"
expect_status 2 bg report --key "$d/k1"
expect_grep "$tmpdir/out" "*** UNVERIFIED"
expect_grep "$tmpdir/err" "bad mac"
expect_status 2 bg report --key "$d/k1" --format html
expect_grep "$tmpdir/out" "UNVERIFIED"

# the HTML renders in a real browser
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$chrome" ]; then
	timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$d/chrome" \
		--window-size=1000,1400 --screenshot="$d/report.png" "file://$d/report.html" \
		>/dev/null 2>&1
	if [ -s "$d/report.png" ] && [ "$(head -c 4 "$d/report.png" | od -An -c | tr -d ' ')" = "211PNG" ]; then
		ok
		[ -n "${BG_KEEP_SCREENSHOT:-}" ] && cp "$d/report.png" "$BG_KEEP_SCREENSHOT"
	else
		fail "chromium did not render the report"
	fi
else
	echo "note: chromium not installed; HTML rendering check skipped"
fi

finish
