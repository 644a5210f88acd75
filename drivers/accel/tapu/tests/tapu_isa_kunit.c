// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * KUnit tests of the command-stream validator: every opcode valid once,
 * with the summary it yields checked exactly, then one case per malformed
 * class (header, reserved and unused fields, slots, dimensions, alignment,
 * extents and element counts, stream framing, shapes and scalar ranges).
 *
 * Each case starts from one of the valid base operations below, applies up
 * to three field patches to its first copy and validates @repeat copies of
 * it, @trim bytes longer or shorter.
 */

#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include "../tapu_isa.h"

union tk_op {
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

/**
 * struct tk_ext - expected extent of one slot
 * @slot: slot
 * @bytes: extent; 0 ends the list
 */
struct tk_ext {
	u32 slot;
	u64 bytes;
};

/**
 * struct tk_base - a valid operation and the summary it validates to
 * @op: the operation, hdr.size set
 * @num_slots: expected &tapu_isa_summary.num_slots
 * @written: expected &tapu_isa_summary.written
 * @ext: expected non-zero extents; every other slot's is 0
 */
struct tk_base {
	union tk_op op;
	u32 num_slots;
	u64 written;
	struct tk_ext ext[5];
};

#define TK_HDR(op, type, fl) {						\
	.opcode = DRM_TAPU_OP_##op,					\
	.size = sizeof(struct drm_tapu_op_##type),			\
	.flags = (fl),							\
}

/* Tensors spell out their byte strides, so that extents can be checked. */
#define TK_V(a, b, c, d)	{ a, b, c, d }
#define TK_T(s, o, d, st)	{ .slot = (s), .offset = (o), .dim = d, .stride = st }
#define TK_VEC(s, o, c, e)	TK_T(s, o, TK_V(1, 1, 1, c), TK_V(0, 0, 0, e))

#define TK_MAC_FLAGS	(DRM_TAPU_OP_F_BIAS | DRM_TAPU_OP_F_PER_CHANNEL)
#define TK_DMAX		DRM_TAPU_MAX_DIM
#define TK_DIMS_MAX	TK_V(TK_DMAX, TK_DMAX, TK_DMAX, TK_DMAX)
#define TK_STRIDES_MAX	TK_V(U32_MAX, U32_MAX, U32_MAX, U32_MAX)
#define TK_STRIDES_0	TK_V(0, 0, 0, 0)
/* The largest span: every dimension and stride at its maximum. */
#define TK_SPAN_MAX	(4ULL * (TK_DMAX - 1) * U32_MAX)

#define TK_ELT(op, ta, tb, to, bm) { .elt = {				\
	.hdr = TK_HDR(op, eltwise, 0), .a = ta, .b = tb, .output = to,	\
	.a_zp = -1, .b_zp = 2, .output_zp = 3, .a_mul = 3, .b_mul = bm,	\
	.shift = 1, .act_min = -10, .act_max = 10 } }

#define TK_ACT(op, ti, to, lo, hi) { .act = {				\
	.hdr = TK_HDR(op, act, 0), .input = ti, .output = to,		\
	.min = lo, .max = hi } }

#define TK_RS(op, ti, to, ...) { .rs = {				\
	.hdr = TK_HDR(op, rs, 0), .input = ti, .output = to,		\
	.perm = { __VA_ARGS__ } } }

#define TK_1234		TK_V(1, 2, 3, 4)
#define TK_1234_DENSE	TK_V(24, 12, 4, 1)

enum tk_base_id {
	B_NOP, B_CONV2D, B_DWCONV, B_FC, B_ADD, B_SUB, B_MUL, B_MAXPOOL,
	B_AVGPOOL, B_RELU, B_RELU6, B_CLAMP, B_LUT, B_COPY, B_RESHAPE,
	B_TRANSPOSE, B_CONCAT, B_PAD,
	B_NUM_OPS,	/* above: one of each opcode, in opcode order */
	B_COPY_MAX = B_NUM_OPS, B_RESHAPE_MAX,
};

