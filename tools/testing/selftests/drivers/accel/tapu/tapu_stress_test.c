// SPDX-License-Identifier: GPL-2.0-only
/*
 * TAPU hostile-client stress test. Processes and threads on several files
 * mix valid and mutated requests for every ioctl: command streams of every
 * op, valid and with bytes flipped; boundary sizes and counts; stale,
 * foreign and wrong-kind handles; PROT_NONE and unaligned user pointers;
 * binary and timeline in/out syncobjs; mmaps and munmaps; closes, forks
 * and kills while jobs run; meanwhile the shrinkers run every 100 ms, and
 * drop the kernel mappings of the BOs no job uses while others are freed
 * or taken by a new job. Fixed seeds, so that a failure reproduces;
 * bounded in time (TAPU_STRESS_SECONDS, default 40).
 *
 * The oracle: every ioctl returns 0 or an errno documented for it, the
 * kernel log stays clean (the QEMU harness checks it), and at the end a
 * known job gives the right result on every core. Per-ioctl counts and the
 * errno histogram are printed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tapu_job_util.h"

#define PROCS		2
#define THREADS		3
#define MAX_CORES	16

enum st_call {
	ST_QUERY, ST_BO_CREATE, ST_BO_INFO, ST_BO_WAIT, ST_STREAM, ST_SUBMIT,
	ST_WAIT_JOB, ST_GEM_CLOSE, ST_SYNCOBJ, ST_PRIME, ST_MMAP, ST_REOPEN,
	ST_CALLS
};

static const char *const st_names[ST_CALLS] = {
	"QUERY", "BO_CREATE", "BO_INFO", "BO_WAIT", "CMDSTREAM_CREATE",
	"SUBMIT", "WAIT_JOB", "GEM_CLOSE", "SYNCOBJ_*", "PRIME", "mmap",
	"close+open",
};

/* The errnos the histogram knows; index 0 is success. */
static const int st_errnos[] = {
	0, EINVAL, ENOENT, E2BIG, EOVERFLOW, EFAULT, EACCES, EBUSY, ETIME,
	ENOSPC, ENOMEM, EBADF, EOPNOTSUPP,
};

#define ST_NERR		((int)ARRAY_SIZE(st_errnos))
#define ST_OTHER	ST_NERR

#define B(e)		(1u << (e))
/* Which of st_errnos each call may return (bit = index), per uapi.rst. */
static const unsigned int st_allowed[ST_CALLS] = {
	[ST_QUERY] = B(0) | B(1) | B(5),
	[ST_BO_CREATE] = B(0) | B(1) | B(3) | B(10),
	[ST_BO_INFO] = B(0) | B(1) | B(2),
	[ST_BO_WAIT] = B(0) | B(1) | B(2) | B(8),
	[ST_STREAM] = B(0) | B(1) | B(3) | B(4) | B(5) | B(9) | B(10),
	[ST_SUBMIT] = B(0) | B(1) | B(2) | B(5) | B(6) | B(7) | B(10),
	[ST_WAIT_JOB] = B(0) | B(1) | B(2) | B(8),
	[ST_GEM_CLOSE] = B(0) | B(1),
	[ST_SYNCOBJ] = B(0) | B(1) | B(2) | B(5) | B(8) | B(10),
	[ST_PRIME] = B(0) | B(1) | B(2) | B(11) | B(12),
	[ST_MMAP] = B(0) | B(1) | B(6) | B(10),
	[ST_REOPEN] = B(0),
};

/* Shared by every process (MAP_SHARED): counts by call and errno. */
struct st_stats {
	atomic_ulong n[ST_CALLS][ST_NERR + 1];
	atomic_ulong unexpected;
	atomic_ulong jobs_ok;
};

static struct st_stats *stats;

static void st_record(enum st_call c, int ret)
{
	int e = ret < 0 ? -ret : 0, k;

	for (k = 0; k < ST_NERR && st_errnos[k] != e; k++)
		;
	atomic_fetch_add(&stats->n[c][k], 1);
	if (k == ST_NERR || !(st_allowed[c] & B(k))) {
		if (atomic_fetch_add(&stats->unexpected, 1) < 20)
			fprintf(stderr, "# unexpected: %s returned %d (%s)\n",
				st_names[c], ret, strerror(e));
	}
}

