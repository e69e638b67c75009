/* Unit tests for common/journal.c and journal_verify.c. */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"
#include "crypto.h"
#include "../fuzz/grammar_diff.h"
#include "journal.h"
#include "testutil.h"

struct fixture {
	char *dir;
	char *journal;
	char *state;
	bg_journal j;
	unsigned char k1[BG_SHA256_LEN];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	bg_error err;

	f->dir = tu_mkdtemp();
	f->journal = tu_path(f->dir, "journal.jsonl");
	f->state = tu_path(f->dir, "journal.state");
	f->j.path = f->journal;
	f->j.state_path = f->state;
	f->j.host = "mx1.example.net";
	if (bg_journal_init(&f->j, f->k1, &err) != BG_OK) {
		fprintf(stderr, "init: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmtree(f->dir);
	free(f->dir);
	free(f->journal);
	free(f->state);
	free(f);
	return 0;
}

static unsigned long long
append(struct fixture *f, const char *reason)
{
	bg_journal_appended rec;
	bg_event *ev = bg_event_new("auth.begin", "success");
	bg_error err;
	const char *argv[] = { "/usr/sbin/postqueue", "-p" };

	assert_non_null(ev);
	bg_event_set_identity(ev, "breakglass", "alice", "INC-1", NULL);
	bg_event_add_str(ev, "reason", reason);
	bg_event_add_strv(ev, "argv", argv, 2);
	if (bg_journal_append(&f->j, ev, &rec, &err) != BG_OK)
		fail_msg("append: %s", err.msg);
	assert_int_equal(strlen(rec.mac_hex), 64);
	assert_false(rec.state_lags);
	bg_event_free(ev);
	return rec.seq;
}

/* An append that may be refused: its status. */
static bg_status
append_status(struct fixture *f)
{
	bg_event *ev = bg_event_new("note.added", "success");
	bg_error err;
	bg_status rc;

	assert_non_null(ev);
	rc = bg_journal_append(&f->j, ev, NULL, &err);
	bg_event_free(ev);
	return rc;
}

/* Verifies the fixture's journal with K_1 and the state; returns the failing line or 0. */
static unsigned long
verify(struct fixture *f, char *reason, size_t reason_size)
{
	const char *files[] = { f->journal };
	bg_journal_state st;
	bg_verify_result res;
	bg_error err;

	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	if (bg_journal_verify(files, 1, f->k1, &st, &res) == BG_OK)
		return 0;
	if (reason != NULL)
		snprintf(reason, reason_size, "%s", res.reason);
	return res.line > 0 ? res.line : (unsigned long)-1;
}

/* Reads the journal as an array of malloc()ed lines (without newlines). */
static char **
read_lines(struct fixture *f, size_t *n)
{
	char *text = tu_read(f->journal, NULL), *save = NULL, *line;
	char **lines = NULL;

	*n = 0;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		lines = realloc(lines, (*n + 1) * sizeof(*lines));
		lines[(*n)++] = strdup(line);
	}
	free(text);
	return lines;
}

static void
write_lines(struct fixture *f, char **lines, size_t n)
{
	FILE *out = fopen(f->journal, "w");

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s\n", lines[i]);
	fclose(out);
}

static void
free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->journal };
	bg_verify_result res;
	char **lines;
	size_t n;
	json_object *rec, *o;

	for (int i = 1; i <= 5; i++)
		assert_int_equal(append(f, "queue stuck"), (unsigned long long)i);
	assert_int_equal(verify(f, NULL, 0), 0);
	/* Without key and state the structure still verifies. */
	assert_int_equal(bg_journal_verify(files, 1, NULL, NULL, &res), BG_OK);
	assert_int_equal(res.records, 5);

	lines = read_lines(f, &n);
	assert_int_equal(n, 5);
	/* Member order of the contract: seq first, prev and mac last. */
	assert_true(strncmp(lines[0], "{\"seq\":1,\"time\":\"", 17) == 0);
	assert_non_null(strstr(lines[0], ",\"prev\":\""
	    "0000000000000000000000000000000000000000000000000000000000000000\",\"mac\":\""));
	rec = json_tokener_parse(lines[2]);
	assert_non_null(rec);
	assert_true(json_object_object_get_ex(rec, "operator", &o));
	assert_string_equal(json_object_get_string(o), "alice");
	assert_true(json_object_object_get_ex(rec, "request_id", &o));
	assert_null(o);
	assert_true(json_object_object_get_ex(rec, "time", &o));
	assert_int_equal(strlen(json_object_get_string(o)), 24);
	json_object_put(rec);
	free_lines(lines, n);
}

static void
test_append_without_state_fails(void **state)
{
	struct fixture *f = *state;
	bg_event *ev = bg_event_new("note.added", "success");
	unsigned char k[BG_SHA256_LEN];
	bg_error err;

	/* A second chain over an existing key state is refused. */
	assert_int_equal(bg_journal_init(&f->j, k, &err), BG_ERR_DENIED);
	unlink(f->state);
	assert_int_equal(bg_journal_append(&f->j, ev, NULL, &err), BG_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "journal init"));
	bg_event_free(ev);
	/* A new chain over a journal holding records is refused too. */
	free(tu_write(f->dir, "journal.jsonl", 0600, "{\"seq\":1}\n"));
	assert_int_equal(bg_journal_init(&f->j, k, &err), BG_ERR_DENIED);
}

