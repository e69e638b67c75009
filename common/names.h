/*
 * Operator and approver names: one charset and one comparison everywhere
 * (the PAM module, the configuration, the approval service).  A name is 1 to
 * 64 of [A-Za-z0-9_.-], not starting with '.' or '-'; two names are the same
 * person when they are equal after ASCII lowercasing, and the lowercase form
 * is the one sent, stored and journaled (docs/protocol.md, "Names").
 */
#ifndef BG_NAMES_H
#define BG_NAMES_H

#include <stdbool.h>

#define BG_NAME_MAX 64

/* Whether s is a name (the charset above). */
bool bg_name_valid(const char *s);
/* Lowercases the ASCII letters of s in place: the name's canonical form. */
void bg_name_fold(char *s);
/* Whether a and b are the same name (equal after ASCII lowercasing). */
bool bg_name_equal(const char *a, const char *b);

#endif
