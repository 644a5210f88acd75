// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtapu-onnx tests: model information, inputs checked by name, type and
 * shape, device runs equal to CPU runs, re-runs without recompiling,
 * asynchronous runs, sessions of one model in several threads, and the
 * errors each function reports. Uses the Fashion-MNIST model and the
 * test models installed under $TAPU_SHARE (default /usr/share/tapu); needs
 * a TAPU device (skips without one).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "tapu-onnx.h"

#define WAIT_NS		(60 * 1000000000LL)	/* QEMU TCG is slow */
#define MAX_BATCH	4

static const char *share_path(const char *rel)
{
	static char path[4096];
	const char *share = getenv("TAPU_SHARE");

	snprintf(path, sizeof(path), "%s/%s", share ? share : "/usr/share/tapu", rel);
	return path;
}

static void images(float *x, int batch, int seed)
{
	for (int k = 0; k < batch * 784; k++)
		x[k] = ((k * 37 + seed * 101) % 256) / 255.0f;
}

FIXTURE(onnx) {
	struct tapu_device *dev;
	struct tapu_onnx_model *model;
	struct tapu_onnx_error err;
	float x[MAX_BATCH * 784];
	int64_t dims[4];
};

FIXTURE_SETUP(onnx)
{
	memset(&self->err, 0, sizeof(self->err));
	if (tapu_device_open_index(0, &self->dev))
		SKIP(return, "no TAPU device");
	ASSERT_EQ(0, tapu_onnx_model_load(share_path("fmnist/fmnist_int8.onnx"),
					  &self->model, &self->err)) {
		TH_LOG("%s", self->err.message);
	}
	/* Batch 1: an op of a larger one can be more than a job may do. */
	self->dims[0] = 1, self->dims[1] = 1, self->dims[2] = 28, self->dims[3] = 28;
	images(self->x, MAX_BATCH, 1);
}

FIXTURE_TEARDOWN(onnx)
{
	tapu_onnx_model_free(self->model);
	tapu_device_close(self->dev);
}

TEST_F(onnx, model_info)
{
	struct tapu_onnx_tensor_info info;

	ASSERT_EQ(1, tapu_onnx_model_num_inputs(self->model));
	ASSERT_EQ(2, tapu_onnx_model_num_outputs(self->model));
	ASSERT_EQ(0, tapu_onnx_model_input(self->model, 0, &info));
	EXPECT_STREQ("input", info.name);
	EXPECT_EQ(TAPU_ONNX_FLOAT, info.type);
	ASSERT_EQ(4, info.rank);
	EXPECT_EQ(-1, info.dims[0]);	/* "N" */
	EXPECT_EQ(28, info.dims[3]);
	ASSERT_EQ(0, tapu_onnx_model_output(self->model, 1, &info));
	EXPECT_STREQ("logits_q", info.name);
	EXPECT_EQ(TAPU_ONNX_INT8, info.type);
	EXPECT_EQ(-EINVAL, tapu_onnx_model_input(self->model, 1, &info));
	EXPECT_EQ(-EINVAL, tapu_onnx_model_output(self->model, -1, &info));
	EXPECT_EQ(1, tapu_onnx_model_quantized(self->model));
}

TEST_F(onnx, load_errors)
{
	static const char junk[] = "this is not a protobuf\377\377\377";
	struct tapu_onnx_model *m = (void *)1;

	EXPECT_EQ(-ENOENT, tapu_onnx_model_load("/nonexistent.onnx", &m, &self->err));
	EXPECT_EQ(NULL, m);
	EXPECT_EQ(-ENOENT, self->err.code);
	EXPECT_NE(NULL, strstr(self->err.message, "/nonexistent.onnx"));
	EXPECT_EQ(-EINVAL, tapu_onnx_model_load_memory(junk, sizeof(junk), &m, &self->err));
	EXPECT_NE(NULL, strstr(self->err.message, "not an ONNX model"));
	/* NULL: no message wanted. */
	EXPECT_EQ(-EINVAL, tapu_onnx_model_load_memory(junk, sizeof(junk), &m, NULL));
}

