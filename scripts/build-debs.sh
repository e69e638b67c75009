#!/bin/bash
# Builds the Debian packages from a clean export of the tree, installs them on
# this machine, checks the installed example configuration, and removes them
# again.  Run as root (CI does, after the test suites).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bgdeb.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir "$work/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" archive HEAD | tar -x -C "$work/src"
else
	tar -C "$top" -c --exclude=build --exclude=build-asan . | tar -x -C "$work/src"
fi
echo "=== dpkg-buildpackage -us -uc -b"
if ! (cd "$work/src" && dpkg-buildpackage -us -uc -b -j2 >"$work/build.log" 2>&1); then
	tail -60 "$work/build.log"
	echo "build-debs: dpkg-buildpackage failed"
	exit 1
fi
ls -l "$work"/*.deb

echo "=== installing the packages"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$work"/breakglass_*.deb \
	"$work"/breakglass-approvald_*.deb >"$work/install.log" 2>&1 ||
	{ tail -30 "$work/install.log"; exit 1; }
status=0
for f in /usr/sbin/breakglass /usr/sbin/breakglass-approvald \
	/usr/libexec/sudo/sudo_breakglass.so /lib/systemd/system/breakglass-expire.timer \
	/lib/systemd/system/breakglass-recovery-report.service \
	"/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/security/pam_breakglass.so"; do
	if [ -e "$f" ]; then echo "installed: $f"; else echo "missing: $f"; status=1; fi
done
/usr/sbin/breakglass check-config --syntax-only || status=1
/usr/sbin/breakglass-approvald --version || status=1
man -w breakglass pam_breakglass sudo_breakglass breakglass.conf breakglass-approvald \
	>/dev/null || status=1

echo "=== removing the packages"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq breakglass breakglass-approvald \
	>/dev/null 2>&1 || status=1
[ $status -eq 0 ] && echo "build-debs: packages built, installed, checked and removed"
exit $status
