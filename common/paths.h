/*
 * paths.h - where the tools keep their state by default.
 */
#ifndef DBOPS_PATHS_H
#define DBOPS_PATHS_H

#include <stddef.h>

/*
 * The directory for state named WHAT ("worlds"): /var/lib/dbops/WHAT for
 * root, $HOME/.local/state/dbops/WHAT (the XDG state directory) for other
 * users. Written into BUF; returns BUF.
 */
const char *dbops_state_dir(const char *what, char *buf, size_t len);

#endif
