#!/usr/bin/env bats
# snap-import against a real PostgreSQL: import, list, sync, and every bad
# input with its exact message. Each test loads into a table of its own.

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
	T=t$BATS_TEST_NUMBER
	GEN=$DBOPS_BUILD/tests/gen-snapshot
}

teardown() {
	# A sync a test started must not outlive it.
	if [ -n "${SYNC_PID:-}" ]; then
		kill "$SYNC_PID" 2>/dev/null || true
		wait "$SYNC_PID" 2>/dev/null || true
	fi
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

# libpq_reason CONNINFO: the first line of libpq's complaint on connecting
# to CONNINFO, as psql (the same libpq) reports it: its words change from
# one PostgreSQL release to the next.
libpq_reason() { psql -X -d "$1" -c '' 2>&1 >/dev/null | head -n 1 | sed 's/^psql: error: //'; }

# copy_rows: rows the server has stored for the COPYs running now. Before
# PostgreSQL 14 there is no pg_stat_progress_copy: there, 1001 once a COPY
# has run for a second (the files these tests stop take several).
copy_rows() {
	if [ "$(sql 'SHOW server_version_num')" -ge 140000 ]; then
		sql "SELECT coalesce(sum(tuples_processed), 0) FROM pg_stat_progress_copy"
	else
		sql "SELECT CASE WHEN count(*) > 0 THEN 1001 ELSE 0 END FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY %' AND now() - query_start > interval '1 second'"
	fi
}

# csv FILE LINE...: write the lines, each ended by a newline.
csv() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
}

good_csv() {
	csv "$1" 'id,name,score,day,seen,ok' \
		'1,"Smith, Ann",10.5,2024-03-01,2024-03-01 10:00:00+00,true' \
		'2,"O""Brien",7,2024-03-02,2024-03-02T11:30:00Z,false' \
		'3,,8.25,,,'
}

