"Bad and odd inputs to `raad.data`: every valid image loads as RGB uint8, every bad one is a `DataError` naming the file (the API with a few examples: nbs/00_data.ipynb)."
import struct, time, zlib
import numpy as np
import pytest
from PIL import Image, ImageFile
from raad.data import (DataError, load_image, load_mask, mvtec_samples, loco_samples, visa_samples, samples, detect_layout,
                       make_mvtec_fixture, make_loco_fixture, make_visa_fixture, MAX_IMAGE_PIXELS, AnomalyDataset, Sample)

def _noise(h=48, w=48):
    "Random RGB noise, so compressed files are mostly pixel data (cutting them in half cuts the pixels)."
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)

def _palette_img(transparent: bool):
    im = Image.new('P', (4, 3), 0); im.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (3 * 253))
    im.putpixel((0, 0), 1); im.putpixel((1, 0), 2)
    if transparent: im.info['transparency'] = 1  # red is the transparent index
    return im

def _png_declaring(path, w, h):
    "Write a valid 1-bit PNG of w x h zeros, streamed: a few hundred KB on disk and little memory however large w x h."
    def chunk(tag, data): return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data))
    row = 1 + (w + 7) // 8; z = zlib.compressobj(1); rows = bytes(row * 500); idat = []
    for i in range(0, h, 500): idat.append(z.compress(rows[:min(500, h - i) * row]))
    idat.append(z.flush())
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0))
                     + chunk(b'IDAT', b''.join(idat)) + chunk(b'IEND', b''))

# name -> (writer(path), expected (W, H), expected RGB of pixel (0, 0) or None)
ODD = {
    'gray16.png':   (lambda p: Image.fromarray(np.array([[65535, 0], [32896, 257]], np.uint16)).save(p), (2, 2), [255] * 3),
    'rgba.png':     (lambda p: Image.new('RGBA', (8, 5), (255, 0, 0, 255)).save(p), (8, 5), [255, 0, 0]),
    'clear.png':    (lambda p: Image.new('RGBA', (3, 3), (255, 0, 0, 0)).save(p), (3, 3), [0, 0, 0]),  # transparent -> black
    'pal.png':      (lambda p: _palette_img(False).save(p), (4, 3), [255, 0, 0]),
    'pal_trns.png': (lambda p: _palette_img(True).save(p), (4, 3), [0, 0, 0]),
    'pal.gif':      (lambda p: _palette_img(True).save(p), (4, 3), [0, 0, 0]),
    'one.png':      (lambda p: Image.new('RGB', (1, 1), (1, 2, 3)).save(p), (1, 1), [1, 2, 3]),
    'gray.png':     (lambda p: Image.new('L', (6, 4), 77).save(p), (6, 4), [77] * 3),
    'gray.jpg':     (lambda p: Image.new('L', (16, 16), 200).save(p), (16, 16), None),
    'bits.png':     (lambda p: Image.new('1', (9, 7), 1).save(p), (9, 7), [255] * 3),
    'la.png':       (lambda p: Image.new('LA', (5, 5), (200, 255)).save(p), (5, 5), [200] * 3),
    'cmyk.jpg':     (lambda p: Image.new('CMYK', (16, 16), (0, 0, 0, 0)).save(p), (16, 16), None),
    'rgb.tif':      (lambda p: Image.fromarray(_noise(10, 12)).save(p), (12, 10), _noise(10, 12)[0, 0].tolist()),
    'gray16.tif':   (lambda p: Image.fromarray(np.full((4, 4), 65535, np.uint16)).save(p), (4, 4), [255] * 3),
    'float.tif':    (lambda p: Image.fromarray(np.full((4, 4), 0.5, np.float32)).save(p), (4, 4), [128] * 3),
    'rgb.bmp':      (lambda p: Image.fromarray(_noise(10, 12)).save(p), (12, 10), _noise(10, 12)[0, 0].tolist()),
}

