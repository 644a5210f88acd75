// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * The firmware side of the MT8183 APU IPC protocol
 * (Documentation/accel/tapu/mt8183.rst): answers pings, checks every job
 * message, its buffer table and its command stream before it touches an
 * output, executes the stream with the ISA's reference executor and
 * reports the completion. Nothing here depends on the platform.
 */

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "tapu_fw.h"

union tapu_fw_msg {
	struct tapu_mt8183_ipc_hdr hdr;
	struct tapu_mt8183_ipc_ping ping;
	struct tapu_mt8183_ipc_job job;
};

static void tapu_fw_hdr(struct tapu_mt8183_ipc_hdr *hdr, u16 type, u32 seq,
			u32 len)
{
	hdr->version = cpu_to_le16(TAPU_MT8183_IPC_VERSION);
	hdr->type = cpu_to_le16(type);
	hdr->seq = cpu_to_le32(seq);
	hdr->length = cpu_to_le32(len);
	hdr->reserved = 0;
}

static int tapu_fw_pong(struct tapu_fw_core *core,
			const struct tapu_mt8183_ipc_ping *ping)
{
	struct tapu_mt8183_ipc_pong pong = {
		.cookie = ping->cookie,
		.core_id = cpu_to_le32(core->core_id),
		.num_cores = cpu_to_le32(core->num_cores),
		.isa_version = cpu_to_le32(DRM_TAPU_ISA_VERSION),
		.max_segments = cpu_to_le32(core->max_segments),
		.cycle_clock_hz = cpu_to_le64(core->cycle_clock_hz),
		.work_per_ms = cpu_to_le64(core->work_per_ms),
	};

	tapu_fw_hdr(&pong.hdr, TAPU_MT8183_IPC_PONG,
		    le32_to_cpu(ping->hdr.seq), sizeof(pong));
	return core->ops->send(core, &pong, sizeof(pong));
}

static void tapu_fw_unmap(struct tapu_fw_core *core, u32 num_slots)
{
	u32 i;

	for (i = 0; i < num_slots; i++) {
		if (core->maps[i] && core->ops->unmap_slot)
			core->ops->unmap_slot(core, core->slots[i].vaddr,
					      core->slots[i].size);
		core->maps[i] = false;
	}
}

static bool tapu_fw_overlap(const void *a, u64 an, const void *b, u64 bn)
{
	const u8 *pa = a, *pb = b;

	return pa < pb + bn && pb < pa + an;
}

/*
 * Maps slot @i from its @n segments, checked; false if they are invalid or
 * the slot overlaps the stream or the table, which the job must not be
 * able to change under the executor.
 */
static bool tapu_fw_map_slot(struct tapu_fw_core *core, u32 i,
			     const struct tapu_mt8183_ipc_segment *seg, u32 n,
			     const void *cmd, u64 cmd_size,
			     const void *table, u64 table_size)
{
	struct tapu_exec_slot *slot = &core->slots[i];
	u64 total = 0;
	u32 k;

	for (k = 0; k < n; k++) {
		u64 size = le64_to_cpu(seg[k].size);

		if (seg[k].reserved || !size ||
		    check_add_overflow(total, size, &total))
			return false;
	}
	if (total < core->sum.extent[i])
		return false;
	if (core->ops->map_slot) {
		slot->vaddr = core->ops->map_slot(core, seg, n, total);
		core->maps[i] = slot->vaddr;
	} else if (n == 1) {
		slot->vaddr = core->ops->map(core, le64_to_cpu(seg->addr),
					     total);
	} else {
		return false;
	}
	slot->size = total;
	if (!slot->vaddr || tapu_fw_overlap(slot->vaddr, total, cmd, cmd_size) ||
	    tapu_fw_overlap(slot->vaddr, total, table, table_size))
		return false;
	core->ops->invalidate(core, slot->vaddr, total);
	return true;
}

/*
 * Checks a job message, its table and its stream and maps its slots; on
 * success @cmd is the stream. Nothing is written before this succeeds.
 */
static u32 tapu_fw_map_job(struct tapu_fw_core *core,
			   const struct tapu_mt8183_ipc_job *job,
			   const void **cmd)
{
	u64 cmd_size = le64_to_cpu(job->cmd_size);
	u32 entries = le32_to_cpu(job->table_entries);
	u32 num_slots = le32_to_cpu(job->num_slots);
	const struct tapu_mt8183_ipc_segment *seg = core->segs;
	u64 table_size = (u64)entries * sizeof(*seg);
	const void *table = NULL;
	u32 i, first, end;

	/* Misaligned words would fault on a DSP: the host aligns both. */
	if (!cmd_size || cmd_size > TAPU_MT8183_IPC_MAX_CMD_SIZE ||
	    entries > core->max_segments ||
	    num_slots > TAPU_MT8183_IPC_MAX_SLOTS || entries < num_slots ||
	    (le64_to_cpu(job->cmd_addr) | le64_to_cpu(job->table_addr)) & 7)
		return TAPU_MT8183_IPC_STATUS_INVALID;
	*cmd = core->ops->map(core, le64_to_cpu(job->cmd_addr), cmd_size);
	if (!*cmd)
		return TAPU_MT8183_IPC_STATUS_INVALID;
	core->ops->invalidate(core, *cmd, cmd_size);
	if (entries) {
		table = core->ops->map(core, le64_to_cpu(job->table_addr),
				       table_size);
		if (!table)
			return TAPU_MT8183_IPC_STATUS_INVALID;
		core->ops->invalidate(core, table, table_size);
		memcpy(core->segs, table, table_size);
	}

	/* The kernel validated the stream; a firmware trusts no message. */
	if (tapu_isa_validate(*cmd, cmd_size, &core->sum) ||
	    core->sum.num_slots > num_slots)
		return TAPU_MT8183_IPC_STATUS_INVALID;

	/* Slots in order, each with at least one segment. */
	for (i = 0, first = 0; i < num_slots; i++, first = end) {
		for (end = first; end < entries; end++)
			if (le32_to_cpu(seg[end].slot) != i)
				break;
		if (end == first ||
		    !tapu_fw_map_slot(core, i, &seg[first], end - first, *cmd,
				      cmd_size, table, table_size)) {
			tapu_fw_unmap(core, i + 1);
			return TAPU_MT8183_IPC_STATUS_INVALID;
		}
	}
	if (first != entries) {
		tapu_fw_unmap(core, num_slots);
		return TAPU_MT8183_IPC_STATUS_INVALID;
	}
	return TAPU_MT8183_IPC_STATUS_OK;
}

