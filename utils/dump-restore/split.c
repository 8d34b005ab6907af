/*
 * split.c - a dump cut into statements as the mariadb client cuts it. See
 * split.h for the rules and where we part from the client.
 *
 * Design notes:
 *
 *  1. One state per kind of text: NORMAL (between statements, or in one
 *     outside quotes), QUOTE, LINE_COMMENT, BLOCK_COMMENT and COMMAND (the
 *     rest of a DELIMITER line). Each state skips the bytes it does not
 *     care about and stops only at the few that matter to it: in quotes
 *     the quote, the backslash and the line end, sixteen bytes a round
 *     with SSE2; elsewhere a lookup table, four bytes a round. That is
 *     what makes the long INSERT lines cheap (about 1.5 GB/s).
 *  2. Statement text is copied in runs: "run" marks where the uncopied
 *     text of the current buffer starts; a run is copied when text stops
 *     being kept (a comment, the delimiter, the end of the buffer). So each
 *     byte is copied once, and a statement may span any number of feeds.
 *  3. Some decisions need bytes after the current one: "--" needs the next
 *     two, "/" up to eleven (the sandbox line), a DELIMITER line nine, the
 *     trailer seventeen, the delimiter its length. When a feed ends before
 *     they arrive, the scanner stops in front of the construct, consuming
 *     nothing of it, and the bytes are carried (fewer than LOOKAHEAD) to
 *     the next feed. They are read again from a small buffer holding them
 *     and the head of the next feed; only a prefix of one of the patterns
 *     above is ever carried, so nothing long is read twice. At the end of
 *     the input ("final") no decision waits: what is missing does not
 *     match.
 *  4. Statement start is its own step (at_start()): the client's leading
 *     whitespace skip, the DELIMITER command, "--" without a space, the
 *     sandbox line, the trailer and empty statements are decided there;
 *     from the first kept byte on, in_normal() handles the statement.
 *  5. Checked against the mariadb client 10.11.19, reading what reached
 *     the server from its general log: a mariadb-dump with data, trigger,
 *     event, routines (one under NO_BACKSLASH_ESCAPES) and view, and 150
 *     generated scripts of quotes, comments and DELIMITER changes, split
 *     the same but for the differences split.h lists.
 */
#include "split.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_DELIMITER 15  /* the client's delimiter[16] */
#define LOOKAHEAD     32  /* more than any decision needs, see note 3 */
#define CMD_BYTES     256 /* the client reads a command line into 256 */

static const char SANDBOX[] = "/*!999999\\-";
static const char SANDBOX_M[] = "/*M!999999\\-";
static const char TRAILER[] = "-- Dump completed";
static const char COMMAND[] = "delimiter";
#define COMMAND_LEN (sizeof(COMMAND) - 1)
static const char BOM[] = "\xEF\xBB\xBF";

enum state {
	ST_NORMAL,
	ST_QUOTE,
	ST_LINE_COMMENT,
	ST_BLOCK_COMMENT,
	ST_COMMAND,
};

struct dr_splitter {
	char *buf; /* the statement so far; room for a NUL after it */
	size_t len;
	size_t cap;
	size_t limit;
	enum state state;
	char quote;	 /* ST_QUOTE: the quote that opened */
	bool escape;	 /* ST_QUOTE: the last byte was an escaping backslash */
	bool in_stmt;	 /* statement text pending (maybe not yet copied) */
	bool bol;	 /* only whitespace since the line began */
	bool need_space; /* a comment was dropped inside the statement */
	bool started;	 /* the first byte was seen (BOM check) */
	bool trailer;
	unsigned int modes;
	long line;	/* the line being read */
	long stmt_line; /* where the pending statement starts */
	long open_line; /* where the quote, comment or command opened */
	long err_line;
	int error; /* the first failure, returned again after */
	char delim[MAX_DELIMITER + 1];
	size_t dlen;
	unsigned char normal[256]; /* bytes that stop the NORMAL skip */
	char cmd[CMD_BYTES];	   /* a DELIMITER line's argument part */
	size_t cmdlen;
	char carry[2 * LOOKAHEAD]; /* note 3 */
	size_t ncarry;
};

/* One pass over a buffer. */
struct scan {
	const char *p;
	const char *end;
	const char *run; /* uncopied statement text starts here, or NULL */
	bool final;	 /* no more input after this buffer */
	bool more;	 /* stopped at p until more input comes */
	int (*cb)(void *arg, const char *stmt, size_t len, long line);
	void *arg;
};

