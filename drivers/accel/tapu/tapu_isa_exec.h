/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright 2026 The TAPU authors */

#ifndef __TAPU_ISA_EXEC_H__
#define __TAPU_ISA_EXEC_H__

#include <linux/types.h>

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

#endif /* __TAPU_ISA_EXEC_H__ */
