/* Operator and approver names: charset, canonical form, comparison (names.h). */
#include "build_config.h"

#include <string.h>

#include "names.h"

/* ASCII only, whatever the process's locale (a PAM module does not choose it). */
static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool
bg_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= BG_NAME_MAX && s[0] != '-' && s[0] != '.' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-.") == n;
}

void
bg_name_fold(char *s)
{
	for (; *s != '\0'; s++)
		*s = ascii_lower(*s);
}

bool
bg_name_equal(const char *a, const char *b)
{
	for (; *a != '\0' && ascii_lower(*a) == ascii_lower(*b); a++, b++)
		;
	return ascii_lower(*a) == ascii_lower(*b);
}
