#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Train, quantise and export the TAPU Fashion-MNIST int8 CNN.

    python3 tools/tapu/models/fmnist/train.py --out tools/tapu/models/fmnist/
    python3 tools/tapu/models/fmnist/train.py --eval-only   # only re-check

Trains a small float CNN with torch on the CPU, quantises it post-training
(static, min/max calibration), writes fmnist_int8.onnx (standard ONNX
QOperator graph, opset 13), then re-reads that file and runs it through an
integer reference that uses exactly the TAPU ISA arithmetic
(include/uapi/drm/tapu_accel.h) and writes fmnist_expected.txt. See README.
"""
import argparse
import gzip
import hashlib
import math
import os
import struct
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DATA = '/usr/share/datasets/fashion-mnist'  # Debian dataset-fashion-mnist
HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240501
C1, C2 = 8, 16                              # conv channels
OPSET = 13


def load_idx(path):
    """Read an idx (MNIST-format) gzip file into a uint8 array."""
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack('>HBB', raw[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack('>%dI' % ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    p = 'train' if split == 'train' else 't10k'
    x = load_idx(f'{DATA}/{p}-images-idx3-ubyte.gz')
    y = load_idx(f'{DATA}/{p}-labels-idx1-ubyte.gz')
    return x, y.astype(np.int64)


# ---------------------------------------------------------------- float model

def train(epochs, threads, log):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, C1, 3, padding=1)
            self.conv2 = nn.Conv2d(C1, C2, 3, padding=1)
            self.fc = nn.Linear(C2 * 7 * 7, 10, bias=False)

        def forward(self, x, taps=None):
            a1 = F.relu(self.conv1(x))
            a2 = F.relu(self.conv2(F.max_pool2d(a1, 2)))
            out = self.fc(F.max_pool2d(a2, 2).flatten(1))
            if taps is not None:
                taps += [a1, a2, out]
            return out

    xtr, ytr = load('train')
    xte, yte = load('test')
    cl = torch.channels_last                 # faster oneDNN convolutions
    xtr = torch.from_numpy(xtr.astype(np.float32) / 255).unsqueeze(1)
    xte = torch.from_numpy(xte.astype(np.float32) / 255).unsqueeze(1)
    xtr, xte = xtr.to(memory_format=cl), xte.to(memory_format=cl)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)

    net = Net().to(memory_format=cl)
    bs = 128
    steps = epochs * (len(xtr) // bs)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(SEED)
    t0 = time.time()
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(len(xtr), generator=gen)
        for i in range(len(xtr) // bs):
            idx = perm[i * bs:(i + 1) * bs]
            x = xtr[idx]
            flip = torch.rand(bs, generator=gen) < 0.5  # horizontal flips
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            x = x.contiguous(memory_format=cl)
            loss = F.cross_entropy(net(x), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        log(f'epoch {ep + 1}/{epochs}: loss {loss.item():.4f}, '
            f'{time.time() - t0:.0f} s')
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(xte[i:i + 1000]).argmax(1)
                          for i in range(0, len(xte), 1000)])
        float_acc = (pred == yte).float().mean().item() * 100
        # calibration: activation ranges on the first 10000 training images
        taps = []
        for i in range(0, 10000, 1000):
            net(xtr[i:i + 1000], taps)
        ranges = [(min(t.min().item() for t in taps[k::3]),
                   max(t.max().item() for t in taps[k::3])) for k in range(3)]
    params = {k: v.detach().double().numpy()
              for k, v in net.state_dict().items()}
    return params, ranges, float_acc, time.time() - t0


# ----------------------------------------------------------------- quantiser

def f32(v):
    return np.asarray(v, np.float32)


def act_qparams(lo, hi):
    """int8 asymmetric (scale, zero point) covering [lo, hi] and 0."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = f32((hi - lo) / 255)
    zp = int(np.clip(np.round(-128 - lo / float(scale)), -128, 127))
    return scale, np.int8(zp)


