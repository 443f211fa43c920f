#!/usr/bin/env python3
"""Writes a small ResNet fixture for the PyTorch parity test of our ResNet.

ResNet-50 layout (Bottleneck blocks [3, 4, 6, 3], torchvision names and v1.5 strides) at base
width 2 instead of 64, 10 classes, random batchnorm statistics. Saves, as safetensors:
weights (`w.<name>`), the input, the train-mode logits and the gradients of
loss = sum(logits * G) w.r.t. the input and every parameter (`g.<name>`), the running
statistics after that step (`rs.<name>`), and eval-mode logits of the ORIGINAL weights.
References are computed in float64 (the ground truth): at this size, float32 PyTorch itself
is ~1e-3 away from them in the worst train-mode gradient (batchnorm over few values).

Run with Debian's torch: /usr/bin/python3 tools/gen_resnet_fixture.py
"""
import json
import struct
import torch
import torch.nn as nn

torch.manual_seed(0)
OUT = 'kernels-test/nn/fixtures/resnet50_w2.safetensors'


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, blocks, width, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = width
        for i, n in enumerate(blocks):
            planes = width * 2 ** i
            layers = []
            for b in range(n):
                stride = 2 if (b == 0 and i > 0) else 1
                ds = None
                if stride != 1 or inplanes != planes * 4:
                    ds = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), nn.BatchNorm2d(planes * 4))
                layers.append(Bottleneck(inplanes, planes, stride, ds))
                inplanes = planes * 4
            setattr(self, f'layer{i + 1}', nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def save_safetensors(path, tensors, meta):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header['__metadata__'] = meta
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


model = ResNet([3, 4, 6, 3], 2, 10)
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
state = {k: v.clone() for k, v in model.state_dict().items() if 'num_batches_tracked' not in k}
model = model.double()
x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
model.eval()
with torch.no_grad():
    eval_logits = model(x)
model.train()
xg = x.clone().requires_grad_(True)
logits = model(xg)
G = torch.randn_like(logits)
(logits * G).sum().backward()

tensors = {'input': x, 'eval_logits': eval_logits, 'train_logits': logits, 'G': G, 'g.input': xg.grad}
for k, v in state.items():
    tensors['w.' + k] = v
for k, p in model.named_parameters():
    tensors['g.' + k] = p.grad
for k, v in model.state_dict().items():
    if 'running' in k:
        tensors['rs.' + k] = v
save_safetensors(OUT, tensors, {'depth': '50', 'baseWidth': '2', 'numClasses': '10', 'torch': torch.__version__})
print('wrote', OUT, sum(t.numel() for t in tensors.values()), 'floats')
