#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Generate the model zoo: standard architectures, quantized the ways users
quantize them, with the outputs an independent ONNX evaluator computes.

    /usr/bin/python3 tools/tapu/models/zoo/gen.py OUTDIR [NAME_REGEX]
        (python3-torch, python3-torchvision, python3-onnx, numpy)

Architectures (random weights, fixed seeds, small inputs): torchvision's
MobileNetV2, ResNet-18 and ShuffleNetV2 (x0.5) at 32x32 with 10 classes, an
inverted-residual stack, a ResNet basic-block stack, an MLP, and a network
with Concat, Sigmoid, Pad and Transpose. Each is exported by torch.onnx
(opset 13) and quantized five ways (quantize.py reproduces ONNX Runtime's
quantize_static, which Debian 12 does not package):

  qdq           QDQ, per-tensor weights (quantize_static's defaults)
  qdq_keep      QDQ, per-channel weights, Relu/Clip kept
                (QDQKeepRemovableActivations)
  qdq_dedicated QDQ, per-channel weights, one QDQ pair per consumer
                (DedicatedQDQPair)
  qop           QOperator format (QLinearConv, com.microsoft QGemm,
                QLinearAdd, ...), per-channel weights
  torch         torch's eager post-training quantization (qnnpack),
                exported by torch.onnx as it comes (Constant and Cast nodes)

OUTDIR/ARCH_STYLE/ holds model.onnx and test_data_set_0/{input_0,output_0}.pb
in the layout of the ONNX node tests, output_0.pb being what onnx_ref.py (an
evaluator written from the ONNX operator specs) computes for the quantized
model, and test_data_set_0/output_0_lsb.txt the output's quantization step,
for comparisons in LSB, and top_classes.txt the reference's top class, then
the classes the device may pick instead within run.sh's tolerance.
Calibration uses 4 random inputs, the test another.
"""
import io
import os
import re
import sys
import warnings

import numpy as np
import onnx
import torch
from torch import nn
from torch.ao import quantization as tq
from torch.ao.nn.quantized import FloatFunctional
import torchvision.models as tvm
from torchvision.models import quantization as tvq
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.models.quantization.mobilenetv2 import QuantizableInvertedResidual
from torchvision.models.resnet import BasicBlock
from torchvision.models.quantization.resnet import QuantizableBasicBlock
from torchvision.models.quantization.utils import _replace_relu
from torchvision.ops.misc import Conv2dNormActivation

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'lib', 'tapu-onnx', 'tests'))
import onnx_ref  # noqa: E402
import quantize  # noqa: E402

warnings.filterwarnings('ignore')


class Stubbed(nn.Module):
    """QuantStub, body, DeQuantStub: identity stubs in float."""

    def __init__(self, body):
        super().__init__()
        self.quant, self.body, self.dequant = tq.QuantStub(), body, tq.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.body(self.quant(x)))

    def fuse_model(self):
        for m in self.modules():
            if type(m) is Conv2dNormActivation:
                tq.fuse_modules(m, [str(i) for i in range(len(m))], inplace=True)
            elif type(m) in (QuantizableInvertedResidual, QuantizableBasicBlock):
                m.fuse_model()


def head(cin, classes=10):
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]


def inverted_residuals(quantizable):
    block = QuantizableInvertedResidual if quantizable else InvertedResidual
    act = nn.ReLU if quantizable else nn.ReLU6
    body = nn.Sequential(
        Conv2dNormActivation(3, 16, stride=2, activation_layer=act),
        block(16, 24, 2, 6), block(24, 24, 1, 6), block(24, 32, 2, 6), block(32, 32, 1, 6),
        Conv2dNormActivation(32, 64, kernel_size=1, activation_layer=act), *head(64))
    if quantizable:
        _replace_relu(body)
    return Stubbed(body)


def resnet_blocks(quantizable):
    block = QuantizableBasicBlock if quantizable else BasicBlock
    down = nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))
    return Stubbed(nn.Sequential(
        Conv2dNormActivation(3, 16), block(16, 16), block(16, 32, 2, down), block(32, 32),
        *head(32)))


def mlp(quantizable):
    return Stubbed(nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(192, 64), nn.ReLU()),
                                 nn.Sequential(nn.Linear(64, 32), nn.ReLU()),
                                 nn.Linear(32, 10)))


class CatPad(nn.Module):
    """Two branches (Relu, Sigmoid) concatenated, padded, convolved,
    transposed, flattened into a classifier."""

    def __init__(self):
        super().__init__()
        self.a = Conv2dNormActivation(3, 8, norm_layer=None)
        self.b = nn.Conv2d(3, 8, 1)
        self.sig = nn.Sigmoid()
        self.cat = FloatFunctional()
        self.c = nn.Conv2d(16, 16, 3)
        self.fc = nn.Linear(16 * 8 * 8, 10)
        # torch.onnx cannot export a quantized Pad or Flatten: in float.
        self.dequant, self.quant = tq.DeQuantStub(), tq.QuantStub()
        self.dequant2, self.quant2 = tq.DeQuantStub(), tq.QuantStub()

    def forward(self, x):
        y = self.cat.cat([self.a(x), self.sig(self.b(x))], 1)
        y = self.quant(nn.functional.pad(self.dequant(y), (1, 1, 1, 1)))
        y = self.dequant2(self.c(y))
        return self.fc(self.quant2(torch.flatten(y.permute(0, 1, 3, 2), 1)))


ARCHS = {
    # name: (float model, quantizable model, input shape)
    'mobilenet_v2': (lambda: tvm.mobilenet_v2(num_classes=10),
                     lambda: tvq.mobilenet_v2(quantize=False, num_classes=10), (1, 3, 32, 32)),
    'resnet18': (lambda: tvm.resnet18(num_classes=10),
                 lambda: tvq.resnet18(quantize=False, num_classes=10), (1, 3, 32, 32)),
    'shufflenet_v2': (lambda: tvm.shufflenet_v2_x0_5(num_classes=10),
                      lambda: tvq.shufflenet_v2_x0_5(quantize=False, num_classes=10),
                      (1, 3, 32, 32)),
    'inverted_residuals': (lambda: inverted_residuals(False), lambda: inverted_residuals(True),
                           (1, 3, 16, 16)),
    'resnet_blocks': (lambda: resnet_blocks(False), lambda: resnet_blocks(True), (1, 3, 16, 16)),
    'mlp': (lambda: mlp(False), lambda: mlp(True), (1, 3, 8, 8)),
    'concat_pad': (lambda: Stubbed(CatPad()), lambda: Stubbed(CatPad()), (1, 3, 8, 8)),
}
STYLES = ('qdq', 'qdq_keep', 'qdq_dedicated', 'qop', 'torch')
# Left out, and why.
LEFT_OUT = {
    'shufflenet_v2_torch': "torch 1.13's exporter fails on the quantized Slice of its "
                           "channel split (SymbolicValueError)",
}


def randomize(ctor, seed):
    """The model with random weights and batch-norm statistics (not the
    identity a fresh BatchNorm2d has), so that folded BN changes the
    weights; the same for the float and the quantizable variant."""
    torch.manual_seed(seed)
    model = ctor()
    torch.manual_seed(seed + 1000)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def export(model, x):
    f = io.BytesIO()
    torch.onnx.export(model, torch.from_numpy(x), f, opset_version=13,
                      input_names=['input'], output_names=['logits'])
    return onnx.load_from_string(f.getvalue())


def torch_ptq(ctor, seed, calib, x):
    torch.backends.quantized.engine = 'qnnpack'
    m = randomize(ctor, seed)
    m.fuse_model()
    m.qconfig = tq.get_default_qconfig('qnnpack')
    tq.prepare(m, inplace=True)
    with torch.no_grad():
        for c in calib:
            m(torch.from_numpy(c))
    tq.convert(m, inplace=True)
    return export(m, x)


def out_lsb(model):
    """Scale of the DequantizeLinear that makes the graph output."""
    g = model.graph
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == 'Constant':
            consts[n.output[0]] = onnx.numpy_helper.to_array(n.attribute[0].t)
    prod = {o: n for n in g.node for o in n.output}
    n = prod[g.output[0].name]
    assert n.op_type == 'DequantizeLinear', n.op_type
    return float(consts[n.input[1]])


# run.sh's default MAX_DIFF: the device's logits may differ this many LSB.
MAX_DIFF = 4


def top_classes(model, y):
    """The reference's top class, then every class whose logit is within
    2 * MAX_DIFF LSB of it: with each logit off by up to MAX_DIFF, the device
    may rank any of them first (random weights leave near-ties)."""
    y = y.reshape(-1)
    top = int(np.argmax(y))
    near = 2 * MAX_DIFF * out_lsb(model) * (1 + 1e-6)
    return [top] + [int(c) for c in np.argsort(-y) if c != top and y[top] - y[c] <= near]


def write(outdir, name, model, x, y):
    d = os.path.join(outdir, name)
    data = os.path.join(d, 'test_data_set_0')
    os.makedirs(data, exist_ok=True)
    onnx.save(model, os.path.join(d, 'model.onnx'))
    for f, a, n in (('input_0.pb', x, 'input'), ('output_0.pb', y, 'logits')):
        with open(os.path.join(data, f), 'wb') as fp:
            fp.write(onnx.numpy_helper.from_array(a, n).SerializeToString())
    with open(os.path.join(data, 'output_0_lsb.txt'), 'w') as fp:
        fp.write(f'{out_lsb(model):.9g}\n')
    with open(os.path.join(data, 'top_classes.txt'), 'w') as fp:
        fp.write(' '.join(str(c) for c in top_classes(model, y)) + '\n')


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ('-h', '--help'):
        print(__doc__)
        return 0 if len(sys.argv) > 1 else 2
    outdir = sys.argv[1]
    pick = re.compile(sys.argv[2] if len(sys.argv) > 2 else '')
    for ai, (arch, (fctor, qctor, shape)) in enumerate(ARCHS.items()):
        rng = np.random.default_rng(100 + ai)
        calib = [rng.uniform(0, 1, shape).astype(np.float32) for _ in range(4)]
        x = rng.uniform(0, 1, shape).astype(np.float32)
        fmodel = None
        for style in STYLES:
            name = f'{arch}_{style}'
            if not pick.search(name):
                continue
            if name in LEFT_OUT:
                print(f'{name}: left out: {LEFT_OUT[name]}')
                continue
            if style == 'torch':
                m = torch_ptq(qctor, ai, calib, x)
            else:
                if fmodel is None:
                    fmodel = quantize.prepare(export(randomize(fctor, ai), x))
                    ranges = quantize.calibrate(fmodel, [{'input': c} for c in calib])
                m = {'qdq': lambda: quantize.qdq(fmodel, ranges),
                     'qdq_keep': lambda: quantize.qdq(fmodel, ranges, True, True),
                     'qdq_dedicated': lambda: quantize.qdq(fmodel, ranges, True,
                                                           dedicated=True),
                     'qop': lambda: quantize.qoperator(fmodel, ranges, True)}[style]()
            y, = onnx_ref.run(m, {'input': x})
            write(outdir, name, m, x, y)
            print(f'{name}: {len(m.graph.node)} nodes, top classes {top_classes(m, y)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