/* xorshift32: the same sequence on every run for a seed. */
static uint32_t st_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#define ST_PICK(s, n)	(st_rand(s) % (n))
#define ST_CHANCE(s, n)	(ST_PICK(s, n) == 0)

/* A page no one may touch, for bad user pointers. */
static void *st_guard;

struct st_state {
	uint32_t seed;
	int64_t end;
	int fd, peer;
	uint32_t bos[8];
	uint64_t bo_size[8];
	uint32_t streams[4];
	uint32_t syncs[2], tl, tl_point;
	bool synced[2];
	uint64_t last_job;
	void *maps[4];
	size_t map_len[4];
};

static uint32_t st_handle(struct st_state *s)
{
	switch (ST_PICK(&s->seed, 6)) {
	case 0:
		return s->streams[ST_PICK(&s->seed, 4)];
	case 1:
		return st_rand(&s->seed) % 64;	/* foreign or stale */
	case 2:
		return st_rand(&s->seed);
	default:
		return s->bos[ST_PICK(&s->seed, 8)];
	}
}

/* A pointer to @len valid bytes, or a bad one now and then. */
static void *st_ptr(struct st_state *s, void *good)
{
	switch (ST_PICK(&s->seed, 16)) {
	case 0:
		return st_guard;
	case 1:
		return NULL;
	case 2:
		return (void *)(uintptr_t)0xdead0000;
	default:
		return good;
	}
}

static void st_query(struct st_state *s)
{
	static const uint32_t sizes[] = { 0, 1, 4, 24, 32, 64, 4096 };
	uint8_t buf[4096 + 8];
	struct drm_tapu_query q = {
		.type = ST_PICK(&s->seed, 5),
		.size = sizes[ST_PICK(&s->seed, 7)],
		.flags = ST_CHANCE(&s->seed, 16),
		.pad = ST_CHANCE(&s->seed, 16),
	};

	/* Unaligned on purpose half of the time. */
	q.data = (uintptr_t)st_ptr(s, buf + ST_PICK(&s->seed, 8));
	st_record(ST_QUERY, tapu_ioctl(s->fd, DRM_IOCTL_TAPU_QUERY, &q));
}

static void st_bo_create(struct st_state *s)
{
	static const uint64_t sizes[] = {
		0, 1, 4095, 4096, 4097, 65536, 1 << 20, 1ULL << 30,
		(1ULL << 30) + 1, ~0ULL, ~0ULL - 4095,
	};
	struct drm_tapu_bo_create c = {
		.size = ST_PICK(&s->seed, 4) ? 4096ULL << ST_PICK(&s->seed, 3) :
			sizes[ST_PICK(&s->seed, 11)],
		.flags = ST_CHANCE(&s->seed, 8) ? st_rand(&s->seed) :
			 ST_PICK(&s->seed, 2),
	};
	int ret = tapu_ioctl(s->fd, DRM_IOCTL_TAPU_BO_CREATE, &c);
	uint32_t k = ST_PICK(&s->seed, 8);

	st_record(ST_BO_CREATE, ret);
	if (ret)
		return;
	/* Large BOs only come and go: jobs would pin all their pages. */
	if (c.size > (1 << 20)) {
		tapu_gem_close(s->fd, c.handle);
		return;
	}
	/* Forget (leak into the file) or close what the slot held. */
	if (s->bos[k] && ST_CHANCE(&s->seed, 2))
		tapu_gem_close(s->fd, s->bos[k]);
	s->bos[k] = c.handle;
	s->bo_size[k] = c.size;
}

static void st_bo_info_wait(struct st_state *s)
{
	struct drm_tapu_bo_info i = { .handle = st_handle(s) };
	struct drm_tapu_bo_wait w = {
		.handle = st_handle(s),
		.pad = ST_CHANCE(&s->seed, 16),
		.timeout_ns = ST_CHANCE(&s->seed, 4) ? 0 :
			      tapu_deadline_ms(ST_PICK(&s->seed, 3)),
	};

	i.pad = ST_CHANCE(&s->seed, 16);
	st_record(ST_BO_INFO, tapu_ioctl(s->fd, DRM_IOCTL_TAPU_BO_INFO, &i));
	st_record(ST_BO_WAIT, tapu_ioctl(s->fd, DRM_IOCTL_TAPU_BO_WAIT, &w));
}