/* Changes one member of record 3 and expects verification to fail there. */
static void
test_tamper_each_field(void **state)
{
	struct fixture *f = *state;
	char reason[BG_ERROR_MAX];
	char **lines;
	size_t n, nkeys = 0;
	json_object *rec;

	for (int i = 0; i < 5; i++)
		append(f, "spam run");
	lines = read_lines(f, &n);
	rec = json_tokener_parse(lines[2]);
	assert_non_null(rec);
	{
		json_object_object_foreach(rec, key, val) {
			json_object *copy = NULL;
			char *saved = lines[2];
			const char *text;

			(void)val;
			json_object_deep_copy(rec, &copy, NULL);
			switch (json_object_get_type(json_object_object_get(copy, key))) {
			case json_type_int:
				json_object_object_add(copy, key, json_object_new_int64(
				    json_object_get_int64(json_object_object_get(copy, key)) + 1));
				break;
			case json_type_string: {
				char *mutated = strdup(json_object_get_string(json_object_object_get(copy, key)));

				mutated[0] = mutated[0] == 'a' ? 'b' : 'a';
				json_object_object_add(copy, key, json_object_new_string(mutated));
				free(mutated);
				break;
			}
			default:
				json_object_object_add(copy, key, json_object_new_string("forged"));
				break;
			}
			text = json_object_to_json_string_ext(copy,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
			lines[2] = strdup(text);
			write_lines(f, lines, n);
			assert_int_equal(verify(f, reason, sizeof(reason)), 3);
			free(lines[2]);
			lines[2] = saved;
			json_object_put(copy);
			nkeys++;
		}
	}
	assert_true(nkeys >= 12);
	write_lines(f, lines, n);
	assert_int_equal(verify(f, NULL, 0), 0);
	json_object_put(rec);
	free_lines(lines, n);
}

static void
test_delete_reorder_truncate_forge(void **state)
{
	struct fixture *f = *state;
	char reason[BG_ERROR_MAX], *saved, *forged;
	char **lines;
	size_t n;
	unsigned char bogus[BG_SHA256_LEN], mac[BG_SHA256_LEN];
	char hex[BG_SHA256_HEX_LEN + 1], prev_hex[BG_SHA256_HEX_LEN + 1];
	const char *mac_hex;
	size_t prefix_len;
	bg_error err;

	for (int i = 0; i < 5; i++)
		append(f, "spam run");
	lines = read_lines(f, &n);

	/* Deleting record 3: seq gap at line 3. */
	{
		char *kept[] = { lines[0], lines[1], lines[3], lines[4] };

		write_lines(f, kept, 4);
		assert_int_equal(verify(f, reason, sizeof(reason)), 3);
		assert_non_null(strstr(reason, "seq gap"));
	}
	/* Swapping records 3 and 4. */
	saved = lines[2];
	lines[2] = lines[3];
	lines[3] = saved;
	write_lines(f, lines, n);
	assert_int_equal(verify(f, reason, sizeof(reason)), 3);
	lines[3] = lines[2];
	lines[2] = saved;
	/* Truncating the last record: the key state says there were five. */
	write_lines(f, lines, n - 1);
	assert_int_equal(verify(f, reason, sizeof(reason)), (unsigned long)-1);
	assert_non_null(strstr(reason, "truncated"));
	/* Appending a forged record that links correctly but has a guessed key. */
	assert_int_equal(bg_journal_split_line(lines[4], strlen(lines[4]), &prefix_len, &mac_hex,
	    &err), BG_OK);
	memcpy(prev_hex, mac_hex, BG_SHA256_HEX_LEN);
	prev_hex[BG_SHA256_HEX_LEN] = '\0';
	assert_int_equal(asprintf(&forged, "{\"seq\":6,\"time\":\"2026-11-27T00:00:00.000Z\","
	    "\"host\":\"mx1.example.net\",\"pid\":1,\"event\":\"grant.revoked\","
	    "\"outcome\":\"success\",\"prev\":\"%s\"", prev_hex) > 0, 1);
	memset(bogus, 0x42, sizeof(bogus));
	assert_int_equal(bg_hmac_sha256(bogus, sizeof(bogus), forged, strlen(forged), mac, &err), BG_OK);
	bg_hex_encode(mac, sizeof(mac), hex);
	lines = realloc(lines, (n + 1) * sizeof(*lines));
	assert_int_equal(asprintf(&lines[n], "%s,\"mac\":\"%s\"}", forged, hex) > 0, 1);
	write_lines(f, lines, n + 1);
	assert_int_equal(verify(f, reason, sizeof(reason)), 6);
	assert_non_null(strstr(reason, "bad mac"));
	free(forged);
	/* Invalid JSON in the middle. */
	saved = lines[1];
	lines[1] = strdup("{\"seq\":2,");
	write_lines(f, lines, n);
	assert_int_equal(verify(f, reason, sizeof(reason)), 2);
	assert_non_null(strstr(reason, "JSON"));
	free(lines[1]);
	lines[1] = saved;
	free_lines(lines, n + 1);
}

static void
test_injection_stays_one_record(void **state)
{
	struct fixture *f = *state;
	const char *evil = "done\"}\n{\"seq\":2,\"event\":\"sudo.accepted\"\r\x1b[2J\\";
	char **lines;
	size_t n;
	json_object *rec, *o;

	append(f, evil);
	lines = read_lines(f, &n);
	assert_int_equal(n, 1);
	rec = json_tokener_parse(lines[0]);
	assert_true(json_object_object_get_ex(rec, "reason", &o));
	assert_string_equal(json_object_get_string(o), evil);
	json_object_put(rec);
	assert_int_equal(verify(f, NULL, 0), 0);
	free_lines(lines, n);
}

/* A crash after the record was written but before the key state was stored. */
static void
test_crash_between_record_and_state(void **state)
{
	struct fixture *f = *state;
	char *old_state;
	size_t len;
	char **lines;
	size_t n;

	append(f, "one");
	append(f, "two");
	old_state = tu_read(f->state, &len);
	append(f, "three");
	/* Put the state back as it was before record 3 was sealed. */
	free(tu_write(f->dir, "journal.state", 0600, old_state));
	free(old_state);
	assert_int_equal(append(f, "four"), 4);
	assert_int_equal(verify(f, NULL, 0), 0);
	lines = read_lines(f, &n);
	assert_int_equal(n, 4);
	free_lines(lines, n);
}

/* verify, with the key state, before any append has adopted the record. */
static void
test_verify_accepts_adoptable_record(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->journal };
	char reason[BG_ERROR_MAX];
	bg_journal_state st;
	bg_verify_result res;
	bg_error err;
	char *old_state;
	size_t len;

	append(f, "one");
	old_state = tu_read(f->state, &len);
	append(f, "two");
	free(tu_write(f->dir, "journal.state", 0600, old_state));
	free(old_state);
	assert_int_equal(verify(f, reason, sizeof(reason)), 0);
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	assert_int_equal(bg_journal_verify(files, 1, f->k1, &st, &res), BG_OK);
	assert_true(res.adoptable);
	assert_int_equal(res.last_seq, 2);
	/* The next append adopts it; then nothing is pending. */
	assert_int_equal(append(f, "three"), 3);
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	assert_int_equal(bg_journal_verify(files, 1, f->k1, &st, &res), BG_OK);
	assert_false(res.adoptable);
}

