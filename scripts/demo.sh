#!/bin/sh
# `make demo`: the suite's main jobs on sample data, each tool's part in turn,
# against private servers started through the common library and removed at
# the end. Each tool adds its part here as it lands.
set -eu
build=$(cd "${1:-build}" && pwd)
DBOPS_TOP=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/bin
driver=$build/tests/instance-driver
gen=$build/tests/gen-snapshot
root=$(mktemp -d "${TMPDIR:-/tmp}/dbops-demo.XXXXXX")
chmod 0755 "$root"
cleanup() {
	[ -f "$root/es.pid" ] && kill "$(cat "$root/es.pid")" 2>/dev/null && sleep 1
	[ -f "$root/redis/redis.pid" ] && kill "$(cat "$root/redis/redis.pid")" 2>/dev/null && sleep 0.5
	[ -f "$root/pg/instance.state" ] && "$driver" stop "$root/pg"
	[ -d "$root/worlds" ] && "$bin/dump-restore" down --root "$root/worlds" -q
	[ -f "$root/recovered/pitr-replay/instance.state" ] && "$driver" stop "$root/recovered/pitr-replay"
	rm -rf "$root"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}

say "a private PostgreSQL for the demo, in $root/pg"
"$driver" start postgres "$root/pg" >"$root/pg.info"
port=$(sed -n 's/^port=//p' "$root/pg.info")
db=127.0.0.1:$port
export PGHOST="$(sed -n 's/^socket_dir=//p' "$root/pg.info")" PGPORT="$port" \
	PGUSER=postgres PGDATABASE=postgres

say "snap-import: two daily snapshots of the players"
mkdir -p "$root/data"
"$gen" --rows 50000 --seed 1 --day 2023-01-01 >"$root/data/snapshot_20230101.csv"
"$gen" --rows 60000 --seed 2 --day 2023-06-03 >"$root/data/snapshot_20230603.csv"
cd "$root"
run "$bin/snap-import" --database "$db" data/snapshot_20230101.csv data/snapshot_20230603.csv

say "snap-import list: what is in, when, by whom"
run "$bin/snap-import" list --database "$db"

say "the same content again, under another name: skipped"
cp data/snapshot_20230101.csv data/copy_of_january.csv
run "$bin/snap-import" --database "$db" data/copy_of_january.csv
run "$bin/snap-import" list --database "$db" data/copy_of_january.csv

say "a file with a bad value: one line names the line and column; nothing kept"
"$gen" --bad type >data/broken.csv
run "$bin/snap-import" --database "$db" data/broken.csv || true

say "snap-import sync --once: a folder of new snapshots, the broken one among them"
mkdir inbox
"$gen" --rows 70000 --seed 3 --day 2023-09-01 >inbox/snapshot_20230901.csv
"$gen" --rows 80000 --seed 4 --day 2023-12-01 >inbox/snapshot_20231201.csv
cp data/broken.csv inbox/snapshot_broken.csv
run "$bin/snap-import" sync --database "$db" -D inbox --once || true
run "$bin/snap-import" list --database "$db" --all --format table

say "the rows, per snapshot"
run psql -X -c "SELECT f.file_name, count(*) AS rows, round(avg(s.score), 2) AS avg_score
  FROM snapshots s JOIN snap_import_files f ON f.id = s.snapshot_id
  GROUP BY f.file_name ORDER BY f.file_name"

