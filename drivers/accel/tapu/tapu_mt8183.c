// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * MediaTek MT8183 APU backend: each Cadence Xtensa VP6 core of the APU runs
 * firmware that announces an rpmsg channel "rpmsg-mt8183-apu<N>"; each
 * channel is one TAPU core. The channels of one APU share a TAPU device,
 * created with the first channel and registered once all cores are there.
 * It outlives the channels: on a firmware crash or a recovery the channels
 * go away (their cores go offline, jobs on them fail) and come back (the
 * cores go online again). See Documentation/accel/tapu/mt8183.rst.
 *
 * Locking: tapu_mt8183_lock (mutex) serialises channel probe/remove and the
 * list of APUs. A core's lock (IRQ-safe spinlock) protects its running job,
 * sequence numbers and counters; it nests outside the TAPU core's own lock
 * (tapu_core_job_done() is called under it). run_job hands a job's message
 * to the core's sender (a work item), which may sleep in virtio-rpmsg. The
 * channel a core sends on is published with RCU and sends run under
 * tapu_mt8183_srcu, so that removing a channel waits for them.
 */

#include <drm/drm_gem_shmem_helper.h>
#include <linux/cleanup.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/random.h>
#include <linux/remoteproc.h>
#include <linux/rpmsg.h>
#include <linux/rpmsg/tapu_mt8183.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "tapu_backend.h"
#include "tapu_isa.h"

#define TAPU_MT8183_NAME_PREFIX		"rpmsg-mt8183-apu"
#define TAPU_MT8183_PING_TIMEOUT_MS	1000

static_assert(TAPU_MT8183_IPC_MAX_SLOTS == TAPU_MAX_SLOTS);
static_assert(TAPU_MT8183_IPC_MAX_CMD_SIZE >= TAPU_MAX_CMDSTREAM_SIZE);

/* Why a message from the firmware was dropped (debugfs counters). */
enum tapu_mt8183_drop {
	TAPU_MT8183_DROP_SHORT,
	TAPU_MT8183_DROP_VERSION,
	TAPU_MT8183_DROP_TYPE,
	TAPU_MT8183_DROP_LENGTH,
	TAPU_MT8183_DROP_RESERVED,
	TAPU_MT8183_DROP_SEQ,
	TAPU_MT8183_DROP_JOB_ID,
	TAPU_MT8183_DROP_STATUS,
	TAPU_MT8183_DROP_COUNT,
};

static const char *const tapu_mt8183_drop_names[] = {
	[TAPU_MT8183_DROP_SHORT] = "short",
	[TAPU_MT8183_DROP_VERSION] = "version",
	[TAPU_MT8183_DROP_TYPE] = "type",
	[TAPU_MT8183_DROP_LENGTH] = "length",
	[TAPU_MT8183_DROP_RESERVED] = "reserved",
	[TAPU_MT8183_DROP_SEQ] = "seq",
	[TAPU_MT8183_DROP_JOB_ID] = "job_id",
	[TAPU_MT8183_DROP_STATUS] = "status",
};

static_assert(ARRAY_SIZE(tapu_mt8183_drop_names) == TAPU_MT8183_DROP_COUNT);

struct tapu_mt8183;
struct tapu_mt8183_core;

/**
 * struct tapu_mt8183_chan - a firmware channel, alive while it is bound
 * @rpdev: rpmsg device
 * @index: core index from the channel name
 * @core: core the channel is attached to, NULL before probe attached it
 * @lock: protects the ping state
 * @attach_work: waits for the pong and attaches the channel
 * @ping_done: the pong arrived
 * @ping_cookie: cookie of the outstanding ping
 * @pong: the pong, valid once @ping_done completed
 */
struct tapu_mt8183_chan {
	struct rpmsg_device *rpdev;
	u32 index;
	struct tapu_mt8183_core *core;
	spinlock_t lock; /* protects ping_cookie, pong */
	struct work_struct attach_work;
	struct completion ping_done;
	u64 ping_cookie;
	struct tapu_mt8183_ipc_pong pong;
};

/**
 * struct tapu_mt8183_core - one VP6 core
 * @apu: APU
 * @core: TAPU core
 * @rpdev: channel to the core's firmware, NULL while offline (RCU)
 * @chan: the channel's state, NULL while offline
 * @lock: protects the fields below
 * @job: job sent to the firmware and not yet completed
 * @msg: its message, until @send_work sent it (job_id 0 then)
 * @send_work: sends @msg
 * @completing: job whose completion is being reported, its caches synced
 * @seq: sequence number of the last job message
 * @job_id: id of the last job message
 * @epoch: increments each time the firmware is stopped
 * @stuck: the firmware of this epoch owns an abandoned job: no job is sent
 *	to it
 * @quarantine: jobs abandoned while the firmware ran, their BOs and tables
 *	kept until it is stopped
 * @sent: jobs sent
 * @completed: completions accepted
 * @dropped: messages dropped, by reason
 * @send_failed: jobs whose message could not be sent
 * @offline_failed: jobs failed because the core was offline
 * @lost: jobs failed because the channel went away
 * @recoveries: firmware recoveries requested after a hang
 * @attached: times a channel attached
 */
struct tapu_mt8183_core {
	struct tapu_mt8183 *apu;
	struct tapu_core *core;
	struct rpmsg_device __rcu *rpdev;
	struct tapu_mt8183_chan *chan;
	spinlock_t lock; /* see above */
	struct tapu_job *job;
	struct tapu_mt8183_ipc_job msg;
	struct work_struct send_work;
	struct tapu_job *completing;
	u32 seq;
	u64 job_id;
	u64 epoch;
	bool stuck;
	struct list_head quarantine;
	u64 sent;
	u64 completed;
	u64 dropped[TAPU_MT8183_DROP_COUNT];
	u64 send_failed;
	u64 offline_failed;
	u64 lost;
	u32 recoveries;
	u32 attached;
};

