/*
 * The forward-secure, hash-chained audit journal (JSON Lines).
 *
 * Record n is one line: {"seq":n,"time":...,"host":...,"pid":...,"event":...,
 * "outcome":...,"account":...,"operator":...,"incident":...,"request_id":...,
 * <event fields>,"prev":"<mac of n-1>","mac":"<hex>"}.  mac is
 * HMAC-SHA256(K_n, the line's bytes up to and including the prev member);
 * K_{n+1} = SHA-256("breakglass-evolve" || K_n).  The writer keeps only the
 * current key, in the key state file, next to the seq and mac of the last
 * record.
 */
#ifndef BG_JOURNAL_H
#define BG_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "buf.h"
#include "crypto.h"
#include "status.h"

#define BG_JOURNAL_MAX_LINE (64 * 1024)
#define BG_JOURNAL_MAX_VALUE (8 * 1024)
#define BG_JOURNAL_EVOLVE_LABEL "breakglass-evolve"
/*
 * The most records one append writes (one write, one sync, one key-state
 * store), so the most a key state left by a crash lags behind its journal.
 */
#define BG_JOURNAL_BATCH_MAX 64

typedef struct bg_event bg_event;

/* outcome: "success", "failure" or "error". */
bg_event *bg_event_new(const char *name, const char *outcome);
void bg_event_free(bg_event *ev);

/* The identity members every record carries (NULL: JSON null). */
void bg_event_set_identity(bg_event *ev, const char *account, const char *operator_name,
    const char *incident, const char *request_id);

/*
 * Event-specific members, in call order.  Strings longer than
 * BG_JOURNAL_MAX_VALUE are cut and the record gets "truncated": true.
 * A failed add marks the event broken: bg_journal_append then refuses it.
 */
void bg_event_add_str(bg_event *ev, const char *key, const char *value);
void bg_event_add_int(bg_event *ev, const char *key, long long value);
void bg_event_add_bool(bg_event *ev, const char *key, bool value);
void bg_event_add_strv(bg_event *ev, const char *key, const char *const *v, size_t n);
/* Takes ownership of value. */
void bg_event_add_json(bg_event *ev, const char *key, json_object *value);

const char *bg_event_name(const bg_event *ev);
const char *bg_event_outcome(const bg_event *ev);
/* The identity and the event-specific members, for the syslog line. */
json_object *bg_event_identity(const bg_event *ev);
json_object *bg_event_fields(const bg_event *ev);

typedef struct {
	const char *path;        /* the JSON Lines journal */
	const char *state_path;  /* the key state file; its lock is state_path + ".lock" */
	const char *host;        /* "host" member */
} bg_journal;

/*
 * Starts a new chain: creates the key state (seq 0, K_1) and returns K_1.
 * Refuses when a key state exists or the journal already holds records.
 */
bg_status bg_journal_init(const bg_journal *j, unsigned char k1[BG_SHA256_LEN],
    bg_error *err);

/* What an append committed. */
typedef struct {
	unsigned long long seq;
	char mac_hex[BG_SHA256_HEX_LEN + 1];
	/*
	 * The record is committed but its key-state update failed: the next
	 * append adopts it (journal.md, section 6).  state_err says why.
	 */
	bool state_lags;
	bg_error state_err;
} bg_journal_appended;

/*
 * Appends ev as the next record: under the lock, wipes what an interrupted
 * key-state update left, recovers a crash between a record and its key-state
 * update, prepares the next key state (taking its disk space), writes and
 * fsyncs the line, then stores the state.  BG_OK: the record is committed and
 * the action it records may proceed (out, when not NULL, describes it, also
 * when only the state update failed).  Any failure: the record was not
 * committed (what reached the file was taken back): deny.
 */
bg_status bg_journal_append(const bg_journal *j, const bg_event *ev,
    bg_journal_appended *out, bg_error *err);

/*
 * Appends evs[0..n-1] (1 to BG_JOURNAL_BATCH_MAX) as the next records, as
 * bg_journal_append does one: one write, one sync and one key-state store
 * for them all, so all are committed or none (out[i] for evs[i]).
 */
bg_status bg_journal_append_many(const bg_journal *j, const bg_event *const *evs, size_t n,
    bg_journal_appended *out, bg_error *err);

/*
 * Formats ev as record seq, sealed with key (K_seq) and linked to prev: the
 * whole line with its newline, into a fresh line buffer.  No I/O, no lock:
 * bg_journal_append uses it under its lock; benchmarks use it to build chains.
 */
