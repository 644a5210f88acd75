// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU kernels for the nodes of a partitioned graph that the device cannot
 * run: the float operators (and the integer forms of Slice, Resize and
 * GlobalMaxPool) as the ONNX operator specifications define them, opsets
 * 10 to 17. Float arithmetic is float32 as in the specification's
 * reference; sums are accumulated in double.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-model.h"

static const char *const cpu_ops[] = {
	"Softmax", "LogSoftmax", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg",
	"Abs", "Reciprocal", "Erf", "LeakyRelu", "HardSigmoid", "HardSwish", "Div",
	"Slice", "Resize", "Upsample", "GlobalMaxPool", "ReduceMean",
	"BatchNormalization", "Split", NULL,
};

const char *cpu_only_op_name(int i)
{
	return i >= 0 && i < (int)(sizeof(cpu_ops) / sizeof(cpu_ops[0])) ? cpu_ops[i] : NULL;
}

/* CPU ops that also take integers (data movement, max), Split included. */
const char *const cpu_integer_ops = " Slice Resize Upsample GlobalMaxPool Split ";

int cpu_only_op(const struct node *n)
{
	for (int i = 0; cpu_ops[i] && !n->foreign; i++)
		if (!strcmp(n->op, cpu_ops[i]))
			return 1;
	return 0;
}

static float elem(const struct tensor *t, size_t k)
{
	return t->f ? t->f[k] : (float)t->i[k];
}

static struct tensor *unary_f(const struct model *m, const struct node *n, struct tensor **a)
{
	int opset = m->opset;
	const struct tensor *x = a[0];
	struct tensor *y = tensor_new(DT_FLOAT, x->rank, x->dim);
	const char *op = n->op;
	float alpha = attr_float(n, "alpha", !strcmp(op, "LeakyRelu") ? 0.01f : 0.2f);
	float beta = attr_float(n, "beta", 0.5f), lo = -INFINITY, hi = INFINITY;

	if (!strcmp(op, "Clip")) {
		lo = opset < 11 ? attr_float(n, "min", lo) : a[1] ? elem(a[1], 0) : lo;
		hi = opset < 11 ? attr_float(n, "max", hi) : a[2] ? elem(a[2], 0) : hi;
	}
	for (size_t k = 0; k < x->n; k++) {
		float v = x->f[k], r;

		if (!strcmp(op, "Relu"))
			r = v > 0 ? v : 0;
		else if (!strcmp(op, "Clip"))
			r = v < lo ? lo : v > hi ? hi : v;
		else if (!strcmp(op, "Sigmoid"))
			r = 1.0f / (1.0f + expf(-v));
		else if (!strcmp(op, "Tanh"))
			r = tanhf(v);
		else if (!strcmp(op, "Exp"))
			r = expf(v);
		else if (!strcmp(op, "Log"))
			r = logf(v);
		else if (!strcmp(op, "Sqrt"))
			r = sqrtf(v);
		else if (!strcmp(op, "Neg"))
			r = -v;
		else if (!strcmp(op, "Abs"))
			r = fabsf(v);
		else if (!strcmp(op, "Reciprocal"))
			r = 1.0f / v;
		else if (!strcmp(op, "Erf"))
			r = erff(v);
		else if (!strcmp(op, "LeakyRelu"))
			r = v < 0 ? alpha * v : v;
		else if (!strcmp(op, "HardSigmoid"))
			r = fmaxf(0, fminf(1, alpha * v + beta));
		else	/* HardSwish */
			r = v * fmaxf(0, fminf(1, v / 6 + 0.5f));
		y->f[k] = r;
	}
	return y;
}

