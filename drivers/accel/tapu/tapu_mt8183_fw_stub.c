// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * Test stand-in for the MT8183 APU firmware. TEST ONLY: it lets
 * tapu_mt8183.ko run, and its selftests pass, on a machine without the APU.
 *
 * It registers a remote processor (attach-mode, so that recovery needs no
 * firmware file) with a subdevice that announces one rpmsg channel per
 * "VP6 core" ("rpmsg-mt8183-apu<N>") while the processor is attached. Each
 * channel speaks the firmware side of include/linux/rpmsg/tapu_mt8183.h: a
 * worker answers pings and executes job messages with the ISA's reference
 * executor, the one the simulated NPU uses, and sends the completion.
 *
 * It reads and writes memory through the device addresses it was given:
 * the DMA device is this driver's platform device, which has no IOMMU, so
 * a device address translates to a physical address (dma_to_phys()) and
 * the pages are mapped with vmap(). This is good enough for a stand-in
 * under QEMU; a real DSP goes through the APU's IOMMU.
 *
 * debugfs tapu_mt8183_fw_stub/fault arms a fault for the next job message:
 * no reply, one class of malformed reply, a device error, or a crash
 * (rproc_report_crash(): the remote processor is recovered, its channels
 * go away and come back after boot_delay_ms).
 */

#include <linux/cleanup.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/remoteproc.h>
#include <linux/rpmsg.h>
#include <linux/rpmsg/tapu_mt8183.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "rpmsg_internal.h"
#include "tapu_isa.h"
#include "tapu_isa_exec.h"

static unsigned int num_cores = 2;
module_param(num_cores, uint, 0444);
MODULE_PARM_DESC(num_cores, "Number of VP6 cores (channels), 1-2");

static unsigned int boot_delay_ms = 100;
module_param(boot_delay_ms, uint, 0644);
MODULE_PARM_DESC(boot_delay_ms, "Time the firmware takes to come back after a crash");

#define TAPU_STUB_MAX_CORES	2
#define TAPU_STUB_CLOCK_HZ	750000000ULL
#define TAPU_STUB_INBOX		4
#define TAPU_STUB_MSG_MAX	64
#define TAPU_STUB_ADDR		0x400

enum tapu_stub_fault {
	TAPU_STUB_FAULT_NONE,
	TAPU_STUB_FAULT_NO_REPLY,
	TAPU_STUB_FAULT_SHORT,
	TAPU_STUB_FAULT_BAD_VERSION,
	TAPU_STUB_FAULT_BAD_TYPE,
	TAPU_STUB_FAULT_BAD_LENGTH,
	TAPU_STUB_FAULT_BAD_RESERVED,
	TAPU_STUB_FAULT_BAD_SEQ,
	TAPU_STUB_FAULT_BAD_JOB_ID,
	TAPU_STUB_FAULT_BAD_STATUS,
	TAPU_STUB_FAULT_ERROR,
	TAPU_STUB_FAULT_CRASH,
};

static const char *const tapu_stub_fault_names[] = {
	[TAPU_STUB_FAULT_NONE] = "none",
	[TAPU_STUB_FAULT_NO_REPLY] = "no_reply",
	[TAPU_STUB_FAULT_SHORT] = "short",
	[TAPU_STUB_FAULT_BAD_VERSION] = "bad_version",
	[TAPU_STUB_FAULT_BAD_TYPE] = "bad_type",
	[TAPU_STUB_FAULT_BAD_LENGTH] = "bad_length",
	[TAPU_STUB_FAULT_BAD_RESERVED] = "bad_reserved",
	[TAPU_STUB_FAULT_BAD_SEQ] = "bad_seq",
	[TAPU_STUB_FAULT_BAD_JOB_ID] = "bad_job_id",
	[TAPU_STUB_FAULT_BAD_STATUS] = "bad_status",
	[TAPU_STUB_FAULT_ERROR] = "error",
	[TAPU_STUB_FAULT_CRASH] = "crash",
};

struct tapu_stub;

/**
 * struct tapu_stub_msg - a message from the host, waiting for the worker
 * @len: length
 * @data: the message
 */
struct tapu_stub_msg {
	u32 len;
	u64 data[TAPU_STUB_MSG_MAX / sizeof(u64)];
};

