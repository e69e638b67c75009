/*
 * sudo_breakglass: the front of the sudo approval plugin, the file
 * /etc/sudo.conf names.  sudo loads it into every sudo process of every user,
 * so it needs the C library alone and decides one thing: whether the
 * invoking user is a break-glass account, from [general] accounts of the
 * configuration, read with the checks and the grammar of the full parser.
 *
 * Not one: check() approves at once.  One, or anything that prevents telling
 * (an unsafe or unreadable file, a syntax error, no accounts key, a bad
 * plugin option or API version): the core, sudo_breakglass_core.so beside
 * this file, decides exactly as strictly as the plugin always has (an
 * invalid configuration refuses everyone it is asked about).  A core that
 * cannot be loaded refuses too: fail closed.
 *
 * open() always returns 1: returning 0 would unload the plugin and let every
 * command through.
 */
#include "build_config.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <sudo_plugin.h>

#include "accounts.h"
#include "buf.h"
#include "command_path.h"
#include "escape.h"
#include "logsink.h"
#include "plugin_common.h"
#include "status.h"

#define CORE_FILE "sudo_breakglass_core.so"
#define CORE_SYMBOL "sudo_breakglass_core"
/* The syslog line cap of common/audit.h, which the front cannot include. */
#define LOG_LINE_MAX 960
#define USER_MAX 256

extern struct approval_plugin sudo_breakglass;

static struct {
	sudo_conv_t conv;
	sudo_printf_t print;
	bool not_ours;                 /* not a break-glass account: approve */
	struct approval_plugin *core;  /* opened for this command */
	bg_error problem;              /* why the core is not there */
	char user[USER_MAX];           /* for the log line only */
	char message[BG_PLUGIN_MESSAGE_MAX];   /* errstr points here */
} st;

/*
 * Loaded once per process and never unloaded: under intercept sudo calls
 * open and close around every command, and libcrypto stays loaded anyway.
 */
static struct approval_plugin *core_plugin;

static bg_status
load_core(bg_error *err)
{
	char path[PATH_MAX], trusted[PATH_MAX];
	struct approval_plugin *core;
	const char *slash;
	Dl_info self;
	void *handle;

	if (core_plugin != NULL)
		return BG_OK;
	/* Beside the front, as sudo found it: never from the environment (setuid). */
	if (dladdr(&sudo_breakglass, &self) == 0 || self.dli_fname == NULL ||
	    (slash = strrchr(self.dli_fname, '/')) == NULL)
		return bg_error_set(err, BG_ERR_IO, "cannot locate the plugin's own file");
	if ((size_t)snprintf(path, sizeof(path), "%.*s/" CORE_FILE,
	    (int)(slash - self.dli_fname), self.dli_fname) >= sizeof(path))
		return bg_error_set(err, BG_ERR_INVALID, "plugin path too long");
	/* It runs as root inside sudo: only root may have placed it there. */
	if (bg_command_path_check(path, trusted, sizeof(trusted), err) != BG_OK) {
		bg_error_prefix(err, "cannot load the plugin core");
		return BG_ERR_PERM;
	}
	handle = dlopen(trusted, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		return bg_error_set(err, BG_ERR_IO, "cannot load the plugin core: %s",
		    dlerror());
	core = dlsym(handle, CORE_SYMBOL);
	if (core == NULL || core->type != SUDO_APPROVAL_PLUGIN ||
	    core->version != SUDO_API_VERSION) {
		dlclose(handle);
		return bg_error_set(err, BG_ERR_INVALID,
		    "cannot load the plugin core: %s is not this plugin's core", trusted);
	}
	core_plugin = core;
	return BG_OK;
}

/* A refusal without the core (and so without its journal): syslog only. */
static void
log_refusal(const char *why)
{
	bg_buf line;

	bg_buf_init(&line, LOG_LINE_MAX);
	bg_buf_puts(&line, "event=sudo.rejected outcome=error account=");
	bg_escape_kv_value(&line, st.user);
	bg_buf_puts(&line, " reason=");
	bg_escape_kv_value(&line, why);
	/* A cut line still says enough: the refusal itself is never skipped. */
	bg_syslog_as("breakglass", LOG_AUTHPRIV, LOG_ERR, line.data != NULL ? line.data :
	    "event=sudo.rejected outcome=error");
	bg_buf_free(&line);
}

/* Whether the configuration says for sure that user is not a break-glass account. */
static bool
surely_not_ours(unsigned int version, const char *user, char *const options[])
{
	const char *config, *bad;
	bg_strlist accounts;
	bg_error err;
	bool ours;

	config = bg_plugin_config(options, &bad);
	if (!bg_plugin_api_ok(version) || bad != NULL || user == NULL ||
	    bg_accounts_read(config, &accounts, &err) != BG_OK)
		return false;
	ours = bg_accounts_match(&accounts, user);
	bg_strlist_free(&accounts);
	return !ours;
}

static int
front_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t plugin_printf,
    char *const settings[], char *const user_info[], int submit_optind,
    char *const submit_argv[], char *const submit_envp[], char *const plugin_options[],
    const char **errstr)
{
	const char *user = bg_plugin_lookup(user_info, "user");

	memset(&st, 0, sizeof(st));
	st.conv = conversation;
	st.print = plugin_printf;
	snprintf(st.user, sizeof(st.user), "%s", user != NULL ? user : "");
	if (surely_not_ours(version, user, plugin_options)) {
		st.not_ours = true;
		return 1;
	}
	if (load_core(&st.problem) != BG_OK)
		return 1;
	/* The core always answers 1; anything else is a core it cannot trust. */
	if (core_plugin->open(version, conversation, plugin_printf, settings, user_info,
	    submit_optind, submit_argv, submit_envp, plugin_options, errstr) != 1) {
		core_plugin->close();
		bg_error_set(&st.problem, BG_ERR_INVALID, "the plugin core failed to open");
		return 1;
	}
	st.core = core_plugin;
	return 1;
}

static void
front_close(void)
{
	if (st.core != NULL)
		st.core->close();
	memset(&st, 0, sizeof(st));
}

static int
front_check(char *const command_info[], char *const run_argv[], char *const run_envp[],
    const char **errstr)
{
	if (st.not_ours)
		return 1;
	if (st.core != NULL)
		return st.core->check(command_info, run_argv, run_envp, errstr);
	log_refusal(st.problem.msg);
	return bg_plugin_refuse(st.conv, st.message, st.problem.msg, errstr);
}

static int
front_show_version(int verbose)
{
	if (st.print != NULL)
		st.print(SUDO_CONV_INFO_MSG, "sudo_breakglass approval plugin version %s\n",
		    PACKAGE_VERSION);
	return 1;
}

__attribute__((visibility("default"))) struct approval_plugin sudo_breakglass = {
	.type = SUDO_APPROVAL_PLUGIN,
	.version = SUDO_API_VERSION,
	.open = front_open,
	.close = front_close,
	.check = front_check,
	.show_version = front_show_version,
};
