// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * A model of the MT8183 APU's two VP6 cores for a QEMU guest, at their
 * register interface, so that the APU's remote processor driver (mtk_apu)
 * and the TAPU backend run unchanged. The guest's device tree has the APU
 * node, its registers and firmware carveout in no-map reserved memory and
 * two interrupts that nothing else raises. Per core, a thread plays the
 * DSP: it waits for the host to release the core from reset and stall,
 * boots it at the boot address the host wrote, runs the reference
 * firmware (firmware/tapu-mt8183, built into this module) on the resource
 * table and vrings that remoteproc set up in the carveout, watches the
 * kick register, and interrupts the host by setting the interrupt pending
 * at the GIC. A core that the host stalls or resets stops at once: it
 * abandons its job and forgets its state, as a core losing its clock
 * would.
 *
 * debugfs tapu_dsp_model/fault arms a misbehaviour of the firmware for the
 * next job of either core ("hold" holds the job before it runs until
 * "release" is written); tapu_dsp_model/cores shows each core's state.
 *
 * The model checks that the host keeps a job's BOs while the job runs: it
 * takes a reference on each page for the job and counts, as "stale", the
 * pages of which it held the last one when the job ended, unless the host
 * had halted the core by then (a real core stops at once; the model's
 * thread notices within a tick, its references keep the pages meanwhile).
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/irq.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/of_irq.h>
#include <linux/of_reserved_mem.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>

#include "tapu_fw.h"
#include "tapu_fw_rpmsg.h"

/* The APU registers of drivers/remoteproc/mtk_apu.c, seen from the core. */
#define DSP_SW_RST			0x00c
#define   DSP_SW_RST_IPU_D_RST		BIT(8)
#define   DSP_SW_RST_IPU_B_RST		BIT(4)
#define DSP_CORE_CTRL			0x110
#define   DSP_CORE_CTRL_RUN_STALL	BIT(23)
#define   DSP_CORE_CTRL_STATE_VECTOR_SELECT BIT(19)
#define   DSP_CORE_CTRL_PIF_GATED	BIT(17)
#define DSP_XTENSA_INT			0x114
#define   DSP_XTENSA_INT_MBOX		BIT(0)
#define   DSP_XTENSA_INT_FATAL		BIT(31)
#define DSP_CTL_XTENSA_INT		0x118
#define DSP_ALTRESETVEC			0x1f8
/*
 * Written by the model into ALTRESETVEC once a core booted from it: the
 * host writes the boot address at every start, so a core that finds
 * another value was restarted, however briefly it was halted.
 */
#define DSP_BOOTED			0xffffffffu

#define DSP_NUM_CORES			2
#define DSP_CLOCK_HZ			NSEC_PER_SEC
#define DSP_MAX_SEGMENTS		TAPU_FW_MAX_SEGMENTS

enum dsp_fault {
	DSP_FAULT_NONE,
	DSP_FAULT_NO_REPLY,
	DSP_FAULT_SHORT,
	DSP_FAULT_BAD_VERSION,
	DSP_FAULT_BAD_TYPE,
	DSP_FAULT_BAD_LENGTH,
	DSP_FAULT_BAD_RESERVED,
	DSP_FAULT_BAD_SEQ,
	DSP_FAULT_BAD_JOB_ID,
	DSP_FAULT_BAD_STATUS,
	DSP_FAULT_ERROR,
	DSP_FAULT_CRASH,
	DSP_FAULT_HOLD,
	DSP_FAULT_RELEASE,
};

static const char *const dsp_fault_names[] = {
	[DSP_FAULT_NONE] = "none",
	[DSP_FAULT_NO_REPLY] = "no_reply",
	[DSP_FAULT_SHORT] = "short",
	[DSP_FAULT_BAD_VERSION] = "bad_version",
	[DSP_FAULT_BAD_TYPE] = "bad_type",
	[DSP_FAULT_BAD_LENGTH] = "bad_length",
	[DSP_FAULT_BAD_RESERVED] = "bad_reserved",
	[DSP_FAULT_BAD_SEQ] = "bad_seq",
	[DSP_FAULT_BAD_JOB_ID] = "bad_job_id",
	[DSP_FAULT_BAD_STATUS] = "bad_status",
	[DSP_FAULT_ERROR] = "error",
	[DSP_FAULT_CRASH] = "crash",
	[DSP_FAULT_HOLD] = "hold",
	[DSP_FAULT_RELEASE] = "release",
};