enum match { NO, YES, MORE };

/* Bytes that stop the skip in a block comment ('\n' counts lines). */
static const unsigned char stop_block[256] = {
	['*'] = 1, ['/'] = 1, ['\n'] = 1
};
/* NORMAL's, to which each splitter adds its delimiter's first byte. */
static const unsigned char stop_normal[256] = {
	['\''] = 1, ['"'] = 1, ['`'] = 1, ['\\'] = 1,
	['\n'] = 1, ['#'] = 1, ['-'] = 1, ['/'] = 1,
};

/* The client's my_isspace() for its single-byte and UTF-8 sets. */
static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool is_quote(unsigned char c)
{
	return c == '\'' || c == '"' || c == '`';
}

/*
 * Whether the "/" at p opens a plain comment: /\* not followed by "!"
 * or "M!" (a missing byte, at the end of the input, is not "!").
 */
static bool opens_plain_comment(const char *p, const char *end)
{
	if (end - p < 2 || p[1] != '*')
		return false;
	if (end - p > 2 && p[2] == '!')
		return false;
	return !(end - p > 3 && p[2] == 'M' && p[3] == '!');
}

/* The first byte from p on that TBL marks, or END. */
static inline const char *skip(const unsigned char *tbl, const char *p,
			       const char *end)
{
	while (end - p >= 4) {
		if (tbl[(unsigned char)p[0]])
			return p;
		if (tbl[(unsigned char)p[1]])
			return p + 1;
		if (tbl[(unsigned char)p[2]])
			return p + 2;
		if (tbl[(unsigned char)p[3]])
			return p + 3;
		p += 4;
	}
	while (p < end && !tbl[(unsigned char)*p])
		p++;
	return p;
}

/*
 * The first of the bytes A, B, C from p on, or END: the skip in quotes,
 * sixteen bytes a round where SSE2 is there (every x86-64).
 */
static inline const char *skip3(const char *p, const char *end, char a, char b,
				char c)
{
#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b),
		      vc = _mm_set1_epi8(c);

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		int mask = _mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va),
						  _mm_cmpeq_epi8(v, vb)),
				     _mm_cmpeq_epi8(v, vc)));

		if (mask != 0)
			return p + __builtin_ctz((unsigned int)mask);
		p += 16;
	}
#endif
	while (p < end && *p != a && *p != b && *p != c)
		p++;
	return p;
}

/*
 * Whether the N bytes of LIT are at p (ASCII letters in any case when
 * ICASE); MORE when the buffer ends inside a match and more may come.
 */
