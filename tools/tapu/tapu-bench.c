// SPDX-License-Identifier: GPL-2.0-only
/*
 * tapu-bench - TAPU latency and throughput, measured in one run beside the
 * floor of the same machine: the bare DRM_IOCTL_VERSION round trip and the
 * cross-thread wake of a pipe (poll) and of a syncobj (SYNCOBJ_WAIT). The
 * table gives each result as a ratio to the floor, since absolute times of
 * an emulated machine (QEMU TCG) only compare within one run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/tapu_accel.h>

#define MAX_CLIENTS	64
#define MAX_DEPTH	256
#define WAIT_NS		10000000000LL	/* job and wake timeout: TCG is slow */

static const char *prog = "tapu-bench";
static const char *path = "/dev/accel/accel0";
static const char *fmnist_dir = "/usr/share/tapu/fmnist";
static double secs = 1.0;
static long iters;		/* per latency measurement; 0: -t decides */
static int max_clients = 4, depth = 8;
static int num_cores = 1;	/* the device's */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t deadline(void)
{
	return now_ns() + (int64_t)(secs * 1e9);
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputs(" ...\n", stderr);
	va_end(ap);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	if (ret)
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	return ret;
}

static int dev_open(void)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	return fd;
}

/* ---- samples and the result table ---- */

struct samples {
	uint64_t *v;
	size_t n, cap;
};

static int sample(struct samples *s, int64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
	return 0;
}

/* Whether a latency loop with @s samples so far goes on. */
static bool more(const struct samples *s, int64_t end)
{
	return iters ? (long)s->n < iters : now_ns() < end;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The floors first; room for every row main() may add at -c MAX_CLIENTS. */
enum { R_VERSION, R_PIPE, R_SYNCOBJ, R_U, R_MAX = 64 + 4 * MAX_CLIENTS };

static struct row {
	char name[48], notes[192];
	double p50, p99, rate;	/* ns, ns, per second; 0: not measured */
	bool own_ratio;		/* the notes hold its ratios, not the floors */
} rows[R_MAX];
static int nrows;

static struct row *row_add(const char *fmt, ...)
{
	struct row *r = &rows[nrows < R_MAX - 1 ? nrows++ : nrows];
	va_list ap;

	if (nrows == R_MAX - 1)
		fprintf(stderr, "%s: the table is full: rows overwritten\n", prog);
	memset(r, 0, sizeof(*r));
	va_start(ap, fmt);
	vsnprintf(r->name, sizeof(r->name), fmt, ap);
	va_end(ap);
	return r;
}

/* A row with the median and 99th percentile of @s (freed). */
static struct row *row_samples(struct samples *s, const char *name)
{
	struct row *r = row_add("%s", name);

	if (s->n) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
		r->p50 = s->v[s->n / 2];
		r->p99 = s->v[s->n * 99 / 100];
		snprintf(r->notes, sizeof(r->notes), "%zu samples", s->n);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
	return r;
}

static const char *fmt_ns(double ns, char *buf)
{
	if (!ns)
		return "-";
	if (ns < 1e3)
		sprintf(buf, "%.0f ns", ns);
	else if (ns < 1e6)
		sprintf(buf, "%.1f us", ns / 1e3);
	else
		sprintf(buf, "%.2f ms", ns / 1e6);
	return buf;
}

/* @ns (or the time per operation of @rate) over the floor row @f's p50. */
static const char *fmt_ratio(double ns, double rate, int f, char *buf)
{
	if (!ns && rate)
		ns = 1e9 / rate;
	if (!ns || !rows[f].p50)
		return "-";
	ns /= rows[f].p50;
	sprintf(buf, ns >= 100 ? "%.0fx" : ns >= 0.1 ? "%.1fx" : "%.3fx", ns);
	return buf;
}

static void print_table(void)
{
	char a[32], b[32], c[32], d[32], e[32];

	printf("\n%-44s %10s %10s %10s %9s %9s  %s\n", "measurement", "p50",
	       "p99", "ops/s", "/VERSION", "/syncobj", "notes");
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		if (r->rate)
			sprintf(c, "%.0f", r->rate);
		printf("%-44s %10s %10s %10s %9s %9s  %s\n", r->name,
		       fmt_ns(r->p50, a), fmt_ns(r->p99, b), r->rate ? c : "-",
		       r->own_ratio ? "-" : fmt_ratio(r->p50, r->rate, R_VERSION, d),
		       r->own_ratio ? "-" : fmt_ratio(r->p50, r->rate, R_SYNCOBJ, e),
		       r->notes);
	}
	printf("\n/VERSION, /syncobj: p50 (or 1/ops/s for a rate) over the p50 of"
	       " the DRM_IOCTL_VERSION\nround trip and of the cross-thread"
	       " syncobj wake measured in this run. The op rows: MACs or\n"
	       "elements per second on a core (the job's time on it), and that rate"
	       " over the same\nloop in C on this CPU, built with and without"
	       " vectorization (the best of several runs).\n");
}

/* ---- the floor ---- */

/*
 * The floors are measured first and again after the rest: a machine whose
 * speed drifted during the run shows it there. The ratios are against the
 * first.
 */
static bool floors_again;

static struct row *floor_row(struct samples *s, const char *name, int first)
{
	struct row *r = row_samples(s, "");

	snprintf(r->name, sizeof(r->name), "%s%s", floors_again ? "again, " : "",
		 name);
	if (floors_again && rows[first].p50)
		snprintf(r->notes + strlen(r->notes),
			 sizeof(r->notes) - strlen(r->notes),
			 ", %.2fx the first", r->p50 / rows[first].p50);
	return r;
}

static int floor_version(int fd)
{
	struct samples s = { 0 };
	int64_t end = deadline(), t0;

	progress("floor: DRM_IOCTL_VERSION round trip");
	while (more(&s, end)) {
		struct drm_version v = { 0 };

		t0 = now_ns();
		if (xioctl(fd, DRM_IOCTL_VERSION, &v, "VERSION") ||
		    sample(&s, now_ns() - t0))
			return -1;
	}
	floor_row(&s, "floor: DRM_IOCTL_VERSION round trip", R_VERSION);
	return 0;
}

/*
 * Cross-thread wake: the main thread stamps the time and signals channel 0;
 * the waker thread, blocked in poll() or SYNCOBJ_WAIT on it, takes the
 * sample and answers on channel 1. A pipe is signalled by a write; a
 * syncobj by a SYNCOBJ_TRANSFER of the fence, signalled once at set-up, of
 * a third syncobj: no fence is allocated while timed, and the waiter
 * resets its syncobj for the next wake only after it took its sample.
 */
struct wake {
	bool syncobj;
	int fd, pipes[2][2], err;
	pid_t tid;		/* the waker's */
	uint32_t sobj[3];	/* the channels, and the signalled fence */
	int64_t t0;
	bool stop;
	struct samples s;
};

static int wake_signal(struct wake *w, int ch)
{
	struct drm_syncobj_transfer t = {
		.src_handle = w->sobj[2], .dst_handle = w->sobj[ch],
	};

	if (w->syncobj)
		return xioctl(w->fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &t,
			      "SYNCOBJ_TRANSFER");
	return write(w->pipes[ch][1], "x", 1) == 1 ? 0 : -1;
}

static int wake_wait(struct wake *w, int ch)
{
	struct drm_syncobj_wait sw = {
		.handles = (uintptr_t)&w->sobj[ch], .count_handles = 1,
		.timeout_nsec = now_ns() + WAIT_NS,
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};
	struct pollfd p = { .fd = w->pipes[ch][0], .events = POLLIN };
	char c;

	if (w->syncobj)
		return xioctl(w->fd, DRM_IOCTL_SYNCOBJ_WAIT, &sw, "SYNCOBJ_WAIT");
	if (poll(&p, 1, WAIT_NS / 1000000) != 1 || read(p.fd, &c, 1) != 1) {
		fprintf(stderr, "%s: pipe wake: %s\n", prog,
			errno ? strerror(errno) : "timeout");
		return -1;
	}
	return 0;
}

