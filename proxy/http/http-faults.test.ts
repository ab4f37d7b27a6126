import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseHostPort } from '../../protocol/host-port.ts';
import type { ProxyFaultSpecInput } from '../../protocol/proxy.ts';
import type { ExchangeRecord } from '../metrics/metrics-sink.ts';
import { ProxyManager } from '../proxy-manager.ts';
import { median, send, startTestUpstream, type TestUpstream } from './http-test-fixtures.ts';

let upstream: TestUpstream;
let manager: ProxyManager;
let proxy: string;
let records: ExchangeRecord[];

beforeEach(async () => {
  upstream = await startTestUpstream();
  records = [];
  manager = new ProxyManager({
    metrics: { record: (r) => records.push(r), connectionOpened() {}, connectionClosed() {} },
  });
  await manager.add({ name: 'web', listen: '127.0.0.1:0', upstream: upstream.address, mode: 'http' });
  proxy = manager.get('web').boundAddress!;
});

afterEach(async () => {
  await manager.close(0);
  await upstream.close();
});

const apply = (spec: ProxyFaultSpecInput) => manager.faults.apply('web', { leaseMs: 0, ...spec });

/** Sends requests one after another; true where the answer was the abort status 503. */
async function abortedIndices(n: number, path = '/'): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push((await send(proxy, path)).status === 503);
  return out;
}

/** Error of a request the proxy does not answer (reset or close), with how long it took. */
async function failure(path = '/'): Promise<{ error: NodeJS.ErrnoException; ms: number }> {
  const start = performance.now();
  const error = await send(proxy, path).then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: NodeJS.ErrnoException) => err,
  );
  return { error, ms: performance.now() - start };
}

describe('http: latency', () => {
  it('adds the configured delay before forwarding, measured against the clean path', async () => {
    const clean: number[] = [];
    for (let i = 0; i < 5; i++) clean.push((await send(proxy, '/')).ms);
    apply({ type: 'latency', direction: 'upstream', params: { delayMs: 100 } });
    const slow: number[] = [];
    for (let i = 0; i < 7; i++) slow.push((await send(proxy, '/')).ms);
    // Never less than the delay (timed from the request's arrival); little more than it on top of the clean path.
    expect(Math.min(...slow)).toBeGreaterThanOrEqual(100);
    expect(median(slow) - median(clean)).toBeLessThan(125);
  });

  it('downstream: the upstream is reached at once and the response head is held back', async () => {
    apply({ type: 'latency', direction: 'downstream', params: { delayMs: 150 } });
    const seenAt: number[] = [];
    upstream.server.prependListener('request', () => seenAt.push(performance.now()));
    const start = performance.now();
    const r = await send(proxy, '/');
    expect(r.status).toBe(200);
    expect(seenAt[0]! - start).toBeLessThan(60);
    expect(r.ms).toBeGreaterThanOrEqual(150);
  });

  it('downstream: a small answer is read whole while held, so later requests reuse its upstream connection', async () => {
    apply({ type: 'latency', direction: 'downstream', params: { delayMs: 300 } });
    let upstreamConnections = 0;
    upstream.server.on('connection', () => upstreamConnections++);
    const answeredAt: number[] = [];
    upstream.server.prependListener('request', (_req, res: import('node:http').ServerResponse) =>
      res.once('finish', () => answeredAt.push(performance.now())),
    );
    // Each request starts while the one before is still held by the delay.
    const replies: Promise<{ status: number; ms: number }>[] = [];
    for (let i = 0; i < 3; i++) {
      replies.push(send(proxy, `/held-${i}`));
      await new Promise((r) => setTimeout(r, 60));
    }
    const done = await Promise.all(replies);
    expect(done.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(Math.min(...done.map((r) => r.ms))).toBeGreaterThanOrEqual(300);
    expect(answeredAt).toHaveLength(3);
    expect(upstreamConnections).toBe(1);
  });

  it('downstream: a large answer is paused at the upstream while held, and arrives whole', async () => {
    apply({ type: 'latency', direction: 'downstream', params: { delayMs: 400 } });
    // Far more than loopback socket buffers hold, so the upstream can only finish once the proxy reads on.
    const bytes = 48 * 1024 * 1024;
    let finishedAt = 0;
    upstream.server.prependListener('request', (_req, res: import('node:http').ServerResponse) =>
      res.once('finish', () => {
        finishedAt = performance.now();
      }),
    );
    const start = performance.now();
    const r = await send(proxy, `/big?bytes=${bytes}`, { capMs: 15_000 });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(bytes);
    expect(finishedAt - start).toBeGreaterThanOrEqual(400);
  });

  it('upstream: a client that leaves during the delay is never forwarded, and is recorded as a client abort', async () => {
    const fault = apply({ type: 'latency', direction: 'upstream', params: { delayMs: 150 } });
    const { host, port } = parseHostPort(proxy);
    const socket = net.connect(port, host);
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /gone HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 40));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 250));
    expect(upstream.seen).toBe(0);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'client_abort', faultIds: [fault.id] });
  });

  it('samples a normal distribution reproducibly and caps it at maxMs', async () => {
    apply({
      type: 'latency',
      direction: 'upstream',
      params: { distribution: 'normal', meanMs: 60, stddevMs: 200, maxMs: 120 },
      seed: 7,
    });
    const times: number[] = [];
    for (let i = 0; i < 6; i++) times.push((await send(proxy, '/')).ms);
    expect(Math.max(...times)).toBeLessThan(200);
  });
});

