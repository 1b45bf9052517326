/**
 * The training use case against typed fakes of its ports: the champion re-check before promotion
 * (two concurrent runs cannot both promote), and what it registers and tags.
 */
import { beforeAll, describe, expect, it } from "@jest/globals";
import { loadTrainingData } from "../../src/app/load-data.js";
import type { ExperimentTracker, MetricPoint, ModelRegistry } from "../../src/app/ports.js";
import { DEFAULT_TRAIN_CONFIG, trainAndEvaluate } from "../../src/app/train.js";
import type { TrainingData } from "../../src/domain/data.js";
import { initTensorflow, type Tf } from "../../src/tf/backend.js";
import { inMemorySnapshot } from "../support/in-memory-pipeline.js";

const silent = { info: () => undefined, warn: () => undefined };

class FakeMlflow implements ExperimentTracker, ModelRegistry {
  metrics: MetricPoint[] = [];
  tags: Record<string, string> = {};
  versions: Record<string, string>[] = [];
  aliases = new Map<string, string>();
  production: string | undefined;
  uploads: string[] = [];
  /** Called on every alias read: lets a test change the champion mid-run. */
  onAliasRead: (count: number) => void = () => undefined;
  private reads = 0;
  async startRun() {
    return "run-1";
  }
  async logParams() {}
  async logMetrics(_r: string, m: readonly MetricPoint[]) {
    this.metrics.push(...m);
  }
  async setTags(_r: string, t: Record<string, string>) {
    Object.assign(this.tags, t);
  }
  async logDataset() {}
  async uploadDir(_r: string, _d: string, artifactDir = "") {
    this.uploads.push(artifactDir);
  }
  async finishRun() {}
  async aliasVersion(_n: string, alias: string) {
    this.onAliasRead(++this.reads);
    return this.aliases.get(alias);
  }
  async downloadVersion(): Promise<void> {
    throw new Error("no bundle stored in the fake");
  }
  artifactPaths: string[] = [];
  async registerVersion(_n: string, _r: string, tags: Record<string, string>, artifactPath = "") {
    this.versions.push(tags);
    this.artifactPaths.push(artifactPath);
    return String(this.versions.length);
  }
  async setAlias(_n: string, alias: string, version: string) {
    this.aliases.set(alias, version);
  }
  async moveProductionStage(_n: string, version: string) {
    this.production = version;
  }
}

let tf: Tf;
let data: TrainingData;
let snapshot: { snapshotId: string; manifestKey: string; digest: string; bucket: string };

beforeAll(async () => {
  ({ tf } = await initTensorflow({ prefer: "wasm", log: silent }));
  const snap = await inMemorySnapshot({ users: 300, days: 4, seed: "gate-unit" });
  data = await loadTrainingData(snap.snapshots, snap.vectors, snap.manifest);
  snapshot = {
    snapshotId: snap.manifest.snapshotId,
    manifestKey: snap.manifestKey,
    digest: snap.manifest.digest,
    bucket: "mem",
  };
}, 120_000);

