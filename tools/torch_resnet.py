"""The ResNet-18 + GeM + linear classifier of multigrain train, in PyTorch, with our parameter
names (features.conv1, features.layer1.0.conv1, ..., classifier): shared by the PyTorch tools
(step_parity.py, reference_fashion_mnist.py). Needs Debian's python3-torch."""
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
    """Trunk at base width `width`, GeM with exponent p (clamp 1e-6), linear classifier."""

    def __init__(self, width, p=3.0, classes=10):
        super().__init__()
        self.p = p
        self.features = Features(width)
        self.classifier = nn.Linear(8 * width, classes)

    def forward(self, x):
        e = self.features(x).clamp(min=1e-6).pow(self.p).mean((2, 3)).pow(1 / self.p)
        return self.classifier(e)


def bench_main():
    """Run as a script: the PyTorch peer of bench/resnet.js on the same cases (torchvision's
    ResNet, fp32, TF32 off; SGD momentum 0.9, weight decay 1e-4; median of --steps timed steps
    after one warm-up). Prints one JSON object per line with bench/resnet.js's case names.

      /usr/bin/python3 tools/torch_resnet.py --cases resnet50-infer-b1-224,resnet18-train-b32-64 --threads 2
      /usr/bin/python3 tools/torch_resnet.py --device cuda --cases standard
    """
    import argparse
    import json
    import statistics
    import time
    import torch
    import torchvision

    standard = ['resnet50-infer-b1-224', 'resnet50-infer-b8-224', 'resnet50-train-b8-224', 'resnet50-train-b32-64',
                'resnet18-infer-b1-224', 'resnet18-infer-b8-224', 'resnet18-train-b8-224', 'resnet18-train-b32-64']
    quick = ['resnet18-infer-b1-64', 'resnet18-train-b32-64', 'resnet50-infer-b1-224']
    ap = argparse.ArgumentParser(description=bench_main.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cases', default='standard', help="'standard', 'quick' or comma-separated <model>-<infer|train>-b<batch>-<size>")
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (0: PyTorch default)')
    ap.add_argument('--steps', type=int, default=0, help='timed steps (0: 3 for inference, 2 for training; 10 on CUDA)')
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    names = standard if args.cases == 'standard' else quick if args.cases == 'quick' else args.cases.split(',')
    device = torch.device(args.device)
    cuda = device.type == 'cuda'

    def sync():
        if cuda:
            torch.cuda.synchronize()

    for name in names:
        model_name, mode, b, size = name.split('-')
        batch = int(b[1:])
        size = int(size)
        model = getattr(torchvision.models, model_name)(weights=None).to(device)
        x = torch.sin(torch.arange(batch * 3 * size * size, dtype=torch.float32)).reshape(batch, 3, size, size).to(device)
        labels = (torch.arange(batch) % 1000).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

        def step():
            if mode == 'train':
                model.train()
                opt.zero_grad()
                F.cross_entropy(model(x), labels).backward()
                opt.step()
            else:
                model.eval()
                with torch.no_grad():
                    model(x)

        steps = args.steps or (10 if cuda else 3 if mode == 'infer' else 2)
        step()
        sync()
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            step()
            sync()
            times.append((time.perf_counter() - t0) * 1000)
        ms = statistics.median(times)
        print(json.dumps({
            'name': name, 'peer': 'pytorch', 'device': torch.cuda.get_device_name() if cuda else f'cpu ({torch.get_num_threads()} threads)',
            'torch': torch.__version__, 'tf32': False, 'median_ms': round(ms, 1), 'images_per_s': round(1000 * batch / ms, 2),
        }), flush=True)


if __name__ == '__main__':
    bench_main()
