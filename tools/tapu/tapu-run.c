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
#include "tapu-onnx.h"

static const char *prog_name = "tapu-run";
static const char *dev_path;
static int reference_only, check, verbose;
static long max_diff;	/* node tests: allowed integer difference */
static double lsb;	/* node tests: float outputs compared in steps of lsb */
static long bench_runs;	/* --bench: timed runs after the first */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* An output as the library gives it. */
struct output {
	struct tapu_onnx_tensor_info info;
	size_t n;
	void *data;
};

static double out_elem(const struct output *o, size_t k)
{
	switch (o->info.type) {
	case TAPU_ONNX_FLOAT: return ((const float *)o->data)[k];
	case TAPU_ONNX_UINT8: return ((const uint8_t *)o->data)[k];
	case TAPU_ONNX_INT8: return ((const int8_t *)o->data)[k];
	case TAPU_ONNX_INT32: return ((const int32_t *)o->data)[k];
	default: return ((const int64_t *)o->data)[k];
	}
}

static int get_output(struct tapu_onnx_session *s, const char *name, struct output *o,
		      struct tapu_onnx_error *err)
{
	size_t size;
	int ret;

	free(o->data);
	memset(o, 0, sizeof(*o));
	ret = tapu_onnx_get_output(s, name, &o->info, NULL, 0, err);
	if (ret)
		return ret;
	o->n = 1;
	for (int k = 0; k < o->info.rank; k++)
		o->n *= o->info.dims[k];
	size = o->n * tapu_onnx_type_size(o->info.type);
	o->data = malloc(size + 1);
	return tapu_onnx_get_output(s, name, NULL, o->data, size, err);
}

/* Device and CPU outputs must be identical; returns the element count. */
static long compare_exact(const struct output *a, const struct output *b,
			  struct tapu_onnx_error *err)
{
	size_t es = tapu_onnx_type_size(a->info.type);

	if (a->n != b->n || a->info.type != b->info.type)
		return snprintf(err->message, sizeof(err->message),
				"device vs CPU reference: shapes or types differ"), -1;
	for (size_t k = 0; k < a->n; k++)
		if (memcmp((char *)a->data + k * es, (char *)b->data + k * es, es))
			return snprintf(err->message, sizeof(err->message),
					"device vs CPU reference: element %zu differs (%g vs %g)",
					k, out_elem(a, k), out_elem(b, k)), -1;
	return a->n;
}

/* A device session, and with --check or --reference-only a CPU one. */
struct runner {
	struct tapu_onnx_model *model;
	struct tapu_onnx_session *dev, *cpu;
	struct output *out, *ref;
	long identical;
	double dev_s;		/* wall time of the device runs */
};

static int runner_init(struct runner *r, struct tapu_device *dev, struct tapu_onnx_model *model,
		       struct tapu_onnx_error *err)
{
	int nout = tapu_onnx_model_num_outputs(model), ret = 0;

	memset(r, 0, sizeof(*r));
	r->model = model;
	r->out = calloc(nout + 1, sizeof(*r->out));
	r->ref = calloc(nout + 1, sizeof(*r->ref));
	if (!reference_only)
		ret = tapu_onnx_session_create(model, dev, &r->dev, err);
	if (!ret && (check || reference_only))
		ret = tapu_onnx_session_create(model, NULL, &r->cpu, err);
	return ret;
}

static void runner_free(struct runner *r)
{
	int nout = tapu_onnx_model_num_outputs(r->model);

	tapu_onnx_session_free(r->dev);
	tapu_onnx_session_free(r->cpu);
	for (int i = 0; i < nout; i++)
		free(r->out[i].data), free(r->ref[i].data);
	free(r->out);
	free(r->ref);
}

static int runner_set_input(struct runner *r, const char *name, const struct tapu_onnx_tensor_info *t,
			    const void *data, struct tapu_onnx_error *err)
{
	int ret = 0;

	if (r->dev)
		ret = tapu_onnx_set_input(r->dev, name, t->type, t->rank, t->dims, data, err);
	if (!ret && r->cpu)
		ret = tapu_onnx_set_input(r->cpu, name, t->type, t->rank, t->dims, data, err);
	return ret;
}

