#!/bin/sh
# The C sources laid out as .clang-format says, checked without changing
# them: the format test of make check (tests/run.sh), and `make format`'s
# list of files.
#
# Usage: scripts/check-format.sh [--list]
#
# .clang-format is pinned so that clang-format 11 (bullseye), 14 (bookworm)
# and 19 (trixie) lay the tree out byte for byte alike; CLANG_FORMAT names
# another binary to check with (clang-format-19, say).
set -eu
cd "$(dirname "$0")/.."

files=$(ls common/*.[ch] common/sanitize/*.c utils/*/*.[ch] tests/unit/*.[ch] tests/driver/*.[ch] \
	tests/data/*.c tests/fuzz/*.[ch] 2>/dev/null || true)
if [ "${1:-}" = --list ]; then
	printf '%s\n' $files
	exit 0
fi
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null; then
	echo "check-format: error: \"$cf\" not found (install the Debian package clang-format)" >&2
	exit 1
fi
# shellcheck disable=SC2086 # the list is meant to split into words
"$cf" --dry-run -Werror $files
