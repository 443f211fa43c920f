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
import torch.nn.functional as F

from torch_resnet import MultiGrain


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
