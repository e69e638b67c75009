/* Rendering the post-incident report model as text, CSV or HTML. */
#include "build_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "report.h"
#include "report_format.h"
#include "timeparse.h"

#define SVG_WIDTH 900
#define SVG_ROW 22
#define SVG_MARGIN 250

/* The members every incident shows first, with their labels in text and HTML. */
static const struct {
	const char *key;
	const char *text;
	const char *html;
} incident_fields[] = {
	{ "operator", "operator", "Operator" },
	{ "account", "account", "Account" },
	{ "host", "host", "Host" },
	{ "reason", "reason", "Reason" },
	{ "scope", "scope", "Scope" },
	{ "request_id", "request", "Request" },
	{ "requested_at", "requested at", "Requested" },
	{ "approved_at", "approved at", "Approved" },
};

static const char *
str(json_object *obj, const char *key)
{
	json_object *o;

	if (!json_object_object_get_ex(obj, key, &o) || o == NULL)
		return NULL;
	return json_object_get_string(o);
}

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

static json_object *
arr(json_object *obj, const char *key)
{
	json_object *a;

	if (!json_object_object_get_ex(obj, key, &a) || !json_object_is_type(a, json_type_array))
		return NULL;
	return a;
}

static size_t
len(json_object *a)
{
	return a != NULL ? json_object_array_length(a) : 0;
}

static json_object *
at(json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

/* What the verification covered: only K_1 lets it check each record's mac. */
static const char *
macs_checked(json_object *model)
{
	return json_object_get_boolean(json_object_object_get(model, "macs_checked")) ?
	    "chain, links and every mac checked with K_1" :
	    "chain and links checked; no key given, so macs were not";
}

/* Untrusted text for a terminal: control characters as \xNN. */
static void
put_text(FILE *out, const char *s)
{
	char buf[4096];

	bg_escape_printable(s != NULL ? s : "-", buf, sizeof(buf));
	fputs(buf, out);
}

static void
put_argv(FILE *out, json_object *argv, void (*put)(FILE *, const char *))
{
	for (size_t i = 0; i < len(argv); i++) {
		if (i > 0)
			fputc(' ', out);
		put(out, json_object_get_string(at(argv, i)));
	}
}

static void
text_line(FILE *out, const char *label, const char *value)
{
	fprintf(out, "  %-18s ", label);
	put_text(out, value);
	fputc('\n', out);
}

/* Offline recoveries (protocol R1): outcome, then each approver and their code's time. */
static void
text_recoveries(FILE *out, json_object *list)
{
	for (size_t k = 0; k < len(list); k++) {
		json_object *r = at(list, k), *who = arr(r, "approvers");

		fprintf(out, "  %-18s ", "offline recovery");
		put_text(out, str(r, "recovery_id"));
		fputs(" ", out);
		put_text(out, str(r, "outcome"));
		if (str(r, "reason") != NULL) {
			fputs(" (", out);
			put_text(out, str(r, "reason"));
			fputs(")", out);
		}
		fputs(", signals ", out);
		put_text(out, str(r, "signals_state"));
		fputc('\n', out);
		for (size_t a = 0; a < len(who); a++) {
			fprintf(out, "  %-18s ", a == 0 ? "recovery codes" : "");
			put_text(out, str(at(who, a), "approver"));
			fputs(" code accepted at ", out);
			put_text(out, str(at(who, a), "at"));
			fputc('\n', out);
		}
		if (str(r, "expires_at") != NULL)
			text_line(out, "recovery expires", str(r, "expires_at"));
	}
}

void
bg_report_text(FILE *out, json_object *model)
{
	json_object *incidents = arr(model, "incidents"), *summary;

	if (!json_object_get_boolean(json_object_object_get(model, "verified"))) {
		fputs("*** UNVERIFIED: the journal's chain is broken at ", out);
		put_text(out, str(model, "verify_error"));
		fputs("\n*** Only records before that point are reported.\n\n", out);
	} else {
		fprintf(out, "Journal verified: %lld records; %s.\n\n",
		    (long long)json_object_get_int64(json_object_object_get(model, "records_verified")),
		    macs_checked(model));
	}
	for (size_t i = 0; i < len(incidents); i++) {
		json_object *inc = at(incidents, i), *grant, *list;

		fputs("Incident ", out);
		put_text(out, str(inc, "incident"));
		fputc('\n', out);
		for (size_t k = 0; k < sizeof(incident_fields) / sizeof(incident_fields[0]); k++)
			text_line(out, incident_fields[k].text, str(inc, incident_fields[k].key));
		if (str(inc, "approval_seconds") != NULL)
			fprintf(out, "  %-18s %.0f s\n", "time to approval",
			    json_object_get_double(json_object_object_get(inc, "approval_seconds")));
		if (str(inc, "approval_refused") != NULL)
			text_line(out, "approval refused", str(inc, "approval_refused"));
		list = arr(inc, "signals");
		for (size_t k = 0; k < len(list); k++) {
			json_object *s = at(list, k);

			fprintf(out, "  %-18s ", k == 0 ? "signals" : "");
			put_text(out, json_object_is_type(s, json_type_object) ?
			    json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN) :
			    json_object_get_string(s));
			fputc('\n', out);
		}
		list = arr(inc, "approvers");
		for (size_t k = 0; k < len(list); k++) {
			fprintf(out, "  %-18s ", k == 0 ? "approvers" : "");
			put_text(out, str(at(list, k), "approver"));
			fputs(" at ", out);
			put_text(out, str(at(list, k), "at"));
			fputc('\n', out);
		}
		text_recoveries(out, arr(inc, "recoveries"));
		if (json_object_object_get_ex(inc, "grant", &grant)) {
			text_line(out, "grant issued", str(grant, "issued"));
			text_line(out, "grant ended", str(grant, "ended"));
			text_line(out, "grant ended at", str(grant, "ended_at"));
			if (str(grant, "lifetime_seconds") != NULL)
				fprintf(out, "  %-18s %.0f s\n", "grant lifetime",
				    json_object_get_double(json_object_object_get(grant, "lifetime_seconds")));
		}
		list = arr(inc, "commands");
		fprintf(out, "  commands (%zu):\n", len(list));
		for (size_t k = 0; k < len(list); k++) {
			json_object *c = at(list, k);

			fputs("    ", out);
			put_text(out, str(c, "time"));
			fprintf(out, " %-8s ", or_dash(str(c, "decision")));
			put_argv(out, arr(c, "argv"), put_text);
			if (str(c, "reason") != NULL) {
				fputs("  [", out);
				put_text(out, str(c, "reason"));
				fputc(']', out);
			}
			fputc('\n', out);
		}
		list = arr(inc, "sessions");
		for (size_t k = 0; k < len(list); k++) {
			fputs("  session ", out);
			put_text(out, str(at(list, k), "event"));
			fputc(' ', out);
			put_text(out, str(at(list, k), "time"));
			fputc('\n', out);
		}
		fputc('\n', out);
	}
	summary = json_object_object_get(model, "summary");
	fprintf(out, "Summary: %d incident(s), %d approval(s), %d offline recovery grant(s), "
	    "%d sudo command(s) accepted, %d refused; %lld record(s) verified\n",
	    json_object_get_int(json_object_object_get(summary, "incidents")),
	    json_object_get_int(json_object_object_get(summary, "approvals")),
	    json_object_get_int(json_object_object_get(summary, "recovery_grants")),
	    json_object_get_int(json_object_object_get(summary, "sudo_accepted")),
	    json_object_get_int(json_object_object_get(summary, "sudo_refused")),
	    (long long)json_object_get_int64(json_object_object_get(model, "records_verified")));
}

