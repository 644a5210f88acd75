// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-resv.h>
#include <linux/export.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/ww_mutex.h>

#include "tapu_drv.h"

static const enum drm_sched_priority tapu_sched_prio[] = {
	[DRM_TAPU_PRIO_LOW] = DRM_SCHED_PRIORITY_LOW,
	[DRM_TAPU_PRIO_NORMAL] = DRM_SCHED_PRIORITY_NORMAL,
	[DRM_TAPU_PRIO_HIGH] = DRM_SCHED_PRIORITY_HIGH,
};

static struct tapu_job *to_tapu_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct tapu_job, base);
}

static struct tapu_core *to_tapu_core(struct drm_gpu_scheduler *sched)
{
	return container_of(sched, struct tapu_core, sched);
}

static const char *tapu_fence_driver_name(struct dma_fence *fence)
{
	return "tapu";
}

static const char *tapu_fence_timeline_name(struct dma_fence *fence)
{
	return "tapu-core";
}

static const struct dma_fence_ops tapu_hw_fence_ops = {
	.get_driver_name = tapu_fence_driver_name,
	.get_timeline_name = tapu_fence_timeline_name,
};

/* The dependency array allocated with the job, after its BO array. */
static struct dma_fence **tapu_job_inline_deps(struct tapu_job *job)
{
	return (struct dma_fence **)&job->bos[job->num_bos];
}

static void tapu_job_release(struct kref *kref)
{
	struct tapu_job *job = container_of(kref, struct tapu_job, refcount);
	struct tapu_device *tdev = job->tfile->tdev;
	u32 i;

	if (job->priv)
		tdev->desc.ops->cleanup_job(tdev, job);
	for (i = 0; i < job->num_bos; i++)
		if (job->bos[i])
			drm_gem_object_put(job->bos[i]);
	if (job->stream)
		drm_gem_object_put(&job->stream->base);
	for (i = 0; i < job->num_deps; i++)
		dma_fence_put(job->deps[i]);
	if (job->deps != tapu_job_inline_deps(job))
		kfree(job->deps);
	/* The hardware fence is initialised only if the job ever ran. */
	if (job->hw_fence && job->hw_fence->ops)
		dma_fence_put(job->hw_fence);
	else
		kfree(job->hw_fence);
	dma_fence_put(job->done_fence);
	tapu_file_put(job->tfile);
	kfree(job);

	if (atomic_dec_and_test(&tdev->jobs_active))
		wake_up_var(&tdev->jobs_active);
}

static void tapu_job_put(struct tapu_job *job)
{
	kref_put(&job->refcount, tapu_job_release);
}

static void tapu_job_put_work(struct work_struct *work)
{
	tapu_job_put(container_of(work, struct tapu_job, put_work));
}

static void tapu_job_result(struct tapu_job *job, struct tapu_job_result *res)
{
	res->id = job->id;
	res->error = job->done_fence->error;
	res->cycles = job->cycles;
	res->duration_ns = job->end_ns - job->start_ns;
}

/* The job the core runs, if any; the core's lock held. */
static struct tapu_job *tapu_core_head(struct tapu_core *core)
{
	return core->count ? core->jobs[core->head] : NULL;
}

/* Called with the core's lock held, from the interrupt or timeout path. */
static void tapu_core_finish_locked(struct tapu_core *core, int error,
				    u64 cycles)
{
	struct tapu_job *job = tapu_core_head(core), *next;

	core->head = (core->head + 1) % TAPU_MAX_QUEUE_DEPTH;
	core->count--;
	job->end_ns = ktime_get_ns();
	/* A job queued behind this one starts now: its time and progress. */
	next = tapu_core_head(core);
	if (next) {
		next->start_ns = max(next->start_ns, job->end_ns);
		next->progress = core->tdev->desc.ops->progress(core);
	}
	job->cycles = cycles;
	core->jobs_done++;
	core->busy_ns += job->end_ns - job->start_ns;
	/* Before the fence: fdinfo read after a wait must count the job. */
	atomic64_add(job->end_ns - job->start_ns, &job->tfile->busy_ns);
	atomic64_add(cycles, &job->tfile->cycles);
	scoped_guard(spinlock, &core->tdev->lists_lock)
		list_del_init(&job->list);
	if (error) {
		dma_fence_set_error(job->hw_fence, error);
		/* Before it signals: for the jobs queued behind this one. */
		dma_fence_set_error(job->done_fence, error);
	}
	dma_fence_signal_locked(job->hw_fence);
}

