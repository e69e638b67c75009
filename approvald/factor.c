/*
 * The approver's second factor: every check of it (a vote, a batch, a
 * sign-in) goes through ad_factor_confirm, inside the caller's transaction,
 * so the state it updates (TOTP replay and lockout, a passkey's signature
 * counter) is committed with what it allows, or with the refusal.
 *
 * confirm is {"totp": "123456"} or {"webauthn": ASSERTION}; binding names
 * the action confirmed ("signin", "vote:approve:ID1,ID2").  A TOTP code
 * cannot carry the binding: it is single-use instead (a code spent on one
 * action is refused on any other).  A passkey assertion signs a challenge
 * issued for the binding (passkey.c).
 */
#include "build_config.h"

#include <string.h>
#include <time.h>

#include "approvald.h"
#include "totp.h"

/* The approver's own TOTP code: replay refusal and lockout (common/totp's decision). */
static bg_status
totp_confirm(ad_app *app, const ad_config_approver *a, const char *code,
    ad_auth_verdict *verdict, bg_error *err)
{
	const ad_config_server *s = &app->cfg->server;
	bg_totp_policy policy = {
		.window = (unsigned)s->totp_window,
		.max_failures = s->totp_max_failures,
		.failure_window = s->totp_failure_window,
		.lockout = s->totp_lockout,
	};
	bg_totp_verdict tv;
	bg_totp_secret secret;
	bg_totp_state state;
	time_t until;
	bg_status rc;

	if ((rc = bg_totp_secret_load(a->totp, &secret, err)) != BG_OK)
		return rc;
	/* The configured spelling: one TOTP state per person whatever the case typed. */
	rc = ad_store_totp_get(app->store, a->meta.name, &state, err);
	if (rc == BG_OK)
		rc = bg_totp_decide(&policy, &state, &secret, code, time(NULL), &tv, &until,
		    err);
	bg_totp_secret_clear(&secret);
	if (rc == BG_OK && tv != BG_TOTP_LOCKED)
		rc = ad_store_totp_put(app->store, a->meta.name, &state, err);
	if (rc != BG_OK)
		return rc;
	if (tv == BG_TOTP_ACCEPTED)
		*verdict = AD_AUTH_OK;
	else if (tv == BG_TOTP_REPLAYED)
		*verdict = AD_AUTH_REPLAYED;
	else if (tv == BG_TOTP_LOCKED)
		*verdict = AD_AUTH_LOCKED;
	return BG_OK;
}

bg_status
ad_factor_confirm(ad_app *app, const ad_http_req *r, const char *approver,
    json_object *confirm, const char *binding, ad_auth_verdict *verdict, bg_error *err)
{
	const ad_config_approver *a = ad_config_find_approver(app->cfg, approver);
	json_object *code = NULL;

	/* r and binding are for the passkey assertion (its origin and challenge). */
	(void)r;
	(void)binding;
	*verdict = AD_AUTH_REFUSED;
	/* Exactly one factor: {"totp": string} or {"webauthn": object}. */
	if (a == NULL || confirm == NULL || !json_object_is_type(confirm, json_type_object) ||
	    json_object_object_length(confirm) != 1)
		return BG_OK;
	if (json_object_object_get_ex(confirm, "totp", &code) &&
	    json_object_is_type(code, json_type_string))
		return totp_confirm(app, a, json_object_get_string(code), verdict, err);
	/* "webauthn": refused until passkey.c verifies assertions. */
	return BG_OK;
}
