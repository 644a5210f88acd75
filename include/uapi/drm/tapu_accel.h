/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * TAPU ("tiny APU") accelerator uAPI.
 *
 * Every structure is naturally aligned, padded explicitly and has the same
 * layout for 32- and 64-bit userspace. Padding, reserved fields and unknown
 * flags must be zero. Ioctl numbers are append-only.
 */
#ifndef __UAPI_DRM_TAPU_ACCEL_H__
#define __UAPI_DRM_TAPU_ACCEL_H__

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_TAPU_QUERY			0x00
#define DRM_TAPU_BO_CREATE		0x01
#define DRM_TAPU_BO_INFO		0x02
#define DRM_TAPU_BO_WAIT		0x03
#define DRM_TAPU_CMDSTREAM_CREATE	0x04
#define DRM_TAPU_SUBMIT			0x05
#define DRM_TAPU_WAIT_JOB		0x06

/**
 * enum drm_tapu_query_type - what DRM_IOCTL_TAPU_QUERY reports
 * @DRM_TAPU_QUERY_DEVICE: &struct drm_tapu_device_info
 * @DRM_TAPU_QUERY_ISA: &struct drm_tapu_isa_info
 * @DRM_TAPU_QUERY_LIMITS: &struct drm_tapu_limits
 */
enum drm_tapu_query_type {
	DRM_TAPU_QUERY_DEVICE = 0,
	DRM_TAPU_QUERY_ISA = 1,
	DRM_TAPU_QUERY_LIMITS = 2
};

/**
 * struct drm_tapu_query - argument of DRM_IOCTL_TAPU_QUERY
 *
 * With @size 0 the kernel only writes the size of the info structure to
 * @size. Otherwise @size must be at least the size of the first version of
 * the structure; the kernel copies at most @size bytes, zeroes the rest of a
 * longer buffer and writes the number of valid bytes to @size.
 */
struct drm_tapu_query {
	/** @type: one of &enum drm_tapu_query_type */
	__u32 type;
	/** @size: in: size of the buffer at @data; out: bytes valid */
	__u32 size;
	/** @data: user pointer to the info structure */
	__u64 data;
	/** @flags: must be zero */
	__u32 flags;
	/** @pad: must be zero */
	__u32 pad;
};

/**
 * struct drm_tapu_device_info - DRM_TAPU_QUERY_DEVICE
 */
struct drm_tapu_device_info {
	/** @backend: NUL-terminated backend name, e.g. "sim" or "mt8183" */
	char backend[32];
	/** @num_cores: number of cores jobs are balanced across */
	__u32 num_cores;
	/** @pad: zero */
	__u32 pad;
	/** @cycle_clock_hz: frequency of the cycle counter in WAIT_JOB */
	__u64 cycle_clock_hz;
};

/**
 * struct drm_tapu_isa_info - DRM_TAPU_QUERY_ISA
 */
struct drm_tapu_isa_info {
	/** @version: ISA version, DRM_TAPU_ISA_VERSION */
	__u32 version;
	/** @max_dim: largest tensor dimension */
	__u32 max_dim;
	/** @ops: bit (1 << opcode) set for each supported &enum drm_tapu_opcode */
	__u64 ops;
};

/**
 * struct drm_tapu_limits - DRM_TAPU_QUERY_LIMITS
 */
struct drm_tapu_limits {
	/** @max_bo_size: largest BO_CREATE size in bytes */
	__u64 max_bo_size;
	/** @max_cmdstream_size: largest command stream in bytes */
	__u32 max_cmdstream_size;
	/** @max_bos: largest SUBMIT bo_count (and number of slots) */
	__u32 max_bos;
	/** @max_in_syncs: largest SUBMIT in_sync_count */
	__u32 max_in_syncs;
	/** @max_jobs_in_flight: jobs one file may have unfinished */
	__u32 max_jobs_in_flight;
	/** @job_timeout_ms: time without progress after which a job hangs */
	__u32 job_timeout_ms;
	/** @results_kept: results of retired jobs kept per file for WAIT_JOB */
	__u32 results_kept;
	/**
	 * @max_stream_work: largest work of one command stream: the sum over
	 * its operations of their output elements times
	 * (%DRM_TAPU_ELEMENT_WORK + the MACs of one element for the MAC ops,
	 * Kh * Kw * Ci or Kh * Kw for depthwise, padding taps included, or
	 * the window taps for the pools), so that a valid job ends within
	 * @job_timeout_ms; CMDSTREAM_CREATE fails with -E2BIG above it. Since
	 * the second version of this structure.
	 */
	__u64 max_stream_work;
};

