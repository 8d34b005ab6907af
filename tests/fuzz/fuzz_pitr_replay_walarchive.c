/*
 * fuzz_pitr_replay_walarchive - libFuzzer target for pitr-replay's reading
 * of a WAL archive directory (utils/pitr-replay/walarchive.c, and
 * pitr_timeline_load() of timeline.c): which file name is a segment (plain,
 * compressed, .partial), a history file, a backup history file or none;
 * the segment size from the first segment's long header; the backup
 * history files' contents; compressed and short files; the newest
 * timeline and its history file.
 *
 * Input: entries of [name length, 1 byte][name][content length, 2 bytes
 * little-endian][content], at most 16. The harness writes them as files
 * of a scratch directory (in /dev/shm when there is one: memory), removed
 * before the next input; a name with '/' or NUL, "." or "..", is skipped.
 *
 * Properties: a refusal logs an error; an opened archive lists its
 * segments sorted, each named as its timeline and number say, and no more
 * files than there are; a history file loaded gives a history ending with
 * its timeline, or an error; a 1 MB segment read gives its bytes or an
 * error naming it. The tool's messages are captured in a memfd (the
 * sanitizers report to the real stderr).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "log.h"

#include "../../utils/pitr-replay/timeline.h"
#include "../../utils/pitr-replay/wal.h"
#include "../../utils/pitr-replay/walarchive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __sanitizer_set_report_fd(void *fd);

#define MAX_FILES 16

static int log_fd = -1, saved_stderr = -1;
static char dir[64];
static char names[MAX_FILES][256];
static size_t nnames;

static void remove_dir(void)
{
	char path[512];

	for (size_t i = 0; i < nnames; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void init(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	log_fd = memfd_create("fuzz-log", MFD_CLOEXEC);
	saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10);
	snprintf(dir, sizeof(dir), "%s/fuzz-walarchive-XXXXXX", base);
	if (log_fd < 0 || saved_stderr < 0 || mkdtemp(dir) == NULL)
		abort();
	__sanitizer_set_report_fd((void *)(intptr_t)saved_stderr);
	atexit(remove_dir);
}

static char *logged(void)
{
	off_t n = lseek(log_fd, 0, SEEK_END);
	char *buf = malloc((size_t)n + 1);

	if (buf == NULL || pread(log_fd, buf, (size_t)n, 0) != n)
		abort();
	buf[n] = '\0';
	return buf;
}

static void fail(const char *what)
{
	char *log = logged();

	dprintf(saved_stderr, "%s\n--- logged ---\n%s\n", what, log);
	free(log);
	abort();
}

/* Write the entries of DATA as files of DIR; how many. */
static size_t write_files(const uint8_t *data, size_t size)
{
	size_t n = 0, i = 0;

	while (n < MAX_FILES && i < size) {
		size_t nlen = data[i++], clen;
		char path[512];
		int fd;

		if (size - i < nlen + 2)
			break;
		memcpy(names[n], data + i, nlen);
		names[n][nlen] = '\0';
		i += nlen;
		clen = (size_t)data[i] | (size_t)data[i + 1] << 8;
		i += 2;
		if (clen > size - i)
			clen = size - i;
		if (nlen == 0 || memchr(names[n], '/', nlen) ||
		    strlen(names[n]) != nlen || strcmp(names[n], ".") == 0 ||
		    strcmp(names[n], "..") == 0) {
			i += clen;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[n]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) { /* the same name twice: open works; else skip */
			i += clen;
			continue;
		}
		if (write(fd, data + i, clen) != (ssize_t)clen)
			abort();
		close(fd);
		i += clen;
		n++;
	}
	return n;
}

static void check_segments(const struct wal_archive *arc, size_t nfiles)
{
	if (arc->nsegs + arc->nothers + arc->nunreadable + arc->nhistories +
		    arc->nbackups >
	    nfiles)
		fail("more files listed than there are");
	for (size_t i = 0; i < arc->nsegs; i++) {
		const struct archive_segment *s = &arc->segs[i];
		uint32_t tli;
		uint64_t segno;

		if (pitr_wal_parse_segment_name(s->name, arc->seg_size, &tli,
						&segno) != 0 ||
		    tli != s->tli || segno != s->segno)
			fail("a segment named otherwise than it is listed");
		if (i > 0 && (s[-1].tli > s->tli ||
			      (s[-1].tli == s->tli && s[-1].segno > s->segno)))
			fail("segments not sorted");
		if (pitr_walarc_find_any(arc, s->tli, s->segno) == NULL)
			fail("a listed segment that find_any does not find");
	}
}

static void check_history(const struct wal_archive *arc)
{
	uint32_t tli = pitr_timeline_newest(arc, 1);
	struct tl_history *h = malloc(sizeof(*h));
	unsigned errors = dbops_log_error_count();

	if (h == NULL)
		abort();
	if (pitr_timeline_load(arc, tli, h) == 0) {
		if (h->n == 0 || h->e[h->n - 1].tli != tli ||
		    h->e[h->n - 1].end != LSN_INFINITE)
			fail("a loaded history that does not end with its timeline");
	} else if (dbops_log_error_count() == errors) {
		fail("a history refused without an error");
	}
	free(h);
}

static void read_segments(const struct wal_archive *arc)
{
	unsigned char *buf;

	if (arc->seg_size != (1u << 20))
		return; /* larger ones cost too much per input */
	buf = malloc(arc->seg_size);
	if (buf == NULL)
		abort();
	for (size_t i = 0; i < arc->nsegs && i < 3; i++) {
		unsigned errors = dbops_log_error_count();

		if (pitr_walarc_read_segment(arc, &arc->segs[i], buf) != 0 &&
		    dbops_log_error_count() == errors)
			fail("a segment not read, without an error");
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wal_archive arc;
	size_t nfiles;

	if (log_fd < 0)
		init();
	remove_dir();
	if (mkdir(dir, 0700) != 0)
		abort();
	nnames = 0;
	nfiles = write_files(data, size);
	nnames = nfiles;
	if (ftruncate(log_fd, 0) != 0 || lseek(log_fd, 0, SEEK_SET) != 0)
		abort();
	dbops_log_reset_errors();
	fflush(stderr);
	dup2(log_fd, STDERR_FILENO);
	if (pitr_walarc_open(dir, &arc) != 0) {
		if (dbops_log_error_count() == 0)
			fail("an archive refused without an error");
	} else {
		check_segments(&arc, nfiles);
		check_history(&arc);
		read_segments(&arc);
	}
	pitr_walarc_close(&arc);
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	dbops_log_reset_errors();
	return 0;
}
