// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libtapu: job submission, waits and syncobjs. */
#include <stdlib.h>

#include <xf86drm.h>

#include "libtapu_priv.h"

int tapu_submit(struct tapu_device *dev, const struct tapu_stream *stream,
		struct tapu_bo *const bos[], const uint32_t access[],
		unsigned int n, const struct drm_tapu_sync *in_syncs,
		unsigned int n_in, const struct drm_tapu_sync *out_sync,
		enum drm_tapu_priority prio, uint64_t *job_id)
{
	struct drm_tapu_submit_bo *list;
	struct drm_tapu_submit s;
	int ret;

	if (!dev || !stream || (n && !bos) || (n_in && !in_syncs) || !job_id)
		return -EINVAL;
	list = calloc(n ?: 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		if (!bos[i]) {
			free(list);
			return -EINVAL;
		}
		list[i].handle = bos[i]->handle;
		list[i].flags = access ? access[i] :
				DRM_TAPU_BO_READ | DRM_TAPU_BO_WRITE;
	}
	/* The parts run in order: one file, one priority, the same BOs. */
	for (unsigned int i = 0; i < stream->num_parts; i++) {
		int last = i + 1 == stream->num_parts;

		s = (struct drm_tapu_submit){
			.cmdstream = stream->handle[i], .bo_count = n,
			.bos = (uintptr_t)list, .priority = prio,
			.in_syncs = i ? 0 : (uintptr_t)in_syncs,
			.in_sync_count = i ? 0 : n_in,
			.out_sync = out_sync && last ? out_sync->handle : 0,
			.out_sync_point = out_sync && last ? out_sync->point : 0,
		};
		ret = tapu_ioctl(dev, DRM_IOCTL_TAPU_SUBMIT, &s);
		if (ret)
			break;
	}
	free(list);
	if (!ret)
		*job_id = s.job_id;
	return ret;
}

int tapu_wait(struct tapu_device *dev, uint64_t job_id, int64_t timeout_ns,
	      struct tapu_job_result *result)
{
	struct drm_tapu_wait_job w = {
		.job_id = job_id, .timeout_ns = tapu_deadline(timeout_ns),
	};
	int ret;

	if (!dev)
		return -EINVAL;
	ret = tapu_ioctl(dev, DRM_IOCTL_TAPU_WAIT_JOB, &w);
	if (ret)
		return ret;
	if (result)
		*result = (struct tapu_job_result){
			w.status, w.error, w.cycles, w.duration_ns,
		};
	if (w.status == DRM_TAPU_JOB_DONE)
		return 0;
	return w.error ?: -EIO;
}

int tapu_syncobj_create(struct tapu_device *dev, int signaled, uint32_t *handle)
{
	if (!dev || !handle)
		return -EINVAL;
	return tapu_err(drmSyncobjCreate(dev->fd, signaled ?
					 DRM_SYNCOBJ_CREATE_SIGNALED : 0, handle));
}

int tapu_syncobj_destroy(struct tapu_device *dev, uint32_t handle)
{
	return dev ? tapu_err(drmSyncobjDestroy(dev->fd, handle)) : -EINVAL;
}

int tapu_syncobj_signal(struct tapu_device *dev, uint32_t handle, uint64_t point)
{
	if (!dev)
		return -EINVAL;
	if (!point)
		return tapu_err(drmSyncobjSignal(dev->fd, &handle, 1));
	return tapu_err(drmSyncobjTimelineSignal(dev->fd, &handle, &point, 1));
}

int tapu_syncobj_wait(struct tapu_device *dev, uint32_t handle, uint64_t point,
		      int64_t timeout_ns)
{
	uint32_t flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;
	int64_t deadline = tapu_deadline(timeout_ns);

	if (!dev)
		return -EINVAL;
	if (!point)
		return tapu_err(drmSyncobjWait(dev->fd, &handle, 1, deadline,
					       flags, NULL));
	return tapu_err(drmSyncobjTimelineWait(dev->fd, &handle, &point, 1,
					       deadline, flags, NULL));
}

int tapu_syncobj_export(struct tapu_device *dev, uint32_t handle, int *fd)
{
	if (!dev || !fd)
		return -EINVAL;
	return tapu_err(drmSyncobjHandleToFD(dev->fd, handle, fd));
}

int tapu_syncobj_import(struct tapu_device *dev, int fd, uint32_t *handle)
{
	if (!dev || !handle)
		return -EINVAL;
	return tapu_err(drmSyncobjFDToHandle(dev->fd, fd, handle));
}