/*
 * A state one record behind adopts only a record sealed with its key and
 * linked to its mac: a last record forged with another key is refused, by
 * the writer and by verify without K_1 alike.
 */
static void
test_verify_refuses_unadoptable_record(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->journal };
	unsigned char other[BG_SHA256_LEN], mac[BG_SHA256_LEN];
	bg_journal_state st;
	bg_verify_result res;
	bg_event *ev = bg_event_new("sudo.accepted", "success");
	bg_error err;
	bg_buf line;
	FILE *out;

	append(f, "one");
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	memset(other, 0x42, sizeof(other));
	assert_int_equal(bg_journal_format(&f->j, ev, 2, other, st.prev, &line, mac, &err), BG_OK);
	out = fopen(f->journal, "a");
	assert_non_null(out);
	assert_int_equal(fwrite(line.data, 1, line.len, out), line.len);
	fclose(out);
	bg_buf_free(&line);
	assert_int_equal(bg_journal_verify(files, 1, NULL, &st, &res), BG_ERR_INVALID);
	assert_non_null(strstr(res.reason, "seq 2"));
	assert_int_equal(bg_journal_append(&f->j, ev, NULL, &err), BG_ERR_INVALID);
	/* Two records behind: record 1 adopts, the forged record 2 does not. */
	st.seq = 0;
	memset(st.prev, 0, sizeof(st.prev));
	memcpy(st.key, f->k1, sizeof(st.key));
	assert_int_equal(bg_journal_verify(files, 1, NULL, &st, &res), BG_ERR_INVALID);
	assert_non_null(strstr(res.reason, "unsealed record seq 2 has a bad mac"));
	bg_event_free(ev);
}

/* n events for one append_many, "batch-0"... */
static void
append_batch(struct fixture *f, size_t n, unsigned long long first_seq)
{
	bg_journal_appended rec[BG_JOURNAL_BATCH_MAX];
	const bg_event *evs[BG_JOURNAL_BATCH_MAX];
	bg_error err;

	for (size_t i = 0; i < n; i++) {
		bg_event *ev = bg_event_new("approval.voted", "success");
		char reason[32];

		assert_non_null(ev);
		snprintf(reason, sizeof(reason), "batch-%zu", i);
		bg_event_add_str(ev, "reason", reason);
		evs[i] = ev;
	}
	if (bg_journal_append_many(&f->j, evs, n, rec, &err) != BG_OK)
		fail_msg("append_many: %s", err.msg);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rec[i].seq, first_seq + i);
		assert_false(rec[i].state_lags);
		bg_event_free((bg_event *)evs[i]);
	}
}

/*
 * One append of several records: one line each, in order, chained, and a
 * key state that a crash before its store leaves up to a whole append
 * behind: the writer adopts every record of it, and verify (with and
 * without K_1) accepts them, by the same rule.
 */
static void
test_append_many_adopted_whole(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->journal };
	bg_journal_state st;
	bg_verify_result res;
	bg_error err;
	char *old_state, **lines;
	size_t len, n;

	append(f, "one");
	old_state = tu_read(f->state, &len);
	append_batch(f, 5, 2);
	assert_int_equal(verify(f, NULL, 0), 0);
	/* The crash: records 2 to 6 durable, the state still at 1. */
	free(tu_write(f->dir, "journal.state", 0600, old_state));
	free(old_state);
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	assert_int_equal(st.seq, 1);
	assert_int_equal(bg_journal_verify(files, 1, f->k1, &st, &res), BG_OK);
	assert_true(res.adoptable);
	assert_int_equal(bg_journal_verify(files, 1, NULL, &st, &res), BG_OK);
	assert_true(res.adoptable);
	assert_int_equal(append(f, "seven"), 7);
	assert_int_equal(verify(f, NULL, 0), 0);
	lines = read_lines(f, &n);
	assert_int_equal(n, 7);
	assert_non_null(strstr(lines[1], "\"reason\":\"batch-0\""));
	assert_non_null(strstr(lines[5], "\"reason\":\"batch-4\""));
	free_lines(lines, n);
}

