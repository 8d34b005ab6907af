#!/usr/bin/env bats
# snap-import's features of issue 15 used together, after the merge of the
# CSV dialect and compressed files (r15dialect) with schema drift, --jobs,
# --force and the speculative inference (r15schema): the dialect reaches
# --jobs, the inference of added columns and the inference thread; a
# compressed file is read by --jobs, drift and the thread alike. Values are
# checked against psql \copy into text columns, with the same options, of
# what the system's own decompressor writes.

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
	T=g$BATS_TEST_NUMBER
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

column_types() {
	sql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$1' AND column_name <> 'snapshot_id'"
}

snapshot_of() { sql "SELECT id FROM snap_import_files WHERE target_table = 'public.$T' AND file_name = '$1' AND status = 'imported'"; }

# oracle FILE NAME "COPY OPTIONS" COL...: the rows of NAME's snapshot in
# $T, each column COL read back as text, are what psql \copy with the
# options puts in text columns COL... from the plain FILE. Rows are matched
# through the column rn.
oracle() {
	local file=$1 name=$2 opts=$3 o=${T}_o$RANDOM id defs c
	shift 3
	id=$(snapshot_of "$name")
	[ -n "$id" ] || fail "$name is not in the ledger"
	defs=$(printf '%s text, ' "$@")
	sql "CREATE TABLE $o (${defs%, })"
	psql -X -v ON_ERROR_STOP=1 -q -c "\\copy $o FROM '$file' ($opts)"
	assert_equal "$(sql "SELECT count(*) FROM $T WHERE snapshot_id = $id")" "$(sql "SELECT count(*) FROM $o")"
	# Equal counts, and no (rn, value) pair of \copy's missing from the
	# snapshot (EXCEPT ALL: as multisets, a NULL matching a NULL).
	for c in "$@"; do
		run sql "SELECT rn, $c FROM $o EXCEPT ALL SELECT rn::text, $c::text FROM $T WHERE snapshot_id = $id LIMIT 3"
		assert_success
		[ -z "$output" ] || fail "$name: column $c differs (rn, \\copy's value not in the snapshot): $output"
	done
}

# semi FILE FIRST COUNT: a ';' file of COUNT rows from rn FIRST, with NA
# for NULL in n, and names holding ';' and quotes in 'quotes'.
semi() {
	seq "$2" $(($2 + $3 - 1)) | awk 'BEGIN { print "rn;n;name" }
		{ printf "%d;%s;'\''a;''%d'\''\n", $1, ($1 % 7 ? $1 * 3 : "NA"), $1 }' >"$1"
}

SEMI_OPTS="FORMAT csv, HEADER true, DELIMITER ';', QUOTE '''', NULL 'NA'"

@test "snap-import together: --jobs reads every file in the dialect given (--delimiter, --quote, --null)" {
	semi "$W/a.csv" 1 300
	semi "$W/b.csv" 301 300
	semi "$W/c.csv" 601 300
	semi "$W/d.csv" 901 300
	run --separate-stderr snap-import -t "$T" --jobs 3 --delimiter ';' --quote "'" --null NA "$W"/{a,b,c,d}.csv
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(echo "$output" | grep -c '^imported ')" 4
	# NA is NULL: n stays integer; the quoted ';' is data.
	assert_equal "$(column_types "$T")" "rn integer, n integer, name text"
	for f in a b c d; do
		oracle "$W/$f.csv" "$W/$f.csv" "$SEMI_OPTS" rn n name
	done
	assert_equal "$(sql "SELECT count(*) FROM $T WHERE n IS NULL")" 171
	# A table that exists: the files all at once, in the dialect too.
	semi "$W/e.csv" 1201 300
	semi "$W/f.csv" 1501 300
	run --separate-stderr snap-import -t "$T" -j 2 --delimiter ';' --quote "'" --null NA "$W"/{e,f}.csv
	assert_success
	oracle "$W/f.csv" "$W/f.csv" "$SEMI_OPTS" rn n name
}

@test "snap-import together: --jobs with --header none --columns" {
	seq 1 500 | awk '{ printf "%d,v%d\n", $1, $1 }' >"$W/a.csv"
	seq 501 1000 | awk '{ printf "%d,v%d\n", $1, $1 }' >"$W/b.csv"
	seq 1001 1500 | awk '{ printf "%d,v%d\n", $1, $1 }' >"$W/c.csv"
	run --separate-stderr snap-import -t "$T" -j 2 --header none --columns rn,v "$W"/{a,b,c}.csv
	assert_success
	assert_equal "$(column_types "$T")" "rn integer, v text"
	for f in a b c; do
		oracle "$W/$f.csv" "$W/$f.csv" "FORMAT csv" rn v
	done
}

