// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* Copyright 2026 The TAPU authors */

/*
 * The resource table of the APU firmware: one rpmsg virtio device per
 * VP6 core, with two vrings each, for the host to allocate.
 */

#include "tapu_fw_rpmsg.h"

__attribute__((section(".resource_table"), used))
struct tapu_fw_rsc_table tapu_fw_resource_table = TAPU_FW_RSC_TABLE;
