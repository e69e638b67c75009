/* Tests of common/signals.c against tests/signals/mock_monitor.py on loopback. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "signals.h"
#include "testutil.h"

#define TIMEOUT_MS 10000
#define SHORT_TIMEOUT_MS 1500

static const char conf_head[] =
	"[general]\naccounts = breakglass\n"
	"[totp]\noperators_dir = /etc/breakglass/operators\n"
	"[approval]\nurl = https://approvals.example.net/v1\nhost_id = mx1.example.net\n"
	"host_key = /etc/breakglass/host.key\nservice_key = /etc/breakglass/approvald.pub\n"
	"approvers = bob carol\n"
	"[scope mail-queue]\ncommand = /usr/sbin/postqueue -p\nrunas = root\n";
/* For sources whose test does not care which alerts match. */
static const char match_any[] = "match = alertname=~\".*\"";

struct fixture {
	char *dir;
	pid_t pid;
	int in_fd;
	int port;
	bg_config cfg;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_mkdtemp();
	f->port = tu_server_start(BG_TEST_SRCDIR "/signals/mock_monitor.py", NULL, &f->pid,
	    &f->in_fd);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	bg_config_free(&f->cfg);
	tu_server_stop(f->pid, f->in_fd);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* One source: "NAME TYPE MODE [extra lines]" with the mock's URL filled in. */
struct src {
	const char *name;
	const char *type;
	const char *mode;
	const char *extra;
};

static void
configure(struct fixture *f, unsigned required, const struct src *srcs, size_t n)
{
	char text[8192];
	bg_errlist errs = { 0 };
	size_t used, i;

	used = (size_t)snprintf(text, sizeof(text), "%s[signals]\nrequired = %u\n", conf_head,
	    required);
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		    "[signal %s]\ntype = %s\nurl = http://127.0.0.1:%d/%s\n%s\n", srcs[i].name,
		    srcs[i].type, f->port, srcs[i].mode, srcs[i].extra ? srcs[i].extra : match_any);
	assert_true(used < sizeof(text));
	bg_config_free(&f->cfg);
	if (bg_config_parse("test.conf", text, used, &f->cfg, &errs) != BG_OK)
		fail_msg("config: %s", errs.count ? errs.msgs[0] : "?");
}

#define AM_MATCH "match = alertname=~\"OutboundSpamSpike|MailQueueBacklog\"\n" \
	"match = instance=~\"mx1.*\""
#define PROM_MATCH "match = alertname=\"MailQueueBacklog\"\nmatch = severity != \"info\""
#define HTTP_MATCH "pointer = /outbound/listed\nequals = true"

static bg_status
check(struct fixture *f, unsigned long timeout_ms, bg_signals_result *res)
{
	bg_error err;

	return bg_signals_check(&f->cfg, timeout_ms, res, &err);
}

