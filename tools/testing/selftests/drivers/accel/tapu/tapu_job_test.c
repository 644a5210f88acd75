// SPDX-License-Identifier: GPL-2.0-only
/*
 * TAPU job selftests: ordering (explicit and implicit sync, many jobs over
 * the cores), lifetime (close, unmap, fork, kill mid-job), simulated faults,
 * concurrency, fdinfo and debugfs.
 */
#include <linux/sync_file.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tapu_job_util.h"

#define MAX_CORES	8

/* ---- fdinfo and debugfs parsing ---- */

static int fdinfo_read(int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return -errno;
	n = read(f, buf, len - 1);
	close(f);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* Value of "@key:" in the fdinfo of @fd (memory in bytes); -1 if absent. */
static long long fdinfo_val(int fd, const char *key)
{
	size_t kl = strlen(key);
	char buf[4096], *p, *end;
	long long v;

	if (fdinfo_read(fd, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) || p[kl] != ':')
			continue;
		v = strtoll(p + kl + 1, &end, 10);
		if (!strncmp(end, " KiB", 4))
			v <<= 10;
		else if (!strncmp(end, " MiB", 4))
			v <<= 20;
		else if (!strncmp(end, " GiB", 4))
			v <<= 30;
		return v;
	}
	return -1;
}

static unsigned long long client_id(int fd)
{
	long long v = fdinfo_val(fd, "drm-client-id");

	return v < 0 ? 0 : v;
}

/* Whether debugfs @file lists job @job (any job for ~0) of @client. */
static bool list_has(const char *file, unsigned long long client,
		     uint64_t job)
{
	static char buf[65536];
	char *line, *save, *p;

	if (tapu_debugfs_read(file, buf, sizeof(buf)) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long c, j;

		p = strstr(line, "client=");
		if (p && sscanf(p, "client=%llu job=%llu", &c, &j) == 2 &&
		    c == client && (job == ~0ULL || j == job))
			return true;
	}
	return false;
}

/* Polls up to 10 s until no job of @client is pending or scheduled. */
static bool client_gone(unsigned long long client)
{
	int64_t end = tapu_deadline_ms(TJ_WAIT_MS);

	do {
		if (!list_has("pending", client, ~0ULL) &&
		    !list_has("scheduled", client, ~0ULL))
			return true;
		usleep(10000);
	} while (tapu_now_ns() < end);
	return false;
}

/*
 * The core of scheduled job @job of @client, polling up to 10 s for it to
 * be scheduled; -1 if it is not.
 */
static int scheduled_core(unsigned long long client, uint64_t job)
{
	int64_t end = tapu_deadline_ms(TJ_WAIT_MS);
	static char buf[65536];
	char *line, *save;

	do {
		if (tapu_debugfs_read("scheduled", buf, sizeof(buf)) < 0)
			return -1;
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			unsigned long long c, j;
			unsigned int core;

			if (sscanf(line, "core=%u client=%llu job=%llu", &core,
				   &c, &j) == 3 && c == client && j == job)
				return core;
		}
		usleep(1000);
	} while (tapu_now_ns() < end);
	return -1;
}

/*
 * Whether job @b of @client waits for job @a, on a core: pending, or
 * queued behind @a on its core.
 */
static bool waits_behind(unsigned long long client, uint64_t a, uint64_t b)
{
	int core;

	if (list_has("pending", client, b))
		return true;
	core = scheduled_core(client, a);
	return core >= 0 && core == scheduled_core(client, b);
}

struct core {
	unsigned int idx;
	char state[16];
	unsigned long long jobs, resets, busy_ns;
	int load;
};

/* Parses debugfs "cores"; returns the number of cores or -1. */
static int cores_read(struct core *c)
{
	char buf[4096], *line, *save;
	int n = 0;

	if (tapu_debugfs_read("cores", buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line && n < MAX_CORES;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line,
			   "core%u: state=%15[a-z] jobs=%llu resets=%llu load=%d busy_ns=%llu",
			   &c[n].idx, c[n].state, &c[n].jobs, &c[n].resets,
			   &c[n].load, &c[n].busy_ns) == 6)
			n++;
	return n;
}

enum core_count { CORE_JOBS, CORE_RESETS, CORE_BUSY_NS };

static unsigned long long cores_sum(enum core_count what)
{
	struct core c[MAX_CORES];
	unsigned long long sum = 0;
	int n = cores_read(c);

	for (int i = 0; i < n; i++)
		sum += what == CORE_RESETS ? c[i].resets :
		       what == CORE_BUSY_NS ? c[i].busy_ns : c[i].jobs;
	return sum;
}

/* Whether every core's scheduler load is back to its value in @c0. */
static bool loads_equal(const struct core *c0, int n)
{
	struct core c[MAX_CORES];

	if (cores_read(c) != n)
		return false;
	for (int i = 0; i < n; i++)
		if (c[i].load != c0[i].load)
			return false;
	return true;
}

static bool any_core_busy(void)
{
	struct core c[MAX_CORES];
	int n = cores_read(c);

	for (int i = 0; i < n; i++)
		if (!strcmp(c[i].state, "busy"))
			return true;
	return false;
}

/* ---- fixture ---- */

FIXTURE(job) {
	int fd;
	struct drm_tapu_limits lim;
	unsigned long long client;
};

/* The fixture's type, for helpers that take it. */
#define JOB_DATA FIXTURE_DATA(job)

FIXTURE_SETUP(job)
{
	/* No job held by a test that was killed before its teardown. */
	tj_release();
	self->fd = tapu_open();
	if (self->fd < 0)
		SKIP(return, "%s: %s", TAPU_DEV, strerror(errno));
	ASSERT_EQ(0, tj_query(self->fd, DRM_TAPU_QUERY_LIMITS, &self->lim,
			      sizeof(self->lim)));
	self->client = client_id(self->fd);
}

FIXTURE_TEARDOWN(job)
{
	char buf[32];

	if (self->fd < 0)
		return;
	/* Never leave a held job or an injected fault to the next test. */
	tj_release();
	if (tapu_debugfs_read("fault_inject", buf, sizeof(buf)) > 0 &&
	    strncmp(buf, "none", 4))
		tj_run_one(self->fd);
	close(self->fd);
}

/* ---- Ordering ---- */

/*
 * An in-syncobj must carry a fence at SUBMIT (the kernel does not wait for
 * one to be attached); one signalled from userspace does.
 */
static void user_gate(struct __test_metadata *_metadata,
		      JOB_DATA *self, uint64_t point)
{
	struct drm_tapu_sync in = { .point = point };
	int h = tj_syncobj_new(self->fd);
	struct tj_job b;

	ASSERT_LT(0, h);
	in.handle = h;
	ASSERT_EQ(0, tj_job_init(self->fd, &b, 4096, 30));
	ASSERT_EQ(-EINVAL, tj_job_submit_sync(&b, &in, 1, 0, 0));
	if (point) {
		ASSERT_EQ(0, tj_syncobj_signal(self->fd, h, point - 1));
		ASSERT_EQ(-EINVAL, tj_job_submit_sync(&b, &in, 1, 0, 0));
	}
	ASSERT_EQ(0, tj_syncobj_signal(self->fd, h, point));
	ASSERT_EQ(0, tj_job_submit_sync(&b, &in, 1, 0, 0));
	ASSERT_EQ(0, tj_job_finish(&b, NULL));
	EXPECT_FALSE(list_has("pending", self->client, b.id));
	tj_job_fini(&b);
	tj_syncobj_free(self->fd, h);
}

TEST_F(job, in_sync_binary_userspace)
{
	user_gate(_metadata, self, 0);
}

TEST_F(job, in_sync_timeline_userspace)
{
	user_gate(_metadata, self, 5);
}

/* Job B waits for the out-syncobj of job A, held on its core (no shared BO). */
static void job_gate(struct __test_metadata *_metadata,
		     JOB_DATA *self, uint64_t point)
{
	struct drm_tapu_sync in = { .point = point };
	int h = tj_syncobj_new(self->fd);
	struct tj_job a, b;

	ASSERT_LT(0, h);
	in.handle = h;
	ASSERT_EQ(0, tj_job_init(self->fd, &a, 4096, 31));
	ASSERT_EQ(0, tj_job_init(self->fd, &b, 4096, 32));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit_sync(&a, NULL, 0, h, point));
	ASSERT_EQ(0, tj_job_submit_sync(&b, &in, 1, 0, 0));
	ASSERT_EQ(0, tj_stall_started());
	EXPECT_TRUE(waits_behind(self->client, a.id, b.id));
	EXPECT_EQ(-ETIME, tj_poll(self->fd, b.id, NULL));
	EXPECT_EQ(-ETIME, tj_poll(self->fd, a.id, NULL));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tj_job_finish(&b, NULL));
	/* B ran after A completed: A's output is already there. */
	EXPECT_EQ(0, tj_check(a.out.map, a.n, a.seed));
	ASSERT_EQ(0, tj_job_finish(&a, NULL));
	tj_job_fini(&a);
	tj_job_fini(&b);
	tj_syncobj_free(self->fd, h);
}

TEST_F(job, in_sync_binary_job)
{
	job_gate(_metadata, self, 0);
}

TEST_F(job, in_sync_timeline_job)
{
	job_gate(_metadata, self, 2);
}

