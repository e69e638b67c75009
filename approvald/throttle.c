/*
 * Backoff on approver authentication failures (a bad token or TOTP code),
 * per source address and per approver name, in memory: per instance, and a
 * restart forgets it (docs/threat-model.md).  The first THROTTLE_FREE
 * failures of a key cost nothing; each later one doubles a wait (1 s, 2 s,
 * ... up to the key's cap) during which every attempt of that key is
 * answered 429 unchecked, so a guess cannot even be tried.  A key forgets its
 * failures THROTTLE_FORGET_MS after its last one.  The table is bounded: when
 * full, the key idle longest gives way.  Called with app->lock held.
 *
 * The per-approver wait would let anyone keep an approver out during an
 * incident with one bad guess a minute; so it does not apply from an
 * address where that approver authenticated fully in the last day (a
 * separate table only successes write, so failures cannot evict it).
 */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "approvald.h"

#define THROTTLE_SLOTS 4096
#define THROTTLE_FREE 10
#define THROTTLE_FORGET_MS (15 * 60 * AD_MS_PER_SECOND)
#define THROTTLE_KEY_MAX 96
#define WAIT_SHIFT_MAX 20
#define TRUSTED_SLOTS 256
#define TRUSTED_MS (24 * 60 * 60 * AD_MS_PER_SECOND)

typedef struct {
	char key[THROTTLE_KEY_MAX];
	unsigned failures;
	int64_t last_ms;
	int64_t until_ms;
} slot;

static slot table[THROTTLE_SLOTS];

typedef struct {
	char pair[THROTTLE_KEY_MAX];
	int64_t last_ms;
} trusted;

static trusted trusted_pairs[TRUSTED_SLOTS];

/* An empty slot first; otherwise the one whose last failure is oldest. */
static bool
better_victim(const slot *s, const slot *victim)
{
	if (victim == NULL)
		return true;
	if (victim->key[0] == '\0')
		return false;
	return s->key[0] == '\0' || s->last_ms < victim->last_ms;
}

static slot *
find(const char *key, int64_t now_ms, bool create)
{
	slot *victim = NULL;

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		slot *s = &table[i];

		if (s->key[0] != '\0' && now_ms - s->last_ms >= THROTTLE_FORGET_MS &&
		    now_ms >= s->until_ms)
			memset(s, 0, sizeof(*s));
		if (s->key[0] != '\0' && strcmp(s->key, key) == 0)
			return s;
		if (better_victim(s, victim))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	return victim;
}

int64_t
ad_throttle_wait_ms(const char *key, int64_t now_ms)
{
	slot *s = find(key, now_ms, false);

	return s != NULL && s->until_ms > now_ms ? s->until_ms - now_ms : 0;
}

int64_t
ad_throttle_fail(const char *key, int64_t cap_ms, int64_t now_ms)
{
	slot *s = find(key, now_ms, true);
	unsigned over;
	int64_t wait;

	s->failures++;
	s->last_ms = now_ms;
	if (s->failures <= THROTTLE_FREE)
		return 0;
	over = s->failures - THROTTLE_FREE - 1;
	wait = AD_MS_PER_SECOND << (over < WAIT_SHIFT_MAX ? over : WAIT_SHIFT_MAX);
	if (wait > cap_ms)
		wait = cap_ms;
	s->until_ms = now_ms + wait;
	return wait;
}

void
ad_throttle_trust(const char *pair, int64_t now_ms)
{
	trusted *t = &trusted_pairs[0];

	for (size_t i = 0; i < TRUSTED_SLOTS; i++) {
		if (strcmp(trusted_pairs[i].pair, pair) == 0) {
			t = &trusted_pairs[i];
			break;
		}
		if (trusted_pairs[i].last_ms < t->last_ms)
			t = &trusted_pairs[i];
	}
	snprintf(t->pair, sizeof(t->pair), "%s", pair);
	t->last_ms = now_ms;
}

bool
ad_throttle_trusted(const char *pair, int64_t now_ms)
{
	for (size_t i = 0; i < TRUSTED_SLOTS; i++)
		if (trusted_pairs[i].pair[0] != '\0' &&
		    strcmp(trusted_pairs[i].pair, pair) == 0)
			return now_ms - trusted_pairs[i].last_ms < TRUSTED_MS;
	return false;
}
