#!/bin/sh
# Integration test of `breakglass enroll`.
. "$top_srcdir/tests/integration/lib.sh"

d=$tmpdir
write_config "$d"
bg() { "$BREAKGLASS" --config "$d/breakglass.conf" "$@"; }

expect_status 0 bg enroll alice
expect_grep "$tmpdir/out" "otpauth://totp/breakglass:mx1.example.net:alice?secret="
expect_grep "$tmpdir/out" "&issuer=breakglass&algorithm=SHA1&digits=6&period=30"
# The QR code is drawn with UTF-8 half blocks.
expect_grep "$tmpdir/out" "$(printf '\342\226\210')"
f=$d/operators/alice
[ "$(stat -c %a "$f")" = 600 ] && ok || fail "secret file is not 0600"
secret=$(sed -n 's/^secret = //p' "$f")
[ ${#secret} -eq 32 ] && ok || fail "secret is not 160 bits of base32: $secret"
grep -q "secret=$secret&" "$tmpdir/out" && ok || fail "URI does not carry the stored secret"

# never silently replaced
expect_status 1 bg enroll alice
expect_grep "$tmpdir/err" "use --force"
[ "$(sed -n 's/^secret = //p' "$f")" = "$secret" ] && ok || fail "secret changed without --force"
expect_status 0 bg enroll --force --no-qr --algorithm sha512 --digits 8 alice
[ "$(sed -n 's/^secret = //p' "$f")" != "$secret" ] && ok || fail "--force kept the old secret"
expect_grep "$f" "algorithm = sha512"
# the key is as long as SHA-512's output: 64 bytes, 104 base32 characters
[ "$(sed -n 's/^secret = //p' "$f" | tr -d '=' | wc -c)" -eq 104 ] && ok || fail "sha512 secret is not 512 bits"
expect_grep "$f" "digits = 8"
expect_grep "$tmpdir/out" "algorithm=SHA512&digits=8"

# approvers go to their own directory
mkdir -m 0755 "$d/approvers"
expect_status 0 bg enroll --approver --dir "$d/approvers" --no-qr bob
[ -f "$d/approvers/bob" ] && ok || fail "approver secret not written"

# --owner hands the file to the approval service's account
if [ "$(id -u)" -eq 0 ]; then
	expect_status 0 bg enroll --approver --dir "$d/approvers" --owner nobody --no-qr carol
	[ "$(stat -c %U:%a "$d/approvers/carol")" = nobody:600 ] && ok || fail "--owner not applied"
	expect_status 1 bg enroll --approver --dir "$d/approvers" --owner no-such-user-x --no-qr dave
	[ -e "$d/approvers/dave" ] && fail "secret left behind for an unknown owner" || ok
fi

# bad input
expect_status 2 bg enroll "../etc/passwd"
expect_status 2 bg enroll "$(printf 'eve\nx')"
expect_status 2 bg enroll --digits 7 carol
expect_status 2 bg enroll --algorithm md5 carol
expect_status 2 bg enroll
chmod 0777 "$d/operators"
expect_status 1 bg enroll dave
expect_grep "$tmpdir/err" "writable by group or others"
expect_status 0 bg enroll --help

finish
