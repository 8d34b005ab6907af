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
# Then the same data as ten files of a tenth each (SNAP_BENCH_FILES): ten
# psql \copy one after another, as a shell loop would run them, against one
# `snap-import --jobs 2` (SNAP_BENCH_JOBS) of the ten. And COPY in binary
# format, which snap-import sends for a new table's first file when every
# value can be encoded exactly: the same rows loaded by psql \copy as CSV
# and from a file the server wrote with COPY TO (FORMAT binary) (what the
# server's CPU per row can gain at most, the client's parsing not in it),
# then by snap-import sending CSV (--copy-format csv) and binary (its
# default), one after the other: the server's CPU per row of each path
# and the end-to-end time, the client's parsing included.
#
# The server's CPU is read from /proc: the postmaster's own and reaped
# children's times (utime, stime, cutime, cstime) plus its live children's,
# before and after a load.
#
# Environment:
#   SNAP_BENCH_MB      size of the file in MB of 10^6 bytes (default 1000)
#   SNAP_BENCH_ROUNDS  rounds of the psql/snap-import pair, the best of each
#                      counted (default 2); pgloader runs once
#   SNAP_BENCH_PGLOADER  0: leave pgloader out (it takes minutes)
#   SNAP_BENCH_FILES   how many files the --jobs part splits it into (10)
#   SNAP_BENCH_JOBS    snap-import's --jobs there (default 2)
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
with_pgloader=${SNAP_BENCH_PGLOADER:-1}
nfiles=${SNAP_BENCH_FILES:-10}
jobs=${SNAP_BENCH_JOBS:-2}
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
if [ "$with_pgloader" != 0 ]; then
	command -v pgloader >/dev/null ||
		die "pgloader is not installed (apt-get install pgloader; make bench does)"
fi

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

if [ "$with_pgloader" != 0 ]; then
	# Not piped to head: SBCL dies loudly on a closed pipe.
	pgloader_version=$(pgloader --root-dir "$dir/pgloader" --version)
	log "${pgloader_version%%
*}"
fi
log "starting PostgreSQL in $dir/pg"
"$driver" start postgres "$dir/pg" --set autovacuum=off >"$dir/pg.info" ||
	die "could not start PostgreSQL (see $dir/pg/server.log)"
port=$(sed -n 's/^port=//p' "$dir/pg.info")
[ -n "$port" ] || die "the instance driver printed no port"
postmaster=$(sed -n 's/^pid=//p' "$dir/pg.info")
[ -n "$postmaster" ] || die "the instance driver printed no pid"
hz=$(getconf CLK_TCK)

# server_cpu: CPU seconds of the server so far, its exited backends included
# (the postmaster reaps them: cutime, cstime).
server_cpu() {
	local p total=0 f
	for p in "$postmaster" $(pgrep -P "$postmaster"); do
		f=$(cut -d ')' -f 2- "/proc/$p/stat" 2>/dev/null) || continue
		# Fields after the name: 12 utime 13 stime 14 cutime 15 cstime.
		if [ "$p" = "$postmaster" ]; then
			total=$((total + $(echo "$f" | awk '{ print $12 + $13 + $14 + $15 }')))
		else
			total=$((total + $(echo "$f" | awk '{ print $12 + $13 }')))
		fi
	done
	awk -v t="$total" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}

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