/* After a wake on @ch: the next waits until it is signalled again. */
static int wake_rearm(struct wake *w, int ch)
{
	struct drm_syncobj_array a = {
		.handles = (uintptr_t)&w->sobj[ch], .count_handles = 1,
	};

	return w->syncobj ?
	       xioctl(w->fd, DRM_IOCTL_SYNCOBJ_RESET, &a, "SYNCOBJ_RESET") : 0;
}

/* Whether thread @tid of this process sleeps (its state is S). */
static bool asleep(pid_t tid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;	/* no procfs: cannot tell, do not wait */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');
	return !p || p[1] != ' ' || p[2] == 'S';
}

static void *waker(void *arg)
{
	struct wake *w = arg;

	__atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	while (!w->err) {
		w->err = wake_wait(w, 0);
		if (w->err || __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE))
			break;
		w->err = sample(&w->s, now_ns() -
				__atomic_load_n(&w->t0, __ATOMIC_ACQUIRE)) ||
			 wake_rearm(w, 0) || wake_signal(w, 1);
	}
	return NULL;
}

static int floor_wake(int fd, bool syncobj)
{
	const char *name = syncobj ? "floor: cross-thread wake, syncobj" :
				     "floor: cross-thread wake, pipe + poll";
	struct wake w = { .syncobj = syncobj, .fd = fd };
	int64_t end = deadline();
	pthread_t thr;
	int err = 0;

	progress("%s", name);
	for (int ch = 0; ch < (syncobj ? 3 : 2) && !err; ch++) {
		struct drm_syncobj_create c = {
			.flags = ch == 2 ? DRM_SYNCOBJ_CREATE_SIGNALED : 0,
		};

		err = syncobj ? xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c,
				       "SYNCOBJ_CREATE") : pipe(w.pipes[ch]);
		w.sobj[ch] = c.handle;
	}
	if (err || pthread_create(&thr, NULL, waker, &w)) {
		fprintf(stderr, "%s: %s: set-up failed\n", prog, name);
		return -1;
	}
	while (!__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	while (!err && !__atomic_load_n(&w.err, __ATOMIC_RELAXED) &&
	       more(&w.s, end)) {
		/* A wake of a thread that is not asleep yet costs less. */
		while (!asleep(w.tid))
			sched_yield();
		__atomic_store_n(&w.t0, now_ns(), __ATOMIC_RELEASE);
		err = wake_signal(&w, 0) || wake_wait(&w, 1) ||
		      wake_rearm(&w, 1);
	}
	__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
	wake_signal(&w, 0);
	pthread_join(thr, NULL);
	for (int ch = 0; ch < 3; ch++) {
		struct drm_syncobj_destroy d = { .handle = w.sobj[ch] };

		if (syncobj && d.handle)
			ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
		else if (!syncobj && ch < 2)
			close(w.pipes[ch][0]), close(w.pipes[ch][1]);
	}
	floor_row(&w.s, name, syncobj ? R_SYNCOBJ : R_PIPE);
	return err || w.err ? -1 : 0;
}

/*
 * U, the least an empty job can take: its SUBMIT and WAIT_JOB syscalls,
 * each a bare ioctl at best, and the wake of a thread that sleeps.
 */
static int floor_u(void)
{
	struct row *r = row_add("floor: U = 2 bare ioctls + a pipe wake");

	r->p50 = 2 * rows[R_VERSION].p50 + rows[R_PIPE].p50;
	snprintf(r->notes, sizeof(r->notes), "from the rows above");
	return 0;
}

/* ---- BOs ---- */

struct bo {
	void *map;
	uint64_t size;
	uint32_t handle;
};

/* A BO of @size, mapped; on failure what exists is left in @bo to free. */
static int bo_new(int fd, uint64_t size, struct bo *bo)
{
	struct drm_tapu_bo_create c = { .size = size };
	void *map;

	if (xioctl(fd, DRM_IOCTL_TAPU_BO_CREATE, &c, "BO_CREATE"))
		return -1;
	map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, c.offset);
	*bo = (struct bo){ map == MAP_FAILED ? NULL : map, c.size, c.handle };
	if (!bo->map)
		fprintf(stderr, "%s: mmap: %s\n", prog, strerror(errno));
	return bo->map ? 0 : -1;
}

static void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	if (handle)
		xioctl(fd, DRM_IOCTL_GEM_CLOSE, &c, "GEM_CLOSE");
}

static void bo_free(int fd, struct bo *bo)
{
	if (bo->map)
		munmap(bo->map, bo->size);
	gem_close(fd, bo->handle);
	memset(bo, 0, sizeof(*bo));
}

static int bench_bo(int fd)
{
	struct samples s = { 0 };
	int64_t end = deadline(), t0, total = 0;
	struct bo bo;
	struct row *r;
	size_t v;

	progress("BO create+mmap+close");
	while (more(&s, end)) {
		t0 = now_ns();
		if (bo_new(fd, 4096, &bo))
			return -1;
		*(volatile char *)bo.map = 1;
		bo_free(fd, &bo);
		t0 = now_ns() - t0;
		total += t0;
		if (sample(&s, t0))
			return -1;
	}
	v = s.n;
	r = row_samples(&s, "BO create+mmap+write+close, 4 KiB");
	r->rate = 1e9 * (double)v / total;
	return 0;
}

/* ---- work: an empty job, or a small network ---- */

enum kind { NOP, NET };

/* The network: 28x28x1 -> CONV2D 3x3x8 + bias -> RELU -> MAXPOOL 2x2 -> FC 10. */
enum {
	HW = 28, CO = 8, K = 3, PHW = HW / 2, FCI = PHW * PHW * CO, FCO = 10,
	S_IN = 0, S_PARAM, S_BIAS, S_ACT, S_OUT, NSLOTS,
	P_FCW = 128,				/* in S_PARAM after conv weights */
	B_FC = CO * 4,				/* in S_BIAS after conv bias */
	A_RELU = HW * HW * CO, A_POOL = 2 * HW * HW * CO,	/* in S_ACT */
};

struct net_stream {
	struct drm_tapu_op_conv conv;
	struct drm_tapu_op_act relu;
	struct drm_tapu_op_pool pool;
	struct drm_tapu_op_conv fc;
};

_Static_assert(sizeof(struct net_stream) == 2 * sizeof(struct drm_tapu_op_conv) +
	       sizeof(struct drm_tapu_op_act) + sizeof(struct drm_tapu_op_pool),
	       "the stream has no padding");

struct work {
	int fd;
	bool own_fd;
	uint32_t stream, nbos;
	struct bo bo[NSLOTS];
	struct drm_tapu_submit_bo list[NSLOTS];
};

static struct drm_tapu_tensor tensor(uint32_t slot, uint32_t off, uint32_t n,
				     uint32_t h, uint32_t w, uint32_t c,
				     uint32_t elem)
{
	return (struct drm_tapu_tensor){
		.slot = slot, .offset = off, .dim = { n, h, w, c },
		.stride = { h * w * c * elem, w * c * elem, c * elem, elem },
	};
}

