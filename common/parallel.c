/*
 * parallel.c - a parallel for over an atomic counter. See parallel.h.
 */
#include "parallel.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

struct run {
	const struct dbops_parallel *p;
	_Atomic size_t next;
	size_t done; /* under lock */
	pthread_mutex_t lock;
	pthread_cond_t progress; /* signalled as items finish */
};

static void *worker(void *arg)
{
	struct run *run = arg;
	const struct dbops_parallel *p = run->p;
	size_t i;

	if (p->thread_start)
		p->thread_start();
	while ((i = atomic_fetch_add(&run->next, 1)) < p->count) {
		p->body(p->arg, i);
		pthread_mutex_lock(&run->lock);
		run->done++;
		pthread_cond_signal(&run->progress);
		pthread_mutex_unlock(&run->lock);
	}
	if (p->thread_end)
		p->thread_end();
	return NULL;
}

/* In the calling thread: tick every tick_ms until every item is done. */
static void watch(struct run *run)
{
	const struct dbops_parallel *p = run->p;
	int ms = p->tick_ms > 0 ? p->tick_ms : 200;
	size_t done;

	pthread_mutex_lock(&run->lock);
	while ((done = run->done) < p->count) {
		struct timespec at;

		pthread_mutex_unlock(&run->lock);
		p->tick(p->arg, done);
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += ms / 1000;
		at.tv_nsec += (long)(ms % 1000) * 1000000;
		if (at.tv_nsec >= 1000000000) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&run->lock);
		while (run->done == done &&
		       pthread_cond_timedwait(&run->progress, &run->lock,
					      &at) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&run->lock);
	p->tick(p->arg, done);
}

void dbops_parallel_for(const struct dbops_parallel *p)
{
	struct run run = { .p = p, .next = 0, .done = 0 };
	pthread_t threads[DBOPS_PARALLEL_MAX];
	size_t want = p->jobs > 1 ? (size_t)p->jobs : 1, started = 0;
	pthread_condattr_t attr;

	if (p->count == 0)
		return;
	if (want > p->count)
		want = p->count;
	if (want > DBOPS_PARALLEL_MAX)
		want = DBOPS_PARALLEL_MAX;
	pthread_mutex_init(&run.lock, NULL);
	pthread_condattr_init(&attr);
	/* The wait's deadline is on the monotonic clock, as clock.h's. */
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&run.progress, &attr);
	pthread_condattr_destroy(&attr);
	while (started < want &&
	       pthread_create(&threads[started], NULL, worker, &run) == 0)
		started++;
	if (started == 0)
		worker(&run);
	else if (p->tick)
		watch(&run);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	if (started == 0 && p->tick)
		p->tick(p->arg, p->count);
	pthread_cond_destroy(&run.progress);
	pthread_mutex_destroy(&run.lock);
}
