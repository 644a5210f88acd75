// SPDX-License-Identifier: GPL-2.0-only
/*
 * TAPU ISA selftest.
 *
 * Positive tests run every opcode on the device and compare every byte of
 * every BO with a CPU reference executor written from the kernel-doc of
 * include/uapi/drm/tapu_accel.h (the reference interprets the very stream
 * that was submitted, on shadow copies of the BOs, so bytes outside the
 * output views must be left untouched too). Negative tests feed malformed
 * command streams and SUBMIT arguments and expect one exact errno, then run
 * a valid job to show the device is still usable.
 *
 * With TAPU_ISA_RECORD=DIR in the environment, every checked job is also
 * recorded in DIR (see record_job()), for the MT8183 reference firmware
 * to replay: its outputs must be those of this device.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "tapu_test.h"

#define MAX_BOS		8u
#define CS_MAX		4096
#define WAIT_MS		20000
#define RW		(DRM_TAPU_BO_READ | DRM_TAPU_BO_WRITE)
#define PTR(p)		((uint64_t)(uintptr_t)(p))
#define HDR(opc, sz, fl) { .opcode = (opc), .size = (sz), .flags = (fl) }

union op {
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

/* A tensor an op uses: element size and whether it is read or written. */
struct use {
	const struct drm_tapu_tensor *t;
	uint32_t es;
	uint32_t access;
};

/* Geometry of a conv-class or pool op: input [n, h, w, ci], kernel kh x kw. */
struct geom {
	uint32_t n, h, w, ci, co, kh, kw;
	uint16_t s[2], d[2], p[4];
};

FIXTURE(isa) {
	int fd;
	struct drm_tapu_limits lim;
	uint32_t rng;
	int32_t bias_lo, bias_hi;	/* range of random int32 biases */
	uint32_t qshift;		/* per-channel shifts are qshift or +1 */
	bool prepared;
	uint32_t nslots;		/* slots the stream uses: bo[0..nslots) */
	uint32_t access[MAX_BOS];
	uint32_t nbo;
	uint32_t bo[MAX_BOS];
	uint8_t *map[MAX_BOS];
	uint8_t *ref[MAX_BOS];
	uint64_t size[MAX_BOS];
	uint32_t len;
	uint8_t cs[CS_MAX];
};

/* The fixture's type, for helpers that take it. */
#define ISA_DATA FIXTURE_DATA(isa)

FIXTURE_SETUP(isa)
{
	struct drm_tapu_query q = {
		.type = DRM_TAPU_QUERY_LIMITS, .size = sizeof(self->lim),
		.data = PTR(&self->lim),
	};

	self->rng = 0x2545f491;
	self->bias_lo = -20000;
	self->bias_hi = 20000;
	self->qshift = 38;
	self->fd = tapu_open();
	if (self->fd < 0)
		SKIP(return, "%s: %s", TAPU_DEV, strerror(errno));
	ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_QUERY, &q));
}

FIXTURE_TEARDOWN(isa)
{
	for (uint32_t i = 0; i < self->nbo; i++) {
		munmap(self->map[i], self->size[i]);
		free(self->ref[i]);
		tapu_gem_close(self->fd, self->bo[i]);
	}
	close(self->fd);
}

/* ---- helpers: random data, tensors, op builders ---- */

static uint32_t rnd(ISA_DATA *s)
{
	uint32_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return s->rng = x;
}

