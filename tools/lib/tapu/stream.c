// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libtapu: tensor descriptors, the command stream builder, streams. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <xf86drm.h>

#include "libtapu_priv.h"

struct tapu_stream_builder {
	uint8_t *buf;
	size_t size, cap;
	unsigned int num_ops;
	int err;		/* first error, sticky until reset */
};

struct drm_tapu_tensor tapu_tensor_nhwc(uint32_t slot, uint32_t offset,
					uint32_t n, uint32_t h, uint32_t w,
					uint32_t c, uint32_t elem_size)
{
	return (struct drm_tapu_tensor){
		.slot = slot, .offset = offset, .dim = { n, h, w, c },
		.stride = { h * w * c * elem_size, w * c * elem_size,
			    c * elem_size, elem_size },
	};
}

int tapu_tensor_permute(struct drm_tapu_tensor *t, const uint8_t perm[4])
{
	struct drm_tapu_tensor v;
	unsigned int seen = 0;

	if (!t || !perm)
		return -EINVAL;
	v = *t;
	for (int i = 0; i < 4; i++) {
		if (perm[i] > 3 || seen & (1u << perm[i]))
			return -EINVAL;
		seen |= 1u << perm[i];
		v.dim[i] = t->dim[perm[i]];
		v.stride[i] = t->stride[perm[i]];
	}
	*t = v;
	return 0;
}

int tapu_tensor_broadcast(struct drm_tapu_tensor *t, const uint32_t dim[4])
{
	struct drm_tapu_tensor v;

	if (!t || !dim)
		return -EINVAL;
	v = *t;
	for (int i = 0; i < 4; i++) {
		if (dim[i] == t->dim[i])
			continue;
		if (t->dim[i] != 1 || !dim[i])
			return -EINVAL;
		v.dim[i] = dim[i];
		v.stride[i] = 0;
	}
	*t = v;
	return 0;
}

int tapu_tensor_slice(struct drm_tapu_tensor *t, const uint32_t start[4],
		      const uint32_t dim[4])
{
	uint64_t offset;

	if (!t || !start || !dim)
		return -EINVAL;
	offset = t->offset;
	for (int i = 0; i < 4; i++) {
		if (!dim[i] || (uint64_t)start[i] + dim[i] > t->dim[i])
			return -EINVAL;
		offset += (uint64_t)start[i] * t->stride[i];
	}
	if (offset > UINT32_MAX)
		return -EOVERFLOW;
	t->offset = offset;
	memcpy(t->dim, dim, sizeof(t->dim));
	return 0;
}

int tapu_sb_new(struct tapu_stream_builder **sb)
{
	if (!sb)
		return -EINVAL;
	*sb = calloc(1, sizeof(**sb));
	return *sb ? 0 : -ENOMEM;
}

void tapu_sb_free(struct tapu_stream_builder *sb)
{
	if (sb)
		free(sb->buf);
	free(sb);
}

void tapu_sb_reset(struct tapu_stream_builder *sb)
{
	sb->size = 0;
	sb->num_ops = 0;
	sb->err = 0;
}

int tapu_sb_error(const struct tapu_stream_builder *sb)
{
	return sb ? sb->err : -EINVAL;
}

const void *tapu_sb_data(const struct tapu_stream_builder *sb, size_t *size,
			 unsigned int *num_ops)
{
	if (size)
		*size = sb->size;
	if (num_ops)
		*num_ops = sb->num_ops;
	return sb->buf;
}

/* Records the first error of @sb and returns @err. */
static int sb_fail(struct tapu_stream_builder *sb, int err)
{
	if (sb && !sb->err)
		sb->err = err;
	return err;
}

