// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtapu-onnx: models, sessions and their tensors (the public API of
 * tapu-onnx.h) over the loader (model.c), the lowering (lower.c) and the
 * CPU kernels (ref.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx-model.h"
#include "tapu-onnx.h"

struct tapu_onnx_model {
	struct model m;
	int nin, nout;
	struct tapu_onnx_tensor_info *in, *out;
};

struct tapu_onnx_session {
	struct tapu_onnx_model *model;
	struct tapu_device *dev;	/* NULL: the CPU kernels */
	uint64_t max_work;		/* the device's max_stream_work */
	struct binding *in;		/* bound inputs, model order */
	struct binding *out;		/* outputs of the last run */
	int compiled;
	struct prog p;
	struct tapu_bo *bo[2];		/* constants, activations */
	uint8_t *map[2];
	struct tapu_stream **streams;	/* per step: device segments' */
	uint64_t job;
	int pending;			/* submitted, not waited for */
	int done;			/* outputs of a finished run */
	struct tapu_onnx_stats st;
};

/* Copies the message of the failing internal call (err_msg) out. */
static int fail(struct tapu_onnx_error *err, int code)
{
	if (err) {
		err->code = code;
		snprintf(err->message, sizeof(err->message), "%s", err_msg);
	}
	return code;
}

static int failf(struct tapu_onnx_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failf(struct tapu_onnx_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	char buf[sizeof(err_msg)];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(err_msg, buf, sizeof(buf));
	return fail(err, code);
}

const char *tapu_onnx_type_name(int type)
{
	return dtype_name(type);
}

size_t tapu_onnx_type_size(int type)
{
	switch (type) {
	case TAPU_ONNX_FLOAT:
	case TAPU_ONNX_INT32:
		return 4;
	case TAPU_ONNX_UINT8:
	case TAPU_ONNX_INT8:
		return 1;
	case TAPU_ONNX_INT64:
		return 8;
	}
	return 0;
}

/* Models */

static void value_info(const Onnx__ValueInfoProto *v, struct tapu_onnx_tensor_info *info)
{
	const Onnx__TypeProto__Tensor *tt = v->type &&
		v->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ?
		v->type->tensor_type : NULL;

	memset(info, 0, sizeof(*info));
	info->name = v->name;
	info->type = tt ? tt->elem_type : 0;
	info->rank = tt && tt->shape && tt->shape->n_dim <= TAPU_ONNX_MAX_RANK ?
		     (int)tt->shape->n_dim : -1;
	for (int i = 0; i < info->rank; i++) {
		const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];

		info->dims[i] = d->value_case ==
			ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
			d->dim_value > 0 ? d->dim_value : -1;
	}
}

static int is_initializer(const Onnx__GraphProto *g, const char *name)
{
	for (size_t k = 0; k < g->n_initializer; k++)
		if (!strcmp(g->initializer[k]->name, name))
			return 1;
	return 0;
}

static int model_init(struct tapu_onnx_model *model, struct tapu_onnx_error *err)
{
	const Onnx__GraphProto *g = model->m.g;

	model->in = calloc(g->n_input + 1, sizeof(*model->in));
	model->out = calloc(g->n_output + 1, sizeof(*model->out));
	if (!model->in || !model->out)
		return failf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < g->n_input; i++)
		if (!is_initializer(g, g->input[i]->name))
			value_info(g->input[i], &model->in[model->nin++]);
	for (size_t i = 0; i < g->n_output; i++)
		value_info(g->output[i], &model->out[model->nout++]);
	return 0;
}

static int model_new(const void *data, size_t size, const char *what,
		     struct tapu_onnx_model **model, struct tapu_onnx_error *err)
{
	struct tapu_onnx_model *mo = calloc(1, sizeof(*mo));
	int ret;

	*model = NULL;
	if (!mo)
		return failf(err, -ENOMEM, "out of memory");
	if (model_load_buf(data, size, what, &mo->m)) {
		free(mo);
		return fail(err, -EINVAL);
	}
	ret = model_init(mo, err);
	if (ret) {
		tapu_onnx_model_free(mo);
		return ret;
	}
	*model = mo;
	return 0;
}

