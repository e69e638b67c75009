/*
 * /etc/breakglass/breakglass.conf: the schema, its defaults, and the checks
 * that span keys.  Every component reads the file through here, so the PAM
 * module, the sudo plugin and `breakglass check-config` agree on what a valid
 * configuration is.  Anything doubtful is an error: a configuration error
 * makes the callers deny, never allow.
 */
#include "build_config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "config.h"
#include "crypto.h"
#include "crypto_backend.h"
#include "ere_cost.h"
#include "fileio.h"
#include "command_path.h"
#include "grant.h"
#include "names.h"
#include "recovery.h"
#include "scope.h"

#define SECONDS_PER_MINUTE 60UL
#define SECONDS_PER_HOUR 3600UL

#define GRANT_TTL_MIN SECONDS_PER_MINUTE
#define GRANT_TTL_MAX (24 * SECONDS_PER_HOUR)
#define TOTP_WINDOW_MAX 10
#define APPROVAL_TIMEOUT_MAX SECONDS_PER_HOUR
#define CONFIG_MAX_SIGNALS 32
#define CONFIG_MAX_SCOPES 64

/* RFC 1035 host names; user names as shadow-utils accepts them. */
#define HOSTNAME_MAX 253
#define USERNAME_MAX 32
/* An Ed25519 PEM public key is about 113 bytes; anything this large is not one. */
#define PUBKEY_FILE_MAX (16 * 1024)
#define TOKEN_FILE_MAX (16 * 1024)
/* Room for a URL host, IPv6 literals included. */
#define URL_HOST_MAX 256

#define JOURNAL_STATE_NAME "journal.state"
#define TOTP_STATE_NAME "totp"

/* ------------------------------------------------------------------ */
/* Per-value checks, run by the INI reader so each names its own line. */

static bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static bg_status
check_host_id(const char *v, bg_error *err)
{
	size_t n = strlen(v);

	if (n > HOSTNAME_MAX)
		return bg_error_set(err, BG_ERR_INVALID, "host name too long");
	if (v[0] == '.' || v[0] == '-')
		return bg_error_set(err, BG_ERR_INVALID,
		    "host name must start with a letter or digit");
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(v[i]) && v[i] != '.' && v[i] != '-')
			return bg_error_set(err, BG_ERR_INVALID,
			    "host name may hold only letters, digits, '.' and '-'");
	return BG_OK;
}

static bg_status
check_user_name(const char *v, bg_error *err)
{
	size_t n = strlen(v);

	if (n == 0 || n > USERNAME_MAX || v[0] == '-')
		return bg_error_set(err, BG_ERR_INVALID, "invalid user name");
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(v[i]) && v[i] != '_' && v[i] != '-' && v[i] != '.')
			return bg_error_set(err, BG_ERR_INVALID, "invalid user name");
	return BG_OK;
}

/*
 * One [approval] url, checked as BG_CFG_URL does; a query or fragment would
 * end up in the middle of every request path.
 */
static bg_status
check_approval_url(const char *v, bg_error *err)
{
	if (bg_url_host(v, NULL, NULL, 0, err) != BG_OK)
		return BG_ERR_INVALID;
	if (strpbrk(v, "?#") != NULL)
		return bg_error_set(err, BG_ERR_INVALID, "an approval service URL takes no "
		    "query or fragment");
	return BG_OK;
}

/* A recovery approver names a key file in keys_dir. */
static bg_status
check_file_name(const char *v, bg_error *err)
{
	if (!bg_file_name_valid(v))
		return bg_error_set(err, BG_ERR_INVALID,
		    "not a plain file name ([A-Za-z0-9._-], no leading '.' or '-')");
	return BG_OK;
}

/* Whether path has a "." or ".." component, which a glob could use to escape. */
static bool
has_dot_component(const char *path)
{
	const char *s = path;

	while (*s != '\0') {
		size_t n;

		while (*s == '/')
			s++;
		n = strcspn(s, "/");
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return true;
		s += n;
	}
	return false;
}

static bg_status
check_scope_syntax(const char *v, bg_error *err)
{
	bg_scope_command c;
	bg_status st = bg_scope_command_parse(v, &c, err);

	if (st == BG_OK)
		bg_scope_command_free(&c);
	return st;
}

static bg_status
check_command(const char *v, bg_error *err)
{
	char path[PATH_MAX];
	size_t n = strcspn(v, " \t");

	if (v[0] != '/')
		return bg_error_set(err, BG_ERR_INVALID,
		    "the command must start with an absolute path");
	if (n >= sizeof(path))
		return bg_error_set(err, BG_ERR_INVALID, "the command path is too long");
	memcpy(path, v, n);
	path[n] = '\0';
	/* sudo compares the resolved path: a pattern there could never be exact. */
	if (strpbrk(path, "*?[\\") != NULL)
		return bg_error_set(err, BG_ERR_INVALID,
		    "the command path must not hold wildcards");
	if (has_dot_component(path))
		return bg_error_set(err, BG_ERR_INVALID,
		    "the command path must not hold '.' or '..' components");
	/* The sudo plugin splits the line the same way: refuse what it would refuse. */
	return check_scope_syntax(v, err);
}

