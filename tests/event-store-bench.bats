#!/usr/bin/env bats
# bench/event-store.sh in small runs, so that the benchmark cannot rot: the
# whole of it against a scratch PostgreSQL, Redis and event-store (a second
# of load each, a few thousand events), and the reference's half alone,
# as it runs where event-store is not built. The numbers are not judged
# here (a loaded test machine decides them); the checks the benchmark makes
# are: every acknowledged event stored, every dashboard answer equal to the
# SQL recomputation, and the section's lines.

bats_require_minimum_version 1.5.0

setup() {
	load lib/helpers
}

# The event-store under test: the build tree's, or the installed one.
event_store_bin() {
	if [ "${DBOPS_INSTALLED:-0}" = 1 ]; then
		command -v event-store || echo /usr/bin/event-store
	else
		echo "$DBOPS_BUILD/bin/event-store"
	fi
}

# bench ARGS...: bench/event-store.sh with tiny sizes, ARGS as environment.
bench() {
	env BENCH_ES_SECONDS=1 BENCH_ES_ROUNDS=1 BENCH_ES_CONNECTIONS=8 \
		BENCH_ES_EVENTS=3000 BENCH_ES_FILL_CONNECTIONS=16 \
		BENCH_ES_LATENCY_SECONDS=1 BENCH_ES_DASHBOARD_CONNECTIONS=2 "$@" \
		"$DBOPS_TOP/bench/event-store.sh" "$DBOPS_BUILD"
}

@test "event-store bench: a small run measures both servers and checks every acknowledged event and dashboard" {
	local es
	es=$(event_store_bin)
	[ -x "$es" ] || skip "event-store is not built ($es)"
	run --separate-stderr bench EVENT_STORE="$es"
	assert_success
	assert_line --index 0 "## event-store"
	assert_line --regexp '^\| reference, 8 connections \| initial \| [0-9]+ \| '
	assert_line --regexp '^\| event-store, 8 connections \| initial \| [0-9]+ \| '
	assert_line --regexp '^\| event-store, 8 connections \| symbol \| [0-9]+ \| '
	assert_line --regexp '^event-store vs the reference, 8 connections: [0-9.]+ times the answers 200 per second \(goal >= 100: (met|NOT met)\)$'
	assert_line --regexp '^\| reference, 8 connections, [0-9]+ events \| initial \| [0-9]+ \| '
	assert_line --regexp '^\| event-store, 8 connections, [0-9]+ events \| initial \| [0-9]+ \| '
	assert_line --regexp '^event-store vs the reference, 8 connections, both starting from [0-9]+ events: [0-9.]+ times the answers 200 per second \(goal >= 100: (met|NOT met)\)$'
	assert_line --regexp '^dashboard p99 with [0-9]+ events stored, while ingesting: symbol [0-9]+ µs, range [0-9]+ µs \(goal < 5000 µs: (met|NOT met)\)$'
	assert_line --regexp '^\| dashboards \| symbol \| [1-9][0-9]* \| '
	assert_line --regexp '^\| dashboards \| range \| [1-9][0-9]* \| '
	assert_line --regexp "^After the loads, every /dashboard/symbol answer \(26\) and [0-9]+ /dashboard/range answers .*: equal\. The reference's 27 answers against SQLite: equal\.$"
	# Filled to the events asked for, at least.
	local stored
	stored=$(sed -n 's/^### dashboards with \([0-9]*\) events stored, while ingesting$/\1/p' <<<"$output")
	[ "${stored:-0}" -ge 3000 ] || fail "the section says ${stored:-no} events stored, not 3000 or more"
	[[ $stderr == *"bench/event-store: all "*" events event-store acknowledged are in PostgreSQL"* ]] ||
		fail "no check of event-store's acknowledged events in: $stderr"
	[[ $stderr == *"bench/event-store: the reference: all "*" acknowledged events of (d) are in its SQLite file"* ]] ||
		fail "no check of the reference's acknowledged events of (d) in: $stderr"
	# Both held the same events when (d) began.
	local same
	same=$(sed -n 's/^event-store vs the reference, 8 connections, both starting from \([0-9]*\) events: .*/\1/p' <<<"$output")
	[ "${same:-0}" -ge 3000 ] || fail "(d) ran with ${same:-no} events in both, not 3000 or more"
	[[ $stderr == *"bench/event-store: the reference: all "*" acknowledged events are in its SQLite file"* ]] ||
		fail "no check of the reference's acknowledged events in: $stderr"
}

@test "event-store bench: without event-store the reference's half runs and the section says what is missing" {
	run --separate-stderr bench EVENT_STORE=/nonexistent/event-store
	assert_success
	assert_line --index 0 "## event-store"
	assert_line --regexp '^\| reference, 8 connections \| initial \| [1-9][0-9]* \| '
	assert_line --regexp '^The reference, 8 connections: [0-9.]+ answers 200/s \(runs: [0-9.]+\), [0-9]+ errors\.$'
	assert_line --regexp "^All [1-9][0-9]* acknowledged events are in its SQLite file; its 27 dashboard answers compared with SQLite's recomputation: equal\.$"
	assert_line 'Not measured: event-store is not built ("/nonexistent/event-store" is missing): only the reference was measured.'
	refute_output --partial "event-store vs the reference"
	[[ $stderr == *'bench/event-store: event-store is not built ("/nonexistent/event-store" is missing): only the reference was measured'* ]] ||
		fail "no word of the missing event-store in: $stderr"
}

@test "event-store bench: a size that is not a positive whole number is refused" {
	run --separate-stderr bench BENCH_ES_SECONDS=0
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" 'bench/event-store: error: BENCH_ES_SECONDS must be a positive whole number, not "0"'
	run --separate-stderr bench BENCH_ES_EVENTS=1e6
	assert_failure 1
	assert_equal "$stderr" 'bench/event-store: error: BENCH_ES_EVENTS must be a positive whole number, not "1e6"'
	run --separate-stderr bench BENCH_ES_CONNECTIONS="8 x"
	assert_failure 1
	assert_equal "$stderr" 'bench/event-store: error: BENCH_ES_CONNECTIONS must be a positive whole number, not "x"'
}