/* Extents are offset + sum((dim - 1) * stride) + element size. */
static const struct tk_base tk_bases[] = {
	[B_NOP] = { .op.hdr = TK_HDR(NOP, hdr, 0) },
	/* Ho = Wo = (5 + 1 + 1 - 2 - 1) / 2 + 1 = 3; bias and quant in slot 2. */
	[B_CONV2D] = { .op.conv = {
		.hdr = TK_HDR(CONV2D, conv, TK_MAC_FLAGS),
		.input = TK_T(0, 0, TK_V(1, 5, 5, 2), TK_V(50, 10, 2, 1)),
		.weights = TK_T(1, 0, TK_V(3, 3, 3, 2), TK_V(18, 6, 2, 1)),
		.bias = TK_VEC(2, 0, 3, 4),
		.quant = TK_VEC(2, 16, 3, 8),
		.output = TK_T(3, 0, TK_V(1, 3, 3, 3), TK_V(27, 9, 3, 1)),
		.stride = { 2, 2 }, .dilation = { 1, 1 }, .pad = { 1, 1, 1, 1 },
		.input_zp = -128, .weight_zp = 127, .output_zp = 5,
		.act_min = -128, .act_max = 127 },
		4, BIT(3), { { 0, 50 }, { 1, 54 }, { 2, 16 + 24 }, { 3, 27 } } },
	/* Co = 4 = Ci * 2; Ho = (4 - 2 * 1 - 1) / 1 + 1 = 2. */
	[B_DWCONV] = { .op.conv = {
		.hdr = TK_HDR(DEPTHWISE_CONV2D, conv, 0),
		.input = TK_T(0, 0, TK_V(1, 4, 4, 2), TK_V(32, 8, 2, 1)),
		.weights = TK_T(1, 0, TK_V(1, 2, 2, 4), TK_V(16, 8, 4, 1)),
		.output = TK_T(2, 0, TK_V(1, 2, 2, 4), TK_V(16, 8, 4, 1)),
		.stride = { 1, 1 }, .dilation = { 2, 2 },
		.multiplier = 1 << 20, .shift = 30,
		.act_min = -128, .act_max = 127 },
		3, BIT(2), { { 0, 32 }, { 1, 16 }, { 2, 16 } } },
	/* Output rows 8 bytes apart: 4 + (2 - 1) * 8 + (4 - 1) * 1 + 1. */
	[B_FC] = { .op.conv = {
		.hdr = TK_HDR(FULLY_CONNECTED, conv, DRM_TAPU_OP_F_BIAS),
		.input = TK_T(0, 0, TK_V(2, 1, 1, 8), TK_V(8, 8, 8, 1)),
		.weights = TK_T(1, 0, TK_V(4, 1, 1, 8), TK_V(8, 8, 8, 1)),
		.bias = TK_VEC(1, 32, 4, 4),
		.output = TK_T(2, 4, TK_V(2, 1, 1, 4), TK_V(8, 4, 4, 1)),
		.multiplier = 12345, .shift = 10,
		.act_min = -100, .act_max = 100 },
		3, BIT(2), { { 0, 16 }, { 1, 32 + 16 }, { 2, 16 } } },
	[B_ADD] = { TK_ELT(ADD, TK_T(0, 0, TK_1234, TK_1234_DENSE),
			   TK_VEC(0, 100, 4, 1),
			   TK_T(1, 0, TK_1234, TK_1234_DENSE), -2),
		    2, BIT(1), { { 0, 104 }, { 1, 24 } } },
	/* a is one element repeated through zero strides. */
	[B_SUB] = { TK_ELT(SUB, TK_T(0, 8, TK_1234, TK_STRIDES_0),
			   TK_T(1, 0, TK_V(1, 2, 3, 1), TK_V(6, 3, 1, 1)),
			   TK_T(2, 0, TK_1234, TK_1234_DENSE), 5),
		    3, BIT(2), { { 0, 9 }, { 1, 6 }, { 2, 24 } } },
	[B_MUL] = { TK_ELT(MUL, TK_T(0, 0, TK_V(1, 1, 3, 4), TK_V(12, 12, 4, 1)),
			   TK_T(0, 12, TK_V(2, 1, 3, 4), TK_V(12, 12, 4, 1)),
			   TK_T(1, 0, TK_V(2, 1, 3, 4), TK_V(12, 12, 4, 1)), 0),
		    2, BIT(1), { { 0, 12 + 24 }, { 1, 24 } } },
	[B_MAXPOOL] = { .op.pool = {
		.hdr = TK_HDR(MAXPOOL, pool, 0),
		.input = TK_T(0, 0, TK_V(1, 4, 4, 3), TK_V(48, 12, 3, 1)),
		.output = TK_T(1, 0, TK_V(1, 2, 2, 3), TK_V(12, 6, 3, 1)),
		.kernel = { 2, 2 }, .stride = { 2, 2 },
		.act_min = -128, .act_max = 127 },
		2, BIT(1), { { 0, 48 }, { 1, 12 } } },
	/* Ho = (5 + 2 + 2 - 3) / 2 + 1 = 4, Wo = (5 + 1 + 1 - 3) / 2 + 1 = 3. */
	[B_AVGPOOL] = { .op.pool = {
		.hdr = TK_HDR(AVGPOOL, pool, 0),
		.input = TK_T(0, 0, TK_V(1, 5, 5, 1), TK_V(25, 5, 1, 1)),
		.output = TK_T(1, 0, TK_V(1, 4, 3, 1), TK_V(12, 3, 1, 1)),
		.kernel = { 3, 3 }, .stride = { 2, 2 }, .pad = { 2, 1, 2, 1 },
		.act_min = -128, .act_max = 127 },
		2, BIT(1), { { 0, 25 }, { 1, 12 } } },
	/* Output after the input in the same BO. */
	[B_RELU] = { TK_ACT(RELU, TK_VEC(0, 0, 16, 1), TK_VEC(0, 16, 16, 1),
			    -5, 0),
		     1, BIT(0), { { 0, 32 } } },
	/* Slots 0 and 1 unused: num_slots is the highest slot + 1. */
	[B_RELU6] = { TK_ACT(RELU6, TK_T(2, 0, TK_V(2, 1, 1, 8), TK_V(8, 8, 8, 1)),
			     TK_T(3, 0, TK_V(2, 1, 1, 8), TK_V(8, 8, 8, 1)),
			     -128, 100),
		      4, BIT(3), { { 2, 16 }, { 3, 16 } } },
	[B_CLAMP] = { TK_ACT(CLAMP, TK_VEC(TAPU_MAX_SLOTS - 2, 0, 1, 1),
			     TK_VEC(TAPU_MAX_SLOTS - 1, 0, 1, 1), -3, 3),
		      TAPU_MAX_SLOTS, BIT_ULL(TAPU_MAX_SLOTS - 1),
		      { { TAPU_MAX_SLOTS - 2, 1 }, { TAPU_MAX_SLOTS - 1, 1 } } },
	/* The table is read, not written. */
	[B_LUT] = { .op.lut = {
		.hdr = TK_HDR(LUT, lut, 0),
		.input = TK_T(0, 0, TK_V(1, 2, 2, 2), TK_V(8, 4, 2, 1)),
		.output = TK_T(1, 0, TK_V(1, 2, 2, 2), TK_V(8, 4, 2, 1)),
		.table = TK_VEC(2, 0, 256, 1) },
		3, BIT(1), { { 0, 8 }, { 1, 8 }, { 2, 256 } } },
	/* Transposed input view: 1 * 1 + 2 * 2 + 3 * 6 + 1. */
	[B_COPY] = { TK_RS(COPY, TK_T(0, 0, TK_1234, TK_V(24, 1, 2, 6)),
			   TK_T(1, 8, TK_1234, TK_1234_DENSE)),
		     2, BIT(1), { { 0, 24 }, { 1, 8 + 24 } } },
	[B_RESHAPE] = { TK_RS(RESHAPE, TK_T(0, 0, TK_1234, TK_1234_DENSE),
			      TK_T(1, 0, TK_V(4, 3, 2, 1), TK_V(6, 2, 1, 1))),
			2, BIT(1), { { 0, 24 }, { 1, 24 } } },
	[B_TRANSPOSE] = { TK_RS(TRANSPOSE, TK_T(0, 0, TK_1234, TK_1234_DENSE),
				TK_T(1, 0, TK_V(1, 4, 2, 3), TK_V(24, 6, 3, 1)),
				0, 3, 1, 2),
			  2, BIT(1), { { 0, 24 }, { 1, 24 } } },
	[B_CONCAT] = { .op.cat = {
		.hdr = TK_HDR(CONCAT, concat, 0),
		.a = TK_T(0, 0, TK_V(1, 2, 2, 3), TK_V(12, 6, 3, 1)),
		.b = TK_T(1, 0, TK_V(1, 2, 2, 5), TK_V(20, 10, 5, 1)),
		.output = TK_T(2, 0, TK_V(1, 2, 2, 8), TK_V(32, 16, 8, 1)),
		.axis = 3 },
		3, BIT(2), { { 0, 12 }, { 1, 20 }, { 2, 32 } } },
	[B_PAD] = { .op.pad = {
		.hdr = TK_HDR(PAD, pad, 0),
		.input = TK_T(0, 0, TK_V(1, 2, 2, 1), TK_V(4, 2, 1, 1)),
		.output = TK_T(1, 0, TK_V(1, 6, 4, 2), TK_V(48, 8, 2, 1)),
		.before = { 0, 1, 2, 0 }, .after = { 0, 3, 0, 1 },
		.value = -128 },
		2, BIT(1), { { 0, 4 }, { 1, 48 } } },
	/*
	 * The largest extent there is, about 2^50: extents cannot overflow
	 * u64, element counts can.
	 */
	[B_COPY_MAX] = { TK_RS(COPY, TK_T(0, U32_MAX, TK_DIMS_MAX, TK_STRIDES_MAX),
			       TK_T(1, 0, TK_DIMS_MAX, TK_STRIDES_MAX)),
			 2, BIT(1), { { 0, U32_MAX + TK_SPAN_MAX + 1 },
				      { 1, TK_SPAN_MAX + 1 } } },
	/* The largest element count, 2^48 * 65535; one more overflows. */
	[B_RESHAPE_MAX] = { TK_RS(RESHAPE,
				  TK_T(0, 0, TK_V(TK_DMAX, TK_DMAX, TK_DMAX,
						  TK_DMAX - 1), TK_STRIDES_0),
				  TK_T(1, 0, TK_V(TK_DMAX - 1, TK_DMAX, TK_DMAX,
						  TK_DMAX), TK_STRIDES_0)),
			    2, BIT(1), { { 0, 1 }, { 1, 1 } } },
};

