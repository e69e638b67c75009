/* /etc/breakglass/breakglass.conf: schema, defaults and validation. */
#ifndef BG_CONFIG_H
#define BG_CONFIG_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "ini.h"
#include "status.h"
#include "totp.h"

#define BG_CONFIG_MAX_SIZE (256 * 1024)

typedef enum { BG_OPERATOR_PROMPT, BG_OPERATOR_ACCOUNT } bg_operator_mode;
typedef enum { BG_SIGNAL_ALERTMANAGER, BG_SIGNAL_PROMETHEUS, BG_SIGNAL_HTTP } bg_signal_type;

typedef struct {
	bg_cfg_meta meta;
	bg_strlist accounts;          /* glob patterns */
	unsigned operator_mode;       /* bg_operator_mode */
	char *state_dir;
	char *run_dir;
	char *kill_switch;
	unsigned long grant_ttl;      /* seconds */
	bool revoke_on_logout;
	char *journal;
} bg_config_general;

typedef struct {
	bg_cfg_meta meta;
	char *operators_dir;
	unsigned long window;
	unsigned long max_failures;
	unsigned long failure_window;
	unsigned long lockout;
} bg_config_totp;

/* [approval] url may be repeated up to this many times. */
#define BG_APPROVAL_MAX_URLS 8

typedef struct {
	bg_cfg_meta meta;
	bg_strlist url;               /* the service's instances, in the order tried */
	char *host_id;
	char *host_key;
	char *service_key;
	bg_strlist approvers;
	unsigned long quorum;
	unsigned long timeout;
	unsigned long connect_timeout;
	char *ca_file;                /* optional */
} bg_config_approval;

typedef struct {
	bg_cfg_meta meta;
	unsigned long required;
} bg_config_signals;

typedef struct {
	bg_cfg_meta meta;             /* meta.name: the source name */
	unsigned type;                /* bg_signal_type */
	char *url;
	bg_strlist match;             /* label matchers: name op "value" */
	char *bearer_token_file;      /* optional */
	char *pointer;                /* http: RFC 6901 pointer */
	char *equals;                 /* http: expected value (JSON text or bare string) */
} bg_config_signal;

typedef struct {
	bg_cfg_meta meta;             /* meta.name: the scope name */
	char *description;
	bg_strlist command;           /* "PATH ARGPATTERN..." */
	bg_strlist edit;              /* sudoedit file globs */
	char *runas;
} bg_config_scope;

/* Offline recovery (protocol R1): used only when no approval service answers. */
typedef struct {
	bg_cfg_meta meta;
	bool enabled;
	bg_strlist approvers;         /* names of the key files in keys_dir */
	char *keys_dir;               /* one K_AH file per approver, root 0600 */
	unsigned long quorum;         /* default: [approval] quorum */
	unsigned long ttl;            /* seconds; default 15m, at most grant_ttl */
	bg_strlist scopes;            /* the scopes a recovery grant may carry */
	unsigned long challenge_ttl;  /* seconds */
	unsigned long signals_required;
} bg_config_recovery;

typedef struct bg_config {
	char *path;
	bg_config_general general;
	bg_config_totp totp;
	bg_config_approval approval;
	bg_config_signals signals;
	bg_config_recovery recovery;
	bg_config_signal *signal;
	size_t nsignal;
	bg_config_scope *scope;
	size_t nscope;
} bg_config;

/*
 * Reads and validates path.  The file must be a regular file (no symlink)
 * owned by root or the euid and not writable by group or others.  On error,
 * every problem is in errs ("file:line: what"), *cfg stays zeroed, and the
 * caller must deny whatever it was deciding.
 */
bg_status bg_config_load(const char *path, bg_config *cfg, bg_errlist *errs);

/* As bg_config_load on text already in memory (no file checks). */
bg_status bg_config_parse(const char *path, const char *text, size_t len,
    bg_config *cfg, bg_errlist *errs);

/*
 * The deeper check of `breakglass check-config`: every file and directory the
 * configuration names exists with the right owner and mode, and every key
 * parses.  Adds one message per problem; returns BG_OK when there is none.
 */
bg_status bg_config_check_files(const bg_config *cfg, bg_errlist *errs);

/*
 * Warnings of `breakglass check-config` about a valid configuration:
 * "file:line: warning: ..." for scope commands that likely allow more than
 * meant (bg_scope_command_lint).  They refuse nothing.
 */
void bg_config_lint(const bg_config *cfg, bg_errlist *warnings);

void bg_config_free(bg_config *cfg);

/* Whether user matches one of [general] accounts. */
bool bg_config_is_breakglass_account(const bg_config *cfg, const char *user);

/* Looks up a scope by name; NULL when absent. */
const bg_config_scope *bg_config_find_scope(const bg_config *cfg, const char *name);

/*
 * A [signal] match line: `label OP "value"`, OP one of = != =~ !~, label
 * [a-zA-Z_][a-zA-Z0-9_]*, value double-quoted (\" and \\ escape).  The
 * config check and the signal evaluation share this parser so they agree.
 */
typedef enum { BG_MATCH_EQ, BG_MATCH_NE, BG_MATCH_RE, BG_MATCH_NRE } bg_match_op;

typedef struct {
	char *label;
	bg_match_op op;
	char *value;                  /* unescaped */
	bool has_re;                  /* RE, NRE: re holds ^(value)$, REG_EXTENDED */
	regex_t re;
} bg_matcher;

bg_status bg_matcher_parse(const char *text, bg_matcher *m, bg_error *err);
/* Whether a label value (NULL: label absent, matched as "") satisfies m. */
bool bg_matcher_matches(const bg_matcher *m, const char *label_value);
void bg_matcher_free(bg_matcher *m);

/* Paths derived from the configuration, written into out (size outsz). */
bg_status bg_config_journal_state_path(const bg_config *cfg, char *out, size_t outsz,
    bg_error *err);

/*
 * The [totp] policy, with per-identity TOTP state (last step, failures,
 * lockout) in {state_dir}/totp, which dir (size dirsz) receives.
 */
bg_status bg_config_totp_policy(const bg_config *cfg, bg_totp_policy *p, char *dir,
    size_t dirsz, bg_error *err);

#endif
