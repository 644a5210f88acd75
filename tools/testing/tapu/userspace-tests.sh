#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the userspace tests and their data into the initramfs of
# run-qemu.sh (ROOT) and print the names of the tests, one a line, for the
# guest to run from /tests like the kselftests (TAP output; a test fails on
# a "not ok", a non-zero exit or fewer results than planned):
#
#   libtapu_test            libtapu's kselftest-harness tests
#   tapu_onnx_test          libtapu-onnx's kselftest-harness tests
#   tapu-onnx-classify      an application built against the installed
#                           libtapu-onnx through pkg-config classifies one
#                           Fashion-MNIST image (tapu-onnx-classify-zoo: two
#                           zoo models)
#   tapu-run-node-tests     tapu-run --check --onnx-node-tests: the ONNX node
#                           tests with int8/uint8 data, one TAP line each
#   tapu-run-qdq-node-tests the float ONNX node tests of CNN operators wrapped
#                           in QDQ as a quantizer does (qdq_node_tests.py),
#                           against onnx_ref.py, within 1 LSB; SKIP where
#                           the library runs them nowhere, with why
#   tapu-run-tests          tools/lib/tapu-onnx/tests/run.sh: tapu-run's own
#                           models against the outputs of an ONNX-semantics
#                           reference (onnx_ref.py), and error paths
#   tapu-run-fmnist         the Fashion-MNIST network on the 10,000 test
#                           images, --check --expect: one test, ok iff exit 0
#   tapu-run-zoo            the model zoo (tools/tapu/models/zoo: torchvision
#                           and other architectures quantized the ways users
#                           quantize), each model against the independent
#                           reference, in LSB
#
#   userspace-tests.sh MODE ROOT TOOLS_OUT [FMNIST] [ZOO]
#
# MODE "test" installs the tests and the data; "run" only the Fashion-MNIST
# data (for demo.cmds) and prints nothing. FMNIST 0 leaves out the
# Fashion-MNIST test (default 1), ZOO 0 the zoo (default 1); the zoo is
# generated once into TAPU_ZOO_DIR (default build/zoo), again when its
# scripts change. The data goes to ROOT/usr/share/tapu:
# onnx-node/ (only the test_* directories tapu-run considers), qdq-node/
# (generated), onnx-tests/, zoo/, fmnist/ (model, expected results, t10k
# images and labels).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)

NODE_DIR=${TAPU_ONNX_NODE_DIR:-/usr/share/libonnx-testdata/data/node}
FMNIST_DATA=${TAPU_FMNIST_DATA:-/usr/share/datasets/fashion-mnist}

[ $# -ge 3 ] || { echo "usage: $0 MODE ROOT TOOLS_OUT [FMNIST] [ZOO]" >&2; exit 2; }
mode=$1 root=$2 tools=$3 fmnist=${4:-1} zoo=${5:-1}
share=$root/usr/share/tapu
run=$tools/tapu/tapu-run

die() { echo "userspace-tests: error: $*" >&2; exit 2; }

[ -x "$run" ] || die "$run not built (make tools)"

# Fashion-MNIST: model, expected results, test set (demo and test).
fm=$share/fmnist
mkdir -p "$fm"
cp "$top/tools/tapu/models/fmnist/fmnist_int8.onnx" \
   "$top/tools/tapu/models/fmnist/fmnist_expected.txt" \
   "$top/tools/tapu/models/fmnist/t10k_image0.pb" "$fm/"
for f in t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
	[ -f "$FMNIST_DATA/$f" ] || die "no $FMNIST_DATA/$f (dataset-fashion-mnist)"
	cp "$FMNIST_DATA/$f" "$fm/"
done

[ "$mode" = test ] || exit 0

# The tests: static binaries, nothing else to copy.
[ -x "$tools/lib/tapu/libtapu_test" ] || die "$tools/lib/tapu/libtapu_test not built (make tools)"
cp "$tools/lib/tapu/libtapu_test" "$root/tests/"
echo libtapu_test
[ -x "$tools/lib/tapu-onnx/tapu_onnx_test" ] ||
	die "$tools/lib/tapu-onnx/tapu_onnx_test not built (make tools)"
cp "$tools/lib/tapu-onnx/tapu_onnx_test" "$root/tests/"
echo tapu_onnx_test

# An application of libtapu-onnx as its users build one: against the
# installed library (a staging prefix), with pkg-config. run-qemu.sh copies
# the shared libraries it needs.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -s -C "$top/tools/lib/tapu" install PREFIX="$stage" OUTPUT="$tools/lib/tapu/" >&2
make -s -C "$top/tools/lib/tapu-onnx" install PREFIX="$stage" \
	OUTPUT="$tools/lib/tapu-onnx/" LIBTAPU_DIR="$tools/lib/tapu/" >&2
# shellcheck disable=SC2046 # pkg-config output is a list of flags
gcc -O2 -Wall -Werror -o "$root/usr/bin/classify" \
	"$top/tools/lib/tapu-onnx/examples/classify.c" \
	$(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --cflags --libs libtapu-onnx) ||
	die "the libtapu-onnx example does not build against the installed library"
cat > "$root/tests/tapu-onnx-classify" <<'EOF'
#!/bin/sh
d=/usr/share/tapu/fmnist
echo "TAP version 13"
echo "1..1"
out=$(classify "$d/fmnist_int8.onnx" "$d/t10k_image0.pb" 2>&1)
rc=$?
want="class $(sed -n 's/^predictions \(.\).*/\1/p' "$d/fmnist_expected.txt") "
echo "# $out"
desc="classify (built with pkg-config libtapu-onnx), test image 0: ${want% }"
case $out in
"$want"*) [ "$rc" = 0 ] && { echo "ok 1 - $desc"; exit 0; } ;;
esac
echo "not ok 1 - $desc # exit $rc"
exit 1
EOF
echo tapu-onnx-classify

