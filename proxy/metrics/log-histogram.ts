/**
 * Latency histogram with logarithmic buckets, for quantiles with at most 1 % relative error.
 *
 * Bucket i ≥ 1 holds values in [RATIO^(i-1), RATIO^i) microseconds; bucket 0 holds anything under
 * 1 µs. A quantile is reported as the geometric middle of its bucket, which is within
 * sqrt(1.02) - 1 ≈ 0.995 % of any value in it. 1,100 buckets reach ~46 minutes; longer values land in
 * the last bucket. Recording is one Math.log and one map update: O(1).
 *
 * Counts are kept sparse (bucket → count): real traffic fills a few dozen buckets per second, so a
 * 300-second window of 1-second histograms costs kilobytes, not the megabytes dense arrays would.
 */
const RATIO = 1.02;
const LOG_RATIO = Math.log(RATIO);
const HALF_STEP = Math.sqrt(RATIO);
export const LOG_BUCKETS = 1_100;

/** Bucket index of a latency in ms. Computed once per exchange and shared by every slice. */
export function logBucketOf(latencyMs: number): number {
  const us = latencyMs * 1000;
  if (!(us >= 1)) return 0;
  const i = 1 + Math.floor(Math.log(us) / LOG_RATIO);
  return i < LOG_BUCKETS ? i : LOG_BUCKETS - 1;
}

/** Representative value (ms) of a bucket: its geometric middle. */
function bucketValueMs(i: number): number {
  if (i === 0) return 0;
  return (RATIO ** (i - 1) * HALF_STEP) / 1000;
}

/** Counts, error count, sum, min, max and log buckets of one slice of traffic. */
export class LogHistogram {
  count = 0;
  errors = 0;
  sumMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = Number.NEGATIVE_INFINITY;
  private readonly buckets = new Map<number, number>();
  /** Bucket indexes in order, computed on the first quantile after a change. */
  private sorted: number[] | null = null;

  record(latencyMs: number, bucket: number, isError: boolean): void {
    this.count++;
    if (isError) this.errors++;
    this.sumMs += latencyMs;
    if (latencyMs < this.minMs) this.minMs = latencyMs;
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
    this.sorted = null;
  }

  reset(): void {
    this.count = 0;
    this.errors = 0;
    this.sumMs = 0;
    this.minMs = Number.POSITIVE_INFINITY;
    this.maxMs = Number.NEGATIVE_INFINITY;
    this.buckets.clear();
    this.sorted = null;
  }

  /** Adds another histogram's counts into this one. */
  merge(other: LogHistogram): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.errors += other.errors;
    this.sumMs += other.sumMs;
    if (other.minMs < this.minMs) this.minMs = other.minMs;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
    for (const [b, n] of other.buckets) this.buckets.set(b, (this.buckets.get(b) ?? 0) + n);
    this.sorted = null;
  }

  /**
   * Nearest-rank quantile in ms (q in 0-1), or null when empty. Clamped to the exact min and max,
   * so p0/p100 are exact and small samples are not pushed past their real extremes.
   */
  quantileMs(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank === 1) return this.minMs;
    if (rank >= this.count) return this.maxMs;
    this.sorted ??= [...this.buckets.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const i of this.sorted) {
      seen += this.buckets.get(i)!;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, bucketValueMs(i)));
    }
    return this.maxMs;
  }

  meanMs(): number | null {
    return this.count === 0 ? null : this.sumMs / this.count;
  }
}
