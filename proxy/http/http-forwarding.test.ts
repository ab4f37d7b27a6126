import http from 'node:http';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { DEFAULT_UPSTREAM_CONNECTIONS } from '../../protocol/proxy.ts';
import type { ExchangeRecord, MetricsSink } from '../metrics/metrics-sink.ts';
import { ProxyManager } from '../proxy-manager.ts';
import { type Echo, send, startTestUpstream, type TestUpstream } from './http-test-fixtures.ts';

interface RecordingMetrics extends MetricsSink {
  records: ExchangeRecord[];
  opened: number;
  closed: number;
}

function recordingMetrics(): RecordingMetrics {
  const m: RecordingMetrics = {
    records: [],
    opened: 0,
    closed: 0,
    record: (r) => m.records.push(r),
    connectionOpened: () => m.opened++,
    connectionClosed: () => m.closed++,
  };
  return m;
}

let upstream: TestUpstream;
let manager: ProxyManager;
let metrics: RecordingMetrics;
let proxy: string;
const cleanups: (() => unknown)[] = [];

beforeEach(async () => {
  upstream = await startTestUpstream();
  metrics = recordingMetrics();
  manager = new ProxyManager({ metrics });
  await manager.add({ name: 'web', listen: '127.0.0.1:0', upstream: upstream.address, mode: 'http' });
  proxy = manager.get('web').boundAddress!;
});

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await manager.close(0);
  await upstream.close();
});

