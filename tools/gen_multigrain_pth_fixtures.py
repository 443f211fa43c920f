#!/usr/bin/python3
"""Writes the end-to-end PyTorch import fixtures of kernels-test/multigrain/fixtures/pth/.

Run with Debian's python3-torch (no torchvision needed):
    /usr/bin/python3 tools/gen_multigrain_pth_fixtures.py

A tiny MultiGrain network is built the way the original release builds it (the release's
multigrain/ and scripts/): a torchvision-layout ResNet (written below in plain
torch with torchvision's exact module names) whose children up to layer4 (children[:-2]) become
`features`, a GeM `pool` holding its exponent as a 0-d buffer `p` (3.0), and the ResNet's `fc` as
`classifier`; base width 2, 10 classes, batchnorm statistics calibrated on random images then
perturbed (see make_resnet), int64 `num_batches_tracked` included.

Files written (total < 600 KB):
  mg_r50w2_zip.pth       {'model_state', 'optimizer_state', 'extra': {'beta'}} (the original's
                         checkpoint dict), torch.save zip format; ResNet-50 layout (Bottleneck
                         [3, 4, 6, 3], downsample.0/1), embedding d = 64
  mg_r50w2_legacy.pth    the same object in the legacy stream (_use_new_zipfile_serialization=False),
                         the format of the 2019 release
  mg_r18w2_white_legacy.pth
                         a whitened MultiGrain checkpoint (ResNet-18 layout, d = 16, legacy format),
                         made as the original's whitening step makes it: GeM output + constant-1 bias
                         channel (d + 1 = 17), the fc bias moved into an extra weight column, PCA with
                         whitening fitted in float64 on l2n([e, 1]) of 256 random images (m = mean,
                         P = components^T / sqrt(explained variance), every component, then float32),
                         whitened embedding (l2n([e, 1]) - m) P, and the classifier rewritten to read it:
                         W' = [W | b] (P^T)^-1 (float64 inverse), b' = m [W | b]^T. Keys
                         `whitening.pca.pca_m` [17], `whitening.pca.pca_P` [17, 17], `classifier.weight`
                         [10, 17], `classifier.bias` [10]
  tv_r18w2.pth           a plain torchvision ResNet-18 state dict (`conv1.weight`, ...,
                         `layer2.0.downsample.0.weight`, ..., `fc.*`), zip format, for --pretrained-backbone
  expected.safetensors   float64 references computed from the float32 weights (a float64 copy of each
                         model), written by the small independent writer below (not by torch):
                           plain.<img>.{logits,embedding,normalized}      mg_r50w2_*.pth, eval mode
                           white.<img>.{logits,embedding,normalized}      mg_r18w2_white_legacy.pth
                           white_src.<img>.{logits,embedding,normalized}  the same network before whitening
                           white.<img>.biasnorm                           ||[e, 1]|| + 1e-6 per image
                           tv.<img>.{features,gem3}                       tv_r18w2.pth trunk (layer4 output)
                                                                          and its GeM (p = 3) pooling
                           input.<img>.head                               first 16 input values (checks the
                                                                          test's copy of fixture_input)
                         with <img> = a (2x3x64x64) and b (1x3x48x80, non-square).

Inputs are not stored: both this script and the test build them with `fixture_input` below
(an integer hash, values k/256 in [-2, 2], exactly representable in float32).
"""
import copy
import json
import os
import struct
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kernels-test', 'multigrain', 'fixtures', 'pth')
INPUTS = {'a': ((2, 3, 64, 64), 1), 'b': ((1, 3, 48, 80), 2)}
NUM_CLASSES = 10
WIDTH = 2
P = 3.0


