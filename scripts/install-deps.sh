#!/bin/sh
# Installs everything breakglass needs to build, test and run its demo on
# Debian 12 (bookworm).  Run as root; idempotent.
set -eu

packages="
autoconf automake libtool pkg-config make gcc clang libclang-rt-14-dev
libpam0g-dev sudo libcurl4-openssl-dev libjson-c-dev liboath-dev libssl-dev
libsodium-dev
libmicrohttpd-dev libsqlite3-dev libpq-dev libfido2-dev libcbor-dev postgresql
libqrencode-dev libcmocka-dev libyajl-dev
openssl python3 python3-cryptography python3-pexpect openssh-server openssh-client faketime valgrind strace
debhelper dpkg-dev
chromium nodejs
"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (apt-get install)" >&2
	exit 1
fi
missing=
for p in $packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
