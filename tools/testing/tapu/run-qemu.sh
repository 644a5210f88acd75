#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot Debian's 6.12 kernel in QEMU (TCG) with the TAPU modules and
# kselftests in a busybox initramfs, run every test, and print a TAP report
# that ends in "N passed, N failed[, N skipped]".
#
# Exits non-zero when a test fails, a test binary crashes or is missing, a
# module does not load, /dev/accel/accel0 does not appear, the guest does not
# finish within its time limit, the kernel log shows a warning, oops, BUG,
# KFENCE/KASAN, lockdep or kmemleak report, or the uAPI layout differs between
# 32- and 64-bit userspace. The serial console is kept in build/.
#
# Run mode (--cmd/--run-file) executes the given guest commands instead of
# the kselftests (still installed in /tests) and reports each as one test.
#
# With --kernel/--kmoddir/--modsrc it boots another kernel, e.g. the debug
# kernel of build-debug-kernel.sh (KASAN, lockdep, kmemleak, KUnit): there it
# also loads tapu_kunit when that module was built, reports each KUnit test
# case, and checks a kmemleak scan after the modules are unloaded.
#
# With --arch arm64 it boots the arm64 kernel of build-debug-kernel.sh
# --arch arm64 in qemu-system-aarch64 -M virt with an arm64 busybox and the
# cross-built static kselftests (make selftests-arm64); no host tools.
#
# On arm64, when the kernel has the MT8183 backend and the APU's remote
# processor driver (mtk_apu), and build-debug-kernel.sh built the APU model
# and the firmware image, tapu_mt8183_test runs on the board path: the
# guest's device tree (QEMU's, plus the APU node of board_dts below) has the
# APU; mtk_apu probes from it and boots the modelled cores with the image
# from /lib/firmware, and the test runs on the device the firmware's
# channels give.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)

ABI=${TAPU_ABI:-}
KERNEL=${TAPU_KERNEL:-}
KMODDIR=${TAPU_KMODDIR:-}
BUILD=${TAPU_BUILD:-$top/build}
KSRC=${KSRC:-/usr/src/linux-source-6.12}
KSFT_DIR=${KSFT_DIR:-$KSRC/tools/testing/selftests}
MODSRC=${TAPU_MODSRC:-$top/build/oot/tapu}
KSFT_SRC=${TAPU_KSFT_SRC:-$top/tools/testing/selftests/drivers/accel/tapu}
KSFT_OUT=${TAPU_KSFT_OUT:-$BUILD/selftests}
TOOLS_OUT=${TAPU_TOOLS_OUT:-$BUILD/tools}
# Whole guest run; the boot itself takes about 5 s under TCG.
TIME_LIMIT=${TAPU_TIME_LIMIT:-900}
# One kselftest binary; the kselftest harness also times out single tests.
TEST_TIMEOUT=${TAPU_TEST_TIMEOUT:-300}
JOB_TIMEOUT_MS=${TAPU_JOB_TIMEOUT_MS:-500}
NUM_CORES=${TAPU_NUM_CORES:-2}
CMDLINE_EXTRA=${TAPU_CMDLINE_EXTRA:-}
# Extended regex of kernel log lines known to be harmless.
LOG_ALLOW=${TAPU_LOG_ALLOW:-}
LOG=${TAPU_LOG:-}
# --name: a second kind of run (e.g. "debug") with its own work directory,
# console log and a prefix on every test description.
NAME=${TAPU_RUN_NAME:-}
PREFIX=
RESULTS_OUT=
VERBOSE=${V:-0}
MODE="test"
ARCH=x86_64
CMDS=()

