#!/bin/bash
# The breakglass demo: installs dependencies, builds, and runs the story in a
# sandbox directory on loopback, changing nothing under /etc.
#
# What exists so far: the configuration check and the tamper-evident audit
# journal.  Later stages (PAM login, approval service, sudo scope) join here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
sandbox=${BREAKGLASS_DEMO_DIR:-$top/demo-sandbox}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
	"$top/scripts/install-deps.sh"
fi
say "Building breakglass"
cd "$top"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build
if [ ! -f build/Makefile ]; then
	(cd build && ../configure --enable-werror >/dev/null)
fi
make -C build -j2 >/dev/null
bg=$top/build/cli/breakglass

say "Sandbox: $sandbox"
rm -rf "$sandbox"
mkdir -p "$sandbox"/{etc,state,run,log,operators}
chmod 0755 "$sandbox" "$sandbox"/*
conf=$sandbox/etc/breakglass.conf
# The shipped example, with every path moved into the sandbox and the
# approval service on loopback.
sed -e "s|/var/lib/breakglass|$sandbox/state|" \
    -e "s|/run/breakglass|$sandbox/run|" \
    -e "s|/var/log/breakglass|$sandbox/log|" \
    -e "s|/etc/breakglass|$sandbox/etc|" \
    -e "s|^url = https://approvals.example.net/v1|url = http://127.0.0.1:8443/v1|" \
    "$top/etc/breakglass.conf" >"$conf"
chmod 0644 "$conf"
echo "config: $conf"

say "breakglass check-config --syntax-only"
"$bg" --config "$conf" check-config --syntax-only

say "breakglass journal init (K_1 goes to compliance, offline)"
"$bg" --config "$conf" journal init >"$sandbox/k1.hex" 2>/dev/null
chmod 0600 "$sandbox/k1.hex"
echo "K_1 saved to $sandbox/k1.hex (a real deployment prints it once and stores it offline)"

say "Recording events: notes from the incident"
"$bg" --config "$conf" note --incident INC-2026-0042 "outbound spam spike on mx1: queue at 48k"
"$bg" --config "$conf" note --incident INC-2026-0042 "compromised account suspended; queue purged"
"$bg" --config "$conf" note --incident INC-2026-0042 "post-incident review scheduled"
sed -n '1p' "$sandbox/log/journal.jsonl"

say "breakglass verify --key K_1 (every mac, chain and key state)"
"$bg" --config "$conf" verify --key "$sandbox/k1.hex" --state "$sandbox/state/journal.state" \
	"$sandbox/log/journal.jsonl"

say "Tampering with record 2 and verifying again"
cp "$sandbox/log/journal.jsonl" "$sandbox/log/tampered.jsonl"
sed -i '2s/suspended/reinstated/' "$sandbox/log/tampered.jsonl"
if "$bg" --config "$conf" verify --key "$sandbox/k1.hex" "$sandbox/log/tampered.jsonl"; then
	echo "demo: tampering went unnoticed" >&2
	exit 1
fi
echo "(the tampered copy is rejected, naming the line)"

say "Done"
echo "journal: $sandbox/log/journal.jsonl"
echo "key state: $sandbox/state/journal.state"
