/**
 * A time-bounded window of samples and the summary the tolerances read (quantiles, mean, error
 * rate). Windows here are small (a probe every 100 ms-1 s over seconds to minutes, so at most a
 * few thousand points), so quantiles are exact over sorted samples rather than HDR-bucketed.
 */

/** Options of a {@link SlidingWindow}. */
export interface SlidingWindowOptions {
  /** Length of the window in ms; items with `at <= now - windowMs` are dropped. */
  windowMs: number;
  /** Most items kept, oldest dropped first, so memory stays bounded. Default 10 000. */
  maxItems?: number;
}

/** Keeps the items of the last `windowMs` milliseconds (by their `at`, epoch ms), oldest first. */
export class SlidingWindow<T extends { at: number }> {
  readonly windowMs: number;
  readonly maxItems: number;
  #items: T[] = [];

  constructor(options: SlidingWindowOptions) {
    if (!(options.windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${options.windowMs}`);
    this.windowMs = options.windowMs;
    this.maxItems = options.maxItems ?? 10_000;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.maxItems) this.#items.splice(0, this.#items.length - this.maxItems);
  }

  /** Items inside the window ending at `now` (epoch ms), oldest first; older ones are forgotten. */
  items(now: number = Date.now()): T[] {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.#items.length && this.#items[drop]!.at <= cutoff) drop++;
    if (drop > 0) this.#items.splice(0, drop);
    return this.#items.filter((item) => item.at <= now);
  }

  clear(): void {
    this.#items = [];
  }
}

/** One point of a window: its latency (ms) if it has one, and whether it counts as an error. */
export interface WindowPoint {
  latencyMs?: number | undefined;
  error: boolean;
}

/** Quantiles and mean in ms (null when no point had a latency) and errors over a window. */
export interface WindowSummary {
  count: number;
  errors: number;
  /** errors / count, 0-1; 0 for an empty window. */
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
}

/**
 * Nearest-rank quantile of ascending `sorted` values: the smallest value with at least `q` of the
 * values at or below it (R `quantile(type = 1)`, numpy `method="inverted_cdf"`, and what an HDR
 * histogram reports). Undefined for an empty list.
 */
export function quantileSorted(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** Named quantiles the tolerances accept, mapped to their fraction. */
export const QUANTILES = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999, max: 1 } as const;
export type QuantileName = keyof typeof QUANTILES;

/** Summarises points: count, errors, error rate, nearest-rank p50/p95/p99 and mean latency. */
export function summarizeWindow(points: readonly WindowPoint[]): WindowSummary {
  const latencies: number[] = [];
  let errors = 0;
  let sum = 0;
  for (const p of points) {
    if (p.error) errors++;
    if (p.latencyMs !== undefined && Number.isFinite(p.latencyMs)) {
      latencies.push(p.latencyMs);
      sum += p.latencyMs;
    }
  }
  latencies.sort((a, b) => a - b);
  const q = (f: number) => quantileSorted(latencies, f) ?? null;
  return {
    count: points.length,
    errors,
    errorRate: points.length === 0 ? 0 : errors / points.length,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
    meanMs: latencies.length === 0 ? null : sum / latencies.length,
  };
}
