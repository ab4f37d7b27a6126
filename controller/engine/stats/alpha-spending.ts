import { normalQuantile, normalSf } from './normal.ts';

/**
 * Sequential checking without inflating false positives. A guard looks at the cohorts again and
 * again (every `every`); testing each look at the full alpha would call a regression on noise far
 * more often than alpha. We use the Lan-DeMets O'Brien-Fleming-type alpha-spending function
 *
 *   α(t) = 2 − 2Φ(z_{1−α/2} / √t),   t = look / maxLooks (information fraction, 0 < t ≤ 1)
 *
 * (gsDesign `sfLDOF`), and test look k at the nominal level α(t_k) − α(t_{k−1}) — the alpha spent
 * between the previous look and this one. By the union bound the chance of any false positive
 * over all looks is at most Σ(α(t_k) − α(t_{k−1})) = α, whatever the correlation between looks
 * (so overlapping sliding windows are fine). It is conservative: exact group-sequential boundaries
 * would use the correlation to give slightly more power. Early looks spend almost nothing, so only
 * a clear breach aborts early; the last looks have nearly the full alpha.
 * Looks beyond `maxLooks` have no alpha left (nominal level 0).
 */
export function obrienFlemingSpent(alpha: number, informationFraction: number): number {
  if (informationFraction <= 0) return 0;
  const t = Math.min(1, informationFraction);
  return Math.min(alpha, 2 * normalSf(normalQuantile(1 - alpha / 2) / Math.sqrt(t)));
}

/** Nominal significance level for look `look` (1-based) of at most `maxLooks`. */
export function nominalAlphaForLook(alpha: number, look: number, maxLooks: number): number {
  if (!(maxLooks >= 1) || look < 1 || look > maxLooks) return 0;
  const k = Math.floor(look);
  return Math.max(0, obrienFlemingSpent(alpha, k / maxLooks) - obrienFlemingSpent(alpha, (k - 1) / maxLooks));
}