usage() {
	cat <<EOF
usage: $0 [options]
  --abi ABI           Debian kernel ABI, e.g. 6.12.117+deb12-amd64
                      (default: newest installed linux-headers-6.12.*-amd64)
  --arch ARCH         x86_64 (default) or arm64 (qemu-system-aarch64 -M
                      virt, build/arm64-kernel, build/arm64/selftests)
  --kernel FILE       guest kernel (default /boot/vmlinuz-ABI)
  --kmoddir DIR       guest /lib/modules/<release> (default /lib/modules/ABI)
  --modsrc DIR        directory of tapu.ko, tapu_sim.ko and tests/*.ko
                      (default build/oot/tapu, the out-of-tree build)
  --name NAME         name of this run: build/qemu-NAME/, console log
                      build/qemu-NAME-console.log, "NAME: " before each test
  --prefix STR        put STR before each test description (default
                      "NAME: " with --name)
  --results FILE      append "status<TAB>description" lines to FILE and the
                      diagnostics to FILE.details instead of printing the
                      report (report.sh prints several runs as one)
  --only REGEX        test mode: run only the tests whose name matches
  --cmd CMD           run mode: run CMD in the guest (repeatable)
  --run-file FILE     run mode: run each line of FILE in the guest
  --time-limit SECS   guest time limit (default $TIME_LIMIT)
  --record DIR        test mode, x86_64: tapu_isa_test records its jobs
                      (TAPU_ISA_RECORD) and they are copied out to DIR
  --log FILE          console log (default build/qemu-console.log,
                      build/qemu-run.log in run mode)
  -v, --verbose       show the whole console instead of progress lines
Environment: TAPU_TEST_TIMEOUT, TAPU_FMNIST, TAPU_FMNIST_TIMEOUT,
  TAPU_JOB_TIMEOUT_MS, TAPU_NUM_CORES,
  TAPU_CMDLINE_EXTRA, TAPU_LOG_ALLOW, KSFT_DIR, KSRC.
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--abi) ABI=$2; shift ;;
	--arch) ARCH=$2; shift ;;
	--kernel) KERNEL=$2; shift ;;
	--kmoddir) KMODDIR=$2; shift ;;
	--modsrc) MODSRC=$2; shift ;;
	--name) NAME=$2; shift ;;
	--prefix) PREFIX=$2; shift ;;
	--results) RESULTS_OUT=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--cmd) MODE=run; CMDS+=("$2"); shift ;;
	--run-file)
		MODE=run
		while IFS= read -r line; do
			case $line in ''|'#'*) continue ;; esac
			CMDS+=("$line")
		done < "$2"
		shift ;;
	--time-limit) TIME_LIMIT=$2; shift ;;
	--record) RECORD=$2; shift ;;
	--log) LOG=$2; shift ;;
	-v|--verbose) VERBOSE=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

say() { echo "tapu-qemu: $*" >&2; }
die() { say "error: $*"; exit 2; }

# --- Architecture -----------------------------------------------------------
# x86_64: Debian's kernel (or the debug kernel) in qemu-system-x86_64.
# arm64: build/arm64-kernel (build-debug-kernel.sh --arch arm64) in
# qemu-system-aarch64 -M virt (TCG, no firmware: -kernel Image), the arm64
# busybox of setup.sh, cross-built static kselftests, no host tools.
BUSYBOX=/bin/busybox
QEMU=(qemu-system-x86_64)
CONSOLE=ttyS0
case $ARCH in
x86_64) ;;
arm64)
	BUSYBOX=${TAPU_ARM64_BUSYBOX:-/usr/local/lib/tapu/arm64/busybox}
	QEMU=(qemu-system-aarch64 -M virt -cpu cortex-a57)
	CONSOLE=ttyAMA0
	KSFT_OUT=${TAPU_KSFT_OUT:-$BUILD/arm64/selftests}
	TOOLS_OUT=${TAPU_TOOLS_OUT:-$BUILD/arm64/tools}
	a64=$BUILD/arm64-kernel
	[ -n "$KERNEL" ] || KERNEL=$a64/Image
	if [ -z "$KMODDIR" ] && [ -f "$a64/release" ]; then
		KMODDIR=$a64/modules/lib/modules/$(cat "$a64/release")
		[ -n "${TAPU_MODSRC:-}" ] || MODSRC=$KMODDIR/kernel/drivers/accel/tapu
	fi
	[ -n "$KMODDIR" ] || die "no arm64 kernel in $a64 (build-debug-kernel.sh --arch arm64)"
	ABI=none
	;;
*) die "unknown --arch $ARCH (x86_64 or arm64)" ;;
esac
[ -x "$BUSYBOX" ] || die "no busybox $BUSYBOX (run tools/testing/tapu/setup.sh)"

if [ -z "$ABI" ]; then
	ABI=$(find /usr/src -maxdepth 1 -name 'linux-headers-6.12.*-amd64' \
		-printf '%f\n' | sed 's/^linux-headers-//' | sort -V | tail -n 1)
fi
[ -n "$KERNEL" ] || KERNEL=/boot/vmlinuz-$ABI
[ -n "$KMODDIR" ] || KMODDIR=/lib/modules/$ABI
[ -r "$KERNEL" ] || die "no guest kernel $KERNEL (run tools/testing/tapu/setup.sh)"
[ -f "$KMODDIR/modules.dep" ] || die "no module tree $KMODDIR"
rel=$(basename "$KMODDIR")
[ "$MODE" = test ] || [ ${#CMDS[@]} -gt 0 ] || die "run mode without commands"
[ -n "$LOG" ] || LOG=$BUILD/qemu${NAME:+-$NAME}-$([ "$MODE" = test ] && echo console || echo run).log

mkdir -p "$BUILD"
# Run mode has its own directory: a demo may run while the tests do.
work=$BUILD/qemu${NAME:+-$NAME}$([ "$MODE" = test ] || echo -run)
# Two runs sharing a work directory would wipe each other's files.
exec 9> "$work.lock"
if ! flock -n 9; then
	say "another run uses $work; waiting for it"
	flock 9
fi
rm -rf "$work"
mkdir -p "$work"
results=$work/results		# one "status<TAB>description" per test
: > "$results"
details=$work/details		# diagnostics printed after the report
: > "$details"

record() { printf '%s\t%s\n' "$1" "$2" >> "$results"; }

is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

# ---------------------------------------------------------------------------
# uAPI layout: 32- and 64-bit userspace must see identical structs.

uapi_check() {
	local hdr=$top/include/uapi/drm/tapu_accel.h b out=$work/uapi
	local cflags
	# Without gcc-multilib, -m32 finds <asm/*.h> only in the amd64 multiarch
	# directory; its uAPI types are the same for i386.
	cflags="-Wall -Wextra -Werror -I$top/include/uapi $(pkg-config --cflags libdrm)"
	cflags="$cflags -idirafter /usr/include/x86_64-linux-gnu"
	mkdir -p "$out"
	for b in 32 64; do
		# shellcheck disable=SC2086 # cflags is a word list
		if ! gcc -m$b $cflags -o "$out/layout$b" "$here/uapi_layout.c" \
				> "$out/cc$b.log" 2>&1 ||
		   ! "$out/layout$b" > "$out/layout$b.txt" 2>&1; then
			cat "$out/cc$b.log" "$out/layout$b.txt" 2>/dev/null |
				sed 's/^/# uapi: /' >> "$details"
			return 1
		fi
	done
	# Every userspace can include it: C90 and C++98, pedantic (libdrm's
	# drm.h as a system header, whose own warnings are not ours).
	printf '#include <drm/tapu_accel.h>\n' > "$out/std.c"
	cp "$out/std.c" "$out/std.cc"
	if ! gcc -std=c90 -pedantic -Wall -Wextra -Werror -fsyntax-only \
			-I"$top/include/uapi" -isystem /usr/include/libdrm \
			"$out/std.c" > "$out/std.log" 2>&1 ||
	   ! g++ -std=c++98 -pedantic -Wall -Wextra -Werror -fsyntax-only \
			-I"$top/include/uapi" -isystem /usr/include/libdrm \
			"$out/std.cc" >> "$out/std.log" 2>&1; then
		sed 's/^/# uapi: /' "$out/std.log" >> "$details"
		return 1
	fi
	if ! diff -u "$out/layout32.txt" "$out/layout64.txt" > "$out/diff"; then
		sed 's/^/# uapi: /' "$out/diff" >> "$details"
		return 1
	fi
	# Every struct of the header must be listed in uapi_layout.c.
	sed -n 's/^struct \(drm_tapu_[a-z0-9_]*\) {.*/\1/p' "$hdr" | sort > "$out/hdr"
	sed -n 's/^struct \([a-z0-9_]*\) size .*/\1/p' "$out/layout64.txt" | sort > "$out/listed"
	if ! diff "$out/hdr" "$out/listed" > "$out/missing"; then
		sed -n 's/^< /# uapi: struct not listed in uapi_layout.c: /p' \
			"$out/missing" >> "$details"
		return 1
	fi
}

