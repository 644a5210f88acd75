// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * The reference firmware on an emulated Xtensa core (qemu-system-xtensa
 * -M sim -cpu lx106 -semihosting): plays the host's side of the IPC
 * protocol against tapu_fw_receive() with the jobs recorded on the
 * simulated NPU (tapu_isa_test with TAPU_ISA_RECORD=DIR), and checks that
 * the firmware leaves every byte of every buffer as the simulated NPU did,
 * that it invalidates what it reads and writes back what it writes, and
 * that it rejects malformed messages, tables and streams without writing.
 * The recordings are the semihosting arguments; the output is TAP.
 */

#include <stdarg.h>
#include <stdio.h>

#include "semihost.h"
#include "tapu_fw.h"

/* Device addresses of the shared memory: unlike its CPU addresses. */
#define DA_BASE		0x10000000ULL
/* The clock CCOUNT is taken to count: it only scales what is reported. */
#define CLOCK_HZ	40000000ULL
#define MAX_SEGMENTS	256
#define MAX_RANGES	512
#define MAX_ARGS	4096

extern u8 __shared_start[], __shared_end[];

static struct tapu_fw_core core;
static u8 *shared_top;
static unsigned int test_num, failures;

struct recording;

static struct {
	u64 reply[TAPU_FW_MAX_MSG / sizeof(u64)];
	u32 reply_len;
	u32 sends;
	u32 n_inv, n_wb;
	struct { const u8 *p; u64 n; } inv[MAX_RANGES], wb[MAX_RANGES];
	/* The job whose cache maintenance is checked against its contents. */
	const struct recording *rec;
	const char *order;
} host;

static void out(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		semihost_write(1, buf, min_t(int, n, sizeof(buf) - 1));
}

static void tap(bool ok, const char *what, const char *why)
{
	++test_num;
	if (!ok)
		failures++;
	out("%sok %u - %s%s%s\n", ok ? "" : "not ", test_num, what,
	    ok ? "" : ": ", ok ? "" : why);
}

/* --- the platform ------------------------------------------------------ */

static u64 shared_size(void)
{
	return __shared_end - __shared_start;
}

static u64 da_of(const void *p)
{
	return DA_BASE + ((const u8 *)p - __shared_start);
}

static void *qemu_map(struct tapu_fw_core *c, u64 da, u64 size)
{
	if (da < DA_BASE || size > shared_size() ||
	    da - DA_BASE > shared_size() - size)
		return NULL;
	return __shared_start + (da - DA_BASE);
}

/* Like an IOMMU window: a slot's segments must follow each other. */
static void *qemu_map_slot(struct tapu_fw_core *c,
			   const struct tapu_mt8183_ipc_segment *seg, u32 n,
			   u64 size)
{
	u64 da = le64_to_cpu(seg[0].addr), next = da;
	u32 k;

	for (k = 0; k < n; k++) {
		if (le64_to_cpu(seg[k].addr) != next)
			return NULL;
		next += le64_to_cpu(seg[k].size);
	}
	return qemu_map(c, da, size);
}

static void qemu_unmap_slot(struct tapu_fw_core *c, void *vaddr, u64 size)
{
}

static void check_order(const void *p, u64 n, bool writeback);

static void qemu_invalidate(struct tapu_fw_core *c, const void *p, u64 n)
{
	if (host.n_inv < MAX_RANGES)
		host.inv[host.n_inv++] = (typeof(host.inv[0])){ p, n };
	check_order(p, n, false);
}

static void qemu_writeback(struct tapu_fw_core *c, const void *p, u64 n)
{
	if (host.n_wb < MAX_RANGES)
		host.wb[host.n_wb++] = (typeof(host.wb[0])){ p, n };
	check_order(p, n, true);
}

/* CCOUNT, extended to 64 bits: read at least once per wrap. */
static u64 qemu_cycles(struct tapu_fw_core *c)
{
	static u64 hi;
	static u32 last;
	u32 now;

	__asm__ volatile("rsr %0, ccount" : "=r"(now));
	if (now < last)
		hi += 1ULL << 32;
	last = now;
	return hi | now;
}

u64 ktime_get_ns(void)
{
	return qemu_cycles(NULL) * (1000000000ULL / CLOCK_HZ);
}

