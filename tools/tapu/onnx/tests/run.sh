#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# tapu-run tests (busybox sh): each model of DIR (default: this directory)
# on the device with --check (outputs bit-identical to the CPU reference),
# then the error paths. TAP output, closing "N passed, N failed".
#
#   run.sh [DIR] [TAPU_RUN]
dir=${1:-$(dirname "$0")}
run=${2:-tapu-run}
tmp=${TMPDIR:-/tmp}/tapu-run-tests.$$
mkdir -p "$tmp"
n=0 pass=0 fail=0

result() {	# result OK DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1)); echo "ok $n - $2"
	else
		fail=$((fail + 1)); echo "not ok $n - $2"; sed 's/^/# /' "$tmp/out"
	fi
}

# expect RC PATTERN DESCRIPTION -- command: exit status RC, PATTERN in stderr
expect() {
	rc=$1 pat=$2 desc=$3
	shift 4
	"$@" > "$tmp/out" 2>&1
	got=$?
	[ "$got" = "$rc" ] && grep -q "$pat" "$tmp/out"
	result $? "$desc (exit $got, want $rc)"
}

echo "TAP version 13"
for d in "$dir"/*/; do
	t=$(basename "$d")
	case $t in broken_*) continue ;; esac
	set --
	for f in "$d"input_*.pb; do set -- "$@" --input "$f"; done
	expect 0 'bit-exact' "$t: device output bit-identical to the CPU reference" -- \
		"$run" --check "$d/model.onnx" "$@"
done

m=$dir/broken_unsupported_op/model.onnx
expect 1 "node 'softmax0': operator Softmax is not supported" \
	"unsupported operator: named, exit 1" -- "$run" "$m" --input "$dir/broken_unsupported_op/input_0.pb"
expect 1 "node 'softmax0': operator Softmax is not supported" \
	"unsupported operator, --reference-only: named, exit 1" -- "$run" -r "$m"
expect 1 'No such file' "missing model file: exit 1" -- "$run" "$tmp/none.onnx"
printf 'this is not a protobuf\377\377\377' > "$tmp/bad.onnx"
expect 1 'not an ONNX model' "corrupt model protobuf: exit 1" -- "$run" "$tmp/bad.onnx"
head -c 300 "$dir/conv_qdq_u8/model.onnx" > "$tmp/short.onnx"
expect 1 'not an ONNX model' "truncated model: exit 1" -- "$run" "$tmp/short.onnx"
cp "$tmp/bad.onnx" "$tmp/bad.pb"
expect 1 'not an ONNX TensorProto' "corrupt input protobuf: exit 1" -- \
	"$run" "$dir/gemm_i8/model.onnx" --input "$tmp/bad.pb"
expect 1 'shape' "input of the wrong shape: exit 1" -- \
	"$run" "$dir/gemm_i8/model.onnx" --input "$dir/transpose_i8/input_0.pb"
expect 2 'usage' "no model: usage, exit 2" -- "$run"
expect 2 'usage' "unknown option: usage, exit 2" -- "$run" --bogus m.onnx
expect 2 'bad --batch' "bad --batch: exit 2" -- "$run" m.onnx --fmnist x --batch 0
expect 1 'No such file' "missing Fashion-MNIST data: exit 1" -- \
	"$run" "$dir/gemm_i8/model.onnx" --fmnist "$tmp/nodata"

rm -rf "$tmp"
echo "1..$n"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
