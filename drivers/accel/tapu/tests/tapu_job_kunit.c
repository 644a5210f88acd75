// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * KUnit tests of the job lifecycle: a two-core mock backend records the jobs
 * the core's schedulers hand it and completes them when the test says so.
 * Jobs are submitted through the accel file's ioctl entry point on a DRM
 * file from mock_drm_getfile(), with the ioctl arguments in a user mapping
 * of the test thread.
 */

#include <drm/drm_file.h>
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/mman.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/wait_bit.h>

#include "../tapu_drv.h"

#define TK_CORES	2
#define TK_WAIT		(5 * HZ)
#define TK_STREAM	256	/* offset of the stream in the user page */

/**
 * struct tk_mock - mock backend
 * @tdev: device
 * @lock: protects @running, @runs and @resets
 * @wq: woken when a job starts
 * @running: job started on each core and not yet completed or reset
 * @runs: jobs started
 * @resets: core resets
 * @lost_irq: completions are found by &tapu_backend_ops.poll only
 * @uarg: user page for ioctl arguments and the stream
 */
struct tk_mock {
	struct tapu_device *tdev;
	spinlock_t lock; /* protects running, runs, resets */
	wait_queue_head_t wq;
	struct tapu_job *running[TK_CORES];
	u32 runs;
	u32 resets;
	bool lost_irq;
	unsigned long uarg;
};

static struct tk_mock *tk_core_mock(struct tapu_core *core)
{
	return tapu_device_priv(tapu_core_device(core));
}

/* Completes the job running on @core, as the interrupt handler would. */
static bool tk_finish(struct tk_mock *m, u32 core, int error, u64 cycles)
{
	struct tapu_job *job;

	scoped_guard(spinlock_irqsave, &m->lock) {
		job = m->running[core];
		m->running[core] = NULL;
	}
	if (job)
		tapu_core_job_done(tapu_device_core(m->tdev, core), error,
				   cycles);
	return job;
}

static void tk_run_job(struct tapu_core *core, struct tapu_job *job)
{
	struct tk_mock *m = tk_core_mock(core);

	scoped_guard(spinlock_irqsave, &m->lock) {
		m->running[tapu_core_index(core)] = job;
		m->runs++;
	}
	wake_up_all(&m->wq);
}

/* Never moves: a job still running at its timeout is hung. */
static u64 tk_progress(struct tapu_core *core)
{
	return 0;
}

#define TK_POLL_CYCLES	77

static void tk_poll(struct tapu_core *core)
{
	struct tk_mock *m = tk_core_mock(core);

	if (READ_ONCE(m->lost_irq))
		tk_finish(m, tapu_core_index(core), 0, TK_POLL_CYCLES);
}

static void tk_reset(struct tapu_core *core)
{
	struct tk_mock *m = tk_core_mock(core);

	scoped_guard(spinlock_irqsave, &m->lock) {
		m->running[tapu_core_index(core)] = NULL;
		m->resets++;
	}
}

static const struct tapu_backend_ops tk_ops = {
	.run_job = tk_run_job,
	.progress = tk_progress,
	.poll = tk_poll,
	.reset = tk_reset,
};

/* The core running a job: @core, or any core if @core < 0; else -1. */
static int tk_running(struct tk_mock *m, int core)
{
	int i;

	for (i = 0; i < TK_CORES; i++)
		if ((core < 0 || i == core) && READ_ONCE(m->running[i]))
			return i;
	return -1;
}

static u32 tk_wait_run(struct kunit *test, int core)
{
	struct tk_mock *m = test->priv;
	int found = -1;

	wait_event_timeout(m->wq, (found = tk_running(m, core)) >= 0, TK_WAIT);
	KUNIT_ASSERT_GE_MSG(test, found, 0, "no job started on core %d", core);
	return found;
}

/* Calls an ioctl the way userspace does, @arg copied through user memory. */
static int tk_ioctl(struct kunit *test, struct file *f, unsigned int cmd,
		    void *arg)
{
	struct tk_mock *m = test->priv;
	void __user *u = (void __user *)m->uarg;
	long ret;

	KUNIT_ASSERT_EQ(test, copy_to_user(u, arg, _IOC_SIZE(cmd)), 0);
	ret = f->f_op->unlocked_ioctl(f, cmd, m->uarg);
	KUNIT_ASSERT_EQ(test, copy_from_user(arg, u, _IOC_SIZE(cmd)), 0);
	return ret;
}

static void tk_fput(void *f)
{
	fput(f);
	flush_delayed_fput();
}

static struct file *tk_open(struct kunit *test)
{
	struct tk_mock *m = test->priv;
	struct file *f = mock_drm_getfile(m->tdev->drm.accel, O_RDWR);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, tk_fput, f), 0);
	return f;
}

