#!/usr/bin/env bats
# snap-import never alters a value (issue 15): lossless types checked
# against psql \copy into text columns, \. lines, blank lines, the table
# of a failed first import, naive timestamps, long header names, and the
# ledger keyed by the table whatever the spelling of -t.

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
	T=v$BATS_TEST_NUMBER
}

teardown() {
	if [ -n "${SYNC_PID:-}" ]; then
		kill "$SYNC_PID" 2>/dev/null || true
		wait "$SYNC_PID" 2>/dev/null || true
	fi
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

# column_types TABLE: "name type, ..." in column order.
column_types() {
	sql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '$1' AND column_name <> 'snapshot_id'"
}

# oracle FILE TABLE: load FILE with psql \copy into an all-text table
# TABLE_o and check that every value of TABLE, read back as col::text,
# is the same text (NULL as NULL), row by row through the column rn.
oracle() {
	local file=$1 t=$2 cols defs c
	cols=$(head -n 1 "$file" | tr -d '\r')
	defs=$(echo "$cols" | sed 's/,/ text, /g; s/$/ text/')
	sql "CREATE TABLE ${t}_o ($defs)"
	psql -X -v ON_ERROR_STOP=1 -q -c "\\copy ${t}_o FROM '$file' (FORMAT csv, HEADER true)"
	[ "$(sql "SELECT count(*) FROM $t")" = "$(sql "SELECT count(*) FROM ${t}_o")" ] ||
		fail "row counts differ: $(sql "SELECT count(*) FROM $t") against $(sql "SELECT count(*) FROM ${t}_o")"
	for c in ${cols//,/ }; do
		run sql "SELECT o.rn, o.$c, s.$c::text FROM ${t}_o o JOIN $t s ON s.rn::text = o.rn WHERE o.$c IS DISTINCT FROM s.$c::text LIMIT 3"
		assert_success
		[ -z "$output" ] || fail "column $c differs (rn, \\copy, snap-import): $output"
	done
}

@test "snap-import values: every value reads back as written, as psql \\copy into text columns has it (S1-1)" {
	{
		echo 'rn,zip,phone,code,sci,country,grade,yn,flag,day8,n,big,huge,dec,d,tf,quoted'
		echo '1,08123,+4915112345678,12E4,10.10e10,NO,F,YES,true,20230131,1,1,1,1.50,2024-01-02,t,"08123"'
		echo '2,007,+1,1E5,1e3,NO,T,NO,false,20230201,-2,3000000000,99999999999999999999,-0.5,2024-02-29,f,"007"'
		echo '3,00001,0049,001,.5,DE,A,yes,,20230301,0,-3,,2,0001-01-01,true,"1"'
		echo '4,8123,+0,002,5.,,B,no,true,1,2147483647,9223372036854775807,1,-0,,false,""'
	} >"$W/messy.csv"
	run --separate-stderr snap-import -t "$T" "$W/messy.csv"
	assert_success
	assert_equal "$stderr" ""
	run column_types "$T"
	assert_output "rn integer, zip text, phone text, code text, sci text, country text, grade text, yn text, flag boolean, day8 integer, n integer, big bigint, huge numeric, dec text, d date, tf text, quoted text"
	oracle "$W/messy.csv" "$T"
}

@test "snap-import values: inference reads the whole first file: text after 10,000 integers stays text (S1-1, S2-4)" {
	{
		echo 'rn,val,grows'
		seq 1 10005 | awk '{ printf "%d,%d,%d\n", $1, $1, $1 }'
		echo '10006,abc,3000000000'
		echo '10007,7,99999999999999999999'
	} >"$W/late.csv"
	# More than the 4 MiB read ahead, too.
	{
		echo 'rn,val,grows'
		seq 1 400000 | awk '{ printf "%d,%d,%d\n", $1, $1, $1 }'
		echo '400001,x,1'
	} >"$W/late4m.csv"
	[ "$(stat -c %s "$W/late4m.csv")" -gt $((4 << 20)) ]
	run --separate-stderr snap-import -t "$T" "$W/late.csv"
	assert_success
	run column_types "$T"
	assert_output "rn integer, val text, grows numeric"
	oracle "$W/late.csv" "$T"
	run --separate-stderr snap-import -t "${T}b" "$W/late4m.csv"
	assert_success
	run column_types "${T}b"
	assert_output "rn integer, val text, grows integer"
}

@test "snap-import values: plan prints the table and why each type; --types and --all-text decide (S1-1)" {
	printf 'zip,n,ok\n08123,1,true\n007,2,false\n' >"$W/p.csv"
	run --separate-stderr snap-import plan -t "$T" "$W/p.csv"
	assert_success
	assert_equal "$stderr" ""
	assert_output "CREATE TABLE \"$T\" (
    \"zip\" text,
    \"n\" integer,
    \"ok\" boolean,
    snapshot_id bigint NOT NULL
);
-- \"zip\" text: line 2 has \"08123\", which no other type prints back unchanged
-- \"n\" integer: every value is an integer within integer's range, written as PostgreSQL prints it
-- \"ok\" boolean: every value is true or false"
	# plan reads the file only: nothing was created.
	assert_equal "$(sql "SELECT to_regclass('$T') IS NULL")" t
	run --separate-stderr snap-import plan --types n=bigint,zip=text --all-text "$W/p.csv"
	assert_success
	assert_line --index 2 '    "n" bigint,'
	assert_line --index 3 '    "ok" text,'
	run --separate-stderr snap-import -t "$T" --types n=numeric "$W/p.csv"
	assert_success
	run column_types "$T"
	assert_output "zip text, n numeric, ok boolean"
	run --separate-stderr snap-import -t "${T}b" --all-text "$W/p.csv"
	assert_success
	run column_types "${T}b"
	assert_output "zip text, n text, ok text"
	run --separate-stderr snap-import -t "${T}c" --types nope=text "$W/p.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/p.csv\": column \"nope\" of --types is not in the header"
	run --separate-stderr snap-import --types n=int4 "$W/p.csv"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: invalid value "n=int4" for --types: unknown type "int4"; use text, boolean, smallint, integer, bigint, numeric, real, double precision, date, timestamp, timestamptz, time, uuid, json or jsonb'
}

# marker_file FILE AT: a CSV whose line of only \. starts at byte AT, with
# rows after it; echoes the line number of the \. line.
marker_file() {
	awk -v at="$2" 'BEGIN {
		print "rn,v"; size = 5; n = 1
		while (size + 40 < at) { printf "%08d,%030d\n", n, n; size += 40; n++ }
		# Pad the last row so that the \. line starts exactly at AT.
		printf "%08d,", n; for (i = 0; i < at - size - 10; i++) printf "0"; printf "\n"
		printf "\\.\n99999998,after\n99999999,after\n"
		print n + 2 > "/dev/stderr"
	}' 2>"$1.line" >"$1"
	cat "$1.line"
}

