/* A sudo 1.9.13 front end in miniature: the arrays sudo passes to an approval plugin. */
#include "build_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

static size_t push(char **v, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends a formatted entry to the NULL-terminated v holding n; returns n + 1. */
static size_t
push(char **v, size_t n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (n + 1 >= FE_MAX_ENTRIES)
		abort();
	va_start(ap, fmt);
	rc = vasprintf(&v[n], fmt, ap);
	va_end(ap);
	if (rc < 0)
		abort();
	v[n + 1] = NULL;
	return n + 1;
}

static size_t
push_all(char **v, size_t n, const char *const *extra, size_t max)
{
	for (size_t i = 0; i < max && extra[i] != NULL; i++)
		n = push(v, n, "%s", extra[i]);
	return n;
}

static void
free_all(char **v)
{
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
}

/* As sudo 1.9.13's format_plugin_settings and get_user_info lay them out. */
static void
build_front_end(const struct fe_call *c, char **settings, char **user_info)
{
	size_t n = 0;

	n = push(settings, n, "plugin_path=%s", "sudo_breakglass.so");
	n = push_all(settings, n, c->settings, 4);
	n = push(settings, n, "progname=%s", "sudo");
	n = push(settings, n, "noninteractive=%s", "true");
	n = push(settings, n, "network_addrs=%s", "192.0.2.2/255.255.255.0");
	n = push(settings, n, "plugin_dir=%s", "/usr/libexec/sudo/");
	push(settings, n, "intercept_ptrace=%s", "true");

	n = 0;
	n = push(user_info, n, "user=%s", c->user);
	n = push(user_info, n, "pid=%s", "4242");
	n = push(user_info, n, "ppid=%s", "4241");
	n = push(user_info, n, "uid=%s", "1001");
	n = push(user_info, n, "euid=%s", "0");
	n = push(user_info, n, "gid=%s", "1001");
	n = push(user_info, n, "cwd=%s", "/var/spool/postfix");
	n = push(user_info, n, "tty=%s", "/dev/pts/3");
	n = push(user_info, n, "host=%s", "mx1");
	n = push(user_info, n, "lines=%s", "24");
	push(user_info, n, "cols=%s", "80");
}

static void
build_command(const struct fe_call *c, char **info, char **argv, char **envp)
{
	size_t n = 0;

	n = push(info, n, "command=%s", c->command != NULL ? c->command : "/usr/bin/true");
	n = push_all(info, n, c->info, 4);
	n = push(info, n, "runas_user=%s", c->runas[0] != NULL ? c->runas[0] : "root");
	n = push(info, n, "runas_uid=%s", c->runas[1] != NULL ? c->runas[1] : "0");
	n = push(info, n, "runas_gid=%s", c->runas[2] != NULL ? c->runas[2] : "0");
	n = push(info, n, "runas_groups=%s", "0");
	n = push(info, n, "closefrom=%s", "3");
	n = push(info, n, "umask=%s", "022");
	push(info, n, "use_pty=%s", "true");

	argv[0] = NULL;
	push_all(argv, 0, c->argv, FE_MAX_ENTRIES - 1);
	if (argv[0] == NULL)
		push(argv, 0, "%s", c->command != NULL ? c->command : "/usr/bin/true");

	n = 0;
	n = push(envp, n, "LANG=%s", "C.UTF-8");
	n = push(envp, n, "PATH=%s", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
	n = push(envp, n, "HOME=%s", "/root");
	n = push(envp, n, "SUDO_USER=%s", c->user);
	push_all(envp, n, c->envp, 8);
}

int
fe_run(struct approval_plugin *plugin, const struct fe_call *c, const char *config,
    sudo_conv_t conversation, sudo_printf_t printf_fn, char *why, size_t whysz)
{
	char *settings[FE_MAX_ENTRIES], *user_info[FE_MAX_ENTRIES], *info[FE_MAX_ENTRIES];
	char *argv[FE_MAX_ENTRIES], *envp[FE_MAX_ENTRIES], *options[FE_MAX_ENTRIES];
	const char *errstr = NULL;
	int rc;

	build_front_end(c, settings, user_info);
	build_command(c, info, argv, envp);
	options[0] = NULL;
	if (c->options[0] != NULL)
		push_all(options, 0, c->options, 4);
	else
		push(options, 0, "config=%s", config);
	if (plugin->open(c->version != 0 ? c->version : SUDO_API_VERSION, conversation,
	    printf_fn, settings, user_info, 2, argv, envp, options, &errstr) != 1) {
		rc = -2;
	} else {
		rc = plugin->check(info, argv, envp, &errstr);
		snprintf(why, whysz, "%s", rc == 1 || errstr == NULL ? "" : errstr);
		plugin->close();
	}
	free_all(settings); free_all(user_info); free_all(info); free_all(argv);
	free_all(envp); free_all(options);
	return rc;
}
