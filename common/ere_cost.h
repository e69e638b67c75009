/*
 * A bound on what a POSIX extended regular expression costs to compile.
 * glibc's regcomp expands every repetition into copies of the repeated
 * tree ("a+" is "aa*", "x{3}" is "xxx"), so stacked or nested repetitions
 * grow exponentially: "a" followed by thirty "+" takes gigabytes.  A
 * configuration check that compiles a pattern must not be a way to exhaust
 * the memory of every login, so patterns are measured before regcomp sees
 * them.
 */
#ifndef BG_ERE_COST_H
#define BG_ERE_COST_H

#include "status.h"

/* The most atoms a pattern may expand to; repetition counts multiply. */
#define BG_ERE_MAX_COST 1000UL
/* The deepest nesting of parentheses, which bounds the measuring's recursion. */
#define BG_ERE_MAX_DEPTH 32

/*
 * BG_OK when pattern expands to at most BG_ERE_MAX_COST atoms within
 * BG_ERE_MAX_DEPTH levels of parentheses, otherwise BG_ERR_INVALID with
 * the reason.  Syntax errors are left to regcomp: an ill-formed pattern
 * is measured as far as it reads and may still be refused there.
 */
bg_status bg_ere_check_cost(const char *pattern, bg_error *err);

#endif
