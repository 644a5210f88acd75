#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install every Debian package needed to build TAPU against Debian's 6.12
# kernel, boot it in QEMU and run its tests, and to build the debug kernel
# from linux-source-6.12 (build-debug-kernel.sh: gcc, make, bc, flex, bison,
# libelf-dev for objtool, libssl-dev, cpio, kmod for depmod, perl, python3,
# patch for the DRM core fixes it applies).
# Safe to run again.
#
# The arm64 run (build-debug-kernel.sh --arch arm64, run-qemu.sh --arch
# arm64) needs the cross compiler (with libc6-dev-arm64-cross for static
# selftests), qemu-system-aarch64 (-M virt -kernel Image: no firmware) and an
# arm64 busybox: busybox-static:arm64 cannot be installed next to the amd64
# one, so its binary is extracted to $ARM64_BUSYBOX. dt-schema (and yamllint)
# run dt_binding_check on the MT8183 APU binding.
#
# The newest 6.12 ABI available in the archive is resolved at install time:
# older ABIs disappear from the security suite over time.
set -euo pipefail

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# Every package is named here: setup installs without Recommends, so nothing
# may come in only as a recommendation (gcc's libc6-dev, the cross
# compiler's libc6-dev-arm64-cross, linux-source's build tools).
# gcc-12-multilib and libc6-dev-i386 (not gcc-multilib, which conflicts with
# the cross compilers) build the 32-bit uAPI layout check, g++ its C++98
# check. tapu-run needs protobuf-c, ONNX's onnx.proto and zlib; its tests
# the ONNX node test data and the Fashion-MNIST test set; the model zoo's
# generator python3-torch, python3-torchvision, python3-onnx and numpy; the
# MT8183 reference firmware gcc-xtensa-lx106 with picolibc, its replay
# qemu-system-misc (qemu-system-xtensa); the arm64 guest's device tree with
# the APU node device-tree-compiler; the kernel series check git (am),
# python3-ply (checkpatch's SPDX check) and python3-sphinx with graphviz
# (make htmldocs, warning-free).
PKGS="make mawk gcc g++ libc6-dev linux-libc-dev bc flex bison libelf-dev libssl-dev
      dwarves sparse kmod cpio gzip xz-utils zstd perl python3 patch
      linux-source-6.12 qemu-system-x86 busybox-static libdrm-dev pkg-config
      gcc-12-multilib libc6-dev-i386
      protobuf-c-compiler libprotobuf-c-dev libonnx-dev zlib1g-dev
      libonnx-testdata dataset-fashion-mnist
      python3-torch python3-torchvision python3-onnx python3-numpy
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross
      qemu-system-arm dt-schema yamllint
      gcc-xtensa-lx106 picolibc-xtensa-lx106-elf qemu-system-misc
      device-tree-compiler git python3-ply python3-sphinx graphviz"

abi_of() {
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		sed -n 's/^linux-headers-\(6\.12\.[0-9]*+deb12\)-amd64 .*/\1/p' |
		sort -t. -k3,3n | tail -n 1
}

ARM64_BUSYBOX=/usr/local/lib/tapu/arm64/busybox

stamp=/var/lib/tapu-setup.done
abi=$(abi_of 2>/dev/null || true)
# The arm64 package lists (for busybox-static:arm64 only).
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	$SUDO dpkg --add-architecture arm64
	$SUDO rm -f "$stamp"
fi
if [ -z "$abi" ] || [ ! -f "$stamp" ]; then
	$SUDO apt-get update -qq
	abi=$(abi_of)
fi
[ -n "$abi" ] || { echo "setup: no linux-headers-6.12.*+deb12-amd64 in apt" >&2; exit 1; }

want="$PKGS linux-headers-$abi-amd64 linux-image-$abi-amd64-unsigned"
missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

# The arm64 busybox: "apt-get download" and extract, once.
if [ ! -x "$ARM64_BUSYBOX" ]; then
	echo "setup: fetching busybox-static:arm64 for $ARM64_BUSYBOX"
	dl=$(mktemp -d)
	# _apt must be able to write the download directory.
	chmod 777 "$dl"
	(cd "$dl" && apt-get download -qq busybox-static:arm64 2>/dev/null) ||
		{ $SUDO apt-get update -qq; (cd "$dl" && apt-get download -qq busybox-static:arm64); }
	dpkg-deb -x "$dl"/busybox-static_*_arm64.deb "$dl/x"
	$SUDO install -D -m 755 "$dl/x/bin/busybox" "$ARM64_BUSYBOX"
	rm -rf "$dl"
