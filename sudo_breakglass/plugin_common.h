/*
 * What both halves of the sudo plugin do alike: read the arrays sudo passes,
 * check the API version and the plugin options, and tell the user why a
 * command is refused.
 */
#ifndef BG_PLUGIN_COMMON_H
#define BG_PLUGIN_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <sudo_plugin.h>

#include "status.h"

#define BG_PLUGIN_MESSAGE_MAX (BG_ERROR_MAX + 64)

/* The value of "name=value" in a sudo array, or NULL. */
const char *bg_plugin_lookup(char *const list[], const char *name);

/* Whether "name=true" is in a sudo array. */
bool bg_plugin_lookup_true(char *const list[], const char *name);

/* Whether this sudo speaks a plugin API the plugin was built for. */
bool bg_plugin_api_ok(unsigned int version);

/*
 * The configuration path of the plugin options ("config=/ABSOLUTE", the last
 * one wins; BG_DEFAULT_CONFIG without one).  *bad gets the first option that
 * is anything else, or NULL.
 */
const char *bg_plugin_config(char *const options[], const char **bad);

/*
 * Tells the user why through conv (sudo itself does not print errstr),
 * points *errstr at the same text without its newline, and returns 0 (the
 * refusal).  message (BG_PLUGIN_MESSAGE_MAX bytes) must outlive the call:
 * sudo reads errstr later.
 */
int bg_plugin_refuse(sudo_conv_t conv, char *message, const char *why,
    const char **errstr);

#endif
