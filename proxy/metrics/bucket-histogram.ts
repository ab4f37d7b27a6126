/**
 * Prometheus histogram with fixed upper bounds in seconds. Counts are kept per bucket and made
 * cumulative only when rendered, so `observe` is a short scan over 13 bounds and one increment.
 */

/** Prometheus client defaults, seconds: 1 ms to 10 s. */
export const DEFAULT_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export class BucketHistogram {
  readonly bounds: readonly number[];
  /** counts[i] = observations in (bounds[i-1], bounds[i]]; the last slot is above every bound (+Inf). */
  private readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[] = DEFAULT_BUCKETS_SECONDS) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Cumulative counts per bound, `+Inf` last, as Prometheus wants them. */
  cumulative(): { le: string; count: number }[] {
    const out: { le: string; count: number }[] = [];
    let running = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      running += this.counts[i]!;
      out.push({ le: String(this.bounds[i]), count: running });
    }
    out.push({ le: '+Inf', count: running + this.counts[this.bounds.length]! });
    return out;
  }
}
