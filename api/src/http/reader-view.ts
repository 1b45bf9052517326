import { AppError, userIdSchema } from "@gplay/common";
import type { RequestHandler } from "express";
import type { ReaderView } from "../app/reader-view.js";
import { renderReaderView } from "./reader-view-page.js";

/**
 * A browser cannot send the x-api-key header from a link: on `/view` the key may come as `?key=`, and
 * is then checked by the same authentication and rate limit as every route. Mounted before them.
 */
export const viewKeyFromQuery: RequestHandler = (req, _res, next) => {
  if (req.path === "/view" && req.headers["x-api-key"] === undefined && typeof req.query.key === "string")
    req.headers["x-api-key"] = req.query.key;
  next();
};

/**
 * `GET /view?key=<api key>[&userId=<reader>]`: the reader view as HTML (off unless GPLAY_READER_VIEW;
 * for local and staging use). Authenticated like every route (see `viewKeyFromQuery`).
 */
export function readerViewHandler(view: ReaderView): RequestHandler {
  return async (req, res) => {
    const raw = typeof req.query.userId === "string" ? req.query.userId.trim().toLowerCase() : "";
    const parsed = raw === "" ? undefined : userIdSchema.safeParse(raw);
    if (parsed !== undefined && !parsed.success)
      throw new AppError("VALIDATION_FAILED", "userId must be 64 hexadecimal characters");
    const key = typeof req.query.key === "string" ? req.query.key : "";
    const model = await view.view(parsed?.data);
    res.status(200).type("html").setHeader("Cache-Control", "no-store").send(renderReaderView(model, key));
  };
}
