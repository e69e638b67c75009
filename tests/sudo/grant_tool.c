/*
 * Test helper for the shell tests and the benchmark: makes the approval
 * service's Ed25519 key pair and writes signed grants with bg_grant_write.
 *   grant_tool keygen DIR NAME
 *   grant_tool write RUN_DIR ACCOUNT SCOPE FROM_SECONDS UNTIL_SECONDS PRIVKEY
 * FROM and UNTIL are offsets from now (negative for the past).  The grant is
 * for host TU_HOST (mx1.example.net: the configuration's host_id must match)
 * and its decision was issued at FROM with the ttl UNTIL - FROM.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grant.h"
#include "../unit/testutil.h"

#define WRITE_ARGS 8
#define KEYGEN_ARGS 4

static int
usage(void)
{
	fprintf(stderr, "usage: grant_tool keygen DIR NAME\n"
	    "       grant_tool write RUN_DIR ACCOUNT SCOPE FROM UNTIL PRIVKEY\n");
	return 2;
}

int
main(int argc, char **argv)
{
	bg_grant g;
	bg_error err;
	time_t now = time(NULL);
	char *priv, *pub;

	if (argc == KEYGEN_ARGS && strcmp(argv[1], "keygen") == 0) {
		tu_make_ed25519(argv[2], argv[3], &priv, &pub);
		printf("%s\n%s\n", priv, pub);
		free(priv);
		free(pub);
		return 0;
	}
	if (argc != WRITE_ARGS || strcmp(argv[1], "write") != 0)
		return usage();
	tu_grant_make(&g, argv[3], argv[4], now + atol(argv[5]), now + atol(argv[6]),
	    argv[7]);
	if (bg_grant_write(argv[2], &g, &err) != BG_OK) {
		fprintf(stderr, "grant_tool: %s\n", err.msg);
		bg_grant_free(&g);
		return 1;
	}
	bg_grant_free(&g);
	return 0;
}
