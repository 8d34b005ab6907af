#!/bin/bash
# bench/snap-import.sh - snap-import next to what a user would otherwise run
# to load a CSV snapshot into PostgreSQL: psql's \copy and pgloader.
#
# Usage: bench/snap-import.sh BUILD   (bench/run.sh passes it; `make bench`)
#
# One scratch PostgreSQL server (through the instance driver), one generated
# snapshot file of about SNAP_BENCH_MB megabytes (default 1000: 1 GB), read
# once into the page cache, then loaded into an empty database by each loader
# in turn on the same server in the same run. Every loader connects over TCP
# to 127.0.0.1 (snap-import and pgloader do, so psql does too), and every
# load is checked to have loaded every row. The Markdown section goes to
# stdout; progress and the loaders' own output go to stderr.
#
# Environment:
#   SNAP_BENCH_MB      size of the file in MB of 10^6 bytes (default 1000)
#   SNAP_BENCH_ROUNDS  rounds of the psql/snap-import pair, the best of each
#                      counted (default 2); pgloader runs once
#
# Fairness, what was decided and why:
# - Before each load the database is emptied (the previous loader's tables,
#   and whatever schemas snap-import made, dropped), then a CHECKPOINT is run,
#   so no load pays for the writes of the one before it. No VACUUM: nothing
#   is left to vacuum, and autovacuum is off on this server, so no vacuum of
#   a table just loaded competes for one of the cores during the next load.
# - One untimed load first (psql's): a new server's first big load also
#   creates its WAL segment files, later loads recycle them, and the first
#   timed loader should not be the one paying for that.
# - The file is read again (cat >/dev/null) before each load, outside the
#   timing, so all of them start from the page cache.
# - Rounds alternate the order of the pair (psql then snap-import, then
#   snap-import then psql), so neither always runs first; pgloader, far the
#   slowest, runs once, last.
# - psql and pgloader load into a table created beforehand (outside the
#   timing) with the types snap-import is expected to infer; snap-import
#   creates its table and metadata itself and hashes the file, inside the
#   timing: that is the work a user asks of it.
# - The server keeps PostgreSQL's defaults otherwise (wal_level replica,
#   max_wal_size 1GB, fsync on), as a user's server would have them.
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init snap-import "${1:-build}"
snap=$build/bin/snap-import
gen=$build/tests/gen-snapshot

mb=${SNAP_BENCH_MB:-1000}
rounds=${SNAP_BENCH_ROUNDS:-2}
case $mb in
'' | *[!0-9]* | 0) die "SNAP_BENCH_MB must be a positive whole number, not \"$mb\"" ;;
esac
case $rounds in
'' | *[!0-9]* | 0) die "SNAP_BENCH_ROUNDS must be a positive whole number, not \"$rounds\"" ;;
esac

[ -x "$snap" ] || die "snap-import is not built: \"$snap\" is missing (make all)"
[ -x "$gen" ] || die "\"$gen\" is missing (make tests)"
[ -x "$driver" ] || die "\"$driver\" is missing (make tests)"
command -v psql >/dev/null ||
	die "psql is not installed (apt-get install postgresql-client)"
command -v pgloader >/dev/null ||
	die "pgloader is not installed (apt-get install pgloader; make bench does)"

dir=
cleanup() {
	[ -n "$dir" ] || return 0
	stop_servers_under "$dir"
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

dir=$(bench_scratch)
csv=$dir/snapshot.csv

# Not piped to head: SBCL dies loudly on a closed pipe.
pgloader_version=$(pgloader --root-dir "$dir/pgloader" --version)
log "${pgloader_version%%
*}"
log "starting PostgreSQL in $dir/pg"
"$driver" start postgres "$dir/pg" --set autovacuum=off >"$dir/pg.info" ||
	die "could not start PostgreSQL (see $dir/pg/server.log)"
port=$(sed -n 's/^port=//p' "$dir/pg.info")
[ -n "$port" ] || die "the instance driver printed no port"

# Trust authentication for postgres on 127.0.0.1; no password, no service.
unset PGSERVICE PGPASSWORD PGOPTIONS PGHOSTADDR
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres

sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres \
		-d postgres "$@"
}
server_version=$(sql -c 'SHOW server_version')
server_version=${server_version%% *}

bytes=$((mb * 1000000))
log "generating $mb MB of CSV"
"$gen" --bytes "$bytes" --seed 1 >"$csv"
size=$(wc -c <"$csv")
lines=$(wc -l <"$csv")
rows=$((lines - 1))
last_id=$(tail -n 1 "$csv" | cut -d, -f1)
[ "$last_id" = "$rows" ] ||
	die "the generated file has $rows rows but its last is player $last_id"
log "$size bytes, $rows rows"

columns="player_id bigint, name text, world text, score numeric, level integer,
	active boolean, joined date, last_seen timestamptz"

