/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtapu-onnx - run int8/uint8 quantised ONNX models on TAPU devices
 *
 * A model is loaded once (tapu_onnx_model_load()), then run through
 * sessions: a session compiles the model for one device, or for the CPU
 * (the library's reference kernels), takes its inputs by name, runs, and
 * gives its outputs by name. It compiles once for the shapes of its inputs
 * and again only when they change, so a session is re-run as often as
 * needed.
 *
 *	struct tapu_onnx_model *m;
 *	struct tapu_onnx_session *s;
 *	struct tapu_onnx_error err;
 *
 *	if (tapu_onnx_model_load("net.onnx", &m, &err) ||
 *	    tapu_onnx_session_create(m, dev, &s, &err) ||
 *	    tapu_onnx_set_input(s, "input", TAPU_ONNX_FLOAT, 4, dims, x, &err) ||
 *	    tapu_onnx_run(s, &err) ||
 *	    tapu_onnx_get_output(s, "logits", &info, y, sizeof(y), &err))
 *		fprintf(stderr, "%s\n", err.message);
 *
 * Thread safety: the library has no global state. A model may be shared by
 * sessions in several threads once loaded; a session is used by one thread
 * at a time. Devices follow libtapu's rules (a device may be shared).
 *
 * Errors: the functions return 0 or a negative errno, and fill the
 * &struct tapu_onnx_error given (when not NULL) with a message naming the
 * node, input or file at fault.
 */
#ifndef __TAPU_ONNX_H__
#define __TAPU_ONNX_H__

#include <stddef.h>
#include <stdint.h>

#include "libtapu.h"

#ifdef __cplusplus
extern "C" {
#endif

/** TAPU_ONNX_MAX_RANK - tensors have at most this many dimensions */
#define TAPU_ONNX_MAX_RANK	8

/**
 * enum tapu_onnx_type - element types, numbered as ONNX TensorProto.DataType
 * @TAPU_ONNX_FLOAT: float (32 bit)
 * @TAPU_ONNX_UINT8: uint8_t
 * @TAPU_ONNX_INT8: int8_t
 * @TAPU_ONNX_INT32: int32_t
 * @TAPU_ONNX_INT64: int64_t
 */
enum tapu_onnx_type {
	TAPU_ONNX_FLOAT = 1,
	TAPU_ONNX_UINT8 = 2,
	TAPU_ONNX_INT8 = 3,
	TAPU_ONNX_INT32 = 6,
	TAPU_ONNX_INT64 = 7
};

/**
 * struct tapu_onnx_error - why a call failed
 * @code: the negative errno the call returned
 * @message: what failed, NUL-terminated
 */
struct tapu_onnx_error {
	int code;
	char message[512];
};

/**
 * struct tapu_onnx_tensor_info - name, type and shape of a graph input or
 * output
 * @name: name in the graph; valid while the model is
 * @type: &enum tapu_onnx_type, 0 if the graph does not say
 * @rank: number of dimensions, -1 if the graph does not say
 * @dims: dimensions; -1 for one the graph leaves open (e.g. the batch)
 */
struct tapu_onnx_tensor_info {
	const char *name;
	int type;
	int rank;
	int64_t dims[TAPU_ONNX_MAX_RANK];
};

/**
 * struct tapu_onnx_tensor - a tensor read from a file
 * @info: its name (empty if the file has none), type and shape
 * @data: elements in row-major order, of @info.type
 * @size: size of @data in bytes
 */
struct tapu_onnx_tensor {
	struct tapu_onnx_tensor_info info;
	void *data;
	size_t size;
};

struct tapu_onnx_model;
struct tapu_onnx_session;

/* Models */

int tapu_onnx_model_load(const char *path, struct tapu_onnx_model **model,
			 struct tapu_onnx_error *err);
int tapu_onnx_model_load_memory(const void *data, size_t size,
				struct tapu_onnx_model **model,
				struct tapu_onnx_error *err);
void tapu_onnx_model_free(struct tapu_onnx_model *model);

/* The inputs a caller provides (initialisers excluded), and the outputs. */
int tapu_onnx_model_num_inputs(const struct tapu_onnx_model *model);
int tapu_onnx_model_num_outputs(const struct tapu_onnx_model *model);
int tapu_onnx_model_input(const struct tapu_onnx_model *model, int index,
			  struct tapu_onnx_tensor_info *info);
int tapu_onnx_model_output(const struct tapu_onnx_model *model, int index,
			   struct tapu_onnx_tensor_info *info);
int tapu_onnx_model_quantized(const struct tapu_onnx_model *model);

/* Tensors in the ONNX TensorProto format (.pb), as ONNX test data has them */

int tapu_onnx_tensor_load(const char *path, struct tapu_onnx_tensor **tensor,
			  struct tapu_onnx_error *err);
void tapu_onnx_tensor_free(struct tapu_onnx_tensor *tensor);

/* Sessions */

int tapu_onnx_session_create(struct tapu_onnx_model *model,
			     struct tapu_device *dev,
			     struct tapu_onnx_session **session,
			     struct tapu_onnx_error *err);
void tapu_onnx_session_free(struct tapu_onnx_session *session);

int tapu_onnx_set_input(struct tapu_onnx_session *session, const char *name,
			int type, int rank, const int64_t *dims,
			const void *data, struct tapu_onnx_error *err);
int tapu_onnx_run(struct tapu_onnx_session *session,
		  struct tapu_onnx_error *err);
int tapu_onnx_submit(struct tapu_onnx_session *session,
		     struct tapu_onnx_error *err);
int tapu_onnx_wait(struct tapu_onnx_session *session, int64_t timeout_ns,
		   struct tapu_onnx_error *err);
int tapu_onnx_get_output(struct tapu_onnx_session *session, const char *name,
			 struct tapu_onnx_tensor_info *info, void *data,
			 size_t size, struct tapu_onnx_error *err);

/**
 * struct tapu_onnx_stats - what a session did
 * @compiles: times the model was compiled (once per set of input shapes)
 * @runs: completed runs
 * @device_ops: operations of the compiled command streams (0 on the CPU)
 * @device_nodes: graph nodes the device runs
 * @cpu_nodes: graph nodes the CPU runs (all of them in a CPU session)
 * @segments: command streams: runs of device nodes between CPU nodes
 * @device_ns: time the runs' last jobs spent on the device's cores (a
 *	stream above the device's work per job runs as several jobs)
 */
struct tapu_onnx_stats {
	uint64_t compiles;
	uint64_t runs;
	uint64_t device_ops;
	uint64_t device_nodes;
	uint64_t cpu_nodes;
	uint64_t segments;
	uint64_t device_ns;
};

void tapu_onnx_session_stats(const struct tapu_onnx_session *session,
			     struct tapu_onnx_stats *stats);
int tapu_onnx_session_placement(const struct tapu_onnx_session *session, char *buf,
				size_t size);

const char *tapu_onnx_type_name(int type);
size_t tapu_onnx_type_size(int type);

#ifdef __cplusplus
}
#endif

#endif /* __TAPU_ONNX_H__ */
