/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright 2026 The TAPU authors */

#ifndef __TAPU_BACKEND_H__
#define __TAPU_BACKEND_H__

#include <linux/types.h>

struct dentry;
struct device;
struct drm_gem_object;
struct module;
struct tapu_core;
struct tapu_device;
struct tapu_job;

/**
 * struct tapu_backend_ops - what a backend implements for the TAPU core
 *
 * The core owns scheduling, fences and the uAPI; a backend only moves jobs
 * through each of its cores, in order, &tapu_device_desc.queue_depth at a
 * time.
 */
struct tapu_backend_ops {
	/**
	 * @prepare_job: make the job's BOs accessible to the device (map them
	 * through an IOMMU, build a buffer table, vmap them for a simulator).
	 * Called at submit, in process context; may allocate and sleep.
	 */
	int (*prepare_job)(struct tapu_device *tdev, struct tapu_job *job);
	/**
	 * @cleanup_job: undo @prepare_job once the device is done with the job.
	 * Process context.
	 */
	void (*cleanup_job)(struct tapu_device *tdev, struct tapu_job *job);
	/**
	 * @prepare_stream: optional; make a validated command stream readable
	 * by the device once, for every job that runs it (e.g. copy it to
	 * DMA memory). Called at CMDSTREAM_CREATE, in process context; may
	 * allocate and sleep. Return: data for tapu_job_stream_priv(), or an
	 * ERR_PTR().
	 */
	void *(*prepare_stream)(struct tapu_device *tdev, const void *data,
				u32 size);
	/**
	 * @cleanup_stream: undo @prepare_stream, when the stream is destroyed
	 * or the device is unregistered, whichever comes first; a job that
	 * still uses the stream must hold its own reference. Process context.
	 */
	void (*cleanup_stream)(struct tapu_device *tdev, void *priv);
	/**
	 * @run_job: hand the job to a core, which runs it once the jobs handed
	 * to it before are done (at most &tapu_device_desc.queue_depth at a
	 * time). Fence signalling critical section: no memory allocation, no
	 * runtime-PM resume, no lock that is taken while allocating. Each
	 * completion is reported, in order, with tapu_core_job_done().
	 */
	void (*run_job)(struct tapu_core *core, struct tapu_job *job);
	/**
	 * @progress: a counter that moves while the running job makes
	 * progress, read when its timeout expires to tell a long job from a
	 * hung one. Lockless: also read on the completion path, when the next
	 * queued job starts.
	 */
	u64 (*progress)(struct tapu_core *core);
	/**
	 * @poll: optional; report the completions whose interrupt was lost
	 * (call tapu_core_job_done() for each job the core has finished, in
	 * order).
	 */
	void (*poll)(struct tapu_core *core);
	/**
	 * @reset: stop the core and forget its jobs; on return it no longer
	 * touches job memory. Before that, report the jobs that finished and
	 * may report the one it stopped (-ETIMEDOUT; otherwise the core fails
	 * the oldest with it). It must report any job that had started: the
	 * core hands the others, which never started, to @run_job again.
	 * Called from the timeout worker; may sleep but must not allocate.
	 */
	void (*reset)(struct tapu_core *core);
	/** @debugfs_init: optional; add backend files to the device's dir */
	void (*debugfs_init)(struct tapu_device *tdev, struct dentry *root);
};

/**
 * struct tapu_device_desc - a backend's description of its device
 * @name: backend name reported by DRM_TAPU_QUERY_DEVICE
 * @owner: module implementing @ops, pinned while the device is open
 * @ops: backend operations
 * @num_cores: number of cores, 1 to TAPU_MAX_CORES
 * @cycle_clock_hz: frequency of the cycle counter the backend reports
 * @work_per_ms: work (see tapu_isa_validate()) a core gets through per
 *	millisecond at its slowest op: a command stream may hold this much
 *	per millisecond of the job timeout, so that a valid job ends in time
 * @job_slot_priv_size: optional; bytes of backend data per BO slot that
 *	the core allocates with each job (tapu_job_slot_priv())
 * @queue_depth: optional; jobs a core accepts at once, up to
 *	TAPU_MAX_QUEUE_DEPTH (0: one), so that it starts the next one as soon
 *	as one ends
 */
struct tapu_device_desc {
	const char *name;
	struct module *owner;
	const struct tapu_backend_ops *ops;
	u32 num_cores;
	u64 cycle_clock_hz;
	u64 work_per_ms;
	size_t job_slot_priv_size;
	u32 queue_depth;
};

#define TAPU_MAX_CORES		16
#define TAPU_MAX_QUEUE_DEPTH	4

struct tapu_device *tapu_device_create(struct device *parent,
				       const struct tapu_device_desc *desc);
int tapu_device_register(struct tapu_device *tdev);
void tapu_device_unregister(struct tapu_device *tdev);
struct tapu_core *tapu_device_core(struct tapu_device *tdev, u32 index);
void tapu_device_set_priv(struct tapu_device *tdev, void *priv);
void *tapu_device_priv(struct tapu_device *tdev);
struct device *tapu_device_dev(struct tapu_device *tdev);
unsigned int tapu_device_timeout_ms(struct tapu_device *tdev);

u32 tapu_core_index(struct tapu_core *core);
struct tapu_device *tapu_core_device(struct tapu_core *core);
void tapu_core_job_done(struct tapu_core *core, int error, u64 cycles);

const void *tapu_job_stream(struct tapu_job *job, u32 *size);
u64 tapu_job_work(struct tapu_job *job);
bool tapu_job_may_run(struct tapu_job *job);
void *tapu_job_stream_priv(struct tapu_job *job);
u32 tapu_job_num_bos(struct tapu_job *job);
struct drm_gem_object *tapu_job_bo(struct tapu_job *job, u32 slot);
void *tapu_bo_kmap_get(struct drm_gem_object *obj);
void tapu_bo_kmap_put(struct drm_gem_object *obj);
void tapu_job_set_priv(struct tapu_job *job, void *priv);
void *tapu_job_priv(struct tapu_job *job);
void *tapu_job_slot_priv(struct tapu_job *job);

#endif /* __TAPU_BACKEND_H__ */