/**
 * tapu_onnx_model_load() - load an ONNX model file
 * @path: the .onnx file
 * @model: out: the model
 * @err: out: why it failed (optional)
 *
 * Return: 0; -errno of the file; -EINVAL for a file that is not an ONNX
 * model the library can read.
 */
int tapu_onnx_model_load(const char *path, struct tapu_onnx_model **model,
			 struct tapu_onnx_error *err)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size = -1;
	int ret;

	*model = NULL;
	if (!f)
		return failf(err, -errno, "%s: %s", path, strerror(errno));
	if (!fseek(f, 0, SEEK_END))
		size = ftell(f);
	if (size >= 0 && !fseek(f, 0, SEEK_SET))
		buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, f) != (size_t)size) {
		ret = failf(err, buf ? -EIO : -ENOMEM, "%s: cannot read the file", path);
	} else {
		ret = model_new(buf, size, path, model, err);
	}
	free(buf);
	fclose(f);
	return ret;
}

/**
 * tapu_onnx_model_load_memory() - load an ONNX model from memory
 * @data: the serialised ModelProto; not used after the call
 * @size: its size
 * @model: out: the model
 * @err: out: why it failed (optional)
 *
 * Return: 0; -EINVAL for data that is not an ONNX model the library can
 * read.
 */
int tapu_onnx_model_load_memory(const void *data, size_t size,
				struct tapu_onnx_model **model,
				struct tapu_onnx_error *err)
{
	return model_new(data, size, "model", model, err);
}

void tapu_onnx_model_free(struct tapu_onnx_model *model)
{
	if (!model)
		return;
	model_free(&model->m);
	free(model->in);
	free(model->out);
	free(model);
}

int tapu_onnx_model_num_inputs(const struct tapu_onnx_model *model)
{
	return model->nin;
}

int tapu_onnx_model_num_outputs(const struct tapu_onnx_model *model)
{
	return model->nout;
}

/**
 * tapu_onnx_model_input() - name, type and shape of an input
 * @model: model
 * @index: below tapu_onnx_model_num_inputs()
 * @info: out: what the graph says of the input
 *
 * Return: 0, or -EINVAL for an index out of range.
 */
int tapu_onnx_model_input(const struct tapu_onnx_model *model, int index,
			  struct tapu_onnx_tensor_info *info)
{
	if (index < 0 || index >= model->nin)
		return -EINVAL;
	*info = model->in[index];
	return 0;
}

/** tapu_onnx_model_output() - as tapu_onnx_model_input(), for an output */
int tapu_onnx_model_output(const struct tapu_onnx_model *model, int index,
			   struct tapu_onnx_tensor_info *info)
{
	if (index < 0 || index >= model->nout)
		return -EINVAL;
	*info = model->out[index];
	return 0;
}

/**
 * tapu_onnx_model_quantized() - whether the graph has 8-bit tensors
 * @model: model
 *
 * Return: 1 when an input, an output or an initialiser is int8 or uint8.
 */
int tapu_onnx_model_quantized(const struct tapu_onnx_model *model)
{
	const Onnx__GraphProto *g = model->m.g;

	for (int i = 0; i < model->nin; i++)
		if (dtype_is_q8(model->in[i].type))
			return 1;
	for (int i = 0; i < model->nout; i++)
		if (dtype_is_q8(model->out[i].type))
			return 1;
	for (size_t i = 0; i < g->n_initializer; i++)
		if (dtype_is_q8(g->initializer[i]->data_type))
			return 1;
	return 0;
}

/* Tensors */

/* Host tensor from caller data of @type, in ONNX (row-major) order. */
static struct tensor *tensor_import(int type, int rank, const int64_t *dims, const void *data)
{
	struct tensor *t = tensor_new(type, rank, dims);

