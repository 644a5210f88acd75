#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The test suites of "make test", reported as one TAP stream with a single
# closing "N passed, N failed[, N skipped]" line:
#
#  1. the stock run: Debian's 6.12 kernel with the out-of-tree modules
#     (make modules selftests tools first), which also records the ISA
#     tests' jobs; the MT8183 reference firmware replays them on an
#     emulated Xtensa core (firmware-replay.sh);
#  2. the debug kernel (build-debug-kernel.sh, reused while its inputs are
#     unchanged) and the built-in compile check;
#  3. the debug run: KUnit, the same kselftests, kmemleak, under KASAN and
#     lockdep;
#  4. dt_binding_check of the MT8183 APU binding (dt-binding-check.sh, in
#     the debug kernel's tree);
#  5. arm64: a small arm64 kernel (build-debug-kernel.sh --arch arm64,
#     reused while its inputs are unchanged) in qemu-system-aarch64 -M virt
#     with the cross-built kselftests (make selftests-arm64): the simulated
#     NPU's and the MT8183 backend's suites, "arm64: " before each test;
#  6. the kernel patch series (mkseries.py, check-series.sh): git am onto
#     linux-source-6.12, checkpatch and the W=1 C=1 builds of each patch,
#     x86_64 and arm64, =m and =y, then htmldocs of Documentation/accel.
#
# Exits non-zero when any of them fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)
BUILD=${TAPU_BUILD:-$top/build}
# KASAN, lockdep and kmemleak under TCG: several times slower than stock.
DEBUG_TIME_LIMIT=${TAPU_DEBUG_TIME_LIMIT:-1500}
ABI=
STOCK=1
DEBUG=1
ARM64=1
SERIES=1
# The arm64 run under TCG (lockdep, no KASAN).
ARM64_TIME_LIMIT=${TAPU_ARM64_TIME_LIMIT:-1200}

usage() {
	cat <<EOF
usage: $0 [--abi ABI] [--stock | --debug | --arm64 | --series]
  --abi ABI   Debian kernel ABI of the stock run (default: newest installed)
  --stock     only the stock run
  --debug     only the debug kernel build and run (and dt_binding_check)
  --arm64     only the arm64 kernel build and run
  --series    only the kernel patch series: apply, checkpatch, build
Environment: TAPU_DEBUG_TIME_LIMIT (guest time limit of the debug run,
  default $DEBUG_TIME_LIMIT s), JOBS, and those of run-qemu.sh.
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--abi) ABI=$2; shift ;;
	--stock) STOCK=1; DEBUG=0; ARM64=0; SERIES=0 ;;
	--debug) STOCK=0; DEBUG=1; ARM64=0; SERIES=0 ;;
	--arm64) STOCK=0; DEBUG=0; ARM64=1; SERIES=0 ;;
	--series) STOCK=0; DEBUG=0; ARM64=0; SERIES=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

say() { echo "tapu-tests: $*" >&2; }

mkdir -p "$BUILD"
res=$BUILD/test-results
# Two runs at once would truncate and mix each other's results.
exec 8> "$res.lock"
if ! flock -n 8; then
	say "another run-tests.sh uses $res; waiting for it"
	flock 8
fi
: > "$res"
: > "$res.details"
record() { printf '%s\t%s\n' "$1" "$2" >> "$res"; }

# A harness that stops before its report (exit 2: missing kernel, modules,
# tests) leaves no line: count that as a failure of its own.
harness() {	# harness NAME ARGS...
	local name=$1 before rc=0
	shift
	before=$(wc -l < "$res")
	"$here/run-qemu.sh" "$@" --results "$res" || rc=$?
	if [ "$rc" != 0 ] && [ "$(wc -l < "$res")" = "$before" ]; then
		record fail "$name: harness stopped with rc=$rc before testing"
	fi
}

