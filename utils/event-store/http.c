/*
 * http.c - event-store's HTTP API (see http.h).
 *
 * Design notes:
 * 1. A request is read whole (the body up to --max-body; a larger one is
 *    refused with 413, at once when Content-Length says so) before it is
 *    routed, so every answer is decided on the complete request.
 * 2. A valid POST becomes an es_event: the connection is suspended first,
 *    then the event queued, because the batcher may answer and resume it
 *    before the handler returns. Resumed, the handler sends the answer the
 *    batcher left in the event.
 * 3. Dashboard reads run on the pool thread that serves the request, on
 *    that thread's own PostgreSQL connection (store.c).
 * 4. Every answer is JSON (but /metrics), with the exact texts of the
 *    interface; the request's route, status and time go to the metrics
 *    when MHD reports the request completed.
 */
#include "http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "telemetry.h"
#include "xalloc.h"

#define SYMBOL_PREFIX "/dashboard/symbol/"
#define RANGE_PREFIX  "/dashboard/range/"

struct es_http {
	struct es_http_config cfg;
	struct es_store *store;
	struct MHD_Daemon *daemon;
	int fd; /* the listening socket, -1 before es_http_bind */
	atomic_int waiting;
	int64_t t0; /* the clock at the start, for clock_rate */
};

/* One request, from its headers to its completion. */
struct req {
	struct es_http *h;
	struct MHD_Connection *conn;
	const char *route;
	double start;
	int64_t at;
	char *body;
	size_t len;
	bool too_big, queued;
	unsigned status;
	struct es_event ev;
};

static int64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The time of an event arriving now. */
static int64_t event_time(const struct es_http *h)
{
	int64_t now = realtime_us();

	if (h->cfg.clock_rate <= 1)
		return now;
	return h->t0 + (int64_t)((double)(now - h->t0) * h->cfg.clock_rate);
}

