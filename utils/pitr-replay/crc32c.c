/*
 * crc32c.c - CRC-32C with the SSE4.2 crc32 instruction where the CPU has it
 * (checked once at run time), and a slicing-by-8 table otherwise.
 *
 * No Debian library offers CRC-32C in a form worth a dependency (zlib's is
 * the other polynomial), and WAL checking is bound by this loop: the
 * hardware path does 8 bytes per instruction.
 */
#include "crc32c.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define CRC32C_POLY_REFLECTED 0x82F63B78u

static uint32_t table[8][256];

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t crc = i;

		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (CRC32C_POLY_REFLECTED & -(crc & 1));
		table[0][i] = crc;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			table[k][i] = (table[k - 1][i] >> 8) ^
				      table[0][table[k - 1][i] & 0xFF];
}

static uint32_t update_sb8(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len >= 8) {
		uint32_t lo, hi;

		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^
		      table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^
		      table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t
update_sse42(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t crc64 = crc;

	while (len >= 8) {
		uint64_t word;

		memcpy(&word, p, 8);
		crc64 = _mm_crc32_u64(crc64, word);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)crc64;
	/* The last 0 to 7 bytes in at most three steps, not seven: each
	 * waits for the one before (a record's header sum ends in 4). */
	if (len & 4) {
		uint32_t word;

		memcpy(&word, p, 4);
		crc = _mm_crc32_u32(crc, word);
		p += 4;
	}
	if (len & 2) {
		uint16_t half;

		memcpy(&half, p, 2);
		crc = _mm_crc32_u16(crc, half);
		p += 2;
	}
	if (len & 1)
		crc = _mm_crc32_u8(crc, *p);
	return crc;
}

/* Where a lane of update_many_sse42() is. */
struct lane {
	size_t i; /* which buffer; SIZE_MAX: none */
	const unsigned char *p;
	size_t left;
	uint64_t crc;
};

/* Give lane L the next buffer of 8 bytes or more, summing the shorter
 * ones on the way; false when there is none left. */
__attribute__((target("sse4.2"))) static bool
lane_fill(struct lane *l, uint32_t *crc, const unsigned char *const *data,
	  const size_t *len, size_t n, size_t *next)
{
	while (*next < n) {
		size_t i = (*next)++;

		if (len[i] < 8) {
			crc[i] = update_sse42(crc[i], data[i], len[i]);
			continue;
		}
		l->i = i;
		l->p = data[i];
		l->left = len[i];
		l->crc = crc[i];
		return true;
	}
	l->i = SIZE_MAX;
	return false;
}

/*
 * Three buffers at a time, one crc32 instruction on each in turn: the
 * instruction takes 3 cycles to give its result and can start one a
 * cycle, so a single buffer leaves it idle two cycles in three. A lane
 * whose buffer ends takes the next one.
 */
__attribute__((target("sse4.2"))) static void
update_many_sse42(uint32_t *crc, const unsigned char *const *data,
		  const size_t *len, size_t n)
{
	struct lane l[3];
	size_t next = 0;

	for (int k = 0; k < 3; k++)
		lane_fill(&l[k], crc, data, len, n, &next);
	while (l[0].i != SIZE_MAX && l[1].i != SIZE_MAX && l[2].i != SIZE_MAX) {
		size_t m = l[0].left < l[1].left ? l[0].left : l[1].left;

		m = (m < l[2].left ? m : l[2].left) / 8;
		for (size_t j = 0; j < m; j++) {
			uint64_t w0, w1, w2;

			memcpy(&w0, l[0].p, 8);
			memcpy(&w1, l[1].p, 8);
			memcpy(&w2, l[2].p, 8);
			l[0].crc = _mm_crc32_u64(l[0].crc, w0);
			l[1].crc = _mm_crc32_u64(l[1].crc, w1);
			l[2].crc = _mm_crc32_u64(l[2].crc, w2);
			l[0].p += 8;
			l[1].p += 8;
			l[2].p += 8;
		}
		for (int k = 0; k < 3; k++) {
			l[k].left -= m * 8;
			if (l[k].left >= 8)
				continue;
			crc[l[k].i] = update_sse42((uint32_t)l[k].crc, l[k].p,
						   l[k].left);
			lane_fill(&l[k], crc, data, len, n, &next);
		}
	}
	for (int k = 0; k < 3; k++)
		if (l[k].i != SIZE_MAX)
			crc[l[k].i] = update_sse42((uint32_t)l[k].crc, l[k].p,
						   l[k].left);
	while (next < n) {
		crc[next] = update_sse42(crc[next], data[next], len[next]);
		next++;
	}
}

static bool have_sse42(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
static void update_many_sse42(uint32_t *crc, const unsigned char *const *data,
			      const size_t *len, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crc[i] = update_sb8(crc[i], data[i], len[i]);
}

static uint32_t update_sse42(uint32_t crc, const unsigned char *p, size_t len)
{
	return update_sb8(crc, p, len);
}

static bool have_sse42(void)
{
	return false;
}
#endif

static bool use_sse42;

/* Before main(): the hot path then needs no once-check per call. */
__attribute__((constructor)) static void setup(void)
{
	build_table();
	use_sse42 = have_sse42();
}

uint32_t pitr_crc32c_update(uint32_t crc, const void *data, size_t len)
{
	return use_sse42 ? update_sse42(crc, data, len)
			 : update_sb8(crc, data, len);
}

uint32_t pitr_crc32c_update_portable(uint32_t crc, const void *data, size_t len)
{
	return update_sb8(crc, data, len);
}

void pitr_crc32c_update_many(uint32_t *crc, const unsigned char *const *data,
			     const size_t *len, size_t n)
{
	if (use_sse42) {
		update_many_sse42(crc, data, len, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		crc[i] = update_sb8(crc[i], data[i], len[i]);
}
