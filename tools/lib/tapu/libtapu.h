/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtapu - userspace library for TAPU accel devices.
 *
 * Every function returning int returns 0 or a negative errno;
 * tapu_strerror() turns one into a message. Timeouts are relative, in
 * nanoseconds; TAPU_TIMEOUT_INFINITE waits for ever. Objects (BOs, streams,
 * syncobjs) belong to the device they were created on and must be freed
 * before it is closed; tapu_device_close() frees BOs left over.
 */
#ifndef __LIBTAPU_H__
#define __LIBTAPU_H__

#include <stddef.h>
#include <stdint.h>

#include <drm/tapu_accel.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** TAPU_TIMEOUT_INFINITE - timeout that never expires */
#define TAPU_TIMEOUT_INFINITE	INT64_MAX

struct tapu_device;
struct tapu_bo;
struct tapu_stream;
struct tapu_stream_builder;

/**
 * struct tapu_info - everything DRM_IOCTL_TAPU_QUERY reports
 * @device: backend, cores, cycle clock
 * @isa: ISA version, supported ops, largest dimension
 * @limits: sizes and counts the device accepts
 */
struct tapu_info {
	struct drm_tapu_device_info device;
	struct drm_tapu_isa_info isa;
	struct drm_tapu_limits limits;
};

/**
 * struct tapu_job_result - outcome of a job, from tapu_wait()
 * @status: &enum drm_tapu_job_status
 * @error: 0 or the negative errno the job failed with
 * @cycles: device cycles the job took
 * @duration_ns: time from start on a core to completion
 */
struct tapu_job_result {
	uint32_t status;
	int32_t error;
	uint64_t cycles;
	uint64_t duration_ns;
};

/**
 * tapu_strerror() - message for a libtapu error
 * @err: negative (or positive) errno returned by a libtapu function
 *
 * Return: a static string explaining @err in TAPU terms; never NULL.
 */
const char *tapu_strerror(int err);

/**
 * tapu_op_name() - name of an ISA operation
 * @opcode: &enum drm_tapu_opcode
 *
 * Return: e.g. "CONV2D", or NULL for an unknown opcode.
 */
const char *tapu_op_name(unsigned int opcode);

/* Devices */

/**
 * tapu_device_find() - path of the @index-th TAPU device
 * @index: position among the TAPU accel nodes, ordered by minor number
 * @path: buffer for the node path, e.g. "/dev/accel/accel0"
 * @len: size of @path
 *
 * Walks /sys/class/accel and keeps the nodes whose DRM driver is "tapu".
 *
 * Return: 0; -ENODEV if there are not that many TAPU devices, or else the
 * first error met checking a node (e.g. -EACCES, -ENAMETOOLONG).
 */
int tapu_device_find(unsigned int index, char *path, size_t len);

/**
 * tapu_device_open() - open a TAPU device by path
 * @path: accel node, e.g. "/dev/accel/accel0"
 * @dev: out: the device
 *
 * Return: 0; -ENOENT for a missing node, -ENODEV if it is not a TAPU
 * device, -EACCES, -ENOMEM.
 */
int tapu_device_open(const char *path, struct tapu_device **dev);

/**
 * tapu_device_open_index() - open the @index-th TAPU device
 * @index: as for tapu_device_find()
 * @dev: out: the device
 *
 * Return: 0 or a negative errno of tapu_device_find() or tapu_device_open().
 */
int tapu_device_open_index(unsigned int index, struct tapu_device **dev);

/**
 * tapu_device_close() - close a device, freeing its remaining BOs
 * @dev: device, or NULL
 */
void tapu_device_close(struct tapu_device *dev);

/**
 * tapu_device_path() - path the device was opened with
 * @dev: device
 *
 * Return: the path, valid until tapu_device_close().
 */
const char *tapu_device_path(const struct tapu_device *dev);

/**
 * tapu_device_fd() - file descriptor of the device, for raw ioctls
 * @dev: device
 *
 * Return: the fd, owned by @dev.
 */
int tapu_device_fd(const struct tapu_device *dev);

