/*
 * approvald.conf: the schema, its defaults and the checks that span keys.
 * Parsed by the same INI engine as breakglass.conf, with the same
 * strictness: any doubt is an error naming file:line, and a file with an
 * error yields no configuration.
 */
#include "build_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "approvald.h"
#include "crypto.h"
#include "fileio.h"
#include "names.h"

#define SECONDS_PER_MINUTE 60UL
#define SECONDS_PER_HOUR 3600UL
/* Short expiries exist for tests; a real one leaves approvers minutes. */
#define EXPIRY_MIN 5UL
#define EXPIRY_MAX (24 * SECONDS_PER_HOUR)
#define TOTP_WINDOW_MAX 10
#define MAX_HOSTS 4096
#define MAX_APPROVERS 256
#define MAX_NOTIFY 32
#define PORT_MAX 65535UL
/* An approver name is a user name: it is compared with the request's operator. */
#define APPROVER_NAME_MAX 32
#define PEM_FILE_MAX (64 * 1024)
/* A request arrives in seconds; a minute is already generous to a slow client. */
#define REQUEST_TIMEOUT_MAX 60UL
/* As many as the descriptors any deployment would give the service. */
#define CONNECTIONS_MAX 1000000UL
/* A decided request is kept at least a day: the journal records it for ever. */
#define RETENTION_MIN (24 * SECONDS_PER_HOUR)
#define SLACK_USER_MIN 3
#define SLACK_USER_MAX 32
/* A Slack conversation ID: C (channel), G (private, older) or D (direct message). */
#define SLACK_CHANNEL_MIN 3
#define SLACK_CHANNEL_MAX 32
#define SLACK_API_DEFAULT "https://slack.com/api/"

/* A session lasts at most a day: the approver signs in again. */
#define SESSION_MAX_MAX (24 * SECONDS_PER_HOUR)
#define ORIGIN_MAX 255
#define ORIGIN_CHARS "abcdefghijklmnopqrstuvwxyz0123456789.-:/[]"
/* A WebAuthn RP ID is a domain name: lowercase, as browsers compare it. */
#define RP_ID_MAX 253
#define RP_ID_CHARS "abcdefghijklmnopqrstuvwxyz0123456789.-"

static const char *const format_choices[] = { "slack", "json", NULL };
/* Indexed by ad_second_factor. */
static const char *const second_factor_choices[] = { "any", "webauthn", NULL };

/* Journaled in every record: a plain word. */
static bg_status
check_instance(const char *value, bg_error *err)
{
	if (!bg_name_valid(value))
		return bg_error_set(err, BG_ERR_INVALID, "instance: letters, digits, "
		    "'.', '_' and '-', at most 64, not starting with '.' or '-'");
	return BG_OK;
}

/* The length of "scheme://host:port" in s, an http(s) URL (0: not one). */
static size_t
origin_len(const char *s)
{
	const char *host;
	size_t n;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return 0;
	n = strcspn(host, "/?#");
	if (n == 0 || memchr(host, '@', n) != NULL)
		return 0;
	return (size_t)(host - s) + n;
}

/* A browser's Origin: scheme://host[:port], nothing after, compared byte for byte. */
static bg_status
check_origin(const char *value, bg_error *err)
{
	size_t n = origin_len(value);

	if (n == 0 || value[n] != '\0' || strlen(value) > ORIGIN_MAX ||
	    strspn(value, ORIGIN_CHARS) != n)
		return bg_error_set(err, BG_ERR_INVALID, "expected "
		    "http(s)://host[:port] in lowercase, no path (as a browser's Origin header)");
	return BG_OK;
}

static bg_status
check_rp_id(const char *value, bg_error *err)
{
	size_t n = strlen(value);

	if (n == 0 || n > RP_ID_MAX || strspn(value, RP_ID_CHARS) != n || value[0] == '.' ||
	    value[0] == '-' || value[n - 1] == '.' || strstr(value, "..") != NULL)
		return bg_error_set(err, BG_ERR_INVALID, "expected a domain name in "
		    "lowercase (the origin's host or a parent domain of it)");
	return BG_OK;
}

