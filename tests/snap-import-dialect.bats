#!/usr/bin/env bats
# snap-import's CSV dialect (issue 15): --delimiter, --quote, --null,
# --header none with --columns. Inference and COPY both follow it: each
# file is checked against psql \copy with the same options into text
# columns, every value read back as col::text.

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
	T=d$BATS_TEST_NUMBER
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

# column_types TABLE: "name type, ..." in column order.
column_types() {
	sql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '$1' AND column_name <> 'snapshot_id'"
}

# oracle FILE TABLE "COPY OPTIONS" COL...: load FILE with psql \copy and
# the options into an all-text table TABLE_o with the columns COL..., and
# check that every value of TABLE, read back as col::text, is the same
# (NULL as NULL), row by row through the column rn.
oracle() {
	local file=$1 t=$2 opts=$3 defs c
	shift 3
	defs=$(printf '%s text, ' "$@")
	sql "CREATE TABLE ${t}_o (${defs%, })"
	psql -X -v ON_ERROR_STOP=1 -q -c "\\copy ${t}_o FROM '$file' ($opts)"
	[ "$(sql "SELECT count(*) FROM $t")" = "$(sql "SELECT count(*) FROM ${t}_o")" ] ||
		fail "row counts differ: $(sql "SELECT count(*) FROM $t") against $(sql "SELECT count(*) FROM ${t}_o")"
	for c in "$@"; do
		run sql "SELECT o.rn, o.$c, s.$c::text FROM ${t}_o o FULL JOIN $t s ON s.rn::text = o.rn WHERE o.$c IS DISTINCT FROM s.$c::text OR o.rn IS NULL OR s.rn IS NULL LIMIT 3"
		assert_success
		[ -z "$output" ] || fail "column $c differs (rn, \\copy, snap-import): $output"
	done
}

@test "snap-import dialect: --delimiter ';' --quote \"'\" --null NA read as \\copy reads them" {
	{
		echo "rn;n;name;code;maybe"
		echo "1;1;'a;b';007;NA"
		echo "2;NA;'it''s';'NA';"
		echo "3;3;\"x\";NA;''"
		echo "4;;'line"
		echo "two';12;'NA'"
	} >"$W/semi.csv"
	run --separate-stderr snap-import -t "$T" --delimiter ';' --quote "'" --null NA "$W/semi.csv"
	assert_success
	assert_equal "$stderr" ""
	assert_output --regexp "^imported $W/semi.csv: 4 rows"
	# An unquoted NA is NULL and does not make n text; an unquoted empty
	# field is then the empty string, which does.
	run column_types "$T"
	assert_output "rn integer, n text, name text, code text, maybe text"
	oracle "$W/semi.csv" "$T" "FORMAT csv, HEADER true, DELIMITER ';', QUOTE '''', NULL 'NA'" rn n name code maybe
	assert_equal "$(sql "SELECT count(*) FROM $T WHERE maybe IS NULL")" 1
	assert_equal "$(sql "SELECT count(*) FROM $T WHERE code IS NULL")" 1
	# Without --null NA, the same column of numbers and NA is text.
	printf 'rn;n\n1;1\n2;NA\n' >"$W/na.csv"
	run --separate-stderr snap-import -t "${T}b" --delimiter ';' "$W/na.csv"
	assert_success
	assert_equal "$(column_types "${T}b")" "rn integer, n text"
	run --separate-stderr snap-import -t "${T}c" --delimiter ';' --null NA "$W/na.csv"
	assert_success
	assert_equal "$(column_types "${T}c")" "rn integer, n integer"
	assert_equal "$(sql "SELECT count(*) FROM ${T}c WHERE n IS NULL")" 1
}