@test "snap-import together: compressed files with --jobs" {
	local c
	for c in gz zst xz bz2; do
		seq 1 2000 | awk -v c=$c 'BEGIN { print "rn,zip,tag" } { printf "%d,%05d,%s%d\n", $1, $1, c, $1 }' >"$W/s_$c.csv"
	done
	gzip -c "$W/s_gz.csv" >"$W/s_gz.csv.gz"
	zstd -q -c "$W/s_zst.csv" >"$W/s_zst.csv.zst"
	xz -c "$W/s_xz.csv" >"$W/s_xz.csv.xz"
	bzip2 -c "$W/s_bz2.csv" >"$W/s_bz2.csv.bz2"
	run --separate-stderr snap-import -t "$T" --jobs 4 "$W"/s_gz.csv.gz "$W"/s_zst.csv.zst "$W"/s_xz.csv.xz "$W"/s_bz2.csv.bz2
	assert_success
	assert_equal "$stderr" ""
	# Each with its content's bytes.
	for c in gz zst xz bz2; do
		assert_line --regexp "^imported $W/s_$c.csv.$c: 2000 rows, $(stat -c %s "$W/s_$c.csv") bytes"
	done
	assert_equal "$(column_types "$T")" "rn integer, zip text, tag text"
	zcat "$W/s_gz.csv.gz" >"$W/o_gz.csv"
	zstdcat "$W/s_zst.csv.zst" >"$W/o_zst.csv"
	xzcat "$W/s_xz.csv.xz" >"$W/o_xz.csv"
	bzcat "$W/s_bz2.csv.bz2" >"$W/o_bz2.csv"
	oracle "$W/o_gz.csv" "$W/s_gz.csv.gz" "FORMAT csv, HEADER true" rn zip tag
	oracle "$W/o_zst.csv" "$W/s_zst.csv.zst" "FORMAT csv, HEADER true" rn zip tag
	oracle "$W/o_xz.csv" "$W/s_xz.csv.xz" "FORMAT csv, HEADER true" rn zip tag
	oracle "$W/o_bz2.csv" "$W/s_bz2.csv.bz2" "FORMAT csv, HEADER true" rn zip tag
	# Known by content under --jobs too: the plain files are skipped.
	run snap-import -t "$T" -j 2 "$W"/s_gz.csv "$W"/s_xz.csv
	assert_success
	assert_equal "$(echo "$output" | grep -c '^skipped ')" 2
}

@test "snap-import together: a compressed file's new columns are added (schema drift), their types from its content" {
	printf 'rn,name\n1,ann\n2,bob\n' >"$W/day1.csv"
	{
		echo 'rn,name,visits,zip'
		seq 3 3000 | awk '{ printf "%d,n%d,%d,%05d\n", $1, $1, $1 * 1000000, $1 }'
	} >"$W/day2.csv"
	gzip -c "$W/day2.csv" >"$W/day2.csv.gz"
	{
		echo 'zip,rn'
		echo '00001,3001'
	} | zstd -q >"$W/day3.csv.zst"
	snap-import -t "$T" "$W/day1.csv"
	run --separate-stderr snap-import -t "$T" "$W/day2.csv.gz" "$W/day3.csv.zst"
	assert_success
	assert_equal "$stderr" "snap-import: info: added to table \"$T\": \"visits\" bigint, \"zip\" text"
	assert_line --index 0 --regexp "^imported $W/day2.csv.gz: 2998 rows"
	assert_equal "$(column_types "$T")" "rn integer, name text, visits bigint, zip text"
	zcat "$W/day2.csv.gz" >"$W/o2.csv"
	oracle "$W/o2.csv" "$W/day2.csv.gz" "FORMAT csv, HEADER true" rn name visits zip
	zstdcat "$W/day3.csv.zst" >"$W/o3.csv"
	oracle "$W/o3.csv" "$W/day3.csv.zst" "FORMAT csv, HEADER true" zip rn
	assert_equal "$(sql "SELECT count(visits) FROM $T WHERE rn = 3001")" 0
	# With --jobs, a compressed file that adds a column among others.
	{
		echo 'rn,name,level'
		echo '4000,x,7'
	} | xz >"$W/day4.csv.xz"
	printf 'rn,name\n4001,y\n' >"$W/day5.csv"
	run --separate-stderr snap-import -t "$T" -j 2 "$W/day4.csv.xz" "$W/day5.csv"
	assert_success
	assert_equal "$stderr" "snap-import: info: added to table \"$T\": \"level\" integer"
	assert_equal "$(sql "SELECT level FROM $T WHERE rn = 4000")" 7
}

@test "snap-import together: a column added in the dialect gets its type from the dialect's values" {
	printf 'rn;name\n1;ann\n' >"$W/a.csv"
	# n: numbers and NA; note: a quoted 'x;y'.
	{
		echo "rn;name;n;note"
		echo "2;bob;5;'x;y'"
		echo "3;carl;NA;NA"
		echo "4;dora;3000000000;''"
	} >"$W/b.csv"
	snap-import -t "$T" --delimiter ';' "$W/a.csv"
	run --separate-stderr snap-import -t "$T" --delimiter ';' --quote "'" --null NA "$W/b.csv"
	assert_success
	assert_equal "$stderr" "snap-import: info: added to table \"$T\": \"n\" bigint, \"note\" text"
	oracle "$W/b.csv" "$W/b.csv" "$SEMI_OPTS" rn name n note
	assert_equal "$(sql "SELECT count(*) FROM $T WHERE note IS NULL")" 2
}

