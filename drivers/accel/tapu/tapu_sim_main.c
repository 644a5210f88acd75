// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * Simulated NPU: each core executes validated command streams on the BOs'
 * pages, a short one at once in run_job and a longer one in a worker, and
 * raises its completion through an irq_work, acknowledged and reported like
 * a hardware interrupt. Not a hard irq_work: like an interrupt handler on
 * PREEMPT_RT it runs in a thread there, as the spinlock_t locks of
 * tapu_core_job_done() require.
 */

#include <drm/drm_gem.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "tapu_backend.h"
#include "tapu_isa.h"
#include "tapu_isa_exec.h"

static unsigned int num_cores = 2;
module_param(num_cores, uint, 0444);
MODULE_PARM_DESC(num_cores, "Number of simulated cores (1-16)");

#define TAPU_SIM_CLOCK_HZ	1000000000ULL
/* A "slow" job sleeps this long between progress steps. */
#define TAPU_SIM_SLOW_STEP_MS	20
/* Jobs of at most 1/this ms of work run in run_job, without a hand-off. */
#define TAPU_SIM_INLINE_PER_MS	100
/* Jobs a core accepts at once: the next one is there when one ends. */
#define TAPU_SIM_QUEUE_DEPTH	2

/*
 * Faults debugfs can inject into the next job handed to a core, not one
 * handed over again after a reset.
 */
enum tapu_sim_fault {
	TAPU_SIM_FAULT_NONE,
	TAPU_SIM_FAULT_HANG,
	TAPU_SIM_FAULT_ERROR,
	TAPU_SIM_FAULT_DROP_IRQ,
	TAPU_SIM_FAULT_SLOW,
	TAPU_SIM_FAULT_STALL,
};

static const char *const tapu_sim_fault_names[] = {
	[TAPU_SIM_FAULT_NONE] = "none",
	[TAPU_SIM_FAULT_HANG] = "hang",
	[TAPU_SIM_FAULT_ERROR] = "error",
	[TAPU_SIM_FAULT_DROP_IRQ] = "drop_irq",
	[TAPU_SIM_FAULT_SLOW] = "slow",
	[TAPU_SIM_FAULT_STALL] = "stall",
};

/* Written to fault_inject: lets stalled jobs finish. */
#define TAPU_SIM_RELEASE	"release"

/**
 * struct tapu_sim_slot - a job a simulated core accepted
 * @job: the job
 * @fault: fault injected into @job
 * @stall_seq: with a stall fault, @job runs once &tapu_sim.release_seq
 *	moves past this
 * @status: once done, the job's result
 * @cycles: once done, the cycles it took
 */
struct tapu_sim_slot {
	struct tapu_job *job;
	enum tapu_sim_fault fault;
	unsigned int stall_seq;
	int status;
	u64 cycles;
};

/**
 * struct tapu_sim_core - one simulated core
 * @core: the TAPU core it backs
 * @work: runs the accepted jobs, unless the core was idle and the job
 *	short enough to run in &tapu_backend_ops.run_job
 * @irq: the completion interrupt
 * @lock: protects @slots, @queued, @done, @acked, @busy, @started and
 *	writes of @ctx.stop
 * @slots: jobs accepted and not yet acknowledged, by sequence number
 *	modulo %TAPU_SIM_QUEUE_DEPTH; an acknowledged one's @job is NULL
 * @queued: jobs accepted
 * @done: jobs finished, in order; the next one runs
 * @acked: finished jobs the interrupt reported
 * @busy: the core runs job @done, in @work or in run_job
 * @started: job @done has started executing: a reset cannot run it again
 * @ctx: executor state: progress and cycle counters, stop request
 */
struct tapu_sim_core {
	struct tapu_core *core;
	struct work_struct work;
	struct irq_work irq;
	spinlock_t lock; /* protects slots, the counters, busy */
	struct tapu_sim_slot slots[TAPU_SIM_QUEUE_DEPTH];
	u32 queued;
	u32 done;
	u32 acked;
	bool busy;
	bool started;
	struct tapu_exec_ctx ctx;
};

/**
 * struct tapu_sim - the simulated NPU
 * @tdev: TAPU device
 * @wq: runs the cores' executions
 * @inline_work: work of the longest job that runs in run_job
 * @fault_lock: protects @next_fault, @stall_seq and @release_seq writes;
 *	taken inside a core's IRQ-safe lock
 * @next_fault: fault for the next job started
 * @stall_seq: @release_seq when the stall fault was armed
 * @release_seq: counts "release" writes
 * @release_wq: stalled jobs wait here
 * @num_cores: entries in @cores
 * @cores: the cores
 */
