import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WindowReport } from '../protocol/proxy.ts';
import { buildAdminApp } from '../proxy/admin/admin-app.ts';
import { ProxyMetrics } from '../proxy/metrics/proxy-metrics.ts';
import { ProxyManager } from '../proxy/proxy-manager.ts';

let upstream: Server;
let upstreamAddr: string;
let manager: ProxyManager;
let metrics: ProxyMetrics;
let app: FastifyInstance;
const errors: object[] = [];

beforeEach(async () => {
  upstream = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(req.url === '/fail' ? '' : 'hello');
    if (req.url === '/fail') res.statusCode = 500;
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamAddr = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  metrics = new ProxyMetrics();
  manager = new ProxyManager({ metrics });
  metrics.attach(manager);
  errors.length = 0;
  app = buildAdminApp({
    manager,
    metrics,
    version: '9.9.9',
    log: { info() {}, warn() {}, error: (o) => errors.push(o) },
  });
});

afterEach(async () => {
  await app.close();
  await manager.close(0);
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

async function addHttpProxy(name = 'web') {
  const res = await app.inject({
    method: 'POST',
    url: '/faultline/proxies',
    payload: { name, listen: '127.0.0.1:0', upstream: upstreamAddr, mode: 'http' },
  });
  expect(res.statusCode).toBe(201);
  return res.json();
}

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ code, message: expect.any(String), details: expect.any(Object) });
  return body;
}

