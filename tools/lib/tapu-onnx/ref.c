// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU reference: executes the (QDQ-folded) ONNX graph on host tensors in
 * ONNX layout (NCHW) and native types, with TAPU's integer arithmetic:
 * 32-bit wrapping accumulators, requantisation by quantize_multiplier()
 * pairs with rshift rounding half up, saturation. It shares nothing with
 * the lowering but the scale -> (multiplier, shift) and table formulas.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-model.h"

#define NODE_ERR(n, fmt, ...) \
	errorf("node '%s' (%s): " fmt, (n)->name, (n)->op, ##__VA_ARGS__)

struct env {
	struct binding *b;
	int n, cap;
	struct tensor **own;
	int nown;
};

static struct tensor *get(struct env *e, const char *name)
{
	for (int i = e->n - 1; name && *name && i >= 0; i--)
		if (!strcmp(e->b[i].name, name))
			return e->b[i].t;
	return NULL;
}

static void put(struct env *e, const char *name, struct tensor *t, int own)
{
	if (e->n == e->cap) {
		e->cap = 2 * e->cap + 16;
		e->b = realloc(e->b, e->cap * sizeof(*e->b));
		e->own = realloc(e->own, e->cap * sizeof(*e->own));
	}
	e->b[e->n].name = name;
	e->b[e->n++].t = t;
	if (own)
		e->own[e->nown++] = t;
}

static float sc(const struct tensor *t)
{
	return t ? t->f ? t->f[0] : t->i[0] : 0;
}

static int zp(const struct tensor *t)
{
	return t ? (int)t->i[0] : 0;
}

static int64_t sat(int64_t v, int dtype)
{
	int lo, hi;

	dtype_range(dtype, &lo, &hi);
	return v < lo ? lo : v > hi ? hi : v;
}

/* (multiplier, shift) of xs * ws[c] / ys for each channel c */
struct rq {
	int32_t m[4096];
	uint32_t s[4096];
};

static int rq_init(struct rq *q, const struct tensor *xs, const struct tensor *ws,
		   const struct tensor *ys, int64_t n)
{
	if (n > 4096)
		return errorf("more than 4096 channels");
	for (int64_t c = 0; c < n; c++)
		quantize_multiplier((double)sc(xs) * (double)ws->f[ws->n > 1 ? c : 0] /
				    (double)sc(ys), &q->m[c], &q->s[c]);
	return 0;
}

static int64_t requant(int32_t acc, const struct rq *q, int64_t c, int z, int dtype)
{
	return sat(z + rshift64((int64_t)acc * q->m[c], q->s[c]), dtype);
}

/* QLinearConv: NCHW, groups, pads read as the input zero point. */
static struct tensor *conv(const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0], *w = a[3], *ws = a[4], *b = a[8];
	int64_t g = attr_int(n, "group", 1), k[2] = { w->dim[2], w->dim[3] };
	int64_t st[2] = { 1, 1 }, dl[2] = { 1, 1 }, pd[4] = { 0 }, od[4];
	const char *ap = attr_string(n, "auto_pad", "NOTSET");
	int xz = zp(a[2]), wz = zp(a[5]), yz = zp(a[7]), yt = a[7] ? a[7]->dtype : DT_UINT8;
	int64_t H = x->dim[2], W = x->dim[3], ci = x->dim[1] / g, co = w->dim[0];
	struct tensor *y;
	struct rq q;

	if (rq_init(&q, a[1], ws, a[6], co))
		return NULL;
	attr_ints(n, "strides", st, 2);
	attr_ints(n, "dilations", dl, 2);
	attr_ints(n, "pads", pd, 4);
	for (int i = 0; i < 2; i++) {
		int64_t in = x->dim[2 + i], ext = dl[i] * (k[i] - 1) + 1;

		if (!strncmp(ap, "SAME", 4)) {
			int64_t o = (in + st[i] - 1) / st[i], t = (o - 1) * st[i] + ext - in;

			t = t < 0 ? 0 : t;
			pd[i] = ap[5] == 'U' ? t / 2 : t - t / 2;
			pd[i + 2] = t - pd[i];
		} else if (!strcmp(ap, "VALID")) {
			pd[i] = pd[i + 2] = 0;
		}
		od[2 + i] = (in + pd[i] + pd[i + 2] - ext) / st[i] + 1;
	}
	od[0] = x->dim[0], od[1] = co;
	y = tensor_new(yt, 4, od);
	for (int64_t nn = 0; nn < od[0]; nn++)
		for (int64_t o = 0; o < co; o++)
			for (int64_t oy = 0; oy < od[2]; oy++)
				for (int64_t ox = 0; ox < od[3]; ox++) {
					uint32_t acc = b ? (uint32_t)b->i[o] : 0;
					int64_t grp = o / (co / g);

					for (int64_t c = 0; c < ci; c++)
						for (int64_t ky = 0; ky < k[0]; ky++)
							for (int64_t kx = 0; kx < k[1]; kx++) {
								int64_t iy = oy * st[0] + ky * dl[0] - pd[0];
								int64_t ix = ox * st[1] + kx * dl[1] - pd[1];
								int64_t xv = iy < 0 || iy >= H || ix < 0 || ix >= W ? xz :
									x->i[((nn * x->dim[1] + grp * ci + c) * H + iy) * W + ix];

								acc += (uint32_t)((xv - xz) *
									(w->i[((o * ci + c) * k[0] + ky) * k[1] + kx] - wz));
							}
					y->i[((nn * co + o) * od[2] + oy) * od[3] + ox] =
						requant(acc, &q, o, yz, yt);
				}
	return y;
}