if [ "$MODE" = test ] && [ "$ARCH" = x86_64 ]; then
	say "checking uAPI layout (gcc -m32 vs -m64)"
	if uapi_check; then
		record ok "uapi: tapu_accel.h: C90 and C++98 pedantic clean, 32- and 64-bit layouts identical"
	else
		record fail "uapi: tapu_accel.h: C90 and C++98 pedantic clean, 32- and 64-bit layouts identical"
	fi
	# The operator table of the documentation is generated from the code.
	ops_doc=$top/tools/lib/tapu-onnx/onnx-operators.rst
	: > "$work/ops.diff"
	if "$TOOLS_OUT/lib/tapu-onnx/tapu-onnx-ops" > "$work/onnx-operators.rst" &&
	   diff -u "$ops_doc" "$work/onnx-operators.rst" > "$work/ops.diff"; then
		record ok "docs: onnx-operators.rst is what tapu-onnx-ops prints"
	else
		sed 's/^/# /' "$work/ops.diff" >> "$details" || true
		record fail "docs: onnx-operators.rst is what tapu-onnx-ops prints (make optable)"
	fi
	# The Python bindings, on the host's CPU provider (no device here).
	if TAPU_ONNX_LIBRARY=$TOOLS_OUT/lib/tapu-onnx/libtapu-onnx.so.0 \
	   LD_LIBRARY_PATH=$TOOLS_OUT/lib/tapu /usr/bin/python3 \
	   "$top/tools/lib/tapu-onnx/tests/python_test.py" > "$work/python.tap" 2>&1; then
		record ok "python: tapu_onnx.InferenceSession on the CPU, $(grep -c '^ok' "$work/python.tap") tests against onnx_ref.py and error paths"
	else
		grep -v '^ok' "$work/python.tap" | sed 's/^/# /' >> "$details" || true
		record fail "python: tapu_onnx.InferenceSession on the CPU (tools/lib/tapu-onnx/tests/python_test.py)"
	fi
fi

# ---------------------------------------------------------------------------
# Initramfs: busybox, the guest kernel's DRM modules and their dependencies,
# our modules in extra/, the selftests, the tools and their libraries.

root=$work/root
mods=$root/lib/modules/$rel

# tests/ holds the KUnit module (tapu_kunit.ko), built in-tree only.
ourmods=$(find "$MODSRC" -maxdepth 2 -name '*.ko' 2>/dev/null | sort)
for m in tapu tapu_sim; do
	[ -f "$MODSRC/$m.ko" ] || die "$MODSRC/$m.ko not built (make modules)"
done
kunit=
[ -f "$MODSRC/tests/tapu_kunit.ko" ] && kunit=tapu_kunit
ournames=" $(for m in $ourmods; do basename "$m" .ko; done | tr - _ | tr '\n' ' ')"
# The board path: arm64, the backend, the remote processor driver, the
# model, the image.
mt8183=
board_mods="$KMODDIR/kernel/drivers/remoteproc/mtk_apu.ko $KMODDIR/extra/tapu_dsp_model.ko"
board_fw=${a64:-}/firmware/mediatek/mt8183/apu.elf
case $ournames in
*" tapu_mt8183 "*)
	# shellcheck disable=SC2086 # list of paths
	if [ "$ARCH" = arm64 ] && [ -f "$board_fw" ] && ls $board_mods > /dev/null 2>&1; then
		mt8183=1
		ourmods="$ourmods $board_mods"
	fi ;;
esac

# The kselftest Makefile is the list of what must run.
tests=$(make -s --no-print-directory -C "$KSFT_SRC" KSFT_DIR="$KSFT_DIR" \
	OUTPUT="$KSFT_OUT" emit_tests | sed -n 's/^[^: ]*:\([^ ]*\)$/\1/p')
