/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Job helpers shared by tapu_ioctl_test and tapu_job_test: BOs with their
 * mapping, COPY jobs whose output is checked byte for byte (held on their
 * core by the simulated NPU's stall fault when a test needs one running),
 * and syncobjs.
 */
#ifndef __TAPU_JOB_UTIL_H__
#define __TAPU_JOB_UTIL_H__

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "tapu_test.h"

/* Generous: QEMU TCG is slow. */
#define TJ_WAIT_MS	10000

struct tj_bo {
	uint32_t handle;
	uint8_t *map;
	uint64_t size;
};

static inline int tj_bo_new(int fd, uint64_t size, struct tj_bo *b)
{
	int ret;

	b->size = (size + 4095) & ~4095ULL;
	b->map = NULL;
	ret = tapu_bo_new(fd, size, (void **)&b->map);
	if (ret < 0) {
		b->map = NULL;
		return ret;
	}
	b->handle = ret;
	return 0;
}

static inline void tj_bo_free(int fd, struct tj_bo *b)
{
	if (b->map)
		munmap(b->map, b->size);
	if (b->handle)
		tapu_gem_close(fd, b->handle);
	memset(b, 0, sizeof(*b));
}

static inline int tj_query(int fd, uint32_t type, void *data, uint32_t size)
{
	struct drm_tapu_query q = {
		.type = type, .size = size, .data = (uintptr_t)data,
	};

	return tapu_ioctl(fd, DRM_IOCTL_TAPU_QUERY, &q);
}

/* A packed int8 tensor [n, h, w, c] at @off of @slot. */
static inline struct drm_tapu_tensor tj_tensor(uint32_t slot, uint32_t off,
					       uint32_t n, uint32_t h,
					       uint32_t w, uint32_t c)
{
	return (struct drm_tapu_tensor){
		.slot = slot, .offset = off, .dim = { n, h, w, c },
		.stride = { h * w * c, w * c, c, 1 },
	};
}

/* Byte @i of the pattern @seed; never 0 so that a zeroed output differs. */
static inline uint8_t tj_pat(uint32_t seed, uint32_t i)
{
	return (uint8_t)((i * 31 + seed * 101) % 255 + 1);
}

static inline void tj_fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = tj_pat(seed, i);
}

/* 0 when @p holds the pattern @seed, else 1 + index of the first mismatch. */
static inline int tj_check(const uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] != tj_pat(seed, i))
			return (int)i + 1;
	return 0;
}

