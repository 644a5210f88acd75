// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_vma_manager.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "tapu_drv.h"

/*
 * The kernel memory of a file's streams is bounded: each counts as its size
 * in whole pages against the file until it is freed, even after the file
 * is closed while jobs still use it.
 */
static int tapu_file_charge_streams(struct tapu_file *tfile, u64 bytes)
{
	bool room;

	spin_lock(&tfile->lock);
	room = bytes <= TAPU_MAX_CMDSTREAM_MEMORY - tfile->stream_bytes;
	if (room)
		tfile->stream_bytes += bytes;
	spin_unlock(&tfile->lock);
	if (!room)
		return -ENOSPC;
	kref_get(&tfile->refcount);
	return 0;
}

static void tapu_file_uncharge_streams(struct tapu_file *tfile, u64 bytes)
{
	scoped_guard(spinlock, &tfile->lock)
		tfile->stream_bytes -= bytes;
	tapu_file_put(tfile);
}

/*
 * A backend may keep its own copy of a stream (device memory), from
 * creation until the stream is freed or the device unregistered.
 */
static int tapu_cmdstream_prepare(struct tapu_device *tdev,
				  struct tapu_cmdstream *cs)
{
	void *priv;
	int idx;

	if (!tdev->desc.ops->prepare_stream)
		return 0;
	/* Unregister cleans up only what was prepared before it. */
	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	priv = tdev->desc.ops->prepare_stream(tdev, cs->data, cs->size);
	if (!IS_ERR(priv)) {
		cs->priv = priv;
		scoped_guard(mutex, &tdev->streams_lock)
			list_add_tail(&cs->link, &tdev->streams);
	}
	drm_dev_exit(idx);
	return PTR_ERR_OR_ZERO(priv);
}

static void tapu_cmdstream_unprepare(struct tapu_device *tdev,
				     struct tapu_cmdstream *cs)
{
	lockdep_assert_held(&tdev->streams_lock);
	list_del_init(&cs->link);
	tdev->desc.ops->cleanup_stream(tdev, cs->priv);
	cs->priv = NULL;
}

/* At unregister: streams freed later have nothing left to clean up. */
void tapu_cmdstream_unprepare_all(struct tapu_device *tdev)
{
	struct tapu_cmdstream *cs, *next;

	guard(mutex)(&tdev->streams_lock);
	list_for_each_entry_safe(cs, next, &tdev->streams, link)
		tapu_cmdstream_unprepare(tdev, cs);
}

static void tapu_cmdstream_free(struct drm_gem_object *obj)
{
	struct tapu_cmdstream *cs = container_of(obj, struct tapu_cmdstream,
						 base);
	/* Alive: the file or a job of it, counted until unregister, holds it. */
	struct tapu_device *tdev = cs->tfile->tdev;

	scoped_guard(mutex, &tdev->streams_lock)
		if (!list_empty(&cs->link))
			tapu_cmdstream_unprepare(tdev, cs);
	tapu_file_uncharge_streams(cs->tfile, obj->size);
	drm_gem_object_release(obj);
	kvfree(cs->data);
	kfree(cs);
}