describe("training use case with fake tracker and registry", () => {
  it("promotes a first model that beats the baselines: alias, Production stage, tags and artifacts", async () => {
    const fake = new FakeMlflow();
    const out = await trainAndEvaluate(
      { tf, backend: "wasm", tracker: fake, registry: fake, log: silent },
      data,
      snapshot,
      {
        ...DEFAULT_TRAIN_CONFIG,
        epochs: 4,
      },
    );
    expect(out.decision?.promote).toBe(true);
    expect(fake.aliases.get("champion")).toBe("1");
    expect(fake.production).toBe("1");
    expect(fake.tags["gplay.gate.outcome"]).toBe("promoted");
    expect(fake.uploads).toEqual(["", "evaluation"]);
    expect(fake.metrics.filter((m) => m.key === "loss").map((m) => m.step)).toEqual([1, 2, 3, 4]);
  }, 180_000);

  it("registers an untrained model but promotes the best baseline's own bundle, which the best of all is", async () => {
    const fake = new FakeMlflow();
    const out = await trainAndEvaluate(
      { tf, backend: "wasm", tracker: fake, registry: fake, log: silent },
      data,
      snapshot,
      { ...DEFAULT_TRAIN_CONFIG, epochs: 0 },
    );
    expect(out.decision).toMatchObject({ promote: true, reason: "baseline-best" });
    const best = (out.decision as { baseline: string }).baseline;
    const baselines = out.evaluation.baselines as Record<string, { all: { ndcg10: number } }>;
    expect(Math.max(...Object.values(baselines).map((b) => b.all.ndcg10))).toBe(baselines[best]?.all.ndcg10);
    expect(out.version).toBe("1");
    expect(out.promotedVersion).toBe("2");
    expect(fake.versions[0]?.["gplay.gate.decision"]).toBe("reject");
    expect(fake.versions[1]).toMatchObject({
      "gplay.gate.decision": "promote",
      "gplay.strategy": `baseline:${best}`,
    });
    expect(fake.artifactPaths).toEqual(["", "baseline"]);
    expect(fake.uploads).toEqual(["", "evaluation", "baseline"]);
    expect(fake.aliases.get("champion")).toBe("2");
    expect(fake.tags["gplay.gate.outcome"]).toBe("baseline-promoted");
  }, 180_000);

  it("with the online loop on, puts the winner on trial as @challenger and leaves @champion and the stage alone", async () => {
    const fake = new FakeMlflow();
    fake.aliases.set("champion", "7");
    fake.production = "7";
    const out = await trainAndEvaluate(
      { tf, backend: "wasm", tracker: fake, registry: fake, log: silent },
      data,
      snapshot,
      { ...DEFAULT_TRAIN_CONFIG, epochs: 0, onlineLoop: true },
    );
    expect(out.promotedVersion).toBeDefined();
    expect(fake.aliases.get("challenger")).toBe(out.promotedVersion);
    expect(fake.aliases.get("champion")).toBe("7");
    expect(fake.production).toBe("7");
    expect(fake.tags["gplay.gate.alias"]).toBe("challenger");
  }, 180_000);

  it("with the online loop on but no champion yet, sets @champion (nothing to measure against)", async () => {
    const fake = new FakeMlflow();
    const out = await trainAndEvaluate(
      { tf, backend: "wasm", tracker: fake, registry: fake, log: silent },
      data,
      snapshot,
      { ...DEFAULT_TRAIN_CONFIG, epochs: 0, onlineLoop: true },
    );
    expect(fake.aliases.get("champion")).toBe(out.promotedVersion);
    expect(fake.aliases.has("challenger")).toBe(false);
  }, 180_000);

  it("does not promote when another run changed the champion after this one evaluated it", async () => {
    const fake = new FakeMlflow();
    // First read (evaluation): no champion. Second read (the re-check): someone promoted version 7.
    fake.onAliasRead = (n) => {
      if (n === 2) fake.aliases.set("champion", "7");
    };
    const out = await trainAndEvaluate(
      { tf, backend: "wasm", tracker: fake, registry: fake, log: silent },
      data,
      snapshot,
      {
        ...DEFAULT_TRAIN_CONFIG,
        epochs: 4,
      },
    );
    expect(out.decision?.promote).toBe(true);
    expect(out.promoted).toBe(false);
    expect(fake.aliases.get("champion")).toBe("7");
    expect(fake.production).toBeUndefined();
    expect(fake.tags["gplay.gate.outcome"]).toBe("aborted-champion-changed");
  }, 180_000);

  it("is reproducible: the same seed gives the same loss curve and test figures", async () => {
    const run = () =>
      trainAndEvaluate({ tf, backend: "wasm", log: silent }, data, snapshot, {
        ...DEFAULT_TRAIN_CONFIG,
        epochs: 2,
        register: false,
      });
    const a = await run();
    const b = await run();
    expect(b.evaluation.epochs.map((e) => e.loss)).toEqual(a.evaluation.epochs.map((e) => e.loss));
    expect(b.evaluation.model).toEqual(a.evaluation.model);
  }, 180_000);
});
