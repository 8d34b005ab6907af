/*
 * output.c - the record writer for --format table|csv|tsv|json. See
 * output.h for the exact bytes of each format.
 *
 * Every row is rendered into a reusable line buffer and written with one
 * fwrite, so a row that fails to render (ENOMEM) writes nothing, and the
 * cost per row is linear in its size. table renders each cell once, when
 * its row comes, into one growing arena, and keeps per column the widest
 * cell; finish then only pads and writes.
 */
#include "output.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* A growable byte string. A failed allocation is remembered, not returned,
 * so a renderer appends freely and the caller checks once. */
struct outbuf {
	char *data;
	size_t len;
	size_t cap;
	bool nomem;
};

struct column {
	char *name;
	enum dbops_column_kind kind;
	size_t width;	/* table: widest cell, header included */
	size_t key_off; /* json: "name": in the arena */
	size_t key_len;
};

/* table: one rendered cell; its bytes follow the previous cell's in arena */
struct cell {
	size_t len;
	size_t width;
};

struct dbops_output {
	FILE *out;
	enum dbops_output_format fmt;
	struct column *cols;
	size_t ncols;
	size_t colcap;
	size_t nrows;
	bool finished;
	int error;	     /* errno of the first failed write, sticky */
	struct outbuf line;  /* the row being rendered */
	struct outbuf arena; /* table: all cells; json: the keys */
	struct cell *cells;  /* table: the header, then nrows rows */
	size_t cellcap;
	size_t arena_mark; /* table: arena length before this row */
};

static const char hexdigits[] = "0123456789abcdef";

static bool buf_reserve(struct outbuf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->nomem)
		return false;
	if (b->cap - b->len >= more)
		return true;
	if (more > SIZE_MAX - b->len)
		goto nomem;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < more) {
		if (cap > SIZE_MAX / 2) {
			cap = b->len + more;
			break;
		}
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (p == NULL)
		goto nomem;
	b->data = p;
	b->cap = cap;
	return true;
nomem:
	b->nomem = true;
	return false;
}

static void buf_put(struct outbuf *b, const void *p, size_t n)
{
	if (n > 0 && buf_reserve(b, n)) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
	}
}

static void buf_putc(struct outbuf *b, char c)
{
	if (buf_reserve(b, 1))
		b->data[b->len++] = c;
}

static void buf_puts(struct outbuf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void buf_repeat(struct outbuf *b, char c, size_t n)
{
	if (n > 0 && buf_reserve(b, n)) {
		memset(b->data + b->len, c, n);
		b->len += n;
	}
}

/* Appends the two hex digits of byte c. */
static void buf_hexbyte(struct outbuf *b, unsigned char c)
{
	if (buf_reserve(b, 2)) {
		b->data[b->len++] = hexdigits[c >> 4];
		b->data[b->len++] = hexdigits[c & 0xf];
	}
}

/* Appends "0x" and the hex of all n bytes. */
static void buf_hex(struct outbuf *b, const char *p, size_t n)
{
	buf_put(b, "0x", 2);
	if (n > (SIZE_MAX - 2) / 2) {
		b->nomem = true;
		return;
	}
	if (!buf_reserve(b, 2 * n))
		return;
	for (size_t i = 0; i < n; i++)
		buf_hexbyte(b, (unsigned char)p[i]);
}

/* Restores b to length len after a failed render, forgetting the failure. */
static void buf_truncate(struct outbuf *b, size_t len)
{
	b->len = len;
	b->nomem = false;
}

/* The index of the first byte from i on that is not a digit. */
static size_t skip_digits(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s, size_t n)
{
	size_t i = 0, j;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		j = skip_digits(s, n, i);
		if (j == i)
			return false;
		i = j;
	}
	if (i < n && s[i] == '.') {
		j = skip_digits(s, n, i + 1);
		if (j == i + 1)
			return false;
		i = j;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		j = skip_digits(s, n, i);
		if (j == i)
			return false;
		i = j;
	}
	return i == n;
}

