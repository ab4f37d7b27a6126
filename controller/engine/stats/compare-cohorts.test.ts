import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../protocol/seeded-random.ts';
import { compareCohorts } from './compare-cohorts.ts';
import { mannWhitneyU } from './mann-whitney.ts';

/** Normals by Box-Muller over the seeded PRNG, so the simulations are reproducible. */
function normals(rand: () => number, n: number, mean: number, sd: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12);
    out.push(mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand()));
  }
  return out;
}

describe('cohort comparison', () => {
  it('calls a 5 ms latency shift a regression and leaves equal cohorts alone', () => {
    const rand = seededRandom(1);
    const control = normals(rand, 400, 50, 8);
    const shifted = normals(rand, 400, 55, 8);
    const same = normals(rand, 400, 50, 8);
    const hit = compareCohorts({
      metric: 'latency',
      control,
      treatment: shifted,
      alpha: 0.05,
      minSamples: 50,
    });
    expect(hit.decision).toBe('regression');
    expect(hit.effect).toBeGreaterThan(3);
    expect(hit.pValue).toBeLessThan(1e-6);
    const miss = compareCohorts({ metric: 'latency', control, treatment: same, alpha: 0.05, minSamples: 50 });
    expect(miss.decision).toBe('no-regression');
  });

  it('is inconclusive below minSamples and respects the practical-significance floor', () => {
    const rand = seededRandom(2);
    const control = normals(rand, 400, 50, 8);
    const shifted = normals(rand, 400, 55, 8);
    const few = compareCohorts({
      metric: 'latency',
      control: control.slice(0, 10),
      treatment: shifted,
      alpha: 0.05,
      minSamples: 50,
    });
    expect(few).toMatchObject({ decision: 'inconclusive', n: { control: 10, treatment: 400 } });
    const floor = compareCohorts({
      metric: 'latency',
      control,
      treatment: shifted,
      alpha: 0.05,
      minSamples: 50,
      minEffectMs: 20,
    });
    expect(floor.decision).toBe('no-regression');
  });

  it('compares error rates with the one-sided two-proportion test', () => {
    const worse = compareCohorts({
      metric: 'errorRate',
      control: { requests: 1000, errors: 5 },
      treatment: { requests: 1000, errors: 15 },
      alpha: 0.05,
      minSamples: 100,
    });
    expect(worse.decision).toBe('regression');
    expect(worse.pValue).toBeCloseTo(0.012309380690407611, 7);
    expect(worse.effect).toBeCloseTo(0.01, 12);
    const better = compareCohorts({
      metric: 'errorRate',
      control: { requests: 1000, errors: 15 },
      treatment: { requests: 1000, errors: 5 },
      alpha: 0.05,
      minSamples: 100,
    });
    expect(better.decision).toBe('no-regression');
  });

  it('aborts early only on a clear breach: an early look needs a far smaller p', () => {
    const base = {
      metric: 'errorRate',
      control: { requests: 2000, errors: 10 },
      treatment: { requests: 2000, errors: 30 },
      alpha: 0.05,
      minSamples: 100,
    } as const;
    // p ≈ 7e-4: below the last of 10 looks' level (≈ 0.011) but far above the first's (≈ 5.7e-10).
    expect(compareCohorts({ ...base, look: 1, maxLooks: 10 }).decision).toBe('no-regression');
    expect(compareCohorts({ ...base, look: 10, maxLooks: 10 }).decision).toBe('regression');
    const clear = { ...base, treatment: { requests: 2000, errors: 200 } };
    expect(compareCohorts({ ...clear, look: 1, maxLooks: 10 }).decision).toBe('regression');
  });

  it('keeps the false-positive rate under alpha across repeated looks, where naive looks inflate it', () => {
    const rand = seededRandom(42);
    const runs = 300;
    const maxLooks = 8;
    let sequentialHits = 0;
    let naiveHits = 0;
    for (let r = 0; r < runs; r++) {
      const control = normals(rand, 40 * maxLooks, 100, 10);
      const treatment = normals(rand, 40 * maxLooks, 100, 10);
      let seq = false;
      let naive = false;
      for (let look = 1; look <= maxLooks; look++) {
        const c = control.slice(0, 40 * look);
        const t = treatment.slice(0, 40 * look);
        const d = compareCohorts({
          metric: 'latency',
          control: c,
          treatment: t,
          alpha: 0.05,
          minSamples: 20,
          look,
          maxLooks,
        });
        if (d.decision === 'regression') seq = true;
        if (mannWhitneyU(t, c, 'greater').pValue <= 0.05) naive = true;
      }
      if (seq) sequentialHits++;
      if (naive) naiveHits++;
    }
    // Expected ≈ 0.05·300 = 15 for a valid procedure (binomial sd ≈ 3.8); naive looks give ≈ 0.12-0.15.
    expect(sequentialHits / runs).toBeLessThanOrEqual(0.07);
    expect(naiveHits).toBeGreaterThan(sequentialHits);
    expect(naiveHits / runs).toBeGreaterThan(0.08);
  });
});