@test "snap-import together: a first file longer than the sample, in the dialect and compressed, gets the whole file's types" {
	# About 6 MiB of ';' rows, NA for NULL; after the sample, a word in
	# the integer column level.
	seq 1 250000 | awk 'BEGIN { print "rn;n;level;name" }
		{ printf "%d;%s;%d;'\''n;%d'\''\n", $1, ($1 % 5 ? $1 : "NA"), $1 % 10, $1 }' >"$W/big.csv"
	echo "250001;NA;high;'late'" >>"$W/big.csv"
	[ "$(wc -c <"$W/big.csv")" -gt $((4 << 20)) ]
	run --separate-stderr snap-import -t "$T" --delimiter ';' --quote "'" --null NA "$W/big.csv"
	assert_success
	assert_equal "$stderr" ""
	assert_output --regexp "^imported $W/big.csv: 250001 rows"
	assert_equal "$(column_types "$T")" "rn integer, n integer, level text, name text"
	oracle "$W/big.csv" "$W/big.csv" "$SEMI_OPTS" rn n level name
	# The same content compressed, into a table of its own: the thread
	# reads the decompressed copy.
	gzip -c "$W/big.csv" >"$W/big.csv.gz"
	T=${T}z
	run --separate-stderr snap-import -t "$T" --delimiter ';' --quote "'" --null NA "$W/big.csv.gz"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(column_types "$T")" "rn integer, n integer, level text, name text"
	oracle "$W/big.csv" "$W/big.csv.gz" "$SEMI_OPTS" rn n level name
	# Without the late word, the sample's types stand.
	sed '$d' "$W/big.csv" | zstd -q >"$W/fit.csv.zst"
	T=${T}f
	run --separate-stderr snap-import -t "$T" --delimiter ';' --quote "'" --null NA "$W/fit.csv.zst"
	assert_success
	assert_equal "$(column_types "$T")" "rn integer, n integer, level integer, name text"
}

@test "snap-import together: --table-from-name refuses --jobs, and takes --force" {
	printf 'a,b\n1,2\n' >"$W/${T}_20240301.csv"
	run --separate-stderr snap-import --table-from-name '%t_%Y%m%d.csv' --jobs 2 "$W/${T}_20240301.csv"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "snap-import: error: --jobs and --table-from-name cannot be used together: the files of several tables are imported one at a time
Try \"snap-import --help\" for more information."
	run --separate-stderr snap-import --table-from-name '%t_%Y%m%d.csv' --jobs 1 "$W/${T}_20240301.csv"
	assert_success
	assert_equal "$(sql "SELECT a, snapshot_date FROM $T")" "1|2024-03-01"
	sql "TRUNCATE $T"
	run --separate-stderr snap-import --table-from-name '%t_%Y%m%d.csv' "$W/${T}_20240301.csv"
	assert_failure 1
	[[ $stderr == *"whose 1 rows are no longer in table \"$T\""*"give --force to import it again"* ]] || fail "$stderr"
	run --separate-stderr snap-import --table-from-name '%t_%Y%m%d.csv' --force "$W/${T}_20240301.csv"
	assert_success
	assert_equal "$(sql "SELECT a, snapshot_date FROM $T")" "1|2024-03-01"
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'")" 1
}

@test "snap-import together: sync, retry and forget with a compressed file in the dialect" {
	mkdir -m 0755 "$W/in"
	sql "CREATE TABLE $T (a int, b int, snapshot_id bigint)"
	printf 'a;b\n1;x\n' | gzip >"$W/in/f.csv.gz"
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --delimiter ';' --once
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: could not import "f.csv.gz": line 2, column b: invalid input syntax for type integer: "x"'
	# Recorded by its content, as import records it.
	assert_equal "$(sql "SELECT sha256 FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'failed'")" "$(zcat "$W/in/f.csv.gz" | sha256sum | cut -d' ' -f1)"
	run --separate-stderr snap-import forget -t "$T" "$W/in/f.csv.gz"
	assert_success
	assert_output "forgot 1 failure of $W/in/f.csv.gz"
	sql "ALTER TABLE $T ALTER COLUMN b TYPE text"
	run --separate-stderr snap-import retry -t "$T" --delimiter ';' "$W/in/f.csv.gz"
	assert_success
	assert_output --regexp "^imported $W/in/f.csv.gz: 1 rows"
	assert_equal "$(sql "SELECT a, b FROM $T")" "1|x"
	# sync knows the content now: skipped, nothing failed.
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --delimiter ';' --once -v
	assert_success
	[[ $stderr == *"skipped f.csv.gz: already imported"* ]] || fail "$stderr"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 1
}