static const bg_cfg_key server_keys[] = {
	{ .name = "listen", .type = BG_CFG_STRING, .def = "127.0.0.1:8443",
	  .offset = offsetof(ad_config_server, listen) },
	{ .name = "tls_cert", .type = BG_CFG_PATH,
	  .offset = offsetof(ad_config_server, tls_cert) },
	{ .name = "tls_key", .type = BG_CFG_PATH,
	  .offset = offsetof(ad_config_server, tls_key) },
	{ .name = "database", .type = BG_CFG_STRING,
	  .def = "/var/lib/breakglass-approvald/approvald.db",
	  .offset = offsetof(ad_config_server, database), .check = ad_store_database_check },
	{ .name = "database_password_file", .type = BG_CFG_PATH,
	  .offset = offsetof(ad_config_server, database_password_file) },
	/* Default: the host name (ad_config_load). */
	{ .name = "instance", .type = BG_CFG_STRING,
	  .offset = offsetof(ad_config_server, instance), .check = check_instance },
	{ .name = "signing_key", .type = BG_CFG_PATH, .required = true,
	  .offset = offsetof(ad_config_server, signing_key) },
	{ .name = "request_expiry", .type = BG_CFG_DURATION, .def = "10m",
	  .offset = offsetof(ad_config_server, request_expiry),
	  .min = EXPIRY_MIN, .max = EXPIRY_MAX },
	{ .name = "quorum", .type = BG_CFG_UINT, .def = "2",
	  .offset = offsetof(ad_config_server, quorum), .min = 1 },
	{ .name = "public_url", .type = BG_CFG_URL,
	  .offset = offsetof(ad_config_server, public_url) },
	{ .name = "state_dir", .type = BG_CFG_PATH,
	  .def = "/var/lib/breakglass-approvald",
	  .offset = offsetof(ad_config_server, state_dir) },
	{ .name = "journal", .type = BG_CFG_PATH,
	  .def = "/var/log/breakglass-approvald/journal.jsonl",
	  .offset = offsetof(ad_config_server, journal) },
	{ .name = "totp_window", .type = BG_CFG_UINT, .def = "1",
	  .offset = offsetof(ad_config_server, totp_window), .max = TOTP_WINDOW_MAX },
	/* Lockout is never off: min 1. */
	{ .name = "totp_max_failures", .type = BG_CFG_UINT, .def = "5",
	  .offset = offsetof(ad_config_server, totp_max_failures), .min = 1 },
	{ .name = "totp_failure_window", .type = BG_CFG_DURATION, .def = "15m",
	  .offset = offsetof(ad_config_server, totp_failure_window), .min = 1 },
	{ .name = "totp_lockout", .type = BG_CFG_DURATION, .def = "15m",
	  .offset = offsetof(ad_config_server, totp_lockout), .min = 1 },
	{ .name = "request_timeout", .type = BG_CFG_DURATION, .def = "10s",
	  .offset = offsetof(ad_config_server, request_timeout),
	  .min = 1, .max = REQUEST_TIMEOUT_MAX },
	{ .name = "max_connections_per_ip", .type = BG_CFG_UINT, .def = "64",
	  .offset = offsetof(ad_config_server, max_connections_per_ip),
	  .max = CONNECTIONS_MAX },
	{ .name = "max_polls", .type = BG_CFG_UINT, .def = "12000",
	  .offset = offsetof(ad_config_server, max_polls), .max = CONNECTIONS_MAX },
	{ .name = "max_pending_per_host", .type = BG_CFG_UINT, .def = "20",
	  .offset = offsetof(ad_config_server, max_pending_per_host), .min = 1 },
	{ .name = "host_rate", .type = BG_CFG_UINT, .def = "60",
	  .offset = offsetof(ad_config_server, host_rate), .min = 1 },
	{ .name = "retention", .type = BG_CFG_DURATION, .def = "400d",
	  .offset = offsetof(ad_config_server, retention), .min = RETENTION_MIN },
	{ .name = "min_free_space", .type = BG_CFG_UINT, .def = "64",
	  .offset = offsetof(ad_config_server, min_free_space) },
	/* Default: the origin of public_url, else of listen (ad_config_load). */
	{ .name = "origin", .type = BG_CFG_STRING,
	  .offset = offsetof(ad_config_server, origin), .check = check_origin },
	/* Default: origin's host (ad_config_load). */
	{ .name = "rp_id", .type = BG_CFG_STRING,
	  .offset = offsetof(ad_config_server, rp_id), .check = check_rp_id },
	{ .name = "second_factor", .type = BG_CFG_ENUM, .def = "any",
	  .offset = offsetof(ad_config_server, second_factor),
	  .choices = second_factor_choices },
	{ .name = "session_idle", .type = BG_CFG_DURATION, .def = "10m",
	  .offset = offsetof(ad_config_server, session_idle),
	  .min = 1, .max = SESSION_MAX_MAX },
	{ .name = "session_max", .type = BG_CFG_DURATION, .def = "1h",
	  .offset = offsetof(ad_config_server, session_max),
	  .min = 1, .max = SESSION_MAX_MAX },
};