static bg_status
check_edit(const char *v, bg_error *err)
{
	if (v[0] != '/')
		return bg_error_set(err, BG_ERR_INVALID,
		    "an edit pattern must be an absolute path glob");
	if (has_dot_component(v))
		return bg_error_set(err, BG_ERR_INVALID,
		    "an edit pattern must not hold '.' or '..' components");
	return BG_OK;
}

static bg_status
check_match(const char *v, bg_error *err)
{
	bg_matcher m;
	bg_status st = bg_matcher_parse(v, &m, err);

	if (st == BG_OK)
		bg_matcher_free(&m);
	return st;
}

/* RFC 6901: "" (the whole document) or "/"-separated tokens, '~' as ~0 or ~1. */
static bg_status
check_pointer(const char *v, bg_error *err)
{
	if (v[0] != '\0' && v[0] != '/')
		return bg_error_set(err, BG_ERR_INVALID,
		    "a JSON pointer is empty (\"\") or starts with '/'");
	for (const char *t = strchr(v, '~'); t != NULL; t = strchr(t + 1, '~'))
		if (t[1] != '0' && t[1] != '1')
			return bg_error_set(err, BG_ERR_INVALID,
			    "'~' in a JSON pointer must be ~0 or ~1");
	return BG_OK;
}

/* ------------------------------------------------------------------ */
/* The schema. */

static const char *const operator_choices[] = { "prompt", "account", NULL };
static const char *const signal_type_choices[] = {
	"alertmanager", "prometheus", "http", NULL,
};

static const bg_cfg_key general_keys[] = {
	{ .name = "accounts", .type = BG_CFG_WORDS, .required = true,
	  .offset = offsetof(bg_config_general, accounts),
	  .check = bg_account_pattern_check },
	{ .name = "operator", .type = BG_CFG_ENUM, .def = "prompt",
	  .offset = offsetof(bg_config_general, operator_mode),
	  .choices = operator_choices },
	{ .name = "state_dir", .type = BG_CFG_PATH, .def = "/var/lib/breakglass",
	  .offset = offsetof(bg_config_general, state_dir) },
	{ .name = "run_dir", .type = BG_CFG_PATH, .def = "/run/breakglass",
	  .offset = offsetof(bg_config_general, run_dir) },
	{ .name = "kill_switch", .type = BG_CFG_PATH,
	  .def = "/etc/breakglass/kill-switch",
	  .offset = offsetof(bg_config_general, kill_switch) },
	{ .name = "grant_ttl", .type = BG_CFG_DURATION, .def = "1h",
	  .offset = offsetof(bg_config_general, grant_ttl),
	  .min = GRANT_TTL_MIN, .max = GRANT_TTL_MAX },
	{ .name = "revoke_on_logout", .type = BG_CFG_BOOL, .def = "yes",
	  .offset = offsetof(bg_config_general, revoke_on_logout) },
	{ .name = "journal", .type = BG_CFG_PATH,
	  .def = "/var/log/breakglass/journal.jsonl",
	  .offset = offsetof(bg_config_general, journal) },
};

static const bg_cfg_key totp_keys[] = {
	{ .name = "operators_dir", .type = BG_CFG_PATH,
	  .def = "/etc/breakglass/operators",
	  .offset = offsetof(bg_config_totp, operators_dir) },
	{ .name = "window", .type = BG_CFG_UINT, .def = "1",
	  .offset = offsetof(bg_config_totp, window), .max = TOTP_WINDOW_MAX },
	/* Lockout and its window are never off: min 1. */
	{ .name = "max_failures", .type = BG_CFG_UINT, .def = "5",
	  .offset = offsetof(bg_config_totp, max_failures), .min = 1 },
	{ .name = "failure_window", .type = BG_CFG_DURATION, .def = "15m",
	  .offset = offsetof(bg_config_totp, failure_window), .min = 1 },
	{ .name = "lockout", .type = BG_CFG_DURATION, .def = "15m",
	  .offset = offsetof(bg_config_totp, lockout), .min = 1 },
};

static const bg_cfg_key approval_keys[] = {
	/* Repeated: the instances of one service, tried in order (docs/protocol.md 2.1). */
	{ .name = "url", .type = BG_CFG_LINES, .required = true,
	  .offset = offsetof(bg_config_approval, url), .check = check_approval_url },
	{ .name = "host_id", .type = BG_CFG_STRING, .required = true,
	  .offset = offsetof(bg_config_approval, host_id), .check = check_host_id },
	{ .name = "host_key", .type = BG_CFG_PATH, .required = true,
	  .offset = offsetof(bg_config_approval, host_key) },
	{ .name = "service_key", .type = BG_CFG_PATH, .required = true,
	  .offset = offsetof(bg_config_approval, service_key) },
	{ .name = "approvers", .type = BG_CFG_WORDS, .required = true,
	  .offset = offsetof(bg_config_approval, approvers),
	  .check = check_user_name },
	{ .name = "quorum", .type = BG_CFG_UINT, .def = "2",
	  .offset = offsetof(bg_config_approval, quorum), .min = 1 },
	{ .name = "timeout", .type = BG_CFG_DURATION, .def = "5m",
	  .offset = offsetof(bg_config_approval, timeout),
	  .min = 1, .max = APPROVAL_TIMEOUT_MAX },
	{ .name = "connect_timeout", .type = BG_CFG_DURATION, .def = "5s",
	  .offset = offsetof(bg_config_approval, connect_timeout),
	  .min = 1, .max = APPROVAL_TIMEOUT_MAX },
	{ .name = "ca_file", .type = BG_CFG_PATH,
	  .offset = offsetof(bg_config_approval, ca_file) },
};