/**
 * struct tapu_mt8183 - an APU: the VP6 cores behind one remote processor
 * @node: entry in tapu_mt8183_apus
 * @apu_dev: the APU's device (the remote processor's parent)
 * @rproc: remote processor of the channels, NULL if they have none; a
 *	rebound remote processor driver brings a new one
 * @pdev: the TAPU device's parent, a child of @apu_dev with its device-tree
 *	node and so its DMA configuration: it maps buffers for the DSPs
 * @tdev: TAPU device
 * @registered: @tdev was registered (all cores attached once)
 * @stopped: remote processor subdevice, told when the DSPs were stopped
 * @stopped_work: registers @stopped with @rproc
 * @stopped_rproc: remote processor @stopped is registered with, referenced
 *	(owned by @stopped_work)
 * @cycle_clock_hz: frequency of the DSP cycle counter
 * @work_per_ms: throughput of a core at its slowest op, from the firmware
 * @max_segments: buffer table entries the firmware accepts
 * @stream_copies: command streams copied for the DSPs (debugfs)
 * @stream_bytes: bytes of those copies still allocated (debugfs)
 * @num_cores: entries in @cores
 * @cores: the cores
 */
struct tapu_mt8183 {
	struct list_head node;
	struct device *apu_dev;
	struct rproc *rproc;
	struct platform_device *pdev;
	struct tapu_device *tdev;
	bool registered;
	struct rproc_subdev stopped;
	struct work_struct stopped_work;
	struct rproc *stopped_rproc;
	u64 cycle_clock_hz;
	u64 work_per_ms;
	u32 max_segments;
	atomic64_t stream_copies;
	atomic64_t stream_bytes;
	u32 num_cores;
	struct tapu_mt8183_core cores[] __counted_by(num_cores);
};

/**
 * struct tapu_mt8183_slot - a job's BO, mapped for the DSPs
 * @obj: the BO, referenced (a quarantined job's outlives the job)
 * @sgt: its pages as mapped for the DSPs, the BO's mapping, kept while the
 *	BO lives
 * @sync: the caches are ours to maintain (the exporter's for an import)
 */
struct tapu_mt8183_slot {
	struct drm_gem_object *obj;
	struct sg_table *sgt;
	bool sync;
};

/**
 * struct tapu_mt8183_stream - a command stream, copied once for the DSPs
 * @ref: held by the stream and by each job that runs it
 * @apu: APU whose DMA device holds the copy
 * @buf: coherent copy of the validated stream, read-only for the DSPs
 * @dma: device address of @buf
 * @size: size of @buf
 */
struct tapu_mt8183_stream {
	struct kref ref;
	struct tapu_mt8183 *apu;
	void *buf;
	dma_addr_t dma;
	u32 size;
};

/**
 * struct tapu_mt8183_job - what a job needs on the DSP side
 * @link: entry in &tapu_mt8183_core.quarantine
 * @dma_dev: device the buffers are mapped on
 * @epoch: &tapu_mt8183_core.epoch when the job was abandoned
 * @abandoned: core that abandoned the job while its firmware ran, or NULL
 * @stream: the job's command stream, referenced
 * @table: coherent buffer table, NULL if the job has no BOs
 * @table_dma: device address of @table
 * @table_size: size of @table
 * @msg: the job message, handed to the core's sender by run_job
 * @num_slots: entries in @slots
 * @slots: the job's BOs
 */
struct tapu_mt8183_job {
	struct list_head link;
	struct device *dma_dev;
	u64 epoch;
	struct tapu_mt8183_core *abandoned;
	struct tapu_mt8183_stream *stream;
	struct tapu_mt8183_ipc_segment *table;
	dma_addr_t table_dma;
	size_t table_size;
	struct tapu_mt8183_ipc_job msg;
	u32 num_slots;
	struct tapu_mt8183_slot slots[] __counted_by(num_slots);
};

static LIST_HEAD(tapu_mt8183_apus);
static DEFINE_MUTEX(tapu_mt8183_lock);
DEFINE_STATIC_SRCU(tapu_mt8183_srcu);
/* The cores' senders: jobs' fences wait for them. */
static struct workqueue_struct *tapu_mt8183_wq;

static struct tapu_mt8183_core *tapu_mt8183_core(struct tapu_core *core)
{
	struct tapu_mt8183 *apu = tapu_device_priv(tapu_core_device(core));

	return &apu->cores[tapu_core_index(core)];
}

static void tapu_mt8183_hdr(struct tapu_mt8183_ipc_hdr *hdr,
			    enum tapu_mt8183_ipc_type type, u32 seq, u32 len)
{
	hdr->version = cpu_to_le16(TAPU_MT8183_IPC_VERSION);
	hdr->type = cpu_to_le16(type);
	hdr->seq = cpu_to_le32(seq);
	hdr->length = cpu_to_le32(len);
	hdr->reserved = 0;
}

/* Buffers */

static void *tapu_mt8183_prepare_stream(struct tapu_device *tdev,
					const void *data, u32 size)
{
	struct tapu_mt8183 *apu = tapu_device_priv(tdev);
	struct tapu_mt8183_stream *ms;

	ms = kzalloc(sizeof(*ms), GFP_KERNEL);
	if (!ms)
		return ERR_PTR(-ENOMEM);
	ms->buf = dma_alloc_coherent(&apu->pdev->dev, size, &ms->dma, GFP_KERNEL);
	if (!ms->buf) {
		kfree(ms);
		return ERR_PTR(-ENOMEM);
	}
	memcpy(ms->buf, data, size);
	kref_init(&ms->ref);
	ms->apu = apu;
	ms->size = size;
	atomic64_inc(&apu->stream_copies);
	atomic64_add(size, &apu->stream_bytes);
	return ms;
}

static void tapu_mt8183_stream_release(struct kref *ref)
{
	struct tapu_mt8183_stream *ms = container_of(ref, typeof(*ms), ref);

	dma_free_coherent(&ms->apu->pdev->dev, ms->size, ms->buf, ms->dma);
	atomic64_sub(ms->size, &ms->apu->stream_bytes);
	kfree(ms);
}

static void tapu_mt8183_cleanup_stream(struct tapu_device *tdev, void *priv)
{
	struct tapu_mt8183_stream *ms = priv;

	kref_put(&ms->ref, tapu_mt8183_stream_release);
}

static void tapu_mt8183_job_free(struct tapu_mt8183_job *mj)
{
	u32 i;

	for (i = 0; i < mj->num_slots; i++)
		if (mj->slots[i].obj)
			drm_gem_object_put(mj->slots[i].obj);
	if (mj->table)
		dma_free_coherent(mj->dma_dev, mj->table_size, mj->table,
				  mj->table_dma);
	if (mj->stream)
		kref_put(&mj->stream->ref, tapu_mt8183_stream_release);
	kfree(mj);
}

static void tapu_mt8183_free_list(struct list_head *list)
{
	struct tapu_mt8183_job *mj, *next;

	list_for_each_entry_safe(mj, next, list, link) {
		list_del(&mj->link);
		tapu_mt8183_job_free(mj);
	}
}