/**
 * tapu_core_job_done() - report the completion of a core's job
 * @core: core
 * @error: 0 or a negative errno (-EIO for a device error)
 * @cycles: device cycles the job took
 *
 * Called from the backend's interrupt handler, or from process context. It
 * takes spinlock_t locks: not from a raw hard-IRQ context (IRQF_NO_THREAD,
 * a hard irq_work), where they would sleep on PREEMPT_RT. A completion
 * without a job on the core is ignored. The oldest job handed to the core
 * completes.
 */
void tapu_core_job_done(struct tapu_core *core, int error, u64 cycles)
{
	bool cookie = dma_fence_begin_signalling();

	scoped_guard(spinlock_irqsave, &core->lock)
		if (core->count)
			tapu_core_finish_locked(core, error, cycles);
	dma_fence_end_signalling(cookie);
}
EXPORT_SYMBOL_GPL(tapu_core_job_done);

/*
 * Whether a job this one waited for failed. drm_sched in 6.12 runs a job
 * whatever its dependencies' errors, and does not wait at all for an
 * earlier job of its own entity, which only ran first or still runs on the
 * same core: the error of that one is on its finished fence, set when it
 * completes on the core, before the fence signals.
 */
static bool tapu_job_dep_failed(struct tapu_job *job)
{
	u32 i;

	for (i = 0; i < job->num_deps; i++) {
		struct dma_fence *fence = job->deps[i];
		struct drm_sched_fence *s_fence = to_drm_sched_fence(fence);
		int status = dma_fence_get_status(fence);

		if (!status && s_fence)
			status = READ_ONCE(s_fence->finished.error);
		if (status < 0)
			return true;
	}
	return false;
}

/*
 * Handing out a job restarted the core's timeout (drm_sched_job_begin() in
 * 6.12): jobs that fail at once in run_job, one after another, could keep
 * a hung job on a core with a queue from ever timing out. Run the timeout
 * handler now if the core's oldest job is overdue for its next check.
 */
static void tapu_core_check_overdue(struct tapu_core *core)
{
	u64 limit = jiffies_to_nsecs(core->sched.timeout);
	struct tapu_job *head;
	bool overdue;

	scoped_guard(spinlock_irqsave, &core->lock) {
		head = tapu_core_head(core);
		overdue = head && ktime_get_ns() - head->start_ns >
				  (head->extensions + 1) * limit;
	}
	if (overdue)
		drm_sched_fault(&core->sched);
}

static struct dma_fence *tapu_job_run(struct drm_sched_job *sched_job)
{
	struct tapu_job *job = to_tapu_job(sched_job);
	struct tapu_core *core = to_tapu_core(sched_job->sched);
	struct tapu_device *tdev = core->tdev;
	bool cookie;

	tapu_core_check_overdue(core);

	/* From here drm_sched_job_done() takes the job off the core's score. */
	job->ran = true;
	/* Cancelled: never reaches the core. */
	if (unlikely(job->done_fence->error))
		return NULL;
	/* Unplugged: the jobs not yet on a core drain without running. */
	if (unlikely(drm_dev_is_unplugged(&tdev->drm)))
		return ERR_PTR(-ENODEV);
	if (unlikely(tapu_job_dep_failed(job)))
		return ERR_PTR(-ECANCELED);

	cookie = dma_fence_begin_signalling();
	dma_fence_init(job->hw_fence, &tapu_hw_fence_ops, &core->lock,
		       core->fence_context, ++core->fence_seqno);
	job->core = core;
	job->start_ns = ktime_get_ns();
	job->progress = tdev->desc.ops->progress(core);
	scoped_guard(spinlock_irqsave, &tdev->lists_lock)
		list_move_tail(&job->list, &tdev->scheduled);
	scoped_guard(spinlock_irqsave, &core->lock) {
		/* drm_sched's credit limit is the queue depth. */
		core->jobs[(core->head + core->count) % TAPU_MAX_QUEUE_DEPTH] = job;
		core->count++;
	}
	tdev->desc.ops->run_job(core, job);
	dma_fence_end_signalling(cookie);

	return dma_fence_get(job->hw_fence);
}