ledger_rows() { sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'imported'"; }

@test "snap-import: --help and --version print to stdout and exit 0" {
	run --separate-stderr snap-import --help
	assert_success
	assert_equal "$stderr" ""
	assert_usage_screen
	run snap-import --version
	assert_success
	assert_output "snap-import $DBOPS_VERSION"
}

@test "snap-import: a bad option or a misplaced one fails with a usage error" {
	run --separate-stderr snap-import --frobnicate
	assert_failure 1
	assert_equal "$stderr" 'snap-import: error: unknown option "--frobnicate"
Try "snap-import --help" for more information.'
	run --separate-stderr snap-import list -t
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: option "-t" needs a value'
	run --separate-stderr snap-import list --metrics-file x
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: --metrics-file and --name belong to import"
	run --separate-stderr snap-import sync
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: sync needs -D DIR"
	run --separate-stderr snap-import -
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: reading standard input (-) needs --name NAME"
	run --separate-stderr snap-import list --format xml
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: invalid value "xml" for --format: use table, csv, tsv or json'
}

@test "snap-import: an unknown letter in a cluster is named, and each bad value says what is accepted" {
	# Not argv[optind - 1] ("list" or the program) but the letter itself.
	run --separate-stderr snap-import -zq list
	assert_failure 1
	assert_equal "$stderr" 'snap-import: error: unknown option "-z"
Try "snap-import --help" for more information.'
	run --separate-stderr snap-import list -qz
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: unknown option "-z"'
	run --separate-stderr snap-import --progress sometimes "$W/a.csv"
	assert_failure 1
	assert_equal "$stderr" 'snap-import: error: invalid value "sometimes" for --progress: use auto, always or never
Try "snap-import --help" for more information.'
	run --separate-stderr snap-import list --format=JSON
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: invalid value "JSON" for --format: use table, csv, tsv or json'
	# --listen is checked before anything is connected.
	for bad in nope 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 256.0.0.1:9187 '[::1:9187'; do
		run --separate-stderr snap-import sync -D "$W" -d 127.0.0.1:1 --listen "$bad"
		assert_failure 1
		assert_equal "$stderr" "snap-import: error: invalid value \"$bad\" for --listen: use ADDR:PORT (a port from 1 to 65535), such as 127.0.0.1:9187
Try \"snap-import --help\" for more information."
	done
	run --separate-stderr snap-import list --all=yes
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: option "--all" takes no value'
	run --separate-stderr snap-import --p never list
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: option "--p" is ambiguous: --progress, --pattern'
	run --separate-stderr snap-import list --format
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: option "--format" needs a value'
}

@test "snap-import: the first import creates the table with inferred types and snapshot_id" {
	good_csv "$W/snapshot_20240301.csv"
	run --separate-stderr snap-import -t "$T" "$W/snapshot_20240301.csv"
	assert_success
	assert_equal "$stderr" ""
	assert_output --regexp "^imported $W/snapshot_20240301.csv: 3 rows, 149 bytes, [0-9.]+ s, [0-9]+ rows/s, snapshot [0-9]+\$"
	run sql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '$T'"
	assert_output "id integer, name text, score numeric, day date, seen timestamp with time zone, ok boolean, snapshot_id bigint"
	run sql "SELECT id, name, score, day, seen AT TIME ZONE 'UTC', ok FROM $T ORDER BY id"
	assert_line --index 0 "1|Smith, Ann|10.5|2024-03-01|2024-03-01 10:00:00|t"
	assert_line --index 1 "2|O\"Brien|7|2024-03-02|2024-03-02 11:30:00|f"
	assert_line --index 2 "3||8.25|||"
	# Every row joins to its ledger row.
	run sql "SELECT count(*) FROM $T d JOIN snap_import_files f ON f.id = d.snapshot_id WHERE f.file_name = '$W/snapshot_20240301.csv' AND f.rows = 3 AND f.bytes = 149 AND f.sha256 = '$(sha256sum "$W/snapshot_20240301.csv" | cut -c1-64)'"
	assert_output 3
}

@test "snap-import: the first import into a new table loads its rows frozen (COPY FREEZE); a later one does not" {
	# pageinspect (in Debian's postgresql) reads the tuples' flags: frozen
	# is HEAP_XMIN_COMMITTED | HEAP_XMIN_INVALID (0x0300).
	sql "CREATE EXTENSION IF NOT EXISTS pageinspect" >/dev/null
	good_csv "$W/first.csv"
	run -0 snap-import -t "$T" "$W/first.csv"
	run sql "SELECT string_agg(((t_infomask & 768) = 768)::text, ',') FROM heap_page_items(get_raw_page('$T', 0))"
	assert_output "true,true,true"
	good_csv "$W/second.csv"
	echo '4,Later,1,2024-03-04,2024-03-04 00:00:00+00,true' >>"$W/second.csv"
	run -0 snap-import -t "$T" "$W/second.csv"
	run sql "SELECT string_agg(((t_infomask & 768) = 768)::text, ',' ORDER BY lp) FROM heap_page_items(get_raw_page('$T', 0))"
	assert_output "true,true,true,false,false,false,false"
}

@test "snap-import: -d host:port connects over TCP" {
	good_csv "$W/a.csv"
	run snap-import --database "127.0.0.1:$PGPORT" -t "$T" "$W/a.csv"
	assert_success
	assert_output --partial "imported $W/a.csv: 3 rows"
	run snap-import -d "postgresql://postgres@127.0.0.1:$PGPORT/postgres" -t "$T" "$W/a.csv"
	assert_success
	assert_output --partial "skipped $W/a.csv: already imported at "
}

@test "snap-import: a server that never answers is given up after 30 s, or the user's connect_timeout" {
	good_csv "$W/a.csv"
	# Accepts connections (the kernel does) but never speaks.
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
			Listen => 8) or die "listen: $!";
		print $s->sockport, "\n";
		close STDOUT;
		sleep 120' >"$W/port" 2>/dev/null 3>&- &
	local listener=$! port= given default
	for _ in $(seq 50); do
		port=$(cat "$W/port")
		[ -n "$port" ] && break
		sleep 0.1
	done
	given=$(snap-import -d "host=127.0.0.1 port=$port connect_timeout=1" -t "$T" "$W/a.csv" 2>&1; echo "exit $?")
	# The default: 30 s (timeout(1) would end it with its own status).
	default=$(env -u PGCONNECT_TIMEOUT timeout 120 snap-import -d "127.0.0.1:$port" -t "$T" "$W/a.csv" 2>&1; echo "exit $?")
	kill "$listener"
	local why="could not connect to the database: connection to server at \"127.0.0.1\", port $port failed: timeout expired"
	assert_equal "$given" "snap-import: error: could not import \"$W/a.csv\": $why
exit 1"
	assert_equal "$default" "snap-import: error: could not import \"$W/a.csv\": $why
exit 1"
}