/**
 * tapu_device_query() - query device, ISA and limits
 * @dev: device
 * @info: out: what the device reports
 *
 * Return: 0 or a negative errno of DRM_IOCTL_TAPU_QUERY.
 */
int tapu_device_query(struct tapu_device *dev, struct tapu_info *info);

/* Buffer objects */

/**
 * tapu_bo_create() - allocate a zeroed, page-aligned BO
 * @dev: device
 * @size: bytes, rounded up to pages
 * @flags: 0 or DRM_TAPU_BO_WC
 * @bo: out: the BO
 *
 * Return: 0; -EINVAL for size 0 or unknown flags, -E2BIG beyond
 * &drm_tapu_limits.max_bo_size, -ENOMEM.
 */
int tapu_bo_create(struct tapu_device *dev, uint64_t size, uint32_t flags,
		   struct tapu_bo **bo);

/**
 * tapu_bo_free() - drop a reference to a BO; unmap and close it at the last
 * @bo: BO, or NULL
 *
 * Jobs using the BO keep it alive until they finish.
 */
void tapu_bo_free(struct tapu_bo *bo);

/**
 * tapu_bo_map() - map a BO for CPU access (once; later calls reuse it)
 * @bo: BO
 * @map: out: address of the first byte, valid until the BO is freed
 *
 * Return: 0 or a negative errno of mmap().
 */
int tapu_bo_map(struct tapu_bo *bo, void **map);

/**
 * tapu_bo_handle() - GEM handle of a BO
 * @bo: BO
 *
 * Return: the handle.
 */
uint32_t tapu_bo_handle(const struct tapu_bo *bo);

/**
 * tapu_bo_size() - size of a BO
 * @bo: BO
 *
 * Return: the size in bytes (page-aligned).
 */
uint64_t tapu_bo_size(const struct tapu_bo *bo);

/**
 * tapu_bo_export() - export a BO as a dma-buf
 * @bo: BO
 * @fd: out: dma-buf file descriptor (close-on-exec, read-write); the
 *	caller closes it
 *
 * Return: 0 or a negative errno.
 */
int tapu_bo_export(struct tapu_bo *bo, int *fd);

/**
 * tapu_bo_import() - import a dma-buf as a BO
 * @dev: device
 * @fd: dma-buf file descriptor; stays owned by the caller
 * @bo: out: the BO. Importing a buffer @dev already holds returns that BO
 *	with one more reference: free it once per import.
 *
 * Return: 0; -EBADF or -EINVAL for a bad fd, -ENOMEM.
 */
int tapu_bo_import(struct tapu_device *dev, int fd, struct tapu_bo **bo);

/**
 * tapu_bo_wait() - wait until no job uses a BO
 * @bo: BO
 * @timeout_ns: relative timeout
 *
 * Return: 0, -ETIME when the timeout expires first.
 */
int tapu_bo_wait(struct tapu_bo *bo, int64_t timeout_ns);

/* Tensor descriptors: int8 unless @elem_size says otherwise. */

/**
 * tapu_tensor_nhwc() - a dense row-major NHWC tensor
 * @slot: index of the BO in the submit list
 * @offset: byte offset of element [0][0][0][0]
 * @n: batch
 * @h: height
 * @w: width
 * @c: channels
 * @elem_size: bytes per element (1 for int8, 4 for an int32 bias, 8 for
 *	per-channel quantisation pairs)
 *
 * Return: the descriptor.
 */
struct drm_tapu_tensor tapu_tensor_nhwc(uint32_t slot, uint32_t offset,
					uint32_t n, uint32_t h, uint32_t w,
					uint32_t c, uint32_t elem_size);

/**
 * tapu_tensor_permute() - turn a tensor into a transposed view
 * @t: tensor to change
 * @perm: permutation of 0..3: new dim[i] (and stride) is old dim[perm[i]]
 *
 * Return: 0, -EINVAL if @perm is not a permutation.
 */
int tapu_tensor_permute(struct drm_tapu_tensor *t, const uint8_t perm[4]);

/**
 * tapu_tensor_broadcast() - repeat dimensions of size 1 (stride 0)
 * @t: tensor to change
 * @dim: target N, H, W, C; each equal to @t's or @t's is 1
 *
 * Return: 0, -EINVAL if a dimension cannot be broadcast.
 */
