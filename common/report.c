/* The post-incident report model, built from journal records. */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal_grammar.h"
#include "report.h"
#include "timeparse.h"

#define REPORT_MAX_LINE BG_JOURNAL_MAX_LINE
#define RECORD_MAX_DEPTH 64
#define INDEX_SLOTS 64             /* a record with more members is searched in turn */
#define INTERN_MAX 64
#define INTERN_LEN 32

/*
 * One record, read with the verifier's grammar (yajl, strict, UTF-8) rather
 * than json-c's tokener: its top-level members in order.  No object is built
 * for the record itself; a string member (most are) stays text in one buffer
 * reused from line to line, and becomes a json-c value only when the model
 * takes it; other values are json-c values the model can share.
 */
#define SUMMARY_MAX 4096

typedef struct {
	char text[SUMMARY_MAX + 1];
	size_t len;
} summary_text;

typedef struct {
	size_t key_off, key_len;      /* in text */
	char key0;                    /* the key's first byte: most lookups stop there */
	size_t str_off, str_len;      /* in text, for a string */
	bool is_string;
	json_object *value;           /* a string's once the model asked for it */
} member;

typedef struct {
	member *m;
	size_t n, cap;
	/*
	 * Keys and string values, each NUL-terminated: room for the whole line
	 * is made before it is read (its strings, decoded, are no longer), so
	 * that copying one is a memcpy.  It starts with the empty key.
	 */
	char *text;
	size_t text_len, text_cap;
	json_object *stack[RECORD_MAX_DEPTH]; /* the containers being filled */
	int depth;
	size_t key_off;               /* in text: the key of the value that comes next */
	unsigned char index[INDEX_SLOTS]; /* member i + 1, the last under its key; 0: free */
	bool failed;
	summary_text summary;         /* event_summary's, reused */
	struct interned {             /* event names and outcomes, shared by the model */
		char text[INTERN_LEN];
		json_object *value;
	} interned[INTERN_MAX];
	size_t ninterned;
} record;

static unsigned
slot_of(const char *key, size_t len)
{
	return len == 0 ? 0 : (unsigned)(len * 31 + (unsigned char)key[0] * 7 +
	    (unsigned char)key[len - 1]) % INDEX_SLOTS;
}

static bool
member_is(const record *r, const member *m, const char *key, size_t len)
{
	return m->key_len == len && m->key0 == key[0] && memcmp(r->text + m->key_off, key, len) == 0;
}

/* The last top-level member named key (a repeated one keeps the last, as json-c does). */
static member *
member_find(const record *r, const char *key)
{
	size_t len = strlen(key);

	if (r->n < INDEX_SLOTS / 2) {
		for (unsigned s = slot_of(key, len); r->index[s] != 0; s = (s + 1) % INDEX_SLOTS)
			if (member_is(r, &r->m[r->index[s] - 1], key, len))
				return &r->m[r->index[s] - 1];
		return NULL;
	}
	for (size_t i = r->n; i > 0; i--)
		if (member_is(r, &r->m[i - 1], key, len))
			return &r->m[i - 1];
	return NULL;
}

/* Indexes the member just added, in place of an earlier one under its key. */
static void
member_index(record *r)
{
	const member *m = &r->m[r->n - 1];
	const char *key = r->text + m->key_off;
	unsigned s;

	if (r->n >= INDEX_SLOTS / 2)
		return;  /* too many: searched in turn */
	for (s = slot_of(key, m->key_len); r->index[s] != 0; s = (s + 1) % INDEX_SLOTS)
		if (member_is(r, &r->m[r->index[s] - 1], key, m->key_len))
			break;
	r->index[s] = (unsigned char)r->n;
}

/* The value of a top-level member as a json-c value. */
static json_object *
member_get(const record *r, const char *key)
{
	member *m = member_find(r, key);

	if (m == NULL)
		return NULL;
	if (m->is_string && m->value == NULL)
		m->value = json_object_new_string_len(r->text + m->str_off, (int)m->str_len);
	return m->value;
}