static enum drm_gpu_sched_stat
tapu_job_timedout(struct drm_sched_job *sched_job)
{
	struct tapu_job *job = to_tapu_job(sched_job);
	struct tapu_core *core = to_tapu_core(sched_job->sched);
	struct tapu_device *tdev = core->tdev;
	const struct tapu_backend_ops *ops = tdev->desc.ops;
	struct tapu_job *requeue[TAPU_MAX_QUEUE_DEPTH];
	struct drm_sched_job *pending;
	bool hung = false, cookie;
	u32 i, n = 0;
	u64 progress;

	/*
	 * Park the scheduler: it puts the job back on its list, and nothing
	 * frees it or hands the core another job before drm_sched_start(),
	 * which also completes it if its fence signalled meanwhile (the core
	 * may still start the jobs it holds). Closing a file parks the
	 * schedulers too, hence the lock.
	 */
	guard(mutex)(&tdev->park_lock);
	drm_sched_stop(&core->sched, sched_job);

	/* Skipped by run_job (cancelled), done, and only not freed yet. */
	if (!job->hw_fence->ops)
		goto restart;

	if (!dma_fence_is_signaled(job->hw_fence) && ops->poll) {
		ops->poll(core);
		if (dma_fence_is_signaled(job->hw_fence))
			drm_warn(&tdev->drm, "core %u: completion interrupt lost\n",
				 core->index);
	}
	if (!dma_fence_is_signaled(job->hw_fence)) {
		progress = ops->progress(core);
		hung = progress == job->progress ||
		       job->extensions >= TAPU_MAX_TIMEOUT_EXTENSIONS;
		job->progress = progress;
		job->extensions++;
	}

	if (hung) {
		drm_warn(&tdev->drm, "core %u: job hung, resetting the core\n",
			 core->index);
		cookie = dma_fence_begin_signalling();
		ops->reset(core);
		scoped_guard(spinlock_irqsave, &core->lock) {
			core->resets++;
			/* Unless the reset reported it, as it stopped it. */
			if (tapu_core_head(core) == job)
				tapu_core_finish_locked(core, -ETIMEDOUT, 0);
			/* Queued behind it, they never started: again. */
			for (n = 0; n < core->count; n++)
				requeue[n] = core->jobs[(core->head + n) %
							TAPU_MAX_QUEUE_DEPTH];
		}
		for (i = 0; i < n; i++)
			ops->run_job(core, requeue[i]);
		dma_fence_end_signalling(cookie);
	}

restart:
	/*
	 * drm_sched_stop() detached the jobs still on the core from their
	 * fences (this one and those behind it, or only those if this one
	 * completed meanwhile), for drm_sched_resubmit_jobs() to run them
	 * again. They keep running:
	 * attach them again, drm_sched_start() waits for them. The list is
	 * stable while the scheduler is stopped.
	 */
	list_for_each_entry(pending, &core->sched.pending_list, list) {
		struct dma_fence *hw = to_tapu_job(pending)->hw_fence;

		if (pending->s_fence->parent)
			continue;
		/* Pairs with lockless readers, as drm_sched_fence_set_parent() */
		smp_store_release(&pending->s_fence->parent, dma_fence_get(hw));
	}
	drm_sched_start(&core->sched);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

/*
 * free_job shares the submit workqueue's per-CPU pool with run_job, and
 * under memory pressure one rescuer runs every core's work in turn: it must
 * not block, and it is cheap, so as not to delay the next run_job on its
 * CPU. It is annotated as fence signalling, and the job's last reference, whose release calls
 * the backend's cleanup_job (vunmap or IOMMU unmap, reservation locks) and
 * frees BOs, is dropped on another workqueue.
 */
static void tapu_job_free(struct drm_sched_job *sched_job)
{
	struct tapu_job *job = to_tapu_job(sched_job);
	struct tapu_file *tfile = job->tfile;
	struct tapu_device *tdev = tfile->tdev;
	bool cookie = dma_fence_begin_signalling();

	scoped_guard(spinlock_irqsave, &tdev->lists_lock)
		list_del_init(&job->list);
	/*
	 * In 6.12 the jobs drm_sched_entity_kill() cancels skip
	 * drm_sched_job_done(), so nothing else takes back the score their
	 * push added: the entity load balancing would avoid the core for good.
	 */
	if (!job->ran)
		atomic_dec(sched_job->sched->score);

	/* Retire: later waits find the result in the file's ring. */
	scoped_guard(spinlock, &tfile->lock) {
		tapu_job_result(job, &tfile->results[tfile->retired++ %
						     TAPU_RESULTS_KEPT]);
		list_del(&job->link);
		tfile->in_flight--;
	}

	drm_sched_job_cleanup(sched_job);
	queue_work(tdev->release_wq, &job->put_work);
	dma_fence_end_signalling(cookie);
}

static const struct drm_sched_backend_ops tapu_sched_ops = {
	.run_job = tapu_job_run,
	.timedout_job = tapu_job_timedout,
	.free_job = tapu_job_free,
};

int tapu_sched_init(struct tapu_device *tdev)
{
	struct device *dev = tdev->drm.dev;
	u32 i;
	int ret;

	for (i = 0; i < tdev->desc.num_cores; i++) {
		const struct drm_sched_init_args args = {
			.ops = &tapu_sched_ops,
			.submit_wq = tdev->submit_wq,
			.num_rqs = DRM_SCHED_PRIORITY_COUNT,
			.credit_limit = max(tdev->desc.queue_depth, 1),
			.timeout = msecs_to_jiffies(tapu_job_timeout_ms),
			.timeout_wq = tdev->timeout_wq,
			.name = tdev->cores[i].name,
			.dev = dev,
		};

		ret = drm_sched_init(&tdev->cores[i].sched, &args);
		if (ret) {
			while (i--)
				drm_sched_fini(&tdev->cores[i].sched);
			return ret;
		}
	}
	return 0;
}

void tapu_sched_fini(struct drm_device *drm, void *data)
{
	struct tapu_device *tdev = data;
	u32 i;

	for (i = 0; i < tdev->desc.num_cores; i++)
		drm_sched_fini(&tdev->cores[i].sched);
	/* The cores go before the workqueue: no work of theirs may be left. */
	flush_workqueue(tdev->submit_wq);
}

int tapu_file_sched_init(struct tapu_file *tfile)
{
	struct tapu_device *tdev = tfile->tdev;
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(tfile->entities); i++) {
		ret = drm_sched_entity_init(&tfile->entities[i],
					    tapu_sched_prio[i], tdev->scheds,
					    tdev->desc.num_cores, NULL);
		if (ret) {
			while (i--)
				drm_sched_entity_destroy(&tfile->entities[i]);
			return ret;
		}
	}
	return 0;
}