static struct tensor *binary_f(const struct model *m __attribute__((unused)),
				const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0], *z = a[1];
	int rank = x->rank > z->rank ? x->rank : z->rank;
	int64_t d[MAX_RANK];
	struct tensor *y;

	for (int i = 0; i < rank; i++) {
		int ix = i - (rank - x->rank), iz = i - (rank - z->rank);
		int64_t dx = ix >= 0 ? x->dim[ix] : 1, dz = iz >= 0 ? z->dim[iz] : 1;

		if (dx != dz && dx != 1 && dz != 1) {
			errorf("shapes do not broadcast");
			return NULL;
		}
		d[i] = dx > dz ? dx : dz;
	}
	y = tensor_new(DT_FLOAT, rank, d);
	for (size_t k = 0; k < y->n; k++) {
		float u = elem(x, tensor_bidx(x, y, k)), v = elem(z, tensor_bidx(z, y, k));

		y->f[k] = !strcmp(n->op, "Add") ? u + v : !strcmp(n->op, "Sub") ? u - v :
			  !strcmp(n->op, "Mul") ? u * v : u / v;
	}
	return y;
}

static int norm_axis(int64_t axis, int rank)
{
	return axis < 0 ? axis + rank : axis;
}

/* Softmax and LogSoftmax: opset < 13 over the 2-D coercion at axis. */
static struct tensor *softmax(const struct model *m, const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	int axis = norm_axis(attr_int(n, "axis", m->opset < 13 ? 1 : -1), x->rank);
	size_t outer = 1, len = 1, inner = 1;
	struct tensor *y;

	if (axis < 0 || axis >= x->rank) {
		errorf("axis out of range");
		return NULL;
	}
	for (int i = 0; i < x->rank; i++)
		*(i < axis ? &outer : i == axis || m->opset < 13 ? &len : &inner) *= x->dim[i];
	y = tensor_new(DT_FLOAT, x->rank, x->dim);
	for (size_t o = 0; o < outer; o++)
		for (size_t in = 0; in < inner; in++) {
			const float *p = x->f + o * len * inner + in;
			float *q = y->f + o * len * inner + in, mx = -INFINITY;
			double sum = 0;

			for (size_t k = 0; k < len; k++)
				mx = fmaxf(mx, p[k * inner]);
			for (size_t k = 0; k < len; k++)
				sum += q[k * inner] = expf(p[k * inner] - mx);
			for (size_t k = 0; k < len; k++)
				q[k * inner] = n->op[0] == 'L' ? p[k * inner] - mx - (float)log(sum) :
					       q[k * inner] / (float)sum;
		}
	return y;
}

/* Row-major element index of multi-index c. */
static size_t flat(const int64_t *dim, int rank, const int64_t *c)
{
	size_t k = 0;

	for (int i = 0; i < rank; i++)
		k = k * dim[i] + c[i];
	return k;
}

static void unflat(const int64_t *dim, int rank, size_t k, int64_t *c)
{
	for (int i = rank - 1; i >= 0; i--) {
		c[i] = k % dim[i];
		k /= dim[i];
	}
}

static struct tensor *slice(const struct model *m, const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	int64_t st[MAX_RANK] = { 0 }, step[MAX_RANK], d[MAX_RANK], v[MAX_RANK], c[MAX_RANK];
	int64_t starts[MAX_RANK], ends[MAX_RANK], axes[MAX_RANK], steps[MAX_RANK];
	int ns;
	struct tensor *y;

	if (m->opset < 10) {
		ns = attr_ints(n, "starts", starts, MAX_RANK);
		attr_ints(n, "ends", ends, MAX_RANK);
		if (!attr_ints(n, "axes", axes, MAX_RANK))
			for (int i = 0; i < ns; i++)
				axes[i] = i;
		for (int i = 0; i < ns; i++)
			steps[i] = 1;
	} else {
		ns = a[1]->n;
		for (int i = 0; i < ns && i < MAX_RANK; i++) {
			starts[i] = a[1]->i[i];
			ends[i] = a[2]->i[i];
			axes[i] = a[3] ? a[3]->i[i] : i;
			steps[i] = a[4] ? a[4]->i[i] : 1;
		}
	}
	for (int i = 0; i < x->rank; i++)
		d[i] = x->dim[i], step[i] = 1;
	for (int i = 0; i < ns && i < MAX_RANK; i++) {
		int ax = norm_axis(axes[i], x->rank);
		int64_t dim, b = starts[i], e = ends[i], s = steps[i];

		/* Steps beyond any dimension act as the dimension. */
		if (ax < 0 || ax >= x->rank || !s) {
			errorf("bad axes or steps");
			return NULL;
		}
		dim = x->dim[ax];
		s = s > dim ? dim : s < -dim ? -dim : s;
		b = b > dim ? dim : b < -dim - 1 ? -dim - 1 : b;
		e = e > dim ? dim : e < -dim - 1 ? -dim - 1 : e;
		b += b < 0 ? dim : 0;
		e += e < 0 ? dim : 0;
		if (s > 0) {
			b = b < 0 ? 0 : b > dim ? dim : b;
			e = e < 0 ? 0 : e > dim ? dim : e;
			d[ax] = e > b ? (e - b + s - 1) / s : 0;
		} else {
			b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
			e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
			d[ax] = b > e ? (b - e - s - 1) / -s : 0;
		}
		st[ax] = b;
		step[ax] = s;
	}
	y = tensor_new(x->dtype, x->rank, d);
	for (size_t k = 0; k < y->n; k++) {
		size_t src;

		unflat(d, x->rank, k, c);
		for (int i = 0; i < x->rank; i++)
			v[i] = st[i] + c[i] * step[i];
		src = flat(x->dim, x->rank, v);
		if (y->f)
			y->f[k] = x->f[src];
		else
			y->i[k] = x->i[src];
	}
	return y;
}

