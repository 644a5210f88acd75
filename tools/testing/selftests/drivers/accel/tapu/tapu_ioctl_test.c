// SPDX-License-Identifier: GPL-2.0-only
/*
 * TAPU ioctl selftests: QUERY, BO_CREATE, BO_INFO, BO_WAIT, PRIME, the
 * SUBMIT error paths (other than the command stream's) and WAIT_JOB.
 * Every negative test ends by running a job and checking its result.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "tapu_job_util.h"

#define SZ_1M	(1024 * 1024)

FIXTURE(tapu) {
	int fd;
	struct drm_tapu_limits lim;
};

/* The fixture's type, for helpers that take it. */
#define TAPU_DATA FIXTURE_DATA(tapu)

FIXTURE_SETUP(tapu)
{
	/* Nor take one over from a test that was killed. */
	tj_release();
	self->fd = tapu_open();
	if (self->fd < 0)
		SKIP(return, "%s: %s", TAPU_DEV, strerror(errno));
	ASSERT_EQ(0, tj_query(self->fd, DRM_TAPU_QUERY_LIMITS, &self->lim,
			      sizeof(self->lim)));
}

FIXTURE_TEARDOWN(tapu)
{
	/* Never leave a job held on a core to the next test. */
	tj_release();
	if (self->fd >= 0)
		close(self->fd);
}

/* ---- QUERY ---- */

/* Each info structure, and the size of its first version. */
static const struct {
	uint32_t type, size, v1;
} qinfo[] = {
	{ DRM_TAPU_QUERY_DEVICE, sizeof(struct drm_tapu_device_info),
	  sizeof(struct drm_tapu_device_info) },
	{ DRM_TAPU_QUERY_ISA, sizeof(struct drm_tapu_isa_info),
	  sizeof(struct drm_tapu_isa_info) },
	{ DRM_TAPU_QUERY_LIMITS, sizeof(struct drm_tapu_limits),
	  offsetof(struct drm_tapu_limits, max_stream_work) },
};

static int query_raw(int fd, uint32_t type, void *data, uint32_t *size,
		     uint32_t flags, uint32_t pad)
{
	struct drm_tapu_query q = {
		.type = type, .size = *size, .data = (uintptr_t)data,
		.flags = flags, .pad = pad,
	};
	int ret = tapu_ioctl(fd, DRM_IOCTL_TAPU_QUERY, &q);

	*size = q.size;
	return ret;
}

