import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultRequest } from './fault-executor.ts';
import { ProxyExecutor } from './proxy-executor.ts';

interface Call {
  method: string;
  url: string;
  body: unknown;
}

/** A stand-in for the proxy admin API: records calls, answers with `reply`. */
async function fakeAdmin(
  reply: (call: Call) => { status: number; body?: unknown },
): Promise<{ url: string; calls: Call[]; server: Server }> {
  const calls: Call[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (d: Buffer) => {
      text += d;
    });
    req.on('end', () => {
      const call = { method: req.method!, url: req.url!, body: text ? JSON.parse(text) : undefined };
      calls.push(call);
      const r = reply(call);
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

const servers: Server[] = [];
const executors: ProxyExecutor[] = [];
afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const request: FaultRequest = {
  id: 'fl:r1:0',
  targetName: 'api',
  target: { kind: 'proxy', proxy: 'checkout' },
  type: 'latency',
  direction: 'downstream',
  params: { delayMs: 100 },
  percent: 25,
  match: { path: '/checkout' },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('proxy executor', () => {
  it('applies with a lease, renews every lease/3, and stops renewing once reverted', async () => {
    let active = false;
    const admin = await fakeAdmin((c) => {
      if (c.method === 'POST' && c.url.endsWith('/faults')) {
        active = true;
        return { status: 201, body: { id: request.id } };
      }
      if (c.url.endsWith('/renew'))
        return active
          ? { status: 200, body: { expiresAt: 1 } }
          : { status: 410, body: { code: 'LEASE_EXPIRED', message: 'gone', details: {} } };
      if (c.method === 'DELETE') {
        const was = active;
        active = false;
        return { status: 200, body: { reverted: was } };
      }
      return { status: 404, body: { code: 'NOT_FOUND', message: 'no', details: {} } };
    });
    servers.push(admin.server);
    const lost: string[] = [];
    const ex = new ProxyExecutor({
      adminUrl: admin.url,
      leaseMs: 300,
      events: { lost: (h) => lost.push(h.id) },
    });
    executors.push(ex);

    const handle = await ex.apply(request);
    expect(admin.calls[0]).toEqual({
      method: 'POST',
      url: '/faultline/proxies/checkout/faults',
      body: {
        id: 'fl:r1:0',
        type: 'latency',
        direction: 'downstream',
        params: { delayMs: 100 },
        percent: 25,
        leaseMs: 300,
        match: { path: '/checkout' },
      },
    });
    expect(handle.undo.http).toEqual({ method: 'DELETE', url: `${admin.url}/faultline/faults/fl%3Ar1%3A0` });
    await sleep(350);
    const renewals = admin.calls.filter((c) => c.url.endsWith('/renew')).length;
    expect(renewals).toBeGreaterThanOrEqual(2);

    expect(await ex.revert(handle)).toEqual({ wasActive: true });
    expect(await ex.revert(handle)).toEqual({ wasActive: false });
    const after = admin.calls.length;
    await sleep(250);
    expect(admin.calls.length).toBe(after);
    expect(ex.active()).toEqual([]);
    expect(lost).toEqual([]);
  });

  it('reports a fault lost when a renewal finds it gone, and stops renewing it', async () => {
    const admin = await fakeAdmin((c) =>
      c.url.endsWith('/renew')
        ? { status: 410, body: { code: 'LEASE_EXPIRED', message: 'expired', details: {} } }
        : { status: 201, body: {} },
    );
    servers.push(admin.server);
    const lost: string[] = [];
    const ex = new ProxyExecutor({
      adminUrl: admin.url,
      leaseMs: 150,
      events: { lost: (h, reason) => lost.push(`${h.id}: ${reason}`) },
    });
    executors.push(ex);
    await ex.apply(request);
    await sleep(300);
    expect(lost).toEqual(['fl:r1:0: expired']);
    expect(admin.calls.filter((c) => c.url.endsWith('/renew')).length).toBe(1);
    expect(ex.active()).toEqual([]);
  });

  it('keeps retrying a revert while the admin API answers 503, and succeeds when it recovers', async () => {
    let deletes = 0;
    const admin = await fakeAdmin((c) => {
      if (c.method !== 'DELETE') return { status: 201, body: {} };
      deletes++;
      return deletes < 3
        ? { status: 503, body: { code: 'UNREACHABLE', message: 'busy', details: {} } }
        : { status: 200, body: { reverted: true } };
    });
    servers.push(admin.server);
    const ex = new ProxyExecutor({ adminUrl: admin.url, leaseMs: 60_000 });
    executors.push(ex);
    const handle = await ex.apply(request);
    expect(await ex.revert(handle)).toEqual({ wasActive: true });
    expect(deletes).toBe(3);
  });

  it('passes the admin API error code through when an apply is refused', async () => {
    const admin = await fakeAdmin(() => ({
      status: 400,
      body: { code: 'UNKNOWN_FAULT_TYPE', message: 'no http fault named lag', details: {} },
    }));
    servers.push(admin.server);
    const ex = new ProxyExecutor({ adminUrl: admin.url });
    executors.push(ex);
    await expect(ex.apply({ ...request, type: 'lag' })).rejects.toMatchObject({ code: 'UNKNOWN_FAULT_TYPE' });
    expect(ex.active()).toEqual([]);
  });

  it('gives up on a revert after its retry budget with FAULT_REVERT_FAILED and the undo recipe', async () => {
    const admin = await fakeAdmin((c) =>
      c.method === 'DELETE'
        ? { status: 500, body: { code: 'INTERNAL', message: 'x', details: {} } }
        : { status: 201, body: {} },
    );
    servers.push(admin.server);
    const ex = new ProxyExecutor({ adminUrl: admin.url, leaseMs: 60_000, revertRetryMs: 150 });
    executors.push(ex);
    const handle = await ex.apply(request);
    await expect(ex.revert(handle)).rejects.toMatchObject({
      code: 'FAULT_REVERT_FAILED',
      details: { faultId: 'fl:r1:0' },
    });
  });
});
