// SPDX-License-Identifier: GPL-2.0-only
/*
 * MT8183 APU backend: jobs on both VP6 cores through the rpmsg IPC, and
 * recovery from every way the firmware can misbehave. Runs on the real SoC
 * (results only) or on the model of the APU in a QEMU guest
 * (tools/testing/tapu/dsp-model), whose debugfs "fault" arms each
 * misbehaviour of the firmware.
 */
#include <glob.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "tapu_job_util.h"

#define MT_MODEL_FAULT	"/sys/kernel/debug/tapu_dsp_model/fault"
#define MT_MODEL_CORES	"/sys/kernel/debug/tapu_dsp_model/cores"
#define MT_CHANNELS	"/sys/bus/rpmsg/drivers/tapu_mt8183"
#define MT_APU_DRIVER	"/sys/bus/platform/drivers/mtk-apu"
#define MT_MAX_CHANNELS	16
#define MT_MAX_CORES	16
#define MT_ONLINE_MS	10000

struct mt_core {
	int online;
	unsigned long long attached, completed, dropped, recoveries, lost;
};

/* Opens a TAPU device whose backend is (@mt8183) or is not "mt8183". */
static int mt_open_backend(bool mt8183)
{
	glob_t g;
	int fd = -1;

	if (glob("/dev/accel/accel*", 0, NULL, &g))
		return -1;
	for (size_t i = 0; i < g.gl_pathc && fd < 0; i++) {
		struct drm_tapu_device_info info = {};

		fd = open(g.gl_pathv[i], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (tj_query(fd, DRM_TAPU_QUERY_DEVICE, &info, sizeof(info)) ||
		    !strcmp(info.backend, "mt8183") != mt8183) {
			close(fd);
			fd = -1;
		}
	}
	globfree(&g);
	return fd;
}

/* Opens the accel device whose backend is "mt8183"; -1 if none. */
static int mt_open(void)
{
	return mt_open_backend(true);
}

/* The backend's debugfs file: accel/<device>/mt8183. */
static int mt_debugfs(char *path, size_t len)
{
	glob_t g;
	int ret = -ENOENT;

	if (glob(TAPU_DEBUGFS_ROOT "/*/mt8183", 0, NULL, &g))
		return ret;
	if (g.gl_pathc == 1 && strlen(g.gl_pathv[0]) < len) {
		snprintf(path, len, "%s", g.gl_pathv[0]);
		ret = 0;
	}
	globfree(&g);
	return ret;
}

static unsigned long long mt_field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Reads the per-core counters; returns the number of cores or -errno. */
static int mt_cores(const char *path, struct mt_core *c)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return -errno;
	while (n < MT_MAX_CORES && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "core", 4))
			continue;
		c[n].online = !!strstr(line, "state=online");
		c[n].attached = mt_field(line, " attached=");
		c[n].completed = mt_field(line, " completed=");
		c[n].dropped = mt_field(line, " dropped=");
		c[n].recoveries = mt_field(line, " recoveries=");
		c[n].lost = mt_field(line, " lost=");
		n++;
	}
	fclose(f);
	return n;
}

static unsigned long long mt_sum(const struct mt_core *c, int n, size_t off)
{
	unsigned long long s = 0;

	for (int i = 0; i < n; i++)
		s += *(const unsigned long long *)((const char *)&c[i] + off);
	return s;
}

#define MT_SUM(c, n, field)	mt_sum(c, n, offsetof(struct mt_core, field))

/* The "streams:" line: copies made and bytes held; -1 if missing. */
static int mt_streams(const char *path, long long *copies, long long *bytes)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "streams: copies=%lld bytes=%lld", copies,
			   bytes) == 2)
			ret = 0;
	fclose(f);
	return ret;
}

/*
 * Waits until every core has its channel and, if @before is given, has
 * attached a new one since (a recovery finished); 0 or -ETIMEDOUT.
 */
static int mt_wait_online(const char *path, const struct mt_core *before)
{
	int64_t end = tapu_deadline_ms(MT_ONLINE_MS);
	struct mt_core c[MT_MAX_CORES];

	do {
		int n = mt_cores(path, c), i;

		for (i = 0; i < n && c[i].online; i++)
			if (before && c[i].attached <= before[i].attached)
				break;
		if (n > 0 && i == n)
			return 0;
		usleep(20000);
	} while (tapu_now_ns() < end);
	return -ETIMEDOUT;
}

