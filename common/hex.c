/* Hex encoding, apart from crypto.c so that code without libcrypto can use it. */
#include "build_config.h"

#include <string.h>

#include "hex.h"

void
bg_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bg_status
bg_hex_decode(const char *hex, unsigned char *out, size_t out_len, bg_error *err)
{
	if (strlen(hex) != 2 * out_len)
		return bg_error_set(err, BG_ERR_INVALID, "expected %zu hex digits", 2 * out_len);
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			explicit_bzero(out, out_len);
			return bg_error_set(err, BG_ERR_INVALID, "not a hex digit");
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return BG_OK;
}