int tapu_tensor_broadcast(struct drm_tapu_tensor *t, const uint32_t dim[4]);

/**
 * tapu_tensor_slice() - narrow a tensor to a window
 * @t: tensor to change
 * @start: first element along each dimension
 * @dim: size of the window along each dimension, at least 1
 *
 * Return: 0, -EINVAL if the window does not fit, -EOVERFLOW if the offset
 * overflows.
 */
int tapu_tensor_slice(struct drm_tapu_tensor *t, const uint32_t start[4],
		      const uint32_t dim[4]);

/* Command stream builder */

/**
 * struct tapu_conv_params - CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED
 * @input: [N, H, W, Ci]
 * @weights: layout by opcode, see &enum drm_tapu_opcode
 * @bias: int32 [1, 1, 1, Co]; all zero for none
 * @quant: per-channel (int32 multiplier, uint32 shift) pairs [1, 1, 1, Co],
 *	element size 8; all zero for per-tensor @multiplier and @shift
 * @output: [N, Ho, Wo, Co]
 * @stride: vertical, horizontal; 0 means 1 (ignored by FULLY_CONNECTED)
 * @dilation: vertical, horizontal; 0 means 1 (ignored by FULLY_CONNECTED)
 * @pad: top, left, bottom, right (ignored by FULLY_CONNECTED)
 * @input_zp: input zero point
 * @weight_zp: weight zero point
 * @output_zp: output zero point
 * @multiplier: per-tensor requantisation multiplier
 * @shift: per-tensor requantisation right shift
 * @act_min: lower clamp of the output
 * @act_max: upper clamp of the output
 */
struct tapu_conv_params {
	struct drm_tapu_tensor input, weights, bias, quant, output;
	uint16_t stride[2], dilation[2], pad[4];
	int32_t input_zp, weight_zp, output_zp, multiplier;
	uint32_t shift;
	int32_t act_min, act_max;
};

/**
 * struct tapu_eltwise_params - ADD, SUB, MUL
 * @a: first input (may be a broadcast view)
 * @b: second input (may be a broadcast view)
 * @output: output
 * @a_zp: zero point of @a
 * @b_zp: zero point of @b
 * @output_zp: zero point of @output
 * @a_mul: multiplier of @a (of the product for MUL)
 * @b_mul: multiplier of @b (ignored by MUL)
 * @shift: right shift
 * @act_min: lower clamp of the output
 * @act_max: upper clamp of the output
 */
struct tapu_eltwise_params {
	struct drm_tapu_tensor a, b, output;
	int32_t a_zp, b_zp, output_zp, a_mul, b_mul;
	uint32_t shift;
	int32_t act_min, act_max;
};

/**
 * struct tapu_pool_params - MAXPOOL, AVGPOOL
 * @input: [N, H, W, C]
 * @output: [N, Ho, Wo, C]
 * @kernel: window height, width
 * @stride: vertical, horizontal; 0 means 1
 * @pad: top, left, bottom, right
 * @act_min: lower clamp of the output
 * @act_max: upper clamp of the output
 * @flags: AVGPOOL: 0 to round the average's ties away from zero (TFLite),
 *	%DRM_TAPU_OP_F_ROUND_EVEN or %DRM_TAPU_OP_F_ROUND_ODD to round them
 *	to even or odd (ONNX, depending on the zero point); ISA version 2
 */
struct tapu_pool_params {
	struct drm_tapu_tensor input, output;
	uint16_t kernel[2], stride[2], pad[4];
	int32_t act_min, act_max;
	uint32_t flags;
};

/**
 * tapu_sb_new() - create an empty stream builder
 * @sb: out: the builder
 *
 * The builder grows as operations are added; any number fit (the device
 * limits the stream size, see &drm_tapu_limits.max_cmdstream_size).
 * The op functions below return 0 or a negative errno; the first error
 * also sticks to the builder: later ops and tapu_stream_create() return it
 * until tapu_sb_reset().
 *
 * Return: 0 or -ENOMEM.
 */
