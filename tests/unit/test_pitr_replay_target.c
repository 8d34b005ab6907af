/*
 * test_pitr_replay_target.c - unit tests for the timeline and target
 * helpers of utils/pitr-replay: the timeline recovery_target_timeline=latest
 * chooses (PostgreSQL's findNewestTimeLine(): history files probed upward
 * until one is missing), which timelines have WAL, and the epoch of an xid
 * near a checkpoint's nextXid (FullXidRelativeTo()).
 */
#include "testutil.h"

#include "../../utils/pitr-replay/scan.h"
#include "../../utils/pitr-replay/timeline.h"

#define EPOCH(e) ((uint64_t)(e) << 32)

/* An archive listing with history files for TLIS (N of them) and one
 * segment of each of SEG_TLIS (M of them). */
static void fake_archive(struct wal_archive *arc, uint32_t *tlis, size_t n,
			 struct archive_segment *segs, size_t m)
{
	memset(arc, 0, sizeof(*arc));
	arc->seg_size = 16u << 20;
	arc->history_tlis = tlis;
	arc->nhistories = n;
	arc->segs = segs;
	arc->nsegs = m;
}

static void test_newest_probes_until_a_history_file_is_missing(void **state)
{
	uint32_t all[] = { 2, 3 }, gap[] = { 3 }, later_gap[] = { 2, 4, 5 };
	struct wal_archive arc;

	fake_archive(&arc, all, 2, NULL, 0);
	assert_int_equal(pitr_timeline_newest(&arc, 1), 3);
	assert_int_equal(pitr_timeline_newest(&arc, 2), 3);
	assert_int_equal(pitr_timeline_newest(&arc, 3), 3);
	/* 00000002.history missing: PostgreSQL stops at 1, 3 or not. */
	fake_archive(&arc, gap, 1, NULL, 0);
	assert_int_equal(pitr_timeline_newest(&arc, 1), 1);
	assert_int_equal(pitr_timeline_newest(&arc, 2), 3);
	fake_archive(&arc, later_gap, 3, NULL, 0);
	assert_int_equal(pitr_timeline_newest(&arc, 1), 2);
	assert_int_equal(pitr_timeline_newest(&arc, 3), 5);
	/* None at all: the start. */
	fake_archive(&arc, NULL, 0, NULL, 0);
	assert_int_equal(pitr_timeline_newest(&arc, 1), 1);
	assert_int_equal(pitr_timeline_newest(&arc, 7), 7);
}

static void test_has_wal(void **state)
{
	struct archive_segment segs[2] = { { .tli = 1, .segno = 2 },
					   { .tli = 3, .segno = 5 } };
	struct wal_archive arc;

	fake_archive(&arc, NULL, 0, segs, 2);
	assert_true(pitr_timeline_has_wal(&arc, 1));
	assert_false(pitr_timeline_has_wal(&arc, 2));
	assert_true(pitr_timeline_has_wal(&arc, 3));
}

static void test_single_history(void **state)
{
	struct tl_history h;

	pitr_timeline_single(4, &h);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.e[0].tli, 4);
	assert_true(h.e[0].begin == 0 && h.e[0].end == LSN_INFINITE);
	assert_int_equal(pitr_timeline_file_tli(&h, 0, 16u << 20), 4);
	assert_int_equal(pitr_timeline_file_tli(&h, 1000, 16u << 20), 4);
}

static void test_full_xid_near_next(void **state)
{
	/* Epoch 0: the xid itself, before or after nextXid. */
	assert_true(pitr_full_xid(730, 735) == 735);
	assert_true(pitr_full_xid(730, 600) == 600);
	assert_true(pitr_full_xid(730, 3) == 3);
	/* An xid far above a small nextXid is not of epoch -1. */
	assert_true(pitr_full_xid(730, 4294967000u) == 4294967000u);
	/* Epoch 1, as 003_recovery_targets.pl makes it. */
	assert_true(pitr_full_xid(EPOCH(1) | 726, 726) == (EPOCH(1) | 726));
	assert_true(pitr_full_xid(EPOCH(1) | 726, 700) == (EPOCH(1) | 700));
	/* Just after a wraparound: a running xid from before it is of the
	 * epoch before. */
	assert_true(pitr_full_xid(EPOCH(1) | 100, 4294967000u) ==
		    (EPOCH(0) | 4294967000u));
	/* Just before one: a new xid after it is of the next epoch. */
	assert_true(pitr_full_xid(EPOCH(2) | 4294967000u, 10) ==
		    (EPOCH(3) | 10));
	/* 2^31 either way is the limit. */
	assert_true(pitr_full_xid(EPOCH(5) | 0x80000000u, 0x7FFFFFFFu) ==
		    (EPOCH(5) | 0x7FFFFFFFu));
	assert_true(pitr_full_xid(EPOCH(5) | 0x10, 0x8000000Fu) ==
		    (EPOCH(5) | 0x8000000Fu));
	assert_true(pitr_full_xid(EPOCH(5) | 0x10, 0x80000010u) ==
		    (EPOCH(4) | 0x80000010u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_newest_probes_until_a_history_file_is_missing),
		cmocka_unit_test(test_has_wal),
		cmocka_unit_test(test_single_history),
		cmocka_unit_test(test_full_xid_near_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