/*
 * Closing a file cancels its jobs not yet on a core (they fail with -ESRCH
 * once their dependencies are done) without waiting for them to be
 * scheduled, as drm_sched_entity_destroy() would. Jobs on a core finish and
 * keep their BOs until then.
 *
 * The run-job workers are parked meanwhile: in 6.12 a worker that picked
 * an entity puts it back into its run queue after popping a job when
 * another is queued, even once drm_sched_entity_kill() has taken it out,
 * and the entity is freed with the file: the run queue's tree would keep
 * freed memory.
 */
void tapu_file_sched_fini(struct tapu_file *tfile)
{
	struct tapu_device *tdev = tfile->tdev;
	u32 c;
	int i;

	guard(mutex)(&tdev->park_lock);
	for (c = 0; c < tdev->desc.num_cores; c++)
		drm_sched_wqueue_stop(tdev->scheds[c]);
	for (i = 0; i < ARRAY_SIZE(tfile->entities); i++)
		drm_sched_entity_fini(&tfile->entities[i]);
	for (c = 0; c < tdev->desc.num_cores; c++)
		drm_sched_wqueue_start(tdev->scheds[c]);
}

/* Looks up the BO list, checking each BO against the validated stream. */
static int tapu_job_lookup_bos(struct drm_file *file, struct tapu_job *job,
			       const struct drm_tapu_submit *args, u64 *written,
			       u64 *read)
{
	struct drm_tapu_submit_bo __user *ubos = u64_to_user_ptr(args->bos);
	const struct tapu_isa_summary *sum = &job->stream->sum;
	struct drm_tapu_submit_bo bo;
	u32 i, j;
	int ret;

	*written = 0;
	*read = 0;
	for (i = 0; i < job->num_bos; i++) {
		if (copy_from_user(&bo, &ubos[i], sizeof(bo)))
			return -EFAULT;
		if (!bo.flags || bo.flags & ~(DRM_TAPU_BO_READ | DRM_TAPU_BO_WRITE))
			return -EINVAL;
		job->bos[i] = tapu_bo_lookup(file, bo.handle, &ret);
		if (!job->bos[i])
			return ret;
		for (j = 0; j < i; j++)
			if (job->bos[j] == job->bos[i])
				return -EINVAL;
		if (job->bos[i]->size < sum->extent[i])
			return -EINVAL;
		if (sum->written & BIT_ULL(i) && !(bo.flags & DRM_TAPU_BO_WRITE))
			return -EACCES;
		if (bo.flags & DRM_TAPU_BO_WRITE)
			*written |= BIT_ULL(i);
		if (bo.flags & DRM_TAPU_BO_READ)
			*read |= BIT_ULL(i);
	}
	return 0;
}