/* QLinearMatMul / QLinearGemm: [.., M, K] x [K, N] or one B per batch. */
static struct tensor *matmul(const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0], *b = a[3], *bs = a[4], *c = a[8];
	int tb = !strcmp(n->op, "QLinearGemm") && attr_int(n, "transB", 0);
	int64_t K = x->dim[x->rank - 1], M = x->dim[x->rank - 2];
	int64_t N = b->dim[b->rank - (tb ? 2 : 1)], batches = x->n / (M * K), od[MAX_RANK];
	int xz = zp(a[2]), bz = zp(a[5]), yz = zp(a[7]), yt = a[7] ? a[7]->dtype : DT_UINT8;
	struct tensor *y;
	struct rq q;

	if (c && (c->n != (size_t)N || !c->i)) {
		errorf("the bias must be int32 [N]");
		return NULL;
	}
	if (b->rank > 2 && (b->n / (K * N) != (size_t)batches || b->rank != x->rank)) {
		errorf("batched B must have the batches of A");
		return NULL;
	}
	if (rq_init(&q, a[1], bs, a[6], N))
		return NULL;
	memcpy(od, x->dim, sizeof(od));
	od[x->rank - 1] = N;
	y = tensor_new(yt, x->rank, od);
	for (int64_t bt = 0; bt < batches; bt++) {
		const int64_t *bm = b->i + (b->rank > 2 ? bt * K * N : 0);

		for (int64_t i = 0; i < M; i++)
			for (int64_t o = 0; o < N; o++) {
				uint32_t acc = c ? (uint32_t)c->i[o] : 0;

				for (int64_t k = 0; k < K; k++)
					acc += (uint32_t)((x->i[(bt * M + i) * K + k] - xz) *
							  (bm[tb ? o * K + k : k * N + o] - bz));
				y->i[(bt * M + i) * N + o] =
					requant(acc, &q, o, yz, yt);
			}
	}
	return y;
}

/*
 * Pools; AVGPOOL divides the int8 (device-domain) sum, ties to the parity
 * of the device-domain zero point, as ONNX rounds relative to it.
 */
