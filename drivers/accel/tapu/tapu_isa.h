/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright 2026 The TAPU authors */

#ifndef __TAPU_ISA_H__
#define __TAPU_ISA_H__

#include <linux/sizes.h>
#include <linux/types.h>
#include <uapi/drm/tapu_accel.h>

#define TAPU_MAX_SLOTS			64
#define TAPU_MAX_CMDSTREAM_SIZE		SZ_1M

/**
 * struct tapu_isa_summary - what validation learnt about a command stream
 * @num_slots: highest slot referenced + 1 (0 for a stream of NOPs)
 * @written: bit n set if slot n is written by some operation
 * @extent: bytes each slot's BO must hold (0 for unreferenced slots)
 * @num_ops: number of operations
 * @work: work of the whole stream, see tapu_isa_validate()
 */
struct tapu_isa_summary {
	u32 num_slots;
	u64 written;
	u64 extent[TAPU_MAX_SLOTS];
	u32 num_ops;
	u64 work;
};

int tapu_isa_validate(const void *stream, u32 size,
		      struct tapu_isa_summary *sum);
u64 tapu_isa_op_taps(const struct drm_tapu_op_hdr *op);

#endif /* __TAPU_ISA_H__ */
