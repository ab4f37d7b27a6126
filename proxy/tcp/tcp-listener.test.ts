import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProxyManager } from '../proxy-manager.ts';
import {
  connectTo,
  delay,
  type LoopbackServer,
  recordingMetrics,
  startEcho,
  startServer,
  waitFor,
} from './loopback-fixtures.ts';

let echo: LoopbackServer;
let manager: ProxyManager;
let metrics: ReturnType<typeof recordingMetrics>;
const extra: LoopbackServer[] = [];

beforeEach(async () => {
  echo = await startEcho();
  metrics = recordingMetrics();
  manager = new ProxyManager({ metrics });
});

afterEach(async () => {
  await manager.close(0);
  await echo.close();
  for (const s of extra.splice(0)) await s.close();
});

async function addProxy(upstream = echo.address): Promise<string> {
  await manager.add({ name: 'p', listen: '127.0.0.1:0', upstream, mode: 'tcp' });
  return manager.get('p').boundAddress!;
}

describe('TcpProxyListener', () => {
  it('pipes bytes both ways and reports one ok record with byte counts when the connection closes', async () => {
    const c = await connectTo(await addProxy());
    c.socket.write('hello ');
    c.socket.end('world');
    expect(await c.closed).toBeNull();
    expect(c.text()).toBe('hello world');
    expect(await waitFor(() => metrics.records.length === 1)).toBe(true);
    expect(metrics.records[0]).toMatchObject({
      proxy: 'p',
      outcome: 'ok',
      bytesIn: 11,
      bytesOut: 11,
      faultIds: [],
    });
    expect(metrics.open).toBe(0);
    expect(manager.get('p').connections).toBe(0);
  });

  it('closes the client and records upstream_error when the upstream is down', async () => {
    const dead = await startServer(() => {});
    const deadAddress = dead.address;
    await dead.close();
    const c = await connectTo(await addProxy(deadAddress));
    await c.closed;
    expect(c.reads).toEqual([]);
    expect(await waitFor(() => metrics.records.length === 1)).toBe(true);
    expect(metrics.records[0]!.outcome).toBe('upstream_error');
    // The proxy is still serving.
    await manager.update('p', { upstream: echo.address });
    const ok = await connectTo(manager.get('p').boundAddress!);
    ok.socket.end('again');
    await ok.closed;
    expect(ok.text()).toBe('again');
  });

  it('sends new connections to a changed upstream and leaves open ones where they were', async () => {
    const other = await startServer((s) => s.end('other'));
    extra.push(other);
    const address = await addProxy();
    const before = await connectTo(address);
    before.socket.write('one');
    await before.bytes(3);
    await manager.update('p', { upstream: other.address });
    expect(manager.get('p').boundAddress).toBe(address);
    before.socket.write('two');
    expect((await before.bytes(6)).toString()).toBe('onetwo');
    const after = await connectTo(address);
    await after.closed;
    expect(after.text()).toBe('other');
    before.socket.end();
    await before.closed;
    expect(echo.accepted).toHaveLength(1);
  });

  it('rebinds when listen changes and keeps open connections', async () => {
    const address = await addProxy();
    const open = await connectTo(address);
    await manager.update('p', { listen: '127.0.0.1:0' });
    // Same listen text: nothing to rebind.
    expect(manager.get('p').boundAddress).toBe(address);
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const free = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await manager.update('p', { listen: `127.0.0.1:${free}` });
    expect(manager.get('p').boundAddress).toBe(`127.0.0.1:${free}`);
    await expect(connectTo(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    open.socket.end('still here');
    await open.closed;
    expect(open.text()).toBe('still here');
  });

  it('refuses a listen change to a taken port with CONFLICT and keeps listening where it was', async () => {
    const address = await addProxy();
    const taken = await startServer(() => {});
    extra.push(taken);
    await expect(manager.update('p', { listen: taken.address })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(manager.get('p').listen).toBe('127.0.0.1:0');
    const c = await connectTo(manager.get('p').boundAddress!);
    c.socket.end('ok');
    await c.closed;
    expect(c.text()).toBe('ok');
    expect(manager.get('p').boundAddress).toBe(address);
  });

  it('waits up to drainMs for open connections on stop, then destroys them and records reset', async () => {
    const address = await addProxy();
    const c = await connectTo(address);
    c.socket.write('x');
    await c.bytes(1);
    const started = performance.now();
    await manager.close(150);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1500);
    await c.closed;
    expect(metrics.records.map((r) => r.outcome)).toEqual(['reset']);
    await expect(connectTo(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('stops as soon as the last connection ends within drainMs', async () => {
    const c = await connectTo(await addProxy());
    const started = performance.now();
    const stopping = manager.close(5000);
    await delay(50);
    c.socket.end();
    await stopping;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(metrics.records.map((r) => r.outcome)).toEqual(['ok']);
  });

  it('applies a fault added mid-connection from the next chunk, and stops when it is removed, losing nothing', async () => {
    const c = await connectTo(await addProxy());
    c.socket.write('a');
    await c.bytes(1);
    const fault = manager.faults.apply('p', { type: 'latency', params: { delayMs: 150 }, leaseMs: 0 });
    let sent = performance.now();
    c.socket.write('b');
    await c.bytes(2);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(150);
    // Queue some bytes behind the delay, then revert: they come out at once, in order.
    c.socket.write('c');
    await delay(20);
    c.socket.write('d');
    await delay(20);
    manager.faults.revert(fault.id);
    sent = performance.now();
    c.socket.write('e');
    expect((await c.bytes(5)).toString()).toBe('abcde');
    expect(performance.now() - sent).toBeLessThan(100);
    c.socket.end();
    await c.closed;
    expect(await waitFor(() => metrics.records.length === 1)).toBe(true);
    expect(metrics.records[0]!.faultIds).toEqual([fault.id]);
  });

  it('decides percent per connection, reproducibly for a seed', async () => {
    const address = await addProxy();
    const pattern = async (): Promise<boolean[]> => {
      metrics.records.length = 0;
      const fault = manager.faults.apply('p', {
        type: 'latency',
        params: { delayMs: 0 },
        percent: 50,
        seed: 1234,
        leaseMs: 0,
      });
      for (let i = 0; i < 24; i++) {
        const c = await connectTo(address);
        c.socket.end('x');
        await c.closed;
      }
      await waitFor(() => metrics.records.length === 24);
      manager.faults.revert(fault.id);
      return metrics.records.map((r) => r.faultIds.length > 0);
    };
    const first = await pattern();
    const second = await pattern();
    expect(second).toEqual(first);
    const hit = first.filter(Boolean).length;
    expect(hit).toBeGreaterThan(3);
    expect(hit).toBeLessThan(21);
  });

  it('affects at most maxConcurrent connections at once and frees the slot when one closes', async () => {
    const address = await addProxy();
    const fault = manager.faults.apply('p', {
      type: 'latency',
      params: { delayMs: 0 },
      maxConcurrent: 1,
      leaseMs: 0,
    });
    const a = await connectTo(address);
    const b = await connectTo(address);
    a.socket.end();
    b.socket.end();
    await Promise.all([a.closed, b.closed]);
    const c = await connectTo(address);
    c.socket.end();
    await c.closed;
    await waitFor(() => metrics.records.length === 3);
    const affected = metrics.records.filter((r) => r.faultIds.includes(fault.id)).length;
    expect(affected).toBe(2);
    expect(manager.faults.get(fault.id)!.inFlight).toBe(0);
  });
});