@test "snap-import: importing the same content again skips it, also under another name" {
	good_csv "$W/snapshot_20240301.csv"
	snap-import -t "$T" "$W/snapshot_20240301.csv"
	cp "$W/snapshot_20240301.csv" "$W/renamed.csv"
	run --separate-stderr snap-import -t "$T" "$W/snapshot_20240301.csv" "$W/renamed.csv"
	assert_success
	assert_line --index 0 --regexp "^skipped $W/snapshot_20240301.csv: already imported at 20[0-9-]+ [0-9:.]+[+-][0-9]{2}:[0-9]{2} as \"$W/snapshot_20240301.csv\", snapshot [0-9]+\$"
	assert_line --index 1 --regexp "^skipped $W/renamed.csv: already imported at .* as \"$W/snapshot_20240301.csv\", snapshot [0-9]+\$"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 3
	assert_equal "$(ledger_rows)" 1
}

@test "snap-import: a header-only file imports 0 rows and is recorded" {
	csv "$W/empty_rows.csv" 'a,b'
	sql "CREATE TABLE $T (a int, b text, snapshot_id bigint)"
	run snap-import -t "$T" "$W/empty_rows.csv"
	assert_success
	assert_output --regexp "^imported $W/empty_rows.csv: 0 rows, 4 bytes"
	assert_equal "$(ledger_rows)" 1
}

@test "snap-import: a UTF-8 byte order mark is not part of the first column's name" {
	printf '\xef\xbb\xbfid,name\n1,x\n' >"$W/bom.csv"
	run snap-import -t "$T" "$W/bom.csv"
	assert_success
	assert_equal "$(sql "SELECT id || name FROM $T")" 1x
}

@test "snap-import: into an existing table, header columns are matched by name" {
	sql "CREATE TABLE $T (b text, extra text DEFAULT 'kept', a int, snapshot_id bigint)"
	csv "$W/x.csv" 'a,b' '1,one' '2,two'
	run snap-import -t "$T" "$W/x.csv"
	assert_success
	assert_equal "$(sql "SELECT string_agg(a || b || extra, ' ' ORDER BY a) FROM $T")" "1onekept 2twokept"
	assert_equal "$(sql "SELECT count(*) FROM $T WHERE snapshot_id IS NULL")" 0
}

@test "snap-import: an existing table without snapshot_id is refused with the fix" {
	sql "CREATE TABLE $T (a int)"
	csv "$W/x.csv" 'a' '1'
	run --separate-stderr snap-import -t "$T" "$W/x.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/x.csv\": table \"$T\" has no snapshot_id column; add it with: ALTER TABLE \"$T\" ADD COLUMN snapshot_id bigint"
}

# bad_input NAME EXPECTED-REASON: the import of $W/NAME fails with exactly
# that reason, keeps nothing of it, and the good file after it imports.
bad_input() {
	good_csv "$W/good.csv"
	run --separate-stderr snap-import -t "$T" "$W/$1" "$W/good.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/$1\": $2"
	assert_output --regexp "^imported $W/good.csv: 3 rows"
	assert_equal "$(ledger_rows)" 1
	assert_equal "$(sql "SELECT count(*) FROM $T")" 3
}

@test "snap-import: an empty file fails and the next file still imports" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	: >"$W/empty.csv"
	bad_input empty.csv "the file is empty"
}

@test "snap-import: a ragged row fails naming its line, nothing of the file kept" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	csv "$W/ragged.csv" 'id,name,score,day,seen,ok' '1,a,1,,,' '2,b,2,,,,extra'
	bad_input ragged.csv "line 3: extra data after last expected column"
}

@test "snap-import: an unterminated quoted field fails with the line the server names" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	csv "$W/quote.csv" 'id,name,score,day,seen,ok' '1,a,1,,,' '2,"open,2,,,'
	# The server reports the line where the file ended inside the quotes.
	bad_input quote.csv "line 4: unterminated CSV quoted field"
}

