// SPDX-License-Identifier: GPL-2.0-only
/*
 * TAPU fault-injection selftests: for each ioctl that allocates, fail its
 * 1st, 2nd, ... allocation through /proc/self/task/<tid>/fail-nth until a
 * call runs with no fault injected. Each call must fail with a negative
 * errno and leave nothing behind, or succeed with a correct result; after
 * every iteration no GEM handle and no file descriptor has leaked and a job
 * still gives the right result. Leaks and warnings inside the kernel are
 * caught by the harness (kmemleak, KASAN and lockdep on a debug kernel).
 *
 * Needs CONFIG_FAULT_INJECTION (skips without it); CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS make slab and
 * page allocations fail too: the test sets their debugfs knobs while it runs.
 */
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "tapu_job_util.h"

#define FAILNTH_MAX	2000
#define FI_DEBUGFS	"/sys/kernel/debug/"

/*
 * fail-nth bypasses probability, interval, times and task-filter, but not
 * the per-capability filters: by default failslab and fail_page_alloc skip
 * sleeping (GFP_KERNEL) allocations, fail_page_alloc also skips order 0 and
 * highmem/user pages. Each injected fault also dumps a stack (verbose 2)
 * that the harness would report as a kernel problem.
 */
static const struct {
	const char *path, *val;
} knobs[] = {
	{ FI_DEBUGFS "failslab/ignore-gfp-wait", "N" },
	{ FI_DEBUGFS "failslab/cache-filter", "N" },
	{ FI_DEBUGFS "failslab/verbose", "0" },
	{ FI_DEBUGFS "fail_page_alloc/ignore-gfp-wait", "N" },
	{ FI_DEBUGFS "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ FI_DEBUGFS "fail_page_alloc/min-order", "0" },
	{ FI_DEBUGFS "fail_page_alloc/verbose", "0" },
	{ FI_DEBUGFS "fail_usercopy/verbose", "0" },
	{ FI_DEBUGFS "fail_futex/verbose", "0" },
};

#define NKNOBS	ARRAY_SIZE(knobs)

/* Reads (@val NULL) or writes a small sysfs/procfs file; -errno on error. */
static int knob_io(const char *path, char *buf, size_t len, const char *val)
{
	int fd = open(path, val ? O_WRONLY : O_RDONLY), ret;

	if (fd < 0)
		return -errno;
	ret = val ? write(fd, val, strlen(val)) : read(fd, buf, len - 1);
	if (ret >= 0 && !val)
		buf[ret] = '\0';
	ret = ret < 0 ? -errno : 0;
	close(fd);
	return ret;
}

FIXTURE(failnth) {
	int fd, fd2, nth, dmabuf;
	struct tj_job job;
	uint32_t seed, sync_in, sync_out;
	uint64_t point, point_ok;
	struct drm_tapu_wait_job w;
	uint8_t qref[3][64], qbuf[3][64];
	char saved[NKNOBS][24];
};

/* The fixture's type, for helpers that take it. */
#define FAILNTH_DATA FIXTURE_DATA(failnth)

FIXTURE_SETUP(failnth)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	if (access(path, F_OK))
		SKIP(return, "%s missing: kernel without CONFIG_FAULT_INJECTION",
		     path);
	self->fd = tapu_open();
	if (self->fd < 0)
		SKIP(return, "%s: %s", TAPU_DEV, strerror(errno));
	self->nth = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	self->fd2 = tapu_open();
	ASSERT_LE(0, self->fd2);
	ASSERT_EQ(0, tj_job_init(self->fd, &self->job, 4096, 1));
	self->sync_in = tj_syncobj_new(self->fd);
	self->sync_out = tj_syncobj_new(self->fd);
	ASSERT_LT(0, (int)self->sync_in);
	ASSERT_LT(0, (int)self->sync_out);
	ASSERT_EQ(0, tj_syncobj_signal(self->fd, self->sync_in, 0));
	if (access(FI_DEBUGFS "failslab", F_OK))
		TH_LOG("no %sfailslab: slab allocations are not failed",
		       FI_DEBUGFS);
	for (size_t i = 0; i < NKNOBS; i++)
		if (!knob_io(knobs[i].path, self->saved[i],
			     sizeof(self->saved[i]), NULL))
			if (knob_io(knobs[i].path, NULL, 0, knobs[i].val))
				TH_LOG("cannot set %s", knobs[i].path);
}