TEST_F(tapu, query_each_type)
{
	struct drm_tapu_device_info dev;
	struct drm_tapu_isa_info isa;
	struct drm_tapu_limits *lim = &self->lim;
	uint32_t size;

	memset(&dev, 0xff, sizeof(dev));
	size = sizeof(dev);
	ASSERT_EQ(0, query_raw(self->fd, DRM_TAPU_QUERY_DEVICE, &dev, &size,
			       0, 0));
	EXPECT_EQ(sizeof(dev), size);
	EXPECT_STREQ("sim", dev.backend);
	EXPECT_EQ(2u, dev.num_cores);
	EXPECT_EQ(0u, dev.pad);
	EXPECT_LT(0u, dev.cycle_clock_hz);

	memset(&isa, 0xff, sizeof(isa));
	size = sizeof(isa);
	ASSERT_EQ(0, query_raw(self->fd, DRM_TAPU_QUERY_ISA, &isa, &size,
			       0, 0));
	EXPECT_EQ(sizeof(isa), size);
	EXPECT_EQ((uint32_t)DRM_TAPU_ISA_VERSION, isa.version);
	EXPECT_EQ((uint32_t)DRM_TAPU_MAX_DIM, isa.max_dim);
	EXPECT_EQ((1ULL << DRM_TAPU_OP_COUNT) - 2, isa.ops);

	EXPECT_EQ(500u, lim->job_timeout_ms);
	EXPECT_EQ(64u, lim->max_bos);
	EXPECT_LT(0u, lim->max_in_syncs);
	EXPECT_LT(0u, lim->max_jobs_in_flight);
	EXPECT_LT(0u, lim->results_kept);
	EXPECT_LE((uint64_t)SZ_1M, lim->max_bo_size);
	EXPECT_EQ(0u, lim->max_bo_size % 4096);
	EXPECT_LE(4096u, lim->max_cmdstream_size);
	/* Streams may do some work. */
	EXPECT_LT(0u, lim->max_stream_work);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, query_size_only)
{
	for (size_t i = 0; i < ARRAY_SIZE(qinfo); i++) {
		uint32_t size = 0;

		/* The pointer is not touched. */
		EXPECT_EQ(0, query_raw(self->fd, qinfo[i].type, (void *)8,
				       &size, 0, 0));
		EXPECT_EQ(qinfo[i].size, size);
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, query_short)
{
	uint8_t buf[256];

	for (size_t i = 0; i < ARRAY_SIZE(qinfo); i++) {
		uint32_t sizes[] = { 1, 4, qinfo[i].v1 - 1 };

		for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
			uint32_t size = sizes[k];

			memset(buf, 0xa5, sizeof(buf));
			EXPECT_EQ(-EINVAL, query_raw(self->fd, qinfo[i].type,
						     buf, &size, 0, 0));
			EXPECT_EQ(0xa5, buf[0]);
		}
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, query_long)
{
	uint8_t ref[256], buf[256];

	for (size_t i = 0; i < ARRAY_SIZE(qinfo); i++) {
		uint32_t n = qinfo[i].size, size = n;

		ASSERT_EQ(0, query_raw(self->fd, qinfo[i].type, ref, &size,
				       0, 0));
		memset(buf, 0xff, sizeof(buf));
		size = n + 64;
		ASSERT_EQ(0, query_raw(self->fd, qinfo[i].type, buf, &size,
				       0, 0));
		EXPECT_EQ(n, size);
		EXPECT_EQ(0, memcmp(ref, buf, n));
		EXPECT_TRUE(tj_zero(buf + n, 64));
		EXPECT_EQ(0xff, buf[n + 64]);
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/*
 * A caller built against the first version of a structure gets that
 * version: every size from it up to the current one copies that many
 * bytes and touches nothing beyond.
 */
TEST_F(tapu, query_first_version)
{
	uint8_t ref[256], buf[256];

	for (size_t i = 0; i < ARRAY_SIZE(qinfo); i++) {
		uint32_t n = qinfo[i].size, size = n;

		ASSERT_EQ(0, query_raw(self->fd, qinfo[i].type, ref, &size,
				       0, 0));
		for (uint32_t v = qinfo[i].v1; v <= n; v++) {
			memset(buf, 0xa5, sizeof(buf));
			size = v;
			ASSERT_EQ(0, query_raw(self->fd, qinfo[i].type, buf,
					       &size, 0, 0));
			EXPECT_EQ(v, size);
			EXPECT_EQ(0, memcmp(ref, buf, v));
			EXPECT_EQ(0xa5, buf[v]);
		}
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, query_unknown_type)
{
	static const uint32_t types[] = { 3, 0x100, 0x80000000, ~0u };
	uint8_t buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		uint32_t size = sizeof(buf);

		EXPECT_EQ(-EINVAL, query_raw(self->fd, types[i], buf, &size,
					     0, 0));
		size = 0;
		EXPECT_EQ(-EINVAL, query_raw(self->fd, types[i], buf, &size,
					     0, 0));
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, query_pad_flags_pointer)
{
	static const struct {
		uint32_t flags, pad;
		uintptr_t data;
		int err;
	} c[] = {
		{ 0, 1, 0, -EINVAL }, { 0, 0x80000000, 0, -EINVAL },
		{ 1, 0, 0, -EINVAL }, { ~0u, 0, 0, -EINVAL },
		{ 0, 0, 8, -EFAULT }, { 0, 0, ~(uintptr_t)0 - 8, -EFAULT },
	};
	uint8_t buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(qinfo); i++) {
		for (size_t k = 0; k < ARRAY_SIZE(c); k++) {
			uint32_t size = qinfo[i].size;
			void *p = c[k].data ? (void *)c[k].data : buf;

			EXPECT_EQ(c[k].err, query_raw(self->fd, qinfo[i].type,
						      p, &size, c[k].flags,
						      c[k].pad))
				TH_LOG("type %u case %zu", qinfo[i].type, k);
		}
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- BO_CREATE ---- */

struct create_case {
	uint64_t size;
	uint32_t flags;
	int err;
};

static void create_fails(struct __test_metadata *_metadata, int fd,
			 const struct create_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct drm_tapu_bo_create cr = {
			.size = c[i].size, .flags = c[i].flags,
		};

		EXPECT_EQ(c[i].err,
			  tapu_ioctl(fd, DRM_IOCTL_TAPU_BO_CREATE, &cr))
			TH_LOG("size %#llx flags %#x",
			       (unsigned long long)c[i].size, c[i].flags);
		EXPECT_EQ(0u, cr.handle);
	}
	ASSERT_EQ(0, tj_run_one(fd));
}

TEST_F(tapu, bo_create_4096)
{
	static const struct {
		uint64_t in, out;
		uint32_t flags;
	} c[] = {
		{ 4096, 4096, 0 }, { 1, 4096, 0 }, { 4097, 8192, 0 },
		{ 4096, 4096, DRM_TAPU_BO_WC },
	};
	uint64_t prev_off = 0;
	uint32_t prev = 0;

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		struct drm_tapu_bo_create cr = {
			.size = c[i].in, .flags = c[i].flags,
		};
		struct drm_tapu_bo_info info = { 0 };

		ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_CREATE,
					&cr));
		EXPECT_EQ(c[i].out, cr.size);
		EXPECT_NE(0u, cr.handle);
		EXPECT_NE(prev, cr.handle);
		EXPECT_NE(0u, cr.offset);
		EXPECT_NE(prev_off, cr.offset);
		EXPECT_EQ(0u, cr.offset % 4096);
		info.handle = cr.handle;
		ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_INFO,
					&info));
		EXPECT_EQ(cr.size, info.size);
		EXPECT_EQ(cr.offset, info.offset);
		prev = cr.handle;
		prev_off = cr.offset;
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, bo_create_bad_size)
{
	const struct create_case c[] = {
		{ 0, 0, -EINVAL }, { 0, DRM_TAPU_BO_WC, -EINVAL },
		{ ~0ULL, 0, -EINVAL }, { ~0ULL - 4094, 0, -EINVAL },
		/* The largest page-aligned size does not wrap: only too big. */
		{ ~0ULL - 4095, 0, -E2BIG },
	};

	create_fails(_metadata, self->fd, c, ARRAY_SIZE(c));
}

TEST_F(tapu, bo_create_above_limit)
{
	uint64_t max = self->lim.max_bo_size;
	const struct create_case c[] = {
		{ max + 1, 0, -E2BIG }, { max + 4096, 0, -E2BIG },
		{ max * 2, 0, -E2BIG }, { 1ULL << 62, 0, -E2BIG },
	};
	struct tj_bo b;

	create_fails(_metadata, self->fd, c, ARRAY_SIZE(c));
	/* A small BO still works. */
	ASSERT_EQ(0, tj_bo_new(self->fd, 4096, &b));
	tj_bo_free(self->fd, &b);
}

TEST_F(tapu, bo_create_bad_flags)
{
	const struct create_case c[] = {
		{ 4096, 1 << 1, -EINVAL }, { 4096, 1 << 2, -EINVAL },
		{ 4096, 1u << 31, -EINVAL }, { 4096, ~0u, -EINVAL },
		{ 4096, DRM_TAPU_BO_WC | 1 << 8, -EINVAL },
	};

	create_fails(_metadata, self->fd, c, ARRAY_SIZE(c));
}

/* BO_CREATE with @flags then mmap through the returned offset. */
static int bo_map_flags(int fd, uint64_t size, uint32_t flags,
			struct tj_bo *b)
{
	struct drm_tapu_bo_create cr = { .size = size, .flags = flags };
	int ret = tapu_ioctl(fd, DRM_IOCTL_TAPU_BO_CREATE, &cr);

	if (ret)
		return ret;
	b->handle = cr.handle;
	b->size = cr.size;
	b->map = mmap(NULL, cr.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      cr.offset);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return -errno;
	}
	return 0;
}

