// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ONNX reading with protobuf-c (the code generated from Debian's onnx.proto),
 * host tensors, attributes, the quantisation arithmetic and the QDQ folding.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-model.h"

_Thread_local char err_msg[512];

int errorf(const char *fmt, ...)
{
	char buf[sizeof(err_msg)];
	va_list ap;

	/* The arguments may quote err_msg itself. */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(err_msg, buf, sizeof(buf));
	return -1;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "libtapu-onnx: out of memory\n");
		exit(1);
	}
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fprintf(stderr, "libtapu-onnx: out of memory\n");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	return strcpy(xcalloc(strlen(s) + 1, 1), s);
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long size;

	if (!f)
		return errorf("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return errorf("%s: cannot seek", path);
	}
	*buf = xcalloc(size, 1);
	*len = fread(*buf, 1, size, f);
	fclose(f);
	if (*len != (size_t)size) {
		free(*buf);
		return errorf("%s: short read", path);
	}
	return 0;
}

static int is_op(const Onnx__NodeProto *n, const char *op)
{
	return n && !strcmp(n->op_type, op) && (!n->domain || !*n->domain);
}

static Onnx__AttributeProto *pb_attr(const Onnx__NodeProto *n, const char *name)
{
	for (size_t i = 0; i < n->n_attribute; i++)
		if (!strcmp(n->attribute[i]->name, name))
			return n->attribute[i];
	return NULL;
}

static void remove_node(Onnx__GraphProto *g, size_t k)
{
	onnx__node_proto__free_unpacked(g->node[k], NULL);
	memmove(&g->node[k], &g->node[k + 1], (g->n_node - k - 1) * sizeof(*g->node));
	g->n_node--;
}