/*
 * A Slack user ID as Slack writes it: U or W (Enterprise Grid) and upper
 * case letters and digits.  Compared exactly: the click names its user so.
 */
static bg_status
check_slack_user(const char *value, bg_error *err)
{
	size_t n = strlen(value);

	if ((value[0] != 'U' && value[0] != 'W') || n < SLACK_USER_MIN || n > SLACK_USER_MAX ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
		return bg_error_set(err, BG_ERR_INVALID, "a Slack user ID: U or W, then "
		    "upper case letters and digits (Slack: the member's profile, "
		    "\"Copy member ID\")");
	return BG_OK;
}

/* The channel's ID, not its name: a renamed channel keeps its ID. */
static bg_status
check_slack_channel(const char *value, bg_error *err)
{
	size_t n = strlen(value);

	if ((value[0] != 'C' && value[0] != 'G' && value[0] != 'D') ||
	    n < SLACK_CHANNEL_MIN || n > SLACK_CHANNEL_MAX ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
		return bg_error_set(err, BG_ERR_INVALID, "a Slack channel ID: C, G or D, "
		    "then upper case letters and digits (Slack: the channel's details, "
		    "at the bottom), not its name");
	return BG_OK;
}

static const bg_cfg_key host_keys[] = {
	{ .name = "key", .type = BG_CFG_PATH, .required = true,
	  .offset = offsetof(ad_config_host, key) },
};

static const bg_cfg_key approver_keys[] = {
	{ .name = "token_sha256", .type = BG_CFG_HEX32, .required = true,
	  .offset = offsetof(ad_config_approver, token_sha256) },
	{ .name = "totp", .type = BG_CFG_PATH, .required = true,
	  .offset = offsetof(ad_config_approver, totp) },
	{ .name = "slack_user", .type = BG_CFG_STRING,
	  .offset = offsetof(ad_config_approver, slack_user), .check = check_slack_user },
};

static const bg_cfg_key notify_keys[] = {
	/* Required but with token, where it is Slack's Web API (validate_notify). */
	{ .name = "url", .type = BG_CFG_URL,
	  .offset = offsetof(ad_config_notify, url) },
	{ .name = "format", .type = BG_CFG_ENUM, .required = true,
	  .offset = offsetof(ad_config_notify, format), .choices = format_choices },
	{ .name = "secret", .type = BG_CFG_PATH,
	  .offset = offsetof(ad_config_notify, secret) },
	{ .name = "token", .type = BG_CFG_PATH,
	  .offset = offsetof(ad_config_notify, token) },
	{ .name = "channel", .type = BG_CFG_STRING,
	  .offset = offsetof(ad_config_notify, channel), .check = check_slack_channel },
};

static const bg_cfg_key slack_keys[] = {
	{ .name = "signing_secret", .type = BG_CFG_PATH,
	  .offset = offsetof(ad_config_slack, signing_secret) },
	{ .name = "response_url_prefix", .type = BG_CFG_URL,
	  .def = "https://hooks.slack.com/",
	  .offset = offsetof(ad_config_slack, response_url_prefix) },
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

enum { SEC_SERVER, SEC_HOST, SEC_APPROVER, SEC_NOTIFY, SEC_SLACK, SEC_COUNT };

static const bg_cfg_section sections[SEC_COUNT] = {
	[SEC_SERVER] = { .name = "server", .required = true,
	    .keys = server_keys, .nkeys = NKEYS(server_keys),
	    .size = sizeof(ad_config_server),
	    .offset = offsetof(ad_config, server) },
	[SEC_HOST] = { .name = "host", .named = true,
	    .keys = host_keys, .nkeys = NKEYS(host_keys),
	    .size = sizeof(ad_config_host),
	    .offset = offsetof(ad_config, host),
	    .count_offset = offsetof(ad_config, nhost), .max_count = MAX_HOSTS },
	[SEC_APPROVER] = { .name = "approver", .named = true,
	    .keys = approver_keys, .nkeys = NKEYS(approver_keys),
	    .size = sizeof(ad_config_approver),
	    .offset = offsetof(ad_config, approver),
	    .count_offset = offsetof(ad_config, napprover),
	    .max_count = MAX_APPROVERS },
	[SEC_NOTIFY] = { .name = "notify", .named = true,
	    .keys = notify_keys, .nkeys = NKEYS(notify_keys),
	    .size = sizeof(ad_config_notify),
	    .offset = offsetof(ad_config, notify),
	    .count_offset = offsetof(ad_config, nnotify), .max_count = MAX_NOTIFY },
	[SEC_SLACK] = { .name = "slack",
	    .keys = slack_keys, .nkeys = NKEYS(slack_keys),
	    .size = sizeof(ad_config_slack),
	    .offset = offsetof(ad_config, slack) },
};

static const bg_cfg_schema schema = { sections, SEC_COUNT };

static unsigned
key_line(int sec, const bg_cfg_meta *meta, const char *key)
{
	return bg_cfg_key_line(&sections[sec], meta, key);
}

/* "host:port" or "[v6]:port", the host a numeric address. */
static bg_status
parse_listen(ad_config *cfg, bg_error *err)
{
	const char *s = cfg->server.listen, *colon;
	struct in6_addr a6;
	struct in_addr a4;
	char *end;
	size_t hlen;
	unsigned long port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return bg_error_set(err, BG_ERR_INVALID,
			    "expected [IPv6]:port");
		hlen = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
		cfg->listen_v6 = true;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return bg_error_set(err, BG_ERR_INVALID,
			    "expected address:port");
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(cfg->listen_host))
		return bg_error_set(err, BG_ERR_INVALID, "invalid address");
	memcpy(cfg->listen_host, s, hlen);
	cfg->listen_host[hlen] = '\0';
	if (cfg->listen_v6 ? inet_pton(AF_INET6, cfg->listen_host, &a6) != 1 :
	    inet_pton(AF_INET, cfg->listen_host, &a4) != 1)
		return bg_error_set(err, BG_ERR_INVALID,
		    "the address must be a numeric IPv4 or [IPv6] address");
	if (colon[1] < '0' || colon[1] > '9')
		return bg_error_set(err, BG_ERR_INVALID, "invalid port");
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > PORT_MAX)
		return bg_error_set(err, BG_ERR_INVALID, "invalid port");
	cfg->listen_port = (unsigned)port;
	return BG_OK;
}

static bool
valid_user_name(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > APPROVER_NAME_MAX || v[0] == '-' || v[0] == '.')
		return false;
	return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-.") == n;
}

