/**
 * Artifact locations as the tracking server reports them, mapped to paths of its artifact proxy
 * (`/api/2.0/mlflow-artifacts/artifacts/<path>`), without I/O.
 */

export class ArtifactUriError extends Error {
  override readonly name = "ArtifactUriError";
}

/**
 * The proxy path of an `mlflow-artifacts:` URI: `mlflow-artifacts:/1/abc/artifacts/model` and
 * `mlflow-artifacts://host:5000/1/abc/artifacts/model` both give `1/abc/artifacts/model`.
 * Anything else (s3://, file paths) means the server does not proxy artifacts: it must run with
 * `--serve-artifacts` for clients that hold no storage credentials.
 */
export function proxyPathOf(artifactUri: string): string {
  const match = /^mlflow-artifacts:(\/\/[^/]*)?(\/.*)?$/.exec(artifactUri);
  if (match === null) {
    throw new ArtifactUriError(
      `Artifact URI "${artifactUri}" is not served by the tracking server's proxy (start mlflow with --serve-artifacts)`,
    );
  }
  return normalizeArtifactPath(match[2] ?? "");
}

/**
 * Cleans a relative artifact path: no leading/trailing slashes, no empty, "." or ".." segments
 * (a ".." would escape the run's artifact root and the server refuses it anyway).
 */
export function normalizeArtifactPath(path: string): string {
  const segments = path.split("/").filter((s) => s.length > 0 && s !== ".");
  if (segments.includes("..")) throw new ArtifactUriError(`Artifact path "${path}" must not contain ".."`);
  return segments.join("/");
}

/** Joins artifact path parts with single slashes, ignoring empty parts. */
export function joinArtifactPath(...parts: string[]): string {
  return normalizeArtifactPath(parts.join("/"));
}

/** The URL path (each segment percent-encoded) of a proxied artifact. */
export function proxyUrlPath(proxyPath: string): string {
  const encoded = normalizeArtifactPath(proxyPath).split("/").map(encodeURIComponent).join("/");
  return `/api/2.0/mlflow-artifacts/artifacts/${encoded}`;
}

/**
 * The path of `child` relative to `root` (both proxy paths); throws when `child` lies outside it.
 */
export function relativeArtifactPath(root: string, child: string): string {
  const r = normalizeArtifactPath(root);
  const c = normalizeArtifactPath(child);
  if (r === "") return c;
  if (c === r) return "";
  if (!c.startsWith(`${r}/`)) throw new ArtifactUriError(`Artifact "${child}" is not under "${root}"`);
  return c.slice(r.length + 1);
}