@test "snap-import dialect: tab-delimited files, as \\t or tab; the default dialect unchanged" {
	printf 'rn\tname\tv\n1\ta,b\t"x\ty"\n2\t\t""\n3\t"q""q"\t08\n' >"$W/t.tsv"
	run --separate-stderr snap-import -t "$T" --delimiter '\t' "$W/t.tsv"
	assert_success
	assert_equal "$(column_types "$T")" "rn integer, name text, v text"
	oracle "$W/t.tsv" "$T" "FORMAT csv, HEADER true, DELIMITER E'\\t'" rn name v
	run --separate-stderr snap-import -t "${T}b" --delimiter tab "$W/t.tsv"
	assert_success
	assert_equal "$(sql "SELECT string_agg(coalesce(name, '<null>'), '|' ORDER BY rn) FROM ${T}b")" 'a,b|<null>|q"q'
	# Without --delimiter: one column, as before (COPY's defaults).
	printf 'rn,name\n1,\n2,""\n' >"$W/c.csv"
	run --separate-stderr snap-import -t "${T}c" "$W/c.csv"
	assert_success
	oracle "$W/c.csv" "${T}c" "FORMAT csv, HEADER true" rn name
	assert_equal "$(sql "SELECT count(*) FROM ${T}c WHERE name IS NULL")" 1
	assert_equal "$(sql "SELECT count(*) FROM ${T}c WHERE name = ''")" 1
}

@test "snap-import dialect: --header none --columns imports the first line as data" {
	printf '\xef\xbb\xbf1|007|a\n2|8|"b|c"\n3||\n' >"$W/noheader.csv"
	run --separate-stderr snap-import -t "$T" --delimiter '|' --header none --columns 'rn,code,"the name"' "$W/noheader.csv"
	assert_success
	assert_output --regexp "^imported $W/noheader.csv: 3 rows"
	assert_equal "$(column_types "$T")" "rn integer, code text, the name text"
	# The byte order mark is not data (\copy would keep it: compare
	# without it).
	tail -c +4 "$W/noheader.csv" >"$W/nobom.csv"
	sql "ALTER TABLE $T RENAME COLUMN \"the name\" TO name"
	oracle "$W/nobom.csv" "$T" "FORMAT csv, HEADER false, DELIMITER '|'" rn code name
	# plan shows the same table without a database.
	run --separate-stderr snap-import plan -t "$T" --delimiter '|' --header none --columns 'rn,code,"the name"' "$W/noheader.csv"
	assert_success
	assert_line --index 1 '    "rn" integer,'
	assert_line --index 3 '    "the name" text,'
	# A later file into the existing table, by the names given.
	printf '4|9|d\n' >"$W/more.csv"
	run --separate-stderr snap-import -t "$T" --delimiter '|' --header none --columns 'rn,code,name' "$W/more.csv"
	assert_success
	assert_equal "$(sql "SELECT name FROM $T WHERE rn = 4")" d
	# Rows wider than --columns fail with COPY's line.
	printf '5|1|e|extra\n' >"$W/wide.csv"
	run --separate-stderr snap-import -t "$T" --delimiter '|' --header none --columns 'rn,code,name' "$W/wide.csv"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not import \"$W/wide.csv\": line 1: extra data after last expected column"
}

@test "snap-import dialect: sync reads its folder in the dialect given" {
	mkdir -m 0755 "$W/in"
	printf 'rn;v\n1;x,y\n2;NA\n' >"$W/in/s1.csv"
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once --delimiter ';' --null NA
	assert_success
	assert_equal "$(sql "SELECT string_agg(coalesce(v, '<null>'), '|' ORDER BY rn) FROM $T")" 'x,y|<null>'
}

