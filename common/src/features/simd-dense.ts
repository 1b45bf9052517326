/**
 * The Dense kernel of the forward pass as a WebAssembly SIMD module, generated here as bytes (no
 * toolchain, no binary in the repository): `out[v, u] = f32(b[u] + (rowBias[v, u] + Σ_j x[v, j] · w[u, j]))`
 * with each output's products accumulated in float64 in ascending `j`, exactly the order and rounding
 * of the scalar JavaScript kernel (`denseForward`), so the two give the same bits. The lanes of an
 * `f64x2` hold two neighbouring units (never two terms of one sum): a multiply and an add per lane,
 * no fused multiply-add, so each lane rounds as the scalar code does.
 *
 * Memory of one kernel (its own instance): the weights interleaved by unit pair, in blocks of the
 * main block's pairs (`[m, pairs, 2]` each, so one load offset per pair), the bias, the rows' optional starting sums, the rows' varying columns
 * (`[vectors, m]` float64) and the outputs (`[vectors, units]` float32).
 */

const I32 = 0x7f;
const V128 = 0x7b;
const VOID = 0x40;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const name = (text: string) => [...uleb(text.length), ...Buffer.from(text, "utf8")];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** The instructions the kernel uses (opcodes of the core and SIMD proposals). */
const op = {
  block: [0x02, VOID],
  loop: [0x03, VOID],
  if: [0x04, VOID],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  i32: (n: number) => [0x41, ...sleb(n)],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32GeU: [0x4f],
  f64Load: [0x2b, 3, 0],
  v128Load: (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f64x2Splat: [0xfd, 0x14],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  f32x4DemoteF64x2Zero: [0xfd, 0x5e],
  f32x4Lt: [0xfd, 0x43],
  v128Bitselect: [0xfd, 0x52],
  v128Store64Lane: (offset: number, lane: number) => [0xfd, 0x5b, 3, ...uleb(offset), lane],
};

/** Parameters of every kernel function, in order (all i32: byte addresses, counts, ranges). */
const PARAMS = ["x", "m", "w", "rb", "hasRb", "b", "out", "units", "r0", "r1", "p0", "p1"] as const;
const P = Object.fromEntries(PARAMS.map((p, i) => [p, i])) as Record<(typeof PARAMS)[number], number>;

/**
 * The body of the kernel over blocks of `rows` rows × `pairs` unit pairs (rows `r0 … r1` and pairs
 * `p0 … p1`, both whole multiples of the block): the block's sums live in `rows × pairs` f64x2
 * locals, so each loaded input serves `2 × pairs` units and each loaded weight pair `rows` rows.
 */
function kernelBody(rows: number, pairs: number, relu: boolean): number[] {
  let next = PARAMS.length;
  const i32 = () => next++;
  const r = i32();
  const p = i32();
  const mx = i32(); // m × 8: one row's bytes in x
  const ux = i32(); // units × 8: one row's bytes in rb
  const e = i32(); // element index of (row r, unit 2p) in rb and out
  const rbp = i32();
  const outp = i32();
  const bp = i32();
  const wa = i32();
  const xEnd = i32();
  const xa = Array.from({ length: rows }, i32);
  const i32Count = next - PARAMS.length;
  const accBase = next;
  const acc = (i: number, q: number) => accBase + i * pairs + q;
  next += rows * pairs;
  const xsBase = next;
  next += rows;
  const wv = next++;
  const v128Count = next - accBase;

  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const part of parts) code.push(...part);
  };
  const add = (local: number, n: number[]) => emit(op.get(local), n, op.i32Add, op.set(local));
  emit(op.get(P.m), op.i32(8), op.i32Mul, op.set(mx));
  emit(op.get(P.units), op.i32(8), op.i32Mul, op.set(ux));
  // for (r = r0; r < r1; r += rows)
  emit(op.get(P.r0), op.set(r));
  emit(op.block, op.loop);
  emit(op.get(r), op.get(P.r1), op.i32GeU, op.brIf(1));
  // for (p = p0; p < p1; p += pairs)
  emit(op.get(P.p0), op.set(p));
  emit(op.block, op.loop);
  emit(op.get(p), op.get(P.p1), op.i32GeU, op.brIf(1));
  // e = r * units + 2p; rbp = rb + 8e; outp = out + 4e; bp = b + 16p; wa = w + 16 p m
  emit(op.get(r), op.get(P.units), op.i32Mul, op.get(p), op.i32(2), op.i32Mul, op.i32Add, op.set(e));
  emit(op.get(P.rb), op.get(e), op.i32(8), op.i32Mul, op.i32Add, op.set(rbp));
  emit(op.get(P.out), op.get(e), op.i32(4), op.i32Mul, op.i32Add, op.set(outp));
  emit(op.get(P.b), op.get(p), op.i32(16), op.i32Mul, op.i32Add, op.set(bp));
  emit(op.get(P.w), op.get(p), op.get(mx), op.i32Mul, op.i32(2), op.i32Mul, op.i32Add, op.set(wa));
  // acc[i][q] = hasRb ? rb[(r + i) * units + 2 (p + q) …] : 0
  for (let i = 0; i < rows; i++) {
    for (let q = 0; q < pairs; q++)
      emit(
        op.get(P.hasRb),
        [0x04, V128],
        op.get(rbp),
        op.v128Load(q * 16),
        op.else,
        op.v128Zero,
        op.end,
        op.set(acc(i, q)),
      );
    if (i + 1 < rows) add(rbp, op.get(ux));
  }
  // xa[i] = x + (r + i) * mx; xEnd = xa[0] + mx
  emit(op.get(P.x), op.get(r), op.get(mx), op.i32Mul, op.i32Add, op.set(xa[0] as number));
  for (let i = 1; i < rows; i++)
    emit(op.get(xa[i - 1] as number), op.get(mx), op.i32Add, op.set(xa[i] as number));
  emit(op.get(xa[0] as number), op.get(mx), op.i32Add, op.set(xEnd));
  // for (j = 0; j < m; j++): acc[i][q] += splat(x[r + i, j]) * w[p + q, j] (w blocked as [m, pairs, 2])
  emit(op.block, op.loop);
  emit(op.get(xa[0] as number), op.get(xEnd), op.i32GeU, op.brIf(1));
  for (let i = 0; i < rows; i++) emit(op.get(xa[i] as number), op.f64Load, op.f64x2Splat, op.set(xsBase + i));
  for (let q = 0; q < pairs; q++) {
    emit(op.get(wa), op.v128Load(q * 16), op.set(wv));
    for (let i = 0; i < rows; i++)
      emit(op.get(acc(i, q)), op.get(xsBase + i), op.get(wv), op.f64x2Mul, op.f64x2Add, op.set(acc(i, q)));
  }
  for (let i = 0; i < rows; i++) add(xa[i] as number, op.i32(8));
  add(wa, op.i32(16 * pairs));
  emit(op.br(0), op.end, op.end);
  // out[(r + i) * units + 2 (p + q) + lane] = f32(b[2 (p + q) + lane] + acc[i][q][lane])
  for (let i = 0; i < rows; i++) {
    for (let q = 0; q < pairs; q++) {
      // Both lanes rounded to float32 (as a Float32Array store rounds) and stored as 8 bytes.
      emit(op.get(outp), op.get(bp), op.v128Load(q * 16), op.get(acc(i, q)), op.f64x2Add);
      emit(op.f32x4DemoteF64x2Zero);
      // ReLU as the JavaScript one does it: a value below 0 becomes +0 (-0 and NaN stay).
      if (relu)
        emit(op.set(wv), op.v128Zero, op.get(wv), op.get(wv), op.v128Zero, op.f32x4Lt, op.v128Bitselect);
      emit(op.v128Store64Lane(q * 8, 0));
    }
    if (i + 1 < rows) emit(op.get(outp), op.get(P.units), op.i32(4), op.i32Mul, op.i32Add, op.set(outp));
  }
  add(p, op.i32(pairs));
  emit(op.br(0), op.end, op.end);
  add(r, op.i32(rows));
  emit(op.br(0), op.end, op.end);
  emit(op.end);
  const locals = vec([
    [...uleb(i32Count), I32],
    [...uleb(v128Count), V128],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/** Block shapes (rows × unit pairs) the module exports: the main block and its edges. */
export const SIMD_BLOCKS = [
  [1, 1],
  [1, 4],
  [2, 1],
  [2, 4],
] as const;

/** The block most rows and pairs run in; the others cover the edges. */
const mainBlock = SIMD_BLOCKS[SIMD_BLOCKS.length - 1] as readonly [number, number];

/** The kernel functions: every block shape, without and with a ReLU on the outputs. */
const KERNELS = [false, true].flatMap((relu) => SIMD_BLOCKS.map(([rows, pairs]) => ({ rows, pairs, relu })));

const exportName = (rows: number, pairs: number, relu: boolean) =>
  `dense${relu ? "_relu" : ""}_${rows}x${pairs}`;

/** The module's bytes: one exported memory and one function per block shape. */
export function simdDenseModuleBytes(): Uint8Array {
  const type = [0x60, ...vec(PARAMS.map(() => [I32])), ...vec([])];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(3, vec(KERNELS.map(() => [0]))),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(
      7,
      vec([
        [...name("memory"), 0x02, 0],
        ...KERNELS.map(({ rows, pairs, relu }, i) => [
          ...name(exportName(rows, pairs, relu)),
          0x00,
          ...uleb(i),
        ]),
      ]),
    ),
    ...section(10, vec(KERNELS.map(({ rows, pairs, relu }) => kernelBody(rows, pairs, relu)))),
  ];
  return Uint8Array.from(bytes);
}

type KernelFn = (...args: number[]) => void;

/**
 * The slice of the WebAssembly JavaScript API used here (this project's typings, ES2023 and
 * @types/node 20, do not declare it; Node has it).
 */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
type WasmModule = { readonly __wasmModule: unique symbol };
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD (then the JS kernel runs). */
function simdModule(): WasmModule | null {
  if (compiled === undefined) {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    const bytes = simdDenseModuleBytes();
    compiled = wasm?.validate(bytes) === true ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/** Whether the SIMD kernel can run here. */
export function simdAvailable(): boolean {
  return simdModule() !== null;
}

const PAGE = 65_536;
const align16 = (n: number) => (n + 15) & ~15;

/**
 * One Dense layer's SIMD kernel: its own instance and memory. `units` must be even. The caller
 * writes the compacted weights with `setWeights` when the varying columns change, then per call
 * fills `rows(vectors, m)` with the rows' varying columns and calls `run`.
 */
export class SimdDense {
  readonly #fns: Map<string, KernelFn>;
  readonly #memory: WasmMemory;
  readonly #units: number;
  readonly #cols: number;
  /** Byte offsets of the fixed regions: weights (for all `cols` columns), then the bias. */
  readonly #bAt: number;
  readonly #dynamicAt: number;
  #m = 0;
  #f64: Float64Array;

  private constructor(exports: Record<string, unknown>, units: number, cols: number, relu: boolean) {
    this.#memory = exports.memory as WasmMemory;
    this.#fns = new Map(
      SIMD_BLOCKS.map(([r, p]) => [`${r}x${p}`, exports[exportName(r, p, relu)] as KernelFn]),
    );
    this.#units = units;
    this.#cols = cols;
    this.#bAt = align16(units * cols * 8);
    this.#dynamicAt = align16(this.#bAt + units * 8);
    this.#f64 = new Float64Array(this.#memory.buffer);
  }

  /**
   * A kernel for `units` (even) outputs over up to `cols` columns, or undefined without SIMD. With
   * `relu`, the outputs come out through a ReLU (a value below 0 becomes +0, as the JavaScript
   * activation does it).
   */
  static create(units: number, cols: number, relu = false): SimdDense | undefined {
    const module = simdModule();
    if (module === null || units % 2 !== 0 || units === 0) return undefined;
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly as WasmApi;
    return new SimdDense(new wasm.Instance(module, {}).exports, units, cols, relu);
  }

  /** The kernel's weights: `compact` is `[units, m]` (row u: unit u's weights of the varying columns). */
  setWeights(compact: Float64Array, m: number): void {
    this.#ensure(this.#dynamicAt);
    const f = this.#f64;
    const units = this.#units;
    const pairs = units >> 1;
    const width = mainBlock[1];
    // Pairs in blocks of the main block's width ([m, width, 2] each), the rest one by one ([m, 1, 2]):
    // a block of pairs starting at pair p always starts at element 2 m p.
    for (let p0 = 0; p0 < pairs; ) {
      const n = p0 + width <= pairs ? width : 1;
      const at = 2 * m * p0;
      for (let j = 0; j < m; j++)
        for (let q = 0; q < n; q++) {
          const u = 2 * (p0 + q);
          f[at + (j * n + q) * 2] = compact[u * m + j] as number;
          f[at + (j * n + q) * 2 + 1] = compact[(u + 1) * m + j] as number;
        }
      p0 += n;
    }
    this.#m = m;
  }

  /** The float64 block `[vectors, m]` to fill with the rows' varying columns before `run`. */
  rows(vectors: number, m: number): Float64Array {
    const { end, xAt } = this.#layout(vectors);
    this.#ensure(end);
    const at = xAt / 8;
    return this.#f64.subarray(at, at + vectors * m);
  }

  /**
   * out[v, u] = f32(b[u] + (rowBias[v, u] or 0) + Σ_j rows[v, j] · w[u, j]), for the rows written
   * through `rows(vectors, m)` with the weights of the last `setWeights`.
   */
  run(vectors: number, b: Float64Array, out: Float32Array, rowBias?: Float64Array): void {
    const units = this.#units;
    const m = this.#m;
    const { rbAt, xAt, outAt } = this.#layout(vectors);
    const f = this.#f64;
    f.set(b.subarray(0, units), this.#bAt / 8);
    if (rowBias !== undefined) f.set(rowBias.subarray(0, vectors * units), rbAt / 8);
    const pairs = units >> 1;
    const [mainRows, mainPairs] = mainBlock;
    const rowsMain = vectors - (vectors % mainRows);
    const pairsMain = pairs - (pairs % mainPairs);
    const hasRb = rowBias === undefined ? 0 : 1;
    const run = (rows: number, ps: number, r0: number, r1: number, p0: number, p1: number) => {
      if (r0 < r1 && p0 < p1)
        (this.#fns.get(`${rows}x${ps}`) as KernelFn)(
          xAt,
          m,
          0,
          rbAt,
          hasRb,
          this.#bAt,
          outAt,
          units,
          r0,
          r1,
          p0,
          p1,
        );
    };
    run(mainRows, mainPairs, 0, rowsMain, 0, pairsMain);
    run(mainRows, 1, 0, rowsMain, pairsMain, pairs);
    run(1, mainPairs, rowsMain, vectors, 0, pairsMain);
    run(1, 1, rowsMain, vectors, pairsMain, pairs);
    out.set(new Float32Array(this.#memory.buffer, outAt, vectors * units));
  }

  #layout(vectors: number) {
    const rbAt = this.#dynamicAt;
    const xAt = align16(rbAt + vectors * this.#units * 8);
    const outAt = align16(xAt + vectors * this.#cols * 8);
    return { rbAt, xAt, outAt, end: outAt + vectors * this.#units * 4 };
  }

  #ensure(bytes: number): void {
    const have = this.#memory.buffer.byteLength;
    if (bytes > have) {
      this.#memory.grow(Math.ceil((bytes - have) / PAGE));
      this.#f64 = new Float64Array(this.#memory.buffer);
    }
  }
}