TEST_F(tapu, bo_zeroed)
{
	static const uint32_t flags[] = { 0, DRM_TAPU_BO_WC };

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		struct tj_bo b;

		ASSERT_EQ(0, bo_map_flags(self->fd, 4 * SZ_1M, flags[i], &b));
		EXPECT_TRUE(tj_zero(b.map, b.size));
		memset(b.map, 0x5a, b.size);
		tj_bo_free(self->fd, &b);
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, bo_zeroed_across_files)
{
	for (int round = 0; round < 4; round++) {
		int fd2 = tapu_open();
		struct tj_bo b;

		ASSERT_LE(0, fd2);
		/* Written by the CPU and by a job, then freed with its file. */
		ASSERT_EQ(0, tj_bo_new(fd2, 4 * SZ_1M, &b));
		memset(b.map, 0xa5, b.size);
		ASSERT_EQ(0, tj_run_one(fd2));
		tj_bo_free(fd2, &b);
		close(fd2);

		ASSERT_EQ(0, tj_bo_new(self->fd, 4 * SZ_1M, &b));
		EXPECT_TRUE(tj_zero(b.map, b.size));
		tj_bo_free(self->fd, &b);
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, bo_mmap_rw)
{
	const uint32_t n = 64 * 1024;
	uint8_t *second;
	uint64_t size;
	struct tj_bo b;

	ASSERT_EQ(0, tj_bo_new(self->fd, n, &b));
	second = tj_map_handle(self->fd, b.handle, &size);
	ASSERT_NE(NULL, second);
	ASSERT_EQ(n, size);
	tj_fill(b.map, n, 3);
	EXPECT_EQ(0, tj_check(second, n, 3));
	second[n - 1] = 0;
	EXPECT_EQ(0, b.map[n - 1]);
	tj_fill(second, n, 4);
	munmap(second, n);
	munmap(b.map, n);
	/* The contents survive unmapping. */
	b.map = tj_map_handle(self->fd, b.handle, &size);
	ASSERT_NE(NULL, b.map);
	EXPECT_EQ(0, tj_check(b.map, n, 4));
	tj_bo_free(self->fd, &b);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

static bool map_fails(int fd, uint64_t len, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	if (p == MAP_FAILED)
		return true;
	munmap(p, len);
	return false;
}

/* The shared memory in use on the system, in KiB. */
static long long shmem_kib(void)
{
	char line[128];
	long long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Shmem: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A CPU mapping of a large cached BO, or of its dma-buf, allocates only
 * the pages touched, and what one mapping writes the other reads. Before,
 * mapping one page pinned the whole BO: 512 MiB of shared memory here. A
 * write-combined BO is pinned while mapped (documented), its data shared
 * alike.
 */
TEST_F_TIMEOUT(tapu, bo_mmap_pages_on_demand, 120)
{
	static const uint32_t flags[] = { 0, DRM_TAPU_BO_WC };

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		/* The WC one is pinned whole: small, or KASAN takes long. */
		const uint64_t size = (flags[i] ? 8 : 512) * SZ_1M;
		const uint64_t far = size / 2 + 4096;
		struct drm_tapu_bo_create cr = { .size = size,
						 .flags = flags[i] };
		long long base = shmem_kib();
		uint8_t *page, *whole, *dmap;
		int dmabuf;

		ASSERT_LE(0, base);
		ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_CREATE,
					&cr));
		page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			    self->fd, cr.offset);
		ASSERT_NE(MAP_FAILED, page);
		whole = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			     self->fd, cr.offset);
		ASSERT_NE(MAP_FAILED, whole);
		dmabuf = tj_prime_export(self->fd, cr.handle);
		ASSERT_LE(0, dmabuf);
		dmap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    dmabuf, 0);
		ASSERT_NE(MAP_FAILED, dmap);

		page[17] = 0x5a;
		whole[far] = 0xa5;
		EXPECT_EQ(0x5a, whole[17]);
		EXPECT_EQ(0x5a, dmap[17]);
		EXPECT_EQ(0xa5, dmap[far]);
		dmap[far + 1] = 0x3c;
		EXPECT_EQ(0x3c, whole[far + 1]);
		if (!flags[i]) {
			EXPECT_GT(base + 32 * 1024, shmem_kib()) {
				TH_LOG("shared memory %lld KiB -> %lld KiB",
				       base, shmem_kib());
			}
		}

		/* The mappings keep the memory after the handle is gone. */
		ASSERT_EQ(0, tapu_gem_close(self->fd, cr.handle));
		EXPECT_EQ(0x5a, page[17]);
		EXPECT_EQ(0xa5, dmap[far]);
		munmap(page, 4096);
		munmap(whole, size);
		munmap(dmap, size);
		close(dmabuf);
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, bo_mmap_bogus_offset)
{
	struct drm_tapu_bo_create cr = { .size = 8192 };
	int stream = tj_nop_stream(self->fd);

	ASSERT_LT(0, stream);
	ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_CREATE, &cr));
	EXPECT_TRUE(map_fails(self->fd, 4096, 0));
	EXPECT_TRUE(map_fails(self->fd, 4096, cr.offset + (1ULL << 32)));
	EXPECT_TRUE(map_fails(self->fd, 4096, cr.offset + 4096));
	EXPECT_TRUE(map_fails(self->fd, 3 * 4096, cr.offset));
	EXPECT_TRUE(map_fails(self->fd, 4096, cr.offset - 4096));
	EXPECT_FALSE(map_fails(self->fd, 8192, cr.offset));
	/* The offset of a closed BO is gone. */
	ASSERT_EQ(0, tapu_gem_close(self->fd, cr.handle));
	EXPECT_TRUE(map_fails(self->fd, 8192, cr.offset));
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(tapu, bo_other_file_invisible)
{
	struct drm_tapu_bo_create cr = { .size = 4096 };
	struct drm_tapu_bo_info info = { 0 };
	struct drm_tapu_bo_wait bw = { 0 };
	int fd2 = tapu_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_CREATE, &cr));
	/* fd2 has no handle at all yet. */
	info.handle = cr.handle;
	EXPECT_EQ(-ENOENT, tapu_ioctl(fd2, DRM_IOCTL_TAPU_BO_INFO, &info));
	bw.handle = cr.handle;
	EXPECT_EQ(-ENOENT, tapu_ioctl(fd2, DRM_IOCTL_TAPU_BO_WAIT, &bw));
	EXPECT_GT(0, tj_prime_export(fd2, cr.handle));
	EXPECT_GT(0, tapu_gem_close(fd2, cr.handle));
	EXPECT_TRUE(map_fails(fd2, 4096, cr.offset));
	/* Still there in its own file. */
	EXPECT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_INFO, &info));
	EXPECT_FALSE(map_fails(self->fd, 4096, cr.offset));
	ASSERT_EQ(0, tj_run_one(fd2));
	close(fd2);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- BO_INFO / BO_WAIT ---- */

