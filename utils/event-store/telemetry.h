/*
 * telemetry.h - event-store's Prometheus metrics (dbops_eventstore_*),
 * kept in one registry for the whole process: every module records into
 * it through these calls, and /metrics renders it.
 */
#ifndef ES_TELEMETRY_H
#define ES_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>

/* Make the registry and every metric with its known series at zero;
   0, or -1 (out of memory). Call once before the threads start. */
int es_tm_init(void);

/* Free the registry; after the threads stopped. */
void es_tm_free(void);

/* The text of /metrics, malloc'd; its length in *LEN. NULL: no memory. */
char *es_tm_render(size_t *len);

/* One answered request: its route label, status and time in seconds. */
void es_tm_request(const char *route, unsigned status, double seconds);

/* One committed batch of N events, its commit taking SECONDS. */
void es_tm_batch(int n, double seconds);

/* One event answered: KIND "initial" or "followup"; RESULT "stored",
   "duplicate", "unknown", "unavailable" or "invalid". */
void es_tm_event(const char *kind, const char *result);

/* A /dashboard/symbol answer came from SOURCE, "redis" or "postgresql". */
void es_tm_source(const char *source);

/* The gauges. */
void es_tm_postgresql_up(bool up);
void es_tm_redis_up(bool up);
void es_tm_redis_lag(double batches);

#endif