static int qemu_send(struct tapu_fw_core *c, const void *msg, u32 len)
{
	host.sends++;
	host.reply_len = len;
	if (len <= sizeof(host.reply))
		memcpy(host.reply, msg, len);
	return 0;
}

static const struct tapu_fw_ops qemu_ops = {
	.map = qemu_map,
	.map_slot = qemu_map_slot,
	.unmap_slot = qemu_unmap_slot,
	.invalidate = qemu_invalidate,
	.writeback = qemu_writeback,
	.cycles = qemu_cycles,
	.send = qemu_send,
};

/* --- the host's side ----------------------------------------------------- */

static void *shared_alloc(u64 size)
{
	u8 *p = shared_top;

	size = (size + 63) & ~63ULL;
	if (size > (u64)(__shared_end - shared_top))
		return NULL;
	shared_top += size;
	return p;
}

static void hdr(struct tapu_mt8183_ipc_hdr *h, u16 type, u32 seq, u32 len)
{
	h->version = cpu_to_le16(TAPU_MT8183_IPC_VERSION);
	h->type = cpu_to_le16(type);
	h->seq = cpu_to_le32(seq);
	h->length = cpu_to_le32(len);
	h->reserved = 0;
}

/* Delivers @msg; the reply, if any, is in host.reply. */
static int deliver(const void *msg, u32 len)
{
	host.sends = 0;
	host.reply_len = 0;
	host.n_inv = 0;
	host.n_wb = 0;
	return tapu_fw_receive(&core, msg, len);
}

static bool covered(const typeof(host.inv[0]) *r, u32 n, const void *p,
		    u64 size)
{
	u32 k;

	for (k = 0; k < n; k++)
		if ((const u8 *)p >= r[k].p &&
		    (const u8 *)p + size <= r[k].p + r[k].n)
			return true;
	return false;
}

static void test_ping(void)
{
	struct tapu_mt8183_ipc_ping ping = { .cookie = cpu_to_le64(0x1234abcd5678ULL) };
	const struct tapu_mt8183_ipc_pong *pong = (const void *)host.reply;
	bool ok;

	hdr(&ping.hdr, TAPU_MT8183_IPC_PING, 7, sizeof(ping));
	ok = !deliver(&ping, sizeof(ping)) && host.sends == 1 &&
	     host.reply_len == sizeof(*pong) &&
	     le16_to_cpu(pong->hdr.version) == TAPU_MT8183_IPC_VERSION &&
	     le16_to_cpu(pong->hdr.type) == TAPU_MT8183_IPC_PONG &&
	     le32_to_cpu(pong->hdr.seq) == 7 &&
	     le32_to_cpu(pong->hdr.length) == sizeof(*pong) &&
	     !pong->hdr.reserved && pong->cookie == ping.cookie &&
	     le32_to_cpu(pong->core_id) == 0 &&
	     le32_to_cpu(pong->num_cores) == 2 &&
	     le32_to_cpu(pong->isa_version) == DRM_TAPU_ISA_VERSION &&
	     le32_to_cpu(pong->max_segments) == MAX_SEGMENTS &&
	     le64_to_cpu(pong->cycle_clock_hz) == CLOCK_HZ &&
	     le64_to_cpu(pong->work_per_ms) > 0;
	tap(ok, "ping: the pong echoes seq and cookie and reports the core",
	    "wrong or missing pong");
	out("# work_per_ms %llu\n", (unsigned long long)core.work_per_ms);
}

/* Malformed messages are dropped: no reply, counted. */
static void test_drops(void)
{
	static const char *const what[] = {
		"shorter than a header", "another version", "length not the payload's",
		"reserved header field set", "a type the host does not send",
		"a ping of the wrong size", "longer than any message",
	};
	struct tapu_mt8183_ipc_ping ping = {};
	u64 big[16] = {};
	u32 k, dropped = core.stats.dropped;
	char name[96];
	int ret;

	for (k = 0; k < ARRAY_SIZE(what); k++) {
		u32 len = sizeof(ping);

		hdr(&ping.hdr, TAPU_MT8183_IPC_PING, 1, sizeof(ping));
		switch (k) {
		case 0:
			len = 8;
			break;
		case 1:
			ping.hdr.version = cpu_to_le16(1);
			break;
		case 2:
			ping.hdr.length = cpu_to_le32(16);
			break;
		case 3:
			ping.hdr.reserved = cpu_to_le32(1);
			break;
		case 4:
			ping.hdr.type = cpu_to_le16(TAPU_MT8183_IPC_PONG);
			break;
		case 5:
		case 6:
			len = k == 5 ? 32 : sizeof(big);
			ping.hdr.length = cpu_to_le32(len);
			break;
		}
		memcpy(big, &ping, sizeof(ping));
		ret = deliver(big, len);
		snprintf(name, sizeof(name), "drop: a message %s", what[k]);
		tap(ret == -EINVAL && host.sends == 0 &&
		    core.stats.dropped == ++dropped, name, "answered or not counted");
	}
}

