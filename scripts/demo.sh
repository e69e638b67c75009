#!/bin/bash
# The breakglass demo: installs the Debian 12 dependencies, builds, and plays
# the whole story in a sandbox directory on loopback (scripts/demo_story.py),
# changing nothing under /etc.  Run as root: sudo scripts/demo.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BREAKGLASS_BUILD:-$top/build}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (sudo scripts/demo.sh)" >&2
	exit 1
fi
"$top/scripts/install-deps.sh"
printf '\n\033[1m== Building breakglass\033[0m\n'
cd "$top"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then
	(cd "$build" && "$top/configure" --enable-werror >/dev/null)
fi
make -C "$build" -j2 >/dev/null
# The demo's PAM application and sudo front end are test programs.
make -C "$build/tests" pam/pam_driver sudo/sudo_front >/dev/null
BREAKGLASS_BUILD=$build exec python3 "$top/scripts/demo_story.py"