	for (size_t k = 0; k < t->n; k++) {
		switch (type) {
		case TAPU_ONNX_FLOAT: t->f[k] = ((const float *)data)[k]; break;
		case TAPU_ONNX_UINT8: t->i[k] = ((const uint8_t *)data)[k]; break;
		case TAPU_ONNX_INT8: t->i[k] = ((const int8_t *)data)[k]; break;
		case TAPU_ONNX_INT32: t->i[k] = ((const int32_t *)data)[k]; break;
		case TAPU_ONNX_INT64: t->i[k] = ((const int64_t *)data)[k]; break;
		}
	}
	return t;
}

static void tensor_export(const struct tensor *t, void *data)
{
	for (size_t k = 0; k < t->n; k++) {
		switch (t->dtype) {
		case TAPU_ONNX_FLOAT: ((float *)data)[k] = t->f[k]; break;
		case TAPU_ONNX_UINT8: ((uint8_t *)data)[k] = t->i[k]; break;
		case TAPU_ONNX_INT8: ((int8_t *)data)[k] = t->i[k]; break;
		case TAPU_ONNX_INT32: ((int32_t *)data)[k] = t->i[k]; break;
		case TAPU_ONNX_INT64: ((int64_t *)data)[k] = t->i[k]; break;
		}
	}
}

static void tensor_info(const struct tensor *t, const char *name,
			struct tapu_onnx_tensor_info *info)
{
	memset(info, 0, sizeof(*info));
	info->name = name;
	info->type = t->dtype;
	info->rank = t->rank;
	memcpy(info->dims, t->dim, t->rank * sizeof(*info->dims));
}

/**
 * tapu_onnx_tensor_load() - read a serialised ONNX TensorProto (.pb)
 * @path: file, e.g. an input_0.pb of the ONNX test data layout
 * @tensor: out: the tensor; free it with tapu_onnx_tensor_free()
 * @err: out: why it failed (optional)
 *
 * Return: 0; -errno of the file; -EINVAL for a file that is not a tensor
 * of a supported type.
 */
int tapu_onnx_tensor_load(const char *path, struct tapu_onnx_tensor **tensor,
			  struct tapu_onnx_error *err)
{
	struct tapu_onnx_tensor *out;
	struct tensor t;
	char *name = NULL;
	size_t es;

	*tensor = NULL;
	if (access(path, R_OK))
		return failf(err, -errno, "%s: %s", path, strerror(errno));
	if (tensor_load(path, &t, &name))
		return fail(err, -EINVAL);
	es = tapu_onnx_type_size(t.dtype);
	out = calloc(1, sizeof(*out) + strlen(name) + 1);
	if (out)
		out->data = malloc(t.n * es + 1);
	if (!out || !out->data) {
		free(out);
		free(t.i), free(t.f), free(name);
		return failf(err, -ENOMEM, "out of memory");
	}
	tensor_info(&t, strcpy((char *)(out + 1), name), &out->info);
	tensor_export(&t, out->data);
	out->size = t.n * es;
	free(t.i), free(t.f), free(name);
	*tensor = out;
	return 0;
}

void tapu_onnx_tensor_free(struct tapu_onnx_tensor *tensor)
{
	if (tensor)
		free(tensor->data);
	free(tensor);
}

/* Sessions */

static void uncompile(struct tapu_onnx_session *s)
{
	for (int i = 0; s->streams && i < s->p.nsteps; i++)
		tapu_stream_destroy(s->streams[i]);
	free(s->streams);
	s->streams = NULL;
	for (int i = 0; i < 2; i++) {
		tapu_bo_free(s->bo[i]);
		s->bo[i] = NULL;
		s->map[i] = NULL;
	}
	if (s->compiled && s->dev)
		prog_free(&s->p);
	s->compiled = 0;
}

static void drop_outputs(struct tapu_onnx_session *s)
{
	for (int i = 0; i < s->model->nout; i++) {
		tensor_free(s->out[i].t);
		s->out[i].t = NULL;
	}
	s->done = 0;
}

