/*
 * Statements sent ahead, in libpq's pipeline mode.  Inside a transaction,
 * a statement whose caller needs neither its rows nor its count (BEGIN, a
 * savepoint, an approver's TOTP state written) is sent without waiting for
 * its answer; the answers are read with the next statement that needs one,
 * the commit at the latest, in the same round trip.  A failure among them
 * fails that statement: the server skips every statement after a failure
 * up to the sync (PGRES_PIPELINE_ABORTED), the commit included, so nothing
 * sent after it commits.  A decision's statement is never sent ahead: its
 * record is journaled before its commit, once it is known to have run.
 */
#include "build_config.h"

#include <string.h>

#include "store_pg.h"

bg_status
ad_pg_send(ad_pg_pipeline *pl, const ad_pg_stmt *s, PGresult **keep, bg_error *err)
{
	bg_status rc;
	int sent;

	if (keep != NULL)
		*keep = NULL;
	if (pl->broken)
		return bg_error_set(err, BG_ERR_IO, "database: %s: connection out of step",
		    s->what);
	/* A full pipeline is answered first: its writes and the server's never both block. */
	if (pl->n == AD_PG_PIPELINE_MAX && (rc = ad_pg_collect(pl, err)) != BG_OK)
		return rc;
	if (PQpipelineStatus(pl->conn) == PQ_PIPELINE_OFF &&
	    PQenterPipelineMode(pl->conn) != 1)
		return ad_pg_error(pl->conn, NULL, err, s->what);
	sent = s->name != NULL ?
	    PQsendQueryPrepared(pl->conn, s->name, s->n, s->values, s->lengths, s->formats, 0) :
	    PQsendQueryParams(pl->conn, s->sql, 0, NULL, NULL, NULL, NULL, 0);
	if (sent != 1) {
		/* What was sent before it is answered, or not, with no way to tell which. */
		pl->broken = true;
		/* Nor kept: their callers return on this failure, their results never read. */
		for (int i = 0; i < pl->n; i++)
			pl->sent[i].keep = NULL;
		return ad_pg_error(pl->conn, NULL, err, s->what);
	}
	pl->sent[pl->n].what = s->what;
	pl->sent[pl->n].keep = keep;
	pl->sent[pl->n].boundary = s->boundary;
	pl->n++;
	return BG_OK;
}

/* One statement's answer: its result, then NULL.  false when the connection lost step. */
static bool
answer(PGconn *conn, PGresult **out)
{
	PGresult *extra;

	if ((*out = PQgetResult(conn)) == NULL)
		return false;
	if ((extra = PQgetResult(conn)) != NULL) {
		PQclear(extra);
		return false;
	}
	return true;
}

bg_status
ad_pg_collect(ad_pg_pipeline *pl, bg_error *err)
{
	bg_status rc = BG_OK;
	bool in_step = true;
	PGresult *r;
	int i;

	if (pl->n == 0)
		return BG_OK;
	if (PQpipelineSync(pl->conn) != 1) {
		in_step = false;
		rc = ad_pg_error(pl->conn, NULL, err, "pipeline");
	}
	for (i = 0; in_step && i < pl->n; i++) {
		const ad_pg_sent *s = &pl->sent[i];
		ExecStatusType st;

		if (!answer(pl->conn, &r)) {
			PQclear(r);
			in_step = false;
			break;
		}
		st = PQresultStatus(r);
		if ((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) && s->keep != NULL) {
			*s->keep = r;
			continue;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			if (s->boundary)
				pl->boundary_failed = true;
			/* The first failure is the cause; the statements after it were skipped. */
			if (rc == BG_OK) {
				rc = ad_pg_error(pl->conn, r, err, s->what);
				continue;
			}
		}
		PQclear(r);
	}
	if (in_step) {
		r = PQgetResult(pl->conn);
		in_step = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
		PQclear(r);
	}
	if (!in_step || PQexitPipelineMode(pl->conn) != 1) {
		/* Whatever was not answered counts as failed, and the connection is reset. */
		pl->broken = true;
		for (; i < pl->n; i++)
			if (pl->sent[i].boundary)
				pl->boundary_failed = true;
		if (rc == BG_OK)
			rc = ad_pg_error(pl->conn, NULL, err, "pipeline");
	}
	for (int j = 0; rc != BG_OK && j < pl->n; j++)
		if (pl->sent[j].keep != NULL) {
			PQclear(*pl->sent[j].keep);
			*pl->sent[j].keep = NULL;
		}
	pl->n = 0;
	return rc;
}