static int32_t rnd_range(ISA_DATA *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

/* A tensor with packed NHWC strides for elements of @es bytes. */
static struct drm_tapu_tensor tens(uint32_t slot, uint32_t off, uint32_t es,
				   uint32_t n, uint32_t h, uint32_t w,
				   uint32_t c)
{
	struct drm_tapu_tensor t = {
		.slot = slot, .offset = off, .dim = { n, h, w, c },
		.stride = { h * w * c * es, w * c * es, c * es, es },
	};

	return t;
}

#define T8(slot, off, n, h, w, c)	tens(slot, off, 1, n, h, w, c)

static uint64_t extent(const struct drm_tapu_tensor *t, uint32_t es)
{
	uint64_t e = (uint64_t)t->offset + es;

	for (int d = 0; d < 4; d++)
		e += (uint64_t)(t->dim[d] - 1) * t->stride[d];
	return e;
}

static uint8_t *at(uint8_t *base, const struct drm_tapu_tensor *t,
		   const uint32_t *i)
{
	uint64_t off = t->offset;

	for (int d = 0; d < 4; d++)
		off += (uint64_t)i[d] * t->stride[d];
	return base + off;
}

/* Next index in row-major (N, H, W, C) order; false after the last one. */
static bool next_idx(const uint32_t *dim, uint32_t *i)
{
	for (int d = 3; d >= 0; d--) {
		if (++i[d] < dim[d])
			return true;
		i[d] = 0;
	}
	return false;
}

/* Output size of a window op, from the formula in the uAPI doc. */
static uint32_t win_out(uint32_t in, uint32_t k, uint32_t s, uint32_t d,
			uint32_t p0, uint32_t p1)
{
	return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

/*
 * A conv-class op: input in slot 0; weights, bias and per-channel quant in
 * slot 1 (at aligned offsets); output in slot 2.
 */
static struct drm_tapu_op_conv mk_conv(uint16_t opc, const struct geom *g,
				       uint32_t flags)
{
	bool dw = opc == DRM_TAPU_OP_DEPTHWISE_CONV2D;
	bool fc = opc == DRM_TAPU_OP_FULLY_CONNECTED;
	uint32_t one = fc ? 0 : 1;
	uint32_t ho = win_out(g->h, g->kh, one ? g->s[0] : 1,
			      one ? g->d[0] : 1, one * g->p[0], one * g->p[2]);
	uint32_t wo = win_out(g->w, g->kw, one ? g->s[1] : 1,
			      one ? g->d[1] : 1, one * g->p[1], one * g->p[3]);
	uint32_t wsz = g->co * g->kh * g->kw * (dw ? 1 : g->ci);
	uint32_t boff = (wsz + 7) & ~7u, qoff = (boff + 4 * g->co + 7) & ~7u;
	struct drm_tapu_op_conv op = {
		.hdr = HDR(opc, sizeof(op), flags),
		.input = T8(0, 0, g->n, g->h, g->w, g->ci),
		.weights = dw ? T8(1, 0, 1, g->kh, g->kw, g->co) :
				T8(1, 0, g->co, g->kh, g->kw, g->ci),
		.output = T8(2, 0, g->n, ho, wo, g->co),
		.input_zp = 5, .weight_zp = -2, .output_zp = -7,
		.multiplier = 1 << 30, .shift = 40,
		.act_min = -128, .act_max = 127,
	};

	if (!fc) {
		memcpy(op.stride, g->s, sizeof(op.stride));
		memcpy(op.dilation, g->d, sizeof(op.dilation));
		memcpy(op.pad, g->p, sizeof(op.pad));
	}
	if (flags & DRM_TAPU_OP_F_BIAS)
		op.bias = tens(1, boff, 4, 1, 1, 1, g->co);
	if (flags & DRM_TAPU_OP_F_PER_CHANNEL) {
		op.quant = tens(1, qoff, 8, 1, 1, 1, g->co);
		op.multiplier = 0;
		op.shift = 0;
	}
	return op;
}

static struct drm_tapu_op_eltwise mk_elt(uint16_t opc,
					 struct drm_tapu_tensor a,
					 struct drm_tapu_tensor b,
					 struct drm_tapu_tensor out)
{
	bool mul = opc == DRM_TAPU_OP_MUL;
	struct drm_tapu_op_eltwise op = {
		.hdr = HDR(opc, sizeof(op), 0),
		.a = a, .b = b, .output = out,
		.a_zp = 3, .b_zp = -7, .output_zp = 2,
		.a_mul = mul ? 1 << 10 : (1 << 14) + 123,
		.b_mul = mul ? 0 : 3 << 12,
		.shift = mul ? 16 : 15,
		.act_min = -128, .act_max = 127,
	};

	return op;
}

/* A pool op: input [n, h, w, ci] in slot 0, output in @out_slot. */
static struct drm_tapu_op_pool mk_pool(uint16_t opc, const struct geom *g,
				       uint32_t out_slot)
{
	struct drm_tapu_op_pool op = {
		.hdr = HDR(opc, sizeof(op), 0),
		.input = T8(0, 0, g->n, g->h, g->w, g->ci),
		.output = T8(out_slot, 0, g->n,
			     win_out(g->h, g->kh, g->s[0], 1, g->p[0], g->p[2]),
			     win_out(g->w, g->kw, g->s[1], 1, g->p[1], g->p[3]),
			     g->ci),
		.kernel = { g->kh, g->kw },
		.act_min = -128, .act_max = 127,
	};

	memcpy(op.stride, g->s, sizeof(op.stride));
	memcpy(op.pad, g->p, sizeof(op.pad));
	return op;
}

static struct drm_tapu_op_act mk_act(uint16_t opc, struct drm_tapu_tensor in,
				     struct drm_tapu_tensor out,
				     int32_t min, int32_t max)
{
	struct drm_tapu_op_act op = {
		.hdr = HDR(opc, sizeof(op), 0),
		.input = in, .output = out, .min = min, .max = max,
	};

	return op;
}

static struct drm_tapu_op_lut mk_lut(struct drm_tapu_tensor in,
				     struct drm_tapu_tensor out,
				     struct drm_tapu_tensor table)
{
	struct drm_tapu_op_lut op = {
		.hdr = HDR(DRM_TAPU_OP_LUT, sizeof(op), 0),
		.input = in, .output = out, .table = table,
	};

	return op;
}

static struct drm_tapu_op_rs mk_rs(uint16_t opc, struct drm_tapu_tensor in,
				   struct drm_tapu_tensor out)
{
	struct drm_tapu_op_rs op = {
		.hdr = HDR(opc, sizeof(op), 0), .input = in, .output = out,
	};

	return op;
}

/* TRANSPOSE of @in by @perm into a packed tensor at @slot, offset 0. */
static struct drm_tapu_op_rs mk_transpose(struct drm_tapu_tensor in,
					  uint32_t slot, const uint8_t *perm)
{
	const uint32_t *d = in.dim;
	struct drm_tapu_op_rs op = mk_rs(DRM_TAPU_OP_TRANSPOSE, in,
		T8(slot, 0, d[perm[0]], d[perm[1]], d[perm[2]], d[perm[3]]));

	memcpy(op.perm, perm, sizeof(op.perm));
	return op;
}

/* CONCAT of @a and @b along @axis into a packed tensor at @slot, @off. */
static struct drm_tapu_op_concat mk_cat(struct drm_tapu_tensor a,
					struct drm_tapu_tensor b,
					uint32_t slot, uint32_t off,
					uint32_t axis)
{
	uint32_t d[4];
	struct drm_tapu_op_concat op = {
		.hdr = HDR(DRM_TAPU_OP_CONCAT, sizeof(op), 0),
		.a = a, .b = b, .axis = axis,
	};

	memcpy(d, a.dim, sizeof(d));
	d[axis] += b.dim[axis];
	op.output = T8(slot, off, d[0], d[1], d[2], d[3]);
	return op;
}

/* PAD of @in into a packed tensor at @slot, offset 0. */
static struct drm_tapu_op_pad mk_pad(struct drm_tapu_tensor in, uint32_t slot,
				     const uint16_t *before,
				     const uint16_t *after, int32_t value)
{
	uint32_t d[4];
	struct drm_tapu_op_pad op = {
		.hdr = HDR(DRM_TAPU_OP_PAD, sizeof(op), 0),
		.input = in, .value = value,
	};

	for (int i = 0; i < 4; i++)
		d[i] = before[i] + in.dim[i] + after[i];
	memcpy(op.before, before, sizeof(op.before));
	memcpy(op.after, after, sizeof(op.after));
	op.output = T8(slot, 0, d[0], d[1], d[2], d[3]);
	return op;
}

static uint16_t op_size(const void *op)
{
	struct drm_tapu_op_hdr h;

	memcpy(&h, op, sizeof(h));
	return h.size;
}

static void push(ISA_DATA *s, const void *op)
{
	uint16_t sz = op_size(op);

	if (s->len + sz > CS_MAX)
		abort();
	memcpy(s->cs + s->len, op, sz);
	s->len += sz;
}

/* Reads the op at @pos into @op; returns the position of the next op. */
static uint32_t read_op(const ISA_DATA *s, uint32_t pos, union op *op)
{
	memcpy(op, s->cs + pos, op_size(s->cs + pos));
	return pos + op->hdr.size;
}

/* The tensors @op uses, per the uAPI doc, and how. */
static int op_uses(const union op *op, struct use *u)
{
	const struct drm_tapu_op_conv *c = &op->conv;
	int n = 0;

#define USE(tensor, size, acc) (u[n++] = (struct use){ &(tensor), size, acc })
	switch (op->hdr.opcode) {
	case DRM_TAPU_OP_CONV2D:
	case DRM_TAPU_OP_DEPTHWISE_CONV2D:
	case DRM_TAPU_OP_FULLY_CONNECTED:
		USE(c->input, 1, DRM_TAPU_BO_READ);
		USE(c->weights, 1, DRM_TAPU_BO_READ);
		if (c->hdr.flags & DRM_TAPU_OP_F_BIAS)
			USE(c->bias, 4, DRM_TAPU_BO_READ);
		if (c->hdr.flags & DRM_TAPU_OP_F_PER_CHANNEL)
			USE(c->quant, 8, DRM_TAPU_BO_READ);
		USE(c->output, 1, DRM_TAPU_BO_WRITE);
		break;
	case DRM_TAPU_OP_ADD:
	case DRM_TAPU_OP_SUB:
	case DRM_TAPU_OP_MUL:
		USE(op->elt.a, 1, DRM_TAPU_BO_READ);
		USE(op->elt.b, 1, DRM_TAPU_BO_READ);
		USE(op->elt.output, 1, DRM_TAPU_BO_WRITE);
		break;
	case DRM_TAPU_OP_CONCAT:
		USE(op->cat.a, 1, DRM_TAPU_BO_READ);
		USE(op->cat.b, 1, DRM_TAPU_BO_READ);
		USE(op->cat.output, 1, DRM_TAPU_BO_WRITE);
		break;
	case DRM_TAPU_OP_LUT:
		USE(op->lut.table, 1, DRM_TAPU_BO_READ);
		__attribute__((__fallthrough__));
	/* every unary op struct starts with hdr, input, output */
	case DRM_TAPU_OP_MAXPOOL ... DRM_TAPU_OP_CLAMP:
	case DRM_TAPU_OP_COPY ... DRM_TAPU_OP_TRANSPOSE:
	case DRM_TAPU_OP_PAD:
		USE(op->act.input, 1, DRM_TAPU_BO_READ);
		USE(op->act.output, 1, DRM_TAPU_BO_WRITE);
		break;
	}
#undef USE
	return n;
}

/* ---- the CPU reference executor, straight from the uAPI kernel-doc ---- */

static int rd8(ISA_DATA *s, const struct drm_tapu_tensor *t, const uint32_t *i)
{
	return (int8_t)*at(s->ref[t->slot], t, i);
}

static void wr8(ISA_DATA *s, const struct drm_tapu_tensor *t, const uint32_t *i,
		int v)
{
	*at(s->ref[t->slot], t, i) = (uint8_t)v;
}

/* 32-bit word @off bytes into element [0][0][0][c] of @t. */
static uint32_t rd32(uint8_t *base, const struct drm_tapu_tensor *t,
		     uint32_t c, uint32_t off)
{
	const uint32_t i[4] = { 0, 0, 0, c };
	uint32_t v;

	memcpy(&v, at(base, t, i) + off, sizeof(v));
	return v;
}

static int64_t rshift(int64_t v, uint32_t sh)
{
	return sh ? (v + (1LL << (sh - 1))) >> sh : v;
}

static int clampi(int64_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static bool inside(const struct drm_tapu_tensor *t, int64_t y, int64_t x)
{
	return y >= 0 && y < t->dim[1] && x >= 0 && x < t->dim[2];
}

static void ref_conv(ISA_DATA *s, const struct drm_tapu_op_conv *op)
{
	const struct drm_tapu_tensor *in = &op->input, *o = &op->output;
	bool dw = op->hdr.opcode == DRM_TAPU_OP_DEPTHWISE_CONV2D;
	bool fc = op->hdr.opcode == DRM_TAPU_OP_FULLY_CONNECTED;
	int64_t sh = fc ? 1 : op->stride[0], sw = fc ? 1 : op->stride[1];
	int64_t dh = fc ? 1 : op->dilation[0], dwl = fc ? 1 : op->dilation[1];
	uint32_t nci = dw ? 1 : in->dim[3], m = o->dim[3] / in->dim[3];
	uint32_t i[4] = { 0 };

	do {
		uint32_t co = i[3], acc = 0, shift = op->shift;
		int32_t mult = op->multiplier;

		if (op->hdr.flags & DRM_TAPU_OP_F_BIAS)
			acc = rd32(s->ref[op->bias.slot], &op->bias, co, 0);
		for (uint32_t ky = 0; ky < op->weights.dim[1]; ky++)
			for (uint32_t kx = 0; kx < op->weights.dim[2]; kx++)
				for (uint32_t c = 0; c < nci; c++) {
					int64_t y = i[1] * sh + ky * dh - op->pad[0];
					int64_t x = i[2] * sw + kx * dwl - op->pad[1];
					uint32_t ii[4] = { i[0], y, x, dw ? co / m : c };
					uint32_t wi[4] = { dw ? 0 : co, ky, kx, dw ? co : c };
					int32_t xv = inside(in, y, x) ? rd8(s, in, ii) :
									op->input_zp;

					/* 32-bit accumulator that wraps */
					acc += (uint32_t)((xv - op->input_zp) *
						(rd8(s, &op->weights, wi) - op->weight_zp));
				}
		if (op->hdr.flags & DRM_TAPU_OP_F_PER_CHANNEL) {
			mult = rd32(s->ref[op->quant.slot], &op->quant, co, 0);
			shift = rd32(s->ref[op->quant.slot], &op->quant, co, 4);
		}
		wr8(s, o, i, clampi(op->output_zp +
				    rshift((int64_t)(int32_t)acc * mult, shift),
				    op->act_min, op->act_max));
	} while (next_idx(o->dim, i));
}

/* Broadcast: a dimension of size 1 always reads index 0. */
static void bcast(const struct drm_tapu_tensor *t, const uint32_t *i,
		  uint32_t *j)
{
	for (int d = 0; d < 4; d++)
		j[d] = t->dim[d] == 1 ? 0 : i[d];
}

static void ref_eltwise(ISA_DATA *s, const struct drm_tapu_op_eltwise *op)
{
	uint32_t i[4] = { 0 }, ia[4], ib[4];

	do {
		int64_t a, b, v;

		bcast(&op->a, i, ia);
		bcast(&op->b, i, ib);
		a = rd8(s, &op->a, ia) - op->a_zp;
		b = rd8(s, &op->b, ib) - op->b_zp;
		if (op->hdr.opcode == DRM_TAPU_OP_ADD)
			v = a * op->a_mul + b * op->b_mul;
		else if (op->hdr.opcode == DRM_TAPU_OP_SUB)
			v = a * op->a_mul - b * op->b_mul;
		else
			v = a * b * op->a_mul;
		wr8(s, &op->output, i, clampi(op->output_zp +
					      rshift(v, op->shift),
					      op->act_min, op->act_max));
	} while (next_idx(op->output.dim, i));
}

static void ref_pool(ISA_DATA *s, const struct drm_tapu_op_pool *op)
{
	uint32_t i[4] = { 0 };

	do {
		int64_t sum = 0, cnt = 0, best = INT64_MIN, r;

		for (uint32_t ky = 0; ky < op->kernel[0]; ky++)
			for (uint32_t kx = 0; kx < op->kernel[1]; kx++) {
				int64_t y = (int64_t)i[1] * op->stride[0] + ky - op->pad[0];
				int64_t x = (int64_t)i[2] * op->stride[1] + kx - op->pad[1];
				uint32_t j[4] = { i[0], y, x, i[3] };
				int v;

				if (!inside(&op->input, y, x))
					continue;
				v = rd8(s, &op->input, j);
				best = v > best ? v : best;
				sum += v;
				cnt++;
			}
		/* average rounded half away from zero, to even or to odd */
		if (op->hdr.opcode == DRM_TAPU_OP_AVGPOOL) {
			int64_t m = sum < 0 ? -sum : sum, q = m / cnt;
			bool up = op->hdr.flags & DRM_TAPU_OP_F_ROUND_EVEN ? q & 1 :
				  op->hdr.flags & DRM_TAPU_OP_F_ROUND_ODD ? !(q & 1) : true;

			if (2 * (m % cnt) > cnt || (2 * (m % cnt) == cnt && up))
				q++;
			r = sum < 0 ? -q : q;
		} else {
			r = best;
		}
		wr8(s, &op->output, i, clampi(r, op->act_min, op->act_max));
	} while (next_idx(op->output.dim, i));
}

/* RELU, RELU6, CLAMP and LUT. */
static void ref_unary(ISA_DATA *s, const union op *op)
{
	const struct drm_tapu_op_act *a = &op->act;
	uint32_t i[4] = { 0 };

	do {
		int v = rd8(s, &a->input, i);

		if (a->hdr.opcode == DRM_TAPU_OP_LUT) {
			uint32_t t[4] = { 0, 0, 0, (uint8_t)(v + 128) };

			v = rd8(s, &op->lut.table, t);
		} else if (a->hdr.opcode == DRM_TAPU_OP_RELU) {
			v = v > a->min ? v : a->min;
		} else {
			v = clampi(v, a->min, a->max);
		}
		wr8(s, &a->output, i, v);
	} while (next_idx(a->output.dim, i));
}

/* COPY, RESHAPE, TRANSPOSE. */
static void ref_rs(ISA_DATA *s, const struct drm_tapu_op_rs *op)
{
	uint32_t i[4] = { 0 }, j[4] = { 0 };

	do {
		if (op->hdr.opcode == DRM_TAPU_OP_TRANSPOSE) {
			for (int k = 0; k < 4; k++)
				j[op->perm[k]] = i[k];
		} else if (op->hdr.opcode == DRM_TAPU_OP_COPY) {
			memcpy(j, i, sizeof(j));
		}
		wr8(s, &op->output, i, rd8(s, &op->input, j));
		if (op->hdr.opcode == DRM_TAPU_OP_RESHAPE)
			next_idx(op->input.dim, j);
	} while (next_idx(op->output.dim, i));
}

static void ref_concat(ISA_DATA *s, const struct drm_tapu_op_concat *op)
{
	uint32_t i[4] = { 0 }, j[4], ax = op->axis;

	do {
		const struct drm_tapu_tensor *src = &op->a;

		memcpy(j, i, sizeof(j));
		if (i[ax] >= op->a.dim[ax]) {
			j[ax] -= op->a.dim[ax];
			src = &op->b;
		}
		wr8(s, &op->output, i, rd8(s, src, j));
	} while (next_idx(op->output.dim, i));
}

static void ref_pad(ISA_DATA *s, const struct drm_tapu_op_pad *op)
{
	uint32_t i[4] = { 0 }, j[4];

	do {
		bool in = true;

		for (int d = 0; d < 4; d++) {
			j[d] = i[d] - op->before[d];
			in &= i[d] >= op->before[d] && j[d] < op->input.dim[d];
		}
		wr8(s, &op->output, i, in ? rd8(s, &op->input, j) : op->value);
	} while (next_idx(op->output.dim, i));
}

static void ref_stream(ISA_DATA *s)
{
	union op op;

	for (uint32_t pos = 0; pos < s->len;) {
		pos = read_op(s, pos, &op);
		switch (op.hdr.opcode) {
		case DRM_TAPU_OP_CONV2D ... DRM_TAPU_OP_FULLY_CONNECTED:
			ref_conv(s, &op.conv);
			break;
		case DRM_TAPU_OP_ADD ... DRM_TAPU_OP_MUL:
			ref_eltwise(s, &op.elt);
			break;
		case DRM_TAPU_OP_MAXPOOL ... DRM_TAPU_OP_AVGPOOL:
			ref_pool(s, &op.pool);
			break;
		case DRM_TAPU_OP_RELU ... DRM_TAPU_OP_LUT:
			ref_unary(s, &op);
			break;
		case DRM_TAPU_OP_COPY ... DRM_TAPU_OP_TRANSPOSE:
			ref_rs(s, &op.rs);
			break;
		case DRM_TAPU_OP_CONCAT:
			ref_concat(s, &op.cat);
			break;
		case DRM_TAPU_OP_PAD:
			ref_pad(s, &op.pad);
			break;
		}
	}
}

/* ---- running streams on the device ---- */

/* A data BO of at least @size bytes, mapped and tracked by the fixture. */
static uint32_t new_bo(struct __test_metadata *_metadata, ISA_DATA *s,
		       uint64_t size)
{
	struct drm_tapu_bo_create c = { .size = size };
	uint32_t i = s->nbo;

	ASSERT_GT(MAX_BOS, i);
	ASSERT_EQ(0, tapu_ioctl(s->fd, DRM_IOCTL_TAPU_BO_CREATE, &c));
	s->map[i] = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 s->fd, c.offset);
	ASSERT_NE(MAP_FAILED, s->map[i]);
	s->ref[i] = malloc(c.size);
	ASSERT_NE(NULL, s->ref[i]);
	s->bo[i] = c.handle;
	s->size[i] = c.size;
	s->nbo++;
	return c.handle;
}

/* Random BO contents; valid random biases and per-channel quant pairs. */
static void randomize(ISA_DATA *s)
{
	union op op;

	for (uint32_t b = 0; b < s->nbo; b++)
		for (uint64_t k = 0; k < s->size[b]; k++)
			s->map[b][k] = rnd(s);
	for (uint32_t pos = 0; pos < s->len;) {
		const struct drm_tapu_op_conv *c = &op.conv;
		uint32_t v[2];

		pos = read_op(s, pos, &op);
		if (op.hdr.opcode < DRM_TAPU_OP_CONV2D ||
		    op.hdr.opcode > DRM_TAPU_OP_FULLY_CONNECTED)
			continue;
		for (uint32_t co = 0; co < c->output.dim[3]; co++) {
			const uint32_t i[4] = { 0, 0, 0, co };

			v[0] = rnd_range(s, s->bias_lo, s->bias_hi);
			if (c->hdr.flags & DRM_TAPU_OP_F_BIAS)
				memcpy(at(s->map[c->bias.slot], &c->bias, i),
				       v, 4);
			v[0] = rnd_range(s, 1 << 29, INT32_MAX);
			v[1] = s->qshift + (rnd(s) & 1);
			if (c->hdr.flags & DRM_TAPU_OP_F_PER_CHANNEL)
				memcpy(at(s->map[c->quant.slot], &c->quant, i),
				       v, 8);
		}
	}
}

/* Allocates a BO per slot the stream uses, sized to its largest extent. */
static void prepare(struct __test_metadata *_metadata, ISA_DATA *s)
{
	uint64_t need[MAX_BOS] = { 0 };
	struct use u[5];
	union op op;

	for (uint32_t pos = 0; pos < s->len;) {
		pos = read_op(s, pos, &op);
		for (int k = op_uses(&op, u) - 1; k >= 0; k--) {
			uint32_t slot = u[k].t->slot;
			uint64_t e = extent(u[k].t, u[k].es);

			ASSERT_GT(MAX_BOS, slot);
			need[slot] = e > need[slot] ? e : need[slot];
			s->access[slot] |= u[k].access;
			s->nslots = slot + 1 > s->nslots ? slot + 1 : s->nslots;
		}
	}
	for (uint32_t slot = 0; slot < s->nslots; slot++)
		new_bo(_metadata, s, need[slot] ? need[slot] : 1);
	randomize(s);
	s->prepared = true;
}

/* Creates the fixture's stream and checks num_slots. */
static uint32_t stream_create(struct __test_metadata *_metadata, ISA_DATA *s)
{
	struct drm_tapu_cmdstream_create c = {
		.data = PTR(s->cs), .size = s->len,
	};

	ASSERT_EQ(0, tapu_ioctl(s->fd, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &c));
	ASSERT_EQ(s->nslots, c.num_slots);
	return c.handle;
}

/* Submits and waits; the job must complete without error. */
static void submit_wait(struct __test_metadata *_metadata, ISA_DATA *s,
			uint32_t stream, const struct drm_tapu_submit_bo *bos,
			uint32_t n)
{
	struct drm_tapu_wait_job w;
	uint64_t id;

	ASSERT_EQ(0, tapu_submit(s->fd, stream, bos, n, &id));
	ASSERT_EQ(0, tapu_wait(s->fd, id, WAIT_MS, &w));
	ASSERT_EQ((uint32_t)DRM_TAPU_JOB_DONE, w.status)
		TH_LOG("job failed with error %d", w.error);
	ASSERT_EQ(0, w.error);
	ASSERT_LT(0ULL, (unsigned long long)w.cycles);
}

/*
 * Recording of a job, little endian, every part padded to 8 bytes:
 * "TAPUJOB1", u32 stream size, u32 slots, the stream; per slot u64 size,
 * u32 access flags, u32 0 and its bytes before the job; then each slot's
 * bytes after the job.
 */
#define REC_MAGIC	"TAPUJOB1"

static void rec_put(FILE *f, const void *p, uint64_t n)
{
	static const uint8_t zero[8];

	fwrite(p, 1, n, f);
	fwrite(zero, 1, -n & 7, f);
}

static char rec_path[512];

/* Opens the recording of the next job and writes all but the outputs. */
static FILE *record_job(struct __test_metadata *_metadata, ISA_DATA *s)
{
	const char *dir = getenv("TAPU_ISA_RECORD");
	static unsigned int seq;
	uint32_t hdr[2] = { s->len, s->nslots };
	FILE *f;

	if (!dir)
		return NULL;
	snprintf(rec_path, sizeof(rec_path), "%s/%s-%u.job", dir,
		 _metadata->name, seq++);
	f = fopen(rec_path, "wb");
	EXPECT_NE(NULL, f) TH_LOG("%s: %s", rec_path, strerror(errno));
	if (!f)
		return NULL;
	rec_put(f, REC_MAGIC, 8);
	rec_put(f, hdr, sizeof(hdr));
	rec_put(f, s->cs, s->len);
	for (uint32_t b = 0; b < s->nslots; b++) {
		uint32_t flags[2] = { s->access[b], 0 };

		rec_put(f, &s->size[b], 8);
		rec_put(f, flags, sizeof(flags));
		rec_put(f, s->map[b], s->size[b]);
	}
	return f;
}

/* Appends what the device left in every slot. */
static void record_done(struct __test_metadata *_metadata, ISA_DATA *s, FILE *f)
{
	for (uint32_t b = 0; b < s->nslots; b++)
		rec_put(f, s->map[b], s->size[b]);
	ASSERT_EQ(0, ferror(f));
	ASSERT_EQ(0, fclose(f));
}

/* Runs @stream on the current BO contents and checks every byte of them. */
static void run_check(struct __test_metadata *_metadata, ISA_DATA *s,
		      uint32_t stream)
{
	struct drm_tapu_submit_bo bos[MAX_BOS];
	FILE *rec = record_job(_metadata, s);
	uint64_t bad = 0;

	for (uint32_t b = 0; b < s->nslots; b++) {
		memcpy(s->ref[b], s->map[b], s->size[b]);
		bos[b] = (struct drm_tapu_submit_bo){ s->bo[b], s->access[b] };
	}
	ref_stream(s);
	submit_wait(_metadata, s, stream, bos, s->nslots);
	for (uint32_t b = 0; b < s->nslots; b++)
		for (uint64_t k = 0; k < s->size[b]; k++) {
			if (s->map[b][k] == s->ref[b][k])
				continue;
			if (bad++ < 8)
				TH_LOG("slot %u byte %llu: got %d, expected %d",
				       b, (unsigned long long)k,
				       (int8_t)s->map[b][k],
				       (int8_t)s->ref[b][k]);
		}
	/* A recording shows what the device does right: only if it did. */
	if (rec && !bad) {
		record_done(_metadata, s, rec);
	} else if (rec) {
		fclose(rec);
		unlink(rec_path);
	}
	ASSERT_EQ(0ULL, (unsigned long long)bad);
}

/* Prepares BOs (unless done), creates the stream, runs it and checks it. */
static void run(struct __test_metadata *_metadata, ISA_DATA *s)
{
	uint32_t h;

	if (!s->prepared)
		prepare(_metadata, s);
	h = stream_create(_metadata, s);
	run_check(_metadata, s, h);
	ASSERT_EQ(0, tapu_gem_close(s->fd, h));
}

/* CMDSTREAM_CREATE; 0 if accepted (the handle is closed again), or -errno. */
static int try_create(ISA_DATA *s, uint64_t data, uint32_t size, uint32_t flags)
{
	struct drm_tapu_cmdstream_create c = {
		.data = data, .size = size, .flags = flags,
	};
	int ret = tapu_ioctl(s->fd, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &c);

	if (!ret)
		tapu_gem_close(s->fd, c.handle);
	return ret;
}

static int try_op(ISA_DATA *s, const void *op)
{
	return try_create(s, PTR(op), op_size(op), 0);
}

#define NOP_SIZE	((uint32_t)sizeof(struct drm_tapu_op_hdr))

/* Fills @len bytes with NOPs. */
static void fill_nops(void *buf, uint32_t len)
{
	const struct drm_tapu_op_hdr nop = HDR(DRM_TAPU_OP_NOP, NOP_SIZE, 0);

	for (uint32_t k = 0; k + NOP_SIZE <= len; k += NOP_SIZE)
		memcpy((uint8_t *)buf + k, &nop, NOP_SIZE);
}

/* A stream of the single op @op; returns its handle. */
static uint32_t op_stream(struct __test_metadata *_metadata, ISA_DATA *s,
			  const void *op)
{
	int h = tapu_stream_new(s->fd, op, op_size(op));

	ASSERT_LT(0, h);
	return h;
}

/* A COPY job between two fresh BOs whose result is checked. */
static void run_valid_job(struct __test_metadata *_metadata, ISA_DATA *s)
{
	struct drm_tapu_op_rs op = mk_rs(DRM_TAPU_OP_COPY,
					 T8(0, 0, 1, 8, 16, 32),
					 T8(1, 0, 1, 8, 16, 32));
	uint32_t first = s->nbo, h = op_stream(_metadata, s, &op);
	struct drm_tapu_submit_bo bos[2] = {
		{ .flags = DRM_TAPU_BO_READ }, { .flags = DRM_TAPU_BO_WRITE },
	};

	bos[0].handle = new_bo(_metadata, s, 4096);
	bos[1].handle = new_bo(_metadata, s, 4096);
	for (int k = 0; k < 4096; k++)
		s->map[first][k] = rnd(s);
	memset(s->map[first + 1], 0x5a, 4096);
	submit_wait(_metadata, s, h, bos, 2);
	ASSERT_EQ(0, memcmp(s->map[first], s->map[first + 1], 4096));
	ASSERT_EQ(0, tapu_gem_close(s->fd, h));
}

/* Copies @tmpl to `op`, runs the statements, expects CMDSTREAM_CREATE @err. */
#define BAD(err, tmpl, ...) do {					\
	__typeof__(tmpl) op = (tmpl);					\
	__VA_ARGS__;							\
	EXPECT_EQ(err, try_op(self, &op)) TH_LOG("%s", #__VA_ARGS__);	\
} while (0)

/* The unmodified template must be valid, else the test proves nothing. */
static void valid(struct __test_metadata *_metadata, ISA_DATA *self,
		  const void *op)
{
	ASSERT_EQ(0, try_op(self, op)) TH_LOG("template");
}

#define VALID(tmpl) valid(_metadata, self, &(tmpl))

/* Small valid templates for the negative tests. */
static const struct geom conv_g = {
	.n = 1, .h = 9, .w = 8, .ci = 4, .co = 6, .kh = 3, .kw = 3,
	.s = { 2, 1 }, .d = { 1, 2 }, .p = { 1, 0, 1, 2 },
};

static const struct geom dw_g = {
	.n = 1, .h = 8, .w = 8, .ci = 4, .co = 8, .kh = 3, .kw = 3,
	.s = { 1, 1 }, .d = { 1, 1 }, .p = { 1, 1, 1, 1 },
};

static const struct geom fc_g = {
	.n = 2, .h = 1, .w = 3, .ci = 16, .co = 8, .kh = 1, .kw = 1,
};

static const struct geom pool_g = {
	.n = 1, .h = 9, .w = 9, .ci = 4, .kh = 3, .kw = 3,
	.s = { 2, 2 }, .p = { 1, 1, 1, 1 },
};

#define CONV_TMPL(flags) mk_conv(DRM_TAPU_OP_CONV2D, &conv_g, flags)
#define COPY_TMPL mk_rs(DRM_TAPU_OP_COPY, T8(0, 0, 1, 4, 5, 6), \
			T8(1, 0, 1, 4, 5, 6))
#define ADD_TMPL mk_elt(DRM_TAPU_OP_ADD, T8(0, 0, 2, 4, 6, 8), \
			T8(1, 0, 1, 4, 1, 8), T8(2, 0, 2, 4, 6, 8))