@pytest.mark.parametrize('name', ODD)
def test_odd_images_load_as_rgb_uint8(tmp_path, name):
    write, size, px = ODD[name]; write(tmp_path/name)
    im = load_image(tmp_path/name); a = np.asarray(im)
    assert im.mode == 'RGB' and a.dtype == np.uint8 and im.size == size and a.shape == (size[1], size[0], 3)
    if px is not None: assert a[0, 0].tolist() == px

def _cut(src_writer, name):
    "Writer of a valid file cut in half."
    def w(p):
        src_writer(p); b = p.read_bytes(); p.write_bytes(b[:len(b) // 2])
    return w

# name -> (writer(path), text the DataError message must contain besides the file name)
BAD = {
    'cut.png':   (_cut(lambda p: Image.fromarray(_noise()).save(p), 'cut.png'), 'truncated'),
    'cut.jpg':   (_cut(lambda p: Image.fromarray(_noise()).save(p, quality=95), 'cut.jpg'), 'truncated'),
    'zero.png':  (lambda p: p.write_bytes(b''), '0 bytes'),
    'text.png':  (lambda p: p.write_text('this is not an image\n'), 'not a readable image'),
    'noise.jpg': (lambda p: p.write_bytes(b'\xff\xd8\xff' + bytes(range(256)) * 4), 'not a readable image'),
    'nofile.png': (lambda p: None, 'no such image file'),
}

@pytest.mark.parametrize('name', BAD)
def test_bad_images_raise_dataerror_naming_file(tmp_path, name):
    write, why = BAD[name]; write(tmp_path/name)
    with pytest.raises(DataError) as e: load_image(tmp_path/name)
    assert name in str(e.value) and why in str(e.value)

@pytest.mark.parametrize('name', ['cut.png', 'cut.jpg'])
def test_truncated_fails_even_if_pil_allows_truncation(tmp_path, monkeypatch, name):
    BAD[name][0](tmp_path/name)
    monkeypatch.setattr(ImageFile, 'LOAD_TRUNCATED_IMAGES', True)
    with Image.open(tmp_path/name) as im: im.load()  # PIL itself now loads the cut file silently, padded ...
    with pytest.raises(DataError, match='truncated'): load_image(tmp_path/name)  # ... load_image does not
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # and the global is restored

@pytest.mark.parametrize('w,h', [(8001, 8001), (10000, 10000), (20000, 20000)])  # over our limit; PIL's warning; PIL's error
def test_decompression_bomb_refused_unread(tmp_path, monkeypatch, w, h):
    assert w * h > MAX_IMAGE_PIXELS
    p = tmp_path/f'bomb{w}.png'; _png_declaring(p, w, h)
    assert p.stat().st_size < 1_000_000
    def no_decode(self): raise AssertionError('pixels were decoded')
    monkeypatch.setattr(ImageFile.ImageFile, 'load', no_decode)  # refusal must come from the header alone
    t = time.perf_counter()
    with pytest.raises(DataError) as e: load_image(p)
    assert time.perf_counter() - t < 1 and p.name in str(e.value) and 'too large' in str(e.value)

def test_masks(tmp_path):
    Image.fromarray(np.eye(4, dtype=np.uint16)).save(tmp_path/'m16.png')        # 16-bit 0/1
    Image.fromarray(np.eye(4, dtype=np.uint8)[::-1]).save(tmp_path/'m01.png')   # 8-bit 0/1
    pal = Image.fromarray(np.eye(4, dtype=np.uint8), 'P'); pal.putpalette([0, 0, 0, 0, 0, 1] + [0] * 762); pal.save(tmp_path/'mp.png')
    test = load_mask([tmp_path/'m16.png', tmp_path/'m01.png'], (4, 4))
    assert test.dtype == np.uint8 and test.tolist() == np.maximum(np.eye(4), np.eye(4)[::-1]).astype(int).tolist()
    assert load_mask([tmp_path/'mp.png'], (4, 4)).sum() == 4  # palette colour (0, 0, 1): a defect, not black

def test_mask_size_differs_from_image(tmp_path):
    root = make_mvtec_fixture(tmp_path, n_train=1, n_good=0, n_bad=1)
    s = mvtec_samples(root, 'widget', 'test')[0]
    Image.new('L', (32, 64), 255).save(s.mask_paths[0])
    with pytest.raises(DataError, match='000_mask.png: mask is 32x64 but its image is 64x64'): AnomalyDataset([s], size=32)[0]

def test_bad_mask_file_named(tmp_path):
    (tmp_path/'m.png').write_bytes(b'')
    with pytest.raises(DataError, match='m.png'): load_mask([tmp_path/'m.png'], (4, 4))

@pytest.mark.parametrize('reader', [mvtec_samples, loco_samples, samples])
def test_empty_category_folder(tmp_path, reader):
    make_mvtec_fixture(tmp_path, n_train=1, n_good=0, n_bad=0); (tmp_path/'hollow').mkdir()
    with pytest.raises(DataError, match='hollow: empty category folder'): reader(tmp_path, 'hollow')

def _layouts(tmp_path):
    make_mvtec_fixture(tmp_path/'mvtec', n_train=1, n_good=1, n_bad=1); make_loco_fixture(tmp_path/'loco', n_train=1, n_val=1, n_good=1, n_bad=1)
    make_visa_fixture(tmp_path/'visa', n_train=1, n_good=1, n_bad=1); (tmp_path/'empty').mkdir(); (tmp_path/'other/stuff').mkdir(parents=True)
    (tmp_path/'files').mkdir(); (tmp_path/'files/a.png').write_bytes(b'')
    return tmp_path

WRONG = [('mvtec/widget', 'widget', 'pass its parent'), ('loco/box', 'box', 'pass its parent'),
         ('visa/candle', 'candle', 'VisA category folder'), ('empty', 'widget', 'empty folder; expected'),
         ('nowhere', 'widget', 'data folder not found'), ('other', 'widget', "category 'widget' not found"),
         ('mvtec', 'nope', "category 'nope' not found; "), ('visa', 'nope', "'nope' not listed"),
         ('files', 'widget', 'no category folders')]

@pytest.mark.parametrize('where,cat,why', WRONG)
def test_wrong_layout_one_line_message(tmp_path, where, cat, why):
    root = _layouts(tmp_path)
    with pytest.raises(DataError) as e: samples(root/where, cat)
    msg = str(e.value)
    assert why in msg and '\n' not in msg and len(msg) < 400

def test_explicit_wrong_layout(tmp_path):
    root = _layouts(tmp_path)
    with pytest.raises(DataError, match='_mask.png'): samples(root/'loco', 'box', 'test', layout='mvtec')  # LOCO masks are folders
    with pytest.raises(DataError, match='1cls.csv'): samples(root/'mvtec', 'widget', layout='visa')
    with pytest.raises(DataError, match="'validation'"): samples(root/'visa', 'candle', 'validation')

def test_loco_detected_from_mask_folders(tmp_path):
    make_loco_fixture(tmp_path, n_train=1, n_val=1, n_good=1, n_bad=1)
    import shutil; shutil.rmtree(tmp_path/'box/validation')  # a LOCO copy without its validation split
    assert detect_layout(tmp_path, 'box') == 'loco'
    assert [s.label for s in samples(tmp_path, 'box', 'test')] == [0, 1, 1]

def test_visa_csv_problems(tmp_path):
    root = make_visa_fixture(tmp_path, n_train=2, n_good=1, n_bad=1); f = root/'split_csv/1cls.csv'
    lines = f.read_text().splitlines()
    (root/'candle/Data/Images/Normal/0000.JPG').unlink()
    with pytest.raises(DataError, match='0000.JPG not found'): visa_samples(root, 'candle', 'train')
    f.write_text('\n'.join(lines[:-1] + [lines[-1].rsplit(',', 1)[0] + ',']) + '\n')  # anomaly without a mask
    with pytest.raises(DataError, match='1cls.csv:5: mask'): visa_samples(root, 'candle', 'test')
    f.write_text('object,split,image\n')
    with pytest.raises(DataError, match='missing column'): visa_samples(root, 'candle')
