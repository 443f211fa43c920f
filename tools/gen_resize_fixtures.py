#!/usr/bin/python3
"""PIL fixtures of the bilinear resize (kernels-test/data/fixtures/pil_resize.json): torchvision's
RandomResizedCrop on PIL images is img.crop(box).resize(size, BILINEAR), PIL's 8-bit fixed-point
resampling; resizeImageBilinear must give the same bytes.

Run with Debian's python3-pil:  /usr/bin/python3 tools/gen_resize_fixtures.py
Source: chelsea.jpg decoded by PIL (the test decodes it with sharp: the same pixels), cropped and
resized per case; each case stores the box, the output size and the sha256 of the output's RGB
bytes plus its first 48 bytes (the tests never need PIL).
"""
import hashlib
import json
import os
import random

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, '..', 'kernels-test', 'fixtures', 'images', 'chelsea.jpg')
OUT = os.path.join(HERE, '..', 'kernels-test', 'data', 'fixtures', 'pil_resize.json')


def main():
    img = Image.open(SRC).convert('RGB')
    w, h = img.size
    rnd = random.Random(7)
    cases = [
        ((0, 0, w, h), (224, 224)), ((0, 0, w, h), (w, h)), ((10, 20, 224, 224), (224, 224)),
        ((5, 7, 100, 60), (224, 224)), ((0, 0, w, h), (37, 23)), ((3, 3, 1, 1), (5, 4)),
        ((40, 30, 300, 200), (224, 200)), ((40, 30, 224, 260), (224, 100)), ((0, 0, 451, 300), (100, 300)),
        ((100, 50, 9, 200), (224, 224)), ((0, 0, w, h), (500, 333)),
    ]
    for _ in range(24):  # RandomResizedCrop-like boxes to 224 and to 64
        bw, bh = rnd.randint(1, w), rnd.randint(1, h)
        cases.append(((rnd.randint(0, w - bw), rnd.randint(0, h - bh), bw, bh), rnd.choice([(224, 224), (64, 64), (96, 80)])))
    out = {'source': 'kernels-test/fixtures/images/chelsea.jpg', 'cases': []}
    for (left, top, bw, bh), (ow, oh) in cases:
        r = img.crop((left, top, left + bw, top + bh)).resize((ow, oh), Image.BILINEAR)
        data = r.tobytes()
        out['cases'].append({'box': {'left': left, 'top': top, 'width': bw, 'height': bh}, 'out': [ow, oh],
                             'sha256': hashlib.sha256(data).hexdigest(), 'head': list(data[:48])})
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1)
    print(f'{len(cases)} cases -> {OUT}')


if __name__ == '__main__':
    main()
