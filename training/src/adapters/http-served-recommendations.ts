/** The running api's `POST /predict`, for the served-vs-offline comparison. */
import { AppError } from "@gplay/common";
import type { ServedList, ServedRecommendations } from "../app/served-parity.js";

export class HttpServedRecommendations implements ServedRecommendations {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly timeoutMs = 30_000,
    private readonly maxAttempts = 20,
  ) {}

  async predict(userId: string, k: number): Promise<ServedList> {
    // The api's per-key rate limit answers 429 with Retry-After: wait as told, a bounded number of times.
    for (let attempt = 1; ; attempt++) {
      const response = await this.#post(userId, k);
      if (response.status === 429 && attempt < this.maxAttempts) {
        const seconds = Number(response.headers.get("retry-after") ?? "1");
        await response.body?.cancel();
        await new Promise((r) =>
          setTimeout(r, 1000 * (Number.isFinite(seconds) && seconds > 0 ? seconds : 1)),
        );
        continue;
      }
      if (!response.ok)
        throw new AppError(
          "UPSTREAM_FAILED",
          `POST /predict answered ${response.status}: ${await response.text()}`,
        );
      const body = (await response.json()) as ServedList;
      return {
        modelVersion: body.modelVersion,
        items: body.items.map((i) => ({ page: i.page, score: i.score })),
      };
    }
  }

  async #post(userId: string, k: number): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(new URL("/predict", this.baseUrl), {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": this.apiKey },
        body: JSON.stringify({ userId, k }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new AppError("UPSTREAM_UNAVAILABLE", `The api at ${this.baseUrl} cannot be reached`, {
        cause: error,
      });
    }
    return response;
  }
}
