#!/usr/bin/env bats
# es-load, the client load of event-store's tests and benchmark
# (tests/driver/es-load.c), against the naive reference
# (bench/event-store-flask.py, Flask and SQLite): the counts it promises,
# the --acked file a kill -9 test relies on, its errors and exit status.
# Its HTTP answer parser has unit tests (tests/unit/test_es_load_http.c).

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	local i
	FLASK_PORT=$(/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	export FLASK_PORT FLASK_DB=$BATS_FILE_TMPDIR/flask.sqlite
	/usr/bin/python3 "$DBOPS_TOP/bench/event-store-flask.py" --db "$FLASK_DB" \
		"$FLASK_PORT" >"$BATS_FILE_TMPDIR/flask.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/flask.pid"
	for ((i = 0; i < 100; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$FLASK_PORT/dashboard/symbol/a" && return 0
		sleep 0.1
	done
	cat "$BATS_FILE_TMPDIR/flask.log" >&2
	return 1
}

teardown_file() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/flask.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
}

setup() {
	load lib/helpers
	ES_LOAD=$DBOPS_BUILD/tests/es-load
	URL=http://127.0.0.1:$FLASK_PORT
}

# not_stored DB ACKED: the lines of an --acked file whose event is not in
# the reference's SQLite file DB (nothing when all are).
not_stored() {
	/usr/bin/python3 - "$1" "$2" <<-'EOF'
		import sqlite3, sys
		db = sqlite3.connect(sys.argv[1])
		for line in open(sys.argv[2]):
		    f = line.split()
		    if f[0] == "initial":
		        r = db.execute("SELECT 1 FROM initial_events WHERE uuid = ? AND symbol = ?",
		                       (f[1], f[2])).fetchone()
		    else:
		        r = db.execute("SELECT 1 FROM followups WHERE uuid = ?", (f[1],)).fetchone()
		    if r is None:
		        print(line, end="")
	EOF
}

@test "es-load: --requests N sends N requests in the mix and --acked lists every event answered 200" {
	local acked=$BATS_TEST_TMPDIR/acked kind uuid symbol
	run --separate-stderr "$ES_LOAD" --url "$URL" --connections 3 --requests 60 \
		--followup-probability 0.5 --dashboard-every 6 --acked "$acked" --json
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq .requests <<<"$output")" 60
	assert_equal "$(jq .errors <<<"$output")" 0
	# One dashboard read every 6 requests, symbol and range in turn.
	assert_equal "$(jq '.routes.symbol.requests' <<<"$output")" 5
	assert_equal "$(jq '.routes.range.requests' <<<"$output")" 5
	assert_equal "$(jq '.routes.initial.requests + .routes.followup.requests' <<<"$output")" 50
	[ "$(jq '.routes.followup.requests' <<<"$output")" -gt 0 ] || fail "no follow-up in 50 events at probability 0.5"
	# The reference closes every connection after its answer.
	assert_equal "$(jq .closed_by_server <<<"$output")" 60
	assert_equal "$(jq '.routes.initial.p50_us <= .routes.initial.p90_us and .routes.initial.p90_us <= .routes.initial.p99_us and .routes.initial.p99_us <= .routes.initial.max_us' <<<"$output")" true
	assert_equal "$(wc -l <"$acked")" 50
	assert_equal "$(grep -c '^initial ' "$acked")" "$(jq '.routes.initial.status["200"]' <<<"$output")"
	while read -r kind uuid symbol; do
		case $kind in
		initial) [[ $uuid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ && $symbol =~ ^[a-z]$ ]] ;;
		followup) grep -q "^initial $uuid " "$acked" && [ -z "$symbol" ] ;;
		*) false ;;
		esac || fail "unexpected line in the acked file: $kind $uuid $symbol"
	done <"$acked"
	assert_equal "$(not_stored "$FLASK_DB" "$acked")" ""
}

@test "es-load: the text summary has the rate, the errors and a line per route" {
	run --separate-stderr "$ES_LOAD" --url "$URL" -c 2 --requests 20 --dashboard-every 4 \
		--followup-probability 0
	assert_success
	assert_line --index 0 --regexp '^requests: 20 answered in [0-9.]+ s: [0-9.]+ requests/s, 2 connections, client CPU [0-9.]+ s$'
	assert_line --index 1 'errors: 0 (0 not 200, 0 malformed, 0 unanswered, 0 timed out)'
	# 18 connections made again, or 19: when both connections are made
	# again with one request left, the second to be up finds it sent by
	# the first (CI saw 19 once).
	assert_line --index 2 --regexp '^connections made again: 1[89] \(20 closed by the server after an answer\), failed connects: 0$'
	assert_line --index 3 --regexp '^route +answers +p50 us +p90 us +p99 us +max us +statuses$'
	assert_line --index 4 --regexp '^initial +15 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+  200:15$'
	assert_line --index 5 --regexp '^followup +0 +- +- +- +-$'
	assert_line --index 6 --regexp '^symbol +3 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+  200:3$'
	assert_line --index 7 --regexp '^range +2 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+  200:2$'
}

