#!/usr/bin/env bats
# snap-import sends the first file of a new table in COPY's binary format
# when every value can be encoded exactly as PostgreSQL's input functions
# read its text (issue 15's benchmark). The oracle: the same file loaded by
# psql \copy (FORMAT csv) into a table of the same types, every row read
# back as text by the server; and the binary path against --copy-format csv
# for files it must not send in binary (same rows, same errors).

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
	T=b$BATS_TEST_NUMBER
	GEN=$DBOPS_BUILD/tests/gen-snapshot
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

# cols TABLE: its columns but snapshot_id, comma-separated, quoted.
cols() {
	sql "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'snapshot_id'"
}

# rows_text TABLE: a digest of every row as the server prints it (the
# row's text: each column through its type's output function).
rows_text() {
	sql "SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '-') FROM (SELECT $(cols "$1") FROM $1) r"
}

# oracle FILE TABLE [COPY OPTIONS] [SETTINGS]: FILE loaded by psql \copy
# (FORMAT csv, HEADER) into TABLE_o, made with TABLE's types, must read
# back the same, row for row, as TABLE.
oracle() {
	local file=$1 t=$2 opts=${3:-} set=${4:-}
	sql "CREATE TABLE ${t}_o AS SELECT $(cols "$t") FROM $t WITH NO DATA"
	psql -X -q -v ON_ERROR_STOP=1 -c "$set" \
		-c "\\copy ${t}_o FROM '$file' (FORMAT csv, HEADER true$opts)"
	run sql "(SELECT $(cols "$t") FROM $t EXCEPT ALL SELECT * FROM ${t}_o) UNION ALL (SELECT * FROM ${t}_o EXCEPT ALL SELECT $(cols "$t") FROM $t) LIMIT 5"
	assert_success
	[ -z "$output" ] || fail "rows differ from psql \\copy's: $output"
	assert_equal "$(rows_text "$t")" "$(rows_text "${t}_o")"
}

# import_binary FILE TABLE [OPTIONS]: a first import sent in binary (-v
# says when it falls back to CSV).
import_binary() {
	local file=$1 t=$2
	shift 2
	run --separate-stderr snap-import -v -t "$t" "$@" "$file"
	assert_success
	[[ $stderr == *"COPY in binary format"* && $stderr != *"sent as CSV"* ]] ||
		fail "not sent in binary: $stderr"
}

# import_csv FILE TABLE [OPTIONS]: a first import sent as CSV, binary not
# tried.
import_csv() {
	local file=$1 t=$2
	shift 2
	run --separate-stderr snap-import -v -t "$t" "$@" "$file"
	assert_success
	[[ $stderr != *"binary"* ]] || fail "binary tried: $stderr"
}

# import_fallback FILE TABLE [OPTIONS]: a first import that tried binary
# and was sent as CSV.
import_fallback() {
	local file=$1 t=$2
	shift 2
	run --separate-stderr snap-import -v -t "$t" "$@" "$file"
	assert_success
	[[ $stderr == *"sent as CSV"* ]] || fail "no fallback to CSV: $stderr"
}

@test "snap-import binary: gen-snapshot's files, several seeds and a BOM, read back as psql \\copy has them" {
	for seed in 1 2 3; do
		"$GEN" --rows 30000 --seed "$seed" >"$W/s$seed.csv"
		import_binary "$W/s$seed.csv" "${T}s$seed"
		oracle "$W/s$seed.csv" "${T}s$seed"
	done
	"$GEN" --bad bom >"$W/bom.csv"
	import_binary "$W/bom.csv" "${T}bom"
	oracle "$W/bom.csv" "${T}bom"
}

@test "snap-import binary: a file of 6 MB, records across every read buffer, as psql \\copy has it" {
	"$GEN" --bytes 6M --seed 7 >"$W/big.csv"
	import_binary "$W/big.csv" "$T"
	oracle "$W/big.csv" "$T"
	# And with CR LF line ends.
	sed 's/$/\r/' "$W/big.csv" >"$W/bigcrlf.csv"
	import_binary "$W/bigcrlf.csv" "${T}crlf"
	oracle "$W/bigcrlf.csv" "${T}crlf"
}