TEST_F(tapu, bo_info_wait_errors)
{
	enum { H_VALID, H_CLOSED, H_STREAM, H_ZERO, H_BIG };
	static const struct {
		bool wait;
		int h;
		uint32_t pad;
		int err;
	} c[] = {
		{ false, H_ZERO, 0, -ENOENT }, { false, H_BIG, 0, -ENOENT },
		{ false, H_CLOSED, 0, -ENOENT }, { false, H_STREAM, 0, -EINVAL },
		{ false, H_VALID, 1, -EINVAL },
		{ true, H_ZERO, 0, -ENOENT }, { true, H_BIG, 0, -ENOENT },
		{ true, H_CLOSED, 0, -ENOENT }, { true, H_VALID, 1, -EINVAL },
		{ true, H_VALID, 0x80000000, -EINVAL },
	};
	uint32_t handles[5] = { 0, 0, 0, 0, 0x7fffffff };
	struct tj_bo b, closed;

	ASSERT_EQ(0, tj_bo_new(self->fd, 4096, &b));
	ASSERT_EQ(0, tj_bo_new(self->fd, 4096, &closed));
	handles[H_VALID] = b.handle;
	handles[H_CLOSED] = closed.handle;
	/* Before the close: the stream must not reuse the closed handle. */
	handles[H_STREAM] = tj_nop_stream(self->fd);
	ASSERT_LT(0, (int)handles[H_STREAM]);
	tj_bo_free(self->fd, &closed);

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		struct drm_tapu_bo_info info = {
			.handle = handles[c[i].h], .pad = c[i].pad,
		};
		struct drm_tapu_bo_wait bw = {
			.handle = handles[c[i].h], .pad = c[i].pad,
		};
		int ret = c[i].wait ?
			  tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_WAIT, &bw) :
			  tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_INFO, &info);

		EXPECT_EQ(c[i].err, ret) TH_LOG("case %zu", i);
	}
	tj_bo_free(self->fd, &b);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

static int bo_wait(int fd, uint32_t handle, int64_t abs_ns)
{
	struct drm_tapu_bo_wait bw = { .handle = handle, .timeout_ns = abs_ns };

	return tapu_ioctl(fd, DRM_IOCTL_TAPU_BO_WAIT, &bw);
}

TEST_F(tapu, bo_wait_idle)
{
	struct tj_job j;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 5));
	EXPECT_EQ(0, bo_wait(self->fd, j.out.handle, 0));
	EXPECT_EQ(0, bo_wait(self->fd, j.out.handle, 1));
	EXPECT_EQ(0, bo_wait(self->fd, j.out.handle, tapu_deadline_ms(1)));
	/* Idle again once its job is done. */
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tj_job_finish(&j, NULL));
	EXPECT_EQ(0, bo_wait(self->fd, j.out.handle, 0));
	EXPECT_EQ(0, bo_wait(self->fd, j.in.handle, 1));
	tj_job_fini(&j);
}

TEST_F(tapu, bo_wait_busy)
{
	int64_t deadline;
	struct tj_job j;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 6));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&j));
	EXPECT_EQ(-ETIME, bo_wait(self->fd, j.out.handle, 0));
	EXPECT_EQ(-ETIME, bo_wait(self->fd, j.in.handle, 1));
	EXPECT_EQ(-ETIME, bo_wait(self->fd, j.in.handle, INT64_MIN));
	/* -ETIME only once the deadline has passed, however close it is. */
	for (int ms = 1; ms <= 30; ms += 7) {
		deadline = tapu_deadline_ms(ms);
		EXPECT_EQ(-ETIME, bo_wait(self->fd, j.out.handle, deadline));
		EXPECT_LE(deadline, tapu_now_ns()) TH_LOG("%d ms", ms);
	}
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, bo_wait(self->fd, j.out.handle, INT64_MAX));
	/* Idle means the results are there. */
	EXPECT_EQ(0, tj_check(j.out.map, j.n, j.seed));
	EXPECT_EQ(0, bo_wait(self->fd, j.in.handle, 0));
	ASSERT_EQ(0, tj_job_finish(&j, NULL));
	tj_job_fini(&j);
}

/* ---- PRIME ---- */

TEST_F(tapu, prime_export_import)
{
	int fd2 = tapu_open(), dmabuf, h2, stream;
	struct tj_bo b;
	uint64_t size;
	uint8_t *map2;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tj_bo_new(self->fd, 8192, &b));
	tj_fill(b.map, 8192, 8);
	dmabuf = tj_prime_export(self->fd, b.handle);
	ASSERT_LE(0, dmabuf);
	/* Importing in the exporting file gives back the same handle. */
	EXPECT_EQ((int)b.handle, tj_prime_import(self->fd, dmabuf));
	h2 = tj_prime_import(fd2, dmabuf);
	ASSERT_LT(0, h2);
	EXPECT_EQ(h2, tj_prime_import(fd2, dmabuf));
	close(dmabuf);
	map2 = tj_map_handle(fd2, h2, &size);
	ASSERT_NE(NULL, map2);
	EXPECT_EQ(8192u, size);
	EXPECT_EQ(0, tj_check(map2, 8192, 8));
	map2[100] = 0;
	EXPECT_EQ(0, b.map[100]);
	munmap(map2, size);
	EXPECT_EQ(0, tapu_gem_close(fd2, h2));

	/* A command stream cannot be exported. */
	stream = tj_nop_stream(self->fd);
	ASSERT_LT(0, stream);
	EXPECT_GT(0, tj_prime_export(self->fd, stream));
	tj_bo_free(self->fd, &b);
	ASSERT_EQ(0, tj_run_one(fd2));
	close(fd2);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* Imports into @fd a new @size BO of @exporter; returns the handle. */