static void
validate_server(bg_cfg_check *c, ad_config *cfg)
{
	const ad_config_server *s = &cfg->server;
	bg_error err;

	if (parse_listen(cfg, &err) != BG_OK) {
		bg_cfg_check_error(c, key_line(SEC_SERVER, &s->meta, "listen"),
		    "listen: %s", err.msg);
		return;
	}
	if (s->database_password_file != NULL &&
	    ad_store_database_check(s->database, &err) == BG_OK && s->database[0] == '/')
		bg_cfg_check_error(c, key_line(SEC_SERVER, &s->meta, "database_password_file"),
		    "database_password_file: only for a postgresql:// database");
	if (s->session_idle > s->session_max)
		bg_cfg_check_error(c, key_line(SEC_SERVER, &s->meta, "session_idle"),
		    "session_idle: longer than session_max");
	if ((s->tls_cert == NULL) != (s->tls_key == NULL))
		bg_cfg_check_error(c, s->meta.line,
		    "[server]: tls_cert and tls_key go together");
	/* Host signatures, tokens and TOTP codes must not cross a network in clear. */
	if (s->tls_cert == NULL && !bg_host_is_loopback(cfg->listen_host))
		bg_cfg_check_error(c, key_line(SEC_SERVER, &s->meta, "listen"),
		    "listen: plain HTTP only on a loopback address; "
		    "set tls_cert and tls_key");
}

