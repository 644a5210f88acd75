// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * Reference executor of the TAPU ISA, used by the simulated NPU and the
 * MT8183 firmware stand-in. Every output element is computed on its own,
 * straight from the formulas in the uAPI header: slow, but small and
 * bit-exact, which is what a reference is for.
 */

#include <linux/array_size.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/math.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/time64.h>
#include <linux/unaligned.h>

#include "tapu_isa.h"

#define TAPU_MAX_SHIFT	62

/* Tensors follow the header back to back; index of @member among them. */
#define TAPU_TIDX(type, member)						\
	((offsetof(type, member) - sizeof(struct drm_tapu_op_hdr)) /	\
	 sizeof(struct drm_tapu_tensor))

#define TAPU_CONV_BIAS	TAPU_TIDX(struct drm_tapu_op_conv, bias)
#define TAPU_CONV_QUANT	TAPU_TIDX(struct drm_tapu_op_conv, quant)

/* A tensor resolved to its slot's mapping. */
struct tapu_view {
	u8 *base;
	u32 dim[4];
	u32 stride[4];
};

struct tapu_job {
	struct tapu_exec_ctx *ctx;
	/* The current op; conv, the largest op struct, sets the size. */
	u64 op[DIV_ROUND_UP(sizeof(struct drm_tapu_op_conv), sizeof(u64))];
	/* The op's tensors, in the order of its struct. */
	struct tapu_view v[5];
	/* RESHAPE: index of the next input element in row-major order. */
	u32 j[4];
	/* Work units since the last tick, and whether a tick saw a stop. */
	u64 spent;
	bool stopped;
};

#define TAPU_OP(job, type)	((const struct drm_tapu_op_##type *)(job)->op)

static void *tapu_at(const struct tapu_view *v, const u32 *i)
{
	return v->base + (size_t)i[0] * v->stride[0] +
	       (size_t)i[1] * v->stride[1] + (size_t)i[2] * v->stride[2] +
	       (size_t)i[3] * v->stride[3];
}

static s8 tapu_get(const struct tapu_view *v, const u32 *i)
{
	return *(const s8 *)tapu_at(v, i);
}

static s64 tapu_rshift(s64 v, u32 s)
{
	/* Per-channel shifts come from a BO; keep them defined. */
	s = min(s, TAPU_MAX_SHIFT);
	return s ? (v + (1LL << (s - 1))) >> s : v;
}

static s8 tapu_out(s64 v, u32 shift, s32 zp, s32 lo, s32 hi)
{
	return clamp_t(s64, zp + tapu_rshift(v, shift), lo, hi);
}

/* Report progress, let others run and tell whether the job was stopped. */
static bool tapu_tick(struct tapu_exec_ctx *ctx)
{
	WRITE_ONCE(ctx->progress, ctx->progress + 1);
	cond_resched();
	return READ_ONCE(ctx->stop);
}

/*
 * Work (MACs, elements, window taps) between two ticks: a job checks in
 * within about a millisecond whatever its shapes, so its progress shows and
 * a stop or reset takes effect at once.
 */
#define TAPU_TICK_WORK	SZ_64K

/* Count @n units of work, tick once the budget is spent: true if stopped. */
static bool tapu_spend(struct tapu_job *job, u64 n)
{
	if (job->stopped)
		return true;
	job->spent += n;
	if (job->spent < TAPU_TICK_WORK)
		return false;
	job->spent = 0;
	job->stopped = tapu_tick(job->ctx);
	return job->stopped;
}

/* Input coordinate of tap @k of output @o; FC's zero strides act as 1. */
static s64 tapu_pos(u32 o, u32 k, u32 stride, u32 dil, u32 pad)
{
	return (s64)o * max(stride, 1U) + (s64)k * max(dil, 1U) - pad;
}

/* Sum over the input channels of one kernel tap, wrapping like the MAC. */
static u32 tapu_tap(const struct tapu_job *job, u32 *x, u32 *k, u32 ci0,
		    u32 ci1, bool dw)
{
	const struct drm_tapu_op_conv *c = TAPU_OP(job, conv);
	u32 acc = 0;

	for (x[3] = ci0; x[3] < ci1; x[3]++) {
		if (!dw)
			k[3] = x[3];
		acc += (tapu_get(&job->v[0], x) - c->input_zp) *
		       (tapu_get(&job->v[1], k) - c->weight_zp);
	}
	return acc;
}

