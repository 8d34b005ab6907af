#!/bin/bash
# bench/event-store.sh - event-store next to the naive backend it replaces:
# bench/event-store-flask.py, Flask's threaded development server with an
# SQLite INSERT and COMMIT per event and a SELECT per dashboard read.
#
# Usage: bench/event-store.sh BUILD   (bench/run.sh passes it; `make bench`)
#
# In one run, with tests/driver/es-load (the client's mix: POST /initial of
# a random uuid4 and symbol, a follow-up of it with probability
# BENCH_ES_FOLLOWUP, a dashboard read every BENCH_ES_DASHBOARD_EVERY
# requests, /dashboard/symbol/<s> and /dashboard/range/<today>/<tomorrow>
# in turn):
#
#   (a) the same load (BENCH_ES_CONNECTIONS connections, 64 then 256 by
#       default, BENCH_ES_SECONDS seconds, the same mix) against the
#       reference and against
#       event-store (a scratch PostgreSQL, through the instance driver, and
#       a scratch redis-server, both on 127.0.0.1), BENCH_ES_ROUNDS rounds
#       alternating which goes first; the answers 200 per second of each,
#       the best of its runs, and the ratio (goal: >= 100). The errors'
#       answers do not count: under many connections the reference answers
#       some requests 500 ("database is locked" after SQLite's 5 s busy
#       timeout), which a faster error would otherwise turn into a better
#       rate. Every event answered 200 (es-load
#       --acked) is checked afterwards to be in the tables: SQLite's for the
#       reference, PostgreSQL's for event-store (at the very end, after a
#       SIGTERM, for every event-store run of the benchmark).
#   (b) event-store is filled to BENCH_ES_EVENTS events stored (default one
#       million: initial events and follow-ups) by es-load over
#       BENCH_ES_FILL_CONNECTIONS connections without dashboard reads,
#       through the HTTP API like any client; then, for
#       BENCH_ES_LATENCY_SECONDS, one es-load keeps ingesting
#       (BENCH_ES_CONNECTIONS connections, as fast as answered, no
#       dashboard reads) while another reads dashboards only, symbol and
#       range in turn, BENCH_ES_DASHBOARD_RATE a second over
#       BENCH_ES_DASHBOARD_CONNECTIONS connections: their p99 (goal:
#       < 5 ms). The reads are paced, not as fast as answered: a reader
#       that asks again the moment it is answered measures how many
#       dashboards the two cores can answer, and its own load takes the
#       cores from the ingest it is meant to read beside. The dashboards'
#       p99 under the mix of (a) is in (a)'s table too.
#   (d) the load of (a) again, both holding the same events: the
#       reference on a copy of event-store's events as (b) left them
#       (initial_events and followups written into a new SQLite file of
#       its schema; through its API they would take the better part of an
#       hour), event-store on its own; the same rounds, rates and ratio.
#       A backend's rate under the mix depends on what it holds: in (a)
#       the reference answers from a nearly empty file while event-store
#       holds all the events of the runs before; here the two start
#       alike, at the size of the dashboards' goal.
#   (c) after the loads, every /dashboard/symbol answer (a to z) and some
#       /dashboard/range answers (the day, the day before, lower == upper,
#       minute bounds, and random sub-second bounds between the first and
#       the last event) are compared with their recomputation in SQL from
#       the raw tables (initial_events, followups); "equal" or the
#       difference. The reference's symbol answers and two ranges are
#       compared with SQLite's recomputation the same way.
#
# The Markdown section goes to stdout; progress to stderr. Exit status 1 on
# a lost acknowledged event, a dashboard answer that differs from the
# recomputation, event-store failing requests, or a server that does not
# start; a goal missed is reported, not an exit status.
#
# Until event-store is built ($BUILD/bin/event-store, or EVENT_STORE), only
# the reference's half runs, and the section says what is missing.
#
# Environment:
#   EVENT_STORE                 the event-store program (default
#                               BUILD/bin/event-store)
#   BENCH_ES_SECONDS            seconds of each load in (a) (default 20)
#   BENCH_ES_ROUNDS             rounds of (a), alternating which server goes
#                               first, the best of each counted (default 2)
#   BENCH_ES_CONNECTIONS        connections of the loads of (a), one or
#                               more numbers, each measured in turn
#                               (default "64 256"); the first also that of
#                               the ingest of (b)
#   BENCH_ES_FOLLOWUP           follow-up probability (default 0.3)
#   BENCH_ES_DASHBOARD_EVERY    a dashboard read every K requests in (a)
#                               (default 20)
#   BENCH_ES_EVENTS             events stored before the latency run of (b)
#                               (default 1000000)
#   BENCH_ES_FILL_CONNECTIONS   connections of the fill (default 256)
#   BENCH_ES_LATENCY_SECONDS    seconds of the latency run (default 20)
#   BENCH_ES_DASHBOARD_CONNECTIONS  the dashboard reader's connections
#                               (default 4)
#   BENCH_ES_DASHBOARD_RATE     its dashboard reads per second (default 200)
#   BENCH_ES_THREADS            event-store --threads (default: its own)
#   BENCH_ES_BATCHERS           event-store --batchers (default: its own)
#   BENCH_ES_PG_OPTIONS         server settings for event-store's sessions,
#                               as libpq's options ("-c name=value ..."),
#                               for experiments; the section says them
#   BENCH_ES_KEEP               1: keep the scratch directory (the servers'
#                               logs, es-load's summaries and messages)
#
# Fairness, what was decided and why:
# - Both servers and the client share this host's cores; the client is one
#   thread (epoll). The load average before each phase is in the section.
# - The reference runs as deployed naively: Werkzeug's development server
#   answers every request with "Connection: close", so its client connects
#   anew for each request (es-load does, and counts it); event-store keeps
#   connections open. That difference is the reference's, not the load's.
# - The SQLite file and PostgreSQL's data directory are on the same file
#   system (the scratch directory), fsync on for both (SQLite's default
#   synchronous=FULL, PostgreSQL's fsync and synchronous_commit on).
# - Every server is up during every run, idle when not the one loaded;
#   rounds alternate which goes first and the best of each counts, since
#   this host is shared and its load (and the reference's fsync times)
#   change from minute to minute.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init event-store "${1:-build}"
load=$build/tests/es-load
es=${EVENT_STORE:-$build/bin/event-store}
flask_app=$top/bench/event-store-flask.py
python=/usr/bin/python3

