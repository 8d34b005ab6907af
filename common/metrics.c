/*
 * metrics.c - the metric registry, its rendering in the Prometheus text
 * exposition format 0.0.4 and the atomic textfile writer. See metrics.h
 * for the contract.
 *
 * A registry is a list of metrics in registration order; a metric is an
 * array of series in first-use order, each holding the label values in the
 * order of the metric's label names (fixed by the first series). One mutex
 * in the registry guards everything below it, rendering included, so a
 * render is a consistent snapshot.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "utf8.h"

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

static const char *const type_words[] = {
	[METRIC_COUNTER] = "counter",
	[METRIC_GAUGE] = "gauge",
	[METRIC_HISTOGRAM] = "histogram",
};

/* The sample names a histogram adds to its own name. */
static const char *const histogram_suffixes[] = { "_bucket", "_sum", "_count" };

struct series {
	char **values; /* one per label name of the metric */
	double value;  /* counter, gauge */
	double sum;    /* histogram */
	uint64_t count;
	uint64_t *buckets; /* nbounds + 1 counts, not cumulative */
};

struct dbops_metric {
	struct dbops_metrics *registry;
	enum metric_type type;
	char *name;
	char *help;
	double *bounds;
	size_t nbounds;
	bool labels_fixed;
	char **label_names;
	size_t nlabels;
	struct series *series;
	size_t nseries;
	size_t series_cap;
	struct dbops_metric *next;
};

struct dbops_metrics {
	pthread_mutex_t lock;
	struct dbops_metric *first;
	struct dbops_metric *last;
};

/* Character classes by hand: isalpha() and friends follow the locale. */
static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool valid_metric_name(const char *name)
{
	if (name == NULL || *name == '\0' || is_digit(*name))
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!is_letter(*p) && !is_digit(*p) && *p != '_' && *p != ':')
			return false;
	return true;
}

static bool valid_label_name(const char *name)
{
	if (name == NULL || *name == '\0' || is_digit(*name))
		return false;
	if (name[0] == '_' && name[1] == '_')
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!is_letter(*p) && !is_digit(*p) && *p != '_')
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Whether the samples of metric x use name. */
static bool name_taken(const struct dbops_metric *x, const char *name)
{
	size_t n = strlen(x->name);

	if (strcmp(x->name, name) == 0)
		return true;
	if (x->type != METRIC_HISTOGRAM || strncmp(x->name, name, n) != 0)
		return false;
	for (size_t i = 0; i < sizeof(histogram_suffixes) / sizeof(char *); i++)
		if (strcmp(name + n, histogram_suffixes[i]) == 0)
			return true;
	return false;
}

/* Whether a new metric would share a sample name with one registered.
 * Called with the lock held. */
static bool name_clashes(const struct dbops_metrics *m,
			 const struct dbops_metric *new)
{
	for (const struct dbops_metric *x = m->first; x != NULL; x = x->next) {
		if (name_taken(x, new->name) || name_taken(new, x->name))
			return true;
	}
	return false;
}

static void series_clear(struct series *s, size_t nlabels)
{
	if (s->values != NULL)
		for (size_t i = 0; i < nlabels; i++)
			free(s->values[i]);
	free(s->values);
	free(s->buckets);
}

static void metric_free(struct dbops_metric *x)
{
	for (size_t i = 0; i < x->nseries; i++)
		series_clear(&x->series[i], x->nlabels);
	free(x->series);
	for (size_t i = 0; i < x->nlabels; i++)
		free(x->label_names[i]);
	free(x->label_names);
	free(x->bounds);
	free(x->help);
	free(x->name);
	free(x);
}

struct dbops_metrics *dbops_metrics_new(void)
{
	struct dbops_metrics *m = calloc(1, sizeof(*m));
	int rc;

	if (m == NULL)
		return NULL;
	rc = pthread_mutex_init(&m->lock, NULL);
	if (rc != 0) {
		free(m);
		errno = rc;
		return NULL;
	}
	return m;
}

