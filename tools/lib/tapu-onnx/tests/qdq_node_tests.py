#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Wrap the float ONNX node tests in QDQ, as a post-training quantizer does.

    /usr/bin/python3 qdq_node_tests.py [SRC] OUT     (python3-onnx, numpy)

SRC: the node tests (default Debian's libonnx-testdata,
/usr/share/libonnx-testdata/data/node). Every single-node test of an
operator that appears in quantized CNNs, with float32 data, becomes
OUT/test_NAME_qdq: its activations (graph inputs) go through
QuantizeLinear/DequantizeLinear in uint8, the weights of Conv, Gemm and
MatMul become int8 per-channel initializers behind a DequantizeLinear, their
bias int32 in scale x_scale * w_scale, every other input a constant; each
output is quantized to uint8 (the graph outputs are the quantized values,
so tapu-run compares them as integers). Scales come from the ranges of the
test's own data. The expected outputs are what onnx_ref.py, the evaluator
written from the ONNX specs, computes for the wrapped graph; a test it
cannot evaluate is not written. Prints one line per test written or not.
"""
import glob
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh

sys.dont_write_bytecode = True
import onnx_ref  # noqa: E402

OPS = {'Conv', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Relu', 'Clip', 'MaxPool',
       'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Concat', 'Transpose',
       'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Pad', 'Sigmoid', 'Tanh', 'LeakyRelu',
       'HardSigmoid', 'HardSwish', 'Softmax', 'LogSoftmax', 'Resize', 'Slice', 'Split',
       'BatchNormalization', 'ReduceMean', 'Identity'}
# Float inputs that are activations; the others are constants.
ALL_ACT = {'Add', 'Sub', 'Mul', 'Div', 'Concat'}


def act_params(a):
    lo, hi = min(float(a.min()), 0.0), max(float(a.max()), 0.0)
    if hi == lo:
        return np.float32(1.0), np.uint8(0)
    s = np.float32((hi - lo) / 255)
    return s, np.uint8(np.clip(np.rint(-lo / s), 0, 255))


def weights(w, axis):
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red)
    s = np.where(amax > 0, amax / 127, 1).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    return np.clip(np.rint(w / s.reshape(shape)), -127, 127).astype(np.int8), s


def wrap(model, ins):
    """The wrapped model and its feeds, or None. QuantizeLinear needs opset
    10 (older tests move there, except Slice, whose form changed), its axis
    13 (per-tensor weights before)."""
    g = model.graph
    opset = max(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
    if opset < 10 and g.node[0].op_type == 'Slice':
        return None
    opsets = [h.make_opsetid('', max(opset, 10))]
    per_channel = opset >= 13
    node = g.node[0]
    a = onnx_ref._attrs(node)
    op = node.op_type
    feeds = {}
    nodes, init, inputs = [], [], []
    pos = {name: i for i, name in enumerate(node.input)}
    x_scale = None
    new_in = list(node.input)
    for gi, arr in zip(g.input, ins):
        name = gi.name
        i = pos.get(name)
        if i is None:
            return None
        mac = op in ('Conv', 'Gemm') or (op == 'MatMul' and arr.ndim == 2)
        if arr.dtype != np.float32:
            init.append(nh.from_array(arr, name))
        elif mac and i == 1:
            axis = 0 if op == 'Conv' or (op == 'Gemm' and a.get('transB', 0)) else 1
            q, s = weights(arr, axis) if per_channel else weights(arr.reshape(1, -1), 0)
            q = q.reshape(arr.shape)
            s = s if per_channel else s.reshape(())
            init += [nh.from_array(q, name + '_q'), nh.from_array(s, name + '_s'),
                     nh.from_array(np.zeros(s.shape, np.int8), name + '_z')]
            nodes.append(h.make_node('DequantizeLinear', [name + '_q', name + '_s', name + '_z'],
                                     [name + '_dq'], **({'axis': axis} if per_channel else {})))
            new_in[i] = name + '_dq'
            w_scale = s
        elif mac and i == 2 and arr.ndim == 1 and x_scale is not None:
            bs = (np.float64(x_scale) * w_scale.astype(np.float64)).astype(np.float32)
            if bs.shape != arr.shape and bs.size != 1:
                return None
            if not per_channel:
                bs = bs.reshape(())
            init += [nh.from_array(np.rint(arr / bs).astype(np.int32), name + '_q'),
                     nh.from_array(bs, name + '_s'),
                     nh.from_array(np.zeros(bs.shape, np.int32), name + '_z')]
            nodes.append(h.make_node('DequantizeLinear', [name + '_q', name + '_s', name + '_z'],
                                     [name + '_dq'], **({'axis': 0} if per_channel else {})))
            new_in[i] = name + '_dq'
        elif i == 0 or op in ALL_ACT or (op in ('MatMul', 'Gemm') and i < 2):
            s, z = act_params(arr)
            if i == 0:
                x_scale = s
            init += [nh.from_array(s, name + '_s'), nh.from_array(z, name + '_z')]
            nodes += [h.make_node('QuantizeLinear', [name, name + '_s', name + '_z'],
                                  [name + '_q']),
                      h.make_node('DequantizeLinear', [name + '_q', name + '_s', name + '_z'],
                                  [name + '_dq'])]
            new_in[i] = name + '_dq'
            inputs.append(h.make_tensor_value_info(name, T.FLOAT, arr.shape))
            feeds[name] = arr
        else:
            init.append(nh.from_array(arr, name))
    if not feeds:
        return None
    # The float graph's outputs give the output ranges.
    fl = h.make_model(h.make_graph(nodes + [h.make_node(op, new_in, list(node.output),
                                                        **a)],
                                   'f', inputs, [h.make_tensor_value_info(o, T.FLOAT, None)
                                                 for o in node.output], init),
                      opset_imports=opsets)
    ys = onnx_ref.run(fl, feeds)
    if any(y.dtype != np.float32 for y in ys):
        return None
    nodes.append(h.make_node(op, new_in, list(node.output), **a))
    outs = []
    for o, y in zip(node.output, ys):
        s, z = act_params(y)
        init += [nh.from_array(s, o + '_ys'), nh.from_array(z, o + '_yz')]
        nodes.append(h.make_node('QuantizeLinear', [o, o + '_ys', o + '_yz'], [o + '_q']))
        outs.append(h.make_tensor_value_info(o + '_q', T.UINT8, y.shape))
    m = h.make_model(h.make_graph(nodes, g.name + '_qdq', inputs, outs, init),
                     opset_imports=opsets)
    onnx.checker.check_model(m)
    return m, feeds


def main():
    args = sys.argv[1:]
    if not args or args[0] in ('-h', '--help'):
        print(__doc__)
        return 0 if args else 2
    src = args[0] if len(args) > 1 else '/usr/share/libonnx-testdata/data/node'
    out = args[-1]
    for d in sorted(glob.glob(os.path.join(src, 'test_*'))):
        name = os.path.basename(d)
        try:
            model = onnx.load(os.path.join(d, 'model.onnx'))
        except Exception:  # noqa: BLE001: a test the onnx package cannot read
            continue
        g = model.graph
        if len(g.node) != 1 or g.node[0].op_type not in OPS or g.node[0].domain not in ('', 'ai.onnx'):
            continue
        ins = []
        try:
            for i in range(len(g.input)):
                t = onnx.TensorProto()
                with open(os.path.join(d, 'test_data_set_0', f'input_{i}.pb'), 'rb') as f:
                    t.ParseFromString(f.read())
                ins.append(nh.to_array(t))
        except Exception:  # noqa: BLE001: sequences, optionals: not tensors
            continue
        if not any(a.dtype == np.float32 for a in ins):
            continue
        try:
            r = wrap(model, ins)
            if r is None:
                print(f'{name}: not wrapped (no float activation input or output)')
                continue
            m, feeds = r
            ys = onnx_ref.run(m, feeds)
        except (NotImplementedError, AssertionError, KeyError, ValueError, IndexError,
                TypeError, onnx.checker.ValidationError) as e:
            print(f'{name}: not wrapped ({type(e).__name__}: {str(e)[:80]})')
            continue
        t = os.path.join(out, name + '_qdq')
        data = os.path.join(t, 'test_data_set_0')
        os.makedirs(data, exist_ok=True)
        onnx.save(m, os.path.join(t, 'model.onnx'))
        for k, gi in enumerate(m.graph.input):
            with open(os.path.join(data, f'input_{k}.pb'), 'wb') as f:
                f.write(nh.from_array(feeds[gi.name], gi.name).SerializeToString())
        for k, (go, y) in enumerate(zip(m.graph.output, ys)):
            with open(os.path.join(data, f'output_{k}.pb'), 'wb') as f:
                f.write(nh.from_array(y, go.name).SerializeToString())
        print(f'{name}: wrapped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