/* RFC 4180 field; a leading = + - @ is prefixed with ' so spreadsheets never evaluate it. */
static void
csv_field(FILE *out, const char *s)
{
	if (s == NULL)
		s = "";
	fputc('"', out);
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r')
		fputc('\'', out);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void
csv_row(FILE *out, const char *const *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', out);
		csv_field(out, cells[i]);
	}
	fputs("\r\n", out);
}

void
bg_report_csv(FILE *out, json_object *model)
{
	static const char *const header[] = { "verified", "incident", "seq", "time", "event",
		"outcome", "account", "operator", "detail" };
	json_object *incidents = arr(model, "incidents");
	const char *verified = json_object_get_boolean(json_object_object_get(model, "verified")) ?
	    "yes" : "NO";

	csv_row(out, header, sizeof(header) / sizeof(header[0]));
	for (size_t i = 0; i < len(incidents); i++) {
		json_object *inc = at(incidents, i), *events = arr(inc, "events");

		for (size_t k = 0; k < len(events); k++) {
			json_object *e = at(events, k);
			const char *cells[] = { verified, str(inc, "incident"), str(e, "seq"),
				str(e, "time"), str(e, "event"), str(e, "outcome"),
				str(inc, "account"), str(inc, "operator"), str(e, "summary") };

			csv_row(out, cells, sizeof(cells) / sizeof(cells[0]));
		}
	}
	{
		json_object *events = arr(model, "host_events");

		for (size_t k = 0; k < len(events); k++) {
			json_object *e = at(events, k);
			const char *cells[] = { verified, "", str(e, "seq"), str(e, "time"),
				str(e, "event"), str(e, "outcome"), str(e, "account"), "",
				str(e, "summary") };

			csv_row(out, cells, sizeof(cells) / sizeof(cells[0]));
		}
	}
}

