import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WindowReport } from '../../protocol/proxy.ts';
import type { ExchangeRecord } from './metrics-sink.ts';
import { type MetricsSource, ProxyMetrics } from './proxy-metrics.ts';

function exchange(over: Partial<ExchangeRecord>): ExchangeRecord {
  return { proxy: 'api', faultIds: [], outcome: 'ok', latencyMs: 4, bytesIn: 10, bytesOut: 100, ...over };
}

function fakeSource(faults: { id: string; proxy: string; type: string }[]) {
  const events = new EventEmitter();
  const source = {
    faults: {
      forProxy: (p: string) =>
        faults.filter((f) => f.proxy === p).map((f) => ({ id: f.id, spec: { type: f.type } })),
      on: (e: string, fn: (...a: unknown[]) => void) => events.on(e, fn),
    },
    list: () => [{ name: 'api', upstreamPool: { connected: 7, queued: 2 } }, { name: 'idle' }],
  } as unknown as MetricsSource;
  return { source, events };
}

describe('ProxyMetrics', () => {
  it('renders counters, gauges and histograms in Prometheus text format', () => {
    const m = new ProxyMetrics();
    const { source, events } = fakeSource([{ id: 'f1', proxy: 'api', type: 'latency' }]);
    m.attach(source);
    events.emit('change', 'api');
    m.record(exchange({}));
    m.record(exchange({ outcome: 'http_5xx', latencyMs: 300, faultIds: ['f1'] }));
    m.connectionOpened('api');
    m.connectionOpened('api');
    m.connectionClosed('api');
    const text = m.renderPrometheus();
    expect(text).toContain('# TYPE faultline_proxy_requests_total counter');
    expect(text).toContain('faultline_proxy_requests_total{proxy="api",outcome="ok"} 1');
    expect(text).toContain('faultline_proxy_requests_total{proxy="api",outcome="http_5xx"} 1');
    expect(text).toContain('faultline_proxy_bytes_total{proxy="api",direction="in"} 20');
    expect(text).toContain('faultline_proxy_bytes_total{proxy="api",direction="out"} 200');
    expect(text).toContain('faultline_proxy_request_duration_seconds_bucket{proxy="api",le="0.005"} 1');
    expect(text).toContain('faultline_proxy_request_duration_seconds_bucket{proxy="api",le="0.5"} 2');
    expect(text).toContain('faultline_proxy_request_duration_seconds_bucket{proxy="api",le="+Inf"} 2');
    expect(text).toContain('faultline_proxy_request_duration_seconds_count{proxy="api"} 2');
    expect(text).toContain('faultline_proxy_active_faults{proxy="api"} 1');
    expect(text).toContain('faultline_proxy_active_faults{proxy="idle"} 0');
    expect(text).toContain('faultline_proxy_connections{proxy="api"} 1');
    expect(text).toContain('faultline_proxy_upstream_connections{proxy="api"} 7');
    expect(text).toContain('faultline_proxy_upstream_queued{proxy="api"} 2');
    // A proxy without an upstream pool (TCP mode) has no pool series.
    expect(text).not.toContain('faultline_proxy_upstream_connections{proxy="idle"}');
    expect(text).toContain('faultline_fault_affected_total{proxy="api",fault="f1",type="latency"} 1');
    expect(text).toContain(
      'faultline_fault_request_duration_seconds_count{proxy="api",fault="f1",type="latency"} 1',
    );
    expect(text.endsWith('\n')).toBe(true);
  });

  it('counts errors in the window only for error outcomes', () => {
    const m = new ProxyMetrics();
    m.record(exchange({ outcome: 'http_4xx' }));
    m.record(exchange({ outcome: 'client_abort' }));
    m.record(exchange({ outcome: 'reset', faultIds: ['x'] }));
    m.record(exchange({ outcome: 'timeout', cohort: 'treatment' }));
    const w = WindowReport.parse(m.window('api', 10, true));
    expect(w.all).toMatchObject({ requests: 4, errors: 2, errorRate: 0.5 });
    expect(w.faulted.requests).toBe(1);
    expect(w.samples?.treatment).toEqual([4]);
  });

  it('escapes label values and keeps at most maxFaultSeries per proxy', () => {
    const m = new ProxyMetrics({ maxFaultSeries: 2 });
    m.record(exchange({ proxy: 'a"b\\c', faultIds: ['f1'] }));
    m.record(exchange({ proxy: 'a"b\\c', faultIds: ['f2'] }));
    m.record(exchange({ proxy: 'a"b\\c', faultIds: ['f3'] }));
    const text = m.renderPrometheus();
    expect(text).toContain('proxy="a\\"b\\\\c"');
    expect(text).not.toContain('fault="f1"');
    expect(text).toContain('fault="f3",type="unknown"');
  });

  it('records 200k exchanges in well under a second', () => {
    const m = new ProxyMetrics();
    const r = exchange({ faultIds: ['f'], cohort: 'control' });
    const t0 = performance.now();
    for (let i = 0; i < 200_000; i++) m.record(r);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});
