// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

#include <drm/drm_debugfs.h>
#include <drm/drm_file.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "tapu_drv.h"

static void tapu_debugfs_show_list(struct seq_file *m, struct list_head *list)
{
	struct tapu_device *tdev = m->private;
	struct tapu_job *job;

	spin_lock_irq(&tdev->lists_lock);
	list_for_each_entry(job, list, list) {
		if (list == &tdev->scheduled)
			seq_printf(m, "core=%u ", job->core->index);
		seq_printf(m, "client=%llu job=%llu\n", job->tfile->client_id,
			   job->id);
	}
	spin_unlock_irq(&tdev->lists_lock);
}

static int pending_show(struct seq_file *m, void *unused)
{
	struct tapu_device *tdev = m->private;

	tapu_debugfs_show_list(m, &tdev->pending);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pending);

static int scheduled_show(struct seq_file *m, void *unused)
{
	struct tapu_device *tdev = m->private;

	tapu_debugfs_show_list(m, &tdev->scheduled);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(scheduled);

static int cores_show(struct seq_file *m, void *unused)
{
	struct tapu_device *tdev = m->private;
	u32 i;

	for (i = 0; i < tdev->desc.num_cores; i++) {
		struct tapu_core *core = &tdev->cores[i];
		u64 jobs, busy_ns;
		bool busy;
		u32 resets;

		spin_lock_irq(&core->lock);
		busy = core->count;
		jobs = core->jobs_done;
		resets = core->resets;
		busy_ns = core->busy_ns;
		spin_unlock_irq(&core->lock);
		/* load: the drm_sched score that balances the entities */
		seq_printf(m,
			   "core%u: state=%s jobs=%llu resets=%u load=%d busy_ns=%llu\n",
			   i, busy ? "busy" : "idle", jobs, resets,
			   atomic_read(core->sched.score), busy_ns);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cores);

/* The BOs' kept kernel mappings, and those no job uses: how many, pages. */
static int kmapped_show(struct seq_file *m, void *unused)
{
	struct tapu_device *tdev = m->private;
	unsigned long bos, pages, idle_bos, idle_pages;

	spin_lock(&tdev->kmap_lock);
	bos = tdev->kmapped_bos;
	pages = tdev->kmapped_pages;
	idle_bos = tdev->kmap_idle_bos;
	idle_pages = tdev->kmap_idle_pages;
	spin_unlock(&tdev->kmap_lock);
	seq_printf(m, "bos=%lu pages=%lu idle_bos=%lu idle_pages=%lu\n",
		   bos, pages, idle_bos, idle_pages);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kmapped);

/* Accel devices get their directory, accel/<device name>/, at allocation. */
void tapu_debugfs_init(struct tapu_device *tdev)
{
	struct dentry *root = tdev->drm.debugfs_root;

	debugfs_create_file("pending", 0444, root, tdev, &pending_fops);
	debugfs_create_file("scheduled", 0444, root, tdev, &scheduled_fops);
	debugfs_create_file("cores", 0444, root, tdev, &cores_fops);
	debugfs_create_file("kmapped", 0444, root, tdev, &kmapped_fops);
	if (tdev->desc.ops->debugfs_init)
		tdev->desc.ops->debugfs_init(tdev, root);
}