[ "$MODE" != test ] || [ -n "$tests" ] || die "no kselftests listed by $KSFT_SRC/Makefile"

say "building initramfs"
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,tests,usr/bin,usr/lib} "$mods/extra"

cp "$BUSYBOX" "$root/bin/busybox"
# The host's busybox lists the applets: the same Debian build for arm64.
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done

# Guest modules: everything under drivers/gpu/drm and drivers/dma-buf plus
# what our modules need, with the dependency closure from modules.dep (its
# lines already list every transitive dependency). depmod then lets the
# guest's modprobe resolve the load order.
ourdeps=$(for m in $ourmods; do modinfo -F depends "$m"; done | tr ',' '\n' |
	  sed '/^$/d' | tr - _ | sort -u | tr '\n' ' ')
# Our own modules go to extra/ only, also when the kernel was built with
# them in-tree.
awk -v want=" $ourdeps " -v ours="$ournames" '
	{
		path = $1; sub(/:$/, "", path)
		name = path; sub(/.*\//, "", name); sub(/\.ko.*/, "", name)
		gsub(/-/, "_", name)
		if (index(ours, " " name " "))
			next
		if (path ~ /^kernel\/drivers\/(gpu\/drm|dma-buf)\// ||
		    index(want, " " name " "))
			for (i = 1; i <= NF; i++) {
				p = $i; sub(/:$/, "", p)
				n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n)
				if (!index(ours, " " n " ")) print p
			}
	}' "$KMODDIR/modules.dep" | sort -u > "$work/kmods"
while read -r p; do
	dst=$mods/${p%.ko*}.ko
	mkdir -p "$(dirname "$dst")"
	case $p in
	*.ko.xz) xz -dc "$KMODDIR/$p" > "$dst" ;;
	*.ko.zst) zstd -qdc "$KMODDIR/$p" > "$dst" ;;
	*.ko.gz) gzip -dc "$KMODDIR/$p" > "$dst" ;;
	*) cp "$KMODDIR/$p" "$dst" ;;
	esac
done < "$work/kmods"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$KMODDIR/$f" ] && cp "$KMODDIR/$f" "$mods/"
done
# shellcheck disable=SC2086 # list of paths
cp $ourmods "$mods/extra/"
# With the kernel's Module.symvers, depmod also reports symbols our modules
# need but nothing exports (Debian's System.map is a stub).
symvers=$KMODDIR/build/Module.symvers
depmod_args=()
[ -f "$symvers" ] && depmod_args=(-e -E "$symvers")
depmod -b "$root" "${depmod_args[@]}" "$rel" 2>&1 | sed 's/^/tapu-qemu: /' >&2

# The kselftests go to /tests in run mode too, e.g. for
# --cmd '/tests/tapu_job_test -t close_busy_stress'.
for t in $tests; do
	if [ -x "$KSFT_OUT/$t" ]; then
		cp "$KSFT_OUT/$t" "$root/tests/"
	elif [ -x "$KSFT_SRC/$t" ]; then
		cp "$KSFT_SRC/$t" "$root/tests/"
	fi
done
# Helpers (TEST_GEN_PROGS_EXTENDED, data) built next to the tests.
find "$KSFT_OUT" -maxdepth 1 -type f -exec cp -n {} "$root/tests/" \; 2>/dev/null || true
# kselftest "settings" may raise the per-binary timeout.
if [ -f "$KSFT_SRC/settings" ]; then
	t=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' "$KSFT_SRC/settings")
	[ -n "$t" ] && [ "$t" -gt "$TEST_TIMEOUT" ] && TEST_TIMEOUT=$t
fi

# Userspace tools (tapu-demo and friends) go on the guest's PATH.
if [ -d "$TOOLS_OUT" ]; then
	while read -r f; do
		if is_elf "$f"; then
			case $f in
			*.so|*.so.*) cp "$f" "$root/usr/lib/" ;;
			*) cp "$f" "$root/usr/bin/" ;;
			esac
		fi
	done < <(find "$TOOLS_OUT" -type f \( -perm -u+x -o -name '*.so*' \) ! -name '*.o')
fi

# Userspace tests (libtapu, tapu-run) after the kselftests, and the data of
# tapu-run's checks and of the demo (userspace-tests.sh). TAPU_FMNIST=0
# leaves out the Fashion-MNIST run, which needs the longer
# TAPU_FMNIST_TIMEOUT, TAPU_ZOO=0 the model zoo.
utests=
[ "$ARCH" != x86_64 ] ||	# the tools are built for the host only
utests=$("$here/userspace-tests.sh" "$MODE" "$root" "$TOOLS_OUT" "${TAPU_FMNIST:-1}" \
	"${TAPU_ZOO:-1}") ||
	die "installing the userspace tests failed"
if [ "$MODE" = test ]; then
	tests=$(printf '%s\n%s\n' "$tests" "$utests")
	if [ -n "${ONLY:-}" ]; then
		tests=$(echo "$tests" | grep -E -- "$ONLY") || die "--only $ONLY: no test"
		# Its phase loads the MT8183 modules: without it, nothing to check.
		echo "$tests" | grep -qx tapu_mt8183_test || mt8183=
	fi
	case $utests in
	*tapu-run-fmnist*)
		[ "${TAPU_FMNIST_TIMEOUT:-600}" -gt "$TEST_TIMEOUT" ] &&
			TEST_TIMEOUT=${TAPU_FMNIST_TIMEOUT:-600} ;;
	esac
fi

