#!/usr/bin/env bats
# world-query's answers are exact, against two real MariaDB servers: JSON
# keeps what a double would lose as strings, --reduce adds DECIMALs exactly
# (the oracle: SUM() and AVG() computed by a server over the same rows),
# GEOMETRY comes as the bytes the server sends (the oracle: its HEX()), a
# result column named world is renamed, every result set of a CALL is
# printed (the oracle: the mariadb client's own output).

bats_require_minimum_version 1.5.0

# The amounts of world N's payment table, as SQL over seq_1_to_8000 (the
# SEQUENCE engine): two decimals, like sakila's payment.amount.
amounts() { echo "SELECT seq AS id, CAST(((seq * $((7919 * $1))) % 1099 + 1) / 100 AS DECIMAL(5,2)) AS amount FROM seq_1_to_8000"; }

setup_file() {
	load lib/helpers
	export INV=$BATS_FILE_TMPDIR/worlds.cnf
	: >"$INV"
	chmod 0600 "$INV"
	for n in 1 2; do
		w=world$n
		start_mariadb "$w"
		mariadb_admin "$w" -e "
			CREATE DATABASE game CHARACTER SET utf8mb4;
			USE game;
			CREATE TABLE game.payment (id INT PRIMARY KEY, amount DECIMAL(5,2));
			INSERT INTO game.payment $(amounts $n);
			CREATE TABLE game.purse (id INT PRIMARY KEY, gold DECIMAL(20,4),
				big BIGINT UNSIGNED, level INT, ratio DOUBLE, name VARCHAR(20));
			INSERT INTO game.purse VALUES
				(1, NULL, 1, 7, 0.1 + 0.2, 'ann'),
				(2, 1234.5678, 9007199254740992, 8, 1e300, 'bob'),
				(3, 99999999999999.9999, 18446744073709551615, NULL, NULL, 'cy');
			CREATE TABLE game.names (id INT PRIMARY KEY, name VARCHAR(40));
			INSERT INTO game.names VALUES (1, 'Zoë 🐉 dragon'), (2, '山田太郎'),
				(3, CONCAT('e', _utf8mb4 X'CC81', ' 👨‍👩‍👧 ｶﾀｶﾅ')), (4, '红龙'),
				(5, 'ＡＢＣ full'), (6, 'plain ascii');
			CREATE TABLE game.geo (id INT PRIMARY KEY, p GEOMETRY);
			INSERT INTO game.geo VALUES (1, ST_GeomFromText('POINT(1 2)')),
				(2, ST_GeomFromText('LINESTRING(0 0, 1 1)', 4326)), (3, NULL);
			CREATE USER 'analyst'@'127.0.0.1' IDENTIFIED BY 'pw';
			GRANT ALL ON game.* TO 'analyst'@'127.0.0.1';"
		printf 'DELIMITER //\nCREATE PROCEDURE game.two() BEGIN SELECT id, name FROM game.purse ORDER BY id; SELECT COUNT(*) AS n, SUM(amount) AS total FROM game.payment; END//\nCREATE PROCEDURE game.slow2() SQL SECURITY INVOKER BEGIN SELECT 1 AS a; SELECT SLEEP(30) AS s; END//\n' |
			mariadb_admin "$w"
		printf '[client_%s]\nhost=127.0.0.1\nport=%s\nuser=analyst\npassword=pw\ndatabase=game\n\n' \
			"$w" "$(server_info "$w" port)" >>"$INV"
	done
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
}

wq() { world-query --inventory "$INV" "$@"; }

# server SQL: what world1's server answers (-N -B), e.g. over both worlds'
# amounts at once.
server() { mariadb_admin world1 -N -B game -e "$1"; }