/* The integer helpers of libgcc-rom.c, on values worked out elsewhere. */
static void test_helpers(void)
{
	static const struct { u64 a, b, prod, quot, rem; } v[] = {
		{ 0x123456789abcdef0ULL, 0xfedcba9876543210ULL,
		  0x236d88fe5618cf00ULL, 0, 0x123456789abcdef0ULL },
		{ ~0ULL, ~0ULL, 1, 1, 0 },
		{ 0xffffffffULL, 0xffffffffULL, 0xfffffffe00000001ULL, 1, 0 },
		{ 0x7fffffff80000000ULL, 3, 0x7ffffffe80000000ULL,
		  0x2aaaaaaa80000000ULL, 0 },
		{ 0xfedcba9876543210ULL, 0x12345, 0x999999999999ae50ULL,
		  0xe0004fa01c4dULL, 0x10a4f },
	};
	/* volatile: computed here, at run time, not by the compiler */
	volatile s32 n = -7, d = 2;
	bool ok = n / d == -3 && -n / d == 3 && n / -d == 3;
	u32 k;

	for (k = 0; k < ARRAY_SIZE(v); k++) {
		volatile u64 a = v[k].a, b = v[k].b;

		ok &= a * b == v[k].prod && a / b == v[k].quot &&
		      a % b == v[k].rem;
	}
	tap(ok, "libgcc helpers: 64-bit products and quotients, 32-bit signed division",
	    "a helper computes a wrong value");
}

/* A recording: see record_job() in tapu_isa_test.c. */
struct recording {
	const char *name;
	const u8 *stream;
	u32 stream_size;
	u32 num_slots;
	struct {
		u64 size;
		u32 access;
		u8 *mem;		/* before the job; the job's memory */
		const u8 *after;	/* what the simulated NPU left */
		const u8 *before;	/* a copy of what it was given */
	} slot[TAPU_MT8183_IPC_MAX_SLOTS];
};

/*
 * Invalidating a slot is right only before the job wrote it (the DSP would
 * lose its own writes), writing it back only once the job is done.
 */
static void check_order(const void *p, u64 n, bool writeback)
{
	const struct recording *r = host.rec;
	u32 i;

	for (i = 0; r && i < r->num_slots; i++) {
		if ((const u8 *)p >= r->slot[i].mem + r->slot[i].size ||
		    (const u8 *)p + n <= r->slot[i].mem)
			continue;
		if (!writeback &&
		    memcmp(r->slot[i].mem, r->slot[i].before, r->slot[i].size))
			host.order = "a slot was invalidated after the job wrote it";
		if (writeback &&
		    memcmp(r->slot[i].mem, r->slot[i].after, r->slot[i].size))
			host.order = "a slot was written back before the job was done";
	}
}

static u64 pad8(u64 n)
{
	return (n + 7) & ~7ULL;
}