/* More records past the state than one append writes: refused by both. */
static void
test_adopt_at_most_one_batch(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->journal };
	bg_journal_state st;
	bg_verify_result res;
	bg_error err;
	char *old_state;
	size_t len;

	old_state = tu_read(f->state, &len);
	append_batch(f, BG_JOURNAL_BATCH_MAX, 1);
	append(f, "one more");
	free(tu_write(f->dir, "journal.state", 0600, old_state));
	free(old_state);
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	assert_int_equal(bg_journal_verify(files, 1, NULL, &st, &res), BG_ERR_INVALID);
	assert_non_null(strstr(res.reason, "at seq 0 but the journal ends at seq 65"));
	assert_int_equal(append_status(f), BG_ERR_INVALID);
}

/* A batch over the maximum, or empty, is refused before anything is written. */
static void
test_append_many_bounds(void **state)
{
	struct fixture *f = *state;
	const bg_event *evs[BG_JOURNAL_BATCH_MAX + 1] = { 0 };
	bg_error err;

	assert_int_equal(bg_journal_append_many(&f->j, evs, 0, NULL, &err), BG_ERR_INVALID);
	assert_int_equal(bg_journal_append_many(&f->j, evs, BG_JOURNAL_BATCH_MAX + 1, NULL,
	    &err), BG_ERR_INVALID);
	assert_int_equal(append(f, "first"), 1);
}

/* Files beside the key state are never left behind, whatever they hold. */
static void
test_leftovers_removed(void **state)
{
	struct fixture *f = *state;
	char *old_state, *dup;
	size_t len;
	DIR *d;
	struct dirent *de;

	append(f, "one");
	old_state = tu_read(f->state, &len);
	/* What a writer killed in a key-state update left (this or older versions). */
	free(tu_write(f->dir, "journal.state.tmp.0123456789abcdef", 0600, old_state));
	free(tu_write(f->dir, "journal.state.new", 0600, old_state));
	/* An operator's TOTP state may be named anything.totp. */
	dup = tu_path(f->dir, "journal.state.tmp.0123456789abcdef.totp");
	free(tu_write(f->dir, "journal.state.tmp.0123456789abcdef.totp", 0600, "unrelated"));
	free(old_state);
	append(f, "two");
	d = opendir(f->dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (strcmp(de->d_name, "journal.jsonl") != 0 &&
		    strcmp(de->d_name, "journal.state") != 0 &&
		    strcmp(de->d_name, "journal.state.lock") != 0 &&
		    strcmp(de->d_name, "journal.state.tmp.0123456789abcdef.totp") != 0)
			fail_msg("left beside the key state: %s", de->d_name);
	}
	closedir(d);
	/* Only the writer's own names are removed. */
	assert_int_equal(access(dup, F_OK), 0);
	free(dup);
	assert_int_equal(verify(f, NULL, 0), 0);
}

/*
 * A record whose write fails (here the file size limit, as a full disk
 * would) is taken back at once: it can never be adopted later and say that
 * a refused action happened.
 */
