/*
 * sudo_breakglass_core: the core of the sudo approval plugin, which narrows
 * what sudoers allows a break-glass account to the scope of its current
 * grant.  The front (sudo_breakglass.c) loads it for break-glass accounts and
 * whenever it cannot tell, and forwards open, check and close to it.  A thin
 * entry point: it reads sudo's arrays and asks common/sudo_policy for the
 * decision.
 *
 * open() always returns 1: returning 0 would unload the plugin and let every
 * command through.  It records problems instead, and check() refuses on them.
 */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sudo_plugin.h>

#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "plugin_common.h"
#include "status.h"
#include "sudo_policy.h"

static struct {
	sudo_conv_t conv;
	bg_config cfg;
	bool cfg_loaded;
	bg_audit audit;
	bg_error problem;            /* non-empty: refuse everything */
	char *user;
	char *cwd;
	char *tty;
	bool run_shell;
	bool login_shell;
	bool implied_shell;
	char message[BG_PLUGIN_MESSAGE_MAX];   /* errstr points here */
} st;

/* Keeps only the first problem: it is the one that explains the others. */
static void record_problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
record_problem(const char *fmt, ...)
{
	va_list ap;

	if (st.problem.msg[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(st.problem.msg, sizeof(st.problem.msg), fmt, ap);
	va_end(ap);
}

static char *
copy_or_null(const char *s)
{
	char *c;

	if (s == NULL)
		return NULL;
	c = strdup(s);
	if (c == NULL)
		record_problem("out of memory");
	return c;
}

static void
load_config(const char *path)
{
	bg_errlist errs = { 0 };
	bg_error err;

	if (bg_crypto_init_sole_user(&err) != BG_OK) {
		record_problem("%s", err.msg);
		return;
	}
	if (bg_config_load(path, &st.cfg, &errs) != BG_OK) {
		record_problem("%s", errs.count > 0 ? errs.msgs[0] : path);
		bg_errlist_free(&errs);
		return;
	}
	st.cfg_loaded = true;
	if (bg_audit_init(&st.audit, &st.cfg, &err) != BG_OK)
		record_problem("%s", err.msg);
}

static int
bg_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t plugin_printf,
    char *const settings[], char *const user_info[], int submit_optind,
    char *const submit_argv[], char *const submit_envp[], char *const plugin_options[],
    const char **errstr)
{
	const char *config, *bad;

	memset(&st, 0, sizeof(st));
	st.conv = conversation;
	if (!bg_plugin_api_ok(version))
		record_problem("incompatible sudo plugin API version %u.%u",
		    SUDO_API_VERSION_GET_MAJOR(version), SUDO_API_VERSION_GET_MINOR(version));
	config = bg_plugin_config(plugin_options, &bad);
	if (bad != NULL)
		record_problem("unknown or malformed plugin option \"%.200s\"", bad);
	st.user = copy_or_null(bg_plugin_lookup(user_info, "user"));
	st.cwd = copy_or_null(bg_plugin_lookup(user_info, "cwd"));
	st.tty = copy_or_null(bg_plugin_lookup(user_info, "tty"));
	st.run_shell = bg_plugin_lookup_true(settings, "run_shell");
	st.login_shell = bg_plugin_lookup_true(settings, "login_shell");
	st.implied_shell = bg_plugin_lookup_true(settings, "implied_shell");
	if (st.user == NULL)
		record_problem("sudo did not name the user");
	load_config(config);
	return 1;
}

static void
bg_close(void)
{
	if (st.cfg_loaded)
		bg_config_free(&st.cfg);
	free(st.user);
	free(st.cwd);
	free(st.tty);
	memset(&st, 0, sizeof(st));
}

/* Parses a non-negative decimal id; false when absent or malformed. */
static bool
parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *out <= UINT_MAX;
}

static void
build_request(bg_sudo_request *req, char *const command_info[], char *const run_argv[],
    char *const run_envp[])
{
	unsigned long uid, gid, nfiles;

	memset(req, 0, sizeof(*req));
	req->user = st.user;
	req->command = bg_plugin_lookup(command_info, "command");
	req->argv = (const char *const *)run_argv;
	while (run_argv != NULL && run_argv[req->argc] != NULL)
		req->argc++;
	req->envp = (const char *const *)run_envp;
	req->runas_user = bg_plugin_lookup(command_info, "runas_user");
	req->runas_known = parse_id(bg_plugin_lookup(command_info, "runas_uid"), &uid) &&
	    parse_id(bg_plugin_lookup(command_info, "runas_gid"), &gid);
	if (req->runas_known) {
		req->runas_uid = (uid_t)uid;
		req->runas_gid = (gid_t)gid;
	}
	req->run_shell = st.run_shell;
	req->login_shell = st.login_shell;
	req->implied_shell = st.implied_shell;
	req->chroot = bg_plugin_lookup(command_info, "chroot") != NULL;
	/* command_info, not settings: it says what the front end will really do. */
	req->sudoedit = bg_plugin_lookup_true(command_info, "sudoedit");
	if (parse_id(bg_plugin_lookup(command_info, "sudoedit_nfiles"), &nfiles))
		req->edit_nfiles = nfiles;
	req->cwd = st.cwd;
	req->tty = st.tty;
}

static int
refuse(const char *why, const char **errstr)
{
	return bg_plugin_refuse(st.conv, st.message, why, errstr);
}

static int
bg_check(char *const command_info[], char *const run_argv[], char *const run_envp[],
    const char **errstr)
{
	bg_sudo_request req;
	bg_error reason = { { 0 } };

	if (st.problem.msg[0] != '\0') {
		/* Without a usable configuration no one can be told apart: refuse. */
		bg_sudo_log_unusable(st.user, st.problem.msg);
		return refuse(st.problem.msg, errstr);
	}
	build_request(&req, command_info, run_argv, run_envp);
	switch (bg_sudo_decide(&st.cfg, &st.audit, &req, time(NULL), &reason)) {
	case BG_SUDO_UNTOUCHED:
	case BG_SUDO_ACCEPT:
		return 1;
	case BG_SUDO_REJECT:
	default:
		return refuse(reason.msg, errstr);
	}
}

__attribute__((visibility("default"))) struct approval_plugin sudo_breakglass_core = {
	.type = SUDO_APPROVAL_PLUGIN,
	.version = SUDO_API_VERSION,
	.open = bg_open,
	.close = bg_close,
	.check = bg_check,
};
