/*
 * The journal verifier: the input is written as a journal file and
 * verified without a key, with a fixed K_1 and with K_1 and a key state;
 * then split at a line near its middle into two rotated files.  The seed
 * corpus is a chain written by `breakglass journal init` and `note` whose
 * K_1 and final state are the fixed ones below, so its macs check.  Each
 * line is also read by the grammar's fast path and by yajl alone, which
 * must agree.
 */
#include "build_config.h"

#include <limits.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "grammar_diff.h"
#include "journal.h"

static const char k1_hex[] =
    "9b33309fc86cbffe19742d383569e95462a1dad79d6d8f930f3396fb452bb527";
static const char state_text[] =
    "seq = 3\n"
    "key = c83636bcc0c528f2dfc0c36035cc178908d375b2e3a65c721c6a96bdf36e76e3\n"
    "prev = 4cb75b0b7f3949bf931bed725fbac721bf1e2d42ec7071f596d92165bd7d4f9a\n";

static unsigned char k1[BG_SHA256_LEN];
static bg_journal_state state;
static char whole[PATH_MAX], head[PATH_MAX], tail[PATH_MAX];

static void
setup(void)
{
	char path[PATH_MAX];
	bg_error err;

	if (whole[0] != '\0')
		return;
	fz_write("journal.state", state_text, strlen(state_text), 0600);
	fz_path("journal.state", path);
	if (bg_hex_decode(k1_hex, k1, sizeof(k1), &err) != BG_OK ||
	    bg_journal_state_read(path, &state, &err) != BG_OK)
		fz_fail("setup: %s", err.msg);
	fz_path("journal.jsonl", whole);
	fz_path("journal.jsonl.1", head);
	fz_path("journal.jsonl.2", tail);
}

static void
verify(const char *const *files, size_t n)
{
	bg_verify_result res;

	if (bg_journal_verify(files, n, NULL, NULL, &res) != BG_OK && res.reason[0] == '\0')
		fz_fail("a refused journal gives no reason");
	(void)bg_journal_verify(files, n, k1, NULL, &res);
	(void)bg_journal_verify(files, n, k1, &state, &res);
	/* Adopting without a key: with one, a huge first seq means that many evolutions. */
	(void)bg_journal_verify_from(files, n, NULL, NULL, true, &res);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *one[] = { whole }, *two[] = { head, tail };
	const uint8_t *cut;
	size_t split;

	setup();
	for (const uint8_t *p = data, *end = data + size; p < end; ) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		char why[4096];

		if (!gd_same((const char *)p, len, why, sizeof(why)))
			fz_fail("the grammar's fast path and yajl disagree: %s", why);
		p += len;
	}
	fz_write("journal.jsonl", data, size, 0600);
	verify(one, 1);

	cut = memchr(data + size / 2, '\n', size - size / 2);
	split = cut != NULL ? (size_t)(cut - data) + 1 : size;
	fz_write("journal.jsonl.1", data, split, 0600);
	fz_write("journal.jsonl.2", data + split, size - split, 0600);
	verify(two, 2);
	return 0;
}