static void
test_failed_write_taken_back(void **state)
{
	struct fixture *f = *state;
	struct stat before, after;
	struct rlimit lim;
	pid_t pid;
	int status;

	append(f, "one");
	assert_int_equal(stat(f->journal, &before), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bg_event *ev = bg_event_new("sudo.accepted", "success");
		bg_error err;

		signal(SIGXFSZ, SIG_IGN);
		lim.rlim_cur = lim.rlim_max = (rlim_t)before.st_size + 40;
		if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
			_exit(2);
		_exit(bg_journal_append(&f->j, ev, NULL, &err) == BG_OK ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(stat(f->journal, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(verify(f, NULL, 0), 0);
	assert_int_equal(append(f, "two"), 2);
}

/* The syslog lines of the child below: a count and the last line. */
static int sink_lines;
static char sink_last[BG_SYSLOG_MAX_LINE + 1];
static bool sink_saw_record;

static void
sink(int priority, const char *line, void *arg)
{
	(void)priority;
	(void)arg;
	sink_lines++;
	if (strstr(line, "event=sudo.accepted outcome=success") != NULL &&
	    strstr(line, " seq=2 mac=") != NULL)
		sink_saw_record = true;
	snprintf(sink_last, sizeof(sink_last), "%s", line);
}

/*
 * The key state is rewritten with pwrite (journal.c, state_store), and only
 * there: this build links journal.c's calls to pwrite to the wrapper below
 * (-Wl,--wrap=pwrite), which fails them on demand.
 */
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
static bool fail_pwrite;

ssize_t
__wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (fail_pwrite) {
		errno = EIO;
		return -1;
	}
	return __real_pwrite(fd, buf, n, off);
}

/*
 * The key-state update fails after the record is durable: the record is
 * committed, so the append succeeds and the action proceeds as recorded;
 * syslog says the state lags, and the next append adopts the record.
 */
static void
test_state_failure_after_record(void **state)
{
	struct fixture *f = *state;
	bg_event *ev = bg_event_new("sudo.accepted", "success");
	bg_journal_state st;
	bg_audit a;
	bg_error err;
	bg_status rc;

	append(f, "one");
	memset(&a, 0, sizeof(a));
	a.journal = f->j;
	a.sink = sink;
	fail_pwrite = true;
	rc = bg_audit_emit(&a, ev, &err);
	fail_pwrite = false;
	bg_event_free(ev);
	assert_int_equal(rc, BG_OK);
	assert_int_equal(sink_lines, 2);
	assert_true(sink_saw_record);
	assert_non_null(strstr(sink_last,
	    "event=sudo.accepted outcome=error journal=state-failed seq=2 reason="));
	/* The state is still at record 1; verify and the writer accept record 2. */
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	assert_int_equal(st.seq, 1);
	assert_int_equal(verify(f, NULL, 0), 0);
	assert_int_equal(append(f, "three"), 3);
	assert_int_equal(verify(f, NULL, 0), 0);
}

/* A crash in the middle of writing a record leaves a partial line. */
static void
test_torn_write_is_cut(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->journal };
	bg_journal_state st;
	bg_verify_result res;
	bg_error err;
	int fd;

	append(f, "one");
	fd = open(f->journal, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"seq\":2,\"ti", 12), 12);
	close(fd);
	/* Before the next append, verify with the state accepts it as the writer does. */
	assert_int_equal(verify(f, NULL, 0), 0);
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	assert_int_equal(bg_journal_verify(files, 1, f->k1, &st, &res), BG_OK);
	assert_int_equal(res.torn_line, 2);
	assert_string_equal(res.torn_file, f->journal);
	/* Without the key state nothing tells a torn append from a cut record. */
	assert_int_equal(bg_journal_verify(files, 1, f->k1, NULL, &res), BG_ERR_INVALID);
	assert_int_equal(res.line, 2);
	assert_int_equal(append(f, "two"), 2);
	assert_int_equal(verify(f, NULL, 0), 0);
}

static void
test_state_mismatch_refuses(void **state)
{
	struct fixture *f = *state;
	char **lines;
	size_t n;
	bg_event *ev = bg_event_new("note.added", "success");
	bg_error err;

	for (int i = 0; i < 4; i++)
		append(f, "x");
	lines = read_lines(f, &n);
	write_lines(f, lines, 2);   /* someone cut two records */
	assert_int_equal(bg_journal_append(&f->j, ev, NULL, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "key state is at seq 4"));
	bg_event_free(ev);
	free_lines(lines, n);
}

static void
test_rotation_continues_chain(void **state)
{
	struct fixture *f = *state;
	char *rotated = tu_path(f->dir, "journal.jsonl.1");
	const char *files[2];
	bg_journal_state st;
	bg_verify_result res;
	bg_error err;

	append(f, "a");
	append(f, "b");
	assert_int_equal(rename(f->journal, rotated), 0);
	assert_int_equal(append(f, "c"), 3);
	files[0] = rotated;
	files[1] = f->journal;
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	assert_int_equal(bg_journal_verify(files, 2, f->k1, &st, &res), BG_OK);
	assert_int_equal(res.records, 3);
	/* The newest file alone does not start the chain. */
	assert_int_equal(bg_journal_verify(files + 1, 1, f->k1, &st, &res), BG_ERR_INVALID);
	free(rotated);
}

static void
test_state_file_checked(void **state)
{
	struct fixture *f = *state;
	bg_journal_state st;
	bg_error err;

	assert_int_equal(chmod(f->state, 0644), 0);
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_ERR_PERM);
	assert_int_equal(chmod(f->state, 0600), 0);
	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	assert_int_equal(st.seq, 0);
	assert_memory_equal(st.key, f->k1, BG_SHA256_LEN);
}

/*
 * The key state has a fixed size and is rewritten in place; one written by
 * an earlier version (shorter, unpadded) is replaced once, atomically, and
 * the chain goes on.  An append refuses a state open to others or linked.
 */
static void
test_state_in_place(void **state)
{
	struct fixture *f = *state;
	bg_journal_state st;
	struct stat sb;
	bg_error err;
	char legacy[400], key_hex[BG_SHA256_HEX_LEN + 1], prev_hex[BG_SHA256_HEX_LEN + 1];
	char *real;
	ino_t ino;

	assert_int_equal(stat(f->state, &sb), 0);
	assert_int_equal(sb.st_size, 512);
	append(f, "one");
	ino = sb.st_ino;
	assert_int_equal(stat(f->state, &sb), 0);
	assert_int_equal(sb.st_size, 512);
	assert_true(sb.st_ino == ino);  /* rewritten, not replaced */

	assert_int_equal(bg_journal_state_read(f->state, &st, &err), BG_OK);
	bg_hex_encode(st.key, BG_SHA256_LEN, key_hex);
	bg_hex_encode(st.prev, BG_SHA256_LEN, prev_hex);
	snprintf(legacy, sizeof(legacy), "# breakglass journal key state\nseq = %llu\n"
	    "key = %s\nprev = %s\n", st.seq, key_hex, prev_hex);
	free(tu_write(f->dir, "journal.state", 0600, legacy));
	assert_int_equal(append(f, "two"), 2);
	assert_int_equal(stat(f->state, &sb), 0);
	assert_int_equal(sb.st_size, 512);
	assert_int_equal(verify(f, NULL, 0), 0);

	assert_int_equal(chmod(f->state, 0640), 0);
	assert_int_not_equal(append_status(f), BG_OK);
	assert_int_equal(chmod(f->state, 0600), 0);
	real = tu_path(f->dir, "state.real");
	assert_int_equal(rename(f->state, real), 0);
	assert_int_equal(symlink(real, f->state), 0);
	assert_int_equal(append_status(f), BG_ERR_PERM);
	assert_int_equal(unlink(f->state), 0);
	assert_int_equal(rename(real, f->state), 0);
	free(real);
	assert_int_equal(append(f, "three"), 3);
	assert_int_equal(verify(f, NULL, 0), 0);
}