/* A validated stream is kernel-owned: it never leaves the device. */
static struct dma_buf *tapu_cmdstream_export(struct drm_gem_object *obj,
					     int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static const struct drm_gem_object_funcs tapu_cmdstream_funcs = {
	.free = tapu_cmdstream_free,
	.export = tapu_cmdstream_export,
};

static enum drm_gem_object_status tapu_bo_status(struct drm_gem_object *obj)
{
	/* Unlocked: a snapshot for fdinfo. Pages come as they are touched. */
	return obj->import_attach || READ_ONCE(obj->filp->f_mapping->nrpages) ?
	       DRM_GEM_OBJECT_RESIDENT : 0;
}

/*
 * A CPU mapping of a cached BO maps the BO's shmem file itself: its pages
 * are allocated as they are touched and stay reclaimable, where the
 * helper's mapping pins every page of the BO for as long as any part of it
 * is mapped. The mapping holds the file, not the object. A write-combined
 * BO keeps the helper's mapping: the pin is what makes its pages WC in the
 * kernel's mapping too (set_pages_array_wc()), which pages faulted in
 * through the file would not be.
 */
static int tapu_bo_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	struct drm_gem_shmem_object *shmem = to_drm_gem_shmem_obj(obj);
	int ret;

	if (obj->import_attach || shmem->map_wc)
		return drm_gem_shmem_object_mmap(obj, vma);
	if (is_cow_mapping(vma->vm_flags))
		return -EINVAL;

	vma->vm_pgoff -= drm_vma_node_start(&obj->vma_node);
	ret = call_mmap(obj->filp, vma);
	if (ret)
		return ret;
	vma_set_file(vma, obj->filp);
	vma->vm_private_data = NULL;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	drm_gem_object_put(obj);
	return 0;
}

/* The shmem helper's object functions but mmap, and residency. */
static const struct drm_gem_object_funcs tapu_bo_funcs = {
	.free = drm_gem_shmem_object_free,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = tapu_bo_mmap,
	.status = tapu_bo_status,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

struct drm_gem_object *tapu_gem_create_object(struct drm_device *drm,
					      size_t size)
{
	struct drm_gem_shmem_object *shmem;

	shmem = kzalloc(sizeof(*shmem), GFP_KERNEL);
	if (!shmem)
		return ERR_PTR(-ENOMEM);
	shmem->base.funcs = &tapu_bo_funcs;
	return &shmem->base;
}

static bool tapu_is_cmdstream(struct drm_gem_object *obj)
{
	return obj->funcs == &tapu_cmdstream_funcs;
}

/**
 * tapu_bo_lookup() - look up a data BO
 * @file: DRM file
 * @handle: GEM handle
 * @err: set to -ENOENT for an unknown handle, -EINVAL for a command stream
 *
 * Return: a referenced object or NULL.
 */
struct drm_gem_object *tapu_bo_lookup(struct drm_file *file, u32 handle,
				      int *err)
{
	struct drm_gem_object *obj = drm_gem_object_lookup(file, handle);

	*err = -ENOENT;
	if (obj && tapu_is_cmdstream(obj)) {
		drm_gem_object_put(obj);
		obj = NULL;
		*err = -EINVAL;
	}
	return obj;
}

/**
 * tapu_cmdstream_lookup() - look up a validated command stream
 * @file: DRM file
 * @handle: GEM handle
 * @err: set to -ENOENT for an unknown handle, -EINVAL for a data BO
 *
 * Return: a referenced stream or NULL.
 */
struct tapu_cmdstream *tapu_cmdstream_lookup(struct drm_file *file,
					     u32 handle, int *err)
{
	struct drm_gem_object *obj = drm_gem_object_lookup(file, handle);

	*err = -ENOENT;
	if (!obj)
		return NULL;
	if (!tapu_is_cmdstream(obj)) {
		drm_gem_object_put(obj);
		*err = -EINVAL;
		return NULL;
	}
	return container_of(obj, struct tapu_cmdstream, base);
}

/* Gives @obj a handle in @file, dropping the creation reference. */
static int tapu_handle_create(struct drm_file *file,
			      struct drm_gem_object *obj, u32 *handle)
{
	int ret = drm_gem_handle_create(file, obj, handle);

	drm_gem_object_put(obj);
	return ret;
}

int tapu_ioctl_bo_create(struct drm_device *drm, void *data,
			 struct drm_file *file)
{
	struct drm_tapu_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	int ret;

	if (args->flags & ~DRM_TAPU_BO_WC)
		return -EINVAL;
	if (!args->size || args->size > U64_MAX - PAGE_SIZE + 1)
		return -EINVAL;
	if (PAGE_ALIGN(args->size) > TAPU_MAX_BO_SIZE)
		return -E2BIG;

	shmem = drm_gem_shmem_create(drm, PAGE_ALIGN(args->size));
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);
	shmem->map_wc = !!(args->flags & DRM_TAPU_BO_WC);

	ret = drm_gem_create_mmap_offset(&shmem->base);
	if (ret) {
		drm_gem_object_put(&shmem->base);
		return ret;
	}
	args->size = shmem->base.size;
	args->offset = drm_vma_node_offset_addr(&shmem->base.vma_node);
	return tapu_handle_create(file, &shmem->base, &args->handle);
}