/*
 * A slot's BO as the DSPs see it. The TAPU device's parent maps for them,
 * so the BO's own mapping serves: made at its first job and kept until the
 * BO is freed; an imported BO's is its attachment's, made at import, and
 * its exporter keeps the CPU's view coherent.
 */
static int tapu_mt8183_map_slot(struct tapu_mt8183_job *mj, u32 i,
				struct drm_gem_object *obj)
{
	struct tapu_mt8183_slot *s = &mj->slots[i];
	struct sg_table *sgt;

	drm_gem_object_get(obj);
	s->obj = obj;
	sgt = drm_gem_shmem_get_pages_sgt(to_drm_gem_shmem_obj(obj));
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	s->sgt = sgt;
	s->sync = !obj->import_attach;
	return 0;
}

/* Fills the buffer table, slot by slot, one entry per DMA segment. */
static void tapu_mt8183_fill_table(struct tapu_mt8183_job *mj)
{
	struct tapu_mt8183_ipc_segment *seg = mj->table;
	struct scatterlist *sg;
	u32 i, j;

	for (i = 0; i < mj->num_slots; i++) {
		for_each_sgtable_dma_sg(mj->slots[i].sgt, sg, j) {
			seg->slot = cpu_to_le32(i);
			seg->reserved = 0;
			seg->addr = cpu_to_le64(sg_dma_address(sg));
			seg->size = cpu_to_le64(sg_dma_len(sg));
			seg++;
		}
	}
}

/*
 * Maps the BOs for the DSP and builds the buffer table in coherent memory;
 * the stream was copied at creation: run_job only sends.
 */
static int tapu_mt8183_prepare_job(struct tapu_device *tdev,
				   struct tapu_job *job)
{
	struct tapu_mt8183 *apu = tapu_device_priv(tdev);
	u32 i, entries = 0, num = tapu_job_num_bos(job);
	struct tapu_mt8183_job *mj;
	int ret;

	mj = kzalloc(struct_size(mj, slots, num), GFP_KERNEL);
	if (!mj)
		return -ENOMEM;
	mj->num_slots = num;
	mj->dma_dev = &apu->pdev->dev;
	INIT_LIST_HEAD(&mj->link);
	mj->stream = tapu_job_stream_priv(job);
	kref_get(&mj->stream->ref);
	/* From here on the core calls cleanup_job, also if we fail. */
	tapu_job_set_priv(job, mj);

	for (i = 0; i < num; i++) {
		ret = tapu_mt8183_map_slot(mj, i, tapu_job_bo(job, i));
		if (ret)
			return ret;
		entries += mj->slots[i].sgt->nents;
		if (entries > apu->max_segments)
			return -E2BIG;
	}

	if (entries) {
		mj->table_size = entries * sizeof(*mj->table);
		mj->table = dma_alloc_coherent(mj->dma_dev, mj->table_size,
					       &mj->table_dma, GFP_KERNEL);
		if (!mj->table)
			return -ENOMEM;
		tapu_mt8183_fill_table(mj);
	}

	/* The header's sequence number and the job id are set by run_job. */
	tapu_mt8183_hdr(&mj->msg.hdr, TAPU_MT8183_IPC_JOB, 0, sizeof(mj->msg));
	mj->msg.cmd_addr = cpu_to_le64(mj->stream->dma);
	mj->msg.cmd_size = cpu_to_le64(mj->stream->size);
	mj->msg.table_addr = cpu_to_le64(mj->table_dma);
	mj->msg.table_entries = cpu_to_le32(entries);
	mj->msg.num_slots = cpu_to_le32(num);
	return 0;
}

/*
 * A job abandoned while its firmware may still run keeps its BOs and its
 * buffer table until that firmware is stopped (tapu_mt8183_stopped()).
 */
static void tapu_mt8183_cleanup_job(struct tapu_device *tdev,
				    struct tapu_job *job)
{
	struct tapu_mt8183_job *mj = tapu_job_priv(job);
	struct tapu_mt8183_core *mc = mj->abandoned;
	bool keep = false;

	if (mc) {
		scoped_guard(spinlock_irqsave, &mc->lock) {
			keep = mj->epoch == mc->epoch;
			if (keep)
				list_add_tail(&mj->link, &mc->quarantine);
		}
	}
	if (!keep)
		tapu_mt8183_job_free(mj);
}

/* Jobs */

static void tapu_mt8183_sync_for_cpu(struct tapu_mt8183_job *mj)
{
	u32 i;

	/* Up to 64 BOs: not with interrupts off. */
	lockdep_assert_irqs_enabled();
	for (i = 0; i < mj->num_slots; i++)
		if (mj->slots[i].sync)
			dma_sync_sgtable_for_cpu(mj->dma_dev, mj->slots[i].sgt,
						 DMA_BIDIRECTIONAL);
}

/* Completes the core's job; called with the core's lock held. */
static void tapu_mt8183_finish_locked(struct tapu_mt8183_core *mc, int error,
				      u64 cycles)
{
	mc->job = NULL;
	tapu_core_job_done(mc->core, error, cycles);
}

/*
 * Fence signalling critical section: everything was allocated and built by
 * prepare_job; this synchronises the caches and hands the message to the
 * core's sender, under the core's lock: it neither sleeps nor allocates.
 */
static void tapu_mt8183_run_job(struct tapu_core *core, struct tapu_job *job)
{
	struct tapu_mt8183_core *mc = tapu_mt8183_core(core);
	struct tapu_mt8183_job *mj = tapu_job_priv(job);
	unsigned long flags;
	u32 i;

	for (i = 0; i < mj->num_slots; i++)
		if (mj->slots[i].sync)
			dma_sync_sgtable_for_device(mj->dma_dev, mj->slots[i].sgt,
						    DMA_BIDIRECTIONAL);

	spin_lock_irqsave(&mc->lock, flags);
	/* Offline, or its firmware may still work on an abandoned job. */
	if (!mc->chan || mc->stuck) {
		mc->offline_failed++;
		tapu_core_job_done(core, -ENODEV, 0);
	} else {
		/* 0 is the sequence number of pings. */
		if (!++mc->seq)
			mc->seq++;
		mc->msg = mj->msg;
		mc->msg.hdr.seq = cpu_to_le32(mc->seq);
		mc->msg.job_id = cpu_to_le64(++mc->job_id);
		mc->job = job;
		mc->sent++;
		queue_work(tapu_mt8183_wq, &mc->send_work);
	}
	spin_unlock_irqrestore(&mc->lock, flags);
}