describe('Faultline admin API', () => {
  it('reports health with version and counts', async () => {
    await addHttpProxy();
    const res = await app.inject('/faultline/health');
    expect(res.json()).toEqual({ status: 'ok', version: '9.9.9', proxies: 1, faults: 0 });
  });

  it('creates, lists, reads, changes and removes a proxy', async () => {
    const view = await addHttpProxy();
    expect(view).toMatchObject({ name: 'web', mode: 'http', enabled: true, upstream: upstreamAddr });
    expect(view.boundAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await app.inject('/faultline/proxies')).json().map((p: { name: string }) => p.name)).toEqual([
      'web',
    ]);
    expect((await app.inject('/faultline/proxies/web')).json().boundAddress).toBe(view.boundAddress);

    const patched = await app.inject({
      method: 'PATCH',
      url: '/faultline/proxies/web',
      payload: { labels: { team: 'a' } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().labels).toEqual({ team: 'a' });

    expectError(
      await app.inject({
        method: 'POST',
        url: '/faultline/proxies',
        payload: { name: 'web', listen: '127.0.0.1:0', upstream: upstreamAddr },
      }),
      409,
      'CONFLICT',
    );
    const del = await app.inject({ method: 'DELETE', url: '/faultline/proxies/web' });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expectError(await app.inject('/faultline/proxies/web'), 404, 'NOT_FOUND');
    expectError(await app.inject({ method: 'DELETE', url: '/faultline/proxies/web' }), 404, 'NOT_FOUND');
    expectError(
      await app.inject({ method: 'PATCH', url: '/faultline/proxies/web', payload: {} }),
      404,
      'NOT_FOUND',
    );
  });

  it('answers 400 INVALID_INPUT for bad JSON, an empty JSON body and a body that fails the schema', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/faultline/proxies',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expectError(bad, 400, 'INVALID_INPUT');
    const poisoned = await app.inject({
      method: 'POST',
      url: '/faultline/proxies',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__": {"admin": true}}',
    });
    expectError(poisoned, 400, 'INVALID_INPUT');
    const empty = await app.inject({
      method: 'POST',
      url: '/faultline/proxies',
      headers: { 'content-type': 'application/json' },
    });
    expectError(empty, 400, 'INVALID_INPUT');
    const invalid = await app.inject({
      method: 'POST',
      url: '/faultline/proxies',
      payload: { name: 'x y', listen: 'nowhere' },
    });
    const body = expectError(invalid, 400, 'INVALID_INPUT');
    expect((body.details as { issues: unknown[] }).issues.length).toBeGreaterThan(0);
    expectError(
      await app.inject({ method: 'PATCH', url: '/faultline/proxies/x', payload: { name: 'renamed' } }),
      404,
      'NOT_FOUND',
    );
  });

  it('applies, lists, reads, renews and reverts faults', async () => {
    await addHttpProxy();
    const applied = await app.inject({
      method: 'POST',
      url: '/faultline/proxies/web/faults',
      payload: { id: 'f1', type: 'abort', params: { status: 503 }, leaseMs: 5_000 },
    });
    expect(applied.statusCode).toBe(201);
    const view = applied.json();
    expect(view).toMatchObject({
      id: 'f1',
      proxy: 'web',
      type: 'abort',
      percent: 100,
      direction: 'downstream',
      affected: 0,
    });
    expect(view.expiresAt).toBeGreaterThan(Date.now());

    expect(
      (await app.inject('/faultline/proxies/web/faults')).json().map((f: { id: string }) => f.id),
    ).toEqual(['f1']);
    expect((await app.inject('/faultline/faults')).json()).toHaveLength(1);
    expect((await app.inject('/faultline/faults?proxy=other')).json()).toEqual([]);
    expect((await app.inject('/faultline/faults/f1')).json().id).toBe('f1');
    expectError(await app.inject('/faultline/faults/nope'), 404, 'NOT_FOUND');

    const renewed = await app.inject({
      method: 'POST',
      url: '/faultline/faults/f1/renew',
      payload: { leaseMs: 60_000 },
    });
    expect(renewed.statusCode).toBe(200);
    expect(renewed.json().expiresAt).toBeGreaterThan(view.expiresAt);
    const renewedNoBody = await app.inject({ method: 'POST', url: '/faultline/faults/f1/renew' });
    expect(renewedNoBody.statusCode).toBe(200);
    const renewedEmptyJson = await app.inject({
      method: 'POST',
      url: '/faultline/faults/f1/renew',
      headers: { 'content-type': 'application/json' },
    });
    expect(renewedEmptyJson.statusCode).toBe(200);
    expectError(
      await app.inject({ method: 'POST', url: '/faultline/faults/f1/renew', payload: { leaseMs: -5 } }),
      400,
      'INVALID_INPUT',
    );

    expect((await app.inject({ method: 'DELETE', url: '/faultline/faults/f1' })).json()).toEqual({
      reverted: true,
    });
    expect((await app.inject({ method: 'DELETE', url: '/faultline/faults/f1' })).json()).toEqual({
      reverted: false,
    });
    expectError(
      await app.inject({ method: 'POST', url: '/faultline/faults/f1/renew' }),
      410,
      'LEASE_EXPIRED',
    );
  });

  it('answers 410 LEASE_EXPIRED when renewing a fault whose lease already ran out', async () => {
    await addHttpProxy();
    await app.inject({
      method: 'POST',
      url: '/faultline/proxies/web/faults',
      payload: { id: 'short', type: 'abort', params: { status: 500 }, leaseMs: 30 },
    });
    await new Promise((r) => setTimeout(r, 80));
    expectError(
      await app.inject({ method: 'POST', url: '/faultline/faults/short/renew' }),
      410,
      'LEASE_EXPIRED',
    );
    expectError(await app.inject('/faultline/faults/short'), 404, 'NOT_FOUND');
  });

  it('refuses a fault without a lease (leaseMs 0) and applies nothing', async () => {
    await addHttpProxy();
    const body = expectError(
      await app.inject({
        method: 'POST',
        url: '/faultline/proxies/web/faults',
        payload: { id: 'forever', type: 'abort', params: { status: 500 }, leaseMs: 0 },
      }),
      400,
      'INVALID_INPUT',
    );
    expect(body.message).toContain('leaseMs must be at least 1 ms');
    expect(body.details).toEqual({ field: 'leaseMs' });
    expect((await app.inject('/faultline/faults')).json()).toEqual([]);
  });

  it('answers a JSON null body with 400 INVALID_INPUT that says it got null, and changes nothing', async () => {
    await addHttpProxy();
    const headers = { 'content-type': 'application/json' };
    for (const [method, url] of [
      ['POST', '/faultline/proxies/web/faults'],
      ['PATCH', '/faultline/proxies/web'],
    ] as const) {
      const body = expectError(
        await app.inject({ method, url, headers, payload: 'null' }),
        400,
        'INVALID_INPUT',
      );
      expect(body.message).toContain('received null');
    }
    expect((await app.inject('/faultline/faults')).json()).toEqual([]);
    expect((await app.inject('/faultline/proxies/web')).json()).toMatchObject({ enabled: true });
  });

  it('rejects unknown fault types, bad params and unknown proxies with their codes', async () => {
    await addHttpProxy();
    const unknown = expectError(
      await app.inject({
        method: 'POST',
        url: '/faultline/proxies/web/faults',
        payload: { type: 'gremlin' },
      }),
      400,
      'UNKNOWN_FAULT_TYPE',
    );
    expect((unknown.details as { known: string[] }).known).toContain('abort');
    expectError(
      await app.inject({
        method: 'POST',
        url: '/faultline/proxies/web/faults',
        payload: { type: 'abort', params: { status: 42 } },
      }),
      400,
      'INVALID_INPUT',
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/faultline/proxies/web/faults',
        payload: { type: 'abort', percent: 150, params: { status: 500 } },
      }),
      400,
      'INVALID_INPUT',
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/faultline/proxies/ghost/faults',
        payload: { type: 'abort', params: { status: 500 } },
      }),
      404,
      'NOT_FOUND',
    );
    expectError(await app.inject('/faultline/proxies/ghost/faults'), 404, 'NOT_FOUND');
    expectError(await app.inject('/faultline/proxies/ghost/window'), 404, 'NOT_FOUND');
  });

  it('reverts every fault of every proxy at once on reset', async () => {
    await addHttpProxy('a');
    await addHttpProxy('b');
    for (const p of ['a', 'b', 'b']) {
      await app.inject({
        method: 'POST',
        url: `/faultline/proxies/${p}/faults`,
        payload: { type: 'abort', params: { status: 500 } },
      });
    }
    expect((await app.inject({ method: 'POST', url: '/faultline/reset' })).json()).toEqual({ reverted: 3 });
    expect((await app.inject('/faultline/faults')).json()).toEqual([]);
    expect((await app.inject({ method: 'POST', url: '/faultline/reset' })).json()).toEqual({ reverted: 0 });
  });

  it('lists fault types of both modes with a JSON Schema of their params', async () => {
    const types = (await app.inject('/faultline/fault-types')).json() as {
      mode: string;
      type: string;
      summary: string;
      directions: string[];
      paramsSchema: { type?: string; properties?: object };
    }[];
    const abort = types.find((t) => t.mode === 'http' && t.type === 'abort');
    expect(abort?.paramsSchema.properties).toHaveProperty('status');
    expect(abort?.directions).toEqual(['upstream', 'downstream']);
    expect(types.some((t) => t.mode === 'tcp' && t.type === 'latency')).toBe(true);
    for (const t of types) expect(t.summary.length).toBeGreaterThan(0);
  });

  it('answers unknown routes with 404 NOT_FOUND and unexpected errors with 500 INTERNAL, logged', async () => {
    // Routes can only be added before the app's first request.
    app.get('/boom', async () => {
      throw new Error('kaboom');
    });
    expectError(await app.inject('/no/such/route'), 404, 'NOT_FOUND');
    const res = await app.inject('/boom');
    const body = expectError(res, 500, 'INTERNAL');
    expect(body.message).not.toContain('kaboom');
    expect(errors).toHaveLength(1);
  });

  it('counts real traffic in /metrics and in the window endpoint', async () => {
    const view = await addHttpProxy();
    await app.inject({
      method: 'POST',
      url: '/faultline/proxies/web/faults',
      payload: { id: 'half', type: 'abort', params: { status: 503 }, match: { path: '/faulted' } },
    });
    const base = `http://${view.boundAddress}`;
    for (let i = 0; i < 6; i++) expect((await fetch(`${base}/clean`)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await fetch(`${base}/faulted`)).status).toBe(503);

    const text = (await app.inject('/metrics')).body;
    expect(text).toContain('faultline_proxy_requests_total{proxy="web",outcome="ok"} 6');
    expect(text).toContain('faultline_proxy_requests_total{proxy="web",outcome="http_5xx"} 4');
    expect(text).toContain('faultline_proxy_request_duration_seconds_count{proxy="web"} 10');
    expect(text).toContain('faultline_fault_affected_total{proxy="web",fault="half",type="abort"} 4');
    expect(text).toContain('faultline_proxy_active_faults{proxy="web"} 1');
    expect(text).toMatch(/faultline_proxy_bytes_total\{proxy="web",direction="out"\} [1-9]/);
    // Prometheus's own linter (Debian package `prometheus`) must accept the exposition as is.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.error, 'promtool is needed: apt-get install prometheus').toBeUndefined();
    expect({ status: lint.status, out: lint.stdout + lint.stderr }).toEqual({ status: 0, out: '' });

    const res = await app.inject('/faultline/proxies/web/window?seconds=10&samples=true');
    const w = WindowReport.parse(res.json());
    expect(w.seconds).toBe(10);
    expect(w.all).toMatchObject({ requests: 10, errors: 4, errorRate: 0.4 });
    expect(w.faulted).toMatchObject({ requests: 4, errors: 4 });
    expect(w.clean).toMatchObject({ requests: 6, errors: 0 });
    expect(w.all.p50Ms).toBeGreaterThan(0);
    expect(w.samples).toEqual({ control: [], treatment: [] });
    expectError(await app.inject('/faultline/proxies/web/window?seconds=0'), 400, 'INVALID_INPUT');
    expect(res.json().samples).toBeDefined();
    expect((await app.inject('/faultline/proxies/web/window')).json().samples).toBeUndefined();
  });

  it('refuses cross-site browser requests on both APIs', async () => {
    const faultline = await app.inject({
      method: 'POST',
      url: '/faultline/reset',
      headers: { origin: 'https://evil.example' },
    });
    expectError(faultline, 401, 'UNAUTHORIZED');
    const toxi = await app.inject({
      method: 'POST',
      url: '/proxies',
      headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
      payload: JSON.stringify({ name: 'x', upstream: '127.0.0.1:1' }),
    });
    expect(toxi.statusCode).toBe(403);
    expect(toxi.json()).toEqual({ error: 'cross-site browser requests are not allowed', status: 403 });
    expect(manager.has('x')).toBe(false);
    const sameOrigin = await app.inject({
      url: '/faultline/health',
      headers: { host: '127.0.0.1:8474', origin: 'http://127.0.0.1:8474' },
    });
    expect(sameOrigin.statusCode).toBe(200);
  });
});
