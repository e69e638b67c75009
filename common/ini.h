/*
 * Schema-driven INI reader shared by breakglass.conf, approvald.conf, operator
 * secret files and the journal key state.
 *
 * Syntax: "[section]" or "[section NAME]" headers, "key = value" lines, blank
 * lines, and comments: a line starting with '#' or ';', or " #" after a value
 * (outside double quotes).  A repeated list key appends; a repeated scalar key
 * is an error.  Every error names "file:line" and is collected, so a caller
 * can show all of them; a file with any error yields no configuration at all.
 */
#ifndef BG_INI_H
#define BG_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "fileio.h"
#include "status.h"

#define BG_CFG_MAX_KEYS 32
#define BG_INI_MAX_LINE 4096

typedef enum {
	BG_CFG_STRING,    /* char *: any text; empty only when written as "" */
	BG_CFG_PATH,      /* char *: an absolute path */
	BG_CFG_URL,       /* char *: http:// or https:// URL */
	BG_CFG_DURATION,  /* unsigned long seconds: "90", "90s", "15m", "1h", "400d" */
	BG_CFG_BOOL,      /* bool: yes/no, true/false, on/off, 1/0 */
	BG_CFG_UINT,      /* unsigned long */
	BG_CFG_WORDS,     /* bg_strlist: whitespace-separated words; repeats append */
	BG_CFG_LINES,     /* bg_strlist: each occurrence is one item; repeats append */
	BG_CFG_ENUM,      /* unsigned: index into choices */
	BG_CFG_HEX32,     /* unsigned char[32]: exactly 64 hex digits (secret) */
} bg_cfg_type;

typedef struct {
	char **items;
	size_t count;
	unsigned *lines;   /* the line of each item (0: a default); may be NULL */
} bg_strlist;

typedef struct {
	const char *name;
	bg_cfg_type type;
	size_t offset;                /* of the value in the section struct */
	bool required;
	const char *def;              /* default, parsed like a value in a file; NULL: none */
	unsigned long min, max;       /* UINT and DURATION bounds; max 0 = unbounded */
	const char *const *choices;   /* ENUM: NULL-terminated */
	/*
	 * Optional: checks each item once it parsed (each word of WORDS, each
	 * line of LINES, the value otherwise), so a problem with one item of a
	 * list names that item's own line.  The message (no secrets) becomes
	 * "file:line: key: message".
	 */
	bg_status (*check)(const char *value, bg_error *err);
} bg_cfg_key;

/*
 * Every section struct starts with this: where the section and each of its
 * keys were found, for later semantic errors that must name file:line.
 */
typedef struct {
	char *name;                         /* NAME of [type NAME]; NULL otherwise */
	unsigned line;                      /* header line; 0 if absent from the file */
	unsigned key_line[BG_CFG_MAX_KEYS]; /* indexed like the schema's keys; 0 = default */
} bg_cfg_meta;

typedef struct {
	const char *name;        /* "general", "signal"; NULL: keys before any header */
	bool named;              /* [signal NAME] may appear several times */
	bool required;           /* an unnamed section that must be present */
	const bg_cfg_key *keys;
	size_t nkeys;
	size_t size;             /* sizeof the section struct (starts with bg_cfg_meta) */
	size_t offset;           /* unnamed: offset of the struct in the root;
	                            named: offset of the element array pointer */
	size_t count_offset;     /* named: offset of the size_t element count */
	size_t max_count;        /* named: maximum sections of this type */
} bg_cfg_section;

typedef struct {
	const bg_cfg_section *sections;
	size_t nsections;
} bg_cfg_schema;

/*
 * Parses text (len bytes, from file path, used in messages) into root, which
 * the caller zeroed.  Defaults are applied to every unnamed section and to
 * every named section found.  On any error returns BG_ERR_INVALID with every
 * problem in errs, and root is freed (left zeroed).
 */
bg_status bg_ini_parse(const char *path, const char *text, size_t len,
    const bg_cfg_schema *schema, void *root, bg_errlist *errs);

/*
 * Reads a small file checked as kind (at most max bytes; its text is zeroed
 * after parsing, as it may hold secrets) and parses it into root, which the
 * caller zeroed.  BG_ERR_INVALID carries the first problem ("file:line:
 * what") in err; other errors are bg_file_read's (BG_ERR_NOTFOUND ...).
 */
bg_status bg_ini_read_file(const char *path, bg_file_kind kind, size_t max,
    const bg_cfg_schema *schema, void *root, bg_error *err);

/*
 * As bg_ini_read_file, but reads only the sections and keys schema lists:
 * the others are skipped instead of refused (values included), while every
 * line is still held to the line grammar above: headers, key names, '=',
 * length, control characters.  For a reader that needs a few keys
 * of a file whose full schema it does not link (the sudo plugin's front).
 */
bg_status bg_ini_read_part(const char *path, bg_file_kind kind, size_t max,
    const bg_cfg_schema *schema, void *root, bg_error *err);

/* Frees every value the schema describes (zeroing HEX32 keys) and zeroes root. */
void bg_ini_free(const bg_cfg_schema *schema, void *root);

/*
 * The line of key in a parsed section, or the section's line when defaulted,
 * or 1 when the section is absent too (so a message always names a line).
 */
unsigned bg_cfg_key_line(const bg_cfg_section *sec, const bg_cfg_meta *meta,
    const char *key);

/*
 * Collects the errors of the checks that span keys and sections, run after
 * bg_ini_parse, each as "file:line: message".
 */
typedef struct {
	const char *path;
	bg_errlist *errs;
	size_t nerrors;
} bg_cfg_check;

void bg_cfg_check_error(bg_cfg_check *c, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* 127.0.0.0/8, ::1 and "localhost": traffic that never leaves the host. */
bool bg_host_is_loopback(const char *host);

/* Parses a duration value: digits with an optional s, m, h or d suffix. */
bg_status bg_parse_duration(const char *s, unsigned long *out, bg_error *err);

/*
 * Checks url the way BG_CFG_URL does (http:// or https://, a host, an
 * optional port, no credentials, no spaces or control characters) and
 * returns whether it is https and its host, without the brackets of an IPv6
 * literal.  https and host may be NULL.
 */
bg_status bg_url_host(const char *url, bool *https, char *host, size_t hostsz,
    bg_error *err);

/* The line of item i, or fallback when it is not known. */
unsigned bg_strlist_line(const bg_strlist *l, size_t i, unsigned fallback);

void bg_strlist_free(bg_strlist *l);
bool bg_strlist_contains(const bg_strlist *l, const char *s);

#endif
