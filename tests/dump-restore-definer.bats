#!/usr/bin/env bats
# dump-restore and objects defined by a production account (QA LOW 7): a
# view, procedure, function, trigger and event whose DEFINER is `prod`@`%`
# on the source server, dumped by the real mariadb-dump. The oracle is the
# real client, as `analyst` through worlds.cnf: with --definer rewrite (the
# default) every object works; with --definer keep they fail as on a fresh
# server loaded with `zcat | mariadb`.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	start_mariadb src
	start_mariadb oracle
	mariadb_admin src -e "
		CREATE USER prod@'%' IDENTIFIED BY 'x';
		CREATE DATABASE game;
		GRANT ALL ON game.* TO prod@'%';
		USE game;
		CREATE TABLE gold (id INT PRIMARY KEY, amount INT);
		CREATE TABLE audit (id INT, note VARCHAR(20));
		INSERT INTO gold VALUES (1, 10), (2, 20);
		CREATE DEFINER=prod@'%' SQL SECURITY DEFINER VIEW rich AS
			SELECT id FROM gold WHERE amount > 15;
		CREATE DEFINER=prod@'%' PROCEDURE total() SELECT SUM(amount) FROM gold;
		CREATE DEFINER=prod@'%' FUNCTION twice(x INT) RETURNS INT RETURN 2 * x;
		CREATE DEFINER=prod@'%' TRIGGER noted AFTER INSERT ON gold
			FOR EACH ROW INSERT INTO audit VALUES (NEW.id, 'new');
		CREATE DEFINER=prod@'%' EVENT tick ON SCHEDULE EVERY 1 DAY
			DISABLE DO DELETE FROM audit;"
	export D=$DBOPS_SERVER_ROOT/dumps
	mkdir -p "$D"
	mariadb-dump --no-defaults --default-character-set=utf8mb4 \
		-S "$(server_info src socket)" -u "$(server_info src admin_user)" \
		--routines --triggers --events --databases game |
		gzip >"$D/prod-2024-03-01.sql.gz"
}

teardown_file() {
	load lib/helpers
	for root in "$DBOPS_SERVER_ROOT"/definer-root*; do
		[ -d "$root" ] && dump-restore down --root "$root" 2>/dev/null
	done
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	R=$DBOPS_SERVER_ROOT/definer-root$BATS_TEST_NUMBER
}

# as_analyst SQL: the real client, as the README says, in the world prod.
as_analyst() {
	mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_prod -N -B -e "$1"
}

@test "dump-restore: the dump holds DEFINER=\`prod\`@\`%\` for each kind of object" {
	run -0 bash -c "zcat '$D/prod-2024-03-01.sql.gz' | grep -c 'DEFINER=\`prod\`@\`%\`'"
	# the view, the procedure, the function, the trigger, the event
	assert_output 5
}

@test "dump-restore: --definer rewrite (the default): analyst uses the view, CALLs, the function, the trigger fires" {
	run --separate-stderr dump-restore up --root "$R" --progress never "$D/prod-2024-03-01.sql.gz"
	assert_success
	assert_equal "$stderr" ""
	run as_analyst 'SELECT id FROM rich'
	assert_success
	assert_output 2
	run as_analyst 'CALL total()'
	assert_success
	assert_output 30
	run as_analyst 'SELECT twice(21)'
	assert_output 42
	run as_analyst 'INSERT INTO gold VALUES (3, 5); SELECT id, note FROM audit'
	assert_success
	assert_output "3	new"
	# Defined by the loading account, which exists in the world.
	run as_analyst "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA='game' AND DEFINER LIKE 'prod@%'"
	assert_output 0
	run dump-restore down --root "$R"
	assert_success
}

@test "dump-restore: --definer keep: the objects keep prod, and fail for analyst as with zcat | mariadb" {
	zcat "$D/prod-2024-03-01.sql.gz" | mariadb_admin oracle
	mariadb_admin oracle -e "CREATE USER analyst@localhost; GRANT ALL ON game.* TO analyst@localhost"
	run --separate-stderr mariadb --no-defaults -S "$(server_info oracle socket)" -u analyst -D game -N -B -e 'CALL total()'
	assert_failure
	oracle_err=$stderr
	run --separate-stderr dump-restore up --root "$R" --progress never --definer keep "$D/prod-2024-03-01.sql.gz"
	assert_success
	run --separate-stderr as_analyst 'CALL total()'
	assert_failure
	assert_equal "$stderr" "$oracle_err"
	assert_equal "${stderr_lines[-1]}" "ERROR 1449 (HY000) at line 1: The user specified as a definer ('prod'@'%') does not exist"
	run as_analyst "SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_NAME='rich'"
	assert_output "prod@%"
	run --separate-stderr dump-restore up --root "$R" --definer sometimes "$D/prod-2024-03-01.sql.gz"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: invalid value "sometimes" for --definer: use rewrite or keep'
	run dump-restore down --root "$R"
	assert_success
}