/* A click names one Slack user: one approver per user. */
static void
validate_slack(bg_cfg_check *c, ad_config *cfg)
{
	const ad_config_slack *s = &cfg->slack;
	bool https = false;
	char host[256];
	bg_error err;

	for (size_t i = 0; i < cfg->napprover; i++)
		for (size_t j = 0; cfg->approver[i].slack_user != NULL && j < i; j++)
			if (cfg->approver[j].slack_user != NULL &&
			    strcmp(cfg->approver[i].slack_user, cfg->approver[j].slack_user) == 0)
				bg_cfg_check_error(c, key_line(SEC_APPROVER,
				    &cfg->approver[i].meta, "slack_user"),
				    "slack_user: the same as [approver %s]'s",
				    cfg->approver[j].meta.name);
	if (s->meta.line == 0)
		return;
	if (s->signing_secret == NULL)
		bg_cfg_check_error(c, s->meta.line, "[slack]: signing_secret is required");
	/* A response_url carries a message to a channel: in clear only on loopback (tests). */
	if (bg_url_host(s->response_url_prefix, &https, host, sizeof(host), &err) != BG_OK ||
	    (!https && !bg_host_is_loopback(host)) ||
	    s->response_url_prefix[strlen(s->response_url_prefix) - 1] != '/')
		bg_cfg_check_error(c, key_line(SEC_SLACK, &s->meta, "response_url_prefix"),
		    "response_url_prefix: an https:// URL (http:// only on loopback) "
		    "ending in '/', so that its host cannot be extended");
}

/*
 * A webhook target has its url; a Slack bot (token and channel) posts to
 * Slack's Web API, url its base: the bearer token crosses the network
 * there, in clear only on loopback (tests).
 */
