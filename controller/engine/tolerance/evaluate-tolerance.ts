import type { Tolerance } from '../../../protocol/experiment-tolerance.ts';
import type { ProbeCheck } from '../../../protocol/verdict.ts';
import type { ProbeSample } from '../probes/probe.ts';
import type { Baseline } from './baseline.ts';
import { type CheckResult, checkSample } from './sample-checks.ts';
import { checkErrorRate, checkLatency, latencyFiguresOf, latencyFiguresOfSlice } from './window-checks.ts';

/** A tolerance verdict on one sample: the `ProbeCheck` of the run's verdict without the probe name. */
export type ToleranceResult = Omit<ProbeCheck, 'probe'>;

/** With no tolerance written, the defaults still apply (transport ok, 2xx/3xx, exit 0). */
const DEFAULT_TOLERANCE: Tolerance = { window: 10_000 };

/** The history's samples inside the tolerance window ending at `sample`, plus `sample` itself. */
function windowOf(sample: ProbeSample, history: readonly ProbeSample[], windowMs: number): ProbeSample[] {
  const from = sample.at - windowMs;
  const points = history.filter((h) => h !== sample && h.at > from && h.at <= sample.at);
  points.push(sample);
  return points;
}

/**
 * Judges a probe sample against its tolerance.
 *
 * - Per-sample checks (checkSample): transport, status, body, headers, exit code, stdout, value.
 * - Window checks over `history` (this probe's earlier samples; those older than
 *   `tolerance.window` before `sample.at` are ignored, and `sample` is added if missing):
 *   latency statistics of the samples that reached their target, and the error rate = share of
 *   window samples failing their per-sample checks.
 * - When `errorRate` is given, single failing samples are tolerated up to that rate (they feed the
 *   rate instead of failing the tolerance); without it, every sample must pass its checks.
 * - proxyMetrics samples carry a window summary already: latency and error rate are the slice's.
 * - Relative limits (`"1.2x baseline"`) multiply the matching `baseline` figure (captureBaseline);
 *   without a baseline such a limit fails with a reason.
 */
export function evaluateTolerance(
  tolerance: Tolerance | undefined,
  sample: ProbeSample,
  history: readonly ProbeSample[],
  baseline: Baseline | undefined,
): ToleranceResult {
  const tol = tolerance ?? DEFAULT_TOLERANCE;
  const own = checkSample(tol, sample, baseline);
  const out: CheckResult = { reasons: [], observed: { ...own.observed } };
  if (sample.latencyMs !== undefined) out.observed.latencyMs = sample.latencyMs;

  if (sample.kind === 'proxyMetrics') {
    out.reasons.push(...own.reasons);
    if (sample.ok && sample.slice) {
      out.observed.requests = sample.slice.requests;
      checkLatency(tol, latencyFiguresOfSlice(sample.slice), baseline, out);
      checkErrorRate(tol, sample.slice.errors, sample.slice.requests, baseline, out);
    }
    return { ok: out.reasons.length === 0, reasons: out.reasons, observed: out.observed };
  }

  const points = windowOf(sample, history, tol.window);
  if (tol.errorRate) {
    const errors = points.filter((p) =>
      p === sample ? own.reasons.length > 0 : checkSample(tol, p, baseline).reasons.length > 0,
    );
    checkErrorRate(tol, errors.length, points.length, baseline, out);
    if (own.reasons.length > 0) out.observed.sampleFailure = own.reasons.join('; ');
  } else {
    out.reasons.push(...own.reasons);
  }
  if (tol.latencyMs) checkLatency(tol, latencyFiguresOf(points), baseline, out);
  return { ok: out.reasons.length === 0, reasons: out.reasons, observed: out.observed };
}
