"""Keras side of the training benchmarks (bench/src/training-speed.ts: the production recommender,
training/src/model/recommender.ts; bench/src/training-epoch.ts: the reference ranker,
training/src/model/ranker.ts). Both are the same shape: one Embedding → Flatten per id input,
concatenated with the numeric features, a ReLU MLP and a sigmoid. Trains it on the very same rows
and prints the seconds of each epoch.

Usage: KERAS_BACKEND=jax python bench_mlp.py DATA_DIR SPEC_JSON
SPEC_JSON: {"rows", "ids": [{"name", "file", "vocab"}, ...], "embeddingDim", "numericFeatures",
            "hidden", "epochs", "batchSize", "learningRate"}
DATA_DIR holds each id input's file (int32, one id per row), numeric.f32 (float32, rows x n) and
label.f32 (float32, one per row), written by the TypeScript benchmark.
Prints {"keras_version", "backend", "epoch_seconds": [...], "epoch_cpu_seconds": [...] (process
CPU time, all threads), "final_loss"} on stdout.
"""

import json
import os
import sys
import time


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    data_dir, spec = sys.argv[1], json.loads(sys.argv[2])
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415
    except ImportError as error:
        print(f"KERAS_MISSING: {error}", file=sys.stderr)
        return 3
    if keras.backend.backend() == "numpy":
        print("KERAS_BACKEND=numpy cannot train; use jax, torch or tensorflow", file=sys.stderr)
        return 4
    rows, n = spec["rows"], spec["numericFeatures"]
    ids = [
        np.fromfile(os.path.join(data_dir, i["file"]), dtype=np.int32).reshape(rows, 1) for i in spec["ids"]
    ]
    numeric = np.fromfile(os.path.join(data_dir, "numeric.f32"), dtype=np.float32).reshape(rows, n)
    label = np.fromfile(os.path.join(data_dir, "label.f32"), dtype=np.float32).reshape(rows, 1)

    layers = keras.layers
    id_ins = [keras.Input(shape=(1,), dtype="int32", name=i["name"]) for i in spec["ids"]]
    x_in = keras.Input(shape=(n,), dtype="float32", name="numeric")
    vecs = [
        layers.Flatten()(layers.Embedding(i["vocab"], spec["embeddingDim"])(x))
        for i, x in zip(spec["ids"], id_ins, strict=True)
    ]
    x = layers.Concatenate()([*vecs, x_in])
    for units in spec["hidden"]:
        x = layers.Dense(units, activation="relu")(x)
    out = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model([*id_ins, x_in], out)
    model.compile(optimizer=keras.optimizers.Adam(spec["learningRate"]), loss="binary_crossentropy")

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []
            self.cpu_seconds = []
            self.started = (0.0, 0.0)

        def on_epoch_begin(self, epoch, logs=None):
            self.started = (time.perf_counter(), time.process_time())

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started[0])
            self.cpu_seconds.append(time.process_time() - self.started[1])

    timer = EpochTimer()
    history = model.fit(
        [*ids, numeric],
        label,
        epochs=spec["epochs"],
        batch_size=spec["batchSize"],
        shuffle=True,
        verbose=0,
        callbacks=[timer],
    )
    print(
        json.dumps(
            {
                "keras_version": keras.__version__,
                "backend": keras.backend.backend(),
                "epoch_seconds": timer.seconds,
                "epoch_cpu_seconds": timer.cpu_seconds,
                "final_loss": float(history.history["loss"][-1]),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
