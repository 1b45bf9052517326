/** The running api's `POST /predict`, for the served-vs-offline comparison. */
import { AppError } from "@gplay/common";
import type { ServedList, ServedRecommendations } from "../app/served-parity.js";

export class HttpServedRecommendations implements ServedRecommendations {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async predict(userId: string, k: number): Promise<ServedList> {
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
