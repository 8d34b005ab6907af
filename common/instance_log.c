/*
 * instance_log.c - reading a server's log after a failed start: which lines
 * explain it. Pure but for dbops_instance_log_tail(). See instance.h and
 * instance_driver.h.
 */
#include "instance_driver.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

/* Lines kept while scanning: the last RING relevant ones and any ones. */
#define RING 16

/* Where the level word starts in LINE (the time stamp cut off), or NULL. */
static const char *after_timestamp(const struct dbops_server_driver *d,
				   const char *line, size_t len,
				   const char **level)
{
	const char *best = NULL;

	for (int i = 0; d->log_levels[i] != NULL; i++) {
		const char *p = memmem(line, len, d->log_levels[i],
				       strlen(d->log_levels[i]));

		if (p != NULL && (best == NULL || p < best)) {
			best = p;
			*level = d->log_levels[i];
		}
	}
	return best;
}

bool dbops_instance_log_says_failed(const char *text, size_t len)
{
	static const char *const phrases[] = { "could not",
					       "Address already in use",
					       "Permission denied",
					       "No such file", NULL };

	for (int i = 0; phrases[i] != NULL; i++)
		if (memmem(text, len, phrases[i], strlen(phrases[i])) != NULL)
			return true;
	return false;
}

static void copy_line(char *dst, const char *src, size_t len)
{
	if (len > 255)
		len = 255;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The ring buffers of line starts a scan fills. */
struct scan {
	const char *rel[RING], *any[RING];
	size_t rel_len[RING], any_len[RING];
	int found, fallback;
};

static void scan_log(const struct dbops_server_driver *d, const char *p,
		     struct scan *s)
{
	bool previous = false;

	while (*p != '\0') {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *level = NULL;
		const char *text = after_timestamp(d, p, len, &level);
		size_t tlen = text ? len - (size_t)(text - p) : len;

		if (text == NULL)
			text = p;
		previous = d->relevant_line(level, text, tlen, previous);
		if (previous) {
			s->rel[s->found % RING] = text;
			s->rel_len[s->found % RING] = tlen;
			s->found++;
		}
		if (len > 0) {
			s->any[s->fallback % RING] = text;
			s->any_len[s->fallback % RING] = tlen;
			s->fallback++;
		}
		p = end ? end + 1 : p + len;
	}
}

int dbops_instance_log_excerpt(const struct dbops_server_driver *driver,
			       const char *log_text, char (*lines)[256],
			       int max, bool *relevant)
{
	struct scan s = { .found = 0 };
	const char **src;
	size_t *src_len;
	int total, n;

	if (max > RING)
		max = RING;
	scan_log(driver, log_text, &s);
	*relevant = s.found > 0;
	src = s.found > 0 ? s.rel : s.any;
	src_len = s.found > 0 ? s.rel_len : s.any_len;
	total = s.found > 0 ? s.found : s.fallback;
	n = total < max ? total : max;
	for (int i = 0; i < n; i++) {
		int k = (total - n + i) % RING;

		copy_line(lines[i], src[k], src_len[k]);
	}
	return n;
}

const char *dbops_instance_log_text(const struct dbops_server_driver *driver,
				    const char *line)
{
	const char *level = NULL;
	const char *text = after_timestamp(driver, line, strlen(line), &level);

	if (text == NULL)
		return line;
	text += strlen(level);
	while (*text == ' ')
		text++;
	return text;
}

char *dbops_instance_log_tail(const char *path, off_t offset)
{
	const off_t keep = 65536;
	struct stat st;
	char *text;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size < offset) {
		close(fd);
		return NULL;
	}
	if (st.st_size - offset > keep)
		offset = st.st_size - keep;
	text = malloc((size_t)(st.st_size - offset) + 1);
	if (text == NULL) {
		close(fd);
		return NULL;
	}
	n = lseek(fd, offset, SEEK_SET) == offset
		    ? dbops_read_full(fd, text, (size_t)(st.st_size - offset))
		    : -1;
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return text;
}