static void
test_evolve_vector(void **state)
{
	unsigned char k[BG_SHA256_LEN], next[BG_SHA256_LEN], want[BG_SHA256_LEN];
	unsigned char input[17 + BG_SHA256_LEN];

	(void)state;
	memset(k, 0x11, sizeof(k));
	memcpy(input, "breakglass-evolve", 17);
	memcpy(input + 17, k, sizeof(k));
	assert_int_equal(bg_sha256(input, sizeof(input), want, NULL), BG_OK);
	assert_int_equal(bg_journal_evolve(k, next, NULL), BG_OK);
	assert_memory_equal(next, want, sizeof(want));
}

static void
test_split_line(void **state)
{
	const char *ok = "{\"seq\":1,\"prev\":\"00\" , \"mac\" : "
	    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" }";
	const char *mac;
	size_t plen;
	bg_error err;

	(void)state;
	assert_int_equal(bg_journal_split_line(ok, strlen(ok), &plen, &mac, &err), BG_OK);
	assert_int_equal(plen, strlen("{\"seq\":1,\"prev\":\"00\""));
	assert_int_equal(bg_journal_split_line("{}", 2, &plen, &mac, &err), BG_ERR_INVALID);
	assert_int_equal(bg_journal_split_line("", 0, &plen, &mac, &err), BG_ERR_INVALID);
	assert_int_equal(bg_journal_split_line("\"mac\":\"x\"}", 10, &plen, &mac, &err),
	    BG_ERR_INVALID);
}

#define CONCURRENT_WRITERS 64
#define RECORDS_PER_WRITER 5

/* 64 processes appending at once: one valid chain, nothing lost or interleaved. */
static void
test_concurrent_appends(void **state)
{
	struct fixture *f = *state;
	int counts[CONCURRENT_WRITERS] = { 0 };
	pid_t pids[CONCURRENT_WRITERS];
	char **lines;
	size_t n;

	for (int w = 0; w < CONCURRENT_WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			for (int i = 0; i < RECORDS_PER_WRITER; i++) {
				bg_event *ev = bg_event_new("note.added", "success");
				bg_error err;

				bg_event_add_int(ev, "writer", w);
				if (bg_journal_append(&f->j, ev, NULL, &err) != BG_OK)
					_exit(1);
				bg_event_free(ev);
			}
			_exit(0);
		}
	}
	for (int w = 0; w < CONCURRENT_WRITERS; w++) {
		int status;

		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(verify(f, NULL, 0), 0);
	lines = read_lines(f, &n);
	assert_int_equal(n, CONCURRENT_WRITERS * RECORDS_PER_WRITER);
	for (size_t i = 0; i < n; i++) {
		json_object *rec = json_tokener_parse(lines[i]), *o;

		assert_non_null(rec);
		assert_true(json_object_object_get_ex(rec, "writer", &o));
		counts[json_object_get_int(o)]++;
		json_object_put(rec);
	}
	for (int w = 0; w < CONCURRENT_WRITERS; w++)
		assert_int_equal(counts[w], RECORDS_PER_WRITER);
	free_lines(lines, n);
}

/*
 * A chain longer than the verifier's mac pipeline holds in flight (the mac
 * thread runs ahead by at most a few thousand records): every mac, the
 * hand-over of the key between files and to the key state check, and a bad
 * mac or payload far down the chain named at its line.
 */
#define LONG_CHAIN 12345

static void
put(const char *path, const char *data, size_t len)
{
	FILE *out = fopen(path, "w");

	assert_non_null(out);
	assert_int_equal(fwrite(data, 1, len, out), len);
	assert_int_equal(fclose(out), 0);
}

