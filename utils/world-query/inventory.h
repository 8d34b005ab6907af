/*
 * inventory.h - the worlds world-query knows: the groups [client_<world>]
 * of a MySQL option file (dump-restore's worlds.cnf, or any such file).
 * Connecting reads the same file through Connector/C's own option-file
 * reader; this only lists the worlds and what to show of them.
 */
#ifndef WQ_INVENTORY_H
#define WQ_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"

struct wq_world {
	char name[128];
	char host[256];
	char port[16];
	char socket[512];
	char database[128];
};

struct wq_inventory {
	char *path;
	struct wq_world *worlds; /* natural order */
	size_t count;
};

/*
 * Read the worlds of the option file at PATH into *INV (free it with
 * wq_inventory_free()). Returns 0, or -1 with a reason in ERR (missing
 * file, no [client_<world>] group in it) and *INV empty. Exits on out of
 * memory (xalloc.h).
 */
int wq_inventory_read(const char *path, struct wq_inventory *inv,
		      struct dbops_err *err);

/* Free what *INV holds and leave it empty (freeing it again is harmless). */
void wq_inventory_free(struct wq_inventory *inv);

/*
 * Keep the worlds matching any of PATTERNS (glob patterns, or names), in
 * inventory order; no patterns keeps all. A pattern that matches no world
 * is an error (in ERR). Returns 0 or -1.
 */
int wq_inventory_select(struct wq_inventory *inv, const char *const *patterns,
			int npatterns, struct dbops_err *err);

/* The world named NAME, or NULL. */
const struct wq_world *wq_inventory_find(const struct wq_inventory *inv,
					 const char *name);

#endif
