/*
 * The one grammar for the bodies the approval service reads (a host's filed
 * request and recovery report, an approver's vote): exactly one JSON value
 * in strict JSON, nothing after it, no member named twice in an object (json-c
 * alone would keep the last), bounded depth, members and elements, and every
 * string, names included, valid UTF-8 that bg_text_acceptable accepts and at
 * most max_string bytes.  What is checked is json-c's reading of the body,
 * the one every handler then uses.
 */
#ifndef BG_JSON_BODY_H
#define BG_JSON_BODY_H

#include <stddef.h>

#include <json-c/json.h>

#include "status.h"

/* Nesting of objects and arrays, and members or elements in each. */
#define BG_JSON_BODY_DEPTH 8
#define BG_JSON_BODY_ITEMS 64

/*
 * Parses the len bytes of body (NUL-terminated at len).  Returns the value,
 * or NULL with err naming what is wrong and in which member.
 */
json_object *bg_json_body_parse(const char *body, size_t len, size_t max_string,
    bg_error *err);

#endif