static void
html_text(FILE *out, const char *s)
{
	bg_buf b;

	bg_buf_init(&b, 0);
	bg_escape_markup(&b, s != NULL ? s : "-", true);
	if (b.data != NULL)
		fwrite(b.data, 1, b.len, out);
	bg_buf_free(&b);
}

static void
html_row(FILE *out, const char *label, const char *value)
{
	fprintf(out, "<tr><th>%s</th><td>", label);
	html_text(out, value);
	fputs("</td></tr>\n", out);
}

static const char *
event_colour(const char *event, const char *outcome)
{
	if (outcome != NULL && strcmp(outcome, "success") != 0)
		return "#c62828";
	if (event != NULL && strncmp(event, "sudo.", 5) == 0)
		return "#1565c0";
	if (event != NULL && strncmp(event, "approval.", 9) == 0)
		return "#2e7d32";
	if (event != NULL && strncmp(event, "grant.", 6) == 0)
		return "#6a1b9a";
	return "#455a64";
}

/* A record time in seconds with its milliseconds, or -1. */
static double
time_ms(const char *s)
{
	const char *dot;
	time_t t;
	double frac = 0, scale = 0.1;

	if (s == NULL || bg_time_parse_utc(s, &t, NULL) != BG_OK)
		return -1;
	dot = strchr(s, '.');
	if (dot != NULL)
		for (dot++; *dot >= '0' && *dot <= '9'; dot++, scale /= 10)
			frac += (*dot - '0') * scale;
	return (double)t + frac;
}

/* A vertical timeline: one row per event, x position by time within the incident. */
static void
html_timeline(FILE *out, json_object *events)
{
	double first = -1, last = -1, t;
	size_t n = len(events);
	int height = (int)n * SVG_ROW + 30;

	for (size_t k = 0; k < n; k++) {
		t = time_ms(str(at(events, k), "time"));
		if (t < 0)
			continue;
		if (first < 0 || t < first)
			first = t;
		if (t > last)
			last = t;
	}
	fprintf(out, "<svg class=\"timeline\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" aria-label=\"timeline\">\n", SVG_WIDTH, height, SVG_WIDTH, height);
	fprintf(out, "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"10\" stroke=\"#999\"/>\n",
	    SVG_MARGIN, SVG_WIDTH - 20);
	for (size_t k = 0; k < n; k++) {
		json_object *e = at(events, k);
		double frac = 0;
		int x, y = 30 + (int)k * SVG_ROW;
		const char *when;

		t = time_ms(str(e, "time"));
		if (last > first && t >= 0)
			frac = (t - first) / (last - first);
		x = SVG_MARGIN + (int)(frac * (SVG_WIDTH - SVG_MARGIN - 40));
		fprintf(out, "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n",
		    x, x, y);
		fprintf(out, "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"%s\"><title>", x, y - 4,
		    event_colour(str(e, "event"), str(e, "outcome")));
		html_text(out, str(e, "time"));
		fputs(" ", out);
		html_text(out, str(e, "summary"));
		fprintf(out, "</title></circle>\n<text x=\"4\" y=\"%d\" font-size=\"12\">", y);
		when = str(e, "time");  /* its clock; a shorter time whole, never past its end */
		html_text(out, when != NULL && strlen(when) >= 11 ? when + 11 : when);
		fputs(" ", out);
		html_text(out, str(e, "event"));
		fprintf(out, "</text>\n");
	}
	fputs("</svg>\n", out);
}

static void
html_recoveries(FILE *out, json_object *list)
{
	if (len(list) == 0)
		return;
	fputs("<h3>Offline recoveries</h3><table><tr><th>Recovery</th><th>Outcome</th>"
	    "<th>Approver</th><th>Code accepted at</th></tr>\n", out);
	for (size_t k = 0; k < len(list); k++) {
		json_object *r = at(list, k), *who = arr(r, "approvers");

		for (size_t a = 0; a < len(who) || a == 0; a++) {
			fputs("<tr><td>", out);
			html_text(out, str(r, "recovery_id"));
			fputs("</td><td>", out);
			html_text(out, str(r, "outcome"));
			fputs("</td><td>", out);
			html_text(out, a < len(who) ? str(at(who, a), "approver") : NULL);
			fputs("</td><td>", out);
			html_text(out, a < len(who) ? str(at(who, a), "at") : NULL);
			fputs("</td></tr>\n", out);
		}
	}
	fputs("</table>\n", out);
}

