/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Copyright 2026 The TAPU authors */

/*
 * TAPU reference firmware for the MT8183 APU: the firmware side of the IPC
 * protocol of include/linux/rpmsg/tapu_mt8183.h, executing jobs with the
 * TAPU ISA's reference executor. It is portable: what differs between a
 * VP6 core, an emulated Xtensa core and the DSP model of the test kernel
 * is behind struct tapu_fw_ops.
 */

#ifndef __TAPU_FW_H
#define __TAPU_FW_H

#include <linux/rpmsg/tapu_mt8183.h>

#include "tapu_isa.h"
#include "tapu_isa_exec.h"

/** TAPU_FW_MAX_MSG - largest message either side sends, in bytes */
#define TAPU_FW_MAX_MSG		sizeof(struct tapu_mt8183_ipc_pong)

/** TAPU_FW_MAX_SEGMENTS - buffer table entries a core accepts, at most */
#define TAPU_FW_MAX_SEGMENTS	256

struct tapu_fw_core;

/**
 * struct tapu_fw_ops - what the firmware needs from its platform
 * @map: CPU pointer to @size bytes at device address @da, or NULL unless
 *	all of them are memory the host may hand to the DSP; a fixed
 *	translation (nothing to undo)
 * @map_slot: CPU pointer to the concatenation of a slot's @n segments (of
 *	@size bytes in all), or NULL; maps every slot when given; optional:
 *	without it a slot must be one segment
 * @unmap_slot: releases what @map_slot returned; optional (nothing to
 *	release)
 * @invalidate: drop cached copies of memory the host wrote, before reading
 * @writeback: write back what the DSP wrote, before the host is told
 * @cycles: the core's cycle counter, at &tapu_fw_core.cycle_clock_hz
 * @send: queue a message to the host; 0 or a negative error
 */
struct tapu_fw_ops {
	void *(*map)(struct tapu_fw_core *core, u64 da, u64 size);
	void *(*map_slot)(struct tapu_fw_core *core,
			  const struct tapu_mt8183_ipc_segment *seg, u32 n,
			  u64 size);
	void (*unmap_slot)(struct tapu_fw_core *core, void *vaddr, u64 size);
	void (*invalidate)(struct tapu_fw_core *core, const void *p, u64 size);
	void (*writeback)(struct tapu_fw_core *core, const void *p, u64 size);
	u64 (*cycles)(struct tapu_fw_core *core);
	int (*send)(struct tapu_fw_core *core, const void *msg, u32 len);
};

/**
 * struct tapu_fw_stats - what a core counts
 * @dropped: messages dropped as malformed or unexpected
 * @jobs: job messages answered
 * @invalid: jobs answered with %TAPU_MT8183_IPC_STATUS_INVALID
 * @faults: jobs answered with %TAPU_MT8183_IPC_STATUS_FAULT
 */
struct tapu_fw_stats {
	u32 dropped;
	u32 jobs;
	u32 invalid;
	u32 faults;
};

/**
 * struct tapu_fw_core - one DSP core serving one channel
 * @ops: platform operations
 * @priv: platform data
 * @core_id: index of the core, the N of "rpmsg-mt8183-apu<N>"
 * @num_cores: cores of the APU
 * @max_segments: buffer table entries accepted per job
 * @cycle_clock_hz: frequency of @ops->cycles
 * @work_per_ms: measured throughput, reported in the pong
 * @stats: counters
 * @ctx: executor state of the running job
 * @sum: validation result of the running job's stream
 * @segs: the running job's buffer table, a private copy: checked once and
 *	used as checked
 * @slots: slots of the running job
 * @maps: whether a slot came from @ops->map_slot
 */
struct tapu_fw_core {
	const struct tapu_fw_ops *ops;
	void *priv;
	u32 core_id;
	u32 num_cores;
	u32 max_segments;
	u64 cycle_clock_hz;
	u64 work_per_ms;
	struct tapu_fw_stats stats;
	struct tapu_exec_ctx ctx;
	struct tapu_isa_summary sum;
	struct tapu_mt8183_ipc_segment segs[TAPU_FW_MAX_SEGMENTS];
	struct tapu_exec_slot slots[TAPU_MT8183_IPC_MAX_SLOTS];
	bool maps[TAPU_MT8183_IPC_MAX_SLOTS];
};

void tapu_fw_init(struct tapu_fw_core *core, const struct tapu_fw_ops *ops,
		  void *priv, u32 core_id, u32 num_cores, u32 max_segments,
		  u64 cycle_clock_hz);
int tapu_fw_receive(struct tapu_fw_core *core, const void *msg, u32 len);

#endif /* __TAPU_FW_H */
