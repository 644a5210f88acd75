// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Lowering of a quantised ONNX graph to one TAPU command stream.
 *
 * uint8 tensors are mapped onto the int8 datapath by subtracting 128 from
 * the data and from their zero points (differences, hence accumulators, are
 * unchanged). Scales become (multiplier, shift) pairs, quantize_multiplier().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtapu.h"
#include "onnx-model.h"

#define NODE_ERR(n, fmt, ...) \
	errorf("node '%s' (%s): " fmt, (n)->name, (n)->op, ##__VA_ARGS__)

/* int8 value = native value - off8 */
static int off8(int dtype)
{
	return dtype == DT_UINT8 ? 128 : 0;
}

/* p->v is sized once by prog_compile(): pointers to values stay valid. */
static struct val *val_get(struct prog *p, const char *name)
{
	for (int i = 0; i < p->nv; i++)
		if (!strcmp(p->v[i].name, name))
			return &p->v[i];
	if (p->nv == p->v_cap) {
		fprintf(stderr, "tapu-run: too many values\n");
		exit(1);
	}
	memset(&p->v[p->nv], 0, sizeof(*p->v));
	p->v[p->nv].name = name;
	return &p->v[p->nv++];
}

static struct val *val_find(struct prog *p, const char *name)
{
	for (int i = 0; name && i < p->nv; i++)
		if (!strcmp(p->v[i].name, name))
			return &p->v[i];
	return NULL;
}

/* Constants */

static uint32_t cst_alloc(struct prog *p, size_t size)
{
	size_t off = (p->ncst + 63) & ~(size_t)63;

	if (off + size > p->cst_cap) {
		p->cst_cap = (off + size) * 2;
		p->cst = realloc(p->cst, p->cst_cap);
		if (!p->cst) {
			fprintf(stderr, "tapu-run: out of memory\n");
			exit(1);
		}
	}
	memset(p->cst + off, 0, size);
	p->ncst = off + size;
	return off;
}

static const struct tensor *param(const struct node *n, struct prog *p, int i, int need)
{
	const char *name = node_in(n, i);
	struct val *v = val_find(p, name);

	if (v && v->cst)
		return v->cst;
	if (need)
		NODE_ERR(n, "input %d ('%s') must be a constant (initializer or "
			 "given input)", i, name ? name : "");
	return NULL;
}

/* Scalar parameters: scales (float) and zero points (int), default 0. */
static float pscale(const struct tensor *t)
{
	return t ? t->f ? t->f[0] : t->i[0] : 0;
}

static int pzp(const struct tensor *t)
{
	return t ? (int)t->i[0] : 0;
}

static int pdtype(const struct tensor *zp, int def)
{
	return zp ? zp->dtype : def;
}

static int all_equal(const struct tensor *t)
{
	for (size_t k = 1; t && k < t->n; k++)
		if (t->i ? t->i[k] != t->i[0] : t->f[k] != t->f[0])
			return 0;
	return 1;
}

/* Layouts */

static void view_canon(int n, const uint32_t *d, const uint32_t *s,
		       int *cn, uint32_t *cd, uint32_t *cs)
{
	*cn = 0;
	for (int i = 0; i < n; i++) {
		if (d[i] == 1)
			continue;
		if (*cn && cs[*cn - 1] == d[i] * s[i]) {
			cd[*cn - 1] *= d[i];
			cs[*cn - 1] = s[i];
		} else {
			cd[*cn] = d[i];
			cs[(*cn)++] = s[i];
		}
	}
}

static int view_same(int na, const uint32_t *da, const uint32_t *sa,
		     int nb, const uint32_t *db, const uint32_t *sb)
{
	uint32_t cda[4], csa[4], cdb[4], csb[4];
	int ca, cb;

	view_canon(na, da, sa, &ca, cda, csa);
	view_canon(nb, db, sb, &cb, cdb, csb);
	return ca == cb && !memcmp(cda, cdb, ca * 4) && !memcmp(csa, csb, ca * 4);
}

/* The standard layout of a shape: NCHW stored NHWC for rank 4, row-major
 * otherwise ([d0, 1, 1, d1], [d0, 1, d1, d2], [1, 1, 1, d0] on the device). */
static int std_layout(struct val *v)
{
	const int64_t *d = v->dim;
	uint32_t s = 1;

	for (int i = 0; i < v->rank; i++)
		if (d[i] < 1 || d[i] > DRM_TAPU_MAX_DIM)
			return errorf("'%s': dimension %lld not supported", v->name,
				      (long long)d[i]);
	if (v->rank > 4)
		return errorf("'%s': rank %d not supported", v->name, v->rank);
	v->nv = v->rank;
	if (v->rank == 4) {
		uint32_t td[4] = { d[0], d[2], d[3], d[1] };
		uint32_t vs[4] = { d[2] * d[3] * d[1], 1, d[3] * d[1], d[1] };

		memcpy(v->tdim, td, sizeof(td));
		memcpy(v->vstr, vs, sizeof(vs));
	} else {
		uint32_t td[4][4] = { { 1, 1, 1, 1 }, { 1, 1, 1, d[0] },
				      { d[0], 1, 1, d[1] }, { d[0], 1, d[1], d[2] } };

		memcpy(v->tdim, td[v->rank], sizeof(v->tdim));
		for (int i = v->rank - 1; i >= 0; i--) {
			v->vstr[i] = s;
			s *= d[i];
		}
	}
	for (int i = 0; i < v->rank; i++)
		v->vdim[i] = d[i];
	return 0;
}

static size_t val_count(const struct val *v)
{
	size_t n = 1;

	for (int i = 0; i < v->rank; i++)
		n *= v->dim[i];
	return n;
}

/* A new value in the arena with the standard layout of its shape. */
static struct val *new_act(struct prog *p, const char *name, int dtype, int rank,
			   const int64_t *dim)
{
	struct val *v = val_get(p, name);

	v->dtype = dtype;
	v->rank = rank;
	memcpy(v->dim, dim, rank * sizeof(*dim));
	if (std_layout(v))
		return NULL;
	v->dev = 1;
	v->slot = 1;
	v->off = (p->arena + 63) & ~(size_t)63;
	p->arena = v->off + val_count(v);
	return v;
}

static struct drm_tapu_tensor T(const struct val *v)
{
	return tapu_tensor_nhwc(v->slot, v->off, v->tdim[0], v->tdim[1],
				v->tdim[2], v->tdim[3], 1);
}

/*
 * Common refinement of two factorisations (dims, strides) of the same
 * row-major index space, innermost first; fails when it needs more than 4
 * dimensions or the factorisations do not nest.
 */
static int refine(int na, const uint32_t *da, const uint32_t *sa,
		  int nb, const uint32_t *db, const uint32_t *sb,
		  uint32_t d[4], uint32_t s1[4], uint32_t s2[4])
{
	uint32_t rd[16], r1[16], r2[16], xa = 1, xb = 1, pa = 0, pb = 0;
	int i = na, j = nb, n = 0;

	while (i > 0 || j > 0 || xa > 1 || xb > 1) {
		uint32_t take;

		if (xa == 1 && i > 0)
			xa = da[--i], pa = 1;
		if (xb == 1 && j > 0)
			xb = db[--j], pb = 1;
		if (xa == 1 && xb == 1)
			continue;
		take = xa < xb ? xa : xb;
		if (xa % take || xb % take || n == 16)
			return -1;
		rd[n] = take, r1[n] = sa[i] * pa, r2[n] = sb[j] * pb;
		n++;
		pa *= take, pb *= take, xa /= take, xb /= take;
	}
	/* merge neighbours contiguous in both, innermost first */
	int m = 0;

	for (int k = 0; k < n; k++) {
		if (m && r1[k] == d[4 - m] * s1[4 - m] && r2[k] == d[4 - m] * s2[4 - m]) {
			d[4 - m] *= rd[k];
			continue;
		}
		if (m == 4)
			return -1;
		m++;
		d[4 - m] = rd[k], s1[4 - m] = r1[k], s2[4 - m] = r2[k];
	}
	for (int k = 0; k < 4 - m; k++)
		d[k] = 1, s1[k] = s2[k] = 0;
	return 0;
}

static int layout_copy(struct prog *p, struct val *src, const struct val *dst)
{
	struct drm_tapu_tensor in = T(src), out = T(dst);

	if (refine(src->nv, src->vdim, src->vstr, dst->nv, dst->vdim, dst->vstr,
		   in.dim, in.stride, out.stride))
		return errorf("'%s': layout change not expressible in 4 dimensions",
			      src->name);
	memcpy(out.dim, in.dim, sizeof(in.dim));
	p->nops++;
	return tapu_sb_copy(p->sb, &in, &out);
}

/* Makes v a standard-layout device value, copying on the device if needed. */
static int need_std(struct prog *p, struct val *v)
{
	struct val s = *v;

	if (!v->dev)
		return errorf("'%s' is not computed on the device", v->name);
	if (std_layout(&s))
		return -1;
	if (view_same(v->nv, v->vdim, v->vstr, s.nv, s.vdim, s.vstr) &&
	    !memcmp(v->tdim, s.tdim, sizeof(s.tdim)))
		return 0;
	s.off = (p->arena + 63) & ~(size_t)63;
	s.slot = 1;
	p->arena = s.off + val_count(&s);
	if (layout_copy(p, v, &s))
		return -1;
	*v = s;
	return 0;
}

static struct val *act_in(struct prog *p, const struct node *n, int i)
{
	struct val *v = val_find(p, node_in(n, i));

	if (!v || !v->dev) {
		NODE_ERR(n, "input %d is not a device tensor", i);
		return NULL;
	}
	if (!dtype_is_q8(v->dtype)) {
		NODE_ERR(n, "input %d is %s, not int8/uint8", i, dtype_name(v->dtype));
		return NULL;
	}
	return v;
}

/* An output with the layout of ref (elementwise ops). */
static struct val *new_like(struct prog *p, const char *name, int dtype,
			    const struct val *ref)
{
	struct val *v = new_act(p, name, dtype, ref->rank, ref->dim);

	if (v) {
		memcpy(v->tdim, ref->tdim, sizeof(v->tdim));
		v->nv = ref->nv;
		memcpy(v->vdim, ref->vdim, sizeof(v->vdim));
		memcpy(v->vstr, ref->vstr, sizeof(v->vstr));
	}
	return v;
}

static int check_shift(const struct node *n, uint32_t shift)
{
	return shift > 62 ? NODE_ERR(n, "scale ratio out of the multiplier/shift range") : 0;
}

/* Bias and requantisation (per tensor or per output channel) of a MAC op. */
/* The output clamp of a requantising op, narrowed by a fused Relu or Clip. */
static int act_clamp(struct prog *p, const struct node *n, const struct tensor *ys,
		     const struct tensor *yz, int yt, int32_t *act_min, int32_t *act_max)
{
	int lo, hi;

	dtype_range(yt, &lo, &hi);
	if (n->act && (!ys || fused_act(p->m, n, pscale(ys), pzp(yz), &lo, &hi)))
		return NODE_ERR(n, "cannot fold the %s before its QuantizeLinear", n->act->op_type);
	*act_min = lo - off8(yt);
	*act_max = hi - off8(yt);
	return 0;
}

static int mac_quant(struct prog *p, const struct node *n, struct tapu_conv_params *c,
		     const struct tensor *b, const struct tensor *xs,
		     const struct tensor *ws, const struct tensor *ys, int64_t co)
{
	if (b) {
		uint32_t off = cst_alloc(p, 4 * co);

		for (int64_t o = 0; o < co; o++)
			((int32_t *)(p->cst + off))[o] = b->i[o];
		c->bias = tapu_tensor_nhwc(0, off, 1, 1, 1, co, 4);
	}
	if (ws->n == 1) {
		quantize_multiplier((double)pscale(xs) * (double)pscale(ws) / (double)pscale(ys),
				    &c->multiplier, &c->shift);
		return check_shift(n, c->shift);
	}
	uint32_t off = cst_alloc(p, 8 * co);

	for (int64_t o = 0; o < co; o++) {
		uint32_t *q = (uint32_t *)(p->cst + off) + 2 * o;

		quantize_multiplier((double)pscale(xs) * (double)ws->f[o] / (double)pscale(ys),
				    (int32_t *)&q[0], &q[1]);
		if (check_shift(n, q[1]))
			return -1;
	}
	c->quant = tapu_tensor_nhwc(0, off, 1, 1, 1, co, 8);
	return 0;
}

/* Sliding windows (Conv, pools) */

struct window {
	int64_t k[2], s[2], d[2], pad[4];	/* pads: top, left, bottom, right */
	int64_t out[2];
};

static int window(const struct node *n, const int64_t *in, const int64_t *kernel,
		  struct window *w)
{
	const char *ap = attr_string(n, "auto_pad", "NOTSET");
	int64_t pads[4] = { 0, 0, 0, 0 };

	w->k[0] = kernel[0], w->k[1] = kernel[1];
	w->s[0] = w->s[1] = w->d[0] = w->d[1] = 1;
	if (attr_ints(n, "strides", w->s, 2) > 2 || attr_ints(n, "dilations", w->d, 2) > 2 ||
	    attr_ints(n, "pads", pads, 4) > 4)
		return NODE_ERR(n, "only 2-D windows are supported");
	if (attr_int(n, "ceil_mode", 0))
		return NODE_ERR(n, "ceil_mode=1 not supported");
	if (attr_int(n, "storage_order", 0))
		return NODE_ERR(n, "storage_order=1 not supported");
	w->pad[0] = pads[0], w->pad[1] = pads[1], w->pad[2] = pads[2], w->pad[3] = pads[3];
	for (int a = 0; a < 2; a++) {
		int64_t ext = w->d[a] * (w->k[a] - 1) + 1;

		if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
			int64_t o = (in[a] + w->s[a] - 1) / w->s[a];
			int64_t tot = (o - 1) * w->s[a] + ext - in[a];

			tot = tot < 0 ? 0 : tot;
			w->pad[a] = ap[5] == 'U' ? tot / 2 : tot - tot / 2;
			w->pad[a + 2] = tot - w->pad[a];
		} else if (!strcmp(ap, "VALID")) {
			w->pad[a] = w->pad[a + 2] = 0;
		} else if (strcmp(ap, "NOTSET")) {
			return NODE_ERR(n, "auto_pad=%s not supported", ap);
		}
		w->out[a] = (in[a] + w->pad[a] + w->pad[a + 2] - ext) / w->s[a] + 1;
		if (w->out[a] < 1 || w->s[a] > 65535 || w->d[a] > 65535 ||
		    w->pad[a] > 65535 || w->pad[a + 2] > 65535)
			return NODE_ERR(n, "window out of range");
	}
	return 0;
}

