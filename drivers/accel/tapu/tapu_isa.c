// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * Command-stream validator shared by all backends. It runs once, when the
 * stream is created, so that executors may trust every field and the submit
 * path only has to compare BO sizes with the extents recorded here.
 */

#include <kunit/visibility.h>
#include <linux/array_size.h>
#include <linux/bits.h>
#include <linux/container_of.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include "tapu_isa.h"

#define TAPU_MAX_SHIFT	62
#define TAPU_MAC_FLAGS	(DRM_TAPU_OP_F_BIAS | DRM_TAPU_OP_F_PER_CHANNEL)
/* An average rounds its ties one way at most. */
#define TAPU_POOL_ROUNDING (DRM_TAPU_OP_F_ROUND_EVEN | DRM_TAPU_OP_F_ROUND_ODD)

/* Tensors follow the header back to back; index of @member among them. */
#define TAPU_TIDX(type, member)						\
	((offsetof(type, member) - sizeof(struct drm_tapu_op_hdr)) /	\
	 sizeof(struct drm_tapu_tensor))

#define TAPU_CONV_BIAS	TAPU_TIDX(struct drm_tapu_op_conv, bias)
#define TAPU_CONV_QUANT	TAPU_TIDX(struct drm_tapu_op_conv, quant)

union tapu_op {
	struct drm_tapu_op_hdr hdr;
	struct drm_tapu_op_conv conv;
	struct drm_tapu_op_eltwise elt;
	struct drm_tapu_op_pool pool;
	struct drm_tapu_op_act act;
	struct drm_tapu_op_lut lut;
	struct drm_tapu_op_rs rs;
	struct drm_tapu_op_concat cat;
	struct drm_tapu_op_pad pad;
};

static bool tapu_s8(s32 v)
{
	return v >= S8_MIN && v <= S8_MAX;
}

static bool tapu_bounds(s32 lo, s32 hi)
{
	return tapu_s8(lo) && tapu_s8(hi) && lo <= hi;
}

/* Zero points, shift and output clamp of a requantising op. */
static bool tapu_requant_ok(s32 zp0, s32 zp1, s32 out_zp, u32 shift,
			    s32 lo, s32 hi)
{
	return tapu_s8(zp0) && tapu_s8(zp1) && tapu_s8(out_zp) &&
	       shift <= TAPU_MAX_SHIFT && tapu_bounds(lo, hi);
}

static bool tapu_dims(const u32 *d, u32 n, u32 h, u32 w, u32 c)
{
	return d[0] == n && d[1] == h && d[2] == w && d[3] == c;
}

static bool tapu_same_dims(const struct drm_tapu_tensor *a,
			   const struct drm_tapu_tensor *b)
{
	return !memcmp(a->dim, b->dim, sizeof(a->dim));
}

/* Sliding-window output size along one axis, see enum drm_tapu_opcode. */
static bool tapu_axis(u32 in, u32 pad_a, u32 pad_b, u32 k, u32 dil,
		      u32 stride, u32 out)
{
	s64 num = (s64)in + pad_a + pad_b - (s64)dil * (k - 1) - 1;

	return stride && dil && num >= 0 && out == div_u64(num, stride) + 1;
}

static int tapu_count(const u32 *dim, u64 *n)
{
	int i;

	*n = 1;
	for (i = 0; i < 4; i++)
		if (check_mul_overflow(*n, (u64)dim[i], n))
			return -EOVERFLOW;
	return 0;
}

