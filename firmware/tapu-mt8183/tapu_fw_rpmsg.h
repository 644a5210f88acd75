/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Copyright 2026 The TAPU authors */

/*
 * The remote side of virtio-rpmsg for the TAPU reference firmware: the
 * resource table a remote processor driver loads with the firmware (one
 * rpmsg virtio device per core), the split vrings the host allocates for
 * it, the name-service announcement of the core's channel and its
 * messages. Layouts are those of the virtio 1.0 split virtqueue, of
 * include/linux/remoteproc.h and of drivers/rpmsg/virtio_rpmsg_bus.c, in
 * little-endian order (the host is little-endian: legacy virtio).
 */

#ifndef __TAPU_FW_RPMSG_H
#define __TAPU_FW_RPMSG_H

#include <linux/types.h>

#define TAPU_FW_RSC_VDEV		3
#define TAPU_FW_VIRTIO_ID_RPMSG		7
#define TAPU_FW_RPMSG_F_NS		0
#define TAPU_FW_VIRTIO_S_DRIVER_OK	4
/* The host fills in what the firmware leaves as "any". */
#define TAPU_FW_RSC_ADDR_ANY		0xffffffffu

#define TAPU_FW_VRING_NUM		16
#define TAPU_FW_VRING_ALIGN		16
/* What virtio_rpmsg_bus gives every buffer. */
#define TAPU_FW_RPMSG_BUF_SIZE		512
#define TAPU_FW_RPMSG_NAME_SIZE		32
#define TAPU_FW_RPMSG_NS_ADDR		53
/* The core's endpoint: the first address above the reserved ones. */
#define TAPU_FW_RPMSG_ADDR		1024

struct tapu_fw_rsc_vring {
	__le32 da;
	__le32 align;
	__le32 num;
	__le32 notifyid;
	__le32 pa;
} __packed;

struct tapu_fw_rsc_vdev {
	__le32 type;
	__le32 id;
	__le32 notifyid;
	__le32 dfeatures;
	__le32 gfeatures;
	__le32 config_len;
	u8 status;
	u8 num_of_vrings;
	u8 reserved[2];
	struct tapu_fw_rsc_vring vring[2];
} __packed;

/**
 * struct tapu_fw_rsc_table - the firmware's resource table
 * @ver: 1
 * @num: entries, one per core
 * @reserved: zero
 * @offset: offset of each entry from the table's start
 * @vdev: core n's rpmsg virtio device: vring 0 carries its messages to the
 *	host, vring 1 the host's to it
 */
struct tapu_fw_rsc_table {
	__le32 ver;
	__le32 num;
	__le32 reserved[2];
	__le32 offset[2];
	struct tapu_fw_rsc_vdev vdev[2];
} __packed;

struct tapu_fw_vring_desc {
	__le64 addr;
	__le32 len;
	__le16 flags;
	__le16 next;
} __packed;

struct tapu_fw_vring_used_elem {
	__le32 id;
	__le32 len;
} __packed;

/**
 * struct tapu_fw_vring - one split virtqueue, as the device side sees it
 * @num: entries
 * @desc: descriptor table
 * @avail: available ring: flags, idx, ring[@num] (16-bit words)
 * @used: used ring: flags, idx (16-bit), then @num used elements
 * @last_avail: next available entry to take
 * @used_idx: used entries given back
 */
struct tapu_fw_vring {
	u32 num;
	struct tapu_fw_vring_desc *desc;
	__le16 *avail;
	__le16 *used;
	u16 last_avail;
	u16 used_idx;
};

struct tapu_fw_rpmsg;

/**
 * struct tapu_fw_rpmsg_ops - what the rpmsg layer needs from its platform
 * @map: CPU pointer to @size bytes at device address @da of memory the host
 *	shares, or NULL
 * @invalidate: drop cached copies before reading what the host wrote
 * @writeback: write back what the core wrote, before the host reads it
 * @notify: interrupt the host
 * @receive: a message for the core's endpoint
 */
struct tapu_fw_rpmsg_ops {
	void *(*map)(struct tapu_fw_rpmsg *r, u64 da, u64 size);
	void (*invalidate)(struct tapu_fw_rpmsg *r, const void *p, u64 size);
	void (*writeback)(struct tapu_fw_rpmsg *r, const void *p, u64 size);
	void (*notify)(struct tapu_fw_rpmsg *r);
	void (*receive)(struct tapu_fw_rpmsg *r, const void *data, u32 len);
};

/**
 * struct tapu_fw_rpmsg - the rpmsg device of one core
 * @ops: platform operations
 * @priv: platform data
 * @vdev: the core's entry of the resource table
 * @name: the channel announced
 * @tx: vring 0, to the host
 * @rx: vring 1, from the host
 * @peer: the host endpoint that last wrote to the core, the replies' target
 * @ready: the host set DRIVER_OK and the vrings are checked and in use
 * @announced: the name-service message went out
 * @dropped: messages dropped as malformed
 */
struct tapu_fw_rpmsg {
	const struct tapu_fw_rpmsg_ops *ops;
	void *priv;
	struct tapu_fw_rsc_vdev *vdev;
	char name[TAPU_FW_RPMSG_NAME_SIZE];
	struct tapu_fw_vring tx;
	struct tapu_fw_vring rx;
	u32 peer;
	bool ready;
	bool announced;
	u32 dropped;
};

/* An rpmsg virtio device with its two vrings, for the host to fill in. */
#define TAPU_FW_RSC_VRING { .da = TAPU_FW_RSC_ADDR_ANY, \
	.align = TAPU_FW_VRING_ALIGN, .num = TAPU_FW_VRING_NUM, \
	.notifyid = TAPU_FW_RSC_ADDR_ANY }
#define TAPU_FW_RSC_VDEV_RPMSG { .type = TAPU_FW_RSC_VDEV, \
	.id = TAPU_FW_VIRTIO_ID_RPMSG, .notifyid = TAPU_FW_RSC_ADDR_ANY, \
	.dfeatures = 1u << TAPU_FW_RPMSG_F_NS, .num_of_vrings = 2, \
	.vring = { TAPU_FW_RSC_VRING, TAPU_FW_RSC_VRING } }
/* The resource table of the APU's firmware: core n serves vdev[n]. */
#define TAPU_FW_RSC_TABLE { .ver = 1, .num = 2, \
	.offset = { offsetof(struct tapu_fw_rsc_table, vdev[0]), \
		    offsetof(struct tapu_fw_rsc_table, vdev[1]) }, \
	.vdev = { TAPU_FW_RSC_VDEV_RPMSG, TAPU_FW_RSC_VDEV_RPMSG } }

void tapu_fw_rpmsg_init(struct tapu_fw_rpmsg *r,
			const struct tapu_fw_rpmsg_ops *ops, void *priv,
			struct tapu_fw_rsc_vdev *vdev, const char *name);
int tapu_fw_rpmsg_poll(struct tapu_fw_rpmsg *r);
int tapu_fw_rpmsg_send(struct tapu_fw_rpmsg *r, const void *data, u32 len);

#endif /* __TAPU_FW_RPMSG_H */
