/*
 * Approver authentication: the bearer token must hash to the approver's
 * token_sha256 (compared in constant time), then the approver's own TOTP
 * code must verify, with replay refusal and lockout (common/totp's
 * decision), the state kept in the database and held by the vote's
 * transaction, so it holds across instances.  The token comes first so
 * that nobody without it can burn an approver's TOTP failures into a
 * lockout.
 */
#include "build_config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "approvald.h"
#include "names.h"
#include "totp.h"

bool
ad_token_matches(const ad_config *cfg, const char *token, const char **name_out)
{
	unsigned char digest[BG_SHA256_LEN];
	bool found = false;

	if (token == NULL || bg_sha256(token, strlen(token), digest, NULL) != BG_OK)
		return false;
	/* Every approver is compared, so the time taken says nothing about which. */
	for (size_t i = 0; i < cfg->napprover; i++)
		if (bg_ct_equal(digest, cfg->approver[i].token_sha256, sizeof(digest)) &&
		    !found) {
			found = true;
			if (name_out != NULL)
				*name_out = cfg->approver[i].meta.name;
		}
	explicit_bzero(digest, sizeof(digest));
	return found;
}

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

bool
ad_approver_token_ok(const ad_config *cfg, const char *name, const char *token)
{
	const char *owner = NULL;

	return ad_token_matches(cfg, token, &owner) && bg_name_equal(owner, name);
}

bg_status
ad_approver_factor_begin(ad_app *app, const char *name, ad_auth_verdict *verdict,
    bg_error *err)
{
	bg_totp_state state;
	bg_status rc = ad_store_totp_get(app->store, name, &state, err);

	*verdict = rc == BG_OK && state.locked_until > time(NULL) ? AD_AUTH_LOCKED : AD_AUTH_OK;
	return rc;
}

bg_status
ad_approver_factor_failed(ad_app *app, const char *name, ad_auth_verdict *verdict,
    bg_error *err)
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

bg_status
ad_approver_authenticate(ad_app *app, const char *name, const char *token,
    const char *totp, ad_auth_verdict *verdict, bg_error *err)
{
	const ad_config_server *s = &app->cfg->server;
	const ad_config_approver *a = ad_config_find_approver(app->cfg, name);
	const char *owner = NULL;
	bg_totp_policy policy = policy_of(s);
	bg_totp_verdict tv;
	bg_totp_secret secret;
	bg_totp_state state;
	time_t until;
	bg_status rc;

	*verdict = AD_AUTH_REFUSED;
	if (a == NULL || !ad_token_matches(app->cfg, token, &owner) ||
	    !bg_name_equal(owner, name))
		return BG_OK;
	if ((rc = bg_totp_secret_load(a->totp, &secret, err)) != BG_OK)
		return rc;
	/* The configured spelling: one TOTP state per person whatever the case typed. */
	rc = ad_store_totp_get(app->store, a->meta.name, &state, err);
	if (rc == BG_OK)
		rc = bg_totp_decide(&policy, &state, &secret, totp, time(NULL), &tv, &until,
		    err);
	bg_totp_secret_clear(&secret);
	/* Stored with the vote it allows, or with the refusal, in one commit. */
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
ad_approver_check_secrets(const ad_config *cfg, bg_errlist *errs)
{
	bg_totp_secret secret;
	bg_status rc = BG_OK;
	bg_error err;

	for (size_t i = 0; i < cfg->napprover; i++) {
		if (bg_totp_secret_load(cfg->approver[i].totp, &secret, &err) != BG_OK) {
			bg_errlist_add(errs, "%s:%u: [approver %s] totp: %s", cfg->path,
			    cfg->approver[i].meta.line, cfg->approver[i].meta.name,
			    err.msg);
			rc = BG_ERR_INVALID;
		}
		bg_totp_secret_clear(&secret);
	}
	return rc;
}
