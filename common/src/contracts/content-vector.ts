/**
 * The article content vector stored in `articleItemSchema.vector`: a sparse hashed TF-IDF vector,
 * L2-normalised, packed to bytes. The featstore-engine writes it; the API and training read it
 * (cosine similarity between articles, or between an article and a reader's profile).
 *
 * Layout (little-endian), version 1:
 *   u8 magic 0x56 ('V') · u8 version · u32 dimension · u16 count ·
 *   count × u32 bucket index (strictly ascending) · count × f32 weight
 */
export const CONTENT_VECTOR_MAGIC = 0x56;
export const CONTENT_VECTOR_VERSION = 1;
export const CONTENT_VECTOR_HEADER_BYTES = 8;
/** Hashing-trick dimension: 2^18 buckets keeps collisions rare for a news vocabulary. */
export const CONTENT_VECTOR_DIMENSION = 1 << 18;
/** Terms kept per article (the highest TF-IDF weights): 64 × 8 B + 8 = 520 B per item. */
export const CONTENT_VECTOR_TOP_K = 64;

export interface SparseVector {
  dimension: number;
  /** Strictly ascending bucket indices. */
  indices: Uint32Array;
  values: Float32Array;
}

/** FNV-1a (32-bit) over the UTF-16 code units of a term: the bucket hash everyone must share. */
export function hashTerm(term: string, dimension = CONTENT_VECTOR_DIMENSION): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) {
    h ^= term.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % dimension;
}

/**
 * Builds a sparse vector from bucket weights: keeps the `topK` largest (ties by lower bucket),
 * sorts by bucket and L2-normalises. Zero and negative weights are ignored.
 */
export function sparseVectorFromWeights(
  weights: ReadonlyMap<number, number>,
  topK = CONTENT_VECTOR_TOP_K,
  dimension = CONTENT_VECTOR_DIMENSION,
): SparseVector {
  const entries = [...weights].filter(([, w]) => w > 0 && Number.isFinite(w));
  entries.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const top = entries.slice(0, topK).sort((a, b) => a[0] - b[0]);
  const norm = Math.sqrt(top.reduce((s, [, w]) => s + w * w, 0));
  return {
    dimension,
    indices: Uint32Array.from(top.map(([i]) => i)),
    values: Float32Array.from(top.map(([, w]) => (norm === 0 ? 0 : w / norm))),
  };
}

export function packContentVector(vector: SparseVector): Uint8Array<ArrayBuffer> {
  const n = vector.indices.length;
  if (n !== vector.values.length) throw new RangeError("content vector: indices and values differ in length");
  if (n > 0xffff) throw new RangeError(`content vector: ${n} entries exceed the u16 count`);
  const buf = new Uint8Array(CONTENT_VECTOR_HEADER_BYTES + n * 8);
  const view = new DataView(buf.buffer);
  buf[0] = CONTENT_VECTOR_MAGIC;
  buf[1] = CONTENT_VECTOR_VERSION;
  view.setUint32(2, vector.dimension, true);
  view.setUint16(6, n, true);
  let previous = -1;
  for (let i = 0; i < n; i++) {
    const index = vector.indices[i] as number;
    if (index <= previous || index >= vector.dimension)
      throw new RangeError("content vector: indices must be ascending and below the dimension");
    previous = index;
    view.setUint32(CONTENT_VECTOR_HEADER_BYTES + 4 * i, index, true);
    view.setFloat32(CONTENT_VECTOR_HEADER_BYTES + 4 * n + 4 * i, vector.values[i] as number, true);
  }
  return buf;
}

/** Unpacks a content vector; throws a RangeError on anything that is not a valid version-1 vector. */
export function unpackContentVector(buf: Uint8Array): SparseVector {
  if (buf.length < CONTENT_VECTOR_HEADER_BYTES || buf[0] !== CONTENT_VECTOR_MAGIC)
    throw new RangeError("not a content vector");
  if (buf[1] !== CONTENT_VECTOR_VERSION) throw new RangeError(`unsupported content vector version ${buf[1]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dimension = view.getUint32(2, true);
  const n = view.getUint16(6, true);
  if (buf.length !== CONTENT_VECTOR_HEADER_BYTES + n * 8)
    throw new RangeError(`content vector of ${n} entries has ${buf.length} bytes`);
  const indices = new Uint32Array(n);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    indices[i] = view.getUint32(CONTENT_VECTOR_HEADER_BYTES + 4 * i, true);
    values[i] = view.getFloat32(CONTENT_VECTOR_HEADER_BYTES + 4 * n + 4 * i, true);
  }
  return { dimension, indices, values };
}

/** Dot product of two sparse vectors (a merge over their ascending indices). */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let dot = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const x = a.indices[i] as number;
    const y = b.indices[j] as number;
    if (x === y) dot += (a.values[i++] as number) * (b.values[j++] as number);
    else if (x < y) i++;
    else j++;
  }
  return dot;
}

/** Cosine similarity in [-1, 1]; 0 when either vector is empty or of another dimension. */
export function cosineSimilarity(a: SparseVector, b: SparseVector): number {
  if (a.dimension !== b.dimension) return 0;
  const na = Math.sqrt(sparseDot(a, a));
  const nb = Math.sqrt(sparseDot(b, b));
  return na === 0 || nb === 0 ? 0 : sparseDot(a, b) / (na * nb);
}

/** Cosine similarity of two packed vectors. */
export function packedCosineSimilarity(a: Uint8Array, b: Uint8Array): number {
  return cosineSimilarity(unpackContentVector(a), unpackContentVector(b));
}
