/*
 * Secret tokens: the session cookie, its CSRF token and the one-time links
 * from Slack are each 32 random bytes in base64url without padding, and are
 * stored only as their SHA-256 in hex, so that a read of the database
 * yields none that works.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "approvald.h"
#include "hex.h"

#define TOKEN_BYTES 32
#define BASE64URL_ALPHABET \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

bg_status
ad_token_new(char out[AD_TOKEN_LEN + 1], bg_error *err)
{
	unsigned char raw[TOKEN_BYTES];
	char *b64 = NULL;
	bg_status rc = bg_random_bytes(raw, sizeof(raw), err);

	if (rc == BG_OK)
		rc = bg_base64_encode(raw, sizeof(raw), &b64, err);
	explicit_bzero(raw, sizeof(raw));
	if (rc != BG_OK)
		return rc;
	/* base64url (RFC 4648 section 5): the 43 characters before the padding. */
	for (size_t i = 0; i < AD_TOKEN_LEN; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	out[AD_TOKEN_LEN] = '\0';
	explicit_bzero(b64, strlen(b64));
	free(b64);
	return BG_OK;
}

bool
ad_token_valid(const char *s)
{
	return s != NULL && strlen(s) == AD_TOKEN_LEN &&
	    strspn(s, BASE64URL_ALPHABET) == AD_TOKEN_LEN;
}

bg_status
ad_token_hash(const char *token, char hex[BG_SHA256_HEX_LEN + 1], bg_error *err)
{
	unsigned char digest[BG_SHA256_LEN];
	bg_status rc = bg_sha256(token, strlen(token), digest, err);

	if (rc == BG_OK)
		bg_hex_encode(digest, sizeof(digest), hex);
	explicit_bzero(digest, sizeof(digest));
	return rc;
}