int tapu_sb_new(struct tapu_stream_builder **sb);

/**
 * tapu_sb_free() - free a builder
 * @sb: builder, or NULL
 */
void tapu_sb_free(struct tapu_stream_builder *sb);

/**
 * tapu_sb_reset() - drop every operation and the sticky error
 * @sb: builder
 */
void tapu_sb_reset(struct tapu_stream_builder *sb);

/**
 * tapu_sb_error() - the builder's sticky error
 * @sb: builder
 *
 * Return: 0, or the error of the first op that failed since the builder
 * was created or reset (-EINVAL for a NULL builder).
 */
int tapu_sb_error(const struct tapu_stream_builder *sb);

/**
 * tapu_sb_data() - the stream built so far
 * @sb: builder
 * @size: out: size in bytes (optional)
 * @num_ops: out: number of operations (optional)
 *
 * Return: the encoded stream, valid until the builder changes.
 */
const void *tapu_sb_data(const struct tapu_stream_builder *sb, size_t *size,
			 unsigned int *num_ops);

/** tapu_sb_nop() - append NOP. @sb: builder. Return: 0 or -errno. */
int tapu_sb_nop(struct tapu_stream_builder *sb);
/** tapu_sb_conv2d() - append CONV2D. @sb: builder. @p: parameters. Return: 0 or -errno. */
int tapu_sb_conv2d(struct tapu_stream_builder *sb, const struct tapu_conv_params *p);
/** tapu_sb_depthwise_conv2d() - append DEPTHWISE_CONV2D. @sb: builder. @p: parameters. Return: 0 or -errno. */
int tapu_sb_depthwise_conv2d(struct tapu_stream_builder *sb,
			     const struct tapu_conv_params *p);
/** tapu_sb_fully_connected() - append FULLY_CONNECTED. @sb: builder. @p: parameters. Return: 0 or -errno. */
int tapu_sb_fully_connected(struct tapu_stream_builder *sb,
			    const struct tapu_conv_params *p);
/** tapu_sb_add() - append ADD. @sb: builder. @p: parameters. Return: 0 or -errno. */
int tapu_sb_add(struct tapu_stream_builder *sb, const struct tapu_eltwise_params *p);
/** tapu_sb_sub() - append SUB. @sb: builder. @p: parameters. Return: 0 or -errno. */
int tapu_sb_sub(struct tapu_stream_builder *sb, const struct tapu_eltwise_params *p);
/** tapu_sb_mul() - append MUL. @sb: builder. @p: parameters. Return: 0 or -errno. */
int tapu_sb_mul(struct tapu_stream_builder *sb, const struct tapu_eltwise_params *p);
/** tapu_sb_maxpool() - append MAXPOOL. @sb: builder. @p: parameters. Return: 0 or -errno. */
int tapu_sb_maxpool(struct tapu_stream_builder *sb, const struct tapu_pool_params *p);
/** tapu_sb_avgpool() - append AVGPOOL. @sb: builder. @p: parameters. Return: 0 or -errno. */
int tapu_sb_avgpool(struct tapu_stream_builder *sb, const struct tapu_pool_params *p);

/**
 * tapu_sb_relu() - append RELU: out = max(in, @zero_point)
 * @sb: builder
 * @in: input
 * @out: output, same dims
 * @zero_point: quantised zero
 *
 * Return: 0 or a negative errno.
 */
int tapu_sb_relu(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		 const struct drm_tapu_tensor *out, int32_t zero_point);

/**
 * tapu_sb_relu6() - append RELU6: out = clamp(in, @zero_point, @six)
 * @sb: builder
 * @in: input
 * @out: output, same dims
 * @zero_point: quantised zero
 * @six: quantised 6
 *
 * Return: 0 or a negative errno.
 */
int tapu_sb_relu6(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		  const struct drm_tapu_tensor *out, int32_t zero_point, int32_t six);

/**
 * tapu_sb_clamp() - append CLAMP: out = clamp(in, @min, @max)
 * @sb: builder
 * @in: input
 * @out: output, same dims
 * @min: lower bound
 * @max: upper bound
 *
 * Return: 0 or a negative errno.
 */
