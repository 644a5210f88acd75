#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dt_binding_check of TAPU's device-tree bindings (the MT8183 APU's
# remoteproc/mediatek,mt8183-apu.yaml): schema, yamllint and the example,
# run with kbuild in a kernel tree that has them (build-debug-kernel.sh
# copies them into its src/), output in a directory of its own.
#
# Debian 12's dt-schema is 2022.08.2, 6.12 asks for 2023.9: the check runs
# with DT_SCHEMA_MIN_VERSION=2022.08. The old dt-schema rejects a few of
# the kernel's own bindings while building processed-schema.json; only
# messages about our files count. kbuild does not fail on binding errors,
# hence the grep of its output.
#
# The result is reused while the bindings, the tree and dt-schema are
# unchanged. With --results FILE one "status<TAB>description" line is
# appended to FILE and the diagnostics to FILE.details.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)

SRC=$top/build/debug-kernel/src
OUT=$top/build/dt-binding-check
RESULTS=

usage() {
	cat <<EOF
usage: $0 [--src DIR] [--out DIR] [--results FILE]
  --src DIR        kernel tree with TAPU's bindings (default $SRC)
  --out DIR        kbuild output directory (default $OUT)
  --results FILE   append one "status<TAB>description" line to FILE
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--src) SRC=$2; shift ;;
	--out) OUT=$2; shift ;;
	--results) RESULTS=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

say() { echo "dt-binding-check: $*" >&2; }

bdir=Documentation/devicetree/bindings
files=$(cd "$top/$bdir" && find . -name '*.yaml' | sed 's|^\./||' | LC_ALL=C sort)
desc="dt_binding_check: $(echo "$files" | tr '\n' ' ' | sed 's/ $//')"
desc="$desc (dt-schema $(dt-doc-validate --version 2>/dev/null || echo none))"

result() {	# result STATUS [DETAILS-FILE]
	if [ -n "$RESULTS" ]; then
		printf '%s\t%s\n' "$1" "$desc" >> "$RESULTS"
		[ -z "${2:-}" ] || sed 's/^/# dt_binding_check: /' "$2" >> "$RESULTS.details"
	elif [ -n "${2:-}" ]; then
		cat "$2" >&2
	fi
	[ "$1" = ok ]
}

mkdir -p "$OUT"
log=$OUT/check.log
if ! command -v dt-doc-validate > /dev/null; then
	echo "dt-doc-validate not found (dt-schema; run tools/testing/tapu/setup.sh)" > "$log"
	result fail "$log"
	exit 1
fi
# The tree must hold the same bindings as this one.
for f in $files; do
	if ! cmp -s "$top/$bdir/$f" "$SRC/$bdir/$f"; then
		echo "$SRC/$bdir/$f differs from $top/$bdir/$f (build-debug-kernel.sh copies it)" > "$log"
		result fail "$log"
		exit 1
	fi
done

hash=$({
	(cd "$top/$bdir" && sha256sum $files)
	cat "$SRC/.tapu-ksrc" 2>/dev/null || true
	dpkg-query -W -f='${Version}' dt-schema yamllint 2>/dev/null || true
	sha256sum "${BASH_SOURCE[0]}"
} | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$hash" ]; then
	say "bindings unchanged: passed before"
	desc="$desc (cached)"
	result ok
	exit 0
fi
rm -f "$OUT/stamp"

t0=$(date +%s)
say "make dt_binding_check in $SRC (O=$OUT), log in $log"
find "$OUT/$bdir" -name '*.example.dt*' -delete 2>/dev/null || true
rc=0
make -C "$SRC" O="$OUT" dt_binding_check \
	DT_SCHEMA_FILES="$(echo "$files" | tr '\n' ':' | sed 's/:$//')" \
	DT_SCHEMA_MIN_VERSION=2022.08 > "$log" 2>&1 || rc=$?
# Messages about our bindings or their examples, not kbuild's progress.
: > "$OUT/problems"
for f in $files; do
	grep -F "${f%.yaml}" "$log" | grep -vE '^ +(DTEX|DTC|DTC \[C\]) ' >> "$OUT/problems" || true
done
# Every example was built and checked.
for f in $files; do
	[ -f "$OUT/$bdir/${f%.yaml}.example.dtb" ] ||
		echo "no $bdir/${f%.yaml}.example.dtb" >> "$OUT/problems"
done
[ "$rc" = 0 ] || echo "make dt_binding_check failed (rc=$rc), see $log" >> "$OUT/problems"
say "done in $(( $(date +%s) - t0 ))s"
if [ -s "$OUT/problems" ]; then
	result fail "$OUT/problems"
	exit 1
fi
echo "$hash" > "$OUT/stamp"
result ok
