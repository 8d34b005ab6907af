#!/usr/bin/env bats
# monitoring/: the alert rules (promtool check and the unit tests of every
# alert), the metrics each tool writes (promtool check metrics), and the
# whole chain for real: a Prometheus on loopback scrapes a running
# `snap-import sync`, a running event-store (on a scratch Redis) and
# node_exporter's textfile collector fed by the tools' --metrics-file; every panel of the Grafana dashboard and every
# alert expression is run through its HTTP API and must return data; an
# alert fires after a failed import, another when event-store's Redis stops.

bats_require_minimum_version 1.5.0
load lib/pitr

MON=$BATS_TEST_DIRNAME/../monitoring

# until_ok SECONDS CMD...: CMD until it succeeds, at most SECONDS.
until_ok() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.5
	done
}

# promql EXPR: the number of series EXPR returns now.
promql() {
	curl -sf --get "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
		jq -e -r 'select(.status == "success") | .data.result | length'
}

has_data() { [ "$(promql "$1")" -gt 0 ]; }

setup_file() {
	load lib/helpers
	start_postgres
	pitr_generate
	local m=$DBOPS_SERVER_ROOT/mon
	mkdir -p "$m/textfile" "$m/sync" "$m/incoming" "$m/prom" "$m/dumps"
	# Two game worlds' dumps, made by mariadb-dump from a scratch server.
	"$DBOPS_TOP/tests/data/gen-worlds.sh" --worlds 2 --rows 20 --build "$DBOPS_BUILD" "$m/dumps" \
		>"$m/gen-worlds.log" 2>&1 || { cat "$m/gen-worlds.log" >&2; return 1; }
	# snap-import sync, as the unit runs it, serving /metrics.
	SYNC_PORT=$(free_port)
	snap-import sync -D "$m/sync" -t mon_snap --listen "127.0.0.1:$SYNC_PORT" \
		>"$m/sync.log" 2>&1 &
	echo $! >"$m/sync.pid"
	# event-store on the test's PostgreSQL (PG* exported) and Redis
	# (REDIS_URL exported).
	start_redis
	ES_PORT=$(free_port)
	event-store --listen "127.0.0.1:$ES_PORT" --schema mon_es >"$m/es.log" 2>&1 &
	echo $! >"$m/es.pid"
	# node_exporter with the textfile collector only.
	NODE_PORT=$(free_port)
	prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$m/textfile" >"$m/node.log" 2>&1 &
	echo $! >"$m/node.pid"
	# The rules as installed, their `for:` cut to seconds for the test.
	sed -E 's/^( *for: ).*/\11s/' "$MON/dbops-alerts.yml" >"$m/rules.yml"
	PROM_PORT=$(free_port)
	cat >"$m/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $m/rules.yml
scrape_configs:
  - job_name: dbops-snap-import
    static_configs:
      - targets: ['127.0.0.1:$SYNC_PORT']
  - job_name: dbops-event-store
    static_configs:
      - targets: ['127.0.0.1:$ES_PORT']
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NODE_PORT']
EOF
	prometheus --config.file="$m/prometheus.yml" --storage.tsdb.path="$m/prom" \
		--web.listen-address="127.0.0.1:$PROM_PORT" >"$m/prom.log" 2>&1 &
	echo $! >"$m/prom.pid"
	export SYNC_PORT NODE_PORT PROM_PORT ES_PORT
}

teardown_file() {
	load lib/helpers
	local p
	[ -d "$DBOPS_SERVER_ROOT/mon/worlds" ] && dump-restore down --root "$DBOPS_SERVER_ROOT/mon/worlds" >/dev/null 2>&1
	for p in sync es node prom; do
		[ -f "$DBOPS_SERVER_ROOT/mon/$p.pid" ] && kill "$(cat "$DBOPS_SERVER_ROOT/mon/$p.pid")" 2>/dev/null
	done
	sleep 0.5
	stop_servers
}

setup() {
	load lib/helpers
	M=$DBOPS_SERVER_ROOT/mon
	G=$PITR
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/t$BATS_TEST_NUMBER.XXXXXX")
}

@test "monitoring: the alert rules pass promtool check rules, and every alert's unit tests pass" {
	run promtool check rules "$MON/dbops-alerts.yml"
	assert_success
	assert_output --partial "SUCCESS: 15 rules found"
	# Each alert has its tests: fires when it should, quiet on a blip.
	local alert
	for alert in $(sed -nE 's/^ *- alert: (.*)/\1/p' "$MON/dbops-alerts.yml"); do
		grep -q "alertname: $alert\$" "$MON/tests/dbops-alerts.test.yml" || fail "no unit test for $alert"
	done
	cd "$MON/tests"
	run promtool test rules dbops-alerts.test.yml
	assert_success
	assert_output --partial SUCCESS
}