/*
 * Adds a member under a key that is a string literal: json-c keeps the
 * pointer rather than a copy (a report of a million records adds millions).
 */
static void
put(json_object *obj, const char *literal_key, json_object *v)
{
	json_object_object_add_ex(obj, literal_key, v, JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

static const char *
str_value(json_object *o)
{
	return o != NULL && json_object_is_type(o, json_type_string) ? json_object_get_string(o) :
	    NULL;
}

static const char *
str_member(json_object *obj, const char *key)
{
	json_object *o;

	return json_object_object_get_ex(obj, key, &o) ? str_value(o) : NULL;
}

static const char *
rec_str(const record *r, const char *key)
{
	member *m = member_find(r, key);

	if (m == NULL)
		return NULL;
	return m->is_string ? r->text + m->str_off : str_value(m->value);
}

static void
record_clear(record *r)
{
	for (size_t i = 0; i < r->n; i++)
		json_object_put(r->m[i].value);
	for (int d = 0; d < r->depth; d++)
		json_object_put(r->stack[d]);
	r->n = 0;
	r->depth = 0;
	r->failed = false;
	memset(r->index, 0, sizeof(r->index));
	r->text_len = 1;
	r->key_off = 0;
}

/* Copies a key or a string into text; its offset, or SIZE_MAX past the room made. */
static size_t
text_put(record *r, const void *p, size_t len)
{
	size_t off = r->text_len;

	if (r->text_cap - r->text_len < len + 1) {
		r->failed = true;
		return SIZE_MAX;
	}
	memcpy(r->text + off, p, len);
	r->text[off + len] = '\0';
	r->text_len += len + 1;
	return off;
}

/* Adds a top-level member under the current key; its value is v or, with str, that text. */
static int
member_add(record *r, json_object *v, const unsigned char *str, size_t str_len)
{
	member *m;

	if (r->n == r->cap) {
		size_t cap = r->cap > 0 ? 2 * r->cap : 32;

		m = realloc(r->m, cap * sizeof(*m));
		if (m == NULL)
			goto fail;
		r->m = m;
		r->cap = cap;
	}
	m = &r->m[r->n];
	m->key_off = r->key_off;
	m->key_len = strlen(r->text + r->key_off);  /* as json-c: up to a \u0000 */
	m->key0 = r->text[r->key_off];
	m->is_string = str != NULL;
	m->value = v;
	if (str != NULL) {
		m->str_off = text_put(r, str, str_len);
		m->str_len = str_len;
		if (m->str_off == SIZE_MAX)
			goto fail;
	}
	r->n++;
	member_index(r);
	return 1;
fail:
	json_object_put(v);
	r->failed = true;
	return 0;
}

/* Places a finished value: in its container, or as a top-level member. */
static int
put_value(record *r, json_object *v)
{
	json_object *top;

	if (r->depth == 0) {
		json_object_put(v);
		r->failed = true;
		return 0;
	}
	if (r->depth == 1)
		return member_add(r, v, NULL, 0);
	top = r->stack[r->depth - 1];
	if (json_object_is_type(top, json_type_array))
		return json_object_array_add(top, v) == 0 ? 1 : (json_object_put(v), r->failed = true, 0);
	if (json_object_object_add(top, r->text + r->key_off, v) != 0) {
		json_object_put(v);
		r->failed = true;
		return 0;
	}
	return 1;
}

static int
rd_null(void *ctx)
{
	return put_value(ctx, NULL);
}

static int
rd_bool(void *ctx, int b)
{
	return put_value(ctx, json_object_new_boolean(b));
}

/* Numbers as json-c's tokener makes them: int64, else a double keeping its text. */
static int
rd_number(void *ctx, const char *s, size_t len)
{
	char small[32], *text = len < sizeof(small) ? small : malloc(len + 1), *end;
	long long i = 0;
	bool integer;
	int ret;

	if (text == NULL) {
		((record *)ctx)->failed = true;
		return 0;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	integer = strpbrk(text, ".eE") == NULL;
	if (integer) {
		errno = 0;
		i = strtoll(text, &end, 10);
		integer = errno == 0 && *end == '\0';
	}
	ret = put_value(ctx, integer ? json_object_new_int64(i) :
	    json_object_new_double_s(strtod(text, NULL), text));
	if (text != small)
		free(text);
	return ret;
}

static int
rd_string(void *ctx, const unsigned char *s, size_t len)
{
	record *r = ctx;

	if (r->depth == 1)
		return member_add(r, NULL, s, len);
	return put_value(ctx, json_object_new_string_len((const char *)s, (int)len));
}

/*
 * A container goes into its parent when it opens, while its key is the
 * current one; it stays on the stack (with a reference) until it closes.
 */
static int
rd_open(record *r, json_object *c)
{
	if (c == NULL || r->depth == RECORD_MAX_DEPTH) {
		json_object_put(c);
		r->failed = true;
		return 0;
	}
	if (r->depth > 0 && put_value(r, json_object_get(c)) == 0) {
		json_object_put(c);
		return 0;
	}
	r->stack[r->depth++] = c;
	return 1;
}

static int
rd_start_map(void *ctx)
{
	record *r = ctx;

	if (r->depth == 0) {  /* the record itself: its members are kept apart */
		r->stack[r->depth++] = NULL;
		return 1;
	}
	return rd_open(r, json_object_new_object());
}

static int
rd_start_array(void *ctx)
{
	record *r = ctx;

	if (r->depth == 0) {  /* a record is an object */
		r->failed = true;
		return 0;
	}
	return rd_open(r, json_object_new_array());
}

/* Copied: yajl may decode the value that follows into the same buffer. */
static int
rd_key(void *ctx, const unsigned char *key, size_t len)
{
	record *r = ctx;
	size_t off = text_put(r, key, len);

	if (off == SIZE_MAX)
		return 0;
	r->key_off = off;
	return 1;
}

static int
rd_end(void *ctx)
{
	record *r = ctx;

	json_object_put(r->stack[--r->depth]);
	return 1;
}

static const yajl_callbacks record_callbacks = {
	.yajl_null = rd_null,
	.yajl_boolean = rd_bool,
	.yajl_number = rd_number,
	.yajl_string = rd_string,
	.yajl_start_map = rd_start_map,
	.yajl_map_key = rd_key,
	.yajl_end_map = rd_end,
	.yajl_start_array = rd_start_array,
	.yajl_end_array = rd_end,
};

static void
record_restart(void *ctx)
{
	record_clear(ctx);
}

/* Reads one line as a record object; false if it is not one. */
static bool
record_read(record *r, const char *line, size_t len)
{
	size_t need = 2 * len + 16;  /* every key and string with its NUL, and more */

	if (need > r->text_cap) {
		char *grown = realloc(r->text, need);

		if (grown == NULL)
			return false;
		r->text = grown;
		r->text_cap = need;
		r->text[0] = '\0';  /* the empty key */
	}
	record_clear(r);
	return bg_journal_parse_line(&record_callbacks, record_restart, r, line, len) &&
	    !r->failed;
}

/* Copies a member (any type) into dst unless dst has it already. */
static void
keep_first(json_object *dst, const char *dst_key, record *src, const char *src_key)
{
	json_object *v;

	if (json_object_object_get_ex(dst, dst_key, NULL))
		return;
	if ((v = member_get(src, src_key)) != NULL)
		put(dst, dst_key, json_object_get(v));
}

static json_object *
array_member(json_object *obj, const char *key)
{
	json_object *a;

	if (!json_object_object_get_ex(obj, key, &a)) {
		a = json_object_new_array();
		put(obj, key, a);
	}
	return a;
}

static void
count(json_object *counts, const char *key)
{
	json_object *c;

	if (json_object_object_get_ex(counts, key, &c))
		json_object_set_int(c, json_object_get_int(c) + 1);
	else
		json_object_object_add(counts, key, json_object_new_int(1));
}

/* Appends the pieces as one, or nothing if they would pass the summary's cap. */
static void
summary_piece(summary_text *b, const char *sep, const char *s, const char *end)
{
	size_t ls = strlen(sep), l = strlen(s), le = strlen(end);

	if (ls + l + le > SUMMARY_MAX - b->len)
		return;
	memcpy(b->text + b->len, sep, ls);
	memcpy(b->text + b->len + ls, s, l);
	memcpy(b->text + b->len + ls + l, end, le);
	b->len += ls + l + le;
}

/* One line of summary for an event in the timeline (NULL: none). */
static json_object *
event_summary(record *rec)
{
	const char *reason = rec_str(rec, "reason");
	const char *text = rec_str(rec, "text");
	json_object *argv;

	if ((argv = member_get(rec, "argv")) != NULL &&
	    json_object_is_type(argv, json_type_array)) {
		size_t n = json_object_array_length(argv);
		summary_text *b = &rec->summary;

		b->len = 0;
		for (size_t i = 0; i < n; i++) {
			const char *a = json_object_get_string(json_object_array_get_idx(argv, i));

			summary_piece(b, i > 0 ? " " : "", a != NULL ? a : "", "");
		}
		if (reason != NULL)
			summary_piece(b, " (", reason, ")");
		return b->len > 0 ? json_object_new_string_len(b->text, (int)b->len) : NULL;
	}
	if (reason != NULL)
		return json_object_new_string(reason);
	if (text != NULL)
		return json_object_new_string(text);
	return NULL;
}

/*
 * What folding a record into its incident looks up every time, kept beside
 * the incident's object (as its json-c userdata, which no output shows): its
 * counts and events, and which first-seen members it holds already.
 */
typedef struct {
	json_object *counts, *events;
	unsigned held;                /* 1 << HELD_* */
} incident_state;

enum { HELD_ACCOUNT, HELD_OPERATOR, HELD_HOST, HELD_REQUEST_ID, HELD_FIRST_SEEN };

static void
incident_state_free(json_object *inc, void *state)
{
	(void)inc;
	free(state);
}

/* The incident's object, made on first sight; NULL without memory. */
static json_object *
incident_for(json_object *incidents, const char *id)
{
	incident_state *st;
	json_object *inc;

	if (json_object_object_get_ex(incidents, id, &inc))
		return inc;
	if ((st = calloc(1, sizeof(*st))) == NULL || (inc = json_object_new_object()) == NULL) {
		free(st);
		return NULL;
	}
	put(inc, "incident", json_object_new_string(id));
	st->counts = json_object_new_object();
	put(inc, "counts", st->counts);
	json_object_set_userdata(inc, st, incident_state_free);
	json_object_object_add(incidents, id, inc);
	return inc;
}

/* keep_first, for a member the incident keeps once it holds it. */
static void
keep_held(json_object *inc, incident_state *st, int held, const char *dst_key, record *src,
    const char *src_key)
{
	if ((st->held & 1U << held) != 0)
		return;
	keep_first(inc, dst_key, src, src_key);
	if (json_object_object_get_ex(inc, dst_key, NULL))
		st->held |= 1U << held;
}

static double
seconds_between(const char *a, const char *b)
{
	time_t ta, tb;

	if (a == NULL || b == NULL || bg_time_parse_utc(a, &ta, NULL) != BG_OK ||
	    bg_time_parse_utc(b, &tb, NULL) != BG_OK)
		return -1;
	return difftime(tb, ta);
}

/*
 * The value of set_str(obj, key, s), one json-c string for each of the few
 * texts a million records repeat (event names, outcomes, decisions).
 */
static json_object *
interned(record *rec, const char *s)
{
	size_t len;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	for (size_t i = 0; i < rec->ninterned; i++)
		if (strcmp(rec->interned[i].text, s) == 0)
			return json_object_get(rec->interned[i].value);
	if (len >= INTERN_LEN || rec->ninterned == INTERN_MAX)
		return json_object_new_string(s);
	memcpy(rec->interned[rec->ninterned].text, s, len + 1);
	rec->interned[rec->ninterned].value = json_object_new_string(s);
	return json_object_get(rec->interned[rec->ninterned++].value);
}

/* The value of set_str(obj, key, rec_str(rec, key)): the record's own, shared. */
static json_object *
shared_str(record *rec, const char *key)
{
	json_object *v = member_get(rec, key);
	const char *s = str_value(v);

	if (s == NULL)
		return NULL;
	/* A string holding \u0000 is set as the C string: up to it. */
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return json_object_new_string(s);
	return json_object_get(v);
}

static void
set_str(json_object *obj, const char *key, const char *value)
{
	put(obj, key, value != NULL ? json_object_new_string(value) : NULL);
}

/* The incident's recovery (protocol R1) with this challenge, made on first sight. */
static json_object *
recovery_for(json_object *inc, const char *challenge)
{
	json_object *list = array_member(inc, "recoveries"), *r;
	char id[64];

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		r = json_object_array_get_idx(list, i);
		if (strcmp(str_member(r, "challenge"), challenge) == 0)
			return r;
	}
	snprintf(id, sizeof(id), "R1-%s", challenge);
	r = json_object_new_object();
	set_str(r, "recovery_id", id);
	set_str(r, "challenge", challenge);
	set_str(r, "outcome", "offered");
	put(r, "approvers", json_object_new_array());
	json_object_array_add(list, r);
	return r;
}

/* A unix time member as RFC 3339 UTC; fallback (a record's time) when absent. */
static void
set_time(json_object *obj, const char *key, record *rec, const char *rec_key,
    const char *fallback)
{
	char when[BG_TIME_UTC_LEN];
	json_object *v = member_get(rec, rec_key);

	if (v != NULL && json_object_is_type(v, json_type_int)) {
		bg_time_format_utc((time_t)json_object_get_int64(v), when);
		set_str(obj, key, when);
	} else {
		set_str(obj, key, fallback);
	}
}

/*
 * The granted record's approvers, in its order, each with the time their
 * code was last accepted for this challenge (never two entries for one name).
 */
static void
granted_approvers(json_object *r, record *rec)
{
	json_object *names = member_get(rec, "approvers"), *seen = array_member(r, "approvers");
	json_object *list = json_object_new_array();

	if (names != NULL && json_object_is_type(names, json_type_array))
		for (size_t i = 0; i < json_object_array_length(names); i++) {
			const char *name = json_object_get_string(json_object_array_get_idx(names, i));
			json_object *item = json_object_new_object();
			const char *when = NULL;

			for (size_t k = 0; name != NULL && k < json_object_array_length(seen); k++) {
				json_object *a = json_object_array_get_idx(seen, k);
				const char *who = str_member(a, "approver");

				if (who != NULL && strcmp(who, name) == 0)
					when = str_member(a, "at");
			}
			set_str(item, "approver", name);
			set_str(item, "at", when);
			json_object_array_add(list, item);
		}
	put(r, "approvers", list);
}

/*
 * The approval events that end a request without an approval.  The others
 * (approval.voted, one approver's vote in approvald's journal; approval.probed,
 * a host's check of the service) refuse nothing.
 */
static bool
approval_refusal(const char *event)
{
	return strcmp(event, "approval.denied") == 0 || strcmp(event, "approval.expired") == 0 ||
	    strcmp(event, "approval.error") == 0;
}

/*
 * recovery.* records: per challenge, what was offered, each approver whose
 * code was accepted and when, and how it ended.  Never a code: the journal
 * holds none.
 */
static void
apply_recovery(json_object *inc, record *rec, const char *event, const char *time)
{
	const char *challenge = rec_str(rec, "challenge");
	json_object *r, *item;

	/* Refused before a challenge was issued (scope, signals): the timeline has it. */
	if (challenge == NULL)
		return;
	r = recovery_for(inc, challenge);
	if (strcmp(event, "recovery.offered") == 0) {
		/* Each login shown the challenge starts over: its codes are its own. */
		keep_first(r, "offered_at", rec, "time");
		keep_first(r, "scope", rec, "scope");
		keep_first(r, "quorum", rec, "quorum");
		put(r, "approvers", json_object_new_array());
		json_object_object_del(r, "reason");
		set_str(r, "outcome", "offered");
		keep_first(inc, "scope", rec, "scope");
	} else if (strcmp(event, "recovery.code_accepted") == 0) {
		item = json_object_new_object();
		set_str(item, "approver", rec_str(rec, "approver"));
		set_time(item, "at", rec, "at", time);
		json_object_array_add(array_member(r, "approvers"), item);
	} else if (strcmp(event, "recovery.code_refused") == 0) {
		item = json_object_new_object();
		set_str(item, "approver", rec_str(rec, "approver"));
		set_str(item, "reason", rec_str(rec, "reason"));
		set_str(item, "at", time);
		json_object_array_add(array_member(r, "refused_codes"), item);
	} else if (strcmp(event, "recovery.granted") == 0) {
		set_str(r, "outcome", "granted");
		granted_approvers(r, rec);
		keep_first(r, "scope", rec, "scope");
		keep_first(r, "host", rec, "host");
		keep_first(r, "account", rec, "account");
		keep_first(r, "operator", rec, "operator");
		keep_first(r, "incident", rec, "incident");
		keep_first(r, "signals_state", rec, "signals_state");
		set_time(r, "issued_at", rec, "issued_at", time);
		set_time(r, "expires_at", rec, "expires_at", NULL);
	} else if (strcmp(event, "recovery.refused") == 0) {
		set_str(r, "outcome", "refused");
		set_str(r, "reason", rec_str(rec, "reason"));
	}
}

/* Folds one record into its incident. */
static void
apply_record(json_object *inc, record *rec)
{
	const char *event = rec_str(rec, "event"), *time = rec_str(rec, "time");
	const char *outcome = rec_str(rec, "outcome");
	json_object *entry, *grant, *o;
	incident_state *st = json_object_get_userdata(inc);

	keep_held(inc, st, HELD_ACCOUNT, "account", rec, "account");
	keep_held(inc, st, HELD_OPERATOR, "operator", rec, "operator");
	keep_held(inc, st, HELD_HOST, "host", rec, "host");
	keep_held(inc, st, HELD_REQUEST_ID, "request_id", rec, "request_id");
	keep_held(inc, st, HELD_FIRST_SEEN, "first_seen", rec, "time");
	put(inc, "last_seen", shared_str(rec, "time"));
	count(st->counts, event);

	entry = json_object_new_object();
	put(entry, "seq", json_object_get(member_get(rec, "seq")));
	put(entry, "time", shared_str(rec, "time"));
	put(entry, "event", interned(rec, event));
	put(entry, "outcome", interned(rec, outcome));
	put(entry, "summary", event_summary(rec));
	if (st->events == NULL)
		st->events = array_member(inc, "events");
	json_object_array_add(st->events, entry);

	if (strcmp(event, "auth.begin") == 0) {
		keep_first(inc, "reason", rec, "reason");
		keep_first(inc, "scope", rec, "scope");
	} else if (strcmp(event, "signals.checked") == 0) {
		keep_first(inc, "signals", rec, "signals");
	} else if (strcmp(event, "approval.requested") == 0) {
		keep_first(inc, "requested_at", rec, "time");
		keep_first(inc, "scope", rec, "scope");
	} else if (strcmp(event, "approval.approved") == 0) {
		json_object *approvers, *list = array_member(inc, "approvers");

		set_str(inc, "approved_at", time);
		if ((approvers = member_get(rec, "approvers")) != NULL &&
		    json_object_is_type(approvers, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(approvers); i++) {
				json_object *a = json_object_array_get_idx(approvers, i), *item;

				item = json_object_new_object();
				if (json_object_is_type(a, json_type_object)) {
					set_str(item, "approver", str_member(a, "approver"));
					set_str(item, "at", str_member(a, "at") != NULL ? str_member(a, "at") : time);
				} else {
					set_str(item, "approver", json_object_get_string(a));
					set_str(item, "at", time);
				}
				json_object_array_add(list, item);
			}
		}
		{
			const char *req = json_object_object_get_ex(inc, "requested_at", &o) ?
			    json_object_get_string(o) : NULL;
			double s = seconds_between(req, time);

			if (s >= 0)
				put(inc, "approval_seconds", json_object_new_double(s));
		}
	} else if (strncmp(event, "recovery.", 9) == 0) {
		apply_recovery(inc, rec, event, time);
	} else if (approval_refusal(event)) {
		set_str(inc, "approval_refused", rec_str(rec, "reason") != NULL ?
		    rec_str(rec, "reason") : event + 9);
	} else if (strncmp(event, "grant.", 6) == 0) {
		if (!json_object_object_get_ex(inc, "grant", &grant)) {
			grant = json_object_new_object();
			set_str(grant, "ended", "active");
			put(inc, "grant", grant);
		}
		if (strcmp(event, "grant.issued") == 0) {
			set_str(grant, "issued", time);
			keep_first(grant, "issued_at", rec, "issued_at");
			keep_first(grant, "expires_at", rec, "expires_at");
			keep_first(grant, "scope", rec, "scope");
			keep_first(grant, "recovery", rec, "recovery");
		} else {
			const char *why = rec_str(rec, "reason");

			set_str(grant, "ended", strcmp(event, "grant.expired") == 0 ? "expired" :
			    why != NULL ? why : "revoked");
			set_str(grant, "ended_at", time);
			{
				json_object *iss;
				const char *issued = json_object_object_get_ex(grant, "issued", &iss) ?
				    json_object_get_string(iss) : NULL;
				double s = seconds_between(issued, time);

				if (s >= 0)
					put(grant, "lifetime_seconds",
					    json_object_new_double(s));
			}
		}
	} else if (strncmp(event, "sudo.", 5) == 0) {
		json_object *cmd = json_object_new_object();

		put(cmd, "time", shared_str(rec, "time"));
		put(cmd, "decision", interned(rec, strcmp(event, "sudo.accepted") == 0 ? "accepted" :
		    "refused"));
		keep_first(cmd, "argv", rec, "argv");
		keep_first(cmd, "runas", rec, "runas");
		keep_first(cmd, "cwd", rec, "cwd");
		keep_first(cmd, "reason", rec, "reason");
		json_object_array_add(array_member(inc, "commands"), cmd);
	} else if (strcmp(event, "session.opened") == 0 || strcmp(event, "session.closed") == 0) {
		json_object *s = json_object_new_object();

		set_str(s, "time", time);
		set_str(s, "event", event + 8);
		keep_first(s, "tty", rec, "tty");
		keep_first(s, "rhost", rec, "rhost");
		json_object_array_add(array_member(inc, "sessions"), s);
	}
}

static bool
record_selected(record *rec, const bg_report_filter *f)
{
	const char *time = rec_str(rec, "time"), *incident = rec_str(rec, "incident");
	time_t t;

	if (f->incident != NULL && (incident == NULL || strcmp(incident, f->incident) != 0))
		return false;
	if (f->since == 0 && f->until == 0)
		return true;
	if (time == NULL || bg_time_parse_utc(time, &t, NULL) != BG_OK)
		return false;
	return (f->since == 0 || t >= f->since) && (f->until == 0 || t < f->until);
}

/* Adds events that name no incident (kill switch, notes without one) to "host_events". */
static void
apply_unattributed(json_object *model, record *rec)
{
	json_object *entry = json_object_new_object();

	put(entry, "seq", json_object_get(member_get(rec, "seq")));
	put(entry, "time", shared_str(rec, "time"));
	put(entry, "event", interned(rec, rec_str(rec, "event")));
	put(entry, "outcome", interned(rec, rec_str(rec, "outcome")));
	set_str(entry, "account", rec_str(rec, "account"));
	put(entry, "summary", event_summary(rec));
	json_object_array_add(array_member(model, "host_events"), entry);
}

static bg_status
read_file_records(const char *path, const bg_report_filter *filter,
    json_object *incidents, json_object *model, bool limited, unsigned long long limit,
    unsigned long long *seen, record *rec, bg_error *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bg_status rc = BG_OK;

	if (f == NULL)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *incident;
		json_object *inc = NULL;

		if (limited && *seen >= limit)
			break;
		if (n > REPORT_MAX_LINE)
			break;
		if (!record_read(rec, line, (size_t)n) || rec_str(rec, "event") == NULL ||
		    rec_str(rec, "time") == NULL)
			break;
		(*seen)++;
		if (record_selected(rec, filter)) {
			incident = rec_str(rec, "incident");
			if (incident != NULL && (inc = incident_for(incidents, incident)) == NULL) {
				rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
				break;
			}
			if (inc != NULL)
				apply_record(inc, rec);
			else if (filter->incident == NULL)
				apply_unattributed(model, rec);
		}
	}
	free(line);
	fclose(f);
	return rc;
}

static void
summarise(json_object *model, json_object *list)
{
	json_object *summary = json_object_new_object();
	size_t n = json_object_array_length(list);
	int accepted = 0, refused = 0, approved = 0, recovered = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *inc = json_object_array_get_idx(list, i), *cmds, *counts, *c, *recs;

		if (json_object_object_get_ex(inc, "commands", &cmds))
			for (size_t k = 0; k < json_object_array_length(cmds); k++) {
				const char *d = str_member(json_object_array_get_idx(cmds, k), "decision");

				if (d != NULL && strcmp(d, "accepted") == 0)
					accepted++;
				else
					refused++;
			}
		if (json_object_object_get_ex(inc, "counts", &counts) &&
		    json_object_object_get_ex(counts, "approval.approved", &c))
			approved += json_object_get_int(c);
		/* An offline recovery's quorum is an approval too, counted apart. */
		if (json_object_object_get_ex(inc, "recoveries", &recs))
			for (size_t k = 0; k < json_object_array_length(recs); k++) {
				const char *o = str_member(json_object_array_get_idx(recs, k), "outcome");

				if (o != NULL && strcmp(o, "granted") == 0)
					recovered++;
			}
	}
	put(summary, "incidents", json_object_new_int((int)n));
	put(summary, "approvals", json_object_new_int(approved));
	put(summary, "recovery_grants", json_object_new_int(recovered));
	put(summary, "sudo_accepted", json_object_new_int(accepted));
	put(summary, "sudo_refused", json_object_new_int(refused));
	put(model, "summary", summary);
}