@test "world-query: --reduce sums and averages DECIMALs exactly, as a server's SUM() and AVG() over the same rows" {
	both="$(amounts 1) UNION ALL $(amounts 2)"
	run --separate-stderr wq --format csv --reduce "SELECT sum(amount) AS s, avg(amount) AS a, total(amount) AS t, count(*) AS n FROM rows" "SELECT amount FROM payment"
	assert_success
	assert_equal "$stderr" ""
	read -r sum avg n < <(server "SELECT SUM(amount), AVG(amount), COUNT(*) FROM ($both) AS x")
	# Compared as numbers by the server itself (1.500000 = 1.5).
	IFS=, read -r s a t m <<<"${lines[1]}"
	echo "world-query: $s $a $t $m; the server: $sum $avg $n"
	assert_equal "$(server "SELECT $s = $sum, $a = $avg, $t = $sum, $m = $n")" "$(printf '1\t1\t1\t1')"
	# Grouped by world, ordered by the sum: each as that world's server says.
	run --separate-stderr wq --format csv --reduce "SELECT world, sum(amount) AS s FROM rows GROUP BY world ORDER BY s DESC" "SELECT amount FROM payment"
	assert_success
	assert_equal "${#lines[@]}" 3
	for i in 1 2; do
		IFS=, read -r w s <<<"${lines[$i]}"
		assert_equal "$(server "SELECT $s = (SELECT SUM(amount) FROM ($(amounts "${w#world}")) x)")" 1
	done
	# Ordered by the sum, as numbers.
	assert_equal "$(server "SELECT ${lines[1]#*,} >= ${lines[2]#*,}")" 1
	# As a window, with frames that move (inverse steps).
	run --separate-stderr wq --format csv --reduce "SELECT max(s) AS m FROM (SELECT sum(amount) OVER (ORDER BY world, id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s FROM rows)" "SELECT id, amount FROM payment"
	assert_success
	assert_equal "$(server "SELECT ${lines[1]} = (SELECT MAX(s) FROM (SELECT SUM(amount) OVER (ORDER BY w, id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s FROM (SELECT 1 AS w, x.* FROM ($(amounts 1)) x UNION ALL SELECT 2, y.* FROM ($(amounts 2)) y) z) q)")" 1
}

@test "world-query: JSON writes a number column a double would change as strings, every value of it; the others bare" {
	run --separate-stderr wq -w world1 --format json "SELECT id, gold, big, level, ratio FROM purse ORDER BY id"
	assert_success
	# The oracle: the real client's text of each value, and its NULLs.
	server "SELECT id, gold, big, level, ratio FROM game.purse ORDER BY id" >"$BATS_TEST_TMPDIR/client"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/json"
	python3 - "$BATS_TEST_TMPDIR/client" "$BATS_TEST_TMPDIR/json" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[2]))
client = [l.rstrip('\n').split('\t') for l in open(sys.argv[1])]
assert len(rows) == len(client) == 3, rows
for r, c in zip(rows, client):
    for key, text in zip(['id', 'gold', 'big', 'level', 'ratio'], c):
        v = r[key]
        if text == 'NULL':
            assert v is None, (key, v)
        elif key in ('gold', 'big'):
            # Beyond 15 digits or 2^53 somewhere in the column: all strings.
            assert isinstance(v, str) and v == text, (key, v, text)
        else:
            assert not isinstance(v, str) and v == float(text), (key, v, text)
EOF
	# Without the value that does not fit, the same column is bare numbers.
	run wq -w world1 --format json "SELECT gold, big FROM purse WHERE id < 3 ORDER BY id"
	assert_equal "$output" '[
{"world":"world1","gold":null,"big":1},
{"world":"world1","gold":1234.5678,"big":9007199254740992}
]'
}

@test "world-query: --reduce output kinds follow the whole column, a NULL first row too" {
	run --separate-stderr wq --format json --reduce "SELECT world, gold FROM rows ORDER BY gold IS NOT NULL, world" "SELECT gold FROM purse WHERE id < 3"
	assert_success
	assert_equal "$output" '[
{"world":"world1","gold":null},
{"world":"world2","gold":null},
{"world":"world1","gold":1234.5678},
{"world":"world2","gold":1234.5678}
]'
	run --separate-stderr wq --format json --reduce "SELECT sum(gold) AS s, max(level) AS l FROM rows" "SELECT gold, level FROM purse WHERE id < 3"
	assert_equal "$output" '[
{"s":2469.1356,"l":8}
]'
}

