/*
 * Schema-driven INI reader.
 *
 * The reader never guesses: anything it does not understand is an error that
 * names file:line, every error is collected so an administrator can fix the
 * file in one pass, and a file with any error yields nothing at all, so a
 * caller can never act on half a configuration.
 */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "ini.h"

/* Past this many errors the input is not a configuration file: stop. */
#define INI_MAX_ERRORS 50
/* Longest section NAME and key name. */
#define INI_MAX_NAME 64
/* How much of a rejected (non-secret) value a message quotes back. */
#define INI_ECHO_MAX 64
/* Bytes of a HEX32 value. */
#define INI_HEX32_LEN 32
/* Longest host name (RFC 1035) plus room for an IPv6 literal. */
#define INI_MAX_HOST 255
#define INI_MAX_PORT 65535UL

#define SECONDS_PER_MINUTE 60UL
#define SECONDS_PER_HOUR 3600UL
#define SECONDS_PER_DAY 86400UL

struct ini_parser {
	const char *path;
	const bg_cfg_schema *schema;
	void *root;
	bg_errlist *errs;
	size_t nerrors;          /* errors of this parse (errs may hold older ones) */
	bool stopped;            /* too many errors, or out of memory */
	unsigned line;
	const bg_cfg_section *sec;  /* section receiving keys; NULL: none yet */
	size_t elem;             /* element index when sec is named */
	bool skipping;           /* the current header was refused: ignore its keys */
	bool partial;            /* skip sections and keys the schema does not list */
};