static void
validate_notify(bg_cfg_check *c, ad_config_notify *n)
{
	bool https = false;
	char host[256];
	bg_error err;

	if (n->format == AD_NOTIFY_JSON && n->secret == NULL)
		bg_cfg_check_error(c, n->meta.line,
		    "[notify %s]: format json needs \"secret\"", n->meta.name);
	if (n->format == AD_NOTIFY_SLACK && n->secret != NULL)
		bg_cfg_check_error(c, key_line(SEC_NOTIFY, &n->meta, "secret"),
		    "secret: only for format json");
	if (n->token == NULL) {
		if (n->channel != NULL)
			bg_cfg_check_error(c, key_line(SEC_NOTIFY, &n->meta, "channel"),
			    "channel: only with token (a Slack bot)");
		if (n->url == NULL)
			bg_cfg_check_error(c, n->meta.line, "[notify %s]: missing required "
			    "key \"url\"", n->meta.name);
		return;
	}
	if (n->format != AD_NOTIFY_SLACK)
		bg_cfg_check_error(c, key_line(SEC_NOTIFY, &n->meta, "token"),
		    "token: only for format slack");
	if (n->channel == NULL)
		bg_cfg_check_error(c, key_line(SEC_NOTIFY, &n->meta, "token"),
		    "[notify %s]: a Slack bot (token) needs \"channel\"", n->meta.name);
	if (n->url == NULL && (n->url = strdup(SLACK_API_DEFAULT)) == NULL) {
		bg_cfg_check_error(c, n->meta.line, "out of memory");
		return;
	}
	if (bg_url_host(n->url, &https, host, sizeof(host), &err) != BG_OK ||
	    (!https && !bg_host_is_loopback(host)) || n->url[strlen(n->url) - 1] != '/')
		bg_cfg_check_error(c, key_line(SEC_NOTIFY, &n->meta, "url"),
		    "url: with token, Slack's Web API: an https:// URL (http:// only "
		    "on loopback) ending in '/' (default " SLACK_API_DEFAULT ")");
}

static void
validate_sections(bg_cfg_check *c, ad_config *cfg)
{
	bool slack = false;

	for (size_t i = 0; i < cfg->napprover; i++)
		if (!valid_user_name(cfg->approver[i].meta.name))
			bg_cfg_check_error(c, cfg->approver[i].meta.line,
			    "[approver %s]: the name must be a user name",
			    cfg->approver[i].meta.name);
	/* Names are compared ignoring ASCII case (names.h): Bob and bob are one person. */
	for (size_t i = 0; i < cfg->napprover; i++)
		for (size_t j = 0; j < i; j++)
			if (bg_name_equal(cfg->approver[i].meta.name, cfg->approver[j].meta.name))
				bg_cfg_check_error(c, cfg->approver[i].meta.line,
				    "[approver %s]: the same name as line %u's (names are "
				    "compared ignoring case)", cfg->approver[i].meta.name,
				    cfg->approver[j].meta.line);
	for (size_t i = 0; i < cfg->nnotify; i++) {
		validate_notify(c, &cfg->notify[i]);
		slack = slack || cfg->notify[i].format == AD_NOTIFY_SLACK;
	}
	validate_slack(c, cfg);
	if ((slack || cfg->slack.meta.line != 0) && cfg->server.public_url == NULL)
		bg_cfg_check_error(c, cfg->server.meta.line,
		    "[server]: public_url is needed for slack notifications' and one-time links");
	if (cfg->nhost == 0)
		bg_cfg_check_error(c, 1, "no [host NAME] section: no host could file a request");
	if (cfg->napprover == 0)
		bg_cfg_check_error(c, 1, "no [approver NAME] section: nobody could vote");
}

