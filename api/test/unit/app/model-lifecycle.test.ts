import { AppError, type BundleManifest, FEATURE_SCHEMA_VERSION } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { SwitchableModelProvider } from "../../../src/app/model.js";
import { ModelLifecycle, parseManifest } from "../../../src/app/model-lifecycle.js";
import type { ModelRegistry, Ranker, RegistryVersion } from "../../../src/app/ports.js";
import { FakeRanker, memoryLogger } from "../../support/fixtures.js";

function manifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    createdAt: "2022-08-15T00:00:00.000Z",
    snapshot: { snapshotId: "s1", manifestKey: "k", digest: "d" },
    asOf: 1,
    inputs: [],
    numericFeatures: [],
    recentReads: 10,
    candidates: { popular: 1, covisited: 1, contentSimilar: 0, freshHours: 48, popularityHalfLifeHours: 24 },
    files: {
      tfjsModel: "tfjs/model.json",
      kerasH5: "models/model.h5",
      vocabularies: "vocabularies.json",
      normalisation: "normalisation.json",
      popularity: "candidates/popularity.json",
      covisitation: "candidates/covisitation.json",
    },
    params: {},
    ...overrides,
  };
}

/** A registry in memory: which version is champion, each version's manifest, and failure switches. */
class FakeRegistry implements ModelRegistry {
  champ: string | undefined;
  down = false;
  manifests = new Map<string, unknown>();
  downloads: string[] = [];
  bundleFails = false;

  async champion(): Promise<RegistryVersion | undefined> {
    if (this.down) throw new AppError("UPSTREAM_UNAVAILABLE", "connection refused");
    return this.champ === undefined ? undefined : { name: "m", version: this.champ, via: "alias" };
  }
  async fetchManifest(v: RegistryVersion): Promise<unknown> {
    if (this.down) throw new AppError("UPSTREAM_UNAVAILABLE", "connection refused");
    return this.manifests.get(v.version) ?? manifest();
  }
  async withBundle<T>(v: RegistryVersion, open: (dir: string) => Promise<T>): Promise<T> {
    if (this.bundleFails) throw new AppError("UPSTREAM_UNAVAILABLE", "artifact store down");
    this.downloads.push(v.version);
    return open(`/tmp/bundle-${v.version}`);
  }
}

function setup() {
  const registry = new FakeRegistry();
  const provider = new SwitchableModelProvider("starting");
  const { logger, lines } = memoryLogger();
  const opened: { dir: string; manifest: BundleManifest }[] = [];
  const lifecycle = new ModelLifecycle({
    registry,
    provider,
    openBundle: async (dir, m, version): Promise<Ranker> => {
      opened.push({ dir, manifest: m });
      return new FakeRanker(version);
    },
    logger,
  });
  return { registry, provider, lifecycle, lines, opened };
}

describe("ModelLifecycle", () => {
  it("without a promoted version leaves the provider empty and says why", async () => {
    const { lifecycle, provider } = setup();
    expect(await lifecycle.refresh()).toMatchObject({ outcome: "none" });
    expect(provider.current()).toEqual({ status: "none", reason: expect.stringMatching(/@champion/) });
  });

  it("loads the champion, then does nothing while it stays the same", async () => {
    const { lifecycle, provider, registry } = setup();
    registry.champ = "3";
    expect(await lifecycle.refresh()).toEqual({ outcome: "loaded", version: "3", previous: null });
    const state = provider.current();
    expect(state.status === "ready" && state.ranker.modelVersion).toBe("3");
    expect(await lifecycle.refresh()).toEqual({ outcome: "unchanged", version: "3" });
    expect(registry.downloads).toEqual(["3"]);
  });

  it("swaps in a newly promoted version only once it is fully loaded", async () => {
    const { lifecycle, provider, registry } = setup();
    registry.champ = "1";
    await lifecycle.refresh();
    const before = provider.current();
    registry.champ = "2";
    const pending = lifecycle.refresh();
    // While version 2 downloads and loads, requests still get version 1.
    expect(provider.current()).toBe(before);
    expect(await pending).toEqual({ outcome: "loaded", version: "2", previous: "1" });
    const after = provider.current();
    expect(after.status === "ready" && after.ranker.modelVersion).toBe("2");
  });

  it("keeps the served model when the registry or the artifact store is down, and retries", async () => {
    const { lifecycle, provider, registry, lines } = setup();
    registry.champ = "1";
    await lifecycle.refresh();
    registry.down = true;
    expect(await lifecycle.refresh()).toMatchObject({ outcome: "failed" });
    registry.down = false;
    registry.champ = "2";
    registry.bundleFails = true;
    expect(await lifecycle.refresh()).toMatchObject({ outcome: "failed" });
    const state = provider.current();
    expect(state.status === "ready" && state.ranker.modelVersion).toBe("1");
    expect(lines.filter((l) => l.event === "model-refresh-failed")).toHaveLength(2);
    registry.bundleFails = false;
    expect(await lifecycle.refresh()).toMatchObject({ outcome: "loaded", version: "2" });
  });

  it("at a first start with the registry down serves no model and says the registry is unreachable", async () => {
    const { lifecycle, provider, registry } = setup();
    registry.down = true;
    await lifecycle.refresh();
    expect(provider.current()).toEqual({
      status: "none",
      reason: expect.stringMatching(/unreachable.*UPSTREAM_UNAVAILABLE/),
    });
  });

  it("refuses a bundle of another feature schema before downloading it, once", async () => {
    const { lifecycle, provider, registry, lines } = setup();
    registry.champ = "1";
    await lifecycle.refresh();
    registry.champ = "2";
    registry.manifests.set("2", manifest({ featureSchemaVersion: FEATURE_SCHEMA_VERSION + 1 }));
    expect(await lifecycle.refresh()).toMatchObject({ outcome: "refused", version: "2" });
    expect(await lifecycle.refresh()).toMatchObject({ outcome: "refused", version: "2" });
    expect(registry.downloads).toEqual(["1"]);
    expect(lines.filter((l) => l.event === "model-refused")).toHaveLength(1);
    const state = provider.current();
    expect(state.status === "ready" && state.ranker.modelVersion).toBe("1");
  });

  it("shares one poll between concurrent refreshes", async () => {
    const { lifecycle, registry } = setup();
    registry.champ = "1";
    await Promise.all([lifecycle.refresh(), lifecycle.refresh(), lifecycle.refresh()]);
    expect(registry.downloads).toEqual(["1"]);
  });
});

describe("parseManifest", () => {
  it("names both feature schema versions when they differ", () => {
    expect(() => parseManifest(manifest({ featureSchemaVersion: 9 }), "4")).toThrow(
      new RegExp(
        `version 4 was built with feature schema 9, this API builds features of schema ${FEATURE_SCHEMA_VERSION}`,
      ),
    );
  });

  it("reads a bundle written before the scoped tier with that tier off, and one after with its budget", () => {
    expect(parseManifest(manifest(), "6").candidates.scoped).toBe(0);
    const candidates = {
      popular: 1,
      covisited: 1,
      contentSimilar: 0,
      scoped: 30,
      freshHours: 48,
      popularityHalfLifeHours: 24,
    };
    expect(parseManifest(manifest({ candidates }), "7").candidates.scoped).toBe(30);
  });

  it("lists the invalid fields of a malformed bundle.json", () => {
    expect(() => parseManifest(manifest({ asOf: "yesterday", files: {} }), "5")).toThrow(
      /asOf.*files\.popularity/s,
    );
  });
});