static int tapu_job_add_in_syncs(struct drm_file *file, struct tapu_job *job,
				 const struct drm_tapu_submit *args)
{
	struct drm_tapu_sync __user *usyncs = u64_to_user_ptr(args->in_syncs);
	struct drm_tapu_sync sync;
	struct dma_fence *fence;
	u32 i;
	int ret;

	for (i = 0; i < args->in_sync_count; i++) {
		if (copy_from_user(&sync, &usyncs[i], sizeof(sync)))
			return -EFAULT;
		if (sync.pad)
			return -EINVAL;
		/* Not the sched helper: it truncates points to 32 bits. */
		ret = drm_syncobj_find_fence(file, sync.handle, sync.point, 0,
					     &fence);
		if (ret)
			return ret;
		/* A timeline point's chain node does not carry the error. */
		job->deps[job->num_deps++] =
			dma_fence_get(dma_fence_chain_contained(fence));
		ret = drm_sched_job_add_dependency(&job->base, fence);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The jobs whose output this one reads, beside its in-syncs: the writers
 * of the BOs it reads. If one of them failed, this job fails too. Waiting
 * for readers before writing is not a use of their data: a failed job
 * does not keep failing later writers of its BOs.
 */
static int tapu_job_keep_producers(struct tapu_job *job, u64 read)
{
	struct dma_fence **deps, *fence;
	struct dma_resv_iter cursor;
	u32 i, n = 0;

	for (i = 0; i < job->num_bos; i++)
		if (read & BIT_ULL(i))
			dma_resv_for_each_fence(&cursor, job->bos[i]->resv,
						DMA_RESV_USAGE_WRITE, fence)
				n++;
	/* Room for one writer per BO came with the job: more is rare. */
	if (job->num_deps + n > job->max_deps) {
		deps = kmalloc_array(job->num_deps + n, sizeof(*deps),
				     GFP_KERNEL_ACCOUNT);
		if (!deps)
			return -ENOMEM;
		memcpy(deps, job->deps, job->num_deps * sizeof(*deps));
		if (job->deps != tapu_job_inline_deps(job))
			kfree(job->deps);
		job->deps = deps;
		job->max_deps = job->num_deps + n;
	}
	deps = job->deps;
	for (i = 0; i < job->num_bos; i++)
		if (read & BIT_ULL(i))
			dma_resv_for_each_fence(&cursor, job->bos[i]->resv,
						DMA_RESV_USAGE_WRITE, fence)
				deps[job->num_deps++] = dma_fence_get(fence);
	return 0;
}

/* Waits for earlier users of the BOs and makes later ones wait for us. */
static int tapu_job_lock_bos(struct tapu_job *job, u64 written, u64 read,
			     struct ww_acquire_ctx *ctx)
{
	u32 i;
	int ret;

	ret = drm_gem_lock_reservations(job->bos, job->num_bos, ctx);
	if (ret)
		return ret;
	for (i = 0; i < job->num_bos; i++) {
		ret = dma_resv_reserve_fences(job->bos[i]->resv, 1);
		if (!ret)
			ret = drm_sched_job_add_implicit_dependencies(&job->base,
								      job->bos[i],
								      written & BIT_ULL(i));
		if (ret)
			goto err_unlock;
	}
	ret = tapu_job_keep_producers(job, read);
	if (ret)
		goto err_unlock;
	return 0;

err_unlock:
	drm_gem_unlock_reservations(job->bos, job->num_bos, ctx);
	return ret;
}

static void tapu_job_publish(struct tapu_job *job, u64 written,
			     struct ww_acquire_ctx *ctx)
{
	u32 i;

	for (i = 0; i < job->num_bos; i++)
		dma_resv_add_fence(job->bos[i]->resv, job->done_fence,
				   written & BIT_ULL(i) ? DMA_RESV_USAGE_WRITE :
							  DMA_RESV_USAGE_READ);
	drm_gem_unlock_reservations(job->bos, job->num_bos, ctx);
}

static int tapu_submit_check(const struct drm_tapu_submit *args)
{
	if (args->flags || args->priority > DRM_TAPU_PRIO_HIGH)
		return -EINVAL;
	if (args->bo_count > TAPU_MAX_SLOTS ||
	    args->in_sync_count > TAPU_MAX_IN_SYNCS)
		return -EINVAL;
	if (!args->out_sync && args->out_sync_point)
		return -EINVAL;
	if (args->priority == DRM_TAPU_PRIO_HIGH && !capable(CAP_SYS_NICE))
		return -EACCES;
	return 0;
}

/* Reserves a place among the file's unfinished jobs. */
static bool tapu_file_reserve_job(struct tapu_file *tfile)
{
	bool ok;

	spin_lock(&tfile->lock);
	ok = tfile->in_flight < TAPU_MAX_JOBS_IN_FLIGHT;
	if (ok)
		tfile->in_flight++;
	spin_unlock(&tfile->lock);
	return ok;
}

/*
 * One allocation holds the job, its BO array, room for its in-syncs and
 * one writer per BO, and the backend's per-slot data: SUBMIT allocates
 * little beside it (the hardware and scheduler fences).
 */
static struct tapu_job *tapu_job_alloc(struct tapu_file *tfile,
				       u32 num_bos, u32 num_in_syncs)
{
	u32 max_deps = num_in_syncs + num_bos;
	size_t slot_off, size;
	struct tapu_job *job;

	size = size_add(struct_size(job, bos, num_bos),
			array_size(max_deps, sizeof(*job->deps)));
	slot_off = ALIGN(size, sizeof(u64));
	size = size_add(slot_off,
			array_size(num_bos,
				   tfile->tdev->desc.job_slot_priv_size));
	job = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!job)
		return NULL;
	job->hw_fence = kzalloc(sizeof(*job->hw_fence), GFP_KERNEL_ACCOUNT);
	if (!job->hw_fence) {
		kfree(job);
		return NULL;
	}
	kref_init(&job->refcount);
	INIT_WORK(&job->put_work, tapu_job_put_work);
	INIT_LIST_HEAD(&job->list);
	job->num_bos = num_bos;
	job->deps = tapu_job_inline_deps(job);
	job->max_deps = max_deps;
	if (tfile->tdev->desc.job_slot_priv_size)
		job->slot_priv = (void *)job + slot_off;
	kref_get(&tfile->refcount);
	job->tfile = tfile;
	atomic_inc(&tfile->tdev->jobs_active);
	return job;
}

static int tapu_submit(struct drm_file *file, struct drm_tapu_submit *args)
{
	struct tapu_file *tfile = file->driver_priv;
	struct tapu_device *tdev = tfile->tdev;
	struct dma_fence_chain *chain = NULL;
	struct drm_syncobj *out_sync = NULL;
	struct ww_acquire_ctx ctx;
	struct tapu_job *job;
	u64 written, read;
	int ret;

	job = tapu_job_alloc(tfile, args->bo_count, args->in_sync_count);
	ret = -ENOMEM;
	if (!job)
		goto err_unreserve;

	job->stream = tapu_cmdstream_lookup(file, args->cmdstream, &ret);
	if (!job->stream)
		goto err_put;
	ret = -EINVAL;
	if (args->bo_count < job->stream->sum.num_slots)
		goto err_put;
	ret = tapu_job_lookup_bos(file, job, args, &written, &read);
	if (ret)
		goto err_put;

	ret = drm_sched_job_init(&job->base, &tfile->entities[args->priority],
				 1, tfile, tfile->client_id);
	if (ret)
		goto err_put;
	ret = tapu_job_add_in_syncs(file, job, args);
	if (ret)
		goto err_cleanup;

	if (args->out_sync) {
		ret = -ENOENT;
		out_sync = drm_syncobj_find(file, args->out_sync);
		if (!out_sync)
			goto err_cleanup;
		ret = -ENOMEM;
		chain = args->out_sync_point ? dma_fence_chain_alloc() : NULL;
		if (args->out_sync_point && !chain)
			goto err_cleanup;
	}

	ret = tdev->desc.ops->prepare_job ?
	      tdev->desc.ops->prepare_job(tdev, job) : 0;
	if (ret)
		goto err_cleanup;

	/*
	 * Arm to push under one lock: the entity's queue must take the jobs in
	 * the order of their fences, and their implicit dependencies in the
	 * order they joined the reservations.
	 */
	mutex_lock(&tfile->submit_lock);
	ret = tapu_job_lock_bos(job, written, read, &ctx);
	if (ret) {
		mutex_unlock(&tfile->submit_lock);
		goto err_cleanup;
	}

	/* Nothing fails from here on. */
	drm_sched_job_arm(&job->base);
	/*
	 * Jobs of other files on the same core wait for this one to finish,
	 * not only to be scheduled: a cancelled job's error (set after its
	 * scheduled fence) reaches them. They only lose the queueing behind
	 * it on the core.
	 */
	set_bit(DRM_SCHED_FENCE_DONT_PIPELINE, &job->base.s_fence->finished.flags);
	job->done_fence = dma_fence_get(&job->base.s_fence->finished);
	tapu_job_publish(job, written, &ctx);

	if (chain)
		drm_syncobj_add_point(out_sync, chain, job->done_fence,
				      args->out_sync_point);
	else if (out_sync)
		drm_syncobj_replace_fence(out_sync, job->done_fence);
	if (out_sync)
		drm_syncobj_put(out_sync);

	scoped_guard(spinlock, &tfile->lock) {
		job->id = tfile->next_id++;
		list_add_tail(&job->link, &tfile->jobs);
	}
	args->job_id = job->id;
	scoped_guard(spinlock_irqsave, &tdev->lists_lock)
		list_add_tail(&job->list, &tdev->pending);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&tfile->submit_lock);
	return 0;

err_cleanup:
	dma_fence_chain_free(chain);
	if (out_sync)
		drm_syncobj_put(out_sync);
	drm_sched_job_cleanup(&job->base);
err_put:
	tapu_job_put(job);
err_unreserve:
	scoped_guard(spinlock, &tfile->lock)
		tfile->in_flight--;
	return ret;
}