@test "snap-import values: a \\. line is refused wherever it falls in the read buffers (S1-4)" {
	[ "$(sql 'SHOW server_version_num')" -lt 180000 ] || skip "PostgreSQL 18 takes \\. as data"
	# The first read is 4 MiB, the next ones 1 MiB: the line starts right
	# before, at and after each boundary, split after the backslash too.
	for at in $(((4 << 20) - 2)) $(((4 << 20) - 1)) $((4 << 20)) $(((5 << 20) - 1)) $((5 << 20)) 1000; do
		line=$(marker_file "$W/m$at.csv" "$at")
		[ "$(head -c $((at + 2)) "$W/m$at.csv" | tail -c 2)" = '\.' ] || fail "bad test file for $at"
		run --separate-stderr snap-import -t "$T" "$W/m$at.csv"
		assert_failure 1
		assert_equal "$stderr" "snap-import: error: could not import \"$W/m$at.csv\": line $line: a line holding only \\. ends COPY data early; quote the value to keep it"
	done
	assert_equal "$(sql "SELECT to_regclass('$T') IS NULL")" t
}

@test "snap-import values: \\. with CR and CR LF line ends is refused; in quotes it is data (S1-4)" {
	[ "$(sql 'SHOW server_version_num')" -lt 180000 ] || skip "PostgreSQL 18 takes \\. as data"
	printf 'v\ra\r\\.\rb\r' >"$W/cr.csv"
	printf 'v\r\na\r\n\\.\r\nb\r\n' >"$W/crlf.csv"
	for f in cr crlf; do
		run --separate-stderr snap-import -t "$T" "$W/$f.csv"
		assert_failure 1
		assert_equal "$stderr" "snap-import: error: could not import \"$W/$f.csv\": line 3: a line holding only \\. ends COPY data early; quote the value to keep it"
	done
	printf 'rn,v\n1,"first\n\\.\nlast"\n2,x\n' >"$W/quoted.csv"
	run --separate-stderr snap-import -t "$T" "$W/quoted.csv"
	assert_success
	assert_equal "$(sql "SELECT v FROM $T WHERE rn = 1")" 'first
\.
last'
	assert_equal "$(sql "SELECT count(*) FROM $T")" 2
}

