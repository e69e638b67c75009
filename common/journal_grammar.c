/* The grammar the journal is read with (see journal_grammar.h). */
#include "build_config.h"

#include "journal_grammar.h"

bool
bg_journal_parse_line(const yajl_callbacks *cb, void *ctx, const char *line, size_t len)
{
	yajl_handle h = yajl_alloc(cb, NULL, ctx);
	bool ok;

	if (h == NULL)
		return false;
	/* yajl's defaults are the strict grammar: no option is set on purpose. */
	ok = yajl_parse(h, (const unsigned char *)line, len) == yajl_status_ok &&
	    yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return ok;
}
