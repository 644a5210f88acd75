// SPDX-License-Identifier: GPL-2.0-only
/*
 * libtapu tests: devices, BOs, PRIME, streams built with the typed builder
 * and run with their outputs checked, syncobj chaining, and the errors each
 * function reports. Needs a TAPU device (skips without one).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libtapu.h"

#define WAIT_NS		(10 * 1000000000LL)	/* QEMU TCG is slow */
#define NBUF		4

struct buf {
	struct tapu_bo *bo;
	int8_t *p;
};

static int buf_new(struct tapu_device *dev, uint64_t size, struct buf *b)
{
	return tapu_bo_create(dev, size, 0, &b->bo) ?:
	       tapu_bo_map(b->bo, (void **)&b->p);
}

static void fill(int8_t *p, unsigned int n, unsigned int seed)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (int8_t)(i * 37 + seed * 11 + 5);
}

static struct drm_tapu_tensor T(uint32_t slot, uint32_t off, uint32_t n,
				uint32_t h, uint32_t w, uint32_t c)
{
	return tapu_tensor_nhwc(slot, off, n, h, w, c, 1);
}

/* Validates @sb, runs it once on @n buffers (read-write) and waits. */
static int run(struct tapu_device *dev, struct tapu_stream_builder *sb,
	       struct buf *bufs, unsigned int n, struct tapu_job_result *r)
{
	struct tapu_bo *bos[NBUF];
	struct tapu_stream *s;
	uint64_t id;
	int ret;

	for (unsigned int i = 0; i < n; i++)
		bos[i] = bufs[i].bo;
	ret = tapu_stream_create(dev, sb, &s);
	if (ret)
		return ret;
	ret = tapu_submit(dev, s, bos, NULL, n, NULL, 0, NULL,
			  DRM_TAPU_PRIO_NORMAL, &id) ?:
	      tapu_wait(dev, id, WAIT_NS, r);
	tapu_stream_destroy(s);
	return ret;
}

TEST(open_missing_path)
{
	struct tapu_device *dev = NULL;
	int ret = tapu_device_open("/dev/accel/accel-missing", &dev);

	ASSERT_EQ(-ENOENT, ret);
	ASSERT_EQ(NULL, dev);
	ASSERT_NE(NULL, strstr(tapu_strerror(ret), "no such device node"));
	ASSERT_NE(NULL, strstr(tapu_strerror(-ENODEV), "TAPU"));
	ASSERT_STREQ("success", tapu_strerror(0));
	ASSERT_NE(NULL, tapu_strerror(-4095));
}

TEST(open_not_tapu)
{
	struct tapu_device *dev;

	ASSERT_EQ(-ENODEV, tapu_device_open("/dev/null", &dev));
	ASSERT_EQ(-EINVAL, tapu_device_open(NULL, &dev));
}

TEST(index_out_of_range)
{
	struct tapu_device *dev;
	char path[64];

	ASSERT_EQ(-ENODEV, tapu_device_find(1000, path, sizeof(path)));
	ASSERT_EQ(-ENODEV, tapu_device_open_index(1000, &dev));
}

FIXTURE(dev) {
	struct tapu_device *dev;
	struct tapu_info info;
	struct tapu_stream_builder *sb;
	struct buf b[NBUF];
};

FIXTURE_SETUP(dev)
{
	int ret = tapu_device_open_index(0, &self->dev);

	if (ret == -ENODEV)
		SKIP(return, "no TAPU device");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, tapu_device_query(self->dev, &self->info));
	ASSERT_EQ(0, tapu_sb_new(&self->sb));
}

FIXTURE_TEARDOWN(dev)
{
	tapu_sb_free(self->sb);
	tapu_device_close(self->dev);	/* frees the BOs left */
}

