/* Unit tests for common/audit.c: the syslog line and emitting events. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "audit.h"
#include "testutil.h"

static const char MAC[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void
format(const bg_event *ev, char *out, size_t outsz)
{
	bg_error err;

	if (bg_audit_format_syslog(ev, 42, MAC, out, outsz, &err) != BG_OK)
		fail_msg("format: %s", err.msg);
}

static void
test_line_shape(void **state)
{
	char line[BG_SYSLOG_MAX_LINE + 1];
	bg_event *ev = bg_event_new("sudo.rejected", "failure");
	const char *argv[] = { "/usr/sbin/postsuper", "-d", "ALL" };

	(void)state;
	bg_event_set_identity(ev, "breakglass", "alice", "INC-7", NULL);
	bg_event_add_strv(ev, "argv", argv, 3);
	bg_event_add_str(ev, "reason", "command not in scope");
	format(ev, line, sizeof(line));
	assert_string_equal(line,
	    "event=sudo.rejected outcome=failure account=breakglass operator=alice "
	    "incident=INC-7 argv=\"[\\\"/usr/sbin/postsuper\\\",\\\"-d\\\",\\\"ALL\\\"]\" "
	    "reason=\"command not in scope\" seq=42 mac=0123456789abcdef");
	bg_event_free(ev);
}

static void
test_injection(void **state)
{
	char line[BG_SYSLOG_MAX_LINE + 1];
	bg_event *ev = bg_event_new("auth.begin", "success");

	(void)state;
	bg_event_set_identity(ev, "breakglass", "eve\nevent=sudo.accepted", NULL, NULL);
	bg_event_add_str(ev, "reason", "x\" outcome=success seq=1 mac=\"");
	format(ev, line, sizeof(line));
	assert_null(strchr(line, '\n'));
	/* The only unquoted event= starts the line; the real seq= ends it. */
	assert_null(strstr(line, " event="));
	assert_ptr_equal(strstr(line, " seq=42 "),
	    line + strlen(line) - strlen(" seq=42 mac=0123456789abcdef"));
	assert_non_null(strstr(line, "operator=\"eve\\x0aevent=sudo.accepted\""));
	assert_non_null(strstr(line, "reason=\"x\\\" outcome=success seq=1 mac=\\\"\""));
	bg_event_free(ev);
}

static void
test_truncation(void **state)
{
	char line[BG_SYSLOG_MAX_LINE + 1], big[600];
	bg_event *ev = bg_event_new("auth.begin", "success");
	size_t len;

	(void)state;
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bg_event_set_identity(ev, "breakglass", "alice", "INC-1", NULL);
	bg_event_add_str(ev, "reason", big);
	bg_event_add_str(ev, "detail", big);
	format(ev, line, sizeof(line));
	len = strlen(line);
	assert_true(len <= BG_SYSLOG_MAX_LINE);
	assert_non_null(strstr(line, "reason=rrr"));
	assert_null(strstr(line, "detail="));
	assert_true(len > strlen(" truncated=1 seq=42 mac=0123456789abcdef"));
	assert_string_equal(line + len - strlen(" truncated=1 seq=42 mac=0123456789abcdef"),
	    " truncated=1 seq=42 mac=0123456789abcdef");
	bg_event_free(ev);
}

struct capture {
	int calls;
	int priority;
	char line[BG_SYSLOG_MAX_LINE + 1];
};

static void
capture_sink(int priority, const char *line, void *arg)
{
	struct capture *c = arg;

	c->calls++;
	c->priority = priority;
	snprintf(c->line, sizeof(c->line), "%s", line);
}

static void
test_emit(void **state)
{
	char *dir = tu_mkdtemp();
	struct capture cap = { 0 };
	unsigned char k1[BG_SHA256_LEN];
	bg_audit a = { 0 };
	bg_event *ev = bg_event_new("grant.issued", "success");
	bg_error err;

	(void)state;
	a.journal.path = tu_path(dir, "journal.jsonl");
	a.journal.state_path = tu_path(dir, "journal.state");
	a.journal.host = "mx1";
	a.sink = capture_sink;
	a.sink_arg = &cap;
	/* No key state: nothing is recorded, the caller is told, syslog says so. */
	assert_int_equal(bg_audit_emit(&a, ev, &err), BG_ERR_NOTFOUND);
	assert_int_equal(cap.calls, 1);
	assert_int_equal(cap.priority, LOG_ERR);
	assert_non_null(strstr(cap.line, "journal=failed"));

	assert_int_equal(bg_journal_init(&a.journal, k1, &err), BG_OK);
	assert_int_equal(bg_audit_emit(&a, ev, &err), BG_OK);
	assert_int_equal(cap.calls, 2);
	assert_int_equal(cap.priority, LOG_NOTICE);
	assert_non_null(strstr(cap.line, "event=grant.issued outcome=success"));
	assert_non_null(strstr(cap.line, " seq=1 mac="));
	assert_int_equal(strlen(strstr(cap.line, "mac=")), 4 + 16);
	bg_event_free(ev);
	tu_rmtree(dir);
	free((char *)a.journal.path);
	free((char *)a.journal.state_path);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_shape),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_emit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