void dbops_metrics_free(struct dbops_metrics *m)
{
	struct dbops_metric *x, *next;

	if (m == NULL)
		return;
	for (x = m->first; x != NULL; x = next) {
		next = x->next;
		metric_free(x);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct dbops_metric *metric_register(struct dbops_metrics *m,
					    enum metric_type type,
					    const char *name, const char *help,
					    const double *bounds,
					    size_t nbounds)
{
	struct dbops_metric *x;
	bool clash;

	if (m == NULL || !valid_metric_name(name) ||
	    (type == METRIC_COUNTER && !ends_with(name, "_total")) ||
	    (help != NULL && !dbops_utf8_valid(help, strlen(help))) ||
	    (bounds == NULL && nbounds > 0)) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < nbounds; i++) {
		if (isnan(bounds[i]) ||
		    (i > 0 && !(bounds[i] > bounds[i - 1]))) {
			errno = EINVAL;
			return NULL;
		}
	}
	/* The +Inf bucket is always there. */
	if (nbounds > 0 && bounds[nbounds - 1] == INFINITY)
		nbounds--;

	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return NULL;
	x->registry = m;
	x->type = type;
	x->name = strdup(name);
	x->help = help != NULL ? strdup(help) : NULL;
	x->nbounds = nbounds;
	if (nbounds > 0) {
		x->bounds = malloc(nbounds * sizeof(double));
		if (x->bounds != NULL)
			memcpy(x->bounds, bounds, nbounds * sizeof(double));
	}
	if (x->name == NULL || (help != NULL && x->help == NULL) ||
	    (nbounds > 0 && x->bounds == NULL)) {
		metric_free(x);
		errno = ENOMEM;
		return NULL;
	}

	pthread_mutex_lock(&m->lock);
	clash = name_clashes(m, x);
	if (!clash) {
		if (m->last != NULL)
			m->last->next = x;
		else
			m->first = x;
		m->last = x;
	}
	pthread_mutex_unlock(&m->lock);
	if (clash) {
		metric_free(x);
		errno = EINVAL;
		return NULL;
	}
	return x;
}

struct dbops_metric *dbops_metrics_counter(struct dbops_metrics *m,
					   const char *name, const char *help)
{
	return metric_register(m, METRIC_COUNTER, name, help, NULL, 0);
}

struct dbops_metric *dbops_metrics_gauge(struct dbops_metrics *m,
					 const char *name, const char *help)
{
	return metric_register(m, METRIC_GAUGE, name, help, NULL, 0);
}

struct dbops_metric *dbops_metrics_histogram(struct dbops_metrics *m,
					     const char *name, const char *help,
					     const double *bounds,
					     size_t nbounds)
{
	return metric_register(m, METRIC_HISTOGRAM, name, help, bounds,
			       nbounds);
}

/* Index of a label name in the metric's names, nlabels if absent. */
static size_t label_index(const struct dbops_metric *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->nlabels; i++)
		if (strcmp(x->label_names[i], name) == 0)
			break;
	return i;
}

/*
 * Check a label array against the rules and, once the metric's names are
 * fixed, against those names. Sets *npairs. Called with the lock held.
 */
static int check_labels(const struct dbops_metric *x, const char *const *labels,
			size_t *npairs)
{
	size_t i;

	for (i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		const char *name = labels[i], *value = labels[i + 1];

		if (value == NULL || !valid_label_name(name) ||
		    !dbops_utf8_valid(value, strlen(value)) ||
		    (x->type == METRIC_HISTOGRAM && strcmp(name, "le") == 0))
			return -1;
		for (size_t k = 0; k < i; k += 2)
			if (strcmp(labels[k], name) == 0)
				return -1;
		if (x->labels_fixed && label_index(x, name) == x->nlabels)
			return -1;
	}
	*npairs = i / 2;
	if (x->labels_fixed && *npairs != x->nlabels)
		return -1;
	return 0;
}

static bool series_matches(const struct dbops_metric *x, const struct series *s,
			   const char *const *labels)
{
	for (size_t i = 0; labels != NULL && labels[i] != NULL; i += 2)
		if (strcmp(s->values[label_index(x, labels[i])],
			   labels[i + 1]) != 0)
			return false;
	return true;
}

/*
 * The series for checked labels, created if new (and the metric's label
 * names fixed by it if it is the first). NULL with errno ENOMEM, leaving
 * the metric as it was. Called with the lock held.
 */
static struct series *get_series(struct dbops_metric *x,
				 const char *const *labels, size_t npairs)
{
	struct series s = { 0 };
	char **names = NULL;
	bool fix = !x->labels_fixed;

	for (size_t i = 0; i < x->nseries; i++)
		if (series_matches(x, &x->series[i], labels))
			return &x->series[i];

	if (x->nseries == x->series_cap) {
		size_t cap = x->series_cap ? 2 * x->series_cap : 4;
		struct series *grown = realloc(x->series, cap * sizeof(*grown));

		if (grown == NULL)
			goto nomem;
		x->series = grown;
		x->series_cap = cap;
	}
	if (npairs > 0) {
		s.values = calloc(npairs, sizeof(char *));
		if (s.values == NULL)
			goto nomem;
		if (fix) {
			names = calloc(npairs, sizeof(char *));
			if (names == NULL)
				goto nomem;
		}
	}
	for (size_t i = 0; i < npairs; i++) {
		size_t at = fix ? i : label_index(x, labels[2 * i]);

		s.values[at] = strdup(labels[2 * i + 1]);
		if (s.values[at] == NULL)
			goto nomem;
		if (fix) {
			names[i] = strdup(labels[2 * i]);
			if (names[i] == NULL)
				goto nomem;
		}
	}
	if (x->type == METRIC_HISTOGRAM) {
		s.buckets = calloc(x->nbounds + 1, sizeof(uint64_t));
		if (s.buckets == NULL)
			goto nomem;
	}
	if (fix) {
		x->label_names = names;
		x->nlabels = npairs;
		x->labels_fixed = true;
	}
	x->series[x->nseries] = s;
	return &x->series[x->nseries++];

nomem:
	series_clear(&s, npairs);
	if (names != NULL)
		for (size_t i = 0; i < npairs; i++)
			free(names[i]);
	free(names);
	errno = ENOMEM;
	return NULL;
}