FIXTURE_TEARDOWN(failnth)
{
	for (size_t i = 0; i < NKNOBS; i++)
		if (self->saved[i][0])
			knob_io(knobs[i].path, NULL, 0, self->saved[i]);
	tj_job_fini(&self->job);
	close(self->fd2);
	close(self->fd);
	close(self->nth);
}

static void nth_set(int nth, int n)
{
	char buf[16];

	pwrite(nth, buf, snprintf(buf, sizeof(buf), "%d", n), 0);
}

/*
 * What is left of the fail-nth count, then disarms it. The read's own copy
 * to user space may consume the count (fail_usercopy) and fail with
 * -EFAULT: the ioctl had then not consumed it.
 */
static int nth_left(int nth)
{
	char buf[16] = "";
	ssize_t n = pread(nth, buf, sizeof(buf) - 1, 0);

	nth_set(nth, 0);
	return n < 0 ? 1 : atoi(buf);
}

/* Lowest free GEM handle of @fd (handles are the lowest free ids). */
static int free_handle(int fd)
{
	int h = tapu_bo_new(fd, 4096, NULL);

	if (h > 0)
		tapu_gem_close(fd, h);
	return h;
}

/* Lowest free file descriptor. */
static int free_fd(int fd)
{
	int f = dup(fd);

	close(f);
	return f;
}

/*
 * Runs the fixture's COPY job with a new pattern; with its stream and
 * output replaced when @stream, @out_h are non-zero. 0 when the output
 * (@map, or the job's own) is right.
 */
static int job_run(FAILNTH_DATA *self, uint32_t stream,
		   uint32_t out_h, const uint8_t *map)
{
	struct tj_job *j = &self->job;
	uint32_t own = j->stream;
	int ret;

	tj_job_reset(j, ++self->seed);
	j->stream = stream ? stream : own;
	j->out_h = out_h ? out_h : j->out.handle;
	ret = tj_job_submit(j);
	if (!ret)
		ret = tj_job_finish_map(j, map, TJ_WAIT_MS, NULL);
	j->stream = own;
	j->out_h = j->out.handle;
	return ret;
}

/* @h2 names the job's output BO in fd2: a job's result shows through it. */
static int shared_ok(FAILNTH_DATA *self, int h2)
{
	uint64_t size;
	uint8_t *map = tj_map_handle(self->fd2, h2, &size);
	int ret = !map || size != self->job.out.size ||
		  job_run(self, 0, 0, map);

	if (map)
		munmap(map, size);
	return tapu_gem_close(self->fd2, h2) || ret;
}

/*
 * An ioctl under fault injection. @call returns a handle, fd or 0, or
 * -errno; @ok checks a success and undoes it; @failed checks that a failure
 * left nothing half done. Each returns 0 when all is well.
 */
struct fn_case {
	const char *name;
	int (*prep)(FAILNTH_DATA *self);
	int (*call)(FAILNTH_DATA *self);
	int (*ok)(FAILNTH_DATA *self, int res);
	int (*failed)(FAILNTH_DATA *self);
};