/**
 * DRM_TAPU_BO_WC - map the BO write-combined for CPU and device
 */
#define DRM_TAPU_BO_WC		(1 << 0)

/**
 * struct drm_tapu_bo_create - argument of DRM_IOCTL_TAPU_BO_CREATE
 *
 * Creates a zeroed, page-aligned GEM shmem buffer object.
 */
struct drm_tapu_bo_create {
	/** @size: in: requested size in bytes; out: allocated (page-aligned) */
	__u64 size;
	/** @flags: DRM_TAPU_BO_* */
	__u32 flags;
	/** @handle: out: GEM handle */
	__u32 handle;
	/** @offset: out: fake offset to mmap() the BO on the DRM file */
	__u64 offset;
};

/**
 * struct drm_tapu_bo_info - argument of DRM_IOCTL_TAPU_BO_INFO
 */
struct drm_tapu_bo_info {
	/** @handle: GEM handle of a data BO (created or imported) */
	__u32 handle;
	/** @pad: must be zero */
	__u32 pad;
	/** @size: out: size in bytes */
	__u64 size;
	/** @offset: out: fake offset to mmap() the BO */
	__u64 offset;
};

/**
 * struct drm_tapu_bo_wait - argument of DRM_IOCTL_TAPU_BO_WAIT
 *
 * Waits until no job reads or writes the BO. Returns -ETIME when
 * @timeout_ns passes first: only once CLOCK_MONOTONIC has reached it, never
 * earlier; a time already past only polls.
 */
struct drm_tapu_bo_wait {
	/** @handle: GEM handle */
	__u32 handle;
	/** @pad: must be zero */
	__u32 pad;
	/** @timeout_ns: absolute CLOCK_MONOTONIC timeout */
	__s64 timeout_ns;
};

/**
 * struct drm_tapu_cmdstream_create - argument of DRM_IOCTL_TAPU_CMDSTREAM_CREATE
 *
 * Copies and validates a command stream (a sequence of operations, each
 * starting with &struct drm_tapu_op_hdr). The result is an immutable,
 * kernel-owned object named by a GEM handle: it cannot be mmapped, exported
 * or used as a data BO, and can be submitted any number of times.
 *
 * The streams of one file together hold at most 64 times
 * &drm_tapu_limits.max_cmdstream_size of kernel memory, each counted as its
 * size rounded up to whole pages until its last handle and job are gone;
 * beyond, the ioctl fails with -ENOSPC. fdinfo reports the current amount as
 * ``tapu-cmdstream-memory``.
 */
struct drm_tapu_cmdstream_create {
	/** @data: user pointer to the stream */
	__u64 data;
	/** @size: stream size in bytes, a multiple of 4 */
	__u32 size;
	/** @flags: must be zero */
	__u32 flags;
	/** @handle: out: GEM handle of the validated stream */
	__u32 handle;
	/** @num_slots: out: BOs the stream needs (highest slot used + 1) */
	__u32 num_slots;
};

/** DRM_TAPU_BO_READ - the job reads the BO */
#define DRM_TAPU_BO_READ	(1 << 0)
/** DRM_TAPU_BO_WRITE - the job writes the BO */
#define DRM_TAPU_BO_WRITE	(1 << 1)

/**
 * struct drm_tapu_submit_bo - one entry of the SUBMIT BO list
 *
 * The index of the entry in the list is the slot the command stream uses.
 */
struct drm_tapu_submit_bo {
	/** @handle: GEM handle of a data BO */
	__u32 handle;
	/** @flags: DRM_TAPU_BO_READ and/or DRM_TAPU_BO_WRITE */
	__u32 flags;
};