/* Every unsupported node at once, each with its name and operator. */
static int check_operators(const struct model *m, struct tapu_onnx_error *err)
{
	char list[400] = "";
	int bad = 0;

	for (int k = 0; k < m->nnodes; k++) {
		const struct node *n = &m->nodes[k];
		size_t len = strlen(list);

		if (op_known(n))
			continue;
		if (len + 8 < sizeof(list))
			snprintf(list + len, sizeof(list) - len, "%s'%s' (%s%s%s)", bad ? ", " : "",
				 n->name, n->foreign ? n->pb->domain : "", n->foreign ? "." : "",
				 n->op);
		bad++;
	}
	if (!bad)
		return 0;
	return failf(err, -EOPNOTSUPP, "%d node%s with an operator TAPU does not support: %s",
		     bad, bad == 1 ? "" : "s", list);
}

/**
 * tapu_onnx_session_create() - prepare a model for a device
 * @model: model; must outlive the session
 * @dev: device, or NULL to run on the CPU with the library's kernels
 * @session: out: the session
 * @err: out: why it failed (optional)
 *
 * The model is compiled at the first run, for the shapes of the inputs
 * then set, and again whenever an input's shape changes.
 *
 * Return: 0; -EOPNOTSUPP, naming every node of an operator the library
 * cannot run; -ENOMEM.
 */
int tapu_onnx_session_create(struct tapu_onnx_model *model,
			     struct tapu_device *dev,
			     struct tapu_onnx_session **session,
			     struct tapu_onnx_error *err)
{
	struct tapu_onnx_session *s;
	int ret;

	*session = NULL;
	ret = check_operators(&model->m, err);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (s) {
		s->in = calloc(model->nin + 1, sizeof(*s->in));
		s->out = calloc(model->nout + 1, sizeof(*s->out));
	}
	if (!s || !s->in || !s->out) {
		if (s)
			free(s->in), free(s->out);
		free(s);
		return failf(err, -ENOMEM, "out of memory");
	}
	s->model = model;
	s->dev = dev;
	if (dev) {
		struct tapu_info info;

		if (!tapu_device_query(dev, &info))
			s->max_work = info.limits.max_stream_work;
	}
	for (int i = 0; i < model->nin; i++)
		s->in[i].name = model->in[i].name;
	for (int i = 0; i < model->nout; i++)
		s->out[i].name = model->out[i].name;
	*session = s;
	return 0;
}

/* Waits for a submitted run, if any, before the session's memory goes. */
void tapu_onnx_session_free(struct tapu_onnx_session *s)
{
	if (!s)
		return;
	if (s->pending)
		tapu_wait(s->dev, s->job, INT64_MAX, NULL);
	drop_outputs(s);
	uncompile(s);
	for (int i = 0; i < s->model->nin; i++)
		tensor_free(s->in[i].t);
	free(s->in);
	free(s->out);
	free(s);
}

static int find_input(const struct tapu_onnx_model *model, const char *name)
{
	for (int i = 0; i < model->nin; i++)
		if (!strcmp(model->in[i].name, name))
			return i;
	return -1;
}

static int find_output(const struct tapu_onnx_model *model, const char *name)
{
	for (int i = 0; i < model->nout; i++)
		if (!strcmp(model->out[i].name, name))
			return i;
	return -1;
}

/* "[1, 3, ?, ?] of uint8": ? where the graph leaves a dimension open. */
static void shape_str(char *buf, size_t size, int type, int rank, const int64_t *dims)
{
	size_t len = snprintf(buf, size, rank < 0 ? "[any" : "[");

	for (int k = 0; k < rank && len < size; k++)
		len += dims[k] > 0 ? snprintf(buf + len, size - len, "%s%lld", k ? ", " : "",
					     (long long)dims[k]) :
				     snprintf(buf + len, size - len, "%s?", k ? ", " : "");
	if (len < size)
		snprintf(buf + len, size - len, "] of %s", type ? dtype_name(type) : "any type");
}

static int same_shape(const struct tensor *a, const struct tensor *b)
{
	return a->dtype == b->dtype && a->rank == b->rank &&
	       !memcmp(a->dim, b->dim, a->rank * sizeof(*a->dim));
}

