#!/usr/bin/python3
"""PyTorch reference fixtures for the norm/pool kernels (kernels-test/norm/fixtures/*.json).

Run with Debian's torch:  /usr/bin/python3 tools/gen_norm_fixtures.py
Each file holds a list of cases; every tensor is a flat float list (float32 values, written
with enough digits to round-trip) plus its shape. Tests never need torch.

- batchnorm.json: BatchNorm2d train step (output, running mean/var after the step, grads of
  sum(out * g) w.r.t. x, weight, bias) and eval (output, grads).
- maxpool.json: max_pool2d forward + grad x.
- gem.json: GeM (x.clamp(min=eps).pow(p).mean((2,3)).pow(1/p)) forward, grad x and grad p.
- l2n.json: x / (x.norm(dim=1, keepdim=True) + 1e-6) forward + grad x.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), '..', 'kernels-test', 'norm', 'fixtures')
os.makedirs(OUT, exist_ok=True)


def flat(t):
    # 9 significant digits round-trip a float32 exactly, in fewer bytes than repr(double)
    return [float(f'{v:.9g}') for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def dump(name, cases):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump({'generator': 'tools/gen_norm_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
    print(f'{path}: {len(cases)} cases, {os.path.getsize(path)} bytes')


def batchnorm_cases():
    cases = []
    for shape, training, momentum in [((2, 3, 7, 7), True, 0.1), ((1, 17, 5, 5), True, 0.1), ((3, 1, 13, 13), True, 0.3),
                                      ((2, 3, 7, 7), False, 0.1), ((1, 17, 4, 4), False, 0.1)]:
        n, c, h, w = shape
        x = (torch.randn(shape) * 2 + 0.5).requires_grad_()
        bn = torch.nn.BatchNorm2d(c, eps=1e-5, momentum=momentum)
        with torch.no_grad():
            bn.weight.copy_(1 + 0.3 * torch.randn(c))
            bn.bias.copy_(0.2 * torch.randn(c))
            bn.running_mean.copy_(0.3 * torch.randn(c))
            bn.running_var.copy_(0.5 + torch.rand(c))
        rm0, rv0 = flat(bn.running_mean), flat(bn.running_var)
        bn.train(training)
        out = bn(x)
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        cases.append({
            'shape': list(shape), 'training': training, 'momentum': momentum, 'eps': 1e-5,
            'x': flat(x), 'weight': flat(bn.weight), 'bias': flat(bn.bias),
            'runningMean': rm0, 'runningVar': rv0, 'g': flat(g), 'out': flat(out),
            'runningMeanAfter': flat(bn.running_mean), 'runningVarAfter': flat(bn.running_var),
            'dx': flat(x.grad), 'dweight': flat(bn.weight.grad), 'dbias': flat(bn.bias.grad),
        })
    return cases


def maxpool_cases():
    cases = []
    for shape, k, s, p in [((2, 3, 13, 13), 3, 2, 1), ((1, 1, 7, 7), 3, 2, 1), ((1, 17, 9, 11), 3, 2, 1), ((2, 2, 8, 8), 2, 2, 0),
                           ((1, 3, 33, 33), 3, 2, 1)]:
        x = torch.randn(shape).requires_grad_()
        out = F.max_pool2d(x, k, s, p)
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        cases.append({'shape': list(shape), 'kernel': k, 'stride': s, 'padding': p, 'x': flat(x), 'g': flat(g),
                      'outShape': list(out.shape), 'out': flat(out), 'dx': flat(x.grad)})
    return cases


def gem_cases():
    cases = []
    for shape, p in [((2, 3, 7, 7), 3.0), ((1, 17, 5, 5), 1.0), ((2, 3, 13, 13), 2.5), ((4, 5, 1, 1), 3.0), ((1, 3, 33, 33), 4.0)]:
        # post-ReLU-like: a third exact zeros (clamped), the rest positive
        x = F.relu(torch.randn(shape)).requires_grad_()
        pp = torch.tensor([p], requires_grad=True)
        out = x.clamp(min=1e-6).pow(pp).mean(dim=(2, 3)).pow(1.0 / pp)
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        cases.append({'shape': list(shape), 'p': p, 'eps': 1e-6, 'x': flat(x), 'g': flat(g), 'out': flat(out),
                      'dx': flat(x.grad), 'dp': flat(pp.grad)})
    return cases


def l2n_cases():
    cases = []
    for shape in [(1, 7), (3, 17), (2, 2048), (2, 1)]:
        x = torch.randn(shape).requires_grad_()
        out = x / (x.norm(p=2, dim=1, keepdim=True) + 1e-6)
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        cases.append({'shape': list(shape), 'x': flat(x), 'g': flat(g), 'out': flat(out), 'dx': flat(x.grad)})
    return cases


dump('batchnorm.json', batchnorm_cases())
dump('maxpool.json', maxpool_cases())
dump('gem.json', gem_cases())
dump('l2n.json', l2n_cases())
