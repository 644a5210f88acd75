// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libtapu: device discovery, open, query, errors. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "libtapu_priv.h"

#define SYSFS_ACCEL	"/sys/class/accel"

static const char *const op_names[DRM_TAPU_OP_COUNT] = {
	[DRM_TAPU_OP_NOP] = "NOP",
	[DRM_TAPU_OP_CONV2D] = "CONV2D",
	[DRM_TAPU_OP_DEPTHWISE_CONV2D] = "DEPTHWISE_CONV2D",
	[DRM_TAPU_OP_FULLY_CONNECTED] = "FULLY_CONNECTED",
	[DRM_TAPU_OP_ADD] = "ADD",
	[DRM_TAPU_OP_SUB] = "SUB",
	[DRM_TAPU_OP_MUL] = "MUL",
	[DRM_TAPU_OP_MAXPOOL] = "MAXPOOL",
	[DRM_TAPU_OP_AVGPOOL] = "AVGPOOL",
	[DRM_TAPU_OP_RELU] = "RELU",
	[DRM_TAPU_OP_RELU6] = "RELU6",
	[DRM_TAPU_OP_CLAMP] = "CLAMP",
	[DRM_TAPU_OP_LUT] = "LUT",
	[DRM_TAPU_OP_COPY] = "COPY",
	[DRM_TAPU_OP_RESHAPE] = "RESHAPE",
	[DRM_TAPU_OP_TRANSPOSE] = "TRANSPOSE",
	[DRM_TAPU_OP_CONCAT] = "CONCAT",
	[DRM_TAPU_OP_PAD] = "PAD",
};

const char *tapu_op_name(unsigned int opcode)
{
	return opcode < DRM_TAPU_OP_COUNT ? op_names[opcode] : NULL;
}

/* What each errno means coming from TAPU (Documentation/accel/tapu/uapi.rst). */
static const char *const messages[] = {
	[ENOENT] = "no such device node, BO, stream, syncobj or job result (ENOENT)",
	[ENODEV] = "no such TAPU device: not found, not TAPU or unplugged (ENODEV)",
	[EACCES] = "permission denied: device node, written slot without BO_WRITE or high priority without CAP_SYS_NICE (EACCES)",
	[EINVAL] = "invalid argument, or command stream rejected by the validator (EINVAL)",
	[E2BIG] = "larger than the device limit (E2BIG)",
	[EOVERFLOW] = "tensor extent overflows (EOVERFLOW)",
	[EBUSY] = "too many unfinished jobs (EBUSY)",
	[ETIME] = "timed out waiting (ETIME)",
	[ETIMEDOUT] = "job hung, the core was reset (ETIMEDOUT)",
	[EIO] = "device error (EIO)",
	[ECANCELED] = "job cancelled or a dependency failed (ECANCELED)",
	[ENODATA] = "empty command stream (ENODATA)",
	[ENOMEM] = "out of memory (ENOMEM)",
	[EBADF] = "bad file descriptor (EBADF)",
	[EFAULT] = "bad address (EFAULT)",
};

const char *tapu_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (!err)
		return "success";
	if ((size_t)err < sizeof(messages) / sizeof(messages[0]) && messages[err])
		return messages[err];
	return strerror(err);
}

int tapu_ioctl(struct tapu_device *dev, unsigned long req, void *arg)
{
	return tapu_err(drmIoctl(dev->fd, req, arg));
}

int64_t tapu_deadline(int64_t timeout_ns)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (timeout_ns < 0)
		timeout_ns = 0;
	return timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
}

/* Opens @path; returns the fd if it is a TAPU node, else -errno. */
static int open_tapu(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	drmVersionPtr v;
	int ret;

	if (fd < 0)
		return -errno;
	v = drmGetVersion(fd);
	ret = v && !strcmp(v->name, "tapu") ? fd : -ENODEV;
	drmFreeVersion(v);
	if (ret < 0)
		close(fd);
	return ret;
}

/* /dev path of an accel class device, from DEVNAME in its uevent. */
static int node_path(const char *name, char *path, size_t len)
{
	char buf[256], line[256];
	int ret = -ENODEV;
	FILE *f;

	snprintf(buf, sizeof(buf), SYSFS_ACCEL "/%s/uevent", name);
	f = fopen(buf, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "DEVNAME=", 8))
			continue;
		line[strcspn(line, "\n")] = '\0';
		ret = (size_t)snprintf(path, len, "/dev/%s", line + 8) < len ?
		      0 : -ENAMETOOLONG;
		break;
	}
	fclose(f);
	return ret;
}

static int is_accel(const struct dirent *de)
{
	return !strncmp(de->d_name, "accel", 5);
}

int tapu_device_find(unsigned int index, char *path, size_t len)
{
	struct dirent **list;
	int n, fd, ret = -ENODEV, open_err = 0;

	n = scandir(SYSFS_ACCEL, &list, is_accel, versionsort);
	if (n < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	for (int i = 0; i < n; i++) {
		if (ret == -ENODEV) {
			fd = node_path(list[i]->d_name, path, len) ?: open_tapu(path);
			if (fd >= 0) {
				close(fd);
				if (!index--)
					ret = 0;
			} else if (fd != -ENODEV && !open_err) {
				open_err = fd;
			}
		}
		free(list[i]);
	}
	free(list);
	return ret == -ENODEV && open_err ? open_err : ret;
}

int tapu_device_open(const char *path, struct tapu_device **devp)
{
	struct tapu_device *dev;
	int fd;

	if (!path || !devp)
		return -EINVAL;
	fd = open_tapu(path);
	if (fd < 0)
		return fd;
	dev = calloc(1, sizeof(*dev));
	if (!dev || !(dev->path = strdup(path))) {
		free(dev);
		close(fd);
		return -ENOMEM;
	}
	dev->fd = fd;
	pthread_mutex_init(&dev->lock, NULL);
	*devp = dev;
	return 0;
}

int tapu_device_open_index(unsigned int index, struct tapu_device **dev)
{
	char path[256];
	int ret = tapu_device_find(index, path, sizeof(path));

	return ret ? ret : tapu_device_open(path, dev);
}

void tapu_device_close(struct tapu_device *dev)
{
	if (!dev)
		return;
	while (dev->bos) {
		struct tapu_bo *bo = dev->bos;

		dev->bos = bo->next;
		tapu_bo_destroy(bo);
	}
	pthread_mutex_destroy(&dev->lock);
	close(dev->fd);
	free(dev->path);
	free(dev);
}

const char *tapu_device_path(const struct tapu_device *dev)
{
	return dev->path;
}

int tapu_device_fd(const struct tapu_device *dev)
{
	return dev->fd;
}

static int query(struct tapu_device *dev, uint32_t type, void *data, uint32_t size)
{
	struct drm_tapu_query q = {
		.type = type, .size = size, .data = (uintptr_t)data,
	};

	return tapu_ioctl(dev, DRM_IOCTL_TAPU_QUERY, &q);
}

int tapu_device_query(struct tapu_device *dev, struct tapu_info *info)
{
	if (!dev || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	return query(dev, DRM_TAPU_QUERY_DEVICE, &info->device, sizeof(info->device)) ?:
	       query(dev, DRM_TAPU_QUERY_ISA, &info->isa, sizeof(info->isa)) ?:
	       query(dev, DRM_TAPU_QUERY_LIMITS, &info->limits, sizeof(info->limits));
}
