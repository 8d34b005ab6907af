/*
 * es-load.c - the client load of event-store's tests and benchmark: the
 * mix of the issue's client application over N concurrent HTTP/1.1
 * connections (keep-alive when the server keeps them), one thread, epoll.
 *
 *   es-load --url http://127.0.0.1:8480 --connections 64 --seconds 10
 *
 * Each connection sends one request at a time, the next as soon as the
 * answer is in, or, with --rate R, not before R per second in all (request
 * i at i / R seconds from the start, at the earliest). The mix: POST
 * /initial of a random uuid4 and symbol a-z (a JSON body); after its 200,
 * with probability --followup-probability, the next request of that
 * connection is POST /followup of that uuid; the K-th request of the
 * whole run, the 2K-th and so on (K: --dashboard-every) are dashboard
 * reads, /dashboard/symbol/<random letter> and
 * /dashboard/range/<today>/<tomorrow> (UTC) in turn, a follow-up due on
 * that connection coming after it. With --requests N, exactly N requests
 * are sent, N / K of them dashboard reads.
 *
 * --acked FILE gets one line per event answered 200, "initial <uuid>
 * <symbol>" or "followup <uuid>", flushed before es-load waits for the
 * server again: killed with -9, a server is known to have acknowledged
 * exactly those.
 *
 * A latency runs from the request's first byte sent to the end of its
 * answer. The summary (stdout; --json: one object) gives the answers per
 * route and status, requests per second and latency percentiles per route.
 * Any answer but 200 is an error and printed (the first 20); so is a
 * request the server closed the connection on without answering, or did
 * not answer within --timeout; the connection is made again and counted.
 *
 * Exit status: 0 when every request was answered 200; 1 on an error, a
 * connection refused at start, a server that stays unreachable, or a
 * usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "log.h"
#include "xalloc.h"

#include "es_load_http.h"

/* Errors printed in full; further ones are counted only. */
#define ES_PRINTED_MAX 20
/* Failed connects in a row, 100 ms apart, before a connection gives up. */
#define ES_CONNECT_TRIES 50
#define ES_RETRY_US	 100000
/* The largest answer read. */
#define ES_ANSWER_MAX (1 << 20)

enum es_route { ROUTE_INITIAL, ROUTE_FOLLOWUP, ROUTE_SYMBOL, ROUTE_RANGE };
#define ROUTE_N 4
static const char *const es_route_names[ROUTE_N] = { "initial", "followup",
						     "symbol", "range" };

struct es_opts {
	char host[256];
	char port[8];
	const char *url;
	int connections;
	long long requests; /* 0: --seconds decides */
	int64_t seconds_ms;
	double followup_p;
	int dashboard_every; /* 0: no dashboard reads */
	const char *acked;
	uint64_t seed;
	bool seed_set;
	bool json;
	int64_t timeout_ms;
	double rate; /* requests per second in all; 0: no pacing */
};

#define STATUS_SLOTS 16
struct es_route_stats {
	int status[STATUS_SLOTS];
	uint64_t count[STATUS_SLOTS];
	int nstatus;
	uint64_t other; /* answers whose status found no slot */
	int64_t *lat;	/* microseconds, one per answer */
	size_t n, cap;
};

enum es_conn_state {
	CONN_WAIT,
	CONN_DOWN,
	CONN_CONNECTING,
	CONN_SENDING,
	CONN_READING,
	CONN_DONE
};

struct es_conn {
	int fd;
	enum es_conn_state state;
	bool ever_up;
	int failures;	  /* failed connects in a row */
	int64_t retry_at; /* CONN_DOWN: when to connect again; CONN_WAIT:
			     when --rate lets the next request go */
	char req[512];
	size_t req_len, req_sent;
	char *in;
	size_t in_len, in_cap;
	enum es_route route;
	char uuid[37];
	char symbol;
	bool followup_due;
	int64_t sent_at; /* microseconds; 0: no request in flight */
};

struct es_load {
	const struct es_opts *o;
	struct addrinfo *addrs;	     /* getaddrinfo()'s list */
	const struct addrinfo *addr; /* the one connected to */
	int ep;
	struct es_conn *conns;
	uint64_t rng;
	long long issued, answered, dashboards;
	uint64_t non_200, malformed, unanswered, timeouts;
	uint64_t reconnects, closed_by_server, connect_failures;
	int printed;
	struct es_route_stats routes[ROUTE_N];
	FILE *acked;
	bool acked_dirty;
	int64_t start_us, end_us, deadline_us;
	int live;	 /* connections not CONN_DONE */
	int start_error; /* errno of a connection refused at start */
	bool unreachable;
};