/* The two-character escape of a byte that would break a line, or NULL. */
static const char *line_escape(char c)
{
	switch (c) {
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

/* ---- csv ---------------------------------------------------------------- */

static bool csv_needs_quotes(const char *s, size_t n)
{
	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

/* Appends s (n bytes; NULL: SQL NULL) as one csv field. */
static void csv_field(struct outbuf *b, const char *s, size_t n)
{
	const char *q;

	if (s == NULL)
		return;
	if (!csv_needs_quotes(s, n)) {
		buf_put(b, s, n);
		return;
	}
	buf_putc(b, '"');
	while ((q = memchr(s, '"', n)) != NULL) {
		buf_put(b, s, (size_t)(q - s) + 1);
		buf_putc(b, '"');
		n -= (size_t)(q - s) + 1;
		s = q + 1;
	}
	buf_put(b, s, n);
	buf_putc(b, '"');
}

/* ---- tsv ---------------------------------------------------------------- */

/* Appends s (n bytes; NULL: SQL NULL) as one tsv field. */
static void tsv_field(struct outbuf *b, const char *s, size_t n)
{
	size_t run = 0;

	if (s == NULL) {
		buf_put(b, "\\N", 2);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : line_escape(s[i]);

		if (esc == NULL)
			continue;
		buf_put(b, s + run, i - run);
		buf_put(b, esc, 2);
		run = i + 1;
	}
	buf_put(b, s + run, n - run);
}

/* ---- json --------------------------------------------------------------- */

/* RFC 8259 escapes of the control bytes, the short ones where they exist. */
static const char *const json_controls[0x20] = {
	"\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005",
	"\\u0006", "\\u0007", "\\b",	 "\\t",	    "\\n",     "\\u000b",
	"\\f",	   "\\r",     "\\u000e", "\\u000f", "\\u0010", "\\u0011",
	"\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
	"\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d",
	"\\u001e", "\\u001f",
};

/* Appends str (n bytes) as a JSON string, quotes included. */
static void json_string(struct outbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0, i = 0;

	buf_putc(b, '"');
	while (i < n) {
		const char *esc;
		size_t k;

		if (s[i] >= 0x80) {
			k = dbops_utf8_seq_len(s + i, n - i);
			if (k > 0) {
				i += k;
				continue;
			}
			esc = "\\ufffd";
		} else if (s[i] == '"') {
			esc = "\\\"";
		} else if (s[i] == '\\') {
			esc = "\\\\";
		} else if (s[i] < 0x20) {
			esc = json_controls[s[i]];
		} else {
			i++;
			continue;
		}
		buf_put(b, str + run, i - run);
		buf_puts(b, esc);
		run = ++i;
	}
	buf_put(b, str + run, n - run);
	buf_putc(b, '"');
}

/* Appends s (n bytes; NULL: SQL NULL) as the json value of a kind column. */
static void json_value(struct outbuf *b, enum dbops_column_kind kind,
		       const char *s, size_t n)
{
	if (s == NULL) {
		buf_put(b, "null", 4);
	} else if (kind == DBOPS_COLUMN_BINARY) {
		buf_putc(b, '"');
		buf_hex(b, s, n);
		buf_putc(b, '"');
	} else if (kind == DBOPS_COLUMN_NUMBER && is_json_number(s, n)) {
		buf_put(b, s, n);
	} else {
		json_string(b, s, n);
	}
}

/* ---- table -------------------------------------------------------------- */

/*
 * Appends s escaped for one table cell and returns its width in terminal
 * columns (dbops_utf8_width). The result is ASCII plus valid UTF-8
 * sequences only.
 */
static size_t table_escape(struct outbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0, i = 0, width = 0;

	while (i < n) {
		const char *esc;
		size_t k;

		if (s[i] >= 0x80) {
			k = dbops_utf8_seq_len(s + i, n - i);
			if (k > 0) {
				width += (size_t)dbops_utf8_width(s + i, k);
				i += k;
				continue;
			}
		} else if (s[i] >= 0x20 && s[i] != 0x7f) {
			i++;
			width++;
			continue;
		}
		buf_put(b, str + run, i - run);
		esc = line_escape(str[i]);
		if (esc != NULL) {
			buf_put(b, esc, 2);
			width += 2;
		} else {
			buf_put(b, "\\x", 2);
			buf_hexbyte(b, s[i]);
			width += 4;
		}
		run = ++i;
	}
	buf_put(b, str + run, n - run);
	return width;
}

/* Appends the cell of kind for value s (n bytes); returns its width. */
static size_t table_cell(struct outbuf *b, enum dbops_column_kind kind,
			 const char *s, size_t n)
{
	if (s == NULL) {
		buf_put(b, "NULL", 4);
		return 4;
	}
	if (kind == DBOPS_COLUMN_BINARY) {
		buf_hex(b, s, n);
		return 2 + 2 * n;
	}
	return table_escape(b, s, n);
}

static void table_rule(struct dbops_output *w)
{
	buf_putc(&w->line, '+');
	for (size_t c = 0; c < w->ncols; c++) {
		buf_repeat(&w->line, '-', w->cols[c].width + 2);
		buf_putc(&w->line, '+');
	}
	buf_putc(&w->line, '\n');
}

/* Appends one table line: the next ncols cells of the arena from *p. */
static void table_line(struct dbops_output *w, const struct cell *cells,
		       const char **p, bool header)
{
	buf_putc(&w->line, '|');
	for (size_t c = 0; c < w->ncols; c++) {
		const struct column *col = &w->cols[c];
		size_t pad = col->width - cells[c].width;
		bool right = !header && col->kind == DBOPS_COLUMN_NUMBER;

		buf_putc(&w->line, ' ');
		if (right)
			buf_repeat(&w->line, ' ', pad);
		buf_put(&w->line, *p, cells[c].len);
		if (!right)
			buf_repeat(&w->line, ' ', pad);
		buf_put(&w->line, " |", 2);
		if (cells[c].len > 0) /* an arena of empty cells may be NULL */
			*p += cells[c].len;
	}
	buf_putc(&w->line, '\n');
}

/* ---- writing ------------------------------------------------------------ */

/* table: makes room for n cells in all. */
static int cells_reserve(struct dbops_output *w, size_t n)
{
	size_t cap = w->cellcap ? w->cellcap : 64;
	struct cell *p;

	if (n <= w->cellcap)
		return 0;
	while (cap < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*p))
			return -1;
		cap *= 2;
	}
	p = realloc(w->cells, cap * sizeof(*p));
	if (p == NULL)
		return -1;
	w->cells = p;
	w->cellcap = cap;
	return 0;
}

/* Writes the line buffer to the FILE and empties it. */
static int flush_line(struct dbops_output *w)
{
	size_t len = w->line.len;

	w->line.len = 0;
	if (w->line.nomem) {
		w->line.nomem = false;
		errno = ENOMEM;
		return -1;
	}
	errno = 0;
	if (len > 0 && fwrite(w->line.data, 1, len, w->out) != len) {
		w->error = errno ? errno : EIO;
		errno = w->error;
		return -1;
	}
	return 0;
}

/* Renders the header line of csv and tsv into the line buffer. */
static void render_header(struct dbops_output *w)
{
	for (size_t c = 0; c < w->ncols; c++) {
		const char *name = w->cols[c].name;

		if (w->fmt == DBOPS_FORMAT_CSV) {
			if (c > 0)
				buf_putc(&w->line, ',');
			csv_field(&w->line, name, strlen(name));
		} else {
			if (c > 0)
				buf_putc(&w->line, '\t');
			tsv_field(&w->line, name, strlen(name));
		}
	}
	buf_putc(&w->line, '\n');
}

/*
 * Checks a row may come now and starts it: the cell slots of a table row;
 * for the first streamed row the csv/tsv header or json's "[".
 */
static int row_begin(struct dbops_output *w, const void *values)
{
	if (w == NULL || values == NULL || w->finished || w->ncols == 0) {
		errno = EINVAL;
		return -1;
	}
	if (w->error) {
		errno = w->error;
		return -1;
	}
	w->line.len = 0;
	switch (w->fmt) {
	case DBOPS_FORMAT_TABLE:
		/* Room for the header cells, the stored rows and this one. */
		if (w->nrows > SIZE_MAX / w->ncols - 2 ||
		    cells_reserve(w, (w->nrows + 2) * w->ncols) != 0) {
			errno = ENOMEM;
			return -1;
		}
		break;
	case DBOPS_FORMAT_CSV:
	case DBOPS_FORMAT_TSV:
		if (w->nrows == 0)
			render_header(w);
		break;
	case DBOPS_FORMAT_JSON:
		buf_put(&w->line, w->nrows == 0 ? "[\n" : ",\n", 2);
		break;
	}
	w->arena_mark = w->arena.len;
	return 0;
}

/* Adds value s (n bytes, NULL for SQL NULL) of column c to the row. */
static void row_value(struct dbops_output *w, size_t c, const char *s, size_t n)
{
	const struct column *col = &w->cols[c];
	struct cell *cell;

	switch (w->fmt) {
	case DBOPS_FORMAT_TABLE:
		cell = &w->cells[(w->nrows + 1) * w->ncols + c];
		cell->len = w->arena.len;
		cell->width = table_cell(&w->arena, col->kind, s, n);
		cell->len = w->arena.len - cell->len;
		break;
	case DBOPS_FORMAT_CSV:
		if (c > 0)
			buf_putc(&w->line, ',');
		csv_field(&w->line, s, n);
		break;
	case DBOPS_FORMAT_TSV:
		if (c > 0)
			buf_putc(&w->line, '\t');
		tsv_field(&w->line, s, n);
		break;
	case DBOPS_FORMAT_JSON:
		buf_putc(&w->line, c > 0 ? ',' : '{');
		buf_put(&w->line, w->arena.data + col->key_off, col->key_len);
		json_value(&w->line, col->kind, s, n);
		break;
	}
}

/* Ends the row: keeps it (table) or writes it out. */
static int row_end(struct dbops_output *w)
{
	if (w->fmt == DBOPS_FORMAT_TABLE) {
		const struct cell *cells = &w->cells[(w->nrows + 1) * w->ncols];

		if (w->arena.nomem) {
			buf_truncate(&w->arena, w->arena_mark);
			errno = ENOMEM;
			return -1;
		}
		for (size_t c = 0; c < w->ncols; c++)
			if (cells[c].width > w->cols[c].width)
				w->cols[c].width = cells[c].width;
	} else {
		buf_putc(&w->line, w->fmt == DBOPS_FORMAT_JSON ? '}' : '\n');
		if (flush_line(w) != 0)
			return -1;
	}
	w->nrows++;
	return 0;
}

/* table: writes the whole box, one fwrite per line. */
static int table_write(struct dbops_output *w)
{
	const char *p = w->arena.data;

	if (w->ncols == 0)
		return 0;
	table_rule(w);
	table_line(w, w->cells, &p, true);
	table_rule(w);
	if (flush_line(w) != 0)
		return -1;
	if (w->nrows == 0)
		return 0; /* the header box alone */
	for (size_t r = 1; r <= w->nrows; r++) {
		table_line(w, &w->cells[r * w->ncols], &p, false);
		if (flush_line(w) != 0)
			return -1;
	}
	table_rule(w);
	return flush_line(w);
}

int dbops_output_parse_format(const char *name, enum dbops_output_format *out)
{
	static const char *const names[] = {
		[DBOPS_FORMAT_TABLE] = "table",
		[DBOPS_FORMAT_CSV] = "csv",
		[DBOPS_FORMAT_TSV] = "tsv",
		[DBOPS_FORMAT_JSON] = "json",
	};

	if (name != NULL && out != NULL) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strcmp(name, names[i]) == 0) {
				*out = (enum dbops_output_format)i;
				return 0;
			}
		}
	}
	errno = EINVAL;
	return -1;
}