/* ================= A. every op against the CPU reference ================= */

TEST_F(isa, nop)
{
	struct drm_tapu_op_hdr nop = HDR(DRM_TAPU_OP_NOP, sizeof(nop), 0);

	for (int k = 0; k < 3; k++)
		push(self, &nop);
	run(_metadata, self);
	EXPECT_EQ(0U, self->nslots);
}

TEST_F(isa, conv2d_stride_pad_bias)
{
	const struct geom g = {
		.n = 2, .h = 15, .w = 13, .ci = 8, .co = 16, .kh = 3, .kw = 3,
		.s = { 2, 2 }, .d = { 1, 1 }, .p = { 2, 1, 0, 1 },
	};
	struct drm_tapu_op_conv op = mk_conv(DRM_TAPU_OP_CONV2D, &g,
					     DRM_TAPU_OP_F_BIAS);

	op.act_min = -100;
	op.act_max = 90;
	push(self, &op);
	run(_metadata, self);
}

TEST_F(isa, conv2d_dilation_per_channel)
{
	const struct geom g = {
		.n = 1, .h = 20, .w = 18, .ci = 5, .co = 12, .kh = 3, .kw = 2,
		.s = { 1, 2 }, .d = { 2, 3 }, .p = { 0, 2, 1, 0 },
	};
	struct drm_tapu_op_conv op = mk_conv(DRM_TAPU_OP_CONV2D, &g,
					     DRM_TAPU_OP_F_BIAS |
					     DRM_TAPU_OP_F_PER_CHANNEL);

	op.input_zp = -11;
	op.weight_zp = 9;
	op.output_zp = 4;
	self->qshift = 39;
	push(self, &op);
	run(_metadata, self);
}