TEST_F(dev, open_by_index_and_path)
{
	struct tapu_device *dev2;
	struct tapu_info info;
	char path[64], small[4];

	ASSERT_EQ(0, tapu_device_find(0, path, sizeof(path)));
	ASSERT_STREQ(path, tapu_device_path(self->dev));
	ASSERT_EQ(-ENAMETOOLONG, tapu_device_find(0, small, sizeof(small)));
	ASSERT_EQ(0, tapu_device_open(path, &dev2));
	ASSERT_NE(tapu_device_fd(self->dev), tapu_device_fd(dev2));
	ASSERT_EQ(0, tapu_device_query(dev2, &info));
	ASSERT_EQ(0, memcmp(&info, &self->info, sizeof(info)));
	tapu_device_close(dev2);

	ASSERT_NE(0, info.device.backend[0]);
	ASSERT_GE(info.device.num_cores, 1);
	ASSERT_EQ(DRM_TAPU_ISA_VERSION, info.isa.version);
	ASSERT_TRUE(info.isa.ops & (1ULL << DRM_TAPU_OP_CONV2D));
	for (unsigned int op = 0; op < 64; op++)
		if (info.isa.ops & (1ULL << op))
			ASSERT_NE(NULL, tapu_op_name(op));
	ASSERT_EQ(NULL, tapu_op_name(DRM_TAPU_OP_COUNT));
	ASSERT_GE(info.limits.max_bos, NBUF);
}

TEST_F(dev, bo_alloc_map_free)
{
	struct tapu_bo *bo;
	void *map, *again;

	ASSERT_EQ(0, tapu_bo_create(self->dev, 5000, 0, &bo));
	ASSERT_EQ(8192, tapu_bo_size(bo));
	ASSERT_NE(0, tapu_bo_handle(bo));
	ASSERT_EQ(0, tapu_bo_map(bo, &map));
	for (int i = 0; i < 8192; i++)
		ASSERT_EQ(0, ((uint8_t *)map)[i]);
	memset(map, 0x5a, 8192);
	ASSERT_EQ(0, tapu_bo_map(bo, &again));
	ASSERT_EQ(map, again);
	ASSERT_EQ(0, tapu_bo_wait(bo, 0));
	tapu_bo_free(bo);

	ASSERT_EQ(0, tapu_bo_create(self->dev, 1, DRM_TAPU_BO_WC, &bo));
	tapu_bo_free(bo);	/* unmapped */
	ASSERT_EQ(-EINVAL, tapu_bo_create(self->dev, 0, 0, &bo));
	ASSERT_EQ(-EINVAL, tapu_bo_create(self->dev, 4096, 0x80, &bo));
	ASSERT_EQ(-E2BIG, tapu_bo_create(self->dev,
					 self->info.limits.max_bo_size + 1, 0, &bo));
	ASSERT_EQ(-EINVAL, tapu_bo_map(NULL, &map));
}

TEST_F(dev, bo_export_import)
{
	struct tapu_bo *imp, *again, *self_imp;
	struct tapu_device *dev2;
	int fd;
	void *map;

	ASSERT_EQ(0, buf_new(self->dev, 4096, &self->b[0]));
	fill(self->b[0].p, 4096, 1);
	ASSERT_EQ(0, tapu_bo_export(self->b[0].bo, &fd));
	ASSERT_EQ(0, tapu_device_open(tapu_device_path(self->dev), &dev2));
	ASSERT_EQ(0, tapu_bo_import(dev2, fd, &imp));
	ASSERT_EQ(4096, tapu_bo_size(imp));
	ASSERT_EQ(0, tapu_bo_map(imp, &map));
	ASSERT_EQ(0, memcmp(map, self->b[0].p, 4096));
	((int8_t *)map)[7] = 99;
	ASSERT_EQ(99, self->b[0].p[7]);

	/* The same buffer again: the same BO, one reference per import. */
	ASSERT_EQ(0, tapu_bo_import(dev2, fd, &again));
	ASSERT_EQ(imp, again);
	tapu_bo_free(again);
	ASSERT_EQ(99, ((int8_t *)map)[7]);
	ASSERT_EQ(0, tapu_bo_import(self->dev, fd, &self_imp));
	ASSERT_EQ(self->b[0].bo, self_imp);
	tapu_bo_free(self_imp);
	close(fd);

	ASSERT_EQ(-EBADF, tapu_bo_import(dev2, -1, &again));
	fd = open("/dev/null", O_RDONLY);
	ASSERT_EQ(-EINVAL, tapu_bo_import(dev2, fd, &again));
	close(fd);
	tapu_bo_free(imp);
	tapu_device_close(dev2);
}