/* A valid op of a random kind on slots 0 (input), 1 (input 2), 2 (out). */
static uint32_t st_valid_op(struct st_state *s, uint8_t *buf)
{
	uint32_t n = 1 + ST_PICK(&s->seed, 64);

	switch (ST_PICK(&s->seed, 5)) {
	case 0: {
		struct drm_tapu_op_eltwise e = {
			.hdr = { DRM_TAPU_OP_ADD + ST_PICK(&s->seed, 3),
				 sizeof(e), 0 },
			.a = tj_tensor(0, 0, 1, 1, 1, n),
			.b = tj_tensor(1, 0, 1, 1, 1, n),
			.output = tj_tensor(2, 0, 1, 1, 1, n),
			.a_mul = 1, .b_mul = 1, .act_min = -128, .act_max = 127,
		};

		memcpy(buf, &e, sizeof(e));
		return sizeof(e);
	}
	case 1: {
		struct drm_tapu_op_conv c = {
			.hdr = { DRM_TAPU_OP_CONV2D, sizeof(c), 0 },
			.input = tj_tensor(0, 0, 1, 4, 4, 2),
			.weights = tj_tensor(1, 0, 2, 3, 3, 2),
			.output = tj_tensor(2, 0, 1, 2, 2, 2),
			.stride = { 1, 1 }, .dilation = { 1, 1 },
			.multiplier = 1, .act_min = -128, .act_max = 127,
		};

		memcpy(buf, &c, sizeof(c));
		return sizeof(c);
	}
	case 2: {
		struct drm_tapu_op_pool p = {
			.hdr = { DRM_TAPU_OP_MAXPOOL + ST_PICK(&s->seed, 2),
				 sizeof(p), 0 },
			.input = tj_tensor(0, 0, 1, 4, 4, 2),
			.output = tj_tensor(2, 0, 1, 2, 2, 2),
			.kernel = { 2, 2 }, .stride = { 2, 2 },
			.act_min = -128, .act_max = 127,
		};

		memcpy(buf, &p, sizeof(p));
		return sizeof(p);
	}
	case 3: {
		struct drm_tapu_op_hdr nop = { DRM_TAPU_OP_NOP, sizeof(nop), 0 };

		memcpy(buf, &nop, sizeof(nop));
		return sizeof(nop);
	}
	default: {
		struct drm_tapu_op_rs r;

		tj_copy_op(&r, n);
		r.output.slot = 2;
		memcpy(buf, &r, sizeof(r));
		return sizeof(r);
	}
	}
}

static void st_stream(struct st_state *s)
{
	uint8_t buf[512] = { 0 };
	uint32_t size = 0, k = ST_PICK(&s->seed, 4);
	struct drm_tapu_cmdstream_create c = { 0 };
	int ret;

	while (size < 256 && (!size || ST_CHANCE(&s->seed, 2)))
		size += st_valid_op(s, buf + size);
	/* Mutate: flip bytes, cut or extend, unknown flags. */
	if (ST_CHANCE(&s->seed, 3))
		for (int f = 1 + ST_PICK(&s->seed, 3); f; f--)
			buf[ST_PICK(&s->seed, size)] ^= 1 << ST_PICK(&s->seed, 8);
	if (ST_CHANCE(&s->seed, 8))
		size = ST_PICK(&s->seed, sizeof(buf));
	c.size = ST_CHANCE(&s->seed, 32) ? (2 << 20) + 4 * ST_PICK(&s->seed, 2) :
		 size;
	c.flags = ST_CHANCE(&s->seed, 32);
	c.data = (uintptr_t)st_ptr(s, buf);
	/* Big sizes read past buf: only valid with a pointer that faults. */
	if (c.size > sizeof(buf))
		c.data = (uintptr_t)st_guard;
	ret = tapu_ioctl(s->fd, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &c);
	st_record(ST_STREAM, ret);
	if (ret)
		return;
	if (s->streams[k])
		tapu_gem_close(s->fd, s->streams[k]);
	s->streams[k] = c.handle;
}