/* Element type of value @name where the graph says it, else 0. */
static int value_type(const Onnx__GraphProto *g, const char *name)
{
	for (size_t i = 0; i < g->n_initializer; i++)
		if (!strcmp(g->initializer[i]->name, name))
			return g->initializer[i]->data_type;
	for (size_t i = 0; i < g->n_input; i++)
		if (!strcmp(g->input[i]->name, name) && g->input[i]->type &&
		    g->input[i]->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
			return g->input[i]->type->tensor_type->elem_type;
	for (size_t i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *n = g->node[i];

		if (n->n_output < 1 || strcmp(n->output[0], name))
			continue;
		if (is_op(n, "DequantizeLinear"))
			return DT_FLOAT;
		if (is_op(n, "Cast") && pb_attr(n, "to"))
			return pb_attr(n, "to")->i;
		if (is_op(n, "QuantizeLinear"))
			return n->n_input > 2 && *n->input[2] ? value_type(g, n->input[2]) :
				DT_UINT8;
	}
	return 0;
}

/* Makes every reader of value @from read @to. */
static void rename_value(Onnx__GraphProto *g, const char *from, const char *to)
{
	for (size_t i = 0; i < g->n_node; i++)
		for (size_t k = 0; k < g->node[i]->n_input; k++)
			if (!strcmp(g->node[i]->input[k], from)) {
				free(g->node[i]->input[k]);
				g->node[i]->input[k] = xstrdup(to);
			}
}

static int is_graph_output(const Onnx__GraphProto *g, const char *name)
{
	for (size_t i = 0; i < g->n_output; i++)
		if (!strcmp(g->output[i]->name, name))
			return 1;
	return 0;
}

static const Onnx__TensorProto *initializer(const struct model *m, const char *name);
static int same_const(const struct model *m, const char *a, const char *b);

/* Appends initializer @name: t's values as @dtype (a Cast's conversion). */
static void add_initializer(Onnx__GraphProto *g, const char *name, int dtype,
			    const struct tensor *t)
{
	size_t es = dtype == DT_INT64 ? 8 : dtype == DT_UINT8 || dtype == DT_INT8 ? 1 : 4;
	Onnx__TensorProto *pb = xcalloc(1, sizeof(*pb));
	uint8_t *d;

	onnx__tensor_proto__init(pb);
	pb->name = xstrdup(name);
	pb->has_data_type = 1;
	pb->data_type = dtype;
	pb->n_dims = t->rank;
	pb->dims = xcalloc(t->rank + 1, sizeof(*pb->dims));
	memcpy(pb->dims, t->dim, t->rank * sizeof(*pb->dims));
	pb->has_raw_data = 1;
	pb->raw_data.len = t->n * es;
	pb->raw_data.data = d = xcalloc(t->n + 1, es);
	for (size_t k = 0; k < t->n; k++) {	/* raw_data is little-endian, as the host */
		int64_t i = t->f ? (int64_t)t->f[k] : t->i[k];
		float f = t->f ? t->f[k] : (float)t->i[k];
		int32_t i32 = i;
		int8_t i8 = i;

		memcpy(d + k * es, dtype == DT_FLOAT ? (void *)&f : dtype == DT_INT64 ?
		       (void *)&i : es == 4 ? (void *)&i32 : (void *)&i8, es);
	}
	g->initializer = xrealloc(g->initializer, (g->n_initializer + 1) * sizeof(*g->initializer));
	g->initializer[g->n_initializer++] = pb;
}

/*
 * ConstantOfShape of a constant shape, and Cast of a constant: folded into
 * an initializer (torch's exports make their biases' zero points so).
 */
static int fold_constant(struct model *m, const Onnx__NodeProto *n)
{
	const Onnx__TensorProto *in = n->n_input == 1 ? initializer(m, n->input[0]) : NULL;
	Onnx__AttributeProto *a = pb_attr(n, is_op(n, "Cast") ? "to" : "value");
	struct tensor x, v = { 0 }, y = { 0 };
	int dtype = DT_FLOAT;

	if (!in || n->n_output != 1 || tensor_from_pb(in, &x))
		return 0;
	if (is_op(n, "Cast") && a && a->i >= DT_FLOAT && a->i <= DT_INT64 &&
	    a->i != 4 && a->i != 5) {	/* not (u)int16 */
		add_initializer(m->g, n->output[0], a->i, &x);
	} else if (is_op(n, "ConstantOfShape") && x.i && x.rank == 1 && x.n <= MAX_RANK &&
		   (!a || (a->t && !tensor_from_pb(a->t, &v) && v.n == 1))) {
		y.rank = x.n;
		y.n = 1;
		for (int i = 0; i < y.rank; i++)
			y.n *= y.dim[i] = x.i[i] < 0 ? 0 : x.i[i];
		if (y.n > (1u << 24)) {
			free(x.i), free(x.f), free(v.i), free(v.f);
			return 0;
		}
		dtype = a ? v.dtype : DT_FLOAT;
		y.i = xcalloc(y.n + 1, sizeof(*y.i));
		for (size_t k = 0; k < y.n; k++)
			y.i[k] = v.i ? v.i[0] : 0;
		if (v.f) {
			y.f = xcalloc(y.n + 1, sizeof(*y.f));
			for (size_t k = 0; k < y.n; k++)
				y.f[k] = v.f[0];
		}
		add_initializer(m->g, n->output[0], dtype, &y);
	} else {
		dtype = -1;
	}
	free(x.i), free(x.f), free(v.i), free(v.f), free(y.i), free(y.f);
	return dtype >= 0;
}

/*
 * Data movement on constants (torch.onnx exports F.pad's pads as a Concat,
 * Reshape, Slice and Transpose of constants): run by the CPU kernels at
 * load, the result an initializer.
 */
static int fold_layout(struct model *m, const Onnx__NodeProto *x)
{
	struct tensor *a[MAX_NODE_IN] = { 0 }, *y = NULL;
	struct node n = { 0 };
	size_t i;

	if ((x->domain && *x->domain) || x->n_output != 1 || !x->n_input ||
	    x->n_input > MAX_NODE_IN || x->n_attribute > 8 ||
	    !op_in(" Concat Reshape Transpose Slice Squeeze Unsqueeze Flatten Identity ",
		   x->op_type))
		return 0;
	for (i = 0; i < x->n_input; i++) {
		const Onnx__TensorProto *pb = *x->input[i] ? initializer(m, x->input[i]) : NULL;

		if (*x->input[i] && !pb)
			break;
		if (pb && (tensor_from_pb(pb, a[i] = xcalloc(1, sizeof(*a[i]))) ||
			   a[i]->n > (1u << 20)))
			break;
	}
	if (i == x->n_input) {
		n.op = x->op_type;
		n.name = x->output[0];
		n.pb = x;
		n.nin = x->n_input;
		n.nout = 1;
		for (i = 0; i < x->n_input; i++)
			n.in[i] = x->input[i];
		n.out[0] = x->output[0];
		y = ref_node(m, &n, a);
		if (y)
			add_initializer(m->g, x->output[0], y->dtype, y);
	}
	for (i = 0; i < x->n_input; i++)
		tensor_free(a[i]);
	tensor_free(y);
	return !!y;
}

/* A QuantizeLinear of the same value with the same parameters as @n (one
 * pair per consumer: ONNX Runtime's DedicatedQDQPair). */
static const Onnx__NodeProto *same_quantize(const struct model *m, const Onnx__NodeProto *n)
{
	if (!is_op(n, "QuantizeLinear") || n->n_input < 2 || n->n_output != 1)
		return NULL;
	for (size_t i = 0; i < m->g->n_node && m->g->node[i] != n; i++) {
		const Onnx__NodeProto *o = m->g->node[i];

		if (is_op(o, "QuantizeLinear") && o->n_input == n->n_input &&
		    !strcmp(o->input[0], n->input[0]) && same_const(m, o->input[1], n->input[1]) &&
		    (n->n_input < 3 || same_const(m, o->input[2], n->input[2])) &&
		    !pb_attr(o, "axis") && !pb_attr(n, "axis"))
			return o;
	}
	return NULL;
}

/*
 * What exporters leave and graph optimizers fold (torch's QDQ export):
 * Constant nodes become initializers, so do ConstantOfShape, Cast and data
 * movement of constants; a Cast to the type its input already has goes; so does a
 * QuantizeLinear that repeats another.
 */
static void simplify(struct model *m)
{
	Onnx__GraphProto *g = m->g;
	size_t k = 0;

	while (k < g->n_node) {
		Onnx__NodeProto *n = g->node[k];
		const Onnx__NodeProto *same;
		Onnx__AttributeProto *a;

		if (!is_graph_output(g, n->n_output ? n->output[0] : "") &&
		    (fold_constant(m, n) || fold_layout(m, n))) {
			remove_node(g, k);
			continue;
		}
		same = is_graph_output(g, n->n_output ? n->output[0] : "") ? NULL :
		       same_quantize(m, n);
		if (same) {
			char *from = xstrdup(n->output[0]), *to = xstrdup(same->output[0]);

			remove_node(g, k);
			rename_value(g, from, to);
			free(from), free(to);
			continue;
		}

		if (is_op(n, "Constant") && n->n_output == 1 &&
		    (a = pb_attr(n, "value")) && a->t) {
			Onnx__TensorProto *t = a->t;

			a->t = NULL;
			free(t->name);
			t->name = xstrdup(n->output[0]);
			g->initializer = xrealloc(g->initializer,
						  (g->n_initializer + 1) * sizeof(*g->initializer));
			g->initializer[g->n_initializer++] = t;
			remove_node(g, k);
			continue;
		}
		if (is_op(n, "Cast") && n->n_input == 1 && n->n_output == 1 &&
		    (a = pb_attr(n, "to")) && a->i == value_type(g, n->input[0]) &&
		    !is_graph_output(g, n->output[0])) {
			char *from = xstrdup(n->output[0]), *to = xstrdup(n->input[0]);

			remove_node(g, k);
			rename_value(g, from, to);
			free(from), free(to);
			k = 0;	/* a Cast earlier in the list may now be a no-op */
			continue;
		}
		k++;
	}
}

int model_load_buf(const void *buf, size_t len, const char *path, struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->pb = onnx__model_proto__unpack(NULL, len, buf);
	if (!m->pb)
		return errorf("%s: not an ONNX model (protobuf decoding failed)", path);
	m->g = m->pb->graph;
	if (!m->g)
		return model_free(m), errorf("%s: ONNX model without a graph", path);
	for (size_t i = 0; i < m->pb->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = m->pb->opset_import[i];

		if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx"))
			m->opset = o->version;
	}
	simplify(m);
	if (qdq_fold(m)) {
		model_free(m);
		return -1;
	}
	return 0;
}

void model_free(struct model *m)
{
	if (m->pb)
		onnx__model_proto__free_unpacked(m->pb, NULL);
	free(m->nodes);
	memset(m, 0, sizeof(*m));
}

struct tensor *tensor_new(int dtype, int rank, const int64_t *dim)
{
	struct tensor *t = xcalloc(1, sizeof(*t));

	t->dtype = dtype;
	t->rank = rank;
	t->n = 1;
	for (int i = 0; i < rank; i++)
		t->n *= t->dim[i] = dim[i];
	if (dtype == DT_FLOAT)
		t->f = xcalloc(t->n, sizeof(float));
	else
		t->i = xcalloc(t->n, sizeof(int64_t));
	return t;
}

size_t bcast_index(int trank, const int64_t *tdim, int yrank, const int64_t *ydim, size_t k)
{
	size_t idx = 0, mul = 1;

	for (int i = yrank - 1; i >= 0; i--) {
		int j = i - (yrank - trank);
		size_t c = k % ydim[i];

		k /= ydim[i];
		if (j >= 0) {
			idx += (tdim[j] == 1 ? 0 : c) * mul;
			mul *= tdim[j];
		}
	}
	return idx;
}

struct tensor *tensor_copy(const struct tensor *t)
{
	struct tensor *y = tensor_new(t->dtype, t->rank, t->dim);

	if (t->f)
		memcpy(y->f, t->f, t->n * sizeof(*t->f));
	else
		memcpy(y->i, t->i, t->n * sizeof(*t->i));
	return y;
}

void tensor_free(struct tensor *t)
{
	if (t) {
		free(t->i);
		free(t->f);
		free(t);
	}
}

const char *dtype_name(int dtype)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&onnx__tensor_proto__data_type__descriptor,
						     dtype);
	return v ? v->name : "?";
}

