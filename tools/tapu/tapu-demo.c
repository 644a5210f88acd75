// SPDX-License-Identifier: GPL-2.0-only
/*
 * tapu-demo - print what a TAPU device reports, then run one CONV2D + RELU
 * job on it and check every output byte against a CPU reference.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "libtapu.h"

/* Input [1, H, W, CI], weights [CO, K, K, CI], output [1, H, W, CO]. */
enum { H = 16, W = 16, CI = 8, CO = 16, K = 3 };

static const char *prog = "tapu-demo";

static int fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, tapu_strerror(err));
	return -1;
}

static int print_info(struct tapu_device *dev)
{
	struct tapu_info info;
	const struct drm_tapu_limits *lim = &info.limits;
	int ret = tapu_device_query(dev, &info);

	if (ret)
		return fail("QUERY", ret);
	printf("backend:            %s\n", info.device.backend);
	printf("cores:              %u\n", info.device.num_cores);
	printf("cycle clock:        %llu Hz\n", info.device.cycle_clock_hz);
	printf("ISA version:        %u (ops mask 0x%llx, max dim %u)\n",
	       info.isa.version, info.isa.ops, info.isa.max_dim);
	printf("max BO size:        %llu bytes\n", lim->max_bo_size);
	printf("max stream size:    %u bytes\n", lim->max_cmdstream_size);
	printf("max BOs per job:    %u\n", lim->max_bos);
	printf("max jobs in flight: %u\n", lim->max_jobs_in_flight);
	printf("job timeout:        %u ms\n", lim->job_timeout_ms);
	return 0;
}

static int8_t clamp8(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int64_t rshift(int64_t v, unsigned int s)
{
	return s ? (v + (1LL << (s - 1))) >> s : v;
}

/* The CPU reference of the op built in run_job(). */
static void reference(const struct tapu_conv_params *op, const int8_t *in,
		      const int8_t *wt, const int32_t *bias, int8_t *out)
{
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			for (int co = 0; co < CO; co++) {
				uint32_t acc = bias[co];

				for (int ky = 0; ky < K; ky++)
					for (int kx = 0; kx < K; kx++)
						for (int ci = 0; ci < CI; ci++) {
							int iy = y + ky - 1, ix = x + kx - 1;
							int v = iy < 0 || iy >= H || ix < 0 || ix >= W ?
								op->input_zp : in[(iy * W + ix) * CI + ci];

							acc += (uint32_t)((v - op->input_zp) *
									  (wt[((co * K + ky) * K + kx) * CI + ci] -
									   op->weight_zp));
						}
				out[(y * W + x) * CO + co] =
					clamp8(op->output_zp +
					       rshift((int64_t)(int32_t)acc * op->multiplier,
						      op->shift),
					       op->act_min, op->act_max);
			}
}

static int run_job(struct tapu_device *dev)
{
	static const uint32_t access[4] = {
		DRM_TAPU_BO_READ, DRM_TAPU_BO_READ, DRM_TAPU_BO_READ,
		DRM_TAPU_BO_WRITE,
	};
	const uint64_t size[4] = { H * W * CI, CO * K * K * CI, CO * 4, H * W * CO };
	const struct tapu_conv_params op = {
		.input = tapu_tensor_nhwc(0, 0, 1, H, W, CI, 1),
		.weights = tapu_tensor_nhwc(1, 0, CO, K, K, CI, 1),
		.bias = tapu_tensor_nhwc(2, 0, 1, 1, 1, CO, 4),
		.output = tapu_tensor_nhwc(3, 0, 1, H, W, CO, 1),
		.stride = { 1, 1 }, .dilation = { 1, 1 }, .pad = { 1, 1, 1, 1 },
		.input_zp = -3, .weight_zp = 2, .output_zp = -5,
		.multiplier = 1518500250, .shift = 40,
		.act_min = -5, .act_max = 127,	/* fused RELU */
	};
	struct tapu_stream_builder *sb = NULL;
	struct tapu_stream *stream = NULL;
	struct tapu_job_result res = { 0 };
	struct tapu_bo *bo[4];
	void *map[4];
	int8_t *in, *wt, *out, ref[H * W * CO];
	unsigned int seed = 1, bad = 0;
	uint64_t id;
	int ret;

	for (int i = 0; i < 4; i++) {
		ret = tapu_bo_create(dev, size[i], 0, &bo[i]) ?:
		      tapu_bo_map(bo[i], &map[i]);
		if (ret)
			return fail("BO_CREATE", ret);
	}
	in = map[0], wt = map[1], out = map[3];
	for (int i = 0; i < H * W * CI; i++)
		in[i] = rand_r(&seed);
	for (int i = 0; i < CO * K * K * CI; i++)
		wt[i] = rand_r(&seed);
	for (int i = 0; i < CO; i++)
		((int32_t *)map[2])[i] = rand_r(&seed) % 20000 - 10000;

	ret = tapu_sb_new(&sb) ?: tapu_sb_conv2d(sb, &op) ?:
	      tapu_stream_create(dev, sb, &stream);
	tapu_sb_free(sb);
	if (ret)
		return fail("CMDSTREAM_CREATE", ret);
	ret = tapu_submit(dev, stream, bo, access, 4, NULL, 0, NULL,
			  DRM_TAPU_PRIO_NORMAL, &id);
	tapu_stream_destroy(stream);
	if (ret)
		return fail("SUBMIT", ret);
	ret = tapu_wait(dev, id, 10000000000LL, &res);
	if (ret && res.status != DRM_TAPU_JOB_FAILED)
		return fail("WAIT_JOB", ret);
	if (ret) {
		fprintf(stderr, "%s: job %llu failed: %s\n", prog,
			(unsigned long long)id, tapu_strerror(ret));
		return -1;
	}

	reference(&op, in, wt, map[2], ref);
	for (unsigned int i = 0; i < sizeof(ref); i++)
		bad += ref[i] != out[i];
	printf("job %llu: CONV2D 3x3 %ux%ux%u -> %ux%ux%u + RELU, %llu"
	       " cycles, %llu ns on the core\n", (unsigned long long)id, H, W,
	       CI, H, W, CO, (unsigned long long)res.cycles,
	       (unsigned long long)res.duration_ns);
	if (bad) {
		fprintf(stderr, "%s: %u of %zu outputs differ from the CPU reference\n",
			prog, bad, sizeof(ref));
		return -1;
	}
	printf("verified: all %zu outputs match the CPU reference\n", sizeof(ref));
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [-d DEVICE] [-h]\n"
		"Print a TAPU device's info and run one verified job.\n"
		"  -d, --device DEVICE  accel device node (default /dev/accel/accel0)\n"
		"  -h, --help           this help\n"
		"Exit status: 0 verified, 1 no device or a wrong result, 2 usage.\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "/dev/accel/accel0";
	struct tapu_device *dev;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	ret = tapu_device_open(path, &dev);
	if (ret) {
		fail(path, ret);
		return 1;
	}
	printf("%s\n", path);
	ret = print_info(dev) || run_job(dev);
	tapu_device_close(dev);	/* frees the BOs */
	return ret ? 1 : 0;
}
