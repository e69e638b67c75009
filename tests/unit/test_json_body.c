/* Unit tests for common/json_body.c, common/names.c and common/timeparse.c's strict form. */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "json_body.h"
#include "names.h"
#include "timeparse.h"
#include "testutil.h"

#define MAX_STRING 16

static bool
accepted(const char *body)
{
	bg_error err;
	json_object *doc = bg_json_body_parse(body, strlen(body), MAX_STRING, &err);

	json_object_put(doc);
	return doc != NULL;
}

static void
test_body_accepts(void **state)
{
	(void)state;
	assert_true(accepted("{\"a\":\"b\",\"c\":[1,null,true,{\"a\":\"x\"}]}"));
	/* The same name in two objects is no duplicate; line breaks are text. */
	assert_true(accepted("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}],\"t\":\"x\\ny\\tz\"}"));
	assert_true(accepted("{\"u\":\"caf\xc3\xa9\"}"));
}

static void
test_body_refuses(void **state)
{
	static const char *const bad[] = {
		"{\"a\":1,\"a\":2}",                     /* duplicate member */
		"{\"x\":{\"a\":1,\"b\":2,\"a\":3}}",     /* nested duplicate */
		"{\"a\":1} x",                           /* trailing bytes */
		"{\"a\":1}{}",                           /* two values */
		"{\"a\":1,}",                            /* not strict JSON */
		"{'a':1}",
		"{\"a\":\"\xff\"}",                      /* not UTF-8 */
		"{\"a\":\"\\u0000\"}",                   /* NUL */
		"{\"a\":\"\xc2\x85\"}",                  /* C1 */
		"{\"a\":\"\\u202e\"}",                   /* bidi, escaped */
		"{\"a\":\"\xe2\x81\xa6\"}",              /* bidi, raw */
		"{\"a\":\"\\u001b[31m\"}",               /* C0 other than layout */
		"{\"\\u202e\":1}",                       /* in a member name */
		"{\"a\":1,\"a\\u0000x\":2}",             /* NUL in a name: json-c cuts it to "a" */
		"{\"a\\u0000\":1}",
		"{\"a\":\"0123456789abcdefX\"}",         /* over MAX_STRING */
		"[[[[[[[[[1]]]]]]]]]",                   /* deeper than BG_JSON_BODY_DEPTH */
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(accepted(bad[i]));
}

static void
test_body_nul_byte_and_counts(void **state)
{
	static const char with_nul[] = "{\"a\":1}\0{\"a\":2}";
	char big[BG_JSON_BODY_ITEMS * 4 + 16];
	size_t n = 0;
	bg_error err;

	(void)state;
	assert_null(bg_json_body_parse(with_nul, sizeof(with_nul) - 1, MAX_STRING, &err));
	/* One element over the bound. */
	big[n++] = '[';
	for (size_t i = 0; i <= BG_JSON_BODY_ITEMS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s1", i > 0 ? "," : "");
	big[n++] = ']';
	big[n] = '\0';
	assert_false(accepted(big));
}

static void
test_body_error_names_member(void **state)
{
	bg_error err;

	(void)state;
	assert_null(bg_json_body_parse("{\"operator\":\"a\",\"operator\":\"b\"}",
	    strlen("{\"operator\":\"a\",\"operator\":\"b\"}"), MAX_STRING, &err));
	assert_non_null(strstr(err.msg, "operator"));
	assert_null(bg_json_body_parse("{\"summary\":\"\\u202e\"}",
	    strlen("{\"summary\":\"\\u202e\"}"), MAX_STRING, &err));
	assert_non_null(strstr(err.msg, "summary"));
}

static void
test_names(void **state)
{
	char name[] = "Alice.B-1_x";

	(void)state;
	assert_true(bg_name_valid("bob"));
	assert_true(bg_name_valid("Bob.Smith-2_x"));
	assert_false(bg_name_valid(""));
	assert_false(bg_name_valid("-bob"));
	assert_false(bg_name_valid(".bob"));
	assert_false(bg_name_valid("bob smith"));
	assert_false(bg_name_valid("b\xc3\xb6" "b"));
	assert_false(bg_name_valid("0123456789012345678901234567890123456789012345678901234567890123x"));
	assert_true(bg_name_equal("Alice", "alice"));
	assert_true(bg_name_equal("ALICE", "aLiCe"));
	assert_false(bg_name_equal("alice", "alice2"));
	assert_false(bg_name_equal("alic", "alice"));
	assert_false(bg_name_equal("a-b", "a_b"));
	bg_name_fold(name);
	assert_string_equal(name, "alice.b-1_x");
}

static void
test_rfc3339_strict(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(bg_time_parse_rfc3339("2026-11-27T15:17:57.041Z", &t, NULL), BG_OK);
	assert_int_equal(t, 1795792677);
	assert_int_equal(bg_time_parse_rfc3339("2026-11-27T15:17:57Z", &t, NULL), BG_OK);
	assert_int_not_equal(bg_time_parse_rfc3339("2026-11-27", &t, NULL), BG_OK);
	assert_int_not_equal(bg_time_parse_rfc3339("2026-11-27T15:17:57.Z", &t, NULL), BG_OK);
	assert_int_not_equal(bg_time_parse_rfc3339(" 2026-11-27T15:17:57Z", &t, NULL), BG_OK);
	assert_int_not_equal(bg_time_parse_rfc3339("2026-11-27T15:17:57+01:00", &t, NULL),
	    BG_OK);
	assert_int_not_equal(bg_time_parse_rfc3339("20261-11-27T15:17:57Z", &t, NULL), BG_OK);
	assert_int_not_equal(bg_time_parse_rfc3339("2026-11-27T15:17:57Zx", &t, NULL), BG_OK);
	/* The date form stays for report bounds. */
	assert_int_equal(bg_time_parse_utc("2026-11-27", &t, NULL), BG_OK);
	assert_int_not_equal(bg_time_parse_utc("2026-1-277", &t, NULL), BG_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_accepts),
		cmocka_unit_test(test_body_refuses),
		cmocka_unit_test(test_body_nul_byte_and_counts),
		cmocka_unit_test(test_body_error_names_member),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rfc3339_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
