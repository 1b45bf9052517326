/**
 * The reader view (GET /view, off unless GPLAY_READER_VIEW): over HTTP, then in headless Chromium
 * (Debian's `chromium` package), which renders the page and writes a screenshot into the test output
 * (.local/test-results/reader-view.png). A missing Chromium fails the browser test with the command
 * that installs it.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { RECOMMENDATION_REASONS } from "@gplay/common";
import { afterEach, describe, expect, it } from "@jest/globals";
import { article, FakeRanker, pageId, popularRow, reader, userId } from "../support/fixtures.js";
import { API_KEY, buildService, type ServiceOptions, startService } from "../support/service.js";

const REPO_ROOT = join(import.meta.dirname, "../../..");
const OUTPUT = join(REPO_ROOT, ".local", "test-results");
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const figures = {
  figures: async (version: string) =>
    version === "12"
      ? { runId: "run-0a1b2c", metrics: { "test.ndcg10": 0.3125, "test.hr10": 0.5, "test.readers": 180 } }
      : undefined,
};

let running: { close(): Promise<void> } | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: ServiceOptions = {}): Promise<string> {
  const service = buildService({
    articles: range(1, 40).map((n) => article(n, { title: `Headline number ${n}` })),
    rows: [popularRow("global", range(1, 40).map(pageId))],
    ranker: new FakeRanker("12", new Map(range(1, 40).map((n) => [pageId(n), n / 40]))),
    ...options,
  });
  service.users.items.set(userId(7), reader(userId(7), range(1, 12).map(pageId)));
  const server = await startService(service);
  running = server;
  return server.url;
}

const view = (url: string, query: string) => fetch(`${url}/view?${query}`);

describe("GET /view", () => {
  it("does not exist unless the reader view is enabled", async () => {
    const url = await start();
    const res = await fetch(`${url}/view?userId=${userId(7)}`, { headers: { "x-api-key": API_KEY } });
    expect(res.status).toBe(404);
  });

  it("needs an API key (?key= or the header) and a well-formed reader id", async () => {
    const url = await start({ readerView: { figures } });
    expect((await view(url, `userId=${userId(7)}`)).status).toBe(401);
    expect((await view(url, `key=wrong-key-0123456789&userId=${userId(7)}`)).status).toBe(401);
    const bad = await view(url, `key=${API_KEY}&userId=not-a-reader`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/64 hexadecimal/);
  });

  it("shows the reader's recent reads beside their recommendations, the cold-start list and the model's figures", async () => {
    const url = await start({ readerView: { figures } });
    const res = await view(url, `key=${API_KEY}&userId=${userId(7).toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    const section = (id: string) =>
      html.slice(html.indexOf(`id="${id}"`), html.indexOf("</section>", html.indexOf(`id="${id}"`)));
    // The ten newest reads, newest first: page 12 was read last, pages 1 and 2 are older than the ten.
    const reads = section("reads");
    expect(reads.indexOf("Headline number 12<")).toBeGreaterThan(0);
    expect(reads.indexOf("Headline number 12<")).toBeLessThan(reads.indexOf("Headline number 3<"));
    expect(reads).not.toContain("Headline number 2<");
    expect(reads).not.toContain("Headline number 13<");
    const recs = section("recommendations");
    expect(recs).toContain('model version <b id="model-version">12</b>');
    const top =
      /Headline number 40<\/a>\n<span class="meta">[^<]*<b class="reason">([a-z-]+)<\/b> · score <span class="score">1\.0000/.exec(
        recs,
      );
    expect(RECOMMENDATION_REASONS).toContain(top?.[1]);
    for (const n of range(1, 12)) expect(recs).not.toContain(`data-page="${pageId(n)}"`);
    expect(section("coldstart")).toContain("Headline number 1<");
    expect(section("model")).toContain("run-0a1b2c");
    expect(section("model")).toMatch(/test\.ndcg10<\/th><td>0\.3125/);
  });

  it("says so for an unknown reader and when no model is served", async () => {
    const url = await start({ readerView: { figures }, ranker: undefined });
    const html = await (await view(url, `key=${API_KEY}&userId=${userId(99)}`)).text();
    expect(html).toContain("unknown reader: no reads stored");
    expect(html).toContain('model version <b id="model-version">none</b>');
    expect(html).toContain("no model is served");
  });
});

describe("the reader view in headless Chromium", () => {
  it("renders the reader, the recommendations, cold start and figures, and writes a screenshot", async () => {
    const chromium = ["chromium", "chromium-browser"].find((c) => spawnSync(c, ["--version"]).status === 0);
    if (chromium === undefined)
      throw new Error("Chromium is not installed: apt-get update && apt-get install -y chromium");
    const url = await start({ readerView: { figures } });
    const page = `${url}/view?key=${API_KEY}&userId=${userId(7)}`;
    const flags = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
    ];
    // Chromium runs outside the test's event loop: spawn it asynchronously so the server can answer.
    const run = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const child = spawn(chromium, [...flags, ...args], { stdio: ["ignore", "pipe", "ignore"] });
        let stdout = "";
        child.stdout.on("data", (c: Buffer) => {
          stdout += c.toString();
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
        child.on("exit", (status) => {
          clearTimeout(timer);
          resolve({ status, stdout });
        });
      });
    const dom = await run(["--dump-dom", page]);
    expect(dom.status).toBe(0);
    expect(dom.stdout).toContain("Headline number 12");
    expect(dom.stdout).toContain('<b id="model-version">12</b>');
    expect(dom.stdout).toContain('class="reason">popular-global</b>');
    expect(dom.stdout).toMatch(/test\.ndcg10<\/th><td>0\.3125/);
    mkdirSync(OUTPUT, { recursive: true });
    const shot = join(OUTPUT, "reader-view.png");
    const screenshot = await run([`--screenshot=${shot}`, "--window-size=1280,900", page]);
    expect(screenshot.status).toBe(0);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe("PNG");
    process.stdout.write(`reader view screenshot: ${shot}\n`);
  }, 240_000);
});
