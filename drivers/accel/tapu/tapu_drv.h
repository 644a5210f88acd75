/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright 2026 The TAPU authors */

#ifndef __TAPU_DRV_H__
#define __TAPU_DRV_H__

#include <drm/drm_device.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/gpu_scheduler.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "tapu_backend.h"
#include "tapu_isa.h"

#define TAPU_MAX_IN_SYNCS		64
/* Handles one syncobj wait, reset, signal or query may name. */
#define TAPU_MAX_SYNCOBJ_HANDLES	65536
#define TAPU_MAX_JOBS_IN_FLIGHT		256
#define TAPU_RESULTS_KEPT		256
#define TAPU_MAX_BO_SIZE		SZ_1G
/* Kernel memory of one file's command streams, in whole pages each. */
#define TAPU_MAX_CMDSTREAM_MEMORY	(64ULL * TAPU_MAX_CMDSTREAM_SIZE)
#define TAPU_MAX_JOB_TIMEOUT_MS		60000
/* Timeouts a job may survive by showing progress before it counts as hung. */
#define TAPU_MAX_TIMEOUT_EXTENSIONS	32

extern unsigned int tapu_job_timeout_ms;

/**
 * struct tapu_core - one core of a device, with its own scheduler
 * @tdev: owning device
 * @index: core number
 * @sched: scheduler feeding this core, &tapu_device_desc.queue_depth jobs
 *	at a time
 * @name: name of @sched and of its fences' timeline
 * @lock: protects @jobs, @head and @count (taken in the completion
 *	interrupt)
 * @jobs: jobs handed to the core and not yet completed, @count of them
 *	from @head, in the order the core runs them
 * @head: index in @jobs of the oldest, the one the core runs
 * @count: entries in @jobs
 * @fence_context: context of the hardware fences of this core
 * @fence_seqno: last hardware fence sequence number
 * @jobs_done: jobs completed (debugfs)
 * @resets: resets after a hang (debugfs)
 * @busy_ns: completed jobs' times on the core (debugfs)
 * @priv: backend data
 */
struct tapu_core {
	struct tapu_device *tdev;
	u32 index;
	struct drm_gpu_scheduler sched;
	char name[sizeof("tapu-core4294967295")];
	spinlock_t lock; /* protects jobs, head, count, fences */
	struct tapu_job *jobs[TAPU_MAX_QUEUE_DEPTH];
	u32 head;
	u32 count;
	u64 fence_context;
	u64 fence_seqno;
	u64 jobs_done;
	u32 resets;
	u64 busy_ns;
	void *priv;
};

/**
 * struct tapu_device - a TAPU accel device
 * @drm: DRM device
 * @desc: backend description
 * @cores: the cores
 * @scheds: schedulers of @cores, for entity load balancing
 * @park_lock: serialises parking the schedulers (drm_sched_wqueue_stop(),
 *	drm_sched_stop()) for a file's entity teardown or a timeout
 * @submit_wq: the schedulers' run-job and free-job work, per CPU
 * @timeout_wq: ordered: the cores' timeout handlers run one at a time
 * @release_wq: drops the scheduler's job references, off its workqueue
 * @lists_lock: protects @pending and @scheduled
 * @pending: jobs submitted, waiting for dependencies or a free core
 * @scheduled: jobs handed to a core, waiting for completion
 * @jobs_active: jobs not yet freed, waited for at unregister
 * @streams_lock: protects @streams
 * @streams: command streams with backend data, until unregister
 * @kmap_lock: protects @kmap_lru, its counters and those of the mappings;
 *	taken inside BOs' reservations
 * @kmap_lru: data BOs with a kept kernel mapping that no job uses, least
 *	recently used first
 * @kmapped_bos: data BOs with a kept kernel mapping
 * @kmapped_pages: their pages
 * @kmap_idle_bos: entries in @kmap_lru
 * @kmap_idle_pages: their pages
 * @shrinker: drops the kernel mappings of BOs no job uses, under memory
 *	pressure
 * @priv: backend data
 */
