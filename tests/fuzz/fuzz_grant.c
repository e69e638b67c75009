/*
 * The grant reader: the input is written as {run_dir}/grants/fuzz.json
 * (0600) and loaded; a grant that loads is validated against a fixed
 * service key, once as it is and once with its decision re-signed by that
 * key, so the base64, signature and decision-checking paths all run.  A
 * grant that validates must be bound to its decision (check_bound).
 */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "crypto.h"
#include "fuzz.h"
#include "grant.h"
#include "timeparse.h"

#define ACCOUNT "fuzz"
/* The host the seeds' grants and decisions name. */
#define HOST "mx1.example.net"
#define MAX_TTL (24 * 3600UL)

static char run_dir[PATH_MAX], priv_path[PATH_MAX], pub_path[PATH_MAX];

static void
setup(void)
{
	char grants[PATH_MAX];

	if (run_dir[0] != '\0')
		return;
	fz_path("run", run_dir);
	fz_path("run/grants", grants);
	if ((mkdir(run_dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(grants, 0700) != 0 && errno != EEXIST))
		fz_fail("%s: mkdir: %s", grants, strerror(errno));
	fz_service_key(priv_path, pub_path);
}

/* The loaded grant against an independent parse of the file. */
static void
check_faithful(const uint8_t *data, size_t size, const bg_grant *g)
{
	const struct { const char *key; const char *value; } members[] = {
		{ "account", g->account }, { "operator", g->operator_name },
		{ "incident", g->incident }, { "request_id", g->request_id },
		{ "scope", g->scope }, { "host", g->host }, { "decision", g->decision },
		{ "decision_signature", g->decision_signature },
	};
	json_tokener *tok = json_tokener_new();
	json_object *doc, *v;

	if (tok == NULL)
		fz_fail("out of memory");
	doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (doc == NULL)
		return;  /* an incomplete parse here: nothing to compare with */
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (!json_object_object_get_ex(doc, members[i].key, &v) ||
		    !fz_json_string_is(v, members[i].value))
			fz_fail("grant member %s differs from the file", members[i].key);
	if (!json_object_object_get_ex(doc, "approvers", &v) ||
	    json_object_array_length(v) != g->napprovers)
		fz_fail("grant approvers differ from the file");
	for (size_t i = 0; i < g->napprovers; i++)
		if (!fz_json_string_is(json_object_array_get_idx(v, i), g->approvers[i]))
			fz_fail("grant approver %zu differs from the file", i);
	json_object_put(doc);
}

/*
 * A grant that validated is bound to its decision, checked here apart from
 * grant.c: same host and incident, issued within the skew window before the decision,
 * lasting no longer than the decision's ttl.
 */
static void
check_bound(const bg_grant *g, const char *host)
{
	json_object *d = json_tokener_parse(g->decision), *v;
	time_t issued;

	if (d == NULL)
		fz_fail("a validated grant's decision does not parse");
	if (strcmp(g->host, host) != 0 || !json_object_object_get_ex(d, "host", &v) ||
	    !fz_json_string_is(v, host))
		fz_fail("a validated grant is for another host");
	if (!json_object_object_get_ex(d, "incident", &v) || !fz_json_string_is(v, g->incident))
		fz_fail("a validated grant is for another incident than its decision");
	if (!json_object_object_get_ex(d, "issued_at", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    bg_time_parse_utc(json_object_get_string(v), &issued, NULL) != BG_OK ||
	    issued < g->issued_at || issued - g->issued_at > BG_DECISION_MAX_SKEW)
		fz_fail("a validated grant was not issued within the decision's window");
	if (!json_object_object_get_ex(d, "ttl", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < (int64_t)(g->expires_at - g->issued_at))
		fz_fail("a validated grant lasts longer than the decision's ttl");
	json_object_put(d);
}

/* Replaces g's signature with the fixed key's signature of its decision. */
static void
resign(bg_grant *g)
{
	unsigned char sig[BG_ED25519_SIG_LEN];
	char *b64;
	bg_error err;

	if (bg_ed25519_sign_file(priv_path, g->decision, strlen(g->decision), sig,
	    &err) != BG_OK || bg_base64_encode(sig, sizeof(sig), &b64, &err) != BG_OK)
		fz_fail("re-signing: %s", err.msg);
	free(g->decision_signature);
	g->decision_signature = b64;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bg_error err;
	bg_grant g;

	setup();
	fz_write("run/grants/" ACCOUNT ".json", data, size, 0600);
	if (bg_grant_load(run_dir, ACCOUNT, &g, &err) != BG_OK)
		return 0;
	check_faithful(data, size, &g);
	/*
	 * At issued_at the times pass, so the signature and decision are checked:
	 * as this host and account, then as the grant's own, so that a mutated
	 * host or account still reaches the decision.
	 */
	if (bg_grant_validate(&g, ACCOUNT, HOST, pub_path, MAX_TTL, g.issued_at, &err) == BG_OK)
		check_bound(&g, HOST);
	if (bg_grant_validate(&g, g.account, g.host, pub_path, MAX_TTL, g.issued_at,
	    &err) == BG_OK)
		check_bound(&g, g.host);
	if (g.decision != NULL) {
		resign(&g);
		if (bg_grant_validate(&g, g.account, g.host, pub_path, MAX_TTL, g.issued_at,
		    &err) == BG_OK) {
			if (g.expires_at <= g.issued_at)
				fz_fail("a grant valid at issued_at has expired by then");
			check_bound(&g, g.host);
		}
	}
	bg_grant_free(&g);
	return 0;
}
