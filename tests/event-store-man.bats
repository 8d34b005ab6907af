#!/usr/bin/env bats
# event-store(1) says, in STORAGE, which SQL recomputes each dashboard from
# the raw tables, how the rollups are checked against the raw events and
# how they are made again. This file takes those statements out of the man
# page as written and runs them against a real service's tables (hours of
# events from es-load, Redis on), comparing with the service's answers: the
# manual cannot drift from what the service does.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	start_postgres
	start_redis
	ES_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	export ES_PORT ES=http://127.0.0.1:$ES_PORT
	# Event times run 3600 times faster: each second of load is an hour
	# of events, so ranges cut through hour and minute rollups.
	EVENT_STORE_CLOCK_RATE=3600 event-store --listen "127.0.0.1:$ES_PORT" \
		2>"$DBOPS_SERVER_ROOT/es.log" 3>&- &
	echo $! >"$DBOPS_SERVER_ROOT/es.pid"
	until_ok 100 curl -sf -o /dev/null "$ES/health" || {
		cat "$DBOPS_SERVER_ROOT/es.log" >&2
		return 1
	}
	"$DBOPS_BUILD/tests/es-load" -q --url "$ES" --connections 8 --seconds 3 \
		--seed 18 >"$DBOPS_SERVER_ROOT/load.out" || {
		cat "$DBOPS_SERVER_ROOT/load.out" >&2
		return 1
	}
	man_sql "$DBOPS_SERVER_ROOT/sql"
}

teardown_file() {
	load lib/helpers
	local pid
	pid=$(cat "$DBOPS_SERVER_ROOT/es.pid" 2>/dev/null) || true
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do process_gone "$pid" && break; sleep 0.1; done
	fi
	stop_servers
}

setup() {
	load lib/helpers
	S=$DBOPS_SERVER_ROOT/sql
}

