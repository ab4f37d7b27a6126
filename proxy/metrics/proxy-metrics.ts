import type { WindowReport } from '../../protocol/proxy.ts';
import type { FaultStore } from '../fault-store.ts';
import type { UpstreamPoolStats } from '../listener.ts';
import { BucketHistogram } from './bucket-histogram.ts';
import {
  ERROR_OUTCOMES,
  type ExchangeRecord,
  type MetricsSink,
  OUTCOMES,
  type Outcome,
} from './metrics-sink.ts';
import { PrometheusText } from './prometheus-text.ts';
import { TrafficWindow, type TrafficWindowOptions } from './traffic-window.ts';

const OUTCOME_INDEX = Object.fromEntries(OUTCOMES.map((o, i) => [o, i])) as Record<Outcome, number>;

/** One sample of `metric` per outcome, with `labels` plus `outcome`; `counts` is indexed like OUTCOMES. */
function sampleOutcomes(
  out: PrometheusText,
  metric: string,
  labels: Record<string, string>,
  counts: Float64Array,
): void {
  for (const o of OUTCOMES) out.sample(metric, { ...labels, outcome: o }, counts[OUTCOME_INDEX[o]]!);
}

export interface ProxyMetricsOptions {
  /** Options of each proxy's time window (by default a 300 s ring, 500 raw samples per cohort per second). */
  window?: TrafficWindowOptions;
  /**
   * Most per-fault series kept per proxy; the oldest fault's series is dropped past this, so a
   * long-running proxy that sees thousands of short faults keeps bounded memory. Default 500.
   */
  maxFaultSeries?: number;
}

/** What metrics reads from the proxies it reports on. `ProxyManager` fits. */
export interface MetricsSource {
  faults: Pick<FaultStore, 'forProxy' | 'on'>;
  list(): readonly { name: string; upstreamPool?: UpstreamPoolStats }[];
}

/** One fault's share of its proxy's series: every exchange it acted on counts here in full. */
interface FaultStats {
  type: string;
  affected: number;
  /** Exchanges it acted on, by outcome (indexed like OUTCOMES), as the proxy's `outcomes`. */
  outcomes: Float64Array;
  bytesIn: number;
  bytesOut: number;
  latency: BucketHistogram;
}

interface ProxyStats {
  outcomes: Float64Array;
  bytesIn: number;
  bytesOut: number;
  connections: number;
  latency: BucketHistogram;
  window: TrafficWindow;
  faults: Map<string, FaultStats>;
}

/**
 * The proxy's metrics: counters and Prometheus histograms per proxy and per fault, and a
 * time-bucketed window per proxy for the JSON window endpoint. Every `record` is O(1) in the
 * traffic seen so far (O(faults on that exchange) for the per-fault series).
 */
export class ProxyMetrics implements MetricsSink {
  private readonly byProxy = new Map<string, ProxyStats>();
  /** Fault id → type, learnt from the fault store as faults are applied; bounded like the series. */
  private readonly faultTypes = new Map<string, string>();
  private readonly opts: ProxyMetricsOptions;
  private source: MetricsSource | undefined;

  constructor(opts: ProxyMetricsOptions = {}) {
    this.opts = opts;
  }

  /**
   * Connects the metrics to the proxies: the active-faults gauge, the list of proxies to report
   * (with zeros before any traffic) and each fault's type all come from here.
   */
  attach(source: MetricsSource): void {
    this.source = source;
    source.faults.on('change', (proxy) => {
      for (const f of source.faults.forProxy(proxy)) this.rememberType(f.id, f.spec.type);
    });
  }

  record(r: ExchangeRecord): void {
    const s = this.stats(r.proxy);
    const outcome = OUTCOME_INDEX[r.outcome];
    s.outcomes[outcome]!++;
    s.bytesIn += r.bytesIn;
    s.bytesOut += r.bytesOut;
    const seconds = r.latencyMs / 1000;
    s.latency.observe(seconds);
    s.window.record(r.latencyMs, ERROR_OUTCOMES.has(r.outcome), r.faultIds.length > 0, r.cohort);
    for (const id of r.faultIds) {
      let f = s.faults.get(id);
      if (f === undefined) f = this.addFaultSeries(s, id);
      f.affected++;
      f.outcomes[outcome]!++;
      // Bytes arrive once per exchange (TCP: at connection close), so a fault that began acting
      // mid-connection is credited with the whole connection's bytes, as with its latency.
      f.bytesIn += r.bytesIn;
      f.bytesOut += r.bytesOut;
      f.latency.observe(seconds);
    }
  }

  connectionOpened(proxy: string): void {
    this.stats(proxy).connections++;
  }

  connectionClosed(proxy: string): void {
    const s = this.stats(proxy);
    if (s.connections > 0) s.connections--;
  }

  /** Window report of one proxy over the last `seconds` (zeros when it has seen no traffic). */
  window(proxy: string, seconds: number, withSamples = false): WindowReport {
    return { proxy, ...this.stats(proxy).window.report(seconds, withSamples) };
  }

