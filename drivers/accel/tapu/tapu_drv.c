// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <linux/export.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "tapu_drv.h"

unsigned int tapu_job_timeout_ms = 2000;

/* 0 would time every job out at once; a minute without progress is hung. */
static int tapu_job_timeout_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int ret = kstrtouint(val, 0, &ms);

	if (ret)
		return ret;
	if (!ms || ms > TAPU_MAX_JOB_TIMEOUT_MS)
		return -EINVAL;
	*(unsigned int *)kp->arg = ms;
	return 0;
}

static const struct kernel_param_ops tapu_job_timeout_ops = {
	.set = tapu_job_timeout_set,
	.get = param_get_uint,
};

module_param_cb(job_timeout_ms, &tapu_job_timeout_ops, &tapu_job_timeout_ms,
		0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "Time a job may run without progress before it counts as hung (1-60000 ms)");

static int tapu_open(struct drm_device *drm, struct drm_file *file)
{
	struct tapu_device *tdev = to_tapu_device(drm);
	struct tapu_file *tfile;
	int ret;

	/* The backend executes this file's jobs: keep it loaded. */
	if (!try_module_get(tdev->desc.owner))
		return -ENODEV;

	tfile = kvzalloc(sizeof(*tfile), GFP_KERNEL_ACCOUNT);
	if (!tfile) {
		ret = -ENOMEM;
		goto err_put_module;
	}
	kref_init(&tfile->refcount);
	tfile->tdev = tdev;
	tfile->client_id = file->client_id;
	spin_lock_init(&tfile->lock);
	mutex_init(&tfile->submit_lock);
	INIT_LIST_HEAD(&tfile->jobs);
	tfile->next_id = 1;

	ret = tapu_file_sched_init(tfile);
	if (ret)
		goto err_free;

	file->driver_priv = tfile;
	return 0;

err_free:
	mutex_destroy(&tfile->submit_lock);
	kvfree(tfile);
err_put_module:
	module_put(tdev->desc.owner);
	return ret;
}

static void tapu_file_release(struct kref *kref)
{
	struct tapu_file *tfile = container_of(kref, struct tapu_file,
					       refcount);

	mutex_destroy(&tfile->submit_lock);
	kvfree(tfile);
}

void tapu_file_put(struct tapu_file *tfile)
{
	kref_put(&tfile->refcount, tapu_file_release);
}

static void tapu_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct tapu_file *tfile = file->driver_priv;
	struct module *owner = tfile->tdev->desc.owner;

	/* Cancels queued jobs; running ones keep their references. */
	tapu_file_sched_fini(tfile);
	tapu_file_put(tfile);
	module_put(owner);
}

static void tapu_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct tapu_file *tfile = file->driver_priv;
	u64 streams;

	drm_printf(p, "drm-engine-npu:\t%llu ns\n",
		   atomic64_read(&tfile->busy_ns));
	if (tfile->tdev->desc.num_cores > 1)
		drm_printf(p, "drm-engine-capacity-npu:\t%u\n",
			   tfile->tdev->desc.num_cores);
	drm_printf(p, "drm-cycles-npu:\t%llu\n", atomic64_read(&tfile->cycles));
	scoped_guard(spinlock, &tfile->lock)
		streams = tfile->stream_bytes;
	drm_printf(p, "tapu-cmdstream-memory:\t%llu KiB\n", streams / SZ_1K);
	drm_show_memory_stats(p, file);
}

/*
 * Copies a query result of @size bytes whose first version had @v1 bytes,
 * see &struct drm_tapu_query for the size rules.
 */
static int tapu_query_copy(struct drm_tapu_query *q, const void *info,
			   u32 size, u32 v1)
{
	void __user *ptr = u64_to_user_ptr(q->data);
	u32 n = min(q->size, size);

	if (!q->size) {
		q->size = size;
		return 0;
	}
	if (q->size < v1)
		return -EINVAL;
	if (copy_to_user(ptr, info, n) || clear_user(ptr + n, q->size - n))
		return -EFAULT;
	q->size = n;
	return 0;
}