/* Gemm (2-D) and MatMul ([.., M, K] x [.., K, N], batches broadcast) */
static struct tensor *gemm_f(const struct model *m __attribute__((unused)),
				const struct node *n, struct tensor **a)
{
	const struct tensor *A = a[0], *B = a[1], *C = n->nin > 2 ? a[2] : NULL;
	int gemm = !strcmp(n->op, "Gemm"), br;
	int ta = gemm && attr_int(n, "transA", 0), tb = gemm && attr_int(n, "transB", 0);
	float alpha = gemm ? attr_float(n, "alpha", 1) : 1, beta = gemm ? attr_float(n, "beta", 1) : 1;
	int64_t M, K, N, bd[MAX_RANK], yd[MAX_RANK], nb = 1;
	struct tensor *y;

	if (!B || !A->f || !B->f || A->rank < 2 || B->rank < 2 ||
	    (gemm && (A->rank != 2 || B->rank != 2))) {
		errorf("only float [.., M, K] x [.., K, N] products");
		return NULL;
	}
	M = A->dim[A->rank - (ta ? 1 : 2)], K = A->dim[A->rank - (ta ? 2 : 1)];
	N = B->dim[B->rank - (tb ? 2 : 1)];
	br = (A->rank > B->rank ? A->rank : B->rank) - 2;
	for (int i = 0; i < br; i++) {
		int64_t da = i - br + A->rank - 2 >= 0 ? A->dim[i - br + A->rank - 2] : 1;
		int64_t db = i - br + B->rank - 2 >= 0 ? B->dim[i - br + B->rank - 2] : 1;

		if (da != db && da != 1 && db != 1) {
			errorf("batch dimensions do not broadcast");
			return NULL;
		}
		nb *= bd[i] = yd[i] = da > db ? da : db;
	}
	if (B->dim[B->rank - (tb ? 1 : 2)] != K) {
		errorf("inner dimensions differ");
		return NULL;
	}
	yd[br] = M, yd[br + 1] = N;
	for (int i = 0; C && i < C->rank; i++) {	/* C broadcasts to [M, N] */
		int64_t want = C->rank - i > 2 ? 0 : yd[br + 2 - (C->rank - i)];

		if (C->rank > 2 || (C->dim[i] != 1 && C->dim[i] != want)) {
			errorf("C does not broadcast to [M, N]");
			return NULL;
		}
	}
	y = tensor_new(DT_FLOAT, br + 2, yd);
	for (int64_t bt = 0; bt < nb; bt++) {
		const float *pa = A->f + bcast_index(A->rank - 2, A->dim, br, bd, bt) * M * K;
		const float *pb = B->f + bcast_index(B->rank - 2, B->dim, br, bd, bt) * K * N;

		for (int64_t i = 0; i < M; i++)
			for (int64_t o = 0; o < N; o++) {
				float acc = 0;

				for (int64_t k = 0; k < K; k++)
					acc += pa[ta ? k * M + i : i * K + k] * pb[tb ? o * K + k : k * N + o];
				acc *= alpha;
				if (C)
					acc += beta * elem(C, bcast_index(C->rank, C->dim, 2, yd + br,
									 i * N + o));
				y->f[(bt * M + i) * N + o] = acc;
			}
	}
	return y;
}