/* Reads @path into shared memory and parses it in place. */
static const char *load(const char *path, struct recording *r)
{
	u8 *buf = shared_top, *p;
	u64 len = 0, need;
	long fd, n;
	u32 i;

	fd = semihost_open(path);
	if (fd < 0)
		return "cannot open";
	while ((n = semihost_read(fd, buf + len,
				  (__shared_end - buf) - len)) > 0)
		len += n;
	semihost_close(fd);
	if (n < 0 || !shared_alloc(len))
		return "cannot read (or larger than the shared memory)";
	if (len < 16 || memcmp(buf, "TAPUJOB1", 8))
		return "not a recording";
	r->stream_size = get_unaligned_le32(buf + 8);
	r->num_slots = get_unaligned_le32(buf + 12);
	if (r->num_slots > TAPU_MT8183_IPC_MAX_SLOTS)
		return "too many slots";
	if (pad8(r->stream_size) > len - 16)
		return "truncated";
	r->stream = buf + 16;
	p = buf + 16 + pad8(r->stream_size);
	for (i = 0; i < r->num_slots; i++) {
		if (p + 16 > buf + len)
			return "truncated";
		r->slot[i].size = le64_to_cpu(*(const u64 *)p);
		r->slot[i].access = get_unaligned_le32(p + 8);
		if (r->slot[i].size > len)
			return "truncated";
		need = 16 + pad8(r->slot[i].size);
		if (need > (u64)(buf + len - p))
			return "truncated";
		r->slot[i].mem = p + 16;
		p += need;
	}
	for (i = 0; i < r->num_slots; i++) {
		need = pad8(r->slot[i].size);
		if (need > (u64)(buf + len - p))
			return "truncated";
		r->slot[i].after = p;
		p += need;
	}
	return p == buf + len ? NULL : "trailing bytes";
}

/* A job message for the recording, with a table of @split segments a slot. */
static void make_job(const struct recording *r, struct tapu_mt8183_ipc_job *job,
		     struct tapu_mt8183_ipc_segment *table, u32 split)
{
	static u64 job_id = 100;
	u32 i, k, e = 0;

	for (i = 0; i < r->num_slots; i++) {
		u32 n_seg = min_t(u64, split, r->slot[i].size);
		u64 part = r->slot[i].size / n_seg, off = 0;

		for (k = 0; k < n_seg; k++, e++) {
			u64 n = k == n_seg - 1 ? r->slot[i].size - off : part;

			table[e] = (struct tapu_mt8183_ipc_segment){
				.slot = cpu_to_le32(i),
				.addr = cpu_to_le64(da_of(r->slot[i].mem + off)),
				.size = cpu_to_le64(n),
			};
			off += n;
		}
	}
	memset(job, 0, sizeof(*job));
	hdr(&job->hdr, TAPU_MT8183_IPC_JOB, (u32)job_id * 3, sizeof(*job));
	job->job_id = cpu_to_le64(job_id++);
	job->cmd_addr = cpu_to_le64(da_of(r->stream));
	job->cmd_size = cpu_to_le64(r->stream_size);
	job->table_addr = cpu_to_le64(da_of(table));
	job->table_entries = cpu_to_le32(e);
	job->num_slots = cpu_to_le32(r->num_slots);
}

/* The completion of @job, with @status; NULL or what is wrong. */
static const char *check_done(const struct tapu_mt8183_ipc_job *job,
			      u32 status)
{
	const struct tapu_mt8183_ipc_job_done *d = (const void *)host.reply;

	if (host.sends != 1 || host.reply_len != sizeof(*d))
		return "no completion";
	if (le16_to_cpu(d->hdr.version) != TAPU_MT8183_IPC_VERSION ||
	    le16_to_cpu(d->hdr.type) != TAPU_MT8183_IPC_JOB_DONE ||
	    d->hdr.seq != job->hdr.seq ||
	    le32_to_cpu(d->hdr.length) != sizeof(*d) || d->hdr.reserved ||
	    d->job_id != job->job_id || d->reserved || !d->cycles)
		return "malformed completion";
	if (le32_to_cpu(d->status) != status)
		return status ? "not rejected" : "status not OK";
	return NULL;
}