static void out_sync(struct __test_metadata *_metadata,
		     JOB_DATA *self, uint64_t point)
{
	int h = tj_syncobj_new(self->fd);
	struct tj_job a;

	ASSERT_LT(0, h);
	ASSERT_EQ(0, tj_job_init(self->fd, &a, 4096, 33));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit_sync(&a, NULL, 0, h, point));
	EXPECT_EQ(-ETIME, tj_syncobj_wait(self->fd, h, point, 0));
	EXPECT_EQ(-ETIME, tj_poll(self->fd, a.id, NULL));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tj_syncobj_wait(self->fd, h, point,
				     tapu_deadline_ms(TJ_WAIT_MS)));
	/* Signalled on completion: the results are there. */
	EXPECT_EQ(0, tj_check(a.out.map, a.n, a.seed));
	if (point) {
		uint32_t handle = h;
		uint64_t v = 0;
		struct drm_syncobj_timeline_array q = {
			.handles = (uintptr_t)&handle,
			.points = (uintptr_t)&v, .count_handles = 1,
		};

		ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_SYNCOBJ_QUERY, &q));
		EXPECT_EQ(point, v);
	}
	ASSERT_EQ(0, tj_job_finish(&a, NULL));
	tj_job_fini(&a);
	tj_syncobj_free(self->fd, h);
}

TEST_F(job, out_sync_binary)
{
	out_sync(_metadata, self, 0);
}

TEST_F(job, out_sync_timeline)
{
	out_sync(_metadata, self, 7);
}

/* Imports BO @handle of @from into @to. */
static int share(int from, uint32_t handle, int to)
{
	int dmabuf = tj_prime_export(from, handle), h;

	if (dmabuf < 0)
		return dmabuf;
	h = tj_prime_import(to, dmabuf);
	close(dmabuf);
	return h;
}

/*
 * Implicit sync on a shared BO, no syncobj: a writer held on its core then
 * a reader (@war false), or a held reader then a writer (@war true). The
 * second job comes from another file, whose scheduler entity is free to use
 * the idle core: only the BO's reservation makes it wait.
 */
static void implicit(struct __test_metadata *_metadata,
		     JOB_DATA *self, bool war)
{
	int fd2 = tapu_open(), h;
	struct tj_job s, f;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tj_job_init(self->fd, &s, 4096, 40));
	ASSERT_EQ(0, tj_job_init(fd2, &f, 4096, 41));
	if (war) {
		/* s copies f.out (pattern 42) at its end; f overwrites it. */
		tj_fill(f.out.map, f.n, 42);
		h = share(fd2, f.out.handle, self->fd);
		ASSERT_LT(0, h);
		s.in_h = h;
		s.seed = 42;
	} else {
		/* f copies what s writes. */
		h = share(self->fd, s.out.handle, fd2);
		ASSERT_LT(0, h);
		f.in_h = h;
		f.seed = s.seed;
	}
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&s));
	ASSERT_EQ(0, tj_stall_started());
	ASSERT_EQ(0, tj_job_submit(&f));
	EXPECT_TRUE(list_has("pending", client_id(fd2), f.id));
	EXPECT_EQ(-ETIME, tj_poll(fd2, f.id, NULL));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tj_job_finish(&f, NULL));
	ASSERT_EQ(0, tj_job_finish(&s, NULL));
	tj_job_fini(&s);
	tj_job_fini(&f);
	close(fd2);
}

TEST_F(job, implicit_sync_read_after_write)
{
	implicit(_metadata, self, false);
}

TEST_F(job, implicit_sync_write_after_read)
{
	implicit(_metadata, self, true);
}

TEST_F_TIMEOUT(job, many_jobs_both_cores, 300)
{
	enum { FDS = 4, PER = 50 };
	uint32_t depth = self->lim.max_jobs_in_flight;
	struct core c0[MAX_CORES], c1[MAX_CORES];
	struct tj_job *jobs = calloc(FDS * PER, sizeof(*jobs));
	int fds[FDS], n;

	ASSERT_NE(NULL, jobs);
	n = cores_read(c0);
	ASSERT_EQ(2, n);
	for (int f = 0; f < FDS; f++) {
		fds[f] = tapu_open();
		ASSERT_LE(0, fds[f]);
	}
	/* Four files, so four scheduler entities spread over the cores. */
	for (uint32_t i = 0; i < PER; i++) {
		for (int f = 0; f < FDS; f++) {
			struct tj_job *j = &jobs[i * FDS + f];

			if (i >= depth)
				ASSERT_EQ(0, tj_job_finish(j - depth * FDS,
							   NULL));
			ASSERT_EQ(0, tj_job_init(fds[f], j, 1024, i * FDS + f));
			ASSERT_EQ(0, tj_job_submit(j));
		}
	}
	for (int k = 0; k < FDS * PER; k++) {
		EXPECT_EQ(0, tj_job_finish(&jobs[k], NULL)) TH_LOG("job %d", k);
		tj_job_fini(&jobs[k]);
	}
	for (int f = 0; f < FDS; f++)
		close(fds[f]);
	free(jobs);
	ASSERT_EQ(n, cores_read(c1));
	for (int k = 0; k < n; k++) {
		/* TH_LOG() belongs to the EXPECT: the braces are needed. */
		bool ran = c0[k].jobs < c1[k].jobs;

		EXPECT_TRUE(ran) TH_LOG("core %d ran no job", k);
	}
	EXPECT_LE(c0[0].jobs + c0[1].jobs + FDS * PER,
		  c1[0].jobs + c1[1].jobs);
}

/* ---- Lifetime ---- */

/*
 * Closing a file with a job on a core and seven queued, their BOs still
 * mapped: a mapping holds the BO's memory, not the file, so the close
 * cancels the queued jobs (they never write their outputs), while the
 * running one keeps its core and memory until it ends.
 */
TEST_F_TIMEOUT(job, close_with_jobs_pending_running, 120)
{
	int fd2 = tapu_open(), h, fd3;
	unsigned long long c2;
	struct drm_tapu_sync in = { 0 };
	bool on_core[8] = { 0 };
	struct tj_job j[8];

	ASSERT_LE(0, fd2);
	c2 = client_id(fd2);
	h = tj_syncobj_new(fd2);
	ASSERT_LT(0, h);
	in.handle = h;
	/* The first job held on a core, four jobs waiting for it. */
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	for (int k = 0; k < 8; k++) {
		ASSERT_EQ(0, tj_job_init(fd2, &j[k], 4096, 70 + k));
		ASSERT_EQ(0, k ? tj_job_submit_sync(&j[k], &in, k < 4 ? 0 : 1,
						    0, 0) :
				 tj_job_submit_sync(&j[k], NULL, 0, h, 0));
		if (!k)
			ASSERT_EQ(0, tj_stall_started());
	}
	close(fd2);
	/* The mappings outlive the file. */
	memset(j[0].out.map, 0xff, 64);
	/*
	 * The running job stays on its core: its memory is still in use; so
	 * does one the core queued behind it, which then runs.
	 */
	EXPECT_TRUE(list_has("scheduled", c2, j[0].id));
	for (int k = 1; k < 8; k++)
		on_core[k] = list_has("scheduled", c2, j[k].id);
	ASSERT_EQ(0, tj_release());
	EXPECT_TRUE(client_gone(c2));
	for (int k = 1; k < 8; k++) {
		if (on_core[k]) {
			EXPECT_EQ(0, tj_check(j[k].out.map, j[k].n, j[k].seed));
			EXPECT_GT(4, k);
			continue;
		}
		EXPECT_TRUE(tj_zero(j[k].out.map, j[k].n)) {
			TH_LOG("queued job %d ran after the close", k);
		}
	}
	for (int k = 0; k < 8; k++) {
		j[k].fd = -1;
		tj_job_fini(&j[k]);
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
	fd3 = tapu_open();
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, tj_run_one(fd3));
	close(fd3);
}

TEST_F(job, unmap_close_bos_mid_job)
{
	struct drm_tapu_wait_job w;
	int dmabuf, h;
	struct tj_job j;
	uint64_t size;
	uint8_t *map;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 80));
	dmabuf = tj_prime_export(self->fd, j.out.handle);
	ASSERT_LE(0, dmabuf);
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tj_stall_started());
	/* Unmap and close every BO and the stream while the job runs. */
	tj_job_fini(&j);
	EXPECT_EQ(-ETIME, tj_poll(self->fd, j.id, NULL));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tapu_wait(self->fd, j.id, TJ_WAIT_MS, &w));
	EXPECT_EQ((uint32_t)DRM_TAPU_JOB_DONE, w.status);
	EXPECT_EQ(0, w.error);
	/* The output BO, kept alive by its dma-buf, holds the result. */
	h = tj_prime_import(self->fd, dmabuf);
	ASSERT_LT(0, h);
	close(dmabuf);
	map = tj_map_handle(self->fd, h, &size);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(0, tj_check(map, j.n, j.seed));
	munmap(map, size);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

static void wait_child(struct __test_metadata *_metadata, pid_t pid,
		       int sig)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(sig ? WIFSIGNALED(status) && WTERMSIG(status) == sig :
			  WIFEXITED(status) && !WEXITSTATUS(status));
}