/**
 * struct tapu_stub_core - one simulated VP6 core and its channel
 * @stub: the stand-in
 * @index: core index
 * @work: the core's firmware loop
 * @lock: protects @rpdev, @ept, @running and the inbox
 * @rpdev: channel, while announced
 * @ept: the host's endpoint on the channel
 * @running: the firmware runs and accepts messages
 * @head: first message of @inbox
 * @count: messages in @inbox
 * @inbox: messages received
 * @ctx: executor state; @ctx.stop aborts a job when the firmware stops
 * @slots: the slots of the job being executed
 */
struct tapu_stub_core {
	struct tapu_stub *stub;
	u32 index;
	struct work_struct work;
	spinlock_t lock; /* see above */
	struct rpmsg_device *rpdev;
	struct rpmsg_endpoint *ept;
	bool running;
	u32 head;
	u32 count;
	struct tapu_stub_msg inbox[TAPU_STUB_INBOX];
	struct tapu_exec_ctx ctx;
	struct tapu_exec_slot slots[TAPU_MT8183_IPC_MAX_SLOTS];
};

/**
 * struct tapu_stub - the stand-in APU
 * @dev: platform device, the DMA device of the channels
 * @rproc: remote processor
 * @subdev: announces the channels while @rproc is attached
 * @wq: runs the cores' firmware loops
 * @debugfs: debugfs directory
 * @fault_lock: protects @fault
 * @fault: fault armed for the next job message
 * @work_per_ms: throughput the pong reports, measured at probe
 * @num_cores: entries in @cores
 * @cores: the cores
 */
struct tapu_stub {
	struct device *dev;
	struct rproc *rproc;
	struct rproc_subdev subdev;
	struct workqueue_struct *wq;
	struct dentry *debugfs;
	spinlock_t fault_lock; /* protects fault */
	enum tapu_stub_fault fault;
	u64 work_per_ms;
	u32 num_cores;
	struct tapu_stub_core cores[] __counted_by(num_cores);
};

struct tapu_stub_rpdev {
	struct rpmsg_device rpdev;
	struct tapu_stub_core *sc;
};

struct tapu_stub_ept {
	struct rpmsg_endpoint ept;
	struct tapu_stub_core *sc;
};

/* Endpoints */

static void tapu_stub_ept_release(struct kref *kref)
{
	struct rpmsg_endpoint *ept = container_of(kref, struct rpmsg_endpoint,
						  refcount);

	kfree(container_of(ept, struct tapu_stub_ept, ept));
}

static void tapu_stub_destroy_ept(struct rpmsg_endpoint *ept)
{
	struct tapu_stub_core *sc = container_of(ept, struct tapu_stub_ept,
						 ept)->sc;

	scoped_guard(spinlock_irqsave, &sc->lock)
		if (sc->ept == ept)
			sc->ept = NULL;
	/* Waits for a callback in progress. */
	scoped_guard(mutex, &ept->cb_lock)
		ept->cb = NULL;
	kref_put(&ept->refcount, tapu_stub_ept_release);
}

/* The host sends: queue for the core's worker; never blocks. */
static int tapu_stub_trysend(struct rpmsg_endpoint *ept, void *data, int len)
{
	struct tapu_stub_core *sc = container_of(ept, struct tapu_stub_ept,
						 ept)->sc;
	struct tapu_stub_msg *msg;
	unsigned long flags;
	int ret = 0;

	if (len < 0 || len > TAPU_STUB_MSG_MAX)
		return -EMSGSIZE;

	spin_lock_irqsave(&sc->lock, flags);
	if (!sc->running || sc->ept != ept) {
		ret = -EPIPE;
	} else if (sc->count == TAPU_STUB_INBOX) {
		ret = -ENOMEM;
	} else {
		msg = &sc->inbox[(sc->head + sc->count++) % TAPU_STUB_INBOX];
		msg->len = len;
		memcpy(msg->data, data, len);
		queue_work(sc->stub->wq, &sc->work);
	}
	spin_unlock_irqrestore(&sc->lock, flags);
	return ret;
}

static const struct rpmsg_endpoint_ops tapu_stub_ept_ops = {
	.destroy_ept = tapu_stub_destroy_ept,
	.send = tapu_stub_trysend,
	.trysend = tapu_stub_trysend,
};