static const bg_cfg_key signals_keys[] = {
	{ .name = "required", .type = BG_CFG_UINT, .def = "2",
	  .offset = offsetof(bg_config_signals, required) },
};

/* quorum 0 and ttl 0 stand for "not set": resolved against other sections. */
static const bg_cfg_key recovery_keys[] = {
	{ .name = "enabled", .type = BG_CFG_BOOL, .def = "no",
	  .offset = offsetof(bg_config_recovery, enabled) },
	{ .name = "approvers", .type = BG_CFG_WORDS,
	  .offset = offsetof(bg_config_recovery, approvers), .check = check_file_name },
	{ .name = "keys_dir", .type = BG_CFG_PATH, .def = "/etc/breakglass/recovery",
	  .offset = offsetof(bg_config_recovery, keys_dir) },
	{ .name = "quorum", .type = BG_CFG_UINT,
	  .offset = offsetof(bg_config_recovery, quorum), .min = 1, .max = BG_GRANT_MAX_APPROVERS },
	{ .name = "ttl", .type = BG_CFG_DURATION,
	  .offset = offsetof(bg_config_recovery, ttl), .min = GRANT_TTL_MIN },
	{ .name = "scopes", .type = BG_CFG_WORDS,
	  .offset = offsetof(bg_config_recovery, scopes) },
	{ .name = "challenge_ttl", .type = BG_CFG_DURATION, .def = "10m",
	  .offset = offsetof(bg_config_recovery, challenge_ttl),
	  .min = SECONDS_PER_MINUTE, .max = SECONDS_PER_HOUR },
	{ .name = "signals_required", .type = BG_CFG_UINT, .def = "0",
	  .offset = offsetof(bg_config_recovery, signals_required) },
};

static const bg_cfg_key signal_keys[] = {
	{ .name = "type", .type = BG_CFG_ENUM, .required = true,
	  .offset = offsetof(bg_config_signal, type),
	  .choices = signal_type_choices },
	{ .name = "url", .type = BG_CFG_URL, .required = true,
	  .offset = offsetof(bg_config_signal, url) },
	{ .name = "match", .type = BG_CFG_LINES,
	  .offset = offsetof(bg_config_signal, match), .check = check_match },
	{ .name = "bearer_token_file", .type = BG_CFG_PATH,
	  .offset = offsetof(bg_config_signal, bearer_token_file) },
	{ .name = "pointer", .type = BG_CFG_STRING,
	  .offset = offsetof(bg_config_signal, pointer), .check = check_pointer },
	{ .name = "equals", .type = BG_CFG_STRING,
	  .offset = offsetof(bg_config_signal, equals) },
};