static int tapu_check_conv(const union tapu_op *op)
{
	const struct drm_tapu_op_conv *c = &op->conv;
	const u32 *in = c->input.dim, *w = c->weights.dim, *out = c->output.dim;
	u32 co = out[3];
	bool ok;

	if (c->hdr.opcode == DRM_TAPU_OP_FULLY_CONNECTED)
		ok = mem_is_zero(c->stride, sizeof(c->stride)) &&
		     mem_is_zero(c->dilation, sizeof(c->dilation)) &&
		     mem_is_zero(c->pad, sizeof(c->pad)) &&
		     tapu_dims(w, co, 1, 1, in[3]) &&
		     tapu_dims(out, in[0], in[1], in[2], co);
	else
		ok = (c->hdr.opcode == DRM_TAPU_OP_CONV2D ?
		      tapu_dims(w, co, w[1], w[2], in[3]) :
		      tapu_dims(w, 1, w[1], w[2], co) && !(co % in[3])) &&
		     out[0] == in[0] &&
		     tapu_axis(in[1], c->pad[0], c->pad[2], w[1],
			       c->dilation[0], c->stride[0], out[1]) &&
		     tapu_axis(in[2], c->pad[1], c->pad[3], w[2],
			       c->dilation[1], c->stride[1], out[2]);

	if (c->hdr.flags & DRM_TAPU_OP_F_BIAS)
		ok = ok && tapu_dims(c->bias.dim, 1, 1, 1, co);
	/* Per-channel pairs replace the per-tensor multiplier and shift. */
	if (c->hdr.flags & DRM_TAPU_OP_F_PER_CHANNEL)
		ok = ok && tapu_dims(c->quant.dim, 1, 1, 1, co) &&
		     !c->multiplier && !c->shift;

	return ok && !c->reserved &&
	       tapu_requant_ok(c->input_zp, c->weight_zp, c->output_zp,
			       c->shift, c->act_min, c->act_max) ? 0 : -EINVAL;
}

/* Each input dimension equals the output's or is 1 (broadcast). */
static bool tapu_bcast_ok(const struct drm_tapu_tensor *in,
			  const struct drm_tapu_tensor *out)
{
	int i;

	for (i = 0; i < 4; i++)
		if (in->dim[i] != out->dim[i] && in->dim[i] != 1)
			return false;
	return true;
}

static int tapu_check_eltwise(const union tapu_op *op)
{
	const struct drm_tapu_op_eltwise *e = &op->elt;

	return tapu_bcast_ok(&e->a, &e->output) &&
	       tapu_bcast_ok(&e->b, &e->output) &&
	       (e->hdr.opcode != DRM_TAPU_OP_MUL || !e->b_mul) &&
	       tapu_requant_ok(e->a_zp, e->b_zp, e->output_zp, e->shift,
			       e->act_min, e->act_max) ? 0 : -EINVAL;
}

static int tapu_check_pool(const union tapu_op *op)
{
	const struct drm_tapu_op_pool *p = &op->pool;
	const u32 *in = p->input.dim, *out = p->output.dim;
	const u16 *k = p->kernel, *pad = p->pad, *s = p->stride;

	/*
	 * Ties round one way at most. Padding below the kernel size keeps
	 * every window non-empty.
	 */
	return (~p->hdr.flags & TAPU_POOL_ROUNDING) &&
	       pad[0] < k[0] && pad[2] < k[0] &&
	       pad[1] < k[1] && pad[3] < k[1] &&
	       out[0] == in[0] && out[3] == in[3] &&
	       tapu_axis(in[1], pad[0], pad[2], k[0], 1, s[0], out[1]) &&
	       tapu_axis(in[2], pad[1], pad[3], k[1], 1, s[1], out[2]) &&
	       tapu_bounds(p->act_min, p->act_max) ? 0 : -EINVAL;
}

static int tapu_check_act(const union tapu_op *op)
{
	const struct drm_tapu_op_act *a = &op->act;
	bool ok;

	if (a->hdr.opcode == DRM_TAPU_OP_RELU)
		ok = tapu_s8(a->min) && !a->max;
	else
		ok = tapu_bounds(a->min, a->max);
	return ok && tapu_same_dims(&a->input, &a->output) ? 0 : -EINVAL;
}

static int tapu_check_lut(const union tapu_op *op)
{
	const struct drm_tapu_op_lut *l = &op->lut;

	return tapu_same_dims(&l->input, &l->output) &&
	       tapu_dims(l->table.dim, 1, 1, 1, 256) ? 0 : -EINVAL;
}