/* Biases near INT32_MAX make the 32-bit accumulator wrap for many outputs. */
TEST_F(isa, conv2d_accumulator_wraps)
{
	const struct geom g = {
		.n = 1, .h = 12, .w = 12, .ci = 8, .co = 16, .kh = 3, .kw = 3,
		.s = { 1, 1 }, .d = { 1, 1 }, .p = { 1, 1, 1, 1 },
	};
	struct drm_tapu_op_conv op = mk_conv(DRM_TAPU_OP_CONV2D, &g,
					     DRM_TAPU_OP_F_BIAS);

	op.input_zp = -128;
	op.weight_zp = -128;
	op.output_zp = 0;
	op.multiplier = 1;
	op.shift = 25;
	self->bias_lo = INT32_MAX - 2400000;
	self->bias_hi = INT32_MAX;
	push(self, &op);
	run(_metadata, self);
}

TEST_F(isa, depthwise_stride_pad)
{
	const struct geom g = {
		.n = 1, .h = 24, .w = 20, .ci = 8, .co = 8, .kh = 3, .kw = 3,
		.s = { 2, 1 }, .d = { 1, 1 }, .p = { 1, 1, 1, 1 },
	};
	struct drm_tapu_op_conv op = mk_conv(DRM_TAPU_OP_DEPTHWISE_CONV2D, &g,
					     DRM_TAPU_OP_F_BIAS);

	op.shift = 38;
	push(self, &op);
	run(_metadata, self);
}

TEST_F(isa, depthwise_multiplier2_per_channel)
{
	const struct geom g = {
		.n = 1, .h = 16, .w = 14, .ci = 6, .co = 12, .kh = 3, .kw = 3,
		.s = { 1, 1 }, .d = { 2, 1 }, .p = { 2, 1, 2, 1 },
	};
	struct drm_tapu_op_conv op = mk_conv(DRM_TAPU_OP_DEPTHWISE_CONV2D, &g,
					     DRM_TAPU_OP_F_BIAS |
					     DRM_TAPU_OP_F_PER_CHANNEL);

	self->qshift = 37;
	push(self, &op);
	run(_metadata, self);
}

TEST_F(isa, fully_connected)
{
	const struct geom g = {
		.n = 2, .h = 3, .w = 4, .ci = 24, .co = 32, .kh = 1, .kw = 1,
	};
	struct drm_tapu_op_conv op = mk_conv(DRM_TAPU_OP_FULLY_CONNECTED, &g,
					     DRM_TAPU_OP_F_BIAS);

	op.shift = 39;
	push(self, &op);
	run(_metadata, self);
}

/* ADD broadcasting b over N and W, SUB broadcasting a over H and C. */
TEST_F(isa, add_sub_broadcast)
{
	struct drm_tapu_op_eltwise add = mk_elt(DRM_TAPU_OP_ADD,
		T8(0, 0, 2, 8, 10, 16), T8(1, 0, 1, 8, 1, 16),
		T8(2, 0, 2, 8, 10, 16));
	struct drm_tapu_op_eltwise sub = mk_elt(DRM_TAPU_OP_SUB,
		T8(1, 512, 2, 1, 10, 1), T8(0, 0, 2, 8, 10, 16),
		T8(3, 0, 2, 8, 10, 16));

	sub.act_min = -60;
	sub.act_max = 70;
	push(self, &add);
	push(self, &sub);
	run(_metadata, self);
}

/* b is a 16-byte per-channel vector repeated by stride-0 dimensions. */
TEST_F(isa, mul_stride0_view)
{
	struct drm_tapu_op_eltwise op = mk_elt(DRM_TAPU_OP_MUL,
		T8(0, 0, 2, 8, 10, 16), T8(1, 32, 2, 8, 10, 16),
		T8(2, 0, 2, 8, 10, 16));

	memset(op.b.stride, 0, 3 * sizeof(op.b.stride[0]));
	push(self, &op);
	run(_metadata, self);
}

TEST_F(isa, maxpool)
{
	const struct geom g = {
		.n = 2, .h = 17, .w = 15, .ci = 8, .kh = 3, .kw = 2,
		.s = { 2, 2 }, .p = { 1, 1, 2, 0 },
	};
	struct drm_tapu_op_pool op = mk_pool(DRM_TAPU_OP_MAXPOOL, &g, 1);

	op.act_min = -120;
	op.act_max = 120;
	push(self, &op);
	run(_metadata, self);
}

