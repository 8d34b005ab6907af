/*
 * ledger.c - sync's, retry's and forget's questions to the ledger. See
 * ledger.h.
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timestamp.h"
#include "xalloc.h"

/* Whether RES failed because the ledger does not exist yet. */
static bool no_ledger(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state && strcmp(state, "42P01") == 0;
}

/* One row of the look-up into M. */
static void take_row(const PGresult *res, int i, const char *sha256,
		     struct snap_ledger_match *m)
{
	bool same = strcmp(PQgetvalue(res, i, 1), sha256) == 0;
	bool imported = strcmp(PQgetvalue(res, i, 0), "imported") == 0;

	if (same && (imported ? !m->imported : !m->failed && !m->imported)) {
		m->imported |= imported;
		m->failed = !imported;
		m->found.id = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		snprintf(m->found.name, sizeof(m->found.name), "%s",
			 PQgetvalue(res, i, 4));
		dbops_timestamp_format(strtoll(PQgetvalue(res, i, 5), NULL, 10),
				       m->found.at, sizeof(m->found.at));
		snprintf(m->found.error, sizeof(m->found.error), "%s",
			 PQgetvalue(res, i, 6));
		m->found.rows = strtoll(PQgetvalue(res, i, 7), NULL, 10);
	} else if (!same && imported && !m->by_name) {
		/* Rows come newest first: the last import of the name. */
		m->by_name = true;
		m->name_bytes = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		m->name_id = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		snprintf(m->name_sha256, sizeof(m->name_sha256), "%s",
			 PQgetvalue(res, i, 1));
	}
}

int snap_ledger_lookup(struct snap_db *db, const char *sha256, const char *name,
		       struct snap_ledger_match *m, struct dbops_err *err)
{
	char *lname = snap_db_ledger_name(name);
	const char *params[] = { db->key, sha256, lname };
	PGresult *res;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	/* Three arms, so that each uses its index (the content's are
	 * partial: one for each status). */
	res = snap_db_ledger_exec(
		db,
		"(SELECT status, sha256, bytes, id, file_name,"
		" (extract(epoch FROM imported_at) * 1000000)::bigint,"
		" coalesce(error, ''), coalesce(rows, 0) FROM {ledger}"
		" WHERE target_table = $1 AND sha256 = $2"
		" AND status = 'imported' LIMIT 1)"
		" UNION ALL "
		"(SELECT status, sha256, bytes, id, file_name,"
		" (extract(epoch FROM imported_at) * 1000000)::bigint,"
		" coalesce(error, ''), coalesce(rows, 0) FROM {ledger}"
		" WHERE target_table = $1 AND sha256 = $2"
		" AND status = 'failed' LIMIT 1)"
		" UNION ALL "
		"(SELECT status, sha256, bytes, id, file_name, 0, '', 0"
		" FROM {ledger} WHERE target_table = $1 AND file_name = $3"
		" AND status = 'imported' AND sha256 <> $2"
		" ORDER BY id DESC LIMIT 1)",
		3, params, err);
	free(lname);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		for (int i = 0; i < PQntuples(res); i++)
			take_row(res, i, sha256, m);
		rc = 0;
	} else if (no_ledger(res)) {
		rc = 0;
	} else {
		snap_db_describe_error(res, err);
	}
	PQclear(res);
	return rc;
}

int snap_ledger_forget(struct snap_db *db, const char *sha256, const char *name,
		       const char *base, int64_t *n, struct dbops_err *err)
{
	char *lname = name ? snap_db_ledger_name(name) : NULL;
	char *lbase = base ? snap_db_ledger_name(base) : NULL;
	const char *params[] = { db->key, sha256, lname, lbase };
	PGresult *res = snap_db_ledger_exec(
		db,
		"DELETE FROM {ledger} WHERE target_table = $1"
		" AND status = 'failed'"
		" AND (sha256 = $2 OR file_name = $3 OR file_name = $4)",
		4, params, err);
	int rc = -1;

	free(lname);
	free(lbase);
	*n = 0;
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		*n = strtoll(PQcmdTuples(res), NULL, 10);
		rc = 0;
	} else if (no_ledger(res)) {
		rc = 0;
	} else {
		snap_db_describe_error(res, err);
	}
	PQclear(res);
	return rc;
}

int snap_ledger_last_success(struct snap_db *db, double *at,
			     struct dbops_err *err)
{
	const char *params[] = { db->key };
	PGresult *res = snap_db_ledger_exec(
		db,
		"SELECT coalesce(extract(epoch FROM max(imported_at)), 0)"
		" FROM {ledger} WHERE target_table = $1"
		" AND status = 'imported'",
		1, params, err);
	int rc = -1;

	*at = 0;
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		*at = strtod(PQgetvalue(res, 0, 0), NULL);
		rc = 0;
	} else if (no_ledger(res)) {
		rc = 0;
	} else {
		snap_db_describe_error(res, err);
	}
	PQclear(res);
	return rc;
}

void snap_ledger_name_index(struct snap_db *db)
{
	const char *params[] = { db->qledger };
	struct dbops_err err = { "" };
	PGresult *res = snap_db_exec(
		db,
		"SELECT to_regclass($1) IS NOT NULL AND NOT EXISTS"
		" (SELECT 1 FROM pg_index i JOIN pg_attribute a"
		"  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[1]"
		"  WHERE i.indrelid = to_regclass($1) AND a.attname = 'file_name')",
		1, params, &err);
	bool make;

	if (res == NULL)
		return;
	make = PQresultStatus(res) == PGRES_TUPLES_OK &&
	       strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (make && snap_db_ledger_command(
			    db,
			    "CREATE INDEX IF NOT EXISTS snap_import_files_name"
			    " ON {ledger} (target_table, file_name)",
			    0, NULL, &err) != 0)
		dbops_log_debug("no index on the ledger's file names: %s",
				err.msg);
}
