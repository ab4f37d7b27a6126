import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficStats, WindowReport } from '../../../protocol/proxy.ts';
import { createProbe } from './create-probe.ts';
import { startTestServer } from './test-server.ts';

const stats = (requests: number, errors: number, p99Ms: number): TrafficStats => ({
  requests,
  errors,
  errorRate: requests ? errors / requests : 0,
  p50Ms: p99Ms / 4,
  p95Ms: p99Ms / 2,
  p99Ms,
  meanMs: p99Ms / 3,
});

describe('proxyMetrics probe', () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let lastUrl = '';
  beforeAll(async () => {
    srv = await startTestServer((req, res) => {
      lastUrl = req.url ?? '';
      const m = /^\/faultline\/proxies\/([^/]+)\/window\?seconds=(\d+)$/.exec(req.url ?? '');
      if (m?.[1] !== 'checkout') {
        res.writeHead(404, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ code: 'NOT_FOUND', message: 'no proxy', details: {} }));
      }
      const report: WindowReport = {
        proxy: 'checkout',
        seconds: Number(m[2]),
        all: stats(100, 4, 80),
        faulted: stats(40, 4, 250),
        clean: stats(60, 0, 20),
        cohorts: { control: stats(50, 0, 21), treatment: stats(50, 4, 240) },
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(report));
    });
  });
  afterAll(() => srv.close());

  it('reads the window report over the admin API and picks the slice', async () => {
    const probe = createProbe(
      { name: 'pm', proxyMetrics: { proxy: 'checkout', window: 2500, slice: 'treatment' } },
      { proxyAdmin: srv.url },
    );
    const s = await probe.run(new AbortController().signal);
    expect(lastUrl).toBe('/faultline/proxies/checkout/window?seconds=3');
    expect(s).toMatchObject({
      kind: 'proxyMetrics',
      ok: true,
      slice: { requests: 50, errors: 4, p99Ms: 240 },
    });
    expect(s.window?.all.requests).toBe(100);
  });

  it('fails with the admin API answer for an unknown proxy', async () => {
    const probe = createProbe(
      { name: 'pm', proxyMetrics: { proxy: 'nope', window: 10_000, slice: 'all' } },
      { proxyAdmin: srv.url },
    );
    const s = await probe.run(new AbortController().signal);
    expect(s.ok).toBe(false);
    expect(s.error).toContain('proxy admin answered 404');
  });

  it('cannot be built without a proxy admin URL', () => {
    expect(() =>
      createProbe({ name: 'pm', proxyMetrics: { proxy: 'x', window: 10_000, slice: 'all' } }, {}),
    ).toThrow(expect.objectContaining({ code: 'INVALID_EXPERIMENT' }));
  });
});
