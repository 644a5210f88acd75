// SPDX-License-Identifier: GPL-2.0-only
/*
 * Print the size and member offsets of every TAPU uAPI structure.
 *
 * run-qemu.sh builds this with -m32 and -m64 and diffs the two outputs: a
 * 32-bit process must see the same layout as the 64-bit kernel. The member
 * list is written by hand, so the program also checks that the listed members
 * tile each structure exactly (no hole, no overlap, nothing after the last
 * member): a member added to the header but not here, or implicit padding,
 * fails the check. run-qemu.sh also checks that every struct of the header is
 * listed here.
 */
#include <stddef.h>
#include <stdio.h>

#include <drm/tapu_accel.h>

static const char *cur_name;
static size_t cur_size, cur_end;
static int errors;

static void end_struct(void)
{
	if (cur_name && cur_end != cur_size) {
		printf("ERROR struct %s: bytes %zu..%zu not covered by a listed member\n",
		       cur_name, cur_end, cur_size);
		errors++;
	}
}

static void begin_struct(const char *name, size_t size)
{
	end_struct();
	cur_name = name;
	cur_size = size;
	cur_end = 0;
	printf("struct %s size %zu\n", name, size);
}

static void member(const char *name, size_t off, size_t size)
{
	printf("  %s.%s offset %zu size %zu\n", cur_name, name, off, size);
	if (off != cur_end) {
		printf("ERROR struct %s: %s at %zu, previous member ends at %zu\n",
		       cur_name, name, off, cur_end);
		errors++;
	}
	cur_end = off + size;
}

#define S(t)	begin_struct(#t, sizeof(struct t))
#define M(t, m)	member(#m, offsetof(struct t, m), sizeof(((struct t *)0)->m))
/* ioctl numbers encode the argument size: print them too */
#define IOC(n)	printf("ioctl %s 0x%08lx\n", #n, (unsigned long)(n))

