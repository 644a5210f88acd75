// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libtapu: buffer objects. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xf86drm.h>

#include "libtapu_priv.h"

/* Adds a BO for @handle to @dev's list; called with dev->lock held. */
static int bo_add(struct tapu_device *dev, uint32_t handle, uint64_t size,
		  uint64_t offset, struct tapu_bo **bop)
{
	struct tapu_bo *bo = calloc(1, sizeof(*bo));

	if (!bo) {
		drmCloseBufferHandle(dev->fd, handle);
		return -ENOMEM;
	}
	*bo = (struct tapu_bo){
		.dev = dev, .next = dev->bos, .refs = 1,
		.handle = handle, .size = size, .offset = offset,
	};
	dev->bos = bo;
	*bop = bo;
	return 0;
}

int tapu_bo_create(struct tapu_device *dev, uint64_t size, uint32_t flags,
		   struct tapu_bo **bo)
{
	struct drm_tapu_bo_create c = { .size = size, .flags = flags };
	int ret;

	if (!dev || !bo)
		return -EINVAL;
	ret = tapu_ioctl(dev, DRM_IOCTL_TAPU_BO_CREATE, &c);
	if (ret)
		return ret;
	pthread_mutex_lock(&dev->lock);
	ret = bo_add(dev, c.handle, c.size, c.offset, bo);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

void tapu_bo_destroy(struct tapu_bo *bo)
{
	if (bo->map)
		munmap(bo->map, bo->size);
	drmCloseBufferHandle(bo->dev->fd, bo->handle);
	free(bo);
}

void tapu_bo_free(struct tapu_bo *bo)
{
	struct tapu_device *dev;
	struct tapu_bo **p;
	int last;

	if (!bo)
		return;
	dev = bo->dev;
	pthread_mutex_lock(&dev->lock);
	last = !--bo->refs;
	for (p = &dev->bos; last && *p; p = &(*p)->next) {
		if (*p == bo) {
			*p = bo->next;
			break;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	if (last)
		tapu_bo_destroy(bo);
}

int tapu_bo_map(struct tapu_bo *bo, void **map)
{
	void *p;

	if (!bo || !map)
		return -EINVAL;
	if (!bo->map) {
		p = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 bo->dev->fd, bo->offset);
		if (p == MAP_FAILED)
			return -errno;
		bo->map = p;
	}
	*map = bo->map;
	return 0;
}

uint32_t tapu_bo_handle(const struct tapu_bo *bo)
{
	return bo->handle;
}

uint64_t tapu_bo_size(const struct tapu_bo *bo)
{
	return bo->size;
}

int tapu_bo_export(struct tapu_bo *bo, int *fd)
{
	if (!bo || !fd)
		return -EINVAL;
	return tapu_err(drmPrimeHandleToFD(bo->dev->fd, bo->handle,
					   DRM_CLOEXEC | DRM_RDWR, fd));
}

int tapu_bo_import(struct tapu_device *dev, int fd, struct tapu_bo **bop)
{
	struct drm_tapu_bo_info info = { 0 };
	struct tapu_bo *bo;
	int ret;

	if (!dev || !bop)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	ret = tapu_err(drmPrimeFDToHandle(dev->fd, fd, &info.handle));
	if (ret)
		goto out;
	for (bo = dev->bos; bo && bo->handle != info.handle; bo = bo->next)
		;
	if (bo) {
		bo->refs++;
		*bop = bo;
		goto out;
	}
	ret = tapu_ioctl(dev, DRM_IOCTL_TAPU_BO_INFO, &info);
	if (ret)
		drmCloseBufferHandle(dev->fd, info.handle);
	else
		ret = bo_add(dev, info.handle, info.size, info.offset, bop);
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int tapu_bo_wait(struct tapu_bo *bo, int64_t timeout_ns)
{
	struct drm_tapu_bo_wait w;

	if (!bo)
		return -EINVAL;
	w = (struct drm_tapu_bo_wait){
		.handle = bo->handle, .timeout_ns = tapu_deadline(timeout_ns),
	};
	return tapu_ioctl(bo->dev, DRM_IOCTL_TAPU_BO_WAIT, &w);
}
