/*
 * definer.c - find a statement's DEFINER clause. See definer.h.
 */
#include "definer.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* How many words of a statement's head are read before giving up. */
#define HEAD_TOKENS 40

struct scan {
	const char *s;
	size_t len, i;
};

/*
 * Skip spaces, comments and the marks of executable comments ("/\*!50013",
 * "/\*M!100100", "*\/"): what the server reads as code is what is left.
 */
static void skip_blank(struct scan *c)
{
	const char *s = c->s;

	while (c->i < c->len) {
		size_t i = c->i, rest = c->len - i;

		if (isspace((unsigned char)s[i])) {
			c->i++;
		} else if (rest >= 3 && s[i] == '/' && s[i + 1] == '*' &&
			   (s[i + 2] == '!' || (rest >= 4 && s[i + 2] == 'M' &&
						s[i + 3] == '!'))) {
			c->i += s[i + 2] == '!' ? 3 : 4;
			while (c->i < c->len && isdigit((unsigned char)s[c->i]))
				c->i++;
		} else if (rest >= 2 && s[i] == '*' && s[i + 1] == '/') {
			c->i += 2;
		} else if (rest >= 2 && s[i] == '/' && s[i + 1] == '*') {
			const char *end = memmem(s + i + 2, rest - 2, "*/", 2);

			c->i = end ? (size_t)(end - s) + 2 : c->len;
		} else if (s[i] == '#' ||
			   (rest >= 3 && s[i] == '-' && s[i + 1] == '-' &&
			    isspace((unsigned char)s[i + 2]))) {
			const char *end = memchr(s + i, '\n', rest);

			c->i = end ? (size_t)(end - s) + 1 : c->len;
		} else {
			return;
		}
	}
}

/* A word ([A-Za-z0-9_$]+): its length, 0 when none starts here. */
static size_t word_len(const struct scan *c)
{
	size_t n = 0;

	while (c->i + n < c->len &&
	       (isalnum((unsigned char)c->s[c->i + n]) ||
		c->s[c->i + n] == '_' || c->s[c->i + n] == '$'))
		n++;
	return n;
}

static bool is_word(const struct scan *c, size_t n, const char *w)
{
	return n == strlen(w) && strncasecmp(c->s + c->i, w, n) == 0;
}

/* A name: `quoted`, 'quoted', "quoted" (doubled quotes inside) or a word.
 * Moves past it; false when there is none. */
static bool skip_name(struct scan *c)
{
	char q = c->i < c->len ? c->s[c->i] : 0;
	size_t n;

	if (q == '`' || q == '\'' || q == '"') {
		for (size_t i = c->i + 1; i < c->len; i++) {
			if (c->s[i] == '\\' && q != '`') {
				i++;
			} else if (c->s[i] == q) {
				if (i + 1 < c->len && c->s[i + 1] == q) {
					i++;
					continue;
				}
				c->i = i + 1;
				return true;
			}
		}
		return false;
	}
	n = word_len(c);
	c->i += n;
	return n > 0;
}

/* After "DEFINER": "= account"; its end in *TO. */
static bool account(struct scan *c, size_t *to)
{
	size_t n;

	skip_blank(c);
	if (c->i >= c->len || c->s[c->i] != '=')
		return false;
	c->i++;
	skip_blank(c);
	n = word_len(c);
	if (is_word(c, n, "CURRENT_USER")) {
		c->i += n;
		*to = c->i;
		skip_blank(c);
		if (c->i + 1 < c->len && c->s[c->i] == '(' &&
		    c->s[c->i + 1] == ')')
			*to = c->i + 2;
		return true;
	}
	if (!skip_name(c))
		return false;
	*to = c->i;
	skip_blank(c);
	if (c->i < c->len && c->s[c->i] == '@') {
		c->i++;
		skip_blank(c);
		if (!skip_name(c))
			return false;
		*to = c->i;
	}
	return true;
}

bool dr_definer_find(const char *stmt, size_t len, size_t *from, size_t *to)
{
	static const char *const objects[] = { "VIEW",	   "PROCEDURE",
					       "FUNCTION", "TRIGGER",
					       "EVENT",	   "PACKAGE",
					       NULL };
	struct scan c = { stmt, len, 0 };
	size_t n;

	skip_blank(&c);
	n = word_len(&c);
	if (!is_word(&c, n, "CREATE") && !is_word(&c, n, "ALTER"))
		return false;
	c.i += n;
	for (int t = 0; t < HEAD_TOKENS; t++) {
		skip_blank(&c);
		if (c.i >= c.len)
			return false;
		n = word_len(&c);
		if (n == 0) {
			/* "=", "(" and the like, or a quoted value. */
			char ch = c.s[c.i];

			if (ch != '`' && ch != '\'' && ch != '"')
				c.i++;
			else if (!skip_name(&c))
				return false;
			continue;
		}
		for (int o = 0; objects[o]; o++)
			if (is_word(&c, n, objects[o]))
				return false;
		if (is_word(&c, n, "DEFINER")) {
			size_t at = c.i;

			c.i += n;
			if (account(&c, to)) {
				*from = at;
				return true;
			}
			continue;
		}
		c.i += n;
	}
	return false;
}