static int prime_share(int exporter, int fd, struct tj_bo *b, uint64_t size)
{
	int dmabuf, h, ret = tj_bo_new(exporter, size, b);

	if (ret)
		return ret;
	dmabuf = tj_prime_export(exporter, b->handle);
	if (dmabuf < 0)
		return dmabuf;
	h = tj_prime_import(fd, dmabuf);
	close(dmabuf);
	return h;
}

TEST_F(tapu, prime_job)
{
	int fd2 = tapu_open(), h;
	struct tj_job j;
	struct tj_bo b;

	ASSERT_LE(0, fd2);
	h = prime_share(self->fd, fd2, &b, 4096);
	ASSERT_LT(0, h);
	/* fd2's job writes the imported BO; check through the exporter. */
	ASSERT_EQ(0, tj_job_init(fd2, &j, 4096, 10));
	j.out_h = h;
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tj_job_finish_map(&j, b.map, TJ_WAIT_MS, NULL));
	/* And reads it. */
	tj_fill(b.map, 4096, 11);
	j.seed = 11;
	j.in_h = h;
	j.out_h = j.out.handle;
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tj_job_finish(&j, NULL));
	tj_job_fini(&j);
	close(fd2);
	tj_bo_free(self->fd, &b);
}

TEST_F(tapu, prime_close_exporter_mid_job)
{
	int fd2 = tapu_open(), h;
	struct tj_job j;
	struct tj_bo b;
	uint64_t size;
	uint8_t *map;

	ASSERT_LE(0, fd2);
	h = prime_share(fd2, self->fd, &b, 4096);
	ASSERT_LT(0, h);
	map = tj_map_handle(self->fd, h, &size);
	ASSERT_NE(NULL, map);
	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 12));
	j.out_h = h;
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&j));
	/* The exporter goes away while the job runs. */
	munmap(b.map, b.size);
	close(fd2);
	EXPECT_EQ(-ETIME, tj_poll(self->fd, j.id, NULL));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tj_job_finish_map(&j, map, TJ_WAIT_MS, NULL));
	munmap(map, size);
	tj_job_fini(&j);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- SUBMIT errors ---- */

enum sfield {
	S_STREAM, S_BO_HANDLE, S_BO_FLAGS, S_BO_DUP, S_BO_COUNT, S_BOS,
	S_NSYNC, S_SYNC_HANDLE, S_SYNC_PAD, S_SYNCS, S_OUT_SYNC, S_FLAGS,
	S_PRIO,
};

/* Values resolved at run time. */
#define V_STREAM	0x10000000000ULL	/* the job's command stream */
#define V_DATA		(V_STREAM + 1)	/* a data BO */
#define V_MAX		(V_STREAM + 2)	/* the limit + 1 */

enum { G_HANDLES, G_DUP, G_COUNT, G_SYNCS, G_PAD };

static const struct submit_case {
	int group;
	enum sfield f;
	uint64_t v;
	int err;
	int alt;	/* another accepted errno, or 0 */
} submit_cases[] = {
	{ G_HANDLES, S_STREAM, 0x7fffffff, -ENOENT, 0 },
	{ G_HANDLES, S_STREAM, 0, -ENOENT, 0 },
	{ G_HANDLES, S_STREAM, V_DATA, -EINVAL, -ENOENT },
	{ G_HANDLES, S_BO_HANDLE, 0x7fffffff, -ENOENT, 0 },
	{ G_HANDLES, S_BO_HANDLE, 0, -ENOENT, 0 },
	{ G_HANDLES, S_BO_HANDLE, V_STREAM, -EINVAL, 0 },
	{ G_HANDLES, S_BOS, 8, -EFAULT, 0 },
	{ G_DUP, S_BO_DUP, 0, -EINVAL, 0 },
	{ G_DUP, S_BO_DUP, 1, -EINVAL, 0 },
	{ G_COUNT, S_BO_COUNT, V_MAX, -EINVAL, 0 },
	{ G_COUNT, S_BO_COUNT, 0xffffffff, -EINVAL, 0 },
	{ G_COUNT, S_BO_COUNT, 0x80000000, -EINVAL, 0 },
	{ G_COUNT, S_BO_COUNT, 1, -EINVAL, 0 },	/* fewer than num_slots */
	{ G_SYNCS, S_NSYNC, V_MAX, -EINVAL, 0 },
	{ G_SYNCS, S_NSYNC, 0xffffffff, -EINVAL, 0 },
	{ G_SYNCS, S_SYNC_HANDLE, 0x7fffffff, -ENOENT, 0 },
	{ G_SYNCS, S_SYNC_HANDLE, 0, -ENOENT, 0 },
	{ G_SYNCS, S_SYNCS, 8, -EFAULT, 0 },
	{ G_SYNCS, S_OUT_SYNC, 0x7fffffff, -ENOENT, 0 },
	{ G_PAD, S_SYNC_PAD, 1, -EINVAL, 0 },
	{ G_PAD, S_BO_FLAGS, 1 << 2, -EINVAL, 0 },
	{ G_PAD, S_BO_FLAGS, 0x80000000, -EINVAL, 0 },
	{ G_PAD, S_FLAGS, 1, -EINVAL, 0 },
	{ G_PAD, S_FLAGS, 0x80000000, -EINVAL, 0 },
	{ G_PAD, S_PRIO, DRM_TAPU_PRIO_HIGH + 1, -EINVAL, 0 },
	{ G_PAD, S_PRIO, 0xffffffff, -EINVAL, 0 },
};

