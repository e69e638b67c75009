/* Rendering the post-incident report model (common/report.h) as text, CSV or HTML. */
#ifndef BG_REPORT_FORMAT_H
#define BG_REPORT_FORMAT_H

#include <stdio.h>

#include <json-c/json.h>

void bg_report_text(FILE *out, json_object *model);
/* One row per event, RFC 4180 quoting, formula-leading cells defused. */
void bg_report_csv(FILE *out, json_object *model);
/* One self-contained HTML file with an inline SVG timeline per incident. */
void bg_report_html(FILE *out, json_object *model);

#endif
