// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * The remote side of virtio-rpmsg: waits for the host to set DRIVER_OK on
 * the core's virtio device, checks the vrings the host put in the resource
 * table, announces the core's channel to the name service, then takes the
 * host's messages from vring 1 and sends the core's on buffers of vring 0.
 * Everything the host wrote is checked before use: a vring that does not
 * fit, a descriptor out of range or chained, a buffer outside the shared
 * memory or a header that does not fit its buffer is dropped, never
 * followed.
 */

#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "tapu_fw_rpmsg.h"

#define TAPU_FW_VRING_DESC_F_NEXT	1
#define TAPU_FW_VRING_DESC_F_WRITE	2
#define TAPU_FW_VRING_DESC_F_INDIRECT	4
#define TAPU_FW_VRING_AVAIL_F_NO_INTERRUPT 1

struct tapu_fw_rpmsg_hdr {
	__le32 src;
	__le32 dst;
	__le32 reserved;
	__le16 len;
	__le16 flags;
} __packed;

struct tapu_fw_rpmsg_ns {
	char name[TAPU_FW_RPMSG_NAME_SIZE];
	__le32 addr;
	__le32 flags;
} __packed;

static u32 tapu_fw_align(u32 x, u32 a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Offset of the used ring, and the whole size, of a vring (virtio 1.0). */
static u32 tapu_fw_vring_used_off(u32 num, u32 align)
{
	return tapu_fw_align(16 * num + 2 * (3 + num), align);
}

static u32 tapu_fw_vring_size(u32 num, u32 align)
{
	return tapu_fw_vring_used_off(num, align) + 2 * 3 + 8 * num;
}

static int tapu_fw_vring_setup(struct tapu_fw_rpmsg *r, struct tapu_fw_vring *vr,
			       const struct tapu_fw_rsc_vring *rv)
{
	u32 da = le32_to_cpu(rv->da), num = le32_to_cpu(rv->num);
	u32 align = le32_to_cpu(rv->align);
	u8 *base;

	/* The firmware declared these; the host only fills in the address. */
	if (da == TAPU_FW_RSC_ADDR_ANY || num != TAPU_FW_VRING_NUM ||
	    align != TAPU_FW_VRING_ALIGN)
		return -EINVAL;
	base = r->ops->map(r, da, tapu_fw_vring_size(num, align));
	if (!base)
		return -EFAULT;
	vr->num = num;
	vr->desc = (void *)base;
	vr->avail = (void *)(base + 16 * num);
	vr->used = (void *)(base + tapu_fw_vring_used_off(num, align));
	vr->last_avail = 0;
	vr->used_idx = 0;
	return 0;
}

/*
 * Takes the next buffer the host made available; @write: whether the core
 * writes it (the host's receive buffers) or reads it. -EAGAIN: none;
 * -ERANGE: a descriptor index out of range, consumed (nothing to give
 * back); -EPROTO, -EFAULT: a bad descriptor, to give back unused.
 */
static int tapu_fw_vring_take(struct tapu_fw_rpmsg *r, struct tapu_fw_vring *vr,
			      bool write, u16 *head, void **buf, u32 *len)
{
	const struct tapu_fw_vring_desc *d;
	u16 idx, flags;
	u64 addr;

	r->ops->invalidate(r, vr->avail, 4);
	idx = le16_to_cpu(READ_ONCE(vr->avail[1]));
	if (idx == vr->last_avail)
		return -EAGAIN;
	/* Read the entry only after its index. */
	rmb();
	r->ops->invalidate(r, &vr->avail[2 + vr->last_avail % vr->num], 2);
	*head = le16_to_cpu(vr->avail[2 + vr->last_avail % vr->num]);
	vr->last_avail++;
	if (*head >= vr->num)
		return -ERANGE;
	d = &vr->desc[*head];
	r->ops->invalidate(r, d, sizeof(*d));
	addr = le64_to_cpu(d->addr);
	*len = le32_to_cpu(d->len);
	flags = le16_to_cpu(d->flags);
	if ((flags & (TAPU_FW_VRING_DESC_F_NEXT | TAPU_FW_VRING_DESC_F_INDIRECT)) ||
	    !!(flags & TAPU_FW_VRING_DESC_F_WRITE) != write ||
	    *len < sizeof(struct tapu_fw_rpmsg_hdr) ||
	    *len > TAPU_FW_RPMSG_BUF_SIZE)
		return -EPROTO;
	*buf = r->ops->map(r, addr, *len);
	return *buf ? 0 : -EFAULT;
}

/* Gives a taken buffer back, with the bytes written into it. */
static void tapu_fw_vring_put(struct tapu_fw_rpmsg *r, struct tapu_fw_vring *vr,
			      u16 head, u32 len)
{
	struct tapu_fw_vring_used_elem *e = (void *)&vr->used[2];

	e += vr->used_idx % vr->num;
	e->id = cpu_to_le32(head);
	e->len = cpu_to_le32(len);
	r->ops->writeback(r, e, sizeof(*e));
	/* The element before the index that publishes it. */
	wmb();
	WRITE_ONCE(vr->used[1], cpu_to_le16(++vr->used_idx));
	r->ops->writeback(r, &vr->used[1], 2);
}

static void tapu_fw_vring_notify(struct tapu_fw_rpmsg *r, struct tapu_fw_vring *vr)
{
	/* The index before the flags that say whether the host wants to know. */
	mb();
	r->ops->invalidate(r, vr->avail, 2);
	if (!(le16_to_cpu(READ_ONCE(vr->avail[0])) & TAPU_FW_VRING_AVAIL_F_NO_INTERRUPT))
		r->ops->notify(r);
}

/*
 * Whether the host still has DRIVER_OK set: it resets the device before it
 * frees the buffers, so the core checks before it touches one.
 */
static bool tapu_fw_rpmsg_up(struct tapu_fw_rpmsg *r)
{
	r->ops->invalidate(r, r->vdev, sizeof(*r->vdev));
	if (!(READ_ONCE(r->vdev->status) & TAPU_FW_VIRTIO_S_DRIVER_OK))
		r->ready = false;
	return r->ready;
}

static int tapu_fw_rpmsg_send_to(struct tapu_fw_rpmsg *r, u32 dst,
				 const void *data, u32 len)
{
	struct tapu_fw_rpmsg_hdr *hdr;
	u32 size;
	u16 head;
	int ret;

	if (!tapu_fw_rpmsg_up(r))
		return -ENOTCONN;
	ret = tapu_fw_vring_take(r, &r->tx, true, &head, (void **)&hdr, &size);
	if (ret == -EPROTO || ret == -EFAULT) {
		/* A bad buffer goes back unused. */
		r->dropped++;
		tapu_fw_vring_put(r, &r->tx, head, 0);
		return ret;
	}
	if (ret == -ERANGE)
		r->dropped++;
	if (ret)
		return ret;
	if (len > size - sizeof(*hdr)) {
		tapu_fw_vring_put(r, &r->tx, head, 0);
		return -EMSGSIZE;
	}
	hdr->src = cpu_to_le32(TAPU_FW_RPMSG_ADDR);
	hdr->dst = cpu_to_le32(dst);
	hdr->reserved = 0;
	hdr->len = cpu_to_le16(len);
	hdr->flags = 0;
	memcpy(hdr + 1, data, len);
	r->ops->writeback(r, hdr, sizeof(*hdr) + len);
	tapu_fw_vring_put(r, &r->tx, head, sizeof(*hdr) + len);
	tapu_fw_vring_notify(r, &r->tx);
	return 0;
}

/**
 * tapu_fw_rpmsg_send() - send a message to the host endpoint of the channel
 * @r: the core's rpmsg device
 * @data: payload
 * @len: its size
 *
 * Return: 0; -EAGAIN when the host has no receive buffer available (try
 * again later), -ENOTCONN before the channel is up, -EMSGSIZE, or -EPROTO
 * or -EFAULT for a buffer the host described wrongly (given back unused).
 */
int tapu_fw_rpmsg_send(struct tapu_fw_rpmsg *r, const void *data, u32 len)
{
	return tapu_fw_rpmsg_send_to(r, r->peer, data, len);
}

static int tapu_fw_rpmsg_announce(struct tapu_fw_rpmsg *r)
{
	struct tapu_fw_rpmsg_ns ns = {
		.addr = cpu_to_le32(TAPU_FW_RPMSG_ADDR),
		.flags = 0,
	};

	memcpy(ns.name, r->name, sizeof(ns.name));
	return tapu_fw_rpmsg_send_to(r, TAPU_FW_RPMSG_NS_ADDR, &ns, sizeof(ns));
}

/* DRIVER_OK: the host negotiated and set up the vrings; check them. */
static int tapu_fw_rpmsg_start(struct tapu_fw_rpmsg *r)
{
	struct tapu_fw_rsc_vdev *v = r->vdev;
	int ret;

	if (le32_to_cpu(v->type) != TAPU_FW_RSC_VDEV ||
	    le32_to_cpu(v->id) != TAPU_FW_VIRTIO_ID_RPMSG ||
	    v->num_of_vrings != 2 ||
	    !(le32_to_cpu(v->gfeatures) & (1u << TAPU_FW_RPMSG_F_NS)))
		return -EPROTO;
	ret = tapu_fw_vring_setup(r, &r->tx, &v->vring[0]);
	if (!ret)
		ret = tapu_fw_vring_setup(r, &r->rx, &v->vring[1]);
	if (ret)
		return ret;
	r->ready = true;
	r->announced = false;
	return 0;
}

/**
 * tapu_fw_rpmsg_poll() - serve the core's rpmsg device
 * @r: the core's rpmsg device
 *
 * Called when the host kicks the core and whenever the core has nothing
 * else to do. Brings the channel up once the host set DRIVER_OK and down
 * when the host resets the device, and delivers every message the host
 * made available to &tapu_fw_rpmsg_ops.receive.
 *
 * Return: messages delivered, or a negative error when the host's setup
 * of the device cannot be used (the channel stays down).
 */
int tapu_fw_rpmsg_poll(struct tapu_fw_rpmsg *r)
{
	const struct tapu_fw_rpmsg_hdr *hdr;
	int ret, n = 0;
	bool notify = false;
	u16 head;
	u32 size;

	if (!r->ready) {
		r->ops->invalidate(r, r->vdev, sizeof(*r->vdev));
		if (!(READ_ONCE(r->vdev->status) & TAPU_FW_VIRTIO_S_DRIVER_OK))
			return 0;
		ret = tapu_fw_rpmsg_start(r);
		if (ret)
			return ret;
	}
	if (!r->announced && tapu_fw_rpmsg_announce(r) != -EAGAIN)
		r->announced = true;

	while (tapu_fw_rpmsg_up(r)) {
		ret = tapu_fw_vring_take(r, &r->rx, false, &head, (void **)&hdr,
					 &size);
		if (ret == -EAGAIN)
			break;
		if (ret == 0 && le16_to_cpu(hdr->len) <= size - sizeof(*hdr) &&
		    le32_to_cpu(hdr->dst) == TAPU_FW_RPMSG_ADDR) {
			r->peer = le32_to_cpu(hdr->src);
			r->ops->invalidate(r, hdr + 1, le16_to_cpu(hdr->len));
			r->ops->receive(r, hdr + 1, le16_to_cpu(hdr->len));
			n++;
		} else {
			r->dropped++;
		}
		/* A job may have run meanwhile: is the ring still the host's? */
		if (ret == -ERANGE || !tapu_fw_rpmsg_up(r))
			continue;
		tapu_fw_vring_put(r, &r->rx, head, 0);
		notify = true;
	}
	if (notify)
		tapu_fw_vring_notify(r, &r->rx);
	return n;
}

/**
 * tapu_fw_rpmsg_init() - set up the rpmsg device of a core
 * @r: the device
 * @ops: platform operations
 * @priv: platform data
 * @vdev: the core's entry of the loaded resource table
 * @name: the channel to announce, e.g. "rpmsg-mt8183-apu0"
 */
void tapu_fw_rpmsg_init(struct tapu_fw_rpmsg *r,
			const struct tapu_fw_rpmsg_ops *ops, void *priv,
			struct tapu_fw_rsc_vdev *vdev, const char *name)
{
	u32 i;

	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->priv = priv;
	r->vdev = vdev;
	for (i = 0; i + 1 < sizeof(r->name) && name[i]; i++)
		r->name[i] = name[i];
}