/* MaxPool, AveragePool in float (requantizing QDQ pools run here) */
static struct tensor *pool_f(const struct model *m __attribute__((unused)),
				const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	int avg = !strcmp(n->op, "AveragePool"), incl = attr_int(n, "count_include_pad", 0);
	int64_t k[2], st[2] = { 1, 1 }, dl[2] = { 1, 1 }, pd[4] = { 0 }, od[4];
	const char *ap = attr_string(n, "auto_pad", "NOTSET");
	struct tensor *y;

	if (x->rank != 4 || n->nout > 1 || attr_ints(n, "kernel_shape", k, 2) != 2 ||
	    attr_ints(n, "strides", st, 2) > 2 || attr_ints(n, "dilations", dl, 2) > 2 ||
	    attr_ints(n, "pads", pd, 4) > 4 || attr_int(n, "ceil_mode", 0)) {
		errorf("only 2-D pools without ceil_mode or indices");
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		int64_t in = x->dim[2 + i], ext = dl[i] * (k[i] - 1) + 1;

		if (!strncmp(ap, "SAME", 4)) {
			int64_t o = (in + st[i] - 1) / st[i], t = (o - 1) * st[i] + ext - in;

			t = t < 0 ? 0 : t;
			pd[i] = !strcmp(ap, "SAME_UPPER") ? t / 2 : t - t / 2;
			pd[i + 2] = t - pd[i];
		} else if (!strcmp(ap, "VALID")) {
			pd[i] = pd[i + 2] = 0;
		}
		od[2 + i] = (in + pd[i] + pd[i + 2] - ext) / st[i] + 1;
		if (od[2 + i] < 1 || st[i] < 1 || dl[i] < 1 || pd[i] >= ext || pd[i + 2] >= ext) {
			errorf("window out of range");
			return NULL;
		}
	}
	od[0] = x->dim[0], od[1] = x->dim[1];
	y = tensor_new(DT_FLOAT, 4, od);
	for (int64_t p = 0; p < od[0] * od[1]; p++)
		for (int64_t oy = 0; oy < od[2]; oy++)
			for (int64_t ox = 0; ox < od[3]; ox++) {
				float best = -INFINITY, sum = 0;
				int64_t cnt = 0;

				for (int64_t ky = 0; ky < k[0]; ky++)
					for (int64_t kx = 0; kx < k[1]; kx++) {
						int64_t iy = oy * st[0] + ky * dl[0] - pd[0];
						int64_t ix = ox * st[1] + kx * dl[1] - pd[1];
						float v;

						if (iy < 0 || iy >= x->dim[2] || ix < 0 || ix >= x->dim[3]) {
							cnt += incl;
							continue;
						}
						v = x->f[(p * x->dim[2] + iy) * x->dim[3] + ix];
						best = v > best ? v : best;
						sum += v;
						cnt++;
					}
				y->f[(p * od[2] + oy) * od[3] + ox] = avg ? sum / cnt : best;
			}
	return y;
}