/**
 * struct drm_tapu_sync - a syncobj the job waits for
 */
struct drm_tapu_sync {
	/** @handle: syncobj handle */
	__u32 handle;
	/** @pad: must be zero */
	__u32 pad;
	/** @point: timeline point, 0 for a binary syncobj */
	__u64 point;
};

/**
 * enum drm_tapu_priority - scheduling priority of a job
 * @DRM_TAPU_PRIO_LOW: background work
 * @DRM_TAPU_PRIO_NORMAL: default
 * @DRM_TAPU_PRIO_HIGH: needs CAP_SYS_NICE
 */
enum drm_tapu_priority {
	DRM_TAPU_PRIO_LOW = 0,
	DRM_TAPU_PRIO_NORMAL = 1,
	DRM_TAPU_PRIO_HIGH = 2
};

/**
 * struct drm_tapu_submit - argument of DRM_IOCTL_TAPU_SUBMIT
 *
 * Queues a validated command stream on the device. The job waits for the
 * in-syncobjs and, through each BO's reservation object, for earlier jobs
 * writing a BO it accesses (and reading a BO it writes). On completion the
 * out-syncobj (if any) is signalled.
 */
struct drm_tapu_submit {
	/** @cmdstream: handle from DRM_IOCTL_TAPU_CMDSTREAM_CREATE */
	__u32 cmdstream;
	/** @bo_count: entries at @bos, at least the stream's num_slots */
	__u32 bo_count;
	/** @bos: user pointer to @bo_count &struct drm_tapu_submit_bo */
	__u64 bos;
	/** @in_syncs: user pointer to @in_sync_count &struct drm_tapu_sync */
	__u64 in_syncs;
	/** @in_sync_count: number of in-syncobjs */
	__u32 in_sync_count;
	/** @out_sync: syncobj handle signalled on completion, 0 for none */
	__u32 out_sync;
	/** @out_sync_point: timeline point for @out_sync, 0 if binary */
	__u64 out_sync_point;
	/** @flags: must be zero */
	__u32 flags;
	/** @priority: &enum drm_tapu_priority */
	__u32 priority;
	/** @job_id: out: id for DRM_IOCTL_TAPU_WAIT_JOB, unique per file */
	__u64 job_id;
};

/**
 * enum drm_tapu_job_status - outcome of a job
 * @DRM_TAPU_JOB_DONE: completed successfully
 * @DRM_TAPU_JOB_FAILED: failed, &drm_tapu_wait_job.error says why:
 *	-ETIMEDOUT (hang, the core was reset), -EIO (device error),
 *	-ECANCELED (an in-syncobj's fence failed, or the last writer of a BO
 *	the job reads did while its fence was still the BO's write fence; the
 *	job did not run); jobs cancelled because their file was closed fail
 *	with -ESRCH, and those not yet on a core when the device was
 *	unplugged with -ENODEV. Out-syncobj and BO fences carry the error
 */
enum drm_tapu_job_status {
	DRM_TAPU_JOB_DONE = 1,
	DRM_TAPU_JOB_FAILED = 2
};

/**
 * struct drm_tapu_wait_job - argument of DRM_IOCTL_TAPU_WAIT_JOB
 *
 * Waits for a job of this file. Returns -ETIME if @timeout_ns passes first
 * (only once CLOCK_MONOTONIC has reached it; a time already past polls),
 * -EINVAL for an id never issued, -ENOENT for a retired job whose result is
 * no longer kept (see &drm_tapu_limits.results_kept). Waiting on a retired
 * job never blocks, and a job may be waited on any number of times.
 */
struct drm_tapu_wait_job {
	/** @job_id: from &drm_tapu_submit.job_id */
	__u64 job_id;
	/** @timeout_ns: absolute CLOCK_MONOTONIC timeout */
	__s64 timeout_ns;
	/** @status: out: &enum drm_tapu_job_status */
	__u32 status;
	/** @error: out: 0 or a negative errno */
	__s32 error;
	/** @cycles: out: device cycles the job took */
	__u64 cycles;
	/** @duration_ns: out: time from start on a core to completion */
	__u64 duration_ns;
};