static int mt_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s));
	close(fd);
	if (ret == (ssize_t)strlen(s))
		return 0;
	return ret < 0 ? -errno : -EIO;
}

static int mt_fault(const char *fault)
{
	return mt_write(MT_MODEL_FAULT, fault);
}

/* The APU model's counter @key ("held", "outside_pool"), summed over its cores. */
static long long mt_model(const char *key)
{
	char line[512], k[32];
	FILE *f = fopen(MT_MODEL_CORES, "r");
	long long sum = 0;

	if (!f)
		return -1;
	snprintf(k, sizeof(k), " %s ", key);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, k);

		if (p)
			sum += strtoll(p + strlen(k), NULL, 10);
	}
	fclose(f);
	return sum;
}

/* Polls the model's @key until it is @want; 0 or -ETIMEDOUT. */
static int mt_model_wait(const char *key, long long want)
{
	int64_t end = tapu_deadline_ms(MT_ONLINE_MS);

	do {
		if (mt_model(key) == want)
			return 0;
		usleep(20000);
	} while (tapu_now_ns() < end);
	return -ETIMEDOUT;
}

/*
 * Unbinds the devices (channels, APUs) bound to the driver @drv (a sysfs
 * directory) whose names match @pattern, and stores their names in @names
 * for mt_bind(); returns how many, or -errno.
 */
static int mt_unbind(const char *drv, const char *pattern,
		     char names[][64], int max)
{
	char path[256];
	glob_t g;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", drv, pattern);
	if (glob(path, 0, NULL, &g))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/unbind", drv);
	for (size_t i = 0; i < g.gl_pathc && n < max; i++) {
		const char *name = strrchr(g.gl_pathv[i], '/') + 1;

		snprintf(names[n], 64, "%s", name);
		if (mt_write(path, names[n]))
			break;
		n++;
	}
	globfree(&g);
	return n;
}

static int mt_bind(const char *drv, char names[][64], int n)
{
	char path[256];
	int ret = 0;

	snprintf(path, sizeof(path), "%s/bind", drv);
	for (int i = 0; i < n && !ret; i++)
		ret = mt_write(path, names[i]);
	return ret;
}

/* Writes @state ("stop", "start") to the APU's remote processor. */
static int mt_rproc(const char *state)
{
	glob_t g;
	int ret = -ENOENT;

	if (glob(MT_APU_DRIVER "/*/remoteproc/remoteproc*/state", 0, NULL, &g))
		return ret;
	if (g.gl_pathc == 1)
		ret = mt_write(g.gl_pathv[0], state);
	globfree(&g);
	return ret;
}

FIXTURE(mt8183) {
	int fd;
	int num_cores;
	uint32_t max_copy;	/* largest COPY one stream may hold, in bytes */
	char debugfs[256];
};

/* The fixture's type, for helpers that take it. */
#define MT8183_DATA FIXTURE_DATA(mt8183)

/* @n bytes, or fewer where a COPY of @n is more work than a stream holds. */
static uint32_t mt_size(const MT8183_DATA *self, uint32_t n)
{
	return n < self->max_copy ? n : self->max_copy;
}

/* The fixture's set-up; false when there is no MT8183 device to test. */
static bool mt_setup(struct __test_metadata *_metadata, MT8183_DATA *self)
{
	struct drm_tapu_device_info info = {};
	struct drm_tapu_limits lim = {};

	self->fd = mt_open();
	if (self->fd < 0)
		return false;
	ASSERT_EQ(0, tj_query(self->fd, DRM_TAPU_QUERY_DEVICE, &info,
			      sizeof(info)));
	self->num_cores = info.num_cores;
	/* The firmware's throughput sets it: low on a KASAN kernel. */
	ASSERT_EQ(0, tj_query(self->fd, DRM_TAPU_QUERY_LIMITS, &lim, sizeof(lim)));
	self->max_copy = lim.max_stream_work / (1 + DRM_TAPU_ELEMENT_WORK) /
			 4096 * 4096;
	ASSERT_LE(4096u, self->max_copy);
	ASSERT_EQ(0, mt_debugfs(self->debugfs, sizeof(self->debugfs)));
	ASSERT_EQ(0, mt_wait_online(self->debugfs, NULL));
	return true;
}