static uint64_t es_rand(struct es_load *l)
{
	/* splitmix64: small, fast, and good enough for a load's choices. */
	uint64_t z = (l->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void es_uuid4(struct es_load *l, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	uint64_t r0 = es_rand(l), r1 = es_rand(l);
	int j = 0;

	memcpy(b, &r0, 8);
	memcpy(b + 8, &r1, 8);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[b[i] >> 4];
		out[j++] = hex[b[i] & 15];
	}
	out[j] = '\0';
}

/* An error of the load: printed while under ES_PRINTED_MAX. */
__attribute__((format(printf, 2, 3))) static void
es_report(struct es_load *l, const char *fmt, ...)
{
	va_list ap;

	if (l->printed++ >= ES_PRINTED_MAX) {
		if (l->printed == ES_PRINTED_MAX + 1)
			dbops_log_error("more errors: counted, not printed");
		return;
	}
	va_start(ap, fmt);
	dbops_log_v(DBOPS_LOG_ERROR, fmt, ap);
	va_end(ap);
}

static bool es_should_stop(const struct es_load *l, int64_t now)
{
	if (l->o->requests > 0)
		return l->issued >= l->o->requests;
	return now >= l->deadline_us;
}

/* The UTC date of the wall clock, and of the day after, YYYY-MM-DD. */
static void es_days(char today[16], char tomorrow[16])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(today, 16, "%Y-%m-%d", &tm);
	t += 86400;
	gmtime_r(&t, &tm);
	strftime(tomorrow, 16, "%Y-%m-%d", &tm);
}

/* Choose C's next request by the mix and write it into C->req. */
static void es_build_request(struct es_load *l, struct es_conn *c)
{
	const struct es_opts *o = l->o;
	char body[128], path[96];
	const char *method = "POST";
	int k = o->dashboard_every, n = 0;

	/* The K-th request of the run, the 2K-th...: a dashboard read, before a
	   follow-up due (which comes next on this connection). */
	if (k > 0 && l->dashboards < (l->issued + 1) / k) {
		method = "GET";
		if (l->dashboards++ % 2 == 0) {
			c->route = ROUTE_SYMBOL;
			snprintf(path, sizeof(path), "/dashboard/symbol/%c",
				 (char)('a' + es_rand(l) % 26));
		} else {
			char today[16], tomorrow[16];

			c->route = ROUTE_RANGE;
			es_days(today, tomorrow);
			snprintf(path, sizeof(path), "/dashboard/range/%s/%s",
				 today, tomorrow);
		}
	} else if (c->followup_due) {
		c->route = ROUTE_FOLLOWUP;
		c->followup_due = false;
		snprintf(path, sizeof(path), "/followup");
		n = snprintf(body, sizeof(body), "{\"uuid\":\"%s\"}", c->uuid);
	} else {
		c->route = ROUTE_INITIAL;
		es_uuid4(l, c->uuid);
		c->symbol = (char)('a' + es_rand(l) % 26);
		snprintf(path, sizeof(path), "/initial");
		n = snprintf(body, sizeof(body),
			     "{\"uuid\":\"%s\",\"symbol\":\"%c\"}", c->uuid,
			     c->symbol);
	}
	if (n > 0)
		c->req_len = (size_t)snprintf(
			c->req, sizeof(c->req),
			"%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
			"Content-Type: application/json\r\n"
			"Content-Length: %d\r\n\r\n%s",
			method, path, o->host, o->port, n, body);
	else
		c->req_len = (size_t)snprintf(
			c->req, sizeof(c->req),
			"%s %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", method, path,
			o->host, o->port);
	c->req_sent = 0;
}

/* What C's request is, for messages: "POST /initial". */
static const char *es_request_line(const struct es_conn *c, char *buf,
				   size_t size)
{
	const char *sp = memchr(c->req, ' ', c->req_len);
	const char *end =
		sp ? memchr(sp + 1, ' ', c->req_len - (size_t)(sp + 1 - c->req))
		   : NULL;

	snprintf(buf, size, "%.*s", end ? (int)(end - c->req) : 0, c->req);
	return buf;
}

static void es_close(struct es_load *l, struct es_conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->in_len = 0;
	c->sent_at = 0;
}

static void es_finish(struct es_load *l, struct es_conn *c)
{
	es_close(l, c);
	c->state = CONN_DONE;
	l->live--;
}

