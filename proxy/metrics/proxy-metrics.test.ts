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

  it("counts each fault's exchanges by outcome and its bytes, apart from clean traffic", () => {
    const m = new ProxyMetrics();
    const { source, events } = fakeSource([
      { id: 'slow', proxy: 'api', type: 'latency' },
      { id: 'down', proxy: 'api', type: 'abort' },
    ]);
    m.attach(source);
    events.emit('change', 'api');
    m.record(exchange({ bytesIn: 1, bytesOut: 2 }));
    m.record(exchange({ faultIds: ['slow'], outcome: 'ok', bytesIn: 10, bytesOut: 100 }));
    m.record(exchange({ faultIds: ['slow', 'down'], outcome: 'http_5xx', bytesIn: 7, bytesOut: 30 }));
    m.record(exchange({ faultIds: ['slow'], outcome: 'timeout', bytesIn: 5, bytesOut: 0 }));
    const text = m.renderPrometheus();
    const slow = 'proxy="api",fault="slow",type="latency"';
    const down = 'proxy="api",fault="down",type="abort"';
    expect(text).toContain('# TYPE faultline_fault_requests_total counter');
    expect(text).toContain('# TYPE faultline_fault_bytes_total counter');
    expect(text).toContain(`faultline_fault_requests_total{${slow},outcome="ok"} 1`);
    expect(text).toContain(`faultline_fault_requests_total{${slow},outcome="http_5xx"} 1`);
    expect(text).toContain(`faultline_fault_requests_total{${slow},outcome="timeout"} 1`);
    expect(text).toContain(`faultline_fault_requests_total{${slow},outcome="reset"} 0`);
    expect(text).toContain(`faultline_fault_requests_total{${down},outcome="http_5xx"} 1`);
    expect(text).toContain(`faultline_fault_requests_total{${down},outcome="ok"} 0`);
    expect(text).toContain(`faultline_fault_bytes_total{${slow},direction="in"} 22`);
    expect(text).toContain(`faultline_fault_bytes_total{${slow},direction="out"} 130`);
    expect(text).toContain(`faultline_fault_bytes_total{${down},direction="in"} 7`);
    expect(text).toContain(`faultline_fault_bytes_total{${down},direction="out"} 30`);
    expect(text).toContain(`faultline_fault_affected_total{${slow}} 3`);
    // Every outcome is a series for every fault, as for proxies, so rates never start from nothing.
    expect(text.match(/^faultline_fault_requests_total\{/gm)).toHaveLength(14);
    expect(text).toContain('faultline_proxy_bytes_total{proxy="api",direction="in"} 23');
  });

  it("drops a fault's outcome and byte series together with its other series", () => {
    const m = new ProxyMetrics({ maxFaultSeries: 1 });
    m.record(exchange({ faultIds: ['old'], outcome: 'reset' }));
    m.record(exchange({ faultIds: ['new'] }));
    const text = m.renderPrometheus();
    expect(text).not.toContain('fault="old"');
    expect(text).toContain(
      'faultline_fault_bytes_total{proxy="api",fault="new",type="unknown",direction="out"} 100',
    );
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
