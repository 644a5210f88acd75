// SPDX-License-Identifier: GPL-2.0-only
/*
 * tapu-run - compile an int8/uint8 quantised ONNX model to a TAPU command
 * stream, run it on a TAPU device and print or check the outputs.
 *
 *   tapu-run MODEL.onnx --input input_0.pb ... [--check]
 *   tapu-run MODEL.onnx --fmnist DIR [--batch N] [--check] [--expect FILE]
 *   tapu-run --onnx-node-tests DIR     (ONNX backend node tests, TAP)
 *
 * See tools/tapu/README.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "libtapu.h"
#include "onnx/onnx-model.h"

static const char *prog_name = "tapu-run";
static const char *dev_path;
static int reference_only, check;
static long max_diff;	/* node tests: allowed integer difference */

/* Device side of a compiled model: two BOs (constants, activations). */
struct runner {
	struct tapu_device *dev;
	struct prog p;
	struct tapu_bo *bo[2];
	uint8_t *map[2];
	uint8_t *host;		/* activations for --reference-only */
	struct tapu_stream *stream;
	int stream_err;		/* why the kernel refused the stream */
	uint64_t device_ns, jobs;
};

static int tapu_err(const char *what, int err)
{
	return errorf("%s: %s", what, tapu_strerror(err));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int runner_init(struct runner *r, struct tapu_device *dev, struct model *m,
		       const struct binding *in, int nin)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->dev = dev;
	if (prog_compile(&r->p, m, in, nin))
		return -1;
	if (!dev) {
		r->host = calloc(r->p.arena + 1, 1);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		size_t size = i ? r->p.arena : r->p.ncst;

		ret = tapu_bo_create(dev, size ? size : 1, 0, &r->bo[i]) ?:
		      tapu_bo_map(r->bo[i], (void **)&r->map[i]);
		if (ret)
			return tapu_err("BO_CREATE", ret);
	}
	memcpy(r->map[0], r->p.cst, r->p.ncst);
	if (r->p.nops && (ret = tapu_stream_create(dev, r->p.sb, &r->stream))) {
		r->stream_err = ret;
		return tapu_err("CMDSTREAM_CREATE (the kernel rejected the lowered stream)", ret);
	}
	return 0;
}

static uint8_t *runner_arena(struct runner *r)
{
	return r->dev ? r->map[1] : r->host;
}

static int runner_run(struct runner *r)
{
	static const uint32_t access[2] = { DRM_TAPU_BO_READ,
					    DRM_TAPU_BO_READ | DRM_TAPU_BO_WRITE };
	struct tapu_job_result res = { 0 };
	uint64_t id;
	int ret;

	if (!r->stream)
		return 0;	/* nothing for the device (CPU boundary ops only) */
	ret = tapu_submit(r->dev, r->stream, r->bo, access, 2, NULL, 0, NULL,
			  DRM_TAPU_PRIO_NORMAL, &id);
	if (ret)
		return tapu_err("SUBMIT", ret);
	ret = tapu_wait(r->dev, id, 60000000000LL, &res);
	if (ret)
		return tapu_err("job", ret);
	r->device_ns += res.duration_ns;
	r->jobs++;
	return 0;
}

static void runner_free(struct runner *r)
{
	tapu_stream_destroy(r->stream);
	for (int i = 0; i < 2; i++)
		tapu_bo_free(r->bo[i]);
	free(r->host);
	prog_free(&r->p);
}

/* Device and reference outputs must be identical; returns the byte count. */
static long compare_exact(const struct tensor *a, const struct tensor *b, const char *what)
{
	if (a->n != b->n || !!a->f != !!b->f)
		return errorf("%s: shapes or types differ", what);
	for (size_t k = 0; k < a->n; k++)
		if (a->f ? memcmp(&a->f[k], &b->f[k], 4) : a->i[k] != b->i[k])
			return errorf("%s: element %zu differs (%g vs %g)", what, k,
				      a->f ? a->f[k] : (double)a->i[k],
				      b->f ? b->f[k] : (double)b->i[k]);
	return a->n;
}

/* The graph's non-initializer inputs, in order. */
static int data_inputs(const struct model *m, const char **names, int max)
{
	int n = 0;

	for (size_t i = 0; i < m->g->n_input; i++) {
		int init = 0;

		for (size_t k = 0; k < m->g->n_initializer; k++)
			init |= !strcmp(m->g->initializer[k]->name, m->g->input[i]->name);
		if (!init && n < max)
			names[n++] = m->g->input[i]->name;
	}
	return n;
}