def weight_q(w, per_channel):
    """int8 symmetric weights in [-127, 127], zero point 0."""
    axes = tuple(range(1, w.ndim)) if per_channel else None
    amax = np.abs(w).max(axis=axes)
    scale = f32(np.where(amax > 0, amax / 127, 1.0))
    s = scale.reshape((-1,) + (1,) * (w.ndim - 1)) if per_channel else scale
    return np.clip(np.round(w / s), -127, 127).astype(np.int8), scale


def build_onnx(params, ranges):
    """Quantise the float parameters and build the QOperator ONNX graph."""
    init = []

    def const(name, arr):
        init.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    in_s, in_zp = f32(1 / 255), np.int8(-128)
    s1, zp1 = act_qparams(0.0, ranges[0][1])  # ReLU: range [0, max], zp -128
    s2, zp2 = act_qparams(0.0, ranges[1][1])
    s3, zp3 = act_qparams(*ranges[2])
    assert zp1 == zp2 == -128
    const('in_scale', in_s), const('in_zp', in_zp)
    const('a1_scale', s1), const('a1_zp', zp1)
    const('a2_scale', s2), const('a2_zp', zp2)
    const('out_scale', s3), const('out_zp', zp3)

    nodes = [helper.make_node('QuantizeLinear', ['input', 'in_scale', 'in_zp'],
                              ['x_q'])]
    x, xs = ('x_q', 'in_scale', 'in_zp'), in_s
    for i, (y, pool, ys) in enumerate([('a1', 'p1', s1), ('a2', 'p2', s2)], 1):
        wq, ws = weight_q(params[f'conv{i}.weight'], True)
        # int32 bias, scale = x_scale * w_scale (ONNX QLinearConv)
        bq = np.round(params[f'conv{i}.bias'] /
                      (np.float64(xs) * ws.astype(np.float64)))
        bq = np.clip(bq, -2**31, 2**31 - 1).astype(np.int32)
        const(f'conv{i}_w', wq), const(f'conv{i}_w_scale', ws)
        const(f'conv{i}_w_zp', np.zeros(len(ws), np.int8))
        const(f'conv{i}_b', bq)
        nodes.append(helper.make_node(
            'QLinearConv', [*x, f'conv{i}_w', f'conv{i}_w_scale',
                            f'conv{i}_w_zp', f'{y}_scale', f'{y}_zp',
                            f'conv{i}_b'], [y], name=f'conv{i}',
            kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]))
        nodes.append(helper.make_node('MaxPool', [y], [pool], name=f'pool{i}',
                                      kernel_shape=[2, 2], strides=[2, 2]))
        x, xs = (pool, f'{y}_scale', f'{y}_zp'), ys
    wq, ws = weight_q(params['fc.weight'].T, False)      # [784, 10]
    const('fc_w', wq), const('fc_w_scale', ws), const('fc_w_zp', np.int8(0))
    nodes.append(helper.make_node('Flatten', ['p2'], ['flat'], axis=1))
    nodes.append(helper.make_node(
        'QLinearMatMul', ['flat', 'a2_scale', 'a2_zp', 'fc_w', 'fc_w_scale',
                          'fc_w_zp', 'out_scale', 'out_zp'], ['logits_q'],
        name='fc'))
    nodes.append(helper.make_node('DequantizeLinear',
                                  ['logits_q', 'out_scale', 'out_zp'],
                                  ['logits']))
    graph = helper.make_graph(
        nodes, 'tapu_fmnist_int8',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                       ['N', 1, 28, 28])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['N', 10]),
         helper.make_tensor_value_info('logits_q', TensorProto.INT8,
                                       ['N', 10])],
        init)
    model = helper.make_model(
        graph, producer_name='tapu/tools/tapu/models/fmnist/train.py',
        opset_imports=[helper.make_opsetid('', OPSET)],
        doc_string='Fashion-MNIST CNN, int8 QOperator form; input = pixel/255 '
                   '(NCHW float32), classes 0-9; see README')
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------- integer reference

