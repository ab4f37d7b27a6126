import type { Tolerance } from '../../../protocol/experiment-tolerance.ts';
import type { TrafficStats } from '../../../protocol/proxy.ts';
import type { ProbeSample } from '../probes/probe.ts';
import { QUANTILES, quantileSorted } from '../stats/sliding-window.ts';
import { type Baseline, LATENCY_STATS, type LatencyStat } from './baseline.ts';
import { fmt, resolveLimit } from './limit.ts';
import type { CheckResult } from './sample-checks.ts';

/** Latency statistics of a window: probe latencies (direct probes) or the proxy's slice (proxyMetrics). */
export type LatencyFigures = Partial<Record<LatencyStat, number | null>>;

/** Statistics of the latencies in ms of the window's samples that reached their target. */
export function latencyFiguresOf(points: readonly ProbeSample[]): LatencyFigures {
  const sorted = points
    .filter((p) => p.ok && p.latencyMs !== undefined)
    .map((p) => p.latencyMs!)
    .sort((a, b) => a - b);
  const figures: LatencyFigures = {};
  for (const stat of LATENCY_STATS) {
    if (sorted.length === 0) figures[stat] = null;
    else if (stat === 'mean') figures[stat] = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    else figures[stat] = quantileSorted(sorted, QUANTILES[stat])!;
  }
  return figures;
}

/** The proxy reports p50, p95, p99 and mean only; other statistics stay undefined (= unsupported). */
export function latencyFiguresOfSlice(slice: TrafficStats): LatencyFigures {
  return { p50: slice.p50Ms, p95: slice.p95Ms, p99: slice.p99Ms, mean: slice.meanMs };
}

/**
 * Latency bounds over the window. `null` figures mean the window held no latency at all (e.g. no
 * requests in a proxy slice yet): nothing to hold against, so they pass and show as `no data`.
 */
export function checkLatency(
  tol: Tolerance,
  figures: LatencyFigures,
  baseline: Baseline | undefined,
  out: CheckResult,
): void {
  for (const stat of LATENCY_STATS) {
    const bound = tol.latencyMs?.[stat];
    if (!bound) continue;
    const key = `latencyMs.${stat}`;
    const observed = figures[stat];
    if (observed === undefined) {
      out.reasons.push(
        `${stat} latency is not reported by this probe (the proxy reports p50, p95, p99, mean)`,
      );
      continue;
    }
    if (observed === null) {
      out.observed[key] = 'no data';
      continue;
    }
    out.observed[key] = observed;
    for (const side of ['min', 'max'] as const) {
      const limit = bound[side];
      if (limit === undefined) continue;
      const r = resolveLimit(limit, baseline?.latencyMs[stat], ' ms');
      if ('error' in r) out.reasons.push(`${stat} latency ${side}: ${r.error}`);
      else if (side === 'max' ? observed > r.value : observed < r.value) {
        out.reasons.push(
          `${stat} latency ${fmt(observed)} ms ${side === 'max' ? '>' : '<'} ${side} ${r.text}`,
        );
      }
    }
  }
}

/** Error-rate bound (0-1) over the window: `errors` failed of `count` samples or requests. */
export function checkErrorRate(
  tol: Tolerance,
  errors: number,
  count: number,
  baseline: Baseline | undefined,
  out: CheckResult,
): void {
  if (!tol.errorRate) return;
  const errorRate = count === 0 ? 0 : errors / count;
  out.observed.errorRate = errorRate;
  out.observed.windowCount = count;
  const r = resolveLimit(tol.errorRate.max, baseline?.errorRate);
  if ('error' in r) out.reasons.push(`error rate max: ${r.error}`);
  else if (errorRate > r.value) {
    out.reasons.push(`error rate ${fmt(errorRate)} (${errors} of ${count}) > max ${r.text}`);
  }
}
