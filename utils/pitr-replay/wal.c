/*
 * wal.c - WAL format helpers: page magic, LSN text, segment names, times.
 */
#include "wal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hex.h"

static const struct {
	int major;
	uint16_t magic;
} magics[] = {
	{ 13, 0xD106 }, { 14, 0xD10D }, { 15, 0xD110 },
	{ 16, 0xD113 }, { 17, 0xD116 },
};

int pitr_wal_major_for_magic(uint16_t magic)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (magics[i].magic == magic)
			return magics[i].major;
	return 0;
}

uint16_t pitr_wal_magic_for_major(int major)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (magics[i].major == major)
			return magics[i].magic;
	return 0;
}

const char *pitr_lsn_format(lsn_t lsn, char *buf)
{
	snprintf(buf, LSN_TEXT, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
	return buf;
}

/* Up to 8 hex digits from *P; advances *P. -1 when there are none. */
static int parse_hex32(const char **p, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0, d;

	while ((d = dbops_hex_digit(**p)) >= 0) {
		if (++n > 8)
			return -1;
		v = v << 4 | (uint32_t)d;
		(*p)++;
	}
	*out = v;
	return n > 0 ? 0 : -1;
}

int pitr_lsn_parse(const char *text, lsn_t *lsn)
{
	uint32_t hi, lo;
	const char *p = text;

	if (parse_hex32(&p, &hi) != 0 || *p++ != '/' ||
	    parse_hex32(&p, &lo) != 0 || *p != '\0')
		return -1;
	*lsn = (lsn_t)hi << 32 | lo;
	return 0;
}

void pitr_wal_segment_name(uint32_t tli, uint64_t segno, uint32_t seg_size,
			   char *buf)
{
	uint64_t per_id = 0x100000000ULL / seg_size;

	snprintf(buf, 25, "%08X%08X%08X", tli, (unsigned)(segno / per_id),
		 (unsigned)(segno % per_id));
}

int pitr_wal_parse_segment_name(const char *name, uint32_t seg_size,
				uint32_t *tli, uint64_t *segno)
{
	uint32_t part[3];

	for (int i = 0; i < 3; i++) {
		uint32_t v = 0;

		for (int k = 0; k < 8; k++) {
			char c = name[i * 8 + k];

			if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
				return -1;
			v = v << 4 | (uint32_t)dbops_hex_digit(c);
		}
		part[i] = v;
	}
	if (part[2] >= 0x100000000ULL / seg_size)
		return -1;
	*tli = part[0];
	*segno = (uint64_t)part[1] * (0x100000000ULL / seg_size) + part[2];
	return 0;
}

bool pitr_wal_valid_seg_size(uint32_t size)
{
	return size >= (1u << 20) && size <= (1u << 30) &&
	       (size & (size - 1)) == 0;
}

const char *pitr_pg_time_format(int64_t pg_us, char *buf)
{
	int64_t frac;
	time_t secs;
	struct tm tm;
	size_t n;

	if (pg_us == INT64_MAX || pg_us == INT64_MIN) {
		snprintf(buf, PG_TIME_TEXT, "%s",
			 pg_us == INT64_MAX ? "infinity" : "-infinity");
		return buf;
	}
	if (pg_us < PG_MIN_TIMESTAMP || pg_us >= PG_END_TIMESTAMP) {
		snprintf(buf, PG_TIME_TEXT, "out-of-range time %" PRId64,
			 pg_us);
		return buf;
	}
	/* Whole seconds first: near the end of the range, microseconds
	 * since 1970 no longer fit in 64 bits. */
	secs = (time_t)(pg_us / 1000000 + PG_EPOCH_UNIX_SECONDS);
	frac = pg_us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	/* Year 0 and before are 1 BC and before: PostgreSQL prints the
	 * year counted back, and " BC" at the end. */
	bool bc = tm.tm_year + 1900 <= 0;
	n = (size_t)snprintf(buf, PG_TIME_TEXT, "%04d-%02d-%02d %02d:%02d:%02d",
			     bc ? 1 - (tm.tm_year + 1900) : tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec);
	if (frac != 0) {
		n += (size_t)snprintf(buf + n, PG_TIME_TEXT - n, ".%06" PRId64,
				      frac);
		while (buf[n - 1] == '0')
			buf[--n] = '\0';
	}
	snprintf(buf + n, PG_TIME_TEXT - n, "+00%s", bc ? " BC" : "");
	return buf;
}
