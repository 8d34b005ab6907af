#!/usr/bin/env bats
# snap-import and the table over time (issue 15): schema drift (a new
# column added, a missing one NULL, reordered ones by name, a type that no
# longer fits refused), snapshots whose rows are gone (S2-7) and --force,
# a least-privilege loader (S2-11), the snapshot_id index (S2-14) and
# --jobs. Values are checked against psql \copy into text columns.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	start_postgres
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/work.XXXXXX")
	chmod 0755 "$W"
	T=s$BATS_TEST_NUMBER
	GEN=$DBOPS_BUILD/tests/gen-snapshot
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

csv() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
}

column_types() {
	sql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$1'"
}

ledger() { sql "SELECT string_agg(file_name || ':' || rows, ' ' ORDER BY id) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'imported'"; }

snapshot_of() { sql "SELECT id FROM snap_import_files WHERE target_table = 'public.$T' AND file_name = '$1' AND status = 'imported'"; }

# oracle FILE: the rows of FILE's snapshot in $T, each of the table's
# columns read back as text, are what psql \copy puts in text columns made
# from FILE's header; the table's other columns are NULL in that snapshot.
# Rows are matched through the column rn.
oracle() {
	local file=$1 o=${T}_o$RANDOM id cols defs c
	id=$(snapshot_of "$file")
	[ -n "$id" ] || fail "$file is not in the ledger"
	cols=$(head -n 1 "$file")
	defs=$(echo "$cols" | sed 's/,/ text, /g; s/$/ text/')
	sql "CREATE TABLE $o ($defs)"
	psql -X -v ON_ERROR_STOP=1 -q -c "\\copy $o FROM '$file' (FORMAT csv, HEADER true)"
	assert_equal "$(sql "SELECT count(*) FROM $T WHERE snapshot_id = $id")" "$(sql "SELECT count(*) FROM $o")"
	for c in ${cols//,/ }; do
		run sql "SELECT o.rn, o.$c, s.$c::text FROM $o o JOIN $T s ON s.rn::text = o.rn AND s.snapshot_id = $id WHERE o.$c IS DISTINCT FROM s.$c::text LIMIT 3"
		assert_success
		[ -z "$output" ] || fail "$file: column $c differs (rn, \\copy, snap-import): $output"
	done
	for c in $(sql "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$T' AND column_name <> 'snapshot_id'"); do
		case ",$cols," in *",$c,"*) continue ;; esac
		assert_equal "$(sql "SELECT count($c) FROM $T WHERE snapshot_id = $id")" 0
	done
}

@test "snap-import schema: a later snapshot's new column is added, a missing one is NULL, reordered ones map by name" {
	csv "$W/day1.csv" 'rn,name,amount' '1,ann,10' '2,bob,20'
	# New columns: one integer, one text (leading zero), one all NULL;
	# reordered; amount missing.
	csv "$W/day2.csv" 'zip,name,rn,visits,note' '08123,carl,3,5,' '12345,dora,4,3000000000,'
	csv "$W/day3.csv" 'amount,rn' '7,5'
	run --separate-stderr snap-import -t "$T" "$W/day1.csv" "$W/day2.csv" "$W/day3.csv"
	assert_success
	assert_line --index 1 --regexp "^imported $W/day2.csv: 2 rows"
	assert_equal "$stderr" "snap-import: info: added to table \"$T\": \"zip\" text, \"visits\" bigint, \"note\" text"
	run column_types "$T"
	assert_output "rn integer, name text, amount integer, snapshot_id bigint, zip text, visits bigint, note text"
	oracle "$W/day1.csv"
	oracle "$W/day2.csv"
	oracle "$W/day3.csv"
	assert_equal "$(ledger)" "$W/day1.csv:2 $W/day2.csv:2 $W/day3.csv:1"
}

@test "snap-import schema: --types and --all-text give the type of an added column" {
	csv "$W/a.csv" 'rn' '1'
	csv "$W/b.csv" 'rn,n,m' '2,5,6'
	snap-import -t "$T" "$W/a.csv"
	run snap-import -t "$T" --types n=numeric "$W/b.csv"
	assert_success
	assert_equal "$(column_types "$T")" "rn integer, snapshot_id bigint, n numeric, m integer"
	csv "$W/c.csv" 'rn,k' '3,7'
	snap-import -t "$T" --all-text "$W/c.csv"
	assert_equal "$(column_types "$T")" "rn integer, snapshot_id bigint, n numeric, m integer, k text"
}