static void net_build(struct net_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->conv = (struct drm_tapu_op_conv){
		.hdr = { DRM_TAPU_OP_CONV2D, sizeof(s->conv), DRM_TAPU_OP_F_BIAS },
		.input = tensor(S_IN, 0, 1, HW, HW, 1, 1),
		.weights = tensor(S_PARAM, 0, CO, K, K, 1, 1),
		.bias = tensor(S_BIAS, 0, 1, 1, 1, CO, 4),
		.output = tensor(S_ACT, 0, 1, HW, HW, CO, 1),
		.stride = { 1, 1 }, .dilation = { 1, 1 }, .pad = { 1, 1, 1, 1 },
		.multiplier = 1518500250, .shift = 38,
		.act_min = -128, .act_max = 127,
	};
	s->relu = (struct drm_tapu_op_act){
		.hdr = { DRM_TAPU_OP_RELU, sizeof(s->relu), 0 },
		.input = tensor(S_ACT, 0, 1, HW, HW, CO, 1),
		.output = tensor(S_ACT, A_RELU, 1, HW, HW, CO, 1),
	};
	s->pool = (struct drm_tapu_op_pool){
		.hdr = { DRM_TAPU_OP_MAXPOOL, sizeof(s->pool), 0 },
		.input = tensor(S_ACT, A_RELU, 1, HW, HW, CO, 1),
		.output = tensor(S_ACT, A_POOL, 1, PHW, PHW, CO, 1),
		.kernel = { 2, 2 }, .stride = { 2, 2 },
		.act_min = -128, .act_max = 127,
	};
	s->fc = (struct drm_tapu_op_conv){
		.hdr = { DRM_TAPU_OP_FULLY_CONNECTED, sizeof(s->fc),
			 DRM_TAPU_OP_F_BIAS },
		.input = tensor(S_ACT, A_POOL, 1, 1, 1, FCI, 1),
		.weights = tensor(S_PARAM, P_FCW, FCO, 1, 1, FCI, 1),
		.bias = tensor(S_BIAS, B_FC, 1, 1, 1, FCO, 4),
		.output = tensor(S_OUT, 0, 1, 1, 1, FCO, 1),
		.multiplier = 1518500250, .shift = 42,
		.act_min = -128, .act_max = 127,
	};
}

static int8_t requant(uint32_t acc, const struct drm_tapu_op_conv *op)
{
	int64_t v = (int64_t)(int32_t)acc * op->multiplier;

	v = op->output_zp + (op->shift ? (v + (1LL << (op->shift - 1))) >> op->shift : v);
	return v < op->act_min ? op->act_min : v > op->act_max ? op->act_max : v;
}

/* The CPU reference of the network (all zero points 0). */
static void net_ref(const struct net_stream *s, const int8_t *in,
		    const int8_t *param, const int32_t *bias, int8_t *out)
{
	static int8_t act[HW][HW][CO], pool[FCI];

	for (int y = 0; y < HW; y++)
		for (int x = 0; x < HW; x++)
			for (int co = 0; co < CO; co++) {
				uint32_t acc = bias[co];

				for (int ky = 0; ky < K; ky++)
					for (int kx = 0; kx < K; kx++) {
						int iy = y + ky - 1, ix = x + kx - 1;

						if (iy >= 0 && iy < HW && ix >= 0 && ix < HW)
							acc += (uint32_t)(in[iy * HW + ix] *
								param[(co * K + ky) * K + kx]);
					}
				act[y][x][co] = requant(acc, &s->conv);
				if (act[y][x][co] < 0)
					act[y][x][co] = 0;
			}
	for (int i = 0; i < FCI; i++) {
		int y = i / (PHW * CO) * 2, x = i / CO % PHW * 2, c = i % CO;
		int8_t m = act[y][x][c];

		m = act[y][x + 1][c] > m ? act[y][x + 1][c] : m;
		m = act[y + 1][x][c] > m ? act[y + 1][x][c] : m;
		pool[i] = act[y + 1][x + 1][c] > m ? act[y + 1][x + 1][c] : m;
	}
	for (int o = 0; o < FCO; o++) {
		uint32_t acc = bias[B_FC / 4 + o];

		for (int i = 0; i < FCI; i++)
			acc += (uint32_t)(pool[i] * param[P_FCW + o * FCI + i]);
		out[o] = requant(acc, &s->fc);
	}
}

static int job_submit(struct work *w, uint64_t *id)
{
	struct drm_tapu_submit s = {
		.cmdstream = w->stream, .bo_count = w->nbos,
		.bos = (uintptr_t)w->list, .priority = DRM_TAPU_PRIO_NORMAL,
	};

	if (xioctl(w->fd, DRM_IOCTL_TAPU_SUBMIT, &s, "SUBMIT"))
		return -1;
	*id = s.job_id;
	return 0;
}

static int job_wait(struct work *w, uint64_t id, struct drm_tapu_wait_job *r)
{
	*r = (struct drm_tapu_wait_job){
		.job_id = id, .timeout_ns = now_ns() + WAIT_NS,
	};
	if (xioctl(w->fd, DRM_IOCTL_TAPU_WAIT_JOB, r, "WAIT_JOB"))
		return -1;
	if (r->status == DRM_TAPU_JOB_DONE && !r->error)
		return 0;
	fprintf(stderr, "%s: job %llu failed: %s\n", prog,
		(unsigned long long)id, strerror(-r->error));
	return -1;
}