seconds=${BENCH_ES_SECONDS:-20}
rounds=${BENCH_ES_ROUNDS:-2}
read -r -a conns_list <<<"${BENCH_ES_CONNECTIONS:-64 256}"
followup=${BENCH_ES_FOLLOWUP:-0.3}
every=${BENCH_ES_DASHBOARD_EVERY:-20}
events=${BENCH_ES_EVENTS:-1000000}
fill_conns=${BENCH_ES_FILL_CONNECTIONS:-256}
lat_seconds=${BENCH_ES_LATENCY_SECONDS:-20}
dash_conns=${BENCH_ES_DASHBOARD_CONNECTIONS:-4}
dash_rate=${BENCH_ES_DASHBOARD_RATE:-200}
threads=${BENCH_ES_THREADS:-}
batchers=${BENCH_ES_BATCHERS:-}
es_opts_text="its defaults"
pg_options=${BENCH_ES_PG_OPTIONS:-}
case $pg_options in *"'"* | *"\\"*) die "BENCH_ES_PG_OPTIONS must hold no quote or backslash" ;; esac
keep=${BENCH_ES_KEEP:-0}
whole() { # NAME VALUE
	case $2 in
	'' | *[!0-9]* | 0*) die "$1 must be a positive whole number, not \"$2\"" ;;
	esac
}
whole BENCH_ES_SECONDS "$seconds"
whole BENCH_ES_ROUNDS "$rounds"
[ "${#conns_list[@]}" -gt 0 ] || die "BENCH_ES_CONNECTIONS must hold a number of connections at least"
for c in "${conns_list[@]}"; do
	whole BENCH_ES_CONNECTIONS "$c"
done
conns=${conns_list[0]}
conns_text=${conns_list[*]}
conns_text=${conns_text// /, then }
whole BENCH_ES_DASHBOARD_EVERY "$every"
whole BENCH_ES_EVENTS "$events"
whole BENCH_ES_FILL_CONNECTIONS "$fill_conns"
whole BENCH_ES_LATENCY_SECONDS "$lat_seconds"
whole BENCH_ES_DASHBOARD_CONNECTIONS "$dash_conns"
whole BENCH_ES_DASHBOARD_RATE "$dash_rate"
[ -z "$threads" ] || whole BENCH_ES_THREADS "$threads"
[ -z "$batchers" ] || whole BENCH_ES_BATCHERS "$batchers"

[ -x "$load" ] || die "\"$load\" is missing (make tests)"
[ -x "$python" ] || die "$python is missing (apt-get install python3)"
"$python" -c 'import flask' 2>/dev/null ||
	die "Flask is missing for $python (apt-get install python3-flask)"
for p in curl jq; do
	command -v "$p" >/dev/null || die "\"$p\" is not installed"
done
with_es=true
missing=
if [ ! -x "$es" ]; then
	with_es=false
	missing="event-store is not built (\"$es\" is missing): only the reference was measured"
else
	[ -x "$driver" ] || die "\"$driver\" is missing (make tests)"
	for p in psql redis-server redis-cli; do
		command -v "$p" >/dev/null ||
			die "\"$p\" is not installed (postgresql-client, redis-server)"
	done
fi

for v in $(compgen -e); do
	case $v in PG* | REDIS_URL) unset "$v" ;; esac
done

