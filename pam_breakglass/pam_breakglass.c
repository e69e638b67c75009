/*
 * pam_breakglass: the gated emergency login.  A thin layer: it parses the
 * module arguments, wires the PAM conversation and items to common/login,
 * and maps the result to a PAM return code.
 */
#include "build_config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "login.h"

#define EXPORT __attribute__((visibility("default")))
#define CONFIG_ARG "config="

typedef struct {
	const char *config;
	bool debug;
} module_args;

/* Unknown arguments fail closed: a typo must not silently change the policy. */
static bool
parse_args(pam_handle_t *pamh, int argc, const char **argv, module_args *a)
{
	int i;

	a->config = BG_DEFAULT_CONFIG;
	a->debug = false;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], CONFIG_ARG, sizeof(CONFIG_ARG) - 1) == 0 &&
		    argv[i][sizeof(CONFIG_ARG) - 1] == '/')
			a->config = argv[i] + sizeof(CONFIG_ARG) - 1;
		else if (strcmp(argv[i], "debug") == 0)
			a->debug = true;
		else {
			pam_syslog(pamh, LOG_ERR, "unknown or malformed argument: %s", argv[i]);
			return false;
		}
	}
	return true;
}

static char *
conv_prompt(void *arg, const char *question, bool echo)
{
	char *answer = NULL;

	if (pam_prompt(arg, echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, &answer, "%s",
	    question) != PAM_SUCCESS) {
		free(answer);
		return NULL;
	}
	return answer;
}

static void
conv_info(void *arg, const char *text)
{
	pam_info(arg, "%s", text);
}

static const char *
item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;

	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/* The io for common/login; false when there is no user. */
static bool
setup(pam_handle_t *pamh, const module_args *a, bg_login_io *io)
{
	const char *user = NULL;

	memset(io, 0, sizeof(*io));
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || *user == '\0')
		return false;
	io->prompt = conv_prompt;
	io->info = conv_info;
	io->arg = pamh;
	io->user = user;
	io->service = item(pamh, PAM_SERVICE);
	io->rhost = item(pamh, PAM_RHOST);
	io->tty = item(pamh, PAM_TTY);
	io->debug = a->debug;
	return true;
}

static int
to_pam(bg_login_result r, int denied, int failed)
{
	switch (r) {
	case BG_LOGIN_OK:
		return PAM_SUCCESS;
	case BG_LOGIN_IGNORE:
		return PAM_IGNORE;
	case BG_LOGIN_DENIED:
		return denied;
	case BG_LOGIN_AUTH_FAILED:
		return failed;
	default:
		return PAM_SERVICE_ERR;
	}
}

typedef enum { ENTRY_AUTH, ENTRY_ACCOUNT, ENTRY_OPEN, ENTRY_CLOSE } entry;

/* One path for every entry point: arguments, items, the flow, the PAM code. */
static int
dispatch(pam_handle_t *pamh, int argc, const char **argv, entry e)
{
	module_args a;
	bg_login_io io;

	if (!parse_args(pamh, argc, argv, &a))
		return PAM_SERVICE_ERR;
	if (!setup(pamh, &a, &io))
		return e == ENTRY_OPEN || e == ENTRY_CLOSE ? PAM_SESSION_ERR : PAM_USER_UNKNOWN;
	switch (e) {
	case ENTRY_AUTH:
		return to_pam(bg_login_authenticate(a.config, &io), PAM_PERM_DENIED,
		    PAM_AUTH_ERR);
	case ENTRY_ACCOUNT:
		return to_pam(bg_login_account(a.config, &io), PAM_PERM_DENIED,
		    PAM_PERM_DENIED);
	default:
		return to_pam(bg_login_session(a.config, &io, e == ENTRY_OPEN),
		    PAM_SESSION_ERR, PAM_SESSION_ERR);
	}
}

EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, argc, argv, ENTRY_AUTH);
}

EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, argc, argv, ENTRY_ACCOUNT);
}

EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, argc, argv, ENTRY_OPEN);
}

EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, argc, argv, ENTRY_CLOSE);
}
