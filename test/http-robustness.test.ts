import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaultStore } from '../proxy/fault-store.ts';
import { HttpProxyListener } from '../proxy/http/http-listener.ts';
import { silentLogger } from '../proxy/listener.ts';
import type { ExchangeRecord } from '../proxy/metrics/metrics-sink.ts';

// Raw bytes from hostile or broken peers on both sides: the proxy answers what it can, never
// crashes, and serves the next normal request.

interface Raw {
  text: string;
  error: string | null;
}

/** Writes raw bytes to `port`, collects what comes back until the server closes (or `capMs`). */
function raw(
  port: number,
  bytes: string,
  opts: { destroyAfterMs?: number; capMs?: number } = {},
): Promise<Raw> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.write(bytes);
      if (opts.destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), opts.destroyAfterMs);
    });
    const cap = setTimeout(() => {
      error ??= 'cap';
      socket.destroy();
    }, opts.capMs ?? 3_000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(cap);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), error });
    });
  });
}

const normal = (path = '/ok') => `GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;

/**
 * An upstream that misbehaves on purpose, by path: `/reset-before` resets before answering,
 * `/reset-mid` resets halfway through the body, `/hang` never answers; anything else gets `ok`.
 */
function startBadUpstream(): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (c) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ')[1] ?? '/';
      head = '';
      if (path === '/reset-before') socket.resetAndDestroy();
      else if (path === '/reset-mid') {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n${'x'.repeat(100)}`);
        setTimeout(() => socket.resetAndDestroy(), 30);
      } else if (path !== '/hang') socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let upstream: net.Server;
let listener: HttpProxyListener;
let downListener: HttpProxyListener;
let port: number;
const records: ExchangeRecord[] = [];

beforeAll(async () => {
  upstream = await startBadUpstream();
  const faults = new FaultStore(() => 'http');
  const metrics = {
    record: (r: ExchangeRecord) => records.push(r),
    connectionOpened() {},
    connectionClosed() {},
  };
  const config = (name: string, up: string) => ({
    name,
    listen: '127.0.0.1:0',
    upstream: up,
    mode: 'http' as const,
    labels: {},
    enabled: true,
    timeouts: {},
  });
  listener = new HttpProxyListener(
    {
      config: config('bad', `127.0.0.1:${(upstream.address() as net.AddressInfo).port}`),
      faults,
      metrics,
      log: silentLogger,
    },
    { headersTimeoutMs: 300 },
  );
  await listener.start();
  port = Number(listener.boundAddress!.split(':')[1]);
  // A port that was just free: nothing listens there.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  downListener = new HttpProxyListener({
    config: config('down', `127.0.0.1:${deadPort}`),
    faults,
    metrics,
    log: silentLogger,
  });
  await downListener.start();
});

afterAll(async () => {
  await listener?.stop({ drainMs: 0 });
  await downListener?.stop({ drainMs: 0 });
  await new Promise((r) => upstream?.close(r));
});

async function expectStillServing(): Promise<void> {
  const r = await raw(port, normal());
  expect(r.text).toMatch(/^HTTP\/1\.1 200 OK/);
  expect(r.text.endsWith('ok')).toBe(true);
}

describe('the HTTP proxy under hostile input', () => {
  it('answers a malformed request line with 400 and a JSON error body', async () => {
    const r = await raw(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 400/);
    expect(JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'INVALID_INPUT' });
    await expectStillServing();
  });

  it('answers an invalid header name with 400', async () => {
    const r = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header(): 1\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 400/);
    await expectStillServing();
  });

  it('forwards a GET with a Trailer header (a crash in http-proxy) and keeps serving', async () => {
    const r = await raw(
      port,
      'GET /ok HTTP/1.1\r\nHost: x\r\nTrailer: x-checksum\r\nConnection: close\r\n\r\n',
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    await expectStillServing();
  });

  it('survives a client that disconnects mid-body and records a client abort', async () => {
    const before = records.length;
    await raw(port, `POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${'a'.repeat(100)}`, {
      destroyAfterMs: 50,
    });
    await vi.waitFor(() => expect(records.slice(before).map((r) => r.outcome)).toContain('client_abort'));
    await expectStillServing();
  });

  it('answers 502 with a JSON body when the upstream resets before answering', async () => {
    const r = await raw(port, normal('/reset-before'));
    expect(r.text).toMatch(/^HTTP\/1\.1 502/);
    const body = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', details: { proxy: 'bad' } });
    expect(typeof body.message).toBe('string');
    await expectStillServing();
  });

  it('cuts the client off when the upstream resets mid-response, so a short body is never taken as whole', async () => {
    const r = await raw(port, normal('/reset-mid'));
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    const body = r.text.slice(r.text.indexOf('\r\n\r\n') + 4);
    expect(body.length).toBeLessThan(1000);
    await vi.waitFor(() => expect(records.at(-1)?.outcome).toBe('upstream_error'));
    await expectStillServing();
  });

  it('answers 504 when the upstream never answers, and serves others meanwhile', async () => {
    const hung = raw(port, normal('/hang'));
    await expectStillServing();
    const r = await hung;
    expect(r.text).toMatch(/^HTTP\/1\.1 504/);
    expect(r.text).toContain('"code":"UPSTREAM_TIMEOUT"');
    await expectStillServing();
  });

  it('answers 502 UPSTREAM_UNAVAILABLE when the upstream is down', async () => {
    const downPort = Number(downListener.boundAddress!.split(':')[1]);
    const r = await raw(downPort, normal());
    expect(r.text).toMatch(/^HTTP\/1\.1 502/);
    const body = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4));
    expect(body.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(body.details.cause).toBe('ECONNREFUSED');
    await expectStillServing();
  });
});