  /** Everything in Prometheus text format. */
  renderPrometheus(): string {
    const names = new Set(this.byProxy.keys());
    for (const p of this.source?.list() ?? []) names.add(p.name);
    const proxies = [...names].sort().map((name) => ({ name, s: this.stats(name) }));
    const out = new PrometheusText();

    out.family(
      'faultline_proxy_requests_total',
      'counter',
      'Exchanges (HTTP requests, or TCP connections) by outcome.',
    );
    for (const { name, s } of proxies)
      sampleOutcomes(out, 'faultline_proxy_requests_total', { proxy: name }, s.outcomes);
    out.family(
      'faultline_proxy_bytes_total',
      'counter',
      'Bytes through the proxy: in = from clients, out = to clients.',
    );
    for (const { name, s } of proxies) {
      out.sample('faultline_proxy_bytes_total', { proxy: name, direction: 'in' }, s.bytesIn);
      out.sample('faultline_proxy_bytes_total', { proxy: name, direction: 'out' }, s.bytesOut);
    }
    out.family(
      'faultline_proxy_request_duration_seconds',
      'histogram',
      'Request start to response end (HTTP) or connection lifetime (TCP), seconds.',
    );
    for (const { name, s } of proxies)
      out.histogram('faultline_proxy_request_duration_seconds', { proxy: name }, s.latency);
    out.family('faultline_proxy_active_faults', 'gauge', 'Faults active on the proxy now.');
    for (const { name } of proxies) {
      out.sample(
        'faultline_proxy_active_faults',
        { proxy: name },
        this.source?.faults.forProxy(name).length ?? 0,
      );
    }
    out.family('faultline_proxy_connections', 'gauge', 'Open client connections.');
    for (const { name, s } of proxies)
      out.sample('faultline_proxy_connections', { proxy: name }, s.connections);
    const pools = (this.source?.list() ?? []).flatMap((p) =>
      p.upstreamPool ? [{ name: p.name, ...p.upstreamPool }] : [],
    );
    out.family(
      'faultline_proxy_upstream_connections',
      'gauge',
      'HTTP mode: connections open to the upstream.',
    );
    for (const p of pools) out.sample('faultline_proxy_upstream_connections', { proxy: p.name }, p.connected);
    out.family(
      'faultline_proxy_upstream_queued',
      'gauge',
      'HTTP mode: requests waiting for a free upstream connection (the pool is at upstreamConnections).',
    );
    for (const p of pools) out.sample('faultline_proxy_upstream_queued', { proxy: p.name }, p.queued);
    this.renderFaults(out, proxies);
    return out.toString();
  }

  /** The per-fault families: the per-proxy ones again, with `fault` (id) and `type` labels. */
  private renderFaults(out: PrometheusText, proxies: readonly { name: string; s: ProxyStats }[]): void {
    const faults = proxies.flatMap(({ name, s }) =>
      [...s.faults].map(([id, f]) => ({ labels: { proxy: name, fault: id, type: f.type }, f })),
    );
    out.family('faultline_fault_affected_total', 'counter', 'Exchanges a fault acted on.');
    for (const { labels, f } of faults) out.sample('faultline_fault_affected_total', labels, f.affected);
    out.family(
      'faultline_fault_requests_total',
      'counter',
      'Exchanges (HTTP requests, or TCP connections) a fault acted on, by outcome.',
    );
    for (const { labels, f } of faults)
      sampleOutcomes(out, 'faultline_fault_requests_total', labels, f.outcomes);
    out.family(
      'faultline_fault_bytes_total',
      'counter',
      'Bytes of exchanges a fault acted on: in = from clients, out = to clients.',
    );
    for (const { labels, f } of faults) {
      out.sample('faultline_fault_bytes_total', { ...labels, direction: 'in' }, f.bytesIn);
      out.sample('faultline_fault_bytes_total', { ...labels, direction: 'out' }, f.bytesOut);
    }
    out.family(
      'faultline_fault_request_duration_seconds',
      'histogram',
      'Duration of exchanges a fault acted on, seconds.',
    );
    for (const { labels, f } of faults)
      out.histogram('faultline_fault_request_duration_seconds', labels, f.latency);
  }

  private stats(proxy: string): ProxyStats {
    let s = this.byProxy.get(proxy);
    if (s === undefined) {
      s = {
        outcomes: new Float64Array(OUTCOMES.length),
        bytesIn: 0,
        bytesOut: 0,
        connections: 0,
        latency: new BucketHistogram(),
        window: new TrafficWindow(this.opts.window),
        faults: new Map(),
      };
      this.byProxy.set(proxy, s);
    }
    return s;
  }

  private addFaultSeries(s: ProxyStats, id: string): FaultStats {
    const f: FaultStats = {
      type: this.faultTypes.get(id) ?? 'unknown',
      affected: 0,
      outcomes: new Float64Array(OUTCOMES.length),
      bytesIn: 0,
      bytesOut: 0,
      latency: new BucketHistogram(),
    };
    s.faults.set(id, f);
    // Maps iterate in insertion order, so the first key is the oldest series.
    if (s.faults.size > (this.opts.maxFaultSeries ?? 500)) s.faults.delete(s.faults.keys().next().value!);
    return f;
  }

  private rememberType(id: string, type: string): void {
    if (this.faultTypes.get(id) === type) return;
    this.faultTypes.delete(id);
    this.faultTypes.set(id, type);
    if (this.faultTypes.size > 10_000) this.faultTypes.delete(this.faultTypes.keys().next().value!);
  }
}