@test "snap-import dialect: each mistake is a usage error naming it" {
	printf 'a\n1\n' >"$W/a.csv"
	check() {
		local want=$1
		shift
		run --separate-stderr snap-import "$@"
		assert_failure
		assert_output ""
		assert_equal "$stderr" "snap-import: error: $want
Try \"snap-import --help\" for more information."
	}
	check 'invalid value ";;" for --delimiter: use one ASCII character, not a line end, or tab' --delimiter ';;' "$W/a.csv"
	check 'invalid value "" for --quote: use one ASCII character, not a line end, or tab' --quote '' "$W/a.csv"
	check 'invalid value "§" for --delimiter: use one ASCII character, not a line end, or tab' --delimiter '§' "$W/a.csv"
	check "invalid value \"a b\" for --null: use at most 64 bytes and no line end" --null "$(printf 'a\nb')" "$W/a.csv"
	check "invalid value \"$(printf 'N%.0s' {1..65})\" for --null: use at most 64 bytes and no line end" --null "$(printf 'N%.0s' {1..65})" "$W/a.csv"
	check 'invalid value "maybe" for --header: use first or none' --header maybe "$W/a.csv"
	check '--delimiter and --quote must be different characters' --delimiter "'" --quote "'" "$W/a.csv"
	check '--null may not contain the delimiter or the quote' --null 'a,b' "$W/a.csv"
	check '--header none needs --columns A,B,... to name the columns' --header none "$W/a.csv"
	check '--columns names the columns of files without a header: give --header none too' --columns a "$W/a.csv"
	check 'invalid value "a,,b" for --columns: column 2 of the header has no name' --header none --columns 'a,,b' "$W/a.csv"
	check 'invalid value "a,a" for --columns: column "a" appears twice in the header' --header none --columns 'a,a' "$W/a.csv"
	check '--delimiter, --quote, --null, --header and --columns belong to import, plan, sync and retry' list --delimiter ';'
}

@test "snap-import dialect: .csv.gz, .zst, .xz and .bz2 read as their decompressed content" {
	{
		echo 'rn,zip,name'
		seq 1 3000 | awk '{ printf "%d,%05d,\"n, %d\"\n", $1, $1, $1 }'
		echo '3001,,""'
	} >"$W/s.csv"
	gzip -c "$W/s.csv" >"$W/s.csv.gz"
	zstd -q -c "$W/s.csv" >"$W/s.csv.zst"
	xz -c "$W/s.csv" >"$W/s.csv.xz"
	bzip2 -c "$W/s.csv" >"$W/s.csv.bz2"
	local f c t
	for c in gz zst xz bz2; do
		t=${T}_$c
		run --separate-stderr snap-import -t "$t" "$W/s.csv.$c"
		assert_success
		assert_output --regexp "^imported $W/s.csv.$c: 3001 rows, $(stat -c %s "$W/s.csv") bytes"
		assert_equal "$(column_types "$t")" "rn integer, zip text, name text"
		# The oracle reads what the system's own decompressor writes.
		case $c in
		gz) zcat "$W/s.csv.gz" ;;
		zst) zstdcat "$W/s.csv.zst" ;;
		xz) xzcat "$W/s.csv.xz" ;;
		bz2) bzcat "$W/s.csv.bz2" ;;
		esac >"$W/plain_$c.csv"
		oracle "$W/plain_$c.csv" "$t" "FORMAT csv, HEADER true" rn zip name
	done
	# The ledger's SHA-256 is the content's: the plain file is the same
	# content, already in.
	assert_equal "$(sql "SELECT sha256 FROM snap_import_files WHERE target_table = 'public.${T}_gz'")" "$(sha256sum <"$W/s.csv" | cut -d' ' -f1)"
	run --separate-stderr snap-import -t "${T}_gz" "$W/s.csv" "$W/s.csv.zst"
	assert_success
	assert_line --index 0 --partial "skipped $W/s.csv: already imported"
	assert_line --index 1 --partial "skipped $W/s.csv.zst: already imported"
	# list FILE looks up the content too.
	run --separate-stderr snap-import list -t "${T}_gz" --format csv "$W/s.csv.bz2"
	assert_success
	assert_line --index 1 --regexp "^$W/s.csv.bz2,yes,"
	head -c 100 "$W/s.csv.gz" >"$W/cut.csv.gz"
	run --separate-stderr snap-import list -t "${T}_gz" "$W/cut.csv.gz"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not read \"$W/cut.csv.gz\": damaged gzip data (bad checksum or truncated)"
	# With the dialect too.
	printf 'a;b\n1;NA\n' | gzip >"$W/semi.csv.gz"
	run --separate-stderr snap-import -t "${T}_semi" --delimiter ';' --null NA "$W/semi.csv.gz"
	assert_success
	assert_equal "$(sql "SELECT a, b IS NULL FROM ${T}_semi")" "1|t"
}