static inline bool tj_zero(const uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* COPY of @n bytes from slot 0 to slot 1. */
static inline void tj_copy_op(struct drm_tapu_op_rs *op, uint32_t n)
{
	memset(op, 0, sizeof(*op));
	op->hdr.opcode = DRM_TAPU_OP_COPY;
	op->hdr.size = sizeof(*op);
	op->input = tj_tensor(0, 0, 1, 1, 1, n);
	op->output = tj_tensor(1, 0, 1, 1, 1, n);
}

static inline int tj_nop_stream(int fd)
{
	struct drm_tapu_op_hdr nop = { DRM_TAPU_OP_NOP, sizeof(nop), 0 };

	return tapu_stream_new(fd, &nop, sizeof(nop));
}

/*
 * A job: a COPY of @n bytes from slot 0 (@in_h, the pattern @seed) to slot 1
 * (@out_h). @in_h and @out_h default to the job's own BOs; a test may point them at
 * other BOs (e.g. imported ones).
 */
struct tj_job {
	int fd;
	struct tj_bo in, out;
	uint32_t in_h, out_h;
	uint32_t stream, n, seed;
	uint64_t id;
};

static inline int tj_job_init(int fd, struct tj_job *j, uint32_t n,
			      uint32_t seed)
{
	struct drm_tapu_op_rs copy;
	int ret;

	memset(j, 0, sizeof(*j));
	j->fd = fd;
	j->n = n;
	tj_copy_op(&copy, n);
	ret = tj_bo_new(fd, n, &j->in);
	if (!ret)
		ret = tj_bo_new(fd, n, &j->out);
	if (!ret) {
		ret = tapu_stream_new(fd, &copy, sizeof(copy));
		j->stream = ret > 0 ? ret : 0;
		ret = ret > 0 ? 0 : ret;
	}
	if (ret)
		return ret;
	j->in_h = j->in.handle;
	j->out_h = j->out.handle;
	j->seed = seed;
	tj_fill(j->in.map, n, seed);
	return 0;
}

/* New input pattern, zeroed output: the job can be submitted again. */
static inline void tj_job_reset(struct tj_job *j, uint32_t seed)
{
	j->seed = seed;
	tj_fill(j->in.map, j->n, seed);
	memset(j->out.map, 0, j->n);
}

static inline void tj_job_fini(struct tj_job *j)
{
	tj_bo_free(j->fd, &j->in);
	tj_bo_free(j->fd, &j->out);
	if (j->stream)
		tapu_gem_close(j->fd, j->stream);
	j->stream = 0;
}

static inline int tj_submit_raw(int fd, uint32_t stream,
				const struct drm_tapu_submit_bo *bos,
				uint32_t nbos, const struct drm_tapu_sync *in,
				uint32_t nin, uint32_t out, uint64_t point,
				uint64_t *id)
{
	struct drm_tapu_submit s = {
		.cmdstream = stream, .bo_count = nbos, .bos = (uintptr_t)bos,
		.in_syncs = (uintptr_t)in, .in_sync_count = nin,
		.out_sync = out, .out_sync_point = point,
		.priority = DRM_TAPU_PRIO_NORMAL,
	};
	int ret = tapu_ioctl(fd, DRM_IOCTL_TAPU_SUBMIT, &s);

	if (!ret && id)
		*id = s.job_id;
	return ret;
}

static inline uint32_t tj_job_bos(const struct tj_job *j,
				  struct drm_tapu_submit_bo *bos)
{
	bos[0] = (struct drm_tapu_submit_bo){ j->in_h, DRM_TAPU_BO_READ };
	bos[1] = (struct drm_tapu_submit_bo){ j->out_h, DRM_TAPU_BO_WRITE };
	return 2;
}

static inline int tj_job_submit_sync(struct tj_job *j,
				     const struct drm_tapu_sync *in,
				     uint32_t nin, uint32_t out, uint64_t point)
{
	struct drm_tapu_submit_bo bos[2];
	uint32_t n = tj_job_bos(j, bos);

	return tj_submit_raw(j->fd, j->stream, bos, n, in, nin, out, point,
			     &j->id);
}

static inline int tj_job_submit(struct tj_job *j)
{
	return tj_job_submit_sync(j, NULL, 0, 0, 0);
}

/* WAIT_JOB with an absolute timeout of 0: never blocks. */
static inline int tj_poll(int fd, uint64_t id, struct drm_tapu_wait_job *w)
{
	struct drm_tapu_wait_job tmp;

	if (!w)
		w = &tmp;
	memset(w, 0, sizeof(*w));
	w->job_id = id;
	return tapu_ioctl(fd, DRM_IOCTL_TAPU_WAIT_JOB, w);
}

/*
 * Waits for @j up to @ms. Returns 0 when it succeeded and @map (the output
 * mapping, or the job's own when NULL) holds its input pattern; else -errno
 * of the wait, 1 for a failed job, 2 for wrong data.
 */
static inline int tj_job_finish_map(struct tj_job *j, const uint8_t *map,
				    int64_t ms, struct drm_tapu_wait_job *w)
{
	struct drm_tapu_wait_job tmp;
	int ret;

	if (!w)
		w = &tmp;
	ret = tapu_wait(j->fd, j->id, ms, w);
	if (ret)
		return ret;
	if (w->status != DRM_TAPU_JOB_DONE || w->error)
		return 1;
	return tj_check(map ? map : j->out.map, j->n, j->seed) ? 2 : 0;
}

static inline int tj_job_finish(struct tj_job *j, struct drm_tapu_wait_job *w)
{
	return tj_job_finish_map(j, NULL, TJ_WAIT_MS, w);
}

/* Runs one fast COPY job on @fd: 0 when it gave the right result. */
static inline int tj_run_one(int fd)
{
	struct tj_job j;
	int ret = tj_job_init(fd, &j, 4096, 77);

	if (!ret)
		ret = tj_job_submit(&j);
	if (!ret)
		ret = tj_job_finish(&j, NULL);
	tj_job_fini(&j);
	return ret;
}

/*
 * A job held on its core: the simulated NPU's "stall" fault keeps the next
 * job that starts running (visibly progressing, so never timed out) until
 * tj_release(); a release before that job starts cancels the stall. Tests
 * that need a job still running use this, never a job that is only slow:
 * under load a slow job can finish before the test looks.
 */
static inline int tj_stall(void)
{
	return tapu_debugfs_write("fault_inject", "stall");
}

static inline int tj_release(void)
{
	return tapu_debugfs_write("fault_inject", "release");
}

#define TJ_NO_FAULTS	"no fault_inject (simulated NPU) in debugfs"

/*
 * Arms the stall; false where the backend has no faults, for the test to
 * skip (SKIP() returns from the function it is in):
 *
 *	if (!tj_stall_armed(_metadata))
 *		SKIP(return, TJ_NO_FAULTS);
 */
static inline bool tj_stall_armed(struct __test_metadata *_metadata)
{
	int ret = tj_stall();

	if (ret == -ENOENT)
		return false;
	ASSERT_EQ(0, ret);
	return true;
}

/* Waits until the held job has reached its core: 0, or -ETIME after 10 s. */
static inline int tj_stall_started(void)
{
	int64_t end = tapu_deadline_ms(TJ_WAIT_MS);
	char buf[32];

	do {
		if (tapu_debugfs_read("fault_inject", buf, sizeof(buf)) > 0 &&
		    !strncmp(buf, "none", 4))
			return 0;
		usleep(1000);
	} while (tapu_now_ns() < end);
	return -ETIME;
}

static inline int tj_syncobj_new(int fd)
{
	struct drm_syncobj_create c = { 0 };
	int ret = tapu_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c);

	return ret ? ret : (int)c.handle;
}