/* Pad in float: a requantizing QDQ Pad, or modes edge and reflect */
static struct tensor *pad_f(const struct model *m, const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	const char *mode = attr_string(n, "mode", "constant");
	int64_t pads[2 * MAX_RANK] = { 0 }, d[MAX_RANK], c[MAX_RANK];
	float value = 0;
	struct tensor *y;
	int np;

	if (strcmp(mode, "constant") && strcmp(mode, "edge") && strcmp(mode, "reflect")) {
		errorf("Pad mode=%s not supported", mode);
		return NULL;
	}
	if (m->opset >= 11) {
		np = a[1] && a[1]->i && !node_in(n, 3) ? (int)a[1]->n : -1;
		for (int i = 0; i < np && i < 2 * MAX_RANK; i++)
			pads[i] = a[1]->i[i];
		value = a[2] ? elem(a[2], 0) : 0;
	} else {
		np = attr_ints(n, "pads", pads, 2 * MAX_RANK);
		value = attr_float(n, "value", 0);
	}
	if (np != 2 * x->rank) {
		errorf("pads do not match the rank");
		return NULL;
	}
	for (int i = 0; i < x->rank; i++) {
		d[i] = x->dim[i] + pads[i] + pads[i + x->rank];
		if (d[i] < 0 || (*mode != 'c' && x->dim[i] < 1) ||
		    (*mode == 'r' && x->dim[i] == 1 && (pads[i] > 0 || pads[i + x->rank] > 0))) {
			errorf("pads out of range for mode %s", mode);
			return NULL;
		}
	}
	y = tensor_new(DT_FLOAT, x->rank, d);
	for (size_t k = 0; k < y->n; k++) {
		int inside = 1;

		unflat(d, x->rank, k, c);
		for (int i = 0; i < x->rank; i++) {
			int64_t e = x->dim[i] - 1;

			c[i] -= pads[i];
			if (*mode == 'e')	/* edge: the nearest element */
				c[i] = c[i] < 0 ? 0 : c[i] > e ? e : c[i];
			else if (*mode == 'r')	/* reflect: mirrored, edge once */
				while (e > 0 && (c[i] < 0 || c[i] > e))
					c[i] = c[i] < 0 ? -c[i] : 2 * e - c[i];
			inside &= c[i] >= 0 && c[i] <= e;
		}
		y->f[k] = inside ? x->f[flat(x->dim, x->rank, c)] : value;
	}
	return y;
}

/* Source coordinate of output index o along a dimension. */
/* roi: the axis's start and end (tf_crop_and_resize) */
static double resize_coord(const char *mode, int64_t o, int64_t in, int64_t out, double scale,
			   const double *roi)
{
	if (!strcmp(mode, "tf_crop_and_resize"))
		return out > 1 ? roi[0] * (in - 1) + o * (roi[1] - roi[0]) * (in - 1) / (out - 1) :
				 0.5 * (roi[0] + roi[1]) * (in - 1);
	/* length_resized is in * scale, not the rounded size (as ONNX's tests) */
	if (!strcmp(mode, "align_corners"))
		return in * scale <= 1 ? 0 : (double)o * (in - 1) / (in * scale - 1);
	if (!strcmp(mode, "asymmetric"))
		return o / scale;
	if (!strcmp(mode, "pytorch_half_pixel") && out == 1)
		return 0;
	if (!strcmp(mode, "tf_half_pixel_for_nn"))
		return (o + 0.5) / scale;
	return (o + 0.5) / scale - 0.5;	/* half_pixel, pytorch_half_pixel */
}

static int64_t nearest(const char *mode, double x, int64_t in)
{
	int64_t r;

	if (!strcmp(mode, "floor"))
		r = floor(x);
	else if (!strcmp(mode, "ceil"))
		r = ceil(x);
	else if (x - floor(x) == 0.5)
		r = !strcmp(mode, "round_prefer_ceil") ? ceil(x) : floor(x);
	else
		r = llround(x);
	return r < 0 ? 0 : r >= in ? in - 1 : r;
}

/*
 * The 4 taps of cubic interpolation at x over [0, n): indices (edge
 * clamped) and weights, with coefficient A; with exclude_outside the taps
 * outside get 0 and the others are renormalized.
 */
static void cubic_taps(double x, int64_t n, double A, int exclude, int64_t *idx, double *w)
{
	int64_t x0 = floor(x);
	double t = x - x0, sum = 0;
	double u[4] = { t + 1, t, 1 - t, 2 - t };

	for (int j = 0; j < 4; j++) {
		double d = u[j];
		int64_t i = x0 - 1 + j;

		w[j] = j == 1 || j == 2 ? ((A + 2) * d - (A + 3)) * d * d + 1 :
		       ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
		if (exclude && (i < 0 || i >= n))
			w[j] = 0;
		sum += w[j];
		idx[j] = i < 0 ? 0 : i >= n ? n - 1 : i;
	}
	for (int j = 0; exclude && sum && j < 4; j++)
		w[j] /= sum;
}

