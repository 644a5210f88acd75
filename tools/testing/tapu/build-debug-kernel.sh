#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the TAPU debug kernel (TESTING.md section 2, TAPU.md section 7):
#
#  1. a build tree: a hard-linked copy of linux-source-6.12 with the
#     core fixes of tools/testing/tapu/kernel-patches/ applied and the TAPU
#     tree dropped in and hooked into drivers/accel/{Kconfig,Makefile};
#  2. a small x86_64 kernel (tinyconfig + tools/testing/tapu/debug.config:
#     KASAN, lockdep, kmemleak, fault injection, KUnit, DRM=y, TAPU=m),
#     bzImage + modules, modules installed into a staging directory;
#  3. a compile-only check that TAPU builds built-in (core and sim =y).
#
# With --arch arm64 it cross-compiles (aarch64-linux-gnu-gcc) a small arm64
# kernel instead: tinyconfig + tools/testing/tapu/arm64.config (PL011
# console, DRM_ACCEL, rpmsg, remoteproc, lockdep, KUnit, TAPU core, sim, MT8183
# backend and the APU's remote processor driver =m) for qemu-system-aarch64
# -M virt, with the APU model (tools/testing/tapu/dsp-model) and the
# firmware image it boots; Image instead of bzImage, default output
# build/arm64-kernel/, and no built-in check.
#
# The result is reused while its inputs (config fragment, kernel patches,
# TAPU sources, this script, linux-source version, compiler) are unchanged.
#
# Output (default build/debug-kernel/): bzImage (arm64: Image),
# modules/lib/modules/<rel>, release. With --results FILE, one
# "status<TAB>description" line per check is appended to FILE (the format of
# run-qemu.sh --results).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)
PATCHES=$here/kernel-patches

KSRC=${KSRC:-/usr/src/linux-source-6.12}
OUT=${TAPU_DEBUG_KERNEL_OUT:-}
JOBS=${JOBS:-$(nproc)}
ARCH=x86_64
RESULTS=
BUILTIN=1
FORCE=0

usage() {
	cat <<EOF
usage: $0 [options]
  --arch ARCH      x86_64 (default: the debug kernel) or arm64
  --out DIR        output directory (default build/debug-kernel,
                   build/arm64-kernel with --arch arm64)
  --results FILE   append one "status<TAB>description" line per check
  --no-builtin     skip the built-in (=y) compile check
  --force          rebuild even when the inputs are unchanged
  -j N             parallel jobs (default $JOBS)
Environment: KSRC (default /usr/src/linux-source-6.12), JOBS.
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--arch) ARCH=$2; shift ;;
	--out) OUT=$2; shift ;;
	--results) RESULTS=$2; shift ;;
	--no-builtin) BUILTIN=0 ;;
	--force) FORCE=1 ;;
	-j) JOBS=$2; shift ;;
	-j*) JOBS=${1#-j} ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

# Per architecture: fragment, cross compiler, image, default output.
case $ARCH in
x86_64)
	FRAG=$here/debug.config
	CROSS=
	IMAGE=bzImage
	IMAGE_PATH=arch/x86/boot/bzImage
	TAG=debug-kernel
	: "${OUT:=$top/build/debug-kernel}"
	;;
arm64)
	FRAG=$here/arm64.config
	CROSS=aarch64-linux-gnu-
	IMAGE=Image
	IMAGE_PATH=arch/arm64/boot/Image
	TAG=arm64-kernel
	BUILTIN=0
	: "${OUT:=$top/build/arm64-kernel}"
	;;
*) usage >&2; exit 2 ;;
esac

say() { echo "$TAG: $*" >&2; }
die() { say "error: $*"; exit 2; }
record() { [ -z "$RESULTS" ] || printf '%s\t%s\n' "$1" "$2" >> "$RESULTS"; }
now() { date +%s; }

