/*
 * Times pam_breakglass logins through real libpam against the loopback mock
 * approval service (driven by bench_login.py, which sets everything up).
 *
 * bench_login CONFDIR SERVICE N CODE [POKE_BASE_URL]
 *
 * Runs N authentications of account "breakglass" by operators bench1..N
 * (each with the TOTP code CODE) and prints the median and p99 of the time
 * spent in pam_authenticate.  With POKE_BASE_URL (the mock in "poke" mode),
 * a second thread waits until a request is pending, then approves it through
 * the mock and the program reports the time from that approve call to
 * pam_authenticate returning instead.
 */
#include "build_config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <security/pam_appl.h>

#define NS_PER_MS 1e6
#define NS_PER_S 1000000000LL
#define PENDING_POLL_US 1000
#define PERCENT 100
#define P99 99
#define OPERATOR_MAX 32
#define URL_MAX 512
#define BODY_MAX 512

struct script {
	const char *answers[4];
	int next;
};

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int
converse(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct script *s = arg;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if ((msg[i]->msg_style == PAM_PROMPT_ECHO_ON ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) && s->next < 4)
			r[i].resp = strdup(s->answers[s->next++]);
	*resp = r;
	return PAM_SUCCESS;
}

/* The approver side: finds the pending request and approves it; t0 is when. */
struct poker {
	const char *base;
	long long t0;
};

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	char *body = arg;
	size_t have = strlen(body), n = size * nmemb;

	if (have + n < BODY_MAX) {
		memcpy(body + have, data, n);
		body[have + n] = '\0';
	}
	return n;
}

static long
http(const char *url, bool post, char *body)
{
	CURL *c = curl_easy_init();
	long status = 0;

	body[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

static void *
poke(void *arg)
{
	struct poker *p = arg;
	char url[URL_MAX], body[BODY_MAX], *id, *end;

	snprintf(url, sizeof(url), "%s/_pending", p->base);
	while (http(url, false, body) != 200)
		usleep(PENDING_POLL_US);
	id = strstr(body, "\"request_id\": \"");
	if (id == NULL)
		return NULL;
	id += strlen("\"request_id\": \"");
	if ((end = strchr(id, '"')) != NULL)
		*end = '\0';
	snprintf(url, sizeof(url), "%s/_poke/%s", p->base, id);
	p->t0 = now_ns();
	http(url, true, body);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	const char *poke_base = argc > 5 ? argv[5] : NULL;
	int n, i, failures = 0;
	double *ms;

	if (argc < 5 || (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: bench_login CONFDIR SERVICE N CODE [POKE_BASE_URL]\n");
		return 2;
	}
	ms = calloc((size_t)n, sizeof(*ms));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < n; i++) {
		char op[OPERATOR_MAX];
		struct script s = { { op, "INC-BENCH", "benchmark", argv[4] }, 0 };
		struct pam_conv conv = { converse, &s };
		struct poker p = { poke_base, 0 };
		pam_handle_t *pamh;
		pthread_t t;
		long long t0, t1;
		int rc;

		snprintf(op, sizeof(op), "bench%d", i + 1);
		if (pam_start_confdir(argv[2], "breakglass", &conv, argv[1], &pamh) != PAM_SUCCESS)
			return 2;
		if (poke_base != NULL)
			pthread_create(&t, NULL, poke, &p);
		t0 = now_ns();
		rc = pam_authenticate(pamh, 0);
		t1 = now_ns();
		if (poke_base != NULL) {
			pthread_join(t, NULL);
			t0 = p.t0;
		}
		pam_end(pamh, rc);
		if (rc != PAM_SUCCESS)
			failures++;
		ms[i] = (double)(t1 - t0) / NS_PER_MS;
	}
	qsort(ms, (size_t)n, sizeof(*ms), cmp);
	printf("%s: n=%d failures=%d median=%.2f ms p99=%.2f ms max=%.2f ms\n",
	    poke_base != NULL ? "approve-to-return" : "module time", n, failures,
	    ms[n / 2], ms[(n * P99) / PERCENT < n ? (n * P99) / PERCENT : n - 1], ms[n - 1]);
	free(ms);
	return failures > 0;
}
