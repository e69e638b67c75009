/*
 * A PAM application for tests: runs the stack of SERVICE from CONFDIR (via
 * pam_start_confdir, so no file in /etc/pam.d is needed) for USER, and
 * answers prompts from the command line in order.
 *
 * Usage: pam_driver [-r RHOST] [-y TTY] CONFDIR SERVICE USER STEPS [ANSWER...]
 * STEPS is a string of a (authenticate), m (acct_mgmt), o (open_session),
 * c (close_session) and p (print "paused" and wait for a line on stdin, so
 * a caller can act inside the open session, as the demo runs sudo there).
 * An ANSWER of "-" is read as a line from stdin when its prompt comes, so a
 * caller can answer what the module showed (the demo's recovery codes for
 * the challenge it printed).  Prints "prompt: TEXT", "info: TEXT" and one
 * "STEP=PAM_CODE_NAME" line per step; stops at the first step that fails.
 * Exit status: 0 when every step succeeded, 1 otherwise, 2 on usage errors.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

struct answers {
	char **v;
	int n;
	int next;
};

static int
converse(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct answers *a = arg;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_ON:
		case PAM_PROMPT_ECHO_OFF:
			printf("prompt: %s\n", msg[i]->msg);
			if (a->next >= a->n) {
				free(r);
				return PAM_CONV_ERR;
			}
			if (strcmp(a->v[a->next], "-") == 0) {
				char line[1024];

				a->next++;
				fflush(stdout);
				if (fgets(line, sizeof(line), stdin) == NULL) {
					free(r);
					return PAM_CONV_ERR;
				}
				line[strcspn(line, "\n")] = '\0';
				r[i].resp = strdup(line);
			} else {
				r[i].resp = strdup(a->v[a->next++]);
			}
			break;
		default:
			printf("info: %s\n", msg[i]->msg);
			break;
		}
	}
	fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
}

static int
step(pam_handle_t *pamh, char s)
{
	switch (s) {
	case 'a':
		return pam_authenticate(pamh, 0);
	case 'm':
		return pam_acct_mgmt(pamh, 0);
	case 'o':
		return pam_open_session(pamh, 0);
	case 'c':
		return pam_close_session(pamh, 0);
	default:
		return PAM_SYSTEM_ERR;
	}
}

static const char *
step_name(char s)
{
	switch (s) {
	case 'a':
		return "authenticate";
	case 'm':
		return "acct_mgmt";
	case 'o':
		return "open_session";
	default:
		return "close_session";
	}
}

/* pam_strerror gives prose; tests want the constant's name. */
static const char *
code_name(int rc)
{
	static const struct {
		int rc;
		const char *name;
	} names[] = {
		{ PAM_SUCCESS, "PAM_SUCCESS" }, { PAM_AUTH_ERR, "PAM_AUTH_ERR" },
		{ PAM_PERM_DENIED, "PAM_PERM_DENIED" }, { PAM_IGNORE, "PAM_IGNORE" },
		{ PAM_SERVICE_ERR, "PAM_SERVICE_ERR" }, { PAM_SESSION_ERR, "PAM_SESSION_ERR" },
		{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" }, { PAM_CONV_ERR, "PAM_CONV_ERR" },
		{ PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" }, { PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rc == rc)
			return names[i].name;
	return "PAM_OTHER";
}

int
main(int argc, char **argv)
{
	const char *rhost = NULL, *tty = NULL, *steps;
	struct answers a = { 0 };
	struct pam_conv conv = { converse, &a };
	pam_handle_t *pamh = NULL;
	int opt, rc = PAM_SUCCESS, status = 0;

	while ((opt = getopt(argc, argv, "r:y:")) != -1) {
		if (opt == 'r')
			rhost = optarg;
		else if (opt == 'y')
			tty = optarg;
		else
			return 2;
	}
	if (argc - optind < 4) {
		fprintf(stderr, "usage: pam_driver [-r RHOST] [-y TTY] CONFDIR SERVICE USER "
		    "STEPS [ANSWER...]\n");
		return 2;
	}
	steps = argv[optind + 3];
	a.v = argv + optind + 4;
	a.n = argc - optind - 4;
	if (pam_start_confdir(argv[optind + 1], argv[optind + 2], &conv, argv[optind],
	    &pamh) != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir failed\n");
		return 2;
	}
	if ((rhost != NULL && pam_set_item(pamh, PAM_RHOST, rhost) != PAM_SUCCESS) ||
	    (tty != NULL && pam_set_item(pamh, PAM_TTY, tty) != PAM_SUCCESS)) {
		pam_end(pamh, PAM_SYSTEM_ERR);
		return 2;
	}
	for (; *steps != '\0'; steps++) {
		if (*steps == 'p') {
			char line[16];

			printf("paused\n");
			fflush(stdout);
			if (fgets(line, sizeof(line), stdin) == NULL)
				break;
			continue;
		}
		rc = step(pamh, *steps);
		printf("%s=%s\n", step_name(*steps), code_name(rc));
		fflush(stdout);
		if (rc != PAM_SUCCESS) {
			status = 1;
			break;
		}
	}
	pam_end(pamh, rc);
	return status;
}
