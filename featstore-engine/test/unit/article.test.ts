import { articleItemSchema, cosineSimilarity, type ItensRow, unpackContentVector } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import {
  articleFreshness,
  articleTermCounts,
  categoriseUrl,
  cleanText,
  contentHash,
  DocumentFrequencies,
  tfidfVector,
  toArticleItem,
  toArticleItems,
  tokenize,
} from "../../src/domain/article.js";
import { Rng } from "../../src/generator/rng.js";
import { body, title, topicWords } from "../../src/generator/text.js";

describe("categoriseUrl", () => {
  it.each([
    [
      "http://g1.globo.com/sp/campinas-regiao/noticia/2022/08/14/um-slug.ghtml",
      "campinas-regiao",
      "sp",
      "noticia",
      "",
    ],
    [
      "http://g1.globo.com/rj/regiao-dos-lagos/noticia/2022/08/14/um-slug.ghtml",
      "regiao-dos-lagos",
      "rj",
      "noticia",
      "",
    ],
    [
      "http://g1.globo.com/fantastico/noticia/2022/08/14/um-slug.ghtml",
      "fantastico",
      "nacional",
      "noticia",
      "",
    ],
    [
      "http://g1.globo.com/saude/coronavirus/noticia/2022/08/14/um-slug.ghtml",
      "saude",
      "nacional",
      "noticia",
      "coronavirus",
    ],
    [
      "http://g1.globo.com/pr/parana/eleicoes/2022/noticia/2022/08/14/um-slug.ghtml",
      "parana",
      "pr",
      "noticia",
      "eleicoes/2022",
    ],
    [
      "http://g1.globo.com/sp/campinas-regiao/concursos-e-emprego/noticia/2022/08/14/x.ghtml",
      "campinas-regiao",
      "sp",
      "noticia",
      "concursos-e-emprego",
    ],
    [
      "http://g1.globo.com/pop-arte/musica/blog/um-autor/post/2022/08/14/um-slug.ghtml",
      "pop-arte",
      "nacional",
      "blog",
      "musica",
    ],
    [
      "http://g1.globo.com/pe/pernambuco/blog/um-autor/post/2022/08/14/um-slug.ghtml",
      "pernambuco",
      "pe",
      "blog",
      "",
    ],
    ["https://especiais.g1.globo.com/politica/2022/um-especial/", "politica", "nacional", "especial", ""],
    ["http://g1.globo.com/economia/especial/2022/um-especial/", "economia", "nacional", "especial", ""],
    ["http://g1.globo.com/educacao/quiz/um-quiz.ghtml", "educacao", "nacional", "quiz", ""],
    ["https://g1.globo.com/sp/sao-paulo/video/um-video-1234567.ghtml", "sao-paulo", "sp", "video", ""],
    ["http://g1.globo.com/", "outros", "nacional", "other", ""],
    ["not a url", "outros", "nacional", "other", ""],
  ])("%s → %s / %s / %s", (url, section, region, contentType, topic) => {
    expect(categoriseUrl(url)).toEqual({ section, region, contentType, topic });
  });
});

describe("text cleaning", () => {
  it("strips markup and entities, lowercases, folds accents and collapses whitespace", () => {
    expect(cleanText("<p>Ação &amp; REAÇÃO</p>\n\n  na  Notícia&#39;")).toBe("acao reacao na noticia");
  });

  it("drops Portuguese stop words, one-letter words and bare numbers", () => {
    expect(tokenize("O governo não anunciou que a vacina de 2022 chega em setembro, e já é tarde")).toEqual([
      "governo",
      "anunciou",
      "vacina",
      "chega",
      "setembro",
      "tarde",
    ]);
  });
});

function article(seed: string, section: string): ItensRow {
  const rng = new Rng(seed);
  const words = topicWords(section);
  return {
    page: rng.uuid(),
    url: `http://g1.globo.com/${section}/noticia/2022/08/14/x.ghtml`,
    issued: Date.UTC(2022, 7, 14, 10),
    modified: Date.UTC(2022, 7, 14, 11),
    title: title(rng, words),
    body: body(rng, words),
    caption: "",
  };
}

describe("hashed TF-IDF content vectors", () => {
  it("keeps at most top-K buckets, L2-normalised, indices ascending", () => {
    const counts = articleTermCounts(article("a", "economia"));
    const v = tfidfVector(counts, undefined, 16);
    expect(v.indices.length).toBe(Math.min(16, counts.size));
    expect([...v.indices]).toEqual([...v.indices].sort((x, y) => x - y));
    expect(Math.sqrt([...v.values].reduce((s, x) => s + x * x, 0))).toBeCloseTo(1, 5);
  });

  it("makes articles of one section closer to each other than to another section", () => {
    const rows = [
      ...Array.from({ length: 6 }, (_, i) => article(`e${i}`, "economia")),
      ...Array.from({ length: 6 }, (_, i) => article(`s${i}`, "saude")),
    ];
    const { items } = toArticleItems(rows, { updatedAt: "2022-08-15T00:00:00.000Z" });
    const v = items.map((i) => unpackContentVector(i.vector));
    const same = cosineSimilarity(v[0] as never, v[1] as never);
    const other = cosineSimilarity(v[0] as never, v[6] as never);
    expect(same).toBeGreaterThan(other);
  });

  it("weighs rare terms above common ones, and document frequencies merge like one table", () => {
    const a = new DocumentFrequencies(64);
    const b = new DocumentFrequencies(64);
    const all = new DocumentFrequencies(64);
    for (const docs of [[1, 2], [1, 3], [1]]) {
      a.add(docs);
      all.add(docs);
    }
    b.add([1, 4]);
    all.add([1, 4]);
    a.merge(b);
    expect(a.documents).toBe(all.documents);
    expect([...a.df]).toEqual([...all.df]);
    expect(a.idf(4)).toBeGreaterThan(a.idf(1));
  });
});

describe("toArticleItem", () => {
  const row = article("item", "economia");

  it("builds a valid items-table item with categories, content hash and a packed vector", () => {
    const item = toArticleItem(row, { updatedAt: "2022-08-15T00:00:00.000Z", expiresAt: 1_700_000_000 });
    expect(articleItemSchema.parse(item)).toEqual(item);
    expect(item).toMatchObject({ section: "economia", region: "nacional", contentType: "noticia" });
    expect(unpackContentVector(item.vector).indices.length).toBeGreaterThan(0);
  });

  it("hashes content: same row same hash, any change another", () => {
    expect(contentHash(row)).toBe(contentHash({ ...row }));
    expect(contentHash({ ...row, body: `${row.body}.` })).not.toBe(contentHash(row));
  });

  it("computes freshness from the age at an as-of time", () => {
    const issued = row.issued;
    expect(articleFreshness(row, issued)).toBe(1);
    expect(articleFreshness(row, issued + 24 * 3_600_000)).toBeCloseTo(0.5);
    expect(articleFreshness(row, issued - 1)).toBe(0);
  });
});