struct dbops_output *dbops_output_new(FILE *out, enum dbops_output_format fmt)
{
	struct dbops_output *w;

	if (out == NULL || (unsigned)fmt > DBOPS_FORMAT_JSON) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	w->out = out;
	w->fmt = fmt;
	return w;
}

/*
 * Renders what a format needs of column c's name into the arena: table
 * keeps the header cells as row 0 of the cells (so finish prints them like
 * any row), json each key with its colon.
 */
static int prepare_column(struct dbops_output *w, struct column *col)
{
	size_t start = w->arena.len;
	struct cell *cell;

	switch (w->fmt) {
	case DBOPS_FORMAT_TABLE:
		if (cells_reserve(w, w->ncols + 1) != 0)
			return -1;
		cell = &w->cells[w->ncols];
		cell->width =
			table_escape(&w->arena, col->name, strlen(col->name));
		cell->len = w->arena.len - start;
		col->width = cell->width;
		break;
	case DBOPS_FORMAT_JSON:
		json_string(&w->arena, col->name, strlen(col->name));
		buf_putc(&w->arena, ':');
		col->key_off = start;
		col->key_len = w->arena.len - start;
		break;
	case DBOPS_FORMAT_CSV:
	case DBOPS_FORMAT_TSV:
		break;
	}
	if (w->arena.nomem) {
		buf_truncate(&w->arena, start);
		return -1;
	}
	return 0;
}

