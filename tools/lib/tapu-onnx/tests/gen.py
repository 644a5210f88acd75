#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the small QDQ/QOperator ONNX models of tapu-run's tests.

    /usr/bin/python3 tools/lib/tapu-onnx/tests/gen.py   (python3-onnx, numpy)

Each case is models/CLASS/test_NAME/model.onnx with test_data_set_0/
input_*.pb, random data (fixed seed), and output_0.pb, what onnx_ref.py, an
evaluator written from the ONNX specifications, computes: the layout of the
ONNX node tests. run.sh runs them on the device with --check (bit-exact
against tapu-run's CPU reference too), the outputs of models/exact equal to
the expected ones, those of models/requant within 1 (one requantization by
an integer multiplier and shift, where ONNX rounds a float product), and
checks the error paths with the broken_* ones (NAME/model.onnx,
NAME/input_0.pb).
"""
import glob
import os
import shutil
import sys
import numpy as np
from onnx import TensorProto as T, helper as h, numpy_helper as nh, save

sys.dont_write_bytecode = True  # nothing to clean up in the source tree
import onnx_ref  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
U8, I8 = T.UINT8, T.INT8


def qdq(nodes, init, x, s, z, dt, name):
    """QuantizeLinear + DequantizeLinear of x with scale s, zero point z."""
    init += [nh.from_array(np.float32(s), f'{name}_s'),
             nh.from_array(np.array(z, np.uint8 if dt == U8 else np.int8), f'{name}_z')]
    nodes += [h.make_node('QuantizeLinear', [x, f'{name}_s', f'{name}_z'], [f'{name}_q']),
              h.make_node('DequantizeLinear', [f'{name}_q', f'{name}_s', f'{name}_z'],
                          [f'{name}_dq'])]
    return f'{name}_dq'


def wdq(nodes, init, w, s, name, axis=0, bias=None):
    """Constant int8 weights (per-channel s) behind a DequantizeLinear."""
    init += [nh.from_array(w.astype(np.int8), f'{name}_w'),
             nh.from_array(np.asarray(s, np.float32), f'{name}_ws'),
             nh.from_array(np.zeros(np.shape(s), np.int8), f'{name}_wz')]
    nodes.append(h.make_node('DequantizeLinear', [f'{name}_w', f'{name}_ws', f'{name}_wz'],
                             [f'{name}_wdq'], axis=axis))
    return f'{name}_wdq'


def bdq(nodes, init, b, s, name):
    init += [nh.from_array(b.astype(np.int32), f'{name}_b'),
             nh.from_array(np.asarray(s, np.float32), f'{name}_bs'),
             nh.from_array(np.zeros(np.shape(s), np.int32), f'{name}_bz')]
    nodes.append(h.make_node('DequantizeLinear', [f'{name}_b', f'{name}_bs', f'{name}_bz'],
                             [f'{name}_bdq'], axis=0))
    return f'{name}_bdq'


def _pb(path, array, name):
    with open(path, 'wb') as f:
        f.write(nh.from_array(array, name).SerializeToString())


def write(name, nodes, init, inputs, out, out_dt, opset=13, requant=False, ms=False):
    """inputs: [(name, dtype, array)]; the graph output is out (int).

    requant: the device requantizes with an integer multiplier and shift
    where ONNX multiplies in float; the output may differ by 1.
    """
    broken = name.startswith('broken_')
    d = os.path.join(HERE, name) if broken else \
        os.path.join(HERE, 'models', 'requant' if requant else 'exact', 'test_' + name)
    data = d if broken else os.path.join(d, 'test_data_set_0')
    os.makedirs(data, exist_ok=True)
    g = h.make_graph(nodes, name, [h.make_tensor_value_info(n, dt, a.shape)
                                   for n, dt, a in inputs],
                     [h.make_tensor_value_info(out, out_dt, None)], init)
    opsets = [h.make_opsetid('', opset)] + ([h.make_opsetid('com.microsoft', 1)] if ms else [])
    model = h.make_model(g, opset_imports=opsets)
    save(model, os.path.join(d, 'model.onnx'))
    for i, (n, _, a) in enumerate(inputs):
        _pb(os.path.join(data, f'input_{i}.pb'), a, n)
    if not broken:
        y, = onnx_ref.run(model, {n: a for n, _, a in inputs})
        _pb(os.path.join(data, 'output_0.pb'), y, out)


def fin(n=(2, 4, 9, 9)):
    return rng.uniform(-1, 1, n).astype(np.float32)


def q_out(nodes, init, x, s, z, dt, name='y'):
    init += [nh.from_array(np.float32(s), f'{name}_s'),
             nh.from_array(np.array(z, np.uint8 if dt == U8 else np.int8), f'{name}_z')]
    nodes.append(h.make_node('QuantizeLinear', [x, f'{name}_s', f'{name}_z'], [name]))
    return name


def act(nodes, init, x, kind, name):
    """Relu, or Clip(lo, hi) with constant bounds, of x."""
    if kind == 'Relu':
        nodes.append(h.make_node('Relu', [x], [name]))
        return name
    lo, hi = kind
    init += [nh.from_array(np.float32(lo), f'{name}_lo'),
             nh.from_array(np.float32(hi), f'{name}_hi')]
    nodes.append(h.make_node('Clip', [x, f'{name}_lo', f'{name}_hi'], [name]))
    return name


def conv_case(name, dt, group, cout, fused=None, **attrs):
    """QDQ Conv, then Relu after a QDQ pair, or fused: Relu/Clip right
    before the QuantizeLinear, as quantizers keep activations."""
    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 128, 128 if dt == U8 else 0, dt, 'xa')
    cin = 4
    w = rng.integers(-127, 128, (cout, cin // group, 3, 3))
    ws = rng.uniform(0.002, 0.01, cout)
    wn = wdq(nodes, init, w, ws, 'c')
    b = bdq(nodes, init, rng.integers(-500, 500, cout), ws / 128, 'c')
    nodes.append(h.make_node('Conv', [x, wn, b], ['cv'], group=group, **attrs))
    if fused:
        r = act(nodes, init, 'cv', fused, 'r')
    else:
        cv = qdq(nodes, init, 'cv', 0.02, 128 if dt == U8 else -10, dt, 'cvq')
        r = act(nodes, init, cv, 'Relu', 'r')
    q_out(nodes, init, r, 0.02, 128 if dt == U8 else -10, dt)
    write(name, nodes, init, [('x', T.FLOAT, fin())], 'y', dt, requant=True)


def simple(name, op, dt=I8, shape=(2, 4, 9, 9), same=True, extra=(), zp=3, requant=False,
           opset=13, **attrs):
    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 64, zp, dt, 'xa')
    nodes.append(h.make_node(op, [x, *extra], ['o'], **attrs))
    q_out(nodes, init, 'o', 1 / 64 if same else 1 / 200, zp if same else 120 if dt == U8 else -7, dt)
    write(name, nodes, init, [('x', T.FLOAT, fin(shape))], 'y', dt, requant=requant,
          opset=opset)


def clip_case(name, dt, lo, hi, opset=13):
    """QDQ Clip (ReLU6 when 0, 6): bounds as inputs, or attributes before 11."""
    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 32, 128 if dt == U8 else -3, dt, 'xa')
    if opset < 11:
        attrs = {k: v for k, v in (('min', lo), ('max', hi)) if v is not None}
        nodes.append(h.make_node('Clip', [x], ['c'], **attrs))
    else:
        ins = [x]
        for k, v in (('lo', lo), ('hi', hi)):
            ins.append(k if v is not None else '')
            if v is not None:
                init.append(nh.from_array(np.float32(v), k))
        while not ins[-1]:
            ins.pop()
        nodes.append(h.make_node('Clip', ins, ['c']))
    q_out(nodes, init, 'c', 1 / 32, 128 if dt == U8 else -3, dt)
    write(name, nodes, init, [('x', T.FLOAT, 3 * fin())], 'y', dt, opset=opset)


def main():
    conv_case('conv_qdq_u8', U8, 1, 6, pads=[1, 1, 1, 1])
    conv_case('conv_qdq_strided_i8', I8, 1, 5, strides=[2, 2], pads=[0, 1, 1, 0],
              dilations=[1, 2])
    conv_case('conv_depthwise_i8', I8, 4, 8, pads=[1, 1, 1, 1])
    conv_case('conv_relu_fused_u8', U8, 1, 6, fused='Relu', pads=[1, 1, 1, 1])
    conv_case('conv_relu6_fused_i8', I8, 4, 8, fused=(0, 0.5), pads=[1, 1, 1, 1])
    conv_case('conv_clip_fused_u8', U8, 1, 5, fused=(-0.4, 0.3))
    simple('sigmoid_i8', 'Sigmoid', same=False)
    simple('tanh_u8', 'Tanh', dt=U8, same=False)
    # Unary functions through the LUT (YOLO's LeakyRelu, MobileNetV3's hard ones).
    simple('leakyrelu_i8', 'LeakyRelu', same=False, alpha=0.1)
    simple('hardsigmoid_u8', 'HardSigmoid', dt=U8, same=False, alpha=0.3, beta=0.4)
    simple('hardswish_i8', 'HardSwish', same=False, opset=14)
    simple('avgpool_i8', 'AveragePool', kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    simple('globalavgpool_u8', 'GlobalAveragePool', dt=U8)
    # Windows of 1, 2 and 4: many ties, rounded to even relative to 128.
    simple('avgpool_ties_u8', 'AveragePool', dt=U8, zp=128, kernel_shape=[2, 2],
           pads=[1, 0, 0, 1])
    simple('globalavgpool_ties_i8', 'GlobalAveragePool', shape=(2, 8, 2, 3), zp=-6)
    # Averages that requantize, as at the end of a classifier.
    simple('globalavgpool_requant_u8', 'GlobalAveragePool', dt=U8, same=False, requant=True)
    simple('avgpool_requant_i8', 'AveragePool', same=False, requant=True, kernel_shape=[2, 2],
           strides=[2, 2])
    simple('maxpool_qdq_i8', 'MaxPool', kernel_shape=[2, 2], strides=[2, 2])
    simple('transpose_i8', 'Transpose', perm=[0, 2, 3, 1])
    clip_case('clip_qdq_u8', U8, -1, 1)
    clip_case('clip_qdq_relu6_i8', I8, 0, 2.5)
    clip_case('clip_qdq_min_only_i8', I8, -0.75, None)
    clip_case('clip_qdq_max_only_u8', U8, None, 0.5)
    clip_case('clip_qdq_opset10_i8', I8, -1.5, 0.5, opset=10)
    clip_case('clip_qdq_opset10_max_only_u8', U8, None, 1.25, opset=10)

    # Gemm (transB) + Add with a broadcast constant + Concat + Pad
    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 64, -3, I8, 'xa')
    w = wdq(nodes, init, rng.integers(-127, 128, (7, 12)), 0.004, 'g')
    b = bdq(nodes, init, rng.integers(-300, 300, 7), 0.004 / 64, 'g')
    nodes.append(h.make_node('Gemm', [x, w, b], ['gm'], transB=1))
    q_out(nodes, init, 'gm', 0.03, 2, I8, 'y')
    write('gemm_i8', nodes, init, [('x', T.FLOAT, fin((5, 12)))], 'y', I8, requant=True)

    nodes, init = [], []
    a = qdq(nodes, init, 'a', 1 / 64, 5, I8, 'aa')
    c = qdq(nodes, init, 'c', 1 / 40, -5, I8, 'cc')
    nodes.append(h.make_node('Add', [a, c], ['s']))
    q_out(nodes, init, 's', 1 / 30, 1, I8)
    write('add_qdq_i8', nodes, init, [('a', T.FLOAT, fin()), ('c', T.FLOAT, fin())], 'y', I8,
          requant=True)

    # Add, Relu right before the QuantizeLinear (a residual block's end)
    nodes, init = [], []
    a = qdq(nodes, init, 'a', 1 / 64, 5, I8, 'aa')
    c = qdq(nodes, init, 'c', 1 / 40, -5, I8, 'cc')
    nodes.append(h.make_node('Add', [a, c], ['s']))
    r = act(nodes, init, 's', 'Relu', 'r')
    q_out(nodes, init, r, 1 / 30, -20, I8)
    write('add_relu_fused_i8', nodes, init, [('a', T.FLOAT, fin()), ('c', T.FLOAT, fin())],
          'y', I8, requant=True)

    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 64, -3, I8, 'xa')
    w = wdq(nodes, init, rng.integers(-127, 128, (7, 12)), 0.004, 'g')
    nodes.append(h.make_node('Gemm', [x, w], ['gm'], transB=1))
    r = act(nodes, init, 'gm', (-0.2, 0.6), 'r')
    q_out(nodes, init, r, 0.03, 2, I8, 'y')
    write('gemm_clip_fused_i8', nodes, init, [('x', T.FLOAT, fin((5, 12)))], 'y', I8,
          requant=True)

    nodes, init = [], []
    a = qdq(nodes, init, 'a', 1 / 64, 5, U8, 'aa')
    c = qdq(nodes, init, 'c', 1 / 40, 9, U8, 'cc')
    nodes.append(h.make_node('Mul', [a, c], ['s']))
    q_out(nodes, init, 's', 1 / 90, 100, U8)
    write('mul_qdq_u8', nodes, init, [('a', T.FLOAT, fin()), ('c', T.FLOAT, fin())], 'y', U8,
          requant=True)

    a = rng.integers(0, 40, (2, 3, 4, 5), dtype=np.uint8)
    c = rng.integers(0, 40, (2, 2, 4, 5), dtype=np.uint8)
    init = [nh.from_array(np.array([0, 1, 1, 2, 0, 0, 2, 1], np.int64), 'pads'),
            nh.from_array(np.uint8(7), 'pv'),
            nh.from_array(rng.integers(0, 9, (1, 5, 1, 1), dtype=np.uint8), 'k')]
    nodes = [h.make_node('Concat', ['a', 'c'], ['cat'], axis=1),
             h.make_node('Add', ['cat', 'k'], ['ak']),
             h.make_node('Pad', ['ak', 'pads', 'pv'], ['y'])]
    write('concat_add_pad_u8', nodes, init, [('a', U8, a), ('c', U8, c)], 'y', U8)

    # Unsqueeze and Squeeze around a MaxPool: views, in both opset forms.
    for opset in (11, 13):
        nodes, init = [], []
        x = qdq(nodes, init, 'x', 1 / 64, 3, I8, 'xa')
        if opset < 13:
            nodes.append(h.make_node('Unsqueeze', [x], ['u'], axes=[0]))
            u = qdq(nodes, init, 'u', 1 / 64, 3, I8, 'ua')
            nodes.append(h.make_node('Squeeze', [u], ['s'], axes=[0]))
        else:
            init += [nh.from_array(np.array([0, -1], np.int64), 'ax'),
                     nh.from_array(np.array([0], np.int64), 'ax0'),
                     nh.from_array(np.array([-1], np.int64), 'ax1')]
            nodes.append(h.make_node('Unsqueeze', [x, 'ax'], ['u']))
            u = qdq(nodes, init, 'u', 1 / 64, 3, I8, 'ua')
            nodes.append(h.make_node('Squeeze', [u, 'ax0'], ['u1']))
            u1 = qdq(nodes, init, 'u1', 1 / 64, 3, I8, 'u1a')
            nodes.append(h.make_node('Squeeze', [u1, 'ax1'], ['s']))
        s_ = qdq(nodes, init, 's', 1 / 64, 3, I8, 'sa')
        nodes.append(h.make_node('MaxPool', [s_], ['mp'], kernel_shape=[2, 2], strides=[2, 2]))
        q_out(nodes, init, 'mp', 1 / 64, 3, I8)
        write(f'squeeze_unsqueeze_opset{opset}_i8', nodes, init, [('x', T.FLOAT, fin())], 'y',
              I8, opset=opset)

    # A residual block: the input's DequantizeLinear feeds the Conv and the Add.
    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 64, -2, I8, 'xa')
    wn = wdq(nodes, init, rng.integers(-127, 128, (4, 4, 3, 3)), rng.uniform(0.002, 0.01, 4), 'c')
    nodes.append(h.make_node('Conv', [x, wn], ['cv'], pads=[1, 1, 1, 1]))
    r = act(nodes, init, 'cv', 'Relu', 'r')
    rq = qdq(nodes, init, r, 0.02, -128, I8, 'rq')
    nodes.append(h.make_node('Add', [x, rq], ['s']))
    q_out(nodes, init, 's', 0.03, 0, I8)
    write('residual_shared_dq_i8', nodes, init, [('x', T.FLOAT, fin())], 'y', I8,
          requant=True)

    # QOperator format (ONNX Runtime's quantizer): com.microsoft QGemm with
    # per-column weight scales and an int32 bias.
    init = [nh.from_array(np.float32(1 / 64), 'xs'), nh.from_array(np.int8(-3), 'xz'),
            nh.from_array(rng.integers(-127, 128, (6, 12)).astype(np.int8), 'w'),
            nh.from_array(rng.uniform(0.002, 0.006, 6).astype(np.float32), 'ws'),
            nh.from_array(np.zeros(6, np.int8), 'wz'),
            nh.from_array(rng.integers(-2000, 2000, 6).astype(np.int32), 'b'),
            nh.from_array(np.float32(0.02), 'ys'), nh.from_array(np.int8(4), 'yz')]
    nodes = [h.make_node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']),
             h.make_node('QGemm', ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'b', 'ys', 'yz'], ['y'],
                         domain='com.microsoft', transB=1)]
    write('qgemm_qoperator_i8', nodes, init, [('x', T.FLOAT, fin((5, 12)))], 'y', I8,
          requant=True, ms=True)

    # As torch's QDQ export writes it: quantization parameters from Constant
    # nodes, no-op Casts on them and on a DequantizeLinear's output.
    nodes, init = [], []

    def const(name, value):
        nodes.append(h.make_node('Constant', [], [name], value=nh.from_array(value, name)))
        return name

    def cast(x, to, name):
        nodes.append(h.make_node('Cast', [x], [name], to=to))
        return name

    s = cast(const('xs', np.float32(1 / 128)), T.FLOAT, 'xs_c')
    z = const('xz', np.uint8(128))
    nodes += [h.make_node('QuantizeLinear', ['x', s, z], ['xq']),
              h.make_node('DequantizeLinear', ['xq', s, z], ['xdq'])]
    xd = cast('xdq', T.FLOAT, 'xdq_c')
    w = const('w', rng.integers(-127, 128, (3, 4, 3, 3)).astype(np.int8))
    ws = const('ws', rng.uniform(0.002, 0.01, 3).astype(np.float32))
    wz = const('wz', np.zeros(3, np.int8))
    nodes.append(h.make_node('DequantizeLinear', [w, ws, wz], ['wdq'], axis=0))
    nodes.append(h.make_node('Conv', [xd, 'wdq'], ['cv'], pads=[1, 1, 1, 1]))
    r = act(nodes, init, 'cv', 'Relu', 'r')
    ys = cast(const('ys', np.float32(0.02)), T.FLOAT, 'ys_c')
    nodes.append(h.make_node('QuantizeLinear', [r, ys, const('yz', np.uint8(0))], ['y']))
    write('conv_constants_casts_u8', nodes, init, [('x', T.FLOAT, fin())], 'y', U8,
          requant=True)

    # error paths: an operator TAPU cannot run
    nodes = [h.make_node('Softmax', ['x'], ['y'], name='softmax0')]
    write('broken_unsupported_op', nodes, [],
          [('x', I8, rng.integers(-5, 5, (1, 4), dtype=np.int8))], 'y', I8)

    # Partitioned graphs: nodes the device cannot run go to the CPU between
    # device segments (models/fallback, within 1 as float ops then
    # quantize).
    def dq_q(nodes, init, x, op, name, dt=U8, s_out=1 / 256, z_out=0, extra=(), xq='xa',
             **attrs):
        """DequantizeLinear -> op -> QuantizeLinear of the quantized x."""
        nodes.append(h.make_node('DequantizeLinear', [x, f'{xq}_s', f'{xq}_z'],
                                 [f'{name}_dq']))
        nodes.append(h.make_node(op, [f'{name}_dq', *extra], [f'{name}_f'], **attrs))
        init += [nh.from_array(np.float32(s_out), f'{name}_s'),
                 nh.from_array(np.array(z_out, np.uint8 if dt == U8 else np.int8), f'{name}_z')]
        nodes.append(h.make_node('QuantizeLinear', [f'{name}_f', f'{name}_s', f'{name}_z'],
                                 [name]))
        return name

    def fallback(name, op, dt=U8, shape=(2, 4, 9, 9), extra=(), s_out=1 / 64, z_out=None,
                 init_extra=(), conv_after=False, c_after=None, conv_before=False, **attrs):
        nodes, init = [], list(init_extra)
        z_in = 128 if dt == U8 else 0
        init += [nh.from_array(np.float32(1 / 64), 'xa_s'),
                 nh.from_array(np.array(z_in, np.uint8 if dt == U8 else np.int8), 'xa_z')]
        nodes.append(h.make_node('QuantizeLinear', ['x', 'xa_s', 'xa_z'], ['xq']))
        x, xq = 'xq', 'xa'
        if conv_before:
            # A device Conv first: two device segments around the CPU node.
            c = shape[1]
            w = wdq(nodes, init, rng.integers(-127, 128, (c, c, 1, 1)),
                    rng.uniform(0.002, 0.01, c), 'c1')
            nodes.append(h.make_node('DequantizeLinear', ['xq', 'xa_s', 'xa_z'], ['xq_dq']))
            nodes.append(h.make_node('Conv', ['xq_dq', w], ['cv1']))
            x, xq = q_out(nodes, init, 'cv1', 1 / 48, z_in, dt, 'pre'), 'pre'
        y = dq_q(nodes, init, x, op, 'y' if not conv_after else 'mid', dt, s_out,
                 z_in if z_out is None else z_out, extra, xq=xq, **attrs)
        if conv_after:
            # ... and a device op reading the CPU's output.
            c = c_after or shape[1]
            w = wdq(nodes, init, rng.integers(-127, 128, (c, c, 1, 1)),
                    rng.uniform(0.002, 0.01, c), 'c2')
            nodes.append(h.make_node('DequantizeLinear', [y, 'mid_s', 'mid_z'], ['mid_dq2']))
            nodes.append(h.make_node('Conv', ['mid_dq2', w], ['cv2']))
            q_out(nodes, init, 'cv2', 1 / 32, 128 if dt == U8 else 0, dt)
        write(name, nodes, init, [('x', T.FLOAT, fin(shape))], 'y', dt, requant=True)
        os.replace(os.path.join(HERE, 'models', 'requant', 'test_' + name),
                   os.path.join(HERE, 'models', 'fallback', 'test_' + name))

    os.makedirs(os.path.join(HERE, 'models', 'fallback'), exist_ok=True)
    for d in glob.glob(os.path.join(HERE, 'models', 'fallback', 'test_*')):
        shutil.rmtree(d)
    fallback('conv_softmax_conv_u8', 'Softmax', s_out=1 / 256, z_out=0, axis=1,
             conv_before=True, conv_after=True)
    fallback('softmax_last_axis_u8', 'Softmax', shape=(2, 3, 10), s_out=1 / 256, z_out=0)
    fallback('logsoftmax_i8', 'LogSoftmax', dt=I8, shape=(3, 12), s_out=1 / 16, z_out=100)
    fallback('resize_nearest_u8', 'Resize', extra=('', 'rs'),
             init_extra=[nh.from_array(np.array([1, 1, 2, 2], np.float32), 'rs')],
             conv_after=True)
    fallback('resize_linear_align_i8', 'Resize', dt=I8, extra=('', '', 'rsz'),
             init_extra=[nh.from_array(np.array([2, 4, 13, 5], np.int64), 'rsz')],
             mode='linear', coordinate_transformation_mode='align_corners')
    fallback('slice_steps_u8', 'Slice', extra=('st', 'en', 'ax', 'sp'),
             init_extra=[nh.from_array(np.array([1, 8, -2], np.int64), 'st'),
                         nh.from_array(np.array([4, 0, -100], np.int64), 'en'),
                         nh.from_array(np.array([1, 2, 3], np.int64), 'ax'),
                         nh.from_array(np.array([1, -2, -3], np.int64), 'sp')],
             conv_after=True, c_after=3)
    fallback('globalmaxpool_i8', 'GlobalMaxPool', dt=I8)
    fallback('reducemean_u8', 'ReduceMean', axes=[2, 3], keepdims=1, conv_after=True)
    fallback('batchnorm_u8', 'BatchNormalization', extra=('bs', 'bb', 'bm', 'bv'),
             init_extra=[nh.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), 'bs'),
                         nh.from_array(rng.uniform(-0.2, 0.2, 4).astype(np.float32), 'bb'),
                         nh.from_array(rng.uniform(-0.1, 0.1, 4).astype(np.float32), 'bm'),
                         nh.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), 'bv')],
             conv_after=True)

    # Split on the CPU, both parts added back on the device.
    nodes, init = [], []
    init += [nh.from_array(np.float32(1 / 64), 'xa_s'), nh.from_array(np.uint8(128), 'xa_z'),
             nh.from_array(np.array([2, 2], np.int64), 'parts')]
    nodes += [h.make_node('QuantizeLinear', ['x', 'xa_s', 'xa_z'], ['xq']),
              h.make_node('DequantizeLinear', ['xq', 'xa_s', 'xa_z'], ['xd']),
              h.make_node('Split', ['xd', 'parts'], ['p0', 'p1'], axis=1)]
    for k in range(2):
        nodes += [h.make_node('QuantizeLinear', [f'p{k}', 'xa_s', 'xa_z'], [f'p{k}q']),
                  h.make_node('DequantizeLinear', [f'p{k}q', 'xa_s', 'xa_z'], [f'p{k}d'])]
    nodes.append(h.make_node('Add', ['p0d', 'p1d'], ['sum']))
    q_out(nodes, init, 'sum', 1 / 32, 128, U8)
    write('split_add_u8', nodes, init, [('x', T.FLOAT, fin())], 'y', U8, requant=True)
    os.replace(os.path.join(HERE, 'models', 'requant', 'test_split_add_u8'),
               os.path.join(HERE, 'models', 'fallback', 'test_split_add_u8'))

    # error paths: operators neither the device nor the CPU runs, all named
    nodes = [h.make_node('Hardmax', ['x'], ['h'], name='hardmax0'),
             h.make_node('Det', ['h'], ['y'], name='det0')]
    write('broken_unknown_ops', nodes, [],
          [('x', T.FLOAT, fin((2, 3, 3)))], 'y', T.FLOAT)

    # Relu and Clip between two different quantizations (activations kept
    # by the quantizer): a requantizing table.
    simple('relu_requant_u8', 'Relu', dt=U8, same=False)
    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 64, -5, I8, 'xa')
    act(nodes, init, x, (-0.25, 0.75), 'c')
    q_out(nodes, init, 'c', 1 / 150, 20, I8)
    write('clip_requant_i8', nodes, init, [('x', T.FLOAT, fin())], 'y', I8)

    # Concat of differently quantized inputs, then Pad with 0.0 (QDQ).
    nodes, init = [], []
    a = qdq(nodes, init, 'a', 1 / 64, 3, I8, 'aq')
    b = qdq(nodes, init, 'b', 1 / 100, -2, I8, 'bq')
    init.append(nh.from_array(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), 'pads'))
    nodes.append(h.make_node('Concat', [a, b], ['cat'], axis=1))
    cq = qdq(nodes, init, 'cat', 1 / 80, 1, I8, 'catq')
    nodes.append(h.make_node('Pad', [cq, 'pads'], ['padded']))
    q_out(nodes, init, 'padded', 1 / 80, 1, I8)
    write('concat_requant_pad_i8', nodes, init, [('a', T.FLOAT, fin()), ('b', T.FLOAT, fin())],
          'y', I8)

    # A requantizing Pad (on the CPU), its pads computed from constants
    # as torch.onnx exports them (folded at load).
    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 64, 100, U8, 'xa')
    nodes += [h.make_node('Constant', [], ['p0'], value=nh.from_array(
                  np.array([0, 0, 1, 0], np.int64))),
              h.make_node('Constant', [], ['p1'], value=nh.from_array(
                  np.array([0, 0, 2, 1], np.int64))),
              h.make_node('Concat', ['p0', 'p1'], ['pc'], axis=0),
              h.make_node('Reshape', ['pc', 'shape'], ['pr']),
              h.make_node('Transpose', ['pr'], ['pt'], perm=[1, 0]),
              h.make_node('Reshape', ['pt', 'flat'], ['pads']),
              h.make_node('Pad', [x, 'pads'], ['padded'])]
    init += [nh.from_array(np.array([2, 4], np.int64), 'shape'),
             nh.from_array(np.array([-1], np.int64), 'flat')]
    q_out(nodes, init, 'padded', 1 / 40, 90, U8)
    write('pad_requant_u8', nodes, init, [('x', T.FLOAT, fin())], 'y', U8)
    os.replace(os.path.join(HERE, 'models', 'exact', 'test_pad_requant_u8'),
               os.path.join(HERE, 'models', 'fallback', 'test_pad_requant_u8'))

    # Pad's reflect and edge modes in QDQ (not the integer Pad: on the CPU).
    for mode in ('reflect', 'edge'):
        nodes, init = [], []
        x = qdq(nodes, init, 'x', 1 / 64, 3, I8, 'xa')
        init.append(nh.from_array(np.array([0, 0, 2, 1, 0, 0, 1, 2], np.int64), 'pads'))
        nodes.append(h.make_node('Pad', [x, 'pads'], ['padded'], mode=mode))
        q_out(nodes, init, 'padded', 1 / 64, 3, I8)
        write(f'pad_{mode}_i8', nodes, init, [('x', T.FLOAT, fin())], 'y', I8)
        os.replace(os.path.join(HERE, 'models', 'exact', f'test_pad_{mode}_i8'),
                   os.path.join(HERE, 'models', 'fallback', f'test_pad_{mode}_i8'))

    # Concat of three inputs quantized three ways, int8 and uint8.
    nodes, init = [], []
    a = qdq(nodes, init, 'a', 1 / 64, 3, I8, 'aq')
    b = qdq(nodes, init, 'b', 1 / 100, 130, U8, 'bq')
    c = qdq(nodes, init, 'c', 1 / 80, -9, I8, 'cq')
    nodes.append(h.make_node('Concat', [a, b, c], ['cat'], axis=2))
    q_out(nodes, init, 'cat', 1 / 90, 120, U8)
    write('concat3_mixed_u8', nodes, init, [(n, T.FLOAT, fin()) for n in 'abc'], 'y', U8)

    # QDQ Gemm whose int32 C has one element for N columns (broadcast): not
    # QLinearGemm's per-column bias, so a float Gemm on the CPU.
    nodes, init = [], []
    x = qdq(nodes, init, 'x', 1 / 64, 128, U8, 'xa')
    ws = rng.uniform(0.002, 0.01, 5)
    w = wdq(nodes, init, rng.integers(-127, 128, (5, 6)), ws, 'g')
    b = bdq(nodes, init, rng.integers(-500, 500, 1), np.float32(1 / 64 * 0.005), 'g')
    nodes.append(h.make_node('Gemm', [x, w, b], ['gm'], transB=1))
    q_out(nodes, init, 'gm', 0.02, 128, U8)
    write('gemm_bias1_u8', nodes, init, [('x', T.FLOAT, fin((3, 6)))], 'y', U8)
    os.replace(os.path.join(HERE, 'models', 'exact', 'test_gemm_bias1_u8'),
               os.path.join(HERE, 'models', 'fallback', 'test_gemm_bias1_u8'))


if __name__ == '__main__':
    main()