/*
 * Emits convolution @c, split by output channels into ops that each stay
 * within the work a job may do (p->max_work): every part reads all the
 * input (depthwise: its channels) and writes its channels of the output.
 */
static int conv_parts(struct prog *p, const struct node *n, const struct tapu_conv_params *c,
		      int dw, int per_channel, uint64_t taps)
{
	uint32_t co = c->output.dim[3], step = co;
	uint64_t per_ch = (uint64_t)c->output.dim[0] * c->output.dim[1] * c->output.dim[2] *
			  (DRM_TAPU_ELEMENT_WORK + taps);

	if (p->max_work && per_ch * co > p->max_work) {
		step = p->max_work / per_ch;
		if (!step || (dw && c->input.dim[3] != co))
			return NODE_ERR(n, "more work than a job may do, and not divisible");
	}
	if (step == co) {
		p->nops++;
		return dw ? tapu_sb_depthwise_conv2d(p->sb, c) : tapu_sb_conv2d(p->sb, c);
	}
	for (uint32_t c0 = 0; c0 < co; c0 += step) {
		struct tapu_conv_params part = *c;
		uint32_t cc = co - c0 < step ? co - c0 : step;

		part.output.offset += c0;
		part.output.dim[3] = cc;
		if (dw) {
			part.input.offset += c0;
			part.input.dim[3] = cc;
			part.weights.offset += c0;
			part.weights.dim[3] = cc;
		} else {
			part.weights.offset += c0 * part.weights.stride[0];
			part.weights.dim[0] = cc;
		}
		if (part.bias.dim[3]) {
			part.bias.offset += 4 * c0;
			part.bias.dim[3] = cc;
		}
		if (per_channel) {
			part.quant.offset += 8 * c0;
			part.quant.dim[3] = cc;
		}
		p->nops++;
		if (dw ? tapu_sb_depthwise_conv2d(p->sb, &part) : tapu_sb_conv2d(p->sb, &part))
			return -1;
	}
	return 0;
}

