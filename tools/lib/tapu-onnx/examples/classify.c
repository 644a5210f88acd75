// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* classify MODEL.onnx INPUT.pb: the top class of a model's first output. */
#include <stdio.h>
#include <stdlib.h>
#include <tapu-onnx.h>

int main(int argc, char **argv)
{
	struct tapu_onnx_error err = { .message = "no TAPU device" };
	struct tapu_onnx_tensor_info in, out;
	struct tapu_onnx_session *s;
	struct tapu_onnx_tensor *x;
	struct tapu_onnx_model *m;
	struct tapu_device *dev;
	float y[4096];
	int best = 0;

	if (argc != 3)
		return fprintf(stderr, "usage: classify MODEL.onnx INPUT.pb\n"), 2;
	if (tapu_device_open_index(0, &dev) || tapu_onnx_model_load(argv[1], &m, &err) ||
	    tapu_onnx_tensor_load(argv[2], &x, &err) || tapu_onnx_session_create(m, dev, &s, &err) ||
	    tapu_onnx_model_input(m, 0, &in) || tapu_onnx_model_output(m, 0, &out) ||
	    tapu_onnx_set_input(s, in.name, x->info.type, x->info.rank, x->info.dims, x->data, &err) ||
	    tapu_onnx_run(s, &err) || tapu_onnx_get_output(s, out.name, &out, y, sizeof(y), &err))
		return fprintf(stderr, "classify: %s\n", err.message), 1;
	for (int c = 1; c < out.dims[out.rank - 1]; c++)
		best = y[c] > y[best] ? c : best;
	printf("class %d (score %g)\n", best, y[best]);
	tapu_onnx_session_free(s), tapu_onnx_tensor_free(x), tapu_onnx_model_free(m);
	tapu_device_close(dev);
	return 0;
}
