/* Hex encoding of binary values (keys, MACs, digests). */
#ifndef BG_HEX_H
#define BG_HEX_H

#include <stddef.h>

#include "status.h"

/* Lowercase hex; out must hold 2*len+1 bytes. */
void bg_hex_encode(const unsigned char *in, size_t len, char *out);

/* Decodes exactly 2*out_len hex digits (either case); anything else is an error. */
bg_status bg_hex_decode(const char *hex, unsigned char *out, size_t out_len,
    bg_error *err);

#endif