# Shared libraries of every dynamic binary, at the path ldd resolves them
# to; libraries of our own tools come from the tools build.
copy_libs() {
	local f=$1 l lib src
	while read -r l; do
		case $l in
		*'=> not found'*)
			# One of ours: copied with what it needs in turn.
			lib=${l%% *}
			[ -e "$root/usr/lib/$lib" ] && continue
			src=$(find "$TOOLS_OUT" -name "$lib" -print -quit 2>/dev/null)
			[ -n "$src" ] || { say "error: $f needs $lib, not found"; return 1; }
			cp -L "$src" "$root/usr/lib/$lib"
			copy_libs "$src" || return 1
			continue ;;
		*'=> /'*) lib=${l#*=> }; lib=${lib%% (*} ;;
		/*) lib=${l%% (*} ;;
		*) continue ;;
		esac
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib" || return 1
	done < <(ldd "$f" 2>/dev/null || true)
}
while read -r f; do
	if is_elf "$f"; then
		copy_libs "$f" || exit 2
	fi
done < <(find "$root/tests" "$root/usr/bin" -type f)

if [ -n "$mt8183" ]; then
	mkdir -p "$root/lib/firmware/mediatek/mt8183"
	cp "$board_fw" "$root/lib/firmware/mediatek/mt8183/apu.elf"
fi

cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"
cat > "$root/etc/tapu.conf" <<EOF
TAPU_MODE=$MODE
TAPU_TESTS="$(echo "$tests" | tr '\n' ' ')"
TAPU_TEST_TIMEOUT=$TEST_TIMEOUT
TAPU_JOB_TIMEOUT_MS=$JOB_TIMEOUT_MS
TAPU_NUM_CORES=$NUM_CORES
TAPU_KUNIT=$kunit
TAPU_MT8183=$mt8183
TAPU_RECORD=${RECORD:+/dev/ttyS1}
EOF
if [ "$MODE" = run ]; then
	printf '%s\n' "${CMDS[@]}" > "$root/etc/tapu-cmds"
fi

# gen_init_cpio writes root-owned entries and /dev/console without needing
# root or mknod; the kernel opens /dev/console before devtmpfs is mounted.
gen=$BUILD/host/gen_init_cpio
if [ ! -x "$gen" ] || [ "$KSRC/usr/gen_init_cpio.c" -nt "$gen" ]; then
	mkdir -p "$BUILD/host"
	gcc -O2 -o "$gen" "$KSRC/usr/gen_init_cpio.c"
fi
{
	(cd "$root" && find . -mindepth 1 -printf '%y %P %m %l\n') |
	while read -r type path mode target; do
		case $type in
		d) echo "dir /$path $mode 0 0" ;;
		f) echo "file /$path $root/$path $mode 0 0" ;;
		l) echo "slink /$path $target 777 0 0" ;;
		esac
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
} > "$work/cpio_list"
# Uncompressed: unpacking gzip under TCG costs more than loading the bytes.
"$gen" "$work/cpio_list" > "$work/initramfs.cpio"
say "initramfs: $(du -h "$work/initramfs.cpio" | cut -f1), $(wc -l < "$work/kmods") Debian modules, $(echo "$ourmods" | wc -w) TAPU modules, $(echo "$tests" | wc -w) test binaries"

# ---------------------------------------------------------------------------
# Boot. oops=panic is deliberately not set: a report is printed, the run
# goes on and the log check fails it; panic=-1 with -no-reboot ends QEMU on
# a panic instead of hanging until the time limit.

# The board path's device tree: QEMU's for this machine, and the APU. Its
# registers and the firmware carveout are no-map reserved memory (the
# carveout at the firmware's link address, the APU_DA of
# firmware/tapu-mt8183/Makefile); its interrupts are SPIs that no device of
# the machine uses, edge-triggered (the model sets them pending); its
# clocks one fixed clock; no IOMMU.
board_dts() {
	cat <<'EOF'
/ {
	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;

		apu_fw_mem: apu-firmware@50000000 {
			reg = <0x0 0x50000000 0x0 0x400000>;
			no-map;
		};

		apu_rpmsg_mem: apu-rpmsg@50400000 {
			compatible = "shared-dma-pool";
			reg = <0x0 0x50400000 0x0 0x40000>;
			no-map;
		};

		apu-registers@51000000 {
			reg = <0x0 0x51000000 0x0 0x2000>;
			no-map;
		};
	};

	apu_clk: apu-clock {
		compatible = "fixed-clock";
		#clock-cells = <0>;
		clock-frequency = <750000000>;
	};

	apu@51000000 {
		compatible = "mediatek,mt8183-apu";
		reg = <0x0 0x51000000 0x0 0x1000>,
		      <0x0 0x51001000 0x0 0x1000>;
		interrupts = <0 112 1>, <0 113 1>;
		clocks = <&apu_clk>, <&apu_clk>, <&apu_clk>, <&apu_clk>,
			 <&apu_clk>, <&apu_clk>, <&apu_clk>, <&apu_clk>;
		clock-names = "conn", "ahb", "axi", "adl",
			      "core0-axi", "core0", "core1-axi", "core1";
		memory-region = <&apu_fw_mem>, <&apu_rpmsg_mem>;
		/* The model reads memory through the kernel's cached map. */
		dma-coherent;
	};
};
EOF
}
if [ -n "$mt8183" ]; then
	"${QEMU[@]}" -accel tcg -smp 2 -m 2G -machine dumpdtb="$work/virt.dtb" \
		> /dev/null 2>&1 || die "qemu could not dump the machine's device tree"
	{ dtc -q -I dtb -O dts "$work/virt.dtb" && board_dts; } > "$work/board.dts" &&
		dtc -q -I dts -O dtb -o "$work/board.dtb" "$work/board.dts" ||
		die "the board's device tree does not compile (dtc: tools/testing/tapu/setup.sh)"
	QEMU+=(-dtb "$work/board.dtb")
