#!/bin/sh
# A build tree whose programs run under valgrind memcheck, for make
# valgrind: the bats suites run against it as against any build
# (DBOPS_BUILD), and every tool, libexec program and child of theirs that
# is one of ours runs under memcheck, its log in OUT/valgrind-logs/.
#
# Usage: scripts/valgrind-tree.sh BUILD OUT
#        scripts/valgrind-tree.sh --check OUT
#
# OUT/bin/TOOL is a script that execs valgrind on a copy of BUILD/bin/TOOL
# in OUT/real/bin. The tools find their libexec programs from their own
# path (/proc/self/exe, the copy under valgrind): pitr-replay restore
# writes a restore_command with OUT/real/lib/dbops/pitr-replay-fetch-wal, a
# script again (OUT/lib/dbops/ links to it), so that PostgreSQL's calls of
# it run under memcheck too, on a copy in OUT/real2, whose own fallback,
# ../../bin/pitr-replay from there, is a script again.
# OUT/tests is BUILD/tests: the test helpers run as they are.
#
# --check: one line per log of OUT/valgrind-logs with errors (definite
# leaks count as errors), exit 1 if any; the logs without are removed.
set -eu

if [ "${1:-}" = --check ]; then
	logs=$2/valgrind-logs
	bad=0
	for f in "$logs"/vg.*; do
		[ -f "$f" ] || continue
		if grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
			rm -f "$f"
		elif ! grep -q 'ERROR SUMMARY:' "$f"; then
			# Killed before its summary (a test's kill -9): nothing to see
			# unless an error came first.
			if grep -q '^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|Mismatched\|overlap\|Syscall param\)' "$f"; then
				echo "valgrind: errors in $f (no summary: killed?)"
				bad=1
			else
				rm -f "$f"
			fi
		else
			echo "valgrind: $(grep -m 1 'ERROR SUMMARY:' "$f" | sed 's/^==[0-9]*== //') in $f"
			bad=1
		fi
	done
	exit "$bad"
fi

build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
logs=$out/valgrind-logs
rm -rf "${out:?}/bin" "${out:?}/lib" "$out/real" "$out/real2" "$out/tests"
rm -f "$logs"/vg.*
mkdir -p "$out/bin" "$out/lib/dbops" "$out/real/bin" "$out/real/lib/dbops" \
	"$out/real2/bin" "$out/real2/lib/dbops" "$logs"
# Every user writes there: the tools run as postgres and mysql too.
chmod 1777 "$logs"
ln -s "$build/tests" "$out/tests"

# wrap SCRIPT PROGRAM: SCRIPT execs memcheck on PROGRAM with the same
# arguments. Errors make the status 99 (not a status the tools use), and
# every log is kept, whatever the status, for --check.
wrap() {
	cat >"$1" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=99 \\
	--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
	--child-silent-after-fork=yes --log-file='$logs/vg.$(basename "$2").%p' \\
	'$2' "\$@"
EOF
	chmod 0755 "$1"
}

for p in "$build"/bin/*; do
	name=$(basename "$p")
	cp "$p" "$out/real/bin/$name"
	wrap "$out/bin/$name" "$out/real/bin/$name"
	wrap "$out/real2/bin/$name" "$out/real/bin/$name"
done
for p in "$build"/lib/dbops/*; do
	[ -f "$p" ] || continue
	name=$(basename "$p")
	cp "$p" "$out/real2/lib/dbops/$name"
	wrap "$out/real/lib/dbops/$name" "$out/real2/lib/dbops/$name"
	# The same script: the tests find it as the tools do, by realpath.
	ln -s "../../real/lib/dbops/$name" "$out/lib/dbops/$name"
done