/**
 * struct tk_patch - overwrite one field of an operation
 * @off: byte offset of the field
 * @size: field size (1, 2 or 4); 0 ends the list
 * @val: new value, truncated to @size
 */
struct tk_patch {
	u16 off;
	u8 size;
	s64 val;
};

/* P(type, value, field): set a field of struct drm_tapu_op_<type>. */
#define P(type, v, ...) {						\
	offsetof(struct drm_tapu_op_##type, __VA_ARGS__),		\
	sizeof_field(struct drm_tapu_op_##type, __VA_ARGS__), (v)	\
}

/**
 * struct tk_case - one validator case
 * @name: case name
 * @base: &enum tk_base_id to start from
 * @repeat: copies of the operation in the stream (0 for 1)
 * @trim: bytes added to (or, negative, removed from) the stream size
 * @patch: patches applied to the first copy
 * @ret: expected return; on 0 the base's summary is expected too
 */
struct tk_case {
	const char *name;
	u8 base;
	u32 repeat;
	s32 trim;
	struct tk_patch patch[3];
	int ret;
};

#define C(nm, b, r, ...) { .name = nm, .base = B_##b, .ret = r,	\
			   .patch = { __VA_ARGS__ } }
#define S(nm, b, rep, tr, r) { .name = nm, .base = B_##b, .repeat = rep, \
			       .trim = tr, .ret = r }
