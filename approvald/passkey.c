/*
 * Approvers' passkeys (WebAuthn).  Registration is bootstrapped by the
 * approver's own token and TOTP code (POST /v1/webauthn/register/begin
 * issues a challenge only then; /finish stores the credential the
 * authenticator made for it).  Every assertion signs a challenge issued to
 * one approver for one binding ("signin", "vote:approve:ID1,ID2", ...),
 * valid two minutes and spent by its first use whatever the outcome, so an
 * assertion confirms exactly the action it was asked for, once.
 * common/webauthn.c verifies; this file keeps the state and the rules.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"
#include "bodies.h"
#include "escape.h"
#include "json_body.h"
#include "json_string.h"
#include "names.h"
#include "webauthn.h"

#define CHALLENGE_TTL_MS (120 * AD_MS_PER_SECOND)
#define CHALLENGE_HEX_LEN (2 * BG_WEBAUTHN_CHALLENGE_LEN + 1)
#define CRED_ID_HEX_MAX (2 * BG_WEBAUTHN_CRED_ID_MAX + 1)
#define PURPOSE_REGISTER "register"
#define PURPOSE_ASSERT "assert"
#define RP_NAME "breakglass approvals"
#define LABEL_MAX 64
/* An approver's passkeys at most: a phone, a laptop, keys in a drawer. */
#define PASSKEYS_MAX 16
/* A registration's attestationObject may exceed the vote API's string cap. */
#define REGISTER_FIELD_MAX 8192
/* A request id in a binding: what the host API accepts (uuid4) and a margin. */
#define BINDING_ID_MAX 64
#define ESCAPED_MAX 256
/* A refusal's reason as journaled. */
#define REASON_MAX 256

