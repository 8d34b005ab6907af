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
	while (len--)
		crc = _mm_crc32_u8(crc, *p++);
	return crc;
}

static bool have_sse42(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
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