static const char *
firing_field(const bg_signals_result *res, size_t i, const char *key)
{
	json_object *o = json_object_array_get_idx(res->firing, i), *v;

	assert_non_null(o);
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static void
test_two_firing_proceed(void **state)
{
	const struct src s[] = {
		{ "am", "alertmanager", "am-firing", AM_MATCH },
		{ "prom", "prometheus", "prom-firing", PROM_MATCH },
		{ "rbl", "http", "http-quiet", HTTP_MATCH },
	};
	bg_signals_result res;

	configure(*state, 2, s, 3);
	assert_int_equal(check(*state, TIMEOUT_MS, &res), BG_OK);
	assert_int_equal(res.firing_sources, 2);
	assert_int_equal(json_object_array_length(res.firing), 2);
	assert_string_equal(firing_field(&res, 0, "source"), "am");
	assert_string_equal(firing_field(&res, 0, "id"), "f00d");
	assert_string_equal(firing_field(&res, 0, "summary"), "Outbound spam spike");
	assert_string_equal(firing_field(&res, 0, "since"), "2026-11-27T10:00:00Z");
	assert_string_equal(firing_field(&res, 1, "source"), "prom");
	assert_string_equal(firing_field(&res, 1, "id"), "MailQueueBacklog");
	assert_int_equal(json_object_array_length(res.errors), 0);
	bg_signals_result_free(&res);
}

static void
test_one_firing_refused(void **state)
{
	const struct src s[] = {
		{ "am", "alertmanager", "am-quiet", AM_MATCH },
		{ "prom", "prometheus", "prom-quiet", PROM_MATCH },
		{ "rbl", "http", "http-firing", HTTP_MATCH },
	};
	bg_signals_result res;

	configure(*state, 2, s, 3);
	assert_int_equal(check(*state, TIMEOUT_MS, &res), BG_ERR_DENIED);
	assert_int_equal(res.firing_sources, 1);
	assert_string_equal(firing_field(&res, 0, "source"), "rbl");
	assert_string_equal(firing_field(&res, 0, "id"), "/outbound/listed");
	bg_signals_result_free(&res);
}

/* An alert per source is enough; several alerts of one source count once. */
static void
test_same_source_counts_once(void **state)
{
	const struct src s[] = {
		{ "am1", "alertmanager", "am-firing", AM_MATCH },
		{ "am2", "alertmanager", "am-quiet", AM_MATCH },
	};
	bg_signals_result res;

	configure(*state, 2, s, 2);
	assert_int_equal(check(*state, TIMEOUT_MS, &res), BG_ERR_DENIED);
	assert_int_equal(res.firing_sources, 1);
	bg_signals_result_free(&res);
	configure(*state, 1, s, 2);
	assert_int_equal(check(*state, TIMEOUT_MS, &res), BG_OK);
	bg_signals_result_free(&res);
}

static const char *
error_of(const bg_signals_result *res, const char *source)
{
	size_t i;

	for (i = 0; i < json_object_array_length(res->errors); i++) {
		json_object *o = json_object_array_get_idx(res->errors, i), *v;

		json_object_object_get_ex(o, "source", &v);
		if (strcmp(json_object_get_string(v), source) == 0) {
			json_object_object_get_ex(o, "error", &v);
			return json_object_get_string(v);
		}
	}
	return NULL;
}

/* Errors count as not firing, and each is named. */
static void
test_errors_not_firing(void **state)
{
	const struct src s[] = {
		{ "e500", "prometheus", "error500", NULL },
		{ "bad", "prometheus", "malformed", NULL },
		{ "big", "alertmanager", "oversized", NULL },
		{ "moved", "alertmanager", "redirect", NULL },
		{ "gone", "prometheus", "x", NULL },
		{ "wrongshape", "prometheus", "am-firing", NULL },
	};
	bg_signals_result res;

	configure(*state, 1, s, 6);
	assert_int_equal(check(*state, TIMEOUT_MS, &res), BG_ERR_DENIED);
	assert_int_equal(res.firing_sources, 0);
	assert_string_equal(error_of(&res, "e500"), "http-status 500");
	assert_string_equal(error_of(&res, "bad"), "malformed");
	assert_string_equal(error_of(&res, "big"), "too-large");
	assert_string_equal(error_of(&res, "moved"), "http-status 302");
	assert_string_equal(error_of(&res, "gone"), "http-status 404");
	assert_string_equal(error_of(&res, "wrongshape"), "malformed");
	bg_signals_result_free(&res);
}

/* A hanging source is cut off at the deadline while the others still count. */
static void
test_deadline(void **state)
{
	const struct src s[] = {
		{ "slow", "prometheus", "hang", NULL },
		{ "am", "alertmanager", "am-firing", AM_MATCH },
		{ "prom", "prometheus", "prom-firing", PROM_MATCH },
	};
	bg_signals_result res;

	configure(*state, 2, s, 3);
	assert_int_equal(check(*state, SHORT_TIMEOUT_MS, &res), BG_OK);
	assert_int_equal(res.firing_sources, 2);
	assert_string_equal(error_of(&res, "slow"), "timeout");
	bg_signals_result_free(&res);
}

static void
test_bearer_token(void **state)
{
	struct fixture *f = *state;
	char extra[512], *tok;
	bg_signals_result res;
	struct src s[] = {
		{ "prom", "prometheus", "auth-prom", extra },
		{ "rbl", "http", "http-firing", HTTP_MATCH },
	};

	tok = tu_write(f->dir, "token", 0600, "s3cret-token\n");
	snprintf(extra, sizeof(extra), "%s\nbearer_token_file = %s", match_any, tok);
	configure(f, 2, s, 2);
	assert_int_equal(check(f, TIMEOUT_MS, &res), BG_OK);
	bg_signals_result_free(&res);
	/* A token file others can read is refused; the source is then an error. */
	chmod(tok, 0644);
	assert_int_equal(check(f, TIMEOUT_MS, &res), BG_ERR_DENIED);
	assert_non_null(error_of(&res, "prom"));
	bg_signals_result_free(&res);
	free(tok);
}

static void
test_http_equals(void **state)
{
	const struct src s[] = {
		{ "str", "http", "http-firing", "pointer = /outbound/lists/0\nequals = zen" },
		{ "json", "http", "http-firing", "pointer = /outbound/lists\nequals = [\"zen\"]" },
		{ "num", "http", "http-firing", "pointer = /outbound/listed\nequals = 1" },
		{ "missing", "http", "http-firing", "pointer = /nope\nequals = true" },
	};
	bg_signals_result res;

	configure(*state, 2, s, 4);
	assert_int_equal(check(*state, TIMEOUT_MS, &res), BG_OK);
	assert_int_equal(res.firing_sources, 2);
	assert_string_equal(firing_field(&res, 0, "source"), "str");
	assert_string_equal(firing_field(&res, 1, "source"), "json");
	bg_signals_result_free(&res);
}

static void
test_disabled(void **state)
{
	const struct src s[] = { { "slow", "prometheus", "hang", NULL } };
	bg_signals_result res;

	configure(*state, 0, s, 1);
	assert_int_equal(check(*state, TIMEOUT_MS, &res), BG_OK);
	assert_int_equal(res.sources, 0);
	bg_signals_result_free(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_firing_proceed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_firing_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_source_counts_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_not_firing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bearer_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_equals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