/* "signin", or "vote:approve:" / "vote:deny:" and request ids, sorted, comma-joined. */
static bool
binding_valid(const char *b)
{
	const char *p, *prev = NULL;
	size_t prev_len = 0;

	if (strcmp(b, "signin") == 0)
		return true;
	if (strncmp(b, "vote:approve:", 13) == 0)
		p = b + 13;
	else if (strncmp(b, "vote:deny:", 10) == 0)
		p = b + 10;
	else
		return false;
	for (;;) {
		size_t n = strspn(p, "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-");

		if (n == 0 || n > BINDING_ID_MAX || (p[n] != ',' && p[n] != '\0'))
			return false;
		/* Strictly ascending: one spelling per set of requests. */
		if (prev != NULL) {
			int c = strncmp(prev, p, prev_len < n ? prev_len : n);

			if (c > 0 || (c == 0 && prev_len >= n))
				return false;
		}
		prev = p;
		prev_len = n;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

static void
passkey_log(const ad_http_req *r, const char *approver, const char *what, const char *why)
{
	char a[ESCAPED_MAX], w[ESCAPED_MAX];

	bg_escape_printable(approver != NULL ? approver : "", a, sizeof(a));
	bg_escape_printable(why, w, sizeof(w));
	ad_log(LOG_WARNING, "%s refused: approver=%s source=%s: %s", what, a, r->source, w);
}

/*
 * approver.passkey_refused, with the reason and the credential when known;
 * clone when the signature counter went back.
 */
static bg_status
journal_refused(ad_app *app, const ad_http_req *r, const char *approver,
    const char *purpose, const char *binding, const char *cred_hex, const char *reason,
    bool clone, bg_error *err)
{
	bg_event *ev = ad_event_new(app, "approver.passkey_refused", "failure", NULL, approver,
	    r->source);
	bool cut;
	/* A parser's reason may quote what the client sent. */
	char *why = bg_utf8_sanitize(reason, REASON_MAX, &cut);
	bg_status rc;

	if (ev == NULL || why == NULL) {
		bg_event_free(ev);
		free(why);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	bg_event_add_str(ev, "purpose", purpose);
	if (binding != NULL)
		bg_event_add_str(ev, "binding", binding);
	if (cred_hex != NULL && *cred_hex != '\0')
		bg_event_add_str(ev, "credential", cred_hex);
	bg_event_add_str(ev, "reason", why);
	if (clone)
		bg_event_add_bool(ev, "possible_clone", true);
	rc = bg_audit_emit(&app->audit, ev, err);
	bg_event_free(ev);
	free(why);
	if (clone) {
		char a[ESCAPED_MAX];

		bg_escape_printable(approver, a, sizeof(a));
		ad_log(LOG_ALERT, "passkey %s of approver %s: signature counter went back: a "
		    "cloned authenticator?", cred_hex, a);
	}
	return rc;
}

static json_object *
b64u_string(const unsigned char *data, size_t len)
{
	json_object *s;
	char *text;

	if (bg_base64url_encode(data, len, &text, NULL) != BG_OK)
		return NULL;
	s = json_object_new_string(text);
	free(text);
	return s;
}

/* [{"type": "public-key", "id": ...}] of the passkeys (allow or exclude lists). */
static json_object *
credential_list(const ad_passkey *pk, size_t n)
{
	json_object *list = json_object_new_array();

	for (size_t i = 0; list != NULL && i < n; i++) {
		unsigned char id[BG_WEBAUTHN_CRED_ID_MAX];
		size_t len = strlen(pk[i].id_hex) / 2;
		json_object *c;

		if (len > sizeof(id) || bg_hex_decode(pk[i].id_hex, id, len, NULL) != BG_OK)
			continue;
		c = json_object_new_object();
		json_object_object_add(c, "type", json_object_new_string("public-key"));
		json_object_object_add(c, "id", b64u_string(id, len));
		json_object_array_add(list, c);
	}
	return list;
}

/* A fresh challenge for approver (configured spelling), stored for purpose and binding. */
static bg_status
challenge_issue(ad_app *app, const char *approver, const char *purpose,
    const char *binding, int64_t now_ms, unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN],
    bg_error *err)
{
	char hex[CHALLENGE_HEX_LEN];
	ad_challenge c = { .approver = (char *)approver, .binding = (char *)binding,
	    .purpose = (char *)purpose, .expires_ms = now_ms + CHALLENGE_TTL_MS };
	bg_status rc;

	if ((rc = bg_random_bytes(ch, BG_WEBAUTHN_CHALLENGE_LEN, err)) != BG_OK)
		return rc;
	bg_hex_encode(ch, BG_WEBAUTHN_CHALLENGE_LEN, hex);
	return ad_store_challenge_insert(app->store, hex, &c, now_ms, err);
}

/*
 * Takes the challenge clientDataJSON names: NULL when it was issued to
 * approver for purpose and binding and is unexpired, else why not.  Spent
 * either way.
 */
static const char *
challenge_take(ad_app *app, const char *client_data_json, const char *approver,
    const char *purpose, const char *binding, int64_t now_ms,
    unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN], bg_status *rc, bg_error *err)
{
	char hex[CHALLENGE_HEX_LEN];
	ad_challenge c;
	const char *why = NULL;

	*rc = BG_OK;
	if (bg_webauthn_client_challenge(client_data_json, ch, err) != BG_OK)
		return "clientDataJSON without a challenge of ours";
	bg_hex_encode(ch, BG_WEBAUTHN_CHALLENGE_LEN, hex);
	if ((*rc = ad_store_challenge_take(app->store, hex, &c, err)) == BG_ERR_NOTFOUND) {
		*rc = BG_OK;
		return "challenge unknown or used";
	}
	if (*rc != BG_OK)
		return "database";
	if (strcmp(c.purpose, purpose) != 0)
		why = "challenge issued for another purpose";
	else if (strcmp(c.approver, approver) != 0)
		why = "challenge issued to another approver";
	else if (binding != NULL && strcmp(c.binding, binding) != 0)
		why = "challenge issued for another action";
	else if (c.expires_ms <= now_ms)
		why = "challenge expired";
	ad_challenge_clear(&c);
	return why;
}

/* An approver's passkey from the store, in libfido2's terms. */
static bool
credential_of(const ad_passkey *pk, bg_webauthn_credential *cred)
{
	size_t id_len = strlen(pk->id_hex) / 2, key_len = strlen(pk->pubkey_hex) / 2;

	memset(cred, 0, sizeof(*cred));
	if (id_len > sizeof(cred->id) || key_len > sizeof(cred->pubkey) ||
	    bg_hex_decode(pk->id_hex, cred->id, id_len, NULL) != BG_OK ||
	    bg_hex_decode(pk->pubkey_hex, cred->pubkey, key_len, NULL) != BG_OK)
		return false;
	cred->id_len = id_len;
	cred->pubkey_len = key_len;
	cred->alg = pk->alg;
	cred->sign_count = pk->sign_count;
	return true;
}

static const bg_webauthn_rp *
rp_of(const ad_app *app, bg_webauthn_rp *rp)
{
	rp->rp_id = app->cfg->server.rp_id;
	rp->origin = app->cfg->server.origin;
	return rp;
}

/*
 * The checks of an assertion after the lockout's: *why NULL when it is
 * valid (and the passkey's counter is updated), else the reason; *clone
 * when the counter went back.  BG_OK unless the database or memory failed.
 */
static bg_status
assertion_check(ad_app *app, const char *approver, json_object *assertion,
    const char *binding, int64_t now_ms, const char **why, char why_buf[BG_ERROR_MAX],
    char cred_hex[CRED_ID_HEX_MAX], bool *clone, bg_error *err)
{
	static const ad_member members[] = {
		{ "id", T_STRING }, { "clientDataJSON", T_STRING },
		{ "authenticatorData", T_STRING }, { "signature", T_STRING },
		{ "userHandle", T_STRING_OR_NULL },
	};
	unsigned char id[BG_WEBAUTHN_CRED_ID_MAX], uid[BG_WEBAUTHN_USER_ID_LEN];
	unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN];
	bg_webauthn_assertion as;
	bg_webauthn_credential cred;
	bg_webauthn_result result = { 0 };
	bg_webauthn_rp rp;
	ad_passkey pk;
	size_t id_len;
	const char *bad;
	bg_error verr;
	bg_status rc;

	*clone = false;
	if (!ad_members_ok(assertion, members, sizeof(members) / sizeof(members[0]), &bad)) {
		*why = "not an assertion {id, clientDataJSON, authenticatorData, signature, "
		    "userHandle}";
		return BG_OK;
	}
	as.id = bg_json_member_cstring(assertion, "id");
	as.client_data_json = bg_json_member_cstring(assertion, "clientDataJSON");
	as.authenticator_data = bg_json_member_cstring(assertion, "authenticatorData");
	as.signature = bg_json_member_cstring(assertion, "signature");
	as.user_handle = bg_json_member_cstring(assertion, "userHandle");
	if (bg_webauthn_credential_id(as.id, id, &id_len, &verr) != BG_OK) {
		*why = "id: not a credential id";
		return BG_OK;
	}
	bg_hex_encode(id, id_len, cred_hex);
	if ((*why = challenge_take(app, as.client_data_json, approver, PURPOSE_ASSERT, binding,
	    now_ms, ch, &rc, err)) != NULL || rc != BG_OK)
		return rc;
	if ((rc = ad_store_passkey_get(app->store, cred_hex, &pk, err)) == BG_ERR_NOTFOUND) {
		*why = "unknown credential";
		return BG_OK;
	}
	if (rc != BG_OK)
		return rc;
	if (strcmp(pk.approver, approver) != 0)
		*why = "another approver's credential";
	else if (!credential_of(&pk, &cred))
		*why = "stored credential unreadable";
	else if ((rc = bg_webauthn_user_id(approver, uid, err)) == BG_OK &&
	    bg_webauthn_verify_assertion(rp_of(app, &rp), ch, uid, &cred, &as, &result,
	    &verr) != BG_OK) {
		snprintf(why_buf, BG_ERROR_MAX, "%s", verr.msg);
		*why = why_buf;
		*clone = result.clone_suspected;
	}
	if (rc == BG_OK && *why == NULL)
		rc = ad_store_passkey_used(app->store, cred_hex, result.sign_count, now_ms, err);
	ad_passkey_clear(&pk);
	return rc;
}