[ -f "$KSRC/Makefile" ] || die "no kernel source in $KSRC (run tools/testing/tapu/setup.sh)"
command -v "${CROSS}gcc" > /dev/null || die "no ${CROSS}gcc (run tools/testing/tapu/setup.sh)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC=$OUT/src
OBJ=$OUT/obj
OBJ_Y=$OUT/obj-builtin
STAGE=$OUT/modules
KMAKE=(make -s -C "$SRC" ARCH="$ARCH" ${CROSS:+CROSS_COMPILE=$CROSS} "-j$JOBS")
# The long builds are not silent: build_log counts their CC lines.
KBUILD=(make -C "$SRC" ARCH="$ARCH" ${CROSS:+CROSS_COMPILE=$CROSS} "-j$JOBS")

# The TAPU files that go into the kernel tree: sources only, never the
# artifacts of an out-of-tree build lying next to them.
tapu_files() {
	(cd "$top" && {
		find drivers/accel/tapu -type f \( -name '*.[chS]' ! -name '*.mod.c' \
			-o -name 'Kconfig*' -o -name Makefile -o -name Kbuild \)
		# The remote processor driver; its Kconfig and Makefile entries
		# are spliced into the kernel's (splice_remoteproc).
		find drivers/remoteproc -type f -name '*.[ch]' ! -name '*.mod.c'
		find Documentation/accel/tapu -type f 2>/dev/null
		find Documentation/devicetree/bindings -type f -name '*.yaml' 2>/dev/null
		# The uAPI and the MT8183 IPC header (include/linux/rpmsg/).
		find include -type f -name '*.h'
	} | LC_ALL=C sort)
}

# arm64: the MT8183 APU model and the firmware image it boots.
model_files() {
	find tools/testing/tapu/dsp-model firmware/tapu-mt8183 -type f \
		\( -name '*.[chS]' -o -name Kbuild -o -name Makefile -o -name '*.ld' \) |
		LC_ALL=C sort
}

ksrc_version() {
	sed -n 's/^\(VERSION\|PATCHLEVEL\|SUBLEVEL\|EXTRAVERSION\) = *//p' \
		"$KSRC/Makefile" | tr '\n' ' '
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true
}

# Everything the result depends on, as one hash.
inputs_hash() {
	{
		echo "ksrc: $(ksrc_version)"
		echo "arch: $ARCH"
		echo "gcc: $("${CROSS}gcc" --version | head -n 1)"
		sha256sum "$FRAG" "${BASH_SOURCE[0]}" "$PATCHES"/*.patch
		(cd "$top" && tapu_files | xargs sha256sum)
		(cd "$top" && sha256sum drivers/remoteproc/Kconfig drivers/remoteproc/Makefile)
		[ "$ARCH" != arm64 ] || (cd "$top" && model_files | xargs sha256sum)
	} | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------------------
# Build tree: hard links cost no space and take seconds. Nothing in it is
# ever written in place (kbuild runs with O=, the two edited files are
# replaced, not modified), so /usr/src stays untouched.

make_tree() {
	local ver
	ver=$(ksrc_version)
	if [ ! -f "$SRC/.tapu-ksrc" ] || [ "$(cat "$SRC/.tapu-ksrc")" != "$ver" ]; then
		say "copying $KSRC to $SRC"
		rm -rf "$SRC" "$OBJ" "$OBJ_Y"
		cp -al "$KSRC" "$SRC" 2>/dev/null || { rm -rf "$SRC"; cp -a "$KSRC" "$SRC"; }
		echo "$ver" > "$SRC/.tapu-ksrc"
	fi

	apply_patches || return 1

	# Drop the TAPU tree in (again: removed files must go too).
	rm -rf "$SRC/drivers/accel/tapu" "$SRC/Documentation/accel/tapu"
	# Only the new files, never the hard links to /usr/src.
	(cd "$top" && find Documentation/devicetree/bindings include -type f) 2>/dev/null |
		while read -r f; do rm -f "$SRC/$f"; done
	tapu_files | while read -r f; do
		mkdir -p "$SRC/$(dirname "$f")"
		cp "$top/$f" "$SRC/$f"
	done

	# Hook it in, idempotently; new files replace the hard links.
	hook "$SRC/drivers/accel/Kconfig" 'source "drivers/accel/tapu/Kconfig"'
	hook "$SRC/drivers/accel/Makefile" 'obj-$(CONFIG_DRM_ACCEL_TAPU)	+= tapu/'
	splice_remoteproc
}

# This tree's entries of drivers/remoteproc/{Kconfig,Makefile} go before
# MTK_SCP's, into fresh copies of the kernel's files.
splice_remoteproc() {
	local d=drivers/remoteproc
	rm -f "$SRC/$d/Kconfig" "$SRC/$d/Makefile"
	awk -v entry="$top/$d/Kconfig" '
		/^config MTK_SCP$/ {
			while ((getline l < entry) > 0) {
				if (l ~ /^config /) on = 1
				if (on) print l
			}
			print ""
		}
		{ print }' "$KSRC/$d/Kconfig" > "$SRC/$d/Kconfig" || return 1
	awk -v frag="$top/$d/Makefile" '
		/^obj-\$\(CONFIG_MTK_SCP\)/ {
			while ((getline l < frag) > 0) if (l ~ /^obj-/) print l
		}
		{ print }' "$KSRC/$d/Makefile" > "$SRC/$d/Makefile" || return 1
	grep -q '^config MTK_APU$' "$SRC/$d/Kconfig" &&
		grep -q 'CONFIG_MTK_APU)' "$SRC/$d/Makefile"
}

# The core fixes (DRM, which the suite tests, and the M4U): the files they touch are copied from
# $KSRC again (never patched through a hard link), then patched.
apply_patches() {
	local p f
	for p in "$PATCHES"/*.patch; do
		sed -n 's|^+++ b/||p' "$p"
	done | sort -u | while read -r f; do
		rm -f "$SRC/$f"
		cp "$KSRC/$f" "$SRC/$f" || return 1
	done
	for p in "$PATCHES"/*.patch; do
		say "applying ${p##*/}"
		patch -s -p1 -d "$SRC" --no-backup-if-mismatch < "$p" || return 1
	done
}

