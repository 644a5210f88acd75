/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ONNX models for TAPU: reading (protobuf-c, onnx.proto), lowering to TAPU
 * command streams (lower.c) and an independent CPU reference executor
 * (ref.c) with the same integer arithmetic.
 */
#ifndef __TAPU_ONNX_MODEL_H__
#define __TAPU_ONNX_MODEL_H__

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

#define MAX_RANK	8
#define MAX_NODE_IN	32	/* QLinearConcat: 2 + 3 per input */

/* ONNX TensorProto.DataType values used here. */
enum { DT_FLOAT = 1, DT_UINT8 = 2, DT_INT8 = 3, DT_INT32 = 6, DT_INT64 = 7 };

/* A host tensor in ONNX (row-major) order: ints in i, floats in f. */
struct tensor {
	int dtype;
	int rank;
	int64_t dim[MAX_RANK];
	size_t n;
	int64_t *i;
	float *f;
};

/*
 * A graph node. Mostly the ONNX node itself; qdq_fold() makes nodes of the
 * QOperator form (op "QLinearConv", ...) out of DequantizeLinear -> op ->
 * QuantizeLinear, keeping the attributes of the float op in pb.
 */
struct node {
	const char *op, *name;
	int nin, nout, foreign;	/* foreign: an op of another domain */
	const char *in[MAX_NODE_IN], *out[4];
	const Onnx__NodeProto *pb;
	/* Relu or Clip between the op and its QuantizeLinear, folded in */
	const Onnx__NodeProto *act;
};

struct model {
	Onnx__ModelProto *pb;
	Onnx__GraphProto *g;
	int opset;
	struct node *nodes;
	int nnodes;
};

/* Errors: a message in err_msg (per thread), and the functions return -1. */
extern _Thread_local char err_msg[512];
int errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* @path names the model in messages. */
int model_load_buf(const void *buf, size_t len, const char *path, struct model *m);
void model_free(struct model *m);
int tensor_load(const char *path, struct tensor *t, char **name);
int tensor_from_pb(const Onnx__TensorProto *pb, struct tensor *t);
struct tensor *tensor_new(int dtype, int rank, const int64_t *dim);
struct tensor *tensor_copy(const struct tensor *t);
/* Numpy broadcasting: index in t of element k of the broadcast result y. */
size_t bcast_index(int trank, const int64_t *tdim, int yrank, const int64_t *ydim, size_t k);
size_t tensor_bidx(const struct tensor *t, const struct tensor *y, size_t k);
void tensor_free(struct tensor *t);
const char *dtype_name(int dtype);
int dtype_is_q8(int dtype);
/* Range of a quantised type: [-128, 127] or [0, 255]. */
void dtype_range(int dtype, int *lo, int *hi);

/* Node attributes with defaults. */
const Onnx__AttributeProto *node_attr(const struct node *n, const char *name);
int64_t attr_int(const struct node *n, const char *name, int64_t def);
float attr_float(const struct node *n, const char *name, float def);
/* Copies up to max ints, returns how many the attribute has (0 if absent). */
int attr_ints(const struct node *n, const char *name, int64_t *v, int max);
const char *attr_string(const struct node *n, const char *name, const char *def);
/* The input, or NULL when absent or empty (optional inputs). */
const char *node_in(const struct node *n, int i);

/* Quantisation arithmetic shared by the lowering and the reference. */
void quantize_multiplier(double real, int32_t *m, uint32_t *shift);
int64_t rshift64(int64_t v, unsigned int s);
int quantize_float(float x, float scale, int zp, int lo, int hi);
int fused_act(const struct model *m, const struct node *n, float ys, int yzp, int *lo,
	      int *hi);
/* Two input multipliers sharing one shift (quantised ADD/SUB). */
void quantize_pair(double ra, double rb, int32_t *ma, int32_t *mb, uint32_t *s);
/* 256-entry table of a float function on quantised values, indexed by the
 * native value minus lo (ref) / the int8 value + 128 (device). */
int lut_op(const char *op);
/* Output shape of Squeeze or Unsqueeze (axes: input 1, or the attribute
 * before opset 13); returns the output rank, or -1 for bad axes. */
int squeeze_shape(const struct node *n, int opset, const struct tensor *axes,
		  const int64_t *in, int rank, int64_t *out);
/* Requantization table from (xs, xzp) to (ys, yzp), clamped to [ylo, yhi]:
 * Q(clamp(v, a, b)) is clamp(Q(v), Q(a), Q(b)), so Relu and Clip between
 * two quantizations are exact through it. */
void requant_table(float xs, int xzp, int xlo, float ys, int yzp, int ylo, int yhi,
		   int16_t out[256]);
void lut_table(const struct node *n, float xs, int xzp, int xlo, float ys, int yzp,
	       int ylo, int yhi, int16_t out[256]);

/* Operators: known at all, and which inputs are parameters (scales, zero
 * points, weights, shapes) that must be known at compile time. */
int op_known(const struct node *n);
/* op is a word of list, which has a space before and after each word. */
int op_in(const char *list, const char *op);
/* Ops only the CPU runs (cpu.c), and their kernels. */
int cpu_only_op(const struct node *n);
struct tensor *cpu_node(const struct model *m, const struct node *n, struct tensor **a);
int cpu_split(const struct model *m, const struct node *n, struct tensor **a,
	      struct tensor **y);
int op_param_port(const struct node *n, int port);

