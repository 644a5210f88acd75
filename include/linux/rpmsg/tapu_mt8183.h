/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Copyright 2026 The TAPU authors */

/*
 * IPC protocol between the TAPU MT8183 backend (tapu_mt8183.ko) and the APU
 * firmware running on each Cadence Xtensa VP6 core, over one rpmsg channel
 * per core ("rpmsg-mt8183-apu<N>"). This header is the contract an open
 * firmware implements: every message is little endian, naturally aligned
 * and padded to a multiple of 8 bytes, so that both sides (arm64 Linux,
 * 32-bit Xtensa firmware) see identical layouts. Reserved fields are sent
 * as zero and checked by the receiver. See
 * Documentation/accel/tapu/mt8183.rst.
 */

#ifndef __LINUX_RPMSG_TAPU_MT8183_H
#define __LINUX_RPMSG_TAPU_MT8183_H

#include <linux/build_bug.h>
#include <linux/types.h>

/** TAPU_MT8183_IPC_VERSION - protocol version in every message header */
#define TAPU_MT8183_IPC_VERSION		2

/**
 * TAPU_MT8183_IPC_MAX_SEGMENTS - entries of a job's buffer table, at most
 *
 * With an IOMMU each slot is one contiguous segment; without one a slot can
 * take one entry per physically contiguous run of pages.
 */
#define TAPU_MT8183_IPC_MAX_SEGMENTS	4096

/** TAPU_MT8183_IPC_MAX_SLOTS - slots (BOs) of a job, at most */
#define TAPU_MT8183_IPC_MAX_SLOTS	64

/** TAPU_MT8183_IPC_MAX_CMD_SIZE - bytes of a command stream, at most */
#define TAPU_MT8183_IPC_MAX_CMD_SIZE	0x100000

/**
 * enum tapu_mt8183_ipc_type - message types
 * @TAPU_MT8183_IPC_PING: host to firmware, &struct tapu_mt8183_ipc_ping;
 *	sent once when the channel appears, before any job
 * @TAPU_MT8183_IPC_PONG: firmware to host, &struct tapu_mt8183_ipc_pong,
 *	the answer to a ping
 * @TAPU_MT8183_IPC_JOB: host to firmware, &struct tapu_mt8183_ipc_job;
 *	at most one job is outstanding per channel
 * @TAPU_MT8183_IPC_JOB_DONE: firmware to host,
 *	&struct tapu_mt8183_ipc_job_done, the completion of a job
 */
enum tapu_mt8183_ipc_type {
	TAPU_MT8183_IPC_PING = 1,
	TAPU_MT8183_IPC_PONG = 2,
	TAPU_MT8183_IPC_JOB = 3,
	TAPU_MT8183_IPC_JOB_DONE = 4,
};

/**
 * enum tapu_mt8183_ipc_status - job completion status
 * @TAPU_MT8183_IPC_STATUS_OK: the job ran to completion
 * @TAPU_MT8183_IPC_STATUS_INVALID: the job message, its buffer table or its
 *	command stream was rejected by the firmware; nothing was written
 * @TAPU_MT8183_IPC_STATUS_FAULT: the DSP faulted while executing the job
 *	(e.g. an access outside the buffer table); outputs are undefined
 * @TAPU_MT8183_IPC_STATUS_COUNT: number of statuses; larger values are
 *	malformed
 */
enum tapu_mt8183_ipc_status {
	TAPU_MT8183_IPC_STATUS_OK = 0,
	TAPU_MT8183_IPC_STATUS_INVALID = 1,
	TAPU_MT8183_IPC_STATUS_FAULT = 2,
	TAPU_MT8183_IPC_STATUS_COUNT,
};

/**
 * struct tapu_mt8183_ipc_hdr - header of every message
 * @version: %TAPU_MT8183_IPC_VERSION; a receiver drops other versions
 * @type: &enum tapu_mt8183_ipc_type
 * @seq: sequence number chosen by the host for a request; a reply carries
 *	the @seq of the request it answers
 * @length: size of the whole message in bytes, header included; equals the
 *	size of the struct of @type and the length of the rpmsg payload
 * @reserved: zero
 */
struct tapu_mt8183_ipc_hdr {
	__le16 version;
	__le16 type;
	__le32 seq;
	__le32 length;
	__le32 reserved;
};

/**
 * struct tapu_mt8183_ipc_ping - liveness and capability query
 * @hdr: header, @hdr.type %TAPU_MT8183_IPC_PING
 * @cookie: arbitrary value the pong echoes
 */
