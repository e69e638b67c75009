/*
 * A sudo front end in miniature: dlopens sudo_breakglass.so and drives its
 * open/check/close with the arrays sudo 1.9.13 really passes (settings,
 * user_info, command_info, run_argv, run_envp), covering every decision rule.
 * The plugin path comes from $SUDO_BREAKGLASS_SO or the build tree.
 */
#include "build_config.h"

#include <dlfcn.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sudo_plugin.h>

#include "config.h"
#include "grant.h"
#include "journal.h"
#include "killswitch.h"
#include "../unit/testutil.h"
#include "frontend.h"

#define OUTPUT_MAX 4096
#define ACCOUNT "bg-op"
#define GRANT_LIFETIME 600

struct fixture {
	char *dir;
	char *conf;
	char *run;
	char *journal;
	char *state;
	char *kill_switch;
	char *priv;
	char *pub;
	char *edit_dir;
	unsigned char k1[BG_SHA256_LEN];
	void *handle;
	struct approval_plugin *plugin;
	unsigned records;      /* journal records expected so far */
};

/* What the plugin said through the conversation and printf functions. */
static char output[OUTPUT_MAX];

static int
conversation(int n, const struct sudo_conv_message msgs[], struct sudo_conv_reply replies[],
    struct sudo_conv_callback *callback)
{
	(void)replies;
	(void)callback;
	for (int i = 0; i < n; i++) {
		assert_int_equal(msgs[i].msg_type, SUDO_CONV_ERROR_MSG);
		strncat(output, msgs[i].msg, sizeof(output) - strlen(output) - 1);
	}
	return 0;
}

static int
plugin_printf(int type, const char *fmt, ...)
{
	size_t used = strlen(output);
	va_list ap;
	int n;

	(void)type;
	va_start(ap, fmt);
	n = vsnprintf(output + used, sizeof(output) - used, fmt, ap);
	va_end(ap);
	return n;
}

static char *
plugin_path(void)
{
	const char *env = getenv("SUDO_BREAKGLASS_SO");
	char *p;

	if (env != NULL && *env != '\0')
		return strdup(env);
	if (asprintf(&p, "%s/sudo_breakglass/.libs/sudo_breakglass.so", BG_TOP_BUILDDIR) < 0)
		abort();
	return p;
}

static void
write_config(struct fixture *f)
{
	char *text;

	if (asprintf(&text,
	    "[general]\n"
	    "accounts = breakglass bg-*\n"
	    "state_dir = %s/state\n"
	    "run_dir = %s\n"
	    "kill_switch = %s\n"
	    "journal = %s\n"
	    "[totp]\n"
	    "operators_dir = %s\n"
	    "[approval]\n"
	    "url = http://127.0.0.1:1/v1\n"
	    "host_id = mx1.example.net\n"
	    "host_key = %s/host.key\n"
	    "service_key = %s\n"
	    "approvers = bob carol dave\n"
	    "quorum = 2\n"
	    "[signals]\n"
	    "required = 0\n"
	    "[scope ops]\n"
	    "command = /usr/bin/true **\n"
	    "command = /usr/bin/id -u\n"
	    "command = /usr/bin/printf \"%%s x\" *\n"
	    "command = /usr/bin/echo \\* [a-c]\n"
	    "edit = %s/*.conf\n"
	    "[scope as-nobody]\n"
	    "command = /usr/bin/id\n"
	    "runas = nobody\n",
	    f->dir, f->run, f->kill_switch, f->journal, f->dir, f->dir, f->pub,
	    f->edit_dir) < 0)
		abort();
	f->conf = tu_write(f->dir, "breakglass.conf", 0644, text);
	free(text);
}

