/* [general] accounts: its check, its matching, and a reader of it alone. */
#include "build_config.h"

#include <fnmatch.h>
#include <stddef.h>
#include <string.h>

#include "accounts.h"
#include "config.h"

bg_status
bg_account_pattern_check(const char *pattern, bg_error *err)
{
	/* A user name never holds '/'; FNM_PATHNAME then keeps globs in one name. */
	if (strchr(pattern, '/') != NULL)
		return bg_error_set(err, BG_ERR_INVALID,
		    "account pattern must not contain '/'");
	return BG_OK;
}

bool
bg_accounts_match(const bg_strlist *patterns, const char *user)
{
	if (patterns == NULL || user == NULL || *user == '\0')
		return false;
	/* FNM_PATHNAME: a wildcard never matches '/'; no case folding. */
	for (size_t i = 0; i < patterns->count; i++)
		if (fnmatch(patterns->items[i], user, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/* The one key, declared as config.c declares it. */
typedef struct {
	bg_cfg_meta meta;
	bg_strlist accounts;
} accounts_general;

typedef struct {
	accounts_general general;
} accounts_root;

static const bg_cfg_key general_keys[] = {
	{ .name = "accounts", .type = BG_CFG_WORDS, .required = true,
	  .offset = offsetof(accounts_general, accounts),
	  .check = bg_account_pattern_check },
};

static const bg_cfg_section sections[] = {
	{ .name = "general", .required = true, .keys = general_keys, .nkeys = 1,
	  .size = sizeof(accounts_general),
	  .offset = offsetof(accounts_root, general) },
};

static const bg_cfg_schema schema = { sections, 1 };

bg_status
bg_accounts_read(const char *path, bg_strlist *patterns, bg_error *err)
{
	accounts_root root;
	bg_status rc;

	memset(&root, 0, sizeof(root));
	memset(patterns, 0, sizeof(*patterns));
	rc = bg_ini_read_part(path, BG_FILE_CONFIG, BG_CONFIG_MAX_SIZE, &schema, &root,
	    err);
	if (rc != BG_OK)
		return rc;
	/* The patterns now belong to the caller; the rest holds nothing to free. */
	*patterns = root.general.accounts;
	return BG_OK;
}