void
bg_report_html(FILE *out, json_object *model)
{
	json_object *incidents = arr(model, "incidents"), *summary;
	bool verified = json_object_get_boolean(json_object_object_get(model, "verified"));

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\">\n<title>breakglass incident report</title>\n"
	    "<style>body{font-family:sans-serif;margin:2em;color:#222;max-width:1000px}"
	    "h1{font-size:1.5em}h2{border-bottom:2px solid #444;padding-bottom:.2em}"
	    "table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;"
	    "padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}"
	    ".banner{padding:1em;font-weight:bold;border-radius:4px}"
	    ".ok{background:#e8f5e9;color:#1b5e20}.bad{background:#ffebee;color:#b71c1c}"
	    ".refused{color:#b71c1c}.accepted{color:#1b5e20}code{font-size:.95em}</style>\n"
	    "</head><body>\n<h1>breakglass incident report</h1>\n", out);
	if (verified) {
		fprintf(out, "<p class=\"banner ok\">Journal verified: %lld records; %s.</p>\n",
		    (long long)json_object_get_int64(json_object_object_get(model, "records_verified")),
		    macs_checked(model));
	} else {
		fputs("<p class=\"banner bad\">UNVERIFIED: the journal's chain is broken at ", out);
		html_text(out, str(model, "verify_error"));
		fputs(". Only records before that point are shown.</p>\n", out);
	}
	summary = json_object_object_get(model, "summary");
	fprintf(out, "<p>%d incident(s), %d approval(s), %d offline recovery grant(s), "
	    "%d sudo command(s) accepted, %d refused.</p>\n",
	    json_object_get_int(json_object_object_get(summary, "incidents")),
	    json_object_get_int(json_object_object_get(summary, "approvals")),
	    json_object_get_int(json_object_object_get(summary, "recovery_grants")),
	    json_object_get_int(json_object_object_get(summary, "sudo_accepted")),
	    json_object_get_int(json_object_object_get(summary, "sudo_refused")));
	for (size_t i = 0; i < len(incidents); i++) {
		json_object *inc = at(incidents, i), *grant, *list;

		fputs("<section class=\"incident\"><h2>Incident ", out);
		html_text(out, str(inc, "incident"));
		fputs("</h2>\n<table>\n", out);
		for (size_t k = 0; k < sizeof(incident_fields) / sizeof(incident_fields[0]); k++)
			html_row(out, incident_fields[k].html, str(inc, incident_fields[k].key));
		html_row(out, "Seconds to approval", str(inc, "approval_seconds"));
		if (str(inc, "approval_refused") != NULL)
			html_row(out, "Approval refused", str(inc, "approval_refused"));
		if (json_object_object_get_ex(inc, "grant", &grant)) {
			html_row(out, "Grant issued", str(grant, "issued"));
			html_row(out, "Grant ended", str(grant, "ended"));
			html_row(out, "Grant ended at", str(grant, "ended_at"));
			html_row(out, "Grant lifetime (s)", str(grant, "lifetime_seconds"));
		}
		fputs("</table>\n", out);
		list = arr(inc, "signals");
		if (len(list) > 0) {
			fputs("<h3>Monitoring signals</h3><ul>\n", out);
			for (size_t k = 0; k < len(list); k++) {
				fputs("<li><code>", out);
				html_text(out, json_object_to_json_string_ext(at(list, k),
				    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
				fputs("</code></li>\n", out);
			}
			fputs("</ul>\n", out);
		}
		list = arr(inc, "approvers");
		if (len(list) > 0) {
			fputs("<h3>Approvers</h3><table><tr><th>Approver</th><th>At</th></tr>\n", out);
			for (size_t k = 0; k < len(list); k++) {
				fputs("<tr><td>", out);
				html_text(out, str(at(list, k), "approver"));
				fputs("</td><td>", out);
				html_text(out, str(at(list, k), "at"));
				fputs("</td></tr>\n", out);
			}
			fputs("</table>\n", out);
		}
		html_recoveries(out, arr(inc, "recoveries"));
		list = arr(inc, "commands");
		fprintf(out, "<h3>sudo commands (%zu)</h3>\n<table><tr><th>Time</th><th>Decision</th>"
		    "<th>Command</th><th>Run as</th><th>Reason</th></tr>\n", len(list));
		for (size_t k = 0; k < len(list); k++) {
			json_object *c = at(list, k);
			const char *d = or_dash(str(c, "decision"));

			fputs("<tr><td>", out);
			html_text(out, str(c, "time"));
			fprintf(out, "</td><td class=\"%s\">%s</td><td><code>",
			    strcmp(d, "accepted") == 0 ? "accepted" : "refused",
			    strcmp(d, "accepted") == 0 ? "accepted" : "refused");
			put_argv(out, arr(c, "argv"), html_text);
			fputs("</code></td><td>", out);
			html_text(out, str(c, "runas"));
			fputs("</td><td>", out);
			html_text(out, str(c, "reason"));
			fputs("</td></tr>\n", out);
		}
		fputs("</table>\n<h3>Timeline</h3>\n", out);
		html_timeline(out, arr(inc, "events"));
		fputs("</section>\n", out);
	}
	fputs("</body></html>\n", out);
}