static int tapu_check_transpose(const struct drm_tapu_op_rs *r)
{
	u32 seen = 0;
	int i;

	for (i = 0; i < 4; i++) {
		u8 p = r->perm[i];

		if (p > 3 || (seen & BIT(p)) ||
		    r->output.dim[i] != r->input.dim[p])
			return -EINVAL;
		seen |= BIT(p);
	}
	return 0;
}

static int tapu_check_rs(const union tapu_op *op)
{
	const struct drm_tapu_op_rs *r = &op->rs;
	u64 n_in, n_out;
	int ret;

	if (r->reserved)
		return -EINVAL;
	if (r->hdr.opcode == DRM_TAPU_OP_TRANSPOSE)
		return tapu_check_transpose(r);
	if (!mem_is_zero(r->perm, sizeof(r->perm)))
		return -EINVAL;
	if (r->hdr.opcode == DRM_TAPU_OP_COPY)
		return tapu_same_dims(&r->input, &r->output) ? 0 : -EINVAL;

	ret = tapu_count(r->input.dim, &n_in) ?:
	      tapu_count(r->output.dim, &n_out);
	if (ret)
		return ret;
	return n_in == n_out ? 0 : -EINVAL;
}

static int tapu_check_concat(const union tapu_op *op)
{
	const struct drm_tapu_op_concat *c = &op->cat;
	u32 i;

	if (c->reserved || c->axis > 3)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		u32 a = c->a.dim[i], b = c->b.dim[i], out = c->output.dim[i];

		if (i == c->axis ? out != a + b : a != out || b != out)
			return -EINVAL;
	}
	return 0;
}

static int tapu_check_pad(const union tapu_op *op)
{
	const struct drm_tapu_op_pad *p = &op->pad;
	int i;

	if (p->reserved || !tapu_s8(p->value))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		if (p->output.dim[i] !=
		    (u32)p->before[i] + p->input.dim[i] + p->after[i])
			return -EINVAL;
	return 0;
}

/**
 * struct tapu_op_desc - how to validate one opcode
 * @check: shape and scalar checks, run once every tensor is known sane
 * @size: exact hdr.size
 * @ntensors: tensors following the header
 * @output: index of the tensor the op writes
 * @flags: hdr.flags the opcode accepts
 */
struct tapu_op_desc {
	int (*check)(const union tapu_op *op);
	u16 size;
	u8 ntensors;
	u8 output;
	u32 flags;
};