@test "snap-import: a line of only \\. fails rather than ending the data early" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	printf 'id,name,score,day,seen,ok\n1,a,1,,,\n\\.\n2,b,2,,,\n' >"$W/marker.csv"
	bad_input marker.csv 'line 3: a line holding only \. ends COPY data early; quote the value to keep it'
}

@test "snap-import: invalid UTF-8 fails naming its line" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	printf 'id,name,score,day,seen,ok\n1,a,1,,,\n2,b\xff,2,,,\n' >"$W/utf8.csv"
	bad_input utf8.csv 'line 3: invalid byte sequence for encoding "UTF8": 0xff; if the file is not UTF-8, give its encoding with --encoding'
}

@test "snap-import: a value the column type rejects fails naming line and column" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	csv "$W/type.csv" 'id,name,score,day,seen,ok' '1,a,1,,,' '2,b,2,,,' '3,c,high,,,'
	bad_input type.csv 'line 4, column score: invalid input syntax for type numeric: "high"'
}

@test "snap-import: a header column the table lacks is added, with its file (schema drift)" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	csv "$W/extra.csv" 'id,nickname' '1,a'
	run --separate-stderr snap-import -t "$T" "$W/extra.csv"
	assert_success
	assert_equal "$stderr" "snap-import: info: added to table \"$T\": \"nickname\" text"
	assert_equal "$(sql "SELECT id || nickname FROM $T")" 1a
}

@test "snap-import: a missing file and a directory fail, naming them" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	bad_input missing.csv "could not open the file: No such file or directory"
	mkdir "$W/dir.csv"
	run --separate-stderr snap-import -t "$T" "$W/dir.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/dir.csv\": it is a directory"
}

@test "snap-import: an unreadable file fails naming it" {
	sql "CREATE TABLE $T (id int, name text, score numeric, day date, seen timestamptz, ok boolean, snapshot_id bigint)"
	good_csv "$W/secret.csv"
	chmod 0000 "$W/secret.csv"
	if [ "$(id -u)" = 0 ]; then
		# root reads anything: run the tool as nobody instead.
		run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env PGHOST=127.0.0.1 "$(command -v snap-import)" -t "$T" "$W/secret.csv"
	else
		run --separate-stderr snap-import -t "$T" "$W/secret.csv"
	fi
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/secret.csv\": could not open the file: Permission denied"
}

@test "snap-import: an unreachable server fails each file with libpq's reason" {
	good_csv "$W/a.csv"
	good_csv "$W/b.csv"
	reason=$(libpq_reason "host=127.0.0.1 port=1")
	assert_regex "$reason" "Connection refused"
	run --separate-stderr snap-import -d 127.0.0.1:1 "$W/a.csv" "$W/b.csv"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: could not import \"$W/a.csv\": could not connect to the database: $reason"
	assert_equal "${stderr_lines[1]}" "snap-import: error: could not import \"$W/b.csv\": could not connect to the database: $reason"
	assert_equal "$output" ""
}

@test "snap-import: a failed password authentication is reported" {
	hba=$(server_info pg datadir)/pg_hba.conf
	if ! grep -q pwuser "$hba"; then
		{ echo "host all pwuser 127.0.0.1/32 scram-sha-256"; cat "$hba"; } >"$W/hba"
		cat "$W/hba" >"$hba"
		sql "CREATE ROLE pwuser LOGIN PASSWORD 'right'; SELECT pg_reload_conf()" >/dev/null
	fi
	good_csv "$W/a.csv"
	conninfo="host=127.0.0.1 port=$PGPORT user=pwuser dbname=postgres"
	reason=$(PGPASSWORD=wrong libpq_reason "$conninfo")
	assert_regex "$reason" 'FATAL:  password authentication failed for user "pwuser"$'
	PGPASSWORD=wrong run --separate-stderr snap-import -d "$conninfo" "$W/a.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/a.csv\": could not connect to the database: $reason"
}