static void st_submit(struct st_state *s)
{
	struct drm_tapu_submit_bo bos[66];
	struct drm_tapu_sync in[3];
	uint32_t nbos = 3, nin = ST_PICK(&s->seed, 3), i;
	struct drm_tapu_submit a = {
		.cmdstream = ST_CHANCE(&s->seed, 8) ? st_handle(s) :
			     s->streams[ST_PICK(&s->seed, 4)],
		.priority = ST_CHANCE(&s->seed, 16) ? 3 + ST_PICK(&s->seed, 3) :
			    ST_PICK(&s->seed, 3),
		.flags = ST_CHANCE(&s->seed, 32),
	};
	int ret, which = -1;

	if (ST_CHANCE(&s->seed, 16))
		nbos = ST_PICK(&s->seed, 2) ? 64 + ST_PICK(&s->seed, 2) :
		       ST_PICK(&s->seed, 3);
	for (i = 0; i < nbos && i < 66; i++) {
		bos[i].handle = ST_CHANCE(&s->seed, 16) ? st_handle(s) :
				s->bos[(i + ST_PICK(&s->seed, 2)) % 8];
		bos[i].flags = ST_CHANCE(&s->seed, 16) ?
			       ST_PICK(&s->seed, 8) :
			       DRM_TAPU_BO_READ |
			       (i == 2 || ST_CHANCE(&s->seed, 4) ?
				DRM_TAPU_BO_WRITE : 0);
	}
	for (i = 0; i < nin; i++) {
		bool tl = ST_CHANCE(&s->seed, 2);

		in[i] = (struct drm_tapu_sync){
			.handle = tl ? s->tl : s->syncs[i & 1],
			.point = tl ? s->tl_point : 0,
			.pad = ST_CHANCE(&s->seed, 32),
		};
	}
	a.bo_count = nbos;
	a.bos = (uintptr_t)st_ptr(s, bos);
	a.in_sync_count = ST_CHANCE(&s->seed, 32) ? 65 : nin;
	a.in_syncs = (uintptr_t)(a.in_sync_count > 3 ? st_guard :
				 st_ptr(s, in));
	switch (ST_PICK(&s->seed, 4)) {
	case 0:
		which = ST_PICK(&s->seed, 2);
		a.out_sync = s->syncs[which];
		break;
	case 1:
		a.out_sync = s->tl;
		a.out_sync_point = s->tl_point + 1;
		break;
	case 2:
		a.out_sync = ST_CHANCE(&s->seed, 4) ? st_rand(&s->seed) : 0;
		a.out_sync_point = ST_CHANCE(&s->seed, 8);
		break;
	}
	ret = tapu_ioctl(s->fd, DRM_IOCTL_TAPU_SUBMIT, &a);
	st_record(ST_SUBMIT, ret);
	if (ret)
		return;
	s->last_job = a.job_id;
	if (which >= 0)
		s->synced[which] = true;
	if (a.out_sync == s->tl && a.out_sync_point)
		s->tl_point = a.out_sync_point;
}

static void st_wait_job(struct st_state *s)
{
	struct drm_tapu_wait_job w = {
		.job_id = ST_CHANCE(&s->seed, 4) ? st_rand(&s->seed) % 512 :
			  s->last_job,
		.timeout_ns = ST_CHANCE(&s->seed, 2) ? 0 :
			      tapu_deadline_ms(ST_PICK(&s->seed, 4)),
	};

	st_record(ST_WAIT_JOB, tapu_ioctl(s->fd, DRM_IOCTL_TAPU_WAIT_JOB, &w));
}

static void st_gem_close(struct st_state *s)
{
	uint32_t k = ST_PICK(&s->seed, 8), h;

	if (ST_CHANCE(&s->seed, 2)) {
		h = s->bos[k];
		s->bos[k] = 0;
	} else {
		h = st_handle(s);
	}
	st_record(ST_GEM_CLOSE, tapu_gem_close(s->fd, h));
}