static void es_connect(struct es_load *l, struct es_conn *c);
static void es_send(struct es_load *l, struct es_conn *c);

/* Start C's next request, or end C when the run is over. */
static void es_next(struct es_load *l, struct es_conn *c)
{
	int64_t now = dbops_clock_us();

	if (es_should_stop(l, now)) {
		es_finish(l, c);
		return;
	}
	if (l->o->rate > 0) {
		/* Request i goes at i / rate seconds from the start, at the
		   earliest, on whichever connection is free first. */
		int64_t slot = l->start_us +
			       (int64_t)((double)l->issued * 1e6 / l->o->rate);

		if (now < slot) {
			c->state = CONN_WAIT;
			c->retry_at = slot;
			return;
		}
	}
	es_build_request(l, c);
	l->issued++;
	c->in_len = 0;
	c->sent_at = now;
	c->state = CONN_SENDING;
	es_send(l, c);
}

/* C is closed (by the server, an error, or the answer's framing): make it
 * again unless the run is over. */
static void es_reconnect(struct es_load *l, struct es_conn *c)
{
	es_close(l, c);
	if (es_should_stop(l, dbops_clock_us())) {
		es_finish(l, c);
		return;
	}
	l->reconnects++;
	es_connect(l, c);
}

/* The server closed C or failed it (WHY) with its request unanswered. */
static void es_lost(struct es_load *l, struct es_conn *c, const char *why)
{
	char line[64];

	if (c->sent_at != 0) {
		l->unanswered++;
		es_report(l, "%s: %s before an answer",
			  es_request_line(c, line, sizeof(line)), why);
	}
	es_reconnect(l, c);
}

static void es_connect_failed(struct es_load *l, struct es_conn *c, int err)
{
	es_close(l, c);
	if (!c->ever_up) {
		if (l->start_error == 0)
			l->start_error = err;
		es_finish(l, c);
		return;
	}
	l->connect_failures++;
	if (++c->failures >= ES_CONNECT_TRIES) {
		/* Printed past ES_PRINTED_MAX too: it is why the run ends. */
		if (!l->unreachable)
			dbops_log_error(
				"could not connect to %s:%s %d times in a row: %s",
				l->o->host, l->o->port, c->failures,
				strerror(err));
		l->unreachable = true;
		es_finish(l, c);
		return;
	}
	c->state = CONN_DOWN;
	c->retry_at = dbops_clock_us() + ES_RETRY_US;
}

static void es_up(struct es_load *l, struct es_conn *c)
{
	c->ever_up = true;
	c->failures = 0;
	es_next(l, c);
}

static void es_connect(struct es_load *l, struct es_conn *c)
{
	const struct addrinfo *a = l->addr;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET |
					    EPOLLRDHUP,
				  .data.ptr = c };
	int one = 1;

	c->fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (c->fd < 0) {
		es_connect_failed(l, c, errno);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		es_connect_failed(l, c, errno);
		return;
	}
	if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0) {
		es_up(l, c);
	} else if (errno == EINPROGRESS) {
		c->state = CONN_CONNECTING;
	} else {
		es_connect_failed(l, c, errno);
	}
}

static void es_send(struct es_load *l, struct es_conn *c)
{
	while (c->req_sent < c->req_len) {
		ssize_t n = send(c->fd, c->req + c->req_sent,
				 c->req_len - c->req_sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* EPOLLOUT comes back */
		if (n < 0) {
			es_lost(l, c, strerror(errno));
			return;
		}
		c->req_sent += (size_t)n;
	}
	c->state = CONN_READING;
}

static void es_stat_add(struct es_route_stats *s, int status, int64_t us)
{
	int i;

	for (i = 0; i < s->nstatus && s->status[i] != status; i++)
		;
	if (i == s->nstatus && i < STATUS_SLOTS) {
		s->status[i] = status;
		s->count[i] = 0;
		s->nstatus++;
	}
	if (i < STATUS_SLOTS)
		s->count[i]++;
	else
		s->other++;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->lat = dbops_xreallocarray(s->lat, s->cap, sizeof(*s->lat));
	}
	s->lat[s->n++] = us;
}

