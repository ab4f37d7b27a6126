import { describe, expect, it } from 'vitest';
import { LogHistogram, logBucketOf } from './log-histogram.ts';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('LogHistogram', () => {
  it('reports quantiles within 1 % of the exact nearest-rank value over six decades', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const values = Array.from({ length: 20_000 }, () => 0.01 * 10 ** (rand() * 6)); // 10 µs .. 10 s
    const h = new LogHistogram();
    for (const v of values) h.record(v, logBucketOf(v), false);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(h.quantileMs(q)! - exact) / exact).toBeLessThanOrEqual(0.01);
    }
  });

  it('gives exact extremes, mean and error count, and null when empty', () => {
    const h = new LogHistogram();
    expect(h.quantileMs(0.5)).toBeNull();
    expect(h.meanMs()).toBeNull();
    for (const [v, err] of [
      [3, false],
      [5, true],
      [7, false],
    ] as const)
      h.record(v, logBucketOf(v), err);
    expect(h.quantileMs(0)).toBe(3);
    expect(h.quantileMs(1)).toBe(7);
    expect(h.meanMs()).toBe(5);
    expect(h.errors).toBe(1);
  });

  it('merges counts and resets to empty', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    a.record(1, logBucketOf(1), false);
    b.record(100, logBucketOf(100), true);
    a.merge(b);
    expect(a.count).toBe(2);
    expect(a.errors).toBe(1);
    expect(a.quantileMs(1)).toBe(100);
    a.reset();
    expect(a.count).toBe(0);
    expect(a.quantileMs(0.5)).toBeNull();
  });

  it('after a reset and reuse, reports exactly what a fresh histogram of the new values reports', () => {
    const wide = Array.from({ length: 5_000 }, (_, i) => 0.001 * 1.005 ** i); // 1 µs .. ~70 s
    const narrow = Array.from({ length: 3_000 }, (_, i) => 2 + (i % 97) * 0.01);
    const reused = new LogHistogram();
    for (const v of wide) reused.record(v, logBucketOf(v), true);
    reused.reset();
    const fresh = new LogHistogram();
    for (const v of narrow) {
      reused.record(v, logBucketOf(v), false);
      fresh.record(v, logBucketOf(v), false);
    }
    expect(reused.errors).toBe(0);
    for (const q of [0.01, 0.25, 0.5, 0.75, 0.99]) expect(reused.quantileMs(q)).toBe(fresh.quantileMs(q));
  });

  it('merges a histogram spread over hundreds of buckets into a near-empty one without losing a count', () => {
    const values = Array.from({ length: 4_000 }, (_, i) => 0.01 * 1.003 ** i); // 10 µs .. ~1.6 s
    const small = new LogHistogram();
    small.record(values[0]!, logBucketOf(values[0]!), false);
    const big = new LogHistogram();
    for (const v of values.slice(1)) big.record(v, logBucketOf(v), false);
    small.merge(big);
    const all = new LogHistogram();
    for (const v of values) all.record(v, logBucketOf(v), false);
    expect(small.count).toBe(4_000);
    for (const q of [0.001, 0.1, 0.5, 0.9, 0.999]) expect(small.quantileMs(q)).toBe(all.quantileMs(q));
  });

  it('puts sub-microsecond and huge values in the end buckets without throwing', () => {
    expect(logBucketOf(0)).toBe(0);
    expect(logBucketOf(-1)).toBe(0);
    expect(logBucketOf(Number.NaN)).toBe(0);
    expect(logBucketOf(1e12)).toBe(1_099);
  });
});