static void test_recording(struct recording *r, u32 split)
{
	struct tapu_mt8183_ipc_segment *table;
	struct tapu_mt8183_ipc_job job;
	const char *why;
	char name[160];
	u32 i;

	table = shared_alloc(sizeof(*table) * r->num_slots * split);
	snprintf(name, sizeof(name), "%s: %s the simulated NPU's%s", r->name,
		 "every buffer as", split > 1 ? ", slots in 3 segments" : "");
	if (!table) {
		tap(false, name, "out of shared memory");
		return;
	}
	for (i = 0; i < r->num_slots; i++) {
		u8 *copy = shared_alloc(r->slot[i].size);

		if (!copy) {
			tap(false, name, "out of shared memory");
			return;
		}
		memcpy(copy, r->slot[i].mem, r->slot[i].size);
		r->slot[i].before = copy;
	}
	make_job(r, &job, table, split);
	host.rec = r;
	host.order = NULL;
	deliver(&job, sizeof(job));
	host.rec = NULL;
	why = check_done(&job, TAPU_MT8183_IPC_STATUS_OK);
	if (!why)
		why = host.order;
	for (i = 0; !why && i < r->num_slots; i++) {
		if (memcmp(r->slot[i].mem, r->slot[i].after, r->slot[i].size))
			why = "a buffer differs from the simulated NPU's";
		else if (!covered(host.inv, host.n_inv, r->slot[i].mem,
				  r->slot[i].size))
			why = "a slot was not invalidated before the job";
		else if ((r->slot[i].access & DRM_TAPU_BO_WRITE) &&
			 !covered(host.wb, host.n_wb, r->slot[i].mem,
				  r->slot[i].size))
			why = "an output was not written back";
	}
	if (!why && (!covered(host.inv, host.n_inv, r->stream, r->stream_size) ||
		     (r->num_slots &&
		      !covered(host.inv, host.n_inv, table,
			       le32_to_cpu(job.table_entries) * sizeof(*table)))))
		why = "the stream or table was not invalidated";
	tap(!why, name, why);
}

/*
 * Malformed jobs on a recording's stream and buffers: each must be
 * answered INVALID and leave every buffer as it was.
 */