@test "snap-import: standard input imports under --name" {
	good_csv "$W/a.csv"
	run snap-import -t "$T" --name feed.csv - <"$W/a.csv"
	assert_success
	assert_output --regexp "^imported feed.csv: 3 rows, 149 bytes"
	run snap-import -t "$T" --name again.csv - <"$W/a.csv"
	assert_success
	assert_output --regexp "^skipped again.csv: already imported at .* as \"feed.csv\""
	assert_equal "$(sql "SELECT count(*) FROM $T")" 3
}

@test "snap-import: list shows each import; with files, whether their content is in" {
	good_csv "$W/snapshot_20240301.csv"
	csv "$W/snapshot_20240302.csv" 'id,name,score,day,seen,ok' '9,z,1,,,'
	snap-import -t "$T" "$W/snapshot_20240301.csv" "$W/snapshot_20240302.csv"
	# Each file's rows carry its own ledger id.
	assert_equal "$(sql "SELECT string_agg(f.rows || '=' || (SELECT count(*) FROM $T d WHERE d.snapshot_id = f.id), ' ' ORDER BY f.id) FROM snap_import_files f WHERE target_table = 'public.$T'")" "3=3 1=1"
	run --separate-stderr snap-import list -t "$T" --format csv
	assert_success
	assert_line --index 0 "id,file,sha256,rows,bytes,imported_at,seconds,by,in_table"
	assert_line --index 1 --regexp "^[0-9]+,$W/snapshot_20240301.csv,$(sha256sum "$W/snapshot_20240301.csv" | cut -c1-12),3,149,20[0-9-]+ [0-9:.]+[+-][0-9]{2}:[0-9]{2},[0-9.]+,$(id -un)@$(hostname),yes\$"
	assert_line --index 2 --regexp "^[0-9]+,$W/snapshot_20240302.csv,[0-9a-f]{12},1,"
	assert_equal "${#lines[@]}" 3
	cp "$W/snapshot_20240302.csv" "$W/copy.csv"
	csv "$W/new.csv" 'id' '1'
	run snap-import list -t "$T" --format tsv "$W/copy.csv" "$W/new.csv"
	assert_success
	assert_line --index 0 "$(printf 'file\timported\timported_at\tas\tid\tin_table')"
	assert_line --index 1 --regexp "^$W/copy.csv	yes	20[^	]+	$W/snapshot_20240302.csv	[0-9]+	yes\$"
	assert_line --index 2 "$(printf '%s\tno\t\\N\t\\N\t\\N\t\\N' "$W/new.csv")"
	run snap-import list -t "$T" --format json
	assert_success
	assert_line --index 0 "["
	assert_line --index 1 --regexp "^\{\"id\":[0-9]+,\"file\":\"$W/snapshot_20240301.csv\",\"sha256\":\"[0-9a-f]{12}\",\"rows\":3,\"bytes\":149,"
}

@test "snap-import: list of a table never imported into is empty" {
	run --separate-stderr snap-import list -t never_used --format csv
	assert_success
	assert_output "id,file,sha256,rows,bytes,imported_at,seconds,by,in_table"
}

@test "snap-import: --metrics-file writes Prometheus counters atomically" {
	good_csv "$W/a.csv"
	csv "$W/bad.csv" 'id' 'x'
	run snap-import -t "$T" --metrics-file "$W/snap.prom" "$W/a.csv" "$W/bad.csv"
	assert_failure 1
	run cat "$W/snap.prom"
	assert_line 'dbops_snap_import_files_total{result="imported"} 1'
	assert_line 'dbops_snap_import_files_total{result="failed"} 1'
	assert_line 'dbops_snap_import_files_total{result="skipped"} 0'
	assert_line 'dbops_snap_import_rows_total 3'
	assert_line 'dbops_snap_import_bytes_total 149'
	assert_line 'dbops_snap_import_duration_seconds_count 1'
	assert_line --regexp '^dbops_snap_import_last_success_timestamp_seconds [0-9]{10}$'
}

@test "snap-import: concurrent imports of one file import it once" {
	"$GEN" --rows 20000 --seed 3 >"$W/big.csv"
	snap-import -t "$T" --name seed.csv - < <(head -2 "$W/big.csv") >/dev/null
	for i in 1 2 3 4; do
		snap-import -t "$T" "$W/big.csv" >"$W/out$i" 2>&1 &
	done
	wait
	assert_equal "$(cat "$W"/out* | grep -c '^imported ')" 1
	assert_equal "$(cat "$W"/out* | grep -c '^skipped ')" 3
	assert_equal "$(sql "SELECT count(*) FROM $T")" 20001
}