struct tapu_sim {
	struct tapu_device *tdev;
	struct workqueue_struct *wq;
	u64 inline_work;
	spinlock_t fault_lock; /* protects next_fault, the seqs' writes */
	enum tapu_sim_fault next_fault;
	unsigned int stall_seq;
	unsigned int release_seq;
	wait_queue_head_t release_wq;
	u32 num_cores;
	struct tapu_sim_core cores[] __counted_by(num_cores);
};

static struct tapu_sim_core *tapu_sim_core(struct tapu_core *core)
{
	struct tapu_sim *sim = tapu_device_priv(tapu_core_device(core));

	return &sim->cores[tapu_core_index(core)];
}

static struct tapu_sim_slot *tapu_sim_slot(struct tapu_sim_core *sc, u32 seq)
{
	return &sc->slots[seq % TAPU_SIM_QUEUE_DEPTH];
}

/*
 * The interrupt handler: acknowledge and report each finished job, in
 * order, under the lock so that a poll at the same time keeps that order.
 */
static void tapu_sim_irq(struct irq_work *irq)
{
	struct tapu_sim_core *sc = container_of(irq, struct tapu_sim_core, irq);
	struct tapu_sim_slot *slot;

	scoped_guard(spinlock_irqsave, &sc->lock) {
		for (; sc->acked != sc->done; sc->acked++) {
			slot = tapu_sim_slot(sc, sc->acked);
			tapu_core_job_done(sc->core, slot->status,
					   slot->cycles);
			slot->job = NULL;
		}
	}
}

/* Runs for TAPU_SIM_FAULT_SLOW: long, but visibly progressing. */
static int tapu_sim_crawl(struct tapu_sim_core *sc, unsigned int ms)
{
	unsigned int t;

	for (t = 0; t < ms; t += TAPU_SIM_SLOW_STEP_MS) {
		if (READ_ONCE(sc->ctx.stop))
			return -ECANCELED;
		msleep(TAPU_SIM_SLOW_STEP_MS);
		WRITE_ONCE(sc->ctx.progress, sc->ctx.progress + 1);
	}
	return 0;
}

/*
 * Runs for TAPU_SIM_FAULT_STALL: visibly progressing, until "release" is
 * written after the fault was armed (at once if that already happened), so
 * that tests hold a job on its core for as long as they need, within the
 * core's hang limit for a progressing job.
 */
static int tapu_sim_stall(struct tapu_sim_core *sc, unsigned int seq)
{
	struct tapu_sim *sim = tapu_device_priv(tapu_core_device(sc->core));

	while (READ_ONCE(sim->release_seq) == seq) {
		if (READ_ONCE(sc->ctx.stop))
			return -ECANCELED;
		wait_event_timeout(sim->release_wq,
				   READ_ONCE(sim->release_seq) != seq ||
				   READ_ONCE(sc->ctx.stop),
				   msecs_to_jiffies(TAPU_SIM_SLOW_STEP_MS));
		WRITE_ONCE(sc->ctx.progress, sc->ctx.progress + 1);
	}
	return 0;
}

/* Runs a job; 1 if it hangs, -ECANCELED if a reset stopped it. */
static int tapu_sim_execute(struct tapu_sim_core *sc,
			    struct tapu_sim_slot *slot)
{
	const struct tapu_exec_slot *slots = tapu_job_priv(slot->job);
	struct tapu_device *tdev = tapu_core_device(sc->core);
	const void *stream;
	u32 size;
	int ret = 0;

	if (slot->fault == TAPU_SIM_FAULT_HANG)
		return 1;
	if (slot->fault == TAPU_SIM_FAULT_SLOW)
		ret = tapu_sim_crawl(sc, 3 * tapu_device_timeout_ms(tdev));
	if (slot->fault == TAPU_SIM_FAULT_STALL)
		ret = tapu_sim_stall(sc, slot->stall_seq);

	stream = tapu_job_stream(slot->job, &size);
	WRITE_ONCE(sc->ctx.cycles, 0);
	if (!ret)
		ret = tapu_isa_execute(stream, size, slots,
				       tapu_job_num_bos(slot->job), &sc->ctx);
	if (ret == -ECANCELED)
		return ret;
	slot->status = slot->fault == TAPU_SIM_FAULT_ERROR ? -EIO : ret;
	slot->cycles = READ_ONCE(sc->ctx.cycles);
	return 0;
}