@test "snap-import binary: edge values of every type read back as psql \\copy has them" {
	{
		echo 'rn,txt,num,i,b,ok,d,ts'
		echo '1,08123,1.50,-2147483648,-9223372036854775808,true,0001-01-01,0001-01-01 00:00:00+05:45'
		echo '2,007,0.00,2147483647,9223372036854775807,false,9999-12-31,9999-12-31 23:59:59.999999-00:30'
		echo '3,"",0,0,0,,2000-01-01,2000-01-01 00:00:00'
		echo '4,,9999999999999999999.00000001,,,true,1999-12-31,1999-12-31T23:59:59.5Z'
		echo '5,"a,b ""c""",0.0001,1,1,false,2024-02-29,2024-02-29 12:00+0545'
		echo '6,"multi'
		echo 'line",-0.5,-1,-1,true,1900-03-01,2023-06-15 08:30:00.1+15:59'
		echo '7, lead and trail ,123456789012345678901234567890.123456789012345678901234567890,42,3000000000,false,2100-02-28,2023-06-15 08:30:00.123456-15'
		echo '8,a"b"c,10000,7,7,true,1970-01-01,1970-01-01 00:00:00+00'
		echo '9,ünï©ødé 🚀,100000000.0000,8,8,false,1582-10-04,1582-10-15 00:00:00.000001+01'
		echo '10,"\.",-12345.6789,9,9,true,0002-12-31,0001-01-01 15:59:00+15:59'
		echo '11,1e-5,1.000000000000000000001,10,10,false,2000-02-29,2023-01-01 00:00'
		echo '12,-0,-0.00000001,11,11,true,2023-12-31,2023-12-31 23:59:59-00:30'
	} >"$W/edge.csv"
	import_binary "$W/edge.csv" "$T"
	run sql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '$T' AND column_name <> 'snapshot_id'"
	assert_output "rn integer, txt text, num numeric, i integer, b bigint, ok boolean, d date, ts timestamp with time zone"
	oracle "$W/edge.csv" "$T"
	assert_equal "$(sql "SELECT num FROM $T WHERE rn IN (1, 2, 4) ORDER BY rn" | tr '\n' ' ')" "1.50 0.00 9999999999999999999.00000001 "
	assert_equal "$(sql "SELECT txt IS NULL, txt = '' FROM $T WHERE rn IN (3, 4) ORDER BY rn" | tr '\n' ' ')" "f|t t| "
	assert_equal "$(sql "SELECT ts AT TIME ZONE 'UTC' FROM $T WHERE rn IN (1, 2) ORDER BY rn" | tr '\n' ' ')" "0001-12-31 18:15:00 BC 10000-01-01 00:29:59.999999 "
}

@test "snap-import binary: --types numeric over -0, 1e-5, 123e-00001, NaN: sent as CSV, as psql \\copy has them" {
	{
		echo 'rn,num'
		echo '1,1.50'
		echo '2,-0'
		echo '3,1e-5'
		echo '4,123e-00001'
		echo '5,NaN'
		echo '6, 7'
		echo '7,+3'
		echo '8,.5'
	} >"$W/sci.csv"
	import_fallback "$W/sci.csv" "$T" --types num=numeric
	assert_equal "$(sql "SELECT string_agg(num::text, ' ' ORDER BY rn) FROM $T")" "1.50 0 0.00001 12.3 NaN 7 3 0.5"
	oracle "$W/sci.csv" "$T"
	# Dates and timestamps PostgreSQL reads but does not print so.
	{
		echo 'rn,d,ts'
		echo '1,infinity,2023-01-01 10:00:00+02'
		echo '2,20230131,-infinity'
		echo '3,2023-1-5,2023-01-01 10:00:00 Europe/Paris'
	} >"$W/dates.csv"
	import_fallback "$W/dates.csv" "${T}d" --types d=date,ts=timestamptz
	oracle "$W/dates.csv" "${T}d"
}

@test "snap-import binary: the sample's types wrong and a value with no binary form: again as CSV with the whole file's types" {
	# 5 MB: the first 4 MiB (the sample) have no x; the whole file's x is
	# an integer, and its last n is numeric only as PostgreSQL reads it.
	awk 'BEGIN {
		print "rn,x,n,pad"
		for (i = 1; i <= 80000; i++)
			printf "%d,%s,%d.5,%060d\n", i, (i > 70000 ? i : ""), i, i
		print "80001,1,1e3,x"
	}' >"$W/late.csv"
	run --separate-stderr snap-import -v -t "$T" --types n=numeric "$W/late.csv"
	assert_success
	[ "$(grep -c 'COPY in binary format' <<<"$stderr")" = 1 ] || fail "$stderr"
	[[ $stderr == *'"1e3" is not how PostgreSQL prints type numeric'* ]] || fail "$stderr"
	run sql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '$T' AND column_name <> 'snapshot_id'"
	assert_output "rn integer, x integer, n numeric, pad text"
	oracle "$W/late.csv" "$T"
}

