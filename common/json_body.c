/* The strict grammar of the approval service's request bodies (json_body.h). */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "escape.h"
#include "json_body.h"

#define WHERE_MAX 80

/* The member names met so far in each open object, for the duplicate check. */
typedef struct {
	char *keys[BG_JSON_BODY_ITEMS];
	size_t nkeys;
	size_t items;            /* members or elements so far */
} level;

typedef struct {
	level lv[BG_JSON_BODY_DEPTH];
	size_t depth;
	const char *problem;     /* set when a callback stops the parse */
	char where[WHERE_MAX];   /* the last member name, escaped */
} scan;

static void
level_clear(level *l)
{
	for (size_t i = 0; i < l->nkeys; i++)
		free(l->keys[i]);
	memset(l, 0, sizeof(*l));
}

static int
stop(scan *s, const char *problem)
{
	s->problem = problem;
	return 0;
}

/* A value (or member) in the current level: counted against the bound. */
static int
item(scan *s)
{
	if (s->depth > 0 && ++s->lv[s->depth - 1].items > BG_JSON_BODY_ITEMS)
		return stop(s, "too many members or elements");
	return 1;
}

static int
open_level(void *ctx)
{
	scan *s = ctx;

	if (!item(s))
		return 0;
	if (s->depth == BG_JSON_BODY_DEPTH)
		return stop(s, "nested too deep");
	s->depth++;
	return 1;
}

static int
close_level(void *ctx)
{
	scan *s = ctx;

	level_clear(&s->lv[--s->depth]);
	return 1;
}

static int
on_key(void *ctx, const unsigned char *key, size_t len)
{
	scan *s = ctx;
	level *l = &s->lv[s->depth - 1];
	char *copy;

	/* json-c cuts a member name at a NUL: "a\u0000x" would become a second "a". */
	if (memchr(key, '\0', len) != NULL)
		return stop(s, "NUL in a member name");
	if ((copy = strndup((const char *)key, len)) == NULL)
		return stop(s, "out of memory");
	bg_escape_printable(copy, s->where, sizeof(s->where));
	for (size_t i = 0; i < l->nkeys; i++)
		if (strlen(l->keys[i]) == len && memcmp(l->keys[i], key, len) == 0) {
			free(copy);
			return stop(s, "member named twice");
		}
	if (l->nkeys == BG_JSON_BODY_ITEMS) {
		free(copy);
		return stop(s, "too many members or elements");
	}
	l->keys[l->nkeys++] = copy;
	return 1;
}

static int
on_scalar(void *ctx)
{
	return item(ctx);
}

static int
on_bool(void *ctx, int b)
{
	(void)b;
	return item(ctx);
}

static int
on_number(void *ctx, const char *n, size_t len)
{
	(void)n;
	(void)len;
	return item(ctx);
}

static int
on_string(void *ctx, const unsigned char *str, size_t len)
{
	(void)str;
	(void)len;
	return item(ctx);
}

static const yajl_callbacks grammar = {
	.yajl_null = on_scalar,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = open_level,
	.yajl_map_key = on_key,
	.yajl_end_map = close_level,
	.yajl_start_array = open_level,
	.yajl_end_array = close_level,
};

/* The grammar pass: yajl's strict defaults, plus the bounds and the duplicate check. */
static bool
grammar_ok(const char *body, size_t len, bg_error *err)
{
	scan s;
	yajl_handle h;
	bool ok;

	memset(&s, 0, sizeof(s));
	if ((h = yajl_alloc(&grammar, NULL, &s)) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory"), false;
	ok = yajl_parse(h, (const unsigned char *)body, len) == yajl_status_ok &&
	    yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	while (s.depth > 0)
		level_clear(&s.lv[--s.depth]);
	if (!ok && s.problem != NULL && s.where[0] != '\0')
		bg_error_set(err, BG_ERR_INVALID, "member \"%s\": %s", s.where, s.problem);
	else if (!ok)
		bg_error_set(err, BG_ERR_INVALID, "%s", s.problem != NULL ? s.problem :
		    "not one strict JSON value (or bytes after it)");
	return ok;
}

/* Every string of json-c's reading, member names included. */
static bool
strings_ok(json_object *v, const char *where, size_t max_string, bg_error *err)
{
	char shown[WHERE_MAX];

	switch (json_object_get_type(v)) {
	case json_type_string:
		if ((size_t)json_object_get_string_len(v) > max_string ||
		    !bg_text_acceptable(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v))) {
			bg_escape_printable(where, shown, sizeof(shown));
			bg_error_set(err, BG_ERR_INVALID, "member \"%s\": longer than %zu bytes, "
			    "or not plain text (invalid UTF-8, NUL, control or "
			    "bidirectional-text characters)", shown, max_string);
			return false;
		}
		return true;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!strings_ok(json_object_array_get_idx(v, i), where, max_string, err))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			if (strlen(key) > max_string || !bg_text_acceptable(key, strlen(key))) {
				bg_error_set(err, BG_ERR_INVALID, "a member name is not plain text");
				return false;
			}
			if (!strings_ok(val, key, max_string, err))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

json_object *
bg_json_body_parse(const char *body, size_t len, size_t max_string, bg_error *err)
{
	json_tokener *tok;
	json_object *doc = NULL;

	/* A NUL byte inside would hide what follows it from every C string reader. */
	if (strlen(body) != len) {
		bg_error_set(err, BG_ERR_INVALID, "a NUL byte in the body");
		return NULL;
	}
	if (!grammar_ok(body, len, err))
		return NULL;
	if ((tok = json_tokener_new_ex(BG_JSON_BODY_DEPTH + 1)) == NULL) {
		bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	doc = json_tokener_parse_ex(tok, body, (int)len);
	if (doc != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	if (doc == NULL)
		bg_error_set(err, BG_ERR_INVALID, "not one strict JSON value");
	else if (!strings_ok(doc, "", max_string, err)) {
		json_object_put(doc);
		doc = NULL;
	}
	return doc;
}