static struct tensor *pool(const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	int avg = !!strstr(n->op, "Average"), off = x->dtype == DT_UINT8 ? 128 : 0;
	int q8 = !strncmp(n->op, "QLinear", 7), odd = q8 && (zp(a[2]) - off) & 1;
	int yt = q8 && a[4] ? a[4]->dtype : q8 ? DT_UINT8 : x->dtype;
	/* A requantising average: the sum of x - x_zp, requantised once. */
	int requant = avg && q8 && (sc(a[1]) != sc(a[3]) || zp(a[2]) != zp(a[4]) ||
				    yt != x->dtype);
	int64_t k[2] = { x->dim[2], x->dim[3] }, st[2] = { 1, 1 }, pd[4] = { 0 }, od[4];
	const char *ap = attr_string(n, "auto_pad", "NOTSET");
	int incl = avg && attr_int(n, "count_include_pad", 0), zpv = (q8 ? zp(a[2]) : 0) - off;
	struct tensor *y;
	int32_t rm = 0;
	uint32_t rs = 0;

	if (!strstr(n->op, "Global")) {
		int64_t dl[2] = { 1, 1 };

		attr_ints(n, "kernel_shape", k, 2);
		attr_ints(n, "strides", st, 2);
		attr_ints(n, "pads", pd, 4);
		attr_ints(n, "dilations", dl, 2);
		if (dl[0] != 1 || dl[1] != 1 || attr_int(n, "ceil_mode", 0) ||
		    pd[0] >= k[0] || pd[2] >= k[0] || pd[1] >= k[1] || pd[3] >= k[1] ||
		    st[0] < 1 || st[1] < 1) {
			errorf("integer pools: no dilations or ceil_mode, pads below the kernel");
			return NULL;
		}
	}
	for (int i = 0; i < 2; i++) {
		int64_t in = x->dim[2 + i];

		if (!strncmp(ap, "SAME", 4)) {
			int64_t o = (in + st[i] - 1) / st[i], t = (o - 1) * st[i] + k[i] - in;

			t = t < 0 ? 0 : t;
			pd[i] = ap[5] == 'U' ? t / 2 : t - t / 2;
			pd[i + 2] = t - pd[i];
		} else if (!strcmp(ap, "VALID")) {
			pd[i] = pd[i + 2] = 0;
		}
		od[2 + i] = (in + pd[i] + pd[i + 2] - k[i]) / st[i] + 1;
	}
	od[0] = x->dim[0], od[1] = x->dim[1];
	y = tensor_new(yt, 4, od);
	for (int64_t p = 0; p < od[0] * od[1]; p++)
		for (int64_t oy = 0; oy < od[2]; oy++)
			for (int64_t ox = 0; ox < od[3]; ox++) {
				int64_t best = -1000, sum = 0, cnt = 0;

				for (int64_t ky = 0; ky < k[0]; ky++)
					for (int64_t kx = 0; kx < k[1]; kx++) {
						int64_t iy = oy * st[0] + ky - pd[0], ix = ox * st[1] + kx - pd[1];
						int64_t v;

						if (iy < 0 || iy >= x->dim[2] || ix < 0 || ix >= x->dim[3]) {
							/* counted padding: 0.0, the zero point */
							sum += incl ? zpv : 0;
							cnt += incl;
							continue;
						}
						v = x->i[(p * x->dim[2] + iy) * x->dim[3] + ix] - off;
						best = v > best ? v : best;
						sum += v;
						cnt++;
					}
				if (requant) {
					sum -= cnt * (zp(a[2]) - off);
					quantize_multiplier((double)sc(a[1]) / ((double)sc(a[3]) * cnt),
							    &rm, &rs);
					y->i[(p * od[2] + oy) * od[3] + ox] =
						sat(zp(a[4]) + rshift64(sum * rm, rs), yt);
					continue;
				}
				if (avg) {
					int64_t m = sum < 0 ? -sum : sum, q = m / cnt;

					if (2 * (m % cnt) > cnt ||
					    (2 * (m % cnt) == cnt && (q & 1) != odd))
						q++;
					best = sum < 0 ? -q : q;
				}
				y->i[(p * od[2] + oy) * od[3] + ox] = best + off;
			}
	return y;
}

static struct tensor *unary(const struct node *n, struct tensor **a, int opset)
{
	const struct tensor *x = a[0];
	int q = !strncmp(n->op, "QLinear", 7);
	int yt = q ? a[4] ? a[4]->dtype : DT_UINT8 : x->dtype, lo, hi, mn, mx;
	struct tensor *y = tensor_new(yt, x->rank, x->dim);