int tapu_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct tapu_file *tfile = file->driver_priv;
	struct drm_tapu_submit *args = data;
	int ret, idx;

	ret = tapu_submit_check(args);
	if (ret)
		return ret;
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	ret = tapu_file_reserve_job(tfile) ? tapu_submit(file, args) : -EBUSY;
	drm_dev_exit(idx);
	return ret;
}

/**
 * tapu_deadline_timeout() - scheduler timeout for an absolute deadline
 * @deadline_ns: absolute CLOCK_MONOTONIC time, as the wait ioctls take it
 *
 * Jiffies and CLOCK_MONOTONIC do not tick together, and a wait of N
 * jiffies may end up to a tick early: callers wait again until this
 * returns 0, so that a wait never times out before its deadline. The
 * rounding up keeps that to one wait in the common case.
 *
 * Return: 0 once the deadline has passed, otherwise a timeout in jiffies
 * that does not end before it, or before a year for farther deadlines.
 */
long tapu_deadline_timeout(s64 deadline_ns)
{
	s64 now = ktime_get_ns();
	u64 left, timeout;

	if (deadline_ns <= now)
		return 0;
	/*
	 * A year at most per wait: nsecs_to_jiffies64() overflows for far
	 * deadlines at some HZ, and MAX_SCHEDULE_TIMEOUT would mean forever.
	 */
	left = min_t(u64, deadline_ns - now, 365ULL * 24 * 3600 * NSEC_PER_SEC);
	/* Up to a whole tick, plus the tick already under way. */
	timeout = nsecs_to_jiffies64(left + TICK_NSEC - 1) + 1;
	return min_t(u64, timeout, MAX_SCHEDULE_TIMEOUT - 1);
}

