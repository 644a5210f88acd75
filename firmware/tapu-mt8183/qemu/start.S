/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Copyright 2026 The TAPU authors */

/*
 * Entry of the emulated core (call0 ABI): exception vectors that end the
 * run, a stack, a zeroed .bss, main(). A fault exits with status 3 at
 * once instead of spinning until the time limit.
 */

/* Each vector at its offset from VECBASE: see qemu.ld. */
	.macro	vector name
	.section .vector.\name, "ax"
	.global	_vector_\name
_vector_\name:
	_j	_fault
	.endm
	vector	debug
	vector	nmi
	vector	kernel
	vector	user
	vector	double

	.section .text.fault, "ax"
_fault:
	movi	a2, 3
	call0	semihost_exit

	.section .text.start, "ax"
	.literal_position
	.global	_start
	.align	4
_start:
	movi	a2, _vectors
	wsr	a2, vecbase
	isync
	movi	a1, __stack
	movi	a2, __bss_start
	movi	a3, __bss_end
	movi	a4, 0
1:	bgeu	a2, a3, 2f
	s32i	a4, a2, 0
	addi	a2, a2, 4
	j	1b
2:	call0	main
	call0	semihost_exit