static void
write_grant(struct fixture *f, const char *account, const char *scope, time_t issued,
    time_t expires)
{
	bg_grant g;
	bg_error err;

	tu_grant_make(&g, account, scope, issued, expires, f->priv);
	if (bg_grant_write(f->run, &g, &err) != BG_OK)
		fail_msg("grant: %s", err.msg);
	bg_grant_free(&g);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *path = plugin_path(), *sub;
	bg_journal j = { 0 };
	bg_error err;

	f->dir = tu_mkdtemp();
	chmod(f->dir, 0755);
	f->run = tu_path(f->dir, "run");
	f->journal = tu_path(f->dir, "journal.jsonl");
	f->kill_switch = tu_path(f->dir, "kill-switch");
	f->edit_dir = tu_path(f->dir, "edit");
	sub = tu_path(f->dir, "state");
	if (mkdir(f->run, 0755) != 0 || mkdir(f->edit_dir, 0755) != 0 || mkdir(sub, 0700) != 0)
		return -1;
	free(sub);
	tu_make_ed25519(f->dir, "service", &f->priv, &f->pub);
	write_config(f);
	if (asprintf(&f->state, "%s/state/journal.state", f->dir) < 0)
		return -1;
	j.path = f->journal;
	j.state_path = f->state;
	j.host = "mx1.example.net";
	if (bg_journal_init(&j, f->k1, &err) != BG_OK) {
		fprintf(stderr, "journal init: %s\n", err.msg);
		return -1;
	}
	write_grant(f, ACCOUNT, "ops", time(NULL) - 10, time(NULL) + GRANT_LIFETIME);

	f->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (f->handle == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	free(path);
	f->plugin = dlsym(f->handle, "sudo_breakglass");
	if (f->plugin == NULL || f->plugin->type != SUDO_APPROVAL_PLUGIN ||
	    SUDO_API_VERSION_GET_MAJOR(f->plugin->version) != SUDO_API_VERSION_MAJOR)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->journal };
	bg_journal_state js;
	bg_verify_result res;
	bg_error err;
	int rc = 0;

	/* Whatever the tests did, the journal they leave verifies. */
	if (f->records == 0) {
		if (access(f->journal, F_OK) == 0) {
			fprintf(stderr, "journal: records where none were expected\n");
			rc = -1;
		}
	} else if (bg_journal_state_read(f->state, &js, &err) != BG_OK ||
	    bg_journal_verify(files, 1, f->k1, &js, &res) != BG_OK ||
	    res.records != f->records) {
		fprintf(stderr, "journal: %s line %lu: %s (%llu records, want %u)\n",
		    res.file, res.line, res.reason, res.records, f->records);
		rc = -1;
	}
	dlclose(f->handle);
	tu_rmtree(f->dir);
	free(f->dir); free(f->conf); free(f->run); free(f->journal); free(f->state);
	free(f->kill_switch); free(f->priv); free(f->pub); free(f->edit_dir);
	free(f);
	return rc;
}

/* Runs open/check/close as sudo does; returns check's answer, errstr in why. */
static int
run(struct fixture *f, const struct fe_call *c, char *why, size_t whysz)
{
	struct fe_call call = *c;
	int rc;

	output[0] = '\0';
	if (call.user == NULL)
		call.user = ACCOUNT;
	rc = fe_run(f->plugin, &call, f->conf, conversation, plugin_printf, why, whysz);
	assert_int_not_equal(rc, -2);
	return rc;
}

/* The journal's last record, parsed. */
static json_object *
last_record(struct fixture *f)
{
	char *text = tu_read(f->journal, NULL), *line;
	json_object *rec;
	size_t len;

	assert_non_null(text);
	len = strlen(text);
	assert_true(len > 0);
	text[len - 1] = '\0';
	line = strrchr(text, '\n');
	rec = json_tokener_parse(line != NULL ? line + 1 : text);
	free(text);
	assert_non_null(rec);
	return rec;
}

