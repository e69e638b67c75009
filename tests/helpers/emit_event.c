/*
 * Test helper: appends one audit event through the real journal code.
 *
 *   emit_event CONFIG EVENT OUTCOME [KEY=STRING | KEY:=JSON]...
 *
 * account, operator, incident and request_id set the record's identity; any
 * other KEY becomes an event member, in order.  Lets integration tests build
 * a journal with the events the PAM module and sudo plugin write.
 */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "config.h"

int
main(int argc, char **argv)
{
	const char *identity[4] = { NULL, NULL, NULL, NULL };
	static const char *const identity_keys[4] = { "account", "operator", "incident", "request_id" };
	bg_errlist errs = { 0 };
	bg_config cfg = { 0 };
	bg_audit audit;
	bg_event *ev;
	bg_error err;

	if (argc < 4) {
		fprintf(stderr, "usage: emit_event CONFIG EVENT OUTCOME [KEY=VALUE|KEY:=JSON]...\n");
		return 2;
	}
	if (bg_config_load(argv[1], &cfg, &errs) != BG_OK) {
		fprintf(stderr, "emit_event: %s\n", errs.count > 0 ? errs.msgs[0] : "bad config");
		return 2;
	}
	ev = bg_event_new(argv[2], argv[3]);
	for (int i = 4; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		bool is_json = eq != NULL && eq > argv[i] && eq[-1] == ':';
		bool is_identity = false;

		if (eq == NULL) {
			fprintf(stderr, "emit_event: not KEY=VALUE: %s\n", argv[i]);
			return 2;
		}
		*(is_json ? eq - 1 : eq) = '\0';
		for (int k = 0; k < 4; k++)
			if (strcmp(argv[i], identity_keys[k]) == 0) {
				identity[k] = eq + 1;
				is_identity = true;
			}
		if (is_identity)
			continue;
		if (is_json) {
			json_object *v = json_tokener_parse(eq + 1);

			if (v == NULL) {
				fprintf(stderr, "emit_event: bad JSON for %s\n", argv[i]);
				return 2;
			}
			bg_event_add_json(ev, argv[i], v);
		} else {
			bg_event_add_str(ev, argv[i], eq + 1);
		}
	}
	bg_event_set_identity(ev, identity[0], identity[1], identity[2], identity[3]);
	if (bg_audit_init(&audit, &cfg, &err) != BG_OK || bg_audit_emit(&audit, ev, &err) != BG_OK) {
		fprintf(stderr, "emit_event: %s\n", err.msg);
		return 1;
	}
	bg_event_free(ev);
	bg_config_free(&cfg);
	return 0;
}