#define TK_NOPS_MAX	(TAPU_MAX_CMDSTREAM_SIZE / sizeof(struct drm_tapu_op_hdr))
#define TK_CONV_SIZE	((s32)sizeof(struct drm_tapu_op_conv))

static const struct tk_case tk_cases[] = {
	/* Every opcode valid once, and the boundary bases. */
	C("nop", NOP, 0), C("conv2d", CONV2D, 0), C("depthwise", DWCONV, 0),
	C("fully_connected", FC, 0), C("add", ADD, 0), C("sub", SUB, 0),
	C("mul", MUL, 0), C("maxpool", MAXPOOL, 0), C("avgpool", AVGPOOL, 0),
	C("relu", RELU, 0), C("relu6", RELU6, 0), C("clamp slot 63", CLAMP, 0),
	C("lut", LUT, 0), C("copy", COPY, 0), C("reshape", RESHAPE, 0),
	C("transpose", TRANSPOSE, 0), C("concat", CONCAT, 0), C("pad", PAD, 0),
	C("copy largest extent", COPY_MAX, 0),
	C("reshape largest count", RESHAPE_MAX, 0),

	/* Header: opcode, size, flags. */
	C("opcode 0", NOP, -EINVAL, P(hdr, 0, opcode)),
	C("opcode count", NOP, -EINVAL, P(hdr, DRM_TAPU_OP_COUNT, opcode)),
	C("opcode 0xffff", NOP, -EINVAL, P(hdr, 0xffff, opcode)),
	C("nop flags", NOP, -EINVAL, P(hdr, 1, flags)),
	C("add bias flag", ADD, -EINVAL, P(hdr, DRM_TAPU_OP_F_BIAS, flags)),
	C("conv flag 2", CONV2D, -EINVAL, P(hdr, TK_MAC_FLAGS | BIT(2), flags)),
	C("conv flag 31", CONV2D, -EINVAL, P(hdr, TK_MAC_FLAGS | BIT(31), flags)),
	C("avgpool round even", AVGPOOL, 0, P(hdr, DRM_TAPU_OP_F_ROUND_EVEN, flags)),
	C("avgpool round odd", AVGPOOL, 0, P(hdr, DRM_TAPU_OP_F_ROUND_ODD, flags)),
	C("avgpool round both", AVGPOOL, -EINVAL,
	  P(hdr, DRM_TAPU_OP_F_ROUND_EVEN | DRM_TAPU_OP_F_ROUND_ODD, flags)),
	C("avgpool flag 4", AVGPOOL, -EINVAL, P(hdr, BIT(4), flags)),
	C("maxpool round even", MAXPOOL, -EINVAL,
	  P(hdr, DRM_TAPU_OP_F_ROUND_EVEN, flags)),
	C("nop size 0", NOP, -EINVAL, P(hdr, 0, size)),
	C("nop size 4", NOP, -EINVAL, P(hdr, 4, size)),
	C("conv size -4", CONV2D, -EINVAL, P(hdr, TK_CONV_SIZE - 4, size)),
	C("conv size of eltwise", CONV2D, -EINVAL,
	  P(hdr, sizeof(struct drm_tapu_op_eltwise), size)),
	C("add as conv", ADD, -EINVAL, P(hdr, DRM_TAPU_OP_CONV2D, opcode)),
	C("conv as add", CONV2D, -EINVAL, P(hdr, DRM_TAPU_OP_ADD, opcode)),

	/* Reserved fields. */
	C("conv reserved", CONV2D, -EINVAL, P(conv, 1, reserved)),
	C("copy reserved", COPY, -EINVAL, P(rs, BIT(31), reserved)),
	C("reshape reserved", RESHAPE, -EINVAL, P(rs, 1, reserved)),
	C("transpose reserved", TRANSPOSE, -EINVAL, P(rs, 1, reserved)),
	C("copy perm", COPY, -EINVAL, P(rs, 1, perm[0])),
	C("reshape perm", RESHAPE, -EINVAL, P(rs, 1, perm[3])),
	C("concat reserved", CONCAT, -EINVAL, P(concat, 1, reserved)),
	C("pad reserved", PAD, -EINVAL, P(pad, 1, reserved)),

	/* Unused tensors are all zero; per-channel replaces the scalars. */
	C("dw unused bias slot", DWCONV, -EINVAL, P(conv, 1, bias.slot)),
	C("dw unused quant dim", DWCONV, -EINVAL, P(conv, 1, quant.dim[0])),
	C("fc unused quant stride", FC, -EINVAL, P(conv, 8, quant.stride[3])),
	C("fc unused quant offset", FC, -EINVAL, P(conv, 8, quant.offset)),
	C("conv bias without flag", CONV2D, -EINVAL,
	  P(hdr, DRM_TAPU_OP_F_PER_CHANNEL, flags)),
	C("conv quant without flag", CONV2D, -EINVAL,
	  P(hdr, DRM_TAPU_OP_F_BIAS, flags)),
	C("per-channel multiplier", CONV2D, -EINVAL, P(conv, 1, multiplier)),
	C("per-channel shift", CONV2D, -EINVAL, P(conv, 1, shift)),

	/* Slots. */
	C("input slot 64", CONV2D, -EINVAL, P(conv, TAPU_MAX_SLOTS, input.slot)),
	C("output slot max", CONV2D, -EINVAL, P(conv, U32_MAX, output.slot)),
	C("bias slot 64", CONV2D, -EINVAL, P(conv, TAPU_MAX_SLOTS, bias.slot)),
	C("table slot 64", LUT, -EINVAL, P(lut, TAPU_MAX_SLOTS, table.slot)),
	C("clamp output slot 64", CLAMP, -EINVAL,
	  P(act, TAPU_MAX_SLOTS, output.slot)),

	/* Dimensions: 1 to DRM_TAPU_MAX_DIM. */
	C("input dim0 0", CONV2D, -EINVAL, P(conv, 0, input.dim[0])),
	C("weights dim1 0", CONV2D, -EINVAL, P(conv, 0, weights.dim[1])),
	C("bias dim2 0", CONV2D, -EINVAL, P(conv, 0, bias.dim[2])),
	C("quant dim3 0", CONV2D, -EINVAL, P(conv, 0, quant.dim[3])),
	C("output dim3 0", CONV2D, -EINVAL, P(conv, 0, output.dim[3])),
	C("add b dim0 0", ADD, -EINVAL, P(eltwise, 0, b.dim[0])),
	C("reshape out dim2 0", RESHAPE, -EINVAL, P(rs, 0, output.dim[2])),
	C("dim 65537", COPY_MAX, -EINVAL, P(rs, TK_DMAX + 1, input.dim[0])),
	C("dim max", COPY_MAX, -EINVAL, P(rs, U32_MAX, output.dim[3]),
	  P(rs, U32_MAX, input.dim[3])),

	/* Offsets and strides are multiples of the element size. */
	C("bias offset 2", CONV2D, -EINVAL, P(conv, 2, bias.offset)),
	C("bias stride 6", CONV2D, -EINVAL, P(conv, 6, bias.stride[3])),
	C("quant offset 20", CONV2D, -EINVAL, P(conv, 20, quant.offset)),
	C("quant stride 4", CONV2D, -EINVAL, P(conv, 4, quant.stride[2])),
	C("fc bias stride 1", FC, -EINVAL, P(conv, 1, bias.stride[0])),

	/* Element counts: the largest is accepted, one more overflows. */
	C("reshape in count overflow", RESHAPE_MAX, -EOVERFLOW,
	  P(rs, TK_DMAX, input.dim[3])),
	C("reshape out count overflow", RESHAPE_MAX, -EOVERFLOW,
	  P(rs, TK_DMAX, output.dim[0])),
	C("reshape all dims 65536", RESHAPE_MAX, -EOVERFLOW,
	  P(rs, TK_DMAX, input.dim[3]), P(rs, TK_DMAX, output.dim[0])),
	C("reshape big count mismatch", RESHAPE_MAX, -EINVAL,
	  P(rs, TK_DMAX - 2, input.dim[3])),

	/* Stream framing. */
	S("size 0", NOP, 1, -8, -EINVAL),
	S("size 4", NOP, 1, -4, -EINVAL),
	S("size 6", NOP, 1, -2, -EINVAL),
	S("size 10", NOP, 1, 2, -EINVAL),
	S("trailing word", NOP, 1, 4, -EINVAL),
	S("two nops", NOP, 2, 0, 0),
	S("header truncated", NOP, 2, -4, -EINVAL),
	S("conv truncated", CONV2D, 1, -4, -EINVAL),
	S("second conv truncated", CONV2D, 2, -8, -EINVAL),
	S("pad header only", PAD, 1, 8 - (s32)sizeof(struct drm_tapu_op_pad),
	  -EINVAL),
	S("1 MiB of nops", NOP, TK_NOPS_MAX, 0, 0),
	S("over 1 MiB", NOP, TK_NOPS_MAX + 1, 0, -EINVAL),
	{ .name = "nop size 16", .base = B_NOP, .repeat = 2, .ret = -EINVAL,
	  .patch = { P(hdr, 16, size) } },

	/* Zero points, clamps and shifts. */
	C("conv input_zp -129", CONV2D, -EINVAL, P(conv, -129, input_zp)),
	C("conv weight_zp 128", CONV2D, -EINVAL, P(conv, 128, weight_zp)),
	C("conv output_zp 128", CONV2D, -EINVAL, P(conv, 128, output_zp)),
	C("conv min > max", CONV2D, -EINVAL, P(conv, 127, act_min),
	  P(conv, -128, act_max)),
	C("conv act_max 128", DWCONV, -EINVAL, P(conv, 128, act_max)),
	C("conv shift 62", DWCONV, 0, P(conv, 62, shift)),
	C("conv shift 63", DWCONV, -EINVAL, P(conv, 63, shift)),
	C("add a_zp 127", ADD, 0, P(eltwise, 127, a_zp)),
	C("add a_zp 128", ADD, -EINVAL, P(eltwise, 128, a_zp)),
	C("add b_zp -129", ADD, -EINVAL, P(eltwise, -129, b_zp)),
	C("add output_zp -129", ADD, -EINVAL, P(eltwise, -129, output_zp)),
	C("add min == max", ADD, 0, P(eltwise, 0, act_min),
	  P(eltwise, 0, act_max)),
	C("add min > max", ADD, -EINVAL, P(eltwise, 1, act_min),
	  P(eltwise, 0, act_max)),
	C("add act_min -129", ADD, -EINVAL, P(eltwise, -129, act_min)),
	C("add act_max 128", ADD, -EINVAL, P(eltwise, 128, act_max)),
	C("add shift 62", ADD, 0, P(eltwise, 62, shift)),
	C("add shift 63", ADD, -EINVAL, P(eltwise, 63, shift)),
	C("sub shift max", SUB, -EINVAL, P(eltwise, U32_MAX, shift)),
	C("mul b_mul", MUL, -EINVAL, P(eltwise, 1, b_mul)),
	C("pool act_max 128", MAXPOOL, -EINVAL, P(pool, 128, act_max)),
	C("pool min > max", AVGPOOL, -EINVAL, P(pool, 1, act_min),
	  P(pool, -1, act_max)),
	C("relu min 127", RELU, 0, P(act, 127, min)),
	C("relu min 128", RELU, -EINVAL, P(act, 128, min)),
	C("relu min -129", RELU, -EINVAL, P(act, -129, min)),
	C("relu max 1", RELU, -EINVAL, P(act, 1, max)),
	C("relu6 min > max", RELU6, -EINVAL, P(act, 101, min)),
	C("relu6 min == max", RELU6, 0, P(act, 100, min)),
	C("relu6 max 128", RELU6, -EINVAL, P(act, 128, max)),
	C("clamp min > max", CLAMP, -EINVAL, P(act, 4, min)),
	C("clamp max -129", CLAMP, -EINVAL, P(act, -129, max)),
	C("pad value 127", PAD, 0, P(pad, 127, value)),
	C("pad value 128", PAD, -EINVAL, P(pad, 128, value)),
	C("pad value -129", PAD, -EINVAL, P(pad, -129, value)),

	/* Shapes. */
	C("conv weights ci", CONV2D, -EINVAL, P(conv, 1, weights.dim[3])),
	C("conv weights co", CONV2D, -EINVAL, P(conv, 2, weights.dim[0])),
	C("conv output n", CONV2D, -EINVAL, P(conv, 2, output.dim[0])),
	C("conv output h", CONV2D, -EINVAL, P(conv, 2, output.dim[1])),
	C("conv output w", CONV2D, -EINVAL, P(conv, 4, output.dim[2])),
	C("conv stride 0", CONV2D, -EINVAL, P(conv, 0, stride[0])),
	C("conv dilation 0", CONV2D, -EINVAL, P(conv, 0, dilation[1])),
	C("conv window too big", CONV2D, -EINVAL, P(conv, 4, dilation[0])),
	C("conv bias co", CONV2D, -EINVAL, P(conv, 2, bias.dim[3])),
	C("conv quant co", CONV2D, -EINVAL, P(conv, 3, quant.dim[0])),
	C("dw weights n", DWCONV, -EINVAL, P(conv, 2, weights.dim[0])),
	C("dw co % ci", DWCONV, -EINVAL, P(conv, 3, input.dim[3])),
	C("dw stride 0", DWCONV, -EINVAL, P(conv, 0, stride[1])),
	C("fc stride", FC, -EINVAL, P(conv, 1, stride[0])),
	C("fc dilation", FC, -EINVAL, P(conv, 1, dilation[1])),
	C("fc pad", FC, -EINVAL, P(conv, 1, pad[3])),
	C("fc weights h", FC, -EINVAL, P(conv, 2, weights.dim[1])),
	C("fc weights ci", FC, -EINVAL, P(conv, 4, weights.dim[3])),
	C("fc output h", FC, -EINVAL, P(conv, 2, output.dim[1])),
	C("fc output co", FC, -EINVAL, P(conv, 3, output.dim[3])),
	C("fc bias co", FC, -EINVAL, P(conv, 3, bias.dim[3])),
	C("add b not broadcast", ADD, -EINVAL, P(eltwise, 2, b.dim[3])),
	C("add a bigger", ADD, -EINVAL, P(eltwise, 3, a.dim[1])),
	C("add output broadcast", ADD, -EINVAL, P(eltwise, 1, output.dim[1])),
	C("sub b n", SUB, -EINVAL, P(eltwise, 2, b.dim[0])),
	C("maxpool pad k - 1", MAXPOOL, 0, P(pool, 1, pad[0])),
	C("maxpool pad k", MAXPOOL, -EINVAL, P(pool, 2, pad[0])),
	C("maxpool pad right k", MAXPOOL, -EINVAL, P(pool, 2, pad[3])),
	C("maxpool kernel 0", MAXPOOL, -EINVAL, P(pool, 0, kernel[1])),
	C("maxpool stride 0", MAXPOOL, -EINVAL, P(pool, 0, stride[0])),
	C("maxpool output c", MAXPOOL, -EINVAL, P(pool, 2, output.dim[3])),
	C("maxpool output n", MAXPOOL, -EINVAL, P(pool, 2, output.dim[0])),
	C("maxpool output h", MAXPOOL, -EINVAL, P(pool, 3, output.dim[1])),
	/* Same output size, but the pad is the whole kernel. */
	C("avgpool pad top k", AVGPOOL, -EINVAL, P(pool, 3, pad[0])),
	C("relu dims", RELU, -EINVAL, P(act, 15, output.dim[3])),
	C("lut dims", LUT, -EINVAL, P(lut, 2, output.dim[0])),
	C("lut table 255", LUT, -EINVAL, P(lut, 255, table.dim[3])),
	C("lut table n", LUT, -EINVAL, P(lut, 2, table.dim[0])),
	C("copy dims", COPY, -EINVAL, P(rs, 3, output.dim[3])),
	C("reshape count", RESHAPE, -EINVAL, P(rs, 5, output.dim[0])),
	/* perm 3, 3, 1, 2 with output dims that match it. */
	C("transpose dup perm", TRANSPOSE, -EINVAL, P(rs, 3, perm[0]),
	  P(rs, 4, output.dim[0])),
	C("transpose perm 4", TRANSPOSE, -EINVAL, P(rs, 4, perm[3])),
	C("transpose perm 255", TRANSPOSE, -EINVAL, P(rs, 255, perm[0])),
	C("transpose output", TRANSPOSE, -EINVAL, P(rs, 3, output.dim[1])),
	C("concat axis 4", CONCAT, -EINVAL, P(concat, 4, axis)),
	C("concat axis max", CONCAT, -EINVAL, P(concat, U32_MAX, axis)),
	C("concat axis 2", CONCAT, -EINVAL, P(concat, 2, axis)),
	C("concat sum", CONCAT, -EINVAL, P(concat, 7, output.dim[3])),
	C("concat a n", CONCAT, -EINVAL, P(concat, 2, a.dim[0])),
	C("concat b h", CONCAT, -EINVAL, P(concat, 3, b.dim[1])),
	C("pad before", PAD, -EINVAL, P(pad, 2, before[1])),
	C("pad after", PAD, -EINVAL, P(pad, 0, after[3])),
	C("pad output n", PAD, -EINVAL, P(pad, 2, output.dim[0])),
};

