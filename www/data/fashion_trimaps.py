"""The embedded segmentation set: Fashion-MNIST items laid out as the Oxford-IIIT Pets
archives are (images/<name>.jpg and annotations/trimaps/<name>.png), with trimaps
derived from the pixels, so `datasets.pets` reads it exactly as it reads the real data.

Trimap values are the pets' own: 1 item ("pet"), 2 background, 3 outline (the band
where item and background meet, the pixels whose class is uncertain).
"""

import io
import zipfile

import numpy as np
from PIL import Image

ROOT = "fashion_pets_small"
PER_CLASS = 80          # items of each of the 10 classes, in training-set order
PAD = 2                 # 28x28 items on a 32x32 canvas: strided models halve it cleanly
THRESHOLD = 24          # darker pixels are background (Fashion-MNIST has a black ground)
CLASS_SLUGS = ["tshirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle_boot"]
DATE = (1980, 1, 1, 0, 0, 0)


def _shifted(mask, combine):
    """3x3 dilation (combine=np.logical_or) or erosion (np.logical_and)."""
    padded = np.pad(mask, 1, constant_values=combine is np.logical_and and False)
    h, w = mask.shape
    out = padded[1:h + 1, 1:w + 1].copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out = combine(out, padded[dy:dy + h, dx:dx + w])
    return out


def trimap(image):
    """uint8 trimap (1 item, 2 background, 3 outline) of a padded grayscale item."""
    item = image > THRESHOLD
    grown = _shifted(item, np.logical_or)
    core = _shifted(item, np.logical_and)
    out = np.full(image.shape, 2, np.uint8)
    out[grown] = 3
    out[core] = 1
    return out


def _jpeg(image):
    buf = io.BytesIO()
    Image.fromarray(image).convert("RGB").save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _png(image):
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def make(train_x, train_y, path):
    """Writes the zip at `path`; returns the number of pairs."""
    names = []
    with zipfile.ZipFile(path, "w") as z:
        for label, slug in enumerate(CLASS_SLUGS):
            rows = np.flatnonzero(train_y == label)[:PER_CLASS]
            assert len(rows) == PER_CLASS, (slug, len(rows))
            for k, row in enumerate(rows, start=1):
                image = np.pad(train_x[row], PAD)
                name = f"{slug}_{k}"
                for entry, payload in ((f"{ROOT}/images/{name}.jpg", _jpeg(image)),
                                       (f"{ROOT}/annotations/trimaps/{name}.png", _png(trimap(image)))):
                    info = zipfile.ZipInfo(entry, DATE)
                    info.compress_type = zipfile.ZIP_STORED  # JPEG and PNG are compressed already
                    z.writestr(info, payload)
                names.append(name)
    return len(names)


def check(path):
    """Every image has its trimap, 32x32, values 1..3 with all three present."""
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        images = sorted(n for n in z.namelist() if n.endswith(".jpg"))
        trimaps = sorted(n for n in z.namelist() if n.endswith(".png"))
        assert len(images) == len(trimaps) == PER_CLASS * len(CLASS_SLUGS)
        counts = np.zeros(4, np.int64)
        for t in trimaps:
            m = np.asarray(Image.open(io.BytesIO(z.read(t))))
            assert m.shape == (32, 32) and m.min() >= 1 and m.max() <= 3, t
            counts += np.bincount(m.ravel(), minlength=4)
        share = counts[1:] / counts.sum()
        print(f"  {path.name}: {len(images)} image/trimap pairs, pixels item {share[0]:.1%}, "
              f"background {share[1]:.1%}, outline {share[2]:.1%}")
        return {"item": round(float(share[0]), 4), "background": round(float(share[1]), 4),
                "outline": round(float(share[2]), 4)}
