/*
 * cnf.h - MariaDB option files as the clients read them (the mariadb
 * client's mysys and Connector/C follow the same rules): values written so
 * that they read back unchanged, a reader of [group] key=value lines, and
 * `dump-restore inventory --merge`, which makes one fleet inventory of the
 * worlds.cnf files of several hosts.
 *
 * The rules, as the clients apply them to a "key=value" line:
 *  1. Outside quotes, '#' starts a comment; a quote (' or ") opens a quoted
 *     part that ends at the same quote not escaped by a backslash.
 *  2. Spaces around the key and the value are cut; a value whose first and
 *     last characters are the same quote loses both.
 *  3. Then \n \t \r \b \s \" \' \\ are read as newline, tab, CR, backspace,
 *     space, ", ' and \; a backslash before anything else stays.
 * So a value is written double-quoted with \\, \", \n, \t and \r.
 */
#ifndef DR_CNF_H
#define DR_CNF_H

#include <stdio.h>

#include "errbuf.h"

/* Write `KEY="VALUE"` and a newline to F, VALUE escaped as above. */
void dr_cnf_put(FILE *f, const char *key, const char *value);

/*
 * Pure: the value of one option line's text after its "=" (RAW, up to the
 * end of the line, no newline) as the clients read it, into OUT (LEN > 0
 * bytes, cut to fit). Returns OUT.
 */
char *dr_cnf_value(const char *raw, char *out, size_t len);

/*
 * One option line of a file for dr_cnf_read(): GROUP (the name between
 * the brackets, as written), KEY, and VALUE as the clients read it (NULL
 * for an option without "="). LINE counts from 1. Returns 0 to go on, or
 * -1 to stop the reading with ERR set.
 */
typedef int (*dr_cnf_fn)(void *ctx, const char *group, const char *key,
			 const char *value, long line, struct dbops_err *err);

/*
 * Read the option file PATH, calling FN for each option line in a group.
 * An option before any group, a group line without "]" or an !include
 * line (not followed here) is an error naming the line. Returns 0, or -1
 * with ERR set.
 */
int dr_cnf_read(const char *path, dr_cnf_fn fn, void *ctx,
		struct dbops_err *err);

/*
 * dump-restore inventory --merge FILE...: the [client_<world>] groups of
 * every FILE, in natural order of the worlds, on stdout, each value
 * quoted as above. A world in two files (their groups compared as the
 * clients do, without case) is an error naming both files. Returns the
 * exit status (0, or 1 after reporting).
 */
int dr_cnf_merge(char **files, int n);

#endif