# ---------------------------------------------------------------------------------------------
# torchvision's ResNet, same module names (conv1, bn1, relu, maxpool, layer1..4, avgpool, fc)

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)  # v1.5: stride in the 3x3
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, blocks, width, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = width
        for i, n in enumerate(blocks):
            planes = width * 2 ** i
            layers = []
            for b in range(n):
                stride = 2 if (b == 0 and i > 0) else 1
                downsample = None
                if stride != 1 or inplanes != planes * block.expansion:
                    downsample = nn.Sequential(
                        nn.Conv2d(inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                        nn.BatchNorm2d(planes * block.expansion))
                layers.append(block(inplanes, planes, stride, downsample))
                inplanes = planes * block.expansion
            setattr(self, f'layer{i + 1}', nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def random_images(n, h, w, gen):
    """Random images with per-image colour offsets and contrast (float32)."""
    scale = torch.rand(n, 1, 1, 1, generator=gen) + 0.5
    return torch.randn(n, 3, h, w, generator=gen) * scale + torch.rand(n, 3, 1, 1, generator=gen) - 0.5


def make_resnet(block, blocks, gen):
    """A ResNet whose batchnorm statistics look trained: running mean/var calibrated on random images
    (one train-mode pass, cumulative averaging), then perturbed; random affine weights and biases,
    random num_batches_tracked. Without calibration a random tiny net maps every image to nearly the
    same embedding, and the whitening fitted on such embeddings would be hopelessly ill-conditioned."""
    net = ResNet(block, blocks, WIDTH, NUM_CLASSES)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            c = m.num_features
            m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.copy_(torch.rand(c, generator=gen) * 0.5 - 0.15)
            m.reset_running_stats()
            m.momentum = None
        net.train()
        net(random_images(48, 64, 64, gen))
        for m in bns:
            c = m.num_features
            m.momentum = 0.1
            m.running_mean.add_((torch.rand(c, generator=gen) - 0.5) * 0.2 * m.running_var.sqrt())
            m.running_var.mul_(torch.rand(c, generator=gen) * 0.5 + 0.8)
            m.num_batches_tracked.fill_(int(torch.randint(1, 100000, (1,), generator=gen)))
    return net.eval()


# ---------------------------------------------------------------------------------------------
# The MultiGrain wrapper, with the semantics of the original release (the release's multigrain/modules):
#   embedding    = gem(features(x), p)      (+ a constant-1 channel once whitened)
#   whitened     = (l2n(embedding) - m) P   (when whitened, `embedding` is this vector)
#   normalized   = embedding / (||embedding|| + 1e-6)
#   logits       = classifier(embedding)     (un-normalized embedding)

def l2n(x, eps=1e-6):
    return x / (x.norm(p=2, dim=1, keepdim=True) + eps)


class GeM(nn.Module):
    """GeM pooling whose exponent is the 0-d buffer `p` (the original's `Layer('gem', p=tensor)`)."""

    def __init__(self, p):
        super().__init__()
        self.register_buffer('p', torch.tensor(p))
        self.add_bias = False

    def forward(self, x):
        e = F.avg_pool2d(x.clamp(min=1e-6).pow(self.p), (x.size(-2), x.size(-1))).pow(1.0 / self.p)
        e = e.flatten(1)
        if self.add_bias:
            e = torch.cat((e, e.new_ones(e.size(0), 1)), 1)
        return e


class ApplyPca(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer('pca_P', torch.tensor([]))
        self.register_buffer('pca_m', torch.tensor([]))

    def forward(self, x):
        return (x - self.pca_m).matmul(self.pca_P)


class L2N(nn.Module):
    def forward(self, x):
        return l2n(x)


class MultiGrain(nn.Module):
    def __init__(self, net, p):
        super().__init__()
        children = list(net.named_children())
        self.features = nn.Sequential(OrderedDict(children[:-2]))  # conv1 ... layer4
        self.pool = GeM(p)
        self.classifier = children[-1][1]
        self.whitening = None

    def forward(self, x):
        embedding = self.pool(self.features(x))
        if self.whitening is not None:
            embedding = self.whitening(embedding)
        return {'embedding': embedding, 'normalized_embedding': l2n(embedding),
                'classifier_output': self.classifier(embedding)}

    def init_whitening(self):
        """Bias channel on, fc bias moved into an extra weight column (classifier reads d + 1 inputs)."""
        self.whitening = nn.Sequential(OrderedDict([('normalize', L2N()), ('pca', ApplyPca())]))
        self.pool.add_bias = True
        W, b = self.classifier.weight, self.classifier.bias
        W.data = torch.cat((W.data, b.data.view(-1, 1)), 1)

    def integrate_whitening(self, m, P):
        """Sets m, P and rewrites the classifier to read the whitened vector: W' = W (P^T)^-1, b' = m W^T."""
        self.whitening.pca.pca_m = m.clone()
        self.whitening.pca.pca_P = P.clone()
        W = self.classifier.weight
        self.classifier.bias = nn.Parameter(m.matmul(W.data.t()))
        W.data = torch.matmul(W.data.double(), P.t().double().inverse()).float()


def fit_whitening(X):
    """sklearn's PCA(whiten=True) with every component, in float64: m = mean, P = V / sqrt(var)."""
    X = X.double()
    m = X.mean(0)
    _, S, Vt = torch.linalg.svd(X - m, full_matrices=False)
    var = S ** 2 / (X.shape[0] - 1)
    return m.float(), (Vt.t() / var.sqrt()).float(), var


# ---------------------------------------------------------------------------------------------
# Inputs shared with the test (kernels-test/multigrain/pth-import.test.ts: fixtureInput)

def fixture_input(shape, seed):
    """x[i] = ((h(i) >> 8) % 1025 - 512) / 256 with a 32-bit integer hash h: exact in float32."""
    n = int(np.prod(shape))
    M = 0xffffffff
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        h = (i * 0x9E3779B1 + seed * 0x85EBCA77) & M
        h ^= h >> 15
        h = (h * 0x2C1B3C6D) & M
        h ^= h >> 12
        h = (h * 0x297A2D39) & M
        h ^= h >> 15
        out[i] = ((h >> 8) % 1025 - 512) / 256.0
    return torch.tensor(out.reshape(shape))


# ---------------------------------------------------------------------------------------------
# Output

ST_DTYPES = {np.dtype('float64'): 'F64', np.dtype('float32'): 'F32'}


def write_safetensors(path, arrays, metadata):
    """A minimal independent safetensors writer (numpy bytes, little-endian)."""
    header = {'__metadata__': metadata}
    blobs, offset = [], 0
    for name, a in arrays.items():
        a = np.array(a, order='C')
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': ST_DTYPES[a.dtype], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def checkpoint(model_state, gen):
    """The original's checkpoint dict: model_state, MultiOptim's flattened optimizer state, extra.beta."""
    keys = [k for k in model_state if 'running' not in k and 'num_batches' not in k and k != 'pool.p']
    optimizer_state = {
        'backbone.state': {i: {'momentum_buffer': torch.randn(model_state[k].shape, generator=gen)} for i, k in enumerate(keys[:2])},
        'backbone.param_groups': [{'lr': 0.2, 'momentum': 0.9, 'dampening': 0, 'weight_decay': 1e-4,
                                   'nesterov': False, 'params': list(range(len(keys)))}],
        'margin_beta.state': {},
        'margin_beta.param_groups': [{'lr': 0.2, 'momentum': 0.9, 'dampening': 0, 'weight_decay': 0,
                                      'nesterov': False, 'params': [len(keys)]}],
    }
    return {'model_state': model_state, 'optimizer_state': optimizer_state, 'extra': {'beta': torch.tensor(1.2)}}


def float32_state(module):
    """A detached float32 (int64 for counters) copy of the state dict, in the module's key order."""
    sd = OrderedDict()
    for k, v in module.state_dict().items():
        sd[k] = v.detach().clone()
    sd._metadata = getattr(module.state_dict(), '_metadata', None)
    return sd


def run(model, x):
    with torch.no_grad():
        return model(x)


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(2019)
    torch.manual_seed(2019)  # (module initializers)
    inputs = {name: fixture_input(shape, seed) for name, (shape, seed) in INPUTS.items()}
    expected = OrderedDict()
    for name, x in inputs.items():
        expected[f'input.{name}.head'] = x.flatten()[:16].numpy()

    def record(prefix, model):
        """float64 eval outputs of a float32 model (a float64 copy holds exactly the same values)."""
        m64 = copy.deepcopy(model).double().eval()
        for name, x in inputs.items():
            with torch.no_grad():
                out = m64(x)
            expected[f'{prefix}.{name}.logits'] = out['classifier_output'].numpy()
            expected[f'{prefix}.{name}.embedding'] = out['embedding'].numpy()
            expected[f'{prefix}.{name}.normalized'] = out['normalized_embedding'].numpy()
        return m64

    # --- the plain MultiGrain checkpoint, ResNet-50 layout, zip and legacy -----------------------
    mg = MultiGrain(make_resnet(Bottleneck, [3, 4, 6, 3], gen), P).eval()
    state = float32_state(mg)
    assert list(state)[0] == 'features.conv1.weight' and 'features.layer1.0.downsample.1.num_batches_tracked' in state
    assert state['pool.p'].shape == () and state['classifier.weight'].shape == (NUM_CLASSES, 64)
    ckpt = checkpoint(state, gen)
    torch.save(ckpt, os.path.join(OUT, 'mg_r50w2_zip.pth'))
    torch.save(ckpt, os.path.join(OUT, 'mg_r50w2_legacy.pth'), _use_new_zipfile_serialization=False)
    record('plain', mg)

    # --- a whitened MultiGrain checkpoint, ResNet-18 layout, legacy (as the 2019 release) ---------
    wmodel = MultiGrain(make_resnet(BasicBlock, [2, 2, 2, 2], gen), P).eval()
    record('white_src', wmodel)  # logits before whitening: the whitened ones must rank classes alike
    wmodel.init_whitening()
    with torch.no_grad():
        pooled = wmodel.pool(wmodel.features(random_images(256, 48, 48, gen)))  # [256, d + 1], bias channel last
    d1 = pooled.shape[1]
    m, Pm, var = fit_whitening(l2n(pooled))
    cond = float((var.max() / var.min()).sqrt())
    print(f'whitening: {d1} dims, condition number of P {cond:.1f}')
    assert cond < 1e3, 'whitening set too degenerate for a float32 parity test'
    wmodel.integrate_whitening(m, Pm)
    wstate = float32_state(wmodel)
    assert wstate['classifier.weight'].shape == (NUM_CLASSES, d1) and wstate['whitening.pca.pca_P'].shape == (d1, d1)
    torch.save(checkpoint(wstate, gen), os.path.join(OUT, 'mg_r18w2_white_legacy.pth'), _use_new_zipfile_serialization=False)
    w64 = record('white', wmodel)
    for name, x in inputs.items():
        with torch.no_grad():
            biasnorm = w64.pool(w64.features(x)).norm(dim=1) + 1e-6
        expected[f'white.{name}.biasnorm'] = biasnorm.numpy()
        # whitened logits = plain logits / (||[e, 1]|| + 1e-6) (up to the float32 rounding of W', m, P)
        diff = torch.tensor(expected[f'white.{name}.logits']) * biasnorm.view(-1, 1) - torch.tensor(expected[f'white_src.{name}.logits'])
        print(f'whitened logits x (||[e,1]|| + 1e-6) - logits before whitening ({name}): max {float(diff.abs().max()):.2e}'
              f' (logits up to {float(abs(expected[f"white_src.{name}.logits"]).max()):.2f})')

    # --- a torchvision ResNet-18 state dict for --pretrained-backbone ----------------------------
    tv = make_resnet(BasicBlock, [2, 2, 2, 2], gen)
    tv_state = float32_state(tv)
    assert 'layer2.0.downsample.0.weight' in tv_state and 'fc.weight' in tv_state
    torch.save(tv_state, os.path.join(OUT, 'tv_r18w2.pth'))
    tv64 = copy.deepcopy(tv).double().eval()
    trunk = nn.Sequential(OrderedDict(list(tv64.named_children())[:-2]))
    gem3 = GeM(P).double()
    for name, x in inputs.items():
        with torch.no_grad():
            f = trunk(x)
            expected[f'tv.{name}.features'] = f.numpy()
            expected[f'tv.{name}.gem3'] = gem3(f).numpy()

    write_safetensors(os.path.join(OUT, 'expected.safetensors'), expected,
                      {'generator': 'tools/gen_multigrain_pth_fixtures.py', 'torch': torch.__version__,
                       'numClasses': str(NUM_CLASSES), 'baseWidth': str(WIDTH), 'p': str(P)})
    total = 0
    for f in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, f))
        total += size
        print(f'{f:28s} {size:8d} bytes')
    print(f'{"total":28s} {total:8d} bytes')
    assert total < 600_000


if __name__ == '__main__':
    main()