say "dump-restore: three game worlds, dumped at 02:00 and again at 14:00, after a bad update"
TZ=UTC "$DBOPS_TOP/tests/data/gen-worlds.sh" --worlds 3 --rows 2000 --build "$build" "$root/dumps" >/dev/null 2>&1
ls "$root/dumps"/*.sql.gz

say "dump-restore plan: which dump each world would use as of 11:59 UTC, before the update"
run "$bin/dump-restore" plan --at '2024-03-01T11:59:00Z' dumps

say "dump-restore up: every world in a private MariaDB server, loaded in parallel"
run "$bin/dump-restore" up --root "$root/worlds" --at '2024-03-01T11:59:00Z' dumps

say "a developer connects to world2 and looks at the scores, as they were before the update"
run mariadb --defaults-extra-file="$root/worlds/worlds.cnf" --defaults-group-suffix=_world2 \
	-e 'SELECT COUNT(*) AS players, (SELECT MAX(points) FROM scores) AS best_score FROM players'

say "world-query: one question to every world, one answer"
run "$bin/world-query" --root "$root/worlds" 'SELECT (SELECT COUNT(*) FROM players) AS players, (SELECT MAX(points) FROM scores) AS top_score'
run "$bin/world-query" --root "$root/worlds" 'SELECT p.name, s.points FROM scores s JOIN players p ON p.id = s.player_id ORDER BY s.points DESC LIMIT 2'
run "$bin/world-query" --root "$root/worlds" --reduce 'SELECT sum(players) AS players_in_all_worlds FROM rows' 'SELECT COUNT(*) AS players FROM players'

say "dump-restore status, then down"
run "$bin/dump-restore" status --root "$root/worlds"
run "$bin/dump-restore" down --root "$root/worlds"

say "pitr-replay: a cluster with archiving on, a base backup, a day's work in a few seconds"
"$DBOPS_TOP/tests/data/gen-pitr.sh" --build "$build" "$root/pitr" >/dev/null 2>&1
ls "$root/pitr"
# A time between two commits of timeline 1, some way after the backup.
target=$(awk 'NR == 12 { print $3 }' "$root/pitr/transactions.txt")

say "pitr-replay window: what the archive can reach, per timeline"
run "$bin/pitr-replay" window -a "$root/pitr/archive" -b "$root/pitr/base-plain"

say "pitr-replay verify: every WAL record to the target checked, no server started"
run "$bin/pitr-replay" verify -b "$root/pitr/base-plain.tar.zst" -a "$root/pitr/archive" \
	--target-time "$target" --timeline 1

say "a target beyond the archive is refused before anything starts"
run "$bin/pitr-replay" verify -b "$root/pitr/base-plain" -a "$root/pitr/archive" \
	--target-time '2099-01-01 00:00:00Z' || true

say "pitr-replay restore: the cluster as it was at $target, left running"
printf '$ pitr-replay restore ... --keep-running\n'
conn=$("$bin/pitr-replay" restore -b "$root/pitr/base-plain.tar.zst" -a "$root/pitr/archive" \
	-D "$root/recovered" --target-time "$target" --timeline 1 --keep-running)
echo "$conn"
run psql "$conn" -X -c 'SELECT id, tli, note FROM ticks ORDER BY id'
"$driver" stop "$root/recovered/pitr-replay"

say "event-store: a private Redis beside the PostgreSQL, then the service on a free port"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rport=$(free_port)
mkdir -p "$root/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$root/redis" --save '' --appendonly no \
	--daemonize no >"$root/redis/redis.log" 2>&1 &
echo $! >"$root/redis/redis.pid"
eport=$(free_port)
es=http://127.0.0.1:$eport
# PostgreSQL from the PG* variables set above; Redis from REDIS_URL.
printf '$ REDIS_URL=redis://127.0.0.1:%s/0 event-store --listen 127.0.0.1:%s &\n' "$rport" "$eport"
REDIS_URL=redis://127.0.0.1:$rport/0 "$bin/event-store" --listen "127.0.0.1:$eport" >"$root/es.log" 2>&1 &
echo $! >"$root/es.pid"
tries=0
until curl -sf "$es/health" >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ "$tries" -gt 100 ]; then
		cat "$root/es.log" "$root/redis/redis.log" >&2
		exit 1
	fi
	sleep 0.1
done
run curl -s "$es/health"
echo

say "event-store: one event and its follow-up, by hand"
u=$(cat /proc/sys/kernel/random/uuid)
run curl -s -H 'Content-Type: application/json' -d "{\"uuid\":\"$u\",\"symbol\":\"e\"}" "$es/initial"
echo
run curl -s -d "uuid=$u" "$es/followup"
echo
say "the same uuid again, and a follow-up of an unknown one: refused, nothing stored"
run curl -s -H 'Content-Type: application/json' -d "{\"uuid\":\"$u\",\"symbol\":\"b\"}" "$es/initial"
echo
run curl -s -d "uuid=$(cat /proc/sys/kernel/random/uuid)" "$es/followup"
echo

say "the client's mix for 5 seconds over 32 connections (tests/driver/es-load.c): random uuids and symbols, a follow-up after 30% of the initial events, a dashboard read every 20 requests"
run "$build/tests/es-load" --url "$es" --connections 32 --seconds 5 --acked "$root/acked.txt"
say "every event es-load saw acknowledged (200) is in PostgreSQL"
run psql -X -c "CREATE TEMP TABLE acked (line text)" \
	-c "\\copy acked FROM '$root/acked.txt'" \
	-c "SELECT split_part(a.line, ' ', 1) AS kind, count(*) AS acknowledged,
       count(*) FILTER (WHERE CASE split_part(a.line, ' ', 1)
         WHEN 'initial' THEN EXISTS (SELECT FROM event_store.initial_events i
                                      WHERE i.uuid = split_part(a.line, ' ', 2)::uuid)
         ELSE EXISTS (SELECT FROM event_store.followups f
                       WHERE f.uuid = split_part(a.line, ' ', 2)::uuid) END) AS in_postgresql
  FROM acked a GROUP BY 1 ORDER BY 1"

say "event-store dashboards: a few symbols, from Redis (dashboard_source_total below says so)"
for sym in a e z; do
	run curl -s "$es/dashboard/symbol/$sym"
	echo
done
today=$(date -u +%F)
tomorrow=$(date -u -d tomorrow +%F)
say "today's range, $today to $tomorrow (UTC): hour and minute rollups, raw events at the edges"
printf '$ curl -s %s   (one symbol a line here)\n' "$es/dashboard/range/$today/$tomorrow"
curl -s "$es/dashboard/range/$today/$tomorrow" | sed 's/},{/},\n{/g'
echo
say "the same answer for e recomputed from the raw events (event-store(1), STORAGE)"
run psql -X -c "SET TIME ZONE 'UTC'" -c "SELECT count(*) AS count, 'e' AS symbol,
       to_char(min(i.at), 'YYYY-MM-DD HH24:MI:SS.US') AS earliest,
       to_char(max(i.at), 'YYYY-MM-DD HH24:MI:SS.US') AS latest,
       count(f.uuid) AS followups
  FROM event_store.initial_events i LEFT JOIN event_store.followups f USING (uuid)
 WHERE i.symbol = 'e'"

say "event-store's metrics (some of them)"
curl -s "$es/metrics" | grep -E '^dbops_eventstore_(requests_total|batch_events_(count|sum)|redis_up|postgresql_up|redis_lag_batches|dashboard_source_total)' |
	head -n 20
curl -s "$es/metrics" | awk '/^dbops_eventstore_batch_events_sum/ { s = $2 } /^dbops_eventstore_batch_events_count/ { c = $2 }
	END { if (c > 0) printf "  %d events in %d commits: %.1f events per commit (group commit)\n", s, c, s / c }'

say "SIGTERM: event-store commits what is queued and exits 0; Redis and PostgreSQL stop"
kill -TERM "$(cat "$root/es.pid")"
wait "$(cat "$root/es.pid")" && echo "event-store exited 0"
rm -f "$root/es.pid"
redis-cli -p "$rport" shutdown nosave >/dev/null 2>&1 || true
rm -f "$root/redis/redis.pid"

say "demo: done; the servers and their files are removed"