int tapu_sb_clamp(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		  const struct drm_tapu_tensor *out, int32_t min, int32_t max);

/**
 * tapu_sb_lut() - append LUT: out = table[(u8)(in + 128)]
 * @sb: builder
 * @in: input
 * @out: output, same dims
 * @table: [1, 1, 1, 256] int8
 *
 * Return: 0 or a negative errno.
 */
int tapu_sb_lut(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		const struct drm_tapu_tensor *out, const struct drm_tapu_tensor *table);

/** tapu_sb_copy() - append COPY (same dims). @sb: builder. @in: input. @out: output. Return: 0 or -errno. */
int tapu_sb_copy(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		 const struct drm_tapu_tensor *out);
/** tapu_sb_reshape() - append RESHAPE (same element count). @sb: builder. @in: input. @out: output. Return: 0 or -errno. */
int tapu_sb_reshape(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		    const struct drm_tapu_tensor *out);

/**
 * tapu_sb_transpose() - append TRANSPOSE: out.dim[i] = in.dim[perm[i]]
 * @sb: builder
 * @in: input
 * @out: output
 * @perm: a permutation of 0..3
 *
 * Return: 0 or a negative errno.
 */
int tapu_sb_transpose(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		      const struct drm_tapu_tensor *out, const uint8_t perm[4]);

/**
 * tapu_sb_concat() - append CONCAT: @a then @b along @axis
 * @sb: builder
 * @a: first input
 * @b: second input
 * @out: output
 * @axis: 0 (N) to 3 (C)
 *
 * Return: 0 or a negative errno.
 */
int tapu_sb_concat(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *a,
		   const struct drm_tapu_tensor *b, const struct drm_tapu_tensor *out,
		   uint32_t axis);

/**
 * tapu_sb_pad() - append PAD: out.dim[i] = before[i] + in.dim[i] + after[i]
 * @sb: builder
 * @in: input
 * @out: output
 * @before: elements added before each dimension
 * @after: elements added after each dimension
 * @value: fill value
 *
 * Return: 0 or a negative errno.
 */
int tapu_sb_pad(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		const struct drm_tapu_tensor *out, const uint16_t before[4],
		const uint16_t after[4], int32_t value);

/* Validated command streams */

/**
 * tapu_stream_create() - have the kernel validate a built stream
 * @dev: device
 * @sb: builder; it may be reset or freed afterwards
 * @stream: out: the immutable stream, submittable any number of times
 *
 * A stream whose work (see &drm_tapu_limits.max_stream_work) is more than
 * the device takes in one job is split at operation boundaries into parts
 * that each fit: tapu_submit() queues one job per part.
 *
 * Return: 0; the builder's sticky error; -ENODATA for an empty builder;
 * -EINVAL when the validator rejects an operation, -E2BIG beyond
 * &drm_tapu_limits.max_cmdstream_size or for a single operation above
 * &drm_tapu_limits.max_stream_work, -EOVERFLOW.
 */
int tapu_stream_create(struct tapu_device *dev,
		       const struct tapu_stream_builder *sb,
		       struct tapu_stream **stream);

/**
 * tapu_stream_destroy() - release a stream (jobs using it keep it alive)
 * @stream: stream, or NULL
 */
void tapu_stream_destroy(struct tapu_stream *stream);

/**
 * tapu_stream_num_slots() - BOs a submit of the stream needs
 * @stream: stream
 *
 * Return: highest slot used + 1.
 */
unsigned int tapu_stream_num_slots(const struct tapu_stream *stream);

/* Jobs */

