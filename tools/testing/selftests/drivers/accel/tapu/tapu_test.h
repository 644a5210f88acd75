/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the TAPU selftests. */
#ifndef __TAPU_TEST_H__
#define __TAPU_TEST_H__

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm/tapu_accel.h>

#define TAPU_DEV	"/dev/accel/accel0"
#define TAPU_DEBUGFS_ROOT	"/sys/kernel/debug/accel"
#define NSEC_PER_SEC	1000000000LL

/* ioctl() returning -errno instead of -1. */
static inline int tapu_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

static inline int tapu_open(void)
{
	return open(TAPU_DEV, O_RDWR | O_CLOEXEC);
}

static inline int64_t tapu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Absolute timeout @ms milliseconds from now. */
static inline int64_t tapu_deadline_ms(int64_t ms)
{
	return tapu_now_ns() + ms * 1000000LL;
}

/* Creates a BO and maps it; returns the handle or -errno, *map set. */
static inline int tapu_bo_new(int fd, uint64_t size, void **map)
{
	struct drm_tapu_bo_create c = { .size = size };
	int ret = tapu_ioctl(fd, DRM_IOCTL_TAPU_BO_CREATE, &c);

	if (ret)
		return ret;
	if (map) {
		*map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    fd, c.offset);
		if (*map == MAP_FAILED)
			return -errno;
	}
	return c.handle;
}

static inline int tapu_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return tapu_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

/* Validates a stream; returns the handle or -errno. */
static inline int tapu_stream_new(int fd, const void *data, uint32_t size)
{
	struct drm_tapu_cmdstream_create c = {
		.data = (uintptr_t)data, .size = size,
	};
	int ret = tapu_ioctl(fd, DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &c);

	return ret ? ret : (int)c.handle;
}

/* Submits @stream with @n BOs given as handle/flags pairs; returns job id. */
static inline int tapu_submit(int fd, uint32_t stream,
			      const struct drm_tapu_submit_bo *bos, uint32_t n,
			      uint64_t *job_id)
{
	struct drm_tapu_submit s = {
		.cmdstream = stream, .bo_count = n, .bos = (uintptr_t)bos,
		.priority = DRM_TAPU_PRIO_NORMAL,
	};
	int ret = tapu_ioctl(fd, DRM_IOCTL_TAPU_SUBMIT, &s);

	if (!ret && job_id)
		*job_id = s.job_id;
	return ret;
}

/* Waits for a job up to @ms; returns 0 and fills @w, or -errno. */
static inline int tapu_wait(int fd, uint64_t id, int64_t ms,
			    struct drm_tapu_wait_job *w)
{
	struct drm_tapu_wait_job tmp;

	if (!w)
		w = &tmp;
	memset(w, 0, sizeof(*w));
	w->job_id = id;
	w->timeout_ns = tapu_deadline_ms(ms);
	return tapu_ioctl(fd, DRM_IOCTL_TAPU_WAIT_JOB, w);
}

/*
 * Path of a debugfs file of the device. Accel devices get a directory
 * named after their device (accel/<name>/); the TAPU one holds "cores".
 */
static inline int tapu_debugfs_path(const char *name, char *path, size_t len)
{
	struct dirent *de;
	DIR *dir = opendir(TAPU_DEBUGFS_ROOT);
	int ret = -ENOENT;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, len, "%s/%s/cores", TAPU_DEBUGFS_ROOT,
			     de->d_name) >= (int)len || access(path, F_OK))
			continue;
		if (snprintf(path, len, "%s/%s/%s", TAPU_DEBUGFS_ROOT,
			     de->d_name, name) < (int)len)
			ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

/* Writes @val to the file @path (sysfs, debugfs); returns 0 or -errno. */
static inline int tapu_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Writes @val to a debugfs file of the device; returns 0 or -errno. */
static inline int tapu_debugfs_write(const char *name, const char *val)
{
	char path[256];
	int ret = tapu_debugfs_path(name, path, sizeof(path));

	return ret ? ret : tapu_write_file(path, val);
}

/* Reads a debugfs file into @buf (NUL-terminated); returns length or -errno. */
static inline int tapu_debugfs_read(const char *name, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd = tapu_debugfs_path(name, path, sizeof(path));

	if (fd)
		return fd;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* Polls up to @ms until no job is pending or on a core (debugfs lists). */
static inline bool tapu_drained(int64_t ms)
{
	int64_t end = tapu_deadline_ms(ms);
	char buf[256];

	do {
		if (tapu_debugfs_read("pending", buf, sizeof(buf)) == 0 &&
		    tapu_debugfs_read("scheduled", buf, sizeof(buf)) == 0)
			return true;
		usleep(10000);
	} while (tapu_now_ns() < end);
	return false;
}

#endif /* __TAPU_TEST_H__ */