/*
 * Runs the accepted jobs in order until none is left, raising the
 * interrupt after each. A hung job keeps the core busy until a reset. A
 * job waiting for a failed one ends at once: the interrupt of the one
 * before it has run, so that its error is known.
 */
static void tapu_sim_run_queue(struct tapu_sim_core *sc)
{
	struct tapu_sim_slot *slot;

	for (;;) {
		scoped_guard(spinlock_irqsave, &sc->lock) {
			if (sc->done == sc->queued) {
				sc->busy = false;
				return;
			}
			slot = tapu_sim_slot(sc, sc->done);
		}
		irq_work_sync(&sc->irq);
		if (!tapu_job_may_run(slot->job)) {
			slot->status = -ECANCELED;
			slot->cycles = 0;
		} else {
			/* A reset is stopping the core: it forgets the job. */
			scoped_guard(spinlock_irqsave, &sc->lock) {
				if (sc->ctx.stop)
					return;
				sc->started = true;
			}
			if (tapu_sim_execute(sc, slot))
				return;
		}
		scoped_guard(spinlock_irqsave, &sc->lock) {
			sc->done++;
			sc->started = false;
		}
		if (slot->fault != TAPU_SIM_FAULT_DROP_IRQ)
			irq_work_queue(&sc->irq);
	}
}

static void tapu_sim_run_queue_work(struct work_struct *work)
{
	tapu_sim_run_queue(container_of(work, struct tapu_sim_core, work));
}

/*
 * Whether a job starts at once in run_job, as hardware starts at the
 * doorbell, rather than after the wake of the core's worker: one that
 * sleeps for no injected fault and whose work takes 10 us at the calibrated
 * rate, a best case that a job with more data can miss many times over.
 * drm_sched_stop() waits for run_job: a long job must not run there.
 */
static bool tapu_sim_runs_inline(struct tapu_sim *sim,
				 const struct tapu_sim_slot *slot)
{
	switch (slot->fault) {
	case TAPU_SIM_FAULT_SLOW:
	case TAPU_SIM_FAULT_STALL:
		return false;
	default:
		return tapu_job_work(slot->job) <= sim->inline_work;
	}
}

static void tapu_sim_run_job(struct tapu_core *core, struct tapu_job *job)
{
	struct tapu_sim *sim = tapu_device_priv(tapu_core_device(core));
	struct tapu_sim_core *sc = tapu_sim_core(core);
	struct tapu_sim_slot *slot;
	bool start;
	u32 seq;

	scoped_guard(spinlock_irqsave, &sc->lock) {
		/* The core's credit limit keeps a free slot. */
		slot = tapu_sim_slot(sc, sc->queued);
		/*
		 * Handed over again after a reset, in the slot the reset
		 * forgot it in, a job keeps its own fault: the armed one is
		 * for the next new job. None is handed over again after a
		 * new one: the free slots forget the jobs left there (one the
		 * timeout handler failed itself shifts those behind it).
		 */
		if (slot->job != job) {
			for (seq = sc->queued + 1;
			     seq - sc->acked < TAPU_SIM_QUEUE_DEPTH; seq++)
				tapu_sim_slot(sc, seq)->job = NULL;
			spin_lock(&sim->fault_lock);
			slot->job = job;
			slot->fault = sim->next_fault;
			slot->stall_seq = sim->stall_seq;
			sim->next_fault = TAPU_SIM_FAULT_NONE;
			spin_unlock(&sim->fault_lock);
		}
		sc->queued++;
		start = !sc->busy;
		sc->busy = true;
	}
	if (!start)
		return;
	if (tapu_sim_runs_inline(sim, slot))
		tapu_sim_run_queue(sc);
	else
		queue_work(sim->wq, &sc->work);
}

static u64 tapu_sim_progress(struct tapu_core *core)
{
	return READ_ONCE(tapu_sim_core(core)->ctx.progress);
}

/* A completion whose interrupt was lost is still in the status register. */
static void tapu_sim_poll(struct tapu_core *core)
{
	tapu_sim_irq(&tapu_sim_core(core)->irq);
}