KUNIT_ARRAY_PARAM_DESC(tapu_isa, tk_cases, name);

static void tk_apply(u8 *op, const struct tk_patch *p, size_t n)
{
	for (; n-- && p->size; p++) {
		u32 w = p->val;
		u16 h = p->val;
		u8 b = p->val;

		memcpy(op + p->off, p->size == 4 ? (void *)&w :
		       p->size == 2 ? (void *)&h : (void *)&b, p->size);
	}
}

/* Folds @b's expected summary into @exp, as one more op of a stream. */
static void tk_expect(struct tapu_isa_summary *exp, const struct tk_base *b)
{
	const struct tk_ext *e;

	exp->num_slots = max(exp->num_slots, b->num_slots);
	exp->written |= b->written;
	for (e = b->ext; e < b->ext + ARRAY_SIZE(b->ext) && e->bytes; e++)
		exp->extent[e->slot] = max(exp->extent[e->slot], e->bytes);
	exp->num_ops++;
}

static void tk_check_sum(struct kunit *test,
			 const struct tapu_isa_summary *exp,
			 const struct tapu_isa_summary *sum)
{
	u32 i;

	KUNIT_EXPECT_EQ(test, sum->num_slots, exp->num_slots);
	KUNIT_EXPECT_EQ(test, sum->written, exp->written);
	KUNIT_EXPECT_EQ(test, sum->num_ops, exp->num_ops);
	for (i = 0; i < TAPU_MAX_SLOTS; i++)
		KUNIT_EXPECT_EQ_MSG(test, sum->extent[i], exp->extent[i],
				    "slot %u", i);
}