/* QLinearConv: x, xs, xz, w, ws, wz, ys, yz[, B] */
static int lower_conv(struct prog *p, const struct node *n)
{
	const struct tensor *xs = param(n, p, 1, 1), *xz = param(n, p, 2, 0),
		*w = param(n, p, 3, 1), *ws = param(n, p, 4, 1), *wz = param(n, p, 5, 0),
		*ys = param(n, p, 6, 1), *yz = param(n, p, 7, 0), *b = param(n, p, 8, 0);
	struct val *x = act_in(p, n, 0), *y;
	struct tapu_conv_params c = { 0 };
	struct window win;
	int64_t group = attr_int(n, "group", 1), co, ci, od[4];
	int dw, yt, wo;

	if (!x || !xs || !w || !ws || !ys || (node_in(n, 8) && !b) || need_std(p, x))
		return -1;
	if (x->rank != 4 || w->rank != 4)
		return NODE_ERR(n, "only 2-D convolutions are supported");
	if (!dtype_is_q8(w->dtype) || (b && b->dtype != DT_INT32))
		return NODE_ERR(n, "weights must be int8/uint8 and the bias int32");
	co = w->dim[0], ci = x->dim[1];
	dw = group > 1 && group == ci && w->dim[1] == 1 && co % ci == 0;
	if (group != 1 && !dw)
		return NODE_ERR(n, "group=%lld is neither 1 nor depthwise", (long long)group);
	if (!dw && w->dim[1] != ci)
		return NODE_ERR(n, "weights do not match the input channels");
	if (!all_equal(wz))
		return NODE_ERR(n, "per-channel weight zero points must be equal");
	if (ws->n != 1 && ws->n != (size_t)co)
		return NODE_ERR(n, "w_scale has %zu entries for %lld channels", ws->n, (long long)co);
	if (window(n, x->dim + 2, w->dim + 2, &win))
		return -1;
	yt = pdtype(yz, DT_UINT8), wo = off8(w->dtype);
	od[0] = x->dim[0], od[1] = co, od[2] = win.out[0], od[3] = win.out[1];
	y = new_act(p, n->out[0], yt, 4, od);
	if (!y)
		return -1;

	/* weights [Co, Kh, Kw, Ci] or, depthwise, [1, Kh, Kw, Co] */
	uint32_t kh = w->dim[2], kw = w->dim[3], cin = w->dim[1];
	uint32_t woff = cst_alloc(p, w->n);

	c.weights = dw ? tapu_tensor_nhwc(0, woff, 1, kh, kw, co, 1) :
			 tapu_tensor_nhwc(0, woff, co, kh, kw, cin, 1);
	for (uint32_t o = 0; o < co; o++)
		for (uint32_t i = 0; i < cin; i++)
			for (uint32_t ky = 0; ky < kh; ky++)
				for (uint32_t kx = 0; kx < kw; kx++) {
					size_t src = ((o * cin + i) * kh + ky) * kw + kx;
					size_t dst = dw ? (ky * kw + kx) * co + o :
							  ((o * kh + ky) * kw + kx) * cin + i;

					p->cst[woff + dst] = (int8_t)(w->i[src] - wo);
				}
	if (mac_quant(p, n, &c, b, xs, ws, ys, co))
		return -1;
	c.input = T(x);
	c.output = T(y);
	c.stride[0] = win.s[0], c.stride[1] = win.s[1];
	c.dilation[0] = win.d[0], c.dilation[1] = win.d[1];
	for (int i = 0; i < 4; i++)
		c.pad[i] = win.pad[i];
	c.input_zp = pzp(xz) - off8(x->dtype);
	c.weight_zp = pzp(wz) - wo;
	c.output_zp = pzp(yz) - off8(yt);
	if (act_clamp(p, n, ys, yz, yt, &c.act_min, &c.act_max))
		return -1;
	return conv_parts(p, n, &c, dw, ws->n != 1, kh * kw * (dw ? 1 : cin));
}

/*
 * QLinearMatMul: a, as, az, b, bs, bz, ys, yz; QLinearGemm adds the int32
 * bias C as input 8. B is constant; each row of a goes through one
 * FULLY_CONNECTED (one per matrix when B is a stack of matrices).
 */
static int lower_matmul(struct prog *p, const struct node *n)
{
	const struct tensor *as = param(n, p, 1, 1), *az = param(n, p, 2, 0),
		*b = param(n, p, 3, 1), *bs = param(n, p, 4, 1), *bz = param(n, p, 5, 0),
		*ys = param(n, p, 6, 1), *yz = param(n, p, 7, 0), *c = param(n, p, 8, 0);
	int gemm = !strcmp(n->op, "QLinearGemm");
	int tb = gemm && attr_int(n, "transB", 0);
	struct val *a = act_in(p, n, 0), *y;
	struct tapu_conv_params fc = { 0 };
	int64_t od[MAX_RANK], K, N, M, nb;
	uint32_t *poff, woff;
	int yt;

	if (!a || !as || !b || !bs || !ys || (node_in(n, 8) && !c))
		return -1;
	if (gemm && (attr_int(n, "transA", 0) || attr_float(n, "alpha", 1) != 1 ||
		     attr_float(n, "beta", 1) != 1))
		return NODE_ERR(n, "only transA=0, alpha=1, beta=1 supported");
	if (a->rank < 2 || a->rank > 3 || b->rank < 2 || b->rank > a->rank ||
	    (b->rank == 3 && b->dim[0] != a->dim[0]))
		return NODE_ERR(n, "shapes not supported (A rank 2-3, B 2-D or one per batch)");
	M = a->dim[a->rank - 2], K = a->dim[a->rank - 1];
	N = b->dim[b->rank - (tb ? 2 : 1)];
	nb = b->rank == 3 ? b->dim[0] : 1;
	if (b->dim[b->rank - (tb ? 1 : 2)] != K)
		return NODE_ERR(n, "inner dimensions differ");
	if (!all_equal(bz) || (bs->n != 1 && bs->n != (size_t)N) || (c && c->n != (size_t)N) ||
	    (c && c->dtype != DT_INT32))
		return NODE_ERR(n, "per-column zero points, scale or bias shape not supported");

	/* Row-major rows of K: poff[k] is where column k of A sits in a row. */
	poff = calloc(K, sizeof(*poff));
	if (a->rank == 2 && a->nv >= 2 && a->vdim[0] == M && a->vstr[0] == K) {
		for (int64_t k = 0; k < K; k++) {
			int64_t r = k;

			for (int i = a->nv - 1; i >= 1; i--) {
				poff[k] += r % a->vdim[i] * a->vstr[i];
				r /= a->vdim[i];
			}
		}
	} else {
		if (need_std(p, a)) {
			free(poff);
			return -1;
		}
		for (int64_t k = 0; k < K; k++)
			poff[k] = k;
	}
	memcpy(od, a->dim, sizeof(od));
	od[a->rank - 1] = N;
	yt = pdtype(yz, DT_UINT8);
	y = new_act(p, n->out[0], yt, a->rank, od);
	woff = cst_alloc(p, nb * N * K);
	for (int64_t i = 0; y && i < nb; i++)
		for (int64_t k = 0; k < K; k++)
			for (int64_t o = 0; o < N; o++)
				p->cst[woff + (i * N + o) * K + poff[k]] =
					b->i[i * K * N + (tb ? o * K + k : k * N + o)] - off8(b->dtype);
	free(poff);
	if (!y)
		return -1;
	if (mac_quant(p, n, &fc, c, as, bs, ys, N))
		return -1;
	fc.input_zp = pzp(az) - off8(a->dtype);
	fc.weight_zp = pzp(bz) - off8(b->dtype);
	fc.output_zp = pzp(yz) - off8(yt);
	if (act_clamp(p, n, ys, yz, yt, &fc.act_min, &fc.act_max))
		return -1;
	for (int64_t i = 0; i < nb; i++) {
		uint32_t rows = a->rank == 3 && nb == 1 ? a->dim[0] * M : M;
		uint32_t aoff = a->off + i * M * K, yoff = y->off + i * M * N;

		fc.input = tapu_tensor_nhwc(1, aoff, rows, 1, 1, K, 1);
		fc.output = tapu_tensor_nhwc(1, yoff, rows, 1, 1, N, 1);
		fc.weights = tapu_tensor_nhwc(0, woff + i * N * K, N, 1, 1, K, 1);
		p->nops++;
		if (tapu_sb_fully_connected(p->sb, &fc))
			return NODE_ERR(n, "FULLY_CONNECTED rejected");
	}
	return 0;
}