@test "snap-import schema: a file that fails takes its new columns with it" {
	csv "$W/a.csv" 'rn,amount' '1,10'
	csv "$W/b.csv" 'rn,amount,extra' '2,20,x' '3,oops,y'
	snap-import -t "$T" "$W/a.csv"
	run --separate-stderr snap-import -t "$T" "$W/b.csv"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "snap-import: error: could not import \"$W/b.csv\": line 3, column amount: invalid input syntax for type integer: \"oops\""
	assert_equal "$(column_types "$T")" "rn integer, amount integer, snapshot_id bigint"
	assert_equal "$(ledger)" "$W/a.csv:1"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 1
}

@test "snap-import schema: a value whose type no longer fits its column is refused with the line and column, nothing imported" {
	csv "$W/a.csv" 'rn,amount,day' '1,10,2024-01-01'
	snap-import -t "$T" "$W/a.csv"
	csv "$W/decimal.csv" 'rn,amount,day' '2,11,2024-01-02' '3,6.5,2024-01-03'
	csv "$W/big.csv" 'rn,amount,day' '4,99999999999,2024-01-04'
	csv "$W/empty.csv" 'rn,amount,day' '5,"",2024-01-05'
	csv "$W/date.csv" 'rn,amount,day' '6,1,2024-02-30'
	for f in decimal big empty date; do
		run --separate-stderr snap-import -t "$T" "$W/$f.csv"
		assert_failure 1
		assert_output ""
		case $f in
		decimal) why='line 3, column amount: invalid input syntax for type integer: "6.5"' ;;
		big) why='line 2, column amount: value "99999999999" is out of range for type integer' ;;
		empty) why='line 2, column amount: invalid input syntax for type integer: ""' ;;
		date) why='line 2, column day: date/time field value out of range: "2024-02-30"' ;;
		esac
		assert_equal "$stderr" "snap-import: error: could not import \"$W/$f.csv\": $why"
	done
	assert_equal "$(ledger)" "$W/a.csv:1"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 1
	# What \copy makes of the same file in text columns: the value as written.
	sql "CREATE TABLE ${T}_o (rn text, amount text, day text)"
	psql -X -q -c "\\copy ${T}_o FROM '$W/decimal.csv' (FORMAT csv, HEADER true)"
	assert_equal "$(sql "SELECT amount FROM ${T}_o WHERE rn = '3'")" 6.5
}

@test "snap-import schema: rows gone after TRUNCATE or DELETE are said, not skipped in silence; --force imports again (S2-7)" {
	"$GEN" --rows 300 --seed 1 >"$W/a.csv"
	"$GEN" --rows 200 --seed 2 >"$W/b.csv"
	snap-import -t "$T" "$W/a.csv" "$W/b.csv"
	local a b at
	a=$(snapshot_of "$W/a.csv")
	b=$(snapshot_of "$W/b.csv")
	sql "DELETE FROM $T WHERE snapshot_id = $a"
	run --separate-stderr snap-import -t "$T" "$W/a.csv" "$W/b.csv"
	assert_failure 1
	assert_output --regexp "^skipped $W/b.csv: already imported at "
	at=$(snap-import list -t "$T" --format csv 2>/dev/null | awk -F, -v id="$a" '$1 == id { print $6 }')
	assert_equal "$stderr" "snap-import: error: could not import \"$W/a.csv\": its content is snapshot $a, imported at $at as \"$W/a.csv\", whose 300 rows are no longer in table \"$T\" (deleted, truncated or the table dropped); give --force to import it again"
	run --separate-stderr snap-import list -t "$T" --format csv
	assert_success
	assert_line --index 0 "id,file,sha256,rows,bytes,imported_at,seconds,by,in_table"
	assert_line --index 1 --regexp "^$a,$W/a.csv,.*,no\$"
	assert_line --index 2 --regexp "^$b,$W/b.csv,.*,yes\$"
	assert_equal "$stderr" "snap-import: warning: the rows of snapshot $a are no longer in table \"$T\"; import its file again with --force"
	run --separate-stderr snap-import list -t "$T" --format tsv "$W/a.csv"
	assert_line --index 1 --regexp "^$W/a.csv	yes	.*	$a	no\$"
	run snap-import -t "$T" --force "$W/a.csv"
	assert_success
	assert_output --regexp "^imported $W/a.csv: 300 rows, .*, snapshot [0-9]+, replacing snapshot $a\$"
	assert_equal "$(ledger)" "$W/b.csv:200 $W/a.csv:300"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 500
	# TRUNCATE: every snapshot gone.
	sql "TRUNCATE $T"
	run --separate-stderr snap-import -t "$T" "$W/b.csv"
	assert_failure 1
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *"whose 200 rows are no longer in table \"$T\""*"give --force to import it again" ]] || fail "$stderr"
}

