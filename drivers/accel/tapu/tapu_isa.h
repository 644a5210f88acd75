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

/**
 * struct tapu_exec_slot - a slot's BO as seen by an executor
 * @vaddr: kernel mapping of the whole BO
 * @size: BO size, at least the validated extent
 */
struct tapu_exec_slot {
	void *vaddr;
	u64 size;
};

/**
 * struct tapu_exec_ctx - state shared between an executor and its core
 * @progress: increases while the job makes progress (written by the executor)
 * @cycles: device cycles of the cycle model, accumulated by the executor
 * @stop: set by the core to abandon the job; the executor returns -ECANCELED
 */
struct tapu_exec_ctx {
	u64 progress;
	u64 cycles;
	bool stop;
};

int tapu_isa_execute(const void *stream, u32 size,
		     const struct tapu_exec_slot *slots, u32 num_slots,
		     struct tapu_exec_ctx *ctx);
u64 tapu_isa_work_per_ms(void);

#endif /* __TAPU_ISA_H__ */