/* Edge windows hold fewer elements: averages over the valid ones only. */
TEST_F(isa, avgpool_pad)
{
	const struct geom g1 = {
		.n = 1, .h = 16, .w = 16, .ci = 12, .kh = 3, .kw = 3,
		.s = { 1, 1 }, .p = { 1, 1, 1, 1 },
	};
	const struct geom g2 = {
		.n = 1, .h = 16, .w = 16, .ci = 12, .kh = 2, .kw = 4,
		.s = { 1, 2 }, .p = { 1, 3, 0, 2 },
	};
	struct drm_tapu_op_pool p1 = mk_pool(DRM_TAPU_OP_AVGPOOL, &g1, 1);
	struct drm_tapu_op_pool p2 = mk_pool(DRM_TAPU_OP_AVGPOOL, &g2, 2);

	p2.act_min = -50;
	p2.act_max = 60;
	push(self, &p1);
	push(self, &p2);
	run(_metadata, self);
}

/*
 * Windows of 2, 3, 4 and 6 elements, whose averages often end in .5: half
 * away from zero, half to even with DRM_TAPU_OP_F_ROUND_EVEN and half to
 * odd with DRM_TAPU_OP_F_ROUND_ODD, flags only AVGPOOL takes, one at most.
 */
TEST_F(isa, avgpool_rounding)
{
	const struct geom g = {
		.n = 2, .h = 12, .w = 12, .ci = 8, .kh = 2, .kw = 3,
		.s = { 1, 1 }, .p = { 1, 1, 0, 1 },
	};
	struct drm_tapu_op_pool away = mk_pool(DRM_TAPU_OP_AVGPOOL, &g, 1);
	struct drm_tapu_op_pool even = mk_pool(DRM_TAPU_OP_AVGPOOL, &g, 2);
	struct drm_tapu_op_pool odd = mk_pool(DRM_TAPU_OP_AVGPOOL, &g, 3);
	struct drm_tapu_op_pool mp = mk_pool(DRM_TAPU_OP_MAXPOOL, &g, 4);

	even.hdr.flags = DRM_TAPU_OP_F_ROUND_EVEN;
	odd.hdr.flags = DRM_TAPU_OP_F_ROUND_ODD;
	BAD(-EINVAL, mp, op.hdr.flags = DRM_TAPU_OP_F_ROUND_EVEN);
	BAD(-EINVAL, mp, op.hdr.flags = DRM_TAPU_OP_F_ROUND_ODD);
	BAD(-EINVAL, even, op.hdr.flags |= DRM_TAPU_OP_F_ROUND_ODD);
	BAD(-EINVAL, even, op.hdr.flags |= DRM_TAPU_OP_F_BIAS);
	push(self, &away);
	push(self, &even);
	push(self, &odd);
	run(_metadata, self);
}

TEST_F(isa, relu_relu6_clamp)
{
	struct drm_tapu_tensor in = T8(0, 0, 3, 10, 11, 9);
	struct drm_tapu_op_act relu = mk_act(DRM_TAPU_OP_RELU, in,
					     T8(1, 0, 3, 10, 11, 9), -10, 0);
	struct drm_tapu_op_act relu6 = mk_act(DRM_TAPU_OP_RELU6, in,
					      T8(2, 0, 3, 10, 11, 9), -10, 50);
	struct drm_tapu_op_act clamp = mk_act(DRM_TAPU_OP_CLAMP, in,
					      T8(3, 0, 3, 10, 11, 9), -77, 33);

	push(self, &relu);
	push(self, &relu6);
	push(self, &clamp);
	run(_metadata, self);
}

TEST_F(isa, lut)
{
	struct drm_tapu_op_lut op = mk_lut(T8(0, 0, 2, 12, 12, 10),
					   T8(1, 0, 2, 12, 12, 10),
					   T8(2, 64, 1, 1, 1, 256));

	push(self, &op);
	run(_metadata, self);
}

/* COPY from an H/W-transposed view, and into a strided, interleaved view. */
TEST_F(isa, copy_strided_views)
{
	struct drm_tapu_tensor src = T8(0, 0, 1, 16, 24, 8);
	struct drm_tapu_tensor tv = T8(0, 0, 1, 24, 16, 8);
	struct drm_tapu_tensor sv = T8(2, 16, 1, 16, 24, 8);
	struct drm_tapu_op_rs c1, c2;

	tv.stride[1] = src.stride[2];
	tv.stride[2] = src.stride[1];
	sv.stride[3] = 2;
	sv.stride[2] = 8 * 2;
	sv.stride[1] = 24 * 16 + 64;
	sv.stride[0] = 16 * sv.stride[1];
	c1 = mk_rs(DRM_TAPU_OP_COPY, tv, T8(1, 0, 1, 24, 16, 8));
	c2 = mk_rs(DRM_TAPU_OP_COPY, src, sv);
	push(self, &c1);
	push(self, &c2);
	run(_metadata, self);
}

/*
 * Views that overlap their op's output: every element is computed and
 * written in row-major order, each seeing the ones written before it.
 */
TEST_F(isa, overlapping_views)
{
	const struct geom g = {
		.n = 1, .h = 2, .w = 3, .ci = 40, .co = 40, .kh = 1, .kw = 1,
	};
	struct drm_tapu_op_conv fc = mk_conv(DRM_TAPU_OP_FULLY_CONNECTED, &g, 0);
	struct drm_tapu_op_rs shift = mk_rs(DRM_TAPU_OP_COPY, T8(2, 0, 1, 1, 1, 64),
					    T8(2, 1, 1, 1, 1, 64));

	fc.output = fc.input;		/* in place: later channels read earlier ones */
	fc.shift = 36;
	push(self, &fc);
	push(self, &shift);		/* each byte the one written just before it */
	run(_metadata, self);
}

/* RESHAPE reads a view with gaps between rows in its logical order. */
TEST_F(isa, reshape)
{
	struct drm_tapu_tensor in = T8(0, 0, 3, 10, 12, 8);
	struct drm_tapu_op_rs op;

	in.stride[1] = 12 * 8 + 16;
	in.stride[0] = 10 * in.stride[1];
	op = mk_rs(DRM_TAPU_OP_RESHAPE, in, T8(1, 0, 1, 36, 10, 8));
	push(self, &op);
	run(_metadata, self);
}

TEST_F(isa, transpose)
{
	static const uint8_t perms[3][4] = {
		{ 0, 3, 1, 2 }, { 3, 2, 1, 0 }, { 2, 0, 3, 1 },
	};
	struct drm_tapu_op_rs op;

	for (int k = 0; k < 3; k++) {
		op = mk_transpose(T8(0, 0, 2, 9, 10, 12), k + 1, perms[k]);
		push(self, &op);
	}
	run(_metadata, self);
}

TEST_F(isa, concat_every_axis)
{
	struct drm_tapu_tensor a = T8(0, 0, 2, 6, 7, 5), b;
	struct drm_tapu_op_concat op;

	for (uint32_t ax = 0; ax < 4; ax++) {
		b = a;
		b.dim[ax] = 3;
		b = T8(1, ax * 1024, b.dim[0], b.dim[1], b.dim[2], b.dim[3]);
		op = mk_cat(a, b, 2, ax * 2048, ax);
		push(self, &op);
	}
	run(_metadata, self);
}

TEST_F(isa, pad)
{
	struct drm_tapu_op_pad op = mk_pad(T8(0, 0, 1, 10, 12, 6), 1,
					   (const uint16_t[]){ 0, 2, 1, 3 },
					   (const uint16_t[]){ 1, 0, 3, 2 },
					   -37);

	push(self, &op);
	run(_metadata, self);
}

/* conv -> relu -> maxpool -> fc, chained through intermediate BO slot 2. */
TEST_F(isa, chain_conv_relu_pool_fc)
{
	const struct geom gc = {
		.n = 1, .h = 16, .w = 16, .ci = 8, .co = 16, .kh = 3, .kw = 3,
		.s = { 1, 1 }, .d = { 1, 1 }, .p = { 1, 1, 1, 1 },
	};
	const struct geom gp = {
		.n = 1, .h = 16, .w = 16, .ci = 16, .kh = 2, .kw = 2,
		.s = { 2, 2 },
	};
	const struct geom gf = {
		.n = 1, .h = 1, .w = 1, .ci = 1024, .co = 32, .kh = 1, .kw = 1,
	};
	struct drm_tapu_op_conv conv = mk_conv(DRM_TAPU_OP_CONV2D, &gc,
					       DRM_TAPU_OP_F_BIAS);
	struct drm_tapu_op_conv fc = mk_conv(DRM_TAPU_OP_FULLY_CONNECTED, &gf,
					     DRM_TAPU_OP_F_BIAS);
	struct drm_tapu_op_act relu = mk_act(DRM_TAPU_OP_RELU, conv.output,
					     T8(2, 4096, 1, 16, 16, 16),
					     conv.output_zp, 0);
	struct drm_tapu_op_pool pool = mk_pool(DRM_TAPU_OP_MAXPOOL, &gp, 2);

	pool.input = relu.output;
	pool.output.offset = 8192;
	/* the fc reads the pooled [1, 8, 8, 16] flattened to [1, 1, 1, 1024] */
	fc.input = T8(2, 8192, 1, 1, 1, 1024);
	fc.weights.slot = 3;
	fc.bias.slot = 3;
	fc.output.slot = 4;
	fc.shift = 42;
	push(self, &conv);
	push(self, &relu);
	push(self, &pool);
	push(self, &fc);
	run(_metadata, self);
	EXPECT_EQ((uint32_t)RW, self->access[2]);
}

/* One validated stream, submitted several times with new inputs each time. */
TEST_F(isa, resubmit_new_inputs)
{
	const struct geom g = {
		.n = 1, .h = 12, .w = 10, .ci = 8, .co = 12, .kh = 3, .kw = 3,
		.s = { 1, 1 }, .d = { 1, 1 }, .p = { 1, 1, 1, 1 },
	};
	struct drm_tapu_op_conv op = mk_conv(DRM_TAPU_OP_CONV2D, &g,
					     DRM_TAPU_OP_F_BIAS |
					     DRM_TAPU_OP_F_PER_CHANNEL);
	uint32_t h;

	push(self, &op);
	prepare(_metadata, self);
	h = stream_create(_metadata, self);
	for (int k = 0; k < 4; k++) {
		if (k)
			randomize(self);
		run_check(_metadata, self, h);
	}
	ASSERT_EQ(0, tapu_gem_close(self->fd, h));
}

/* ============ B. CMDSTREAM_CREATE rejects malformed streams ============ */

TEST_F(isa, bad_opcode)
{
	struct drm_tapu_op_hdr ops[2] = {
		HDR(DRM_TAPU_OP_NOP, sizeof(ops[0]), 0),
		HDR(DRM_TAPU_OP_NOP, sizeof(ops[0]), 0),
	};
	static const uint16_t bad[] = { 0, DRM_TAPU_OP_COUNT, 0x100, 0xffff };

	ASSERT_EQ(0, try_create(self, PTR(ops), sizeof(ops), 0));
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
		ops[1].opcode = bad[k];
		EXPECT_EQ(-EINVAL, try_create(self, PTR(ops), sizeof(ops), 0))
			TH_LOG("opcode %u", bad[k]);
		EXPECT_EQ(-EINVAL, try_op(self, &ops[1]));
	}
	run_valid_job(_metadata, self);
}

