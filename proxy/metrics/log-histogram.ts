/**
 * Latency histogram with logarithmic buckets, for quantiles with at most 1 % relative error.
 *
 * Bucket i ≥ 1 holds values in [RATIO^(i-1), RATIO^i) microseconds; bucket 0 holds anything under
 * 1 µs. A quantile is reported as the geometric middle of its bucket, which is within
 * sqrt(1.02) - 1 ≈ 0.995 % of any value in it. 1,100 buckets reach ~46 minutes; longer values land in
 * the last bucket. Recording is one Math.log and one table update: O(1).
 *
 * Counts are kept sparse: real traffic fills a few dozen buckets per second, so a 300-second window
 * of 1-second histograms costs kilobytes, not the megabytes dense arrays would. The sparse table is
 * an open-addressing hash in typed arrays that `reset` empties but keeps, not a Map: a Map's
 * `clear()` drops its backing store and regrows it, and since the traffic window keeps each second
 * for 300 s, every regrown store was promoted to V8's old space and died there. At 1,000 req/s that
 * made the HTTP proxy's old space, and its RSS with it, grow ~1.1 MB a minute until the first full
 * GC; with this table ~0.24 MB (bench/RESULTS.md, memory-soak notes).
 */
const RATIO = 1.02;
const LOG_RATIO = Math.log(RATIO);
const HALF_STEP = Math.sqrt(RATIO);
export const LOG_BUCKETS = 1_100;
/** Slots of a new table; a power of two. Grows ×2 when three quarters full, never shrinks. */
const INITIAL_SLOTS = 32;
const EMPTY = -1;

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
  /** Bucket index per slot, EMPTY when free. Allocated on the first record. */
  private keys: Int16Array | null = null;
  /** Count per slot; meaningful only where the key is not EMPTY. */
  private counts: Float64Array | null = null;
  /** Slots in use. */
  private used = 0;
  /** Bucket indexes in order, computed on the first quantile after a change. */
  private sorted: number[] | null = null;

  record(latencyMs: number, bucket: number, isError: boolean): void {
    this.count++;
    if (isError) this.errors++;
    this.sumMs += latencyMs;
    if (latencyMs < this.minMs) this.minMs = latencyMs;
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
    this.add(bucket, 1);
    this.sorted = null;
  }

  reset(): void {
    this.count = 0;
    this.errors = 0;
    this.sumMs = 0;
    this.minMs = Number.POSITIVE_INFINITY;
    this.maxMs = Number.NEGATIVE_INFINITY;
    // Counts are written, not added to, when a slot is taken, so only the keys need clearing.
    if (this.used > 0) {
      this.keys!.fill(EMPTY);
      this.used = 0;
    }
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
    const keys = other.keys!;
    const counts = other.counts!;
    for (let s = 0; s < keys.length; s++) if (keys[s] !== EMPTY) this.add(keys[s]!, counts[s]!);
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
    const keys = this.keys!;
    this.sorted ??= Array.from(keys.filter((k) => k !== EMPTY)).sort((a, b) => a - b);
    let seen = 0;
    for (const i of this.sorted) {
      seen += this.counts![this.slotOf(i)]!;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, bucketValueMs(i)));
    }
    return this.maxMs;
  }

  meanMs(): number | null {
    return this.count === 0 ? null : this.sumMs / this.count;
  }

  private add(bucket: number, n: number): void {
    if (this.keys === null) this.grow();
    let keys = this.keys!;
    let s = this.slotOf(bucket);
    if (keys[s] === EMPTY) {
      if ((this.used + 1) * 4 > keys.length * 3) {
        this.grow();
        keys = this.keys!;
        s = this.slotOf(bucket);
      }
      keys[s] = bucket;
      this.counts![s] = n;
      this.used++;
    } else {
      this.counts![s] = this.counts![s]! + n;
    }
  }

  /**
   * The slot holding `bucket`, or the free slot where it goes. Buckets are small integers that
   * cluster (one latency band per second), so the index itself is the hash and neighbours probe
   * linearly into neighbouring slots.
   */
  private slotOf(bucket: number): number {
    const keys = this.keys!;
    const mask = keys.length - 1;
    let s = bucket & mask;
    while (keys[s] !== EMPTY && keys[s] !== bucket) s = (s + 1) & mask;
    return s;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const slots = oldKeys === null ? INITIAL_SLOTS : oldKeys.length * 2;
    this.keys = new Int16Array(slots).fill(EMPTY);
    this.counts = new Float64Array(slots);
    this.used = 0;
    if (oldKeys === null || oldCounts === null) return;
    for (let s = 0; s < oldKeys.length; s++) if (oldKeys[s] !== EMPTY) this.add(oldKeys[s]!, oldCounts[s]!);
  }
}
