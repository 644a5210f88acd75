#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""An ONNX evaluator in numpy, the tests' oracle for tapu-run.

Written from the ONNX operator specifications (onnx/docs/Operators.md)
for the operators of tapu-run's test models, in float32 as ONNX Runtime
computes them. It shares nothing with tapu-run's lowering, folding or CPU
reference: no QDQ pattern is recognised, every node runs as the spec
defines it, so a mis-folded graph shows as a wrong output.

    run(model, {name: array}) -> [array per graph output]
"""
import numpy as np
from onnx import helper, mapping, numpy_helper

F32 = np.float32


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _axis_shape(scale, x, axis):
    """Shape that broadcasts a per-axis (1-D) parameter along @axis of x."""
    if np.ndim(scale) == 0:
        return np.shape(scale)
    shape = [1] * x.ndim
    shape[axis % x.ndim] = -1
    return shape


def quantize_linear(x, scale, zp=None, axis=1):
    dt = np.uint8 if zp is None else zp.dtype
    zp = np.zeros((), dt) if zp is None else zp
    shape = _axis_shape(scale, x, axis)
    # Round half to even, saturate to the zero point's type.
    q = np.rint(x.astype(F32) / scale.astype(F32).reshape(shape))
    q = q + zp.astype(np.int64).reshape(shape)
    info = np.iinfo(dt)
    return np.clip(q, info.min, info.max).astype(dt)


def dequantize_linear(x, scale, zp=None, axis=1):
    shape = _axis_shape(scale, x, axis)
    zp = np.zeros((), np.int64) if zp is None else zp.astype(np.int64)
    return ((x.astype(np.int64) - zp.reshape(shape)).astype(F32) *
            scale.astype(F32).reshape(shape))


def _pads(a, nsp):
    p = a.get('pads', [0] * (2 * nsp))
    return list(p[:nsp]), list(p[nsp:])


def conv(x, w, b=None, a=None):
    """NCHW convolution with groups, strides, dilations and explicit pads."""
    n, c, hi, wi = x.shape
    co, cig, kh, kw = w.shape
    g = a.get('group', 1)
    s = a.get('strides', [1, 1])
    d = a.get('dilations', [1, 1])
    pads = _auto_pads(a, [kh, kw], s, d, (hi, wi))
    (pt, pl), (pb, pr) = pads[:2], pads[2:]
    xp = np.zeros((n, c, hi + pt + pb, wi + pl + pr), np.float64)
    xp[:, :, pt:pt + hi, pl:pl + wi] = x
    ho = (hi + pt + pb - d[0] * (kh - 1) - 1) // s[0] + 1
    wo = (wi + pl + pr - d[1] * (kw - 1) - 1) // s[1] + 1
    y = np.zeros((n, co, ho, wo), np.float64)
    cog = co // g
    for oc in range(co):
        grp = oc // cog
        xs = xp[:, grp * cig:(grp + 1) * cig]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * d[0]:i * d[0] + s[0] * (ho - 1) + 1:s[0],
                           j * d[1]:j * d[1] + s[1] * (wo - 1) + 1:s[1]]
                y[:, oc] += np.einsum('nchw,c->nhw', patch, w[oc, :, i, j])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y.astype(F32)


def _auto_pads(a, k, s, d, size):
    """Explicit pads [begin..., end...] of auto_pad: SAME_UPPER puts the odd
    one at the end, SAME_LOWER at the beginning, VALID none."""
    ap = a.get('auto_pad', b'NOTSET')
    ap = ap.decode() if isinstance(ap, bytes) else ap
    if ap == 'NOTSET':
        return list(a.get('pads', [0] * 2 * len(k)))
    if ap == 'VALID':
        return [0] * 2 * len(k)
    beg, end = [], []
    for i, n in enumerate(size):
        out = -(-n // s[i])
        tot = max((out - 1) * s[i] + d[i] * (k[i] - 1) + 1 - n, 0)
        small = tot // 2
        beg.append(small if ap == 'SAME_UPPER' else tot - small)
        end.append(tot - beg[-1])
    return beg + end


def _windows(x, a, fill):
    """Padded input and output size of a 2-D pool, ceil_mode 0."""
    k = a['kernel_shape']
    s = a.get('strides', [1, 1])
    pads = _auto_pads(a, k, s, a.get('dilations', [1, 1]), x.shape[2:])
    (pt, pl), (pb, pr) = pads[:2], pads[2:]
    assert not a.get('ceil_mode', 0) and a.get('dilations', [1, 1]) == [1, 1]
    n, c, h, w = x.shape
    xp = np.full((n, c, h + pt + pb, w + pl + pr), fill, np.float64)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    valid = np.zeros(xp.shape[2:], np.float64)
    valid[pt:pt + h, pl:pl + w] = 1
    ho = (h + pt + pb - k[0]) // s[0] + 1
    wo = (w + pl + pr - k[1]) // s[1] + 1
    return xp, valid, k, s, ho, wo


def pool(x, a, avg):
    xp, valid, k, s, ho, wo = _windows(x, a, 0.0 if avg else -np.inf)
    y = np.zeros(x.shape[:2] + (ho, wo), np.float64)
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            if not avg:
                y[:, :, i, j] = win.max(axis=(2, 3))
                continue
            cnt = (k[0] * k[1] if a.get('count_include_pad', 0) else
                   valid[i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]].sum())
            y[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return y.astype(F32)


def gemm(a_, b_, c_=None, a=None):
    if a.get('transA', 0):
        a_ = a_.T
    if a.get('transB', 0):
        b_ = b_.T
    y = a.get('alpha', 1.0) * (a_.astype(np.float64) @ b_.astype(np.float64))
    if c_ is not None:
        y = y + a.get('beta', 1.0) * c_
    return y.astype(F32)


def clip(x, lo=None, hi=None, a=None, opset=13):
    if opset < 11:
        lo, hi = a.get('min', -np.inf), a.get('max', np.inf)
    y = x
    if lo is not None:
        y = np.maximum(y, np.asarray(lo, x.dtype))
    if hi is not None:
        y = np.minimum(y, np.asarray(hi, x.dtype))
    # min > max: every element is max.
    return y.astype(x.dtype)


def reshape(x, shape, a):
    shape = [int(v) for v in shape]
    if not a.get('allowzero', 0):
        shape = [x.shape[i] if v == 0 else v for i, v in enumerate(shape)]
    return x.reshape(shape)


def pad(x, pads, value=None, a=None):
    mode = a.get('mode', b'constant')
    mode = mode.decode() if isinstance(mode, bytes) else mode
    n = x.ndim
    p = [int(v) for v in pads]
    if mode in ('edge', 'reflect'):    # numpy's modes of the same names
        assert min(p) >= 0
        return np.pad(x, [(p[i], p[i + n]) for i in range(n)], mode=mode)
    assert mode == 'constant'
    v = np.zeros((), x.dtype) if value is None else value
    out = np.full([x.shape[i] + p[i] + p[i + n] for i in range(n)], v, x.dtype)
    out[tuple(slice(p[i], p[i] + x.shape[i]) for i in range(n))] = x
    return out


def _sigmoid(x):
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(F32)


def qgemm(a, a_s, a_z, b, b_s, b_z, c=None, y_s=None, y_z=None, attrs=None):
    """com.microsoft QGemm: alpha * dq(A) @ dq(B) + dq(C), C in scale
    a_scale * b_scale, then quantized if y_scale is given; B's scale and
    zero point per tensor or per output column."""
    tb = attrs.get('transB', 0)
    af = dequantize_linear(a, a_s, a_z)
    if attrs.get('transA', 0):
        af = af.T
    col = (-1, 1) if tb else (1, -1)
    bf = (b.astype(np.int64) - np.reshape(b_z.astype(np.int64), col if b_z.ndim else ())) \
        .astype(F32) * np.reshape(b_s.astype(F32), col if b_s.ndim else ())
    if tb:
        bf = bf.T
    y = attrs.get('alpha', 1.0) * (af.astype(np.float64) @ bf.astype(np.float64))
    if c is not None:
        y = y + c.astype(np.float64) * (a_s.astype(np.float64) * b_s.astype(np.float64))
    y = y.astype(F32)
    return y if y_s is None else quantize_linear(y, y_s, y_z)


def softmax(x, a, opset, log=False):
    """Softmax over @axis (opset 13), or over the 2-D coercion at it."""
    ax = a.get('axis', -1 if opset >= 13 else 1) % x.ndim
    shape = x.shape
    if opset < 13:
        x = x.reshape(int(np.prod(shape[:ax])), -1)
        ax = 1
    e = np.exp((x - x.max(axis=ax, keepdims=True)).astype(np.float64))
    y = e / e.sum(axis=ax, keepdims=True)
    return (np.log(y) if log else y).astype(F32).reshape(shape)


def slice_(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    idx = [slice(None)] * x.ndim
    for b, e, ax, st in zip(starts, ends, axes, steps):
        idx[int(ax)] = slice(int(b), int(e), int(st))   # Python's clamping is ONNX's
    return x[tuple(idx)]


def resize(x, a, roi=None, scales=None, sizes=None):
    """Resize, opset 13: nearest, linear or cubic, per-axis 1-D coordinates."""
    mode = a.get('mode', b'nearest').decode()
    cmode = a.get('coordinate_transformation_mode', b'half_pixel').decode()
    nmode = a.get('nearest_mode', b'round_prefer_floor').decode()
    if sizes is not None and len(sizes):
        out = [int(v) for v in sizes]
        scl = [o / i for o, i in zip(out, x.shape)]
    else:
        scl = [float(v) for v in scales]
        out = [int(np.floor(i * s)) for i, s in zip(x.shape, scl)]
    coords = []
    for i, (n_in, n_out, sc) in enumerate(zip(x.shape, out, scl)):
        o = np.arange(n_out, dtype=np.float64)
        if cmode == 'tf_crop_and_resize':
            st, en = float(roi[i]), float(roi[i + x.ndim])
            c = (st * (n_in - 1) + o * (en - st) * (n_in - 1) / (n_out - 1) if n_out > 1
                 else np.full(n_out, 0.5 * (st + en) * (n_in - 1)))
        elif cmode == 'align_corners':     # length_resized: n_in * scale
            c = o * (n_in - 1) / (n_in * sc - 1) if n_in * sc > 1 else o * 0
        elif cmode == 'tf_half_pixel_for_nn':
            c = (o + 0.5) / sc
        elif cmode == 'asymmetric':
            c = o / sc
        elif cmode == 'pytorch_half_pixel' and n_out == 1:
            c = o * 0
        else:
            c = (o + 0.5) / sc - 0.5
        coords.append(c)
    if mode == 'nearest':
        y = x
        for i, c in enumerate(coords):
            if nmode == 'floor':
                r = np.floor(c)
            elif nmode == 'ceil':
                r = np.ceil(c)
            else:
                half = c - np.floor(c) == 0.5
                r = np.where(half, np.ceil(c) if nmode == 'round_prefer_ceil' else np.floor(c),
                             np.round(c))
            y = np.take(y, np.clip(r, 0, x.shape[i] - 1).astype(np.int64), axis=i)
        return y
    if mode == 'cubic':
        # Keys' cubic convolution with coefficient A over the 4 nearest
        # samples, edge-padded; exclude_outside drops (and renormalizes)
        # the taps outside the input.
        A = a.get('cubic_coeff_a', -0.75)
        y = x.astype(np.float64)
        for i, c in enumerate(coords):
            c0 = np.floor(c)
            t = c - c0
            ws, ids = [], []
            for j, d in enumerate((t + 1, t, 1 - t, 2 - t)):
                near = ((A + 2) * d - (A + 3)) * d * d + 1
                far = ((A * d - 5 * A) * d + 8 * A) * d - 4 * A
                ws.append(near if j in (1, 2) else far)
                ids.append(c0.astype(np.int64) - 1 + j)
            ws = np.array(ws)
            if a.get('exclude_outside', 0):
                ws = np.where([(k >= 0) & (k < x.shape[i]) for k in ids], ws, 0)
                ws = ws / ws.sum(axis=0)
            shape = [-1 if k == i else 1 for k in range(x.ndim)]
            y = sum(w.reshape(shape) * np.take(y, np.clip(k, 0, x.shape[i] - 1), axis=i)
                    for w, k in zip(ws, ids))
        return _extrapolate(y.astype(F32), coords, x, a, cmode)
    y = x.astype(np.float64)
    for i, c in enumerate(coords):
        c = np.clip(c, 0, x.shape[i] - 1)
        lo = np.floor(c).astype(np.int64)
        hi = np.minimum(lo + 1, x.shape[i] - 1)
        w = (c - lo).reshape([-1 if k == i else 1 for k in range(x.ndim)])
        y = np.take(y, lo, axis=i) * (1 - w) + np.take(y, hi, axis=i) * w
    return _extrapolate(y.astype(F32), coords, x, a, cmode)


def _extrapolate(y, coords, x, a, cmode):
    """tf_crop_and_resize: extrapolation_value where a coordinate is outside."""
    if cmode != 'tf_crop_and_resize':
        return y
    out = np.zeros(y.shape, bool)
    for i, c in enumerate(coords):
        shape = [-1 if k == i else 1 for k in range(x.ndim)]
        out |= ((c < 0) | (c > x.shape[i] - 1)).reshape(shape)
    return np.where(out, F32(a.get('extrapolation_value', 0.0)), y).astype(F32)


def _qlinear(op, x, a):
    """The QLinear* operators: their float operator between dequantized
    inputs and a quantized output (QLinearConv, QLinearMatMul; com.microsoft
    QLinearAdd, QLinearMul, QLinearConcat, QLinear{Global,}AveragePool,
    QLinearSigmoid, QLinearLeakyRelu)."""
    if op == 'QLinearConv':
        xf = dequantize_linear(*x[0:3])
        wf = dequantize_linear(*x[3:6], axis=0)
        b = None if len(x) < 9 or x[8] is None else \
            x[8].astype(np.float64) * (x[1].astype(np.float64) * x[4].astype(np.float64))
        return quantize_linear(conv(xf, wf, b, a), x[6], x[7])
    if op == 'QLinearMatMul':
        af = dequantize_linear(*x[0:3])
        bf = dequantize_linear(*x[3:6], axis=-1)
        return quantize_linear((af.astype(np.float64) @ bf).astype(F32), x[6], x[7])
    if op == 'QLinearConcat':
        ins = [dequantize_linear(*x[i:i + 3]) for i in range(2, len(x), 3)]
        return quantize_linear(np.concatenate(ins, axis=a['axis']), x[0], x[1])
    if op in ('QLinearAdd', 'QLinearMul'):
        af, bf = dequantize_linear(*x[0:3]), dequantize_linear(*x[3:6])
        y = af + bf if op == 'QLinearAdd' else af * bf
        return quantize_linear(y.astype(F32), x[6], x[7])
    xf = dequantize_linear(*x[0:3])
    if op == 'QLinearGlobalAveragePool':
        assert not a.get('channels_last', 0)
        y = xf.astype(np.float64).mean(axis=tuple(range(2, xf.ndim)), keepdims=True)
    elif op == 'QLinearAveragePool':
        y = pool(xf, a, True)
    elif op == 'QLinearSigmoid':
        y = _sigmoid(xf)
    elif op == 'QLinearLeakyRelu':
        y = np.where(xf >= 0, xf, F32(a.get('alpha', 0.01)) * xf)
    else:
        raise NotImplementedError(op)
    return quantize_linear(y.astype(F32), x[3], x[4])


def run(model, feeds, everything=False):
    """Evaluate @model's graph on @feeds; returns the graph outputs, or
    with @everything a dict of every tensor."""
    opset = max((o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')),
                default=13)
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        x = [env[i] if i else None for i in node.input]
        a = _attrs(node)
        op = node.op_type
        if op == 'QGemm':
            assert node.domain == 'com.microsoft'
            env[node.output[0]] = qgemm(*x, attrs=a)
            continue
        if op.startswith('QLinear'):
            env[node.output[0]] = _qlinear(op, x, a)
            continue
        assert node.domain in ('', 'ai.onnx'), node.domain
        if op == 'QuantizeLinear':
            y = quantize_linear(*x, axis=a.get('axis', 1))
        elif op == 'DequantizeLinear':
            y = dequantize_linear(*x, axis=a.get('axis', 1))
        elif op == 'Conv':
            y = conv(*x, a=a)
        elif op == 'Gemm':
            y = gemm(*x, a=a)
        elif op == 'MatMul':
            y = (x[0].astype(np.float64) @ x[1]).astype(x[0].dtype)
        elif op == 'Add':
            y = x[0] + x[1]
        elif op == 'Mul':
            y = x[0] * x[1]
        elif op == 'Sub':
            y = x[0] - x[1]
        elif op == 'Relu':
            y = np.maximum(x[0], np.zeros((), x[0].dtype))
        elif op == 'Clip':
            y = clip(*x, a=a, opset=opset)
        elif op == 'Sigmoid':
            y = _sigmoid(x[0])
        elif op == 'Tanh':
            y = np.tanh(x[0].astype(np.float64)).astype(F32)
        elif op == 'LeakyRelu':
            y = np.where(x[0] >= 0, x[0], F32(a.get('alpha', 0.01)) * x[0]).astype(F32)
        elif op == 'HardSigmoid':
            y = np.clip(F32(a.get('alpha', 0.2)) * x[0] + F32(a.get('beta', 0.5)), 0, 1)
            y = y.astype(F32)
        elif op == 'HardSwish':
            y = (x[0] * np.clip(x[0] / F32(6) + F32(0.5), 0, 1)).astype(F32)
        elif op in ('AveragePool', 'MaxPool'):
            y = pool(x[0], a, op == 'AveragePool')
        elif op == 'GlobalAveragePool':
            y = x[0].astype(np.float64).mean(axis=(2, 3), keepdims=True).astype(F32)
        elif op == 'Transpose':
            y = np.transpose(x[0], a.get('perm'))
        elif op == 'Reshape':
            y = reshape(x[0], x[1], a)
        elif op == 'Flatten':
            ax = a.get('axis', 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif op == 'Concat':
            y = np.concatenate(x, axis=a['axis'])
        elif op == 'Pad':
            y = pad(*x, a=a)
        elif op in ('Squeeze', 'Unsqueeze'):
            axes = a.get('axes') if opset < 13 else (list(x[1]) if len(x) > 1 else None)
            if op == 'Squeeze':
                y = np.squeeze(x[0], axis=None if axes is None else tuple(axes))
            else:
                y = np.expand_dims(x[0], tuple(int(v) for v in axes))
        elif op == 'Identity':
            y = x[0]
        elif op in ('Softmax', 'LogSoftmax'):
            y = softmax(x[0], a, opset, op == 'LogSoftmax')
        elif op == 'Slice':
            y = slice_(*x)
        elif op == 'Resize':
            y = resize(x[0], a, *x[1:])
        elif op == 'GlobalMaxPool':
            y = x[0].max(axis=tuple(range(2, x[0].ndim)), keepdims=True)
        elif op == 'ReduceMean':
            axes = a.get('axes')
            y = x[0].astype(np.float64).mean(axis=None if axes is None else tuple(axes),
                                            keepdims=bool(a.get('keepdims', 1))).astype(F32)
        elif op == 'BatchNormalization':
            sh = [1, -1] + [1] * (x[0].ndim - 2)
            xs, sc_, b, mu, var = x[0], *(v.reshape(sh) for v in x[1:5])
            y = ((xs - mu) / np.sqrt(var + F32(a.get('epsilon', 1e-5))) * sc_ + b).astype(F32)
        elif op == 'Div':
            y = (x[0] / x[1]).astype(F32)
        elif op == 'Split':
            ax = a.get('axis', 0)
            parts = list(x[1]) if len(x) > 1 and x[1] is not None else a.get('split')
            if parts is None:
                ys = np.split(x[0], len(node.output), axis=ax)
            else:
                ys = np.split(x[0], np.cumsum(parts)[:-1], axis=ax)
            for name, part in zip(node.output, ys):
                env[name] = part
            continue
        elif op == 'ConstantOfShape':
            v = numpy_helper.to_array(a['value']) if 'value' in a else np.zeros(1, F32)
            y = np.full([int(d) for d in x[0]], v.reshape(-1)[0], v.dtype)
        elif op == 'Constant':
            y = numpy_helper.to_array(a['value'])
        elif op == 'Cast':
            y = x[0].astype(mapping.TENSOR_TYPE_TO_NP_TYPE[a['to']])
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y
    return env if everything else [env[o.name] for o in model.graph.output]
