#!/usr/bin/python3
"""Writes the parity fixtures of the original release's other trunks (kernels-test/nn/fixtures/):
reduced SENet154, PNASNet-5-Large and NASNet-A-Mobile (every cell type and module name of the
published nets, narrower, fewer SENet blocks; tools/torch_trunks.py) inside the original's
MultiGrain wrapper (GeM p = 3, pre_classifier, classifier).

Per trunk, `<name>_tiny.safetensors` (references in float64 from the float32 weights):
  w.<key>            the MultiGrain state dict in the original's layout (`features.layer0.conv1.weight`
                     for SENet; `features.0.base_net.conv0.conv.weight` and its alias
                     `features.0.base_net.last_linear.*` of `classifier.*` for the NASNets; `p`)
  input              [2, 3, H, W], odd sizes so that the cells' cropping and ceil-mode pooling act
  eval.embedding / eval.logits     eval mode
  train.embedding / train.logits   train mode (batch statistics), dropout off
  G, Hm              loss = sum(logits * G) + sum(embedding * Hm); g.input and g.<key> its gradients
and `<name>_imagenet.pth`: the bare net's state dict (Cadene's layout, `last_linear.*`), as an
ImageNet file for --pretrained-backbone; for NASNet-A-Mobile also `nasnetamobile_multigrain.pth`,
the original's checkpoint dict ({'model_state': the w.* state dict, num_batches_tracked included}).

Run: /usr/bin/python3 tools/gen_trunk_fixtures.py
"""
import json
import os
import struct
import sys
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import torch_trunks as T  # noqa: E402

OUT = 'kernels-test/nn/fixtures'

# reduced variants: (net, input size); the published nets are T.SENet(), T.PNASNet5Large(1000), T.NASNetAMobile()
VARIANTS = {
    'senet154': (lambda: T.SENet(layers=(1, 2, 1, 1), groups=4, reduction=4, inplanes=8, width=4, num_classes=5), (48, 41)),
    'pnasnet5large': (lambda: T.PNASNet5Large(num_classes=5, stem=4, f=2), (67, 61)),
    'nasnetamobile': (lambda: T.NASNetAMobile(num_classes=5, stem_filters=4, penultimate_filters=192), (67, 61)),
}


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


def randomize_batchnorms(net):
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)


def generate(name, make, size):
    torch.manual_seed(0)
    net = make()
    randomize_batchnorms(net)
    torch.save({k: v for k, v in net.state_dict().items()}, f'{OUT}/{name}_imagenet.pth', _use_new_zipfile_serialization=True)
    model = T.BackBone(net, p=3.0)
    if name == 'nasnetamobile':
        torch.save({'model_state': model.state_dict(), 'epoch': 0}, f'{OUT}/{name}_multigrain.pth')
    state = {k: v.clone() for k, v in model.state_dict().items() if 'num_batches_tracked' not in k}
    model = model.double()
    model.pre_classifier.p = 0.0  # dropout off: the gradients are deterministic
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    model.eval()
    with torch.no_grad():
        eval_embedding, eval_logits = model(x)
    model.train()
    xg = x.clone().requires_grad_(True)
    embedding, logits = model(xg)
    G, Hm = torch.randn_like(logits), torch.randn_like(embedding)
    ((logits * G).sum() + (embedding * Hm).sum()).backward()
    tensors = {
        'input': x, 'eval.embedding': eval_embedding, 'eval.logits': eval_logits,
        'train.embedding': embedding, 'train.logits': logits, 'G': G, 'Hm': Hm, 'g.input': xg.grad,
    }
    for k, v in state.items():
        tensors['w.' + k] = v
    params = dict(model.named_parameters())
    for k in state:
        try:
            p = model.get_parameter(k)
        except AttributeError:
            continue
        if p.grad is not None:
            tensors['g.' + k] = p.grad
    assert len(params) > 0
    path = f'{OUT}/{name}_tiny.safetensors'
    save_safetensors(path, tensors, {'backbone': name, 'torch': torch.__version__})
    print('wrote', path, os.path.getsize(path), 'bytes;', sum(p.numel() for p in params.values()), 'parameters;',
          'trunk output', tuple(model.features(x).shape))


for name, (make, size) in VARIANTS.items():
    generate(name, make, size)