TEST_F(onnx, load_memory)
{
	const char *path = share_path("fmnist/fmnist_int8.onnx");
	struct tapu_onnx_model *m;
	FILE *f = fopen(path, "rb");
	static char buf[1 << 20];
	size_t n;

	ASSERT_NE(NULL, f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ASSERT_EQ(0, tapu_onnx_model_load_memory(buf, n, &m, &self->err));
	memset(buf, 0, n);	/* not used after the call */
	EXPECT_EQ(2, tapu_onnx_model_num_outputs(m));
	tapu_onnx_model_free(m);
}

/* Inputs bind by name, with the type and the shape the graph allows. */
TEST_F(onnx, input_checks)
{
	struct tapu_onnx_session *s;
	int64_t bad[4] = { 2, 1, 28, 27 }, zero[4] = { 0, 1, 28, 28 };
	struct tapu_onnx_tensor_info info;

	ASSERT_EQ(0, tapu_onnx_session_create(self->model, self->dev, &s, &self->err));
	EXPECT_EQ(-EINVAL, tapu_onnx_run(s, &self->err));
	EXPECT_NE(NULL, strstr(self->err.message, "'input' was not set"));
	EXPECT_EQ(-ENOENT, tapu_onnx_set_input(s, "image", TAPU_ONNX_FLOAT, 4, self->dims,
					       self->x, &self->err));
	EXPECT_EQ(-EINVAL, tapu_onnx_set_input(s, "input", TAPU_ONNX_UINT8, 4, self->dims,
					       self->x, &self->err));
	EXPECT_NE(NULL, strstr(self->err.message, "shape and type"));
	EXPECT_EQ(-EINVAL, tapu_onnx_set_input(s, "input", TAPU_ONNX_FLOAT, 3, self->dims,
					       self->x, &self->err));
	EXPECT_EQ(-EINVAL, tapu_onnx_set_input(s, "input", TAPU_ONNX_FLOAT, 4, bad, self->x,
					       &self->err));
	EXPECT_EQ(-EINVAL, tapu_onnx_set_input(s, "input", TAPU_ONNX_FLOAT, 4, zero, self->x,
					       &self->err));
	EXPECT_EQ(-EINVAL, tapu_onnx_get_output(s, "logits", &info, NULL, 0, &self->err));
	EXPECT_EQ(-ENOENT, tapu_onnx_get_output(s, "probs", &info, NULL, 0, &self->err));
	tapu_onnx_session_free(s);
}

/* The device gives what the CPU kernels give, run after run. */
TEST_F(onnx, device_equals_cpu_and_reruns)
{
	struct tapu_onnx_session *dev, *cpu;
	struct tapu_onnx_tensor_info info;
	struct tapu_onnx_stats st;
	int8_t q[2][MAX_BATCH * 10];
	float f[2][MAX_BATCH * 10];

	ASSERT_EQ(0, tapu_onnx_session_create(self->model, self->dev, &dev, &self->err));
	ASSERT_EQ(0, tapu_onnx_session_create(self->model, NULL, &cpu, &self->err));
	for (int run = 0; run < 3; run++) {
		images(self->x, 1, run);
		for (int i = 0; i < 2; i++) {
			struct tapu_onnx_session *s = i ? cpu : dev;

			ASSERT_EQ(0, tapu_onnx_set_input(s, "input", TAPU_ONNX_FLOAT, 4, self->dims,
							 self->x, &self->err));
			ASSERT_EQ(0, tapu_onnx_run(s, &self->err)) {
				TH_LOG("%s", self->err.message);
			}
			ASSERT_EQ(0, tapu_onnx_get_output(s, "logits_q", &info, q[i], sizeof(q[i]),
							  &self->err));
			EXPECT_EQ(2, info.rank);
			EXPECT_EQ(1, info.dims[0]);
			EXPECT_EQ(10, info.dims[1]);
			ASSERT_EQ(0, tapu_onnx_get_output(s, "logits", NULL, f[i], sizeof(f[i]),
							  &self->err));
		}
		EXPECT_EQ(0, memcmp(q[0], q[1], 10));
		EXPECT_EQ(0, memcmp(f[0], f[1], 10 * sizeof(float)));
	}
	tapu_onnx_session_stats(dev, &st);
	EXPECT_EQ(1, st.compiles);
	EXPECT_EQ(3, st.runs);
	EXPECT_LT(0, st.device_ops);
	/* A new batch size compiles again, once (on the CPU: no work limit). */
	self->dims[0] = 4;
	for (int run = 0; run < 2; run++) {
		ASSERT_EQ(0, tapu_onnx_set_input(cpu, "input", TAPU_ONNX_FLOAT, 4, self->dims,
						 self->x, &self->err));
		ASSERT_EQ(0, tapu_onnx_run(cpu, &self->err));
	}
	tapu_onnx_session_stats(cpu, &st);
	EXPECT_EQ(2, st.compiles);
	EXPECT_EQ(0, st.device_ops);
	/* Too small a buffer: the size to use is in info. */
	EXPECT_EQ(-ENOSPC, tapu_onnx_get_output(cpu, "logits_q", &info, q[0], 20, &self->err));
	EXPECT_EQ(4, info.dims[0]);
	tapu_onnx_session_free(dev);
	tapu_onnx_session_free(cpu);
}

TEST_F(onnx, submit_and_wait)
{
	struct tapu_onnx_session *s;
	int8_t q[MAX_BATCH * 10];
	int ret;

	ASSERT_EQ(0, tapu_onnx_session_create(self->model, self->dev, &s, &self->err));
	EXPECT_EQ(-EINVAL, tapu_onnx_wait(s, 0, &self->err));
	ASSERT_EQ(0, tapu_onnx_set_input(s, "input", TAPU_ONNX_FLOAT, 4, self->dims, self->x,
					 &self->err));
	ASSERT_EQ(0, tapu_onnx_submit(s, &self->err));
	EXPECT_EQ(-EBUSY, tapu_onnx_submit(s, &self->err));
	EXPECT_EQ(-EBUSY, tapu_onnx_set_input(s, "input", TAPU_ONNX_FLOAT, 4, self->dims,
					      self->x, &self->err));
	ret = tapu_onnx_wait(s, 0, &self->err);
	EXPECT_TRUE(ret == 0 || ret == -ETIME);
	ASSERT_EQ(0, tapu_onnx_wait(s, WAIT_NS, &self->err));
	EXPECT_EQ(0, tapu_onnx_wait(s, 0, &self->err));
	EXPECT_EQ(0, tapu_onnx_get_output(s, "logits_q", NULL, q, sizeof(q), &self->err));
	/* Freed with a run in flight: it waits. */
	ASSERT_EQ(0, tapu_onnx_submit(s, &self->err));
	tapu_onnx_session_free(s);
}

/* Operators nobody knows: all named at once, before any run. */
TEST_F(onnx, unknown_operators_named)
{
	struct tapu_onnx_session *s = (void *)1;
	struct tapu_onnx_model *m;

	ASSERT_EQ(0, tapu_onnx_model_load(share_path("onnx-tests/broken_unknown_ops/model.onnx"),
					  &m, &self->err));
	EXPECT_EQ(-EOPNOTSUPP, tapu_onnx_session_create(m, self->dev, &s, &self->err));
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(self->err.message, "'hardmax0' (Hardmax), 'det0' (Det)")) {
		TH_LOG("%s", self->err.message);
	}
	tapu_onnx_model_free(m);
}