#define MT_NO_DEVICE	"no accel device with the mt8183 backend"

FIXTURE_SETUP(mt8183)
{
	if (!mt_setup(_metadata, self))
		SKIP(return, MT_NO_DEVICE);
}

FIXTURE_TEARDOWN(mt8183)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Jobs in parallel: correct results, and both cores did some. Each file's
 * entity picks the least busy core when it becomes idle, so the jobs come
 * from several files.
 */
TEST_F(mt8183, results_on_all_cores)
{
	struct mt_core before[MT_MAX_CORES], after[MT_MAX_CORES];
	enum { NJOBS = 16, FDS = 4 };
	struct tj_job j[NJOBS];
	int fds[FDS], n, i;

	n = mt_cores(self->debugfs, before);
	ASSERT_EQ(self->num_cores, n);
	for (i = 0; i < FDS; i++) {
		fds[i] = mt_open();
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < NJOBS; i++) {
		/* Up to 64 KiB: several segments without an IOMMU. */
		ASSERT_EQ(0, tj_job_init(fds[i % FDS], &j[i],
					 mt_size(self, 4096 << (i % 5)), 100 + i));
		ASSERT_EQ(0, tj_job_submit(&j[i]));
	}
	for (i = 0; i < NJOBS; i++) {
		EXPECT_EQ(0, tj_job_finish(&j[i], NULL)) {
			TH_LOG("job %d failed or gave wrong data", i);
		}
		tj_job_fini(&j[i]);
	}
	for (i = 0; i < FDS; i++)
		close(fds[i]);
	ASSERT_EQ(n, mt_cores(self->debugfs, after));
	for (i = 0; i < n; i++) {
		/* TH_LOG() belongs to the EXPECT: the braces are needed. */
		bool ran = before[i].completed < after[i].completed;

		EXPECT_TRUE(ran) TH_LOG("core %d ran no job", i);
	}
	EXPECT_EQ(MT_SUM(before, n, dropped), MT_SUM(after, n, dropped));
}

/*
 * The rpmsg buffers come from the APU's buffer pool, memory-region 1 (two
 * phandles in the node's property): like the M4U, the model reaches no
 * other buffer, and would have dropped the channels' messages.
 */
TEST_F(mt8183, rpmsg_buffers_in_pool)
{
	struct stat st;
	struct tj_job j;
	glob_t g;
	int ret;

	if (glob(MT_APU_DRIVER "/*/of_node/memory-region", 0, NULL, &g))
		SKIP(return, "the APU has no device-tree node");
	ret = stat(g.gl_pathv[0], &st);
	globfree(&g);
	ASSERT_EQ(0, ret);
	if (st.st_size != 8)
		SKIP(return, "the APU's node has no buffer pool");
	if (mt_model("outside_pool") < 0)
		SKIP(return, "no APU model");

	ASSERT_EQ(0, tj_job_init(self->fd, &j, mt_size(self, 4096), 3));
	ASSERT_EQ(0, tj_job_submit(&j));
	EXPECT_EQ(0, tj_job_finish(&j, NULL));
	tj_job_fini(&j);
	EXPECT_EQ(0, mt_model("outside_pool"));
}

/* The same stream again and again, as an inference loop would. */
TEST_F(mt8183, resubmit)
{
	struct tj_job j;

	ASSERT_EQ(0, tj_job_init(self->fd, &j, mt_size(self, 65536), 7));
	for (int i = 0; i < 4; i++) {
		tj_job_reset(&j, 7 + i);
		ASSERT_EQ(0, tj_job_submit(&j));
		ASSERT_EQ(0, tj_job_finish(&j, NULL));
	}
	tj_job_fini(&j);
}

/*
 * BOs of another device (the simulated NPU's), shared by PRIME: imported
 * for the DSPs, they are a job's input and output like its own BOs.
 */