struct tapu_device {
	struct drm_device drm;
	struct tapu_device_desc desc;
	struct tapu_core *cores;
	struct drm_gpu_scheduler **scheds;
	struct mutex park_lock; /* one user of stopped schedulers at a time */
	struct workqueue_struct *submit_wq;
	struct workqueue_struct *timeout_wq;
	struct workqueue_struct *release_wq;
	spinlock_t lists_lock; /* protects pending, scheduled */
	struct list_head pending;
	struct list_head scheduled;
	atomic_t jobs_active;
	struct mutex streams_lock; /* protects streams */
	struct list_head streams;
	spinlock_t kmap_lock; /* protects kmap_lru and the kmap counters */
	struct list_head kmap_lru;
	unsigned long kmapped_bos;
	unsigned long kmapped_pages;
	unsigned long kmap_idle_bos;
	unsigned long kmap_idle_pages;
	struct shrinker *shrinker;
	void *priv;
};

/**
 * struct tapu_bo - a data BO
 * @base: the shmem object
 * @kmap_link: entry in &tapu_device.kmap_lru while @kmap is kept and no
 *	job uses it (&tapu_device.kmap_lock)
 * @kmap: kernel mapping for the jobs, NULL if none (reservation lock)
 * @kmap_users: jobs using @kmap (reservation lock)
 * @kmap_reclaiming: the shrinker is dropping @kmap: set under
 *	&tapu_device.kmap_lock, the BO is not freed until it is cleared
 */
struct tapu_bo {
	struct drm_gem_shmem_object base;
	struct list_head kmap_link;
	void *kmap;
	unsigned int kmap_users;
	bool kmap_reclaiming;
};

static inline struct tapu_bo *to_tapu_bo(struct drm_gem_object *obj)
{
	return container_of(to_drm_gem_shmem_obj(obj), struct tapu_bo, base);
}

/*
 * Work a stream may hold: what a core gets through in half the job
 * timeout, so that a valid job ends in time also on a busy machine.
 */
static inline u64 tapu_max_stream_work(const struct tapu_device *tdev)
{
	u64 work;

	/* A firmware's figure is not trusted not to overflow. */
	if (check_mul_overflow((u64)tapu_job_timeout_ms, tdev->desc.work_per_ms,
			       &work))
		return U64_MAX / 2;
	return work / 2;
}

static inline struct tapu_device *to_tapu_device(struct drm_device *drm)
{
	return container_of(drm, struct tapu_device, drm);
}

/**
 * struct tapu_job_result - what WAIT_JOB reports of a retired job
 * @id: job id, 0 for an empty entry
 * @error: 0 or negative errno
 * @cycles: device cycles
 * @duration_ns: time on the core
 */
struct tapu_job_result {
	u64 id;
	s32 error;
	u64 cycles;
	u64 duration_ns;
};

/**
 * struct tapu_file - per-open-file state
 * @refcount: held by the file and by each of its jobs
 * @tdev: device
 * @client_id: DRM client id (debugfs, scheduler)
 * @entities: one scheduler entity per &enum drm_tapu_priority
 * @submit_lock: held from drm_sched_job_arm() to drm_sched_entity_push_job()
 * @lock: protects @jobs, @next_id, @in_flight, @results, @retired and
 *	@stream_bytes
 * @jobs: jobs not yet retired
 * @next_id: id of the next job
 * @in_flight: number of entries in @jobs
 * @busy_ns: engine time of completed jobs (fdinfo)
 * @cycles: device cycles of completed jobs (fdinfo)
 * @results: ring of the results of the last retired jobs, in the order
 *	they retired
 * @retired: jobs retired, the next entry of @results modulo its size
 * @stream_bytes: memory charged for the file's command streams, at most
 *	TAPU_MAX_CMDSTREAM_MEMORY
 */
struct tapu_file {
	struct kref refcount;
	struct tapu_device *tdev;
	u64 client_id;
	struct drm_sched_entity entities[DRM_TAPU_PRIO_HIGH + 1];
	struct mutex submit_lock; /* orders arm and push on the entities */
	spinlock_t lock; /* protects jobs, ids, in_flight, results */
	struct list_head jobs;
	u64 next_id;
	u32 in_flight;
	atomic64_t busy_ns;
	atomic64_t cycles;
	struct tapu_job_result results[TAPU_RESULTS_KEPT];
	u32 retired;
	u64 stream_bytes;
};

