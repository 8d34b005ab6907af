/*
 * fuzz_pitr_replay_tar - libFuzzer target for pitr-replay's reading of a
 * tar base backup (pitr_backup_open() on one tar file: utils/pitr-replay/
 * backup.c and tarread.c, through libarchive, any compression): the tar
 * entries, backup_label, PG_VERSION, global/pg_control, backup_manifest,
 * tablespace_map, postgresql.conf.
 *
 * The input is the tar, held in a memfd and opened as /proc/self/fd/N:
 * memory, not the disk, read through the tool's own open path. What the
 * tool logs is captured in a second memfd (the sanitizers report to the
 * real stderr).
 *
 * An accepted backup is then held against its backup_manifest as verify
 * does (pitr_manifest_check(), mfcheck.c), reading the tar again.
 *
 * Properties: a refusal logs at least one error, and its first one names
 * the tar; an accepted backup has a label whose checkpoint is not before
 * its start, a major version from PG_VERSION, at least 8 bytes of
 * pg_control whose first 8 are the system identifier, and logged no error;
 * the manifest check fails exactly when it logs errors, and counts a
 * problem or fails to read when its files do not agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

#include "../../utils/pitr-replay/backup.h"
#include "../../utils/pitr-replay/mfcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __sanitizer_set_report_fd(void *fd);

static int tar_fd = -1, log_fd = -1, saved_stderr = -1;
static char path[64];

static void init(void)
{
	tar_fd = memfd_create("fuzz-tar", MFD_CLOEXEC);
	log_fd = memfd_create("fuzz-log", MFD_CLOEXEC);
	saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10);
	if (tar_fd < 0 || log_fd < 0 || saved_stderr < 0)
		abort();
	__sanitizer_set_report_fd((void *)(intptr_t)saved_stderr);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", tar_fd);
}

/* What was logged since the last call, NUL-terminated (caller frees). */
static char *logged(void)
{
	off_t n = lseek(log_fd, 0, SEEK_END);
	char *buf = malloc((size_t)n + 1);

	if (buf == NULL || pread(log_fd, buf, (size_t)n, 0) != n)
		abort();
	buf[n] = '\0';
	return buf;
}

static void fail(const char *what, const char *log)
{
	dprintf(saved_stderr, "%s\n--- logged ---\n%s\n", what, log);
	abort();
}

static void check_backup(const struct base_backup *b, const char *log)
{
	uint64_t sysid;

	if (b->label.checkpoint_lsn < b->label.start_lsn ||
	    b->label.start_tli == 0)
		fail("accepted a label whose checkpoint is before its start",
		     log);
	if (b->pg_major <= 0)
		fail("accepted without a major version", log);
	if (b->control_len < 8 || b->control_len > sizeof(b->control))
		fail("accepted a pg_control of the wrong size", log);
	memcpy(&sysid, b->control, 8);
	if (sysid != b->system_id)
		fail("a system identifier that is not pg_control's", log);
}

/* pitr_manifest_check() on B, as verify runs it, and its report. */
static void check_manifest(const struct base_backup *b)
{
	struct manifest_check r;
	char *log, *report = NULL;
	size_t len = 0;
	FILE *out;
	int rc;

	if (ftruncate(log_fd, 0) != 0 || lseek(log_fd, 0, SEEK_SET) != 0)
		abort();
	memset(&r, 0, sizeof(r));
	fflush(stderr);
	dup2(log_fd, STDERR_FILENO);
	rc = pitr_manifest_check(b, &r);
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	log = logged();
	if ((rc != 0) != (dbops_log_error_count() != 0))
		fail("the manifest check's result and its errors disagree",
		     log);
	if (rc == 0 && r.checked && r.problems != 0)
		fail("the manifest check passed with problems", log);
	out = open_memstream(&report, &len);
	if (out == NULL)
		abort();
	pitr_manifest_report(&r, false, out);
	fclose(out);
	free(report);
	free(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct base_backup b;
	char *log;
	int rc;

	if (tar_fd < 0)
		init();
	if (ftruncate(tar_fd, 0) != 0 ||
	    pwrite(tar_fd, data, size, 0) != (ssize_t)size)
		abort();
	if (ftruncate(log_fd, 0) != 0 || lseek(log_fd, 0, SEEK_SET) != 0)
		abort();
	dbops_log_reset_errors();
	fflush(stderr);
	dup2(log_fd, STDERR_FILENO);
	rc = pitr_backup_open(path, &b);
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	log = logged();
	if (rc != 0) {
		const char *e = strstr(log, "error: ");
		const char *nl = e ? strchr(e, '\n') : NULL;

		if (dbops_log_error_count() == 0 || e == NULL)
			fail("refused without an error", log);
		if (memmem(e, nl ? (size_t)(nl - e) : strlen(e), path,
			   strlen(path)) == NULL)
			fail("an error that does not name the tar", log);
	} else {
		if (dbops_log_error_count() != 0)
			fail("accepted after an error", log);
		check_backup(&b, log);
		check_manifest(&b);
		pitr_backup_free(&b);
	}
	dbops_log_reset_errors();
	free(log);
	return 0;
}