struct dsp;

/**
 * struct dsp_mapping - a slot the running job has mapped
 * @vaddr: the model's mapping of its pages
 * @pages: its pages, referenced
 * @count: entries in @pages
 */
struct dsp_mapping {
	void *vaddr;
	struct page **pages;
	u32 count;
};

/**
 * struct dsp_core - one modelled VP6 core
 * @dsp: the APU
 * @index: core number
 * @regs: its control registers
 * @irq: the host's interrupt number of its interrupt
 * @thread: the core
 * @watch: stops a running job when the host halts the core
 * @running: released from reset and stall, firmware booted
 * @halted: set by @watch, cleared at boot
 * @fault: the misbehaviour of the job being answered
 * @rpmsg: the firmware's rpmsg device
 * @fw: the firmware's IPC state
 * @boots: times the host booted the core
 * @kicks: kicks seen
 * @irqs: interrupts raised
 * @held: the job held by a "hold" fault is waiting for its release
 * @stale: pages of a job that the host released before the job ended
 * @outside_pool: rpmsg buffers refused for lying outside the buffer pool
 * @maps: the running job's slots
 */
struct dsp_core {
	struct dsp *dsp;
	u32 index;
	void __iomem *regs;
	int irq;
	struct task_struct *thread;
	struct timer_list watch;
	bool running;
	bool halted;
	enum dsp_fault fault;
	struct tapu_fw_rpmsg rpmsg;
	struct tapu_fw_core fw;
	u32 boots;
	u32 kicks;
	u32 irqs;
	bool held;
	u32 stale;
	u32 outside_pool;
	struct dsp_mapping maps[TAPU_MT8183_IPC_MAX_SLOTS];
};

/**
 * struct dsp - the modelled APU
 * @fw_pa: physical (and device) address of the firmware carveout
 * @fw_size: its size
 * @fw_va: the model's mapping of it
 * @buf_pa: physical address of the rpmsg buffer pool, no-map reserved
 *	memory like the carveout
 * @buf_size: its size, 0 if the node has none
 * @buf_va: the model's mapping of it
 * @fault_lock: protects @fault
 * @fault: armed for the next job
 * @release: a held job may run
 * @debugfs: the model's directory
 * @cores: the cores
 */
struct dsp {
	phys_addr_t fw_pa;
	size_t fw_size;
	void *fw_va;
	phys_addr_t buf_pa;
	size_t buf_size;
	void *buf_va;
	spinlock_t fault_lock;	/* protects fault */
	enum dsp_fault fault;
	bool release;
	struct dentry *debugfs;
	struct dsp_core cores[DSP_NUM_CORES];
};

static struct dsp *the_dsp;

/* Released: out of reset, not stalled, PIF ungated. */
static bool dsp_core_released(struct dsp_core *c)
{
	u32 ctrl = readl(c->regs + DSP_CORE_CTRL);

	return !readl(c->regs + DSP_SW_RST) &&
	       !(ctrl & (DSP_CORE_CTRL_RUN_STALL | DSP_CORE_CTRL_PIF_GATED));
}

/* Halted, or halted and started again, since the core booted. */
static bool dsp_core_restarted(struct dsp_core *c)
{
	return !dsp_core_released(c) ||
	       readl(c->regs + DSP_ALTRESETVEC) != DSP_BOOTED;
}

static void dsp_watch(struct timer_list *t)
{
	struct dsp_core *c = from_timer(c, t, watch);

	if (READ_ONCE(c->running) && dsp_core_restarted(c)) {
		WRITE_ONCE(c->halted, true);
		WRITE_ONCE(c->fw.ctx.stop, true);
	}
	mod_timer(&c->watch, jiffies + 1);
}