TEST_F(isa, reserved_hdr_flags)
{
	struct drm_tapu_op_hdr nop = HDR(DRM_TAPU_OP_NOP, sizeof(nop), 0);
	struct drm_tapu_op_conv cv = CONV_TMPL(DRM_TAPU_OP_F_BIAS);

	VALID(cv);
	BAD(-EINVAL, nop, op.flags = DRM_TAPU_OP_F_BIAS);
	BAD(-EINVAL, COPY_TMPL, op.hdr.flags = DRM_TAPU_OP_F_BIAS);
	BAD(-EINVAL, ADD_TMPL, op.hdr.flags = DRM_TAPU_OP_F_PER_CHANNEL);
	BAD(-EINVAL, mk_pool(DRM_TAPU_OP_MAXPOOL, &pool_g, 1),
	    op.hdr.flags = 1u << 31);
	BAD(-EINVAL, cv, op.hdr.flags |= 1 << 2);
	BAD(-EINVAL, cv, op.hdr.flags |= 1u << 31);
	run_valid_job(_metadata, self);
}

TEST_F(isa, reserved_fields)
{
	struct drm_tapu_op_conv cv = CONV_TMPL(0);
	struct drm_tapu_op_rs cp = COPY_TMPL;
	struct drm_tapu_op_rs tr = mk_transpose(T8(0, 0, 2, 3, 4, 5), 1,
						(const uint8_t[]){ 0, 3, 1, 2 });
	struct drm_tapu_op_concat cat = mk_cat(T8(0, 0, 1, 2, 3, 4),
					       T8(1, 0, 1, 2, 3, 4), 2, 0, 3);
	struct drm_tapu_op_pad pd = mk_pad(T8(0, 0, 1, 2, 3, 4), 1,
					   (const uint16_t[]){ 0, 1, 1, 0 },
					   (const uint16_t[]){ 0, 1, 1, 0 }, 0);

	VALID(cv);
	VALID(cp);
	VALID(tr);
	VALID(cat);
	VALID(pd);
	BAD(-EINVAL, cv, op.reserved = 1);
	BAD(-EINVAL, cp, op.reserved = 0x80000000);
	BAD(-EINVAL, tr, op.reserved = 1);
	BAD(-EINVAL, cat, op.reserved = 1);
	BAD(-EINVAL, pd, op.reserved = 1);
	/* perm is zero for everything but TRANSPOSE */
	BAD(-EINVAL, cp, op.perm[3] = 3);
	BAD(-EINVAL, mk_rs(DRM_TAPU_OP_RESHAPE, T8(0, 0, 1, 4, 5, 6),
			   T8(1, 0, 1, 1, 20, 6)), op.perm[1] = 1);
	run_valid_job(_metadata, self);
}

/* An unused tensor must be all zero; so must per-tensor quant when unused. */
TEST_F(isa, unused_tensor_nonzero)
{
	struct drm_tapu_op_conv cv = CONV_TMPL(0);
	struct drm_tapu_op_conv pc = CONV_TMPL(DRM_TAPU_OP_F_PER_CHANNEL);
	struct drm_tapu_op_conv full = CONV_TMPL(DRM_TAPU_OP_F_BIAS |
						 DRM_TAPU_OP_F_PER_CHANNEL);

	VALID(cv);
	VALID(pc);
	BAD(-EINVAL, cv, op.bias = full.bias);
	BAD(-EINVAL, cv, op.bias.slot = 1);
	BAD(-EINVAL, cv, op.bias.offset = 4);
	BAD(-EINVAL, cv, op.bias.stride[3] = 4);
	BAD(-EINVAL, cv, op.quant = full.quant);
	BAD(-EINVAL, cv, op.quant.dim[3] = 1);
	BAD(-EINVAL, pc, op.multiplier = 1);
	BAD(-EINVAL, pc, op.shift = 1);
	run_valid_job(_metadata, self);
}

TEST_F(isa, slot_out_of_range)
{
	struct drm_tapu_op_rs cp = COPY_TMPL;
	uint32_t max = self->lim.max_bos;
	struct drm_tapu_cmdstream_create c = { .size = sizeof(cp) };

	ASSERT_LT(1U, max);
	VALID(cp);
	BAD(-EINVAL, cp, op.output.slot = max);
	BAD(-EINVAL, cp, op.input.slot = max + 1);
	if (max <= 64)
		BAD(-EINVAL, cp, op.input.slot = 64);
	/* a slot checked through too wide a mask would alias slot 0 */
	BAD(-EINVAL, cp, op.input.slot = 0x100);
	BAD(-EINVAL, cp, op.input.slot = 1 << 16);
	BAD(-EINVAL, cp, op.output.slot = UINT32_MAX);
	/* the highest slot is fine and sets num_slots */
	cp.output.slot = max - 1;
	c.data = PTR(&cp);
	ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &c));
	EXPECT_EQ(max, c.num_slots);
	tapu_gem_close(self->fd, c.handle);
	run_valid_job(_metadata, self);
}

/*
 * What CMDSTREAM_CREATE of a valid single-op stream returns for @elements
 * output elements of @taps each: -E2BIG beyond the work QUERY reports.
 */
static int work_errno(const struct drm_tapu_limits *lim, double elements,
		      double taps)
{
	return elements * (DRM_TAPU_ELEMENT_WORK + taps) > lim->max_stream_work ?
	       -E2BIG : 0;
}

/*
 * The largest extents u32 fields can describe (dims DRM_TAPU_MAX_DIM,
 * strides 0xffffffff) do not overflow the kernel's u64 arithmetic, so the
 * stream is valid, if its work fits (-E2BIG otherwise, never -EOVERFLOW);
 * no BO can be that large, so SUBMIT fails. Checked for each dimension
 * alone and for all four at once, at offset 0xffffffff and at 0xffff, where
 * an extent truncated to 32 bits would wrap to 1 byte.
 */
TEST_F(isa, extent_max_products)
{
	struct drm_tapu_submit_bo bos[2] = {
		{ .flags = DRM_TAPU_BO_READ }, { .flags = DRM_TAPU_BO_WRITE },
	};

	bos[0].handle = new_bo(_metadata, self, 4096);
	bos[1].handle = new_bo(_metadata, self, 4096);
	for (int v = 0; v < 10; v++) {
		uint32_t off = v < 5 ? UINT32_MAX : 0xffff;
		struct drm_tapu_op_rs op = mk_rs(DRM_TAPU_OP_COPY,
						 T8(0, off, 1, 1, 1, 1),
						 T8(1, off, 1, 1, 1, 1));
		struct drm_tapu_cmdstream_create c = {
			.data = PTR(&op), .size = sizeof(op),
		};

		double elements = 1;
		int err;

		for (int e = 0; e < 4; e++) {
			if (v % 5 != 4 && e != v % 5)
				continue;
			op.input.dim[e] = DRM_TAPU_MAX_DIM;
			op.output.dim[e] = DRM_TAPU_MAX_DIM;
			op.input.stride[e] = UINT32_MAX;
			op.output.stride[e] = UINT32_MAX;
			elements *= DRM_TAPU_MAX_DIM;
		}
		err = work_errno(&self->lim, elements, 1);
		ASSERT_EQ(err, tapu_ioctl(self->fd,
					  DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &c))
			TH_LOG("case %d", v);
		if (err)
			continue;
		EXPECT_EQ(2U, c.num_slots);
		EXPECT_EQ(-EINVAL, tapu_submit(self->fd, c.handle, bos, 2, NULL))
			TH_LOG("case %d", v);
		tapu_gem_close(self->fd, c.handle);
	}
	run_valid_job(_metadata, self);
}

/* A packed tensor of @len elements along dimension @d. */
static struct drm_tapu_tensor line(uint32_t slot, int d, uint32_t len)
{
	uint32_t dim[4] = { 1, 1, 1, 1 };

	dim[d] = len;
	return T8(slot, 0, dim[0], dim[1], dim[2], dim[3]);
}

/* Zero, negative (as s32) and too large dimensions, in each position. */
TEST_F(isa, dim_out_of_range)
{
	static const uint32_t bad[] = {
		0, DRM_TAPU_MAX_DIM + 1, 0x80000000, UINT32_MAX,
	};
	struct drm_tapu_op_act relu = mk_act(DRM_TAPU_OP_RELU,
					     T8(0, 0, 1, 4, 4, 4),
					     T8(1, 0, 1, 4, 4, 4), 0, 0);

	VALID(relu);
	for (int d = 0; d < 4; d++) {
		for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
			BAD(-EINVAL, relu, op.input = line(0, d, bad[k]),
			    op.output = line(1, d, bad[k]));
		BAD(work_errno(&self->lim, DRM_TAPU_MAX_DIM, 1), relu,
		    op.input = line(0, d, DRM_TAPU_MAX_DIM),
		    op.output = line(1, d, DRM_TAPU_MAX_DIM));
	}
	run_valid_job(_metadata, self);
}

/* hdr.size that is not the size of the opcode's structure. */
TEST_F(isa, hdr_size_wrong)
{
	struct drm_tapu_op_conv cv = CONV_TMPL(0);
	struct drm_tapu_op_hdr nop = HDR(DRM_TAPU_OP_NOP, sizeof(nop), 0);
	static const uint16_t sizes[] = {
		0, 4, 8, sizeof(cv) - 4, sizeof(cv) + 4, sizeof(cv) + 8, 0xfffc,
	};
	uint8_t buf[sizeof(cv) + 8] = { 0 };
	struct drm_tapu_op_conv *p = (void *)buf;

	VALID(cv);
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		uint32_t len = sizes[k] >= 8 && sizes[k] <= sizeof(buf) ?
			       sizes[k] : sizeof(cv);

		memcpy(buf, &cv, sizeof(cv));
		p->hdr.size = sizes[k];
		EXPECT_EQ(-EINVAL, try_create(self, PTR(buf), len, 0))
			TH_LOG("size %u in a stream of %u", sizes[k], len);
	}
	/* a NOP claiming 16 bytes, and an ADD claiming a CONCAT's size */
	memset(buf, 0, sizeof(buf));
	nop.size = 16;
	memcpy(buf, &nop, sizeof(nop));
	EXPECT_EQ(-EINVAL, try_create(self, PTR(buf), 16, 0));
	BAD(-EINVAL, ADD_TMPL, op.hdr.size = sizeof(struct drm_tapu_op_concat));
	run_valid_job(_metadata, self);
}