enum value_op { OP_ADD, OP_SET, OP_OBSERVE };

/*
 * The common path of the value functions, once they have checked the type
 * of the metric and the value: under the lock, check the labels, find or
 * make the series and apply op to it.
 */
static int metric_update(struct dbops_metric *x, const char *const *labels,
			 enum value_op op, double v)
{
	struct series *s;
	size_t npairs;
	size_t b;

	pthread_mutex_lock(&x->registry->lock);
	if (check_labels(x, labels, &npairs) != 0) {
		pthread_mutex_unlock(&x->registry->lock);
		errno = EINVAL;
		return -1;
	}
	s = get_series(x, labels, npairs);
	if (s == NULL) {
		pthread_mutex_unlock(&x->registry->lock);
		errno = ENOMEM;
		return -1;
	}
	switch (op) {
	case OP_ADD:
		s->value += v;
		break;
	case OP_SET:
		s->value = v;
		break;
	case OP_OBSERVE:
		for (b = 0; b < x->nbounds; b++)
			if (v <= x->bounds[b])
				break;
		s->buckets[b]++;
		s->count++;
		s->sum += v;
		break;
	}
	pthread_mutex_unlock(&x->registry->lock);
	return 0;
}

int dbops_metric_add(struct dbops_metric *metric, const char *const *labels,
		     double delta)
{
	if (metric == NULL || metric->type == METRIC_HISTOGRAM ||
	    (metric->type == METRIC_COUNTER &&
	     !(isfinite(delta) && delta >= 0))) {
		errno = EINVAL;
		return -1;
	}
	return metric_update(metric, labels, OP_ADD, delta);
}

int dbops_metric_set(struct dbops_metric *metric, const char *const *labels,
		     double value)
{
	if (metric == NULL || metric->type != METRIC_GAUGE) {
		errno = EINVAL;
		return -1;
	}
	return metric_update(metric, labels, OP_SET, value);
}

int dbops_metric_observe(struct dbops_metric *metric, const char *const *labels,
			 double value)
{
	if (metric == NULL || metric->type != METRIC_HISTOGRAM ||
	    isnan(value)) {
		errno = EINVAL;
		return -1;
	}
	return metric_update(metric, labels, OP_OBSERVE, value);
}

/* A growing string; after a failed allocation it stays failed. */
struct strbuf {
	char *text;
	size_t len;
	size_t cap;
	bool failed;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *grown;

		while (b->len + n + 1 > cap)
			cap *= 2;
		grown = realloc(b->text, cap);
		if (grown == NULL) {
			b->failed = true;
			return;
		}
		b->text = grown;
		b->cap = cap;
	}
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = '\0';
}

static void sb_puts(struct strbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* s with a backslash before each character of quoted, and newlines as
 * "\n". */
static void sb_escaped(struct strbuf *b, const char *s, const char *quoted)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		if (*s != '\n' && strchr(quoted, *s) == NULL)
			continue;
		sb_add(b, run, (size_t)(s - run));
		sb_add(b, "\\", 1);
		sb_add(b, *s == '\n' ? "n" : s, 1);
		run = s + 1;
	}
	sb_add(b, run, (size_t)(s - run));
}

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/*
 * A sample value as Prometheus reads it: integers in full without an
 * exponent, other numbers in the fewest digits that read back exactly,
 * "+Inf", "-Inf" and "NaN". Always with a '.', whatever the locale.
 */
