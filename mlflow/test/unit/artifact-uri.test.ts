import { describe, expect, it } from "@jest/globals";
import {
  ArtifactUriError,
  joinArtifactPath,
  normalizeArtifactPath,
  proxyPathOf,
  proxyUrlPath,
  relativeArtifactPath,
} from "../../src/domain/artifact-uri.js";

describe("artifact URIs", () => {
  it("maps mlflow-artifacts URIs with or without an authority to proxy paths", () => {
    expect(proxyPathOf("mlflow-artifacts:/1/abc/artifacts")).toBe("1/abc/artifacts");
    expect(proxyPathOf("mlflow-artifacts://mlflow:5000/1/abc/artifacts/model/")).toBe(
      "1/abc/artifacts/model",
    );
    expect(proxyPathOf("mlflow-artifacts:")).toBe("");
  });

  it("refuses storage URIs the server does not proxy, telling to use --serve-artifacts", () => {
    expect(() => proxyPathOf("s3://bucket/mlflow/1")).toThrow(/--serve-artifacts/);
    expect(() => proxyPathOf("/var/mlruns/1")).toThrow(ArtifactUriError);
  });

  it("normalizes paths and refuses ..", () => {
    expect(normalizeArtifactPath("/a//b/./c/")).toBe("a/b/c");
    expect(() => normalizeArtifactPath("a/../../etc")).toThrow(ArtifactUriError);
    expect(joinArtifactPath("", "model", "", "MLmodel")).toBe("model/MLmodel");
  });

  it("percent-encodes each segment of the proxy URL", () => {
    expect(proxyUrlPath("1/abc/artifacts/my file#1.txt")).toBe(
      "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/my%20file%231.txt",
    );
  });

  it("computes paths relative to a root and refuses paths outside it", () => {
    expect(relativeArtifactPath("1/r/artifacts/model", "1/r/artifacts/model/data/w.bin")).toBe("data/w.bin");
    expect(relativeArtifactPath("", "x/y")).toBe("x/y");
    expect(() => relativeArtifactPath("1/r/artifacts/model", "1/r/artifacts/modelx/a")).toThrow(
      ArtifactUriError,
    );
  });
});
