/*
 * log.c - messages on stderr, journal priorities, and the exit path that
 * guarantees status 1 after any error. See log.h for the format.
 */
#include "log.h"

#include <errno.h>
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

void dbops_log_v(enum dbops_log_level level, const char *fmt, va_list ap)
{
	char stackbuf[1024];
	char *line = stackbuf;
	int prefix_len, text_len;
	va_list ap2;

	if (level == DBOPS_LOG_ERROR)
		atomic_fetch_add(&errors, 1);
	if (!level_shown(level))
		return;

	prefix_len =
		snprintf(stackbuf, sizeof(stackbuf),
			 "%s%s: %s: ", journal ? journal_prefix[level] : "",
			 progname, level_words[level]);
	va_copy(ap2, ap);
	text_len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (text_len < 0)
		text_len = 0;
	if ((size_t)prefix_len + (size_t)text_len + 2 > sizeof(stackbuf)) {
		line = malloc((size_t)prefix_len + (size_t)text_len + 2);
		if (line == NULL) {
			line = stackbuf;
			text_len = (int)sizeof(stackbuf) - prefix_len - 2;
		} else {
			memcpy(line, stackbuf, (size_t)prefix_len);
		}
	}
	vsnprintf(line + prefix_len, (size_t)text_len + 1, fmt, ap);
	for (char *p = line + prefix_len; p < line + prefix_len + text_len; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	line[prefix_len + text_len] = '\n';

	/* One write per line: lines from threads never interleave. */
	dbops_log_write_raw(line, (size_t)prefix_len + (size_t)text_len + 1);
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

int dbops_log_usage(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	dbops_log_v(DBOPS_LOG_ERROR, fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line),
		     "Try \"%s --help\" for more information.\n", progname);
	if (n > 0)
		dbops_log_write_raw(line, (size_t)n < sizeof(line)
						  ? (size_t)n
						  : sizeof(line) - 1);
	return 1;
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