fi

cmdline="console=$CONSOLE panic=-1 kfence.sample_interval=100 slub_debug=FZPU $CMDLINE_EXTRA"
problems='WARNING:|BUG:|BUG [^ ]+ \((Not t|T)ainted|Oops|Call [Tt]race|RIP: |KFENCE:|KASAN:|UBSAN:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|lock held when returning|kmemleak: [0-9]+ new suspected|unreferenced object|general protection fault|refcount_t:|Kernel panic|kernel BUG at|list_(add|del) corruption|blocked for more than|rcu: INFO:|detected stalls?|soft lockup|hard LOCKUP'

# Progress: marker lines and kernel problems, or everything with -v.
progress() {
	if [ "$VERBOSE" = 1 ]; then
		cat
	else
		# ENVIRON, unlike -v, keeps the backslashes of the regex.
		PROBLEMS=$problems awk '
			/^TAPU-(BOOT|MODPROBE|DEVICE|RUN|UNLOAD|RESULT)/ ||
			/^TAPU-END/ || $0 ~ ENVIRON["PROBLEMS"] {
				print "  guest: " $0; fflush()
			}'
	fi
}

# Recordings leave the guest as a base64 tar on a second serial port.
if [ -n "${RECORD:-}" ]; then
	[ "$MODE" = test ] && [ "$ARCH" = x86_64 ] ||
		die "--record needs test mode on x86_64"
	rm -f "$work/recordings.b64"
	# A serial device of its own replaces -nographic's default ttyS0.
	QEMU+=(-serial mon:stdio -serial "file:$work/recordings.b64")
fi

say "booting QEMU (TCG, -smp 2, time limit ${TIME_LIMIT}s); console in $LOG"
start=$(date +%s)
set +e
timeout -k 10 "$TIME_LIMIT" "${QEMU[@]}" -accel tcg -smp 2 -m 2G \
	-nographic -no-reboot -nic none \
	-kernel "$KERNEL" -initrd "$work/initramfs.cpio" -append "$cmdline" \
	< /dev/null 2>&1 | tr -d '\r' | tee "$LOG" | progress
qemu_rc=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))
say "guest finished in ${elapsed}s (qemu rc=$qemu_rc)"

if [ -n "${RECORD:-}" ]; then
	mkdir -p "$RECORD"
	find "$RECORD" -maxdepth 1 -name '*.job' -delete
	if tr -d '\r' < "$work/recordings.b64" | base64 -d 2> /dev/null |
	   tar -x -C "$RECORD" 2> /dev/null; then
		say "recordings: $(find "$RECORD" -name '*.job' | wc -l) jobs in $RECORD"
	else
		say "recordings: none copied out of the guest"
	fi
fi

# ---------------------------------------------------------------------------
# Results of the test binaries (or commands). kselftest exits 0 on pass, 4
# (KSFT_SKIP) when everything skipped, 1 on failure; anything else, or an
# exit without a TAP line per planned test, means the binary broke.

