/*
 * noop_approval: an approval plugin that approves everything and does
 * nothing else: the floor against which bench/sudo_overhead.sh measures
 * sudo_breakglass for users who are not break-glass accounts.
 */
#include <sudo_plugin.h>

static int
noop_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t plugin_printf,
    char *const settings[], char *const user_info[], int submit_optind,
    char *const submit_argv[], char *const submit_envp[], char *const plugin_options[],
    const char **errstr)
{
	return 1;
}

static void
noop_close(void)
{
}

static int
noop_check(char *const command_info[], char *const run_argv[], char *const run_envp[],
    const char **errstr)
{
	return 1;
}

__attribute__((visibility("default"))) struct approval_plugin noop_approval = {
	.type = SUDO_APPROVAL_PLUGIN,
	.version = SUDO_API_VERSION,
	.open = noop_open,
	.close = noop_close,
	.check = noop_check,
};
