#!/usr/bin/env bats
# event-store (issue 18): every answer and every error line of the API,
# checked with curl against a service on a real PostgreSQL; the dashboards
# against the SQL recomputation from the raw tables; READY=1, SIGTERM.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	start_postgres
	start_redis
	ES_PORT=$(free_port)
	export ES_PORT ES=http://127.0.0.1:$ES_PORT
	# Event times run 1800 times faster: a few seconds of events span
	# hours, so ranges cut through hour and minute rollups.
	# Its exit status goes to es.status (it is no child of the tests).
	(
		EVENT_STORE_CLOCK_RATE=1800 event-store --listen "127.0.0.1:$ES_PORT" \
			--no-redis --schema es 2>"$DBOPS_SERVER_ROOT/es.log" &
		echo $! >"$DBOPS_SERVER_ROOT/es.pid"
		rc=0
		wait $! || rc=$?
		echo "$rc" >"$DBOPS_SERVER_ROOT/es.status"
	) 3>&- &
	for _ in $(seq 1 50); do [ -s "$DBOPS_SERVER_ROOT/es.pid" ] && break; sleep 0.1; done
	wait_port "$ES_PORT"
}

teardown_file() {
	load lib/helpers
	local pid
	pid=$(cat "$DBOPS_SERVER_ROOT/es.pid" 2>/dev/null) || true
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do [ -e "$DBOPS_SERVER_ROOT/es.status" ] && break; sleep 0.1; done
	fi
	stop_servers
}

setup() {
	load lib/helpers
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/work.XXXXXX")
}

teardown() {
	if [ -n "${ES2_PID:-}" ]; then
		kill -KILL "$ES2_PID" 2>/dev/null || true
		wait "$ES2_PID" 2>/dev/null || true
	fi
	if [ -n "${LISTENER:-}" ]; then
		kill "$LISTENER" 2>/dev/null || true
		wait "$LISTENER" 2>/dev/null || true
	fi
}