@test "es-load: an answer other than 200 is an error, printed, and the exit status is 1" {
	run --separate-stderr "$ES_LOAD" --url "$URL" -c 1 --requests 3 --seed 18 \
		--dashboard-every 0 --followup-probability 0
	assert_success
	# The same seed, the same uuids: each is a duplicate now.
	run --separate-stderr "$ES_LOAD" --url "$URL" -c 1 --requests 3 --seed 18 \
		--dashboard-every 0 --followup-probability 0 --json
	assert_failure 1
	assert_equal "$(jq .non_200 <<<"$output")" 3
	assert_equal "$(jq -c .routes.initial.status <<<"$output")" '{"409":3}'
	assert_equal "${#stderr_lines[@]}" 4
	assert_regex "${stderr_lines[0]}" '^es-load: error: POST /initial: answered 409: \{"error":"uuid [0-9a-f-]{36} already has an initial event"\}$'
	assert_equal "${stderr_lines[3]}" "es-load: error: 3 of 3 requests failed"
}

@test "es-load: a connection refused at start is exit status 1, with the reason" {
	local port
	port=$(/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	run --separate-stderr "$ES_LOAD" --url "http://127.0.0.1:$port" --requests 5
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "es-load: error: could not connect to 127.0.0.1:$port: Connection refused"
}

@test "es-load: usage errors" {
	run --separate-stderr "$ES_LOAD" --url ftp://127.0.0.1:80
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'es-load: error: invalid value "ftp://127.0.0.1:80" for --url: use http://HOST:PORT'
	run --separate-stderr "$ES_LOAD" --url http://127.0.0.1:99999
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'es-load: error: invalid value "http://127.0.0.1:99999" for --url: use http://HOST:PORT'
	run --separate-stderr "$ES_LOAD" --requests 5 --seconds 5
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'es-load: error: --requests and --seconds cannot be used together'
	run --separate-stderr "$ES_LOAD" --followup-probability 1.5
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'es-load: error: invalid value "1.5" for --followup-probability: use a number from 0 to 1'
	run --separate-stderr "$ES_LOAD" extra
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'es-load: error: unexpected argument "extra"'
}

@test "es-load: --rate holds the requests back to R a second in all" {
	run --separate-stderr "$ES_LOAD" --url "$URL" -c 3 --requests 11 --rate 20 \
		--dashboard-every 1 --json
	assert_success
	assert_equal "$(jq .requests <<<"$output")" 11
	# Request i goes at i / 20 s at the earliest: the 11th at 0.5 s.
	assert_equal "$(jq '.seconds >= 0.5' <<<"$output")" true
	run --separate-stderr "$ES_LOAD" --rate 0
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'es-load: error: invalid value "0" for --rate: use a number of requests per second over 0'
}

@test "es-load: a server killed with -9 and started again: the load goes on and every event acknowledged is stored" {
	local port db=$BATS_TEST_TMPDIR/k.sqlite acked=$BATS_TEST_TMPDIR/k.acked pid load restarted
	port=$(/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	/usr/bin/python3 "$DBOPS_TOP/bench/event-store-flask.py" --db "$db" "$port" >/dev/null 2>&1 3>&- &
	pid=$!
	wait_up() {
		local i
		for ((i = 0; i < 100; i++)); do
			curl -sf -o /dev/null "http://127.0.0.1:$port/dashboard/symbol/a" && return 0
			sleep 0.1
		done
		return 1
	}
	wait_up
	"$ES_LOAD" --url "http://127.0.0.1:$port" -c 4 --seconds 5 --acked "$acked" --json \
		>"$BATS_TEST_TMPDIR/k.json" 2>"$BATS_TEST_TMPDIR/k.err" 3>&- &
	load=$!
	sleep 1
	kill -9 "$pid"
	wait "$pid" || true
	sleep 0.5
	restarted=$(date -u '+%Y-%m-%d %H:%M:%S.%N' | cut -c1-26)
	/usr/bin/python3 "$DBOPS_TOP/bench/event-store-flask.py" --db "$db" "$port" >/dev/null 2>&1 3>&- &
	pid=$!
	wait_up
	wait "$load" || true
	kill "$pid"
	# It went on after the restart, and made its connections again.
	[ "$(/usr/bin/python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM initial_events WHERE at > ?", (sys.argv[2],)).fetchone()[0])' "$db" "$restarted")" -gt 0 ] ||
		fail "no event stored after the restart: $(cat "$BATS_TEST_TMPDIR/k.err")"
	[ "$(jq .connect_failures "$BATS_TEST_TMPDIR/k.json")" -gt 0 ] || fail "no failed connect counted while the server was down"
	[ -s "$acked" ] || fail "no event acknowledged"
	assert_equal "$(not_stored "$db" "$acked")" ""
}
