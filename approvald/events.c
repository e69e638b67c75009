/*
 * The service's audit trail: every state change (a request filed, a vote,
 * a decision) is journaled with common/audit, with the approver's name and
 * the source address, before the transaction that makes it is committed.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvald.h"
#include "escape.h"

#define JOURNAL_STATE_NAME "journal.state"

bg_status
ad_audit_init(ad_app *app, bg_error *err)
{
	const ad_config_server *s = &app->cfg->server;
	int n;

	memset(&app->audit, 0, sizeof(app->audit));
	n = snprintf(app->audit.state_path, sizeof(app->audit.state_path), "%s/%s",
	    s->state_dir, JOURNAL_STATE_NAME);
	if (n < 0 || (size_t)n >= sizeof(app->audit.state_path))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long",
		    s->state_dir);
	app->audit.journal.path = s->journal;
	app->audit.journal.state_path = app->audit.state_path;
	app->audit.journal.host = app->hostname;
	return BG_OK;
}

bg_event *
ad_event_new(const ad_app *app, const char *name, const char *outcome,
    const ad_request *r, const char *approver, const char *source)
{
	json_object *doc = r != NULL ? json_tokener_parse(r->body) : NULL, *v;
	bg_event *ev = bg_event_new(name, outcome);
	const char *account = NULL, *incident = NULL;

	if (ev == NULL) {
		json_object_put(doc);
		return NULL;
	}
	if (doc != NULL && json_object_object_get_ex(doc, "account", &v))
		account = json_object_get_string(v);
	if (doc != NULL && json_object_object_get_ex(doc, "incident", &v))
		incident = json_object_get_string(v);
	bg_event_set_identity(ev, account, r != NULL ? r->operator_name : NULL,
	    incident, r != NULL ? r->id : NULL);
	if (r != NULL)
		bg_event_add_str(ev, "client_host", r->host);
	if (approver != NULL)
		bg_event_add_str(ev, "approver", approver);
	bg_event_add_str(ev, "source", source);
	/* Instances share the database, not their journals: which one wrote this. */
	bg_event_add_str(ev, "instance", app->cfg->server.instance);
	json_object_put(doc);
	return ev;
}

/* json_object_deep_copy's copier: strings as bg_utf8_sanitize writes them. */
static int
sanitized_copy(json_object *src, json_object *parent, const char *key, size_t index,
    json_object **dst)
{
	char *clean;
	bool cut;

	if (!json_object_is_type(src, json_type_string))
		return json_c_shallow_copy_default(src, parent, key, index, dst);
	if ((clean = bg_utf8_sanitize(json_object_get_string(src), AD_BODY_MAX, &cut)) == NULL)
		return -1;
	*dst = json_object_new_string(clean);
	free(clean);
	return *dst != NULL ? 1 : -1;
}

void
ad_event_add_untrusted_json(bg_event *ev, const char *key, json_object *value)
{
	json_object *copy = NULL;

	/* A NULL copy breaks the event, which is then not written: the call fails. */
	if (value != NULL && json_object_deep_copy(value, &copy, sanitized_copy) != 0) {
		json_object_put(copy);
		copy = NULL;
	}
	bg_event_add_json(ev, key, copy);
}
