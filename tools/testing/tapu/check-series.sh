#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What a maintainer's tools do with TAPU's kernel series (mkseries.py,
# make series): git am every patch onto a clean copy of linux-source-6.12,
# run checkpatch --strict on each (the sign-off is the submitter's to add,
# hence --no-signoff), and after each patch compile drivers/accel/ with
# W=1 and sparse (C=1) four ways: x86_64 and arm64, TAPU as modules and
# built in. Then make htmldocs SPHINXDIRS=accel in the patched tree. Any
# warning fails the check.
#
# The builds compile the objects (as the built-in check of
# build-debug-kernel.sh does); linking vmlinux and the modules of the whole
# series is what the debug and arm64 kernels of make test do.
#
# With --results FILE, one "status<TAB>description" line per check is
# appended to FILE, the diagnostics to FILE.details.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)
KSRC=/usr/src/linux-source-6.12
SERIES=$top/build/series/patches
OUT=$top/build/series-check
RESULTS=
JOBS=${JOBS:-$(nproc)}

usage() {
	cat <<EOF
usage: $0 [--ksrc DIR] [--series DIR] [--out DIR] [--results FILE]
  --ksrc DIR     clean kernel tree (default $KSRC)
  --series DIR   the patches, 0000-cover-letter.patch first (default $SERIES)
  --out DIR      work directory (default $OUT)
  --results FILE append "status<TAB>description" lines to FILE
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--ksrc) KSRC=$2; shift ;;
	--series) SERIES=$2; shift ;;
	--out) OUT=$2; shift ;;
	--results) RESULTS=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

say() { echo "check-series: $*" >&2; }
results=${RESULTS:-$OUT/results}
details=$results.details
mkdir -p "$OUT"
[ -n "$RESULTS" ] || : > "$results" > "$details"
failed=0
record() {
	printf '%s\t%s\n' "$1" "series: $2" >> "$results"
	[ "$1" = ok ] || failed=1
}
# A step that fails outside a check is a failure of its own, recorded.
finished=0
trap '[ "$finished" = 1 ] || record fail "check-series.sh stopped (line $LINENO, rc=$?) before its checks were done"' EXIT
# The lines of FILE, as diagnostics of the check they belong to.
detail() { sed "s|^|# series: $1: |" "$2" >> "$details"; }

mapfile -t patches < <(find "$SERIES" -name '[0-9][0-9][0-9][0-9]-*.patch' \
	! -name '0000-*' | sort)