/*
 * An average that requantises: a depthwise convolution with a kernel of
 * ones and the scale x_scale / (y_scale * window) rounds once, as ONNX
 * does (within the multiplier's rounding); only without padding, where
 * every window has the same count.
 */
static int lower_avg_requant(struct prog *p, const struct node *n, struct val *x,
			     struct val *y, const struct window *win, const struct tensor **q)
{
	struct tapu_conv_params c = { 0 };
	uint32_t cnt = win->k[0] * win->k[1], ch = x->dim[1], off;

	for (int i = 0; i < 4; i++)
		if (win->pad[i])
			return NODE_ERR(n, "a requantising average with padding is not supported");
	off = cst_alloc(p, (size_t)cnt * ch);
	memset(p->cst + off, 1, (size_t)cnt * ch);
	c.input = T(x);
	c.weights = tapu_tensor_nhwc(0, off, 1, win->k[0], win->k[1], ch, 1);
	c.output = T(y);
	c.stride[0] = win->s[0], c.stride[1] = win->s[1];
	c.dilation[0] = c.dilation[1] = 1;
	c.input_zp = pzp(q[1]) - off8(x->dtype);
	c.output_zp = pzp(q[3]) - off8(y->dtype);
	quantize_multiplier((double)pscale(q[0]) / ((double)pscale(q[2]) * cnt),
			    &c.multiplier, &c.shift);
	if (check_shift(n, c.shift) ||
	    act_clamp(p, n, q[2], q[3], y->dtype, &c.act_min, &c.act_max))
		return -1;
	p->nops++;
	return tapu_sb_depthwise_conv2d(p->sb, &c);
}

/* MaxPool, AveragePool (integer or QDQ form), global ones */
static int lower_pool(struct prog *p, const struct node *n)
{
	int avg = !!strstr(n->op, "AveragePool"), glob = !!strstr(n->op, "Global");
	int q = !strncmp(n->op, "QLinear", 7), requant = 0, yt;
	struct val *x = act_in(p, n, 0), *y;
	struct tapu_pool_params pp = { 0 };
	const struct tensor *qp[4] = { NULL };
	int64_t kernel[2] = { 1, 1 }, od[4];
	struct window win;

	if (!x || need_std(p, x))
		return -1;
	if (x->rank != 4)
		return NODE_ERR(n, "only 2-D pooling is supported");
	if (n->nout > 1)
		return NODE_ERR(n, "the Indices output is not supported");
	yt = x->dtype;
	if (q) {
		/* x_scale, x_zero_point, y_scale, y_zero_point */
		qp[0] = param(n, p, 1, 1), qp[1] = param(n, p, 2, 0);
		qp[2] = param(n, p, 3, 1), qp[3] = param(n, p, 4, 0);
		if (!qp[0] || !qp[2])
			return -1;
		yt = pdtype(qp[3], DT_UINT8);
		requant = pscale(qp[0]) != pscale(qp[2]) || pzp(qp[1]) != pzp(qp[3]) ||
			  yt != x->dtype;
		if (requant && !avg)
			return NODE_ERR(n, "input and output quantisation differ");
		/* ONNX rounds the average's ties to even relative to the zero point. */
		if (avg)
			pp.flags = (pzp(qp[1]) - off8(x->dtype)) & 1 ? DRM_TAPU_OP_F_ROUND_ODD :
								       DRM_TAPU_OP_F_ROUND_EVEN;
	}
	if (glob) {
		kernel[0] = x->dim[2], kernel[1] = x->dim[3];
		memset(&win, 0, sizeof(win));
		win.k[0] = kernel[0], win.k[1] = kernel[1], win.s[0] = win.s[1] = 1;
		win.out[0] = win.out[1] = 1;
	} else {
		if (attr_ints(n, "kernel_shape", kernel, 2) != 2)
			return NODE_ERR(n, "only 2-D kernels are supported");
		if (window(n, x->dim + 2, kernel, &win))
			return -1;
		if (win.d[0] != 1 || win.d[1] != 1)
			return NODE_ERR(n, "dilations not supported");
		if (avg && attr_int(n, "count_include_pad", 0) &&
		    (win.pad[0] || win.pad[1] || win.pad[2] || win.pad[3]))
			return NODE_ERR(n, "count_include_pad=1 with padding not supported");
		for (int i = 0; i < 4; i++)
			if (win.pad[i] >= win.k[i % 2])
				return NODE_ERR(n, "padding not smaller than the kernel");
	}
	od[0] = x->dim[0], od[1] = x->dim[1], od[2] = win.out[0], od[3] = win.out[1];
	y = new_act(p, n->out[0], yt, 4, od);
	if (!y)
		return -1;
	if (requant)
		return lower_avg_requant(p, n, x, y, &win, qp);
	pp.input = T(x);
	pp.output = T(y);
	for (int i = 0; i < 2; i++)
		pp.kernel[i] = win.k[i], pp.stride[i] = win.s[i];
	for (int i = 0; i < 4; i++)
		pp.pad[i] = win.pad[i];
	pp.act_min = -128, pp.act_max = 127;
	p->nops++;
	return avg ? tapu_sb_avgpool(p->sb, &pp) : tapu_sb_maxpool(p->sb, &pp);
}

/* Relu, Clip (integer or in QDQ form), Sigmoid, Tanh (QDQ form) */
static int lower_unary(struct prog *p, const struct node *n)
{
	int q = !strncmp(n->op, "QLinear", 7), lo, hi, mn, mx, yt;
	struct val *x = act_in(p, n, 0), *y;
	struct drm_tapu_tensor in, out, tab;
	const struct tensor *xs = NULL, *xz = NULL, *ys = NULL, *yz = NULL;

	if (!x)
		return -1;
	yt = x->dtype;
	if (q) {
		xs = param(n, p, 1, 1), xz = param(n, p, 2, 0);
		ys = param(n, p, 3, 1), yz = param(n, p, 4, 0);
		if (!xs || !ys)
			return -1;
		yt = pdtype(yz, DT_UINT8);
	}
	y = new_like(p, n->out[0], yt, x);
	if (!y)
		return -1;
	in = T(x), out = T(y);
	dtype_range(yt, &lo, &hi);
	p->nops++;
	if (lut_op(n->op)) {
		int16_t t[256];
		uint32_t off = cst_alloc(p, 256);
		int xlo, xhi;

		if (!q)
			return NODE_ERR(n, "only the quantised (QDQ) form is supported");
		dtype_range(x->dtype, &xlo, &xhi);
		lut_table(n, pscale(xs), pzp(xz), xlo, pscale(ys), pzp(yz), lo, hi, t);
		for (int k = 0; k < 256; k++)
			p->cst[off + k] = t[k] - off8(yt);
		tab = tapu_tensor_nhwc(0, off, 1, 1, 1, 256, 1);
		return tapu_sb_lut(p->sb, &in, &out, &tab);
	}
	mn = lo, mx = hi;
	if (strstr(n->op, "Relu")) {
		mn = q ? pzp(yz) : 0;
	} else if (q) {		/* QLinearClip: float bounds at 5, 6 (attributes before opset 11) */
		const struct tensor *a = param(n, p, 5, 0), *b = param(n, p, 6, 0);
		int attrs = p->m->opset < 11;

		if ((node_in(n, 5) && !a) || (node_in(n, 6) && !b))
			return NODE_ERR(n, "min and max must be constants");
		mn = quantize_float(a ? pscale(a) : attrs ? attr_float(n, "min", -INFINITY) :
				    -INFINITY, pscale(ys), pzp(yz), lo, hi);
		mx = quantize_float(b ? pscale(b) : attrs ? attr_float(n, "max", INFINITY) :
				    INFINITY, pscale(ys), pzp(yz), lo, hi);
	} else {
		const struct tensor *a = param(n, p, 1, 0), *b = param(n, p, 2, 0);

		if ((node_in(n, 1) && !a) || (node_in(n, 2) && !b))
			return NODE_ERR(n, "min and max must be constants");
		mn = a ? pzp(a) : p->m->opset < 11 ? attr_float(n, "min", lo) : lo;
		mx = b ? pzp(b) : p->m->opset < 11 ? attr_float(n, "max", hi) : hi;
		mn = mn < lo ? lo : mn, mx = mx > hi ? hi : mx;
	}
	if (mn > mx)
		mn = mx;	/* ONNX: min > max gives max everywhere */
	if (q && (pscale(xs) != pscale(ys) || pzp(xz) != pzp(yz) || yt != x->dtype)) {
		/* Requantizing: a table, exact (quantizing is monotonic) */
		int16_t t[256];
		uint32_t off = cst_alloc(p, 256);
		int xlo, xhi;

		dtype_range(x->dtype, &xlo, &xhi);
		requant_table(pscale(xs), pzp(xz), xlo, pscale(ys), pzp(yz), mn, mx, t);
		for (int k = 0; k < 256; k++)
			p->cst[off + k] = t[k] - off8(yt);
		tab = tapu_tensor_nhwc(0, off, 1, 1, 1, 256, 1);
		return tapu_sb_lut(p->sb, &in, &out, &tab);
	}
	return tapu_sb_clamp(p->sb, &in, &out, mn - off8(yt), mx - off8(yt));
}