@test "snap-import: kill -9 in the middle of a large COPY leaves no rows and no ledger row" {
	"$GEN" --bytes 150000000 --seed 9 >"$W/huge.csv"
	csv "$W/small.csv" "$(head -1 "$W/huge.csv")"
	snap-import -t "$T" "$W/small.csv" >/dev/null
	snap-import -t "$T" "$W/huge.csv" >/dev/null 2>&1 &
	pid=$!
	# Wait until the server is storing rows of that COPY, then kill.
	for _ in $(seq 1 200); do
		n=$(copy_rows)
		[ "$n" -gt 1000 ] && break
		sleep 0.05
	done
	[ "$n" -gt 1000 ] || fail "the COPY never started"
	kill -9 "$pid"
	wait "$pid" || true
	# The server ends the session and its transaction when it sees the socket close.
	for _ in $(seq 1 100); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'snap-import'")" = 0 ] && break
		sleep 0.1
	done
	assert_equal "$(sql "SELECT count(*) FROM $T")" 0
	assert_equal "$(ledger_rows)" 1
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE file_name = '$W/huge.csv'")" 0
}

@test "snap-import: sync --once imports the folder, skips hidden and temporary names" {
	mkdir -m 0755 "$W/in"
	good_csv "$W/in/snapshot_20240301.csv"
	csv "$W/in/snapshot_20240302.csv" 'id,name,score,day,seen,ok' '4,d,1,,,'
	good_csv "$W/in/.hidden.csv"
	good_csv "$W/in/draft.csv.tmp"
	csv "$W/in/notes.txt" 'a'
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_success
	assert_equal "$(sql "SELECT string_agg(file_name, ' ' ORDER BY id) FROM snap_import_files WHERE target_table = 'public.$T'")" "snapshot_20240301.csv snapshot_20240302.csv"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 4
	# A second pass finds nothing new.
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once -v
	assert_success
	assert_equal "$(ledger_rows)" 2
}

@test "snap-import: sync records a failed file and retries it only when its content changes" {
	mkdir -m 0755 "$W/in"
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	csv "$W/in/bad.csv" 'id,name' '1,a' 'x,b'
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'snap-import: error: could not import "bad.csv": line 3, column id: invalid input syntax for type integer: "x"'
	assert_equal "${stderr_lines[1]}" "snap-import: error: 1 file of \"$W/in\" failed and is not imported: \"bad.csv\""
	run snap-import list -t "$T" --all --format csv
	assert_line --index 1 --regexp "^[0-9]+,bad.csv,[0-9a-f]{12},,[0-9]+,[^,]+,,[^,]+,,failed,\"line 3, column id: invalid input syntax for type integer: \"\"x\"\"\"\$"
	# Unchanged: not tried again, but still failed (S2-15): named, exit 1.
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_failure 1
	assert_regex "${stderr_lines[0]}" '^snap-import: warning: skipped bad.csv: failed at .+ and unchanged since: line 3, column id: invalid input syntax for type integer: "x"$'
	assert_equal "${stderr_lines[1]}" "snap-import: error: 1 file of \"$W/in\" failed and is not imported: \"bad.csv\""
	# Mended: imported, and the failure record goes.
	csv "$W/in/bad.csv" 'id,name' '1,a' '2,b'
	run snap-import sync -D "$W/in" -t "$T" --once
	assert_success
	assert_equal "$(sql "SELECT status FROM snap_import_files WHERE target_table = 'public.$T'")" imported
}

@test "snap-import: one sync per table; a second one refuses" {
	mkdir -m 0755 "$W/in"
	snap-import sync -D "$W/in" -t "$T" 2>"$W/sync.log" &
	SYNC_PID=$!
	for _ in $(seq 1 50); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" -gt 0 ] && break
		sleep 0.1
	done
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: another snap-import sync is running for table \"$T\""
	assert_equal "${stderr_lines[1]}" "snap-import: hint: one sync per table at a time; stop the other one or use another -t TABLE"
}