int dtype_is_q8(int dtype)
{
	return dtype == DT_INT8 || dtype == DT_UINT8;
}

void dtype_range(int dtype, int *lo, int *hi)
{
	*lo = dtype == DT_UINT8 ? 0 : -128;
	*hi = *lo + 255;
}

/* Element k of raw little-endian data of the given type. */
static int64_t raw_int(const uint8_t *p, int dtype, size_t k)
{
	switch (dtype) {
	case DT_UINT8: return p[k];
	case DT_INT8: return (int8_t)p[k];
	case DT_INT32: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
	default: { int64_t v; memcpy(&v, p + 8 * k, 8); return v; }
	}
}

int tensor_from_pb(const Onnx__TensorProto *pb, struct tensor *t)
{
	static const int esize[] = { [DT_FLOAT] = 4, [DT_UINT8] = 1, [DT_INT8] = 1,
				     [DT_INT32] = 4, [DT_INT64] = 8 };
	int dtype = pb->data_type;
	size_t have;

	memset(t, 0, sizeof(*t));
	if (dtype < 0 || dtype > DT_INT64 || !esize[dtype])
		return errorf("tensor '%s': data type %s not supported",
			      pb->name ? pb->name : "", dtype_name(dtype));
	if (pb->n_dims > MAX_RANK)
		return errorf("tensor '%s': rank %zu", pb->name, pb->n_dims);
	if (pb->has_data_location &&
	    pb->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		return errorf("tensor '%s': external data not supported", pb->name);
	t->dtype = dtype;
	t->rank = pb->n_dims;
	t->n = 1;
	for (int i = 0; i < t->rank; i++) {
		if (pb->dims[i] < 0)
			return errorf("tensor '%s': negative dimension", pb->name);
		t->n *= t->dim[i] = pb->dims[i];
	}
	have = pb->has_raw_data ? pb->raw_data.len / esize[dtype] :
	       dtype == DT_FLOAT ? pb->n_float_data :
	       dtype == DT_INT64 ? pb->n_int64_data : pb->n_int32_data;
	if (have != t->n)
		return errorf("tensor '%s': %zu elements for %zu", pb->name, have, t->n);
	if (dtype == DT_FLOAT) {
		t->f = xcalloc(t->n, sizeof(float));
		if (pb->has_raw_data)
			memcpy(t->f, pb->raw_data.data, t->n * 4);
		else
			memcpy(t->f, pb->float_data, t->n * 4);
		return 0;
	}
	t->i = xcalloc(t->n, sizeof(int64_t));
	for (size_t k = 0; k < t->n; k++)
		t->i[k] = pb->has_raw_data ? raw_int(pb->raw_data.data, dtype, k) :
			  dtype == DT_INT64 ? pb->int64_data[k] :
			  dtype == DT_UINT8 ? (uint8_t)pb->int32_data[k] :
			  dtype == DT_INT8 ? (int8_t)pb->int32_data[k] : pb->int32_data[k];
	return 0;
}

int tensor_load(const char *path, struct tensor *t, char **name)
{
	Onnx__TensorProto *pb;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if (read_file(path, &buf, &len))
		return -1;
	pb = onnx__tensor_proto__unpack(NULL, len, buf);
	free(buf);
	if (!pb)
		return errorf("%s: not an ONNX TensorProto (protobuf decoding failed)", path);
	ret = tensor_from_pb(pb, t);
	if (!ret && name)
		*name = strdup(pb->name ? pb->name : "");
	onnx__tensor_proto__free_unpacked(pb, NULL);
	if (ret)
		return errorf("%s: %.400s", path, err_msg);
	return 0;
}

/* Attributes */

const Onnx__AttributeProto *node_attr(const struct node *n, const char *name)
{
	for (size_t i = 0; i < n->pb->n_attribute; i++)
		if (!strcmp(n->pb->attribute[i]->name, name))
			return n->pb->attribute[i];
	return NULL;
}

int64_t attr_int(const struct node *n, const char *name, int64_t def)
{
	const Onnx__AttributeProto *a = node_attr(n, name);

	return a && a->has_i ? a->i : def;
}

float attr_float(const struct node *n, const char *name, float def)
{
	const Onnx__AttributeProto *a = node_attr(n, name);

	return a && a->has_f ? a->f : def;
}

int attr_ints(const struct node *n, const char *name, int64_t *v, int max)
{
	const Onnx__AttributeProto *a = node_attr(n, name);

	if (!a)
		return 0;
	for (size_t i = 0; i < a->n_ints && (int)i < max; i++)
		v[i] = a->ints[i];
	return a->n_ints;
}

int squeeze_shape(const struct node *n, int opset, const struct tensor *axes,
		  const int64_t *in, int rank, int64_t *out)
{
	int unsq = !strcmp(n->op, "Unsqueeze"), na = 0, orank, r = 0;
	int64_t ax[MAX_RANK];
	char mark[MAX_RANK] = { 0 };

	if (opset < 13) {
		na = attr_ints(n, "axes", ax, MAX_RANK);
	} else if (axes) {
		if (axes->n > MAX_RANK || !axes->i)
			return -1;
		for (size_t k = 0; k < axes->n; k++)
			ax[na++] = axes->i[k];
	}
	orank = unsq ? rank + na : rank;
	if (na > MAX_RANK || orank > MAX_RANK || (unsq && !na))
		return -1;
	for (int k = 0; k < na; k++) {
		int64_t a = ax[k] < 0 ? ax[k] + orank : ax[k];

		if (a < 0 || a >= orank || mark[a])
			return -1;
		mark[a] = 1;
	}
	for (int i = 0, j = 0; i < orank; i++) {
		if (unsq) {
			out[r++] = mark[i] ? 1 : in[j++];
		} else if (na ? mark[i] : in[i] == 1) {
			if (in[i] != 1)
				return -1;
		} else {
			out[r++] = in[i];
		}
	}
	return r;
}

const char *attr_string(const struct node *n, const char *name, const char *def)
{
	const Onnx__AttributeProto *a = node_attr(n, name);
	static _Thread_local char buf[64];

	if (!a || !a->has_s)
		return def;
	snprintf(buf, sizeof(buf), "%.*s", (int)a->s.len, (const char *)a->s.data);
	return buf;
}

const char *node_in(const struct node *n, int i)
{
	return i < n->nin && n->in[i] && *n->in[i] ? n->in[i] : NULL;
}

/* Quantisation arithmetic (README.tapu-run, train.py) */

void quantize_multiplier(double real, int32_t *m, uint32_t *shift)
{
	int exp;
	double mant = frexp(real, &exp);
	long long q = llround(ldexp(mant, 31));

	if (q == 1LL << 31) {
		q = 1LL << 30;
		exp++;
	}
	/* Out-of-range scales saturate the shift; lower.c rejects them. */
	*m = q;
	*shift = 31 - exp < 0 ? 63 : 31 - exp > 62 ? 63 : 31 - exp;
	if (real == 0)
		*m = 0, *shift = 0;
}

void quantize_pair(double ra, double rb, int32_t *ma, int32_t *mb, uint32_t *s)
{
	int32_t m;

	quantize_multiplier(ra > rb ? ra : rb, &m, s);
	*ma = llround(ldexp(ra, *s));
	*mb = llround(ldexp(rb, *s));
}

int64_t rshift64(int64_t v, unsigned int s)
{
	return s ? (v + (1LL << (s - 1))) >> s : v;
}

/* ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zp). */
int quantize_float(float x, float scale, int zp, int lo, int hi)
{
	float v = nearbyintf(x / scale) + zp;

	return v < lo ? lo : v > hi ? hi : (int)v;
}

int lut_op(const char *op)
{
	return !strcmp(op, "QLinearSigmoid") || !strcmp(op, "QLinearTanh") ||
	       !strcmp(op, "QLinearLeakyRelu") || !strcmp(op, "QLinearHardSigmoid") ||
	       !strcmp(op, "QLinearHardSwish");
}

/* The float function of a LUT op, as the ONNX operator defines it. */
static float lut_fn(const struct node *n, float x)
{
	const char *op = n->op;
	float h;

	if (!strcmp(op, "QLinearSigmoid"))
		return 1.0f / (1.0f + expf(-x));
	if (!strcmp(op, "QLinearTanh"))
		return tanhf(x);
	if (!strcmp(op, "QLinearLeakyRelu"))
		return x >= 0 ? x : attr_float(n, "alpha", 0.01f) * x;
	h = !strcmp(op, "QLinearHardSwish") ? x / 6.0f + 0.5f :
	    attr_float(n, "alpha", 0.2f) * x + attr_float(n, "beta", 0.5f);
	h = h < 0 ? 0 : h > 1 ? 1 : h;
	return !strcmp(op, "QLinearHardSwish") ? x * h : h;
}

void requant_table(float xs, int xzp, int xlo, float ys, int yzp, int ylo, int yhi,
		   int16_t out[256])
{
	for (int k = 0; k < 256; k++)
		out[k] = quantize_float((float)(xlo + k - xzp) * xs, ys, yzp, ylo, yhi);
}

void lut_table(const struct node *n, float xs, int xzp, int xlo, float ys, int yzp,
	       int ylo, int yhi, int16_t out[256])
{
	for (int k = 0; k < 256; k++) {
		float x = (float)(xlo + k - xzp) * xs;

		out[k] = quantize_float(lut_fn(n, x), ys, yzp, ylo, yhi);
	}
}

/* Operators */

static const char *const known_ops[] = {
	"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul",
	"QLinearGemm", "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearTanh",
	"QLinearLeakyRelu", "QLinearHardSigmoid", "QLinearHardSwish",
	"QLinearRelu", "QLinearClip", "QLinearAveragePool",
	"QLinearGlobalAveragePool", "QLinearConcat", "Add", "Sub", "Mul", "Relu", "Clip",
	"MaxPool", "AveragePool", "GlobalAveragePool", "Reshape", "Flatten",
	"Transpose", "Concat", "Pad", "Identity", "Squeeze", "Unsqueeze", "Gemm", "MatMul",
	NULL,
};

const char *known_op_name(int i)
{
	return i >= 0 && i < (int)(sizeof(known_ops) / sizeof(known_ops[0])) ? known_ops[i] : NULL;
}

int op_known(const struct node *n)
{
	for (int i = 0; known_ops[i] && !n->foreign; i++)
		if (!strcmp(n->op, known_ops[i]))
			return 1;
	return cpu_only_op(n);
}

int op_in(const char *list, const char *op)
{
	const char *p = strstr(list, op);
	size_t len = strlen(op);

	for (; p; p = strstr(p + 1, op))
		if (p > list && p[-1] == ' ' && p[len] == ' ')
			return 1;
	return 0;
}

int op_param_port(const struct node *n, int port)
{
	const char *op = n->op;

	if (op_in(" Add Sub Mul Div Concat ", op))
		return 0;
	if (!strcmp(op, "QLinearAdd") || !strcmp(op, "QLinearMul"))
		return port != 0 && port != 3;
	if (!strcmp(op, "QLinearConcat"))	/* y scale, zero point; (x, s, z)... */
		return port < 2 || (port - 2) % 3;
	return port != 0;
}

/* QDQ folding */

static int consumers(const struct model *m, const char *name, const Onnx__NodeProto **only)
{
	int c = 0;

	for (size_t i = 0; i < m->g->n_node; i++)
		for (size_t k = 0; k < m->g->node[i]->n_input; k++)
			if (!strcmp(m->g->node[i]->input[k], name)) {
				c++;
				*only = m->g->node[i];
			}
	for (size_t i = 0; i < m->g->n_output; i++)
		c += !strcmp(m->g->output[i]->name, name);
	return c;
}

static const Onnx__NodeProto *producer(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->g->n_node; i++)
		for (size_t k = 0; k < m->g->node[i]->n_output; k++)
			if (!strcmp(m->g->node[i]->output[k], name))
				return m->g->node[i];
	return NULL;
}