static void failnth_loop(struct __test_metadata *_metadata,
			 FAILNTH_DATA *self, const struct fn_case *c)
{
	int n, res, left = 0, enomem = 0, other = 0, last = 0;
	int handle = free_handle(self->fd), handle2 = free_handle(self->fd2);
	int fd = free_fd(self->fd);

	ASSERT_LT(0, handle);
	ASSERT_LT(0, handle2);
	for (n = 1; n <= FAILNTH_MAX && !left; n++) {
		if (c->prep)
			ASSERT_EQ(0, c->prep(self)) TH_LOG("%s: set-up", c->name);
		nth_set(self->nth, n);
		res = c->call(self);
		left = nth_left(self->nth);
		if (res < 0) {
			ASSERT_EQ(0, left) TH_LOG("%s failed with no fault injected: %s",
						  c->name, strerror(-res));
			enomem += res == -ENOMEM;
			other += res != -ENOMEM;
			last = res != -ENOMEM ? -res : last;
			ASSERT_EQ(0, c->failed ? c->failed(self) : 0)
				TH_LOG("%s: state after failing allocation %d (%s)",
				       c->name, n, strerror(-res));
		} else {
			ASSERT_EQ(0, c->ok(self, res))
				TH_LOG("%s: wrong result after %s allocation %d",
				       c->name, left ? "not failing" : "failing", n);
		}
		EXPECT_EQ(handle, free_handle(self->fd))
			TH_LOG("%s: GEM handle leaked (n=%d)", c->name, n);
		EXPECT_EQ(handle2, free_handle(self->fd2))
			TH_LOG("%s: GEM handle leaked in the importer (n=%d)",
			       c->name, n);
		EXPECT_EQ(fd, free_fd(self->fd))
			TH_LOG("%s: file descriptor leaked (n=%d)", c->name, n);
		ASSERT_EQ(0, tj_run_one(self->fd))
			TH_LOG("%s: device broken after n=%d", c->name, n);
	}
	ASSERT_NE(0, left) TH_LOG("%s: still failing after %d faults", c->name, n);
	ksft_print_msg("%s: %d allocations failed: %d -ENOMEM, %d other (%s), %d absorbed\n",
		       c->name, n - 2, enomem, other, last ? strerror(last) : "-",
		       n - 2 - enomem - other);
}

#define FAILNTH_TEST(test, ...)						\
	static const struct fn_case case_##test = { #test, __VA_ARGS__ };	\
	TEST_F_TIMEOUT(failnth, test, 300)				\
	{								\
		failnth_loop(_metadata, self, &case_##test);		\
	}

/* ---- BO_CREATE: the new BO is zeroed and a job can write it ---- */

static int bo_create_call(FAILNTH_DATA *self)
{
	struct drm_tapu_bo_create c = { .size = self->job.n };
	int ret = tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_CREATE, &c);

	return ret ? ret : (int)c.handle;
}

static int bo_create_ok(FAILNTH_DATA *self, int h)
{
	uint64_t size;
	uint8_t *map = tj_map_handle(self->fd, h, &size);
	int ret = !map || size != self->job.out.size || !tj_zero(map, size) ||
		  job_run(self, 0, h, map);

	if (map)
		munmap(map, size);
	return tapu_gem_close(self->fd, h) || ret;
}

FAILNTH_TEST(bo_create, NULL, bo_create_call, bo_create_ok, NULL)

/* ---- CMDSTREAM_CREATE: a NOP + COPY stream then runs as a job ---- */

static int cmdstream_call(FAILNTH_DATA *self)
{
	struct {
		struct drm_tapu_op_hdr nop;
		struct drm_tapu_op_rs copy;
	} s = { .nop = { DRM_TAPU_OP_NOP, sizeof(s.nop), 0 } };

	tj_copy_op(&s.copy, self->job.n);
	return tapu_stream_new(self->fd, &s, sizeof(s));
}

static int cmdstream_ok(FAILNTH_DATA *self, int h)
{
	int ret = job_run(self, h, 0, NULL);

	return tapu_gem_close(self->fd, h) || ret;
}

FAILNTH_TEST(cmdstream_create, NULL, cmdstream_call, cmdstream_ok, NULL)

/*
 * ---- SUBMIT with an in-syncobj and a timeline out-syncobj point: the job
 * and the point complete; a failed submit adds no point ----
 */

static uint64_t last_point(FAILNTH_DATA *self)
{
	uint64_t point = ~0ULL;
	struct drm_syncobj_timeline_array a = {
		.handles = (uintptr_t)&self->sync_out,
		.points = (uintptr_t)&point, .count_handles = 1,
		.flags = DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED,
	};

	return tapu_ioctl(self->fd, DRM_IOCTL_SYNCOBJ_QUERY, &a) ? ~0ULL : point;
}