static struct rpmsg_endpoint *
tapu_stub_create_ept(struct rpmsg_device *rpdev, rpmsg_rx_cb_t cb, void *priv,
		     struct rpmsg_channel_info chinfo)
{
	struct tapu_stub_core *sc = container_of(rpdev, struct tapu_stub_rpdev,
						 rpdev)->sc;
	struct tapu_stub_ept *sept;

	sept = kzalloc(sizeof(*sept), GFP_KERNEL);
	if (!sept)
		return NULL;
	sept->sc = sc;
	kref_init(&sept->ept.refcount);
	mutex_init(&sept->ept.cb_lock);
	sept->ept.rpdev = rpdev;
	sept->ept.cb = cb;
	sept->ept.priv = priv;
	sept->ept.addr = chinfo.src;
	sept->ept.ops = &tapu_stub_ept_ops;

	scoped_guard(spinlock_irqsave, &sc->lock) {
		if (!sc->ept) {
			sc->ept = &sept->ept;
			return &sept->ept;
		}
	}
	kfree(sept);
	return NULL;
}

static const struct rpmsg_device_ops tapu_stub_rpdev_ops = {
	.create_ept = tapu_stub_create_ept,
};

/* Firmware */

/* Delivers a message to the host, as the rpmsg transport's interrupt would. */
static void tapu_stub_reply(struct tapu_stub_core *sc, void *msg, int len)
{
	struct rpmsg_endpoint *ept;

	scoped_guard(spinlock_irqsave, &sc->lock) {
		ept = sc->running ? sc->ept : NULL;
		if (ept)
			kref_get(&ept->refcount);
	}
	if (!ept)
		return;
	scoped_guard(mutex, &ept->cb_lock)
		if (ept->cb)
			ept->cb(ept->rpdev, msg, len, ept->priv,
				TAPU_STUB_ADDR + sc->index);
	kref_put(&ept->refcount, tapu_stub_ept_release);
}

static void tapu_stub_hdr(struct tapu_mt8183_ipc_hdr *hdr, u16 type, u32 seq,
			  u32 len)
{
	hdr->version = cpu_to_le16(TAPU_MT8183_IPC_VERSION);
	hdr->type = cpu_to_le16(type);
	hdr->seq = cpu_to_le32(seq);
	hdr->length = cpu_to_le32(len);
	hdr->reserved = 0;
}

static void tapu_stub_ping(struct tapu_stub_core *sc,
			   const struct tapu_mt8183_ipc_ping *ping)
{
	struct tapu_mt8183_ipc_pong pong = {
		.cookie = ping->cookie,
		.core_id = cpu_to_le32(sc->index),
		.num_cores = cpu_to_le32(sc->stub->num_cores),
		.isa_version = cpu_to_le32(DRM_TAPU_ISA_VERSION),
		.max_segments = cpu_to_le32(TAPU_MT8183_IPC_MAX_SEGMENTS),
		.cycle_clock_hz = cpu_to_le64(TAPU_STUB_CLOCK_HZ),
		.work_per_ms = cpu_to_le64(sc->stub->work_per_ms),
	};

	tapu_stub_hdr(&pong.hdr, TAPU_MT8183_IPC_PONG,
		      le32_to_cpu(ping->hdr.seq), sizeof(pong));
	tapu_stub_reply(sc, &pong, sizeof(pong));
}

/* A device address of the stand-in's DMA device, in the kernel's map. */
static void *tapu_stub_addr(struct tapu_stub *stub, u64 addr, u64 size)
{
	phys_addr_t phys = dma_to_phys(stub->dev, addr);

	if (!size || addr + size < addr ||
	    !pfn_valid(PHYS_PFN(phys)) || !pfn_valid(PHYS_PFN(phys + size - 1)))
		return NULL;
	return phys_to_virt(phys);
}