#define DRM_IOCTL_TAPU_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TAPU_QUERY, struct drm_tapu_query)
#define DRM_IOCTL_TAPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TAPU_BO_CREATE, struct drm_tapu_bo_create)
#define DRM_IOCTL_TAPU_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TAPU_BO_INFO, struct drm_tapu_bo_info)
#define DRM_IOCTL_TAPU_BO_WAIT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_TAPU_BO_WAIT, struct drm_tapu_bo_wait)
#define DRM_IOCTL_TAPU_CMDSTREAM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TAPU_CMDSTREAM_CREATE, \
		 struct drm_tapu_cmdstream_create)
#define DRM_IOCTL_TAPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TAPU_SUBMIT, struct drm_tapu_submit)
#define DRM_IOCTL_TAPU_WAIT_JOB \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TAPU_WAIT_JOB, struct drm_tapu_wait_job)

/*
 * The TAPU command stream (ISA version 1).
 *
 * A stream is a sequence of operations. Each starts with &struct
 * drm_tapu_op_hdr whose size is exactly the size of that opcode's structure.
 * Tensors are int8 unless stated otherwise and are addressed by
 * &struct drm_tapu_tensor: a slot of the job's BO list, a byte offset, four
 * dimensions (N, H, W, C) and a byte stride per dimension. A stride of 0
 * repeats (broadcasts) the data along that dimension; strides also express
 * transposed views. Element [n][h][w][c] is at
 * offset + n * stride[0] + h * stride[1] + w * stride[2] + c * stride[3].
 *
 * Arithmetic, shared by every executor:
 *
 * - rshift(v, s) = s ? (v + (1 << (s - 1))) >> s : v, on signed 64-bit
 *   values with an arithmetic shift (rounds half up), 0 <= s <= 62.
 * - requant(acc, m, s, zp, lo, hi) = clamp(zp + rshift((s64)acc * m, s),
 *   lo, hi), computed in 64 bits.
 * - The MAC engine accumulates in 32-bit two's complement that wraps on
 *   overflow: acc = bias + sum((x - x_zp) * (w - w_zp)).
 * - Zero points and clamp bounds lie in [-128, 127], lo <= hi.
 */
#define DRM_TAPU_ISA_VERSION	2