int tapu_ioctl_wait_job(struct drm_device *drm, void *data,
			struct drm_file *file)
{
	struct tapu_file *tfile = file->driver_priv;
	struct drm_tapu_wait_job *args = data;
	struct tapu_job_result res = {};
	struct tapu_job *job = NULL, *pos;
	long ret;
	u32 i;

	scoped_guard(spinlock, &tfile->lock) {
		if (!args->job_id || args->job_id >= tfile->next_id)
			return -EINVAL;
		list_for_each_entry(pos, &tfile->jobs, link) {
			if (pos->id == args->job_id) {
				job = pos;
				kref_get(&job->refcount);
				break;
			}
		}
		for (i = 0; !job && i < TAPU_RESULTS_KEPT; i++) {
			if (tfile->results[i].id == args->job_id) {
				res = tfile->results[i];
				break;
			}
		}
	}

	if (job) {
		long timeout;

		/* A wake-up before the deadline waits again for the rest. */
		do {
			timeout = tapu_deadline_timeout(args->timeout_ns);
			ret = dma_fence_wait_timeout(job->done_fence, true,
						     timeout);
		} while (!ret && timeout);
		if (ret > 0)
			tapu_job_result(job, &res);
		tapu_job_put(job);
		if (!ret)
			return -ETIME;
		if (ret < 0)
			return ret;
	} else if (res.id != args->job_id) {
		return -ENOENT;
	}

