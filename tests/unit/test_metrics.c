/*
 * test_metrics.c - unit tests for common/metrics.c: the checks on names,
 * labels and values, the exact text of a render, and the atomic textfile
 * writer.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "metrics.h"

static char *render(struct dbops_metrics *m)
{
	size_t len = 12345;
	char *text = dbops_metrics_render(m, &len);

	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	return text;
}

static void assert_renders(struct dbops_metrics *m, const char *want)
{
	char *text = render(m);

	assert_string_equal(text, want);
	free(text);
}

/* A gauge set to v renders its value as want. */
static void assert_value_renders(double v, const char *want)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *g = dbops_metrics_gauge(m, "g", NULL);
	char expected[128];

	assert_int_equal(dbops_metric_set(g, NULL, v), 0);
	snprintf(expected, sizeof(expected), "# TYPE g gauge\ng %s\n", want);
	assert_renders(m, expected);
	dbops_metrics_free(m);
}

static char *read_whole_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	return text;
}

static void write_whole_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The names in dir, sorted, joined by spaces. */
static char *list_dir(const char *dir)
{
	struct dirent **names;
	char *list = calloc(1, 1);
	size_t len = 0;
	int n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	assert_non_null(list);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			list = realloc(list, len + strlen(name) + 2);
			assert_non_null(list);
			len += (size_t)sprintf(list + len, "%s%s",
					       len ? " " : "", name);
		}
		free(names[i]);
	}
	free(names);
	return list;
}