static void apply_case(const struct submit_case *c, struct drm_tapu_submit *s,
		       struct drm_tapu_submit_bo *bos,
		       struct drm_tapu_sync *syncs, const struct tj_job *j,
		       const struct drm_tapu_limits *lim)
{
	uint64_t v = c->v == V_STREAM ? j->stream :
		     c->v == V_DATA ? j->in.handle : c->v;

	if (c->f >= S_NSYNC && c->f <= S_SYNCS) {
		s->in_sync_count = 1;
		s->in_syncs = (uintptr_t)syncs;
	}
	switch (c->f) {
	case S_STREAM:
		s->cmdstream = v;
		break;
	case S_BO_HANDLE:
		bos[1].handle = v;
		break;
	case S_BO_FLAGS:
		bos[0].flags = v;
		break;
	case S_BO_DUP:	/* an extra entry repeating entry v */
		bos[2] = bos[v];
		s->bo_count = 3;
		break;
	case S_BO_COUNT:
		s->bo_count = v == V_MAX ? lim->max_bos + 1 : v;
		break;
	case S_BOS:
		s->bos = v;
		break;
	case S_NSYNC:
		s->in_sync_count = v == V_MAX ? lim->max_in_syncs + 1 : v;
		break;
	case S_SYNC_HANDLE:
		syncs[0].handle = v;
		break;
	case S_SYNC_PAD:
		syncs[0].pad = v;
		break;
	case S_SYNCS:
		s->in_syncs = v;
		break;
	case S_OUT_SYNC:
		s->out_sync = v;
		break;
	case S_FLAGS:
		s->flags = v;
		break;
	case S_PRIO:
		s->priority = v;
		break;
	}
}

/* Runs the cases of @group, each followed by a good submit of the job. */
static void submit_group(struct __test_metadata *_metadata,
			 TAPU_DATA *self, int group)
{
	uint32_t nbos = self->lim.max_bos + 1, nsyncs = self->lim.max_in_syncs + 1;
	struct drm_tapu_submit_bo *bos = calloc(nbos, sizeof(*bos));
	struct drm_tapu_sync *syncs = calloc(nsyncs, sizeof(*syncs));
	int sig = tj_syncobj_new(self->fd);
	struct tj_job j;

	ASSERT_NE(NULL, bos);
	ASSERT_NE(NULL, syncs);
	ASSERT_LT(0, sig);
	ASSERT_EQ(0, tj_syncobj_signal(self->fd, sig, 0));
	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 13));
	for (size_t i = 0; i < ARRAY_SIZE(submit_cases); i++) {
		const struct submit_case *c = &submit_cases[i];
		struct drm_tapu_submit s = {
			.cmdstream = j.stream, .bos = (uintptr_t)bos,
			.priority = DRM_TAPU_PRIO_NORMAL,
		};
		int ret;

		if (c->group != group)
			continue;
		memset(bos, 0, nbos * sizeof(*bos));
		s.bo_count = tj_job_bos(&j, bos);
		for (uint32_t k = 0; k < nsyncs; k++)
			syncs[k] = (struct drm_tapu_sync){ .handle = sig };
		apply_case(c, &s, bos, syncs, &j, &self->lim);
		ret = tapu_ioctl(self->fd, DRM_IOCTL_TAPU_SUBMIT, &s);
		EXPECT_TRUE(ret == c->err || (c->alt && ret == c->alt))
			TH_LOG("case %zu: %d", i, ret);
		if (!ret)
			tapu_wait(self->fd, s.job_id, TJ_WAIT_MS, NULL);

		tj_job_reset(&j, 13 + i);
		ASSERT_EQ(0, tj_job_submit(&j));
		ASSERT_EQ(0, tj_job_finish(&j, NULL));
	}
	tj_job_fini(&j);
	tj_syncobj_free(self->fd, sig);
	free(bos);
	free(syncs);
}

TEST_F(tapu, submit_priorities)
{
	struct drm_tapu_submit_bo bos[3];
	struct tj_job j;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 14));
	for (uint32_t prio = DRM_TAPU_PRIO_LOW; prio <= DRM_TAPU_PRIO_HIGH;
	     prio++) {
		struct drm_tapu_submit s = {
			.cmdstream = j.stream, .bos = (uintptr_t)bos,
			.bo_count = tj_job_bos(&j, bos), .priority = prio,
		};
		int ret;

		tj_job_reset(&j, 14 + prio);
		ret = tapu_ioctl(self->fd, DRM_IOCTL_TAPU_SUBMIT, &s);
		if (prio == DRM_TAPU_PRIO_HIGH && geteuid() && ret)
			continue;	/* needs CAP_SYS_NICE */
		ASSERT_EQ(0, ret);
		EXPECT_NE(0u, s.job_id);
		j.id = s.job_id;
		ASSERT_EQ(0, tj_job_finish(&j, NULL));
	}
	tj_job_fini(&j);
}

TEST_F(tapu, submit_bad_handles)
{
	submit_group(_metadata, self, G_HANDLES);
}

TEST_F(tapu, submit_duplicate_bo)
{
	submit_group(_metadata, self, G_DUP);
}

TEST_F(tapu, submit_too_many_bos)
{
	submit_group(_metadata, self, G_COUNT);
}

TEST_F(tapu, submit_bad_syncobjs)
{
	submit_group(_metadata, self, G_SYNCS);
}

TEST_F(tapu, submit_pad_flags_priority)
{
	submit_group(_metadata, self, G_PAD);
}

/* Waits for the jobs @ids[0..n-1]: 0 when all are DONE. */
static int wait_all(int fd, const uint64_t *ids, uint32_t n)
{
	struct drm_tapu_wait_job w;

	for (uint32_t i = 0; i < n; i++) {
		int ret = tapu_wait(fd, ids[i], TJ_WAIT_MS, &w);

		if (ret)
			return ret;
		if (w.status != DRM_TAPU_JOB_DONE)
			return 1;
	}
	return 0;
}