/* No IOMMU in the guest: device addresses are physical addresses. */
static void *dsp_map(struct dsp *dsp, u64 da, u64 size)
{
	if (!size || da + size < da)
		return NULL;
	if (da >= dsp->fw_pa && da + size <= dsp->fw_pa + dsp->fw_size)
		return dsp->fw_va + (da - dsp->fw_pa);
	if (da >= dsp->buf_pa && da + size <= dsp->buf_pa + dsp->buf_size)
		return dsp->buf_va + (da - dsp->buf_pa);
	if (!pfn_valid(PHYS_PFN(da)) || !pfn_valid(PHYS_PFN(da + size - 1)))
		return NULL;
	return phys_to_virt(da);
}

static void dsp_interrupt(struct dsp_core *c, u32 status)
{
	writel(status, c->regs + DSP_XTENSA_INT);
	c->irqs++;
	irq_set_irqchip_state(c->irq, IRQCHIP_STATE_PENDING, true);
}

/* The firmware's platform: rpmsg */

/*
 * With a buffer pool, the rpmsg buffers are reachable only in it, as
 * through the M4U: the vrings carry their physical addresses, and only the
 * pool is mapped there. The vrings themselves come from the DMA API.
 */
static void *dsp_rpmsg_map(struct tapu_fw_rpmsg *r, u64 da, u64 size)
{
	struct dsp_core *c = r->priv;
	struct dsp *dsp = c->dsp;

	if (dsp->buf_size && da != le32_to_cpu(r->vdev->vring[0].da) &&
	    da != le32_to_cpu(r->vdev->vring[1].da) &&
	    (da < dsp->buf_pa || da + size > dsp->buf_pa + dsp->buf_size)) {
		c->outside_pool++;
		return NULL;
	}
	return dsp_map(dsp, da, size);
}

/* The guest's memory is coherent: nothing to maintain. */
static void dsp_rpmsg_cache(struct tapu_fw_rpmsg *r, const void *p, u64 size)
{
}

static void dsp_rpmsg_notify(struct tapu_fw_rpmsg *r)
{
	dsp_interrupt(r->priv, DSP_XTENSA_INT_MBOX);
}

/*
 * A held job waits before it runs, as long as the core is not halted;
 * false if it was, and the job must not run.
 */
static bool dsp_hold(struct dsp_core *c, const void *data, u32 len)
{
	const struct tapu_mt8183_ipc_hdr *hdr = data;
	struct dsp *dsp = c->dsp;
	bool hold;

	if (len < sizeof(*hdr) || le16_to_cpu(hdr->type) != TAPU_MT8183_IPC_JOB)
		return true;
	spin_lock(&dsp->fault_lock);
	hold = dsp->fault == DSP_FAULT_HOLD;
	if (hold) {
		dsp->fault = DSP_FAULT_NONE;
		dsp->release = false;
	}
	spin_unlock(&dsp->fault_lock);
	if (!hold)
		return true;
	WRITE_ONCE(c->held, true);
	while (!READ_ONCE(dsp->release) && !READ_ONCE(c->halted) &&
	       !kthread_should_stop())
		usleep_range(1000, 2000);
	WRITE_ONCE(c->held, false);
	return !READ_ONCE(c->halted);
}

static void dsp_rpmsg_receive(struct tapu_fw_rpmsg *r, const void *data, u32 len)
{
	struct dsp_core *c = r->priv;

	if (dsp_hold(c, data, len))
		tapu_fw_receive(&c->fw, data, len);
}

static const struct tapu_fw_rpmsg_ops dsp_rpmsg_ops = {
	.map = dsp_rpmsg_map,
	.invalidate = dsp_rpmsg_cache,
	.writeback = dsp_rpmsg_cache,
	.notify = dsp_rpmsg_notify,
	.receive = dsp_rpmsg_receive,
};

/* The firmware's platform: IPC */

static void *dsp_fw_map(struct tapu_fw_core *fw, u64 da, u64 size)
{
	struct dsp_core *c = fw->priv;

	return dsp_map(c->dsp, da, size);
}