/* A constant operand expanded (ONNX broadcasting) to the layout of ref. */
static struct val *cst_like(struct prog *p, const struct tensor *c, const struct val *ref,
			    const char *name, int off)
{
	struct val *v = val_get(p, name);
	size_t n = val_count(ref);

	*v = *ref;
	v->own_cst = 0;
	v->own_name = 0;
	v->dev_at = NULL;
	v->name = name;
	v->slot = 0;
	v->dtype = c->dtype;
	v->off = cst_alloc(p, n);
	for (size_t k = 0; k < n; k++) {
		size_t ci = bcast_index(c->rank, c->dim, ref->rank, ref->dim, k), pos = 0, vr = k;

		for (int i = ref->nv - 1; i >= 0; i--) {
			pos += vr % ref->vdim[i] * ref->vstr[i];
			vr /= ref->vdim[i];
		}
		p->cst[v->off + pos] = c->i[ci] - off;
	}
	return v;
}

static int bcast_shape(const struct val *a, const struct val *b, int64_t *d, int *rank)
{
	*rank = a->rank > b->rank ? a->rank : b->rank;
	for (int i = 0; i < *rank; i++) {
		int ia = i - (*rank - a->rank), ib = i - (*rank - b->rank);
		int64_t da = ia >= 0 ? a->dim[ia] : 1, db = ib >= 0 ? b->dim[ib] : 1;

		if (da != db && da != 1 && db != 1)
			return -1;
		d[i] = da > db ? da : db;
	}
	return 0;
}

/* Add, Sub, Mul on integers (saturating), QLinearAdd, QLinearMul */
static int lower_binary(struct prog *p, const struct node *n)
{
	int q = !strncmp(n->op, "QLinear", 7), ib = q ? 3 : 1, yt, rank;
	struct val *v[2] = { val_find(p, node_in(n, 0)), val_find(p, node_in(n, ib)) }, *y;
	struct tapu_eltwise_params e = { 0 };
	const struct tensor *as = NULL, *az = NULL, *bs = NULL, *bz = NULL, *ys = NULL, *yz = NULL;
	int64_t od[MAX_RANK];
	char name[2][256];

	if (!v[0] || !v[1] || (!v[0]->dev && !v[1]->dev))
		return NODE_ERR(n, "needs at least one device input");
	if (!dtype_is_q8(v[0]->dtype) || !dtype_is_q8(v[1]->dtype))
		return NODE_ERR(n, "inputs must be int8/uint8");
	if (q) {
		as = param(n, p, 1, 1), az = param(n, p, 2, 0), bs = param(n, p, 4, 1);
		bz = param(n, p, 5, 0), ys = param(n, p, 6, 1), yz = param(n, p, 7, 0);
		if (!as || !bs || !ys)
			return -1;
		yt = pdtype(yz, DT_UINT8);
	} else {
		if (v[0]->dtype != v[1]->dtype)
			return NODE_ERR(n, "input types differ");
		yt = v[0]->dtype;
	}
	if (bcast_shape(v[0], v[1], od, &rank))
		return NODE_ERR(n, "shapes cannot be broadcast");
	/* The device operand of the output's shape sets the layout. */
	int big = v[0]->dev && v[0]->rank == rank &&
		  !memcmp(v[0]->dim, od, rank * sizeof(*od)) ? 0 : 1;

	if (!v[big]->dev || v[big]->rank != rank || memcmp(v[big]->dim, od, rank * sizeof(*od)))
		return NODE_ERR(n, "broadcasting a device input to a larger shape not supported");
	for (int i = 0; i < 2; i++) {
		if (i == big)
			continue;
		snprintf(name[i], sizeof(name[i]), "%s#%d", n->out[0], i);
		if (!v[i]->dev) {
			v[i] = cst_like(p, v[i]->cst, v[big], strdup(name[i]), off8(v[i]->dtype));
			v[i]->own_name = 1;
		} else if (!view_same(v[i]->nv, v[i]->vdim, v[i]->vstr, v[big]->nv,
				      v[big]->vdim, v[big]->vstr) ||
			   v[i]->rank != rank || memcmp(v[i]->dim, od, rank * sizeof(*od))) {
			/* different layout or shape: both standard, broadcast by strides */
			if (need_std(p, v[i]) || need_std(p, v[big]))
				return -1;
		}
	}
	y = new_like(p, n->out[0], yt, v[big]);
	if (!y)
		return -1;
	e.a = T(v[0]), e.b = T(v[1]), e.output = T(y);
	if (tapu_tensor_broadcast(&e.a, y->tdim) || tapu_tensor_broadcast(&e.b, y->tdim))
		return NODE_ERR(n, "broadcast not expressible on the device layout");
	e.a_zp = pzp(az) - off8(v[0]->dtype);
	e.b_zp = pzp(bz) - off8(v[1]->dtype);
	e.output_zp = pzp(yz) - off8(yt);
	if (act_clamp(p, n, ys, yz, yt, &e.act_min, &e.act_max))
		return -1;
	e.a_mul = e.b_mul = 1;
	if (!q) {
		e.a_zp = e.b_zp = e.output_zp = -off8(yt);
	} else if (!strcmp(n->op, "QLinearAdd")) {
		quantize_pair((double)pscale(as) / pscale(ys), (double)pscale(bs) / pscale(ys),
			      &e.a_mul, &e.b_mul, &e.shift);
		if (check_shift(n, e.shift))
			return -1;
	} else {
		quantize_multiplier((double)pscale(as) * pscale(bs) / pscale(ys), &e.a_mul, &e.shift);
		if (check_shift(n, e.shift))
			return -1;
	}
	p->nops++;
	if (strstr(n->op, "Mul")) {
		e.b_mul = 0;
		return tapu_sb_mul(p->sb, &e);
	}
	return strcmp(n->op, "Sub") ? tapu_sb_add(p->sb, &e) : tapu_sb_sub(p->sb, &e);
}

/* Flatten, Reshape, (Un)Squeeze, Identity: the same bytes and view, another shape. */
static int lower_reshape(struct prog *p, const struct node *n)
{
	struct val *x = val_find(p, node_in(n, 0)), *y;
	int64_t d[MAX_RANK], cnt = 1, known = 1;
	int r = 0, neg = -1;

	if (!x || !x->dev)
		return NODE_ERR(n, "input is not a device tensor");
	if (!strcmp(n->op, "Flatten")) {
		int64_t ax = attr_int(n, "axis", 1);

		ax += ax < 0 ? x->rank : 0;
		d[0] = d[1] = 1;
		for (int i = 0; i < x->rank; i++)
			d[i >= ax] *= x->dim[i];
		r = 2;
	} else if (!strcmp(n->op, "Reshape")) {
		const struct tensor *s = param(n, p, 1, 1);

		if (!s)
			return -1;
		if (s->n > MAX_RANK || attr_int(n, "allowzero", 0))
			return NODE_ERR(n, "shape not supported");
		for (r = 0; r < (int)s->n; r++) {
			d[r] = s->i[r] ? s->i[r] : x->dim[r];
			if (d[r] < 0)
				neg = r;
			else
				known *= d[r];
		}
	} else if (strstr(n->op, "queeze")) {
		r = squeeze_shape(n, p->m->opset, param(n, p, 1, 0), x->dim, x->rank, d);
		if (r < 0)
			return NODE_ERR(n, "axes not supported");
	} else {
		r = x->rank;
		memcpy(d, x->dim, sizeof(d));
	}
	for (int i = 0; i < x->rank; i++)
		cnt *= x->dim[i];
	if (neg >= 0)
		d[neg] = known ? cnt / known : 0;
	y = val_get(p, n->out[0]);
	*y = *x;
	y->own_cst = 0;
	y->own_name = 0;
	y->dev_at = NULL;
	y->name = n->out[0];
	y->rank = r;
	memcpy(y->dim, d, sizeof(d));
	return val_count(y) == (size_t)cnt ? 0 : NODE_ERR(n, "element count changes");
}

