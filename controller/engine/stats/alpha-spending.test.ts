import { describe, expect, it } from 'vitest';
import { nominalAlphaForLook, obrienFlemingSpent } from './alpha-spending.ts';

// Reference: α(t) = 2 − 2·scipy.stats.norm.cdf(norm.ppf(1 − 0.05/2)/√t) (gsDesign sfLDOF, alpha 0.05).
describe("O'Brien-Fleming-type alpha spending", () => {
  it('spends alpha slowly at first and all of it at the last look', () => {
    expect(obrienFlemingSpent(0.05, 0.25) / 8.857543832130332e-5).toBeCloseTo(1, 5);
    expect(obrienFlemingSpent(0.05, 0.5)).toBeCloseTo(0.005574596680784305, 7);
    expect(obrienFlemingSpent(0.05, 0.75)).toBeCloseTo(0.023625121317601305, 7);
    expect(obrienFlemingSpent(0.05, 1)).toBeCloseTo(0.05, 7);
  });

  it('gives each look the increment, summing to alpha, and nothing past maxLooks', () => {
    const levels = [1, 2, 3, 4].map((k) => nominalAlphaForLook(0.05, k, 4));
    expect(levels[1]).toBeCloseTo(0.005574596680784305 - 8.857543832130332e-5, 7);
    expect(levels.reduce((a, b) => a + b, 0)).toBeCloseTo(0.05, 7);
    expect(levels[0]!).toBeLessThan(levels[3]!);
    expect(nominalAlphaForLook(0.05, 5, 4)).toBe(0);
    expect(nominalAlphaForLook(0.05, 0, 4)).toBe(0);
  });

  it('with one look is the plain fixed-sample test', () => {
    expect(nominalAlphaForLook(0.01, 1, 1)).toBeCloseTo(0.01, 7);
  });
});
