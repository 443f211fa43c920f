#!/usr/bin/python3
"""Writes the small PyTorch checkpoint fixtures of kernels-test/io/fixtures/.

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_pth_fixtures.py

Files written (all tiny, < 200 KB together):
  tiny_zip.pth          torch.save, zip format (PyTorch >= 1.6), pickle protocol 2
  tiny_zip_p4.pth       the same object, zip format, pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL)
  tiny_legacy.pth       the same object, legacy single-stream format (_use_new_zipfile_serialization=False)
  tiny_deflate.pth      tiny_zip.pth re-zipped with deflate compression (Python's zipfile)
  tiny_expected.safetensors
                        every tensor of the object as contiguous data, keyed by its path with '/'
                        separators ('model_state/features.conv1.weight', 'extra/beta', ...);
                        written by the small writer below, NOT by torch, so the tests compare the
                        TypeScript loader against an independent encoding
  resnet_tv_tiny.pth    a torchvision-style ResNet state dict (conv1, bn1, layer1.0.*, fc), zip format
  multigrain_whitened_tiny.pth
                        a MultiGrain-style checkpoint {model_state, optimizer_state, extra} with
                        whitening.pca.* and a (classes x (d+1)) classifier, legacy format
  unknown_global.pth    a dict holding an argparse.Namespace (a global the loader must refuse)

The tests read only these committed files; they never need torch.
"""
import argparse
import io
import json
import os
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kernels-test', 'io', 'fixtures')

ST_DTYPES = {
    np.dtype('float64'): 'F64', np.dtype('float32'): 'F32', np.dtype('float16'): 'F16',
    np.dtype('int64'): 'I64', np.dtype('int32'): 'I32', np.dtype('int16'): 'I16', np.dtype('int8'): 'I8',
    np.dtype('uint8'): 'U8', np.dtype('bool'): 'BOOL',
}


def write_safetensors(path, arrays, metadata=None):
    """A minimal independent safetensors writer (numpy bytes, little-endian)."""
    header = {}
    if metadata:
        header['__metadata__'] = metadata
    blobs, offset = [], 0
    for name, a in arrays.items():
        a = a.copy(order='C')  # (np.ascontiguousarray would turn 0-d arrays into 1-d)
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': ST_DTYPES[a.dtype], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def flatten(obj, prefix, out):
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj.detach().numpy().copy()
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, f'{prefix}/{k}' if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flatten(v, f'{prefix}/{i}' if prefix else str(i), out)


def bn(prefix, c, g):
    return [
        (f'{prefix}.weight', torch.rand(c, generator=g) + 0.5),
        (f'{prefix}.bias', torch.randn(c, generator=g)),
        (f'{prefix}.running_mean', torch.randn(c, generator=g)),
        (f'{prefix}.running_var', torch.rand(c, generator=g) + 0.1),
        (f'{prefix}.num_batches_tracked', torch.tensor(7, dtype=torch.int64)),
    ]


