/*
 * Reading JSON strings as C strings.  json-c keeps a string's length, so a
 * "\u0000" inside it survives parsing, but every C comparison stops at it:
 * "bob\u0000x" would compare equal to "bob".  Whatever is compared or used
 * as a name is read through here, which refuses such strings.
 */
#ifndef BG_JSON_STRING_H
#define BG_JSON_STRING_H

#include <json-c/json.h>

/* v's text when v is a string holding no NUL; NULL otherwise. */
const char *bg_json_cstring(json_object *v);
/* The member key of obj as bg_json_cstring reads it; NULL when absent. */
const char *bg_json_member_cstring(json_object *obj, const char *key);

#endif