/**
 * enum drm_tapu_opcode - TAPU ISA operations
 * @DRM_TAPU_OP_NOP: &struct drm_tapu_op_hdr only; does nothing
 * @DRM_TAPU_OP_CONV2D: &struct drm_tapu_op_conv; weights [Co, Kh, Kw, Ci],
 *	output[n][y][x][co] = requant(bias[co] + sum over ky, kx, ci of
 *	(in[n][y*sh + ky*dh - pt][x*sw + kx*dw - pl][ci] - in_zp) *
 *	(w[co][ky][kx][ci] - w_zp)); input positions in the padding read as
 *	in_zp. Output H = (H + pt + pb - dh * (Kh - 1) - 1) / sh + 1, same
 *	for W.
 * @DRM_TAPU_OP_DEPTHWISE_CONV2D: &struct drm_tapu_op_conv; weights
 *	[1, Kh, Kw, Co], Co = Ci * M; output channel co reads input channel
 *	co / M only.
 * @DRM_TAPU_OP_FULLY_CONNECTED: &struct drm_tapu_op_conv; weights
 *	[Co, 1, 1, Ci]; a 1x1 CONV2D whose stride, dilation and pad fields are
 *	all 0: every (n, h, w) row of Ci inputs gives Co outputs.
 * @DRM_TAPU_OP_ADD: &struct drm_tapu_op_eltwise, out = clamp(output_zp +
 *	rshift(v, shift), act_min, act_max) with the 64-bit
 *	v = (a - a_zp) * a_mul + (b - b_zp) * b_mul
 * @DRM_TAPU_OP_SUB: as ADD with v = (a - a_zp) * a_mul - (b - b_zp) * b_mul
 * @DRM_TAPU_OP_MUL: as ADD with v = (a - a_zp) * (b - b_zp) * a_mul;
 *	b_mul must be 0
 * @DRM_TAPU_OP_MAXPOOL: &struct drm_tapu_op_pool; maximum of the window
 *	elements inside the input, then clamped to [act_min, act_max]
 * @DRM_TAPU_OP_AVGPOOL: &struct drm_tapu_op_pool; sum of the window elements
 *	inside the input divided by their count, rounded half away from zero
 *	(TFLite), or half to even or to odd with %DRM_TAPU_OP_F_ROUND_EVEN or
 *	%DRM_TAPU_OP_F_ROUND_ODD (ONNX, which quantizes the float average
 *	with ties to even relative to the zero point), then clamped
 * @DRM_TAPU_OP_RELU: &struct drm_tapu_op_act; out = max(in, min); max = 0
 * @DRM_TAPU_OP_RELU6: &struct drm_tapu_op_act; out = clamp(in, min, max),
 *	min the zero point and max the quantised 6
 * @DRM_TAPU_OP_CLAMP: &struct drm_tapu_op_act; out = clamp(in, min, max)
 * @DRM_TAPU_OP_LUT: &struct drm_tapu_op_lut; out = table[(u8)(in + 128)]
 * @DRM_TAPU_OP_COPY: &struct drm_tapu_op_rs; same dims, element-wise copy
 * @DRM_TAPU_OP_RESHAPE: &struct drm_tapu_op_rs; same element count, copy in
 *	row-major (N, H, W, C) order of both tensors
 * @DRM_TAPU_OP_TRANSPOSE: &struct drm_tapu_op_rs; out.dim[i] =
 *	in.dim[perm[i]], out[i0][i1][i2][i3] = in[j] with j[perm[k]] = i[k]
 * @DRM_TAPU_OP_CONCAT: &struct drm_tapu_op_concat; a then b along axis
 * @DRM_TAPU_OP_PAD: &struct drm_tapu_op_pad; out.dim[i] = before[i] +
 *	in.dim[i] + after[i], padding filled with value
 * @DRM_TAPU_OP_COUNT: number of opcodes (not an operation)
 */
enum drm_tapu_opcode {
	DRM_TAPU_OP_NOP = 1,
	DRM_TAPU_OP_CONV2D = 2,
	DRM_TAPU_OP_DEPTHWISE_CONV2D = 3,
	DRM_TAPU_OP_FULLY_CONNECTED = 4,
	DRM_TAPU_OP_ADD = 5,
	DRM_TAPU_OP_SUB = 6,
	DRM_TAPU_OP_MUL = 7,
	DRM_TAPU_OP_MAXPOOL = 8,
	DRM_TAPU_OP_AVGPOOL = 9,
	DRM_TAPU_OP_RELU = 10,
	DRM_TAPU_OP_RELU6 = 11,
	DRM_TAPU_OP_CLAMP = 12,
	DRM_TAPU_OP_LUT = 13,
	DRM_TAPU_OP_COPY = 14,
	DRM_TAPU_OP_RESHAPE = 15,
	DRM_TAPU_OP_TRANSPOSE = 16,
	DRM_TAPU_OP_CONCAT = 17,
	DRM_TAPU_OP_PAD = 18,
	DRM_TAPU_OP_COUNT
};

/**
 * struct drm_tapu_op_hdr - header of every operation
 */
struct drm_tapu_op_hdr {
	/** @opcode: &enum drm_tapu_opcode */
	__u16 opcode;
	/** @size: size of the whole operation structure in bytes */
	__u16 size;
	/** @flags: DRM_TAPU_OP_F_*, only where the opcode allows them */
	__u32 flags;
};

/** DRM_TAPU_OP_F_BIAS - MAC op: add the int32 bias tensor */
#define DRM_TAPU_OP_F_BIAS		(1 << 0)
/** DRM_TAPU_OP_F_PER_CHANNEL - MAC op: requantise per output channel */
#define DRM_TAPU_OP_F_PER_CHANNEL	(1 << 1)
/**
 * DRM_TAPU_OP_F_ROUND_EVEN - AVGPOOL: round the average half to even;
 * since ISA version 2
 */
