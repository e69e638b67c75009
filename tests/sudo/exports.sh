#!/bin/sh
# sudo_breakglass.so must export its plugin struct and nothing else: every
# other symbol of the statically linked core stays private to the module.
# And since sudo loads it into every sudo process, it must not depend on the
# network and TOTP libraries the rest of breakglass uses.
: "${top_builddir:?top_builddir must be set}"
so=${SUDO_BREAKGLASS_SO:-$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so}

if ! command -v nm >/dev/null 2>&1 || ! command -v readelf >/dev/null 2>&1; then
	echo "SKIP: nm or readelf (binutils) is not installed"
	exit 77
fi
if [ ! -f "$so" ]; then
	echo "FAIL: $so was not built" >&2
	exit 1
fi
# Sanitizer runtimes add their own interceptor symbols to instrumented modules.
syms=$(nm -D --defined-only "$so" | awk '{ print $3 }' | grep -v '^__\(asan\|ubsan\|sanitizer\|lsan\)' )
if [ "$syms" != "sudo_breakglass" ]; then
	echo "FAIL: $so exports more than sudo_breakglass:" >&2
	echo "$syms" | sed 's/^/  /' >&2
	exit 1
fi
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $needed; do
	case $lib in
	libcurl*|liboath*|libyajl*|libmicrohttpd*|libsqlite*|libqrencode*|libpam*)
		echo "FAIL: $so depends on $lib" >&2
		exit 1
		;;
	esac
done
echo "ok: $so exports only sudo_breakglass and needs only:" $needed