static void test_rejects(struct recording *r)
{
	static const char *const what[] = {
		"a stream outside the shared memory",
		"a table outside the shared memory",
		"slots out of order in the table",
		"a segment's reserved field set",
		"a slot smaller than the stream's extent",
		"a slot whose segments are not contiguous",
		"fewer slots than the stream uses",
		"more table entries than the pong allows",
		"an unknown opcode in the stream",
		"an empty stream",
		"a misaligned buffer table",
		"a segment of no bytes",
		"more slots than a job has",
		"a table entry past the last slot",
		"a slot that covers the command stream",
	};
	struct tapu_mt8183_ipc_segment *table;
	struct tapu_mt8183_ipc_job job;
	u8 *saved[TAPU_MT8183_IPC_MAX_SLOTS];
	u8 *top = shared_top, *stream;
	struct tapu_isa_summary sum;
	bool short_of_memory;
	u64 extent0;
	const char *why;
	char name[160];
	u32 i, k;

	tapu_isa_validate(r->stream, r->stream_size, &sum);
	extent0 = sum.extent[0];
	table = shared_alloc(sizeof(*table) * (MAX_SEGMENTS + 1));
	/* room for case 14's slot over the stream */
	stream = shared_alloc(r->stream_size + extent0 + 64);
	short_of_memory = !table || !stream;
	for (i = 0; i < r->num_slots; i++) {
		saved[i] = shared_alloc(r->slot[i].size);
		short_of_memory |= !saved[i];
	}
	if (short_of_memory) {
		tap(false, "rejects", "out of shared memory");
		return;
	}
	for (i = 0; i < r->num_slots; i++)
		memcpy(saved[i], r->slot[i].mem, r->slot[i].size);
	memcpy(stream, r->stream, r->stream_size);

	/* The control: the same job, unmodified, runs. */
	{
		struct recording good = *r;

		good.stream = stream;
		make_job(&good, &job, table, 2);
		deliver(&job, sizeof(job));
		why = check_done(&job, TAPU_MT8183_IPC_STATUS_OK);
		snprintf(name, sizeof(name), "reject: (control) the job itself runs, slots in 2 segments (%s)",
			 r->name);
		tap(!why, name, why);
		for (i = 0; i < r->num_slots; i++)
			memcpy(r->slot[i].mem, saved[i], r->slot[i].size);
	}

	for (k = 0; k < ARRAY_SIZE(what); k++) {
		struct recording bad = *r;

		bad.stream = stream;
		make_job(&bad, &job, table, 2);
		switch (k) {
		case 0:
			job.cmd_addr = cpu_to_le64(DA_BASE + shared_size() - 8);
			break;
		case 1:
			job.table_addr = cpu_to_le64(DA_BASE - 4096);
			break;
		case 2:
			table[0].slot = cpu_to_le32(1);
			break;
		case 3:
			table[1].reserved = cpu_to_le32(1);
			break;
		case 4:
			table[0].size = cpu_to_le64(1);
			table[1].addr = cpu_to_le64(le64_to_cpu(table[0].addr) + 1);
			table[1].size = cpu_to_le64(extent0 - 2);
			break;
		case 5:
			table[1].addr = cpu_to_le64(le64_to_cpu(table[1].addr) + 64);
			break;
		case 6:
			job.num_slots = cpu_to_le32(r->num_slots - 1);
			job.table_entries = cpu_to_le32(2 * (r->num_slots - 1));
			break;
		case 7:
			/* the control's table, one entry above the limit */
			core.max_segments = le32_to_cpu(job.table_entries) - 1;
			break;
		case 8:
			stream[0] = 0xff;
			stream[1] = 0x7f;
			break;
		case 9:
			job.cmd_size = 0;
			break;
		case 10:
			memmove((u8 *)table + 4, table, sizeof(*table) * 2 * r->num_slots);
			job.table_addr = cpu_to_le64(le64_to_cpu(job.table_addr) + 4);
			break;
		case 11:
			table[1].size = 0;
			break;
		case 12:
			job.num_slots = cpu_to_le32(TAPU_MT8183_IPC_MAX_SLOTS + 1);
			job.table_entries = cpu_to_le32(TAPU_MT8183_IPC_MAX_SLOTS + 1);
			break;
		case 13:
			i = le32_to_cpu(job.table_entries);
			table[i] = table[i - 1];
			table[i].slot = cpu_to_le32(r->num_slots);
			job.table_entries = cpu_to_le32(i + 1);
			break;
		case 14:
			table[0].addr = cpu_to_le64(da_of(stream));
			table[0].size = cpu_to_le64(max_t(u64, extent0, r->stream_size));
			table[1].addr = cpu_to_le64(da_of(stream) + le64_to_cpu(table[0].size));
			table[1].size = cpu_to_le64(1);
			break;
		}
		deliver(&job, sizeof(job));
		core.max_segments = MAX_SEGMENTS;
		memcpy(stream, r->stream, r->stream_size);
		why = check_done(&job, TAPU_MT8183_IPC_STATUS_INVALID);
		for (i = 0; !why && i < r->num_slots; i++)
			if (memcmp(saved[i], r->slot[i].mem, r->slot[i].size))
				why = "a buffer was written";
		snprintf(name, sizeof(name), "reject: %s (%s)", what[k], r->name);
		tap(!why, name, why);
		/* Each case on the same buffers, whatever the last one did. */
		for (i = 0; i < r->num_slots; i++)
			memcpy(r->slot[i].mem, saved[i], r->slot[i].size);
	}
	shared_top = top;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Whether the rejects can use @r: two slots, an extent of 3 bytes in slot 0. */
static bool rejects_fit(const struct recording *r)
{
	struct tapu_isa_summary sum;

	return r->num_slots >= 2 && r->stream_size > 8 &&
	       !tapu_isa_validate(r->stream, r->stream_size, &sum) &&
	       sum.num_slots == r->num_slots && sum.extent[0] >= 3;
}

int main(void)
{
	static char argbuf[1 << 16] __attribute__((__aligned__(8)));
	struct recording r;
	bool rejected = false;
	const char *why;
	char **argv;
	int argc, i;

	argc = semihost_argc();
	if (argc < 2 || argc > MAX_ARGS ||
	    semihost_argv(argbuf, sizeof(argbuf), &argv)) {
		out("usage: tapu-mt8183-replay.elf RECORDING...\n");
		return 2;
	}
	tapu_fw_init(&core, &qemu_ops, NULL, 0, 2, MAX_SEGMENTS, CLOCK_HZ);
	test_helpers();
	test_ping();
	test_drops();
	for (i = 1; i < argc; i++) {
		shared_top = __shared_start;
		memset(&r, 0, sizeof(r));
		r.name = base_name(argv[i]);
		why = load(argv[i], &r);
		if (why) {
			tap(false, r.name, why);
			continue;
		}
		test_recording(&r, 1);
		/* Again from the same inputs, each slot in three segments. */
		shared_top = __shared_start;
		load(argv[i], &r);
		test_recording(&r, 3);
		if (!rejected && rejects_fit(&r)) {
			shared_top = __shared_start;
			load(argv[i], &r);
			test_rejects(&r);
			rejected = true;
		}
	}
	if (!rejected)
		tap(false, "reject", "no recording has two slots");
	out("1..%u\n", test_num);
	return failures ? 1 : 0;
}
