#!/bin/sh
# The approvald tests that run on SQLite, run again on PostgreSQL: each on a
# throwaway cluster of its own (pglib.py), with BG_TEST_DATABASE=postgresql.
# Skipped only where the PostgreSQL server binaries are absent.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "SKIP: the PostgreSQL server binaries are not installed (Debian: postgresql)"
	exit 77
fi
BG_TEST_DATABASE=postgresql
export BG_TEST_DATABASE
failed=0
# approvald_browser.py drives chromium: its page and votes are covered by page and vote.
for t in host input hardening recovery vote lifecycle notify page polls signing \
	slowloris page_limits retention notify_hang session batch slack slack_bot passkey crash \
	stop_votes; do
	if python3 "$dir/approvald_$t.py"; then
		echo "PASS: approvald_$t.py on PostgreSQL"
	else
		rc=$?
		if [ "$rc" -eq 77 ]; then
			echo "SKIP: approvald_$t.py on PostgreSQL"
		else
			echo "FAIL: approvald_$t.py on PostgreSQL (exit $rc)"
			failed=1
		fi
	fi
done
exit $failed
