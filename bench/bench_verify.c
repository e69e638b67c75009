/*
 * Benchmark: how many records per second the journal verifier checks (with
 * the key, so every mac is recomputed) and the report reads.  Builds a chain
 * of N records with the real record formatter, then times bg_journal_verify
 * and bg_report_build, next to their floor measured in the same run: the
 * raw HMAC-SHA256 rate of a 512-byte message on one core, which a record of
 * about 500 bytes cannot beat per core.  Wall clock and CPU time are both
 * printed: the machine is shared, so compare ratios taken in one run.
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
seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define now() seconds(CLOCK_MONOTONIC)
#define cpu_now() seconds(CLOCK_PROCESS_CPUTIME_ID)
#define thread_cpu_now() seconds(CLOCK_THREAD_CPUTIME_ID)

/* The floor: HMAC-SHA256 of 512 bytes per second, one core, as the verifier calls it. */
static double
hmac_floor(void)
{
	unsigned char key[BG_SHA256_LEN], msg[512], mac[BG_SHA256_LEN];
	const unsigned long n = 500000;
	bg_hmac *h;
	bg_error err;
	double t0, t;

	memset(key, 0x5a, sizeof(key));
	memset(msg, 'x', sizeof(msg));
	if (bg_hmac_new(&h, &err) != BG_OK)
		return 0;
	t0 = cpu_now();
	for (unsigned long i = 0; i < n; i++) {
		key[0] = (unsigned char)i;  /* a fresh key each time, as in the chain */
		if (bg_hmac_compute(h, key, sizeof(key), msg, sizeof(msg), mac, &err) != BG_OK)
			break;
	}
	t = cpu_now() - t0;
	bg_hmac_free(h);
	return (double)n / t;
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
	double t0, t1, c0, c1, m0, m1, gen, verify_s, verify_cpu, main_cpu, floor, rate;
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

	floor = hmac_floor();
	printf("journal: %llu records, %.1f MB (%.0f B/record), built in %.2f s\n", n, bytes / 1e6,
	    (double)bytes / (double)n, gen);
	printf("floor: HMAC-SHA256 of 512 B, one core: %.0f/s\n", floor);
	{
		const char *files[] = { path };

		t0 = now();
		c0 = cpu_now();
		m0 = thread_cpu_now();
		if (bg_journal_verify(files, 1, k1, NULL, &res) != BG_OK) {
			fprintf(stderr, "bench_verify: %s:%lu: %s\n", res.file, res.line, res.reason);
			return 1;
		}
		m1 = thread_cpu_now();
		c1 = cpu_now();
		t1 = now();
	}
	verify_s = t1 - t0;
	verify_cpu = c1 - c0;
	main_cpu = m1 - m0;
	rate = (double)res.records / verify_s;
	printf("verify records/s (keyed): %.0f wall (%.3f s, %.3f s CPU for %llu records); "
	    "%.2f x the one-core floor\n", rate, verify_s, verify_cpu, res.records, rate / floor);
	/*
	 * On a shared machine the wall clock says little about two threads: the
	 * slower of the parse thread (this one) and the mac thread (the rest of
	 * the process's CPU time) is what bounds the rate on two free cores.
	 */
	rate = (double)res.records / (main_cpu > verify_cpu - main_cpu ? main_cpu :
	    verify_cpu - main_cpu);
	printf("verify records/s on two free cores (CPU of the slower thread: parse %.3f s, "
	    "mac %.3f s): %.0f; budget >= 1000000; %.2f x the one-core floor\n",
	    main_cpu, verify_cpu - main_cpu, rate, rate / floor);
	{
		/* The report reads the same records again, after its own verification. */
		const char *files[] = { path };
		bg_report_filter filter = { 0 };
		json_object *model;

		t0 = now();
		c0 = cpu_now();
		if (bg_report_build(files, 1, &filter, &res, true, &model, &err) != BG_OK) {
			fprintf(stderr, "bench_verify: report: %s\n", err.msg);
			return 1;
		}
		c1 = cpu_now();
		t1 = now();
		json_object_put(model);
		rate = (double)res.records / (c1 - c0);
		printf("report records/s (one thread, per CPU second): %.0f (%.3f s CPU, %.3f s wall, "
		    "after the verification); budget >= 200000; %.3f x the one-core floor\n",
		    rate, c1 - c0, t1 - t0, rate / floor);
	}
	if (getenv("BENCH_KEEP") != NULL)
		printf("kept %s\n", path);
	else
		unlink(path);
	return 0;
}