/*
 * A slot's segments, page-aligned, mapped as one range; each page is
 * referenced until the job ends, and must be a page the host holds.
 */
static void *dsp_fw_map_slot(struct tapu_fw_core *fw,
			     const struct tapu_mt8183_ipc_segment *seg, u32 n,
			     u64 size)
{
	struct dsp_core *c = fw->priv;
	struct dsp_mapping *map = NULL;
	struct page **pages;
	u64 total = 0, off;
	u32 i, k = 0;
	void *vaddr;

	for (i = 0; i < ARRAY_SIZE(c->maps) && !map; i++)
		if (!c->maps[i].vaddr)
			map = &c->maps[i];
	if (!map)
		return NULL;

	for (i = 0; i < n; i++) {
		u64 da = le64_to_cpu(seg[i].addr), len = le64_to_cpu(seg[i].size);

		if (!PAGE_ALIGNED(da) || !PAGE_ALIGNED(len) ||
		    !dsp_map(c->dsp, da, len) || total + len < total)
			return NULL;
		total += len;
	}
	if (total != size || total > SZ_1G)
		return NULL;
	pages = kvmalloc_array(total >> PAGE_SHIFT, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < n; i++) {
		for (off = 0; off < le64_to_cpu(seg[i].size); off += PAGE_SIZE) {
			struct page *page = virt_to_page(dsp_map(c->dsp,
								 le64_to_cpu(seg[i].addr) + off,
								 PAGE_SIZE));

			if (!get_page_unless_zero(page)) {
				c->stale++;
				goto unref;
			}
			pages[k++] = page;
		}
	}
	vaddr = vmap(pages, k, VM_MAP, PAGE_KERNEL);
	if (!vaddr)
		goto unref;
	*map = (struct dsp_mapping){ vaddr, pages, k };
	return vaddr;
unref:
	while (k--)
		put_page(pages[k]);
	kvfree(pages);
	return NULL;
}

static void dsp_fw_unmap_slot(struct tapu_fw_core *fw, void *vaddr, u64 size)
{
	struct dsp_core *c = fw->priv;
	bool halted = READ_ONCE(c->halted);
	struct dsp_mapping *map;
	u32 i;

	for (map = c->maps; map < c->maps + ARRAY_SIZE(c->maps); map++)
		if (map->vaddr == vaddr)
			break;
	if (WARN_ON(map == c->maps + ARRAY_SIZE(c->maps)))
		return;
	vunmap(vaddr);
	for (i = 0; i < map->count; i++) {
		/* Ours was the last reference: the host let the page go. */
		if (!halted && page_ref_count(map->pages[i]) == 1)
			c->stale++;
		put_page(map->pages[i]);
	}
	kvfree(map->pages);
	*map = (struct dsp_mapping){};
}

static void dsp_fw_cache(struct tapu_fw_core *fw, const void *p, u64 size)
{
}

static u64 dsp_fw_cycles(struct tapu_fw_core *fw)
{
	return ktime_get_ns();
}

static enum dsp_fault dsp_take_fault(struct dsp *dsp)
{
	enum dsp_fault fault;

	spin_lock(&dsp->fault_lock);
	fault = dsp->fault;
	dsp->fault = DSP_FAULT_NONE;
	spin_unlock(&dsp->fault_lock);
	return fault;
}