/**
 * tapu_onnx_set_input() - give an input for the next runs
 * @s: session, not running
 * @name: input name
 * @type: &enum tapu_onnx_type of @data: the input's type in the graph
 * @rank: number of dimensions, as in the graph when it says
 * @dims: dimensions: those the graph fixes, any for those it leaves open
 * @data: elements in row-major order; copied
 * @err: out: why it failed (optional)
 *
 * Return: 0; -ENOENT for a name that is not an input, -EINVAL for a type
 * or shape the graph does not allow, -EBUSY while a run is submitted.
 */
int tapu_onnx_set_input(struct tapu_onnx_session *s, const char *name,
			int type, int rank, const int64_t *dims,
			const void *data, struct tapu_onnx_error *err)
{
	int i = find_input(s->model, name);
	const struct tapu_onnx_tensor_info *info;
	struct tensor *t;
	int ok;

	if (s->pending)
		return failf(err, -EBUSY, "a run is in progress");
	if (i < 0)
		return failf(err, -ENOENT, "'%s' is not an input of the model", name);
	info = &s->model->in[i];
	ok = tapu_onnx_type_size(type) && (!info->type || type == info->type) &&
	     rank >= 0 && rank <= TAPU_ONNX_MAX_RANK && (info->rank < 0 || rank == info->rank);
	for (int k = 0; ok && k < rank; k++)
		ok = dims[k] >= 1 && dims[k] <= 1 << 30 &&
		     (info->rank < 0 || info->dims[k] < 1 || dims[k] == info->dims[k]);
	if (!ok) {
		char got[160], want[160];

		shape_str(got, sizeof(got), type, rank, dims);
		shape_str(want, sizeof(want), info->type, info->rank, info->dims);
		return failf(err, -EINVAL, "input '%s': shape and type %s, the model takes %s",
			     name, got, want);
	}
	t = tensor_import(type, rank, dims, data);
	/* A new shape, or any new value of a compile-time parameter. */
	if (s->compiled && (!same_shape(t, s->in[i].t) || prog_input_is_param(&s->model->m, name)))
		uncompile(s);
	tensor_free(s->in[i].t);
	s->in[i].t = t;
	drop_outputs(s);
	return 0;
}

static int compile(struct tapu_onnx_session *s, struct tapu_onnx_error *err)
{
	int ret;

	/* The CPU runs the graph as it is: nothing to lower. */
	if (!s->dev) {
		s->compiled = 1;
		s->st.compiles++;
		s->st.cpu_nodes = s->model->m.nnodes;
		return 0;
	}
	if (prog_compile(&s->p, &s->model->m, s->in, s->model->nin, s->max_work)) {
		prog_free(&s->p);
		return fail(err, -EOPNOTSUPP);
	}
	s->compiled = 1;
	s->st.compiles++;
	s->st.device_ops = s->p.nops;
	s->st.device_nodes = s->p.dev_nodes;
	s->st.cpu_nodes = s->p.cpu_nodes;
	s->st.segments = 0;
	for (int i = 0; i < s->p.nsteps; i++)
		s->st.segments += !s->p.steps[i].cpu;
	s->streams = calloc(s->p.nsteps + 1, sizeof(*s->streams));
	if (!s->streams) {
		uncompile(s);
		return failf(err, -ENOMEM, "out of memory");
	}
	for (int i = 0; i < 2; i++) {
		size_t size = i ? s->p.arena : s->p.ncst;

		ret = tapu_bo_create(s->dev, size ? size : 1, 0, &s->bo[i]);
		ret = ret ?: tapu_bo_map(s->bo[i], (void **)&s->map[i]);
		if (ret) {
			uncompile(s);
			return failf(err, ret, "BO_CREATE: %s", tapu_strerror(ret));
		}
	}
	memcpy(s->map[0], s->p.cst, s->p.ncst);
	for (int i = 0; i < s->p.nsteps && !ret; i++)
		if (!s->p.steps[i].cpu)
			ret = tapu_stream_create(s->dev, s->p.steps[i].sb, &s->streams[i]);
	if (ret) {
		uncompile(s);
		return failf(err, ret, "the device refused the compiled command stream: %s%s",
			     tapu_strerror(ret), ret == -E2BIG ?
			     " (an operation is more work than one job may do; try a smaller"
			     " batch)" : "");
	}
	return 0;
}