bg_status
ad_passkey_confirm(ad_app *app, const ad_http_req *r, const char *approver,
    json_object *assertion, const char *binding, ad_auth_verdict *verdict, bg_error *err)
{
	const ad_config_approver *a = ad_config_find_approver(app->cfg, approver);
	char why_buf[BG_ERROR_MAX], cred_hex[CRED_ID_HEX_MAX] = "";
	const char *why = NULL;
	bool clone;
	bg_status rc;

	*verdict = AD_AUTH_REFUSED;
	if (a == NULL)
		return BG_OK;
	/* Locked out by wrong codes or refused assertions: not even checked. */
	if ((rc = ad_factor_begin(app, a->meta.name, verdict, err)) != BG_OK ||
	    *verdict == AD_AUTH_LOCKED)
		return rc;
	*verdict = AD_AUTH_REFUSED;
	rc = assertion_check(app, a->meta.name, assertion, binding, r->now_ms, &why, why_buf,
	    cred_hex, &clone, err);
	if (rc != BG_OK)
		return rc;
	if (why == NULL) {
		*verdict = AD_AUTH_OK;
		return BG_OK;
	}
	passkey_log(r, a->meta.name, "passkey assertion", why);
	if ((rc = journal_refused(app, r, a->meta.name, PURPOSE_ASSERT, binding, cred_hex, why,
	    clone, err)) != BG_OK)
		return rc;
	/* Counted as a wrong code is: the same lockout. */
	return ad_factor_failed(app, a->meta.name, verdict, err);
}