#define DRM_TAPU_OP_F_ROUND_EVEN	(1 << 2)
/**
 * DRM_TAPU_OP_F_ROUND_ODD - AVGPOOL: round the average half to odd, not
 * with %DRM_TAPU_OP_F_ROUND_EVEN; since ISA version 2
 */
#define DRM_TAPU_OP_F_ROUND_ODD		(1 << 3)

/** DRM_TAPU_MAX_DIM - largest tensor dimension */
#define DRM_TAPU_MAX_DIM	65536

/**
 * DRM_TAPU_ELEMENT_WORK - work of an output element beside its MACs or
 * window taps, see &drm_tapu_limits.max_stream_work
 */
#define DRM_TAPU_ELEMENT_WORK	6

/**
 * struct drm_tapu_tensor - a tensor view of a slot
 *
 * An unused tensor (e.g. bias without DRM_TAPU_OP_F_BIAS) is all zero.
 * Extents are checked against the slot's BO at submit time.
 */
struct drm_tapu_tensor {
	/** @slot: index in the SUBMIT BO list */
	__u32 slot;
	/** @offset: byte offset of element [0][0][0][0] in the BO */
	__u32 offset;
	/** @dim: N, H, W, C; each 1 to DRM_TAPU_MAX_DIM */
	__u32 dim[4];
	/** @stride: byte stride of each dimension (multiple of the element size) */
	__u32 stride[4];
};

/**
 * struct drm_tapu_op_conv - CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED
 *
 * The bias tensor holds int32 values, [1, 1, 1, Co]. With
 * DRM_TAPU_OP_F_PER_CHANNEL the quant tensor holds [1, 1, 1, Co] pairs of
 * (int32 multiplier, uint32 shift), element size 8, and @multiplier and
 * @shift are 0; otherwise the quant tensor is unused.
 */
struct drm_tapu_op_conv {
	/** @hdr: operation header */
	struct drm_tapu_op_hdr hdr;
	/** @input: [N, H, W, Ci] */
	struct drm_tapu_tensor input;
	/** @weights: layout by opcode, see &enum drm_tapu_opcode */
	struct drm_tapu_tensor weights;
	/** @bias: int32 [1, 1, 1, Co], with DRM_TAPU_OP_F_BIAS */
	struct drm_tapu_tensor bias;
	/** @quant: per-channel requantisation, with DRM_TAPU_OP_F_PER_CHANNEL */
	struct drm_tapu_tensor quant;
	/** @output: [N, Ho, Wo, Co] */
	struct drm_tapu_tensor output;
	/** @stride: vertical, horizontal stride, at least 1 */
	__u16 stride[2];
	/** @dilation: vertical, horizontal dilation, at least 1 */
	__u16 dilation[2];
	/** @pad: top, left, bottom, right zero-point padding */
	__u16 pad[4];
	/** @input_zp: input zero point */
	__s32 input_zp;
	/** @weight_zp: weight zero point */
	__s32 weight_zp;
	/** @output_zp: output zero point */
	__s32 output_zp;
	/** @multiplier: per-tensor requantisation multiplier */
	__s32 multiplier;
	/** @shift: per-tensor requantisation right shift, 0 to 62 */
	__u32 shift;
	/** @act_min: lower clamp of the output */
	__s32 act_min;
	/** @act_max: upper clamp of the output */
	__s32 act_max;
	/** @reserved: must be zero */
	__u32 reserved;
};

/**
 * struct drm_tapu_op_eltwise - ADD, SUB, MUL
 *
 * Each input dimension equals the output's or is 1 (broadcast).
 */
struct drm_tapu_op_eltwise {
	/** @hdr: operation header */
	struct drm_tapu_op_hdr hdr;
	/** @a: first input */
	struct drm_tapu_tensor a;
	/** @b: second input */
	struct drm_tapu_tensor b;
	/** @output: output */
	struct drm_tapu_tensor output;
	/** @a_zp: zero point of @a */
	__s32 a_zp;
	/** @b_zp: zero point of @b */
	__s32 b_zp;
	/** @output_zp: zero point of @output */
	__s32 output_zp;
	/** @a_mul: multiplier of @a */
	__s32 a_mul;
	/** @b_mul: multiplier of @b (0 for MUL) */
	__s32 b_mul;
	/** @shift: right shift, 0 to 62 */
	__u32 shift;
	/** @act_min: lower clamp of the output */
	__s32 act_min;
	/** @act_max: upper clamp of the output */
	__s32 act_max;
};