static s8 tapu_mac(struct tapu_job *job, const u32 *i)
{
	const struct drm_tapu_op_conv *c = TAPU_OP(job, conv);
	const struct tapu_view *in = &job->v[0], *w = &job->v[1];
	bool dw = c->hdr.opcode == DRM_TAPU_OP_DEPTHWISE_CONV2D;
	u32 co = i[3], ch[4] = { 0, 0, 0, co };
	u32 m = job->v[TAPU_TIDX(struct drm_tapu_op_conv, output)].dim[3] /
		in->dim[3];
	u32 ci0 = dw ? co / max(m, 1U) : 0;
	u32 ci1 = dw ? ci0 + 1 : in->dim[3];
	u32 x[4] = { i[0] }, k[4] = { dw ? 0 : co, 0, 0, co };
	s64 mul = c->multiplier, y, xx;
	u32 acc = 0, shift = c->shift;
	const u8 *q;

	if (c->hdr.flags & DRM_TAPU_OP_F_BIAS)
		acc = get_unaligned_le32(tapu_at(&job->v[TAPU_CONV_BIAS], ch));
	for (k[1] = 0; k[1] < w->dim[1]; k[1]++) {
		/* A stopped job bails out here; tapu_run() reports it. */
		if (tapu_spend(job, 1))
			return 0;
		y = tapu_pos(i[1], k[1], c->stride[0], c->dilation[0],
			     c->pad[0]);
		/* Padding reads as input_zp and so adds nothing. */
		if (y < 0 || y >= in->dim[1])
			continue;
		x[1] = y;
		for (k[2] = 0; k[2] < w->dim[2]; k[2]++) {
			if (tapu_spend(job, ci1 - ci0))
				return 0;
			xx = tapu_pos(i[2], k[2], c->stride[1], c->dilation[1],
				      c->pad[1]);
			if (xx < 0 || xx >= in->dim[2])
				continue;
			x[2] = xx;
			acc += tapu_tap(job, x, k, ci0, ci1, dw);
		}
	}
	if (c->hdr.flags & DRM_TAPU_OP_F_PER_CHANNEL) {
		q = tapu_at(&job->v[TAPU_CONV_QUANT], ch);
		mul = (s32)get_unaligned_le32(q);
		shift = get_unaligned_le32(q + 4);
	}
	return tapu_out((s32)acc * mul, shift, c->output_zp, c->act_min,
			c->act_max);
}

/* Read an eltwise input, broadcasting its dimensions of size 1. */
static s8 tapu_bget(const struct tapu_view *v, const u32 *i)
{
	u32 j[4], d;

	for (d = 0; d < 4; d++)
		j[d] = v->dim[d] == 1 ? 0 : i[d];
	return tapu_get(v, j);
}

static s8 tapu_eltwise(struct tapu_job *job, const u32 *i)
{
	const struct drm_tapu_op_eltwise *e = TAPU_OP(job, eltwise);
	s64 a = tapu_bget(&job->v[0], i) - e->a_zp;
	s64 b = tapu_bget(&job->v[1], i) - e->b_zp;
	s64 v;

	if (e->hdr.opcode == DRM_TAPU_OP_ADD)
		v = a * e->a_mul + b * e->b_mul;
	else if (e->hdr.opcode == DRM_TAPU_OP_SUB)
		v = a * e->a_mul - b * e->b_mul;
	else
		v = a * b * e->a_mul;
	return tapu_out(v, e->shift, e->output_zp, e->act_min, e->act_max);
}

/* Clip the window [start, start + k) to the input [0, n). */
static void tapu_window(s64 start, u32 k, u32 n, u32 *lo, u32 *hi)
{
	*lo = clamp_t(s64, start, 0, n);
	*hi = clamp_t(s64, start + k, 0, n);
}

/* Whether a tie between @q and @q + 1 goes to @q + 1. */
static bool tapu_tie_up(u32 flags, u64 q)
{
	if (flags & DRM_TAPU_OP_F_ROUND_EVEN)
		return q & 1;
	if (flags & DRM_TAPU_OP_F_ROUND_ODD)
		return !(q & 1);
	return true;
}

