/*
 * Which users are break-glass accounts: [general] accounts, a list of glob
 * patterns.  Apart from config.c so that the sudo plugin's front can decide
 * "not ours" with the C library alone, by the same rules as the full parser.
 */
#ifndef BG_ACCOUNTS_H
#define BG_ACCOUNTS_H

#include <stdbool.h>

#include "ini.h"
#include "status.h"

/* The check of one pattern of [general] accounts (a bg_cfg_key check). */
bg_status bg_account_pattern_check(const char *pattern, bg_error *err);

/* Whether user matches one of patterns. */
bool bg_accounts_match(const bg_strlist *patterns, const char *user);

/*
 * Reads [general] accounts alone from the configuration file at path, with
 * the checks of bg_config_load (owner, mode, no symbolic link, size) and its
 * grammar; other sections and keys are skipped, not validated.  Any problem,
 * the key missing included, is an error: the caller cannot tell who is a
 * break-glass account and must defer to the full parser.  The caller frees
 * *patterns with bg_strlist_free.
 */
bg_status bg_accounts_read(const char *path, bg_strlist *patterns, bg_error *err);

#endif
