"""A VGG16 (include_top=True) weights file in the layout of Keras's published
vgg16_weights_tf_dim_ordering_tf_kernels.h5 (legacy weights-only HDF5: layer_names,
one group per layer with weight_names), holding Keras's random initial weights.

The real file (528 MB) cannot be fetched offline; this one has the same layers, shapes
and layout, so loading it costs what loading the real one costs. It is 553 MB: written
under target/ (ignored by git), never committed. Used by vgg16-weights-memory.mjs, which
also checks what the loaded model predicts against Keras: the prediction for the image
`probe_image()` is written beside the file as <OUT>.json.

    KERAS_BACKEND=jax python tests/memory/make_vgg16_weights.py [OUT.h5]
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import json  # noqa: E402

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT = os.path.join(ROOT, "target", "vgg16_weights_tf_dim_ordering_tf_kernels.h5")


def probe_image():
    """A 224x224 RGB image from a formula (vgg16-weights-memory.mjs makes the same one)."""
    i = np.arange(224 * 224 * 3, dtype=np.float64)
    return ((i * 7919) % 255 - 127.5).astype("float32").reshape(1, 224, 224, 3)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    os.makedirs(os.path.dirname(out), exist_ok=True)
    keras.utils.set_random_seed(16)
    model = keras.applications.VGG16(include_top=True, weights=None)
    with h5py.File(out, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    y = np.asarray(model.predict(probe_image(), verbose=0))[0]
    with open(out + ".json", "w") as f:
        json.dump({"argmax": int(y.argmax()), "y": [float(v) for v in y]}, f)
    params = model.count_params()
    print(f"{out}: {os.path.getsize(out):,} bytes, {params:,} parameters ({params * 4:,} bytes as float32)")


if __name__ == "__main__":
    main()