hook() {	# hook FILE LINE: add LINE to FILE unless it is there
	local f=$1 line=$2
	grep -qxF "$line" "$f" && return 0
	# In the Kconfig, inside the "if DRM_ACCEL" block: before its endif.
	if [ "${f##*/}" = Kconfig ] && [ "$(tail -n 1 "$f")" = endif ]; then
		{ sed '$d' "$f"; echo "$line"; echo; echo endif; } > "$f.tapu"
	else
		{ cat "$f"; echo "$line"; } > "$f.tapu"
	fi
	mv "$f.tapu" "$f"
}

# ---------------------------------------------------------------------------
# Configuration: tinyconfig, then the fragment(s), then olddefconfig; fail
# when a requested symbol did not survive (unmet dependency).

configure() {	# configure OBJDIR FRAGMENT...
	local obj=$1 f sym want got bad=0
	shift
	mkdir -p "$obj"
	"${KMAKE[@]}" O="$obj" tinyconfig > /dev/null || return 1
	(cd "$SRC" && ARCH=$ARCH scripts/kconfig/merge_config.sh -m -O "$obj" \
		"$obj/.config" "$@" > "$obj/merge_config.log") || return 1
	"${KMAKE[@]}" O="$obj" olddefconfig > /dev/null || return 1
	for f in "$@"; do
		while IFS= read -r line; do
			case $line in
			CONFIG_*=*) sym=${line%%=*}; want=$line ;;
			'# CONFIG_'*' is not set') sym=${line#\# }; sym=${sym%% *}; want=$line ;;
			*) continue ;;
			esac
			got=$(grep -E "^($sym=|# $sym is not set)" "$obj/.config" || true)
			# An unset symbol may also be invisible (absent): fine.
			if [ "$got" != "$want" ] && ! { [ -z "$got" ] && [ "${want#\#}" != "$want" ]; }; then
				say "config: requested '$want', got '${got:-nothing}'"
				bad=1
			fi
		done < "$f"
	done
	[ "$bad" = 0 ] || { say "error: the configuration in $obj does not match $*"; return 1; }
}

