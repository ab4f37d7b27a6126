import { describe, expect, it } from 'vitest';
import { twoProportionZTest } from './two-proportion.ts';

// Reference: pooled z = (p_t − p_c)/√(p(1−p)(1/n_t+1/n_c)), p = scipy.stats.norm.sf(z)
// (same as statsmodels proportions_ztest(alternative="larger")).
describe('two-proportion z test', () => {
  it('finds 1.5 % vs 0.5 % over 1000 requests each significant at 5 %', () => {
    const r = twoProportionZTest({ requests: 1000, errors: 15 }, { requests: 1000, errors: 5 });
    expect(r.z).toBeCloseTo(2.247332874877473, 9);
    expect(r.pValue).toBeCloseTo(0.012309380690407611, 7);
    expect(r.difference).toBeCloseTo(0.01, 12);
  });

  it('gives a large p when the treatment has fewer errors than control', () => {
    const r = twoProportionZTest({ requests: 500, errors: 20 }, { requests: 500, errors: 30 });
    expect(r.z).toBeCloseTo(-1.4509525002200232, 9);
    expect(r.pValue).toBeCloseTo(0.9266034563457145, 6);
  });

  it('returns p = 1 when no request failed or a cohort is empty', () => {
    expect(twoProportionZTest({ requests: 100, errors: 0 }, { requests: 100, errors: 0 }).pValue).toBe(1);
    expect(twoProportionZTest({ requests: 0, errors: 0 }, { requests: 100, errors: 3 }).pValue).toBe(1);
  });
});