/* ------------------------------------------------------------------ */
/* The endpoints. */

/* Parses body into *doc with members m; false with res answered 400 otherwise. */
static bool
body_of(ad_http_req *r, const ad_member *m, size_t n, size_t max_string, json_object **doc,
    const char **approver, ad_response *res)
{
	const char *bad;
	bg_error err;

	*doc = bg_json_body_parse(r->body, r->body_len, max_string, &err);
	if (*doc == NULL) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, err.msg);
		return false;
	}
	if (!ad_members_ok(*doc, m, n, &bad)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "unexpected body: %s", bad);
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, msg);
		return false;
	}
	*approver = bg_json_member_cstring(*doc, "approver");
	if (!bg_name_valid(*approver)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "approver: not a name");
		return false;
	}
	return true;
}

/*
 * The bearer token is the approver's: else 401, counted in the throttle.
 * Also answers 429 while the throttle holds the address or the approver.
 */
static const ad_config_approver *
token_approver(ad_http_req *r, const char *approver, const char *what, ad_response *res)
{
	if (ad_approver_throttled(r, approver, res))
		return NULL;
	if (!ad_approver_token_ok(r->app->cfg, approver, ad_bearer_token(r))) {
		passkey_log(r, approver, what, "bad token");
		ad_approver_count_failure(r, approver);
		ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "authentication failed");
		return NULL;
	}
	return ad_config_find_approver(r->app->cfg, approver);
}

/* Commits, or answers 500 (and rolls back). */
static bool
commit_or_fail(ad_http_req *r, const char *what, ad_response *res)
{
	bg_error err;

	if (ad_store_commit(r->app->store, &err) == BG_OK)
		return true;
	ad_store_rollback(r->app->store);
	ad_log(LOG_ERR, "%s: %s", what, err.msg);
	ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
	return false;
}

static void
fail_500(ad_http_req *r, const char *what, const bg_error *err, ad_response *res)
{
	ad_store_rollback(r->app->store);
	ad_log(LOG_ERR, "%s: %s", what, err->msg);
	ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot issue a challenge");
}