/* Resize (opset 10+) and Upsample: nearest, (multi)linear and cubic modes. */
static struct tensor *resize(const struct model *m, const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	int old = m->opset < 11 || !strcmp(n->op, "Upsample");
	const struct tensor *scales = old ? a[1] : a[2], *sizes = old ? NULL : a[3];
	char mode[32], cmode[32], nmode[32];
	double scale[MAX_RANK], roi[MAX_RANK][2];
	double A = attr_float(n, "cubic_coeff_a", -0.75f);
	float extra = attr_float(n, "extrapolation_value", 0);
	int exclude = attr_int(n, "exclude_outside", 0);
	int64_t d[MAX_RANK], c[MAX_RANK];
	struct tensor *y;

	snprintf(mode, sizeof(mode), "%s", attr_string(n, "mode", "nearest"));
	snprintf(cmode, sizeof(cmode), "%s", old ? "asymmetric" :
		 attr_string(n, "coordinate_transformation_mode", "half_pixel"));
	snprintf(nmode, sizeof(nmode), "%s", old ? "floor" :
		 attr_string(n, "nearest_mode", "round_prefer_floor"));
	if (strcmp(mode, "nearest") && strcmp(mode, "linear") && strcmp(mode, "cubic")) {
		errorf("mode '%s' not supported", mode);
		return NULL;
	}
	if (!op_in(" half_pixel pytorch_half_pixel align_corners asymmetric"
		   " tf_half_pixel_for_nn tf_crop_and_resize ", cmode)) {
		errorf("coordinate_transformation_mode '%s' not supported", cmode);
		return NULL;
	}
	if (strcmp(mode, "nearest") && !x->f) {
		errorf("%s mode on integers not supported", mode);
		return NULL;
	}
	for (int i = 0; i < x->rank; i++)
		roi[i][0] = 0, roi[i][1] = 1;
	if (!strcmp(cmode, "tf_crop_and_resize")) {
		const struct tensor *r = old ? NULL : a[1];

		if (!r || r->n != 2 * (size_t)x->rank) {
			errorf("tf_crop_and_resize needs a roi of 2 x rank");
			return NULL;
		}
		for (int i = 0; i < x->rank; i++)
			roi[i][0] = elem(r, i), roi[i][1] = elem(r, i + x->rank);
	}
	if (sizes && sizes->n == (size_t)x->rank) {
		for (int i = 0; i < x->rank; i++) {
			d[i] = sizes->i[i];
			scale[i] = (double)d[i] / x->dim[i];
		}
	} else if (scales && scales->n == (size_t)x->rank) {
		for (int i = 0; i < x->rank; i++) {
			scale[i] = elem(scales, i);
			d[i] = floor(x->dim[i] * scale[i]);
		}
	} else {
		errorf("needs scales or sizes of rank %d", x->rank);
		return NULL;
	}
	y = tensor_new(x->dtype, x->rank, d);
	for (size_t k = 0; k < y->n; k++) {
		int64_t lo[MAX_RANK], hi[MAX_RANK], ti[MAX_RANK][4], v[MAX_RANK];
		double w[MAX_RANK], tw[MAX_RANK][4], acc = 0;
		int outside = 0;

		unflat(d, x->rank, k, c);
		for (int i = 0; i < x->rank; i++) {
			double s = resize_coord(cmode, c[i], x->dim[i], d[i], scale[i], roi[i]);

			/* tf_crop_and_resize: outside the input, extrapolation_value */
			outside |= !strcmp(cmode, "tf_crop_and_resize") &&
				   (s < 0 || s > x->dim[i] - 1);
			if (!strcmp(mode, "cubic")) {
				cubic_taps(s, x->dim[i], A, exclude, ti[i], tw[i]);
				continue;
			}
			if (!strcmp(mode, "nearest")) {
				lo[i] = hi[i] = nearest(nmode, s, x->dim[i]);
				w[i] = 0;
				continue;
			}
			s = s < 0 ? 0 : s > x->dim[i] - 1 ? x->dim[i] - 1 : s;
			lo[i] = floor(s);
			hi[i] = lo[i] + 1 < x->dim[i] ? lo[i] + 1 : lo[i];
			w[i] = s - lo[i];
		}
		if (outside && y->f) {
			y->f[k] = extra;
			continue;
		}
		if (!strcmp(mode, "cubic")) {
			/* the 4^rank taps, odometer order; zero weights skipped */
			int j[MAX_RANK] = { 0 }, i;

			do {
				double wt = 1;

				for (i = 0; i < x->rank && wt; i++) {
					wt *= tw[i][j[i]];
					v[i] = ti[i][j[i]];
				}
				if (wt)
					acc += wt * x->f[flat(x->dim, x->rank, v)];
				for (i = x->rank - 1; i >= 0 && ++j[i] == 4; i--)
					j[i] = 0;
			} while (i >= 0);
			y->f[k] = acc;
			continue;
		}
		if (!strcmp(mode, "nearest")) {
			size_t src = flat(x->dim, x->rank, lo);

			if (y->f)
				y->f[k] = x->f[src];
			else
				y->i[k] = x->i[src];
			continue;
		}
		/* The 2^rank corners, weighted. */
		for (unsigned int corner = 0; corner < 1u << x->rank; corner++) {
			double wt = 1;

			for (int i = 0; i < x->rank; i++) {
				int up = corner >> i & 1;

				v[i] = up ? hi[i] : lo[i];
				wt *= up ? w[i] : 1 - w[i];
			}
			if (wt)
				acc += wt * x->f[flat(x->dim, x->rank, v)];
		}
		y->f[k] = acc;
	}
	return y;
}