int tapu_ioctl_bo_info(struct drm_device *drm, void *data,
		       struct drm_file *file)
{
	struct drm_tapu_bo_info *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->pad)
		return -EINVAL;
	obj = tapu_bo_lookup(file, args->handle, &ret);
	if (!obj)
		return ret;

	/* Imported BOs get their mmap offset here. */
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret) {
		args->size = obj->size;
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	}
	drm_gem_object_put(obj);
	return ret;
}

int tapu_ioctl_bo_wait(struct drm_device *drm, void *data,
		       struct drm_file *file)
{
	struct drm_tapu_bo_wait *args = data;
	struct drm_gem_object *obj;
	long ret, timeout;
	int err;

	if (args->pad)
		return -EINVAL;
	obj = tapu_bo_lookup(file, args->handle, &err);
	if (!obj)
		return err;

	/* A wake-up before the deadline waits again for the rest. */
	do {
		timeout = tapu_deadline_timeout(args->timeout_ns);
		ret = dma_resv_wait_timeout(obj->resv, DMA_RESV_USAGE_READ,
					    true, timeout);
	} while (!ret && timeout);
	drm_gem_object_put(obj);
	if (!ret)
		return -ETIME;
	return ret < 0 ? ret : 0;
}

int tapu_ioctl_cmdstream_create(struct drm_device *drm, void *data,
				struct drm_file *file)
{
	struct drm_tapu_cmdstream_create *args = data;
	struct tapu_file *tfile = file->driver_priv;
	struct tapu_cmdstream *cs;
	int ret;

	if (args->flags || !args->size || args->size % sizeof(u32))
		return -EINVAL;
	if (args->size > TAPU_MAX_CMDSTREAM_SIZE)
		return -E2BIG;

	ret = tapu_file_charge_streams(tfile, PAGE_ALIGN(args->size));
	if (ret)
		return ret;
	ret = -ENOMEM;
	cs = kzalloc(sizeof(*cs), GFP_KERNEL_ACCOUNT);
	if (!cs)
		goto err_uncharge;
	cs->tfile = tfile;
	INIT_LIST_HEAD(&cs->link);
	cs->size = args->size;
	cs->data = kvmalloc(cs->size, GFP_KERNEL_ACCOUNT);
	if (!cs->data)
		goto err_free;
	ret = -EFAULT;
	if (copy_from_user(cs->data, u64_to_user_ptr(args->data), cs->size))
		goto err_free;
	ret = tapu_isa_validate(cs->data, cs->size, &cs->sum);
	if (!ret && cs->sum.work > tapu_max_stream_work(tfile->tdev))
		ret = -E2BIG;
	if (!ret)
		ret = tapu_cmdstream_prepare(tfile->tdev, cs);
	if (ret)
		goto err_free;

	/* From here the object's free callback uncharges. */
	cs->base.funcs = &tapu_cmdstream_funcs;
	drm_gem_private_object_init(drm, &cs->base, PAGE_ALIGN(cs->size));
	args->num_slots = cs->sum.num_slots;
	return tapu_handle_create(file, &cs->base, &args->handle);

err_free:
	kvfree(cs->data);
	kfree(cs);
err_uncharge:
	tapu_file_uncharge_streams(tfile, PAGE_ALIGN(args->size));
	return ret;
}