bg_status bg_journal_format(const bg_journal *j, const bg_event *ev, unsigned long long seq,
    const unsigned char key[BG_SHA256_LEN], const unsigned char prev[BG_SHA256_LEN],
    bg_buf *line, unsigned char mac[BG_SHA256_LEN], bg_error *err);

/* The current time as RFC 3339 UTC with milliseconds ("...T15:17:57.041Z"). */
#define BG_RFC3339_MAX 32
bg_status bg_time_now_rfc3339(char *out, size_t outsz, bg_error *err);

/* K_{n+1} from K_n; _with a SHA-256 context kept across calls (NULL: none). */
bg_status bg_journal_evolve(const unsigned char k[BG_SHA256_LEN],
    unsigned char next[BG_SHA256_LEN], bg_error *err);
bg_status bg_journal_evolve_with(bg_sha256_ctx *c, const unsigned char k[BG_SHA256_LEN],
    unsigned char next[BG_SHA256_LEN], bg_error *err);

/* The key state: what the writer keeps between appends. */
typedef struct {
	unsigned long long seq;                  /* last record written (0: none) */
	unsigned char key[BG_SHA256_LEN];        /* K_{seq+1} */
	unsigned char prev[BG_SHA256_LEN];       /* mac of record seq (zeros when seq = 0) */
} bg_journal_state;

bg_status bg_journal_state_read(const char *path, bg_journal_state *st, bg_error *err);

/*
 * bg_journal_state_read for a reader outside the writer (breakglass verify):
 * under the chain's lock when its lock file is beside the state (a live
 * chain, whose writers rewrite the state in place), as it is otherwise (a
 * copy taken for review).
 */
bg_status bg_journal_state_read_live(const char *path, bg_journal_state *st, bg_error *err);

/*
 * Adopts line (len bytes, no line feed) as record st->seq + 1 when it is
 * that seq, linked to st->prev and sealed with st->key: st then describes
 * it.  The writer's recovery rule (journal.md, section 6), shared with the
 * verifier; _lines adopts each line of lines in turn.
 */
bg_status bg_journal_adopt_line(bg_journal_state *st, const char *line, size_t len,
    bg_error *err);
bg_status bg_journal_adopt_lines(bg_journal_state *st, const char *lines, size_t len,
    bg_error *err);

/*
 * Locates the mac member of a record line: *prefix_len is the length of the
 * bytes the mac covers (up to and including the prev member) and mac_hex the
 * 64 hex digits.  Tolerates JSON whitespace; does not validate the rest.
 */
bg_status bg_journal_split_line(const char *line, size_t len, size_t *prefix_len,
    const char **mac_hex, bg_error *err);

/* Result of a verification. */
typedef struct {
	unsigned long long records;   /* records checked */
	unsigned long long first_seq; /* 1, or where an adopted chain started */
	unsigned long long last_seq;
	char file[256];               /* where the first problem is */
	unsigned long line;
	char reason[BG_ERROR_MAX];
	/*
	 * With a key state, what an interrupted append left, accepted as the
	 * writer accepts it (journal.md, section 6): the last records (at most
	 * one append's) are past the state, sealed with the keys it derives
	 * (the next append adopts them);
	 * the last file ends in an incomplete line (the next append cuts it).
	 */
	bool adoptable;
	unsigned long long adopt_first;   /* when adoptable: the first record to adopt */
	char torn_file[256];
	unsigned long torn_line;      /* 0: none */
} bg_verify_result;

/*
 * Verifies files, in order, as one chain starting at seq 1: JSON validity,
 * seq continuity, prev links and, with k1, every mac.  With state, also that
 * the state's seq, mac and (with k1) key match the end of the chain, or that
 * the last record is one the writer would adopt; and an incomplete last line
 * of the last file is then ignored, as the writer cuts it.
 * Returns BG_OK when intact; otherwise the first problem is in res.
 */
bg_status bg_journal_verify(const char *const *files, size_t nfiles,
    const unsigned char *k1, const bg_journal_state *state, bg_verify_result *res);

/*
 * As bg_journal_verify, but when adopt_start is set the first file may begin
 * after seq 1 (older rotated files were archived or deleted): its first
 * record's prev is taken on trust, and with k1 the key is evolved to that
 * seq (at most BG_JOURNAL_MAX_ADOPT steps).  res->first_seq says where.
 */
#define BG_JOURNAL_MAX_ADOPT 100000000ULL
bg_status bg_journal_verify_from(const char *const *files, size_t nfiles,
    const unsigned char *k1, const bg_journal_state *state, bool adopt_start,
    bg_verify_result *res);

#endif
