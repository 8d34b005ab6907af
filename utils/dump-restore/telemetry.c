/*
 * telemetry.c - dump-restore's --metrics-file, with common/metrics: one
 * series per world and metric, the world's state also as an _info series.
 */
#include "telemetry.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "xalloc.h"

enum { M_UP, M_INFO, M_ROWS, M_BYTES, M_SECONDS, M_DUMP_TIME, M_COUNT };

static const char *const names[M_COUNT][2] = {
	{ "dbops_dump_restore_world_up",
	  "1 if the world's server runs its dump, else 0." },
	{ "dbops_dump_restore_world_info",
	  "The world's state after up: running, kept, failed or skipped." },
	{ "dbops_dump_restore_world_rows", "Rows in the world's tables." },
	{ "dbops_dump_restore_world_loaded_bytes",
	  "Bytes of the world's dump (as stored, compressed) loaded." },
	{ "dbops_dump_restore_world_load_seconds",
	  "How long loading the world's dump took." },
	{ "dbops_dump_restore_world_dump_timestamp_seconds",
	  "The time of the world's dump, from its name, in seconds since the epoch." },
};

static void world_series(struct dbops_metric **m, const struct dr_world *w)
{
	const char *labels[] = { "world", w->name, NULL };
	bool up = w->status == DR_RUNNING;
	const char *state = w->kept ? "kept" : dr_status_name(w->status);

	dbops_metric_set(m[M_UP], labels, up ? 1 : 0);
	dbops_metric_set(
		m[M_INFO],
		(const char *[]){ "world", w->name, "state", state, NULL }, 1);
	dbops_metric_set(m[M_DUMP_TIME], labels, (double)w->dump_usec / 1e6);
	if (!up)
		return;
	dbops_metric_set(m[M_ROWS], labels, (double)w->rows);
	dbops_metric_set(m[M_BYTES], labels, (double)w->dump_size);
	dbops_metric_set(m[M_SECONDS], labels, w->load_seconds);
}

/* Whether world NAME is among the N worlds W, or an earlier dump of CAT's. */
static bool seen(const struct dr_world *w, size_t n,
		 const struct dr_catalog *cat, size_t upto, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < upto; i++)
		if (strcmp(cat->dumps[i].world, name) == 0)
			return true;
	return false;
}

int dr_metrics_write(const char *path, const struct dr_world *w, size_t n,
		     const struct dr_catalog *cat)
{
	struct dbops_metrics *reg = dbops_metrics_new();
	struct dbops_metric *m[M_COUNT];
	int rc;

	if (reg == NULL)
		dbops_xalloc_failed();
	for (int i = 0; i < M_COUNT; i++)
		if ((m[i] = dbops_metrics_gauge(reg, names[i][0],
						names[i][1])) == NULL)
			dbops_xalloc_failed();
	for (size_t i = 0; i < n; i++)
		world_series(m, &w[i]);
	for (size_t i = 0; cat && i < cat->count; i++) {
		const char *name = cat->dumps[i].world;

		if (seen(w, n, cat, i, name))
			continue;
		dbops_metric_set(m[M_UP],
				 (const char *[]){ "world", name, NULL }, 0);
		dbops_metric_set(m[M_INFO],
				 (const char *[]){ "world", name, "state",
						   "skipped", NULL },
				 1);
	}
	rc = dbops_metrics_write_file(reg, path);
	if (rc != 0)
		dbops_log_error("could not write the metrics file \"%s\": %s",
				path, strerror(errno));
	dbops_metrics_free(reg);
	return rc;
}
