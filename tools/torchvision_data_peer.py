#!/usr/bin/python3
"""torchvision peer of bench/data.js: the same JPEGs through PIL decode + RandomResizedCrop(224),
RandomHorizontalFlip, ColorJitter(0.4, 0.4, 0.4), ToTensor, Normalize in a DataLoader (batch 32),
for each worker count; then the CPU ms per image of each stage in this process; then the
evaluation path (decode, resize the longer side to 500, ToTensor, Normalize) in a DataLoader of
batch 1. Prints one JSON object on stdout.

Usage: /usr/bin/python3 tools/torchvision_data_peer.py --dir DIR [--eval-dir DIR] [--images 384]
       [--batch 32] [--workers 1,2] [--eval-workers 1,2] [--eval-images 64] [--stage-images 96]
(--workers '' or --eval-workers '' or --stage-images 0 leave that part out.)
"""
import argparse
import json
import os
import time

import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset, RandomSampler
from torchvision import transforms as T

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def pil_rgb(path):
    with open(path, 'rb') as f:
        return Image.open(f).convert('RGB')


class Files(Dataset):
    def __init__(self, files, transform):
        self.files, self.transform = files, transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return self.transform(pil_rgb(self.files[i])), 0


def train_transform():
    return T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4), T.ToTensor(), T.Normalize(MEAN, STD)])


def eval_transform():
    # the original's "rect" evaluation: the longer side to 500, aspect kept (Resize(int) sets the
    # shorter side, so the size is computed per image).
    def resize_longer(img):
        w, h = img.size
        s = 500 / max(w, h)
        return img.resize((max(1, int(w * s)), max(1, int(h * s))), Image.BILINEAR)
    return T.Compose([T.Lambda(resize_longer), T.ToTensor(), T.Normalize(MEAN, STD)])


def loader_rate(files, transform, images, batch, workers):
    """images/s over `images` samples after one warm-up batch (worker start), as bench/data.js."""
    ds = Files(files, transform)
    sampler = RandomSampler(ds, replacement=True, num_samples=images + batch, generator=torch.Generator().manual_seed(0))
    # persistent workers stay alive after the last batch, so their CPU time can still be read
    dl = DataLoader(ds, batch_size=batch, sampler=sampler, num_workers=workers, persistent_workers=workers > 0)
    count, t0, first = 0, 0.0, True
    c0 = None
    for x, _ in dl:
        if first:
            first, t0, c0 = False, time.perf_counter(), process_tree_cpu()
            continue
        count += x.shape[0]
    seconds = time.perf_counter() - t0
    cpu = process_tree_cpu() - c0
    del dl
    return {'workers': workers, 'images_per_s': round(count / seconds, 1), 'images': count, 'seconds': round(seconds, 2),
            'cpu_ms_per_image': round(cpu * 1000 / count, 2)}


def process_tree_cpu():
    """CPU seconds of this process and its live children (the DataLoader's workers, which are
    not in os.times()'s children until reaped: read from /proc)."""
    total = sum(os.times()[:2])
    tck = os.sysconf('SC_CLK_TCK')
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / tck
    return total


def stage_ms(files, n):
    """CPU ms per image of each training stage, one image at a time in this process."""
    torch.manual_seed(0)
    rrc, flip, jitter = T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4)
    totensor, norm = T.ToTensor(), T.Normalize(MEAN, STD)
    t = {'decode': 0.0, 'crop_resize': 0.0, 'flip': 0.0, 'augment': 0.0, 'to_tensor': 0.0}
    warm = 32
    for k in range(n + warm):
        a = time.process_time()
        img = pil_rgb(files[k % len(files)])
        img.load()
        b = time.process_time()
        x = rrc(img)
        c = time.process_time()
        x = flip(x)
        d = time.process_time()
        x = jitter(x)
        e = time.process_time()
        norm(totensor(x))
        f = time.process_time()
        if k >= warm:
            for key, v in zip(t, (b - a, c - b, d - c, e - d, f - e)):
                t[key] += v
    return {k: round(v * 1000 / n, 2) for k, v in t.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--eval-dir')
    ap.add_argument('--images', type=int, default=384)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--workers', default='1,2')
    ap.add_argument('--eval-workers', default='1,2')
    ap.add_argument('--eval-images', type=int, default=64)
    ap.add_argument('--stage-images', type=int, default=96)
    args = ap.parse_args()
    torch.set_num_threads(1)
    files = sorted(os.path.join(args.dir, f) for f in os.listdir(args.dir) if f.endswith('.jpg'))
    if not files:
        raise SystemExit(f'torchvision_data_peer: no .jpg files in {args.dir}')
    out = {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'pil': Image.__version__, 'train': [], 'eval': []}
    for w in (int(s) for s in args.workers.split(',') if s):
        out['train'].append(loader_rate(files, train_transform(), args.images, args.batch, w))
    if args.stage_images > 0:
        out['stages_ms'] = stage_ms(files, args.stage_images)
    if args.eval_dir and args.eval_images > 0:  # --eval-images 0: the training rows only
        efiles = sorted(os.path.join(args.eval_dir, f) for f in os.listdir(args.eval_dir) if f.endswith('.jpg'))
        for w in (int(s) for s in args.eval_workers.split(',') if s):
            out['eval'].append(loader_rate(efiles, eval_transform(), args.eval_images, 1, w))
    print(json.dumps(out))


if __name__ == '__main__':
    main()
