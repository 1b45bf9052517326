/**
 * What an API key may do (`GPLAY_API_KEYS[].scopes`): `recommend` — /predict, /coldstart, /events,
 * /view; `admin` — the admin routes (reader erasure, docs/privacy.md). A key without `scopes` has
 * `recommend` only, so no existing key becomes an admin key.
 */
export const API_SCOPES = ["recommend", "admin"] as const;
export type ApiScope = (typeof API_SCOPES)[number];
export const DEFAULT_API_SCOPES: readonly ApiScope[] = ["recommend"];