#define TAPU_OP(type, last, out, fn, fl) {				\
	.check = fn,							\
	.size = sizeof(struct drm_tapu_op_##type),			\
	.ntensors = TAPU_TIDX(struct drm_tapu_op_##type, last) + 1,	\
	.output = TAPU_TIDX(struct drm_tapu_op_##type, out),		\
	.flags = fl,							\
}

#define TAPU_CONV	TAPU_OP(conv, output, output, tapu_check_conv,	\
				TAPU_MAC_FLAGS)
#define TAPU_ELT	TAPU_OP(eltwise, output, output, tapu_check_eltwise, 0)
#define TAPU_POOL(fl)	TAPU_OP(pool, output, output, tapu_check_pool, fl)
#define TAPU_ACT	TAPU_OP(act, output, output, tapu_check_act, 0)
#define TAPU_RS		TAPU_OP(rs, output, output, tapu_check_rs, 0)

static const struct tapu_op_desc tapu_ops[DRM_TAPU_OP_COUNT] = {
	[DRM_TAPU_OP_NOP] = { .size = sizeof(struct drm_tapu_op_hdr) },
	[DRM_TAPU_OP_CONV2D] = TAPU_CONV,
	[DRM_TAPU_OP_DEPTHWISE_CONV2D] = TAPU_CONV,
	[DRM_TAPU_OP_FULLY_CONNECTED] = TAPU_CONV,
	[DRM_TAPU_OP_ADD] = TAPU_ELT,
	[DRM_TAPU_OP_SUB] = TAPU_ELT,
	[DRM_TAPU_OP_MUL] = TAPU_ELT,
	[DRM_TAPU_OP_MAXPOOL] = TAPU_POOL(0),
	[DRM_TAPU_OP_AVGPOOL] = TAPU_POOL(DRM_TAPU_OP_F_ROUND_EVEN |
					  DRM_TAPU_OP_F_ROUND_ODD),
	[DRM_TAPU_OP_RELU] = TAPU_ACT,
	[DRM_TAPU_OP_RELU6] = TAPU_ACT,
	[DRM_TAPU_OP_CLAMP] = TAPU_ACT,
	[DRM_TAPU_OP_LUT] = TAPU_OP(lut, table, output, tapu_check_lut, 0),
	[DRM_TAPU_OP_COPY] = TAPU_RS,
	[DRM_TAPU_OP_RESHAPE] = TAPU_RS,
	[DRM_TAPU_OP_TRANSPOSE] = TAPU_RS,
	[DRM_TAPU_OP_CONCAT] = TAPU_OP(concat, output, output,
				       tapu_check_concat, 0),
	[DRM_TAPU_OP_PAD] = TAPU_OP(pad, output, output, tapu_check_pad, 0),
};

/*
 * Element size of tensor @k, 0 if the op's flags leave it unused: int32
 * bias, (int32, uint32) quant pairs, int8 everything else.
 */
static u32 tapu_esize(const struct drm_tapu_op_hdr *hdr,
		      const struct tapu_op_desc *d, u32 k)
{
	if (d->flags && k == TAPU_CONV_BIAS)
		return hdr->flags & DRM_TAPU_OP_F_BIAS ? 4 : 0;
	if (d->flags && k == TAPU_CONV_QUANT)
		return hdr->flags & DRM_TAPU_OP_F_PER_CHANNEL ? 8 : 0;
	return 1;
}

/* Check one tensor and fold the bytes it spans into its slot's extent. */
static int tapu_check_tensor(const struct drm_tapu_tensor *t, u32 esize,
			     bool written, struct tapu_isa_summary *sum)
{
	u64 end = t->offset, span;
	int i;

	if (t->slot >= TAPU_MAX_SLOTS || t->offset % esize)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (!t->dim[i] || t->dim[i] > DRM_TAPU_MAX_DIM ||
		    t->stride[i] % esize)
			return -EINVAL;
		if (check_mul_overflow((u64)t->dim[i] - 1, (u64)t->stride[i],
				       &span) ||
		    check_add_overflow(end, span, &end))
			return -EOVERFLOW;
	}
	if (check_add_overflow(end, (u64)esize, &end))
		return -EOVERFLOW;

	sum->extent[t->slot] = max(sum->extent[t->slot], end);
	sum->num_slots = max(sum->num_slots, t->slot + 1);
	if (written)
		sum->written |= BIT_ULL(t->slot);
	return 0;
}

static int tapu_check_op(const union tapu_op *op, const struct tapu_op_desc *d,
			 struct tapu_isa_summary *sum)
{
	const struct drm_tapu_tensor *t = (const void *)(&op->hdr + 1);
	u32 k, esize;
	int ret;

	for (k = 0; k < d->ntensors; k++) {
		esize = tapu_esize(&op->hdr, d, k);
		if (!esize)
			ret = mem_is_zero(&t[k], sizeof(t[k])) ? 0 : -EINVAL;
		else
			ret = tapu_check_tensor(&t[k], esize, k == d->output,
						sum);
		if (ret)
			return ret;
	}
	/* Shape checks last: they rely on every dimension being non-zero. */
	return d->check ? d->check(op) : 0;
}