if [ ${#patches[@]} -eq 0 ]; then
	record fail "no patches in $SERIES (make series)"
	exit 1
fi

# A clean tree: hard links to the source, except the files the series
# changes, which git am rewrites in place. Only those are tracked.
src=$OUT/src
rm -rf "$src"
cp -al "$KSRC" "$src" 2> /dev/null || { rm -rf "$src"; cp -a "$KSRC" "$src"; }
# (Files an earlier patch creates are modified too: not the tree's.)
modified=$(cat "${patches[@]}" | sed -n 's|^--- a/||p' | sort -u |
	while read -r f; do if [ -e "$KSRC/$f" ]; then echo "$f"; fi; done)
for f in $modified; do
	cp --remove-destination "$KSRC/$f" "$src/$f"
done
git -C "$src" init -q
git -C "$src" -c user.name=check -c user.email=check@invalid add -f -- $modified
git -C "$src" -c user.name=check -c user.email=check@invalid -c commit.gpgsign=false \
	commit -q --no-verify -m "linux-source-6.12: the files the series changes"

# The configurations: tinyconfig, what TAPU depends on, and TAPU as
# modules (m) or built in (y).
KMAKE_x86_64=(make -C "$src" ARCH=x86_64 -j"$JOBS")
KMAKE_arm64=(make -C "$src" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j"$JOBS")
configure() {	# configure ARCH m|y OBJDIR
	local arch=$1 how=$2 obj=$3 kmake
	eval "kmake=(\"\${KMAKE_$arch[@]}\")"
	mkdir -p "$obj"
	{
		[ "$arch" = x86_64 ] && echo CONFIG_64BIT=y
		cat <<EOF
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_DEBUG_FS=y
CONFIG_DRM=y
CONFIG_DRM_ACCEL=y
CONFIG_VIRTIO_MENU=y
CONFIG_RPMSG_VIRTIO=y
CONFIG_REMOTEPROC=y
CONFIG_KUNIT=y
CONFIG_PM=y
CONFIG_COMPILE_TEST=y
# CONFIG_WERROR is not set
EOF
		for s in DRM_ACCEL_TAPU DRM_ACCEL_TAPU_SIM DRM_ACCEL_TAPU_MT8183 \
			 DRM_ACCEL_TAPU_KUNIT_TEST MTK_APU; do
			echo "CONFIG_$s=$how"
		done
	} > "$obj/series.config"
	"${kmake[@]}" O="$obj" tinyconfig > "$obj/config.log" 2>&1 &&
	(cd "$src" && ARCH=$arch scripts/kconfig/merge_config.sh -m -O "$obj" \
		"$obj/.config" "$obj/series.config" >> "$obj/config.log" 2>&1) &&
	"${kmake[@]}" O="$obj" olddefconfig >> "$obj/config.log" 2>&1 &&
	# With the flags of the checks: what prepare builds (the arm64 vDSO)
	# is not rebuilt, with its own sparse warnings, by the first patch.
	"${kmake[@]}" O="$obj" W=1 C=1 prepare >> "$obj/config.log" 2>&1
}
# After a patch: its new symbols into the configuration, then compile.
# Every symbol of the driver's Kconfig (and the APU's remote processor
# driver, once there) must be as asked, and every C file of the drivers
# compiled: else the build proves nothing.
build() {	# build ARCH m|y OBJDIR LOG
	local arch=$1 how=$2 obj=$3 log=$4 kmake sym f targets
	eval "kmake=(\"\${KMAKE_$arch[@]}\")"
	(cd "$src" && ARCH=$arch scripts/kconfig/merge_config.sh -m -O "$obj" \
		"$obj/.config" "$obj/series.config" > /dev/null 2>&1) || return 1
	"${kmake[@]}" O="$obj" olddefconfig > "$log" 2>&1 || return 1
	# Of drivers/remoteproc/, the APU's driver only: the rest is not ours.
	targets=(drivers/accel/)
	[ -f "$src/drivers/remoteproc/mtk_apu.c" ] && targets+=(drivers/remoteproc/mtk_apu.o)
	"${kmake[@]}" O="$obj" W=1 C=1 "${targets[@]}" >> "$log" 2>&1 || return 1
	if grep -qiE 'warning|error:' "$log"; then return 1; fi
	if [ -f "$src/drivers/remoteproc/mtk_apu.c" ]; then
		grep -qx "CONFIG_MTK_APU=$how" "$obj/.config" ||
			{ echo "CONFIG_MTK_APU is not $how" >> "$log"; return 1; }
		[ -f "$obj/drivers/remoteproc/mtk_apu.o" ] ||
			{ echo "drivers/remoteproc/mtk_apu.c was not compiled" >> "$log"; return 1; }
	fi
	[ -f "$src/drivers/accel/tapu/Kconfig" ] || return 0
	for sym in $(sed -n 's/^config //p' "$src/drivers/accel/tapu/Kconfig"); do
		if ! grep -qx "CONFIG_$sym=$how" "$obj/.config"; then
			echo "CONFIG_$sym is not $how" >> "$log"
			return 1
		fi
	done
	for f in "$src"/drivers/accel/tapu/*.c "$src"/drivers/accel/tapu/tests/*.c; do
		[ -e "$f" ] || continue
		f=${f#"$src"/}
		if [ ! -f "$obj/${f%.c}.o" ]; then
			echo "$f was not compiled" >> "$log"
			return 1
		fi
	done
}

variants="x86_64:m x86_64:y arm64:m arm64:y"
for v in $variants; do
	arch=${v%:*} how=${v#*:}
	say "configuring $arch, TAPU=$how"
	if ! configure "$arch" "$how" "$OUT/obj-$arch-$how"; then
		tail -n 20 "$OUT/obj-$arch-$how/config.log" > "$OUT/tail"
		detail "config $arch=$how" "$OUT/tail"
		record fail "$arch, TAPU=$how: the base configuration builds"
		exit 1
	fi
done

n=0
applied=1
for p in "${patches[@]}"; do
	n=$((n + 1))
	name=$(basename "$p" .patch)
	subject=$(awk '/^Subject: /{s=$0; getline; while (/^ /) {s=s $0; getline}; print s; exit}' "$p" |
		sed 's/^Subject: \[PATCH [0-9]*\/[0-9]*\] //')
	say "patch $n: $subject"
	if ! git -C "$src" -c user.name=check -c user.email=check@invalid \
		am -q "$p" > "$OUT/am.log" 2>&1; then
		detail "$name" "$OUT/am.log"
		record fail "$n \"$subject\": git am onto linux-source-6.12"
		applied=0
		break
	fi
	record ok "$n \"$subject\": git am onto linux-source-6.12"
	"$src/scripts/checkpatch.pl" --strict --no-signoff --show-types \
		--root="$src" "$p" > "$OUT/$name.checkpatch" 2>&1 || true
	if ! grep -qx 'total: 0 errors, 0 warnings, 0 checks, [0-9]* lines checked' \
		"$OUT/$name.checkpatch"; then
		detail "$name checkpatch" "$OUT/$name.checkpatch"
		record fail "$n: checkpatch --strict (but the sign-off) clean"
	else
		record ok "$n: checkpatch --strict (but the sign-off) clean"
	fi
	bad=
	for v in $variants; do
		arch=${v%:*} how=${v#*:}
		log=$OUT/$name.$arch-$how.log
		if ! build "$arch" "$how" "$OUT/obj-$arch-$how" "$log"; then
			grep -E 'warning:|error:|WARNING:' "$log" | head -n 20 > "$OUT/tail" ||
				tail -n 20 "$log" > "$OUT/tail"
			detail "$name $arch=$how" "$OUT/tail"
			bad="$bad $arch=$how"
		fi
	done
	if [ -n "$bad" ]; then
		record fail "$n: drivers/accel/ and drivers/remoteproc/ build with W=1 C=1, x86_64 and arm64, =m and =y (failed:$bad)"
	else
		record ok "$n: drivers/accel/ and drivers/remoteproc/ build with W=1 C=1, x86_64 and arm64, =m and =y"
	fi
done

# The documentation of the whole series: Sphinx and kernel-doc warnings.
if [ "$applied" = 1 ]; then
	say "make htmldocs SPHINXDIRS=accel"
	if make -C "$src" O="$OUT/htmldocs" SPHINXDIRS=accel htmldocs \
		> "$OUT/htmldocs.log" 2>&1 &&
	   ! grep -qiE 'warning|error' "$OUT/htmldocs.log"; then
		record ok "make htmldocs SPHINXDIRS=accel: no warning"
	else
		grep -iE 'warning|error' "$OUT/htmldocs.log" | head -n 30 > "$OUT/tail" ||
			tail -n 20 "$OUT/htmldocs.log" > "$OUT/tail"
		detail htmldocs "$OUT/tail"
		record fail "make htmldocs SPHINXDIRS=accel: no warning"
	fi
fi

finished=1
[ -n "$RESULTS" ] || { cat "$results"; cat "$details"; }
exit $failed
