#!/usr/bin/env bats
# dump-restore up's progress board on a real terminal: a pty of a set size
# (script(1), stty), what the tool wrote replayed through a terminal
# emulator nobody here wrote (pyte, Debian's python3-pyte), then the screen
# and its scrollback read. The board never overwrites an error line, fits
# the terminal's rows, and says which worlds are queued, done or failed.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	export TZ=UTC
	export DUMPS=$BATS_FILE_TMPDIR/dumps
	"$DBOPS_TOP/tests/data/gen-worlds.sh" --worlds 6 --rows 3000 --build "$DBOPS_BUILD" "$DUMPS" >/dev/null 2>&1
	# A server directory whose mariadbd fails for world3 only, printing two
	# lines: the tool reports them (from its worker thread) while the
	# board is on the screen.
	dbops_server_root
	export BINDIR=$DBOPS_SERVER_ROOT/bin
	mkdir -p "$BINDIR"
	cat >"$BINDIR/mariadbd" <<EOF
#!/bin/sh
case "\$*" in *"/world3/"*) echo "injected failure for world3" >&2; echo "its second line" >&2; exit 1;; esac
exec "$(command -v mariadbd || echo /usr/sbin/mariadbd)" "\$@"
EOF
	chmod 0755 "$DBOPS_SERVER_ROOT" "$BINDIR" "$BINDIR/mariadbd"
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	/usr/bin/python3 -c 'import pyte' 2>/dev/null || skip "needs python3-pyte"
	command -v script >/dev/null || skip "needs script (bsdutils)"
}

# up_on_tty ROWS COLS ROOT: dump-restore up of the six worlds, -j 2, on a
# terminal of that size; what it wrote is in $BATS_TEST_TMPDIR/raw.
up_on_tty() {
	local cmd
	cmd=$(printf 'stty rows %d cols %d; dump-restore up --root %q -j 2 --server-bindir %q --at %q %q' \
		"$1" "$2" "$3" "$BINDIR" '2024-03-01 11:59:00' "$DUMPS")
	script -qfec "$cmd" "$BATS_TEST_TMPDIR/raw" >/dev/null </dev/null || true
}

# rendered ROWS COLS: the scrollback and the screen after replaying raw,
# one line each, trailing blanks cut.
rendered() {
	/usr/bin/python3 - "$BATS_TEST_TMPDIR/raw" "$1" "$2" <<'EOF'
import sys, pyte
rows, cols = int(sys.argv[2]), int(sys.argv[3])
screen = pyte.HistoryScreen(cols, rows, history=100000)
pyte.ByteStream(screen).feed(open(sys.argv[1], 'rb').read())
def text(line):
    return ''.join(line[x].data for x in range(cols)).rstrip()
for line in list(screen.history.top) + [screen.buffer[y] for y in range(rows)]:
    print(text(line))
EOF
}

@test "dump-restore up: the board never overwrites an error line, and fits a terminal with fewer rows than worlds" {
	up_on_tty 5 250 "$DBOPS_SERVER_ROOT/w1"
	run rendered 5 250
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/screen"
	# Every message the tool wrote (whole lines of the raw capture) is on
	# the screen or in its scrollback, intact.
	grep -ao 'dump-restore: [a-z]*: [^[:cntrl:]]*' "$BATS_TEST_TMPDIR/raw" >"$BATS_TEST_TMPDIR/messages"
	run grep -c 'injected failure for world3\|its second line' "$BATS_TEST_TMPDIR/messages"
	assert_output 2
	while IFS= read -r m; do
		grep -qxF -- "$m" "$BATS_TEST_TMPDIR/screen" || fail "message lost from the screen: $m"
	done <"$BATS_TEST_TMPDIR/messages"
	# Six worlds, five rows: three world lines and a summary line, drawn
	# in place. A fresh copy only below a burst of messages, not one per
	# redraw (the scrollback is not flooded).
	run grep -c '^world[0-9]: ' "$BATS_TEST_TMPDIR/screen"
	[ "$output" -le 12 ] || fail "$output board lines in the scrollback"
	run grep -c '^[0-9] more: ' "$BATS_TEST_TMPDIR/screen"
	[ "$output" -ge 1 ] && [ "$output" -le 4 ] || fail "$output summary lines"
	# The last board, above the final report: world3 failed, the others
	# done, not "100%" with a clock still running.
	last=$(grep '^world[0-9]: \|^[0-9] more: ' "$BATS_TEST_TMPDIR/screen" | tail -4)
	assert_regex "$last" $'^world3: failed\nworld1: done, [0-9.]+ [KM]iB, ([0-9.]+ [KM]iB/s|-- B/s), in [0-9]+\\.[0-9] s\nworld2: done, [0-9.]+ [KM]iB, ([0-9.]+ [KM]iB/s|-- B/s), in [0-9]+\\.[0-9] s\n3 more: 3 done$'
	dump-restore down --root "$DBOPS_SERVER_ROOT/w1" -q
}

@test "dump-restore up: worlds beyond -j are shown queued, not starting" {
	up_on_tty 24 250 "$DBOPS_SERVER_ROOT/w2"
	# The first board: world1 and world2 begun, the other four queued.
	first=$(grep -ao 'world[0-9]: [a-z]*' "$BATS_TEST_TMPDIR/raw" | head -6)
	dump-restore down --root "$DBOPS_SERVER_ROOT/w2" -q
	assert_equal "$(sed -n '3,6p' <<<"$first")" "world3: queued
world4: queued
world5: queued
world6: queued"
	run rendered 24 250
	assert_line --regexp '^world4: done, [0-9.]+ [KM]iB, ([0-9.]+ [KM]iB/s|-- B/s), in [0-9]+\.[0-9] s$'
}