/* A one-NOP command stream, which needs no BO. */
static u32 tk_stream(struct kunit *test, struct file *f)
{
	struct tk_mock *m = test->priv;
	struct drm_tapu_op_hdr nop = {
		.opcode = DRM_TAPU_OP_NOP, .size = sizeof(nop),
	};
	struct drm_tapu_cmdstream_create args = {
		.data = m->uarg + TK_STREAM, .size = sizeof(nop),
	};

	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)m->uarg + TK_STREAM,
					   &nop, sizeof(nop)), 0);
	KUNIT_ASSERT_EQ(test, tk_ioctl(test, f, DRM_IOCTL_TAPU_CMDSTREAM_CREATE,
				       &args), 0);
	return args.handle;
}

static u64 tk_submit(struct kunit *test, struct file *f, u32 stream,
		     u32 priority)
{
	struct drm_tapu_submit args = {
		.cmdstream = stream, .priority = priority,
	};

	KUNIT_ASSERT_EQ(test, tk_ioctl(test, f, DRM_IOCTL_TAPU_SUBMIT, &args),
			0);
	return args.job_id;
}

/* WAIT_JOB for @id with a relative timeout; the result goes to @w. */
static int tk_wait_job(struct kunit *test, struct file *f, u64 id,
		       u64 timeout_ns, struct drm_tapu_wait_job *w)
{
	*w = (struct drm_tapu_wait_job) {
		.job_id = id,
		.timeout_ns = timeout_ns ? ktime_get_ns() + timeout_ns : 0,
	};
	return tk_ioctl(test, f, DRM_IOCTL_TAPU_WAIT_JOB, w);
}

/* Twice: while the job may still be listed, then once it is retired. */
static void tk_expect_job(struct kunit *test, struct file *f, u64 id,
			  int error, u64 cycles)
{
	struct tk_mock *m = test->priv;
	u64 timeout = (u64)(tapu_device_timeout_ms(m->tdev) + 5000) *
		      NSEC_PER_MSEC;
	struct drm_tapu_wait_job w;
	int i;

	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_EQ(test, tk_wait_job(test, f, id, timeout, &w), 0);
		KUNIT_EXPECT_EQ(test, w.status, (u32)(error ? DRM_TAPU_JOB_FAILED :
							      DRM_TAPU_JOB_DONE));
		KUNIT_EXPECT_EQ(test, w.error, error);
		KUNIT_EXPECT_EQ(test, w.cycles, cycles);
	}
}

