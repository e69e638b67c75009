/*
 * The state of offline recovery in {state_dir}/recovery, each file under its
 * lock and the same atomic-replace discipline as the TOTP state.
 *
 * challenges.json: a challenge is pending for one set of details until
 * challenge_ttl has passed (a repeated login with the same details is shown
 * it again, so the operator may reconnect while approvers compute their
 * codes), and is used at most once.
 *
 * reported.json: the recovery grants `breakglass recovery report` filed, and
 * with which service URL.
 */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "fileio.h"
#include "json_string.h"
#include "recovery_state.h"

#define STATE_SUBDIR "recovery"
#define STATE_MAX_SIZE (256 * 1024)
/* Pending or used within challenge_ttl: more than this is not an emergency. */
#define MAX_ENTRIES 256

/* One state file: its name, its lock's and the member holding its array. */
typedef struct {
	const char *file;
	const char *lock;
	const char *key;
} store_kind;

static const store_kind challenges_kind = { "challenges.json", "challenges.lock",
	"challenges" };
static const store_kind reported_kind = { "reported.json", "reported.lock", "reported" };

typedef struct {
	const store_kind *kind;
	char dir[PATH_MAX];
	char file[PATH_MAX];
	int lock;
	json_object *list;          /* the array of entries */
} store;

static const char *const detail_keys[] = { "host", "account", "operator", "incident",
	"scope" };

static void
details_array(const bg_recovery_details *d, const char *v[5])
{
	v[0] = d->host;
	v[1] = d->account;
	v[2] = d->operator_name;
	v[3] = d->incident;
	v[4] = d->scope;
}

static bool
entry_matches(json_object *e, const bg_recovery_details *d)
{
	const char *v[5];

	details_array(d, v);
	for (size_t i = 0; i < 5; i++) {
		const char *got = bg_json_member_cstring(e, detail_keys[i]);

		if (got == NULL || strcmp(got, v[i]) != 0)
			return false;
	}
	return true;
}

