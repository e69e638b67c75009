/*
 * A sudo 1.9.13 front end in miniature: the arrays sudo passes to an
 * approval plugin's open() and check() (settings, user_info, command_info,
 * run_argv, run_envp, plugin options), for the plugin host test and the
 * demo's sudo_front.
 */
#ifndef BG_SUDO_FRONTEND_H
#define BG_SUDO_FRONTEND_H

#include <stddef.h>

#include <sudo_plugin.h>

#define FE_MAX_ENTRIES 64

/* One sudo invocation: what differs from the defaults sudo passes. */
struct fe_call {
	const char *user;              /* the invoking user */
	const char *options[4];        /* plugin options; default config=<config> */
	const char *settings[4];       /* extra settings (run_shell=true...) */
	const char *command;           /* command_info command=; default /usr/bin/true */
	const char *runas[3];          /* runas_user, runas_uid, runas_gid; default root */
	const char *info[4];           /* extra command_info entries */
	const char *argv[FE_MAX_ENTRIES];
	const char *envp[8];           /* extra run_envp entries */
	unsigned version;              /* default SUDO_API_VERSION */
};

/*
 * Runs the plugin's open, check and close for c, as sudo does around each
 * command.  Returns check's answer (1 approve, 0 refuse, -1 error), or -2
 * when open did not return 1; errstr of a refusal goes to why.
 */
int fe_run(struct approval_plugin *plugin, const struct fe_call *c, const char *config,
    sudo_conv_t conversation, sudo_printf_t printf_fn, char *why, size_t whysz);

#endif