@test "world-query: --reduce refuses, by name, a column it cannot hold exactly; as text it sums exactly" {
	run --separate-stderr wq --reduce "SELECT sum(gold) FROM rows" "SELECT gold FROM purse"
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" 'world-query: error: --reduce: column "gold" holds 99999999999999.9999 (world "world1"), a number of more digits than SQLite keeps exactly (15 significant, or a 64-bit integer): no answer rather than a rounded one'
	assert_equal "${stderr_lines[1]}" "world-query: hint: select it as text in the statement (CAST(gold AS CHAR)): --reduce's sum(), total() and avg() add such text exactly"
	run --separate-stderr wq --reduce "SELECT * FROM rows" "SELECT big FROM purse"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" '^world-query: error: --reduce: column "big" holds 18446744073709551615 \(world "world1"\)'
	# A reduce that does not read it runs.
	run --separate-stderr wq --format csv --reduce "SELECT count(*) AS n FROM rows" "SELECT gold FROM purse"
	assert_success
	assert_equal "$output" "n
6"
	run --separate-stderr wq --format json --reduce "SELECT sum(gold) AS s, avg(gold) AS a FROM rows" "SELECT CAST(gold AS CHAR) AS gold FROM purse"
	assert_success
	read -r sum avg < <(server "SELECT SUM(g), AVG(g) FROM (SELECT gold AS g FROM game.purse UNION ALL SELECT gold FROM game.purse) x")
	assert_equal "$output" "[
{\"s\":\"$sum\",\"a\":\"$avg\"}
]"
}

@test "world-query: GEOMETRY is the server's bytes in hex (SRID, then WKB), as its HEX() says" {
	run --separate-stderr wq -w world1 --format json "SELECT id, p FROM geo ORDER BY id"
	assert_success
	hex1=$(server "SELECT LOWER(HEX(p)) FROM game.geo WHERE id = 1")
	hex2=$(server "SELECT LOWER(HEX(p)) FROM game.geo WHERE id = 2")
	assert_equal "$output" "[
{\"world\":\"world1\",\"id\":1,\"p\":\"0x$hex1\"},
{\"world\":\"world1\",\"id\":2,\"p\":\"0x$hex2\"},
{\"world\":\"world1\",\"id\":3,\"p\":null}
]"
	# The SRID (4326, little-endian) leads; the WKB is ST_AsBinary's.
	assert_equal "${hex2:0:8}" "e6100000"
	assert_equal "${hex2:8}" "$(server "SELECT LOWER(HEX(ST_AsBinary(p))) FROM game.geo WHERE id = 2")"
	run wq -w world1 "SELECT p FROM geo WHERE id = 1"
	assert_line --index 3 "| world1 | 0x$hex1 |"
}

@test "world-query: a result column named world is renamed world_1, with a warning" {
	run --separate-stderr wq --format json "SELECT name AS world, id AS World_1 FROM purse WHERE id = 1"
	assert_success
	assert_equal "$output" '[
{"world":"world1","world_2":"ann","World_1":1},
{"world":"world2","world_2":"ann","World_1":1}
]'
	assert_equal "$stderr" 'world-query: warning: the result'"'"'s column "world" is shown as "world_2": the first column is the world'
	run --separate-stderr wq --format csv --reduce "SELECT world, world_2 FROM rows ORDER BY world" "SELECT name AS world, id AS World_1 FROM purse WHERE id = 1"
	assert_success
	assert_equal "$output" "world,world_2
world1,ann
world2,ann"
}

@test "world-query: every result set of a CALL is printed, each its own table, as the client prints them" {
	run --separate-stderr wq -w world1 --format tsv "CALL two()"
	assert_success
	assert_equal "$stderr" ""
	# The client's answer, a world column added, a blank line between.
	expected=$(mariadb_admin world1 -B game -e "CALL two()" | awk 'NR == 1 || $1 == "id" || $1 == "n" { if (NR > 1) print ""; print "world\t" $0; next } { print "world1\t" $0 }')
	assert_equal "$output" "$expected"
	run --separate-stderr wq --format json "CALL two()"
	assert_success
	run jq -c -s 'map(length)' <<<"$output"
	assert_output "[6,2]"
	run --separate-stderr wq --reduce "SELECT * FROM rows" "CALL two()"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: --reduce: the statement returned 2 result sets, and --reduce reads one: nothing printed (the statement ran)"
}

# cells FILE COLUMN: for each data row of a boxed table, the text of cell
# COLUMN (from 0), a tab, and the spaces that pad it.
cells() {
	python3 -c '
import sys
rows = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.startswith("|")]
for l in rows[1:]:
    cell = l.split("|")[1:-1][int(sys.argv[2])]
    print(cell.strip(" ") + "\t" + str(len(cell) - len(cell.rstrip(" ")) - 1))
' "$1" "$2"
}

