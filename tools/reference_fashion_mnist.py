#!/usr/bin/python3
"""PyTorch reference training of the Fashion-MNIST recipe (an investigation tool, not a test).

The README's PyTorch figures for the 93 % question come from this script: the network of
`multigrain train --dataset fashion-mnist` (torchvision ResNet-18 layout at --width, GeM with
exponent --p, a linear classifier on the pooled vector), the same SGD (--lr given for batch 512
and scaled linearly, momentum 0.9, weight decay on every parameter, a drop after epoch d acting
from epoch d + 1), plain cross-entropy, 0.9 x 60k samples per epoch, random resized crops (area
fraction in --scale, aspect ratio in --ratio, taken as a continuous affine crop) and horizontal
flips; test images resized to --size. `--crop torchvision` takes torchvision's integer-box
RandomResizedCrop instead (10 tries, whole image as fallback), which is what our engine does.
Run with Debian's python3-torch (CPU):

  /usr/bin/python3 tools/reference_fashion_mnist.py --width 16 --size 64 --scale 0.8,1 \\
      --epochs 30 --drops 20,26        # 93.09 % here, about 40 s per epoch on 2 cores

It prints one line per epoch: lr, train top-1 on the augmented batches, test top-1, seconds.
"""
import argparse
import gzip
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_resnet import MultiGrain

ROOT = '/usr/share/datasets/fashion-mnist/'
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def flags():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--width', type=int, default=16, help='trunk base width (64 = the real ResNet-18)')
    p.add_argument('--size', type=int, default=64, help='input size')
    p.add_argument('--epochs', type=int, default=13)
    p.add_argument('--drops', default='7,10', help='epochs after which the lr is divided by 10')
    p.add_argument('--lr', type=float, default=0.8, help='learning rate for batch 512')
    p.add_argument('--batch', type=int, default=96)
    p.add_argument('--scale', default='0.8,1', help='crop area fraction range (1,1: flips only)')
    p.add_argument('--ratio', default='0.75,1.3333', help='crop aspect ratio range')
    p.add_argument('--flip', type=int, default=1, help='random horizontal flips (0 or 1)')
    p.add_argument('--wd', type=float, default=1e-4, help='weight decay')
    p.add_argument('--p', type=float, default=3, help='GeM exponent')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0, help='torch.manual_seed (init, order, augmentation)')
    p.add_argument('--warmup', type=float, default=0, help='epochs of linear lr warmup, step by step (0: none)')
    p.add_argument('--crop', choices=['affine', 'torchvision'], default='affine',
                   help='continuous affine crop, or torchvision RandomResizedCrop boxes (as our engine)')
    return p.parse_args()


def idx_file(name, header):
    return np.frombuffer(gzip.open(ROOT + name).read(), np.uint8, offset=header)


def load(split):
    images = idx_file(f'{split}-images-idx3-ubyte.gz', 16).reshape(-1, 1, 28, 28)
    labels = idx_file(f'{split}-labels-idx1-ubyte.gz', 8).astype(np.int64)
    return torch.tensor(images).float() / 255, torch.tensor(labels)


def normalize(x):
    return (x.expand(-1, 3, -1, -1) - MEAN) / STD


def rrc_box(scale, ratio, H=28, W=28):
    """torchvision's RandomResizedCrop.get_params: an integer box (top, left, h, w)."""
    for _ in range(10):
        target = H * W * torch.empty(1).uniform_(*scale).item()
        aspect = math.exp(torch.empty(1).uniform_(math.log(ratio[0]), math.log(ratio[1])).item())
        w, h = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < w <= W and 0 < h <= H:
            return torch.randint(0, H - h + 1, (1,)).item(), torch.randint(0, W - w + 1, (1,)).item(), h, w
    return 0, 0, H, W  # the aspect ratio of a square image is in range: the whole image


def augment_torchvision(x, a):
    """torchvision-style random resized crop + flip, image by image, resampled to a.size."""
    scale, ratio = tuple(map(float, a.scale.split(','))), tuple(map(float, a.ratio.split(',')))
    out = []
    for img in x:
        i, j, h, w = rrc_box(scale, ratio)
        crop = F.interpolate(img[None, :, i:i + h, j:j + w], size=(a.size, a.size), mode='bilinear', antialias=True, align_corners=False)
        out.append(crop.flip(3) if a.flip and torch.rand(1).item() < 0.5 else crop)
    return torch.cat(out)


def augment(x, a):
    """Random resized crop (continuous box) + flip of a batch, resampled to a.size."""
    n = x.shape[0]
    s0, s1 = map(float, a.scale.split(','))
    r0, r1 = map(float, a.ratio.split(','))
    area = torch.empty(n).uniform_(s0, s1)
    ratio = torch.exp(torch.empty(n).uniform_(math.log(r0), math.log(r1)))
    w = torch.sqrt(area * ratio).clamp(max=1)
    h = torch.sqrt(area / ratio).clamp(max=1)
    cx = (torch.rand(n) * (1 - w) + w / 2) * 2 - 1
    cy = (torch.rand(n) * (1 - h) + h / 2) * 2 - 1
    flip = torch.where(torch.rand(n) < 0.5, -1.0, 1.0) if a.flip else torch.ones(n)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = w * flip
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = h
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, (n, 1, a.size, a.size), align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', align_corners=False)


def make_net(width, p):
    """Our network with torchvision's conv init (kaiming normal, fan_out)."""
    net = MultiGrain(width, p)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
    return net


def main():
    a = flags()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = load('train')
    xte, yte = load('t10k')
    test = normalize(F.interpolate(xte, size=(a.size, a.size), mode='bilinear', antialias=True, align_corners=False))
    net = make_net(a.width, a.p)
    lr = a.lr * a.batch / 512
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=a.wd)
    drops = [int(d) for d in a.drops.split(',') if d]
    per_epoch = int(len(xtr) * 0.9)
    for epoch in range(a.epochs):
        epoch_lr = lr * 0.1 ** sum(epoch > d for d in drops)
        for g in opt.param_groups:
            g['lr'] = epoch_lr
        order = torch.randperm(len(xtr))[:per_epoch]
        started, correct, seen = time.time(), 0, 0
        for i in range(0, per_epoch - a.batch + 1, a.batch):
            b = order[i:i + a.batch]
            if epoch < a.warmup:  # as our --warmup-epochs: lr x (step + 1) / warmup steps
                for g in opt.param_groups:
                    g['lr'] = epoch_lr * min(1.0, (epoch * per_epoch + i + a.batch) / (a.warmup * per_epoch))
            out = net(normalize((augment_torchvision if a.crop == 'torchvision' else augment)(xtr[b], a)))
            loss = F.cross_entropy(out, ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += (out.argmax(1) == ytr[b]).sum().item()
            seen += len(b)
        net.eval()
        with torch.no_grad():
            hits = sum((net(test[i:i + 500]).argmax(1) == yte[i:i + 500]).sum().item() for i in range(0, len(test), 500))
        net.train()
        print(f'epoch {epoch + 1} lr {epoch_lr:.4f} train {100 * correct / seen:.2f} test {100 * hits / len(test):.2f} '
              f'{time.time() - started:.0f}s', flush=True)


if __name__ == '__main__':
    main()