TEST_F_TIMEOUT(tapu, submit_busy, 120)
{
	uint32_t max = self->lim.max_jobs_in_flight;
	struct drm_tapu_sync in = { 0 };
	int nop = tj_nop_stream(self->fd);
	struct tj_job a;
	uint64_t *ids, id;

	if (max > 4096)
		SKIP(return, "max_jobs_in_flight %u", max);
	ids = calloc(max, sizeof(*ids));
	ASSERT_NE(NULL, ids);
	ASSERT_LT(0, nop);
	in.handle = tj_syncobj_new(self->fd);
	ASSERT_LT(0, (int)in.handle);
	/* A job held on its core and max - 1 jobs waiting for it. */
	ASSERT_EQ(0, tj_job_init(self->fd, &a, 4096, 15));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit_sync(&a, NULL, 0, in.handle, 0));
	ids[0] = a.id;
	for (uint32_t i = 1; i < max; i++)
		ASSERT_EQ(0, tj_submit_raw(self->fd, nop, NULL, 0, &in, 1, 0,
					   0, &ids[i]));
	EXPECT_EQ(-EBUSY, tj_submit_raw(self->fd, nop, NULL, 0, NULL, 0, 0,
					0, &id));
	EXPECT_EQ(-ETIME, tj_poll(self->fd, a.id, NULL));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, wait_all(self->fd, ids, max));
	EXPECT_EQ(0, tj_check(a.out.map, a.n, a.seed));
	tj_job_fini(&a);
	free(ids);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- DRM core ioctls ---- */

/*
 * The core ioctls an accel file may call: those render nodes may call
 * (DRM_RENDER_ALLOW in 6.12). Numbers, not libdrm's macros, which may be
 * older than the kernel.
 */
static bool core_ioctl_allowed(unsigned int nr)
{
	static const unsigned char allowed[] = {
		0x00,		/* VERSION */
		0x0c,		/* GET_CAP */
		0x09,		/* GEM_CLOSE */
		0x2d, 0x2e,	/* PRIME_HANDLE_TO_FD, PRIME_FD_TO_HANDLE */
		0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5,	/* SYNCOBJ_* */
		0xca, 0xcb, 0xcc, 0xcd, 0xcf,
	};

	for (size_t i = 0; i < sizeof(allowed); i++)
		if (allowed[i] == nr)
			return true;
	return false;
}

/*
 * Every other core ioctl, GET_UNIQUE and GET_MAGIC among them (they
 * dereference the master accel files lack), fails with -EACCES before it
 * does anything, whatever its argument; the device keeps working.
 */
TEST_F(tapu, core_ioctls_render_only)
{
	unsigned char buf[4096];
	int denied = 0;

	for (unsigned int nr = 0; nr <= 0xd0; nr++) {
		if ((nr >= DRM_COMMAND_BASE && nr < DRM_COMMAND_END) ||
		    core_ioctl_allowed(nr))
			continue;
		for (unsigned int size = 0; size <= 128; size += 64) {
			unsigned long cmd = size ?
				_IOC(_IOC_READ | _IOC_WRITE, DRM_IOCTL_BASE, nr,
				     size) :
				_IO(DRM_IOCTL_BASE, nr);

			memset(buf, 0, sizeof(buf));
			EXPECT_EQ(-EACCES, tapu_ioctl(self->fd, cmd, buf)) {
				TH_LOG("ioctl 0x%02x, size %u", nr, size);
			}
			denied++;
		}
	}
	TH_LOG("%d core ioctl forms denied", denied);
	/* The real GET_UNIQUE and GET_MAGIC, with plausible arguments. */
	{
		struct drm_unique u = { .unique_len = sizeof(buf),
					.unique = (char *)buf };
		struct drm_auth a = { 0 };

		EXPECT_EQ(-EACCES, tapu_ioctl(self->fd, DRM_IOCTL_GET_UNIQUE, &u));
		EXPECT_EQ(-EACCES, tapu_ioctl(self->fd, DRM_IOCTL_GET_MAGIC, &a));
		EXPECT_EQ(-EACCES, tapu_ioctl(self->fd, DRM_IOCTL_SET_MASTER, NULL));
	}
	/* The allowed ones still work. */
	{
		struct drm_version v = { 0 };

		EXPECT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_VERSION, &v));
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/*
 * Syncobj ioctls with a huge handle count fail with -ENOMEM, and without
 * the page allocator's warning that a multi-gigabyte array request gives.
 */
TEST_F(tapu, syncobj_huge_counts)
{
	static const uint32_t counts[] = { 0x40000000u, 0xffffffffu };
	int h = tj_syncobj_new(self->fd);
	uint64_t point = 0;
	uint32_t handle;

	ASSERT_LT(0, h);
	handle = h;
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		uint32_t n = counts[i];
		struct drm_syncobj_wait w = {
			.handles = (uintptr_t)&handle, .count_handles = n,
		};
		struct drm_syncobj_timeline_wait tw = {
			.handles = (uintptr_t)&handle,
			.points = (uintptr_t)&point, .count_handles = n,
		};
		struct drm_syncobj_array a = {
			.handles = (uintptr_t)&handle, .count_handles = n,
		};
		struct drm_syncobj_timeline_array ta = {
			.handles = (uintptr_t)&handle,
			.points = (uintptr_t)&point, .count_handles = n,
		};

		EXPECT_EQ(-ENOMEM, tapu_ioctl(self->fd, DRM_IOCTL_SYNCOBJ_WAIT, &w));
		EXPECT_EQ(-ENOMEM, tapu_ioctl(self->fd,
					      DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
					      &tw));
		EXPECT_EQ(-ENOMEM, tapu_ioctl(self->fd, DRM_IOCTL_SYNCOBJ_RESET,
					      &a));
		EXPECT_EQ(-ENOMEM, tapu_ioctl(self->fd, DRM_IOCTL_SYNCOBJ_SIGNAL,
					      &a));
		EXPECT_EQ(-ENOMEM, tapu_ioctl(self->fd,
					      DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
					      &ta));
		EXPECT_EQ(-ENOMEM, tapu_ioctl(self->fd, DRM_IOCTL_SYNCOBJ_QUERY,
					      &ta));
	}
	/* A count within bounds works as before. */
	EXPECT_EQ(0, tj_syncobj_signal(self->fd, handle, 0));
	EXPECT_EQ(0, tj_syncobj_wait(self->fd, handle, 0, tapu_deadline_ms(1000)));
	tj_syncobj_free(self->fd, handle);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- WAIT_JOB ---- */

