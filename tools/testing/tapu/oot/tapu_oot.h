/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright 2026 The TAPU authors */

/*
 * Included first in every file of the out-of-tree build (Kbuild): what the
 * target kernel lacks, so that drivers/accel/tapu calls the API of the
 * kernel tree it is written for.
 */

#ifndef __TAPU_OOT_H__
#define __TAPU_OOT_H__

#include <drm/drm_accel.h>
#include <drm/gpu_scheduler.h>
#include <linux/compat.h>
#include <linux/fs.h>

/*
 * The DRM core of the target lets accel files reach core ioctls that
 * misbehave for them (tapu_core_ioctl.c): TAPU's file operations filter
 * them first.
 */
long tapu_core_ioctl_filter(struct file *filp, unsigned int cmd,
			    unsigned long arg);
long tapu_core_compat_ioctl_filter(struct file *filp, unsigned int cmd,
				   unsigned long arg);

#undef DRM_ACCEL_FOPS
#define DRM_ACCEL_FOPS \
	.open = accel_open, \
	.release = drm_release, \
	.unlocked_ioctl = tapu_core_ioctl_filter, \
	.compat_ioctl = PTR_IF(IS_ENABLED(CONFIG_COMPAT), \
			       tapu_core_compat_ioctl_filter), \
	.poll = drm_poll, \
	.read = drm_read, \
	.llseek = noop_llseek, \
	.mmap = drm_gem_mmap, \
	.fop_flags = FOP_UNSIGNED_OFFSET

/* Before 6.12.115, drm_sched_init() took its parameters one by one. */
#ifdef TAPU_OOT_SCHED_INIT_POSITIONAL
struct drm_sched_init_args {
	const struct drm_sched_backend_ops *ops;
	struct workqueue_struct *submit_wq;
	struct workqueue_struct *timeout_wq;
	u32 num_rqs;
	u32 credit_limit;
	unsigned int hang_limit;
	long timeout;
	atomic_t *score;
	const char *name;
	struct device *dev;
};

static inline int tapu_oot_sched_init(struct drm_gpu_scheduler *sched,
				      const struct drm_sched_init_args *a)
{
	return drm_sched_init(sched, a->ops, a->submit_wq, a->num_rqs,
			      a->credit_limit, a->hang_limit, a->timeout,
			      a->timeout_wq, a->score, a->name, a->dev);
}

#define drm_sched_init tapu_oot_sched_init
#endif

/* Before 6.12.115, drm_sched_job_init() took no client id. */
#ifdef TAPU_OOT_SCHED_JOB_NO_CLIENT_ID
static inline int tapu_oot_sched_job_init(struct drm_sched_job *job,
					  struct drm_sched_entity *entity,
					  u32 credits, void *owner,
					  u64 client_id)
{
	return drm_sched_job_init(job, entity, credits, owner);
}

#define drm_sched_job_init tapu_oot_sched_job_init
#endif

#endif /* __TAPU_OOT_H__ */