static void tapu_isa_case(struct kunit *test)
{
	const struct tk_case *c = test->param_value;
	const struct tk_base *b = &tk_bases[c->base];
	u32 len = b->op.hdr.size, rep = c->repeat ?: 1, i;
	struct tapu_isa_summary *sum, *exp;
	u8 *buf;

	buf = kunit_kzalloc(test, len * rep + max(c->trim, 0), GFP_KERNEL);
	sum = kunit_kzalloc(test, sizeof(*sum), GFP_KERNEL);
	exp = kunit_kzalloc(test, sizeof(*exp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, sum);
	KUNIT_ASSERT_NOT_NULL(test, exp);
	for (i = 0; i < rep; i++)
		memcpy(buf + i * len, &b->op, len);
	tk_apply(buf, c->patch, ARRAY_SIZE(c->patch));

	KUNIT_ASSERT_EQ(test, tapu_isa_validate(buf, len * rep + c->trim, sum),
			c->ret);
	if (c->ret)
		return;
	for (i = 0; i < rep; i++)
		tk_expect(exp, b);
	tk_check_sum(test, exp, sum);
}

/* One stream of every opcode, at a 4-byte but not 8-byte aligned address. */
static void tapu_isa_all_ops(struct kunit *test)
{
	struct tapu_isa_summary *sum, *exp;
	u32 size = 0, i;
	u8 *buf;

	buf = kunit_kzalloc(test, 4 + B_NUM_OPS * sizeof(union tk_op),
			    GFP_KERNEL);
	sum = kunit_kzalloc(test, sizeof(*sum), GFP_KERNEL);
	exp = kunit_kzalloc(test, sizeof(*exp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, sum);
	KUNIT_ASSERT_NOT_NULL(test, exp);
	for (i = 0; i < B_NUM_OPS; i++) {
		KUNIT_ASSERT_EQ(test, tk_bases[i].op.hdr.opcode, i + 1);
		memcpy(buf + 4 + size, &tk_bases[i].op, tk_bases[i].op.hdr.size);
		size += tk_bases[i].op.hdr.size;
		tk_expect(exp, &tk_bases[i]);
	}

	KUNIT_ASSERT_EQ(test, tapu_isa_validate(buf + 4, size, sum), 0);
	tk_check_sum(test, exp, sum);
}

static u64 tk_work(struct kunit *test, const int *bases, u32 n)
{
	struct tapu_isa_summary *sum;
	u32 size = 0, i;
	u8 *buf;

	buf = kunit_kzalloc(test, n * sizeof(union tk_op), GFP_KERNEL);
	sum = kunit_kzalloc(test, sizeof(*sum), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, sum);
	for (i = 0; i < n; i++) {
		memcpy(buf + size, &tk_bases[bases[i]].op,
		       tk_bases[bases[i]].op.hdr.size);
		size += tk_bases[bases[i]].op.hdr.size;
	}
	KUNIT_ASSERT_EQ(test, tapu_isa_validate(buf, size, sum), 0);
	return sum->work;
}

/* Work per output element: DRM_TAPU_ELEMENT_WORK plus its MACs or taps. */
static void tapu_isa_work(struct kunit *test)
{
	static const int ops[] = { B_NOP, B_CONV2D, B_DWCONV, B_MAXPOOL, B_ADD };
	static const int huge[] = { B_ADD, B_COPY_MAX, B_ADD };

	/* 27 * (6 + 3 * 3 * 2) + 16 * (6 + 2 * 2) + 12 * (6 + 2 * 2) + 24 * 7 */
	KUNIT_EXPECT_EQ(test, tk_work(test, ops, ARRAY_SIZE(ops)), 1096);
	/* 2^64 elements: saturated, not wrapped. */
	KUNIT_EXPECT_EQ(test, tk_work(test, huge, ARRAY_SIZE(huge)), U64_MAX);
}

static struct kunit_case tapu_isa_test_cases[] = {
	KUNIT_CASE_PARAM(tapu_isa_case, tapu_isa_gen_params),
	KUNIT_CASE(tapu_isa_all_ops),
	KUNIT_CASE(tapu_isa_work),
	{}
};

static struct kunit_suite tapu_isa_test_suite = {
	.name = "tapu_isa",
	.test_cases = tapu_isa_test_cases,
};

kunit_test_suite(tapu_isa_test_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests of the TAPU command-stream validator");
MODULE_LICENSE("GPL");
