/* The forward-secure, hash-chained audit journal: verifying a chain. */
#include "build_config.h"

#include <errno.h>
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
	struct seal_stage *seal;      /* keyed: the macs of this file past its first line */
	const char *last_line;        /* the last record verified, in the current map */
	size_t last_len;
	unsigned long last_lineno;
	bg_buf tail;                  /* with a key state: the last record, kept across files */
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
 * The seal stage.  With K_1, each record costs a key evolution and an
 * HMAC-SHA256 besides its JSON validation; the keys depend only on K_1 and
 * the record's position, so a second thread derives them ahead and checks
 * each line's mac while this one parses.  Per file, the first line is
 * checked here (it may adopt a later seq, which sets the key), then the
 * stage takes every later complete line, in order, and this thread takes
 * exactly one result per record it accepts: result i is line i's.
 */
enum seal { SEAL_UNSPLIT, SEAL_ERROR, SEAL_BAD, SEAL_OK };

#define SEAL_RING 4096            /* results in flight; a power of two */
#define SEAL_BATCH 64             /* results published or released at a time */

typedef struct {
	unsigned mac_off;             /* where the line's mac digits are */
	unsigned char seal;           /* enum seal */
} seal_result;

typedef struct seal_stage {
	const char *p, *end;          /* the lines still to check */
	unsigned char key[BG_SHA256_LEN]; /* the next line's key; at the end, the chain's */
	bg_hmac *hmac;
	char error[BG_ERROR_MAX];     /* with SEAL_ERROR */
	seal_result ring[SEAL_RING];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long long produced, consumed; /* under mu */
	unsigned long long ready;     /* this thread's copy of produced */
	unsigned long long taken;     /* results this thread has read */
	bool stop;                    /* under mu: the parse stopped, stop too */
	bool done;                    /* under mu: every line is checked */
	pthread_t thread;
} seal_stage;

/* Checks one line's mac with the current key, which it then evolves. */
static seal_result
seal_check(seal_stage *s, const char *line, size_t len)
{
	unsigned char want[BG_SHA256_LEN], next[BG_SHA256_LEN];
	char want_hex[BG_SHA256_HEX_LEN + 1];
	seal_result out = { 0, SEAL_UNSPLIT };
	const char *mac_hex;
	size_t prefix_len;
	bg_error err;

	if (len > BG_JOURNAL_MAX_LINE ||
	    bg_journal_split_line(line, len, &prefix_len, &mac_hex, &err) != BG_OK)
		return out;
	out.mac_off = (unsigned)(mac_hex - line);
	if (bg_hmac_compute(s->hmac, s->key, sizeof(s->key), line, prefix_len, want, &err) != BG_OK ||
	    bg_journal_evolve(s->key, next, &err) != BG_OK) {
		snprintf(s->error, sizeof(s->error), "%s", err.msg);
		out.seal = SEAL_ERROR;
		return out;
	}
	memcpy(s->key, next, sizeof(next));
	explicit_bzero(next, sizeof(next));
	bg_hex_encode(want, sizeof(want), want_hex);
	out.seal = memcmp(want_hex, mac_hex, BG_SHA256_HEX_LEN) == 0 ? SEAL_OK : SEAL_BAD;
	return out;
}

static void *
seal_run(void *arg)
{
	seal_stage *s = arg;
	unsigned long long made = 0, room = 0;
	bool stop = false;

	while (!stop && s->p < s->end) {
		const char *nl = memchr(s->p, '\n', (size_t)(s->end - s->p));
		seal_result r;

		if (nl == NULL)
			break;  /* a torn last line is no record: the parse stops there too */
		if (made == room) {
			pthread_mutex_lock(&s->mu);
			s->produced = made;  /* the parse may be waiting for these */
			pthread_cond_broadcast(&s->cv);
			while (!s->stop && made - s->consumed == SEAL_RING)
				pthread_cond_wait(&s->cv, &s->mu);
			stop = s->stop;
			room = s->consumed + SEAL_RING;
			pthread_mutex_unlock(&s->mu);
			if (stop)
				break;
		}
		r = seal_check(s, s->p, (size_t)(nl - s->p));
		s->ring[made % SEAL_RING] = r;
		made++;
		s->p = nl + 1;
		if (made % SEAL_BATCH == 0 || r.seal == SEAL_ERROR) {
			pthread_mutex_lock(&s->mu);
			s->produced = made;
			stop = s->stop || r.seal == SEAL_ERROR;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
		}
	}
	pthread_mutex_lock(&s->mu);
	s->produced = made;
	s->done = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static bg_status
seal_start(verifier *v, const char *p, const char *end)
{
	seal_stage *s = calloc(1, sizeof(*s));
	bg_error err;

	if (s == NULL)
		return fail(v, "out of memory");
	if (bg_hmac_new(&s->hmac, &err) != BG_OK) {
		free(s);
		return fail(v, "out of memory");
	}
	s->p = p;
	s->end = end;
	memcpy(s->key, v->key, sizeof(s->key));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, seal_run, s) != 0) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		explicit_bzero(s->key, sizeof(s->key));
		bg_hmac_free(s->hmac);
		free(s);
		return fail(v, "cannot start the mac thread");
	}
	v->seal = s;
	return BG_OK;
}