static s8 tapu_pool(struct tapu_job *job, const u32 *i)
{
	const struct drm_tapu_op_pool *p = TAPU_OP(job, pool);
	const struct tapu_view *in = &job->v[0];
	bool avg = p->hdr.opcode == DRM_TAPU_OP_AVGPOOL;
	u32 x[4] = { i[0], 0, 0, i[3] }, y0, y1, x0, x1;
	s64 acc = avg ? 0 : S8_MIN;
	u64 cnt, q, r;

	tapu_window(tapu_pos(i[1], 0, p->stride[0], 1, p->pad[0]),
		    p->kernel[0], in->dim[1], &y0, &y1);
	tapu_window(tapu_pos(i[2], 0, p->stride[1], 1, p->pad[1]),
		    p->kernel[1], in->dim[2], &x0, &x1);
	for (x[1] = y0; x[1] < y1; x[1]++) {
		if (tapu_spend(job, x1 - x0 + 1))
			return 0;
		for (x[2] = x0; x[2] < x1; x[2]++)
			acc = avg ? acc + tapu_get(in, x) :
			      max_t(s64, acc, tapu_get(in, x));
	}
	if (avg) {
		/* Validation keeps windows non-empty; max() keeps this safe. */
		cnt = max_t(u64, (u64)(y1 - y0) * (x1 - x0), 1);
		/* Round the magnitude: ties up, or to the parity asked for. */
		q = div64_u64_rem(abs(acc), cnt, &r);
		if (2 * r > cnt || (2 * r == cnt && tapu_tie_up(p->hdr.flags, q)))
			q++;
		acc = acc < 0 ? -(s64)q : (s64)q;
	}
	return clamp_t(s64, acc, p->act_min, p->act_max);
}

static s8 tapu_act(struct tapu_job *job, const u32 *i)
{
	const struct drm_tapu_op_act *a = TAPU_OP(job, act);
	/* RELU has no upper bound: its max field is 0. */
	s32 hi = a->hdr.opcode == DRM_TAPU_OP_RELU ? S8_MAX : a->max;

	return clamp_t(s32, tapu_get(&job->v[0], i), a->min, hi);
}

static s8 tapu_lut(struct tapu_job *job, const u32 *i)
{
	u32 t[4] = { 0, 0, 0, (u8)(tapu_get(&job->v[0], i) + 128) };

	return tapu_get(&job->v[TAPU_TIDX(struct drm_tapu_op_lut, table)], t);
}

static s8 tapu_copy(struct tapu_job *job, const u32 *i)
{
	return tapu_get(&job->v[0], i);
}

/*
 * tapu_run() visits the output in row-major order, so the input index just
 * advances like an odometer instead of being recomputed with divisions.
 */
static s8 tapu_reshape(struct tapu_job *job, const u32 *i)
{
	const struct tapu_view *in = &job->v[0];
	s8 v = tapu_get(in, job->j);
	int d;

	for (d = 3; d >= 0 && ++job->j[d] >= in->dim[d]; d--)
		job->j[d] = 0;
	return v;
}

static s8 tapu_transpose(struct tapu_job *job, const u32 *i)
{
	const struct drm_tapu_op_rs *r = TAPU_OP(job, rs);
	u32 j[4] = {}, k;

	for (k = 0; k < 4; k++)
		j[r->perm[k] & 3] = i[k];
	return tapu_get(&job->v[0], j);
}

static s8 tapu_concat(struct tapu_job *job, const u32 *i)
{
	const struct drm_tapu_op_concat *c = TAPU_OP(job, concat);
	const struct tapu_view *a = &job->v[0];
	u32 ax = c->axis & 3, j[4];

	memcpy(j, i, sizeof(j));
	if (j[ax] < a->dim[ax])
		return tapu_get(a, j);
	j[ax] -= a->dim[ax];
	return tapu_get(&job->v[1], j);
}