/* GlobalMaxPool, and ReduceMean over its axes. */
static struct tensor *reduce(const struct model *m, const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	int gmax = !strcmp(n->op, "GlobalMaxPool"), red[MAX_RANK] = { 0 }, nax = 0;
	int keep = gmax || attr_int(n, "keepdims", 1);
	int64_t axes[MAX_RANK], d[MAX_RANK], c[MAX_RANK], o[MAX_RANK];
	size_t cnt = 1;
	struct tensor *y;
	double *acc;
	int rank = 0;

	if (gmax) {
		for (int i = 2; i < x->rank; i++)
			axes[nax++] = i;
	} else if (m->opset >= 18 && a[1]) {
		for (size_t i = 0; i < a[1]->n && i < MAX_RANK; i++)
			axes[nax++] = a[1]->i[i];
	} else {
		nax = attr_ints(n, "axes", axes, MAX_RANK);
	}
	if (!nax && !(m->opset >= 18 && attr_int(n, "noop_with_empty_axes", 0)))
		for (int i = 0; i < x->rank; i++)
			axes[nax++] = i;
	for (int i = 0; i < nax; i++) {
		int ax = norm_axis(axes[i], x->rank);

		if (ax < 0 || ax >= x->rank) {
			errorf("axis out of range");
			return NULL;
		}
		red[ax] = 1;
	}
	for (int i = 0; i < x->rank; i++) {
		if (red[i])
			cnt *= x->dim[i];
		if (!red[i] || keep)
			d[rank++] = red[i] ? 1 : x->dim[i];
	}
	if (!gmax && !x->f) {
		errorf("integer ReduceMean not supported");
		return NULL;
	}
	y = tensor_new(x->dtype, rank, d);
	acc = calloc(y->n + 1, sizeof(*acc));
	for (size_t k = 0; k < y->n; k++)
		acc[k] = gmax ? -INFINITY : 0;
	for (size_t k = 0; k < x->n; k++) {
		int r = 0;
		size_t dst;

		unflat(x->dim, x->rank, k, c);
		for (int i = 0; i < x->rank; i++)
			if (!red[i] || keep)
				o[r++] = red[i] ? 0 : c[i];
		dst = flat(d, rank, o);
		acc[dst] = gmax ? fmax(acc[dst], elem(x, k)) : acc[dst] + elem(x, k);
	}
	for (size_t k = 0; k < y->n; k++) {
		if (y->f)
			y->f[k] = gmax ? acc[k] : acc[k] / cnt;
		else
			y->i[k] = acc[k];
	}
	free(acc);
	return y;
}

