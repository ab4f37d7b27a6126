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

describe('fault leases', () => {
  it('removes a fault that is not renewed within 100 ms of its expiry, from the API and from traffic', async () => {
    const applied = await applyShortLease('lapse');
    expect(applied.status).toBe(201);
    const expiresAt: number = applied.body.expiresAt;
    expect(await trafficStatus()).toBe(503);

    await sleep(Math.max(0, expiresAt - Date.now() - 60));
    expect((await admin('GET', '/faultline/faults/lapse')).status).toBe(200);

    let goneAt: number | undefined;
    while (Date.now() < expiresAt + 500) {
      const [api, traffic] = await Promise.all([admin('GET', '/faultline/faults/lapse'), trafficStatus()]);
      if (api.status === 404 && traffic === 200) {
        goneAt = Date.now();
        break;
      }
      await sleep(5);
    }
    expect(goneAt, 'fault still active 500 ms after its lease ran out').toBeDefined();
    expect(goneAt! - expiresAt).toBeLessThanOrEqual(100);
    expect((await admin('POST', '/faultline/faults/lapse/renew')).status).toBe(410);
  });

  it('keeps a renewed fault alive past its original expiry', async () => {
    const applied = await applyShortLease('kept');
    const originalExpiry: number = applied.body.expiresAt;
    await sleep(150);
    const renewed = await admin('POST', '/faultline/faults/kept/renew', { leaseMs: 300 });
    expect(renewed.status).toBe(200);
    expect(renewed.body.expiresAt).toBeGreaterThan(originalExpiry);

    await sleep(Math.max(0, originalExpiry - Date.now() + 100));
    expect((await admin('GET', '/faultline/faults/kept')).status).toBe(200);
    expect(await trafficStatus()).toBe(503);

    await sleep(Math.max(0, renewed.body.expiresAt - Date.now() + 100));
    expect((await admin('GET', '/faultline/faults/kept')).status).toBe(404);
    expect(await trafficStatus()).toBe(200);
  });
});
