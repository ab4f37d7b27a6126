/**
 * The newest `cap` raw latency samples with their arrival times, in a fixed ring (no allocation
 * per sample). The engine's rank tests need raw values, not histogram buckets.
 */
export class SampleRing {
  private readonly at: Float64Array;
  private readonly values: Float64Array;
  /** Next slot to write. */
  private head = 0;
  private size = 0;

  constructor(cap: number) {
    this.at = new Float64Array(cap);
    this.values = new Float64Array(cap);
  }

  push(atMs: number, latencyMs: number): void {
    if (this.at.length === 0) return;
    this.at[this.head] = atMs;
    this.values[this.head] = latencyMs;
    this.head = (this.head + 1) % this.at.length;
    if (this.size < this.at.length) this.size++;
  }

  /** Samples (ms) that arrived at or after `sinceMs`, oldest first, newest last. */
  since(sinceMs: number): number[] {
    const out: number[] = [];
    const cap = this.at.length;
    const start = (this.head - this.size + cap) % Math.max(cap, 1);
    for (let k = 0; k < this.size; k++) {
      const i = (start + k) % cap;
      if (this.at[i]! >= sinceMs) out.push(this.values[i]!);
    }
    return out;
  }
}
