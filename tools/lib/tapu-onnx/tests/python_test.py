#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Tests of the Python bindings (python/tapu_onnx.py) on the host, on the
CPU provider: every model of models/ against the outputs of onnx_ref.py
(exact: equal; requant and fallback: within 1), the NodeArg lists, and
the errors. TAP output; exit 1 on a failure.

    TAPU_ONNX_LIBRARY=.../libtapu-onnx.so.0 python_test.py [TESTS_DIR]
"""
import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'python'))
import tapu_onnx  # noqa: E402

results = []


def result(ok, desc):
    results.append(ok)
    print(f'{"ok" if ok else "not ok"} {len(results)} - {desc}')


def pb(path):
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else HERE
    print('TAP version 13')
    for cls, tol in (('exact', 0), ('requant', 1), ('fallback', 1)):
        for d in sorted(glob.glob(os.path.join(top, 'models', cls, 'test_*'))):
            name = f'{cls}/{os.path.basename(d)}'
            try:
                s = tapu_onnx.InferenceSession(os.path.join(d, 'model.onnx'),
                                               providers=['CPUExecutionProvider'])
                feed = {i.name: pb(os.path.join(d, 'test_data_set_0', f'input_{k}.pb'))
                        for k, i in enumerate(s.get_inputs())}
                ys = s.run(None, feed)
                exp = [pb(os.path.join(d, 'test_data_set_0', f'output_{k}.pb'))
                       for k in range(len(ys))]
                diff = max(int(np.abs(y.astype(np.int64) - e.astype(np.int64)).max())
                           for y, e in zip(ys, exp))
                same = all(y.shape == e.shape and y.dtype == e.dtype for y, e in zip(ys, exp))
                result(same and diff <= tol, f'{name}: InferenceSession.run on the CPU, '
                       f'outputs within {tol} of onnx_ref.py (largest difference {diff})')
            except tapu_onnx.TapuOnnxError as e:
                result(False, f'{name}: {e}')

    m = os.path.join(top, 'models', 'requant', 'test_conv_qdq_u8', 'model.onnx')
    s = tapu_onnx.InferenceSession(m, providers=['CPUExecutionProvider'])
    x, = s.get_inputs()
    result(x.name == 'x' and x.shape == [2, 4, 9, 9] and x.type == 'tensor(float)' and
           s.get_outputs()[0].type == 'tensor(uint8)' and
           s.get_providers() == ['CPUExecutionProvider'],
           f'get_inputs/get_outputs/get_providers: {x!r}')
    try:
        s.run(None, {'nope': np.zeros((2, 4, 9, 9), np.float32)})
        result(False, 'an unknown input name raises')
    except tapu_onnx.TapuOnnxError as e:
        result(e.errno > 0 and 'nope' in str(e), f'an unknown input name raises: {e}')
    try:
        s.run(None, {'x': np.zeros((2, 4, 9), np.float32)})
        result(False, 'a wrong input shape raises')
    except tapu_onnx.TapuOnnxError as e:
        result(e.errno > 0, f'a wrong input shape raises: {e}')
    try:
        s.run(None, {'x': np.zeros((2, 4, 9, 9), np.float16)})
        result(False, 'an unsupported dtype raises')
    except TypeError as e:
        result(True, f'an unsupported dtype raises TypeError: {e}')
    try:
        tapu_onnx.InferenceSession(os.path.join(top, 'none.onnx'))
        result(False, 'a missing model raises')
    except tapu_onnx.TapuOnnxError as e:
        result(e.errno == 2, f'a missing model raises ENOENT: {e}')
    s.close()
    print(f'1..{len(results)}')
    print(f'# {sum(results)} passed, {len(results) - sum(results)} failed')
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