@test "snap-import values: blank lines are skipped, and errors name the file's line (S2-12)" {
	printf 'rn,v\n1,a\n\n2,b\n\n\n3,c\n\n' >"$W/blank.csv"
	printf 'rn,v\r\n1,a\r\n\r\n2,b\r\n\r\n' >"$W/blankcrlf.csv"
	run --separate-stderr snap-import -t "$T" "$W/blank.csv" "$W/blankcrlf.csv"
	assert_success
	assert_equal "$(sql "SELECT string_agg(v, ',' ORDER BY snapshot_id, rn) FROM $T")" 'a,b,c,a,b'
	# Line 7 of the file, though COPY saw it as its line 4.
	printf 'rn,v\n1,a\n\n2,b\n\n\nx,c\n' >"$W/bad.csv"
	run --separate-stderr snap-import -t "$T" "$W/bad.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/bad.csv\": line 7, column rn: invalid input syntax for type integer: \"x\""
}

@test "snap-import values: a failed first import leaves no table, and the next file makes it (S2-3)" {
	printf 'id;name;amount\n1;a;2\n2;b;3,4\n' >"$W/semicolon.csv"
	run --separate-stderr snap-import -t "$T" "$W/semicolon.csv"
	assert_failure 1
	assert_equal "$(sql "SELECT to_regclass('$T') IS NULL")" t
	printf 'id,name\n1,a\n\\.\n' >"$W/marker.csv"
	run --separate-stderr snap-import -t "$T" "$W/marker.csv"
	assert_failure 1
	assert_equal "$(sql "SELECT to_regclass('$T') IS NULL")" t
	printf 'id,name,amount\n1,a,2\n' >"$W/good.csv"
	run --separate-stderr snap-import -t "$T" "$W/good.csv"
	assert_success
	run column_types "$T"
	assert_output "id integer, name text, amount integer"
}

@test "snap-import values: timestamps without an offset are read in UTC or --timezone, not the session's zone (S2-8)" {
	printf 'event,at\nlogin,2023-01-31 10:00:00\nout,2023-01-31T11:00:00+02:00\n' >"$W/ts.csv"
	PGTZ=Asia/Tokyo PGOPTIONS='-c TimeZone=America/New_York' run --separate-stderr snap-import -t "$T" "$W/ts.csv"
	assert_success
	run column_types "$T"
	assert_output "event text, at timestamp with time zone"
	assert_equal "$(sql "SELECT string_agg(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ',' ORDER BY event) FROM $T")" '2023-01-31 10:00,2023-01-31 09:00'
	PGTZ=UTC run --separate-stderr snap-import -t "${T}b" --timezone America/New_York "$W/ts.csv"
	assert_success
	assert_equal "$(sql "SELECT string_agg(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ',' ORDER BY event) FROM ${T}b")" '2023-01-31 15:00,2023-01-31 09:00'
	run --separate-stderr snap-import -t "${T}c" --timezone Mars/Olympus "$W/ts.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/ts.csv\": invalid --timezone \"Mars/Olympus\": invalid value for parameter \"TimeZone\": \"Mars/Olympus\""
}

@test "snap-import values: header names over 63 bytes are shortened the same way every time, kept in the ledger (S2-5)" {
	long=$(printf 'x%.0s' $(seq 1 70))
	long2=${long:0:69}y
	printf '%s,%s,id\na,b,1\n' "$long" "$long2" >"$W/long.csv"
	printf '%s,%s,id\nc,d,2\n' "$long" "$long2" >"$W/long2.csv"
	run --separate-stderr snap-import plan "$W/long.csv"
	assert_success
	short=$(echo "${lines[1]}" | sed 's/^    "\(.*\)" text,$/\1/')
	assert_equal "${#short}" 63
	assert_line --index 6 "-- \"$short\" text: line 2 has \"a\", which no other type prints back unchanged; header name \"$long\" shortened to 63 bytes"
	run --separate-stderr snap-import -t "$T" "$W/long.csv" "$W/long2.csv"
	assert_success
	assert_equal "$(sql "SELECT string_agg(\"$short\", ',' ORDER BY id) FROM $T")" 'a,c'
	assert_equal "$(sql "SELECT count(DISTINCT column_name) FROM information_schema.columns WHERE table_name = '$T'")" 4
	assert_equal "$(sql "SELECT columns ->> '$long' FROM snap_import_files WHERE file_name = '$W/long.csv'")" "$short"
}