/* Transpose: a permuted view; copied when a consumer needs the layout. */
static int lower_transpose(struct prog *p, const struct node *n)
{
	struct val *x = val_find(p, node_in(n, 0)), *y;
	int64_t perm[MAX_RANK];
	int np;

	if (!x || !x->dev || x->rank > 4)
		return NODE_ERR(n, "input must be a device tensor of rank <= 4");
	np = attr_ints(n, "perm", perm, MAX_RANK);
	for (int i = 0; !np && i < x->rank; i++)
		perm[i] = x->rank - 1 - i;
	/* the standard layout has a stride per axis */
	if (need_std(p, x))
		return -1;
	y = val_get(p, n->out[0]);
	*y = *x;
	y->own_cst = 0;
	y->own_name = 0;
	y->dev_at = NULL;
	y->name = n->out[0];
	for (int i = 0; i < x->rank; i++) {
		if (perm[i] < 0 || perm[i] >= x->rank)
			return NODE_ERR(n, "bad perm");
		y->dim[i] = x->dim[perm[i]];
		y->vdim[i] = x->vdim[perm[i]];
		y->vstr[i] = x->vstr[perm[i]];
	}
	return 0;
}

/* ONNX axis -> device axis of the standard layout. */
static int tapu_axis(int rank, int axis)
{
	static const int map[5][4] = { { 0 }, { 3 }, { 0, 3 }, { 0, 2, 3 }, { 0, 3, 1, 2 } };

	return map[rank][axis];
}

/* Concatenates @xs (device values of one type and rank) into n->out[0]. */
static int concat_vals(struct prog *p, const struct node *n, struct val **xs, int nx)
{
	struct val *acc = xs[0], *x, *y;
	int64_t ax = attr_int(n, "axis", 0), d[MAX_RANK];
	char name[256];

	ax += ax < 0 ? acc->rank : 0;
	for (int i = 1; i < nx; i++) {
		x = xs[i];
		if (x->rank != acc->rank || x->dtype != acc->dtype)
			return NODE_ERR(n, "inputs differ in rank or type");
		memcpy(d, acc->dim, sizeof(d));
		d[ax] += x->dim[ax];
		snprintf(name, sizeof(name), "%s#%d", n->out[0], i);
		y = new_act(p, i == nx - 1 ? n->out[0] : strdup(name), x->dtype, x->rank, d);
		if (!y)
			return -1;
		y->own_name = i != nx - 1;
		struct drm_tapu_tensor a = T(acc), b = T(x), o = T(y);

		p->nops++;
		if (tapu_sb_concat(p->sb, &a, &b, &o, tapu_axis(x->rank, ax)))
			return NODE_ERR(n, "CONCAT rejected");
		acc = val_find(p, y->name);
	}
	if (nx == 1) {
		y = val_get(p, n->out[0]);
		*y = *acc;
		y->own_cst = 0;
		y->own_name = 0;
		y->dev_at = NULL;
		y->name = n->out[0];
	}
	return 0;
}

static int lower_concat(struct prog *p, const struct node *n)
{
	struct val *xs[MAX_NODE_IN];

	for (int i = 0; i < n->nin; i++) {
		xs[i] = act_in(p, n, i);
		if (!xs[i] || need_std(p, xs[i]))
			return -1;
	}
	return concat_vals(p, n, xs, n->nin);
}

/* QLinearConcat: inputs of other quantization through a requantizing table. */
static int lower_qconcat(struct prog *p, const struct node *n)
{
	const struct tensor *ys = param(n, p, 0, 1), *yz = param(n, p, 1, 0);
	int yt = pdtype(yz, DT_UINT8), nx = (n->nin - 2) / 3, lo, hi;
	struct val *xs[MAX_NODE_IN];
	char name[256];

	if (!ys)
		return -1;
	if (n->nin < 5 || (n->nin - 2) % 3 || ys->n != 1 || (yz && yz->n != 1))
		return NODE_ERR(n, "malformed QLinearConcat or per-channel output");
	dtype_range(yt, &lo, &hi);
	for (int i = 0; i < nx; i++) {
		const struct tensor *s = param(n, p, 3 + 3 * i, 1), *z = param(n, p, 4 + 3 * i, 0);
		struct val *x = act_in(p, n, 2 + 3 * i), *y;
		struct drm_tapu_tensor in, out, tab;
		int16_t t[256];
		uint32_t off;
		int xlo, xhi;

		if (!x || !s || need_std(p, x))
			return -1;
		if (s->n != 1 || (z && z->n != 1))
			return NODE_ERR(n, "input %d is quantized per channel", i);
		xs[i] = x;
		if (pscale(s) == pscale(ys) && pzp(z) == pzp(yz) && x->dtype == yt)
			continue;
		snprintf(name, sizeof(name), "%s#requant%d", n->out[0], i);
		y = new_like(p, strdup(name), yt, x);
		if (!y)
			return -1;
		y->own_name = 1;
		dtype_range(x->dtype, &xlo, &xhi);
		requant_table(pscale(s), pzp(z), xlo, pscale(ys), pzp(yz), lo, hi, t);
		off = cst_alloc(p, 256);
		for (int k = 0; k < 256; k++)
			p->cst[off + k] = t[k] - off8(yt);
		in = T(x), out = T(y);
		tab = tapu_tensor_nhwc(0, off, 1, 1, 1, 256, 1);
		p->nops++;
		if (tapu_sb_lut(p->sb, &in, &out, &tab))
			return NODE_ERR(n, "LUT rejected");
		xs[i] = val_find(p, y->name);
	}
	return concat_vals(p, n, xs, nx);
}

static int lower_pad(struct prog *p, const struct node *n)
{
	struct val *x = act_in(p, n, 0), *y;
	int64_t pads[2 * MAX_RANK] = { 0 }, d[MAX_RANK];
	uint16_t before[4] = { 0 }, after[4] = { 0 };
	const struct tensor *pt = NULL, *vt = NULL;
	int np, value = 0;

	if (!x || need_std(p, x))
		return -1;
	if (strcmp(attr_string(n, "mode", "constant"), "constant"))
		return NODE_ERR(n, "mode=%s not supported (constant only)",
				attr_string(n, "mode", ""));
	if (p->m->opset >= 11) {
		pt = param(n, p, 1, 1);
		vt = param(n, p, 2, 0);
		if (!pt || node_in(n, 3))
			return pt ? NODE_ERR(n, "axes input not supported") : -1;
		np = pt->n;
		for (int i = 0; i < np && i < 2 * MAX_RANK; i++)
			pads[i] = pt->i[i];
		value = vt ? pzp(vt) : 0;
	} else {
		np = attr_ints(n, "pads", pads, 2 * MAX_RANK);
		value = attr_float(n, "value", 0);
	}
	if (np != 2 * x->rank)
		return NODE_ERR(n, "pads do not match the rank");
	memcpy(d, x->dim, sizeof(d));
	for (int i = 0; i < x->rank; i++) {
		int a = tapu_axis(x->rank, i);

		if (pads[i] < 0 || pads[i + x->rank] < 0 || pads[i] > 65535 ||
		    pads[i + x->rank] > 65535)
			return NODE_ERR(n, "negative or huge pads not supported");
		before[a] = pads[i], after[a] = pads[i + x->rank];
		d[i] += pads[i] + pads[i + x->rank];
	}
	y = new_act(p, n->out[0], x->dtype, x->rank, d);
	if (!y)
		return -1;
	struct drm_tapu_tensor in = T(x), out = T(y);

	p->nops++;
	return tapu_sb_pad(p->sb, &in, &out, before, after, value - off8(x->dtype));
}

