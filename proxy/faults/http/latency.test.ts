import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../protocol/seeded-random.ts';
import { LatencyParams, sampleDelayMs } from './latency.ts';

const draw = (input: unknown, n = 2000) => {
  const p = LatencyParams.parse(input);
  const random = seededRandom(1);
  return Array.from({ length: n }, () => sampleDelayMs(p, random));
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('latency params and sampling', () => {
  it('defaults to a fixed delay with ± jitter', () => {
    expect(draw({ delayMs: 50 }, 5)).toEqual([50, 50, 50, 50, 50]);
    const xs = draw({ delayMs: 100, jitterMs: 20 });
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...xs)).toBeLessThanOrEqual(120);
    expect(mean(xs)).toBeCloseTo(100, 0);
  });

  it('draws normal, pareto and uniform delays with the right centre, never below 0, capped by maxMs', () => {
    const normal = draw({ distribution: 'normal', meanMs: 100, stddevMs: 10 });
    expect(mean(normal)).toBeGreaterThan(98);
    expect(mean(normal)).toBeLessThan(102);
    expect(Math.min(...draw({ distribution: 'normal', meanMs: 0, stddevMs: 50 }))).toBe(0);
    const pareto = draw({ distribution: 'pareto', scaleMs: 10, shape: 2, maxMs: 500 });
    expect(Math.min(...pareto)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...pareto)).toBeLessThanOrEqual(500);
    const uniform = draw({ distribution: 'uniform', minMs: 20, maxMs: 40 });
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...uniform)).toBeLessThan(40);
  });

  it('rejects unknown fields, negative delays and an inverted uniform range', () => {
    expect(LatencyParams.safeParse({ delayMs: 5, extra: 1 }).success).toBe(false);
    expect(LatencyParams.safeParse({ delayMs: -1 }).success).toBe(false);
    expect(LatencyParams.safeParse({ distribution: 'uniform', minMs: 5, maxMs: 1 }).success).toBe(false);
    expect(LatencyParams.safeParse({ distribution: 'normal', meanMs: 5 }).success).toBe(false);
  });
});
