/*
 * Test helper for the shell tests and the benchmark: makes the approval
 * service's Ed25519 key pair and writes signed grants with bg_grant_write.
 *   grant_tool keygen DIR NAME
 *   grant_tool write RUN_DIR ACCOUNT SCOPE FROM_SECONDS UNTIL_SECONDS PRIVKEY
 *   grant_tool recovery RUN_DIR ACCOUNT SCOPE FROM UNTIL KEYS_DIR APPROVER...
 * FROM and UNTIL are offsets from now (negative for the past).  The grant is
 * for host TU_HOST (mx1.example.net: the configuration's host_id must match)
 * and its decision was issued at FROM with the ttl UNTIL - FROM.  A recovery
 * grant (protocol R1) is the one the module writes for operator alice,
 * incident INC-42 and challenge ABCD2345, each APPROVER's code computed from
 * KEYS_DIR/APPROVER and accepted at FROM.
 */
#include "build_config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "grant.h"
#include "recovery.h"
#include "../unit/testutil.h"

#define WRITE_ARGS 8
#define KEYGEN_ARGS 4
#define RECOVERY_MIN_ARGS 9
#define CHALLENGE "ABCD2345"

static int
usage(void)
{
	fprintf(stderr, "usage: grant_tool keygen DIR NAME\n"
	    "       grant_tool write RUN_DIR ACCOUNT SCOPE FROM UNTIL PRIVKEY\n"
	    "       grant_tool recovery RUN_DIR ACCOUNT SCOPE FROM UNTIL KEYS_DIR APPROVER...\n");
	return 2;
}

static bool
recovery_grant(bg_grant *g, char **argv, size_t n, time_t now, bg_error *err)
{
	bg_recovery_details d = { TU_HOST, argv[3], "alice", "INC-42", argv[4] };
	char codes[BG_GRANT_MAX_APPROVERS][BG_RECOVERY_CODE_LEN + 1];
	bg_recovery_approval a[BG_GRANT_MAX_APPROVERS];
	unsigned char k_ah[BG_SHA256_LEN];
	char path[PATH_MAX];

	memset(g, 0, sizeof(*g));
	g->account = strdup(d.account);
	g->operator_name = strdup(d.operator_name);
	g->incident = strdup(d.incident);
	g->request_id = strdup(BG_RECOVERY_REQUEST_PREFIX CHALLENGE);
	g->scope = strdup(d.scope);
	g->host = strdup(d.host);
	g->decision_signature = strdup("");
	g->recovery = true;
	g->issued_at = now + atol(argv[5]);
	g->expires_at = now + atol(argv[6]);
	for (size_t i = 0; i < n && i < BG_GRANT_MAX_APPROVERS; i++) {
		const char *who = argv[RECOVERY_MIN_ARGS - 1 + i];

		if (bg_recovery_key_path(argv[7], who, path, sizeof(path), err) != BG_OK ||
		    bg_key_file_read(path, k_ah, err) != BG_OK ||
		    bg_recovery_code(k_ah, &d, CHALLENGE, who, codes[i], err) != BG_OK)
			return false;
		a[i] = (bg_recovery_approval){ who, codes[i], g->issued_at };
		g->approvers[g->napprovers++] = strdup(who);
	}
	explicit_bzero(k_ah, sizeof(k_ah));
	return bg_recovery_record(&d, CHALLENGE, a, g->napprovers, &g->decision, err) == BG_OK;
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
	if (argc >= RECOVERY_MIN_ARGS && strcmp(argv[1], "recovery") == 0) {
		if (!recovery_grant(&g, argv, (size_t)argc - RECOVERY_MIN_ARGS + 1, now, &err)) {
			fprintf(stderr, "grant_tool: %s\n", err.msg);
			bg_grant_free(&g);
			return 1;
		}
	} else if (argc == WRITE_ARGS && strcmp(argv[1], "write") == 0) {
		tu_grant_make(&g, argv[3], argv[4], now + atol(argv[5]), now + atol(argv[6]),
		    argv[7]);
	} else {
		return usage();
	}
	if (bg_grant_write(argv[2], &g, &err) != BG_OK) {
		fprintf(stderr, "grant_tool: %s\n", err.msg);
		bg_grant_free(&g);
		return 1;
	}
	bg_grant_free(&g);
	return 0;
}