# bars FILE: for each line of a boxed table, the terminal columns at which
# its "|" stand, measured with Python's own Unicode data (East Asian width
# W or F: 2; combining marks and format characters: 0; else 1).
bars() {
	python3 -c '
import sys, unicodedata
def width(c):
    if unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("|"):
        at, cols = 0, []
        for c in line.rstrip("\n"):
            if c == "|":
                cols.append(at)
            at += width(c)
        print(cols)
' "$1"
}

@test "world-query: the table measures terminal columns: CJK as the mariadb client does, emoji and combining marks aligned too" {
	run --separate-stderr wq -w world1 "SELECT id, name FROM names ORDER BY id"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/wq"
	# Every line's bars stand at the same terminal columns.
	run bars "$BATS_TEST_TMPDIR/wq"
	assert_equal "${#lines[@]}" 7
	assert_equal "$(sort -u <<<"$output" | wc -l)" 1
	# The oracle: the real client's table of the same rows. Each of its
	# cells is padded to the column by the width the client measures, so
	# two rows' widths differ as their paddings do, in both tables. The
	# client measures CJK, fullwidth and halfwidth forms as terminals do,
	# but counts an emoji, a combining mark or a joiner 1: rows 1 and 3
	# are left out of this comparison (the bars above cover them).
	mariadb_admin world1 -t game -e "SELECT id, name FROM names ORDER BY id" >"$BATS_TEST_TMPDIR/client"
	ascii_client=$(cells "$BATS_TEST_TMPDIR/client" 1 | sed -n '6s/.*\t//p')
	ascii_wq=$(cells "$BATS_TEST_TMPDIR/wq" 2 | sed -n '6s/.*\t//p')
	for row in 2 4 5; do
		pad_client=$(cells "$BATS_TEST_TMPDIR/client" 1 | sed -n "${row}s/.*\t//p")
		pad_wq=$(cells "$BATS_TEST_TMPDIR/wq" 2 | sed -n "${row}s/.*\t//p")
		assert_equal "$((pad_client - ascii_client))" "$((pad_wq - ascii_wq))"
	done
	assert_equal "$(cells "$BATS_TEST_TMPDIR/wq" 2 | cut -f1 | sed -n 2p)" "山田太郎"
}

@test "world-query: a CALL's later result set keeps --timeout: cancelled on the server, not awaited" {
	SECONDS=0
	run --separate-stderr wq -w world1 --timeout 2 "CALL slow2()"
	assert_failure 1
	[ "$SECONDS" -le 8 ] || fail "took $SECONDS s"
	assert_equal "${stderr_lines[0]}" 'world-query: error: world "world1": no answer within 2 s: cancelled on the server (KILL QUERY); what it sent after the cancel is dropped (read only: nothing was changed)'
	# The server says: nothing of it still runs.
	run mariadb_admin world1 -N -B -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(30)%'"
	assert_output 0
}
