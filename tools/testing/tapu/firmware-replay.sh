#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The MT8183 reference firmware (firmware/tapu-mt8183), cross-built for
# Xtensa, replays on qemu-system-xtensa -cpu lx106 the jobs tapu_isa_test
# recorded on the simulated NPU (run-qemu.sh --record): every buffer must
# end as the simulated NPU left it. Each TAP line of the replay becomes a
# "firmware: xtensa: " result.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)
REC=
OUT=$top/build/firmware
EXPECT=
RESULTS=
# A few seconds under TCG; a fault exits at once (qemu/start.S).
TIME_LIMIT=${TAPU_FIRMWARE_TIME_LIMIT:-120}

usage() {
	cat <<USAGE
usage: $0 --recordings DIR [--out DIR] [--results FILE]
  --recordings DIR  the *.job files of tapu_isa_test (TAPU_ISA_RECORD)
  --expect N        the guest recorded N jobs (its TAPU-RECORDINGS line)
  --out DIR         build and log directory (default build/firmware)
  --results FILE    append "status<TAB>description" lines to FILE (and
                    the diagnostics to FILE.details) instead of printing
USAGE
}

while [ $# -gt 0 ]; do
	case $1 in
	--recordings) REC=$2; shift ;;
	--expect) EXPECT=$2; shift ;;
	--out) OUT=$2; shift ;;
	--results) RESULTS=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
[ -n "$REC" ] || { usage >&2; exit 2; }

mkdir -p "$OUT"
results=${RESULTS:-$OUT/results}
details=$results.details
[ -n "$RESULTS" ] || : > "$results" > "$details"
record() { printf '%s\t%s\n' "$1" "$2" >> "$results"; }
fwdir=$top/firmware/tapu-mt8183

if ! make -s -C "$fwdir" O="$OUT/tapu-mt8183" > "$OUT/build.log" 2>&1; then
	sed 's/^/# firmware: /' "$OUT/build.log" >> "$details"
	record fail "firmware: xtensa: the reference firmware builds with gcc-xtensa-lx106 and picolibc"
	exit 1
fi
# Absolute: make -C runs the replay from the firmware's directory.
mapfile -t jobs < <(find "$(cd "$REC" 2> /dev/null && pwd)" -name '*.job' 2> /dev/null | sort)
if [ ${#jobs[@]} -eq 0 ]; then
	record fail "firmware: xtensa: no jobs recorded on the simulated NPU in $REC"
	exit 1
fi
if [ -n "$EXPECT" ] && [ "$EXPECT" != ${#jobs[@]} ]; then
	record fail "firmware: xtensa: the guest recorded $EXPECT jobs, $REC has ${#jobs[@]}"
fi

rc=0
timeout -k 10 "$TIME_LIMIT" make -s -C "$fwdir" O="$OUT/tapu-mt8183" \
	check REC="${jobs[*]}" > "$OUT/replay.tap" 2> "$OUT/replay.err" || rc=$?
awk -v rc="$rc" '
	/^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0; next }
	/^(not )?ok [0-9]+/ {
		st = /^not / ? "fail" : "ok"
		if (st == "fail") failed = 1
		d = $0; sub(/^(not )?ok [0-9]+ *(- *)?/, "", d)
		printf "%s\tfirmware: xtensa: %s\n", st, d; n++
	}
	END {
		if (plan != n)
			printf "fail\tfirmware: xtensa: the replay planned %d tests, reported %d (rc=%d)\n", plan, n, rc
		else if (n == 0)
			printf "fail\tfirmware: xtensa: the replay reported nothing (rc=%d)\n", rc
		else if (rc != 0 && !failed)
			printf "fail\tfirmware: xtensa: the replay exited with rc=%d\n", rc
	}' "$OUT/replay.tap" >> "$results"
grep -v '^ok' "$OUT/replay.tap" "$OUT/replay.err" | sed 's/^/# firmware: /' >> "$details" || true
[ -n "$RESULTS" ] || cat "$results"
[ "$rc" -eq 0 ]
