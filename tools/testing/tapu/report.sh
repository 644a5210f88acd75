#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print one TAP report for the results of one or more test runs, then the
# diagnostics, then the single closing line "N passed, N failed[, N skipped]".
#
#   report.sh RESULTS [DETAILS...]
#
# RESULTS has one "status<TAB>description" line per test, status ok, skip or
# fail (run-qemu.sh --results, build-debug-kernel.sh --results). Exits
# non-zero when a test failed or there is no result at all.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 RESULTS [DETAILS...]" >&2; exit 2; }
results=$1
shift

n=$(wc -l < "$results")
pass=0 fail=0 skip=0 i=0
echo "TAP version 13"
echo "1..$n"
while IFS=$'\t' read -r st desc; do
	i=$((i + 1))
	case $st in
	ok) pass=$((pass + 1)); echo "ok $i $desc" ;;
	skip) skip=$((skip + 1))
		case $desc in
		*'# SKIP'*|*'# skip'*) echo "ok $i $desc" ;;
		*) echo "ok $i $desc # SKIP" ;;
		esac ;;
	*) fail=$((fail + 1)); echo "not ok $i $desc" ;;
	esac
done < "$results"
for d in "$@"; do
	[ -f "$d" ] && cat "$d"
done
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$n" -gt 0 ]
