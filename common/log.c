/*
 * log.c - messages on stderr, journal priorities, and the exit path that
 * guarantees status 1 after any error. See log.h for the format.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *progname = "dbops";
static enum dbops_log_verbosity verbosity = DBOPS_LOG_NORMAL;
static bool journal;
static atomic_uint errors;

/* Message lines and redrawn blocks (dbops_log_redraw) take turns. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long lines_written; /* message lines, under write_lock */

static const char *const level_words[] = {
	[DBOPS_LOG_ERROR] = "error", [DBOPS_LOG_WARNING] = "warning",
	[DBOPS_LOG_HINT] = "hint",   [DBOPS_LOG_DETAIL] = "detail",
	[DBOPS_LOG_INFO] = "info",   [DBOPS_LOG_DEBUG] = "debug",
};

/* sd-daemon(3) priorities: err, warning, info, debug. */
static const char *const journal_prefix[] = {
	[DBOPS_LOG_ERROR] = "<3>", [DBOPS_LOG_WARNING] = "<4>",
	[DBOPS_LOG_HINT] = "<6>",  [DBOPS_LOG_DETAIL] = "<6>",
	[DBOPS_LOG_INFO] = "<6>",  [DBOPS_LOG_DEBUG] = "<7>",
};

/*
 * systemd sets JOURNAL_STREAM to "<device>:<inode>" of the stream it
 * connected to stdout and stderr; stderr is the journal only if it is still
 * that very stream (not redirected by a shell in between).
 */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

/*
 * Runs at exit (glibc's on_exit gives us the status). Output written to
 * stdout must have reached it, and an error reported earlier must not end
 * in status 0; either fault ends the process with status 1.
 */
static void exit_handler(int status, void *arg)
{
	bool failed = false;

	(void)arg;
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		int e = errno;

		if (e != EBADF) {
			dbops_log_error(
				"could not write to standard output: %s",
				strerror(e ? e : EIO));
			failed = true;
		}
	}
	if (status == 0 && (failed || atomic_load(&errors) > 0))
		_exit(1);
}

void dbops_log_init(const char *argv0)
{
	static bool registered;
	const char *slash;

	if (argv0 != NULL && *argv0 != '\0') {
		slash = strrchr(argv0, '/');
		progname = slash ? slash + 1 : argv0;
	}
	journal = stderr_is_journal();
	if (!registered) {
		on_exit(exit_handler, NULL);
		registered = true;
	}
}

const char *dbops_log_progname(void)
{
	return progname;
}

void dbops_log_set_verbosity(enum dbops_log_verbosity v)
{
	verbosity = v;
}

enum dbops_log_verbosity dbops_log_verbosity(void)
{
	return verbosity;
}

bool dbops_log_to_journal(void)
{
	return journal;
}

static bool level_shown(enum dbops_log_level level)
{
	if (level == DBOPS_LOG_DEBUG)
		return verbosity >= DBOPS_LOG_VERBOSE;
	if (level == DBOPS_LOG_INFO)
		return verbosity >= DBOPS_LOG_NORMAL;
	return true;
}

void dbops_log_write_raw(const char *buf, size_t len)
{
	fflush(stderr);
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

void dbops_log_redraw(const char *buf, size_t len, size_t rows_up,
		      unsigned long *mark)
{
	char move[32];
	int n;

	pthread_mutex_lock(&write_lock);
	if (rows_up > 0 && *mark == lines_written) {
		n = snprintf(move, sizeof(move), "\r\033[%zuA", rows_up);
		dbops_log_write_raw(move, (size_t)n);
	}
	dbops_log_write_raw(buf, len);
	*mark = lines_written;
	pthread_mutex_unlock(&write_lock);
}

/*
 * Format one message line into BUF (of LEN bytes), or into a new buffer
 * when it does not fit; *line_len is its length with the newline. Returns
 * the line: BUF, a buffer to free, or BUF holding a cut line when no
 * memory is left.
 */
__attribute__((format(printf, 4, 0))) static char *
format_line(char *buf, size_t len, enum dbops_log_level level, const char *fmt,
	    va_list ap, size_t *line_len)
{
	const char *prefix = journal ? journal_prefix[level] : "";
	size_t head, text;
	char *line = buf;
	va_list ap2;
	int n;

	/* The prefix is measured, not copied out of a buffer it overflowed:
	 * argv[0], and so progname, can be of any length. */
	n = snprintf(NULL, 0, "%s%s: %s: ", prefix, progname,
		     level_words[level]);
	head = n > 0 ? (size_t)n : 0;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	text = n > 0 ? (size_t)n : 0;
	if (head + text + 2 > len) {
		line = malloc(head + text + 2);
		if (line == NULL) {
			/* Keep what fits of the prefix and the text. */
			line = buf;
			if (head > len / 2)
				head = len / 2;
			text = len - head - 2;
		}
	}
	snprintf(line, head + 1, "%s%s: %s: ", prefix, progname,
		 level_words[level]);
	vsnprintf(line + head, text + 1, fmt, ap);
	for (char *p = line + head; p < line + head + text; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	line[head + text] = '\n';
	*line_len = head + text + 1;
	return line;
}

void dbops_log_v(enum dbops_log_level level, const char *fmt, va_list ap)
{
	char stackbuf[1024], *line;
	size_t len;

	if (level == DBOPS_LOG_ERROR)
		atomic_fetch_add(&errors, 1);
	if (!level_shown(level))
		return;
	line = format_line(stackbuf, sizeof(stackbuf), level, fmt, ap, &len);
	/* One write per line: lines from threads never interleave. */
	pthread_mutex_lock(&write_lock);
	dbops_log_write_raw(line, len);
	lines_written++;
	pthread_mutex_unlock(&write_lock);
	if (line != stackbuf)
		free(line);
}

void dbops_log(enum dbops_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dbops_log_v(level, fmt, ap);
	va_end(ap);
}

void dbops_log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dbops_log_v(DBOPS_LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

unsigned dbops_log_error_count(void)
{
	return atomic_load(&errors);
}

int dbops_log_exit_status(int rc)
{
	return (rc != 0 || atomic_load(&errors) > 0) ? 1 : 0;
}

void dbops_log_reset_errors(void)
{
	atomic_store(&errors, 0);
}
