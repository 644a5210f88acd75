#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The model zoo on the device (busybox sh): each model of DIR (gen.py's
# output) through tapu-run --check (bit-identical to tapu-run's CPU path),
# its output compared in LSB of the output quantization with what the
# independent reference (onnx_ref.py) computed. One TAP line per model with
# the histogram of differences, the nodes and the share of MACs on the
# device, then what fell back to the CPU and why; a model fails when it does not compile or run, or
# an element differs by more than MAX_DIFF LSB.
#
#   run.sh [DIR] [MAX_DIFF] [TAPU_RUN]
dir=${1:-$(dirname "$0")}
max=${2:-4}
run=${3:-tapu-run}
tmp=${TMPDIR:-/tmp}/tapu-zoo.$$
mkdir -p "$tmp"
n=0 fail=0
set -- "$dir"/*/model.onnx
echo "TAP version 13"
echo "1..$#"
for m in "$@"; do
	d=$(cd "${m%/model.onnx}" && pwd)
	name=${d##*/}
	n=$((n + 1))
	# tapu-run runs the ONNX test layout: a directory of test_* directories.
	rm -rf "$tmp/t" && mkdir -p "$tmp/t" && ln -s "$d" "$tmp/t/test_$name"
	"$run" -v --check --max-diff "$max" --lsb "$(cat "$d/test_data_set_0/output_0_lsb.txt")" \
		--onnx-node-tests "$tmp/t" > "$tmp/out" 2>&1
	line=$(grep '^\(not \)*ok [0-9]* - ' "$tmp/out")
	case $line in
	"ok "*"# SKIP"*|"") ok=0 ;;
	"ok "*) ok=1 ;;
	*) ok=0 ;;
	esac
	res=${line#* - test_}
	# the share of multiply-accumulates on the device (tapu-run -v)
	macs=$(sed -n 's/.*MACs: .*(\(.*\) % on the device).*/\1/p' "$tmp/out")
	[ -n "$macs" ] && res="${res%)}, MACs on the device: $macs %)"
	if [ "$ok" = 1 ]; then
		echo "ok $n - $res"
	else
		fail=$((fail + 1))
		echo "not ok $n - ${res:-$name}"
	fi
	grep -v '^\(not \)*ok [0-9]* - \|^TAP\|^1\.\.\|^# ONNX node' "$tmp/out" | sed 's/^/# /'
done
rm -rf "$tmp"
echo "# $((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]