static int tk_init(struct kunit *test)
{
	const struct tapu_device_desc desc = {
		.name = "kunit", .owner = THIS_MODULE, .ops = &tk_ops,
		.num_cores = TK_CORES, .cycle_clock_hz = 1000000,
		.work_per_ms = 1000000,
	};
	struct device *dev;
	struct tk_mock *m;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	test->priv = m;
	spin_lock_init(&m->lock);
	init_waitqueue_head(&m->wq);

	dev = kunit_device_register(test, "tapu_kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	m->tdev = tapu_device_create(dev, &desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m->tdev);
	tapu_device_set_priv(m->tdev, m);
	m->uarg = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE,
				PROT_READ | PROT_WRITE,
				MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE(test, m->uarg, 0);
	return 0;
}

/* Fails what a failed test left running, so that every job is freed. */
static void tk_exit(struct kunit *test)
{
	struct tk_mock *m = test->priv;
	atomic_t *active;
	int i, tries;

	if (!m || IS_ERR_OR_NULL(m->tdev))
		return;
	active = &m->tdev->jobs_active;
	for (tries = 0; tries < 10 && atomic_read(active); tries++) {
		for (i = 0; i < TK_CORES; i++)
			tk_finish(m, i, -EIO, 0);
		wait_var_event_timeout(active, !atomic_read(active), HZ / 2);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(active), 0);
}

/* Completion and device errors are reported by WAIT_JOB. */
static void tapu_job_complete(struct kunit *test)
{
	static const struct {
		int error;
		u64 cycles;
	} res[] = { { 0, 1234 }, { -EIO, 99 }, { 0, U64_MAX } };
	struct tk_mock *m = test->priv;
	struct file *f = tk_open(test);
	u32 stream = tk_stream(test, f), i;

	for (i = 0; i < ARRAY_SIZE(res); i++) {
		u64 id = tk_submit(test, f, stream, DRM_TAPU_PRIO_NORMAL);

		KUNIT_EXPECT_EQ(test, id, i + 1);
		KUNIT_ASSERT_TRUE(test, tk_finish(m, tk_wait_run(test, -1),
						  res[i].error, res[i].cycles));
		tk_expect_job(test, f, id, res[i].error, res[i].cycles);
	}
	KUNIT_EXPECT_EQ(test, m->runs, ARRAY_SIZE(res));
	KUNIT_EXPECT_EQ(test, m->resets, 0);
}

/* Two jobs on the two cores; the second one completes first. */
static void tapu_job_out_of_order(struct kunit *test)
{
	struct tk_mock *m = test->priv;
	struct file *f = tk_open(test);
	u32 stream = tk_stream(test, f), ca, cb;
	struct drm_tapu_wait_job w;
	u64 a, b;

	/* Separate entities: a busy core makes the second pick the other. */
	a = tk_submit(test, f, stream, DRM_TAPU_PRIO_LOW);
	ca = tk_wait_run(test, -1);
	b = tk_submit(test, f, stream, DRM_TAPU_PRIO_NORMAL);
	cb = tk_wait_run(test, !ca);

	KUNIT_ASSERT_TRUE(test, tk_finish(m, cb, 0, 2));
	tk_expect_job(test, f, b, 0, 2);
	KUNIT_EXPECT_EQ(test, tk_wait_job(test, f, a, 0, &w), -ETIME);
	KUNIT_ASSERT_TRUE(test, tk_finish(m, ca, 0, 1));
	tk_expect_job(test, f, a, 0, 1);
}

/**
 * struct tk_timeout_case - a job that never reports its completion
 * @name: case name
 * @lost_irq: the core finished but its interrupt was lost
 * @error: expected job error
 * @cycles: expected cycles
 * @resets: expected core resets
 */
struct tk_timeout_case {
	const char *name;
	bool lost_irq;
	int error;
	u64 cycles;
	u32 resets;
};

static const struct tk_timeout_case tk_timeout_cases[] = {
	{ "hang resets the core", false, -ETIMEDOUT, 0, 1 },
	{ "lost interrupt recovered", true, 0, TK_POLL_CYCLES, 0 },
};

KUNIT_ARRAY_PARAM_DESC(tk_timeout, tk_timeout_cases, name);

/* The timeout path, then a normal job on the same core. */
static void tapu_job_timeout(struct kunit *test)
{
	const struct tk_timeout_case *c = test->param_value;
	struct tk_mock *m = test->priv;
	struct file *f = tk_open(test);
	u32 stream = tk_stream(test, f), core;
	u64 id;

	WRITE_ONCE(m->lost_irq, c->lost_irq);
	id = tk_submit(test, f, stream, DRM_TAPU_PRIO_NORMAL);
	core = tk_wait_run(test, -1);
	tk_expect_job(test, f, id, c->error, c->cycles);
	KUNIT_EXPECT_EQ(test, m->resets, c->resets);
	KUNIT_EXPECT_NULL(test, READ_ONCE(m->running[core]));

	WRITE_ONCE(m->lost_irq, false);
	id = tk_submit(test, f, stream, DRM_TAPU_PRIO_NORMAL);
	KUNIT_ASSERT_TRUE(test, tk_finish(m, tk_wait_run(test, -1), 0, 3));
	tk_expect_job(test, f, id, 0, 3);
}

/* Closing the file leaves a job on a core running; it completes later. */
static void tapu_job_close_running(struct kunit *test)
{
	struct tk_mock *m = test->priv;
	struct file *f = tk_open(test), *other = tk_open(test);
	u32 stream = tk_stream(test, f), core;
	u64 id;

	tk_submit(test, f, stream, DRM_TAPU_PRIO_NORMAL);
	core = tk_wait_run(test, -1);
	kunit_release_action(test, tk_fput, f);
	KUNIT_EXPECT_EQ(test, atomic_read(&m->tdev->jobs_active), 1);
	KUNIT_ASSERT_TRUE(test, tk_finish(m, core, 0, 4));
	wait_var_event_timeout(&m->tdev->jobs_active,
			       !atomic_read(&m->tdev->jobs_active), TK_WAIT);
	KUNIT_EXPECT_EQ(test, atomic_read(&m->tdev->jobs_active), 0);

	/* Another file is unaffected. */
	stream = tk_stream(test, other);
	id = tk_submit(test, other, stream, DRM_TAPU_PRIO_NORMAL);
	KUNIT_ASSERT_TRUE(test, tk_finish(m, tk_wait_run(test, -1), 0, 5));
	tk_expect_job(test, other, id, 0, 5);
}

static struct kunit_case tapu_job_test_cases[] = {
	KUNIT_CASE(tapu_job_complete),
	KUNIT_CASE(tapu_job_out_of_order),
	KUNIT_CASE_PARAM_ATTR(tapu_job_timeout, tk_timeout_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE(tapu_job_close_running),
	{}
};

static struct kunit_suite tapu_job_test_suite = {
	.name = "tapu_job",
	.init = tk_init,
	.exit = tk_exit,
	.test_cases = tapu_job_test_cases,
};

kunit_test_suite(tapu_job_test_suite);