printf '%s\n' "${CMDS[@]+"${CMDS[@]}"}" > "$work/cmds"
# The "kunit" block holds /sys/kernel/debug/kunit/*/results: KTAP, one
# suite per file, its test cases indented by four spaces (parameters of a
# parameterised case by eight: not counted separately).
awk -v mode="$MODE" -v tests="$(echo "$tests" | tr '\n' ' ')" -v ncmds="${#CMDS[@]}" -v cmdfile="$work/cmds" -v kunit="$kunit" '
	function rec(st, d) { printf "R\t%s\t%s\n", st, d }
	function diag(n, l) { printf "D\t%s\t%s\n", n, l }
	/^TAPU-BEGIN: / {
		cur = substr($0, 13); inblk = 1; plan = -1; nres = 0; nfail = 0
		ran[cur] = 1; next
	}
	inblk && cur == "kunit" && /^TAPU-END: / {
		rc = $0; sub(/.* rc=/, "", rc); rc += 0; inblk = 0
		if (rc == 1) rec("fail", "kunit: modprobe " kunit " failed")
		else if (rc == 3) rec("fail", "kunit: rmmod " kunit " failed")
		else if (rc != 0) rec("fail", "kunit: " kunit " exited with rc=" rc)
		if (nks == 0) rec("fail", "kunit: " kunit " reported no suite in /sys/kernel/debug/kunit")
		for (i = 1; i <= nks; i++)
			if (kplan[ks[i]] > kres[ks[i]])
				rec("fail", "kunit: " ks[i] ": " kplan[ks[i]] - kres[ks[i]] " of " kplan[ks[i]] " test cases did not report")
		if (rc != 0 || nfail || nks == 0) printf "F\t%s\n", cur
		next
	}
	inblk && cur == "kunit" {
		diag(cur, $0)
		if ($0 ~ /^    # Subtest: /) {
			suite = substr($0, 16); ks[++nks] = suite; kplan[suite] = 0; kres[suite] = 0
		} else if ($0 ~ /^    1\.\.[0-9]+/) {
			kplan[suite] = substr($0, 8) + 0
		} else if ($0 ~ /^    (not )?ok [0-9]+ /) {
			st = ($0 ~ /^    not /) ? "fail" : "ok"
			d = $0; sub(/^    (not )?ok [0-9]+ *(- *)?/, "", d)
			if (d ~ /# *[Ss][Kk][Ii][Pp]/ && st == "ok") st = "skip"
			kres[suite]++
			if (st == "fail") nfail++
			rec(st, "kunit: " suite ": " d)
		}
		next
	}
	inblk && /^TAPU-END: / {
		rc = $0; sub(/.* rc=/, "", rc); rc += 0; inblk = 0
		label = (mode == "run") ? cmd[cur] : cur
		if (mode == "run") {
			rec(rc == 0 ? "ok" : "fail", "run: " label (rc ? " (rc=" rc ")" : ""))
			printf "F\t%s\n", cur	# a demo: show every output
			next
		}
		if (rc == 127) {
			rec("fail", cur ": binary missing or not executable (rc=127)")
		} else if (rc >= 124) {
			rec("fail", cur ": terminated by signal or timeout (rc=" rc ")")
		} else if (rc != 0 && rc != 4 && nfail == 0) {
			rec("fail", cur ": exited with rc=" rc " without a failing test")
		}
		if (plan > nres)
			rec("fail", cur ": " plan - nres " of " plan " planned tests did not report")
		if (plan < 0 && nres == 0 && rc != 127)
			rec("fail", cur ": no TAP output")
		if (plan == 0 && nres == 0)
			rec("skip", cur ": no tests (1..0)")
		if (rc != 0 && rc != 4) printf "F\t%s\n", cur
		next
	}
	inblk {
		diag(cur, $0)
		if (mode == "run") next
		if ($0 ~ /^1\.\.[0-9]+/) { plan = substr($0, 4) + 0; next }
		if ($0 ~ /^(not )?ok [0-9]+/) {
			st = ($0 ~ /^not /) ? "fail" : "ok"
			d = $0; sub(/^(not )?ok [0-9]+ *(- *)?/, "", d)
			if (d ~ /# *[Ss][Kk][Ii][Pp]/ && st == "ok") st = "skip"
			nres++
			if (st == "fail") nfail++
			rec(st, cur ": " d)
		}
		next
	}
	BEGIN {
		if (mode == "run")
			for (i = 1; i <= ncmds; i++) { getline l < cmdfile; cmd["cmd" i] = l }
	}
	END {
		if (inblk) {
			rec("fail", (mode == "run" ? "run: " cmd[cur] : cur) ": did not finish (guest stopped or timed out)")
			printf "F\t%s\n", cur
		}
		if (mode == "run") {
			for (i = 1; i <= ncmds; i++)
				if (!(("cmd" i) in ran)) rec("fail", "run: " cmd["cmd" i] ": not run")
		} else {
			n = split(tests, t, " ")
			for (i = 1; i <= n; i++)
				if (!(t[i] in ran)) rec("fail", t[i] ": not run")
			if (kunit != "" && !("kunit" in ran))
				rec("fail", "kunit: " kunit " not run")
		}
	}' "$LOG" > "$work/parsed"

grep '^R' "$work/parsed" | cut -f2- >> "$results"
# The output of each failing binary (every command in run mode) goes below
# the report.
while IFS=$'\t' read -r _ name; do
	label=$name
	[ "$MODE" = run ] && [ "$name" != kunit ] && label="${CMDS[${name#cmd} - 1]}"
	echo "# ---- output of $label ----" >> "$details"
	awk -F'\t' -v n="$name" '$1 == "D" && $2 == n {
		sub(/^D\t[^\t]*\t/, ""); print "# " $0 }' \
		"$work/parsed" >> "$details"
done < <(grep '^F' "$work/parsed")

# ---------------------------------------------------------------------------
# Harness checks: each one is a test line of the report.

check() {	# check STATUS DESCRIPTION, STATUS 0 for a pass
	if [ "$1" = 0 ]; then record ok "harness: $2"; else record fail "harness: $2"; fi
}

finished=1
grep -q '^TAPU-RESULT: ' "$LOG" || finished=0
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	check 1 "guest finished within ${TIME_LIMIT}s (timed out)"
elif [ "$finished" = 0 ]; then
	check 1 "guest finished (no TAPU-RESULT line: crash or panic, qemu rc=$qemu_rc)"
else
	check 0 "guest finished within ${TIME_LIMIT}s (${elapsed}s)"
fi

check_loaded() {	# check_loaded MODULE...: guest-init's modprobe lines
	local m line
	for m in "$@"; do
		line=$(grep -m1 "^TAPU-MODPROBE: $m rc=" "$LOG" || true)
		case $line in
		*" rc=0"*) check 0 "module $m loaded" ;;
		'') check 1 "module $m loaded (not attempted)" ;;
		*) check 1 "module $m loaded (${line#TAPU-MODPROBE: })" ;;
		esac
	done
}
check_loaded tapu tapu_sim

if grep -q '^TAPU-DEVICE: /dev/accel/accel0 present' "$LOG"; then
	check 0 "/dev/accel/accel0 present"
else
	check 1 "/dev/accel/accel0 present"
fi