# wait_for SQL VALUE: until the query answers VALUE, for 15 s at most.
wait_for() {
	for _ in $(seq 1 150); do
		[ "$(sql "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "waited in vain for [$1] = $2 (last: $(sql "$1"))"
}

@test "snap-import: sync imports a file written slowly once it is complete, and a renamed-in one" {
	mkdir -m 0755 "$W/in"
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	snap-import sync -D "$W/in" -t "$T" 2>"$W/sync.log" &
	SYNC_PID=$!
	wait_for "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted" 1
	# (bats keeps fd 3 for itself)
	exec {out}>"$W/in/slow.csv"
	echo 'id,name' >&"$out"
	for i in 1 2 3 4 5; do
		echo "$i,row$i" >&"$out"
		sleep 0.3
	done
	# Still open for writing: nothing imported yet.
	assert_equal "$(ledger_rows)" 0
	echo "6,row6" >&"$out"
	exec {out}>&-
	wait_for "SELECT count(*) FROM $T" 6
	assert_equal "$(ledger_rows)" 1
	csv "$W/staged.csv" 'id,name' '7,moved'
	mv "$W/staged.csv" "$W/in/moved.csv"
	wait_for "SELECT count(*) FROM $T" 7
	kill -TERM "$SYNC_PID"
	wait "$SYNC_PID" || fail "sync exited with status $?"
	SYNC_PID=
	assert_equal "$(sql "SELECT string_agg(file_name || ':' || rows, ' ' ORDER BY id) FROM snap_import_files WHERE target_table = 'public.$T'")" "slow.csv:6 moved.csv:1"
}

@test "snap-import: sync serves /metrics and talks to systemd" {
	mkdir -m 0755 "$W/in"
	good_csv "$W/in/a.csv"
	port=$(( 20000 + RANDOM % 20000 ))
	"$DBOPS_BUILD/tests/notify-listen" "$W/notify" 8 >"$W/notify.out" &
	listener=$!
	sleep 0.3
	NOTIFY_SOCKET=$W/notify WATCHDOG_USEC=400000 snap-import sync -D "$W/in" -t "$T" --listen "127.0.0.1:$port" 2>"$W/sync.log" &
	SYNC_PID=$!
	wait_for "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'" 1
	exec {http}<>"/dev/tcp/127.0.0.1/$port"
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&"$http"
	body=$(cat <&"$http")
	exec {http}<&-
	assert_regex "$body" 'HTTP/1.[01] 200 OK'
	assert_regex "$body" 'Content-Type: text/plain; version=0.0.4'
	assert_regex "$body" 'dbops_snap_import_files_total\{result="imported"\} 1'
	assert_regex "$body" 'dbops_snap_import_rows_total 3'
	assert_regex "$body" 'dbops_snap_import_files_waiting 0'
	sleep 1
	kill -HUP "$SYNC_PID"
	for _ in $(seq 1 50); do
		grep -q 'reading .* again (SIGHUP)' "$W/sync.log" && break
		sleep 0.1
	done
	kill -TERM "$SYNC_PID"
	wait "$SYNC_PID" || fail "sync exited with status $?"
	SYNC_PID=
	wait "$listener"
	run cat "$W/notify.out"
	assert_line "READY=1"
	assert_line --regexp "^STATUS=watching $W/in: 1 imported, 0 skipped, 0 failed, 0 waiting; last: imported a.csv \(3 rows\) at "
	assert_line "WATCHDOG=1"
	assert_line "STOPPING=1"
	run cat "$W/sync.log"
	assert_line "snap-import: info: reading \"$W/in\" again (SIGHUP)"
}

@test "snap-import: sync stops cleanly on SIGTERM in the middle of a file, keeping nothing of it" {
	mkdir -m 0755 "$W/in"
	"$GEN" --bytes 150000000 --seed 5 >"$W/big.csv"
	snap-import sync -D "$W/in" -t "$T" 2>"$W/sync.log" &
	SYNC_PID=$!
	wait_for "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted" 1
	mv "$W/big.csv" "$W/in/big.csv"
	for _ in $(seq 1 200); do
		n=$(copy_rows)
		[ "$n" -gt 1000 ] && break
		sleep 0.05
	done
	kill -TERM "$SYNC_PID"
	wait "$SYNC_PID" || fail "sync exited with status $?"
	SYNC_PID=
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'")" 0
	# The table the first file was creating went with it.
	assert_equal "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = '$T'")" 0
}