TEST_F(mt8183, prime_import)
{
	uint32_t n = mt_size(self, 65536);
	struct tj_bo in = {}, out = {};
	int other, buf, h;
	struct tj_job j;

	other = mt_open_backend(false);
	if (other < 0)
		SKIP(return, "no other TAPU device to share BOs from");
	ASSERT_EQ(0, tj_bo_new(other, n, &in));
	ASSERT_EQ(0, tj_bo_new(other, n, &out));
	ASSERT_EQ(0, tj_job_init(self->fd, &j, n, 31));
	tj_fill(in.map, n, j.seed);
	memset(out.map, 0, n);

	buf = tj_prime_export(other, in.handle);
	ASSERT_LE(0, buf);
	h = tj_prime_import(self->fd, buf);
	close(buf);
	ASSERT_LT(0, h);
	j.in_h = h;
	buf = tj_prime_export(other, out.handle);
	ASSERT_LE(0, buf);
	h = tj_prime_import(self->fd, buf);
	close(buf);
	ASSERT_LT(0, h);
	j.out_h = h;

	/* Twice: the second job reuses the imports' mappings. */
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, tj_job_submit(&j));
		EXPECT_EQ(0, tj_job_finish_map(&j, out.map, TJ_WAIT_MS, NULL));
		memset(out.map, 0, n);
	}
	/* The exporter's BO is untouched where the job did not write. */
	EXPECT_EQ(0, tj_check(in.map, n, j.seed));

	tapu_gem_close(self->fd, j.in_h);
	tapu_gem_close(self->fd, j.out_h);
	tj_job_fini(&j);
	tj_bo_free(other, &in);
	tj_bo_free(other, &out);
	close(other);
}

/*
 * Jobs share their stream's device copy: one copy for many submits, and it
 * goes with the stream.
 */
TEST_F(mt8183, stream_copied_once)
{
	long long copies0, bytes0, copies, bytes;
	enum { SUBMITS = 8 };
	struct drm_tapu_wait_job w;
	uint64_t ids[SUBMITS];
	struct tj_job j;
	int64_t end;
	int i;

	ASSERT_EQ(0, mt_streams(self->debugfs, &copies0, &bytes0));
	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 40));
	ASSERT_EQ(0, mt_streams(self->debugfs, &copies, &bytes));
	EXPECT_EQ(copies0 + 1, copies);
	EXPECT_LT(bytes0, bytes);
	/* Queued together: each job holds what it was prepared with. */
	for (i = 0; i < SUBMITS; i++) {
		ASSERT_EQ(0, tj_job_submit(&j));
		ids[i] = j.id;
	}
	/* The handle goes while jobs still use the stream. */
	ASSERT_EQ(0, tapu_gem_close(self->fd, j.stream));
	j.stream = 0;
	for (i = 0; i < SUBMITS; i++) {
		ASSERT_EQ(0, tapu_wait(self->fd, ids[i], TJ_WAIT_MS, &w));
		EXPECT_EQ(0, w.error);
	}
	EXPECT_EQ(0, tj_check(j.out.map, j.n, 40));
	tj_job_fini(&j);
	/* Retired jobs drop their references asynchronously. */
	end = tapu_deadline_ms(MT_ONLINE_MS);
	do {
		ASSERT_EQ(0, mt_streams(self->debugfs, &copies, &bytes));
		if (bytes == bytes0)
			break;
		usleep(20000);
	} while (tapu_now_ns() < end);
	EXPECT_EQ(copies0 + 1, copies);
	EXPECT_EQ(bytes0, bytes);
}

/* A device error fails the job alone; nothing is recovered. */
TEST_F(mt8183, device_error)
{
	struct mt_core before[MT_MAX_CORES], after[MT_MAX_CORES];
	struct drm_tapu_wait_job w;
	struct tj_job j;
	int n;

	if (access(MT_MODEL_FAULT, W_OK))
		SKIP(return, "no APU model: no fault to arm");
	n = mt_cores(self->debugfs, before);
	ASSERT_EQ(0, tj_job_init(self->fd, &j, 4096, 3));
	ASSERT_EQ(0, mt_fault("error"));
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, tapu_wait(self->fd, j.id, TJ_WAIT_MS, &w));
	EXPECT_EQ((__u32)DRM_TAPU_JOB_FAILED, w.status);
	EXPECT_EQ(-EIO, w.error);
	tj_job_reset(&j, 4);
	ASSERT_EQ(0, tj_job_submit(&j));
	EXPECT_EQ(0, tj_job_finish(&j, NULL));
	tj_job_fini(&j);
	mt_cores(self->debugfs, after);
	EXPECT_EQ(MT_SUM(before, n, recoveries), MT_SUM(after, n, recoveries));
}

/*
 * The firmware misbehaves on one job (@fault); the job must fail with
 * @error, the backend must count @dropped dropped messages and recover
 * @recoveries times, and the next jobs must work on every core.
 */
