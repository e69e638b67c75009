/*
 * The break-glass login, without PAM: pam_breakglass hands in its
 * conversation and items and maps the result to a PAM return code, so the
 * whole flow stays in common/ and the module stays a thin file.
 */
#ifndef BG_LOGIN_H
#define BG_LOGIN_H

#include <stdbool.h>

/* Signals are gathered within this total time. */
#define BG_LOGIN_SIGNALS_TIMEOUT_MS 10000

typedef struct {
	/* Asks the operator; returns a malloc()ed answer, NULL when the conversation failed. */
	char *(*prompt)(void *arg, const char *question, bool echo);
	/* Tells the operator something (PAM_TEXT_INFO). */
	void (*info)(void *arg, const char *text);
	void *arg;
	const char *user;       /* PAM_USER */
	const char *service;    /* PAM_SERVICE */
	const char *rhost;      /* PAM_RHOST, may be NULL */
	const char *tty;        /* PAM_TTY, may be NULL */
	bool debug;
} bg_login_io;

typedef enum {
	BG_LOGIN_OK,
	BG_LOGIN_IGNORE,        /* not a break-glass account */
	BG_LOGIN_AUTH_FAILED,   /* a factor failed (TOTP, approval) */
	BG_LOGIN_DENIED,        /* a policy refusal (kill switch, no emergency, no grant) */
	BG_LOGIN_ERROR,         /* configuration or system error: deny */
} bg_login_result;

/* pam_sm_authenticate: prompts, lockout, TOTP, signals, approval, grant. */
bg_login_result bg_login_authenticate(const char *config_path, const bg_login_io *io);
/* pam_sm_acct_mgmt: a valid grant and no kill switch. */
bg_login_result bg_login_account(const char *config_path, const bg_login_io *io);
/* pam_sm_open_session / pam_sm_close_session: journal; revoke on close. */
bg_login_result bg_login_session(const char *config_path, const bg_login_io *io, bool open);

#endif