int dbops_output_add_column(struct dbops_output *w, const char *name,
			    enum dbops_column_kind kind)
{
	struct column *col;

	if (w == NULL || name == NULL || (unsigned)kind > DBOPS_COLUMN_BINARY ||
	    w->nrows > 0 || w->finished) {
		errno = EINVAL;
		return -1;
	}
	if (w->ncols == w->colcap) {
		size_t cap = w->colcap ? 2 * w->colcap : 8;

		col = realloc(w->cols, cap * sizeof(*col));
		if (col == NULL) {
			errno = ENOMEM;
			return -1;
		}
		w->cols = col;
		w->colcap = cap;
	}
	col = &w->cols[w->ncols];
	col->name = strdup(name);
	if (col->name == NULL) {
		errno = ENOMEM;
		return -1;
	}
	col->kind = kind;
	if (prepare_column(w, col) != 0) {
		free(col->name);
		errno = ENOMEM;
		return -1;
	}
	w->ncols++;
	return 0;
}

int dbops_output_row(struct dbops_output *w, const struct dbops_value *values)
{
	if (row_begin(w, values) != 0)
		return -1;
	for (size_t c = 0; c < w->ncols; c++)
		row_value(w, c, values[c].data, values[c].len);
	return row_end(w);
}

int dbops_output_row_strings(struct dbops_output *w, const char *const *values)
{
	if (row_begin(w, values) != 0)
		return -1;
	for (size_t c = 0; c < w->ncols; c++)
		row_value(w, c, values[c], values[c] ? strlen(values[c]) : 0);
	return row_end(w);
}