static void work_fini(struct work *w)
{
	for (int i = 0; i < NSLOTS; i++)
		bo_free(w->fd, &w->bo[i]);
	gem_close(w->fd, w->stream);
	if (w->own_fd && w->fd >= 0)
		close(w->fd);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

/*
 * Sets up @kind on @fd (a new file when negative). A network also runs once
 * and its output is checked against the CPU reference.
 */
static int work_init(struct work *w, enum kind kind, int fd)
{
	static const uint32_t size[NSLOTS] = {
		HW * HW, P_FCW + FCO * FCI, B_FC + FCO * 4, A_POOL + FCI, FCO,
	};
	struct drm_tapu_op_hdr nop = { DRM_TAPU_OP_NOP, sizeof(nop), 0 };
	struct net_stream net;
	struct drm_tapu_cmdstream_create cs = { .data = (uintptr_t)&nop,
						.size = sizeof(nop) };
	struct drm_tapu_wait_job r;
	unsigned int seed = 1;
	int8_t ref[FCO];
	uint64_t id;

	memset(w, 0, sizeof(*w));
	w->own_fd = fd < 0;
	w->fd = fd < 0 ? dev_open() : fd;
	if (w->fd < 0)
		return -1;
	if (kind == NET) {
		net_build(&net);
		cs = (struct drm_tapu_cmdstream_create){
			.data = (uintptr_t)&net, .size = sizeof(net),
		};
		w->nbos = NSLOTS;
		for (int i = 0; i < NSLOTS; i++) {
			if (bo_new(w->fd, size[i], &w->bo[i]))
				return -1;
			for (uint32_t j = 0; j < size[i]; j++)
				((int8_t *)w->bo[i].map)[j] = rand_r(&seed);
			w->list[i] = (struct drm_tapu_submit_bo){
				w->bo[i].handle, i == S_ACT ?
				DRM_TAPU_BO_READ | DRM_TAPU_BO_WRITE :
				i == S_OUT ? DRM_TAPU_BO_WRITE : DRM_TAPU_BO_READ,
			};
		}
		for (int i = 0; i < CO + FCO; i++)	/* moderate biases */
			((int32_t *)w->bo[S_BIAS].map)[i] %= 4096;
	}
	if (xioctl(w->fd, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &cs, "CMDSTREAM_CREATE"))
		return -1;
	w->stream = cs.handle;
	if (kind == NOP)
		return 0;
	if (job_submit(w, &id) || job_wait(w, id, &r))
		return -1;
	net_ref(&net, w->bo[S_IN].map, w->bo[S_PARAM].map, w->bo[S_BIAS].map, ref);
	if (!memcmp(ref, w->bo[S_OUT].map, FCO))
		return 0;
	fprintf(stderr, "%s: the network's output differs from the CPU reference\n",
		prog);
	return -1;
}

/* ---- ops: the executor's rate beside the same loop in C ---- */

enum op_kind { OP_FC, OP_DW, OP_CONV, OP_ADD, OP_LUT, OP_KINDS };

/* One op over NHWC int8 tensors: slot 0 in, 1 weights or b or table, 2 out. */
struct op_shape {
	uint32_t h, w, c, co, k;	/* input H x W x C, output channels, kernel */
	uint64_t units;			/* MACs or elements */
	size_t size[3];
};

static void op_shape(enum op_kind k, uint32_t h, struct op_shape *o)
{
	*o = (struct op_shape){ .h = h, .w = h, .c = 32, .co = 32, .k = 3 };
	if (k == OP_FC)
		*o = (struct op_shape){ .h = 1, .w = 1, .c = 1024, .co = 1024, .k = 1 };
	o->size[0] = (size_t)o->h * o->w * o->c;
	o->size[2] = (size_t)o->h * o->w * o->co;
	o->size[1] = k == OP_LUT ? 256 : k == OP_ADD ? o->size[0] :
		     k == OP_DW ? (size_t)o->k * o->k * o->co :
		     (size_t)o->co * o->k * o->k * o->c;
	o->units = k == OP_FC || k == OP_CONV ? o->size[2] * o->k * o->k * o->c :
		   k == OP_DW ? o->size[2] * o->k * o->k : o->size[2];
}

/* The op's work as the validator counts it (DRM_TAPU_ELEMENT_WORK + taps). */
static uint64_t op_work(enum op_kind k, const struct op_shape *o)
{
	return o->size[2] * DRM_TAPU_ELEMENT_WORK + (k == OP_ADD || k == OP_LUT ? 0 : o->units);
}

union op_any {
	struct drm_tapu_op_conv conv;
	struct drm_tapu_op_eltwise ew;
	struct drm_tapu_op_lut lut;
};

static uint32_t op_stream(enum op_kind k, const struct op_shape *o, union op_any *op)
{
	struct drm_tapu_tensor in = tensor(0, 0, 1, o->h, o->w, o->c, 1);
	struct drm_tapu_tensor out = tensor(2, 0, 1, o->h, o->w, o->co, 1);

	memset(op, 0, sizeof(*op));
	if (k == OP_ADD) {
		op->ew = (struct drm_tapu_op_eltwise){
			.hdr = { DRM_TAPU_OP_ADD, sizeof(op->ew), 0 },
			.a = in, .b = tensor(1, 0, 1, o->h, o->w, o->c, 1), .output = out,
			.a_zp = 3, .b_zp = -5, .output_zp = 1, .a_mul = 1 << 20,
			.b_mul = 3 << 19, .shift = 21, .act_min = -128, .act_max = 127,
		};
		return sizeof(op->ew);
	}
	if (k == OP_LUT) {
		op->lut = (struct drm_tapu_op_lut){
			.hdr = { DRM_TAPU_OP_LUT, sizeof(op->lut), 0 },
			.input = in, .output = out, .table = tensor(1, 0, 1, 1, 1, 256, 1),
		};
		return sizeof(op->lut);
	}
	op->conv = (struct drm_tapu_op_conv){
		.hdr = { k == OP_FC ? DRM_TAPU_OP_FULLY_CONNECTED : k == OP_DW ?
			 DRM_TAPU_OP_DEPTHWISE_CONV2D : DRM_TAPU_OP_CONV2D, sizeof(op->conv), 0 },
		.input = in, .output = out,
		.weights = k == OP_DW ? tensor(1, 0, 1, o->k, o->k, o->co, 1) :
			   tensor(1, 0, o->co, o->k, o->k, o->c, 1),
		.input_zp = 2, .weight_zp = -1, .output_zp = -3,
		.multiplier = 1518500250, .shift = k == OP_FC ? 40 : 37,
		.act_min = -128, .act_max = 127,
	};
	if (k != OP_FC) {
		op->conv.stride[0] = op->conv.stride[1] = 1;
		op->conv.dilation[0] = op->conv.dilation[1] = 1;
		for (int i = 0; i < 4; i++)
			op->conv.pad[i] = o->k / 2;
	}
	return sizeof(op->conv);
}

static int8_t op_rq(int64_t v, uint32_t shift, int32_t zp)
{
	v = zp + ((v + (1LL << (shift - 1))) >> shift);
	return v < -128 ? -128 : v > 127 ? 127 : v;
}

/* The quantization parameters of the ops, as the C loops take them. */
struct op_params {
	int32_t xzp, wzp, yzp, mul, bzp, bmul;
	uint32_t shift;
};

static const struct op_params op_params_conv = { 2, -1, -3, 1518500250, 0, 0, 37 };
static const struct op_params op_params_fc = { 2, -1, -3, 1518500250, 0, 0, 40 };
static const struct op_params op_params_add = { 3, 0, 1, 1 << 20, -5, 3 << 19, 21 };

/*
 * The same computation as a plain loop, as a user would write it, with the
 * parameters known at run time only; built twice, with and without GCC's
 * vectorizer, to report both.
 */
#define OP_C_LOOPS(name, attr)							\
static attr void name(enum op_kind k, const struct op_shape *o, const int8_t *x,\
		      const int8_t *w, int8_t *y, const struct op_params *p)	\
{										\
	int r = o->k / 2;							\
										\
	if (k == OP_ADD) {							\
		for (size_t i = 0; i < o->size[2]; i++)				\
			y[i] = op_rq((int64_t)(x[i] - p->xzp) * p->mul +	\
				     (int64_t)(w[i] - p->bzp) * p->bmul,	\
				     p->shift, p->yzp);				\
		return;								\
	}									\
	if (k == OP_LUT) {							\
		for (size_t i = 0; i < o->size[2]; i++)				\
			y[i] = w[(uint8_t)(x[i] + 128)];			\
		return;								\
	}									\
	for (uint32_t oy = 0; oy < o->h; oy++)					\
		for (uint32_t ox = 0; ox < o->w; ox++)				\
			for (uint32_t co = 0; co < o->co; co++) {		\
				int32_t acc = 0;				\
										\
				for (int ky = 0; ky < (int)o->k; ky++)		\
					for (int kx = 0; kx < (int)o->k; kx++) {	\
						int iy = oy + ky - r, ix = ox + kx - r;	\
						const int8_t *px, *pw;		\
										\
						if (iy < 0 || iy >= (int)o->h ||	\
						    ix < 0 || ix >= (int)o->w)	\
							continue;		\
						px = x + ((size_t)iy * o->w + ix) * o->c; \
						if (k == OP_DW) {		\
							acc += (px[co] - p->xzp) * \
							       (w[(ky * o->k + kx) * o->co + co] - \
								p->wzp);		\
							continue;		\
						}				\
						pw = w + (((size_t)co * o->k + ky) * o->k + kx) * o->c; \
						for (uint32_t ci = 0; ci < o->c; ci++)	\
							acc += (px[ci] - p->xzp) * (pw[ci] - p->wzp); \
					}					\
				y[((size_t)oy * o->w + ox) * o->co + co] =	\
					op_rq((int64_t)acc * p->mul, p->shift, p->yzp); \
			}							\
}

OP_C_LOOPS(op_c_loop, __attribute__((noinline)))
OP_C_LOOPS(op_c_scalar, __attribute__((noinline, optimize("no-tree-vectorize"))))

static const char *const op_name[OP_KINDS] = {
	"FULLY_CONNECTED 1024x1024", "DEPTHWISE_CONV2D 3x3, %ux%ux32",
	"CONV2D 3x3, %ux%ux32 -> 32", "ADD int8 requantized, %ux%ux32",
	"LUT, %ux%ux32",
};

/* Best of a few: the least disturbed run. */
static int64_t op_time_c(void (*fn)(enum op_kind, const struct op_shape *, const int8_t *,
				    const int8_t *, int8_t *, const struct op_params *),
			 enum op_kind k, const struct op_shape *o, struct bo *bo, int8_t *y)
{
	const struct op_params *p = k == OP_ADD ? &op_params_add :
				    k == OP_FC ? &op_params_fc : &op_params_conv;
	int64_t best = INT64_MAX, end = deadline();

	for (int rep = 0; rep < 3 || (rep < 50 && now_ns() < end); rep++) {
		int64_t t0 = now_ns();

		fn(k, o, bo[0].map, bo[1].map, y, p);
		t0 = now_ns() - t0;
		best = t0 < best ? t0 : best;
	}
	return best;
}

/* Each op on the device (its time on the core) beside the C loops. */
static int bench_ops(int fd, uint64_t max_work)
{
	for (enum op_kind k = 0; k < OP_KINDS; k++) {
		union op_any op;
		struct work w = { .fd = fd, .nbos = 3 };
		struct drm_tapu_cmdstream_create cs = { .data = (uintptr_t)&op };
		int64_t dev = INT64_MAX, vec, scalar, end;
		uint32_t h = k == OP_CONV ? 32 : k == OP_DW ? 64 : 128;
		struct drm_tapu_wait_job r;
		unsigned int seed = 7;
		struct op_shape o;
		int8_t *y = NULL;
		struct row *row;
		uint64_t id;
		int ret = -1;

		/* Within half a job's work: the size the timeout allows. */
		do
			op_shape(k, h, &o);
		while (op_work(k, &o) > max_work / 2 && (h /= 2) > 2);
		progress("%s", op_name[k]);
		cs.size = op_stream(k, &o, &op);
		for (int i = 0; i < 3; i++) {
			if (bo_new(fd, o.size[i], &w.bo[i]))
				goto out;
			for (size_t j = 0; j < o.size[i]; j++)
				((int8_t *)w.bo[i].map)[j] = rand_r(&seed);
			w.list[i] = (struct drm_tapu_submit_bo){ w.bo[i].handle,
				i == 2 ? DRM_TAPU_BO_WRITE : DRM_TAPU_BO_READ };
		}
		if (xioctl(fd, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &cs, "CMDSTREAM_CREATE"))
			goto out;
		w.stream = cs.handle;
		end = deadline();
		for (int rep = 0; rep < 3 || (rep < 50 && now_ns() < end); rep++) {
			if (job_submit(&w, &id) || job_wait(&w, id, &r))
				goto out;
			dev = (int64_t)r.duration_ns < dev ? (int64_t)r.duration_ns : dev;
		}
		y = malloc(o.size[2]);
		if (!y)
			goto out;
		vec = op_time_c(op_c_loop, k, &o, w.bo, y);
		scalar = op_time_c(op_c_scalar, k, &o, w.bo, y);
		if (memcmp(y, w.bo[2].map, o.size[2])) {
			fprintf(stderr, "%s: %s: the device's output differs from the C loop's\n",
				prog, op_name[k]);
			goto out;
		}
		row = row_add(op_name[k], o.h, o.w);
		row->rate = 1e9 * o.units / dev;
		row->own_ratio = true;
		snprintf(row->notes, sizeof(row->notes), "%s/s; %.2fx C -O2, %.2fx C scalar",
			 k == OP_ADD || k == OP_LUT ? "elem" : "MAC",
			 (double)vec / dev, (double)scalar / dev);
		ret = 0;
out:
		free(y);
		work_fini(&w);
		if (ret)
			return ret;
	}
	return 0;
}

static const char *const kind_name[] = { "NOP job", "net job" };
static double submit_nop_p50;	/* the SUBMIT ioctl of a NOP job one at a time */

/* Submit+wait round trips of one job at a time. */
static int bench_rt(int fd, enum kind kind)
{
	struct samples rt = { 0 }, sub = { 0 }, core = { 0 };
	struct drm_tapu_wait_job wj;
	uint64_t cycles = 0, id;
	int64_t end, t0, t1;
	struct work w;
	struct row *r;
	char name[48];
	int err;

	progress("submit+wait round trip, %s", kind_name[kind]);
	err = work_init(&w, kind, fd);
	for (end = deadline(); !err && more(&rt, end);) {
		t0 = now_ns();
		err = job_submit(&w, &id);
		t1 = now_ns();
		err = err || job_wait(&w, id, &wj) || sample(&rt, now_ns() - t0) ||
		      sample(&sub, t1 - t0) || sample(&core, wj.duration_ns);
		cycles += err ? 0 : wj.cycles;
	}
	cycles /= rt.n ? rt.n : 1;
	work_fini(&w);
	if (err)
		return -1;
	snprintf(name, sizeof(name), "submit ioctl alone, %s", kind_name[kind]);
	r = row_samples(&sub, name);
	if (kind == NOP)
		submit_nop_p50 = r->p50;
	snprintf(name, sizeof(name), "job time on the core, %s", kind_name[kind]);
	row_samples(&core, name);
	snprintf(name, sizeof(name), "submit+wait round trip, %s", kind_name[kind]);
	r = row_samples(&rt, name);
	snprintf(r->notes + strlen(r->notes), sizeof(r->notes) - strlen(r->notes),
		 ", %llu device cycles/job", (unsigned long long)cycles);
	if (kind == NOP && rows[R_U].p50)
		snprintf(r->notes + strlen(r->notes),
			 sizeof(r->notes) - strlen(r->notes), ", %.2fx U",
			 r->p50 / rows[R_U].p50);
	return 0;
}

/*
 * The SUBMIT ioctl of an empty job on one BO, against the BO's size: the
 * BO mapped by the CPU (its pages present), then unmapped. A device that
 * makes a BO accessible at every job pays for its pages each time.
 */
static int bench_submit_size(int fd)
{
	static const uint64_t sizes[] = { 4096, 256ull << 20 };
	double base[2] = { 0 };

	for (int i = 0; i < (int)(sizeof(sizes) / sizeof(sizes[0])); i++) {
		for (int mapped = 1; mapped >= 0; mapped--) {
			struct samples sub = { 0 };
			struct drm_tapu_wait_job r;
			const char *unit = sizes[i] >= 1 << 20 ? "MiB" : "KiB";
			unsigned int shown = sizes[i] >> (sizes[i] >= 1 << 20 ? 20 : 10);
			int64_t end, t0;
			struct work w;
			struct row *row;
			uint64_t id;
			int err;

			progress("submit ioctl, one BO of %u %s, %s", shown, unit,
				 mapped ? "mmapped" : "unmapped");
			err = work_init(&w, NOP, fd);
			err = err || bo_new(fd, sizes[i], &w.bo[0]);
			if (!err) {
				for (uint64_t off = 0; off < sizes[i]; off += 4096)
					((volatile char *)w.bo[0].map)[off] = 1;
				w.list[0] = (struct drm_tapu_submit_bo){
					w.bo[0].handle, DRM_TAPU_BO_READ };
				w.nbos = 1;
				if (!mapped) {
					munmap(w.bo[0].map, w.bo[0].size);
					w.bo[0].map = NULL;
				}
				/* The first job may set the BO up: not timed. */
				err = job_submit(&w, &id) || job_wait(&w, id, &r);
			}
			for (end = deadline(); !err && more(&sub, end);) {
				t0 = now_ns();
				err = job_submit(&w, &id);
				t0 = now_ns() - t0;
				err = err || sample(&sub, t0) || job_wait(&w, id, &r);
			}
			work_fini(&w);
			if (err)
				return -1;
			row = row_samples(&sub, "");
			snprintf(row->name, sizeof(row->name),
				 "submit ioctl, 1 BO of %u %s, %s", shown, unit,
				 mapped ? "mmapped" : "unmapped");
			if (!i)
				base[mapped] = row->p50;
			else if (base[mapped])
				snprintf(row->notes + strlen(row->notes),
					 sizeof(row->notes) - strlen(row->notes),
					 ", %.2fx the 4 KiB BO's",
					 row->p50 / base[mapped]);
		}
	}
	return 0;
}

/*
 * The SUBMIT ioctl of an empty job against its number of BOs (of 4 KiB,
 * mapped) and of in-syncs (signalled binary syncobjs), beside the same
 * job on one BO without in-syncs.
 */
static int bench_submit_count(int fd)
{
	static const struct { uint32_t bos, syncs; } sweep[] = {
		{ 1, 0 }, { 8, 0 }, { 64, 0 }, { 1, 8 }, { 1, 64 },
	};
	struct drm_tapu_submit_bo list[64];
	struct drm_tapu_sync syncs[64] = { 0 };
	struct bo bos[64] = { 0 };
	struct work w;
	double base = 0;
	int err;

	err = work_init(&w, NOP, fd);
	for (int i = 0; i < 64 && !err; i++) {
		struct drm_syncobj_create c = { .flags = DRM_SYNCOBJ_CREATE_SIGNALED };

		err = bo_new(fd, 4096, &bos[i]) ||
		      xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c, "SYNCOBJ_CREATE");
		list[i] = (struct drm_tapu_submit_bo){ bos[i].handle, DRM_TAPU_BO_READ };
		syncs[i].handle = c.handle;
	}
	for (int k = 0; k < (int)(sizeof(sweep) / sizeof(sweep[0])) && !err; k++) {
		struct drm_tapu_submit sub = {
			.cmdstream = w.stream, .bo_count = sweep[k].bos,
			.bos = (uintptr_t)list, .in_syncs = (uintptr_t)syncs,
			.in_sync_count = sweep[k].syncs,
			.priority = DRM_TAPU_PRIO_NORMAL,
		};
		struct samples t = { 0 };
		struct drm_tapu_wait_job r;
		struct row *row;
		int64_t end, t0;

		progress("submit ioctl, %u BOs, %u in-syncs", sweep[k].bos,
			 sweep[k].syncs);
		for (end = deadline(); !err && more(&t, end);) {
			sub.job_id = 0;
			t0 = now_ns();
			err = xioctl(fd, DRM_IOCTL_TAPU_SUBMIT, &sub, "SUBMIT");
			t0 = now_ns() - t0;
			err = err || sample(&t, t0) || job_wait(&w, sub.job_id, &r);
		}
		if (err) {
			free(t.v);
			break;
		}
		row = row_samples(&t, "");
		snprintf(row->name, sizeof(row->name),
			 "submit ioctl, %u BO%s of 4 KiB, %u in-syncs",
			 sweep[k].bos, sweep[k].bos > 1 ? "s" : "", sweep[k].syncs);
		if (!k)
			base = row->p50;
		else if (base)
			snprintf(row->notes + strlen(row->notes),
				 sizeof(row->notes) - strlen(row->notes),
				 ", %.2fx 1 BO's", row->p50 / base);
	}
	for (int i = 0; i < 64; i++) {
		struct drm_syncobj_destroy d = { .handle = syncs[i].handle };

		if (d.handle)
			ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
		bo_free(fd, &bos[i]);
	}
	work_fini(&w);
	return err ? -1 : 0;
}

