/**
 * The recommender's training step written out: its forward pass, the gradient of the ranking loss
 * by hand, and tfjs's own Adam on all weights held as one flat vector. It computes what
 * `model.fit` computes on the Keras-style model (recommender.ts) — the same kernels on the same
 * values, so the same weights (bit for bit on the listwise loss, tested against `model.fit`) — with
 * ~75 tensor ops a step instead of ~300.
 *
 * Why: on tfjs-node every op costs a fixed ~15–25 µs of dispatch (JavaScript engine bookkeeping,
 * the N-API call, TensorFlow's eager executor), and the layers API adds its symbolic executor, a
 * gradient tape, per-op scalar uploads in Adam (once per variable) and callbacks. For this small
 * network that overhead, not the matrix products, was ~95 % of a step (issue #18: 28 ms a step,
 * ~1 ms of it matrix products). Written out, a step is those products plus a few dozen cheap ops:
 * the two embedding lookups are one gather in a table that holds both, the ReLU gradient is one
 * `sign` (the output is ≥ 0), Adam updates one variable instead of one per layer weight, and the
 * rows of a whole epoch are on the device before it starts (one gather; its batches, one split per
 * input), and the loss is read back once per epoch. Figures: bench/README.md.
 */
import { type ModelInputArrays, numericWidth } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import type { RankingLoss } from "../domain/examples.js";
import { MLP_LAYER, PRIOR_LAYER, SCORE_LOGIT_LAYER } from "./recommender.js";

type Tf = typeof TfModule;
type Tensor = TfModule.Tensor;
type Tensor2D = TfModule.Tensor2D;

/** Rows on the device: per row the section id and the region id (offset into the shared table), numeric, label. */
export interface DeviceRows {
  rows: number;
  /** int32 `[2 × rows]`: per row its section id, then `sections + 1 +` its region id. */
  ids: TfModule.Tensor1D;
  numeric: Tensor2D;
  /** `[rows, 1]`. */
  labels: Tensor2D;
}

export interface TrainerOptions {
  loss: RankingLoss;
  /** Rows per group (listwise: the softmax runs over each group of consecutive rows). */
  groupSize: number;
  learningRate: number;
}

/** A weight of the model as a piece of the flat vector. */
interface Piece {
  layer: string;
  /** Index among the layer's weights. */
  index: number;
  shape: number[];
  size: number;
}

/** The network's weights as views into the flat vector, in `Piece` order. */
interface Params {
  /** Section table then region table: `[sections + 1 + regions + 1, dim]`. */
  table: Tensor2D;
  hidden: { kernel: Tensor2D; bias: Tensor }[];
  mlp: Tensor2D;
  prior: Tensor2D;
}

const EMBEDDINGS = ["section_emb", "region_emb"] as const;
const HIDDEN = /^hidden_(\d+)$/;

/**
 * The layers `buildRecommender` makes, checked one by one: a model of another shape is refused
 * rather than trained as something it is not.
 */
function hiddenLayersOf(model: TfModule.LayersModel): string[] {
  const names = model.layers.map((l) => l.name);
  const hidden = names
    .filter((n) => HIDDEN.test(n))
    .sort((a, b) => Number(HIDDEN.exec(a)?.[1]) - Number(HIDDEN.exec(b)?.[1]));
  const expected = [
    ...model.inputNames,
    ...EMBEDDINGS,
    "section_flat",
    "region_flat",
    "features",
    ...hidden,
    MLP_LAYER,
    PRIOR_LAYER,
    SCORE_LOGIT_LAYER,
    "score",
  ];
  const config = (name: string) => model.getLayer(name).getConfig();
  const problems = [
    ...expected.filter((n) => !names.includes(n)).map((n) => `no layer ${n}`),
    ...names.filter((n) => !expected.includes(n)).map((n) => `an extra layer ${n}`),
  ];
  if (problems.length === 0) {
    const features = model.getLayer("features").inboundNodes[0]?.inboundLayers.map((l) => l.name);
    problems.push(
      ...hidden.filter((n, i) => n !== `hidden_${i}`).map((n) => `${n} out of order`),
      ...hidden
        .filter((n) => config(n).activation !== "relu" || config(n).useBias !== true)
        .map((n) => `${n} is not a ReLU layer with a bias`),
      ...[MLP_LAYER, PRIOR_LAYER]
        .filter((n) => config(n).activation !== "linear" || config(n).useBias !== false)
        .map((n) => `${n} is not linear without a bias`),
      ...(features?.join() === `section_flat,region_flat,${model.inputNames[2]}`
        ? []
        : [`features concatenates ${features?.join()}`]),
    );
  }
  if (problems.length > 0)
    throw new Error(`the model is not the recommender this trainer computes: ${problems.join("; ")}`);
  return hidden;
}