static void
test_verify_long_chain(void **state)
{
	unsigned char k1[BG_SHA256_LEN], key[BG_SHA256_LEN], prev[BG_SHA256_LEN] = { 0 };
	bg_journal j = { .host = "mx1.example.net" };
	char *dir = tu_mkdtemp(), *whole = tu_path(dir, "whole"), *head = tu_path(dir, "head");
	char *tail = tu_path(dir, "tail");
	const char *one[] = { whole }, *two[] = { head, tail };
	bg_journal_state st = { 0 };
	bg_verify_result res;
	bg_buf all;
	size_t *off = calloc(LONG_CHAIN + 1, sizeof(*off));
	char digit;
	bg_error err;

	(void)state;
	memset(k1, 0x42, sizeof(k1));
	memcpy(key, k1, sizeof(key));
	bg_buf_init(&all, 0);
	for (unsigned long long seq = 1; seq <= LONG_CHAIN; seq++) {
		bg_event *ev = bg_event_new("sudo.accepted", "success");
		const char *argv[] = { "/usr/sbin/postsuper", "-d", "ALL" };
		unsigned char mac[BG_SHA256_LEN], next[BG_SHA256_LEN];
		bg_buf line;

		bg_buf_init(&line, 0);
		bg_event_set_identity(ev, "breakglass", "alice", "INC-1", NULL);
		bg_event_add_strv(ev, "argv", argv, 3);
		assert_int_equal(bg_journal_format(&j, ev, seq, key, prev, &line, mac, &err), BG_OK);
		assert_int_equal(bg_journal_evolve(key, next, &err), BG_OK);
		off[seq - 1] = all.len;
		assert_true(bg_buf_append(&all, line.data, line.len));
		memcpy(key, next, sizeof(key));
		memcpy(prev, mac, sizeof(prev));
		bg_buf_free(&line);
		bg_event_free(ev);
	}
	off[LONG_CHAIN] = all.len;
	st.seq = LONG_CHAIN;
	memcpy(st.key, key, sizeof(key));
	memcpy(st.prev, prev, sizeof(prev));

	put(whole, all.data, all.len);
	assert_int_equal(bg_journal_verify(one, 1, k1, &st, &res), BG_OK);
	assert_int_equal(res.records, LONG_CHAIN);
	put(head, all.data, off[5000]);
	put(tail, all.data + off[5000], all.len - off[5000]);
	assert_int_equal(bg_journal_verify(two, 2, k1, &st, &res), BG_OK);
	assert_int_equal(res.records, LONG_CHAIN);
	st.key[0] ^= 1;
	assert_int_equal(bg_journal_verify(two, 2, k1, &st, &res), BG_ERR_INVALID);
	assert_non_null(strstr(res.reason, "current key does not follow"));
	st.key[0] ^= 1;

	/* A mac digit of record 9000, then a payload byte of record 10000. */
	digit = all.data[off[9000] - 4];
	all.data[off[9000] - 4] = digit == '0' ? '1' : '0';
	put(whole, all.data, all.len);
	assert_int_equal(bg_journal_verify(one, 1, k1, &st, &res), BG_ERR_INVALID);
	assert_int_equal(res.line, 9000);
	assert_string_equal(res.reason, "bad mac: record altered or forged");
	all.data[off[9000] - 4] = digit;
	{
		char *a = memmem(all.data + off[9999], off[10000] - off[9999], "alice", 5);

		assert_non_null(a);
		a[4] = 'x';
	}
	put(whole, all.data, all.len);
	assert_int_equal(bg_journal_verify(one, 1, k1, &st, &res), BG_ERR_INVALID);
	assert_int_equal(res.line, 10000);
	assert_string_equal(res.reason, "bad mac: record altered or forged");
	/* Without the key the forgery is invisible; the chain's links still hold. */
	assert_int_equal(bg_journal_verify(one, 1, NULL, NULL, &res), BG_OK);
	/*
	 * Records are checked on two threads: the first bad line in file order
	 * is named, with the count of the records before it, however the work
	 * was shared (a later bad line may be reached first).
	 */
	all.data[off[12000] - 4] ^= 1;
	all.data[off[6999]] = '[';
	put(whole, all.data, all.len);
	assert_int_equal(bg_journal_verify(one, 1, k1, &st, &res), BG_ERR_INVALID);
	assert_int_equal(res.line, 7000);
	assert_string_equal(res.reason, "invalid JSON");
	assert_int_equal(res.records, 6999);
	assert_int_equal(res.last_seq, 6999);
	assert_int_equal(bg_journal_verify(one, 1, NULL, NULL, &res), BG_ERR_INVALID);
	assert_int_equal(res.line, 7000);
	all.data[off[6999]] = '{';
	all.data[off[12000] - 4] ^= 1;
	/* A digit of record 4097's prev: a broken link, with or without the key. */
	{
		char *pv = memmem(all.data + off[4096], off[4097] - off[4096], "\"prev\":\"", 8);

		assert_non_null(pv);
		pv[8] = pv[8] == '0' ? '1' : '0';
		put(whole, all.data, all.len);
		assert_int_equal(bg_journal_verify(one, 1, k1, &st, &res), BG_ERR_INVALID);
		assert_int_equal(res.line, 4097);
		assert_string_equal(res.reason, "broken prev link: does not match the mac of seq 4096");
		assert_int_equal(bg_journal_verify(one, 1, NULL, NULL, &res), BG_ERR_INVALID);
		assert_int_equal(res.line, 4097);
		assert_int_equal(res.records, 4096);
		pv[8] = pv[8] == '0' ? '1' : '0';
	}
	/* Record 3000 removed: a gap named at the line where it shows. */
	put(whole, all.data, off[2999]);
	{
		FILE *f = fopen(whole, "a");

		assert_non_null(f);
		fwrite(all.data + off[3000], 1, all.len - off[3000], f);
		fclose(f);
	}
	assert_int_equal(bg_journal_verify(one, 1, k1, &st, &res), BG_ERR_INVALID);
	assert_int_equal(res.line, 3000);
	assert_string_equal(res.reason, "seq gap: expected 3000, found 3001");

	bg_buf_free(&all);
	free(off);
	tu_rmtree(dir);
	free(whole);
	free(head);
	free(tail);
	free(dir);
}

static void
test_oversized_values_truncated(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(BG_JOURNAL_MAX_VALUE * 2 + 1);
	char **lines;
	size_t n;

	memset(big, 'A', BG_JOURNAL_MAX_VALUE * 2);
	big[BG_JOURNAL_MAX_VALUE * 2] = '\0';
	append(f, big);
	lines = read_lines(f, &n);
	assert_non_null(strstr(lines[0], "\"truncated\":true,\"prev\""));
	assert_true(strlen(lines[0]) < BG_JOURNAL_MAX_VALUE + 1024);
	assert_int_equal(verify(f, NULL, 0), 0);
	free_lines(lines, n);
	free(big);
}

/* A reader outside the writer: under the lock on a live chain, as it is on a copy. */
static void
test_state_read_live(void **state)
{
	struct fixture *f = *state;
	bg_journal_state live, copy;
	char *text, *copied;
	size_t len;
	bg_error err;

	append(f, "one");
	assert_int_equal(bg_journal_state_read_live(f->state, &live, &err), BG_OK);
	assert_int_equal(live.seq, 1);
	/* A copy taken for review has no lock file beside it. */
	text = tu_read(f->state, &len);
	copied = tu_write(f->dir, "copy-of-state", 0600, text);
	assert_int_equal(bg_journal_state_read_live(copied, &copy, &err), BG_OK);
	assert_int_equal(copy.seq, 1);
	assert_memory_equal(copy.key, live.key, sizeof(copy.key));
	explicit_bzero(text, len);
	free(text);
	free(copied);
}