	dtype_range(yt, &lo, &hi);
	mn = lo, mx = hi;
	if (lut_op(n->op)) {
		int16_t t[256];
		int xlo, xhi;

		dtype_range(x->dtype, &xlo, &xhi);
		lut_table(n, sc(a[1]), zp(a[2]), xlo, sc(a[3]), zp(a[4]), lo, hi, t);
		for (size_t k = 0; k < x->n; k++)
			y->i[k] = t[x->i[k] - xlo];
		return y;
	}
	if (strstr(n->op, "Relu")) {
		mn = q ? zp(a[4]) : 0;
	} else if (q) {
		mn = quantize_float(a[5] ? sc(a[5]) : opset < 11 ? attr_float(n, "min", -INFINITY) :
				    -INFINITY, sc(a[3]), zp(a[4]), lo, hi);
		mx = quantize_float(a[6] ? sc(a[6]) : opset < 11 ? attr_float(n, "max", INFINITY) :
				    INFINITY, sc(a[3]), zp(a[4]), lo, hi);
	} else {
		mn = a[1] ? zp(a[1]) : opset < 11 ? attr_float(n, "min", lo) : lo;
		mx = a[2] ? zp(a[2]) : opset < 11 ? attr_float(n, "max", hi) : hi;
	}
	if (mn > mx)
		mn = mx;	/* ONNX: min > max gives max everywhere */
	if (q && (sc(a[1]) != sc(a[3]) || zp(a[2]) != zp(a[4]) || yt != x->dtype)) {
		int16_t t[256];
		int xlo, xhi;

		dtype_range(x->dtype, &xlo, &xhi);
		requant_table(sc(a[1]), zp(a[2]), xlo, sc(a[3]), zp(a[4]), mn, mx, t);
		for (size_t k = 0; k < x->n; k++)
			y->i[k] = t[x->i[k] - xlo];
		return y;
	}
	for (size_t k = 0; k < x->n; k++) {
		int64_t v = x->i[k] < mn ? mn : x->i[k];

		y->i[k] = v > mx ? mx : v;
	}
	return y;
}

/* Numpy broadcasting index of output element k in input t. */
size_t tensor_bidx(const struct tensor *t, const struct tensor *y, size_t k)
{
	return bcast_index(t->rank, t->dim, y->rank, y->dim, k);
}

static struct tensor *binary(const struct node *n, struct tensor **a)
{
	int q = !strncmp(n->op, "QLinear", 7), mul = !!strstr(n->op, "Mul");
	const struct tensor *x = a[0], *z = a[q ? 3 : 1];
	int yt = q ? a[7] ? a[7]->dtype : DT_UINT8 : x->dtype, rank = x->rank > z->rank ? x->rank : z->rank;
	int xz = q ? zp(a[2]) : 0, zz = q ? zp(a[5]) : 0, yz = q ? zp(a[7]) : 0;
	int64_t d[MAX_RANK];
	int32_t ma = 1, mb = 1;
	uint32_t s = 0;
	struct tensor *y;

	for (int i = 0; i < rank; i++) {
		int ix = i - (rank - x->rank), iz = i - (rank - z->rank);
		int64_t dx = ix >= 0 ? x->dim[ix] : 1, dz = iz >= 0 ? z->dim[iz] : 1;

		d[i] = dx > dz ? dx : dz;
	}
	if (q && mul)
		quantize_multiplier((double)sc(a[1]) * sc(a[4]) / sc(a[6]), &ma, &s);
	else if (q)
		quantize_pair((double)sc(a[1]) / sc(a[6]), (double)sc(a[4]) / sc(a[6]), &ma, &mb, &s);
	y = tensor_new(yt, rank, d);
	for (size_t k = 0; k < y->n; k++) {
		int64_t u = x->i[tensor_bidx(x, y, k)] - xz, v = z->i[tensor_bidx(z, y, k)] - zz;
		int64_t r = mul ? u * v * ma : !strcmp(n->op, "Sub") ? u * ma - v * mb : u * ma + v * mb;

		y->i[k] = sat(yz + rshift64(r, s), yt);
	}
	return y;
}

static struct tensor *copy_shape(const struct tensor *x, int rank, const int64_t *d)
{
	struct tensor *y;
	size_t n = 1;

	for (int i = 0; i < rank; i++)
		n *= d[i] < 0 ? 0 : d[i];
	if (rank < 0 || rank > MAX_RANK || n != x->n || !x->i) {
		errorf("the new shape does not hold the %zu integer elements", x->n);
		return NULL;
	}
	y = tensor_new(x->dtype, rank, d);
	memcpy(y->i, x->i, x->n * sizeof(*x->i));
	return y;
}

static struct tensor *reshape(const struct node *n, struct tensor **a, int opset)
{
	const struct tensor *x = a[0];
	int64_t d[MAX_RANK], known = 1;
	int r, neg = -1;

