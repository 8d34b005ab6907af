/*
 * split.h - a mysqldump / mariadb-dump text cut into statements the way the
 * mariadb command-line client cuts it (client/mysql.cc, read_and_execute()
 * and add_line()), one statement at a time for mysql_real_query().
 *
 * (In this file's comments /\* and *\/ stand for the comment brackets.)
 *
 * Pure and push-driven: the caller feeds the inflated dump in chunks of any
 * size; a statement may span any number of chunks. Every byte is looked at
 * once and copied once, so the cost is linear in the input.
 *
 *  1. A statement ends at the current delimiter (";" at first) outside
 *     quotes and plain comments. The text handed on excludes the delimiter,
 *     the whitespace before the statement and the whitespace and control
 *     bytes after it (the client's remove_cntrl()); a statement that is
 *     empty once comments are gone is skipped.
 *  2. Quotes: '...', "..." and `...`. Inside ' and " a backslash takes the
 *     next byte with it (\' does not close the string); inside all three a
 *     doubled quote is a literal one, which needs no rule of its own (the
 *     string closes and opens again). Backticks have no escapes.
 *  3. Comments outside quotes are dropped: "#" to the end of the line;
 *     "--" followed by whitespace or the end of the input to the end of the
 *     line ("--" with anything after it when no statement text is pending;
 *     otherwise 1--1 is arithmetic); /\* to the next *\/ (a /\* inside
 *     takes its star along, so /\*\/ does not close). A comment dropped
 *     inside a statement leaves a line end ("#", "--") or a space (when the
 *     next byte is not whitespace) behind, as the client does.
 *  4. Executable comments, /\*! and /\*M! (mysqldump's
 *     /\*!40101 SET ... *\/;), are statement text, sent as they are.
 *     As in the client they do not hide the delimiter: quotes inside them
 *     count, and the delimiter ends the statement even there. mysqldump
 *     never puts the active delimiter inside one: trigger and routine
 *     bodies that hold ";" come between DELIMITER ;; and DELIMITER ;.
 *  5. A line that starts (after whitespace) with the word DELIMITER, in any
 *     case, while no statement text is pending, is a client command: its
 *     argument (a word, or a quoted string) becomes the delimiter, cut to 15
 *     bytes; the line is not sent.
 *  6. MariaDB's sandbox-mode line, /\*!999999\- enable the sandbox mode *\/
 *     or the same with /\*M!, the first line of dumps from 10.5.25, 10.6.18,
 *     10.11.8 on, is a client command too: dropped when no statement text is
 *     pending.
 *  7. A UTF-8 byte order mark at the very start is skipped.
 *
 * Each statement comes with the 1-based number of the line ('\n' counted)
 * holding its first byte.
 *
 * Where this module parts from the client, on purpose: other client
 * commands ("use db" without a delimiter, "source", "\g" ...) are not run
 * but sent as SQL (mysqldump writes "USE `db`;", which the server runs the
 * same); a backslash outside quotes keeps the next byte with it, as the
 * client does for unknown commands; a NUL byte is data (the client refuses
 * it without --binary-mode); a backslash before a line end inside a string
 * is kept (the client mangles it); a DELIMITER argument ends at any
 * whitespace (the client's at a space only); a bad DELIMITER line is an
 * error, not a warning; a statement starting with a comment loses the
 * client's leading space; a final statement without its delimiter is not
 * sent but reported (DR_SPLIT_UNTERMINATED). Nor are the client's slips
 * copied: a plain comment inside an executable one is dropped alone (the
 * client drops the rest of the executable comment too), and a line that
 * starts with "delimiter" inside a statement keeps its line end. Input is
 * read byte by byte, as UTF-8 or any ASCII-compatible single-byte set: a
 * legacy multi-byte set (SJIS, GBK, BIG5) whose trail bytes include 0x5C
 * is not supported.
 *
 * Backslash escapes depend on the session: routines and triggers are dumped
 * inside "SET sql_mode = '<mode at creation>'", which may hold
 * NO_BACKSLASH_ESCAPES or ANSI_QUOTES. The client follows the server status
 * flags after each statement; the caller does the same with
 * dr_split_set_modes(), from its callback (mysqldump's data itself never
 * depends on it: it sets its own session's sql_mode and writes \-escapes).
 */
#ifndef DR_SPLIT_H
#define DR_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

struct dr_splitter;

/* What dr_split_feed() and dr_split_finish() return besides 0. */
enum dr_split_error {
	DR_SPLIT_NOMEM = -1,
	DR_SPLIT_TOO_LONG = -2,	     /* a statement exceeds the limit */
	DR_SPLIT_BAD_DELIMITER = -3, /* DELIMITER without a usable argument */
	DR_SPLIT_OPEN_QUOTE = -4,    /* the input ends inside quotes */
	DR_SPLIT_OPEN_COMMENT = -5,  /* the input ends inside a comment */
	DR_SPLIT_UNTERMINATED = -6, /* the last statement lacks its delimiter */
};

/*
 * Session modes for dr_split_set_modes(), as the server reports them in
 * mysql->server_status: SERVER_STATUS_NO_BACKSLASH_ESCAPES and MariaDB's
 * SERVER_STATUS_ANSI_QUOTES.
 */