describe('http: abort', () => {
  it('upstream: answers the status and body without contacting the upstream', async () => {
    const fault = apply({
      type: 'abort',
      direction: 'upstream',
      params: {
        status: 503,
        body: '{"down":true}',
        contentType: 'application/json',
        headers: { 'retry-after': '1' },
      },
    });
    const r = await send(proxy, '/x');
    expect(r.status).toBe(503);
    expect(r.body).toBe('{"down":true}');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['retry-after']).toBe('1');
    expect(upstream.seen).toBe(0);
    expect(records.at(-1)).toMatchObject({ outcome: 'http_5xx', status: 503, faultIds: [fault.id] });
  });

  it('downstream: replaces the response the upstream gave', async () => {
    apply({ type: 'abort', direction: 'downstream', params: { status: 429 } });
    const r = await send(proxy, '/x');
    expect(r.status).toBe(429);
    expect(r.body).toBe('');
    expect(upstream.seen).toBe(1);
  });

  it('applies from the next request after apply, and stops after revert', async () => {
    expect((await send(proxy, '/')).status).toBe(200);
    const fault = apply({ type: 'abort', direction: 'upstream', params: { status: 500 } });
    expect((await send(proxy, '/')).status).toBe(500);
    manager.faults.revert(fault.id);
    expect((await send(proxy, '/')).status).toBe(200);
  });
});

describe('http: reset', () => {
  it('resets the client connection with a real RST', async () => {
    apply({ type: 'reset', direction: 'upstream', params: {} });
    const { host, port } = { host: '127.0.0.1', port: Number(proxy.split(':')[1]) };
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const s = net.connect({ host, port }, () => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
      s.on('error', (e) => resolve(e));
      s.on('close', () => resolve(null));
      s.resume();
    });
    // A FIN would end the socket cleanly (no error); only an RST gives ECONNRESET here.
    expect(err?.code).toBe('ECONNRESET');
    await vi.waitFor(() => expect(records.at(-1)?.outcome).toBe('reset'));
  });

  it('waits afterMs before resetting', async () => {
    apply({ type: 'reset', direction: 'downstream', params: { afterMs: 120 } });
    const { error, ms } = await failure();
    expect(error.code).toBe('ECONNRESET');
    expect(ms).toBeGreaterThanOrEqual(115);
  });
});

describe('http: timeout', () => {
  it('never answers and closes the connection after timeoutMs', async () => {
    apply({ type: 'timeout', direction: 'upstream', params: { timeoutMs: 200 } });
    const { error, ms } = await failure();
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
    expect(ms).toBeGreaterThanOrEqual(195);
    expect(ms).toBeLessThan(1_000);
    expect(upstream.seen).toBe(0);
    await vi.waitFor(() => expect(records.at(-1)?.outcome).toBe('timeout'));
  });

  it('with timeoutMs 0 holds until the fault is reverted, while other traffic flows', async () => {
    const fault = apply({ type: 'timeout', direction: 'upstream', params: {}, match: { path: '/hold' } });
    const held = failure('/hold');
    await new Promise((r) => setTimeout(r, 150));
    expect((await send(proxy, '/free')).status).toBe(200);
    manager.faults.revert(fault.id);
    const { ms } = await held;
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(1_500);
  });

  it('downstream with timeoutMs 0: a hold that begins after the revert is closed at once, not kept forever', async () => {
    const fault = apply({ type: 'timeout', direction: 'downstream', params: {} });
    // The request is admitted now; its answer comes 300 ms later, after the revert.
    const held = failure('/slow?ms=300');
    await new Promise((r) => setTimeout(r, 100));
    manager.faults.revert(fault.id);
    const { ms } = await held;
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1_500);
  });
});

