import type { Tolerance } from '../../../protocol/experiment-tolerance.ts';
import type { ProbeSample } from '../probes/probe.ts';
import { QUANTILES, quantileSorted } from '../stats/sliding-window.ts';
import { checkSample } from './sample-checks.ts';

/** Latency statistics a tolerance can bound (keys of the schema's `latencyMs`). */
export const LATENCY_STATS = ['p50', 'p90', 'p95', 'p99', 'p999', 'mean', 'max'] as const;
export type LatencyStat = (typeof LATENCY_STATS)[number];

/**
 * What "baseline" means in `"1.2x baseline"`: the probe's figures measured during
 * steady-state-before, before any fault. Missing entries had no data.
 */
export interface Baseline {
  /** Samples it was made from. */
  samples: number;
  /** Latency statistics in ms. */
  latencyMs: Partial<Record<LatencyStat, number>>;
  /** Error rate 0-1. */
  errorRate?: number;
  /** Median Prometheus value. */
  value?: number;
}

function median(values: number[]): number | undefined {
  return quantileSorted(
    values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b),
    0.5,
  );
}

function latencyStat(sorted: number[], stat: LatencyStat): number | undefined {
  if (sorted.length === 0) return undefined;
  if (stat === 'mean') return sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return quantileSorted(sorted, QUANTILES[stat]);
}

/**
 * Captures a probe's baseline from its steady-state-before samples.
 * Direct probes (http, tcp, command, prometheus): latency statistics over the latencies of all
 * samples that reached their target; error rate = share of samples failing the tolerance's
 * per-sample checks (relative limits skipped: there is no baseline yet); value = median.
 * proxyMetrics probes: each sample is already a window summary, so the baseline is the median of
 * each reported statistic (p50, p95, p99, mean, error rate) across samples.
 */
export function captureBaseline(samples: readonly ProbeSample[], tolerance?: Tolerance): Baseline {
  const isError = (s: ProbeSample) =>
    checkSample(tolerance ?? { window: 10_000 }, s, undefined, { skipRelative: true }).reasons.length > 0;
  const baseline: Baseline = { samples: samples.length, latencyMs: {} };
  if (samples.length === 0) return baseline;
  const set = (stat: LatencyStat, v: number | undefined) => {
    if (v !== undefined) baseline.latencyMs[stat] = v;
  };
  const slices = samples.flatMap((s) => (s.slice ? [s.slice] : []));
  if (slices.length > 0) {
    const pick = (f: (x: (typeof slices)[number]) => number | null) =>
      median(slices.map(f).filter((v): v is number => v !== null));
    set(
      'p50',
      pick((s) => s.p50Ms),
    );
    set(
      'p95',
      pick((s) => s.p95Ms),
    );
    set(
      'p99',
      pick((s) => s.p99Ms),
    );
    set(
      'mean',
      pick((s) => s.meanMs),
    );
    const rate = median(slices.filter((s) => s.requests > 0).map((s) => s.errorRate));
    if (rate !== undefined) baseline.errorRate = rate;
    return baseline;
  }
  const latencies = samples
    .filter((s) => s.ok && s.latencyMs !== undefined)
    .map((s) => s.latencyMs!)
    .sort((a, b) => a - b);
  for (const stat of LATENCY_STATS) set(stat, latencyStat(latencies, stat));
  baseline.errorRate = samples.filter(isError).length / samples.length;
  const value = median(samples.flatMap((s) => (s.value === undefined ? [] : [s.value])));
  if (value !== undefined) baseline.value = value;
  return baseline;
}