static int is_graph_input(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->g->n_input; i++)
		if (!strcmp(m->g->input[i]->name, name))
			return 1;
	return 0;
}

static int is_graph_output(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->g->n_output; i++)
		if (!strcmp(m->g->output[i]->name, name))
			return 1;
	return 0;
}

/* QuantizeLinear of a graph input, DequantizeLinear to a graph output:
 * done on the CPU by prog_write_input() and prog_read_output(). */
static int lower_qdq(struct prog *p, const struct node *n)
{
	int dq = !strcmp(n->op, "DequantizeLinear");
	struct val *x = val_find(p, node_in(n, 0)), *y;
	const struct tensor *zp = param(n, p, 2, 0);

	if (!param(n, p, 1, 1))
		return -1;
	if (dq) {
		if (!is_graph_output(p->m, n->out[0]))
			return NODE_ERR(n, "not supported inside the graph (only at its outputs, "
					"or folded with QuantizeLinear into a quantised op)");
		if (!x || !x->dev)
			return NODE_ERR(n, "input is not a device tensor");
		val_get(p, n->out[0])->dtype = DT_FLOAT;
		return 0;
	}
	if (!x || !is_graph_input(p->m, x->name) || x->dtype != DT_FLOAT)
		return NODE_ERR(n, "not supported inside the graph (only on float graph inputs)");
	y = new_act(p, n->out[0], pdtype(zp, DT_UINT8), x->rank, x->dim);
	return y ? 0 : -1;
}

static const struct {
	const char *op;
	int (*fn)(struct prog *p, const struct node *n);
} lowerings[] = {
	{ "QLinearConv", lower_conv }, { "QLinearMatMul", lower_matmul },
	{ "QLinearGemm", lower_matmul }, { "MaxPool", lower_pool },
	{ "AveragePool", lower_pool }, { "GlobalAveragePool", lower_pool },
	{ "QLinearAveragePool", lower_pool }, { "QLinearGlobalAveragePool", lower_pool },
	{ "Relu", lower_unary }, { "Clip", lower_unary }, { "QLinearRelu", lower_unary },
	{ "QLinearClip", lower_unary }, { "QLinearSigmoid", lower_unary },
	{ "QLinearTanh", lower_unary }, { "QLinearLeakyRelu", lower_unary },
	{ "QLinearHardSigmoid", lower_unary }, { "QLinearHardSwish", lower_unary }, { "Add", lower_binary }, { "Sub", lower_binary },
	{ "Mul", lower_binary }, { "QLinearAdd", lower_binary }, { "QLinearMul", lower_binary },
	{ "Reshape", lower_reshape }, { "Flatten", lower_reshape },
	{ "Squeeze", lower_reshape }, { "Unsqueeze", lower_reshape },
	{ "Identity", lower_reshape }, { "Transpose", lower_transpose },
	{ "Concat", lower_concat }, { "QLinearConcat", lower_qconcat }, { "Pad", lower_pad },
	{ "QuantizeLinear", lower_qdq }, { "DequantizeLinear", lower_qdq },
};

int device_op(const char *op)
{
	for (size_t i = 0; i < sizeof(lowerings) / sizeof(lowerings[0]); i++)
		if (!strcmp(lowerings[i].op, op))
			return 1;
	return 0;
}

int prog_input_is_param(const struct model *m, const char *name)
{
	for (int k = 0; k < m->nnodes; k++)
		for (int j = 0; j < m->nodes[k].nin; j++)
			if (node_in(&m->nodes[k], j) && !strcmp(m->nodes[k].in[j], name) &&
			    !op_param_port(&m->nodes[k], j))
				return 0;
	return 1;
}

static int add_step(struct prog *p, const struct node *cpu, const char *why)
{
	struct step *st = realloc(p->steps, (p->nsteps + 1) * sizeof(*st));

	if (!st)
		return errorf("out of memory");
	p->steps = st;
	st += p->nsteps++;
	memset(st, 0, sizeof(*st));
	st->cpu = cpu;
	if (cpu) {
		st->why = strdup(why);
		st->in = calloc(cpu->nin + 1, sizeof(*st->in));
		if (!st->why || !st->in)
			return errorf("out of memory");
		for (int i = 0; i < cpu->nin; i++) {
			struct val *v = val_find(p, node_in(cpu, i));

			if (v)
				st->in[i] = *v;
		}
		return 0;
	}
	st->sb = p->sb;
	st->nops = p->seg_ops;
	p->seg_ops = 0;
	return tapu_sb_new(&p->sb) ? errorf("out of memory") : 0;
}

/* A CPU node's output that a device node reads is written to slot 1. */
static void to_device(struct prog *p, struct val *v)
{
	if (!v || !v->host || v->dev || !dtype_is_q8(v->dtype))
		return;
	if (new_act(p, v->name, v->dtype, v->rank, v->dim)) {
		v->to_dev = 1;
		v->dev_at = malloc(sizeof(*v->dev_at));
		if (v->dev_at)
			*v->dev_at = *v;
	}
	if (!v->dev_at)
		v->dev = v->to_dev = 0;
}

/*
 * Places node n on the CPU, after the device segment so far: its output
 * shapes come from running it on stand-ins of its inputs' shapes.
 */
static int place_cpu(struct prog *p, const struct node *n, const char *why)
{
	struct tensor *a[MAX_NODE_IN] = { 0 }, *tmp[MAX_NODE_IN] = { 0 }, *y[4] = { 0 };
	int ret;

	for (int i = 0; i < n->nin; i++) {
		struct val *v = val_find(p, node_in(n, i));

		if (!node_in(n, i))
			continue;
		if (!v) {
			int err = NODE_ERR(n, "input '%s' is not computed", n->in[i]);

			while (i--)
				tensor_free(tmp[i]);
			return err;
		}
		a[i] = v->cst ? v->cst : (tmp[i] = tensor_new(v->dtype, v->rank, v->dim));
	}
	ret = ref_node_outputs(p->m, n, a, y);
	for (int i = 0; i < n->nin; i++)
		tensor_free(tmp[i]);
	if (ret)
		return NODE_ERR(n, "not on the device (%.200s), nor on the CPU (%.200s)", why,
				err_msg);
	for (int k = 0; k < n->nout; k++) {
		struct val *w = val_get(p, n->out[k]);

		memset(w, 0, sizeof(*w));
		w->name = n->out[k];
		w->dtype = y[k]->dtype;
		w->rank = y[k]->rank;
		memcpy(w->dim, y[k]->dim, sizeof(w->dim));
		w->host = 1;
		tensor_free(y[k]);
	}
	if (p->seg_ops && add_step(p, NULL, NULL))
		return -1;
	p->cpu_nodes++;
	return add_step(p, n, why);
}

/* Multiply-accumulates of convolution and matrix nodes, from their shapes. */
static uint64_t node_macs(struct prog *p, const struct node *n)
{
	int conv = !!strstr(n->op, "Conv"), q = !strncmp(n->op, "QLinear", 7);
	const struct val *y = val_find(p, n->out[0]);
	const struct val *w = val_find(p, node_in(n, conv ? q ? 3 : 1 : 0));
	uint64_t elems = 1, k;

	if ((!conv && !strstr(n->op, "MatMul") && !strstr(n->op, "Gemm")) || !y || !w ||
	    w->rank < 1)
		return 0;
	for (int i = 0; i < y->rank; i++)
		elems *= y->dim[i];
	if (conv) {
		k = 1;
		for (int i = 1; i < w->rank; i++)
			k *= w->dim[i];
	} else {
		k = w->dim[attr_int(n, "transA", 0) && w->rank == 2 ? 0 : w->rank - 1];
	}
	return elems * k;
}