static void mt_fault_case(struct __test_metadata *_metadata,
			  MT8183_DATA *self, const char *fault,
			  int error, int dropped, int recoveries)
{
	struct mt_core before[MT_MAX_CORES], after[MT_MAX_CORES];
	struct drm_tapu_wait_job w;
	struct tj_job j[2];
	int n, i;

	if (access(MT_MODEL_FAULT, W_OK))
		SKIP(return, "no APU model: no fault to arm");
	n = mt_cores(self->debugfs, before);
	ASSERT_EQ(self->num_cores, n);

	ASSERT_EQ(0, tj_job_init(self->fd, &j[0], 8192, 11));
	ASSERT_EQ(0, mt_fault(fault));
	ASSERT_EQ(0, tj_job_submit(&j[0]));
	ASSERT_EQ(0, tapu_wait(self->fd, j[0].id, TJ_WAIT_MS, &w));
	EXPECT_EQ((__u32)DRM_TAPU_JOB_FAILED, w.status);
	EXPECT_EQ(error, w.error) {
		TH_LOG("%s: job error %d, expected %d", fault, w.error, error);
	}
	tj_job_fini(&j[0]);

	/*
	 * The firmware comes back (the recovery runs asynchronously: wait
	 * for the channels to come back, not merely to be there); later
	 * jobs work, on every core.
	 */
	ASSERT_EQ(0, mt_wait_online(self->debugfs, recoveries ||
				    error == -EIO ? before : NULL));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, tj_job_init(self->fd, &j[i], mt_size(self, 65536),
					 20 + i));
		ASSERT_EQ(0, tj_job_submit(&j[i]));
	}
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, tj_job_finish(&j[i], NULL)) {
			TH_LOG("%s: job %d after recovery failed", fault, i);
		}
		tj_job_fini(&j[i]);
	}

	ASSERT_EQ(n, mt_cores(self->debugfs, after));
	EXPECT_EQ(MT_SUM(before, n, dropped) + dropped,
		  MT_SUM(after, n, dropped)) {
		TH_LOG("%s: dropped messages", fault);
	}
	EXPECT_EQ(MT_SUM(before, n, recoveries) + recoveries,
		  MT_SUM(after, n, recoveries)) {
		TH_LOG("%s: recoveries", fault);
	}
}

/*
 * Each fault of the APU model's firmware, a variant: the error the job gets,
 * the messages the backend drops and the recoveries of the APU.
 */
FIXTURE(mt8183_fault) {
	MT8183_DATA mt;
};

FIXTURE_VARIANT(mt8183_fault) {
	const char *fault;
	int error;
	int dropped;
	int recoveries;
};

FIXTURE_SETUP(mt8183_fault)
{
	if (!mt_setup(_metadata, &self->mt))
		SKIP(return, MT_NO_DEVICE);
}

FIXTURE_TEARDOWN(mt8183_fault)
{
	if (self->mt.fd >= 0)
		close(self->mt.fd);
}

/* A malformed completion is dropped: the job times out, the APU recovers. */
FIXTURE_VARIANT_ADD(mt8183_fault, short) { "short", -ETIMEDOUT, 1, 1 };
FIXTURE_VARIANT_ADD(mt8183_fault, bad_version) { "bad_version", -ETIMEDOUT, 1, 1 };
FIXTURE_VARIANT_ADD(mt8183_fault, bad_type) { "bad_type", -ETIMEDOUT, 1, 1 };
FIXTURE_VARIANT_ADD(mt8183_fault, bad_length) { "bad_length", -ETIMEDOUT, 1, 1 };
FIXTURE_VARIANT_ADD(mt8183_fault, bad_reserved) { "bad_reserved", -ETIMEDOUT, 1, 1 };
FIXTURE_VARIANT_ADD(mt8183_fault, bad_seq) { "bad_seq", -ETIMEDOUT, 1, 1 };
FIXTURE_VARIANT_ADD(mt8183_fault, bad_job_id) { "bad_job_id", -ETIMEDOUT, 1, 1 };
FIXTURE_VARIANT_ADD(mt8183_fault, bad_status) { "bad_status", -ETIMEDOUT, 1, 1 };

/* A hung firmware: the job times out, the APU recovers. */
FIXTURE_VARIANT_ADD(mt8183_fault, no_reply) { "no_reply", -ETIMEDOUT, 0, 1 };