/* Same constant: same name or equal initializers. */
static int same_const(const struct model *m, const char *a, const char *b)
{
	const Onnx__TensorProto *ta = NULL, *tb = NULL;
	struct tensor x, y;
	int same;

	if (!strcmp(a, b))
		return 1;
	for (size_t i = 0; i < m->g->n_initializer; i++) {
		if (!strcmp(m->g->initializer[i]->name, a))
			ta = m->g->initializer[i];
		if (!strcmp(m->g->initializer[i]->name, b))
			tb = m->g->initializer[i];
	}
	if (!ta || !tb || tensor_from_pb(ta, &x))
		return 0;
	if (tensor_from_pb(tb, &y)) {
		free(x.i), free(x.f);
		return 0;
	}
	same = x.dtype == y.dtype && x.n == y.n &&
	       !memcmp(x.i ? (void *)x.i : x.f, y.i ? (void *)y.i : y.f,
		       x.n * (x.i ? sizeof(*x.i) : sizeof(*x.f)));
	free(x.i), free(x.f), free(y.i), free(y.f);
	return same;
}

/* How a float op folds: the QOperator it becomes, which of its inputs are
 * dequantised (bit i), whether input and output quantisation must match
 * (plain integer op on the quantised data), and whether a Relu or Clip
 * before its QuantizeLinear folds into its output clamp. */