static int submit_prep(FAILNTH_DATA *self)
{
	tj_job_reset(&self->job, ++self->seed);
	self->point++;
	return 0;
}

static int submit_call(FAILNTH_DATA *self)
{
	struct drm_tapu_sync in = { .handle = self->sync_in };

	return tj_job_submit_sync(&self->job, &in, 1, self->sync_out,
				  self->point);
}

static int submit_ok(FAILNTH_DATA *self, int res)
{
	self->point_ok = self->point;
	return tj_job_finish(&self->job, NULL) ||
	       tj_syncobj_wait(self->fd, self->sync_out, self->point,
			       tapu_deadline_ms(TJ_WAIT_MS)) ||
	       last_point(self) != self->point;
}

static int submit_failed(FAILNTH_DATA *self)
{
	return last_point(self) != self->point_ok;
}

FAILNTH_TEST(submit, submit_prep, submit_call, submit_ok, submit_failed)

/* ---- WAIT_JOB: a failed wait can be repeated and gives the result ---- */

static int wait_prep(FAILNTH_DATA *self)
{
	tj_job_reset(&self->job, ++self->seed);
	return tj_job_submit(&self->job);
}

static int wait_call(FAILNTH_DATA *self)
{
	return tapu_wait(self->fd, self->job.id, TJ_WAIT_MS, &self->w);
}

static int wait_ok(FAILNTH_DATA *self, int res)
{
	return self->w.status != DRM_TAPU_JOB_DONE || self->w.error ||
	       tj_check(self->job.out.map, self->job.n, self->job.seed);
}

static int wait_failed(FAILNTH_DATA *self)
{
	return tj_job_finish(&self->job, NULL);
}

FAILNTH_TEST(wait_job, wait_prep, wait_call, wait_ok, wait_failed)

/* ---- PRIME: export, and import in a second file ---- */

static int export_call(FAILNTH_DATA *self)
{
	return tj_prime_export(self->fd, self->job.out.handle);
}

static int export_ok(FAILNTH_DATA *self, int dmabuf)
{
	int h2 = tj_prime_import(self->fd2, dmabuf);

	close(dmabuf);
	return h2 <= 0 || shared_ok(self, h2);
}

FAILNTH_TEST(prime_export, NULL, export_call, export_ok, NULL)

static int import_prep(FAILNTH_DATA *self)
{
	self->dmabuf = tj_prime_export(self->fd, self->job.out.handle);
	return self->dmabuf < 0;
}

static int import_call(FAILNTH_DATA *self)
{
	return tj_prime_import(self->fd2, self->dmabuf);
}

static int import_ok(FAILNTH_DATA *self, int h2)
{
	close(self->dmabuf);
	return h2 <= 0 || shared_ok(self, h2);
}

static int import_failed(FAILNTH_DATA *self)
{
	return close(self->dmabuf);
}

FAILNTH_TEST(prime_import, import_prep, import_call, import_ok, import_failed)

/* ---- QUERY of each type into a long buffer: the same answers ---- */

static int query_prep(FAILNTH_DATA *self)
{
	memset(self->qbuf, 0xa5, sizeof(self->qbuf));
	for (uint32_t t = 0; t < 3; t++)
		if (tj_query(self->fd, t, self->qref[t], sizeof(self->qref[t])))
			return 1;
	return 0;
}

static int query_call(FAILNTH_DATA *self)
{
	int ret = 0;

	for (uint32_t t = 0; t < 3 && !ret; t++)
		ret = tj_query(self->fd, t, self->qbuf[t], sizeof(self->qbuf[t]));
	return ret;
}

static int query_ok(FAILNTH_DATA *self, int res)
{
	return memcmp(self->qref, self->qbuf, sizeof(self->qref));
}

FAILNTH_TEST(query, query_prep, query_call, query_ok, NULL)

TEST_HARNESS_MAIN
