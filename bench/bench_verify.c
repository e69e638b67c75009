/*
 * Benchmark: how many records per second the journal verifier checks (with
 * the key, so every mac is recomputed) and the report reads.  Builds a chain
 * of N records with the real record formatter, then times bg_journal_verify
 * and bg_report_build, next to their floor measured in the same run: the
 * raw HMAC-SHA256 rate of a 512-byte message with a fresh key, one core,
 * through each of OpenSSL 3's ways of computing it (the fastest is the
 * floor), and that HMAC plus the key evolution, which is the least a record
 * costs.  Wall clock and CPU time are both printed, each the best of three
 * runs: the machine is shared, so compare ratios taken in one run.
 *
 *   bench_verify [N] [DIR]     (default 1000000 records in $TMPDIR)
 */
#include "build_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"
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

#define FLOOR_N 300000UL
#define RUNS 3                    /* each figure is the best of these runs */

/* HMAC-SHA256 of 512 bytes per second, one core, a fresh key each time (best run). */
typedef bool (*hmac_way)(void *state, const unsigned char *key, const unsigned char *msg,
    unsigned char *mac);

static double
hmac_rate(hmac_way way, void *state)
{
	unsigned char key[BG_SHA256_LEN], msg[512], mac[BG_SHA256_LEN];
	double best = 0;

	memset(key, 0x5a, sizeof(key));
	memset(msg, 'x', sizeof(msg));
	for (int run = 0; run < RUNS; run++) {
		double t0 = cpu_now(), rate;

		for (unsigned long i = 0; i < FLOOR_N; i++) {
			key[i % sizeof(key)] = (unsigned char)i;  /* a fresh key, as in the chain */
			if (!way(state, key, msg, mac))
				return 0;
		}
		rate = (double)FLOOR_N / (cpu_now() - t0);
		if (rate > best)
			best = rate;
	}
	return best;
}

/* HMAC(): the one-shot call fetches SHA-256 and builds a context every time. */
static bool
way_oneshot(void *state, const unsigned char *key, const unsigned char *msg, unsigned char *mac)
{
	unsigned int len;

	(void)state;
	return HMAC(EVP_sha256(), key, BG_SHA256_LEN, msg, 512, mac, &len) != NULL;
}

/* An EVP_MAC_CTX made once and re-keyed with EVP_MAC_init: what bg_hmac does. */
static bool
way_reinit(void *state, const unsigned char *key, const unsigned char *msg, unsigned char *mac)
{
	size_t len;

	return EVP_MAC_init(state, key, BG_SHA256_LEN, NULL) == 1 &&
	    EVP_MAC_update(state, msg, 512) == 1 && EVP_MAC_final(state, mac, &len, 32) == 1;
}

/* A copy of a template context per message. */
static bool
way_dup(void *state, const unsigned char *key, const unsigned char *msg, unsigned char *mac)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(state);
	bool ok = c != NULL && way_reinit(c, key, msg, mac);

	EVP_MAC_CTX_free(c);
	return ok;
}

/* What a record's key costs besides: bg_hmac_compute and bg_journal_evolve. */
static bool
way_record(void *state, const unsigned char *key, const unsigned char *msg, unsigned char *mac)
{
	unsigned char next[BG_SHA256_LEN];
	bg_error err;

	return bg_hmac_compute(state, key, BG_SHA256_LEN, msg, 512, mac, &err) == BG_OK &&
	    bg_journal_evolve(key, next, &err) == BG_OK;
}

/* Prints each way's rate; returns the floor, the fastest. */
static double
hmac_floor(double *record_floor)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m != NULL ? EVP_MAC_CTX_new(m) : NULL;
	double oneshot, reinit, dup, best;
	bg_hmac *h;
	bg_error err;

	if (ctx == NULL || EVP_MAC_CTX_set_params(ctx, params) != 1 ||
	    bg_hmac_new(&h, &err) != BG_OK) {
		fprintf(stderr, "bench_verify: HMAC-SHA256 unavailable\n");
		exit(1);
	}
	oneshot = hmac_rate(way_oneshot, NULL);
	reinit = hmac_rate(way_reinit, ctx);
	dup = hmac_rate(way_dup, ctx);
	*record_floor = hmac_rate(way_record, h);
	best = reinit > dup ? reinit : dup;
	printf("HMAC-SHA256 of 512 B with a fresh key, one core: HMAC() one-shot %.0f/s; "
	    "EVP_MAC_CTX re-keyed with EVP_MAC_init %.0f/s; EVP_MAC_CTX_dup of a template "
	    "%.0f/s\n", oneshot, reinit, dup);
	printf("floor: %.0f/s per core (the fastest); with the key evolution (SHA-256 of 49 B), "
	    "what a record costs at least: %.0f/s per core, %.0f/s on two cores\n", best,
	    *record_floor, 2 * *record_floor);
	bg_hmac_free(h);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return best > oneshot ? best : oneshot;  /* on some builds the one-shot wins */
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
	double t0, t1, c0, c1, m0, m1, gen, verify_s, verify_cpu, main_cpu, floor, record_floor, rate;
	double report_s, report_cpu;
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

	printf("journal: %llu records, %.1f MB (%.0f B/record), built in %.2f s\n", n, bytes / 1e6,
	    (double)bytes / (double)n, gen);
	floor = hmac_floor(&record_floor);
	/* The machine is shared: each figure is the best of RUNS runs, and says so. */
	verify_s = verify_cpu = main_cpu = 1e9;
	for (int run = 0; run < RUNS; run++) {
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
		if (t1 - t0 < verify_s)
			verify_s = t1 - t0;
		if (c1 - c0 < verify_cpu) {
			verify_cpu = c1 - c0;
			main_cpu = m1 - m0;
		}
	}
	rate = (double)res.records / verify_s;
	printf("verify records/s (keyed, best of %d): %.0f wall (%.3f s, %.3f s CPU for %llu "
	    "records); %.2f x the one-core floor\n", RUNS, rate, verify_s, verify_cpu, res.records,
	    rate / floor);
	/*
	 * On a shared machine the wall clock says little about two threads.  Both
	 * threads do the same work (batches taken in turn), so on two free cores
	 * the rate is the records over half the process's CPU time.
	 */
	rate = (double)res.records / (verify_cpu / 2);
	printf("verify records/s on two free cores (CPU %.3f s: this thread %.3f s, the other "
	    "%.3f s): %.0f; budget >= 1000000; %.2f x the one-core floor, %.2f x the two-core "
	    "record floor\n", verify_cpu, main_cpu, verify_cpu - main_cpu, rate, rate / floor,
	    rate / (2 * record_floor));
	report_s = report_cpu = 1e9;
	for (int run = 0; run < RUNS; run++) {
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
		if (c1 - c0 < report_cpu)
			report_cpu = c1 - c0;
		if (t1 - t0 < report_s)
			report_s = t1 - t0;
	}
	rate = (double)res.records / report_cpu;
	printf("report records/s (one thread, per CPU second, best of %d): %.0f (%.3f s CPU, "
	    "%.3f s wall, after the verification); budget >= 200000; %.3f x the one-core floor\n",
	    RUNS, rate, report_cpu, report_s, rate / floor);
	if (getenv("BENCH_KEEP") != NULL)
		printf("kept %s\n", path);
	else
		unlink(path);
	return 0;
}
