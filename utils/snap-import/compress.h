/*
 * compress.h - compressed snapshot files (.csv.gz, .csv.zst, .csv.xz,
 * .csv.bz2): told by their first bytes, not their names, and decompressed
 * whole into an unlinked temporary file before anything is sent, so that
 * a truncated or damaged file is refused with nothing imported, and the
 * rest of the import (the whole-file type inference, the SHA-256 of the
 * content, COPY) reads plain CSV as for any other file.
 */
#ifndef SNAP_COMPRESS_H
#define SNAP_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"

enum snap_compression {
	SNAP_COMP_NONE,
	SNAP_COMP_GZIP,
	SNAP_COMP_ZSTD,
	SNAP_COMP_XZ,
	SNAP_COMP_BZIP2,
};

/*
 * The compression of a file starting with the N bytes of HEAD (at least
 * 10 when the file has them): gzip 1f 8b, zstd 28 b5 2f fd, xz fd 7z XZ 00,
 * bzip2 BZh1-9 and its block magic. No text file starts so.
 */
enum snap_compression snap_compression_of(const unsigned char *head, size_t n);

/* "gzip", "zstd", "xz", "bzip2"; "none". */
const char *snap_compression_name(enum snap_compression c);

/*
 * Decompress the file at FD (read from offset 0, left open) of compression
 * C into a new unlinked temporary file in $TMPDIR (else /tmp). Returns its
 * descriptor (close-on-exec, at offset 0), or -1 with one line in ERR:
 *
 *	damaged gzip data (bad checksum or truncated)
 *	damaged zstd data: truncated input
 *	could not write the decompressed data to "/tmp": No space left ...
 */
int snap_decompress(int fd, enum snap_compression c, struct dbops_err *err);

/*
 * Whether a snap_decompress() of this thread since the last
 * snap_decompress_clear() failed for want of a temporary file or of room
 * in it ($TMPDIR full, or not writable), not for the data: sync takes
 * that for a passing failure, tried again later, never recorded as the
 * file's.
 */
bool snap_decompress_local_failure(void);
void snap_decompress_clear(void);

/*
 * FD itself when its file is not compressed, else its decompressed copy
 * (FD closed). -1 with one line in ERR, FD closed.
 */
int snap_plain_fd(int fd, struct dbops_err *err);

#endif
