#!/bin/bash
# tests/data/gen-worlds.sh - sample game-world dumps for dump-restore, made by
# the real tools: a scratch MariaDB server, mariadb-dump and gzip.
#
# Usage: tests/data/gen-worlds.sh [--worlds N] [--rows N] [--build DIR] OUTDIR
#
#   --worlds N   worlds world1..worldN (default 3)
#   --rows N     players per world (default 200); each world also gets 4*N
#                scores and N matches, so about 6*N rows in all
#   --build DIR  the build directory holding tests/instance-driver
#                (default: build/ at the top of the tree)
#
# One scratch MariaDB server is started through the instance driver, in a
# directory under a mktemp -d /tmp/dbops-gen.XXXXXX, and always stopped and
# removed on exit. For each world the database `game` is dropped and made
# again: tables players, scores and matches (with foreign keys), a BEFORE
# INSERT trigger and a procedure whose bodies hold ";", a view top_scores and
# a disabled event. The data is generated in the server (INSERT ... SELECT
# from the Sequence engine's seq_1_to_N tables) from CRC32/MD5 of the world
# number and the row number: the same on every run, different per world. It
# holds what a dump splitter gets wrong: names with ' " \ ; and emoji, a
# string that looks like "/* comment */", BLOBs with 0x00, 0x27, 0x5c, 0x1a
# and newlines, NULLs, TEXT with newlines and lines starting with "-- ".
#
# Each world is dumped twice with
#   mariadb-dump --databases game --routines --triggers --events
#                --single-transaction | gzip
# (mariadb-dump's defaults kept: extended INSERTs, the "-- Dump completed"
# trailer), once as the world is at 2024-03-01 02:00:00 UTC, then after a
# "bad game update" (points of one level times 10; player N of worldN and
# about 2% of the others deleted, their scores with them, their matches left
# without a winner) as it is
# at 2024-03-01 14:00:00 UTC. The file names use a different timestamp form
# per world, in turn (world number modulo 5):
#
#   world1-2024-03-01T02:00:00Z.sql.gz       world1-2024-03-01T14:00:00Z.sql.gz
#   world2_20240301_020000.sql.gz            world2_20240301_140000.sql.gz
#   world3.2024-03-01_02-00-00.sql.gz        world3.2024-03-01_14-00-00.sql.gz
#   world4-20240301T020000Z.sql.gz           world4-20240301T140000Z.sql.gz
#   world5-2024-03-01T03:00:00+01:00.sql.gz  world5-2024-03-01T15:00:00+01:00.sql.gz
#
# Names without a zone (world2, world3, ...) are read in the time zone TZ
# names: they mean 02:00 and 14:00 UTC only with TZ=UTC, which the tests set.
#
# Next to each dump, OUTDIR/expected-<world>-<time>.txt, <time> being
# 2024-03-01T02:00:00Z or 2024-03-01T14:00:00Z whatever the dump's own form,
# holds one line per table of `game`, in name order:
#
#   <table> <rows> <CHECKSUM TABLE value>
#
# what a correct restore of that dump shows. On stdout, once all is written,
# one line per dump, "<world> <time> <file name>" (<time> as above), for
# scripts; a summary goes to stderr. Exit status 0 on success, 1 on any
# failure (with one line saying what failed); a failed run moves no dump or
# expected file into OUTDIR.
#
# Sizes: about 420 bytes of SQL per --rows, a third of it after gzip
# (--rows 800000: 340 MB of SQL, 110 MB gzipped per dump, made in about a
# minute per world on 2 cores; --rows 200: 28 kB, under a second).
set -euo pipefail

prog=gen-worlds
die() {
	echo "$prog: error: $*" >&2
	exit 1
}
usage() {
	echo "usage: tests/data/gen-worlds.sh [--worlds N] [--rows N] [--build DIR] OUTDIR" >&2
	exit 1
}

worlds=3
rows=200
build=$(dirname "$0")/../../build
outdir=

number() {
	case $2 in
	'' | *[!0-9]* | 0*) die "$1 needs a positive whole number, not \"$2\"" ;;
	esac
}