/*
 * One run of the model on given inputs: device (unless --reference-only),
 * reference (with --check or --reference-only). out[] receives the device
 * outputs (the reference's with --reference-only).
 */
static int run_once(struct tapu_device *dev, struct model *m, struct binding *in, int nin,
		    struct binding *out, int nout, long *identical, const char **where)
{
	struct binding ref[16];
	struct runner r;
	int ret = 0;

	for (int i = 0; i < nout; i++)
		out[i].name = ref[i].name = m->g->output[i]->name, ref[i].t = out[i].t = NULL;
	/* --reference-only compiles too: unsupported models fail alike. */
	*where = "compile";
	if (runner_init(&r, reference_only ? NULL : dev, m, in, nin)) {
		runner_free(&r);
		return -1;
	}
	*where = "run";
	for (int i = 0; i < nin && !ret; i++)
		ret = prog_write_input(&r.p, in[i].name, in[i].t, runner_arena(&r));
	ret = ret ?: runner_run(&r);
	for (int i = 0; i < nout && !ret && !reference_only; i++)
		if (!(out[i].t = prog_read_output(&r.p, out[i].name, runner_arena(&r))))
			ret = errorf("output '%s' not produced", out[i].name);
	runner_free(&r);
	if (ret)
		return ret;
	if (!check && !reference_only)
		return 0;
	*where = "reference";
	if (ref_run(m, in, nin, ref, nout))
		return -1;
	for (int i = 0; i < nout; i++) {
		long same = reference_only ? (long)ref[i].t->n :
			    compare_exact(out[i].t, ref[i].t, "device vs CPU reference");

		if (same < 0) {
			ret = -1;
			*where = "check";
		} else if (!out[i].t) {
			out[i].t = ref[i].t, ref[i].t = NULL;
		}
		*identical += same > 0 ? same : 0;
		tensor_free(ref[i].t);
	}
	return ret;
}

/* ONNX backend node tests */

static int near(float a, float b)
{
	return fabsf(a - b) <= 1e-7f + 1e-3f * fabsf(b);
}

static int node_test(struct tapu_device *dev, const char *dir, const char *name, int num,
		     int *pass, int *skip)
{
	char path[4096], msg[600] = "", unsup[256] = "";
	struct model m;
	const char *names[16], *where;
	int nin, nout, sets = 0, ok = 1, host_only = 1;
	long diffs[3] = { 0 };	/* integer elements off by 0, 1, more */

	snprintf(path, sizeof(path), "%s/%s/model.onnx", dir, name);
	if (model_load(path, &m)) {
		printf("not ok %d - %s # %s\n", num, name, err_msg);
		return 0;
	}
	for (int k = 0; k < m.nnodes; k++) {
		host_only &= !strcmp(m.nodes[k].op, "QuantizeLinear") ||
			     !strcmp(m.nodes[k].op, "DequantizeLinear");
		if (!op_known(&m.nodes[k]) && !strstr(unsup, m.nodes[k].op) &&
		    strlen(unsup) + strlen(m.nodes[k].op) < sizeof(unsup) - 4)
			snprintf(unsup + strlen(unsup), sizeof(unsup) - strlen(unsup), "%s%s",
				 *unsup ? ", " : "", m.nodes[k].op);
	}
	if (*unsup) {
		printf("ok %d - %s # SKIP unsupported: %s\n", num, name, unsup);
		(*skip)++;
		model_free(&m);
		return 0;
	}
	nin = data_inputs(&m, names, 16);
	nout = m.g->n_output < 16 ? m.g->n_output : 16;
	for (int s = 0; ok; s++, sets++) {
		struct binding in[16] = { 0 }, out[16] = { 0 };
		struct tensor exp;
		long same = 0;
		int ret = 0;

		snprintf(path, sizeof(path), "%s/%s/test_data_set_%d", dir, name, s);
		if (!opendir(path))
			break;
		for (int i = 0; i < nin && !ret; i++) {
			snprintf(path, sizeof(path), "%s/%s/test_data_set_%d/input_%d.pb", dir, name, s, i);
			in[i].name = names[i];
			in[i].t = calloc(1, sizeof(struct tensor));
			ret = tensor_load(path, in[i].t, NULL);
		}
		ret = ret ?: run_once(dev, &m, in, nin, out, nout, &same, &where);
		if (ret && !strcmp(where, "compile")) {
			printf("ok %d - %s # SKIP unsupported: %s\n", num, name, err_msg);
			(*skip)++;
			ok = -1;
		} else if (ret) {
			snprintf(msg, sizeof(msg), "%s: %s", where, err_msg);
			ok = 0;
		}
		for (int i = 0; i < nout && ok > 0; i++) {
			snprintf(path, sizeof(path), "%s/%s/test_data_set_%d/output_%d.pb", dir, name, s, i);
			if (tensor_load(path, &exp, NULL)) {
				snprintf(msg, sizeof(msg), "%s", err_msg);
				ok = 0;
				break;
			}
			for (size_t k = 0; ok && k < exp.n; k++) {
				long long d = exp.n != out[i].t->n || exp.f ? 0 :
					      llabs(out[i].t->i[k] - exp.i[k]);

				diffs[d < 2 ? d : 2]++;
				if (exp.n != out[i].t->n || !!exp.f != !!out[i].t->f ||
				    (exp.f ? !near(out[i].t->f[k], exp.f[k]) : d > max_diff)) {
					snprintf(msg, sizeof(msg), "output %d element %zu: got %g, expected %g",
						 i, k, exp.n == out[i].t->n ? (out[i].t->f ? out[i].t->f[k] :
						 (double)out[i].t->i[k]) : NAN, exp.f ? exp.f[k] : (double)exp.i[k]);
					ok = 0;
				}
			}
			free(exp.i), free(exp.f);
		}
		for (int i = 0; i < 16; i++)
			tensor_free(in[i].t), tensor_free(out[i].t);
	}
	model_free(&m);
	if (ok < 0)
		return 0;
	if (!ok) {
		printf("not ok %d - %s # %s\n", num, name, msg);
		return 0;
	}
	printf("ok %d - %s (%d data set%s, %s%s", num, name, sets, sets == 1 ? "" : "s",
	       reference_only ? "CPU reference" : host_only ? "CPU boundary op only, no device op" :
	       "on the device", check && !reference_only ? ", = CPU reference" : "");
	if (max_diff)
		printf(", integer elements off by 0: %ld, 1: %ld", diffs[0], diffs[1]);
	printf(")\n");
	(*pass)++;
	return 0;
}

