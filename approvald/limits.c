/*
 * Per-host filing rate: a token bucket per host, in this process's memory.
 * A host may file host_rate requests (or recovery reports) a minute, in a
 * burst of up to host_rate.  With several instances behind one name each
 * allows host_rate: the limit is per instance, and a restart refills it.
 * Only authenticated hosts get a bucket, so their number is bounded by the
 * configuration's [host] sections.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "approvald.h"

#define MS_PER_MINUTE 60000.0

struct bucket {
	char *host;
	double tokens;
	int64_t at_ms;
};

struct ad_limits {
	struct bucket *b;
	size_t n;
};

static struct bucket *
bucket_of(ad_app *app, const char *host, int64_t now_ms, double cap)
{
	struct ad_limits *l = app->limits;
	struct bucket *grown;

	if (l == NULL && (l = app->limits = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->b[i].host, host) == 0)
			return &l->b[i];
	if ((grown = realloc(l->b, (l->n + 1) * sizeof(*grown))) == NULL)
		return NULL;
	l->b = grown;
	if ((grown[l->n].host = strdup(host)) == NULL)
		return NULL;
	grown[l->n].tokens = cap;
	grown[l->n].at_ms = now_ms;
	return &grown[l->n++];
}

bool
ad_limits_take(ad_app *app, const char *host, int64_t now_ms, unsigned *retry_s)
{
	double rate = (double)app->cfg->server.host_rate, cap = rate;
	struct bucket *b = bucket_of(app, host, now_ms, cap);

	*retry_s = 1;
	/* Out of memory: refused, as anything the service cannot account for. */
	if (b == NULL)
		return false;
	/* A clock stepped back refills nothing. */
	if (now_ms > b->at_ms)
		b->tokens += (double)(now_ms - b->at_ms) * rate / MS_PER_MINUTE;
	b->at_ms = now_ms;
	if (b->tokens > cap)
		b->tokens = cap;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return true;
	}
	*retry_s = (unsigned)((1.0 - b->tokens) * MS_PER_MINUTE / rate /
	    AD_MS_PER_SECOND) + 1;
	return false;
}

void
ad_limits_free(ad_app *app)
{
	struct ad_limits *l = app->limits;

	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->b[i].host);
	free(l->b);
	free(l);
	app->limits = NULL;
}