TEST_F(dev, stream_copy_relu)
{
	struct drm_tapu_tensor in = T(0, 0, 1, 4, 4, 8), tmp = T(1, 0, 1, 4, 4, 8),
			       out = T(2, 0, 1, 4, 4, 8);
	struct tapu_job_result r;

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, buf_new(self->dev, 128, &self->b[i]));
	fill(self->b[0].p, 128, 2);
	ASSERT_EQ(0, tapu_sb_copy(self->sb, &in, &tmp));
	ASSERT_EQ(0, tapu_sb_relu(self->sb, &tmp, &out, -10));
	ASSERT_EQ(0, run(self->dev, self->sb, self->b, 3, &r));
	ASSERT_EQ(DRM_TAPU_JOB_DONE, r.status);
	ASSERT_EQ(0, r.error);
	ASSERT_GT(r.cycles, 0);
	for (int i = 0; i < 128; i++) {
		int8_t v = self->b[0].p[i];

		ASSERT_EQ(v, self->b[1].p[i]);
		ASSERT_EQ(v < -10 ? -10 : v, self->b[2].p[i]);
	}
}

TEST_F(dev, stream_transpose_views)
{
	static const uint8_t perm[4] = { 0, 3, 1, 2 };	/* NHWC -> NCHW */
	struct drm_tapu_tensor in = T(0, 0, 1, 2, 3, 4), view = in,
			       out = T(1, 0, 1, 4, 2, 3), out2 = T(2, 0, 1, 4, 2, 3);

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, buf_new(self->dev, 24, &self->b[i]));
	fill(self->b[0].p, 24, 3);
	ASSERT_EQ(0, tapu_tensor_permute(&view, perm));
	ASSERT_EQ(4, view.dim[1]);
	ASSERT_EQ(1, view.stride[1]);
	ASSERT_EQ(0, tapu_sb_copy(self->sb, &view, &out));
	ASSERT_EQ(0, tapu_sb_transpose(self->sb, &in, &out2, perm));
	ASSERT_EQ(0, run(self->dev, self->sb, self->b, 3, NULL));
	for (int h = 0; h < 2; h++)
		for (int w = 0; w < 3; w++)
			for (int c = 0; c < 4; c++) {
				int8_t v = self->b[0].p[(h * 3 + w) * 4 + c];
				int o = (c * 2 + h) * 3 + w;

				ASSERT_EQ(v, self->b[1].p[o]);
				ASSERT_EQ(v, self->b[2].p[o]);
			}
}

TEST_F(dev, stream_add_broadcast)
{
	static const uint32_t shape[4] = { 1, 2, 3, 4 };
	struct tapu_eltwise_params p = {
		.a = T(0, 0, 1, 2, 3, 4), .b = T(0, 64, 1, 1, 1, 4),
		.output = T(1, 0, 1, 2, 3, 4),
		.a_mul = 1, .b_mul = 1, .act_min = -128, .act_max = 127,
	};

	ASSERT_EQ(0, buf_new(self->dev, 128, &self->b[0]));
	ASSERT_EQ(0, buf_new(self->dev, 24, &self->b[1]));
	fill(self->b[0].p, 128, 4);
	ASSERT_EQ(0, tapu_tensor_broadcast(&p.b, shape));
	ASSERT_EQ(0, p.b.stride[1]);
	ASSERT_EQ(0, tapu_sb_add(self->sb, &p));
	ASSERT_EQ(0, run(self->dev, self->sb, self->b, 2, NULL));
	for (int i = 0; i < 24; i++) {
		int v = self->b[0].p[i] + self->b[0].p[64 + i % 4];

		ASSERT_EQ(v < -128 ? -128 : v > 127 ? 127 : v, self->b[1].p[i]);
	}
}

