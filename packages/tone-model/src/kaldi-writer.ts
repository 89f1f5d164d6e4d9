/**
 * Writes Kaldi's binary serialization: tokens are text plus a space, basic types carry a
 * one-byte size prefix, vectors and matrices are tagged (`FV `, `FM `).
 */
export class KaldiWriter {
  private readonly chunks: Buffer[] = [];

  constructor() {
    this.chunks.push(Buffer.from([0, 0x42])); // "\0B": binary mode
  }

  token(text: string): this {
    this.chunks.push(Buffer.from(`${text} `, 'utf8'));
    return this;
  }

  raw(text: string): this {
    this.chunks.push(Buffer.from(text, 'utf8'));
    return this;
  }

  int32(value: number): this {
    const b = Buffer.alloc(5);
    b[0] = 4;
    b.writeInt32LE(value, 1);
    this.chunks.push(b);
    return this;
  }

  float(value: number): this {
    const b = Buffer.alloc(5);
    b[0] = 4;
    b.writeFloatLE(value, 1);
    this.chunks.push(b);
    return this;
  }

  intVector(values: readonly number[]): this {
    const b = Buffer.alloc(5 + 4 * values.length);
    b[0] = 4;
    b.writeInt32LE(values.length, 1);
    values.forEach((v, i) => b.writeInt32LE(v, 5 + 4 * i));
    this.chunks.push(b);
    return this;
  }

  floatVector(values: ArrayLike<number>): this {
    this.raw('FV ').int32(values.length);
    this.chunks.push(float32Bytes(values));
    return this;
  }

  matrix(m: Matrix): this {
    this.raw('FM ').int32(m.rows).int32(m.cols);
    this.chunks.push(float32Bytes(m.data));
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major. */
  data: Float32Array;
}

export function zeroMatrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float32Array(rows * cols) };
}

function float32Bytes(values: ArrayLike<number>): Buffer {
  const f = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
}
