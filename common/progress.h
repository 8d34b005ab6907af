/*
 * progress.h - a progress line on stderr for long work (--progress).
 *
 *	world1: 12.3 MiB / 45.6 MiB (27%), 8.1 MiB/s, ETA 0:04
 *	files: 120 / 400 (30%), 35.2/s, ETA 0:08
 *	world1: 12.3 MiB, 8.1 MiB/s		(total unknown)
 *
 * On a terminal the line is redrawn in place ("\r", the text, then "\033[K"
 * to clear what is left of a longer line before), at most 5 times a second,
 * cut to the terminal's width; dbops_progress_finish() ends it with a
 * newline. Mode "auto" draws only there. Mode "always" also draws when
 * stderr is a file or a pipe, as plain lines ending in "\n", at most one
 * every 10 seconds plus the final one, so a log stays readable. Mode
 * "never" draws nothing.
 *
 * A progress line shares stderr with the messages of log.h: call
 * dbops_progress_clear() before printing one, and the next update draws the
 * line again below it.
 *
 * A struct dbops_progress belongs to one thread.
 */
#ifndef DBOPS_PROGRESS_H
#define DBOPS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

enum dbops_progress_mode {
	DBOPS_PROGRESS_AUTO,
	DBOPS_PROGRESS_ALWAYS,
	DBOPS_PROGRESS_NEVER,
};

enum dbops_progress_unit {
	DBOPS_PROGRESS_BYTES,
	DBOPS_PROGRESS_ITEMS,
};

/*
 * Parse the argument of --progress: "auto", "always" or "never", exactly.
 * Returns 0 and sets *mode, or -1 (errno EINVAL) leaving *mode alone.
 */
int dbops_progress_parse_mode(const char *text, enum dbops_progress_mode *mode);

/*
 * Start a progress line for work of total units (0: total unknown). label
 * (copied; NULL for none) starts the line. Nothing is drawn until the
 * first update. Returns NULL only when out of memory; the other functions
 * accept NULL and then do nothing, so a caller need not check.
 */
struct dbops_progress *dbops_progress_new(const char *label, uint64_t total,
					  enum dbops_progress_unit unit,
					  enum dbops_progress_mode mode);

/*
 * Record that done units are complete, and redraw if drawing is enabled
 * and the last redraw is old enough by the monotonic clock (the first
 * update always draws).
 */
void dbops_progress_update(struct dbops_progress *p, uint64_t done);

/*
 * On a terminal, erase the line if one is shown, so a message can be
 * printed; the next update draws it again. Does nothing elsewhere.
 */
void dbops_progress_clear(struct dbops_progress *p);

/*
 * End the work: if a line was drawn, draw it a last time with the latest
 * count and end it with a newline (when not on a terminal, only if the
 * count moved since the last line). Then free p. NULL is accepted.
 */
void dbops_progress_finish(struct dbops_progress *p);

/*
 * Pure: the text of one progress line, without "\r" or newline, into buf
 * (NUL-terminated, cut to len - 1 bytes, like snprintf). Returns the length
 * of the whole line.
 *
 * Bytes print as "B" below 1 KiB, then with one decimal in KiB, MiB, GiB
 * or TiB; items as plain integers, their rate with one decimal. The
 * percentage rounds down and stops at 100, so 100% means done >= total.
 * The rate and the ETA are unknown ("--/s" or "-- B/s", and "ETA --:--")
 * until done > 0 and elapsed_seconds >= 0.1. The ETA, from the average
 * rate so far, rounds up to the second: M:SS, or H:MM:SS from an hour on,
 * ">99:59:59" from 100 hours on, and "0:00" only once done >= total. A
 * NULL or empty label leaves out the "label: " prefix.
 */
size_t dbops_progress_format(char *buf, size_t len, const char *label,
			     uint64_t done, uint64_t total,
			     double elapsed_seconds,
			     enum dbops_progress_unit unit);

#endif