/* The origin of public_url when set, else the service's own address. */
static char *
default_origin(const ad_config *cfg)
{
	const ad_config_server *s = &cfg->server;
	char *out = NULL, *p;

	if (s->public_url != NULL && origin_len(s->public_url) > 0) {
		out = strndup(s->public_url, origin_len(s->public_url));
	} else if (asprintf(&out, "%s://%s", s->tls_cert != NULL ? "https" : "http",
	    s->listen) < 0) {
		return NULL;
	}
	/* Browsers send the scheme and host in lowercase. */
	for (p = out; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* The host of origin (scheme://host[:port]): a name, an IPv4 or a [v6] address. */
static char *
origin_host(const char *origin)
{
	const char *host = strstr(origin, "://") + 3;
	size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");

	return strndup(host, n);
}

/*
 * WebAuthn's rule: the RP ID is the origin's host or a parent domain of it
 * (browsers refuse anything else, and the rpIdHash check would refuse every
 * passkey).
 */
static void
validate_rp_id(bg_cfg_check *c, ad_config *cfg)
{
	ad_config_server *s = &cfg->server;
	char *host = origin_host(s->origin);
	size_t hn, rn;

	if (host == NULL) {
		bg_cfg_check_error(c, 1, "out of memory");
		return;
	}
	if (s->rp_id == NULL) {
		s->rp_id = host;
		return;
	}
	hn = strlen(host);
	rn = strlen(s->rp_id);
	if (!(strcmp(host, s->rp_id) == 0 || (hn > rn && host[hn - rn - 1] == '.' &&
	    strcmp(host + hn - rn, s->rp_id) == 0)))
		bg_cfg_check_error(c, key_line(SEC_SERVER, &s->meta, "rp_id"),
		    "rp_id: %s is neither origin's host (%s) nor a parent domain of it",
		    s->rp_id, host);
	free(host);
}

/* The host name, as gethostname gives it (the journal's "host" too). */
static char *
default_instance(void)
{
	char name[256] = "localhost";

	if (gethostname(name, sizeof(name) - 1) != 0)
		snprintf(name, sizeof(name), "%s", "localhost");
	return strdup(name);
}

bg_status
ad_config_load(const char *path, ad_config *cfg, bg_errlist *errs)
{
	bg_cfg_check c = { .path = path, .errs = errs };
	bg_error err;
	char *data;
	size_t len;
	bg_status st;

	memset(cfg, 0, sizeof(*cfg));
	st = bg_file_read(path, BG_FILE_CONFIG, AD_CONFIG_MAX_SIZE, &data, &len, &err);
	if (st != BG_OK) {
		bg_errlist_add(errs, "%s", err.msg);
		return st;
	}
	st = bg_ini_parse(path, data, len, &schema, cfg, errs);
	free(data);
	if (st != BG_OK)
		return st;
	validate_server(&c, cfg);
	validate_sections(&c, cfg);
	if (c.nerrors == 0 && cfg->server.instance == NULL &&
	    (cfg->server.instance = default_instance()) == NULL)
		bg_cfg_check_error(&c, 1, "out of memory");
	if (c.nerrors == 0 && cfg->server.origin == NULL &&
	    (cfg->server.origin = default_origin(cfg)) == NULL)
		bg_cfg_check_error(&c, 1, "out of memory");
	if (c.nerrors == 0)
		validate_rp_id(&c, cfg);
	if (c.nerrors == 0 && (cfg->path = strdup(path)) == NULL)
		bg_cfg_check_error(&c, 1, "out of memory");
	if (c.nerrors > 0) {
		ad_config_free(cfg);
		return BG_ERR_INVALID;
	}
	return BG_OK;
}

void
ad_config_free(ad_config *cfg)
{
	if (cfg == NULL)
		return;
	bg_ini_free(&schema, cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const ad_config_host *
ad_config_find_host(const ad_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nhost; i++)
		if (strcmp(cfg->host[i].meta.name, name) == 0)
			return &cfg->host[i];
	return NULL;
}

const ad_config_approver *
ad_config_find_approver(const ad_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->napprover; i++)
		if (bg_name_equal(cfg->approver[i].meta.name, name))
			return &cfg->approver[i];
	return NULL;
}

const ad_config_approver *
ad_config_find_slack_user(const ad_config *cfg, const char *user)
{
	for (size_t i = 0; i < cfg->napprover; i++)
		if (cfg->approver[i].slack_user != NULL &&
		    strcmp(cfg->approver[i].slack_user, user) == 0)
			return &cfg->approver[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* --check-config: the files the configuration names. */

static void
check_key_file(bg_cfg_check *c, unsigned line, const char *key, const char *path)
{
	unsigned char k[BG_SHA256_LEN];
	bg_error err;

	if (bg_key_file_read(path, k, &err) != BG_OK)
		bg_cfg_check_error(c, line, "%s: %s", key, err.msg);
	explicit_bzero(k, sizeof(k));
}

static void
check_pem_file(bg_cfg_check *c, unsigned line, const char *key, const char *path,
    bg_file_kind kind)
{
	bg_error err;
	char *data;
	size_t len;

	if (bg_file_read(path, kind, PEM_FILE_MAX, &data, &len, &err) != BG_OK) {
		bg_cfg_check_error(c, line, "%s: %s", key, err.msg);
		return;
	}
	if (strstr(data, "-----BEGIN ") == NULL)
		bg_cfg_check_error(c, line, "%s: %s: not a PEM file", key, path);
	bg_file_free_secret(data, len);
}

static void
check_signing_key(bg_cfg_check *c, const ad_config *cfg)
{
	static const char probe[] = "breakglass-approvald check-config";
	unsigned char sig[BG_ED25519_SIG_LEN];
	bg_error err;

	if (bg_ed25519_sign_file(cfg->server.signing_key, probe, sizeof(probe) - 1,
	    sig, &err) != BG_OK)
		bg_cfg_check_error(c, key_line(SEC_SERVER, &cfg->server.meta, "signing_key"),
		    "signing_key: %s", err.msg);
}

bg_status
ad_config_check_files(const ad_config *cfg, bg_errlist *errs)
{
	bg_cfg_check c = { .path = cfg->path, .errs = errs };
	const ad_config_server *s = &cfg->server;
	bg_error err;

	check_signing_key(&c, cfg);
	if (s->tls_cert != NULL) {
		check_pem_file(&c, key_line(SEC_SERVER, &s->meta, "tls_cert"),
		    "tls_cert", s->tls_cert, BG_FILE_CONFIG);
		check_pem_file(&c, key_line(SEC_SERVER, &s->meta, "tls_key"),
		    "tls_key", s->tls_key, BG_FILE_SECRET);
	}
	if (s->database_password_file != NULL) {
		char *pw;
		size_t len;

		if (bg_file_read(s->database_password_file, BG_FILE_SECRET, PEM_FILE_MAX,
		    &pw, &len, &err) != BG_OK)
			bg_cfg_check_error(&c, key_line(SEC_SERVER, &s->meta,
			    "database_password_file"), "database_password_file: %s", err.msg);
		else
			bg_file_free_secret(pw, len);
	}
	if (bg_dir_check(s->state_dir, &err) != BG_OK)
		bg_cfg_check_error(&c, key_line(SEC_SERVER, &s->meta, "state_dir"),
		    "state_dir: %s", err.msg);
	for (size_t i = 0; i < cfg->nhost; i++)
		check_key_file(&c, key_line(SEC_HOST, &cfg->host[i].meta, "key"),
		    "key", cfg->host[i].key);
	for (size_t i = 0; i < cfg->nnotify; i++) {
		const ad_config_notify *n = &cfg->notify[i];
		char *token;
		size_t len;

		if (n->secret != NULL)
			check_key_file(&c, key_line(SEC_NOTIFY, &n->meta, "secret"),
			    "secret", n->secret);
		if (n->token == NULL)
			continue;
		if (ad_slack_token_read(n->token, &token, &len, &err) != BG_OK)
			bg_cfg_check_error(&c, key_line(SEC_NOTIFY, &n->meta, "token"),
			    "token: %s", err.msg);
		else
			bg_file_free_secret(token, len);
	}
	if (cfg->slack.signing_secret != NULL) {
		char *secret;
		size_t len;

		if (ad_slack_secret_read(cfg->slack.signing_secret, &secret, &len, &err) != BG_OK)
			bg_cfg_check_error(&c, key_line(SEC_SLACK, &cfg->slack.meta,
			    "signing_secret"), "signing_secret: %s", err.msg);
		else
			bg_file_free_secret(secret, len);
	}
	if (ad_approver_check_secrets(cfg, errs) != BG_OK)
		c.nerrors++;
	return c.nerrors == 0 ? BG_OK : BG_ERR_INVALID;
}
