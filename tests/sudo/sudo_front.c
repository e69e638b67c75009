/*
 * sudo_front: asks the sudo_breakglass plugin about one command, the way
 * sudo would, without /etc/sudo.conf (for the demo, which changes nothing
 * under /etc).
 *
 *   sudo_front PLUGIN.so CONFIG USER [-u RUNAS] [-e VAR=VALUE] -- COMMAND [ARG...]
 *
 * COMMAND must be an absolute path (sudo resolves it before the plugin sees
 * it).  Prints "accepted" or "refused: REASON"; exit 0 accepted, 1 refused,
 * 2 error.  It only asks: nothing is run.
 */
#include "build_config.h"

#include <dlfcn.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend.h"

#define WHY_MAX 1024
#define ID_MAX 16

static int
conversation(int n, const struct sudo_conv_message msgs[], struct sudo_conv_reply replies[],
    struct sudo_conv_callback *callback)
{
	(void)replies;
	(void)callback;
	for (int i = 0; i < n; i++)
		fprintf(stderr, "sudo: %s", msgs[i].msg);
	return 0;
}

static int
front_printf(int type, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)type;
	va_start(ap, fmt);
	n = vfprintf(stderr, fmt, ap);
	va_end(ap);
	return n;
}

static int
usage(void)
{
	fprintf(stderr, "usage: sudo_front PLUGIN.so CONFIG USER [-u RUNAS] [-e VAR=VALUE] "
	    "-- COMMAND [ARG...]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct fe_call c;
	char why[WHY_MAX], uid[ID_MAX], gid[ID_MAX];
	struct approval_plugin *plugin;
	struct passwd *pw;
	size_t nenv = 0;
	void *handle;
	int opt, rc;

	memset(&c, 0, sizeof(c));
	if (argc < 6)
		return usage();
	c.user = argv[3];
	c.runas[0] = "root";
	optind = 4;
	while ((opt = getopt(argc, argv, "u:e:")) != -1) {
		if (opt == 'u')
			c.runas[0] = optarg;
		else if (opt == 'e' && nenv < sizeof(c.envp) / sizeof(c.envp[0]) - 1)
			c.envp[nenv++] = optarg;
		else
			return usage();
	}
	if (optind >= argc || argv[optind][0] != '/' ||
	    argc - optind >= FE_MAX_ENTRIES - 1)
		return usage();
	pw = getpwnam(c.runas[0]);
	if (pw == NULL) {
		fprintf(stderr, "sudo_front: unknown user %s\n", c.runas[0]);
		return 2;
	}
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)pw->pw_uid);
	snprintf(gid, sizeof(gid), "%lu", (unsigned long)pw->pw_gid);
	c.runas[1] = uid;
	c.runas[2] = gid;
	c.command = argv[optind];
	for (int i = optind; i < argc; i++)
		c.argv[i - optind] = argv[i];

	handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	plugin = handle != NULL ? dlsym(handle, "sudo_breakglass") : NULL;
	if (plugin == NULL) {
		fprintf(stderr, "sudo_front: %s\n", dlerror());
		return 2;
	}
	rc = fe_run(plugin, &c, argv[2], conversation, front_printf, why, sizeof(why));
	dlclose(handle);
	if (rc == 1) {
		printf("accepted\n");
		return 0;
	}
	if (rc == 0) {
		printf("refused: %s\n", why);
		return 1;
	}
	fprintf(stderr, "sudo_front: the plugin failed (%d)\n", rc);
	return 2;
}
