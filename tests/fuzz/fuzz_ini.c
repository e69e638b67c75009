/*
 * The INI engine with sectionless schemas, through the files that use
 * them: the input is written as an operator's TOTP secret file and as a
 * journal key state file (both 0600, in the scratch directory).
 */
#include "build_config.h"

#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "journal.h"
#include "totp.h"

#define SECRET_FILE "operator"
#define STATE_FILE "journal.state"
/* A fixed time, so a parsed secret's code check is deterministic. */
#define FIXED_NOW 1790000000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX];
	bg_journal_state st;
	bg_totp_secret s;
	uint64_t step;
	bg_error err;

	fz_write(SECRET_FILE, data, size, 0600);
	fz_path(SECRET_FILE, path);
	if (bg_totp_secret_load(path, &s, &err) == BG_OK) {
		if (s.secret_len == 0 || s.secret_len > sizeof(s.secret))
			fz_fail("secret length %zu out of range", s.secret_len);
		(void)bg_totp_check(&s, "123456", FIXED_NOW, 1, &step, &err);
		bg_totp_secret_clear(&s);
	}

	fz_write(STATE_FILE, data, size, 0600);
	fz_path(STATE_FILE, path);
	(void)bg_journal_state_read(path, &st, &err);
	return 0;
}
