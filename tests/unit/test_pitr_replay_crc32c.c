/*
 * test_pitr_replay_crc32c.c - unit tests for utils/pitr-replay/crc32c.c:
 * CRC-32C (Castagnoli) against published check values, the empty input,
 * running updates against one-shot ones, and the hardware path (where the
 * CPU has SSE4.2) against the table-driven one and against a bit-by-bit
 * reference, on buffers of many lengths and alignments.
 */
#include "testutil.h"

#include "../../utils/pitr-replay/crc32c.h"

/* The definition, one bit at a time: nothing shared with the code under test. */
static uint32_t ref_update(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
	}
	return crc;
}

static uint32_t crc_of(const void *data, size_t len)
{
	return crc32c_finish(pitr_crc32c_update(CRC32C_INIT, data, len));
}

static uint32_t portable_crc_of(const void *data, size_t len)
{
	return crc32c_finish(
		pitr_crc32c_update_portable(CRC32C_INIT, data, len));
}

/* Deterministic pseudo-random bytes (xorshift64). */
static void fill_random(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)(x >> 24);
	}
}

/* ---- known values -------------------------------------------------------- */

static void test_crc32c_check_value(void **state)
{
	/* The "check" value of the CRC-32C catalogue entry (iSCSI). */
	assert_int_equal(crc_of("123456789", 9), 0xE3069283u);
	assert_int_equal(portable_crc_of("123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c_finish(ref_update(CRC32C_INIT, "123456789", 9)),
			 0xE3069283u);
}

static void test_crc32c_rfc3720_vectors(void **state)
{
	/* RFC 3720 (iSCSI) appendix B.4. */
	unsigned char buf[32];

	memset(buf, 0, sizeof(buf));
	assert_int_equal(crc_of(buf, 32), 0x8A9136AAu);
	assert_int_equal(portable_crc_of(buf, 32), 0x8A9136AAu);
	memset(buf, 0xFF, sizeof(buf));
	assert_int_equal(crc_of(buf, 32), 0x62A8AB43u);
	assert_int_equal(portable_crc_of(buf, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)i;
	assert_int_equal(crc_of(buf, 32), 0x46DD794Eu);
	assert_int_equal(portable_crc_of(buf, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)(31 - i);
	assert_int_equal(crc_of(buf, 32), 0x113FDB5Cu);
	assert_int_equal(portable_crc_of(buf, 32), 0x113FDB5Cu);
}

static void test_crc32c_short_strings(void **state)
{
	assert_int_equal(crc_of("a", 1), 0xC1D04330u);
	assert_int_equal(crc_of("abc", 3), 0x364B3FB7u);
	assert_int_equal(
		crc_of("The quick brown fox jumps over the lazy dog", 43),
		0x22620404u);
	assert_int_equal(portable_crc_of("a", 1), 0xC1D04330u);
	assert_int_equal(portable_crc_of("abc", 3), 0x364B3FB7u);
}

static void test_crc32c_empty_input(void **state)
{
	/* Nothing in: the running value is untouched, the finished CRC 0. */
	assert_int_equal(crc_of("", 0), 0);
	assert_int_equal(portable_crc_of("", 0), 0);
	assert_int_equal(pitr_crc32c_update(CRC32C_INIT, "x", 0), CRC32C_INIT);
	assert_int_equal(pitr_crc32c_update(0x12345678u, "x", 0), 0x12345678u);
	assert_int_equal(pitr_crc32c_update_portable(0x12345678u, "x", 0),
			 0x12345678u);
	/* A NULL pointer with no length is not read. */
	assert_int_equal(pitr_crc32c_update(0xCAFEBABEu, NULL, 0), 0xCAFEBABEu);
	assert_int_equal(pitr_crc32c_update_portable(0xCAFEBABEu, NULL, 0),
			 0xCAFEBABEu);
}

static void test_crc32c_finish_inverts(void **state)
{
	assert_int_equal(crc32c_finish(0u), 0xFFFFFFFFu);
	assert_int_equal(crc32c_finish(0xFFFFFFFFu), 0u);
	assert_int_equal(crc32c_finish(0x0F0F0F0Fu), 0xF0F0F0F0u);
}

/* ---- incremental and one-shot -------------------------------------------- */

static void test_crc32c_incremental_equals_one_shot(void **state)
{
	unsigned char buf[300];
	uint32_t whole, whole_p;

	fill_random(buf, sizeof(buf), 42);
	whole = crc_of(buf, sizeof(buf));
	whole_p = portable_crc_of(buf, sizeof(buf));
	assert_int_equal(whole, whole_p);
	assert_int_equal(whole, crc32c_finish(ref_update(CRC32C_INIT, buf,
							 sizeof(buf))));
	/* Split in two at every point. */
	for (size_t cut = 0; cut <= sizeof(buf); cut++) {
		uint32_t c = pitr_crc32c_update(CRC32C_INIT, buf, cut);

		c = pitr_crc32c_update(c, buf + cut, sizeof(buf) - cut);
		if (crc32c_finish(c) != whole)
			fail_msg("split at %zu: %08X, one shot %08X", cut,
				 crc32c_finish(c), whole);
		c = pitr_crc32c_update_portable(CRC32C_INIT, buf, cut);
		c = pitr_crc32c_update_portable(c, buf + cut,
						sizeof(buf) - cut);
		assert_int_equal(crc32c_finish(c), whole);
		/* The two paths mix freely: they share the running value. */
		c = pitr_crc32c_update(CRC32C_INIT, buf, cut);
		c = pitr_crc32c_update_portable(c, buf + cut,
						sizeof(buf) - cut);
		assert_int_equal(crc32c_finish(c), whole);
	}
	/* Byte by byte. */
	uint32_t c = CRC32C_INIT;
	for (size_t i = 0; i < sizeof(buf); i++)
		c = pitr_crc32c_update(c, buf + i, 1);
	assert_int_equal(crc32c_finish(c), whole);
}

static void test_crc32c_wal_record_order(void **state)
{
	/*
	 * A WAL record's CRC covers the body first, then the first 20 bytes
	 * of the header: the same as one pass over body||header.
	 */
	unsigned char rec[24 + 40], joined[40 + 20];
	uint32_t c;

	fill_random(rec, sizeof(rec), 7);
	c = pitr_crc32c_update(CRC32C_INIT, rec + 24, 40);
	c = crc32c_finish(pitr_crc32c_update(c, rec, 20));
	memcpy(joined, rec + 24, 40);
	memcpy(joined + 40, rec, 20);
	assert_int_equal(c, crc_of(joined, sizeof(joined)));
	assert_int_equal(c, crc32c_finish(ref_update(CRC32C_INIT, joined,
						     sizeof(joined))));
}

/* ---- the fast path against the table and the definition ----------------- */

static void test_crc32c_paths_agree_all_lengths_and_alignments(void **state)
{
	enum { MAXLEN = 1100, ALIGNS = 16 };
	unsigned char *buf = malloc(MAXLEN + ALIGNS);

	assert_non_null(buf);
	fill_random(buf, MAXLEN + ALIGNS, 0x9E3779B97F4A7C15ULL);
	for (size_t align = 0; align < ALIGNS; align++) {
		for (size_t len = 0; len <= MAXLEN;
		     len += (len < 80 ? 1 : 13)) {
			const unsigned char *p = buf + align;
			uint32_t ref = ref_update(CRC32C_INIT, p, len);
			uint32_t fast = pitr_crc32c_update(CRC32C_INIT, p, len);
			uint32_t table = pitr_crc32c_update_portable(
				CRC32C_INIT, p, len);

			if (fast != ref || table != ref)
				fail_msg(
					"len %zu align %zu: fast %08X table %08X reference %08X",
					len, align, fast, table, ref);
			/* From a running value other than the initial one. */
			fast = pitr_crc32c_update(0x5A5A5A5Au ^ (uint32_t)len,
						  p, len);
			table = pitr_crc32c_update_portable(
				0x5A5A5A5Au ^ (uint32_t)len, p, len);
			assert_int_equal(fast, table);
		}
	}
	free(buf);
}

static void test_crc32c_paths_agree_random_buffers(void **state)
{
	for (uint64_t seed = 1; seed <= 200; seed++) {
		size_t len = (size_t)(seed * 2654435761u % 5000);
		size_t off = (size_t)(seed % 8);
		unsigned char *buf = malloc(len + off + 1);

		assert_non_null(buf);
		fill_random(buf, len + off, seed);
		uint32_t fast = pitr_crc32c_update(CRC32C_INIT, buf + off, len);
		uint32_t table = pitr_crc32c_update_portable(CRC32C_INIT,
							     buf + off, len);
		if (fast != table)
			fail_msg("seed %llu len %zu off %zu: %08X vs %08X",
				 (unsigned long long)seed, len, off, fast,
				 table);
		free(buf);
	}
}

static void test_crc32c_large_buffer(void **state)
{
	/* A whole 1 MB segment's worth, as the reader sees in a long record. */
	size_t len = 1u << 20;
	unsigned char *buf = malloc(len);

	assert_non_null(buf);
	fill_random(buf, len, 99);
	uint32_t ref = ref_update(CRC32C_INIT, buf, len);
	assert_int_equal(pitr_crc32c_update(CRC32C_INIT, buf, len), ref);
	assert_int_equal(pitr_crc32c_update_portable(CRC32C_INIT, buf, len),
			 ref);
	free(buf);
}

/* Many buffers at once give each what it gives alone: short ones (under a
 * word), empty ones, long ones, lanes ending at once and one by one, runs
 * of every count up to and past three. */
static void test_crc32c_update_many_agrees(void **state)
{
	enum { MAXN = 40, MAXLEN = 3000 };
	unsigned char *buf = malloc((size_t)MAXN * MAXLEN);
	const unsigned char *data[MAXN];
	size_t len[MAXN];
	uint32_t crc[MAXN], want[MAXN];
	uint64_t x = 0x9E3779B97F4A7C15ull;

	assert_non_null(buf);
	fill_random(buf, (size_t)MAXN * MAXLEN, 42);
	for (int round = 0; round < 400; round++) {
		size_t n = (size_t)round % MAXN + (round < MAXN ? 0 : 1);

		if (n > MAXN)
			n = MAXN;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Mostly WAL-record sizes, some tiny, some equal. */
			len[i] = round % 5 == 0	  ? 24
				 : round % 7 == 0 ? x % 8
						  : x % MAXLEN;
			data[i] = buf + (size_t)i * MAXLEN +
				  x % 7 % (MAXLEN - len[i] + 1);
			crc[i] = (uint32_t)(x >> 32);
			want[i] = ref_update(crc[i], data[i], len[i]);
		}
		pitr_crc32c_update_many(crc, data, len, n);
		for (size_t i = 0; i < n; i++)
			if (crc[i] != want[i])
				fail_msg(
					"round %d, buffer %zu of %zu (%zu bytes): %08X, expected %08X",
					round, i, n, len[i], crc[i], want[i]);
	}
	pitr_crc32c_update_many(crc, data, len, 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_check_value),
		cmocka_unit_test(test_crc32c_rfc3720_vectors),
		cmocka_unit_test(test_crc32c_short_strings),
		cmocka_unit_test(test_crc32c_empty_input),
		cmocka_unit_test(test_crc32c_finish_inverts),
		cmocka_unit_test(test_crc32c_incremental_equals_one_shot),
		cmocka_unit_test(test_crc32c_wal_record_order),
		cmocka_unit_test(
			test_crc32c_paths_agree_all_lengths_and_alignments),
		cmocka_unit_test(test_crc32c_paths_agree_random_buffers),
		cmocka_unit_test(test_crc32c_large_buffer),
		cmocka_unit_test(test_crc32c_update_many_agrees),
	};

	return cmocka_run_group_tests_name("pitr-replay crc32c", tests, NULL,
					   NULL);
}
