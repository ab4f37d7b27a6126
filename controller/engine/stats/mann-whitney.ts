import { normalSf } from './normal.ts';

/**
 * Mann-Whitney U test (Wilcoxon rank-sum), normal approximation with tie correction and
 * continuity correction — the same numbers as
 * `scipy.stats.mannwhitneyu(treatment, control, alternative, method="asymptotic", use_continuity=True)`.
 * Assumes independent observations; the approximation is good once both groups have ~20+ values.
 */

export const MANN_WHITNEY_ALTERNATIVES = ['two-sided', 'greater'] as const;
/** `greater`: treatment values tend to be larger than control values (one-sided). */
export type MannWhitneyAlternative = (typeof MANN_WHITNEY_ALTERNATIVES)[number];

export interface MannWhitneyResult {
  /** U statistic of the treatment group: pairs (t, c) with t > c, ties counting ½. */
  u: number;
  /** Continuity-corrected z score of the reported tail. */
  z: number;
  pValue: number;
  nTreatment: number;
  nControl: number;
}

/** Average ranks (1-based) of `values`, ties sharing their mean rank; also Σ(t³ − t) over tie groups. */
function rankWithTies(values: readonly number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  let tieTerm = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { ranks, tieTerm };
}

/** Tests whether `treatment` differs from (two-sided) or exceeds (`greater`) `control`. */
export function mannWhitneyU(
  treatment: readonly number[],
  control: readonly number[],
  alternative: MannWhitneyAlternative = 'two-sided',
): MannWhitneyResult {
  const n1 = treatment.length;
  const n2 = control.length;
  if (n1 === 0 || n2 === 0) return { u: Number.NaN, z: Number.NaN, pValue: 1, nTreatment: n1, nControl: n2 };
  const { ranks, tieTerm } = rankWithTies([...treatment, ...control]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { u: u1, z: 0, pValue: 1, nTreatment: n1, nControl: n2 };
  const sd = Math.sqrt(variance);
  if (alternative === 'greater') {
    const z = (u1 - mu - 0.5) / sd;
    return { u: u1, z, pValue: Math.min(1, normalSf(z)), nTreatment: n1, nControl: n2 };
  }
  const uMax = Math.max(u1, n1 * n2 - u1);
  const z = (uMax - mu - 0.5) / sd;
  return { u: u1, z, pValue: Math.min(1, 2 * normalSf(z)), nTreatment: n1, nControl: n2 };
}