TEST_F(dev, stream_fully_connected)
{
	struct tapu_conv_params p = {
		.input = T(0, 0, 1, 1, 2, 8), .weights = T(1, 0, 4, 1, 1, 8),
		.bias = tapu_tensor_nhwc(2, 0, 1, 1, 1, 4, 4),
		.output = T(3, 0, 1, 1, 2, 4),
		.stride = { 5, 5 },	/* ignored by FULLY_CONNECTED */
		.input_zp = 1, .weight_zp = -1, .multiplier = 1,
		.act_min = -128, .act_max = 127,
	};
	int32_t *bias;

	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, buf_new(self->dev, 64, &self->b[i]));
	bias = (int32_t *)self->b[2].p;
	for (int i = 0; i < 16; i++)
		self->b[0].p[i] = i % 5 - 2;
	for (int i = 0; i < 32; i++)
		self->b[1].p[i] = i % 3 - 1;
	for (int i = 0; i < 4; i++)
		bias[i] = i * 3 - 5;
	ASSERT_EQ(0, tapu_sb_fully_connected(self->sb, &p));
	ASSERT_EQ(0, run(self->dev, self->sb, self->b, 4, NULL));
	for (int row = 0; row < 2; row++)
		for (int co = 0; co < 4; co++) {
			int acc = bias[co];

			for (int ci = 0; ci < 8; ci++)
				acc += (self->b[0].p[row * 8 + ci] - 1) *
				       (self->b[1].p[co * 8 + ci] + 1);
			ASSERT_EQ(acc, self->b[3].p[row * 4 + co]);
		}
}

TEST_F(dev, stream_concat_pad_pool_slice)
{
	static const uint16_t before[4] = { 0, 1, 1, 0 }, after[4] = { 0, 1, 1, 0 };
	static const uint32_t start[4] = { 0, 1, 1, 0 }, win[4] = { 1, 2, 2, 4 };
	struct drm_tapu_tensor a = T(0, 0, 1, 2, 2, 3), b = T(0, 64, 1, 2, 2, 1),
			       cat = T(1, 0, 1, 2, 2, 4), pad = T(1, 64, 1, 4, 4, 4),
			       slice = pad, copy = T(1, 256, 1, 2, 2, 4);
	struct tapu_pool_params pool = {
		.input = pad, .output = T(1, 192, 1, 2, 2, 4),
		.kernel = { 2, 2 }, .stride = { 2, 2 },
		.act_min = -128, .act_max = 127,
	};
	int8_t ref[4][4][4], *out;

	ASSERT_EQ(0, buf_new(self->dev, 128, &self->b[0]));
	ASSERT_EQ(0, buf_new(self->dev, 512, &self->b[1]));
	fill(self->b[0].p, 128, 5);
	ASSERT_EQ(0, tapu_tensor_slice(&slice, start, win));
	ASSERT_EQ(64 + 16 + 4, slice.offset);
	ASSERT_EQ(0, tapu_sb_concat(self->sb, &a, &b, &cat, 3));
	ASSERT_EQ(0, tapu_sb_pad(self->sb, &cat, &pad, before, after, 7));
	ASSERT_EQ(0, tapu_sb_maxpool(self->sb, &pool));
	ASSERT_EQ(0, tapu_sb_copy(self->sb, &slice, &copy));
	ASSERT_EQ(0, run(self->dev, self->sb, self->b, 2, NULL));

	out = self->b[1].p;
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 4; x++)
			for (int c = 0; c < 4; c++) {
				int in = y && y < 3 && x && x < 3, p = (y - 1) * 2 + x - 1;

				ref[y][x][c] = !in ? 7 : c < 3 ? self->b[0].p[p * 3 + c] :
					       self->b[0].p[64 + p];
				ASSERT_EQ(ref[y][x][c], out[64 + (y * 4 + x) * 4 + c]);
				if (in) {
					ASSERT_EQ(ref[y][x][c], out[p * 4 + c]);
					ASSERT_EQ(ref[y][x][c], out[256 + p * 4 + c]);
				}
			}
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 2; x++)
			for (int c = 0; c < 4; c++) {
				int8_t m = -128;

				for (int i = 0; i < 4; i++) {
					int8_t v = ref[y * 2 + i / 2][x * 2 + i % 2][c];

					m = v > m ? v : m;
				}
				ASSERT_EQ(m, out[192 + (y * 2 + x) * 4 + c]);
			}
}