start=$(date +%s)
if [ "$STOCK" = 1 ]; then
	say "stock run: Debian kernel ${ABI:-(newest installed)}"
	# No recordings of an earlier run may stand in for this one's.
	rm -rf "$BUILD/isa-recordings"
	harness stock ${ABI:+--abi "$ABI"} --prefix "stock: " \
		--record "$BUILD/isa-recordings"
	recorded=$(sed -n 's/^TAPU-RECORDINGS: \([0-9]*\).*/\1/p' "$BUILD/qemu-console.log" | tail -n 1)
	"$here/firmware-replay.sh" --recordings "$BUILD/isa-recordings" \
		--expect "${recorded:-0}" --out "$BUILD/firmware" --results "$res" || true
fi

if [ "$DEBUG" = 1 ]; then
	dk=$BUILD/debug-kernel
	t0=$(date +%s)
	say "debug kernel: build or reuse $dk"
	"$here/build-debug-kernel.sh" --out "$dk" --results "$res" || true
	say "debug kernel ready after $(( $(date +%s) - t0 ))s"
	# The stamp exists only once the debug kernel and its modules built.
	if [ -f "$dk/stamp" ]; then
		rel=$(cat "$dk/release")
		kmoddir=$dk/modules/lib/modules/$rel
		modsrc=$kmoddir/kernel/drivers/accel/tapu
		if [ ! -f "$modsrc/tests/tapu_kunit.ko" ]; then
			record skip "debug: kunit: tapu_kunit.ko not built (no drivers/accel/tapu/tests/Makefile at build time)"
		fi
		# The Fashion-MNIST run only on the stock kernel: under KASAN a
		# 100-image job takes ~15 s (the hang limit is 33 job timeouts
		# of progress, 16.5 s), the 10,000 images ~25 min, and
		# tapu-run has no option to classify fewer images.
		record skip "debug: tapu-run-fmnist: 10,000 images too slow under KASAN, run on the stock kernel only"
		record skip "debug: tapu-run-zoo: the model zoo runs on the stock kernel only"
		TAPU_FMNIST=0 TAPU_ZOO=0 harness debug --name debug --kernel "$dk/bzImage" \
			--kmoddir "$kmoddir" --modsrc "$modsrc" \
			--time-limit "$DEBUG_TIME_LIMIT"
	fi
fi

# dt_binding_check in the debug kernel's tree, which has the bindings.
if [ "$DEBUG" = 1 ]; then
	if [ -f "$BUILD/debug-kernel/src/.tapu-ksrc" ]; then
		"$here/dt-binding-check.sh" --src "$BUILD/debug-kernel/src" \
			--out "$BUILD/dt-binding-check" --results "$res" || true
	else
		record fail "dt_binding_check: no debug kernel tree in $BUILD/debug-kernel/src"
	fi
fi

# --- arm64 ------------------------------------------------------------------
if [ "$ARM64" = 1 ]; then
	ak=$BUILD/arm64-kernel
	t0=$(date +%s)
	say "arm64 kernel: build or reuse $ak"
	"$here/build-debug-kernel.sh" --arch arm64 --out "$ak" --results "$res" || true
	say "arm64 kernel ready after $(( $(date +%s) - t0 ))s"
	if [ -f "$ak/stamp" ]; then
		rel=$(cat "$ak/release")
		kmoddir=$ak/modules/lib/modules/$rel
		harness arm64 --arch arm64 --name arm64 --kernel "$ak/Image" \
			--kmoddir "$kmoddir" \
			--modsrc "$kmoddir/kernel/drivers/accel/tapu" \
			--time-limit "$ARM64_TIME_LIMIT"
	fi
fi

# --- the kernel patch series -------------------------------------------------
if [ "$SERIES" = 1 ]; then
	t0=$(date +%s)
	say "kernel series: write it, apply it to linux-source-6.12, build each patch"
	if /usr/bin/python3 "$here/mkseries.py" --out "$BUILD/series" > "$BUILD/series.log" 2>&1; then
		# Its failures are recorded lines; one that is not fails here.
		"$here/check-series.sh" --series "$BUILD/series/patches" \
			--out "$BUILD/series-check" --results "$res" || true
	else
		sed 's/^/# series: /' "$BUILD/series.log" >> "$res.details"
		record fail "series: mkseries.py writes the kernel patch series"
	fi
	say "kernel series checked after $(( $(date +%s) - t0 ))s"
fi

say "all runs finished in $(( $(date +%s) - start ))s"
"$here/report.sh" "$res" "$res.details"