int prog_compile(struct prog *p, struct model *m, const struct binding *in, int nin,
		 uint64_t max_work)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->max_work = max_work;
	p->v_cap = m->g->n_initializer + nin + 4 * m->nnodes + 16;
	p->v = calloc(p->v_cap, sizeof(*p->v));
	if (!p->v || tapu_sb_new(&p->sb))
		return errorf("out of memory");
	for (size_t i = 0; i < m->g->n_initializer; i++) {
		struct val *v = val_get(p, m->g->initializer[i]->name);

		v->cst = calloc(1, sizeof(*v->cst));
		v->own_cst = 1;
		if (!v->cst || tensor_from_pb(m->g->initializer[i], v->cst))
			return -1;
		v->dtype = v->cst->dtype;
		v->rank = v->cst->rank;
		memcpy(v->dim, v->cst->dim, sizeof(v->dim));
	}
	/* Graph inputs: data inputs go on the device, parameters are known. */
	for (int i = 0; i < nin; i++) {
		int data = !prog_input_is_param(m, in[i].name);

		if (data && in[i].t->dtype != DT_FLOAT) {
			if (!new_act(p, in[i].name, in[i].t->dtype, in[i].t->rank, in[i].t->dim))
				return errorf("input '%s': %.400s", in[i].name, err_msg);
		} else {
			struct val *v = val_get(p, in[i].name);

			v->dtype = in[i].t->dtype;
			v->rank = in[i].t->rank;
			memcpy(v->dim, in[i].t->dim, sizeof(v->dim));
			if (!data)
				v->cst = in[i].t;
		}
	}
	for (int k = 0; k < m->nnodes; k++) {
		const struct node *n = &m->nodes[k];
		unsigned int ops = p->nops;
		char why[512] = "no device operation";
		size_t i;

		for (i = 0; i < sizeof(lowerings) / sizeof(lowerings[0]); i++)
			if (op_known(n) && !strcmp(n->op, lowerings[i].op))
				break;
		if (i < sizeof(lowerings) / sizeof(lowerings[0])) {
			for (int j = 0; j < n->nin; j++)
				to_device(p, val_find(p, node_in(n, j)));
			if (!lowerings[i].fn(p, n)) {
				p->seg_ops += p->nops - ops;
				p->dev_nodes++;
				p->dev_macs += node_macs(p, n);
				continue;
			}
			/* A builder error sticks: nothing can follow it. */
			if (tapu_sb_error(p->sb))
				return -1;
			p->seg_ops += p->nops - ops;
			snprintf(why, sizeof(why), "%s", err_msg);
		}
		if (place_cpu(p, n, why))
			return -1;
		p->cpu_macs += node_macs(p, n);
	}
	if (p->seg_ops && add_step(p, NULL, NULL))
		return -1;
	for (size_t i = 0; i < m->g->n_output; i++) {
		struct val *v = val_find(p, m->g->output[i]->name);

		if (!v)
			return errorf("output '%s' is not computed", m->g->output[i]->name);
	}
	return 0;
}

void prog_free(struct prog *p)
{
	for (int i = 0; i < p->nv; i++) {
		if (p->v[i].own_cst)
			tensor_free(p->v[i].cst);
		if (p->v[i].own_name)
			free((char *)p->v[i].name);
		tensor_free(p->v[i].ht);
		free(p->v[i].dev_at);
	}
	for (int i = 0; i < p->nsteps; i++) {
		tapu_sb_free(p->steps[i].sb);
		free(p->steps[i].why);
		free(p->steps[i].in);
	}
	free(p->steps);
	tapu_sb_free(p->sb);
	free(p->cst);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* Byte position of ONNX element k of a device value. */
static size_t view_pos(const struct val *v, size_t k)
{
	size_t pos = 0;

	for (int i = v->nv - 1; i >= 0; i--) {
		pos += k % v->vdim[i] * v->vstr[i];
		k /= v->vdim[i];
	}
	return v->off + pos;
}

static const struct node *node_of(const struct model *m, const char *input, const char *op)
{
	for (int k = 0; k < m->nnodes; k++)
		if (!strcmp(m->nodes[k].op, op) && node_in(&m->nodes[k], 0) &&
		    !strcmp(m->nodes[k].in[0], input))
			return &m->nodes[k];
	return NULL;
}

int prog_write_input(struct prog *p, const char *name, const struct tensor *t,
		     uint8_t *arena)
{
	struct val *v = val_find(p, name);
	const struct node *q = node_of(p->m, name, "QuantizeLinear");
	struct tensor *qt = NULL;

	if (!v)
		return errorf("'%s' is not an input of the model", name);
	if (v->cst)
		return 0;
	/* Read by CPU nodes only: they take it from the bindings. */
	if (q && !val_find(p, q->out[0])->dev)
		q = NULL;
	if (!q && !v->dev)
		return 0;
	if (q) {
		struct val *s = val_find(p, node_in(q, 1)), *z = val_find(p, node_in(q, 2));

		qt = qdq_apply(0, t, s->cst, z ? z->cst : NULL, attr_int(q, "axis", 1));
		t = qt;
		v = val_find(p, q->out[0]);
	}
	if (!v->dev || val_count(v) != t->n || !dtype_is_q8(t->dtype)) {
		tensor_free(qt);
		return errorf("input '%s': shape or type differs from the compiled one", name);
	}
	for (size_t k = 0; k < t->n; k++)
		arena[view_pos(v, k)] = t->i[k] - off8(v->dtype);
	tensor_free(qt);
	return 0;
}

struct tensor *prog_read_output(struct prog *p, const char *name, const uint8_t *arena)
{
	const struct node *dq = NULL;
	struct val *v = val_find(p, name);
	struct tensor *t, *f;

	for (int k = 0; k < p->m->nnodes; k++)
		if (!strcmp(p->m->nodes[k].op, "DequantizeLinear") &&
		    !strcmp(p->m->nodes[k].out[0], name))
			dq = &p->m->nodes[k];
	if (dq)
		v = val_find(p, dq->in[0]);
	if (v && v->host && !v->dev)
		return v->ht ? tensor_copy(v->ht) : NULL;
	if (!v || (!v->dev && !v->cst))
		return NULL;
	if (v->cst && !v->dev) {
		t = tensor_copy(v->cst);
	} else {
		t = tensor_new(v->dtype, v->rank, v->dim);
		for (size_t k = 0; k < t->n; k++)
			t->i[k] = (int8_t)arena[view_pos(v, k)] + off8(v->dtype);
	}
	if (!dq)
		return t;
	struct val *s = val_find(p, node_in(dq, 1)), *z = val_find(p, node_in(dq, 2));

	f = qdq_apply(1, t, s->cst, z ? z->cst : NULL, attr_int(dq, "axis", 1));
	tensor_free(t);
	return f;
}

/* A device value, read from the slot 1 image in ONNX order. */
static struct tensor *read_dev(const struct val *v, const uint8_t *arena)
{
	struct tensor *t = tensor_new(v->dtype, v->rank, v->dim);

	for (size_t k = 0; k < t->n; k++)
		t->i[k] = (int8_t)arena[view_pos(v, k)] + off8(v->dtype);
	return t;
}

int prog_run_cpu(struct prog *p, const struct step *st, const struct binding *in, int nin,
		 uint8_t *arena)
{
	const struct node *n = st->cpu;
	struct tensor *a[MAX_NODE_IN] = { 0 }, *tmp[MAX_NODE_IN] = { 0 }, *y[4] = { 0 };
	int ret;

	for (int i = 0; i < n->nin; i++) {
		struct val *v = val_find(p, node_in(n, i));

		if (!v)
			continue;
		/* A device value where it was when the node was placed. */
		a[i] = v->ht ? v->ht : v->cst ? v->cst :
		       st->in[i].dev ? (tmp[i] = read_dev(&st->in[i], arena)) : NULL;
		for (int k = 0; !a[i] && k < nin; k++)
			if (!strcmp(in[k].name, v->name))
				a[i] = in[k].t;
		if (!a[i]) {
			while (i--)
				tensor_free(tmp[i]);
			return NODE_ERR(n, "input '%s' has no value", v->name);
		}
	}
	ret = ref_node_outputs(p->m, n, a, y);
	for (int i = 0; i < n->nin; i++)
		tensor_free(tmp[i]);
	if (ret)
		return NODE_ERR(n, "%.400s", err_msg);
	for (int j = 0; j < n->nout; j++) {
		struct val *w = val_find(p, n->out[j]);

		if (y[j]->n != val_count(w) || y[j]->dtype != w->dtype) {
			for (; j < n->nout; j++)
				tensor_free(y[j]);
			return NODE_ERR(n, "output shape differs from the compiled one");
		}
		tensor_free(w->ht);
		w->ht = y[j];
		for (size_t k = 0; w->to_dev && k < y[j]->n; k++)
			arena[view_pos(w->dev_at, k)] = y[j]->i[k] - off8(w->dtype);
	}
	return 0;
}