/* The next line's result; false if the stage checked no such line. */
static bool
seal_take(seal_stage *s, seal_result *out)
{
	if (s->taken == s->ready) {
		pthread_mutex_lock(&s->mu);
		s->consumed = s->taken;
		pthread_cond_broadcast(&s->cv);
		while (s->produced == s->taken && !s->done)
			pthread_cond_wait(&s->cv, &s->mu);
		s->ready = s->produced;
		pthread_mutex_unlock(&s->mu);
		if (s->taken == s->ready)
			return false;
	}
	*out = s->ring[s->taken % SEAL_RING];
	s->taken++;
	return true;
}

/*
 * Stops the stage and, when the parse accepted every line it checked, takes
 * its key: the one the chain's next record would be sealed with.
 */
static void
seal_finish(verifier *v, bool complete)
{
	seal_stage *s = v->seal;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	if (complete && s->taken == s->produced)
		memcpy(v->key, s->key, sizeof(v->key));
	explicit_bzero(s->key, sizeof(s->key));
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	bg_hmac_free(s->hmac);
	free(s);
	v->seal = NULL;
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

static bool
scan_record(const char *line, size_t len, record_scan *r)
{
	memset(r, 0, sizeof(*r));
	return bg_journal_parse_line(&scan_callbacks, r, line, len);
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

static bg_status
verify_record(verifier *v, const char *line, size_t len)
{
	const char *mac_hex;
	record_scan r;
	size_t prefix_len;
	bg_error err;

	if (!scan_record(line, len, &r))
		return fail(v, "invalid JSON");
	if (!r.top_is_object)
		return fail(v, "not a JSON object");
	if (!r.have_seq || !r.first_is_seq)
		return fail(v, "seq must be the first member, an integer");
	if (v->res->records == 0 && v->adopt_start && r.seq > 1) {
		bg_status rc = adopt(v, &r);

		if (rc != BG_OK)
			return rc;
	}
	if (r.seq <= 0 || (unsigned long long)r.seq != v->expect_seq) {
		if (r.seq > 0 && (unsigned long long)r.seq < v->expect_seq)
			return fail(v, "seq %lld out of order (expected %llu): reordered or duplicated",
			    r.seq, v->expect_seq);
		return fail(v, "seq gap: expected %llu, found %lld", v->expect_seq, r.seq);
	}
	if (!r.have_time || !r.have_event || !r.have_outcome)
		return fail(v, "missing time, event or outcome");
	if (!r.prev_ok || !r.mac_ok || r.before_last != M_PREV || r.last != M_MAC)
		return fail(v, "prev and mac must be the last two members, 64 lowercase hex digits each");
	if (v->seal != NULL) {
		seal_result sr;

		if (!seal_take(v->seal, &sr))
			return fail(v, "%s", "the mac thread stopped early");
		if (sr.seal == SEAL_UNSPLIT || memcmp(line + sr.mac_off, r.mac, BG_SHA256_HEX_LEN) != 0)
			return fail(v, "%s", "mac member is not where the record ends");
		if (strcmp(r.prev, v->prev_hex) != 0)
			return fail(v, "broken prev link: does not match the mac of seq %llu",
			    v->expect_seq - 1);
		if (sr.seal == SEAL_ERROR)
			return fail(v, "%s", v->seal->error);
		if (sr.seal != SEAL_OK)
			return fail(v, "bad mac: record altered or forged");
	} else {
		if (bg_journal_split_line(line, len, &prefix_len, &mac_hex, &err) != BG_OK ||
		    memcmp(mac_hex, r.mac, BG_SHA256_HEX_LEN) != 0)
			return fail(v, "%s", "mac member is not where the record ends");
		if (strcmp(r.prev, v->prev_hex) != 0)
			return fail(v, "broken prev link: does not match the mac of seq %llu",
			    v->expect_seq - 1);
		if (v->keyed) {
			unsigned char want[BG_SHA256_LEN], next[BG_SHA256_LEN];
			char want_hex[BG_SHA256_HEX_LEN + 1];

			if (bg_hmac_compute(v->hmac, v->key, sizeof(v->key), line, prefix_len, want,
			    &err) != BG_OK || bg_journal_evolve(v->key, next, &err) != BG_OK)
				return fail(v, "%s", err.msg);
			memcpy(v->key, next, sizeof(next));
			explicit_bzero(next, sizeof(next));
			bg_hex_encode(want, sizeof(want), want_hex);
			if (memcmp(want_hex, r.mac, BG_SHA256_HEX_LEN) != 0)
				return fail(v, "bad mac: record altered or forged");
		}
	}
	memcpy(v->prev_hex, r.mac, BG_SHA256_HEX_LEN + 1);
	v->last_line = line;
	v->last_len = len;
	v->last_lineno = v->line;
	v->res->last_seq = (unsigned long long)r.seq;
	v->res->records++;
	v->expect_seq++;
	return BG_OK;
}

static bg_status
verify_file(verifier *v, const char *path)
{
	struct stat st;
	const char *data, *p, *end;
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
	v->last_line = NULL;
	for (p = data; p < end && rc == BG_OK; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		v->line++;
		if (nl == NULL && v->in_last_file && v->with_state) {
			/*
			 * As the writer does: the remains of an append that never
			 * completed are no record, and the next append cuts them.
			 * The key state still vouches for every complete record.
			 */
			snprintf(v->res->torn_file, sizeof(v->res->torn_file), "%s", path);
			v->res->torn_line = v->line;
			break;
		}
		if (nl == NULL) {
			rc = fail(v, "incomplete last line (torn write or truncation)");
			break;
		}
		if ((size_t)(nl - p) > BG_JOURNAL_MAX_LINE)
			rc = fail(v, "line longer than %d bytes", BG_JOURNAL_MAX_LINE);
		else
			rc = verify_record(v, p, (size_t)(nl - p));
		p = nl + 1;
		if (rc == BG_OK && v->keyed && v->seal == NULL && p < end)
			rc = seal_start(v, p, end);
	}
	seal_finish(v, rc == BG_OK);
	/* Once per file: what the key state is compared with at the end. */
	if (rc == BG_OK && v->with_state && v->last_line != NULL) {
		bg_buf_free(&v->tail);
		bg_buf_init(&v->tail, BG_JOURNAL_MAX_LINE);
		if (!bg_buf_append(&v->tail, v->last_line, v->last_len))
			rc = fail(v, "out of memory");
		v->tail_file = path;
		v->tail_lineno = v->last_lineno;
	}
	munmap((void *)data, (size_t)st.st_size);
	return rc;
}

/*
 * A key state one record behind the journal is what an append leaves when it
 * dies after syncing its record and before storing the state.  The writer
 * adopts that record when its prev is the state's and its mac verifies with
 * the state's key; the verifier accepts it by the same rule, and says so.
 * With K_1 the chain already checked that mac with K_seq, so the state's key
 * is K_seq: the one the record was sealed with.
 */
static bg_status
verify_adoptable(verifier *v, const bg_journal_state *state)
{
	unsigned char want[BG_SHA256_LEN];
	char hex[BG_SHA256_HEX_LEN + 1];
	const char *mac_hex;
	size_t prefix_len;
	record_scan r;
	bg_error err;

	v->file = v->tail_file;
	v->line = v->tail_lineno;
	if (!scan_record(v->tail.data, v->tail.len, &r) ||
	    bg_journal_split_line(v->tail.data, v->tail.len, &prefix_len, &mac_hex, &err) != BG_OK)
		return fail(v, "%s", "last record unreadable");
	bg_hex_encode(state->prev, BG_SHA256_LEN, hex);
	if (strcmp(hex, r.prev) != 0)
		return fail(v, "the key state is at seq %llu and the last record (seq %llu) "
		    "does not follow its mac", state->seq, v->res->last_seq);
	if (bg_hmac_compute(v->hmac, state->key, BG_SHA256_LEN, v->tail.data, prefix_len, want,
	    &err) != BG_OK)
		return fail(v, "%s", err.msg);
	bg_hex_encode(want, sizeof(want), hex);
	if (memcmp(hex, mac_hex, BG_SHA256_HEX_LEN) != 0)
		return fail(v, "the key state is at seq %llu and the last record (seq %llu) "
		    "was not sealed with its key", state->seq, v->res->last_seq);
	v->res->adoptable = true;
	return BG_OK;
}

static bg_status
verify_state(verifier *v, const bg_journal_state *state)
{
	char mac_hex[BG_SHA256_HEX_LEN + 1];

	v->line = 0;
	if (v->res->records > 0 && state->seq + 1 == v->res->last_seq)
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
	bg_buf_init(&v.tail, BG_JOURNAL_MAX_LINE);
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