/* Maps a slot's segments, in order, into one virtually contiguous range. */
static void *tapu_stub_map_slot(struct tapu_stub *stub,
				const struct tapu_mt8183_ipc_segment *seg,
				u32 n, u64 *size)
{
	struct page **pages;
	u64 total = 0;
	u32 i, k = 0;
	void *vaddr;

	for (i = 0; i < n; i++) {
		u64 addr = le64_to_cpu(seg[i].addr);
		u64 len = le64_to_cpu(seg[i].size);

		if (!PAGE_ALIGNED(addr) || !PAGE_ALIGNED(len) ||
		    !tapu_stub_addr(stub, addr, len) || total + len < total)
			return NULL;
		total += len;
	}
	if (!total || total > SZ_1G)
		return NULL;

	pages = kvmalloc_array(total >> PAGE_SHIFT, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < n; i++) {
		phys_addr_t phys = dma_to_phys(stub->dev, le64_to_cpu(seg[i].addr));
		u64 off;

		for (off = 0; off < le64_to_cpu(seg[i].size); off += PAGE_SIZE)
			pages[k++] = pfn_to_page(PHYS_PFN(phys + off));
	}
	vaddr = vmap(pages, k, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	*size = total;
	return vaddr;
}

/* Checks the job message and its table, maps the slots and executes. */
static u32 tapu_stub_execute(struct tapu_stub_core *sc,
			     const struct tapu_mt8183_ipc_job *job,
			     struct tapu_exec_slot *slots, bool *cancelled)
{
	struct tapu_stub *stub = sc->stub;
	u64 cmd_size = le64_to_cpu(job->cmd_size);
	u32 entries = le32_to_cpu(job->table_entries);
	u32 num_slots = le32_to_cpu(job->num_slots);
	const struct tapu_mt8183_ipc_segment *table;
	const void *cmd;
	u32 i, first;
	int ret;

	if (!cmd_size || cmd_size > TAPU_MT8183_IPC_MAX_CMD_SIZE ||
	    entries > TAPU_MT8183_IPC_MAX_SEGMENTS ||
	    num_slots > TAPU_MT8183_IPC_MAX_SLOTS || entries < num_slots)
		return TAPU_MT8183_IPC_STATUS_INVALID;
	cmd = tapu_stub_addr(stub, le64_to_cpu(job->cmd_addr), cmd_size);
	table = entries ? tapu_stub_addr(stub, le64_to_cpu(job->table_addr),
					 entries * sizeof(*table)) : NULL;
	if (!cmd || (entries && !table))
		return TAPU_MT8183_IPC_STATUS_INVALID;

	/* Slots in order, each with at least one segment. */
	for (i = 0, first = 0; i < num_slots; i++) {
		u32 end = first;

		while (end < entries && le32_to_cpu(table[end].slot) == i) {
			if (table[end].reserved)
				return TAPU_MT8183_IPC_STATUS_INVALID;
			end++;
		}
		if (end == first)
			return TAPU_MT8183_IPC_STATUS_INVALID;
		slots[i].vaddr = tapu_stub_map_slot(stub, &table[first],
						    end - first, &slots[i].size);
		if (!slots[i].vaddr)
			return TAPU_MT8183_IPC_STATUS_INVALID;
		first = end;
	}
	if (first != entries)
		return TAPU_MT8183_IPC_STATUS_INVALID;

	ret = tapu_isa_execute(cmd, cmd_size, slots, num_slots, &sc->ctx);
	*cancelled = ret == -ECANCELED;
	return ret ? TAPU_MT8183_IPC_STATUS_FAULT : TAPU_MT8183_IPC_STATUS_OK;
}

static enum tapu_stub_fault tapu_stub_take_fault(struct tapu_stub *stub)
{
	enum tapu_stub_fault fault;

	scoped_guard(spinlock, &stub->fault_lock) {
		fault = stub->fault;
		stub->fault = TAPU_STUB_FAULT_NONE;
	}
	return fault;
}

static void tapu_stub_job(struct tapu_stub_core *sc,
			  const struct tapu_mt8183_ipc_job *job)
{
	struct tapu_exec_slot *slots = sc->slots;
	enum tapu_stub_fault fault = tapu_stub_take_fault(sc->stub);
	struct tapu_mt8183_ipc_job_done done = {
		.job_id = job->job_id,
	};
	unsigned int noreclaim;
	bool cancelled = false;
	int len = sizeof(done);
	u32 status, i;

	if (fault == TAPU_STUB_FAULT_CRASH) {
		rproc_report_crash(sc->stub->rproc, RPROC_FATAL_ERROR);
		return;
	}
	if (fault == TAPU_STUB_FAULT_NO_REPLY)
		return;

	/*
	 * Firmware allocates no kernel memory; the stand-in must, for its
	 * mappings: keep that out of reclaim, which may wait for this job.
	 */
	noreclaim = memalloc_noreclaim_save();
	WRITE_ONCE(sc->ctx.cycles, 0);
	memset(sc->slots, 0, sizeof(sc->slots));
	status = tapu_stub_execute(sc, job, slots, &cancelled);
	for (i = 0; i < ARRAY_SIZE(sc->slots); i++)
		if (slots[i].vaddr)
			vunmap(slots[i].vaddr);
	memalloc_noreclaim_restore(noreclaim);
	if (cancelled)
		return;
	if (fault == TAPU_STUB_FAULT_ERROR)
		status = TAPU_MT8183_IPC_STATUS_FAULT;

	tapu_stub_hdr(&done.hdr, TAPU_MT8183_IPC_JOB_DONE,
		      le32_to_cpu(job->hdr.seq), sizeof(done));
	done.cycles = cpu_to_le64(READ_ONCE(sc->ctx.cycles));
	done.status = cpu_to_le32(status);

	switch (fault) {
	case TAPU_STUB_FAULT_SHORT:
		len = sizeof(done.hdr) + sizeof(done.job_id);
		done.hdr.length = cpu_to_le32(len);
		break;
	case TAPU_STUB_FAULT_BAD_VERSION:
		done.hdr.version = cpu_to_le16(TAPU_MT8183_IPC_VERSION + 1);
		break;
	case TAPU_STUB_FAULT_BAD_TYPE:
		done.hdr.type = cpu_to_le16(TAPU_MT8183_IPC_JOB);
		break;
	case TAPU_STUB_FAULT_BAD_LENGTH:
		done.hdr.length = cpu_to_le32(sizeof(done) + 8);
		break;
	case TAPU_STUB_FAULT_BAD_RESERVED:
		done.reserved = cpu_to_le32(1);
		break;
	case TAPU_STUB_FAULT_BAD_SEQ:
		done.hdr.seq = cpu_to_le32(le32_to_cpu(job->hdr.seq) + 1);
		break;
	case TAPU_STUB_FAULT_BAD_JOB_ID:
		done.job_id = cpu_to_le64(le64_to_cpu(job->job_id) + 1);
		break;
	case TAPU_STUB_FAULT_BAD_STATUS:
		done.status = cpu_to_le32(TAPU_MT8183_IPC_STATUS_COUNT + 7);
		break;
	default:
		break;
	}
	tapu_stub_reply(sc, &done, len);
}

static void tapu_stub_work(struct work_struct *work)
{
	struct tapu_stub_core *sc = container_of(work, struct tapu_stub_core,
						 work);
	const struct tapu_mt8183_ipc_hdr *hdr;
	struct tapu_stub_msg msg;

	for (;;) {
		scoped_guard(spinlock_irqsave, &sc->lock) {
			if (!sc->running || !sc->count)
				return;
			msg = sc->inbox[sc->head];
			sc->head = (sc->head + 1) % TAPU_STUB_INBOX;
			sc->count--;
		}

		/* The firmware drops what it does not understand. */
		hdr = (const void *)msg.data;
		if (msg.len < sizeof(*hdr) ||
		    le16_to_cpu(hdr->version) != TAPU_MT8183_IPC_VERSION ||
		    le32_to_cpu(hdr->length) != msg.len)
			continue;
		if (le16_to_cpu(hdr->type) == TAPU_MT8183_IPC_PING &&
		    msg.len == sizeof(struct tapu_mt8183_ipc_ping))
			tapu_stub_ping(sc, (const void *)msg.data);
		else if (le16_to_cpu(hdr->type) == TAPU_MT8183_IPC_JOB &&
			 msg.len == sizeof(struct tapu_mt8183_ipc_job))
			tapu_stub_job(sc, (const void *)msg.data);
	}
}

/* Channels: announced while the remote processor is attached */

static void tapu_stub_rpdev_release(struct device *dev)
{
	struct rpmsg_device *rpdev = container_of(dev, struct rpmsg_device,
						  dev);

	kfree(container_of(rpdev, struct tapu_stub_rpdev, rpdev));
}

static int tapu_stub_announce(struct tapu_stub_core *sc)
{
	struct tapu_stub *stub = sc->stub;
	struct tapu_stub_rpdev *srp;
	int ret;

	srp = kzalloc(sizeof(*srp), GFP_KERNEL);
	if (!srp)
		return -ENOMEM;
	srp->sc = sc;
	srp->rpdev.ops = &tapu_stub_rpdev_ops;
	srp->rpdev.src = TAPU_STUB_ADDR + sc->index;
	srp->rpdev.dst = TAPU_STUB_ADDR + sc->index;
	srp->rpdev.little_endian = true;
	snprintf(srp->rpdev.id.name, RPMSG_NAME_SIZE, "rpmsg-mt8183-apu%u",
		 sc->index);
	/* Below the remote processor, as a real transport's channels are. */
	srp->rpdev.dev.parent = &stub->rproc->dev;
	srp->rpdev.dev.release = tapu_stub_rpdev_release;

	scoped_guard(spinlock_irqsave, &sc->lock) {
		sc->running = true;
		sc->head = 0;
		sc->count = 0;
		WRITE_ONCE(sc->ctx.stop, false);
	}
	ret = rpmsg_register_device(&srp->rpdev);
	if (ret)
		return ret;	/* put_device() freed srp */
	sc->rpdev = &srp->rpdev;
	return 0;
}

static void tapu_stub_withdraw(struct tapu_stub_core *sc)
{
	/* The firmware stops: no message is taken or answered any more. */
	scoped_guard(spinlock_irqsave, &sc->lock) {
		sc->running = false;
		sc->count = 0;
		WRITE_ONCE(sc->ctx.stop, true);
	}
	cancel_work_sync(&sc->work);
	if (sc->rpdev) {
		device_unregister(&sc->rpdev->dev);
		sc->rpdev = NULL;
	}
}

static int tapu_stub_subdev_start(struct rproc_subdev *subdev)
{
	struct tapu_stub *stub = container_of(subdev, struct tapu_stub, subdev);
	u32 i;
	int ret;

	for (i = 0; i < stub->num_cores; i++) {
		ret = tapu_stub_announce(&stub->cores[i]);
		if (ret) {
			while (i--)
				tapu_stub_withdraw(&stub->cores[i]);
			return ret;
		}
	}
	return 0;
}

static void tapu_stub_subdev_stop(struct rproc_subdev *subdev, bool crashed)
{
	struct tapu_stub *stub = container_of(subdev, struct tapu_stub, subdev);
	u32 i;

	for (i = 0; i < stub->num_cores; i++)
		tapu_stub_withdraw(&stub->cores[i]);
}

/* Remote processor: attach-mode, "booted" by whoever loaded the firmware */

static int tapu_stub_attach(struct rproc *rproc)
{
	/* The firmware boots again after a crash. */
	if (rproc->crash_cnt)
		msleep(boot_delay_ms);
	return 0;
}

static int tapu_stub_nop(struct rproc *rproc)
{
	return 0;
}

static const struct rproc_ops tapu_stub_rproc_ops = {
	.start = tapu_stub_nop,
	.stop = tapu_stub_nop,
	.attach = tapu_stub_attach,
	.detach = tapu_stub_nop,
};

/* debugfs */

static int tapu_stub_fault_show(struct seq_file *m, void *unused)
{
	struct tapu_stub *stub = m->private;
	enum tapu_stub_fault fault;

	scoped_guard(spinlock, &stub->fault_lock)
		fault = stub->fault;
	seq_printf(m, "%s\n", tapu_stub_fault_names[fault]);
	return 0;
}

static int tapu_stub_fault_open(struct inode *inode, struct file *file)
{
	return single_open(file, tapu_stub_fault_show, inode->i_private);
}

static ssize_t tapu_stub_fault_write(struct file *file, const char __user *ubuf,
				     size_t len, loff_t *off)
{
	struct tapu_stub *stub = file_inode(file)->i_private;
	char buf[24];
	int fault;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	fault = sysfs_match_string(tapu_stub_fault_names, buf);
	if (fault < 0)
		return fault;
	scoped_guard(spinlock, &stub->fault_lock)
		stub->fault = fault;
	return len;
}

static const struct file_operations tapu_stub_fault_fops = {
	.owner = THIS_MODULE,
	.open = tapu_stub_fault_open,
	.read = seq_read,
	.write = tapu_stub_fault_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* Platform device */

static void tapu_stub_destroy_wq(void *wq)
{
	destroy_workqueue(wq);
}

static void tapu_stub_remove_debugfs(void *dentry)
{
	debugfs_remove_recursive(dentry);
}

static int tapu_stub_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct tapu_stub *stub;
	struct rproc *rproc;
	u32 i;
	int ret;

	if (!num_cores || num_cores > TAPU_STUB_MAX_CORES)
		return dev_err_probe(dev, -EINVAL, "num_cores must be 1 to %u\n",
				     TAPU_STUB_MAX_CORES);

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;

	stub = devm_kzalloc(dev, struct_size(stub, cores, num_cores),
			    GFP_KERNEL);
	if (!stub)
		return -ENOMEM;
	stub->num_cores = num_cores;
	/* The stub's cores are this CPU running the kernel's executor. */
	stub->work_per_ms = tapu_isa_work_per_ms();
	stub->dev = dev;
	spin_lock_init(&stub->fault_lock);
	for (i = 0; i < num_cores; i++) {
		struct tapu_stub_core *sc = &stub->cores[i];

		sc->stub = stub;
		sc->index = i;
		spin_lock_init(&sc->lock);
		INIT_WORK(&sc->work, tapu_stub_work);
	}

	/* Completes fences: must progress under memory pressure. */
	stub->wq = alloc_workqueue("tapu-fw-stub", WQ_UNBOUND | WQ_MEM_RECLAIM,
				   0);
	if (!stub->wq)
		return -ENOMEM;
	ret = devm_add_action_or_reset(dev, tapu_stub_destroy_wq, stub->wq);
	if (ret)
		return ret;

	stub->debugfs = debugfs_create_dir("tapu_mt8183_fw_stub", NULL);
	debugfs_create_file("fault", 0600, stub->debugfs, stub,
			    &tapu_stub_fault_fops);
	ret = devm_add_action_or_reset(dev, tapu_stub_remove_debugfs,
				       stub->debugfs);
	if (ret)
		return ret;

	rproc = devm_rproc_alloc(dev, "tapu-mt8183-fw-stub",
				 &tapu_stub_rproc_ops, NULL, 0);
	if (!rproc)
		return -ENOMEM;
	stub->rproc = rproc;
	/* Already running: attach, and attach again to recover. */
	rproc->state = RPROC_DETACHED;
	rproc->auto_boot = true;
	set_bit(RPROC_FEAT_ATTACH_ON_RECOVERY, rproc->features);
	stub->subdev.start = tapu_stub_subdev_start;
	stub->subdev.stop = tapu_stub_subdev_stop;
	rproc_add_subdev(rproc, &stub->subdev);

	return devm_rproc_add(dev, rproc);
}

static struct platform_driver tapu_stub_driver = {
	.probe = tapu_stub_probe,
	.driver = {
		.name = "tapu-mt8183-fw-stub",
	},
};

static struct platform_device *tapu_stub_pdev;

/* Test only: built in, it registers nothing unless the command line asks. */
static bool instantiate = IS_MODULE(CONFIG_DRM_ACCEL_TAPU_MT8183_FW_STUB);
module_param(instantiate, bool, 0444);
MODULE_PARM_DESC(instantiate,
		 "Register the stand-in APU (default: loaded as a module; built in: tapu_mt8183_fw_stub.instantiate=1)");

static int __init tapu_stub_init(void)
{
	int ret;

	if (!instantiate)
		return 0;
	ret = platform_driver_register(&tapu_stub_driver);
	if (ret)
		return ret;
	tapu_stub_pdev = platform_device_register_simple("tapu-mt8183-fw-stub",
							 PLATFORM_DEVID_NONE,
							 NULL, 0);
	if (IS_ERR(tapu_stub_pdev)) {
		platform_driver_unregister(&tapu_stub_driver);
		return PTR_ERR(tapu_stub_pdev);
	}
	return 0;
}

static void __exit tapu_stub_exit(void)
{
	if (!tapu_stub_pdev)
		return;
	platform_device_unregister(tapu_stub_pdev);
	platform_driver_unregister(&tapu_stub_driver);
}

module_init(tapu_stub_init);
module_exit(tapu_stub_exit);

MODULE_DESCRIPTION("TAPU MT8183 APU firmware stand-in (test only)");
MODULE_AUTHOR("The TAPU authors");
MODULE_LICENSE("GPL");
