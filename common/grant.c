/* Grants: the signed, short-lived permission an approval leaves behind. */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "crypto.h"
#include "fileio.h"
#include "grant.h"
#include "json_string.h"
#include "recovery.h"
#include "timeparse.h"

#define GRANTS_SUBDIR "grants"
#define GRANTS_DIR_MODE 0700
#define GRANT_FILE_MODE 0600
#define GRANT_SUFFIX ".json"
#define LOCK_NAME ".lock"
#define ACCOUNT_MAX 32
#define JSON_MAX_DEPTH 16

/* ------------------------------------------------------------------ */
/* Names and paths. */

/* [a-z_][a-z0-9_.-]*, at most 32 bytes: a user name that is also a safe file name. */
static bool
account_is_safe(const char *s)
{
	size_t n;

	if (s == NULL || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-");
	return s[n] == '\0' && n <= ACCOUNT_MAX;
}

bg_status
bg_grant_path(const char *run_dir, const char *account, char *out, size_t outsz,
    bg_error *err)
{
	int n;

	if (!account_is_safe(account))
		return bg_error_set(err, BG_ERR_INVALID,
		    "account name is not a safe file name");
	n = snprintf(out, outsz, "%s/%s/%s%s", run_dir, GRANTS_SUBDIR, account,
	    GRANT_SUFFIX);
	if (n < 0 || (size_t)n >= outsz)
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", run_dir);
	return BG_OK;
}

/*
 * Opens {run_dir}/grants for one use, checking run_dir and grants as opened
 * (root-owned, not group/other-writable, not a symbolic link): the caller
 * then works through *dir, so what was checked is what is used, even if a
 * path is swapped afterwards.  With create, makes grants (0700) when
 * missing; without, a missing directory is BG_ERR_PERM, not "no grant": it
 * exists from boot (tmpfiles.d) or the first grant on, so a missing one was
 * moved away, and revoking or listing nothing there would report a success
 * while the grants wait elsewhere.  shown gets the grants directory's path.
 */
static bg_status
open_grants(const char *run_dir, bool create, int *dir, char *shown, size_t shownsz,
    bg_error *err)
{
	bg_status rc;
	int run;

	*dir = -1;
	if ((size_t)snprintf(shown, shownsz, "%s/%s", run_dir, GRANTS_SUBDIR) >= shownsz)
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", run_dir);
	/* Whoever can write here could forge, plant or move away grants. */
	rc = bg_dir_open_checked(AT_FDCWD, run_dir, run_dir, &run, err);
	if (rc == BG_OK) {
		if (create && mkdirat(run, GRANTS_SUBDIR, GRANTS_DIR_MODE) != 0 && errno != EEXIST)
			rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: mkdir", shown);
		if (rc == BG_OK)
			rc = bg_dir_open_checked(run, GRANTS_SUBDIR, shown, dir, err);
		close(run);
	}
	if (rc == BG_ERR_NOTFOUND)
		return bg_error_set(err, BG_ERR_PERM,
		    "%s: grants directory missing (moved away?)", shown);
	return rc;
}

/* Takes the grants lock in the opened grants directory. */
static bg_status
lock_grants(int dir, const char *shown, int *fd, bg_error *err)
{
	char lock[PATH_MAX];

	if ((size_t)snprintf(lock, sizeof(lock), "%s/%s", shown, LOCK_NAME) >= sizeof(lock))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", shown);
	return bg_lock_acquire_at(dir, LOCK_NAME, lock, BG_LOCK_WAIT_MS, fd, err);
}

/* The grant file's name in the grants directory. */
static bg_status
grant_name(const char *account, char *out, size_t outsz, bg_error *err)
{
	if (!account_is_safe(account))
		return bg_error_set(err, BG_ERR_INVALID, "account name is not a safe file name");
	if ((size_t)snprintf(out, outsz, "%s%s", account, GRANT_SUFFIX) >= outsz)
		return bg_error_set(err, BG_ERR_INVALID, "account name too long");
	return BG_OK;
}

/* ------------------------------------------------------------------ */
/* JSON. */

/* Parses exactly one JSON object filling all of text (trailing blanks allowed). */
static bg_status
parse_object(const char *text, size_t len, const char *what, json_object **out,
    bg_error *err)
{
	json_tokener *tok;
	json_object *obj;
	size_t end;

	*out = NULL;
	if (len > INT32_MAX)
		return bg_error_set(err, BG_ERR_TOOBIG, "%s: too large", what);
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj == NULL || end > len || strspn(text + end, " \t\r\n") != len - end ||
	    !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return bg_error_set(err, BG_ERR_INVALID, "%s: not one JSON object", what);
	}
	*out = obj;
	return BG_OK;
}