static int tapu_ioctl_query(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct tapu_device *tdev = to_tapu_device(drm);
	struct drm_tapu_query *q = data;

	if (q->flags || q->pad)
		return -EINVAL;

	switch (q->type) {
	case DRM_TAPU_QUERY_DEVICE: {
		struct drm_tapu_device_info info = {
			.num_cores = tdev->desc.num_cores,
			.cycle_clock_hz = tdev->desc.cycle_clock_hz,
		};

		strscpy(info.backend, tdev->desc.name, sizeof(info.backend));
		return tapu_query_copy(q, &info, sizeof(info), sizeof(info));
	}
	case DRM_TAPU_QUERY_ISA: {
		struct drm_tapu_isa_info info = {
			.version = DRM_TAPU_ISA_VERSION,
			.max_dim = DRM_TAPU_MAX_DIM,
			.ops = GENMASK_ULL(DRM_TAPU_OP_COUNT - 1,
					   DRM_TAPU_OP_NOP),
		};

		return tapu_query_copy(q, &info, sizeof(info), sizeof(info));
	}
	case DRM_TAPU_QUERY_LIMITS: {
		struct drm_tapu_limits info = {
			.max_bo_size = TAPU_MAX_BO_SIZE,
			.max_cmdstream_size = TAPU_MAX_CMDSTREAM_SIZE,
			.max_bos = TAPU_MAX_SLOTS,
			.max_in_syncs = TAPU_MAX_IN_SYNCS,
			.max_jobs_in_flight = TAPU_MAX_JOBS_IN_FLIGHT,
			.job_timeout_ms = tapu_job_timeout_ms,
			.results_kept = TAPU_RESULTS_KEPT,
			.max_stream_work = tapu_max_stream_work(tdev),
		};

		return tapu_query_copy(q, &info, sizeof(info),
				       offsetofend(typeof(info), results_kept));
	}
	default:
		return -EINVAL;
	}
}

/* Accel nodes have no render node: no DRM_RENDER_ALLOW. */
#define TAPU_IOCTL(name, func) \
	DRM_IOCTL_DEF_DRV(TAPU_##name, tapu_ioctl_##func, 0)

static const struct drm_ioctl_desc tapu_ioctls[] = {
	TAPU_IOCTL(QUERY, query),
	TAPU_IOCTL(BO_CREATE, bo_create),
	TAPU_IOCTL(BO_INFO, bo_info),
	TAPU_IOCTL(BO_WAIT, bo_wait),
	TAPU_IOCTL(CMDSTREAM_CREATE, cmdstream_create),
	TAPU_IOCTL(SUBMIT, submit),
	TAPU_IOCTL(WAIT_JOB, wait_job),
};

static const struct file_operations tapu_accel_fops = {
	.owner = THIS_MODULE,
	DRM_ACCEL_FOPS,
	.show_fdinfo = drm_show_fdinfo,
};

static const struct drm_driver tapu_drm_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL | DRIVER_GEM |
			   DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE,
	.open = tapu_open,
	.postclose = tapu_postclose,
	.show_fdinfo = tapu_show_fdinfo,
	.gem_create_object = tapu_gem_create_object,
	.gem_prime_import_sg_table = drm_gem_shmem_prime_import_sg_table,
	.ioctls = tapu_ioctls,
	.num_ioctls = ARRAY_SIZE(tapu_ioctls),
	.fops = &tapu_accel_fops,
	.name = "tapu",
	.desc = "Tiny APU inference accelerator",
	.major = 1,
	.minor = 0,
};

static void tapu_destroy_wq(struct drm_device *drm, void *wq)
{
	destroy_workqueue(wq);
}

/* Destroys @wq, just allocated, with the DRM device. */
static int tapu_drmm_wq(struct tapu_device *tdev, struct workqueue_struct *wq)
{
	if (!wq)
		return -ENOMEM;
	return drmm_add_action_or_reset(&tdev->drm, tapu_destroy_wq, wq);
}