TEST_F(tapu, wait_job_bad_ids)
{
	int fd2 = tapu_open();
	struct tj_job j;
	uint64_t last;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 16));
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tj_job_finish(&j, NULL));
	last = j.id;
	EXPECT_NE(0u, last);
	EXPECT_EQ(-EINVAL, tapu_wait(self->fd, 0, 1, NULL));
	EXPECT_EQ(-EINVAL, tapu_wait(self->fd, last + 1, 1, NULL));
	EXPECT_EQ(-EINVAL, tapu_wait(self->fd, last + 1000, 1, NULL));
	EXPECT_EQ(-EINVAL, tapu_wait(self->fd, ~0ULL, 1, NULL));
	/* Ids are per file: fd2 never issued this one. */
	EXPECT_EQ(-EINVAL, tapu_wait(fd2, last, 1, NULL));
	EXPECT_EQ(-EINVAL, tj_poll(fd2, last, NULL));
	ASSERT_EQ(0, tj_run_one(fd2));
	close(fd2);
	/* The job is still there for its own file. */
	EXPECT_EQ(0, tj_poll(self->fd, last, NULL));
	tj_job_fini(&j);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* WAIT_JOB up to an absolute deadline on the monotonic clock. */
static int wait_until(int fd, uint64_t id, int64_t deadline,
		      struct drm_tapu_wait_job *w)
{
	memset(w, 0, sizeof(*w));
	w->job_id = id;
	w->timeout_ns = deadline;
	return tapu_ioctl(fd, DRM_IOCTL_TAPU_WAIT_JOB, w);
}

/*
 * Releases the held job a little later, from another thread. Should it run
 * before the wait starts, the wait returns at once: never a false failure.
 */
static void *release_later(void *unused)
{
	usleep(50000);
	tj_release();
	return NULL;
}

TEST_F(tapu, wait_job_timeout_running)
{
	struct drm_tapu_wait_job w;
	int64_t deadline;
	struct tj_job j;
	pthread_t t;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 17));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&j));
	EXPECT_EQ(-ETIME, tj_poll(self->fd, j.id, &w));
	/* A deadline already past returns at once, the job still running. */
	EXPECT_EQ(-ETIME, wait_until(self->fd, j.id, 1, &w));
	EXPECT_EQ(-ETIME, wait_until(self->fd, j.id, -1, &w));
	EXPECT_EQ(-ETIME, wait_until(self->fd, j.id, INT64_MIN, &w));
	EXPECT_EQ(-ETIME, wait_until(self->fd, j.id,
				     tapu_now_ns() - NSEC_PER_SEC, &w));
	/*
	 * -ETIME only once the deadline has passed: never early, whatever
	 * the tick, the jiffies drift or the distance to the deadline.
	 */
	for (int ms = 1; ms <= 41; ms += 4) {
		deadline = tapu_deadline_ms(ms);
		EXPECT_EQ(-ETIME, wait_until(self->fd, j.id, deadline, &w));
		EXPECT_LE(deadline, tapu_now_ns()) TH_LOG("%d ms", ms);
	}
	EXPECT_EQ(-ETIME, tj_poll(self->fd, j.id, &w));
	/* The farthest deadline does not overflow into "already past". */
	ASSERT_EQ(0, pthread_create(&t, NULL, release_later, NULL));
	EXPECT_EQ(0, wait_until(self->fd, j.id, INT64_MAX, &w));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, tj_job_finish(&j, &w));
	EXPECT_LT(0u, w.cycles);
	EXPECT_LT(0u, w.duration_ns);
	tj_job_fini(&j);
}

TEST_F(tapu, wait_job_twice)
{
	struct drm_tapu_wait_job w1, w2;
	struct tj_job j;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 18));
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tj_job_finish(&j, &w1));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, i ? tj_poll(self->fd, j.id, &w2) :
				 tapu_wait(self->fd, j.id, TJ_WAIT_MS, &w2));
		EXPECT_EQ(w1.status, w2.status);
		EXPECT_EQ(w1.error, w2.error);
		EXPECT_EQ(w1.cycles, w2.cycles);
		EXPECT_EQ(w1.duration_ns, w2.duration_ns);
	}
	tj_job_fini(&j);
}

TEST_F(tapu, wait_job_after_bo_close)
{
	struct drm_tapu_wait_job w;
	struct tj_job j;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 19));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&j));
	/* BOs, mappings and stream all closed while the job runs. */
	tj_job_fini(&j);
	EXPECT_EQ(-ETIME, tj_poll(self->fd, j.id, &w));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tapu_wait(self->fd, j.id, TJ_WAIT_MS, &w));
	EXPECT_EQ((uint32_t)DRM_TAPU_JOB_DONE, w.status);
	EXPECT_EQ(0, w.error);
	ASSERT_EQ(0, tj_poll(self->fd, j.id, &w));
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F_TIMEOUT(tapu, wait_job_result_dropped, 300)
{
	uint32_t kept = self->lim.results_kept;
	uint32_t batch = self->lim.max_jobs_in_flight;
	int nop = tj_nop_stream(self->fd);
	uint64_t first, ids[64];
	uint32_t n = 0, polls = 0;
	int ret;

	if (kept > 20000)
		SKIP(return, "results_kept %u", kept);
	batch = batch < 64 ? batch : 64;
	ASSERT_LT(0, nop);
	ASSERT_EQ(0, tj_submit_raw(self->fd, nop, NULL, 0, NULL, 0, 0, 0,
				   &first));
	ASSERT_EQ(0, wait_all(self->fd, &first, 1));
	for (uint32_t done = 0; done <= kept;) {
		for (n = 0; n < batch && done + n <= kept; n++)
			ASSERT_EQ(0, tj_submit_raw(self->fd, nop, NULL, 0, NULL,
						   0, 0, 0, &ids[n]));
		ASSERT_EQ(0, wait_all(self->fd, ids, n));
		done += n;
	}
	/*
	 * Jobs retire (and push older results out) shortly after they
	 * complete: poll until the first result is dropped. A retired job
	 * never blocks a wait, kept or dropped.
	 */
	do {
		ret = tj_poll(self->fd, first, NULL);
		ASSERT_NE(-ETIME, ret);
	} while (!ret && ++polls < 500 && !usleep(20000));
	EXPECT_EQ(-ENOENT, ret);
	/* The last batch retired after all the others: kept. */
	if (n <= kept)
		EXPECT_EQ(0, tj_poll(self->fd, ids[n - 1], NULL));
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_HARNESS_MAIN
