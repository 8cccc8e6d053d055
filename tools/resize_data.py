"""Copy a data set folder with every image resized to SIZE² exactly as raad's loader resizes it (PIL bilinear for images,
nearest neighbour for masks under ground_truth/), so that a copy small enough to carry to another machine evaluates the same.
    python tools/resize_data.py ../shared/data/mvtec_ad/bottle .gpu/data/mvtec_ad/bottle [--size 256]
"""
import argparse
from pathlib import Path
from PIL import Image

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('src'); p.add_argument('dst'); p.add_argument('--size', type=int, default=256)
a = p.parse_args()
src, dst, n = Path(a.src), Path(a.dst), 0
for f in sorted(src.rglob('*')):
    if f.suffix.lower() not in ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff'): continue
    q = (dst/f.relative_to(src)).with_suffix('.png'); q.parent.mkdir(parents=True, exist_ok=True)
    im = Image.open(f)
    if 'ground_truth' in f.relative_to(src).parts: im.resize((a.size, a.size), Image.NEAREST).save(q, optimize=True)
    else: im.convert('RGB').resize((a.size, a.size), Image.BILINEAR).save(q, optimize=True)
    n += 1
print(f"{n} images written under {dst}")