/* Waits for the submitted segment; the run is not done by that alone. */
static int wait_job(struct tapu_onnx_session *s, int64_t timeout_ns,
		    struct tapu_onnx_error *err)
{
	struct tapu_job_result res;
	int ret = tapu_wait(s->dev, s->job, timeout_ns, &res);

	if (ret == -ETIME)
		return failf(err, ret, "the run is not finished yet");
	s->pending = 0;
	if (ret)
		return failf(err, ret, "the device job failed: %s", tapu_strerror(ret));
	s->st.device_ns += res.duration_ns;
	return 0;
}

/**
 * tapu_onnx_submit() - start a run with the inputs set
 * @s: session
 * @err: out: why it failed (optional)
 *
 * Compiles first if needed. On the CPU the run is done on return; on a
 * device tapu_onnx_wait() waits for it. In a partitioned graph the device
 * segments and CPU nodes before the last segment run within this call.
 *
 * Return: 0; -EINVAL when an input was not set, -EOPNOTSUPP when the model
 * cannot be compiled for these inputs (the message names the node),
 * -EBUSY while a run is submitted, or what the device returned.
 */
int tapu_onnx_submit(struct tapu_onnx_session *s, struct tapu_onnx_error *err)
{
	static const uint32_t access[2] = { DRM_TAPU_BO_READ,
					    DRM_TAPU_BO_READ | DRM_TAPU_BO_WRITE };
	int ret;

	if (s->pending)
		return failf(err, -EBUSY, "a run is in progress");
	for (int i = 0; i < s->model->nin; i++)
		if (!s->in[i].t)
			return failf(err, -EINVAL, "input '%s' was not set", s->in[i].name);
	drop_outputs(s);
	if (!s->compiled) {
		ret = compile(s, err);
		if (ret)
			return ret;
	}
	if (!s->dev) {
		if (ref_run(&s->model->m, s->in, s->model->nin, s->out, s->model->nout))
			return fail(err, -EOPNOTSUPP);
		s->done = 1;
		s->st.runs++;
		return 0;
	}
	for (int i = 0; i < s->model->nin; i++)
		if (prog_write_input(&s->p, s->in[i].name, s->in[i].t, s->map[1]))
			return fail(err, -EINVAL);
	/* The steps in order; the last device segment is left running. */
	for (int i = 0; i < s->p.nsteps; i++) {
		const struct step *st = &s->p.steps[i];

		if (s->pending) {
			ret = wait_job(s, INT64_MAX, err);
			if (ret)
				return ret;
		}
		if (st->cpu) {
			if (prog_run_cpu(&s->p, st, s->in, s->model->nin, s->map[1]))
				return fail(err, -EINVAL);
			continue;
		}
		ret = tapu_submit(s->dev, s->streams[i], s->bo, access, 2, NULL, 0, NULL,
				  DRM_TAPU_PRIO_NORMAL, &s->job);
		if (ret)
			return failf(err, ret, "SUBMIT: %s", tapu_strerror(ret));
		s->pending = 1;
	}
	if (!s->pending) {
		/* Nothing left on the device: CPU nodes or boundary conversions. */
		s->done = 1;
		s->st.runs++;
	}
	return 0;
}

/**
 * tapu_onnx_wait() - wait for a submitted run
 * @s: session
 * @timeout_ns: relative; 0 polls
 * @err: out: why it failed (optional)
 *
 * Return: 0 once the outputs are ready (also when nothing was pending and a
 * run finished before); -ETIME when the timeout expires first (the run is
 * still pending); the job's error (-ETIMEDOUT, -EIO, ...) when it failed;
 * -EINVAL when no run was started.
 */
int tapu_onnx_wait(struct tapu_onnx_session *s, int64_t timeout_ns,
		   struct tapu_onnx_error *err)
{
	int ret;