	args->status = res.error ? DRM_TAPU_JOB_FAILED : DRM_TAPU_JOB_DONE;
	args->error = res.error;
	args->cycles = res.cycles;
	args->duration_ns = res.duration_ns;
	return 0;
}

/**
 * tapu_job_stream() - the command stream of a job
 * @job: job
 * @size: set to the stream size in bytes
 *
 * Return: the validated stream; it does not change while the job lives.
 */
const void *tapu_job_stream(struct tapu_job *job, u32 *size)
{
	*size = job->stream->size;
	return job->stream->data;
}
EXPORT_SYMBOL_GPL(tapu_job_stream);

/**
 * tapu_job_work() - the work of a job's command stream
 * @job: job
 *
 * Return: the stream's work as tapu_isa_validate() counts it, at most
 * &tapu_device_desc.work_per_ms per millisecond of the job timeout.
 */
u64 tapu_job_work(struct tapu_job *job)
{
	return job->stream->sum.work;
}
EXPORT_SYMBOL_GPL(tapu_job_work);

/**
 * tapu_job_stream_priv() - backend data of a job's command stream
 * @job: job being prepared
 *
 * Only valid in &tapu_backend_ops.prepare_job: the device may be
 * unregistered later, cleaning up the stream's data while the job lives.
 *
 * Return: what &tapu_backend_ops.prepare_stream returned for the stream.
 */
void *tapu_job_stream_priv(struct tapu_job *job)
{
	return job->stream->priv;
}
EXPORT_SYMBOL_GPL(tapu_job_stream_priv);

/**
 * tapu_job_may_run() - whether a job a core queued may start
 * @job: job
 *
 * drm_sched hands a core the next job of an entity while the one before
 * runs, even if the next one waits for it: a core runs them in order. A
 * backend whose cores accept several jobs (&tapu_device_desc.queue_depth)
 * calls this as each one starts, once it has reported the completions of
 * the jobs before it.
 *
 * Return: false if a job this one waits for failed; the backend then
 * reports it done with -ECANCELED, without running it.
 */
bool tapu_job_may_run(struct tapu_job *job)
{
	return !tapu_job_dep_failed(job);
}
EXPORT_SYMBOL_GPL(tapu_job_may_run);

/**
 * tapu_job_num_bos() - number of BOs (slots) of a job
 * @job: job
 *
 * Return: the number of BOs.
 */
u32 tapu_job_num_bos(struct tapu_job *job)
{
	return job->num_bos;
}
EXPORT_SYMBOL_GPL(tapu_job_num_bos);

/**
 * tapu_job_bo() - the BO of a slot
 * @job: job
 * @slot: slot, below tapu_job_num_bos()
 *
 * Return: the GEM object; it is at least as large as the stream's extent
 * for the slot and stays referenced while the job lives.
 */
struct drm_gem_object *tapu_job_bo(struct tapu_job *job, u32 slot)
{
	return job->bos[slot];
}
EXPORT_SYMBOL_GPL(tapu_job_bo);

/**
 * tapu_job_set_priv() - attach backend data to a job
 * @job: job
 * @priv: data; non-NULL makes the core call &tapu_backend_ops.cleanup_job
 */
void tapu_job_set_priv(struct tapu_job *job, void *priv)
{
	job->priv = priv;
}
EXPORT_SYMBOL_GPL(tapu_job_set_priv);

/**
 * tapu_job_slot_priv() - per-slot backend data allocated with a job
 * @job: job
 *
 * Return: tapu_job_num_bos() zeroed entries of
 * &tapu_device_desc.job_slot_priv_size bytes each, 8-byte aligned, freed
 * with the job; NULL if the backend asked for none.
 */
void *tapu_job_slot_priv(struct tapu_job *job)
{
	return job->slot_priv;
}
EXPORT_SYMBOL_GPL(tapu_job_slot_priv);

/**
 * tapu_job_priv() - backend data of a job
 * @job: job
 *
 * Return: what tapu_job_set_priv() attached.
 */
void *tapu_job_priv(struct tapu_job *job)
{
	return job->priv;
}
EXPORT_SYMBOL_GPL(tapu_job_priv);
