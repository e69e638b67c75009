/*
 * Approver authentication: the bearer token must hash to the approver's
 * token_sha256 (compared in constant time), then the approver's own TOTP
 * code must verify, with replay refusal and lockout (common/totp).  The
 * token comes first so that nobody without it can burn an approver's TOTP
 * failures into a lockout.
 */
#include "build_config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "approvald.h"
#include "names.h"
#include "totp.h"

#define TOTP_STATE_SUBDIR "totp"

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

bg_status
ad_approver_authenticate(ad_app *app, const char *name, const char *token,
    const char *totp, ad_auth_verdict *verdict, bg_error *err)
{
	const ad_config_server *s = &app->cfg->server;
	const ad_config_approver *a = ad_config_find_approver(app->cfg, name);
	const char *owner = NULL;
	char state_dir[4096];
	bg_totp_policy policy = {
		.state_dir = state_dir,
		.window = (unsigned)s->totp_window,
		.max_failures = s->totp_max_failures,
		.failure_window = s->totp_failure_window,
		.lockout = s->totp_lockout,
	};
	bg_totp_verdict tv;
	bg_totp_secret secret;
	time_t until;
	bg_status rc;
	int n;

	*verdict = AD_AUTH_REFUSED;
	if (a == NULL || !ad_token_matches(app->cfg, token, &owner) ||
	    !bg_name_equal(owner, name))
		return BG_OK;
	n = snprintf(state_dir, sizeof(state_dir), "%s/%s", s->state_dir,
	    TOTP_STATE_SUBDIR);
	if (n < 0 || (size_t)n >= sizeof(state_dir))
		return bg_error_set(err, BG_ERR_INVALID, "state_dir: path too long");
	if ((rc = bg_totp_secret_load(a->totp, &secret, err)) != BG_OK)
		return rc;
	/* The configured spelling: one TOTP state per person whatever the case typed. */
	rc = bg_totp_verify(&policy, a->meta.name, &secret, totp, time(NULL), &tv, &until, err);
	bg_totp_secret_clear(&secret);
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
