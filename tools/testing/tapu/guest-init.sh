#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the TAPU test initramfs (busybox ash, PID 1): load the modules,
# run the kselftests (or the commands of run mode), dump the kernel log and
# power off. run-qemu.sh writes /etc/tapu.conf and parses the "TAPU-" lines
# this prints on the serial console.
#
# No "set -e": PID 1 must always reach the report and poweroff.

export PATH=/usr/bin:/bin HOME=/root LD_LIBRARY_PATH=/usr/lib

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm /root
mount -t tmpfs tmpfs /dev/shm

# Written by run-qemu.sh: mode, test list, timeouts, module parameters.
# shellcheck source=/dev/null
. /etc/tapu.conf

loglevel=$(cut -f1 /proc/sys/kernel/printk)

# Kernel messages printed in the middle of a block would split the lines the
# host parses: mute the console while printing one. Nothing is lost, the
# whole kernel log is dumped at the end.
quiet() { echo 1 > /proc/sys/kernel/printk; }
loud() { echo "$loglevel" > /proc/sys/kernel/printk; }
mark() { quiet; echo "TAPU-$*"; loud; }

finish() {
	# A debug kernel with kmemleak (auto scan off): scan now so leaks land
	# in the log. Objects younger than 5 s are not reported yet, hence the
	# second scan.
	kml=/sys/kernel/debug/kmemleak
	if [ -w "$kml" ]; then
		echo scan > "$kml"
		sleep 5
		echo scan > "$kml"
		cat "$kml" > /tmp/kmemleak
		mark "KMEMLEAK: $(grep -c '^unreferenced object' /tmp/kmemleak)"
	fi
	quiet
	echo "TAPU-TAINT: $(cat /proc/sys/kernel/tainted)"
	echo "TAPU-DMESG-BEGIN"
	dmesg
	[ -f /tmp/kmemleak ] && cat /tmp/kmemleak
	echo "TAPU-DMESG-END"
	echo "TAPU-RESULT: $1"
	# Without ACPI (the debug kernel) power-off only halts; a reboot ends
	# QEMU, which runs with -no-reboot.
	if [ -d /sys/firmware/acpi ]; then
		poweroff -f
	else
		reboot -f
	fi
	sleep 60
}

# Load a module with parameters; a built-in one (debug kernel) is fine.
load() {
	name=$1
	shift
	if [ -d "/sys/module/$name" ] && [ ! -e "/sys/module/$name/initstate" ]; then
		mark "MODPROBE: $name rc=0 built-in"
		return 0
	fi
	modprobe "$name" "$@"
	rc=$?
	[ "$rc" -eq 0 ] && [ ! -d "/sys/module/$name" ] && rc=1
	mark "MODPROBE: $name rc=$rc"
	return "$rc"
}

# Run one test or command. Its output goes to the console live (progress,
# and something to read if the guest hangs) and is then printed again as
# one uninterrupted block between TAPU-BEGIN and TAPU-END.
run_one() {
	name=$1
	shift
	mark "RUN: $name"
	rm -f /tmp/rc
	( "$@" < /dev/null; echo $? > /tmp/rc ) 2>&1 | tee /tmp/out
	rc=$(cat /tmp/rc 2>/dev/null || echo 255)
	quiet
	echo "TAPU-BEGIN: $name"
	cat /tmp/out
	[ -n "$(tail -c 1 /tmp/out)" ] && echo
	echo "TAPU-END: $name rc=$rc"
	loud
}

run_test() {
	cd /tests && timeout -s KILL "$TAPU_TEST_TIMEOUT" "./$1"
}