@test "snap-import: sync on a missing folder fails naming it" {
	run --separate-stderr snap-import sync -D "$W/nope" -t "$T" --once
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not watch directory \"$W/nope\": No such file or directory"
}

@test "snap-import: sync on a file, or a path through one, fails saying why" {
	good_csv "$W/file.csv"
	# stat() succeeds: the reason is ours, not a stale errno.
	run --separate-stderr snap-import sync -D "$W/file.csv" -t "$T" --once
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not watch directory \"$W/file.csv\": not a directory"
	# stat() fails: its errno.
	run --separate-stderr snap-import sync -D "$W/file.csv/in" -t "$T" --once
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not watch directory \"$W/file.csv/in\": Not a directory"
	assert_equal "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = '$T'")" 0
}

# Paths with a space, quotes and a dollar (odd_dir): nothing splits or
# quotes them on the way to the messages, the ledger and the files written.

@test "snap-import: a file under an odd path imports, writes its metrics there and is listed" {
	D=$(odd_dir "import-$T")
	good_csv "$D/snapshot 1.csv"
	run --separate-stderr snap-import -t "$T" --metrics-file "$D/snap \$x.prom" "$D/snapshot 1.csv"
	assert_success
	assert_equal "$stderr" ""
	assert_output --partial "imported $D/snapshot 1.csv: 3 rows, 149 bytes, "
	assert_equal "$(sql "SELECT file_name FROM snap_import_files WHERE target_table = 'public.$T'")" "$D/snapshot 1.csv"
	run grep -Fx 'dbops_snap_import_files_total{result="imported"} 1' "$D/snap \$x.prom"
	assert_success
	# Replaced atomically: no temporary file left beside it.
	assert_equal "$(ls -A "$D")" "$(printf '%s\n' 'snap $x.prom' 'snapshot 1.csv')"
	run --separate-stderr snap-import list -t "$T" --format tsv
	assert_success
	assert_equal "$(printf '%s\n' "${lines[1]}" | cut -f2)" "$D/snapshot 1.csv"
	run --separate-stderr snap-import list -t "$T" --format tsv "$D/snapshot 1.csv"
	assert_success
	assert_line --index 1 --regexp "^$(printf '%s' "$D/snapshot 1.csv" | sed 's/[][\.*^$()+?{}|]/\\&/g')	yes	20[^	]+	.+	[0-9]+	yes\$"
	assert_equal "$(printf '%s\n' "${lines[1]}" | cut -f4)" "$D/snapshot 1.csv"
	# A bad file there is named whole in its error.
	csv "$D/bad 'x'.csv" 'id' 'nope'
	run --separate-stderr snap-import -t "$T" "$D/bad 'x'.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$D/bad 'x'.csv\": line 2, column id: invalid input syntax for type integer: \"nope\""
}

@test "snap-import: sync --once of an odd folder imports it; a missing one is named" {
	D=$(odd_dir "sync-$T")
	good_csv "$D/a b.csv"
	csv "$D/it's \"2\".csv" 'id,name,score,day,seen,ok' '4,d,1,,,'
	run --separate-stderr snap-import sync -D "$D" -t "$T" --once
	assert_success
	assert_regex "${stderr_lines[0]}" '^snap-import: info: imported a b\.csv: 3 rows, 149 bytes, [0-9.]+ s, snapshot [0-9]+$'
	assert_regex "${stderr_lines[1]}" '^snap-import: info: imported it'"'"'s "2"\.csv: 1 rows, 35 bytes, [0-9.]+ s, snapshot [0-9]+$'
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "$(sql "SELECT string_agg(file_name, '|' ORDER BY id) FROM snap_import_files WHERE target_table = 'public.$T'")" "a b.csv|it's \"2\".csv"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 4
	run --separate-stderr snap-import sync -D "$D/nope" -t "$T" --once
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not watch directory \"$D/nope\": No such file or directory"
}