static const char *
member(json_object *rec, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static void
expect_accepted(struct fixture *f, const struct fe_call *c)
{
	char why[BG_ERROR_MAX + 64];
	json_object *rec;

	if (run(f, c, why, sizeof(why)) != 1)
		fail_msg("refused: %s", why);
	assert_string_equal(output, "");
	f->records++;
	rec = last_record(f);
	assert_string_equal(member(rec, "event"), "sudo.accepted");
	assert_string_equal(member(rec, "outcome"), "success");
	assert_string_equal(member(rec, "account"), c->user != NULL ? c->user : ACCOUNT);
	assert_string_equal(member(rec, "operator"), "alice");
	assert_string_equal(member(rec, "incident"), "INC-42");
	assert_string_equal(member(rec, "request_id"), "req-1");
	assert_string_equal(member(rec, "cwd"), "/var/spool/postfix");
	assert_string_equal(member(rec, "tty"), "/dev/pts/3");
	assert_non_null(member(rec, "runas"));
	assert_non_null(member(rec, "argv"));
	json_object_put(rec);
}

/* Expects a refusal whose message (to the user and in the journal) holds want. */
static void
expect_refused(struct fixture *f, const struct fe_call *c, const char *want)
{
	char why[BG_ERROR_MAX + 64];
	json_object *rec;

	assert_int_equal(run(f, c, why, sizeof(why)), 0);
	if (strstr(why, want) == NULL)
		fail_msg("want \"%s\" in errstr \"%s\"", want, why);
	/* The user is told through the conversation function, one line. */
	assert_non_null(strstr(output, "breakglass: sudo refused: "));
	assert_non_null(strstr(output, want));
	assert_int_equal(output[strlen(output) - 1], '\n');
	f->records++;
	rec = last_record(f);
	assert_string_equal(member(rec, "event"), "sudo.rejected");
	assert_string_equal(member(rec, "outcome"), "failure");
	if (strstr(member(rec, "reason"), want) == NULL)
		fail_msg("want \"%s\" in reason \"%s\"", want, member(rec, "reason"));
	json_object_put(rec);
}

static void
test_not_breakglass(void **state)
{
	struct fixture *f = *state;
	struct fe_call c = { .user = "alice", .command = "/usr/bin/false",
	    .settings = { "run_shell=true" }, .envp = { "LD_PRELOAD=/tmp/x.so" } };
	char why[64];

	/* Untouched: approved, nothing said, nothing journaled. */
	assert_int_equal(run(f, &c, why, sizeof(why)), 1);
	assert_string_equal(output, "");
	c.user = "root";
	assert_int_equal(run(f, &c, why, sizeof(why)), 1);
}

static void
test_in_scope(void **state)
{
	struct fixture *f = *state;
	struct fe_call c = { .command = "/usr/bin/true", .argv = { "true" } };
	struct fe_call alias = { .command = "/bin/true", .argv = { "/bin/true", "a", "b c" } };
	struct fe_call id = { .command = "/usr/bin/id", .argv = { "id", "-u" } };
	struct fe_call spaced = { .command = "/usr/bin/printf",
	    .argv = { "printf", "%s x", "two words\nand a newline" },
	    .envp = { "TMPDIR=/tmp", "TERM=xterm" } };
	struct fe_call globby = { .command = "/usr/bin/echo", .argv = { "echo", "*", "b" } };
	json_object *rec, *argv;

	expect_accepted(f, &c);
	expect_accepted(f, &alias);
	rec = last_record(f);
	assert_true(json_object_object_get_ex(rec, "argv", &argv));
	assert_int_equal(json_object_array_length(argv), 3);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(argv, 2)), "b c");
	assert_string_equal(member(rec, "runas"), "root");
	assert_string_equal(member(rec, "command"), "/bin/true");
	json_object_put(rec);
	expect_accepted(f, &id);
	expect_accepted(f, &spaced);
	expect_accepted(f, &globby);
}