/**
 * Trains a recommender built by `buildRecommender`. The model's weights are read once; `commit`
 * writes the trained ones back. Dispose when done (the optimizer state and the flat vector).
 */
export class RecommenderTrainer {
  private readonly pieces: Piece[];
  /** Sizes of the flat vector's views: both tables in one, then the other pieces. */
  private readonly views: number[];
  private readonly hiddenCount: number;
  private readonly params: TfModule.Variable;
  private readonly optimizer: TfModule.AdamOptimizer;
  private readonly sections: number;
  private readonly tableRows: number;
  private readonly dim: number;
  /** 1 / groups (listwise) or 1 / rows (pointwise) of a batch, by its row count: uploaded once. */
  private readonly scales = new Map<number, TfModule.Scalar>();
  /** The backend's float epsilon: Adam's default and Keras's clip of a binary cross-entropy's score. */
  private readonly epsilon: number;

  constructor(
    private readonly tf: Tf,
    private readonly model: TfModule.LayersModel,
    private readonly options: TrainerOptions,
  ) {
    const hidden = hiddenLayersOf(model);
    this.hiddenCount = hidden.length;
    const layers: [string, number][] = [
      ...EMBEDDINGS.map((l) => [l, 0] as [string, number]),
      ...hidden.flatMap((l) => [[l, 0] as [string, number], [l, 1] as [string, number]]),
      [MLP_LAYER, 0],
      [PRIOR_LAYER, 0],
    ];
    const weights = layers.map(([layer, index]) => {
      const w = model.getLayer(layer).getWeights()[index];
      if (w === undefined) throw new Error(`the model's ${layer} has no weight ${index}`);
      return w;
    });
    this.pieces = layers.map(([layer, index], i) => {
      const shape = (weights[i] as Tensor).shape;
      return { layer, index, shape, size: shape.reduce((a, b) => a * b, 1) };
    });
    const [section, region, ...rest] = this.pieces;
    this.views = [(section?.size ?? 0) + (region?.size ?? 0), ...rest.map((p) => p.size)];
    this.sections = (section?.shape[0] ?? 0) - 1;
    this.tableRows = (section?.shape[0] ?? 0) + (region?.shape[0] ?? 0);
    this.dim = section?.shape[1] ?? 0;
    this.params = tf.variable(
      tf.tidy(() => tf.concat(weights.map((w) => w.reshape([-1])))),
      false,
    );
    this.optimizer = tf.train.adam(options.learningRate);
    this.epsilon = tf.backend().epsilon();
  }

  /** Uploads example rows once (the caller disposes them with `disposeRows`). */
  upload(arrays: ModelInputArrays, labels: Float32Array): DeviceRows {
    const ids = new Int32Array(arrays.rows * 2);
    for (let r = 0; r < arrays.rows; r++) {
      ids[2 * r] = arrays.article_section[r] as number;
      ids[2 * r + 1] = this.sections + 1 + (arrays.article_region[r] as number);
    }
    const { tf } = this;
    return {
      rows: arrays.rows,
      ids: tf.tensor1d(ids, "int32"),
      numeric: tf.tensor2d(arrays.numeric, [arrays.rows, numericWidth(arrays)]),
      labels: tf.tensor2d(labels, [arrays.rows, 1]),
    };
  }

  /** The rows of `rows` at `order` (on the device; caller disposes). */
  take(rows: DeviceRows, order: Int32Array): DeviceRows {
    const { tf } = this;
    return tf.tidy(() => {
      const at = tf.tensor1d(order, "int32");
      return {
        rows: order.length,
        ids: tf.reshape(tf.gather(tf.reshape(rows.ids, [-1, 2]), at), [-1]) as TfModule.Tensor1D,
        numeric: tf.gather(rows.numeric, at),
        labels: tf.gather(rows.labels, at),
      };
    });
  }

  disposeRows(rows: DeviceRows): void {
    this.tf.dispose([rows.ids, rows.numeric, rows.labels]);
  }

