#!/bin/sh
# `make bench`: run every benchmark in bench/ (bench/<tool>.sh), each of
# which times the tool next to what a user would otherwise run, in the same
# run, and prints the ratio. Results go to bench/RESULTS.md with a line on
# the machine they were measured on.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
results=bench/RESULTS.md
found=0
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	[ -x "$b" ] || continue
	found=1
	echo "== $b" >&2
	"$b" "$build"
done >"$results.new"
if [ "$found" = 0 ]; then
	rm -f "$results.new"
	echo "bench: no benchmark yet: each tool adds bench/<tool>.sh" >&2
	exit 0
fi
{
	echo "# Benchmark results"
	echo
	echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB," \
		"$(uname -m), $(. /etc/os-release && echo "$PRETTY_NAME")."
	echo "Ratios, not lone times: these machines are shared and noisy."
	echo
	cat "$results.new"
} >"$results"
rm -f "$results.new"
cat "$results"
