import { describe, expect, it } from "@jest/globals";
import { formatModelUri, ModelUriError, parseModelUri, parseStage } from "../../src/domain/model-uri.js";

describe("parseModelUri", () => {
  it("reads an alias URI", () => {
    expect(parseModelUri("models:/ranker@champion")).toEqual({
      kind: "alias",
      name: "ranker",
      alias: "champion",
    });
  });

  it("reads a stage URI case-insensitively", () => {
    expect(parseModelUri("models:/ranker/production")).toEqual({
      kind: "stage",
      name: "ranker",
      stage: "Production",
    });
    expect(parseModelUri("models:/ranker/Staging")).toEqual({
      kind: "stage",
      name: "ranker",
      stage: "Staging",
    });
  });

  it("reads a version URI and drops leading zeros", () => {
    expect(parseModelUri("models:/ranker/007")).toEqual({ kind: "version", name: "ranker", version: "7" });
  });

  it("reads latest", () => {
    expect(parseModelUri("models:/ranker/latest")).toEqual({ kind: "latest", name: "ranker" });
  });

  it("keeps slashes inside a model name (the last segment is the version)", () => {
    expect(parseModelUri("models:/team/ranker/3")).toEqual({
      kind: "version",
      name: "team/ranker",
      version: "3",
    });
  });

  it.each([
    "runs:/abc/model",
    "models:/",
    "models:/ranker",
    "models:/ranker@",
    "models:/ranker/0",
    "models:/ranker/Shipping",
    "models:/ranker@champ/1",
    "models:/ranker@bad alias",
  ])("rejects %s with a message naming the accepted shapes", (uri) => {
    expect(() => parseModelUri(uri)).toThrow(ModelUriError);
  });

  it("round-trips through formatModelUri", () => {
    for (const uri of ["models:/a@b", "models:/a/Production", "models:/a/12", "models:/a/latest"]) {
      expect(formatModelUri(parseModelUri(uri))).toBe(uri);
    }
  });

  it("parses stage names and refuses unknown ones", () => {
    expect(parseStage("ARCHIVED")).toBe("Archived");
    expect(parseStage("none")).toBe("None");
    expect(parseStage("prod")).toBeUndefined();
  });
});