TEST_F(job, fork_job_in_flight)
{
	struct tj_job j;
	pid_t pid;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 81));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&j));
	/* A child that exits at once, then one that waits on the same file. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	wait_child(_metadata, pid, 0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(tj_job_finish(&j, NULL) ? 1 : 0);
	EXPECT_EQ(-ETIME, tj_poll(self->fd, j.id, NULL));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tj_job_finish(&j, NULL));
	wait_child(_metadata, pid, 0);
	tj_job_fini(&j);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(job, kill_child_mid_job)
{
	unsigned long long c = 0;
	int p[2];
	pid_t pid;

	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = tapu_open();
		struct tj_job j[4];

		c = client_id(fd);
		for (int k = 0; k < 4; k++)
			if (tj_job_init(fd, &j[k], 4096, 90 + k) ||
			    tj_job_submit(&j[k]))
				_exit(1);
		if (write(p[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ((ssize_t)sizeof(c), read(p[0], &c, sizeof(c)));
	close(p[0]);
	ASSERT_EQ(0, tj_stall_started());
	kill(pid, SIGKILL);
	wait_child(_metadata, pid, SIGKILL);
	/* Its running job is still on the core. */
	EXPECT_TRUE(list_has("scheduled", c, ~0ULL));
	ASSERT_EQ(0, tj_release());
	EXPECT_TRUE(client_gone(c));
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/*
 * Files closed with jobs queued, from several threads at once, next to
 * files that wait for their jobs: closing cancels queued jobs while the
 * scheduler may be picking the same entity.
 */
struct close_stress {
	unsigned int seed;
	bool waiter;
	int64_t end;
	unsigned long files, jobs, errors;
};

static void *close_stress_thread(void *p)
{
	struct close_stress *cs = p;

	while (tapu_now_ns() < cs->end) {
		int fd = tapu_open(), h, n, err = 0;
		struct drm_tapu_sync in = { 0 };
		struct tj_job j;

		if (fd < 0 || tj_job_init(fd, &j, 4096, cs->seed)) {
			cs->errors++;
			break;
		}
		h = tj_syncobj_new(fd);
		in.handle = h;
		n = cs->waiter ? 4 : 1 + rand_r(&cs->seed) % 40;
		for (int k = 0; k < n && !err; k++) {
			/* Every other job chained through one binary syncobj. */
			bool chain = h > 0 && (k & 1);

			err = tj_job_submit_sync(&j, chain ? &in : NULL,
						 chain ? 1 : 0, h > 0 ? h : 0, 0);
			cs->jobs += !err;
		}
		if (err || (cs->waiter && tj_job_finish(&j, NULL)))
			cs->errors++;
		j.fd = -1;
		tj_job_fini(&j);
		close(fd);
		cs->files++;
	}
	return NULL;
}

/* TAPU_CLOSE_STRESS_SECONDS (default 8) makes it a soak test. */
TEST_F_TIMEOUT(job, close_busy_stress, 3600)
{
	enum { CLOSERS = 4, WAITERS = 2 };
	const char *env = getenv("TAPU_CLOSE_STRESS_SECONDS");
	int seconds = env ? atoi(env) : 8;
	struct close_stress cs[CLOSERS + WAITERS];
	pthread_t t[CLOSERS + WAITERS];
	unsigned long files = 0, jobs = 0;
	struct core c0[MAX_CORES];
	int n = cores_read(c0);

	ASSERT_LE(1, n);
	for (int i = 0; i < CLOSERS + WAITERS; i++) {
		cs[i] = (struct close_stress){
			.seed = 1000 + i, .waiter = i >= CLOSERS,
			.end = tapu_deadline_ms(seconds * 1000LL),
		};
		ASSERT_EQ(0, pthread_create(&t[i], NULL, close_stress_thread,
					    &cs[i]));
	}
	for (int i = 0; i < CLOSERS + WAITERS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0ul, cs[i].errors) TH_LOG("thread %d", i);
		files += cs[i].files;
		jobs += cs[i].jobs;
	}
	TH_LOG("%lu files closed, %lu jobs submitted", files, jobs);
	EXPECT_LT(0ul, files);
	/* Once the closed files' jobs are gone, the loads are what they were. */
	for (int t = 0; t < 1000 && !loads_equal(c0, n); t++)
		usleep(10000);
	EXPECT_TRUE(loads_equal(c0, n));
	/* The device still runs jobs, on every core. */
	for (int k = 0; k < 8; k++) {
		int fd = tapu_open();

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, tj_run_one(fd));
		close(fd);
	}
}

/*
 * Jobs a closed file had queued give their core's load back: a job held on
 * one core then leaves the other to a new file.
 */
TEST_F_TIMEOUT(job, close_queued_keeps_balance, 120)
{
	int fd2 = tapu_open(), fd3 = tapu_open(), fd4 = tapu_open(), n;
	struct core c0[MAX_CORES], c1[MAX_CORES];
	unsigned long long c2;
	struct tj_job a, q, b, c;

	n = cores_read(c0);
	ASSERT_LE(2, n);
	ASSERT_LE(0, fd2);
	ASSERT_LE(0, fd3);
	ASSERT_LE(0, fd4);
	c2 = client_id(fd2);
	ASSERT_EQ(0, tj_job_init(fd2, &a, 4096, 110));
	ASSERT_EQ(0, tj_job_init(fd2, &q, 4096, 111));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&a));
	ASSERT_EQ(0, tj_stall_started());
	for (int k = 0; k < 200; k++)
		ASSERT_EQ(0, tj_job_submit(&q));
	/* Unmapped, so that close() releases the file and cancels. */
	a.fd = -1;
	q.fd = -1;
	tj_job_fini(&a);
	tj_job_fini(&q);
	close(fd2);
	ASSERT_EQ(0, tj_release());
	EXPECT_TRUE(client_gone(c2));
	/* The scheduler load is what it was before the file. */
	ASSERT_EQ(n, cores_read(c1));
	for (int k = 0; k < n; k++) {
		int before = c0[k].load;

		EXPECT_EQ(before, c1[k].load) TH_LOG("core %d", k);
	}

	ASSERT_EQ(0, tj_job_init(fd3, &b, 4096, 112));
	ASSERT_EQ(0, tj_job_init(fd4, &c, 4096, 113));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&b));
	ASSERT_EQ(0, tj_stall_started());
	ASSERT_EQ(0, tj_job_submit(&c));
	/* Not queued behind the held job: it has the idle core. */
	EXPECT_EQ(0, tj_job_finish(&c, NULL));
	ASSERT_EQ(0, tj_release());
	EXPECT_EQ(0, tj_job_finish(&b, NULL));
	tj_job_fini(&b);
	tj_job_fini(&c);
	close(fd3);
	close(fd4);
}

/*
 * Two threads submit on one file at once: a writer of X and a reader of X.
 * Whichever SUBMIT the kernel orders first (job ids follow submission),
 * the other job sees it: the reader copies the writer's data or the data
 * before it, and BO_WAIT(X) does not return before the writer is done. A
 * job held on one core by a third file makes the entity's core choice
 * matter.
 */
struct order_race {
	pthread_barrier_t go;
	struct tj_job *job;
	int ret;
	bool stop;
};

static void *order_race_thread(void *p)
{
	struct order_race *o = p;

	for (;;) {
		pthread_barrier_wait(&o->go);
		if (o->stop)
			return NULL;
		o->ret = tj_job_submit(o->job);
		pthread_barrier_wait(&o->go);
	}
}

TEST_F_TIMEOUT(job, submit_two_threads_order, 120)
{
	struct drm_tapu_bo_wait bw = { 0 };
	int fd3 = tapu_open(), before = 0, after = 0, bad = 0;
	struct order_race o = { 0 };
	int64_t end = tapu_deadline_ms(8000);
	struct tj_job w, r, hold;
	uint32_t prev = 0;
	pthread_t t;
	int k;

	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, tj_job_init(self->fd, &w, 4096, 1));
	ASSERT_EQ(0, tj_job_init(self->fd, &r, 4096, 0));
	/* r copies w.out, which w writes. */
	r.in_h = w.out.handle;
	bw.handle = w.out.handle;
	ASSERT_EQ(0, tj_job_init(fd3, &hold, 4096, 2));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&hold));
	ASSERT_EQ(0, tj_stall_started());

	o.job = &r;
	ASSERT_EQ(0, pthread_barrier_init(&o.go, NULL, 2));
	ASSERT_EQ(0, pthread_create(&t, NULL, order_race_thread, &o));
	for (k = 0; k < 3000 && tapu_now_ns() < end && !bad; k++) {
		uint32_t seed = 1000 + k;
		int ret;

		tj_fill(w.in.map, w.n, seed);
		memset(r.out.map, 0, r.n);
		pthread_barrier_wait(&o.go);
		ret = tj_job_submit(&w);
		pthread_barrier_wait(&o.go);
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, o.ret);
		bw.timeout_ns = tapu_deadline_ms(TJ_WAIT_MS);
		ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_WAIT, &bw));
		/* X is idle: its writer must have finished. */
		if (tj_poll(self->fd, w.id, NULL)) {
			TH_LOG("iteration %d: BO idle, writer %llu running",
			       k, (unsigned long long)w.id);
			bad++;
		}
		ASSERT_EQ(0, tapu_wait(self->fd, w.id, TJ_WAIT_MS, NULL));
		ASSERT_EQ(0, tapu_wait(self->fd, r.id, TJ_WAIT_MS, NULL));
		if (r.id > w.id)
			after++;
		else
			before++;
		if (tj_check(r.out.map, r.n, r.id > w.id ? seed : prev) &&
		    (k || r.id > w.id)) {
			TH_LOG("iteration %d: reader %llu, writer %llu: wrong data",
			       k, (unsigned long long)r.id,
			       (unsigned long long)w.id);
			bad++;
		}
		prev = seed;
	}
	o.stop = true;
	pthread_barrier_wait(&o.go);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&o.go);
	TH_LOG("%d rounds: reader after the writer %d, before %d", k, after,
	       before);
	EXPECT_EQ(0, bad);
	ASSERT_EQ(0, tj_release());
	EXPECT_EQ(0, tj_job_finish(&hold, NULL));
	tj_job_fini(&hold);
	tj_job_fini(&w);
	tj_job_fini(&r);
	close(fd3);
	/* Both cores still take jobs. */
	for (k = 0; k < 4; k++)
		ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- Faults (simulated NPU) ---- */