/* A completion, as the armed fault has the firmware get it wrong. */
static u32 dsp_corrupt(struct tapu_mt8183_ipc_job_done *done, enum dsp_fault fault)
{
	u32 len = sizeof(*done);

	switch (fault) {
	case DSP_FAULT_SHORT:
		len = sizeof(done->hdr) + sizeof(done->job_id);
		done->hdr.length = cpu_to_le32(len);
		break;
	case DSP_FAULT_BAD_VERSION:
		done->hdr.version = cpu_to_le16(TAPU_MT8183_IPC_VERSION + 1);
		break;
	case DSP_FAULT_BAD_TYPE:
		done->hdr.type = cpu_to_le16(TAPU_MT8183_IPC_JOB);
		break;
	case DSP_FAULT_BAD_LENGTH:
		done->hdr.length = cpu_to_le32(sizeof(*done) + 8);
		break;
	case DSP_FAULT_BAD_RESERVED:
		done->reserved = cpu_to_le32(1);
		break;
	case DSP_FAULT_BAD_SEQ:
		done->hdr.seq = cpu_to_le32(le32_to_cpu(done->hdr.seq) + 1);
		break;
	case DSP_FAULT_BAD_JOB_ID:
		done->job_id = cpu_to_le64(le64_to_cpu(done->job_id) + 1);
		break;
	case DSP_FAULT_BAD_STATUS:
		done->status = cpu_to_le32(TAPU_MT8183_IPC_STATUS_COUNT + 7);
		break;
	case DSP_FAULT_ERROR:
		done->status = cpu_to_le32(TAPU_MT8183_IPC_STATUS_FAULT);
		break;
	default:
		break;
	}
	return len;
}

/*
 * The firmware's messages to the host. A core that the host halted sends
 * nothing; a full vring is waited out, as firmware would.
 */
static int dsp_fw_send(struct tapu_fw_core *fw, const void *msg, u32 len)
{
	struct tapu_mt8183_ipc_job_done done;
	struct dsp_core *c = fw->priv;
	const struct tapu_mt8183_ipc_hdr *hdr = msg;
	int ret, tries = 0;

	if (READ_ONCE(c->halted))
		return -ECANCELED;
	if (le16_to_cpu(hdr->type) == TAPU_MT8183_IPC_JOB_DONE &&
	    len == sizeof(done)) {
		c->fault = dsp_take_fault(c->dsp);
		if (c->fault == DSP_FAULT_NO_REPLY)
			return 0;
		if (c->fault == DSP_FAULT_CRASH) {
			dsp_interrupt(c, DSP_XTENSA_INT_MBOX | DSP_XTENSA_INT_FATAL);
			return 0;
		}
		memcpy(&done, msg, len);
		len = dsp_corrupt(&done, c->fault);
		msg = &done;
	}
	while ((ret = tapu_fw_rpmsg_send(&c->rpmsg, msg, len)) == -EAGAIN &&
	       !READ_ONCE(c->halted) && tries++ < 1000)
		usleep_range(500, 1000);
	return ret;
}

static const struct tapu_fw_ops dsp_fw_ops = {
	.map = dsp_fw_map,
	.map_slot = dsp_fw_map_slot,
	.unmap_slot = dsp_fw_unmap_slot,
	.invalidate = dsp_fw_cache,
	.writeback = dsp_fw_cache,
	.cycles = dsp_fw_cycles,
	.send = dsp_fw_send,
};

/* The core */

/*
 * Boots the firmware the host loaded: the boot address must be in the
 * carveout, whose start holds the firmware's resource table.
 */
static bool dsp_core_boot(struct dsp_core *c, u32 boot)
{
	struct dsp *dsp = c->dsp;
	struct tapu_fw_rsc_table *table = dsp->fw_va;
	char name[TAPU_FW_RPMSG_NAME_SIZE];

	c->boots++;
	if (!(readl(c->regs + DSP_CORE_CTRL) & DSP_CORE_CTRL_STATE_VECTOR_SELECT) ||
	    boot < dsp->fw_pa || boot >= dsp->fw_pa + dsp->fw_size ||
	    le32_to_cpu(table->ver) != 1 ||
	    le32_to_cpu(table->num) != DSP_NUM_CORES ||
	    le32_to_cpu(table->offset[c->index]) !=
	    offsetof(struct tapu_fw_rsc_table, vdev[c->index])) {
		pr_info("tapu_dsp_model: core %u: no firmware to boot at %#x\n",
			c->index, boot);
		return false;
	}
	snprintf(name, sizeof(name), "rpmsg-mt8183-apu%u", c->index);
	tapu_fw_rpmsg_init(&c->rpmsg, &dsp_rpmsg_ops, c,
			   &table->vdev[c->index], name);
	tapu_fw_init(&c->fw, &dsp_fw_ops, c, c->index, DSP_NUM_CORES,
		     DSP_MAX_SEGMENTS, DSP_CLOCK_HZ);
	return true;
}