static s8 tapu_pad(struct tapu_job *job, const u32 *i)
{
	const struct drm_tapu_op_pad *p = TAPU_OP(job, pad);
	const struct tapu_view *in = &job->v[0];
	u32 j[4], d;

	for (d = 0; d < 4; d++) {
		/* Before the data this wraps to well above any dimension. */
		j[d] = i[d] - p->before[d];
		if (j[d] >= in->dim[d])
			return p->value;
	}
	return tapu_get(in, j);
}

/* Compute every element of output @o, counting each row of C as work. */
static int tapu_run(struct tapu_job *job, const struct tapu_view *o,
		    s8 (*fn)(struct tapu_job *job, const u32 *i))
{
	u32 i[4];

	for (i[0] = 0; i[0] < o->dim[0]; i[0]++)
		for (i[1] = 0; i[1] < o->dim[1]; i[1]++)
			for (i[2] = 0; i[2] < o->dim[2]; i[2]++) {
				if (tapu_spend(job, o->dim[3]))
					return -ECANCELED;
				for (i[3] = 0; i[3] < o->dim[3]; i[3]++)
					*(s8 *)tapu_at(o, i) = fn(job, i);
			}
	return 0;
}

/**
 * struct tapu_exec_desc - how to run one opcode
 * @fn: computes one output element, NULL for NOP
 * @ntensors: tensors following the header
 * @output: index of the tensor the op writes
 * @cost_shift: log2 of the work units done per cycle
 * @cost_base: fixed cycles per op
 */
struct tapu_exec_desc {
	s8 (*fn)(struct tapu_job *job, const u32 *i);
	u8 ntensors;
	u8 output;
	u8 cost_shift;
	u8 cost_base;
};