/* The simulated NPU's fault injection is there. */
static bool has_faults(void)
{
	char b[32];

	return tapu_debugfs_read("fault_inject", b, sizeof(b)) >= 0;
}

/* Injects @what, runs a job that must end with @err, then a good one. */
static void fault(struct __test_metadata *_metadata, JOB_DATA *self,
		  const char *what, int err, struct drm_tapu_wait_job *w)
{
	char buf[32];
	struct tj_job j;

	ASSERT_LT(0, tapu_debugfs_read("fault_inject", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "none", 4));
	ASSERT_EQ(0, tapu_debugfs_write("fault_inject", what));
	ASSERT_LT(0, tapu_debugfs_read("fault_inject", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, what, strlen(what)));
	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 60));
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tapu_wait(self->fd, j.id, 30000, w));
	EXPECT_EQ((uint32_t)(err ? DRM_TAPU_JOB_FAILED : DRM_TAPU_JOB_DONE),
		  w->status);
	EXPECT_EQ(err, w->error);
	if (!err)
		EXPECT_EQ(0, tj_check(j.out.map, j.n, j.seed));
	ASSERT_LT(0, tapu_debugfs_read("fault_inject", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "none", 4));
	tj_job_fini(&j);
	/* Later jobs run normally, on either core. */
	for (int k = 0; k < 4; k++)
		ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F_TIMEOUT(job, fault_hang, 90)
{
	unsigned long long resets = cores_sum(CORE_RESETS);
	struct drm_tapu_wait_job w;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	fault(_metadata, self, "hang", -ETIMEDOUT, &w);
	EXPECT_LT(resets, cores_sum(CORE_RESETS));
}

TEST_F_TIMEOUT(job, fault_error, 90)
{
	struct drm_tapu_wait_job w;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	fault(_metadata, self, "error", -EIO, &w);
}

TEST_F_TIMEOUT(job, fault_drop_irq, 90)
{
	struct drm_tapu_wait_job w;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	fault(_metadata, self, "drop_irq", 0, &w);
}

TEST_F_TIMEOUT(job, fault_slow, 90)
{
	unsigned long long resets = cores_sum(CORE_RESETS);
	struct drm_tapu_wait_job w;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	fault(_metadata, self, "slow", 0, &w);
	/* Ran well past the timeout, yet neither failed nor reset. */
	EXPECT_LE(2ULL * self->lim.job_timeout_ms * 1000000, w.duration_ns);
	EXPECT_EQ(resets, cores_sum(CORE_RESETS));
}

/*
 * Faults on jobs nobody waits for through WAIT_JOB (which would hold a
 * reference): waits through BO_WAIT or the out-syncobj, then the result
 * from the file's ring. The reset counter rises by exactly one per hang.
 */
TEST_F_TIMEOUT(job, fault_loop_no_waiter, 180)
{
	unsigned long long resets = cores_sum(CORE_RESETS), hangs = 0;
	int h = tj_syncobj_new(self->fd);
	struct tj_job j;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_LT(0, h);
	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 130));
	for (int k = 0; k < 8; k++) {
		bool hang = k & 1;
		struct drm_tapu_bo_wait bw = {
			.handle = j.out.handle,
			.timeout_ns = tapu_deadline_ms(30000),
		};
		struct drm_tapu_wait_job w;

		tj_job_reset(&j, 131 + k);
		ASSERT_EQ(0, tapu_debugfs_write("fault_inject",
						hang ? "hang" : "drop_irq"));
		ASSERT_EQ(0, tj_job_submit_sync(&j, NULL, 0, h, 0));
		if (k & 2) {
			ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_BO_WAIT,
						&bw));
		} else {
			ASSERT_EQ(0, tj_syncobj_wait(self->fd, h, 0,
						     tapu_deadline_ms(30000)));
		}
		ASSERT_EQ(0, tj_poll(self->fd, j.id, &w));
		EXPECT_EQ(hang ? -ETIMEDOUT : 0, w.error) {
			TH_LOG("round %d", k);
		}
		if (!hang)
			EXPECT_EQ(0, tj_check(j.out.map, j.n, j.seed));
		hangs += hang;
	}
	EXPECT_EQ(resets + hangs, cores_sum(CORE_RESETS));
	tj_job_fini(&j);
	tj_syncobj_free(self->fd, h);
	for (int k = 0; k < 4; k++)
		ASSERT_EQ(0, tj_run_one(self->fd));
}

/*
 * A hang with other files' jobs queued on both cores: the hung job fails,
 * every other job succeeds, and there is exactly one reset.
 */
TEST_F_TIMEOUT(job, hang_with_queued_jobs, 120)
{
	enum { FILES = 4, PER = 3 };
	unsigned long long resets = cores_sum(CORE_RESETS);
	struct tj_job hung, jobs[FILES][PER];
	struct drm_tapu_wait_job w;
	int fds[FILES];

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_init(self->fd, &hung, 4096, 140));
	ASSERT_EQ(0, tapu_debugfs_write("fault_inject", "hang"));
	ASSERT_EQ(0, tj_job_submit(&hung));
	for (int f = 0; f < FILES; f++) {
		fds[f] = tapu_open();
		ASSERT_LE(0, fds[f]);
		for (int k = 0; k < PER; k++) {
			ASSERT_EQ(0, tj_job_init(fds[f], &jobs[f][k], 4096,
						 141 + f * PER + k));
			ASSERT_EQ(0, tj_job_submit(&jobs[f][k]));
		}
	}
	ASSERT_EQ(0, tapu_wait(self->fd, hung.id, 30000, &w));
	EXPECT_EQ(-ETIMEDOUT, w.error);
	for (int f = 0; f < FILES; f++) {
		for (int k = 0; k < PER; k++) {
			EXPECT_EQ(0, tj_job_finish(&jobs[f][k], NULL)) {
				TH_LOG("file %d job %d", f, k);
			}
			tj_job_fini(&jobs[f][k]);
		}
		close(fds[f]);
	}
	EXPECT_EQ(resets + 1, cores_sum(CORE_RESETS));
	tj_job_fini(&hung);
}

/*
 * A failed job fails the jobs that wait for it, with -ECANCELED and before
 * they reach a core: a reader of its output on the same file (implicit),
 * one on another file (implicit, through PRIME), a job on its out-syncobj
 * and one on a timeline point holding the same fence. The next writer of
 * the BO and its readers run normally.
 */
TEST_F_TIMEOUT(job, failed_dependency_fails_dependents, 90)
{
	int fd2 = tapu_open(), h = tj_syncobj_new(self->fd), x;
	int t = tj_syncobj_new(self->fd);
	struct drm_tapu_sync in = { 0 }, tin = { .point = 1 };
	struct drm_syncobj_transfer xfer = { .dst_point = 1 };
	struct tj_job w, r1, r2, s, st;
	struct drm_tapu_wait_job res;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_LE(0, fd2);
	ASSERT_LT(0, h);
	in.handle = h;
	ASSERT_EQ(0, tj_job_init(self->fd, &w, 4096, 150));
	ASSERT_EQ(0, tj_job_init(self->fd, &r1, 4096, 151));
	ASSERT_EQ(0, tj_job_init(fd2, &r2, 4096, 152));
	ASSERT_EQ(0, tj_job_init(self->fd, &s, 4096, 153));
	ASSERT_EQ(0, tj_job_init(self->fd, &st, 4096, 155));
	ASSERT_LT(0, t);
	r1.in_h = w.out.handle;
	x = share(self->fd, w.out.handle, fd2);
	ASSERT_LT(0, x);
	r2.in_h = x;

	ASSERT_EQ(0, tapu_debugfs_write("fault_inject", "hang"));
	ASSERT_EQ(0, tj_job_submit_sync(&w, NULL, 0, h, 0));
	ASSERT_EQ(0, tj_job_submit(&r1));
	ASSERT_EQ(0, tj_job_submit(&r2));
	ASSERT_EQ(0, tj_job_submit_sync(&s, &in, 1, 0, 0));
	/* The same fence as point 1 of a timeline: a chain node. */
	xfer.src_handle = h;
	xfer.dst_handle = t;
	ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &xfer));
	tin.handle = t;
	ASSERT_EQ(0, tj_job_submit_sync(&st, &tin, 1, 0, 0));

	ASSERT_EQ(0, tapu_wait(self->fd, w.id, 30000, &res));
	EXPECT_EQ(-ETIMEDOUT, res.error);
	ASSERT_EQ(0, tapu_wait(self->fd, r1.id, 30000, &res));
	EXPECT_EQ(-ECANCELED, res.error);
	ASSERT_EQ(0, tapu_wait(fd2, r2.id, 30000, &res));
	EXPECT_EQ(-ECANCELED, res.error);
	ASSERT_EQ(0, tapu_wait(self->fd, s.id, 30000, &res));
	EXPECT_EQ(-ECANCELED, res.error);
	ASSERT_EQ(0, tapu_wait(self->fd, st.id, 30000, &res));
	EXPECT_EQ(-ECANCELED, res.error);
	EXPECT_TRUE(tj_zero(st.out.map, st.n));
	EXPECT_TRUE(tj_zero(r1.out.map, r1.n));
	EXPECT_TRUE(tj_zero(r2.out.map, r2.n));
	EXPECT_TRUE(tj_zero(s.out.map, s.n));
	/* The BO is not poisoned: a new writer, then a reader, succeed. */
	tj_job_reset(&w, 154);
	ASSERT_EQ(0, tj_job_submit(&w));
	ASSERT_EQ(0, tj_job_finish(&w, NULL));
	r1.seed = w.seed;
	ASSERT_EQ(0, tj_job_submit(&r1));
	EXPECT_EQ(0, tj_job_finish(&r1, NULL));
	tj_job_fini(&w);
	tj_job_fini(&r1);
	tj_job_fini(&r2);
	tj_job_fini(&s);
	tj_job_fini(&st);
	tj_syncobj_free(self->fd, h);
	tj_syncobj_free(self->fd, t);
	close(fd2);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- Work per stream ---- */