def quantize_multiplier(real):
    """TAPU requantisation (multiplier, shift) for a real scale > 0.

    real = mant * 2**exp with 0.5 <= mant < 1 (frexp); m = mant * 2**31
    rounded half away from zero (exact in float64, C: llround(ldexp(mant,
    31))); if m == 2**31 then m = 2**30, exp += 1; shift = 31 - exp.
    So m is in [2**30, 2**31) and real ~= m / 2**shift.
    """
    mant, exp = math.frexp(real)
    t = mant * 2.0**31
    m = int(t) + (t - int(t) >= 0.5)
    if m == 2**31:
        m, exp = 2**30, exp + 1
    shift = 31 - exp
    assert 2**30 <= m < 2**31 and 0 <= shift <= 62, real
    return m, shift


def real_scale(x_scale, w_scale, y_scale):
    """x_scale * w_scale / y_scale from the float32 ONNX scales, evaluated
    left to right in IEEE double (C: (double)xs * (double)ws / (double)ys)."""
    return float(x_scale) * float(w_scale) / float(y_scale)


def rshift(v, s):
    """TAPU rshift on int64: arithmetic shift rounding half up."""
    return np.where(s > 0, (v + (np.int64(1) << np.maximum(s - 1, 0))) >> s, v)


def wrap32(v):
    return ((v + 2**31) & 0xffffffff) - 2**31


