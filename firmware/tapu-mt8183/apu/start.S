/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Copyright 2026 The TAPU authors */

/*
 * The cores' boot address. The test guest's DSP model checks that the
 * host boots the cores here and runs the firmware's sources built into
 * the model; the VP6's startup code (vectors, stack, the cores' main
 * loop over tapu_fw_rpmsg_poll()) comes with the VP6 port (README).
 */
	.section .text.start, "ax"
	.global	_start
	.align	4
_start:
	waiti	15
	j	_start
