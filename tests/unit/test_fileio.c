/*
 * test_fileio.c - unit tests for common/fileio.c: atomic replace (the old
 * file kept on any failure, no temporary file left), full reads and
 * writes.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"

static char *dir;

static int setup(void **state)
{
	dir = make_scratch_dir("fileio");
	return 0;
}

static int teardown(void **state)
{
	remove_scratch_dir(dir);
	free(dir);
	return 0;
}

static char *path_of(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t cap = 0;

	assert_non_null(f);
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(f);
	return text;
}

/* How many entries DIR holds besides . and .. */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_fileio_atomic_replace_writes_with_exact_mode(void **state)
{
	char *p = path_of("state"), *text;
	struct dbops_atomic_file af;
	struct stat st;
	mode_t old = umask(077);

	assert_int_equal(dbops_atomic_open(&af, p, 0644), 0);
	fprintf(af.f, "a=%d\n", 1);
	assert_int_equal(dbops_atomic_commit(&af), 0);
	umask(old);
	assert_null(af.f);
	text = slurp(p);
	assert_string_equal(text, "a=1\n");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(entries(), 1);
	free(text);
	unlink(p);
	free(p);
}

static void test_fileio_abort_keeps_the_old_file(void **state)
{
	char *p = path_of("kept"), *text;
	struct dbops_atomic_file af;

	assert_int_equal(dbops_atomic_write(p, 0600, "old\n", 4), 0);
	assert_int_equal(dbops_atomic_open(&af, p, 0600), 0);
	fputs("new\n", af.f);
	dbops_atomic_abort(&af);
	text = slurp(p);
	assert_string_equal(text, "old\n");
	assert_int_equal(entries(), 1);
	free(text);
	unlink(p);
	free(p);
}

static void test_fileio_missing_directory_fails_with_errno(void **state)
{
	char *p = path_of("no/such/dir/file");

	errno = 0;
	assert_int_equal(dbops_atomic_write(p, 0600, "x", 1), -1);
	assert_int_equal(errno, ENOENT);
	free(p);
}

/*
 * A disk that fills up while the new file is written (RLIMIT_FSIZE makes
 * write() fail with EFBIG): the old file stays and no temporary is left.
 */
static void test_fileio_write_failure_keeps_old_and_leaves_nothing(void **state)
{
	char *p = path_of("full"), *text;
	static char big[65536];
	pid_t pid;
	int status;

	assert_int_equal(dbops_atomic_write(p, 0600, "old\n", 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 1000, 1000 };

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		memset(big, 'x', sizeof(big));
		if (dbops_atomic_write(p, 0600, big, sizeof(big)) == 0)
			_exit(2);
		_exit(errno == EFBIG ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	text = slurp(p);
	assert_string_equal(text, "old\n");
	assert_int_equal(entries(), 1);
	free(text);
	unlink(p);
	free(p);
}

static void test_fileio_name_too_long(void **state)
{
	struct dbops_atomic_file af;
	char *p = malloc(PATH_MAX + 10);

	memset(p, 'a', PATH_MAX + 9);
	p[PATH_MAX + 9] = '\0';
	assert_int_equal(dbops_atomic_open(&af, p, 0600), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	free(p);
}

static void test_fileio_write_all_and_read_full_through_a_pipe(void **state)
{
	int fds[2];
	static char out[200000], in[200000];
	pid_t pid;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		/* Larger than the pipe: write() comes back short. */
		_exit(dbops_write_all(fds[1], out, sizeof(out)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(dbops_read_full(fds[0], in, sizeof(in)),
			 (ssize_t)sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	/* At the end: 0 bytes, not an error. */
	assert_int_equal(dbops_read_full(fds[0], in, 10), 0);
	close(fds[0]);
	waitpid(pid, NULL, 0);
}

static void test_fileio_write_all_to_a_full_device(void **state)
{
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		skip();
	assert_int_equal(dbops_write_all(fd, "x", 1), -1);
	assert_int_equal(errno, ENOSPC);
	close(fd);
}

static void test_fileio_fsync_parent(void **state)
{
	char *p = path_of("x");

	assert_int_equal(dbops_fsync_parent(p), 0);
	assert_int_equal(dbops_fsync_parent("relative-name"), 0);
	assert_int_equal(dbops_fsync_parent("/top"), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_fileio_missing_directory_fails_with_errno),
		cmocka_unit_test(test_fileio_name_too_long),
		cmocka_unit_test(
			test_fileio_write_failure_keeps_old_and_leaves_nothing),
		cmocka_unit_test(test_fileio_abort_keeps_the_old_file),
		cmocka_unit_test(test_fileio_write_all_to_a_full_device),
		cmocka_unit_test(
			test_fileio_atomic_replace_writes_with_exact_mode),
		cmocka_unit_test(
			test_fileio_write_all_and_read_full_through_a_pipe),
		cmocka_unit_test(test_fileio_fsync_parent),
	};

	return cmocka_run_group_tests_name("fileio", tests, setup, teardown);
}