#define TAPU_EXEC(type, last, elem, shift, base) {			\
	.fn = elem,							\
	.ntensors = TAPU_TIDX(struct drm_tapu_op_##type, last) + 1,	\
	.output = TAPU_TIDX(struct drm_tapu_op_##type, output),		\
	.cost_shift = shift,						\
	.cost_base = base,						\
}

#define TAPU_EXEC_MAC	TAPU_EXEC(conv, output, tapu_mac, 8, 16)
#define TAPU_EXEC_EW(type, last, elem)	TAPU_EXEC(type, last, elem, 6, 8)

/*
 * Cycle model: a MAC op costs ceil(MACs / 256) + 16 cycles, a 256-MAC array
 * plus set-up, where MACs = output elements * Kh * Kw * Ci (Kh * Kw for
 * depthwise), padding taps included. Every other op costs
 * ceil(work / 64) + 8 on a 64-lane vector engine, where work is the output
 * elements, times Kh * Kw for pools. NOP costs 1.
 */
static const struct tapu_exec_desc tapu_exec_ops[DRM_TAPU_OP_COUNT] = {
	[DRM_TAPU_OP_NOP] = { .cost_base = 1 },
	[DRM_TAPU_OP_CONV2D] = TAPU_EXEC_MAC,
	[DRM_TAPU_OP_DEPTHWISE_CONV2D] = TAPU_EXEC_MAC,
	[DRM_TAPU_OP_FULLY_CONNECTED] = TAPU_EXEC_MAC,
	[DRM_TAPU_OP_ADD] = TAPU_EXEC_EW(eltwise, output, tapu_eltwise),
	[DRM_TAPU_OP_SUB] = TAPU_EXEC_EW(eltwise, output, tapu_eltwise),
	[DRM_TAPU_OP_MUL] = TAPU_EXEC_EW(eltwise, output, tapu_eltwise),
	[DRM_TAPU_OP_MAXPOOL] = TAPU_EXEC_EW(pool, output, tapu_pool),
	[DRM_TAPU_OP_AVGPOOL] = TAPU_EXEC_EW(pool, output, tapu_pool),
	[DRM_TAPU_OP_RELU] = TAPU_EXEC_EW(act, output, tapu_act),
	[DRM_TAPU_OP_RELU6] = TAPU_EXEC_EW(act, output, tapu_act),
	[DRM_TAPU_OP_CLAMP] = TAPU_EXEC_EW(act, output, tapu_act),
	[DRM_TAPU_OP_LUT] = TAPU_EXEC_EW(lut, table, tapu_lut),
	[DRM_TAPU_OP_COPY] = TAPU_EXEC_EW(rs, output, tapu_copy),
	[DRM_TAPU_OP_RESHAPE] = TAPU_EXEC_EW(rs, output, tapu_reshape),
	[DRM_TAPU_OP_TRANSPOSE] = TAPU_EXEC_EW(rs, output, tapu_transpose),
	[DRM_TAPU_OP_CONCAT] = TAPU_EXEC_EW(concat, output, tapu_concat),
	[DRM_TAPU_OP_PAD] = TAPU_EXEC_EW(pad, output, tapu_pad),
};

static void tapu_account(struct tapu_job *job, const struct tapu_exec_desc *d)
{
	const u32 *dim = job->v[d->output].dim;
	u64 n = tapu_isa_op_taps((const void *)job->op), cycles;
	u32 k, s = d->cost_shift;

	/* Saturate rather than wrap on absurd (but valid) sizes. */
	for (k = 0; d->fn && k < 4; k++)
		if (check_mul_overflow(n, (u64)dim[k], &n))
			n = U64_MAX;
	n = (n >> s) + !!(n & (BIT_ULL(s) - 1)) + d->cost_base;
	if (check_add_overflow(job->ctx->cycles, n, &cycles))
		cycles = U64_MAX;
	WRITE_ONCE(job->ctx->cycles, cycles);
}

static int tapu_map(struct tapu_view *v, const struct drm_tapu_tensor *t,
		    u32 esize, const struct tapu_exec_slot *slots,
		    u32 num_slots)
{
	u64 end = (u64)t->offset + esize;
	u32 d;

	if (t->slot >= num_slots)
		return -EINVAL;
	/* Bounded dimensions keep the sum below 2^51: no overflow. */
	for (d = 0; d < 4; d++) {
		if (!t->dim[d] || t->dim[d] > DRM_TAPU_MAX_DIM)
			return -EINVAL;
		end += (u64)(t->dim[d] - 1) * t->stride[d];
	}
	if (end > slots[t->slot].size || !slots[t->slot].vaddr)
		return -EINVAL;

	v->base = (u8 *)slots[t->slot].vaddr + t->offset;
	memcpy(v->dim, t->dim, sizeof(v->dim));
	memcpy(v->stride, t->stride, sizeof(v->stride));
	return 0;
}

/* Element size of tensor @k; conv's bias and quant exist only with flags. */
static u32 tapu_esize(const struct drm_tapu_op_hdr *hdr,
		      const struct tapu_exec_desc *d, u32 k)
{
	if (d->fn != tapu_mac || (k != TAPU_CONV_BIAS && k != TAPU_CONV_QUANT))
		return 1;
	if (k == TAPU_CONV_BIAS)
		return hdr->flags & DRM_TAPU_OP_F_BIAS ? 4 : 0;
	return hdr->flags & DRM_TAPU_OP_F_PER_CHANNEL ? 8 : 0;
}

static int tapu_exec_op(struct tapu_job *job, const u8 *p, u32 left,
			const struct tapu_exec_slot *slots, u32 num_slots,
			struct tapu_exec_ctx *ctx)
{
	struct drm_tapu_op_hdr *hdr = (void *)job->op;
	const struct drm_tapu_tensor *t = (const void *)(hdr + 1);
	const struct tapu_exec_desc *d;
	u32 k, esize;
	int ret;

	memset(job, 0, sizeof(*job));
	job->ctx = ctx;
	/* The stream was validated; this only keeps a bad caller in bounds. */
	if (left < sizeof(*hdr))
		return -EINVAL;
	memcpy(hdr, p, sizeof(*hdr));
	if (hdr->opcode >= ARRAY_SIZE(tapu_exec_ops) ||
	    !tapu_exec_ops[hdr->opcode].cost_base ||
	    hdr->size < sizeof(*hdr) || hdr->size > left ||
	    hdr->size > sizeof(job->op))
		return -EINVAL;
	d = &tapu_exec_ops[hdr->opcode];
	memcpy(job->op, p, hdr->size);

	for (k = 0; k < d->ntensors; k++) {
		esize = tapu_esize(hdr, d, k);
		ret = esize ? tapu_map(&job->v[k], &t[k], esize, slots,
				       num_slots) : 0;
		if (ret)
			return ret;
	}
	ret = d->fn ? tapu_run(job, &job->v[d->output], d->fn) : 0;
	if (!ret)
		tapu_account(job, d);
	return ret;
}

/**
 * tapu_isa_execute() - run a validated command stream on the CPU
 * @stream: a stream accepted by tapu_isa_validate()
 * @size: stream size in bytes
 * @slots: the job's BOs, indexed by slot
 * @num_slots: entries in @slots
 * @ctx: progress, cycle count and stop request shared with the caller
 *
 * Executes the operations in order, bit-exactly as the uAPI header defines
 * them, and adds the cycle model's cost of each to @ctx->cycles. Progress is
 * reported and @ctx->stop checked at least once per operation and per
 * TAPU_TICK_WORK units of work (MACs, output elements, pooling taps).
 *
 * Context: Process context; may reschedule, never sleeps on a lock and does
 * not allocate memory.
 *
 * Return: 0 on success, -ECANCELED once @ctx->stop is seen, -EINVAL if the
 * stream references a slot beyond @num_slots or beyond its BO's size.
 */
int tapu_isa_execute(const void *stream, u32 size,
		     const struct tapu_exec_slot *slots, u32 num_slots,
		     struct tapu_exec_ctx *ctx)
{
	struct tapu_job job;
	const struct drm_tapu_op_hdr *hdr = (const void *)job.op;
	u32 off;
	int ret;

	for (off = 0; off < size; off += hdr->size) {
		ret = tapu_exec_op(&job, (const u8 *)stream + off, size - off,
				   slots, num_slots, ctx);
		if (ret)
			return ret;
		/* Once per op too, so that a run of NOPs still checks in. */
		if (tapu_tick(ctx))
			return -ECANCELED;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(tapu_isa_execute);

/*
 * The executor's slowest op per unit of work: taps over a single channel,
 * where every tap is a loop iteration of its own. Work 256 * 256 +
 * DRM_TAPU_ELEMENT_WORK.
 */
static const struct drm_tapu_op_conv tapu_calibration_op = {
	.hdr = { DRM_TAPU_OP_DEPTHWISE_CONV2D, sizeof(tapu_calibration_op) },
	.input = { .dim = { 1, 256, 256, 1 } },
	.weights = { .slot = 1, .dim = { 1, 256, 256, 1 } },
	.output = { .slot = 2, .dim = { 1, 1, 1, 1 } },
	.stride = { 1, 1 },
	.dilation = { 1, 1 },
	.multiplier = 1,
	.act_min = -128,
	.act_max = 127,
};

/**
 * tapu_isa_work_per_ms() - measure the CPU executor's throughput
 *
 * Runs a calibration op, the slowest kind per unit of work, a few times,
 * for a backend that executes streams on this CPU to declare as its
 * &tapu_device_desc.work_per_ms.
 *
 * Context: Process context; takes about 10 ms on an emulated machine.
 *
 * Return: units of work (see tapu_isa_validate()) per millisecond, at
 * least 1.
 */
u64 tapu_isa_work_per_ms(void)
{
	const struct drm_tapu_op_hdr *hdr = &tapu_calibration_op.hdr;
	u64 work = DRM_TAPU_ELEMENT_WORK + tapu_isa_op_taps(hdr), best = U64_MAX;
	struct tapu_exec_slot slots[3];
	struct tapu_exec_ctx ctx = {};
	s8 byte = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(slots); i++)
		slots[i] = (struct tapu_exec_slot){ &byte, sizeof(byte) };
	/* The best of three: the others met interrupts or preemption. */
	for (i = 0; i < 3; i++) {
		u64 t0 = ktime_get_ns();

		/* Cannot fail; if it did, claim the least throughput. */
		if (WARN_ON(tapu_isa_execute(&tapu_calibration_op, hdr->size,
					     slots, ARRAY_SIZE(slots), &ctx)))
			return 1;
		best = min(best, ktime_get_ns() - t0);
	}
	return max_t(u64, div64_u64(work * NSEC_PER_MSEC, max(best, 1)), 1);
}
EXPORT_SYMBOL_GPL(tapu_isa_work_per_ms);