static int tapu_fw_job(struct tapu_fw_core *core,
		       const struct tapu_mt8183_ipc_job *job)
{
	u32 num_slots = le32_to_cpu(job->num_slots);
	struct tapu_mt8183_ipc_job_done done = {
		.job_id = job->job_id,
	};
	u64 start = core->ops->cycles(core);
	const void *cmd;
	u32 status, i;

	status = tapu_fw_map_job(core, job, &cmd);
	if (status == TAPU_MT8183_IPC_STATUS_OK) {
		memset(&core->ctx, 0, sizeof(core->ctx));
		if (tapu_isa_execute(cmd, le64_to_cpu(job->cmd_size),
				     core->slots, num_slots, &core->ctx))
			status = TAPU_MT8183_IPC_STATUS_FAULT;
		for (i = 0; i < num_slots; i++)
			if (core->sum.written & BIT_ULL(i))
				core->ops->writeback(core, core->slots[i].vaddr,
						     core->slots[i].size);
		tapu_fw_unmap(core, num_slots);
	}

	core->stats.jobs++;
	core->stats.invalid += status == TAPU_MT8183_IPC_STATUS_INVALID;
	core->stats.faults += status == TAPU_MT8183_IPC_STATUS_FAULT;
	done.cycles = cpu_to_le64(max_t(u64, core->ops->cycles(core) - start, 1));
	done.status = cpu_to_le32(status);
	tapu_fw_hdr(&done.hdr, TAPU_MT8183_IPC_JOB_DONE,
		    le32_to_cpu(job->hdr.seq), sizeof(done));
	return core->ops->send(core, &done, sizeof(done));
}

/**
 * tapu_fw_receive() - handle a message from the host
 * @core: the core whose channel received it
 * @msg: the rpmsg payload
 * @len: its length
 *
 * Answers a ping with a pong and a job with its completion, through
 * &tapu_fw_ops.send, before returning. A message that is malformed or of a
 * type the host does not send is dropped and counted.
 *
 * Return: 0 if handled, -EINVAL if dropped, or the error of the send.
 */
int tapu_fw_receive(struct tapu_fw_core *core, const void *msg, u32 len)
{
	union tapu_fw_msg m;
	u16 type;

	/* A private, aligned copy: the host cannot change what was checked. */
	if (len < sizeof(m.hdr) || len > sizeof(m))
		goto drop;
	memcpy(&m, msg, len);
	type = le16_to_cpu(m.hdr.type);
	if (le16_to_cpu(m.hdr.version) != TAPU_MT8183_IPC_VERSION ||
	    le32_to_cpu(m.hdr.length) != len || m.hdr.reserved)
		goto drop;
	if (type == TAPU_MT8183_IPC_PING && len == sizeof(m.ping))
		return tapu_fw_pong(core, &m.ping);
	if (type == TAPU_MT8183_IPC_JOB && len == sizeof(m.job))
		return tapu_fw_job(core, &m.job);
drop:
	core->stats.dropped++;
	return -EINVAL;
}

/**
 * tapu_fw_init() - set up a core and measure its throughput
 * @core: the core
 * @ops: platform operations
 * @priv: platform data, &tapu_fw_core.priv
 * @core_id: index of the core
 * @num_cores: cores of the APU
 * @max_segments: buffer table entries the platform maps per job, clamped
 *	to 1 to %TAPU_FW_MAX_SEGMENTS
 * @cycle_clock_hz: frequency of @ops->cycles
 *
 * Runs the executor's calibration (tapu_isa_work_per_ms()), which takes a
 * few million cycles, so that the pong can report the core's throughput.
 */
void tapu_fw_init(struct tapu_fw_core *core, const struct tapu_fw_ops *ops,
		  void *priv, u32 core_id, u32 num_cores, u32 max_segments,
		  u64 cycle_clock_hz)
{
	memset(core, 0, sizeof(*core));
	core->ops = ops;
	core->priv = priv;
	core->core_id = core_id;
	core->num_cores = num_cores;
	core->max_segments = clamp_t(u32, max_segments, 1, TAPU_FW_MAX_SEGMENTS);
	core->cycle_clock_hz = cycle_clock_hz;
	core->work_per_ms = tapu_isa_work_per_ms();
}
