#!/usr/bin/python3
"""PyTorch fixtures for avgPool2d, pad2d and the NASNets' pad-pool-crop branches
(kernels-test/norm/fixtures/avgpool_pad.json).

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_pool_pad_fixtures.py
Each case: the op chain, its settings, x, the output gradient g (the weight of sum(out * g)),
out and dx (float32, 9 significant digits). The tests never need torch.
- avg: F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad)
- pad: F.pad(x, pads, value=value) (negative pads crop)
- pad_max_crop / pad_avg_crop: PNASNet's and NASNet's reduction-cell pooling with zero_pad:
  nn.ZeroPad2d((1, 0, 1, 0)), then the pool (3x3/2, padding 1), then x[:, :, 1:, 1:].
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(19)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kernels-test', 'norm', 'fixtures')


def flat(t):
    return [float(f'{v:.9g}') for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def case(op, shape, fn, **settings):
    x = torch.randn(shape).requires_grad_()
    out = fn(x)
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    return {'op': op, 'shape': list(shape), **settings, 'x': flat(x), 'g': flat(g),
            'outShape': list(out.shape), 'out': flat(out), 'dx': flat(x.grad)}


def main():
    cases = []
    for shape, k, s, p, ceil, cip in [((2, 3, 11, 11), 3, 2, 1, False, False), ((2, 3, 11, 11), 3, 2, 1, False, True),
                                      ((1, 4, 9, 9), 3, 1, 1, False, False), ((1, 2, 10, 7), 3, 2, 1, True, False),
                                      ((1, 2, 10, 7), 3, 2, 1, True, True), ((2, 2, 8, 8), 2, 2, 0, False, True)]:
        cases.append(case('avg', shape, lambda x: F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=cip),
                          kernel=k, stride=s, padding=p, ceilMode=ceil, countIncludePad=cip))
    for shape, pads, value in [((2, 3, 5, 6), [1, 0, 1, 0], 0.0), ((2, 3, 5, 6), [-1, 0, -1, 0], 0.0), ((1, 2, 4, 5), [2, -1, 0, 3], 0.5)]:
        cases.append(case('pad', shape, lambda x: F.pad(x, pads, value=value), pads=pads, value=value))
    zero_pad = torch.nn.ZeroPad2d((1, 0, 1, 0))
    for shape in [(1, 3, 11, 11), (2, 2, 10, 10)]:
        cases.append(case('pad_max_crop', shape, lambda x: F.max_pool2d(zero_pad(x), 3, 2, 1)[:, :, 1:, 1:]))
        cases.append(case('pad_avg_crop', shape, lambda x: F.avg_pool2d(zero_pad(x), 3, 2, 1, count_include_pad=False)[:, :, 1:, 1:]))
    path = os.path.join(OUT, 'avgpool_pad.json')
    with open(path, 'w') as f:
        json.dump({'generator': 'tools/gen_pool_pad_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
    print(f'{path}: {len(cases)} cases, {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
