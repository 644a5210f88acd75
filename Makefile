# SPDX-License-Identifier: GPL-2.0-only
#
# Out-of-tree entry points for TAPU against Debian's 6.12 kernel.
#
#   make test      set up the machine, build everything, boot QEMU, run all
#                  tests on Debian's kernel, then build (or reuse) the debug
#                  kernel and run KUnit and the tests again under KASAN,
#                  lockdep and kmemleak, check the device-tree binding,
#                  then build (or reuse) a small arm64 kernel and run the
#                  tests in qemu-system-aarch64; one report, one closing
#                  "N passed, N failed" line (the README's test command;
#                  .ci/run calls it)
#   make test-cleanroom  make test inside a freshly bootstrapped Debian 12
#                  root (tools/testing/tapu/cleanroom.sh; .ci/run runs it)
#   make test-debug  only the debug-kernel part of make test
#   make debug-kernel  build the debug kernel (build/debug-kernel/) and check
#                  that TAPU builds built-in
#   make modules   the modules, out of tree (kbuild M=build/oot/tapu: links
#                  to drivers/accel/tapu and the wrapper tools/testing/tapu/oot)
#   make selftests the kselftests, into build/selftests
#   make selftests-arm64  the kselftests cross-built (static) for arm64, into
#                  build/arm64/selftests
#   make arm64-kernel  build the arm64 test kernel (build/arm64-kernel/)
#   make test-arm64  only the arm64 part of make test
#   make tools     userspace under tools/ (each tools/*/Makefile)
#   make series    the kernel patch series and its cover letter, into
#                  build/series/patches (tools/testing/tapu/mkseries.py);
#                  make test applies and builds it (check-series.sh)
#   make firmware  the MT8183 reference firmware for an emulated Xtensa
#                  core, into build/firmware (firmware/tapu-mt8183/README)
#   make check     W=1 C=1 build, checkpatch --strict and kernel-doc, failing
#                  on any warning
#   make run       set up, build, boot QEMU and run the demo commands
#                  (RUN_CMDS, one guest shell command a line)
#   make clean
#
# ABI (e.g. 6.12.117+deb12-amd64) defaults to the newest installed
# linux-headers-6.12.*-amd64; KDIR, W=, C=, V= pass through to kbuild.

SHELL := /bin/bash
BUILD := $(CURDIR)/build