	if (strstr(n->op, "queeze")) {
		r = squeeze_shape(n, opset, a[1], x->dim, x->rank, d);
		if (r < 0) {
			errorf("axes not supported");
			return NULL;
		}
		return copy_shape(x, r, d);
	}
	if (!strcmp(n->op, "Flatten")) {
		int64_t ax = attr_int(n, "axis", 1);

		ax += ax < 0 ? x->rank : 0;
		d[0] = d[1] = 1;
		for (int i = 0; i < x->rank; i++)
			d[i >= ax] *= x->dim[i];
		return copy_shape(x, 2, d);
	}
	if (strcmp(n->op, "Reshape"))
		return copy_shape(x, x->rank, x->dim);
	if (!a[1] || !a[1]->i || a[1]->n > MAX_RANK || attr_int(n, "allowzero", 0)) {
		errorf("Reshape: shape input of at most %d dimensions, allowzero=0", MAX_RANK);
		return NULL;
	}
	for (r = 0; r < (int)a[1]->n; r++) {
		d[r] = a[1]->i[r] ? a[1]->i[r] : r < x->rank ? x->dim[r] : -2;
		if (d[r] == -1 && neg < 0)
			neg = r;
		else if (d[r] < 0)
			return errorf("Reshape: bad shape"), NULL;
		else
			known *= d[r];
	}
	if (neg >= 0 && known)
		d[neg] = x->n / known;
	return copy_shape(x, r, d);
}

/* Row-major strides of a tensor. */
static void strides(const struct tensor *t, size_t *s)
{
	size_t m = 1;

	for (int i = t->rank - 1; i >= 0; i--)
		s[i] = m, m *= t->dim[i];
}

static struct tensor *transpose(const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	int64_t perm[MAX_RANK], d[MAX_RANK];
	size_t xs[MAX_RANK];
	struct tensor *y;

	int np = attr_ints(n, "perm", perm, MAX_RANK), seen = 0;

	if (!np)
		for (int i = 0; i < x->rank; i++)
			perm[i] = x->rank - 1 - i;
	else if (np != x->rank)
		return errorf("Transpose: perm is not of the input's rank"), NULL;
	for (int i = 0; i < x->rank; i++) {
		if (perm[i] < 0 || perm[i] >= x->rank || seen & (1 << perm[i]))
			return errorf("Transpose: perm is not a permutation"), NULL;
		seen |= 1 << perm[i];
		d[i] = x->dim[perm[i]];
	}
	if (!x->i)
		return errorf("Transpose: integer input expected"), NULL;
	strides(x, xs);
	y = tensor_new(x->dtype, x->rank, d);
	for (size_t k = 0; k < y->n; k++) {
		size_t r = k, src = 0;

		for (int i = y->rank - 1; i >= 0; i--) {
			src += r % d[i] * xs[perm[i]];
			r /= d[i];
		}
		y->i[k] = x->i[src];
	}
	return y;
}

static struct tensor *concat(const struct node *n, struct tensor **a)
{
	int64_t ax = attr_int(n, "axis", 0), d[MAX_RANK], outer = 1, pos = 0;
	struct tensor *y;

	ax += ax < 0 ? a[0]->rank : 0;
	if (ax < 0 || ax >= a[0]->rank)
		return errorf("Concat: axis out of range"), NULL;
	for (int i = 0; i < n->nin; i++) {
		if (!a[i] || !a[i]->i || a[i]->rank != a[0]->rank)
			return errorf("Concat: inputs differ in rank or type"), NULL;
		for (int k = 0; k < a[0]->rank; k++)
			if (k != ax && a[i]->dim[k] != a[0]->dim[k])
				return errorf("Concat: inputs differ beside the axis"), NULL;
	}
	memcpy(d, a[0]->dim, sizeof(d));
	for (int i = 1; i < n->nin; i++)
		d[ax] += a[i]->dim[ax];
	y = tensor_new(a[0]->dtype, a[0]->rank, d);
	for (int i = 0; i < ax; i++)
		outer *= d[i];
	for (int64_t o = 0; o < outer; o++)
		for (int i = 0; i < n->nin; i++) {
			size_t chunk = a[i]->n / outer;

			memcpy(y->i + pos, a[i]->i + o * chunk, chunk * sizeof(*y->i));
			pos += chunk;
		}
	return y;
}

/* QLinearConcat: each input requantized to the output's parameters. */
static struct tensor *qconcat(const struct node *n, struct tensor **a)
{
	struct tensor *r[MAX_NODE_IN], *y;
	struct node c = *n;
	int yt = a[1] ? a[1]->dtype : DT_UINT8, lo, hi;