/* One op of each kind of cost, its work set by @n, in 4 KiB BOs. */
enum { WK_CONV, WK_DEPTHWISE, WK_MAXPOOL, WK_ADD, WK_COUNT };

static const char *const wk_names[WK_COUNT] = {
	"CONV2D", "DEPTHWISE_CONV2D", "MAXPOOL", "ADD",
};

/* @n / @d, rounded up or down. */
static uint64_t wk_div(uint64_t n, uint64_t d, bool up)
{
	return (n + (up ? d - 1 : 0)) / d;
}

/*
 * Builds into @op the op of kind @k whose work is as close to @work as the
 * shapes allow, at least @work if @up, else at most; returns its size and
 * sets @got to its work. Every tensor is one byte broadcast (stride 0):
 * only the work is large.
 */
static uint32_t wk_op(int k, uint64_t work, bool up, void *op, uint64_t *got)
{
	struct drm_tapu_tensor one = { .dim = { 1, 1, 1, 1 } };
	struct drm_tapu_op_conv *c = op;
	struct drm_tapu_op_pool *p = op;
	struct drm_tapu_op_eltwise *e = op;
	uint64_t taps = work - DRM_TAPU_ELEMENT_WORK, a, b;

	if (k == WK_ADD) {
		/* Elements of 1 + 16 work each, over an H x W output. */
		taps = wk_div(work, 1 + DRM_TAPU_ELEMENT_WORK, up);
		a = wk_div(taps, 4096, true);
		b = wk_div(taps, a, up);
		*e = (struct drm_tapu_op_eltwise){
			.hdr = { DRM_TAPU_OP_ADD, sizeof(*e), 0 },
			.a = { .dim = { 1, a, b, 1 } },
			.b = { .slot = 1, .dim = { 1, a, b, 1 } },
			.output = { .slot = 2, .dim = { 1, a, b, 1 } },
			.a_mul = 1, .b_mul = 1, .act_min = -128, .act_max = 127,
		};
		*got = a * b * (1 + DRM_TAPU_ELEMENT_WORK);
		return sizeof(*e);
	}
	if (k == WK_MAXPOOL) {
		a = wk_div(taps, 65535, true);
		b = wk_div(taps, a, up);
		*p = (struct drm_tapu_op_pool){
			.hdr = { DRM_TAPU_OP_MAXPOOL, sizeof(*p), 0 },
			.input = { .dim = { 1, a, b, 1 } },
			.output = one, .kernel = { a, b }, .stride = { 1, 1 },
			.act_min = -128, .act_max = 127,
		};
		p->output.slot = 2;
		*got = a * b + DRM_TAPU_ELEMENT_WORK;
		return sizeof(*p);
	}
	/* One output element of Kh x Kw (x Ci) taps. */
	a = wk_div(taps, 65536, true);
	b = wk_div(taps, a, up);
	*c = (struct drm_tapu_op_conv){
		.hdr = { k == WK_CONV ? DRM_TAPU_OP_CONV2D :
			 DRM_TAPU_OP_DEPTHWISE_CONV2D, sizeof(*c), 0 },
		.output = one, .stride = { 1, 1 }, .dilation = { 1, 1 },
		.multiplier = 1, .act_min = -128, .act_max = 127,
	};
	if (k == WK_CONV) {
		c->input = (struct drm_tapu_tensor){ .dim = { 1, a, 1, b } };
		c->weights = (struct drm_tapu_tensor){ .dim = { 1, a, 1, b } };
	} else {
		c->input = (struct drm_tapu_tensor){ .dim = { 1, a, b, 1 } };
		c->weights = (struct drm_tapu_tensor){ .dim = { 1, a, b, 1 } };
	}
	c->weights.slot = 1;
	c->output.slot = 2;
	*got = a * b + DRM_TAPU_ELEMENT_WORK;
	return sizeof(*c);
}

/*
 * The costliest op the validator used to accept in 4 KiB BOs, one output
 * element of 2^32 MACs, kept a core for 33 job timeouts; now every stream
 * is bounded by the work QUERY reports. For each kind of cost, one unit
 * over the limit fails with -E2BIG, and a stream at the limit completes
 * within twice the job timeout, without soft lockups or RCU stalls.
 */
TEST_F_TIMEOUT(job, stream_work_bounded, 240)
{
	const struct drm_tapu_tensor bcast = {
		.dim = { 1, 1, 65536, 65536 },
	};
	struct drm_tapu_op_conv huge = {
		.hdr = { DRM_TAPU_OP_CONV2D, sizeof(huge), 0 },
		.input = bcast, .weights = bcast,
		.output = tj_tensor(2, 0, 1, 1, 1, 1),
		.stride = { 1, 1 }, .dilation = { 1, 1 },
		.multiplier = 1, .act_min = -128, .act_max = 127,
	};
	uint64_t limit = self->lim.max_stream_work, got, id;
	uint64_t budget_ns = 2ULL * self->lim.job_timeout_ms * 1000000;
	struct drm_tapu_submit_bo bos[3];
	struct drm_tapu_op_conv op;
	struct drm_tapu_wait_job w;
	struct tj_bo b[3];
	uint32_t size;
	int64_t t0;
	int stream;

	ASSERT_LT(0ULL, limit);
	huge.weights.slot = 1;
	EXPECT_EQ(-E2BIG, tapu_stream_new(self->fd, &huge, sizeof(huge)));
	for (int k = 0; k < 3; k++) {
		ASSERT_EQ(0, tj_bo_new(self->fd, 4096, &b[k]));
		bos[k] = (struct drm_tapu_submit_bo){
			b[k].handle, k == 2 ? DRM_TAPU_BO_WRITE : DRM_TAPU_BO_READ,
		};
	}
	for (int k = 0; k < WK_COUNT; k++) {
		size = wk_op(k, limit + 1, true, &op, &got);
		ASSERT_LT(limit, got) {
			TH_LOG("%s: work %llu for %llu", wk_names[k],
			       (unsigned long long)got,
			       (unsigned long long)limit + 1);
		}
		EXPECT_EQ(-E2BIG, tapu_stream_new(self->fd, &op, size));

		size = wk_op(k, limit, false, &op, &got);
		ASSERT_GE(limit, got);
		stream = tapu_stream_new(self->fd, &op, size);
		ASSERT_LT(0, stream) {
			TH_LOG("%s: %s", wk_names[k], strerror(-stream));
		}
		t0 = tapu_now_ns();
		ASSERT_EQ(0, tj_submit_raw(self->fd, stream, bos, 3, NULL, 0,
					   0, 0, &id));
		ASSERT_EQ(0, tapu_wait(self->fd, id, 60000, &w));
		TH_LOG("%s, work %llu: %lld ms, job timeout %u ms",
		       wk_names[k], (unsigned long long)got,
		       (long long)(tapu_now_ns() - t0) / 1000000,
		       self->lim.job_timeout_ms);
		EXPECT_EQ(0, w.error);
		EXPECT_GE(budget_ns, w.duration_ns);
		tapu_gem_close(self->fd, stream);
	}
	for (int k = 0; k < 3; k++)
		tj_bo_free(self->fd, &b[k]);
	for (int k = 0; k < 4; k++)
		ASSERT_EQ(0, tj_run_one(self->fd));
}

/*
 * WAIT_JOB finds the results of the last 256 jobs to retire, whatever their
 * ids: a job held at low priority retires after 300 later ones of its file,
 * which ran on the other core; it and the 255 before it are found, older
 * ones are dropped.
 */