/* The body of an answer, printable, for a message. */
static void es_body_text(const struct es_conn *c,
			 const struct es_http_answer *a, char *out, size_t size)
{
	size_t n = a->body_bytes < size - 1 ? a->body_bytes : size - 1;

	for (size_t i = 0; i < n; i++) {
		char ch = c->in[a->body + i];

		out[i] = ch >= 0x20 && ch < 0x7f ? ch : ' ';
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* C's request got the whole answer A. */
static void es_answered(struct es_load *l, struct es_conn *c,
			const struct es_http_answer *a)
{
	int64_t now = dbops_clock_us();

	es_stat_add(&l->routes[c->route], a->status, now - c->sent_at);
	l->answered++;
	l->end_us = now;
	c->sent_at = 0;
	if (c->route == ROUTE_INITIAL) {
		/* Rolled for every answer: a seed then gives the same uuids,
		   whatever the answers (on one connection). */
		bool roll = (double)(es_rand(l) >> 11) * 0x1.0p-53 <
			    l->o->followup_p;

		c->followup_due = a->status == 200 && roll;
	}
	if (a->status == 200 && c->route == ROUTE_INITIAL) {
		if (l->acked) {
			fprintf(l->acked, "initial %s %c\n", c->uuid,
				c->symbol);
			l->acked_dirty = true;
		}
	} else if (a->status == 200 && c->route == ROUTE_FOLLOWUP) {
		if (l->acked) {
			fprintf(l->acked, "followup %s\n", c->uuid);
			l->acked_dirty = true;
		}
	} else if (a->status != 200) {
		char line[64], body[256];

		l->non_200++;
		es_body_text(c, a, body, sizeof(body));
		es_report(l, "%s: answered %d: %s",
			  es_request_line(c, line, sizeof(line)), a->status,
			  body);
	}
	if (a->keep_alive) {
		es_next(l, c);
	} else {
		l->closed_by_server++;
		es_reconnect(l, c);
	}
}

enum es_fill { FILL_DRAINED, FILL_SHORT, FILL_EOF, FILL_HANDLED };

/*
 * Read what C has into C->in: until EAGAIN (FILL_DRAINED), a read that
 * did not fill the room it had (FILL_SHORT: the answer may be whole, and
 * one read less per answer is worth it), the end of the connection
 * (FILL_EOF), or an error or an answer too big, for which C was made again
 * (FILL_HANDLED).
 */
static enum es_fill es_fill(struct es_load *l, struct es_conn *c)
{
	char line[64];

	for (;;) {
		size_t room;
		ssize_t n;

		if (c->in_cap - c->in_len < 4096) {
			if (c->in_cap >= ES_ANSWER_MAX) {
				l->malformed++;
				es_report(
					l, "%s: answer over %d bytes",
					es_request_line(c, line, sizeof(line)),
					ES_ANSWER_MAX);
				c->sent_at = 0;
				es_reconnect(l, c);
				return FILL_HANDLED;
			}
			c->in_cap = c->in_cap ? c->in_cap * 2 : 8192;
			c->in = dbops_xreallocarray(c->in, c->in_cap, 1);
		}
		room = c->in_cap - c->in_len;
		n = read(c->fd, c->in + c->in_len, room);
		if (n > 0) {
			c->in_len += (size_t)n;
			if ((size_t)n < room)
				return FILL_SHORT;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return FILL_DRAINED;
		if (n < 0 && c->in_len == 0) {
			es_lost(l, c, strerror(errno));
			return FILL_HANDLED;
		}
		return FILL_EOF;
	}
}

/* Read what C has; take the answer when it is whole. */
static void es_read(struct es_load *l, struct es_conn *c)
{
	struct es_http_answer a;
	enum es_http_result r;
	enum es_fill f;
	char line[64];

	do {
		f = es_fill(l, c);
		if (f == FILL_HANDLED)
			return;
		if (c->sent_at == 0) {
			/* Bytes, or the end, while no request is in flight. */
			if (f == FILL_EOF || c->in_len > 0)
				es_lost(l, c, "connection closed");
			return;
		}
		if (f == FILL_EOF && c->in_len == 0) {
			es_lost(l, c, "connection closed");
			return;
		}
		if (c->in_len == 0)
			return;
		r = es_http_parse(c->in, c->in_len, f == FILL_EOF, &a);
	} while (r == ES_HTTP_MORE && f == FILL_SHORT);
	if (r == ES_HTTP_MORE)
		return;
	if (r == ES_HTTP_BAD || a.length != c->in_len) {
		l->malformed++;
		es_report(l, "%s: %s answer",
			  es_request_line(c, line, sizeof(line)),
			  r == ES_HTTP_BAD ? "malformed or truncated"
					   : "bytes after the");
		c->sent_at = 0;
		es_reconnect(l, c);
		return;
	}
	if (f == FILL_EOF)
		a.keep_alive = false;
	es_answered(l, c, &a);
}

static void es_event(struct es_load *l, struct es_conn *c, uint32_t events)
{
	if (c->state == CONN_WAIT &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		/* Closed (idle) by the server while --rate held it back. */
		es_reconnect(l, c);
		return;
	}
	if (c->state == CONN_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0)
			es_connect_failed(l, c, err);
		else if (events & (EPOLLOUT | EPOLLIN))
			es_up(l, c);
		return;
	}
	if (c->state == CONN_SENDING && (events & (EPOLLOUT | EPOLLERR)))
		es_send(l, c);
	if ((c->state == CONN_READING || c->state == CONN_SENDING) &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		es_read(l, c);
}

/* Connections to retry, requests past --timeout. */
static void es_tick(struct es_load *l)
{
	int64_t now = dbops_clock_us();

	for (int i = 0; i < l->o->connections; i++) {
		struct es_conn *c = &l->conns[i];

		if (c->state == CONN_DOWN && now >= c->retry_at) {
			if (es_should_stop(l, now))
				es_finish(l, c);
			else
				es_connect(l, c);
		} else if (c->sent_at != 0 &&
			   now - c->sent_at > l->o->timeout_ms * 1000) {
			char line[64];

			l->timeouts++;
			es_report(l, "%s: no answer within %" PRId64 " ms",
				  es_request_line(c, line, sizeof(line)),
				  l->o->timeout_ms);
			c->sent_at = 0;
			es_reconnect(l, c);
		}
	}
}

/* The address of --url's host: its first IPv4 one if it has any (a
 * service on 127.0.0.1 named "localhost" is not refused on ::1). */
static int es_resolve(struct es_load *l)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	int rc = getaddrinfo(l->o->host, l->o->port, &hints, &l->addrs);

	if (rc != 0) {
		dbops_log_error("could not resolve \"%s\": %s", l->o->host,
				gai_strerror(rc));
		return -1;
	}
	l->addr = l->addrs;
	for (const struct addrinfo *a = l->addrs; a; a = a->ai_next)
		if (a->ai_family == AF_INET) {
			l->addr = a;
			break;
		}
	return 0;
}

/* With --rate: the connections whose next request may go now. */
static void es_wake(struct es_load *l)
{
	int64_t now = dbops_clock_us();

	for (int i = 0; i < l->o->connections; i++) {
		struct es_conn *c = &l->conns[i];

		if (c->state == CONN_WAIT && now >= c->retry_at)
			es_next(l, c);
	}
}

/* The event loop, until every connection is done. */
static int es_loop(struct es_load *l)
{
	struct epoll_event evs[256];
	int64_t last_tick = 0;

	while (l->live > 0) {
		int n = epoll_wait(l->ep, evs, 256, l->o->rate > 0 ? 1 : 50);

		if (n < 0 && errno != EINTR) {
			dbops_log_error("epoll_wait failed: %s",
					strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++)
			es_event(l, evs[i].data.ptr, evs[i].events);
		if (l->start_error != 0) {
			dbops_log_error("could not connect to %s:%s: %s",
					l->o->host, l->o->port,
					strerror(l->start_error));
			return -1;
		}
		if (l->acked_dirty) {
			if (fflush(l->acked) != 0) {
				dbops_log_error("could not write \"%s\": %s",
						l->o->acked, strerror(errno));
				return -1;
			}
			l->acked_dirty = false;
		}
		if (l->o->rate > 0)
			es_wake(l);
		if (dbops_clock_us() - last_tick >= 50000) {
			es_tick(l);
			last_tick = dbops_clock_us();
		}
	}
	return 0;
}

static int es_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentile PM per mille (0 < PM <= 1000) of N > 0
 * sorted values. */
static int64_t es_pct(const int64_t *v, size_t n, int pm)
{
	size_t rank = ((size_t)pm * n + 999) / 1000;

	return v[rank > 0 ? rank - 1 : 0];
}

static double es_seconds(const struct es_load *l)
{
	int64_t end = l->end_us > l->start_us ? l->end_us : dbops_clock_us();

	return (double)(end - l->start_us) / 1e6;
}

/* The CPU seconds (user and system) es-load used so far. */
static double es_cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0.0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t es_errors(const struct es_load *l)
{
	return l->non_200 + l->malformed + l->unanswered + l->timeouts;
}

static void es_print_route_json(const struct es_route_stats *s)
{
	printf("{\"requests\":%zu,\"status\":{", s->n);
	for (int j = 0; j < s->nstatus; j++)
		printf("%s\"%d\":%" PRIu64, j ? "," : "", s->status[j],
		       s->count[j]);
	if (s->other > 0)
		printf("%s\"other\":%" PRIu64, s->nstatus ? "," : "", s->other);
	if (s->n == 0)
		printf("},\"p50_us\":null,\"p90_us\":null,\"p99_us\":null,"
		       "\"max_us\":null}");
	else
		printf("},\"p50_us\":%" PRId64 ",\"p90_us\":%" PRId64
		       ",\"p99_us\":%" PRId64 ",\"max_us\":%" PRId64 "}",
		       es_pct(s->lat, s->n, 500), es_pct(s->lat, s->n, 900),
		       es_pct(s->lat, s->n, 990), s->lat[s->n - 1]);
}

static void es_print_json(const struct es_load *l)
{
	double secs = es_seconds(l);

	printf("{\"url\":\"%s:%s\",\"connections\":%d,\"requests\":%lld,"
	       "\"seconds\":%.3f,\"requests_per_second\":%.1f,"
	       "\"errors\":%" PRIu64 ",\"non_200\":%" PRIu64
	       ",\"malformed\":%" PRIu64 ",\"unanswered\":%" PRIu64
	       ",\"timeouts\":%" PRIu64 ",\"reconnects\":%" PRIu64
	       ",\"closed_by_server\":%" PRIu64 ",\"connect_failures\":%" PRIu64
	       ",\"client_cpu_seconds\":%.3f,\"routes\":{",
	       l->o->host, l->o->port, l->o->connections, l->answered, secs,
	       secs > 0 ? (double)l->answered / secs : 0.0, es_errors(l),
	       l->non_200, l->malformed, l->unanswered, l->timeouts,
	       l->reconnects, l->closed_by_server, l->connect_failures,
	       es_cpu_seconds());
	for (int r = 0; r < ROUTE_N; r++) {
		printf("%s\"%s\":", r ? "," : "", es_route_names[r]);
		es_print_route_json(&l->routes[r]);
	}
	printf("}}\n");
}

static void es_print_text(const struct es_load *l)
{
	double secs = es_seconds(l);

	printf("requests: %lld answered in %.3f s: %.1f requests/s, %d connections, client CPU %.2f s\n",
	       l->answered, secs, secs > 0 ? (double)l->answered / secs : 0.0,
	       l->o->connections, es_cpu_seconds());
	printf("errors: %" PRIu64 " (%" PRIu64 " not 200, %" PRIu64
	       " malformed, %" PRIu64 " unanswered, %" PRIu64 " timed out)\n",
	       es_errors(l), l->non_200, l->malformed, l->unanswered,
	       l->timeouts);
	printf("connections made again: %" PRIu64 " (%" PRIu64
	       " closed by the server after an answer), failed connects: %" PRIu64
	       "\n",
	       l->reconnects, l->closed_by_server, l->connect_failures);
	printf("%-9s %9s %9s %9s %9s %9s  %s\n", "route", "answers", "p50 us",
	       "p90 us", "p99 us", "max us", "statuses");
	for (int r = 0; r < ROUTE_N; r++) {
		const struct es_route_stats *s = &l->routes[r];

		if (s->n == 0) {
			printf("%-9s %9d %9s %9s %9s %9s\n", es_route_names[r],
			       0, "-", "-", "-", "-");
			continue;
		}
		printf("%-9s %9zu %9" PRId64 " %9" PRId64 " %9" PRId64
		       " %9" PRId64 " ",
		       es_route_names[r], s->n, es_pct(s->lat, s->n, 500),
		       es_pct(s->lat, s->n, 900), es_pct(s->lat, s->n, 990),
		       s->lat[s->n - 1]);
		for (int j = 0; j < s->nstatus; j++)
			printf(" %d:%" PRIu64, s->status[j], s->count[j]);
		if (s->other)
			printf(" other:%" PRIu64, s->other);
		printf("\n");
	}
}

static int es_run(const struct es_opts *o)
{
	struct es_load l = { .o = o, .ep = -1 };
	int rc = -1;

	l.rng = o->seed_set
			? o->seed
			: (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
				  (uint64_t)dbops_clock_us();
	if (es_resolve(&l) != 0)
		return 1;
	if (o->acked) {
		int fd = open(o->acked,
			      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0 || (l.acked = fdopen(fd, "a")) == NULL) {
			dbops_log_error("could not open \"%s\": %s", o->acked,
					strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
	}
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	if (l.ep < 0) {
		dbops_log_error("epoll_create1 failed: %s", strerror(errno));
		goto out;
	}
	l.conns = dbops_xcalloc((size_t)o->connections, sizeof(*l.conns));
	l.start_us = dbops_clock_us();
	l.deadline_us = l.start_us + o->seconds_ms * 1000;
	l.live = o->connections;
	for (int i = 0; i < o->connections; i++) {
		l.conns[i].fd = -1;
		es_connect(&l, &l.conns[i]);
	}
	if (l.start_error != 0) {
		dbops_log_error("could not connect to %s:%s: %s", o->host,
				o->port, strerror(l.start_error));
		goto out;
	}
	if (es_loop(&l) != 0)
		goto out;
	/* A route without answers has lat NULL, which qsort may not take. */
	for (int r = 0; r < ROUTE_N; r++)
		if (l.routes[r].n > 0)
			qsort(l.routes[r].lat, l.routes[r].n, sizeof(int64_t),
			      es_cmp_i64);
	if (o->json)
		es_print_json(&l);
	else
		es_print_text(&l);
	rc = 0;
	if (l.unreachable) {
		dbops_log_error("the server at %s:%s became unreachable",
				o->host, o->port);
		rc = -1;
	} else if (es_errors(&l) > 0) {
		dbops_log_error("%" PRIu64 " of %lld requests failed",
				es_errors(&l), l.issued);
		rc = -1;
	}
out:
	if (l.conns)
		for (int i = 0; i < o->connections; i++) {
			if (l.conns[i].fd >= 0)
				close(l.conns[i].fd);
			free(l.conns[i].in);
		}
	free(l.conns);
	for (int r = 0; r < ROUTE_N; r++)
		free(l.routes[r].lat);
	if (l.acked && fclose(l.acked) != 0 && rc == 0) {
		dbops_log_error("could not write \"%s\": %s", o->acked,
				strerror(errno));
		rc = -1;
	}
	if (l.ep >= 0)
		close(l.ep);
	if (l.addrs)
		freeaddrinfo(l.addrs);
	return rc == 0 ? 0 : 1;
}

/* --url http://HOST:PORT[/] (HOST may be [IPv6]). */
static int es_parse_url(struct es_opts *o, const char *url)
{
	const char *p = url, *host, *host_end, *port;
	size_t n;

	if (strncmp(p, "http://", 7) != 0)
		return dbops_cli_invalid("--url", url, "use http://HOST:PORT");
	p += 7;
	if (*p == '[') {
		host = p + 1;
		host_end = strchr(host, ']');
		if (host_end == NULL || host_end[1] != ':')
			return dbops_cli_invalid("--url", url,
						 "use http://HOST:PORT");
		port = host_end + 2;
	} else {
		host = p;
		host_end = strchr(host, ':');
		if (host_end == NULL)
			return dbops_cli_invalid("--url", url,
						 "use http://HOST:PORT");
		port = host_end + 1;
	}
	n = strspn(port, "0123456789");
	if (host_end == host || (size_t)(host_end - host) >= sizeof(o->host) ||
	    n == 0 || n > 5 ||
	    (port[n] != '\0' && strcmp(port + n, "/") != 0) || atoi(port) < 1 ||
	    atoi(port) > 65535)
		return dbops_cli_invalid("--url", url, "use http://HOST:PORT");
	snprintf(o->host, sizeof(o->host), "%.*s", (int)(host_end - host),
		 host);
	snprintf(o->port, sizeof(o->port), "%.*s", (int)n, port);
	o->url = url;
	return 0;
}

enum {
	OPT_URL = DBOPS_CLI_LONG_ID(0),
	OPT_REQUESTS,
	OPT_SECONDS,
	OPT_FOLLOWUP,
	OPT_DASHBOARD,
	OPT_ACKED,
	OPT_SEED,
	OPT_JSON,
	OPT_TIMEOUT,
	OPT_RATE,
};

static int es_set_option(void *ctx, int id, const char *arg)
{
	struct es_opts *o = ctx;
	long long v;
	char *end;

	switch (id) {
	case OPT_URL:
		return es_parse_url(o, arg);
	case 'c':
		return dbops_cli_int("--connections", arg, 1, 10000,
				     &o->connections);
	case OPT_REQUESTS:
		if (dbops_cli_parse_int(arg, &v) != 0 || v < 1)
			return dbops_cli_invalid("--requests", arg,
						 "use a positive number");
		o->requests = v;
		return 0;
	case OPT_SECONDS:
		return dbops_cli_duration("--seconds", arg, 1, 86400000LL,
					  &o->seconds_ms);
	case OPT_FOLLOWUP:
		errno = 0;
		o->followup_p = strtod(arg, &end);
		if (errno != 0 || end == arg || *end != '\0' ||
		    !(o->followup_p >= 0.0 && o->followup_p <= 1.0))
			return dbops_cli_invalid("--followup-probability", arg,
						 "use a number from 0 to 1");
		return 0;
	case OPT_DASHBOARD:
		return dbops_cli_int("--dashboard-every", arg, 0, 1000000000,
				     &o->dashboard_every);
	case OPT_ACKED:
		o->acked = arg;
		return 0;
	case OPT_SEED:
		if (dbops_cli_parse_int(arg, &v) != 0 || v < 0)
			return dbops_cli_invalid("--seed", arg,
						 "use a number from 0");
		o->seed = (uint64_t)v;
		o->seed_set = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_TIMEOUT:
		return dbops_cli_duration("--timeout", arg, 1, 86400000LL,
					  &o->timeout_ms);
	case OPT_RATE:
		errno = 0;
		o->rate = strtod(arg, &end);
		if (errno != 0 || end == arg || *end != '\0' ||
		    !(o->rate > 0.0 && o->rate <= 1e7))
			return dbops_cli_invalid("--rate", arg,
						 "use a number of requests per "
						 "second over 0");
		return 0;
	}
	return -1;
}

static const struct dbops_cli_option es_options[] = {
	{ OPT_URL, "url", "URL",
	  "the service, http://HOST:PORT (default http://127.0.0.1:8480)" },
	{ 'c', "connections", "N", "concurrent connections (default 16)" },
	{ OPT_REQUESTS, "requests", "N", "send N requests in all" },
	{ OPT_SECONDS, "seconds", "S",
	  "send requests for S seconds (default 10)" },
	{ OPT_FOLLOWUP, "followup-probability", "P",
	  "a follow-up after an initial event's 200 with probability P "
	  "(default 0.3)" },
	{ OPT_DASHBOARD, "dashboard-every", "K",
	  "one dashboard read every K requests, 0 for none (default 20)" },
	{ OPT_ACKED, "acked", "FILE",
	  "append a line per event answered 200 to FILE" },
	{ OPT_SEED, "seed", "N",
	  "seed of the random choices (default: the time)" },
	{ OPT_JSON, "json", NULL, "print the summary as one JSON object" },
	{ OPT_TIMEOUT, "timeout", "S",
	  "an answer's longest wait (default 30)" },
	{ OPT_RATE, "rate", "R",
	  "R requests per second in all, at most (default: as fast as "
	  "answered)" },
	{ 0 },
};

static const int es_exclusive[][DBOPS_CLI_GROUP_MAX] = {
	{ OPT_REQUESTS, OPT_SECONDS, 0 },
	{ 0 },
};

static const char *const es_synopsis[] = { "[OPTION...]", NULL };

static const struct dbops_cli es_cli = {
	.name = "es-load",
	.synopsis = es_synopsis,
	.about = "Send event-store's client mix over concurrent HTTP/1.1\n"
		 "connections and print the answers' counts and latencies.\n",
	.sections =
		(const struct dbops_cli_section[]){ { "Options", es_options },
						    { NULL, NULL } },
	.exclusive = es_exclusive,
	.handle = es_set_option,
};

int main(int argc, char **argv)
{
	struct es_opts o = { .connections = 16,
			     .seconds_ms = 10000,
			     .followup_p = 0.3,
			     .dashboard_every = 20,
			     .timeout_ms = 30000 };
	int first, rc;

	dbops_log_init(argv[0]);
	snprintf(o.host, sizeof(o.host), "127.0.0.1");
	snprintf(o.port, sizeof(o.port), "8480");
	rc = dbops_cli_parse(&es_cli, &o, argc, argv, &first);
	if (rc == DBOPS_CLI_RUN && first < argc)
		rc = dbops_cli_error("unexpected argument \"%s\"", argv[first]);
	if (rc == DBOPS_CLI_RUN)
		rc = es_run(&o);
	return dbops_log_exit_status(rc);
}