struct tapu_mt8183_ipc_ping {
	struct tapu_mt8183_ipc_hdr hdr;
	__le64 cookie;
};

/**
 * struct tapu_mt8183_ipc_pong - answer to a ping
 * @hdr: header, @hdr.type %TAPU_MT8183_IPC_PONG, @hdr.seq of the ping
 * @cookie: @cookie of the ping
 * @core_id: index of the VP6 core serving this channel, the N of its name
 * @num_cores: number of cores (channels) the firmware serves, 1 to 16
 * @isa_version: TAPU ISA version the firmware executes (DRM_TAPU_ISA_VERSION)
 * @max_segments: buffer table entries the firmware accepts per job, 1 to
 *	%TAPU_MT8183_IPC_MAX_SEGMENTS
 * @cycle_clock_hz: frequency of the cycle counter reported in job
 *	completions, non-zero
 * @work_per_ms: work (as the TAPU validator counts it) a core gets through
 *	per millisecond at its slowest op, non-zero: it bounds the work of a
 *	command stream with the job timeout
 */
struct tapu_mt8183_ipc_pong {
	struct tapu_mt8183_ipc_hdr hdr;
	__le64 cookie;
	__le32 core_id;
	__le32 num_cores;
	__le32 isa_version;
	__le32 max_segments;
	__le64 cycle_clock_hz;
	__le64 work_per_ms;
};

/**
 * struct tapu_mt8183_ipc_segment - an entry of a job's buffer table
 * @slot: slot (index in the job's BO list) the segment belongs to
 * @reserved: zero
 * @addr: device address of the segment, as mapped for the DSP
 * @size: size of the segment in bytes, non-zero
 *
 * The table lists the segments of slot 0, then slot 1 and so on, each
 * slot's segments in order: a slot's memory is their concatenation.
 * Every slot below &tapu_mt8183_ipc_job.num_slots has at least one segment.
 */
struct tapu_mt8183_ipc_segment {
	__le32 slot;
	__le32 reserved;
	__le64 addr;
	__le64 size;
};

/**
 * struct tapu_mt8183_ipc_job - run a command stream
 * @hdr: header, @hdr.type %TAPU_MT8183_IPC_JOB
 * @job_id: identifier the completion echoes; never reused on a channel
 *	while the job may be outstanding
 * @cmd_addr: device address of the command stream, validated by the kernel
 *	(TAPU ISA, include/uapi/drm/tapu_accel.h); read-only for the DSP
 * @cmd_size: size of the command stream in bytes, 1 to
 *	%TAPU_MT8183_IPC_MAX_CMD_SIZE
 * @table_addr: device address of the buffer table, an array of
 *	&struct tapu_mt8183_ipc_segment; read-only for the DSP
 * @table_entries: entries of the buffer table, at most the pong's
 *	@max_segments
 * @num_slots: slots of the job, at most %TAPU_MT8183_IPC_MAX_SLOTS
 *
 * The command stream and the table stay valid until the completion is
 * received or the channel goes away.
 */
struct tapu_mt8183_ipc_job {
	struct tapu_mt8183_ipc_hdr hdr;
	__le64 job_id;
	__le64 cmd_addr;
	__le64 cmd_size;
	__le64 table_addr;
	__le32 table_entries;
	__le32 num_slots;
};

/**
 * struct tapu_mt8183_ipc_job_done - completion of a job
 * @hdr: header, @hdr.type %TAPU_MT8183_IPC_JOB_DONE, @hdr.seq of the job
 * @job_id: @job_id of the job
 * @cycles: DSP cycles the job took, in units of the pong's @cycle_clock_hz
 * @status: &enum tapu_mt8183_ipc_status
 * @reserved: zero
 */
struct tapu_mt8183_ipc_job_done {
	struct tapu_mt8183_ipc_hdr hdr;
	__le64 job_id;
	__le64 cycles;
	__le32 status;
	__le32 reserved;
};

static_assert(sizeof(struct tapu_mt8183_ipc_hdr) == 16);
static_assert(sizeof(struct tapu_mt8183_ipc_ping) == 24);
static_assert(sizeof(struct tapu_mt8183_ipc_pong) == 56);
static_assert(sizeof(struct tapu_mt8183_ipc_segment) == 24);
static_assert(sizeof(struct tapu_mt8183_ipc_job) == 56);
static_assert(sizeof(struct tapu_mt8183_ipc_job_done) == 40);

#endif /* __LINUX_RPMSG_TAPU_MT8183_H */