static int dsp_core_thread(void *data)
{
	struct dsp_core *c = data;
	unsigned int noreclaim;

	/* The core allocates no memory of the host's: its mappings aside. */
	noreclaim = memalloc_noreclaim_save();
	while (!kthread_should_stop()) {
		bool released = dsp_core_released(c);

		/*
		 * A core boots when the host released it after writing a boot
		 * address; one that failed to boots at the next start.
		 */
		if (released && readl(c->regs + DSP_ALTRESETVEC) != DSP_BOOTED) {
			u32 boot = readl(c->regs + DSP_ALTRESETVEC);
			bool booted;

			/* Marked first: a restart during the boot is seen. */
			WRITE_ONCE(c->running, false);
			writel(DSP_BOOTED, c->regs + DSP_ALTRESETVEC);
			booted = dsp_core_boot(c, boot);
			WRITE_ONCE(c->halted, false);
			WRITE_ONCE(c->running, booted);
		} else if (!released) {
			WRITE_ONCE(c->running, false);
		}
		if (!c->running) {
			usleep_range(1000, 2000);
			continue;
		}
		if (readl(c->regs + DSP_CTL_XTENSA_INT)) {
			writel(0, c->regs + DSP_CTL_XTENSA_INT);
			/* What the host wrote before its kick, read after. */
			mb();
			c->kicks++;
			tapu_fw_rpmsg_poll(&c->rpmsg);
		}
		usleep_range(100, 200);
	}
	memalloc_noreclaim_restore(noreclaim);
	return 0;
}

/* debugfs */

static int dsp_fault_show(struct seq_file *m, void *unused)
{
	struct dsp *dsp = m->private;

	seq_printf(m, "%s\n", dsp_fault_names[READ_ONCE(dsp->fault)]);
	return 0;
}

static int dsp_fault_open(struct inode *inode, struct file *file)
{
	return single_open(file, dsp_fault_show, inode->i_private);
}

static ssize_t dsp_fault_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct dsp *dsp = file_inode(file)->i_private;
	char buf[32];
	int fault;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	fault = sysfs_match_string(dsp_fault_names, strim(buf));
	if (fault < 0)
		return fault;
	spin_lock(&dsp->fault_lock);
	if (fault == DSP_FAULT_RELEASE)
		dsp->release = true;
	else
		dsp->fault = fault;
	spin_unlock(&dsp->fault_lock);
	return len;
}

