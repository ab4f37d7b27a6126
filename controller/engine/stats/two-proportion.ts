import { normalSf } from './normal.ts';

/** Requests and failed requests of one cohort. */
export interface ProportionCounts {
  requests: number;
  errors: number;
}

export interface TwoProportionResult {
  /** Treatment error rate minus control error rate (0-1 scale). */
  difference: number;
  z: number;
  pValue: number;
}

/**
 * One-sided pooled two-proportion z test: is the treatment error rate greater than the control's?
 * H0: p_t = p_c, z = (p̂_t − p̂_c) / √(p̂(1 − p̂)(1/n_t + 1/n_c)) with the pooled p̂
 * (statsmodels `proportions_ztest(..., alternative="larger")`). Assumes independent requests and
 * enough of them for the normal approximation (n·p and n·(1 − p) ≳ 5 per cohort).
 * With no errors at all (or only errors) there is no evidence either way: p = 1.
 */
export function twoProportionZTest(
  treatment: ProportionCounts,
  control: ProportionCounts,
): TwoProportionResult {
  if (treatment.requests <= 0 || control.requests <= 0) return { difference: 0, z: 0, pValue: 1 };
  const pt = treatment.errors / treatment.requests;
  const pc = control.errors / control.requests;
  const pooled = (treatment.errors + control.errors) / (treatment.requests + control.requests);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / treatment.requests + 1 / control.requests));
  if (!(se > 0)) return { difference: pt - pc, z: 0, pValue: 1 };
  const z = (pt - pc) / se;
  return { difference: pt - pc, z, pValue: Math.min(1, normalSf(z)) };
}
