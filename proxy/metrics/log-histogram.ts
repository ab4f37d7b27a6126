/**
 * Latency histogram with logarithmic buckets, for quantiles with at most 1 % relative error.
 *
 * Bucket i ≥ 1 holds values in [RATIO^(i-1), RATIO^i) microseconds; bucket 0 holds anything under
 * 1 µs. A quantile is reported as the geometric middle of its bucket, which is within
 * sqrt(1.02) - 1 ≈ 0.995 % of any value in it. 1,100 buckets reach ~46 minutes; longer values land in
 * the last bucket. Recording is one Math.log and one array increment: O(1), no allocation.
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
  /** Allocated on first record, so idle slices cost a few numbers only (4.4 KB once used). */
  private buckets: Uint32Array | null = null;

  record(latencyMs: number, bucket: number, isError: boolean): void {
    this.count++;
    if (isError) this.errors++;
    this.sumMs += latencyMs;
    if (latencyMs < this.minMs) this.minMs = latencyMs;
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
    if (this.buckets === null) this.buckets = new Uint32Array(LOG_BUCKETS);
    this.buckets[bucket]!++;
  }

  reset(): void {
    this.count = 0;
    this.errors = 0;
    this.sumMs = 0;
    this.minMs = Number.POSITIVE_INFINITY;
    this.maxMs = Number.NEGATIVE_INFINITY;
    this.buckets?.fill(0);
  }

  /** Adds another histogram's counts into this one. */
  merge(other: LogHistogram): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.errors += other.errors;
    this.sumMs += other.sumMs;
    if (other.minMs < this.minMs) this.minMs = other.minMs;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
    if (this.buckets === null) this.buckets = new Uint32Array(LOG_BUCKETS);
    const src = other.buckets!;
    const dst = this.buckets;
    for (let i = 0; i < LOG_BUCKETS; i++) dst[i]! += src[i]!;
  }

  /**
   * Nearest-rank quantile in ms (q in 0-1), or null when empty. Clamped to the exact min and max,
   * so p0/p100 are exact and small samples are not pushed past their real extremes.
   */
  quantileMs(q: number): number | null {
    if (this.count === 0 || this.buckets === null) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank === 1) return this.minMs;
    if (rank >= this.count) return this.maxMs;
    let seen = 0;
    for (let i = 0; i < LOG_BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, bucketValueMs(i)));
    }
    return this.maxMs;
  }

  meanMs(): number | null {
    return this.count === 0 ? null : this.sumMs / this.count;
  }
}