/* 100 ADDs of a broadcast 1, ping-ponging: the builder grows past a page. */
TEST_F(dev, stream_many_ops)
{
	static const uint32_t shape[4] = { 1, 1, 1, 256 };
	struct tapu_eltwise_params p = {
		.b = T(0, 256, 1, 1, 1, 1),
		.a_mul = 1, .b_mul = 1, .act_min = -128, .act_max = 127,
	};
	const int nops = 100;
	unsigned int num_ops;
	size_t size;

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, buf_new(self->dev, 512, &self->b[i]));
	for (int i = 0; i < 256; i++)
		self->b[0].p[i] = -128 + i % 156;
	self->b[0].p[256] = 1;
	ASSERT_EQ(0, tapu_tensor_broadcast(&p.b, shape));
	for (int k = 0; k < nops; k++) {
		p.a = T(k ? 1 + (k + 1) % 2 : 0, 0, 1, 1, 1, 256);
		p.output = T(1 + k % 2, 0, 1, 1, 1, 256);
		ASSERT_EQ(0, tapu_sb_add(self->sb, &p));
	}
	ASSERT_NE(NULL, tapu_sb_data(self->sb, &size, &num_ops));
	ASSERT_EQ(nops, num_ops);
	ASSERT_EQ(nops * sizeof(struct drm_tapu_op_eltwise), size);
	ASSERT_EQ(0, run(self->dev, self->sb, self->b, 3, NULL));
	for (int i = 0; i < 256; i++)
		ASSERT_EQ(self->b[0].p[i] + nops, self->b[1 + (nops - 1) % 2].p[i]);
}

/*
 * Five ADDs of a broadcast 1, each of 0.4 times the work one kernel stream
 * may hold: the device rejects the whole stream in one piece, so libtapu
 * splits it; the job of the last part gives the result of all.
 */
TEST_F(dev, stream_split_by_work)
{
	uint64_t max = self->info.limits.max_stream_work;
	uint32_t n = max * 2 / 5 / (1 + DRM_TAPU_ELEMENT_WORK), shape[4];
	struct tapu_eltwise_params p = {
		.a_mul = 1, .b_mul = 1, .act_min = -128, .act_max = 127,
	};
	struct drm_tapu_cmdstream_create c = { 0 };
	struct tapu_job_result r;
	const int nops = 5;
	size_t size;

	ASSERT_LT(0, max);
	ASSERT_LT(255, n);
	n &= ~255u;
	shape[0] = shape[2] = 1, shape[1] = n / 256, shape[3] = 256;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, buf_new(self->dev, n + 4096, &self->b[i]));
	fill(self->b[0].p, n, 3);
	for (int i = 0; i < n; i++)
		self->b[0].p[i] &= 0x3f;	/* +5 must not saturate */
	self->b[0].p[n] = 1;
	p.b = T(0, n, 1, 1, 1, 1);
	ASSERT_EQ(0, tapu_tensor_broadcast(&p.b, shape));
	for (int k = 0; k < nops; k++) {
		p.a = T(k ? 1 + (k + 1) % 2 : 0, 0, 1, n / 256, 1, 256);
		p.output = T(1 + k % 2, 0, 1, n / 256, 1, 256);
		ASSERT_EQ(0, tapu_sb_add(self->sb, &p));
	}
	c.data = (uintptr_t)tapu_sb_data(self->sb, &size, NULL);
	c.size = size;
	EXPECT_EQ(-1, ioctl(tapu_device_fd(self->dev),
			    DRM_IOCTL_TAPU_CMDSTREAM_CREATE, &c));
	EXPECT_EQ(E2BIG, errno);
	ASSERT_EQ(0, run(self->dev, self->sb, self->b, 3, &r));
	EXPECT_EQ(DRM_TAPU_JOB_DONE, r.status);
	for (uint32_t i = 0; i < n; i++)
		ASSERT_EQ(self->b[0].p[i] + nops, self->b[1 + (nops - 1) % 2].p[i]);
}