/* Appends @op (starting with its header) of @size bytes. */
static int sb_emit(struct tapu_stream_builder *sb, uint16_t opcode,
		   uint32_t flags, void *op, size_t size)
{
	struct drm_tapu_op_hdr *hdr = op;

	if (!sb)
		return -EINVAL;
	if (sb->err)
		return sb->err;
	if (sb->size + size > sb->cap) {
		size_t cap = sb->cap ? sb->cap * 2 : 4096;
		uint8_t *buf;

		while (cap < sb->size + size)
			cap *= 2;
		buf = realloc(sb->buf, cap);
		if (!buf)
			return sb_fail(sb, -ENOMEM);
		sb->buf = buf;
		sb->cap = cap;
	}
	*hdr = (struct drm_tapu_op_hdr){ opcode, size, flags };
	memcpy(sb->buf + sb->size, op, size);
	sb->size += size;
	sb->num_ops++;
	return 0;
}

int tapu_sb_nop(struct tapu_stream_builder *sb)
{
	struct drm_tapu_op_hdr op;

	return sb_emit(sb, DRM_TAPU_OP_NOP, 0, &op, sizeof(op));
}

static int sb_conv(struct tapu_stream_builder *sb, uint16_t opcode,
		   const struct tapu_conv_params *p)
{
	int fc = opcode == DRM_TAPU_OP_FULLY_CONNECTED;
	struct drm_tapu_op_conv op;

	if (!p)
		return sb_fail(sb, -EINVAL);
	op = (struct drm_tapu_op_conv){
		.input = p->input, .weights = p->weights, .bias = p->bias,
		.quant = p->quant, .output = p->output,
		.input_zp = p->input_zp, .weight_zp = p->weight_zp,
		.output_zp = p->output_zp, .multiplier = p->multiplier,
		.shift = p->shift, .act_min = p->act_min, .act_max = p->act_max,
	};
	for (int i = 0; i < 4 && !fc; i++) {
		op.pad[i] = p->pad[i];
		if (i < 2) {
			op.stride[i] = p->stride[i] ?: 1;
			op.dilation[i] = p->dilation[i] ?: 1;
		}
	}
	return sb_emit(sb, opcode,
		       (p->bias.dim[0] ? DRM_TAPU_OP_F_BIAS : 0) |
		       (p->quant.dim[0] ? DRM_TAPU_OP_F_PER_CHANNEL : 0),
		       &op, sizeof(op));
}

int tapu_sb_conv2d(struct tapu_stream_builder *sb, const struct tapu_conv_params *p)
{
	return sb_conv(sb, DRM_TAPU_OP_CONV2D, p);
}

int tapu_sb_depthwise_conv2d(struct tapu_stream_builder *sb,
			     const struct tapu_conv_params *p)
{
	return sb_conv(sb, DRM_TAPU_OP_DEPTHWISE_CONV2D, p);
}

int tapu_sb_fully_connected(struct tapu_stream_builder *sb,
			    const struct tapu_conv_params *p)
{
	return sb_conv(sb, DRM_TAPU_OP_FULLY_CONNECTED, p);
}

static int sb_eltwise(struct tapu_stream_builder *sb, uint16_t opcode,
		      const struct tapu_eltwise_params *p)
{
	struct drm_tapu_op_eltwise op;

	if (!p)
		return sb_fail(sb, -EINVAL);
	op = (struct drm_tapu_op_eltwise){
		.a = p->a, .b = p->b, .output = p->output,
		.a_zp = p->a_zp, .b_zp = p->b_zp, .output_zp = p->output_zp,
		.a_mul = p->a_mul,
		.b_mul = opcode == DRM_TAPU_OP_MUL ? 0 : p->b_mul,
		.shift = p->shift, .act_min = p->act_min, .act_max = p->act_max,
	};
	return sb_emit(sb, opcode, 0, &op, sizeof(op));
}

int tapu_sb_add(struct tapu_stream_builder *sb, const struct tapu_eltwise_params *p)
{
	return sb_eltwise(sb, DRM_TAPU_OP_ADD, p);
}

int tapu_sb_sub(struct tapu_stream_builder *sb, const struct tapu_eltwise_params *p)
{
	return sb_eltwise(sb, DRM_TAPU_OP_SUB, p);
}

int tapu_sb_mul(struct tapu_stream_builder *sb, const struct tapu_eltwise_params *p)
{
	return sb_eltwise(sb, DRM_TAPU_OP_MUL, p);
}

