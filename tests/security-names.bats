#!/usr/bin/env bats
# Security (issue 19): names with quotes, backticks, semicolons, spaces,
# line ends, backslashes, % and bytes that are not UTF-8 wherever a name
# flows into SQL, a path or an option file, against real servers. Each
# works exactly (the object has that exact name, as the catalog says) or is
# refused with one line naming it, exit 1: never an injection, a wrong
# object, a broken option file or a silent rename. (pitr-replay's restore
# points and paths: security-names-pitr.bats.)

bats_require_minimum_version 1.5.0

# The awkward names, NUL-separated: each character alone, then together.
odd_names() {
	printf '%s\0' "q'uote" 'd"ouble' 'back`tick' 'semi;colon' 'sp ace' \
		$'new\nline' 'back\slash' 'per%cent%s' $'all \'"`;\\%\n x'
}

setup_file() {
	load lib/helpers
	export TZ=UTC
	start_postgres
	start_redis
	# One world restored by dump-restore under a root and into a database
	# whose names hold every awkward character.
	local dumps
	dumps=$(odd_dir "dumps;\`x\`")
	printf 'CREATE TABLE t (a int);\nINSERT INTO t VALUES (7);\n' |
		gzip >"$dumps/w1-2024-03-01T02:00:00Z.sql.gz"
	export DR_ROOT DR_DB=$'g\'a"m`e; %s\\ DROP\nx'
	DR_ROOT="$(odd_dir "root%s;\`x\`")/r"
	dump-restore up --root "$DR_ROOT" --database "$DR_DB" --allow-incomplete \
		"$dumps" >"$DBOPS_SERVER_ROOT/up.log" 2>&1 ||
		{ cat "$DBOPS_SERVER_ROOT/up.log" >&2; return 1; }
}

teardown_file() {
	load lib/helpers
	[ -n "${DR_ROOT:-}" ] && [ -d "$DR_ROOT" ] && dump-restore down --root "$DR_ROOT" 2>/dev/null
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	W=$(odd_dir "work$BATS_TEST_NUMBER")
	T=n$BATS_TEST_NUMBER
}

teardown() {
	if [ -n "${ES_PID:-}" ]; then
		kill -TERM "$ES_PID" 2>/dev/null || true
		wait "$ES_PID" 2>/dev/null || true
	fi
}

# sqlv NAME SQL: SQL run with :'v' bound to NAME (bytes as they are).
sqlv() {
	psql -AtX -v ON_ERROR_STOP=1 -v v="$1" <<<"$2"
}

@test "security names: snap-import -t takes every odd table name exactly, schema.table too" {
	local name k=0 got
	while IFS= read -r -d '' name; do
		k=$((k + 1))
		printf 'id\n%s\n' "$k" >"$W/$k.csv"
		run --separate-stderr snap-import -t "$name" "$W/$k.csv"
		[ "$status" = 0 ] || fail "table $k: $stderr"
		got=$(sqlv "$name" "SELECT count(*) FROM pg_class WHERE relname = :'v' AND relkind = 'r'")
		[ "$got" = 1 ] || fail "table $k: no table of that exact name"
		got=$(sqlv "$name" "SELECT format('SELECT id FROM %I', :'v') \\gexec")
		[ "$got" = "$k" ] || fail "table $k: rows $got"
	done < <(odd_names)
	# A schema of its own, as schema.table: the dot splits, nothing else.
	sqlv "s'; x\`%" "SELECT format('CREATE SCHEMA %I', :'v') \\gexec" >/dev/null
	printf 'id\n1\n' >"$W/s.csv"
	run --separate-stderr snap-import -t "s'; x\`%.t\"b" "$W/s.csv"
	assert_success
	got=$(sqlv "s'; x\`%" "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = relnamespace WHERE nspname = :'v' AND relkind = 'r' ORDER BY 1")
	assert_equal "$got" "$(printf '%s\n' 'snap_import_files' 't"b' | sort)"
	# Nothing else was made: the tables are the odd ones and the ledger.
	got=$(psql -AtX -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = relnamespace WHERE nspname = 'public' AND relkind = 'r'")
	assert_equal "$got" "$((k + 1))"
}

@test "security names: snap-import -t refuses a name not valid UTF-8 with one line naming it" {
	printf 'id\n1\n' >"$W/a.csv"
	run --separate-stderr snap-import -t $'a\xffb' "$W/a.csv"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "snap-import: error: could not import \"$W/a.csv\": invalid table name \"a"$'\xff'"b\": invalid multibyte character"
	run --separate-stderr snap-import -t $'s.a\xffb' "$W/a.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/a.csv\": invalid table name \"s.a"$'\xff'"b\": invalid multibyte character"
	assert_equal "$(psql -AtX -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'a%b'")" 0
}

@test "security names: snap-import takes CSV header names exactly as columns" {
	local name header='id' k=0 got
	while IFS= read -r -d '' name; do
		k=$((k + 1))
		header+=",\"${name//\"/\"\"}\""
	done < <(odd_names)
	{
		printf '%s\n' "$header"
		printf '0'
		for ((j = 1; j <= k; j++)); do printf ',%s' "$j"; done
		printf '\n'
	} >"$W/h.csv"
	run --separate-stderr snap-import -t "$T" "$W/h.csv"
	assert_success
	k=0
	while IFS= read -r -d '' name; do
		k=$((k + 1))
		got=$(sqlv "$name" "SELECT format('SELECT %I FROM $T', :'v') \\gexec")
		[ "$got" = "$k" ] || fail "column $k: $got"
	done < <(odd_names)
	got=$(psql -AtX -c "SELECT count(*) FROM pg_attribute WHERE attrelid = '$T'::regclass AND attnum > 0")
	assert_equal "$got" "$((k + 2))"
	# A header name not UTF-8: refused, naming the column and the cure.
	printf 'id,a\xffb\n1,2\n' >"$W/bad.csv"
	run --separate-stderr snap-import -t "$T" "$W/bad.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: could not import \"$W/bad.csv\": column 2 of the header is not UTF-8; give the file's encoding with --encoding"
}

@test "security names: snap-import plan keeps each comment on one line, so psql runs the plan as it is" {
	printf 'id,"x\nDROP TABLE %s_victim; --",zip\n1,2,"08\nDROP TABLE %s_victim; --"\n' "$T" "$T" >"$W/p.csv"
	psql -AtX -c "CREATE TABLE ${T}_victim ()"
	run --separate-stderr snap-import plan -t "${T}_plan" "$W/p.csv"
	assert_success
	assert_line -- "-- \"x\\nDROP TABLE ${T}_victim; --\" integer: every value is an integer within integer's range, written as PostgreSQL prints it"
	assert_line -- "-- \"zip\" text: line 3 has \"08\\nDROP TABLE ${T}_victim; --\", which no other type prints back unchanged"
	run psql -X -v ON_ERROR_STOP=1 <<<"$output"
	assert_success
	assert_equal "$(psql -AtX -c "SELECT to_regclass('${T}_victim') IS NOT NULL, to_regclass('${T}_plan') IS NOT NULL")" "t|t"
}

@test "security names: snap-import records odd file and folder names exactly in the ledger, sync too" {
	local name k=0 dir got
	dir="$W/d 'x\"\`;%s\\"
	mkdir -p "$dir"
	while IFS= read -r -d '' name; do
		k=$((k + 1))
		printf 'id\n%s\n' "$k" >"$dir/$name.csv"
		run --separate-stderr snap-import -t "$T" "$dir/$name.csv"
		[ "$status" = 0 ] || fail "file $k: $stderr"
		got=$(sqlv "$dir/$name.csv" "SELECT count(*) FROM snap_import_files WHERE file_name = :'v' AND target_table = 'public.$T'")
		[ "$got" = 1 ] || fail "file $k: not in the ledger under its name"
	done < <(odd_names)
	# A byte not UTF-8 is kept as \xFF, as the man page says.
	printf 'id\n100\n' >"$dir/caf"$'\xe9'".csv"
	run --separate-stderr snap-import -t "$T" "$dir/caf"$'\xe9'".csv"
	assert_success
	got=$(sqlv "$dir/caf\\xE9.csv" "SELECT count(*) FROM snap_import_files WHERE file_name = :'v'")
	assert_equal "$got" 1
	# sync over the folder: every file is in already, nothing new.
	run --separate-stderr snap-import sync -D "$dir" -t "$T" --once
	assert_success
	assert_equal "$(psql -AtX -c "SELECT count(*) FROM $T")" "$((k + 1))"
}

@test "security names: dump-restore refuses odd world names with one line naming the file" {
	local name f
	while IFS= read -r -d '' name; do
		f="$W/$name-2024-03-01T02:00:00Z.sql.gz"
		printf 'SELECT 1;\n' | gzip >"$f"
		run --separate-stderr dump-restore plan "$f"
		assert_failure 1
		assert_equal "${stderr_lines[0]}" "dump-restore: error: could not use \"${f//$'\n'/ }\": world name \"${name//$'\n'/ }\" must start with a letter or a digit and hold only letters, digits, '-', '_' and '.'"
	done < <(odd_names; printf '%s\0' $'not\xffutf8')
}

@test "security names: dump-restore --database and --root take odd names exactly, worlds.cnf reads back" {
	local hex
	hex=$(printf '%s' "$DR_DB" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
	run mariadb --defaults-extra-file="$DR_ROOT/worlds.cnf" --defaults-group-suffix=_w1 \
		-N -B -e "SELECT HEX(DATABASE()), COUNT(*) FROM t"
	assert_success
	assert_output "$hex	1"
	# A name MariaDB cannot hold: refused, one line naming it.
	run --separate-stderr dump-restore up --root "$W/r" --database $'a\xffb' \
		--allow-incomplete "$(dirname "$(dirname "$DR_ROOT")")/dumps;\`x\`" 2>&1
	dump-restore down --root "$W/r" >/dev/null 2>&1 || true
	assert_failure 1
	[[ "$stderr" == *"could not make database \"a"$'\xff'"b\" for a dump that chooses none: Invalid utf8mb4 character string: 'a\\xFFb'"* ]] ||
		fail "unexpected: $stderr"
}

@test "security names: world-query takes odd world names of an inventory exactly" {
	local name k=0 inv=$W/inv.cnf json
	: >"$inv"
	while IFS= read -r -d '' name; do
		[[ "$name" == *$'\n'* ]] && continue # an option file's group is one line
		k=$((k + 1))
		sed -n '/^\[client_w1\]/,$p' "$DR_ROOT/worlds.cnf" |
			sed "1s/.*/[client_${name//\\/\\\\}]/" >>"$inv"
	done < <(odd_names)
	chmod 0600 "$inv"
	run --separate-stderr world-query --inventory "$inv" --format json 'SELECT a FROM t'
	assert_success
	json=$output
	k=0
	while IFS= read -r -d '' name; do
		[[ "$name" == *$'\n'* ]] && continue
		k=$((k + 1))
		run jq -r --arg w "$name" '[.[] | select(.world == $w) | .a | tostring] | join(",")' <<<"$json"
		[ "$output" = 7 ] || fail "world $name: $output"
	done < <(odd_names)
}

# start_es ARGS...: event-store on a free port, its pid in ES_PID.
start_es() {
	ES_PORT=$(free_port)
	event-store --listen "127.0.0.1:$ES_PORT" "$@" 2>"$W/es.log" &
	ES_PID=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$ES_PORT/health" && return 0
		kill -0 "$ES_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/es.log" >&2
	return 1
}

@test "security names: event-store --schema and --redis-prefix take odd names exactly" {
	local name k=0 u
	while IFS= read -r -d '' name; do
		k=$((k + 1))
		# A start each: a quote, a line end, then all together.
		case $k in 1 | 6 | 9) ;; *) continue ;; esac
		start_es --schema "$name" --redis "$REDIS_URL" --redis-prefix "$name:"
		u=$(printf '6f8e2c1a-0d6b-4e8f-9a51-%012d' "$k")
		run curl -s -H 'Content-Type: application/json' \
			--data-binary "{\"uuid\":\"$u\",\"symbol\":\"e\"}" "http://127.0.0.1:$ES_PORT/initial"
		assert_success
		[[ "$output" == *'"vowel":true'* ]] || fail "schema $k: $output"
		run curl -s "http://127.0.0.1:$ES_PORT/dashboard/symbol/e"
		[[ "$output" == *'"count":1,"symbol":"e"'* ]] || fail "schema $k: $output"
		kill -TERM "$ES_PID"
		wait "$ES_PID" || fail "schema $k: $(cat "$W/es.log")"
		ES_PID=
		u=$(sqlv "$name" "SELECT format('SELECT uuid FROM %I.initial_events', :'v') \\gexec")
		[ "$u" = "$(printf '6f8e2c1a-0d6b-4e8f-9a51-%012d' "$k")" ] || fail "schema $k: $u"
		# Every Redis key of the instance starts with the prefix.
		run redis-cli -s "$REDIS_SOCKET" --scan --pattern "$(printf '%s' "$name:" | sed 's/[][*?\\]/\\&/g')*"
		[ -n "$output" ] || fail "prefix $k: no key"
	done < <(odd_names)
	# Schemas: the odd ones, each exactly.
	k=0
	while IFS= read -r -d '' name; do
		k=$((k + 1))
		case $k in 1 | 6 | 9) ;; *) continue ;; esac
		[ "$(sqlv "$name" "SELECT count(*) FROM pg_namespace WHERE nspname = :'v'")" = 1 ] ||
			fail "no schema named $name"
	done < <(odd_names)
	# Not valid UTF-8: refused at start, one line naming it.
	run --separate-stderr event-store --listen "127.0.0.1:$(free_port)" --no-redis --schema $'s\xffc'
	assert_failure 1
	assert_equal "$stderr" "event-store: error: invalid --schema \"s"$'\xff'"c\": invalid multibyte character"
}

@test "security names: event-store refuses odd uuids and symbols in requests, nothing stored" {
	local body before
	start_es --schema "es'x" --no-redis
	before=$(psql -AtX -c "SELECT count(*) FROM \"es'x\".initial_events")
	for body in '{"uuid":"x'"'"'); DROP TABLE x; --","symbol":"e"}' \
		'{"uuid":"6f8e2c1a-0d6b-4e8f-9a51-3c2b7d4e5f60","symbol":"e'"'"'"}' \
		'{"uuid":"6f8e2c1a-0d6b-4e8f-9a51-3c2b7d4e5f60\n","symbol":"e"}' \
		'{"uuid":"6f8e2c1a-0d6b-4e8f-9a51-3c2b7d4e5f60","symbol":"\u00e9"}'; do
		run curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary "$body" "http://127.0.0.1:$ES_PORT/initial"
		assert_output 400
	done
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ES_PORT/dashboard/symbol/e';"
	assert_output 400
	assert_equal "$(psql -AtX -c "SELECT count(*) FROM \"es'x\".initial_events")" "$before"
}
