#!/bin/sh
# pam_breakglass.so exports the PAM entry points and nothing else: common/ is
# linked in statically and must not clash with symbols of the host process.
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
exit 0
