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
 * issued for the binding (passkey.c), and its refusals count in the same
 * lockout as wrong codes (ad_factor_failed).  With second_factor =
 * webauthn a TOTP code is refused but for AD_BINDING_REGISTER, the
 * bootstrap of a passkey's registration.
 */
#include "build_config.h"

#include <string.h>
#include <syslog.h>
#include <time.h>

#include "approvald.h"
#include "totp.h"

/* The lockout policy of every approver second factor ([server] totp_*). */
static bg_totp_policy
policy_of(const ad_config_server *s)
{
	bg_totp_policy policy = {
		.window = (unsigned)s->totp_window,
		.max_failures = s->totp_max_failures,
		.failure_window = s->totp_failure_window,
		.lockout = s->totp_lockout,
	};

	return policy;
}

/* The approver's own TOTP code: replay refusal and lockout (common/totp's decision). */
static bg_status
totp_confirm(ad_app *app, const ad_config_approver *a, const char *code,
    ad_auth_verdict *verdict, bg_error *err)
{
	bg_totp_policy policy = policy_of(&app->cfg->server);
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
	json_object *code = NULL, *assertion = NULL;

	*verdict = AD_AUTH_REFUSED;
	/* Exactly one factor: {"totp": string} or {"webauthn": object}. */
	if (a == NULL || confirm == NULL || !json_object_is_type(confirm, json_type_object) ||
	    json_object_object_length(confirm) != 1)
		return BG_OK;
	if (json_object_object_get_ex(confirm, "webauthn", &assertion) &&
	    json_object_is_type(assertion, json_type_object))
		return ad_passkey_confirm(app, r, a->meta.name, assertion, binding, verdict, err);
	if (!json_object_object_get_ex(confirm, "totp", &code) ||
	    !json_object_is_type(code, json_type_string))
		return BG_OK;
	/* second_factor = webauthn: a TOTP code only bootstraps a passkey's registration. */
	if (app->cfg->server.second_factor == AD_FACTOR_WEBAUTHN &&
	    strcmp(binding, AD_BINDING_REGISTER) != 0) {
		ad_log(LOG_WARNING, "TOTP code of %s refused: second_factor = webauthn",
		    a->meta.name);
		return BG_OK;
	}
	return totp_confirm(app, a, json_object_get_string(code), verdict, err);
}

bg_status
ad_factor_begin(ad_app *app, const char *name, ad_auth_verdict *verdict, bg_error *err)
{
	bg_totp_state state;
	bg_status rc = ad_store_totp_get(app->store, name, &state, err);

	*verdict = rc == BG_OK && state.locked_until > time(NULL) ? AD_AUTH_LOCKED : AD_AUTH_OK;
	return rc;
}

bg_status
ad_factor_failed(ad_app *app, const char *name, ad_auth_verdict *verdict, bg_error *err)
{
	bg_totp_policy policy = policy_of(&app->cfg->server);
	bg_totp_verdict tv;
	bg_totp_state state;
	time_t until;
	bg_status rc;

	*verdict = AD_AUTH_REFUSED;
	/* No secret: bg_totp_decide only counts the failure (and locks out at the limit). */
	rc = ad_store_totp_get(app->store, name, &state, err);
	if (rc == BG_OK)
		rc = bg_totp_decide(&policy, &state, NULL, NULL, time(NULL), &tv, &until, err);
	if (rc == BG_OK && tv != BG_TOTP_LOCKED)
		rc = ad_store_totp_put(app->store, name, &state, err);
	if (rc == BG_OK && tv == BG_TOTP_LOCKED)
		*verdict = AD_AUTH_LOCKED;
	return rc;
}
