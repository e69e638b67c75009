#!/bin/sh
# sudo_breakglass.so must export its plugin struct and nothing else: every
# other symbol of the statically linked core stays private to the module.
: "${top_builddir:?top_builddir must be set}"
so=${SUDO_BREAKGLASS_SO:-$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so}

if ! command -v nm >/dev/null 2>&1; then
	echo "SKIP: nm (binutils) is not installed"
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
echo "ok: $so exports only sudo_breakglass"