static bg_status
take_str(json_object *obj, const char *key, char **out, bg_error *err)
{
	const char *s = bg_json_member_cstring(obj, key);

	if (s == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "member \"%s\" missing or not a string",
		    key);
	*out = strdup(s);
	if (*out == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	return BG_OK;
}

static bg_status
take_time(json_object *obj, const char *key, time_t *out, bg_error *err)
{
	json_object *v;
	int64_t t;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return bg_error_set(err, BG_ERR_INVALID,
		    "member \"%s\" missing or not an integer", key);
	t = json_object_get_int64(v);
	if (t < 0 || (sizeof(time_t) < sizeof(int64_t) && t > INT32_MAX))
		return bg_error_set(err, BG_ERR_INVALID, "member \"%s\" out of range", key);
	*out = (time_t)t;
	return BG_OK;
}

static bg_status
take_approvers(json_object *obj, bg_grant *g, bg_error *err)
{
	json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(obj, "approvers", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return bg_error_set(err, BG_ERR_INVALID,
		    "member \"approvers\" missing or not an array");
	n = json_object_array_length(arr);
	if (n == 0 || n > BG_GRANT_MAX_APPROVERS)
		return bg_error_set(err, BG_ERR_INVALID, "\"approvers\" must hold 1 to %d names",
		    BG_GRANT_MAX_APPROVERS);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		/* A NUL inside a name would cut it: refused, as in every member. */
		if (bg_json_cstring(v) == NULL || json_object_get_string_len(v) == 0)
			return bg_error_set(err, BG_ERR_INVALID,
			    "\"approvers\" must hold non-empty strings without NUL");
		g->approvers[i] = strdup(json_object_get_string(v));
		if (g->approvers[i] == NULL)
			return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		g->napprovers = i + 1;
	}
	return BG_OK;
}

static const char *const grant_members[] = {
	"account", "operator", "incident", "request_id", "scope", "approvers",
	"issued_at", "expires_at", "host", "decision", "decision_signature", "recovery", NULL,
};

static bg_status
check_known_members(json_object *obj, bg_error *err)
{
	json_object_object_foreach(obj, key, val) {
		size_t i;

		(void)val;
		for (i = 0; grant_members[i] != NULL; i++)
			if (strcmp(key, grant_members[i]) == 0)
				break;
		if (grant_members[i] == NULL)
			return bg_error_set(err, BG_ERR_INVALID, "unknown member \"%.64s\"", key);
	}
	return BG_OK;
}

/* "recovery": absent (an approval grant) or true. */
static bg_status
take_recovery(json_object *obj, bg_grant *g, bg_error *err)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, "recovery", &v))
		return BG_OK;
	if (!json_object_is_type(v, json_type_boolean) || !json_object_get_boolean(v))
		return bg_error_set(err, BG_ERR_INVALID, "member \"recovery\" must be true");
	g->recovery = true;
	return BG_OK;
}