while [ $# -gt 0 ]; do
	case $1 in
	--worlds | --rows | --build)
		[ $# -ge 2 ] || die "option $1 needs a value"
		case $1 in
		--worlds) number "$1" "$2" && worlds=$2 ;;
		--rows) number "$1" "$2" && rows=$2 ;;
		--build) build=$2 ;;
		esac
		shift 2
		;;
	--worlds=*) number --worlds "${1#*=}" && worlds=${1#*=} && shift ;;
	--rows=*) number --rows "${1#*=}" && rows=${1#*=} && shift ;;
	--build=*) build=${1#*=} && shift ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	-*) echo "$prog: error: unknown option \"$1\"" >&2 && usage ;;
	*)
		[ -z "$outdir" ] || usage
		outdir=$1
		shift
		;;
	esac
done
[ -n "$outdir" ] || usage

driver=$build/tests/instance-driver
[ -x "$driver" ] || die "the instance driver \"$driver\" is missing (make tests, or --build DIR)"
for p in mariadb mariadb-dump gzip; do
	command -v "$p" >/dev/null || die "\"$p\" is not installed"
done
mkdir -p "$outdir" || die "could not create \"$outdir\""

dir=
gzips=()
cleanup() {
	local job
	# On failure, gzip jobs may still run: stop them, drop their output.
	for job in "${gzips[@]}"; do
		kill "${job%%:*}" 2>/dev/null || true
		wait "${job%%:*}" 2>/dev/null || true
		rm -f "$outdir/.${job#*:}.tmp"
	done
	[ -n "$dir" ] || return 0
	if [ -e "$dir/server/instance.state" ]; then
		"$driver" stop "$dir/server" >&2 ||
			echo "$prog: warning: could not stop the server in $dir/server" >&2
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# Searchable by the mysql user, who runs the server when we are root.
dir=$(mktemp -d /tmp/dbops-gen.XXXXXX) || die "could not create a directory in /tmp"
chmod 755 "$dir"
# A throwaway server: no durability, room for the largest world in memory.
"$driver" start mariadb "$dir/server" \
	--set innodb_buffer_pool_size=2G --set innodb_log_file_size=1G \
	--set innodb_flush_log_at_trx_commit=0 --set innodb_doublewrite=0 \
	>"$dir/server.info" || die "could not start MariaDB in $dir/server"
socket=$(sed -n 's/^socket=//p' "$dir/server.info")
admin=$(sed -n 's/^admin_user=//p' "$dir/server.info")
{ [ -n "$socket" ] && [ -n "$admin" ]; } || die "the instance driver printed no socket or admin user"

sql() {
	mariadb --no-defaults -S "$socket" -u "$admin" \
		--default-character-set=utf8mb4 -N -B "$@"
}

# The schema and the data of world @w, rows from the token @ROWS@.
schema_and_data() {
	cat <<-'EOF'
		DROP DATABASE IF EXISTS game;
		CREATE DATABASE game CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		USE game;
		SET SESSION unique_checks = 0, foreign_key_checks = 0;
		CREATE TABLE players (
		  id INT UNSIGNED NOT NULL PRIMARY KEY,
		  name VARCHAR(100) NOT NULL,
		  joined DATETIME NOT NULL,
		  avatar BLOB NULL,
		  KEY players_name (name)
		) ENGINE=InnoDB;
		CREATE TABLE scores (
		  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		  player_id INT UNSIGNED NOT NULL,
		  world_level SMALLINT UNSIGNED NOT NULL,
		  points INT NOT NULL,
		  achieved_at DATETIME NOT NULL,
		  KEY scores_player (player_id),
		  CONSTRAINT scores_player_fk FOREIGN KEY (player_id)
		    REFERENCES players (id) ON DELETE CASCADE
		) ENGINE=InnoDB;
		CREATE TABLE matches (
		  id INT UNSIGNED NOT NULL PRIMARY KEY,
		  started_at DATETIME NOT NULL,
		  duration_s INT UNSIGNED NOT NULL,
		  winner_id INT UNSIGNED NULL,
		  log TEXT NOT NULL,
		  KEY matches_winner (winner_id),
		  CONSTRAINT matches_winner_fk FOREIGN KEY (winner_id)
		    REFERENCES players (id) ON DELETE SET NULL
		) ENGINE=InnoDB;

		INSERT INTO players (id, name, joined, avatar)
		SELECT seq,
		  CONCAT(ELT(1 + (seq + @w) % 12,
		      'Alice', 'O''Brien', 'The "Ace"', 'back\\slash',
		      'semi;colon; DROP TABLE players; --',
		      CONCAT(CONVERT(0xF09F9089 USING utf8mb4), ' dragon'),
		      CONVERT(0x5A6FC3AB USING utf8mb4),
		      'it''s a \\"mix\\";', '/* not a comment */',
		      CONCAT('gamer', CONVERT(0xF09F8EAE USING utf8mb4)),
		      'tab\there', 'plain'),
		    ' #', CRC32(CONCAT(@w, ':n:', seq)) % 100000),
		  TIMESTAMP'2020-01-01 00:00:00'
		    + INTERVAL CRC32(CONCAT(@w, ':j:', seq)) % 126144000 SECOND,
		  CASE
		    WHEN seq % 11 = 0 THEN NULL
		    WHEN seq % 7 = 0 THEN CONCAT(0x00275C223B0A0D1A,
		      UNHEX(MD5(CONCAT(@w, ':a:', seq))))
		    ELSE UNHEX(CONCAT(MD5(CONCAT(@w, ':a:', seq)),
		      MD5(CONCAT(@w, ':b:', seq))))
		  END
		FROM seq_1_to_@ROWS@;

		INSERT INTO scores (id, player_id, world_level, points, achieved_at)
		SELECT seq,
		  1 + CRC32(CONCAT(@w, ':s:', seq)) % @ROWS@,
		  1 + CRC32(CONCAT(@w, ':l:', seq)) % 50,
		  CRC32(CONCAT(@w, ':p:', seq)) % 100000,
		  TIMESTAMP'2023-01-01 00:00:00'
		    + INTERVAL CRC32(CONCAT(@w, ':t:', seq)) % 36000000 SECOND
		FROM seq_1_to_@SCORES@;

		INSERT INTO matches (id, started_at, duration_s, winner_id, log)
		SELECT seq,
		  TIMESTAMP'2024-01-01 00:00:00'
		    + INTERVAL CRC32(CONCAT(@w, ':m:', seq)) % 5000000 SECOND,
		  60 + CRC32(CONCAT(@w, ':d:', seq)) % 3600,
		  IF(seq % 13 = 0, NULL, 1 + CRC32(CONCAT(@w, ':x:', seq)) % @ROWS@),
		  CONCAT('match ', seq, ' in world ', @w, ';\n',
		    'round 1: ', CRC32(CONCAT(@w, ':r1:', seq)) % 1000, ' points\n',
		    'round 2: ', CRC32(CONCAT(@w, ':r2:', seq)) % 1000, ' points\n',
		    '-- end of log; it''s "over"\n')
		FROM seq_1_to_@ROWS@;

		SET SESSION unique_checks = 1, foreign_key_checks = 1;
		DELIMITER ;;
		CREATE TRIGGER scores_level_floor BEFORE INSERT ON scores FOR EACH ROW
		BEGIN
		  IF NEW.world_level < 1 THEN SET NEW.world_level = 1; END IF;
		  IF NEW.points < 0 THEN SET NEW.points = 0; END IF;
		END;;
		CREATE PROCEDURE award_bonus(IN p_level INT, IN p_bonus INT)
		BEGIN
		  DECLARE n INT DEFAULT 0;
		  UPDATE scores SET points = points + p_bonus WHERE world_level = p_level;
		  SET n = ROW_COUNT();
		  SELECT CONCAT('bonus; ', n, ' rows; done') AS result;
		END;;
		CREATE EVENT purge_old_matches
		  ON SCHEDULE EVERY 1 DAY STARTS '2024-01-01 00:00:00'
		  ON COMPLETION PRESERVE DISABLE
		  DO BEGIN
		    DELETE FROM matches WHERE started_at < '2020-01-01';
		  END;;
		DELIMITER ;
		CREATE VIEW top_scores AS
		  SELECT p.id AS player_id, p.name, MAX(s.points) AS best,
		    COUNT(*) AS games
		  FROM players p JOIN scores s ON s.player_id = p.id
		  GROUP BY p.id, p.name
		  ORDER BY best DESC
		  LIMIT 10;
	EOF
}

# The update that went wrong between the two dumps.
bad_update() {
	cat <<-'EOF'
		USE game;
		UPDATE scores SET points = points * 10 WHERE world_level = 1 + @w % 50;
		DELETE FROM players WHERE CRC32(CONCAT(@w, ':bad:', id)) % 50 = 0 OR id = @w;
	EOF
}

# dump_name WORLD_NUMBER WHICH (1: 02:00 UTC, 2: 14:00 UTC)
dump_name() {
	local w=$1 h=02 h1=03
	[ "$2" = 1 ] || h=14 h1=15
	case $(((w - 1) % 5)) in
	0) echo "world$w-2024-03-01T$h:00:00Z.sql.gz" ;;
	1) echo "world${w}_20240301_${h}0000.sql.gz" ;;
	2) echo "world$w.2024-03-01_$h-00-00.sql.gz" ;;
	3) echo "world$w-20240301T${h}0000Z.sql.gz" ;;
	4) echo "world$w-2024-03-01T$h1:00:00+01:00.sql.gz" ;;
	esac
}

