#!/usr/bin/env bats
# event-store under the failures the issue names (issue 18): two instances
# on one PostgreSQL and one Redis, kill -9 under load, Redis lost and
# rebuilt, Redis down, PostgreSQL down, SIGTERM under load. The oracle is
# PostgreSQL itself: every event a client saw acknowledged (es-load --acked)
# must be in the raw tables, and every dashboard answer must equal the
# recomputation from the raw tables by plain SQL.

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
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/work.XXXXXX")
	chmod 0755 "$W"
	# A schema and a Redis prefix of its own for each test.
	S=es_t$BATS_TEST_NUMBER
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

# start_es NAME [options]: event-store on a free loopback port, its port in
# PORT_<NAME>, its pid in PID_<NAME>, log in $W/NAME.log; waits for /health.
start_es() {
	local name=$1 port
	shift
	port=$(free_port)
	event-store --listen "127.0.0.1:$port" --schema "$S" \
		--redis-prefix "{$S}:" "$@" >>"$W/$name.log" 2>&1 &
	printf -v "PID_$name" '%s' "$!"
	printf -v "PORT_$name" '%s' "$port"
	PIDS+=("$!")
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
		kill -0 "$!" 2>/dev/null || fail "event-store $name exited: $(cat "$W/$name.log")"
		sleep 0.1
	done
	fail "event-store $name does not answer on $port: $(cat "$W/$name.log")"
}

# load PORT ACKED SECONDS [es-load options]: the client's mix, in the
# background (its pid in LOAD_PID).
load_bg() {
	local port=$1 acked=$2 seconds=$3
	shift 3
	"$DBOPS_BUILD/tests/es-load" --url "http://127.0.0.1:$port" \
		--connections 8 --seconds "$seconds" --acked "$acked" "$@" \
		>"$acked.out" 2>&1 &
	LOAD_PID=$!
	PIDS+=("$!")
}

