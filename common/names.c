/* Operator and approver names: charset, canonical form, comparison (names.h). */
#include "build_config.h"

#include "fileio.h"
#include "names.h"

/* ASCII only, whatever the process's locale (a PAM module does not choose it). */
static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Names also name state and key files: the one rule is the file-name rule. */
bool
bg_name_valid(const char *s)
{
	return bg_file_name_valid(s);
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
