import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile, normalSf } from './normal.ts';

// Reference values: scipy.stats.norm.sf / norm.ppf (scipy 1.17).
describe('standard normal helpers', () => {
  it('gives upper-tail probabilities that match scipy to 1e-7 relative', () => {
    expect(normalSf(1.96)).toBeCloseTo(0.024997895148220435, 8);
    expect(normalSf(-1)).toBeCloseTo(0.8413447460685429, 7);
    expect(normalSf(3.5) / 0.00023262907903552502).toBeCloseTo(1, 6);
    expect(normalSf(6) / 9.865876450376946e-10).toBeCloseTo(1, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
  });

  it('inverts the cdf, including far tails', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(1e-6)).toBeCloseTo(-4.753424308822899, 7);
    expect(normalQuantile(0.3)).toBeCloseTo(-0.5244005127080409, 8);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
  });
});