# ONNX node tests: the directories tapu-run lists (int8/uint8 tensors among
# inputs, outputs, initialisers), as the CPU reference lists them here.
mkdir -p "$share/onnx-node"
names=$("$run" -r --onnx-node-tests "$NODE_DIR" 2>/dev/null |
	sed -n 's/^\(not \)\{0,1\}ok [0-9]* - \(test_[^ ]*\).*/\2/p' || true)
[ -n "$names" ] || die "tapu-run lists no ONNX node test in $NODE_DIR (libonnx-testdata)"
for t in $names; do
	cp -r "$NODE_DIR/$t" "$share/onnx-node/"
done
cat > "$root/tests/tapu-run-node-tests" <<'EOF'
#!/bin/sh
exec tapu-run --check --onnx-node-tests /usr/share/tapu/onnx-node
EOF
echo tapu-run-node-tests

# The float node tests wrapped in QDQ, generated from NODE_DIR (TAP).
/usr/bin/python3 "$top/tools/lib/tapu-onnx/tests/qdq_node_tests.py" "$NODE_DIR" \
	"$share/qdq-node" > /dev/null || die "wrapping the ONNX node tests in QDQ failed"
cat > "$root/tests/tapu-run-qdq-node-tests" <<'EOF'
#!/bin/sh
exec tapu-run --check --max-diff 1 --onnx-node-tests /usr/share/tapu/qdq-node
EOF
echo tapu-run-qdq-node-tests

# tapu-run's models and error paths (run.sh, TAP).
mkdir -p "$share/onnx-tests"
cp -r "$top/tools/lib/tapu-onnx/tests/run.sh" "$top"/tools/lib/tapu-onnx/tests/*/ \
	"$share/onnx-tests/"
cat > "$root/tests/tapu-run-tests" <<'EOF'
#!/bin/sh
exec sh /usr/share/tapu/onnx-tests/run.sh /usr/share/tapu/onnx-tests
EOF
echo tapu-run-tests

# The network, bit-exact against the CPU reference and the training script's
# results: one test. Its output goes to the console as it runs.
if [ "$fmnist" = 1 ]; then
	cat > "$root/tests/tapu-run-fmnist" <<'EOF'
#!/bin/sh
d=/usr/share/tapu/fmnist
echo "TAP version 13"
echo "1..1"
{ tapu-run "$d/fmnist_int8.onnx" --fmnist "$d" --batch 500 --check \
	--expect "$d/fmnist_expected.txt"; echo $? > /tmp/fmnist.rc; } 2>&1 |
	tee /tmp/fmnist.out
rc=$(cat /tmp/fmnist.rc 2>/dev/null || echo 255)
acc=$(sed -n 's/^accuracy: \([^ ]*\).*/\1/p' /tmp/fmnist.out)
desc="fmnist_int8.onnx, 10000 test images, batch 500: bit-exact vs the CPU reference, results as fmnist_expected.txt${acc:+ (accuracy $acc)}"
if [ "$rc" = 0 ]; then
	echo "ok 1 - $desc"
else
	echo "not ok 1 - $desc # tapu-run exit $rc"
fi
exit "$rc"
EOF
	echo tapu-run-fmnist
fi
if [ "$zoo" = 1 ]; then
	zdir=${TAPU_ZOO_DIR:-$top/build/zoo}
	src="$top/tools/tapu/models/zoo/gen.py $top/tools/tapu/models/zoo/quantize.py
	     $top/tools/lib/tapu-onnx/tests/onnx_ref.py"
	# shellcheck disable=SC2086
	sum=$(cat $src | md5sum)
	if [ "$(cat "$zdir/.inputs" 2>/dev/null)" != "$sum" ]; then
		rm -rf "$zdir"
		echo "userspace-tests: generating the model zoo (python3-torch)" >&2
		/usr/bin/python3 "$top/tools/tapu/models/zoo/gen.py" "$zdir" >&2 ||
			die "the model zoo generator failed"
		echo "$sum" > "$zdir/.inputs"
	fi
	mkdir -p "$share/zoo"
	cp -r "$zdir"/*/ "$top/tools/tapu/models/zoo/run.sh" "$share/zoo/"
	cat > "$root/tests/tapu-run-zoo" <<'EOF'
#!/bin/sh
exec sh /usr/share/tapu/zoo/run.sh /usr/share/tapu/zoo
EOF
	echo tapu-run-zoo
	# The application of tapu-onnx-classify on zoo models.
	cat > "$root/tests/tapu-onnx-classify-zoo" <<'EOF'
#!/bin/sh
echo "TAP version 13"
echo "1..2"
n=0 rc=0
for m in mobilenet_v2_qdq resnet18_torch; do
	d=/usr/share/tapu/zoo/$m
	n=$((n + 1))
	out=$(classify "$d/model.onnx" "$d/test_data_set_0/input_0.pb" 2>&1)
	# The reference's top class, then those within the zoo's tolerance.
	set -- $(cat "$d/test_data_set_0/top_classes.txt")
	want="class $1"
	echo "# $out (reference: $*)"
	got=${out#class }
	got=${got%% *}
	case " $* " in
	*" $got "*) echo "ok $n - classify (built with pkg-config libtapu-onnx), zoo $m: $want${2:+ or a class within 8 LSB}" ;;
	*) echo "not ok $n - classify, zoo $m: $want${2:+ or a class within 8 LSB}"; rc=1 ;;
	esac
done
exit $rc
EOF
	echo tapu-onnx-classify-zoo
fi
chmod 755 "$root"/tests/tapu-run-* "$root"/tests/tapu-onnx-classify*