/*
 * The core's sender: virtio-rpmsg takes a mutex to send, so run_job does
 * not send itself. Still on the way to the job's fence: it only sends a
 * copy of the message (rpmsg_trysend() does not wait for a buffer), on a
 * reclaim-safe workqueue. The channel is taken under the core's lock
 * inside the SRCU read section, so that the job is still the one run_job
 * handed over and the channel's removal waits for the send: a job failed
 * meanwhile never reaches the next firmware. One that cannot be sent
 * fails.
 */
static void tapu_mt8183_send_work(struct work_struct *work)
{
	struct tapu_mt8183_core *mc = container_of(work, struct tapu_mt8183_core,
						   send_work);
	bool cookie = dma_fence_begin_signalling();
	struct rpmsg_device *rpdev = NULL;
	struct tapu_mt8183_ipc_job msg;
	int idx, ret = 0;

	idx = srcu_read_lock(&tapu_mt8183_srcu);
	scoped_guard(spinlock_irqsave, &mc->lock) {
		if (mc->job && le64_to_cpu(mc->msg.job_id) == mc->job_id)
			rpdev = srcu_dereference(mc->rpdev, &tapu_mt8183_srcu);
		msg = mc->msg;
		/* Sent once: a second run of the work finds nothing. */
		mc->msg.job_id = 0;
	}
	if (rpdev)
		ret = rpmsg_trysend(rpdev->ept, &msg, sizeof(msg));
	srcu_read_unlock(&tapu_mt8183_srcu, idx);

	if (ret) {
		dev_dbg_ratelimited(&mc->apu->pdev->dev,
				    "core %u: cannot send job: %d\n",
				    tapu_core_index(mc->core), ret);
		/* Unless it ended meanwhile (its channel went). */
		scoped_guard(spinlock_irqsave, &mc->lock) {
			if (mc->job && mc->job_id == le64_to_cpu(msg.job_id)) {
				mc->send_failed++;
				tapu_mt8183_finish_locked(mc, -EIO, 0);
			}
		}
	}
	dma_fence_end_signalling(cookie);
}

/*
 * The core's job stays with its firmware, which may still write its BOs:
 * they are kept until that firmware is stopped (tapu_mt8183_cleanup_job()),
 * and no job is sent to it meanwhile.
 */
static void tapu_mt8183_abandon_locked(struct tapu_mt8183_core *mc)
{
	struct tapu_mt8183_job *mj = tapu_job_priv(mc->job);

	lockdep_assert_held(&mc->lock);
	mj->abandoned = mc;
	mj->epoch = mc->epoch;
	mc->stuck = true;
}

/* No progress reports: a job gets one timeout period. */
static u64 tapu_mt8183_progress(struct tapu_core *core)
{
	return 0;
}

/*
 * A job hung: abandon it and have the remote processor recovered. Recovery
 * runs asynchronously (it allocates, which the timeout path must not wait
 * for); the abandoned job's memory stays mapped until the firmware is
 * stopped, when the channels go away, so the DSP never writes freed memory.
 */
static void tapu_mt8183_reset(struct tapu_core *core)
{
	struct tapu_mt8183_core *mc = tapu_mt8183_core(core);
	struct tapu_mt8183 *apu = mc->apu;
	struct rproc *rproc = NULL;
	bool stuck = false;
	unsigned long flags;

	/*
	 * A completion being reported ends first, its job alive until then;
	 * what is still on the firmware after it is abandoned under the same
	 * lock, so that no completion can take it in between.
	 */
	for (;;) {
		spin_lock_irqsave(&mc->lock, flags);
		if (!mc->completing)
			break;
		spin_unlock_irqrestore(&mc->lock, flags);
		wait_var_event(&mc->completing, !READ_ONCE(mc->completing));
	}
	if (mc->job && le64_to_cpu(mc->msg.job_id) == mc->job_id) {
		/* Never sent: nothing to recover on the firmware. */
		mc->msg.job_id = 0;
		mc->job = NULL;
	} else if (mc->job) {
		tapu_mt8183_abandon_locked(mc);
		mc->job = NULL;
		mc->recoveries++;
		stuck = true;
		/* Changes only while no channel is attached, so no job runs. */
		rproc = READ_ONCE(apu->rproc);
	}
	spin_unlock_irqrestore(&mc->lock, flags);
	/* The job completed meanwhile: the firmware is not stuck. */
	if (!stuck)
		return;

	if (IS_ENABLED(CONFIG_REMOTEPROC) && rproc)
		rproc_report_crash(rproc, RPROC_WATCHDOG);
	else
		dev_err_once(&apu->pdev->dev,
			     "no remote processor to recover the APU\n");
}

/* Completions */