static const struct fold {
	const char *op, *qop;
	unsigned int dq_mask;
	int same, act;
} folds[] = {
	{ "Conv", "QLinearConv", 3, 0, 1 },
	{ "MatMul", "QLinearMatMul", 3, 0, 1 },
	{ "Gemm", "QLinearGemm", 3, 0, 1 },
	{ "Add", "QLinearAdd", 3, 0, 1 },
	{ "Mul", "QLinearMul", 3, 0, 1 },
	{ "Sigmoid", "QLinearSigmoid", 1, 0, 0 },
	{ "Tanh", "QLinearTanh", 1, 0, 0 },
	{ "LeakyRelu", "QLinearLeakyRelu", 1, 0, 0 },
	{ "HardSigmoid", "QLinearHardSigmoid", 1, 0, 0 },
	{ "HardSwish", "QLinearHardSwish", 1, 0, 0 },
	{ "Relu", "QLinearRelu", 1, 0, 0 },
	{ "Clip", "QLinearClip", 1, 0, 0 },
	{ "AveragePool", "QLinearAveragePool", 1, 0, 0 },
	{ "GlobalAveragePool", "QLinearGlobalAveragePool", 1, 0, 0 },
	{ "MaxPool", "MaxPool", 1, 1, 0 },
	{ "Reshape", "Reshape", 1, 1, 0 },
	{ "Flatten", "Flatten", 1, 1, 0 },
	{ "Squeeze", "Squeeze", 1, 1, 0 },
	{ "Unsqueeze", "Unsqueeze", 1, 1, 0 },
	{ "Transpose", "Transpose", 1, 1, 0 },
	{ "Identity", "Identity", 1, 1, 0 },
	{ "Pad", "Pad", 1, 1, 0 },
	{ NULL },
};