static int sb_pool(struct tapu_stream_builder *sb, uint16_t opcode,
		   const struct tapu_pool_params *p)
{
	struct drm_tapu_op_pool op;

	if (!p)
		return sb_fail(sb, -EINVAL);
	op = (struct drm_tapu_op_pool){
		.input = p->input, .output = p->output,
		.kernel = { p->kernel[0], p->kernel[1] },
		.stride = { p->stride[0] ?: 1, p->stride[1] ?: 1 },
		.pad = { p->pad[0], p->pad[1], p->pad[2], p->pad[3] },
		.act_min = p->act_min, .act_max = p->act_max,
	};
	return sb_emit(sb, opcode, p->flags, &op, sizeof(op));
}

int tapu_sb_maxpool(struct tapu_stream_builder *sb, const struct tapu_pool_params *p)
{
	return sb_pool(sb, DRM_TAPU_OP_MAXPOOL, p);
}

int tapu_sb_avgpool(struct tapu_stream_builder *sb, const struct tapu_pool_params *p)
{
	return sb_pool(sb, DRM_TAPU_OP_AVGPOOL, p);
}

static int sb_act(struct tapu_stream_builder *sb, uint16_t opcode,
		  const struct drm_tapu_tensor *in,
		  const struct drm_tapu_tensor *out, int32_t min, int32_t max)
{
	struct drm_tapu_op_act op;

	if (!in || !out)
		return sb_fail(sb, -EINVAL);
	op = (struct drm_tapu_op_act){
		.input = *in, .output = *out, .min = min, .max = max,
	};
	return sb_emit(sb, opcode, 0, &op, sizeof(op));
}

int tapu_sb_relu(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		 const struct drm_tapu_tensor *out, int32_t zero_point)
{
	return sb_act(sb, DRM_TAPU_OP_RELU, in, out, zero_point, 0);
}

int tapu_sb_relu6(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		  const struct drm_tapu_tensor *out, int32_t zero_point, int32_t six)
{
	return sb_act(sb, DRM_TAPU_OP_RELU6, in, out, zero_point, six);
}

int tapu_sb_clamp(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		  const struct drm_tapu_tensor *out, int32_t min, int32_t max)
{
	return sb_act(sb, DRM_TAPU_OP_CLAMP, in, out, min, max);
}

int tapu_sb_lut(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		const struct drm_tapu_tensor *out, const struct drm_tapu_tensor *table)
{
	struct drm_tapu_op_lut op;

	if (!in || !out || !table)
		return sb_fail(sb, -EINVAL);
	op = (struct drm_tapu_op_lut){
		.input = *in, .output = *out, .table = *table,
	};
	return sb_emit(sb, DRM_TAPU_OP_LUT, 0, &op, sizeof(op));
}

static int sb_rs(struct tapu_stream_builder *sb, uint16_t opcode,
		 const struct drm_tapu_tensor *in,
		 const struct drm_tapu_tensor *out, const uint8_t *perm)
{
	struct drm_tapu_op_rs op;

	if (!in || !out || (opcode == DRM_TAPU_OP_TRANSPOSE && !perm))
		return sb_fail(sb, -EINVAL);
	op = (struct drm_tapu_op_rs){ .input = *in, .output = *out };
	if (perm)
		memcpy(op.perm, perm, sizeof(op.perm));
	return sb_emit(sb, opcode, 0, &op, sizeof(op));
}

int tapu_sb_copy(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		 const struct drm_tapu_tensor *out)
{
	return sb_rs(sb, DRM_TAPU_OP_COPY, in, out, NULL);
}

int tapu_sb_reshape(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		    const struct drm_tapu_tensor *out)
{
	return sb_rs(sb, DRM_TAPU_OP_RESHAPE, in, out, NULL);
}

int tapu_sb_transpose(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		      const struct drm_tapu_tensor *out, const uint8_t perm[4])
{
	return sb_rs(sb, DRM_TAPU_OP_TRANSPOSE, in, out, perm);
}

