#!/usr/bin/python3
"""PyTorch CPU peer of `node bench/resnet.js --model <trunk>`: MultiGrain on the published
SENet154 / PNASNet-5-Large / NASNet-A-Mobile (tools/torch_trunks.py, random weights), eval-mode
forward at batch 1 and the given size, float32, N threads; prints the median of --steps runs
after one warm-up. Run: /usr/bin/python3 tools/torch_trunk_timing.py nasnetamobile 350 [--threads 2]"""
import argparse
import os
import sys
import time
import torch

sys.path.insert(0, os.path.dirname(__file__))
import torch_trunks as T  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('model', choices=['senet154', 'pnasnet5large', 'nasnetamobile'])
parser.add_argument('size', type=int)
parser.add_argument('--threads', type=int, default=2)
parser.add_argument('--steps', type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
net = {'senet154': lambda: T.SENet(), 'pnasnet5large': lambda: T.PNASNet5Large(1000), 'nasnetamobile': lambda: T.NASNetAMobile()}[args.model]()
model = T.BackBone(net).eval()
x = torch.randn(1, 3, args.size, args.size)
times = []
with torch.no_grad():
    for i in range(args.steps + 1):
        t0 = time.perf_counter()
        model(x)
        if i:
            times.append(1000 * (time.perf_counter() - t0))
times.sort()
print(f'torch-cpu {args.model}-infer-b1-{args.size} median_ms {times[len(times) // 2]:.1f} threads {args.threads}')