# Every load starts from an empty database, after a checkpoint.
reset_db() {
	sql <<-'EOF'
		SET client_min_messages = warning;
		DO $$
		DECLARE s name;
		BEGIN
			FOR s IN SELECT nspname FROM pg_namespace
				 WHERE nspname NOT IN ('public', 'information_schema')
				   AND nspname NOT LIKE 'pg\_%'
			LOOP
				EXECUTE format('DROP SCHEMA %I CASCADE', s);
			END LOOP;
		END $$;
		DROP SCHEMA public CASCADE;
		CREATE SCHEMA public AUTHORIZATION pg_database_owner;
		GRANT USAGE ON SCHEMA public TO PUBLIC;
		CHECKPOINT;
	EOF
	cat "$csv" >/dev/null
}

# time_load NAME COMMAND...: run it, all its output to stderr; sets $elapsed.
elapsed=
time_load() {
	local name=$1 t0 t1
	shift
	log "loading with $name"
	t0=$(date +%s.%N)
	"$@" >&2 || die "$name failed (exit status $?)"
	t1=$(date +%s.%N)
	elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	log "$name: $elapsed s"
}

check_rows() {
	local n
	n=$(sql -c "SELECT count(*) FROM $1")
	[ "$n" = "$rows" ] || die "$2 loaded $n rows into $1, expected $rows"
}

# best OLD NEW: the smaller, OLD empty at first.
best() {
	if [ -z "$1" ]; then
		echo "$2"
	else
		awk -v a="$1" -v b="$2" 'BEGIN { print (b < a) ? b : a }'
	fi
}

t_psql=
t_snap=
t_pgloader=

load_psql() {
	reset_db
	sql -c "CREATE TABLE t_psql ($columns)"
	time_load "psql \\copy" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
		-p "$port" -U postgres -d postgres \
		-c "\\copy t_psql FROM '$csv' csv header"
	check_rows t_psql "psql \\copy"
	t_psql=$(best "$t_psql" "$elapsed")
}

load_snap() {
	reset_db
	time_load snap-import "$snap" -d "127.0.0.1:$port" -t t_snap "$csv"
	check_rows t_snap snap-import
	t_snap=$(best "$t_snap" "$elapsed")
}

load_pgloader() {
	reset_db
	sql -c "CREATE TABLE t_pgloader ($columns)"
	cat >"$dir/load.pgl" <<-EOF
		LOAD CSV
		  FROM '$csv'
		  INTO postgresql://postgres@127.0.0.1:$port/postgres
		  TARGET TABLE t_pgloader
		  WITH skip header = 1,
		       fields optionally enclosed by '"',
		       fields escaped by double-quote,
		       fields terminated by ','
		;
	EOF
	# pgloader reports rejected rows and still exits 0: the count decides.
	time_load pgloader pgloader --root-dir "$dir/pgloader" \
		--logfile "$dir/pgloader.log" "$dir/load.pgl"
	check_rows t_pgloader pgloader
	t_pgloader=$elapsed
}

# The untimed warm-up (see the top of the file).
log "warm-up: one psql load, not counted"
load_psql
t_psql=

for r in $(seq 1 "$rounds"); do
	log "round $r of $rounds"
	if [ $((r % 2)) = 1 ]; then
		load_psql
		load_snap
	else
		load_snap
		load_psql
	fi
done
load_pgloader

# row NAME SECONDS: one line of the table.
row() {
	printf '| %s | ' "$1"
	awk -v t="$2" -v b="$size" -v r="$rows" 'BEGIN {
		printf "%.2f | %.1f | %.0f |\n", t, b / 1e6 / t, r / t
	}'
}
# ratio OTHER: snap-import's throughput over the other's.
ratio() {
	awk -v o="$1" -v s="$t_snap" 'BEGIN { printf "%.2f", o / s }'
}

if [ "$rounds" = 1 ]; then
	how="one run each"
else
	how="best of $rounds runs for psql and snap-import, one for pgloader"
fi
cat <<EOF
## snap-import

Loading one CSV snapshot of $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') MB ($size bytes, $rows rows, \`gen-snapshot --bytes $bytes --seed 1\`) into an empty table of a scratch PostgreSQL $server_version (defaults, autovacuum off), each loader over TCP to 127.0.0.1, the file in the page cache; $how, the time of the whole command, after one untimed warm-up load. psql and pgloader load into a table created beforehand; snap-import creates its table, infers the types, hashes the file and records it.

| loader | seconds | MB/s | rows/s |
|---|---:|---:|---:|
$(row "psql \\copy" "$t_psql")
$(row snap-import "$t_snap")
$(row pgloader "$t_pgloader")

snap-import vs psql \\copy: $(ratio "$t_psql") (throughput, >= 1.0 means as fast or faster)

snap-import vs pgloader: $(ratio "$t_pgloader") (throughput, >= 1.0 means as fast or faster)

EOF
