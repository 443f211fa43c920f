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
