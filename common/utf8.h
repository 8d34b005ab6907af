/*
 * utf8.h - UTF-8 as the Unicode standard defines it (table 3-7): no
 * overlong forms, no surrogates, nothing above U+10FFFF. For the writers
 * that must emit valid text (JSON, the Prometheus format) and the lines cut
 * to a width.
 */
#ifndef DBOPS_UTF8_H
#define DBOPS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The length (1 to 4) of the valid UTF-8 sequence at S, of which N > 0
 * bytes are there to read, or 0 when S does not start one (a stray
 * continuation byte, C0, C1, F5 to FF, an overlong form, a surrogate, a
 * sequence cut short).
 */
size_t dbops_utf8_seq_len(const unsigned char *s, size_t n);

/*
 * The terminal columns of the character whose valid sequence of LEN bytes
 * (dbops_utf8_seq_len) is at S: wcwidth() in the C.UTF-8 locale, whatever
 * the process's own: 2 for East Asian wide and fullwidth characters (CJK,
 * most emoji), 0 for combining marks and format characters (U+0301, the
 * zero width joiner U+200D, variation selectors), 1 otherwise, 1 too for a
 * character wcwidth() does not know. A ZWJ sequence therefore counts as
 * the sum of its emoji. Without C.UTF-8, 1 for every character.
 * Thread-safe.
 */
int dbops_utf8_width(const unsigned char *s, size_t len);

/* Whether the N bytes of S are valid UTF-8 throughout (NUL counts as one). */
bool dbops_utf8_valid(const char *s, size_t n);

/*
 * The length of TEXT's first N bytes without a multi-byte character cut at
 * their end: N, or less by the bytes of a started sequence.
 */
size_t dbops_utf8_cut(const char *text, size_t n);

#endif
