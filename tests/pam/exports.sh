#!/bin/sh
# pam_breakglass.so exports the PAM entry points and nothing else: common/ is
# linked in statically and must not clash with symbols of the host process.
# It carries no report or journal verification code (that is the CLI's), and
# does its crypto with OpenSSL (common/crypto.c): libsodium is the sudo
# plugin core's alone.
so="$top_builddir/pam_breakglass/.libs/pam_breakglass.so"
[ -f "$so" ] || { echo "SKIP: $so not built"; exit 77; }
syms=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sort)
want=$(printf '%s\n' pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session \
	pam_sm_open_session pam_sm_setcred)
if [ "$syms" != "$want" ]; then
	echo "FAIL: unexpected dynamic symbols:" >&2
	printf '%s\n' "$syms" >&2
	exit 1
fi
# The static symbol table still names every function linked in.
review=$(nm "$so" | awk '{ print $NF }' | grep '^bg_report_\|^bg_journal_verify\|^bg_cli_\|^bg_cmd_')
if [ -n "$review" ]; then
	echo "FAIL: $so carries report, verification or CLI code:" >&2
	printf '%s\n' "$review" | sed 's/^/  /' >&2
	exit 1
fi
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if ! printf '%s\n' "$needed" | grep -q '^libcrypto\.so' ||
    printf '%s\n' "$needed" | grep -q '^libsodium\.so'; then
	echo "FAIL: $so needs libcrypto and not libsodium:" $needed >&2
	exit 1
fi
exit 0