static void format_value(char *out, size_t len, double v)
{
	locale_t saved = (locale_t)0;

	if (isnan(v)) {
		snprintf(out, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Below 2^63 in magnitude, so the cast is defined; -0 prints "0". */
	if (v > -9.2e18 && v < 9.2e18 && v == (double)(long long)v) {
		snprintf(out, len, "%lld", (long long)v);
		return;
	}
	pthread_once(&c_locale_once, make_c_locale);
	if (c_locale != (locale_t)0)
		saved = uselocale(c_locale);
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(out, len, "%.*g", digits, v);
		if (strtod(out, NULL) == v)
			break;
	}
	if (saved != (locale_t)0)
		uselocale(saved);
}

static void sb_value(struct strbuf *b, double v)
{
	char text[40];

	format_value(text, sizeof(text), v);
	sb_puts(b, text);
}

static void sb_count(struct strbuf *b, uint64_t n)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRIu64, n);
	sb_puts(b, text);
}

/* "{a="x",le="0.5"}", or nothing when there is no label at all. */
static void sb_labels(struct strbuf *b, const struct dbops_metric *x,
		      const struct series *s, const char *le)
{
	if (x->nlabels == 0 && le == NULL)
		return;
	sb_add(b, "{", 1);
	for (size_t i = 0; i < x->nlabels; i++) {
		if (i > 0)
			sb_add(b, ",", 1);
		sb_puts(b, x->label_names[i]);
		sb_add(b, "=\"", 2);
		sb_escaped(b, s->values[i], "\\\"");
		sb_add(b, "\"", 1);
	}
	if (le != NULL) {
		sb_puts(b, x->nlabels > 0 ? ",le=\"" : "le=\"");
		sb_puts(b, le);
		sb_add(b, "\"", 1);
	}
	sb_add(b, "}", 1);
}

static void sb_sample(struct strbuf *b, const struct dbops_metric *x,
		      const char *suffix, const struct series *s,
		      const char *le)
{
	sb_puts(b, x->name);
	sb_puts(b, suffix);
	sb_labels(b, x, s, le);
	sb_add(b, " ", 1);
}

static void render_histogram_series(struct strbuf *b,
				    const struct dbops_metric *x,
				    const struct series *s)
{
	uint64_t cumulative = 0;
	char le[40];

	for (size_t i = 0; i <= x->nbounds; i++) {
		if (i < x->nbounds)
			format_value(le, sizeof(le), x->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		if (s->buckets != NULL)
			cumulative += s->buckets[i];
		sb_sample(b, x, "_bucket", s, le);
		sb_count(b, cumulative);
		sb_add(b, "\n", 1);
	}
	sb_sample(b, x, "_sum", s, NULL);
	sb_value(b, s->sum);
	sb_add(b, "\n", 1);
	sb_sample(b, x, "_count", s, NULL);
	sb_count(b, s->count);
	sb_add(b, "\n", 1);
}

static void render_series(struct strbuf *b, const struct dbops_metric *x,
			  const struct series *s)
{
	if (x->type == METRIC_HISTOGRAM) {
		render_histogram_series(b, x, s);
		return;
	}
	sb_sample(b, x, "", s, NULL);
	sb_value(b, s->value);
	sb_add(b, "\n", 1);
}

/* Called with the lock held. */
static void render_metric(struct strbuf *b, const struct dbops_metric *x)
{
	/* Stands for the metric while nothing was recorded in it. */
	static const struct series zero = { 0 };

	if (x->help != NULL) {
		sb_puts(b, "# HELP ");
		sb_puts(b, x->name);
		sb_add(b, " ", 1);
		sb_escaped(b, x->help, "\\");
		sb_add(b, "\n", 1);
	}
	sb_puts(b, "# TYPE ");
	sb_puts(b, x->name);
	sb_add(b, " ", 1);
	sb_puts(b, type_words[x->type]);
	sb_add(b, "\n", 1);
	if (x->nseries == 0)
		render_series(b, x, &zero);
	for (size_t i = 0; i < x->nseries; i++)
		render_series(b, x, &x->series[i]);
}

char *dbops_metrics_render(struct dbops_metrics *m, size_t *len)
{
	struct strbuf b = { 0 };

	if (m == NULL) {
		errno = EINVAL;
		return NULL;
	}
	sb_add(&b, "", 0);
	pthread_mutex_lock(&m->lock);
	for (const struct dbops_metric *x = m->first; x != NULL; x = x->next)
		render_metric(&b, x);
	pthread_mutex_unlock(&m->lock);
	if (b.failed) {
		free(b.text);
		errno = ENOMEM;
		return NULL;
	}
	if (len != NULL)
		*len = b.len;
	return b.text;
}

int dbops_metrics_write_file(struct dbops_metrics *m, const char *path)
{
	char *text;
	size_t len;
	int rc, e;

	if (m == NULL || path == NULL) {
		errno = EINVAL;
		return -1;
	}
	text = dbops_metrics_render(m, &len);
	if (text == NULL)
		return -1;
	rc = dbops_atomic_write(path, 0644, text, len);
	e = errno;
	free(text);
	errno = e;
	return rc;
}
