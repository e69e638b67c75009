/* breakglass enroll: create an operator's (or approver's) TOTP secret and show it once. */
#include "build_config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <qrencode.h>

#include "cli.h"
#include "crypto.h"
#include "fileio.h"

/* RFC 6238: the key as long as the HMAC's output (20, 32 or 64 bytes). */
#define SECRET_BYTES_MAX 64
#define DEFAULT_APPROVERS_DIR "/etc/breakglass/approvers"
#define QR_QUIET_ZONE 2

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] enroll NAME [--approver] [--dir DIR]\n"
	    "           [--algorithm sha1|sha256|sha512] [--digits 6|8] [--owner USER]\n"
	    "           [--force] [--no-qr]\n"
	    "\n"
	    "Creates NAME's TOTP secret (as long as the algorithm's output: 160, 256 or\n"
	    "512 random bits) in operators_dir, or with --approver in\n"
	    "%s (or --dir), mode 0600, owned by root or by\n"
	    "--owner (the approval service's user), and prints the otpauth:// URI and\n"
	    "a QR code for the authenticator app.  The secret is shown only now.\n"
	    "Refuses to replace an existing secret without --force.\n",
	    DEFAULT_APPROVERS_DIR);
}

/* Operator and approver names become file names: keep them boring. */
static bool
name_is_safe(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 32 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		    c == '-' || c == '.'))
			return false;
	}
	return true;
}

/*
 * Draws the code with UTF-8 half blocks, two module rows per text line.
 * Light modules are drawn and dark ones left blank, which reads correctly on
 * the usual dark terminal background.
 */
static void
print_qr(const char *text)
{
	static const char *const cells[4] = { " ", "\xe2\x96\x80", "\xe2\x96\x84", "\xe2\x96\x88" };
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int size;

	if (qr == NULL) {
		fprintf(stderr, "breakglass: enroll: cannot draw a QR code: %s\n", strerror(errno));
		return;
	}
	size = qr->width + 2 * QR_QUIET_ZONE;
	for (int y = 0; y < size; y += 2) {
		for (int x = 0; x < size; x++) {
			int light = 0;

			for (int half = 0; half < 2; half++) {
				int mx = x - QR_QUIET_ZONE, my = y + half - QR_QUIET_ZONE;
				bool dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
				    (qr->data[my * qr->width + mx] & 1) != 0;

				/* Past the last row counts as light quiet zone. */
				if (!dark)
					light |= 1 << half;
			}
			fputs(cells[light], stdout);
		}
		putchar('\n');
	}
	QRcode_free(qr);
}

struct enroll_opts {
	const char *name;
	const char *dir;
	const char *owner;
	const char *algorithm;
	unsigned digits;
	bool approver;
	bool force;
	bool qr;
};

