import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyFaultSpecInput } from '../../../protocol/proxy.ts';
import { ProxyManager } from '../../proxy-manager.ts';
import {
  connectTo,
  delay,
  type LoopbackServer,
  recordingMetrics,
  startEcho,
  waitFor,
} from '../../tcp/loopback-fixtures.ts';

let echo: LoopbackServer;
let manager: ProxyManager;
let metrics: ReturnType<typeof recordingMetrics>;
let address: string;

beforeEach(async () => {
  echo = await startEcho();
  metrics = recordingMetrics();
  manager = new ProxyManager({ metrics });
  await manager.add({ name: 'p', listen: '127.0.0.1:0', upstream: echo.address, mode: 'tcp' });
  address = manager.get('p').boundAddress!;
});

afterEach(async () => {
  await manager.close(0);
  await echo.close();
});

const apply = (spec: ProxyFaultSpecInput) => manager.faults.apply('p', { leaseMs: 0, ...spec });

describe('tcp reset_peer', () => {
  it('lets the request reach the upstream, holds the answer, then resets both sides timeoutMs later and records reset', async () => {
    apply({ type: 'reset_peer', direction: 'downstream', params: { timeoutMs: 150 } });
    const c = await connectTo(address);
    const sent = performance.now();
    c.socket.write('ping');
    expect(await waitFor(() => echo.accepted.length === 1)).toBe(true);
    const upstreamClosed = new Promise<string | undefined>((resolve) => {
      echo.accepted[0]!.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
      echo.accepted[0]!.once('close', () => resolve('closed without an error'));
    });
    expect(await c.closed).toBe('ECONNRESET');
    expect(await upstreamClosed).toBe('ECONNRESET');
    expect(performance.now() - sent).toBeGreaterThanOrEqual(140);
    expect(echo.accepted[0]!.bytesRead).toBe(4);
    expect(c.reads).toEqual([]);
    expect(await waitFor(() => metrics.records.length === 1)).toBe(true);
    expect(metrics.records[0]!.outcome).toBe('reset');
  });

  it('leaves an idle connection alone: the timer starts with the first bytes in its direction', async () => {
    apply({ type: 'reset_peer', direction: 'upstream', params: { timeoutMs: 50 } });
    const c = await connectTo(address);
    await delay(200);
    expect(c.socket.destroyed).toBe(false);
    const sent = performance.now();
    c.socket.write('lost');
    expect(await c.closed).toBe('ECONNRESET');
    expect(performance.now() - sent).toBeGreaterThanOrEqual(45);
    expect(echo.accepted[0]!.bytesRead).toBe(0);
  });

  it('reverted before the timer fires: no reset, and the held bytes go on in order', async () => {
    const fault = apply({ type: 'reset_peer', direction: 'upstream', params: { timeoutMs: 300 } });
    const c = await connectTo(address);
    c.socket.write('one ');
    await delay(20);
    c.socket.write('two ');
    await delay(50);
    expect(echo.accepted[0]!.bytesRead).toBe(0);
    manager.faults.revert(fault.id);
    c.socket.write('three');
    expect((await c.bytes(13)).toString()).toBe('one two three');
    await delay(350);
    expect(c.socket.destroyed).toBe(false);
    c.socket.destroy();
  });
});

describe('tcp limit_data', () => {
  it('lets exactly `bytes` through in the direction, then closes the connection', async () => {
    apply({ type: 'limit_data', direction: 'downstream', params: { bytes: 10 } });
    const c = await connectTo(address);
    c.socket.write(Buffer.alloc(100, 'z'));
    expect(await c.closed).toBeNull();
    expect(c.text()).toBe('z'.repeat(10));
  });
});

describe('tcp timeout', () => {
  it('stops the data and closes the connection after timeoutMs, recording timeout', async () => {
    apply({ type: 'timeout', direction: 'downstream', params: { timeoutMs: 200 } });
    const opened = performance.now();
    const c = await connectTo(address);
    c.socket.write('lost');
    await c.closed;
    expect(performance.now() - opened).toBeGreaterThanOrEqual(190);
    expect(c.reads).toEqual([]);
    expect(await waitFor(() => metrics.records.length === 1)).toBe(true);
    expect(metrics.records[0]!.outcome).toBe('timeout');
  });

  it('with timeoutMs 0 holds the data until reverted, then lets it through in order', async () => {
    const fault = apply({ type: 'timeout', direction: 'upstream', params: { timeoutMs: 0 } });
    const c = await connectTo(address);
    c.socket.write('one ');
    await delay(20);
    c.socket.write('two ');
    await delay(150);
    expect(c.reads).toEqual([]);
    expect(echo.accepted[0]!.bytesRead).toBe(0);
    manager.faults.revert(fault.id);
    c.socket.write('three');
    expect((await c.bytes(13)).toString()).toBe('one two three');
    c.socket.destroy();
  });
});

describe('tcp blackhole', () => {
  it('swallows every byte in the direction; after revert new bytes flow again', async () => {
    const fault = apply({ type: 'blackhole', direction: 'upstream', params: {} });
    const c = await connectTo(address);
    c.socket.write('into the void');
    await delay(150);
    expect(c.reads).toEqual([]);
    expect(echo.accepted[0]!.bytesRead).toBe(0);
    manager.faults.revert(fault.id);
    c.socket.write('back');
    expect((await c.bytes(4)).toString()).toBe('back');
    c.socket.destroy();
  });
});

describe('tcp refuse', () => {
  it('refuses new connects while active, keeps open ones, and listens on the same port after revert', async () => {
    const open = await connectTo(address);
    const fault = apply({ type: 'refuse', params: {}, percent: 10 });
    await expect(connectTo(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    open.socket.write('still');
    await open.bytes(5);
    manager.faults.revert(fault.id);
    await delay(20);
    const again = await connectTo(address);
    again.socket.end('back');
    await again.closed;
    expect(again.text()).toBe('back');
    expect(manager.get('p').boundAddress).toBe(address);
    open.socket.destroy();
  });

  it('listens again when the last refuse fault expires', async () => {
    manager.faults.apply('p', { type: 'refuse', params: {}, leaseMs: 100 });
    const second = apply({ type: 'refuse', params: {} });
    await expect(connectTo(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await delay(150);
    await expect(connectTo(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    manager.faults.revert(second.id);
    await delay(20);
    const c = await connectTo(address);
    c.socket.destroy();
  });

  it('leaves nothing listening when the proxy is closed while refused', async () => {
    apply({ type: 'refuse', params: {} });
    await manager.close(0);
    await delay(20);
    await expect(connectTo(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
