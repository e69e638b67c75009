/*
 * Measures a POSIX ERE the way glibc's regcomp expands it: an atom costs
 * one, a group the sum of its branches, "+" doubles (elem elem*), "{m,n}"
 * makes n copies ("{m,}" m+1), "*" and "?" add no copy.  Counts saturate
 * just above the limit so no arithmetic can overflow.  It also tracks what
 * can match the empty string: regcomp's epsilon closures grow exponentially
 * with unbounded repetitions of such elements ("(a*)*" twenty times takes
 * seconds, "(a|b?)+" twenty-five times minutes).
 */
#include "build_config.h"

#include <stdbool.h>
#include <string.h>

#include "ere_cost.h"

#define SATURATED (BG_ERE_MAX_COST + 1)

typedef struct {
	const char *p;
	unsigned depth;
	bool too_deep;
	bool empty_loop;            /* an unbounded repetition of what can be empty */
} scan;

/* What an element expands to, and whether it can match the empty string. */
typedef struct {
	unsigned long cost;
	bool nullable;
} measure;

static unsigned long
sat_add(unsigned long a, unsigned long b)
{
	return a + b > SATURATED ? SATURATED : a + b;
}

static unsigned long
sat_mul(unsigned long a, unsigned long b)
{
	if (b != 0 && a > SATURATED / b)
		return SATURATED;
	return a * b > SATURATED ? SATURATED : a * b;
}

static measure alternation(scan *s);

/* Reads a decimal count at *pp, saturated; false when there is no digit. */
static bool
read_count(const char **pp, unsigned long *n)
{
	const char *p = *pp;

	if (*p < '0' || *p > '9')
		return false;
	for (*n = 0; *p >= '0' && *p <= '9'; p++)
		*n = sat_add(sat_mul(*n, 10), (unsigned long)(*p - '0'));
	*pp = p;
	return true;
}

/*
 * An interval "{m}", "{m,}", "{m,n}" or "{,n}" at s->p, consumed: its lower
 * bound and the copies regcomp makes, *unbounded for "{m,}".  Anything else
 * is not an interval (regcomp judges it).
 */
static bool
interval(scan *s, unsigned long *lo, unsigned long *copies, bool *unbounded)
{
	const char *p = s->p + 1;
	unsigned long hi = 0;
	bool has_lo, has_hi = false, comma = false;

	*lo = 0;
	has_lo = read_count(&p, lo);
	if (*p == ',') {
		comma = true;
		p++;
		has_hi = read_count(&p, &hi);
	}
	if (*p != '}' || (!has_lo && !has_hi))
		return false;
	s->p = p + 1;
	*unbounded = comma && !has_hi;
	if (!comma)
		*copies = *lo;
	else if (has_hi)
		*copies = hi;
	else
		*copies = sat_add(*lo, 1);
	if (*copies == 0)
		*copies = 1;    /* "{0}" still parses its element once */
	return true;
}

/* Skips a bracket expression at s->p ("[", "[^", a leading "]", classes). */
static void
bracket(scan *s)
{
	const char *p = s->p + 1;

	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p != '\0' && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char close = p[1];

			for (p += 2; *p != '\0' && !(p[0] == close && p[1] == ']'); p++)
				;
			if (*p != '\0')
				p += 2;
		} else {
			p++;
		}
	}
	s->p = *p == ']' ? p + 1 : p;
}

/* One atom at s->p, consumed. */
static measure
atom(scan *s)
{
	measure m = { 1, false };
	char c = *s->p++;

	switch (c) {
	case '(':
		if (++s->depth > BG_ERE_MAX_DEPTH) {
			s->too_deep = true;
			return (measure){ SATURATED, false };
		}
		m = alternation(s);
		if (*s->p == ')')
			s->p++;
		s->depth--;
		if (m.cost == 0)
			m.cost = 1;
		break;
	case '[':
		s->p--;
		bracket(s);
		break;
	case '\\':
		/* GNU anchors (\b \< \` …) and back-references can match nothing. */
		if (*s->p != '\0')
			m.nullable = strchr("bB<>`'123456789", *s->p++) != NULL;
		break;
	case '^':
	case '$':
		m.nullable = true;
		break;
	default:
		break;
	}
	return m;
}

/* The repetitions after an atom, applied to m. */
static void
repetitions(scan *s, measure *m)
{
	unsigned long lo, copies;
	bool unbounded;

	for (;;) {
		if (*s->p == '*' || *s->p == '?') {
			unbounded = *s->p == '*';
			lo = 0;
			s->p++;
		} else if (*s->p == '+') {
			unbounded = true;
			lo = 1;
			s->p++;
			m->cost = sat_mul(m->cost, 2);
		} else if (*s->p == '{' && interval(s, &lo, &copies, &unbounded)) {
			m->cost = sat_mul(m->cost, copies);
		} else {
			return;
		}
		if (unbounded && m->nullable)
			s->empty_loop = true;
		if (lo == 0)
			m->nullable = true;
	}
}

/* Atoms with their repetitions up to "|", ")" or the end. */
static measure
branch(scan *s)
{
	measure total = { 0, true };

	while (*s->p != '\0' && *s->p != '|' && *s->p != ')' && !s->too_deep) {
		measure m = atom(s);

		repetitions(s, &m);
		total.cost = sat_add(total.cost, m.cost);
		total.nullable = total.nullable && m.nullable;
	}
	return total;
}

static measure
alternation(scan *s)
{
	measure total = branch(s);

	while (*s->p == '|' && !s->too_deep) {
		measure m;

		s->p++;
		m = branch(s);
		total.cost = sat_add(total.cost, m.cost);
		total.nullable = total.nullable || m.nullable;
	}
	return total;
}

bg_status
bg_ere_check_cost(const char *pattern, bg_error *err)
{
	scan s = { .p = pattern };
	unsigned long cost = 0;

	/* A stray ")" ends a group that was never opened; regcomp decides on it. */
	do {
		if (*s.p == ')')
			s.p++;
		cost = sat_add(cost, alternation(&s).cost);
	} while (*s.p != '\0' && !s.too_deep);
	if (s.too_deep)
		return bg_error_set(err, BG_ERR_INVALID,
		    "regular expression nests parentheses deeper than %d", BG_ERE_MAX_DEPTH);
	if (s.empty_loop)
		return bg_error_set(err, BG_ERR_INVALID,
		    "regular expression repeats without bound (*, + or {m,}) something that "
		    "can match the empty string, as in \"(a*)*\"");
	if (cost > BG_ERE_MAX_COST)
		return bg_error_set(err, BG_ERR_INVALID,
		    "regular expression expands to more than %lu atoms (repetition counts multiply)",
		    BG_ERE_MAX_COST);
	return BG_OK;
}
