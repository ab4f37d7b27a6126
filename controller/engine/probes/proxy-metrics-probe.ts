import { request } from 'undici';
import type { z } from 'zod';
import type { ProxyMetricsProbe as ProxyMetricsProbeSpec } from '../../../protocol/experiment-probes.ts';
import { type TrafficStats, WindowReport } from '../../../protocol/proxy.ts';
import { describeError, elapsedMs, type Probe, type ProbeSample, withTimeout } from './probe.ts';

/** How long the proxy admin API may take to answer, ms. */
const ADMIN_TIMEOUT_MS = 2000;

type Slice = z.infer<typeof ProxyMetricsProbeSpec>['slice'];

/** The traffic stats of one slice of a window report. */
export function pickSlice(report: WindowReport, slice: Slice): TrafficStats {
  if (slice === 'control' || slice === 'treatment') return report.cohorts[slice];
  return report[slice];
}

/**
 * Reads the proxy's own traffic stats over the last `window` through its admin API
 * (`GET {proxyAdmin}/faultline/proxies/{proxy}/window?seconds=N`, N = window rounded up to whole seconds).
 */
export function createProxyMetricsProbe(
  name: string,
  spec: z.infer<typeof ProxyMetricsProbeSpec>,
  proxyAdmin: string,
): Probe {
  const seconds = Math.max(1, Math.ceil(spec.window / 1000));
  const url = new URL(
    `faultline/proxies/${encodeURIComponent(spec.proxy)}/window?seconds=${seconds}`,
    proxyAdmin.endsWith('/') ? proxyAdmin : `${proxyAdmin}/`,
  );
  return {
    name,
    kind: 'proxyMetrics',
    async run(signal) {
      const at = Date.now();
      const start = process.hrtime.bigint();
      const base: ProbeSample = { probe: name, kind: 'proxyMetrics', ok: false, at };
      try {
        const res = await request(url, { signal: withTimeout(signal, ADMIN_TIMEOUT_MS) });
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          return {
            ...base,
            latencyMs: elapsedMs(start),
            error: `proxy admin answered ${res.statusCode}: ${text.slice(0, 200)}`,
          };
        }
        const parsed = WindowReport.safeParse(JSON.parse(text));
        if (!parsed.success) {
          return {
            ...base,
            latencyMs: elapsedMs(start),
            error: `proxy admin sent an unexpected window report: ${parsed.error.message.slice(0, 200)}`,
          };
        }
        return {
          ...base,
          ok: true,
          latencyMs: elapsedMs(start),
          window: parsed.data,
          slice: pickSlice(parsed.data, spec.slice),
        };
      } catch (err) {
        return {
          ...base,
          latencyMs: elapsedMs(start),
          error: `proxy admin ${url.origin}: ${describeError(err)}`,
        };
      }
    },
  };
}
