/*
 * retry.h - snap-import retry and forget: an operator's answer to a file
 * that failed, or that changed after its import.
 */
#ifndef SNAP_RETRY_H
#define SNAP_RETRY_H

#include <stdbool.h>

#include "snap.h"

/*
 * forget (IMPORT false): remove the recorded failures of each FILE (of its
 * content, of its name as given and of its last component, as sync
 * records names); a sync tries the file again when it next looks.
 * retry (IMPORT true): the same, then import each file now, as import
 * does, whatever sync said of it. 0 when every file was forgotten
 * (imported or already in), else 1 after saying why.
 */
int snap_retry(const struct snap_opts *o, char **files, int nfiles,
	       bool import);

#endif