# make output is long: keep it in a log and show a line now and then.
build_log() {	# build_log LOG CMD...
	local log=$1 start rc
	shift
	start=$(now)
	set +e
	"$@" 2>&1 | tee "$log" | awk -v t0="$start" -v tag="$TAG" '
		BEGIN { last = t0 }
		/^ *(CC|AS|LD|AR)( \[M\])? / { n++ }
		{ if (systime() - last >= 30) { last = systime()
			printf "%s:   ... %d objects, %ds\n", tag, n, systime() - t0 > "/dev/stderr"; fflush("/dev/stderr") } }'
	rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" != 0 ]; then
		grep -E 'error|Error' "$log" | head -n 20 >&2 || true
		say "build failed (rc=$rc, $(( $(now) - start ))s), log: $log"
	fi
	return "$rc"
}

build_debug() {
	local frags=("$FRAG") t0 rel
	# The KUnit module exists once drivers/accel/tapu/tests/ does.
	if [ -f "$top/drivers/accel/tapu/tests/Makefile" ]; then
		echo 'CONFIG_DRM_ACCEL_TAPU_KUNIT_TEST=m' > "$OUT/kunit.config"
		frags+=("$OUT/kunit.config")
	else
		say "no drivers/accel/tapu/tests/Makefile: building without tapu_kunit"
	fi
	# Called in an "if": set -e is off here, hence every "|| return".
	say "configuring (tinyconfig + ${frags[*]##*/})"
	configure "$OBJ" "${frags[@]}" || return 1

	t0=$(now)
	say "building $IMAGE and modules (-j$JOBS), log in $OBJ/build.log"
	build_log "$OBJ/build.log" "${KBUILD[@]}" O="$OBJ" "$IMAGE" modules || return 1
	say "built in $(( $(now) - t0 ))s"

	rel=$("${KMAKE[@]}" O="$OBJ" kernelrelease) || return 1
	rm -rf "$STAGE"
	"${KMAKE[@]}" O="$OBJ" INSTALL_MOD_PATH="$STAGE" modules_install > /dev/null || return 1
	# run-qemu.sh checks symbols against the kernel's Module.symvers.
	rm -f "$STAGE/lib/modules/$rel/build"
	ln -s "$OBJ" "$STAGE/lib/modules/$rel/build" || return 1
	cp "$OBJ/$IMAGE_PATH" "$OUT/$IMAGE" || return 1
	if [ "$ARCH" = arm64 ]; then
		build_dsp_model "$rel" || return 1
	fi
	echo "$rel" > "$OUT/release"
}

# The MT8183 APU model (tools/testing/tapu/dsp-model) as an external module
# of this kernel, installed with its modules, and the firmware image it
# boots, for the guest's /lib/firmware.
build_dsp_model() {
	local rel=$1 d=$OUT/dsp-model f
	rm -rf "$d"
	mkdir -p "$d" "$STAGE/lib/modules/$rel/extra" "$OUT/firmware/mediatek/mt8183"
	for f in tools/testing/tapu/dsp-model/Kbuild tools/testing/tapu/dsp-model/tapu_dsp_main.c \
		 firmware/tapu-mt8183/tapu_fw.c firmware/tapu-mt8183/tapu_fw_rpmsg.c \
		 drivers/accel/tapu/tapu_isa.c drivers/accel/tapu/tapu_isa_exec.c; do
		ln -s "$top/$f" "$d/" || return 1
	done
	say "building the APU model (M=$d)"
	build_log "$d/build.log" "${KBUILD[@]}" O="$OBJ" M="$d" \
		TAPU_FW="$top/firmware/tapu-mt8183" W=1 C=1 modules || return 1
	if grep -E 'warning:' "$d/build.log" >&2; then return 1; fi
	cp "$d/tapu_dsp_model.ko" "$STAGE/lib/modules/$rel/extra/" || return 1
	make -s -C "$top/firmware/tapu-mt8183" O="$OUT/firmware-build" apu || return 1
	cp "$OUT/firmware-build/apu.elf" "$OUT/firmware/mediatek/mt8183/apu.elf"
}