static bg_status
grant_from_json(json_object *obj, bg_grant *g, bg_error *err)
{
	bg_status rc;

	if ((rc = check_known_members(obj, err)) != BG_OK ||
	    (rc = take_str(obj, "account", &g->account, err)) != BG_OK ||
	    (rc = take_str(obj, "operator", &g->operator_name, err)) != BG_OK ||
	    (rc = take_str(obj, "incident", &g->incident, err)) != BG_OK ||
	    (rc = take_str(obj, "request_id", &g->request_id, err)) != BG_OK ||
	    (rc = take_str(obj, "scope", &g->scope, err)) != BG_OK ||
	    (rc = take_approvers(obj, g, err)) != BG_OK ||
	    (rc = take_time(obj, "issued_at", &g->issued_at, err)) != BG_OK ||
	    (rc = take_time(obj, "expires_at", &g->expires_at, err)) != BG_OK ||
	    (rc = take_str(obj, "host", &g->host, err)) != BG_OK ||
	    (rc = take_str(obj, "decision", &g->decision, err)) != BG_OK ||
	    (rc = take_str(obj, "decision_signature", &g->decision_signature, err)) != BG_OK ||
	    (rc = take_recovery(obj, g, err)) != BG_OK)
		return rc;
	return BG_OK;
}

/* Adds a string member; false on allocation failure. */
static bool
put_str(json_object *obj, const char *key, const char *value)
{
	json_object *v = json_object_new_string(value);

	return v != NULL && json_object_object_add(obj, key, v) == 0;
}

static bool
put_time(json_object *obj, const char *key, time_t value)
{
	json_object *v = json_object_new_int64((int64_t)value);

	return v != NULL && json_object_object_add(obj, key, v) == 0;
}

static bool
put_approvers(json_object *obj, const bg_grant *g)
{
	json_object *arr = json_object_new_array();

	if (arr == NULL || json_object_object_add(obj, "approvers", arr) != 0) {
		json_object_put(arr);
		return false;
	}
	for (size_t i = 0; i < g->napprovers; i++) {
		json_object *v = json_object_new_string(g->approvers[i]);

		if (v == NULL || json_object_array_add(arr, v) != 0) {
			json_object_put(v);
			return false;
		}
	}
	return true;
}

