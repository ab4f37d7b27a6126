import type { ProbeKind } from '../../../protocol/experiment-probes.ts';
import type { TrafficStats, WindowReport } from '../../../protocol/proxy.ts';

/**
 * One run of a probe. `ok` is transport-level success only (a response arrived, the connection
 * opened, the command ran to its end, the query answered with one number, the proxy answered):
 * whether the answer is *good* is the tolerance's job (tolerance/evaluate-tolerance.ts).
 */
export interface ProbeSample {
  probe: string;
  kind: ProbeKind;
  ok: boolean;
  /** Epoch ms when the run started. */
  at: number;
  /** Wall time of the run in ms (request to full body, connect, spawn to exit, query). */
  latencyMs?: number;
  /** Why `ok` is false, one line. */
  error?: string;
  /** HTTP status. */
  status?: number;
  /** HTTP response headers, names lower-case, repeated values joined with `, `. */
  headers?: Record<string, string>;
  /** HTTP response body as text, cut at {@link MAX_CAPTURE_BYTES}. */
  body?: string;
  /** Command exit code; null when it was killed by a signal. */
  exitCode?: number | null;
  /** Command stdout, cut at {@link MAX_CAPTURE_BYTES}. */
  stdout?: string;
  /** Prometheus query result. */
  value?: number;
  /** proxyMetrics: the whole report and the slice the probe reads. */
  window?: WindowReport;
  slice?: TrafficStats;
}

/** A probe of one kind, built once from the experiment and run many times. Never throws from `run`. */
export interface Probe {
  readonly name: string;
  readonly kind: ProbeKind;
  /** Runs the probe once; an aborted `signal` ends it early with `ok: false`. */
  run(signal: AbortSignal): Promise<ProbeSample>;
}

/** What probes need from the run besides their own spec. */
export interface ProbeContext {
  /** Base URL of the proxy admin API (`spec.proxyAdmin`, or the in-process proxy's), for proxyMetrics probes. */
  proxyAdmin?: string | undefined;
}

/** Most bytes of a body or stdout kept per sample (64 KiB): enough for a regex or JSONPath, bounded in memory. */
export const MAX_CAPTURE_BYTES = 64 * 1024;

/** Milliseconds since `startNs` (from `process.hrtime.bigint()`). */
export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

/** One-line message of anything thrown, with the cause's code when there is one (ECONNREFUSED...). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code;
    const name = err.name === 'Error' ? '' : `${err.name}: `;
    return typeof code === 'string' && !err.message.includes(code)
      ? `${name}${err.message} (${code})`
      : `${name}${err.message}`;
  }
  return String(err);
}

/** `parent` aborted or `timeoutMs` elapsed, whichever first. */
export function withTimeout(parent: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([parent, AbortSignal.timeout(timeoutMs)]);
}