/* Tests with int8 or uint8 tensors among graph inputs, outputs, initializers. */
static int is_q8_test(const char *dir, const char *name)
{
	char path[4096];
	struct model m;
	int q8 = 0;

	snprintf(path, sizeof(path), "%s/%s/model.onnx", dir, name);
	if (model_load(path, &m))
		return 0;
	for (size_t i = 0; i < m.g->n_input + m.g->n_output; i++) {
		const Onnx__ValueInfoProto *v = i < m.g->n_input ? m.g->input[i] :
						m.g->output[i - m.g->n_input];

		q8 |= v->type && v->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
		      dtype_is_q8(v->type->tensor_type->elem_type);
	}
	for (size_t i = 0; i < m.g->n_initializer; i++)
		q8 |= dtype_is_q8(m.g->initializer[i]->data_type);
	model_free(&m);
	return q8;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int node_tests(struct tapu_device *dev, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	int n = 0, pass = 0, skip = 0;

	if (!d) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "test_", 5) && is_q8_test(dir, de->d_name)) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	printf("TAP version 13\n1..%d\n", n);
	for (int i = 0; i < n; i++) {
		node_test(dev, dir, names[i], i + 1, &pass, &skip);
		fflush(stdout);
		free(names[i]);
	}
	free(names);
	printf("# ONNX node tests with int8/uint8 data: %d passed, %d failed, %d skipped\n",
	       pass, n - pass - skip, skip);
	return pass + skip == n ? 0 : 1;
}

/* Fashion-MNIST */

static uint8_t *load_idx(const char *dir, const char *file, int ndim, uint32_t *count)
{
	char path[4096];
	uint8_t hdr[16], *data;
	uint32_t n = 1, d;
	gzFile f;

	snprintf(path, sizeof(path), "%s/%s.gz", dir, file);
	f = gzopen(path, "rb");
	if (!f) {
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		f = gzopen(path, "rb");
	}
	if (!f) {
		errorf("%s/%s[.gz]: %s", dir, file, strerror(errno));
		return NULL;
	}
	if (gzread(f, hdr, 4 + 4 * ndim) != 4 + 4 * ndim || hdr[2] != 8 || hdr[3] != ndim) {
		gzclose(f);
		errorf("%s: not an idx file of uint8", path);
		return NULL;
	}
	for (int i = 0; i < ndim; i++) {
		d = (uint32_t)hdr[4 + 4 * i] << 24 | hdr[5 + 4 * i] << 16 |
		    hdr[6 + 4 * i] << 8 | hdr[7 + 4 * i];
		n *= d;
		if (!i)
			*count = d;
	}
	data = malloc(n);
	if (!data || gzread(f, data, n) != (int)n) {
		gzclose(f);
		free(data);
		errorf("%s: short file", path);
		return NULL;
	}
	gzclose(f);
	return data;
}

