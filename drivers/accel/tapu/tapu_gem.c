// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_vma_manager.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait_bit.h>

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

/*
 * Kernel mappings of data BOs, for backends whose cores work on them. A
 * BO's mapping is made at its first job and kept, so that a job costs the
 * same whatever the size of its BOs, until the BO is freed or the shrinker
 * drops it while no job uses it. An imported BO's mapping is its
 * exporter's, which pins it as long as it exists: it is made for the jobs
 * that use it and dropped after the last, as reclaim could not take it.
 *
 * The reservation lock protects a BO's mapping and users; the device's
 * kmap_lock, taken inside it, the LRU and the counters. The shrinker only
 * trylocks reservations, under kmap_lock.
 */

static unsigned long tapu_bo_pages(struct tapu_bo *bo)
{
	return bo->base.base.size >> PAGE_SHIFT;
}

/* Counts @bo in (@sign 1) or out (@sign -1) of @bos and @pages. */
static void tapu_kmap_count_bo(struct tapu_device *tdev, struct tapu_bo *bo,
			       unsigned long *bos, unsigned long *pages,
			       long sign)
{
	lockdep_assert_held(&tdev->kmap_lock);
	*bos += sign;
	*pages += sign * (long)tapu_bo_pages(bo);
}

/* Onto the LRU: the BO's last job is gone. */
static void tapu_kmap_lru_add(struct tapu_device *tdev, struct tapu_bo *bo)
{
	list_add_tail(&bo->kmap_link, &tdev->kmap_lru);
	tapu_kmap_count_bo(tdev, bo, &tdev->kmap_idle_bos,
			   &tdev->kmap_idle_pages, 1);
}

/* Off the LRU, if on it. */
static void tapu_kmap_lru_del(struct tapu_device *tdev, struct tapu_bo *bo)
{
	if (list_empty(&bo->kmap_link))
		return;
	list_del_init(&bo->kmap_link);
	tapu_kmap_count_bo(tdev, bo, &tdev->kmap_idle_bos,
			   &tdev->kmap_idle_pages, -1);
}

/* With the BO's reservation held; an import's mapping is not kept. */
static int tapu_bo_kmap_locked(struct tapu_device *tdev, struct tapu_bo *bo)
{
	struct iosys_map map;
	int ret;

	ret = drm_gem_shmem_vmap(&bo->base, &map);
	if (ret)
		return ret;
	/* The cores work on system memory, an import's too. */
	if (map.is_iomem) {
		drm_gem_shmem_vunmap(&bo->base, &map);
		return -EINVAL;
	}
	bo->kmap = map.vaddr;
	if (!bo->base.base.import_attach) {
		scoped_guard(spinlock, &tdev->kmap_lock)
			tapu_kmap_count_bo(tdev, bo, &tdev->kmapped_bos,
					   &tdev->kmapped_pages, 1);
	}
	return 0;
}

/* With the BO's reservation held, the BO off the LRU. */
static void tapu_bo_kunmap_locked(struct tapu_device *tdev, struct tapu_bo *bo)
{
	struct iosys_map map = IOSYS_MAP_INIT_VADDR(bo->kmap);

	bo->kmap = NULL;
	drm_gem_shmem_vunmap(&bo->base, &map);
	if (!bo->base.base.import_attach) {
		scoped_guard(spinlock, &tdev->kmap_lock)
			tapu_kmap_count_bo(tdev, bo, &tdev->kmapped_bos,
					   &tdev->kmapped_pages, -1);
	}
}

/**
 * tapu_bo_kmap_get() - the kernel mapping of a data BO, for a job
 * @obj: the BO
 *
 * The mapping stays while the job uses it, until the matching
 * tapu_bo_kmap_put(). It is made at the BO's first job and kept for the
 * next ones, but for an imported BO, whose mapping goes with its last job.
 * May sleep; not with the BO's reservation held.
 *
 * Return: the mapping or an ERR_PTR().
 */
