import { request } from 'undici';
import type { z } from 'zod';
import type { PrometheusProbe as PrometheusProbeSpec } from '../../../protocol/experiment-probes.ts';
import { describeError, elapsedMs, type Probe, type ProbeSample, withTimeout } from './probe.ts';

type QueryAnswer =
  | { status: 'success'; data: { resultType: string; result: unknown } }
  | { status: 'error'; errorType?: string; error?: string };

/**
 * Reads a single number from an instant query (`GET {url}/api/v1/query?query=...`): a scalar, or
 * an instant vector with exactly one series. Anything else is `ok: false` with a message that says
 * what came back (no series, several series to aggregate, NaN, a PromQL error).
 */
export function parseQueryAnswer(answer: QueryAnswer): { value: number } | { error: string } {
  if (answer.status !== 'success') {
    return { error: `prometheus: ${answer.errorType ?? 'error'}: ${answer.error ?? 'no message'}` };
  }
  const { resultType, result } = answer.data;
  let raw: unknown;
  if (resultType === 'scalar') raw = (result as [number, string])[1];
  else if (resultType === 'vector') {
    const series = result as { metric: Record<string, string>; value: [number, string] }[];
    if (series.length === 0) return { error: 'query returned no series (is the metric scraped yet?)' };
    if (series.length > 1) {
      return { error: `query returned ${series.length} series; aggregate it to one, e.g. sum(...)` };
    }
    raw = series[0]!.value[1];
  } else return { error: `query returned a ${resultType}; expected an instant vector or a scalar` };
  const value = Number(raw);
  if (Number.isNaN(value)) return { error: 'query returned NaN (e.g. a rate or ratio over no data)' };
  return { value };
}

export function createPrometheusProbe(name: string, spec: z.infer<typeof PrometheusProbeSpec>): Probe {
  const url = new URL('api/v1/query', spec.url.endsWith('/') ? spec.url : `${spec.url}/`);
  url.searchParams.set('query', spec.query);
  return {
    name,
    kind: 'prometheus',
    async run(signal) {
      const at = Date.now();
      const start = process.hrtime.bigint();
      const base: ProbeSample = { probe: name, kind: 'prometheus', ok: false, at };
      try {
        const res = await request(url, {
          signal: withTimeout(signal, spec.timeoutMs),
          headersTimeout: spec.timeoutMs,
        });
        const text = await res.body.text();
        let answer: QueryAnswer;
        try {
          answer = JSON.parse(text) as QueryAnswer;
        } catch {
          return {
            ...base,
            latencyMs: elapsedMs(start),
            error: `prometheus answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`,
          };
        }
        const parsed = parseQueryAnswer(answer);
        return 'value' in parsed
          ? { ...base, ok: true, latencyMs: elapsedMs(start), value: parsed.value }
          : { ...base, latencyMs: elapsedMs(start), error: parsed.error };
      } catch (err) {
        const timedOut = !signal.aborted && elapsedMs(start) >= spec.timeoutMs - 1;
        return {
          ...base,
          latencyMs: elapsedMs(start),
          error: timedOut
            ? `prometheus did not answer within ${spec.timeoutMs} ms`
            : `prometheus: ${describeError(err)}`,
        };
      }
    },
  };
}
