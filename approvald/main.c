/*
 * breakglass-approvald: options, start-up, signals and the timer loop.
 * SIGTERM and SIGINT stop cleanly (waiting polls are answered first);
 * SIGHUP reloads the configuration, keeping the old one if the new one has
 * any error.  The main thread also runs the timer: expiry of pending
 * requests, the end of long polls, the request deadline of slow
 * connections, pruning of the replay table and the retention purge.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "approvald.h"
#include "escape.h"
#include "fileio.h"

#define EXIT_USAGE 2
#define TICK_MS 200L
#define PRUNE_EVERY_MS 60000LL
/* The retention purge: at start, then hourly. */
#define PURGE_EVERY_MS 3600000LL
#define STOP_GRACE_MS 2000LL
#define NS_PER_MS 1000000L
/* Fewer waiting polls than this many below the last mark: return freed memory. */
#define TRIM_AFTER_POLLS 256

struct options {
	const char *config;
	bool check_config;
	bool foreground;
	bool init_journal;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass-approvald [--config PATH] [--foreground]\n"
	    "       breakglass-approvald [--config PATH] --check-config\n"
	    "       breakglass-approvald [--config PATH] --init-journal\n"
	    "       breakglass-approvald --version\n"
	    "\n"
	    "The breakglass approval service.  Default configuration: %s\n",
	    AD_DEFAULT_CONFIG);
}

