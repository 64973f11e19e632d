/**
 * Blocking embedding swap between the two training threads, on a SharedArrayBuffer:
 * header Int32 [seq of side 0, seq of side 1, failed flag], then one float32 region per side.
 * A side writes its embeddings, publishes the step number and waits (Atomics.wait) for the
 * other's. Atomics.wait is allowed on Node's main thread, which lets the swap happen inside a
 * synchronous tf.variableGrads call.
 */
const HEADER_INTS = 4;
const FAILED = 2;
/** Give up waiting after this long (the other side crashed or hangs). */
const EXCHANGE_TIMEOUT_MS = 120_000;

export class ShardChannel {
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  private readonly regions: [Float32Array, Float32Array];

  constructor(bufferOrCapacity: SharedArrayBuffer | number) {
    this.buffer =
      typeof bufferOrCapacity === 'number'
        ? new SharedArrayBuffer(HEADER_INTS * 4 + 2 * bufferOrCapacity * 4)
        : bufferOrCapacity;
    this.header = new Int32Array(this.buffer, 0, HEADER_INTS);
    const capacity = (this.buffer.byteLength - HEADER_INTS * 4) / 8;
    this.regions = [
      new Float32Array(this.buffer, HEADER_INTS * 4, capacity),
      new Float32Array(this.buffer, HEADER_INTS * 4 + capacity * 4, capacity),
    ];
  }

  /** Publishes `own` as side `side` for step `seq` and returns the other side's `otherLength` floats. */
  exchange(side: 0 | 1, seq: number, own: Float32Array, otherLength: number): Float32Array {
    if (own.length > this.regions[side].length || otherLength > this.regions[side].length) {
      throw new Error('shard channel capacity exceeded');
    }
    this.regions[side].set(own);
    Atomics.store(this.header, side, seq);
    Atomics.notify(this.header, side);
    const other = 1 - side;
    const deadline = Date.now() + EXCHANGE_TIMEOUT_MS;
    for (;;) {
      if (Atomics.load(this.header, FAILED) !== 0) throw new Error('the other training thread failed');
      const current = Atomics.load(this.header, other);
      if (current === seq) break;
      if (Date.now() > deadline) throw new Error('timed out waiting for the other training thread');
      Atomics.wait(this.header, other, current, 100);
    }
    return this.regions[other].slice(0, otherLength);
  }

  /** Marks the pair as failed and wakes a waiting side. */
  fail(): void {
    Atomics.store(this.header, FAILED, 1);
    Atomics.notify(this.header, 0);
    Atomics.notify(this.header, 1);
  }
}
