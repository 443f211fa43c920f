#!/usr/bin/python3
"""Training-step parity, PyTorch side: reads what tools/step-parity.mjs wrote (our initial
weights, one training batch, our gradients), recomputes the cross-entropy gradients of the same
network in float64 and prints, per parameter tensor, max |ours - torch| / max |torch|.

  /usr/bin/python3 tools/step_parity.py [--out /tmp/step-parity] [--all]

Expect about 1e-5 and below; a few 1e-3 in the earliest layers can come from a ReLU input within
1e-7 of zero whose sign float32 rounding flips (it then passes or blocks one element's gradient).
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class Features(nn.Module):
    """torchvision's ResNet-18 trunk with its parameter names (features.conv1, features.layer1.0.conv1, ...)."""

    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        cin = width
        for k, cout in enumerate([width, 2 * width, 4 * width, 8 * width]):
            setattr(self, f'layer{k + 1}', nn.Sequential(Block(cin, cout, 1 if k == 0 else 2), Block(cout, cout, 1)))
            cin = cout

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class MultiGrain(nn.Module):
    def __init__(self, width, p=3.0):
        super().__init__()
        self.p = p
        self.features = Features(width)
        self.classifier = nn.Linear(8 * width, 10)

    def forward(self, x):
        e = self.features(x).clamp(min=1e-6).pow(self.p).mean((2, 3)).pow(1 / self.p)
        return self.classifier(e)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='/tmp/step-parity')
    p.add_argument('--all', action='store_true', help='print every tensor, not the 8 worst')
    a = p.parse_args()
    header = json.load(open(os.path.join(a.out, 'weights.json')))
    values = np.fromfile(os.path.join(a.out, 'weights.f32'), dtype=np.float32)
    width = next(h['shape'][0] for h in header if h['name'] == 'features.conv1.weight')
    net = MultiGrain(width).double()
    state = net.state_dict()
    for h in header:
        if h['name'] not in state:  # pool.p: the fixed GeM exponent, a constant here
            continue
        n = int(np.prod(h['shape']))
        state[h['name']].copy_(torch.from_numpy(values[h['offset']:h['offset'] + n].reshape(h['shape'])))
    labels = torch.from_numpy(np.fromfile(os.path.join(a.out, 'labels.i32'), dtype=np.int32)).long()
    size = int(round((np.fromfile(os.path.join(a.out, 'images.f32'), dtype=np.float32).size / len(labels) / 3) ** 0.5))
    images = torch.from_numpy(np.fromfile(os.path.join(a.out, 'images.f32'), dtype=np.float32).reshape(len(labels), 3, size, size)).double()
    net.train()
    F.cross_entropy(net(images), labels).backward()
    ours = json.load(open(os.path.join(a.out, 'grads.json')))
    rows = []
    for name, param in net.named_parameters():
        ref = param.grad.numpy().ravel()
        rows.append((np.abs(np.array(ours[name]) - ref).max() / (np.abs(ref).max() + 1e-30), name))
    errors = sorted(r[0] for r in rows)
    for err, name in (rows if a.all else sorted(rows, reverse=True)[:8]):
        print(f'{err:.1e}  {name}')
    print(f'median {errors[len(errors) // 2]:.1e} over {len(rows)} tensors')


if __name__ == '__main__':
    main()