# time_load NAME COMMAND...: run it, all its output to stderr; sets
# $elapsed and $cpu (the server's CPU seconds meanwhile).
elapsed=
cpu=
# settle_backends: until the backends of the loads that ended are gone and
# reaped (5 s at most). A backend's CPU reaches the postmaster's cutime only
# when it is reaped; read in between, a load's whole cost can go missing.
settle_backends() {
	local i p zombie
	for i in $(seq 1 100); do
		zombie=
		for p in $(pgrep -P "$postmaster"); do
			grep -qs '^State:.*Z' "/proc/$p/status" && zombie=1
		done
		[ -z "$zombie" ] &&
			[ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" = 0 ] &&
			return 0
		sleep 0.05
	done
}

time_load() {
	local name=$1 t0 t1 c0 c1
	shift
	log "loading with $name"
	c0=$(server_cpu)
	t0=$(date +%s.%N)
	"$@" >&2 || die "$name failed (exit status $?)"
	t1=$(date +%s.%N)
	settle_backends
	c1=$(server_cpu)
	elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
	log "$name: $elapsed s, server CPU $cpu s"
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
cpu_psql=
cpu_snap=

load_psql() {
	reset_db
	sql -c "CREATE TABLE t_psql ($columns)"
	time_load "psql \\copy" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
		-p "$port" -U postgres -d postgres \
		-c "\\copy t_psql FROM '$csv' csv header"
	check_rows t_psql "psql \\copy"
	t_psql=$(best "$t_psql" "$elapsed")
	cpu_psql=$(best "$cpu_psql" "$cpu")
}

load_snap() {
	reset_db
	time_load snap-import "$snap" -d "127.0.0.1:$port" -t t_snap "$csv"
	check_rows t_snap snap-import
	t_snap=$(best "$t_snap" "$elapsed")
	cpu_snap=$(best "$cpu_snap" "$cpu")
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
[ "$with_pgloader" = 0 ] || load_pgloader

# --- ten files: psql \copy one after another, snap-import --jobs 2 ---
log "splitting the file into $nfiles parts"
tail -n +2 "$csv" | split -l $(((rows + nfiles - 1) / nfiles)) -d -a 3 - "$dir/body."
parts=()
for body in "$dir"/body.*; do
	part=$dir/part${body##*.}.csv
	{ head -n 1 "$csv"; cat "$body"; } >"$part"
	rm -f "$body"
	parts+=("$part")
done

psql_loop() {
	local f
	for f in "${parts[@]}"; do
		psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres \
			-d postgres -c "\\copy t_many FROM '$f' csv header" || return 1
	done
}
reset_db
sql -c "CREATE TABLE t_many ($columns)"
cat "${parts[@]}" >/dev/null
time_load "psql \\copy x $nfiles, one after another" psql_loop
check_rows t_many "psql \\copy x $nfiles"
t_many_psql=$elapsed
reset_db
cat "${parts[@]}" >/dev/null
time_load "snap-import --jobs $jobs" "$snap" -d "127.0.0.1:$port" -t t_many \
	--jobs "$jobs" "${parts[@]}"
check_rows t_many "snap-import --jobs $jobs"
t_many_snap=$elapsed
[ "$(sql -c "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.t_many' AND status = 'imported'")" = "$nfiles" ] ||
	die "snap-import --jobs $jobs did not record $nfiles files"
rm -f "${parts[@]}"

# --- COPY in binary format: the server's CPU per row ---
reset_db
sql -c "CREATE TABLE t_psql ($columns)"
psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
	-c "\\copy t_psql FROM '$csv' csv header"
log "writing the rows in COPY's binary format"
psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
	-c "\\copy t_psql TO '$dir/snapshot.bin' (FORMAT binary)"
bin_size=$(wc -c <"$dir/snapshot.bin")
load_bin() {
	reset_db
	cat "$dir/snapshot.bin" >/dev/null
	sql -c "CREATE TABLE t_bin ($columns)"
	time_load "psql \\copy (FORMAT binary)" psql -X -q -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$port" -U postgres -d postgres \
		-c "\\copy t_bin FROM '$dir/snapshot.bin' (FORMAT binary)"
	check_rows t_bin "psql \\copy binary"
	t_bin=$elapsed
	cpu_bin=$cpu
}
# One CSV load next to it, in the same minutes.
load_psql_csv_again() {
	reset_db
	sql -c "CREATE TABLE t_psql ($columns)"
	time_load "psql \\copy (csv)" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
		-p "$port" -U postgres -d postgres \
		-c "\\copy t_psql FROM '$csv' csv header"
	t_csv2=$elapsed
	cpu_csv2=$cpu
}
# snap-import as CSV and in binary (its default), the same minutes.
load_snap_as() {
	reset_db
	time_load "snap-import $1" "$snap" -d "127.0.0.1:$port" -t t_snap \
		--copy-format "$1" "$csv"
	check_rows t_snap "snap-import --copy-format $1"
}
load_bin
load_psql_csv_again
rm -f "$dir/snapshot.bin"
load_snap_as csv
t_snap_csv=$elapsed
cpu_snap_csv=$cpu
load_snap_as auto
t_snap_bin=$elapsed
cpu_snap_bin=$cpu

# row NAME SECONDS CPU: one line of the table.
row() {
	printf '| %s | ' "$1"
	awk -v t="$2" -v b="$size" -v r="$rows" -v c="$3" 'BEGIN {
		printf "%.2f | %.1f | %.0f | %s |\n", t, b / 1e6 / t, r / t, c
	}'
}
# ratio OTHER: snap-import's throughput over the other's.
ratio() {
	awk -v o="$1" -v s="$t_snap" 'BEGIN { printf "%.2f", o / s }'
}

if [ "$rounds" = 1 ]; then
	how="one run each"
else
	how="best of $rounds runs for psql and snap-import"
	[ "$with_pgloader" = 0 ] || how="$how, one for pgloader"
fi
cat <<EOF
## snap-import

Loading one CSV snapshot of $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') MB ($size bytes, $rows rows, \`gen-snapshot --bytes $bytes --seed 1\`) into an empty table of a scratch PostgreSQL $server_version (defaults, autovacuum off), each loader over TCP to 127.0.0.1, the file in the page cache; $how, the time of the whole command, after one untimed warm-up load. psql and pgloader load into a table created beforehand; snap-import creates its table with the index on snapshot_id, infers the types from the whole file (a first read), hashes the file, sends the rows in COPY's binary format (parsed and encoded by the client, below) and records it.

| loader | seconds | MB/s | rows/s | server CPU s |
|---|---:|---:|---:|---:|
$(row "psql \\copy" "$t_psql" "$cpu_psql")
$(row snap-import "$t_snap" "$cpu_snap")
$([ "$with_pgloader" = 0 ] || row pgloader "$t_pgloader" "")

snap-import vs psql \\copy: $(ratio "$t_psql") (throughput, >= 1.0 means as fast or faster)
$([ "$with_pgloader" = 0 ] && echo "
pgloader left out of this run (SNAP_BENCH_PGLOADER=0)." || echo "
snap-import vs pgloader: $(ratio "$t_pgloader") (throughput, >= 1.0 means as fast or faster)")

### $nfiles files at once

The same rows as $nfiles files of about $(awk -v b="$size" -v n="$nfiles" 'BEGIN { printf "%.0f", b / n / 1e6 }') MB, into one table: $nfiles psql \\copy, one process after another (a table created beforehand), against one \`snap-import --jobs $jobs\` of the $nfiles files (it creates the table with the first file, then loads $jobs at a time, each file in its own transaction, hashed, with its ledger row and the snapshot_id index). One run each.

| loader | seconds |
|---|---:|
| psql \\copy x $nfiles, one after another | $t_many_psql |
| snap-import --jobs $jobs | $t_many_snap |

snap-import --jobs $jobs vs $nfiles psql \\copy in a row: $(awk -v o="$t_many_psql" -v s="$t_many_snap" 'BEGIN { printf "%.2f", o / s }') (>= 1.0 means as fast or faster)

### COPY in binary format

The same rows loaded by psql \\copy from CSV and from COPY's binary format ($(awk -v b="$bin_size" 'BEGIN { printf "%.0f", b / 1e6 }') MB, written by the server with COPY TO beforehand), into a table without indexes; then by snap-import sending CSV (\`--copy-format csv\`) and binary (its default: it parses the CSV and encodes every value exactly as the server would read it), creating its table with the index, hashing and recording the file. One run each, one after the other. The psql binary load is what the server's CPU can gain at most; snap-import's binary row is the whole cost, the client's parsing included.

| load | seconds | server CPU s | server CPU µs per row |
|---|---:|---:|---:|
| psql \\copy, CSV | $t_csv2 | $cpu_csv2 | $(awk -v c="$cpu_csv2" -v r="$rows" 'BEGIN { printf "%.2f", c / r * 1e6 }') |
| psql \\copy, binary file | $t_bin | $cpu_bin | $(awk -v c="$cpu_bin" -v r="$rows" 'BEGIN { printf "%.2f", c / r * 1e6 }') |
| snap-import --copy-format csv | $t_snap_csv | $cpu_snap_csv | $(awk -v c="$cpu_snap_csv" -v r="$rows" 'BEGIN { printf "%.2f", c / r * 1e6 }') |
| snap-import, binary | $t_snap_bin | $cpu_snap_bin | $(awk -v c="$cpu_snap_bin" -v r="$rows" 'BEGIN { printf "%.2f", c / r * 1e6 }') |

psql binary file vs CSV, server CPU per row: $(awk -v a="$cpu_bin" -v b="$cpu_csv2" 'BEGIN { printf "%.2f", a / b }'), wall time: $(awk -v a="$t_bin" -v b="$t_csv2" 'BEGIN { printf "%.2f", a / b }') (below 1.0: less)

snap-import binary vs CSV, server CPU per row: $(awk -v a="$cpu_snap_bin" -v b="$cpu_snap_csv" 'BEGIN { printf "%.2f", a / b }'), wall time: $(awk -v a="$t_snap_bin" -v b="$t_snap_csv" 'BEGIN { printf "%.2f", a / b }') (below 1.0: less)

EOF
