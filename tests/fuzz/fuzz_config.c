/*
 * breakglass.conf: the input is the file's text.  A configuration that
 * parses has its derived lookups exercised, and every scope command line
 * and signal matcher it accepted must parse again for sudo and the
 * signal check, which trust the configuration check.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "scope.h"

static void
exercise(const bg_config *cfg)
{
	bg_totp_policy policy;
	char path[4096];
	bg_error err;

	(void)bg_config_is_breakglass_account(cfg, "root");
	(void)bg_config_is_breakglass_account(cfg, "bg-admin");
	(void)bg_config_journal_state_path(cfg, path, sizeof(path), &err);
	(void)bg_config_totp_policy(cfg, &policy, path, sizeof(path), &err);
	for (size_t i = 0; i < cfg->nscope; i++) {
		const bg_config_scope *s = &cfg->scope[i];

		if (bg_config_find_scope(cfg, s->meta.name) == NULL)
			fz_fail("scope %zu cannot be found by its name", i);
		for (size_t j = 0; j < s->command.count; j++) {
			bg_scope_command c;

			if (bg_scope_command_parse(s->command.items[j], &c, &err) != BG_OK)
				fz_fail("accepted scope command does not parse: %s", err.msg);
			bg_scope_command_free(&c);
		}
	}
	for (size_t i = 0; i < cfg->nsignal; i++)
		for (size_t j = 0; j < cfg->signal[i].match.count; j++) {
			bg_matcher m;

			if (bg_matcher_parse(cfg->signal[i].match.items[j], &m, &err) != BG_OK)
				fz_fail("accepted signal matcher does not parse: %s", err.msg);
			bg_matcher_free(&m);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bg_errlist errs = { 0 };
	bg_config cfg;

	if (size > BG_CONFIG_MAX_SIZE)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	if (bg_config_parse("fuzz.conf", (const char *)data, size, &cfg, &errs) == BG_OK) {
		if (errs.count != 0)
			fz_fail("a configuration that parsed has %zu errors", errs.count);
		exercise(&cfg);
		bg_config_free(&cfg);
	} else if (errs.count == 0) {
		fz_fail("a rejected configuration names no error");
	}
	bg_errlist_free(&errs);
	return 0;
}