/**
 * tapu_isa_op_taps() - work of one output element of an operation
 * @op: header of a validated operation, followed by the rest of it
 *
 * Return: the MACs of one output element for the MAC ops (Kh * Kw * Ci,
 * Kh * Kw for depthwise, padding taps included), the window taps for the
 * pools, 1 for the other ops, 0 for NOP.
 */
u64 tapu_isa_op_taps(const struct drm_tapu_op_hdr *op)
{
	const union tapu_op *u = container_of(op, union tapu_op, hdr);
	const u32 *w = u->conv.weights.dim;

	switch (op->opcode) {
	case DRM_TAPU_OP_NOP:
		return 0;
	case DRM_TAPU_OP_CONV2D:
	case DRM_TAPU_OP_FULLY_CONNECTED:
		return (u64)w[1] * w[2] * w[3];
	case DRM_TAPU_OP_DEPTHWISE_CONV2D:
		return (u64)w[1] * w[2];
	case DRM_TAPU_OP_MAXPOOL:
	case DRM_TAPU_OP_AVGPOOL:
		return (u32)u->pool.kernel[0] * u->pool.kernel[1];
	}
	return 1;
}
EXPORT_SYMBOL_GPL(tapu_isa_op_taps);

/*
 * The work an op costs an executor: per output element, its taps and a
 * fixed cost for the element itself. Saturates on absurd (valid) sizes.
 */
static u64 tapu_op_work(const union tapu_op *op, const struct tapu_op_desc *d)
{
	const struct drm_tapu_tensor *t = (const void *)(&op->hdr + 1);
	u64 taps = tapu_isa_op_taps(&op->hdr), n, work;

	if (!taps || tapu_count(t[d->output].dim, &n) ||
	    check_mul_overflow(n, taps + DRM_TAPU_ELEMENT_WORK, &work))
		return taps ? U64_MAX : 0;
	return work;
}

/**
 * tapu_isa_validate() - validate a command stream
 * @stream: kernel copy of the stream
 * @size: stream size in bytes
 * @sum: out: what the stream needs from the job's BOs
 *
 * Checks every operation against its opcode's rules in the uAPI header:
 * exact sizes, allowed flags, zeroed reserved and unused fields, tensor
 * slots, dimensions and alignment, shape consistency and scalar ranges.
 * Also sums up the stream's work, over its operations their output
 * elements times (DRM_TAPU_ELEMENT_WORK + tapu_isa_op_taps()), saturating, for
 * the caller to bound how long a job runs. Quiet on failure, as every
 * failure is the caller's input.
 *
 * Return: 0 on success, -EOVERFLOW if a tensor's extent or element count
 * does not fit in 64 bits, -EINVAL for any other malformed stream.
 */
int tapu_isa_validate(const void *stream, u32 size,
		      struct tapu_isa_summary *sum)
{
	const u8 *p = stream;
	union tapu_op op;
	u32 off;
	int ret;

	memset(sum, 0, sizeof(*sum));
	if (!size || size > TAPU_MAX_CMDSTREAM_SIZE || size % 4)
		return -EINVAL;

	for (off = 0; off < size; off += op.hdr.size) {
		const struct tapu_op_desc *d;

		if (size - off < sizeof(op.hdr))
			return -EINVAL;
		/* Copy: the stream need not be aligned for every op struct. */
		memcpy(&op.hdr, p + off, sizeof(op.hdr));
		if (op.hdr.opcode >= ARRAY_SIZE(tapu_ops) ||
		    !tapu_ops[op.hdr.opcode].size)
			return -EINVAL;
		d = &tapu_ops[op.hdr.opcode];
		if (op.hdr.size != d->size || op.hdr.size > size - off ||
		    (op.hdr.flags & ~d->flags))
			return -EINVAL;

		memcpy(&op, p + off, d->size);
		ret = tapu_check_op(&op, d, sum);
		if (ret)
			return ret;
		if (check_add_overflow(sum->work, tapu_op_work(&op, d),
				       &sum->work))
			sum->work = U64_MAX;
		sum->num_ops++;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tapu_isa_validate);
