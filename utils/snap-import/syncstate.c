/*
 * syncstate.c - sync's table of files and its rules. See syncstate.h.
 */
#include "syncstate.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void snap_fstat_from(struct snap_fstat *f, const struct stat *st)
{
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = (int64_t)st->st_size;
	f->mtime_ns =
		(int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	f->ctime_ns =
		(int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

bool snap_fstat_same(const struct snap_fstat *a, const struct snap_fstat *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

bool snap_fstat_content_changed(const struct snap_fstat *a,
				const struct snap_fstat *b)
{
	return a->dev == b->dev && a->ino == b->ino &&
	       (a->size != b->size || a->mtime_ns != b->mtime_ns);
}

/* FNV-1a: names are short, the table only needs spreading. */
static size_t hash_name(const char *name)
{
	uint64_t h = 1469598103934665603ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)h;
}

void snap_ftable_init(struct snap_ftable *t)
{
	t->nbuckets = 64;
	t->count = 0;
	t->buckets = dbops_xcalloc(t->nbuckets, sizeof(*t->buckets));
}

static void free_entry(struct snap_fentry *e)
{
	free(e->name);
	free(e->error);
	free(e);
}

void snap_ftable_free(struct snap_ftable *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct snap_fentry *e = t->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			free_entry(e);
		}
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

struct snap_fentry *snap_ftable_get(const struct snap_ftable *t,
				    const char *name)
{
	struct snap_fentry *e = t->buckets[hash_name(name) % t->nbuckets];

	while (e && strcmp(e->name, name) != 0)
		e = e->next;
	return e;
}

static void grow(struct snap_ftable *t)
{
	size_t n = t->nbuckets * 4;
	struct snap_fentry **b = dbops_xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < t->nbuckets; i++) {
		struct snap_fentry *e = t->buckets[i], *next;

		for (; e; e = next) {
			size_t k = hash_name(e->name) % n;

			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

struct snap_fentry *snap_ftable_add(struct snap_ftable *t, const char *name)
{
	struct snap_fentry *e = snap_ftable_get(t, name);
	size_t k;

	if (e)
		return e;
	if (t->count >= t->nbuckets)
		grow(t);
	e = dbops_xcalloc(1, sizeof(*e));
	e->name = dbops_xstrdup(name);
	e->state = SNAP_F_WAITING;
	k = hash_name(name) % t->nbuckets;
	e->next = t->buckets[k];
	t->buckets[k] = e;
	t->count++;
	return e;
}

void snap_ftable_remove(struct snap_ftable *t, const char *name)
{
	struct snap_fentry **p = &t->buckets[hash_name(name) % t->nbuckets];

	for (; *p; p = &(*p)->next) {
		if (strcmp((*p)->name, name) == 0) {
			struct snap_fentry *e = *p;

			*p = e->next;
			free_entry(e);
			t->count--;
			return;
		}
	}
}

static int by_name(const void *a, const void *b)
{
	const struct snap_fentry *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

struct snap_fentry **snap_ftable_list(const struct snap_ftable *t,
				      unsigned mask, size_t *n)
{
	struct snap_fentry **out =
		dbops_xreallocarray(NULL, t->count + 1, sizeof(*out));

	*n = 0;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct snap_fentry *e = t->buckets[i]; e; e = e->next)
			if (mask == 0 || (mask & (1u << e->state)))
				out[(*n)++] = e;
	qsort(out, *n, sizeof(*out), by_name);
	return out;
}

size_t snap_ftable_count(const struct snap_ftable *t, enum snap_fstate state)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct snap_fentry *e = t->buckets[i]; e; e = e->next)
			n += e->state == state;
	return n;
}

bool snap_fentry_observe(struct snap_fentry *e, const struct snap_fstat *f,
			 int64_t now_us)
{
	if (e->looked && snap_fstat_same(&e->seen, f))
		return false;
	e->seen = *f;
	e->looked = true;
	e->since_us = now_us;
	e->moved = false;
	return true;
}

bool snap_fentry_settled(const struct snap_fentry *e, int64_t now_us,
			 int64_t wall_ns, int64_t settle_us, int64_t *wait_us)
{
	int64_t quiet = now_us - e->since_us;
	int64_t changed_ns = e->seen.ctime_ns > e->seen.mtime_ns
				     ? e->seen.ctime_ns
				     : e->seen.mtime_ns;

	*wait_us = 0;
	if (e->moved || settle_us <= 0)
		return true;
	/* The file's own times count when they are not in the future. */
	if (wall_ns >= changed_ns && (wall_ns - changed_ns) / 1000 > quiet)
		quiet = (wall_ns - changed_ns) / 1000;
	if (quiet >= settle_us)
		return true;
	*wait_us = settle_us - quiet;
	return false;
}

bool snap_failure_passes(const char *sqlstate, bool connection_ok)
{
	static const char *const classes[] = { "08", "40", "53",
					       "57", "58", NULL };

	if (!connection_ok)
		return true;
	if (sqlstate == NULL || strlen(sqlstate) != 5)
		return false;
	for (int i = 0; classes[i]; i++)
		if (strncmp(sqlstate, classes[i], 2) == 0)
			return true;
	return strcmp(sqlstate, "55P03") == 0 || strcmp(sqlstate, "55006") == 0;
}

int snap_backoff_next(int delay_s)
{
	if (delay_s < 1)
		return 1;
	return delay_s >= 30 ? 60 : delay_s * 2;
}