/* Returns -1 to go on, or an exit status. */
static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "init-journal", no_argument, NULL, 'I' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->config = AD_DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'C':
			o->check_config = true;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'I':
			o->init_journal = true;
			break;
		case 'V':
			printf("breakglass-approvald %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* To stderr before the start, to the daemon's log on a reload (stderr is gone then). */
static void
print_errors(const bg_errlist *errs, bool reloading)
{
	char line[BG_ERROR_MAX * 2];

	for (size_t i = 0; i < errs->count; i++) {
		bg_escape_printable(errs->msgs[i], line, sizeof(line));
		if (reloading)
			ad_log(LOG_ERR, "reload: %s", line);
		else
			fprintf(stderr, "breakglass-approvald: %s\n", line);
	}
}

static ad_config *
load_config(const char *path, bool check_files, bool reloading)
{
	ad_config *cfg = calloc(1, sizeof(*cfg));
	bg_errlist errs = { 0 };

	if (cfg == NULL)
		return NULL;
	if (ad_config_load(path, cfg, &errs) != BG_OK ||
	    (check_files && ad_config_check_files(cfg, &errs) != BG_OK)) {
		print_errors(&errs, reloading);
		bg_errlist_free(&errs);
		ad_config_free(cfg);
		free(cfg);
		return NULL;
	}
	bg_errlist_free(&errs);
	return cfg;
}

static void
config_destroy(ad_config *cfg)
{
	ad_config_free(cfg);
	free(cfg);
}

static int
init_journal(ad_app *app)
{
	unsigned char k1[BG_SHA256_LEN];
	char hex[BG_SHA256_HEX_LEN + 1];
	bg_error err;

	if (ad_audit_init(app, &err) != BG_OK ||
	    bg_journal_init(&app->audit.journal, k1, &err) != BG_OK) {
		fprintf(stderr, "breakglass-approvald: journal: %s\n", err.msg);
		return EXIT_FAILURE;
	}
	bg_hex_encode(k1, sizeof(k1), hex);
	printf("%s\n", hex);
	fprintf(stderr, "breakglass-approvald: this is the journal's first key, K_1: "
	    "keep it offline for `breakglass verify --key`; it is not stored here.\n");
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(hex, sizeof(hex));
	return EXIT_SUCCESS;
}

/* The journal is initialised. */
static bg_status
prepare_state(ad_app *app, bg_error *err)
{
	bg_journal_state js;

	if (ad_audit_init(app, err) != BG_OK)
		return BG_ERR_INVALID;
	if (bg_journal_state_read(app->audit.state_path, &js, err) != BG_OK) {
		bg_error_prefix(err, "journal not initialised (run --init-journal)");
		return BG_ERR_INVALID;
	}
	explicit_bzero(&js, sizeof(js));
	return BG_OK;
}

/*
 * Detaches unless --foreground.  The parent exits once the child reports
 * that it listens (or failed), so a start-up error shows in its status.
 */
static int
detach(int *ready_fd)
{
	int fds[2], devnull;
	pid_t pid;
	char c;

	if (pipe(fds) != 0)
		return EXIT_FAILURE;
	pid = fork();
	if (pid < 0)
		return EXIT_FAILURE;
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? EXIT_SUCCESS : EXIT_FAILURE);
	}
	close(fds[0]);
	if (setsid() < 0 || (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return EXIT_FAILURE;
	/* Messages go to syslog from here on. */
	dup2(devnull, STDIN_FILENO);
	dup2(devnull, STDOUT_FILENO);
	dup2(devnull, STDERR_FILENO);
	if (devnull > STDERR_FILENO)
		close(devnull);
	*ready_fd = fds[1];
	return -1;
}

static void
reload(ad_app *app, const char *path)
{
	/* The same checks as at start: a reload never adopts what a start would refuse. */
	ad_config *cfg = load_config(path, true, true), *old;
	bg_ed25519_key *signer, *old_signer;
	bg_error err;

	if (cfg == NULL) {
		ad_log(LOG_ERR, "reload: %s has errors; keeping the running configuration",
		    path);
		return;
	}
	if (bg_ed25519_key_load(cfg->server.signing_key, &signer, &err) != BG_OK) {
		ad_log(LOG_ERR, "reload: signing_key: %s; keeping the running configuration",
		    err.msg);
		config_destroy(cfg);
		return;
	}
	pthread_mutex_lock(&app->lock);
	old = app->cfg;
	if (strcmp(old->server.listen, cfg->server.listen) != 0 ||
	    strcmp(old->server.database, cfg->server.database) != 0 ||
	    (old->server.tls_cert == NULL) != (cfg->server.tls_cert == NULL))
		ad_log(LOG_WARNING, "reload: listen, TLS and database changes "
		    "take effect on restart");
	app->cfg = cfg;
	if (ad_audit_init(app, &err) != BG_OK) {
		/* Keep auditing where it did. */
		app->cfg = old;
		ad_audit_init(app, &err);
		pthread_mutex_unlock(&app->lock);
		ad_log(LOG_ERR, "reload: %s", err.msg);
		bg_ed25519_key_free(signer);
		config_destroy(cfg);
		return;
	}
	old_signer = app->signer;
	app->signer = signer;
	ad_decision_forget_kept(app);
	pthread_mutex_unlock(&app->lock);
	bg_ed25519_key_free(old_signer);
	config_destroy(old);
	ad_log(LOG_NOTICE, "configuration reloaded");
}

/*
 * Thousands of polls answered at once leave their buffers free but
 * scattered through the heap, where malloc keeps them: hand them back.
 */
static void
trim_memory(size_t nwaiters, size_t *mark)
{
	if (nwaiters > *mark)
		*mark = nwaiters;
	else if (*mark - nwaiters >= TRIM_AFTER_POLLS) {
		malloc_trim(0);
		*mark = nwaiters;
	}
}

/* When each periodic job last ran (0: never). */
struct timers {
	int64_t last_prune;
	int64_t last_purge;
	size_t trim_mark;
};

static void
tick(ad_app *app, ad_http *http, struct timers *t)
{
	int64_t now = ad_now_ms();
	size_t nwaiters;
	bg_error err;

	ad_http_sweep(http);
	pthread_mutex_lock(&app->lock);
	ad_decision_expire_due(app, now);
	ad_waiters_wake(app, NULL, now);
	if (now - t->last_prune >= PRUNE_EVERY_MS) {
		if (ad_store_seen_prune(app->store, now - AD_REPLAY_KEEP_MS, &err) != BG_OK)
			ad_log(LOG_ERR, "prune: %s", err.msg);
		t->last_prune = now;
	}
	if (now - t->last_purge >= PURGE_EVERY_MS) {
		ad_retention_purge(app, now);
		t->last_purge = now;
	}
	nwaiters = app->nwaiters;
	pthread_mutex_unlock(&app->lock);
	trim_memory(nwaiters, &t->trim_mark);
}

/* Answers every waiting poll, then gives the HTTP thread a moment to send them. */
static void
drain(ad_app *app)
{
	int64_t until = ad_now_ms() + STOP_GRACE_MS;
	const struct timespec pause = { 0, TICK_MS * NS_PER_MS };
	size_t left;

	pthread_mutex_lock(&app->lock);
	app->stopping = true;
	ad_waiters_wake(app, NULL, ad_now_ms());
	pthread_mutex_unlock(&app->lock);
	do {
		nanosleep(&pause, NULL);
		pthread_mutex_lock(&app->lock);
		left = app->nwaiters;
		pthread_mutex_unlock(&app->lock);
	} while (left > 0 && ad_now_ms() < until);
}

static void
serve(ad_app *app, ad_http *http, const char *path, const sigset_t *set)
{
	const struct timespec tmo = { 0, TICK_MS * NS_PER_MS };
	struct timers t = { 0 };
	int sig;

	for (;;) {
		sig = sigtimedwait(set, NULL, &tmo);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			reload(app, path);
		tick(app, http, &t);
	}
	ad_log(LOG_NOTICE, "stopping");
}

/*
 * Every held long poll is a descriptor: take the whole hard limit
 * (LimitNOFILE= in the systemd unit), not the 1,024 of a login shell.
 */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		ad_log(LOG_WARNING, "cannot raise the open-file limit: %s", strerror(errno));
}