/* The stream ends in the middle of an op. */
TEST_F(isa, truncated_op)
{
	struct drm_tapu_op_hdr nop = HDR(DRM_TAPU_OP_NOP, sizeof(nop), 0);
	struct drm_tapu_op_conv cv = CONV_TMPL(0);
	uint8_t buf[2 * sizeof(cv)];
	const uint32_t full = sizeof(nop) + sizeof(cv);

	memcpy(buf, &nop, sizeof(nop));
	memcpy(buf + sizeof(nop), &cv, sizeof(cv));
	memcpy(buf + full, &nop, sizeof(nop));
	ASSERT_EQ(0, try_create(self, PTR(buf), full + sizeof(nop), 0));
	/* NOP + half a conv, NOP + a conv header, a conv less its last word */
	EXPECT_EQ(-EINVAL, try_create(self, PTR(buf), sizeof(nop) + 128, 0));
	EXPECT_EQ(-EINVAL, try_create(self, PTR(buf), 2 * sizeof(nop), 0));
	EXPECT_EQ(-EINVAL, try_create(self, PTR(buf), full - 4, 0));
	/* NOP + conv + half a NOP header */
	EXPECT_EQ(-EINVAL, try_create(self, PTR(buf), full + 4, 0));
	EXPECT_EQ(-EINVAL, try_create(self, PTR(buf + sizeof(nop)), 4, 0));
	run_valid_job(_metadata, self);
}

TEST_F(isa, size_zero)
{
	struct drm_tapu_op_hdr nop = HDR(DRM_TAPU_OP_NOP, sizeof(nop), 0);

	ASSERT_EQ(0, try_create(self, PTR(&nop), sizeof(nop), 0));
	EXPECT_EQ(-EINVAL, try_create(self, PTR(&nop), 0, 0));
	EXPECT_EQ(-EINVAL, try_create(self, 0, 0, 0));
	run_valid_job(_metadata, self);
}

TEST_F(isa, size_not_word_multiple)
{
	struct drm_tapu_op_hdr nops[2] = {
		HDR(DRM_TAPU_OP_NOP, sizeof(nops[0]), 0),
		HDR(DRM_TAPU_OP_NOP, sizeof(nops[0]), 0),
	};
	static const uint32_t sizes[] = { 1, 2, 3, 7, 9, 10, 11, 15 };

	ASSERT_EQ(0, try_create(self, PTR(nops), sizeof(nops), 0));
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		EXPECT_EQ(-EINVAL, try_create(self, PTR(nops), sizes[k], 0))
			TH_LOG("size %u", sizes[k]);
	}
	run_valid_job(_metadata, self);
}

/* Above max_cmdstream_size: -E2BIG before the kernel reads or allocates. */
TEST_F(isa, size_above_limit)
{
	uint32_t max = self->lim.max_cmdstream_size;
	uint32_t fit = max / NOP_SIZE * NOP_SIZE, over = fit + NOP_SIZE;
	uint8_t *buf = malloc(over);

	ASSERT_LE(NOP_SIZE, max);
	ASSERT_NE(NULL, buf);
	fill_nops(buf, over);
	EXPECT_EQ(0, try_create(self, PTR(buf), fit, 0));
	EXPECT_EQ(-E2BIG, try_create(self, PTR(buf), over, 0));
	EXPECT_EQ(-E2BIG, try_create(self, PTR(buf), 0xfffffffc, 0));
	free(buf);
	run_valid_job(_metadata, self);
}

TEST_F(isa, bad_user_pointer)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, m);
	fill_nops(m, 2 * pg);
	ASSERT_EQ(0, try_create(self, PTR(m + pg - 8), 16, 0));
	ASSERT_EQ(0, munmap(m + pg, pg));
	EXPECT_EQ(-EFAULT, try_create(self, 8, 8, 0));
	EXPECT_EQ(-EFAULT, try_create(self, 0, 8, 0));
	EXPECT_EQ(-EFAULT, try_create(self, PTR(m + pg), 8, 0));
	/* the first op is readable, the rest of the stream is not */
	EXPECT_EQ(-EFAULT, try_create(self, PTR(m + pg - 8), 16, 0));
	EXPECT_EQ(-EFAULT, try_create(self, ~0ULL << 47, 8, 0));
	munmap(m, pg);
	run_valid_job(_metadata, self);
}

TEST_F(isa, create_flags)
{
	struct drm_tapu_op_hdr nop = HDR(DRM_TAPU_OP_NOP, sizeof(nop), 0);

	ASSERT_EQ(0, try_create(self, PTR(&nop), sizeof(nop), 0));
	EXPECT_EQ(-EINVAL, try_create(self, PTR(&nop), sizeof(nop), 1));
	EXPECT_EQ(-EINVAL, try_create(self, PTR(&nop), sizeof(nop), 1u << 31));
	run_valid_job(_metadata, self);
}

TEST_F(isa, shape_conv)
{
	struct drm_tapu_op_conv cv = CONV_TMPL(DRM_TAPU_OP_F_BIAS |
					       DRM_TAPU_OP_F_PER_CHANNEL);
	struct drm_tapu_op_conv dw = mk_conv(DRM_TAPU_OP_DEPTHWISE_CONV2D,
					     &dw_g, DRM_TAPU_OP_F_BIAS);
	struct drm_tapu_op_conv fc = mk_conv(DRM_TAPU_OP_FULLY_CONNECTED,
					     &fc_g, 0);

	VALID(cv);
	VALID(dw);
	VALID(fc);
	BAD(-EINVAL, cv, op.output.dim[1]++);
	BAD(-EINVAL, cv, op.output.dim[2]--);
	BAD(-EINVAL, cv, op.output.dim[0] = 2);
	BAD(-EINVAL, cv, op.output.dim[3] = 5);
	BAD(-EINVAL, cv, op.weights.dim[3] = 3);
	BAD(-EINVAL, cv, op.bias.dim[3] = 5);
	BAD(-EINVAL, cv, op.quant.dim[3] = 7);
	BAD(-EINVAL, cv, op.stride[0] = 0);
	BAD(-EINVAL, cv, op.dilation[1] = 0);
	/* the kernel is taller than the padded input */
	BAD(-EINVAL, cv, op.weights.dim[1] = 12, op.output.dim[1] = 1);
	/* depthwise: Co not a multiple of Ci, weights N not 1 */
	BAD(-EINVAL, dw, op.output.dim[3] = op.weights.dim[3] =
			 op.bias.dim[3] = 6);
	BAD(-EINVAL, dw, op.weights.dim[0] = 2);
	/* fully connected: stride, dilation and pad are 0, kernel 1x1 */
	BAD(-EINVAL, fc, op.stride[0] = 1);
	BAD(-EINVAL, fc, op.dilation[1] = 1);
	BAD(-EINVAL, fc, op.pad[2] = 1);
	BAD(-EINVAL, fc, op.weights.dim[2] = 2);
	BAD(-EINVAL, fc, op.output.dim[2] = 2);
	run_valid_job(_metadata, self);
}

TEST_F(isa, shape_eltwise)
{
	struct drm_tapu_op_eltwise add = ADD_TMPL;
	struct drm_tapu_op_eltwise mul = mk_elt(DRM_TAPU_OP_MUL, add.a, add.b,
						add.output);

	VALID(add);
	VALID(mul);
	BAD(-EINVAL, add, op.b.dim[2] = 3);
	BAD(-EINVAL, add, op.a.dim[3] = 4);
	BAD(-EINVAL, add, op.output.dim[0] = 1);
	BAD(-EINVAL, add, op.hdr.opcode = DRM_TAPU_OP_SUB, op.b.dim[1] = 2);
	/* MUL: b_mul must be 0 */
	BAD(-EINVAL, mul, op.b_mul = 1);
	run_valid_job(_metadata, self);
}

TEST_F(isa, shape_pool_act_lut)
{
	struct drm_tapu_op_pool mp = mk_pool(DRM_TAPU_OP_MAXPOOL, &pool_g, 1);
	struct drm_tapu_op_pool ap = mk_pool(DRM_TAPU_OP_AVGPOOL, &pool_g, 1);
	struct drm_tapu_op_act relu = mk_act(DRM_TAPU_OP_RELU,
					     T8(0, 0, 1, 4, 5, 6),
					     T8(1, 0, 1, 4, 5, 6), -3, 0);
	struct drm_tapu_op_lut lut = mk_lut(relu.input, relu.output,
					    T8(2, 0, 1, 1, 1, 256));
	struct geom g = pool_g;

	VALID(mp);
	VALID(ap);
	VALID(relu);
	VALID(lut);
	BAD(-EINVAL, mp, op.output.dim[1] = 4);
	BAD(-EINVAL, mp, op.output.dim[3] = 3);
	BAD(-EINVAL, ap, op.output.dim[0] = 2);
	BAD(-EINVAL, mp, op.kernel[0] = 0);
	BAD(-EINVAL, ap, op.stride[1] = 0);
	/* padding as large as the kernel leaves windows without input */
	g.p[0] = 3;
	BAD(-EINVAL, mp, op = mk_pool(DRM_TAPU_OP_MAXPOOL, &g, 1));
	BAD(-EINVAL, relu, op.output.dim[2] = 4);
	BAD(-EINVAL, relu, op.max = 1);
	BAD(-EINVAL, lut, op.table.dim[3] = 255);
	BAD(-EINVAL, lut, op.table.dim[2] = 2);
	BAD(-EINVAL, lut, op.output.dim[1] = 5);
	run_valid_job(_metadata, self);
}

/* COPY, RESHAPE, TRANSPOSE, CONCAT and PAD (the RS engine). */
TEST_F(isa, shape_rs)
{
	struct drm_tapu_tensor in = T8(0, 0, 2, 3, 4, 5);
	struct drm_tapu_op_rs cp = mk_rs(DRM_TAPU_OP_COPY, in,
					 T8(1, 0, 2, 3, 4, 5));
	struct drm_tapu_op_rs rs = mk_rs(DRM_TAPU_OP_RESHAPE, in,
					 T8(1, 0, 1, 6, 4, 5));
	struct drm_tapu_op_rs tr = mk_transpose(in, 1,
						(const uint8_t[]){ 0, 3, 1, 2 });
	/* equal dims: only the perm itself can make these invalid */
	struct drm_tapu_op_rs cube = mk_transpose(T8(0, 0, 3, 3, 3, 3), 1,
						  (const uint8_t[]){ 3, 2, 1, 0 });
	struct drm_tapu_op_concat cat = mk_cat(in, T8(1, 0, 2, 3, 2, 5),
					       2, 0, 2);
	struct drm_tapu_op_pad pd = mk_pad(in, 1,
					   (const uint16_t[]){ 0, 1, 2, 0 },
					   (const uint16_t[]){ 1, 0, 1, 2 }, 9);

	VALID(cp);
	VALID(rs);
	VALID(tr);
	VALID(cube);
	VALID(cat);
	VALID(pd);
	BAD(-EINVAL, cp, op.output.dim[1]++);
	BAD(-EINVAL, rs, op.output.dim[3] = 4);
	/* perm not a permutation, or output dims of another permutation */
	BAD(-EINVAL, cube, memcpy(op.perm, (uint8_t[]){ 0, 0, 1, 2 }, 4));
	BAD(-EINVAL, cube, memcpy(op.perm, (uint8_t[]){ 3, 3, 3, 3 }, 4));
	BAD(-EINVAL, cube, memcpy(op.perm, (uint8_t[]){ 0, 1, 2, 4 }, 4));
	BAD(-EINVAL, cube, op.perm[1] = 0xff);
	BAD(-EINVAL, tr, memcpy(op.perm, (uint8_t[]){ 0, 1, 3, 2 }, 4));
	/* axis 4, with dims that would fit any "no axis" reading */
	BAD(-EINVAL, cat, op.axis = 4, op.b = op.a, op.output.dim[2] = 4);
	BAD(-EINVAL, cat, op.axis = 4);
	BAD(-EINVAL, cat, op.axis = UINT32_MAX);
	BAD(-EINVAL, cat, op.axis = 1);
	BAD(-EINVAL, cat, op.b.dim[1] = 2);
	BAD(-EINVAL, cat, op.output.dim[2] = 7);
	BAD(-EINVAL, pd, op.output.dim[2]++);
	BAD(-EINVAL, pd, op.before[3] = 1);
	BAD(-EINVAL, pd, op.after[0] = 0);
	run_valid_job(_metadata, self);
}

