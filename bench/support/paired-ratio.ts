import { median } from './report.ts';

/**
 * `a[i] ÷ b[i]` round by round, and the median of those ratios (rounds where either is missing or
 * not a number are left out of the median). Each round runs both peers within a minute or so of
 * each other, the fault pairs back to back; on these hosts one peer's req/s moved by up to 2 ×
 * between rounds, so a ratio paired within a round is steadier than a ratio of medians taken over
 * rounds minutes apart.
 */
export function pairedRatio(
  a: readonly number[],
  b: readonly number[],
): { median: number; perRound: number[] } {
  const perRound = a.map((x, i) => x / (b[i] ?? Number.NaN));
  return { median: median(perRound.filter(Number.isFinite)), perRound };
}