static void
test_out_of_scope(void **state)
{
	struct fixture *f = *state;
	struct fe_call other = { .command = "/usr/bin/false", .argv = { "false" } };
	/* argv[0] must name the program sudo executes: multi-call programs dispatch on it. */
	struct fe_call disguised = { .command = "/usr/bin/false", .argv = { "/usr/bin/true" } };
	struct fe_call renamed = { .command = "/usr/bin/id", .argv = { "halt", "-u" } };
	/* The path sudo executes must be trusted as given. */
	struct fe_call dotted = { .command = "/usr/bin/../bin/id", .argv = { "id", "-u" } };
	struct fe_call relative = { .command = "usr/bin/id", .argv = { "id", "-u" } };
	/* Options are not arguments. */
	struct fe_call option = { .command = "/usr/bin/printf",
	    .argv = { "printf", "%s x", "--help" } };
	struct fe_call id_g = { .command = "/usr/bin/id", .argv = { "id", "-g" } };
	struct fe_call id_more = { .command = "/usr/bin/id", .argv = { "id", "-u", "-g" } };
	struct fe_call id_none = { .command = "/usr/bin/id", .argv = { "id" } };
	/* '*' never spans two arguments. */
	struct fe_call split = { .command = "/usr/bin/printf",
	    .argv = { "printf", "%s x", "two", "words" } };
	struct fe_call star = { .command = "/usr/bin/echo", .argv = { "echo", "anything", "b" } };
	struct fe_call range = { .command = "/usr/bin/echo", .argv = { "echo", "*", "d" } };

	expect_refused(f, &other, "command not in scope ops");
	expect_refused(f, &disguised, "argv[0] /usr/bin/true does not name the program false");
	expect_refused(f, &renamed, "argv[0] halt does not name the program id");
	expect_refused(f, &dotted, "untrusted-path: /usr/bin/..: a \".\" or \"..\" component");
	expect_refused(f, &relative, "untrusted-path");
	expect_refused(f, &option, "not in scope");
	expect_refused(f, &id_g, "not in scope");
	expect_refused(f, &id_more, "not in scope");
	expect_refused(f, &id_none, "not in scope");
	expect_refused(f, &split, "not in scope");
	expect_refused(f, &star, "not in scope");
	expect_refused(f, &range, "not in scope");
}

static void
test_shells_and_chroot(void **state)
{
	struct fixture *f = *state;
	struct fe_call s = { .settings = { "run_shell=true" }, .command = "/bin/bash",
	    .argv = { "/bin/bash" } };
	struct fe_call i = { .settings = { "login_shell=true" }, .command = "/bin/bash",
	    .info = { "cwd=/root", "cwd_optional=true" },
	    .argv = { "-bash", "--login", "-c", "true" } };
	struct fe_call implied = { .settings = { "implied_shell=true", "run_shell=true" },
	    .command = "/bin/bash", .argv = { "/bin/bash" } };
	struct fe_call implied_only = { .settings = { "implied_shell=true" },
	    .command = "/usr/bin/true" };
	struct fe_call chroot = { .info = { "chroot=/" }, .command = "/usr/bin/true" };
	/* A shell named as the command is just out of scope. */
	struct fe_call named = { .command = "/bin/bash", .argv = { "bash", "-c", "id" } };

	expect_refused(f, &s, "a shell (-s) is not allowed");
	expect_refused(f, &i, "a login shell (-i) is not allowed");
	expect_refused(f, &implied, "shell");
	expect_refused(f, &implied_only, "a shell is not allowed");
	expect_refused(f, &chroot, "chroot (-R) is not allowed");
	expect_refused(f, &named, "not in scope");
}

static void
test_runas(void **state)
{
	struct fixture *f = *state;
	struct passwd *nobody = getpwnam("nobody");
	char uid[32], gid[32];
	struct fe_call as_nobody = { .command = "/usr/bin/id", .argv = { "id", "-u" } };
	struct fe_call root_group = { .command = "/usr/bin/id", .argv = { "id", "-u" },
	    .runas = { "root", "0", "1001" } };
	struct fe_call no_ids = { .command = "/usr/bin/id", .argv = { "id", "-u" },
	    .runas = { "root", "", "" } };

	assert_non_null(nobody);
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)nobody->pw_uid);
	snprintf(gid, sizeof(gid), "%lu", (unsigned long)nobody->pw_gid);
	as_nobody.runas[0] = "nobody";
	as_nobody.runas[1] = uid;
	as_nobody.runas[2] = gid;
	expect_refused(f, &as_nobody, "scope ops only runs commands as root");
	expect_refused(f, &root_group, "only runs commands as root");
	expect_refused(f, &no_ids, "whom the command runs as");

	/* A scope whose runas is nobody refuses root and accepts nobody. */
	write_grant(f, ACCOUNT, "as-nobody", time(NULL) - 10, time(NULL) + GRANT_LIFETIME);
	as_nobody.argv[1] = NULL;
	expect_accepted(f, &as_nobody);
	root_group.runas[2] = "0";
	root_group.argv[1] = NULL;
	expect_refused(f, &root_group, "scope as-nobody only runs commands as nobody");
}

