# SPDX-License-Identifier: GPL-2.0-only
"""Post-training quantization of float ONNX graphs, as ONNX Runtime does it.

ONNX Runtime is not packaged in Debian 12, so this reproduces the
conventions of its quantize_static() (onnxruntime/python/tools/quantization)
on the graphs torch.onnx exports, for the model zoo:

- MinMax calibration; activations uint8, asymmetric over [min(0, lo),
  max(0, hi)]; weights int8, symmetric in [-127, 127] (scale max|w|/127,
  zero point 0),
  per tensor or per output channel; biases int32 in scale x_scale*w_scale;
- "removable" Relu/Clip after a quantized op are dropped, their output range
  given to the op's output (kept with keep_activations, the
  QDQKeepRemovableActivations option);
- QDQ format: a QuantizeLinear/DequantizeLinear pair on each activation,
  shared by its consumers (one pair per consumer with dedicated, the
  DedicatedQDQPair option); 8-bit data-movement ops (MaxPool, Transpose,
  Reshape, ...) keep their input's quantization;
- QOperator format: QLinearConv, QLinearMatMul and the com.microsoft QGemm,
  QLinearAdd, QLinearMul, QLinearConcat, QLinearGlobalAveragePool,
  QLinearAveragePool, QLinearSigmoid, QLinearLeakyRelu; data-movement ops on
  uint8; anything else between a DequantizeLinear and a QuantizeLinear.

prepare() first does what ONNX Runtime's quant_pre_process does for these
graphs: shape inference and constant folding (Identity of initializers,
Constant, Shape of static tensors and the integer arithmetic on it).
"""
import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh

import onnx_ref

# Ops whose activations are quantized, and those that move 8-bit data
# unchanged (their output keeps the input's scale and zero point).
QUANT_OPS = {'Conv', 'Gemm', 'MatMul', 'Add', 'Mul', 'Relu', 'Clip', 'MaxPool',
             'AveragePool', 'GlobalAveragePool', 'Concat', 'Transpose', 'Reshape',
             'Flatten', 'Squeeze', 'Unsqueeze', 'Pad', 'Split', 'Slice', 'Sigmoid',
             'Resize', 'LeakyRelu', 'Softmax', 'ReduceMean', 'HardSwish', 'HardSigmoid'}
MOVE_OPS = {'MaxPool', 'Transpose', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze',
            'Split', 'Slice', 'Resize', 'Pad'}
# Ops whose only activation input is input 0 (the others are parameters).
FIRST_ONLY = {'Conv', 'Gemm', 'Reshape', 'Pad', 'Slice', 'Split', 'Resize', 'Clip',
              'Squeeze', 'Unsqueeze'}
REMOVABLE_AFTER = {'Conv', 'Gemm', 'MatMul', 'Add', 'Mul'}


def _fold(node, x, shapes):
    """Value of @node from constant inputs @x, or None."""
    a = onnx_ref._attrs(node)
    op = node.op_type
    if op == 'Shape':
        s = shapes.get(node.input[0])
        return None if s is None else np.array(s, np.int64)
    if any(v is None for v in x):
        return None
    if op == 'Constant':
        return nh.to_array(a['value'])
    if op == 'Identity':
        return x[0]
    if op == 'Gather':
        return np.take(x[0], x[1], axis=a.get('axis', 0))
    if op in ('Mul', 'Add', 'Sub'):
        return {'Mul': np.multiply, 'Add': np.add, 'Sub': np.subtract}[op](x[0], x[1])
    if op == 'Div':
        if x[0].dtype.kind == 'i':
            return (x[0] // x[1]).astype(x[0].dtype)
        return (x[0] / x[1]).astype(x[0].dtype)
    if op == 'Unsqueeze':
        return np.expand_dims(x[0], tuple(int(v) for v in x[1]))
    if op == 'Concat':
        return np.concatenate(x, axis=a['axis'])
    if op == 'Cast':
        return x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a['to']])
    if op == 'Slice':
        return onnx_ref.slice_(*x)
    if op == 'Reshape':
        return onnx_ref.reshape(x[0], x[1], a)
    if op == 'Transpose':
        return np.transpose(x[0], a.get('perm'))
    if op == 'ConstantOfShape':
        v = nh.to_array(a['value']) if 'value' in a else np.zeros(1, np.float32)
        return np.full([int(d) for d in x[0]], v.reshape(-1)[0], v.dtype)
    return None


