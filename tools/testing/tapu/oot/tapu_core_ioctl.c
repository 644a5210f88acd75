// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * Out-of-tree builds only, for kernels without the DRM core fixes in
 * tools/testing/tapu/kernel-patches/. There, an accel file reaches every
 * core ioctl that needs no authentication or master, and some of them
 * misbehave: DRM_IOCTL_GET_UNIQUE and DRM_IOCTL_GET_MAGIC dereference the
 * master that accel files never have (an oops, with dev->master_mutex left
 * locked), and the syncobj array ioctls warn from the page allocator for
 * huge handle counts. TAPU's file operations filter them first: -EACCES
 * for a core ioctl that render nodes may not call either (the fixed core
 * gives -EINVAL for numbers beyond its table), -ENOMEM for more than
 * TAPU_MAX_SYNCOBJ_HANDLES, a bound the fixed core does not have (it fails
 * only the allocations it cannot make).
 *
 * The count is read before the DRM core copies the argument; a thread that
 * changes it in between gets past the check, which only the core fix closes.
 */

#include <drm/drm_accel.h>
#include <drm/drm_file.h>
#include <drm/drm_ioctl.h>
#include <linux/compat.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include "tapu_drv.h"

/* The core ioctls with DRM_RENDER_ALLOW in 6.12. */
static bool tapu_core_ioctl_allowed(unsigned int nr)
{
	switch (nr) {
	case DRM_IOCTL_NR(DRM_IOCTL_VERSION):
	case DRM_IOCTL_NR(DRM_IOCTL_GET_CAP):
	case DRM_IOCTL_NR(DRM_IOCTL_GEM_CLOSE):
	case DRM_IOCTL_NR(DRM_IOCTL_PRIME_HANDLE_TO_FD):
	case DRM_IOCTL_NR(DRM_IOCTL_PRIME_FD_TO_HANDLE):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_CREATE):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_DESTROY):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_TRANSFER):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_WAIT):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_EVENTFD):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_RESET):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_SIGNAL):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_QUERY):
		return true;
	default:
		return false;
	}
}

/* Where the syncobj array ioctls keep their count_handles, or -1. */
static int tapu_syncobj_count_offset(unsigned int nr)
{
	switch (nr) {
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_WAIT):
		return offsetof(struct drm_syncobj_wait, count_handles);
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT):
		return offsetof(struct drm_syncobj_timeline_wait,
				count_handles);
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_RESET):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_SIGNAL):
		return offsetof(struct drm_syncobj_array, count_handles);
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_QUERY):
		return offsetof(struct drm_syncobj_timeline_array,
				count_handles);
	default:
		return -1;
	}
}

/* The syncobj structures have one layout for 32- and 64-bit callers. */
static int tapu_core_ioctl_check(unsigned int cmd, void __user *arg)
{
	unsigned int nr = DRM_IOCTL_NR(cmd);
	u32 count;
	int off;

	if (DRM_IOCTL_TYPE(cmd) != DRM_IOCTL_BASE ||
	    (nr >= DRM_COMMAND_BASE && nr < DRM_COMMAND_END))
		return 0;
	if (!tapu_core_ioctl_allowed(nr))
		return -EACCES;
	off = tapu_syncobj_count_offset(nr);
	/* A shorter argument is zero-filled by the core: no count. */
	if (off < 0 || _IOC_SIZE(cmd) < off + sizeof(count))
		return 0;
	if (get_user(count, (u32 __user *)(arg + off)))
		return -EFAULT;
	return count > TAPU_MAX_SYNCOBJ_HANDLES ? -ENOMEM : 0;
}

long tapu_core_ioctl_filter(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	int ret = tapu_core_ioctl_check(cmd, (void __user *)arg);

	return ret ? ret : drm_ioctl(filp, cmd, arg);
}

#ifdef CONFIG_COMPAT
long tapu_core_compat_ioctl_filter(struct file *filp, unsigned int cmd,
				   unsigned long arg)
{
	int ret = tapu_core_ioctl_check(cmd, compat_ptr(arg));

	return ret ? ret : drm_compat_ioctl(filp, cmd, arg);
}
#endif