  /**
   * One pass of Adam over `rows` in order, `batchSize` rows a step (a multiple of the group size).
   * Resolves to the epoch's loss as `fit` reports it: each batch's mean loss weighted by its rows.
   */
  async epoch(rows: DeviceRows, batchSize: number): Promise<number> {
    const { tf } = this;
    // Each step's summed log-likelihood stays on the device; one sum and one read at the end.
    const steps: Tensor[] = [];
    const batches = this.batches(rows, batchSize);
    try {
      for (const batch of batches) {
        steps.push(
          tf.tidy(() => {
            const p = this.paramsOf(this.params);
            const { layers, logit } = this.forward(p, batch);
            const { dLogit, logLikelihood } = this.lossAndGradient(logit, batch.labels);
            const gradient = this.backward(p, batch, layers, dLogit);
            this.optimizer.applyGradients([{ name: this.params.name, tensor: gradient }]);
            return logLikelihood;
          }),
        );
      }
      if (steps.length === 0) return Number.NaN;
      const total = tf.addN(steps);
      const sum = (await total.data())[0] as number;
      total.dispose();
      return -sum / this.lossDenominator(rows.rows);
    } finally {
      tf.dispose(steps);
      for (const batch of batches) this.disposeRows(batch);
    }
  }

  /** The loss of the current weights on `rows` (the validation loss `fit` reports), one forward pass. */
  async loss(rows: DeviceRows): Promise<number> {
    const { tf } = this;
    const sum = tf.tidy(() => {
      const { logit } = this.forward(this.paramsOf(this.params), rows);
      return this.lossAndGradient(logit, rows.labels).logLikelihood;
    });
    const value = (await sum.data())[0] as number;
    sum.dispose();
    return -value / this.lossDenominator(rows.rows);
  }

  /** A copy of the current weights, for `restore`. */
  snapshot(): Tensor {
    return this.params.clone();
  }

  restore(snapshot: Tensor): void {
    this.params.assign(snapshot);
  }

  /** Writes the current weights into the model's layers. */
  commit(): void {
    const { tf } = this;
    const parts = tf.split(
      this.params,
      this.pieces.map((p) => p.size),
    );
    const byLayer = new Map<string, Tensor[]>();
    this.pieces.forEach((piece, i) => {
      const list = byLayer.get(piece.layer) ?? [];
      list[piece.index] = (parts[i] as Tensor).reshape(piece.shape);
      byLayer.set(piece.layer, list);
    });
    for (const [layer, weights] of byLayer) this.model.getLayer(layer).setWeights(weights);
    tf.dispose([...parts, ...[...byLayer.values()].flat()]);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.tf.dispose([this.params, ...this.scales.values()]);
  }

  /** What a batch's summed loss is divided by for its mean: its groups (listwise) or rows (pointwise). */
  private lossDenominator(rows: number): number {
    return this.options.loss === "listwise" ? rows / this.options.groupSize : rows;
  }

  /** `rows` cut into consecutive batches of `batchSize` rows (the last one shorter): one split each. */
  private batches(rows: DeviceRows, batchSize: number): DeviceRows[] {
    const { tf } = this;
    const sizes = Array.from({ length: Math.ceil(rows.rows / batchSize) }, (_, i) =>
      Math.min(batchSize, rows.rows - i * batchSize),
    );
    if (sizes.length === 0) return [];
    const ids = tf.split(
      rows.ids,
      sizes.map((n) => 2 * n),
    );
    const numeric = tf.split(rows.numeric, sizes);
    const labels = tf.split(rows.labels, sizes);
    return sizes.map((n, i) => ({
      rows: n,
      ids: ids[i] as TfModule.Tensor1D,
      numeric: numeric[i] as Tensor2D,
      labels: labels[i] as Tensor2D,
    }));
  }

  private paramsOf(flat: Tensor): Params {
    const { tf, pieces } = this;
    // Piece i ≥ 2 is view i − 1 (the two tables are adjacent in the flat vector: one view holds both).
    const parts = tf.split(flat, this.views);
    const at = (i: number) => (parts[i - 1] as Tensor).reshape((pieces[i] as Piece).shape);
    return {
      table: tf.reshape(parts[0] as Tensor, [this.tableRows, this.dim]),
      hidden: Array.from({ length: this.hiddenCount }, (_, l) => ({
        kernel: at(2 + 2 * l) as Tensor2D,
        bias: parts[2 + 2 * l] as Tensor,
      })),
      mlp: at(2 + 2 * this.hiddenCount) as Tensor2D,
      prior: at(3 + 2 * this.hiddenCount) as Tensor2D,
    };
  }

