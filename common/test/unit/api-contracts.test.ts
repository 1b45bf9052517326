import { describe, expect, it } from "@jest/globals";
import {
  API_LIMITS,
  coldstartRequestSchema,
  eventKey,
  pageIdSchema,
  parseEventsRequest,
  predictRequestSchema,
  userIdSchema,
} from "../../src/index.js";

const PAGE = "a1b2c3d4-0000-4000-8000-00000000000a";
const USER = "ab".repeat(32);
const click = (extra: Record<string, unknown> = {}) => ({
  type: "click",
  userId: USER,
  page: PAGE,
  ...extra,
});

describe("ids are lower-cased once, at the boundary", () => {
  it("accepts a page id in any case and yields it in lower case", () => {
    expect(pageIdSchema.parse(PAGE.toUpperCase())).toBe(PAGE);
  });

  it("accepts a reader id in any case and yields it in lower case", () => {
    expect(userIdSchema.parse(USER.toUpperCase())).toBe(USER);
    expect(userIdSchema.safeParse("g".repeat(64)).success).toBe(false);
  });

  it("lower-cases the ids of exclude lists and recent clicks, so comparisons see them", () => {
    const predict = predictRequestSchema.parse({ userId: USER.toUpperCase(), exclude: [PAGE.toUpperCase()] });
    expect(predict).toMatchObject({ userId: USER, exclude: [PAGE] });
    const coldstart = coldstartRequestSchema.parse({
      recentlyClicked: [PAGE.toUpperCase()],
      exclude: [PAGE.toUpperCase()],
    });
    expect(coldstart).toMatchObject({ recentlyClicked: [PAGE], exclude: [PAGE] });
  });
});

describe("the /events body", () => {
  it("validates every event on its own: good ones pass (lower-cased), bad ones are reported by index", () => {
    const parsed = parseEventsRequest({
      events: [
        click({ page: PAGE.toUpperCase(), eventId: "e-1" }),
        click({ page: "nope" }),
        { type: "view" },
      ],
    });
    if (!parsed.success) throw new Error("the envelope is valid");
    expect(parsed.events).toEqual([
      { index: 0, event: { type: "click", userId: USER, page: PAGE, eventId: "e-1" } },
    ]);
    expect(parsed.rejected.map((r) => r.index)).toEqual([1, 2]);
    expect(parsed.rejected[0]?.issues).toEqual([{ path: "body.events.1.page", message: expect.any(String) }]);
    expect(parsed.rejected[1]?.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(["body.events.2.type", "body.events.2.userId", "body.events.2.page"]),
    );
  });

  it("refuses the envelope itself when it is not a non-empty list within the limit", () => {
    for (const body of [{}, { events: [] }, { events: "x" }, { events: [click()], extra: 1 }, null]) {
      expect(parseEventsRequest(body).success).toBe(false);
    }
    const tooMany = { events: Array.from({ length: API_LIMITS.maxEventsPerRequest + 1 }, () => click()) };
    expect(parseEventsRequest(tooMany).success).toBe(false);
  });

  it("refuses an event id with spaces or control characters, or longer than 128 characters", () => {
    for (const eventId of ["", "a b", "a\u0000", "x".repeat(129)]) {
      const parsed = parseEventsRequest({ events: [click({ eventId })] });
      expect(parsed.success && parsed.rejected.length).toBe(1);
    }
  });

  it("keys a seen event by reader and event id, so two readers' ids never collide", () => {
    expect(eventKey(USER, "e-1")).toBe(`${USER}#e-1`);
    expect(eventKey(USER, "e-1")).not.toBe(eventKey("cd".repeat(32), "e-1"));
  });
});