# acked_all_stored ACKED...: every acknowledged initial and follow-up is in
# the tables; prints the count of acknowledged initials.
acked_all_stored() {
	cat "$@" >"$W/acked.all"
	sql "CREATE TEMP TABLE acked (kind text, uuid uuid, symbol text);
	     CREATE TABLE IF NOT EXISTS public.acked_$S (kind text, uuid uuid, symbol text)" >/dev/null
	awk '{ print $1 "," $2 "," ($3 == "" ? "" : $3) }' "$W/acked.all" |
		psql -qAtX -v ON_ERROR_STOP=1 -c "\\copy public.acked_$S FROM STDIN (FORMAT csv)"
	local missing
	missing=$(sql "SELECT count(*) FROM public.acked_$S a
		WHERE (a.kind = 'initial' AND NOT EXISTS (SELECT 1 FROM $S.initial_events i
			WHERE i.uuid = a.uuid AND i.symbol = a.symbol))
		   OR (a.kind = 'followup' AND NOT EXISTS (SELECT 1 FROM $S.followups f WHERE f.uuid = a.uuid))")
	[ "$missing" = 0 ] || fail "$missing acknowledged events are not in the tables"
	sql "SELECT count(*) FROM public.acked_$S WHERE kind = 'initial'"
}

# The per-symbol dashboard recomputed from the raw tables, all 26 symbols,
# as lines "symbol count followups earliest latest" (null when no event).
recompute_symbols() {
	sql "SELECT l.s, count(i.uuid), count(f.uuid),
		coalesce(to_char(min(i.at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), 'null'),
		coalesce(to_char(max(i.at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), 'null')
	     FROM (SELECT chr(c) AS s FROM generate_series(97, 122) c) l
	     LEFT JOIN $S.initial_events i ON i.symbol = l.s
	     LEFT JOIN $S.followups f ON f.uuid = i.uuid
	     GROUP BY l.s ORDER BY l.s" | tr '|' ' '
}

# The service's answers for all 26 symbols, in the same form.
served_symbols() {
	local port=$1 s
	for s in {a..z}; do
		curl -sf "http://127.0.0.1:$port/dashboard/symbol/$s" |
			jq -r '[.symbol, .count, .followups, (.earliest // "null"), (.latest // "null")] | join(" ")'
	done
}

# symbols_exact PORT: the service's answers equal the recomputation; the
# reconciler may need a moment after a failure, so it is given 20 s.
symbols_exact() {
	local port=$1
	recompute_symbols >"$W/expected"
	for _ in $(seq 1 200); do
		served_symbols "$port" >"$W/served"
		cmp -s "$W/expected" "$W/served" && return 0
		sleep 0.1
	done
	diff "$W/expected" "$W/served" >&2
	fail "the symbol dashboards of port $port differ from the recomputation"
}

# range_exact PORT LOWER UPPER (SQL timestamps, UTC, as the service prints).
range_exact() {
	local port=$1 lower=$2 upper=$3 enc_l enc_u
	sql "SELECT i.symbol, count(*), count(f.uuid),
		to_char(min(i.at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
		to_char(max(i.at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')
	     FROM $S.initial_events i LEFT JOIN $S.followups f USING (uuid)
	     WHERE i.at >= TIMESTAMP '$lower' AT TIME ZONE 'UTC'
	       AND i.at < TIMESTAMP '$upper' AT TIME ZONE 'UTC'
	     GROUP BY i.symbol ORDER BY 1" | tr '|' ' ' >"$W/expected-range"
	enc_l=${lower// /%20}
	enc_u=${upper// /%20}
	curl -sf "http://127.0.0.1:$port/dashboard/range/$enc_l/$enc_u" |
		jq -r '.[] | [.symbol, .count, .followups, .earliest, .latest] | join(" ")' >"$W/served-range"
	diff "$W/expected-range" "$W/served-range" >&2 ||
		fail "range $lower .. $upper of port $port differs from the recomputation"
}

# Bounds inside the stored events, not on minute or hour boundaries.
some_ranges() {
	sql "SELECT to_char(min(at) AT TIME ZONE 'UTC' + (max(at) - min(at)) * f, 'YYYY-MM-DD HH24:MI:SS.US')
	     FROM $S.initial_events, (VALUES (0.1), (0.37), (0.5), (0.91)) v(f) GROUP BY f ORDER BY f"
}

metric() {
	curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}

@test "two instances on one PostgreSQL and one Redis: every acknowledged event stored once, both answer the exact aggregates" {
	start_es a
	start_es b
	load_bg "$PORT_a" "$W/acked-a" 4 --seed 1
	local load_a=$LOAD_PID
	load_bg "$PORT_b" "$W/acked-b" 4 --seed 2
	wait "$LOAD_PID" || fail "es-load b: $(cat "$W/acked-b.out")"
	wait "$load_a" || fail "es-load a: $(cat "$W/acked-a.out")"
	local acked
	acked=$(acked_all_stored "$W/acked-a" "$W/acked-b")
	[ "$acked" -gt 500 ]
	# Nothing stored that was not acknowledged: the counts are equal.
	[ "$(sql "SELECT count(*) FROM $S.initial_events")" = "$acked" ]
	[ "$(sql "SELECT count(*) FROM $S.followups")" = "$(grep -c '^followup ' "$W/acked.all")" ]
	symbols_exact "$PORT_a"
	symbols_exact "$PORT_b"
	local l u
	mapfile -t bounds < <(some_ranges)
	range_exact "$PORT_a" "${bounds[0]}" "${bounds[3]}"
	range_exact "$PORT_b" "${bounds[1]}" "${bounds[2]}"
	range_exact "$PORT_a" "$(date -u +%F)" "$(date -u -d tomorrow +%F)"
}

@test "kill -9 under load, three times, then a restart: every acknowledged event is stored and the dashboards equal the recomputation" {
	local round
	for round in 1 2 3; do
		start_es a
		load_bg "$PORT_a" "$W/acked-$round" 30 --seed "$round"
		sleep "1.$((RANDOM % 9))"
		kill -9 "$PID_a"
		wait "$PID_a" 2>/dev/null || true
		kill "$LOAD_PID" 2>/dev/null || true
		wait "$LOAD_PID" 2>/dev/null || true
	done
	start_es a
	local acked
	acked=$(acked_all_stored "$W"/acked-[123])
	[ "$acked" -gt 100 ]
	symbols_exact "$PORT_a"
	mapfile -t bounds < <(some_ranges)
	range_exact "$PORT_a" "${bounds[0]}" "${bounds[2]}"
	[ "$(metric "$PORT_a" dbops_eventstore_redis_lag_batches)" = 0 ]
}

@test "Redis flushed: the aggregates are rebuilt from PostgreSQL and equal the recomputation" {
	start_es a
	load_bg "$PORT_a" "$W/acked" 2 --seed 3
	wait "$LOAD_PID"
	symbols_exact "$PORT_a"
	redis-cli -s "$REDIS_SOCKET" FLUSHALL >/dev/null
	load_bg "$PORT_a" "$W/acked2" 1 --seed 4
	wait "$LOAD_PID"
	acked_all_stored "$W/acked" "$W/acked2" >/dev/null
	symbols_exact "$PORT_a"
	[ "$(redis-cli -s "$REDIS_SOCKET" EXISTS "{$S}:ready")" = 1 ]
}

@test "Redis down: events are still acknowledged, the symbol dashboard answers from PostgreSQL and says so; Redis back: caught up" {
	start_es a
	load_bg "$PORT_a" "$W/acked" 1 --seed 5
	wait "$LOAD_PID"
	stop_redis_dir "$DBOPS_SERVER_ROOT/redis"
	run -0 curl -sf -X POST -H 'Content-Type: application/json' \
		-d '{"uuid":"5f2d8a54-8b51-4c5e-9f0b-6a3c2d1e0f99","symbol":"q"}' \
		"http://127.0.0.1:$PORT_a/initial"
	[ "$output" = '{"uuid":"5f2d8a54-8b51-4c5e-9f0b-6a3c2d1e0f99","symbol":"q","vowel":false}' ]
	symbols_exact "$PORT_a"
	[ "$(metric "$PORT_a" dbops_eventstore_redis_up)" = 0 ]
	[ "$(metric "$PORT_a" 'dbops_eventstore_dashboard_source_total{source="postgresql"}')" -ge 26 ]
	# Back on the same socket, empty: rebuilt from PostgreSQL.
	rm -rf "$DBOPS_SERVER_ROOT/redis"
	start_redis
	for _ in $(seq 1 100); do
		[ "$(metric "$PORT_a" dbops_eventstore_redis_up)" = 1 ] && break
		sleep 0.1
	done
	[ "$(metric "$PORT_a" dbops_eventstore_redis_up)" = 1 ]
	symbols_exact "$PORT_a"
	[ "$(redis-cli -s "$REDIS_SOCKET" HGET "{$S}:sym:q" events)" -ge 1 ]
}

@test "PostgreSQL refusing connections: a POST answers 503 and nothing is stored; back: 200 again" {
	start_es a
	psql -AtX -v ON_ERROR_STOP=1 -d template1 -c "ALTER DATABASE postgres ALLOW_CONNECTIONS false" \
		-c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		    WHERE datname = 'postgres' AND pid <> pg_backend_pid()" >/dev/null
	run -0 curl -s -o "$W/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d '{"uuid":"0e8e9d4c-1c1f-4d0e-a7a4-3b9e6f2c5d11","symbol":"a"}' \
		"http://127.0.0.1:$PORT_a/initial"
	[ "$output" = 503 ]
	[ "$(cat "$W/body")" = '{"error":"PostgreSQL is unavailable: event not stored"}' ]
	[ "$(metric "$PORT_a" dbops_eventstore_postgresql_up)" = 0 ]
	psql -AtX -d template1 -c "ALTER DATABASE postgres ALLOW_CONNECTIONS true" >/dev/null
	[ "$(sql "SELECT count(*) FROM $S.initial_events")" = 0 ]
	run -0 curl -s -o "$W/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d '{"uuid":"0e8e9d4c-1c1f-4d0e-a7a4-3b9e6f2c5d11","symbol":"a"}' \
		"http://127.0.0.1:$PORT_a/initial"
	[ "$output" = 200 ]
	[ "$(sql "SELECT count(*) FROM $S.initial_events")" = 1 ]
}

@test "SIGTERM under load: every answered event is committed, and the service exits 0" {
	start_es a
	load_bg "$PORT_a" "$W/acked" 30 --seed 6
	sleep 1.5
	kill -TERM "$PID_a"
	local st=0
	wait "$PID_a" || st=$?
	[ "$st" = 0 ] || fail "exit status $st: $(cat "$W/a.log")"
	kill "$LOAD_PID" 2>/dev/null || true
	wait "$LOAD_PID" 2>/dev/null || true
	local acked
	acked=$(acked_all_stored "$W/acked")
	[ "$acked" -gt 10 ]
	[ "$(sql "SELECT count(*) FROM $S.initial_events")" = "$acked" ]
}

@test "a role that may only read and write the tables (no CREATE) starts once they exist, and records events" {
	start_es a
	kill -TERM "$PID_a"
	wait "$PID_a"
	sql "CREATE ROLE app_$S LOGIN;
	     GRANT USAGE ON SCHEMA $S TO app_$S;
	     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA $S TO app_$S;
	     GRANT USAGE ON ALL SEQUENCES IN SCHEMA $S TO app_$S" >/dev/null
	PGUSER=app_$S start_es b
	run -0 curl -sf -X POST -H 'Content-Type: application/json' \
		-d '{"uuid":"7a1c0e52-3b7d-4f8e-9c61-0d2e4b5a6f70","symbol":"u"}' \
		"http://127.0.0.1:$PORT_b/initial"
	[ "$output" = '{"uuid":"7a1c0e52-3b7d-4f8e-9c61-0d2e4b5a6f70","symbol":"u","vowel":true}' ]
	[ "$(sql "SELECT count(*) FROM $S.initial_events")" = 1 ]
	# Without the tables, the same role cannot make them: the reason is
	# PostgreSQL's.
	S=${S}_new
	run -1 --separate-stderr env PGUSER=app_${S%_new} event-store --listen "127.0.0.1:$(free_port)" --schema "$S"
	assert_equal "$stderr" "event-store: error: could not create the schema \"$S\": ERROR:  permission denied for database postgres"
}