/* A challenge not issued: 429 when the approver has too many outstanding, else 500. */
static void
challenge_refused(ad_http_req *r, bg_status rc, const bg_error *err, const char *what,
    ad_response *res)
{
	if (rc != BG_ERR_DENIED) {
		fail_500(r, what, err, res);
		return;
	}
	ad_store_rollback(r->app->store);
	passkey_log(r, NULL, what, err->msg);
	ad_response_error(res, MHD_HTTP_TOO_MANY_REQUESTS, err->msg);
}

/* {"publicKey": PublicKeyCredentialCreationOptions} for approver a. */
static json_object *
creation_options(const ad_app *app, const ad_config_approver *a,
    const unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN], const ad_passkey *pk, size_t n)
{
	static const int algs[] = { BG_WEBAUTHN_ES256, BG_WEBAUTHN_EDDSA, BG_WEBAUTHN_RS256 };
	unsigned char uid[BG_WEBAUTHN_USER_ID_LEN];
	json_object *out = json_object_new_object(), *o = json_object_new_object();
	json_object *rp = json_object_new_object(), *user = json_object_new_object();
	json_object *params = json_object_new_array(), *sel = json_object_new_object();

	json_object_object_add(rp, "id", json_object_new_string(app->cfg->server.rp_id));
	json_object_object_add(rp, "name", json_object_new_string(RP_NAME));
	json_object_object_add(o, "rp", rp);
	if (bg_webauthn_user_id(a->meta.name, uid, NULL) == BG_OK)
		json_object_object_add(user, "id", b64u_string(uid, sizeof(uid)));
	json_object_object_add(user, "name", json_object_new_string(a->meta.name));
	json_object_object_add(user, "displayName", json_object_new_string(a->meta.name));
	json_object_object_add(o, "user", user);
	json_object_object_add(o, "challenge", b64u_string(ch, BG_WEBAUTHN_CHALLENGE_LEN));
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "type", json_object_new_string("public-key"));
		json_object_object_add(p, "alg", json_object_new_int(algs[i]));
		json_object_array_add(params, p);
	}
	json_object_object_add(o, "pubKeyCredParams", params);
	json_object_object_add(o, "timeout", json_object_new_int64(CHALLENGE_TTL_MS));
	json_object_object_add(o, "excludeCredentials", credential_list(pk, n));
	json_object_object_add(sel, "residentKey", json_object_new_string("preferred"));
	json_object_object_add(sel, "requireResidentKey", json_object_new_boolean(0));
	json_object_object_add(sel, "userVerification", json_object_new_string("required"));
	json_object_object_add(o, "authenticatorSelection", sel);
	json_object_object_add(o, "attestation", json_object_new_string("none"));
	json_object_object_add(out, "publicKey", o);
	return out;
}

/*
 * POST /v1/webauthn/register/begin: {"approver", "totp"} with the
 * approver's bearer token.  The TOTP code is the bootstrap, accepted even
 * with second_factor = webauthn: nothing else can vouch for a first passkey.
 */