/**
 * struct drm_tapu_op_pool - MAXPOOL, AVGPOOL
 *
 * Output H = (H + pt + pb - Kh) / sh + 1, same for W; each padding is
 * smaller than the kernel so that every window holds an input element.
 * N and C of input and output are equal.
 */
struct drm_tapu_op_pool {
	/** @hdr: operation header */
	struct drm_tapu_op_hdr hdr;
	/** @input: [N, H, W, C] */
	struct drm_tapu_tensor input;
	/** @output: [N, Ho, Wo, C] */
	struct drm_tapu_tensor output;
	/** @kernel: window height, width, at least 1 */
	__u16 kernel[2];
	/** @stride: vertical, horizontal stride, at least 1 */
	__u16 stride[2];
	/** @pad: top, left, bottom, right */
	__u16 pad[4];
	/** @act_min: lower clamp of the output */
	__s32 act_min;
	/** @act_max: upper clamp of the output */
	__s32 act_max;
};

/**
 * struct drm_tapu_op_act - RELU, RELU6, CLAMP
 *
 * Input and output have equal dims.
 */
struct drm_tapu_op_act {
	/** @hdr: operation header */
	struct drm_tapu_op_hdr hdr;
	/** @input: input */
	struct drm_tapu_tensor input;
	/** @output: output */
	struct drm_tapu_tensor output;
	/** @min: lower bound (the zero point for RELU and RELU6) */
	__s32 min;
	/** @max: upper bound, 0 for RELU */
	__s32 max;
};

/**
 * struct drm_tapu_op_lut - LUT
 *
 * Input and output have equal dims; the table is [1, 1, 1, 256].
 */
struct drm_tapu_op_lut {
	/** @hdr: operation header */
	struct drm_tapu_op_hdr hdr;
	/** @input: input */
	struct drm_tapu_tensor input;
	/** @output: output */
	struct drm_tapu_tensor output;
	/** @table: 256 int8 entries, indexed by input + 128 */
	struct drm_tapu_tensor table;
};

/**
 * struct drm_tapu_op_rs - COPY, RESHAPE, TRANSPOSE
 */
struct drm_tapu_op_rs {
	/** @hdr: operation header */
	struct drm_tapu_op_hdr hdr;
	/** @input: input */
	struct drm_tapu_tensor input;
	/** @output: output */
	struct drm_tapu_tensor output;
	/** @perm: TRANSPOSE: a permutation of 0..3; zero for the others */
	__u8 perm[4];
	/** @reserved: must be zero */
	__u32 reserved;
};

/**
 * struct drm_tapu_op_concat - CONCAT
 */
struct drm_tapu_op_concat {
	/** @hdr: operation header */
	struct drm_tapu_op_hdr hdr;
	/** @a: first input */
	struct drm_tapu_tensor a;
	/** @b: second input, placed after @a along @axis */
	struct drm_tapu_tensor b;
	/** @output: output */
	struct drm_tapu_tensor output;
	/** @axis: 0 to 3 */
	__u32 axis;
	/** @reserved: must be zero */
	__u32 reserved;
};

/**
 * struct drm_tapu_op_pad - PAD
 */
struct drm_tapu_op_pad {
	/** @hdr: operation header */
	struct drm_tapu_op_hdr hdr;
	/** @input: input */
	struct drm_tapu_tensor input;
	/** @output: output */
	struct drm_tapu_tensor output;
	/** @before: elements added before each dimension */
	__u16 before[4];
	/** @after: elements added after each dimension */
	__u16 after[4];
	/** @value: fill value, -128 to 127 */
	__s32 value;
	/** @reserved: must be zero */
	__u32 reserved;
};

#if defined(__cplusplus)
}
#endif

#endif /* __UAPI_DRM_TAPU_ACCEL_H__ */