int tapu_sb_concat(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *a,
		   const struct drm_tapu_tensor *b, const struct drm_tapu_tensor *out,
		   uint32_t axis)
{
	struct drm_tapu_op_concat op;

	if (!a || !b || !out)
		return sb_fail(sb, -EINVAL);
	op = (struct drm_tapu_op_concat){
		.a = *a, .b = *b, .output = *out, .axis = axis,
	};
	return sb_emit(sb, DRM_TAPU_OP_CONCAT, 0, &op, sizeof(op));
}

int tapu_sb_pad(struct tapu_stream_builder *sb, const struct drm_tapu_tensor *in,
		const struct drm_tapu_tensor *out, const uint16_t before[4],
		const uint16_t after[4], int32_t value)
{
	struct drm_tapu_op_pad op;

	if (!in || !out || !before || !after)
		return sb_fail(sb, -EINVAL);
	op = (struct drm_tapu_op_pad){
		.input = *in, .output = *out, .value = value,
	};
	memcpy(op.before, before, sizeof(op.before));
	memcpy(op.after, after, sizeof(op.after));
	return sb_emit(sb, DRM_TAPU_OP_PAD, 0, &op, sizeof(op));
}

static uint64_t tensor_elements(const struct drm_tapu_tensor *t)
{
	uint64_t n = 1;

	for (int i = 0; i < 4; i++)
		if (__builtin_mul_overflow(n, t->dim[i], &n))
			return UINT64_MAX;
	return n;
}

/* Where the output tensor of the ops without taps is. */
static const uint16_t output_offset[DRM_TAPU_OP_COUNT] = {
	[DRM_TAPU_OP_ADD] = offsetof(struct drm_tapu_op_eltwise, output),
	[DRM_TAPU_OP_SUB] = offsetof(struct drm_tapu_op_eltwise, output),
	[DRM_TAPU_OP_MUL] = offsetof(struct drm_tapu_op_eltwise, output),
	[DRM_TAPU_OP_RELU] = offsetof(struct drm_tapu_op_act, output),
	[DRM_TAPU_OP_RELU6] = offsetof(struct drm_tapu_op_act, output),
	[DRM_TAPU_OP_CLAMP] = offsetof(struct drm_tapu_op_act, output),
	[DRM_TAPU_OP_LUT] = offsetof(struct drm_tapu_op_lut, output),
	[DRM_TAPU_OP_COPY] = offsetof(struct drm_tapu_op_rs, output),
	[DRM_TAPU_OP_RESHAPE] = offsetof(struct drm_tapu_op_rs, output),
	[DRM_TAPU_OP_TRANSPOSE] = offsetof(struct drm_tapu_op_rs, output),
	[DRM_TAPU_OP_CONCAT] = offsetof(struct drm_tapu_op_concat, output),
	[DRM_TAPU_OP_PAD] = offsetof(struct drm_tapu_op_pad, output),
};

/* The work of one op built by this builder, as the kernel counts it. */
static uint64_t op_work(const uint8_t *p)
{
	struct drm_tapu_op_conv conv;
	struct drm_tapu_op_pool pool;
	struct drm_tapu_op_hdr hdr;
	struct drm_tapu_tensor out;
	uint64_t taps = 1, work;

	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.opcode == DRM_TAPU_OP_CONV2D || hdr.opcode == DRM_TAPU_OP_FULLY_CONNECTED ||
	    hdr.opcode == DRM_TAPU_OP_DEPTHWISE_CONV2D) {
		memcpy(&conv, p, sizeof(conv));
		taps = (uint64_t)conv.weights.dim[1] * conv.weights.dim[2] *
		       (hdr.opcode == DRM_TAPU_OP_DEPTHWISE_CONV2D ? 1 : conv.weights.dim[3]);
		out = conv.output;
	} else if (hdr.opcode == DRM_TAPU_OP_MAXPOOL || hdr.opcode == DRM_TAPU_OP_AVGPOOL) {
		memcpy(&pool, p, sizeof(pool));
		taps = (uint64_t)pool.kernel[0] * pool.kernel[1];
		out = pool.output;
	} else if (hdr.opcode < DRM_TAPU_OP_COUNT && output_offset[hdr.opcode]) {
		memcpy(&out, p + output_offset[hdr.opcode], sizeof(out));
	} else {
		return 0;	/* NOP, or for the kernel to reject */
	}
	if (__builtin_mul_overflow(tensor_elements(&out), DRM_TAPU_ELEMENT_WORK + taps,
				   &work))
		return UINT64_MAX;
	return work;
}

