/*
 * breakglass recovery keygen|export-host|code: the approver's side of offline
 * recovery (protocol R1).  These run on the approver's own machine and need
 * no configuration.  `recovery report`, the host's side, is
 * cmd_recovery_report.c.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"
#include "fileio.h"
#include "recovery.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass recovery keygen --out FILE\n"
	    "       breakglass recovery export-host --key FILE --host HOST_ID\n"
	    "       breakglass recovery code --key FILE [--host HOST_ID] [--account ACCOUNT]\n"
	    "           [--operator NAME] [--incident ID] [--scope SCOPE]\n"
	    "           [--challenge XXXX-XXXX] [--approver NAME]\n"
	    "       breakglass [--config PATH] recovery report [--dry-run]\n"
	    "\n"
	    "keygen writes a new 32-byte recovery master key K_A (64 hex digits, mode\n"
	    "0600) to FILE, which must not exist.  export-host prints the key HOST_ID\n"
	    "holds for this approver (install it as {keys_dir}/NAME, root, 0600).\n"
	    "code prints the recovery code NNNN-NNNN approving exactly the details\n"
	    "given; it asks for each one missing.  report (on the host) files the\n"
	    "offline recovery grants not yet reported with the approval service.\n");
}

/* ---- keygen ------------------------------------------------------------- */

static int
keygen(int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char key[BG_SHA256_LEN];
	char hex[BG_SHA256_HEX_LEN + 2];
	const char *out = NULL;
	bg_error err;
	bg_status rc;
	int c, fd;

	while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (out == NULL || optind != argc) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	/* O_EXCL: an existing key is never overwritten, a planted symlink never followed. */
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "breakglass: recovery keygen: %s: %s\n", out, strerror(errno));
		return BG_EXIT_FAIL;
	}
	rc = bg_random_bytes(key, sizeof(key), &err);
	if (rc == BG_OK) {
		bg_hex_encode(key, sizeof(key), hex);
		strcat(hex, "\n");
		rc = bg_write_all(fd, hex, BG_SHA256_HEX_LEN + 1, out, &err);
	}
	if (rc == BG_OK && fsync(fd) != 0)
		rc = bg_error_errno(&err, BG_ERR_IO, errno, "%s: fsync", out);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(hex, sizeof(hex));
	if (close(fd) != 0 && rc == BG_OK)
		rc = bg_error_errno(&err, BG_ERR_IO, errno, "%s: close", out);
	if (rc != BG_OK) {
		unlink(out);
		bg_cli_print_escaped(stderr, "breakglass: recovery keygen: ", err.msg);
		return BG_EXIT_FAIL;
	}
	fprintf(stderr, "Recovery key written to %s (mode 0600). Keep it on this machine and "
	    "a backup offline; export one key per host with `breakglass recovery "
	    "export-host`.\n", out);
	return BG_EXIT_OK;
}

/* ---- export-host and code ----------------------------------------------- */

enum { OPT_KEY, OPT_HOST, OPT_ACCOUNT, OPT_OPERATOR, OPT_INCIDENT, OPT_SCOPE,
    OPT_CHALLENGE, OPT_APPROVER, OPT_COUNT };

static const char *const opt_prompts[OPT_COUNT] = {
	"Key file", "Host", "Account", "Operator", "Incident", "Scope", "Challenge",
	"Approver",
};

#define ANSWER_MAX 256

/*
 * Asks for a missing detail on the terminal: the approver on the phone types
 * what they approve rather than pasting a command line sent to them.
 */
static char *
ask(const char *what)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	n = getline(&line, &cap, stdin);
	if (n <= 0 || n > ANSWER_MAX) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

static int
parse_detail_opts(int argc, char **argv, const char *opts[OPT_COUNT])
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "host", required_argument, NULL, 'H' },
		{ "account", required_argument, NULL, 'a' },
		{ "operator", required_argument, NULL, 'o' },
		{ "incident", required_argument, NULL, 'i' },
		{ "scope", required_argument, NULL, 's' },
		{ "challenge", required_argument, NULL, 'c' },
		{ "approver", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char letters[] = "kHaoiscA";
	int c;

	while ((c = getopt_long(argc, argv, "k:H:a:o:i:s:c:A:h", options, NULL)) != -1) {
		const char *at = c != 0 ? strchr(letters, c) : NULL;

		if (c == 'h') {
			usage(stdout);
			return BG_EXIT_OK;
		}
		if (at == NULL) {
			usage(stderr);
			return BG_EXIT_USAGE;
		}
		opts[at - letters] = optarg;
	}
	if (optind != argc) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	return -1;
}