static const struct file_operations dsp_fault_fops = {
	.owner = THIS_MODULE,
	.open = dsp_fault_open,
	.read = seq_read,
	.write = dsp_fault_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int dsp_cores_show(struct seq_file *m, void *unused)
{
	struct dsp *dsp = m->private;
	u32 i;

	for (i = 0; i < DSP_NUM_CORES; i++) {
		struct dsp_core *c = &dsp->cores[i];

		seq_printf(m, "core %u running %d boots %u kicks %u irqs %u jobs %u dropped %u rpmsg_dropped %u held %d stale %u outside_pool %u\n",
			   i, READ_ONCE(c->running), c->boots, c->kicks,
			   c->irqs, c->fw.stats.jobs, c->fw.stats.dropped,
			   c->rpmsg.dropped, READ_ONCE(c->held),
			   READ_ONCE(c->stale), c->outside_pool);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dsp_cores);

/* Setup */

/* Reserved-memory region @index of the APU node, mapped for the model. */
static int dsp_region(struct device_node *np, int index, phys_addr_t *pa,
		      size_t *size, void **va)
{
	struct reserved_mem *rmem;
	struct device_node *mem;

	mem = of_parse_phandle(np, "memory-region", index);
	rmem = mem ? of_reserved_mem_lookup(mem) : NULL;
	of_node_put(mem);
	if (!rmem)
		return -ENODEV;
	*va = memremap(rmem->base, rmem->size, MEMREMAP_WC);
	if (!*va)
		return -ENOMEM;
	*pa = rmem->base;
	*size = rmem->size;
	return 0;
}

static int dsp_find(struct dsp *dsp, struct device_node *np)
{
	int ret;
	u32 i;

	/* dsp_destroy() shuts every core's timer down, also on failure here. */
	for (i = 0; i < DSP_NUM_CORES; i++)
		timer_setup(&dsp->cores[i].watch, dsp_watch, 0);
	ret = dsp_region(np, 0, &dsp->fw_pa, &dsp->fw_size, &dsp->fw_va);
	if (ret)
		return ret;
	/* Optional, as for mtk_apu without an IOMMU. */
	if (of_count_phandle_with_args(np, "memory-region", NULL) > 1) {
		ret = dsp_region(np, 1, &dsp->buf_pa, &dsp->buf_size,
				 &dsp->buf_va);
		if (ret)
			return ret;
	}

	for (i = 0; i < DSP_NUM_CORES; i++) {
		struct dsp_core *c = &dsp->cores[i];

		c->dsp = dsp;
		c->index = i;
		c->regs = of_iomap(np, i);
		c->irq = of_irq_get(np, i);
		if (!c->regs || c->irq <= 0)
			return -ENODEV;
		/* Power-on state: stalled, in reset, no interrupt either way. */
		writel(DSP_BOOTED, c->regs + DSP_ALTRESETVEC);
		writel(DSP_CORE_CTRL_RUN_STALL, c->regs + DSP_CORE_CTRL);
		writel(DSP_SW_RST_IPU_B_RST | DSP_SW_RST_IPU_D_RST, c->regs + DSP_SW_RST);
		writel(0, c->regs + DSP_XTENSA_INT);
		writel(0, c->regs + DSP_CTL_XTENSA_INT);
	}
	return 0;
}

static void dsp_destroy(struct dsp *dsp)
{
	u32 i;

	for (i = 0; i < DSP_NUM_CORES; i++) {
		struct dsp_core *c = &dsp->cores[i];

		if (c->thread)
			kthread_stop(c->thread);
		timer_shutdown_sync(&c->watch);
		if (c->regs)
			iounmap(c->regs);
	}
	if (dsp->fw_va)
		memunmap(dsp->fw_va);
	if (dsp->buf_va)
		memunmap(dsp->buf_va);
	kfree(dsp);
}

static int __init dsp_init(void)
{
	struct device_node *np;
	struct dsp *dsp;
	u32 i;
	int ret;

	np = of_find_compatible_node(NULL, NULL, "mediatek,mt8183-apu");
	if (!np)
		return -ENODEV;
	dsp = kzalloc(sizeof(*dsp), GFP_KERNEL);
	if (!dsp) {
		of_node_put(np);
		return -ENOMEM;
	}
	spin_lock_init(&dsp->fault_lock);
	ret = dsp_find(dsp, np);
	of_node_put(np);
	if (ret)
		goto err;

	for (i = 0; i < DSP_NUM_CORES; i++) {
		struct dsp_core *c = &dsp->cores[i];

		c->thread = kthread_run(dsp_core_thread, c, "tapu-dsp%u", i);
		if (IS_ERR(c->thread)) {
			ret = PTR_ERR(c->thread);
			c->thread = NULL;
			goto err;
		}
		mod_timer(&c->watch, jiffies + 1);
	}
	dsp->debugfs = debugfs_create_dir("tapu_dsp_model", NULL);
	debugfs_create_file("fault", 0600, dsp->debugfs, dsp, &dsp_fault_fops);
	debugfs_create_file("cores", 0400, dsp->debugfs, dsp, &dsp_cores_fops);
	the_dsp = dsp;
	return 0;
err:
	dsp_destroy(dsp);
	return ret;
}

static void __exit dsp_exit(void)
{
	debugfs_remove_recursive(the_dsp->debugfs);
	dsp_destroy(the_dsp);
}

module_init(dsp_init);
module_exit(dsp_exit);

MODULE_DESCRIPTION("Model of the MediaTek MT8183 APU's VP6 cores, for testing");
MODULE_LICENSE("GPL");
