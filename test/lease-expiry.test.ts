import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyServer, startProxyServer } from '../proxy/proxy-server.ts';

let upstream: Server;
let server: ProxyServer;
let proxyUrl: string;

beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  server = await startProxyServer({
    admin: '127.0.0.1:0',
    proxies: [
      {
        name: 'web',
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        mode: 'http',
      },
    ],
  });
  proxyUrl = `http://${server.manager.get('web').boundAddress}`;
});

afterAll(async () => {
  await server?.close(0);
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field below
  return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as any };
}

async function trafficStatus(): Promise<number> {
  return (await fetch(`${proxyUrl}/`)).status;
}

function applyShortLease(id: string) {
  return admin('POST', '/faultline/proxies/web/faults', {
    id,
    type: 'abort',
    params: { status: 503 },
    leaseMs: 300,
  });
}

/** Resolves with the time the proxy reverts fault `id` because its lease ran out. */
function expiryOf(id: string): Promise<number> {
  return new Promise((resolve) => {
    const onExpired = (f: { id: string }) => {
      if (f.id !== id) return;
      server.manager.faults.off('expired', onExpired);
      resolve(Date.now());
    };
    server.manager.faults.on('expired', onExpired);
  });
}

describe('fault leases', () => {
  it('removes a fault that is not renewed within 100 ms of its expiry, from the API and from traffic', async () => {
    // When the proxy reverted it (same process, same clock); polling over HTTP on a loaded 2-core
    // machine would mostly measure the polling.
    const revertedAt = expiryOf('lapse');
    const applied = await applyShortLease('lapse');
    expect(applied.status).toBe(201);
    const expiresAt: number = applied.body.expiresAt;
    expect(await trafficStatus()).toBe(503);

    await sleep(Math.max(0, expiresAt - Date.now() - 80));
    if (Date.now() < expiresAt - 20) {
      expect((await admin('GET', '/faultline/faults/lapse')).status).toBe(200);
      expect(await trafficStatus()).toBe(503);
    }

    const removed = await revertedAt;
    expect(removed).toBeGreaterThanOrEqual(expiresAt - 2); // monotonic timers vs wall-clock expiresAt
    expect(removed - expiresAt).toBeLessThanOrEqual(100);
    // Everything asked after that point sees the fault gone.
    expect((await admin('GET', '/faultline/faults/lapse')).status).toBe(404);
    expect(await trafficStatus()).toBe(200);
    expect((await admin('POST', '/faultline/faults/lapse/renew')).status).toBe(410);
  });

  it('keeps a renewed fault alive past its original expiry', async () => {
    const lapsed = expiryOf('kept');
    const applied = await applyShortLease('kept');
    const originalExpiry: number = applied.body.expiresAt;
    await sleep(150);
    const renewed = await admin('POST', '/faultline/faults/kept/renew', { leaseMs: 800 });
    expect(renewed.status).toBe(200);
    expect(renewed.body.expiresAt).toBeGreaterThanOrEqual(originalExpiry + 500);

    // Well past the original expiry (and well before the renewed one): still active.
    await sleep(Math.max(0, originalExpiry - Date.now() + 150));
    expect((await admin('GET', '/faultline/faults/kept')).status).toBe(200);
    expect(await trafficStatus()).toBe(503);

    // Not renewed again: it lapses at the renewed expiry.
    await lapsed;
    // Lease timers run on the monotonic clock and expiresAt is wall-clock ms: 1 ms apart was seen.
    expect(Date.now()).toBeGreaterThanOrEqual(renewed.body.expiresAt - 2);
    expect((await admin('GET', '/faultline/faults/kept')).status).toBe(404);
    expect(await trafficStatus()).toBe(200);
  });
});