/* A -> B signals S; B -> C waits for S, signals timeline T point 3. */
TEST_F(dev, syncobj_chain)
{
	struct drm_tapu_tensor src = T(0, 0, 1, 1, 1, 64), dst = T(1, 0, 1, 1, 1, 64);
	struct drm_tapu_sync s = { 0 }, t = { .point = 3 }, u = { 0 };
	struct tapu_bo *ab[2], *bc[2];
	struct tapu_stream *stream;
	uint64_t id1, id2, id3;
	uint32_t imported;
	int fd;

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, buf_new(self->dev, 64, &self->b[i]));
	fill(self->b[0].p, 64, 6);
	ab[0] = self->b[0].bo, ab[1] = bc[0] = self->b[1].bo, bc[1] = self->b[2].bo;
	ASSERT_EQ(0, tapu_sb_copy(self->sb, &src, &dst));
	ASSERT_EQ(0, tapu_stream_create(self->dev, self->sb, &stream));
	ASSERT_EQ(2, tapu_stream_num_slots(stream));
	ASSERT_EQ(0, tapu_syncobj_create(self->dev, 0, &s.handle));
	ASSERT_EQ(0, tapu_syncobj_create(self->dev, 0, &t.handle));
	ASSERT_EQ(0, tapu_syncobj_create(self->dev, 0, &u.handle));
	ASSERT_EQ(-ETIME, tapu_syncobj_wait(self->dev, s.handle, 0, 1000000));

	ASSERT_EQ(0, tapu_submit(self->dev, stream, ab, NULL, 2, NULL, 0, &s,
				 DRM_TAPU_PRIO_LOW, &id1));
	ASSERT_EQ(0, tapu_submit(self->dev, stream, bc, NULL, 2, &s, 1, &t,
				 DRM_TAPU_PRIO_NORMAL, &id2));
	ASSERT_NE(id1, id2);
	ASSERT_EQ(0, tapu_syncobj_wait(self->dev, t.handle, 3, WAIT_NS));
	ASSERT_EQ(0, tapu_syncobj_wait(self->dev, s.handle, 0, 0));
	ASSERT_EQ(0, tapu_wait(self->dev, id1, 0, NULL));
	ASSERT_EQ(0, tapu_wait(self->dev, id2, 0, NULL));
	ASSERT_EQ(0, memcmp(self->b[0].p, self->b[2].p, 64));

	/* A CPU-signalled in-sync, and T shared through an fd. */
	ASSERT_EQ(0, tapu_syncobj_signal(self->dev, u.handle, 0));
	ASSERT_EQ(0, tapu_submit(self->dev, stream, ab, NULL, 2, &u, 1, NULL,
				 DRM_TAPU_PRIO_NORMAL, &id3));
	ASSERT_EQ(0, tapu_wait(self->dev, id3, WAIT_NS, NULL));
	ASSERT_EQ(0, tapu_syncobj_export(self->dev, t.handle, &fd));
	ASSERT_EQ(0, tapu_syncobj_import(self->dev, fd, &imported));
	close(fd);
	ASSERT_EQ(0, tapu_syncobj_wait(self->dev, imported, 3, 0));
	ASSERT_EQ(0, tapu_syncobj_signal(self->dev, imported, 4));
	ASSERT_EQ(0, tapu_syncobj_wait(self->dev, t.handle, 4, 0));

	tapu_stream_destroy(stream);
	ASSERT_EQ(0, tapu_syncobj_destroy(self->dev, imported));
	ASSERT_EQ(0, tapu_syncobj_destroy(self->dev, s.handle));
	ASSERT_EQ(0, tapu_syncobj_destroy(self->dev, t.handle));
	ASSERT_EQ(0, tapu_syncobj_destroy(self->dev, u.handle));
}

TEST_F(dev, wait_twice)
{
	struct drm_tapu_tensor src = T(0, 0, 1, 1, 1, 64), dst = T(1, 0, 1, 1, 1, 64);
	struct tapu_job_result r1, r2;
	struct tapu_stream *stream;
	struct tapu_bo *bos[2];
	uint64_t id;

	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, buf_new(self->dev, 64, &self->b[i]));
		bos[i] = self->b[i].bo;
	}
	ASSERT_EQ(0, tapu_sb_copy(self->sb, &src, &dst));
	ASSERT_EQ(0, tapu_stream_create(self->dev, self->sb, &stream));
	ASSERT_EQ(0, tapu_submit(self->dev, stream, bos, NULL, 2, NULL, 0, NULL,
				 DRM_TAPU_PRIO_NORMAL, &id));
	tapu_stream_destroy(stream);	/* the job keeps it */
	ASSERT_EQ(0, tapu_bo_wait(bos[1], WAIT_NS));
	ASSERT_EQ(0, tapu_wait(self->dev, id, WAIT_NS, &r1));
	ASSERT_EQ(0, tapu_wait(self->dev, id, 0, &r2));
	ASSERT_EQ(DRM_TAPU_JOB_DONE, r1.status);
	ASSERT_EQ(0, memcmp(&r1, &r2, sizeof(r1)));
}