void
ad_passkey_register_begin(ad_http_req *r, ad_response *res)
{
	static const ad_member members[] = { { "approver", T_STRING }, { "totp", T_STRING } };
	unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN];
	const ad_config_approver *a;
	const char *approver;
	ad_auth_verdict verdict = AD_AUTH_REFUSED;  /* fail closed on every path */
	ad_passkey *pk = NULL;
	json_object *doc, *out, *confirm = NULL;
	size_t n = 0;
	bg_status rc;
	bg_error err;

	if (!body_of(r, members, 2, AD_FIELD_MAX, &doc, &approver, res) ||
	    ad_approver_throttled(r, approver, res))
		goto done;
	/* {"totp": code} for ad_factor_confirm, which takes it for this binding alone under webauthn. */
	if ((confirm = json_object_new_object()) != NULL)
		json_object_object_add(confirm, "totp", json_object_get(
		    json_object_object_get(doc, "totp")));
	if (ad_store_begin(r->app->store, &err) != BG_OK ||
	    ad_approver_authenticate(r->app, r, approver, ad_bearer_token(r), confirm,
	    AD_BINDING_REGISTER, &verdict, &err) != BG_OK) {
		fail_500(r, "passkey registration", &err, res);
		goto done;
	}
	if (verdict != AD_AUTH_OK) {
		/* The TOTP failure counts even though nothing else happens. */
		commit_or_fail(r, "passkey registration", res);
		passkey_log(r, approver, "passkey registration", verdict == AD_AUTH_REPLAYED ?
		    "TOTP code replayed" : verdict == AD_AUTH_LOCKED ? "TOTP locked out" :
		    "bad token or TOTP code");
		if (verdict == AD_AUTH_REFUSED)
			ad_approver_count_failure(r, approver);
		ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "authentication failed");
		goto done;
	}
	a = ad_config_find_approver(r->app->cfg, approver);
	if ((rc = challenge_issue(r->app, a->meta.name, PURPOSE_REGISTER, "", r->now_ms, ch,
	    &err)) == BG_OK)
		rc = ad_store_passkeys(r->app->store, a->meta.name, &pk, &n, &err);
	if (rc != BG_OK) {
		challenge_refused(r, rc, &err, "passkey registration", res);
		goto done;
	}
	if (commit_or_fail(r, "passkey registration", res)) {
		out = creation_options(r->app, a, ch, pk, n);
		ad_response_json(res, MHD_HTTP_OK, out);
		json_object_put(out);
	}
done:
	ad_passkeys_free(pk, n);
	json_object_put(confirm);
	json_object_put(doc);
}

/* The label an approver gives a passkey: plain text, short. */
static bool
label_ok(const char *label)
{
	return label != NULL && strlen(label) <= LABEL_MAX && bg_text_displayable(label);
}

static bg_status
journal_registered(ad_http_req *r, const ad_passkey *pk, bg_error *err)
{
	bg_event *ev = ad_event_new(r->app, "approver.passkey_registered", "success", NULL,
	    pk->approver, r->source);
	bg_status rc;

	if (ev == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	bg_event_add_str(ev, "credential", pk->id_hex);
	bg_event_add_int(ev, "alg", pk->alg);
	bg_event_add_str(ev, "label", pk->label);
	rc = bg_audit_emit(&r->app->audit, ev, err);
	bg_event_free(ev);
	return rc;
}

/*
 * Verifies and stores the credential of a registration in the open
 * transaction: NULL when stored, else why not (*rc: a database or journal
 * error).
 */
static const char *
register_credential(ad_http_req *r, const ad_config_approver *a, json_object *credential,
    const char *label, char why_buf[BG_ERROR_MAX], unsigned *status, bg_status *rc,
    bg_error *err)
{
	static const ad_member members[] = {
		{ "id", T_STRING }, { "clientDataJSON", T_STRING },
		{ "attestationObject", T_STRING },
	};
	unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN];
	char id_hex[CRED_ID_HEX_MAX], key_hex[2 * BG_WEBAUTHN_PUBKEY_MAX + 1];
	const char *bad, *why;
	bg_webauthn_credential cred;
	bg_webauthn_rp rp;
	ad_passkey *pk = NULL, stored;
	size_t n = 0;
	bg_error verr;

	*rc = BG_OK;
	*status = MHD_HTTP_BAD_REQUEST;
	if (!ad_members_ok(credential, members, 3, &bad))
		return "credential: expected {id, clientDataJSON, attestationObject}";
	why = challenge_take(r->app, bg_json_member_cstring(credential, "clientDataJSON"),
	    a->meta.name, PURPOSE_REGISTER, NULL, r->now_ms, ch, rc, err);
	if (why != NULL || *rc != BG_OK)
		return why;
	if (bg_webauthn_verify_registration(rp_of(r->app, &rp), ch,
	    bg_json_member_cstring(credential, "id"),
	    bg_json_member_cstring(credential, "clientDataJSON"),
	    bg_json_member_cstring(credential, "attestationObject"), &cred, &verr) != BG_OK) {
		snprintf(why_buf, BG_ERROR_MAX, "%s", verr.msg);
		return why_buf;
	}
	*status = MHD_HTTP_CONFLICT;
	if ((*rc = ad_store_passkeys(r->app->store, a->meta.name, &pk, &n, err)) != BG_OK)
		return "database";
	ad_passkeys_free(pk, n);
	if (n >= PASSKEYS_MAX)
		return "too many passkeys registered";
	bg_hex_encode(cred.id, cred.id_len, id_hex);
	bg_hex_encode(cred.pubkey, cred.pubkey_len, key_hex);
	stored = (ad_passkey){ .approver = (char *)a->meta.name, .id_hex = id_hex,
	    .alg = cred.alg, .pubkey_hex = key_hex, .sign_count = cred.sign_count,
	    .label = (char *)label, .created_ms = r->now_ms };
	if ((*rc = ad_store_passkey_insert(r->app->store, &stored, err)) == BG_ERR_DENIED) {
		*rc = BG_OK;
		return "credential registered already";
	}
	if (*rc == BG_OK)
		*rc = journal_registered(r, &stored, err);
	return *rc == BG_OK ? NULL : "database or journal";
}