static void st_syncobj(struct st_state *s)
{
	uint32_t hs[3] = { s->syncs[0], s->syncs[1], st_handle(s) };
	uint64_t pts[3] = { 0, 0, s->tl_point };
	uint32_t n = 1 + ST_PICK(&s->seed, 3);
	struct drm_syncobj_wait w = {
		.handles = (uintptr_t)st_ptr(s, hs), .count_handles = n,
		.timeout_nsec = tapu_deadline_ms(ST_PICK(&s->seed, 3)),
		.flags = ST_PICK(&s->seed, 4),
	};
	struct drm_syncobj_timeline_array t = {
		.handles = (uintptr_t)&s->tl, .points = (uintptr_t)pts + 16,
		.count_handles = 1,
	};
	struct drm_syncobj_array r = {
		.handles = (uintptr_t)st_ptr(s, hs), .count_handles = n,
	};

	switch (ST_PICK(&s->seed, 4)) {
	case 0:
		st_record(ST_SYNCOBJ,
			  tapu_ioctl(s->fd, DRM_IOCTL_SYNCOBJ_WAIT, &w));
		break;
	case 1:
		st_record(ST_SYNCOBJ, tapu_ioctl(s->fd, DRM_IOCTL_SYNCOBJ_QUERY,
						 &t));
		break;
	case 2:
		/* Signal or reset the binary ones: no fence or a stub. */
		st_record(ST_SYNCOBJ,
			  tapu_ioctl(s->fd, ST_CHANCE(&s->seed, 2) ?
				     DRM_IOCTL_SYNCOBJ_SIGNAL :
				     DRM_IOCTL_SYNCOBJ_RESET, &r));
		s->synced[0] = false;
		s->synced[1] = false;
		break;
	default:
		/* A huge count: -ENOMEM, never the allocator's warning. */
		r.count_handles = 1u << (20 + ST_PICK(&s->seed, 12));
		st_record(ST_SYNCOBJ,
			  tapu_ioctl(s->fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &r));
		break;
	}
}

static void st_prime(struct st_state *s, int peer)
{
	struct drm_prime_handle p = {
		.handle = st_handle(s), .flags = DRM_CLOEXEC | DRM_RDWR,
	};
	int ret = tapu_ioctl(s->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	st_record(ST_PRIME, ret);
	if (ret) {
		/* Import something that is not a dma-buf, or no fd at all. */
		p.fd = ST_CHANCE(&s->seed, 2) ? s->fd :
		       1000 + (int)ST_PICK(&s->seed, 8);
		st_record(ST_PRIME, tapu_ioctl(peer, DRM_IOCTL_PRIME_FD_TO_HANDLE,
					       &p));
		return;
	}
	ret = tapu_ioctl(peer, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);
	st_record(ST_PRIME, ret);
	close(p.fd);
}

static void st_mmap(struct st_state *s)
{
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE,
	};
	uint32_t k = ST_PICK(&s->seed, 8), m = ST_PICK(&s->seed, 4);
	struct drm_tapu_bo_info i = { .handle = s->bos[k] };
	size_t len;
	int prot = prots[ST_PICK(&s->seed, 4)];
	void *p;

	if (s->maps[m]) {
		munmap(s->maps[m], s->map_len[m]);
		s->maps[m] = NULL;
	}
	if (!s->bos[k] || tapu_ioctl(s->fd, DRM_IOCTL_TAPU_BO_INFO, &i))
		return;
	len = ST_CHANCE(&s->seed, 4) ? i.size + 4096 : 4096;
	if (ST_CHANCE(&s->seed, 8))
		i.offset += 4096 * (1 + ST_PICK(&s->seed, 4));
	p = mmap(NULL, len, prot, MAP_SHARED, s->fd, i.offset);
	st_record(ST_MMAP, p == MAP_FAILED ? -errno : 0);
	if (p == MAP_FAILED)
		return;
	/* Touch only what a BO really backs. */
	if ((prot & PROT_WRITE) && (prot & PROT_READ) && len <= i.size)
		((uint8_t *)p)[ST_PICK(&s->seed, len)] ^= 1;
	s->maps[m] = p;
	s->map_len[m] = len;
}