/*
 * Runs the sessions and fetches the outputs; r->out has the device's (the
 * CPU's with --reference-only), which must equal the CPU's with --check.
 * *where says which step failed.
 */
static int runner_run(struct runner *r, const char **where, struct tapu_onnx_error *err)
{
	int nout = tapu_onnx_model_num_outputs(r->model), ret;
	struct tapu_onnx_tensor_info info;

	double t0 = now();

	*where = "run";
	ret = tapu_onnx_run(r->dev ? r->dev : r->cpu, err);
	if (r->dev)
		r->dev_s += now() - t0;
	if (!ret && verbose == 1) {
		char buf[8192];

		tapu_onnx_session_placement(r->dev ? r->dev : r->cpu, buf, sizeof(buf));
		fprintf(stderr, "%s: %s", prog_name, buf);
		verbose = 2;	/* once */
	}
	for (int i = 0; i < nout && !ret; i++) {
		tapu_onnx_model_output(r->model, i, &info);
		ret = get_output(r->dev ? r->dev : r->cpu, info.name, &r->out[i], err);
	}
	if (ret || !r->dev || !r->cpu)
		return ret;
	*where = "reference";
	ret = tapu_onnx_run(r->cpu, err);
	for (int i = 0; i < nout && !ret; i++) {
		long same;

		tapu_onnx_model_output(r->model, i, &info);
		ret = get_output(r->cpu, info.name, &r->ref[i], err);
		same = ret ? 0 : compare_exact(&r->out[i], &r->ref[i], err);
		if (same < 0) {
			*where = "check";
			ret = -EINVAL;
		}
		r->identical += same > 0 ? same : 0;
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
	char path[4096], msg[600] = "";
	struct tapu_onnx_model *model;
	struct tapu_onnx_error err;
	struct tapu_onnx_stats st = { 0 };
	struct runner r;
	const char *where;
	int nin, nout, sets = 0, ok = 1;
	long diffs[3] = { 0 };	/* integer elements off by 0, 1, more */
	long worst = 0;

	snprintf(path, sizeof(path), "%s/%s/model.onnx", dir, name);
	if (tapu_onnx_model_load(path, &model, &err)) {
		printf("not ok %d - %s # %s\n", num, name, err.message);
		return 0;
	}
	nin = tapu_onnx_model_num_inputs(model);
	nout = tapu_onnx_model_num_outputs(model);
	if (runner_init(&r, dev, model, &err)) {
		printf("ok %d - %s # SKIP unsupported: %s\n", num, name, err.message);
		(*skip)++;
		ok = -1;
	}
	for (int s = 0; ok > 0; s++, sets++) {
		struct tapu_onnx_tensor *t = NULL;
		int ret = 0;

		snprintf(path, sizeof(path), "%s/%s/test_data_set_%d", dir, name, s);
		if (!opendir(path))
			break;
		/* The ONNX test layout: input_<i>.pb is the graph's input i. */
		for (int i = 0; i < nin && !ret; i++) {
			struct tapu_onnx_tensor_info info;

			tapu_onnx_model_input(model, i, &info);
			snprintf(path, sizeof(path), "%s/%s/test_data_set_%d/input_%d.pb", dir, name,
				 s, i);
			ret = tapu_onnx_tensor_load(path, &t, &err) ?:
			      runner_set_input(&r, info.name, &t->info, t->data, &err);
			tapu_onnx_tensor_free(t);
		}
		where = "input";
		ret = ret ?: runner_run(&r, &where, &err);
		if (ret == -EOPNOTSUPP) {
			printf("ok %d - %s # SKIP unsupported: %s\n", num, name, err.message);
			(*skip)++;
			ok = -1;
		} else if (ret) {
			snprintf(msg, sizeof(msg), "%s: %s", where, err.message);
			ok = 0;
		}
		for (int i = 0; i < nout && ok > 0; i++) {
			const struct output *o = &r.out[i];
			struct output exp = { 0 };

			snprintf(path, sizeof(path), "%s/%s/test_data_set_%d/output_%d.pb", dir, name,
				 s, i);
			if (tapu_onnx_tensor_load(path, &t, &err)) {
				snprintf(msg, sizeof(msg), "%s", err.message);
				ok = 0;
				break;
			}
			exp.info = t->info;
			exp.n = t->size / tapu_onnx_type_size(t->info.type);
			exp.data = t->data;
			for (size_t k = 0; ok && k < exp.n; k++) {
				/* float: as integers with --lsb (dequantized outputs) */
				int fl = exp.info.type == TAPU_ONNX_FLOAT && !lsb;
				double d = exp.n != o->n || fl ? 0 :
					   fabs(out_elem(o, k) - out_elem(&exp, k));

				if (lsb && exp.info.type == TAPU_ONNX_FLOAT)
					d = round(d / lsb);
				diffs[d < 2 ? (int)d : 2]++;
				worst = d > worst ? d : worst;
				if (exp.n != o->n || (exp.info.type == TAPU_ONNX_FLOAT) !=
				    (o->info.type == TAPU_ONNX_FLOAT) ||
				    (fl ? !near(out_elem(o, k), out_elem(&exp, k)) : d > max_diff)) {
					snprintf(msg, sizeof(msg),
						 "output %d element %zu: got %g, expected %g", i, k,
						 exp.n == o->n ? out_elem(o, k) : NAN,
						 out_elem(&exp, k));
					ok = 0;
				}
			}
			tapu_onnx_tensor_free(t);
		}
	}
	if (r.dev || r.cpu)
		tapu_onnx_session_stats(r.dev ? r.dev : r.cpu, &st);
	runner_free(&r);
	tapu_onnx_model_free(model);
	if (ok < 0)
		return 0;
	if (!ok) {
		printf("not ok %d - %s # %s\n", num, name, msg);
		return 0;
	}
	printf("ok %d - %s (%d data set%s, ", num, name, sets, sets == 1 ? "" : "s");
	if (reference_only)
		printf("CPU reference");
	else if (!st.device_ops)
		printf("no device op: %llu nodes on the CPU", (unsigned long long)st.cpu_nodes);
	else if (st.cpu_nodes)
		printf("%llu nodes on the device in %llu segments, %llu on the CPU",
		       (unsigned long long)st.device_nodes, (unsigned long long)st.segments,
		       (unsigned long long)st.cpu_nodes);
	else
		printf("on the device");
	printf("%s", check && !reference_only ? ", = CPU reference" : "");
	if (max_diff)
		printf(", integer elements off by 0: %ld, 1: %ld, more: %ld (at most %ld)",
		       diffs[0], diffs[1], diffs[2], worst);
	printf(")\n");
	(*pass)++;
	return 0;
}

/* Tests with int8 or uint8 tensors among graph inputs, outputs, initializers. */
static int is_q8_test(const char *dir, const char *name)
{
	struct tapu_onnx_model *model;
	char path[4096];
	int q8;

	snprintf(path, sizeof(path), "%s/%s/model.onnx", dir, name);
	if (tapu_onnx_model_load(path, &model, NULL))
		return 0;
	q8 = tapu_onnx_model_quantized(model);
	tapu_onnx_model_free(model);
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
		fprintf(stderr, "%s: %s/%s[.gz]: %s\n", prog_name, dir, file, strerror(errno));
		return NULL;
	}
	if (gzread(f, hdr, 4 + 4 * ndim) != 4 + 4 * ndim || hdr[2] != 8 || hdr[3] != ndim) {
		gzclose(f);
		fprintf(stderr, "%s: %s: not an idx file of uint8\n", prog_name, path);
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
		fprintf(stderr, "%s: %s: short file\n", prog_name, path);
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

static int fmnist(struct tapu_device *dev, struct tapu_onnx_model *model, const char *dir,
		  int batch, const char *expect)
{
	uint32_t nimg, nlab;
	uint8_t *img = load_idx(dir, "t10k-images-idx3-ubyte", 3, &nimg);
	uint8_t *lab = img ? load_idx(dir, "t10k-labels-idx1-ubyte", 1, &nlab) : NULL;
	struct tapu_onnx_tensor_info in, out;
	struct tapu_onnx_error err;
	struct tapu_onnx_stats st;
	struct runner r = { 0 };
	char *pred = NULL;
	long correct = 0;
	int qout = -1, ret = 1;
	double t0;
	int8_t *logits = NULL;
	float *x = NULL;

	if (!lab || nimg != nlab)
		goto out;
	if (tapu_onnx_model_num_inputs(model) != 1) {
		fprintf(stderr, "%s: the model must have one input\n", prog_name);
		goto out;
	}
	tapu_onnx_model_input(model, 0, &in);
	for (int i = 0; i < tapu_onnx_model_num_outputs(model) && qout < 0; i++) {
		tapu_onnx_model_output(model, i, &out);
		if (out.type == TAPU_ONNX_INT8 || out.type == TAPU_ONNX_UINT8)
			qout = i;
	}
	if (qout < 0) {
		fprintf(stderr, "%s: the model has no int8/uint8 output to classify with\n", prog_name);
		goto out;
	}
	if (runner_init(&r, dev, model, &err)) {
		fprintf(stderr, "%s: %s\n", prog_name, err.message);
		goto out;
	}
	in.type = TAPU_ONNX_FLOAT;
	in.rank = 4;
	in.dims[0] = batch, in.dims[1] = 1, in.dims[2] = 28, in.dims[3] = 28;
	x = calloc((size_t)batch * 784, sizeof(*x));
	pred = calloc(nimg + 1, 1);
	logits = calloc((size_t)nimg * 10, 1);
	t0 = now();
	for (uint32_t b0 = 0, nb; b0 < nimg; b0 += nb) {
		const char *where;
		int err_code;

		nb = nimg - b0 < (uint32_t)batch ? nimg - b0 : (uint32_t)batch;
		memset(x, 0, (size_t)batch * 784 * sizeof(*x));
		for (size_t k = 0; k < (size_t)nb * 784; k++)
			x[k] = img[(size_t)b0 * 784 + k] / 255.0f;
		err_code = runner_set_input(&r, in.name, &in, x, &err) ?:
			   runner_run(&r, &where, &err);
		/* An op over the whole batch may be more than one job may do. */
		if (err_code == -E2BIG && !b0 && batch > 1) {
			batch = (batch + 1) / 2;
			in.dims[0] = batch;
			fprintf(stderr, "%s: an op of the batch is above the device's work per job, "
				"batch %d\n", prog_name, batch);
			nb = 0;
			continue;
		}
		if (!err_code && r.out[qout].n != (size_t)batch * 10) {
			snprintf(err.message, sizeof(err.message), "the output is not [%d, 10]",
				 batch);
			err_code = -EINVAL;
		}
		if (err_code) {
			fprintf(stderr, "%s: batch at image %u: %s\n", prog_name, b0, err.message);
			goto out;
		}
		if (!b0) {
			tapu_onnx_session_stats(r.dev ? r.dev : r.cpu, &st);
			fprintf(stderr, "%s: %u images, batch %d, %llu device ops per batch\n",
				prog_name, nimg, batch, (unsigned long long)st.device_ops);
		}
		for (uint32_t i = 0; i < nb; i++) {
			int best = 0;

			for (int c = 0; c < 10; c++) {
				int l = out_elem(&r.out[qout], i * 10 + c);

				logits[(size_t)(b0 + i) * 10 + c] = l;
				best = l > logits[(size_t)(b0 + i) * 10 + best] ? c : best;
			}
			pred[b0 + i] = '0' + best;
			correct += best == lab[b0 + i];
		}
		if ((b0 + nb) / 1000 != b0 / 1000)
			fprintf(stderr, "%s: %u/%u images, %.2f%% correct so far\n", prog_name,
				b0 + nb, nimg, 100.0 * correct / (b0 + nb));
	}
	printf("accuracy: %.2f%% (%ld/%u)\n", 100.0 * correct / nimg, correct, nimg);
	tapu_onnx_session_stats(r.dev ? r.dev : r.cpu, &st);
	if (!reference_only)
		printf("throughput: %.1f images/s on the device (%.1f images/s by job time,"
		       " %llu runs, %llu compiles), %.1f images/s end to end\n", nimg / r.dev_s,
		       st.device_ns ? nimg / (st.device_ns * 1e-9) : 0.0,
		       (unsigned long long)st.runs, (unsigned long long)st.compiles,
		       nimg / (now() - t0));
	else
		printf("throughput: %.1f images/s (CPU reference)\n", nimg / (now() - t0));
	if (check && !reference_only)
		printf("bit-exact: %ld outputs identical (device vs CPU reference)\n",
		       r.identical);
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
out:
	if (r.model)
		runner_free(&r);
	free(img), free(lab), free(pred), free(logits), free(x);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --bench: warm-up, then bench_runs timed runs of session @s; 0 or -errno. */
static int bench(struct tapu_onnx_session *s, const char *what, double *p50,
		 struct tapu_onnx_error *err)
{
	long warm = bench_runs / 10 > 0 ? bench_runs / 10 : 1;
	double *t = calloc(bench_runs, sizeof(*t)), t0, total = 0;
	struct tapu_onnx_stats st0, st1;
	int ret = 0;

	if (!t)
		return -ENOMEM;
	for (long i = 0; i < warm && !ret; i++)
		ret = tapu_onnx_run(s, err);
	tapu_onnx_session_stats(s, &st0);
	for (long i = 0; i < bench_runs && !ret; i++) {
		t0 = now();
		ret = tapu_onnx_run(s, err);
		t[i] = now() - t0;
		total += t[i];
	}
	tapu_onnx_session_stats(s, &st1);
	if (!ret) {
		qsort(t, bench_runs, sizeof(*t), cmp_double);
		*p50 = t[bench_runs / 2];
		printf("benchmark (%s): %ld runs after %ld warm-up: latency p50 %.3f ms, "
		       "p90 %.3f ms, p99 %.3f ms, min %.3f ms, max %.3f ms; %.1f runs/s\n",
		       what, bench_runs, warm, 1e3 * *p50, 1e3 * t[bench_runs * 9 / 10],
		       1e3 * t[bench_runs * 99 / 100], 1e3 * t[0], 1e3 * t[bench_runs - 1],
		       bench_runs / total);
		if (st1.device_ops)
			printf("benchmark (%s): per run %.3f ms in jobs on the device's cores, "
			       "%.3f ms on the host (CPU nodes, copies, submission), %llu segments\n",
			       what, 1e-6 * (st1.device_ns - st0.device_ns) / bench_runs,
			       1e3 * total / bench_runs -
			       1e-6 * (st1.device_ns - st0.device_ns) / bench_runs,
			       (unsigned long long)st1.segments);
	}
	free(t);
	return ret;
}

/*
 * One run on --input files, bound by the name each file carries or else in
 * the order of the graph's inputs; prints the outputs. With --bench, then
 * the benchmark of each session.
 */
static int run_inputs(struct tapu_device *dev, struct tapu_onnx_model *model, char **files,
		      int nfiles)
{
	int nin = tapu_onnx_model_num_inputs(model), nout = tapu_onnx_model_num_outputs(model);
	struct tapu_onnx_tensor_info info;
	struct tapu_onnx_error err;
	const char *where;
	struct runner r;
	int ret;

	if (nfiles != nin) {
		fprintf(stderr, "%s: the model has %d inputs, %d --input given\n", prog_name, nin,
			nfiles);
		return 2;
	}
	ret = runner_init(&r, dev, model, &err);
	for (int i = 0; i < nin && !ret; i++) {
		struct tapu_onnx_tensor *t;
		const char *name;

		tapu_onnx_model_input(model, i, &info);
		ret = tapu_onnx_tensor_load(files[i], &t, &err);
		if (ret)
			break;
		name = info.name;
		for (int k = 0; k < nin; k++) {
			tapu_onnx_model_input(model, k, &info);
			if (!strcmp(info.name, t->info.name))
				name = info.name;
		}
		ret = runner_set_input(&r, name, &t->info, t->data, &err);
		tapu_onnx_tensor_free(t);
	}
	ret = ret ?: runner_run(&r, &where, &err);
	if (ret)
		fprintf(stderr, "%s: %s\n", prog_name, err.message);
	for (int i = 0; i < nout && !ret; i++) {
		const struct output *o = &r.out[i];

		printf("%s %s [", o->info.name, tapu_onnx_type_name(o->info.type));
		for (int k = 0; k < o->info.rank; k++)
			printf("%s%lld", k ? ", " : "", (long long)o->info.dims[k]);
		printf("]:");
		for (size_t k = 0; k < o->n; k++)
			printf(" %g", out_elem(o, k));
		printf("\n");
	}
	if (!ret && check)
		printf("bit-exact: %ld outputs identical (device vs CPU reference)\n", r.identical);
	if (!ret && bench_runs) {
		double dev_p50 = 0, cpu_p50 = 0;

		if (r.dev)
			ret = bench(r.dev, "device", &dev_p50, &err);
		if (!ret && r.cpu)
			ret = bench(r.cpu, "CPU", &cpu_p50, &err);
		if (!ret && r.dev && r.cpu)
			printf("benchmark: the device session takes %.2fx the CPU session's time\n",
			       dev_p50 / cpu_p50);
		if (ret)
			fprintf(stderr, "%s: benchmark: %s\n", prog_name, err.message);
	}
	runner_free(&r);
	return !!ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s MODEL.onnx [--input FILE.pb ...] [--bench N] [options]\n"
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
		"  -l, --lsb STEP         node tests: compare float outputs as integers\n"
		"                         in steps of STEP (a dequantized output's scale)\n"
		"  -c, --check            also run the CPU reference and require\n"
		"                         bit-identical outputs\n"
		"  -r, --reference-only   run only the CPU reference (no device)\n"
		"  -d, --device PATH      TAPU device (default: the first one)\n"
		"  -B, --bench N          after the run: N timed runs (after N/10 warm-up)\n"
		"                         of each session: latency p50/p90/p99, runs/s,\n"
		"                         time in jobs on the device vs on the host\n"
		"  -v, --verbose          print where the nodes run (device, CPU and why)\n"
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
		{ "lsb", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 'c' },
		{ "reference-only", no_argument, NULL, 'r' },
		{ "device", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "bench", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *inputs[16], *fm = NULL, *tests = NULL, *expect = NULL, *end;
	int ninputs = 0, batch = 100, c, ret;
	struct tapu_onnx_model *model = NULL;
	struct tapu_device *dev = NULL;
	struct tapu_onnx_error err;

	while ((c = getopt_long(argc, argv, "i:f:b:e:n:m:l:crd:vB:h", opts, NULL)) != -1) {
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
		case 'v': verbose = 1; break;
		case 'm':
			max_diff = strtol(optarg, &end, 0);
			if (*end || max_diff < 0 || max_diff > 255)
				return fprintf(stderr, "%s: bad --max-diff\n", prog_name), 2;
			break;
		case 'B':
			bench_runs = strtol(optarg, &end, 0);
			if (*end || bench_runs < 1 || bench_runs > 1000000)
				return fprintf(stderr, "%s: bad --bench\n", prog_name), 2;
			break;
		case 'l':
			lsb = strtod(optarg, &end);
			if (*end || !(lsb > 0))
				return fprintf(stderr, "%s: bad --lsb\n", prog_name), 2;
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
	    (tests && (fm || ninputs)) || (fm && ninputs) || (bench_runs && (tests || fm))) {
		usage(stderr);
		return 2;
	}
	/*
	 * The model first: its errors do not depend on the device. So does
	 * the support of its operators: every node the library cannot run.
	 */
	if (!tests && tapu_onnx_model_load(argv[optind], &model, &err)) {
		fprintf(stderr, "%s: %s\n", prog_name, err.message);
		return 1;
	}
	if (model) {
		struct tapu_onnx_session *s;

		if (tapu_onnx_session_create(model, NULL, &s, &err)) {
			fprintf(stderr, "%s: %s: %s\n", prog_name, argv[optind], err.message);
			tapu_onnx_model_free(model);
			return 1;
		}
		tapu_onnx_session_free(s);
	}
	if (!reference_only) {
		ret = dev_path ? tapu_device_open(dev_path, &dev) : tapu_device_open_index(0, &dev);
		if (ret) {
			fprintf(stderr, "%s: %s: %s\n", prog_name, dev_path ? dev_path : "TAPU device",
				tapu_strerror(ret));
			tapu_onnx_model_free(model);
			return 1;
		}
	}
	if (tests) {
		ret = node_tests(dev, tests);
	} else {
		ret = fm ? fmnist(dev, model, fm, batch, expect) :
		      run_inputs(dev, model, inputs, ninputs);
		tapu_onnx_model_free(model);
	}
	tapu_device_close(dev);
	return ret;
}