dir=
pids=()
cleanup() {
	local p
	[ -n "$dir" ] || return 0
	# What this run started and a failure left running, by process id.
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	stop_servers_under "$dir"
	if [ "$keep" = 1 ]; then
		log "kept the scratch directory (BENCH_ES_KEEP=1): $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

dir=$(bench_scratch)

loadavg() { cut -d ' ' -f 1-3 /proc/loadavg; }
# free_port: a free TCP port on 127.0.0.1 (the kernel's pick).
free_port() {
	"$python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
# wait_http URL SECONDS PID: until URL answers 200, or die.
wait_http() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		curl -sf -o /dev/null "$1" && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# forget_pid PID: a process of pids that has ended.
forget_pid() {
	local rest=() p
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || rest+=("$p")
	done
	pids=("${rest[@]}")
}
# stop_pid PID: stop a process this run started, and wait for it.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget_pid "$1"
}
# jget FILE FILTER: a value of an es-load --json summary.
jget() { jq -r "$2" "$1"; }
# es_load NAME ARGS...: run es-load, its summary to $dir/NAME.json and its
# messages to $dir/NAME.err; its exit status is returned (1: an error).
es_load() {
	local name=$1
	shift
	"$load" --json "$@" >"$dir/$name.json" 2>"$dir/$name.err"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
today=$(date -u +%F)
url_time() { echo "${1// /%20}"; }

# --- the comparison of answers with a recomputation --------------------------

differences=0
compared=0
# compare BASE PATH EXPECTED: GET BASE/PATH must be the JSON EXPECTED (keys
# in the same order; spacing aside).
compare() {
	local got want
	got=$(curl -s "$1$2" | jq -c . 2>/dev/null) || got="(not JSON)"
	want=$(jq -c . <<<"$3")
	compared=$((compared + 1))
	if [ "$got" != "$want" ]; then
		differences=$((differences + 1))
		log "difference: GET $2"
		log "  answer:        $got"
		log "  recomputation: $want"
	fi
}

# The reference's recomputation, from its SQLite file.
sqlite_json() { # DBFILE symbol S | range LOWER UPPER
	"$python" - "$@" <<-'EOF'
		import json, sqlite3, sys
		db = sqlite3.connect(sys.argv[1])
		def agg(s, where, args):
		    c, lo, hi = db.execute("SELECT count(*), min(at), max(at) FROM initial_events i"
		                           " WHERE i.symbol = ? AND " + where, (s,) + args).fetchone()
		    (f,) = db.execute("SELECT count(*) FROM followups f JOIN initial_events i"
		                      " ON i.uuid = f.uuid WHERE i.symbol = ? AND " + where,
		                      (s,) + args).fetchone()
		    return {"count": c, "symbol": s, "earliest": lo, "latest": hi, "followups": f}
		letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
		if sys.argv[2] == "symbol":
		    print(json.dumps(agg(sys.argv[3], "1", ())))
		else:
		    b = (sys.argv[3], sys.argv[4])
		    out = [agg(s, "i.at >= ? AND i.at < ?", b) for s in letters]
		    print(json.dumps([a for a in out if a["count"] > 0]))
	EOF
}

# route_row NAME FILE ROUTE: a table row of one route of a summary.
route_row() {
	jq -r --arg n "$1" --arg r "$3" '.routes[$r] as $x |
		"| \($n) | \($r) | \($x.requests) | \($x.p50_us // "-") | \($x.p90_us // "-") | \($x.p99_us // "-") | \($x.max_us // "-") | \($x.status | to_entries | map("\(.key): \(.value)") | join(", ")) |"' "$2"
}
# summary_rows NAME FILE: the rows of every route that had requests.
summary_rows() {
	local r
	for r in initial followup symbol range; do
		[ "$(jq -r --arg r "$r" '.routes[$r].requests' "$2")" = 0 ] ||
			route_row "$1" "$2" "$r"
	done
}
# ok_rate FILE: the answers 200 per second of a summary (the answers of
# errors, such as the reference's 500 on "database is locked", do not
# count).
ok_rate() {
	jq -r '([.routes[].status["200"] // 0] | add) / .seconds * 10 | round / 10' "$1"
}

# --- the servers ----------------------------------------------------------------

flask_version=$("$python" -c 'import importlib.metadata as m; print(m.version("flask"), "/ Werkzeug", m.version("werkzeug"))')
sqlite_version=$("$python" -c 'import sqlite3; print(sqlite3.sqlite_version)')
flask_port=$(free_port)
flask_url=http://127.0.0.1:$flask_port
log "starting the reference (Flask $flask_version, SQLite $sqlite_version) on $flask_url"
"$python" "$flask_app" --db "$dir/flask.sqlite" "$flask_port" >"$dir/flask.log" 2>&1 &
flask_pid=$!
pids+=("$flask_pid")
wait_http "$flask_url/dashboard/symbol/a" 30 "$flask_pid" ||
	die "the reference did not start (see its log: $(tail -n 3 "$dir/flask.log" | tr '\n' ' '))"

if $with_es; then
	log "starting PostgreSQL in $dir/pg"
	"$driver" start postgres "$dir/pg" >"$dir/pg.info" ||
		die "could not start PostgreSQL (see $dir/pg/server.log)"
	pg_port=$(sed -n 's/^port=//p' "$dir/pg.info")
	[ -n "$pg_port" ] || die "the instance driver printed no port"
	export PGHOST=127.0.0.1 PGPORT=$pg_port PGUSER=postgres PGDATABASE=postgres
	pg_version=$(psql -X -A -t -c 'SHOW server_version')
	pg_version=${pg_version%% *}

	redis_port=$(free_port)
	mkdir "$dir/redis"
	log "starting redis-server on 127.0.0.1:$redis_port"
	redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir/redis" \
		--save '' --appendonly no --daemonize no --logfile "$dir/redis.log" &
	redis_pid=$!
	pids+=("$redis_pid")
	for ((i = 0; i < 100; i++)); do
		[ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = PONG ] && break
		kill -0 "$redis_pid" 2>/dev/null || die "redis-server did not start (see $dir/redis.log)"
		sleep 0.1
	done
	redis_version=$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')

	es_port=$(free_port)
	es_url=http://127.0.0.1:$es_port
	conninfo="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
	[ -z "$pg_options" ] || conninfo+=" options='$pg_options'"
	es_args=(--listen "127.0.0.1:$es_port" -d "$conninfo"
		--redis "redis://127.0.0.1:$redis_port/0")
	[ -z "$threads" ] || es_args+=(--threads "$threads")
	[ -z "$batchers" ] || es_args+=(--batchers "$batchers")
	[ -z "$threads$batchers" ] || es_opts_text="${threads:+--threads $threads }${batchers:+--batchers $batchers}"
	es_opts_text=${es_opts_text% }
	log "starting event-store on $es_url"
	"$es" "${es_args[@]}" 2>"$dir/event-store.log" &
	es_pid=$!
	pids+=("$es_pid")
	wait_http "$es_url/health" 30 "$es_pid" ||
		die "event-store did not start (see its log: $(tail -n 3 "$dir/event-store.log" | tr '\n' ' '))"
fi

# --- (a) the same load against each, rounds alternating --------------------------

# Per number of connections: the best summary of each, its runs' rates.
declare -A best_flask best_es runs_flask runs_es
loads=
# better A B: whether the rate of summary A beats that of summary B (or
# there is no B yet).
better() {
	[ -z "$2" ] || awk -v a="$(ok_rate "$1")" -v b="$(ok_rate "$2")" 'BEGIN { exit !(a > b) }'
}
# load_args C: the load of (a) over C connections.
load_args() {
	echo --connections "$1" --seconds "$seconds" --followup-probability "$followup" --dashboard-every "$every"
}
# run_flask C R, run_es C R: round R of the load over C connections
# against each; the best kept, under the key $phase$C (phase: "" in (a),
# "same-" in (d), where the reference at $ref_url holds event-store's
# events); the reference's acknowledged events go to $ref_acked.
phase=
label=a
ref_url=$flask_url
ref_acked=$dir/flask.acked
run_flask() {
	local la ok k=$phase$1 n=flask-$phase$1-$2 args
	read -r -a args <<<"$(load_args "$1")"
	la=$(loadavg)
	loads+="${loads:+; }reference $k/$2: $la"
	log "($label) $1 connections, round $2, the reference: ${args[*]} (load average $la)"
	es_load "$n" "${args[@]}" --url "$ref_url" --acked "$ref_acked" ||
		log "es-load against the reference: $(tail -n 1 "$dir/$n.err")"
	[ -s "$dir/$n.json" ] || die "es-load printed no summary: $(cat "$dir/$n.err")"
	ok=$(ok_rate "$dir/$n.json")
	runs_flask[$k]+="${runs_flask[$k]:+, }$ok"
	log "the reference: $ok answers 200/s, $(jget "$dir/$n.json" .errors) errors"
	! better "$dir/$n.json" "${best_flask[$k]:-}" || best_flask[$k]=$dir/$n.json
}
run_es() {
	local la ok k=$phase$1 n=es-$phase$1-$2 args
	read -r -a args <<<"$(load_args "$1")"
	la=$(loadavg)
	loads+="${loads:+; }event-store $k/$2: $la"
	log "($label) $1 connections, round $2, event-store: ${args[*]} (load average $la)"
	es_load "$n" "${args[@]}" --url "$es_url" --acked "$dir/es.acked" ||
		die "es-load against event-store: $(tail -n 5 "$dir/$n.err" | tr '\n' ' ')"
	ok=$(ok_rate "$dir/$n.json")
	runs_es[$k]+="${runs_es[$k]:+, }$ok"
	log "event-store: $ok answers 200/s"
	! better "$dir/$n.json" "${best_es[$k]:-}" || best_es[$k]=$dir/$n.json
}
# run_rounds: every number of connections, rounds alternating which goes
# first (the reference alone without event-store).
run_rounds() {
	local c r
	for c in "${conns_list[@]}"; do
		for r in $(seq 1 "$rounds"); do
			if ! $with_es; then
				run_flask "$c" "$r"
			elif [ $((r % 2)) = 1 ]; then
				run_flask "$c" "$r"
				run_es "$c" "$r"
			else
				run_es "$c" "$r"
				run_flask "$c" "$r"
			fi
		done
	done
}
run_rounds

# The reference's dashboards against SQLite, then its acknowledged events.
for s in {a..z}; do
	compare "$flask_url" "/dashboard/symbol/$s" "$(sqlite_json "$dir/flask.sqlite" symbol "$s")"
done
tomorrow=$(date -u -d "$today + 1 day" +%F)
compare "$flask_url" "/dashboard/range/$today/$tomorrow" \
	"$(sqlite_json "$dir/flask.sqlite" range "$today 00:00:00.000000" "$tomorrow 00:00:00.000000")"
stop_pid "$flask_pid"
flask_compared=$compared
flask_differences=$differences

# flask_lost DBFILE ACKED: how many events of ACKED (es-load --acked) the
# SQLite file DBFILE lacks.
flask_lost() {
	"$python" - "$1" "$2" <<-'PY'
		import sqlite3, sys
		db = sqlite3.connect(sys.argv[1])
		lost = 0
		for line in open(sys.argv[2]):
		    f = line.split()
		    if f[0] == "initial":
		        r = db.execute("SELECT 1 FROM initial_events WHERE uuid = ? AND symbol = ?", (f[1], f[2])).fetchone()
		    else:
		        r = db.execute("SELECT 1 FROM followups WHERE uuid = ?", (f[1],)).fetchone()
		    lost += r is None
		print(lost)
	PY
}
flask_acked=$(wc -l <"$dir/flask.acked")
lost=$(flask_lost "$dir/flask.sqlite" "$dir/flask.acked")
[ "$lost" = 0 ] ||
	die "$lost of the $flask_acked events the reference acknowledged are not in its SQLite file"
log "the reference: all $flask_acked acknowledged events are in its SQLite file"

section_head() {
	cat <<-EOT
		## event-store

		The client's mix from tests/driver/es-load (one thread, epoll): POST /initial of a random uuid4 and symbol a-z, then with probability $followup a POST /followup of it after its answer, and every $every requests a dashboard read (/dashboard/symbol/<random letter> and /dashboard/range/<today>/<tomorrow> in turn); over ${conns_text} connections, $seconds s against each server; for each, $rounds round(s) alternating which server goes first, the best of each counted (answers 200 per second); this host's $(nproc) cores shared by the client and the servers, every server up (idle when not loaded) during every run. Latencies in microseconds, from a request's first byte sent to the end of its answer. The reference: bench/event-store-flask.py, Flask $flask_version (Debian's python3-flask), threaded development server (a new connection per request: it answers "Connection: close"), SQLite $sqlite_version (a connection, an INSERT and a COMMIT per event, default journal mode and synchronous=FULL, the dashboards as SELECTs). Load average (1, 5, 15 min) before each run: $loads.

		event-store ran with ${es_opts_text}.

	EOT
}

if ! $with_es; then
	section_head
	cat <<-EOT
		| server | route | answers | p50 µs | p90 µs | p99 µs | max µs | statuses |
		|---|---|---:|---:|---:|---:|---:|---|
		$(for c in "${conns_list[@]}"; do summary_rows "reference, $c connections" "${best_flask[$c]}"; done)

		$(for c in "${conns_list[@]}"; do echo "The reference, $c connections: $(ok_rate "${best_flask[$c]}") answers 200/s (runs: ${runs_flask[$c]}), $(jget "${best_flask[$c]}" .errors) errors."; echo; done)

		All $flask_acked acknowledged events are in its SQLite file; its $flask_compared dashboard answers compared with SQLite's recomputation: $([ "$flask_differences" = 0 ] && echo equal || echo "$flask_differences differ").

		Not measured: $missing.

	EOT
	log "$missing"
	[ "$differences" = 0 ] || die "$differences dashboard answers differ from the recomputation"
	exit 0
fi
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
for c in "${conns_list[@]}"; do
	log "event-store vs the reference, $c connections: $(ratio "$(ok_rate "${best_es[$c]}")" "$(ok_rate "${best_flask[$c]}")") times the answers 200 per second"
done

# --- (b) one million events, dashboards while ingesting ----------------------

schema=event_store
stored() { sql -c "SELECT (SELECT count(*) FROM $schema.initial_events) + (SELECT count(*) FROM $schema.followups)"; }
have=$(stored)
fill=$((events > have ? events - have : 0))
fill_s=0
if [ "$fill" -gt 0 ]; then
	log "(b) filling: $fill more events over $fill_conns connections (load average $(loadavg))"
	t0=$(now)
	es_load fill --connections "$fill_conns" --requests "$fill" --followup-probability "$followup" \
		--dashboard-every 0 --url "$es_url" --acked "$dir/es.acked" ||
		die "es-load filling event-store: $(tail -n 5 "$dir/fill.err" | tr '\n' ' ')"
	fill_s=$(elapsed "$t0" "$(now)")
fi
have=$(stored)
initials=$(sql -c "SELECT count(*) FROM $schema.initial_events")
log "(b) $have events stored ($initials initial events) after $fill_s s of filling"

load_lat=$(loadavg)
log "(b) $lat_seconds s of $dash_rate dashboard reads a second over $dash_conns connections while ingesting over $conns (load average $load_lat)"
es_load ingest --connections "$conns" --seconds "$lat_seconds" --followup-probability "$followup" \
	--dashboard-every 0 --url "$es_url" --acked "$dir/es.acked" &
ingest_pid=$!
pids+=("$ingest_pid")
es_load dash --connections "$dash_conns" --seconds "$lat_seconds" --dashboard-every 1 --rate "$dash_rate" \
	--url "$es_url" || die "es-load reading dashboards: $(tail -n 5 "$dir/dash.err" | tr '\n' ' ')"
ingest_rc=0
wait "$ingest_pid" || ingest_rc=$?
forget_pid "$ingest_pid"
[ "$ingest_rc" = 0 ] || die "es-load ingesting: $(tail -n 5 "$dir/ingest.err" | tr '\n' ' ')"
p99_symbol=$(jget "$dir/dash.json" .routes.symbol.p99_us)
p99_range=$(jget "$dir/dash.json" .routes.range.p99_us)
have_after=$(stored)
log "(b) p99: symbol $p99_symbol µs, range $p99_range µs; $have_after events stored at the end"

# --- (d) the load of (a) again, both holding the same events ------------------

# The reference gets a copy of event-store's events (initial_events and
# followups as they are now, times in its text form), written straight
# into a new SQLite file of its schema: through its API they would take
# the better part of an hour. Then both take the load of (a), the
# reference from that file.
log "(d) copying event-store's events into a new SQLite file for the reference"
sql -c "SET timezone = 'UTC'" -c "\copy (SELECT uuid, symbol, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), vowel::int FROM $schema.initial_events) TO '$dir/same-initial.csv' csv" \
	-c "\copy (SELECT uuid, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US') FROM $schema.followups) TO '$dir/same-followups.csv' csv"
"$python" - "$dir/flask-same.sqlite" "$dir/same-initial.csv" "$dir/same-followups.csv" <<-'PY'
	import csv, sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	db.executescript("""
	    CREATE TABLE initial_events (uuid TEXT PRIMARY KEY, symbol TEXT NOT NULL,
	                                 at TEXT NOT NULL, vowel INTEGER NOT NULL);
	    CREATE TABLE followups (uuid TEXT PRIMARY KEY REFERENCES initial_events (uuid),
	                            at TEXT NOT NULL);""")
	with open(sys.argv[2], newline="") as f:
	    db.executemany("INSERT INTO initial_events VALUES (?, ?, ?, ?)", csv.reader(f))
	with open(sys.argv[3], newline="") as f:
	    db.executemany("INSERT INTO followups VALUES (?, ?)", csv.reader(f))
	db.commit()
PY
same=$("$python" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT (SELECT count(*) FROM initial_events) + (SELECT count(*) FROM followups)").fetchone()[0])' "$dir/flask-same.sqlite")
[ "$same" = "$(stored)" ] || die "the reference's copy holds $same events, event-store $(stored)"
rm -f "$dir/same-initial.csv" "$dir/same-followups.csv"
flask_port=$(free_port)
ref_url=http://127.0.0.1:$flask_port
log "(d) starting the reference on $ref_url with the copy ($same events)"
"$python" "$flask_app" --db "$dir/flask-same.sqlite" "$flask_port" >"$dir/flask-same.log" 2>&1 &
flask_pid=$!
pids+=("$flask_pid")
wait_http "$ref_url/dashboard/symbol/a" 30 "$flask_pid" ||
	die "the reference did not start (see its log: $(tail -n 3 "$dir/flask-same.log" | tr '\n' ' '))"
phase=same-
label=d
ref_acked=$dir/flask-same.acked
run_rounds
stop_pid "$flask_pid"
flask_same_acked=$(wc -l <"$dir/flask-same.acked")
lost=$(flask_lost "$dir/flask-same.sqlite" "$dir/flask-same.acked")
[ "$lost" = 0 ] ||
	die "$lost of the $flask_same_acked events the reference acknowledged in (d) are not in its SQLite file"
log "the reference: all $flask_same_acked acknowledged events of (d) are in its SQLite file"

# --- (c) every dashboard answer against the raw tables ------------------------

# pg_symbol S, pg_range LOWER UPPER: the recomputation, as JSON text, keys in
# the order of the answers (json_build_object keeps them).
pg_agg="json_build_object('count', count(i.uuid), 'symbol', s.symbol,
	'earliest', to_char(min(i.at), 'YYYY-MM-DD HH24:MI:SS.US'),
	'latest', to_char(max(i.at), 'YYYY-MM-DD HH24:MI:SS.US'),
	'followups', count(f.uuid))"
pg_symbol() {
	sql -v s="$1" <<-EOT
		SET timezone = 'UTC';
		SELECT $pg_agg
		FROM (SELECT :'s'::text AS symbol) s
		LEFT JOIN $schema.initial_events i ON i.symbol = s.symbol
		LEFT JOIN $schema.followups f ON f.uuid = i.uuid
		GROUP BY s.symbol;
	EOT
}
pg_range() {
	sql -v lo="$1" -v hi="$2" <<-EOT
		SET timezone = 'UTC';
		SELECT coalesce(json_agg(a ORDER BY sym), '[]'::json)
		FROM (SELECT i.symbol AS sym,
			     json_build_object('count', count(*), 'symbol', i.symbol,
				'earliest', to_char(min(i.at), 'YYYY-MM-DD HH24:MI:SS.US'),
				'latest', to_char(max(i.at), 'YYYY-MM-DD HH24:MI:SS.US'),
				'followups', count(f.uuid)) AS a
		      FROM $schema.initial_events i
		      LEFT JOIN $schema.followups f ON f.uuid = i.uuid
		      WHERE i.at >= :'lo'::timestamptz AND i.at < :'hi'::timestamptz
		      GROUP BY i.symbol) x;
	EOT
}
# compare_range LOWER UPPER: as the URL has them and as SQL reads them
# (UTC; a "T" reads alike in both).
compare_range() {
	compare "$es_url" "/dashboard/range/$(url_time "$1")/$(url_time "$2")" "$(pg_range "$1" "$2")"
}

compared=0
differences=0
log "(c) comparing the dashboards with the recomputation from the raw tables"
for s in {a..z}; do
	compare "$es_url" "/dashboard/symbol/$s" "$(pg_symbol "$s")"
done
symbols_compared=$compared
yesterday=$(date -u -d "$today - 1 day" +%F)
compare_range "$today" "$tomorrow"
compare_range "$yesterday" "$today"
compare_range "$today" "$today"
# Minute bounds inside the run, and random bounds to the microsecond
# between the first event and the last.
bounds=$(sql <<-EOT
	SET timezone = 'UTC';
	SELECT to_char(date_trunc('minute', min(at)) + interval '1 minute', 'YYYY-MM-DD"T"HH24:MI'),
	       to_char(date_trunc('minute', max(at)), 'YYYY-MM-DD"T"HH24:MI')
	FROM $schema.initial_events;
	SELECT setseed(0.18);
	SELECT to_char(lo, 'YYYY-MM-DD HH24:MI:SS.US'),
	       to_char(lo + (hi - lo) * random(), 'YYYY-MM-DD HH24:MI:SS.US')
	FROM (SELECT a + (b - a) * random() AS lo, b AS hi
	      FROM (SELECT min(at) AS a, max(at) + interval '1 microsecond' AS b
		    FROM $schema.initial_events) m,
		   generate_series(1, 5)) r;
EOT
)
while IFS='|' read -r lo hi; do
	if [ -z "$lo" ] || [ -z "$hi" ]; then
		continue
	fi
	[[ $lo > $hi ]] && continue # the run was within one minute
	compare_range "$lo" "$hi"
done < <(grep '|' <<<"$bounds")
ranges_compared=$((compared - symbols_compared))

# --- every acknowledged event is in the tables ---------------------------------

log "stopping event-store (SIGTERM)"
kill -TERM "$es_pid"
es_rc=0
wait "$es_pid" || es_rc=$?
forget_pid "$es_pid"
[ "$es_rc" = 0 ] || die "event-store exited with status $es_rc on SIGTERM"
es_acked=$(wc -l <"$dir/es.acked")
awk '{ print $1 "," $2 "," ($3 == "" ? "" : $3) }' "$dir/es.acked" >"$dir/es.acked.csv"
es_lost=$(sql <<-EOT
	CREATE TEMP TABLE acked (kind text, uuid uuid, symbol text);
	\copy acked FROM '$dir/es.acked.csv' csv
	SELECT count(*) FROM acked a
	WHERE (a.kind = 'initial' AND NOT EXISTS (SELECT 1 FROM $schema.initial_events i
						 WHERE i.uuid = a.uuid AND i.symbol = a.symbol))
	   OR (a.kind = 'followup' AND NOT EXISTS (SELECT 1 FROM $schema.followups f
						  WHERE f.uuid = a.uuid));
EOT
)
[ "$es_lost" = 0 ] ||
	die "$es_lost of the $es_acked events event-store acknowledged are not in PostgreSQL"
log "all $es_acked events event-store acknowledged are in PostgreSQL"

# --- the section ----------------------------------------------------------------

# rate_row SERVER C SUMMARY RUNS: a row of the rates' table.
rate_row() {
	echo "| $1 | $2 | $(ok_rate "$3") | $4 | $(jget "$3" .requests_per_second) | $(jget "$3" .errors) | $(jget "$3" .reconnects) | $(jget "$3" .client_cpu_seconds) |"
}
# comparison_tables KEY_PREFIX ROW_SUFFIX ES_NAME: the routes' and the
# rates' tables of the runs kept under KEY_PREFIX (see run_flask).
comparison_tables() {
	local c
	echo "| server | route | answers | p50 µs | p90 µs | p99 µs | max µs | statuses |"
	echo "|---|---|---:|---:|---:|---:|---:|---|"
	for c in "${conns_list[@]}"; do
		summary_rows "reference, $c connections$2" "${best_flask[$1$c]}"
		summary_rows "event-store, $c connections$2" "${best_es[$1$c]}"
	done
	echo
	echo "| server | connections | answers 200/s (best) | runs | all answers/s | errors | connections made again | client CPU s |"
	echo "|---|---:|---:|---|---:|---:|---:|---:|"
	for c in "${conns_list[@]}"; do
		rate_row "reference (Flask, SQLite)" "$c" "${best_flask[$1$c]}" "${runs_flask[$1$c]}"
		rate_row "$3" "$c" "${best_es[$1$c]}" "${runs_es[$1$c]}"
	done
}
# ratio_lines KEY_PREFIX QUALIFIER: a ratio line per number of
# connections, against the goal.
ratio_lines() {
	local c r
	for c in "${conns_list[@]}"; do
		r=$(ratio "$(ok_rate "${best_es[$1$c]}")" "$(ok_rate "${best_flask[$1$c]}")")
		echo "event-store vs the reference, $c connections$2: $r times the answers 200 per second (goal >= 100: $(goal "$r" 100 ">="))"
		echo
	done
}
goal() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? a >= b : a < b; print ok ? "met" : "NOT met" }'; }
section_head
cat <<EOT
$(comparison_tables "" "" "event-store (PostgreSQL $pg_version, Redis $redis_version$([ -z "$pg_options" ] || echo ", sessions with \`$pg_options\`"))")

Every event answered 200 is in the tables afterwards: $flask_acked of the reference's in SQLite, $es_acked of event-store's (all its runs of this benchmark) in PostgreSQL, checked after event-store's SIGTERM.

$(ratio_lines "" "")

### dashboards with $have events stored, while ingesting

event-store filled through its API to $have events stored ($initials initial events, the rest follow-ups; $fill of them by es-load over $fill_conns connections without dashboard reads in $fill_s s: $(awk -v n="$fill" -v t="$fill_s" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "-" }') events/s), then for $lat_seconds s one es-load ingesting over $conns connections (no dashboard reads) and one reading dashboards only, $dash_rate a second over $dash_conns connections, symbol and range (/dashboard/range/<today>/<tomorrow>) in turn. Load average before: $load_lat. $have_after events stored at the end.

| load | route | answers | p50 µs | p90 µs | p99 µs | max µs | statuses |
|---|---|---:|---:|---:|---:|---:|---|
$(summary_rows dashboards "$dir/dash.json")
$(summary_rows ingest "$dir/ingest.json")

Ingest meanwhile: $(jget "$dir/ingest.json" .requests_per_second) requests/s.

dashboard p99 with $have events stored, while ingesting: symbol $p99_symbol µs, range $p99_range µs (goal < 5000 µs: $(goal "$(awk -v a="$p99_symbol" -v b="$p99_range" 'BEGIN { print (a > b) ? a : b }')" 5000 "<"))

### the load of (a) with the same events stored in both

Then the load of (a) again against both, which held the same $same events when it began: event-store those stored above (and more as its own runs went on), the reference a copy of them (initial_events and followups, written into a new SQLite file of its schema, not through its API, which would take the better part of an hour). Every event the reference answered 200 in these runs is in that file ($flask_same_acked).

$(comparison_tables same- ", $same events" event-store)

$(ratio_lines same- ", both starting from $same events")

### dashboards against the raw tables

After the loads, every /dashboard/symbol answer ($symbols_compared) and $ranges_compared /dashboard/range answers (the day, the day before, an empty range, minute bounds, random bounds to the microsecond) compared with their recomputation in SQL from initial_events and followups: $([ "$differences" = 0 ] && echo equal || echo "$differences differ (see the log)"). The reference's $flask_compared answers against SQLite: $([ "$flask_differences" = 0 ] && echo equal || echo "$flask_differences differ").

EOT
[ "$((differences + flask_differences))" = 0 ] ||
	die "$((differences + flask_differences)) dashboard answers differ from the recomputation"