static void st_reset_state(struct st_state *s)
{
	for (int m = 0; m < 4; m++)
		if (s->maps[m])
			munmap(s->maps[m], s->map_len[m]);
	memset(s->bos, 0, sizeof(s->bos));
	memset(s->streams, 0, sizeof(s->streams));
	memset(s->maps, 0, sizeof(s->maps));
	s->last_job = 0;
	s->syncs[0] = tj_syncobj_new(s->fd);
	s->syncs[1] = tj_syncobj_new(s->fd);
	{
		struct drm_syncobj_create c = { 0 };

		tapu_ioctl(s->fd, DRM_IOCTL_SYNCOBJ_CREATE, &c);
		s->tl = c.handle;
		s->tl_point = 0;
	}
	s->synced[0] = false;
	s->synced[1] = false;
}

static void st_prime_peer(struct st_state *s)
{
	st_prime(s, s->peer);
}

/* Close with jobs queued and running, and carry on with a new file. */
static void st_reopen(struct st_state *s)
{
	if (!ST_CHANCE(&s->seed, 8))
		return;
	st_reset_state(s);
	close(s->fd);
	s->fd = tapu_open();
	st_record(ST_REOPEN, s->fd < 0 ? -errno : 0);
	if (s->fd >= 0)
		st_reset_state(s);
}

static void st_pause(struct st_state *s)
{
	usleep(ST_PICK(&s->seed, 200));
}

/* What a thread does, and how often (out of the sum of the weights). */
static const struct {
	void (*fn)(struct st_state *s);
	unsigned int weight;
} st_actions[] = {
	{ st_query, 1 }, { st_bo_create, 3 }, { st_bo_info_wait, 1 },
	{ st_stream, 3 }, { st_submit, 6 }, { st_wait_job, 2 },
	{ st_gem_close, 1 }, { st_syncobj, 2 }, { st_prime_peer, 1 },
	{ st_mmap, 2 }, { st_reopen, 1 }, { st_pause, 1 },
};

static void st_act(struct st_state *s)
{
	unsigned int total = 0, pick, k;

	for (k = 0; k < ARRAY_SIZE(st_actions); k++)
		total += st_actions[k].weight;
	pick = ST_PICK(&s->seed, total);
	for (k = 0; pick >= st_actions[k].weight; k++)
		pick -= st_actions[k].weight;
	st_actions[k].fn(s);
}

/* One thread: a file of its own, requests of every kind until the end. */
static void *st_thread(void *arg)
{
	struct st_state *s = arg;

	s->peer = tapu_open();
	s->fd = tapu_open();
	if (s->fd < 0 || s->peer < 0) {
		atomic_fetch_add(&stats->unexpected, 1);
		return NULL;
	}
	st_reset_state(s);
	while (s->fd >= 0 && tapu_now_ns() < s->end)
		st_act(s);
	for (int m = 0; m < 4; m++)
		if (s->maps[m])
			munmap(s->maps[m], s->map_len[m]);
	if (s->fd >= 0)
		close(s->fd);
	close(s->peer);
	return NULL;
}