fi
$SUDO touch "$stamp"


# linux-source ships a tarball; unpack it once for checkpatch and in-tree builds.
src=/usr/src/linux-source-6.12
if [ ! -d "$src" ]; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -n 1)
	$SUDO tar -C /usr/src -xf "$tarball"
fi

# What the build and the tests use, checked by use rather than by package
# name: a missing tool, sysroot, header or data set fails here, named.
bad=
need() {	# need WHAT COMMAND...
	local what=$1
	shift
	"$@" > /dev/null 2>&1 || { echo "setup: missing: $what" >&2; bad=1; }
}
for t in make awk gcc g++ aarch64-linux-gnu-gcc bc flex bison pahole sparse depmod \
	 cpio gzip xz zstd perl python3 patch pkg-config protoc-c \
	 qemu-system-x86_64 qemu-system-aarch64 qemu-system-xtensa busybox \
	 dt-doc-validate dt-mk-schema dt-validate yamllint git sphinx-build; do
	need "command $t" command -v "$t"
done
kabi=$abi-amd64
need "linux-headers-$kabi" test -f "/usr/src/linux-headers-$kabi/Makefile"
need "linux-image-$kabi-unsigned" test -f "/boot/vmlinuz-$kabi"
need "the modules of $kabi" test -d "/lib/modules/$kabi/kernel/drivers/gpu"
need "linux-source-6.12 in $src" test -f "$src/scripts/checkpatch.pl"
need "kselftest_harness.h in $src" \
	test -f "$src/tools/testing/selftests/kselftest_harness.h"
need "arm64 busybox $ARM64_BUSYBOX" test -x "$ARM64_BUSYBOX"
need "ONNX node test data (libonnx-testdata)" \
	test -d /usr/share/libonnx-testdata/data/node/test_relu
need "Fashion-MNIST test set (dataset-fashion-mnist)" \
	test -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
need "onnx.proto (libonnx-dev)" test -f /usr/include/onnx/onnx.proto

# Each compiler with the headers and libraries its builds include: the
# kselftests (native, and static for arm64), the -m32 layout check,
# libtapu (libdrm), tapu-run (protobuf-c, zlib), kbuild's host tools.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
cat > "$probe/t.c" <<'EOF'
#include <asm/types.h>
#include <linux/types.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/ioctl.h>
int main(void) { return printf("%d\n", (int)sizeof(__u64)) < 0; }
EOF
cat > "$probe/lib.c" <<'EOF'
#include <xf86drm.h>
#include <protobuf-c/protobuf-c.h>
#include <zlib.h>
#include <gelf.h>
#include <openssl/evp.h>
int main(void) { return !drmAvailable() && !zlibVersion(); }
EOF
need "C toolchain (gcc, libc6-dev, linux-libc-dev)" \
	gcc -o "$probe/t" "$probe/t.c" -lpthread
need "32-bit C toolchain (gcc-12-multilib, libc6-dev-i386)" \
	gcc -m32 -idirafter /usr/include/x86_64-linux-gnu -o "$probe/t32" "$probe/t.c"
need "static arm64 C toolchain (libc6-dev-arm64-cross, linux-libc-dev-arm64-cross)" \
	aarch64-linux-gnu-gcc -static -o "$probe/ta" "$probe/t.c" -lpthread
need "Xtensa C toolchain (gcc-xtensa-lx106, picolibc-xtensa-lx106-elf)" \
	xtensa-lx106-elf-gcc -specs=/usr/lib/xtensa-lx106-elf/picolibc.specs \
	-ffreestanding -c -o "$probe/tx.o" -x c - <<< '#include <string.h>
int f(char *d, const char *s) { return strlen(strcpy(d, s)); }'
need "libraries (libdrm-dev, libprotobuf-c-dev, zlib1g-dev, libelf-dev, libssl-dev)" \
	gcc $(pkg-config --cflags libdrm 2>/dev/null) -o "$probe/lib" "$probe/lib.c" \
	$(pkg-config --libs libdrm 2>/dev/null) -lprotobuf-c -lz -lelf -lcrypto
if [ -n "$bad" ]; then
	echo "setup: this machine lacks what the build needs (see above)" >&2
	exit 1
fi
echo "$kabi"