@test "snap-import schema: --force on a snapshot still in the table replaces it, no duplicate rows" {
	"$GEN" --rows 100 --seed 4 >"$W/a.csv"
	snap-import -t "$T" "$W/a.csv"
	sql "DELETE FROM $T WHERE player_id <= 40"
	run snap-import -t "$T" "$W/a.csv"
	assert_success
	assert_output --regexp "^skipped "
	run snap-import -t "$T" --force "$W/a.csv"
	assert_success
	assert_equal "$(sql "SELECT count(*), count(DISTINCT player_id) FROM $T")" "100|100"
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'")" 1
}

@test "snap-import schema: after DROP TABLE the file is refused and no table is left; --force makes it again (S2-7)" {
	csv "$W/a.csv" 'rn,amount,score' '1,10,5'
	csv "$W/b.csv" 'rn,amount' '2,11'
	snap-import -t "$T" "$W/a.csv" "$W/b.csv"
	sql "DROP TABLE $T"
	run --separate-stderr snap-import -t "$T" "$W/b.csv"
	assert_failure 1
	[[ $stderr == "snap-import: error: could not import \"$W/b.csv\": its content is snapshot "*", whose 1 rows are no longer in table \"$T\" (deleted, truncated or the table dropped); give --force to import it again" ]] || fail "$stderr"
	assert_equal "$(sql "SELECT to_regclass('$T') IS NULL")" t
	run --separate-stderr snap-import list -t "$T" --format csv
	assert_line --index 1 --regexp ",no\$"
	assert_line --index 2 --regexp ",no\$"
	run snap-import -t "$T" --force "$W/a.csv" "$W/b.csv"
	assert_success
	assert_equal "$(column_types "$T")" "rn integer, amount integer, score integer, snapshot_id bigint"
	assert_equal "$(sql "SELECT string_agg(rn || ':' || amount, ' ' ORDER BY rn) FROM $T")" "1:10 2:11"
}

@test "snap-import schema: a least-privilege loader imports into an existing table (S2-11)" {
	local role=loader_$T
	csv "$W/a.csv" 'rn,amount' '1,10'
	csv "$W/b.csv" 'rn,amount' '2,20' '3,30'
	csv "$W/c.csv" 'amount,rn' '40,4'
	csv "$W/new.csv" 'rn,amount,extra' '5,50,x'
	snap-import -t "$T" "$W/a.csv"
	# The grants of snap-import(1), PRIVILEGES, and nothing more.
	sql "CREATE SCHEMA IF NOT EXISTS nocreate"
	sql "CREATE ROLE $role LOGIN;
	     REVOKE CREATE ON SCHEMA public FROM PUBLIC;
	     GRANT USAGE ON SCHEMA public TO $role;
	     GRANT INSERT ON $T TO $role;
	     GRANT SELECT, INSERT ON snap_import_files TO $role;
	     GRANT USAGE ON SEQUENCE snap_import_files_id_seq TO $role"
	run --separate-stderr env PGUSER=$role snap-import -t "$T" "$W/b.csv" "$W/c.csv"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(sql "SELECT string_agg(rn || ':' || amount, ' ' ORDER BY rn) FROM $T")" "1:10 2:20 3:30 4:40"
	assert_equal "$(sql "SELECT string_agg(imported_by, ' ' ORDER BY id) FROM snap_import_files WHERE target_table = 'public.$T'" | wc -w)" 3
	# Skipping a known content needs no more.
	run env PGUSER=$role snap-import -t "$T" "$W/b.csv"
	assert_success
	assert_output --regexp "^skipped "
	# What it may not do is refused, naming what is missing.
	run --separate-stderr env PGUSER=$role snap-import -t "$T" "$W/new.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/new.csv\": column \"extra\" of the header is not in table \"$T\" and could not be added: must be owner of table $T"
	run --separate-stderr env PGUSER=$role snap-import -t "${T}_other" "$W/a.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/a.csv\": could not create table \"${T}_other\": permission denied for schema public"
	sql "GRANT CREATE ON SCHEMA public TO PUBLIC"
}