/* "key value" of the expected-results file, or NULL. */
static char *expect_value(const char *file, const char *key)
{
	static char line[16384];
	FILE *f = fopen(file, "r");
	size_t kl = strlen(key);
	char *v = NULL;

	while (f && !v && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			v = line + kl + 1;
			v[strcspn(v, "\n")] = 0;
		}
	if (f)
		fclose(f);
	return v;
}

static int fmnist(struct tapu_device *dev, struct model *m, const char *dir, int batch,
		  const char *expect)
{
	uint32_t nimg, nlab;
	uint8_t *img = load_idx(dir, "t10k-images-idx3-ubyte", 3, &nimg);
	uint8_t *lab = img ? load_idx(dir, "t10k-labels-idx1-ubyte", 1, &nlab) : NULL;
	const char *in_name[1];
	int64_t dim[4] = { batch, 1, 28, 28 };
	struct binding in = { 0 };
	struct runner r;
	char *pred = NULL;
	long correct = 0, identical = 0;
	int qout = -1, ret = 1;
	double t0, t_dev = 0;
	int8_t *logits = NULL;

	if (!lab || nimg != nlab || data_inputs(m, in_name, 1) != 1) {
		fprintf(stderr, "%s: %s\n", prog_name, lab ? "model must have one input" : err_msg);
		goto out;
	}
	for (size_t i = 0; i < m->g->n_output; i++) {
		const Onnx__ValueInfoProto *v = m->g->output[i];

		if (qout < 0 && v->type && v->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
		    dtype_is_q8(v->type->tensor_type->elem_type))
			qout = i;
	}
	if (qout < 0) {
		fprintf(stderr, "%s: the model has no int8/uint8 output to classify with\n", prog_name);
		goto out;
	}
	in.name = in_name[0];
	for (;;) {
		in.t = tensor_new(DT_FLOAT, 4, dim);
		if (!runner_init(&r, reference_only ? NULL : dev, m, &in, 1))
			break;
		runner_free(&r);
		tensor_free(in.t);
		in.t = NULL;
		/* An op over the whole batch may be more than one job may do. */
		if (r.stream_err != -E2BIG || batch == 1) {
			fprintf(stderr, "%s: %s\n", prog_name, err_msg);
			goto out;
		}
		batch = (batch + 1) / 2;
		dim[0] = batch;
		fprintf(stderr, "%s: an op of the batch is above the device's work per job, "
			"batch %d\n", prog_name, batch);
	}
	fprintf(stderr, "%s: %u images, batch %d, %u device ops per batch\n", prog_name, nimg,
		batch, r.p.nops);
	pred = calloc(nimg + 1, 1);
	logits = calloc((size_t)nimg * 10, 1);
	t0 = now();
	for (uint32_t b0 = 0; b0 < nimg; b0 += batch) {
		uint32_t nb = nimg - b0 < (uint32_t)batch ? nimg - b0 : (uint32_t)batch;
		struct binding out = { m->g->output[qout]->name, NULL }, ref = out;
		double t1;
		int err;

		memset(in.t->f, 0, in.t->n * sizeof(float));
		for (size_t k = 0; k < (size_t)nb * 784; k++)
			in.t->f[k] = img[(size_t)b0 * 784 + k] / 255.0f;
		err = prog_write_input(&r.p, in.name, in.t, runner_arena(&r));
		t1 = now();
		if (!err && !reference_only)
			err = runner_run(&r);
		t_dev += now() - t1;
		if (!err && !reference_only)
			out.t = prog_read_output(&r.p, out.name, runner_arena(&r));
		if (!err && (check || reference_only)) {
			err = ref_run(m, &in, 1, &ref, 1);
			if (!err && out.t) {
				long same = compare_exact(out.t, ref.t, "device vs CPU reference");

				err = same < 0;
				identical += (same > 0) * same * nb / batch;
			}
			if (!out.t)
				out.t = ref.t, ref.t = NULL;
		}
		if (err || !out.t || out.t->n != (size_t)batch * 10) {
			fprintf(stderr, "%s: batch at image %u: %s\n", prog_name, b0,
				err_msg[0] ? err_msg : "no output");
			tensor_free(out.t), tensor_free(ref.t);
			runner_free(&r);
			goto out;
		}
		for (uint32_t i = 0; i < nb; i++) {
			const int64_t *l = out.t->i + i * 10;
			int best = 0;

			for (int c = 0; c < 10; c++) {
				logits[(size_t)(b0 + i) * 10 + c] = l[c];
				best = l[c] > l[best] ? c : best;
			}
			pred[b0 + i] = '0' + best;
			correct += best == lab[b0 + i];
		}
		tensor_free(out.t), tensor_free(ref.t);
		if ((b0 + nb) / 1000 != b0 / 1000)
			fprintf(stderr, "%s: %u/%u images, %.2f%% correct so far\n", prog_name,
				b0 + nb, nimg, 100.0 * correct / (b0 + nb));
	}
	printf("accuracy: %.2f%% (%ld/%u)\n", 100.0 * correct / nimg, correct, nimg);
	if (!reference_only)
		printf("throughput: %.1f images/s on the device (%.1f images/s by job time,"
		       " %llu jobs), %.1f images/s end to end\n", nimg / t_dev,
		       r.device_ns ? nimg / (r.device_ns * 1e-9) : 0.0,
		       (unsigned long long)r.jobs, nimg / (now() - t0));
	else
		printf("throughput: %.1f images/s (CPU reference)\n", nimg / (now() - t0));
	if (check && !reference_only)
		printf("bit-exact: %ld outputs identical (device vs CPU reference)\n", identical);
	ret = 0;
	if (expect) {
		const char *c = expect_value(expect, "correct");
		long ec = c ? atol(c) : -1;
		char *p = expect_value(expect, "predictions");
		int pred_ok = p && !strcmp(p, pred);
		char l0[128] = "", *e0;

		for (int c2 = 0; c2 < 10; c2++)
			snprintf(l0 + strlen(l0), sizeof(l0) - strlen(l0), "%s%d", c2 ? " " : "",
				 logits[c2]);
		e0 = expect_value(expect, "logits0");
		ret = ec != correct || !pred_ok || !e0 || strcmp(e0, l0);
		printf("expected (%s): correct %ld, predictions %s, logits0 %s: %s\n", expect, ec,
		       pred_ok ? "identical" : "DIFFER", e0 && !strcmp(e0, l0) ? "identical" : "DIFFER",
		       ret ? "MISMATCH" : "match");
	}
	runner_free(&r);
out:
	tensor_free(in.t);
	free(img), free(lab), free(pred), free(logits);
	return ret;
}

