"""Keras side of bench/src/training-speed.ts: trains the production recommender architecture
(training/src/model/recommender.ts) on the very same rows and prints the seconds of each epoch.

Usage: KERAS_BACKEND=jax python bench_recommender.py DATA_DIR SPEC_JSON
DATA_DIR holds section.i32, region.i32 (int32, one id per row), numeric.f32 (float32, rows x n)
and label.f32 (float32, one per row). SPEC_JSON: {"rows", "sections", "regions", "embeddingDim",
"numericFeatures", "hidden", "epochs", "batchSize", "learningRate"}.
Prints {"keras_version", "backend", "epoch_seconds", "epoch_cpu_seconds", "final_loss"}.
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
    rows, n = spec["rows"], spec["numericFeatures"]
    section = np.fromfile(os.path.join(data_dir, "section.i32"), dtype=np.int32).reshape(rows, 1)
    region = np.fromfile(os.path.join(data_dir, "region.i32"), dtype=np.int32).reshape(rows, 1)
    numeric = np.fromfile(os.path.join(data_dir, "numeric.f32"), dtype=np.float32).reshape(rows, n)
    label = np.fromfile(os.path.join(data_dir, "label.f32"), dtype=np.float32).reshape(rows, 1)

    layers = keras.layers
    s_in = keras.Input(shape=(1,), dtype="int32", name="article_section")
    r_in = keras.Input(shape=(1,), dtype="int32", name="article_region")
    x_in = keras.Input(shape=(n,), dtype="float32", name="numeric")
    s_vec = layers.Flatten()(layers.Embedding(spec["sections"] + 1, spec["embeddingDim"])(s_in))
    r_vec = layers.Flatten()(layers.Embedding(spec["regions"] + 1, spec["embeddingDim"])(r_in))
    x = layers.Concatenate()([s_vec, r_vec, x_in])
    for units in spec["hidden"]:
        x = layers.Dense(units, activation="relu")(x)
    out = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model([s_in, r_in, x_in], out)
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
        [section, region, numeric],
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