@test "snap-import schema: a new table has an index on snapshot_id: the rows of the latest snapshot are not a scan of the history (S2-14)" {
	for s in 1 2 3 4; do
		"$GEN" --rows 20000 --seed "$s" >"$W/day$s.csv"
	done
	snap-import -t "$T" "$W"/day*.csv >/dev/null
	sql "ANALYZE $T"
	assert_equal "$(sql "SELECT indexdef FROM pg_indexes WHERE tablename = '$T'")" "CREATE INDEX ${T}_snapshot_id_idx ON public.$T USING brin (snapshot_id)"
	# As autovacuum would: the ranges written since the index was built
	# summarized.
	sql "VACUUM $T"
	run sql "EXPLAIN (COSTS OFF) SELECT * FROM $T WHERE snapshot_id = (SELECT max(id) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'imported')"
	assert_success
	assert_output --partial "Bitmap Index Scan on ${T}_snapshot_id_idx"
	refute_output --partial "Seq Scan on $T"
	# ... and it reads the blocks of that snapshot, not the others'.
	local latest
	latest=$(sql "SELECT max(id) FROM snap_import_files WHERE target_table = 'public.$T'")
	run sql "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM $T WHERE snapshot_id = $latest"
	assert_output --regexp "Heap Blocks: lossy=[0-9]+"
	local read all
	read=$(echo "$output" | sed -n 's/.*Heap Blocks: lossy=\([0-9]*\).*//p' | awk '{ s += $1 } END { print s }')
	all=$(sql "SELECT relpages FROM pg_class WHERE relname = '$T'")
	[ "$read" -lt $((all / 2)) ] || fail "read $read of $all blocks for one snapshot of four"
	# The same query on a table made as an older release made it: a scan.
	sql "DROP INDEX ${T}_snapshot_id_idx"
	run sql "EXPLAIN (COSTS OFF) SELECT * FROM $T WHERE snapshot_id = 2"
	assert_output --partial "Seq Scan on $T"
}

@test "snap-import schema: --jobs imports several files at once, each in its own transaction, ids in the files' order; a failure loses nothing else" {
	for s in 1 2 3 4 5 6; do
		"$GEN" --rows $((1000 * s)) --seed "$s" >"$W/f$s.csv"
	done
	# f4 fails at its last line; f5 adds a column.
	printf '999999,Bad,world1,1.00,1,maybe,2020-01-01,2020-01-01 00:00:00+00\n' >>"$W/f4.csv"
	{
		echo "$(head -n 1 "$W/f5.csv"),tag"
		tail -n +2 "$W/f5.csv" | sed 's/$/,x/'
	} >"$W/f5b.csv"
	mv "$W/f5b.csv" "$W/f5.csv"
	run --separate-stderr snap-import -t "$T" --jobs 3 "$W"/f{1,2,3,4,5,6}.csv
	assert_failure 1
	assert_equal "${#lines[@]}" 5
	assert_line --regexp "^imported $W/f6.csv: 6000 rows"
	[[ $stderr == *"could not import \"$W/f4.csv\": line 4002, column active: invalid input syntax for type boolean: \"maybe\""* ]] || fail "$stderr"
	assert_equal "$(ledger)" "$W/f1.csv:1000 $W/f2.csv:2000 $W/f3.csv:3000 $W/f5.csv:5000 $W/f6.csv:6000"
	# Every snapshot holds exactly its file's rows.
	assert_equal "$(sql "SELECT string_agg(f.rows || '=' || (SELECT count(*) FROM $T d WHERE d.snapshot_id = f.id), ' ' ORDER BY f.id) FROM snap_import_files f WHERE target_table = 'public.$T'")" "1000=1000 2000=2000 3000=3000 5000=5000 6000=6000"
	assert_equal "$(sql "SELECT count(tag) FROM $T")" 5000
	# Again with --jobs: all skipped but the fixed f4.
	sed -i '$d' "$W/f4.csv"
	run snap-import -t "$T" -j 2 "$W"/f{1,2,3,4,5,6}.csv
	assert_success
	assert_equal "$(echo "$output" | grep -c '^skipped ')" 5
	assert_line --regexp "^imported $W/f4.csv: 4000 rows"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 21000
}