describe('HTTP forwarding', () => {
  it('forwards method, path, query, end-to-end headers and a content-length body', async () => {
    const r = await send(proxy, '/orders/7?expand=items&x=%20', {
      method: 'PUT',
      headers: { 'x-custom': 'yes', 'content-type': 'text/plain', 'x-forwarded-for': '10.0.0.9' },
      body: 'hello body',
    });
    expect(r.status).toBe(200);
    const echo = JSON.parse(r.body) as Echo;
    expect(echo.method).toBe('PUT');
    expect(echo.url).toBe('/orders/7?expand=items&x=%20');
    expect(echo.headers['x-custom']).toBe('yes');
    expect(echo.headers['content-length']).toBe('10');
    expect(echo.headers['x-forwarded-for']).toBe('10.0.0.9, 127.0.0.1');
    expect(echo.body).toBe('hello body');
  });

  it('strips hop-by-hop headers, including those named in Connection', async () => {
    const r = await send(proxy, '/', {
      headers: {
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'x-hop': 'secret',
        te: 'trailers',
        'proxy-authorization': 'Basic abc',
        'x-end-to-end': 'kept',
      },
    });
    const echo = JSON.parse(r.body) as Echo;
    expect(echo.headers['x-hop']).toBeUndefined();
    expect(echo.headers['keep-alive']).toBeUndefined();
    expect(echo.headers.te).toBeUndefined();
    expect(echo.headers['proxy-authorization']).toBeUndefined();
    expect(echo.headers['x-end-to-end']).toBe('kept');
  });

  it('streams a chunked request body to the upstream intact', async () => {
    const { host, port } = { host: '127.0.0.1', port: Number(proxy.split(':')[1]) };
    const body = await new Promise<Echo>((resolve, reject) => {
      const req = http.request({ host, port, method: 'POST', path: '/upload', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
      });
      req.on('error', reject);
      req.write('part-1;');
      setTimeout(() => {
        req.write('part-2;');
        req.end('part-3');
      }, 20);
    });
    expect(body.headers['transfer-encoding']).toBe('chunked');
    expect(body.body).toBe('part-1;part-2;part-3');
  });

  it('streams a 2 MB response body back intact', async () => {
    const r = await send(proxy, '/big?bytes=2000000');
    expect(r.body.length).toBe(2_000_000);
    expect(r.headers['content-length']).toBe('2000000');
  });

  it('keeps client connections alive across requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    for (let i = 0; i < 5; i++) expect((await send(proxy, `/n/${i}`, { agent })).status).toBe(200);
    expect(metrics.opened).toBe(1);
    expect(metrics.records).toHaveLength(5);
    expect(
      metrics.records.every((r) => r.outcome === 'ok' && r.status === 200 && r.faultIds.length === 0),
    ).toBe(true);
  });

  it('closes an idle client connection after timeouts.clientIdleMs, read anew when it changes', async () => {
    /** One request on a raw connection; resolves with the socket and when the answer ended, ms. */
    const oneRequest = async () => {
      const [host, port] = [
        proxy.slice(0, proxy.lastIndexOf(':')),
        Number(proxy.slice(proxy.lastIndexOf(':') + 1)),
      ];
      const socket = net.connect(port, host);
      cleanups.push(() => socket.destroy());
      socket.write('GET /idle HTTP/1.1\r\nhost: x\r\n\r\n');
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      return { socket, answeredAt: performance.now() };
    };
    const closedAfterMs = ({ socket, answeredAt }: { socket: net.Socket; answeredAt: number }) =>
      new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - answeredAt)));

    await manager.update('web', { mode: 'http', timeouts: { clientIdleMs: 300 } });
    const short = closedAfterMs(await oneRequest());
    expect(await short).toBeGreaterThanOrEqual(250);
    expect(await short).toBeLessThan(2_000);

    await manager.update('web', { mode: 'http', timeouts: { clientIdleMs: 60_000 } });
    const long = await oneRequest();
    let closed = false;
    long.socket.once('close', () => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(closed).toBe(false);
  });

  it('reports one record per request with its outcome by status class', async () => {
    await send(proxy, '/status/404');
    await send(proxy, '/status/503');
    expect(metrics.records.map((r) => [r.outcome, r.status])).toEqual([
      ['http_4xx', 404],
      ['http_5xx', 503],
    ]);
    expect(metrics.records[0]!.latencyMs).toBeGreaterThan(0);
  });

  it('passes a WebSocket upgrade through and echoes messages both ways', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    cleanups.push(() => {
      for (const client of wss.clients) client.terminate();
      return new Promise((r) => wss.close(r));
    });
    let forwardedFor: string | undefined;
    wss.on('connection', (socket, req) => {
      forwardedFor = req.headers['x-forwarded-for'] as string | undefined;
      socket.on('message', (data) => socket.send(`echo:${data}`));
    });
    // mode is repeated: ProxyPatch's defaults would otherwise switch the proxy back to tcp (reported).
    await manager.update('web', {
      mode: 'http',
      upstream: `127.0.0.1:${(wss.address() as { port: number }).port}`,
    });
    const ws = new WebSocket(`ws://${proxy}/socket`);
    cleanups.unshift(() => ws.terminate());
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const replies: string[] = [];
    const got = new Promise<void>((resolve) =>
      ws.on('message', (d) => {
        replies.push(String(d));
        if (replies.length === 2) resolve();
      }),
    );
    ws.send('one');
    ws.send('two');
    await got;
    expect(replies).toEqual(['echo:one', 'echo:two']);
    expect(forwardedFor).toBe('127.0.0.1');
  });

  it('opens at most upstreamConnections to the upstream; requests beyond them wait and are all answered', async () => {
    await manager.update('web', { upstreamConnections: 2 });
    let opened = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    upstream.server.on('connection', () => opened++);
    upstream.server.prependListener('request', (_req, res: http.ServerResponse) => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      res.once('finish', () => inFlight--);
    });
    const start = performance.now();
    const replies = await Promise.all(Array.from({ length: 5 }, () => send(proxy, '/slow?ms=150')));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(opened).toBe(2);
    expect(mostInFlight).toBe(2);
    // Five 150 ms answers two at a time: three rounds.
    expect(performance.now() - start).toBeGreaterThanOrEqual(3 * 150);
  });

  it('opens at most DEFAULT_UPSTREAM_CONNECTIONS when upstreamConnections is not set, and reports the waiting requests', async () => {
    let opened = 0;
    upstream.server.on('connection', () => opened++);
    const extra = 4;
    const replies = Promise.all(
      Array.from({ length: DEFAULT_UPSTREAM_CONNECTIONS + extra }, () => send(proxy, '/slow?ms=1000')),
    );
    // While the first answers are slow, the pool is full and the rest wait in the proxy.
    await vi.waitFor(
      () =>
        expect(manager.get('web').upstreamPool).toEqual({
          connected: DEFAULT_UPSTREAM_CONNECTIONS,
          queued: extra,
        }),
      { timeout: 800, interval: 20 },
    );
    const statuses = (await replies).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(DEFAULT_UPSTREAM_CONNECTIONS + extra);
    expect(opened).toBe(DEFAULT_UPSTREAM_CONNECTIONS);
    expect(manager.get('web').upstreamPool?.queued).toBe(0);
  });

  it('sends new requests to a changed upstream while the old one finishes its request', async () => {
    const second = await startTestUpstream();
    cleanups.push(() => second.close());
    const slow = send(proxy, '/slow?ms=200');
    await new Promise((r) => setTimeout(r, 50));
    await manager.update('web', { mode: 'http', upstream: second.address });
    const fresh = await send(proxy, '/after');
    expect(fresh.status).toBe(200);
    expect(second.seen).toBe(1);
    expect((await slow).status).toBe(200);
    expect(upstream.seen).toBe(1);
  });

  it('drains an in-flight request on close, then stops listening', async () => {
    const slow = send(proxy, '/slow?ms=150');
    await new Promise((r) => setTimeout(r, 30));
    await manager.close(2_000);
    expect((await slow).status).toBe(200);
    await expect(send(proxy, '/')).rejects.toThrow(/ECONNREFUSED/);
  });
});