void tapu_file_put(struct tapu_file *tfile);

/**
 * struct tapu_cmdstream - a validated, immutable command stream
 * @base: GEM object (no backing pages, never mapped or exported)
 * @tfile: file whose stream memory it is charged to
 * @sum: what validation learnt
 * @size: stream size in bytes
 * @data: the stream
 * @link: entry in &tapu_device.streams while @priv is set
 * @priv: what &tapu_backend_ops.prepare_stream returned, or NULL
 */
struct tapu_cmdstream {
	struct drm_gem_object base;
	struct tapu_file *tfile;
	struct tapu_isa_summary sum;
	u32 size;
	void *data;
	struct list_head link;
	void *priv;
};

void tapu_cmdstream_unprepare_all(struct tapu_device *tdev);

struct tapu_cmdstream *tapu_cmdstream_lookup(struct drm_file *file,
					     u32 handle, int *err);
struct drm_gem_object *tapu_bo_lookup(struct drm_file *file, u32 handle,
				      int *err);

/**
 * struct tapu_job - a submitted command stream and its BOs
 * @base: scheduler job
 * @refcount: held by the scheduler and by waiters
 * @put_work: drops the scheduler's reference after free_job
 * @tfile: submitting file
 * @id: id within @tfile
 * @link: entry in &tapu_file.jobs
 * @list: entry in &tapu_device.pending or &tapu_device.scheduled
 * @core: core running the job, set by run_job
 * @stream: validated command stream
 * @hw_fence: signalled by the core's completion
 * @done_fence: the scheduler's finished fence
 * @start_ns: when the job started on its core: handed to it, or when the
 *	job before it there ended (then under the core's lock)
 * @end_ns: when the job completed
 * @cycles: device cycles reported at completion
 * @progress: backend progress when the job started, then at its last
 *	timeout
 * @extensions: timeouts survived by making progress
 * @ran: the scheduler handed the job to run_job (even to be skipped)
 * @priv: backend data
 * @slot_priv: &tapu_device_desc.job_slot_priv_size bytes per slot,
 *	allocated with the job
 * @num_deps: entries in @deps
 * @max_deps: room in @deps
 * @deps: in-syncs and writers of the BOs the job reads, checked for
 *	errors before it runs; allocated with the job unless it outgrew that
 * @num_bos: entries in @bos
 * @bos: BOs by slot
 */
struct tapu_job {
	struct drm_sched_job base;
	struct kref refcount;
	struct work_struct put_work;
	struct tapu_file *tfile;
	u64 id;
	struct list_head link;
	struct list_head list;
	struct tapu_core *core;
	struct tapu_cmdstream *stream;
	struct dma_fence *hw_fence;
	struct dma_fence *done_fence;
	u64 start_ns;
	u64 end_ns;
	u64 cycles;
	u64 progress;
	u32 extensions;
	bool ran;
	void *priv;
	void *slot_priv;
	u32 num_deps;
	u32 max_deps;
	struct dma_fence **deps;
	u32 num_bos;
	struct drm_gem_object *bos[] __counted_by(num_bos);
};

int tapu_ioctl_bo_create(struct drm_device *drm, void *data,
			 struct drm_file *file);
int tapu_ioctl_bo_info(struct drm_device *drm, void *data,
		       struct drm_file *file);
int tapu_ioctl_bo_wait(struct drm_device *drm, void *data,
		       struct drm_file *file);
int tapu_ioctl_cmdstream_create(struct drm_device *drm, void *data,
				struct drm_file *file);
int tapu_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file);
int tapu_ioctl_wait_job(struct drm_device *drm, void *data,
			struct drm_file *file);

long tapu_deadline_timeout(s64 deadline_ns);

struct drm_gem_object *tapu_gem_create_object(struct drm_device *drm,
					      size_t size);
int tapu_kmap_init(struct tapu_device *tdev);

int tapu_sched_init(struct tapu_device *tdev);
void tapu_sched_fini(struct drm_device *drm, void *tdev);
int tapu_file_sched_init(struct tapu_file *tfile);
void tapu_file_sched_fini(struct tapu_file *tfile);

void tapu_debugfs_init(struct tapu_device *tdev);

#endif /* __TAPU_DRV_H__ */
