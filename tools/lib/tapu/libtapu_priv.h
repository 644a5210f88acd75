/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libtapu internals shared by its source files. */
#ifndef __LIBTAPU_PRIV_H__
#define __LIBTAPU_PRIV_H__

#include <errno.h>
#include <pthread.h>

#include "libtapu.h"

#define __hidden __attribute__((visibility("hidden")))

struct tapu_device {
	int fd;
	char *path;
	pthread_mutex_t lock;		/* protects @bos, @max_work */
	struct tapu_bo *bos;		/* live BOs, for import and close */
	uint64_t max_work;		/* of one kernel stream; 0: not queried */
};

struct tapu_bo {
	struct tapu_device *dev;
	struct tapu_bo *next;
	unsigned int refs;
	uint32_t handle;
	uint64_t size;
	uint64_t offset;
	void *map;
};

/* A stream is one kernel stream per part, each within the work limit. */
struct tapu_stream {
	struct tapu_device *dev;
	uint32_t num_slots;
	unsigned int num_parts;
	uint32_t handle[];
};

/* drmIoctl() and friends return -1 or -errno with errno set. */
static inline int tapu_err(int ret)
{
	return ret < 0 ? -errno : 0;
}

__hidden int tapu_ioctl(struct tapu_device *dev, unsigned long req, void *arg);
__hidden int64_t tapu_deadline(int64_t timeout_ns);
__hidden void tapu_bo_destroy(struct tapu_bo *bo);

#endif /* __LIBTAPU_PRIV_H__ */