static void tapu_sim_reset(struct tapu_core *core)
{
	struct tapu_sim *sim = tapu_device_priv(tapu_core_device(core));
	struct tapu_sim_core *sc = tapu_sim_core(core);
	struct tapu_sim_slot *slot;

	scoped_guard(spinlock_irqsave, &sc->lock)
		WRITE_ONCE(sc->ctx.stop, true);
	wake_up_all(&sim->release_wq);
	flush_work(&sc->work);
	irq_work_sync(&sc->irq);
	scoped_guard(spinlock_irqsave, &sc->lock) {
		/* Stopped part-way (or hung), it cannot start again. */
		if (sc->started) {
			slot = tapu_sim_slot(sc, sc->done++);
			slot->status = -ETIMEDOUT;
			slot->cycles = READ_ONCE(sc->ctx.cycles);
			sc->started = false;
		}
	}
	/* Report those, and the jobs that finished before the stop. */
	tapu_sim_irq(&sc->irq);
	scoped_guard(spinlock_irqsave, &sc->lock) {
		sc->queued = sc->done;
		sc->busy = false;
		WRITE_ONCE(sc->ctx.stop, false);
	}
}

static void tapu_sim_cleanup_job(struct tapu_device *tdev,
				 struct tapu_job *job)
{
	struct tapu_exec_slot *slots = tapu_job_priv(job);
	u32 i;

	for (i = 0; i < tapu_job_num_bos(job); i++)
		if (slots[i].vaddr)
			tapu_bo_kmap_put(tapu_job_bo(job, i));
}

/*
 * The simulated cores work on the BOs' kernel mappings, kept from one job
 * to the next: a job costs the same whatever the size of its BOs.
 */
static int tapu_sim_prepare_job(struct tapu_device *tdev,
				struct tapu_job *job)
{
	u32 i, num_bos = tapu_job_num_bos(job);
	struct tapu_exec_slot *slots = tapu_job_slot_priv(job);

	tapu_job_set_priv(job, slots);

	for (i = 0; i < num_bos; i++) {
		struct drm_gem_object *obj = tapu_job_bo(job, i);
		void *vaddr = tapu_bo_kmap_get(obj);

		if (IS_ERR(vaddr))
			return PTR_ERR(vaddr);
		slots[i].vaddr = vaddr;
		slots[i].size = obj->size;
	}
	return 0;
}

static int fault_inject_show(struct seq_file *m, void *unused)
{
	struct tapu_sim *sim = m->private;

	enum tapu_sim_fault fault;

	scoped_guard(spinlock_irq, &sim->fault_lock)
		fault = sim->next_fault;
	seq_printf(m, "%s\n", tapu_sim_fault_names[fault]);
	return 0;
}

static int fault_inject_open(struct inode *inode, struct file *file)
{
	return single_open(file, fault_inject_show, inode->i_private);
}

static ssize_t fault_inject_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *off)
{
	struct tapu_sim *sim = file_inode(file)->i_private;
	char buf[16];
	int fault;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	if (sysfs_streq(buf, TAPU_SIM_RELEASE)) {
		scoped_guard(spinlock_irq, &sim->fault_lock) {
			WRITE_ONCE(sim->release_seq, sim->release_seq + 1);
			/* A stall no job has taken yet is cancelled. */
			if (sim->next_fault == TAPU_SIM_FAULT_STALL)
				sim->next_fault = TAPU_SIM_FAULT_NONE;
		}
		wake_up_all(&sim->release_wq);
		return len;
	}
	fault = sysfs_match_string(tapu_sim_fault_names, buf);
	if (fault < 0)
		return fault;
	scoped_guard(spinlock_irq, &sim->fault_lock) {
		sim->next_fault = fault;
		sim->stall_seq = sim->release_seq;
	}
	return len;
}

