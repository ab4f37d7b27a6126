import { performance } from 'node:perf_hooks';
import { Transform, type TransformCallback } from 'node:stream';

/** Slices are sized to this many ms of traffic so the rate stays smooth at any chunk size. */
const SLICE_MS = 50;

/**
 * Passes bytes through at most `bytesPerSec`, pacing them in slices against a schedule kept from
 * the first byte (so timer lateness does not accumulate into a lower rate).
 */
export class ThrottleStream extends Transform {
  private readonly bytesPerSec: number;
  private readonly sliceBytes: number;
  /** performance.now() at which the next byte may go, ms. */
  private nextAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(bytesPerSec: number) {
    super();
    this.bytesPerSec = bytesPerSec;
    this.sliceBytes = Math.max(1, Math.floor((bytesPerSec * SLICE_MS) / 1000));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.sendFrom(chunk, 0, done);
  }

  private sendFrom(chunk: Buffer, offset: number, done: TransformCallback): void {
    if (this.destroyed) return;
    const now = performance.now();
    if (this.nextAt < now) this.nextAt = now;
    const wait = this.nextAt - now;
    if (wait >= 1) {
      this.timer = setTimeout(() => this.sendFrom(chunk, offset, done), wait);
      return;
    }
    const end = Math.min(chunk.length, offset + this.sliceBytes);
    this.push(offset === 0 && end === chunk.length ? chunk : chunk.subarray(offset, end));
    this.nextAt += ((end - offset) * 1000) / this.bytesPerSec;
    if (end < chunk.length) this.sendFrom(chunk, end, done);
    else done();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer);
    cb(err);
  }
}