/* A node neither side can run (Softmax of int8): both reasons, at compile. */
TEST_F(onnx, node_nowhere_runs)
{
	static const int8_t x[4] = { 1, 2, 3, 4 };
	static const int64_t dims[2] = { 1, 4 };
	struct tapu_onnx_session *s;
	struct tapu_onnx_model *m;

	ASSERT_EQ(0, tapu_onnx_model_load(share_path("onnx-tests/broken_unsupported_op/model.onnx"),
					  &m, &self->err));
	ASSERT_EQ(0, tapu_onnx_session_create(m, self->dev, &s, &self->err));
	ASSERT_EQ(0, tapu_onnx_set_input(s, "x", TAPU_ONNX_INT8, 2, dims, x, &self->err));
	EXPECT_EQ(-EOPNOTSUPP, tapu_onnx_run(s, &self->err));
	EXPECT_NE(NULL, strstr(self->err.message, "'softmax0' (Softmax): not on the device")) {
		TH_LOG("%s", self->err.message);
	}
	EXPECT_NE(NULL, strstr(self->err.message, "nor on the CPU"));
	tapu_onnx_session_free(s);
	tapu_onnx_model_free(m);
}

/*
 * A node the device cannot run (Softmax) between two it can: two device
 * segments with the CPU between, the output that of a CPU session.
 */