static int
run(ad_app *app, const struct options *o)
{
	ad_http *http = NULL;
	ad_listener *listener = NULL;
	sigset_t set;
	bg_error err;
	int ready_fd = -1, ret;

	if (!o->foreground && (ret = detach(&ready_fd)) >= 0)
		return ret;
	ad_log_open(o->foreground);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread starts, so every thread inherits the mask. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	/* Parsed once: a key replaced on disk takes effect on SIGHUP. */
	if (prepare_state(app, &err) != BG_OK ||
	    bg_ed25519_key_load(app->cfg->server.signing_key, &app->signer, &err) != BG_OK ||
	    ad_store_open(&app->cfg->server, &app->store, &err) != BG_OK ||
	    ad_notifier_start(&app->cfg->server, &app->notifier, &err) != BG_OK ||
	    ad_listener_start(app, &listener, &err) != BG_OK ||
	    ad_http_start(app, &http, &err) != BG_OK) {
		ad_log(LOG_ERR, "%s", err.msg);
		ad_listener_stop(listener);
		ad_notifier_stop(app->notifier);
		ad_store_close(app->store);
		bg_ed25519_key_free(app->signer);
		return EXIT_FAILURE;
	}
	ad_log(LOG_NOTICE, "listening on %s%s", app->cfg->server.listen,
	    app->cfg->server.tls_cert != NULL ? " (TLS)" : "");
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "", 1);
		close(ready_fd);
	}
	/* Pending requests left by a previous run may have expired meanwhile. */
	ad_notifier_kick(app->notifier);
	serve(app, http, o->config, &set);
	drain(app);
	ad_http_stop(http);
	ad_listener_stop(listener);
	ad_notifier_stop(app->notifier);
	ad_store_close(app->store);
	bg_ed25519_key_free(app->signer);
	ad_decision_forget_kept(app);
	ad_limits_free(app);
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	struct options o = { 0 };
	ad_app app = { 0 };
	int ret = parse_options(argc, argv, &o);

	if (ret >= 0)
		return ret;
	/* The database, journal and state are nobody else's business. */
	umask(077);
	/*
	 * Every start checks the files the configuration names (signing key,
	 * host keys, TOTP secrets, TLS) as --check-config does: a key it would
	 * refuse fails the start, not the first request that needs it.
	 */
	app.cfg = load_config(o.config, !o.init_journal, false);
	if (app.cfg == NULL)
		return EXIT_FAILURE;
	if (o.check_config) {
		printf("%s: OK\n", o.config);
		config_destroy(app.cfg);
		return EXIT_SUCCESS;
	}
	if (gethostname(app.hostname, sizeof(app.hostname) - 1) != 0)
		snprintf(app.hostname, sizeof(app.hostname), "%s", "localhost");
	if (o.init_journal) {
		ret = init_journal(&app);
		config_destroy(app.cfg);
		return ret;
	}
	pthread_mutex_init(&app.lock, NULL);
	pthread_mutex_init(&app.signed_lock, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = run(&app, &o);
	curl_global_cleanup();
	pthread_mutex_destroy(&app.signed_lock);
	pthread_mutex_destroy(&app.lock);
	config_destroy(app.cfg);
	return ret;
}