/* Send BODY (taken) with STATUS; ALLOW: an Allow header, or NULL. */
static enum MHD_Result reply(struct req *r, unsigned status, char *body,
			     const char *type, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(body), body,
					       MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				type ? type : "application/json");
	if (allow != NULL)
		MHD_add_response_header(resp, "Allow", allow);
	r->status = status;
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_error(struct req *r, unsigned status,
				   const char *allow, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum MHD_Result reply_error(struct req *r, unsigned status,
				   const char *allow, const char *fmt, ...)
{
	char msg[ES_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reply(r, status, es_error_body(msg), NULL, allow);
}

static enum MHD_Result post_event(struct req *r, enum es_kind kind)
{
	const char *ct = MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *name = kind == ES_INITIAL ? "initial" : "followup";
	char msg[ES_MSG_MAX];
	struct es_fields f;
	int rc = es_request_parse(es_content_kind(ct), ct,
				  r->body ? r->body : "", r->len,
				  kind == ES_INITIAL, &f, msg, sizeof(msg));

	if (rc != 0) {
		es_tm_event(name, "invalid");
		return reply(r, (unsigned)rc, es_error_body(msg), NULL, NULL);
	}
	r->ev.kind = kind;
	memcpy(r->ev.uuid, f.uuid, sizeof(f.uuid));
	r->ev.symbol = f.symbol;
	r->ev.at = r->at;
	r->ev.ctx = r;
	r->queued = true;
	atomic_fetch_add(&r->h->waiting, 1);
	MHD_suspend_connection(r->conn);
	if (es_store_submit(r->h->store, &r->ev) != 0) {
		r->ev.status = 503;
		r->ev.body = es_error_body(
			"PostgreSQL is unavailable: event not stored");
		es_tm_event(name, "unavailable");
		MHD_resume_connection(r->conn);
	}
	return MHD_YES;
}

static enum MHD_Result get_symbol(struct req *r, const char *s)
{
	struct es_http *h = r->h;
	struct es_aggregate t;

	if (!es_symbol_ok(s))
		return reply_error(r, 400, NULL,
				   "symbol \"%.200s\" is not one letter a-z",
				   s);
	if (h->cfg.symbol && h->cfg.symbol(h->cfg.arg, s[0], &t) == 0) {
		es_tm_source("redis");
	} else if (es_store_symbol(h->store, s[0], &t) == 0) {
		es_tm_source("postgresql");
	} else {
		return reply_error(r, 503, NULL, "PostgreSQL is unavailable");
	}
	return reply(r, 200, es_aggregate_json(s[0], &t), NULL, NULL);
}

static enum MHD_Result get_range(struct req *r, const char *url)
{
	const char *rest = url + strlen(RANGE_PREFIX);
	const char *slash = strchr(rest, '/');
	char *lower, *json;
	int64_t lo, hi;
	enum MHD_Result ret;

	if (slash == NULL)
		return reply_error(r, 404, NULL, "no such path: %.200s", url);
	lower = dbops_xstrndup(rest, (size_t)(slash - rest));
	if (es_time_parse(lower, &lo) != 0)
		ret = reply_error(r, 400, NULL,
				  "\"%.200s\" is not a date or time", lower);
	else if (es_time_parse(slash + 1, &hi) != 0)
		ret = reply_error(r, 400, NULL,
				  "\"%.200s\" is not a date or time",
				  slash + 1);
	else if (lo > hi)
		ret = reply_error(
			r, 400, NULL,
			"range lower bound %.200s is after upper bound %.200s",
			lower, slash + 1);
	else if (es_store_range(r->h->store, lo, hi, &json) != 0)
		ret = reply_error(r, 503, NULL, "PostgreSQL is unavailable");
	else
		ret = reply(r, 200, json, NULL, NULL);
	free(lower);
	return ret;
}

static enum MHD_Result get_health(struct req *r)
{
	bool pg = es_store_ping(r->h->store);
	bool fast = r->h->cfg.fast_up && r->h->cfg.fast_up(r->h->cfg.arg);

	return reply(r, pg ? 200 : 503,
		     dbops_xasprintf("{\"postgresql\":%s,\"redis\":%s}",
				     pg ? "true" : "false",
				     fast ? "true" : "false"),
		     NULL, NULL);
}

static enum MHD_Result get_metrics(struct req *r)
{
	size_t len;
	char *text = es_tm_render(&len);

	if (text == NULL)
		return MHD_NO;
	return reply(r, 200, text, DBOPS_METRICS_CONTENT_TYPE, NULL);
}

/* The route of URL, and the methods it allows; NULL: no such path. */
static const char *route_of(const char *url, const char **allow)
{
	*allow = "GET, HEAD";
	if (strcmp(url, "/initial") == 0 || strcmp(url, "/followup") == 0) {
		*allow = "POST";
		return url + 1;
	}
	if (strncmp(url, SYMBOL_PREFIX, strlen(SYMBOL_PREFIX)) == 0)
		return "symbol";
	if (strncmp(url, RANGE_PREFIX, strlen(RANGE_PREFIX)) == 0)
		return "range";
	if (strcmp(url, "/metrics") == 0)
		return "metrics";
	if (strcmp(url, "/health") == 0)
		return "health";
	return NULL;
}

static enum MHD_Result dispatch(struct req *r, const char *url,
				const char *method)
{
	const char *allow, *route = route_of(url, &allow);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (r->too_big)
		return reply_error(r, 413, NULL, "request body over %zu bytes",
				   r->h->cfg.max_body);
	if (route == NULL)
		return reply_error(r, 404, NULL, "no such path: %.200s", url);
	if (strcmp(allow, "POST") == 0 ? strcmp(method, "POST") != 0 : !get)
		return reply_error(r, 405, allow,
				   "method %.40s not allowed on %.200s", method,
				   url);
	if (strcmp(route, "initial") == 0)
		return post_event(r, ES_INITIAL);
	if (strcmp(route, "followup") == 0)
		return post_event(r, ES_FOLLOWUP);
	if (strcmp(route, "symbol") == 0)
		return get_symbol(r, url + strlen(SYMBOL_PREFIX));
	if (strcmp(route, "range") == 0)
		return get_range(r, url);
	if (strcmp(route, "metrics") == 0)
		return get_metrics(r);
	return get_health(r);
}

/* The first call, on the headers: a body announced over the limit is
   refused at once, unread. */
static enum MHD_Result begin(struct es_http *h, struct MHD_Connection *conn,
			     const char *url, void **state)
{
	struct req *r = dbops_xcalloc(1, sizeof(*r));
	const char *cl = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *allow, *route = route_of(url, &allow);

	r->h = h;
	r->conn = conn;
	r->route = route ? route : "other";
	r->start = dbops_clock_seconds();
	r->at = event_time(h);
	*state = r;
	if (cl != NULL && strtoull(cl, NULL, 10) > h->cfg.max_body) {
		r->too_big = true;
		return reply_error(r, 413, NULL, "request body over %zu bytes",
				   h->cfg.max_body);
	}
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct req *r = *state;

	if (r == NULL)
		return begin(cls, conn, url, state);
	if (r->queued) {
		char *body = r->ev.body;

		r->queued = false;
		r->ev.body = NULL;
		atomic_fetch_sub(&r->h->waiting, 1);
		return reply(r, (unsigned)r->ev.status, body, NULL, NULL);
	}
	if (r->status != 0) {
		*upload_size = 0; /* answered early: the rest is skipped */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!r->too_big &&
		    r->len + *upload_size <= r->h->cfg.max_body) {
			r->body = dbops_xreallocarray(
				r->body, r->len + *upload_size + 1, 1);
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		} else {
			r->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(r, url, method);
}

static void completed(void *cls, struct MHD_Connection *conn, void **state,
		      enum MHD_RequestTerminationCode code)
{
	struct req *r = *state;

	if (r == NULL)
		return;
	if (r->queued) /* closed before its answer went out */
		atomic_fetch_sub(&r->h->waiting, 1);
	if (r->status != 0)
		es_tm_request(r->route, r->status,
			      dbops_clock_seconds() - r->start);
	free(r->body);
	free(r->ev.body);
	free(r);
	*state = NULL;
}

struct es_http *es_http_new(const struct es_http_config *cfg)
{
	struct es_http *h = dbops_xcalloc(1, sizeof(*h));

	h->cfg = *cfg;
	h->fd = -1;
	h->t0 = realtime_us();
	atomic_init(&h->waiting, 0);
	return h;
}

void es_http_done(struct es_event *ev, void *http)
{
	struct req *r = ev->ctx;

	MHD_resume_connection(r->conn);
}

int es_http_bind(struct es_http *h, struct dbops_err *err)
{
	int one = 1, e;
	int fd = socket(h->cfg.addr->ss_family,
			SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	    bind(fd, (const struct sockaddr *)h->cfg.addr, h->cfg.addr_len) ==
		    0 &&
	    listen(fd, SOMAXCONN) == 0) {
		h->fd = fd;
		return 0;
	}
	e = errno;
	if (fd >= 0)
		close(fd);
	return dbops_err_set(err, "could not listen on %s: %s", h->cfg.listen,
			     strerror(e));
}

/* The threads to run for MAX_CONNECTIONS: THREADS, or more so that none
   serves more than ES_HTTP_CONNECTIONS_PER_THREAD (THREADS 0: just
   enough). */
static unsigned threads_for(unsigned threads, unsigned max_connections)
{
	unsigned need = (max_connections + ES_HTTP_CONNECTIONS_PER_THREAD - 1) /
			ES_HTTP_CONNECTIONS_PER_THREAD;

	return threads > need ? threads : need > 0 ? need : 1;
}

int es_http_start(struct es_http *h, struct es_store *st, struct dbops_err *err)
{
	/* MHD_USE_TURBO: reads and writes tried before epoll says they would
	   succeed, which on a busy connection they do: fewer system calls. */
	unsigned flags = MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
	unsigned threads = threads_for(h->cfg.threads, h->cfg.max_connections);

	if (h->cfg.addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (h->fd < 0 && es_http_bind(h, err) != 0)
		return -1;
	if (h->cfg.threads > 0 && threads > h->cfg.threads)
		dbops_log_info(
			"%u HTTP threads, not %u: a thread serves at most"
			" %d of the %u connections (--max-connections)",
			threads, h->cfg.threads, ES_HTTP_CONNECTIONS_PER_THREAD,
			h->cfg.max_connections);
	h->store = st;
	errno = 0;
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, h, MHD_OPTION_LISTEN_SOCKET,
		h->fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, h->cfg.max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)ES_HTTP_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
		completed, h, MHD_OPTION_END);
	if (h->daemon == NULL)
		return dbops_err_set(
			err, "could not listen on %s: %s", h->cfg.listen,
			errno ? strerror(errno) : "the address is not free");
	return 0;
}

void es_http_quiesce(struct es_http *h)
{
	MHD_socket fd;

	if (h->daemon == NULL)
		return;
	fd = MHD_quiesce_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

int es_http_waiting(struct es_http *h)
{
	return atomic_load(&h->waiting);
}

void es_http_stop(struct es_http *h)
{
	if (h == NULL)
		return;
	if (h->daemon != NULL)
		MHD_stop_daemon(h->daemon); /* it closes the socket */
	else if (h->fd >= 0)
		close(h->fd);
	free(h);
}
