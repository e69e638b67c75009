/*
 * The grant reader: the input is written as {run_dir}/grants/fuzz.json
 * (0600) and loaded; a grant that loads is validated against a fixed
 * service key, once as it is and once with its decision re-signed by that
 * key, so the base64, signature and decision-checking paths all run.
 */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto.h"
#include "fuzz.h"
#include "grant.h"

#define ACCOUNT "fuzz"
#define MAX_TTL (24 * 3600UL)

/* A test-only Ed25519 key pair standing for the approval service's. */
static const char service_priv[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDmUZyvLUgViisCfyBfOyXxqKPclRxgOSp8ZQmHFFjyJ\n"
    "-----END PRIVATE KEY-----\n";
static const char service_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAII3LZGTW6zxG8UVIeJnLYLN69sIMim98SgUpTKXjtOc=\n"
    "-----END PUBLIC KEY-----\n";

static char run_dir[PATH_MAX], priv_path[PATH_MAX], pub_path[PATH_MAX];

static void
setup(void)
{
	char grants[PATH_MAX];

	if (run_dir[0] != '\0')
		return;
	fz_path("run", run_dir);
	fz_path("run/grants", grants);
	if ((mkdir(run_dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(grants, 0700) != 0 && errno != EEXIST))
		fz_fail("%s: mkdir: %s", grants, strerror(errno));
	fz_write("service.pem", service_priv, strlen(service_priv), 0600);
	fz_write("service.pub", service_pub, strlen(service_pub), 0644);
	fz_path("service.pem", priv_path);
	fz_path("service.pub", pub_path);
}

/* Replaces g's signature with the fixed key's signature of its decision. */
static void
resign(bg_grant *g)
{
	unsigned char sig[BG_ED25519_SIG_LEN];
	char *b64;
	bg_error err;

	if (bg_ed25519_sign_file(priv_path, g->decision, strlen(g->decision), sig,
	    &err) != BG_OK || bg_base64_encode(sig, sizeof(sig), &b64, &err) != BG_OK)
		fz_fail("re-signing: %s", err.msg);
	free(g->decision_signature);
	g->decision_signature = b64;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bg_error err;
	bg_grant g;

	setup();
	fz_write("run/grants/" ACCOUNT ".json", data, size, 0600);
	if (bg_grant_load(run_dir, ACCOUNT, &g, &err) != BG_OK)
		return 0;
	/* At issued_at the times pass, so the signature and decision are checked. */
	(void)bg_grant_validate(&g, ACCOUNT, pub_path, MAX_TTL, g.issued_at, &err);
	(void)bg_grant_validate(&g, g.account, pub_path, MAX_TTL, g.issued_at, &err);
	if (g.decision != NULL) {
		resign(&g);
		if (bg_grant_validate(&g, g.account, pub_path, MAX_TTL, g.issued_at,
		    &err) == BG_OK && g.expires_at <= g.issued_at)
			fz_fail("a grant valid at issued_at has expired by then");
	}
	bg_grant_free(&g);
	return 0;
}
