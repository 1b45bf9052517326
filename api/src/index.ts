export { SwitchableModelProvider } from "./app/model.js";
export type { ModelProvider, ModelState, Ranker, RankerInput } from "./app/ports.js";
export type { ArticleMeta } from "./domain/articles.js";
export { createApp } from "./http/app.js";
export { OPERATIONS, openApiDocument } from "./http/openapi.js";
