// SPDX-License-Identifier: GPL-2.0-only
/*
 * tapu-info - list the TAPU devices and print what each reports through
 * QUERY: backend, cores, ISA version and operations, limits.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "libtapu.h"

static const char *prog = "tapu-info";

static void print_device(const char *path, const struct tapu_info *in)
{
	const struct drm_tapu_limits *l = &in->limits;

	printf("%s\n", path);
	printf("  backend            %s\n", in->device.backend);
	printf("  cores              %u\n", in->device.num_cores);
	printf("  cycle clock        %llu Hz\n", in->device.cycle_clock_hz);
	printf("  ISA version        %u\n", in->isa.version);
	printf("  max dimension      %u\n", in->isa.max_dim);
	printf("  operations        ");
	for (unsigned int op = 0; op < 64; op++) {
		const char *name = tapu_op_name(op);

		if (!(in->isa.ops & (1ULL << op)))
			continue;
		if (name)
			printf(" %s", name);
		else
			printf(" op%u", op);
	}
	printf("\n");
	printf("  max BO size        %llu bytes\n", l->max_bo_size);
	printf("  max stream size    %u bytes\n", l->max_cmdstream_size);
	printf("  max BOs per job    %u\n", l->max_bos);
	printf("  max in-syncs       %u\n", l->max_in_syncs);
	printf("  max jobs in flight %u\n", l->max_jobs_in_flight);
	printf("  job timeout        %u ms\n", l->job_timeout_ms);
	printf("  results kept       %u\n", l->results_kept);
}

/* Opens, queries and prints one device; returns 0 or a negative errno. */
static int show(const char *path)
{
	struct tapu_device *dev;
	struct tapu_info info;
	int ret = tapu_device_open(path, &dev);

	if (!ret) {
		ret = tapu_device_query(dev, &info);
		tapu_device_close(dev);
	}
	if (ret)
		fprintf(stderr, "%s: %s: %s\n", prog, path, tapu_strerror(ret));
	else
		print_device(path, &info);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [-d DEVICE] [-h]\n"
		"List the TAPU devices and what they report.\n"
		"  -d, --device DEVICE  only this accel node, e.g. /dev/accel/accel0\n"
		"  -h, --help           this help\n"
		"Exit status: 0 ok, 1 no device or an error, 2 usage.\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	char found[256];
	unsigned int i;
	int opt, ret = 0;

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
	if (path)
		return show(path) ? 1 : 0;

	for (i = 0; !(ret = tapu_device_find(i, found, sizeof(found))); i++) {
		if (i)
			printf("\n");
		if (show(found))
			return 1;
	}
	if (ret != -ENODEV || !i) {
		fprintf(stderr, "%s: %s\n", prog, tapu_strerror(ret));
		return 1;
	}
	return 0;
}