void *tapu_bo_kmap_get(struct drm_gem_object *obj)
{
	struct tapu_device *tdev = to_tapu_device(obj->dev);
	struct tapu_bo *bo = to_tapu_bo(obj);
	void *vaddr;
	int ret = 0;

	dma_resv_lock(obj->resv, NULL);
	if (!bo->kmap)
		ret = tapu_bo_kmap_locked(tdev, bo);
	/* In use: out of the shrinker's reach. */
	if (!ret && !bo->kmap_users++) {
		scoped_guard(spinlock, &tdev->kmap_lock)
			tapu_kmap_lru_del(tdev, bo);
	}
	vaddr = bo->kmap;
	dma_resv_unlock(obj->resv);
	return ret ? ERR_PTR(ret) : vaddr;
}
EXPORT_SYMBOL_GPL(tapu_bo_kmap_get);

/**
 * tapu_bo_kmap_put() - a job no longer uses the BO's kernel mapping
 * @obj: the BO, whose tapu_bo_kmap_get() succeeded
 *
 * The mapping stays for the BO's next job, but an imported BO's, dropped
 * with its last job. May sleep; not with the BO's reservation held.
 */
void tapu_bo_kmap_put(struct drm_gem_object *obj)
{
	struct tapu_device *tdev = to_tapu_device(obj->dev);
	struct tapu_bo *bo = to_tapu_bo(obj);

	dma_resv_lock(obj->resv, NULL);
	if (!--bo->kmap_users) {
		if (obj->import_attach) {
			tapu_bo_kunmap_locked(tdev, bo);
		} else {
			scoped_guard(spinlock, &tdev->kmap_lock)
				tapu_kmap_lru_add(tdev, bo);
		}
	}
	dma_resv_unlock(obj->resv);
}
EXPORT_SYMBOL_GPL(tapu_bo_kmap_put);

static bool tapu_bo_kmap_reclaimed(struct tapu_bo *bo)
{
	/* Pairs with the release in tapu_kmap_scan(): the BO is ours alone. */
	return !smp_load_acquire(&bo->kmap_reclaiming);
}

static void tapu_bo_free(struct drm_gem_object *obj)
{
	struct tapu_device *tdev = to_tapu_device(obj->dev);
	struct tapu_bo *bo = to_tapu_bo(obj);

	/* No job is left: a kept mapping is on the LRU or being reclaimed. */
	scoped_guard(spinlock, &tdev->kmap_lock)
		tapu_kmap_lru_del(tdev, bo);
	/*
	 * The shrinker took it off the LRU with its reservation trylocked:
	 * wait until it has unlocked it, as mutex_unlock() may still touch
	 * the lock once another thread can take it.
	 */
	wait_var_event(&bo->kmap_reclaiming, tapu_bo_kmap_reclaimed(bo));
	if (bo->kmap) {
		dma_resv_lock(obj->resv, NULL);
		tapu_bo_kunmap_locked(tdev, bo);
		dma_resv_unlock(obj->resv);
	}
	drm_gem_shmem_object_free(obj);
}

/*
 * Whether dropping the mapping gives the BO's pages back to reclaim: not
 * while something else also pins them (an mmap of a DRM_TAPU_BO_WC BO, a
 * dma-buf attachment or vmap of an exported one), when it would only free
 * the vmap area and cost the next job a new mapping.
 */
static bool tapu_bo_kmap_reclaimable(struct tapu_bo *bo)
{
	struct drm_gem_shmem_object *shmem = &bo->base;

	dma_resv_assert_held(shmem->base.resv);
	return !bo->kmap_users && shmem->vmap_use_count == 1 &&
	       shmem->pages_use_count == 1;
}

/*
 * The pages of the mappings no job uses: an upper bound, the scan skips
 * those whose pages stay pinned by something else. Not memcg-aware (no
 * SHRINKER_MEMCG_AWARE): only global reclaim drops mappings, not a memory
 * cgroup's.
 */
static unsigned long tapu_kmap_count(struct shrinker *shrinker,
				     struct shrink_control *sc)
{
	struct tapu_device *tdev = shrinker->private_data;
	unsigned long pages;

	scoped_guard(spinlock, &tdev->kmap_lock)
		pages = tdev->kmap_idle_pages;
	return pages ?: SHRINK_EMPTY;
}

/*
 * Unmaps BOs that no job uses, least recently used first, and reports
 * the pages whose pin went: they stay in the BO's shmem file, where
 * reclaim can now swap them out. A BO whose reservation is taken is busy
 * (a job is being prepared or submitted): skipped. Each BO looked at
 * counts its pages against the batch, kept or not, so that the time under
 * kmap_lock stays bounded when nothing on the LRU can be reclaimed.
 */