	c.nin = (n->nin - 2) / 3;
	if (n->nin < 5 || (n->nin - 2) % 3 || !a[0] || a[0]->n != 1 || (a[1] && a[1]->n != 1)) {
		errorf("QLinearConcat: y scale, zero point (one each), then x, scale, zero point "
		       "per input");
		return NULL;
	}
	dtype_range(yt, &lo, &hi);
	for (int i = 0; i < c.nin; i++) {
		const struct tensor *x = a[2 + 3 * i];
		int16_t t[256];
		int xlo, xhi;

		if (!x || !dtype_is_q8(x->dtype) || !a[3 + 3 * i] || a[3 + 3 * i]->n != 1 ||
		    (a[4 + 3 * i] && a[4 + 3 * i]->n != 1)) {
			for (int j = 0; j < i; j++)
				tensor_free(r[j]);
			errorf("QLinearConcat: input %d is not int8/uint8 quantized per tensor", i);
			return NULL;
		}

		dtype_range(x->dtype, &xlo, &xhi);
		requant_table(sc(a[3 + 3 * i]), zp(a[4 + 3 * i]), xlo, sc(a[0]), zp(a[1]),
			      lo, hi, t);
		r[i] = tensor_new(yt, x->rank, x->dim);
		for (size_t k = 0; k < x->n; k++)
			r[i]->i[k] = t[x->i[k] - xlo];
	}
	y = concat(&c, r);
	for (int i = 0; i < c.nin; i++)
		tensor_free(r[i]);
	return y;
}

static struct tensor *pad(const struct node *n, struct tensor **a, int opset)
{
	const struct tensor *x = a[0];
	int64_t pads[2 * MAX_RANK] = { 0 }, d[MAX_RANK], value;
	size_t xs[MAX_RANK];
	struct tensor *y;

	if (strcmp(attr_string(n, "mode", "constant"), "constant")) {
		errorf("integer Pad: constant mode only");
		return NULL;
	}
	if (opset >= 11) {
		for (size_t i = 0; i < a[1]->n && i < 2 * MAX_RANK; i++)
			pads[i] = a[1]->i[i];
		value = a[2] ? a[2]->i[0] : 0;
	} else {
		attr_ints(n, "pads", pads, 2 * MAX_RANK);
		value = attr_float(n, "value", 0);
	}
	for (int i = 0; i < x->rank; i++)
		d[i] = x->dim[i] + pads[i] + pads[i + x->rank];
	y = tensor_new(x->dtype, x->rank, d);
	strides(x, xs);
	for (size_t k = 0; k < y->n; k++) {
		size_t r = k, src = 0;
		int in = 1;

		for (int i = y->rank - 1; i >= 0; i--) {
			int64_t c = r % d[i] - pads[i];

			r /= d[i];
			in &= c >= 0 && c < x->dim[i];
			src += c * xs[i];
		}
		y->i[k] = in ? x->i[src] : value;
	}
	return y;
}

/* Float tensors through the layout ops: they move the elements' indices. */
const char *const float_layout_ops = " Reshape Flatten Squeeze Unsqueeze Identity Transpose Concat ";

static struct tensor *layout_float(const struct model *m, const struct node *n,
				   struct tensor **a)
{
	struct tensor *idx[MAX_NODE_IN] = { 0 }, *yi, *y;
	int nidx = !strcmp(n->op, "Concat") ? n->nin : 1;
	size_t base = 0;

	for (int i = 0; i < n->nin; i++)
		idx[i] = a[i];
	for (int i = 0; i < nidx; i++) {
		idx[i] = tensor_new(DT_INT64, a[i]->rank, a[i]->dim);
		for (size_t k = 0; k < a[i]->n; k++)
			idx[i]->i[k] = base + k;
		base += a[i]->n;
	}
	yi = !strcmp(n->op, "Transpose") ? transpose(n, idx) :
	     !strcmp(n->op, "Concat") ? concat(n, idx) : reshape(n, idx, m->opset);
	y = yi ? tensor_new(DT_FLOAT, yi->rank, yi->dim) : NULL;
	for (size_t k = 0; y && k < y->n; k++) {
		size_t src = yi->i[k];
		int i = 0;

		while (src >= a[i]->n)
			src -= a[i++]->n;
		y->f[k] = a[i]->f[src];
	}
	for (int i = 0; i < nidx; i++)
		tensor_free(idx[i]);
	tensor_free(yi);
	return y;
}

static struct tensor *node_eval(const struct model *m, const struct node *n,
				 struct tensor **a)
{
	const char *op = n->op;

