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
desc="dt_binding_check, one binding at a time, and a broken copy fails: $(echo "$files" | tr '\n' ' ' | sed 's/ $//')"
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
# One binding per run: dt-schema 2022.08 matches DT_SCHEMA_FILES as a
# substring and, given several, silently validates nothing.
check_one() {	# check_one BINDING LOG: make dt_binding_check on one file
	local f=$1 log=$2 rc=0
	find "$OUT/$bdir" -name '*.example.dt*' -delete 2>/dev/null || true
	make -C "$SRC" O="$OUT" dt_binding_check DT_SCHEMA_FILES="$f" \
		DT_SCHEMA_MIN_VERSION=2022.08 > "$log" 2>&1 || rc=$?
	# Messages about the binding or its example, not kbuild's progress.
	grep -F "${f%.yaml}" "$log" | grep -vE '^ +(DTEX|DTC|DTC \[C\]) ' || true
	[ -f "$OUT/$bdir/${f%.yaml}.example.dtb" ] ||
		echo "no $bdir/${f%.yaml}.example.dtb"
	[ "$rc" = 0 ] || echo "make dt_binding_check failed (rc=$rc), see $log"
}
: > "$OUT/problems"
for f in $files; do
	say "make dt_binding_check DT_SCHEMA_FILES=$f in $SRC (O=$OUT)"
	check_one "$f" "$OUT/check-${f//\//_}.log" >> "$OUT/problems"
done
# The control: a copy whose example uses a property the schema does not
# have must fail, or the check proves nothing.
f=${files%%$'\n'*}
broken=${f%.yaml}-broken-copy.yaml
sed -e "s|${f##*/}#|${broken##*/}#|" \
    -e '0,/^ *compatible = /s/^\( *\)\(compatible = \)/\1not-in-the-schema;\n\1\2/' \
    "$SRC/$bdir/$f" > "$SRC/$bdir/$broken"
# It must fail for that property: its example built, the property named.
check_one "$broken" "$OUT/check-broken-copy.log" > "$OUT/broken-copy.problems"
if [ ! -f "$OUT/$bdir/${broken%.yaml}.example.dtb" ] ||
   ! grep -q "not-in-the-schema" "$OUT/broken-copy.problems"; then
	echo "a broken copy of $f ($bdir/$broken: a property its schema does not allow in its example) was not rejected for it" >> "$OUT/problems"
fi
rm -f "$SRC/$bdir/$broken"
say "done in $(( $(date +%s) - t0 ))s"
if [ -s "$OUT/problems" ]; then
	result fail "$OUT/problems"
	exit 1
fi
echo "$hash" > "$OUT/stamp"
result ok