/* Zero points, clamp bounds, fill values and shifts out of range. */
TEST_F(isa, quant_params)
{
	struct drm_tapu_op_conv cv = CONV_TMPL(0);
	struct drm_tapu_op_eltwise add = ADD_TMPL;
	struct drm_tapu_op_pool mp = mk_pool(DRM_TAPU_OP_MAXPOOL, &pool_g, 1);
	struct drm_tapu_op_act clamp = mk_act(DRM_TAPU_OP_CLAMP,
					      T8(0, 0, 1, 4, 5, 6),
					      T8(1, 0, 1, 4, 5, 6), -5, 5);
	struct drm_tapu_op_pad pd = mk_pad(T8(0, 0, 1, 2, 3, 4), 1,
					   (const uint16_t[]){ 0, 1, 1, 0 },
					   (const uint16_t[]){ 0, 1, 1, 0 }, 0);

	VALID(cv);
	VALID(add);
	VALID(mp);
	VALID(clamp);
	VALID(pd);
	BAD(-EINVAL, cv, op.input_zp = 200);
	BAD(-EINVAL, cv, op.weight_zp = -129);
	BAD(-EINVAL, cv, op.output_zp = 128);
	BAD(-EINVAL, cv, op.act_min = 10, op.act_max = 9);
	BAD(-EINVAL, cv, op.act_min = -129);
	BAD(-EINVAL, cv, op.act_max = 128);
	BAD(-EINVAL, cv, op.shift = 63);
	BAD(-EINVAL, cv, op.shift = UINT32_MAX);
	BAD(0, cv, op.shift = 62, op.act_min = op.act_max = 7);
	BAD(-EINVAL, add, op.a_zp = 200);
	BAD(-EINVAL, add, op.b_zp = -200);
	BAD(-EINVAL, add, op.output_zp = 128);
	BAD(-EINVAL, add, op.shift = 63);
	BAD(-EINVAL, add, op.act_min = 1, op.act_max = 0);
	BAD(-EINVAL, mp, op.act_min = 1, op.act_max = 0);
	BAD(-EINVAL, mp, op.act_max = 128);
	BAD(-EINVAL, clamp, op.min = 6);
	BAD(-EINVAL, clamp, op.min = -129);
	BAD(-EINVAL, clamp, op.hdr.opcode = DRM_TAPU_OP_RELU6, op.max = 200);
	BAD(-EINVAL, pd, op.value = 200);
	BAD(-EINVAL, pd, op.value = -129);
	run_valid_job(_metadata, self);
}

/* Strides of the int32 bias and 8-byte quant tensors. */
TEST_F(isa, bias_quant_stride)
{
	struct drm_tapu_op_conv cv = CONV_TMPL(DRM_TAPU_OP_F_BIAS |
					       DRM_TAPU_OP_F_PER_CHANNEL);

	VALID(cv);
	BAD(-EINVAL, cv, op.bias.stride[3] = 1);
	BAD(-EINVAL, cv, op.bias.stride[3] = 2);
	BAD(-EINVAL, cv, op.bias.stride[3] = 6);
	BAD(-EINVAL, cv, op.bias.stride[2] = 6);
	BAD(-EINVAL, cv, op.quant.stride[3] = 4);
	BAD(-EINVAL, cv, op.quant.stride[3] = 12);
	BAD(0, cv, op.bias.stride[3] = 8, op.quant.stride[3] = 16);
	run_valid_job(_metadata, self);
}

/* ========== the stream object is not a data BO; SUBMIT checks ========== */

TEST_F(isa, stream_not_mappable_or_exportable)
{
	struct drm_tapu_op_rs cp = COPY_TMPL;
	uint32_t h = op_stream(_metadata, self, &cp);
	uint32_t data = new_bo(_metadata, self, 4096);
	struct drm_tapu_bo_info bi = { .handle = data };
	struct drm_prime_handle ph = { .handle = h, .flags = DRM_CLOEXEC };
	long pg = sysconf(_SC_PAGESIZE);
	void *m;
	int ret;

	ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_INFO, &bi));
	bi.handle = h;
	EXPECT_EQ(-EINVAL, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_INFO, &bi));
	m = mmap(NULL, pg, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	m = mmap(NULL, pg, PROT_READ, MAP_SHARED, self->fd, (off_t)0x2f5a3 * pg);
	EXPECT_EQ(MAP_FAILED, m);
	ret = tapu_ioctl(self->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph);
	EXPECT_TRUE(ret == -EINVAL || ret == -EOPNOTSUPP)
		TH_LOG("PRIME export of a stream returned %d", ret);
	if (!ret)
		close(ph.fd);
	else
		TH_LOG("PRIME export of a stream fails with %s",
		       strerror(-ret));
	run_valid_job(_metadata, self);
}

TEST_F(isa, stream_not_data_bo)
{
	struct drm_tapu_op_rs cp = COPY_TMPL;
	uint32_t h = op_stream(_metadata, self, &cp);
	struct drm_tapu_submit_bo bos[2] = {
		{ new_bo(_metadata, self, 4096), DRM_TAPU_BO_READ },
		{ h, DRM_TAPU_BO_WRITE },
	};

	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, h, bos, 2, NULL));
	bos[1] = (struct drm_tapu_submit_bo){ bos[0].handle, RW };
	bos[0] = (struct drm_tapu_submit_bo){ h, DRM_TAPU_BO_READ };
	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, h, bos, 2, NULL));
	run_valid_job(_metadata, self);
}

TEST_F(isa, bad_stream_handle)
{
	struct drm_tapu_op_rs cp = COPY_TMPL;
	uint32_t h = op_stream(_metadata, self, &cp);
	struct drm_tapu_submit_bo bos[2] = {
		{ new_bo(_metadata, self, 4096), DRM_TAPU_BO_READ },
		{ new_bo(_metadata, self, 4096), DRM_TAPU_BO_WRITE },
	};

	/* a data BO is not a stream */
	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, bos[0].handle, bos, 2, NULL));
	EXPECT_EQ(-ENOENT, tapu_submit(self->fd, 0x7ffffff0, bos, 2, NULL));
	ASSERT_EQ(0, tapu_gem_close(self->fd, h));
	EXPECT_EQ(-ENOENT, tapu_submit(self->fd, h, bos, 2, NULL));
	run_valid_job(_metadata, self);
}

TEST_F(isa, submit_bo_smaller_than_extent)
{
	struct drm_tapu_op_rs big = mk_rs(DRM_TAPU_OP_COPY,
					  T8(0, 0, 1, 1, 2, 4096),
					  T8(1, 0, 1, 1, 2, 4096));
	struct drm_tapu_op_rs tail = mk_rs(DRM_TAPU_OP_COPY,
					   T8(0, 4096 - 15, 1, 1, 1, 16),
					   T8(1, 0, 1, 1, 1, 16));
	uint32_t small = new_bo(_metadata, self, 4096);
	uint32_t large = new_bo(_metadata, self, 8192);
	struct drm_tapu_submit_bo sl[2] = {
		{ small, DRM_TAPU_BO_READ }, { large, DRM_TAPU_BO_WRITE },
	};
	struct drm_tapu_submit_bo ls[2] = {
		{ large, DRM_TAPU_BO_READ }, { small, DRM_TAPU_BO_WRITE },
	};
	uint32_t h = op_stream(_metadata, self, &big);

	randomize(self);
	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, h, sl, 2, NULL));
	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, h, ls, 2, NULL));
	tapu_gem_close(self->fd, h);
	/* one byte past the end, then ending exactly at the end */
	h = op_stream(_metadata, self, &tail);
	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, h, sl, 2, NULL));
	tapu_gem_close(self->fd, h);
	tail.input.offset--;
	h = op_stream(_metadata, self, &tail);
	submit_wait(_metadata, self, h, sl, 2);
	EXPECT_EQ(0, memcmp(self->map[0] + 4096 - 16, self->map[1], 16));
	tapu_gem_close(self->fd, h);
	run_valid_job(_metadata, self);
}

TEST_F(isa, submit_written_slot_read_only)
{
	struct drm_tapu_op_rs cp = COPY_TMPL;
	uint32_t h = op_stream(_metadata, self, &cp);
	struct drm_tapu_submit_bo bos[2] = {
		{ new_bo(_metadata, self, 4096), RW },
		{ new_bo(_metadata, self, 4096), DRM_TAPU_BO_READ },
	};

	EXPECT_EQ(-EACCES, tapu_submit(self->fd, h, bos, 2, NULL));
	bos[0].flags = DRM_TAPU_BO_READ;
	EXPECT_EQ(-EACCES, tapu_submit(self->fd, h, bos, 2, NULL));
	bos[1].flags = DRM_TAPU_BO_WRITE;
	submit_wait(_metadata, self, h, bos, 2);
	run_valid_job(_metadata, self);
}

TEST_F(isa, submit_bo_count_below_num_slots)
{
	struct drm_tapu_op_concat cat = mk_cat(T8(0, 0, 1, 2, 3, 4),
					       T8(1, 0, 1, 2, 3, 4), 2, 0, 1);
	uint32_t h = op_stream(_metadata, self, &cat);
	struct drm_tapu_submit_bo bos[3] = {
		{ new_bo(_metadata, self, 4096), DRM_TAPU_BO_READ },
		{ new_bo(_metadata, self, 4096), DRM_TAPU_BO_READ },
		{ new_bo(_metadata, self, 4096), DRM_TAPU_BO_WRITE },
	};

	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, h, bos, 2, NULL));
	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, h, bos, 1, NULL));
	EXPECT_EQ(-EINVAL, tapu_submit(self->fd, h, NULL, 0, NULL));
	submit_wait(_metadata, self, h, bos, 3);
	run_valid_job(_metadata, self);
}

TEST_HARNESS_MAIN