#define DR_SPLIT_NO_BACKSLASH_ESCAPES 0x1u
#define DR_SPLIT_ANSI_QUOTES	      0x2u

/* The default for dr_split_set_limit(): the client's own cap, 1 GiB. */
#define DR_SPLIT_DEFAULT_LIMIT ((size_t)1 << 30)

/*
 * A splitter at the start of a dump: delimiter ";", line 1, no modes.
 * Returns NULL when out of memory. Free it with dr_split_free().
 */
struct dr_splitter *dr_split_new(void);

/* Frees s and its buffers; s may be NULL. */
void dr_split_free(struct dr_splitter *s);

/*
 * Statements longer than MAX bytes fail with DR_SPLIT_TOO_LONG instead of
 * growing the buffer further (set it to the server's max_allowed_packet).
 */
void dr_split_set_limit(struct dr_splitter *s, size_t max);

/*
 * The session's modes (DR_SPLIT_* bits) from now on. Callable from the
 * callback: the bytes after the statement just handed on are read with the
 * new modes.
 */
void dr_split_set_modes(struct dr_splitter *s, unsigned int modes);

/*
 * Feeds LEN bytes of the dump (BUF may be NULL when LEN is 0). For each
 * statement completed, calls cb(arg, stmt, len, line): STMT holds LEN
 * bytes followed by a NUL (there may be NULs inside too), valid until cb
 * returns; LINE is where the statement starts. A few bytes at the end of
 * BUF may be held back until the next call shows what they are.
 *
 * Returns 0; cb's value when it returns non-zero (which should be
 * positive), at once; or DR_SPLIT_NOMEM, DR_SPLIT_TOO_LONG or
 * DR_SPLIT_BAD_DELIMITER, with the line in dr_split_error_line(). After a
 * non-zero return the rest of BUF is lost: free the splitter.
 */
int dr_split_feed(struct dr_splitter *s, const char *buf, size_t len,
		  int (*cb)(void *arg, const char *stmt, size_t len, long line),
		  void *arg);

/*
 * The end of the input: reads what dr_split_feed() held back (cb as
 * there). Returns 0 when the input ended between statements; otherwise
 * cb's value or a DR_SPLIT_* error with *LINE (when LINE is not NULL; also
 * dr_split_error_line()) set to where the cause starts:
 *
 *	DR_SPLIT_OPEN_QUOTE	the line where the quote opened
 *	DR_SPLIT_OPEN_COMMENT	the line where the comment opened
 *	DR_SPLIT_UNTERMINATED	the line where the statement starts; its text
 *				is in dr_split_pending(), for a caller that
 *				sends it anyway (the client would)
 *
 * and those of dr_split_feed(). Afterwards only dr_split_pending(),
 * dr_split_error_line(), dr_split_saw_trailer() and dr_split_free() apply.
 */
int dr_split_finish(struct dr_splitter *s,
		    int (*cb)(void *arg, const char *stmt, size_t len,
			      long line),
		    void *arg, long *line);

/*
 * After DR_SPLIT_UNTERMINATED: the statement text (NUL-terminated, *LEN
 * bytes), owned by s. Otherwise "" and 0.
 */
const char *dr_split_pending(const struct dr_splitter *s, size_t *len);

/* The line of the last DR_SPLIT_* error, 0 before any. */
long dr_split_error_line(const struct dr_splitter *s);

/*
 * The error in words, lower case, for "line N: <words>": "out of memory",
 * "statement longer than the limit", "DELIMITER needs an argument without
 * backslashes", "the dump ends inside a quoted string opened here", "the
 * dump ends inside a comment opened here", "the last statement lacks its
 * delimiter"; "unknown error" for other values.
 */
const char *dr_split_strerror(int err);

/*
 * Whether the input held mysqldump's trailer, a "-- Dump completed" comment
 * line, with no statement text after it: false for a dump cut short (and
 * for one made with --compact or --skip-comments, which has none).
 */
bool dr_split_saw_trailer(const struct dr_splitter *s);

/*
 * Pure: whether TEXT (the first LEN bytes of a dump) opens with mysqldump's
 * or mariadb-dump's header comment ("-- MySQL dump 10.13 ..." or "-- MariaDB
 * dump 10.19 ..."), within its first lines (a BOM and the sandbox line may
 * come first). Such a dump ends with "-- Dump completed" unless it was cut
 * short; one made with --skip-comments, --compact or by hand has neither.
 */
bool dr_split_dump_header(const char *text, size_t len);

/* What a statement asks of the session's current database. */
enum dr_stmt_kind {
	DR_STMT_ANY,   /* needs none: SET, CREATE/DROP DATABASE, comments */
	DR_STMT_USE,   /* chooses one: USE */
	DR_STMT_OTHER, /* may need one: everything else */
};

/*
 * Pure: the kind of the statement STMT (LEN bytes, as the splitter gives
 * it), from its first keywords, looking into an executable comment
 * ("/ *!40101 SET ... * /", "/ *M!100101 ...") as the server does.
 */
enum dr_stmt_kind dr_split_kind(const char *stmt, size_t len);

#endif