# wait_port PORT: until something listens there (10 s).
wait_port() {
	for _ in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/health" && return 0
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

# call [curl args] URL: "STATUS BODY" of the answer.
call() {
	local body status
	body=$(mktemp "$W/body.XXXXXX")
	status=$(curl -s -o "$body" -w '%{http_code}' "$@")
	printf '%s %s\n' "$status" "$(cat "$body")"
}

json() { call -H 'Content-Type: application/json' --data-binary "$1" "$ES$2"; }

uuid() { cat /proc/sys/kernel/random/uuid; }

# The dashboard object of symbol $1 over the initial events matching the
# SQL condition $2, computed from the raw tables.
oracle_object() {
	printf '%s' "format('{\"count\":%s,\"symbol\":\"%s\",\"earliest\":%s,\"latest\":%s,\"followups\":%s}',
		count(i.uuid), $1,
		coalesce('\"' || to_char(min(i.at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '\"', 'null'),
		coalesce('\"' || to_char(max(i.at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '\"', 'null'),
		count(f.uuid))"
}

oracle_symbol() {
	sql "SELECT $(oracle_object "'$1'") FROM es.initial_events i
		LEFT JOIN es.followups f ON f.uuid = i.uuid WHERE i.symbol = '$1'"
}

# oracle_range LOWER UPPER (timestamps PostgreSQL reads, UTC).
oracle_range() {
	sql "SELECT '[' || coalesce(string_agg(o, ',' ORDER BY symbol), '') || ']' FROM (
		SELECT i.symbol, $(oracle_object i.symbol) AS o FROM es.initial_events i
		LEFT JOIN es.followups f ON f.uuid = i.uuid
		WHERE i.at >= '$1+00' AND i.at < '$2+00' GROUP BY i.symbol) s"
}

@test "event-store: --help and --version" {
	run -0 event-store --help
	assert_usage_screen
	assert_output --partial "--listen ADDR:PORT"
	assert_output --partial "--batch-wait MS"
	run -0 event-store --version
	assert_output --partial "$DBOPS_VERSION"
}

@test "event-store: bad options are refused with their line" {
	run -1 --separate-stderr event-store --listen nowhere
	assert_equal "${stderr_lines[0]}" 'event-store: error: invalid value "nowhere" for --listen: use ADDR:PORT (a port from 1 to 65535), such as 127.0.0.1:8480'
	run -1 --separate-stderr event-store --threads 0
	assert_equal "${stderr_lines[0]}" 'event-store: error: invalid value "0" for --threads: use a number from 1 to 1024'
	run -1 --separate-stderr event-store extra
	assert_equal "${stderr_lines[0]}" 'event-store: error: unexpected argument "extra"'
}

@test "event-store: PostgreSQL that cannot be reached fails the start with exit 1" {
	run -1 --separate-stderr event-store --listen "127.0.0.1:$(free_port)" --no-redis -d "host=127.0.0.1 port=1 connect_timeout=2"
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	[[ "${stderr_lines[0]}" == "event-store: error: could not connect to PostgreSQL: "* ]]
}

@test "event-store: an initial event is answered once committed, vowel or not, JSON or form" {
	local u=$(uuid) v=$(uuid)
	run json "{\"uuid\":\"$u\",\"symbol\":\"e\"}" /initial
	assert_output "200 {\"uuid\":\"$u\",\"symbol\":\"e\",\"vowel\":true}"
	assert_equal "$(sql "SELECT symbol, vowel FROM es.initial_events WHERE uuid = '$u'")" "e|t"
	run call -d "symbol=b&uuid=${v^^}&extra=1" "$ES/initial"
	assert_output "200 {\"uuid\":\"$v\",\"symbol\":\"b\",\"vowel\":false}"
	assert_equal "$(sql "SELECT symbol, vowel FROM es.initial_events WHERE uuid = '$v'")" "b|f"
}

@test "event-store: a second initial event with the same uuid is refused and changes nothing" {
	local u=$(uuid)
	run -0 json "{\"uuid\":\"$u\",\"symbol\":\"c\"}" /initial
	local before=$(sql "SELECT sum(events) FROM es.rollups WHERE period = 'hour'")
	run json "{\"uuid\":\"$u\",\"symbol\":\"d\"}" /initial
	assert_output "409 {\"error\":\"uuid $u already has an initial event\"}"
	assert_equal "$(sql "SELECT symbol FROM es.initial_events WHERE uuid = '$u'")" "c"
	assert_equal "$(sql "SELECT sum(events) FROM es.rollups WHERE period = 'hour'")" "$before"
}

@test "event-store: follow-ups: answered with the initial's symbol, unknown ones are not stored, a second is refused" {
	local u=$(uuid) x=$(uuid)
	run -0 json "{\"uuid\":\"$u\",\"symbol\":\"k\"}" /initial
	run json "{\"uuid\":\"${u^^}\"}" /followup
	assert_output "200 {\"uuid\":\"$u\",\"symbol\":\"k\",\"followup\":true}"
	run call -d "uuid=$u" "$ES/followup"
	assert_output "409 {\"error\":\"uuid $u already has a follow-up\"}"
	run json "{\"uuid\":\"$x\"}" /followup
	assert_output "404 {\"error\":\"no initial event with uuid $x\"}"
	assert_equal "$(sql "SELECT count(*) FROM es.followups WHERE uuid IN ('$u', '$x')")" 1
}

@test "event-store: the same initial event three times at once: one stored, two refused" {
	local u=$(uuid)
	for _ in 1 2 3; do
		printf 'url = "%s/initial"\ndata = "uuid=%s&symbol=q"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\nnext\n' "$ES" "$u"
	done | head -n -1 >"$W/three.cfg"
	run curl -s --no-progress-meter --parallel --parallel-immediate -K "$W/three.cfg"
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "200 409 409 "
	assert_equal "$(sql "SELECT count(*) FROM es.initial_events WHERE uuid = '$u'")" 1
}

@test "event-store: bad bodies are refused with their exact error and nothing is stored" {
	local u=$(uuid) n
	n=$(sql "SELECT count(*) FROM es.initial_events")
	run json '{"uuid":' /initial
	assert_output '400 {"error":"malformed JSON body"}'
	run json '["x"]' /initial
	assert_output '400 {"error":"malformed JSON body"}'
	run json "{\"uuid\":\"$u\",\"symbol\":\"a\"} x" /initial
	assert_output '400 {"error":"malformed JSON body"}'
	run call -d 'uuid=%zz' "$ES/initial"
	assert_output '400 {"error":"malformed form body"}'
	run call -H 'Content-Type: text/plain' -d 'x' "$ES/initial"
	assert_output '415 {"error":"unsupported content type \"text/plain\""}'
	run json '{"symbol":"a"}' /initial
	assert_output '400 {"error":"missing field \"uuid\""}'
	run json "{\"uuid\":\"$u\"}" /initial
	assert_output '400 {"error":"missing field \"symbol\""}'
	run json '{"uuid":"not-a-uuid","symbol":"a"}' /initial
	assert_output '400 {"error":"field \"uuid\" is not a UUID"}'
	run json '{"uuid":42}' /followup
	assert_output '400 {"error":"field \"uuid\" is not a UUID"}'
	run json "{\"uuid\":\"$u\",\"symbol\":\"A\"}" /initial
	assert_output '400 {"error":"field \"symbol\" is not one letter a-z"}'
	run json "{\"uuid\":\"$u\",\"symbol\":[\"a\"]}" /initial
	assert_output '400 {"error":"field \"symbol\" is not one letter a-z"}'
	assert_equal "$(sql "SELECT count(*) FROM es.initial_events")" "$n"
}

@test "event-store: a body over --max-body is refused with 413, announced or chunked" {
	head -c 5000 /dev/zero | tr '\0' ' ' >"$W/big"
	run call -H 'Content-Type: application/json' --data-binary "@$W/big" "$ES/initial"
	assert_output '413 {"error":"request body over 4096 bytes"}'
	run call -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$W/big" "$ES/initial"
	assert_output '413 {"error":"request body over 4096 bytes"}'
}

@test "event-store: request headers of 7000 bytes are taken, of 9000 answered 431" {
	local u=$(uuid) v=$(uuid) big
	big=$(head -c 7000 /dev/zero | tr '\0' x)
	run call -H "X-Big: $big" -d "uuid=$u&symbol=a" "$ES/initial"
	assert_output "200 {\"uuid\":\"$u\",\"symbol\":\"a\",\"vowel\":true}"
	big=$(head -c 9000 /dev/zero | tr '\0' x)
	run call -H "X-Big: $big" -d "uuid=$v&symbol=a" "$ES/initial"
	assert_output --regexp '^431 '
	assert_equal "$(sql "SELECT count(*) FROM es.initial_events WHERE uuid IN ('$u', '$v')")" 1
}

@test "event-store: unknown paths and methods, with the Allow header" {
	run call "$ES/nowhere"
	assert_output '404 {"error":"no such path: /nowhere"}'
	run call "$ES/dashboard/range/2017-06-28"
	assert_output '404 {"error":"no such path: /dashboard/range/2017-06-28"}'
	run call -X DELETE "$ES/initial"
	assert_output '405 {"error":"method DELETE not allowed on /initial"}'
	run call -X POST "$ES/dashboard/symbol/a"
	assert_output '405 {"error":"method POST not allowed on /dashboard/symbol/a"}'
	run curl -s -i "$ES/followup"
	assert_line --partial 'HTTP/1.1 405'
	assert_line "Allow: POST"$'\r'
	run curl -s -i -X PUT "$ES/metrics"
	assert_line "Allow: GET, HEAD"$'\r'
}

@test "event-store: bad dashboard requests" {
	run call "$ES/dashboard/symbol/E"
	assert_output '400 {"error":"symbol \"E\" is not one letter a-z"}'
	run call "$ES/dashboard/symbol/ab"
	assert_output '400 {"error":"symbol \"ab\" is not one letter a-z"}'
	run call "$ES/dashboard/symbol/%22"
	assert_output '400 {"error":"symbol \"\"\" is not one letter a-z"}'
	run call "$ES/dashboard/range/2017-02-29/2017-03-01"
	assert_output '400 {"error":"\"2017-02-29\" is not a date or time"}'
	run call "$ES/dashboard/range/2017-03-01/yesterday"
	assert_output '400 {"error":"\"yesterday\" is not a date or time"}'
	run call "$ES/dashboard/range/2017-03-01%2010:00:00.5/2017-03-01T10:00:00.499999"
	assert_output '400 {"error":"range lower bound 2017-03-01 10:00:00.5 is after upper bound 2017-03-01T10:00:00.499999"}'
	run call "$ES/dashboard/range/2017-03-01%2010:00/2017-03-01T10:00:00"
	assert_output '200 []'
}

@test "event-store: a symbol without events" {
	run call "$ES/dashboard/symbol/z"
	assert_output '200 {"count":0,"symbol":"z","earliest":null,"latest":null,"followups":0}'
}

@test "event-store: the dashboards equal the SQL recomputation from the raw events, over hours of events" {
	local i u s chunk letters=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
	# 600 initial events in three runs a second apart (1.5 h of event
	# time), 20 at once, each run followed by the follow-ups of every
	# third of its events.
	for chunk in 1 2 3; do
		: >"$W/load.cfg"
		: >"$W/follow.cfg"
		for i in $(seq 1 200); do
			u=$(uuid)
			s=${letters[RANDOM % 26]}
			printf 'url = "%s/initial"\ndata = "uuid=%s&symbol=%s"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\nnext\n' "$ES" "$u" "$s" >>"$W/load.cfg"
			if [ $((i % 3)) = 0 ]; then
				printf 'url = "%s/followup"\ndata = "uuid=%s"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\nnext\n' "$ES" "$u" >>"$W/follow.cfg"
			fi
		done
		sed -i '$d' "$W/load.cfg"
		sed -i '$d' "$W/follow.cfg"
		run curl -s --no-progress-meter --parallel --parallel-max 20 -K "$W/load.cfg"
		assert_equal "$(sort <<<"$output" | uniq -c | awk '{print $1, $2}')" "200 200"
		run curl -s --no-progress-meter --parallel --parallel-max 20 -K "$W/follow.cfg"
		assert_equal "$(sort <<<"$output" | uniq -c | awk '{print $1, $2}')" "66 200"
		sleep 1
	done
	for s in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
		run call "$ES/dashboard/symbol/$s"
		assert_output "200 $(oracle_symbol "$s")"
	done
	# Ranges: whole days, an event's exact time as a bound, and edges
	# inside minutes and inside hours, either side.
	local lo hi
	while IFS='|' read -r lo hi; do
		run call "$ES/dashboard/range/${lo// /%20}/${hi// /%20}"
		assert_output "200 $(oracle_range "$lo" "$hi")"
	done < <(sql "WITH b AS (SELECT min(at) AS lo, max(at) AS hi FROM es.initial_events),
		r (lo, hi) AS (VALUES
			((SELECT date_trunc('day', lo) FROM b), (SELECT date_trunc('day', hi) + interval '1 day' FROM b)),
			((SELECT lo FROM b), (SELECT hi FROM b)),
			((SELECT lo + interval '17 min 33.123456 s' FROM b), (SELECT hi - interval '21 min 4.5 s' FROM b)),
			((SELECT date_trunc('hour', lo) + interval '1 hour 30 s' FROM b), (SELECT date_trunc('hour', lo) + interval '1 hour 59 min 59.999999 s' FROM b)),
			((SELECT date_trunc('minute', lo) + interval '61 min' FROM b), (SELECT date_trunc('minute', hi) - interval '2 min' FROM b)),
			((SELECT lo + interval '10 s' FROM b), (SELECT lo + interval '50 s' FROM b)),
			((SELECT hi FROM b), (SELECT hi FROM b)))
		SELECT to_char(lo AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), to_char(hi AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM r")
	# The forms of a bound: a date, minutes, seconds, T.
	lo=$(sql "SELECT to_char(min(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM es.initial_events")
	run call "$ES/dashboard/range/$lo/${lo}T23:59"
	assert_output "200 $(oracle_range "$lo" "$lo 23:59")"
	# The rollups are the sums of the raw events, bucket by bucket.
	assert_equal "$(sql "SELECT count(*) FROM (SELECT p.period, date_trunc(p.period, i.at) AS bucket, i.symbol, count(*) AS events, count(f.uuid) AS followups, min(i.at) AS earliest, max(i.at) AS latest FROM es.initial_events i LEFT JOIN es.followups f ON f.uuid = i.uuid CROSS JOIN (VALUES ('minute'), ('hour')) p (period) GROUP BY 1, 2, 3) x FULL JOIN es.rollups r USING (period, bucket, symbol) WHERE (r.events, r.followups, r.earliest, r.latest) IS DISTINCT FROM (x.events, x.followups, x.earliest, x.latest)")" 0
	assert [ "$(sql "SELECT count(DISTINCT date_trunc('hour', at)) FROM es.initial_events")" -ge 2 ]
}

# scans REL: "seq_scan idx_scan" of table es.REL, from the statistics.
scans() { sql "SELECT seq_scan || ' ' || coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE schemaname = 'es' AND relname = '$1'"; }

@test "event-store: its statements read the tables by index only, however they grew since they were planned" {
	local rel u lo before=() after=() i started
	# The service's sessions planned their statements on the first
	# events (the tests above); these come now that the tables grew.
	# Its start's scans (CREATE INDEX) reach the statistics within 10 s.
	started=$(stat -c %Y "$DBOPS_SERVER_ROOT/es.pid")
	while [ $(($(date +%s) - started)) -lt 12 ]; do sleep 0.5; done
	run json "{\"uuid\":\"$(uuid)\",\"symbol\":\"k\"}" /initial
	lo=$(sql "SELECT to_char(min(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM es.initial_events")
	for rel in initial_events followups rollups; do
		before+=("$(scans "$rel")")
	done
	for i in $(seq 1 20); do
		u=$(uuid)
		run json "{\"uuid\":\"$u\",\"symbol\":\"k\"}" /initial
		assert_output --partial "200 "
		run json "{\"uuid\":\"$u\"}" /followup
		assert_output --partial "200 "
	done
	run call "$ES/dashboard/range/${lo// /%20}/2100-01-01"
	assert_output --partial "200 ["
	run call "$ES/dashboard/symbol/k"
	assert_output --partial "200 {"
	# An idle backend sends its statistics within 10 s: wait until every
	# table shows the service's index reads, then no scan may have come.
	for i in $(seq 1 150); do
		after=()
		for rel in initial_events followups rollups; do
			after+=("$(scans "$rel")")
		done
		[ "${after[0]#* }" -gt "${before[0]#* }" ] &&
			[ "${after[1]#* }" -gt "${before[1]#* }" ] &&
			[ "${after[2]#* }" -gt "${before[2]#* }" ] && break
		sleep 0.1
	done
	for i in 0 1 2; do
		assert [ "${after[i]#* }" -gt "${before[i]#* }" ]
		assert_equal "${after[i]%% *}" "${before[i]%% *}"
	done
}

@test "event-store: the batches and the writer's last_seq" {
	local w
	w=$(sql "SELECT max(writer) FROM es.writers")
	assert_equal "$(sql "SELECT last_seq = (SELECT max(seq) FROM es.batches WHERE writer = $w) FROM es.writers WHERE writer = $w")" t
	assert_equal "$(sql "SELECT count(*) = max(seq) FROM es.batches WHERE writer = $w")" t
	# Every batch's deltas add up to the rollups.
	assert_equal "$(sql "SELECT sum(split_part(l, ' ', 2)::bigint) || ' ' || sum(split_part(l, ' ', 3)::bigint) FROM es.batches, regexp_split_to_table(deltas, E'\n') AS l")" \
		"$(sql "SELECT sum(events) || ' ' || sum(followups) FROM es.rollups WHERE period = 'hour'")"
}

@test "event-store: /health and /metrics" {
	run call "$ES/health"
	assert_output '200 {"postgresql":true,"redis":false}'
	run curl -s -i "$ES/metrics"
	assert_line "Content-Type: text/plain; version=0.0.4; charset=utf-8"$'\r'
	assert_line --regexp '^dbops_eventstore_requests_total\{route="initial",status="200"\} [1-9][0-9]*$'
	assert_line --regexp '^dbops_eventstore_requests_total\{route="initial",status="409"\} [1-9][0-9]*$'
	assert_line --regexp '^dbops_eventstore_requests_total\{route="other",status="404"\} [1-9][0-9]*$'
	assert_line --regexp '^dbops_eventstore_request_duration_seconds_count\{route="symbol"\} [1-9][0-9]*$'
	assert_line --regexp '^dbops_eventstore_batch_events_count [1-9][0-9]*$'
	assert_line --regexp '^dbops_eventstore_commit_duration_seconds_count [1-9][0-9]*$'
	assert_line --regexp '^dbops_eventstore_events_total\{kind="initial",result="stored"\} [1-9][0-9]*$'
	assert_line --regexp '^dbops_eventstore_events_total\{kind="followup",result="unknown"\} [1-9][0-9]*$'
	assert_line --regexp '^dbops_eventstore_dashboard_source_total\{source="postgresql"\} [1-9][0-9]*$'
	assert_line 'dbops_eventstore_postgresql_up 1'
	assert_line 'dbops_eventstore_redis_up 0'
	assert_line 'dbops_eventstore_redis_lag_batches 0'
}

@test "event-store: READY=1 once listening, WATCHDOG=1 at half the period, STOPPING=1 and exit 0 on SIGTERM, with every queued event committed and answered" {
	local port=$(free_port) u i
	"$DBOPS_BUILD/tests/notify-listen" "$W/notify" 30 >"$W/notify.out" &
	LISTENER=$!
	for _ in $(seq 1 50); do [ -S "$W/notify" ] && break; sleep 0.1; done
	# A long --batch-wait keeps the events queued when SIGTERM comes.
	NOTIFY_SOCKET=$W/notify WATCHDOG_USEC=400000 event-store --listen "127.0.0.1:$port" --no-redis --schema es --batch-wait 1500 2>"$W/es2.log" &
	ES2_PID=$!
	for _ in $(seq 1 100); do grep -q READY=1 "$W/notify.out" && break; sleep 0.1; done
	run grep '^READY' "$W/notify.out"
	assert_output "READY=1|STATUS=listening on 127.0.0.1:$port"
	# Idle, the batcher still feeds the watchdog: every 0.2 s.
	sleep 1.1
	assert [ "$(grep -c '^WATCHDOG=1$' "$W/notify.out")" -ge 4 ]
	local pids=() rc=0
	for i in 1 2 3 4 5; do
		u=$(uuid)
		echo "$u" >>"$W/uuids"
		curl -s -o "$W/answer.$i" -w '%{http_code}\n' -d "uuid=$u&symbol=s" "http://127.0.0.1:$port/initial" >"$W/status.$i" &
		pids+=($!)
	done
	sleep 0.5
	kill -TERM "$ES2_PID"
	wait "$ES2_PID" || rc=$?
	assert_equal "$rc" 0
	ES2_PID=
	wait "${pids[@]}"
	for i in 1 2 3 4 5; do
		assert_equal "$(cat "$W/status.$i")" 200
	done
	assert_equal "$(sql "SELECT count(*) FROM es.initial_events WHERE uuid IN ($(sed "s/.*/'&'/" "$W/uuids" | paste -sd,))")" 5
	run grep -c STOPPING=1 "$W/notify.out"
	assert_output 1
	run cat "$W/es2.log"
	assert_line --regexp '^event-store: info: stopping: committing 5 queued events$'
}

# start_es2 [options]: a second instance on the same tables, at $ES2.
start_es2() {
	local port
	port=$(free_port)
	ES2=http://127.0.0.1:$port
	event-store --listen "127.0.0.1:$port" --schema es "$@" 2>"$W/es2.log" &
	ES2_PID=$!
	wait_port "$port"
}

# metric URL SERIES: its value in /metrics.
metric() {
	curl -s "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}

# wait_metric URL SERIES VALUE: until it has that value (10 s).
wait_metric() {
	for _ in $(seq 1 100); do
		[ "$(metric "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	fail "waited in vain for $2 = $3 (last: $(metric "$1" "$2"))"
}

@test "event-store: /dashboard/symbol from Redis, equal to the SQL recomputation, also after Redis lost everything" {
	local u s i letters=(a b c d e f g)
	start_es2 --redis "$REDIS_URL"
	# The reconciler builds the aggregates at start.
	wait_metric "$ES2" dbops_eventstore_redis_up 1
	for i in $(seq 1 30); do
		u=$(uuid)
		run -0 call -d "uuid=$u&symbol=${letters[i % 7]}" "$ES2/initial"
		[ $((i % 2)) = 0 ] && run -0 call -d "uuid=$u" "$ES2/followup"
	done
	assert_equal "$(metric "$ES2" dbops_eventstore_redis_lag_batches)" 0
	for s in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
		run call "$ES2/dashboard/symbol/$s"
		assert_output "200 $(oracle_symbol "$s")"
	done
	assert_equal "$(metric "$ES2" 'dbops_eventstore_dashboard_source_total{source="redis"}')" 26
	assert_equal "$(metric "$ES2" 'dbops_eventstore_dashboard_source_total{source="postgresql"}')" 0
	run call "$ES2/health"
	assert_output '200 {"postgresql":true,"redis":true}'
	# Redis loses everything: rebuilt from the rollups within a second
	# or two, the answers are the same.
	redis-cli -s "$REDIS_SOCKET" flushall >/dev/null
	run -0 call -d "uuid=$(uuid)&symbol=e" "$ES2/initial"
	for _ in $(seq 1 50); do
		[ "$(redis-cli -s "$REDIS_SOCKET" exists '{event-store}:ready')" = 1 ] && break
		sleep 0.1
	done
	for s in a e z; do
		run call "$ES2/dashboard/symbol/$s"
		assert_output "200 $(oracle_symbol "$s")"
	done
	assert_equal "$(metric "$ES2" 'dbops_eventstore_dashboard_source_total{source="postgresql"}')" 0
	run grep -c 'info: rebuilt the aggregates in Redis unix:' "$W/es2.log"
	assert_output 2
}

@test "event-store: Redis down: events still acknowledged, /dashboard/symbol from PostgreSQL, and the metrics say so" {
	local u
	start_es2 --redis "redis://127.0.0.1:$(free_port)/0"
	u=$(uuid)
	run call -d "uuid=$u&symbol=w" "$ES2/initial"
	assert_output "200 {\"uuid\":\"$u\",\"symbol\":\"w\",\"vowel\":false}"
	run call "$ES2/dashboard/symbol/w"
	assert_output "200 $(oracle_symbol w)"
	assert_equal "$(metric "$ES2" 'dbops_eventstore_dashboard_source_total{source="postgresql"}')" 1
	assert_equal "$(metric "$ES2" 'dbops_eventstore_dashboard_source_total{source="redis"}')" 0
	assert_equal "$(metric "$ES2" dbops_eventstore_redis_up)" 0
	assert_equal "$(metric "$ES2" dbops_eventstore_redis_lag_batches)" 1
	run call "$ES2/health"
	assert_output '200 {"postgresql":true,"redis":false}'
}

@test "event-store: a --redis URL that does not parse fails the start" {
	run -1 --separate-stderr event-store --listen "127.0.0.1:$(free_port)" --redis "http://h/"
	assert_equal "$stderr" 'event-store: error: invalid --redis URL: not a redis:// or unix: URL'
}

@test "event-store: PostgreSQL unavailable: 503 and nothing stored, then back to work without a restart" {
	local u=$(uuid) v=$(uuid)
	sql "CREATE DATABASE esdown"
	start_es2 --no-redis -d "dbname=esdown"
	run -0 call -d "uuid=$u&symbol=m" "$ES2/initial"
	# Nobody may connect, and the service's sessions are gone.
	sql "ALTER DATABASE esdown ALLOW_CONNECTIONS false"
	sql "SELECT count(pg_terminate_backend(pid)) >= 0 FROM pg_stat_activity WHERE datname = 'esdown'" >/dev/null
	run call -d "uuid=$v&symbol=m" "$ES2/initial"
	assert_output '503 {"error":"PostgreSQL is unavailable: event not stored"}'
	run call -d "uuid=$u" "$ES2/followup"
	assert_output '503 {"error":"PostgreSQL is unavailable: event not stored"}'
	run call "$ES2/dashboard/symbol/m"
	assert_output '503 {"error":"PostgreSQL is unavailable"}'
	run call "$ES2/dashboard/range/2017-01-01/2117-01-01"
	assert_output '503 {"error":"PostgreSQL is unavailable"}'
	run call "$ES2/health"
	assert_output '503 {"postgresql":false,"redis":false}'
	assert_equal "$(metric "$ES2" dbops_eventstore_postgresql_up)" 0
	assert_equal "$(metric "$ES2" 'dbops_eventstore_events_total{kind="initial",result="unavailable"}')" 1
	sql "ALTER DATABASE esdown ALLOW_CONNECTIONS true"
	run call -d "uuid=$v&symbol=m" "$ES2/initial"
	assert_output "200 {\"uuid\":\"$v\",\"symbol\":\"m\",\"vowel\":false}"
	run call -d "uuid=$u" "$ES2/followup"
	assert_output "200 {\"uuid\":\"$u\",\"symbol\":\"m\",\"followup\":true}"
	assert_equal "$(psql -AtX -d esdown -c "SELECT count(*) FROM es.initial_events")" 2
	assert_equal "$(psql -AtX -d esdown -c "SELECT count(*) FROM es.followups")" 1
	run call "$ES2/dashboard/symbol/m"
	assert_output "200 $(PGDATABASE=esdown oracle_symbol m)"
	assert_equal "$(metric "$ES2" dbops_eventstore_postgresql_up)" 1
}

@test "event-store: a PostgreSQL restart costs no request" {
	local u=$(uuid) v=$(uuid) pg_ctl
	pg_ctl=/usr/lib/postgresql/$(server_info pg version)/bin/pg_ctl
	run -0 call -d "uuid=$u&symbol=r" "$ES/initial"
	run -0 call "$ES/dashboard/symbol/r"
	# pg_ctl restart keeps the options the server was started with.
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$pg_ctl" -D "$(server_info pg datadir)" -w -m fast restart >/dev/null
	else
		"$pg_ctl" -D "$(server_info pg datadir)" -w -m fast restart >/dev/null
	fi
	run call -d "uuid=$v&symbol=r" "$ES/initial"
	assert_output "200 {\"uuid\":\"$v\",\"symbol\":\"r\",\"vowel\":false}"
	run call -d "uuid=$u" "$ES/followup"
	assert_output "200 {\"uuid\":\"$u\",\"symbol\":\"r\",\"followup\":true}"
	run call "$ES/dashboard/symbol/r"
	assert_output "200 $(oracle_symbol r)"
	run call "$ES/dashboard/range/2017-01-01/2117-01-01"
	assert_output "200 $(oracle_range 2017-01-01 2117-01-01)"
}

@test "event-store: the file's service stops on SIGTERM with exit 0, its log without a surprise" {
	kill -TERM "$(cat "$DBOPS_SERVER_ROOT/es.pid")"
	for _ in $(seq 1 100); do [ -e "$DBOPS_SERVER_ROOT/es.status" ] && break; sleep 0.1; done
	rm -f "$DBOPS_SERVER_ROOT/es.pid"
	assert_equal "$(cat "$DBOPS_SERVER_ROOT/es.status")" 0
	run cat "$DBOPS_SERVER_ROOT/es.log"
	assert_line --index 0 'event-store: warning: event times run 1800 times faster than the clock (EVENT_STORE_CLOCK_RATE, for tests)'
	assert_line --index 1 --regexp '^event-store: info: listening on 127\.0\.0\.1:[0-9]+, writer [0-9]+$'
	assert_line --index 2 'event-store: info: connected to PostgreSQL again'
	assert_line --index 3 'event-store: info: stopping: committing 0 queued events'
	assert_equal "${#lines[@]}" 4
}

@test "event-store: --batchers: a writer each, in the log and the writers table" {
	local port=$(free_port) before
	before=$(sql "SELECT count(*) FROM es.writers")
	event-store --listen "127.0.0.1:$port" --no-redis --schema es --batchers 3 2>"$W/log" 3>&- &
	ES2_PID=$!
	wait_port "$port"
	# 300 initial events 30 at once, each sent twice (one stored, one
	# 409, whichever batcher has them), a follow-up of every third.
	local i u
	: >"$W/load.cfg"
	for i in $(seq 1 300); do
		u=$(uuid)
		printf 'url = "http://127.0.0.1:%s/initial"\ndata = "uuid=%s&symbol=b"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\nnext\n' "$port" "$u" "$port" "$u" >>"$W/load.cfg"
		[ $((i % 3)) = 0 ] && echo "$u" >>"$W/follow"
	done
	sed -i '$d' "$W/load.cfg"
	run curl -s --no-progress-meter --parallel --parallel-max 30 -K "$W/load.cfg"
	assert_equal "$(sort <<<"$output" | uniq -c | awk '{print $1, $2}')" "300 200
300 409"
	while read -r u; do
		run call -d "uuid=$u" "http://127.0.0.1:$port/followup"
		assert_output --partial "200 "
	done <"$W/follow"
	kill -TERM "$ES2_PID"
	wait "$ES2_PID"
	ES2_PID=
	run cat "$W/log"
	assert_line --index 0 --regexp '^event-store: info: listening on 127\.0\.0\.1:[0-9]+, writers [0-9]+, [0-9]+, [0-9]+$'
	assert_equal "${#lines[@]}" 2 # and "stopping: committing 0 queued events"
	assert_equal "$(sql "SELECT count(*) - $before FROM es.writers")" 3
	# The three writers' batches add up to the rollups, as one writer's do.
	assert_equal "$(sql "SELECT sum(split_part(l, ' ', 2)::bigint) || ' ' || sum(split_part(l, ' ', 3)::bigint) FROM es.batches, regexp_split_to_table(deltas, E'\n') AS l")" \
		"$(sql "SELECT sum(events) || ' ' || sum(followups) FROM es.rollups WHERE period = 'hour'")"
	assert_equal "$(sql "SELECT count(*) || ' ' || count(f.uuid) FROM es.initial_events i LEFT JOIN es.followups f USING (uuid) WHERE i.symbol = 'b'")" \
		"$(sql "SELECT sum(events) || ' ' || sum(followups) FROM es.rollups WHERE period = 'hour' AND symbol = 'b'")"
	port=$(free_port)
	event-store --listen "127.0.0.1:$port" --no-redis --schema es --batchers 1 2>"$W/log" 3>&- &
	ES2_PID=$!
	wait_port "$port"
	kill -TERM "$ES2_PID"
	wait "$ES2_PID"
	ES2_PID=
	run cat "$W/log"
	assert_line --index 0 --regexp '^event-store: info: listening on 127\.0\.0\.1:[0-9]+, writer [0-9]+$'
	run -1 --separate-stderr event-store --batchers 0
	assert_equal "${stderr_lines[0]}" 'event-store: error: invalid value "0" for --batchers: use a number from 1 to 16'
	run -1 --separate-stderr event-store --batchers 17
	assert_equal "${stderr_lines[0]}" 'event-store: error: invalid value "17" for --batchers: use a number from 1 to 16'
}

# mhd_workers PID: how many libmicrohttpd pool threads the process runs.
mhd_workers() {
	cat /proc/"$1"/task/*/comm | grep -c '^MHD-worker$'
}

@test "event-store: an HTTP thread serves at most 126 connections: --threads is raised to match --max-connections, and 250 connections at once are all answered" {
	local port=$(free_port)
	# libmicrohttpd waits for more events when it gets 128 at once, before
	# serving them: a thread of 128 connections could serve none of them
	# until --timeout closed them.
	event-store --listen "127.0.0.1:$port" --no-redis --schema es --threads 1 --max-connections 252 2>"$W/log" 3>&- &
	ES2_PID=$!
	wait_port "$port"
	assert_equal "$(mhd_workers "$ES2_PID")" 2
	run -0 "$DBOPS_BUILD/tests/es-load" --url "http://127.0.0.1:$port" --connections 250 --seconds 4 --timeout 3 --quiet
	kill -TERM "$ES2_PID"
	wait "$ES2_PID"
	ES2_PID=
	run cat "$W/log"
	assert_line --index 0 'event-store: info: 2 HTTP threads, not 1: a thread serves at most 126 of the 252 connections (--max-connections)'
	# The default: a thread per 126 of the 1024 connections, said nowhere.
	port=$(free_port)
	event-store --listen "127.0.0.1:$port" --no-redis --schema es 2>"$W/log" 3>&- &
	ES2_PID=$!
	wait_port "$port"
	assert_equal "$(mhd_workers "$ES2_PID")" 9
	kill -TERM "$ES2_PID"
	wait "$ES2_PID"
	ES2_PID=
	run cat "$W/log"
	assert_line --index 0 --regexp '^event-store: info: listening on '
	# As many as asked when they are enough.
	port=$(free_port)
	event-store --listen "127.0.0.1:$port" --no-redis --schema es --threads 3 --max-connections 300 2>"$W/log" 3>&- &
	ES2_PID=$!
	wait_port "$port"
	assert_equal "$(mhd_workers "$ES2_PID")" 3
	kill -TERM "$ES2_PID"
	wait "$ES2_PID"
	ES2_PID=
	run -1 --separate-stderr event-store --max-connections 129025
	assert_equal "${stderr_lines[0]}" 'event-store: error: invalid value "129025" for --max-connections: use a number from 1 to 129024'
}