/*
 * The SUBMIT ioctl of an empty job that waits for the network job
 * submitted before it, so that the ioctl's time does not hold the empty
 * job's start on the CPU that submitted it: what is left is the submission
 * path and the scheduler's look at the job's dependency.
 */
static int bench_submit_held(int fd)
{
	struct drm_syncobj_create c = { 0 };
	struct drm_tapu_wait_job r;
	struct samples t = { 0 };
	struct work nop, net;
	struct row *row;
	int64_t end, t0;
	uint64_t id;
	int err;

	progress("submit ioctl, NOP job held by a net job");
	err = work_init(&nop, NOP, fd) || work_init(&net, NET, fd) ||
	      xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c, "SYNCOBJ_CREATE");
	for (end = deadline(); !err && more(&t, end);) {
		struct drm_tapu_sync in = { .handle = c.handle };
		struct drm_tapu_submit held = {
			.cmdstream = net.stream, .bo_count = net.nbos,
			.bos = (uintptr_t)net.list, .out_sync = c.handle,
			.priority = DRM_TAPU_PRIO_NORMAL,
		};

		err = xioctl(fd, DRM_IOCTL_TAPU_SUBMIT, &held, "SUBMIT");
		if (err)
			break;
		held = (struct drm_tapu_submit){
			.cmdstream = nop.stream, .in_syncs = (uintptr_t)&in,
			.in_sync_count = 1, .priority = DRM_TAPU_PRIO_NORMAL,
		};
		t0 = now_ns();
		err = xioctl(fd, DRM_IOCTL_TAPU_SUBMIT, &held, "SUBMIT");
		t0 = now_ns() - t0;
		id = held.job_id;
		err = err || sample(&t, t0) || job_wait(&nop, id, &r);
	}
	if (c.handle) {
		struct drm_syncobj_destroy d = { .handle = c.handle };

		ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
	}
	work_fini(&nop);
	work_fini(&net);
	if (err) {
		free(t.v);
		return -1;
	}
	row = row_samples(&t, "submit ioctl alone, NOP job behind a net job");
	if (submit_nop_p50)
		snprintf(row->notes + strlen(row->notes),
			 sizeof(row->notes) - strlen(row->notes),
			 ", %.2fx the NOP job's", row->p50 / submit_nop_p50);
	return 0;
}