static void
test_environment(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"LD_PRELOAD=/tmp/x.so", "LD_LIBRARY_PATH=/tmp", "LD_AUDIT=x", "BASH_ENV=/tmp/rc",
		"ENV=/tmp/rc", "PYTHONPATH=/tmp", "PYTHONSTARTUP=x", "PERL5LIB=/tmp",
		"PERL5OPT=-d", "RUBYOPT=-r/tmp/x", "GCONV_PATH=/tmp", "IFS=/", "LOCPATH=/tmp",
		"NLSPATH=/tmp/%N", "HOSTALIASES=/tmp/h", "RES_OPTIONS=debug", "SHELLOPTS=xtrace",
		"PS4=$(id)", "GLOBIGNORE=*", "CDPATH=/tmp", "BASH_FUNC_true%%=() { id; }",
		"GLIBC_TUNABLES=glibc.malloc.check=3", "PAGER=/bin/sh", "SYSTEMD_PAGER=sh",
		"EDITOR=vi", "OPENSSL_CONF=/tmp/c", "NODE_OPTIONS=--require=/tmp/x",
	};
	char want[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fe_call c = { .command = "/usr/bin/true", .envp = { bad[i] } };

		snprintf(want, sizeof(want), "environment variable %.*s is not allowed",
		    (int)strcspn(bad[i], "="), bad[i]);
		expect_refused(f, &c, want);
	}
}

static void
test_sudoedit(void **state)
{
	struct fixture *f = *state;
	char *ok = tu_path(f->edit_dir, "main.conf"), *bad = tu_path(f->dir, "breakglass.conf");
	struct fe_call edit = { .settings = { "sudoedit=true" }, .command = "/usr/bin/vi",
	    .info = { "sudoedit=true", "sudoedit_nfiles=1" },
	    .argv = { "/usr/bin/vi", "--", ok },
	    .envp = { "EDITOR=/usr/bin/vi" } };
	struct fe_call outside = edit;
	struct fe_call two = edit;
	struct fe_call old_api = edit;
	struct fe_call none = edit;

	/* The editor runs as the user: its variables are no concern, the files are. */
	expect_accepted(f, &edit);
	outside.argv[2] = bad;
	expect_refused(f, &outside, "is not editable in scope ops");
	two.info[1] = "sudoedit_nfiles=2";
	two.argv[3] = bad;
	expect_refused(f, &two, "is not editable");
	/* Before API 1.21 there is no sudoedit_nfiles: the files follow "--". */
	old_api.info[1] = NULL;
	old_api.argv[3] = bad;
	expect_refused(f, &old_api, "is not editable");
	old_api.argv[3] = NULL;
	expect_accepted(f, &old_api);
	none.info[1] = NULL;
	none.argv[1] = NULL;
	expect_refused(f, &none, "sudoedit without files");
	free(ok);
	free(bad);
}

static void
test_grant_states(void **state)
{
	struct fixture *f = *state;
	struct fe_call c = { .command = "/usr/bin/true" };
	char *grant = tu_path(f->run, "grants/" ACCOUNT ".json"), *text, *p;
	bg_error err;
	bool removed;

	assert_int_equal(bg_killswitch_engage(f->kill_switch, "test", "drill", &err), BG_OK);
	expect_refused(f, &c, "the kill switch is engaged");
	assert_int_equal(bg_killswitch_release(f->kill_switch, &err), BG_OK);
	expect_accepted(f, &c);

	write_grant(f, ACCOUNT, "ops", time(NULL) - 3000, time(NULL) - 1);
	expect_refused(f, &c, "grant expired");
	write_grant(f, ACCOUNT, "ops", time(NULL) + 100, time(NULL) + 200);
	expect_refused(f, &c, "grant issued in the future");
	write_grant(f, ACCOUNT, "nonexistent", time(NULL) - 10, time(NULL) + 100);
	expect_refused(f, &c, "scope nonexistent is not configured");

	/* A grant file edited after signing. */
	write_grant(f, ACCOUNT, "ops", time(NULL) - 10, time(NULL) + 100);
	text = tu_read(grant, NULL);
	p = strstr(text, "\\\"status\\\":\\\"approved\\\"");
	assert_non_null(p);
	memcpy(p + strlen("\\\"status\\\":\\\""), "APPROVED", 8);
	free(tu_write(f->run, "grants/" ACCOUNT ".json", 0600, text));
	free(text);
	expect_refused(f, &c, "decision signature");

	assert_int_equal(bg_grant_revoke(f->run, ACCOUNT, &removed, &err), BG_OK);
	assert_true(removed);
	expect_refused(f, &c, "no grant for " ACCOUNT);
	/* A grant of another account does not help. */
	write_grant(f, "bg-other", "ops", time(NULL) - 10, time(NULL) + 100);
	expect_refused(f, &c, "no grant for " ACCOUNT);
	write_grant(f, ACCOUNT, "ops", time(NULL) - 10, time(NULL) + 100);
	expect_accepted(f, &c);
	free(grant);
}