/* A crashing firmware: its channels go away, failing the job. */
FIXTURE_VARIANT_ADD(mt8183_fault, crash) { "crash", -EIO, 0, 0 };

TEST_F(mt8183_fault, job)
{
	mt_fault_case(_metadata, &self->mt, variant->fault, variant->error,
		      variant->dropped, variant->recoveries);
}

/* The stream bytes held, polled until they are @want or @ms passed. */
static long long mt_stream_bytes_wait(const char *path, long long want, int ms)
{
	int64_t end = tapu_deadline_ms(ms);
	long long copies, bytes;

	do {
		if (mt_streams(path, &copies, &bytes))
			return -1;
		if (bytes == want)
			break;
		usleep(20000);
	} while (tapu_now_ns() < end);
	return bytes;
}

/*
 * Only the channels go (their driver is unbound) while the firmware runs
 * a job, whose handles are all closed: the job fails, but its BOs and its
 * stream stay with the firmware, which still runs the job and writes its
 * output, until the remote processor is stopped. The model counts the
 * pages it held the last reference of ("stale").
 */
TEST_F(mt8183, unbound_channel_keeps_buffers)
{
	long long stale, bytes0, bytes, copies;
	char names[MT_MAX_CHANNELS][64];
	struct drm_tapu_wait_job w;
	struct tj_job j;
	int n;

	if (access(MT_MODEL_FAULT, W_OK))
		SKIP(return, "no APU model: no job to hold");
	stale = mt_model("stale");
	ASSERT_LE(0, stale);
	ASSERT_EQ(0, mt_streams(self->debugfs, &copies, &bytes0));
	ASSERT_EQ(0, tj_job_init(self->fd, &j, mt_size(self, 65536), 61));
	ASSERT_EQ(0, mt_fault("hold"));
	ASSERT_EQ(0, tj_job_submit(&j));
	ASSERT_EQ(0, mt_model_wait("held", 1));
	/* Only the job holds its BOs and its stream now. */
	tj_job_fini(&j);

	n = mt_unbind(MT_CHANNELS, "virtio*", names, MT_MAX_CHANNELS);
	ASSERT_EQ(self->num_cores, n);
	ASSERT_EQ(0, tapu_wait(self->fd, j.id, TJ_WAIT_MS, &w));
	EXPECT_EQ((__u32)DRM_TAPU_JOB_FAILED, w.status);
	EXPECT_EQ(-EIO, w.error);
	/* Given time to go, the stream stays: the firmware owns the job. */
	bytes = mt_stream_bytes_wait(self->debugfs, bytes0, 1000);
	EXPECT_LT(bytes0, bytes);

	/* The firmware runs the job, on BOs that are still the job's. */
	ASSERT_EQ(0, mt_fault("release"));
	ASSERT_EQ(0, mt_model_wait("held", 0));
	ASSERT_EQ(0, mt_bind(MT_CHANNELS, names, n));
	ASSERT_EQ(0, mt_wait_online(self->debugfs, NULL));

	/* Stopped, the firmware lets them go; restarted, it runs jobs. */
	ASSERT_EQ(0, mt_rproc("stop"));
	EXPECT_EQ(bytes0, mt_stream_bytes_wait(self->debugfs, bytes0,
					       MT_ONLINE_MS));
	ASSERT_EQ(0, mt_rproc("start"));
	ASSERT_EQ(0, mt_wait_online(self->debugfs, NULL));
	for (int i = 0; i < 2; i++)
		EXPECT_EQ(0, tj_run_one(self->fd));
	EXPECT_EQ(stale, mt_model("stale"));
}

/*
 * The remote processor's driver is rebound: the TAPU device stays, its
 * cores come back on the new remote processor, which recovers them from a
 * hang.
 */
TEST_F(mt8183, rebound_remoteproc_recovers)
{
	struct mt_core before[MT_MAX_CORES];
	char names[1][64];

	if (access(MT_MODEL_FAULT, W_OK))
		SKIP(return, "no APU model: no fault to arm");
	ASSERT_EQ(self->num_cores, mt_cores(self->debugfs, before));
	ASSERT_EQ(1, mt_unbind(MT_APU_DRIVER, "*.apu", names, 1));
	ASSERT_EQ(0, mt_bind(MT_APU_DRIVER, names, 1));
	ASSERT_EQ(0, mt_wait_online(self->debugfs, before));
	mt_fault_case(_metadata, self, "no_reply", -ETIMEDOUT, 0, 1);
}