TEST_F_TIMEOUT(job, results_last_retired, 240)
{
	enum { LATER = 300 };
	struct drm_tapu_submit low = { .priority = DRM_TAPU_PRIO_LOW };
	uint32_t kept = self->lim.results_kept;
	struct drm_tapu_submit_bo bos[2];
	struct drm_tapu_wait_job w;
	struct tj_job a, b;
	uint64_t ids[LATER];

	ASSERT_EQ(256u, kept);
	ASSERT_EQ(0, tj_job_init(self->fd, &a, 4096, 180));
	ASSERT_EQ(0, tj_job_init(self->fd, &b, 4096, 181));
	low.cmdstream = a.stream;
	low.bos = (uintptr_t)bos;
	low.bo_count = tj_job_bos(&a, bos);
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tapu_ioctl(self->fd, DRM_IOCTL_TAPU_SUBMIT, &low));
	a.id = low.job_id;
	ASSERT_EQ(0, tj_stall_started());
	for (int k = 0; k < LATER; k++) {
		/* Stay well below the file's limit of unfinished jobs. */
		if (k >= 128)
			ASSERT_EQ(0, tapu_wait(self->fd, ids[k - 128],
					       TJ_WAIT_MS, NULL));
		ASSERT_EQ(0, tj_job_submit(&b));
		ids[k] = b.id;
	}
	/* The older ones were waited for above and may have left the ring. */
	for (int k = LATER - 128; k < LATER; k++)
		ASSERT_EQ(0, tapu_wait(self->fd, ids[k], TJ_WAIT_MS, NULL));
	ASSERT_EQ(0, tj_release());
	/* A WAIT_JOB reference would keep it out of the ring: poll. */
	for (int t = 0; t < 1000 && tj_poll(self->fd, a.id, &w) == -ETIME; t++)
		usleep(10000);
	EXPECT_EQ(0, tj_poll(self->fd, a.id, &w));
	/*
	 * Jobs retire when the scheduler frees them, after their fences
	 * signalled: until the last ones have, the ring still holds older
	 * ones. The newest one that must be dropped goes once they all have.
	 */
	for (int t = 0; t < 1000 &&
	     !tj_poll(self->fd, ids[LATER - kept], NULL); t++)
		usleep(10000);
	for (int k = 0; k < LATER; k++) {
		int want = k >= LATER - (int)kept + 1 ? 0 : -ENOENT;

		EXPECT_EQ(want, tj_poll(self->fd, ids[k], NULL)) {
			TH_LOG("job %d of %d (id %llu)", k, LATER,
			       (unsigned long long)ids[k]);
		}
	}
	tj_job_fini(&a);
	tj_job_fini(&b);
}

/* ---- Concurrency ---- */

/* Runs @n jobs on @fd, @depth at once, checking each; returns failures. */
static int worker(int fd, int n, int depth, uint32_t seed)
{
	struct tj_job j[4];
	int fails = 0, k;

	for (k = 0; k < depth; k++)
		if (tj_job_init(fd, &j[k], 4096, seed))
			return n;
	for (int i = 0; i < n + depth; i++) {
		struct tj_job *x = &j[i % depth];

		if (i >= depth)
			fails += tj_job_finish(x, NULL) != 0;
		if (i < n) {
			tj_job_reset(x, seed + i);
			fails += tj_job_submit(x) != 0;
		}
	}
	for (k = 0; k < depth; k++)
		tj_job_fini(&j[k]);
	return fails;
}

struct worker_args {
	int fd, depth;
	uint32_t seed;
	int fails;
};

static void *worker_thread(void *p)
{
	struct worker_args *a = p;

	a->fails = worker(a->fd, 50, a->depth, a->seed);
	return NULL;
}

static int depth_for(const struct drm_tapu_limits *lim, uint32_t users)
{
	uint32_t d = lim->max_jobs_in_flight / users;

	return d < 1 ? 1 : d > 4 ? 4 : d;
}

TEST_F_TIMEOUT(job, threads_4x50, 300)
{
	struct worker_args a[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		a[i] = (struct worker_args){
			.fd = self->fd, .depth = depth_for(&self->lim, 4),
			.seed = 1000 * (i + 1),
		};
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_thread, &a[i]));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, a[i].fails) TH_LOG("thread %d", i);
	}
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F_TIMEOUT(job, processes_3x50, 300)
{
	int depth = depth_for(&self->lim, 1);
	pid_t pid[3];

	for (int i = 0; i < 3; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			int fd = tapu_open();

			_exit(fd < 0 || worker(fd, 50, depth, 5000 * (i + 1)));
		}
	}
	/* The parent submits at the same time. */
	EXPECT_EQ(0, worker(self->fd, 50, depth, 9000));
	for (int i = 0; i < 3; i++)
		wait_child(_metadata, pid[i], 0);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- fdinfo and debugfs ---- */

TEST_F(job, fdinfo_keys)
{
	static const char * const keys[] = {
		"drm-driver:\ttapu\n", "drm-client-id:\t", "drm-engine-npu:\t",
		"drm-cycles-npu:\t", "drm-total-memory:\t",
		"drm-resident-memory:\t", "tapu-cmdstream-memory:\t",
	};
	struct drm_tapu_device_info dev;
	int fd2 = tapu_open();
	char buf[4096], *p;
	struct tj_bo b;
	long long cap;

	ASSERT_LE(0, fd2);
	/* Residency is reported once the file has a BO. */
	ASSERT_EQ(0, tj_bo_new(self->fd, 4096, &b));
	ASSERT_LT(0, fdinfo_read(self->fd, buf, sizeof(buf)));
	tj_bo_free(self->fd, &b);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *key = strstr(buf, keys[i]);

		EXPECT_NE(NULL, key) TH_LOG("%s", keys[i]);
	}
	p = strstr(buf, "drm-engine-npu:\t");
	ASSERT_NE(NULL, p);
	p = strchr(p, '\n');
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, strncmp(p - 3, " ns", 3));
	/* Several cores make the engine's capacity their number. */
	ASSERT_EQ(0, tj_query(self->fd, DRM_TAPU_QUERY_DEVICE, &dev,
			      sizeof(dev)));
	cap = fdinfo_val(self->fd, "drm-engine-capacity-npu");
	EXPECT_EQ(dev.num_cores > 1, cap == dev.num_cores);
	/* Each file is its own client. */
	EXPECT_NE(self->client, client_id(fd2));
	close(fd2);
}

/*
 * A file's command streams hold at most 64 times the largest stream of
 * kernel memory, each counted in whole pages (fdinfo
 * tapu-cmdstream-memory); beyond, CMDSTREAM_CREATE fails with -ENOSPC.
 * Another file has its own budget, and closing handles gives it back.
 */
TEST_F_TIMEOUT(job, cmdstream_memory_bounded, 120)
{
	uint32_t size = self->lim.max_cmdstream_size, n = 0;
	struct drm_tapu_op_hdr nop = { DRM_TAPU_OP_NOP, sizeof(nop), 0 };
	uint64_t limit = 64ULL * size;
	int fd2 = tapu_open(), h, handles[80];
	uint8_t *buf = malloc(size);

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, fd2);
	for (uint32_t off = 0; off < size; off += sizeof(nop))
		memcpy(buf + off, &nop, sizeof(nop));
	ASSERT_EQ(0, fdinfo_val(self->fd, "tapu-cmdstream-memory"));
	for (;;) {
		h = tapu_stream_new(self->fd, buf, size);
		if (h < 0)
			break;
		ASSERT_GT(80u, n);
		handles[n++] = h;
	}
	EXPECT_EQ(-ENOSPC, h);
	EXPECT_EQ(limit / size, n);
	EXPECT_EQ((long long)limit, fdinfo_val(self->fd,
					       "tapu-cmdstream-memory"));
	/* Even the smallest stream counts as a page. */
	EXPECT_EQ(-ENOSPC, tapu_stream_new(self->fd, &nop, sizeof(nop)));
	h = tapu_stream_new(fd2, &nop, sizeof(nop));
	EXPECT_LT(0, h);
	EXPECT_EQ(4096, fdinfo_val(fd2, "tapu-cmdstream-memory"));
	close(fd2);
	for (uint32_t k = 0; k < n; k++)
		ASSERT_EQ(0, tapu_gem_close(self->fd, handles[k]));
	EXPECT_EQ(0, fdinfo_val(self->fd, "tapu-cmdstream-memory"));
	h = tapu_stream_new(self->fd, buf, size);
	EXPECT_LT(0, h);
	if (h > 0)
		tapu_gem_close(self->fd, h);
	free(buf);
	ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_F(job, fdinfo_engine_cycles)
{
	long long e0, c0;
	struct tj_job j;

	e0 = fdinfo_val(self->fd, "drm-engine-npu");
	c0 = fdinfo_val(self->fd, "drm-cycles-npu");
	ASSERT_LE(0, e0);
	ASSERT_LE(0, c0);
	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 100));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tj_stall_started());
	EXPECT_EQ(-ETIME, tj_poll(self->fd, j.id, NULL));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tj_job_finish(&j, NULL));
	tj_job_fini(&j);
	EXPECT_LT(e0, fdinfo_val(self->fd, "drm-engine-npu"));
	EXPECT_LT(c0, fdinfo_val(self->fd, "drm-cycles-npu"));
}

TEST_F(job, fdinfo_memory)
{
	const long long sz = 4 << 20;
	long long t0, r0;
	struct tj_bo b, small;

	/* Residency is reported once the file has a BO. */
	ASSERT_EQ(0, tj_bo_new(self->fd, 4096, &small));
	t0 = fdinfo_val(self->fd, "drm-total-memory");
	r0 = fdinfo_val(self->fd, "drm-resident-memory");
	ASSERT_LE(0, t0);
	ASSERT_LE(0, r0);
	ASSERT_EQ(0, tj_bo_new(self->fd, sz, &b));
	memset(b.map, 1, sz);
	EXPECT_LE(t0 + sz, fdinfo_val(self->fd, "drm-total-memory"));
	EXPECT_LT(r0, fdinfo_val(self->fd, "drm-resident-memory"));
	tj_bo_free(self->fd, &b);
	EXPECT_EQ(t0, fdinfo_val(self->fd, "drm-total-memory"));
	tj_bo_free(self->fd, &small);
}

