#!/usr/bin/python3
"""Writes kernels-test/multigrain/fixtures/margin.json: MultiGrain's MarginLoss (modules/margin.py,
re-implemented here from the paper) evaluated by PyTorch on small fixed triplets, with autograd
gradients for the embeddings and beta. Run with Debian's torch: /usr/bin/python3 tools/gen_margin_fixtures.py

Inputs are rounded to float32 and stored; the reference is computed in float64 from those values.
"""
import json
import os

import torch


class MarginLoss(torch.nn.Module):
    """loss = sum(relu(d_ap - beta + alpha) + relu(beta - d_an + alpha)) / max(#terms > 0, 1)."""

    def __init__(self, beta_init=1.2, margin=0.2):
        super().__init__()
        self.beta = torch.nn.Parameter(torch.tensor([beta_init], dtype=torch.float64))
        self.margin = margin

    def forward(self, anchors, negatives, positives, eps=1e-8):
        d_ap = torch.sqrt(torch.sum((positives - anchors) ** 2, dim=1) + eps)
        d_an = torch.sqrt(torch.sum((negatives - anchors) ** 2, dim=1) + eps)
        pos = torch.clamp(d_ap - self.beta + self.margin, min=0.0)
        neg = torch.clamp(self.beta - d_an + self.margin, min=0.0)
        count = float(torch.sum((pos > 0.0).double() + (neg > 0.0).double()).item())  # a constant
        return torch.sum(pos + neg) / max(count, 1.0), count


def f32(t):
    return torch.tensor(t.numpy().astype('float32').astype('float64'))


def case(name, B, C, T, beta, alpha, gen, kind='random'):
    x = torch.randn(B, C, generator=gen, dtype=torch.float64)
    if kind == 'inactive':
        # positives equal to their anchor, negatives opposite: every term is <= 0
        x = torch.randn(1, C, generator=gen, dtype=torch.float64).repeat(B, 1)
        x[B // 2:] *= -1
    x = x / (x.norm(dim=1, keepdim=True) + 1e-6)
    x = f32(x)
    if kind == 'inactive':
        a = torch.arange(T) % (B // 2)
        p = (a + 1) % (B // 2)
        n = B // 2 + (torch.arange(T) % (B - B // 2))
    else:
        a = torch.randint(0, B, (T,), generator=gen)
        p = (a + torch.randint(1, B, (T,), generator=gen)) % B  # p != a
        n = torch.randint(0, B, (T,), generator=gen)
    x.requires_grad_(True)
    crit = MarginLoss(beta_init=beta, margin=alpha)
    loss, count = crit(x[a], x[n], x[p])
    loss.backward()
    return {
        'name': name, 'B': B, 'C': C, 'T': T, 'beta': beta, 'alpha': alpha,
        'embeddings': [float('%.9g' % v) for v in x.detach().flatten().tolist()],
        'anchors': a.tolist(), 'positives': p.tolist(), 'negatives': n.tolist(),
        'loss': loss.item(), 'active': count,
        'grad_embeddings': [float('%.9g' % v) for v in x.grad.flatten().tolist()],
        'grad_beta': crit.beta.grad.item(),
    }


def main():
    gen = torch.Generator().manual_seed(1234)
    cases = [
        case('B10 C16 T14 beta1.2', 10, 16, 14, 1.2, 0.2, gen),
        case('B24 C64 T40 beta1.0', 24, 64, 40, 1.0, 0.2, gen),
        case('B6 C8 T20 beta1.35 alpha0.1 (repeated rows)', 6, 8, 20, 1.35, 0.1, gen),
        case('B6 C512 T9 beta1.2', 6, 512, 9, 1.2, 0.2, gen),
        case('B3 C5 T2', 3, 5, 2, 1.1, 0.2, gen),
        case('B8 C8 T6 all terms inactive', 8, 8, 6, 1.2, 0.2, gen, kind='inactive'),
        case('B5 C70 T100 (rows in > 64 pair terms)', 5, 70, 100, 1.3, 0.2, gen),
    ]
    out = os.path.join(os.path.dirname(__file__), '..', 'kernels-test', 'multigrain', 'fixtures', 'margin.json')
    with open(out, 'w') as f:
        json.dump({'generator': 'tools/gen_margin_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f)
    for c in cases:
        print(c['name'], 'loss', c['loss'], 'active', c['active'], 'grad_beta', c['grad_beta'])


if __name__ == '__main__':
    main()
