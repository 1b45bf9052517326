export type { HttpMethod, HttpTransportOptions, JsonRequest, MlflowAuth } from "./adapters/http-transport.js";
export { appErrorCodeFor, HttpTransport } from "./adapters/http-transport.js";
export * from "./client.js";
export * from "./config.js";
export * from "./domain/artifact-uri.js";
export * from "./domain/batch.js";
export * from "./domain/model-uri.js";
export * from "./domain/retry.js";
export * from "./schemas.js";