@test "snap-import dialect: a cut or damaged compressed file is refused naming it, nothing imported" {
	seq 1 20000 | awk 'BEGIN { print "rn,v" } { printf "%d,v%d\n", $1, $1 }' >"$W/s.csv"
	# Each cut in its middle.
	gzip -c "$W/s.csv" >"$W/s.csv.gz"
	zstd -q -c "$W/s.csv" >"$W/s.csv.zst"
	xz -c "$W/s.csv" >"$W/s.csv.xz"
	bzip2 -c "$W/s.csv" >"$W/s.csv.bz2"
	local c
	for c in gz zst xz bz2; do
		head -c $(($(stat -c %s "$W/s.csv.$c") / 2)) "$W/s.csv.$c" >"$W/cut.csv.$c"
	done
	gzip -c "$W/s.csv" >"$W/crc.csv.gz"
	# The CRC is the trailer's first 4 bytes.
	local size
	size=$(stat -c %s "$W/crc.csv.gz")
	printf '\xde\xad\xbe\xef' | dd of="$W/crc.csv.gz" bs=1 seek=$((size - 8)) conv=notrunc status=none
	# The ledger exists (the files below could each add a failed row).
	run --separate-stderr snap-import -t "${T}_ok" "$W/s.csv"
	assert_success
	run --separate-stderr snap-import -t "$T" "$W/cut.csv.gz"
	assert_failure
	assert_output ""
	assert_equal "$stderr" "snap-import: error: could not import \"$W/cut.csv.gz\": damaged gzip data (bad checksum or truncated)"
	run --separate-stderr snap-import -t "$T" "$W/crc.csv.gz"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not import \"$W/crc.csv.gz\": damaged gzip data: incorrect data check"
	run --separate-stderr snap-import -t "$T" "$W/cut.csv.zst"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not import \"$W/cut.csv.zst\": damaged zstd data: Truncated zstd input"
	run --separate-stderr snap-import -t "$T" "$W/cut.csv.xz"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not import \"$W/cut.csv.xz\": damaged xz data: truncated stream"
	run --separate-stderr snap-import -t "$T" "$W/cut.csv.bz2"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not import \"$W/cut.csv.bz2\": damaged bzip2 data: truncated bzip2 input"
	# Nothing: no table, no ledger row.
	assert_equal "$(sql "SELECT to_regclass('$T') IS NULL")" t
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'")" 0
	# Standard input is not decompressed: said so.
	run --separate-stderr snap-import -t "$T" --name s.csv.gz - <"$W/crc.csv.gz"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not import \"s.csv.gz\": it is gzip-compressed: give the file itself, or decompress it into standard input"
	# plan too.
	run --separate-stderr snap-import plan "$W/cut.csv.gz"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not plan \"$W/cut.csv.gz\": damaged gzip data (bad checksum or truncated)"
}

@test "snap-import dialect: sync takes .csv.gz, .zst, .xz and .bz2 by default, not other names" {
	mkdir -m 0755 "$W/in"
	printf 'rn,v\n1,a\n' | gzip >"$W/in/s1.csv.gz"
	printf 'rn,v\n2,b\n' | zstd -q >"$W/in/s2.csv.zst"
	printf 'rn,v\n3,c\n' | xz >"$W/in/s3.csv.xz"
	printf 'rn,v\n4,d\n' | bzip2 >"$W/in/s4.csv.bz2"
	printf 'rn,v\n5,e\n' >"$W/in/s5.csv"
	printf 'rn,v\n6,f\n' | gzip >"$W/in/s6.gz"
	printf 'rn,v\n7,g\n' >"$W/in/s7.csv.bak"
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_success
	assert_equal "$(sql "SELECT string_agg(v, '' ORDER BY rn) FROM $T")" abcde
}
