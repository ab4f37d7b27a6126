import { z } from 'zod';
import { Duration, HttpUrl, RefName } from './experiment-fields.ts';
import { Tolerance } from './experiment-tolerance.ts';
import { HostPort, ProxyName } from './proxy.ts';

/** The steady-state probes of an experiment's hypothesis: one kind each, with its tolerance. */

export const HttpProbe = z.strictObject({
  url: HttpUrl,
  /** HTTP method. Default GET. */
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, 'expected an HTTP method such as GET')
    .default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  /** Per-request timeout in ms. Default 2000. */
  timeoutMs: z.number().int().positive().default(2000),
});

export const TcpProbe = z.strictObject({
  address: HostPort,
  /** Connect timeout in ms. Default 1000. */
  timeoutMs: z.number().int().positive().default(1000),
});

export const CommandProbe = z.strictObject({
  /** argv; no shell is involved. */
  run: z.array(z.string()).min(1),
  /** Kill the command after this many ms. Default 5000. */
  timeoutMs: z.number().int().positive().default(5000),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
});

export const PrometheusProbe = z.strictObject({
  /** Base URL of the Prometheus server; the probe calls `/api/v1/query`. */
  url: HttpUrl,
  query: z.string().min(1),
  timeoutMs: z.number().int().positive().default(2000),
});

export const MetricsSlice = z.enum(['all', 'faulted', 'clean', 'control', 'treatment']);

export const ProxyMetricsProbe = z.strictObject({
  proxy: ProxyName,
  /** Window the proxy's stats are read over. Default 10s. */
  window: Duration.default(10_000),
  slice: MetricsSlice.default('all'),
});

export const PROBE_KINDS = ['http', 'tcp', 'command', 'prometheus', 'proxyMetrics'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export const Probe = z
  .strictObject({
    name: RefName,
    http: HttpProbe.optional(),
    tcp: TcpProbe.optional(),
    command: CommandProbe.optional(),
    prometheus: PrometheusProbe.optional(),
    proxyMetrics: ProxyMetricsProbe.optional(),
    tolerance: Tolerance.optional(),
  })
  .superRefine((p, ctx) => {
    const kinds = PROBE_KINDS.filter((k) => p[k] !== undefined);
    if (kinds.length === 0) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${PROBE_KINDS.join(', ')}`, path: [] });
    } else if (kinds.length > 1) {
      // Point at the second kind: the first one is taken as what the author meant.
      ctx.addIssue({
        code: 'custom',
        message: `a probe has exactly one kind, got both \`${kinds[0]}\` and \`${kinds[1]}\``,
        path: [kinds[1]!],
        params: { at: 'key' },
      });
    }
  });
export type Probe = z.infer<typeof Probe>;