@test "monitoring: every alert has severity, summary, description and a runbook_url whose section exists in RUNBOOK.md" {
	local alert anchor
	run jq -r '.groups[].rules[] | [.alert, .labels.severity, (.annotations.summary | length > 0), (.annotations.description | length > 0), .annotations.runbook_url] | @tsv' \
		< <(/usr/bin/python3 -c 'import sys, yaml, json; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' <"$MON/dbops-alerts.yml")
	assert_success
	while IFS=$'\t' read -r alert severity summary description url; do
		[[ $severity == critical || $severity == warning || $severity == info ]] || fail "$alert: severity $severity"
		[ "$summary" = true ] && [ "$description" = true ] || fail "$alert: no summary or description"
		anchor=${url##*#}
		[ "$anchor" = "$(tr '[:upper:]' '[:lower:]' <<<"$alert")" ] || fail "$alert: runbook_url $url"
		grep -qx "## $alert" "$MON/RUNBOOK.md" || fail "$alert: no section in RUNBOOK.md"
	done <<<"$output"
}

@test "monitoring: the dashboard has a datasource variable, no __inputs, and every panel a query" {
	run jq -r '.templating.list[] | select(.type == "datasource") | .query' "$MON/grafana/dbops.json"
	assert_output prometheus
	run jq 'has("__inputs")' "$MON/grafana/dbops.json"
	assert_output false
	run jq -r '[.panels[] | select(.type != "row") | select((.targets | length) == 0 or .datasource.uid != "${datasource}")] | length' "$MON/grafana/dbops.json"
	assert_output 0
}

@test "monitoring: the tools' metrics files pass promtool check metrics" {
	pitr-replay verify -q -b "$G/base-plain" -a "$G/archive" --metrics-file "$W/pitr-verify.prom"
	run promtool check metrics <"$W/pitr-verify.prom"
	assert_success
	printf 'id,name\n1,a\n' >"$W/s.csv"
	snap-import -t mon_batch --metrics-file "$W/snap.prom" "$W/s.csv"
	run promtool check metrics <"$W/snap.prom"
	assert_success
	run curl -sf "http://127.0.0.1:$SYNC_PORT/metrics"
	assert_success
	run promtool check metrics <<<"$output"
	assert_success
	run curl -sf "http://127.0.0.1:$ES_PORT/metrics"
	assert_success
	run promtool check metrics <<<"$output"
	assert_success
	# The worlds: dump-restore up, then world-query on them.
	dump-restore up -q --root "$M/worlds" --at 2024-03-01T12:00:00Z --metrics-file "$W/dr.prom" "$M/dumps"
	run promtool check metrics <"$W/dr.prom"
	assert_success
	run grep -v '^#' "$W/dr.prom"
	assert_line 'dbops_dump_restore_world_up{world="world1"} 1'
	assert_line 'dbops_dump_restore_world_info{world="world2",state="running"} 1'
	assert_line --regexp '^dbops_dump_restore_world_rows\{world="world1"\} [1-9][0-9]*$'
	assert_line --regexp '^dbops_dump_restore_world_loaded_bytes\{world="world1"\} [1-9][0-9]*$'
	assert_line --regexp '^dbops_dump_restore_world_load_seconds\{world="world2"\} [0-9.]+$'
	assert_line "dbops_dump_restore_world_dump_timestamp_seconds{world=\"world1\"} $(date -u -d 2024-03-01T02:00:00Z +%s)"
	run --separate-stderr world-query --root "$M/worlds" --metrics-file "$W/wq.prom" 'SELECT COUNT(*) FROM players'
	assert_success
	run promtool check metrics <"$W/wq.prom"
	assert_success
	run grep -v '^#' "$W/wq.prom"
	assert_line 'dbops_world_query_world_success{world="world1"} 1'
	assert_line 'dbops_world_query_world_success{world="world2"} 1'
	assert_line --regexp '^dbops_world_query_world_seconds\{world="world2"\} [0-9.e-]+$'
	assert_line --regexp '^dbops_world_query_last_run_timestamp_seconds [0-9.]+$'
	# A world that fails is 0, and the run still writes the file.
	run --separate-stderr world-query --root "$M/worlds" --metrics-file "$W/wq.prom" 'SELECT * FROM no_such_table'
	assert_failure 1
	run grep -v '^#' "$W/wq.prom"
	assert_line 'dbops_world_query_world_success{world="world1"} 0'
}

@test "monitoring: Prometheus scrapes sync, event-store and the textfile collector; every panel and alert expression returns data; a failed import and a stopped Redis fire their alerts" {
	# The batch tools feed the textfile collector.
	pitr-replay verify -q -b "$G/base-plain" -a "$G/archive" --metrics-file "$M/textfile/pitr-verify.prom"
	dump-restore up -q --root "$M/worlds" --at 2024-03-01T12:00:00Z --metrics-file "$M/textfile/dump-restore.prom" "$M/dumps"
	world-query -q --root "$M/worlds" --format tsv --metrics-file "$M/textfile/world-query.prom" 'SELECT 1' >/dev/null
	# sync imports one good file and fails on a bad one (moved in whole).
	printf 'id,name\n1,a\n2,b\n' >"$M/incoming/good.csv"
	mv "$M/incoming/good.csv" "$M/sync/"
	until_ok 60 has_data 'dbops_snap_import_files_total{result="imported"} > 0' ||
		fail "sync's import not seen: $(cat "$M/sync.log" "$M/prom.log" | tail -20)"
	printf 'id,name\nnot a number,c\n' >"$M/incoming/bad.csv"
	mv "$M/incoming/bad.csv" "$M/sync/"
	until_ok 60 has_data 'dbops_snap_import_files_total{result="failed"} > 0' ||
		fail "sync's failure not seen: $(tail -20 "$M/sync.log")"
	until_ok 30 has_data 'dbops_pitr_replay_success' || fail "textfile not scraped: $(tail "$M/node.log")"
	# event-store: events, follow-ups, a bad one, both dashboards.
	local u i
	for i in 1 2 3 4 5 6; do
		u=$(cat /proc/sys/kernel/random/uuid)
		curl -sf -H 'Content-Type: application/json' -d "{\"uuid\":\"$u\",\"symbol\":\"e\"}" \
			"http://127.0.0.1:$ES_PORT/initial" >/dev/null || fail "POST /initial: $(tail "$M/es.log")"
		curl -sf -d "uuid=$u" "http://127.0.0.1:$ES_PORT/followup" >/dev/null || fail "POST /followup"
	done
	curl -s -d 'uuid=x' "http://127.0.0.1:$ES_PORT/initial" >/dev/null
	curl -sf "http://127.0.0.1:$ES_PORT/dashboard/symbol/e" >/dev/null || fail "symbol dashboard"
	curl -sf "http://127.0.0.1:$ES_PORT/dashboard/range/2000-01-01/2100-01-01" >/dev/null || fail "range dashboard"
	# Every panel of the dashboard returns data.
	local expr missing=()
	while IFS= read -r expr; do
		until_ok 20 has_data "$expr" || missing+=("$expr")
	done < <(jq -r '.panels[] | select(.type != "row") | .targets[].expr' "$MON/grafana/dbops.json")
	[ "${#missing[@]}" -eq 0 ] || fail "panels without data: ${missing[*]}"
	# Every alert's expression, its threshold left out, has series to
	# compare: a rule over a misspelt metric would never fire.
	while IFS= read -r expr; do
		until_ok 20 has_data "$expr" || missing+=("$expr")
	done < <(sed -nE 's/^ *expr: (.*[^ ]) *(==|>|<) *[0-9.* ]+$/\1/p' "$MON/dbops-alerts.yml")
	[ "${#missing[@]}" -eq 0 ] || fail "alert expressions without data: ${missing[*]}"
	[ "$(grep -c '^ *expr:' "$MON/dbops-alerts.yml")" = "$(sed -nE 's/^ *expr: (.*[^ ]) *(==|>|<) *[0-9.* ]+$/\1/p' "$MON/dbops-alerts.yml" | wc -l)" ] ||
		fail "an alert expression the test does not take apart"
	# The failed import fires its alert.
	until_ok 60 bash -c "curl -sf http://127.0.0.1:$PROM_PORT/api/v1/alerts | jq -e '.data.alerts[] | select(.labels.alertname == \"DbopsSnapImportFailing\" and .state == \"firing\")' >/dev/null" ||
		fail "DbopsSnapImportFailing did not fire: $(curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/alerts")"
	# And an alert that should not fire does not: sync is up.
	run bash -c "curl -sf http://127.0.0.1:$PROM_PORT/api/v1/alerts | jq -r '.data.alerts[].labels.alertname'"
	refute_line DbopsSnapImportSyncDown
	refute_line DbopsPitrVerifyFailing
	refute_line DbopsEventStoreDown
	refute_line DbopsEventStorePostgresqlDown
	refute_line DbopsEventStoreRedisDown
	# Redis goes away: event-store answers the symbol dashboard from
	# PostgreSQL, and its alert fires.
	redis-cli -s "$REDIS_SOCKET" shutdown nosave >/dev/null 2>&1 || true
	run curl -s -w ' %{http_code}' "http://127.0.0.1:$ES_PORT/dashboard/symbol/e"
	assert_output --regexp '^\{"count":6,"symbol":"e",.*"followups":6\} 200$'
	until_ok 60 bash -c "curl -sf http://127.0.0.1:$PROM_PORT/api/v1/alerts | jq -e '.data.alerts[] | select(.labels.alertname == \"DbopsEventStoreRedisDown\" and .state == \"firing\")' >/dev/null" ||
		fail "DbopsEventStoreRedisDown did not fire: $(curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/alerts")"
	run curl -sf "http://127.0.0.1:$ES_PORT/metrics"
	assert_line --regexp '^dbops_eventstore_dashboard_source_total\{source="postgresql"\} [1-9][0-9]*$'
}
