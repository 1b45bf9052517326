"""Loads a Keras .h5 model written by training/src/model/keras-h5.ts and prints its predictions.

Usage: KERAS_BACKEND=numpy python predict_h5.py MODEL.h5 INPUTS.json
INPUTS.json: {"<input name>": [[...], ...], ...} (one entry per model input, by name).
Prints one JSON object on stdout:
  {"keras_version": ..., "backend": ..., "layers": [...], "predictions": [[...], ...]}
Exits non-zero with a message on stderr when Keras (or h5py) is missing or the model fails to load.
"""

import json
import os
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model_path, inputs_path = sys.argv[1], sys.argv[2]
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    try:
        import keras  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415
    except ImportError as error:
        print(f"KERAS_MISSING: {error}. Install scripts/python-requirements.txt", file=sys.stderr)
        return 3

    model = keras.models.load_model(model_path, compile=False)
    with open(inputs_path, encoding="utf8") as f:
        raw = json.load(f)
    feeds = {}
    for tensor in model.inputs:
        name = tensor.name.split(":")[0]
        if name not in raw:
            print(f"input {name} missing from {inputs_path}", file=sys.stderr)
            return 4
        feeds[name] = np.asarray(raw[name], dtype=tensor.dtype)
    predictions = model.predict(feeds, verbose=0)
    print(
        json.dumps(
            {
                "keras_version": keras.__version__,
                "backend": keras.backend.backend(),
                "layers": [layer.name for layer in model.layers],
                "predictions": np.asarray(predictions, dtype=np.float64).tolist(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
