/**
 * `models:/` URIs as MLflow spells them, parsed without I/O:
 * `models:/<name>@<alias>`, `models:/<name>/<stage>`, `models:/<name>/<version>`, `models:/<name>/latest`.
 */

/** The registry stages of the deprecated stage workflow (kept for `models:/<name>/Production`). */
export const MODEL_STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

export type ModelReference =
  | { kind: "alias"; name: string; alias: string }
  | { kind: "stage"; name: string; stage: ModelStage }
  | { kind: "version"; name: string; version: string }
  | { kind: "latest"; name: string };

/** Why a URI could not be parsed; the caller turns it into its own error type. */
export class ModelUriError extends Error {
  override readonly name = "ModelUriError";
}

const ALIAS_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Parses a stage name case-insensitively ("production" → "Production"), or returns undefined. */
export function parseStage(text: string): ModelStage | undefined {
  const lower = text.toLowerCase();
  return MODEL_STAGES.find((stage) => stage.toLowerCase() === lower);
}

/**
 * Parses a `models:/` URI into what it refers to. Throws ModelUriError naming the accepted shapes
 * when the URI is anything else.
 */
export function parseModelUri(uri: string): ModelReference {
  const shapes =
    "expected models:/<name>@<alias>, models:/<name>/<stage>, models:/<name>/<version> or models:/<name>/latest";
  if (!uri.startsWith("models:/")) throw new ModelUriError(`Not a model URI: "${uri}" (${shapes})`);
  const rest = uri.slice("models:/".length).replace(/^\/+/, "");
  if (rest.length === 0) throw new ModelUriError(`Model URI "${uri}" names no model (${shapes})`);

  const slash = rest.lastIndexOf("/");
  if (slash === -1) {
    const at = rest.lastIndexOf("@");
    if (at <= 0 || at === rest.length - 1) {
      throw new ModelUriError(`Model URI "${uri}" has neither an alias nor a version/stage (${shapes})`);
    }
    const name = rest.slice(0, at);
    const alias = rest.slice(at + 1);
    if (!ALIAS_PATTERN.test(alias)) throw new ModelUriError(`Invalid alias "${alias}" in "${uri}"`);
    return { kind: "alias", name, alias };
  }

  const name = rest.slice(0, slash);
  const suffix = rest.slice(slash + 1);
  if (name.length === 0 || suffix.length === 0)
    throw new ModelUriError(`Malformed model URI "${uri}" (${shapes})`);
  if (name.includes("@")) throw new ModelUriError(`Model URI "${uri}" mixes an alias with a version/stage`);
  if (/^[0-9]+$/.test(suffix)) {
    if (Number(suffix) < 1) throw new ModelUriError(`Model versions start at 1, got "${suffix}" in "${uri}"`);
    return { kind: "version", name, version: String(Number(suffix)) };
  }
  if (suffix.toLowerCase() === "latest") return { kind: "latest", name };
  const stage = parseStage(suffix);
  if (stage === undefined)
    throw new ModelUriError(`Unknown version or stage "${suffix}" in "${uri}" (${shapes})`);
  return { kind: "stage", name, stage };
}

/** Formats a reference back into its canonical `models:/` URI. */
export function formatModelUri(ref: ModelReference): string {
  switch (ref.kind) {
    case "alias":
      return `models:/${ref.name}@${ref.alias}`;
    case "stage":
      return `models:/${ref.name}/${ref.stage}`;
    case "version":
      return `models:/${ref.name}/${ref.version}`;
    case "latest":
      return `models:/${ref.name}/latest`;
  }
}