static const Onnx__TensorProto *initializer(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->g->n_initializer; i++)
		if (!strcmp(m->g->initializer[i]->name, name))
			return m->g->initializer[i];
	return NULL;
}

/* A Relu, or a Clip whose bounds are constants. */
static int is_act(const struct model *m, const Onnx__NodeProto *a)
{
	if (is_op(a, "Relu"))
		return 1;
	if (!is_op(a, "Clip"))
		return 0;
	for (size_t i = 1; i < a->n_input; i++)
		if (*a->input[i] && !initializer(m, a->input[i]))
			return 0;
	return 1;
}

/* Bound @i (0 min, 1 max) of the fused Clip @a, or @def. */
static float clip_bound(const struct model *m, const Onnx__NodeProto *a, int i, float def)
{
	const Onnx__TensorProto *pb;
	struct tensor t = { 0 };
	float v = def;

	if (m->opset < 11) {
		for (size_t k = 0; k < a->n_attribute; k++)
			if (!strcmp(a->attribute[k]->name, i ? "max" : "min") &&
			    a->attribute[k]->has_f)
				v = a->attribute[k]->f;
		return v;
	}
	if ((size_t)i + 1 >= a->n_input || !*a->input[i + 1])
		return def;
	pb = initializer(m, a->input[i + 1]);
	if (pb && !tensor_from_pb(pb, &t) && t.n == 1)
		v = t.f ? t.f[0] : t.i[0];
	free(t.i), free(t.f);
	return v;
}

int fused_act(const struct model *m, const struct node *n, float ys, int yzp, int *lo, int *hi)
{
	const Onnx__NodeProto *a = n->act;
	float b[2] = { -INFINITY, INFINITY };
	int q[2];

	if (!a)
		return 0;
	if (is_op(a, "Relu")) {
		b[0] = 0;
	} else {
		b[0] = clip_bound(m, a, 0, b[0]);
		b[1] = clip_bound(m, a, 1, b[1]);
	}
	/* Quantizing is monotonic: the clamp of the quantized value is exact. */
	q[0] = quantize_float(b[0], ys, yzp, *lo, *hi);
	q[1] = quantize_float(b[1], ys, yzp, *lo, *hi);
	*lo = q[0] > q[1] ? q[1] : q[0];	/* min > max: max everywhere */
	*hi = q[1];
	return 0;
}

/* An initializer of one element (per-tensor quantization parameters). */
static int scalar_const(const struct model *m, const char *name)
{
	const Onnx__TensorProto *t = *name ? initializer(m, name) : NULL;
	size_t n = 1;

	for (size_t i = 0; t && i < t->n_dims; i++)
		n *= t->dims[i];
	return t && n == 1;
}

/* A QDQ Concat: QLinearConcat's inputs (y scale, zero point, then each
 * input's x, scale, zero point); each input may be quantized its own way. */
static int fold_concat(struct model *m, const Onnx__NodeProto *x, struct node *o,
		       const Onnx__NodeProto **dead, int *ndead)
{
	const Onnx__NodeProto *q = NULL, *dq;
	int k = 0;

	if (x->n_output != 1 || !x->n_input || 2 + 3 * x->n_input > MAX_NODE_IN ||
	    consumers(m, x->output[0], &q) != 1 || !is_op(q, "QuantizeLinear") ||
	    q->n_input < 2 || pb_attr(q, "axis"))
		return 0;
	if (!scalar_const(m, q->input[1]) ||
	    (q->n_input > 2 && *q->input[2] && !scalar_const(m, q->input[2])))
		return 0;
	o->in[k++] = q->input[1];
	o->in[k++] = q->n_input > 2 ? q->input[2] : "";
	for (size_t i = 0; i < x->n_input; i++) {
		dq = producer(m, x->input[i]);
		if (!is_op(dq, "DequantizeLinear") || dq->n_input < 2 ||
		    !scalar_const(m, dq->input[1]) ||
		    (dq->n_input > 2 && *dq->input[2] && !scalar_const(m, dq->input[2])))
			return 0;
		o->in[k++] = dq->input[0];
		o->in[k++] = dq->input[1];
		o->in[k++] = dq->n_input > 2 ? dq->input[2] : "";
	}
	for (size_t i = 0; i < x->n_input; i++)
		dead[(*ndead)++] = producer(m, x->input[i]);
	dead[(*ndead)++] = q;
	o->op = "QLinearConcat";
	o->name = x->name && *x->name ? x->name : x->output[0];
	o->pb = x;
	o->nin = k;
	o->nout = 1;
	o->out[0] = q->output[0];
	return 1;
}