bg_status
bg_report_build(const char *const *files, size_t nfiles, const bg_report_filter *filter,
    const bg_verify_result *verify, bool verified, json_object **model_out, bg_error *err)
{
	json_object *model = json_object_new_object(), *incidents = json_object_new_object();
	json_object *list = json_object_new_array();
	unsigned long long seen = 0;
	bg_status rc = BG_OK;
	record rec = { 0 };

	*model_out = NULL;
	put(model, "verified", json_object_new_boolean(verified));
	if (!verified) {
		char where[BG_ERROR_MAX + 300];

		snprintf(where, sizeof(where), "%s:%lu: %s", verify->file, verify->line, verify->reason);
		set_str(model, "verify_error", where);
	}
	put(model, "records_verified",
	    json_object_new_int64((int64_t)verify->records));
	set_str(model, "incident_filter", filter->incident);
	for (size_t i = 0; i < nfiles && rc == BG_OK; i++)
		/* Past the first bad record nothing is trusted: report only what verified. */
		rc = read_file_records(files[i], filter, incidents, model, !verified,
		    verify->records, &seen, &rec, err);
	record_clear(&rec);
	free(rec.m);
	free(rec.text);
	for (size_t i = 0; i < rec.ninterned; i++)
		json_object_put(rec.interned[i].value);
	if (!verified && verify->records == 0)
		put(model, "note", json_object_new_string(
		    "no record could be verified; nothing is reported"));
	{
		json_object_object_foreach(incidents, key, inc) {
			(void)key;
			json_object_array_add(list, json_object_get(inc));
		}
	}
	json_object_put(incidents);
	put(model, "incidents", list);
	summarise(model, list);
	if (rc != BG_OK) {
		json_object_put(model);
		return rc;
	}
	*model_out = model;
	return BG_OK;
}