# The MT8183 board path (guest-init's phase around tapu_mt8183_test): the
# remote processor driver probed from the device tree and booted the
# model's cores, whose channels gave the device; everything unloaded again.
if [ -n "$mt8183" ] && [ "$MODE" = test ] &&
   ! grep -q '^TAPU-RESULT: setup-failed' "$LOG"; then
	check_loaded tapu_mt8183 tapu_dsp_model mtk_apu
	line=$(grep -m1 '^TAPU-DEVICE: mt8183 ' "$LOG" || true)
	case $line in
	*' present') check 0 "MT8183 device ${line#TAPU-DEVICE: mt8183 } on the APU's firmware" ;;
	*) check 1 "MT8183 device present once mtk_apu booted the APU (${line:-not attempted})" ;;
	esac
	line=$(grep -m1 '^TAPU-UNLOAD-MT8183: ' "$LOG" || true)
	if [ "$line" = "TAPU-UNLOAD-MT8183: rc=0" ]; then
		check 0 "modules mtk_apu, tapu_dsp_model and tapu_mt8183 unloaded after their test"
	else
		check 1 "modules mtk_apu, tapu_dsp_model and tapu_mt8183 unloaded after their test (${line:-not attempted})"
	fi
fi

# Why setup failed is in the kernel log (e.g. a bad parameter, a probe
# error); why the guest stopped is at the end of the console.
if grep -q '^TAPU-RESULT: setup-failed' "$LOG"; then
	echo "---- end of the kernel log (setup failed) ----" | sed 's/^/# /' >> "$details"
	sed -n '/^TAPU-DMESG-BEGIN/,/^TAPU-DMESG-END/p' "$LOG" | sed '1d;$d' |
		tail -n 25 | sed 's/^/# /' >> "$details"
elif [ "$finished" = 0 ]; then
	echo "---- end of the console ----" | sed 's/^/# /' >> "$details"
	tail -n 40 "$LOG" | sed 's/^/# /' >> "$details"
fi

line=$(grep -m1 '^TAPU-UNLOAD: ' "$LOG" || true)
if [ "$line" = "TAPU-UNLOAD: rc=0" ]; then
	check 0 "modules unloaded after the tests"
elif grep -q '^TAPU-RESULT: setup-failed' "$LOG"; then
	:
else
	check 1 "modules unloaded after the tests (${line:-not attempted})"
fi

line=$(grep -m1 '^TAPU-PARAM-CHECK: ' "$LOG" || true)
case $line in
'') ;;
*'rc=0') check 1 "module parameter job_timeout_ms=0 refused (it loaded)" ;;
*) check 0 "module parameter job_timeout_ms=0 refused" ;;
esac

# Debug kernel: guest-init scans for leaks after the modules are unloaded.
line=$(grep -m1 '^TAPU-KMEMLEAK: ' "$LOG" || true)
if [ -n "$line" ]; then
	n=${line#TAPU-KMEMLEAK: }
	if [ "$n" = 0 ]; then
		check 0 "kmemleak scan after unload: no leak"
	else
		check 1 "kmemleak scan after unload: $n unreferenced objects"
	fi
fi

# Kernel log: the dmesg dump at the end plus kernel lines of the console
# (the only copy when the guest died). Kernel lines carry a [ secs.usecs ]
# stamp; test output between TAPU-BEGIN/END is userspace and not scanned.
awk '
	/^TAPU-DMESG-BEGIN/ { d = 1; next }
	/^TAPU-DMESG-END/ { d = 0; next }
	/^TAPU-BEGIN: / { u = 1; next }
	/^TAPU-END: / { u = 0; next }
	d { print; next }
	!u && match($0, /\[ *[0-9]+\.[0-9]+\] /) { print substr($0, RSTART) }
' "$LOG" > "$work/klog"
grep -nE "$problems" "$work/klog" > "$work/kbad" || true
if [ -n "$LOG_ALLOW" ] && [ -s "$work/kbad" ]; then
	grep -vE "$LOG_ALLOW" "$work/kbad" > "$work/kbad.new" || true
	mv "$work/kbad.new" "$work/kbad"
fi
taint=$(sed -n 's/^TAPU-TAINT: \([0-9]*\)$/\1/p' "$LOG" | tail -n 1)
# B (bad page), D (oops), W (warning), L (soft lockup), M (machine check).
# O and E, out-of-tree and unsigned module, are expected.
bad_taint=$(( ${taint:-0} & ((1 << 4) | (1 << 5) | (1 << 7) | (1 << 9) | (1 << 14)) ))
if [ -s "$work/kbad" ] || [ "$bad_taint" != 0 ]; then
	check 1 "kernel log clean (taint=${taint:-?})"
	{
		echo "---- kernel log problems (first report, with context) ----"
		first=$(head -n 1 "$work/kbad" | cut -d: -f1)
		[ -n "$first" ] &&
			sed -n "$(( first > 5 ? first - 5 : 1 )),$(( first + 40 ))p" "$work/klog"
		echo "---- all matching lines ----"
		cut -d: -f2- "$work/kbad" | awk '!seen[$0]++' | head -n 50
	} | sed 's/^/# /' >> "$details"
else
	check 0 "kernel log clean (no warning, oops, BUG, KFENCE, lockdep or leak report)"
fi

# ---------------------------------------------------------------------------
# Report: here, or appended to --results for report.sh to print with other
# runs.

echo "# console log: $LOG" >> "$details"
[ -n "$PREFIX" ] || PREFIX=${NAME:+$NAME: }
awk -F'\t' -v p="$PREFIX" 'BEGIN { OFS = "\t" } { print $1, p $2 }' \
	"$results" > "$work/results.out"
if [ -n "$RESULTS_OUT" ]; then
	cat "$work/results.out" >> "$RESULTS_OUT"
	cat "$details" >> "$RESULTS_OUT.details"
	! grep -q '^fail' "$results"
else
	"$here/report.sh" "$work/results.out" "$details"
fi
