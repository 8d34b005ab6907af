/*
 * hex.h - one hexadecimal digit's value, for the parsers that read hex
 * (escapes, LSNs, checksums, uuids).
 */
#ifndef DBOPS_HEX_H
#define DBOPS_HEX_H

/* The value of the hex digit C (0-9, a-f, A-F), or -1 for any other
   character. */
int dbops_hex_digit(int c);

#endif