  /** The layers' outputs (input block first) and the logit, as the model computes them. */
  private forward(p: Params, batch: DeviceRows): { layers: Tensor2D[]; logit: Tensor2D } {
    const { tf } = this;
    const embedded = tf.reshape(tf.gather(p.table, batch.ids), [batch.rows, 2 * this.dim]);
    let h = tf.concat([embedded, batch.numeric], 1) as Tensor2D;
    const layers = [h];
    for (const { kernel, bias } of p.hidden) {
      h = tf.relu(tf.add(tf.matMul(h, kernel), bias)) as Tensor2D;
      layers.push(h);
    }
    const logit = tf.add(tf.matMul(h, p.mlp), tf.matMul(batch.numeric, p.prior)) as Tensor2D;
    return { layers, logit };
  }

  /**
   * The summed log-likelihood of a batch (minus its summed loss) and the loss's gradient in the
   * logit (already divided for the batch mean).
   * Listwise: softmax cross-entropy over each group, as `tf.losses.softmaxCrossEntropy`; its
   * gradient is (softmax − label) / groups. Pointwise: binary cross-entropy of the sigmoid score
   * clipped to [ε, 1 − ε], as Keras computes it; its gradient is (score − label) / rows where the
   * score is inside the clip, 0 outside.
   */
  private lossAndGradient(logit: Tensor2D, labels: Tensor2D): { logLikelihood: Tensor; dLogit: Tensor2D } {
    const { tf } = this;
    const rows = logit.shape[0];
    const scale = this.scale(rows);
    if (this.options.loss === "listwise") {
      const z = tf.reshape(logit, [-1, this.options.groupSize]);
      const y = tf.reshape(labels, [-1, this.options.groupSize]);
      // Rounded as tf.losses.softmaxCrossEntropy rounds: z − (max + log Σ exp(z − max)), and the
      // softmax as the exp of that (Adam amplifies even last-bit differences of small gradients).
      const max = tf.max(z, 1, true);
      const logSoftmax = tf.sub(z, tf.add(max, tf.log(tf.sum(tf.exp(tf.sub(z, max)), 1, true))));
      const logLikelihood = tf.sum(tf.mul(logSoftmax, y));
      const dLogit = tf.reshape(tf.mul(tf.sub(tf.exp(logSoftmax), y), scale), [rows, 1]) as Tensor2D;
      return { logLikelihood, dLogit };
    }
    const score = tf.sigmoid(logit);
    const clipped = tf.clipByValue(score, this.epsilon, 1 - this.epsilon);
    const inside = tf.cast(tf.equal(clipped, score), "float32");
    const logLikelihood = tf.sum(
      tf.add(tf.mul(labels, tf.log(clipped)), tf.mul(tf.sub(1, labels), tf.log(tf.sub(1, clipped)))),
    );
    const dLogit = tf.mul(tf.mul(tf.sub(score, labels), inside), scale) as Tensor2D;
    return { logLikelihood, dLogit };
  }

  /** The gradient of every weight, as one flat vector in `Piece` order. */
  private backward(p: Params, batch: DeviceRows, layers: Tensor2D[], dLogit: Tensor2D): Tensor {
    const { tf } = this;
    const last = layers[layers.length - 1] as Tensor2D;
    const gradMlp = tf.matMul(last, dLogit, true, false);
    const gradPrior = tf.matMul(batch.numeric, dLogit, true, false);
    let d = tf.matMul(dLogit, p.mlp, false, true);
    const gradHidden: Tensor[] = [];
    for (let l = p.hidden.length - 1; l >= 0; l--) {
      const { kernel } = p.hidden[l] as Params["hidden"][number];
      // ReLU's gradient: its output is ≥ 0, so its sign is the step (0 where the unit is off).
      const pre = tf.mul(d, tf.sign(layers[l + 1] as Tensor2D));
      gradHidden.unshift(
        tf.reshape(tf.matMul(layers[l] as Tensor2D, pre, true, false), [-1]),
        tf.sum(pre, 0),
      );
      d = tf.matMul(pre, kernel, false, true);
    }
    const dEmbedded = tf.reshape(tf.slice(d, [0, 0], [batch.rows, 2 * this.dim]), [2 * batch.rows, this.dim]);
    const gradTable = tf.unsortedSegmentSum(dEmbedded, batch.ids, this.tableRows);
    return tf.concat([
      tf.reshape(gradTable, [-1]),
      ...gradHidden,
      tf.reshape(gradMlp, [-1]),
      tf.reshape(gradPrior, [-1]),
    ]);
  }

  private scale(rows: number): TfModule.Scalar {
    let s = this.scales.get(rows);
    if (s === undefined) {
      s = this.tf.keep(this.tf.scalar(1 / this.lossDenominator(rows)));
      this.scales.set(rows, s);
    }
    return s;
  }
}