class Reference:
    """Executes the ONNX graph on int8 data.

    mode 'tapu': TAPU ISA arithmetic (acc wraps at 32 bits, requant with
    quantize_multiplier() and rshift() rounding half up);
    mode 'onnx': ONNX spec arithmetic (acc * real scale, round half to even)
    for comparison only.
    """

    def __init__(self, model, mode='tapu'):
        self.model, self.mode = model, mode
        self.t = {i.name: numpy_helper.to_array(i)
                  for i in model.graph.initializer}
        self.quant = {}   # node name -> (multiplier[], shift[]) in TAPU mode

    def requant(self, name, acc, xs, ws, ys, zp, axis):
        ws = np.atleast_1d(ws)
        real = np.array([real_scale(xs, w, ys) for w in ws])
        shape = [1] * acc.ndim
        shape[axis] = -1 if len(ws) > 1 else 1
        if self.mode == 'onnx':
            v = np.rint(acc * real.reshape(shape))
        else:
            ms = np.array([quantize_multiplier(r) for r in real], np.int64)
            self.quant[name] = ms
            m, s = ms[:, 0].reshape(shape), ms[:, 1].reshape(shape)
            v = rshift(wrap32(acc) * m, s)
        return np.clip(v + int(zp), -128, 127).astype(np.int8)

    def run(self, pixels):
        """pixels: uint8 [N, 28, 28] -> int8 logits_q [N, 10]."""
        t = self.t
        env = {'input': pixels[:, None].astype(np.float32) / np.float32(255)}
        for n in self.model.graph.node:
            a = [env[i] if i in env else t[i] for i in n.input]
            at = {x.name: helper.get_attribute_value(x) for x in n.attribute}
            if n.op_type == 'QuantizeLinear':
                y = np.rint(a[0] / a[1]) + int(a[2])
                y = np.clip(y, -128, 127).astype(np.int8)
            elif n.op_type == 'QLinearConv':
                x, xs, xz, w, ws, wz, ys, yz, b = a
                assert not wz.any() and at['kernel_shape'] == [3, 3]
                p = at['pads'][0]
                x = np.pad(x.astype(np.int64) - int(xz),
                           [(0, 0), (0, 0), (p, p), (p, p)])
                win = np.lib.stride_tricks.sliding_window_view(x, (3, 3),
                                                               (2, 3))
                nb, ci, h, wd = win.shape[:4]
                cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(nb * h * wd, -1)
                # float64 BLAS is exact here: |sum| < 2**53
                acc = cols.astype(np.float64) @ w.reshape(len(w), -1).T
                acc = acc.astype(np.int64).reshape(nb, h, wd, -1)
                acc = (acc + b).transpose(0, 3, 1, 2)
                y = self.requant(n.name, acc, xs, ws, ys, yz, 1)
            elif n.op_type == 'MaxPool':
                assert at['kernel_shape'] == at['strides'] == [2, 2]
                nb, c, h, wd = a[0].shape
                y = a[0].reshape(nb, c, h // 2, 2, wd // 2, 2).max((3, 5))
            elif n.op_type == 'Flatten':
                y = a[0].reshape(len(a[0]), -1)
            elif n.op_type == 'QLinearMatMul':
                x, xs, xz, w, ws, wz, ys, yz = a
                acc = ((x.astype(np.float64) - int(xz)) @
                       (w.astype(np.float64) - int(wz))).astype(np.int64)
                y = self.requant(n.name, acc, xs, ws, ys, yz, 1)
            elif n.op_type == 'DequantizeLinear':
                y = (a[0].astype(np.float32) - int(a[2])) * a[1]
            else:
                raise ValueError(n.op_type)
            env[n.output[0]] = y
        return env['logits_q']

    def run_all(self, pixels, bs=1000):
        return np.concatenate([self.run(pixels[i:i + bs])
                               for i in range(0, len(pixels), bs)])


def evaluate(path, log, extra):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    xte, yte = load('test')
    ref = Reference(model)
    # the C tool feeds pixel - 128: identical to QuantizeLinear(pixel / 255)
    p = np.arange(256).astype(np.float32) / np.float32(255)
    q = np.rint(p / ref.t['in_scale']) + int(ref.t['in_zp'])
    assert (q == np.arange(256) - 128).all()
    logits = ref.run_all(xte)
    pred = logits.argmax(1)            # first maximum on ties
    correct = int((pred == yte).sum())
    onnx_logits = Reference(model, 'onnx').run_all(xte)
    diff = int((onnx_logits != logits).any(1).sum())
    onnx_acc = (onnx_logits.argmax(1) == yte).mean() * 100
    log(f'int8 accuracy (TAPU arithmetic): {correct / 100:.2f}%')
    log(f'int8 accuracy (ONNX float requant): {onnx_acc:.2f}%, '
        f'{diff} images with differing logits')
    with open(path, 'rb') as f:
        model_hash = hashlib.sha256(f.read()).hexdigest()
    lines = [
        '# generated by tools/tapu/models/fmnist/train.py; TAPU integer',
        '# reference of fmnist_int8.onnx on the 10000 test images of',
        f'# {DATA}/t10k-*.gz; see README',
        *extra,
        f'model_sha256 {model_hash}',
        f'images {len(yte)}',
        f'correct {correct}',
        f'accuracy {correct / 100:.2f}',
        f'logits_sha256 {hashlib.sha256(logits.tobytes()).hexdigest()}',
        'logits0 ' + ' '.join(str(v) for v in logits[0]),
    ]
    for name, ms in ref.quant.items():
        lines.append(f'requant {name} ' +
                     ' '.join(f'{m}:{s}' for m, s in ms))
    lines.append('predictions ' + ''.join(str(v) for v in pred))
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=HERE, help='output directory')
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--threads', type=int, default=1,
                    help='torch CPU threads (results depend on it)')
    ap.add_argument('--eval-only', action='store_true',
                    help='skip training; re-check the existing model')
    args = ap.parse_args()
    log = lambda s: print(s, flush=True)
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, 'fmnist_int8.onnx')
    exp_path = os.path.join(args.out, 'fmnist_expected.txt')
    extra = []
    if not args.eval_only:
        params, ranges, float_acc, secs = train(args.epochs, args.threads, log)
        log(f'float accuracy: {float_acc:.2f}% ({secs:.0f} s training)')
        log('calibrated ranges: ' +
            ', '.join(f'[{lo:.3f}, {hi:.3f}]' for lo, hi in ranges))
        onnx.save(build_onnx(params, ranges), onnx_path)
        log(f'wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes)')
        extra = [f'# float accuracy {float_acc:.2f}']
    text = evaluate(onnx_path, log, extra)
    if args.eval_only and os.path.exists(exp_path):
        with open(exp_path) as f:
            old = [l for l in f if not l.startswith('#')]
        new = [l + '\n' for l in text.splitlines() if not l.startswith('#')]
        ok = old == new
        log(f'{exp_path}: ' + ('matches' if ok else 'DIFFERS'))
        sys.exit(0 if ok else 1)
    with open(exp_path, 'w') as f:
        f.write(text)
    log(f'wrote {exp_path}')


if __name__ == '__main__':
    main()