# KUnit (debug kernel): the suites run when the module loads; print each
# suite's KTAP from debugfs. rc 1: load failed, 2: no results, 3: unload
# failed.
run_kunit() {
	modprobe "$TAPU_KUNIT" || return 1
	found=0
	for r in /sys/kernel/debug/kunit/*/results; do
		[ -r "$r" ] || continue
		cat "$r"
		found=1
	done
	rmmod "$TAPU_KUNIT" || return 3
	[ "$found" -eq 1 ] || return 2
}

mark "BOOT: $(uname -r) cpus=$(nproc)"

# A job timeout of 0 would time every job out at once: refused.
if [ ! -d /sys/module/tapu ]; then
	modprobe tapu job_timeout_ms=0 2>/dev/null
	rc=$?
	[ -d /sys/module/tapu ] && { rmmod tapu; rc=0; }
	mark "PARAM-CHECK: job_timeout_ms=0 rc=$rc"
fi

ok=1
load tapu "job_timeout_ms=$TAPU_JOB_TIMEOUT_MS" || ok=0
[ "$ok" -eq 1 ] && { load tapu_sim "num_cores=$TAPU_NUM_CORES" || ok=0; }

# devtmpfs creates the node when the backend registers the device; allow
# for a deferred probe.
i=0
while [ ! -c /dev/accel/accel0 ] && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -c /dev/accel/accel0 ]; then
	mark "DEVICE: /dev/accel/accel0 present"
else
	mark "DEVICE: /dev/accel/accel0 missing"
	ok=0
fi
[ "$ok" -eq 1 ] || finish setup-failed

# --- MT8183 APU (arm64) ----------------------------------------------------
# When the kernel has the APU's remote processor driver and the APU model
# (TAPU_MT8183=1), tapu_mt8183_test runs in a phase of its own on the board
# path: the device tree has the APU, whose cores the model plays. mtk_apu
# probes from the tree, loads /lib/firmware/mediatek/mt8183/apu.elf and
# boots the cores, whose firmware announces a channel per core; the
# backend's device comes up once both cores have theirs; unloading mtk_apu
# stops the cores. The other
# tests see the simulated NPU alone (/dev/accel/accel0, and the only TAPU
# directory in debugfs, where tapu_test.h looks). A failure here fails the
# harness checks, not the other tests.
#
# The simulated NPU is accel0, so the MT8183 device is the next node, once
# the backend's debugfs file is there too.
mt8183_dev() {
	for d in /sys/kernel/debug/accel/*/mt8183; do
		[ -f "$d" ] && [ -c /dev/accel/accel1 ] && echo /dev/accel/accel1
		return
	done
}
mt8183_phase() {
	if load tapu_mt8183 && load tapu_dsp_model && load mtk_apu; then
		# Loading the image, calibrating both cores, ping.
		i=0
		while [ -z "$(mt8183_dev)" ] && [ "$i" -lt 600 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		dev=$(mt8183_dev)
		mark "DEVICE: mt8183 ${dev:-missing}${dev:+ present}"
		run_one tapu_mt8183_test run_test tapu_mt8183_test
	fi
	rmmod mtk_apu && rmmod tapu_dsp_model && rmmod tapu_mt8183
	mark "UNLOAD-MT8183: rc=$?"
}

if [ "$TAPU_MODE" = run ]; then
	n=0
	while IFS= read -r cmd <&3; do
		n=$((n + 1))
		run_one "cmd$n" sh -c "$cmd"
	done 3< /etc/tapu-cmds
else
	[ -n "$TAPU_KUNIT" ] && run_one kunit run_kunit
	# tapu_isa_test records its jobs for the reference firmware's replay.
	if [ -n "$TAPU_RECORD" ]; then
		export TAPU_ISA_RECORD=/tmp/isa-recordings
		mkdir -p "$TAPU_ISA_RECORD"
	fi
	for t in $TAPU_TESTS; do
		if [ "$t" = tapu_mt8183_test ] && [ -n "$TAPU_MT8183" ]; then
			mt8183_phase
			continue
		fi
		run_one "$t" run_test "$t"
	done
fi

# Unloading must work once every file is closed (TESTING.md, lifetime).
rmmod tapu_sim && rmmod tapu
mark "UNLOAD: rc=$?"

# The recordings go out raw: no newline translation on the port.
if [ -n "$TAPU_RECORD" ] && [ -c "$TAPU_RECORD" ]; then
	stty -F "$TAPU_RECORD" raw -echo
	tar -c -C "$TAPU_ISA_RECORD" . | base64 > "$TAPU_RECORD"
	mark "RECORDINGS: $(ls "$TAPU_ISA_RECORD" | wc -l)"
fi

finish "done"
