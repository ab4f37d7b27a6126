import { describe, expect, it } from 'vitest';
import { pairedRatio } from './paired-ratio.ts';

describe('pairedRatio', () => {
  it('takes the median of the per-round ratios, not the ratio of the medians', () => {
    // Both peers slow down together in round 2; the paired ratio sees a steady 0.5.
    const { median, perRound } = pairedRatio([10, 2, 12], [20, 4, 24]);
    expect(perRound).toEqual([0.5, 0.5, 0.5]);
    expect(median).toBe(0.5);
    // With b slower in round 3 alone, the ratio of medians would be 11 ÷ 40; the paired median stays 0.5.
    expect(pairedRatio([10, 30, 11], [20, 60, 40]).median).toBe(0.5);
  });

  it('leaves out rounds where one side did not run', () => {
    const { median, perRound } = pairedRatio([10, 10, 9], [10, 0, Number.NaN]);
    expect(perRound[0]).toBe(1);
    expect(median).toBe(1);
  });

  it('gives NaN when no round has both sides', () => {
    expect(pairedRatio([], [1]).median).toBeNaN();
  });
});
