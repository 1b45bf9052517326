"""Keras side of the training benchmarks. Trains on the very same rows the TypeScript benchmark wrote and
prints the seconds of each epoch. Two models:

- bench/src/training-epoch.ts: the reference ranker (training/src/model/ranker.ts): one Embedding →
  Flatten per id input, concatenated with the numeric features, a ReLU MLP and a sigmoid, binary
  cross-entropy on shuffled rows.
- bench/src/training-speed.ts (SPEC_JSON has "groupSize"): the production recommender
  (training/src/model/recommender.ts) trained as training/src/app/model-ops.ts fitRanker trains it: a
  section and a region Embedding, concatenated with the numeric block, ReLU Dense layers, a bias-free
  linear MLP logit plus a bias-free linear prior logit over the numeric block (starting as the
  popularity column); the listwise loss, the softmax cross-entropy of each group of `groupSize`
  consecutive rows averaged over groups (CategoricalCrossentropy(from_logits=True) over rows laid out as
  [groups, groupSize]); whole groups a batch (`batchGroups`), the groups shuffled each epoch.

Runs on Keras 3 (JAX) and on Keras 2.15 (tf.keras on TensorFlow 2.15, the libtensorflow tfjs-node runs).

Usage: KERAS_BACKEND=jax python bench_mlp.py DATA_DIR SPEC_JSON
SPEC_JSON (reference ranker): {"rows", "ids": [{"name", "file", "vocab"}, ...], "embeddingDim",
            "numericFeatures", "hidden", "epochs", "batchSize", "learningRate"}
SPEC_JSON (recommender): {"rows", "groupSize", "batchGroups", "sectionVocab", "regionVocab",
            "embeddingDim", "hidden", "numericFeatures", "priorIndex", "epochs", "learningRate"}
DATA_DIR holds each id input's file (int32, one id per row; the recommender's are section.i32 and
region.i32), numeric.f32 (float32, rows x n) and label.f32 (float32, one per row).
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
    build = recommender if "groupSize" in spec else ranker
    model, inputs, label, batch_size = build(keras, np, data_dir, spec)

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
        inputs,
        label,
        epochs=spec["epochs"],
        batch_size=batch_size,
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


def ranker(keras, np, data_dir, spec):
    """The reference ranker, compiled, its inputs, labels and batch size."""
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
    return model, [*ids, numeric], label, spec["batchSize"]


def recommender(keras, np, data_dir, spec):
    """The production recommender with the listwise loss, over rows laid out as [groups, groupSize]."""
    rows, gs, n = spec["rows"], spec["groupSize"], spec["numericFeatures"]
    groups = rows // gs

    def read(name, dtype, shape):
        return np.fromfile(os.path.join(data_dir, name), dtype=dtype).reshape(shape)

    section = read("section.i32", np.int32, (groups, gs))
    region = read("region.i32", np.int32, (groups, gs))
    numeric = read("numeric.f32", np.float32, (groups, gs, n))
    label = read("label.f32", np.float32, (groups, gs))

    layers = keras.layers
    section_in = keras.Input(shape=(gs,), dtype="int32", name="article_section")
    region_in = keras.Input(shape=(gs,), dtype="int32", name="article_region")
    numeric_in = keras.Input(shape=(gs, n), dtype="float32", name="numeric")

    def embedding(vocab):
        return layers.Embedding(
            vocab, spec["embeddingDim"], embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05)
        )

    x = layers.Concatenate()(
        [embedding(spec["sectionVocab"])(section_in), embedding(spec["regionVocab"])(region_in), numeric_in]
    )
    for units in spec["hidden"]:
        x = layers.Dense(units, activation="relu")(x)
    mlp = layers.Dense(1, use_bias=False, kernel_initializer="zeros")(x)
    prior_layer = layers.Dense(1, use_bias=False)
    prior = prior_layer(numeric_in)
    logit = layers.Reshape((gs,))(layers.Add()([mlp, prior]))
    model = keras.Model([section_in, region_in, numeric_in], logit)
    prior_kernel = np.zeros((n, 1), dtype=np.float32)
    prior_kernel[spec["priorIndex"], 0] = 1.0
    prior_layer.set_weights([prior_kernel])
    model.compile(
        optimizer=keras.optimizers.Adam(spec["learningRate"]),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    )
    return model, [section, region, numeric], label, spec["batchGroups"]


if __name__ == "__main__":
    sys.exit(main())
