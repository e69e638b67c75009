/*
 * GET /healthz: what a vote or a filing needs, checked for real, so that a
 * load balancer or a monitor sees a service that can no longer decide.
 * - database: a committed write (one row), at most once a second, so that
 *   a flood of health checks cannot turn into a flood of fsyncs;
 * - signing_key: the loaded key signs;
 * - free_space: the database's file system has at least min_free_space MiB
 *   for unprivileged writers (statvfs f_bavail).
 * 200 {"status": "ok", ...} or 503 {"status": "unhealthy", "problems": [...]};
 * the details of a failure go to the log, not to the unauthenticated caller.
 */
#include "build_config.h"

#include <sys/statvfs.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"

#define PROBE_EVERY_MS 1000
#define BYTES_PER_MIB (1024ULL * 1024ULL)

static bool
database_ok(ad_app *app, int64_t now_ms)
{
	bg_error err;

	if (app->health_ms != 0 && now_ms - app->health_ms < PROBE_EVERY_MS &&
	    now_ms >= app->health_ms)
		return app->health_db_ok;
	app->health_ms = now_ms;
	app->health_db_ok = ad_store_health(app->store, now_ms, &err) == BG_OK;
	if (!app->health_db_ok)
		ad_log(LOG_ERR, "healthz: %s", err.msg);
	return app->health_db_ok;
}

static bool
signing_key_ok(const ad_app *app)
{
	static const char probe[] = "breakglass-approvald healthz";
	unsigned char sig[BG_ED25519_SIG_LEN];
	bg_error err;

	if (app->signer != NULL &&
	    bg_ed25519_sign(app->signer, probe, sizeof(probe) - 1, sig, &err) == BG_OK)
		return true;
	ad_log(LOG_ERR, "healthz: signing key: %s",
	    app->signer != NULL ? err.msg : "not loaded");
	return false;
}

static bool
free_space_ok(const ad_app *app, unsigned long long *free_bytes)
{
	const char *db = app->cfg->server.database;
	struct statvfs sv;

	*free_bytes = 0;
	if (statvfs(db, &sv) != 0) {
		ad_log(LOG_ERR, "healthz: statvfs: %s: %m", db);
		return false;
	}
	*free_bytes = (unsigned long long)sv.f_bavail * sv.f_frsize;
	return *free_bytes >= app->cfg->server.min_free_space * BYTES_PER_MIB;
}

static void
report(json_object *out, json_object *problems, const char *name, bool ok)
{
	json_object_object_add(out, name, json_object_new_string(ok ? "ok" : "error"));
	if (!ok)
		json_object_array_add(problems, json_object_new_string(name));
}

void
ad_healthz(ad_http_req *r, ad_response *res)
{
	json_object *out = json_object_new_object(), *problems = json_object_new_array();
	unsigned long long free_bytes;
	bool space = free_space_ok(r->app, &free_bytes);

	if (out == NULL || problems == NULL) {
		json_object_put(out);
		json_object_put(problems);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	report(out, problems, "database", database_ok(r->app, r->now_ms));
	report(out, problems, "signing_key", signing_key_ok(r->app));
	report(out, problems, "free_space", space);
	json_object_object_add(out, "free_bytes", json_object_new_int64((int64_t)free_bytes));
	json_object_object_add(out, "status", json_object_new_string(
	    json_object_array_length(problems) == 0 ? "ok" : "unhealthy"));
	if (json_object_array_length(problems) > 0)
		json_object_object_add(out, "problems", json_object_get(problems));
	ad_response_json(res, json_object_array_length(problems) == 0 ? MHD_HTTP_OK :
	    MHD_HTTP_SERVICE_UNAVAILABLE, out);
	json_object_put(problems);
	json_object_put(out);
}