int main(void)
{
	S(drm_tapu_query);
	M(drm_tapu_query, type);
	M(drm_tapu_query, size);
	M(drm_tapu_query, data);
	M(drm_tapu_query, flags);
	M(drm_tapu_query, pad);

	S(drm_tapu_device_info);
	M(drm_tapu_device_info, backend);
	M(drm_tapu_device_info, num_cores);
	M(drm_tapu_device_info, pad);
	M(drm_tapu_device_info, cycle_clock_hz);

	S(drm_tapu_isa_info);
	M(drm_tapu_isa_info, version);
	M(drm_tapu_isa_info, max_dim);
	M(drm_tapu_isa_info, ops);

	S(drm_tapu_limits);
	M(drm_tapu_limits, max_bo_size);
	M(drm_tapu_limits, max_cmdstream_size);
	M(drm_tapu_limits, max_bos);
	M(drm_tapu_limits, max_in_syncs);
	M(drm_tapu_limits, max_jobs_in_flight);
	M(drm_tapu_limits, job_timeout_ms);
	M(drm_tapu_limits, results_kept);
	M(drm_tapu_limits, max_stream_work);

	S(drm_tapu_bo_create);
	M(drm_tapu_bo_create, size);
	M(drm_tapu_bo_create, flags);
	M(drm_tapu_bo_create, handle);
	M(drm_tapu_bo_create, offset);

	S(drm_tapu_bo_info);
	M(drm_tapu_bo_info, handle);
	M(drm_tapu_bo_info, pad);
	M(drm_tapu_bo_info, size);
	M(drm_tapu_bo_info, offset);

	S(drm_tapu_bo_wait);
	M(drm_tapu_bo_wait, handle);
	M(drm_tapu_bo_wait, pad);
	M(drm_tapu_bo_wait, timeout_ns);

	S(drm_tapu_cmdstream_create);
	M(drm_tapu_cmdstream_create, data);
	M(drm_tapu_cmdstream_create, size);
	M(drm_tapu_cmdstream_create, flags);
	M(drm_tapu_cmdstream_create, handle);
	M(drm_tapu_cmdstream_create, num_slots);

	S(drm_tapu_submit_bo);
	M(drm_tapu_submit_bo, handle);
	M(drm_tapu_submit_bo, flags);

	S(drm_tapu_sync);
	M(drm_tapu_sync, handle);
	M(drm_tapu_sync, pad);
	M(drm_tapu_sync, point);

	S(drm_tapu_submit);
	M(drm_tapu_submit, cmdstream);
	M(drm_tapu_submit, bo_count);
	M(drm_tapu_submit, bos);
	M(drm_tapu_submit, in_syncs);
	M(drm_tapu_submit, in_sync_count);
	M(drm_tapu_submit, out_sync);
	M(drm_tapu_submit, out_sync_point);
	M(drm_tapu_submit, flags);
	M(drm_tapu_submit, priority);
	M(drm_tapu_submit, job_id);

	S(drm_tapu_wait_job);
	M(drm_tapu_wait_job, job_id);
	M(drm_tapu_wait_job, timeout_ns);
	M(drm_tapu_wait_job, status);
	M(drm_tapu_wait_job, error);
	M(drm_tapu_wait_job, cycles);
	M(drm_tapu_wait_job, duration_ns);

	S(drm_tapu_op_hdr);
	M(drm_tapu_op_hdr, opcode);
	M(drm_tapu_op_hdr, size);
	M(drm_tapu_op_hdr, flags);

	S(drm_tapu_tensor);
	M(drm_tapu_tensor, slot);
	M(drm_tapu_tensor, offset);
	M(drm_tapu_tensor, dim);
	M(drm_tapu_tensor, stride);

	S(drm_tapu_op_conv);
	M(drm_tapu_op_conv, hdr);
	M(drm_tapu_op_conv, input);
	M(drm_tapu_op_conv, weights);
	M(drm_tapu_op_conv, bias);
	M(drm_tapu_op_conv, quant);
	M(drm_tapu_op_conv, output);
	M(drm_tapu_op_conv, stride);
	M(drm_tapu_op_conv, dilation);
	M(drm_tapu_op_conv, pad);
	M(drm_tapu_op_conv, input_zp);
	M(drm_tapu_op_conv, weight_zp);
	M(drm_tapu_op_conv, output_zp);
	M(drm_tapu_op_conv, multiplier);
	M(drm_tapu_op_conv, shift);
	M(drm_tapu_op_conv, act_min);
	M(drm_tapu_op_conv, act_max);
	M(drm_tapu_op_conv, reserved);

	S(drm_tapu_op_eltwise);
	M(drm_tapu_op_eltwise, hdr);
	M(drm_tapu_op_eltwise, a);
	M(drm_tapu_op_eltwise, b);
	M(drm_tapu_op_eltwise, output);
	M(drm_tapu_op_eltwise, a_zp);
	M(drm_tapu_op_eltwise, b_zp);
	M(drm_tapu_op_eltwise, output_zp);
	M(drm_tapu_op_eltwise, a_mul);
	M(drm_tapu_op_eltwise, b_mul);
	M(drm_tapu_op_eltwise, shift);
	M(drm_tapu_op_eltwise, act_min);
	M(drm_tapu_op_eltwise, act_max);

	S(drm_tapu_op_pool);
	M(drm_tapu_op_pool, hdr);
	M(drm_tapu_op_pool, input);
	M(drm_tapu_op_pool, output);
	M(drm_tapu_op_pool, kernel);
	M(drm_tapu_op_pool, stride);
	M(drm_tapu_op_pool, pad);
	M(drm_tapu_op_pool, act_min);
	M(drm_tapu_op_pool, act_max);

	S(drm_tapu_op_act);
	M(drm_tapu_op_act, hdr);
	M(drm_tapu_op_act, input);
	M(drm_tapu_op_act, output);
	M(drm_tapu_op_act, min);
	M(drm_tapu_op_act, max);

	S(drm_tapu_op_lut);
	M(drm_tapu_op_lut, hdr);
	M(drm_tapu_op_lut, input);
	M(drm_tapu_op_lut, output);
	M(drm_tapu_op_lut, table);

	S(drm_tapu_op_rs);
	M(drm_tapu_op_rs, hdr);
	M(drm_tapu_op_rs, input);
	M(drm_tapu_op_rs, output);
	M(drm_tapu_op_rs, perm);
	M(drm_tapu_op_rs, reserved);

	S(drm_tapu_op_concat);
	M(drm_tapu_op_concat, hdr);
	M(drm_tapu_op_concat, a);
	M(drm_tapu_op_concat, b);
	M(drm_tapu_op_concat, output);
	M(drm_tapu_op_concat, axis);
	M(drm_tapu_op_concat, reserved);

	S(drm_tapu_op_pad);
	M(drm_tapu_op_pad, hdr);
	M(drm_tapu_op_pad, input);
	M(drm_tapu_op_pad, output);
	M(drm_tapu_op_pad, before);
	M(drm_tapu_op_pad, after);
	M(drm_tapu_op_pad, value);
	M(drm_tapu_op_pad, reserved);

	end_struct();

	IOC(DRM_IOCTL_TAPU_QUERY);
	IOC(DRM_IOCTL_TAPU_BO_CREATE);
	IOC(DRM_IOCTL_TAPU_BO_INFO);
	IOC(DRM_IOCTL_TAPU_BO_WAIT);
	IOC(DRM_IOCTL_TAPU_CMDSTREAM_CREATE);
	IOC(DRM_IOCTL_TAPU_SUBMIT);
	IOC(DRM_IOCTL_TAPU_WAIT_JOB);

	return errors ? 1 : 0;
}