TEST_F(dev, wait_unknown_id)
{
	struct tapu_job_result r;
	int ret = tapu_wait(self->dev, 1ULL << 40, WAIT_NS, &r);

	ASSERT_EQ(-EINVAL, ret);
	ASSERT_EQ(-EINVAL, tapu_wait(NULL, 1, 0, &r));
}

TEST_F(dev, bad_handles)
{
	struct drm_tapu_tensor t = T(0, 0, 1, 1, 1, 64);
	struct drm_tapu_sync bogus = { .handle = 0xdead };
	struct tapu_stream *stream;
	struct tapu_bo *bo;
	uint64_t id;

	ASSERT_EQ(-EINVAL, tapu_syncobj_destroy(self->dev, 0xdead));	/* DRM core */
	ASSERT_EQ(-ENOENT, tapu_syncobj_signal(self->dev, 0xdead, 0));
	ASSERT_EQ(-ENOENT, tapu_syncobj_wait(self->dev, 0xdead, 0, 0));
	ASSERT_EQ(0, buf_new(self->dev, 64, &self->b[0]));
	bo = self->b[0].bo;
	ASSERT_EQ(0, tapu_sb_relu(self->sb, &t, &t, 0));
	ASSERT_EQ(0, tapu_stream_create(self->dev, self->sb, &stream));
	ASSERT_EQ(-ENOENT, tapu_submit(self->dev, stream, &bo, NULL, 1, &bogus, 1,
				       NULL, DRM_TAPU_PRIO_NORMAL, &id));
	ASSERT_EQ(-ENOENT, tapu_submit(self->dev, stream, &bo, NULL, 1, NULL, 0,
				       &bogus, DRM_TAPU_PRIO_NORMAL, &id));
	tapu_stream_destroy(stream);
}

TEST_F(dev, submit_errors)
{
	static const uint32_t read_only[2] = { DRM_TAPU_BO_READ, DRM_TAPU_BO_READ };
	struct drm_tapu_tensor src = T(0, 0, 1, 1, 1, 64), dst = T(1, 8192, 1, 1, 1, 64);
	struct tapu_stream *stream;
	struct tapu_bo *bos[2];
	uint64_t id;

	ASSERT_EQ(0, buf_new(self->dev, 64, &self->b[0]));
	ASSERT_EQ(0, buf_new(self->dev, 16384, &self->b[1]));
	bos[0] = self->b[0].bo;
	bos[1] = self->b[1].bo;
	ASSERT_EQ(0, tapu_sb_copy(self->sb, &src, &dst));
	ASSERT_EQ(0, tapu_stream_create(self->dev, self->sb, &stream));
	ASSERT_EQ(-EACCES, tapu_submit(self->dev, stream, bos, read_only, 2, NULL,
				       0, NULL, DRM_TAPU_PRIO_NORMAL, &id));
	ASSERT_EQ(-EINVAL, tapu_submit(self->dev, stream, bos, NULL, 1, NULL, 0,
				       NULL, DRM_TAPU_PRIO_NORMAL, &id));
	bos[1] = self->b[0].bo;		/* too small, and a duplicate */
	ASSERT_EQ(-EINVAL, tapu_submit(self->dev, stream, bos, NULL, 2, NULL, 0,
				       NULL, DRM_TAPU_PRIO_NORMAL, &id));
	ASSERT_EQ(-EINVAL, tapu_submit(self->dev, stream, bos, NULL, 2, NULL, 0,
				       NULL, DRM_TAPU_PRIO_NORMAL, NULL));
	tapu_stream_destroy(stream);
}

