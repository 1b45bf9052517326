import type { Rng } from "./rng.js";

/** Regional editions: `<uf>/<edition>` URL prefixes, with a rough share of regional traffic. */
export const EDITIONS: readonly { uf: string; edition: string; weight: number }[] = [
  { uf: "sp", edition: "sao-paulo", weight: 14 },
  { uf: "sp", edition: "campinas-regiao", weight: 5 },
  { uf: "sp", edition: "santos-regiao", weight: 3 },
  { uf: "sp", edition: "ribeirao-preto-franca", weight: 2 },
  { uf: "rj", edition: "rio-de-janeiro", weight: 10 },
  { uf: "rj", edition: "regiao-dos-lagos", weight: 2 },
  { uf: "mg", edition: "minas-gerais", weight: 7 },
  { uf: "mg", edition: "zona-da-mata", weight: 2 },
  { uf: "rs", edition: "rio-grande-do-sul", weight: 5 },
  { uf: "pr", edition: "parana", weight: 4 },
  { uf: "pr", edition: "campos-gerais-sul", weight: 1 },
  { uf: "sc", edition: "santa-catarina", weight: 3 },
  { uf: "ba", edition: "bahia", weight: 4 },
  { uf: "pe", edition: "pernambuco", weight: 4 },
  { uf: "ce", edition: "ceara", weight: 3 },
  { uf: "go", edition: "goias", weight: 3 },
  { uf: "df", edition: "distrito-federal", weight: 3 },
  { uf: "am", edition: "amazonas", weight: 2 },
  { uf: "pa", edition: "para", weight: 2 },
  { uf: "pa", edition: "santarem-regiao", weight: 1 },
  { uf: "ma", edition: "maranhao", weight: 1 },
  { uf: "pi", edition: "piaui", weight: 1 },
  { uf: "es", edition: "espirito-santo", weight: 2 },
  { uf: "ms", edition: "mato-grosso-do-sul", weight: 1 },
  { uf: "mt", edition: "mato-grosso", weight: 1 },
  { uf: "pb", edition: "paraiba", weight: 1 },
  { uf: "rn", edition: "rio-grande-do-norte", weight: 1 },
  { uf: "al", edition: "alagoas", weight: 1 },
  { uf: "se", edition: "sergipe", weight: 1 },
  { uf: "to", edition: "tocantins", weight: 1 },
  { uf: "rr", edition: "roraima", weight: 1 },
  { uf: "ro", edition: "rondonia", weight: 1 },
  { uf: "ac", edition: "acre", weight: 1 },
  { uf: "ap", edition: "amapa", weight: 1 },
];

/** National sections, with optional sub-sections that appear in the URL path before `noticia`. */
export const NATIONAL_SECTIONS: readonly { section: string; subs: readonly string[]; weight: number }[] = [
  { section: "politica", subs: [], weight: 8 },
  { section: "economia", subs: ["agronegocios", "concursos-e-emprego"], weight: 7 },
  { section: "mundo", subs: [], weight: 5 },
  { section: "saude", subs: ["coronavirus"], weight: 4 },
  { section: "educacao", subs: [], weight: 2 },
  { section: "ciencia", subs: [], weight: 2 },
  { section: "tecnologia", subs: [], weight: 2 },
  { section: "pop-arte", subs: ["musica", "casa"], weight: 5 },
  { section: "fantastico", subs: [], weight: 3 },
  { section: "meio-ambiente", subs: [], weight: 2 },
  { section: "jornal-nacional", subs: [], weight: 3 },
  { section: "carros", subs: [], weight: 1 },
  { section: "turismo-e-viagem", subs: [], weight: 1 },
];

/** Topic sections inside regional editions (`/<uf>/<edition>/<topic>/noticia/...`). */
export const REGIONAL_TOPICS = ["eleicoes/2022", "concursos-e-emprego"] as const;

export type UrlShape = "noticia" | "blog" | "especial" | "quiz" | "video";

const BLOG_AUTHORS = ["mauro-ferreira", "andreia-sadi", "gerson-camarotti", "valdo-cruz", "ana-flor"];

const pad = (n: number) => String(n).padStart(2, "0");

function datePath(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}

/**
 * The URL of an article. `path` is the section path (`sp/campinas-regiao`, `pop-arte/musica`).
 * Shapes follow the real files: noticia (~98%), blog posts, specials, quizzes and videos.
 */
export function articleUrl(rng: Rng, shape: UrlShape, path: string, issued: number, slug: string): string {
  // Blogs, specials and quizzes live under the section path without its topic (`eleicoes/2022`).
  const base = path.split("/").slice(0, 2).join("/");
  switch (shape) {
    case "noticia":
      return `http://g1.globo.com/${path}/noticia/${datePath(issued)}/${slug}.ghtml`;
    case "blog":
      return `http://g1.globo.com/${base}/blog/${rng.pick(BLOG_AUTHORS)}/post/${datePath(issued)}/${slug}.ghtml`;
    case "especial":
      return `http://g1.globo.com/${base}/especial/${new Date(issued).getUTCFullYear()}/${slug}/`;
    case "quiz":
      return `http://g1.globo.com/${base}/quiz/${slug}.ghtml`;
    case "video":
      return `http://g1.globo.com/${path}/video/${slug}-${1_000_000 + rng.int(9_000_000)}.ghtml`;
  }
}

/** URL slug of a title: accents folded, lowercase, runs of other characters as one hyphen. */
export function slugify(title: string): string {
  return title
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 120);
}