static int64_t
entry_int(json_object *e, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(e, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

/* Locks and reads one state file (none yet: no entries). */
static bg_status
store_open(store *s, const store_kind *kind, const char *state_dir, bg_error *err)
{
	char lock[PATH_MAX];
	char *text = NULL;
	json_object *o = NULL, *arr = NULL;
	size_t len;
	bg_status rc;

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->lock = -1;
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s/%s", state_dir, STATE_SUBDIR) >=
	    sizeof(s->dir) ||
	    (size_t)snprintf(s->file, sizeof(s->file), "%s/%s", s->dir, kind->file) >=
	    sizeof(s->file) ||
	    (size_t)snprintf(lock, sizeof(lock), "%s/%s", s->dir, kind->lock) >= sizeof(lock))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", state_dir);
	if (mkdir(s->dir, 0700) != 0 && errno != EEXIST)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s", s->dir);
	if ((rc = bg_dir_check(s->dir, err)) != BG_OK ||
	    (rc = bg_lock_acquire(lock, BG_LOCK_WAIT_MS, &s->lock, err)) != BG_OK)
		return rc;
	rc = bg_file_read(s->file, BG_FILE_SECRET, STATE_MAX_SIZE, &text, &len, err);
	if (rc == BG_ERR_NOTFOUND) {
		s->list = json_object_new_array();
		return s->list != NULL ? BG_OK : bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	if (rc != BG_OK)
		return rc;
	o = json_tokener_parse(text);
	free(text);
	if (o == NULL || !json_object_object_get_ex(o, kind->key, &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(o);
		return bg_error_set(err, BG_ERR_INVALID, "%s: malformed", s->file);
	}
	s->list = json_object_get(arr);
	json_object_put(o);
	return BG_OK;
}

/* The challenges, without those out of their lifetime. */
static bg_status
challenges_open(store *s, const char *state_dir, unsigned long ttl, time_t now, bg_error *err)
{
	json_object *kept;
	bg_status rc;

	if ((rc = store_open(s, &challenges_kind, state_dir, err)) != BG_OK)
		return rc;
	if ((kept = json_object_new_array()) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < json_object_array_length(s->list); i++) {
		json_object *e = json_object_array_get_idx(s->list, i);
		int64_t issued = entry_int(e, "issued_at");

		/* Kept while it could still be presented; a future time is kept too (clock jumps). */
		if (issued >= 0 && (issued + (int64_t)ttl > (int64_t)now || issued > (int64_t)now))
			json_object_array_add(kept, json_object_get(e));
	}
	json_object_put(s->list);
	s->list = kept;
	return BG_OK;
}

static bg_status
store_save(store *s, bg_error *err)
{
	json_object *o = json_object_new_object();
	const char *text;

	if (o == NULL || json_object_object_add(o, s->kind->key, json_object_get(s->list)) != 0) {
		json_object_put(o);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	bg_status rc = bg_file_replace(s->file, text, strlen(text), 0600, err);
	json_object_put(o);
	return rc;
}

static void
store_close(store *s)
{
	json_object_put(s->list);
	bg_lock_release(s->lock);
}

static json_object *
find_challenge(const store *s, const char *challenge)
{
	for (size_t i = 0; i < json_object_array_length(s->list); i++) {
		json_object *e = json_object_array_get_idx(s->list, i);
		const char *c = bg_json_member_cstring(e, "challenge");

		if (c != NULL && strcmp(c, challenge) == 0)
			return e;
	}
	return NULL;
}

static bg_status
add_entry(store *s, const bg_recovery_details *d, const char *challenge, time_t now,
    bg_error *err)
{
	json_object *e = json_object_new_object();
	const char *v[5];
	bool ok = e != NULL;

	details_array(d, v);
	ok = ok && json_object_object_add(e, "challenge", json_object_new_string(challenge)) == 0;
	for (size_t i = 0; ok && i < 5; i++)
		ok = json_object_object_add(e, detail_keys[i], json_object_new_string(v[i])) == 0;
	ok = ok && json_object_object_add(e, "issued_at", json_object_new_int64(now)) == 0;
	if (!ok || json_object_array_add(s->list, e) != 0) {
		json_object_put(e);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	return BG_OK;
}

bg_status
bg_recovery_challenge_issue(const char *state_dir, const bg_recovery_details *d,
    unsigned long ttl, time_t now, char challenge[BG_RECOVERY_CHALLENGE_LEN + 1],
    time_t *issued_at, bg_error *err)
{
	bg_status rc;
	store s;

	rc = challenges_open(&s, state_dir, ttl, now, err);
	for (size_t i = 0; rc == BG_OK && i < json_object_array_length(s.list); i++) {
		json_object *e = json_object_array_get_idx(s.list, i);
		const char *c = bg_json_member_cstring(e, "challenge");

		if (c != NULL && strlen(c) == BG_RECOVERY_CHALLENGE_LEN && entry_int(e, "used_at") < 0 &&
		    entry_int(e, "issued_at") <= (int64_t)now && entry_matches(e, d)) {
			memcpy(challenge, c, BG_RECOVERY_CHALLENGE_LEN + 1);
			*issued_at = (time_t)entry_int(e, "issued_at");
			store_close(&s);
			return BG_OK;
		}
	}
	if (rc == BG_OK && json_object_array_length(s.list) >= MAX_ENTRIES)
		rc = bg_error_set(err, BG_ERR_DENIED, "%d recovery challenges outstanding",
		    MAX_ENTRIES);
	/* 40 random bits: a repeat is unlikely, and refused by drawing again. */
	do {
		if (rc == BG_OK)
			rc = bg_recovery_challenge_new(challenge, err);
	} while (rc == BG_OK && find_challenge(&s, challenge) != NULL);
	if (rc == BG_OK)
		rc = add_entry(&s, d, challenge, now, err);
	if (rc == BG_OK)
		rc = store_save(&s, err);
	*issued_at = now;
	store_close(&s);
	return rc;
}

bg_status
bg_recovery_challenge_use(const char *state_dir, const bg_recovery_details *d,
    const char *challenge, unsigned long ttl, time_t now, const char **why, bg_error *err)
{
	json_object *e;
	bg_status rc;
	store s;

	*why = "state";
	rc = challenges_open(&s, state_dir, ttl, now, err);
	if (rc == BG_OK) {
		e = find_challenge(&s, challenge);
		if (e == NULL || !entry_matches(e, d)) {
			*why = "challenge-expired";
			rc = bg_error_set(err, BG_ERR_DENIED, "challenge %s expired or unknown",
			    challenge);
		} else if (entry_int(e, "used_at") >= 0) {
			*why = "challenge-reused";
			rc = bg_error_set(err, BG_ERR_DENIED, "challenge %s was already used",
			    challenge);
		} else if (json_object_object_add(e, "used_at", json_object_new_int64(now)) != 0) {
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		} else {
			rc = store_save(&s, err);
		}
	}
	store_close(&s);
	return rc;
}

/* ---- reported.json: the recovery grants filed, and with which service ---- */

struct bg_recovery_reported {
	store s;
};

bg_status
bg_recovery_reported_open(const char *state_dir, bg_recovery_reported **out, bg_error *err)
{
	bg_recovery_reported *r = calloc(1, sizeof(*r));
	bg_status rc;

	*out = NULL;
	if (r == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if ((rc = store_open(&r->s, &reported_kind, state_dir, err)) != BG_OK) {
		bg_recovery_reported_close(r);
		return rc;
	}
	*out = r;
	return BG_OK;
}

bool
bg_recovery_reported_has(const bg_recovery_reported *r, const char *id, const char *url)
{
	for (size_t i = 0; i < json_object_array_length(r->s.list); i++) {
		json_object *e = json_object_array_get_idx(r->s.list, i);
		const char *eid = bg_json_member_cstring(e, "recovery_id");
		const char *eurl = bg_json_member_cstring(e, "url");

		if (eid != NULL && eurl != NULL && strcmp(eid, id) == 0 && strcmp(eurl, url) == 0)
			return true;
	}
	return false;
}

bg_status
bg_recovery_reported_add(bg_recovery_reported *r, const char *id, const char *url,
    time_t now, bg_error *err)
{
	json_object *e = json_object_new_object();

	if (e == NULL ||
	    json_object_object_add(e, "recovery_id", json_object_new_string(id)) != 0 ||
	    json_object_object_add(e, "url", json_object_new_string(url)) != 0 ||
	    json_object_object_add(e, "reported_at", json_object_new_int64(now)) != 0 ||
	    json_object_array_add(r->s.list, e) != 0) {
		json_object_put(e);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	return store_save(&r->s, err);
}

void
bg_recovery_reported_close(bg_recovery_reported *r)
{
	if (r == NULL)
		return;
	store_close(&r->s);
	free(r);
}