static inline void tj_syncobj_free(int fd, uint32_t h)
{
	struct drm_syncobj_destroy d = { .handle = h };

	tapu_ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
}

/* Signals a binary syncobj (@point 0) or a timeline point. */
static inline int tj_syncobj_signal(int fd, uint32_t h, uint64_t point)
{
	struct drm_syncobj_timeline_array t = {
		.handles = (uintptr_t)&h, .points = (uintptr_t)&point,
		.count_handles = 1,
	};
	struct drm_syncobj_array b = {
		.handles = (uintptr_t)&h, .count_handles = 1,
	};

	if (point)
		return tapu_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &t);
	return tapu_ioctl(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &b);
}

/* Waits for a binary syncobj (@point 0) or a timeline point. */
static inline int tj_syncobj_wait(int fd, uint32_t h, uint64_t point,
				  int64_t abs_ns)
{
	struct drm_syncobj_timeline_wait t = {
		.handles = (uintptr_t)&h, .points = (uintptr_t)&point,
		.timeout_nsec = abs_ns, .count_handles = 1,
	};
	struct drm_syncobj_wait b = {
		.handles = (uintptr_t)&h, .timeout_nsec = abs_ns,
		.count_handles = 1,
	};

	if (point)
		return tapu_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &t);
	return tapu_ioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &b);
}

static inline int tj_prime_export(int fd, uint32_t handle)
{
	struct drm_prime_handle p = {
		.handle = handle, .flags = DRM_CLOEXEC | DRM_RDWR,
	};
	int ret = tapu_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	return ret ? ret : p.fd;
}

static inline int tj_prime_import(int fd, int dmabuf)
{
	struct drm_prime_handle p = { .fd = dmabuf };
	int ret = tapu_ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);

	return ret ? ret : (int)p.handle;
}

/* Maps @handle through BO_INFO; NULL on failure. */
static inline uint8_t *tj_map_handle(int fd, uint32_t handle, uint64_t *size)
{
	struct drm_tapu_bo_info i = { .handle = handle };
	void *p;

	if (tapu_ioctl(fd, DRM_IOCTL_TAPU_BO_INFO, &i))
		return NULL;
	p = mmap(NULL, i.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 i.offset);
	*size = i.size;
	return p == MAP_FAILED ? NULL : p;
}

#endif /* __TAPU_JOB_UTIL_H__ */
