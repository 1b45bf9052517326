/**
 * A body read whole into one buffer of its announced size, which is a whole ArrayBuffer that
 * `readColumns` reads in place: collecting the chunks and concatenating them held a partition twice,
 * and the Parquet reader's copy a third time. A body longer or shorter than `size` is still read
 * whole, by a concatenation.
 */
export async function readBody(body: AsyncIterable<Uint8Array>, size: number): Promise<Uint8Array> {
  const whole = Buffer.allocUnsafeSlow(size);
  const extra: Uint8Array[] = [];
  let filled = 0;
  for await (const chunk of body) {
    if (extra.length === 0 && filled + chunk.byteLength <= size) {
      whole.set(chunk, filled);
      filled += chunk.byteLength;
    } else extra.push(chunk);
  }
  if (extra.length === 0 && filled === size) return whole;
  return Buffer.concat([whole.subarray(0, filled), ...extra]);
}