/* A child that submits jobs and is killed while they run. */
static void st_doomed_child(uint32_t seed)
{
	pid_t pid = fork();

	if (pid < 0)
		return;
	if (!pid) {
		struct tj_job j;
		int fd = tapu_open();

		if (fd >= 0 && !tj_job_init(fd, &j, 4096, seed))
			for (int k = 0; k < 16; k++)
				tj_job_submit(&j);
		pause();
		_exit(0);
	}
	usleep(seed % 3000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void st_process(int p, int64_t end)
{
	struct st_state s[THREADS] = { 0 };
	pthread_t t[THREADS];
	uint32_t seed = 0x5eed0000u + p;

	for (int i = 0; i < THREADS; i++) {
		s[i].seed = 0x7a9u * (p * THREADS + i + 1);
		s[i].end = end;
		pthread_create(&t[i], NULL, st_thread, &s[i]);
	}
	while (tapu_now_ns() < end) {
		st_doomed_child(st_rand(&seed));
		usleep(50000 + ST_PICK(&seed, 100000));
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* Jobs done per core, from debugfs "cores"; the number of cores. */
static int st_core_jobs(unsigned long long *jobs)
{
	char buf[4096], *line, *save;
	int n = 0;

	if (tapu_debugfs_read("cores", buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line && n < MAX_CORES;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned int idx;

		if (sscanf(line, "core%u: %*s jobs=%llu", &idx, &jobs[n]) == 2)
			n++;
	}
	return n;
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
	/* Nothing held or injected by an earlier test. */
	tj_release();
}

FIXTURE_TEARDOWN(stress)
{
	tj_release();
}

TEST_F_TIMEOUT(stress, hostile_clients, 300)
{
	const char *env = getenv("TAPU_STRESS_SECONDS");
	int seconds = env ? atoi(env) : 40, n, fds[MAX_CORES];
	unsigned long long before[MAX_CORES], after[MAX_CORES], total = 0;
	struct tj_job j[MAX_CORES];
	pid_t pids[PROCS];
	int reclaims = 0;
	int64_t end;

	if (access(TAPU_DEV, R_OK | W_OK))
		SKIP(return, "%s: %s", TAPU_DEV, strerror(errno));
	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	st_guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, stats);
	ASSERT_NE(MAP_FAILED, st_guard);

	end = tapu_now_ns() + seconds * NSEC_PER_SEC;
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		ASSERT_LE(0, pids[p]);
		if (!pids[p]) {
			st_process(p, end);
			_exit(0);
		}
	}
	/*
	 * As memory pressure would, racing the clients' frees and jobs; 4
	 * first keeps each drop out of the kernel log.
	 */
	EXPECT_EQ(0, tapu_write_file("/proc/sys/vm/drop_caches", "4"));
	while (tapu_now_ns() < end && reclaims >= 0) {
		if (tapu_write_file("/proc/sys/vm/drop_caches", "2"))
			reclaims = -1;
		else
			reclaims++;
		usleep(100000);
	}
	EXPECT_LT(0, reclaims);
	for (int p = 0; p < PROCS; p++) {
		int status;

		ASSERT_EQ(pids[p], waitpid(pids[p], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
			TH_LOG("process %d: status 0x%x", p, status);
		}
	}

	for (int c = 0; c < ST_CALLS; c++) {
		char line[512];
		int len = 0;
		unsigned long sum = 0;

		for (int e = 0; e <= ST_NERR; e++) {
			unsigned long v = atomic_load(&stats->n[c][e]);

			sum += v;
			if (v)
				len += snprintf(line + len, sizeof(line) - len,
						" %s=%lu",
						e == ST_OTHER ? "other" :
						e ? strerror(st_errnos[e]) : "ok",
						v);
		}
		total += sum;
		ksft_print_msg("%-16s %8lu:%s\n", st_names[c], sum, line);
	}
	ksft_print_msg("%llu calls in %d s, %d reclaims, %lu unexpected\n",
		       total, seconds, reclaims, atomic_load(&stats->unexpected));
	EXPECT_EQ(0ul, atomic_load(&stats->unexpected));
	EXPECT_LT(1000ull, total);

	/*
	 * The files are closed; what they left on the cores finishes or is
	 * reset as hung (33 job timeouts at most).
	 */
	EXPECT_TRUE(tapu_drained(60000));
	/*
	 * A known job on every core: one held on a core, then one per other
	 * core from new files, which the load balancing sends to the idle
	 * cores (it would not if the stress had left loads behind).
	 */
	n = st_core_jobs(before);
	ASSERT_LT(0, n);
	for (int k = 0; k < n; k++) {
		fds[k] = tapu_open();
		ASSERT_LE(0, fds[k]);
		ASSERT_EQ(0, tj_job_init(fds[k], &j[k], 4096, 500 + k));
	}
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&j[0]));
	ASSERT_EQ(0, tj_stall_started());
	for (int k = 1; k < n; k++)
		ASSERT_EQ(0, tj_job_submit(&j[k]));
	for (int k = 1; k < n; k++)
		EXPECT_EQ(0, tj_job_finish(&j[k], NULL));
	ASSERT_EQ(0, tj_release());
	EXPECT_EQ(0, tj_job_finish(&j[0], NULL));
	ASSERT_EQ(n, st_core_jobs(after));
	for (int c = 0; c < n; c++) {
		EXPECT_LT(before[c], after[c]) {
			TH_LOG("core %d ran no job", c);
		}
	}
	for (int k = 0; k < n; k++) {
		tj_job_fini(&j[k]);
		close(fds[k]);
	}
}

TEST_HARNESS_MAIN