int dbops_output_finish(struct dbops_output *w)
{
	if (w == NULL || w->finished) {
		errno = EINVAL;
		return -1;
	}
	w->finished = true;
	w->line.len = 0;
	if (w->error == 0) {
		switch (w->fmt) {
		case DBOPS_FORMAT_TABLE:
			if (table_write(w) != 0)
				return -1;
			break;
		case DBOPS_FORMAT_CSV:
		case DBOPS_FORMAT_TSV:
			if (w->nrows == 0 && w->ncols > 0) {
				render_header(w);
				if (flush_line(w) != 0)
					return -1;
			}
			break;
		case DBOPS_FORMAT_JSON:
			buf_puts(&w->line, w->nrows > 0 ? "\n]\n" : "[]\n");
			if (flush_line(w) != 0)
				return -1;
			break;
		}
	}
	errno = 0;
	if (fflush(w->out) != 0 && w->error == 0)
		w->error = errno ? errno : EIO;
	if (ferror(w->out) && w->error == 0)
		w->error = EIO;
	if (w->error) {
		errno = w->error;
		return -1;
	}
	return 0;
}

void dbops_output_free(struct dbops_output *w)
{
	if (w == NULL)
		return;
	for (size_t c = 0; c < w->ncols; c++)
		free(w->cols[c].name);
	free(w->cols);
	free(w->cells);
	free(w->line.data);
	free(w->arena.data);
	free(w);
}