static bool
read_master_key(const char *path, unsigned char k_a[BG_SHA256_LEN], const char *who)
{
	bg_error err;

	if (bg_key_file_read(path, k_a, &err) != BG_OK) {
		fprintf(stderr, "breakglass: recovery %s: ", who);
		bg_cli_print_escaped(stderr, "", err.msg);
		return false;
	}
	return true;
}

static int
export_host(int argc, char **argv)
{
	const char *opts[OPT_COUNT] = { 0 };
	unsigned char k_a[BG_SHA256_LEN], k_ah[BG_SHA256_LEN];
	char hex[BG_SHA256_HEX_LEN + 1];
	bg_error err;
	bg_status rc;
	int ret;

	if ((ret = parse_detail_opts(argc, argv, opts)) >= 0)
		return ret;
	for (int i = OPT_ACCOUNT; i < OPT_COUNT; i++)
		if (opts[i] != NULL) {
			usage(stderr);
			return BG_EXIT_USAGE;
		}
	if (opts[OPT_KEY] == NULL || opts[OPT_HOST] == NULL) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	if (!read_master_key(opts[OPT_KEY], k_a, "export-host"))
		return BG_EXIT_FAIL;
	rc = bg_recovery_host_key(k_a, opts[OPT_HOST], k_ah, &err);
	explicit_bzero(k_a, sizeof(k_a));
	if (rc != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: recovery export-host: ", err.msg);
		return BG_EXIT_FAIL;
	}
	bg_hex_encode(k_ah, sizeof(k_ah), hex);
	explicit_bzero(k_ah, sizeof(k_ah));
	printf("%s\n", hex);
	explicit_bzero(hex, sizeof(hex));
	return BG_EXIT_OK;
}

static int
code(int argc, char **argv)
{
	const char *opts[OPT_COUNT] = { 0 };
	char *asked[OPT_COUNT] = { 0 };
	char challenge[BG_RECOVERY_CHALLENGE_LEN + 1], out[BG_RECOVERY_CODE_LEN + 1];
	char shown[BG_RECOVERY_DISPLAY_LEN + 1];
	unsigned char k_a[BG_SHA256_LEN], k_ah[BG_SHA256_LEN];
	bg_recovery_details d;
	bg_error err;
	bg_status rc = BG_ERR_INVALID;
	int ret;

	if ((ret = parse_detail_opts(argc, argv, opts)) >= 0)
		return ret;
	ret = BG_EXIT_FAIL;
	for (int i = 0; i < OPT_COUNT; i++)
		if (opts[i] == NULL && (opts[i] = asked[i] = ask(opt_prompts[i])) == NULL) {
			fprintf(stderr, "breakglass: recovery code: no %s given\n", opt_prompts[i]);
			goto out;
		}
	if (bg_recovery_challenge_parse(opts[OPT_CHALLENGE], challenge, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: recovery code: ", err.msg);
		goto out;
	}
	if (!read_master_key(opts[OPT_KEY], k_a, "code"))
		goto out;
	d.host = opts[OPT_HOST];
	d.account = opts[OPT_ACCOUNT];
	d.operator_name = opts[OPT_OPERATOR];
	d.incident = opts[OPT_INCIDENT];
	d.scope = opts[OPT_SCOPE];
	rc = bg_recovery_host_key(k_a, d.host, k_ah, &err);
	explicit_bzero(k_a, sizeof(k_a));
	if (rc == BG_OK)
		rc = bg_recovery_code(k_ah, &d, challenge, opts[OPT_APPROVER], out, &err);
	explicit_bzero(k_ah, sizeof(k_ah));
	if (rc != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: recovery code: ", err.msg);
		goto out;
	}
	/* Shown back so the approver reads what the code approves. */
	bg_recovery_display(challenge, shown);
	fprintf(stderr, "Approving as %s: host %s, account %s, operator %s, incident %s, "
	    "scope %s, challenge %s\n", opts[OPT_APPROVER], d.host, d.account,
	    d.operator_name, d.incident, d.scope, shown);
	bg_recovery_display(out, shown);
	printf("%s\n", shown);
	explicit_bzero(out, sizeof(out));
	explicit_bzero(shown, sizeof(shown));
	ret = BG_EXIT_OK;
out:
	for (int i = 0; i < OPT_COUNT; i++)
		free(asked[i]);
	return ret;
}

int
bg_cmd_recovery(const struct bg_cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	if (strcmp(argv[1], "report") == 0)
		return bg_cmd_recovery_report(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") == 0)
		return keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "export-host") == 0)
		return export_host(argc - 1, argv + 1);
	if (strcmp(argv[1], "code") == 0)
		return code(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return BG_EXIT_OK;
	}
	usage(stderr);
	return BG_EXIT_USAGE;
}
