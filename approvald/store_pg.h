/*
 * What the PostgreSQL backend's files share (store_pg.c, store_pg_listen.c).
 */
#ifndef AD_STORE_PG_H
#define AD_STORE_PG_H

#include <libpq-fe.h>

#include "approvald.h"

/* Decisions are announced on this channel with the request id as payload. */
#define AD_PG_CHANNEL "breakglass_decided"

/* Connects with cfg's URL and, when set, the password from database_password_file. */
bg_status ad_pg_connect(const ad_config_server *cfg, PGconn **out, bg_error *err);
/* Sets err from res's (or conn's) message, printable; clears res. */
bg_status ad_pg_error(PGconn *conn, PGresult *res, bg_error *err, const char *what);

#endif