static unsigned long tapu_kmap_scan(struct shrinker *shrinker,
				    struct shrink_control *sc)
{
	struct tapu_device *tdev = shrinker->private_data;
	unsigned long freed = 0, scanned = 0, tries;
	struct drm_gem_object *obj;
	struct tapu_bo *bo;

	/* vunmap() sleeps. */
	if (!gfpflags_allow_blocking(sc->gfp_mask))
		return SHRINK_STOP;
	spin_lock(&tdev->kmap_lock);
	for (tries = tdev->kmap_idle_bos; tries && scanned < sc->nr_to_scan;
	     tries--) {
		/* The LRU may have changed, or emptied, while unlocked. */
		bo = list_first_entry_or_null(&tdev->kmap_lru, struct tapu_bo,
					      kmap_link);
		if (!bo)
			break;
		obj = &bo->base.base;
		list_move_tail(&bo->kmap_link, &tdev->kmap_lru);
		scanned += tapu_bo_pages(bo);
		if (!dma_resv_trylock(obj->resv))
			continue;
		if (!tapu_bo_kmap_reclaimable(bo)) {
			/* On the LRU: tapu_bo_free() waits for kmap_lock. */
			dma_resv_unlock(obj->resv);
			continue;
		}
		tapu_kmap_lru_del(tdev, bo);
		WRITE_ONCE(bo->kmap_reclaiming, true);
		spin_unlock(&tdev->kmap_lock);

		tapu_bo_kunmap_locked(tdev, bo);
		dma_resv_unlock(obj->resv);
		freed += tapu_bo_pages(bo);
		/* From here tapu_bo_free() may free the BO. */
		store_release_wake_up(&bo->kmap_reclaiming, false);
		spin_lock(&tdev->kmap_lock);
	}
	spin_unlock(&tdev->kmap_lock);
	sc->nr_scanned = scanned;
	/* Another batch may find more, unless the LRU ran out first. */
	return freed || scanned >= sc->nr_to_scan ? freed : SHRINK_STOP;
}

static void tapu_kmap_fini(struct drm_device *drm, void *data)
{
	struct tapu_device *tdev = data;

	shrinker_free(tdev->shrinker);
	drm_WARN_ON(drm, tdev->kmapped_bos);
}

/**
 * tapu_kmap_init() - set up the kernel mappings of a device's BOs
 * @tdev: the device, being created
 *
 * The shrinker goes with the DRM device, once its last BO is freed: files,
 * exported dma-bufs and (through unregister) jobs keep the device, and
 * the release workqueue, where jobs drop their BOs, is destroyed before.
 *
 * Return: 0 or a negative errno.
 */
int tapu_kmap_init(struct tapu_device *tdev)
{
	struct shrinker *shrinker;

	spin_lock_init(&tdev->kmap_lock);
	INIT_LIST_HEAD(&tdev->kmap_lru);
	shrinker = shrinker_alloc(0, "drm-tapu-%s", tdev->desc.name);
	if (!shrinker)
		return -ENOMEM;
	shrinker->count_objects = tapu_kmap_count;
	shrinker->scan_objects = tapu_kmap_scan;
	shrinker->seeks = DEFAULT_SEEKS;
	shrinker->private_data = tdev;
	tdev->shrinker = shrinker;
	shrinker_register(shrinker);
	return drmm_add_action_or_reset(&tdev->drm, tapu_kmap_fini, tdev);
}

/* The shmem helper's object functions but mmap, and residency. */
static const struct drm_gem_object_funcs tapu_bo_funcs = {
	.free = tapu_bo_free,
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
	struct tapu_bo *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&bo->kmap_link);
	/*
	 * The device writes a BO through its kernel mapping, so the CPU's
	 * page tables never dirty its pages: say so when the pin is dropped,
	 * or reclaim drops the device's output as clean.
	 */
	bo->base.pages_mark_dirty_on_put = true;
	bo->base.pages_mark_accessed_on_put = true;
	bo->base.base.funcs = &tapu_bo_funcs;
	return &bo->base.base;
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