def prepare(model):
    """Shape inference and constant folding; returns a new model."""
    model = onnx.shape_inference.infer_shapes(model)
    g = model.graph
    shapes = {}
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and all(d.HasField('dim_value') for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    const = {t.name: nh.to_array(t) for t in g.initializer}
    nodes = []
    for n in g.node:
        ins = list(n.input)
        while ins and not ins[-1]:
            ins.pop()
        y = _fold(n, [const.get(i) for i in ins], shapes) \
            if len(n.output) == 1 else None
        if y is None:
            nodes.append(n)
        else:
            const[n.output[0]] = np.asarray(y)
    used = {i for n in nodes for i in n.input} | {o.name for o in g.output}
    init = [nh.from_array(v, k) for k, v in const.items() if k in used]
    graph = h.make_graph(nodes, g.name, g.input, g.output, init)
    return h.make_model(graph, opset_imports=model.opset_import)


def calibrate(model, feeds_list):
    """Per-tensor (min, max) over the calibration inputs."""
    rng = {}
    for feeds in feeds_list:
        for k, v in onnx_ref.run(model, feeds, everything=True).items():
            if v.dtype != np.float32:
                continue
            lo, hi = float(v.min()), float(v.max())
            if k in rng:
                lo, hi = min(lo, rng[k][0]), max(hi, rng[k][1])
            rng[k] = (lo, hi)
    return rng


def act_params(lo, hi):
    """uint8 scale and zero point of [lo, hi], as ONNX Runtime computes them."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        return np.float32(1.0), np.uint8(0)
    s = np.float32((hi - lo) / 255)
    return s, np.uint8(np.clip(np.rint(-lo / s), 0, 255))


def weight_params(w, axis, per_channel):
    """int8 symmetric weights, [-127, 127] as ONNX Runtime's
    get_qmin_qmax_for_qType(symmetric=True): (quantized, scale)."""
    if per_channel:
        red = tuple(i for i in range(w.ndim) if i != axis)
        amax = np.abs(w).max(axis=red)
        shape = [1] * w.ndim
        shape[axis] = -1
    else:
        amax = np.float32(np.abs(w).max())
        shape = []
    s = np.where(amax > 0, amax / 127, 1).astype(np.float32)
    q = np.clip(np.rint(w / s.reshape(shape)), -127, 127).astype(np.int8)
    return q, s


class Graph:
    """A float graph being rewritten: nodes, constants, names."""

    def __init__(self, model):
        self.model = onnx.ModelProto()
        self.model.CopyFrom(model)
        g = self.model.graph
        self.nodes = list(g.node)
        self.const = {t.name: nh.to_array(t) for t in g.initializer}
        self.inputs = [i for i in g.input if i.name not in self.const]
        self.outputs = [o.name for o in g.output]
        self.new_init = {}

    def consumers(self, name):
        return [n for n in self.nodes if name in n.input]

    def producer(self, name):
        return next((n for n in self.nodes if name in n.output), None)

    def add_const(self, name, value):
        self.new_init[name] = np.asarray(value)
        return name

    def remove_activations(self, rng):
        """Drops Relu/Clip right after a quantized op (ORT's default)."""
        for n in list(self.nodes):
            if n.op_type not in ('Relu', 'Clip'):
                continue
            src = n.input[0]
            p = self.producer(src)
            if p is None or p.op_type not in REMOVABLE_AFTER or \
                    len(self.consumers(src)) != 1 or src in self.outputs:
                continue
            p.output[list(p.output).index(src)] = n.output[0]
            self.nodes.remove(n)

    def act_inputs(self, n):
        idx = [0] if n.op_type in FIRST_ONLY else range(len(n.input))
        return [n.input[i] for i in idx if n.input[i] and n.input[i] not in self.const]

    def params(self, rng):
        """Scale and zero point of every activation to quantize."""
        p = {}
        for n in self.nodes:
            if n.op_type not in QUANT_OPS:
                continue
            for t in self.act_inputs(n):
                p.setdefault(t, act_params(*rng[t]))
            for t in n.output:
                if n.op_type in MOVE_OPS and self.act_inputs(n)[0] in p:
                    p[t] = p[self.act_inputs(n)[0]]
                else:
                    p.setdefault(t, act_params(*rng[t]))
        return p

    def quantize_weights(self, n, x_scale, per_channel):
        """Int8 weights and int32 bias of Conv/Gemm/MatMul @n: returns
        (weights, scale, zero point, bias or None, axis) constant names."""
        w = self.const[n.input[1]]
        if n.op_type == 'Conv':
            axis = 0
        elif n.op_type == 'Gemm':
            axis = 0 if onnx_ref._attrs(n).get('transB', 0) else 1
        else:
            axis = 1
        q, s = weight_params(w, axis, per_channel)
        base = n.input[1]
        names = [self.add_const(base + '_quantized', q),
                 self.add_const(base + '_scale', s),
                 self.add_const(base + '_zero_point', np.zeros(s.shape, np.int8))]
        bias = None
        if len(n.input) > 2 and n.input[2]:
            b = self.const[n.input[2]]
            bs = (np.float64(x_scale) * s.astype(np.float64)).astype(np.float32)
            bq = np.rint(b.astype(np.float64) / bs).astype(np.int32)
            bias = [self.add_const(n.input[2] + '_quantized', bq),
                    self.add_const(n.input[2] + '_quantized_scale', bs),
                    self.add_const(n.input[2] + '_quantized_zero_point',
                                   np.zeros(bs.shape, np.int32))]
        return names, bias, axis

    def model_out(self, nodes, ms=False):
        g = self.model.graph
        init = [nh.from_array(v, k) for k, v in {**self.const, **self.new_init}.items()
                if any(k in n.input for n in nodes)]
        graph = h.make_graph(nodes, g.name, self.inputs, list(g.output), init)
        ops = [h.make_opsetid('', 13)] + ([h.make_opsetid('com.microsoft', 1)] if ms else [])
        m = h.make_model(graph, opset_imports=ops, producer_name='tapu-zoo-quantizer')
        onnx.checker.check_model(m)
        return m


def qdq(model, rng, per_channel=False, keep_activations=False, dedicated=False):
    """The QDQ format of quantize_static()."""
    g = Graph(model)
    if not keep_activations:
        g.remove_activations(rng)
    p = g.params(rng)
    pre, out = [], []
    for n in g.nodes:
        if n.op_type in ('Conv', 'Gemm', 'MatMul') and n.input[1] in g.const:
            w, b, axis = g.quantize_weights(n, p[n.input[0]][0], per_channel)
            pre.append(h.make_node('DequantizeLinear', w, [w[0] + '_dq'], axis=axis))
            n.input[1] = w[0] + '_dq'
            if b:
                pre.append(h.make_node('DequantizeLinear', b, [b[0] + '_dq'], axis=0))
                n.input[2] = b[0] + '_dq'
    # One pair per activation (per consumer with dedicated), after its producer.
    pairs = {}
    for t in p:
        users = [n for n in g.nodes if t in g.act_inputs(n) and n.op_type in QUANT_OPS]
        k = len(users) if dedicated and len(users) > 1 else 1
        s = g.add_const(t + '_scale', p[t][0])
        z = g.add_const(t + '_zero_point', p[t][1])
        qd = []
        src = t
        if t in g.outputs:
            src = t + '_QuantizeInput'
            g.producer(t).output[list(g.producer(t).output).index(t)] = src
        for i in range(k):
            sfx = f'_{i + 1}' if k > 1 else ''
            dst = t if t in g.outputs else t + '_DequantizeLinear_Output' + sfx
            qd += [h.make_node('QuantizeLinear', [src, s, z], [t + '_QuantizeLinear_Output' + sfx]),
                   h.make_node('DequantizeLinear', [t + '_QuantizeLinear_Output' + sfx, s, z],
                               [dst])]
            for u in (users[i:i + 1] if k > 1 else users):
                u.input[:] = [dst if v == t else v for v in u.input]
        pairs[t] = qd
    for t in [i.name for i in g.inputs]:
        out += pairs.pop(t, [])
    for n in g.nodes:
        out.append(n)
        for t in list(n.output):
            key = t[:-len('_QuantizeInput')] if t.endswith('_QuantizeInput') else t
            out += pairs.pop(key, [])
    return g.model_out(pre + out)


def qoperator(model, rng, per_channel=False):
    """The QOperator format of quantize_static()."""
    g = Graph(model)
    g.remove_activations(rng)
    p = g.params(rng)
    out = []
    q = {}         # float tensor -> its uint8 version
    inputs = {i.name for i in g.inputs}

    def sz(t):
        return [g.add_const(t + '_scale', p[t][0]), g.add_const(t + '_zero_point', p[t][1])]

    def qin(t):
        if t not in q:
            q[t] = t + '_quantized'
            out.append(h.make_node('QuantizeLinear', [t, *sz(t)], [q[t]]))
        return q[t]

    def produced(t):
        return t in inputs or any(t in m.output for m in out)

    def deq(t):
        out.append(h.make_node('DequantizeLinear', [q[t], *sz(t)], [t]))

    ms = {'Add': 'QLinearAdd', 'Mul': 'QLinearMul', 'Concat': 'QLinearConcat',
          'GlobalAveragePool': 'QLinearGlobalAveragePool', 'Sigmoid': 'QLinearSigmoid',
          'AveragePool': 'QLinearAveragePool', 'LeakyRelu': 'QLinearLeakyRelu'}
    for n in g.nodes:
        a = onnx_ref._attrs(n)
        y = n.output[0]
        acts = g.act_inputs(n)
        if n.op_type not in QUANT_OPS or any(t not in p for t in acts + list(n.output)):
            # Float: from the uint8 inputs back to float, and on again.
            for t in acts:
                if t in q and not produced(t):
                    deq(t)
            out.append(n)
            continue
        xs = [qin(t) for t in acts]
        if n.op_type in ('Conv', 'Gemm', 'MatMul') and n.input[1] in g.const:
            w, b, axis = g.quantize_weights(n, p[n.input[0]][0], per_channel)
            q[y] = y + '_quantized'
            if n.op_type == 'Conv':
                node = h.make_node('QLinearConv', [xs[0], *sz(n.input[0]), *w, *sz(y)] +
                                   (b[:1] if b else []), [q[y]], **a)
            elif n.op_type == 'Gemm':
                node = h.make_node('QGemm', [xs[0], *sz(n.input[0]), *w] +
                                   (b[:1] if b else ['']) + sz(y), [q[y]],
                                   domain='com.microsoft', **a)
            else:
                node = h.make_node('QLinearMatMul', [xs[0], *sz(n.input[0]), *w, *sz(y)],
                                   [q[y]])
            out.append(node)
        elif n.op_type in ms:
            ins = [v for t, x in zip(acts, xs) for v in (x, *sz(t))]
            ins = sz(y) + ins if n.op_type == 'Concat' else ins + sz(y)
            q[y] = y + '_quantized'
            out.append(h.make_node(ms[n.op_type], ins, [q[y]], domain='com.microsoft', **a))
        elif n.op_type in MOVE_OPS:
            ins = [xs[0]] + list(n.input[1:])
            if n.op_type == 'Pad':
                ins = ins[:2] + [g.add_const(y + '_pad_value', p[y][1])]
            for t in n.output:
                q[t] = t + '_quantized'
            out.append(h.make_node(n.op_type, ins, [q[t] for t in n.output], **a))
        else:
            for t in acts:
                if not produced(t):
                    deq(t)
            out.append(n)
            continue
        for t in n.output:
            if t in g.outputs:
                deq(t)
    return g.model_out(out, ms=True)