static struct tensor *batchnorm(const struct model *m __attribute__((unused)),
				const struct node *n, struct tensor **a)
{
	const struct tensor *x = a[0];
	float eps = attr_float(n, "epsilon", 1e-5f);
	size_t inner = 1;
	struct tensor *y;

	if (n->nout > 1 || attr_int(n, "training_mode", 0) || x->rank < 2) {
		errorf("only inference on rank >= 2 is supported");
		return NULL;
	}
	for (int i = 2; i < x->rank; i++)
		inner *= x->dim[i];
	y = tensor_new(DT_FLOAT, x->rank, x->dim);
	for (size_t k = 0; k < x->n; k++) {
		size_t ch = k / inner % x->dim[1];

		y->f[k] = (x->f[k] - a[3]->f[ch]) / sqrtf(a[4]->f[ch] + eps) * a[1]->f[ch] +
			  a[2]->f[ch];
	}
	return y;
}

/* Split (opsets 11 to 17): the sizes from input 1 or the attribute, or equal. */
int cpu_split(const struct model *m, const struct node *n, struct tensor **a,
	      struct tensor **y)
{
	const struct tensor *x = a[0];
	int axis = norm_axis(attr_int(n, "axis", 0), x->rank);
	int64_t sizes[4], d[MAX_RANK], sum = 0, outer = 1, inner = 1;
	int ns = m->opset >= 13 ? (a[1] ? (int)a[1]->n : 0) : attr_ints(n, "split", sizes, 4);

	if (axis < 0 || axis >= x->rank || ns > n->nout || (ns && ns != n->nout))
		return errorf("bad axis or split");
	for (int k = 0; k < n->nout; k++) {
		if (m->opset >= 13 && ns)
			sizes[k] = a[1]->i[k];
		else if (!ns)
			sizes[k] = x->dim[axis] / n->nout;
		if (sizes[k] < 0)
			return errorf("negative split");
		sum += sizes[k];
	}
	if (sum != x->dim[axis])
		return errorf("the parts do not add up to the axis");
	for (int i = 0; i < x->rank; i++)
		*(i < axis ? &outer : &inner) *= i == axis ? 1 : x->dim[i];
	for (int k = 0, off = 0; k < n->nout; off += sizes[k++]) {
		memcpy(d, x->dim, sizeof(d));
		d[axis] = sizes[k];
		y[k] = tensor_new(x->dtype, x->rank, d);
		for (int64_t o = 0; o < outer; o++) {
			size_t src = ((size_t)o * x->dim[axis] + off) * inner;
			size_t dst = (size_t)o * sizes[k] * inner, cnt = sizes[k] * inner;

			if (x->f)
				memcpy(y[k]->f + dst, x->f + src, cnt * sizeof(*x->f));
			else
				memcpy(y[k]->i + dst, x->i + src, cnt * sizeof(*x->i));
		}
	}
	return 0;
}

/* The float kernels: which ops each one runs. */
static const struct {
	const char *ops;
	struct tensor *(*fn)(const struct model *m, const struct node *n, struct tensor **a);
} kernels[] = {
	{ " Add Sub Mul Div ", binary_f },
	{ " Softmax LogSoftmax ", softmax },
	{ " Slice ", slice },
	{ " Resize Upsample ", resize },
	{ " GlobalMaxPool ReduceMean ", reduce },
	{ " BatchNormalization ", batchnorm },
	{ " Pad ", pad_f },
	{ " Gemm MatMul ", gemm_f },
	{ " MaxPool AveragePool ", pool_f },
	{ " Relu Clip Sigmoid Tanh Exp Log Sqrt Neg Abs Reciprocal Erf LeakyRelu"
	  " HardSigmoid HardSwish ", unary_f },
};

const char *cpu_kernel_ops(int i)
{
	return i >= 0 && i < (int)(sizeof(kernels) / sizeof(kernels[0])) ? kernels[i].ops : NULL;
}

int cpu_kernel(const char *op)
{
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (op_in(kernels[i].ops, op))
			return 1;
	return 0;
}

struct tensor *cpu_node(const struct model *m, const struct node *n, struct tensor **a)
{
	const char *op = n->op;
	if (!a[0] || (!a[0]->f && !op_in(cpu_integer_ops, op))) {
		errorf("input 0 must be float on the CPU");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (op_in(kernels[i].ops, op))
			return kernels[i].fn(m, n, a);
	errorf("no CPU kernel for float %s", op);
	return NULL;
}
