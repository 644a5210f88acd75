// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * Reference executor of the TAPU ISA, used by the simulated NPU and the
 * MT8183 reference firmware: bit-exact to the formulas in the uAPI header,
 * computed a row of the output at a time so that every op runs at the
 * speed of a plain C loop over its tensors.
 */

#include <linux/array_size.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/errno.h>
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
#include "tapu_isa_exec.h"

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
	u8 *end;	/* one past its last byte */
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
	/* The output overlaps an input: compute in strict element order. */
	bool overlap;
};

#define TAPU_OP(job, type)	((const struct drm_tapu_op_##type *)(job)->op)

static void *tapu_at(const struct tapu_view *v, const u32 *i)
{
	return v->base + (size_t)i[0] * v->stride[0] +
	       (size_t)i[1] * v->stride[1] + (size_t)i[2] * v->stride[2] +
	       (size_t)i[3] * v->stride[3];
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

/*
 * The executor works a row at a time: an op's row function computes the
 * @n output elements (i[0], i[1], i[2], 0..n-1), @ostride bytes apart,
 * walking its tensors with pointer increments. It returns true if the job
 * was stopped.
 */

/* Element (i[0], i[1], i[2], 0) of a view. */
static const s8 *tapu_row(const struct tapu_view *v, const u32 *i)
{
	return v->base + (size_t)i[0] * v->stride[0] +
	       (size_t)i[1] * v->stride[1] + (size_t)i[2] * v->stride[2];
}

/* The same, broadcasting the view's dimensions of size 1. */
static const s8 *tapu_brow(const struct tapu_view *v, const u32 *i, u32 *step)
{
	u32 j[3], d;

	for (d = 0; d < 3; d++)
		j[d] = v->dim[d] == 1 ? 0 : i[d];
	*step = v->dim[3] == 1 ? 0 : v->stride[3];
	return tapu_row(v, j);
}

/* Requantisation constants of a shift: clamped, and its rounding term. */
struct tapu_rq {
	u32 shift;
	s64 round;
	s32 zp, lo, hi;
};

static void tapu_rq_init(struct tapu_rq *q, u32 shift, s32 zp, s32 lo, s32 hi)
{
	/* Per-channel shifts come from a BO; keep them defined. */
	q->shift = min(shift, TAPU_MAX_SHIFT);
	q->round = q->shift ? 1LL << (q->shift - 1) : 0;
	q->zp = zp;
	q->lo = lo;
	q->hi = hi;
}

static s8 tapu_rq(const struct tapu_rq *q, s64 v)
{
	return clamp_t(s64, q->zp + ((v + q->round) >> q->shift), q->lo,
		       q->hi);
}

/* MAC ops */

struct tapu_mac_ctx {
	const s8 *x;		/* input element (n, 0, 0, 0) */
	const u32 *xs;		/* input strides */
	u32 xh, xw;		/* input height and width */
	s32 xzp, wzp;
	s32 oy, ox;		/* window origin */
	u32 dy, dx;		/* dilations */
};

/* The window of output (oy, ox): input origin and per-tap strides. */
static void tapu_mac_window(struct tapu_mac_ctx *m, const struct drm_tapu_op_conv *c,
			    const u32 *i)
{
	m->oy = tapu_pos(i[1], 0, c->stride[0], 1, c->pad[0]);
	m->ox = tapu_pos(i[2], 0, c->stride[1], 1, c->pad[1]);
	m->dy = max(c->dilation[0], 1U);
	m->dx = max(c->dilation[1], 1U);
}

static u32 tapu_bias(const struct tapu_job *job, u32 co)
{
	const struct tapu_view *b = &job->v[TAPU_CONV_BIAS];

	return get_unaligned_le32(b->base + (size_t)co * b->stride[3]);
}

static void tapu_mac_quant(const struct tapu_job *job, u32 co,
			   struct tapu_rq *q, s64 *mul)
{
	const struct drm_tapu_op_conv *c = TAPU_OP(job, conv);
	const struct tapu_view *qv = &job->v[TAPU_CONV_QUANT];
	const u8 *p = qv->base + (size_t)co * qv->stride[3];

	*mul = (s32)get_unaligned_le32(p);
	tapu_rq_init(q, get_unaligned_le32(p + 4), c->output_zp, c->act_min,
		     c->act_max);
}

/* Wrapping u32 arithmetic, like the MAC array. */
static u32 tapu_dot(const s8 *x, u32 xs, s32 xzp, const s8 *w, u32 ws, s32 wzp,
		    u32 n)
{
	u32 acc = 0, k = 0;

	if (xs == 1 && ws == 1) {
		/* Four at a time: a quarter of the loop overhead. */
		for (; k + 4 <= n; k += 4)
			acc += (u32)((x[k] - xzp) * (w[k] - wzp)) +
			       (u32)((x[k + 1] - xzp) * (w[k + 1] - wzp)) +
			       (u32)((x[k + 2] - xzp) * (w[k + 2] - wzp)) +
			       (u32)((x[k + 3] - xzp) * (w[k + 3] - wzp));
		for (; k < n; k++)
			acc += (u32)((x[k] - xzp) * (w[k] - wzp));
		return acc;
	}
	for (k = 0; k < n; k++)
		acc += (u32)((x[(size_t)k * xs] - xzp) * (w[(size_t)k * ws] - wzp));
	return acc;
}

/* Two dot products with one input row: each input element loaded once. */
static void tapu_dot2(const s8 *x, s32 xzp, const s8 *w0, const s8 *w1, s32 wzp,
		      u32 n, u32 *acc)
{
	u32 a0 = 0, a1 = 0, k;

	for (k = 0; k < n; k++) {
		s32 v = x[k] - xzp;

		a0 += (u32)(v * (w0[k] - wzp));
		a1 += (u32)(v * (w1[k] - wzp));
	}
	acc[0] += a0;
	acc[1] += a1;
}

#define TAPU_MAC_BLOCK	64

/*
 * CONV2D and FULLY_CONNECTED: a block of output channels at a time, the
 * taps outside, so that each tap's input row is found once for the block.
 */
static bool tapu_conv_block(struct tapu_job *job, const struct tapu_mac_ctx *m,
			    u32 c0, u32 nc, u32 *acc)
{
	const struct tapu_view *in = &job->v[0], *w = &job->v[1];
	u32 n = in->dim[3], xs3 = m->xs[3], ws0 = w->stride[0], ws3 = w->stride[3];
	s32 xzp = m->xzp, wzp = m->wzp;
	u32 ky, kx, c;

	for (ky = 0; ky < w->dim[1]; ky++) {
		s64 y = m->oy + (s64)ky * m->dy;

		/* Padding reads as input_zp and so adds nothing. */
		if (y < 0 || y >= m->xh) {
			if (tapu_spend(job, (u64)w->dim[2] * n * nc))
				return true;
			continue;
		}
		for (kx = 0; kx < w->dim[2]; kx++) {
			s64 x = m->ox + (s64)kx * m->dx;
			const s8 *px, *pw;

			if (x < 0 || x >= m->xw) {
				if (tapu_spend(job, (u64)n * nc))
					return true;
				continue;
			}
			px = m->x + (size_t)y * m->xs[1] + (size_t)x * m->xs[2];
			pw = w->base + (size_t)c0 * ws0 + (size_t)ky * w->stride[1] +
			     (size_t)kx * w->stride[2];
			/* A stopped job bails out here; tapu_run() reports it. */
			c = 0;
			if (xs3 == 1 && ws3 == 1)
				for (; c + 2 <= nc; c += 2, pw += 2 * (size_t)ws0) {
					if (tapu_spend(job, 2 * (u64)n))
						return true;
					tapu_dot2(px, xzp, pw, pw + ws0, wzp, n, &acc[c]);
				}
			for (; c < nc; c++, pw += ws0) {
				if (tapu_spend(job, n))
					return true;
				acc[c] += tapu_dot(px, xs3, xzp, pw, ws3, wzp, n);
			}
		}
	}
	return false;
}

/*
 * DEPTHWISE_CONV2D: a block of output channels at a time, taps outside,
 * channels inside, so that input and weights are read along their rows.
 */
static bool tapu_dw_block(struct tapu_job *job, const struct tapu_mac_ctx *m,
			  u32 c0, u32 nc, u32 mult, u32 *acc)
{
	const struct tapu_view *w = &job->v[1];
	u32 xs3 = m->xs[3], ws3 = w->stride[3], ky, kx, c;
	s32 xzp = m->xzp, wzp = m->wzp;

	for (ky = 0; ky < w->dim[1]; ky++) {
		s64 y = m->oy + (s64)ky * m->dy;

		if (y < 0 || y >= m->xh) {
			if (tapu_spend(job, (u64)w->dim[2] * nc))
				return true;
			continue;
		}
		for (kx = 0; kx < w->dim[2]; kx++) {
			s64 x = m->ox + (s64)kx * m->dx;
			const s8 *px, *pw;

			if (tapu_spend(job, nc))
				return true;
			if (x < 0 || x >= m->xw)
				continue;
			px = m->x + (size_t)y * m->xs[1] + (size_t)x * m->xs[2];
			pw = w->base + (size_t)ky * w->stride[1] +
			     (size_t)kx * w->stride[2] + (size_t)c0 * ws3;
			if (mult == 1 && xs3 == 1 && ws3 == 1) {
				px += c0;
				for (c = 0; c < nc; c++)
					acc[c] += (u32)((px[c] - xzp) * (pw[c] - wzp));
			} else {
				for (c = 0; c < nc; c++)
					acc[c] += (u32)((px[(size_t)((c0 + c) / mult) * xs3] -
							 xzp) * (pw[(size_t)c * ws3] - wzp));
			}
		}
	}
	return false;
}

static bool tapu_mac_row(struct tapu_job *job, const u32 *i, s8 *out,
			 u32 ostride, u32 n)
{
	const struct drm_tapu_op_conv *c = TAPU_OP(job, conv);
	const struct tapu_view *in = &job->v[0];
	bool dw = c->hdr.opcode == DRM_TAPU_OP_DEPTHWISE_CONV2D;
	bool bias = c->hdr.flags & DRM_TAPU_OP_F_BIAS;
	bool pc = c->hdr.flags & DRM_TAPU_OP_F_PER_CHANNEL;
	u32 mult = max(n / in->dim[3], 1U), acc[TAPU_MAC_BLOCK], co, k, nc;
	struct tapu_mac_ctx m = {
		.x = in->base + (size_t)i[0] * in->stride[0],
		.xs = in->stride, .xh = in->dim[1], .xw = in->dim[2],
		.xzp = c->input_zp, .wzp = c->weight_zp,
	};
	struct tapu_rq q;
	s64 mul = c->multiplier;

	tapu_mac_window(&m, c, i);
	tapu_rq_init(&q, c->shift, c->output_zp, c->act_min, c->act_max);
	for (co = 0; co < n; co += nc) {
		/* Overlapping views see each output written before the next. */
		nc = job->overlap ? 1 : min_t(u32, n - co, TAPU_MAC_BLOCK);
		for (k = 0; k < nc; k++)
			acc[k] = bias ? tapu_bias(job, co + k) : 0;
		if (dw ? tapu_dw_block(job, &m, co, nc, mult, acc) :
			 tapu_conv_block(job, &m, co, nc, acc))
			return true;
		for (k = 0; k < nc; k++, out += ostride) {
			if (pc)
				tapu_mac_quant(job, co + k, &q, &mul);
			*out = tapu_rq(&q, (s32)acc[k] * mul);
		}
	}
	return false;
}

/* Elementwise ops */

static bool tapu_eltwise_row(struct tapu_job *job, const u32 *i, s8 *out,
			     u32 ostride, u32 n)
{
	const struct drm_tapu_op_eltwise *e = TAPU_OP(job, eltwise);
	u32 sa, sb, k;
	const s8 *a = tapu_brow(&job->v[0], i, &sa);
	const s8 *b = tapu_brow(&job->v[1], i, &sb);
	s64 am = e->a_mul, bm = e->b_mul;
	s32 az = e->a_zp, bz = e->b_zp;
	struct tapu_rq q;

	/* Locals: a store through s8 * could alias anything read per element. */
	tapu_rq_init(&q, e->shift, e->output_zp, e->act_min, e->act_max);
	switch (e->hdr.opcode) {
	case DRM_TAPU_OP_ADD:
		if (sa == 1 && sb == 1 && ostride == 1) {
			for (k = 0; k < n; k++)
				out[k] = tapu_rq(&q, (a[k] - az) * am + (b[k] - bz) * bm);
			break;
		}
		for (k = 0; k < n; k++, a += sa, b += sb, out += ostride)
			*out = tapu_rq(&q, (*a - az) * am + (*b - bz) * bm);
		break;
	case DRM_TAPU_OP_SUB:
		for (k = 0; k < n; k++, a += sa, b += sb, out += ostride)
			*out = tapu_rq(&q, (*a - az) * am - (*b - bz) * bm);
		break;
	default:
		for (k = 0; k < n; k++, a += sa, b += sb, out += ostride)
			*out = tapu_rq(&q, (s64)(*a - az) * (*b - bz) * am);
	}
	return false;
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

static bool tapu_pool_row(struct tapu_job *job, const u32 *i, s8 *out,
			  u32 ostride, u32 n)
{
	const struct drm_tapu_op_pool *p = TAPU_OP(job, pool);
	const struct tapu_view *in = &job->v[0];
	bool avg = p->hdr.opcode == DRM_TAPU_OP_AVGPOOL;
	const s8 *x = in->base + (size_t)i[0] * in->stride[0];
	u32 y0, y1, x0, x1, y, xx, c;
	u64 cnt, q, r;
	s64 acc;

	tapu_window(tapu_pos(i[1], 0, p->stride[0], 1, p->pad[0]),
		    p->kernel[0], in->dim[1], &y0, &y1);
	tapu_window(tapu_pos(i[2], 0, p->stride[1], 1, p->pad[1]),
		    p->kernel[1], in->dim[2], &x0, &x1);
	/* Validation keeps windows non-empty; max() keeps this safe. */
	cnt = max_t(u64, (u64)(y1 - y0) * (x1 - x0), 1);
	for (c = 0; c < n; c++, out += ostride) {
		const s8 *pc = x + (size_t)c * in->stride[3];

		acc = avg ? 0 : S8_MIN;
		for (y = y0; y < y1; y++) {
			const s8 *py = pc + (size_t)y * in->stride[1];

			if (tapu_spend(job, x1 - x0 + 1))
				return true;
			for (xx = x0; xx < x1; xx++) {
				s8 v = py[(size_t)xx * in->stride[2]];

				acc = avg ? acc + v : max_t(s64, acc, v);
			}
		}
		if (avg) {
			/* Round the magnitude: ties up, or to the parity asked. */
			q = div64_u64_rem(abs(acc), cnt, &r);
			if (2 * r > cnt ||
			    (2 * r == cnt && tapu_tie_up(p->hdr.flags, q)))
				q++;
			acc = acc < 0 ? -(s64)q : (s64)q;
		}
		*out = clamp_t(s64, acc, p->act_min, p->act_max);
	}
	return false;
}

static bool tapu_act_row(struct tapu_job *job, const u32 *i, s8 *out,
			 u32 ostride, u32 n)
{
	const struct drm_tapu_op_act *a = TAPU_OP(job, act);
	const struct tapu_view *in = &job->v[0];
	const s8 *x = tapu_row(in, i);
	/* RELU has no upper bound: its max field is 0. */
	s32 lo = a->min, hi = a->hdr.opcode == DRM_TAPU_OP_RELU ? S8_MAX : a->max;
	u32 k, xs = in->stride[3];

	for (k = 0; k < n; k++, x += xs, out += ostride)
		*out = clamp_t(s32, *x, lo, hi);
	return false;
}

static bool tapu_lut_row(struct tapu_job *job, const u32 *i, s8 *out,
			 u32 ostride, u32 n)
{
	const struct tapu_view *in = &job->v[0];
	const struct tapu_view *t = &job->v[TAPU_TIDX(struct drm_tapu_op_lut, table)];
	const s8 *x = tapu_row(in, i), *tab = t->base;
	u32 k, xs = in->stride[3], ts = t->stride[3];

	if (xs == 1 && ts == 1 && ostride == 1) {
		for (k = 0; k < n; k++)
			out[k] = tab[(u8)(x[k] + 128)];
		return false;
	}
	for (k = 0; k < n; k++, x += xs, out += ostride)
		*out = tab[(size_t)(u8)(*x + 128) * ts];
	return false;
}

/* @n elements from @x, @xs apart, to @out, @os apart, in order if @seq. */
static void tapu_copy_elems(s8 *out, u32 os, const s8 *x, u32 xs, u32 n,
			    bool seq)
{
	u32 k;

	if (os == 1 && xs == 1 && !seq) {
		memcpy(out, x, n);
		return;
	}
	for (k = 0; k < n; k++, x += xs, out += os)
		*out = *x;
}

static bool tapu_copy_row(struct tapu_job *job, const u32 *i, s8 *out,
			  u32 ostride, u32 n)
{
	const struct tapu_view *in = &job->v[0];

	tapu_copy_elems(out, ostride, tapu_row(in, i), in->stride[3], n,
			job->overlap);
	return false;
}

/*
 * The output is visited in row-major order, so the input index just
 * advances like an odometer instead of being recomputed with divisions.
 */
static bool tapu_reshape_row(struct tapu_job *job, const u32 *i, s8 *out,
			     u32 ostride, u32 n)
{
	const struct tapu_view *in = &job->v[0];
	u32 k, *j = job->j;
	int d;

	for (k = 0; k < n; k++, out += ostride) {
		*out = *(const s8 *)tapu_at(in, j);
		for (d = 3; d >= 0 && ++j[d] >= in->dim[d]; d--)
			j[d] = 0;
	}
	return false;
}

static bool tapu_transpose_row(struct tapu_job *job, const u32 *i, s8 *out,
			       u32 ostride, u32 n)
{
	const struct drm_tapu_op_rs *r = TAPU_OP(job, rs);
	const struct tapu_view *in = &job->v[0];
	u32 j[4] = {}, k;

	for (k = 0; k < 3; k++)
		j[r->perm[k] & 3] = i[k];
	tapu_copy_elems(out, ostride, tapu_at(in, j),
			in->stride[r->perm[3] & 3], n, job->overlap);
	return false;
}

static bool tapu_concat_row(struct tapu_job *job, const u32 *i, s8 *out,
			    u32 ostride, u32 n)
{
	const struct drm_tapu_op_concat *c = TAPU_OP(job, concat);
	const struct tapu_view *a = &job->v[0], *b = &job->v[1];
	u32 ax = c->axis & 3, j[3];

	if (ax == 3) {
		tapu_copy_elems(out, ostride, tapu_row(a, i), a->stride[3],
				a->dim[3], job->overlap);
		tapu_copy_elems(out + (size_t)a->dim[3] * ostride, ostride,
				tapu_row(b, i), b->stride[3], n - a->dim[3],
				job->overlap);
		return false;
	}
	memcpy(j, i, sizeof(j));
	if (j[ax] < a->dim[ax]) {
		tapu_copy_elems(out, ostride, tapu_row(a, j), a->stride[3], n,
				job->overlap);
		return false;
	}
	j[ax] -= a->dim[ax];
	tapu_copy_elems(out, ostride, tapu_row(b, j), b->stride[3], n,
			job->overlap);
	return false;
}

static bool tapu_pad_row(struct tapu_job *job, const u32 *i, s8 *out,
			 u32 ostride, u32 n)
{
	const struct drm_tapu_op_pad *p = TAPU_OP(job, pad);
	const struct tapu_view *in = &job->v[0];
	u32 j[3], d, k, lo = p->before[3], hi;

	for (d = 0; d < 3; d++) {
		/* Before the data this wraps to well above any dimension. */
		j[d] = i[d] - p->before[d];
		if (j[d] >= in->dim[d])
			lo = n;
	}
	lo = min(lo, n);
	hi = min(lo + in->dim[3], n);
	for (k = 0; k < lo; k++)
		out[(size_t)k * ostride] = p->value;
	if (hi > lo)
		tapu_copy_elems(out + (size_t)lo * ostride, ostride,
				tapu_row(in, j), in->stride[3], hi - lo,
				job->overlap);
	for (k = hi; k < n; k++)
		out[(size_t)k * ostride] = p->value;
	return false;
}

/* Compute every row of output @o, counting each row's elements as work. */
static int tapu_run(struct tapu_job *job, const struct tapu_view *o,
		    bool (*row)(struct tapu_job *job, const u32 *i, s8 *out,
				u32 ostride, u32 n))
{
	u32 i[4] = {};

	for (i[0] = 0; i[0] < o->dim[0]; i[0]++)
		for (i[1] = 0; i[1] < o->dim[1]; i[1]++)
			for (i[2] = 0; i[2] < o->dim[2]; i[2]++) {
				if (tapu_spend(job, o->dim[3]) ||
				    row(job, i, (s8 *)tapu_row(o, i),
					o->stride[3], o->dim[3]))
					return -ECANCELED;
			}
	return 0;
}

/**
 * struct tapu_exec_desc - how to run one opcode
 * @row: computes one output row, NULL for NOP
 * @ntensors: tensors following the header
 * @output: index of the tensor the op writes
 * @cost_shift: log2 of the work units done per cycle
 * @cost_base: fixed cycles per op
 */
struct tapu_exec_desc {
	bool (*row)(struct tapu_job *job, const u32 *i, s8 *out, u32 ostride,
		    u32 n);
	u8 ntensors;
	u8 output;
	u8 cost_shift;
	u8 cost_base;
};

#define TAPU_EXEC(type, last, fn, shift, base) {			\
	.row = fn,							\
	.ntensors = TAPU_TIDX(struct drm_tapu_op_##type, last) + 1,	\
	.output = TAPU_TIDX(struct drm_tapu_op_##type, output),		\
	.cost_shift = shift,						\
	.cost_base = base,						\
}

#define TAPU_EXEC_MAC	TAPU_EXEC(conv, output, tapu_mac_row, 8, 16)
#define TAPU_EXEC_EW(type, last, fn)	TAPU_EXEC(type, last, fn, 6, 8)

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
	[DRM_TAPU_OP_ADD] = TAPU_EXEC_EW(eltwise, output, tapu_eltwise_row),
	[DRM_TAPU_OP_SUB] = TAPU_EXEC_EW(eltwise, output, tapu_eltwise_row),
	[DRM_TAPU_OP_MUL] = TAPU_EXEC_EW(eltwise, output, tapu_eltwise_row),
	[DRM_TAPU_OP_MAXPOOL] = TAPU_EXEC_EW(pool, output, tapu_pool_row),
	[DRM_TAPU_OP_AVGPOOL] = TAPU_EXEC_EW(pool, output, tapu_pool_row),
	[DRM_TAPU_OP_RELU] = TAPU_EXEC_EW(act, output, tapu_act_row),
	[DRM_TAPU_OP_RELU6] = TAPU_EXEC_EW(act, output, tapu_act_row),
	[DRM_TAPU_OP_CLAMP] = TAPU_EXEC_EW(act, output, tapu_act_row),
	[DRM_TAPU_OP_LUT] = TAPU_EXEC_EW(lut, table, tapu_lut_row),
	[DRM_TAPU_OP_COPY] = TAPU_EXEC_EW(rs, output, tapu_copy_row),
	[DRM_TAPU_OP_RESHAPE] = TAPU_EXEC_EW(rs, output, tapu_reshape_row),
	[DRM_TAPU_OP_TRANSPOSE] = TAPU_EXEC_EW(rs, output, tapu_transpose_row),
	[DRM_TAPU_OP_CONCAT] = TAPU_EXEC_EW(concat, output, tapu_concat_row),
	[DRM_TAPU_OP_PAD] = TAPU_EXEC_EW(pad, output, tapu_pad_row),
};

static void tapu_account(struct tapu_job *job, const struct tapu_exec_desc *d)
{
	const u32 *dim = job->v[d->output].dim;
	u64 n = tapu_isa_op_taps((const void *)job->op), cycles;
	u32 k, s = d->cost_shift;

	/* Saturate rather than wrap on absurd (but valid) sizes. */
	for (k = 0; d->row && k < 4; k++)
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
	v->end = (u8 *)slots[t->slot].vaddr + end;
	memcpy(v->dim, t->dim, sizeof(v->dim));
	memcpy(v->stride, t->stride, sizeof(v->stride));
	return 0;
}

/* Element size of tensor @k; conv's bias and quant exist only with flags. */
static u32 tapu_esize(const struct drm_tapu_op_hdr *hdr,
		      const struct tapu_exec_desc *d, u32 k)
{
	if (d->row != tapu_mac_row || (k != TAPU_CONV_BIAS && k != TAPU_CONV_QUANT))
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
	for (k = 0; k < d->ntensors; k++) {
		const struct tapu_view *o = &job->v[d->output], *v = &job->v[k];

		if (k != d->output && v->base && v->base < o->end &&
		    o->base < v->end)
			job->overlap = true;
	}
	ret = d->row ? tapu_run(job, &job->v[d->output], d->row) : 0;
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

/*
 * The executor's slowest ops per unit of work: taps over a single channel,
 * where every tap is a loop iteration of its own, and ops whose rows are
 * one element long, where every element is a row of its own (a MAC op, an
 * elementwise op, a 1x1 AVGPOOL and its division). Every tensor reads or
 * writes one byte.
 */
#define TAPU_CAL_DIM	{ 1, 256, 256, 1 }

static const struct drm_tapu_op_conv tapu_calibration_taps = {
	.hdr = { DRM_TAPU_OP_DEPTHWISE_CONV2D, sizeof(tapu_calibration_taps) },
	.input = { .dim = TAPU_CAL_DIM },
	.weights = { .slot = 1, .dim = TAPU_CAL_DIM },
	.output = { .slot = 2, .dim = { 1, 1, 1, 1 } },
	.stride = { 1, 1 },
	.dilation = { 1, 1 },
	.multiplier = 1,
	.act_min = -128,
	.act_max = 127,
};

static const struct drm_tapu_op_conv tapu_calibration_mac_rows = {
	.hdr = { DRM_TAPU_OP_FULLY_CONNECTED, sizeof(tapu_calibration_mac_rows) },
	.input = { .dim = TAPU_CAL_DIM },
	.weights = { .slot = 1, .dim = { 1, 1, 1, 1 } },
	.output = { .slot = 2, .dim = TAPU_CAL_DIM },
	.multiplier = 1,
	.act_min = -128,
	.act_max = 127,
};

static const struct drm_tapu_op_eltwise tapu_calibration_add_rows = {
	.hdr = { DRM_TAPU_OP_ADD, sizeof(tapu_calibration_add_rows) },
	.a = { .dim = TAPU_CAL_DIM },
	.b = { .slot = 1, .dim = TAPU_CAL_DIM },
	.output = { .slot = 2, .dim = TAPU_CAL_DIM },
	.a_mul = 1,
	.b_mul = 1,
	.shift = 1,
	.act_min = -128,
	.act_max = 127,
};

static const struct drm_tapu_op_pool tapu_calibration_pool_rows = {
	.hdr = { DRM_TAPU_OP_AVGPOOL, sizeof(tapu_calibration_pool_rows) },
	.input = { .dim = TAPU_CAL_DIM },
	.output = { .slot = 2, .dim = TAPU_CAL_DIM },
	.kernel = { 1, 1 },
	.stride = { 1, 1 },
	.act_min = -128,
	.act_max = 127,
};

/* Work per millisecond of @op (@elems outputs), as the validator counts. */
static u64 tapu_calibrate(const struct drm_tapu_op_hdr *op, u64 elems)
{
	u64 work = elems * (DRM_TAPU_ELEMENT_WORK + tapu_isa_op_taps(op));
	struct tapu_exec_slot slots[3];
	struct tapu_exec_ctx ctx = {};
	u64 best = U64_MAX;
	s8 byte = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(slots); i++)
		slots[i] = (struct tapu_exec_slot){ &byte, sizeof(byte) };
	/* The best of three: the others met interrupts or preemption. */
	for (i = 0; i < 3; i++) {
		u64 t0 = ktime_get_ns();

		/* Cannot fail; if it did, claim the least throughput. */
		if (WARN_ON(tapu_isa_execute(op, op->size, slots,
					     ARRAY_SIZE(slots), &ctx)))
			return 1;
		best = min(best, ktime_get_ns() - t0);
	}
	return max_t(u64, div64_u64(work * NSEC_PER_MSEC, max(best, 1)), 1);
}

/**
 * tapu_isa_work_per_ms() - measure the CPU executor's throughput
 *
 * Runs calibration ops, the slowest kinds per unit of work, a few times,
 * for a backend that executes streams on this CPU to declare as its
 * &tapu_device_desc.work_per_ms.
 *
 * Context: Process context; takes about 50 ms on an emulated machine.
 *
 * Return: units of work (see tapu_isa_validate()) per millisecond at the
 * slowest calibration op, at least 1.
 */
u64 tapu_isa_work_per_ms(void)
{
	u64 rate = tapu_calibrate(&tapu_calibration_taps.hdr, 1);

	rate = min(rate, tapu_calibrate(&tapu_calibration_mac_rows.hdr, 256 * 256));
	rate = min(rate, tapu_calibrate(&tapu_calibration_add_rows.hdr, 256 * 256));
	return min(rate, tapu_calibrate(&tapu_calibration_pool_rows.hdr, 256 * 256));
}
