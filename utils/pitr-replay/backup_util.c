/*
 * backup_util.c - the small helpers the base backup modules share: path
 * joining, and the LSN of backup_label and
 * backup_manifest. See backup_util.h.
 */
#include "backup_util.h"

#include <ftw.h>
#include <sys/stat.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"

int pitr_join(char *buf, size_t len, const char *dir, const char *name)
{
	size_t n = strlen(dir);
	int r;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	r = snprintf(buf, len, "%.*s/%s", (int)n, dir, name);
	return r < 0 || (size_t)r >= len ? -1 : 0;
}

int pitr_backup_parse_lsn(const char *s, const char *end, uint64_t *lsn)
{
	uint64_t parts[2] = { 0, 0 };

	for (int i = 0; i < 2; i++) {
		int digits = 0;

		for (; s < end && isxdigit((unsigned char)*s); s++, digits++) {
			int c = (unsigned char)*s;

			parts[i] = parts[i] << 4 | (uint64_t)dbops_hex_digit(c);
		}
		if (digits < 1 || digits > 8)
			return -1;
		if (i == 0) {
			if (s >= end || *s != '/')
				return -1;
			s++;
		}
	}
	if (s != end)
		return -1;
	*lsn = parts[0] << 32 | parts[1];
	return 0;
}

static int remove_below(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

void pitr_empty_dir(const char *dir)
{
	nftw(dir, remove_below, 16, FTW_DEPTH | FTW_PHYS);
}
