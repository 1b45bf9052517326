import { describe, expect, it } from "@jest/globals";
import type { Request, RequestHandler, Response } from "express";
import helmet from "helmet";
import { recordedHeaders } from "../../../src/http/guards.js";

/** A response that keeps the headers set on it (and forgets removed ones). */
function headerRecorder() {
  const headers = new Map<string, string>([["x-powered-by", "Express"]]);
  const res = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  return { headers, res: res as unknown as Response };
}

function run(middleware: RequestHandler): { headers: Map<string, string>; nexted: boolean } {
  const { headers, res } = headerRecorder();
  let nexted = false;
  void middleware({ headers: {}, method: "POST" } as Request, res, () => {
    nexted = true;
  });
  return { headers, nexted };
}

describe("recorded security headers", () => {
  it("set exactly the headers helmet sets, on every response", () => {
    const direct = run(helmet());
    const recorded = recordedHeaders(helmet());
    const first = run(recorded);
    const second = run(recorded);
    expect(direct.headers.size).toBeGreaterThan(5);
    expect(direct.headers.has("content-security-policy")).toBe(true);
    expect(first.nexted).toBe(true);
    expect([...first.headers]).toEqual([...direct.headers]);
    expect([...second.headers]).toEqual([...direct.headers]);
  });

  it("refuse a middleware that does not finish synchronously", () => {
    const later: RequestHandler = (_req, _res, next) => {
      setImmediate(() => next());
    };
    expect(() => recordedHeaders(later)).toThrow(/cannot be recorded/);
  });
});