TEST_F(job, debugfs_cores)
{
	unsigned long long jobs, resets, busy_ns, duration_ns = 0;
	struct drm_tapu_wait_job w;
	struct core c[MAX_CORES];
	int n = cores_read(c);
	struct tj_job j;

	ASSERT_EQ(2, n);
	for (int k = 0; k < n; k++) {
		EXPECT_EQ((unsigned int)k, c[k].idx);
		EXPECT_TRUE(!strcmp(c[k].state, "idle") ||
			    !strcmp(c[k].state, "busy"));
	}
	/* Jobs of earlier tests' closed files may still be on a core. */
	ASSERT_TRUE(tapu_drained(TJ_WAIT_MS));
	jobs = cores_sum(CORE_JOBS);
	resets = cores_sum(CORE_RESETS);
	busy_ns = cores_sum(CORE_BUSY_NS);
	for (int k = 0; k < 4; k++) {
		ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 70 + k));
		ASSERT_EQ(0, tj_job_submit(&j));
		ASSERT_EQ(0, tapu_wait(self->fd, j.id, 30000, &w));
		EXPECT_EQ(0, w.error);
		duration_ns += w.duration_ns;
		tj_job_fini(&j);
	}
	EXPECT_EQ(jobs + 4, cores_sum(CORE_JOBS));
	EXPECT_EQ(resets, cores_sum(CORE_RESETS));
	/* The cores' busy time is the jobs' times, nothing else ran. */
	EXPECT_LT(0ULL, duration_ns);
	EXPECT_EQ(busy_ns + duration_ns, cores_sum(CORE_BUSY_NS));
}

/* debugfs "kmapped": the BOs' kept kernel mappings, and those idle. */
struct kmapped {
	long long bos, pages, idle_bos, idle_pages;
};

static int kmapped_read(struct kmapped *k)
{
	char buf[128];

	if (tapu_debugfs_read("kmapped", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "bos=%lld pages=%lld idle_bos=%lld idle_pages=%lld",
		   &k->bos, &k->pages, &k->idle_bos, &k->idle_pages) != 4)
		return -1;
	return 0;
}

/*
 * Pages of the kept mappings once jobs use @busy of them, or -1 if they
 * still use more after 2 s: a job gives its BOs back when it is released,
 * on a workqueue, after WAIT_JOB has returned.
 */
static long long kmapped_pages_busy(long long busy)
{
	int64_t end = tapu_deadline_ms(2000);
	struct kmapped k;

	do {
		if (kmapped_read(&k))
			return -1;
		if (k.pages - k.idle_pages == busy)
			return k.pages;
		usleep(10000);
	} while (tapu_now_ns() < end);
	return -1;
}

/*
 * Runs the shrinkers as memory pressure would, a few times (a BO whose
 * reservation is taken at that moment is skipped), until the kept mappings
 * hold @want pages. Returns the pages last seen, or -1.
 */
static long long kmapped_reclaim(long long want)
{
	long long pages = -1;
	struct kmapped k;

	for (int i = 0; i < 5 && pages != want; i++) {
		if (i)
			usleep(20000);
		if (tapu_write_file("/proc/sys/vm/drop_caches", "2") ||
		    kmapped_read(&k))
			return -1;
		pages = k.pages;
	}
	return pages;
}

/*
 * A BO's kernel mapping is made at its first job and kept for the next
 * (a job costs the same whatever the size of its BOs). Under memory
 * pressure the mappings of BOs that no job uses go, those of a running
 * job's BOs stay; jobs give their results before and after.
 */
TEST_F_TIMEOUT(job, bo_kmap_kept_and_reclaimed, 120)
{
	const long long a_pages = 2 * 65536 / 4096, b_pages = 2 * 16384 / 4096;
	struct tj_job a, b;

	if (!has_faults())
		SKIP(return, "kept kernel mappings are the simulated NPU's");
	if (getpagesize() != 4096)
		SKIP(return, "page size is not 4 KiB");
	/* Earlier tests' jobs released, their BOs' mappings reclaimed. */
	ASSERT_LE(0, kmapped_pages_busy(0));
	ASSERT_EQ(0, kmapped_reclaim(0));

	ASSERT_EQ(0, tj_job_init(self->fd, &a, 65536, 90));
	ASSERT_EQ(0, tj_job_submit(&a));
	ASSERT_EQ(0, tj_job_finish(&a, NULL));
	EXPECT_EQ(a_pages, kmapped_pages_busy(0));
	tj_job_reset(&a, 91);
	ASSERT_EQ(0, tj_job_submit(&a));
	ASSERT_EQ(0, tj_job_finish(&a, NULL));
	EXPECT_EQ(a_pages, kmapped_pages_busy(0));

	/* b's job held on its core: a's mappings go, b's stay. */
	ASSERT_EQ(0, tj_job_init(self->fd, &b, 16384, 92));
	ASSERT_EQ(0, tj_stall());
	ASSERT_EQ(0, tj_job_submit(&b));
	ASSERT_EQ(0, tj_stall_started());
	EXPECT_EQ(a_pages + b_pages, kmapped_pages_busy(b_pages));
	EXPECT_EQ(b_pages, kmapped_reclaim(b_pages));
	ASSERT_EQ(0, tj_release());
	EXPECT_EQ(0, tj_job_finish(&b, NULL));

	/* Mapped again at the next job; all go once no job uses them. */
	tj_job_reset(&a, 93);
	ASSERT_EQ(0, tj_job_submit(&a));
	EXPECT_EQ(0, tj_job_finish(&a, NULL));
	EXPECT_EQ(a_pages + b_pages, kmapped_pages_busy(0));
	EXPECT_EQ(0, kmapped_reclaim(0));
	tj_job_fini(&a);
	tj_job_fini(&b);
}

/*
 * The device writes a BO that the CPU never wrote: once its kept mapping is
 * reclaimed and the page cache dropped, the output must come back from
 * the BO, not as fresh zeroes. Before the pages were marked dirty when
 * their pin went, reclaim threw the job's output away as clean.
 */
TEST_F_TIMEOUT(job, job_output_survives_reclaim, 60)
{
	const uint32_t n = 65536;
	struct drm_tapu_wait_job w;
	uint64_t size;
	uint8_t *map;
	struct tj_job j;

	if (!has_faults())
		SKIP(return, "kept kernel mappings are the simulated NPU's");
	ASSERT_EQ(0, tj_job_init(self->fd, &j, n, 95));
	/* No CPU mapping, no page the CPU ever dirtied. */
	munmap(j.out.map, j.out.size);
	j.out.map = NULL;
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tapu_wait(self->fd, j.id, TJ_WAIT_MS, &w));
	ASSERT_EQ((uint32_t)DRM_TAPU_JOB_DONE, w.status);
	ASSERT_LE(0, kmapped_pages_busy(0));
	ASSERT_EQ(0, kmapped_reclaim(0));
	ASSERT_EQ(0, tapu_write_file("/proc/sys/vm/drop_caches", "1"));
	map = tj_map_handle(self->fd, j.out_h, &size);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(0, tj_check(map, n, j.seed));
	munmap(map, size);
	tj_job_fini(&j);
}

TEST_F(job, debugfs_lists)
{
	/* A timeline point: B is pending, not queued behind A on its core. */
	struct drm_tapu_sync in = { .point = 1 };
	struct tj_job a, b;
	int h = tj_syncobj_new(self->fd);

	ASSERT_LT(0, h);
	in.handle = h;
	ASSERT_EQ(0, tj_job_init(self->fd, &a, 4096, 101));
	ASSERT_EQ(0, tj_job_init(self->fd, &b, 4096, 102));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit_sync(&a, NULL, 0, h, 1));
	ASSERT_EQ(0, tj_job_submit_sync(&b, &in, 1, 0, 0));
	ASSERT_EQ(0, tj_stall_started());
	/* While A runs it is scheduled on a busy core and B is pending. */
	EXPECT_TRUE(list_has("scheduled", self->client, a.id));
	EXPECT_FALSE(list_has("pending", self->client, a.id));
	EXPECT_TRUE(any_core_busy());
	EXPECT_TRUE(list_has("pending", self->client, b.id));
	EXPECT_FALSE(list_has("scheduled", self->client, b.id));
	ASSERT_EQ(0, tj_release());
	ASSERT_EQ(0, tj_job_finish(&a, NULL));
	ASSERT_EQ(0, tj_job_finish(&b, NULL));
	EXPECT_FALSE(list_has("scheduled", self->client, a.id));
	EXPECT_FALSE(list_has("pending", self->client, b.id));
	EXPECT_TRUE(client_gone(self->client));
	tj_job_fini(&a);
	tj_job_fini(&b);
}

/*
 * A core takes the next job while one runs: B, submitted behind A on the
 * same file while A is held, is handed at once to A's core, and its time
 * on the core starts when A ends. Before the cores had queues, B stayed
 * pending until A was done.
 */
