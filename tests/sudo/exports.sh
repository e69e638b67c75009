#!/bin/sh
# The sudo plugin is two files.  sudo loads the front, sudo_breakglass.so,
# into every sudo process of every user: it exports its plugin struct alone
# and needs nothing but the C library, so that a user who is not a
# break-glass account pays for no libcrypto or json-c.  The core,
# sudo_breakglass_core.so, which the front loads for break-glass accounts,
# exports its own struct alone and needs none of the network, TOTP, database
# or PAM libraries, nor OpenSSL (loading libcrypto alone costs more than a
# sudo call's budget): its crypto is libsodium's (common/crypto_sodium.c).
# Neither carries the report or journal verification code of the CLI.
: "${top_builddir:?top_builddir must be set}"
front=${SUDO_BREAKGLASS_SO:-$top_builddir/sudo_breakglass/.libs/sudo_breakglass.so}
core=$(dirname "$front")/sudo_breakglass_core.so

if ! command -v nm >/dev/null 2>&1 || ! command -v readelf >/dev/null 2>&1; then
	echo "SKIP: nm or readelf (binutils) is not installed"
	exit 77
fi
failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# Sanitizer runtimes add their own interceptor symbols and libraries to
# instrumented modules.
sanitizer='^__\(asan\|ubsan\|sanitizer\|lsan\)'
sanitizer_lib='^lib\(asan\|ubsan\|lsan\|stdc++\|gcc_s\|m\)\.so'

# check SO SYMBOL FORBIDDEN-NEEDED-PATTERN
check() {
	so=$1
	before=$failures
	if [ ! -f "$so" ]; then
		fail "$so was not built"
		return
	fi
	syms=$(nm -D --defined-only "$so" | awk '{ print $3 }' | grep -v "$sanitizer")
	if [ "$syms" != "$2" ]; then
		fail "$so exports more than $2:"
		echo "$syms" | sed 's/^/  /' >&2
	fi
	needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	for lib in $needed; do
		if echo "$lib" | grep -q "$3"; then
			fail "$so depends on $lib"
		fi
	done
	# The static symbol table still names every function linked in.
	review=$(nm "$so" | awk '{ print $NF }' | grep '^bg_report_\|^bg_journal_verify')
	if [ -n "$review" ]; then
		fail "$so carries report or verification code:"
		echo "$review" | sed 's/^/  /' >&2
	fi
	[ "$failures" -eq "$before" ] && echo "ok: $so exports only $2 and needs only:" $needed
}

# The front: the C library (and the dynamic loader) only.
check "$front" sudo_breakglass '^lib\(crypto\|json-c\|curl\)'
front_needed=$(readelf -d "$front" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
	grep -v '^libc\.so\|^ld-linux' | grep -v "$sanitizer_lib")
if [ -n "$front_needed" ]; then
	fail "$front needs more than the C library: $front_needed"
fi
check "$core" sudo_breakglass_core \
	'^\(libcrypto\|libssl\|libcurl\|liboath\|libyajl\|libmicrohttpd\|libsqlite\|libqrencode\|libpam\)'
if ! readelf -d "$core" | grep -q 'NEEDED.*\[libsodium\.so'; then
	fail "$core does not use libsodium"
fi
# Nor does it carry the OpenSSL backend's code (linked in, it would pull
# libcrypto back or fail to load).
if nm "$core" | awk '{ print $NF }' | grep -q '^\(EVP_\|OPENSSL_\|ed25519_pubkey_raw$\)'; then
	fail "$core carries OpenSSL code"
fi
[ "$failures" -eq 0 ] || exit 1