/**
 * tapu_submit() - queue a job running @stream on @bos
 * @dev: device
 * @stream: validated stream
 * @bos: BO of each slot, at least tapu_stream_num_slots() of them
 * @access: DRM_TAPU_BO_READ and/or DRM_TAPU_BO_WRITE per BO; NULL for
 *	read-write everywhere
 * @n: number of @bos
 * @in_syncs: syncobjs (binary: point 0, or timeline points) to wait for;
 *	each must already have a fence
 * @n_in: number of @in_syncs
 * @out_sync: syncobj (and point) signalled on completion, or NULL
 * @prio: &enum drm_tapu_priority
 * @job_id: out: id for tapu_wait()
 *
 * A stream of several parts (see tapu_stream_create()) runs as one job per
 * part, in order: the first waits for @in_syncs, the last signals
 * @out_sync and is the job of @job_id, whose result tells how the whole
 * stream ended (a part after a failed one fails with -ECANCELED), with the
 * cycles and duration of the last part. When a part cannot be queued, the
 * parts before it still run.
 *
 * Return: 0; -ENOENT for an unknown syncobj, -EINVAL for too few BOs, a BO
 * smaller than the stream needs, duplicates; -EACCES for a written slot
 * without DRM_TAPU_BO_WRITE or high priority without CAP_SYS_NICE; -EBUSY
 * with too many unfinished jobs.
 */
int tapu_submit(struct tapu_device *dev, const struct tapu_stream *stream,
		struct tapu_bo *const bos[], const uint32_t access[],
		unsigned int n, const struct drm_tapu_sync *in_syncs,
		unsigned int n_in, const struct drm_tapu_sync *out_sync,
		enum drm_tapu_priority prio, uint64_t *job_id);

/**
 * tapu_wait() - wait for a job; may be called any number of times
 * @dev: device the job was submitted on
 * @job_id: from tapu_submit()
 * @timeout_ns: relative timeout
 * @result: out: status, error, cycles, duration (optional)
 *
 * Return: 0 when the job succeeded; the job's error when it failed
 * (-ETIMEDOUT hang, -EIO device error, -ECANCELED), @result filled in both
 * cases; -ETIME when the timeout expires first, -EINVAL for an id never
 * issued, -ENOENT for a job whose result is no longer kept.
 */
int tapu_wait(struct tapu_device *dev, uint64_t job_id, int64_t timeout_ns,
	      struct tapu_job_result *result);

/* Syncobjs (DRM syncobjs of the device file, binary or timeline) */

/**
 * tapu_syncobj_create() - create a syncobj
 * @dev: device
 * @signaled: create it signalled (binary)
 * @handle: out: syncobj handle
 *
 * Return: 0 or a negative errno.
 */
int tapu_syncobj_create(struct tapu_device *dev, int signaled, uint32_t *handle);

/**
 * tapu_syncobj_destroy() - destroy a syncobj
 * @dev: device
 * @handle: syncobj
 *
 * Return: 0, -EINVAL (DRM core) for an unknown handle.
 */
int tapu_syncobj_destroy(struct tapu_device *dev, uint32_t handle);

/**
 * tapu_syncobj_signal() - signal a syncobj from the CPU
 * @dev: device
 * @handle: syncobj
 * @point: timeline point, 0 for binary
 *
 * Return: 0, -ENOENT for an unknown handle.
 */
int tapu_syncobj_signal(struct tapu_device *dev, uint32_t handle, uint64_t point);

/**
 * tapu_syncobj_wait() - wait for a syncobj (point) to signal
 * @dev: device
 * @handle: syncobj
 * @point: timeline point, 0 for binary
 * @timeout_ns: relative timeout; also waits for a fence to be attached
 *
 * Return: 0, -ETIME on timeout, -ENOENT for an unknown handle.
 */
int tapu_syncobj_wait(struct tapu_device *dev, uint32_t handle, uint64_t point,
		      int64_t timeout_ns);

/**
 * tapu_syncobj_export() - export a syncobj as a file descriptor
 * @dev: device
 * @handle: syncobj
 * @fd: out: syncobj fd for tapu_syncobj_import() on another device
 *
 * Return: 0 or a negative errno.
 */
int tapu_syncobj_export(struct tapu_device *dev, uint32_t handle, int *fd);

/**
 * tapu_syncobj_import() - import a syncobj file descriptor
 * @dev: device
 * @fd: from tapu_syncobj_export(); stays owned by the caller
 * @handle: out: syncobj handle on @dev
 *
 * Return: 0 or a negative errno.
 */
int tapu_syncobj_import(struct tapu_device *dev, int fd, uint32_t *handle);

#if defined(__cplusplus)
}
#endif

#endif /* __LIBTAPU_H__ */
