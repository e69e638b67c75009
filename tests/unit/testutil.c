/* Helpers shared by the unit tests. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto.h"
#include "testutil.h"

char *
tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&path, "%s/bgtest.XXXXXX", base) < 0)
		abort();
	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	if (remove(path) != 0 && errno != ENOENT)
		perror(path);
	return 0;
}

void
tu_rmtree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

char *
tu_write(const char *dir, const char *name, mode_t mode, const char *text)
{
	char *p = tu_path(dir, name);
	int fd;
	size_t len = strlen(text);

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror(p);
		abort();
	}
	fchmod(fd, mode);
	close(fd);
	return p;
}

char *
tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		char *grown = realloc(buf, n + 65536 + 1);
		size_t got;

		if (grown == NULL)
			abort();
		buf = grown;
		got = fread(buf + n, 1, 65536, f);
		n += got;
		if (got < 65536)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* Writes pkey as PEM (private or public part) to dir/name.ext; returns the path. */
static char *
write_pem(const char *dir, const char *name, const char *ext, mode_t mode,
    EVP_PKEY *pkey, bool private_key)
{
	char *p;
	FILE *f;
	int fd;

	if (asprintf(&p, "%s/%s.%s", dir, name, ext) < 0)
		abort();
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
		abort();
	if ((private_key ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) :
	    PEM_write_PUBKEY(f, pkey)) != 1)
		abort();
	fchmod(fd, mode);
	fclose(f);
	return p;
}

void
tu_make_ed25519(const char *dir, const char *name, char **priv, char **pub)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (pkey == NULL)
		abort();
	*priv = write_pem(dir, name, "pem", 0600, pkey, true);
	*pub = write_pem(dir, name, "pub", 0644, pkey, false);
	EVP_PKEY_free(pkey);
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

/* t as RFC 3339 UTC with milliseconds, as the approval service writes times. */
#define RFC3339_LEN 32

static void
rfc3339(time_t t, char out[RFC3339_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, RFC3339_LEN, "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		abort();
}

char *
tu_decision(const char *account, const char *scope, const char *status, time_t issued,
    long long ttl)
{
	char at1[RFC3339_LEN], at2[RFC3339_LEN], when[RFC3339_LEN];
	char *d;

	/* As the service writes it: the votes shortly before the decision. */
	rfc3339(issued - 60, at1);
	rfc3339(issued - 30, at2);
	rfc3339(issued, when);
	if (asprintf(&d, "{\"request_id\":\"req-1\",\"nonce\":\"00112233445566778899aabbccddeeff\","
	    "\"host\":\"%s\",\"account\":\"%s\",\"operator\":\"alice\",\"incident\":\"INC-42\","
	    "\"status\":\"%s\",\"approvals\":[{\"approver\":\"bob\",\"at\":\"%s\","
	    "\"comment\":\"ok\"},{\"approver\":\"carol\",\"at\":\"%s\",\"comment\":\"\"}],"
	    "\"denials\":[],\"scope\":\"%s\",\"ttl\":%lld,\"issued_at\":\"%s\"}",
	    TU_HOST, account, status, at1, at2, scope, ttl, when) < 0)
		abort();
	return d;
}

void
tu_grant_sign(bg_grant *g, const char *priv)
{
	unsigned char sig[BG_ED25519_SIG_LEN];
	bg_error err;

	free(g->decision_signature);
	if (bg_ed25519_sign_file(priv, g->decision, strlen(g->decision), sig, &err) != BG_OK ||
	    bg_base64_encode(sig, sizeof(sig), &g->decision_signature, &err) != BG_OK) {
		fprintf(stderr, "sign: %s\n", err.msg);
		abort();
	}
}

void
tu_grant_make(bg_grant *g, const char *account, const char *scope, time_t issued,
    time_t expires, const char *priv)
{
	memset(g, 0, sizeof(*g));
	g->account = xstrdup(account);
	g->operator_name = xstrdup("alice");
	g->incident = xstrdup("INC-42");
	g->request_id = xstrdup("req-1");
	g->scope = xstrdup(scope);
	g->approvers[0] = xstrdup("bob");
	g->approvers[1] = xstrdup("carol");
	g->napprovers = 2;
	g->issued_at = issued;
	g->expires_at = expires;
	g->host = xstrdup(TU_HOST);
	g->decision = tu_decision(account, scope, "approved", issued,
	    (long long)(expires - issued));
	tu_grant_sign(g, priv);
}

int
tu_server_start(const char *script, const char *const *args, pid_t *pid, int *in_fd)
{
	const char *argv[16] = { "python3", script };
	int to_child[2], from_child[2];
	size_t n = 2;
	char line[32];
	FILE *out;
	int port;

	while (args != NULL && *args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (pipe(to_child) != 0 || pipe(from_child) != 0)
		abort();
	*pid = fork();
	if (*pid < 0)
		abort();
	if (*pid == 0) {
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		close(to_child[1]);
		close(from_child[0]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	out = fdopen(from_child[0], "r");
	if (out == NULL || fgets(line, sizeof(line), out) == NULL)
		abort();
	fclose(out);
	port = atoi(line);
	if (port <= 0)
		abort();
	*in_fd = to_child[1];
	return port;
}

void
tu_server_stop(pid_t pid, int in_fd)
{
	int status;

	/* The server exits when its stdin closes. */
	close(in_fd);
	waitpid(pid, &status, 0);
}
