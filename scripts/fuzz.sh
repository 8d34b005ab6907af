#!/usr/bin/env bash
# Run the libFuzzer targets of a fuzz build (make fuzz, make check), each for
# a while on a copy of its seed corpus, and print one TAP line per target:
# how many inputs it ran, the coverage it reached, and on a finding the
# input that caused it.
#
#   scripts/fuzz.sh --build DIR [--seconds N] [--jobs J] [TARGET...]
#
# DIR is the fuzz build ($(BUILD)/fuzz): its targets are DIR/fuzz/fuzz_*.
# Each target's seeds are tests/fuzz/corpus/<target>/; the inputs a run
# finds go to a scratch copy, not into the tree (a finding worth keeping is
# added there by hand, with a unit test). tests/fuzz/<target>.options, when
# present, holds more libFuzzer flags for that target (-max_len=...), and
# tests/fuzz/<target>.dict a dictionary. A finding's input is kept as
# DIR/crashes/<target>-<kind>-<hash>, and the run's log beside it.
# J targets run at once (default: the number of cores).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=
seconds=10
jobs=$(nproc 2>/dev/null || echo 1)
targets=()

while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	-*) echo "fuzz.sh: unknown option \"$1\"" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
if [ -z "$build" ]; then
	echo "usage: scripts/fuzz.sh --build DIR [--seconds N] [--jobs J] [TARGET...]" >&2
	exit 2
fi
case $build in /*) ;; *) build=$top/$build ;; esac
if [ ${#targets[@]} -eq 0 ]; then
	for bin in "$build"/fuzz/fuzz_*; do
		[ -x "$bin" ] && targets+=("$(basename "$bin")")
	done
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz.sh: no fuzz target in \"$build/fuzz\" (make fuzz-bins builds them)" >&2
	exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$build/crashes"

# run_one TARGET: fuzzes TARGET for $seconds and writes its TAP line's text
# to $scratch/TARGET.result ("ok ..." or "not ok ..."), its log beside it.
run_one() {
	local t=$1 bin=$build/fuzz/$1 corpus=$scratch/$1.corpus log=$scratch/$1.log
	local extra=() execs cov ft rate rc
	mkdir -p "$corpus"
	if [ -d "$top/tests/fuzz/corpus/$t" ]; then
		cp -R "$top/tests/fuzz/corpus/$t/." "$corpus/"
	fi
	[ -f "$top/tests/fuzz/$t.options" ] && read -r -a extra <"$top/tests/fuzz/$t.options"
	[ -f "$top/tests/fuzz/$t.dict" ] && extra+=("-dict=$top/tests/fuzz/$t.dict")
	# -timeout: one input running for seconds is a finding (a DoS);
	# -rss_limit_mb: so is one that makes the process grow past 2 GB.
	(cd "$scratch" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$build/crashes/$t-" \
		"${extra[@]}" "$corpus" >"$log" 2>&1)
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d ' ' -f 2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d ' ' -f 2)
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz $t: ${execs:-?} execs (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, $(ls "$corpus" | wc -l) corpus files" >"$scratch/$t.result"
	else
		cp "$log" "$build/crashes/$t.log"
		{
			echo "not ok - fuzz $t: exit status $rc after ${execs:-?} execs; log $build/crashes/$t.log"
			grep -E 'ERROR|runtime error|Test unit written|SUMMARY' "$log" | head -n 10 | sed 's/^/# /'
		} >"$scratch/$t.result"
	fi
}

# Targets run $jobs at a time; their lines come out in the targets' order.
export -f run_one
export build seconds scratch top
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}
echo "1..${#targets[@]}"
status=0
for t in "${targets[@]}"; do
	cat "$scratch/$t.result"
	grep -q '^ok' "$scratch/$t.result" || status=1
done
exit $status
