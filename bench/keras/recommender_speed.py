"""Keras side of bench/src/training-speed.ts: the production recommender
(training/src/model/recommender.ts) trained as training/src/app/model-ops.ts fitRanker trains it, on the
very same rows, so that seconds per epoch compare like with like:

- the architecture: a section and a region Embedding, concatenated with the numeric block, ReLU Dense
  layers, a bias-free linear MLP logit plus a bias-free linear prior logit over the numeric block
  (starting as the popularity column, as in tfjs);
- the loss: listwise, the softmax cross-entropy of each group of `groupSize` consecutive rows (the
  positive first), averaged over groups — Keras's CategoricalCrossentropy(from_logits=True) over rows
  laid out as [groups, groupSize];
- the batches: whole groups, `batchGroups` a step, the groups shuffled each epoch; Adam.

Runs on Keras 2.15 (tf.keras on TensorFlow 2.15: the libtensorflow tfjs-node runs) and on Keras 3 (JAX).

Usage: KERAS_BACKEND=jax|tensorflow python recommender_speed.py DATA_DIR SPEC_JSON
SPEC_JSON: {"rows", "groupSize", "batchGroups", "sectionVocab", "regionVocab", "embeddingDim", "hidden",
            "numericFeatures", "priorIndex", "epochs", "learningRate"}
DATA_DIR: section.i32, region.i32 (one id per row), numeric.f32 (rows x numericFeatures), label.f32.
Prints {"keras_version", "backend", "epoch_seconds", "epoch_cpu_seconds", "final_loss"} on stdout.
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
    import keras  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

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
        batch_size=spec["batchGroups"],
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