/*
 * The grammar's fast path for lines in the writer's shape agrees with yajl
 * alone on every text: what both accept, with the same callbacks, and what
 * either refuses (each case near an edge of the shape).
 */
static void
test_grammar_fast_path_is_yajl(void **state)
{
	static const char *const lines[] = {
		"{\"seq\":1,\"time\":\"t\",\"argv\":[\"/bin/x\",\"-d\"],\"ok\":true,\"no\":false,\"n\":null}",
		"{\"seq\":1}\n", "{}", "{}\n", "{}\n\n", "{} ", " {}", "{\"a\":1}x", "{\"a\":1}{}",
		"{\"a\":[]}", "{\"a\":{}}", "{\"a\":[[],{}]}", "{\"a\":[1,]}", "{\"a\":1,}", "{,}",
		"{\"a\"}", "{\"a\":}", "{\"a\" :1}", "{\"a\": 1}", "{\"a\":1 }", "{\"a\":\t1}",
		"{\"a\":\"x\\ny\"}", "{\"a\":\"\\u0041\"}", "{\"a\\u0041\":1}", "{\"a\":\"\\/\"}",
		"{\"a\":\"\x7f\"}", "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\x01\"}",
		"{\"a\":\"\x0b\"}", "{\"a\":0}", "{\"a\":00}", "{\"a\":01}", "{\"a\":-1}", "{\"a\":-0}",
		"{\"a\":1.5}", "{\"a\":1e3}", "{\"a\":1E3}", "{\"a\":1.}", "{\"a\":123456789012345678}",
		"{\"a\":1234567890123456789}", "{\"a\":9223372036854775807}",
		"{\"a\":9223372036854775808}", "{\"a\":99999999999999999999999}", "{\"a\":tru}",
		"{\"a\":truee}", "{\"a\":nul}", "{\"a\":falsey}", "{\"a\":\"unterminated}",
		"{\"a\":1", "{", "}", "", "\n", "[1,2]", "\"s\"", "1", "true", "{\"a\":[1,2}",
		"{\"a\":{\"b\":1]}", "{\"a\":\"x\"\"y\"}", "{\"a\":1}\n{\"b\":2}",
		"{\"a\":\"x\0y\"}", "{\"seq\":1,\"seq\":2}",
	};
	char why[8192];
	bg_buf deep;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!gd_same(lines[i], strlen(lines[i]), why, sizeof(why)))
			fail_msg("%s: %s", lines[i], why);
	/* Every byte at every place of a word the fast path reads eight at a time. */
	for (int c = 0; c < 256; c++)
		for (int at = 0; at < 9; at++) {
			char text[] = "{\"a\":\"xxxxxxxxxxxxxxxxxx\"}";

			text[6 + at] = (char)c;
			if (!gd_same(text, sizeof(text) - 1, why, sizeof(why)))
				fail_msg("byte 0x%02x at %d: %s", c, at, why);
		}
	/* Quotes on each side of the bitmap's 64-byte words, and bytes past the last 16. */
	for (int n = 0; n < 140; n++) {
		bg_buf_init(&deep, 0);
		bg_buf_printf(&deep, "{\"a\":\"%*s\",\"b\":[\"%*s\",7]}", n, "", n % 7, "");
		for (size_t k = 0; k < deep.len; k++)
			if (deep.data[k] == ' ')
				deep.data[k] = (char)('a' + k % 26);
		if (!gd_same(deep.data, deep.len, why, sizeof(why)))
			fail_msg("%d bytes: %s", n, why);
		deep.data[deep.len - 1] = ' ';  /* and the same lines torn */
		if (!gd_same(deep.data, deep.len, why, sizeof(why)))
			fail_msg("%d bytes, torn: %s", n, why);
		bg_buf_free(&deep);
	}
	/* Embedded NUL bytes, where strlen would stop. */
	if (!gd_same("{\"a\":\"x\0y\"}", 11, why, sizeof(why)) || !gd_same("{\"a\":1}\0", 8, why,
	    sizeof(why)))
		fail_msg("NUL: %s", why);
	/* Nesting at and past the shape's depth, and more values than its tape holds. */
	for (int depth = 30; depth <= 34; depth++) {
		bg_buf_init(&deep, 0);
		for (int d = 0; d < depth; d++)
			bg_buf_puts(&deep, "{\"a\":");
		bg_buf_puts(&deep, "1");
		for (int d = 0; d < depth; d++)
			bg_buf_puts(&deep, "}");
		if (!gd_same(deep.data, deep.len, why, sizeof(why)))
			fail_msg("depth %d: %s", depth, why);
		bg_buf_free(&deep);
	}
	for (int n = 250; n <= 260; n++) {
		bg_buf_init(&deep, 0);
		bg_buf_puts(&deep, "{\"a\":[");
		for (int k = 0; k < 2 * n; k++)
			bg_buf_printf(&deep, "%s%d", k > 0 ? "," : "", k);
		bg_buf_puts(&deep, "]}");
		if (!gd_same(deep.data, deep.len, why, sizeof(why)))
			fail_msg("%d values: %s", 2 * n, why);
		bg_buf_free(&deep);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_without_state_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_each_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_reorder_truncate_forge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injection_stays_one_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_between_record_and_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_write_is_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_accepts_adoptable_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_refuses_unadoptable_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_many_adopted_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_at_most_one_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_many_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftovers_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_taken_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_failure_after_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_mismatch_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_continues_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_read_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_values_truncated, setup, teardown),
		cmocka_unit_test(test_verify_long_chain),
		cmocka_unit_test(test_evolve_vector),
		cmocka_unit_test(test_split_line),
		cmocka_unit_test(test_grammar_fast_path_is_yajl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