/* Problems found in open: every user is refused, with syslog but no journal. */
static void
expect_unusable(struct fixture *f, struct fe_call *c, const char *want)
{
	char why[BG_ERROR_MAX + 64];

	c->user = "alice";
	assert_int_equal(run(f, c, why, sizeof(why)), 0);
	if (strstr(why, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, why);
	assert_non_null(strstr(output, want));
	c->user = NULL;
	assert_int_equal(run(f, c, why, sizeof(why)), 0);
}

static void
test_unusable(void **state)
{
	struct fixture *f = *state;
	struct fe_call unknown = { .options = { "debug" } };
	struct fe_call missing = { .options = { "config=/nonexistent/breakglass.conf" } };
	struct fe_call relative = { .options = { "config=breakglass.conf" } };
	struct fe_call major = { .version = SUDO_API_MKVERSION(2, 0) };
	struct fe_call minor = { .version = SUDO_API_MKVERSION(1, 16) };
	struct fe_call broken = { 0 };
	char *saved = tu_read(f->conf, NULL);

	expect_unusable(f, &unknown, "unknown or malformed plugin option \"debug\"");
	expect_unusable(f, &missing, "/nonexistent/breakglass.conf");
	expect_unusable(f, &relative, "plugin option");
	expect_unusable(f, &major, "incompatible sudo plugin API version 2.0");
	expect_unusable(f, &minor, "incompatible sudo plugin API version 1.16");
	free(tu_write(f->dir, "breakglass.conf", 0644, "[general]\nbogus = 1\n"));
	expect_unusable(f, &broken, "breakglass.conf:2");
	free(tu_write(f->dir, "breakglass.conf", 0666, saved));
	chmod(f->conf, 0666);
	expect_unusable(f, &broken, "breakglass.conf");
	chmod(f->conf, 0644);
	free(saved);
}

static void
test_journal_failure(void **state)
{
	struct fixture *f = *state;
	struct fe_call c = { .command = "/usr/bin/true" };
	char why[BG_ERROR_MAX + 64], *moved = tu_path(f->dir, "state.moved");

	/* Without its key state the journal cannot be written: nothing runs. */
	assert_int_equal(rename(f->state, moved), 0);
	assert_int_equal(run(f, &c, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "the audit journal cannot be written"));
	assert_non_null(strstr(output, "the audit journal cannot be written"));
	assert_int_equal(rename(moved, f->state), 0);
	expect_accepted(f, &c);
	free(moved);
}

static void
test_show_version(void **state)
{
	struct fixture *f = *state;
	char *settings[] = { "progname=sudo", NULL };
	char *user_info[] = { "user=" ACCOUNT, "cwd=/", NULL };
	char *empty[] = { NULL };
	char *options[] = { NULL, NULL };
	const char *errstr = NULL;

	output[0] = '\0';
	assert_true(asprintf(&options[0], "config=%s", f->conf) > 0);
	assert_int_equal(f->plugin->open(SUDO_API_VERSION, conversation, plugin_printf,
	    settings, user_info, 1, empty, empty, options, &errstr), 1);
	assert_int_equal(f->plugin->show_version(0), 1);
	f->plugin->close();
	free(options[0]);
	assert_non_null(strstr(output, "sudo_breakglass"));
	assert_non_null(strstr(output, PACKAGE_VERSION));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_not_breakglass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shells_and_chroot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sudoedit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grant_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_version, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