static const struct file_operations fault_inject_fops = {
	.owner = THIS_MODULE,
	.open = fault_inject_open,
	.read = seq_read,
	.write = fault_inject_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static void tapu_sim_debugfs_init(struct tapu_device *tdev,
				  struct dentry *root)
{
	debugfs_create_file("fault_inject", 0600, root, tapu_device_priv(tdev),
			    &fault_inject_fops);
}

static const struct tapu_backend_ops tapu_sim_ops = {
	.prepare_job = tapu_sim_prepare_job,
	.cleanup_job = tapu_sim_cleanup_job,
	.run_job = tapu_sim_run_job,
	.progress = tapu_sim_progress,
	.poll = tapu_sim_poll,
	.reset = tapu_sim_reset,
	.debugfs_init = tapu_sim_debugfs_init,
};

static void tapu_sim_destroy_wq(void *wq)
{
	destroy_workqueue(wq);
}

static int tapu_sim_probe(struct platform_device *pdev)
{
	const struct tapu_device_desc desc = {
		.name = "sim",
		.owner = THIS_MODULE,
		.ops = &tapu_sim_ops,
		.num_cores = num_cores,
		.cycle_clock_hz = TAPU_SIM_CLOCK_HZ,
		/* Cores are this CPU: as fast as its executor is here. */
		.work_per_ms = tapu_isa_work_per_ms(),
		.job_slot_priv_size = sizeof(struct tapu_exec_slot),
		.queue_depth = TAPU_SIM_QUEUE_DEPTH,
	};
	struct tapu_sim *sim;
	u32 i;
	int ret;

	if (!num_cores || num_cores > TAPU_MAX_CORES)
		return dev_err_probe(&pdev->dev, -EINVAL,
				     "num_cores must be 1 to %u\n",
				     TAPU_MAX_CORES);

	sim = devm_kzalloc(&pdev->dev, struct_size(sim, cores, num_cores),
			   GFP_KERNEL);
	if (!sim)
		return -ENOMEM;
	sim->num_cores = num_cores;
	sim->inline_work = desc.work_per_ms / TAPU_SIM_INLINE_PER_MS;
	spin_lock_init(&sim->fault_lock);
	init_waitqueue_head(&sim->release_wq);

	/* Executions complete fences: they must progress under reclaim. */
	sim->wq = alloc_workqueue("tapu-sim", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!sim->wq)
		return -ENOMEM;
	ret = devm_add_action_or_reset(&pdev->dev, tapu_sim_destroy_wq,
				       sim->wq);
	if (ret)
		return ret;

	sim->tdev = tapu_device_create(&pdev->dev, &desc);
	if (IS_ERR(sim->tdev))
		return PTR_ERR(sim->tdev);
	tapu_device_set_priv(sim->tdev, sim);

	for (i = 0; i < num_cores; i++) {
		struct tapu_sim_core *sc = &sim->cores[i];

		sc->core = tapu_device_core(sim->tdev, i);
		INIT_WORK(&sc->work, tapu_sim_run_queue_work);
		spin_lock_init(&sc->lock);
		sc->irq = IRQ_WORK_INIT(tapu_sim_irq);
	}

	platform_set_drvdata(pdev, sim);
	return tapu_device_register(sim->tdev);
}

static void tapu_sim_remove(struct platform_device *pdev)
{
	struct tapu_sim *sim = platform_get_drvdata(pdev);
	u32 i;

	tapu_device_unregister(sim->tdev);
	/* A completion of a dropped interrupt may still be on its way. */
	for (i = 0; i < sim->num_cores; i++)
		irq_work_sync(&sim->cores[i].irq);
}

static struct platform_driver tapu_sim_driver = {
	.probe = tapu_sim_probe,
	.remove = tapu_sim_remove,
	.driver = {
		.name = "tapu-sim",
	},
};

static struct platform_device *tapu_sim_pdev;

/* Loading the module asks for a simulator; a kernel with it built in must. */
static bool instantiate = IS_MODULE(CONFIG_DRM_ACCEL_TAPU_SIM);
module_param(instantiate, bool, 0444);
MODULE_PARM_DESC(instantiate,
		 "Register the simulated NPU (default: loaded as a module; built in: tapu_sim.instantiate=1)");

static int __init tapu_sim_init(void)
{
	int ret;

	if (!instantiate)
		return 0;
	ret = platform_driver_register(&tapu_sim_driver);
	if (ret)
		return ret;

	/* No firmware describes a simulator: instantiate it here. */
	tapu_sim_pdev = platform_device_register_simple("tapu-sim",
							PLATFORM_DEVID_NONE,
							NULL, 0);
	if (IS_ERR(tapu_sim_pdev)) {
		platform_driver_unregister(&tapu_sim_driver);
		return PTR_ERR(tapu_sim_pdev);
	}
	return 0;
}

static void __exit tapu_sim_exit(void)
{
	if (!tapu_sim_pdev)
		return;
	platform_device_unregister(tapu_sim_pdev);
	platform_driver_unregister(&tapu_sim_driver);
}

module_init(tapu_sim_init);
module_exit(tapu_sim_exit);

MODULE_DESCRIPTION("TAPU simulated NPU backend");
MODULE_AUTHOR("The TAPU authors");
MODULE_LICENSE("GPL");
