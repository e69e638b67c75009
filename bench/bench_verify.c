/*
 * Benchmark: how many records per second the journal verifier checks (with
 * the key, so every mac is recomputed), on one core.  Builds a chain of N
 * records with the real record formatter, then times bg_journal_verify.
 *
 *   bench_verify [N] [DIR]     (default 1000000 records in $TMPDIR)
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "report.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const events[] = { "sudo.accepted", "sudo.rejected", "auth.begin",
	"signals.checked", "approval.requested", "grant.issued" };

int
main(int argc, char **argv)
{
	unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000ULL;
	const char *dir = argc > 2 ? argv[2] : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	unsigned char k1[BG_SHA256_LEN], key[BG_SHA256_LEN], prev[BG_SHA256_LEN], mac[BG_SHA256_LEN];
	const char *argv_cmd[] = { "/usr/sbin/postsuper", "-d", "ALL", "deferred" };
	bg_journal j = { .host = "mx1.example.net" };
	bg_verify_result res;
	char path[4096];
	bg_error err;
	double t0, t1, gen, verify_s;
	long bytes = 0;
	FILE *out;

	snprintf(path, sizeof(path), "%s/bench-journal-%ld.jsonl", dir, (long)getpid());
	out = fopen(path, "w");
	if (out == NULL) {
		perror(path);
		return 1;
	}
	memset(k1, 0x5a, sizeof(k1));
	memcpy(key, k1, sizeof(key));
	memset(prev, 0, sizeof(prev));
	t0 = now();
	for (unsigned long long seq = 1; seq <= n; seq++) {
		bg_event *ev = bg_event_new(events[seq % 6], seq % 7 == 0 ? "failure" : "success");
		unsigned char next[BG_SHA256_LEN];
		bg_buf line;

		bg_buf_init(&line, 0);
		bg_event_set_identity(ev, "breakglass", "alice", "INC-2026-0042",
		    "6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5");
		bg_event_add_strv(ev, "argv", argv_cmd, 4);
		bg_event_add_str(ev, "runas", "root");
		bg_event_add_str(ev, "cwd", "/root");
		bg_event_add_str(ev, "tty", "/dev/pts/3");
		if (bg_journal_format(&j, ev, seq, key, prev, &line, mac, &err) != BG_OK ||
		    bg_journal_evolve(key, next, &err) != BG_OK) {
			fprintf(stderr, "bench_verify: %s\n", err.msg);
			return 1;
		}
		fwrite(line.data, 1, line.len, out);
		bytes += (long)line.len;
		memcpy(key, next, sizeof(key));
		memcpy(prev, mac, sizeof(prev));
		bg_buf_free(&line);
		bg_event_free(ev);
	}
	fclose(out);
	gen = now() - t0;

	{
		const char *files[] = { path };

		t0 = now();
		if (bg_journal_verify(files, 1, k1, NULL, &res) != BG_OK) {
			fprintf(stderr, "bench_verify: %s:%lu: %s\n", res.file, res.line, res.reason);
			return 1;
		}
		t1 = now();
	}
	printf("journal: %llu records, %.1f MB, built in %.2f s\n", n, bytes / 1e6, gen);
	verify_s = t1 - t0;
	printf("verify records/s (keyed, one core): %.0f  (%.3f s for %llu records; target >= 500000)\n",
	    (double)res.records / verify_s, verify_s, res.records);
	{
		/* The report reads the same records again, after its own verification. */
		const char *files[] = { path };
		bg_report_filter filter = { 0 };
		json_object *model;

		t0 = now();
		if (bg_report_build(files, 1, &filter, &res, true, &model, &err) != BG_OK) {
			fprintf(stderr, "bench_verify: report: %s\n", err.msg);
			return 1;
		}
		t1 = now();
		json_object_put(model);
		printf("report over %llu records: %.2f s to build (%.2f s with its verification)\n",
		    res.records, t1 - t0, t1 - t0 + verify_s);
	}
	if (getenv("BENCH_KEEP") != NULL)
		printf("kept %s\n", path);
	else
		unlink(path);
	return 0;
}
