/* What the front and the core of the sudo plugin share (plugin_common.h). */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "plugin_common.h"

/* Approval plugins appeared with plugin API 1.17 (sudo 1.9.0). */
#define MIN_API_MINOR 17
#define OPTION_CONFIG "config="
#define RULE_PREFIX "breakglass: "

const char *
bg_plugin_lookup(char *const list[], const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strncmp(list[i], name, len) == 0 && list[i][len] == '=')
			return list[i] + len + 1;
	return NULL;
}

bool
bg_plugin_lookup_true(char *const list[], const char *name)
{
	const char *v = bg_plugin_lookup(list, name);

	return v != NULL && strcmp(v, "true") == 0;
}

bool
bg_plugin_api_ok(unsigned int version)
{
	return SUDO_API_VERSION_GET_MAJOR(version) == SUDO_API_VERSION_MAJOR &&
	    SUDO_API_VERSION_GET_MINOR(version) >= MIN_API_MINOR;
}

const char *
bg_plugin_config(char *const options[], const char **bad)
{
	const char *config = BG_DEFAULT_CONFIG;

	*bad = NULL;
	for (size_t i = 0; options != NULL && options[i] != NULL; i++) {
		if (strncmp(options[i], OPTION_CONFIG, strlen(OPTION_CONFIG)) == 0 &&
		    options[i][strlen(OPTION_CONFIG)] == '/')
			config = options[i] + strlen(OPTION_CONFIG);
		else if (*bad == NULL)
			*bad = options[i];
	}
	return config;
}

int
bg_plugin_refuse(sudo_conv_t conv, char *message, const char *why, const char **errstr)
{
	struct sudo_conv_message msg = { .msg_type = SUDO_CONV_ERROR_MSG };
	struct sudo_conv_reply reply = { NULL };

	snprintf(message, BG_PLUGIN_MESSAGE_MAX, RULE_PREFIX "sudo refused: %s\n", why);
	msg.msg = message;
	if (conv != NULL)
		conv(1, &msg, &reply, NULL);
	/* errstr carries no newline. */
	message[strcspn(message, "\n")] = '\0';
	if (errstr != NULL)
		*errstr = message;
	return 0;
}