/* The builder encodes what it is given; the kernel's validator says no. */
TEST_F(dev, kernel_rejects_invalid_params)
{
	static const uint8_t not_perm[4] = { 0, 0, 1, 2 };
	struct drm_tapu_tensor a = T(0, 0, 1, 2, 3, 4), b = T(1, 0, 1, 2, 3, 4);
	struct tapu_eltwise_params add = {
		.a = a, .b = a, .output = b, .a_mul = 1, .b_mul = 1,
		.shift = 63, .act_min = -128, .act_max = 127,
	};
	struct tapu_pool_params pool = { .input = a, .output = b };
	struct tapu_stream *stream;
	int ret;

	ASSERT_EQ(0, tapu_sb_clamp(self->sb, &a, &b, 10, 5));
	ret = tapu_stream_create(self->dev, self->sb, &stream);
	ASSERT_EQ(-EINVAL, ret);
	ASSERT_NE(NULL, strstr(tapu_strerror(ret), "validator"));

	tapu_sb_reset(self->sb);
	ASSERT_EQ(0, tapu_sb_add(self->sb, &add));
	ASSERT_EQ(-EINVAL, tapu_stream_create(self->dev, self->sb, &stream));

	tapu_sb_reset(self->sb);
	ASSERT_EQ(0, tapu_sb_transpose(self->sb, &a, &b, not_perm));
	ASSERT_EQ(-EINVAL, tapu_stream_create(self->dev, self->sb, &stream));

	tapu_sb_reset(self->sb);
	ASSERT_EQ(0, tapu_sb_maxpool(self->sb, &pool));	/* kernel 0x0 */
	ASSERT_EQ(-EINVAL, tapu_stream_create(self->dev, self->sb, &stream));
}

TEST_F(dev, builder_misuse)
{
	static const uint8_t dup[4] = { 0, 1, 1, 3 };
	static const uint32_t bad_shape[4] = { 1, 2, 3, 5 }, zero[4] = { 0 };
	static const uint32_t big[4] = { 1, 3, 3, 4 };
	struct drm_tapu_tensor t = T(0, 0, 1, 2, 3, 4), saved = t;
	struct tapu_stream *stream;
	size_t size;

	ASSERT_EQ(-EINVAL, tapu_sb_new(NULL));
	ASSERT_EQ(-EINVAL, tapu_sb_nop(NULL));
	ASSERT_EQ(-EINVAL, tapu_sb_conv2d(NULL, NULL));

	/* A bad op sticks: later ops and stream creation return its error. */
	ASSERT_EQ(0, tapu_sb_nop(self->sb));
	ASSERT_EQ(0, tapu_sb_error(self->sb));
	ASSERT_EQ(-EINVAL, tapu_sb_error(NULL));
	ASSERT_EQ(-EINVAL, tapu_sb_copy(self->sb, NULL, &t));
	ASSERT_EQ(-EINVAL, tapu_sb_error(self->sb));
	ASSERT_EQ(-EINVAL, tapu_sb_nop(self->sb));
	ASSERT_EQ(-EINVAL, tapu_sb_conv2d(self->sb, NULL));
	ASSERT_EQ(-EINVAL, tapu_sb_transpose(self->sb, &t, &t, NULL));
	ASSERT_EQ(-EINVAL, tapu_stream_create(self->dev, self->sb, &stream));
	tapu_sb_reset(self->sb);
	ASSERT_EQ(0, tapu_sb_error(self->sb));
	tapu_sb_data(self->sb, &size, NULL);
	ASSERT_EQ(0, size);
	ASSERT_EQ(-ENODATA, tapu_stream_create(self->dev, self->sb, &stream));
	ASSERT_EQ(0, tapu_sb_nop(self->sb));
	ASSERT_EQ(0, tapu_stream_create(self->dev, self->sb, &stream));
	ASSERT_EQ(0, tapu_stream_num_slots(stream));
	tapu_stream_destroy(stream);

	/* View helpers refuse and leave the tensor alone. */
	ASSERT_EQ(-EINVAL, tapu_tensor_permute(&t, dup));
	ASSERT_EQ(-EINVAL, tapu_tensor_broadcast(&t, bad_shape));
	ASSERT_EQ(-EINVAL, tapu_tensor_slice(&t, zero, big));
	ASSERT_EQ(-EINVAL, tapu_tensor_slice(&t, zero, zero));
	ASSERT_EQ(0, memcmp(&t, &saved, sizeof(t)));
}

TEST_HARNESS_MAIN