describe('http: bandwidth', () => {
  it('downstream: throttles the response body to rateKbPerSec', async () => {
    apply({ type: 'bandwidth', direction: 'downstream', params: { rateKbPerSec: 200 } });
    const r = await send(proxy, '/big?bytes=100000');
    expect(r.body.length).toBe(100_000);
    // 100 kB at 200 kB/s ≈ 500 ms (the first 50 ms slice goes at once).
    expect(r.ms).toBeGreaterThan(380);
    expect(r.ms).toBeLessThan(1_200);
  });

  it('upstream: throttles the request body', async () => {
    apply({ type: 'bandwidth', direction: 'upstream', params: { rateKbPerSec: 100 } });
    const r = await send(proxy, '/up', { method: 'POST', body: Buffer.alloc(50_000, 'u') });
    expect(JSON.parse(r.body).body.length).toBe(50_000);
    expect(r.ms).toBeGreaterThan(380);
    expect(r.ms).toBeLessThan(1_200);
  });
});

describe('sampling, matching, cohorts and concurrency', () => {
  it('percent with a seed affects the same request indices on every run', async () => {
    const spec = {
      type: 'abort',
      direction: 'upstream',
      params: { status: 503 },
      percent: 50,
      seed: 42,
    } as const;
    const first = apply({ ...spec, id: 'pct' });
    const run1 = await abortedIndices(40);
    manager.faults.revert(first.id);
    apply({ ...spec, id: 'pct' });
    const run2 = await abortedIndices(40);
    expect(run2).toEqual(run1);
    const hits = run1.filter(Boolean).length;
    expect(hits).toBeGreaterThan(8);
    expect(hits).toBeLessThan(32);
  });

  it('matches by method, path glob, header glob and tenant, all together', async () => {
    apply({
      type: 'abort',
      direction: 'upstream',
      params: { status: 503 },
      match: {
        methods: ['post'],
        path: '/api/*/orders',
        headers: { 'x-env': 'stag*' },
        tenant: { header: 'x-tenant', values: ['acme'] },
      },
    });
    const ok = { 'x-env': 'staging', 'x-tenant': 'acme' };
    const status = async (method: string, path: string, headers: Record<string, string>) =>
      (await send(proxy, path, { method, headers })).status;
    expect(await status('POST', '/api/v1/orders?x=1', ok)).toBe(503);
    expect(await status('GET', '/api/v1/orders', ok)).toBe(200);
    expect(await status('POST', '/api/v1/x/orders', ok)).toBe(200);
    expect(await status('POST', '/api/v1/orders', { ...ok, 'x-env': 'prod' })).toBe(200);
    expect(await status('POST', '/api/v1/orders', { ...ok, 'x-tenant': 'other' })).toBe(200);
  });

  it('sorts requests into sticky cohorts by header and never faults the control cohort', async () => {
    const fault = apply({
      type: 'abort',
      direction: 'upstream',
      params: { status: 503 },
      cohort: { header: 'x-user', treatmentPercent: 50 },
      seed: 3,
    });
    const byUser = new Map<string, number[]>();
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 16; u++) {
        const user = `user-${u}`;
        const r = await send(proxy, '/', { headers: { 'x-user': user } });
        byUser.set(user, [...(byUser.get(user) ?? []), r.status]);
      }
    }
    for (const statuses of byUser.values()) expect(new Set(statuses).size).toBe(1);
    const faultedUsers = [...byUser.values()].filter((s) => s[0] === 503).length;
    expect(faultedUsers).toBeGreaterThan(2);
    expect(faultedUsers).toBeLessThan(14);
    for (const r of records) {
      expect(r.cohort).toBeDefined();
      if (r.cohort === 'control') expect(r.faultIds).toEqual([]);
      else expect(r.faultIds).toEqual([fault.id]);
    }
  });

  it('maxConcurrent caps how many requests are affected at the same time', async () => {
    apply({ type: 'latency', direction: 'upstream', params: { delayMs: 300 }, maxConcurrent: 2 });
    const replies = await Promise.all(Array.from({ length: 5 }, () => send(proxy, '/')));
    const slow = replies.filter((r) => r.ms >= 290).length;
    expect(slow).toBe(2);
  });
});
