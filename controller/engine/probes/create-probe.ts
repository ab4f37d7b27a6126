import { FaultlineError } from '../../../protocol/errors.ts';
import type { Probe as ProbeSpec } from '../../../protocol/experiment-probes.ts';
import { createCommandProbe } from './command-probe.ts';
import { createHttpProbe } from './http-probe.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { createPrometheusProbe } from './prometheus-probe.ts';
import { createProxyMetricsProbe } from './proxy-metrics-probe.ts';
import { createTcpProbe } from './tcp-probe.ts';

/** Builds the runnable probe for a parsed experiment probe (exactly one kind is set; the schema checks it). */
export function createProbe(spec: ProbeSpec, ctx: ProbeContext): Probe {
  if (spec.http) return createHttpProbe(spec.name, spec.http);
  if (spec.tcp) return createTcpProbe(spec.name, spec.tcp);
  if (spec.command) return createCommandProbe(spec.name, spec.command);
  if (spec.prometheus) return createPrometheusProbe(spec.name, spec.prometheus);
  if (spec.proxyMetrics) {
    if (!ctx.proxyAdmin) {
      throw new FaultlineError(
        'INVALID_EXPERIMENT',
        `probe ${spec.name} reads proxy metrics but no proxy admin URL is known (set spec.proxyAdmin or declare spec.proxies)`,
        { probe: spec.name },
      );
    }
    return createProxyMetricsProbe(spec.name, spec.proxyMetrics, ctx.proxyAdmin);
  }
  throw new FaultlineError('INVALID_EXPERIMENT', `probe ${spec.name} has no kind`, { probe: spec.name });
}
