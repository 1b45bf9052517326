import { describe, expect, it } from "@jest/globals";
import {
  type ArticleRecord,
  decodeProcessedParquet,
  encodeProcessedParquet,
  type InteractionRecord,
  parquetRowCount,
} from "../../src/index.js";

const interaction: InteractionRecord = {
  userId: "f".repeat(64),
  userType: "Non-Logged",
  page: "c8aab885-433d-4e46-8066-479f40ba7fb2",
  timestamp: 1_657_146_417_045,
  clicks: 14_600,
  timeOnPageMs: 60_000,
  scrollPercentage: 812.35,
  pageVisits: 2,
  source: "abc",
};

describe("processed Parquet codec", () => {
  it("round-trips interactions exactly, including epoch-ms INT64 and outliers", async () => {
    const rows = [
      interaction,
      { ...interaction, page: "68d2039c-c9aa-456c-ac33-9b2e8677fba7", timestamp: 1_657_146_605_778 },
    ];
    const bytes = encodeProcessedParquet("interactions", rows);
    expect(parquetRowCount(bytes)).toBe(2);
    expect(await decodeProcessedParquet("interactions", bytes)).toEqual(rows);
  });

  it("round-trips articles with multi-line Portuguese text", async () => {
    const article: ArticleRecord = {
      page: "ebd223ab-9d97-429f-bf02-1781477f2653",
      url: "http://g1.globo.com/sp/campinas-regiao/noticia/2022/08/14/slug.ghtml",
      issued: 1_660_532_236_000,
      modified: 1_660_532_237_000,
      title: 'Varíola: "é possível" conter?',
      body: 'linha um\nlinha dois, com vírgula\n"citação"',
      caption: "",
      section: "campinas-regiao",
      region: "sp",
      contentType: "noticia",
      source: "s1",
    };
    const bytes = encodeProcessedParquet("items", [article]);
    expect(await decodeProcessedParquet("items", bytes)).toEqual([article]);
  });

  it("writes an empty partition that reads back as no rows", async () => {
    const bytes = encodeProcessedParquet("validation", []);
    expect(parquetRowCount(bytes)).toBe(0);
    expect(await decodeProcessedParquet("validation", bytes)).toEqual([]);
  });
});