/* One run on --input files; prints the outputs. */
static int run_inputs(struct tapu_device *dev, struct model *m, char **files, int nfiles)
{
	struct binding in[16] = { 0 }, out[16];
	const char *names[16], *where;
	int nin = data_inputs(m, names, 16), nout = m->g->n_output < 16 ? m->g->n_output : 16;
	long same = 0;
	int ret = 0;

	if (nfiles != nin) {
		fprintf(stderr, "%s: the model has %d inputs, %d --input given\n", prog_name, nin, nfiles);
		return 2;
	}
	for (int i = 0; i < nin && !ret; i++) {
		in[i].name = names[i];
		in[i].t = calloc(1, sizeof(struct tensor));
		ret = tensor_load(files[i], in[i].t, NULL);
	}
	ret = ret ?: run_once(dev, m, in, nin, out, nout, &same, &where);
	if (ret)
		fprintf(stderr, "%s: %s\n", prog_name, err_msg);
	for (int i = 0; i < nout && !ret; i++) {
		printf("%s %s [", out[i].name, dtype_name(out[i].t->dtype));
		for (int k = 0; k < out[i].t->rank; k++)
			printf("%s%lld", k ? ", " : "", (long long)out[i].t->dim[k]);
		printf("]:");
		for (size_t k = 0; k < out[i].t->n; k++)
			out[i].t->f ? printf(" %g", out[i].t->f[k]) :
				      printf(" %lld", (long long)out[i].t->i[k]);
		printf("\n");
		tensor_free(out[i].t);
	}
	if (!ret && check)
		printf("bit-exact: %ld outputs identical (device vs CPU reference)\n", same);
	for (int i = 0; i < nin; i++)
		tensor_free(in[i].t);
	return !!ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s MODEL.onnx [--input FILE.pb ...] [options]\n"
		"       %s MODEL.onnx --fmnist DIR [--batch N] [--expect FILE] [options]\n"
		"       %s --onnx-node-tests DIR [options]\n"
		"Compiles an int8/uint8 quantised ONNX model to a TAPU command stream and\n"
		"runs it on the device.\n"
		"  -i, --input FILE.pb    a TensorProto for each graph input, in order\n"
		"  -f, --fmnist DIR       classify the Fashion-MNIST test set of DIR\n"
		"                         (t10k-{images-idx3,labels-idx1}-ubyte[.gz])\n"
		"  -b, --batch N          images per job (default 100)\n"
		"  -e, --expect FILE      compare with the training script's results\n"
		"  -n, --onnx-node-tests DIR  run the ONNX backend node tests with int8/uint8\n"
		"                         data in DIR (TAP output)\n"
		"  -m, --max-diff N       node tests: integer outputs may differ from the\n"
		"                         expected ones by N (default 0)\n"
		"  -c, --check            also run the CPU reference and require\n"
		"                         bit-identical outputs\n"
		"  -r, --reference-only   run only the CPU reference (no device)\n"
		"  -d, --device PATH      TAPU device (default: the first one)\n"
		"  -h, --help\n"
		"Exit status: 0 success, 1 failure or mismatch, 2 usage.\n",
		prog_name, prog_name, prog_name);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "fmnist", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "expect", required_argument, NULL, 'e' },
		{ "onnx-node-tests", required_argument, NULL, 'n' },
		{ "max-diff", required_argument, NULL, 'm' },
		{ "check", no_argument, NULL, 'c' },
		{ "reference-only", no_argument, NULL, 'r' },
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *inputs[16], *fm = NULL, *tests = NULL, *expect = NULL, *end;
	int ninputs = 0, batch = 100, c, ret;
	struct tapu_device *dev = NULL;
	struct model m;

	while ((c = getopt_long(argc, argv, "i:f:b:e:n:m:crd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (ninputs == 16)
				return usage(stderr), 2;
			inputs[ninputs++] = optarg;
			break;
		case 'f': fm = optarg; break;
		case 'e': expect = optarg; break;
		case 'n': tests = optarg; break;
		case 'c': check = 1; break;
		case 'r': reference_only = 1; break;
		case 'd': dev_path = optarg; break;
		case 'm':
			max_diff = strtol(optarg, &end, 0);
			if (*end || max_diff < 0 || max_diff > 255)
				return fprintf(stderr, "%s: bad --max-diff\n", prog_name), 2;
			break;
		case 'b':
			batch = strtol(optarg, &end, 0);
			if (*end || batch < 1 || batch > 65536)
				return fprintf(stderr, "%s: bad --batch\n", prog_name), 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!!tests + (optind < argc) != 1 || optind + 1 < argc ||
	    (tests && (fm || ninputs)) || (fm && ninputs)) {
		usage(stderr);
		return 2;
	}
	/* The model first: its errors do not depend on the device. */
	if (!tests && model_load(argv[optind], &m)) {
		fprintf(stderr, "%s: %s\n", prog_name, err_msg);
		return 1;
	}
	for (int k = 0; !tests && k < m.nnodes; k++)
		if (!op_known(&m.nodes[k])) {
			fprintf(stderr, "%s: %s: node '%s': operator %s%s%s is not supported "
				"by TAPU\n", prog_name, argv[optind], m.nodes[k].name,
				m.nodes[k].foreign ? m.nodes[k].pb->domain : "",
				m.nodes[k].foreign ? "." : "", m.nodes[k].op);
			model_free(&m);
			return 1;
		}
	if (!reference_only) {
		ret = dev_path ? tapu_device_open(dev_path, &dev) : tapu_device_open_index(0, &dev);
		if (ret) {
			fprintf(stderr, "%s: %s: %s\n", prog_name, dev_path ? dev_path : "TAPU device",
				tapu_strerror(ret));
			if (!tests)
				model_free(&m);
			return 1;
		}
	}
	if (tests) {
		ret = node_tests(dev, tests);
	} else {
		ret = fm ? fmnist(dev, &m, fm, batch, expect) : run_inputs(dev, &m, inputs, ninputs);
		model_free(&m);
	}
	tapu_device_close(dev);
	return ret;
}