ABI ?= $(shell find /usr/src -maxdepth 1 -name 'linux-headers-6.12.*-amd64' \
	-printf '%f\n' 2>/dev/null | sed 's/^linux-headers-//' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(ABI)/build
KSRC ?= /usr/src/linux-source-6.12
KSFT_DIR ?= $(KSRC)/tools/testing/selftests

# The out-of-tree build directory: links to the driver's files and to the
# wrapper that makes it build against a kernel without TAPU.
MODDIR := $(BUILD)/oot/tapu
OOT_WRAPPER := $(wildcard tools/testing/tapu/oot/*)
# Sources only: no build products of an in-tree build left in the tree.
OOT_SOURCES := $(filter-out %.mod.c,$(wildcard $(CURDIR)/drivers/accel/tapu/*.[ch]))
OOT_TEST_SOURCES := $(filter-out %.mod.c,$(wildcard $(CURDIR)/drivers/accel/tapu/tests/*.[ch]))
KSFT_SRC := tools/testing/selftests/drivers/accel/tapu
SETUP := tools/testing/tapu/setup.sh
HARNESS := tools/testing/tapu/run-qemu.sh
RUN_TESTS := tools/testing/tapu/run-tests.sh
RUN_CMDS ?= tools/testing/tapu/demo.cmds

# Userspace with its own Makefile: libraries first (libtapu, which the
# others link), then the rest.
TOOL_DIRS := tools/lib/tapu \
	$(filter-out tools/lib/tapu,$(patsubst %/Makefile,%,$(wildcard tools/lib/*/Makefile))) \
	$(patsubst %/Makefile,%,$(filter-out tools/testing/% tools/lib/%,$(wildcard tools/*/Makefile)))

CHECK_FILES = $(sort $(filter-out %.mod.c,$(wildcard drivers/accel/tapu/*.[ch]))) \
	include/uapi/drm/tapu_accel.h $(filter %.c %.h,$(OOT_WRAPPER))

KBUILD_ARGS = -C $(KDIR) M=$(MODDIR) TAPU_TOP=$(CURDIR) \
	$(if $(W),W=$(W)) $(if $(C),C=$(C))

.PHONY: all oot-tree modules selftests tools series firmware optable check run test test-debug debug-kernel clean
.PHONY: selftests-arm64 arm64-kernel test-arm64 test-cleanroom

all: modules selftests tools

# Links, refreshed at every build; links to files that went are dropped.
oot-tree:
	@mkdir -p $(MODDIR)/tests
	@find $(MODDIR) -maxdepth 2 -type l -delete
	@for f in $(OOT_SOURCES) $(CURDIR)/drivers/accel/tapu/Makefile \
		$(addprefix $(CURDIR)/,$(OOT_WRAPPER)); do \
		ln -sfn $$f $(MODDIR)/; done
	@for f in $(OOT_TEST_SOURCES) $(CURDIR)/drivers/accel/tapu/tests/Makefile; do \
		ln -sfn $$f $(MODDIR)/tests/; done

modules: oot-tree
	$(MAKE) $(KBUILD_ARGS) modules

selftests:
	@mkdir -p $(BUILD)/selftests
	$(MAKE) -C $(KSFT_SRC) KSFT_DIR=$(KSFT_DIR) OUTPUT=$(BUILD)/selftests

# arm64 (run-qemu.sh --arch arm64): static, so that the initramfs needs no
# arm64 libraries; libc6-dev-arm64-cross has the uAPI headers.
selftests-arm64:
	@mkdir -p $(BUILD)/arm64/selftests
	$(MAKE) -C $(KSFT_SRC) KSFT_DIR=$(KSFT_DIR) OUTPUT=$(BUILD)/arm64/selftests \
		CROSS_COMPILE=aarch64-linux-gnu- LDFLAGS=-static

# The kernel files as a patch series for linux-source-6.12.
series:
	/usr/bin/python3 tools/testing/tapu/mkseries.py --ksrc $(KSRC) --out $(BUILD)/series

# The MT8183 reference firmware, for an emulated Xtensa core.
firmware:
	$(MAKE) -C firmware/tapu-mt8183 O=$(BUILD)/firmware/tapu-mt8183

tools:
	@set -e; for d in $(TOOL_DIRS); do \
		mkdir -p $(BUILD)/$$d; \
		$(MAKE) -C $$d OUTPUT=$(BUILD)/$$d/; \
	done

# The operator table of the documentation, from libtapu-onnx's tables
# (make test checks that it is current).
optable: tools
	$(BUILD)/tools/lib/tapu-onnx/tapu-onnx-ops > $(BUILD)/onnx-operators.rst
	mv $(BUILD)/onnx-operators.rst tools/lib/tapu-onnx/onnx-operators.rst

# A fresh build so that every file is compiled (W=1) and checked (C=1).
# kbuild does not fail on warnings, hence the grep of its output.
check: oot-tree
	$(MAKE) $(KBUILD_ARGS) clean
	set -o pipefail; $(MAKE) $(KBUILD_ARGS) W=1 C=1 modules 2>&1 | \
		tee $(BUILD)/check-build.log
	@if grep -nE 'warning:|error:|WARNING:' $(BUILD)/check-build.log; then \
		echo "check: the W=1 C=1 build has warnings" >&2; exit 1; fi
	set -o pipefail; $(KSRC)/scripts/checkpatch.pl --strict --no-tree \
		--show-types -f $(CHECK_FILES) 2>&1 | tee $(BUILD)/checkpatch.log
	@if grep -qE '^(ERROR|WARNING|CHECK):' $(BUILD)/checkpatch.log; then \
		echo "check: checkpatch --strict is not clean" >&2; exit 1; fi
	$(KSRC)/scripts/kernel-doc -none -Wall $(CHECK_FILES) 2>&1 | \
		tee $(BUILD)/kernel-doc.log
	@if [ -s $(BUILD)/kernel-doc.log ]; then \
		echo "check: kernel-doc warnings" >&2; exit 1; fi
	@echo "check: clean"

# run and test start with setup.sh so that they work on a fresh machine; it
# resolves (and installs) the kernel ABI: build and boot against that one.
run:
	@set -eo pipefail; mkdir -p $(BUILD); \
	$(SETUP) | tee $(BUILD)/setup.log; \
	abi=$$(tail -n 1 $(BUILD)/setup.log); \
	echo "run: kernel ABI $$abi"; \
	$(MAKE) ABI=$$abi modules tools; \
	$(HARNESS) --abi $$abi --run-file $(RUN_CMDS)

test:
	@set -eo pipefail; mkdir -p $(BUILD); \
	$(SETUP) | tee $(BUILD)/setup.log; \
	abi=$$(tail -n 1 $(BUILD)/setup.log); \
	echo "test: kernel ABI $$abi"; \
	$(MAKE) ABI=$$abi modules selftests selftests-arm64 tools; \
	$(RUN_TESTS) --abi $$abi

# What a new machine sees: the same command in a fresh Debian root, which
# only setup.sh fills.
test-cleanroom:
	tools/testing/tapu/cleanroom.sh -- make test

# The debug kernel has the modules in-tree: no out-of-tree build needed.
test-debug:
	@set -eo pipefail; mkdir -p $(BUILD); \
	$(SETUP) | tee $(BUILD)/setup.log; \
	$(MAKE) selftests tools; \
	$(RUN_TESTS) --debug

debug-kernel:
	tools/testing/tapu/build-debug-kernel.sh

test-arm64:
	@set -eo pipefail; mkdir -p $(BUILD); \
	$(SETUP) | tee $(BUILD)/setup.log; \
	$(MAKE) selftests-arm64; \
	$(RUN_TESTS) --arm64

arm64-kernel:
	tools/testing/tapu/build-debug-kernel.sh --arch arm64

clean:
	-for d in $(TOOL_DIRS); do $(MAKE) -C $$d OUTPUT=$(BUILD)/$$d/ clean; done
	rm -rf $(BUILD)
