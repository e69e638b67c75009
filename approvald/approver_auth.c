/*
 * Approver authentication: the bearer token must hash to the approver's
 * token_sha256 (compared in constant time), then the approver's second
 * factor must confirm the action (factor.c), its state kept in the
 * database and held by the caller's transaction, so it holds across
 * instances.  The token comes first so that nobody without it can burn an
 * approver's TOTP failures into a lockout.
 */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

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

bool
ad_approver_token_ok(const ad_config *cfg, const char *name, const char *token)
{
	const char *owner = NULL;

	return ad_config_find_approver(cfg, name) != NULL &&
	    ad_token_matches(cfg, token, &owner) && bg_name_equal(owner, name);
}

bg_status
ad_approver_authenticate(ad_app *app, const ad_http_req *r, const char *name,
    const char *token, json_object *confirm, const char *binding,
    ad_auth_verdict *verdict, bg_error *err)
{
	*verdict = AD_AUTH_REFUSED;
	if (!ad_approver_token_ok(app->cfg, name, token))
		return BG_OK;
	return ad_factor_confirm(app, r, name, confirm, binding, verdict, err);
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