@test "snap-import schema: --jobs on a new table: the first file makes it, the rest follow at once" {
	for s in 1 2 3 4; do
		"$GEN" --rows 500 --seed "$s" >"$W/f$s.csv"
	done
	run snap-import -t "$T" -j 4 "$W"/f*.csv
	assert_success
	assert_equal "$(ledger)" "$W/f1.csv:500 $W/f2.csv:500 $W/f3.csv:500 $W/f4.csv:500"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 2000
}

@test "snap-import schema: --jobs and --force belong to import" {
	run --separate-stderr snap-import list --jobs 2
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: --jobs and --force belong to import"
	run --separate-stderr snap-import sync -D "$W" --force
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: --jobs and --force belong to import"
	run --separate-stderr snap-import -t "$T" --jobs 0 x.csv
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: invalid value "0" for --jobs: use a number from 1 to 64'
}

@test "snap-import schema: a first file longer than the 4 MiB sample gets the whole file's types, though its COPY starts on the sample's" {
	"$GEN" --rows 100000 --seed 7 >"$W/late.csv"
	# After the sample: an integer beyond integer, a word in an integer
	# column.
	printf '100001,Late,world1,1.5,abc,true,2020-01-01,2020-01-01 00:00:00+00\n' >>"$W/late.csv"
	printf '3000000000,Later,world1,1.5,3,true,2020-01-01,2020-01-01 00:00:00+00\n' >>"$W/late.csv"
	[ "$(wc -c <"$W/late.csv")" -gt $((4 << 20)) ]
	run --separate-stderr snap-import -t "$T" "$W/late.csv"
	assert_success
	assert_equal "$stderr" ""
	assert_output --regexp "^imported $W/late.csv: 100002 rows"
	assert_equal "$(column_types "$T")" "player_id bigint, name text, world text, score numeric, level text, active boolean, joined date, last_seen timestamp with time zone, snapshot_id bigint"
	assert_equal "$(snap-import plan "$W/late.csv" | sed -n '2p;6p')" '    "player_id" bigint,
    "level" text,'
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'")" 1
	# The values: as psql \copy has them in text columns.
	sql "CREATE TABLE ${T}_o (player_id text, name text, world text, score text, level text, active text, joined text, last_seen text)"
	psql -X -q -c "\\copy ${T}_o FROM '$W/late.csv' (FORMAT csv, HEADER true)"
	assert_equal "$(sql "SELECT count(*) FROM ${T}_o o JOIN $T s ON s.player_id::text = o.player_id AND s.name = o.name AND s.level = o.level AND s.score::text = o.score")" 100002
}

@test "snap-import schema: sync reports a file whose rows are gone and exits 1 with --once, until --force imports it again (S2-7)" {
	mkdir -m 0755 "$W/in"
	csv "$W/in/x.csv" 'a,b' '1,2'
	snap-import sync -D "$W/in" -t "$T" --once 2>/dev/null
	sql "TRUNCATE $T"
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_failure 1
	[[ ${stderr_lines[0]} == "snap-import: error: could not import \"x.csv\": its content is snapshot "*", whose 1 rows are no longer in table \"$T\" (deleted, truncated or the table dropped); give --force to import it again" ]] || fail "$stderr"
	assert_equal "${stderr_lines[1]}" "snap-import: error: 1 file of \"$W/in\" failed and is not imported: \"x.csv\""
	run snap-import -t "$T" --force "$W/in/x.csv"
	assert_success
	assert_output --regexp "replacing snapshot [0-9]+\$"
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_success
	assert_equal "$(sql "SELECT count(*) FROM $T")" 1
	assert_equal "$(sql "SELECT string_agg(status, ' ') FROM snap_import_files WHERE target_table = 'public.$T'")" imported
}