/* The device's limit on the work of one stream, queried once. */
static int max_work(struct tapu_device *dev, uint64_t *max)
{
	struct drm_tapu_limits lim = { 0 };
	struct drm_tapu_query q = {
		.type = DRM_TAPU_QUERY_LIMITS, .size = sizeof(lim),
		.data = (uintptr_t)&lim,
	};
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (!dev->max_work) {
		ret = tapu_ioctl(dev, DRM_IOCTL_TAPU_QUERY, &q);
		/* A kernel from before the limit has none. */
		dev->max_work = lim.max_stream_work ?: UINT64_MAX;
	}
	*max = dev->max_work;
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/*
 * Splits @sb at op boundaries into parts of at most @max work each (an op
 * above it alone in its part, for the kernel to reject): their ends into
 * @ends unless NULL. Returns the number of parts.
 */
static unsigned int split(const struct tapu_stream_builder *sb, uint64_t max,
			  size_t *ends)
{
	struct drm_tapu_op_hdr hdr;
	unsigned int n = 0;
	uint64_t work = 0, w;
	size_t off;

	for (off = 0; off < sb->size; off += hdr.size) {
		memcpy(&hdr, sb->buf + off, sizeof(hdr));
		w = op_work(sb->buf + off);
		if (off && (work > max || w > max - work)) {
			if (ends)
				ends[n] = off;
			n++;
			work = 0;
		}
		work = work + w < work ? UINT64_MAX : work + w;
	}
	if (ends)
		ends[n] = sb->size;
	return n + 1;
}

int tapu_stream_create(struct tapu_device *dev,
		       const struct tapu_stream_builder *sb,
		       struct tapu_stream **streamp)
{
	struct drm_tapu_cmdstream_create c;
	struct tapu_stream *s;
	unsigned int n;
	size_t *ends, start = 0;
	uint64_t max;
	int ret;

	if (!dev || !sb || !streamp)
		return -EINVAL;
	if (sb->err)
		return sb->err;
	if (!sb->size)
		return -ENODATA;
	ret = max_work(dev, &max);
	if (ret)
		return ret;
	n = split(sb, max, NULL);
	ends = calloc(n, sizeof(*ends));
	s = calloc(1, sizeof(*s) + n * sizeof(s->handle[0]));
	if (!ends || !s) {
		free(ends), free(s);
		return -ENOMEM;
	}
	split(sb, max, ends);
	s->dev = dev;
	for (unsigned int i = 0; i < n; start = ends[i++]) {
		if (ends[i] - start > UINT32_MAX) {
			ret = -E2BIG;
			break;
		}
		c = (struct drm_tapu_cmdstream_create){
			.data = (uintptr_t)sb->buf + start, .size = ends[i] - start,
		};
		ret = tapu_ioctl(dev, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &c);
		if (ret)
			break;
		s->handle[s->num_parts++] = c.handle;
		if (c.num_slots > s->num_slots)
			s->num_slots = c.num_slots;
	}
	free(ends);
	if (ret) {
		tapu_stream_destroy(s);
		return ret;
	}
	*streamp = s;
	return 0;
}

void tapu_stream_destroy(struct tapu_stream *stream)
{
	if (!stream)
		return;
	for (unsigned int i = 0; i < stream->num_parts; i++)
		drmCloseBufferHandle(stream->dev->fd, stream->handle[i]);
	free(stream);
}

unsigned int tapu_stream_num_slots(const struct tapu_stream *stream)
{
	return stream->num_slots;
}
