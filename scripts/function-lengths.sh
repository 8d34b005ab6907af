#!/bin/sh
# The longest C functions of the tree, in lines from the line with the
# function's name to its closing brace (KNF: "{" and "}" of a function
# stand alone at column 0), longest first:
#
#	 121 utils/pitr-replay/extract.c:524 copy_tree
#
# Usage: scripts/function-lengths.sh [-n N] [FILE...]
#        (default: the top 10 of common/, utils/, tests/driver, tests/data)
# Exits 1 when a function is longer than MAX_LINES (120), the tree's limit.
set -eu
cd "$(dirname "$0")/.."
top=10
if [ "${1:-}" = -n ]; then
	top=$2
	shift 2
fi
[ $# -gt 0 ] || set -- common/*.c utils/*/*.c tests/driver/*.c tests/data/*.c
list=$(mktemp)
trap 'rm -f "$list"' EXIT
status=0
awk -v max="${MAX_LINES:-120}" '
FNR == 1 { name = ""; body = 0 }
/^[A-Za-z_].*\(/ && !/;[ \t]*$/ {
	line = $0
	sub(/\(.*/, "", line)
	n = split(line, w, /[ \t*]+/)
	name = w[n]; start = FNR
}
/^\{/ && name != "" { body = 1 }
/^\}/ && body {
	len = FNR - start + 1
	printf "%4d %s:%d %s\n", len, FILENAME, start, name
	if (len > max) over = 1
	body = 0; name = ""
}
END { exit over }
' "$@" >"$list" || status=1
sort -rn "$list" | head -n "$top"
exit $status
