/*
 * test_xalloc.c - unit tests for common/xalloc.c: the values, and the exit
 * with "out of memory" when an allocation cannot be made.
 */
#include "testutil.h"

#include <sys/wait.h>

#include "log.h"
#include "xalloc.h"

static void test_xalloc_values(void **state)
{
	char *s = dbops_xstrdup("world"), *n = dbops_xstrndup("world7", 5);
	char *f = dbops_xasprintf("%s-%d", "w", 7);
	int *z = dbops_xcalloc(4, sizeof(int));
	int *g = dbops_xreallocarray(NULL, 3, sizeof(int));
	void *empty = dbops_xmalloc(0);

	assert_string_equal(s, "world");
	assert_string_equal(n, "world");
	assert_string_equal(f, "w-7");
	for (int i = 0; i < 4; i++)
		assert_int_equal(z[i], 0);
	g[2] = 5;
	g = dbops_xreallocarray(g, 1000, sizeof(int));
	assert_int_equal(g[2], 5);
	assert_non_null(empty);
	free(s);
	free(n);
	free(f);
	free(z);
	free(g);
	free(empty);
}

/* In a child: what it printed on stderr, and its exit status. */
static void expect_out_of_memory(void (*fn)(void))
{
	int pipefd[2], status;
	char buf[256] = "";
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		dbops_log_init("xtest");
		fn();
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], buf, sizeof(buf) - 1);
	close(pipefd[0]);
	buf[n > 0 ? n : 0] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_string_equal(buf, "xtest: error: out of memory\n");
}

static void overflowing_array(void)
{
	dbops_xreallocarray(NULL, SIZE_MAX / 2, 4);
}

static void huge_calloc(void)
{
	dbops_xcalloc(SIZE_MAX / 8, 16);
}

static void test_xalloc_exits_when_memory_runs_out(void **state)
{
	expect_out_of_memory(overflowing_array);
	expect_out_of_memory(huge_calloc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xalloc_exits_when_memory_runs_out),
		cmocka_unit_test(test_xalloc_values),
	};

	return cmocka_run_group_tests_name("xalloc", tests, NULL, NULL);
}
