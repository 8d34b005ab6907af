/*
 * log.h - the messages every dbops tool prints on stderr.
 *
 * One line per message, in PostgreSQL's dialect:
 *
 *	tool: error: could not open file "x": No such file or directory
 *	tool: hint: check the path given to --archive
 *
 * Under systemd (JOURNAL_STREAM names our stderr) each line starts with a
 * journal priority prefix such as "<3>" instead, so the journal files it at
 * the right level.
 *
 * The exit path: once an error has been reported, the process exits 1.
 * main() returns dbops_log_exit_status(rc), and a handler run at exit turns
 * a stray exit(0) after an error into status 1 and reports a failed write to
 * standard output (so "tool --help >/dev/full" fails).
 */
#ifndef DBOPS_LOG_H
#define DBOPS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum dbops_log_level {
	DBOPS_LOG_ERROR,
	DBOPS_LOG_WARNING,
	DBOPS_LOG_HINT,
	DBOPS_LOG_DETAIL,
	DBOPS_LOG_INFO,
	DBOPS_LOG_DEBUG,
};

/* Verbosity: -q hides info lines, -v adds debug lines. */
enum dbops_log_verbosity {
	DBOPS_LOG_QUIET = -1,
	DBOPS_LOG_NORMAL = 0,
	DBOPS_LOG_VERBOSE = 1,
};

/*
 * Set the program name from argv[0] (its last path component), detect the
 * journal and register the exit handler. Call once, first thing in main().
 */
void dbops_log_init(const char *argv0);

/* The program name set by dbops_log_init(), "dbops" before it. */
const char *dbops_log_progname(void);

/* Which levels print from now on (-q, -v); the level in force. */
void dbops_log_set_verbosity(enum dbops_log_verbosity verbosity);
enum dbops_log_verbosity dbops_log_verbosity(void);

/* Whether stderr is the journal (JOURNAL_STREAM matched at init). */
bool dbops_log_to_journal(void);

/*
 * Print one message. printf-style; the text should start lower case and end
 * without a period. Embedded newlines are printed as spaces so a message
 * stays one line. Errors are counted for the exit status.
 */
void dbops_log(enum dbops_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dbops_log_v(enum dbops_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define dbops_log_error(...)   dbops_log(DBOPS_LOG_ERROR, __VA_ARGS__)
#define dbops_log_warning(...) dbops_log(DBOPS_LOG_WARNING, __VA_ARGS__)
#define dbops_log_hint(...)    dbops_log(DBOPS_LOG_HINT, __VA_ARGS__)
#define dbops_log_detail(...)  dbops_log(DBOPS_LOG_DETAIL, __VA_ARGS__)
#define dbops_log_info(...)    dbops_log(DBOPS_LOG_INFO, __VA_ARGS__)
#define dbops_log_debug(...)   dbops_log(DBOPS_LOG_DEBUG, __VA_ARGS__)

/*
 * Write BUF to stderr as it is, in as few write(2) calls as it takes (one,
 * unless interrupted), after flushing stdio's stderr: for lines that are not
 * messages, such as a progress line.
 */
void dbops_log_write_raw(const char *buf, size_t len);

/*
 * Draw a block of lines that is redrawn in place on a terminal (a progress
 * board): BUF, LEN bytes of whole lines. When ROWS_UP > 0 (the block's
 * height when last drawn) and no message line was printed since *MARK,
 * the cursor first goes back up over the old block, which BUF overwrites;
 * after a message it does not, so a message is never overwritten: the
 * block is drawn afresh below it. *MARK is then the count of message
 * lines so far (start it at 0). Messages and blocks take turns: a message
 * from another thread never lands inside a block.
 */
void dbops_log_redraw(const char *buf, size_t len, size_t rows_up,
		      unsigned long *mark);

/* Report an error and exit 1 through the normal exit path. */
__attribute__((noreturn, format(printf, 1, 2))) void
dbops_log_fatal(const char *fmt, ...);

/* How many errors have been reported so far. */
unsigned dbops_log_error_count(void);

/*
 * The status main() returns: 1 if rc is non-zero or any error was reported,
 * else 0.
 */
int dbops_log_exit_status(int rc);

/* Tests only: forget the errors counted so far. */
void dbops_log_reset_errors(void);

#endif