def tiny_object():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(4, 6, generator=g)
    model_state = OrderedDict(
        [('features.conv1.weight', torch.randn(4, 3, 3, 3, generator=g))]
        + bn('features.bn1', 4, g)
        + [('pool.p', torch.tensor([3.0])),
           ('classifier.weight', torch.randn(5, 4, generator=g)),
           ('classifier.bias', torch.randn(5, generator=g))])
    model_state._metadata = OrderedDict([('', {'version': 1}), ('features', {'version': 1})])
    tensors = OrderedDict([
        ('f64', torch.randn(3, 2, generator=g, dtype=torch.float64)),
        ('i64', torch.tensor([-(2 ** 40), -1, 0, 5, 2 ** 53 + 1, 2 ** 62], dtype=torch.int64)),
        ('i32', torch.tensor([[-7, 0], [2 ** 31 - 1, -2 ** 31]], dtype=torch.int32)),
        ('u8', torch.tensor([0, 1, 128, 255], dtype=torch.uint8)),
        ('bool', torch.tensor([True, False, True])),
        ('f16', torch.tensor([1.0, -2.5, 65504.0, 6e-8], dtype=torch.float16)),
        ('transposed', base.t()),                      # non-contiguous view, strides (1, 6)
        ('slice', base[1:3, 2:5]),                     # storage offset 8, strides (6, 1)
        ('row', base[2]),                              # storage offset 12, contiguous
        ('shared_a', base),                            # these three share base's storage
        ('shared_b', base.view(24)[5:11].view(2, 3)),
        ('step2', base.view(24)[1::5]),                # stride 5
        ('expanded', torch.tensor([1.0, 2.0, 3.0]).expand(2, 3)),  # stride 0
        ('scalar', torch.tensor(2.5)),
        ('empty', torch.zeros(0, 3)),
        ('param', torch.nn.Parameter(torch.randn(2, generator=g))),
    ])
    optimizer_state = {
        'state': {0: {'momentum_buffer': torch.randn(4, 3, 3, 3, generator=g)}},
        'param_groups': [{'lr': 0.1, 'momentum': 0.9, 'weight_decay': 1e-4, 'nesterov': False, 'params': [0, 1]}],
    }
    misc = {'epoch': 3, 'name': 'tiny', 'tuple': (1, 2.5, None, True), 'big': 2 ** 70, 'neg': -5,
            'bytes': b'\x00\x01\xff', 'float': 0.1, 'list': [1, 'a'], 'unicode': 'h\u00e9llo \u2603'}
    return {'model_state': model_state, 'optimizer_state': optimizer_state,
            'extra': {'beta': torch.tensor(1.2)}, 'tensors': tensors, 'misc': misc}


def save(obj, name, **kw):
    path = os.path.join(OUT, name)
    torch.save(obj, path, **kw)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    obj = tiny_object()
    zpath = save(obj, 'tiny_zip.pth')
    save(obj, 'tiny_zip_p4.pth', pickle_protocol=4)
    save(obj, 'tiny_legacy.pth', _use_new_zipfile_serialization=False)
    with zipfile.ZipFile(zpath) as src, zipfile.ZipFile(os.path.join(OUT, 'tiny_deflate.pth'), 'w', zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():  # fixed timestamps keep the file reproducible
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    flat = OrderedDict()
    flatten(obj, '', flat)
    write_safetensors(os.path.join(OUT, 'tiny_expected.safetensors'), flat, {'generator': 'tools/gen_pth_fixtures.py', 'torch': torch.__version__})

    g = torch.Generator().manual_seed(1)
    tv = OrderedDict([('conv1.weight', torch.randn(2, 3, 3, 3, generator=g))] + bn('bn1', 2, g)
                     + [('layer1.0.conv1.weight', torch.randn(2, 2, 3, 3, generator=g))] + bn('layer1.0.bn1', 2, g)
                     + [('layer1.0.conv2.weight', torch.randn(2, 2, 3, 3, generator=g))] + bn('layer1.0.bn2', 2, g)
                     + [('fc.weight', torch.randn(5, 2, generator=g)), ('fc.bias', torch.randn(5, generator=g))])
    save(tv, 'resnet_tv_tiny.pth')

    mg = OrderedDict([('features.' + k, v) for k, v in tv.items() if not k.startswith('fc.')])
    mg['pool.p'] = torch.tensor([3.0])
    mg['classifier.weight'] = torch.randn(5, 3, generator=g)     # 2 features + bias channel
    mg['classifier.bias'] = torch.randn(5, generator=g)
    mg['whitening.pca.pca_m'] = torch.randn(3, generator=g)
    mg['whitening.pca.pca_P'] = torch.randn(3, 3, generator=g)
    save({'model_state': mg, 'optimizer_state': {'state': {}, 'param_groups': []}, 'extra': {'beta': torch.tensor(1.2)}},
         'multigrain_whitened_tiny.pth', _use_new_zipfile_serialization=False)

    save({'args': argparse.Namespace(lr=0.1), 'w': torch.ones(2)}, 'unknown_global.pth')

    total = 0
    for f in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, f))
        total += size
        print(f'{f:32s} {size:7d} bytes')
    print(f'{"total":32s} {total:7d} bytes')


if __name__ == '__main__':
    main()