/* Fairness: the least and most of @n clients' @done, over their mean. */
static void note_shares(struct row *r, int n, uint64_t done, uint64_t least,
			uint64_t most)
{
	if (n > 1 && done)
		snprintf(r->notes + strlen(r->notes),
			 sizeof(r->notes) - strlen(r->notes),
			 ", shares %.2f-%.2fx", (double)least * n / done,
			 (double)most * n / done);
}

#define MAX_CORES	16
static char cores_path[320];	/* the device's debugfs "cores", if readable */

/* The device's debugfs "cores", as the driver names its directory. */
static void cores_find(int fd)
{
	char link[256], dev[64];
	const char *base;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		return;
	snprintf(dev, sizeof(dev), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(dev, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(cores_path, sizeof(cores_path),
		 "/sys/kernel/debug/accel/%s/cores", base ? base + 1 : link);
	if (access(cores_path, R_OK))
		cores_path[0] = '\0';
}

/* Each core's busy_ns from debugfs into @ns: how many, 0 without debugfs. */
static int cores_busy(uint64_t *ns)
{
	char buf[4096], *line, *save, *p;
	ssize_t len;
	int fd, n = 0;

	fd = cores_path[0] ? open(cores_path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line && n < MAX_CORES;
	     line = strtok_r(NULL, "\n", &save)) {
		p = strstr(line, " busy_ns=");
		if (p)
			ns[n++] = strtoull(p + strlen(" busy_ns="), NULL, 10);
	}
	return n;
}

/* Throughput: clients, each a thread with its own file, in a loop. */
struct client {
	pthread_t thr;
	pthread_barrier_t *bar;
	uint64_t *core_busy;	/* the cores' busy_ns as the clients start */
	int *num_cores_read;
	enum kind kind;
	int depth, err;
	int64_t start, end;
	uint64_t done, cycles, busy_ns;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	uint64_t ring[MAX_DEPTH], head = 0, tail = 0;
	struct drm_tapu_wait_job r;
	int64_t end;
	struct work w;

	c->err = work_init(&w, c->kind, -1);
	if (pthread_barrier_wait(c->bar) == PTHREAD_BARRIER_SERIAL_THREAD)
		*c->num_cores_read = cores_busy(c->core_busy);
	c->start = now_ns();
	end = c->start + (int64_t)(secs * 1e9);
	while (!c->err && (head > tail || now_ns() < end)) {
		if (head - tail < (uint64_t)c->depth && now_ns() < end) {
			c->err = job_submit(&w, &ring[head++ % c->depth]);
			continue;
		}
		c->err = job_wait(&w, ring[tail++ % c->depth], &r);
		c->done++;
		c->cycles += r.cycles;
		c->busy_ns += r.duration_ns;
	}
	c->end = now_ns();
	work_fini(&w);
	return NULL;
}

static int bench_clients(enum kind kind, int n, int dep)
{
	uint64_t busy0[MAX_CORES], busy1[MAX_CORES];
	struct client c[MAX_CLIENTS] = { 0 };
	pthread_barrier_t bar;
	int64_t start = INT64_MAX, end = 0;
	uint64_t done = 0, cycles = 0, busy = 0, least = UINT64_MAX, most = 0;
	int err = 0, i, used = n < num_cores ? n : num_cores, ncores = 0;
	char gap[32];
	double idle;
	struct row *r;

	progress("%ss/s, %d client%s, %d in flight each", kind_name[kind], n,
		 n > 1 ? "s" : "", dep);
	pthread_barrier_init(&bar, NULL, n);
	for (i = 0; i < n; i++) {
		c[i] = (struct client){ .bar = &bar, .kind = kind, .depth = dep,
					.core_busy = busy0,
					.num_cores_read = &ncores };
		if (pthread_create(&c[i].thr, NULL, client_main, &c[i]))
			break;
	}
	if (i < n) {	/* the barrier waits for n: cannot recover */
		fprintf(stderr, "%s: pthread_create failed\n", prog);
		exit(1);
	}
	for (i = 0; i < n; i++) {
		pthread_join(c[i].thr, NULL);
		err |= c[i].err;
		start = c[i].start < start ? c[i].start : start;
		end = c[i].end > end ? c[i].end : end;
		done += c[i].done;
		least = c[i].done < least ? c[i].done : least;
		most = c[i].done > most ? c[i].done : most;
		cycles += c[i].cycles;
		busy += c[i].busy_ns;
	}
	pthread_barrier_destroy(&bar);
	if (err)
		return -1;
	if (ncores && cores_busy(busy1) != ncores)
		ncores = 0;
	r = row_add("%ss/s, %d client%s x %d in flight", kind_name[kind], n,
		    n > 1 ? "s" : "", dep);
	r->rate = end > start ? 1e9 * (double)done / (end - start) : 0;
	/*
	 * The cores the clients can keep busy, idle for what the jobs' times
	 * on them leave of the run: the gaps between jobs, and any core left
	 * without work.
	 */
	idle = (double)used * (end - start) - (double)busy;
	snprintf(r->notes, sizeof(r->notes),
		 "%llu jobs, %llu cycles/job, %d core%s idle %.1f%%, %s/job",
		 (unsigned long long)done,
		 (unsigned long long)(cycles / (done ? done : 1)), used,
		 used > 1 ? "s" : "", 100 * idle / ((double)used * (end - start)),
		 fmt_ns(idle > 0 ? idle / (done ? done : 1) : 0, gap));
	note_shares(r, n, done, least, most);
	/* Each core's idle share of the run, from its debugfs busy time. */
	for (i = 0; i < ncores && end > start; i++)
		snprintf(r->notes + strlen(r->notes),
			 sizeof(r->notes) - strlen(r->notes), "%s%.1f%%",
			 i ? "/" : ", idle per core ",
			 100 * (1 - (double)(busy1[i] - busy0[i]) / (end - start)));
	return 0;
}

/*
 * The floor of many clients: pairs of threads, one sending DEPTH bytes
 * ahead through a pipe and the other echoing each back through another,
 * as a client keeps DEPTH jobs in flight and is woken by their ends. What
 * this machine loses with many threads, without the device.
 */
struct echo {
	pthread_t thr[2];
	pthread_barrier_t *bar;
	int fds[2][2], err;
	uint64_t done;
};

static void *echo_back(void *arg)
{
	struct echo *e = arg;
	char c;

	pthread_barrier_wait(e->bar);
	while (read(e->fds[0][0], &c, 1) == 1 && c)
		if (write(e->fds[1][1], &c, 1) != 1)
			break;
	return NULL;
}

static void *echo_send(void *arg)
{
	struct echo *e = arg;
	int64_t end;
	int inflight = 0;
	char c = 1;

	pthread_barrier_wait(e->bar);
	end = now_ns() + (int64_t)(secs * 1e9);
	while (!e->err && (inflight || now_ns() < end)) {
		if (inflight < depth && now_ns() < end) {
			e->err = write(e->fds[0][1], &c, 1) != 1;
			inflight++;
			continue;
		}
		e->err = read(e->fds[1][0], &c, 1) != 1;
		inflight--;
		e->done++;
	}
	c = 0;	/* the echoing thread ends */
	if (write(e->fds[0][1], &c, 1) != 1)
		e->err = 1;
	return NULL;
}

static int floor_echo(int n)
{
	static struct echo e[MAX_CLIENTS];
	uint64_t done = 0, least = UINT64_MAX, most = 0;
	pthread_barrier_t bar;
	int err = 0, i;
	struct row *r;

	progress("floor: pipe echo, %d thread pair%s, %d in flight each", n,
		 n > 1 ? "s" : "", depth);
	pthread_barrier_init(&bar, NULL, 2 * n);
	for (i = 0; i < n; i++) {
		e[i] = (struct echo){ .bar = &bar };
		if (pipe(e[i].fds[0]) || pipe(e[i].fds[1]) ||
		    pthread_create(&e[i].thr[0], NULL, echo_send, &e[i]) ||
		    pthread_create(&e[i].thr[1], NULL, echo_back, &e[i])) {
			/* The barrier waits for 2n threads: cannot recover. */
			fprintf(stderr, "%s: echo set-up failed\n", prog);
			exit(1);
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(e[i].thr[0], NULL);
		pthread_join(e[i].thr[1], NULL);
		for (int k = 0; k < 4; k++)
			close(e[i].fds[k / 2][k % 2]);
		err |= e[i].err;
		done += e[i].done;
		least = e[i].done < least ? e[i].done : least;
		most = e[i].done > most ? e[i].done : most;
	}
	pthread_barrier_destroy(&bar);
	if (err)
		return -1;
	r = row_add("floor: pipe echo, %d pair%s x %d in flight", n,
		    n > 1 ? "s" : "", depth);
	r->rate = done / secs;
	snprintf(r->notes, sizeof(r->notes), "%llu echoes",
		 (unsigned long long)done);
	note_shares(r, n, done, least, most);
	return 0;
}

/* Each of @n rows from @first on, the @step-th, beside the best of them. */
static void rows_vs_peak(int first, int n, int step)
{
	double peak = 0;

	for (int i = 0; i < n; i++)
		if (rows[first + i * step].rate > peak)
			peak = rows[first + i * step].rate;
	for (int i = 0; i < n && peak; i++) {
		struct row *r = &rows[first + i * step];

		snprintf(r->notes + strlen(r->notes),
			 sizeof(r->notes) - strlen(r->notes),
			 ", %.2fx the peak", r->rate / peak);
	}
}

/*
 * Many files: NOP jobs with DEPTH in flight from 1 to MAX_CLIENTS files,
 * each beside the pipe echo floor of as many thread pairs, and each rate
 * beside the best of its sweep.
 */
static int bench_files(void)
{
	int first = nrows, err = 0, n, steps = 0;

	for (n = 1; n <= MAX_CLIENTS && !err; n *= 4, steps++)
		err = floor_echo(n) || bench_clients(NOP, n, depth);
	if (!err) {
		rows_vs_peak(first, steps, 2);
		rows_vs_peak(first + 1, steps, 2);
	}
	return err;
}

/* ---- end to end: the Fashion-MNIST network through tapu-run ---- */

/*
 * The end-to-end images/s of "tapu-run MODEL --fmnist DIR --batch 500
 * [EXTRA]" (its throughput line: the last rate with a device, the only
 * one without), or a negative value.
 */
static double fmnist_rate(const char *model, const char *extra)
{
	char *argv[] = { "tapu-run", (char *)model, "--fmnist",
			 (char *)fmnist_dir, "--batch", "500", "--device",
			 (char *)path, (char *)extra, NULL };
	char buf[4096], *line;
	double rate = -1;
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (!extra)
		argv[8] = NULL;
	if (pipe(fds))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s: %s\n", prog, argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && len < sizeof(buf) - 1 &&
	       (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	line = strstr(buf, "throughput: ");
	if (line && strstr(line, "end to end"))
		line = strstr(line, "), ");
	if (!line || sscanf(line + strcspn(line, "0123456789"), "%lf images/s",
			    &rate) != 1)
		return -1;
	return rate;
}

/*
 * The 10,000 test images through the int8 network, on the device and
 * with the CPU reference of the same library, if the model is there.
 */
static int bench_fmnist(void)
{
	char model[512];
	double dev, cpu;
	struct row *r;

	snprintf(model, sizeof(model), "%s/fmnist_int8.onnx", fmnist_dir);
	if (access(model, R_OK)) {
		fprintf(stderr, "%s: %s: %s; no Fashion-MNIST rows\n", prog,
			model, strerror(errno));
		return 0;
	}
	progress("Fashion-MNIST through tapu-run, device and CPU reference");
	dev = fmnist_rate(model, NULL);
	cpu = fmnist_rate(model, "--reference-only");
	if (dev < 0 || cpu < 0) {
		fprintf(stderr, "%s: tapu-run --fmnist %s failed; no Fashion-MNIST"
			" rows\n", prog, fmnist_dir);
		return 0;
	}
	r = row_add("Fashion-MNIST images/s, device");
	r->rate = dev;
	r->own_ratio = true;
	snprintf(r->notes, sizeof(r->notes), "end to end, batch 500; %.2fx the"
		 " CPU path", dev / cpu);
	r = row_add("Fashion-MNIST images/s, CPU reference");
	r->rate = cpu;
	r->own_ratio = true;
	snprintf(r->notes, sizeof(r->notes), "libtapu-onnx on this CPU");
	return 0;
}

/* ---- main ---- */

static int usage(bool full)
{
	fprintf(full ? stdout : stderr, "usage: %s [-d DEVICE] [-t SECONDS]"
		" [-c MAX_CLIENTS] [-q DEPTH] [-n ITERATIONS] [-f DIR] [-h|--help]\n",
		prog);
	if (!full)
		return 2;
	printf("Benchmark a TAPU device beside the bare-ioctl floor, in one run:\n"
		"DRM_IOCTL_VERSION round trip and cross-thread wake of a sleeping\n"
		"thread (pipe + poll, syncobj transfer -> SYNCOBJ_WAIT), and U, two\n"
		"bare ioctls and the pipe wake: the least an empty job can take;\n"
		"submit+wait round trip of an empty (NOP) job, also over U, and of\n"
		"a small network (28x28x1 int8 -> CONV2D 3x3x8 -> RELU -> MAXPOOL\n"
		"2x2 -> FC 10, checked against a CPU reference); the SUBMIT ioctl\n"
		"of a NOP job that waits for a net job, so cannot start within\n"
		"it; BO\n"
		"create+mmap+close rate; the SUBMIT ioctl of an empty job on one\n"
		"BO of 4 KiB and of 256 MiB, mmapped and not, and on 1 to 64 BOs\n"
		"and in-syncs; each op's rate on a core beside a C loop; jobs/s\n"
		"with 1..MAX_CLIENTS clients (threads, each with its own file) one\n"
		"job at a time and DEPTH jobs in flight, with the share of time the\n"
		"cores they can use sat idle, the idle time per job, each\n"
		"client's share of the jobs and, where debugfs is readable, each\n"
		"core's idle share; NOP jobs/s from 1, 4, 16 and 64 files\n"
		"against the best of them, each beside the floor of as many pairs\n"
		"of threads echoing bytes through pipes; the Fashion-MNIST test set\n"
		"through tapu-run on the device and on the CPU, end to end (if DIR\n"
		"holds fmnist_int8.onnx and the test set); the floors again.\n"
		"Results are also given as ratios to the floor: absolute times of\n"
		"an emulator only compare within a run.\n"
		"  -d DEVICE       accel device node (default %s)\n"
		"  -t SECONDS      time per measurement (default %g)\n"
		"  -c MAX_CLIENTS  largest number of clients (default %d, max %d)\n"
		"  -q DEPTH        jobs in flight per pipelined client (default %d)\n"
		"  -n ITERATIONS   samples per latency measurement instead of -t\n"
		"  -f DIR          the Fashion-MNIST model and test set (default %s)\n"
		"  -h              this help\n"
		"Progress goes to stderr, the table to stdout. Exit status: 0 done,\n"
		"1 a device, ioctl, job or result error, 2 bad usage.\n",
		path, secs, max_clients, MAX_CLIENTS, depth, fmnist_dir);
	return 0;
}

static bool arg_num(const char *s, double min, double max, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return !errno && end != s && !*end && *v >= min && *v <= max;
}

/* The first character of sysfs file @path, or 0 when it cannot be read. */
static char sysfs_char(const char *path)
{
	char c = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, " %c", &c) != 1)
			c = 0;
		fclose(f);
	}
	return c;
}

/*
 * Allocator debugging (slub_debug, KFENCE sampling) slows every allocation
 * and so shifts the floors unevenly against the jobs: say so beside the
 * table. Read from the kernel's state, not from its command line.
 */
static const char *allocator_debug(void)
{
	static const char *const slab[] = {
		"sanity_checks", "red_zone", "poison", "store_user",
	};
	char path[96], c = sysfs_char("/sys/module/kfence/parameters/sample_interval");
	bool slub = false;

	for (unsigned int i = 0; i < sizeof(slab) / sizeof(slab[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/slab/kmalloc-64/%s",
			 slab[i]);
		slub |= sysfs_char(path) == '1';
	}
	if (slub && c && c != '0')
		return "slub_debug and KFENCE sampling";
	if (slub)
		return "slub_debug";
	return c && c != '0' ? "KFENCE sampling" : NULL;
}

int main(int argc, char **argv)
{
	struct drm_tapu_device_info dev = { 0 };
	struct drm_tapu_limits lim = { 0 };
	struct drm_tapu_query q = { DRM_TAPU_QUERY_DEVICE, sizeof(dev),
				    (uintptr_t)&dev, 0, 0 };
	const char *debug;
	int opt, fd, err;
	double v;

	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};

	while ((opt = getopt_long(argc, argv, "d:t:c:q:n:f:h", lopts, NULL)) != -1) {
		if (opt == 'h')
			return usage(true);
		if (opt == 'd')
			path = optarg;
		else if (opt == 'f')
			fmnist_dir = optarg;
		else if (opt == 't' && arg_num(optarg, 0.01, 3600, &v))
			secs = v;
		else if (opt == 'c' && arg_num(optarg, 1, MAX_CLIENTS, &v) && v == (int)v)
			max_clients = v;
		else if (opt == 'q' && arg_num(optarg, 1, MAX_DEPTH, &v) && v == (int)v)
			depth = v;
		else if (opt == 'n' && arg_num(optarg, 1, 1e8, &v) && v == (long)v)
			iters = v;
		else {
			if (opt != '?')
				fprintf(stderr, "%s: bad -%c value '%s'\n", prog, opt, optarg);
			return usage(false);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		return usage(false);
	}

	fd = dev_open();
	if (fd < 0)
		return 1;
	err = xioctl(fd, DRM_IOCTL_TAPU_QUERY, &q, "QUERY");
	q = (struct drm_tapu_query){ DRM_TAPU_QUERY_LIMITS, sizeof(lim),
				     (uintptr_t)&lim, 0, 0 };
	err = err || xioctl(fd, DRM_IOCTL_TAPU_QUERY, &q, "QUERY");
	num_cores = err ? 1 : (int)dev.num_cores;
	cores_find(fd);
	if (!err && (uint32_t)depth > lim.max_jobs_in_flight) {
		fprintf(stderr, "%s: -q %d above the device's %u jobs in flight\n",
			prog, depth, lim.max_jobs_in_flight);
		depth = lim.max_jobs_in_flight;
	}
	if (!err)
		printf("%s: %s, backend %s, %u cores, cycle clock %llu Hz; %g s per"
		       " measurement%s\n", prog, path, dev.backend, dev.num_cores,
		       (unsigned long long)dev.cycle_clock_hz, secs,
		       iters ? " (rates), fixed sample counts (latencies)" : "");
	debug = err ? NULL : allocator_debug();
	if (debug) {
		fprintf(stderr, "%s: warning: %s on: the floors shift unevenly\n",
			prog, debug);
		printf("%s: warning: the kernel runs with %s on, which slows every"
		       " allocation: the ratios are not comparable\n", prog, debug);
	}
	err = err || floor_version(fd) || floor_wake(fd, false) ||
	      floor_wake(fd, true) || floor_u() || bench_rt(fd, NOP) ||
	      bench_rt(fd, NET) || bench_submit_held(fd) ||
	      bench_bo(fd) || bench_submit_size(fd) || bench_submit_count(fd) ||
	      bench_ops(fd, lim.max_stream_work);
	for (int kind = NOP; kind <= NET; kind++)
		for (int dep = 1; dep <= depth; dep = dep < depth ? depth : dep + 1)
			for (int n = 1; n <= max_clients && !err; n++)
				err = bench_clients(kind, n, dep);
	err = err || bench_files() || bench_fmnist();
	floors_again = true;
	err = err || floor_version(fd) || floor_wake(fd, false) ||
	      floor_wake(fd, true);
	close(fd);
	if (nrows)
		print_table();
	if (err)
		fprintf(stderr, "%s: failed; the table holds what was measured\n",
			prog);
	return err ? 1 : 0;
}