@test "snap-import binary: --timezone: offsets sent in binary; a value without one sends the file as CSV" {
	{
		echo 'rn,ts'
		echo '1,2023-03-26 01:30:00+05:45'
		echo '2,2023-10-29 02:30:00-00:30'
	} >"$W/off.csv"
	import_binary "$W/off.csv" "$T" --timezone Asia/Kathmandu
	oracle "$W/off.csv" "$T" "" "SET TimeZone = 'Asia/Kathmandu'"
	{
		cat "$W/off.csv"
		echo '3,2023-03-26 02:30:00'
	} >"$W/naive.csv"
	import_fallback "$W/naive.csv" "${T}n" --timezone Europe/Berlin
	oracle "$W/naive.csv" "${T}n" "" "SET TimeZone = 'Europe/Berlin'"
	# In UTC, the default, the same file goes in binary.
	import_binary "$W/naive.csv" "${T}u"
	oracle "$W/naive.csv" "${T}u" "" "SET TimeZone = 'UTC'"
}

@test "snap-import binary: --delimiter, --quote, --null, CR line ends, --all-text, --header none: as psql \\copy has them" {
	printf "rn;v;w\r1;'a;b';NA\r2;'';x\r3;NA;'NA'\r4;'it''s';''''\r" >"$W/d.csv"
	import_binary "$W/d.csv" "$T" --delimiter ';' --quote "'" --null NA
	oracle "$W/d.csv" "$T" ", DELIMITER ';', QUOTE '''', NULL 'NA'"
	assert_equal "$(sql "SELECT count(*) FILTER (WHERE v IS NULL) || ' ' || count(*) FILTER (WHERE w IS NULL) FROM $T")" "1 1"
	"$GEN" --rows 5000 --seed 4 >"$W/g.csv"
	import_binary "$W/g.csv" "${T}t" --all-text
	oracle "$W/g.csv" "${T}t"
	tail -n +2 "$W/g.csv" >"$W/nohead.csv"
	import_binary "$W/nohead.csv" "${T}h" --all-text --header none --columns "$(head -n 1 "$W/g.csv")"
	assert_equal "$(rows_text "${T}h")" "$(rows_text "${T}t")"
}

@test "snap-import binary: bad files fail as with --copy-format csv, the same line" {
	for bad in ragged quote utf8; do
		"$GEN" --bad "$bad" >"$W/$bad.csv"
	done
	# Line ends of two kinds, a record short of a field, a NUL byte, an
	# integer too wide for the column --types gives.
	printf 'a,b\r\n1,2\n3,4\r\n' >"$W/mixed.csv"
	printf 'a,b\n1,2\n3\n' >"$W/short.csv"
	printf 'a,b\n1,x\0y\n' >"$W/nul.csv"
	printf 'a,b\n1,2\n3000000000,4\n' >"$W/wide.csv"
	for f in ragged quote utf8 mixed short nul wide; do
		types=()
		case $f in
		mixed | short | nul | wide) types=(--types a=integer) ;;
		esac
		run --separate-stderr snap-import --copy-format csv -t "$T" "${types[@]}" "$W/$f.csv"
		assert_failure 1
		want=$stderr
		run --separate-stderr snap-import -t "$T" "${types[@]}" "$W/$f.csv"
		assert_failure 1
		assert_equal "$stderr" "$want"
		assert_equal "$(sql "SELECT to_regclass('$T') IS NULL")" t
	done
}

@test "snap-import binary: --copy-format csv sends CSV; the next files of a table, and other types, too" {
	"$GEN" --rows 2000 --seed 5 >"$W/a.csv"
	"$GEN" --rows 2000 --seed 6 >"$W/b.csv"
	import_csv "$W/a.csv" "$T" --copy-format csv
	import_binary "$W/a.csv" "${T}x"
	import_csv "$W/b.csv" "${T}x"
	assert_equal "$(rows_text "$T")" "$(sql "SELECT count(*) || ' ' || md5(string_agg(r::text, E'\\n' ORDER BY r::text)) FROM (SELECT $(cols "$T") FROM ${T}x WHERE snapshot_id = (SELECT min(snapshot_id) FROM ${T}x)) r")"
	import_csv "$W/a.csv" "${T}v" --types level=smallint
	import_csv "$W/a.csv" "${T}e" --encoding LATIN1
	run --separate-stderr snap-import plan --copy-format csv "$W/a.csv"
	assert_failure 1
	assert_equal "${stderr%%$'\n'*}" "snap-import: error: --copy-format belongs to import, sync and retry"
	run --separate-stderr snap-import -t "$T" --copy-format binary "$W/a.csv"
	assert_failure 1
	assert_equal "${stderr%%$'\n'*}" 'snap-import: error: invalid value "binary" for --copy-format: use auto or csv'
}
