import { describe, expect, it } from 'vitest';
import { quantileSorted, SlidingWindow, summarizeWindow } from './sliding-window.ts';

describe('sliding window', () => {
  it('keeps only the items of the last windowMs milliseconds', () => {
    const w = new SlidingWindow<{ at: number; v: number }>({ windowMs: 1000 });
    for (let i = 0; i < 10; i++) w.push({ at: 10_000 + i * 250, v: i });
    // now = 12 250: the window is (11 250, 12 250]
    expect(w.items(12_250).map((x) => x.v)).toEqual([6, 7, 8, 9]);
    // later, everything has aged out
    expect(w.items(20_000)).toEqual([]);
  });

  it('drops the oldest items beyond maxItems', () => {
    const w = new SlidingWindow<{ at: number }>({ windowMs: 60_000, maxItems: 3 });
    for (let i = 1; i <= 5; i++) w.push({ at: i });
    expect(w.items(10).map((x) => x.at)).toEqual([3, 4, 5]);
  });

  it('refuses a window that is not positive', () => {
    expect(() => new SlidingWindow({ windowMs: 0 })).toThrow(RangeError);
  });
});

describe('window summary', () => {
  // Reference: numpy.quantile(x, q, method="inverted_cdf") = R quantile(x, q, type = 1).
  const x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9];

  it('computes nearest-rank quantiles that match R type 1', () => {
    const sorted = [...x].sort((a, b) => a - b);
    expect(quantileSorted(sorted, 0.5)).toBe(5);
    expect(quantileSorted(sorted, 0.95)).toBe(9);
    expect(quantileSorted(sorted, 0.99)).toBe(9);
    expect(quantileSorted(sorted, 0.2)).toBe(2);
    expect(quantileSorted(sorted, 0)).toBe(1);
    expect(quantileSorted([], 0.5)).toBeUndefined();
  });

  it('counts errors, mean and quantiles over the points, ignoring points without latency', () => {
    const points = x.map((latencyMs, i) => ({ latencyMs, error: i % 5 === 0 }));
    points.push({ latencyMs: undefined as unknown as number, error: true });
    const s = summarizeWindow(points);
    expect(s.count).toBe(16);
    expect(s.errors).toBe(4);
    expect(s.errorRate).toBe(0.25);
    expect(s.p50Ms).toBe(5);
    expect(s.meanMs).toBeCloseTo(77 / 15, 12);
  });

  it('reports null quantiles and a zero error rate for an empty window', () => {
    expect(summarizeWindow([])).toEqual({
      count: 0,
      errors: 0,
      errorRate: 0,
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
      meanMs: null,
    });
  });
});