static int tapu_mt8183_status_errno(u32 status)
{
	switch (status) {
	case TAPU_MT8183_IPC_STATUS_OK:
		return 0;
	case TAPU_MT8183_IPC_STATUS_INVALID:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static void tapu_mt8183_drop(struct tapu_mt8183_core *mc,
			     enum tapu_mt8183_drop why)
{
	lockdep_assert_held(&mc->lock);
	mc->dropped[why]++;
	dev_dbg_ratelimited(&mc->apu->pdev->dev,
			    "core %u: dropped message from the firmware (%s)\n",
			    tapu_core_index(mc->core),
			    tapu_mt8183_drop_names[why]);
}

/*
 * Called from the rpmsg receive callback, which may sleep (it runs under
 * the endpoint's mutex): the caches of the job's BOs are synced with the
 * lock dropped and interrupts on. Meanwhile the job is neither sent nor
 * abandoned: it is the core's completing job, which a reset waits for.
 */
static void tapu_mt8183_job_done(struct tapu_mt8183_chan *chan,
				 const struct tapu_mt8183_ipc_job_done *msg)
{
	struct tapu_mt8183_core *mc = READ_ONCE(chan->core);
	u32 status = le32_to_cpu(msg->status);
	struct tapu_job *job;
	unsigned long flags;
	int why = -1;

	if (!mc) {
		dev_dbg_ratelimited(&chan->rpdev->dev,
				    "completion on a detached channel\n");
		return;
	}

	spin_lock_irqsave(&mc->lock, flags);
	if (mc->chan != chan)
		goto unlock;
	if (msg->reserved)
		why = TAPU_MT8183_DROP_RESERVED;
	else if (!mc->job || le32_to_cpu(msg->hdr.seq) != mc->seq)
		why = TAPU_MT8183_DROP_SEQ;
	else if (le64_to_cpu(msg->job_id) != mc->job_id)
		why = TAPU_MT8183_DROP_JOB_ID;
	else if (status >= TAPU_MT8183_IPC_STATUS_COUNT)
		why = TAPU_MT8183_DROP_STATUS;
	if (why >= 0) {
		tapu_mt8183_drop(mc, why);
		goto unlock;
	}

	job = mc->job;
	mc->job = NULL;
	mc->completing = job;
	spin_unlock_irqrestore(&mc->lock, flags);

	/* The job is alive until its fence signals, below. */
	tapu_mt8183_sync_for_cpu(tapu_job_priv(job));
	scoped_guard(spinlock_irqsave, &mc->lock) {
		mc->completed++;
		tapu_core_job_done(mc->core, tapu_mt8183_status_errno(status),
				   le64_to_cpu(msg->cycles));
		mc->completing = NULL;
	}
	/* Orders the store above before wake_up_var()'s waitqueue check. */
	smp_mb();
	wake_up_var(&mc->completing);
	return;
unlock:
	spin_unlock_irqrestore(&mc->lock, flags);
}

static void tapu_mt8183_pong(struct tapu_mt8183_chan *chan,
			     const struct tapu_mt8183_ipc_pong *msg)
{
	unsigned long flags;

	spin_lock_irqsave(&chan->lock, flags);
	if (!chan->ping_cookie || msg->hdr.seq ||
	    le64_to_cpu(msg->cookie) != chan->ping_cookie) {
		dev_dbg_ratelimited(&chan->rpdev->dev, "unexpected pong\n");
	} else {
		chan->ping_cookie = 0;
		chan->pong = *msg;
		complete(&chan->ping_done);
	}
	spin_unlock_irqrestore(&chan->lock, flags);
}

/* Size of each message type the firmware sends, 0 for the others. */
static size_t tapu_mt8183_rx_size(u16 type)
{
	switch (type) {
	case TAPU_MT8183_IPC_PONG:
		return sizeof(struct tapu_mt8183_ipc_pong);
	case TAPU_MT8183_IPC_JOB_DONE:
		return sizeof(struct tapu_mt8183_ipc_job_done);
	default:
		return 0;
	}
}

static void tapu_mt8183_rx_drop(struct tapu_mt8183_chan *chan,
				enum tapu_mt8183_drop why)
{
	struct tapu_mt8183_core *mc = READ_ONCE(chan->core);

	if (!mc) {
		dev_dbg_ratelimited(&chan->rpdev->dev,
				    "dropped message from the firmware (%s)\n",
				    tapu_mt8183_drop_names[why]);
		return;
	}
	scoped_guard(spinlock_irqsave, &mc->lock)
		tapu_mt8183_drop(mc, why);
}

/*
 * The rpmsg receive callback, driven by the remote processor's interrupt.
 * Nothing the firmware sends is trusted: a message that is not exactly a
 * well-formed answer to what is outstanding is dropped and counted.
 */
static int tapu_mt8183_rx(struct rpmsg_device *rpdev, void *data, int len,
			  void *priv, u32 src)
{
	struct tapu_mt8183_chan *chan = dev_get_drvdata(&rpdev->dev);
	const struct tapu_mt8183_ipc_hdr *hdr = data;
	size_t size;
	u16 type;

	if (!chan)
		return 0;
	if (len < 0 || (size_t)len < sizeof(*hdr)) {
		tapu_mt8183_rx_drop(chan, TAPU_MT8183_DROP_SHORT);
		return 0;
	}
	if (le16_to_cpu(hdr->version) != TAPU_MT8183_IPC_VERSION) {
		tapu_mt8183_rx_drop(chan, TAPU_MT8183_DROP_VERSION);
		return 0;
	}
	type = le16_to_cpu(hdr->type);
	size = tapu_mt8183_rx_size(type);
	if (!size) {
		tapu_mt8183_rx_drop(chan, TAPU_MT8183_DROP_TYPE);
		return 0;
	}
	if ((size_t)len != size || le32_to_cpu(hdr->length) != size) {
		tapu_mt8183_rx_drop(chan, (size_t)len < size ? TAPU_MT8183_DROP_SHORT :
						       TAPU_MT8183_DROP_LENGTH);
		return 0;
	}
	if (hdr->reserved) {
		tapu_mt8183_rx_drop(chan, TAPU_MT8183_DROP_RESERVED);
		return 0;
	}

	if (type == TAPU_MT8183_IPC_PONG)
		tapu_mt8183_pong(chan, data);
	else
		tapu_mt8183_job_done(chan, data);
	return 0;
}

/* debugfs */

static int tapu_mt8183_cores_show(struct seq_file *m, void *unused)
{
	struct tapu_mt8183 *apu = m->private;
	u32 i, j;

	for (i = 0; i < apu->num_cores; i++) {
		struct tapu_mt8183_core *mc = &apu->cores[i];
		u64 dropped[TAPU_MT8183_DROP_COUNT], sum = 0;
		u64 sent, completed, send_failed, offline_failed, lost;
		u32 recoveries, attached;
		bool online;

		scoped_guard(spinlock_irq, &mc->lock) {
			memcpy(dropped, mc->dropped, sizeof(dropped));
			online = mc->chan;
			attached = mc->attached;
			sent = mc->sent;
			completed = mc->completed;
			send_failed = mc->send_failed;
			offline_failed = mc->offline_failed;
			lost = mc->lost;
			recoveries = mc->recoveries;
		}
		for (j = 0; j < TAPU_MT8183_DROP_COUNT; j++)
			sum += dropped[j];
		seq_printf(m, "core%u: state=%s attached=%u sent=%llu completed=%llu send_failed=%llu offline_failed=%llu lost=%llu recoveries=%u dropped=%llu",
			   i, online ? "online" : "offline", attached, sent,
			   completed, send_failed, offline_failed, lost,
			   recoveries, sum);
		for (j = 0; j < TAPU_MT8183_DROP_COUNT; j++)
			seq_printf(m, " drop_%s=%llu", tapu_mt8183_drop_names[j],
				   dropped[j]);
		seq_putc(m, '\n');
	}
	seq_printf(m, "streams: copies=%lld bytes=%lld\n",
		   atomic64_read(&apu->stream_copies),
		   atomic64_read(&apu->stream_bytes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(tapu_mt8183_cores);

static void tapu_mt8183_debugfs_init(struct tapu_device *tdev,
				     struct dentry *root)
{
	debugfs_create_file("mt8183", 0444, root, tapu_device_priv(tdev),
			    &tapu_mt8183_cores_fops);
}

static const struct tapu_backend_ops tapu_mt8183_ops = {
	.prepare_job = tapu_mt8183_prepare_job,
	.cleanup_job = tapu_mt8183_cleanup_job,
	.prepare_stream = tapu_mt8183_prepare_stream,
	.cleanup_stream = tapu_mt8183_cleanup_stream,
	.run_job = tapu_mt8183_run_job,
	.progress = tapu_mt8183_progress,
	.reset = tapu_mt8183_reset,
	.debugfs_init = tapu_mt8183_debugfs_init,
};

/* The APU's platform device, holding the TAPU device */

static int tapu_mt8183_pdev_probe(struct platform_device *pdev)
{
	struct tapu_mt8183 *apu = *(struct tapu_mt8183 **)dev_get_platdata(&pdev->dev);
	const struct tapu_device_desc desc = {
		.name = "mt8183",
		.owner = THIS_MODULE,
		.ops = &tapu_mt8183_ops,
		.num_cores = apu->num_cores,
		.cycle_clock_hz = apu->cycle_clock_hz,
		.work_per_ms = apu->work_per_ms,
	};
	u32 i;

	apu->tdev = tapu_device_create(&pdev->dev, &desc);
	if (IS_ERR(apu->tdev)) {
		int ret = PTR_ERR(apu->tdev);

		apu->tdev = NULL;
		return ret;
	}
	tapu_device_set_priv(apu->tdev, apu);
	for (i = 0; i < apu->num_cores; i++)
		apu->cores[i].core = tapu_device_core(apu->tdev, i);
	platform_set_drvdata(pdev, apu);
	return 0;
}

static void tapu_mt8183_pdev_remove(struct platform_device *pdev)
{
	struct tapu_mt8183 *apu = platform_get_drvdata(pdev);

	if (apu->registered)
		tapu_device_unregister(apu->tdev);
}

static struct platform_driver tapu_mt8183_pdrv = {
	.probe = tapu_mt8183_pdev_probe,
	.remove = tapu_mt8183_pdev_remove,
	.driver = {
		.name = "tapu-mt8183",
		/* Its device and the TAPU device are this module's. */
		.suppress_bind_attrs = true,
	},
};

/* The firmware stopped */

/* The core's firmware no longer runs: what it may have touched can go. */
static void tapu_mt8183_core_stopped(struct tapu_mt8183_core *mc)
{
	LIST_HEAD(release);

	scoped_guard(spinlock_irqsave, &mc->lock) {
		mc->epoch++;
		mc->stuck = false;
		list_splice_init(&mc->quarantine, &release);
	}
	tapu_mt8183_free_list(&release);
}

/*
 * remoteproc removes the channels (its virtio devices) before it stops the
 * processor, and calls a subdevice's unprepare after ops->stop(): the DSPs
 * are stopped here. A processor that can detach keeps running when it
 * does, also through unprepare: its abandoned jobs are never released.
 */
static void tapu_mt8183_stopped(struct rproc_subdev *subdev)
{
	struct tapu_mt8183 *apu = container_of(subdev, struct tapu_mt8183,
					       stopped);
	u32 i;

	for (i = 0; i < apu->num_cores; i++)
		tapu_mt8183_core_stopped(&apu->cores[i]);
}

static void tapu_mt8183_stopped_remove(struct tapu_mt8183 *apu)
{
	struct rproc *rproc = apu->stopped_rproc;

	if (!rproc)
		return;
	scoped_guard(mutex, &rproc->lock)
		rproc_remove_subdev(rproc, &apu->stopped);
	put_device(&rproc->dev);
	apu->stopped_rproc = NULL;
}

/*
 * Registers the subdevice with the APU's current remote processor, off
 * the one it replaced (its driver was rebound). Not from the channel's
 * attach, nor under tapu_mt8183_lock: the remote processor's lock is held
 * while it removes channels, which waits for their attach and takes
 * tapu_mt8183_lock.
 */
static void tapu_mt8183_stopped_work(struct work_struct *work)
{
	struct tapu_mt8183 *apu = container_of(work, struct tapu_mt8183,
					       stopped_work);
	struct rproc *rproc;

	scoped_guard(mutex, &tapu_mt8183_lock) {
		rproc = apu->rproc;
		get_device(&rproc->dev);
	}
	if (rproc == apu->stopped_rproc) {
		put_device(&rproc->dev);
		return;
	}
	tapu_mt8183_stopped_remove(apu);
	scoped_guard(mutex, &rproc->lock)
		rproc_add_subdev(rproc, &apu->stopped);
	apu->stopped_rproc = rproc;
}

/*
 * Once no channel is attached, off the list of APUs and not under
 * tapu_mt8183_lock. Jobs still in quarantine belong to a firmware that
 * was not stopped and may still write their BOs: they are kept, never
 * freed.
 */
static void tapu_mt8183_apu_destroy(struct tapu_mt8183 *apu)
{
	u32 i, kept = 0;

	cancel_work_sync(&apu->stopped_work);
	tapu_mt8183_stopped_remove(apu);
	for (i = 0; i < apu->num_cores; i++) {
		cancel_work_sync(&apu->cores[i].send_work);
		kept += !list_empty(&apu->cores[i].quarantine);
	}
	if (kept)
		dev_warn(apu->apu_dev,
			 "firmware still running: keeping the BOs of its abandoned jobs\n");
	if (apu->pdev)
		platform_device_unregister(apu->pdev);
	if (apu->rproc)
		put_device(&apu->rproc->dev);
	put_device(apu->apu_dev);
	kfree(apu);
}

/*
 * The TAPU device's parent: a child of the APU's device with the APU's
 * device-tree node, so that the platform bus gives it the APU's DMA
 * configuration (IOMMU, DMA ranges, coherency) when it probes, and bound
 * to this driver only. Its DMA API maps for the DSPs: BOs and PRIME
 * imports are mapped once, for the right device. The TAPU device's
 * lifetime stays this module's, not that of the APU's driver.
 */
static int tapu_mt8183_add_pdev(struct tapu_mt8183 *apu)
{
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_alloc("tapu-mt8183", PLATFORM_DEVID_AUTO);
	if (!pdev)
		return -ENOMEM;
	pdev->dev.parent = apu->apu_dev;
	device_set_of_node_from_dev(&pdev->dev, apu->apu_dev);
	ret = device_set_driver_override(&pdev->dev, "tapu-mt8183");
	if (!ret)
		ret = platform_device_add_data(pdev, &apu, sizeof(apu));
	if (!ret)
		ret = platform_device_add(pdev);
	if (ret) {
		platform_device_put(pdev);
		return ret;
	}
	apu->pdev = pdev;
	return 0;
}

static struct tapu_mt8183 *tapu_mt8183_apu_create(struct device *apu_dev,
						  struct rproc *rproc,
						  struct tapu_mt8183_chan *chan)
{
	const struct tapu_mt8183_ipc_pong *pong = &chan->pong;
	u32 i, num_cores = le32_to_cpu(pong->num_cores);
	struct tapu_mt8183 *apu;
	int ret;

	apu = kzalloc(struct_size(apu, cores, num_cores), GFP_KERNEL);
	if (!apu)
		return ERR_PTR(-ENOMEM);
	apu->num_cores = num_cores;
	apu->max_segments = le32_to_cpu(pong->max_segments);
	apu->cycle_clock_hz = le64_to_cpu(pong->cycle_clock_hz);
	apu->work_per_ms = le64_to_cpu(pong->work_per_ms);
	apu->apu_dev = get_device(apu_dev);
	INIT_WORK(&apu->stopped_work, tapu_mt8183_stopped_work);
	apu->stopped.unprepare = tapu_mt8183_stopped;
	if (rproc) {
		get_device(&rproc->dev);
		apu->rproc = rproc;
	}
	for (i = 0; i < num_cores; i++) {
		struct tapu_mt8183_core *mc = &apu->cores[i];

		mc->apu = apu;
		spin_lock_init(&mc->lock);
		INIT_LIST_HEAD(&mc->quarantine);
		INIT_WORK(&mc->send_work, tapu_mt8183_send_work);
	}
	/* Probes synchronously, creating the TAPU device. */
	ret = tapu_mt8183_add_pdev(apu);
	if (!ret && !apu->tdev)
		ret = -ENODEV;
	if (ret) {
		/* Nothing registered with the remote processor yet. */
		tapu_mt8183_apu_destroy(apu);
		return ERR_PTR(ret);
	}
	if (rproc && !rproc->ops->detach)
		schedule_work(&apu->stopped_work);
	list_add(&apu->node, &tapu_mt8183_apus);
	return apu;
}

/*
 * The remote processor's driver was rebound: the APU's device has a new
 * one, and the old one was stopped when it went. Only once every channel
 * of the old one went, so no job runs.
 */
static int tapu_mt8183_apu_rebind(struct tapu_mt8183 *apu, struct rproc *rproc)
{
	u32 i;

	lockdep_assert_held(&tapu_mt8183_lock);
	if (!rproc)
		return -EINVAL;
	for (i = 0; i < apu->num_cores; i++)
		if (apu->cores[i].chan)
			return -EBUSY;
	if (apu->rproc)
		put_device(&apu->rproc->dev);
	get_device(&rproc->dev);
	WRITE_ONCE(apu->rproc, rproc);
	if (!rproc->ops->detach)
		schedule_work(&apu->stopped_work);
	return 0;
}

/* Channels */

static int tapu_mt8183_ping(struct tapu_mt8183_chan *chan)
{
	struct tapu_mt8183_ipc_ping ping;
	u64 cookie = get_random_u64() | 1;

	tapu_mt8183_hdr(&ping.hdr, TAPU_MT8183_IPC_PING, 0, sizeof(ping));
	ping.cookie = cpu_to_le64(cookie);
	scoped_guard(spinlock_irqsave, &chan->lock)
		chan->ping_cookie = cookie;

	return rpmsg_send(chan->rpdev->ept, &ping, sizeof(ping));
}

/* Checks the pong against the channel and the APU it belongs to. */
static int tapu_mt8183_check_pong(struct tapu_mt8183_chan *chan,
				  struct tapu_mt8183 *apu)
{
	const struct tapu_mt8183_ipc_pong *pong = &chan->pong;
	u32 num_cores = le32_to_cpu(pong->num_cores);
	u32 max_segments = le32_to_cpu(pong->max_segments);

	if (le32_to_cpu(pong->core_id) != chan->index ||
	    !num_cores || num_cores > TAPU_MAX_CORES ||
	    chan->index >= num_cores ||
	    le32_to_cpu(pong->isa_version) != DRM_TAPU_ISA_VERSION ||
	    !max_segments || max_segments > TAPU_MT8183_IPC_MAX_SEGMENTS ||
	    !pong->cycle_clock_hz || !pong->work_per_ms)
		return -EPROTO;
	if (apu && (num_cores != apu->num_cores ||
		    max_segments != apu->max_segments))
		return -EPROTO;
	return 0;
}

static struct tapu_mt8183 *tapu_mt8183_apu_find(struct device *apu_dev)
{
	struct tapu_mt8183 *apu;

	list_for_each_entry(apu, &tapu_mt8183_apus, node)
		if (apu->apu_dev == apu_dev)
			return apu;
	return NULL;
}

static void tapu_mt8183_attach(struct tapu_mt8183_chan *chan)
{
	struct rpmsg_device *rpdev = chan->rpdev;
	struct rproc *rproc = NULL;
	struct tapu_mt8183_core *mc;
	struct device *apu_dev;
	struct tapu_mt8183 *apu;
	u32 i;
	int ret;

	/*
	 * The channels hang below the remote processor, whose parent is the
	 * APU's device; without one (another rpmsg transport) theirs is.
	 */
	if (IS_ENABLED(CONFIG_REMOTEPROC))
		rproc = rproc_get_by_child(&rpdev->dev);
	apu_dev = rproc ? rproc->dev.parent : rpdev->dev.parent;

	guard(mutex)(&tapu_mt8183_lock);
	apu = tapu_mt8183_apu_find(apu_dev);
	ret = tapu_mt8183_check_pong(chan, apu);
	if (ret) {
		dev_err(&rpdev->dev, "firmware capabilities do not match\n");
		return;
	}
	if (!apu) {
		apu = tapu_mt8183_apu_create(apu_dev, rproc, chan);
		if (IS_ERR(apu)) {
			dev_err(&rpdev->dev, "cannot create the APU: %pe\n", apu);
			return;
		}
	} else if (apu->rproc != rproc && tapu_mt8183_apu_rebind(apu, rproc)) {
		dev_err(&rpdev->dev, "channels of two remote processors\n");
		return;
	}

	mc = &apu->cores[chan->index];
	if (mc->chan) {
		dev_err(&rpdev->dev, "core %u already has a channel\n", chan->index);
		return;
	}
	scoped_guard(spinlock_irqsave, &mc->lock) {
		mc->chan = chan;
		mc->attached++;
		rcu_assign_pointer(mc->rpdev, rpdev);
	}
	WRITE_ONCE(chan->core, mc);

	if (apu->registered)
		return;
	for (i = 0; i < apu->num_cores; i++)
		if (!apu->cores[i].chan)
			return;
	ret = tapu_device_register(apu->tdev);
	if (ret) {
		dev_err(&rpdev->dev, "cannot register the TAPU device: %d\n",
			ret);
		return;
	}
	apu->registered = true;
}

/*
 * The pong arrives through the receive path that probed the channel (the
 * rpmsg bus creates channels from its receive callback): wait for it here.
 */
static void tapu_mt8183_attach_work(struct work_struct *work)
{
	struct tapu_mt8183_chan *chan = container_of(work, struct tapu_mt8183_chan,
						     attach_work);

	if (!wait_for_completion_timeout(&chan->ping_done,
					 msecs_to_jiffies(TAPU_MT8183_PING_TIMEOUT_MS))) {
		dev_err(&chan->rpdev->dev, "firmware does not answer ping\n");
		return;
	}
	tapu_mt8183_attach(chan);
}

static int tapu_mt8183_probe(struct rpmsg_device *rpdev)
{
	struct tapu_mt8183_chan *chan;
	unsigned int index;
	int ret;

	ret = kstrtouint(rpdev->id.name + strlen(TAPU_MT8183_NAME_PREFIX), 10,
			 &index);
	if (ret || index >= TAPU_MAX_CORES)
		return -ENODEV;

	chan = devm_kzalloc(&rpdev->dev, sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return -ENOMEM;
	chan->rpdev = rpdev;
	chan->index = index;
	spin_lock_init(&chan->lock);
	init_completion(&chan->ping_done);
	INIT_WORK(&chan->attach_work, tapu_mt8183_attach_work);
	dev_set_drvdata(&rpdev->dev, chan);

	/* Self-test: the firmware answers and tells what it is. */
	ret = tapu_mt8183_ping(chan);
	if (ret)
		return dev_err_probe(&rpdev->dev, ret, "cannot ping the firmware\n");
	schedule_work(&chan->attach_work);
	return 0;
}

/*
 * The channel goes away: the firmware is being stopped (recovery, crash,
 * rproc shutdown), or only the channel is unbound. The core goes offline
 * and fails the job it had, whose BOs stay with the firmware until it is
 * stopped: remoteproc removes the channels before it stops the DSPs.
 */
static void tapu_mt8183_remove(struct rpmsg_device *rpdev)
{
	struct tapu_mt8183_chan *chan = dev_get_drvdata(&rpdev->dev);
	struct tapu_mt8183_core *mc;

	cancel_work_sync(&chan->attach_work);
	mc = chan->core;
	if (!mc)
		return;

	guard(mutex)(&tapu_mt8183_lock);
	scoped_guard(spinlock_irqsave, &mc->lock) {
		RCU_INIT_POINTER(mc->rpdev, NULL);
		mc->chan = NULL;
		WRITE_ONCE(chan->core, NULL);
		if (mc->job) {
			mc->lost++;
			/* The channel went, maybe not the firmware (unbind). */
			if (mc->apu->rproc)
				tapu_mt8183_abandon_locked(mc);
			tapu_mt8183_finish_locked(mc, -EIO, 0);
		}
	}
	/* No sender still sends on the channel, nor will send this job. */
	synchronize_srcu(&tapu_mt8183_srcu);
	/* Without a remote processor, the channel going is all there is. */
	if (!mc->apu->rproc)
		tapu_mt8183_core_stopped(mc);
}

static const struct rpmsg_device_id tapu_mt8183_id_table[] = {
	{ .name = TAPU_MT8183_NAME_PREFIX "0" },
	{ .name = TAPU_MT8183_NAME_PREFIX "1" },
	{ }
};
MODULE_DEVICE_TABLE(rpmsg, tapu_mt8183_id_table);

static struct rpmsg_driver tapu_mt8183_rpdrv = {
	.drv.name = "tapu_mt8183",
	.id_table = tapu_mt8183_id_table,
	.probe = tapu_mt8183_probe,
	.remove = tapu_mt8183_remove,
	.callback = tapu_mt8183_rx,
};

static int __init tapu_mt8183_init(void)
{
	int ret;

	tapu_mt8183_wq = alloc_workqueue("tapu_mt8183",
					 WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!tapu_mt8183_wq)
		return -ENOMEM;
	ret = platform_driver_register(&tapu_mt8183_pdrv);
	if (ret)
		goto err_wq;
	ret = register_rpmsg_driver(&tapu_mt8183_rpdrv);
	if (ret)
		goto err_pdrv;
	return 0;
err_pdrv:
	platform_driver_unregister(&tapu_mt8183_pdrv);
err_wq:
	destroy_workqueue(tapu_mt8183_wq);
	return ret;
}

static void __exit tapu_mt8183_exit(void)
{
	struct tapu_mt8183 *apu, *next;

	LIST_HEAD(apus);

	/* Detaches every channel first: no core is online below. */
	unregister_rpmsg_driver(&tapu_mt8183_rpdrv);
	/* Destroyed unlocked: the remote processor's lock comes first. */
	scoped_guard(mutex, &tapu_mt8183_lock)
		list_splice_init(&tapu_mt8183_apus, &apus);
	list_for_each_entry_safe(apu, next, &apus, node) {
		list_del(&apu->node);
		tapu_mt8183_apu_destroy(apu);
	}
	platform_driver_unregister(&tapu_mt8183_pdrv);
	destroy_workqueue(tapu_mt8183_wq);
}

module_init(tapu_mt8183_init);
module_exit(tapu_mt8183_exit);

MODULE_DESCRIPTION("TAPU MediaTek MT8183 APU backend");
MODULE_AUTHOR("The TAPU authors");
MODULE_LICENSE("GPL");
