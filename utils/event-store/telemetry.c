/*
 * telemetry.c - event-store's metrics (see telemetry.h), on
 * common/metrics.h. A failed registration leaves a NULL metric, which the
 * value functions refuse: telemetry never stops the service.
 */
#include "telemetry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static struct dbops_metrics *reg;
static struct dbops_metric *requests, *duration, *batch_events, *commit_seconds,
	*redis_lag, *redis_up, *pg_up, *sources, *events;

static const char *const routes[] = { "initial", "followup", "symbol", "range",
				      "metrics", "health",   "other",  NULL };

static const double latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005,
					 0.01,	 0.025, 0.05,	0.1,
					 0.25,	 0.5,	1,	2.5 };
static const double size_bounds[] = { 1,   2,	5,   10,   20,	 50,
				      100, 200, 500, 1000, 2000, 5000 };

static void zero_series(void)
{
	static const char *const kinds[] = { "initial", "followup" };
	static const char *const results[] = { "stored", "duplicate", "unknown",
					       "unavailable", "invalid" };

	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 5; j++) {
			if (i == 0 && j == 2)
				continue;
			dbops_metric_add(events,
					 (const char *[]){ "kind", kinds[i],
							   "result", results[j],
							   NULL },
					 0);
		}
	dbops_metric_add(sources, (const char *[]){ "source", "redis", NULL },
			 0);
	dbops_metric_add(sources,
			 (const char *[]){ "source", "postgresql", NULL }, 0);
	dbops_metric_set(pg_up, NULL, 1);
	dbops_metric_set(redis_up, NULL, 0);
	dbops_metric_set(redis_lag, NULL, 0);
}

int es_tm_init(void)
{
	reg = dbops_metrics_new();
	if (reg == NULL)
		return -1;
	requests = dbops_metrics_counter(
		reg, "dbops_eventstore_requests_total",
		"HTTP requests answered, by route and status.");
	duration = dbops_metrics_histogram(
		reg, "dbops_eventstore_request_duration_seconds",
		"Time from a request's arrival to its answer, by route.",
		latency_bounds,
		sizeof(latency_bounds) / sizeof(latency_bounds[0]));
	batch_events = dbops_metrics_histogram(
		reg, "dbops_eventstore_batch_events",
		"Events per committed batch.", size_bounds,
		sizeof(size_bounds) / sizeof(size_bounds[0]));
	commit_seconds = dbops_metrics_histogram(
		reg, "dbops_eventstore_commit_duration_seconds",
		"Time to commit one batch.", latency_bounds,
		sizeof(latency_bounds) / sizeof(latency_bounds[0]));
	redis_lag = dbops_metrics_gauge(
		reg, "dbops_eventstore_redis_lag_batches",
		"Batches committed by this instance and not yet applied to Redis.");
	redis_up = dbops_metrics_gauge(
		reg, "dbops_eventstore_redis_up",
		"1 when Redis answered the last command and its aggregates are complete.");
	pg_up = dbops_metrics_gauge(
		reg, "dbops_eventstore_postgresql_up",
		"1 when the last batch committed (or none failed yet).");
	sources = dbops_metrics_counter(
		reg, "dbops_eventstore_dashboard_source_total",
		"/dashboard/symbol answers, by where they came from.");
	events = dbops_metrics_counter(reg, "dbops_eventstore_events_total",
				       "Events answered, by kind and result.");
	zero_series();
	return 0;
}

void es_tm_free(void)
{
	dbops_metrics_free(reg);
	reg = NULL;
}

char *es_tm_render(size_t *len)
{
	return dbops_metrics_render(reg, len);
}

static const char *route_label(const char *route)
{
	for (int i = 0; routes[i]; i++)
		if (route != NULL && strcmp(routes[i], route) == 0)
			return routes[i];
	return "other";
}

void es_tm_request(const char *route, unsigned status, double seconds)
{
	char code[16];
	const char *r = route_label(route);

	snprintf(code, sizeof(code), "%u", status);
	dbops_metric_add(requests,
			 (const char *[]){ "route", r, "status", code, NULL },
			 1);
	dbops_metric_observe(duration, (const char *[]){ "route", r, NULL },
			     seconds);
}

void es_tm_batch(int n, double seconds)
{
	dbops_metric_observe(batch_events, NULL, n);
	dbops_metric_observe(commit_seconds, NULL, seconds);
}

void es_tm_event(const char *kind, const char *result)
{
	dbops_metric_add(
		events,
		(const char *[]){ "kind", kind, "result", result, NULL }, 1);
}

void es_tm_source(const char *source)
{
	dbops_metric_add(sources, (const char *[]){ "source", source, NULL },
			 1);
}

void es_tm_postgresql_up(bool up)
{
	dbops_metric_set(pg_up, NULL, up);
}

void es_tm_redis_up(bool up)
{
	dbops_metric_set(redis_up, NULL, up);
}

void es_tm_redis_lag(double batches)
{
	dbops_metric_set(redis_lag, NULL, batches);
}