static void assert_dir_holds(const char *dir, const char *want)
{
	char *list = list_dir(dir);

	assert_string_equal(list, want);
	free(list);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

static void remove_tree(char *dir)
{
	assert_int_equal(nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

/* A registry with one counter at 3, as the write_file tests store it. */
static struct dbops_metrics *small_registry(void)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *c =
		dbops_metrics_counter(m, "dbops_runs_total", "Runs.");

	assert_int_equal(dbops_metric_add(c, NULL, 3), 0);
	return m;
}

#define SMALL_TEXT                          \
	"# HELP dbops_runs_total Runs.\n"   \
	"# TYPE dbops_runs_total counter\n" \
	"dbops_runs_total 3\n"

static void test_metrics_invalid_names_rejected(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	const char *bad[] = { "", "1abc", "a-b", "a b", "a.b", "é_total" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		errno = 0;
		assert_null(dbops_metrics_gauge(m, bad[i], NULL));
		assert_int_equal(errno, EINVAL);
	}
	errno = 0;
	assert_null(dbops_metrics_gauge(m, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(dbops_metrics_counter(m, "dbops_requests", NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(dbops_metrics_counter(m, "dbops_total_bytes", NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(dbops_metrics_gauge(NULL, "g", NULL));
	assert_int_equal(errno, EINVAL);

	assert_non_null(dbops_metrics_gauge(m, "_x:y_9", NULL));
	assert_non_null(dbops_metrics_counter(m, ":a_total", NULL));
	dbops_metrics_free(m);
}

static void test_metrics_help_not_utf8_rejected(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	/* A stray byte, an overlong "/", a surrogate, a cut sequence. */
	const char *bad[] = { "a\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		errno = 0;
		assert_null(dbops_metrics_gauge(m, "g", bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	assert_non_null(dbops_metrics_gauge(m, "g", "Größe in €, 𝄞"));
	dbops_metrics_free(m);
}

static void test_metrics_taken_names_rejected(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	double b[] = { 1 };

	assert_non_null(dbops_metrics_counter(m, "x_total", NULL));
	errno = 0;
	assert_null(dbops_metrics_counter(m, "x_total", "again"));
	assert_int_equal(errno, EINVAL);
	assert_null(dbops_metrics_gauge(m, "x_total", NULL));

	/* A histogram's samples take name_bucket, name_sum, name_count. */
	assert_non_null(dbops_metrics_histogram(m, "h", NULL, b, 1));
	assert_null(dbops_metrics_gauge(m, "h_sum", NULL));
	assert_null(dbops_metrics_gauge(m, "h_count", NULL));
	assert_null(dbops_metrics_gauge(m, "h_bucket", NULL));
	assert_non_null(dbops_metrics_gauge(m, "h_summary", NULL));
	assert_non_null(dbops_metrics_gauge(m, "g_count", NULL));
	errno = 0;
	assert_null(dbops_metrics_histogram(m, "g", NULL, b, 1));
	assert_int_equal(errno, EINVAL);

	assert_renders(m, "# TYPE x_total counter\nx_total 0\n"
			  "# TYPE h histogram\n"
			  "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
			  "h_sum 0\nh_count 0\n"
			  "# TYPE h_summary gauge\nh_summary 0\n"
			  "# TYPE g_count gauge\ng_count 0\n");
	dbops_metrics_free(m);
}

static void test_metrics_bad_histogram_bounds_rejected(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	double unsorted[] = { 1, 0.5 };
	double repeated[] = { 1, 1 };
	double nan[] = { 1, NAN };
	double inf_first[] = { INFINITY, 1 };

	errno = 0;
	assert_null(dbops_metrics_histogram(m, "h", NULL, unsorted, 2));
	assert_int_equal(errno, EINVAL);
	assert_null(dbops_metrics_histogram(m, "h", NULL, repeated, 2));
	assert_null(dbops_metrics_histogram(m, "h", NULL, nan, 2));
	assert_null(dbops_metrics_histogram(m, "h", NULL, inf_first, 2));
	assert_null(dbops_metrics_histogram(m, "h", NULL, NULL, 1));
	assert_renders(m, "");
	dbops_metrics_free(m);
}

static void test_metrics_bad_labels_rejected(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *c = dbops_metrics_counter(m, "c_total", NULL);
	struct dbops_metric *h = dbops_metrics_histogram(m, "h", NULL, NULL, 0);
	const char *const *bad[] = {
		(const char *[]){ "__name", "x", NULL },
		(const char *[]){ "1a", "x", NULL },
		(const char *[]){ "a-b", "x", NULL },
		(const char *[]){ "a:b", "x", NULL },
		(const char *[]){ "", "x", NULL },
		(const char *[]){ "a", NULL },
		(const char *[]){ "a", "x", "a", "y", NULL },
		(const char *[]){ "a", "\xff", NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		errno = 0;
		assert_int_equal(dbops_metric_add(c, bad[i], 1), -1);
		assert_int_equal(errno, EINVAL);
	}
	errno = 0;
	assert_int_equal(
		dbops_metric_observe(h, (const char *[]){ "le", "1", NULL }, 1),
		-1);
	assert_int_equal(errno, EINVAL);

	/* The first use fixes the label names. */
	assert_int_equal(
		dbops_metric_add(c, (const char *[]){ "a", "x", NULL }, 1), 0);
	assert_int_equal(
		dbops_metric_add(c, (const char *[]){ "b", "x", NULL }, 1), -1);
	assert_int_equal(
		dbops_metric_add(
			c, (const char *[]){ "a", "x", "b", "y", NULL }, 1),
		-1);
	assert_int_equal(dbops_metric_add(c, NULL, 1), -1);
	assert_int_equal(dbops_metric_add(c, (const char *[]){ NULL }, 1), -1);
	assert_renders(m, "# TYPE c_total counter\nc_total{a=\"x\"} 1\n"
			  "# TYPE h histogram\n"
			  "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
	dbops_metrics_free(m);
}

static void test_metrics_counter_decrement_rejected(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *c = dbops_metrics_counter(m, "c_total", NULL);

	assert_int_equal(dbops_metric_add(c, NULL, 2), 0);
	errno = 0;
	assert_int_equal(dbops_metric_add(c, NULL, -1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dbops_metric_add(c, NULL, NAN), -1);
	assert_int_equal(dbops_metric_add(c, NULL, INFINITY), -1);
	assert_int_equal(dbops_metric_add(c, NULL, 0), 0);
	assert_renders(m, "# TYPE c_total counter\nc_total 2\n");
	dbops_metrics_free(m);
}

static void test_metrics_wrong_type_rejected(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *c = dbops_metrics_counter(m, "c_total", NULL);
	struct dbops_metric *g = dbops_metrics_gauge(m, "g", NULL);
	struct dbops_metric *h = dbops_metrics_histogram(m, "h", NULL, NULL, 0);

	errno = 0;
	assert_int_equal(dbops_metric_set(c, NULL, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dbops_metric_observe(c, NULL, 1), -1);
	assert_int_equal(dbops_metric_observe(g, NULL, 1), -1);
	assert_int_equal(dbops_metric_add(h, NULL, 1), -1);
	assert_int_equal(dbops_metric_set(h, NULL, 1), -1);
	assert_int_equal(dbops_metric_observe(h, NULL, NAN), -1);
	errno = 0;
	assert_int_equal(dbops_metric_add(NULL, NULL, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dbops_metric_set(NULL, NULL, 1), -1);
	assert_int_equal(dbops_metric_observe(NULL, NULL, 1), -1);
	assert_renders(m, "# TYPE c_total counter\nc_total 0\n"
			  "# TYPE g gauge\ng 0\n"
			  "# TYPE h histogram\n"
			  "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
	dbops_metrics_free(m);
}

static void test_metrics_counter_without_labels(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *c =
		dbops_metrics_counter(m, "rows_imported_total", "Rows.");

	assert_renders(m, "# HELP rows_imported_total Rows.\n"
			  "# TYPE rows_imported_total counter\n"
			  "rows_imported_total 0\n");
	assert_int_equal(dbops_metric_add(c, NULL, 10), 0);
	assert_int_equal(dbops_metric_add(c, (const char *[]){ NULL }, 2), 0);
	assert_renders(m, "# HELP rows_imported_total Rows.\n"
			  "# TYPE rows_imported_total counter\n"
			  "rows_imported_total 12\n");
	dbops_metrics_free(m);
}

static void test_metrics_counter_with_labels_in_first_use_order(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *c =
		dbops_metrics_counter(m, "files_total", "Files by outcome.");
	const char *skipped[] = { "result", "skipped", "kind", "csv", NULL };
	const char *csv[] = { "result", "imported", "kind", "csv", NULL };
	/* The same set in another order is the same series. */
	const char *csv_again[] = { "kind", "csv", "result", "imported", NULL };
	const char *json[] = { "kind", "json", "result", "imported", NULL };

	assert_int_equal(dbops_metric_add(c, skipped, 0), 0);
	assert_int_equal(dbops_metric_add(c, csv, 1), 0);
	assert_int_equal(dbops_metric_add(c, csv_again, 1), 0);
	assert_int_equal(dbops_metric_add(c, json, 0.5), 0);
	assert_renders(m, "# HELP files_total Files by outcome.\n"
			  "# TYPE files_total counter\n"
			  "files_total{result=\"skipped\",kind=\"csv\"} 0\n"
			  "files_total{result=\"imported\",kind=\"csv\"} 2\n"
			  "files_total{result=\"imported\",kind=\"json\"} "
			  "0.5\n");
	dbops_metrics_free(m);
}

static void test_metrics_gauge_set_and_add(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *g =
		dbops_metrics_gauge(m, "pending_files", "Files waiting.");
	const char *w1[] = { "world", "w1", NULL };
	const char *empty[] = { "world", "", NULL };

	assert_int_equal(dbops_metric_set(g, w1, 7), 0);
	assert_int_equal(dbops_metric_add(g, w1, -10), 0);
	assert_int_equal(dbops_metric_set(g, empty, 1), 0);
	assert_renders(m, "# HELP pending_files Files waiting.\n"
			  "# TYPE pending_files gauge\n"
			  "pending_files{world=\"w1\"} -3\n"
			  "pending_files{world=\"\"} 1\n");
	dbops_metrics_free(m);
}

static void test_metrics_histogram_buckets_sum_count(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	double bounds[] = { 0.005, 0.5, 1, 2.5 };
	struct dbops_metric *h = dbops_metrics_histogram(
		m, "import_seconds", "Import time.", bounds, 4);
	const double seen[] = { 0.001, 0.5, 0.75, 3, 100, -1 };

	for (size_t i = 0; i < sizeof(seen) / sizeof(*seen); i++)
		assert_int_equal(dbops_metric_observe(h, NULL, seen[i]), 0);
	assert_renders(m, "# HELP import_seconds Import time.\n"
			  "# TYPE import_seconds histogram\n"
			  "import_seconds_bucket{le=\"0.005\"} 2\n"
			  "import_seconds_bucket{le=\"0.5\"} 3\n"
			  "import_seconds_bucket{le=\"1\"} 4\n"
			  "import_seconds_bucket{le=\"2.5\"} 4\n"
			  "import_seconds_bucket{le=\"+Inf\"} 6\n"
			  "import_seconds_sum 103.251\n"
			  "import_seconds_count 6\n");
	dbops_metrics_free(m);
}

static void test_metrics_histogram_with_labels(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	double bounds[] = { 1, 10, INFINITY };
	struct dbops_metric *h =
		dbops_metrics_histogram(m, "rows", NULL, bounds, 3);
	const char *const *a = (const char *[]){ "table", "a", NULL };
	const char *const *b = (const char *[]){ "table", "b", NULL };

	assert_int_equal(dbops_metric_observe(h, b, 5), 0);
	assert_int_equal(dbops_metric_observe(h, a, 1), 0);
	assert_int_equal(dbops_metric_observe(h, b, INFINITY), 0);
	assert_renders(m, "# TYPE rows histogram\n"
			  "rows_bucket{table=\"b\",le=\"1\"} 0\n"
			  "rows_bucket{table=\"b\",le=\"10\"} 1\n"
			  "rows_bucket{table=\"b\",le=\"+Inf\"} 2\n"
			  "rows_sum{table=\"b\"} +Inf\n"
			  "rows_count{table=\"b\"} 2\n"
			  "rows_bucket{table=\"a\",le=\"1\"} 1\n"
			  "rows_bucket{table=\"a\",le=\"10\"} 1\n"
			  "rows_bucket{table=\"a\",le=\"+Inf\"} 1\n"
			  "rows_sum{table=\"a\"} 1\n"
			  "rows_count{table=\"a\"} 1\n");
	dbops_metrics_free(m);
}

static void test_metrics_escaping_help_and_label_values(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *g = dbops_metrics_gauge(
		m, "g", "Path C:\\dumps \"quoted\"\nsecond line");

	assert_int_equal(
		dbops_metric_set(
			g, (const char *[]){ "file", "a\\b \"c\"\nd", NULL },
			1),
		0);
	assert_renders(m, "# HELP g Path C:\\\\dumps \"quoted\"\\nsecond line\n"
			  "# TYPE g gauge\n"
			  "g{file=\"a\\\\b \\\"c\\\"\\nd\"} 1\n");
	dbops_metrics_free(m);
}

static void test_metrics_value_formatting(void **state)
{
	assert_value_renders(0, "0");
	assert_value_renders(-0.0, "0");
	assert_value_renders(12, "12");
	assert_value_renders(-7, "-7");
	assert_value_renders(1048576, "1048576");
	assert_value_renders(1e15, "1000000000000000");
	assert_value_renders(9007199254740993.0, "9007199254740992");
	assert_value_renders(0.5, "0.5");
	assert_value_renders(0.1, "0.1");
	assert_value_renders(-2.75, "-2.75");
	assert_value_renders(1.0 / 3, "0.3333333333333333");
	assert_value_renders(0.1 + 0.2, "0.30000000000000004");
	assert_value_renders(1e20, "1e+20");
	assert_value_renders(1.5e-7, "1.5e-07");
	assert_value_renders(1.7976931348623157e308, "1.7976931348623157e+308");
	assert_value_renders(INFINITY, "+Inf");
	assert_value_renders(-INFINITY, "-Inf");
	assert_value_renders(NAN, "NaN");
}

/*
 * Switch LC_NUMERIC to a locale with a decimal comma: an installed one, or
 * else one compiled into dir by localedef (found through LOCPATH). Returns
 * false if neither works.
 */
static bool use_comma_locale(const char *dir)
{
	static const char *const installed[] = {
		"de_DE.UTF-8",
		"de_DE.utf8",
		"fr_FR.UTF-8",
		"fr_FR.utf8",
	};
	char *cmd;
	int rc;

	for (size_t i = 0; i < sizeof(installed) / sizeof(char *); i++)
		if (setlocale(LC_NUMERIC, installed[i]) != NULL)
			return true;
	assert_true(asprintf(&cmd,
			     "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' "
			     ">/dev/null 2>&1",
			     dir) > 0);
	rc = system(cmd);
	free(cmd);
	if (rc != 0)
		return false;
	setenv("LOCPATH", dir, 1);
	return setlocale(LC_NUMERIC, "de_DE.UTF-8") != NULL;
}

static void test_metrics_values_ignore_the_locale(void **state)
{
	char *dir = make_scratch_dir("locale");
	char *saved = strdup(setlocale(LC_NUMERIC, NULL));
	bool comma;
	char probe[8];

	assert_non_null(saved);
	comma = use_comma_locale(dir);
	if (comma) {
		snprintf(probe, sizeof(probe), "%.1f", 2.5);
		assert_string_equal(probe, "2,5");
		assert_value_renders(2.5, "2.5");
		assert_value_renders(1.0 / 3, "0.3333333333333333");
		assert_value_renders(1.5e-7, "1.5e-07");
	}
	setlocale(LC_NUMERIC, saved);
	unsetenv("LOCPATH");
	free(saved);
	remove_tree(dir);
	if (!comma)
		skip();
}

static void test_metrics_empty_registry_renders_empty(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();

	assert_renders(m, "");
	assert_null(dbops_metrics_render(NULL, NULL));
	dbops_metrics_free(m);
	dbops_metrics_free(NULL);
}

struct adder {
	struct dbops_metrics *m;
	struct dbops_metric *c;
	const char *const *labels;
};

#define ADDS_PER_THREAD 20000

static void *add_many(void *arg)
{
	struct adder *a = arg;

	for (int i = 0; i < ADDS_PER_THREAD; i++) {
		if (dbops_metric_add(a->c, a->labels, 1) != 0)
			return "add failed";
		if (i % 5000 == 0) {
			char *text = dbops_metrics_render(a->m, NULL);

			if (text == NULL)
				return "render failed";
			free(text);
		}
	}
	return NULL;
}

static void test_metrics_threads_count_exactly(void **state)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *c = dbops_metrics_counter(m, "ops_total", NULL);
	const char *const *x = (const char *[]){ "kind", "x", NULL };
	const char *const *y = (const char *[]){ "kind", "y", NULL };
	struct adder adders[4] = {
		{ m, c, x },
		{ m, c, y },
		{ m, c, x },
		{ m, c, y },
	};
	pthread_t threads[4];
	void *result;

	/* Created first, so the order of the series is known. */
	assert_int_equal(dbops_metric_add(c, x, 0), 0);
	assert_int_equal(dbops_metric_add(c, y, 0), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(
			pthread_create(&threads[i], NULL, add_many, &adders[i]),
			0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(threads[i], &result), 0);
		assert_null(result);
	}
	assert_renders(m, "# TYPE ops_total counter\n"
			  "ops_total{kind=\"x\"} 40000\n"
			  "ops_total{kind=\"y\"} 40000\n");
	dbops_metrics_free(m);
}

static void test_metrics_write_file_bad_path_rejected(void **state)
{
	struct dbops_metrics *m = small_registry();

	errno = 0;
	assert_int_equal(dbops_metrics_write_file(m, "/tmp/"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dbops_metrics_write_file(m, ""), -1);
	assert_int_equal(dbops_metrics_write_file(m, NULL), -1);
	assert_int_equal(dbops_metrics_write_file(NULL, "/tmp/x.prom"), -1);
	dbops_metrics_free(m);
}

static void test_metrics_write_file_missing_directory_fails(void **state)
{
	struct dbops_metrics *m = small_registry();
	char *dir = make_scratch_dir("metrics");
	char *path;

	assert_true(asprintf(&path, "%s/none/x.prom", dir) > 0);
	errno = 0;
	assert_int_equal(dbops_metrics_write_file(m, path), -1);
	assert_int_equal(errno, ENOENT);
	assert_dir_holds(dir, "");
	free(path);
	remove_tree(dir);
	dbops_metrics_free(m);
}

static void test_metrics_write_file_onto_directory_fails_cleanly(void **state)
{
	struct dbops_metrics *m = small_registry();
	char *dir = make_scratch_dir("metrics");
	char *path, *inner, *text;

	assert_true(asprintf(&path, "%s/x.prom", dir) > 0);
	assert_true(asprintf(&inner, "%s/x.prom/keep", dir) > 0);
	assert_int_equal(mkdir(path, 0755), 0);
	write_whole_file(inner, "kept\n");

	/* The temporary file is written, then the rename fails. */
	errno = 0;
	assert_int_equal(dbops_metrics_write_file(m, path), -1);
	assert_true(errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
	assert_dir_holds(dir, "x.prom");
	text = read_whole_file(inner);
	assert_string_equal(text, "kept\n");
	free(text);
	free(inner);
	free(path);
	remove_tree(dir);
	dbops_metrics_free(m);
}

static void test_metrics_write_file_failure_keeps_old_file(void **state)
{
	struct dbops_metrics *m = small_registry();
	char *dir = make_scratch_dir("metrics");
	char name[251], *path, *text;

	/* The name fits, the temporary name (8 bytes longer) does not. */
	memset(name, 'm', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	write_whole_file(path, "old\n");
	errno = 0;
	assert_int_equal(dbops_metrics_write_file(m, path), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_dir_holds(dir, name);
	text = read_whole_file(path);
	assert_string_equal(text, "old\n");
	free(text);
	free(path);

	/* Where permissions count (not as root), a read-only directory. */
	if (geteuid() != 0) {
		assert_true(asprintf(&path, "%s/x.prom", dir) > 0);
		write_whole_file(path, "old\n");
		assert_int_equal(chmod(dir, 0555), 0);
		errno = 0;
		assert_int_equal(dbops_metrics_write_file(m, path), -1);
		assert_int_equal(errno, EACCES);
		assert_int_equal(chmod(dir, 0755), 0);
		text = read_whole_file(path);
		assert_string_equal(text, "old\n");
		free(text);
		free(path);
	}
	remove_tree(dir);
	dbops_metrics_free(m);
}

static void test_metrics_write_file_content_and_mode(void **state)
{
	struct dbops_metrics *m = small_registry();
	char *dir = make_scratch_dir("metrics");
	mode_t old_umask = umask(077);
	struct stat st;
	char *path, *text;

	assert_true(asprintf(&path, "%s/dbops.prom", dir) > 0);
	assert_int_equal(dbops_metrics_write_file(m, path), 0);
	umask(old_umask);
	text = read_whole_file(path);
	assert_string_equal(text, SMALL_TEXT);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_dir_holds(dir, "dbops.prom");
	free(text);
	free(path);
	remove_tree(dir);
	dbops_metrics_free(m);
}

static void test_metrics_write_file_replaces_atomically(void **state)
{
	struct dbops_metrics *m = small_registry();
	char *dir = make_scratch_dir("metrics");
	struct stat before, after;
	char *path, *text;
	char old[16] = { 0 };
	int fd;

	assert_true(asprintf(&path, "%s/dbops.prom", dir) > 0);
	write_whole_file(path, "old content\n");
	assert_int_equal(stat(path, &before), 0);
	/* A reader that opened the old file keeps reading all of it. */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);

	assert_int_equal(dbops_metrics_write_file(m, path), 0);
	text = read_whole_file(path);
	assert_string_equal(text, SMALL_TEXT);
	assert_int_equal(stat(path, &after), 0);
	assert_true(after.st_ino != before.st_ino);
	assert_int_equal(read(fd, old, sizeof(old) - 1), 12);
	assert_string_equal(old, "old content\n");
	assert_dir_holds(dir, "dbops.prom");
	close(fd);
	free(text);
	free(path);
	remove_tree(dir);
	dbops_metrics_free(m);
}

static void test_metrics_write_file_relative_path(void **state)
{
	struct dbops_metrics *m = small_registry();
	char *dir = make_scratch_dir("metrics");
	char *cwd = getcwd(NULL, 0);
	char *text;

	assert_non_null(cwd);
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(dbops_metrics_write_file(m, "dbops.prom"), 0);
	text = read_whole_file("dbops.prom");
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(text, SMALL_TEXT);
	assert_dir_holds(dir, "dbops.prom");
	free(text);
	free(cwd);
	remove_tree(dir);
	dbops_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_invalid_names_rejected),
		cmocka_unit_test(test_metrics_help_not_utf8_rejected),
		cmocka_unit_test(test_metrics_taken_names_rejected),
		cmocka_unit_test(test_metrics_bad_histogram_bounds_rejected),
		cmocka_unit_test(test_metrics_bad_labels_rejected),
		cmocka_unit_test(test_metrics_counter_decrement_rejected),
		cmocka_unit_test(test_metrics_wrong_type_rejected),
		cmocka_unit_test(test_metrics_counter_without_labels),
		cmocka_unit_test(
			test_metrics_counter_with_labels_in_first_use_order),
		cmocka_unit_test(test_metrics_gauge_set_and_add),
		cmocka_unit_test(test_metrics_histogram_buckets_sum_count),
		cmocka_unit_test(test_metrics_histogram_with_labels),
		cmocka_unit_test(test_metrics_escaping_help_and_label_values),
		cmocka_unit_test(test_metrics_value_formatting),
		cmocka_unit_test(test_metrics_values_ignore_the_locale),
		cmocka_unit_test(test_metrics_empty_registry_renders_empty),
		cmocka_unit_test(test_metrics_threads_count_exactly),
		cmocka_unit_test(test_metrics_write_file_bad_path_rejected),
		cmocka_unit_test(
			test_metrics_write_file_missing_directory_fails),
		cmocka_unit_test(
			test_metrics_write_file_onto_directory_fails_cleanly),
		cmocka_unit_test(
			test_metrics_write_file_failure_keeps_old_file),
		cmocka_unit_test(test_metrics_write_file_content_and_mode),
		cmocka_unit_test(test_metrics_write_file_replaces_atomically),
		cmocka_unit_test(test_metrics_write_file_relative_path),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