static int
parse_opts(int argc, char **argv, struct enroll_opts *o)
{
	static const struct option options[] = {
		{ "approver", no_argument, NULL, 'a' },
		{ "dir", required_argument, NULL, 'd' },
		{ "algorithm", required_argument, NULL, 'A' },
		{ "digits", required_argument, NULL, 'D' },
		{ "force", no_argument, NULL, 'f' },
		{ "owner", required_argument, NULL, 'o' },
		{ "no-qr", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->algorithm = "sha1";
	o->digits = 6;
	o->qr = true;
	while ((c = getopt_long(argc, argv, "ad:A:D:fo:nh", options, NULL)) != -1) {
		switch (c) {
		case 'a': o->approver = true; break;
		case 'd': o->dir = optarg; break;
		case 'A': o->algorithm = optarg; break;
		case 'D': o->digits = strcmp(optarg, "8") == 0 ? 8 : strcmp(optarg, "6") == 0 ? 6 : 0; break;
		case 'f': o->force = true; break;
		case 'o': o->owner = optarg; break;
		case 'n': o->qr = false; break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	o->name = argv[optind];
	if (strcmp(o->algorithm, "sha1") != 0 && strcmp(o->algorithm, "sha256") != 0 &&
	    strcmp(o->algorithm, "sha512") != 0) {
		fprintf(stderr, "breakglass: enroll: --algorithm must be sha1, sha256 or sha512\n");
		return BG_EXIT_USAGE;
	}
	if (o->digits == 0) {
		fprintf(stderr, "breakglass: enroll: --digits must be 6 or 8\n");
		return BG_EXIT_USAGE;
	}
	if (!name_is_safe(o->name)) {
		bg_cli_print_escaped(stderr, "breakglass: enroll: not a valid name "
		    "([a-z_][a-z0-9_.-]*, at most 32): ", o->name);
		return BG_EXIT_USAGE;
	}
	return -1;
}

static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

static size_t
secret_bytes(const char *algorithm)
{
	return strcmp(algorithm, "sha512") == 0 ? 64 : strcmp(algorithm, "sha256") == 0 ? 32 : 20;
}

/* Hands the secret file to the service account that must read it. */
static bool
give_to(const char *path, const struct passwd *pw)
{
	if (lchown(path, pw->pw_uid, pw->pw_gid) != 0) {
		fprintf(stderr, "breakglass: enroll: chown %s: %s\n", path, strerror(errno));
		return false;
	}
	return true;
}

static int
enroll(const struct enroll_opts *o, const char *dir, const char *host)
{
	unsigned char secret[SECRET_BYTES_MAX];
	size_t nbytes = secret_bytes(o->algorithm);
	struct passwd owner_pw, *owner = NULL;
	char *b32 = NULL, path[4096], file[512], uri[1024], alg[8];
	size_t b32len = 0;
	struct stat st;
	bg_error err;
	int ret = BG_EXIT_FAIL, n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, o->name) >= sizeof(path)) {
		fprintf(stderr, "breakglass: enroll: path too long\n");
		return BG_EXIT_FAIL;
	}
	if (bg_dir_check(dir, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: enroll: ", err.msg);
		return BG_EXIT_FAIL;
	}
	/* Before anything is written: an unknown owner must not cost the old secret. */
	if (o->owner != NULL) {
		struct passwd *pw = getpwnam(o->owner);

		if (pw == NULL) {
			bg_cli_print_escaped(stderr, "breakglass: enroll: no such user: ", o->owner);
			return BG_EXIT_FAIL;
		}
		owner_pw = *pw;
		owner = &owner_pw;
	}
	if (!o->force && lstat(path, &st) == 0) {
		bg_cli_print_escaped(stderr, "breakglass: enroll: a secret exists (use --force "
		    "to replace it): ", path);
		return BG_EXIT_FAIL;
	}
	if (bg_random_bytes(secret, nbytes, &err) != BG_OK ||
	    oath_base32_encode((const char *)secret, nbytes, &b32, &b32len) != OATH_OK) {
		fprintf(stderr, "breakglass: enroll: cannot make a secret\n");
		goto out;
	}
	n = snprintf(file, sizeof(file),
	    "# breakglass TOTP secret for %s; mode 0600, owner %s.\n"
	    "secret = %s\nalgorithm = %s\ndigits = %u\nperiod = 30\n",
	    o->name, o->owner != NULL ? o->owner : "root", b32, o->algorithm, o->digits);
	if (n < 0 || (size_t)n >= sizeof(file) ||
	    bg_file_replace(path, file, (size_t)n, 0600, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: enroll: ", err.msg);
		goto out;
	}
	if (owner != NULL && !give_to(path, owner)) {
		unlink(path);
		goto out;
	}
	snprintf(alg, sizeof(alg), "%s", o->algorithm);
	upper(alg);
	/* Padding is not part of the otpauth format. */
	b32[strcspn(b32, "=")] = '\0';
	n = snprintf(uri, sizeof(uri),
	    "otpauth://totp/breakglass:%s:%s?secret=%s&issuer=breakglass&algorithm=%s&digits=%u&period=30",
	    host, o->name, b32, alg, o->digits);
	if (n < 0 || (size_t)n >= sizeof(uri)) {
		fprintf(stderr, "breakglass: enroll: URI too long\n");
		goto out;
	}
	printf("Secret for %s written to %s (mode 0600).\n", o->name, path);
	printf("Add it to the authenticator app now; it is not shown again.\n\n%s\n\n", uri);
	if (o->qr)
		print_qr(uri);
	ret = BG_EXIT_OK;
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(file, sizeof(file));
	explicit_bzero(uri, sizeof(uri));
	if (b32 != NULL) {
		explicit_bzero(b32, b32len);
		free(b32);
	}
	return ret;
}

int
bg_cmd_enroll(const struct bg_cli *cli, int argc, char **argv)
{
	struct enroll_opts o;
	bg_config cfg;
	char host[256];
	const char *dir;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret >= 0)
		return ret;
	memset(&cfg, 0, sizeof(cfg));
	if (bg_cli_load_config(cli, &cfg) != BG_OK)
		return BG_EXIT_FAIL;
	dir = o.dir != NULL ? o.dir : o.approver ? DEFAULT_APPROVERS_DIR : cfg.totp.operators_dir;
	snprintf(host, sizeof(host), "%s", cfg.approval.host_id);
	if (oath_init() != OATH_OK) {
		fprintf(stderr, "breakglass: enroll: liboath failed to initialise\n");
		bg_config_free(&cfg);
		return BG_EXIT_FAIL;
	}
	ret = enroll(&o, dir, host);
	oath_done();
	bg_config_free(&cfg);
	return ret;
}
