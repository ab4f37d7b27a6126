import type { WindowReport } from '../../../protocol/proxy.ts';
import { nominalAlphaForLook } from './alpha-spending.ts';
import { mannWhitneyU } from './mann-whitney.ts';
import { quantileSorted } from './sliding-window.ts';
import { type ProportionCounts, twoProportionZTest } from './two-proportion.ts';

export const COMPARE_DECISIONS = ['regression', 'no-regression', 'inconclusive'] as const;
export type CompareDecision = (typeof COMPARE_DECISIONS)[number];

/** Options shared by both metrics of {@link compareCohorts}. */
interface CompareOptions {
  /** Overall one-sided false-positive rate across all looks, e.g. 0.05. */
  alpha: number;
  /** Fewest observations each cohort needs (latency samples or requests) before deciding. */
  minSamples: number;
  /** Practical-significance floor for latency, in ms: a smaller median shift is never a regression. Default 0. */
  minEffectMs?: number | undefined;
  /** 1-based number of this look. Default 1. */
  look?: number | undefined;
  /** Most looks planned; alpha is spent across them (see alpha-spending.ts). Default 1 (a single fixed test). */
  maxLooks?: number | undefined;
}

/** Latency: raw samples in ms per cohort, compared with a one-sided Mann-Whitney U test. */
export interface LatencyComparison extends CompareOptions {
  metric: 'latency';
  control: readonly number[];
  treatment: readonly number[];
}

/** Error rate: request and error counts per cohort, compared with a one-sided two-proportion z test. */
export interface ErrorRateComparison extends CompareOptions {
  metric: 'errorRate';
  control: ProportionCounts;
  treatment: ProportionCounts;
}

export type CompareCohortsInput = LatencyComparison | ErrorRateComparison;

export interface CompareCohortsResult {
  decision: CompareDecision;
  /** One-sided p-value of "treatment is worse than control"; 1 when not computed. */
  pValue: number;
  /** Nominal level this look was tested at (the alpha spent on it). */
  threshold: number;
  /** Latency: treatment median − control median (ms). Error rate: treatment rate − control rate (0-1). */
  effect: number;
  /** Observations per cohort (latency samples or requests). */
  n: { control: number; treatment: number };
}

function median(values: readonly number[]): number {
  return (
    quantileSorted(
      [...values].sort((a, b) => a - b),
      0.5,
    ) ?? Number.NaN
  );
}

/** Either cohort is empty or below the minimum sample count. */
function tooFew(n: { control: number; treatment: number }, minSamples: number): boolean {
  return Math.min(n.control, n.treatment) < Math.max(minSamples, 1);
}

/**
 * Is the treatment cohort worse than control? `regression` when the one-sided test is significant
 * at this look's share of alpha and (latency) the median shift is at least `minEffectMs`;
 * `inconclusive` while either cohort has fewer than `minSamples` observations; otherwise
 * `no-regression` (no evidence at this look — a later look may still find one).
 */
export function compareCohorts(input: CompareCohortsInput): CompareCohortsResult {
  const threshold = nominalAlphaForLook(input.alpha, input.look ?? 1, input.maxLooks ?? 1);
  if (input.metric === 'latency') {
    const n = { control: input.control.length, treatment: input.treatment.length };
    if (tooFew(n, input.minSamples)) return { decision: 'inconclusive', pValue: 1, threshold, effect: 0, n };
    const effect = median(input.treatment) - median(input.control);
    const { pValue } = mannWhitneyU(input.treatment, input.control, 'greater');
    const significant = pValue <= threshold && effect >= (input.minEffectMs ?? 0) && effect > 0;
    return { decision: significant ? 'regression' : 'no-regression', pValue, threshold, effect, n };
  }
  const n = { control: input.control.requests, treatment: input.treatment.requests };
  if (tooFew(n, input.minSamples)) return { decision: 'inconclusive', pValue: 1, threshold, effect: 0, n };
  const { pValue, difference } = twoProportionZTest(input.treatment, input.control);
  const significant = pValue <= threshold && difference > 0;
  return { decision: significant ? 'regression' : 'no-regression', pValue, threshold, effect: difference, n };
}

/** Cohort data of a proxy window report, for {@link compareCohorts}. Latency needs the report's raw `samples`. */
export function cohortsFromWindow(report: WindowReport): {
  latency: { control: number[]; treatment: number[] } | undefined;
  errorRate: { control: ProportionCounts; treatment: ProportionCounts };
} {
  const { control, treatment } = report.cohorts;
  return {
    latency: report.samples
      ? { control: report.samples.control, treatment: report.samples.treatment }
      : undefined,
    errorRate: {
      control: { requests: control.requests, errors: control.errors },
      treatment: { requests: treatment.requests, errors: treatment.errors },
    },
  };
}