/**
 * tapu_device_create() - allocate a TAPU device for a backend
 * @parent: the backend's device; the TAPU device's lifetime follows it
 * @desc: backend description, copied
 *
 * Sets up one scheduler per core. Call tapu_device_register() once the
 * backend is ready to run jobs.
 *
 * Return: the device or an ERR_PTR().
 */
struct tapu_device *tapu_device_create(struct device *parent,
				       const struct tapu_device_desc *desc)
{
	struct tapu_device *tdev;
	u32 i;
	int ret;

	if (!desc->num_cores || desc->num_cores > TAPU_MAX_CORES ||
	    desc->queue_depth > TAPU_MAX_QUEUE_DEPTH || !desc->work_per_ms ||
	    !desc->ops->run_job || !desc->ops->reset || !desc->ops->progress ||
	    !desc->ops->prepare_stream != !desc->ops->cleanup_stream)
		return ERR_PTR(-EINVAL);

	tdev = devm_drm_dev_alloc(parent, &tapu_drm_driver, struct tapu_device,
				  drm);
	if (IS_ERR(tdev))
		return tdev;

	tdev->desc = *desc;
	ret = drmm_mutex_init(&tdev->drm, &tdev->park_lock);
	if (!ret)
		ret = drmm_mutex_init(&tdev->drm, &tdev->streams_lock);
	if (ret)
		return ERR_PTR(ret);
	INIT_LIST_HEAD(&tdev->streams);
	ret = tapu_kmap_init(tdev);
	if (ret)
		return ERR_PTR(ret);
	/*
	 * A per-CPU high-priority worker mostly starts a submitted job on
	 * the submitter's CPU, where drm_sched's own unbound ordered
	 * workqueue may wake a worker on another CPU first. Not ordered:
	 * run_job and free_job of a core may run at once, which drm_sched
	 * allows. The per-CPU pool is shared: run_job is kept short.
	 */
	tdev->submit_wq = alloc_workqueue("tapu-submit",
					  WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	ret = tapu_drmm_wq(tdev, tdev->submit_wq);
	if (ret)
		return ERR_PTR(ret);
	/* Reclaim may wait for a hung job's fence: the timeouts progress. */
	tdev->timeout_wq = alloc_ordered_workqueue("tapu-timeout",
						   WQ_MEM_RECLAIM);
	ret = tapu_drmm_wq(tdev, tdev->timeout_wq);
	if (ret)
		return ERR_PTR(ret);
	tdev->release_wq = alloc_workqueue("tapu-release", WQ_UNBOUND, 0);
	ret = tapu_drmm_wq(tdev, tdev->release_wq);
	if (ret)
		return ERR_PTR(ret);
	spin_lock_init(&tdev->lists_lock);
	INIT_LIST_HEAD(&tdev->pending);
	INIT_LIST_HEAD(&tdev->scheduled);
	tdev->cores = drmm_kcalloc(&tdev->drm, desc->num_cores,
				   sizeof(*tdev->cores), GFP_KERNEL);
	tdev->scheds = drmm_kcalloc(&tdev->drm, desc->num_cores,
				    sizeof(*tdev->scheds), GFP_KERNEL);
	if (!tdev->cores || !tdev->scheds)
		return ERR_PTR(-ENOMEM);

	for (i = 0; i < desc->num_cores; i++) {
		struct tapu_core *core = &tdev->cores[i];

		core->tdev = tdev;
		core->index = i;
		/* Fences name their timeline after it while the device lives. */
		snprintf(core->name, sizeof(core->name), "tapu-core%u", i);
		spin_lock_init(&core->lock);
		core->fence_context = dma_fence_context_alloc(1);
		tdev->scheds[i] = &core->sched;
	}

	ret = tapu_sched_init(tdev);
	if (ret)
		return ERR_PTR(ret);
	/*
	 * Open files keep their entities in the schedulers' run queues after
	 * an unbind: the schedulers go with the DRM device, after the last
	 * close.
	 */
	ret = drmm_add_action_or_reset(&tdev->drm, tapu_sched_fini, tdev);
	if (ret)
		return ERR_PTR(ret);

	return tdev;
}
EXPORT_SYMBOL_GPL(tapu_device_create);

/**
 * tapu_device_register() - expose the device to userspace
 * @tdev: device from tapu_device_create()
 *
 * Return: 0 or a negative errno.
 */
int tapu_device_register(struct tapu_device *tdev)
{
	int ret = drm_dev_register(&tdev->drm, 0);

	if (!ret)
		tapu_debugfs_init(tdev);
	return ret;
}
EXPORT_SYMBOL_GPL(tapu_device_register);

/**
 * tapu_device_unregister() - remove the device from userspace
 * @tdev: registered device
 *
 * New ioctls fail with -ENODEV from here on. The jobs not yet on a core
 * fail with -ENODEV without running, once their dependencies are done;
 * this waits for them and for the running ones, so the backend must keep
 * its cores working until it returns. It also cleans up every stream the
 * backend prepared. The schedulers stop once the last
 * open file of the device is closed.
 */
void tapu_device_unregister(struct tapu_device *tdev)
{
	drm_dev_unplug(&tdev->drm);
	wait_var_event(&tdev->jobs_active, !atomic_read(&tdev->jobs_active));
	tapu_cmdstream_unprepare_all(tdev);
}
EXPORT_SYMBOL_GPL(tapu_device_unregister);

/**
 * tapu_device_core() - a core of a device
 * @tdev: device
 * @index: core number, below the device's number of cores
 *
 * Return: the core.
 */
struct tapu_core *tapu_device_core(struct tapu_device *tdev, u32 index)
{
	return &tdev->cores[index];
}
EXPORT_SYMBOL_GPL(tapu_device_core);

/**
 * tapu_device_set_priv() - attach backend data to a device
 * @tdev: device
 * @priv: backend data
 */
void tapu_device_set_priv(struct tapu_device *tdev, void *priv)
{
	tdev->priv = priv;
}
EXPORT_SYMBOL_GPL(tapu_device_set_priv);

/**
 * tapu_device_priv() - backend data of a device
 * @tdev: device
 *
 * Return: what tapu_device_set_priv() attached.
 */
void *tapu_device_priv(struct tapu_device *tdev)
{
	return tdev->priv;
}
EXPORT_SYMBOL_GPL(tapu_device_priv);

/**
 * tapu_device_dev() - the device a TAPU device was created for
 * @tdev: device
 *
 * Return: the parent device given to tapu_device_create().
 */
struct device *tapu_device_dev(struct tapu_device *tdev)
{
	return tdev->drm.dev;
}
EXPORT_SYMBOL_GPL(tapu_device_dev);

/**
 * tapu_device_timeout_ms() - job timeout of a device
 * @tdev: device
 *
 * Return: how long a job may run without progress before it counts as hung.
 */
unsigned int tapu_device_timeout_ms(struct tapu_device *tdev)
{
	return tapu_job_timeout_ms;
}
EXPORT_SYMBOL_GPL(tapu_device_timeout_ms);

/**
 * tapu_core_index() - number of a core
 * @core: core
 *
 * Return: the core's index in its device.
 */
u32 tapu_core_index(struct tapu_core *core)
{
	return core->index;
}
EXPORT_SYMBOL_GPL(tapu_core_index);

/**
 * tapu_core_device() - device of a core
 * @core: core
 *
 * Return: the device the core belongs to.
 */
struct tapu_device *tapu_core_device(struct tapu_core *core)
{
	return core->tdev;
}
EXPORT_SYMBOL_GPL(tapu_core_device);

MODULE_DESCRIPTION("TAPU inference accelerator core");
MODULE_AUTHOR("The TAPU authors");
MODULE_LICENSE("GPL");
