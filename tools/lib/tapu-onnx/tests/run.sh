#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# tapu-run tests (busybox sh): each model of DIR/models (DIR: this
# directory by default) on the device with --check (outputs bit-identical
# to the CPU reference), compared with the outputs the ONNX-semantics
# reference computed (gen.py, onnx_ref.py): those of models/exact equal,
# those of models/requant within 1, those of models/fallback (graphs with
# nodes the device cannot run, on the CPU between device segments) within
# 1; then the error paths. TAP output, closing "N passed, N failed".
#
#   run.sh [DIR] [TAPU_RUN]     (TAPU_TOOLS: where tapu-info and co. are)
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
# node_tests CLASS MAX_DIFF: one result per model, as tapu-run reports it;
# every model must run (a SKIP, unsupported, fails).
node_tests() {
	"$run" --check --max-diff "$2" --onnx-node-tests "$dir/models/$1" > "$tmp/nodes" 2>&1
	grep -q '^# ONNX node tests' "$tmp/nodes" || { cp "$tmp/nodes" "$tmp/out"; result 1 "$1: tapu-run ran"; }
	grep '^\(not \)*ok [0-9]* - ' "$tmp/nodes" > "$tmp/lines"
	while IFS= read -r line; do
		echo "$line" > "$tmp/out"
		case $line in
		"ok "*"# SKIP"*) ok=1 ;;
		"ok "*) ok=0 ;;
		*) ok=1 ;;
		esac
		result $ok "$1/${line#* - }"
	done < "$tmp/lines"
}
node_tests exact 0
node_tests requant 1
node_tests fallback 1

m=$dir/broken_unsupported_op/model.onnx
expect 1 "'softmax0' (Softmax): not on the device (no device operation), nor on the CPU" \
	"an op neither the device nor the CPU runs (int8 Softmax): named, exit 1" -- \
	"$run" "$m" --input "$dir/broken_unsupported_op/input_0.pb"
m=$dir/broken_unknown_ops/model.onnx
expect 1 "2 nodes with an operator TAPU does not support: 'hardmax0' (Hardmax), 'det0' (Det)" \
	"unknown operators: all named, exit 1" -- "$run" "$m" --input "$dir/broken_unknown_ops/input_0.pb"
expect 1 "'hardmax0' (Hardmax), 'det0' (Det)" \
	"unknown operators, --reference-only: all named, exit 1" -- "$run" -r "$m"
m=$dir/models/fallback/test_conv_softmax_conv_u8
expect 0 "CPU: node 'mid_f' (Softmax): no device operation" \
	"--verbose: the placement, with why a node is on the CPU" -- \
	"$run" -v "$m/model.onnx" --input "$m/test_data_set_0/input_0.pb"
expect 0 "benchmark (device): 20 runs after 2 warm-up: latency p50" \
	"--bench 20: latency percentiles and runs/s of the device session" -- \
	"$run" --bench 20 "$m/model.onnx" --input "$m/test_data_set_0/input_0.pb"
expect 0 "the device session takes .*x the CPU session's time" \
	"--bench with --check: the CPU session too, and the ratio" -- \
	"$run" --check --bench 5 "$m/model.onnx" --input "$m/test_data_set_0/input_0.pb"
expect 2 "bad --bench" "--bench 0: exit 2" -- "$run" --bench 0 "$m/model.onnx"
expect 1 'No such file' "missing model file: exit 1" -- "$run" "$tmp/none.onnx"
printf 'this is not a protobuf\377\377\377' > "$tmp/bad.onnx"
expect 1 'not an ONNX model' "corrupt model protobuf: exit 1" -- "$run" "$tmp/bad.onnx"
m=$dir/models/requant/test_gemm_i8
head -c 300 "$dir/models/requant/test_conv_qdq_u8/model.onnx" > "$tmp/short.onnx"
expect 1 'not an ONNX model' "truncated model: exit 1" -- "$run" "$tmp/short.onnx"
cp "$tmp/bad.onnx" "$tmp/bad.pb"
expect 1 'not an ONNX TensorProto' "corrupt input protobuf: exit 1" -- \
	"$run" "$m/model.onnx" --input "$tmp/bad.pb"
expect 1 'shape' "input of the wrong shape: exit 1" -- \
	"$run" "$m/model.onnx" --input "$dir/models/exact/test_transpose_i8/test_data_set_0/input_0.pb"
expect 0 'bit-exact' "one model on --input files: bit-identical to the CPU reference" -- \
	"$run" --check "$m/model.onnx" --input "$m/test_data_set_0/input_0.pb"
expect 2 'bad --max-diff' "bad --max-diff: exit 2" -- "$run" --max-diff x --onnx-node-tests "$dir/models"
# Every tool takes --help (the others from TAPU_TOOLS, default: the PATH).
for t in tapu-info tapu-demo tapu-bench; do
	expect 0 'usage' "$t --help: usage, exit 0" -- "${TAPU_TOOLS:+$TAPU_TOOLS/}$t" --help
	expect 2 'usage' "$t --bogus: usage, exit 2" -- "${TAPU_TOOLS:+$TAPU_TOOLS/}$t" --bogus
done
expect 0 'usage' "tapu-run --help: usage, exit 0" -- "$run" --help
expect 2 'usage' "no model: usage, exit 2" -- "$run"
expect 2 'usage' "unknown option: usage, exit 2" -- "$run" --bogus m.onnx
expect 2 'bad --batch' "bad --batch: exit 2" -- "$run" m.onnx --fmnist x --batch 0
expect 1 'No such file' "missing Fashion-MNIST data: exit 1" -- \
	"$run" "$m/model.onnx" --fmnist "$tmp/nodata"

rm -rf "$tmp"
echo "1..$n"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