/* A QDQ Pad that pads with 0.0 (opset 11 on: pads, no value or 0.0). */
static int pad_zero(const struct model *m, const Onnx__NodeProto *x)
{
	const Onnx__TensorProto *pb;
	struct tensor v;
	int zero;

	const Onnx__AttributeProto *mode = pb_attr(x, "mode");

	if (m->opset < 11 || x->n_input < 2 || x->n_input > 3 || pb_attr(x, "axes") ||
	    (mode && (!mode->has_s || mode->s.len != 8 || memcmp(mode->s.data, "constant", 8))))
		return 0;
	if (x->n_input < 3 || !*x->input[2])
		return 1;
	pb = initializer(m, x->input[2]);
	if (!pb || tensor_from_pb(pb, &v))
		return 0;
	zero = v.n == 1 && (v.f ? v.f[0] == 0 : v.i[0] == 0);
	free(v.i), free(v.f);
	return zero;
}

const char *qdq_fold_target(const char *op)
{
	if (!strcmp(op, "Concat"))
		return "QLinearConcat";
	for (const struct fold *f = folds; f->op; f++)
		if (!strcmp(f->op, op))
			return f->qop;
	return NULL;
}

/* A Gemm QLinearGemm computes: A not transposed, alpha and beta 1, C
 * absent or an int32 [N] behind a DequantizeLinear. */
static int gemm_foldable(const struct model *m, const Onnx__NodeProto *x)
{
	const Onnx__AttributeProto *ta = pb_attr(x, "transA"), *al = pb_attr(x, "alpha"),
		*be = pb_attr(x, "beta");
	const Onnx__NodeProto *c = x->n_input > 2 && *x->input[2] ? producer(m, x->input[2]) : NULL;
	const Onnx__TensorProto *ct = c && is_op(c, "DequantizeLinear") ?
				      initializer(m, c->input[0]) : NULL;

	const Onnx__AttributeProto *tb = pb_attr(x, "transB");
	const Onnx__NodeProto *w = x->n_input > 1 ? producer(m, x->input[1]) : NULL;
	const Onnx__TensorProto *wt = is_op(w, "DequantizeLinear") ? initializer(m, w->input[0]) :
				      NULL;

	if ((ta && ta->i) || (al && al->f != 1.0f))
		return 0;
	if (x->n_input < 3 || !*x->input[2])
		return 1;
	/* C: one int32 per column of B ([K, N], or [N, K] with transB) */
	return (!be || be->f == 1.0f) && ct && ct->data_type == DT_INT32 && ct->n_dims == 1 &&
	       wt && wt->n_dims == 2 && ct->dims[0] == wt->dims[tb && tb->i ? 0 : 1];
}

static int try_fold(struct model *m, const Onnx__NodeProto *x, struct node *out,
		    const Onnx__NodeProto **dead, int *ndead)
{
	const struct fold *f;
	const Onnx__NodeProto *q = NULL, *dq[2] = { NULL, NULL }, *act = NULL, *q2 = NULL;
	struct node *o = out;
	int k = 0;

	if (is_op(x, "Concat"))
		return fold_concat(m, x, out, dead, ndead);
	if (is_op(x, "Gemm") && !gemm_foldable(m, x))
		return 0;
	for (f = folds; f->op && !is_op(x, f->op); f++)
		;
	if (!f->op || x->n_output != 1 || consumers(m, x->output[0], &q) != 1)
		return 0;
	if (f->act && is_act(m, q) && q->n_output == 1 &&
	    consumers(m, q->output[0], &q2) == 1 && is_op(q2, "QuantizeLinear"))
		act = q, q = q2;
	if (!is_op(q, "QuantizeLinear"))
		return 0;
	for (int i = 0; i < 2; i++) {
		if (!(f->dq_mask & (1u << i)))
			continue;
		if ((size_t)i >= x->n_input)
			return 0;
		dq[i] = producer(m, x->input[i]);
		if (!is_op(dq[i], "DequantizeLinear") || dq[i]->n_input < 2)
			return 0;
	}
	if (f->same)	/* same scale and zero point names: a plain integer op */
		for (int i = 1; i < 3; i++)
			if ((size_t)i >= q->n_input || (size_t)i >= dq[0]->n_input ||
			    !same_const(m, q->input[i], dq[0]->input[i]))
				return 0;
	if (is_op(x, "Pad") && !pad_zero(m, x))
		return 0;

	o->op = f->qop;
	o->name = x->name && *x->name ? x->name : x->output[0];
	o->pb = x;
	o->act = act;
	o->nout = 1;
	o->out[0] = q->output[0];
	if (f->same) {
		o->in[k++] = dq[0]->input[0];
		for (size_t i = 1; i < x->n_input && k < MAX_NODE_IN; i++)
			o->in[k++] = x->input[i];
		if (is_op(x, "Pad")) {	/* pads with the quantized 0.0 */
			o->in[1] = x->input[1];
			o->in[2] = dq[0]->n_input > 2 ? dq[0]->input[2] : "";
			k = 3;
		}
	} else {
		for (int i = 0; i < 2; i++)
			if (dq[i])
				for (int j = 0; j < 3; j++)
					o->in[k++] = (size_t)j < dq[i]->n_input ? dq[i]->input[j] : "";
		o->in[k++] = q->input[1];
		o->in[k++] = q->n_input > 2 ? q->input[2] : "";
		/*
		 * The inputs after the dequantised ones: Conv, Gemm bias (int32,
		 * DequantizeLinear'd or not); Clip's min and max (float).
		 */
		for (size_t i = f->dq_mask & 2 ? 2 : 1; i < x->n_input && k < MAX_NODE_IN; i++) {
			const Onnx__NodeProto *b = producer(m, x->input[i]);

			if (is_op(b, "DequantizeLinear") && strcmp(f->op, "Clip")) {
				o->in[k++] = b->input[0];
				dead[(*ndead)++] = b;
			} else {
				o->in[k++] = x->input[i];
			}
		}
	}
	o->nin = k;
	dead[(*ndead)++] = q;
	if (act)
		dead[(*ndead)++] = act;
	for (int i = 0; i < 2; i++)
		if (dq[i])
			dead[(*ndead)++] = dq[i];
	return 1;
}