@test "snap-import values: -t snapshots and -t public.snapshots are one table to the ledger and to sync (S1-3)" {
	printf 'id,name\n1,a\n' >"$W/a.csv"
	run --separate-stderr snap-import -t "$T" "$W/a.csv"
	assert_success
	run --separate-stderr snap-import -t "public.$T" "$W/a.csv"
	assert_success
	assert_output --regexp "^skipped $W/a.csv: already imported at "
	assert_equal "$(sql "SELECT count(*) FROM $T")" 1
	assert_equal "$(sql "SELECT target_table FROM snap_import_files WHERE file_name = '$W/a.csv'")" "public.$T"
	# One sync, whatever the spelling.
	mkdir -m 0755 "$W/in" "$W/in2"
	snap-import sync -D "$W/in" -t "$T" 2>"$W/sync.log" &
	SYNC_PID=$!
	for _ in $(seq 1 50); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -gt 0 ] && break
		sleep 0.1
	done
	run --separate-stderr snap-import sync -D "$W/in2" -t "public.$T" --once
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: another snap-import sync is running for table \"public.$T\""
}

@test "snap-import values: ledger rows of an older release under the -t spelling still count (S1-3)" {
	printf 'id,name\n1,a\n' >"$W/a.csv"
	printf 'id,name\n2,b\n' >"$W/b.csv"
	run --separate-stderr snap-import -t "$T" "$W/b.csv"
	assert_success
	# As an older snap-import recorded it: the spelling of -t.
	sha=$(sha256sum "$W/a.csv" | cut -d' ' -f1)
	# (with its row in the table: a snapshot whose rows are gone is not
	# skipped)
	sql "WITH l AS (INSERT INTO snap_import_files (target_table, file_name, sha256, rows, bytes) VALUES ('$T', 'a.csv', '$sha', 1, 12) RETURNING id) INSERT INTO $T (id, name, snapshot_id) SELECT 1, 'a', id FROM l"
	run --separate-stderr snap-import -t "public.$T" "$W/a.csv"
	assert_success
	assert_output --regexp "^skipped $W/a.csv: already imported at .* as \"a.csv\""
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = '$T'")" 0
}

@test "snap-import values: a file name that is not UTF-8 is imported and recorded escaped, by import and sync (S2-10)" {
	mkdir -m 0755 "$W/in"
	printf 'id,name\n1,a\n' >"$W/lat"$'\xe9'".csv"
	printf 'id,name\n2,b\n' >"$W/in/caf"$'\xe9'".csv"
	run --separate-stderr snap-import -t "$T" "$W/lat"$'\xe9'".csv"
	assert_success
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_success
	assert_equal "$stderr" "snap-import: info: imported caf"$'\xe9'".csv: 1 rows, 12 bytes, ${stderr#*12 bytes, }"
	assert_equal "$(sql "SELECT string_agg(file_name, ' ' ORDER BY id) FROM snap_import_files WHERE target_table = 'public.$T'")" "$W/lat\\xE9.csv caf\\xE9.csv"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 2
}

@test "snap-import values: --encoding reads Latin-1 files as psql \\copy with ENCODING does; without it the message names the cure (S2-9)" {
	printf 'rn,stra\xdfe,name\n1,Hauptstra\xdfe,M\xfcller\n2,caf\xe9,\xc0 la carte\n' >"$W/latin1.csv"
	run --separate-stderr snap-import -t "$T" "$W/latin1.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/latin1.csv\": column 2 of the header is not UTF-8; give the file's encoding with --encoding"
	printf 'rn,name\n1,M\xfcller\n' >"$W/latin1data.csv"
	run --separate-stderr snap-import -t "$T" "$W/latin1data.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/latin1data.csv\": line 2: invalid byte sequence for encoding \"UTF8\": 0xfc; if the file is not UTF-8, give its encoding with --encoding"
	run --separate-stderr snap-import -t "$T" --encoding nope "$W/latin1.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/latin1.csv\": invalid --encoding \"nope\": not an encoding PostgreSQL knows"
	run --separate-stderr snap-import -t "$T" --encoding latin1 "$W/latin1.csv"
	assert_success
	sql "CREATE TABLE ${T}_o (rn text, \"straße\" text, name text)"
	psql -X -v ON_ERROR_STOP=1 -q -c "\\copy ${T}_o FROM '$W/latin1.csv' (FORMAT csv, HEADER true, ENCODING 'LATIN1')"
	assert_equal "$(sql "SELECT count(*) FROM ${T}_o o JOIN $T s ON s.rn::text = o.rn WHERE s.\"straße\" = o.\"straße\" AND s.name = o.name")" 2
	assert_equal "$(sql "SELECT name FROM $T WHERE rn = 1")" 'Müller'
	# sync too.
	mkdir -m 0755 "$W/in"
	printf 'rn,stra\xdfe,name\n3,x,\xe9t\xe9\n' >"$W/in/more.csv"
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --encoding LATIN1 --once
	assert_success
	assert_equal "$(sql "SELECT name FROM $T WHERE rn = 3")" 'été'
}