	if (!op_known(n)) {
		errorf("operator not supported");
		return NULL;
	}
	if (cpu_only_op(n))
		return cpu_node(m, n, a);
	if (!strcmp(op, "QuantizeLinear") || !strcmp(op, "DequantizeLinear"))
		return qdq_apply(op[0] == 'D', a[0], a[1], a[2], attr_int(n, "axis", 1));
	/* The ops that also take floats: on the CPU only (QLinearConcat's
	 * first input is its float output scale). */
	if (a[0] && a[0]->f && strcmp(op, "QLinearConcat")) {
		if (op_in(float_layout_ops, op))
			return layout_float(m, n, a);
		return cpu_node(m, n, a);
	}
	if (!strcmp(op, "QLinearConv"))
		return conv(n, a);
	if (strstr(op, "MatMul") || strstr(op, "Gemm"))
		return matmul(n, a);
	if (strstr(op, "Pool"))
		return pool(n, a);
	if (strstr(op, "Relu") || strstr(op, "Clip") || lut_op(op))
		return unary(n, a, m->opset);
	if (strstr(op, "Add") || strstr(op, "Sub") || strstr(op, "Mul"))
		return binary(n, a);
	if (!strcmp(op, "Transpose"))
		return transpose(n, a);
	if (!strcmp(op, "Concat"))
		return concat(n, a);
	if (!strcmp(op, "QLinearConcat"))
		return qconcat(n, a);
	if (!strcmp(op, "Pad"))
		return pad(n, a, m->opset);
	return reshape(n, a, m->opset);
}

struct tensor *ref_node(const struct model *m, const struct node *n, struct tensor **a)
{
	struct tensor *y = node_eval(m, n, a);
	int lo, hi;

	/* A fused Relu or Clip: its clamp (the output's params at 6, 7). */
	if (y && n->act) {
		dtype_range(y->dtype, &lo, &hi);
		if (fused_act(m, n, sc(a[6]), zp(a[7]), &lo, &hi)) {
			tensor_free(y);
			return NULL;
		}
		for (size_t k = 0; k < y->n; k++)
			y->i[k] = y->i[k] < lo ? lo : y->i[k] > hi ? hi : y->i[k];
	}
	return y;
}

int ref_node_outputs(const struct model *m, const struct node *n, struct tensor **a,
		     struct tensor **y)
{
	if (!strcmp(n->op, "Split") && !n->foreign)
		return a[0] ? cpu_split(m, n, a, y) : errorf("no input");
	if (n->nout != 1)
		return errorf("%d outputs not supported", n->nout);
	y[0] = ref_node(m, n, a);
	return y[0] ? 0 : -1;
}

int ref_run(struct model *m, const struct binding *in, int nin,
	    struct binding *out, int nout)
{
	struct env e = { 0 };
	int ret = 0;

	for (size_t i = 0; i < m->g->n_initializer; i++) {
		struct tensor *t = calloc(1, sizeof(*t));

		if (tensor_from_pb(m->g->initializer[i], t)) {
			free(t);
			ret = -1;
			goto out;
		}
		put(&e, m->g->initializer[i]->name, t, 1);
	}
	for (int i = 0; i < nin; i++)
		put(&e, in[i].name, in[i].t, 0);
	for (int k = 0; k < m->nnodes && !ret; k++) {
		const struct node *n = &m->nodes[k];
		struct tensor *a[MAX_NODE_IN] = { 0 }, *y[4] = { 0 };

		for (int i = 0; i < n->nin; i++) {
			a[i] = get(&e, node_in(n, i));
			if (node_in(n, i) && !a[i]) {
				ret = NODE_ERR(n, "input '%s' unknown", n->in[i]);
				goto out;
			}
		}
		if (ref_node_outputs(m, n, a, y)) {
			ret = NODE_ERR(n, "%.400s", err_msg);
			break;
		}
		for (int j = 0; j < n->nout; j++)
			put(&e, n->out[j], y[j], 1);
	}
	for (int i = 0; i < nout && !ret; i++) {
		const struct tensor *t = get(&e, out[i].name);

		if (!t) {
			ret = errorf("output '%s' not computed", out[i].name);
			break;
		}
		out[i].t = tensor_copy(t);
	}
out:
	for (int i = 0; i < e.nown; i++)
		tensor_free(e.own[i]);
	free(e.own);
	free(e.b);
	return ret;
}