/*
 * Whether value @name is read only by nodes folded into quantised ops that
 * do not read it themselves (a DequantizeLinear they folded in), as when a
 * residual Add and a Conv share the input's DequantizeLinear.
 */
static int folded_readers_only(const struct model *m, const char *name, const char *folded,
			       const struct node *tmp)
{
	for (size_t i = 0; i < m->g->n_node; i++)
		for (size_t k = 0; k < m->g->node[i]->n_input; k++) {
			if (strcmp(m->g->node[i]->input[k], name))
				continue;
			if (!folded[i])
				return 0;
			for (int j = 0; j < tmp[i].nin; j++)
				if (tmp[i].in[j] && !strcmp(tmp[i].in[j], name))
					return 0;
		}
	for (size_t i = 0; i < m->g->n_output; i++)
		if (!strcmp(m->g->output[i]->name, name))
			return 0;
	return 1;
}

int qdq_fold(struct model *m)
{
	size_t nn = m->g->n_node, nin = 0;
	const Onnx__NodeProto **dead;
	char *folded = xcalloc(nn, 1);
	struct node *tmp = xcalloc(nn, sizeof(*tmp));
	int ndead = 0;

	for (size_t i = 0; i < nn; i++)
		nin += m->g->node[i]->n_input;
	/* each fold: a node per input, its QuantizeLinear and activation */
	dead = xcalloc(nin + 2 * nn + 1, sizeof(*dead));

	m->nodes = xcalloc(nn, sizeof(*m->nodes));
	for (size_t i = 0; i < nn; i++)
		folded[i] = try_fold(m, m->g->node[i], &tmp[i], dead, &ndead);
	for (size_t i = 0; i < nn; i++) {
		const Onnx__NodeProto *x = m->g->node[i];
		struct node *o = &m->nodes[m->nnodes];
		int is_dead = 0;

		/* A DequantizeLinear stays when anything else still reads it. */
		for (int d = 0; d < ndead && !is_dead; d++)
			if (dead[d] == x)
				is_dead = is_op(x, "QuantizeLinear") || is_op(x, "Relu") ||
					  is_op(x, "Clip") ||
					  folded_readers_only(m, x->output[0], folded, tmp);
		if (is_dead)
			continue;
		if (folded[i]) {
			*o = tmp[i];
		} else {
			if (x->n_input > MAX_NODE_IN || x->n_output > 4) {
				free(dead), free(folded), free(tmp);
				return errorf("node '%s' (%s): too many inputs or outputs",
					      x->name, x->op_type);
			}
			o->op = x->op_type;
			o->name = x->name && *x->name ? x->name : x->n_output ? x->output[0] : "?";
			o->pb = x;
			o->nin = x->n_input;
			o->nout = x->n_output;
			for (size_t k = 0; k < x->n_input; k++)
				o->in[k] = x->input[k];
			for (size_t k = 0; k < x->n_output; k++)
				o->out[k] = x->output[k];
			/* Other domains: only com.microsoft ops whose inputs are
			 * those of the folded nodes, e.g. QLinearAdd. */
			o->foreign = x->domain && *x->domain && strcmp(x->domain, "ai.onnx") &&
				     (strcmp(x->domain, "com.microsoft") ||
				      !strstr(" QLinearAdd QLinearMul QLinearSigmoid QLinearLeakyRelu"
					      " QLinearAveragePool QLinearConcat"
					      " QLinearGlobalAveragePool ", x->op_type));
			/*
			 * ONNX Runtime's QGemm with a quantised output is a
			 * QLinearGemm with the bias C (input 6) last.
			 */
			if (o->foreign && !strcmp(x->domain, "com.microsoft") &&
			    !strcmp(x->op_type, "QGemm") && x->n_input == 9 &&
			    !(pb_attr(x, "transA") && pb_attr(x, "transA")->i) &&
			    !(pb_attr(x, "alpha") && pb_attr(x, "alpha")->f != 1.0f)) {
				o->op = "QLinearGemm";
				o->in[6] = x->input[7];
				o->in[7] = x->input[8];
				o->in[8] = x->input[6];
				o->foreign = 0;
			}
		}
		m->nnodes++;
	}
	free(dead), free(folded), free(tmp);
	return 0;
}

struct tensor *qdq_apply(int dq, const struct tensor *x, const struct tensor *scale,
			 const struct tensor *zp, int axis)
{
	struct tensor *y = tensor_new(dq ? DT_FLOAT : zp ? zp->dtype : DT_UINT8,
				      x->rank, x->dim);
	size_t inner = 1, nch = scale->n;
	int lo, hi;

	if (axis < 0)
		axis += x->rank;
	for (int i = axis + 1; i < x->rank && nch > 1; i++)
		inner *= x->dim[i];
	dtype_range(dq ? x->dtype : y->dtype, &lo, &hi);
	for (size_t k = 0; k < x->n; k++) {
		size_t c = nch > 1 ? k / inner % nch : 0;
		int z = zp ? zp->i[c] : 0;

		if (dq)
			y->f[k] = (float)(x->i[k] - z) * scale->f[c];
		else
			y->i[k] = quantize_float(x->f[k], scale->f[c], z, lo, hi);
	}
	return y;
}