# until_ok TRIES CMD...: CMD until it succeeds, TRIES times 0.1 s apart.
until_ok() {
	local n=$1
	shift
	for _ in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# man_sql DIR: each SQL block of the man page's literal displays into
# DIR/N.sql, mdoc's escapes undone; DIR/list names them with their first
# line.
man_sql() {
	local man=$DBOPS_TOP/man/event-store.1
	mkdir -p "$1"
	if [ "${DBOPS_INSTALLED:-0}" = 1 ]; then
		man=$1/event-store.1
		zcat /usr/share/man/man1/event-store.1.gz >"$man"
	fi
	awk -v dir="$1" '
		/^\.Bd -literal/ { inb = 1; buf = ""; next }
		/^\.Ed/ {
			if (inb && buf ~ /^(SELECT|WITH|BEGIN|SET)/) {
				n++
				gsub(/\\e/, "\\", buf)
				gsub(/\\\(dq/, "\"", buf)
				gsub(/\\&/, "", buf)
				printf "%s", buf >(dir "/" n ".sql")
				split(buf, first, "\n")
				print n, first[1] >(dir "/list")
			}
			inb = 0
			next
		}
		inb { buf = buf $0 "\n" }
	' "$man"
}

# block TEXT: the file of the man page's SQL block whose first line starts
# with TEXT (exactly one).
block() {
	local n
	n=$(awk -v t="$1" 'index(substr($0, index($0, " ") + 1), t) == 1 { print $1 }' "$S/list")
	[ "$(wc -w <<<"$n")" = 1 ] || {
		echo "no single SQL block starting \"$1\" in event-store(1): $(cat "$S/list")" >&2
		return 1
	}
	echo "$S/$n.sql"
}

# man_query FILE [sed script]: the man page's session set-up, then FILE's
# statement (edited by the sed script), rows as a|b|c.
man_query() {
	local setup
	setup=$(block "SET TIME ZONE") || return 1
	cat "$setup" <(sed -e "${2:-}" "$1") | psql -qAtX -v ON_ERROR_STOP=1
}

# as_json: rows count|symbol|earliest|latest|followups as the service's
# objects, one a line.
as_json() {
	awk -F'|' 'NF > 0 {
		e = $3 == "" ? "null" : "\"" $3 "\""
		l = $4 == "" ? "null" : "\"" $4 "\""
		printf "{\"count\":%s,\"symbol\":\"%s\",\"earliest\":%s,\"latest\":%s,\"followups\":%s}\n", $1, $2, e, l, $5
	}'
}

# rebuilds: how many times the service has rebuilt Redis, by its log;
# rebuilt_since N: more than N times.
rebuilds() { grep -c 'rebuilt the aggregates' "$DBOPS_SERVER_ROOT/es.log" || true; }
rebuilt_since() { [ "$(rebuilds)" -gt "$1" ]; }

# The service's answer for PATH, with its status.
answer() {
	local body status
	body=$(mktemp "$DBOPS_SERVER_ROOT/body.XXXXXX")
	status=$(curl -s -o "$body" -w '%{http_code}' "$ES$1")
	printf '%s %s\n' "$status" "$(cat "$body")"
}

@test "event-store(1): the man page holds the six SQL blocks this file runs" {
	run cat "$S/list"
	assert_success
	for t in "SET TIME ZONE" "SELECT count(*) AS count, 'e' AS symbol," \
		"SELECT count(*) AS count, i.symbol," \
		"SELECT coalesce(sum(events), 0) AS count, 'e' AS symbol," \
		"WITH raw AS (" "BEGIN;"; do
		block "$t" >/dev/null
	done
	# The load spans hours of event time, and es-load had every request
	# answered 200.
	assert [ "$(psql -AtX -c "SELECT count(DISTINCT date_trunc('hour', at)) FROM event_store.initial_events")" -ge 3 ]
	grep -q '^errors: 0 ' "$DBOPS_SERVER_ROOT/load.out"
}

@test "event-store(1): its SQL for /dashboard/symbol/<s>, from the raw events and from the hour rollups, is the service's answer" {
	local raw roll s
	raw=$(block "SELECT count(*) AS count, 'e' AS symbol,")
	roll=$(block "SELECT coalesce(sum(events), 0) AS count, 'e' AS symbol,")
	for s in a e i o u b m z; do
		run man_query "$raw" "s/'e'/'$s'/g"
		assert_success
		assert_equal "$(answer "/dashboard/symbol/$s")" "200 $(as_json <<<"$output")"
		run man_query "$roll" "s/'e'/'$s'/g"
		assert_success
		assert_equal "$(answer "/dashboard/symbol/$s")" "200 $(as_json <<<"$output")"
	done
	# The answers came from Redis, not from the same rollups.
	run curl -sf "$ES/metrics"
	assert_line --regexp '^dbops_eventstore_dashboard_source_total\{source="redis"\} [1-9][0-9]*$'
	assert_line 'dbops_eventstore_dashboard_source_total{source="postgresql"} 0'
}

@test "event-store(1): its SQL for /dashboard/range/<lower>/<upper> is the service's answer, edges inside minutes and hours" {
	local q lo hi
	q=$(block "SELECT count(*) AS count, i.symbol,")
	while IFS='|' read -r lo hi; do
		run man_query "$q" "s/'2017-06-28 10:30'/'$lo'/; s/'2017-06-29'/'$hi'/"
		assert_success
		assert_equal "$(answer "/dashboard/range/${lo// /%20}/${hi// /%20}")" \
			"200 [$(as_json <<<"$output" | paste -sd, -)]"
	done < <(psql -qAtX -c "SET TIME ZONE 'UTC'" -c "WITH b AS (SELECT min(at) AS lo, max(at) AS hi FROM event_store.initial_events)
		SELECT to_char(l, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(h, 'YYYY-MM-DD HH24:MI:SS.US') FROM b, LATERAL (VALUES
			(date_trunc('day', lo), date_trunc('day', hi) + interval '1 day'),
			(lo + interval '17 min 33.123456 s', hi - interval '21 min 4.5 s'),
			(date_trunc('hour', lo) + interval '1 hour 30 s', date_trunc('hour', lo) + interval '2 hours 59 min 59.999999 s'),
			(lo + interval '10 s', lo + interval '50 s'),
			(hi, hi)) AS r (l, h)")
}

@test "event-store(1): its check of the rollups finds nothing; its repair makes them again, and Redis rebuilt from them answers the same" {
	local check repair raw s before rebuilds
	check=$(block "WITH raw AS (")
	repair=$(block "BEGIN;")
	raw=$(block "SELECT count(*) AS count, 'e' AS symbol,")
	run man_query "$check"
	assert_success
	assert_output ""
	# A rollup spoilt by hand is found by the check.
	psql -qAtX -c "UPDATE event_store.rollups SET events = events + 1 WHERE (period, bucket, symbol) = (SELECT period, bucket, symbol FROM event_store.rollups WHERE period = 'hour' ORDER BY bucket LIMIT 1)"
	run man_query "$check"
	assert_success
	assert_equal "$(wc -l <<<"$output")" 2
	# The repair, then the rebuild the man page tells.
	run man_query "$repair"
	assert_success
	run man_query "$check"
	assert_output ""
	before=$(curl -sf "$ES/metrics" | sed -n 's/^dbops_eventstore_dashboard_source_total{source="redis"} //p')
	rebuilds=$(rebuilds)
	redis-cli -s "$REDIS_SOCKET" DEL '{event-store}:ready' >/dev/null
	until_ok 100 rebuilt_since "$rebuilds"
	until_ok 50 bash -c "curl -sf '$ES/health' | grep -q '\"redis\":true'"
	for s in a e z; do
		run man_query "$raw" "s/'e'/'$s'/g"
		assert_equal "$(answer "/dashboard/symbol/$s")" "200 $(as_json <<<"$output")"
	done
	run curl -sf "$ES/metrics"
	assert_line "dbops_eventstore_dashboard_source_total{source=\"redis\"} $((before + 3))"
}