	if (!s->pending)
		return s->done ? 0 : failf(err, -EINVAL, "no run was started");
	ret = wait_job(s, timeout_ns, err);
	if (ret)
		return ret;
	s->done = 1;
	s->st.runs++;
	return 0;
}

/**
 * tapu_onnx_run() - tapu_onnx_submit(), then wait for the run to finish
 * @s: session
 * @err: out: why it failed (optional)
 *
 * Return: as tapu_onnx_submit() and tapu_onnx_wait().
 */
int tapu_onnx_run(struct tapu_onnx_session *s, struct tapu_onnx_error *err)
{
	int ret = tapu_onnx_submit(s, err);

	return ret ?: tapu_onnx_wait(s, INT64_MAX, err);
}

/**
 * tapu_onnx_get_output() - an output of the finished run
 * @s: session
 * @name: output name
 * @info: out: type and shape (optional)
 * @data: out: elements in row-major order, of @info's type (optional)
 * @size: size of @data in bytes
 * @err: out: why it failed (optional)
 *
 * Return: 0; -ENOENT for a name that is not an output, -EINVAL when no run
 * finished since the inputs last changed, -ENOSPC when @size is too small
 * (@info is filled: call again with a larger buffer).
 */
int tapu_onnx_get_output(struct tapu_onnx_session *s, const char *name,
			 struct tapu_onnx_tensor_info *info, void *data,
			 size_t size, struct tapu_onnx_error *err)
{
	int i = find_output(s->model, name);
	struct tensor *t;

	if (i < 0)
		return failf(err, -ENOENT, "'%s' is not an output of the model", name);
	if (!s->done || s->pending)
		return failf(err, -EINVAL, "no finished run");
	if (!s->out[i].t) {
		s->out[i].t = prog_read_output(&s->p, name, s->map[1]);
		if (!s->out[i].t)
			return failf(err, -EINVAL, "output '%s' was not produced", name);
	}
	t = s->out[i].t;
	if (info)
		tensor_info(t, s->model->out[i].name, info);
	if (!data)
		return 0;
	if (size < t->n * tapu_onnx_type_size(t->dtype))
		return failf(err, -ENOSPC, "output '%s': %zu bytes, the buffer has %zu", name,
			     t->n * tapu_onnx_type_size(t->dtype), size);
	tensor_export(t, data);
	return 0;
}

void tapu_onnx_session_stats(const struct tapu_onnx_session *s,
			     struct tapu_onnx_stats *stats)
{
	*stats = s->st;
}

/**
 * tapu_onnx_session_placement() - where the nodes of the compiled model run
 * @s: session, compiled (it ran once)
 * @buf: out: a line of totals, on a device the multiply-accumulates of a
 *	run (convolutions, matrix products) on each side, then one line per
 *	node on the CPU with the reason it is not on the device
 * @size: size of @buf
 *
 * Return: the length of the whole text, as snprintf(); -EINVAL before the
 * first run.
 */
int tapu_onnx_session_placement(const struct tapu_onnx_session *s, char *buf, size_t size)
{
	size_t len;

	if (!s->compiled)
		return -EINVAL;
	uint64_t macs = s->p.dev_macs + s->p.cpu_macs;

	len = snprintf(buf, size, "%llu nodes on the device (%llu ops in %llu segments), "
		       "%llu on the CPU\n", (unsigned long long)s->st.device_nodes,
		       (unsigned long long)s->st.device_ops, (unsigned long long)s->st.segments,
		       (unsigned long long)s->st.cpu_nodes);
	if (s->dev && macs)
		len += snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0,
				"MACs: %llu on the device, %llu on the CPU (%.1f %% on the device)\n",
				(unsigned long long)s->p.dev_macs,
				(unsigned long long)s->p.cpu_macs, 100.0 * s->p.dev_macs / macs);
	for (int i = 0; s->dev && i < s->p.nsteps; i++) {
		const struct step *st = &s->p.steps[i];

		if (st->cpu)
			len += snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0,
					"  CPU: node '%s' (%s): %s\n", st->cpu->name, st->cpu->op,
					st->why);
	}
	return len;
}
