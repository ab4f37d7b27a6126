import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyFaultSpecInput } from '../../../protocol/proxy.ts';
import { ProxyManager } from '../../proxy-manager.ts';
import { connectTo, delay, type LoopbackServer, type Reads, startEcho } from '../../tcp/loopback-fixtures.ts';

let echo: LoopbackServer;
let manager: ProxyManager;
let address: string;

beforeEach(async () => {
  echo = await startEcho();
  manager = new ProxyManager();
  await manager.add({ name: 'p', listen: '127.0.0.1:0', upstream: echo.address, mode: 'tcp' });
  address = manager.get('p').boundAddress!;
});

afterEach(async () => {
  await manager.close(0);
  await echo.close();
});

const apply = (spec: ProxyFaultSpecInput) => manager.faults.apply('p', { leaseMs: 0, seed: 7, ...spec });

/** Writes `text` and waits for its echo; returns the round trip, ms. */
async function roundTrip(c: Reads, text: string, total: number): Promise<number> {
  const sent = performance.now();
  c.socket.write(text);
  await c.bytes(total);
  return performance.now() - sent;
}

describe('tcp latency', () => {
  it('adds at least delayMs to every chunk, and nothing once reverted', async () => {
    const c = await connectTo(address);
    const clean = await roundTrip(c, 'a', 1);
    const fault = apply({ type: 'latency', direction: 'downstream', params: { delayMs: 120 } });
    expect(await roundTrip(c, 'b', 2)).toBeGreaterThanOrEqual(120);
    expect(await roundTrip(c, 'c', 3)).toBeGreaterThanOrEqual(120);
    manager.faults.revert(fault.id);
    expect(await roundTrip(c, 'd', 4)).toBeLessThan(clean + 60);
    expect(c.text()).toBe('abcd');
    c.socket.destroy();
  });

  it('pipelines: chunks sent 20 ms apart each arrive about delayMs after they were sent', async () => {
    apply({ type: 'latency', direction: 'upstream', params: { delayMs: 150 } });
    const c = await connectTo(address);
    const sentAt: number[] = [];
    for (let i = 0; i < 8; i++) {
      sentAt.push(performance.now());
      c.socket.write(String(i));
      await delay(20);
    }
    await c.bytes(8);
    expect(c.text()).toBe('01234567');
    const last = c.reads.at(-1)!.at - sentAt[7]!;
    // Serial delays would put the last byte ~1.2 s out; pipelined it is ~150 ms.
    expect(last).toBeGreaterThanOrEqual(145);
    expect(last).toBeLessThan(400);
    c.socket.destroy();
  });

  it('spreads delays by jitterMs and keeps bytes in order', async () => {
    apply({ type: 'latency', direction: 'downstream', params: { delayMs: 60, jitterMs: 50 } });
    const c = await connectTo(address);
    const times: number[] = [];
    for (let i = 0; i < 12; i++) times.push(await roundTrip(c, String.fromCharCode(65 + i), i + 1));
    expect(c.text()).toBe('ABCDEFGHIJKL');
    expect(Math.min(...times)).toBeGreaterThanOrEqual(9);
    expect(Math.max(...times)).toBeLessThan(400);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(15);
    c.socket.destroy();
  });
});

describe('tcp bandwidth', () => {
  it('holds the rate within 20 % (300 KB at 400 KB/s, 1 KB = 1000 bytes)', async () => {
    apply({ type: 'bandwidth', direction: 'downstream', params: { rateKbPerSec: 400 } });
    const c = await connectTo(address);
    const body = Buffer.alloc(300_000, 7);
    const sent = performance.now();
    c.socket.write(body);
    const got = await c.bytes(body.length);
    expect(got.equals(body)).toBe(true);
    // Rate between the first and the last read, so connection set-up and scheduling noise at the
    // start do not count: bytes after the first read over the time they took.
    const first = c.reads[0]!;
    const last = c.reads.at(-1)!;
    const bytesPerSec = ((body.length - first.data.length) / (last.at - first.at)) * 1000;
    expect(bytesPerSec).toBeGreaterThan(400_000 * 0.8);
    expect(bytesPerSec).toBeLessThan(400_000 * 1.2);
    // Without the fault this takes a few ms.
    expect(performance.now() - sent).toBeGreaterThan(500);
    c.socket.destroy();
  });

  it('counts a KB as 1000 bytes: at 20 KB/s it sends pieces of 50 ms worth, 1000 bytes', async () => {
    apply({ type: 'bandwidth', direction: 'downstream', params: { rateKbPerSec: 20 } });
    const c = await connectTo(address);
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    c.socket.write(body);
    expect((await c.bytes(body.length)).equals(body)).toBe(true);
    // Pieces 50 ms apart arrive as reads of their own (a late timer may merge two, never split one).
    expect(c.reads.map((r) => r.data.length % 1000)).toEqual(c.reads.map(() => 0));
    c.socket.destroy();
  });
});

describe('tcp slicer', () => {
  it('turns one write into many smaller reads, bytes intact', async () => {
    const body = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
    const clean = await connectTo(address);
    clean.socket.write(body);
    await clean.bytes(body.length);
    clean.socket.destroy();

    apply({
      type: 'slicer',
      direction: 'downstream',
      params: { averageSizeBytes: 256, sizeVariationBytes: 64, delayUs: 3000 },
    });
    const c = await connectTo(address);
    c.socket.write(body);
    expect((await c.bytes(body.length)).equals(body)).toBe(true);
    expect(c.reads.length).toBeGreaterThanOrEqual(8);
    expect(c.reads.length).toBeGreaterThan(clean.reads.length);
    expect(Math.max(...c.reads.map((r) => r.data.length))).toBeLessThanOrEqual(1024);
    c.socket.destroy();
  });
});

describe('tcp slow_close', () => {
  it('holds the FIN back by delayMs while data passes at once', async () => {
    apply({ type: 'slow_close', direction: 'downstream', params: { delayMs: 200 } });
    const c = await connectTo(address);
    const sent = performance.now();
    c.socket.end('bye');
    await c.bytes(3);
    expect(performance.now() - sent).toBeLessThan(100);
    expect(await c.closed).toBeNull();
    expect(performance.now() - sent).toBeGreaterThanOrEqual(200);
    expect(c.text()).toBe('bye');
  });
});