TEST_F(onnx, partitioned_graph)
{
#define PARTITIONED	"onnx-tests/models/fallback/test_conv_softmax_conv_u8/"
	struct tapu_onnx_session *dev, *cpu;
	struct tapu_onnx_tensor_info info;
	struct tapu_onnx_tensor *x;
	struct tapu_onnx_stats st;
	struct tapu_onnx_model *m;
	uint8_t y[2][2 * 4 * 9 * 9];
	char place[4096];

	ASSERT_EQ(0, tapu_onnx_model_load(share_path(PARTITIONED "model.onnx"), &m, &self->err));
	ASSERT_EQ(0, tapu_onnx_tensor_load(share_path(PARTITIONED "test_data_set_0/input_0.pb"),
					   &x, &self->err));
	ASSERT_EQ(0, tapu_onnx_session_create(m, self->dev, &dev, &self->err));
	ASSERT_EQ(0, tapu_onnx_session_create(m, NULL, &cpu, &self->err));
	EXPECT_EQ(-EINVAL, tapu_onnx_session_placement(dev, place, sizeof(place)));
	for (int i = 0; i < 2; i++) {
		struct tapu_onnx_session *s = i ? cpu : dev;

		ASSERT_EQ(0, tapu_onnx_set_input(s, "x", x->info.type, x->info.rank,
						 x->info.dims, x->data, &self->err));
		for (int run = 0; run < 2; run++)
			ASSERT_EQ(0, tapu_onnx_run(s, &self->err)) {
				TH_LOG("%s", self->err.message);
			}
		ASSERT_EQ(0, tapu_onnx_get_output(s, "y", &info, y[i], sizeof(y[i]), &self->err));
		EXPECT_EQ(TAPU_ONNX_UINT8, info.type);
	}
	EXPECT_EQ(0, memcmp(y[0], y[1], sizeof(y[0])));
	/* While the last segment runs, there is no output to read. */
	ASSERT_EQ(0, tapu_onnx_submit(dev, &self->err));
	EXPECT_EQ(-EINVAL, tapu_onnx_get_output(dev, "y", NULL, y[0], sizeof(y[0]), &self->err));
	ASSERT_EQ(0, tapu_onnx_wait(dev, WAIT_NS, &self->err));
	ASSERT_EQ(0, tapu_onnx_get_output(dev, "y", NULL, y[0], sizeof(y[0]), &self->err));
	EXPECT_EQ(0, memcmp(y[0], y[1], sizeof(y[0])));
	tapu_onnx_session_stats(dev, &st);
	EXPECT_EQ(2, st.segments);
	EXPECT_EQ(3, st.runs);
	EXPECT_LE(2, st.device_nodes);
	EXPECT_EQ(3, st.cpu_nodes);	/* DequantizeLinear, Softmax, QuantizeLinear */
	ASSERT_LT(0, tapu_onnx_session_placement(dev, place, sizeof(place)));
	EXPECT_NE(NULL, strstr(place, "CPU: node 'mid_f' (Softmax)")) {
		TH_LOG("%s", place);
	}
	/* both convolutions on the device, Softmax has no MACs */
	EXPECT_NE(NULL, strstr(place, ", 0 on the CPU (100.0 % on the device)")) {
		TH_LOG("%s", place);
	}
	tapu_onnx_session_free(dev);
	tapu_onnx_session_free(cpu);
	tapu_onnx_tensor_free(x);
	tapu_onnx_model_free(m);
}

/* One model, a session per thread: the same results in every thread. */
struct worker {
	struct tapu_onnx_model *model;
	struct tapu_device *dev;
	int seed, failed;
	int8_t q[MAX_BATCH * 10];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t dims[4] = { 1, 1, 28, 28 };
	struct tapu_onnx_session *s;
	static float x[8][MAX_BATCH * 784];

	images(x[w->seed], 1, 7);
	w->failed = tapu_onnx_session_create(w->model, w->dev, &s, NULL);
	for (int run = 0; run < 4 && !w->failed; run++)
		w->failed = tapu_onnx_set_input(s, "input", TAPU_ONNX_FLOAT, 4, dims,
						x[w->seed], NULL) ?:
			    tapu_onnx_run(s, NULL) ?:
			    tapu_onnx_get_output(s, "logits_q", NULL, w->q, sizeof(w->q), NULL);
	if (!w->failed)
		tapu_onnx_session_free(s);
	return NULL;
}

TEST_F(onnx, sessions_in_threads)
{
	enum { N = 4 };
	struct worker w[N];
	pthread_t t[N];

	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){ .model = self->model, .seed = i,
					.dev = i % 2 ? NULL : self->dev };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_main, &w[i]));
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].failed);
		EXPECT_EQ(0, memcmp(w[0].q, w[i].q, sizeof(w[i].q)));
	}
}

TEST_HARNESS_MAIN