/* What the operator table (optable.c) reads: known op i (NULL after the
 * last), the op a QDQ form folds into, whether the lowering has an op, the
 * ops of CPU float kernel i (space-separated, NULL after the last), and
 * whether there is one for op. */
const char *known_op_name(int i);
const char *qdq_fold_target(const char *op);
int device_op(const char *op);
const char *cpu_kernel_ops(int i);
int cpu_kernel(const char *op);
/* Data movement the CPU also does on floats (ref.c); CPU-only op i (NULL
 * after the last); the CPU ops that also take integers. */
extern const char *const float_layout_ops;
const char *cpu_only_op_name(int i);
extern const char *const cpu_integer_ops;

/* Builds m->nodes, folding the QDQ form: DequantizeLinear -> Conv, MatMul,
 * Gemm, Add, Mul, Sigmoid, Tanh, pools, Relu, ... -> QuantizeLinear becomes
 * one QOperator node of the same arithmetic. */
int qdq_fold(struct model *m);

/* Host QuantizeLinear (dq 0) / DequantizeLinear (dq 1), per tensor or along
 * axis; the output type of QuantizeLinear is that of zp (uint8 if NULL). */
struct tensor *qdq_apply(int dq, const struct tensor *x, const struct tensor *scale,
			 const struct tensor *zp, int axis);

#endif

/*
 * Lowering (lower.c). Every tensor the device touches lives in one of two
 * BOs: slot 0 holds the constants (weights, biases, requantisation pairs,
 * tables), slot 1 the activations (inputs, intermediates, outputs). A value
 * on the device is a dense byte range of its slot seen through a view: up
 * to 4 (dim, byte stride) pairs in ONNX row-major order, so that NCHW
 * tensors are stored NHWC and Flatten, Reshape and Transpose are views.
 */
struct tapu_stream_builder;

struct val {
	const char *name;
	int dtype, rank;
	int64_t dim[MAX_RANK];
	struct tensor *cst;		/* known at compile time */
	int own_cst;			/* cst is the program's to free */
	int own_name;			/* name is the program's to free */
	int host;			/* computed by a CPU node */
	int to_dev;			/* ... and read by the device: written to slot 1 */
	struct tensor *ht;		/* host value in the current run */
	struct val *dev_at;		/* to_dev: where the CPU writes it (a later
					 * node may move the value on the device) */
	int dev;			/* has a place on the device */
	uint32_t slot, off;
	uint32_t tdim[4];		/* dense NHWC extent */
	int nv;
	uint32_t vdim[4], vstr[4];	/* view in ONNX order */
};

/*
 * A program runs as steps: device segments (a command stream each) and the
 * CPU nodes between them, the nodes the device cannot run.
 */
struct step {
	const struct node *cpu;		/* NULL: a device segment */
	struct val *in;			/* CPU: its device inputs where they are
					 * when it runs (later nodes may move them) */
	struct tapu_stream_builder *sb;	/* the segment's ops */
	unsigned int nops;
	char *why;			/* CPU: why not on the device */
};

struct prog {
	struct model *m;
	uint64_t max_work;		/* of one device op, 0: no limit */
	struct tapu_stream_builder *sb;	/* the open segment */
	unsigned int nops;		/* device ops, all segments */
	unsigned int seg_ops;		/* ops of the open segment */
	struct step *steps;
	int nsteps;
	int dev_nodes, cpu_nodes;
	uint64_t dev_macs, cpu_macs;	/* multiply-accumulates of a run */
	uint8_t *cst;			/* slot 0 contents */
	size_t ncst, cst_cap;
	size_t arena;			/* slot 1 size */
	struct val *v;
	int nv, v_cap;
};

/* Graph inputs: name and value (shape and type for data inputs, the
 * constant for parameters such as scales and weights). */
struct binding {
	const char *name;
	struct tensor *t;
};

/* @max_work: the device's &drm_tapu_limits.max_stream_work (0: none);
 * convolutions above it are split by output channels. */
int prog_compile(struct prog *p, struct model *m, const struct binding *in, int nin,
		 uint64_t max_work);
/* A graph input only parameter ports read: its value is compiled in. */
int prog_input_is_param(const struct model *m, const char *name);
void prog_free(struct prog *p);
/* Writes a graph input into the slot 1 image (host QuantizeLinear if the
 * model starts with one); ignores parameters. */
int prog_write_input(struct prog *p, const char *name, const struct tensor *t,
		     uint8_t *arena);
/* Reads a graph output from the slot 1 image (host DequantizeLinear if
 * the model ends with one), or from the CPU node that computed it. */
struct tensor *prog_read_output(struct prog *p, const char *name, const uint8_t *arena);
/* Runs CPU step st: inputs from the device's slot 1 image, earlier CPU
 * nodes, constants or the graph inputs in; outputs the device reads are
 * written to the image. */
int prog_run_cpu(struct prog *p, const struct step *st, const struct binding *in, int nin,
		 uint8_t *arena);

/* The CPU kernels (ref.c, cpu.c): one node on host tensors in ONNX layout
 * (inputs in node order, NULL where absent), or the whole graph. */
struct tensor *ref_node(const struct model *m, const struct node *n, struct tensor **a);
/* Every output of node n into y (n->nout of them); 0 or -1. */
int ref_node_outputs(const struct model *m, const struct node *n, struct tensor **a,
		     struct tensor **y);
int ref_run(struct model *m, const struct binding *in, int nin,
	    struct binding *out, int nout);