static json_object *
grant_to_json(const bg_grant *g)
{
	json_object *obj = json_object_new_object();

	if (obj == NULL)
		return NULL;
	if (!put_str(obj, "account", g->account) ||
	    !put_str(obj, "operator", g->operator_name) ||
	    !put_str(obj, "incident", g->incident) ||
	    !put_str(obj, "request_id", g->request_id) ||
	    !put_str(obj, "scope", g->scope) ||
	    !put_approvers(obj, g) ||
	    !put_time(obj, "issued_at", g->issued_at) ||
	    !put_time(obj, "expires_at", g->expires_at) ||
	    !put_str(obj, "host", g->host) ||
	    !put_str(obj, "decision", g->decision) ||
	    !put_str(obj, "decision_signature", g->decision_signature) ||
	    (g->recovery && json_object_object_add(obj, "recovery",
	    json_object_new_boolean(1)) != 0)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* ------------------------------------------------------------------ */
/* Reading and writing. */

void
bg_grant_free(bg_grant *g)
{
	if (g == NULL)
		return;
	free(g->account);
	free(g->operator_name);
	free(g->incident);
	free(g->request_id);
	free(g->scope);
	for (size_t i = 0; i < g->napprovers && i < BG_GRANT_MAX_APPROVERS; i++)
		free(g->approvers[i]);
	free(g->host);
	free(g->decision);
	free(g->decision_signature);
	memset(g, 0, sizeof(*g));
}

static bg_status
check_writable_grant(const bg_grant *g, bg_error *err)
{
	if (!account_is_safe(g->account))
		return bg_error_set(err, BG_ERR_INVALID, "account name is not a safe file name");
	if (g->operator_name == NULL || g->incident == NULL || g->request_id == NULL ||
	    g->scope == NULL || g->host == NULL || g->decision == NULL ||
	    g->decision_signature == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "grant is missing a member");
	if (g->napprovers == 0 || g->napprovers > BG_GRANT_MAX_APPROVERS)
		return bg_error_set(err, BG_ERR_INVALID, "grant must name 1 to %d approvers",
		    BG_GRANT_MAX_APPROVERS);
	for (size_t i = 0; i < g->napprovers; i++)
		if (g->approvers[i] == NULL || g->approvers[i][0] == '\0')
			return bg_error_set(err, BG_ERR_INVALID, "grant has an empty approver");
	if (g->issued_at < 0 || g->expires_at <= g->issued_at)
		return bg_error_set(err, BG_ERR_INVALID, "grant expires before it is issued");
	return BG_OK;
}

bg_status
bg_grant_write(const char *run_dir, const bg_grant *g, bg_error *err)
{
	char path[PATH_MAX], dirpath[PATH_MAX], name[ACCOUNT_MAX + sizeof(GRANT_SUFFIX)];
	json_object *obj;
	const char *text;
	bg_status rc;
	int dir, lock;

	rc = check_writable_grant(g, err);
	if (rc == BG_OK)
		rc = bg_grant_path(run_dir, g->account, path, sizeof(path), err);
	if (rc == BG_OK)
		rc = grant_name(g->account, name, sizeof(name), err);
	if (rc != BG_OK)
		return rc;
	obj = grant_to_json(g);
	if (obj == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	text = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || strlen(text) + 1 > BG_GRANT_MAX_SIZE) {
		json_object_put(obj);
		return bg_error_set(err, BG_ERR_TOOBIG, "grant larger than %d bytes",
		    BG_GRANT_MAX_SIZE);
	}
	rc = open_grants(run_dir, true, &dir, dirpath, sizeof(dirpath), err);
	if (rc == BG_OK && (rc = lock_grants(dir, dirpath, &lock, err)) == BG_OK) {
		size_t len = strlen(text);
		char *line = malloc(len + 2);

		if (line == NULL) {
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		} else {
			memcpy(line, text, len);
			memcpy(line + len, "\n", 2);
			rc = bg_file_replace_at(dir, name, path, line, len + 1, GRANT_FILE_MODE,
			    err);
			free(line);
		}
		bg_lock_release(lock);
	}
	if (dir >= 0)
		close(dir);
	json_object_put(obj);
	return rc;
}

bg_status
bg_grant_load(const char *run_dir, const char *account, bg_grant *g, bg_error *err)
{
	char path[PATH_MAX], dirpath[PATH_MAX], name[ACCOUNT_MAX + sizeof(GRANT_SUFFIX)];
	json_object *obj;
	char *text;
	size_t len;
	bg_status rc;
	int dir;

	memset(g, 0, sizeof(*g));
	rc = bg_grant_path(run_dir, account, path, sizeof(path), err);
	if (rc == BG_OK)
		rc = grant_name(account, name, sizeof(name), err);
	if (rc == BG_OK)
		rc = open_grants(run_dir, false, &dir, dirpath, sizeof(dirpath), err);
	if (rc != BG_OK)
		return rc;
	rc = bg_file_read_at(dir, name, path, BG_FILE_SECRET, BG_GRANT_MAX_SIZE, &text, &len,
	    err);
	close(dir);
	if (rc != BG_OK)
		return rc;
	rc = parse_object(text, len, path, &obj, err);
	bg_file_free_secret(text, len);
	if (rc != BG_OK)
		return rc;
	rc = grant_from_json(obj, g, err);
	json_object_put(obj);
	if (rc != BG_OK) {
		bg_error_prefix(err, "%s", path);
		bg_grant_free(g);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Validation. */

static bg_status
verify_signature(const bg_grant *g, const char *service_key_path, bg_error *err)
{
	unsigned char *sig;
	size_t sig_len;
	bg_status rc;

	rc = bg_base64_decode(g->decision_signature, &sig, &sig_len, err);
	if (rc != BG_OK)
		return bg_error_set(err, BG_ERR_CRYPTO, "decision signature is not base64");
	rc = bg_ed25519_verify_file(service_key_path, g->decision, strlen(g->decision),
	    sig, sig_len, err);
	free(sig);
	if (rc != BG_OK)
		bg_error_prefix(err, "decision signature");
	return rc;
}

static bg_status
expect_member(json_object *decision, const char *key, const char *want, bg_error *err)
{
	const char *got = bg_json_member_cstring(decision, key);

	if (got == NULL || strcmp(got, want) != 0)
		return bg_error_set(err, BG_ERR_INVALID,
		    "decision %s does not match the grant", key);
	return BG_OK;
}

static bool
grant_names_approver(const bg_grant *g, const char *name)
{
	for (size_t i = 0; i < g->napprovers; i++)
		if (strcmp(g->approvers[i], name) == 0)
			return true;
	return false;
}

static bool
approvals_name(json_object *approvals, const char *name)
{
	size_t n = json_object_array_length(approvals);

	for (size_t i = 0; i < n; i++) {
		const char *a = bg_json_member_cstring(json_object_array_get_idx(approvals, i), "approver");

		if (a != NULL && strcmp(a, name) == 0)
			return true;
	}
	return false;
}

/* The decision's approvers are exactly the grant's: same set, no stranger. */
static bg_status
check_approvals(json_object *decision, const bg_grant *g, bg_error *err)
{
	json_object *approvals, *denials;
	size_t n;

	if (json_object_object_get_ex(decision, "denials", &denials) &&
	    (!json_object_is_type(denials, json_type_array) ||
	    json_object_array_length(denials) != 0))
		return bg_error_set(err, BG_ERR_INVALID, "decision holds denials");
	if (!json_object_object_get_ex(decision, "approvals", &approvals) ||
	    !json_object_is_type(approvals, json_type_array))
		return bg_error_set(err, BG_ERR_INVALID, "decision has no approvals array");
	n = json_object_array_length(approvals);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(approvals, i);
		const char *name;

		if (!json_object_is_type(a, json_type_object) ||
		    (name = bg_json_member_cstring(a, "approver")) == NULL)
			return bg_error_set(err, BG_ERR_INVALID, "decision approval is malformed");
		if (!grant_names_approver(g, name))
			return bg_error_set(err, BG_ERR_INVALID,
			    "decision approvers do not match the grant");
	}
	for (size_t i = 0; i < g->napprovers; i++)
		if (!approvals_name(approvals, g->approvers[i]))
			return bg_error_set(err, BG_ERR_INVALID,
			    "decision approvers do not match the grant");
	return BG_OK;
}

/*
 * The grant's issued_at and expires_at are written by the host, outside the
 * signature: they must follow from the decision's issued_at and ttl as
 * pam_breakglass derives them (issued_at the earlier of the decision's time
 * and the host's clock, which was at most BG_DECISION_MAX_SKEW behind it;
 * expires_at at most ttl later).  An old approval cannot be made fresh, nor
 * a grant made longer than approved.  check_times has ensured
 * expires_at > issued_at.
 */
static bg_status
check_decision_times(json_object *decision, const bg_grant *g, bg_error *err)
{
	const char *issued = bg_json_member_cstring(decision, "issued_at");
	json_object *ttl;
	time_t t;
	int64_t secs;

	if (issued == NULL || bg_time_parse_utc(issued, &t, NULL) != BG_OK)
		return bg_error_set(err, BG_ERR_INVALID,
		    "decision issued_at missing or not a UTC time");
	/* Unsigned differences: both operands are ordered first, so no overflow. */
	if (t < g->issued_at)
		return bg_error_set(err, BG_ERR_INVALID,
		    "grant issued_at is later than the decision's issued_at");
	if ((uint64_t)t - (uint64_t)g->issued_at > BG_DECISION_MAX_SKEW)
		return bg_error_set(err, BG_ERR_INVALID,
		    "grant issued_at is more than %d s before the decision's issued_at",
		    BG_DECISION_MAX_SKEW);
	if (!json_object_object_get_ex(decision, "ttl", &ttl) ||
	    !json_object_is_type(ttl, json_type_int) || (secs = json_object_get_int64(ttl)) <= 0)
		return bg_error_set(err, BG_ERR_INVALID,
		    "decision ttl missing or not a positive integer");
	if ((uint64_t)g->expires_at - (uint64_t)g->issued_at > (uint64_t)secs)
		return bg_error_set(err, BG_ERR_INVALID,
		    "grant lasts %llu s, more than the decision's ttl (%lld s)",
		    (unsigned long long)((uint64_t)g->expires_at - (uint64_t)g->issued_at),
		    (long long)secs);
	return BG_OK;
}

static bg_status
check_decision(const bg_grant *g, const char *host_id, bg_error *err)
{
	json_object *decision;
	bg_status rc;

	rc = parse_object(g->decision, strlen(g->decision), "decision", &decision, err);
	if (rc != BG_OK)
		return rc;
	if ((rc = expect_member(decision, "request_id", g->request_id, err)) == BG_OK &&
	    (rc = expect_member(decision, "host", host_id, err)) == BG_OK &&
	    (rc = expect_member(decision, "account", g->account, err)) == BG_OK &&
	    (rc = expect_member(decision, "operator", g->operator_name, err)) == BG_OK &&
	    (rc = expect_member(decision, "incident", g->incident, err)) == BG_OK &&
	    (rc = expect_member(decision, "scope", g->scope, err)) == BG_OK) {
		const char *status = bg_json_member_cstring(decision, "status");

		if (status == NULL || strcmp(status, "approved") != 0)
			rc = bg_error_set(err, BG_ERR_INVALID, "decision is not an approval");
		else if ((rc = check_approvals(decision, g, err)) == BG_OK)
			rc = check_decision_times(decision, g, err);
	}
	json_object_put(decision);
	return rc;
}

static bg_status
check_times(const bg_grant *g, unsigned long max_ttl, time_t now, bg_error *err)
{
	if (g->expires_at <= g->issued_at)
		return bg_error_set(err, BG_ERR_INVALID, "grant expires before it is issued");
	if ((unsigned long long)(g->expires_at - g->issued_at) > max_ttl)
		return bg_error_set(err, BG_ERR_INVALID,
		    "grant lasts %lld s, more than grant_ttl (%lu s)",
		    (long long)(g->expires_at - g->issued_at), max_ttl);
	if (now < g->issued_at)
		return bg_error_set(err, BG_ERR_DENIED, "grant issued in the future");
	if (now >= g->expires_at)
		return bg_error_set(err, BG_ERR_DENIED, "grant expired");
	return BG_OK;
}

static bg_status
check_identity(const bg_grant *g, const char *account, const char *host_id, bg_error *err)
{
	if (g->account == NULL || account == NULL || strcmp(g->account, account) != 0)
		return bg_error_set(err, BG_ERR_INVALID, "grant is for another account");
	/* A grant copied from another host, or its host member edited. */
	if (g->host == NULL || host_id == NULL || strcmp(g->host, host_id) != 0)
		return bg_error_set(err, BG_ERR_INVALID, "grant is for another host");
	return BG_OK;
}

bg_status
bg_grant_validate(const bg_grant *g, const char *account, const char *host_id,
    const char *service_key_path, unsigned long max_ttl, time_t now, bg_error *err)
{
	bg_status rc;

	if (g->recovery)
		return bg_error_set(err, BG_ERR_INVALID, "recovery grant without [recovery]");
	/* Cheap checks first; the signature makes the decision's contents trustworthy. */
	rc = check_identity(g, account, host_id, err);
	if (rc == BG_OK)
		rc = check_times(g, max_ttl, now, err);
	if (rc == BG_OK)
		rc = verify_signature(g, service_key_path, err);
	if (rc == BG_OK)
		rc = check_decision(g, host_id, err);
	return rc;
}

bg_status
bg_grant_validate_cfg(const bg_grant *g, const char *account, const bg_config *cfg,
    time_t now, bg_error *err)
{
	bg_status rc;

	if (!g->recovery)
		return bg_grant_validate(g, account, cfg->approval.host_id,
		    cfg->approval.service_key, cfg->general.grant_ttl, now, err);
	/* Recovery switched off: its grants stop working at once. */
	if (!cfg->recovery.enabled)
		return bg_error_set(err, BG_ERR_INVALID, "recovery grant, but [recovery] is "
		    "not enabled");
	rc = check_identity(g, account, cfg->approval.host_id, err);
	if (rc == BG_OK)
		rc = check_times(g, cfg->recovery.ttl, now, err);
	if (rc == BG_OK)
		rc = bg_recovery_grant_check(g, cfg, err);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Revocation and listing. */

bg_status
bg_grant_revoke(const char *run_dir, const char *account, bool *removed, bg_error *err)
{
	char path[PATH_MAX], dirpath[PATH_MAX], name[ACCOUNT_MAX + sizeof(GRANT_SUFFIX)];
	bg_status rc;
	int dir, lock;

	*removed = false;
	rc = bg_grant_path(run_dir, account, path, sizeof(path), err);
	if (rc == BG_OK)
		rc = grant_name(account, name, sizeof(name), err);
	if (rc == BG_OK)
		rc = open_grants(run_dir, false, &dir, dirpath, sizeof(dirpath), err);
	if (rc != BG_OK)
		return rc;
	rc = lock_grants(dir, dirpath, &lock, err);
	if (rc == BG_OK) {
		if (unlinkat(dir, name, 0) == 0) {
			*removed = true;
			if (fsync(dir) != 0)
				rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fsync", dirpath);
		} else if (errno != ENOENT) {
			rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: remove", path);
		}
		bg_lock_release(lock);
	}
	close(dir);
	return rc;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The account a directory entry holds a grant for, or false. */
static bool
entry_account(const char *name, char *account, size_t accountsz)
{
	size_t len = strlen(name), suffix = strlen(GRANT_SUFFIX);

	if (len <= suffix || len - suffix >= accountsz ||
	    strcmp(name + len - suffix, GRANT_SUFFIX) != 0)
		return false;
	memcpy(account, name, len - suffix);
	account[len - suffix] = '\0';
	return account_is_safe(account);
}

static bg_status
list_add(char ***list, size_t *count, const char *name, bg_error *err)
{
	char **grown = realloc(*list, (*count + 1) * sizeof(**list));

	if (grown == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	*list = grown;
	grown[*count] = strdup(name);
	if (grown[*count] == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	(*count)++;
	return BG_OK;
}

bg_status
bg_grant_list(const char *run_dir, char ***accounts, size_t *count, bg_error *err)
{
	char dir[PATH_MAX], account[ACCOUNT_MAX + 1];
	struct dirent *de;
	bg_status rc;
	int fd;
	DIR *d;

	*accounts = NULL;
	*count = 0;
	rc = open_grants(run_dir, false, &fd, dir, sizeof(dir), err);
	if (rc != BG_OK)
		return rc;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: opendir", dir);
		close(fd);
		return rc;
	}
	errno = 0;
	while (rc == BG_OK && (de = readdir(d)) != NULL) {
		if (entry_account(de->d_name, account, sizeof(account)))
			rc = list_add(accounts, count, account, err);
		errno = 0;
	}
	if (rc == BG_OK && errno != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: readdir", dir);
	closedir(d);
	if (rc != BG_OK) {
		bg_grant_list_free(*accounts, *count);
		*accounts = NULL;
		*count = 0;
		return rc;
	}
	if (*count > 1)
		qsort(*accounts, *count, sizeof(**accounts), compare_names);
	return BG_OK;
}

void
bg_grant_list_free(char **accounts, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(accounts[i]);
	free(accounts);
}
