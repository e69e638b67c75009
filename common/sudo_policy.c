/* The break-glass decision for one sudo command, and its audit record. */
#include "build_config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "buf.h"
#include "escape.h"
#include "grant.h"
#include "killswitch.h"
#include "scope.h"
#include "sudo_policy.h"

#define EDIT_SEPARATOR "--"
#define PWD_BUF_SIZE 16384

/* Variables that load code into, or start code from, what runs as root. */
static const char *const forbidden_names[] = {
	"BASH_ENV", "ENV", "IFS", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND",
	"GLOBIGNORE", "CDPATH", "ZDOTDIR", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH",
	"NLSPATH", "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS", "TERMINFO",
	"TERMINFO_DIRS", "TERMCAP", "OPENSSL_CONF", "OPENSSL_ENGINES", "PERLLIB",
	"PERLIO", "TCLLIBPATH", "LUA_INIT", "LUA_PATH", "LUA_CPATH", "PAGER",
	"SYSTEMD_PAGER", "SYSTEMD_EDITOR", "LESSOPEN", "LESSCLOSE", "EDITOR", "VISUAL",
	"NODE_OPTIONS", "NODE_PATH", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "KRB5_CONFIG",
	NULL,
};

static const char *const forbidden_prefixes[] = {
	"LD_", "PYTHON", "PERL5", "RUBY", "BASH_FUNC_", "GCONV_", "LUA_INIT_", NULL,
};

bool
bg_sudo_env_forbidden(const char *entry)
{
	size_t len = strcspn(entry, "=");

	for (size_t i = 0; forbidden_names[i] != NULL; i++)
		if (strlen(forbidden_names[i]) == len &&
		    strncmp(entry, forbidden_names[i], len) == 0)
			return true;
	for (size_t i = 0; forbidden_prefixes[i] != NULL; i++)
		if (strncmp(entry, forbidden_prefixes[i], strlen(forbidden_prefixes[i])) == 0)
			return true;
	return false;
}

static bg_status
check_env(const bg_sudo_request *req, bg_error *reason)
{
	char name[BG_ERROR_MAX / 4], shown[BG_ERROR_MAX / 4];

	for (size_t i = 0; req->envp != NULL && req->envp[i] != NULL; i++) {
		if (!bg_sudo_env_forbidden(req->envp[i]))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(req->envp[i], "="),
		    req->envp[i]);
		bg_escape_printable(name, shown, sizeof(shown));
		return bg_error_set(reason, BG_ERR_DENIED,
		    "environment variable %s is not allowed", shown);
	}
	return BG_OK;
}

static bg_status
check_mode(const bg_sudo_request *req, bg_error *reason)
{
	if (req->login_shell)
		return bg_error_set(reason, BG_ERR_DENIED, "a login shell (-i) is not allowed");
	if (req->run_shell)
		return bg_error_set(reason, BG_ERR_DENIED, "a shell (-s) is not allowed");
	if (req->implied_shell)
		return bg_error_set(reason, BG_ERR_DENIED, "a shell is not allowed");
	if (req->chroot)
		return bg_error_set(reason, BG_ERR_DENIED, "chroot (-R) is not allowed");
	return BG_OK;
}

static bg_status
check_runas(const bg_sudo_request *req, const bg_config_scope *scope, bg_error *reason)
{
	struct passwd pw, *found = NULL;
	char buf[PWD_BUF_SIZE];
	int rc;

	if (!req->runas_known)
		return bg_error_set(reason, BG_ERR_DENIED, "sudo did not say whom the command runs as");
	rc = getpwnam_r(scope->runas, &pw, buf, sizeof(buf), &found);
	if (found == NULL)
		return bg_error_set(reason, BG_ERR_DENIED, "scope %s runs as %s, who is %s",
		    scope->meta.name, scope->runas, rc != 0 ? strerror(rc) : "unknown");
	if (req->runas_uid != found->pw_uid || req->runas_gid != found->pw_gid)
		return bg_error_set(reason, BG_ERR_DENIED,
		    "scope %s only runs commands as %s", scope->meta.name, scope->runas);
	return BG_OK;
}