TEST_F_TIMEOUT(job, queued_behind_running, 60)
{
	struct drm_tapu_wait_job wa, wb;
	struct tj_job a, b;
	int core;

	ASSERT_EQ(0, tj_job_init(self->fd, &a, 4096, 103));
	ASSERT_EQ(0, tj_job_init(self->fd, &b, 4096, 104));
	if (!tj_stall_armed(_metadata))
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_submit(&a));
	ASSERT_EQ(0, tj_stall_started());
	ASSERT_EQ(0, tj_job_submit(&b));
	core = scheduled_core(self->client, a.id);
	EXPECT_LE(0, core);
	EXPECT_EQ(core, scheduled_core(self->client, b.id));
	EXPECT_FALSE(list_has("pending", self->client, b.id));
	usleep(200000);
	ASSERT_EQ(0, tj_release());
	EXPECT_EQ(0, tj_job_finish(&a, &wa));
	EXPECT_EQ(0, tj_job_finish(&b, &wb));
	EXPECT_LE(200000000ULL, wa.duration_ns);
	EXPECT_GT(wa.duration_ns / 2, wb.duration_ns);
	EXPECT_TRUE(client_gone(self->client));
	tj_job_fini(&a);
	tj_job_fini(&b);
}

/*
 * A job queued on a core behind the job it waits for, which hangs: the
 * hung one fails with -ETIMEDOUT, and the one behind it, handed to the
 * core again after the reset, fails with -ECANCELED without running.
 * Before the core put a failed job's error on its finished fence at once,
 * the job behind it ran on the hung job's output.
 */
TEST_F_TIMEOUT(job, hang_fails_job_queued_behind, 90)
{
	struct drm_tapu_sync in = { 0 };
	int h = tj_syncobj_new(self->fd);
	struct drm_tapu_wait_job w;
	struct tj_job a, b;
	int core;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_LT(0, h);
	in.handle = h;
	ASSERT_EQ(0, tj_job_init(self->fd, &a, 4096, 105));
	ASSERT_EQ(0, tj_job_init(self->fd, &b, 4096, 106));
	ASSERT_EQ(0, tapu_debugfs_write("fault_inject", "hang"));
	ASSERT_EQ(0, tj_job_submit_sync(&a, NULL, 0, h, 0));
	ASSERT_EQ(0, tj_job_submit_sync(&b, &in, 1, 0, 0));
	core = scheduled_core(self->client, a.id);
	EXPECT_LE(0, core);
	EXPECT_EQ(core, scheduled_core(self->client, b.id));
	ASSERT_EQ(0, tapu_wait(self->fd, a.id, 30000, &w));
	EXPECT_EQ(-ETIMEDOUT, w.error);
	ASSERT_EQ(0, tapu_wait(self->fd, b.id, 30000, &w));
	EXPECT_EQ(-ECANCELED, w.error);
	EXPECT_TRUE(tj_zero(b.out.map, b.n));
	tj_job_fini(&a);
	tj_job_fini(&b);
	tj_syncobj_free(self->fd, h);
	for (int k = 0; k < 4; k++)
		ASSERT_EQ(0, tj_run_one(self->fd));
}

/* Polls up to 10 s until the armed fault was taken by a job. */
static bool fault_taken(void)
{
	int64_t end = tapu_deadline_ms(TJ_WAIT_MS);
	char buf[32];

	do {
		if (tapu_debugfs_read("fault_inject", buf, sizeof(buf)) > 0 &&
		    !strncmp(buf, "none", 4))
			return true;
		usleep(1000);
	} while (tapu_now_ns() < end);
	return false;
}

/*
 * A job queued behind a hung one on its core is handed to the core again
 * after the reset with its own fault (slow), and runs; a fault armed
 * meanwhile goes to the next new job. Before the simulator told a job
 * handed over again from a new one, the queued job took that fault.
 */
TEST_F_TIMEOUT(job, reset_keeps_fault_for_new_job, 90)
{
	struct drm_tapu_wait_job w;
	struct tj_job a, b, c;
	char buf[32];
	int core;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	ASSERT_EQ(0, tj_job_init(self->fd, &a, 4096, 107));
	ASSERT_EQ(0, tj_job_init(self->fd, &b, 4096, 108));
	ASSERT_EQ(0, tj_job_init(self->fd, &c, 4096, 109));
	ASSERT_EQ(0, tapu_debugfs_write("fault_inject", "hang"));
	ASSERT_EQ(0, tj_job_submit(&a));
	ASSERT_TRUE(fault_taken());
	/* b takes "slow": once it is gone, the simulator accepted b. */
	ASSERT_EQ(0, tapu_debugfs_write("fault_inject", "slow"));
	/* The entity keeps to a's core while a is not done. */
	ASSERT_EQ(0, tj_job_submit(&b));
	ASSERT_TRUE(fault_taken());
	core = scheduled_core(self->client, a.id);
	ASSERT_LE(0, core);
	ASSERT_EQ(core, scheduled_core(self->client, b.id));
	ASSERT_EQ(0, tapu_debugfs_write("fault_inject", "error"));
	ASSERT_EQ(0, tapu_wait(self->fd, a.id, 30000, &w));
	EXPECT_EQ(-ETIMEDOUT, w.error);
	/* Slow, b still runs to its result. */
	ASSERT_EQ(0, tapu_wait(self->fd, b.id, 30000, &w));
	EXPECT_EQ(0, w.error);
	EXPECT_EQ(0, tj_check(b.out.map, b.n, b.seed));
	ASSERT_LT(0, tapu_debugfs_read("fault_inject", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "error", 5));
	ASSERT_EQ(0, tj_job_submit(&c));
	ASSERT_EQ(0, tapu_wait(self->fd, c.id, 30000, &w));
	EXPECT_EQ(-EIO, w.error);
	tj_job_fini(&a);
	tj_job_fini(&b);
	tj_job_fini(&c);
	for (int k = 0; k < 4; k++)
		ASSERT_EQ(0, tj_run_one(self->fd));
}

/* ---- Unbind ---- */

#define SIM_DRIVER	"/sys/bus/platform/drivers/tapu-sim"

/*
 * The device unbound under an open file with a job running and one waiting
 * for it: the unbind lets the running one finish and fails the other with
 * -ENODEV without running it, the file's ioctls then fail with -ENODEV, an
 * exported out-fence still tells its timeline and status, the exported
 * BO's fences are signalled, and the file closes cleanly; bound again, the
 * device runs jobs. Before the schedulers lived with the DRM device, KASAN
 * saw the scheduler's name and run queues used after the unbind had freed
 * them; before the unplug cancelled queued jobs, the unbind ran them all.
 */
TEST_F_TIMEOUT(job, unbind_with_open_file, 120)
{
	struct drm_syncobj_handle e = {
		.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
	};
	struct sync_file_info info = { 0 };
	/* A timeline point: b is pending, not queued behind a on its core. */
	struct drm_tapu_sync in = { .point = 1 };
	struct drm_tapu_limits lim;
	int fd2, h, dmabuf;
	struct tj_job a, b;

	if (!has_faults())
		SKIP(return, TJ_NO_FAULTS);
	if (access(SIM_DRIVER "/unbind", W_OK))
		SKIP(return, "no %s/unbind", SIM_DRIVER);
	/* Only fd2 may keep the device: a rebound one takes its minor. */
	close(self->fd);
	self->fd = -1;
	fd2 = tapu_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tj_job_init(fd2, &a, 4096, 120));
	ASSERT_EQ(0, tj_job_init(fd2, &b, 4096, 121));
	h = tj_syncobj_new(fd2);
	ASSERT_LT(0, h);
	in.handle = tj_syncobj_new(fd2);
	ASSERT_LT(0, (int)in.handle);
	/* a runs for three job timeouts, b waits for it. */
	ASSERT_EQ(0, tapu_debugfs_write("fault_inject", "slow"));
	ASSERT_EQ(0, tj_job_submit_sync(&a, NULL, 0, in.handle, 1));
	ASSERT_EQ(0, tj_job_submit_sync(&b, &in, 1, h, 0));
	e.handle = h;
	ASSERT_EQ(0, tapu_ioctl(fd2, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &e));
	dmabuf = tj_prime_export(fd2, b.out.handle);
	ASSERT_LE(0, dmabuf);
	/* Unplugged before drm_sched hands a to its core, a fails too. */
	ASSERT_LE(0, scheduled_core(client_id(fd2), a.id));

	ASSERT_EQ(0, tapu_write_file(SIM_DRIVER "/unbind", "tapu-sim"));
	EXPECT_EQ(-ENODEV, tj_query(fd2, DRM_TAPU_QUERY_LIMITS, &lim,
				    sizeof(lim)));
	EXPECT_EQ(-ENODEV, tj_job_submit(&a));
	EXPECT_EQ(0, tj_check(a.out.map, a.n, a.seed));
	EXPECT_TRUE(tj_zero(b.out.map, b.n));
	ASSERT_EQ(0, ioctl(e.fd, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(-ENODEV, info.status);
	EXPECT_EQ(1, poll(&(struct pollfd){ .fd = dmabuf, .events = POLLOUT },
			  1, 0));
	EXPECT_NE(NULL, strstr(info.name, "tapu-core")) {
		TH_LOG("sync_file name \"%s\"", info.name);
	}
	close(e.fd);
	close(dmabuf);
	a.fd = -1;
	b.fd = -1;
	tj_job_fini(&a);
	tj_job_fini(&b);
	close(fd2);

	ASSERT_EQ(0, tapu_write_file(SIM_DRIVER "/bind", "tapu-sim"));
	self->fd = tapu_open();
	ASSERT_LE(0, self->fd);
	for (int k = 0; k < 4; k++)
		ASSERT_EQ(0, tj_run_one(self->fd));
}

TEST_HARNESS_MAIN