static void ini_error(struct ini_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
ini_error(struct ini_parser *p, unsigned line, const char *fmt, ...)
{
	char msg[BG_ERROR_MAX];
	va_list ap;

	if (p->stopped)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bg_errlist_add(p->errs, "%s:%u: %s", p->path, line, msg);
	/* Counted here, not in errs: bg_errlist_add may drop a message on ENOMEM. */
	if (++p->nerrors >= INI_MAX_ERRORS) {
		bg_errlist_add(p->errs, "%s:%u: too many errors, giving up",
		    p->path, line);
		p->stopped = true;
	}
}

/* ------------------------------------------------------------------ */
/* Where section structs live inside the root. */

static void *
unnamed_struct(const bg_cfg_section *sec, void *root)
{
	return (char *)root + sec->offset;
}

static void **
named_array(const bg_cfg_section *sec, void *root)
{
	return (void **)(void *)((char *)root + sec->offset);
}

static size_t *
named_count(const bg_cfg_section *sec, void *root)
{
	return (size_t *)(void *)((char *)root + sec->count_offset);
}

static void *
named_elem(const bg_cfg_section *sec, void *root, size_t i)
{
	return (char *)*named_array(sec, root) + i * sec->size;
}

static void *
current_struct(const struct ini_parser *p)
{
	if (p->sec->named)
		return named_elem(p->sec, p->root, p->elem);
	return unnamed_struct(p->sec, p->root);
}

/* "[general] ", "[signal NAME] ", or "" for keys outside any header. */
static void
section_label(const bg_cfg_section *sec, const bg_cfg_meta *meta, char *out,
    size_t outsz)
{
	if (sec->name == NULL)
		snprintf(out, outsz, "%s", "");
	else if (meta->name != NULL)
		snprintf(out, outsz, "[%s %s] ", sec->name, meta->name);
	else
		snprintf(out, outsz, "[%s] ", sec->name);
}

/* ------------------------------------------------------------------ */
/* Small lexical helpers. */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char *
skip_blanks(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static void
trim_right(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
}

/* Key names: what a schema can hold, so anything else is a typo or garbage. */
static bool
valid_key_name(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!is_alnum(s[n]) && s[n] != '_' && s[n] != '-')
			return false;
	return n > 0 && n <= INI_MAX_NAME;
}

/*
 * Section NAMEs end up in prompts, journal records and file names (scope,
 * signal source), so they are kept to a conservative alphabet.
 */
static bool
valid_section_name(const char *s)
{
	size_t n = 0;

	if (s[0] == '-' || s[0] == '.')
		return false;
	for (; s[n] != '\0'; n++)
		if (!is_alnum(s[n]) && s[n] != '_' && s[n] != '-' && s[n] != '.')
			return false;
	return n > 0 && n <= INI_MAX_NAME;
}

/* Digits only, at least one, without wrapping; *end gets the first non-digit. */
static bool
parse_digits(const char *s, const char **end, unsigned long *out)
{
	unsigned long v = 0;
	const char *q = s;

	for (; is_digit(*q); q++) {
		unsigned long d = (unsigned long)(*q - '0');

		if (v > (ULONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (q == s)
		return false;
	*end = q;
	*out = v;
	return true;
}

bg_status
bg_parse_duration(const char *s, unsigned long *out, bg_error *err)
{
	unsigned long v, mult;
	const char *end;

	if (s == NULL || *s == '\0')
		return bg_error_set(err, BG_ERR_INVALID, "empty duration");
	if (!is_digit(*s))
		return bg_error_set(err, BG_ERR_INVALID,
		    "a duration is digits with an optional s, m, h or d suffix");
	if (!parse_digits(s, &end, &v))
		return bg_error_set(err, BG_ERR_INVALID, "duration out of range");
	switch (*end) {
	case '\0':
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = SECONDS_PER_MINUTE;
		break;
	case 'h':
		mult = SECONDS_PER_HOUR;
		break;
	case 'd':
		mult = SECONDS_PER_DAY;
		break;
	default:
		return bg_error_set(err, BG_ERR_INVALID,
		    "a duration is digits with an optional s, m, h or d suffix");
	}
	if (*end != '\0' && end[1] != '\0')
		return bg_error_set(err, BG_ERR_INVALID,
		    "a duration is digits with an optional s, m, h or d suffix");
	if (v > ULONG_MAX / mult)
		return bg_error_set(err, BG_ERR_INVALID, "duration out of range");
	*out = v * mult;
	return BG_OK;
}

/* ------------------------------------------------------------------ */
/* URLs: enough checking to refuse what would surprise curl or leak. */

static bg_status
url_host_part(const char *auth, size_t alen, char *host, size_t hostsz,
    bg_error *err)
{
	const char *h = auth, *port = NULL;
	size_t hlen;

	if (alen == 0)
		return bg_error_set(err, BG_ERR_INVALID, "URL has no host");
	if (memchr(auth, '@', alen) != NULL)
		return bg_error_set(err, BG_ERR_INVALID,
		    "URL must not carry credentials (user@host)");
	if (auth[0] == '[') {
		const char *close = memchr(auth, ']', alen);

		if (close == NULL)
			return bg_error_set(err, BG_ERR_INVALID,
			    "URL has an unterminated IPv6 literal");
		h = auth + 1;
		hlen = (size_t)(close - h);
		for (size_t i = 0; i < hlen; i++)
			if (!is_hex(h[i]) && h[i] != ':' && h[i] != '.')
				return bg_error_set(err, BG_ERR_INVALID,
				    "URL has a malformed IPv6 literal");
		if (close + 1 < auth + alen) {
			if (close[1] != ':')
				return bg_error_set(err, BG_ERR_INVALID,
				    "URL has text after its IPv6 literal");
			port = close + 2;
		}
	} else {
		const char *colon = memchr(auth, ':', alen);

		hlen = colon != NULL ? (size_t)(colon - auth) : alen;
		for (size_t i = 0; i < hlen; i++)
			if (!is_alnum(h[i]) && h[i] != '.' && h[i] != '-' &&
			    h[i] != '_')
				return bg_error_set(err, BG_ERR_INVALID,
				    "URL has an invalid host name");
		if (colon != NULL)
			port = colon + 1;
	}
	if (hlen == 0)
		return bg_error_set(err, BG_ERR_INVALID, "URL has no host");
	if (port != NULL) {
		unsigned long pv = 0;
		const char *p = port;

		for (; p < auth + alen; p++) {
			if (!is_digit(*p))
				return bg_error_set(err, BG_ERR_INVALID,
				    "URL has an invalid port");
			pv = pv * 10 + (unsigned long)(*p - '0');
			if (pv > INI_MAX_PORT)
				return bg_error_set(err, BG_ERR_INVALID,
				    "URL has an invalid port");
		}
		if (p == port || pv == 0)
			return bg_error_set(err, BG_ERR_INVALID,
			    "URL has an invalid port");
	}
	if (host != NULL) {
		if (hlen >= hostsz)
			return bg_error_set(err, BG_ERR_INVALID,
			    "URL host is too long");
		memcpy(host, h, hlen);
		host[hlen] = '\0';
	}
	return BG_OK;
}

bg_status
bg_url_host(const char *url, bool *https, char *host, size_t hostsz,
    bg_error *err)
{
	static const char http_prefix[] = "http://";
	static const char https_prefix[] = "https://";
	const char *auth;
	size_t alen;
	bool tls;

	if (strncmp(url, https_prefix, sizeof(https_prefix) - 1) == 0) {
		tls = true;
		auth = url + sizeof(https_prefix) - 1;
	} else if (strncmp(url, http_prefix, sizeof(http_prefix) - 1) == 0) {
		tls = false;
		auth = url + sizeof(http_prefix) - 1;
	} else
		return bg_error_set(err, BG_ERR_INVALID,
		    "URL must start with http:// or https://");
	for (const unsigned char *c = (const unsigned char *)url; *c != '\0'; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return bg_error_set(err, BG_ERR_INVALID,
			    "URL must not contain spaces, control or non-ASCII characters");
	alen = strcspn(auth, "/?#");
	if (url_host_part(auth, alen, host, hostsz, err) != BG_OK)
		return BG_ERR_INVALID;
	if (https != NULL)
		*https = tls;
	return BG_OK;
}

/* ------------------------------------------------------------------ */
/* Lists. */

void
bg_strlist_free(bg_strlist *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	free(l->lines);
	l->items = NULL;
	l->lines = NULL;
	l->count = 0;
}

unsigned
bg_strlist_line(const bg_strlist *l, size_t i, unsigned fallback)
{
	if (l == NULL || l->lines == NULL || i >= l->count || l->lines[i] == 0)
		return fallback;
	return l->lines[i];
}

bool
bg_strlist_contains(const bg_strlist *l, const char *s)
{
	if (l == NULL || s == NULL)
		return false;
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

static bool
strlist_append(bg_strlist *l, const char *s, size_t n, unsigned line)
{
	char **items, *copy;
	unsigned *lines;

	if (l->count >= SIZE_MAX / sizeof(*l->items) - 1)
		return false;
	copy = strndup(s, n);
	if (copy == NULL)
		return false;
	/* Either array may grow alone: count only moves once both have. */
	items = realloc(l->items, (l->count + 1) * sizeof(*l->items));
	if (items != NULL)
		l->items = items;
	lines = items == NULL ? NULL :
	    realloc(l->lines, (l->count + 1) * sizeof(*l->lines));
	if (lines == NULL) {
		free(copy);
		return false;
	}
	l->lines = lines;
	l->lines[l->count] = line;
	l->items[l->count++] = copy;
	return true;
}

/* Zeroes a string before freeing it: STRING keys may hold secrets. */
static void
free_string(char **s)
{
	if (*s == NULL)
		return;
	explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

/* ------------------------------------------------------------------ */
/* Values. */

static bg_status
run_check(const bg_cfg_key *key, const char *value, bg_error *err)
{
	if (key->check == NULL)
		return BG_OK;
	if (key->check(value, err) != BG_OK) {
		bg_error_prefix(err, "%s", key->name);
		return BG_ERR_INVALID;
	}
	return BG_OK;
}

static bg_status
check_bounds(const bg_cfg_key *key, unsigned long v, const char *unit,
    bg_error *err)
{
	if (v < key->min)
		return bg_error_set(err, BG_ERR_INVALID, "%s: must be at least %lu%s",
		    key->name, key->min, unit);
	if (key->max != 0 && v > key->max)
		return bg_error_set(err, BG_ERR_INVALID, "%s: must be at most %lu%s",
		    key->name, key->max, unit);
	return BG_OK;
}

static bg_status
store_bool(const bg_cfg_key *key, bool *dst, const char *value, bg_error *err)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };

	for (size_t i = 0; yes[i] != NULL; i++) {
		if (strcmp(value, yes[i]) == 0) {
			*dst = true;
			return BG_OK;
		}
		if (strcmp(value, no[i]) == 0) {
			*dst = false;
			return BG_OK;
		}
	}
	return bg_error_set(err, BG_ERR_INVALID,
	    "%s: expected yes/no, true/false, on/off or 1/0, not \"%.*s\"",
	    key->name, INI_ECHO_MAX, value);
}

static bg_status
store_enum(const bg_cfg_key *key, unsigned *dst, const char *value, bg_error *err)
{
	char list[BG_ERROR_MAX / 2];
	size_t used = 0;

	if (key->choices == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "%s: no choices in schema",
		    key->name);
	for (unsigned i = 0; key->choices[i] != NULL; i++)
		if (strcmp(value, key->choices[i]) == 0) {
			*dst = i;
			return BG_OK;
		}
	list[0] = '\0';
	for (size_t i = 0; key->choices[i] != NULL && used < sizeof(list); i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s",
		    i > 0 ? ", " : "", key->choices[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return bg_error_set(err, BG_ERR_INVALID, "%s: expected one of %s, not \"%.*s\"",
	    key->name, list, INI_ECHO_MAX, value);
}

static bg_status
store_words(const bg_cfg_key *key, bg_strlist *dst, const char *value,
    unsigned line, bg_error *err)
{
	const char *s = value;
	size_t added = 0;

	for (;;) {
		size_t n;

		while (is_blank(*s))
			s++;
		if (*s == '\0')
			break;
		n = strcspn(s, " \t");
		if (!strlist_append(dst, s, n, line))
			return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		added++;
		if (run_check(key, dst->items[dst->count - 1], err) != BG_OK)
			return BG_ERR_INVALID;
		s += n;
	}
	if (added == 0)
		return bg_error_set(err, BG_ERR_INVALID, "%s: empty value", key->name);
	return BG_OK;
}

static bg_status
store_hex32(const bg_cfg_key *key, unsigned char *dst, const char *value,
    bg_error *err)
{
	bg_error ignored;
	size_t n = strlen(value);
	bool ok = n == 2 * INI_HEX32_LEN;

	/* Never quote a secret back, not even its length. */
	for (size_t i = 0; i < n && ok; i++)
		ok = is_hex(value[i]);
	if (!ok ||
	    bg_hex_decode(value, dst, INI_HEX32_LEN, &ignored) != BG_OK) {
		explicit_bzero(dst, INI_HEX32_LEN);
		explicit_bzero(&ignored, sizeof(ignored));
		return bg_error_set(err, BG_ERR_INVALID,
		    "%s: expected exactly %d hex digits", key->name,
		    2 * INI_HEX32_LEN);
	}
	return BG_OK;
}

static bg_status
store_text(const bg_cfg_key *key, char **dst, const char *value, bg_error *err)
{
	char *copy;

	if (key->type == BG_CFG_PATH && value[0] != '/')
		return bg_error_set(err, BG_ERR_INVALID,
		    "%s: not an absolute path: \"%.*s\"", key->name,
		    INI_ECHO_MAX, value);
	/* URLs may carry tokens in their query: the message does not quote them. */
	if (key->type == BG_CFG_URL &&
	    bg_url_host(value, NULL, NULL, 0, err) != BG_OK) {
		bg_error_prefix(err, "%s", key->name);
		return BG_ERR_INVALID;
	}
	if (run_check(key, value, err) != BG_OK)
		return BG_ERR_INVALID;
	copy = strdup(value);
	if (copy == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	free_string(dst);
	*dst = copy;
	return BG_OK;
}

/*
 * Parses value as key's type into dst.  quoted says the value was written
 * in double quotes: only then may it be empty.  line is 0 for a default.
 */
static bg_status
store_value(const bg_cfg_key *key, void *dst, const char *value, bool quoted,
    unsigned line, bg_error *err)
{
	unsigned long v;
	const char *end;
	bg_status st;

	if (*value == '\0' && !(quoted && key->type == BG_CFG_STRING))
		return bg_error_set(err, BG_ERR_INVALID, "%s: empty value", key->name);
	switch (key->type) {
	case BG_CFG_STRING:
	case BG_CFG_PATH:
	case BG_CFG_URL:
		return store_text(key, dst, value, err);
	case BG_CFG_DURATION:
		if (bg_parse_duration(value, &v, err) != BG_OK) {
			bg_error_prefix(err, "%s: \"%.*s\"", key->name, INI_ECHO_MAX,
			    value);
			return BG_ERR_INVALID;
		}
		if ((st = check_bounds(key, v, "s", err)) != BG_OK)
			return st;
		*(unsigned long *)dst = v;
		break;
	case BG_CFG_UINT:
		if (!parse_digits(value, &end, &v) || *end != '\0')
			return bg_error_set(err, BG_ERR_INVALID,
			    "%s: expected a non-negative integer, not \"%.*s\"",
			    key->name, INI_ECHO_MAX, value);
		if ((st = check_bounds(key, v, "", err)) != BG_OK)
			return st;
		*(unsigned long *)dst = v;
		break;
	case BG_CFG_BOOL:
		return store_bool(key, dst, value, err);
	case BG_CFG_ENUM:
		return store_enum(key, dst, value, err);
	case BG_CFG_WORDS:
		return store_words(key, dst, value, line, err);
	case BG_CFG_LINES:
		if (!strlist_append(dst, value, strlen(value), line))
			return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		return run_check(key, value, err);
	case BG_CFG_HEX32:
		return store_hex32(key, dst, value, err);
	default:
		return bg_error_set(err, BG_ERR_INVALID, "%s: unknown type in schema",
		    key->name);
	}
	return run_check(key, value, err);
}

static bool
is_list(bg_cfg_type t)
{
	return t == BG_CFG_WORDS || t == BG_CFG_LINES;
}

/* ------------------------------------------------------------------ */
/* Lines. */

/*
 * Cuts a " #" comment outside double quotes, trims, and unwraps a value
 * written wholly in double quotes (\" and \\ stand for " and \ inside).
 * Quotes in the middle of a value (match = a=~"x") are kept verbatim.
 * Returns NULL or why the value is malformed.
 */
static const char *
value_unwrap(char **valp, bool *quoted)
{
	char *v = skip_blanks(*valp);
	size_t close = SIZE_MAX, i, n;
	bool inq = false;

	*quoted = false;
	for (i = 0; v[i] != '\0'; i++) {
		if (inq) {
			if (v[i] == '\\' && v[i + 1] != '\0')
				i++;
			else if (v[i] == '"') {
				inq = false;
				if (v[0] == '"' && close == SIZE_MAX)
					close = i;
			}
			continue;
		}
		if (v[i] == '"')
			inq = true;
		else if (v[i] == '#' && (i == 0 || is_blank(v[i - 1]))) {
			v[i] = '\0';
			break;
		}
	}
	if (inq)
		return "unterminated double quote";
	trim_right(v);
	*valp = v;
	if (v[0] != '"')
		return NULL;
	n = strlen(v);
	if (close != n - 1)
		return "text after the closing double quote";
	/* Unescape v[1 .. close) into v. */
	{
		size_t out = 0;

		for (i = 1; i < close; i++) {
			if (v[i] == '\\' && (v[i + 1] == '"' || v[i + 1] == '\\'))
				i++;
			v[out++] = v[i];
		}
		v[out] = '\0';
	}
	*quoted = true;
	return NULL;
}

static const bg_cfg_section *
find_section(const bg_cfg_schema *schema, const char *name)
{
	for (size_t i = 0; i < schema->nsections; i++) {
		const bg_cfg_section *s = &schema->sections[i];

		if (name == NULL ? s->name == NULL :
		    s->name != NULL && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

static bool
start_unnamed(struct ini_parser *p, const bg_cfg_section *sec)
{
	bg_cfg_meta *meta = unnamed_struct(sec, p->root);

	if (meta->line != 0) {
		ini_error(p, p->line, "duplicate section [%s] (first at line %u)",
		    sec->name, meta->line);
		return false;
	}
	meta->line = p->line;
	p->sec = sec;
	return true;
}

static bool
start_named(struct ini_parser *p, const bg_cfg_section *sec, const char *name)
{
	void **arr = named_array(sec, p->root);
	size_t *count = named_count(sec, p->root);
	bg_cfg_meta *meta;
	char *copy;
	void *grown;

	for (size_t i = 0; i < *count; i++) {
		bg_cfg_meta *m = named_elem(sec, p->root, i);

		if (strcmp(m->name, name) == 0) {
			ini_error(p, p->line,
			    "duplicate section [%s %s] (first at line %u)",
			    sec->name, name, m->line);
			return false;
		}
	}
	if (sec->max_count != 0 && *count >= sec->max_count) {
		ini_error(p, p->line, "too many [%s] sections (at most %zu)",
		    sec->name, sec->max_count);
		return false;
	}
	copy = strdup(name);
	grown = copy == NULL ? NULL : realloc(*arr, (*count + 1) * sec->size);
	if (grown == NULL) {
		free(copy);
		ini_error(p, p->line, "out of memory");
		p->stopped = true;
		return false;
	}
	*arr = grown;
	meta = named_elem(sec, p->root, *count);
	memset(meta, 0, sec->size);
	meta->name = copy;
	meta->line = p->line;
	p->sec = sec;
	p->elem = (*count)++;
	return true;
}

static void
handle_header(struct ini_parser *p, char *s)
{
	const bg_cfg_section *sec;
	char *close = strchr(s, ']'), *type, *name, *rest;

	p->skipping = true;
	if (close == NULL) {
		ini_error(p, p->line, "malformed section header (no closing ']')");
		return;
	}
	rest = skip_blanks(close + 1);
	if (*rest != '\0' && *rest != '#') {
		ini_error(p, p->line, "unexpected text after the section header");
		return;
	}
	*close = '\0';
	type = skip_blanks(s + 1);
	trim_right(type);
	name = type + strcspn(type, " \t");
	if (*name != '\0') {
		*name++ = '\0';
		name = skip_blanks(name);
	}
	if (*type == '\0') {
		ini_error(p, p->line, "empty section header");
		return;
	}
	sec = find_section(p->schema, type);
	if (sec == NULL) {
		if (!p->partial)
			ini_error(p, p->line, "unknown section [%.*s]", INI_MAX_NAME, type);
		return;
	}
	if (sec->named && *name == '\0') {
		ini_error(p, p->line, "section [%s] needs a name: [%s NAME]",
		    sec->name, sec->name);
		return;
	}
	if (!sec->named && *name != '\0') {
		ini_error(p, p->line, "section [%s] takes no name", sec->name);
		return;
	}
	if (sec->named && !valid_section_name(name)) {
		ini_error(p, p->line,
		    "invalid [%s] name: use letters, digits, '.', '_' and '-' "
		    "(at most %d)", sec->name, INI_MAX_NAME);
		return;
	}
	if (sec->named ? start_named(p, sec, name) : start_unnamed(p, sec))
		p->skipping = false;
}

static void
handle_key(struct ini_parser *p, char *s)
{
	const bg_cfg_key *key = NULL;
	char *eq = strchr(s, '='), *value, label[BG_ERROR_MAX / 4];
	bg_cfg_meta *meta;
	const char *why;
	bool quoted;
	bg_error err;
	size_t idx;
	bg_status st;

	if (eq == NULL) {
		ini_error(p, p->line, "expected \"key = value\"");
		return;
	}
	*eq = '\0';
	trim_right(s);
	if (!valid_key_name(s)) {
		ini_error(p, p->line, "invalid key name");
		return;
	}
	if (p->skipping)
		return;
	if (p->sec == NULL) {
		ini_error(p, p->line, "key \"%s\" outside any section", s);
		return;
	}
	meta = current_struct(p);
	section_label(p->sec, meta, label, sizeof(label));
	for (idx = 0; idx < p->sec->nkeys; idx++)
		if (strcmp(p->sec->keys[idx].name, s) == 0) {
			key = &p->sec->keys[idx];
			break;
		}
	if (key == NULL) {
		if (!p->partial)
			ini_error(p, p->line, "%sunknown key \"%s\"", label, s);
		return;
	}
	if (meta->key_line[idx] != 0 && !is_list(key->type)) {
		ini_error(p, p->line, "%sduplicate key \"%s\" (first at line %u)",
		    label, key->name, meta->key_line[idx]);
		return;
	}
	/* Recorded before the value is judged: a bad value is not also "missing". */
	if (meta->key_line[idx] == 0)
		meta->key_line[idx] = p->line;
	value = eq + 1;
	if ((why = value_unwrap(&value, &quoted)) != NULL) {
		ini_error(p, p->line, "%s: %s", key->name, why);
		return;
	}
	st = store_value(key, (char *)meta + key->offset, value, quoted, p->line,
	    &err);
	if (st != BG_OK) {
		ini_error(p, p->line, "%s", err.msg);
		if (st == BG_ERR_NOMEM)
			p->stopped = true;
	}
	explicit_bzero(&err, sizeof(err));
}

static void
handle_line(struct ini_parser *p, const char *text, size_t n, char *buf)
{
	char *s;

	if (n > BG_INI_MAX_LINE) {
		ini_error(p, p->line, "line longer than %d bytes", BG_INI_MAX_LINE);
		return;
	}
	if (memchr(text, '\0', n) != NULL) {
		ini_error(p, p->line, "NUL byte in line");
		return;
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	/* Tolerate CRLF files; any other control character is refused. */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if ((c < ' ' && c != '\t') || c == 0x7f) {
			ini_error(p, p->line, "control character in line");
			return;
		}
	}
	s = skip_blanks(buf);
	if (*s == '\0' || *s == '#' || *s == ';')
		return;
	if (*s == '[')
		handle_header(p, s);
	else
		handle_key(p, s);
}

/* ------------------------------------------------------------------ */
/* After the last line: defaults and required keys. */

static void
finish_struct(struct ini_parser *p, const bg_cfg_section *sec, bg_cfg_meta *meta,
    bool report_missing)
{
	char label[BG_ERROR_MAX / 4];
	bg_error err;

	section_label(sec, meta, label, sizeof(label));
	for (size_t i = 0; i < sec->nkeys; i++) {
		const bg_cfg_key *key = &sec->keys[i];

		if (meta->key_line[i] != 0)
			continue;
		if (key->required) {
			if (report_missing)
				ini_error(p, meta->line,
				    "%smissing required key \"%s\"", label,
				    key->name);
			continue;
		}
		if (key->def == NULL)
			continue;
		if (store_value(key, (char *)meta + key->offset, key->def, true, 0,
		    &err) != BG_OK)
			ini_error(p, meta->line, "%sinternal error: bad default: %s",
			    label, err.msg);
	}
}

static bool
has_required_key(const bg_cfg_section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++)
		if (sec->keys[i].required)
			return true;
	return false;
}

static void
finish(struct ini_parser *p)
{
	for (size_t i = 0; i < p->schema->nsections && !p->stopped; i++) {
		const bg_cfg_section *sec = &p->schema->sections[i];

		if (sec->named) {
			size_t count = *named_count(sec, p->root);

			for (size_t j = 0; j < count; j++)
				finish_struct(p, sec, named_elem(sec, p->root, j),
				    true);
			continue;
		}
		{
			bg_cfg_meta *meta = unnamed_struct(sec, p->root);
			bool absent = meta->line == 0;

			/* The file as a whole is where a missing section is missing. */
			if (absent && (sec->required || has_required_key(sec)))
				ini_error(p, 1, "missing section [%s]", sec->name);
			finish_struct(p, sec, meta, !absent);
		}
	}
}

/* A schema that does not fit bg_cfg_meta would corrupt memory: refuse it. */
static bool
schema_sane(const bg_cfg_schema *schema)
{
	size_t sectionless = 0;

	if (schema == NULL || (schema->nsections > 0 && schema->sections == NULL))
		return false;
	for (size_t i = 0; i < schema->nsections; i++) {
		const bg_cfg_section *s = &schema->sections[i];

		if (s->nkeys > BG_CFG_MAX_KEYS || s->size < sizeof(bg_cfg_meta) ||
		    (s->nkeys > 0 && s->keys == NULL))
			return false;
		if (s->name == NULL && (s->named || ++sectionless > 1))
			return false;
		for (size_t k = 0; k < s->nkeys; k++)
			if (s->keys[k].name == NULL ||
			    s->keys[k].offset >= s->size ||
			    (s->keys[k].type == BG_CFG_ENUM &&
			    s->keys[k].choices == NULL))
				return false;
	}
	return true;
}

static bg_status
ini_parse(const char *path, const char *text, size_t len,
    const bg_cfg_schema *schema, bool partial, void *root, bg_errlist *errs)
{
	struct ini_parser p;
	char buf[BG_INI_MAX_LINE + 1];
	size_t pos = 0;
	const bg_cfg_section *top;

	memset(&p, 0, sizeof(p));
	p.path = path != NULL ? path : "(config)";
	p.schema = schema;
	p.root = root;
	p.errs = errs;
	p.partial = partial;
	if (!schema_sane(schema) || (text == NULL && len > 0)) {
		ini_error(&p, 1, "internal error: invalid schema or input");
		return BG_ERR_INVALID;
	}
	/* Keys before the first header belong to the sectionless section, if any. */
	top = find_section(schema, NULL);
	if (top != NULL) {
		((bg_cfg_meta *)unnamed_struct(top, root))->line = 1;
		p.sec = top;
	}
	while (pos < len && !p.stopped) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;

		if (p.line == UINT_MAX) {
			ini_error(&p, p.line, "too many lines");
			break;
		}
		p.line++;
		handle_line(&p, text + pos, n, buf);
		pos += n + (nl != NULL ? 1 : 0);
	}
	/* The line buffer may have held a secret. */
	explicit_bzero(buf, sizeof(buf));
	if (!p.stopped)
		finish(&p);
	if (p.nerrors > 0) {
		bg_ini_free(schema, root);
		return BG_ERR_INVALID;
	}
	return BG_OK;
}

bg_status
bg_ini_parse(const char *path, const char *text, size_t len,
    const bg_cfg_schema *schema, void *root, bg_errlist *errs)
{
	return ini_parse(path, text, len, schema, false, root, errs);
}

/* ------------------------------------------------------------------ */

static void
free_struct(const bg_cfg_section *sec, void *st)
{
	bg_cfg_meta *meta = st;

	for (size_t i = 0; i < sec->nkeys; i++) {
		const bg_cfg_key *key = &sec->keys[i];
		void *dst = (char *)st + key->offset;

		switch (key->type) {
		case BG_CFG_STRING:
		case BG_CFG_PATH:
		case BG_CFG_URL:
			free_string(dst);
			break;
		case BG_CFG_WORDS:
		case BG_CFG_LINES:
			bg_strlist_free(dst);
			break;
		case BG_CFG_HEX32:
			explicit_bzero(dst, INI_HEX32_LEN);
			break;
		default:
			break;
		}
	}
	free(meta->name);
	explicit_bzero(st, sec->size);
}

static bg_status
ini_read_file(const char *path, bg_file_kind kind, size_t max,
    const bg_cfg_schema *schema, bool partial, void *root, bg_error *err)
{
	bg_errlist errs = { 0 };
	char *text;
	size_t len;
	bg_status rc;

	rc = bg_file_read(path, kind, max, &text, &len, err);
	if (rc != BG_OK)
		return rc;
	rc = ini_parse(path, text, len, schema, partial, root, &errs);
	bg_file_free_secret(text, len);
	if (rc != BG_OK) {
		bg_error_set(err, BG_ERR_INVALID, "%s", errs.count > 0 ? errs.msgs[0] :
		    "invalid file");
		bg_errlist_free(&errs);
		return BG_ERR_INVALID;
	}
	return BG_OK;
}

bg_status
bg_ini_read_file(const char *path, bg_file_kind kind, size_t max,
    const bg_cfg_schema *schema, void *root, bg_error *err)
{
	return ini_read_file(path, kind, max, schema, false, root, err);
}

bg_status
bg_ini_read_part(const char *path, bg_file_kind kind, size_t max,
    const bg_cfg_schema *schema, void *root, bg_error *err)
{
	return ini_read_file(path, kind, max, schema, true, root, err);
}

void
bg_ini_free(const bg_cfg_schema *schema, void *root)
{
	if (schema == NULL || root == NULL || !schema_sane(schema))
		return;
	for (size_t i = 0; i < schema->nsections; i++) {
		const bg_cfg_section *sec = &schema->sections[i];

		if (sec->named) {
			void **arr = named_array(sec, root);
			size_t *count = named_count(sec, root);

			for (size_t j = 0; j < *count; j++)
				free_struct(sec, named_elem(sec, root, j));
			free(*arr);
			*arr = NULL;
			*count = 0;
		} else
			free_struct(sec, unnamed_struct(sec, root));
	}
}

unsigned
bg_cfg_key_line(const bg_cfg_section *sec, const bg_cfg_meta *meta,
    const char *key)
{
	if (sec == NULL || meta == NULL)
		return 1;
	for (size_t i = 0; i < sec->nkeys && key != NULL; i++)
		if (strcmp(sec->keys[i].name, key) == 0 && meta->key_line[i] != 0)
			return meta->key_line[i];
	return meta->line != 0 ? meta->line : 1;
}

void
bg_cfg_check_error(bg_cfg_check *c, unsigned line, const char *fmt, ...)
{
	char msg[BG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bg_errlist_add(c->errs, "%s:%u: %s", c->path, line, msg);
	c->nerrors++;
}

bool
bg_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == IN_LOOPBACKNET;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}