/* sudoedit: every file must match an edit glob; the editor itself runs as the user. */
static bg_status
check_edit(const bg_sudo_request *req, const bg_config_scope *scope, bg_error *reason)
{
	size_t first = req->argc;

	if (req->edit_nfiles > 0 && req->edit_nfiles < req->argc) {
		first = req->argc - req->edit_nfiles;
	} else {
		for (size_t i = 1; i < req->argc; i++)
			if (strcmp(req->argv[i], EDIT_SEPARATOR) == 0) {
				first = i + 1;
				break;
			}
	}
	if (first >= req->argc)
		return bg_error_set(reason, BG_ERR_DENIED, "sudoedit without files");
	for (size_t i = first; i < req->argc; i++) {
		bg_status rc = bg_scope_match_edit(scope, req->argv[i], req->cwd, reason);

		if (rc != BG_OK)
			return rc;
	}
	return BG_OK;
}

static bg_status
check_grant(const bg_config *cfg, const bg_sudo_request *req, time_t now, bg_grant *g,
    bg_error *reason)
{
	bg_status rc;

	rc = bg_grant_load(cfg->general.run_dir, req->user, g, reason);
	if (rc == BG_ERR_NOTFOUND)
		return bg_error_set(reason, BG_ERR_DENIED, "no grant for %s", req->user);
	if (rc == BG_OK)
		rc = bg_grant_validate_cfg(g, req->user, cfg, now, reason);
	if (rc != BG_OK)
		bg_error_prefix(reason, "grant refused");
	return rc;
}

/* The decision itself, no I/O but the state it reads. */
static bg_status
decide(const bg_config *cfg, const bg_sudo_request *req, time_t now, bg_grant *g,
    bg_error *reason)
{
	const bg_config_scope *scope;
	bool engaged;
	bg_status rc;

	bg_killswitch_engaged(cfg->general.kill_switch, &engaged, reason);
	if (engaged)
		return bg_error_set(reason, BG_ERR_DENIED, "the kill switch is engaged");
	rc = check_grant(cfg, req, now, g, reason);
	if (rc != BG_OK)
		return rc;
	scope = bg_config_find_scope(cfg, g->scope);
	if (scope == NULL)
		return bg_error_set(reason, BG_ERR_DENIED, "scope %s is not configured", g->scope);
	if ((rc = check_mode(req, reason)) != BG_OK ||
	    (rc = check_runas(req, scope, reason)) != BG_OK)
		return rc;
	if (req->sudoedit)
		return check_edit(req, scope, reason);
	if ((rc = check_env(req, reason)) != BG_OK)
		return rc;
	return bg_scope_match(scope, req->command, req->argv, req->argc, reason);
}

static bg_status
journal(const bg_audit *audit, const bg_sudo_request *req, const bg_grant *g,
    bool accepted, const char *reason, bg_error *err)
{
	bg_event *ev;
	bg_status rc;

	ev = bg_event_new(accepted ? "sudo.accepted" : "sudo.rejected",
	    accepted ? "success" : "failure");
	if (ev == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	bg_event_set_identity(ev, req->user, g->operator_name, g->incident, g->request_id);
	bg_event_add_str(ev, "scope", g->scope);
	bg_event_add_str(ev, "command", req->command);
	bg_event_add_strv(ev, "argv", req->argv, req->argc);
	bg_event_add_str(ev, "runas", req->runas_user);
	bg_event_add_str(ev, "cwd", req->cwd);
	bg_event_add_str(ev, "tty", req->tty);
	if (req->sudoedit)
		bg_event_add_bool(ev, "sudoedit", true);
	if (!accepted)
		bg_event_add_str(ev, "reason", reason);
	rc = bg_audit_emit(audit, ev, err);
	bg_event_free(ev);
	return rc;
}

bg_sudo_verdict
bg_sudo_decide(const bg_config *cfg, const bg_audit *audit, const bg_sudo_request *req,
    time_t now, bg_error *reason)
{
	bg_grant g;
	bg_error jerr;
	bool accepted;

	memset(&g, 0, sizeof(g));
	if (!bg_config_is_breakglass_account(cfg, req->user))
		return BG_SUDO_UNTOUCHED;
	accepted = decide(cfg, req, now, &g, reason) == BG_OK;
	if (journal(audit, req, &g, accepted, reason->msg, &jerr) != BG_OK) {
		/* Nothing runs unrecorded. */
		bg_error_set(reason, BG_ERR_IO, "the audit journal cannot be written: %s",
		    jerr.msg);
		accepted = false;
	}
	bg_grant_free(&g);
	return accepted ? BG_SUDO_ACCEPT : BG_SUDO_REJECT;
}

void
bg_sudo_log_unusable(const char *user, const char *problem)
{
	bg_audit_config_invalid(user, problem);
}
