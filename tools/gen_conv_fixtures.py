#!/usr/bin/python3
"""PyTorch parity fixtures for conv2d (forward, input/weight/bias gradients).

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_conv_fixtures.py
Writes kernels-test/conv/fixtures/<name>.json, one small case each:
  {name, x_shape, w_shape, stride, padding, dilation, groups, x, weight, bias|null,
   out_shape, out, grad_out, dx, dweight, dbias|null}
Inputs are float32 values; torch computes in float64 from them, so the fixtures hold the exact
result our float32 kernels are compared against. grad_out is the weight w of the scalar loss
sum(out * w); dx, dweight, dbias are the gradients of that loss. The tests never need torch.
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kernels-test', 'conv', 'fixtures')

CASES = [
    # name, x shape, w shape, stride, padding, dilation, groups, bias
    ('k3_s1_p1_bias', (2, 3, 9, 9), (5, 3, 3, 3), 1, 1, 1, 1, True),
    ('k3_s2_p1_odd', (1, 4, 13, 13), (6, 4, 3, 3), 2, 1, 1, 1, False),
    ('k7_s2_p3_bias', (1, 3, 17, 17), (8, 3, 7, 7), 2, 3, 1, 1, True),
    ('k1_s2', (2, 8, 7, 7), (16, 8, 1, 1), 2, 0, 1, 1, False),
    ('k3_d2_p2', (1, 5, 11, 11), (4, 5, 3, 3), 1, 2, 2, 1, True),
    ('k3_g2_p1_bias', (2, 6, 8, 8), (4, 3, 3, 3), 1, 1, 1, 2, True),
    ('k3x1_s21_p10', (2, 5, 10, 7), (7, 5, 3, 1), (2, 1), (1, 0), 1, 1, False),
    # depthwise (groups = Cin): the NASNets' separable convolutions, k3/k5/k7 at stride 1 and 2
    ('dw_k3_s1_p1_bias', (2, 8, 9, 10), (8, 1, 3, 3), 1, 1, 1, 8, True),
    ('dw_k3_s2_p1', (2, 6, 11, 11), (6, 1, 3, 3), 2, 1, 1, 6, False),
    ('dw_k5_s1_p2', (1, 5, 12, 9), (5, 1, 5, 5), 1, 2, 1, 5, False),
    ('dw_k5_s2_p2_bias', (2, 4, 13, 14), (4, 1, 5, 5), 2, 2, 1, 4, True),
    ('dw_k7_s1_p3', (1, 4, 10, 11), (4, 1, 7, 7), 1, 3, 1, 4, False),
    ('dw_k7_s2_p3', (1, 3, 15, 15), (3, 1, 7, 7), 2, 3, 1, 3, False),
    ('dw_k3_m2_d2_p2', (1, 3, 9, 9), (6, 1, 3, 3), 1, 2, 2, 3, False),
    # grouped: SENet154's 64 groups (its first stage: Cin/g = 2, Cout/g = 4, here at stride 2) and 32 groups
    ('g32_k3_p1', (1, 64, 4, 5), (64, 2, 3, 3), 1, 1, 1, 32, False),
    ('g64_k3_s2_p1', (1, 128, 5, 5), (256, 2, 3, 3), 2, 1, 1, 64, False),
]


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def flat(t):
    # 9 significant digits: exact for the float32 inputs, ~1e-9 relative for the float64 results.
    return [float('%.9g' % v) for v in t.detach().reshape(-1).tolist()]


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    for name, xs, ws, stride, padding, dilation, groups, has_bias in CASES:
        x = f32(torch.randn(xs, generator=g, dtype=torch.float64)).requires_grad_()
        w = f32(torch.randn(ws, generator=g, dtype=torch.float64) * 0.5).requires_grad_()
        b = f32(torch.randn(ws[0], generator=g, dtype=torch.float64)).requires_grad_() if has_bias else None
        out = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        gout = f32(torch.randn(out.shape, generator=g, dtype=torch.float64))
        (out * gout).sum().backward()
        pair = lambda v: list(v) if isinstance(v, tuple) else [v, v]
        case = {
            'name': name, 'x_shape': list(xs), 'w_shape': list(ws),
            'stride': pair(stride), 'padding': pair(padding), 'dilation': pair(dilation), 'groups': groups,
            'x': flat(x), 'weight': flat(w), 'bias': flat(b) if b is not None else None,
            'out_shape': list(out.shape), 'out': flat(out), 'grad_out': flat(gout),
            'dx': flat(x.grad), 'dweight': flat(w.grad), 'dbias': flat(b.grad) if b is not None else None,
        }
        path = os.path.join(OUT, f'{name}.json')
        with open(path, 'w') as fh:
            json.dump(case, fh, separators=(',', ':'))
        print(f'{path}: out {list(out.shape)}, {os.path.getsize(path) // 1024} KiB')


if __name__ == '__main__':
    main()