# TAPU.md section 7: the driver also builds built-in. Compile-only (the
# objects of drivers/accel/tapu/ with =y), in its own small tree.
builtin_check() {
	local t0 y="$OUT/builtin.config"
	t0=$(now)
	{
		echo CONFIG_64BIT=y
		echo CONFIG_DRM=y
		echo CONFIG_DRM_ACCEL=y
		echo CONFIG_DRM_ACCEL_TAPU=y
		echo CONFIG_DRM_ACCEL_TAPU_SIM=y
		if [ -f "$top/drivers/accel/tapu/tests/Makefile" ]; then
			echo CONFIG_KUNIT=y
			echo CONFIG_DRM_ACCEL_TAPU_KUNIT_TEST=y
		fi
	} > "$y"
	say "built-in check: configuring $OBJ_Y"
	configure "$OBJ_Y" "$y" || return 1
	say "built-in check: make prepare and drivers/accel/tapu/ (=y)"
	build_log "$OBJ_Y/build.log" "${KBUILD[@]}" O="$OBJ_Y" prepare || return 1
	# Always recompile the TAPU objects so their warnings are seen.
	rm -rf "$OBJ_Y/drivers/accel/tapu"
	build_log "$OBJ_Y/build-tapu.log" "${KBUILD[@]}" O="$OBJ_Y" W=1 drivers/accel/tapu/ || return 1
	[ -f "$OBJ_Y/drivers/accel/tapu/built-in.a" ] || { say "no built-in.a"; return 1; }
	if grep -E 'warning:' "$OBJ_Y/build-tapu.log" >&2; then
		say "built-in build has warnings"
		return 1
	fi
	say "built-in check passed in $(( $(now) - t0 ))s"
}

# ---------------------------------------------------------------------------

# One build at a time per output directory: a second "make test" waits.
exec 9> "$OUT/.lock"
if ! flock -n 9; then
	say "another build of $OUT is running; waiting for it"
	flock 9
fi

hash=$(inputs_hash)
stamp=$OUT/stamp
if [ "$FORCE" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] &&
   [ -f "$OUT/$IMAGE" ] && [ -f "$OUT/release" ]; then
	say "inputs unchanged, reusing $OUT ($(cat "$OUT/release"))"
	record ok "$TAG: build $(cat "$OUT/release") (cached)"
	if [ "$BUILTIN" = 0 ]; then
		exit 0
	elif [ -f "$OUT/builtin.ok" ] && [ "$(cat "$OUT/builtin.ok")" = "$hash" ]; then
		record ok "in-tree: TAPU builds built-in (core and sim =y) (cached)"
		exit 0
	elif builtin_check; then
		echo "$hash" > "$OUT/builtin.ok"
		record ok "in-tree: TAPU builds built-in (core and sim =y)"
		exit 0
	fi
	record fail "in-tree: TAPU builds built-in (core and sim =y) (see $OBJ_Y/build-tapu.log)"
	exit 1
fi

start=$(now)
rm -f "$stamp" "$OUT/builtin.ok" "$OUT/$IMAGE" "$OUT/release"
make_tree
if build_debug; then
	record ok "$TAG: build $(cat "$OUT/release") ($(( $(now) - start ))s)"
else
	record fail "$TAG: build (see $OBJ/build.log)"
	exit 1
fi
rc=0
if [ "$BUILTIN" = 1 ]; then
	if builtin_check; then
		echo "$hash" > "$OUT/builtin.ok"
		record ok "in-tree: TAPU builds built-in (core and sim =y)"
	else
		record fail "in-tree: TAPU builds built-in (core and sim =y) (see $OBJ_Y/build-tapu.log)"
		rc=1
	fi
fi
echo "$hash" > "$stamp"
say "done in $(( $(now) - start ))s: $OUT/$IMAGE, $STAGE/lib/modules/$(cat "$OUT/release")"
exit "$rc"
