#!/usr/bin/env bats
# event-store's aggregates in Redis (issue 18): the reconciler against a
# real PostgreSQL and a real Redis started here. Each test runs one case of
# the cmocka program test_event_store_reconcile, which links event-store's
# objects (reconcile.c, redisagg.c, deltas.c), makes the service's tables
# and commits batches as the batcher does; the oracle is the SQL
# recomputation of every symbol's aggregate from the raw events. The
# program is built by `make tests`, not by the autopkgtest: skipped there.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	start_postgres
	start_redis
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	PROG=$DBOPS_BUILD/tests/test_event_store_reconcile
	[ -x "$PROG" ] || skip "no $PROG (built by make tests)"
}

# case_passes NAME: run that case of the program on the servers of this
# file (ES_TEST_SERVERS=1: they are scratch ones, it may empty them); it
# passes, and did run.
case_passes() {
	run env ES_TEST_SERVERS=1 ES_TEST="$1" CMOCKA_MESSAGE_OUTPUT=STDOUT "$PROG"
	assert_success
	assert_line --partial "[       OK ] $1"
	assert_line --partial "[  PASSED  ] 1 test(s)."
}

@test "event-store: start_redis serves a unix socket and a loopback port, without persistence" {
	assert_equal "$(redis-cli -s "$REDIS_SOCKET" ping)" PONG
	assert_equal "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping)" PONG
	run redis-cli -s "$REDIS_SOCKET" config get save
	assert_line --index 1 ""
	run redis-cli -s "$REDIS_SOCKET" config get appendonly
	assert_line --index 1 no
	assert_equal "$(stat -c %a "$(dirname "$REDIS_SOCKET")")" 700
	assert_equal "$REDIS_URL" "unix:$REDIS_SOCKET?db=0"
}

@test "event-store: a lost Redis (FLUSHALL) is rebuilt equal to the SQL recomputation" {
	case_passes test_reconcile_rebuilds_lost_redis
}

@test "event-store: a batch applied twice is counted once" {
	case_passes test_reconcile_batch_applied_twice_counts_once
}

@test "event-store: writers with committed, unapplied batches (as after kill -9) are caught up" {
	case_passes test_reconcile_catches_up_writers
}

@test "event-store: a needed batch that was pruned drops ready and forces a rebuild" {
	case_passes test_reconcile_pruned_batch_forces_rebuild
}

@test "event-store: applied batches older than an hour are pruned, the others kept" {
	case_passes test_reconcile_prunes_applied_old_batches
}

@test "event-store: nothing is pruned or rebuilt while another instance holds the rebuild lock" {
	case_passes test_reconcile_old_unapplied_batches_stay
}

@test "event-store: two reconcilers at once, Redis lost twice meanwhile: the aggregates stay exact" {
	case_passes test_reconcile_instances_race
}

@test "event-store: the reconciler fails with the reason when Redis or the tables are missing" {
	case_passes test_reconcile_redis_down_fails
}