/*
 * The firmware crashes while both cores have jobs and more are queued
 * from several files: the job that crashed and the one on the other core
 * fail, so may those handed to a core while it is offline; every job
 * ends, the others give their results, the APU comes back, and no BO goes
 * while the firmware still uses it.
 */
TEST_F(mt8183, crash_under_load)
{
	struct mt_core before[MT_MAX_CORES];
	enum { FDS = 4, NJOBS = 16 };
	struct drm_tapu_wait_job w;
	struct tj_job j[NJOBS];
	int fds[FDS], failed = 0, i;
	long long stale;

	if (access(MT_MODEL_FAULT, W_OK))
		SKIP(return, "no APU model: no fault to arm");
	stale = mt_model("stale");
	ASSERT_EQ(self->num_cores, mt_cores(self->debugfs, before));
	for (i = 0; i < FDS; i++) {
		fds[i] = mt_open();
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < NJOBS; i++)
		ASSERT_EQ(0, tj_job_init(fds[i % FDS], &j[i],
					 mt_size(self, 16384), 70 + i));
	for (i = 0; i < NJOBS; i++) {
		if (i == NJOBS / 4)
			ASSERT_EQ(0, mt_fault("crash"));
		ASSERT_EQ(0, tj_job_submit(&j[i]));
	}
	for (i = 0; i < NJOBS; i++) {
		ASSERT_EQ(0, tapu_wait(j[i].fd, j[i].id, TJ_WAIT_MS, &w));
		if (w.status == DRM_TAPU_JOB_DONE && !w.error) {
			EXPECT_EQ(0, tj_check(j[i].out.map, j[i].n, j[i].seed));
		} else {
			EXPECT_EQ((__u32)DRM_TAPU_JOB_FAILED, w.status);
			EXPECT_TRUE(w.error == -EIO || w.error == -ENODEV) {
				TH_LOG("job %d: error %d", i, w.error);
			}
			failed++;
		}
		tj_job_fini(&j[i]);
	}
	EXPECT_LE(1, failed);
	ASSERT_EQ(0, mt_wait_online(self->debugfs, before));
	for (i = 0; i < FDS; i++) {
		EXPECT_EQ(0, tj_run_one(fds[i]));
		close(fds[i]);
	}
	EXPECT_EQ(stale, mt_model("stale"));
}

/* The APU device's runtime PM status: 1 active, 0 suspended, -1 unknown. */
static int mt_apu_active(void)
{
	char line[32] = "";
	glob_t g;
	FILE *f;

	if (glob(MT_APU_DRIVER "/*/power/runtime_status", 0, NULL, &g))
		return -1;
	f = g.gl_pathc == 1 ? fopen(g.gl_pathv[0], "r") : NULL;
	globfree(&g);
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return !strncmp(line, "active", 6) ? 1 :
	       !strncmp(line, "suspended", 9) ? 0 : -1;
}

static int mt_apu_active_wait(int want)
{
	int64_t end = tapu_deadline_ms(MT_ONLINE_MS);

	do {
		if (mt_apu_active() == want)
			return 0;
		usleep(20000);
	} while (tapu_now_ns() < end);
	return -ETIMEDOUT;
}

/*
 * The APU is powered (clocks, power domains) while its firmware runs:
 * suspended once the remote processor is stopped between jobs, resumed
 * when it starts again, and jobs work after.
 */
TEST_F(mt8183, runtime_pm_between_jobs)
{
	if (mt_apu_active() < 0)
		SKIP(return, "no mtk-apu device with runtime PM");
	EXPECT_EQ(1, mt_apu_active());
	ASSERT_EQ(0, tj_run_one(self->fd));
	ASSERT_EQ(0, mt_rproc("stop"));
	EXPECT_EQ(0, mt_apu_active_wait(0));
	ASSERT_EQ(0, mt_rproc("start"));
	EXPECT_EQ(1, mt_apu_active());
	ASSERT_EQ(0, mt_wait_online(self->debugfs, NULL));
	for (int i = 0; i < 2; i++)
		EXPECT_EQ(0, tj_run_one(self->fd));
}

TEST_HARNESS_MAIN