static enum match match_at(const struct scan *sc, const char *p,
			   const char *lit, size_t n, bool icase)
{
	size_t avail = (size_t)(sc->end - p);
	size_t k = avail < n ? avail : n;

	for (size_t i = 0; i < k; i++) {
		unsigned char a = (unsigned char)p[i];

		if (icase && a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (a != (unsigned char)lit[i])
			return NO;
	}
	if (k < n)
		return sc->final ? NO : MORE;
	return YES;
}

static int fail(struct dr_splitter *s, int err, long line)
{
	s->error = err;
	s->err_line = line;
	return err;
}

static int append(struct dr_splitter *s, const char *p, size_t n)
{
	if (n > s->limit || s->len > s->limit - n)
		return fail(s, DR_SPLIT_TOO_LONG, s->stmt_line);
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *b;

		while (cap < s->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? s->len + n + 1 : cap * 2;
		b = realloc(s->buf, cap);
		if (b == NULL)
			return fail(s, DR_SPLIT_NOMEM, s->stmt_line);
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

/* Copies the run up to UPTO; text is not kept from there on. */
static int flush(struct dr_splitter *s, struct scan *sc, const char *upto)
{
	const char *run = sc->run;

	sc->run = NULL;
	if (run != NULL && upto > run)
		return append(s, run, (size_t)(upto - run));
	return 0;
}

/* The space that stands for a dropped comment, before the byte at p. */
static int space_if_needed(struct dr_splitter *s)
{
	if (!s->need_space)
		return 0;
	s->need_space = false;
	/* The run starts at the byte after the comment: nothing is lost. */
	return append(s, " ", 1);
}

/*
 * Drops the statement's trailing whitespace and control bytes, as the
 * client's remove_cntrl() does before sending.
 */
static void trim(struct dr_splitter *s)
{
	while (s->len > 0 && ((unsigned char)s->buf[s->len - 1] <= ' ' ||
			      s->buf[s->len - 1] == 0x7f))
		s->len--;
}

static void set_normal_table(struct dr_splitter *s)
{
	memcpy(s->normal, stop_normal, sizeof(s->normal));
	s->normal[(unsigned char)s->delim[0]] = 1;
}

/*
 * The argument of a DELIMITER line, read as the client's get_arg() reads
 * it: a word up to whitespace, or a quoted string where a doubled quote is
 * a quote. The client keeps the first 15 bytes; so do we.
 */
static int set_delimiter(struct dr_splitter *s)
{
	const char *a = s->cmd, *e = s->cmd + s->cmdlen;
	char d[MAX_DELIMITER + 1];
	size_t n = 0;
	char q = 0;
	bool closed = true;

	while (a < e && is_space((unsigned char)*a))
		a++;
	if (a < e && is_quote((unsigned char)*a)) {
		q = *a++;
		closed = false;
	}
	for (; a < e; a++) {
		if (q != 0 && *a == q) {
			if (a + 1 < e && a[1] == q) {
				a++;
			} else {
				closed = true;
				break;
			}
		} else if (q == 0 && is_space((unsigned char)*a)) {
			break;
		} else if (*a == '\\') {
			return fail(s, DR_SPLIT_BAD_DELIMITER, s->open_line);
		}
		if (n < MAX_DELIMITER)
			d[n++] = *a;
	}
	if (!closed || n == 0)
		return fail(s, DR_SPLIT_BAD_DELIMITER, s->open_line);
	memcpy(s->delim, d, n);
	s->delim[n] = '\0';
	s->dlen = n;
	set_normal_table(s);
	return 0;
}

/*
 * Whether the statement is a DELIMITER command after all ("SELECT 1;
 * DELIMITER ;;" on one line): the client checks each statement so.
 */
static bool is_delimiter_statement(const struct dr_splitter *s)
{
	if (s->len < COMMAND_LEN ||
	    (s->len > COMMAND_LEN &&
	     !is_space((unsigned char)s->buf[COMMAND_LEN])))
		return false;
	for (size_t i = 0; i < COMMAND_LEN; i++)
		if ((s->buf[i] | 0x20) != COMMAND[i])
			return false;
	return true;
}

static int emit(struct dr_splitter *s, struct scan *sc)
{
	int rc = 0;

	trim(s);
	if (s->len > 0 && (s->buf[0] | 0x20) == 'd' &&
	    is_delimiter_statement(s)) {
		size_t n = s->len - COMMAND_LEN;

		if (n > sizeof(s->cmd) - 1)
			n = sizeof(s->cmd) - 1;
		memcpy(s->cmd, s->buf + COMMAND_LEN, n);
		s->cmdlen = n;
		s->open_line = s->stmt_line;
		s->len = 0;
		s->in_stmt = false;
		s->need_space = false;
		return set_delimiter(s);
	}
	if (s->len > 0) {
		s->buf[s->len] = '\0';
		rc = sc->cb(sc->arg, s->buf, s->len, s->stmt_line);
	}
	s->len = 0;
	s->in_stmt = false;
	s->need_space = false;
	return rc;
}

/* ---- the states --------------------------------------------------------- */

/* NORMAL with no statement text pending: see note 4. */
static int at_start(struct dr_splitter *s, struct scan *sc)
{
	const char *p = sc->p;
	enum match m;
	unsigned char c;

	if (!s->started) {
		m = match_at(sc, p, BOM, 3, false);
		if (m == MORE) {
			sc->more = true;
			return 0;
		}
		s->started = true;
		if (m == YES)
			p += 3;
	}
	for (; p < sc->end; p++) {
		c = (unsigned char)*p;
		if (c == '\n') {
			s->line++;
			s->bol = true;
		} else if (!is_space(c)) {
			break;
		}
	}
	sc->p = p;
	if (p == sc->end)
		return 0;
	c = (unsigned char)*p;

	/* The client looks for a command line before anything else. */
	if (s->bol && (c | 0x20) == 'd') {
		m = match_at(sc, p, COMMAND, COMMAND_LEN, true);
		if (m == YES && p + COMMAND_LEN == sc->end)
			m = sc->final ? YES : MORE;
		else if (m == YES && !is_space((unsigned char)p[COMMAND_LEN]))
			m = NO;
		if (m == MORE) {
			sc->more = true;
			return 0;
		}
		if (m == YES) {
			s->state = ST_COMMAND;
			s->cmdlen = 0;
			s->open_line = s->line;
			s->bol = false;
			sc->p = p + COMMAND_LEN;
			return 0;
		}
	}
	if (c == (unsigned char)s->delim[0]) {
		m = match_at(sc, p, s->delim, s->dlen, false);
		if (m == MORE) {
			sc->more = true;
			return 0;
		}
		if (m == YES) { /* an empty statement */
			s->bol = false;
			sc->p = p + s->dlen;
			return 0;
		}
	}
	if (c == '#') {
		s->state = ST_LINE_COMMENT;
		s->bol = false;
		sc->p = p + 1;
		return 0;
	}
	if (c == '-') {
		m = match_at(sc, p, "--", 2, false);
		if (m == YES)
			m = match_at(sc, p, TRAILER, sizeof(TRAILER) - 1,
				     false);
		else if (m == NO)
			goto begin;
		if (m == MORE) {
			sc->more = true;
			return 0;
		}
		if (m == YES)
			s->trailer = true;
		s->state = ST_LINE_COMMENT;
		s->bol = false;
		sc->p = p + 2;
		return 0;
	}
	if (c == '/') {
		enum match a =
			match_at(sc, p, SANDBOX, sizeof(SANDBOX) - 1, false);
		enum match b = match_at(sc, p, SANDBOX_M, sizeof(SANDBOX_M) - 1,
					false);

		if (a == MORE || b == MORE) {
			sc->more = true;
			return 0;
		}
		/* Not waiting: the bytes that tell a plain comment from an
		 * executable one are there, or the input ends. */
		if (a == YES || b == YES || opens_plain_comment(p, sc->end)) {
			/* The sandbox line is dropped like a comment. */
			s->state = ST_BLOCK_COMMENT;
			s->open_line = s->line;
			s->bol = false;
			sc->p = p + 2;
			return 0;
		}
	}
begin:
	s->in_stmt = true;
	s->stmt_line = s->line;
	s->trailer = false;
	s->bol = false;
	sc->run = p;
	return 0;
}

/*
 * Whether the "--" at P opens a line comment: the client wants white space
 * or the end of the input after it. MORE while that byte is still to come.
 */
static enum match dash_comment(const struct scan *sc, const char *p)
{
	enum match m = match_at(sc, p, "--", 2, false);

	if (m == YES && p + 2 == sc->end)
		return sc->final ? YES : MORE;
	if (m == YES && !is_space((unsigned char)p[2]))
		return NO;
	return m;
}

/*
 * Whether the "/" at P needs the bytes after the end of the input to tell
 * a comment ("/\*") from an executable one ("/\*!", "/\*M!") or text.
 */
static bool slash_needs_more(const struct scan *sc, const char *p)
{
	ptrdiff_t left = sc->end - p;

	return !sc->final && (left < 2 || (p[1] == '*' && left < 4 &&
					   (left == 2 || p[2] == 'M')));
}

/* NORMAL inside a statement. */
static int in_normal(struct dr_splitter *s, struct scan *sc)
{
	const unsigned char *tbl = s->normal;
	const char *p = sc->p, *end = sc->end;
	enum match m;
	int opener; /* the length of "#" or "--" */
	int rc;

	if (s->need_space) {
		unsigned char c = (unsigned char)*p;

		if (is_space(c))
			s->need_space = false;
		else if (!tbl[c] && (rc = space_if_needed(s)) != 0)
			return rc;
	}
	for (;;) {
		unsigned char c;

		p = skip(tbl, p, end);
		if (p == end)
			break;
		c = (unsigned char)*p;
		if (c == '\n') {
			s->line++;
			s->need_space = false;
			p++;
			continue;
		}
		if (c == '\\') {
			/* The client's command prefix: it and the next byte
			 * are kept, neither read as anything else. */
			if (p + 1 == end && !sc->final) {
				sc->more = true;
				break;
			}
			if (p + 1 < end && p[1] == '\n')
				s->line++;
			p += p + 1 < end ? 2 : 1;
			if (s->need_space) {
				/* The client puts no space before it but keeps
				 * one due for the next byte: decide that at
				 * the top again. */
				if ((rc = flush(s, sc, p)) != 0)
					return rc;
				sc->run = p;
				sc->p = p;
				return 0;
			}
			continue;
		}
		if (c == (unsigned char)s->delim[0]) {
			m = match_at(sc, p, s->delim, s->dlen, false);
			if (m == MORE) {
				sc->more = true;
				break;
			}
			if (m == YES) {
				if ((rc = flush(s, sc, p)) != 0)
					return rc;
				sc->p = p + s->dlen;
				return emit(s, sc);
			}
		}
		if (c == '#') {
			opener = 1;
			goto line_comment;
		}
		if (c == '-') {
			m = dash_comment(sc, p);
			if (m == MORE) {
				sc->more = true;
				break;
			}
			if (m == YES) {
				opener = 2;
				goto line_comment;
			}
		} else if (c == '/') {
			if (slash_needs_more(sc, p)) {
				sc->more = true;
				break;
			}
			if (opens_plain_comment(p, end)) {
				if ((rc = flush(s, sc, p)) != 0)
					return rc;
				s->state = ST_BLOCK_COMMENT;
				s->open_line = s->line;
				sc->p = p + 2;
				return 0;
			}
		} else if (is_quote(c)) {
			if ((rc = space_if_needed(s)) != 0)
				return rc;
			s->state = ST_QUOTE;
			s->quote = (char)c;
			s->open_line = s->line;
			sc->p = p + 1;
			return 0;
		}
		/* Text after all: "-", "/", /\*!, the delimiter's first
		 * byte. */
		if ((rc = space_if_needed(s)) != 0)
			return rc;
		p++;
	}
	sc->p = p;
	return 0;
line_comment:
	if ((rc = flush(s, sc, p)) != 0)
		return rc;
	s->need_space = false;
	s->state = ST_LINE_COMMENT;
	sc->p = p + opener;
	return 0;
}

static int in_quote(struct dr_splitter *s, struct scan *sc)
{
	const char *p = sc->p, *end = sc->end;
	bool esc;

	if (s->escape) {
		if (*p == '\n')
			s->line++;
		p++;
		s->escape = false;
	}
	if (s->quote == '\'')
		esc = !(s->modes & DR_SPLIT_NO_BACKSLASH_ESCAPES);
	else if (s->quote == '"')
		esc = !(s->modes &
			(DR_SPLIT_NO_BACKSLASH_ESCAPES | DR_SPLIT_ANSI_QUOTES));
	else
		esc = false;
	for (;;) {
		/* In backticks the backslash is found and passed over. */
		p = skip3(p, end, s->quote, '\\', '\n');
		if (p == end)
			break;
		if (*p == '\n') {
			s->line++;
			p++;
		} else if (*p == s->quote) {
			s->state = ST_NORMAL;
			p++;
			break;
		} else if (!esc) { /* a backslash, plain */
			p++;
		} else if (p + 1 == end) {
			s->escape = true;
			p++;
		} else {
			if (p[1] == '\n')
				s->line++;
			p += 2;
		}
	}
	sc->p = p;
	return 0;
}

static int in_line_comment(struct dr_splitter *s, struct scan *sc)
{
	const char *q = memchr(sc->p, '\n', (size_t)(sc->end - sc->p));

	if (q == NULL) {
		sc->p = sc->end;
		return 0;
	}
	/* The line end is the statement's, or whitespace between them. */
	s->state = ST_NORMAL;
	sc->p = q;
	if (s->in_stmt)
		sc->run = q;
	return 0;
}

/*
 * To the next star-slash. As in the client, a slash-star inside does not
 * nest but takes its star along, so "/" "*" "/" does not close.
 */
static int in_block_comment(struct dr_splitter *s, struct scan *sc)
{
	const char *p = sc->p, *end = sc->end;

	for (;;) {
		p = skip(stop_block, p, end);
		if (p == end)
			break;
		if (*p == '\n') {
			s->line++;
			p++;
		} else if (p + 1 == end && !sc->final) {
			sc->more = true;
			break;
		} else if (p + 1 < end && *p == '/') {
			p += p[1] == '*' ? 2 : 1;
		} else if (p + 1 < end && p[1] == '/') {
			p += 2;
			s->state = ST_NORMAL;
			if (s->in_stmt) {
				s->need_space = true;
				sc->run = p;
			}
			break;
		} else {
			p++;
		}
	}
	sc->p = p;
	return 0;
}

static int in_command(struct dr_splitter *s, struct scan *sc)
{
	const char *q = memchr(sc->p, '\n', (size_t)(sc->end - sc->p));
	size_t n = (size_t)((q ? q : sc->end) - sc->p);

	if (n > sizeof(s->cmd) - 1 - s->cmdlen)
		n = sizeof(s->cmd) - 1 - s->cmdlen;
	memcpy(s->cmd + s->cmdlen, sc->p, n);
	s->cmdlen += n;
	if (q == NULL) {
		sc->p = sc->end;
		return 0;
	}
	sc->p = q;
	s->state = ST_NORMAL;
	return set_delimiter(s);
}

/*
 * Reads BUF until it ends or a decision waits for more input (*USED tells
 * how far). Returns 0, cb's value or a DR_SPLIT_* error.
 */
static int scan(struct dr_splitter *s, const char *buf, size_t len, bool final,
		int (*cb)(void *, const char *, size_t, long), void *arg,
		size_t *used)
{
	struct scan sc = {
		.p = buf, .end = buf + len, .final = final, .cb = cb, .arg = arg
	};
	int rc = 0;

	if (s->in_stmt && (s->state == ST_NORMAL || s->state == ST_QUOTE))
		sc.run = buf;
	while (rc == 0 && !sc.more && sc.p < sc.end) {
		switch (s->state) {
		case ST_NORMAL:
			rc = s->in_stmt ? in_normal(s, &sc) : at_start(s, &sc);
			break;
		case ST_QUOTE:
			rc = in_quote(s, &sc);
			break;
		case ST_LINE_COMMENT:
			rc = in_line_comment(s, &sc);
			break;
		case ST_BLOCK_COMMENT:
			rc = in_block_comment(s, &sc);
			break;
		case ST_COMMAND:
			rc = in_command(s, &sc);
			break;
		}
	}
	if (rc == 0)
		rc = flush(s, &sc, sc.p);
	*used = (size_t)(sc.p - buf);
	if (rc != 0 && s->error == 0)
		s->error = rc; /* cb's value: the splitter stops there */
	return rc;
}

/* ---- the interface ------------------------------------------------------ */

struct dr_splitter *dr_split_new(void)
{
	struct dr_splitter *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->limit = DR_SPLIT_DEFAULT_LIMIT;
	s->line = 1;
	s->bol = true;
	s->delim[0] = ';';
	s->dlen = 1;
	set_normal_table(s);
	return s;
}

void dr_split_free(struct dr_splitter *s)
{
	if (s == NULL)
		return;
	free(s->buf);
	free(s);
}

void dr_split_set_limit(struct dr_splitter *s, size_t max)
{
	s->limit = max;
}

void dr_split_set_modes(struct dr_splitter *s, unsigned int modes)
{
	s->modes = modes;
}

int dr_split_feed(struct dr_splitter *s, const char *buf, size_t len,
		  int (*cb)(void *arg, const char *stmt, size_t len, long line),
		  void *arg)
{
	size_t used;
	int rc;

	if (s->error != 0)
		return s->error;
	if (len == 0)
		return 0;
	if (s->ncarry > 0) {
		/* Note 3: the held bytes and the head of BUF, together. */
		size_t old = s->ncarry;
		size_t take = sizeof(s->carry) - old;
		char tmp[sizeof(s->carry)];

		if (take > len)
			take = len;
		memcpy(tmp, s->carry, old);
		memcpy(tmp + old, buf, take);
		s->ncarry = 0;
		rc = scan(s, tmp, old + take, false, cb, arg, &used);
		if (rc != 0)
			return rc;
		if (used < old) {
			/* Still waiting: then all of BUF fit in tmp. */
			s->ncarry = old + take - used;
			memcpy(s->carry, tmp + used, s->ncarry);
			return 0;
		}
		buf += used - old;
		len -= used - old;
	}
	rc = scan(s, buf, len, false, cb, arg, &used);
	if (rc != 0)
		return rc;
	s->ncarry = len - used; /* < LOOKAHEAD */
	memcpy(s->carry, buf + used, s->ncarry);
	return 0;
}

int dr_split_finish(struct dr_splitter *s,
		    int (*cb)(void *arg, const char *stmt, size_t len,
			      long line),
		    void *arg, long *line)
{
	size_t used;
	int rc = s->error;

	if (rc == 0) {
		char tmp[sizeof(s->carry)];
		size_t n = s->ncarry;

		memcpy(tmp, s->carry, n);
		s->ncarry = 0;
		rc = scan(s, tmp, n, true, cb, arg, &used);
	}
	if (rc != 0) {
		/* keep the first failure */
	} else if (s->state == ST_COMMAND) {
		s->state = ST_NORMAL;
		rc = set_delimiter(s);
	} else if (s->state == ST_QUOTE) {
		rc = fail(s, DR_SPLIT_OPEN_QUOTE, s->open_line);
	} else if (s->state == ST_BLOCK_COMMENT) {
		rc = fail(s, DR_SPLIT_OPEN_COMMENT, s->open_line);
	} else if (s->in_stmt) {
		trim(s);
		if (s->len > 0) {
			s->buf[s->len] = '\0';
			rc = fail(s, DR_SPLIT_UNTERMINATED, s->stmt_line);
		}
	}
	if (line != NULL)
		*line = rc < 0 ? s->err_line : 0;
	return rc;
}

const char *dr_split_pending(const struct dr_splitter *s, size_t *len)
{
	if (s->error != DR_SPLIT_UNTERMINATED || s->buf == NULL) {
		*len = 0;
		return "";
	}
	*len = s->len;
	return s->buf;
}

long dr_split_error_line(const struct dr_splitter *s)
{
	return s->error < 0 ? s->err_line : 0;
}

const char *dr_split_strerror(int err)
{
	switch (err) {
	case DR_SPLIT_NOMEM:
		return "out of memory";
	case DR_SPLIT_TOO_LONG:
		return "statement longer than the limit";
	case DR_SPLIT_BAD_DELIMITER:
		return "DELIMITER needs an argument without backslashes";
	case DR_SPLIT_OPEN_QUOTE:
		return "the dump ends inside a quoted string opened here";
	case DR_SPLIT_OPEN_COMMENT:
		return "the dump ends inside a comment opened here";
	case DR_SPLIT_UNTERMINATED:
		return "the last statement lacks its delimiter";
	}
	return "unknown error";
}

bool dr_split_saw_trailer(const struct dr_splitter *s)
{
	return s->trailer;
}

bool dr_split_dump_header(const char *text, size_t len)
{
	static const char *const heads[] = { "-- MySQL dump ",
					     "-- MariaDB dump " };
	const char *p = text, *end = text + len;

	if (len >= 3 && memcmp(text, BOM, 3) == 0)
		p += 3;
	/* The header is on the first line, or after the sandbox line. */
	for (int lineno = 0; lineno < 4 && p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		for (int h = 0; h < 2; h++)
			if ((size_t)(end - p) >= strlen(heads[h]) &&
			    memcmp(p, heads[h], strlen(heads[h])) == 0)
				return true;
		/* Only the sandbox line comes before it. */
		if (nl == NULL || end - p < 2 || p[0] != '/' || p[1] != '*')
			break;
		p = nl + 1;
	}
	return false;
}

/* Whether the word at P (before END) is WORD, case-insensitively. */
static bool word_is(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - p) < n || strncasecmp(p, word, n) != 0)
		return false;
	return (size_t)(end - p) == n ||
	       !(isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '$');
}

/* P past white space, plain comments and an executable comment's head. */
static const char *skip_noise(const char *p, const char *end)
{
	for (;;) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (end - p >= 3 && p[0] == '/' && p[1] == '*' &&
		    (p[2] == '!' ||
		     (p[2] == 'M' && end - p >= 4 && p[3] == '!'))) {
			p += p[2] == '!' ? 3 : 4;
			while (p < end && isdigit((unsigned char)*p))
				p++;
		} else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
			const char *close = p + 2;

			while (close + 1 < end &&
			       !(close[0] == '*' && close[1] == '/'))
				close++;
			p = close + 1 < end ? close + 2 : end;
		} else {
			return p;
		}
	}
}

enum dr_stmt_kind dr_split_kind(const char *stmt, size_t len)
{
	const char *end = stmt + len, *p = skip_noise(stmt, end), *q;

	if (p == end || word_is(p, end, "SET"))
		return DR_STMT_ANY;
	if (word_is(p, end, "USE"))
		return DR_STMT_USE;
	if (!word_is(p, end, "CREATE") && !word_is(p, end, "DROP"))
		return DR_STMT_OTHER;
	q = p;
	while (q < end && isalpha((unsigned char)*q))
		q++;
	q = skip_noise(q, end);
	if (word_is(q, end, "DATABASE") || word_is(q, end, "SCHEMA"))
		return DR_STMT_ANY;
	return DR_STMT_OTHER;
}