/*
 * POST /v1/webauthn/register/finish: {"approver", "credential", "label"}
 * with the approver's bearer token; the credential answers a challenge that
 * register/begin issued to that approver.
 */
void
ad_passkey_register_finish(ad_http_req *r, ad_response *res)
{
	static const ad_member members[] = {
		{ "approver", T_STRING }, { "credential", T_OBJECT }, { "label", T_STRING },
	};
	char why_buf[BG_ERROR_MAX], time_s[AD_TIME_LEN];
	const ad_config_approver *a;
	const char *approver, *label, *why;
	json_object *doc, *credential, *out;
	unsigned status;
	bg_status rc;
	bg_error err;

	if (!body_of(r, members, 3, REGISTER_FIELD_MAX, &doc, &approver, res) ||
	    (a = token_approver(r, approver, "passkey registration", res)) == NULL)
		goto done;
	label = bg_json_member_cstring(doc, "label");
	if (!label_ok(label)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "label: at most 64 bytes of "
		    "plain text");
		goto done;
	}
	json_object_object_get_ex(doc, "credential", &credential);
	if (ad_store_begin(r->app->store, &err) != BG_OK) {
		fail_500(r, "passkey registration", &err, res);
		goto done;
	}
	why = register_credential(r, a, credential, label, why_buf, &status, &rc, &err);
	if (rc != BG_OK) {
		fail_500(r, "passkey registration", &err, res);
		goto done;
	}
	if (why != NULL) {
		passkey_log(r, a->meta.name, "passkey registration", why);
		/* The refusal is journaled and the challenge stays spent. */
		if (journal_refused(r->app, r, a->meta.name, PURPOSE_REGISTER, NULL, NULL, why,
		    false, &err) != BG_OK) {
			fail_500(r, "passkey registration", &err, res);
			goto done;
		}
		if (commit_or_fail(r, "passkey registration", res)) {
			ad_approver_count_failure(r, a->meta.name);
			ad_response_error(res, status, why);
		}
		goto done;
	}
	if (commit_or_fail(r, "passkey registration", res)) {
		out = json_object_new_object();
		json_object_object_add(out, "approver", json_object_new_string(a->meta.name));
		json_object_object_add(out, "id", json_object_new_string(
		    bg_json_member_cstring(credential, "id")));
		json_object_object_add(out, "label", json_object_new_string(label));
		ad_time_format(r->now_ms, time_s);
		json_object_object_add(out, "created_at", json_object_new_string(time_s));
		ad_response_json(res, MHD_HTTP_CREATED, out);
		json_object_put(out);
	}
done:
	json_object_put(doc);
}

