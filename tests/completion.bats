#!/usr/bin/env bats
# The bash completions of the five tools: each is loaded into a fresh bash
# with bash-completion, as an interactive shell loads it, given a command
# line and checked for exactly what it offers. They come from completions/
# in the tree, or from where the package installs them when
# DBOPS_INSTALLED=1.

bats_require_minimum_version 1.5.0

setup() {
	load lib/helpers
	BASH_COMPLETION=${DBOPS_BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
	[ -f "$BASH_COMPLETION" ] ||
		fail "no $BASH_COMPLETION: install the Debian package bash-completion"
	if [ "${DBOPS_INSTALLED:-0}" = 1 ]; then
		COMPLETIONS=/usr/share/bash-completion/completions
	else
		COMPLETIONS=$DBOPS_TOP/completions
	fi
	# File names are completed in a directory of the test's own (bats
	# keeps its temporary files in BATS_TEST_TMPDIR).
	mkdir "$BATS_TEST_TMPDIR/cwd"
	cd "$BATS_TEST_TMPDIR/cwd" || return 1
}

# offers TOOL LINE: what the completion of TOOL offers for LINE, the cursor
# at its end, one per line and sorted. The line is split into words as
# readline splits it: at blanks, and "--opt=value" into --opt, = and value.
offers() {
	bash --norc --noprofile -c '
		source "$1" || exit 1
		source "$2" || exit 1
		tool=$3 line=$4
		spec=$(complete -p "$tool") || exit 1
		fn=$(sed -n "s/.* -F \([^ ]*\) .*/\1/p" <<<"$spec")
		set -f
		words=()
		for w in $line; do
			if [[ $w == --*=* ]]; then
				words+=("${w%%=*}" "=")
				[[ -n ${w#*=} ]] && words+=("${w#*=}")
			else
				words+=("$w")
			fi
		done
		set +f
		[[ $line == *" " ]] && words+=("")
		COMP_WORDS=("${words[@]}")
		COMP_CWORD=$((${#words[@]} - 1))
		COMP_LINE=$line
		COMP_POINT=${#line}
		COMPREPLY=()
		"$fn" "$tool" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		((${#COMPREPLY[@]} == 0)) || printf "%s\n" "${COMPREPLY[@]}" | sort -u
	' offers "$BASH_COMPLETION" "$COMPLETIONS/$1" "$1" "$2"
}

# assert_offers TOOL LINE WORD...: offers exactly the WORDs.
assert_offers() {
	local tool=$1 line=$2
	shift 2
	run --separate-stderr offers "$tool" "$line"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "$(printf '%s\n' "$@" | sort -u)"
}

# long_options TOOL: the long options the tool's --help names.
long_options() {
	"$1" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u
}

@test "completion: every tool has a completion file that registers a function" {
	for tool in dump-restore event-store pitr-replay snap-import world-query; do
		run bash --norc --noprofile -c 'source "$1" && source "$2" && complete -p "$3"' \
			x "$BASH_COMPLETION" "$COMPLETIONS/$tool" "$tool"
		assert_success
		assert_output --regexp "^complete -F _[a-z_]+ $tool\$"
	done
}

@test "completion: pitr-replay commands, options per command and option values" {
	assert_offers pitr-replay "pitr-replay " restore verify window info fetch-wal
	assert_offers pitr-replay "pitr-replay fetch-wal --s" --spool
	assert_offers pitr-replay "pitr-replay info --" --base --archive --time \
		--format --jobs --progress --quiet --verbose --help
	assert_offers pitr-replay "pitr-replay verify --n" --no-manifest-check
	assert_offers pitr-replay "pitr-replay v" verify
	assert_offers pitr-replay "pitr-replay -" -h --help -V --version
	assert_offers pitr-replay "pitr-replay window --" --archive --base --format \
		--jobs --progress --quiet --verbose --help
	assert_offers pitr-replay "pitr-replay verify --target-" --target-time \
		--target-lsn --target-xid --target-name --target-exclusive
	assert_offers pitr-replay "pitr-replay restore --ac" --action
	assert_offers pitr-replay "pitr-replay restore --action " promote pause shutdown
	assert_offers pitr-replay "pitr-replay restore --action=p" promote pause
	assert_offers pitr-replay "pitr-replay window --format=" table csv tsv json
	assert_offers pitr-replay "pitr-replay verify --timeline " current latest
	assert_offers pitr-replay "pitr-replay verify --target " immediate
	assert_offers pitr-replay "pitr-replay restore --progress n" never
	assert_offers pitr-replay "pitr-replay restore --target-time " ""
	mkdir archive base.d
	touch base.tar
	assert_offers pitr-replay "pitr-replay restore -a " archive base.d
	assert_offers pitr-replay "pitr-replay restore -b base" base.d base.tar
}

@test "completion: dump-restore commands, options anywhere, sources and worlds" {
	assert_offers dump-restore "dump-restore " plan up status down inventory
	assert_offers dump-restore "dump-restore up --definer " rewrite keep
	assert_offers dump-restore "dump-restore up --s" --server-bindir --share --strict
	assert_offers dump-restore "dump-restore inventory --" --merge --quiet --verbose --help
	assert_offers dump-restore "dump-restore -j 4 --progress never u" up
	assert_offers dump-restore "dump-restore status --" --root --format \
		--quiet --verbose --help
	assert_offers dump-restore "dump-restore plan --f" --format
	assert_offers dump-restore "dump-restore up --format " table csv tsv json
	mkdir dumps worlds
	touch world1-2024-03-01T02:00:00Z.sql.gz notes.txt
	assert_offers dump-restore "dump-restore plan " dumps worlds \
		world1-2024-03-01T02:00:00Z.sql.gz
	assert_offers dump-restore "dump-restore up --root " dumps worlds
	printf '[client]\nprotocol=tcp\n\n[client_world1]\nport=1\n\n[client_world10]\nport=2\n\n[client_alpha]\nport=3\n' \
		>worlds/worlds.cnf
	assert_offers dump-restore "dump-restore --root worlds down " world1 world10 alpha
	assert_offers dump-restore "dump-restore down --root=worlds w" world1 world10
	assert_offers dump-restore "dump-restore down --root no/such " ""
}

@test "completion: world-query options and the worlds of the inventory" {
	assert_offers world-query "world-query --s" --shell
	assert_offers world-query "world-query --format " table csv tsv json
	assert_offers world-query "world-query 'SELECT " ""
	printf '[client_world1]\nport=1\n[client_world2]\nport=2\n[mysqld]\n' >inv.cnf
	mkdir root
	printf '[client_north]\nport=1\n' >root/worlds.cnf
	assert_offers world-query "world-query --inventory inv.cnf -w " world1 world2
	assert_offers world-query "world-query --inventory=inv.cnf --shell world2" world2
	assert_offers world-query "world-query --root root --world " north
	assert_offers world-query "world-query --inventory " inv.cnf root
}

@test "completion: snap-import commands, options per command and files" {
	touch a.csv
	mkdir dir
	assert_offers snap-import "snap-import " a.csv dir import plan list sync \
		retry forget
	assert_offers snap-import "snap-import p" plan
	assert_offers snap-import "snap-import plan --" --table --types --all-text \
		--quiet --verbose --help --delimiter --quote --null --header --columns \
		--table-from-name
	assert_offers snap-import "snap-import plan " a.csv dir
	assert_offers snap-import "snap-import l" list
	assert_offers snap-import "snap-import list --" --database --table --quiet \
		--verbose --progress --help --format --all
	assert_offers snap-import "snap-import sync --" --database --table --quiet \
		--verbose --progress --help --dir --data-dir --pattern --listen --once --settle \
		--types --all-text --timezone --encoding --copy-format --delimiter --quote --null \
		--header --columns
	assert_offers snap-import "snap-import retry --" --database --table --quiet \
		--verbose --progress --help --types --all-text --timezone --encoding \
		--copy-format --delimiter --quote --null --header --columns
	assert_offers snap-import "snap-import forget --" --database --table \
		--quiet --verbose --help
	assert_offers snap-import "snap-import forget " a.csv dir
	assert_offers snap-import "snap-import sync --settle " ""
	assert_offers snap-import "snap-import a.csv --" --database --table --quiet \
		--verbose --progress --help --metrics-file --name --jobs --force \
		--types --all-text --timezone --encoding --copy-format --delimiter --quote \
		--null --header --columns --table-from-name
	assert_offers snap-import "snap-import --header " first none
	assert_offers snap-import "snap-import --copy-format " auto csv
	assert_offers snap-import "snap-import sync --data-dir " dir
	assert_offers snap-import "snap-import --jobs " ""
	assert_offers snap-import "snap-import -t snaps a" a.csv
	assert_offers snap-import "snap-import sync -D " dir
	assert_offers snap-import "snap-import list --format j" json
	assert_offers snap-import "snap-import sync " ""
}

@test "completion: event-store options, none after a value, no operands" {
	assert_offers event-store "event-store --" --listen --dbname --schema \
		--redis --redis-prefix --no-redis --threads --max-body --timeout \
		--max-connections --batch-events --batch-wait --batchers --quiet \
		--verbose --help --version
	assert_offers event-store "event-store --b" --batch-events --batch-wait --batchers
	assert_offers event-store "event-store --red" --redis --redis-prefix
	assert_offers event-store "event-store -" --listen -d --dbname --schema \
		--redis --redis-prefix --no-redis --threads --max-body --timeout \
		--max-connections --batch-events --batch-wait --batchers -q \
		--quiet -v --verbose -h --help -V --version
	touch a.csv
	assert_offers event-store "event-store " ""
	assert_offers event-store "event-store --listen " ""
	assert_offers event-store "event-store -d " ""
	assert_offers event-store "event-store --redis " ""
	assert_offers event-store "event-store --redis=" ""
	assert_offers event-store "event-store --threads 4 --no-redis --max-b" --max-body
}

@test "completion: every long option of every tool's --help is offered" {
	local tool lines line
	for tool in dump-restore event-store pitr-replay snap-import world-query; do
		case $tool in
		pitr-replay) lines=("pitr-replay -" "pitr-replay restore --"
			"pitr-replay verify --" "pitr-replay window --"
			"pitr-replay info --" "pitr-replay fetch-wal --") ;;
		*) lines=("$tool --") ;;
		esac
		for line in "${lines[@]}"; do
			offers "$tool" "$line"
		done | sort -u >"$tool.offered"
		long_options "$tool" >"$tool.help"
		run comm -23 "$tool.help" "$tool.offered"
		assert_success
		assert_output ""
	done
}
