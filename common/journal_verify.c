/* The forward-secure, hash-chained audit journal: verifying a chain. */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "journal_grammar.h"

typedef struct {
	bg_verify_result *res;
	const char *file;
	unsigned long line;
	unsigned long long expect_seq;
	char prev_hex[BG_SHA256_HEX_LEN + 1];
	bool keyed;
	bool adopt_start;             /* the first record may have any seq */
	bool with_state;              /* a key state will be checked at the end */
	bool in_last_file;
	unsigned char key[BG_SHA256_LEN];
	bg_hmac *hmac;
	const char *last_line;        /* the last record verified, in the current map */
	size_t last_len;
	unsigned long last_lineno;
	bg_buf tail;                  /* with a key state: the last records (at most
	                               * BG_JOURNAL_BATCH_MAX), kept across files */
	unsigned long long tail_records;
	const char *tail_file;
	unsigned long tail_lineno;
} verifier;

static bg_status
fail(verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bg_status
fail(verifier *v, const char *fmt, ...)
{
	va_list ap;

	snprintf(v->res->file, sizeof(v->res->file), "%s", v->file);
	v->res->line = v->line;
	va_start(ap, fmt);
	vsnprintf(v->res->reason, sizeof(v->res->reason), fmt, ap);
	va_end(ap);
	return BG_ERR_INVALID;
}

/*
 * What the streaming parse of one record collects.  Records are parsed with
 * yajl's callback parser rather than json-c: json-c builds an object tree per
 * line, which caps verification near 170,000 records/s; yajl validates the
 * whole line (strict grammar, UTF-8) without building anything.
 */
enum member { M_OTHER, M_SEQ, M_TIME, M_EVENT, M_OUTCOME, M_PREV, M_MAC };

typedef struct {
	int depth;
	bool top_is_object;
	unsigned nkeys;
	enum member cur;              /* the top-level member whose value comes next */
	enum member last, before_last;
	bool first_is_seq;
	bool have_seq, have_time, have_event, have_outcome;
	long long seq;
	char prev[BG_SHA256_HEX_LEN + 1];
	char mac[BG_SHA256_HEX_LEN + 1];
	bool prev_ok, mac_ok;
} record_scan;

static int
scan_value_done(record_scan *r)
{
	r->cur = M_OTHER;
	return 1;
}

static int
scan_start_map(void *ctx)
{
	record_scan *r = ctx;

	if (r->depth == 0)
		r->top_is_object = true;
	r->depth++;
	return 1;
}

static int
scan_end_map(void *ctx)
{
	record_scan *r = ctx;

	r->depth--;
	return r->depth == 1 ? scan_value_done(r) : 1;
}

static int
scan_start_array(void *ctx)
{
	((record_scan *)ctx)->depth++;
	return 1;
}

static int
scan_end_array(void *ctx)
{
	return scan_end_map(ctx);
}

/* Which of the members the verifier reads a top-level key is. */
static enum member
member_of(const unsigned char *key, size_t len)
{
	switch (len) {
	case 3:
		if (memcmp(key, "seq", 3) == 0)
			return M_SEQ;
		if (memcmp(key, "mac", 3) == 0)
			return M_MAC;
		break;
	case 4:
		if (memcmp(key, "time", 4) == 0)
			return M_TIME;
		if (memcmp(key, "prev", 4) == 0)
			return M_PREV;
		break;
	case 5:
		if (memcmp(key, "event", 5) == 0)
			return M_EVENT;
		break;
	case 7:
		if (memcmp(key, "outcome", 7) == 0)
			return M_OUTCOME;
		break;
	}
	return M_OTHER;
}

static int
scan_key(void *ctx, const unsigned char *key, size_t len)
{
	record_scan *r = ctx;
	enum member m;

	if (r->depth != 1)
		return 1;
	m = member_of(key, len);
	if (r->nkeys++ == 0)
		r->first_is_seq = m == M_SEQ;
	r->before_last = r->last;
	r->last = m;
	r->cur = m;
	return 1;
}

static bool
copy_hex64(char out[BG_SHA256_HEX_LEN + 1], const unsigned char *s, size_t len)
{
	unsigned bad = 0;

	if (len != BG_SHA256_HEX_LEN)
		return false;
	/* Branch-free: lowercase hex digits only. */
	for (size_t i = 0; i < BG_SHA256_HEX_LEN; i++)
		bad |= (unsigned)((s[i] < '0' || s[i] > '9') & (s[i] < 'a' || s[i] > 'f'));
	if (bad != 0)
		return false;
	memcpy(out, s, BG_SHA256_HEX_LEN);
	out[BG_SHA256_HEX_LEN] = '\0';
	return true;
}

static int
scan_string(void *ctx, const unsigned char *s, size_t len)
{
	record_scan *r = ctx;

	if (r->depth != 1)
		return 1;
	switch (r->cur) {
	case M_TIME: r->have_time = true; break;
	case M_EVENT: r->have_event = true; break;
	case M_OUTCOME: r->have_outcome = true; break;
	case M_PREV: r->prev_ok = copy_hex64(r->prev, s, len); break;
	case M_MAC: r->mac_ok = copy_hex64(r->mac, s, len); break;
	default: break;
	}
	return scan_value_done(r);
}

static int
scan_integer(void *ctx, long long v)
{
	record_scan *r = ctx;

	if (r->depth == 1 && r->cur == M_SEQ) {
		r->have_seq = true;
		r->seq = v;
	}
	return r->depth == 1 ? scan_value_done(r) : 1;
}

static int
scan_scalar(void *ctx)
{
	record_scan *r = ctx;

	return r->depth == 1 ? scan_value_done(r) : 1;
}

static int
scan_bool(void *ctx, int v)
{
	(void)v;
	return scan_scalar(ctx);
}

static int
scan_double(void *ctx, double v)
{
	(void)v;
	return scan_scalar(ctx);
}

static const yajl_callbacks scan_callbacks = {
	.yajl_null = scan_scalar,
	.yajl_boolean = scan_bool,
	.yajl_integer = scan_integer,
	.yajl_double = scan_double,
	.yajl_string = scan_string,
	.yajl_start_map = scan_start_map,
	.yajl_map_key = scan_key,
	.yajl_end_map = scan_end_map,
	.yajl_start_array = scan_start_array,
	.yajl_end_array = scan_end_array,
};

static void
scan_restart(void *ctx)
{
	memset(ctx, 0, sizeof(record_scan));
}

static bool
scan_record(const char *line, size_t len, record_scan *r)
{
	scan_restart(r);
	return bg_journal_parse_line(&scan_callbacks, scan_restart, r, line, len);
}

/*
 * Starts the chain at this record: its prev cannot be checked (the files
 * before it are gone), but with K_1 its key still can be derived.
 */
static bg_status
adopt(verifier *v, const record_scan *r)
{
	unsigned long long steps = (unsigned long long)r->seq - 1;
	bg_error err;

	if (!r->prev_ok)
		return fail(v, "prev must be 64 lowercase hex digits");
	if (v->keyed && steps > BG_JOURNAL_MAX_ADOPT)
		return fail(v, "first record's seq %lld is too far to derive its key", r->seq);
	for (unsigned long long i = 0; v->keyed && i < steps; i++)
		if (bg_journal_evolve(v->key, v->key, &err) != BG_OK)
			return fail(v, "%s", err.msg);
	v->expect_seq = (unsigned long long)r->seq;
	memcpy(v->prev_hex, r->prev, sizeof(v->prev_hex));
	v->res->first_seq = (unsigned long long)r->seq;
	return BG_OK;
}

/* Writes why a record fails into reason; false, so that checks read as one expression. */
static bool
why(char reason[BG_ERROR_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
why(char reason[BG_ERROR_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, BG_ERROR_MAX, fmt, ap);
	va_end(ap);
	return false;
}

/* The checks of a record's own text: one line, a JSON object, seq first. */
static bool
check_text(const char *line, size_t len, record_scan *r, char reason[BG_ERROR_MAX])
{
	if (len > BG_JOURNAL_MAX_LINE)
		return why(reason, "line longer than %d bytes", BG_JOURNAL_MAX_LINE);
	if (!scan_record(line, len, r))
		return why(reason, "invalid JSON");
	if (!r->top_is_object)
		return why(reason, "not a JSON object");
	if (!r->have_seq || !r->first_is_seq)
		return why(reason, "seq must be the first member, an integer");
	return true;
}

/* Where the chain stands before a record: all a record is checked against. */
typedef struct {
	unsigned long long expect_seq;
	const char *prev_hex;         /* the previous record's mac, 64 hex digits */
	const unsigned char *key;     /* K_seq; NULL without K_1 */
	bg_hmac *hmac;
} chain_pos;

/* The checks of a record against the chain: seq, members, prev link, mac. */
static bool
check_chain(const chain_pos *c, const char *line, size_t len, const record_scan *r,
    char reason[BG_ERROR_MAX])
{
	unsigned char want[BG_SHA256_LEN];
	char want_hex[BG_SHA256_HEX_LEN + 1];
	const char *mac_hex;
	size_t prefix_len;
	bg_error err;

	if (r->seq <= 0 || (unsigned long long)r->seq != c->expect_seq) {
		if (r->seq > 0 && (unsigned long long)r->seq < c->expect_seq)
			return why(reason, "seq %lld out of order (expected %llu): reordered or duplicated",
			    r->seq, c->expect_seq);
		return why(reason, "seq gap: expected %llu, found %lld", c->expect_seq, r->seq);
	}
	if (!r->have_time || !r->have_event || !r->have_outcome)
		return why(reason, "missing time, event or outcome");
	if (!r->prev_ok || !r->mac_ok || r->before_last != M_PREV || r->last != M_MAC)
		return why(reason,
		    "prev and mac must be the last two members, 64 lowercase hex digits each");
	if (bg_journal_split_line(line, len, &prefix_len, &mac_hex, &err) != BG_OK ||
	    memcmp(mac_hex, r->mac, BG_SHA256_HEX_LEN) != 0)
		return why(reason, "mac member is not where the record ends");
	if (memcmp(r->prev, c->prev_hex, BG_SHA256_HEX_LEN) != 0)
		return why(reason, "broken prev link: does not match the mac of seq %llu",
		    c->expect_seq - 1);
	if (c->key == NULL)
		return true;
	if (bg_hmac_compute(c->hmac, c->key, BG_SHA256_LEN, line, prefix_len, want, &err) != BG_OK)
		return why(reason, "%s", err.msg);
	bg_hex_encode(want, sizeof(want), want_hex);
	if (memcmp(want_hex, r->mac, BG_SHA256_HEX_LEN) != 0)
		return why(reason, "bad mac: record altered or forged");
	return true;
}

/* Takes a record that passed as the chain's last. */
static void
accept_record(verifier *v, const char *line, size_t len, const char *mac_hex)
{
	memcpy(v->prev_hex, mac_hex, BG_SHA256_HEX_LEN);
	v->prev_hex[BG_SHA256_HEX_LEN] = '\0';
	v->last_line = line;
	v->last_len = len;
	v->last_lineno = v->line;
	v->res->last_seq = v->expect_seq;
	v->res->records++;
	v->expect_seq++;
}

/* A file's first record, in order: the chain's first may adopt a later seq. */
static bg_status
verify_record(verifier *v, const char *line, size_t len)
{
	char reason[BG_ERROR_MAX];
	unsigned char next[BG_SHA256_LEN];
	record_scan r;
	chain_pos c;
	bg_error err;

	if (!check_text(line, len, &r, reason))
		return fail(v, "%s", reason);
	if (v->res->records == 0 && v->adopt_start && r.seq > 1) {
		bg_status rc = adopt(v, &r);

		if (rc != BG_OK)
			return rc;
	}
	c = (chain_pos){ v->expect_seq, v->prev_hex, v->keyed ? v->key : NULL, v->hmac };
	if (!check_chain(&c, line, len, &r, reason))
		return fail(v, "%s", reason);
	if (v->keyed) {
		if (bg_journal_evolve(v->key, next, &err) != BG_OK)
			return fail(v, "%s", err.msg);
		memcpy(v->key, next, sizeof(next));
		explicit_bzero(next, sizeof(next));
	}
	accept_record(v, line, len, r.mac);
	return BG_OK;
}

/*
 * The records after a file's first are checked on two threads.  A record's
 * checks depend only on its text, its position (its seq is the first's plus
 * its index, its prev the mac that ends the line before it) and, with K_1,
 * its key: when every record before it is sound, a record checked alone
 * fails exactly as it would in order, so the first failing line in file
 * order is the one named.  The keys are a chain, K_{n+1} = SHA-256(label ‖
 * K_n), cheap next to an HMAC of the record: a thread takes the next batch
 * of lines under the lock, derives their keys there, and checks the batch
 * (grammar, seq, prev link, mac) outside it.
 */
#define BATCH 256
#define BATCH_BYTES (256 * 1024)  /* a smaller rest is checked on this thread alone */

typedef struct {
	const char *line[BATCH];
	size_t len[BATCH];
	unsigned char key[BATCH][BG_SHA256_LEN];
	const char *prev_hex;         /* line[0]'s previous mac */
	unsigned long long first;     /* line[0]'s index */
	unsigned n;
} batch;

typedef struct {
	pthread_mutex_t mu;
	/* Set before the threads start. */
	unsigned long long base_seq;  /* the seq of index 0 */
	bool keyed;
	/* Under mu. */
	const char *end;              /* past the last complete line (or a key not derived) */
	const char *next;             /* the lines not yet taken */
	const char *prev_line;        /* the line before next; NULL: v's last */
	size_t prev_len;
	unsigned long long taken;
	unsigned char key[BG_SHA256_LEN]; /* the next line's */
	bg_sha256_ctx *digest;        /* derives it; NULL: a context per key */
	unsigned long long bad;       /* the first failing index; ULLONG_MAX: none */
	char reason[BG_ERROR_MAX];
	char first_prev[BG_SHA256_HEX_LEN + 1];
} pool;

typedef struct {
	pool *p;
	bg_hmac *hmac;
} worker;

/* Never a prev: what a line whose mac cannot be found is followed by. */
static const char no_mac[BG_SHA256_HEX_LEN + 1] =
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

static const char *
mac_of(const char *line, size_t len)
{
	const char *mac_hex;
	size_t prefix_len;
	bg_error err;

	return bg_journal_split_line(line, len, &prefix_len, &mac_hex, &err) == BG_OK ?
	    mac_hex : no_mac;
}

static void
pool_fail(pool *p, unsigned long long index, const char *reason)
{
	pthread_mutex_lock(&p->mu);
	if (index < p->bad) {
		p->bad = index;
		snprintf(p->reason, sizeof(p->reason), "%s", reason);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Takes the next batch and derives its keys; false when nothing is left to check. */
static bool
pool_take(pool *p, batch *b)
{
	bg_error err;

	pthread_mutex_lock(&p->mu);
	b->n = 0;
	b->first = p->taken;
	b->prev_hex = p->prev_line != NULL ? mac_of(p->prev_line, p->prev_len) : p->first_prev;
	while (b->n < BATCH && p->next < p->end && p->taken < p->bad) {
		const char *nl = memchr(p->next, '\n', (size_t)(p->end - p->next));

		b->line[b->n] = p->next;
		b->len[b->n] = (size_t)(nl - p->next);
		if (p->keyed) {
			memcpy(b->key[b->n], p->key, BG_SHA256_LEN);
			if (bg_journal_evolve_with(p->digest, p->key, p->key, &err) != BG_OK) {
				if (p->taken < p->bad) {
					p->bad = p->taken;
					snprintf(p->reason, sizeof(p->reason), "%s", err.msg);
				}
				p->end = p->next;  /* no key for anything after it */
			}
		}
		p->prev_line = p->next;
		p->prev_len = b->len[b->n];
		p->next = nl + 1;
		p->taken++;
		b->n++;
	}
	pthread_mutex_unlock(&p->mu);
	return b->n > 0;
}

static void *
pool_run(void *arg)
{
	worker *w = arg;
	pool *p = w->p;
	batch *b = malloc(sizeof(*b));

	if (b == NULL) {
		pool_fail(p, 0, "out of memory");
		return NULL;
	}
	while (pool_take(p, b)) {
		char prev_hex[BG_SHA256_HEX_LEN + 1];

		memcpy(prev_hex, b->prev_hex, BG_SHA256_HEX_LEN);
		prev_hex[BG_SHA256_HEX_LEN] = '\0';

		for (unsigned i = 0; i < b->n; i++) {
			char reason[BG_ERROR_MAX];
			record_scan r;
			chain_pos c = { p->base_seq + b->first + i, prev_hex,
			    p->keyed ? b->key[i] : NULL, w->hmac };

			if (!check_text(b->line[i], b->len[i], &r, reason) ||
			    !check_chain(&c, b->line[i], b->len[i], &r, reason)) {
				pool_fail(p, b->first + i, reason);
				break;
			}
			memcpy(prev_hex, r.mac, sizeof(prev_hex));
		}
	}
	explicit_bzero(b->key, sizeof(b->key));
	free(b);
	return NULL;
}

/* Checks the complete lines [p, end), which follow the chain's last record. */
static bg_status
verify_rest(verifier *v, const char *p, const char *end)
{
	pool pl = { .end = end, .base_seq = v->expect_seq, .keyed = v->keyed, .next = p,
		.bad = ULLONG_MAX };
	worker self = { &pl, v->hmac }, helper = { &pl, NULL };
	pthread_t thread;
	bool started = false;
	unsigned long first_line = v->line + 1;
	bg_error err;

	pthread_mutex_init(&pl.mu, NULL);
	memcpy(pl.key, v->key, sizeof(pl.key));
	/* Without a context of its own (it is left NULL) each key makes one: slower, as strict. */
	(void)bg_sha256_ctx_new(&pl.digest, &err);
	memcpy(pl.first_prev, v->prev_hex, sizeof(pl.first_prev));
	/* Without a second thread the rest is checked on this one: slower, as strict. */
	if (end - p > BATCH_BYTES && bg_hmac_new(&helper.hmac, &err) == BG_OK) {
		started = pthread_create(&thread, NULL, pool_run, &helper) == 0;
		if (!started)
			bg_hmac_free(helper.hmac);
	}
	pool_run(&self);
	if (started) {
		pthread_join(thread, NULL);
		bg_hmac_free(helper.hmac);
	}
	pthread_mutex_destroy(&pl.mu);
	bg_sha256_ctx_free(pl.digest);
	if (pl.bad != ULLONG_MAX) {
		explicit_bzero(pl.key, sizeof(pl.key));
		v->res->records += pl.bad;
		if (pl.bad > 0)
			v->res->last_seq = v->expect_seq + pl.bad - 1;
		v->line = first_line + (unsigned long)pl.bad;
		return fail(v, "%s", pl.reason);
	}
	memcpy(v->key, pl.key, sizeof(v->key));
	explicit_bzero(pl.key, sizeof(pl.key));
	v->line += (unsigned long)pl.taken;
	v->expect_seq += pl.taken - 1;
	v->res->records += pl.taken - 1;
	accept_record(v, pl.prev_line, pl.prev_len, mac_of(pl.prev_line, pl.prev_len));
	return BG_OK;
}

static bg_status
verify_file(verifier *v, const char *path)
{
	struct stat st;
	const char *data, *p, *end, *complete;
	bg_status rc = BG_OK;
	int fd;

	v->file = path;
	v->line = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = fail(v, "cannot read: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(v, "not a regular file");
	}
	if (st.st_size == 0) {
		close(fd);
		return BG_OK;
	}
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED)
		return fail(v, "cannot map: %s", strerror(errno));
	madvise((void *)data, (size_t)st.st_size, MADV_SEQUENTIAL);
	end = data + st.st_size;
	complete = memrchr(data, '\n', (size_t)st.st_size);
	complete = complete != NULL ? complete + 1 : data;
	v->last_line = NULL;
	p = data;
	if (p < complete) {
		const char *nl = memchr(p, '\n', (size_t)(complete - p));

		v->line++;
		rc = verify_record(v, p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (rc == BG_OK && p < complete)
		rc = verify_rest(v, p, complete);
	if (rc == BG_OK && complete < end) {
		v->line++;
		if (v->in_last_file && v->with_state) {
			/*
			 * As the writer does: the remains of an append that never
			 * completed are no record, and the next append cuts them.
			 * The key state still vouches for every complete record.
			 */
			snprintf(v->res->torn_file, sizeof(v->res->torn_file), "%s", path);
			v->res->torn_line = v->line;
		} else {
			rc = fail(v, "incomplete last line (torn write or truncation)");
		}
	}
	/* Once per file: what the key state is compared with at the end. */
	if (rc == BG_OK && v->with_state && v->last_line != NULL) {
		const char *from = v->last_line;

		/* The records one append may have written, which a lagging state adopts. */
		v->tail_records = 1;
		while (v->tail_records < BG_JOURNAL_BATCH_MAX && from > data + 1) {
			const char *nl = memrchr(data, '\n', (size_t)(from - 1 - data));

			from = nl != NULL ? nl + 1 : data;
			v->tail_records++;
			if (nl == NULL)
				break;
		}
		bg_buf_free(&v->tail);
		bg_buf_init(&v->tail, 0);
		if (!bg_buf_append(&v->tail, from, (size_t)(v->last_line + v->last_len - from)))
			rc = fail(v, "out of memory");
		v->tail_file = path;
		v->tail_lineno = v->last_lineno;
	}
	munmap((void *)data, (size_t)st.st_size);
	return rc;
}

/*
 * A key state behind the journal (by at most BG_JOURNAL_BATCH_MAX records)
 * is what an append leaves when it dies after syncing its records and
 * before storing the state.  The writer adopts those records when each
 * follows the previous mac and verifies with the key the state derives for
 * it (bg_journal_adopt_lines); the verifier accepts them by the same rule,
 * and says so.  With K_1 the state's key must also derive the chain's
 * next key: it is the one the first of them was sealed with.
 */
static bg_status
verify_adoptable(verifier *v, const bg_journal_state *state)
{
	unsigned long long k = v->res->last_seq - state->seq;
	const char *from = v->tail.data, *end = v->tail.data + v->tail.len;
	char hex[BG_SHA256_HEX_LEN + 1];
	bg_journal_state next = *state;
	bg_status rc = BG_OK;
	bg_error err;

	v->file = v->tail_file;
	v->line = v->tail_lineno;
	if (k > v->tail_records)
		return fail(v, "the key state is at seq %llu and the journal ends at seq %llu, "
		    "past its last file's records", state->seq, v->res->last_seq);
	for (unsigned long long i = k; i < v->tail_records; i++)
		from = (const char *)memchr(from, '\n', (size_t)(end - from)) + 1;
	if (bg_journal_adopt_lines(&next, from, (size_t)(end - from), &err) != BG_OK)
		rc = fail(v, "the key state is at seq %llu and the records after it (to seq %llu) "
		    "are not its to adopt: %s", state->seq, v->res->last_seq, err.msg);
	bg_hex_encode(next.prev, BG_SHA256_LEN, hex);
	if (rc == BG_OK && strcmp(hex, v->prev_hex) != 0)
		rc = fail(v, "the key state's adopted records end at another mac");
	if (rc == BG_OK && v->keyed && !bg_ct_equal(v->key, next.key, BG_SHA256_LEN))
		rc = fail(v, "the key state's current key does not follow from the given K_1");
	explicit_bzero(&next, sizeof(next));
	if (rc == BG_OK) {
		v->res->adoptable = true;
		v->res->adopt_first = state->seq + 1;
	}
	return rc;
}

static bg_status
verify_state(verifier *v, const bg_journal_state *state)
{
	char mac_hex[BG_SHA256_HEX_LEN + 1];

	v->line = 0;
	if (v->res->records > 0 && state->seq < v->res->last_seq &&
	    v->res->last_seq - state->seq <= BG_JOURNAL_BATCH_MAX)
		return verify_adoptable(v, state);
	if (state->seq > v->res->last_seq)
		return fail(v, "truncated: the key state is at seq %llu but the journal ends at seq %llu",
		    state->seq, v->res->last_seq);
	if (state->seq != v->res->last_seq)
		return fail(v, "the key state is at seq %llu but the journal ends at seq %llu: "
		    "records its writer did not write, or a key state restored from a copy",
		    state->seq, v->res->last_seq);
	bg_hex_encode(state->prev, BG_SHA256_LEN, mac_hex);
	if (strcmp(mac_hex, v->prev_hex) != 0)
		return fail(v, "the key state's last mac does not match the last record");
	if (v->keyed && !bg_ct_equal(v->key, state->key, BG_SHA256_LEN))
		return fail(v, "the key state's current key does not follow from the given K_1");
	return BG_OK;
}

bg_status
bg_journal_verify(const char *const *files, size_t nfiles, const unsigned char *k1,
    const bg_journal_state *state, bg_verify_result *res)
{
	return bg_journal_verify_from(files, nfiles, k1, state, false, res);
}

bg_status
bg_journal_verify_from(const char *const *files, size_t nfiles, const unsigned char *k1,
    const bg_journal_state *state, bool adopt_start, bg_verify_result *res)
{
	verifier v;
	bg_error err;
	bg_status rc = BG_OK;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	v.res = res;
	v.expect_seq = 1;
	v.adopt_start = adopt_start;
	v.with_state = state != NULL;
	bg_buf_init(&v.tail, 0);
	res->first_seq = 1;
	v.file = nfiles > 0 ? files[0] : "";
	memset(v.prev_hex, '0', BG_SHA256_HEX_LEN);
	v.prev_hex[BG_SHA256_HEX_LEN] = '\0';
	if (k1 != NULL) {
		v.keyed = true;
		memcpy(v.key, k1, BG_SHA256_LEN);
	}
	if (bg_hmac_new(&v.hmac, &err) != BG_OK) {
		rc = fail(&v, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nfiles && rc == BG_OK; i++) {
		v.in_last_file = i + 1 == nfiles;
		rc = verify_file(&v, files[i]);
	}
	if (rc == BG_OK && state != NULL)
		rc = verify_state(&v, state);
out:
	explicit_bzero(v.key, sizeof(v.key));
	bg_hmac_free(v.hmac);
	bg_buf_free(&v.tail);
	return rc;
}