# dump WORLD_NUMBER WHICH: the dump file and its expected-*.txt.
dump() {
	local w=$1 name time t n sum
	name=$(dump_name "$w" "$2")
	time=2024-03-01T02:00:00Z
	[ "$2" = 1 ] || time=2024-03-01T14:00:00Z
	mariadb-dump --no-defaults -S "$socket" -u "$admin" --databases game \
		--routines --triggers --events --single-transaction \
		>"$dir/$name.sql" || die "could not dump world$w"
	# gzip, the slowest step, runs on the other core while the server
	# makes the next world.
	gzip -c "$dir/$name.sql" >"$outdir/.$name.tmp" &
	gzips+=("$!:$name")
	manifest+=("world$w $time $name")
	: >"$dir/expected"
	while IFS= read -r t; do
		n=$(sql -e "SELECT COUNT(*) FROM game.\`$t\`") ||
			die "could not count the rows of game.$t in world$w"
		sum=$(sql -e "CHECKSUM TABLE game.\`$t\`" | cut -f2) ||
			die "could not checksum game.$t in world$w"
		echo "$t $n $sum" >>"$dir/expected"
	done < <(sql -e "SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'game' AND table_type = 'BASE TABLE'
		ORDER BY table_name")
	[ -s "$dir/expected" ] || die "world$w has no tables to describe"
	mv "$dir/expected" "$dir/expected-world$w-$time.txt"
	printf '%s: %s: %s bytes of SQL; rows: %s\n' "$prog" "$name" \
		"$(wc -c <"$dir/$name.sql")" "$(awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }' \
			"$dir/expected-world$w-$time.txt")" >&2
}

manifest=()
start=$(date +%s)
for w in $(seq 1 "$worlds"); do
	{
		echo "SET @w = $w;"
		schema_and_data | sed -e "s/@ROWS@/$rows/g" -e "s/@SCORES@/$((rows * 4))/g"
	} | sql || die "could not generate world$w"
	dump "$w" 1
	{
		echo "SET @w = $w;"
		bad_update
	} | sql || die "could not apply the bad update to world$w"
	dump "$w" 2
done
for job in "${gzips[@]}"; do
	name=${job#*:}
	wait "${job%%:*}" || die "could not compress \"$outdir/$name\""
	mv "$outdir/.$name.tmp" "$outdir/$name" ||
		die "could not write \"$outdir/$name\""
done
gzips=()
# Last, so that a failed run leaves no expected file without its dump.
for f in "$dir"/expected-*.txt; do
	mv "$f" "$outdir/" || die "could not write \"$outdir/${f##*/}\""
done
printf '%s\n' "${manifest[@]}"
echo "$prog: $worlds worlds of $rows players in $outdir in $(($(date +%s) - start)) s" >&2