/* {"publicKey": PublicKeyCredentialRequestOptions} allowing the passkeys pk. */
static json_object *
request_options(const ad_app *app, const unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN],
    const ad_passkey *pk, size_t n)
{
	json_object *out = json_object_new_object(), *o = json_object_new_object();

	json_object_object_add(o, "challenge", b64u_string(ch, BG_WEBAUTHN_CHALLENGE_LEN));
	json_object_object_add(o, "timeout", json_object_new_int64(CHALLENGE_TTL_MS));
	json_object_object_add(o, "rpId", json_object_new_string(app->cfg->server.rp_id));
	json_object_object_add(o, "userVerification", json_object_new_string("required"));
	json_object_object_add(o, "allowCredentials", credential_list(pk, n));
	json_object_object_add(out, "publicKey", o);
	return out;
}

/*
 * The caller is approver: by a session of approver (its cookie, Origin and
 * X-CSRF-Token: a signed-in page) when no bearer token is sent, else by the
 * bearer token.  In a transaction begun here; NULL with res answered (and
 * no transaction) otherwise.
 */
static const ad_config_approver *
challenge_caller(ad_http_req *r, const char *approver, ad_response *res)
{
	const ad_config_approver *a;
	ad_session sess;
	bg_error err;

	if (ad_bearer_token(r) == NULL && ad_session_cookie_sent(r)) {
		if (ad_store_begin(r->app->store, &err) != BG_OK) {
			fail_500(r, "passkey challenge", &err, res);
			return NULL;
		}
		if (!ad_session_check(r, true, &sess, res))
			return NULL;
		a = ad_config_find_approver(r->app->cfg, approver);
		if (a == NULL || !bg_name_equal(sess.approver, a->meta.name)) {
			ad_store_rollback(r->app->store);
			passkey_log(r, approver, "passkey challenge", "another approver's session");
			ad_response_error(res, MHD_HTTP_FORBIDDEN, "not this session's approver");
			return NULL;
		}
		return a;
	}
	if ((a = token_approver(r, approver, "passkey challenge", res)) == NULL)
		return NULL;
	if (ad_store_begin(r->app->store, &err) != BG_OK) {
		fail_500(r, "passkey challenge", &err, res);
		return NULL;
	}
	return a;
}

/*
 * POST /v1/webauthn/challenge: {"approver", "binding"} with the approver's
 * bearer token or session: a challenge for that approver's passkeys, valid
 * for that binding only.
 */
void
ad_passkey_challenge(ad_http_req *r, ad_response *res)
{
	static const ad_member members[] = {
		{ "approver", T_STRING }, { "binding", T_STRING },
	};
	unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN];
	const ad_config_approver *a;
	const char *approver, *binding;
	ad_passkey *pk = NULL;
	json_object *doc, *out;
	size_t n = 0;
	bg_status rc;
	bg_error err;

	if (!body_of(r, members, 2, AD_FIELD_MAX, &doc, &approver, res))
		goto done;
	binding = bg_json_member_cstring(doc, "binding");
	if (binding == NULL || !binding_valid(binding)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "binding: \"signin\", or "
		    "\"vote:approve:\" or \"vote:deny:\" and request ids, sorted, comma-joined");
		goto done;
	}
	if ((a = challenge_caller(r, approver, res)) == NULL)
		goto done;
	if (ad_store_passkeys(r->app->store, a->meta.name, &pk, &n, &err) != BG_OK) {
		fail_500(r, "passkey challenge", &err, res);
		goto done;
	}
	if (n == 0) {
		ad_store_rollback(r->app->store);
		ad_response_error(res, MHD_HTTP_CONFLICT, "no passkey registered");
		goto done;
	}
	if ((rc = challenge_issue(r->app, a->meta.name, PURPOSE_ASSERT, binding, r->now_ms, ch,
	    &err)) != BG_OK) {
		challenge_refused(r, rc, &err, "passkey challenge", res);
		goto done;
	}
	if (commit_or_fail(r, "passkey challenge", res)) {
		out = request_options(r->app, ch, pk, n);
		ad_response_json(res, MHD_HTTP_OK, out);
		json_object_put(out);
	}
done:
	ad_passkeys_free(pk, n);
	json_object_put(doc);
}