static const bg_cfg_key scope_keys[] = {
	{ .name = "description", .type = BG_CFG_STRING,
	  .offset = offsetof(bg_config_scope, description) },
	{ .name = "command", .type = BG_CFG_LINES, .required = true,
	  .offset = offsetof(bg_config_scope, command), .check = check_command },
	{ .name = "edit", .type = BG_CFG_LINES,
	  .offset = offsetof(bg_config_scope, edit), .check = check_edit },
	{ .name = "runas", .type = BG_CFG_STRING, .def = "root",
	  .offset = offsetof(bg_config_scope, runas), .check = check_user_name },
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

enum { SEC_GENERAL, SEC_TOTP, SEC_APPROVAL, SEC_SIGNALS, SEC_RECOVERY, SEC_SIGNAL,
	SEC_SCOPE, SEC_COUNT };

static const bg_cfg_section config_sections[SEC_COUNT] = {
	[SEC_GENERAL] = { .name = "general", .required = true,
	    .keys = general_keys, .nkeys = NKEYS(general_keys),
	    .size = sizeof(bg_config_general),
	    .offset = offsetof(bg_config, general) },
	[SEC_TOTP] = { .name = "totp",
	    .keys = totp_keys, .nkeys = NKEYS(totp_keys),
	    .size = sizeof(bg_config_totp),
	    .offset = offsetof(bg_config, totp) },
	[SEC_APPROVAL] = { .name = "approval", .required = true,
	    .keys = approval_keys, .nkeys = NKEYS(approval_keys),
	    .size = sizeof(bg_config_approval),
	    .offset = offsetof(bg_config, approval) },
	[SEC_SIGNALS] = { .name = "signals",
	    .keys = signals_keys, .nkeys = NKEYS(signals_keys),
	    .size = sizeof(bg_config_signals),
	    .offset = offsetof(bg_config, signals) },
	[SEC_RECOVERY] = { .name = "recovery",
	    .keys = recovery_keys, .nkeys = NKEYS(recovery_keys),
	    .size = sizeof(bg_config_recovery),
	    .offset = offsetof(bg_config, recovery) },
	[SEC_SIGNAL] = { .name = "signal", .named = true,
	    .keys = signal_keys, .nkeys = NKEYS(signal_keys),
	    .size = sizeof(bg_config_signal),
	    .offset = offsetof(bg_config, signal),
	    .count_offset = offsetof(bg_config, nsignal),
	    .max_count = CONFIG_MAX_SIGNALS },
	[SEC_SCOPE] = { .name = "scope", .named = true,
	    .keys = scope_keys, .nkeys = NKEYS(scope_keys),
	    .size = sizeof(bg_config_scope),
	    .offset = offsetof(bg_config, scope),
	    .count_offset = offsetof(bg_config, nscope),
	    .max_count = CONFIG_MAX_SCOPES },
};

static const bg_cfg_schema config_schema = {
	.sections = config_sections,
	.nsections = SEC_COUNT,
};

/* ------------------------------------------------------------------ */
/* Matchers. */

static bool
is_label_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Reads a double-quoted string at *sp into a fresh unescaped copy. */
static bg_status
parse_quoted(const char **sp, char **out, bg_error *err)
{
	const char *s = *sp + 1;
	char *copy, *w;

	copy = malloc(strlen(s) + 1);
	if (copy == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	for (w = copy; *s != '"'; s++) {
		if (*s == '\0') {
			free(copy);
			return bg_error_set(err, BG_ERR_INVALID,
			    "unterminated double-quoted value");
		}
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*w++ = *s;
	}
	*w = '\0';
	*sp = s + 1;
	*out = copy;
	return BG_OK;
}

static bg_status
compile_anchored(bg_matcher *m, bg_error *err)
{
	char *pattern, msg[BG_ERROR_MAX / 2];
	bg_status st;
	int rc;

	if ((st = bg_ere_check_cost(m->value, err)) != BG_OK)
		return st;
	if (asprintf(&pattern, "^(%s)$", m->value) < 0)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	rc = regcomp(&m->re, pattern, REG_EXTENDED | REG_NOSUB);
	free(pattern);
	if (rc != 0) {
		regerror(rc, &m->re, msg, sizeof(msg));
		return bg_error_set(err, BG_ERR_INVALID,
		    "invalid regular expression: %s", msg);
	}
	m->has_re = true;
	return BG_OK;
}

bg_status
bg_matcher_parse(const char *text, bg_matcher *m, bg_error *err)
{
	static const struct {
		const char *tok;
		bg_match_op op;
	} ops[] = {
		/* Two-character operators first, so "=~" is not read as "=". */
		{ "=~", BG_MATCH_RE }, { "!~", BG_MATCH_NRE },
		{ "!=", BG_MATCH_NE }, { "=", BG_MATCH_EQ },
	};
	const char *s = skip_ws(text), *label = s;
	size_t i;
	bg_status st;

	memset(m, 0, sizeof(*m));
	if (!is_label_start(*s))
		return bg_error_set(err, BG_ERR_INVALID,
		    "expected label OP \"value\", the label made of letters, digits and '_'");
	while (is_label_start(*s) || (*s >= '0' && *s <= '9'))
		s++;
	m->label = strndup(label, (size_t)(s - label));
	if (m->label == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	s = skip_ws(s);
	for (i = 0; i < NKEYS(ops); i++)
		if (strncmp(s, ops[i].tok, strlen(ops[i].tok)) == 0)
			break;
	if (i == NKEYS(ops)) {
		bg_matcher_free(m);
		return bg_error_set(err, BG_ERR_INVALID,
		    "expected an operator (=, !=, =~ or !~) after the label");
	}
	m->op = ops[i].op;
	s = skip_ws(s + strlen(ops[i].tok));
	if (*s != '"') {
		bg_matcher_free(m);
		return bg_error_set(err, BG_ERR_INVALID,
		    "the value must be in double quotes");
	}
	if ((st = parse_quoted(&s, &m->value, err)) != BG_OK) {
		bg_matcher_free(m);
		return st;
	}
	if (*skip_ws(s) != '\0') {
		bg_matcher_free(m);
		return bg_error_set(err, BG_ERR_INVALID,
		    "unexpected text after the quoted value");
	}
	if ((m->op == BG_MATCH_RE || m->op == BG_MATCH_NRE) &&
	    (st = compile_anchored(m, err)) != BG_OK) {
		bg_matcher_free(m);
		return st;
	}
	return BG_OK;
}

bool
bg_matcher_matches(const bg_matcher *m, const char *label_value)
{
	/* Prometheus semantics: an absent label has the empty value. */
	const char *v = label_value != NULL ? label_value : "";

	switch (m->op) {
	case BG_MATCH_EQ:
		return strcmp(v, m->value) == 0;
	case BG_MATCH_NE:
		return strcmp(v, m->value) != 0;
	case BG_MATCH_RE:
		return m->has_re && regexec(&m->re, v, 0, NULL, 0) == 0;
	case BG_MATCH_NRE:
		return m->has_re && regexec(&m->re, v, 0, NULL, 0) == REG_NOMATCH;
	}
	return false;
}

void
bg_matcher_free(bg_matcher *m)
{
	if (m == NULL)
		return;
	if (m->has_re)
		regfree(&m->re);
	free(m->label);
	free(m->value);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* Checks that span keys and sections. */

static unsigned
key_line(int sec, const bg_cfg_meta *meta, const char *key)
{
	return bg_cfg_key_line(&config_sections[sec], meta, key);
}

/* Whether url goes over TLS or stays on this host. */
static bool
url_is_private(const char *url)
{
	char host[URL_HOST_MAX];
	bool https;

	if (bg_url_host(url, &https, host, sizeof(host), NULL) != BG_OK)
		return false;
	return https || bg_host_is_loopback(host);
}

static void
validate_approval(bg_cfg_check *c, const bg_config *cfg)
{
	const bg_config_approval *a = &cfg->approval;
	const bg_strlist *ap = &a->approvers;

	/* Decisions and request signatures would cross the network in clear. */
	for (size_t i = 0; i < a->url.count; i++)
		if (!url_is_private(a->url.items[i]))
			bg_cfg_check_error(c, bg_strlist_line(&a->url, i,
			    key_line(SEC_APPROVAL, &a->meta, "url")),
			    "url: the approval service must use https:// "
			    "(http:// only to a loopback address)");
	if (a->url.count > BG_APPROVAL_MAX_URLS)
		bg_cfg_check_error(c, bg_strlist_line(&a->url, BG_APPROVAL_MAX_URLS,
		    key_line(SEC_APPROVAL, &a->meta, "url")),
		    "url: at most %d approval service URLs", BG_APPROVAL_MAX_URLS);
	for (size_t i = 0; i < a->url.count; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->url.items[i], a->url.items[j]) == 0) {
				bg_cfg_check_error(c, bg_strlist_line(&a->url, i,
				    key_line(SEC_APPROVAL, &a->meta, "url")),
				    "url: \"%s\" is listed twice", a->url.items[i]);
				break;
			}
	/* Names are compared ignoring ASCII case (names.h): Bob and bob are one person. */
	for (size_t i = 0; i < ap->count; i++)
		for (size_t j = 0; j < i; j++)
			if (bg_name_equal(ap->items[i], ap->items[j])) {
				bg_cfg_check_error(c, bg_strlist_line(ap, i,
				    key_line(SEC_APPROVAL, &a->meta, "approvers")),
				    "approvers: \"%s\" is listed twice (names are compared "
				    "ignoring case)",
				    ap->items[i]);
				break;
			}
	/* A quorum nobody can reach would make every request time out. */
	if (a->quorum > ap->count)
		bg_cfg_check_error(c, key_line(SEC_APPROVAL, &a->meta, "quorum"),
		    "quorum: %lu is more than the %zu approvers listed",
		    a->quorum, ap->count);
}

static void
validate_signal(bg_cfg_check *c, const bg_config_signal *s)
{
	const bg_cfg_meta *m = &s->meta;

	if (s->type == BG_SIGNAL_HTTP) {
		if (s->pointer == NULL)
			bg_cfg_check_error(c, m->line,
			    "[signal %s]: type http needs \"pointer\"", m->name);
		if (s->equals == NULL)
			bg_cfg_check_error(c, m->line,
			    "[signal %s]: type http needs \"equals\"", m->name);
		if (s->match.count > 0)
			bg_cfg_check_error(c, bg_strlist_line(&s->match, 0, m->line),
			    "match: not used by type http (use pointer and equals)");
	} else {
		if (s->pointer != NULL)
			bg_cfg_check_error(c, key_line(SEC_SIGNAL, m, "pointer"),
			    "pointer: only for type http");
		if (s->equals != NULL)
			bg_cfg_check_error(c, key_line(SEC_SIGNAL, m, "equals"),
			    "equals: only for type http");
		/* Without a matcher any alert counts, even an always-firing watchdog. */
		if (s->match.count == 0)
			bg_cfg_check_error(c, m->line,
			    "[signal %s]: needs at least one \"match\"", m->name);
	}
	if (s->bearer_token_file != NULL && !url_is_private(s->url))
		bg_cfg_check_error(c, key_line(SEC_SIGNAL, m, "bearer_token_file"),
		    "bearer_token_file: the token would be sent in clear text; "
		    "use an https:// url");
}

#define RECOVERY_TTL_DEFAULT (15 * SECONDS_PER_MINUTE)

/* The defaults that depend on other sections. */
static void
resolve_recovery(bg_config *cfg)
{
	bg_config_recovery *r = &cfg->recovery;

	if (r->quorum == 0)
		r->quorum = cfg->approval.quorum;
	if (key_line(SEC_RECOVERY, &r->meta, "quorum") == 0 && r->quorum < 2 && r->approvers.count > 1)
		r->quorum = 2;
	if (r->ttl == 0)
		r->ttl = RECOVERY_TTL_DEFAULT < cfg->general.grant_ttl ? RECOVERY_TTL_DEFAULT :
		    cfg->general.grant_ttl;
}

static void
validate_recovery(bg_cfg_check *c, const bg_config *cfg)
{
	const bg_config_recovery *r = &cfg->recovery;
	const bg_strlist *ap = &r->approvers;

	for (size_t i = 0; i < ap->count; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(ap->items[i], ap->items[j]) == 0) {
				bg_cfg_check_error(c, bg_strlist_line(ap, i,
				    key_line(SEC_RECOVERY, &r->meta, "approvers")),
				    "approvers: \"%s\" is listed twice", ap->items[i]);
				break;
			}
	for (size_t i = 0; i < r->scopes.count; i++)
		if (bg_config_find_scope(cfg, r->scopes.items[i]) == NULL)
			bg_cfg_check_error(c, bg_strlist_line(&r->scopes, i,
			    key_line(SEC_RECOVERY, &r->meta, "scopes")),
			    "scopes: no [scope %s] section", r->scopes.items[i]);
	if (r->ttl > cfg->general.grant_ttl)
		bg_cfg_check_error(c, key_line(SEC_RECOVERY, &r->meta, "ttl"),
		    "ttl: %lu s is longer than grant_ttl (%lu s)", r->ttl,
		    cfg->general.grant_ttl);
	if (r->signals_required > cfg->nsignal)
		bg_cfg_check_error(c, key_line(SEC_RECOVERY, &r->meta, "signals_required"),
		    "signals_required: %lu signal sources required but %zu [signal] "
		    "sections defined", r->signals_required, cfg->nsignal);
	if (!r->enabled)
		return;
	if (ap->count == 0)
		bg_cfg_check_error(c, r->meta.line, "[recovery]: enabled needs \"approvers\"");
	if (r->scopes.count == 0)
		bg_cfg_check_error(c, r->meta.line,
		    "[recovery]: enabled needs \"scopes\" (what an offline grant may do)");
	if (r->quorum > ap->count)
		bg_cfg_check_error(c, key_line(SEC_RECOVERY, &r->meta, "quorum"),
		    "quorum: %lu is more than the %zu recovery approvers listed",
		    r->quorum, ap->count);
	/* One person must never break glass alone, unless there is only one. */
	else if (r->quorum < 2 && ap->count > 1)
		bg_cfg_check_error(c, key_line(SEC_RECOVERY, &r->meta, "quorum"),
		    "quorum: %lu is below 2 with %zu recovery approvers listed",
		    r->quorum, ap->count);
}

static void
validate(bg_cfg_check *c, const bg_config *cfg)
{
	validate_approval(c, cfg);
	validate_recovery(c, cfg);
	for (size_t i = 0; i < cfg->nsignal; i++)
		validate_signal(c, &cfg->signal[i]);
	if (cfg->signals.required > cfg->nsignal)
		bg_cfg_check_error(c, key_line(SEC_SIGNALS, &cfg->signals.meta, "required"),
		    "required: %lu signal sources required but %zu [signal] "
		    "sections defined", cfg->signals.required, cfg->nsignal);
	/* A grant without a scope could never allow anything: surely a mistake. */
	if (cfg->nscope == 0)
		bg_cfg_check_error(c, 1, "no [scope NAME] section: define what a grant allows");
}

/* ------------------------------------------------------------------ */

bg_status
bg_config_parse(const char *path, const char *text, size_t len, bg_config *cfg,
    bg_errlist *errs)
{
	bg_cfg_check c = { .path = path, .errs = errs };
	bg_status st;

	memset(cfg, 0, sizeof(*cfg));
	if (path == NULL) {
		bg_errlist_add(errs, "(config): no configuration path");
		return BG_ERR_INVALID;
	}
	st = bg_ini_parse(path, text, len, &config_schema, cfg, errs);
	if (st != BG_OK)
		return st;
	resolve_recovery(cfg);
	validate(&c, cfg);
	if (c.nerrors == 0) {
		cfg->path = strdup(path);
		if (cfg->path == NULL)
			bg_cfg_check_error(&c, 1, "out of memory");
	}
	if (c.nerrors > 0) {
		bg_config_free(cfg);
		return BG_ERR_INVALID;
	}
	return BG_OK;
}

bg_status
bg_config_load(const char *path, bg_config *cfg, bg_errlist *errs)
{
	bg_error err;
	char *data;
	size_t len, plen;
	bg_status st;

	memset(cfg, 0, sizeof(*cfg));
	if (path == NULL) {
		bg_errlist_add(errs, "(config): no configuration path");
		return BG_ERR_INVALID;
	}
	plen = strlen(path);
	st = bg_file_read(path, BG_FILE_CONFIG, BG_CONFIG_MAX_SIZE, &data, &len, &err);
	if (st != BG_OK) {
		/* fileio names the path itself; do not say it twice. */
		if (strncmp(err.msg, path, plen) == 0 && err.msg[plen] == ':')
			bg_errlist_add(errs, "%s", err.msg);
		else
			bg_errlist_add(errs, "%s: %s", path, err.msg);
		return st;
	}
	st = bg_config_parse(path, data, len, cfg, errs);
	free(data);
	return st;
}

void
bg_config_free(bg_config *cfg)
{
	if (cfg == NULL)
		return;
	bg_ini_free(&config_schema, cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

bool
bg_config_is_breakglass_account(const bg_config *cfg, const char *user)
{
	return cfg != NULL && bg_accounts_match(&cfg->general.accounts, user);
}

const bg_config_scope *
bg_config_find_scope(const bg_config *cfg, const char *name)
{
	if (cfg == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nscope; i++)
		if (strcmp(cfg->scope[i].meta.name, name) == 0)
			return &cfg->scope[i];
	return NULL;
}

/* {state_dir}/name into out. */
static bg_status
state_path(const bg_config *cfg, const char *name, char *out, size_t outsz, bg_error *err)
{
	int n;

	if (cfg == NULL || cfg->general.state_dir == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "no state_dir configured");
	n = snprintf(out, outsz, "%s/%s", cfg->general.state_dir, name);
	if (n < 0 || (size_t)n >= outsz)
		return bg_error_set(err, BG_ERR_INVALID, "%s/%s: path too long",
		    cfg->general.state_dir, name);
	return BG_OK;
}

bg_status
bg_config_journal_state_path(const bg_config *cfg, char *out, size_t outsz,
    bg_error *err)
{
	return state_path(cfg, JOURNAL_STATE_NAME, out, outsz, err);
}

bg_status
bg_config_totp_policy(const bg_config *cfg, bg_totp_policy *p, char *dir, size_t dirsz,
    bg_error *err)
{
	bg_status rc = state_path(cfg, TOTP_STATE_NAME, dir, dirsz, err);

	if (rc != BG_OK)
		return rc;
	memset(p, 0, sizeof(*p));
	p->state_dir = dir;
	p->window = (unsigned)cfg->totp.window;
	p->max_failures = cfg->totp.max_failures;
	p->failure_window = cfg->totp.failure_window;
	p->lockout = cfg->totp.lockout;
	return BG_OK;
}

/* ------------------------------------------------------------------ */
/* check-config: the files and directories the configuration names. */

static void
file_error(bg_cfg_check *c, unsigned line, const char *key, const bg_error *err)
{
	bg_cfg_check_error(c, line, "%s: %s", key, err->msg);
}

static void
check_secret_key(bg_cfg_check *c, unsigned line, const char *key,
    const char *path)
{
	unsigned char k[BG_SHA256_LEN];
	bg_error err;

	if (bg_key_file_read(path, k, &err) != BG_OK)
		file_error(c, line, key, &err);
	explicit_bzero(k, sizeof(k));
}

/*
 * The service key in the one PEM form that both crypto backends read: the
 * sudo plugin's core (crypto_sodium.c) reads no other, so a key that only
 * OpenSSL's parser takes would fail every sudo for a break-glass account.
 */
static void
check_pubkey(bg_cfg_check *c, unsigned line, const char *key, const char *path)
{
	unsigned char raw[BG_ED25519_KEY_LEN];
	bg_error err;
	char *data;
	size_t len;

	if (bg_file_read(path, BG_FILE_CONFIG, PUBKEY_FILE_MAX, &data, &len,
	    &err) != BG_OK) {
		file_error(c, line, key, &err);
		return;
	}
	if (bg_pem_ed25519_raw(data, len, BG_PEM_ED25519_PUBLIC, raw, &err) != BG_OK)
		bg_cfg_check_error(c, line, "%s: %s: %s", key, path, err.msg);
	free(data);
}

static void
check_readable(bg_cfg_check *c, unsigned line, const char *key,
    const char *path, bg_file_kind kind)
{
	bg_error err;
	int fd;

	if (bg_file_open_checked(path, kind, &fd, &err) != BG_OK) {
		file_error(c, line, key, &err);
		return;
	}
	close(fd);
}

static void
check_token_file(bg_cfg_check *c, unsigned line, const char *key,
    const char *path)
{
	bg_error err;
	char *data;
	size_t len;

	if (bg_file_read(path, BG_FILE_SECRET, TOKEN_FILE_MAX, &data, &len,
	    &err) != BG_OK) {
		file_error(c, line, key, &err);
		return;
	}
	if (strspn(data, " \t\r\n") == len)
		bg_cfg_check_error(c, line, "%s: %s: the token file is empty", key, path);
	bg_file_free_secret(data, len);
}

static void
check_dir(bg_cfg_check *c, unsigned line, const char *key, const char *path)
{
	bg_error err;

	if (bg_dir_check(path, &err) != BG_OK)
		file_error(c, line, key, &err);
}

/* The directory that will hold path (journal, kill switch). */
static void
check_parent_dir(bg_cfg_check *c, unsigned line, const char *key,
    const char *path)
{
	char copy[PATH_MAX];
	int n = snprintf(copy, sizeof(copy), "%s", path);

	if (n < 0 || (size_t)n >= sizeof(copy)) {
		bg_cfg_check_error(c, line, "%s: path too long", key);
		return;
	}
	check_dir(c, line, key, dirname(copy));
}

/*
 * The program must be trusted as given, as the sudo plugin will require of
 * the path the user runs: a scope line naming a link could never match.
 */
static void
check_command_file(bg_cfg_check *c, unsigned line, const char *cmd)
{
	char path[PATH_MAX], canonical[PATH_MAX], target[PATH_MAX];
	size_t n = strcspn(cmd, " \t");
	struct stat st;
	bg_error err;

	if (n >= sizeof(path)) {
		bg_cfg_check_error(c, line, "command: path too long");
		return;
	}
	memcpy(path, cmd, n);
	path[n] = '\0';
	if (bg_command_path_check(path, canonical, sizeof(canonical), &err) != BG_OK) {
		/* A link names another program: say which one sudo would run. */
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
		    realpath(path, target) != NULL)
			bg_cfg_check_error(c, line, "command: %s (name the program itself: %s)",
			    err.msg, target);
		else
			bg_cfg_check_error(c, line, "command: %s", err.msg);
		return;
	}
	if (stat(canonical, &st) != 0 || (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0)
		bg_cfg_check_error(c, line, "command: %s: not executable", path);
}

static void
check_scope_files(bg_cfg_check *c, const bg_config_scope *s)
{
	unsigned line = key_line(SEC_SCOPE, &s->meta, "command");

	for (size_t i = 0; i < s->command.count; i++)
		check_command_file(c, bg_strlist_line(&s->command, i, line),
		    s->command.items[i]);
}

/* Every named recovery approver has its K_AH file, root-owned, 0600. */
static void
check_recovery_files(bg_cfg_check *c, const bg_config_recovery *r)
{
	unsigned line = key_line(SEC_RECOVERY, &r->meta, "approvers");
	char path[PATH_MAX];
	bg_error err;

	if (!r->enabled)
		return;
	check_dir(c, key_line(SEC_RECOVERY, &r->meta, "keys_dir"), "keys_dir", r->keys_dir);
	for (size_t i = 0; i < r->approvers.count; i++) {
		unsigned at = bg_strlist_line(&r->approvers, i, line);

		if (bg_recovery_key_path(r->keys_dir, r->approvers.items[i], path, sizeof(path),
		    &err) != BG_OK)
			file_error(c, at, "approvers", &err);
		else
			check_secret_key(c, at, "approvers", path);
	}
}

void
bg_config_lint(const bg_config *cfg, bg_errlist *warnings)
{
	bg_error found[BG_SCOPE_MAX_WARNINGS];

	for (size_t i = 0; i < cfg->nscope; i++) {
		const bg_config_scope *s = &cfg->scope[i];
		unsigned first = key_line(SEC_SCOPE, &s->meta, "command");

		for (size_t j = 0; j < s->command.count; j++) {
			bg_scope_command cmd;
			bg_error err;
			size_t n;

			if (bg_scope_command_parse(s->command.items[j], &cmd, &err) != BG_OK)
				continue;
			n = bg_scope_command_lint(&cmd, found, BG_SCOPE_MAX_WARNINGS);
			for (size_t k = 0; k < n; k++)
				bg_errlist_add(warnings, "%s:%u: warning: [scope %s] command: %s",
				    cfg->path, bg_strlist_line(&s->command, j, first), s->meta.name,
				    found[k].msg);
			bg_scope_command_free(&cmd);
		}
	}
}

bg_status
bg_config_check_files(const bg_config *cfg, bg_errlist *errs)
{
	bg_cfg_check c = { .errs = errs };
	const bg_config_general *g;
	const bg_config_approval *a;
	struct stat st;

	/* A configuration that failed to load is zeroed: nothing to check. */
	if (cfg == NULL || cfg->path == NULL || cfg->general.state_dir == NULL) {
		bg_errlist_add(errs, "(config): no valid configuration to check");
		return BG_ERR_INVALID;
	}
	c.path = cfg->path;
	g = &cfg->general;
	a = &cfg->approval;
	check_secret_key(&c, key_line(SEC_APPROVAL, &a->meta, "host_key"),
	    "host_key", a->host_key);
	check_pubkey(&c, key_line(SEC_APPROVAL, &a->meta, "service_key"),
	    "service_key", a->service_key);
	if (a->ca_file != NULL)
		check_readable(&c, key_line(SEC_APPROVAL, &a->meta, "ca_file"),
		    "ca_file", a->ca_file, BG_FILE_CONFIG);
	for (size_t i = 0; i < cfg->nsignal; i++) {
		const bg_config_signal *s = &cfg->signal[i];

		if (s->bearer_token_file != NULL)
			check_token_file(&c,
			    key_line(SEC_SIGNAL, &s->meta, "bearer_token_file"),
			    "bearer_token_file", s->bearer_token_file);
	}
	check_dir(&c, key_line(SEC_TOTP, &cfg->totp.meta, "operators_dir"),
	    "operators_dir", cfg->totp.operators_dir);
	check_dir(&c, key_line(SEC_GENERAL, &g->meta, "state_dir"), "state_dir",
	    g->state_dir);
	check_parent_dir(&c, key_line(SEC_GENERAL, &g->meta, "journal"),
	    "journal", g->journal);
	check_parent_dir(&c, key_line(SEC_GENERAL, &g->meta, "kill_switch"),
	    "kill_switch", g->kill_switch);
	/*
	 * run_dir lives on tmpfs and systemd-tmpfiles creates it at boot, so
	 * its absence (a fresh install before reboot) is no error; when it
	 * exists it must be safe, since grants are kept there.
	 */
	if (lstat(g->run_dir, &st) == 0 || errno != ENOENT)
		check_dir(&c, key_line(SEC_GENERAL, &g->meta, "run_dir"),
		    "run_dir", g->run_dir);
	for (size_t i = 0; i < cfg->nscope; i++)
		check_scope_files(&c, &cfg->scope[i]);
	check_recovery_files(&c, &cfg->recovery);
	return c.nerrors == 0 ? BG_OK : BG_ERR_INVALID;
}
