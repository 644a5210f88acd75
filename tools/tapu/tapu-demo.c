// SPDX-License-Identifier: GPL-2.0-only
/*
 * tapu-demo - print what a TAPU device reports, then run one CONV2D + RELU
 * job on it and check every output byte against a CPU reference.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm/tapu_accel.h>

/* Input [1, H, W, CI], weights [CO, K, K, CI], output [1, H, W, CO]. */
enum { H = 16, W = 16, CI = 8, CO = 16, K = 3 };

static const char *prog = "tapu-demo";

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	if (ret)
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	return ret;
}

static int query(int fd, uint32_t type, void *info, uint32_t size)
{
	struct drm_tapu_query q = {
		.type = type, .size = size, .data = (uintptr_t)info,
	};

	return xioctl(fd, DRM_IOCTL_TAPU_QUERY, &q, "QUERY");
}

static int print_info(int fd)
{
	struct drm_tapu_device_info dev;
	struct drm_tapu_isa_info isa;
	struct drm_tapu_limits lim;

	if (query(fd, DRM_TAPU_QUERY_DEVICE, &dev, sizeof(dev)) ||
	    query(fd, DRM_TAPU_QUERY_ISA, &isa, sizeof(isa)) ||
	    query(fd, DRM_TAPU_QUERY_LIMITS, &lim, sizeof(lim)))
		return -1;
	printf("backend:            %s\n", dev.backend);
	printf("cores:              %u\n", dev.num_cores);
	printf("cycle clock:        %llu Hz\n", dev.cycle_clock_hz);
	printf("ISA version:        %u (ops mask 0x%llx, max dim %u)\n",
	       isa.version, isa.ops, isa.max_dim);
	printf("max BO size:        %llu bytes\n", lim.max_bo_size);
	printf("max stream size:    %u bytes\n", lim.max_cmdstream_size);
	printf("max BOs per job:    %u\n", lim.max_bos);
	printf("max jobs in flight: %u\n", lim.max_jobs_in_flight);
	printf("job timeout:        %u ms\n", lim.job_timeout_ms);
	return 0;
}

static void tensor(struct drm_tapu_tensor *t, uint32_t slot, uint32_t n,
		   uint32_t h, uint32_t w, uint32_t c, uint32_t elem)
{
	*t = (struct drm_tapu_tensor){
		.slot = slot,
		.dim = { n, h, w, c },
		.stride = { h * w * c * elem, w * c * elem, c * elem, elem },
	};
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
static void reference(const struct drm_tapu_op_conv *op, const int8_t *in,
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

struct bo {
	uint32_t handle;
	void *map;
	uint64_t size;
};

static int bo_new(int fd, uint64_t size, struct bo *bo)
{
	struct drm_tapu_bo_create c = { .size = size };

	if (xioctl(fd, DRM_IOCTL_TAPU_BO_CREATE, &c, "BO_CREATE"))
		return -1;
	bo->handle = c.handle;
	bo->size = c.size;
	bo->map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       c.offset);
	if (bo->map == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", prog, strerror(errno));
		return -1;
	}
	return 0;
}

static int run_job(int fd)
{
	struct drm_tapu_op_conv op = {
		.hdr = { DRM_TAPU_OP_CONV2D, sizeof(op), DRM_TAPU_OP_F_BIAS },
		.stride = { 1, 1 }, .dilation = { 1, 1 }, .pad = { 1, 1, 1, 1 },
		.input_zp = -3, .weight_zp = 2, .output_zp = -5,
		.multiplier = 1518500250, .shift = 40,
		.act_min = -5, .act_max = 127,	/* fused RELU */
	};
	struct drm_tapu_cmdstream_create cs = {
		.data = (uintptr_t)&op, .size = sizeof(op),
	};
	struct drm_tapu_submit_bo list[4];
	struct drm_tapu_submit submit = {
		.bo_count = 4, .bos = (uintptr_t)list,
		.priority = DRM_TAPU_PRIO_NORMAL,
	};
	struct drm_tapu_wait_job wait = { 0 };
	struct bo in, wt, bias, out;
	int8_t ref[H * W * CO];
	unsigned int seed = 1, bad = 0;
	struct timespec ts;

	if (bo_new(fd, H * W * CI, &in) || bo_new(fd, CO * K * K * CI, &wt) ||
	    bo_new(fd, CO * 4, &bias) || bo_new(fd, sizeof(ref), &out))
		return -1;
	for (int i = 0; i < H * W * CI; i++)
		((int8_t *)in.map)[i] = rand_r(&seed);
	for (int i = 0; i < CO * K * K * CI; i++)
		((int8_t *)wt.map)[i] = rand_r(&seed);
	for (int i = 0; i < CO; i++)
		((int32_t *)bias.map)[i] = rand_r(&seed) % 20000 - 10000;

	tensor(&op.input, 0, 1, H, W, CI, 1);
	tensor(&op.weights, 1, CO, K, K, CI, 1);
	tensor(&op.bias, 2, 1, 1, 1, CO, 4);
	tensor(&op.output, 3, 1, H, W, CO, 1);
	if (xioctl(fd, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &cs, "CMDSTREAM_CREATE"))
		return -1;

	list[0] = (struct drm_tapu_submit_bo){ in.handle, DRM_TAPU_BO_READ };
	list[1] = (struct drm_tapu_submit_bo){ wt.handle, DRM_TAPU_BO_READ };
	list[2] = (struct drm_tapu_submit_bo){ bias.handle, DRM_TAPU_BO_READ };
	list[3] = (struct drm_tapu_submit_bo){ out.handle, DRM_TAPU_BO_WRITE };
	submit.cmdstream = cs.handle;
	if (xioctl(fd, DRM_IOCTL_TAPU_SUBMIT, &submit, "SUBMIT"))
		return -1;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	wait.job_id = submit.job_id;
	wait.timeout_ns = (ts.tv_sec + 10) * 1000000000LL + ts.tv_nsec;
	if (xioctl(fd, DRM_IOCTL_TAPU_WAIT_JOB, &wait, "WAIT_JOB"))
		return -1;
	if (wait.status != DRM_TAPU_JOB_DONE) {
		fprintf(stderr, "%s: job %llu failed: %s\n", prog,
			wait.job_id, strerror(-wait.error));
		return -1;
	}

	reference(&op, in.map, wt.map, bias.map, ref);
	for (unsigned int i = 0; i < sizeof(ref); i++)
		bad += ref[i] != ((int8_t *)out.map)[i];
	printf("job %llu: CONV2D 3x3 %ux%ux%u -> %ux%ux%u + RELU, %llu"
	       " cycles, %llu ns on the core\n", wait.job_id, H, W, CI,
	       H, W, CO, wait.cycles, wait.duration_ns);
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
		"  -d DEVICE  accel device node (default /dev/accel/accel0)\n"
		"  -h         this help\n", prog);
}

int main(int argc, char **argv)
{
	const char *path = "/dev/accel/accel0";
	int opt, fd, ret;

	while ((opt = getopt(argc, argv, "d:h")) != -1) {
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

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return 1;
	}
	printf("%s\n", path);
	ret = print_info(fd) || run_job(fd);
	close(fd);
	return ret ? 1 : 0;
}
