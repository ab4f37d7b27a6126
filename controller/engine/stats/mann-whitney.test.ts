import { describe, expect, it } from 'vitest';
import { mannWhitneyU } from './mann-whitney.ts';

// Reference values from scipy 1.17:
//   stats.mannwhitneyu(treatment, control, alternative=..., method="asymptotic", use_continuity=True)
describe('Mann-Whitney U test', () => {
  const treatment = [12, 15, 11, 18, 20, 14, 16, 19];
  const control = [10, 11, 13, 9, 12, 14, 10, 11, 13];

  it('matches scipy with ties, two-sided and one-sided', () => {
    const two = mannWhitneyU(treatment, control, 'two-sided');
    expect(two.u).toBe(63);
    expect(two.pValue).toBeCloseTo(0.010390477623239318, 6);
    const greater = mannWhitneyU(treatment, control, 'greater');
    expect(greater.u).toBe(63);
    expect(greater.pValue).toBeCloseTo(0.005195238811619659, 6);
  });

  it('gives a one-sided p near 1 when the treatment is smaller', () => {
    // scipy alternative="less" on the same data is 0.99608; "greater" with the groups swapped is the same test.
    const swapped = mannWhitneyU(control, treatment, 'greater');
    expect(swapped.pValue).toBeCloseTo(0.9960843331678018, 6);
  });

  it('matches scipy without ties', () => {
    const a = [1.1, 2.2, 3.3, 4.4, 5.5];
    const b = [0.5, 1.5, 2.5, 3.5];
    expect(mannWhitneyU(a, b, 'two-sided').pValue).toBeCloseTo(0.3912672792826394, 6);
    expect(mannWhitneyU(a, b, 'greater').pValue).toBeCloseTo(0.1956336396413197, 6);
    expect(mannWhitneyU(a, b).u).toBe(14);
  });

  it('returns p = 1 for empty groups and for groups of identical values', () => {
    expect(mannWhitneyU([], [1, 2, 3], 'greater').pValue).toBe(1);
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5], 'two-sided').pValue).toBe(1);
  });
});
